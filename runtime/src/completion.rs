//! Completion waiters: a caller that accepts an input with completion gets a [`CompletionHandle`] that resolves
//! exactly once, with a typed [`CompletionOutcome`], when the kernel records the input as terminal (consumed,
//! abandoned, cancelled, ...) or when the session goes away first, or can no longer make progress (its executor's
//! runtime loop died, the machine shut down: [`CompletionOutcome::NoProgress`]). Each waiter is a oneshot channel,
//! so a second resolution is impossible by construction; the registry hands each sender out once.
//! [`CompletionHandle::wait_timeout`] bounds a wait without giving the handle up. The outcome of a terminal
//! ledger record is classified by the kernel (`resolve_terminal_completions`, run by the shell's commit).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::identifiers::InputId;
use crate::input::{InputAbandonReason, InputLifecycleState, InputTerminalOutcome};
use crate::kernel::classify::resolve_input_public_terminal_projection;
use crate::kernel::meerkat_machine as dsl;

/// How an input awaited with completion ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompletionOutcome {
    /// A committed run consumed it.
    Completed,
    /// Another input replaced it.
    Superseded,
    /// It was folded into an aggregate.
    Coalesced,
    /// The run it was staged into was cancelled (interrupt, cancel after boundary).
    Cancelled,
    /// It was abandoned for another reason (retire, reset, stop, destroy, attempts exhausted).
    Abandoned {
        /// Why.
        reason: InputAbandonReason,
    },
    /// The session left this runtime (unregistered) before the input reached a terminal phase; a persistent
    /// store still holds it.
    Terminated {
        /// Why the waiter was released.
        reason: String,
    },
    /// The input is not terminal, but nothing in this process will run it: the waiter is released rather than
    /// left waiting for ever. The input stays where it was (queued in the session, and in a persistent store).
    NoProgress {
        /// Why the session can no longer make progress.
        reason: NoProgressReason,
    },
}

/// Why a waiter was released with [`CompletionOutcome::NoProgress`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoProgressReason {
    /// The session's executor is gone: its runtime loop died (the executor panicked, or the loop was aborted) or
    /// exited, and no other loop took over. A later executor may still run the input.
    ExecutorGone,
    /// The machine was shut down ([`crate::MeerkatMachine::shutdown`]).
    ShutDown,
}

/// A bounded wait ([`CompletionHandle::wait_timeout`]) ran out; the handle still waits for the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the completion did not arrive within the wait's bound")]
pub struct WaitTimedOut;

/// The caller's side of one completion waiter.
#[derive(Debug)]
pub struct CompletionHandle {
    input_id: InputId,
    receiver: oneshot::Receiver<CompletionOutcome>,
}

impl CompletionHandle {
    /// The input this handle waits for.
    pub fn input_id(&self) -> &InputId {
        &self.input_id
    }

    /// Waits for the outcome. A registry dropped without resolving (which the runtime never does on purpose)
    /// reads as `Terminated`.
    pub async fn wait(self) -> CompletionOutcome {
        self.receiver.await.unwrap_or_else(|_| CompletionOutcome::Terminated {
            reason: "completion registry dropped without resolving the waiter".to_owned(),
        })
    }

    /// Waits for the outcome at most `timeout`. On `WaitTimedOut` the handle is unchanged: wait again, or drop it.
    ///
    /// # Errors
    ///
    /// `WaitTimedOut` when no outcome arrived in time.
    pub async fn wait_timeout(&mut self, timeout: Duration) -> Result<CompletionOutcome, WaitTimedOut> {
        match tokio::time::timeout(timeout, &mut self.receiver).await {
            Ok(outcome) => Ok(outcome.unwrap_or_else(|_| CompletionOutcome::Terminated {
                reason: "completion registry dropped without resolving the waiter".to_owned(),
            })),
            Err(_) => Err(WaitTimedOut),
        }
    }

    /// The outcome if it is already known, without waiting.
    pub fn try_outcome(&mut self) -> Option<CompletionOutcome> {
        self.receiver.try_recv().ok()
    }
}

/// The waiters of one session, by input.
#[derive(Debug, Default)]
pub struct CompletionRegistry {
    waiters: HashMap<InputId, Vec<oneshot::Sender<CompletionOutcome>>>,
}

/// The registry shared by the shell (which registers and resolves at commit) and the runtime loop.
pub type SharedCompletionRegistry = Arc<Mutex<CompletionRegistry>>;

