//! Test generation from a spec, for model-based conformance testing: input sequences that together fire every
//! transition reachable within the model's bounds, and seeded random walks.
//!
//! The covering sequences come from one breadth-first search over the interpreter (the bounds are the explorer's
//! [`Bounds`], the messages the explorer's alphabet): the first time a transition fires, the messages from the
//! initial state to that firing are a shortest sequence that fires it. Sequences are then deduplicated by
//! prefix: a transition whose shortest sequence is a prefix of another transition's sequence is listed as
//! covered by the longer one (at the step where it fires), so every transition still has its shortest sequence
//! as a prefix of some generated one. Transitions that never fired within the bounds are reported, with the
//! bounds that cut the search. Random walks pick, at each step, uniformly among the messages the current state
//! accepts, from a seeded generator, so the same seed gives the same walks.

use std::collections::{BTreeMap, HashMap};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::check::CheckedMachine;
use crate::interp::{Interpreter, Message, State};
use crate::ir::TransitionId;

use super::{Bounds, DEFAULT_DEPTH, ExploreError, alphabet, domains};

/// How many random walks to generate, how long, from which seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Walks {
    /// How many walks.
    pub count: usize,
    /// The messages per walk (a walk ends early in a state that accepts no message).
    pub length: usize,
    /// The generator's seed.
    pub seed: u64,
}

/// Why a sequence was generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A shortest sequence from the initial state to a transition's first firing (and any transition whose
    /// shortest sequence is a prefix of it).
    Cover,
    /// A seeded random walk, the `index`-th of its seed.
    Walk {
        /// The walk's position among the walks of its seed.
        index: usize,
    },
}

/// One generated input sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    /// Why it was generated.
    pub purpose: Purpose,
    /// The messages, from the initial state.
    pub messages: Vec<Message>,
    /// For a covering sequence: the transitions whose shortest sequence is a prefix of this one, each with the
    /// index of the step that fires it. Empty for a walk.
    pub covers: Vec<(TransitionId, usize)>,
}

/// The generated tests of one machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestSuite {
    /// The covering sequences, shortest first, then the walks.
    pub sequences: Vec<Sequence>,
    /// The machine's transitions.
    pub transitions: usize,
    /// Transitions that never fired within the bounds, in declaration order.
    pub unreached: Vec<TransitionId>,
    /// Whether a bound cut the search (so an unreached transition may still be reachable beyond it).
    pub bounded: bool,
}

impl TestSuite {
    /// The covering sequences.
    pub fn covering(&self) -> impl Iterator<Item = &Sequence> {
        self.sequences.iter().filter(|s| s.purpose == Purpose::Cover)
    }
}

/// Generates a machine's tests: covering sequences within `bounds`, and the walks `walks` asks for.
///
/// ```
/// use meerkat_dsl::explore::{Bounds, generate::{Walks, generate}};
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "machine Door { phases { initial Closed, Open } input Push input Pull \
///      on Push from Closed -> Open on Pull from Open -> Closed }",
/// )
/// .expect("the spec checks");
/// let suite = generate(&package.machines[0], &Bounds::default(), &Walks::default()).expect("explorable");
/// // `Push` is a prefix of `Push, Pull`: one sequence covers both transitions.
/// assert_eq!(suite.sequences.len(), 1);
/// assert_eq!(suite.sequences[0].messages.len(), 2);
/// assert!(suite.unreached.is_empty());
/// ```
pub fn generate(machine: &CheckedMachine, bounds: &Bounds, walks: &Walks) -> Result<TestSuite, ExploreError> {
    generate_for(machine, bounds, walks, &|_, _| true)
}

/// Which messages an implementation can be driven with in a state (in the spec's terms): generation for an
/// implementation that applies some inputs only on its own schedule (a runtime loop begins runs when it sees
/// queued input, not when asked) searches only the messages it can take, so the shortest sequences are ones it
/// can replay.
pub type Drivable<'a> = dyn Fn(&State, &Message) -> bool + 'a;

/// [`generate`], trying in each state only the messages `drivable` allows there.
///
/// # Errors
///
/// As [`generate`].
pub fn generate_for(
    machine: &CheckedMachine,
    bounds: &Bounds,
    walks: &Walks,
    drivable: &Drivable<'_>,
) -> Result<TestSuite, ExploreError> {
    let ir = machine.ir();
    let interp = Interpreter::new(ir);
    let initial = interp.initial_state()?;
    let mut values = domains::Domains::new(&interp, bounds.max_values)?;
    let (messages, payload_cuts) = alphabet(ir, &mut values, bounds.max_messages);
    let depth = bounds.depth.or(ir.model.depth).unwrap_or(DEFAULT_DEPTH);
    let (firsts, search_cut) = first_firings(&interp, &initial, &messages, bounds, depth, drivable);

    let mut sequences = covering_sequences(&firsts);
    sequences.extend(random_walks(&interp, &initial, &messages, walks, drivable));
    let unreached =
        (0..ir.transitions.len()).map(|i| TransitionId(i as u32)).filter(|t| !firsts.contains_key(t)).collect();
    Ok(TestSuite {
        sequences,
        transitions: ir.transitions.len(),
        unreached,
        bounded: search_cut || !payload_cuts.is_empty() || !values.cut.is_empty(),
    })
}

