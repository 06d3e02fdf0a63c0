//! Building a session's entry, and recovery: cold recovery rebuilds an unregistered session from the store (its
//! stored inputs are authorized and re-admitted, and its stored phase is replayed through the kernel, never
//! written into its state); warm recovery of a registered session re-reads its queue and wakes its loop. An entry
//! is built outside the `sessions` lock and inserted only if no other task inserted one meanwhile.

use std::sync::Arc;

use super::entry::{RuntimeLoopAttachmentSlot, RuntimeSessionEntry};
use super::machine::{MeerkatMachine, SESSION_RUNTIME_PREFIX};
use super::staging::{DslJournalEntry, DslTransaction, stage_dsl_transaction_on_authority};
use crate::completion::CompletionRegistry;
use crate::driver::{DriverEntry, EphemeralRuntimeDriver, PersistentRuntimeDriver};
use crate::epoch::{EpochCursorState, RuntimeEpochId};
use crate::error::{IdKind, KernelRejection, RuntimeDriverError};
use crate::handles::HandleTeardownGate;
use crate::identifiers::{InputId, LogicalRuntimeId, SessionId};
use crate::input::InputLifecycleState;
use crate::kernel::classify::authorize_stored_input_state_seed;
use crate::kernel::glue::{SharedDslAuthority, lock_authority, new_shared_authority};
use crate::kernel::meerkat_machine as dsl;
use crate::report::RecoveryReport;
use crate::runtime_state::{RuntimeControlProjection, RuntimeState};
use crate::store::{RuntimeStoreCommit, RuntimeStoreError, StoredInput};
use crate::visibility::MachineToolVisibilityOwner;

/// A session entry built outside the `sessions` lock, with what recovery found.
struct BuiltSession {
    entry: RuntimeSessionEntry,
    journal: Vec<DslJournalEntry>,
    report: RecoveryReport,
}

/// Replays a recovered runtime phase through the kernel (never written into its state directly): `Retired`,
/// `Stopped` and `Destroyed` are replayed by the input that leads there; `Idle` and `Attached` need nothing, since
/// no executor survives a restart. No run survives one either, and the driver never stores `Running` (its durable
/// class is another phase), so a stored `Running` contradicts the store and is refused.
fn replay_recovered_runtime_phase(
    tx: &mut DslTransaction<'_>,
    session_id: &dsl::SessionId,
    recovered: RuntimeState,
) -> Result<(), KernelRejection> {
    if RuntimeState::from_dsl(tx.state().lifecycle_phase) == recovered {
        return Ok(());
    }
    let input = match recovered {
        RuntimeState::Retired => dsl::MeerkatMachineInput::Retire { session_id: session_id.clone() },
        RuntimeState::Stopped => {
            dsl::MeerkatMachineInput::StopRuntimeExecutor { reason: "recovered stopped runtime".to_owned() }
        }
        RuntimeState::Destroyed => dsl::MeerkatMachineInput::Destroy { session_id: session_id.clone() },
        RuntimeState::Running => return Err(tx.refuse("a stored `Running` state: no run survives a restart")),
        RuntimeState::Initializing | RuntimeState::Idle | RuntimeState::Attached => return Ok(()),
    };
    tx.apply(input).map(|_| ())
}

/// The kernel a session recovers into: the initial state, with the next visibility revision the store recorded
/// (revisions are never minted twice), admitted by the kernel's own invariant check.
fn recovered_authority(
    session_id: &SessionId,
    next_visibility_revision: Option<u64>,
) -> Result<SharedDslAuthority, RuntimeDriverError> {
    let Some(next) = next_visibility_revision else {
        return Ok(new_shared_authority());
    };
    let mut state = dsl::MeerkatMachineState::initial();
    if next < state.next_staged_visibility_revision {
        return Err(RuntimeDriverError::RecoveryCorruption {
            reason: format!("store corruption: session '{session_id}' records next visibility revision {next}"),
        });
    }
    state.next_staged_visibility_revision = next;
    let authority = dsl::MeerkatMachineAuthority::recover_from_state(state).map_err(|error| {
        RuntimeDriverError::RecoveryCorruption {
            reason: format!("store corruption: session '{session_id}' does not recover through the kernel: {error}"),
        }
    })?;
    Ok(Arc::new(std::sync::Mutex::new(authority)))
}

