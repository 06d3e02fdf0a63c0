//! The control group: retire, reset, recycle and destroy a session's runtime, stop its executor, cancel or
//! interrupt the run in flight (also when the session supervisor asks), and read the visible runtime state.
//!
//! Reset and destroy need a quiescent ledger, so each abandons the live inputs (reason `Reset` / `Destroyed`) and
//! applies the control input in one all-or-nothing kernel step: if the control input is refused, no input was
//! abandoned. A missing session is `UnknownSession`, from the public methods and the command adapter alike.

use std::sync::Arc;

use super::entry::{RuntimeEffect, RuntimeSessionEntry};
use super::machine::{MeerkatMachine, SessionStepError, StepPayload};
use crate::epoch::{EpochCursorState, RuntimeEpochId};
use crate::error::{BackpressureBound, KernelRejection, RuntimeDriverError};
use crate::executor::CoreExecutorInterruptHandle;
use crate::handles::HandleTeardownGate;
use crate::identifiers::SessionId;
use crate::kernel::classify::resolve_visible_runtime_phase;
use crate::kernel::glue::lock_authority;
use crate::kernel::meerkat_machine as dsl;
use crate::report::{DestroyReport, RecycleReport, ResetReport, RetireReport};
use crate::runtime_state::RuntimeState;

/// A reserved run interrupt: the loop's effect-channel slot and the executor's interrupt handle, used once the
/// kernel step that requested the interrupt committed.
struct InterruptDelivery {
    permit: Option<tokio::sync::mpsc::OwnedPermit<RuntimeEffect>>,
    interrupt_handle: Option<Arc<dyn CoreExecutorInterruptHandle>>,
}

impl InterruptDelivery {
    fn deliver(self, reason: &str) {
        if let Some(handle) = &self.interrupt_handle {
            handle.interrupt(reason);
        }
        if let Some(permit) = self.permit {
            permit.send(RuntimeEffect::Interrupt { reason: reason.to_owned() });
        }
    }
}

impl MeerkatMachine {
    /// Retires the session (at once, or after the run in flight).
    ///
    /// # Errors
    ///
    /// `Destroyed` (also for a missing session); `ValidationFailed` where the kernel refuses (already retired).
    pub async fn retire(&self, session_id: &SessionId) -> Result<RetireReport, RuntimeDriverError> {
        self.retire_inner(session_id).await
    }

