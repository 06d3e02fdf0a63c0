//! E0306: a transition of a `pure` input that changes the state.
//!
//! A `pure` input (a classification or a query) only reads state and emits effects, so the runtime may apply it
//! without treating it as a mutation. Each of its transitions must be `-> stay` and write nothing: the report
//! points at a target that changes the phase, and at every statement that writes state, on any branch.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::visit::{is_write, walk_stmts};
use crate::ir::{Machine, Target, Trigger};

/// The E0306 diagnostics of every transition of a pure input: a phase change first, then each write in order.
pub(crate) fn pure_inputs(machine: &Machine) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for transition in &machine.transitions {
        let Trigger::Input(input) = transition.trigger else { continue };
        let Some(input) = machine.inputs.get(input.index()).filter(|i| i.pure_) else { continue };
        if !matches!(transition.target, Target::Stay) {
            out.push(
                Diagnostic::new(
                    Code::PureInputChangesState,
                    machine.source,
                    format!("`{}` is `pure`, but this transition changes the phase", input.name),
                    Label::new(transition.target_span, "changes the phase"),
                )
                .with_help("transitions of a pure input use `-> stay`"),
            );
        }
        walk_stmts(&transition.body, &mut |stmt| {
            if is_write(stmt) {
                out.push(
                    Diagnostic::new(
                        Code::PureInputChangesState,
                        machine.source,
                        format!("`{}` is `pure`, but this transition changes the state", input.name),
                        Label::new(stmt.span, "writes state"),
                    )
                    .with_help("a pure input only reads state and emits effects; remove `pure` or the write"),
                );
            }
        });
    }
    out
}
