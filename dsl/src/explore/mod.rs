//! Bounded explicit-state model checking over the reference interpreter: every input sequence up to a depth,
//! with payloads drawn from finite domains, applied breadth-first from the initial state.
//!
//! What it finds, per machine ([`Report`]):
//! - the number of distinct states reached and the depth at which the last new one appeared, and whether the
//!   search ran dry before the depth bound (then every state reachable with these payload values was seen);
//! - how often each transition fired, so transitions that never fired stand out;
//! - every reachable [`Rejection::AmbiguousTransition`] (per pair of transitions) and
//!   [`Rejection::ArithmeticOverflow`] (per transition) with a shortest trace that reaches it: breadth-first
//!   order means no shorter input sequence (over these domains) shows the same problem;
//! - how many inputs each invariant rejected. Those are not errors: rejecting an input that would break an
//!   invariant is how a machine enforces it.
//!
//! Cost is bounded by [`Bounds`]: the depth (the model block's `depth`, else [`DEFAULT_DEPTH`]), a cap on
//! distinct states, a budget of message applications, a cap on the payload combinations per trigger and on the
//! values per type (see [`domains`]). Every bound is a count, never a time, so a run is reproducible. States are deduplicated, so the work grows with the number of distinct states times the number
//! of messages, not with the number of sequences.
//!
//! The explorer only reads the interpreter: it does no IO and never panics on a checked machine.

pub mod domains;

use std::collections::{BTreeMap, HashMap};

use crate::check::CheckedMachine;
use crate::interp::{InitialStateError, Interpreter, Message, Rejection, State};
use crate::ir::{InvariantId, Machine, TransitionId, Trigger};

/// The depth used when the model block sets none.
pub const DEFAULT_DEPTH: u64 = 8;

/// Limits on one exploration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The longest input sequence to try; `None` uses the model block's `depth`, else [`DEFAULT_DEPTH`].
    pub depth: Option<u64>,
    /// Stop adding new states after this many (the states already found are still expanded at their depth).
    pub max_states: usize,
    /// Stop the search after applying this many messages in total: the budget that keeps a run short.
    pub max_applications: u64,
    /// At most this many payload combinations per trigger.
    pub max_messages: usize,
    /// At most this many values per type (and so per payload field).
    pub max_values: usize,
}

impl Default for Bounds {
    /// Bounds that keep a run over a realistic machine to a few seconds, even in a debug build (where the
    /// interpreter applies some tens of thousands of messages a second).
    fn default() -> Self {
        Bounds { depth: None, max_states: 50_000, max_applications: 250_000, max_messages: 16, max_values: 16 }
    }
}

/// A problem the explorer reached, with a shortest input sequence from the initial state that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rejection the last message of `trace` caused.
    pub rejection: Rejection,
    /// The messages applied from the initial state; every one but the last was accepted.
    pub trace: Vec<Message>,
}

/// How many inputs one invariant rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantRejections {
    /// The invariant.
    pub invariant: InvariantId,
    /// How many (state, message) pairs it rejected.
    pub count: u64,
}

/// The outcome of exploring one machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The depth bound used.
    pub depth_bound: u64,
    /// The depth at which the last new state was found.
    pub depth_reached: u64,
    /// Distinct states reached, the initial one included.
    pub states: usize,
    /// Messages applied in total.
    pub applications: u64,
    /// Whether the search found no new state before the depth bound: every state reachable with the payload
    /// domains was explored.
    pub exhausted: bool,
    /// Whether [`Bounds::max_states`] stopped the search from adding states.
    pub state_limit_hit: bool,
    /// Whether [`Bounds::max_applications`] stopped the search.
    pub budget_exhausted: bool,
    /// The messages tried in every state, per trigger in trigger order.
    pub messages: Vec<Message>,
    /// The triggers whose payload combinations were cut to [`Bounds::max_messages`].
    pub capped_triggers: Vec<Trigger>,
    /// How often each transition fired, indexed by [`TransitionId`].
    pub fired: Vec<u64>,
    /// Reachable ambiguities and arithmetic errors (and messages the interpreter refused as invalid, which
    /// would be a bug in the explorer), each with a shortest trace, in the order found.
    pub findings: Vec<Finding>,
    /// Inputs rejected by each invariant, for the invariants that rejected any, in declaration order.
    pub invariant_rejections: Vec<InvariantRejections>,
}

