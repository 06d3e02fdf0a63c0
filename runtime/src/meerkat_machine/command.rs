//! The command vocabulary of the shell: every public operation of [`super::MeerkatMachine`] is one
//! [`MeerkatMachineCommand`] run by one reducer, which hands it to its group (ensure-session, session, control,
//! ingress) and returns a [`MeerkatMachineCommandResult`].

use std::collections::BTreeMap;

use super::dsl;
use super::visibility::SessionToolVisibilityState;
use crate::completion::CompletionHandle;
use crate::epoch::SessionRuntimeBindings;
use crate::executor::CoreExecutor;
use crate::identifiers::{InputId, LogicalRuntimeId, SessionId};
use crate::input::{AcceptOutcome, Input, InputStateSeed};
use crate::runtime_state::RuntimeState;
use crate::traits::{
    DestroyReport, RecoveryReport, RecycleReport, ResetReport, RetireReport, RuntimeBindingsError, RuntimeDriverError,
};

/// One operation on the machine.
pub enum MeerkatMachineCommand {
    // Ensure-session group (needs an `Arc<MeerkatMachine>`: it spawns the runtime loop).
    /// Registers the session if needed and attaches an executor; queued inputs stay in the same ledger.
    EnsureSessionWithExecutor {
        /// The session.
        session_id: SessionId,
        /// The executor its runtime loop drives.
        executor: Box<dyn CoreExecutor>,
    },

    // Session group.
    /// Registers a session without an executor (inputs queue; nothing drains them).
    RegisterSession {
        /// The session.
        session_id: SessionId,
    },
    /// Drains and removes a session.
    UnregisterSession {
        /// The session.
        session_id: SessionId,
    },
    /// Replaces the silent comms intents.
    SetSilentIntents {
        /// The session.
        session_id: SessionId,
        /// The intents.
        intents: Vec<String>,
    },
    /// Asks the run in flight to stop at its next boundary.
    CancelAfterBoundary {
        /// The session.
        session_id: SessionId,
    },
    /// Interrupts the run in flight at once.
    InterruptCurrentRun {
        /// The session.
        session_id: SessionId,
        /// Why.
        reason: String,
    },
    /// Stops the executor (now, or when the bound run finishes).
    StopRuntimeExecutor {
        /// The session.
        session_id: SessionId,
        /// Why.
        reason: String,
    },
    /// Whether the session is registered.
    ContainsSession {
        /// The session.
        session_id: SessionId,
    },
    /// Whether the session has an executor attached.
    SessionHasExecutor {
        /// The session.
        session_id: SessionId,
    },
    /// Binds the session to its authoritative runtime (its own logical runtime unless one is named) and mints
    /// its bindings.
    PrepareBindings {
        /// The session.
        session_id: SessionId,
        /// The runtime to bind; `None` is the session's own logical runtime.
        runtime_id: Option<LogicalRuntimeId>,
    },
    /// Mints the session-local bindings without an authoritative binding.
    PrepareLocalSessionBindings {
        /// The session.
        session_id: SessionId,
    },
    /// One input's stored state.
    InputState {
        /// The session.
        session_id: SessionId,
        /// The input.
        input_id: InputId,
    },
    /// The inputs that are not terminal.
    ListActiveInputs {
        /// The session.
        session_id: SessionId,
    },
    /// Stages a tool filter; returns its revision.
    StagePersistentFilter {
        /// The session.
        session_id: SessionId,
        /// The filter.
        filter: dsl::ToolFilter,
    },
    /// Requests deferred tools; returns the revision.
    RequestDeferredTools {
        /// The session.
        session_id: SessionId,
        /// Witnesses by tool name.
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    },
    /// Commits a visible set.
    PublishCommittedVisibleSet {
        /// The session.
        session_id: SessionId,
        /// The set.
        visibility_state: Box<SessionToolVisibilityState>,
    },

    // Control group.
    /// Retires the session.
    Retire {
        /// The session.
        session_id: SessionId,
    },
    /// Rebuilds the runtime, preserving queued work.
    Recycle {
        /// The session.
        session_id: SessionId,
    },
    /// Starts a new epoch, abandoning live inputs.
    Reset {
        /// The session.
        session_id: SessionId,
    },
    /// Recovers the session from the store (cold) or re-reads its queue (warm).
    Recover {
        /// The session.
        session_id: SessionId,
    },
    /// Destroys the session for good.
    Destroy {
        /// The session.
        session_id: SessionId,
    },
    /// The session's visible runtime state.
    RuntimeState {
        /// The session.
        session_id: SessionId,
    },

