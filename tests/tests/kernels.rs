//! Behaviour of generated kernels through their public API (the kernel contract): every error kind with its
//! names and message, the state left untouched by every rejection, recovery naming each broken invariant,
//! snapshots, the owner token, the message enums' metadata, and serde round trips. The kernels come from
//! `build.rs` (`meerkat_tests::kernels`); the differential tests cover behaviour at large, these pin specifics.

// Tests report failures by panicking.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use meerkat_tests::kernels::bank::{BankAuthority, BankInput, BankMutator, BankState};
use meerkat_tests::kernels::sink::{
    Pair, SinkAuthority, SinkEffect, SinkInput, SinkPhase, SinkSignal, SinkState, SinkTransitionError,
};
use meerkat_tests::kernels::traffic_light::{
    Lamp, TrafficLightAuthority, TrafficLightEffect, TrafficLightInput, TrafficLightPhase, TrafficLightState,
    TrafficLightTransitionError,
};
use meerkat_tests::kernels::turnstile::{TurnstileAuthority, TurnstilePhase, TurnstileState};

/// Applies `input`, requires a rejection, and requires the state to be exactly as before.
fn rejected(authority: &mut SinkAuthority, input: SinkInput) -> SinkTransitionError {
    let before = authority.state().clone();
    let error = authority.apply(input.clone()).expect_err(&format!("{input:?} is rejected"));
    assert_eq!(authority.state(), &before, "{input:?} was rejected ({error}) but changed the state");
    error
}

/// A sink in `Active`, after `Start`.
fn active_sink() -> SinkAuthority {
    let mut sink = SinkAuthority::new();
    sink.apply(SinkInput::Start { mode: meerkat_tests::kernels::sink::Mode::Fast }).expect("Idle -> Active");
    assert_eq!(sink.state().stage, SinkPhase::Active);
    sink
}

#[test]
fn no_matching_transition_names_phase_and_trigger() {
    let mut sink = SinkAuthority::new();
    let error = rejected(&mut sink, SinkInput::Add { amount: 1 });
    assert_eq!(error, SinkTransitionError::NoMatchingTransition { phase: SinkPhase::Idle, trigger: "Add" });
    assert_eq!(error.to_string(), "no transition for `Add` in phase `Idle`");
}

#[test]
fn guard_rejection_lists_every_candidate_with_its_first_failing_guard() {
    let mut sink = active_sink();
    sink.apply(SinkInput::Drain).expect("Active -> Draining");
    let error = rejected(&mut sink, SinkInput::Add { amount: 3 });
    let SinkTransitionError::GuardRejected { phase, trigger, rejections } = &error else {
        panic!("expected a guard rejection, got {error:?}")
    };
    assert_eq!((*phase, *trigger), (SinkPhase::Draining, "Add"));
    assert_eq!(
        rejections.iter().collect::<Vec<_>>(),
        vec![("AddOne", "amount == 1"), ("AddTwo", "amount == 2")],
        "rejections are in declaration order, each with its first failing guard's source text"
    );
    assert_eq!(rejections.len(), 2);
    assert_eq!(
        error.to_string(),
        "every candidate for `Add` in phase `Draining` was rejected by a guard: `AddOne` (`amount == 1` does not \
         hold), `AddTwo` (`amount == 2` does not hold)"
    );

    // A named guard is labelled by its name; the second guard is only reached when the first holds.
    let error = rejected(&mut sink, SinkInput::Add { amount: 2 });
    let SinkTransitionError::GuardRejected { rejections, .. } = error else { panic!("expected a guard rejection") };
    assert_eq!(rejections.iter().collect::<Vec<_>>(), vec![("AddOne", "amount == 1"), ("AddTwo", "owned")]);
}

#[test]
fn two_passing_candidates_are_ambiguous() {
    let mut sink = active_sink();
    let error = rejected(&mut sink, SinkInput::Add { amount: 3 });
    assert_eq!(
        error,
        SinkTransitionError::AmbiguousTransition {
            phase: SinkPhase::Active,
            trigger: "Add",
            first: "AddSmall",
            second: "AddMore",
        }
    );
    assert!(error.to_string().contains("`AddSmall` and `AddMore` both accept `Add`"), "{error}");
}

