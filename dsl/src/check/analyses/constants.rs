//! E0212: a constant that fails to evaluate.
//!
//! Initial values and model domain values are constant expressions, so the checker knows their values exactly;
//! but a constant can still overflow (`u64::MAX + 1` written as `18446744073709551615 + 1`) or divide by zero.
//! Such a machine has no initial state (or no model domain), so the rule evaluates every constant with the
//! reference interpreter and reports each one that fails, where it is written.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::interp::Interpreter;
use crate::ir::{Expr, Machine};

/// One E0212 diagnostic per constant that fails to evaluate, initial values first, then model domains.
pub(crate) fn constants(machine: &Machine) -> Vec<Diagnostic> {
    let interpreter = Interpreter::new(machine);
    let initial = machine.fields.iter().map(|f| (&f.init, format!("the initial value of `{}`", f.name)));
    let domains =
        machine.model.domains.iter().flat_map(|d| d.values.iter().map(|v| (v, "a model domain value".to_string())));
    let mut out = Vec::new();
    for (expr, what) in initial.chain(domains) {
        if interpreter.eval_constant(expr).is_none() {
            out.push(failure(machine, expr, &what));
        }
    }
    out
}

fn failure(machine: &Machine, expr: &Expr, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::ConstantFails,
        machine.source,
        format!("{what} cannot be evaluated"),
        Label::new(expr.span, "overflows or divides by zero"),
    )
    .with_help(
        "u64 arithmetic is checked: write a value that stays within 0..=18446744073709551615 without dividing by zero",
    )
}
