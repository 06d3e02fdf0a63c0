//! States: initial states and constants, invariants and recovery, how values and rejections render, the
//! checker's E0305, and the traffic light run as a script and at random.

use super::*;
use crate::dispatch::{DISPATCH, OVERFLOW};

// ---------------------------------------------------------------------------------------------------------------
// States, constants, invariants, recovery

#[test]
fn initial_state_and_constants() {
    let package = check(
        r#"machine K {
            enum Lamp { Red, Green }
            record Lease { holder: String, ttl: u64 }
            phases { Off, initial On }
            state {
                n: u64 = 2 * 3 + 1,
                lamp: Lamp = Green,
                lease: Option<Lease> = Some(Lease { holder: "a", ttl: 1 }),
                tags: Set<String> = ["b", "a", "b"],
            }
            input Set { n: u64, name: String }
            on Set from On -> stay
            model {
                domain u64 = 0..=2
                domain String = ["x", "y"]
            }
        }"#,
    );
    let m = &package.machines[0];
    let interp = Interpreter::from(m);
    let state = interp.initial_state().unwrap();
    let (lamp, lease) = (type_id(m, "Lamp"), type_id(m, "Lease"));
    assert_eq!(
        state,
        State {
            phase: phase(m, "On"),
            fields: vec![
                u(7),
                Value::Enum(lamp, 1),
                some(Value::Record(lease, vec![s("a"), u(1)])),
                set([s("a"), s("b")]),
            ],
        }
    );
    let domains: Vec<Vec<Value>> =
        m.model.domains.iter().map(|d| d.values.iter().map(|e| interp.eval_constant(e).unwrap()).collect()).collect();
    assert_eq!(domains, vec![vec![u(0), u(1), u(2)], vec![s("x"), s("y")]]);
    assert_eq!(interp.eval_constant(&m.fields[0].init), Some(u(7)));
}

#[test]
fn an_overflowing_initial_value_is_refused_before_it_reaches_the_interpreter() {
    // The checker evaluates every constant (E0212), so a checked machine always has an initial state.
    let error = check_source("test.machine", "machine K { phases { initial A } state { n: u64 = 0 - 1 } }")
        .expect_err("an overflowing initial value does not check");
    let errors: Vec<Code> = error.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect();
    assert_eq!(errors, [Code::ConstantFails]);
}

#[test]
fn check_invariants_and_recovery() {
    let package = check(
        r#"machine R {
            phases { initial A, B }
            state { n: u64 = 0, name: String = "" }
            invariant first = n < 10
            invariant second = phase == A || n > 0
            input Go
            on Go from A -> B { n = 1 }
        }"#,
    );
    let m = &package.machines[0];
    let interp = Interpreter::new(m);
    let good = interp.initial_state().unwrap();
    assert_eq!(interp.check_invariants(&good), Ok(()));
    assert_eq!(interp.check_recovered(&good), Ok(()));

    let both_broken = State { phase: phase(m, "B"), fields: vec![u(10), s("")] };
    assert_eq!(interp.check_invariants(&both_broken), Err(invariant(m, "first")));
    let second_broken = State { phase: phase(m, "B"), fields: vec![u(0), s("")] };
    assert_eq!(interp.check_invariants(&second_broken), Err(invariant(m, "second")));
    assert_eq!(
        interp.check_recovered(&second_broken),
        Err(RecoveryRejection::InvariantRejected { invariant: invariant(m, "second") })
    );
    assert_eq!(interp.check_recovered(&second_broken).unwrap_err().describe(m), "the state breaks invariant `second`");

    let malformed = |state: State| matches!(interp.check_recovered(&state), Err(RecoveryRejection::Malformed { .. }));
    assert!(malformed(State { phase: PhaseId(7), fields: vec![u(0), s("")] }));
    assert!(malformed(State { phase: phase(m, "A"), fields: vec![u(0)] }));
    assert!(malformed(State { phase: phase(m, "A"), fields: vec![s(""), s("")] }));
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering and messages

