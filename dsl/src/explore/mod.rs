//! Bounded explicit-state model checking over the reference interpreter: breadth-first from the initial state,
//! every message (each input and signal with payloads drawn from finite domains, see [`domains`]) tried in
//! every state found.
//!
//! What it reports, per machine ([`Report`]):
//! - the distinct states found and how deep they lie, how often each transition fired (so transitions that
//!   never fired stand out), and how many inputs each invariant rejected (not problems: rejecting an input
//!   that would break an invariant is how a machine enforces it);
//! - every problem reached ([`Problem`]): an ambiguity (two candidates' guards hold) and an evaluation error
//!   (an overflow or a division by zero in a guard, a computed target, a body or an invariant), each with a
//!   shortest trace; breadth-first order means no shorter input sequence over the same messages shows it;
//! - what became of each property: a `property` holds in every state found or is violated, with a shortest
//!   counterexample; a `reachable` goal is reached, with a shortest witness, or not (an error only when the
//!   search was exhaustive);
//! - every bound that cut the search, with how much it cut ([`Cut`]), and the [`Verdict`]: exhaustive (nothing
//!   cut, nothing found), bounded (something cut, nothing found) or failed (something found).
//!
//! Cost is bounded by [`Bounds`]: the depth (the model block's `depth`, else [`DEFAULT_DEPTH`]: states reached
//! by at most that many accepted inputs are explored), a cap on distinct states, a budget of message
//! applications, a cap on payload combinations per trigger and on values per type. Every bound is a count,
//! never a time, so a run is reproducible, and every bound that leaves anything out says so in the report: the
//! explorer never claims more than it checked. Declared domains are used whole; one larger than the limit per
//! type is an error ([`ExploreError::DomainTooLarge`]), not a truncation. States are deduplicated, so the work
//! grows with the number of distinct states times the number of messages, not with the number of sequences.
//!
//! The explorer only reads the interpreter: it does no IO and never panics on a checked machine.

pub mod conformance;
pub mod domains;
pub mod generate;
pub mod replay;
mod report;
mod search;

pub use report::{
    Cut, Finding, InvariantRejections, Problem, PropertyOutcome, PropertyResult, Report, Verdict, domain_name,
    trigger_label,
};

use crate::check::CheckedMachine;
use crate::interp::{InitialStateError, Interpreter, Message};
use crate::ir::{DomainTarget, Machine, Trigger};

/// How many states [`explore_with`] explores between two progress reports.
pub const PROGRESS_EVERY: usize = 4096;

/// The depth used when the model block sets none.
pub const DEFAULT_DEPTH: u64 = 8;

/// Limits on one exploration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// States reached by at most this many accepted inputs are explored (every message is tried in each);
    /// `None` uses the model block's `depth`, else [`DEFAULT_DEPTH`].
    pub depth: Option<u64>,
    /// Stop adding new states after this many (the states already found are still explored).
    pub max_states: usize,
    /// Stop the search after applying this many messages in total: the budget that keeps a run short.
    pub max_applications: u64,
    /// At most this many payload combinations per trigger.
    pub max_messages: usize,
    /// At most this many values per type and per declared domain (a declared domain with more is an error).
    pub max_values: usize,
}

impl Default for Bounds {
    /// Bounds that keep a run over a realistic machine to a few seconds, even in a debug build (where the
    /// interpreter applies some tens of thousands of messages a second). The value limits match the largest
    /// range a model block may declare (64 values), so a declared domain is always used whole by default.
    fn default() -> Self {
        Bounds { depth: None, max_states: 50_000, max_applications: 250_000, max_messages: 64, max_values: 64 }
    }
}

/// Why a machine could not be explored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExploreError {
    /// The initial state could not be built.
    #[error(transparent)]
    InitialState(#[from] InitialStateError),
    /// A declared domain has more values than [`Bounds::max_values`] allows. The explorer uses declared
    /// domains whole, so it refuses rather than try only some of the values.
    #[error("a model domain has {values} values, more than the limit of {limit} values per domain")]
    DomainTooLarge {
        /// The domain.
        target: DomainTarget,
        /// How many distinct values it has.
        values: usize,
        /// The limit.
        limit: usize,
    },
}

