//! The session group: registering a session, the session's silent intents, the executor-exit bookkeeping of its
//! attachment, and unregistering it through its drain window (with an optional deadline, cancel-safe). Building a session's entry (and recovering it from
//! the store) is `recovery.rs`; attaching an executor and its runtime loop is `crate::runtime_loop`.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::entry::DrainingLoopWait;
use super::machine::{MeerkatMachine, StepPayload};
use crate::completion::{CompletionOutcome, CompletionRegistry};
use crate::epoch::EpochCursorState;
use crate::error::{RuntimeControlPlaneError, RuntimeDriverError};
use crate::identifiers::SessionId;
use crate::kernel::glue::lock_authority;
use crate::kernel::meerkat_machine as dsl;
use crate::report::UnregisterReport;

impl MeerkatMachine {
    /// Registers a session without an executor: inputs are accepted and queue, nothing drains them until
    /// [`MeerkatMachine::ensure_session_with_executor`]. A persistent machine recovers the session from its store.
    ///
    /// # Errors
    ///
    /// A failed registration is an error, never success: `Destroyed` for a destroyed session, `ValidationFailed`
    /// while the session drains, `RecoveryCorruption` for a store that does not replay.
    pub async fn register_session(&self, session_id: SessionId) -> Result<(), RuntimeControlPlaneError> {
        Ok(self.register_session_inner(&session_id).await?)
    }

    /// The registration behind [`MeerkatMachine::register_session`] and `RegisterSession`: the entry is built (or
    /// recovered) if there is none, then the kernel takes `RegisterSession`.
    pub(crate) async fn register_session_inner(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(session_id).await?;
        self.ensure_session_entry(session_id).await?;
        // A session recovered as destroyed stays a tombstone.
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        self.run_session_step(session_id, "RegisterSession", StepPayload::default(), |tx| {
            tx.apply(dsl::MeerkatMachineInput::RegisterSession { session_id: dsl_session }).map(|_| ())
        })
        .await?;
        Ok(())
    }

    /// Whether the session is registered.
    pub async fn contains_session(&self, session_id: &SessionId) -> bool {
        self.sessions.read().await.contains_key(session_id)
    }

