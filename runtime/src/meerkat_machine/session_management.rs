//! Session lifecycle mechanics: building a session entry (with cold recovery from the store and replay of the
//! stored phase through the kernel), registration with double-checked insertion, executor attachment and the
//! runtime-loop steps, and unregistration with its drain window.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::MeerkatMachine;
use super::dsl;
use super::dsl_authority::{lock_authority, new_shared_authority};
use super::entry::{RuntimeLoopAttachment, RuntimeLoopAttachmentSlot, RuntimeSessionEntry};
use super::machine::{SessionStepError, StepPayload};
use super::staging::{DslJournalEntry, DslRejection, DslTransaction, stage_dsl_transaction_on_authority};
use super::visibility::MachineToolVisibilityOwner;
use super::{authorize_stored_input_state_seed, classify_runtime_loop_queue_admission};
use crate::completion::{CompletionRegistry, SharedCompletionRegistry};
use crate::driver::{
    DriverEntry, EphemeralRuntimeDriver, PersistentRuntimeDriver, RuntimeControlProjection, SharedDriver,
};
use crate::epoch::{EpochCursorState, RuntimeEpochId};
use crate::executor::CoreExecutor;
use crate::handles::HandleTeardownGate;
use crate::identifiers::{InputId, LogicalRuntimeId, RunId, SessionId};
use crate::input::{Input, InputLifecycleState};
use crate::runtime_loop::{RuntimeLoopContext, run_runtime_loop};
use crate::runtime_state::RuntimeState;
use crate::store::{OpsLifecycleSnapshot, StoredInput};
use crate::traits::{RecoveryReport, RuntimeDriverError};

/// How many queued inputs one run takes at most.
pub(crate) const MAX_RUN_BATCH: usize = 32;

/// Capacity of a runtime loop's wake and effect channels.
pub(crate) const RUNTIME_LOOP_CHANNEL_CAPACITY: usize = 16;

/// A session entry built outside the `sessions` lock, with what recovery found.
pub(crate) struct BuiltSession {
    entry: RuntimeSessionEntry,
    journal: Vec<DslJournalEntry>,
    pub(crate) report: RecoveryReport,
}