/// Breadth-first from `initial`: per transition, the messages of its first firing (a shortest sequence). Also
/// says whether a bound cut the search.
fn first_firings(
    interp: &Interpreter<'_>,
    initial: &State,
    messages: &[Message],
    bounds: &Bounds,
    depth: u64,
    drivable: &Drivable<'_>,
) -> (BTreeMap<TransitionId, Vec<Message>>, bool) {
    // Each found state keeps its parent's index and the message that led to it.
    let mut links: Vec<(usize, usize)> = vec![(usize::MAX, 0)];
    let mut index: HashMap<State, usize> = HashMap::from([(initial.clone(), 0)]);
    let mut frontier = vec![(0usize, initial.clone())];
    let mut firsts: BTreeMap<TransitionId, Vec<Message>> = BTreeMap::new();
    let mut applications = 0u64;
    let mut cut = false;
    let total = interp.machine().transitions.len();
    let mut level = 0u64;
    'search: while !frontier.is_empty() && firsts.len() < total {
        let mut next = Vec::new();
        for (node, state) in &frontier {
            let mut scratch = state.clone();
            for (m, message) in messages.iter().enumerate() {
                if !drivable(state, message) {
                    continue;
                }
                if applications >= bounds.max_applications {
                    cut = true;
                    break 'search;
                }
                applications += 1;
                let Ok(fired) = interp.apply(&mut scratch, message) else { continue };
                firsts.entry(fired.transition).or_insert_with(|| {
                    let mut path = path_to(&links, *node, messages);
                    path.push(message.clone());
                    path
                });
                if !index.contains_key(&scratch) {
                    if level >= depth || index.len() >= bounds.max_states {
                        cut = true;
                    } else {
                        links.push((*node, m));
                        index.insert(scratch.clone(), links.len() - 1);
                        next.push((links.len() - 1, scratch.clone()));
                    }
                }
                scratch.clone_from(state);
            }
        }
        frontier = next;
        level += 1;
    }
    (firsts, cut)
}

/// The messages from the initial state to `node`, rebuilt from the parent links.
fn path_to(links: &[(usize, usize)], mut node: usize, messages: &[Message]) -> Vec<Message> {
    let mut path = Vec::new();
    while let Some(&(parent, message)) = links.get(node) {
        if parent == usize::MAX {
            break;
        }
        if let Some(message) = messages.get(message) {
            path.push(message.clone());
        }
        node = parent;
    }
    path.reverse();
    path
}

/// One sequence per shortest path that is not a prefix of another, longest first when equal prefixes compete,
/// then sorted shortest first; each lists the transitions whose shortest path it extends.
fn covering_sequences(firsts: &BTreeMap<TransitionId, Vec<Message>>) -> Vec<Sequence> {
    let mut by_length: Vec<(&TransitionId, &Vec<Message>)> = firsts.iter().collect();
    by_length.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let mut sequences: Vec<Sequence> = Vec::new();
    for (transition, path) in by_length {
        let step = path.len().saturating_sub(1);
        match sequences.iter_mut().find(|s| s.messages.starts_with(path)) {
            Some(longer) => longer.covers.push((*transition, step)),
            None => sequences.push(Sequence {
                purpose: Purpose::Cover,
                messages: path.clone(),
                covers: vec![(*transition, step)],
            }),
        }
    }
    for sequence in &mut sequences {
        sequence.covers.sort_by_key(|&(t, step)| (step, t));
    }
    sequences.sort_by(|a, b| a.messages.len().cmp(&b.messages.len()).then(a.covers.cmp(&b.covers)));
    sequences
}

/// The walks: each step picks uniformly among the messages the current state accepts.
fn random_walks(
    interp: &Interpreter<'_>,
    initial: &State,
    messages: &[Message],
    walks: &Walks,
    drivable: &Drivable<'_>,
) -> Vec<Sequence> {
    let mut rng = StdRng::seed_from_u64(walks.seed);
    (0..walks.count)
        .map(|index| {
            let mut state = initial.clone();
            let mut walk = Vec::with_capacity(walks.length);
            for _ in 0..walks.length {
                let accepted: Vec<(&Message, State)> = messages
                    .iter()
                    .filter(|message| drivable(&state, message))
                    .filter_map(|message| {
                        let mut next = state.clone();
                        interp.apply(&mut next, message).ok().map(|_| (message, next))
                    })
                    .collect();
                let Some((message, next)) = accepted.choose(&mut rng) else { break };
                walk.push((*message).clone());
                state = next.clone();
            }
            Sequence { purpose: Purpose::Walk { index }, messages: walk, covers: Vec::new() }
        })
        .collect()
}

#[cfg(test)]
mod tests;
