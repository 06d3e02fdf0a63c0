//! The external tool-surface handle: tool visibility of one session. Staging a filter or requesting deferred tools
//! mints a revision in the kernel (`StageVisibilityFilter`, `RequestDeferredTools`) through the handle's step port
//! (the session's gated, persisted, journaled step); the minted revision is read from the effect and recorded
//! with the session's visibility owner while the session's gate is still held, so the owner's record is ordered
//! with the kernel's counter. Reads go through the door.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{DslTransitionError, HandleDslAuthority, HandleStepPort};
use crate::identifiers::BoxFuture;
use crate::kernel::meerkat_machine as dsl;
use crate::visibility::{MachineToolVisibilityOwner, SessionToolVisibilityState, minted_revision};

/// Tool visibility of one session.
pub trait ExternalToolSurfaceHandle: Send + Sync {
    /// Stages a filter and returns the revision the kernel minted for it.
    ///
    /// # Errors
    ///
    /// The kernel's refusal, or a torn-down handle.
    fn stage_visibility_filter(&self, filter: dsl::ToolFilter) -> BoxFuture<'_, Result<u64, DslTransitionError>>;

    /// Requests deferred tools (at least one witness) and returns the minted revision.
    ///
    /// # Errors
    ///
    /// The kernel's refusal (no witness), or a torn-down handle.
    fn request_deferred_tools(
        &self,
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    ) -> BoxFuture<'_, Result<u64, DslTransitionError>>;

    /// The committed visible set.
    fn committed_visible_set(&self) -> SessionToolVisibilityState;
}

/// The runtime's tool-surface handle.
pub struct RuntimeExternalToolSurfaceHandle {
    authority: Arc<HandleDslAuthority>,
    port: Arc<dyn HandleStepPort>,
    owner: Arc<MachineToolVisibilityOwner>,
    session_id: dsl::SessionId,
}

impl std::fmt::Debug for RuntimeExternalToolSurfaceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeExternalToolSurfaceHandle").field("session_id", &self.session_id).finish_non_exhaustive()
    }
}

impl RuntimeExternalToolSurfaceHandle {
    /// A handle for `session_id` over a door no runtime session owns: writes go through the door's lock.
    pub fn new(
        authority: Arc<HandleDslAuthority>,
        owner: Arc<MachineToolVisibilityOwner>,
        session_id: dsl::SessionId,
    ) -> Self {
        let port = super::door_port(Arc::clone(&authority));
        Self { authority, port, owner, session_id }
    }

    /// A handle whose writes go through the session's step port.
    pub(crate) fn with_port(
        authority: Arc<HandleDslAuthority>,
        port: Arc<dyn HandleStepPort>,
        owner: Arc<MachineToolVisibilityOwner>,
        session_id: dsl::SessionId,
    ) -> Self {
        Self { authority, port, owner, session_id }
    }
}

const STAGE: &str = "ExternalToolSurface::stage_visibility_filter";
const REQUEST: &str = "ExternalToolSurface::request_deferred_tools";

impl ExternalToolSurfaceHandle for RuntimeExternalToolSurfaceHandle {
    fn stage_visibility_filter(&self, filter: dsl::ToolFilter) -> BoxFuture<'_, Result<u64, DslTransitionError>> {
        Box::pin(async move {
            let owner = Arc::clone(&self.owner);
            let input = dsl::MeerkatMachineInput::StageVisibilityFilter { session_id: self.session_id.clone() };
            let record = Box::new(move |effects: &[dsl::MeerkatMachineEffect]| {
                if let Some(revision) = minted_revision(effects) {
                    owner.record_staged_filter(revision, filter);
                }
            });
            let effects = self.port.apply(input, STAGE, record).await?;
            minted_revision(&effects)
                .ok_or_else(|| DslTransitionError::guard_rejected(STAGE, "the kernel minted no visibility revision"))
        })
    }

    fn request_deferred_tools(
        &self,
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    ) -> BoxFuture<'_, Result<u64, DslTransitionError>> {
        Box::pin(async move {
            let owner = Arc::clone(&self.owner);
            let recorded = authorities.clone();
            let input =
                dsl::MeerkatMachineInput::RequestDeferredTools { session_id: self.session_id.clone(), authorities };
            let record = Box::new(move |effects: &[dsl::MeerkatMachineEffect]| {
                if let Some(revision) = minted_revision(effects) {
                    owner.record_deferred_request(revision, recorded);
                }
            });
            let effects = self.port.apply(input, REQUEST, record).await?;
            minted_revision(&effects)
                .ok_or_else(|| DslTransitionError::guard_rejected(REQUEST, "the kernel minted no visibility revision"))
        })
    }

    fn committed_visible_set(&self) -> SessionToolVisibilityState {
        self.authority.with_state_lock(SessionToolVisibilityState::from_dsl_state)
    }
}
