//! Coverage: which (phase, trigger) pairs have no transition. Such an input is refused at run time with
//! `NoMatchingTransition`; the list appears in the generated reference page and in `cargo xtask check --uncovered`.

use crate::ir::{Machine, PhaseId, Trigger};

/// The uncovered pairs, phases in declaration order, then inputs, then signals.
pub fn uncovered(machine: &Machine) -> Vec<(PhaseId, Trigger)> {
    let mut out = Vec::new();
    for phase in machine.phase_ids() {
        for trigger in machine.triggers() {
            if machine.candidates(phase, trigger).next().is_none() {
                out.push((phase, trigger));
            }
        }
    }
    out
}
