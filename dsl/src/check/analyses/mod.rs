//! Analyses over checked machines, one rule per module.
//!
//! The structural rules read only the transitions, so they hold on the partial IR of a machine that has other
//! errors too, and `structural` runs them on every machine, in this order:
//! - `terminal_exits` (E0301): transitions that leave a terminal phase.
//! - `pure_inputs` (E0306): transitions of a `pure` input that change the phase or write state.
//! - `duplicate_otherwise` (E0303): two `otherwise` transitions for one (phase, trigger) pair.
//!
//! The other rules need a complete IR, and `run` runs them on machines that checked clean, in this order:
//! - `coverage`: the (phase, trigger) pairs with no transition (a report, not a diagnostic).
//! - `constants` (E0212): initial values and model domain values that fail to evaluate.
//! - `unreachable_phases` (W0001): phases the transition graph never reaches from the initial phase.
//! - `dead_transitions` (W0002): transitions that can never fire (unsatisfiable guards, unreachable sources, a
//!   fallback whose competitors always pass).
//! - `unused` (W0003): types, state fields, inputs, signals, effects, helpers and guards nothing uses.
//! - `guard_overlap` (E0302, W0004): competing transitions that can, or may, both pass.
//! - `pointless_otherwise` (W0005): `otherwise` transitions with no competitor.
//! - `initial_invariants` (E0305): invariants the initial state breaks, found by running the interpreter.
//!
//! `conditions` is not a rule: it is the small logic of guard facts that `dead_transitions` and
//! `guard_overlap` share. Reachability comes from `unreachable_phases`.

mod conditions;
mod constants;
pub mod coverage;
mod dead_transitions;
mod duplicate_otherwise;
mod guard_overlap;
mod initial_invariants;
mod pointless_otherwise;
mod pure_inputs;
mod terminal_exits;
mod unreachable_phases;
mod unused;

use crate::diagnostic::Diagnostic;
use crate::ir::Machine;

/// Runs the structural rules on a machine's transitions, whether or not the rest of its IR is complete.
pub(crate) fn structural(machine: &Machine) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(terminal_exits::terminal_exits(machine));
    out.extend(pure_inputs::pure_inputs(machine));
    out.extend(duplicate_otherwise::duplicate_otherwise(machine));
    out
}

/// Runs every other analysis that produces diagnostics on a machine whose IR is complete.
pub(crate) fn run(machine: &Machine) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(constants::constants(machine));
    out.extend(unreachable_phases::unreachable_phases(machine));
    out.extend(dead_transitions::dead_transitions(machine));
    out.extend(unused::unused(machine));
    out.extend(guard_overlap::guard_overlap(machine));
    out.extend(pointless_otherwise::pointless_otherwise(machine));
    out.extend(initial_invariants::initial_invariants(machine));
    out
}

/// Builds checked IR from spec text for the analyses' unit tests, without running the analyses.
#[cfg(test)]
pub(crate) mod testing {
    use crate::ir::Machine;
    use crate::span::SourceId;

    /// The IR of the first machine of `text`, which must check without errors.
    #[allow(clippy::panic, reason = "a test spec that does not check is a mistake in the test")]
    pub(crate) fn machine(text: &str) -> Machine {
        let file = match crate::parse::parse(text, SourceId(0)) {
            Ok(file) => file,
            Err(errors) => panic!("syntax errors: {errors:#?}"),
        };
        let Some(ast) = file.items.iter().find_map(|item| match item {
            crate::ast::TopItem::Machine(m) => Some(m),
            crate::ast::TopItem::Composition(_) => None,
        }) else {
            panic!("no machine in the test spec")
        };
        let (machine, diagnostics) = super::super::machine::check_machine(ast, SourceId(0), text);
        assert!(diagnostics.iter().all(|d| !d.is_error()), "check errors: {diagnostics:#?}");
        machine
    }
}
