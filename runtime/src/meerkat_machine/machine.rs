//! [`MeerkatMachine`], the runtime shell: the sessions map, the per-session mutation gate, the
//! stage → driver → commit step every mutating command runs, and the public async API over the command reducer.
//!
//! Lock order, outermost first: a session's mutation gate (tokio, held across a whole command step), the
//! `sessions` map (tokio `RwLock`, held only to look an entry up or change it, never across a driver await), the
//! session's driver (tokio `Mutex`), and innermost the session's kernel (`std::sync::Mutex`, never held across an
//! `.await`). No code takes an outer lock while holding an inner one. Every std lock recovers from poison.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock as StdRwLock};

use tokio::sync::{OwnedMutexGuard, RwLock};

use super::command::{MeerkatMachineCommand, MeerkatMachineCommandError, MeerkatMachineCommandResult};
use super::composition::{MeerkatCompositionSignalDispatcher, lift_routed_signal};
use super::dsl;
use super::dsl_authority::{SharedDslAuthority, lock_authority};
use super::entry::RuntimeSessionEntry;
use super::staging::{
    DslRejection, DslTransaction, StagedSessionDslInput, preview_dsl_input_on_state,
    restore_dsl_authority_snapshot_if_current, stage_dsl_transaction_on_authority,
};
use super::visibility::SessionToolVisibilityState;
use super::{resolve_input_public_terminal_projection, resolve_visible_runtime_phase};
use crate::completion::{CompletionHandle, CompletionOutcome, CompletionRegistry, SharedCompletionRegistry};
use crate::driver::{DriverMutation, SharedDriver};
use crate::epoch::SessionRuntimeBindings;
use crate::executor::CoreExecutor;
use crate::handles::RuntimeSessionClaimRegistry;
use crate::identifiers::{InputId, LogicalRuntimeId, RunId, SessionId};
use crate::input::{AcceptOutcome, Input, InputAbandonReason, InputLifecycleState, InputStateSeed};
use crate::runtime_state::RuntimeState;
use crate::store::RuntimeStore;
use crate::traits::{
    DestroyReport, RecoveryReport, RecycleReport, ResetReport, RetireReport, RuntimeBindingsError,
    RuntimeControlPlaneError, RuntimeDriverError,
};

pub use super::staging::DslJournalEntry;

/// The future every command returns.
pub type MeerkatMachineCommandFuture<'a> =
    Pin<Box<dyn Future<Output = Result<MeerkatMachineCommandResult, MeerkatMachineCommandError>> + Send + 'a>>;

/// Observes every kernel step the shell commits, in commit order per session (an audit journal; the tests replay
/// it through a fresh authority). It runs under the session's mutation gate, so it must not call back into the
/// machine.
pub trait DslCommitObserver: Send + Sync {
    /// `applied` was committed to `session_id`'s kernel, in this order.
    fn committed(&self, session_id: &SessionId, applied: &[DslJournalEntry]);
}

/// How a staged step ended when it did not complete.
#[derive(Debug)]
pub(crate) enum SessionStepError {
    /// The kernel refused; nothing changed.
    Rejected(DslRejection),
    /// The session is gone, the driver failed (the kernel was rolled back), or the commit's effect dispatch
    /// failed (the kernel state was kept).
    Driver(RuntimeDriverError),
}

impl From<SessionStepError> for RuntimeDriverError {
    fn from(error: SessionStepError) -> Self {
        match error {
            SessionStepError::Rejected(rejection) => rejection.into_driver_error(),
            SessionStepError::Driver(error) => error,
        }
    }
}

/// What a driver step needs besides the effects.
#[derive(Debug, Default)]
pub(crate) struct StepPayload {
    pub(crate) accepted: Vec<Input>,
    pub(crate) run_id: Option<RunId>,
    pub(crate) boundary_sequence: Option<u64>,
}

/// The MeerkatMachine runtime shell: sessions, their kernels, drivers and runtime loops.
pub struct MeerkatMachine {
    pub(crate) sessions: RwLock<HashMap<SessionId, RuntimeSessionEntry>>,
    pub(crate) store: Option<Arc<dyn RuntimeStore>>,
    pub(crate) session_claims: Arc<RuntimeSessionClaimRegistry>,
    composition_signal_dispatcher: StdRwLock<Option<MeerkatCompositionSignalDispatcher>>,
    commit_observer: StdRwLock<Option<Arc<dyn DslCommitObserver>>>,
    pub(crate) next_loop_id: AtomicU64,
}