/// Every stored input carries an admission sequence, no two the same, none at `u64::MAX` (the next input's
/// sequence could not be minted after it) and none at or past the stored next sequence; anything else
/// contradicts the store.
fn check_admission_sequences(
    session_id: &SessionId,
    inputs: &[StoredInput],
    next_admission_sequence: Option<u64>,
) -> Result<(), RuntimeDriverError> {
    let corrupt = |input_id: &InputId, what: String| RuntimeDriverError::RecoveryCorruption {
        reason: format!("store corruption: stored input '{input_id}' of session '{session_id}' has {what}"),
    };
    let mut seen = std::collections::HashSet::with_capacity(inputs.len());
    for stored in inputs {
        let id = &stored.input.id;
        match stored.seed.admission_sequence {
            None => return Err(corrupt(id, "no admission sequence".to_owned())),
            Some(u64::MAX) => return Err(corrupt(id, "the admission sequence u64::MAX".to_owned())),
            Some(sequence) if !seen.insert(sequence) => {
                return Err(corrupt(id, format!("admission sequence {sequence}, which another stored input has")));
            }
            Some(sequence) if next_admission_sequence.is_some_and(|next| sequence >= next) => {
                return Err(corrupt(id, format!("admission sequence {sequence}, past the stored next one")));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

impl MeerkatMachine {
    /// Recovers a session: an unregistered one is rebuilt from the store (the stored phase is replayed through
    /// the kernel); a registered one re-reads its queue and wakes its loop.
    ///
    /// # Errors
    ///
    /// `RecoveryCorruption` when stored state does not replay; `Destroyed`.
    pub async fn recover(&self, session_id: &SessionId) -> Result<RecoveryReport, RuntimeDriverError> {
        self.refuse_destroyed(session_id).await?;
        if self.contains_session(session_id).await {
            return self.recover_registered_session(session_id).await;
        }
        let report = match self.ensure_session_entry(session_id).await? {
            Some(report) => report,
            None => self.recover_registered_session(session_id).await?,
        };
        // A session recovered as destroyed stays a tombstone, and recovering it is an error like registering it.
        self.refuse_destroyed(session_id).await?;
        Ok(report)
    }

    /// Recovers every session the store holds (cold recovery of each one not registered yet), in the store's
    /// order. Each session's outcome stands alone: a session whose rows are corrupt is `RecoveryCorruption` in
    /// its own entry and the others still recover. A stored runtime that is not a session's is reported as
    /// `RecoveryCorruption` under the id it has.
    ///
    /// # Errors
    ///
    /// `Internal` when the machine has no store or the store cannot list its runtimes.
    pub async fn recover_stored_sessions(
        &self,
    ) -> Result<Vec<(SessionId, Result<RecoveryReport, RuntimeDriverError>)>, RuntimeDriverError> {
        let Some(store) = &self.store else {
            return Err(RuntimeDriverError::Internal("an ephemeral machine has no store to recover from".to_owned()));
        };
        let runtimes = store.list_runtimes().await.map_err(|error| match error {
            RuntimeStoreError::Corrupt { row, reason } => RuntimeDriverError::RecoveryCorruption {
                reason: format!("store corruption: {row} is refused: {reason}"),
            },
            error => RuntimeDriverError::Internal(format!("failed to list the stored runtimes: {error}")),
        })?;
        let mut outcomes = Vec::with_capacity(runtimes.len());
        for runtime_id in runtimes {
            let Some(session) = runtime_id.as_str().strip_prefix(SESSION_RUNTIME_PREFIX) else {
                outcomes.push((
                    SessionId::new(runtime_id.as_str()),
                    Err(RuntimeDriverError::RecoveryCorruption {
                        reason: format!("store corruption: stored runtime '{runtime_id}' is not a session's"),
                    }),
                ));
                continue;
            };
            let session_id = SessionId::new(session);
            let outcome = self.recover(&session_id).await;
            outcomes.push((session_id, outcome));
        }
        Ok(outcomes)
    }

    /// Builds a session's entry without touching the `sessions` map: a kernel claimed for the session, stored
    /// inputs and the stored phase replayed through it (a persistent machine), the driver, and the epoch.
    async fn build_session_entry(&self, session_id: &SessionId) -> Result<BuiltSession, RuntimeDriverError> {
        let runtime_id = Self::logical_runtime_id(session_id);
        let stored = match &self.store {
            Some(store) => store.load_runtime(&runtime_id).await.map_err(|error| match error {
                RuntimeStoreError::Corrupt { row, reason } => RuntimeDriverError::RecoveryCorruption {
                    reason: format!("store corruption: session '{session_id}': {row} is refused: {reason}"),
                },
                error => RuntimeDriverError::Internal(format!("failed to load runtime {runtime_id}: {error}")),
            })?,
            None => None,
        };
        let stored_state = stored.as_ref().and_then(|stored| stored.runtime_state);
        let (next_admission_sequence, next_visibility_revision, silent_intents) = match &stored {
            Some(stored) => {
                (stored.next_admission_sequence, stored.next_visibility_revision, stored.silent_intents.clone())
            }
            None => (None, None, None),
        };
        let mut inputs: Vec<StoredInput> = stored.map(|stored| stored.inputs).unwrap_or_default();
        check_admission_sequences(session_id, &inputs, next_admission_sequence)?;
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
        let authority = recovered_authority(session_id, next_visibility_revision)?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let live: Vec<InputId> =
            inputs.iter().filter(|stored| !stored.seed.is_terminal()).map(|stored| stored.input.id.clone()).collect();
        let (staged, ()) = stage_dsl_transaction_on_authority(
            &authority,
            "RecoverRuntimeState(Session)",
            self.journaling(),
            |tx| {
                tx.apply(dsl::MeerkatMachineInput::RegisterSession { session_id: dsl_session.clone() })?;
                if let Some(intents) = &silent_intents {
                    tx.apply(dsl::MeerkatMachineInput::SetSilentIntents {
                        session_id: dsl_session.clone(),
                        intents: intents.iter().cloned().collect(),
                    })?;
                }
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
        self.evict_beyond_the_window(&runtime_id, &inputs).await?;
        let inputs_recovered = inputs.len();
        let projection = RuntimeControlProjection::from_dsl_state(lock_authority(&authority).state());
        let runtime_state = projection.phase;
        let control_projection = Arc::new(std::sync::RwLock::new(projection));
        let mut core = EphemeralRuntimeDriver::new(
            runtime_id.clone(),
            Arc::clone(&control_projection),
            Arc::clone(&authority),
            &self.options,
            Arc::clone(&self.counters),
        );
        core.restore_recovered(inputs, stored_state, next_admission_sequence, silent_intents);
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
            draining_loop: Arc::default(),
        };
        Ok(BuiltSession {
            entry,
            journal: staged.journal,
            report: RecoveryReport { cold: true, stored_state, runtime_state, inputs_pending, inputs_recovered },
        })
    }

    /// Deletes the stored terminal inputs the dedupe window does not keep (the oldest beyond
    /// `RuntimeOptions::dedupe_window`, as when the window was larger when they were stored), so they do not stay
    /// in the store for good. Deleting rows nothing reads is safe to repeat.
    async fn evict_beyond_the_window(
        &self,
        runtime_id: &LogicalRuntimeId,
        inputs: &[StoredInput],
    ) -> Result<(), RuntimeDriverError> {
        let Some(store) = &self.store else { return Ok(()) };
        let terminal: Vec<InputId> =
            inputs.iter().filter(|stored| stored.seed.is_terminal()).map(|stored| stored.input.id.clone()).collect();
        let excess = terminal.len().saturating_sub(self.options.dedupe_window);
        if excess == 0 {
            return Ok(());
        }
        let commit = RuntimeStoreCommit { evicted: terminal[..excess].to_vec(), ..RuntimeStoreCommit::default() };
        store.commit(runtime_id, commit).await.map_err(|error| {
            RuntimeDriverError::Internal(format!("failed to trim the stored dedupe window of {runtime_id}: {error}"))
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

    /// Inserts the session's entry if there is none: the entry is built (and recovered) outside the `sessions`
    /// lock, then inserted only if no other task inserted one meanwhile. Returns the recovery report when this call
    /// inserted the entry. The kernel's own `RegisterSession` is the caller's step.
    pub(crate) async fn ensure_session_entry(
        &self,
        session_id: &SessionId,
    ) -> Result<Option<RecoveryReport>, RuntimeDriverError> {
        self.refuse_shut_down()?;
        RuntimeDriverError::require_id(IdKind::Session, session_id.as_str())?;
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

    /// Warm recovery of a registered session: rebuilds nothing the kernel holds, re-syncs the control projection,
    /// and wakes the loop so queued work drains.
    async fn recover_registered_session(&self, session_id: &SessionId) -> Result<RecoveryReport, RuntimeDriverError> {
        let _gate = self.gate(session_id).await?;
        let (driver, wake) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
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
