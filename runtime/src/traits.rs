//! The shell's typed errors and the reports its control commands return.
//!
//! Conventions (from the seeds): a session that is not registered reads as `NotReady { state: Destroyed }`, which
//! public control commands normalize to `Destroyed`; a kernel rejection is `ValidationFailed` carrying the
//! kernel's message; a runtime loop that is not live is `NotReady { state: Idle }`; plumbing failures (a store
//! write, a channel) are `Internal`; a stored state that does not replay through the kernel is
//! `RecoveryCorruption`.

use crate::epoch::RuntimeEpochId;
use crate::identifiers::SessionId;
use crate::runtime_state::RuntimeState;

/// Why a runtime driver operation was refused or failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeDriverError {
    /// The session's runtime is not in a state that can do this.
    #[error("runtime not ready: {state}")]
    NotReady {
        /// The state it is in (`Destroyed` for a session that is not registered).
        state: RuntimeState,
    },
    /// The session was destroyed; nothing resurrects it.
    #[error("runtime destroyed")]
    Destroyed,
    /// The kernel refused the transition.
    #[error("validation failed: {reason}")]
    ValidationFailed {
        /// The kernel's message, with the context it was applied in.
        reason: String,
    },
    /// The runtime's plumbing failed (a store, a channel, an unexpected answer).
    #[error("internal runtime error: {0}")]
    Internal(String),
    /// Stored runtime state could not be replayed through the kernel.
    #[error("recovery corruption: {reason}")]
    RecoveryCorruption {
        /// What could not be replayed, and the kernel's refusal.
        reason: String,
    },
}

impl RuntimeDriverError {
    /// `NotReady { Destroyed }` (a missing session) reads as `Destroyed`; every other error is unchanged.
    pub fn normalize_destroyed(self) -> Self {
        match self {
            RuntimeDriverError::NotReady { state: RuntimeState::Destroyed } => RuntimeDriverError::Destroyed,
            other => other,
        }
    }
}

/// Why a control-plane operation (registration) failed. A failed registration is never reported as success.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeControlPlaneError {
    /// The driver operation behind it failed.
    #[error(transparent)]
    Driver(#[from] RuntimeDriverError),
    /// An unexpected answer from the machine.
    #[error("internal control-plane error: {0}")]
    Internal(String),
}

/// Why bindings could not be prepared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeBindingsError {
    /// The session vanished between registration and preparation.
    #[error("session {0} not found in runtime after registration")]
    SessionNotFound(SessionId),
    /// Preparation failed before any bindings were published.
    #[error("failed to prepare runtime bindings for session {0}: {1}")]
    PrepareFailed(SessionId, String),
}

/// What `retire` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetireReport {
    /// Queued inputs abandoned as `Retired` because no executor is registered to drain them.
    pub inputs_abandoned: usize,
    /// Queued inputs left for the attached executor to drain.
    pub inputs_pending_drain: usize,
}

/// What `reset` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetReport {
    /// Live inputs abandoned as `Reset`.
    pub inputs_abandoned: usize,
    /// The new runtime epoch.
    pub epoch_id: RuntimeEpochId,
}

/// What `recycle` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecycleReport {
    /// Pending inputs kept in the rebuilt queue.
    pub inputs_preserved: usize,
}

/// What `destroy` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// Live inputs abandoned as `Destroyed`.
    pub inputs_abandoned: usize,
    /// Whether a run in flight was cancelled.
    pub run_cancelled: bool,
}

/// What `recover` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Whether the session was rebuilt from the store (cold) or was already registered (warm).
    pub cold: bool,
    /// The stored runtime state, when the store had one.
    pub stored_state: Option<RuntimeState>,
    /// The session's runtime state after recovery.
    pub runtime_state: RuntimeState,
    /// Pending inputs in the queue after recovery.
    pub inputs_pending: usize,
    /// Stored inputs read back (terminal and pending).
    pub inputs_recovered: usize,
}