impl Report {
    /// The transitions that never fired, in declaration order.
    pub fn never_fired(&self) -> Vec<TransitionId> {
        self.fired.iter().enumerate().filter(|(_, n)| **n == 0).map(|(i, _)| TransitionId(i as u32)).collect()
    }

    /// Whether the exploration found an ambiguity, an arithmetic error or an invalid message.
    pub fn has_errors(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// Why a machine could not be explored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExploreError {
    /// The initial state could not be built.
    #[error(transparent)]
    InitialState(#[from] InitialStateError),
}

/// A node of the search tree: the state it reached is the key of the state index.
#[derive(Clone, Copy)]
struct Node {
    /// The node this one was reached from; `u32::MAX` for the initial state.
    parent: u32,
    /// The index in the alphabet of the message that led here.
    message: u32,
}

const ROOT: u32 = u32::MAX;

/// Explores a machine breadth-first within `bounds`.
///
/// ```
/// use meerkat_dsl::explore::{Bounds, explore};
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "machine Door { phases { initial Closed, Open } input Push input Pull \
///      on Push from Closed -> Open on Pull from Open -> Closed }",
/// )
/// .expect("the spec checks");
/// let report = explore(&package.machines[0], &Bounds::default()).expect("explorable");
/// assert_eq!(report.states, 2);
/// assert!(report.exhausted && report.findings.is_empty() && report.never_fired().is_empty());
/// ```
pub fn explore(machine: &CheckedMachine, bounds: &Bounds) -> Result<Report, ExploreError> {
    let ir = machine.ir();
    let interp = Interpreter::new(ir);
    let initial = interp.initial_state()?;
    let depth_bound = bounds.depth.or(ir.model.depth).unwrap_or(DEFAULT_DEPTH);
    let (messages, capped_triggers) = alphabet(&interp, bounds);

    let mut index: HashMap<State, u32> = HashMap::new();
    let mut nodes: Vec<Node> = vec![Node { parent: ROOT, message: 0 }];
    index.insert(initial.clone(), 0);
    let mut frontier: Vec<(u32, State)> = vec![(0, initial)];
    let mut fired = vec![0u64; ir.transitions.len()];
    let mut findings: Vec<Finding> = Vec::new();
    let mut seen_findings: Vec<FindingKey> = Vec::new();
    let mut invariant_counts: BTreeMap<InvariantId, u64> = BTreeMap::new();
    let mut applications = 0u64;
    let mut depth_reached = 0u64;
    let mut state_limit_hit = false;
    let mut budget_exhausted = false;
    let max_states = bounds.max_states.clamp(1, ROOT as usize - 1);

    let mut depth = 0u64;
    while depth < depth_bound && !frontier.is_empty() && !state_limit_hit && !budget_exhausted {
        depth += 1;
        let mut next: Vec<(u32, State)> = Vec::new();
        'level: for (node, state) in &frontier {
            // Rejected messages leave the state unchanged, so one scratch copy serves until a message is accepted.
            let mut scratch = state.clone();
            for (message_index, message) in messages.iter().enumerate() {
                if applications >= bounds.max_applications {
                    budget_exhausted = true;
                    break 'level;
                }
                applications += 1;
                match interp.apply(&mut scratch, message) {
                    Ok(fired_transition) => {
                        if let Some(count) = fired.get_mut(fired_transition.transition.index()) {
                            *count += 1;
                        }
                        if !index.contains_key(&scratch) {
                            if index.len() >= max_states {
                                state_limit_hit = true;
                            } else {
                                let id = nodes.len() as u32;
                                nodes.push(Node { parent: *node, message: message_index as u32 });
                                index.insert(scratch.clone(), id);
                                next.push((id, scratch.clone()));
                            }
                        }
                        scratch.clone_from(state);
                    }
                    Err(Rejection::InvariantViolated { invariant, .. }) => {
                        *invariant_counts.entry(invariant).or_default() += 1;
                    }
                    Err(Rejection::NoMatchingTransition { .. } | Rejection::GuardRejected { .. }) => {}
                    Err(rejection) => {
                        let key = FindingKey::of(&rejection);
                        if !seen_findings.contains(&key) {
                            seen_findings.push(key);
                            let mut trace = trace_to(&nodes, *node, &messages);
                            trace.push(message.clone());
                            findings.push(Finding { rejection, trace });
                        }
                    }
                }
            }
        }
        if !next.is_empty() {
            depth_reached = depth;
        }
        frontier = next;
    }

    Ok(Report {
        depth_bound,
        depth_reached,
        states: index.len(),
        applications,
        exhausted: frontier.is_empty() && !state_limit_hit && !budget_exhausted,
        state_limit_hit,
        budget_exhausted,
        messages,
        capped_triggers,
        fired,
        findings,
        invariant_rejections: invariant_counts
            .into_iter()
            .map(|(invariant, count)| InvariantRejections { invariant, count })
            .collect(),
    })
}

/// What makes two findings the same problem: the pair of transitions of an ambiguity, the transition of an
/// arithmetic error, the trigger of an invalid message.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FindingKey {
    Ambiguous(TransitionId, TransitionId),
    Overflow(TransitionId),
    Other(Trigger),
    Malformed(TransitionId),
}

