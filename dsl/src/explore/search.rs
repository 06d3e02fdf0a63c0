//! The breadth-first search: level by level from the initial state, every message tried in every state found,
//! new states added until a bound stops them, and every bound that stopped something counted.
//!
//! A state at depth `d` is reached by `d` accepted messages. States up to the depth bound are added and every
//! one of them has every message tried in it, so a finding's trace holds at most `bound + 1` messages (the last
//! one shows the problem). A new state past the bound, or past the state limit, is counted (distinct) and not
//! added; the application budget stops the search where it stands.
//!
//! Properties are evaluated once in every distinct state found (those past a bound too: they are reachable),
//! until each is decided: a `property` by its first violation, a `reachable` goal by its first witness. A trace
//! is rebuilt from the parent links only then, so the per-state cost is one evaluation per undecided property,
//! and breadth-first order makes every trace a shortest one.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::ast::PropertyKind;
use crate::interp::{Interpreter, Message, Refusal, Rejection, State};
use crate::ir::{InvariantId, PropertyId};

use super::report::{Finding, FindingKey, InvariantRejections, Problem, PropertyOutcome, PropertyResult};

/// The limits the search obeys.
pub(super) struct Limits {
    pub(super) depth: u64,
    pub(super) max_states: usize,
    pub(super) max_applications: u64,
}

/// What the search saw.
pub(super) struct Searched {
    pub(super) states: usize,
    pub(super) expanded: usize,
    pub(super) applications: u64,
    pub(super) depth_reached: u64,
    /// Distinct new states one step past the depth bound.
    pub(super) beyond_depth: usize,
    /// Distinct new states the state limit kept out.
    pub(super) dropped: usize,
    /// Whether the application budget stopped the search before every state found was expanded.
    pub(super) budget_hit: bool,
    pub(super) fired: Vec<u64>,
    pub(super) findings: Vec<Finding>,
    pub(super) invariant_rejections: Vec<InvariantRejections>,
    pub(super) properties: Vec<PropertyResult>,
}

/// A node of the search tree: the state it reached is the key of the state index.
#[derive(Clone, Copy)]
struct Node {
    /// The node this one was reached from; [`ROOT`] for the initial state.
    parent: u32,
    /// The index in the alphabet of the message that led here.
    message: u32,
}

const ROOT: u32 = u32::MAX;

/// Searches breadth-first from `initial`, trying `messages` in every state.
pub(super) fn search(
    interp: &Interpreter<'_>,
    initial: State,
    messages: &[Message],
    limits: &Limits,
    progress: &mut dyn FnMut(super::Progress),
) -> Searched {
    let machine = interp.machine();
    let max_states = limits.max_states.clamp(1, ROOT as usize - 1);
    let mut index: HashMap<State, u32> = HashMap::new();
    let mut nodes: Vec<Node> = vec![Node { parent: ROOT, message: 0 }];
    let mut watch = PropertyWatch::new(interp);
    watch.observe(interp, &initial, Vec::new);
    index.insert(initial.clone(), 0);
    let mut frontier: Vec<(u32, State)> = vec![(0, initial)];
    let mut beyond: HashSet<State> = HashSet::new();
    let mut dropped: HashSet<State> = HashSet::new();
    let mut fired = vec![0u64; machine.transitions.len()];
    let mut findings: Vec<Finding> = Vec::new();
    let mut seen_findings: HashSet<FindingKey> = HashSet::new();
    let mut invariant_counts: BTreeMap<InvariantId, u64> = BTreeMap::new();
    let mut applications = 0u64;
    let mut expanded = 0usize;
    let mut depth_reached = 0u64;
    let mut budget_hit = false;

    let mut level = 0u64;
    'search: while !frontier.is_empty() {
        let at_bound = level >= limits.depth;
        let mut next: Vec<(u32, State)> = Vec::new();
        progress(super::Progress { states: index.len(), depth: level });
        for (node, state) in &frontier {
            if expanded % super::PROGRESS_EVERY == 0 && expanded > 0 {
                progress(super::Progress { states: index.len(), depth: level });
            }
            // Rejected messages leave the state unchanged, so one scratch copy serves until a message is accepted.
            let mut scratch = state.clone();
            for (message_index, message) in messages.iter().enumerate() {
                if applications >= limits.max_applications {
                    budget_hit = true;
                    break 'search;
                }
                applications += 1;
                let problem = match interp.apply_explained(&mut scratch, message) {
                    Ok(fired_transition) => {
                        if let Some(count) = fired.get_mut(fired_transition.transition.index()) {
                            *count += 1;
                        }
                        if !index.contains_key(&scratch) {
                            let trace = || {
                                let mut trace = trace_to(&nodes, *node, messages);
                                trace.push(message.clone());
                                trace
                            };
                            if at_bound {
                                if beyond.insert(scratch.clone()) {
                                    watch.observe(interp, &scratch, trace);
                                }
                            } else if index.len() >= max_states {
                                if dropped.insert(scratch.clone()) {
                                    watch.observe(interp, &scratch, trace);
                                }
                            } else {
                                watch.observe(interp, &scratch, trace);
                                let id = nodes.len() as u32;
                                nodes.push(Node { parent: *node, message: message_index as u32 });
                                index.insert(scratch.clone(), id);
                                next.push((id, scratch.clone()));
                                depth_reached = level + 1;
                            }
                        }
                        scratch.clone_from(state);
                        None
                    }
                    Err(refusal) => classify(refusal, &mut invariant_counts),
                };
                if let Some(problem) = problem {
                    if seen_findings.insert(FindingKey::of(&problem)) {
                        let mut trace = trace_to(&nodes, *node, messages);
                        trace.push(message.clone());
                        findings.push(Finding { problem, trace });
                    }
                }
            }
            expanded += 1;
        }
        frontier = next;
        level += 1;
    }

    Searched {
        states: index.len(),
        expanded,
        applications,
        depth_reached,
        beyond_depth: beyond.len(),
        dropped: dropped.len(),
        budget_hit,
        fired,
        findings,
        invariant_rejections: invariant_counts
            .into_iter()
            .map(|(invariant, count)| InvariantRejections { invariant, count })
            .collect(),
        properties: watch.finish(interp),
    }
}

