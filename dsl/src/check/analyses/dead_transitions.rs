//! W0002: transitions that can never fire.
//!
//! The rule is conservative: it only reports a transition it can prove never fires, for one of three reasons,
//! checked in this order (one warning per transition):
//! 1. its `when` clause is unsatisfiable on its face: one condition is always false (`false`, `!true`, a named
//!    guard defined as `false`, `n < 0`), or two conditions contradict each other (`ready` and `!ready`,
//!    `n < 3` and `n >= 3`, `x == A` and `x == B`); see [`super::conditions`] for the exact, sound logic;
//! 2. every one of its source phases is unreachable (see [`super::unreachable_phases`], which over-approximates
//!    reachability, so an unreachable phase is never entered);
//! 3. it is an `otherwise` fallback, and in each of its reachable source phases a competing non-`otherwise`
//!    transition on the same trigger always passes (it has no guard, or only guards that are constant in that
//!    phase), so the fallback is never consulted.
//!
//! A non-`otherwise` transition whose competitor always passes is not reported here: whenever its guards hold,
//! both pass and the input is rejected as ambiguous, which `guard_overlap` reports as E0302 with the fix (make
//! the competitor the `otherwise`).

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{ExprKind, Machine, PhaseId, Transition};

use super::conditions::{self, Fact};
use super::unreachable_phases::reachable;

/// One W0002 warning per transition that can never fire, in declaration order.
pub(crate) fn dead_transitions(machine: &Machine) -> Vec<Diagnostic> {
    let reached = reachable(machine);
    let mut out = Vec::new();
    for transition in &machine.transitions {
        let diagnostic = unsatisfiable_guards(machine, transition)
            .or_else(|| unreachable_sources(machine, transition, &reached))
            .or_else(|| shadowed_fallback(machine, transition, &reached));
        out.extend(diagnostic);
    }
    out
}

/// Reason 1: the `when` clause never holds.
fn unsatisfiable_guards(machine: &Machine, transition: &Transition) -> Option<Diagnostic> {
    let facts = conditions::transition_facts(machine, transition, None);
    let refs: Vec<&Fact<'_>> = facts.iter().map(|f| &f.fact).collect();
    let culprits = conditions::unsatisfiable(&refs)?;
    // The guard conditions involved, in the order written.
    let mut guards: Vec<usize> = culprits.iter().filter_map(|i| facts.get(*i)).map(|f| f.guard).collect();
    guards.sort_unstable();
    guards.dedup();
    let (&last, earlier) = guards.split_last()?;
    let last_check = &transition.guards[last];
    let d = if earlier.is_empty() {
        let mut d = Diagnostic::new(
            Code::DeadTransition,
            machine.source,
            format!("transition `{}` can never fire: `{}` is always false", transition.name, last_check.label),
            Label::new(last_check.span, "always false"),
        )
        .with_label(transition.header_span, "so this never fires");
        // Point at the definition when the condition is a named guard (possibly negated).
        let named = match &last_check.expr.kind {
            ExprKind::Guard(id) => Some(*id),
            ExprKind::Not(inner) => match inner.kind {
                ExprKind::Guard(id) => Some(id),
                _ => None,
            },
            _ => None,
        };
        if let Some(guard) = named.and_then(|id| machine.guards.get(id.index())) {
            d = d.with_label(guard.span, format!("`{}` is defined here", guard.name));
        }
        d.with_help("fix the condition, or remove the transition if it is meant to be disabled")
    } else {
        let others: Vec<String> = earlier.iter().map(|i| format!("`{}`", transition.guards[*i].label)).collect();
        let mut d = Diagnostic::new(
            Code::DeadTransition,
            machine.source,
            format!(
                "transition `{}` can never fire: `{}` contradicts {}",
                transition.name,
                last_check.label,
                others.join(" and ")
            ),
            Label::new(last_check.span, format!("contradicts {}", others.join(" and "))),
        );
        for i in earlier {
            d = d.with_label(transition.guards[*i].span, "this condition");
        }
        d.with_label(transition.header_span, "so this never fires")
            .with_help("no state satisfies all these conditions; fix one of them, or remove the transition")
    };
    Some(d)
}

