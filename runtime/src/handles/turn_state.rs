//! The turn-state handle: the session's run lifecycle as the kernel holds it. The run inputs themselves
//! (`BeginRun`, `FinishRun`, `InterruptCurrentRun`) are runtime-internal, so this handle only reads: a consistent
//! snapshot taken under the authority lock, and the visible phase arbitrated by the kernel against the control
//! projection the driver publishes.

use std::sync::Arc;

use super::HandleDslAuthority;
use crate::identifiers::RunId;
use crate::kernel::classify::{RuntimeClassificationError, resolve_visible_runtime_phase};
use crate::kernel::meerkat_machine as dsl;
use crate::runtime_state::{RuntimeState, SharedControlProjection, read_control_projection};

/// The run lifecycle at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnStateSnapshot {
    /// The kernel's lifecycle phase.
    pub phase: RuntimeState,
    /// The run in flight.
    pub current_run_id: Option<RunId>,
    /// The phase the run returns to.
    pub pre_run_phase: Option<RuntimeState>,
    /// A stop waits for the run to finish.
    pub stop_deferred: bool,
    /// An executor's loop is attached.
    pub executor_attached: bool,
}

/// Read access to a session's run lifecycle.
pub trait TurnStateHandle: Send + Sync {
    /// The run lifecycle now.
    fn turn_state(&self) -> TurnStateSnapshot;

    /// Whether a run is in flight.
    fn turn_in_flight(&self) -> bool {
        self.turn_state().current_run_id.is_some()
    }

    /// The phase to show, as the kernel arbitrates it.
    ///
    /// # Errors
    ///
    /// When the kernel gives no answer.
    fn visible_phase(&self) -> Result<RuntimeState, RuntimeClassificationError>;
}

/// The runtime's turn-state handle.
#[derive(Debug)]
pub struct RuntimeTurnStateHandle {
    authority: Arc<HandleDslAuthority>,
    control_projection: SharedControlProjection,
    has_runtime_persistence: bool,
}

impl RuntimeTurnStateHandle {
    /// A handle over the session's shared door and control projection.
    pub fn new(
        authority: Arc<HandleDslAuthority>,
        control_projection: SharedControlProjection,
        has_runtime_persistence: bool,
    ) -> Self {
        Self { authority, control_projection, has_runtime_persistence }
    }
}

fn snapshot_of(state: &dsl::MeerkatMachineState) -> TurnStateSnapshot {
    TurnStateSnapshot {
        phase: RuntimeState::from_dsl(state.lifecycle_phase),
        current_run_id: state.current_run_id.as_ref().map(dsl::RunId::to_domain),
        pre_run_phase: state.pre_run_phase.map(RuntimeState::from_dsl),
        stop_deferred: state.runtime_stop_deferred,
        executor_attached: state.executor_attached,
    }
}

impl TurnStateHandle for RuntimeTurnStateHandle {
    fn turn_state(&self) -> TurnStateSnapshot {
        self.authority.with_state_lock(snapshot_of)
    }

    fn visible_phase(&self) -> Result<RuntimeState, RuntimeClassificationError> {
        let turn = self.turn_state();
        let control = read_control_projection(&self.control_projection);
        resolve_visible_runtime_phase(
            turn.phase,
            turn.pre_run_phase,
            control.phase,
            control.pre_run_phase,
            self.has_runtime_persistence,
        )
        .map(|plan| plan.visible_phase)
    }
}
