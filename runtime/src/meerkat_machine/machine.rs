//! [`MeerkatMachine`], the runtime shell: the struct and its configuration, the entry lookups, the per-session
//! mutation gate, and the stage → driver → commit step every mutating operation runs. The public operations live
//! with their group (`session`, `recovery`, `control`, `ingress`, `bindings`, `tool_visibility`), and executor
//! attachment and the runtime loop's steps with the loop (`crate::runtime_loop`); each of them changes a session's
//! kernel only through [`MeerkatMachine::run_session_step`], under the session's gate.
//!
//! Lock order, outermost first: a session's mutation gate (tokio, held across a whole operation), the `sessions`
//! map (tokio `RwLock`, held only to look an entry up or change it, never across a driver await), the session's
//! driver (tokio `Mutex`), and innermost the session's kernel (`std::sync::Mutex`, never held across an
//! `.await`). No code takes an outer lock while holding an inner one. Every std lock recovers from poison.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use tokio::sync::{OwnedMutexGuard, RwLock};
use tracing::Instrument;

use super::composition::MeerkatCompositionSignalDispatcher;
use super::entry::RuntimeSessionEntry;
use super::staging::{DslJournalEntry, DslTransaction, preview_dsl_input_on_authority};
use super::step::{SessionParts, StepCommitters};
pub(crate) use super::step::{SessionStepError, StepPayload};

use crate::driver::SharedDriver;
use crate::epoch::{EpochCursorState, RuntimeEpochId};
use crate::error::{KernelRejection, RuntimeControlPlaneError, RuntimeDriverError};
use crate::handles::RuntimeSessionClaimRegistry;
use crate::identifiers::{LogicalRuntimeId, SessionId};
use crate::kernel::glue::{SharedDslAuthority, lock_authority};
use crate::kernel::meerkat_machine as dsl;
use crate::observability::{RuntimeCounters, RuntimeCountersSnapshot};
use crate::options::RuntimeOptions;
use crate::runtime_state::RuntimeState;
use crate::store::{OpsLifecycleSnapshot, RuntimeStore};
use crate::visibility::MachineToolVisibilityOwner;

/// The prefix of a session's logical runtime id (`session:<session id>`).
pub(crate) const SESSION_RUNTIME_PREFIX: &str = "session:";

/// Observes every kernel step the shell commits, in commit order per session (an audit journal; the tests replay
/// it through a fresh authority). It runs under the session's mutation gate, so it must not call back into the
/// machine.
pub trait DslCommitObserver: Send + Sync {
    /// `applied` was committed to `session_id`'s kernel, in this order.
    fn committed(&self, session_id: &SessionId, applied: &[DslJournalEntry]);
}

/// The MeerkatMachine runtime shell: sessions, their kernels, drivers and runtime loops.
pub struct MeerkatMachine {
    pub(crate) sessions: RwLock<HashMap<SessionId, RuntimeSessionEntry>>,
    pub(crate) store: Option<Arc<dyn RuntimeStore>>,
    pub(crate) session_claims: Arc<RuntimeSessionClaimRegistry>,
    pub(crate) committers: Arc<StepCommitters>,
    next_loop_id: AtomicU64,
    pub(crate) options: RuntimeOptions,
    pub(crate) counters: Arc<RuntimeCounters>,
    /// Set by `shutdown`: no new sessions or inputs.
    pub(crate) shut_down: AtomicBool,
}

impl std::fmt::Debug for MeerkatMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeerkatMachine").field("persistent", &self.store.is_some()).finish_non_exhaustive()
    }
}

impl MeerkatMachine {
    fn with_store(store: Option<Arc<dyn RuntimeStore>>, options: RuntimeOptions) -> Self {
        Self {
            sessions: RwLock::new(HashMap::new()),
            store,
            session_claims: Arc::new(RuntimeSessionClaimRegistry::new()),
            committers: Arc::new(StepCommitters::default()),
            next_loop_id: AtomicU64::new(1),
            options,
            counters: Arc::new(RuntimeCounters::new()),
            shut_down: AtomicBool::new(false),
        }
    }

