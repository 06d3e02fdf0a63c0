//! The replay harness of model-based conformance testing: generated sequences ([`super::generate`]) replayed on
//! an implementation and on the reference interpreter, compared step by step.
//!
//! The implementation under test provides [`Implementation`]: it maps a spec message to real calls, says
//! whether it took the message (and which further spec messages the same call applied, for implementations
//! whose one operation is several spec steps), and observes its state as the spec's state, or the part of it
//! that it exposes ([`Observation`]). The harness restarts it before each sequence, compares the initial
//! states, then per step the acceptance and the observed state against the reference projected to the same
//! parts. The first divergence of a sequence ends it and is reported with the sequence up to that step, the
//! message and both states ([`render_divergence`] prints the differing parts as a diff). A step the
//! implementation cannot perform on its own ([`Performed::Unsupported`]) ends the sequence without a
//! divergence and is reported with its reason.
//!
//! Coverage counts a transition once the reference fired it at a step where the implementation agreed
//! (accepted, and the observed states matched afterwards).

use std::collections::BTreeSet;

use crate::check::CheckedMachine;
use crate::interp::{Interpreter, Message, State, Value};
use crate::ir::{FieldId, Machine, PhaseId, TransitionId};

use super::generate::{Sequence, TestSuite};
use super::render_message;

/// What an implementation exposes of its state, in the spec's terms: the phase (if exposed) and some fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The phase, when the implementation exposes it.
    pub phase: Option<PhaseId>,
    /// The exposed fields with their values, in declaration order.
    pub fields: Vec<(FieldId, Value)>,
}

impl Observation {
    /// A whole spec state.
    pub fn whole(state: &State) -> Self {
        Observation {
            phase: Some(state.phase),
            fields: state.fields.iter().enumerate().map(|(i, v)| (FieldId(i as u32), v.clone())).collect(),
        }
    }

    /// `state` projected to the parts this observation exposes.
    pub fn project(&self, state: &State) -> Self {
        Observation {
            phase: self.phase.map(|_| state.phase),
            fields: self
                .fields
                .iter()
                .filter_map(|(id, _)| state.fields.get(id.index()).map(|v| (*id, v.clone())))
                .collect(),
        }
    }
}

/// What the implementation did with one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Performed {
    /// It took the message; `before` and `also` list the further spec messages the same call applied before
    /// and after it, in order (both empty when the call is exactly the message).
    Accepted {
        /// Messages the call applied before this one.
        before: Vec<Message>,
        /// Messages the call applied after this one.
        also: Vec<Message>,
    },
    /// It refused the message and changed nothing.
    Refused,
    /// The call applied spec messages, but not this one (a different payload, say): always a divergence.
    Substituted {
        /// What it applied instead, in order.
        applied: Vec<Message>,
    },
    /// It has no way to perform this message on its own in the current state; the sequence ends here.
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// An adapter failure (not a divergence): the implementation could not be driven or observed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AdapterError(pub String);

/// The implementation under test, as the harness drives it.
pub trait Implementation {
    /// Starts over from a fresh instance, in the initial state.
    fn restart(&mut self) -> Result<(), AdapterError>;
    /// Performs one spec message through real calls.
    fn perform(&mut self, message: &Message) -> Result<Performed, AdapterError>;
    /// The current state, as the spec's state or the part of it the implementation exposes.
    fn observe(&mut self) -> Result<Observation, AdapterError>;
}

/// How the implementation and the reference disagreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disagreement {
    /// The initial states differ.
    InitialState,
    /// One accepted the message, the other refused it.
    Acceptance {
        /// Whether the reference accepted it.
        reference_accepted: bool,
    },
    /// The implementation's call also applied a message the reference refuses there.
    ExtraRefused {
        /// The message.
        message: Message,
    },
    /// Both accepted (or both refused), and the states differ afterwards.
    State,
    /// The implementation's call applied other spec messages than the one asked for.
    Substituted {
        /// What it applied.
        applied: Vec<Message>,
    },
}

