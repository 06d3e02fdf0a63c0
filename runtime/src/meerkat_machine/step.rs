//! The stage → driver → commit step, the only code that changes a live session's kernel, shared by the shell
//! (`MeerkatMachine::run_session_step`, which looks the session's parts up) and by the handle port (which holds
//! them): stage the body on the kernel, realize the effects in the driver (rolling the kernel back,
//! compare-and-restore, if the driver fails, which includes a refused store commit), then commit (report to the
//! journal observer, resolve completion waiters, dispatch routed signals). Every caller holds the session's gate.
//! [`StepCommitters`] is what a commit reports to: the observer and the composition dispatcher, one per machine.

use std::sync::{Arc, PoisonError, RwLock as StdRwLock};

use tracing::Instrument;

use super::composition::{CompositionDispatchError, MeerkatCompositionSignalDispatcher, lift_routed_signal};
use super::machine::DslCommitObserver;
use super::staging::{
    DslTransaction, StagedSessionDslInput, roll_back_staged_dsl_input, stage_dsl_transaction_on_authority,
};
use crate::completion::{SharedCompletionRegistry, resolve_terminal_completions};
use crate::driver::{DriverMutation, SharedDriver};
use crate::error::{KernelRejection, RuntimeDriverError};
use crate::identifiers::{RunId, SessionId};
use crate::input::Input;
use crate::kernel::glue::SharedDslAuthority;
use crate::kernel::meerkat_machine as dsl;

/// How a staged step ended when it did not complete.
#[derive(Debug)]
pub(crate) enum SessionStepError {
    /// The kernel refused; nothing changed.
    Rejected(KernelRejection),
    /// The session is gone, the driver failed (the kernel was rolled back), or the commit's effect dispatch
    /// failed (the kernel state was kept).
    Driver(RuntimeDriverError),
}

impl From<SessionStepError> for RuntimeDriverError {
    fn from(error: SessionStepError) -> Self {
        match error {
            SessionStepError::Rejected(rejection) => rejection.into(),
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

/// A staged step the driver has not realized yet: rolled back (compare-and-restore) when dropped undecided.
struct PendingStep<'a> {
    authority: &'a SharedDslAuthority,
    session_id: &'a SessionId,
    context: &'static str,
    staged: Option<StagedSessionDslInput>,
}

impl PendingStep<'_> {
    fn roll_back(&mut self) {
        if let Some(StagedSessionDslInput { staged, .. }) = self.staged.take()
            && !roll_back_staged_dsl_input(self.authority, staged)
        {
            let (session_id, context) = (self.session_id, self.context);
            tracing::warn!(%session_id, context, "kernel moved on before the step could be rolled back");
        }
    }
}

impl Drop for PendingStep<'_> {
    fn drop(&mut self) {
        self.roll_back();
    }
}

/// The shared parts of one session a step works on.
#[derive(Clone)]
pub(crate) struct SessionParts {
    /// The kernel.
    pub(crate) authority: SharedDslAuthority,
    /// The driver.
    pub(crate) driver: SharedDriver,
    /// The completion waiters.
    pub(crate) completions: SharedCompletionRegistry,
}

/// Where commits are reported: the journal observer and the composition dispatcher (both optional).
#[derive(Default)]
pub(crate) struct StepCommitters {
    pub(crate) observer: StdRwLock<Option<Arc<dyn DslCommitObserver>>>,
    pub(crate) dispatcher: StdRwLock<Option<MeerkatCompositionSignalDispatcher>>,
}

