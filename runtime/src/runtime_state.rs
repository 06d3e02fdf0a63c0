//! The runtime lifecycle the shell reports: the seven states of the seeds' `RuntimeState`, and a session's coarse
//! [`RuntimeControlProjection`] of it. The generated kernel's phase enum is exactly this lifecycle (decision 1 of
//! `machines/meerkat.machine`), so the two convert one to one; the conversions live here so the rest of the shell
//! speaks the domain type.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::identifiers::RunId;
use crate::kernel::meerkat_machine as dsl;
use crate::kernel::meerkat_machine::MeerkatMachinePhase;

/// A session runtime's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuntimeState {
    /// No session claimed yet.
    Initializing,
    /// Registered; no executor attached, no run in progress.
    Idle,
    /// An executor's runtime loop is attached and waits for input.
    Attached,
    /// A run is in progress.
    Running,
    /// Takes no new input; queued input still drains.
    Retired,
    /// The executor was stopped by runtime control.
    Stopped,
    /// Torn down for good.
    Destroyed,
}

impl RuntimeState {
    /// Every state, in lifecycle order.
    pub const ALL: [RuntimeState; 7] = [
        RuntimeState::Initializing,
        RuntimeState::Idle,
        RuntimeState::Attached,
        RuntimeState::Running,
        RuntimeState::Retired,
        RuntimeState::Stopped,
        RuntimeState::Destroyed,
    ];

    /// The kernel phase observing this state.
    pub fn to_dsl(self) -> MeerkatMachinePhase {
        match self {
            RuntimeState::Initializing => MeerkatMachinePhase::Initializing,
            RuntimeState::Idle => MeerkatMachinePhase::Idle,
            RuntimeState::Attached => MeerkatMachinePhase::Attached,
            RuntimeState::Running => MeerkatMachinePhase::Running,
            RuntimeState::Retired => MeerkatMachinePhase::Retired,
            RuntimeState::Stopped => MeerkatMachinePhase::Stopped,
            RuntimeState::Destroyed => MeerkatMachinePhase::Destroyed,
        }
    }

    /// The state a kernel phase stands for.
    pub fn from_dsl(phase: MeerkatMachinePhase) -> Self {
        match phase {
            MeerkatMachinePhase::Initializing => RuntimeState::Initializing,
            MeerkatMachinePhase::Idle => RuntimeState::Idle,
            MeerkatMachinePhase::Attached => RuntimeState::Attached,
            MeerkatMachinePhase::Running => RuntimeState::Running,
            MeerkatMachinePhase::Retired => RuntimeState::Retired,
            MeerkatMachinePhase::Stopped => RuntimeState::Stopped,
            MeerkatMachinePhase::Destroyed => RuntimeState::Destroyed,
        }
    }

    /// The state's name.
    pub fn name(self) -> &'static str {
        self.to_dsl().name()
    }
}

impl fmt::Display for RuntimeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<MeerkatMachinePhase> for RuntimeState {
    fn from(phase: MeerkatMachinePhase) -> Self {
        Self::from_dsl(phase)
    }
}

impl From<RuntimeState> for MeerkatMachinePhase {
    fn from(state: RuntimeState) -> Self {
        state.to_dsl()
    }
}

/// The coarse control projection of a session: phase, bound run and the phase the run returns to. The session's
/// driver writes it after every step it realizes; the session entry and the turn-state handle read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeControlProjection {
    /// The lifecycle phase.
    pub phase: RuntimeState,
    /// The run in flight.
    pub current_run_id: Option<RunId>,
    /// The phase the run returns to.
    pub pre_run_phase: Option<RuntimeState>,
}

impl RuntimeControlProjection {
    /// The projection of a kernel state.
    pub fn from_dsl_state(state: &dsl::MeerkatMachineState) -> Self {
        Self {
            phase: RuntimeState::from_dsl(state.lifecycle_phase),
            current_run_id: state.current_run_id.as_ref().map(dsl::RunId::to_domain),
            pre_run_phase: state.pre_run_phase.map(RuntimeState::from_dsl),
        }
    }
}

/// The projection cell shared by a driver, its session entry and the session's turn-state handle.
pub type SharedControlProjection = Arc<RwLock<RuntimeControlProjection>>;

/// Reads a projection cell, surviving poison (the cell is replaced whole, never half-written).
pub fn read_control_projection(cell: &SharedControlProjection) -> RuntimeControlProjection {
    match cell.read() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => {
            tracing::error!("runtime control projection lock poisoned");
            poisoned.into_inner().clone()
        }
    }
}

/// Replaces a projection cell's value whole, surviving poison.
pub(crate) fn write_control_projection(cell: &SharedControlProjection, projection: RuntimeControlProjection) {
    *cell.write().unwrap_or_else(PoisonError::into_inner) = projection;
}
