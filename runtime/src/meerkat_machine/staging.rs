//! Staging: apply inputs to a live authority now and keep an undo record.
//!
//! A [`DslTransaction`] applies one or more inputs under a single hold of the authority's lock; if any is refused,
//! everything it applied is rolled back before the lock is released, so a multi-input step (abandon the live
//! inputs, then destroy) is as all-or-nothing as one input. A successful transaction yields a
//! [`StagedSessionDslInput`]: the snapshots before and after, the effects, and (when a commit observer is
//! installed) the journal of what was applied. The caller then mutates its driver and either commits or rolls
//! back with [`restore_dsl_authority_snapshot_if_current`], which only rolls back if nobody committed on top.

use crate::error::KernelRejection;
use crate::kernel::glue::{SharedDslAuthority, lock_authority};
use crate::kernel::meerkat_machine as dsl;
use crate::kernel::meerkat_machine::MeerkatMachineMutator;

/// One input or signal as applied to a session's kernel, in the order a serial replay must apply it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DslJournalEntry {
    /// An input.
    Input(dsl::MeerkatMachineInput),
    /// A signal.
    Signal(dsl::MeerkatMachineSignal),
}

/// Inputs applied under one lock hold. Built only by [`stage_dsl_transaction_on_authority`].
pub(crate) struct DslTransaction<'a> {
    authority: &'a mut dsl::MeerkatMachineAuthority,
    effects: Vec<dsl::MeerkatMachineEffect>,
    journal: Option<Vec<DslJournalEntry>>,
    context: &'static str,
}

impl DslTransaction<'_> {
    /// The state as of the inputs applied so far.
    pub(crate) fn state(&self) -> &dsl::MeerkatMachineState {
        self.authority.state()
    }

    /// Applies one input; on refusal the caller returns the error and the whole transaction rolls back.
    pub(crate) fn apply(
        &mut self,
        input: dsl::MeerkatMachineInput,
    ) -> Result<&[dsl::MeerkatMachineEffect], KernelRejection> {
        let recorded = self.journal.as_ref().map(|_| input.clone());
        let transition = MeerkatMachineMutator::apply(&mut *self.authority, input)
            .map_err(|error| KernelRejection::Transition { context: self.context, error })?;
        if let (Some(journal), Some(input)) = (self.journal.as_mut(), recorded) {
            journal.push(DslJournalEntry::Input(input));
        }
        let start = self.effects.len();
        self.effects.extend(transition.into_effects());
        Ok(self.effects.get(start..).unwrap_or_default())
    }

    /// Applies one signal, like [`DslTransaction::apply`].
    pub(crate) fn apply_signal(
        &mut self,
        signal: dsl::MeerkatMachineSignal,
    ) -> Result<&[dsl::MeerkatMachineEffect], KernelRejection> {
        let recorded = self.journal.as_ref().map(|_| signal.clone());
        let transition = self
            .authority
            .apply_signal(signal)
            .map_err(|error| KernelRejection::Transition { context: self.context, error })?;
        if let (Some(journal), Some(signal)) = (self.journal.as_mut(), recorded) {
            journal.push(DslJournalEntry::Signal(signal));
        }
        let start = self.effects.len();
        self.effects.extend(transition.into_effects());
        Ok(self.effects.get(start..).unwrap_or_default())
    }

    /// Refuses the step for a reason of the shell's (the transaction rolls back).
    pub(crate) fn refuse(&self, reason: impl Into<String>) -> KernelRejection {
        KernelRejection::Outcome { context: self.context, reason: reason.into() }
    }

    /// Abandons every ledger input that is still pending (accepted or queued) with `reason`; returns how many.
    pub(crate) fn abandon_pending_inputs(&mut self, reason: dsl::InputAbandonReason) -> Result<usize, KernelRejection> {
        let pending: Vec<dsl::InputId> = self
            .state()
            .input_ledger
            .iter()
            .filter(|(_, record)| matches!(record.phase, dsl::InputPhase::Accepted | dsl::InputPhase::Queued))
            .map(|(id, _)| id.clone())
            .collect();
        for input_id in &pending {
            self.apply(dsl::MeerkatMachineInput::AbandonInput { input_id: input_id.clone(), reason })?;
        }
        Ok(pending.len())
    }

    /// Abandons every live ledger input (any non-terminal phase) with `reason`; returns how many. The kernel
    /// needs a quiescent ledger before `Reset` and `Destroy`.
    pub(crate) fn abandon_live_inputs(&mut self, reason: dsl::InputAbandonReason) -> Result<usize, KernelRejection> {
        let live: Vec<dsl::InputId> = self
            .state()
            .input_ledger
            .iter()
            .filter(|(_, record)| record.terminal_kind.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for input_id in &live {
            self.apply(dsl::MeerkatMachineInput::AbandonInput { input_id: input_id.clone(), reason })?;
        }
        Ok(live.len())
    }
}

