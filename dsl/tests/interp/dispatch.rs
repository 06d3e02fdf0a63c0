//! Dispatch and all-or-nothing: which candidate fires, ambiguity, `otherwise`, guard rejections and
//! overflowing guards; and every rejection (an overflow in a body, a broken invariant, an invalid message or
//! state) leaving the state exactly as it was.

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// Dispatch

pub(crate) const DISPATCH: &str = r#"machine D {
    phases { initial A, terminal Done }
    state { a: bool = true, b: bool = true, c: bool = true, n: u64 = 0, z: u64 = 0 }
    input Go
    input Finish
    transition One on Go from A -> stay when a { n = 1 }
    transition Two on Go from A -> stay when b { n = 2 }
    transition Three on Go from A -> stay when c { n = 3 }
    transition Fallback on Go from A -> stay otherwise { n = 4 }
    on Finish from A -> Done
}"#;

#[test]
fn exactly_one_passing_candidate_fires() {
    let mut run = Run::new(DISPATCH);
    run.set_field("a", b(false));
    run.set_field("b", b(false));
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "Three"));
    assert_eq!(run.field("n"), &u(3));
}

#[test]
fn ambiguity_names_the_first_two_passing_candidates() {
    let mut run = Run::new(DISPATCH);
    let m = run.m();
    let (a, one, two, three) = (phase(m, "A"), transition(m, "One"), transition(m, "Two"), transition(m, "Three"));
    let go = input(m, "Go");
    assert_eq!(
        run.apply("Go", vec![]),
        Err(Rejection::AmbiguousTransition { phase: a, trigger: go, first: one, second: two })
    );
    run.set_field("b", b(false));
    assert_eq!(
        run.apply("Go", vec![]),
        Err(Rejection::AmbiguousTransition { phase: a, trigger: go, first: one, second: three })
    );
}

#[test]
fn otherwise_fires_only_when_no_candidate_passes() {
    let mut run = Run::new(DISPATCH);
    for name in ["a", "b", "c"] {
        run.set_field(name, b(false));
    }
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "Fallback"));
    assert_eq!(run.field("n"), &u(4));
}

#[test]
fn no_candidate_is_no_matching_transition() {
    let mut run = Run::new(DISPATCH);
    run.ok("Finish", vec![]);
    let (done, go) = (phase(run.m(), "Done"), input(run.m(), "Go"));
    assert_eq!(run.apply("Go", vec![]), Err(Rejection::NoMatchingTransition { phase: done, trigger: go }));
    assert_eq!(
        run.apply("Finish", vec![]),
        Err(Rejection::NoMatchingTransition { phase: done, trigger: input(run.m(), "Finish") })
    );
}

#[test]
fn guard_rejection_lists_every_candidate_with_its_first_failing_guard() {
    let mut run = Run::new(
        r#"machine G {
            phases { initial A }
            state { count: u64 = 5, flag: bool = false, resting: bool = true }
            guard ready = flag
            guard idle = resting
            input Go
            transition First on Go from A -> stay when count   <
                3 { }
            transition Second on Go from A -> stay when count > 1, ready { }
            transition Third on Go from A -> stay when !idle { }
        }"#,
    );
    let m = run.m();
    let expected = Rejection::GuardRejected {
        phase: phase(m, "A"),
        trigger: input(m, "Go"),
        rejections: vec![
            (transition(m, "First"), "count < 3".to_string()),
            (transition(m, "Second"), "ready".to_string()),
            (transition(m, "Third"), "!idle".to_string()),
        ],
    };
    assert_eq!(run.apply("Go", vec![]), Err(expected));
}

#[test]
fn an_overflowing_guard_rejects_with_its_candidate() {
    let mut run = Run::new(
        r#"machine O {
            phases { initial A }
            state { n: u64 = 18446744073709551615, z: u64 = 0, a: bool = true, b: bool = true }
            input Go
            input Div
            transition Ok on Go from A -> stay when a { }
            transition Bad on Go from A -> stay when n + 1 > 0 { }
            transition P1 on Div from A -> stay when a { }
            transition P2 on Div from A -> stay when b, n > 0 { }
            transition Boom on Div from A -> stay when 10 / z > 1 { }
        }"#,
    );
    let m = run.m();
    let (bad, boom) = (transition(m, "Bad"), transition(m, "Boom"));
    assert_eq!(run.apply("Go", vec![]), Err(Rejection::ArithmeticOverflow { transition: bad }));
    assert_eq!(
        run.apply("Div", vec![]),
        Err(Rejection::ArithmeticOverflow { transition: boom }),
        "every candidate's guards are evaluated before ambiguity is decided"
    );
}

