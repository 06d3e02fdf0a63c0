//! E0301: a transition that leaves a terminal phase.
//!
//! Nothing leaves a terminal phase: a transition may list one among its sources only to stay there (`-> stay`,
//! or a computed target that can only produce the phase itself). `any` never includes a terminal phase, so a
//! terminal source is always named in the `from` clause, which is where the report points.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{Machine, Target};

/// One E0301 diagnostic per (transition, terminal source) pair that can lead elsewhere, in declaration order.
pub(crate) fn terminal_exits(machine: &Machine) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for transition in &machine.transitions {
        let computed = matches!(transition.target, Target::Computed { .. });
        for (source, listed) in transition.sources.iter().zip(&transition.source_spans) {
            let Some(phase) = machine.phases.get(source.index()).filter(|p| p.terminal) else { continue };
            let Some(exit) = transition.targets_from(*source).into_iter().find(|t| t != source) else { continue };
            let exit_name = machine.phases.get(exit.index()).map_or("?", |p| p.name.as_str());
            let (message, label) = if computed {
                (
                    format!("transition can leave terminal phase `{}` for `{exit_name}`", phase.name),
                    format!("can evaluate to `{exit_name}`"),
                )
            } else {
                (
                    format!("transition leaves terminal phase `{}` for `{exit_name}`", phase.name),
                    "leads out of it".into(),
                )
            };
            out.push(
                Diagnostic::new(
                    Code::TerminalExit,
                    machine.source,
                    message,
                    Label::new(*listed, format!("`{}` is terminal", phase.name)),
                )
                .with_label(transition.target_span, label)
                .with_label(phase.span, "declared terminal here")
                .with_help(format!(
                    "nothing leaves a terminal phase; drop `{}` from the sources, or make it `-> stay`",
                    phase.name
                )),
            );
        }
    }
    out
}