impl std::fmt::Debug for MeerkatMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeerkatMachine").field("persistent", &self.store.is_some()).finish_non_exhaustive()
    }
}

impl MeerkatMachine {
    fn with_store(store: Option<Arc<dyn RuntimeStore>>) -> Self {
        Self {
            sessions: RwLock::new(HashMap::new()),
            store,
            session_claims: Arc::new(RuntimeSessionClaimRegistry::new()),
            composition_signal_dispatcher: StdRwLock::new(None),
            commit_observer: StdRwLock::new(None),
            next_loop_id: AtomicU64::new(1),
        }
    }

    /// A machine whose sessions live in memory only.
    pub fn ephemeral() -> Self {
        Self::with_store(None)
    }

    /// A machine whose sessions are written through to `store` and recovered from it on registration.
    pub fn persistent(store: Arc<dyn RuntimeStore>) -> Self {
        Self::with_store(Some(store))
    }

    /// Whether sessions are persisted.
    #[must_use]
    pub fn has_runtime_persistence(&self) -> bool {
        self.store.is_some()
    }

    /// Whether this machine persists into `store` (the same store object, or the same durable backing data).
    #[must_use]
    pub fn shares_runtime_store_authority(&self, store: &Arc<dyn RuntimeStore>) -> bool {
        self.store.as_ref().is_some_and(|own| match (own.auth_authority_key(), store.auth_authority_key()) {
            (Some(a), Some(b)) => a == b,
            _ => Arc::ptr_eq(own, store),
        })
    }

    /// The control-plane identity of a session's runtime.
    pub fn logical_runtime_id(session_id: &SessionId) -> LogicalRuntimeId {
        LogicalRuntimeId::new(format!("session:{session_id}"))
    }

    /// The machine-scoped session claim registry.
    pub fn session_claim_handle(&self) -> Arc<RuntimeSessionClaimRegistry> {
        Arc::clone(&self.session_claims)
    }

    /// Installs the dispatcher of the composition routes (MeerkatMachine effects to the supervisor).
    pub fn set_composition_signal_dispatcher(&self, dispatcher: MeerkatCompositionSignalDispatcher) {
        *self.composition_signal_dispatcher.write().unwrap_or_else(PoisonError::into_inner) = Some(dispatcher);
    }

