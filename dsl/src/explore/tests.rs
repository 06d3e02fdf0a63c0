//! Unit tests of the explorer: findings with shortest traces, the verdict, and every bound reported with the
//! amount it cut.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]

use super::*;
use crate::interp::{EvalError, Fault, FaultSite};
use crate::ir::{InvariantId, TransitionId, Type};

fn machine(text: &str) -> CheckedMachine {
    match crate::check_source("t.machine", text) {
        Ok(mut package) => package.machines.remove(0),
        Err(e) => panic!("{}", e.render(crate::RenderOptions::default())),
    }
}

fn trace(machine: &CheckedMachine, finding: &Finding) -> Vec<String> {
    finding.trace.iter().map(|m| render_message(machine, m)).collect()
}

#[test]
fn a_reachable_ambiguity_is_found_with_a_shortest_trace() {
    // `n >= 2` and `n % 2 == 0` overlap first at n == 2, two increments away; `Step` with a payload makes
    // the shortest route go through the payload domain (0, 1, 2).
    let m = machine(
        "machine Counter {
            phases { initial Idle }
            state { n: u64 = 0 }
            input Step { by: u64 }
            input Poke
            fn big(x: u64) -> bool { x >= 2 }
            fn even(x: u64) -> bool { x % 2 == 0 }
            on Step from Idle -> stay when by == 1 { n += by }
            transition Big on Poke from Idle -> stay when big(n) { }
            transition Even on Poke from Idle -> stay when even(n), n > 0 { }
        }",
    );
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    assert!(matches!(finding.problem, Problem::Ambiguity { .. }), "{:?}", finding.problem);
    assert_eq!(finding.problem.kind(), "ambiguous transition");
    assert_eq!(finding.problem.describe(&m), "transitions `Big` and `Even` both accept input `Poke` in phase `Idle`");
    assert_eq!(trace(&m, finding), ["Step { by: 1 }", "Step { by: 1 }", "Poke"]);
    assert_eq!(report.verdict(), Verdict::Failed);
    assert_eq!(report.default_domains, vec![Type::U64]);
}

#[test]
fn overflow_is_found_and_invariant_rejections_are_counted() {
    let m = machine(
        "machine Tank {
            phases { initial Open }
            state { level: u64 = 0 }
            input Fill { amount: u64 }
            invariant small = level <= 3
            on Fill from Open -> stay { level = level * amount + amount }
            model { depth = 3 domain Fill.amount = [1, 18446744073709551615] }
        }",
    );
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(report.depth_bound, 3);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    let body = Fault { site: FaultSite::Body { transition: TransitionId(0) }, error: EvalError::Overflow };
    assert_eq!(finding.problem, Problem::Fault(body));
    assert_eq!(finding.problem.describe(&m), "arithmetic overflow in the body of transition `Fill`");
    // From level 1, `1 * MAX + MAX` overflows; level 0 gives `0 * MAX + MAX`, which fits but breaks `small`.
    assert_eq!(trace(&m, finding), ["Fill { amount: 1 }", "Fill { amount: 18446744073709551615 }"]);
    assert_eq!(report.invariant_rejections.len(), 1);
    assert!(report.invariant_rejections[0].count > 0);
    // A declared field domain replaces the default values, so no default was used.
    assert!(report.default_domains.is_empty());
}

#[test]
fn an_invariant_that_fails_to_evaluate_is_a_finding_not_a_rejection() {
    let m = machine(
        "machine Ratio {
            phases { initial Open }
            state { total: u64 = 6, parts: u64 = 1 }
            input Split { into: u64 }
            invariant whole = total / parts >= 1
            on Split from Open -> stay { parts = into }
            model { domain u64 = [1, 2, 0] }
        }",
    );
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    let site = FaultSite::Invariant { transition: TransitionId(0), invariant: InvariantId(0) };
    assert_eq!(finding.problem, Problem::Fault(Fault { site, error: EvalError::DivisionByZero }));
    assert_eq!(finding.problem.kind(), "arithmetic error");
    assert_eq!(finding.problem.describe(&m), "division by zero in invariant `whole` (after transition `Split`)");
    assert_eq!(trace(&m, finding), ["Split { into: 0 }"]);
    assert!(report.invariant_rejections.is_empty(), "{:?}", report.invariant_rejections);
    assert_eq!(report.verdict(), Verdict::Failed);
}

