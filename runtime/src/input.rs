//! Inputs and their ledger vocabulary: the payload a caller submits, the lifecycle an input goes through, how it
//! ends, and the seed a driver stores for it. The kernel keeps the authoritative ledger (`input_ledger`); these are
//! the shell's stored projection of it, converted to and from the kernel's enums here.

use serde::{Deserialize, Serialize};

use crate::identifiers::{InputId, RunId};
use crate::kernel::meerkat_machine as dsl;

pub use crate::kernel::meerkat_machine::InputLane;

/// One input submitted to a session: an id and an opaque payload for the executor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// The input's id in the session ledger.
    pub id: InputId,
    /// What the executor receives.
    pub payload: String,
}

impl Input {
    /// A new input with a fresh, time-ordered id.
    pub fn new(payload: impl Into<String>) -> Self {
        Self { id: InputId::generate(), payload: payload.into() }
    }

    /// An input with a caller-chosen id (ids must be unique per session; the kernel refuses a duplicate).
    pub fn with_id(id: InputId, payload: impl Into<String>) -> Self {
        Self { id, payload: payload.into() }
    }
}

/// What accepting an input did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// The input entered the ledger and the queue.
    Accepted {
        /// The accepted input's id.
        input_id: InputId,
    },
}

impl AcceptOutcome {
    /// The id of the input the outcome is about.
    pub fn input_id(&self) -> &InputId {
        match self {
            AcceptOutcome::Accepted { input_id } => input_id,
        }
    }
}

/// An input's lifecycle phase (one to one with the kernel's `InputPhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InputLifecycleState {
    /// Entered the ledger.
    Accepted,
    /// Waiting in the queue.
    Queued,
    /// Staged into a run.
    Staged,
    /// Applied by a run.
    Applied,
    /// Applied; consumption waits for the run's commit.
    AppliedPendingConsumption,
    /// Consumed by a committed run.
    Consumed,
    /// Replaced by another input.
    Superseded,
    /// Folded into an aggregate.
    Coalesced,
    /// Abandoned.
    Abandoned,
}

impl InputLifecycleState {
    /// The kernel's phase for this state.
    pub fn to_dsl(self) -> dsl::InputPhase {
        match self {
            InputLifecycleState::Accepted => dsl::InputPhase::Accepted,
            InputLifecycleState::Queued => dsl::InputPhase::Queued,
            InputLifecycleState::Staged => dsl::InputPhase::Staged,
            InputLifecycleState::Applied => dsl::InputPhase::Applied,
            InputLifecycleState::AppliedPendingConsumption => dsl::InputPhase::AppliedPendingConsumption,
            InputLifecycleState::Consumed => dsl::InputPhase::Consumed,
            InputLifecycleState::Superseded => dsl::InputPhase::Superseded,
            InputLifecycleState::Coalesced => dsl::InputPhase::Coalesced,
            InputLifecycleState::Abandoned => dsl::InputPhase::Abandoned,
        }
    }

    /// The state of a kernel phase.
    pub fn from_dsl(phase: dsl::InputPhase) -> Self {
        match phase {
            dsl::InputPhase::Accepted => InputLifecycleState::Accepted,
            dsl::InputPhase::Queued => InputLifecycleState::Queued,
            dsl::InputPhase::Staged => InputLifecycleState::Staged,
            dsl::InputPhase::Applied => InputLifecycleState::Applied,
            dsl::InputPhase::AppliedPendingConsumption => InputLifecycleState::AppliedPendingConsumption,
            dsl::InputPhase::Consumed => InputLifecycleState::Consumed,
            dsl::InputPhase::Superseded => InputLifecycleState::Superseded,
            dsl::InputPhase::Coalesced => InputLifecycleState::Coalesced,
            dsl::InputPhase::Abandoned => InputLifecycleState::Abandoned,
        }
    }

    /// Whether the input still waits to run (accepted or queued).
    pub fn is_pending(self) -> bool {
        matches!(self, InputLifecycleState::Accepted | InputLifecycleState::Queued)
    }
}