/// The first divergence of one sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The index of the sequence in the suite.
    pub sequence: usize,
    /// The messages from the initial state up to and including the divergent one (empty for the initial state).
    pub messages: Vec<Message>,
    /// The index of the divergent step in `messages` (`None` for the initial state).
    pub step: Option<usize>,
    /// How they disagreed.
    pub disagreement: Disagreement,
    /// The reference's state, projected to what the implementation exposes.
    pub reference: Observation,
    /// The implementation's observed state.
    pub implementation: Observation,
}

/// A sequence the implementation could not go on with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The index of the sequence in the suite.
    pub sequence: usize,
    /// The step it could not perform.
    pub step: usize,
    /// The message.
    pub message: Message,
    /// The implementation's reason.
    pub reason: String,
}

/// The outcome of replaying a suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conformance {
    /// The machine's transitions.
    pub transitions: usize,
    /// Transitions fired on the reference at steps where the implementation agreed.
    pub covered: BTreeSet<TransitionId>,
    /// Per diverging sequence, its first divergence, the shortest first.
    pub divergences: Vec<Divergence>,
    /// Sequences that stopped at a step the implementation could not perform.
    pub unsupported: Vec<Unsupported>,
}

/// Replays every sequence of `suite` on `implementation` and on the reference interpreter.
///
/// # Errors
///
/// The adapter failed, or the machine has no initial state.
pub fn check(
    machine: &CheckedMachine,
    suite: &TestSuite,
    implementation: &mut dyn Implementation,
) -> Result<Conformance, AdapterError> {
    let interp = Interpreter::new(machine.ir());
    let initial = interp.initial_state().map_err(|e| AdapterError(e.to_string()))?;
    let mut outcome = Conformance {
        transitions: suite.transitions,
        covered: BTreeSet::new(),
        divergences: Vec::new(),
        unsupported: Vec::new(),
    };
    for (index, sequence) in suite.sequences.iter().enumerate() {
        replay(&interp, &initial, index, sequence, implementation, &mut outcome)?;
    }
    outcome.divergences.sort_by_key(|d| (d.messages.len(), d.sequence));
    Ok(outcome)
}

/// Replays one sequence, recording its coverage and its first divergence or unsupported step.
fn replay(
    interp: &Interpreter<'_>,
    initial: &State,
    index: usize,
    sequence: &Sequence,
    implementation: &mut dyn Implementation,
    outcome: &mut Conformance,
) -> Result<(), AdapterError> {
    implementation.restart()?;
    let mut reference = initial.clone();
    let observed = implementation.observe()?;
    if observed.project(&reference) != observed {
        outcome.divergences.push(Divergence {
            sequence: index,
            messages: Vec::new(),
            step: None,
            disagreement: Disagreement::InitialState,
            reference: observed.project(&reference),
            implementation: observed,
        });
        return Ok(());
    }
    let messages = &sequence.messages;
    let mut step = 0;
    while let Some(message) = messages.get(step) {
        let diverged = |disagreement, reference: &State, observed: Observation| Divergence {
            sequence: index,
            messages: messages.get(..=step).unwrap_or_default().to_vec(),
            step: Some(step),
            disagreement,
            reference: observed.project(reference),
            implementation: observed,
        };
        let performed = implementation.perform(message)?;
        let mut fired = Vec::new();
        if let Performed::Accepted { before, .. } = &performed {
            for extra in before {
                match interp.apply(&mut reference, extra) {
                    Ok(f) => fired.push(f.transition),
                    Err(_) => {
                        let observed = implementation.observe()?;
                        let disagreement = Disagreement::ExtraRefused { message: extra.clone() };
                        outcome.divergences.push(diverged(disagreement, &reference, observed));
                        return Ok(());
                    }
                }
            }
        }
        let reference_accepted = match interp.apply(&mut reference, message) {
            Ok(f) => {
                fired.push(f.transition);
                true
            }
            Err(_) => false,
        };
        let mut skip = 0;
        match performed {
            Performed::Unsupported { reason } => {
                outcome.unsupported.push(Unsupported { sequence: index, step, message: message.clone(), reason });
                return Ok(());
            }
            Performed::Substituted { applied } => {
                let observed = implementation.observe()?;
                outcome.divergences.push(diverged(Disagreement::Substituted { applied }, &reference, observed));
                return Ok(());
            }
            Performed::Refused if reference_accepted => {
                let observed = implementation.observe()?;
                outcome.divergences.push(diverged(
                    Disagreement::Acceptance { reference_accepted },
                    &reference,
                    observed,
                ));
                return Ok(());
            }
            Performed::Accepted { .. } if !reference_accepted => {
                let observed = implementation.observe()?;
                outcome.divergences.push(diverged(
                    Disagreement::Acceptance { reference_accepted },
                    &reference,
                    observed,
                ));
                return Ok(());
            }
            Performed::Refused => {}
            Performed::Accepted { also, .. } => {
                for extra in &also {
                    match interp.apply(&mut reference, extra) {
                        Ok(f) => fired.push(f.transition),
                        Err(_) => {
                            let observed = implementation.observe()?;
                            let disagreement = Disagreement::ExtraRefused { message: extra.clone() };
                            outcome.divergences.push(diverged(disagreement, &reference, observed));
                            return Ok(());
                        }
                    }
                }
                // Planned messages the call already applied are not performed again.
                let rest = messages.get(step + 1..).unwrap_or_default();
                skip = rest.iter().zip(&also).take_while(|(planned, done)| planned == done).count();
            }
        }
        let observed = implementation.observe()?;
        if observed.project(&reference) != observed {
            outcome.divergences.push(diverged(Disagreement::State, &reference, observed));
            return Ok(());
        }
        outcome.covered.extend(fired);
        step += 1 + skip;
    }
    Ok(())
}

