//! The shell's side of a runtime handle's writes: [`GatedHandlePort`] applies a handle's input as one step of the
//! session, exactly as the shell's own operations do: under the session's mutation gate, through the stage →
//! driver → commit step (so it is persisted by a persistent driver, reported to the journal observer, and its
//! terminal inputs forgotten), and only while the handle's epoch is open (its teardown gate is checked again
//! once the mutation gate is held, and every teardown closes it under that gate).

use std::sync::Arc;

use super::step::{SessionParts, SessionStepError, StepCommitters, StepPayload};
use crate::error::KernelRejection;
use crate::handles::{DslTransitionError, HandleStepPort, HandleTeardownGate, StepRecorder, map_kernel_error};
use crate::identifiers::{BoxFuture, SessionId};
use crate::kernel::meerkat_machine as dsl;

/// The step port of the handles minted for one session epoch.
pub(crate) struct GatedHandlePort {
    pub(crate) committers: Arc<StepCommitters>,
    pub(crate) session_id: SessionId,
    pub(crate) parts: SessionParts,
    pub(crate) mutation_gate: Arc<tokio::sync::Mutex<()>>,
    pub(crate) teardown_gate: Arc<HandleTeardownGate>,
}

impl HandleStepPort for GatedHandlePort {
    fn apply<'a>(
        &'a self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
        record: StepRecorder<'a>,
    ) -> BoxFuture<'a, Result<Vec<dsl::MeerkatMachineEffect>, DslTransitionError>> {
        Box::pin(async move {
            if input.is_runtime_internal() {
                return Err(DslTransitionError::no_matching(
                    context,
                    format!("`{}` is runtime-internal: only the runtime applies it", input.name()),
                ));
            }
            self.teardown_gate.ensure_open(context)?;
            let _gate = self.mutation_gate.lock().await;
            self.teardown_gate.ensure_open(context)?;
            let step = self
                .committers
                .run(&self.session_id, &self.parts, context, StepPayload::default(), |tx| {
                    tx.apply(input).map(<[dsl::MeerkatMachineEffect]>::to_vec)
                })
                .await;
            match step {
                Ok((effects, _)) => {
                    record(&effects);
                    Ok(effects)
                }
                Err(SessionStepError::Rejected(KernelRejection::Transition { error, .. })) => {
                    Err(map_kernel_error(error, context))
                }
                Err(SessionStepError::Rejected(other)) => {
                    Err(DslTransitionError::guard_rejected(context, other.to_string()))
                }
                Err(SessionStepError::Driver(error)) => {
                    Err(DslTransitionError::runtime_failed(context, error.to_string()))
                }
            }
        })
    }
}