#[test]
fn a_guard_that_fails_to_evaluate_is_a_finding_naming_the_guard() {
    let m = machine(
        "machine Share {
            phases { initial Open }
            state { cake: u64 = 12, eaters: u64 = 2 }
            input Leave
            input Slice
            on Leave from Open -> stay when eaters > 0 { eaters -= 1 }
            on Slice from Open -> stay when cake > 0, cake / eaters >= 1 { cake -= 1 }
        }",
    );
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    let site = FaultSite::Guard { transition: TransitionId(1), guard: 1 };
    assert_eq!(finding.problem, Problem::Fault(Fault { site, error: EvalError::DivisionByZero }));
    assert_eq!(finding.problem.describe(&m), "division by zero in guard `cake / eaters >= 1` of transition `Slice`");
    assert_eq!(trace(&m, finding), ["Leave", "Leave", "Slice"]);
}

#[test]
fn an_exhaustive_search_cuts_nothing() {
    let m = machine(
        "machine Light {
            phases { initial Off, On, terminal Broken }
            state { flips: u64 = 0 }
            input Flip
            input Smash
            transition TurnOn on Flip from Off -> On { flips += 1 }
            transition TurnOff on Flip from On -> Off when flips < 2 { }
            transition Never on Smash from On -> Broken when flips > 100 { }
        }",
    );
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(report.verdict(), Verdict::Exhaustive, "{report:?}");
    assert!(report.is_exhaustive());
    assert_eq!(report.states, 4);
    assert_eq!(report.expanded, 4);
    assert_eq!(report.depth_reached, 3);
    assert_eq!(report.applications, 8, "every message in every state, nothing more");
    assert_eq!(report.never_fired(), vec![TransitionId(2)]);
    assert!(report.findings.is_empty());
}

/// A counter that grows without end: every bound cuts it somewhere.
const COUNTER: &str = "machine Up {
    phases { initial Counting }
    state { n: u64 = 0 }
    input Add { by: u64 }
    on Add from Counting -> stay when by > 0 { n += by }
    model { depth = 4 domain u64 = [1, 2] }
}";

#[test]
fn the_depth_bound_reports_the_states_beyond_it() {
    let m = machine(COUNTER);
    let report = explore(&m, &Bounds::default()).expect("explorable");
    // n = 0..=8 within 4 steps of 1 or 2; one step further reaches 9 and 10.
    assert_eq!(report.states, 9);
    assert_eq!(report.depth_reached, 4);
    assert_eq!(report.cuts, vec![Cut::Depth { bound: 4, beyond: 2 }]);
    assert_eq!(report.verdict(), Verdict::Bounded);
}

#[test]
fn the_state_limit_reports_the_states_it_kept_out() {
    let m = machine(COUNTER);
    let report = explore(&m, &Bounds { max_states: 3, ..Bounds::default() }).expect("explorable");
    assert_eq!(report.states, 3);
    assert_eq!(report.expanded, 3, "the states found are still explored");
    // 0 -> 1, 2 added; from 1: 2 (known), 3 dropped; from 2: 3 (dropped again), 4 dropped.
    assert_eq!(report.cuts, vec![Cut::States { limit: 3, dropped: 2 }]);
    assert_eq!(report.verdict(), Verdict::Bounded);
}

#[test]
fn the_budget_reports_the_states_left_unexplored() {
    let m = machine(COUNTER);
    let report = explore(&m, &Bounds { max_applications: 3, ..Bounds::default() }).expect("explorable");
    assert_eq!(report.applications, 3);
    // The initial state (two messages) and half of state 1 were explored; 1 and 2 were found.
    assert_eq!(report.states, 3);
    assert_eq!(report.expanded, 1);
    assert_eq!(report.cuts, vec![Cut::Applications { limit: 3, unexpanded: 2 }]);
    // A budget that suffices exactly cuts nothing.
    let exact = explore(&m, &Bounds { max_applications: 18, depth: Some(4), ..Bounds::default() }).expect("ok");
    assert_eq!(exact.applications, 18);
    assert_eq!(exact.cuts, vec![Cut::Depth { bound: 4, beyond: 2 }]);
}