/// What the runtime loop does next.
#[derive(Debug)]
pub(crate) enum LoopBatch {
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
pub(crate) enum LoopRunOutcome {
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
pub(crate) enum LoopContinuation {
    /// Keep draining.
    Continue,
    /// Exit.
    Exit,
}

/// Abandons every live ledger input that is still pending (accepted or queued) with `reason`.
pub(crate) fn abandon_pending_inputs(
    tx: &mut DslTransaction<'_>,
    reason: dsl::InputAbandonReason,
) -> Result<usize, DslRejection> {
    let pending: Vec<dsl::InputId> = tx
        .state()
        .input_ledger
        .iter()
        .filter(|(_, record)| matches!(record.phase, dsl::InputPhase::Accepted | dsl::InputPhase::Queued))
        .map(|(id, _)| id.clone())
        .collect();
    for input_id in &pending {
        tx.apply(dsl::MeerkatMachineInput::AbandonInput { input_id: input_id.clone(), reason })?;
    }
    Ok(pending.len())
}

/// Abandons every live ledger input (any non-terminal phase) with `reason`; the kernel needs a quiescent ledger
/// before `Reset` and `Destroy`.
pub(crate) fn abandon_live_inputs(
    tx: &mut DslTransaction<'_>,
    reason: dsl::InputAbandonReason,
) -> Result<usize, DslRejection> {
    let live: Vec<dsl::InputId> = tx
        .state()
        .input_ledger
        .iter()
        .filter(|(_, record)| record.terminal_kind.is_none())
        .map(|(id, _)| id.clone())
        .collect();
    for input_id in &live {
        tx.apply(dsl::MeerkatMachineInput::AbandonInput { input_id: input_id.clone(), reason })?;
    }
    Ok(live.len())
}

/// Replays a recovered runtime phase through the kernel (never written into its state directly): `Retired`,
/// `Stopped` and `Destroyed` are replayed by the input that leads there; live phases need nothing, since no
/// executor or run survives a restart.
fn replay_recovered_runtime_phase(
    tx: &mut DslTransaction<'_>,
    session_id: &dsl::SessionId,
    recovered: RuntimeState,
) -> Result<(), DslRejection> {
    if RuntimeState::from_dsl(tx.state().lifecycle_phase) == recovered {
        return Ok(());
    }
    let input = match recovered {
        RuntimeState::Retired => dsl::MeerkatMachineInput::Retire { session_id: session_id.clone() },
        RuntimeState::Stopped => {
            dsl::MeerkatMachineInput::StopRuntimeExecutor { reason: "recovered stopped runtime".to_owned() }
        }
        RuntimeState::Destroyed => dsl::MeerkatMachineInput::Destroy { session_id: session_id.clone() },
        RuntimeState::Initializing | RuntimeState::Idle | RuntimeState::Attached | RuntimeState::Running => {
            return Ok(());
        }
    };
    tx.apply(input).map(|_| ())
}

impl MeerkatMachine {
    /// Builds a session's entry without touching the `sessions` map: a kernel claimed for the session, stored
    /// inputs and the stored phase replayed through it (a persistent machine), the driver, and the epoch.
    async fn build_session_entry(&self, session_id: &SessionId) -> Result<BuiltSession, RuntimeDriverError> {
        let runtime_id = Self::logical_runtime_id(session_id);
        let stored = match &self.store {
            Some(store) => store.load_runtime(&runtime_id).await.map_err(|error| {
                RuntimeDriverError::Internal(format!("failed to load runtime {runtime_id}: {error}"))
            })?,
            None => None,
        };
        let stored_state = stored.as_ref().and_then(|stored| stored.runtime_state);
        let mut inputs: Vec<StoredInput> = stored.map(|stored| stored.inputs).unwrap_or_default();
        for stored_input in &inputs {
            authorize_stored_input_state_seed(&stored_input.input.id, &stored_input.seed).map_err(|error| {
                RuntimeDriverError::RecoveryCorruption {
                    reason: format!(
                        "store corruption: stored input '{}' of session '{session_id}' is refused: {error}",
                        stored_input.input.id
                    ),
                }
            })?;
        }
        let authority = new_shared_authority();
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let live: Vec<InputId> =
            inputs.iter().filter(|stored| !stored.seed.is_terminal()).map(|stored| stored.input.id.clone()).collect();
        let (staged, ()) = stage_dsl_transaction_on_authority(
            &authority,
            "RecoverRuntimeState(Session)",
            self.journaling(),
            |tx| {
                tx.apply(dsl::MeerkatMachineInput::RegisterSession { session_id: dsl_session.clone() })?;
                // Pending work is re-admitted; work that was staged or applied when the process stopped runs
                // again (duplicates rather than losses, like the epoch cursors).
                for input_id in &live {
                    let input_id = dsl::InputId::from_domain(input_id);
                    tx.apply(dsl::MeerkatMachineInput::AcceptInput { input_id: input_id.clone() })?;
                    tx.apply(dsl::MeerkatMachineInput::QueueInput { input_id })?;
                }
                match stored_state {
                    Some(state) => replay_recovered_runtime_phase(tx, &dsl_session, state),
                    None => Ok(()),
                }
            },
        )
        .map_err(|rejection| RuntimeDriverError::RecoveryCorruption {
            reason: format!(
                "store corruption: recovered '{}' runtime state for session '{session_id}' cannot be replayed through \
                 the kernel: {rejection}",
                stored_state.map_or("(none)", RuntimeState::name)
            ),
        })?;
        for stored_input in &mut inputs {
            if !stored_input.seed.is_terminal() {
                stored_input.seed.phase = InputLifecycleState::Queued;
            }
        }
        let inputs_recovered = inputs.len();
        let projection = RuntimeControlProjection::from_dsl_state(lock_authority(&authority).state());
        let runtime_state = projection.phase;
        let control_projection = Arc::new(std::sync::RwLock::new(projection));
        let mut core =
            EphemeralRuntimeDriver::new(runtime_id.clone(), Arc::clone(&control_projection), Arc::clone(&authority));
        core.restore_recovered(inputs, stored_state);
        let inputs_pending = core.queued_len();
        let driver = match &self.store {
            Some(store) => DriverEntry::Persistent(PersistentRuntimeDriver::new(core, Arc::clone(store))),
            None => DriverEntry::Ephemeral(core),
        };
        let (epoch_id, cursor_state) = self.recover_or_create_epoch(session_id, &runtime_id).await?;
        let entry = RuntimeSessionEntry {
            runtime_id,
            mutation_gate: Arc::new(tokio::sync::Mutex::new(())),
            driver: Arc::new(tokio::sync::Mutex::new(driver)),
            control_projection,
            epoch_id,
            cursor_state,
            completions: CompletionRegistry::shared(),
            handle_teardown_gate: HandleTeardownGate::open(),
            tool_visibility_owner: Arc::new(MachineToolVisibilityOwner::new()),
            attachment_slot: RuntimeLoopAttachmentSlot::Empty,
            dsl_authority: authority,
        };
        Ok(BuiltSession {
            entry,
            journal: staged.journal,
            report: RecoveryReport { cold: true, stored_state, runtime_state, inputs_pending, inputs_recovered },
        })
    }

