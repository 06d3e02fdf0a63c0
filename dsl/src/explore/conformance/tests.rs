//! Unit tests of the replay harness: a hand-written implementation of a small spec agrees with it, and test
//! doubles that each mishandle one transition are caught at exactly that transition, with the shortest sequence
//! that shows it.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]

use super::*;
use crate::explore::Bounds;
use crate::explore::generate::{Walks, generate};
use crate::ir::Trigger;

fn machine(text: &str) -> CheckedMachine {
    match crate::check_source("t.machine", text) {
        Ok(mut package) => package.machines.remove(0),
        Err(e) => panic!("{}", e.render(crate::RenderOptions::default())),
    }
}

const FORK: &str = "machine Fork {
    phases { initial Start, Left, Right }
    state { n: u64 = 0 }
    input GoLeft
    input GoRight
    input Bump
    input Back
    on GoLeft from Start -> Left
    on GoRight from Start -> Right
    transition Climb on Bump from Left -> stay when n < 2 { n += 1 }
    transition Deep on Bump from Left -> stay when n >= 2 { }
    on Back from Left, Right -> Start
}";

/// What a double gets wrong.
#[derive(Clone, Copy, PartialEq)]
enum Bug {
    None,
    /// `Deep` resets the counter.
    DeepResets,
    /// `Back` is refused from `Right`.
    NoBackFromRight,
}

/// Fork written by hand, as an implementation under test would be: phases 0, 1, 2 are Start, Left, Right.
struct Double {
    names: Vec<String>,
    phase: u32,
    n: u64,
    bug: Bug,
}

impl Double {
    fn new(machine: &CheckedMachine, bug: Bug) -> Self {
        Double { names: machine.ir().inputs.iter().map(|i| i.name.clone()).collect(), phase: 0, n: 0, bug }
    }
}

impl Implementation for Double {
    fn restart(&mut self) -> Result<(), AdapterError> {
        self.phase = 0;
        self.n = 0;
        Ok(())
    }

    fn perform(&mut self, message: &Message) -> Result<Performed, AdapterError> {
        let Trigger::Input(id) = message.trigger else { return Err(AdapterError("a signal".into())) };
        let name = self.names.get(id.index()).map(String::as_str);
        let accepted = match (name, self.phase) {
            (Some("GoLeft"), 0) => {
                self.phase = 1;
                true
            }
            (Some("GoRight"), 0) => {
                self.phase = 2;
                true
            }
            (Some("Bump"), 1) if self.n < 2 => {
                self.n += 1;
                true
            }
            (Some("Bump"), 1) => {
                if self.bug == Bug::DeepResets {
                    self.n = 0;
                }
                true
            }
            (Some("Back"), 2) if self.bug == Bug::NoBackFromRight => false,
            (Some("Back"), 1 | 2) => {
                self.phase = 0;
                true
            }
            _ => false,
        };
        Ok(if accepted { Performed::Accepted { before: Vec::new(), also: Vec::new() } } else { Performed::Refused })
    }

    fn observe(&mut self) -> Result<Observation, AdapterError> {
        Ok(Observation { phase: Some(PhaseId(self.phase)), fields: vec![(FieldId(0), Value::U64(self.n))] })
    }
}

fn suite(m: &CheckedMachine) -> TestSuite {
    generate(m, &Bounds::default(), &Walks { count: 8, length: 10, seed: 3 }).expect("explorable")
}

fn names(m: &CheckedMachine, messages: &[Message]) -> Vec<String> {
    messages.iter().map(|msg| render_message(m.ir(), msg)).collect()
}

#[test]
fn a_correct_implementation_conforms_and_covers_every_transition() {
    let m = machine(FORK);
    let outcome = check(&m, &suite(&m), &mut Double::new(&m, Bug::None)).expect("drivable");
    assert!(outcome.divergences.is_empty(), "{:?}", outcome.divergences);
    assert!(outcome.unsupported.is_empty());
    assert_eq!(outcome.covered.len(), 5);
    assert_eq!(outcome.transitions, 5);
}

