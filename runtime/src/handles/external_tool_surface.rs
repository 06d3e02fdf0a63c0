//! The external tool-surface handle: tool visibility through the handle door. Staging a filter or requesting
//! deferred tools mints a revision in the kernel (`StageVisibilityFilter`, `RequestDeferredTools`); the minted
//! revision is read from the effect and recorded with the session's visibility owner inside the same lock hold,
//! so the owner's record and the kernel's counter cannot be observed apart.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{DslTransitionError, HandleDslAuthority};
use crate::kernel::meerkat_machine as dsl;
use crate::visibility::{MachineToolVisibilityOwner, SessionToolVisibilityState, minted_revision};

/// Tool visibility of one session.
pub trait ExternalToolSurfaceHandle: Send + Sync {
    /// Stages a filter and returns the revision the kernel minted for it.
    ///
    /// # Errors
    ///
    /// The kernel's refusal, or a torn-down handle.
    fn stage_visibility_filter(&self, filter: dsl::ToolFilter) -> Result<u64, DslTransitionError>;

    /// Requests deferred tools (at least one witness) and returns the minted revision.
    ///
    /// # Errors
    ///
    /// The kernel's refusal (no witness), or a torn-down handle.
    fn request_deferred_tools(
        &self,
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    ) -> Result<u64, DslTransitionError>;

    /// The committed visible set.
    fn committed_visible_set(&self) -> SessionToolVisibilityState;
}

/// The runtime's tool-surface handle.
#[derive(Debug)]
pub struct RuntimeExternalToolSurfaceHandle {
    authority: Arc<HandleDslAuthority>,
    owner: Arc<MachineToolVisibilityOwner>,
    session_id: dsl::SessionId,
}

impl RuntimeExternalToolSurfaceHandle {
    /// A handle for `session_id` over the session's shared door and visibility owner.
    pub fn new(
        authority: Arc<HandleDslAuthority>,
        owner: Arc<MachineToolVisibilityOwner>,
        session_id: dsl::SessionId,
    ) -> Self {
        Self { authority, owner, session_id }
    }
}

const STAGE: &str = "ExternalToolSurface::stage_visibility_filter";
const REQUEST: &str = "ExternalToolSurface::request_deferred_tools";

impl ExternalToolSurfaceHandle for RuntimeExternalToolSurfaceHandle {
    fn stage_visibility_filter(&self, filter: dsl::ToolFilter) -> Result<u64, DslTransitionError> {
        let owner = Arc::clone(&self.owner);
        self.authority
            .apply_input_with_effects_and_sample(
                dsl::MeerkatMachineInput::StageVisibilityFilter { session_id: self.session_id.clone() },
                STAGE,
                |effects| {
                    let revision = minted_revision(effects)?;
                    owner.record_staged_filter(revision, filter);
                    Some(revision)
                },
            )?
            .ok_or_else(|| DslTransitionError::guard_rejected(STAGE, "the kernel minted no visibility revision"))
    }

    fn request_deferred_tools(
        &self,
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    ) -> Result<u64, DslTransitionError> {
        let owner = Arc::clone(&self.owner);
        let recorded = authorities.clone();
        self.authority
            .apply_input_with_effects_and_sample(
                dsl::MeerkatMachineInput::RequestDeferredTools { session_id: self.session_id.clone(), authorities },
                REQUEST,
                |effects| {
                    let revision = minted_revision(effects)?;
                    owner.record_deferred_request(revision, recorded);
                    Some(revision)
                },
            )?
            .ok_or_else(|| DslTransitionError::guard_rejected(REQUEST, "the kernel minted no visibility revision"))
    }

    fn committed_visible_set(&self) -> SessionToolVisibilityState {
        self.authority.with_state_lock(SessionToolVisibilityState::from_dsl_state)
    }
}