impl FindingKey {
    fn of(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::AmbiguousTransition { first, second, .. } => FindingKey::Ambiguous(*first, *second),
            Rejection::ArithmeticOverflow { transition } => FindingKey::Overflow(*transition),
            Rejection::Malformed { transition } | Rejection::InvariantViolated { transition, .. } => {
                FindingKey::Malformed(*transition)
            }
            Rejection::NoMatchingTransition { trigger, .. }
            | Rejection::GuardRejected { trigger, .. }
            | Rejection::InvalidMessage { trigger, .. } => FindingKey::Other(*trigger),
        }
    }
}

/// The messages that lead from the initial state to `node`.
fn trace_to(nodes: &[Node], mut node: u32, messages: &[Message]) -> Vec<Message> {
    let mut trace = Vec::new();
    while let Some(step) = nodes.get(node as usize) {
        if step.parent == ROOT {
            break;
        }
        if let Some(message) = messages.get(step.message as usize) {
            trace.push(message.clone());
        }
        node = step.parent;
    }
    trace.reverse();
    trace
}

/// Every message tried in each state: per trigger (inputs, then signals), the capped product of its payload
/// fields' domains. Also returns the triggers whose product was capped.
fn alphabet(interp: &Interpreter<'_>, bounds: &Bounds) -> (Vec<Message>, Vec<Trigger>) {
    let machine = interp.machine();
    let values = domains::Domains::new(interp, bounds.max_values);
    let mut messages = Vec::new();
    let mut capped = Vec::new();
    for trigger in machine.triggers() {
        let declaration = machine.trigger(trigger);
        let lists: Vec<Vec<crate::interp::Value>> = declaration
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| values.field(trigger, i as u32, &field.ty))
            .collect();
        let total = lists.iter().try_fold(1usize, |acc, l| acc.checked_mul(l.len()));
        if total.is_none_or(|t| t > bounds.max_messages) {
            capped.push(trigger);
        }
        for fields in domains::combinations(&lists, bounds.max_messages) {
            messages.push(Message { trigger, fields });
        }
    }
    (messages, capped)
}

