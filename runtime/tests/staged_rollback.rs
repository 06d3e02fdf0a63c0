//! Staged-then-rolled-back changes leave the MeerkatMachine kernel exactly as it was, on a state whose input
//! ledger holds thousands of entries: a property test over random sequences of ledger, run, lifecycle and
//! visibility inputs (accepted and rejected ones), staged as one transaction or one change at a time, compared
//! with a snapshot the test takes before staging.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::OnceLock;

use meerkat_runtime::meerkat_machine::dsl::{self, MeerkatMachineMutator};
use proptest::prelude::*;

/// Ledger entries of the base state.
const LEDGER: usize = 4_000;

fn input_id(n: usize) -> dsl::InputId {
    dsl::InputId(format!("input-{n}"))
}

/// A registered, attached session with a run in flight and `LEDGER` inputs in every live and terminal phase.
fn base_state() -> &'static dsl::MeerkatMachineState {
    static BASE: OnceLock<dsl::MeerkatMachineState> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut authority = dsl::MeerkatMachineAuthority::new();
        let session_id = dsl::SessionId("session".to_string());
        let mut apply = |input| {
            MeerkatMachineMutator::apply(&mut authority, input).expect("the base state builds");
        };
        apply(dsl::MeerkatMachineInput::RegisterSession { session_id: session_id.clone() });
        apply(dsl::MeerkatMachineInput::EnsureSessionWithExecutor { session_id });
        for n in 0..LEDGER {
            apply(dsl::MeerkatMachineInput::AcceptInput { input_id: input_id(n) });
            if n % 3 != 0 {
                apply(dsl::MeerkatMachineInput::QueueInput { input_id: input_id(n) });
            }
            if n % 7 == 0 {
                apply(dsl::MeerkatMachineInput::AbandonInput {
                    input_id: input_id(n),
                    reason: dsl::InputAbandonReason::Cancelled,
                });
            }
        }
        apply(dsl::MeerkatMachineInput::BeginRun { run_id: dsl::RunId("run".to_string()) });
        authority.into_state()
    })
}

/// One input of the test's alphabet: ids are drawn from the ledger and a few past it, so inputs are accepted
/// and rejected (guards, missing entries, wrong phases).
fn input() -> impl Strategy<Value = dsl::MeerkatMachineInput> {
    let id = (0..LEDGER + 16).prop_map(input_id);
    let run = prop_oneof![Just("run"), Just("other")].prop_map(|r| dsl::RunId(r.to_string()));
    let reason = prop_oneof![
        Just(dsl::InputAbandonReason::Cancelled),
        Just(dsl::InputAbandonReason::Retired),
        Just(dsl::InputAbandonReason::Stopped),
    ];
    let session = Just(dsl::SessionId("session".to_string()));
    prop_oneof![
        id.clone().prop_map(|input_id| dsl::MeerkatMachineInput::AcceptInput { input_id }),
        id.clone().prop_map(|input_id| dsl::MeerkatMachineInput::QueueInput { input_id }),
        (id.clone(), run.clone())
            .prop_map(|(input_id, run_id)| dsl::MeerkatMachineInput::StageInput { input_id, run_id }),
        (id.clone(), run.clone(), any::<bool>()).prop_map(|(input_id, run_id, awaits_commit)| {
            dsl::MeerkatMachineInput::ApplyInput { input_id, run_id, awaits_commit }
        }),
        id.clone().prop_map(|input_id| dsl::MeerkatMachineInput::ConsumeInput { input_id }),
        (id.clone(), reason).prop_map(|(input_id, reason)| dsl::MeerkatMachineInput::AbandonInput { input_id, reason }),
        (id.clone(), id)
            .prop_map(|(input_id, superseded_by)| dsl::MeerkatMachineInput::SupersedeInput { input_id, superseded_by }),
        session.clone().prop_map(|session_id| dsl::MeerkatMachineInput::StageVisibilityFilter { session_id }),
        session.clone().prop_map(|session_id| dsl::MeerkatMachineInput::Retire { session_id }),
        Just(dsl::MeerkatMachineInput::InterruptCurrentRun),
        run.prop_map(|run_id| dsl::MeerkatMachineInput::FinishRun { run_id, outcome: dsl::RunOutcome::Committed }),
        session.prop_map(|session_id| dsl::MeerkatMachineInput::BeginUnregisterSession { session_id }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// A transaction of many inputs, staged and then rolled back through the authority.
    #[test]
    fn a_staged_transaction_rolls_back_exactly(inputs in proptest::collection::vec(input(), 1..40)) {
        let mut authority = dsl::MeerkatMachineAuthority::recover_from_state(base_state().clone()).unwrap();
        let snapshot = authority.snapshot();
        let mut transaction = authority.begin();
        for input in inputs {
            let before = transaction.state().clone();
            let log_before = format!("{transaction:?}");
            if transaction.apply(input).is_err() {
                prop_assert_eq!(transaction.state(), &before, "a rejected input changed the state");
                prop_assert_eq!(format!("{transaction:?}"), log_before, "a rejected input left entries in the log");
            }
        }
        let staged = transaction.stage();
        prop_assert!(authority.roll_back(staged));
        prop_assert_eq!(authority.state(), snapshot.state());
    }

    /// Changes staged one at a time and rolled back latest first; a roll-back of an older one is refused.
    #[test]
    fn staged_changes_roll_back_latest_first(inputs in proptest::collection::vec(input(), 1..24)) {
        let mut authority = dsl::MeerkatMachineAuthority::recover_from_state(base_state().clone()).unwrap();
        let snapshot = authority.snapshot();
        let mut staged = Vec::new();
        let mut after_first = None;
        for input in inputs {
            if let Ok((_, change)) = authority.stage(input) {
                staged.push(change);
                after_first.get_or_insert_with(|| authority.state().clone());
            }
        }
        if let (true, Some(after_first)) = (staged.len() >= 2, after_first) {
            let oldest = staged.remove(0);
            let current = authority.state().clone();
            prop_assert!(!authority.roll_back(oldest), "an older change rolled back over a later one");
            prop_assert_eq!(authority.state(), &current);
            // Every later change is still undoable, newest first, back to the state after the first change.
            while let Some(change) = staged.pop() {
                prop_assert!(authority.roll_back(change));
            }
            prop_assert_eq!(authority.state(), &after_first);
        } else {
            while let Some(change) = staged.pop() {
                prop_assert!(authority.roll_back(change));
            }
            prop_assert_eq!(authority.state(), snapshot.state());
        }
    }
}
