//! The command vocabulary of the shell: every public operation of [`MeerkatMachine`] is also one
//! [`MeerkatMachineCommand`], for callers that queue or forward operations as values.
//!
//! [`MeerkatMachine::execute_meerkat_machine_command`] is a thin adapter: one `match` that calls the typed method
//! of the command's operation (the same method the public API calls) and wraps its result in a
//! [`MeerkatMachineCommandResult`]. The public methods never go through it. Where a public method reports errors
//! differently from the command (registration wraps
//! its error in `RuntimeControlPlaneError`, bindings fold a driver failure into `PrepareFailed`), both call the
//! same `*_inner` method and the public one converts.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::machine::MeerkatMachine;
use crate::completion::CompletionHandle;
use crate::epoch::{RuntimeBindingsError, SessionRuntimeBindings};
use crate::error::RuntimeDriverError;
use crate::executor::CoreExecutor;
use crate::identifiers::{InputId, LogicalRuntimeId, SessionId};
use crate::input::{AcceptOutcome, Input, InputStateSeed};
use crate::kernel::meerkat_machine as dsl;
use crate::report::{DestroyReport, RecoveryReport, RecycleReport, ResetReport, RetireReport};
use crate::runtime_state::RuntimeState;
use crate::visibility::SessionToolVisibilityState;

/// The future every command returns.
pub type MeerkatMachineCommandFuture<'a> =
    Pin<Box<dyn Future<Output = Result<MeerkatMachineCommandResult, MeerkatMachineCommandError>> + Send + 'a>>;

/// One operation on the machine.
pub enum MeerkatMachineCommand {
    // Session group (`session.rs`). `EnsureSessionWithExecutor` needs an `Arc<MeerkatMachine>`: it spawns the
    // runtime loop.
    /// Registers the session if needed and attaches an executor; queued inputs stay in the same ledger.
    EnsureSessionWithExecutor {
        /// The session.
        session_id: SessionId,
        /// The executor its runtime loop drives.
        executor: Box<dyn CoreExecutor>,
    },

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
    // Run control (`control.rs`).
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
    // Session queries (`session.rs`).
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
    // Bindings group (`bindings.rs`).
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
    // Input queries (`ingress.rs`).
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
    // Tool-visibility group (`tool_visibility.rs`).
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

    // Control group (`control.rs`; recovery is `recovery.rs`).
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

    // Ingress group (`ingress.rs`).
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

impl MeerkatMachine {
    /// Runs one command by calling the typed method of its operation and wrapping the result. The session group's
    /// `EnsureSessionWithExecutor` needs `self_handle` (it spawns the runtime loop with a weak reference to the
    /// machine); without it that command fails with `Internal`.
    pub fn execute_meerkat_machine_command(
        &self,
        self_handle: Option<Arc<Self>>,
        command: MeerkatMachineCommand,
    ) -> MeerkatMachineCommandFuture<'_> {
        use MeerkatMachineCommand as Command;
        use MeerkatMachineCommandResult as Output;
        Box::pin(async move {
            let output = match command {
                Command::EnsureSessionWithExecutor { session_id, executor } => {
                    let machine = self_handle.ok_or_else(|| {
                        RuntimeDriverError::Internal("EnsureSessionWithExecutor requires an Arc<MeerkatMachine>".into())
                    })?;
                    machine.ensure_session_with_executor(session_id, executor).await?;
                    Output::Unit
                }
                Command::RegisterSession { session_id } => {
                    self.register_session_inner(&session_id).await?;
                    Output::Unit
                }
                Command::UnregisterSession { session_id } => {
                    self.unregister_session_inner(&session_id, None).await?;
                    Output::Unit
                }
                Command::SetSilentIntents { session_id, intents } => {
                    self.set_session_silent_intents(&session_id, intents).await?;
                    Output::Unit
                }
                Command::CancelAfterBoundary { session_id } => {
                    self.cancel_after_boundary(&session_id).await?;
                    Output::Unit
                }
                Command::InterruptCurrentRun { session_id, reason } => {
                    self.hard_cancel_current_run(&session_id, reason).await?;
                    Output::Unit
                }
                Command::StopRuntimeExecutor { session_id, reason } => {
                    self.stop_runtime_executor(&session_id, reason).await?;
                    Output::Unit
                }
                Command::ContainsSession { session_id } => Output::Bool(self.contains_session(&session_id).await),
                Command::SessionHasExecutor { session_id } => {
                    Output::Bool(self.session_has_executor(&session_id).await)
                }
                Command::PrepareBindings { session_id, runtime_id } => {
                    let runtime_id = runtime_id.unwrap_or_else(|| Self::logical_runtime_id(&session_id));
                    Output::Bindings(self.prepare_runtime_bindings_inner(session_id, runtime_id).await?)
                }
                Command::PrepareLocalSessionBindings { session_id } => {
                    Output::Bindings(self.prepare_local_session_bindings_inner(session_id).await?)
                }
                Command::InputState { session_id, input_id } => {
                    Output::InputState(self.input_state(&session_id, &input_id).await?)
                }
                Command::ListActiveInputs { session_id } => {
                    Output::ActiveInputs(self.list_active_inputs(&session_id).await?)
                }
                Command::StagePersistentFilter { session_id, filter } => {
                    Output::VisibilityRevision(self.stage_persistent_filter(&session_id, filter).await?)
                }
                Command::RequestDeferredTools { session_id, authorities } => {
                    Output::VisibilityRevision(self.request_deferred_tools(&session_id, authorities).await?)
                }
                Command::PublishCommittedVisibleSet { session_id, visibility_state } => Output::VisibilityPublished(
                    self.publish_committed_visible_set(&session_id, *visibility_state).await?,
                ),
                Command::Retire { session_id } => Output::Retired(self.retire_inner(&session_id).await?),
                Command::Recycle { session_id } => Output::Recycled(self.recycle_inner(&session_id).await?),
                Command::Reset { session_id } => Output::Reset(self.reset_inner(&session_id).await?),
                Command::Recover { session_id } => Output::Recovered(self.recover(&session_id).await?),
                Command::Destroy { session_id } => Output::Destroyed(self.destroy_inner(&session_id).await?),
                Command::RuntimeState { session_id } => {
                    Output::RuntimeState(self.runtime_state_inner(&session_id).await?)
                }
                Command::AcceptWithCompletion { session_id, input } => {
                    let (outcome, completion) = self.accept_input_with_completion(&session_id, input).await?;
                    Output::Accepted { outcome, completion: Some(completion) }
                }
                Command::AcceptWithoutWake { session_id, input } => Output::Accepted {
                    outcome: self.accept_input_without_wake(&session_id, input).await?,
                    completion: None,
                },
            };
            Ok(output)
        })
    }
}
