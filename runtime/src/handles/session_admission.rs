//! The session-admission handle: may this session take a turn or an input now? Lifecycle facts come from the
//! kernel's classification of the live phase; an input's admission is previewed by applying `AcceptInput` to a
//! copy of the live state (the live authority is never touched, and the runtime-internal input never passes the
//! door). Confirming the registration is a real transition, through the handle's step port (the session's gated,
//! persisted, journaled step).

use std::sync::Arc;

use super::{DslTransitionError, HandleDslAuthority, HandleStepPort, map_kernel_error};
use crate::identifiers::{BoxFuture, InputId};
use crate::kernel::classify::{RuntimeClassificationError, RuntimeLifecycleFacts, classify_runtime_lifecycle_state};
use crate::kernel::meerkat_machine as dsl;
use crate::kernel::meerkat_machine::MeerkatMachineMutator;
use crate::runtime_state::RuntimeState;

/// Admission decisions of one session.
pub trait SessionAdmissionHandle: Send + Sync {
    /// The lifecycle and admission facts of the session's current phase.
    ///
    /// # Errors
    ///
    /// When the kernel gives no answer.
    fn lifecycle_facts(&self) -> Result<RuntimeLifecycleFacts, RuntimeClassificationError>;

    /// Whether the kernel would accept `input_id` into the ledger now (a preview: nothing changes).
    ///
    /// # Errors
    ///
    /// The kernel's refusal (e.g. `NoMatchingTransition` when retired or stopped, `GuardRejected` for a duplicate
    /// id or a retiring run), or a torn-down handle.
    fn preview_input_admission(&self, input_id: &InputId) -> Result<(), DslTransitionError>;

    /// Confirms the session's registration (`RegisterSession` for this session; refused while draining).
    ///
    /// # Errors
    ///
    /// The kernel's refusal, or a torn-down handle.
    fn confirm_registration(&self) -> BoxFuture<'_, Result<(), DslTransitionError>>;
}

/// The runtime's admission handle.
pub struct RuntimeSessionAdmissionHandle {
    authority: Arc<HandleDslAuthority>,
    port: Arc<dyn HandleStepPort>,
    session_id: dsl::SessionId,
}

impl std::fmt::Debug for RuntimeSessionAdmissionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeSessionAdmissionHandle").field("session_id", &self.session_id).finish_non_exhaustive()
    }
}

impl RuntimeSessionAdmissionHandle {
    /// A handle for `session_id` over a door no runtime session owns: writes go through the door's lock.
    pub fn new(authority: Arc<HandleDslAuthority>, session_id: dsl::SessionId) -> Self {
        let port = super::door_port(Arc::clone(&authority));
        Self { authority, port, session_id }
    }

    /// A handle whose writes go through the session's step port.
    pub(crate) fn with_port(
        authority: Arc<HandleDslAuthority>,
        port: Arc<dyn HandleStepPort>,
        session_id: dsl::SessionId,
    ) -> Self {
        Self { authority, port, session_id }
    }
}

const PREVIEW: &str = "SessionAdmission::preview_input_admission";

impl SessionAdmissionHandle for RuntimeSessionAdmissionHandle {
    fn lifecycle_facts(&self) -> Result<RuntimeLifecycleFacts, RuntimeClassificationError> {
        let phase = self.authority.with_state_lock(|state| state.lifecycle_phase);
        classify_runtime_lifecycle_state(RuntimeState::from_dsl(phase))
    }

    fn preview_input_admission(&self, input_id: &InputId) -> Result<(), DslTransitionError> {
        if self.authority.is_torn_down() {
            return Err(DslTransitionError::no_matching(PREVIEW, super::CLOSED_BY_TEARDOWN));
        }
        let state = self.authority.snapshot_state();
        let mut preview = dsl::MeerkatMachineAuthority::recover_from_state(state)
            .map_err(|error| map_kernel_error(error, PREVIEW))?;
        MeerkatMachineMutator::apply(
            &mut preview,
            dsl::MeerkatMachineInput::AcceptInput { input_id: dsl::InputId::from_domain(input_id) },
        )
        .map(|_| ())
        .map_err(|error| map_kernel_error(error, PREVIEW))
    }

    fn confirm_registration(&self) -> BoxFuture<'_, Result<(), DslTransitionError>> {
        Box::pin(async move {
            let input = dsl::MeerkatMachineInput::RegisterSession { session_id: self.session_id.clone() };
            self.port.apply(input, "SessionAdmission::confirm_registration", Box::new(|_| {})).await.map(|_| ())
        })
    }
}