    pub(crate) async fn retire_inner(&self, session_id: &SessionId) -> Result<RetireReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let draining_executor = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
            entry.generated_executor_registration_active() && entry.attachment_is_live()
        };
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (report, _) = self
            .run_session_step(session_id, "Retire", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::Retire { session_id: dsl_session })?;
                // A retired session takes no new input but drains its queue; with no executor to drain it, the
                // queued inputs are abandoned as retired.
                let inputs_abandoned =
                    if draining_executor { 0 } else { tx.abandon_pending_inputs(dsl::InputAbandonReason::Retired)? };
                let inputs_pending_drain = tx
                    .state()
                    .input_ledger
                    .values()
                    .filter(|record| matches!(record.phase, dsl::InputPhase::Accepted | dsl::InputPhase::Queued))
                    .count();
                Ok(RetireReport { inputs_abandoned, inputs_pending_drain })
            })
            .await?;
        Ok(report)
    }

    /// Resets the runtime: live inputs are abandoned as `Reset`, then a new epoch starts (handles of the old
    /// epoch close).
    ///
    /// # Errors
    ///
    /// `Destroyed`; `ValidationFailed` where the kernel refuses (a run in flight).
    pub async fn reset(&self, session_id: &SessionId) -> Result<ResetReport, RuntimeDriverError> {
        self.reset_inner(session_id).await
    }

    pub(crate) async fn reset_inner(&self, session_id: &SessionId) -> Result<ResetReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (inputs_abandoned, _) = self
            .run_session_step(session_id, "Reset", StepPayload::default(), |tx| {
                let abandoned = tx.abandon_live_inputs(dsl::InputAbandonReason::Reset)?;
                tx.apply(dsl::MeerkatMachineInput::Reset { session_id: dsl_session })?;
                Ok(abandoned)
            })
            .await?;
        // A reset starts a new epoch: fresh cursors, and the handles of the old epoch close.
        let epoch_id = RuntimeEpochId::new();
        let cursor_state = Arc::new(EpochCursorState::new());
        let runtime_id = {
            let mut sessions = self.sessions.write().await;
            let entry = sessions.get_mut(session_id).ok_or_else(|| Self::missing(session_id))?;
            entry.close_handle_teardown_gate();
            entry.handle_teardown_gate = HandleTeardownGate::open();
            entry.epoch_id = epoch_id.clone();
            entry.cursor_state = Arc::clone(&cursor_state);
            entry.runtime_id.clone()
        };
        self.persist_epoch(&runtime_id, &epoch_id, &cursor_state).await?;
        Ok(ResetReport { inputs_abandoned, epoch_id })
    }

    /// Rebuilds the runtime, keeping queued work.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `ValidationFailed` where the kernel refuses (a run in flight).
    pub async fn recycle(&self, session_id: &SessionId) -> Result<RecycleReport, RuntimeDriverError> {
        self.recycle_inner(session_id).await
    }

    pub(crate) async fn recycle_inner(&self, session_id: &SessionId) -> Result<RecycleReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        self.run_session_step(session_id, "Recycle", StepPayload::default(), |tx| {
            tx.apply(dsl::MeerkatMachineInput::Recycle { session_id: dsl_session }).map(|_| ())
        })
        .await?;
        let (driver, wake) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
            (Arc::clone(&entry.driver), entry.wake_sender())
        };
        let inputs_preserved = driver.lock().await.as_driver().queued_len();
        if let Some(wake) = wake {
            let _ = wake.try_send(());
        }
        Ok(RecycleReport { inputs_preserved })
    }

    /// Destroys the session for good: live inputs are abandoned as `Destroyed`, a run in flight is cancelled,
    /// the loop detaches and the session's handles close. The entry stays as a tombstone so nothing resurrects it.
    ///
    /// # Errors
    ///
    /// `Destroyed` when it already is (or is missing).
    pub async fn destroy(&self, session_id: &SessionId) -> Result<DestroyReport, RuntimeDriverError> {
        self.destroy_inner(session_id).await
    }

    pub(crate) async fn destroy_inner(&self, session_id: &SessionId) -> Result<DestroyReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let authority = self.session_dsl_authority(session_id).await?;
        let run_cancelled = lock_authority(&authority).state().current_run_id.is_some();
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (inputs_abandoned, _) = self
            .run_session_step(session_id, "Destroy", StepPayload::default(), |tx| {
                let abandoned = tx.abandon_live_inputs(dsl::InputAbandonReason::Destroyed)?;
                tx.apply(dsl::MeerkatMachineInput::Destroy { session_id: dsl_session })?;
                Ok(abandoned)
            })
            .await?;
        // Stop the executor's run, detach the loop (it can no longer pass the runtime-loop gate), and close the
        // handles. The entry stays as a tombstone.
        let mut sessions = self.sessions.write().await;
        if let Some(entry) = sessions.get_mut(session_id) {
            if run_cancelled {
                if let Some(handle) = entry.interrupt_handle() {
                    handle.interrupt("session destroyed");
                }
                if let Some(effect_tx) = entry.effect_sender() {
                    let _ = effect_tx.try_send(RuntimeEffect::Interrupt { reason: "session destroyed".to_owned() });
                }
            }
            drop(entry.take_loop_join_handle());
            entry.close_handle_teardown_gate();
        }
        Ok(DestroyReport { inputs_abandoned, run_cancelled })
    }

    /// The session's visible runtime state, arbitrated by the kernel between its phase and the control
    /// projection.
    ///
    /// # Errors
    ///
    /// `Destroyed` for a missing session.
    pub async fn runtime_state(&self, session_id: &SessionId) -> Result<RuntimeState, RuntimeDriverError> {
        self.runtime_state_inner(session_id).await
    }

    pub(crate) async fn runtime_state_inner(&self, session_id: &SessionId) -> Result<RuntimeState, RuntimeDriverError> {
        let sessions = self.sessions.read().await;
        let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
        self.visible_runtime_state(entry)
    }

    /// The visible runtime state of an entry, arbitrated by the kernel.
    fn visible_runtime_state(&self, entry: &RuntimeSessionEntry) -> Result<RuntimeState, RuntimeDriverError> {
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
        let reason = reason.into();
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let (stopped_now, _) = self
            .run_session_step(session_id, "StopRuntimeExecutor", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::StopRuntimeExecutor { reason })?;
                let stopped_now = tx.state().lifecycle_phase == dsl::MeerkatMachinePhase::Stopped;
                if stopped_now {
                    tx.abandon_pending_inputs(dsl::InputAbandonReason::Stopped)?;
                }
                Ok(stopped_now)
            })
            .await?;
        if stopped_now {
            // Dropping the loop's channels ends it; it observes its exit through the kernel once it gets the gate.
            let mut sessions = self.sessions.write().await;
            if let Some(entry) = sessions.get_mut(session_id) {
                drop(entry.take_loop_join_handle());
            }
        }
        Ok(())
    }

    /// Asks the run in flight to stop at its next boundary: the executor's boundary handle is told, then the loop.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `NotReady` when no runtime loop is live.
    pub async fn cancel_after_boundary(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let (effect_tx, boundary_handle, state) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
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

    /// Interrupts the run in flight at once; its inputs are abandoned as cancelled. The kernel must have a run to
    /// interrupt (`InterruptCurrentRun`); then the executor's interrupt handle and the loop are told. The loop's
    /// effect channel is reserved before the kernel step, so the step and its effect are taken together or not
    /// at all.
    ///
    /// # Errors
    ///
    /// `Destroyed`; `NotReady` with the current state when no run is in flight or no loop is live;
    /// `Backpressure` when the loop's effect channel is full (nothing changed).
    pub async fn hard_cancel_current_run(
        &self,
        session_id: &SessionId,
        reason: impl Into<String>,
    ) -> Result<(), RuntimeDriverError> {
        let reason = reason.into();
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let delivery = self.reserve_run_interrupt(session_id).await?;
        let step = self
            .run_session_step(session_id, "InterruptCurrentRun", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::InterruptCurrentRun).map(|_| ())
            })
            .await;
        match step {
            Ok(_) => {
                delivery.deliver(&reason);
                Ok(())
            }
            Err(SessionStepError::Rejected(_)) => {
                let state = self.existing_session_runtime_state(session_id).await.unwrap_or(RuntimeState::Destroyed);
                Err(RuntimeDriverError::NotReady { state })
            }
            Err(SessionStepError::Driver(error)) => Err(error),
        }
    }

    /// Applies a routed signal (the supervisor's interrupt request) to the session's kernel under its current
    /// gate, and delivers the interrupt the kernel asks for (reserved before the step, as for
    /// [`MeerkatMachine::hard_cancel_current_run`]).
    ///
    /// # Errors
    ///
    /// A missing or destroyed session, the kernel's refusal, or `Backpressure` (nothing changed).
    pub async fn apply_routed_meerkat_signal(
        &self,
        session_id: &SessionId,
        signal: dsl::MeerkatMachineSignal,
    ) -> Result<(), RuntimeDriverError> {
        self.refuse_destroyed(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let delivery = self.reserve_run_interrupt(session_id).await;
        let (_, effects) = self
            .run_session_step(session_id, "RoutedMeerkatSignal", StepPayload::default(), |tx| {
                let effects = tx.apply_signal(signal)?;
                let interrupt = effects
                    .iter()
                    .any(|effect| matches!(effect, dsl::MeerkatMachineEffect::RunInterruptRequested { .. }));
                if interrupt && delivery.is_err() {
                    return Err(tx.refuse("the run interrupt the signal requests cannot be delivered"));
                }
                Ok(())
            })
            .await
            .map_err(|error| match (&error, &delivery) {
                (SessionStepError::Rejected(KernelRejection::Outcome { .. }), Err(refusal)) => refusal.clone(),
                _ => error.into(),
            })?;
        let interrupt =
            effects.iter().any(|effect| matches!(effect, dsl::MeerkatMachineEffect::RunInterruptRequested { .. }));
        if interrupt && let Ok(delivery) = delivery {
            delivery.deliver("interrupt requested by the session supervisor");
        }
        Ok(())
    }

    /// Reserves the delivery of a run interrupt (gate held): a slot in the loop's effect channel, and the
    /// executor's interrupt handle. Nothing is sent yet.
    async fn reserve_run_interrupt(&self, session_id: &SessionId) -> Result<InterruptDelivery, RuntimeDriverError> {
        let (effect_tx, interrupt_handle, state) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
            (entry.effect_sender(), entry.interrupt_handle(), RuntimeState::from_dsl(entry.dsl_phase()))
        };
        let permit = match effect_tx {
            Some(effect_tx) => match effect_tx.try_reserve_owned() {
                Ok(permit) => Some(permit),
                Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                    return Err(RuntimeDriverError::Backpressure {
                        what: BackpressureBound::EffectChannel,
                        limit: crate::options::RUNTIME_LOOP_EFFECT_CAPACITY,
                    });
                }
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => {
                    self.clear_dead_runtime_attachment(session_id).await;
                    None
                }
            },
            None => None,
        };
        if permit.is_none() && interrupt_handle.is_none() {
            return Err(RuntimeDriverError::NotReady { state });
        }
        Ok(InterruptDelivery { permit, interrupt_handle })
    }

    /// Sends an effect to the loop without waiting (the loop may itself wait for the gate this operation holds).
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
            Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => Err(RuntimeDriverError::Backpressure {
                what: BackpressureBound::EffectChannel,
                limit: crate::options::RUNTIME_LOOP_EFFECT_CAPACITY,
            }),
        }
    }
}
