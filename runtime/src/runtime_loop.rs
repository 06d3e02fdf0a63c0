//! The runtime loop, from attachment to exit: [`MeerkatMachine::ensure_session_with_executor`] spawns one tokio
//! task per attached executor, and the steps that task asks of the shell are defined here, next to it.
//!
//! The loop waits on its wake channel (and its effect channel), then drains: each step asks the shell to begin a run
//! (the kernel classifies whether the queue may drain and stages the inputs into the run), awaits the executor
//! without holding any session lock, and asks the shell to finish the run (consume, re-queue or abandon the
//! inputs, and resolve their completion waiters). While a run is in flight the loop still listens for effects: an
//! interrupt drops the run at once, and a cancel-after-boundary does too when the executor has no boundary handle
//! of its own. When its channels close (the shell detached it) the loop finishes the run in flight and exits; on
//! every exit it observes the executor's exit through the kernel. The loop holds only a weak reference to the
//! machine, so it never keeps a dropped machine alive.
//!
//! The steps (`runtime_loop_begin_batch`, `runtime_loop_finish_run`, `runtime_loop_exit`) are methods of the
//! shell that only the loop calls: each takes the session's gate (re-validated for this loop's driver) and changes
//! the kernel only through the shell's stage → driver → commit step. The shell, in turn, reaches a running loop
//! only through its attachment's channels (wakes and [`RuntimeEffect`]s) and imports nothing from this file.

use std::sync::{Arc, Weak};

use tokio::sync::mpsc;

use crate::completion::{CompletionOutcome, CompletionRegistry, NoProgressReason, SharedCompletionRegistry};
use crate::driver::SharedDriver;
use crate::error::RuntimeDriverError;
use crate::executor::{CoreExecutor, CoreExecutorError, RunRequest};
use crate::identifiers::{InputId, RunId, SessionId};
use crate::input::Input;
use crate::kernel::classify::classify_runtime_loop_queue_admission;
use crate::kernel::glue::lock_authority;
use crate::kernel::meerkat_machine as dsl;
use crate::meerkat_machine::entry::RuntimeLoopAttachment;
use crate::meerkat_machine::machine::{MeerkatMachine, SessionStepError, StepPayload};
use crate::meerkat_machine::staging::DslTransaction;
use crate::options::RUNTIME_LOOP_EFFECT_CAPACITY;
use crate::runtime_state::RuntimeState;

/// A message to the runtime loop on its effect channel (kept with the attachment that carries it).
pub use crate::meerkat_machine::entry::RuntimeEffect;

/// Capacity of a runtime loop's wake channel: one pending wake is enough, since the loop drains everything queued
/// when it runs (a wake sent while one is pending is dropped).
const RUNTIME_LOOP_WAKE_CAPACITY: usize = 1;

/// What the runtime loop does next.
#[derive(Debug)]
enum LoopBatch {
    /// Nothing to drain; wait for a wake.
    Idle,
    /// Run these inputs under this run id.
    Run {
        /// The bound run.
        run_id: RunId,
        /// The staged inputs.
        inputs: Vec<Input>,
    },
    /// The loop must exit.
    Exit,
}

/// How the executor's run ended, as the loop reports it.
#[derive(Debug)]
enum LoopRunOutcome {
    /// Committed.
    Committed {
        /// The boundary it committed at.
        boundary_sequence: Option<u64>,
    },
    /// Failed.
    Failed,
    /// Cancelled (interrupt or cancel at a boundary).
    Cancelled,
}

/// Whether the loop goes on after finishing a run.
#[derive(Debug, PartialEq, Eq)]
enum LoopContinuation {
    /// Keep draining.
    Continue,
    /// Exit.
    Exit,
}

/// Releases the session's completion waiters as `NoProgress { ExecutorGone }` if the loop's task ends without
/// reaching its orderly exit (the executor panicked, or the task was aborted): nothing else would resolve them.
struct OrphanedWaiters {
    completions: SharedCompletionRegistry,
    armed: bool,
}

impl Drop for OrphanedWaiters {
    fn drop(&mut self) {
        if self.armed {
            CompletionRegistry::lock(&self.completions)
                .resolve_all(&CompletionOutcome::NoProgress { reason: NoProgressReason::ExecutorGone });
        }
    }
}

/// What a loop needs besides its channels.
struct RuntimeLoopContext {
    machine: Weak<MeerkatMachine>,
    session_id: SessionId,
    driver: SharedDriver,
    loop_id: u64,
    has_boundary_handle: bool,
    executor: Box<dyn CoreExecutor>,
    completions: SharedCompletionRegistry,
}