    /// The session's epoch: the stored one with its cursors (same epoch after recovery), or a fresh one (which a
    /// persistent machine stores).
    async fn recover_or_create_epoch(
        &self,
        session_id: &SessionId,
        runtime_id: &LogicalRuntimeId,
    ) -> Result<(RuntimeEpochId, Arc<EpochCursorState>), RuntimeDriverError> {
        let Some(store) = &self.store else {
            return Ok((RuntimeEpochId::new(), Arc::new(EpochCursorState::new())));
        };
        match store.load_ops_lifecycle(runtime_id).await {
            Ok(Some(snapshot)) => {
                let cursors = snapshot.cursors;
                tracing::debug!(%session_id, epoch_id = %snapshot.epoch_id, "recovered runtime epoch");
                Ok((
                    snapshot.epoch_id,
                    Arc::new(EpochCursorState::from_recovered(
                        cursors.agent_applied_cursor,
                        cursors.runtime_observed_seq,
                        cursors.runtime_last_injected_seq,
                    )),
                ))
            }
            Ok(None) => {
                let epoch_id = RuntimeEpochId::new();
                let cursor_state = Arc::new(EpochCursorState::new());
                self.persist_epoch(runtime_id, &epoch_id, &cursor_state).await?;
                Ok((epoch_id, cursor_state))
            }
            Err(error) => {
                Err(RuntimeDriverError::Internal(format!("failed to load the runtime epoch of {runtime_id}: {error}")))
            }
        }
    }

    /// Stores an epoch snapshot (persistent machines only).
    pub(crate) async fn persist_epoch(
        &self,
        runtime_id: &LogicalRuntimeId,
        epoch_id: &RuntimeEpochId,
        cursor_state: &EpochCursorState,
    ) -> Result<(), RuntimeDriverError> {
        let Some(store) = &self.store else { return Ok(()) };
        store
            .persist_ops_lifecycle(
                runtime_id,
                OpsLifecycleSnapshot { epoch_id: epoch_id.clone(), cursors: cursor_state.snapshot() },
            )
            .await
            .map_err(|error| {
                RuntimeDriverError::Internal(format!("failed to store the runtime epoch of {runtime_id}: {error}"))
            })
    }

    /// Registers the session if it is not registered: the entry is built (and recovered) outside the `sessions`
    /// lock, then inserted only if no other task inserted one meanwhile. Returns the recovery report when this call
    /// inserted the entry.
    pub(crate) async fn register_session_inner(
        &self,
        session_id: &SessionId,
    ) -> Result<Option<RecoveryReport>, RuntimeDriverError> {
        if self.sessions.read().await.contains_key(session_id) {
            return Ok(None);
        }
        let BuiltSession { entry, journal, report } = self.build_session_entry(session_id).await?;
        {
            let mut sessions = self.sessions.write().await;
            if sessions.contains_key(session_id) {
                return Ok(None);
            }
            sessions.insert(session_id.clone(), entry);
        }
        if let Some(observer) = self.commit_observer()
            && !journal.is_empty()
        {
            observer.committed(session_id, &journal);
        }
        Ok(Some(report))
    }