/// A divergence as text: the sequence with the divergent step marked, how they disagreed, and the parts of the
/// two states that differ (`-` the reference, `+` the implementation).
pub fn render_divergence(machine: &Machine, divergence: &Divergence) -> String {
    let mut out = String::new();
    match divergence.step {
        None => out.push_str("the initial states differ\n"),
        Some(step) => {
            let Some(message) = divergence.messages.get(step) else { return out };
            let message = render_message(machine, message);
            let what = match &divergence.disagreement {
                Disagreement::InitialState => "the initial states differ".to_string(),
                Disagreement::Acceptance { reference_accepted: true } => {
                    "the spec accepts it, the implementation refused it".to_string()
                }
                Disagreement::Acceptance { reference_accepted: false } => {
                    "the spec refuses it, the implementation accepted it".to_string()
                }
                Disagreement::ExtraRefused { message } => format!(
                    "the implementation also applied `{}`, which the spec refuses there",
                    render_message(machine, message)
                ),
                Disagreement::State => "the states differ after it".to_string(),
                Disagreement::Substituted { applied } => format!(
                    "the implementation applied `{}` instead",
                    applied.iter().map(|m| render_message(machine, m)).collect::<Vec<_>>().join("`, `")
                ),
            };
            out.push_str(&format!("step {} of {}: `{message}`: {what}\n", step + 1, divergence.messages.len()));
        }
    }
    out.push_str("sequence:\n");
    for (i, message) in divergence.messages.iter().enumerate() {
        let mark = if Some(i) == divergence.step { ">" } else { " " };
        out.push_str(&format!("  {mark} {:>2}. {}\n", i + 1, render_message(machine, message)));
    }
    let (reference, implementation) = (&divergence.reference, &divergence.implementation);
    let mut diff = Vec::new();
    if reference.phase != implementation.phase {
        let name = |p: Option<PhaseId>| {
            p.and_then(|p| machine.phases.get(p.index())).map_or("?".to_string(), |p| p.name.clone())
        };
        diff.push((machine.phase_field.clone(), name(reference.phase), name(implementation.phase)));
    }
    for ((id, expected), (_, actual)) in reference.fields.iter().zip(&implementation.fields) {
        if expected != actual {
            let field = machine.fields.get(id.index()).map_or("?", |f| f.name.as_str());
            diff.push((field.to_string(), expected.render(machine), actual.render(machine)));
        }
    }
    if diff.is_empty() {
        out.push_str("states: equal\n");
    } else {
        out.push_str("state (- spec, + implementation):\n");
        for (field, expected, actual) in diff {
            out.push_str(&format!("  - {field}: {expected}\n  + {field}: {actual}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