/// Runs the loop until its channels close or the kernel ends its registration.
async fn run_runtime_loop(
    mut context: RuntimeLoopContext,
    mut wake_rx: mpsc::Receiver<()>,
    mut effect_rx: mpsc::Receiver<RuntimeEffect>,
) {
    let mut effects_open = true;
    let mut orphaned = OrphanedWaiters { completions: Arc::clone(&context.completions), armed: true };
    loop {
        // Boxed, so an idle loop's task holds only this small outer future: the drain's (runs, steps, driver
        // writes) is allocated while it runs and freed when the queue is idle again.
        if Box::pin(drain(&mut context, &mut effect_rx, &mut effects_open)).await == LoopContinuation::Exit {
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
        Box::pin(machine.runtime_loop_exit(&session_id, &driver, loop_id)).await;
    }
    orphaned.armed = false;
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

// ----------------------------------------------------------------------------------------------------------
// Attaching an executor, and the steps its loop asks of the shell. Each step runs under the session's gate,
// re-validated for this loop's driver.

impl MeerkatMachine {
    /// Registers the session if needed and attaches `executor`, spawning its runtime loop. A session registered
    /// earlier keeps its ledger and queue, which start draining at once. Attaching to a session whose loop is
    /// live is a no-op.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `ValidationFailed` when the kernel does not grant the executor registration (draining,
    /// stopped, a previous loop still exiting).
    pub async fn ensure_session_with_executor(
        self: &Arc<Self>,
        session_id: SessionId,
        executor: Box<dyn CoreExecutor>,
    ) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(&session_id).await?;
        self.ensure_session_entry(&session_id).await?;
        let _gate = self.gate(&session_id).await?;
        self.clear_dead_runtime_attachment(&session_id).await;
        let (driver, completions, live) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(&session_id).ok_or_else(|| Self::missing(&session_id))?;
            (Arc::clone(&entry.driver), Arc::clone(&entry.completions), entry.attachment_is_live())
        };
        if live {
            return Ok(());
        }
        let dsl_session = dsl::SessionId::from_domain(&session_id);
        self.run_session_step(&session_id, "EnsureSessionWithExecutor", StepPayload::default(), |tx| {
            tx.apply(dsl::MeerkatMachineInput::EnsureSessionWithExecutor { session_id: dsl_session })?;
            if tx.state().registration_phase == dsl::RegistrationPhase::Active {
                Ok(())
            } else {
                Err(tx.refuse("generated MeerkatMachine did not grant active executor registration"))
            }
        })
        .await?;

        let should_wake = {
            let driver = driver.lock().await;
            driver.as_driver().queued_len() > 0
        };
        let boundary_handle = executor.boundary_handle();
        let interrupt_handle = executor.interrupt_handle();
        let (wake_tx, wake_rx) = mpsc::channel(RUNTIME_LOOP_WAKE_CAPACITY);
        let (effect_tx, effect_rx) = mpsc::channel(RUNTIME_LOOP_EFFECT_CAPACITY);
        let loop_id = self.next_loop_id();
        let context = RuntimeLoopContext {
            machine: Arc::downgrade(self),
            session_id: session_id.clone(),
            driver: Arc::clone(&driver),
            loop_id,
            has_boundary_handle: boundary_handle.is_some(),
            executor,
            completions,
        };
        let loop_handle = tokio::spawn(run_runtime_loop(context, wake_rx, effect_rx));
        let published = {
            let mut sessions = self.sessions.write().await;
            match sessions.get_mut(&session_id) {
                Some(entry) if Arc::ptr_eq(&entry.driver, &driver) && !entry.attachment_is_live() => {
                    entry.attach_runtime_loop(RuntimeLoopAttachment::new(
                        loop_id,
                        wake_tx.clone(),
                        effect_tx,
                        boundary_handle,
                        interrupt_handle,
                        loop_handle,
                    ));
                    true
                }
                _ => {
                    loop_handle.abort();
                    false
                }
            }
        };
        if !published {
            // The claim was committed but no loop could be published: observe the exit so the kernel does not
            // keep an executor that is not there.
            self.observe_executor_exit(&session_id, "EnsureSessionWithExecutor").await;
            return Err(RuntimeDriverError::Internal(format!(
                "session {session_id} changed while its runtime loop was being attached"
            )));
        }
        if should_wake {
            // A full channel already holds a wake; the loop drains everything queued when it runs.
            let _ = wake_tx.try_send(());
        }
        Ok(())
    }

    /// Chooses the next run: the kernel classifies whether the queue may drain and with which run id, and every
    /// queued input is staged into the run in one step (the kernel's `StageInput` guard decides what one run may
    /// take; a refusal ends the loop, as before), so a burst on one session costs one run.
    async fn runtime_loop_begin_batch(&self, session_id: &SessionId, driver: &SharedDriver) -> LoopBatch {
        let Ok(_gate) = self.lock_current_runtime_loop_driver_authority(session_id, driver).await else {
            return LoopBatch::Exit;
        };
        let Ok(authority) = self.session_dsl_authority(session_id).await else {
            return LoopBatch::Exit;
        };
        let (phase, current_run, registration) = {
            let authority = lock_authority(&authority);
            let state = authority.state();
            (state.lifecycle_phase, state.current_run_id.clone(), state.registration_phase)
        };
        if registration != dsl::RegistrationPhase::Active {
            // Draining: the run in flight (if any) finished; nothing new starts.
            return LoopBatch::Exit;
        }
        let plan = match classify_runtime_loop_queue_admission(RuntimeState::from_dsl(phase), current_run.is_some()) {
            Ok(plan) => plan,
            Err(error) => {
                tracing::error!(%session_id, %error, "runtime loop cannot classify its queue admission");
                return LoopBatch::Exit;
            }
        };
        if !plan.can_process_queue() {
            return if phase == dsl::MeerkatMachinePhase::Stopped { LoopBatch::Exit } else { LoopBatch::Idle };
        }
        let (run_id, mut inputs) = {
            let driver = driver.lock().await;
            match (plan.uses_prebound_run(), &current_run) {
                (true, Some(run)) => {
                    let run_id = run.to_domain();
                    let staged = driver.as_driver().staged_for_run(&run_id);
                    (run_id, staged)
                }
                _ => (RunId::generate(), Vec::new()),
            }
        };
        let already_staged = inputs.len();
        {
            let driver = driver.lock().await;
            inputs.extend(driver.as_driver().queued_inputs());
        }
        if inputs.is_empty() && !plan.uses_prebound_run() {
            return LoopBatch::Idle;
        }
        let prebound = plan.uses_prebound_run();
        let to_stage: Vec<dsl::InputId> =
            inputs.iter().skip(already_staged).map(|input| dsl::InputId::from_domain(&input.id)).collect();
        let dsl_run = dsl::RunId::from_domain(&run_id);
        let step = self
            .run_session_step(
                session_id,
                "RuntimeLoopBeginRun",
                StepPayload { run_id: Some(run_id.clone()), ..StepPayload::default() },
                |tx| {
                    if !prebound {
                        tx.apply(dsl::MeerkatMachineInput::BeginRun { run_id: dsl_run.clone() })?;
                    }
                    for input_id in to_stage {
                        tx.apply(dsl::MeerkatMachineInput::StageInput { input_id, run_id: dsl_run.clone() })?;
                    }
                    Ok(())
                },
            )
            .await;
        match step {
            Ok(_) => {
                self.counters.record_run();
                LoopBatch::Run { run_id, inputs }
            }
            Err(error) => {
                tracing::error!(%session_id, error = ?error, "runtime loop could not begin a run");
                LoopBatch::Exit
            }
        }
    }

    /// Records how a run ended: consumed, re-queued (or abandoned once its attempts are used up), or abandoned as
    /// cancelled; a deferred stop that the finish applied abandons what is still pending.
    async fn runtime_loop_finish_run(
        &self,
        session_id: &SessionId,
        driver: &SharedDriver,
        run_id: &RunId,
        inputs: &[InputId],
        outcome: LoopRunOutcome,
    ) -> LoopContinuation {
        let Ok(_gate) = self.lock_current_runtime_loop_driver_authority(session_id, driver).await else {
            return LoopContinuation::Exit;
        };
        let dsl_run = dsl::RunId::from_domain(run_id);
        let ids: Vec<dsl::InputId> = inputs.iter().map(dsl::InputId::from_domain).collect();
        let boundary_sequence = match outcome {
            LoopRunOutcome::Committed { boundary_sequence } => boundary_sequence,
            _ => None,
        };
        let mut applied: u64 = 0;
        let step = self
            .run_session_step(
                session_id,
                "RuntimeLoopFinishRun",
                StepPayload { run_id: Some(run_id.clone()), boundary_sequence, ..StepPayload::default() },
                |tx| {
                    let staged = |tx: &DslTransaction<'_>, id: &dsl::InputId| {
                        tx.state().input_ledger.get(id).is_some_and(|record| record.phase == dsl::InputPhase::Staged)
                    };
                    let run_outcome = match outcome {
                        LoopRunOutcome::Committed { .. } => {
                            for id in &ids {
                                if staged(tx, id) {
                                    tx.apply(dsl::MeerkatMachineInput::ApplyInput {
                                        input_id: id.clone(),
                                        run_id: dsl_run.clone(),
                                        awaits_commit: true,
                                    })?;
                                    applied += 1;
                                }
                            }
                            dsl::RunOutcome::Committed
                        }
                        LoopRunOutcome::Failed => {
                            for id in &ids {
                                if staged(tx, id) {
                                    // The kernel admits `MaxAttemptsExhausted` only once the attempts are used up;
                                    // otherwise the input goes back to the queue.
                                    let exhausted = tx.apply(dsl::MeerkatMachineInput::AbandonInput {
                                        input_id: id.clone(),
                                        reason: dsl::InputAbandonReason::MaxAttemptsExhausted,
                                    });
                                    if exhausted.is_err() {
                                        tx.apply(dsl::MeerkatMachineInput::QueueInput { input_id: id.clone() })?;
                                    }
                                }
                            }
                            dsl::RunOutcome::Failed
                        }
                        LoopRunOutcome::Cancelled => {
                            for id in &ids {
                                if staged(tx, id) {
                                    tx.apply(dsl::MeerkatMachineInput::AbandonInput {
                                        input_id: id.clone(),
                                        reason: dsl::InputAbandonReason::Cancelled,
                                    })?;
                                }
                            }
                            dsl::RunOutcome::Cancelled
                        }
                    };
                    tx.apply(dsl::MeerkatMachineInput::FinishRun { run_id: dsl_run.clone(), outcome: run_outcome })?;
                    if run_outcome == dsl::RunOutcome::Committed {
                        for id in &ids {
                            let applied = tx
                                .state()
                                .input_ledger
                                .get(id)
                                .is_some_and(|record| record.phase == dsl::InputPhase::AppliedPendingConsumption);
                            if applied {
                                tx.apply(dsl::MeerkatMachineInput::ConsumeInput { input_id: id.clone() })?;
                            }
                        }
                    }
                    if tx.state().lifecycle_phase == dsl::MeerkatMachinePhase::Stopped {
                        tx.abandon_pending_inputs(dsl::InputAbandonReason::Stopped)?;
                    }
                    Ok(tx.state().lifecycle_phase == dsl::MeerkatMachinePhase::Stopped
                        || tx.state().registration_phase != dsl::RegistrationPhase::Active)
                },
            )
            .await;
        if step.is_ok() {
            self.counters.record_applied(applied);
        }
        match step {
            Ok((false, _)) => LoopContinuation::Continue,
            Ok((true, _)) => LoopContinuation::Exit,
            Err(SessionStepError::Rejected(rejection)) => {
                tracing::error!(%session_id, %rejection, "the kernel refused to finish the run");
                LoopContinuation::Exit
            }
            Err(SessionStepError::Driver(error)) => {
                // The run stays bound in the kernel, so a loop attached later reuses it (a prebound run).
                tracing::error!(%session_id, %error, "the run's finish could not be recorded");
                LoopContinuation::Exit
            }
        }
    }

    /// The loop's exit: observes the executor's exit in the kernel unless another loop owns the attachment now,
    /// and empties the slot if it still holds this loop. Left without an executor outside an unregistration (which
    /// resolves the waiters itself), the session's remaining waiters are released as `NoProgress { ExecutorGone }`.
    async fn runtime_loop_exit(&self, session_id: &SessionId, driver: &SharedDriver, loop_id: u64) {
        let Ok(_gate) = self.lock_current_session_driver_gate(session_id, driver).await else {
            return;
        };
        let (ours, attached, completions) = {
            let mut sessions = self.sessions.write().await;
            let Some(entry) = sessions.get_mut(session_id) else { return };
            let other_live = entry.other_loop_is_live(loop_id);
            entry.clear_own_attachment(loop_id);
            (!other_live, entry.generated_executor_attached(), Arc::clone(&entry.completions))
        };
        if ours && attached {
            self.observe_executor_exit(session_id, "RuntimeLoopExit").await;
        }
        let draining = self.session_dsl_state(session_id).await.is_ok_and(|state| {
            matches!(state.registration_phase, dsl::RegistrationPhase::Draining | dsl::RegistrationPhase::Unregistered)
        });
        if ours && !draining {
            CompletionRegistry::lock(&completions)
                .resolve_all(&CompletionOutcome::NoProgress { reason: NoProgressReason::ExecutorGone });
        }
    }
}