#[test]
fn a_wrong_transition_body_is_reported_with_the_shortest_sequence_that_shows_it() {
    let m = machine(FORK);
    let outcome = check(&m, &suite(&m), &mut Double::new(&m, Bug::DeepResets)).expect("drivable");
    let first = outcome.divergences.first().expect("the bug is found");
    assert_eq!(names(&m, &first.messages), ["GoLeft", "Bump", "Bump", "Bump"]);
    assert_eq!(first.step, Some(3));
    assert_eq!(first.disagreement, Disagreement::State);
    // Every divergence found (the covering sequence's and any walk's) is the same bug: `Bump` with n == 2.
    for divergence in &outcome.divergences {
        let step = divergence.step.expect("a step");
        assert_eq!(names(&m, &divergence.messages[step..]), ["Bump"]);
        assert_eq!(divergence.reference.fields, vec![(FieldId(0), Value::U64(2))]);
        assert_eq!(divergence.implementation.fields, vec![(FieldId(0), Value::U64(0))]);
    }
    assert!(!outcome.covered.contains(&TransitionId(3)), "the diverging `Deep` is not covered");
    let text = render_divergence(m.ir(), first);
    assert_eq!(
        text,
        "step 4 of 4: `Bump`: the states differ after it\n\
         sequence:\n     1. GoLeft\n     2. Bump\n     3. Bump\n  >  4. Bump\n\
         state (- spec, + implementation):\n  - n: 2\n  + n: 0\n"
    );
}

#[test]
fn a_wrongly_refused_input_is_reported_as_an_acceptance_divergence() {
    let m = machine(FORK);
    let outcome = check(&m, &suite(&m), &mut Double::new(&m, Bug::NoBackFromRight)).expect("drivable");
    let first = outcome.divergences.first().expect("the bug is found");
    assert_eq!(names(&m, &first.messages), ["GoRight", "Back"]);
    assert_eq!(first.disagreement, Disagreement::Acceptance { reference_accepted: true });
    let text = render_divergence(m.ir(), first);
    assert_eq!(
        text,
        "step 2 of 2: `Back`: the spec accepts it, the implementation refused it\n\
         sequence:\n     1. GoRight\n  >  2. Back\n\
         state (- spec, + implementation):\n  - phase: Start\n  + phase: Right\n"
    );
}

/// An implementation whose one call is two spec steps: `GoLeft` also bumps, and `Bump` cannot be done alone.
struct Coarse {
    inner: Double,
}

impl Implementation for Coarse {
    fn restart(&mut self) -> Result<(), AdapterError> {
        self.inner.restart()
    }

    fn perform(&mut self, message: &Message) -> Result<Performed, AdapterError> {
        let Trigger::Input(id) = message.trigger else { return Err(AdapterError("a signal".into())) };
        match self.inner.names.get(id.index()).map(String::as_str) {
            Some("Bump") => Ok(Performed::Unsupported { reason: "bumps only come with GoLeft".into() }),
            Some("GoLeft") => {
                let performed = self.inner.perform(message)?;
                if performed == Performed::Refused {
                    return Ok(performed);
                }
                let bump = Message { trigger: Trigger::Input(crate::ir::InputId(2)), fields: Vec::new() };
                self.inner.perform(&bump)?;
                Ok(Performed::Accepted { before: Vec::new(), also: vec![bump] })
            }
            _ => self.inner.perform(message),
        }
    }

    fn observe(&mut self) -> Result<Observation, AdapterError> {
        self.inner.observe()
    }
}

#[test]
fn steps_a_call_applies_too_are_followed_on_the_reference_and_unsupported_steps_end_a_sequence() {
    let m = machine(FORK);
    let suite = generate(&m, &Bounds::default(), &Walks::default()).expect("explorable");
    let outcome = check(&m, &suite, &mut Coarse { inner: Double::new(&m, Bug::None) }).expect("drivable");
    assert!(outcome.divergences.is_empty(), "{:?}", outcome.divergences);
    // `GoLeft, Bump, Bump, Bump`: the planned first `Bump` was done by `GoLeft`, the second is unsupported.
    let stopped: Vec<(usize, String)> =
        outcome.unsupported.iter().map(|u| (u.step, render_message(m.ir(), &u.message))).collect();
    assert_eq!(stopped, [(2, "Bump".to_string())]);
    let covered: Vec<&str> = outcome.covered.iter().map(|t| m.ir().transitions[t.index()].name.as_str()).collect();
    assert_eq!(covered, ["GoLeft", "GoRight", "Climb", "Back"]);
}