#[test]
fn guards_stop_at_the_first_false_one() {
    let mut run = Run::new(
        r#"machine O {
            phases { initial A }
            state { z: u64 = 0 }
            input Go
            transition Safe on Go from A -> stay when z > 0, 10 / z > 1 { }
            transition Fallback on Go from A -> stay otherwise { }
        }"#,
    );
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "Fallback"));
}

#[test]
fn signals_dispatch_like_inputs() {
    let package =
        check("machine S { phases { initial A, terminal Off } signal Cut { why: String } on Cut from any -> Off }");
    let m = &package.machines[0];
    let interp = Interpreter::new(m);
    let mut state = interp.initial_state().unwrap();
    let cut = Message { trigger: signal(m, "Cut"), fields: vec![s("storm")] };
    let fired = interp.apply(&mut state, &cut).unwrap();
    assert_eq!(fired.target, phase(m, "Off"));
    assert_eq!(
        interp.apply(&mut state, &cut),
        Err(Rejection::NoMatchingTransition { phase: phase(m, "Off"), trigger: cut.trigger })
    );
}

// ---------------------------------------------------------------------------------------------------------------
// All or nothing

pub(crate) const OVERFLOW: &str = r#"machine O {
    phases { initial A, B }
    state { n: u64 = 18446744073709551615, m: u64 = 0, log: Seq<u64> = [] }
    input Inc
    input Dec
    input Div
    input Rem
    input Emit
    effect Out { value: u64 }
    on Inc from A -> B { log.push(1); m = 5; n += 1 }
    on Dec from A -> B { log.push(1); m -= 1 }
    on Div from A -> B { log.push(1); m = 10 / m }
    on Rem from A -> B { log.push(1); m = 10 % m }
    on Emit from A -> B { emit Out { value: 1 }; log.push(1); emit Out { value: n + 1 } }
}"#;

#[test]
fn overflow_in_a_body_leaves_the_state_unchanged() {
    let mut run = Run::new(OVERFLOW);
    let initial = run.state.clone();
    for name in ["Inc", "Dec", "Div", "Rem", "Emit"] {
        let id = transition(run.m(), name);
        assert_eq!(run.apply(name, vec![]), Err(Rejection::ArithmeticOverflow { transition: id }), "{name}");
        assert_eq!(run.state, initial, "{name}");
        assert_eq!(run.phase_name(), "A");
    }
}

#[test]
fn a_broken_invariant_rejects_and_restores_the_state() {
    let mut run = Run::new(
        r#"machine V {
            phases { initial A, B }
            state { n: u64 = 0, log: Seq<u64> = [] }
            invariant small = n < 10
            invariant tiny = n < 5
            invariant no_overflow = n * 2 >= n
            input Add { k: u64 }
            effect Added { n: u64 }
            on Add from A -> B { log.push(k); n += k; emit Added { n } }
        }"#,
    );
    let m = run.m();
    let (add, small, tiny, no_overflow) =
        (transition(m, "Add"), invariant(m, "small"), invariant(m, "tiny"), invariant(m, "no_overflow"));
    assert_eq!(run.apply("Add", vec![u(7)]), Err(Rejection::InvariantViolated { transition: add, invariant: tiny }));
    assert_eq!(
        run.apply("Add", vec![u(20)]),
        Err(Rejection::InvariantViolated { transition: add, invariant: small }),
        "the first failing invariant in declaration order"
    );
    assert_eq!(run.phase_name(), "A");
    let fired = run.ok("Add", vec![u(3)]);
    assert_eq!(fired.effects[0].fields, vec![u(3)]);
    assert_eq!(run.phase_name(), "B");
    assert_eq!(run.field("log"), &seq([u(3)]));

    // An invariant that fails to evaluate does not hold.
    let interp = run.interp();
    let mut state = interp.initial_state().unwrap();
    state.fields[field_index(run.m(), "n")] = u(u64::MAX / 2 + 1);
    assert_eq!(interp.eval_invariant(&state, no_overflow), Err(EvalError::Overflow));
    assert_eq!(interp.check_invariants(&state), Err(small));
}