    // Ingress group.
    /// Accepts an input, wakes the loop, and returns a completion handle.
    AcceptWithCompletion {
        /// The session.
        session_id: SessionId,
        /// The input.
        input: Input,
    },
    /// Accepts an input without waking the loop.
    AcceptWithoutWake {
        /// The session.
        session_id: SessionId,
        /// The input.
        input: Input,
    },
}

impl MeerkatMachineCommand {
    /// The command's name.
    pub fn name(&self) -> &'static str {
        match self {
            MeerkatMachineCommand::EnsureSessionWithExecutor { .. } => "EnsureSessionWithExecutor",
            MeerkatMachineCommand::RegisterSession { .. } => "RegisterSession",
            MeerkatMachineCommand::UnregisterSession { .. } => "UnregisterSession",
            MeerkatMachineCommand::SetSilentIntents { .. } => "SetSilentIntents",
            MeerkatMachineCommand::CancelAfterBoundary { .. } => "CancelAfterBoundary",
            MeerkatMachineCommand::InterruptCurrentRun { .. } => "InterruptCurrentRun",
            MeerkatMachineCommand::StopRuntimeExecutor { .. } => "StopRuntimeExecutor",
            MeerkatMachineCommand::ContainsSession { .. } => "ContainsSession",
            MeerkatMachineCommand::SessionHasExecutor { .. } => "SessionHasExecutor",
            MeerkatMachineCommand::PrepareBindings { .. } => "PrepareBindings",
            MeerkatMachineCommand::PrepareLocalSessionBindings { .. } => "PrepareLocalSessionBindings",
            MeerkatMachineCommand::InputState { .. } => "InputState",
            MeerkatMachineCommand::ListActiveInputs { .. } => "ListActiveInputs",
            MeerkatMachineCommand::StagePersistentFilter { .. } => "StagePersistentFilter",
            MeerkatMachineCommand::RequestDeferredTools { .. } => "RequestDeferredTools",
            MeerkatMachineCommand::PublishCommittedVisibleSet { .. } => "PublishCommittedVisibleSet",
            MeerkatMachineCommand::Retire { .. } => "Retire",
            MeerkatMachineCommand::Recycle { .. } => "Recycle",
            MeerkatMachineCommand::Reset { .. } => "Reset",
            MeerkatMachineCommand::Recover { .. } => "Recover",
            MeerkatMachineCommand::Destroy { .. } => "Destroy",
            MeerkatMachineCommand::RuntimeState { .. } => "RuntimeState",
            MeerkatMachineCommand::AcceptWithCompletion { .. } => "AcceptWithCompletion",
            MeerkatMachineCommand::AcceptWithoutWake { .. } => "AcceptWithoutWake",
        }
    }
}

impl std::fmt::Debug for MeerkatMachineCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeerkatMachineCommand").field("name", &self.name()).finish_non_exhaustive()
    }
}

/// What a command returned.
#[derive(Debug)]
pub enum MeerkatMachineCommandResult {
    /// Nothing to return.
    Unit,
    /// A yes/no answer.
    Bool(bool),
    /// Prepared bindings.
    Bindings(SessionRuntimeBindings),
    /// One input's stored state.
    InputState(Option<InputStateSeed>),
    /// Active input ids.
    ActiveInputs(Vec<InputId>),
    /// A minted visibility revision.
    VisibilityRevision(u64),
    /// The published visible set.
    VisibilityPublished(SessionToolVisibilityState),
    /// An accepted input, with its completion handle when one was asked for.
    Accepted {
        /// What accepting did.
        outcome: AcceptOutcome,
        /// The completion waiter.
        completion: Option<CompletionHandle>,
    },
    /// A retire's report.
    Retired(RetireReport),
    /// A reset's report.
    Reset(ResetReport),
    /// A recycle's report.
    Recycled(RecycleReport),
    /// A destroy's report.
    Destroyed(DestroyReport),
    /// A recovery's report.
    Recovered(RecoveryReport),
    /// A runtime state.
    RuntimeState(RuntimeState),
}

/// Why a command failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeerkatMachineCommandError {
    /// A driver-level failure.
    #[error(transparent)]
    Driver(#[from] RuntimeDriverError),
    /// Bindings could not be prepared.
    #[error(transparent)]
    Bindings(#[from] RuntimeBindingsError),
}
