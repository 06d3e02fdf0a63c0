//! Unit tests of test generation: shortest covering sequences, prefix deduplication, unreached transitions and
//! reproducible walks.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]

use super::*;
use crate::explore::render_message;

fn machine(text: &str) -> CheckedMachine {
    match crate::check_source("t.machine", text) {
        Ok(mut package) => package.machines.remove(0),
        Err(e) => panic!("{}", e.render(crate::RenderOptions::default())),
    }
}

fn rendered(machine: &CheckedMachine, messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| render_message(machine, m)).collect()
}

fn transition(machine: &CheckedMachine, name: &str) -> TransitionId {
    let index = machine.ir().transitions.iter().position(|t| t.name == name).expect("a transition of the spec");
    TransitionId(index as u32)
}

/// Two branches from `Start`; `Deep` lies three steps down one of them, behind a counter.
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

#[test]
fn every_transition_has_its_shortest_sequence_as_a_prefix_of_a_generated_one() {
    let m = machine(FORK);
    let suite = generate(&m, &Bounds::default(), &Walks::default()).expect("explorable");
    assert_eq!(suite.transitions, 5);
    assert!(suite.unreached.is_empty(), "{:?}", suite.unreached);
    let covering: Vec<Vec<String>> = suite.covering().map(|s| rendered(&m, &s.messages)).collect();
    // `GoLeft` and `Climb` are prefixes of the way to `Deep`; `Back` is shortest after `GoLeft`, which is not a
    // prefix of the way to `Deep` (that goes on with `Bump`).
    assert_eq!(
        covering,
        vec![vec!["GoRight"], vec!["GoLeft", "Back"], vec!["GoLeft", "Bump", "Bump", "Bump"]],
        "{covering:?}"
    );
    let deep = suite.sequences.last().expect("the longest sequence");
    let steps: Vec<(String, usize)> =
        deep.covers.iter().map(|&(t, step)| (m.ir().transitions[t.index()].name.clone(), step)).collect();
    assert_eq!(steps, [("GoLeft".to_string(), 0), ("Climb".to_string(), 1), ("Deep".to_string(), 3)]);
    // Every transition is covered exactly once, and at the step where it fires on a replay.
    let mut covered: Vec<TransitionId> = suite.sequences.iter().flat_map(|s| s.covers.iter().map(|c| c.0)).collect();
    covered.sort();
    assert_eq!(covered, (0..5).map(TransitionId).collect::<Vec<_>>());
    let interp = Interpreter::new(m.ir());
    for sequence in &suite.sequences {
        let mut state = interp.initial_state().expect("initial");
        let fired: Vec<TransitionId> =
            sequence.messages.iter().map(|msg| interp.apply(&mut state, msg).expect("accepted").transition).collect();
        for &(t, step) in &sequence.covers {
            assert_eq!(fired[step], t);
        }
    }
}

#[test]
fn transitions_beyond_the_bounds_are_reported_unreached() {
    let m = machine(FORK);
    let bounds = Bounds { depth: Some(2), ..Bounds::default() };
    let suite = generate(&m, &bounds, &Walks::default()).expect("explorable");
    // Depth 2 explores states two steps deep, so firings three steps deep are tried but `Deep` needs four.
    assert_eq!(suite.unreached, vec![transition(&m, "Deep")]);
    assert!(suite.bounded);
}

#[test]
fn a_transition_whose_guard_never_holds_is_unreached_after_an_exhaustive_search() {
    let m = machine(
        "machine Stuck {
            phases { initial A, B }
            state { n: u64 = 0 }
            input Go
            input Never
            on Go from A -> B
            on Never from B -> A when n > 0
        }",
    );
    let suite = generate(&m, &Bounds::default(), &Walks::default()).expect("explorable");
    assert_eq!(suite.unreached, vec![transition(&m, "Never")]);
    assert!(!suite.bounded);
    assert_eq!(suite.covering().count(), 1);
}

#[test]
fn walks_are_reproducible_from_their_seed_and_only_take_accepted_messages() {
    let m = machine(FORK);
    let walks = |seed| Walks { count: 4, length: 12, seed };
    let first = generate(&m, &Bounds::default(), &walks(7)).expect("explorable");
    let again = generate(&m, &Bounds::default(), &walks(7)).expect("explorable");
    let other = generate(&m, &Bounds::default(), &walks(8)).expect("explorable");
    let walks_of = |suite: &TestSuite| -> Vec<Vec<Message>> {
        suite
            .sequences
            .iter()
            .filter(|s| matches!(s.purpose, Purpose::Walk { .. }))
            .map(|s| s.messages.clone())
            .collect()
    };
    assert_eq!(walks_of(&first), walks_of(&again));
    assert_ne!(walks_of(&first), walks_of(&other));
    assert_eq!(walks_of(&first).len(), 4);
    let interp = Interpreter::new(m.ir());
    for walk in walks_of(&first) {
        // Fork never deadlocks, so every walk has its full length.
        assert_eq!(walk.len(), 12);
        let mut state = interp.initial_state().expect("initial");
        for message in &walk {
            assert!(interp.apply(&mut state, message).is_ok(), "{}", render_message(&m, message));
        }
    }
}

#[test]
fn generation_for_an_implementation_searches_only_the_messages_it_can_take() {
    let m = machine(FORK);
    // An implementation that cannot take `Back` from `Left` (phase 1): `Back` is reached from `Right` instead.
    let drivable = |state: &State, message: &Message| !(state.phase.0 == 1 && render_message(&m, message) == "Back");
    let suite =
        generate_for(&m, &Bounds::default(), &Walks { count: 3, length: 6, seed: 1 }, &drivable).expect("explorable");
    let covering: Vec<Vec<String>> = suite.covering().map(|s| rendered(&m, &s.messages)).collect();
    assert!(covering.contains(&vec!["GoRight".to_string(), "Back".to_string()]), "{covering:?}");
    assert!(suite.unreached.is_empty());
    let interp = Interpreter::new(m.ir());
    for walk in suite.sequences.iter().filter(|s| matches!(s.purpose, Purpose::Walk { .. })) {
        let mut state = interp.initial_state().expect("initial");
        for message in &walk.messages {
            assert!(drivable(&state, message), "a walk took a message the implementation cannot take");
            interp.apply(&mut state, message).expect("accepted");
        }
    }
}