#[test]
fn apply_explained_names_the_expression_behind_an_evaluation_error() {
    let package = check(
        r#"machine M {
            phases { initial A, B }
            state { d: u64 = 0, n: u64 = 1 }
            input Guarded { k: u64 }
            input Targeted { k: u64 }
            input Bodied { k: u64 }
            input Checked { k: u64 }
            input Set { k: u64 }
            invariant ratio = n <= 1_000 || d != 7
            invariant defined = d != 5 || n / (d - 5) == 0
            on Guarded from A -> stay when k > 0, n / (k - 1) >= 1
            on Targeted from A -> (if 10 / k > 1 { B } else { A })
            on Bodied from A -> stay { n = n - k }
            on Checked from A -> stay { d = k }
            on Set from A, B -> stay { n = k }
        }"#,
    );
    let m = &package.machines[0];
    let interp = Interpreter::new(m);
    let initial = interp.initial_state().unwrap();
    let message = |name: &str, k: u64| Message { trigger: input(m, name), fields: vec![Value::U64(k)] };
    // The refusal of `apply_explained` from `state`, after checking that its rejection is the one `apply`
    // returns and that both leave the state untouched.
    let refuse = |state: &State, message: Message| -> Refusal {
        let (mut explained, mut plain) = (state.clone(), state.clone());
        let refusal = interp.apply_explained(&mut explained, &message).expect_err("rejected");
        assert_eq!(interp.apply(&mut plain, &message), Err(refusal.rejection.clone()));
        assert_eq!((&explained, &plain), (state, state));
        refusal
    };
    let fault = |site: FaultSite, error: EvalError| Some(Fault { site, error });
    let (guarded, targeted, bodied, checked) =
        (transition(m, "Guarded"), transition(m, "Targeted"), transition(m, "Bodied"), transition(m, "Checked"));

    // `k > 0` is false first, so the division is never evaluated: a plain guard rejection.
    assert_eq!(refuse(&initial, message("Guarded", 0)).fault, None);
    assert_eq!(
        refuse(&initial, message("Guarded", 1)),
        Refusal {
            rejection: Rejection::ArithmeticOverflow { transition: guarded },
            fault: fault(FaultSite::Guard { transition: guarded, guard: 1 }, EvalError::DivisionByZero),
        }
    );
    assert_eq!(
        refuse(&initial, message("Targeted", 0)),
        Refusal {
            rejection: Rejection::ArithmeticOverflow { transition: targeted },
            fault: fault(FaultSite::Target { transition: targeted }, EvalError::DivisionByZero),
        }
    );
    assert_eq!(
        refuse(&initial, message("Bodied", 2)),
        Refusal {
            rejection: Rejection::ArithmeticOverflow { transition: bodied },
            fault: fault(FaultSite::Body { transition: bodied }, EvalError::Overflow),
        }
    );
    let defined = invariant(m, "defined");
    assert_eq!(
        refuse(&initial, message("Checked", 5)),
        Refusal {
            rejection: Rejection::InvariantViolated { transition: checked, invariant: defined },
            fault: fault(FaultSite::Invariant { transition: checked, invariant: defined }, EvalError::DivisionByZero),
        }
    );
    // An invariant that is false is a rejection without a fault.
    let mut big = initial.clone();
    interp.apply(&mut big, &message("Set", 100_000)).expect("any n is fine while d != 7");
    let ratio = invariant(m, "ratio");
    assert_eq!(
        refuse(&big, message("Checked", 7)),
        Refusal { rejection: Rejection::InvariantViolated { transition: checked, invariant: ratio }, fault: None }
    );
    // Rejections that evaluate nothing wrong carry no fault either.
    let mut in_b = initial.clone();
    interp.apply(&mut in_b, &message("Targeted", 1)).expect("10 / 1 > 1 leads to B");
    assert_eq!(
        refuse(&in_b, message("Guarded", 2)),
        Refusal {
            rejection: Rejection::NoMatchingTransition { phase: phase(m, "B"), trigger: input(m, "Guarded") },
            fault: None
        }
    );
}

#[test]
fn invalid_messages_are_rejected() {
    let mut run = Run::new(
        r#"machine M {
            phases { initial A }
            input Add { k: u64, tag: Option<String> }
            on Add from A -> stay
        }"#,
    );
    let add = input(run.m(), "Add");
    let invalid = |result: Result<Fired, Rejection>| matches!(result, Err(Rejection::InvalidMessage { .. }));
    assert!(invalid(run.apply("Add", vec![u(1)])));
    assert!(invalid(run.apply("Add", vec![s("1"), Value::none()])));
    assert!(invalid(run.apply("Add", vec![u(1), some(u(1))])));
    assert!(invalid(run.apply_message(&Message { trigger: Trigger::Input(InputId(9)), fields: vec![] })));
    assert!(invalid(run.apply_message(&Message { trigger: Trigger::Signal(SignalId(0)), fields: vec![] })));
    assert!(run.apply_message(&Message { trigger: add, fields: vec![u(1), some(s("t"))] }).is_ok());
}

#[test]
fn a_state_of_the_wrong_shape_is_an_error_not_a_panic() {
    let mut run = Run::new(OVERFLOW);
    run.state.fields.clear();
    let inc = transition(run.m(), "Inc");
    assert_eq!(run.apply("Inc", vec![]), Err(Rejection::Malformed { transition: inc }));
    run.state.phase = PhaseId(99);
    assert!(matches!(run.apply("Inc", vec![]), Err(Rejection::NoMatchingTransition { .. })));
}