/// Why an input was abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InputAbandonReason {
    /// The session retired with no executor left to drain the queue.
    Retired,
    /// The runtime was reset.
    Reset,
    /// The executor was stopped.
    Stopped,
    /// The session was destroyed.
    Destroyed,
    /// The run it was staged into was cancelled.
    Cancelled,
    /// It was staged into runs as often as the kernel allows, and every run failed.
    MaxAttemptsExhausted {
        /// How many attempts were made.
        attempts: u32,
    },
}

impl InputAbandonReason {
    /// The kernel's reason (the attempt count travels separately there).
    pub fn to_dsl(self) -> dsl::InputAbandonReason {
        match self {
            InputAbandonReason::Retired => dsl::InputAbandonReason::Retired,
            InputAbandonReason::Reset => dsl::InputAbandonReason::Reset,
            InputAbandonReason::Stopped => dsl::InputAbandonReason::Stopped,
            InputAbandonReason::Destroyed => dsl::InputAbandonReason::Destroyed,
            InputAbandonReason::Cancelled => dsl::InputAbandonReason::Cancelled,
            InputAbandonReason::MaxAttemptsExhausted { .. } => dsl::InputAbandonReason::MaxAttemptsExhausted,
        }
    }

    /// The domain reason of a kernel reason; `attempts` fills `MaxAttemptsExhausted`.
    pub fn from_dsl(reason: dsl::InputAbandonReason, attempts: u64) -> Self {
        match reason {
            dsl::InputAbandonReason::Retired => InputAbandonReason::Retired,
            dsl::InputAbandonReason::Reset => InputAbandonReason::Reset,
            dsl::InputAbandonReason::Stopped => InputAbandonReason::Stopped,
            dsl::InputAbandonReason::Destroyed => InputAbandonReason::Destroyed,
            dsl::InputAbandonReason::Cancelled => InputAbandonReason::Cancelled,
            dsl::InputAbandonReason::MaxAttemptsExhausted => {
                InputAbandonReason::MaxAttemptsExhausted { attempts: u32::try_from(attempts).unwrap_or(u32::MAX) }
            }
        }
    }
}

/// How a terminal input ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputTerminalOutcome {
    /// Consumed by a committed run.
    Consumed,
    /// Replaced by another input.
    Superseded {
        /// The input that replaced it.
        superseded_by: InputId,
    },
    /// Folded into an aggregate.
    Coalesced {
        /// The aggregate's id.
        aggregate_id: String,
    },
    /// Abandoned.
    Abandoned {
        /// Why.
        reason: InputAbandonReason,
    },
}

/// The stored state of one input: what a driver persists and recovery reads back. Every seed is authorized
/// through the kernel (`AuthorizeStoredInputStateSeed`) before it is written and when it is recovered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputStateSeed {
    /// The lifecycle phase.
    pub phase: InputLifecycleState,
    /// How it ended, once terminal.
    pub terminal_outcome: Option<InputTerminalOutcome>,
    /// How many times it was staged into a run.
    pub attempt_count: u32,
    /// The last run it was staged into.
    pub last_run_id: Option<RunId>,
    /// The boundary sequence of the last run that applied it.
    pub last_boundary_sequence: Option<u64>,
    /// Its admission order in the session.
    pub admission_sequence: Option<u64>,
    /// The lane recovery re-admits it on.
    pub recovery_lane: Option<InputLane>,
}

impl InputStateSeed {
    /// The seed of a newly accepted input.
    pub fn accepted(admission_sequence: u64) -> Self {
        Self {
            phase: InputLifecycleState::Accepted,
            terminal_outcome: None,
            attempt_count: 0,
            last_run_id: None,
            last_boundary_sequence: None,
            admission_sequence: Some(admission_sequence),
            recovery_lane: Some(InputLane::Ordinary),
        }
    }

    /// Whether the seed is in a terminal phase.
    pub fn is_terminal(&self) -> bool {
        self.terminal_outcome.is_some()
            || matches!(
                self.phase,
                InputLifecycleState::Consumed
                    | InputLifecycleState::Superseded
                    | InputLifecycleState::Coalesced
                    | InputLifecycleState::Abandoned
            )
    }
}
