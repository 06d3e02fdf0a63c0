//! Analyses over a checked machine, one rule per module, run in this order:
//! - `coverage`: the (phase, trigger) pairs with no transition (a report, not a diagnostic).

pub mod coverage;

use crate::diagnostic::Diagnostic;
use crate::ir::Machine;

/// Runs every analysis that produces diagnostics on a machine whose IR is complete.
pub(crate) fn run(machine: &Machine) -> Vec<Diagnostic> {
    let _ = machine;
    Vec::new()
}