impl ExploreError {
    /// The error as a sentence that names the domain as the model block does.
    pub fn describe(&self, machine: &Machine) -> String {
        match self {
            ExploreError::InitialState(error) => error.to_string(),
            ExploreError::DomainTooLarge { target, values, limit } => format!(
                "{} has {values} values, more than the limit of {limit} values per domain",
                domain_name(machine, target)
            ),
        }
    }
}

/// Explores a machine breadth-first within `bounds`.
///
/// ```
/// use meerkat_dsl::explore::{Bounds, Verdict, explore};
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "machine Door { phases { initial Closed, Open } input Push input Pull \
///      on Push from Closed -> Open on Pull from Open -> Closed }",
/// )
/// .expect("the spec checks");
/// let report = explore(&package.machines[0], &Bounds::default()).expect("explorable");
/// assert_eq!(report.states, 2);
/// assert_eq!(report.verdict(), Verdict::Exhaustive);
/// assert!(report.cuts.is_empty() && report.findings.is_empty() && report.never_fired().is_empty());
/// ```
pub fn explore(machine: &CheckedMachine, bounds: &Bounds) -> Result<Report, ExploreError> {
    explore_with(machine, bounds, &mut |_| {})
}

/// How far a search has got, as [`explore_with`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Distinct states found so far.
    pub states: usize,
    /// The depth of the level being explored.
    pub depth: u64,
}

/// [`explore`], telling `progress` how far it has got at the start of every level and every
/// [`PROGRESS_EVERY`] states explored (for a progress line; the report does not depend on it).
pub fn explore_with(
    machine: &CheckedMachine,
    bounds: &Bounds,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, ExploreError> {
    let ir = machine.ir();
    let interp = Interpreter::new(ir);
    let initial = interp.initial_state()?;
    let depth_bound = bounds.depth.or(ir.model.depth).unwrap_or(DEFAULT_DEPTH);
    let mut values = domains::Domains::new(&interp, bounds.max_values)?;
    let (messages, payload_cuts) = alphabet(ir, &mut values, bounds.max_messages);
    let limits =
        search::Limits { depth: depth_bound, max_states: bounds.max_states, max_applications: bounds.max_applications };
    let searched = search::search(&interp, initial, &messages, &limits, progress);

    let mut cuts = Vec::new();
    if searched.beyond_depth > 0 {
        cuts.push(Cut::Depth { bound: depth_bound, beyond: searched.beyond_depth });
    }
    if searched.dropped > 0 {
        cuts.push(Cut::States { limit: bounds.max_states, dropped: searched.dropped });
    }
    if searched.budget_hit {
        cuts.push(Cut::Applications {
            limit: bounds.max_applications,
            unexpanded: searched.states.saturating_sub(searched.expanded),
        });
    }
    let max_values = bounds.max_values.max(1);
    cuts.extend(values.cut.iter().map(|(ty, total)| Cut::Values { ty: ty.clone(), limit: max_values, total: *total }));
    cuts.extend(payload_cuts);

    Ok(Report {
        depth_bound,
        depth_reached: searched.depth_reached,
        states: searched.states,
        expanded: searched.expanded,
        applications: searched.applications,
        messages,
        default_domains: values.defaults.iter().cloned().collect(),
        cuts,
        fired: searched.fired,
        findings: searched.findings,
        invariant_rejections: searched.invariant_rejections,
        properties: searched.properties,
    })
}

/// Every message tried in each state: per trigger (inputs, then signals), the capped product of its payload
/// fields' values. Also returns a [`Cut::Payloads`] per trigger whose product was capped.
fn alphabet(machine: &Machine, values: &mut domains::Domains<'_>, max_messages: usize) -> (Vec<Message>, Vec<Cut>) {
    let mut messages = Vec::new();
    let mut cuts = Vec::new();
    for trigger in machine.triggers() {
        let Some(declaration) = report::declaration(machine, trigger) else { continue };
        let lists: Vec<Vec<crate::interp::Value>> = declaration
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| values.field(trigger, i as u32, &field.ty))
            .collect();
        let total = domains::product(&lists);
        if total > max_messages as u64 {
            cuts.push(Cut::Payloads { trigger, limit: max_messages, total });
        }
        for fields in domains::combinations(&lists, max_messages) {
            messages.push(Message { trigger, fields });
        }
    }
    (messages, cuts)
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
mod tests;