/// A message in spec syntax: `Tick`, `Claim { who: "a", ttl: 1 }`.
pub fn render_message(machine: &Machine, message: &Message) -> String {
    let declaration = match message.trigger {
        Trigger::Input(id) => machine.inputs.get(id.index()),
        Trigger::Signal(id) => machine.signals.get(id.index()),
    };
    let name = declaration.map_or("?", |d| d.name.as_str());
    if message.fields.is_empty() {
        return name.to_string();
    }
    let fields: Vec<String> = message
        .fields
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let field = declaration.and_then(|d| d.fields.get(i)).map_or("?", |f| f.name.as_str());
            format!("{field}: {}", value.render(machine))
        })
        .collect();
    format!("{name} {{ {} }}", fields.join(", "))
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use super::*;

    fn machine(text: &str) -> CheckedMachine {
        match crate::check_source("t.machine", text) {
            Ok(mut package) => package.machines.remove(0),
            Err(e) => panic!("{}", e.render(crate::RenderOptions::default())),
        }
    }

    fn trace(machine: &CheckedMachine, finding: &Finding) -> Vec<String> {
        finding.trace.iter().map(|m| render_message(machine, m)).collect()
    }

    #[test]
    fn a_reachable_ambiguity_is_found_with_a_shortest_trace() {
        // `n >= 2` and `n % 2 == 0` overlap first at n == 2, two increments away; `Step` with a payload makes
        // the shortest route go through the payload domain (0, 1, 2).
        let m = machine(
            "machine Counter {
                phases { initial Idle }
                state { n: u64 = 0 }
                input Step { by: u64 }
                input Poke
                fn big(x: u64) -> bool { x >= 2 }
                fn even(x: u64) -> bool { x % 2 == 0 }
                on Step from Idle -> stay when by == 1 { n += by }
                transition Big on Poke from Idle -> stay when big(n) { }
                transition Even on Poke from Idle -> stay when even(n), n > 0 { }
            }",
        );
        let report = explore(&m, &Bounds::default()).expect("explorable");
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        let finding = &report.findings[0];
        assert!(matches!(finding.rejection, Rejection::AmbiguousTransition { .. }), "{:?}", finding.rejection);
        assert_eq!(
            finding.rejection.describe(&m),
            "transitions `Big` and `Even` both accept input `Poke` in phase `Idle`"
        );
        assert_eq!(trace(&m, finding), ["Step { by: 1 }", "Step { by: 1 }", "Poke"]);
        assert!(report.has_errors());
    }

    #[test]
    fn overflow_is_found_and_invariant_rejections_are_counted() {
        let m = machine(
            "machine Tank {
                phases { initial Open }
                state { level: u64 = 0 }
                input Fill { amount: u64 }
                invariant small = level <= 3
                on Fill from Open -> stay { level = level * amount + amount }
                model { depth = 3 domain Fill.amount = [1, 18446744073709551615] }
            }",
        );
        let report = explore(&m, &Bounds::default()).expect("explorable");
        assert_eq!(report.depth_bound, 3);
        let overflow: Vec<&Finding> =
            report.findings.iter().filter(|f| matches!(f.rejection, Rejection::ArithmeticOverflow { .. })).collect();
        assert_eq!(overflow.len(), 1, "{:?}", report.findings);
        // From level 1, `1 * MAX + MAX` overflows; level 0 gives `0 * MAX + MAX`, which fits but breaks `small`.
        assert_eq!(trace(&m, overflow[0]), ["Fill { amount: 1 }", "Fill { amount: 18446744073709551615 }"]);
        assert_eq!(report.invariant_rejections.len(), 1);
        assert!(report.invariant_rejections[0].count > 0);
    }

    #[test]
    fn coverage_exhaustion_and_the_state_cap() {
        let m = machine(
            "machine Light {
                phases { initial Off, On, terminal Broken }
                state { flips: u64 = 0 }
                input Flip
                input Smash
                transition TurnOn on Flip from Off -> On { flips += 1 }
                transition TurnOff on Flip from On -> Off when flips < 2 { }
                transition Never on Smash from On -> Broken when flips > 100 { }
            }",
        );
        let report = explore(&m, &Bounds::default()).expect("explorable");
        assert!(report.exhausted, "{report:?}");
        assert_eq!(report.states, 4);
        assert_eq!(report.depth_reached, 3);
        assert_eq!(report.never_fired(), vec![TransitionId(2)]);
        assert!(report.findings.is_empty());

        let capped = explore(&m, &Bounds { max_states: 2, ..Bounds::default() }).expect("explorable");
        assert!(capped.state_limit_hit && !capped.exhausted);
        assert_eq!(capped.states, 2);

        let budget = explore(&m, &Bounds { max_applications: 3, ..Bounds::default() }).expect("explorable");
        assert!(budget.budget_exhausted && !budget.exhausted);
        assert_eq!(budget.applications, 3);
    }
}
