//! What an exploration found, as plain data: how far it got, every bound that cut the search (and by how
//! much), the findings with their shortest traces, and the verdict those add up to. Printers (`cargo xtask
//! verify`, later a JSON writer) read it; nothing here formats for a terminal.

use crate::ast::PropertyKind;
use crate::interp::{EvalError, Fault, FaultSite, Message, Rejection};
use crate::ir::{DomainTarget, InvariantId, Machine, PhaseId, PropertyId, TransitionId, Trigger, Type};

/// The outcome of exploring one machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The depth bound used: states reachable with at most this many accepted inputs are explored.
    pub depth_bound: u64,
    /// The depth of the deepest state found.
    pub depth_reached: u64,
    /// Distinct states found, the initial one included.
    pub states: usize,
    /// States in which every message was tried. Equal to [`Report::states`] unless the application budget
    /// stopped the search.
    pub expanded: usize,
    /// Messages applied in total.
    pub applications: u64,
    /// The messages tried in every state, per trigger in trigger order.
    pub messages: Vec<Message>,
    /// The payload types that took the built-in default values (`u64`: 0, 1, 2; `String`: "a", "b") because
    /// the model block declares no domain for them, in type order.
    pub default_domains: Vec<Type>,
    /// Every bound that left something out, in the order of [`Cut`]'s variants. Empty exactly when the search
    /// was exhaustive.
    pub cuts: Vec<Cut>,
    /// How often each transition fired, indexed by [`TransitionId`].
    pub fired: Vec<u64>,
    /// The problems found, one per kind and place, each with a shortest trace, in the order found.
    pub findings: Vec<Finding>,
    /// Inputs rejected by each invariant that was false, for the invariants that rejected any, in declaration
    /// order. Those are not problems: rejecting an input that would break an invariant is how a machine
    /// enforces it. (An invariant that fails to evaluate is a [`Problem::Fault`] instead.)
    pub invariant_rejections: Vec<InvariantRejections>,
    /// What became of each property (`property` and `reachable`), in declaration order.
    pub properties: Vec<PropertyResult>,
}

impl Report {
    /// What the exploration adds up to: failed on a finding, a violated `property`, or a `reachable` goal that
    /// an exhaustive search never reached.
    pub fn verdict(&self) -> Verdict {
        if self.has_errors() {
            Verdict::Failed
        } else if self.cuts.is_empty() {
            Verdict::Exhaustive
        } else {
            Verdict::Bounded
        }
    }

    /// Whether nothing was cut: every state reachable with the model's payload values was found, and every
    /// message was tried in each.
    pub fn is_exhaustive(&self) -> bool {
        self.cuts.is_empty()
    }

    /// The transitions that never fired, in declaration order.
    pub fn never_fired(&self) -> Vec<TransitionId> {
        self.fired.iter().enumerate().filter(|(_, n)| **n == 0).map(|(i, _)| TransitionId(i as u32)).collect()
    }

    /// Whether the exploration found a problem: a finding, a violated `property`, or a `reachable` goal that an
    /// exhaustive search never reached.
    pub fn has_errors(&self) -> bool {
        !self.findings.is_empty() || self.properties.iter().any(|p| p.is_error(self.is_exhaustive()))
    }

    /// The transitions that never fired and that the model block's `unfired` does not expect: the coverage
    /// gaps, in declaration order.
    pub fn unexpected_gaps(&self, machine: &Machine) -> Vec<TransitionId> {
        self.never_fired().into_iter().filter(|t| !machine.model.unfired.iter().any(|(u, _)| u == t)).collect()
    }

    /// The transitions that the model block's `unfired` expects never to fire and that fired, in the order
    /// listed.
    pub fn fired_though_unfired(&self, machine: &Machine) -> Vec<TransitionId> {
        machine
            .model
            .unfired
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| self.fired.get(t.index()).is_some_and(|n| *n > 0))
            .collect()
    }
}

/// What an exploration adds up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Nothing was cut and nothing was found: every state reachable with the model's payload values was
    /// explored.
    Exhaustive,
    /// Nothing was found in what was explored, but a bound cut the search ([`Report::cuts`]).
    Bounded,
    /// At least one problem was found ([`Report::findings`]); the search may also have been cut.
    Failed,
}

/// A bound that left part of the search out, with how much it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cut {
    /// States one input beyond the depth bound were not explored.
    Depth {
        /// The depth bound.
        bound: u64,
        /// Distinct new states that the states at the bound lead to.
        beyond: usize,
    },
    /// The state limit stopped new states from being added.
    States {
        /// The limit.
        limit: usize,
        /// Distinct new states found and not added.
        dropped: usize,
    },
    /// The application budget ran out before every state found had every message tried.
    Applications {
        /// The budget.
        limit: u64,
        /// States found in which not every message was tried.
        unexpanded: usize,
    },
    /// A type had more values than the limit per type, and only the first ones were tried. Declared domains
    /// are never cut (one over the limit is an [`super::ExploreError::DomainTooLarge`]); this is for the values
    /// built from them: records, maps, options and collections.
    Values {
        /// The type.
        ty: Type,
        /// The limit.
        limit: usize,
        /// How many values the type had (saturating at `u64::MAX`).
        total: u64,
    },
    /// A trigger had more payload combinations than the limit per trigger, and only some were tried.
    Payloads {
        /// The input or signal.
        trigger: Trigger,
        /// The limit.
        limit: usize,
        /// How many combinations its payload fields' values make (saturating at `u64::MAX`).
        total: u64,
    },
}

/// What became of one property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyResult {
    /// The property.
    pub property: PropertyId,
    /// `property` (must always hold) or `reachable` (must hold somewhere).
    pub kind: PropertyKind,
    /// What the search found.
    pub outcome: PropertyOutcome,
}