const DIVIDER: &str = "machine Divider {
    phases { initial Ready }
    state { last: u64 = 0 }
    input Set { v: u64 }
    on Set from Ready -> stay { last = 600 / (30 - v) }
    model { domain u64 = 0..=40 }
}";

#[test]
fn a_declared_domain_is_used_whole() {
    let m = machine(DIVIDER);
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(report.messages.len(), 41);
    // `v = 30` divides by zero; 31..=40 underflow at `30 - v`, a second kind of error in the same place.
    let found: Vec<(EvalError, Vec<String>)> = report
        .findings
        .iter()
        .map(|f| match &f.problem {
            Problem::Fault(fault) => (fault.error, trace(&m, f)),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        found,
        [
            (EvalError::DivisionByZero, vec!["Set { v: 30 }".to_string()]),
            (EvalError::Overflow, vec!["Set { v: 31 }".to_string()])
        ]
    );
}

#[test]
fn a_declared_domain_over_the_limit_is_an_error() {
    let m = machine(DIVIDER);
    let error = explore(&m, &Bounds { max_values: 16, ..Bounds::default() }).expect_err("the domain is too large");
    assert_eq!(error, ExploreError::DomainTooLarge { target: DomainTarget::Type(Type::U64), values: 41, limit: 16 });
    assert_eq!(error.describe(&m), "`domain u64` has 41 values, more than the limit of 16 values per domain");
}

#[test]
fn capped_payload_combinations_are_a_cut() {
    let m = machine(DIVIDER);
    let report = explore(&m, &Bounds { max_messages: 16, ..Bounds::default() }).expect("explorable");
    assert_eq!(report.messages.len(), 16);
    let trigger = m.triggers().next().expect("one input");
    assert_eq!(report.cuts, vec![Cut::Payloads { trigger, limit: 16, total: 41 }]);
    // The value that divides by zero was not among those tried: no finding, and the verdict says bounded.
    assert!(report.findings.is_empty());
    assert_eq!(report.verdict(), Verdict::Bounded);
}

#[test]
fn values_built_from_domains_are_cut_and_reported() {
    let m = machine(
        "machine Pairs {
            record Pair { a: u64, b: u64 }
            phases { initial Open }
            state { last: Option<Pair> = None }
            input Put { pair: Pair }
            on Put from Open -> stay { last = Some(pair) }
            model { depth = 1 domain u64 = 0..=9 }
        }",
    );
    let record = Type::Named(crate::ir::TypeId(0));
    let report = explore(&m, &Bounds { max_values: 20, ..Bounds::default() }).expect("explorable");
    assert_eq!(report.messages.len(), 20);
    assert!(report.cuts.contains(&Cut::Values { ty: record, limit: 20, total: 100 }), "{:?}", report.cuts);
    let whole = explore(&m, &Bounds { max_values: 100, max_messages: 100, ..Bounds::default() }).expect("explorable");
    assert_eq!(whole.messages.len(), 100);
    assert!(whole.is_exhaustive(), "{:?}", whole.cuts);
}

fn property_trace(machine: &CheckedMachine, report: &Report, name: &str) -> (PropertyOutcome, Vec<String>) {
    let result = report
        .properties
        .iter()
        .find(|p| machine.properties[p.property.index()].name == name)
        .unwrap_or_else(|| panic!("no property {name}: {:?}", report.properties));
    let steps = result.trace().unwrap_or_default().iter().map(|m| render_message(machine, m)).collect();
    (result.outcome.clone(), steps)
}

/// A counter that steps by 1 or 2 up to 6; a reset clears it.
const STEPPER: &str = "machine Stepper {
    phases { initial Counting }
    state { n: u64 = 0 }
    input Step { by: u64 }
    input Reset
    on Step from Counting -> stay when by > 0, n + by <= 6 { n += by }
    on Reset from Counting -> stay { n = 0 }
    PROPERTIES
    model { domain u64 = [1, 2] }
}";