impl StepCommitters {
    pub(crate) fn commit_observer(&self) -> Option<Arc<dyn DslCommitObserver>> {
        self.observer.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn journaling(&self) -> bool {
        self.observer.read().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// One step on a session's parts, the gate held by the caller (see `MeerkatMachine::run_session_step`): stage
    /// `body`, realize it in the driver, commit; then forget the inputs it made terminal.
    pub(crate) async fn run<R>(
        &self,
        session_id: &SessionId,
        parts: &SessionParts,
        context: &'static str,
        payload: StepPayload,
        body: impl FnOnce(&mut DslTransaction<'_>) -> Result<R, KernelRejection>,
    ) -> Result<(R, Vec<dsl::MeerkatMachineEffect>), SessionStepError> {
        let (result, effects) = self.stage_realize_commit(session_id, parts, context, payload, body).await?;
        let terminal: Vec<dsl::InputId> = effects
            .iter()
            .filter_map(|effect| match effect {
                dsl::MeerkatMachineEffect::InputLedgerUpdated { input_id, record }
                    if record.terminal_kind.is_some() =>
                {
                    Some(input_id.clone())
                }
                _ => None,
            })
            .collect();
        if !terminal.is_empty() {
            let span =
                tracing::debug_span!("session_step", session_id = %session_id, transition = "ForgetTerminalInputs");
            let forget = self
                .stage_realize_commit(session_id, parts, "ForgetTerminalInputs", StepPayload::default(), |tx| {
                    for input_id in terminal {
                        tx.apply(dsl::MeerkatMachineInput::ForgetInput { input_id })?;
                    }
                    Ok(())
                })
                .instrument(span)
                .await;
            if let Err(error) = forget {
                tracing::warn!(%session_id, error = ?error, "terminal inputs stay in the ledger: their forget failed");
            }
        }
        Ok((result, effects))
    }

    /// One stage → driver → commit on the session's parts.
    async fn stage_realize_commit<R>(
        &self,
        session_id: &SessionId,
        parts: &SessionParts,
        context: &'static str,
        payload: StepPayload,
        body: impl FnOnce(&mut DslTransaction<'_>) -> Result<R, KernelRejection>,
    ) -> Result<(R, Vec<dsl::MeerkatMachineEffect>), SessionStepError> {
        let SessionParts { authority, driver, completions } = parts;
        let (staged, result) = stage_dsl_transaction_on_authority(authority, context, self.journaling(), body)
            .map_err(SessionStepError::Rejected)?;
        // Until the driver has realized it, the staged change is rolled back if this future is dropped (a caller's
        // timeout or cancellation), so a dropped step leaves the kernel as the driver and the store see it.
        let mut pending = PendingStep { authority, session_id, context, staged: Some(staged) };
        let mut driver_guard = driver.lock().await;
        let effects_ref = pending.staged.as_ref().map(|staged| staged.effects.as_slice()).unwrap_or_default();
        let mutation = DriverMutation {
            effects: effects_ref,
            accepted: payload.accepted,
            run_id: payload.run_id,
            boundary_sequence: payload.boundary_sequence,
        };
        if let Err(error) = driver_guard.apply_mutation(mutation).await {
            drop(driver_guard);
            pending.roll_back();
            return Err(SessionStepError::Driver(error));
        }
        let Some(staged) = pending.staged.take() else {
            return Err(SessionStepError::Driver(RuntimeDriverError::Internal(format!(
                "generated MeerkatMachine ({context}): the staged step went missing"
            ))));
        };
        drop(driver_guard);
        let effects = staged.effects.clone();
        if let Err(error) = self.commit_session_dsl_transition(session_id, staged, completions).await {
            // The kernel state stays committed; the driver already mirrors it, re-read it anyway.
            driver.lock().await.sync_control_projection_from_dsl_authority();
            return Err(SessionStepError::Driver(RuntimeDriverError::Internal(format!(
                "generated MeerkatMachine ({context}): committed effect dispatch failed: {error}"
            ))));
        }
        Ok((result, effects))
    }

    /// Commits a staged step: reports it to the observer, resolves the completion waiters of inputs it made
    /// terminal, and dispatches the routed signals its effects lift to. A dispatch failure keeps the committed
    /// kernel state and is reported.
    async fn commit_session_dsl_transition(
        &self,
        session_id: &SessionId,
        staged: StagedSessionDslInput,
        completions: &SharedCompletionRegistry,
    ) -> Result<(), CompositionDispatchError> {
        let StagedSessionDslInput { staged: change, effects, journal } = staged;
        // Past the driver, the step stays: its undo record is dropped.
        change.commit();
        if let Some(observer) = self.commit_observer()
            && !journal.is_empty()
        {
            observer.committed(session_id, &journal);
        }
        resolve_terminal_completions(completions, &effects);
        self.dispatch_routed_signals_from_effects(&effects).await
    }

    async fn dispatch_routed_signals_from_effects(
        &self,
        effects: &[dsl::MeerkatMachineEffect],
    ) -> Result<(), CompositionDispatchError> {
        let dispatcher = self.dispatcher.read().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(dispatcher) = dispatcher else {
            return Ok(());
        };
        for effect in effects {
            for routed in lift_routed_signal(effect) {
                dispatcher.dispatch(routed).await?;
            }
        }
        Ok(())
    }
}
