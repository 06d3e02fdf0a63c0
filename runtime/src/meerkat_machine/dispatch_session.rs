//! The session and ensure-session command groups: registration, unregistration, executor attachment, silent
//! intents, cancellation and interruption, stop, bindings, input queries and tool visibility.

use std::sync::Arc;

use super::MeerkatMachine;
use super::command::{MeerkatMachineCommand, MeerkatMachineCommandError, MeerkatMachineCommandResult};
use super::dsl;
use super::dsl_authority::lock_authority;
use super::machine::{SessionStepError, StepPayload};
use super::session_management::abandon_pending_inputs;
use super::visibility::minted_revision;
use crate::epoch::{BindingsAuthorityKind, RuntimeBindingsWitness, SessionBindingHandles, SessionRuntimeBindings};
use crate::handles::{
    HandleDslAuthority, RuntimeCommsDrainHandle, RuntimeExternalToolSurfaceHandle, RuntimeSessionAdmissionHandle,
    RuntimeTurnStateHandle, SessionClaimHandle,
};
use crate::identifiers::{LogicalRuntimeId, SessionId};
use crate::runtime_loop::RuntimeEffect;
use crate::runtime_state::RuntimeState;
use crate::traits::{RuntimeBindingsError, RuntimeDriverError};

/// What a bindings preparation is for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SessionBindingPreparation {
    /// Apply `PrepareBindings` for this runtime: the binding is the semantic event.
    AuthoritativeRuntimeBinding(LogicalRuntimeId),
    /// Only mint the session-local handle bundle.
    LocalSessionResources,
}

impl MeerkatMachine {
    /// The ensure-session group.
    pub(crate) async fn execute_meerkat_machine_ensure_session_command(
        self: Arc<Self>,
        command: MeerkatMachineCommand,
    ) -> Result<MeerkatMachineCommandResult, RuntimeDriverError> {
        match command {
            MeerkatMachineCommand::EnsureSessionWithExecutor { session_id, executor } => {
                self.ensure_session_with_executor_inner(session_id, executor).await?;
                Ok(MeerkatMachineCommandResult::Unit)
            }
            other => Err(RuntimeDriverError::Internal(format!("{} is not an ensure-session command", other.name()))),
        }
    }