#[test]
fn values_render_in_spec_syntax() {
    let package = check(
        r#"machine V {
            enum Lamp { Red, Green }
            record Lease { holder: String, ttl: u64 }
            newtype Sid(String)
            phases { initial Idle }
        }"#,
    );
    let m = &package.machines[0];
    let (lamp, lease, sid) = (type_id(m, "Lamp"), type_id(m, "Lease"), type_id(m, "Sid"));
    let cases = [
        (b(true), "true"),
        (u(42), "42"),
        (s("a\"b\\\n"), r#""a\"b\\\n""#),
        (some(s("a")), r#"Some("a")"#),
        (Value::none(), "None"),
        (Value::Enum(lamp, 0), "Lamp::Red"),
        (Value::Record(lease, vec![s("x"), u(3)]), r#"Lease { holder: "x", ttl: 3 }"#),
        (Value::Newtype(sid, Box::new(s("q"))), r#"Sid("q")"#),
        (seq([u(1), u(2)]), "[1, 2]"),
        (set([u(2), u(1)]), "[1, 2]"),
        (seq([]), "[]"),
        (map([(s("a"), u(1)), (s("b"), u(2))]), r#"["a": 1, "b": 2]"#),
        (map([]), "[:]"),
        (Value::Phase(PhaseId(0)), "Phase::Idle"),
        (Value::Phase(PhaseId(5)), "Phase::?"),
        (Value::Enum(TypeId(9), 0), "?::?"),
    ];
    for (value, text) in cases {
        assert_eq!(value.render(m), text);
    }
}

#[test]
fn rejections_display_ids_and_describe_names() {
    let mut run = Run::new(DISPATCH);
    let rejection = run.apply("Go", vec![]).unwrap_err();
    assert_eq!(rejection.to_string(), "transitions #0 and #1 both accept input #0 in phase #0");
    assert_eq!(rejection.describe(run.m()), "transitions `One` and `Two` both accept input `Go` in phase `A`");

    let mut guarded = Run::new(
        "machine G { phases { initial A } state { n: u64 = 0 } input Go transition T on Go from A -> stay when n > 0 { } }",
    );
    let rejection = guarded.apply("Go", vec![]).unwrap_err();
    assert_eq!(rejection.to_string(), "a guard of every candidate rejected input #0 in phase #0");
    assert_eq!(
        rejection.describe(guarded.m()),
        "every candidate for input `Go` in phase `A` was rejected by a guard: `T` (`n > 0` does not hold)"
    );

    let mut overflow = Run::new(OVERFLOW);
    let rejection = overflow.apply("Dec", vec![]).unwrap_err();
    assert_eq!(rejection.to_string(), "arithmetic overflow or division by zero in transition #1");
    assert_eq!(rejection.describe(overflow.m()), "arithmetic overflow or division by zero in transition `Dec`");

    let violated = Rejection::InvariantViolated { transition: TransitionId(0), invariant: InvariantId(0) };
    assert_eq!(violated.to_string(), "transition #0 would break invariant #0");
    let none = Rejection::NoMatchingTransition { phase: PhaseId(1), trigger: Trigger::Signal(SignalId(2)) };
    assert_eq!(none.to_string(), "no transition for signal #2 in phase #1");
    assert_eq!(none.describe(overflow.m()), "no transition for signal ? in phase `B`");
}

// ---------------------------------------------------------------------------------------------------------------
// E0305

#[test]
fn the_checker_reports_invariants_the_initial_state_breaks() {
    let text = "machine I {\n    phases { initial A }\n    state { n: u64 = 3, m: u64 = 0 }\n    \
                invariant fine = m == 0\n    invariant small = n < 2\n    invariant overflows = n * 6148914691236517206 > 0\n}\n";
    let error = check_source("i.machine", text).unwrap_err();
    let found: Vec<(Code, &str)> =
        error.diagnostics.iter().map(|d| (d.code, &text[d.primary.span.start..d.primary.span.end])).collect();
    assert_eq!(
        found,
        vec![
            (Code::InitialStateViolatesInvariant, "invariant small = n < 2"),
            (Code::InitialStateViolatesInvariant, "invariant overflows = n * 6148914691236517206 > 0"),
        ]
    );
    let first = error.diagnostics.iter().next().unwrap();
    assert_eq!(first.message, "the initial state breaks invariant `small`");
    assert_eq!(first.primary.message, "false in the initial state");
    assert_eq!(first.secondary.len(), 1);
    assert_eq!(first.secondary[0].message, "`n` starts as `3`");
    assert_eq!(&text[first.secondary[0].span.start..first.secondary[0].span.end], "3");
    let second = error.diagnostics.iter().nth(1).unwrap();
    assert_eq!(second.primary.message, "cannot be evaluated in the initial state: arithmetic overflow");
}

#[test]
fn the_traffic_light_starts_in_a_valid_state() {
    let package = check(TRAFFIC_LIGHT);
    let interp = Interpreter::new(&package.machines[0]);
    assert_eq!(interp.check_recovered(&interp.initial_state().unwrap()), Ok(()));
}

// ---------------------------------------------------------------------------------------------------------------
// The traffic light, scripted and at random

const TRAFFIC_LIGHT: &str = include_str!("../../../machines/traffic_light.machine");

#[test]
fn traffic_light_cycles() {
    let mut run = Run::new(TRAFFIC_LIGHT);
    let m = run.m();
    let (show, projected, lamp) = (effect(m, "Show"), effect(m, "Projected"), type_id(m, "Lamp"));
    let green = Value::Phase(phase(m, "Green"));
    for ticks in 1..=3 {
        let fired = run.ok("Tick", vec![]);
        assert_eq!(fired.transition, transition(run.m(), "WaitOnRed"));
        assert_eq!(run.field("ticks"), &u(ticks));
    }
    let fired = run.ok("Tick", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "ChangeToGreen"));
    assert_eq!(
        fired.effects,
        vec![
            Emitted { effect: show, fields: vec![Value::Enum(lamp, 2)] },
            Emitted { effect: projected, fields: vec![green, u(0), b(false)] },
        ]
    );
    run.ok("PressButton", vec![]);
    assert_eq!(run.field("requested"), &b(true));
    let press = input(run.m(), "PressButton");
    let green_id = phase(run.m(), "Green");
    assert_eq!(
        run.apply("PressButton", vec![]),
        Err(Rejection::GuardRejected {
            phase: green_id,
            trigger: press,
            rejections: vec![(transition(run.m(), "PressButton"), "!requested".to_string())],
        })
    );
    run.ok("Tick", vec![]);
    let fired = run.ok("Tick", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "ChangeToAmber"));
    run.ok("Tick", vec![]);
    let fired = run.ok("Tick", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "ChangeToRed"));
    assert_eq!(run.field("cycles"), &u(1));
    run.ok("SwitchOff", vec![s("maintenance")]);
    assert_eq!(run.phase_name(), "Off");
    assert!(matches!(run.apply("Tick", vec![]), Err(Rejection::NoMatchingTransition { .. })));
}

/// Any traffic-light state, including ones no run reaches (counters near `u64::MAX`, broken invariants).
fn traffic_state(phases: u32) -> impl Strategy<Value = State> {
    let counter = prop_oneof![0..8u64, (u64::MAX - 3)..=u64::MAX, any::<u64>()];
    (0..phases, counter.clone(), any::<bool>(), counter).prop_map(|(p, cycles, requested, ticks)| State {
        phase: PhaseId(p),
        fields: vec![u(cycles), b(requested), u(ticks)],
    })
}

proptest! {
    #[test]
    fn random_traffic_light_runs_keep_invariants_and_reject_atomically(
        choices in proptest::collection::vec((0..7u32, ".{0,4}"), 0..60)
    ) {
        let package = check(TRAFFIC_LIGHT);
        let m = &package.machines[0];
        let interp = Interpreter::new(m);
        let mut state = interp.initial_state().unwrap();
        for (choice, reason) in choices {
            let message = match choice {
                0..=3 => Message { trigger: input(m, "Tick"), fields: vec![] },
                4 | 5 => Message { trigger: input(m, "PressButton"), fields: vec![] },
                _ => Message { trigger: input(m, "SwitchOff"), fields: vec![s(&reason)] },
            };
            let before = state.clone();
            match interp.apply(&mut state, &message) {
                Ok(fired) => {
                    prop_assert_eq!(fired.source, before.phase);
                    prop_assert_eq!(fired.target, state.phase);
                    prop_assert_eq!(interp.check_invariants(&state), Ok(()));
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
    }

    #[test]
    fn any_traffic_light_state_and_input_never_panics_and_rejects_atomically(
        state in traffic_state(4),
        message_seed in 0..3u32,
        reason in ".{0,3}",
    ) {
        let package = check(TRAFFIC_LIGHT);
        let m = &package.machines[0];
        let interp = Interpreter::new(m);
        let message = match message_seed {
            0 => Message { trigger: input(m, "Tick"), fields: vec![] },
            1 => Message { trigger: input(m, "PressButton"), fields: vec![] },
            _ => Message { trigger: input(m, "SwitchOff"), fields: vec![s(&reason)] },
        };
        let mut after = state.clone();
        match interp.apply(&mut after, &message) {
            Ok(_) => prop_assert_eq!(interp.check_invariants(&after), Ok(())),
            Err(_) => prop_assert_eq!(&after, &state),
        }
    }
}