/// A step applied to the live authority and not yet committed: what to roll back to, what it committed, and what it
/// emitted.
#[derive(Debug)]
pub(crate) struct StagedSessionDslInput {
    /// The authority before the step.
    pub(crate) previous_snapshot: dsl::MeerkatMachineAuthoritySnapshot,
    /// The authority after the step.
    pub(crate) committed_snapshot: dsl::MeerkatMachineAuthoritySnapshot,
    /// The effects the step emitted, in order.
    pub(crate) effects: Vec<dsl::MeerkatMachineEffect>,
    /// What the step applied (empty unless journaling was asked for).
    pub(crate) journal: Vec<DslJournalEntry>,
}

/// Runs `body` as one transaction on `authority`: every input it applies lands, or none does.
pub(crate) fn stage_dsl_transaction_on_authority<R>(
    authority: &SharedDslAuthority,
    context: &'static str,
    journal: bool,
    body: impl FnOnce(&mut DslTransaction<'_>) -> Result<R, KernelRejection>,
) -> Result<(StagedSessionDslInput, R), KernelRejection> {
    let mut guard = lock_authority(authority);
    let previous_snapshot = guard.snapshot();
    let mut transaction =
        DslTransaction { authority: &mut guard, effects: Vec::new(), journal: journal.then(Vec::new), context };
    match body(&mut transaction) {
        Ok(result) => {
            let DslTransaction { effects, journal, .. } = transaction;
            let committed_snapshot = guard.snapshot();
            Ok((
                StagedSessionDslInput {
                    previous_snapshot,
                    committed_snapshot,
                    effects,
                    journal: journal.unwrap_or_default(),
                },
                result,
            ))
        }
        Err(rejection) => {
            guard.restore_snapshot(previous_snapshot);
            Err(rejection)
        }
    }
}

/// Rolls `authority` back to `restore` only if it is still exactly `expected_current`, so a rollback never
/// overwrites a transition someone else committed in between. Returns whether it rolled back.
pub(crate) fn restore_dsl_authority_snapshot_if_current(
    authority: &SharedDslAuthority,
    expected_current: &dsl::MeerkatMachineAuthoritySnapshot,
    restore: dsl::MeerkatMachineAuthoritySnapshot,
) -> bool {
    let mut guard = lock_authority(authority);
    if guard.state() == expected_current.state() {
        guard.restore_snapshot(restore);
        true
    } else {
        false
    }
}

/// Applies `input` to a copy of `state` (never to a live authority) and returns its effects.
pub(crate) fn preview_dsl_input_on_state(
    state: &dsl::MeerkatMachineState,
    input: dsl::MeerkatMachineInput,
    context: &'static str,
) -> Result<Vec<dsl::MeerkatMachineEffect>, KernelRejection> {
    let mut preview = dsl::MeerkatMachineAuthority::recover_from_state(state.clone())
        .map_err(|error| KernelRejection::Transition { context, error })?;
    MeerkatMachineMutator::apply(&mut preview, input)
        .map(dsl::MeerkatMachineTransition::into_effects)
        .map_err(|error| KernelRejection::Transition { context, error })
}
