//! The ingress command group: accepting inputs. The kernel takes the input into its ledger and queue
//! (`AcceptInput` then `QueueInput`, one step); a refusal is reported as the kernel's ingress column for the
//! session's phase says (a validation failure where input is admitted, `NotReady` or `Destroyed` elsewhere). The
//! completion waiter is registered before the gate is released, so the loop cannot finish the input first.

use std::sync::Arc;

use super::MeerkatMachine;
use super::classify_runtime_lifecycle_state;
use super::command::{MeerkatMachineCommand, MeerkatMachineCommandResult};
use super::dsl;
use super::machine::{SessionStepError, StepPayload};
use crate::completion::CompletionRegistry;
use crate::identifiers::SessionId;
use crate::input::{AcceptOutcome, Input};
use crate::traits::RuntimeDriverError;

impl MeerkatMachine {
    /// The ingress group.
    pub(crate) async fn execute_meerkat_machine_ingress_command(
        &self,
        command: MeerkatMachineCommand,
    ) -> Result<MeerkatMachineCommandResult, RuntimeDriverError> {
        match command {
            MeerkatMachineCommand::AcceptWithCompletion { session_id, input } => {
                self.accept(&session_id, input, true).await
            }
            MeerkatMachineCommand::AcceptWithoutWake { session_id, input } => {
                self.accept(&session_id, input, false).await
            }
            other => Err(RuntimeDriverError::Internal(format!("{} is not an ingress command", other.name()))),
        }
    }

    async fn accept(
        &self,
        session_id: &SessionId,
        input: Input,
        with_completion: bool,
    ) -> Result<MeerkatMachineCommandResult, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let input_id = input.id.clone();
        let dsl_input = dsl::InputId::from_domain(&input_id);
        let step = self
            .run_session_step(
                session_id,
                "AcceptInput",
                StepPayload { accepted: vec![input], ..StepPayload::default() },
                |tx| {
                    tx.apply(dsl::MeerkatMachineInput::AcceptInput { input_id: dsl_input.clone() })?;
                    tx.apply(dsl::MeerkatMachineInput::QueueInput { input_id: dsl_input }).map(|_| ())
                },
            )
            .await;
        if let Err(error) = step {
            return Err(match error {
                SessionStepError::Rejected(rejection) => self.ingress_refusal(session_id, rejection.to_string()).await,
                SessionStepError::Driver(error) => error,
            });
        }
        let (completions, wake) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(Self::missing)?;
            (Arc::clone(&entry.completions), entry.wake_sender())
        };
        let completion = with_completion.then(|| CompletionRegistry::lock(&completions).register(input_id.clone()));
        if with_completion && let Some(wake) = wake {
            // A full channel already holds a wake for the loop.
            let _ = wake.try_send(());
        }
        Ok(MeerkatMachineCommandResult::Accepted { outcome: AcceptOutcome::Accepted { input_id }, completion })
    }

    /// How ingress reports a kernel refusal in the session's current phase.
    async fn ingress_refusal(&self, session_id: &SessionId, reason: String) -> RuntimeDriverError {
        let Some(state) = self.existing_session_runtime_state(session_id).await else {
            return Self::missing();
        };
        match classify_runtime_lifecycle_state(state).map(|facts| facts.ingress_admission) {
            Ok(dsl::RuntimeIngressAdmission::Open) => RuntimeDriverError::ValidationFailed { reason },
            Ok(dsl::RuntimeIngressAdmission::NotReady) => RuntimeDriverError::NotReady { state },
            Ok(dsl::RuntimeIngressAdmission::Destroyed) => RuntimeDriverError::Destroyed,
            Err(error) => RuntimeDriverError::Internal(error.to_string()),
        }
    }
}
