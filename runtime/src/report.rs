//! The reports the control commands return: what a retire, reset, recycle, destroy or recovery did.

use crate::epoch::RuntimeEpochId;
use crate::runtime_state::RuntimeState;

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

/// What an unregistration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnregisterReport {
    /// The runtime loop did not exit by the deadline and was aborted (its run in flight stays staged in a
    /// persistent store, which a later recovery re-admits).
    pub loop_aborted: bool,
}
