//! W0005: an `otherwise` transition with nothing to fall back from.
//!
//! An `otherwise` transition fires when no non-`otherwise` candidate for the same phase and trigger passes. If
//! none of its source phases has such a candidate, it always fires, exactly like the same transition without
//! `otherwise`: the keyword says nothing and suggests a competitor that does not exist (often a sign that the
//! guarded transition it was meant to back up names another trigger or phase). The rule is structural and exact:
//! it looks at every source phase, reachable or not.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::Machine;

/// One W0005 warning per `otherwise` transition without a competitor, in declaration order.
pub(crate) fn pointless_otherwise(machine: &Machine) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for transition in machine.transitions.iter().filter(|t| t.otherwise) {
        let has_competitor = transition.sources.iter().any(|phase| {
            machine.candidates(*phase, transition.trigger).any(|id| !machine.transitions[id.index()].otherwise)
        });
        if has_competitor {
            continue;
        }
        let trigger = &machine.trigger(transition.trigger).name;
        let phases: Vec<String> = transition.sources.iter().map(|p| format!("`{}`", machine.phase(*p).name)).collect();
        out.push(
            Diagnostic::new(
                Code::PointlessOtherwise,
                machine.source,
                format!(
                    "`otherwise` transition `{}` has nothing to fall back from: no other transition takes `{trigger}` in {}",
                    transition.name,
                    phases.join(", ")
                ),
                Label::new(transition.header_span, "the only transition here"),
            )
            .with_help(
                "remove `otherwise`: a transition without a `when` clause already fires unconditionally; or add \
                 the guarded transition it is meant to back up",
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::analyses::testing::machine;

    #[test]
    fn lone_fallback_is_reported() {
        let m = machine("machine M { phases { initial A } input Go transition Wait on Go from A -> stay otherwise }");
        let diags = pointless_otherwise(&m);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::PointlessOtherwise);
        assert_eq!(diags[0].primary.span, m.transitions[0].header_span);
    }

    #[test]
    fn a_competitor_in_one_source_phase_is_enough() {
        let m = machine(
            "machine M { phases { initial A, B } state { n: u64 = 0 } input Go
               transition Move on Go from A -> B when n > 1
               transition Wait on Go from A, B -> stay otherwise }",
        );
        assert!(pointless_otherwise(&m).is_empty());
    }

    #[test]
    fn a_competitor_on_another_trigger_does_not_count() {
        let m = machine(
            "machine M { phases { initial A } state { n: u64 = 0 } input Go input Other
               transition Move on Other from A -> stay when n > 1
               transition Wait on Go from A -> stay otherwise }",
        );
        assert_eq!(pointless_otherwise(&m).len(), 1);
    }
}