    /// The session group.
    pub(crate) async fn execute_meerkat_machine_session_command(
        &self,
        command: MeerkatMachineCommand,
    ) -> Result<MeerkatMachineCommandResult, MeerkatMachineCommandError> {
        let unit = MeerkatMachineCommandResult::Unit;
        match command {
            MeerkatMachineCommand::RegisterSession { session_id } => {
                self.refuse_destroyed(&session_id).await?;
                self.register_session_inner(&session_id).await?;
                // A session recovered as destroyed stays a tombstone.
                self.refuse_destroyed(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                let dsl_session = dsl::SessionId::from_domain(&session_id);
                self.run_session_step(&session_id, "RegisterSession", StepPayload::default(), |tx| {
                    tx.apply(dsl::MeerkatMachineInput::RegisterSession { session_id: dsl_session }).map(|_| ())
                })
                .await
                .map_err(RuntimeDriverError::from)?;
                Ok(unit)
            }
            MeerkatMachineCommand::UnregisterSession { session_id } => {
                if !self.sessions.read().await.contains_key(&session_id) {
                    return Err(Self::missing().into());
                }
                self.unregister_session_inner(&session_id).await?;
                Ok(unit)
            }
            MeerkatMachineCommand::SetSilentIntents { session_id, intents } => {
                self.refuse_destroyed(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                let dsl_session = dsl::SessionId::from_domain(&session_id);
                self.run_session_step(&session_id, "SetSilentIntents", StepPayload::default(), |tx| {
                    tx.apply(dsl::MeerkatMachineInput::SetSilentIntents {
                        session_id: dsl_session,
                        intents: intents.into_iter().collect(),
                    })
                    .map(|_| ())
                })
                .await
                .map_err(RuntimeDriverError::from)?;
                Ok(unit)
            }
            MeerkatMachineCommand::CancelAfterBoundary { session_id } => {
                self.refuse_destroyed(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                self.cancel_after_boundary_inner(&session_id).await?;
                Ok(unit)
            }
            MeerkatMachineCommand::InterruptCurrentRun { session_id, reason } => {
                self.refuse_destroyed(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                self.dispatch_user_interrupt(&session_id, &reason).await?;
                Ok(unit)
            }
            MeerkatMachineCommand::StopRuntimeExecutor { session_id, reason } => {
                self.refuse_destroyed(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                self.stop_runtime_executor_inner(&session_id, reason).await?;
                Ok(unit)
            }
            MeerkatMachineCommand::ContainsSession { session_id } => {
                Ok(MeerkatMachineCommandResult::Bool(self.sessions.read().await.contains_key(&session_id)))
            }
            MeerkatMachineCommand::SessionHasExecutor { session_id } => {
                let sessions = self.sessions.read().await;
                let attached = sessions.get(&session_id).is_some_and(|entry| entry.generated_executor_attached());
                Ok(MeerkatMachineCommandResult::Bool(attached))
            }
            MeerkatMachineCommand::PrepareBindings { session_id, runtime_id } => {
                let runtime_id = runtime_id.unwrap_or_else(|| Self::logical_runtime_id(&session_id));
                self.prepare_session_runtime_bindings(
                    session_id,
                    SessionBindingPreparation::AuthoritativeRuntimeBinding(runtime_id),
                )
                .await
            }
            MeerkatMachineCommand::PrepareLocalSessionBindings { session_id } => {
                self.prepare_session_runtime_bindings(session_id, SessionBindingPreparation::LocalSessionResources)
                    .await
            }
            MeerkatMachineCommand::InputState { session_id, input_id } => {
                let driver = self.session_driver(&session_id).await?;
                let state = driver.lock().await.stored_input_state(&input_id);
                Ok(MeerkatMachineCommandResult::InputState(state))
            }
            MeerkatMachineCommand::ListActiveInputs { session_id } => {
                let driver = self.session_driver(&session_id).await?;
                let ids = driver.lock().await.active_input_ids();
                Ok(MeerkatMachineCommandResult::ActiveInputs(ids))
            }
            MeerkatMachineCommand::StagePersistentFilter { session_id, filter } => {
                self.require_live_session(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                let dsl_session = dsl::SessionId::from_domain(&session_id);
                let (revision, _) = self
                    .run_session_step(&session_id, "StageVisibilityFilter", StepPayload::default(), |tx| {
                        let effects =
                            tx.apply(dsl::MeerkatMachineInput::StageVisibilityFilter { session_id: dsl_session })?;
                        minted_revision(effects).ok_or_else(|| tx.refuse("no visibility revision was minted"))
                    })
                    .await
                    .map_err(RuntimeDriverError::from)?;
                self.visibility_owner(&session_id).await?.record_staged_filter(revision, filter);
                Ok(MeerkatMachineCommandResult::VisibilityRevision(revision))
            }
            MeerkatMachineCommand::RequestDeferredTools { session_id, authorities } => {
                self.require_live_session(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                let dsl_session = dsl::SessionId::from_domain(&session_id);
                let requested = authorities.clone();
                let (revision, _) = self
                    .run_session_step(&session_id, "RequestDeferredTools", StepPayload::default(), |tx| {
                        let effects = tx.apply(dsl::MeerkatMachineInput::RequestDeferredTools {
                            session_id: dsl_session,
                            authorities: requested,
                        })?;
                        minted_revision(effects).ok_or_else(|| tx.refuse("no visibility revision was minted"))
                    })
                    .await
                    .map_err(RuntimeDriverError::from)?;
                self.visibility_owner(&session_id).await?.record_deferred_request(revision, authorities);
                Ok(MeerkatMachineCommandResult::VisibilityRevision(revision))
            }
            MeerkatMachineCommand::PublishCommittedVisibleSet { session_id, visibility_state } => {
                self.require_live_session(&session_id).await?;
                let _gate = self.gate(&session_id).await?;
                let owner = self.visibility_owner(&session_id).await?;
                let canonical = owner
                    .canonical_deferred_authorities_for_visibility_state(&visibility_state)
                    .map_err(|reason| RuntimeDriverError::ValidationFailed { reason })?;
                let input = canonical.clone().into_publish_input(dsl::SessionId::from_domain(&session_id));
                self.run_session_step(&session_id, "PublishCommittedVisibleSet", StepPayload::default(), |tx| {
                    tx.apply(input).map(|_| ())
                })
                .await
                .map_err(RuntimeDriverError::from)?;
                owner.replace_visibility_state(canonical.clone());
                Ok(MeerkatMachineCommandResult::VisibilityPublished(canonical))
            }
            other => Err(RuntimeDriverError::Internal(format!("{} is not a session command", other.name())).into()),
        }
    }

    async fn session_driver(&self, session_id: &SessionId) -> Result<crate::driver::SharedDriver, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| Arc::clone(&entry.driver)).ok_or_else(Self::missing)
    }

    async fn visibility_owner(
        &self,
        session_id: &SessionId,
    ) -> Result<Arc<super::visibility::MachineToolVisibilityOwner>, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        sessions.get(session_id).map(|entry| Arc::clone(&entry.tool_visibility_owner)).ok_or_else(Self::missing)
    }

    /// The session exists (`NotReady { Destroyed }` otherwise) and is not destroyed (`Destroyed`).
    pub(crate) async fn require_live_session(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        match self.existing_session_runtime_state(session_id).await {
            None => Err(Self::missing()),
            Some(RuntimeState::Destroyed) => Err(RuntimeDriverError::Destroyed),
            Some(_) => Ok(()),
        }
    }

    /// With the gate held: tells the executor's boundary handle, then the loop.
    async fn cancel_after_boundary_inner(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        let (effect_tx, boundary_handle, state) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            (entry.effect_sender(), entry.boundary_handle(), RuntimeState::from_dsl(entry.dsl_phase()))
        };
        let Some(effect_tx) = effect_tx else {
            return Err(RuntimeDriverError::NotReady { state });
        };
        let reason = "cancel after boundary requested".to_owned();
        if let Some(boundary_handle) = boundary_handle {
            boundary_handle.cancel_after_boundary(reason.clone()).await.map_err(|error| {
                RuntimeDriverError::Internal(format!(
                    "CancelAfterBoundary: failed to apply live boundary cancel: {error}"
                ))
            })?;
        }
        self.send_runtime_effect(session_id, &effect_tx, RuntimeEffect::CancelAfterBoundary { reason }).await
    }

    /// Sends an effect to the loop without waiting (the loop may itself wait for the gate this command holds).
    async fn send_runtime_effect(
        &self,
        session_id: &SessionId,
        effect_tx: &tokio::sync::mpsc::Sender<RuntimeEffect>,
        effect: RuntimeEffect,
    ) -> Result<(), RuntimeDriverError> {
        match effect_tx.try_send(effect) {
            Ok(()) => Ok(()),
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => {
                self.clear_dead_runtime_attachment(session_id).await;
                Err(RuntimeDriverError::NotReady { state: RuntimeState::Idle })
            }
            Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                Err(RuntimeDriverError::Internal("the runtime loop's effect channel is full".to_owned()))
            }
        }
    }

    /// With the gate held: the kernel must have a run to interrupt (`InterruptCurrentRun`), then the executor's
    /// interrupt handle and the loop are told.
    async fn dispatch_user_interrupt(&self, session_id: &SessionId, reason: &str) -> Result<(), RuntimeDriverError> {
        let step = self
            .run_session_step(session_id, "InterruptCurrentRun", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::InterruptCurrentRun).map(|_| ())
            })
            .await;
        match step {
            Ok(_) => self.deliver_run_interrupt(session_id, reason).await,
            Err(SessionStepError::Rejected(_)) => {
                let state = self.existing_session_runtime_state(session_id).await.unwrap_or(RuntimeState::Destroyed);
                Err(RuntimeDriverError::NotReady { state })
            }
            Err(SessionStepError::Driver(error)) => Err(error),
        }
    }