    /// With the session's gate held: empties a slot whose loop is gone, and observes the executor's exit in the
    /// kernel when it was still attached.
    pub(crate) async fn clear_dead_runtime_attachment(&self, session_id: &SessionId) {
        let (cleared, attached) = {
            let mut sessions = self.sessions.write().await;
            match sessions.get_mut(session_id) {
                Some(entry) => (entry.clear_dead_attachment(), entry.generated_executor_attached()),
                None => (false, false),
            }
        };
        if cleared && attached {
            self.observe_executor_exit(session_id, "ClearDeadRuntimeAttachment").await;
        }
    }

    /// Stages `RuntimeExecutorExited` (gate held), logging a refusal.
    async fn observe_executor_exit(&self, session_id: &SessionId, context: &'static str) {
        let step = self
            .run_session_step(session_id, context, StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::RuntimeExecutorExited).map(|_| ())
            })
            .await;
        if let Err(error) = step {
            tracing::warn!(%session_id, error = ?error, "generated MeerkatMachine refused the executor-exit observation");
        }
    }

    /// Registers the session if needed and attaches `executor` (see `ensure_session_with_executor`).
    pub(crate) async fn ensure_session_with_executor_inner(
        self: &Arc<Self>,
        session_id: SessionId,
        executor: Box<dyn CoreExecutor>,
    ) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(&session_id).await?;
        self.register_session_inner(&session_id).await?;
        let _gate = self.gate(&session_id).await?;
        self.clear_dead_runtime_attachment(&session_id).await;
        let (driver, live) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(&session_id).ok_or_else(Self::missing)?;
            (Arc::clone(&entry.driver), entry.attachment_is_live())
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
        .await
        .map_err(RuntimeDriverError::from)?;

        let should_wake = {
            let driver = driver.lock().await;
            driver.as_driver().queued_len() > 0
        };
        let boundary_handle = executor.boundary_handle();
        let interrupt_handle = executor.interrupt_handle();
        let (wake_tx, wake_rx) = mpsc::channel(RUNTIME_LOOP_CHANNEL_CAPACITY);
        let (effect_tx, effect_rx) = mpsc::channel(RUNTIME_LOOP_CHANNEL_CAPACITY);
        let loop_id = self.next_loop_id();
        let context = RuntimeLoopContext {
            machine: Arc::downgrade(self),
            session_id: session_id.clone(),
            driver: Arc::clone(&driver),
            loop_id,
            has_boundary_handle: boundary_handle.is_some(),
            executor,
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

    // ----------------------------------------------------------------------------------------------------------
    // Runtime-loop steps. Each runs under the session's gate, re-validated for this loop's driver.

    /// Chooses the next run: the kernel classifies whether the queue may drain and with which run id; the inputs
    /// are staged into the run in one step.
    pub(crate) async fn runtime_loop_begin_batch(&self, session_id: &SessionId, driver: &SharedDriver) -> LoopBatch {
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
            inputs.extend(driver.as_driver().queued_batch(MAX_RUN_BATCH));
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
            Ok(_) => LoopBatch::Run { run_id, inputs },
            Err(error) => {
                tracing::error!(%session_id, error = ?error, "runtime loop could not begin a run");
                LoopBatch::Exit
            }
        }
    }