/// The properties not decided yet, and the outcomes of those that are.
struct PropertyWatch {
    /// Per property: its outcome once decided.
    outcomes: Vec<Option<PropertyOutcome>>,
    undecided: usize,
}

impl PropertyWatch {
    fn new(interp: &Interpreter<'_>) -> Self {
        let count = interp.machine().properties.len();
        PropertyWatch { outcomes: vec![None; count], undecided: count }
    }

    /// Evaluates the undecided properties in a state just found; `trace` rebuilds the messages that lead to it,
    /// and is called at most once, only when the state decides a property.
    fn observe(&mut self, interp: &Interpreter<'_>, state: &State, trace: impl FnOnce() -> Vec<Message>) {
        if self.undecided == 0 {
            return;
        }
        let machine = interp.machine();
        let mut trace = Some(trace);
        let mut built: Option<Vec<Message>> = None;
        for (index, slot) in self.outcomes.iter_mut().enumerate() {
            if slot.is_some() {
                continue;
            }
            let Some(property) = machine.properties.get(index) else { continue };
            let value = interp.eval_property(state, PropertyId(index as u32));
            let decided = match (property.kind, value) {
                (PropertyKind::Always, Ok(true)) | (PropertyKind::Reachable, Ok(false) | Err(_)) => None,
                (PropertyKind::Always, Ok(false)) => Some(None),
                (PropertyKind::Always, Err(error)) => Some(Some(error)),
                (PropertyKind::Reachable, Ok(true)) => Some(None),
            };
            let Some(error) = decided else { continue };
            if built.is_none() {
                built = trace.take().map(|f| f());
            }
            let trace = built.clone().unwrap_or_default();
            *slot = Some(match property.kind {
                PropertyKind::Always => PropertyOutcome::Violated { trace, error },
                PropertyKind::Reachable => PropertyOutcome::Reached { trace },
            });
            self.undecided -= 1;
        }
    }

    /// The outcomes, the undecided properties taking theirs: a `property` held, a goal was not reached.
    fn finish(self, interp: &Interpreter<'_>) -> Vec<PropertyResult> {
        let machine = interp.machine();
        machine
            .properties
            .iter()
            .zip(self.outcomes)
            .enumerate()
            .map(|(index, (property, outcome))| PropertyResult {
                property: PropertyId(index as u32),
                kind: property.kind,
                outcome: outcome.unwrap_or(match property.kind {
                    PropertyKind::Always => PropertyOutcome::Holds,
                    PropertyKind::Reachable => PropertyOutcome::Unreached,
                }),
            })
            .collect()
    }
}

/// The problem a refusal shows, if any; an invariant that is false is counted instead.
fn classify(refusal: Refusal, invariant_counts: &mut BTreeMap<InvariantId, u64>) -> Option<Problem> {
    match (refusal.rejection, refusal.fault) {
        (_, Some(fault)) => Some(Problem::Fault(fault)),
        (Rejection::InvariantViolated { invariant, .. }, None) => {
            *invariant_counts.entry(invariant).or_default() += 1;
            None
        }
        (Rejection::NoMatchingTransition { .. } | Rejection::GuardRejected { .. }, None) => None,
        (Rejection::AmbiguousTransition { phase, trigger, first, second }, None) => {
            Some(Problem::Ambiguity { phase, trigger, first, second })
        }
        (rejection, None) => Some(Problem::Internal(rejection)),
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