    /// Installs an observer of every committed kernel step.
    pub fn set_dsl_commit_observer(&self, observer: Arc<dyn DslCommitObserver>) {
        *self.commit_observer.write().unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    pub(crate) fn commit_observer(&self) -> Option<Arc<dyn DslCommitObserver>> {
        self.commit_observer.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn journaling(&self) -> bool {
        self.commit_observer.read().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    pub(crate) fn next_loop_id(&self) -> u64 {
        self.next_loop_id.fetch_add(1, Ordering::Relaxed)
    }

    // ----------------------------------------------------------------------------------------------------------
    // Entry lookups (each takes the `sessions` read lock briefly and clones shared handles out).

    pub(crate) fn missing() -> RuntimeDriverError {
        RuntimeDriverError::NotReady { state: RuntimeState::Destroyed }
    }

    /// The kernel's phase of a registered session.
    pub(crate) async fn existing_session_runtime_state(&self, session_id: &SessionId) -> Option<RuntimeState> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| RuntimeState::from_dsl(entry.dsl_phase()))
    }

    /// Fails with `Destroyed` for a destroyed session (DestroyedShapeInvariant: nothing mutates or resurrects it).
    pub(crate) async fn refuse_destroyed(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        match self.existing_session_runtime_state(session_id).await {
            Some(RuntimeState::Destroyed) => Err(RuntimeDriverError::Destroyed),
            _ => Ok(()),
        }
    }

    pub(crate) async fn session_dsl_authority(
        &self,
        session_id: &SessionId,
    ) -> Result<SharedDslAuthority, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| Arc::clone(&entry.dsl_authority)).ok_or_else(Self::missing)
    }

    async fn session_parts(
        &self,
        session_id: &SessionId,
    ) -> Result<(SharedDslAuthority, SharedDriver, SharedCompletionRegistry), RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
        Ok((Arc::clone(&entry.dsl_authority), Arc::clone(&entry.driver), Arc::clone(&entry.completions)))
    }

    /// A copy of a session's kernel state.
    ///
    /// # Errors
    ///
    /// The session is not registered.
    pub async fn session_dsl_state(
        &self,
        session_id: &SessionId,
    ) -> Result<dsl::MeerkatMachineState, RuntimeControlPlaneError> {
        let authority = self.session_dsl_authority(session_id).await?;
        let state = lock_authority(&authority).state().clone();
        Ok(state)
    }

    // ----------------------------------------------------------------------------------------------------------
    // The mutation gate.

    async fn session_mutation_gate(&self, session_id: &SessionId) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| Arc::clone(&entry.mutation_gate))
    }

    /// Locks the session's *current* gate: after the lock is taken the entry is looked up again, and a gate that
    /// no longer belongs to it (the entry was removed or replaced while we waited) is never trusted.
    pub(crate) async fn lock_current_session_mutation_gate(
        &self,
        session_id: &SessionId,
    ) -> Option<OwnedMutexGuard<()>> {
        loop {
            let gate = self.session_mutation_gate(session_id).await?;
            let guard = Arc::clone(&gate).lock_owned().await;
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id)?;
            if Arc::ptr_eq(&entry.mutation_gate, &gate) {
                return Some(guard);
            }
        }
    }

    /// The current gate, as a driver error when the session is missing.
    pub(crate) async fn gate(&self, session_id: &SessionId) -> Result<OwnedMutexGuard<()>, RuntimeDriverError> {
        self.lock_current_session_mutation_gate(session_id).await.ok_or_else(Self::missing)
    }

    /// The current gate, provided the session still uses `driver` (a runtime loop of a replaced entry stops).
    pub(crate) async fn lock_current_session_driver_gate(
        &self,
        session_id: &SessionId,
        driver: &SharedDriver,
    ) -> Result<OwnedMutexGuard<()>, RuntimeDriverError> {
        let guard = self.gate(session_id).await?;
        let sessions = self.sessions.read().await;
        let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
        if !Arc::ptr_eq(&entry.driver, driver) {
            return Err(Self::missing());
        }
        Ok(guard)
    }

    /// The gate for a runtime-loop step: the driver is current and the kernel's registration is active or
    /// draining.
    pub(crate) async fn lock_current_runtime_loop_driver_authority(
        &self,
        session_id: &SessionId,
        driver: &SharedDriver,
    ) -> Result<OwnedMutexGuard<()>, RuntimeDriverError> {
        let guard = self.lock_current_session_driver_gate(session_id, driver).await?;
        let sessions = self.sessions.read().await;
        let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
        if !entry.generated_executor_registration_active_or_draining() {
            return Err(RuntimeDriverError::ValidationFailed {
                reason: "generated MeerkatMachine has no active runtime-loop executor registration".to_owned(),
            });
        }
        Ok(guard)
    }

    // ----------------------------------------------------------------------------------------------------------
    // Stage → driver → commit.

    /// Runs one command step on a registered session whose gate the caller holds: stage `body` on the kernel,
    /// realize the effects in the driver (rolling the kernel back, compare-and-restore, if the driver fails),
    /// then commit (resolve completion waiters, report to the observer, dispatch routed signals). Returns the
    /// body's result and the step's effects.
    pub(crate) async fn run_session_step<R>(
        &self,
        session_id: &SessionId,
        context: &'static str,
        payload: StepPayload,
        body: impl FnOnce(&mut DslTransaction<'_>) -> Result<R, DslRejection>,
    ) -> Result<(R, Vec<dsl::MeerkatMachineEffect>), SessionStepError> {
        let (authority, driver, completions) =
            self.session_parts(session_id).await.map_err(SessionStepError::Driver)?;
        let (staged, result) = stage_dsl_transaction_on_authority(&authority, context, self.journaling(), body)
            .map_err(SessionStepError::Rejected)?;
        let mut driver_guard = driver.lock().await;
        let mutation = DriverMutation {
            effects: &staged.effects,
            accepted: payload.accepted,
            run_id: payload.run_id,
            boundary_sequence: payload.boundary_sequence,
        };
        if let Err(error) = driver_guard.apply_mutation(mutation).await {
            drop(driver_guard);
            let StagedSessionDslInput { previous_snapshot, committed_snapshot, .. } = staged;
            if !restore_dsl_authority_snapshot_if_current(&authority, &committed_snapshot, previous_snapshot) {
                tracing::warn!(%session_id, context, "kernel moved on before the driver failure could be rolled back");
            }
            return Err(SessionStepError::Driver(error));
        }
        drop(driver_guard);
        let effects = staged.effects.clone();
        if let Err(reason) = self.commit_session_dsl_transition(session_id, staged, context, &completions).await {
            // The kernel state stays committed; the driver already mirrors it, re-read it anyway.
            driver.lock().await.sync_control_projection_from_dsl_authority();
            return Err(SessionStepError::Driver(RuntimeDriverError::Internal(reason)));
        }
        Ok((result, effects))
    }

    /// Commits a staged step: reports it to the observer, resolves the completion waiters of inputs it made
    /// terminal, and dispatches the routed signals its effects lift to. A dispatch failure keeps the committed
    /// kernel state and is reported.
    pub(crate) async fn commit_session_dsl_transition(
        &self,
        session_id: &SessionId,
        staged: StagedSessionDslInput,
        context: &str,
        completions: &SharedCompletionRegistry,
    ) -> Result<(), String> {
        if let Some(observer) = self.commit_observer()
            && !staged.journal.is_empty()
        {
            observer.committed(session_id, &staged.journal);
        }
        resolve_terminal_completions(completions, &staged.effects);
        self.dispatch_routed_signals_from_effects(&staged.effects)
            .await
            .map_err(|error| format!("generated MeerkatMachine ({context}): committed effect dispatch failed: {error}"))
    }

    async fn dispatch_routed_signals_from_effects(&self, effects: &[dsl::MeerkatMachineEffect]) -> Result<(), String> {
        let dispatcher = self.composition_signal_dispatcher.read().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(dispatcher) = dispatcher else {
            return Ok(());
        };
        for effect in effects {
            for routed in lift_routed_signal(effect) {
                dispatcher.dispatch(routed).await.map_err(|error| error.to_string())?;
            }
        }
        Ok(())
    }

    /// What `input` would do to the session now, applied to a copy of its state (the live kernel is untouched).
    ///
    /// # Errors
    ///
    /// The session is not registered (`NotReady`), or the kernel refuses (`ValidationFailed`).
    pub async fn preview_session_dsl_input(
        &self,
        session_id: &SessionId,
        input: dsl::MeerkatMachineInput,
    ) -> Result<Vec<dsl::MeerkatMachineEffect>, RuntimeDriverError> {
        let authority = self.session_dsl_authority(session_id).await?;
        let state = lock_authority(&authority).state().clone();
        preview_dsl_input_on_state(&state, input, "PreviewSessionInput").map_err(DslRejection::into_driver_error)
    }

    // ----------------------------------------------------------------------------------------------------------
    // The command reducer.

    /// Runs one command. The ensure-session group needs `self_handle` (it spawns the runtime loop with a weak
    /// reference to the machine); without it that command fails with `Internal`.
    pub fn execute_meerkat_machine_command(
        &self,
        self_handle: Option<Arc<Self>>,
        command: MeerkatMachineCommand,
    ) -> MeerkatMachineCommandFuture<'_> {
        Box::pin(async move {
            match command {
                MeerkatMachineCommand::EnsureSessionWithExecutor { .. } => {
                    let machine = self_handle.ok_or_else(|| {
                        RuntimeDriverError::Internal("EnsureSessionWithExecutor requires an Arc<MeerkatMachine>".into())
                    })?;
                    machine.execute_meerkat_machine_ensure_session_command(command).await.map_err(Into::into)
                }
                MeerkatMachineCommand::RegisterSession { .. }
                | MeerkatMachineCommand::UnregisterSession { .. }
                | MeerkatMachineCommand::SetSilentIntents { .. }
                | MeerkatMachineCommand::CancelAfterBoundary { .. }
                | MeerkatMachineCommand::InterruptCurrentRun { .. }
                | MeerkatMachineCommand::StopRuntimeExecutor { .. }
                | MeerkatMachineCommand::ContainsSession { .. }
                | MeerkatMachineCommand::SessionHasExecutor { .. }
                | MeerkatMachineCommand::PrepareBindings { .. }
                | MeerkatMachineCommand::PrepareLocalSessionBindings { .. }
                | MeerkatMachineCommand::InputState { .. }
                | MeerkatMachineCommand::ListActiveInputs { .. }
                | MeerkatMachineCommand::StagePersistentFilter { .. }
                | MeerkatMachineCommand::RequestDeferredTools { .. }
                | MeerkatMachineCommand::PublishCommittedVisibleSet { .. } => {
                    self.execute_meerkat_machine_session_command(command).await
                }
                MeerkatMachineCommand::Retire { .. }
                | MeerkatMachineCommand::Recycle { .. }
                | MeerkatMachineCommand::Reset { .. }
                | MeerkatMachineCommand::Recover { .. }
                | MeerkatMachineCommand::Destroy { .. }
                | MeerkatMachineCommand::RuntimeState { .. } => {
                    self.execute_meerkat_machine_control_command(command).await.map_err(Into::into)
                }
                MeerkatMachineCommand::AcceptWithCompletion { .. }
                | MeerkatMachineCommand::AcceptWithoutWake { .. } => {
                    self.execute_meerkat_machine_ingress_command(command).await.map_err(Into::into)
                }
            }
        })
    }

    fn driver_error_from_command_error(error: MeerkatMachineCommandError) -> RuntimeDriverError {
        match error {
            MeerkatMachineCommandError::Driver(error) => error,
            MeerkatMachineCommandError::Bindings(error) => RuntimeDriverError::Internal(error.to_string()),
        }
    }

    fn unexpected(command: &str, result: &MeerkatMachineCommandResult) -> RuntimeDriverError {
        RuntimeDriverError::Internal(format!("{command}: unexpected command result {result:?}"))
    }

    async fn run(&self, command: MeerkatMachineCommand) -> Result<MeerkatMachineCommandResult, RuntimeDriverError> {
        self.execute_meerkat_machine_command(None, command).await.map_err(Self::driver_error_from_command_error)
    }

    // ----------------------------------------------------------------------------------------------------------
    // The public API.

    /// Registers a session without an executor: inputs are accepted and queue, nothing drains them until
    /// [`MeerkatMachine::ensure_session_with_executor`]. A persistent machine recovers the session from its store.
    ///
    /// # Errors
    ///
    /// A failed registration is an error, never success: `Destroyed` for a destroyed session, `ValidationFailed`
    /// while the session drains, `RecoveryCorruption` for a store that does not replay.
    pub async fn register_session(&self, session_id: SessionId) -> Result<(), RuntimeControlPlaneError> {
        match self.run(MeerkatMachineCommand::RegisterSession { session_id }).await? {
            MeerkatMachineCommandResult::Unit => Ok(()),
            other => Err(RuntimeControlPlaneError::Internal(format!(
                "register_session: unexpected command result {other:?}"
            ))),
        }
    }

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
        let command = MeerkatMachineCommand::EnsureSessionWithExecutor { session_id, executor };
        match self.execute_meerkat_machine_command(Some(Arc::clone(self)), command).await {
            Ok(MeerkatMachineCommandResult::Unit) => Ok(()),
            Ok(other) => Err(Self::unexpected("ensure_session_with_executor", &other)),
            Err(error) => Err(Self::driver_error_from_command_error(error)),
        }
    }

    /// Unregisters a session: opens the drain window, lets a run in flight commit, waits for the loop to exit,
    /// then closes the window and removes the session. Remaining completion waiters resolve as `Terminated`.
    ///
    /// # Errors
    ///
    /// `Destroyed` for a session that is missing or destroyed; `ValidationFailed` if the kernel refuses.
    pub async fn unregister_session(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        self.run(MeerkatMachineCommand::UnregisterSession { session_id: session_id.clone() })
            .await
            .map(|_| ())
            .map_err(RuntimeDriverError::normalize_destroyed)
    }

    /// Whether the session is registered.
    pub async fn contains_session(&self, session_id: &SessionId) -> bool {
        matches!(
            self.run(MeerkatMachineCommand::ContainsSession { session_id: session_id.clone() }).await,
            Ok(MeerkatMachineCommandResult::Bool(true))
        )
    }

    /// Whether the session has an executor attached.
    pub async fn session_has_executor(&self, session_id: &SessionId) -> bool {
        matches!(
            self.run(MeerkatMachineCommand::SessionHasExecutor { session_id: session_id.clone() }).await,
            Ok(MeerkatMachineCommandResult::Bool(true))
        )
    }

    /// Accepts an input, wakes the runtime loop and returns a completion handle that resolves exactly once.
    ///
    /// # Errors
    ///
    /// As the kernel's ingress column says: `ValidationFailed` where input is admitted (a duplicate id, a
    /// retiring run), `NotReady` where it is not, `Destroyed`.
    pub async fn accept_input_with_completion(
        &self,
        session_id: &SessionId,
        input: Input,
    ) -> Result<(AcceptOutcome, CompletionHandle), RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::AcceptWithCompletion { session_id: session_id.clone(), input }).await? {
            MeerkatMachineCommandResult::Accepted { outcome, completion: Some(completion) } => {
                Ok((outcome, completion))
            }
            other => Err(Self::unexpected("accept_input_with_completion", &other)),
        }
    }

    /// Accepts an input without waking the runtime loop (it drains at the next wake).
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::accept_input_with_completion`].
    pub async fn accept_input_without_wake(
        &self,
        session_id: &SessionId,
        input: Input,
    ) -> Result<AcceptOutcome, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::AcceptWithoutWake { session_id: session_id.clone(), input }).await? {
            MeerkatMachineCommandResult::Accepted { outcome, .. } => Ok(outcome),
            other => Err(Self::unexpected("accept_input_without_wake", &other)),
        }
    }

    /// Asks the run in flight to stop at its next boundary.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `NotReady` when no runtime loop is live.
    pub async fn cancel_after_boundary(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        self.run(MeerkatMachineCommand::CancelAfterBoundary { session_id: session_id.clone() }).await.map(|_| ())
    }

    /// Interrupts the run in flight at once; its inputs are abandoned as cancelled.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `NotReady` with the current state when no run is in flight or no loop is live.
    pub async fn hard_cancel_current_run(
        &self,
        session_id: &SessionId,
        reason: impl Into<String>,
    ) -> Result<(), RuntimeDriverError> {
        self.run(MeerkatMachineCommand::InterruptCurrentRun { session_id: session_id.clone(), reason: reason.into() })
            .await
            .map(|_| ())
    }

    /// Stops the executor: at once (pending inputs are abandoned as `Stopped` and the loop detaches), or when the
    /// run in flight finishes.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `ValidationFailed` where the kernel refuses.
    pub async fn stop_runtime_executor(
        &self,
        session_id: &SessionId,
        reason: impl Into<String>,
    ) -> Result<(), RuntimeDriverError> {
        self.run(MeerkatMachineCommand::StopRuntimeExecutor { session_id: session_id.clone(), reason: reason.into() })
            .await
            .map(|_| ())
    }

    /// Replaces the silent comms intents (the driver applies them unless the session is stopped).
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, or the kernel's refusal.
    pub async fn set_session_silent_intents(
        &self,
        session_id: &SessionId,
        intents: Vec<String>,
    ) -> Result<(), RuntimeDriverError> {
        self.run(MeerkatMachineCommand::SetSilentIntents { session_id: session_id.clone(), intents }).await.map(|_| ())
    }

    /// Retires the session (at once, or after the run in flight).
    ///
    /// # Errors
    ///
    /// `Destroyed` (also for a missing session); `ValidationFailed` where the kernel refuses (already retired).
    pub async fn retire(&self, session_id: &SessionId) -> Result<RetireReport, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::Retire { session_id: session_id.clone() }).await {
            Ok(MeerkatMachineCommandResult::Retired(report)) => Ok(report),
            Ok(other) => Err(Self::unexpected("retire", &other)),
            Err(error) => Err(error.normalize_destroyed()),
        }
    }

    /// Resets the runtime: live inputs are abandoned as `Reset`, then a new epoch starts (handles of the old
    /// epoch close).
    ///
    /// # Errors
    ///
    /// `Destroyed`; `ValidationFailed` where the kernel refuses (a run in flight).
    pub async fn reset(&self, session_id: &SessionId) -> Result<ResetReport, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::Reset { session_id: session_id.clone() }).await {
            Ok(MeerkatMachineCommandResult::Reset(report)) => Ok(report),
            Ok(other) => Err(Self::unexpected("reset", &other)),
            Err(error) => Err(error.normalize_destroyed()),
        }
    }

    /// Rebuilds the runtime, keeping queued work.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `ValidationFailed` where the kernel refuses (a run in flight).
    pub async fn recycle(&self, session_id: &SessionId) -> Result<RecycleReport, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::Recycle { session_id: session_id.clone() }).await {
            Ok(MeerkatMachineCommandResult::Recycled(report)) => Ok(report),
            Ok(other) => Err(Self::unexpected("recycle", &other)),
            Err(error) => Err(error.normalize_destroyed()),
        }
    }

    /// Destroys the session for good: live inputs are abandoned as `Destroyed`, a run in flight is cancelled,
    /// the loop detaches and the session's handles close. The entry stays as a tombstone so nothing resurrects it.
    ///
    /// # Errors
    ///
    /// `Destroyed` when it already is (or is missing).
    pub async fn destroy(&self, session_id: &SessionId) -> Result<DestroyReport, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::Destroy { session_id: session_id.clone() }).await {
            Ok(MeerkatMachineCommandResult::Destroyed(report)) => Ok(report),
            Ok(other) => Err(Self::unexpected("destroy", &other)),
            Err(error) => Err(error.normalize_destroyed()),
        }
    }

    /// Recovers a session: an unregistered one is rebuilt from the store (the stored phase is replayed through
    /// the kernel); a registered one re-reads its queue and wakes its loop.
    ///
    /// # Errors
    ///
    /// `RecoveryCorruption` when stored state does not replay; `Destroyed`.
    pub async fn recover(&self, session_id: &SessionId) -> Result<RecoveryReport, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::Recover { session_id: session_id.clone() }).await {
            Ok(MeerkatMachineCommandResult::Recovered(report)) => Ok(report),
            Ok(other) => Err(Self::unexpected("recover", &other)),
            Err(error) => Err(error),
        }
    }

    /// The session's visible runtime state, arbitrated by the kernel between its phase and the control
    /// projection.
    ///
    /// # Errors
    ///
    /// `Destroyed` for a missing session.
    pub async fn runtime_state(&self, session_id: &SessionId) -> Result<RuntimeState, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::RuntimeState { session_id: session_id.clone() }).await {
            Ok(MeerkatMachineCommandResult::RuntimeState(state)) => Ok(state),
            Ok(other) => Err(Self::unexpected("runtime_state", &other)),
            Err(error) => Err(error.normalize_destroyed()),
        }
    }

    /// Binds the session to its own logical runtime and mints its bindings (registering it if needed).
    ///
    /// # Errors
    ///
    /// `PrepareFailed` (destroyed, stopped, bound to another runtime, ...).
    pub async fn prepare_bindings(
        &self,
        session_id: &SessionId,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        self.prepare_bindings_command(MeerkatMachineCommand::PrepareBindings {
            session_id: session_id.clone(),
            runtime_id: None,
        })
        .await
    }

    /// Binds the session to `runtime_id` and mints its bindings. A session bound to another runtime is refused.
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::prepare_bindings`].
    pub async fn prepare_bindings_for_runtime(
        &self,
        session_id: &SessionId,
        runtime_id: LogicalRuntimeId,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        self.prepare_bindings_command(MeerkatMachineCommand::PrepareBindings {
            session_id: session_id.clone(),
            runtime_id: Some(runtime_id),
        })
        .await
    }

    /// Mints the session-local bindings without an authoritative runtime binding.
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::prepare_bindings`].
    pub async fn prepare_local_session_bindings(
        &self,
        session_id: &SessionId,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        self.prepare_bindings_command(MeerkatMachineCommand::PrepareLocalSessionBindings {
            session_id: session_id.clone(),
        })
        .await
    }

    async fn prepare_bindings_command(
        &self,
        command: MeerkatMachineCommand,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        let session_id = match &command {
            MeerkatMachineCommand::PrepareBindings { session_id, .. }
            | MeerkatMachineCommand::PrepareLocalSessionBindings { session_id } => session_id.clone(),
            _ => SessionId::new(""),
        };
        match self.execute_meerkat_machine_command(None, command).await {
            Ok(MeerkatMachineCommandResult::Bindings(bindings)) => Ok(bindings),
            Ok(other) => {
                Err(RuntimeBindingsError::PrepareFailed(session_id, format!("unexpected command result {other:?}")))
            }
            Err(MeerkatMachineCommandError::Bindings(error)) => Err(error),
            Err(MeerkatMachineCommandError::Driver(error)) => {
                Err(RuntimeBindingsError::PrepareFailed(session_id, error.to_string()))
            }
        }
    }

    /// Whether `bindings` are live bindings of this machine's session: prepared for the session's current
    /// kernel (by owner token) and current epoch.
    pub async fn validate_session_bindings(
        &self,
        bindings: &SessionRuntimeBindings,
    ) -> Result<(), RuntimeBindingsError> {
        let session_id = bindings.session_id();
        let sessions = self.sessions.read().await;
        let entry =
            sessions.get(session_id).ok_or_else(|| RuntimeBindingsError::SessionNotFound(session_id.clone()))?;
        let token = lock_authority(&entry.dsl_authority).generated_authority_owner_token();
        if !bindings.runtime_authority().is_for_authority(&token) {
            return Err(RuntimeBindingsError::PrepareFailed(
                session_id.clone(),
                "bindings were minted for another authority".into(),
            ));
        }
        if bindings.epoch_id() != &entry.epoch_id || entry.handle_teardown_gate.is_closed() {
            return Err(RuntimeBindingsError::PrepareFailed(
                session_id.clone(),
                "bindings belong to a past epoch".into(),
            ));
        }
        Ok(())
    }

    /// One input's stored state.
    ///
    /// # Errors
    ///
    /// A missing session.
    pub async fn input_state(
        &self,
        session_id: &SessionId,
        input_id: &InputId,
    ) -> Result<Option<InputStateSeed>, RuntimeDriverError> {
        match self
            .run(MeerkatMachineCommand::InputState { session_id: session_id.clone(), input_id: input_id.clone() })
            .await?
        {
            MeerkatMachineCommandResult::InputState(state) => Ok(state),
            other => Err(Self::unexpected("input_state", &other)),
        }
    }

    /// The inputs that are not terminal, in admission order.
    ///
    /// # Errors
    ///
    /// A missing session.
    pub async fn list_active_inputs(&self, session_id: &SessionId) -> Result<Vec<InputId>, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::ListActiveInputs { session_id: session_id.clone() }).await? {
            MeerkatMachineCommandResult::ActiveInputs(ids) => Ok(ids),
            other => Err(Self::unexpected("list_active_inputs", &other)),
        }
    }

    /// Stages a tool filter; returns the revision the kernel minted.
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, or the kernel's refusal.
    pub async fn stage_persistent_filter(
        &self,
        session_id: &SessionId,
        filter: dsl::ToolFilter,
    ) -> Result<u64, RuntimeDriverError> {
        match self.run(MeerkatMachineCommand::StagePersistentFilter { session_id: session_id.clone(), filter }).await? {
            MeerkatMachineCommandResult::VisibilityRevision(revision) => Ok(revision),
            other => Err(Self::unexpected("stage_persistent_filter", &other)),
        }
    }

    /// Requests deferred tools with their witnesses; returns the revision the kernel minted.
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, or the kernel's refusal (no witness).
    pub async fn request_deferred_tools(
        &self,
        session_id: &SessionId,
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    ) -> Result<u64, RuntimeDriverError> {
        match self
            .run(MeerkatMachineCommand::RequestDeferredTools { session_id: session_id.clone(), authorities })
            .await?
        {
            MeerkatMachineCommandResult::VisibilityRevision(revision) => Ok(revision),
            other => Err(Self::unexpected("request_deferred_tools", &other)),
        }
    }

    /// Commits a visible set; the kernel's guards (VisibleSurfacesMatchAppliedState) decide.
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, `ValidationFailed` for a set the kernel refuses or unknown witnesses.
    pub async fn publish_committed_visible_set(
        &self,
        session_id: &SessionId,
        visibility_state: SessionToolVisibilityState,
    ) -> Result<SessionToolVisibilityState, RuntimeDriverError> {
        match self
            .run(MeerkatMachineCommand::PublishCommittedVisibleSet {
                session_id: session_id.clone(),
                visibility_state: Box::new(visibility_state),
            })
            .await?
        {
            MeerkatMachineCommandResult::VisibilityPublished(state) => Ok(state),
            other => Err(Self::unexpected("publish_committed_visible_set", &other)),
        }
    }

    /// The visible runtime state of an entry, arbitrated by the kernel.
    pub(crate) fn visible_runtime_state(
        &self,
        entry: &RuntimeSessionEntry,
    ) -> Result<RuntimeState, RuntimeDriverError> {
        let (phase, pre_run) = {
            let authority = lock_authority(&entry.dsl_authority);
            (authority.state().lifecycle_phase, authority.state().pre_run_phase)
        };
        let control = entry.control_snapshot();
        resolve_visible_runtime_phase(
            RuntimeState::from_dsl(phase),
            pre_run.map(RuntimeState::from_dsl),
            control.phase,
            control.pre_run_phase,
            self.has_runtime_persistence(),
        )
        .map(|plan| plan.visible_phase)
        .map_err(|error| RuntimeDriverError::Internal(error.to_string()))
    }
}

/// Resolves the waiters of every input a step made terminal, with the outcome the kernel classifies.
pub(crate) fn resolve_terminal_completions(
    completions: &SharedCompletionRegistry,
    effects: &[dsl::MeerkatMachineEffect],
) {
    let mut registry: Option<std::sync::MutexGuard<'_, CompletionRegistry>> = None;
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
        Some(dsl::InputTerminalKind::Consumed) => Some(crate::input::InputTerminalOutcome::Consumed),
        Some(dsl::InputTerminalKind::Abandoned) => {
            reason.map(|reason| crate::input::InputTerminalOutcome::Abandoned { reason })
        }
        Some(dsl::InputTerminalKind::Superseded) => {
            Some(crate::input::InputTerminalOutcome::Superseded { superseded_by: InputId::new("") })
        }
        Some(dsl::InputTerminalKind::Coalesced) => {
            Some(crate::input::InputTerminalOutcome::Coalesced { aggregate_id: String::new() })
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