    /// Records how a run ended: consumed, re-queued (or abandoned once its attempts are used up), or abandoned as
    /// cancelled; a deferred stop that the finish applied abandons what is still pending.
    pub(crate) async fn runtime_loop_finish_run(
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
                        abandon_pending_inputs(tx, dsl::InputAbandonReason::Stopped)?;
                    }
                    Ok(tx.state().lifecycle_phase == dsl::MeerkatMachinePhase::Stopped
                        || tx.state().registration_phase != dsl::RegistrationPhase::Active)
                },
            )
            .await;
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
    /// and empties the slot if it still holds this loop.
    pub(crate) async fn runtime_loop_exit(&self, session_id: &SessionId, driver: &SharedDriver, loop_id: u64) {
        let Ok(_gate) = self.lock_current_session_driver_gate(session_id, driver).await else {
            return;
        };
        let (ours, attached) = {
            let mut sessions = self.sessions.write().await;
            let Some(entry) = sessions.get_mut(session_id) else { return };
            let other_live = matches!(&entry.attachment_slot, RuntimeLoopAttachmentSlot::Attached(attachment)
                if attachment.loop_id != loop_id)
                && entry.attachment_is_live();
            entry.clear_own_attachment(loop_id);
            (!other_live, entry.generated_executor_attached())
        };
        if ours && attached {
            self.observe_executor_exit(session_id, "RuntimeLoopExit").await;
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Unregistration.

    /// Opens the drain window, lets the loop finish its run and exit, then closes the window and removes the
    /// session. Remaining completion waiters resolve as `Terminated`.
    pub(crate) async fn unregister_session_inner(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(session_id).await?;
        let (loop_handle, gate_identity) = {
            let _gate = self.gate(session_id).await?;
            let dsl_session = dsl::SessionId::from_domain(session_id);
            self.run_session_step(session_id, "BeginUnregisterSession", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::BeginUnregisterSession { session_id: dsl_session }).map(|_| ())
            })
            .await
            .map_err(RuntimeDriverError::from)?;
            let mut sessions = self.sessions.write().await;
            let entry = sessions.get_mut(session_id).ok_or_else(Self::missing)?;
            (entry.take_loop_join_handle(), Arc::clone(&entry.mutation_gate))
        };
        if let Some(handle) = loop_handle {
            // The loop commits its run in flight (the gate admits the drain window) and observes its own exit.
            if let Err(error) = handle.await {
                tracing::warn!(%session_id, %error, "runtime loop ended abnormally during unregistration");
            }
        }
        let _gate = self.gate(session_id).await?;
        let completions: SharedCompletionRegistry = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            if !Arc::ptr_eq(&entry.mutation_gate, &gate_identity) {
                return Err(RuntimeDriverError::Internal(format!("session {session_id} was replaced while draining")));
            }
            Arc::clone(&entry.completions)
        };
        let dsl_session = dsl::SessionId::from_domain(session_id);
        self.run_session_step(session_id, "UnregisterSession", StepPayload::default(), |tx| {
            if tx.state().executor_attached {
                // The loop ended without observing its exit (it was aborted or panicked).
                tx.apply(dsl::MeerkatMachineInput::RuntimeExecutorExited)?;
            }
            tx.apply(dsl::MeerkatMachineInput::UnregisterSession { session_id: dsl_session }).map(|_| ())
        })
        .await
        .map_err(RuntimeDriverError::from)?;
        let removed = self.sessions.write().await.remove(session_id);
        if let Some(entry) = removed {
            entry.close_handle_teardown_gate();
            let cursors = entry.cursor_state.snapshot();
            if let Err(error) = self
                .persist_epoch(
                    &entry.runtime_id,
                    &entry.epoch_id,
                    &EpochCursorState::from_recovered(
                        cursors.agent_applied_cursor,
                        cursors.runtime_observed_seq,
                        cursors.runtime_last_injected_seq,
                    ),
                )
                .await
            {
                tracing::warn!(%session_id, %error, "failed to store the epoch cursors at unregistration");
            }
        }
        CompletionRegistry::lock(&completions).resolve_all_terminated("runtime session unregistered");
        Ok(())
    }

    /// Warm recovery of a registered session: rebuilds nothing the kernel holds, re-syncs the control projection,
    /// and wakes the loop so queued work drains.
    pub(crate) async fn recover_registered_session(
        &self,
        session_id: &SessionId,
    ) -> Result<RecoveryReport, RuntimeDriverError> {
        let _gate = self.gate(session_id).await?;
        let (driver, wake) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            (Arc::clone(&entry.driver), entry.wake_sender())
        };
        let mut driver = driver.lock().await;
        driver.sync_control_projection_from_dsl_authority();
        let inner = driver.as_driver();
        let report = RecoveryReport {
            cold: false,
            stored_state: None,
            runtime_state: inner.runtime_state(),
            inputs_pending: inner.queued_len(),
            inputs_recovered: inner.stored_len(),
        };
        if let Some(wake) = wake {
            let _ = wake.try_send(());
        }
        Ok(report)
    }
}