    /// A machine whose sessions live in memory only, with the default [`RuntimeOptions`].
    pub fn ephemeral() -> Self {
        Self::with_store(None, RuntimeOptions::DEFAULT)
    }

    /// A machine whose sessions live in memory only, with the bounds of `options`.
    pub fn ephemeral_with_options(options: RuntimeOptions) -> Self {
        Self::with_store(None, options)
    }

    /// A machine whose sessions are written through to `store` and recovered from it on registration, with the
    /// default [`RuntimeOptions`].
    pub fn persistent(store: Arc<dyn RuntimeStore>) -> Self {
        Self::with_store(Some(store), RuntimeOptions::DEFAULT)
    }

    /// A persistent machine with the bounds of `options`.
    pub fn persistent_with_options(store: Arc<dyn RuntimeStore>, options: RuntimeOptions) -> Self {
        Self::with_store(Some(store), options)
    }

    /// The machine's counters (accepted, applied, rejected by reason, runs, queue depth), for an exporter.
    #[must_use]
    pub fn counters(&self) -> RuntimeCountersSnapshot {
        self.counters.snapshot()
    }

    /// The per-session bounds this machine keeps.
    #[must_use]
    pub fn options(&self) -> &RuntimeOptions {
        &self.options
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
        LogicalRuntimeId::new(format!("{SESSION_RUNTIME_PREFIX}{session_id}"))
    }

    /// The machine-scoped session claim registry.
    pub fn session_claim_handle(&self) -> Arc<RuntimeSessionClaimRegistry> {
        Arc::clone(&self.session_claims)
    }

    /// Installs the dispatcher of the composition routes (MeerkatMachine effects to the supervisor).
    pub fn set_composition_signal_dispatcher(&self, dispatcher: MeerkatCompositionSignalDispatcher) {
        *self.committers.dispatcher.write().unwrap_or_else(PoisonError::into_inner) = Some(dispatcher);
    }

    /// Installs an observer of every committed kernel step.
    pub fn set_dsl_commit_observer(&self, observer: Arc<dyn DslCommitObserver>) {
        *self.committers.observer.write().unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    pub(crate) fn commit_observer(&self) -> Option<Arc<dyn DslCommitObserver>> {
        self.committers.commit_observer()
    }

    pub(crate) fn journaling(&self) -> bool {
        self.committers.journaling()
    }

    pub(crate) fn next_loop_id(&self) -> u64 {
        self.next_loop_id.fetch_add(1, Ordering::Relaxed)
    }

    // ----------------------------------------------------------------------------------------------------------
    // Entry lookups (each takes the `sessions` read lock briefly and clones shared handles out).

    /// The error of a session that is not registered: `UnknownSession`, from every method.
    pub(crate) fn missing(session_id: &SessionId) -> RuntimeDriverError {
        RuntimeDriverError::unknown_session(session_id)
    }

    /// Refuses new sessions and inputs once the machine was shut down.
    pub(crate) fn refuse_shut_down(&self) -> Result<(), RuntimeDriverError> {
        if self.shut_down.load(Ordering::Acquire) { Err(RuntimeDriverError::ShutDown) } else { Ok(()) }
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

    /// The session exists (`UnknownSession` otherwise) and is not destroyed (`Destroyed`).
    pub(crate) async fn require_live_session(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        match self.existing_session_runtime_state(session_id).await {
            None => Err(Self::missing(session_id)),
            Some(RuntimeState::Destroyed) => Err(RuntimeDriverError::Destroyed),
            Some(_) => Ok(()),
        }
    }

    /// The session's kernel.
    pub(crate) async fn session_dsl_authority(
        &self,
        session_id: &SessionId,
    ) -> Result<SharedDslAuthority, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| Arc::clone(&entry.dsl_authority)).ok_or_else(|| Self::missing(session_id))
    }