/// Reason 2: no source phase is ever entered.
fn unreachable_sources(machine: &Machine, transition: &Transition, reached: &[bool]) -> Option<Diagnostic> {
    if transition.sources.iter().any(|s| reached[s.index()]) {
        return None;
    }
    let names: Vec<String> = transition.sources.iter().map(|s| format!("`{}`", machine.phase(*s).name)).collect();
    let (noun, verb) = if names.len() == 1 { ("phase", "is") } else { ("phases", "are") };
    let mut d = Diagnostic::new(
        Code::DeadTransition,
        machine.source,
        format!(
            "transition `{}` can never fire: its source {noun} {} {verb} unreachable",
            transition.name,
            names.join(", ")
        ),
        Label::new(transition.header_span, "never fires"),
    );
    for source in &transition.sources {
        let phase = machine.phase(*source);
        d = d.with_label(phase.span, format!("`{}` is never entered", phase.name));
    }
    Some(d.with_help("make a source phase reachable, fire the transition from a reachable phase, or remove it"))
}

/// Reason 3: an `otherwise` fallback whose competitors always pass.
fn shadowed_fallback(machine: &Machine, transition: &Transition, reached: &[bool]) -> Option<Diagnostic> {
    if !transition.otherwise {
        return None;
    }
    let mut shadows: Vec<(PhaseId, &Transition)> = Vec::new();
    for source in transition.sources.iter().filter(|s| reached[s.index()]) {
        let always = machine
            .candidates(*source, transition.trigger)
            .map(|id| &machine.transitions[id.index()])
            .filter(|t| !t.otherwise)
            .find(|t| conditions::transition_facts(machine, t, Some(*source)).is_empty())?;
        shadows.push((*source, always));
    }
    let (_, first) = shadows.first()?;
    let trigger = &machine.trigger(transition.trigger).name;
    let phases: Vec<String> = shadows.iter().map(|(p, _)| format!("`{}`", machine.phase(*p).name)).collect();
    let mut d = Diagnostic::new(
        Code::DeadTransition,
        machine.source,
        format!(
            "`otherwise` transition `{}` can never fire: `{}` always takes `{trigger}` in {}",
            transition.name,
            first.name,
            phases.join(", ")
        ),
        Label::new(transition.header_span, "never consulted"),
    );
    let mut labelled = Vec::new();
    for (phase, competitor) in &shadows {
        if labelled.contains(&competitor.header_span) {
            continue;
        }
        labelled.push(competitor.header_span);
        d = d.with_label(
            competitor.header_span,
            format!("always passes in `{}`, so the fallback is never needed", machine.phase(*phase).name),
        );
    }
    Some(d.with_help(format!(
        "give `{}` a `when` clause so that `{}` has something to fall back from, or remove `{}`",
        first.name, transition.name, transition.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::analyses::testing::machine;

    fn codes_and_spans(m: &Machine) -> Vec<(Code, crate::span::Span)> {
        dead_transitions(m).iter().map(|d| (d.code, d.primary.span)).collect()
    }

    #[test]
    fn literal_false_guard_points_at_the_condition() {
        let m = machine(
            "machine M { phases { initial A, B } input Go
               transition Never on Go from A -> B when false
               transition Back on Go from B -> A }",
        );
        assert_eq!(codes_and_spans(&m), vec![(Code::DeadTransition, m.transitions[0].guards[0].span)]);
    }

    #[test]
    fn named_false_guard_and_negated_true() {
        let m = machine(
            "machine M { phases { initial A } input Go input Stop guard off = false;
               on Go from A -> stay when off
               on Stop from A -> stay when !true }",
        );
        let diags = dead_transitions(&m);
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].secondary.len(), 2, "labels the header and the guard definition");
        assert_eq!(diags[0].secondary[1].span, m.guards[0].span);
        assert_eq!(diags[1].primary.span, m.transitions[1].guards[0].span);
    }

    #[test]
    fn contradicting_conditions() {
        let m = machine(
            "machine M { phases { initial A } state { n: u64 = 0, ready: bool = false } input Go input Stop
               on Go from A -> stay when n < 3, n >= 3
               on Stop from A -> stay when ready, !ready }",
        );
        let diags = dead_transitions(&m);
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].primary.span, m.transitions[0].guards[1].span);
        assert_eq!(diags[0].secondary[0].span, m.transitions[0].guards[0].span);
    }

    #[test]
    fn negated_named_conjunction_contradicts_its_parts() {
        let m = machine(
            "machine M { phases { initial A } state { n: u64 = 0, ready: bool = false } input Go
               guard armed = ready && n > 2
               on Go from A -> stay when ready, n > 5, !armed }",
        );
        let diags = dead_transitions(&m);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].primary.span, m.transitions[0].guards[2].span);
        assert!(diags[0].message.contains("`!armed` contradicts `ready` and `n > 5`"), "{}", diags[0].message);
    }

    #[test]
    fn satisfiable_guards_are_not_reported() {
        let m = machine(
            "machine M { phases { initial A } state { n: u64 = 0, o: Option<u64> = None } input Go
               on Go from A -> stay when n < 3, n >= 2, o.is_some(), o != Some(1), n + 1 > 0 }",
        );
        assert!(dead_transitions(&m).is_empty());
    }

    #[test]
    fn unreachable_sources() {
        let m = machine(
            "machine M { phases { initial A, B } input Go
               transition Stuck on Go from B -> A
               transition Idle on Go from A -> stay }",
        );
        let diags = dead_transitions(&m);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].primary.span, m.transitions[0].header_span);
        assert!(diags[0].message.contains("`B` is unreachable"), "{}", diags[0].message);
    }

    #[test]
    fn some_reachable_source_keeps_it_alive() {
        let m = machine("machine M { phases { initial A, B } input Go on Go from A, B -> stay }");
        assert!(dead_transitions(&m).is_empty());
    }

    #[test]
    fn fallback_shadowed_by_an_unguarded_competitor() {
        let m = machine(
            "machine M { phases { initial A } input Go
               transition Always on Go from A -> stay
               transition Fallback on Go from A -> stay otherwise }",
        );
        let diags = dead_transitions(&m);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].primary.span, m.transitions[1].header_span);
        assert_eq!(diags[0].secondary[0].span, m.transitions[0].header_span);
    }

    #[test]
    fn fallback_alive_in_one_phase_is_not_reported() {
        let m = machine(
            "machine M { phases { initial A, B } state { n: u64 = 0 } input Go
               transition Always on Go from A -> B
               transition Sometimes on Go from B -> A when n > 1
               transition Fallback on Go from A, B -> stay otherwise }",
        );
        assert!(dead_transitions(&m).is_empty());
    }

    #[test]
    fn phase_constant_guard_shadows_in_that_phase() {
        let m = machine(
            "machine M { phases { initial A } input Go
               transition InA on Go from A -> stay when phase == A
               transition Fallback on Go from A -> stay otherwise }",
        );
        assert_eq!(codes_and_spans(&m), vec![(Code::DeadTransition, m.transitions[1].header_span)]);
    }

    #[test]
    fn a_guarded_competitor_does_not_shadow() {
        let m = machine(
            "machine M { phases { initial A } state { ready: bool = false } input Go
               transition Ready on Go from A -> stay when ready
               transition Fallback on Go from A -> stay otherwise }",
        );
        assert!(dead_transitions(&m).is_empty());
    }
}