    /// Whether the session has an executor attached.
    pub async fn session_has_executor(&self, session_id: &SessionId) -> bool {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).is_some_and(|entry| entry.generated_executor_attached())
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
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        self.run_session_step(session_id, "SetSilentIntents", StepPayload::default(), |tx| {
            tx.apply(dsl::MeerkatMachineInput::SetSilentIntents {
                session_id: dsl_session,
                intents: intents.into_iter().collect(),
            })
            .map(|_| ())
        })
        .await?;
        Ok(())
    }

    /// Unregisters a session: opens the drain window, lets a run in flight commit, waits for the loop to exit,
    /// then closes the window and removes the session. Remaining completion waiters resolve as `Terminated`. Waits
    /// for the loop as long as it takes; [`MeerkatMachine::unregister_session_with_deadline`] bounds the wait.
    ///
    /// # Errors
    ///
    /// `UnknownSession`; `Destroyed`; `ValidationFailed` if the kernel refuses.
    pub async fn unregister_session(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        self.unregister_session_inner(session_id, None).await.map(|_| ())
    }

    /// Unregisters a session, waiting at most `deadline` for its runtime loop: a loop still running then (a run
    /// that never finishes) is aborted, and the teardown completes. Its waiters resolve as `Terminated`.
    ///
    /// Cancel safety: the future may be dropped at any await point, leaving one of three documented states:
    /// untouched (dropped before the drain window opened); draining (the window is open, the loop detached: the
    /// session refuses new input with `Draining`, and any unregistration finishes the teardown, waiting for the
    /// same loop); or gone (unregistered). A kernel step is never left half-taken (see `step.rs`).
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::unregister_session`].
    pub async fn unregister_session_with_deadline(
        &self,
        session_id: &SessionId,
        deadline: Duration,
    ) -> Result<UnregisterReport, RuntimeDriverError> {
        self.unregister_session_inner(session_id, Some(deadline)).await
    }

    /// The unregistration behind the public methods and `UnregisterSession`.
    pub(crate) async fn unregister_session_inner(
        &self,
        session_id: &SessionId,
        deadline: Option<Duration>,
    ) -> Result<UnregisterReport, RuntimeDriverError> {
        self.unregister_session_resolving(
            session_id,
            deadline,
            &CompletionOutcome::Terminated { reason: "runtime session unregistered".to_owned() },
        )
        .await
    }

    /// Unregisters, resolving the remaining waiters with `outcome` (shutdown resolves them as `NoProgress`).
    pub(crate) async fn unregister_session_resolving(
        &self,
        session_id: &SessionId,
        deadline: Option<Duration>,
        outcome: &CompletionOutcome,
    ) -> Result<UnregisterReport, RuntimeDriverError> {
        if !self.contains_session(session_id).await {
            return Err(Self::missing(session_id));
        }
        self.refuse_destroyed(session_id).await?;
        let (draining_loop, completions, gate_identity) = {
            let _gate = self.gate(session_id).await?;
            let draining = {
                let authority = self.session_dsl_authority(session_id).await?;
                let phase = lock_authority(&authority).state().registration_phase;
                phase == dsl::RegistrationPhase::Draining
            };
            if !draining {
                let dsl_session = dsl::SessionId::from_domain(session_id);
                self.run_session_step(session_id, "BeginUnregisterSession", StepPayload::default(), |tx| {
                    tx.apply(dsl::MeerkatMachineInput::BeginUnregisterSession { session_id: dsl_session }).map(|_| ())
                })
                .await?;
            }
            // No await between the window opening and the loop's handle moving into the entry's slot.
            let mut sessions = self.sessions.write().await;
            let entry = sessions.get_mut(session_id).ok_or_else(|| Self::missing(session_id))?;
            if let Some(handle) = entry.take_loop_join_handle() {
                *entry.draining_loop.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
            }
            (Arc::clone(&entry.draining_loop), Arc::clone(&entry.completions), Arc::clone(&entry.mutation_gate))
        };
        // The loop commits its run in flight (the gate admits the drain window) and observes its own exit; past
        // the deadline its waiters are released first, then it is aborted.
        let wait = DrainingLoopWait::take(&draining_loop);
        let loop_aborted = wait
            .finish(deadline, || {
                CompletionRegistry::lock(&completions).resolve_all(outcome);
            })
            .await;
        let _gate = self.gate(session_id).await?;
        {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
            if !Arc::ptr_eq(&entry.mutation_gate, &gate_identity) {
                return Err(RuntimeDriverError::Internal(format!("session {session_id} was replaced while draining")));
            }
        }
        let dsl_session = dsl::SessionId::from_domain(session_id);
        self.run_session_step(session_id, "UnregisterSession", StepPayload::default(), |tx| {
            if tx.state().executor_attached {
                // The loop ended without observing its exit (it was aborted or panicked).
                tx.apply(dsl::MeerkatMachineInput::RuntimeExecutorExited)?;
            }
            tx.apply(dsl::MeerkatMachineInput::UnregisterSession { session_id: dsl_session }).map(|_| ())
        })
        .await?;
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
        CompletionRegistry::lock(&completions).resolve_all(outcome);
        Ok(UnregisterReport { loop_aborted })
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
    pub(crate) async fn observe_executor_exit(&self, session_id: &SessionId, context: &'static str) {
        let step = self
            .run_session_step(session_id, context, StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::RuntimeExecutorExited).map(|_| ())
            })
            .await;
        if let Err(error) = step {
            tracing::warn!(%session_id, error = ?error, "generated MeerkatMachine refused the executor-exit observation");
        }
    }
}
