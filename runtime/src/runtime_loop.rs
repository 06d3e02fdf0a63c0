//! The runtime loop: one tokio task per attached executor.
//!
//! It waits on its wake channel (and its effect channel), then drains: each step asks the shell to begin a run
//! (the kernel classifies whether the queue may drain and stages the inputs into the run), awaits the executor
//! without holding any session lock, and asks the shell to finish the run (consume, re-queue or abandon the
//! inputs, and resolve their completion waiters). While a run is in flight the loop still listens for effects: an
//! interrupt drops the run at once, and a cancel-after-boundary does too when the executor has no boundary handle
//! of its own. When its channels close (the shell detached it) the loop finishes the run in flight and exits; on
//! every exit it observes the executor's exit through the kernel. The loop holds only a weak reference to the
//! machine, so it never keeps a dropped machine alive.

use std::sync::Weak;

use tokio::sync::mpsc;

use crate::driver::SharedDriver;
use crate::executor::{CoreExecutor, CoreExecutorError, RunRequest};
use crate::identifiers::{InputId, SessionId};
use crate::meerkat_machine::MeerkatMachine;
use crate::meerkat_machine::session_management::{LoopBatch, LoopContinuation, LoopRunOutcome};

/// A message to the runtime loop on its effect channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeEffect {
    /// Stop the run in flight at its next boundary.
    CancelAfterBoundary {
        /// Why.
        reason: String,
    },
    /// Stop the run in flight now.
    Interrupt {
        /// Why.
        reason: String,
    },
}

/// What a loop needs besides its channels.
pub(crate) struct RuntimeLoopContext {
    pub(crate) machine: Weak<MeerkatMachine>,
    pub(crate) session_id: SessionId,
    pub(crate) driver: SharedDriver,
    pub(crate) loop_id: u64,
    pub(crate) has_boundary_handle: bool,
    pub(crate) executor: Box<dyn CoreExecutor>,
}

/// Runs the loop until its channels close or the kernel ends its registration.
pub(crate) async fn run_runtime_loop(
    mut context: RuntimeLoopContext,
    mut wake_rx: mpsc::Receiver<()>,
    mut effect_rx: mpsc::Receiver<RuntimeEffect>,
) {
    let mut effects_open = true;
    loop {
        if drain(&mut context, &mut effect_rx, &mut effects_open).await == LoopContinuation::Exit {
            break;
        }
        tokio::select! {
            wake = wake_rx.recv() => {
                if wake.is_none() {
                    break;
                }
            }
            effect = effect_rx.recv(), if effects_open => {
                // With no run in flight there is nothing to cancel or interrupt.
                if effect.is_none() {
                    break;
                }
            }
        }
    }
    let RuntimeLoopContext { machine, session_id, driver, loop_id, .. } = context;
    if let Some(machine) = machine.upgrade() {
        machine.runtime_loop_exit(&session_id, &driver, loop_id).await;
    }
}

/// Runs batches until the queue is idle; `Exit` when the loop must end.
async fn drain(
    context: &mut RuntimeLoopContext,
    effect_rx: &mut mpsc::Receiver<RuntimeEffect>,
    effects_open: &mut bool,
) -> LoopContinuation {
    loop {
        let Some(machine) = context.machine.upgrade() else {
            return LoopContinuation::Exit;
        };
        let (run_id, inputs) = match machine.runtime_loop_begin_batch(&context.session_id, &context.driver).await {
            LoopBatch::Idle => return LoopContinuation::Continue,
            LoopBatch::Exit => return LoopContinuation::Exit,
            LoopBatch::Run { run_id, inputs } => (run_id, inputs),
        };
        // Do not keep the machine alive while the executor runs.
        drop(machine);
        let input_ids: Vec<InputId> = inputs.iter().map(|input| input.id.clone()).collect();
        let request = RunRequest { session_id: context.session_id.clone(), run_id: run_id.clone(), inputs };
        let outcome = execute(context, request, effect_rx, effects_open).await;
        let Some(machine) = context.machine.upgrade() else {
            return LoopContinuation::Exit;
        };
        let next =
            machine.runtime_loop_finish_run(&context.session_id, &context.driver, &run_id, &input_ids, outcome).await;
        if next == LoopContinuation::Exit {
            return LoopContinuation::Exit;
        }
    }
}

/// Awaits one run while listening for interrupt and cancel effects.
async fn execute(
    context: &mut RuntimeLoopContext,
    request: RunRequest,
    effect_rx: &mut mpsc::Receiver<RuntimeEffect>,
    effects_open: &mut bool,
) -> LoopRunOutcome {
    let has_boundary_handle = context.has_boundary_handle;
    let run = context.executor.apply(request);
    tokio::pin!(run);
    loop {
        tokio::select! {
            result = &mut run => {
                return match result {
                    Ok(output) => LoopRunOutcome::Committed { boundary_sequence: output.boundary_sequence },
                    Err(CoreExecutorError::Failed(reason)) => {
                        tracing::debug!(session_id = %context.session_id, %reason, "run failed");
                        LoopRunOutcome::Failed
                    }
                    Err(CoreExecutorError::Cancelled(_)) => LoopRunOutcome::Cancelled,
                };
            }
            effect = effect_rx.recv(), if *effects_open => match effect {
                Some(RuntimeEffect::Interrupt { .. }) => return LoopRunOutcome::Cancelled,
                Some(RuntimeEffect::CancelAfterBoundary { .. }) if !has_boundary_handle => {
                    // Without a boundary handle the run itself is the only boundary the loop controls.
                    return LoopRunOutcome::Cancelled;
                }
                // The executor's boundary handle was told; its run returns `Cancelled` at the boundary.
                Some(RuntimeEffect::CancelAfterBoundary { .. }) => {}
                // Detached: the run in flight still finishes and commits.
                None => *effects_open = false,
            },
        }
    }
}