impl CompletionRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new shared, empty registry.
    pub fn shared() -> SharedCompletionRegistry {
        Arc::new(Mutex::new(Self::new()))
    }

    /// Locks a shared registry, recovering from poison (the map stays consistent: every operation is one insert
    /// or one remove).
    pub fn lock(registry: &SharedCompletionRegistry) -> MutexGuard<'_, CompletionRegistry> {
        registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a waiter for `input_id`.
    pub fn register(&mut self, input_id: InputId) -> CompletionHandle {
        let (sender, receiver) = oneshot::channel();
        self.waiters.entry(input_id.clone()).or_default().push(sender);
        CompletionHandle { input_id, receiver }
    }

    /// Resolves every waiter of `input_id` (each at most once: the senders leave the registry). Returns how many
    /// waiters were resolved.
    pub fn resolve(&mut self, input_id: &InputId, outcome: &CompletionOutcome) -> usize {
        let Some(senders) = self.waiters.remove(input_id) else {
            return 0;
        };
        let count = senders.len();
        for sender in senders {
            // A receiver dropped by its caller no longer wants the outcome; that is not an error.
            let _ = sender.send(outcome.clone());
        }
        count
    }

    /// Resolves every remaining waiter as `Terminated` (the session is going away).
    pub fn resolve_all_terminated(&mut self, reason: &str) -> usize {
        self.resolve_all(&CompletionOutcome::Terminated { reason: reason.to_owned() })
    }

    /// Resolves every remaining waiter with `outcome`. Returns how many were resolved.
    pub fn resolve_all(&mut self, outcome: &CompletionOutcome) -> usize {
        let mut count = 0;
        for (_, senders) in self.waiters.drain() {
            for sender in senders {
                count += 1;
                let _ = sender.send(outcome.clone());
            }
        }
        count
    }

    /// How many inputs have waiters.
    pub fn pending(&self) -> usize {
        self.waiters.len()
    }
}

/// Resolves the waiters of every input a step made terminal, with the outcome the kernel classifies.
pub(crate) fn resolve_terminal_completions(
    completions: &SharedCompletionRegistry,
    effects: &[dsl::MeerkatMachineEffect],
) {
    let mut registry: Option<MutexGuard<'_, CompletionRegistry>> = None;
    for effect in effects {
        let dsl::MeerkatMachineEffect::InputLedgerUpdated { input_id, record } = effect else { continue };
        if record.terminal_kind.is_none() {
            continue;
        }
        let id = input_id.to_domain();
        let outcome = completion_outcome(&id, record);
        registry.get_or_insert_with(|| CompletionRegistry::lock(completions)).resolve(&id, &outcome);
    }
}

/// The typed completion outcome of a terminal ledger record, classified by the kernel. A classification failure
/// still resolves the waiter (as `Terminated`, naming the failure): every waiter resolves exactly once.
fn completion_outcome(input_id: &InputId, record: &dsl::InputRecord) -> CompletionOutcome {
    let phase = InputLifecycleState::from_dsl(record.phase);
    let reason = record.abandon_reason.map(|reason| InputAbandonReason::from_dsl(reason, record.attempt_count));
    let terminal = match record.terminal_kind {
        Some(dsl::InputTerminalKind::Consumed) => Some(InputTerminalOutcome::Consumed),
        Some(dsl::InputTerminalKind::Abandoned) => reason.map(|reason| InputTerminalOutcome::Abandoned { reason }),
        Some(dsl::InputTerminalKind::Superseded) => {
            Some(InputTerminalOutcome::Superseded { superseded_by: InputId::new("") })
        }
        Some(dsl::InputTerminalKind::Coalesced) => {
            Some(InputTerminalOutcome::Coalesced { aggregate_id: String::new() })
        }
        None => None,
    };
    match resolve_input_public_terminal_projection(input_id, phase, terminal.as_ref()) {
        Ok(Some(dsl::InputPublicTerminalOutcome::Completed)) => CompletionOutcome::Completed,
        Ok(Some(dsl::InputPublicTerminalOutcome::Superseded)) => CompletionOutcome::Superseded,
        Ok(Some(dsl::InputPublicTerminalOutcome::Coalesced)) => CompletionOutcome::Coalesced,
        Ok(Some(dsl::InputPublicTerminalOutcome::Cancelled)) => CompletionOutcome::Cancelled,
        Ok(Some(dsl::InputPublicTerminalOutcome::Abandoned)) => match reason {
            Some(reason) => CompletionOutcome::Abandoned { reason },
            None => CompletionOutcome::Terminated { reason: "abandoned without a reason".to_owned() },
        },
        Ok(None) => {
            CompletionOutcome::Terminated { reason: "the kernel classified a terminal input as live".to_owned() }
        }
        Err(error) => CompletionOutcome::Terminated { reason: error.to_string() },
    }
}