impl PropertyResult {
    /// Whether the outcome is a problem: a violation, or a goal not reached by a search that was exhaustive.
    pub fn is_error(&self, exhaustive: bool) -> bool {
        match self.outcome {
            PropertyOutcome::Violated { .. } => true,
            PropertyOutcome::Unreached => exhaustive,
            PropertyOutcome::Holds | PropertyOutcome::Reached { .. } => false,
        }
    }

    /// The shortest trace the outcome comes with: a counterexample or a witness.
    pub fn trace(&self) -> Option<&[Message]> {
        match &self.outcome {
            PropertyOutcome::Violated { trace, .. } | PropertyOutcome::Reached { trace } => Some(trace),
            PropertyOutcome::Holds | PropertyOutcome::Unreached => None,
        }
    }
}

/// What the search found for one property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyOutcome {
    /// A `property` held in every state found.
    Holds,
    /// A `property` was false (or failed to evaluate) in a state found.
    Violated {
        /// The messages from the initial state to a state that breaks it, every one accepted; no shorter
        /// sequence over the same messages reaches one. Empty when the initial state breaks it.
        trace: Vec<Message>,
        /// Why it could not be evaluated, when it failed to evaluate rather than being false.
        error: Option<EvalError>,
    },
    /// A `reachable` goal held in a state found.
    Reached {
        /// The messages from the initial state to the first state found where it holds, every one accepted; no
        /// shorter sequence over the same messages reaches one.
        trace: Vec<Message>,
    },
    /// A `reachable` goal held in no state found: unreachable, if the search was exhaustive.
    Unreached,
}

/// How many inputs one invariant rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantRejections {
    /// The invariant.
    pub invariant: InvariantId,
    /// How many (state, message) pairs it rejected.
    pub count: u64,
}

/// A problem the explorer reached, with a shortest input sequence from the initial state that shows it:
/// breadth-first order means no shorter sequence (over the same messages) does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What went wrong.
    pub problem: Problem,
    /// The messages applied from the initial state; every one but the last was accepted, and the last shows
    /// the problem.
    pub trace: Vec<Message>,
}

/// What a [`Finding`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The guards of two candidates both hold: the machine cannot decide.
    Ambiguity {
        /// The current phase.
        phase: PhaseId,
        /// The input or signal.
        trigger: Trigger,
        /// The first candidate whose guards hold, in declaration order.
        first: TransitionId,
        /// The second one.
        second: TransitionId,
    },
    /// A guard, a computed target, a body or an invariant failed to evaluate (an overflow or a division by
    /// zero): the input is rejected, but the spec does not say what it means.
    Fault(Fault),
    /// The interpreter refused a message the explorer built: a bug in the explorer or the interpreter, never
    /// the spec's fault.
    Internal(Rejection),
}

impl Problem {
    /// A short name for the kind of problem: `ambiguous transition`, `arithmetic error`, `internal error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Ambiguity { .. } => "ambiguous transition",
            Problem::Fault(fault) if fault.error == EvalError::Malformed => "internal error",
            Problem::Fault(_) => "arithmetic error",
            Problem::Internal(_) => "internal error",
        }
    }

    /// The problem as a sentence that names everything by its declared name.
    pub fn describe(&self, machine: &Machine) -> String {
        match self {
            Problem::Ambiguity { phase, trigger, first, second } => {
                Rejection::AmbiguousTransition { phase: *phase, trigger: *trigger, first: *first, second: *second }
                    .describe(machine)
            }
            Problem::Fault(fault) => fault.describe(machine),
            Problem::Internal(rejection) => rejection.describe(machine),
        }
    }
}

/// What makes two findings the same problem: the pair of transitions of an ambiguity; the place and kind of an
/// evaluation error (an invariant counts once, whichever transition led to the state); the rejection of an
/// internal error.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum FindingKey {
    Ambiguity(TransitionId, TransitionId),
    Fault(FaultSite, EvalError),
    Internal(Rejection),
}

impl FindingKey {
    pub(super) fn of(problem: &Problem) -> Self {
        match problem {
            Problem::Ambiguity { first, second, .. } => FindingKey::Ambiguity(*first, *second),
            Problem::Fault(Fault { site: FaultSite::Invariant { invariant, .. }, error }) => FindingKey::Fault(
                FaultSite::Invariant { transition: TransitionId(u32::MAX), invariant: *invariant },
                *error,
            ),
            Problem::Fault(fault) => FindingKey::Fault(fault.site, fault.error),
            Problem::Internal(rejection) => FindingKey::Internal(rejection.clone()),
        }
    }
}

/// How to name a declared domain in a message: `` `domain u64` ``, `` `domain Set.v` ``.
pub fn domain_name(machine: &Machine, target: &DomainTarget) -> String {
    match target {
        DomainTarget::Type(ty) => format!("`domain {}`", machine.type_name(ty)),
        DomainTarget::Field(trigger, index) => {
            let field = declaration(machine, *trigger)
                .and_then(|d| d.fields.get(*index as usize))
                .map_or("?", |f| f.name.as_str());
            format!("`domain {}.{field}`", trigger_label(machine, *trigger))
        }
    }
}

/// A trigger's declared name (`?` for one the machine does not declare).
pub fn trigger_label(machine: &Machine, trigger: Trigger) -> &str {
    declaration(machine, trigger).map_or("?", |d| d.name.as_str())
}

/// A trigger's declaration, read with `get` (a trigger from another machine is `None`, not a panic).
pub(super) fn declaration(machine: &Machine, trigger: Trigger) -> Option<&crate::ir::Message> {
    match trigger {
        Trigger::Input(id) => machine.inputs.get(id.index()),
        Trigger::Signal(id) => machine.signals.get(id.index()),
    }
}