    /// The session's driver.
    pub(crate) async fn session_driver(&self, session_id: &SessionId) -> Result<SharedDriver, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| Arc::clone(&entry.driver)).ok_or_else(|| Self::missing(session_id))
    }

    /// The session's tool-visibility owner.
    pub(crate) async fn visibility_owner(
        &self,
        session_id: &SessionId,
    ) -> Result<Arc<MachineToolVisibilityOwner>, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        sessions
            .get(session_id)
            .map(|entry| Arc::clone(&entry.tool_visibility_owner))
            .ok_or_else(|| Self::missing(session_id))
    }

    pub(crate) async fn session_parts(&self, session_id: &SessionId) -> Result<SessionParts, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
        Ok(SessionParts {
            authority: Arc::clone(&entry.dsl_authority),
            driver: Arc::clone(&entry.driver),
            completions: Arc::clone(&entry.completions),
        })
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

    /// What `input` would do to the session now, applied in a kernel transaction that is undone before the lock is
    /// released (the live kernel is observably untouched).
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
        preview_dsl_input_on_authority(&authority, input, "PreviewSessionInput").map_err(RuntimeDriverError::from)
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
        self.lock_current_session_mutation_gate(session_id).await.ok_or_else(|| Self::missing(session_id))
    }

    /// The current gate, provided the session still uses `driver` (a runtime loop of a replaced entry stops).
    pub(crate) async fn lock_current_session_driver_gate(
        &self,
        session_id: &SessionId,
        driver: &SharedDriver,
    ) -> Result<OwnedMutexGuard<()>, RuntimeDriverError> {
        let guard = self.gate(session_id).await?;
        let sessions = self.sessions.read().await;
        let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
        if !Arc::ptr_eq(&entry.driver, driver) {
            return Err(Self::missing(session_id));
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
        let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
        if !entry.generated_executor_registration_active_or_draining() {
            return Err(RuntimeDriverError::validation(
                "generated MeerkatMachine has no active runtime-loop executor registration",
            ));
        }
        Ok(guard)
    }

    // ----------------------------------------------------------------------------------------------------------
    // Stage → driver → commit.

    /// Runs one step on a registered session whose gate the caller holds: stage `body` on the kernel, realize
    /// the effects in the driver (rolling the kernel back, compare-and-restore, if the driver fails), then commit
    /// (resolve completion waiters, report to the observer, dispatch routed signals). Returns the body's result
    /// and the step's effects. This is the only place a session's kernel is changed outside its construction.
    ///
    /// Inputs the step made terminal are then forgotten (the bounded ledger): their outcome was published to
    /// their waiters and persisted by the driver, so a second step applies `ForgetInput` to each, and the
    /// driver moves them into its dedupe window. A refused or failed forget keeps the records (they are still
    /// correct, only not yet compacted) and is logged.
    pub(crate) async fn run_session_step<R>(
        &self,
        session_id: &SessionId,
        context: &'static str,
        payload: StepPayload,
        body: impl FnOnce(&mut DslTransaction<'_>) -> Result<R, KernelRejection>,
    ) -> Result<(R, Vec<dsl::MeerkatMachineEffect>), SessionStepError> {
        let span = tracing::debug_span!(
            "session_step",
            session_id = %session_id,
            transition = context,
            input_id = tracing::field::Empty,
            run_id = tracing::field::Empty,
        );
        if !span.is_disabled() {
            if let [input] = payload.accepted.as_slice() {
                span.record("input_id", tracing::field::display(&input.id));
            }
            if let Some(run_id) = &payload.run_id {
                span.record("run_id", tracing::field::display(run_id));
            }
        }
        let step = async {
            let parts = self.session_parts(session_id).await.map_err(SessionStepError::Driver)?;
            self.committers.run(session_id, &parts, context, payload, body).await
        };
        step.instrument(span).await
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
}