#[test]
fn the_otherwise_candidate_fires_when_no_guard_holds() {
    let mut sink = active_sink();
    sink.apply(SinkInput::Add { amount: 2 }).expect("AddSmall");
    // `total` is now at the limit, so `has_room` fails and 1 is too small for `AddMore`.
    let fired = sink.apply(SinkInput::Add { amount: 1 }).expect("the fallback fires");
    assert_eq!(fired.transition_name(), "AddNothing");
    assert_eq!(sink.state().r#type, 1, "a field named `type` is written as `r#type`");
}

#[test]
fn overflow_in_a_body_undoes_the_writes_before_it() {
    let mut sink = active_sink();
    // `Divide` pushes to `log` and inserts into `names` before dividing by zero.
    let error = rejected(&mut sink, SinkInput::Divide { by: 0 });
    assert_eq!(error, SinkTransitionError::ArithmeticOverflow { transition: "Divide" });
    assert_eq!(error.to_string(), "arithmetic overflow or division by zero in transition `Divide`");
    let fired = sink.apply(SinkInput::Divide { by: 1 }).expect("dividing by one works");
    assert_eq!(fired.transition_name(), "Divide");
    assert_eq!(sink.state().log, vec![1]);
}

#[test]
fn overflow_in_a_guard_names_its_candidate() {
    let mut sink = active_sink();
    sink.apply_signal(SinkSignal::Poke { r#mod: u64::MAX - 2 }).expect("right becomes u64::MAX");
    assert_eq!(sink.state().pair, Pair { left: 1, right: u64::MAX });
    let before = sink.state().clone();
    let error = sink.apply_signal(SinkSignal::Poke { r#mod: 0 }).expect_err("`balanced` overflows");
    assert_eq!(error, SinkTransitionError::ArithmeticOverflow { transition: "Poke" });
    assert_eq!(sink.state(), &before);
}

#[test]
fn a_broken_invariant_rejects_and_undoes_every_kind_of_write() {
    let mut sink = active_sink();
    sink.apply(SinkInput::Name { name: "b".into(), weight: 1 }).expect("a name with a small weight");
    // Weight `u64::MAX` makes `weights_sane` fail to evaluate, so it does not hold: the set insert, map insert,
    // record assignment, seq push and the pop in a branch are all undone.
    let error = rejected(&mut sink, SinkInput::Name { name: "c".into(), weight: u64::MAX });
    assert_eq!(error, SinkTransitionError::InvariantViolated { transition: "Name", invariant: "weights_sane" });
    assert_eq!(error.to_string(), "transition `Name` would break invariant `weights_sane`");
}

#[test]
fn effects_carry_defaults_evaluated_where_emitted() {
    let mut sink = active_sink();
    let fired = sink.apply(SinkInput::Add { amount: 1 }).expect("AddSmall");
    assert_eq!(fired.source(), SinkPhase::Active);
    assert_eq!(fired.target(), SinkPhase::Active);
    assert_eq!(fired.effects(), &[SinkEffect::Changed { stage: SinkPhase::Active, total: 1 }]);
    assert_eq!(fired.into_effects(), vec![SinkEffect::Changed { stage: SinkPhase::Active, total: 1 }]);

    let mut light = TrafficLightAuthority::new();
    for _ in 0..3 {
        let waited = light.apply(TrafficLightInput::Tick).expect("WaitOnRed");
        assert_eq!(waited.transition_name(), "WaitOnRed");
        assert!(waited.effects().is_empty());
    }
    let green = light.apply(TrafficLightInput::Tick).expect("ChangeToGreen");
    assert_eq!((green.source(), green.target()), (TrafficLightPhase::Red, TrafficLightPhase::Green));
    assert_eq!(
        green.effects(),
        &[
            TrafficLightEffect::Show { lamp: Lamp::Green },
            TrafficLightEffect::Projected { phase: TrafficLightPhase::Green, cycles: 0, requested: false },
        ]
    );
}

#[test]
fn recovery_names_each_broken_invariant() {
    let recover = |state: TrafficLightState| TrafficLightAuthority::recover_from_state(state).err();
    let named = |invariant| Some(TrafficLightTransitionError::RecoveredStateInvariantRejected { invariant });
    let initial = TrafficLightState::initial();
    assert_eq!(recover(initial.clone()), None);
    assert_eq!(recover(TrafficLightState { requested: true, ..initial.clone() }), named("request_only_when_green"));
    assert_eq!(
        recover(TrafficLightState { phase: TrafficLightPhase::Off, ticks: 1, ..initial.clone() }),
        named("off_is_dark")
    );
    // Both broken: the first in declaration order is named.
    assert_eq!(
        recover(TrafficLightState { phase: TrafficLightPhase::Off, ticks: 1, requested: true, ..initial }),
        named("request_only_when_green")
    );
    assert_eq!(
        TrafficLightAuthority::recover_from_state(TrafficLightState { requested: true, ..Default::default() })
            .err()
            .map(|e| e.to_string()),
        Some("the recovered state breaks invariant `request_only_when_green`".to_string())
    );

    let sink_initial = SinkState::initial();
    let sink = |state: SinkState| match SinkAuthority::recover_from_state(state) {
        Err(SinkTransitionError::RecoveredStateInvariantRejected { invariant }) => Some(invariant),
        _ => None,
    };
    assert_eq!(sink(SinkState { total: 21, ..sink_initial.clone() }), Some("total_bounded"));
    assert_eq!(sink(SinkState { log: vec![0; 6], ..sink_initial.clone() }), Some("log_short"));
    assert_eq!(
        sink(SinkState { weights: BTreeMap::from([("a".to_string(), u64::MAX)]), ..sink_initial.clone() }),
        Some("weights_sane"),
        "an invariant that overflows does not hold"
    );
    assert_eq!(sink(SinkState { stage: SinkPhase::Done, ..sink_initial.clone() }), Some("done_is_quiet"));
    assert_eq!(
        sink(SinkState { stage: SinkPhase::Done, names: BTreeSet::new(), ..sink_initial }),
        None,
        "a quiet Done state recovers"
    );

    let turnstile = |state: TurnstileState| TurnstileAuthority::recover_from_state(state).err().map(|e| e.to_string());
    let t_initial = TurnstileState::initial();
    assert_eq!(
        turnstile(TurnstileState { passes: 1, ..t_initial.clone() }),
        Some("the recovered state breaks invariant `paid_for_passes`".to_string())
    );
    assert_eq!(
        turnstile(TurnstileState { phase: TurnstilePhase::Unlocked, ..t_initial }),
        Some("the recovered state breaks invariant `lock_matches_phase`".to_string())
    );

    let bank = |state: BankState| BankAuthority::recover_from_state(state).err().map(|e| e.to_string());
    let b_initial = BankState::initial();
    assert_eq!(
        bank(BankState { withdrawn_today: 5001, ..b_initial.clone() }),
        Some("the recovered state breaks invariant `within_daily_limit`".to_string())
    );
    assert_eq!(
        bank(BankState { balances: (0..65).map(|a| (a, 1)).collect(), ..b_initial }),
        Some("the recovered state breaks invariant `few_accounts`".to_string())
    );
}

#[test]
fn snapshots_restore_the_exact_state() {
    let mut bank = BankAuthority::new();
    bank.apply(BankInput::Deposit { account: 1, amount: 100 }).expect("deposit");
    let snapshot = bank.snapshot();
    assert_eq!(snapshot.state(), bank.state());
    bank.apply(BankInput::Transfer { source_account: 1, target_account: 2, amount: 40 }).expect("transfer");
    bank.apply(BankInput::Freeze).expect("freeze");
    assert_ne!(snapshot.state(), bank.state());
    let saved = snapshot.clone();
    bank.restore_snapshot(snapshot);
    assert_eq!(bank.state(), saved.state());
    assert_eq!(bank.state().balances, BTreeMap::from([(1, 100)]));
}

#[test]
fn the_owner_token_identifies_an_authority() {
    let light = TrafficLightAuthority::new();
    let clone = light.clone();
    let fork = light.fork();
    assert!(Arc::ptr_eq(&light.generated_authority_owner_token(), &clone.generated_authority_owner_token()));
    assert!(!Arc::ptr_eq(&light.generated_authority_owner_token(), &fork.generated_authority_owner_token()));
    assert_eq!(fork.state(), light.state());
    let recovered = TrafficLightAuthority::recover_from_state(light.state().clone()).expect("valid");
    assert!(!Arc::ptr_eq(&light.generated_authority_owner_token(), &recovered.generated_authority_owner_token()));
    assert_eq!(recovered.into_state(), TrafficLightState::default());
}

#[test]
fn phases_and_messages_describe_themselves() {
    assert_eq!(
        <SinkState as meerkat_kernel::Kernel>::PHASES,
        [SinkPhase::Idle, SinkPhase::Active, SinkPhase::Draining, SinkPhase::Done]
    );
    assert_eq!(SinkPhase::Draining.name(), "Draining");
    assert_eq!(SinkPhase::Draining.to_string(), "Draining");
    assert!(SinkPhase::Done.is_terminal() && !SinkPhase::Idle.is_terminal());
    assert_eq!(SinkInput::Reset.name(), "Reset");
    assert!(SinkInput::Reset.is_runtime_internal() && !SinkInput::Drain.is_runtime_internal());
    assert!(SinkInput::Probe { at: 0 }.is_pure() && !SinkInput::Drain.is_pure());
    assert_eq!(SinkSignal::Poke { r#mod: 1 }.name(), "Poke");
    assert_eq!(SinkEffect::Picked { value: None, mode: meerkat_tests::kernels::sink::Mode::Off }.name(), "Picked");
}

#[test]
fn pure_inputs_and_signals_apply() {
    let mut sink = active_sink();
    let before = sink.state().clone();
    let fired = sink.apply(SinkInput::Probe { at: 0 }).expect("0 <= total");
    assert_eq!(sink.state(), &before, "a pure input does not change the state");
    assert_eq!(fired.effects().len(), 2);
    let stopped = sink.apply_signal(SinkSignal::Stop).expect("Stop from any");
    assert_eq!(stopped.target(), SinkPhase::Done);
    assert!(sink.state().names.is_empty());
    let error = sink.apply_signal(SinkSignal::Stop).expect_err("Done is terminal");
    assert_eq!(error, SinkTransitionError::NoMatchingTransition { phase: SinkPhase::Done, trigger: "Stop" });
}

#[test]
fn data_types_round_trip_through_serde() {
    let mut sink = active_sink();
    sink.apply(SinkInput::Name { name: "b".into(), weight: 2 }).expect("name");
    sink.apply(SinkInput::Claim { who: "ann".into() }).expect("claim");
    let json = serde_json::to_string(sink.state()).expect("serialises");
    let back: SinkState = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(&back, sink.state());
    let input = SinkInput::Name { name: "x".into(), weight: 3 };
    let back: SinkInput = serde_json::from_str(&serde_json::to_string(&input).expect("serialises")).expect("parses");
    assert_eq!(back, input);
}

/// Breadth-first search over a kernel through `meerkat_kernel::Kernel` alone, as a model checker would: the
/// states reached from the initial one by `inputs` within `depth` steps, and the transitions that fired.
fn explore<K: meerkat_kernel::Kernel>(inputs: &[K::Input], depth: usize) -> (HashSet<K>, BTreeSet<&'static str>) {
    let mut seen = HashSet::from([K::initial()]);
    let mut frontier = vec![K::initial()];
    let mut fired = BTreeSet::new();
    for _ in 0..depth {
        let mut next = Vec::new();
        for state in &frontier {
            for input in inputs {
                let mut successor = state.clone();
                match successor.apply_input(input.clone()) {
                    Ok(transition) => {
                        assert!(K::TRANSITIONS.contains(&transition.transition_name()));
                        fired.insert(transition.transition_name());
                        if seen.insert(successor.clone()) {
                            next.push(successor);
                        }
                    }
                    Err(_) => assert_eq!(&successor, state, "a rejection leaves the state"),
                }
            }
        }
        frontier = next;
    }
    (seen, fired)
}

#[test]
fn the_kernel_trait_is_enough_to_explore_a_machine() {
    use meerkat_kernel::Kernel;

    let inputs = [
        TrafficLightInput::Tick,
        TrafficLightInput::PressButton,
        TrafficLightInput::SwitchOff { reason: "maintenance".into() },
    ];
    let (states, fired) = explore::<TrafficLightState>(&inputs, 12);
    let phases: BTreeSet<TrafficLightPhase> = states.iter().map(|s| s.phase()).collect();
    assert_eq!(phases, TrafficLightState::PHASES.iter().copied().collect(), "every phase is reachable");
    assert!(states.iter().all(|s| s.violated_invariant().is_none()), "every reached state keeps the invariants");
    assert_eq!(fired, TrafficLightState::TRANSITIONS.iter().copied().collect(), "every transition fires");
    assert_eq!(TrafficLightState::MACHINE, "TrafficLight");
    assert_eq!(TrafficLightState::INPUTS, &["Tick", "PressButton", "SwitchOff"]);
    assert_eq!(TrafficLightState::INVARIANTS, &["request_only_when_green", "off_is_dark"]);
    assert!(TrafficLightState::GUARDS.contains(&"!requested"), "{:?}", TrafficLightState::GUARDS);
}
