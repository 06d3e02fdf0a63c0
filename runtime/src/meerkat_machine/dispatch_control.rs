//! The control command group: retire, reset, recycle, destroy, recover and the visible runtime state. Reset and
//! destroy need a quiescent ledger, so each abandons the live inputs (reason `Reset` / `Destroyed`) and applies
//! the control input in one all-or-nothing kernel step: if the control input is refused, no input was abandoned.

use std::sync::Arc;

use super::MeerkatMachine;
use super::command::{MeerkatMachineCommand, MeerkatMachineCommandResult};
use super::dsl;
use super::dsl_authority::lock_authority;
use super::machine::StepPayload;
use super::session_management::{abandon_live_inputs, abandon_pending_inputs};
use crate::epoch::{EpochCursorState, RuntimeEpochId};
use crate::handles::HandleTeardownGate;
use crate::identifiers::SessionId;
use crate::runtime_loop::RuntimeEffect;
use crate::traits::{DestroyReport, RecycleReport, ResetReport, RetireReport, RuntimeDriverError};

impl MeerkatMachine {
    /// The control group.
    pub(crate) async fn execute_meerkat_machine_control_command(
        &self,
        command: MeerkatMachineCommand,
    ) -> Result<MeerkatMachineCommandResult, RuntimeDriverError> {
        match command {
            MeerkatMachineCommand::Retire { session_id } => {
                Ok(MeerkatMachineCommandResult::Retired(self.retire_inner(&session_id).await?))
            }
            MeerkatMachineCommand::Reset { session_id } => {
                Ok(MeerkatMachineCommandResult::Reset(self.reset_inner(&session_id).await?))
            }
            MeerkatMachineCommand::Recycle { session_id } => {
                Ok(MeerkatMachineCommandResult::Recycled(self.recycle_inner(&session_id).await?))
            }
            MeerkatMachineCommand::Destroy { session_id } => {
                Ok(MeerkatMachineCommandResult::Destroyed(self.destroy_inner(&session_id).await?))
            }
            MeerkatMachineCommand::Recover { session_id } => {
                if self.sessions.read().await.contains_key(&session_id) {
                    return Ok(MeerkatMachineCommandResult::Recovered(
                        self.recover_registered_session(&session_id).await?,
                    ));
                }
                match self.register_session_inner(&session_id).await? {
                    Some(report) => Ok(MeerkatMachineCommandResult::Recovered(report)),
                    None => {
                        Ok(MeerkatMachineCommandResult::Recovered(self.recover_registered_session(&session_id).await?))
                    }
                }
            }
            MeerkatMachineCommand::RuntimeState { session_id } => {
                let sessions = self.sessions.read().await;
                let entry = sessions.get(&session_id).ok_or_else(Self::missing)?;
                Ok(MeerkatMachineCommandResult::RuntimeState(self.visible_runtime_state(entry)?))
            }
            other => Err(RuntimeDriverError::Internal(format!("{} is not a control command", other.name()))),
        }
    }

    async fn retire_inner(&self, session_id: &SessionId) -> Result<RetireReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let draining_executor = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            entry.generated_executor_registration_active() && entry.attachment_is_live()
        };
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (report, _) = self
            .run_session_step(session_id, "Retire", StepPayload::default(), |tx| {
                tx.apply(dsl::MeerkatMachineInput::Retire { session_id: dsl_session })?;
                // A retired session takes no new input but drains its queue; with no executor to drain it, the
                // queued inputs are abandoned as retired.
                let inputs_abandoned =
                    if draining_executor { 0 } else { abandon_pending_inputs(tx, dsl::InputAbandonReason::Retired)? };
                let inputs_pending_drain = tx
                    .state()
                    .input_ledger
                    .values()
                    .filter(|record| matches!(record.phase, dsl::InputPhase::Accepted | dsl::InputPhase::Queued))
                    .count();
                Ok(RetireReport { inputs_abandoned, inputs_pending_drain })
            })
            .await
            .map_err(RuntimeDriverError::from)?;
        Ok(report)
    }

    async fn reset_inner(&self, session_id: &SessionId) -> Result<ResetReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (inputs_abandoned, _) = self
            .run_session_step(session_id, "Reset", StepPayload::default(), |tx| {
                let abandoned = abandon_live_inputs(tx, dsl::InputAbandonReason::Reset)?;
                tx.apply(dsl::MeerkatMachineInput::Reset { session_id: dsl_session })?;
                Ok(abandoned)
            })
            .await
            .map_err(RuntimeDriverError::from)?;
        // A reset starts a new epoch: fresh cursors, and the handles of the old epoch close.
        let epoch_id = RuntimeEpochId::new();
        let cursor_state = Arc::new(EpochCursorState::new());
        let runtime_id = {
            let mut sessions = self.sessions.write().await;
            let entry = sessions.get_mut(session_id).ok_or_else(Self::missing)?;
            entry.close_handle_teardown_gate();
            entry.handle_teardown_gate = HandleTeardownGate::open();
            entry.epoch_id = epoch_id.clone();
            entry.cursor_state = Arc::clone(&cursor_state);
            entry.runtime_id.clone()
        };
        self.persist_epoch(&runtime_id, &epoch_id, &cursor_state).await?;
        Ok(ResetReport { inputs_abandoned, epoch_id })
    }

    async fn recycle_inner(&self, session_id: &SessionId) -> Result<RecycleReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        self.run_session_step(session_id, "Recycle", StepPayload::default(), |tx| {
            tx.apply(dsl::MeerkatMachineInput::Recycle { session_id: dsl_session }).map(|_| ())
        })
        .await
        .map_err(RuntimeDriverError::from)?;
        let (driver, wake) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            (Arc::clone(&entry.driver), entry.wake_sender())
        };
        let inputs_preserved = driver.lock().await.as_driver().queued_len();
        if let Some(wake) = wake {
            let _ = wake.try_send(());
        }
        Ok(RecycleReport { inputs_preserved })
    }

    async fn destroy_inner(&self, session_id: &SessionId) -> Result<DestroyReport, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let authority = self.session_dsl_authority(session_id).await?;
        let run_cancelled = lock_authority(&authority).state().current_run_id.is_some();
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (inputs_abandoned, _) = self
            .run_session_step(session_id, "Destroy", StepPayload::default(), |tx| {
                let abandoned = abandon_live_inputs(tx, dsl::InputAbandonReason::Destroyed)?;
                tx.apply(dsl::MeerkatMachineInput::Destroy { session_id: dsl_session })?;
                Ok(abandoned)
            })
            .await
            .map_err(RuntimeDriverError::from)?;
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
}
