//! E0303: two `otherwise` transitions for one (phase, trigger) pair.
//!
//! `otherwise` is the fallback that fires when no other candidate passes; a pair can have only one, or the
//! fallback would be ambiguous. The report names both transitions and points at the second.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{Machine, PhaseId, Trigger};

/// One E0303 diagnostic per (phase, trigger) pair and extra fallback, in declaration order of the second.
pub(crate) fn duplicate_otherwise(machine: &Machine) -> Vec<Diagnostic> {
    let mut seen: HashMap<(PhaseId, Trigger), usize> = HashMap::new();
    let mut out = Vec::new();
    for (index, second) in machine.transitions.iter().enumerate() {
        if !second.otherwise {
            continue;
        }
        for phase in &second.sources {
            let Some(first) = seen.insert((*phase, second.trigger), index) else { continue };
            let Some(first) = machine.transitions.get(first) else { continue };
            let phase_name = machine.phases.get(phase.index()).map_or("?", |p| p.name.as_str());
            out.push(
                Diagnostic::new(
                    Code::DuplicateOtherwise,
                    machine.source,
                    format!(
                        "`{}` and `{}` are both `otherwise` for `{}` in phase `{phase_name}`",
                        first.name,
                        second.name,
                        machine.trigger(second.trigger).name,
                    ),
                    Label::new(second.header_span, "second fallback"),
                )
                .with_label(first.header_span, "first fallback")
                .with_help(
                    "at most one transition per phase and trigger may be the fallback; give the other a `when` clause",
                ),
            );
        }
    }
    out
}
