//! Staging: apply inputs to a live authority now and keep an undo record.
//!
//! A [`DslTransaction`] applies one or more inputs under a single hold of the authority's lock, through the
//! kernel's transaction (`MeerkatMachineTransaction`), which logs what every write displaced; if any input is
//! refused, the log rolls everything back before the lock is released, so a multi-input step (abandon the live
//! inputs, then destroy) is as all-or-nothing as one input. A successful transaction yields a
//! [`StagedSessionDslInput`]: the staged change (its undo record and the authority's version after it), the
//! effects, and (when a commit observer is installed) the journal of what was applied. The caller then mutates
//! its driver and either commits or rolls back with [`roll_back_staged_dsl_input`], which only rolls back if
//! nobody changed the authority since (one comparison of versions). Nothing here copies or compares whole states:
//! the cost of a step is that of its writes.

use crate::error::KernelRejection;
use crate::kernel::glue::{SharedDslAuthority, lock_authority};
use crate::kernel::meerkat_machine as dsl;

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
    transaction: dsl::MeerkatMachineTransaction<'a>,
    effects: Vec<dsl::MeerkatMachineEffect>,
    journal: Option<Vec<DslJournalEntry>>,
    context: &'static str,
}

impl DslTransaction<'_> {
    /// The state as of the inputs applied so far.
    pub(crate) fn state(&self) -> &dsl::MeerkatMachineState {
        self.transaction.state()
    }

    /// Applies one input; on refusal the caller returns the error and the whole transaction rolls back.
    pub(crate) fn apply(
        &mut self,
        input: dsl::MeerkatMachineInput,
    ) -> Result<&[dsl::MeerkatMachineEffect], KernelRejection> {
        let recorded = self.journal.as_ref().map(|_| input.clone());
        let transition = self
            .transaction
            .apply(input)
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
            .transaction
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

/// A step applied to the live authority and not yet committed: how to roll it back, and what it emitted.
#[derive(Debug)]
pub(crate) struct StagedSessionDslInput {
    /// The staged change: the undo record of its writes and the authority's version right after it.
    pub(crate) staged: dsl::MeerkatMachineStaged,
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
    let mut transaction =
        DslTransaction { transaction: guard.begin(), effects: Vec::new(), journal: journal.then(Vec::new), context };
    // On a refusal the kernel transaction is dropped with `transaction`, which undoes everything it applied.
    let result = body(&mut transaction)?;
    let DslTransaction { transaction, effects, journal, .. } = transaction;
    Ok((StagedSessionDslInput { staged: transaction.stage(), effects, journal: journal.unwrap_or_default() }, result))
}

/// Rolls a staged step back only if it is still the latest change of `authority` (its version), so a roll-back
/// never undoes a transition someone else committed in between. Returns whether it rolled back.
pub(crate) fn roll_back_staged_dsl_input(authority: &SharedDslAuthority, staged: dsl::MeerkatMachineStaged) -> bool {
    lock_authority(authority).roll_back(staged)
}

/// What `input` would do to `authority` now: applied in a kernel transaction that is undone before the lock is
/// released, so the live state is never observably changed (and never copied).
pub(crate) fn preview_dsl_input_on_authority(
    authority: &SharedDslAuthority,
    input: dsl::MeerkatMachineInput,
    context: &'static str,
) -> Result<Vec<dsl::MeerkatMachineEffect>, KernelRejection> {
    let mut guard = lock_authority(authority);
    let mut transaction = guard.begin();
    let outcome = transaction
        .apply(input)
        .map(dsl::MeerkatMachineTransition::into_effects)
        .map_err(|error| KernelRejection::Transition { context, error });
    transaction.roll_back();
    outcome
}
