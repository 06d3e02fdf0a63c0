//! W0001: phases that no sequence of transitions reaches from the initial phase.
//!
//! Reachability is computed on the transition graph alone: a transition whose source phase is reachable makes
//! its target reachable, whatever its guards say. Ignoring guards over-approximates the reachable set, so the
//! rule is sound: a phase reported here is unreachable in every run, whatever the state and the inputs. (A
//! phase that only an unsatisfiable guard leads to is not reported.) Other rules reuse [`reachable`] for the
//! same guarantee: anything that happens only in an unreachable phase never happens.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{Machine, PhaseId};

/// For each phase (by index), whether the transition graph reaches it from the initial phase.
pub(crate) fn reachable(machine: &Machine) -> Vec<bool> {
    let mut reached = vec![false; machine.phases.len()];
    let mut work = vec![machine.initial_phase];
    if let Some(initial) = reached.get_mut(machine.initial_phase.index()) {
        *initial = true;
    }
    while let Some(phase) = work.pop() {
        for transition in &machine.transitions {
            if !transition.sources.contains(&phase) {
                continue;
            }
            for target in transition.targets_from(phase) {
                if let Some(seen) = reached.get_mut(target.index()) {
                    if !*seen {
                        *seen = true;
                        work.push(target);
                    }
                }
            }
        }
    }
    reached
}

/// One W0001 warning per phase that [`reachable`] does not reach, in declaration order.
pub(crate) fn unreachable_phases(machine: &Machine) -> Vec<Diagnostic> {
    let reached = reachable(machine);
    let initial = &machine.phase(machine.initial_phase).name;
    let mut out = Vec::new();
    for (index, phase) in machine.phases.iter().enumerate() {
        if reached[index] {
            continue;
        }
        let id = PhaseId(index as u32);
        let mut d = Diagnostic::new(
            Code::UnreachablePhase,
            machine.source,
            format!("phase `{}` is unreachable from the initial phase `{initial}`", phase.name),
            Label::new(phase.span, "never entered"),
        );
        // Transitions into it exist but only fire from phases that are unreachable themselves.
        let into: Vec<_> = machine
            .transitions
            .iter()
            .filter(|t| t.sources.iter().any(|s| *s != id && t.targets_from(*s).contains(&id)))
            .collect();
        for transition in &into {
            let sources: Vec<String> =
                transition.sources.iter().map(|s| format!("`{}`", machine.phase(*s).name)).collect();
            d = d.with_label(
                transition.header_span,
                format!("leads here, but only from {}, which no run reaches", sources.join(", ")),
            );
        }
        d = if into.is_empty() {
            d.with_help(format!(
                "no transition leads to `{}`: add one from a reachable phase (e.g. `on SomeInput from {initial} -> {}`), or remove the phase",
                phase.name, phase.name
            ))
        } else {
            d.with_help(format!(
                "make a source phase of {} reachable, or add a transition into `{}` from a reachable phase",
                into.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", "),
                phase.name
            ))
        };
        out.push(d.with_note("reachability ignores guards, so no state or input sequence enters this phase"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::analyses::testing::machine;

    #[test]
    fn reaches_through_chains_and_ignores_guards() {
        let m = machine(
            "machine M { phases { initial A, B, C } state { n: u64 = 0 } input Go
               transition AB on Go from A -> B when n > 100
               transition BC on Go from B -> C when false }",
        );
        assert_eq!(reachable(&m), vec![true, true, true]);
        assert!(unreachable_phases(&m).is_empty());
    }

    #[test]
    fn reports_a_phase_only_unreachable_phases_lead_to() {
        let m = machine(
            "machine M { phases { initial A, B, C } input Go
               transition CB on Go from C -> B
               transition AA on Go from A -> stay }",
        );
        assert_eq!(reachable(&m), vec![true, false, false]);
        let diags = unreachable_phases(&m);
        assert_eq!(diags.len(), 2);
        assert!(diags.iter().all(|d| d.code == Code::UnreachablePhase));
        assert_eq!(diags[0].primary.span, m.phases[1].span);
        assert_eq!(diags[0].secondary.len(), 1, "labels the transition that leads to B");
        assert_eq!(diags[0].secondary[0].span, m.transitions[0].header_span);
        assert!(diags[1].help.as_deref().is_some_and(|h| h.contains("no transition leads to `C`")));
    }

    #[test]
    fn stay_does_not_reach_anything_new() {
        let m = machine("machine M { phases { initial A, B } input Go on Go from any -> stay }");
        assert_eq!(reachable(&m), vec![true, false]);
    }
}