#[test]
fn a_violated_property_has_a_shortest_counterexample_and_fails_the_run() {
    let m = machine(&STEPPER.replace("PROPERTIES", "property below_five = n < 5\n property bounded = n <= 6"));
    let report = explore(&m, &Bounds::default()).expect("explorable");
    let (outcome, steps) = property_trace(&m, &report, "below_five");
    assert!(matches!(outcome, PropertyOutcome::Violated { error: None, .. }), "{outcome:?}");
    // 5 is 2 + 2 + 1 at the earliest: three steps, none shorter.
    assert_eq!(steps, ["Step { by: 1 }", "Step { by: 2 }", "Step { by: 2 }"]);
    assert_eq!(property_trace(&m, &report, "bounded").0, PropertyOutcome::Holds);
    assert!(report.is_exhaustive());
    assert_eq!(report.verdict(), Verdict::Failed);
    assert!(report.findings.is_empty(), "a property is not a finding of the interpreter: {:?}", report.findings);
}

#[test]
fn a_property_broken_by_the_initial_state_has_an_empty_trace() {
    let m = machine(&STEPPER.replace("PROPERTIES", "property started = n > 0"));
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(
        property_trace(&m, &report, "started"),
        (PropertyOutcome::Violated { trace: vec![], error: None }, vec![])
    );
}

#[test]
fn a_property_that_fails_to_evaluate_is_violated_with_the_error() {
    let m = machine(&STEPPER.replace("PROPERTIES", "property ratio = 12 / (3 - n) > 0"));
    let report = explore(&m, &Bounds::default()).expect("explorable");
    let (outcome, steps) = property_trace(&m, &report, "ratio");
    assert!(matches!(outcome, PropertyOutcome::Violated { error: Some(EvalError::DivisionByZero), .. }), "{outcome:?}");
    assert_eq!(steps, ["Step { by: 1 }", "Step { by: 2 }"]);
}

#[test]
fn a_reachable_goal_has_a_shortest_witness() {
    let m = machine(&STEPPER.replace("PROPERTIES", "reachable six = n == 6"));
    let report = explore(&m, &Bounds::default()).expect("explorable");
    let (outcome, steps) = property_trace(&m, &report, "six");
    assert!(matches!(outcome, PropertyOutcome::Reached { .. }), "{outcome:?}");
    assert_eq!(steps, ["Step { by: 2 }", "Step { by: 2 }", "Step { by: 2 }"]);
    assert_eq!(report.verdict(), Verdict::Exhaustive);
}

#[test]
fn an_unreached_goal_is_an_error_after_an_exhaustive_search_and_bounded_otherwise() {
    let m = machine(&STEPPER.replace("PROPERTIES", "reachable seven = n == 7\n reachable six = n == 6"));
    let report = explore(&m, &Bounds::default()).expect("explorable");
    assert_eq!(property_trace(&m, &report, "seven").0, PropertyOutcome::Unreached);
    assert!(report.is_exhaustive());
    assert_eq!(report.verdict(), Verdict::Failed);

    // Depth 1 explores up to 2 (and finds up to 4 one step deeper): six is not reached either, and neither is
    // an error, as the search was cut.
    let report = explore(&m, &Bounds { depth: Some(1), ..Bounds::default() }).expect("explorable");
    assert_eq!(property_trace(&m, &report, "six").0, PropertyOutcome::Unreached);
    assert!(!report.is_exhaustive());
    assert_eq!(report.verdict(), Verdict::Bounded);
}

#[test]
fn a_goal_past_the_depth_bound_is_still_reached_one_step_deeper() {
    // States one input past the bound are found (not explored), and they are reachable states.
    let m = machine(&STEPPER.replace("PROPERTIES", "reachable six = n == 6"));
    let report = explore(&m, &Bounds { depth: Some(2), ..Bounds::default() }).expect("explorable");
    let (outcome, steps) = property_trace(&m, &report, "six");
    assert!(matches!(outcome, PropertyOutcome::Reached { .. }), "{outcome:?}");
    assert_eq!(steps.len(), 3);
}
