//! E0305: an invariant that does not hold in the initial state.
//!
//! The initial state is known exactly (the initial phase and the constant initial values), so the rule runs the
//! reference interpreter on it rather than reasoning about the invariant: what it reports is precisely what the
//! runtime would refuse. An invariant whose evaluation fails (an overflow) does not hold, as at run time. Each
//! report points at the invariant, and at the initial values it reads.

use std::collections::BTreeSet;

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::interp::{Interpreter, Value};
use crate::ir::visit::walk_expr;
use crate::ir::{Expr, ExprKind, FieldId, GuardId, HelperId, InvariantId, Machine};

/// One E0305 diagnostic per invariant that does not hold initially, in declaration order.
pub(crate) fn initial_invariants(machine: &Machine) -> Vec<Diagnostic> {
    let interpreter = Interpreter::new(machine);
    // An initial value that cannot be evaluated (`u64::MAX + 1`) leaves no initial state to check invariants in.
    let Ok(state) = interpreter.initial_state() else { return Vec::new() };
    let mut diagnostics = Vec::new();
    for (index, invariant) in machine.invariants.iter().enumerate() {
        let label = match interpreter.eval_invariant(&state, InvariantId(index as u32)) {
            Ok(true) => continue,
            Ok(false) => "false in the initial state".to_string(),
            Err(error) => format!("cannot be evaluated in the initial state: {error}"),
        };
        let mut d = Diagnostic::new(
            Code::InitialStateViolatesInvariant,
            machine.source,
            format!("the initial state breaks invariant `{}`", invariant.name),
            Label::new(invariant.span, label),
        )
        .with_help(
            "every invariant must hold from the start: change the initial phase or the initial values in the \
             `state` block so that it holds, or correct the invariant",
        );
        let mut reads = Reads::default();
        reads.expr(machine, &invariant.expr);
        if reads.phase {
            let initial = machine.phase(machine.initial_phase);
            d = d.with_label(initial.span, format!("`{}` starts as `{}`", machine.phase_field, initial.name));
        }
        for (index, (field, value)) in machine.fields.iter().zip(&state.fields).enumerate() {
            if reads.fields.contains(&FieldId(index as u32)) {
                d = d.with_label(field.init.span, starts_as(machine, &field.name, value));
            }
        }
        diagnostics.push(d);
    }
    diagnostics
}

fn starts_as(machine: &Machine, name: &str, value: &Value) -> String {
    format!("`{name}` starts as `{}`", value.render(machine))
}

/// The state an expression reads, directly or through the named guards and helpers it uses.
#[derive(Default)]
struct Reads {
    phase: bool,
    fields: BTreeSet<FieldId>,
    guards: BTreeSet<GuardId>,
    helpers: BTreeSet<HelperId>,
}

impl Reads {
    /// Adds what `expr` reads, following named guards and helper calls into their bodies (each once).
    fn expr(&mut self, machine: &Machine, expr: &Expr) {
        walk_expr(expr, &mut |e| match &e.kind {
            ExprKind::Field(id) => {
                self.fields.insert(*id);
            }
            ExprKind::Phase => self.phase = true,
            // Each guard and helper body is followed once, the first time it is met.
            ExprKind::Guard(id) if self.guards.insert(*id) => {
                if let Some(guard) = machine.guards.get(id.index()) {
                    self.expr(machine, &guard.expr);
                }
            }
            ExprKind::Call(id, _) if self.helpers.insert(*id) => {
                if let Some(helper) = machine.helpers.get(id.index()) {
                    self.expr(machine, &helper.body);
                }
            }
            _ => {}
        });
    }
}