    /// Delivers a run interrupt the kernel requested (`RunInterruptRequested`) to the executor and its loop.
    pub(crate) async fn deliver_run_interrupt(
        &self,
        session_id: &SessionId,
        reason: &str,
    ) -> Result<(), RuntimeDriverError> {
        let (effect_tx, interrupt_handle) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            (entry.effect_sender(), entry.interrupt_handle())
        };
        if let Some(handle) = &interrupt_handle {
            handle.interrupt(reason);
        }
        match effect_tx {
            Some(effect_tx) => {
                self.send_runtime_effect(session_id, &effect_tx, RuntimeEffect::Interrupt { reason: reason.to_owned() })
                    .await
            }
            None if interrupt_handle.is_some() => Ok(()),
            None => Err(RuntimeDriverError::NotReady { state: RuntimeState::Idle }),
        }
    }

    /// With the gate held: stops now (pending inputs abandoned as `Stopped`, loop detached) or defers the stop to
    /// the end of the bound run.
    async fn stop_runtime_executor_inner(
        &self,
        session_id: &SessionId,
        reason: String,
    ) -> Result<(), RuntimeDriverError> {
        let (stopped_now, _) = self
            .run_session_step(session_id, "StopRuntimeExecutor", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::StopRuntimeExecutor { reason })?;
                let stopped_now = tx.state().lifecycle_phase == dsl::MeerkatMachinePhase::Stopped;
                if stopped_now {
                    abandon_pending_inputs(tx, dsl::InputAbandonReason::Stopped)?;
                }
                Ok(stopped_now)
            })
            .await
            .map_err(RuntimeDriverError::from)?;
        if stopped_now {
            // Dropping the loop's channels ends it; it observes its exit through the kernel once it gets the gate.
            let mut sessions = self.sessions.write().await;
            if let Some(entry) = sessions.get_mut(session_id) {
                drop(entry.take_loop_join_handle());
            }
        }
        Ok(())
    }

    /// Prepares bindings: registers if needed, applies `PrepareBindings` for an authoritative binding (a session
    /// bound to another runtime is refused, and a registration this call made is rolled back), then mints one
    /// shared handle door and the handle bundle with a runtime witness.
    async fn prepare_session_runtime_bindings(
        &self,
        session_id: SessionId,
        preparation: SessionBindingPreparation,
    ) -> Result<MeerkatMachineCommandResult, MeerkatMachineCommandError> {
        self.refuse_destroyed(&session_id).await?;
        let inserted = self.register_session_inner(&session_id).await?.is_some();
        self.refuse_destroyed(&session_id).await?;
        let _gate = self.gate(&session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(&session_id);
        if let SessionBindingPreparation::AuthoritativeRuntimeBinding(runtime_id) = &preparation {
            let agent_runtime_id = dsl::AgentRuntimeId::from_domain(runtime_id);
            let input = dsl::MeerkatMachineInput::PrepareBindings {
                agent_runtime_id: agent_runtime_id.clone(),
                fence_token: dsl::FenceToken::from(0),
                generation: dsl::Generation::from(0),
                session_id: dsl_session.clone(),
            };
            let step = self
                .run_session_step(&session_id, "PrepareBindings", StepPayload::default(), |tx| {
                    tx.apply(input).map(|_| ())
                })
                .await;
            if let Err(error) = step {
                if inserted {
                    self.unregister_fresh_registration(&session_id).await;
                }
                let error = match error {
                    SessionStepError::Rejected(rejection) => {
                        let bound =
                            self.session_dsl_state(&session_id).await.ok().and_then(|state| state.active_runtime_id);
                        match bound {
                            Some(bound) if bound != agent_runtime_id => RuntimeDriverError::ValidationFailed {
                                reason: format!(
                                    "session {session_id} is bound to runtime `{}`; refusing an authoritative binding to \
                                     `{}`",
                                    bound.0, agent_runtime_id.0
                                ),
                            },
                            _ => rejection.into_driver_error(),
                        }
                    }
                    SessionStepError::Driver(error) => error,
                };
                return Err(RuntimeBindingsError::PrepareFailed(session_id, error.to_string()).into());
            }
        }
        let sessions = self.sessions.read().await;
        let entry =
            sessions.get(&session_id).ok_or_else(|| RuntimeBindingsError::SessionNotFound(session_id.clone()))?;
        let door = Arc::new(HandleDslAuthority::from_shared_with_teardown_gate(
            Arc::clone(&entry.dsl_authority),
            Arc::clone(&entry.handle_teardown_gate),
        ));
        let owner_token = lock_authority(&entry.dsl_authority).generated_authority_owner_token();
        let kind = match preparation {
            SessionBindingPreparation::AuthoritativeRuntimeBinding(_) => {
                BindingsAuthorityKind::AuthoritativeRuntimeBinding
            }
            SessionBindingPreparation::LocalSessionResources => BindingsAuthorityKind::LocalSessionResources,
        };
        let handles = SessionBindingHandles {
            turn_state: Arc::new(RuntimeTurnStateHandle::new(
                Arc::clone(&door),
                Arc::clone(&entry.control_projection),
                self.has_runtime_persistence(),
            )),
            session_admission: Arc::new(RuntimeSessionAdmissionHandle::new(Arc::clone(&door), dsl_session.clone())),
            external_tool_surface: Arc::new(RuntimeExternalToolSurfaceHandle::new(
                Arc::clone(&door),
                Arc::clone(&entry.tool_visibility_owner),
                dsl_session,
            )),
            comms_drain: Arc::new(RuntimeCommsDrainHandle::new(door)),
            session_claim: Arc::clone(&self.session_claims) as Arc<dyn SessionClaimHandle>,
        };
        Ok(MeerkatMachineCommandResult::Bindings(SessionRuntimeBindings::from_runtime_authority(
            session_id.clone(),
            entry.epoch_id.clone(),
            Arc::clone(&entry.cursor_state),
            handles,
            RuntimeBindingsWitness::mint(kind, owner_token),
        )))
    }

    /// Rolls back a registration this command made (gate held): the fresh entry has no loop and no waiters.
    async fn unregister_fresh_registration(&self, session_id: &SessionId) {
        let removed = self.sessions.write().await.remove(session_id);
        if let Some(entry) = removed {
            entry.close_handle_teardown_gate();
        }
    }

    /// Applies a routed signal (the supervisor's interrupt request) to the session's kernel under its current
    /// gate, and delivers the interrupt the kernel asks for.
    ///
    /// # Errors
    ///
    /// A missing or destroyed session, or the kernel's refusal.
    pub async fn apply_routed_meerkat_signal(
        &self,
        session_id: &SessionId,
        signal: dsl::MeerkatMachineSignal,
    ) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let (_, effects) = self
            .run_session_step(session_id, "RoutedMeerkatSignal", StepPayload::default(), |tx| {
                tx.apply_signal(signal).map(|_| ())
            })
            .await
            .map_err(RuntimeDriverError::from)?;
        let interrupt =
            effects.iter().any(|effect| matches!(effect, dsl::MeerkatMachineEffect::RunInterruptRequested { .. }));
        if interrupt {
            self.deliver_run_interrupt(session_id, "interrupt requested by the session supervisor").await?;
        }
        Ok(())
    }
}
