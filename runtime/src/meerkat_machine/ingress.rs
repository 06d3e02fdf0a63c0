//! The ingress group: accepting inputs (with a completion waiter, or without waking the loop) and reading an
//! input's stored state.
//!
//! The kernel takes the input into its ledger and queue (`AcceptInput` then `QueueInput`, one step); a refusal is
//! reported as the kernel's ingress column for the session's phase says (a validation failure where input is
//! admitted, `NotReady` or `Destroyed` elsewhere). The completion waiter is registered before the gate is
//! released, so the loop cannot finish the input first.

use std::sync::Arc;

use tokio::sync::OwnedMutexGuard;

use super::machine::{MeerkatMachine, SessionStepError, StepPayload};
use crate::completion::{CompletionHandle, CompletionRegistry, SharedCompletionRegistry};
use crate::error::{BackpressureBound, IdKind, KernelRejection, RuntimeDriverError};
use crate::identifiers::{InputId, SessionId};
use crate::input::{AcceptOutcome, Input, InputStateSeed};
use crate::kernel::classify::classify_runtime_lifecycle_state;
use crate::kernel::glue::lock_authority;
use crate::kernel::meerkat_machine as dsl;
use crate::observability::RejectionReason;

/// An input the kernel and the driver took, with the session's parts its caller still needs.
struct Admitted {
    input_id: InputId,
    completions: SharedCompletionRegistry,
    wake: Option<tokio::sync::mpsc::Sender<()>>,
}

impl MeerkatMachine {
    /// Accepts an input, wakes the runtime loop and returns a completion handle that resolves exactly once.
    ///
    /// # Errors
    ///
    /// As the kernel's ingress column says: `DuplicateInput` for an id live or inside the dedupe window,
    /// `ValidationFailed` for another refusal where input is admitted (a retiring run), `NotReady` where it is
    /// not, `Destroyed`; `Draining` while an unregistration is in progress; `InvalidId` for an empty id;
    /// `UnknownSession`; `Backpressure` when
    /// the session's queue or its completion waiters are at their bound ([`crate::RuntimeOptions`]).
    pub async fn accept_input_with_completion(
        &self,
        session_id: &SessionId,
        input: Input,
    ) -> Result<(AcceptOutcome, CompletionHandle), RuntimeDriverError> {
        let (_gate, admitted) = self.admit(session_id, input, true).await?;
        let Admitted { input_id, completions, wake } = admitted;
        let completion = CompletionRegistry::lock(&completions).register(input_id.clone());
        if let Some(wake) = wake {
            // A full channel already holds a wake for the loop.
            let _ = wake.try_send(());
        }
        Ok((AcceptOutcome::Accepted { input_id }, completion))
    }

    /// Accepts an input without waking the runtime loop (it drains at the next wake).
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::accept_input_with_completion`], except that no completion waiter is counted.
    pub async fn accept_input_without_wake(
        &self,
        session_id: &SessionId,
        input: Input,
    ) -> Result<AcceptOutcome, RuntimeDriverError> {
        let (_gate, admitted) = self.admit(session_id, input, false).await?;
        Ok(AcceptOutcome::Accepted { input_id: admitted.input_id })
    }

    /// Takes `input` into the kernel's ledger and queue (and the driver's) in one step. Returns the session's gate,
    /// still held, so the caller finishes the acceptance before the loop can see the input, with what the caller
    /// needs to finish it (one lookup of the session's entry, taken under the gate).
    async fn admit(
        &self,
        session_id: &SessionId,
        input: Input,
        with_completion: bool,
    ) -> Result<(OwnedMutexGuard<()>, Admitted), RuntimeDriverError> {
        match self.admit_counted(session_id, input, with_completion).await {
            Ok(admitted) => {
                self.counters.record_accepted();
                Ok(admitted)
            }
            Err(error) => {
                self.counters.record_rejected(RejectionReason::of(&error));
                Err(error)
            }
        }
    }

    /// The admission behind [`MeerkatMachine::admit`], which counts its outcome.
    async fn admit_counted(
        &self,
        session_id: &SessionId,
        input: Input,
        with_completion: bool,
    ) -> Result<(OwnedMutexGuard<()>, Admitted), RuntimeDriverError> {
        self.refuse_shut_down()?;
        RuntimeDriverError::require_id(IdKind::Input, input.id.as_str())?;
        let gate = self.gate(session_id).await?;
        let (completions, wake) = {
            let sessions = self.sessions.read().await;
            let entry = sessions.get(session_id).ok_or_else(|| Self::missing(session_id))?;
            let (phase, registration) = {
                let authority = lock_authority(&entry.dsl_authority);
                (authority.state().lifecycle_phase, authority.state().registration_phase)
            };
            if phase == dsl::MeerkatMachinePhase::Destroyed {
                return Err(RuntimeDriverError::Destroyed);
            }
            // An unregistration opened the drain window: nothing new will run here.
            if registration == dsl::RegistrationPhase::Draining {
                return Err(RuntimeDriverError::Draining);
            }
            (Arc::clone(&entry.completions), entry.wake_sender())
        };
        let limit = self.options.max_completion_waiters;
        if with_completion && CompletionRegistry::lock(&completions).pending() >= limit {
            return Err(RuntimeDriverError::Backpressure { what: BackpressureBound::CompletionWaiters, limit });
        }
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
        match step {
            Ok(_) => Ok((gate, Admitted { input_id, completions, wake })),
            Err(SessionStepError::Rejected(rejection)) => {
                Err(self.ingress_refusal(session_id, &input_id, rejection).await)
            }
            Err(SessionStepError::Driver(error)) => Err(error),
        }
    }

    /// How ingress reports a kernel refusal in the session's current phase: where input is admitted, a refusal of
    /// an id the kernel's ledger holds is `DuplicateInput` (the kernel's refusal its source).
    async fn ingress_refusal(
        &self,
        session_id: &SessionId,
        input_id: &InputId,
        rejection: KernelRejection,
    ) -> RuntimeDriverError {
        let Some(state) = self.existing_session_runtime_state(session_id).await else {
            return Self::missing(session_id);
        };
        match classify_runtime_lifecycle_state(state).map(|facts| facts.ingress_admission) {
            Ok(dsl::RuntimeIngressAdmission::Open) => {
                let held = match self.session_dsl_authority(session_id).await {
                    Ok(authority) => lock_authority(&authority)
                        .state()
                        .input_ledger
                        .contains_key(&dsl::InputId::from_domain(input_id)),
                    Err(_) => false,
                };
                if held {
                    RuntimeDriverError::DuplicateInput { input_id: input_id.clone(), source: Some(Box::new(rejection)) }
                } else {
                    rejection.into()
                }
            }
            Ok(dsl::RuntimeIngressAdmission::NotReady) => RuntimeDriverError::NotReady { state },
            Ok(dsl::RuntimeIngressAdmission::Destroyed) => RuntimeDriverError::Destroyed,
            Err(error) => RuntimeDriverError::Internal(error.to_string()),
        }
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
        let driver = self.session_driver(session_id).await?;
        let state = driver.lock().await.stored_input_state(input_id);
        Ok(state)
    }

    /// The inputs that are not terminal, in admission order.
    ///
    /// # Errors
    ///
    /// A missing session.
    pub async fn list_active_inputs(&self, session_id: &SessionId) -> Result<Vec<InputId>, RuntimeDriverError> {
        let driver = self.session_driver(session_id).await?;
        let ids = driver.lock().await.active_input_ids();
        Ok(ids)
    }
}
