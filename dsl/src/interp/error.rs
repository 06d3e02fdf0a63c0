//! Why the interpreter refuses something: an input it rejects ([`Rejection`]), with the evaluation error behind
//! it when there is one ([`Refusal`], [`Fault`]), a recovered state it refuses ([`RecoveryRejection`]), an
//! initial state it cannot build ([`InitialStateError`]).
//!
//! `Display` names phases, triggers, transitions and invariants by id, because an error value does not carry
//! its machine; `describe(&machine)` names them by their declared names for people.

use crate::ir::{self, FieldId, InvariantId, PhaseId, TransitionId, Trigger};

use super::eval::EvalError;

/// Why [`super::Interpreter::apply`] refused an input. The state is unchanged and nothing was emitted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rejection {
    /// No transition on this trigger leaves this phase.
    #[error("no transition for {} in phase #{}", TriggerId(*trigger), phase.0)]
    NoMatchingTransition {
        /// The current phase.
        phase: PhaseId,
        /// The input or signal.
        trigger: Trigger,
    },
    /// Every candidate has a guard that does not hold, and there is no `otherwise` candidate.
    #[error("a guard of every candidate rejected {} in phase #{}", TriggerId(*trigger), phase.0)]
    GuardRejected {
        /// The current phase.
        phase: PhaseId,
        /// The input or signal.
        trigger: Trigger,
        /// Every candidate, in declaration order, with the label of its first guard that does not hold.
        rejections: Vec<(TransitionId, String)>,
    },
    /// Two candidates' guards both hold.
    #[error(
        "transitions #{} and #{} both accept {} in phase #{}",
        first.0, second.0, TriggerId(*trigger), phase.0
    )]
    AmbiguousTransition {
        /// The current phase.
        phase: PhaseId,
        /// The input or signal.
        trigger: Trigger,
        /// The first candidate whose guards hold, in declaration order.
        first: TransitionId,
        /// The second one.
        second: TransitionId,
    },
    /// Evaluating a guard or the body overflowed a `u64` or divided by zero.
    #[error("arithmetic overflow or division by zero in transition #{}", transition.0)]
    ArithmeticOverflow {
        /// The candidate whose guard, or the transition whose body, failed to evaluate.
        transition: TransitionId,
    },
    /// The state after the transition breaks an invariant (or evaluating the invariant failed).
    #[error("transition #{} would break invariant #{}", transition.0, invariant.0)]
    InvariantViolated {
        /// The transition that fired.
        transition: TransitionId,
        /// The first invariant, in declaration order, that does not hold.
        invariant: InvariantId,
    },
    /// The message is not one of this machine's: unknown trigger, or a payload that does not match its
    /// declaration (count or types). Generated kernels are typed and cannot receive such a message.
    #[error("invalid message for {}: {reason}", TriggerId(*trigger))]
    InvalidMessage {
        /// The trigger the message named.
        trigger: Trigger,
        /// What is wrong with it.
        reason: String,
    },
    /// A value in the state did not have the type the machine declares: the state was not built for this
    /// machine. States from [`super::Interpreter::initial_state`] and `apply` never cause it.
    #[error("transition #{} met a value of the wrong type: the state does not belong to this machine", transition.0)]
    Malformed {
        /// The candidate or transition being evaluated.
        transition: TransitionId,
    },
}

impl Rejection {
    /// The rejection for an evaluation error in `transition` (a guard or the body).
    pub(crate) fn from_eval(transition: TransitionId, error: EvalError) -> Self {
        match error {
            EvalError::Overflow | EvalError::DivisionByZero => Rejection::ArithmeticOverflow { transition },
            // The interpreter's own limit on call depth: no kernel rejection corresponds to it.
            EvalError::Malformed | EvalError::CallsTooDeep => Rejection::Malformed { transition },
        }
    }

    /// The rejection as a sentence that names everything by its declared name.
    ///
    /// ```
    /// use meerkat_dsl::interp::{Interpreter, Message, Rejection};
    /// let package = meerkat_dsl::check_source(
    ///     "door.machine",
    ///     "machine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
    /// )
    /// .expect("the spec checks");
    /// let door = &package.machines[0];
    /// let interp = Interpreter::new(door);
    /// let mut state = interp.initial_state().expect("constant initial values");
    /// let push = Message { trigger: door.triggers().next().expect("one input"), fields: vec![] };
    /// interp.apply(&mut state, &push).expect("Closed -> Open");
    /// let rejection = interp.apply(&mut state, &push).unwrap_err();
    /// assert_eq!(rejection.describe(door), "no transition for input `Push` in phase `Open`");
    /// ```
    pub fn describe(&self, machine: &ir::Machine) -> String {
        let phase_name = |p: &PhaseId| quoted(machine.phases.get(p.index()).map(|p| p.name.as_str()));
        let transition = |t: &TransitionId| quoted(machine.transitions.get(t.index()).map(|t| t.name.as_str()));
        match self {
            Rejection::NoMatchingTransition { phase, trigger } => {
                format!("no transition for {} in phase {}", trigger_name(machine, *trigger), phase_name(phase))
            }
            Rejection::GuardRejected { phase, trigger, rejections } => {
                let list: Vec<String> = rejections
                    .iter()
                    .map(|(t, label)| format!("{} (`{label}` does not hold)", transition(t)))
                    .collect();
                format!(
                    "every candidate for {} in phase {} was rejected by a guard: {}",
                    trigger_name(machine, *trigger),
                    phase_name(phase),
                    list.join(", ")
                )
            }
            Rejection::AmbiguousTransition { phase, trigger, first, second } => format!(
                "transitions {} and {} both accept {} in phase {}",
                transition(first),
                transition(second),
                trigger_name(machine, *trigger),
                phase_name(phase)
            ),
            Rejection::ArithmeticOverflow { transition: t } => {
                format!("arithmetic overflow or division by zero in transition {}", transition(t))
            }
            Rejection::InvariantViolated { transition: t, invariant } => format!(
                "transition {} would break invariant {}",
                transition(t),
                quoted(machine.invariants.get(invariant.index()).map(|i| i.name.as_str()))
            ),
            Rejection::InvalidMessage { trigger, reason } => {
                format!("invalid message for {}: {reason}", trigger_name(machine, *trigger))
            }
            Rejection::Malformed { transition: t } => format!(
                "transition {} met a value of the wrong type: the state does not belong to this machine",
                transition(t)
            ),
        }
    }
}

/// A rejection together with the evaluation error that caused it, if one did: what
/// [`super::Interpreter::apply_explained`] returns. The rejection is the one [`super::Interpreter::apply`]
/// returns (and a generated kernel agrees with); the fault tells the model checker which expression failed,
/// which the rejection alone does not (an invariant that divides by zero and one that is false are both
/// [`Rejection::InvariantViolated`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Refusal {
    /// The rejection.
    pub rejection: Rejection,
    /// The expression that failed to evaluate, for rejections caused by one.
    pub fault: Option<Fault>,
}

impl From<Rejection> for Refusal {
    fn from(rejection: Rejection) -> Self {
        Refusal { rejection, fault: None }
    }
}

/// An expression that could not be evaluated while a message was applied: where, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fault {
    /// The expression's place in the machine.
    pub site: FaultSite,
    /// What went wrong.
    pub error: EvalError,
}

/// Where a [`Fault`] happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultSite {
    /// A guard of a candidate, evaluated against the state before the transition.
    Guard {
        /// The candidate.
        transition: TransitionId,
        /// The guard's index in the transition's `when` list.
        guard: u32,
    },
    /// The computed target of the transition that fired.
    Target {
        /// The transition.
        transition: TransitionId,
    },
    /// A statement of the body of the transition that fired.
    Body {
        /// The transition.
        transition: TransitionId,
    },
    /// An invariant, evaluated against the state after the transition.
    Invariant {
        /// The transition that fired.
        transition: TransitionId,
        /// The invariant.
        invariant: InvariantId,
    },
}

impl Fault {
    /// The fault as a sentence that names everything by its declared name: `` division by zero in invariant
    /// `ratio` (after transition `Set`) ``.
    pub fn describe(&self, machine: &ir::Machine) -> String {
        let transition = |t: &TransitionId| quoted(machine.transitions.get(t.index()).map(|t| t.name.as_str()));
        let site = match &self.site {
            FaultSite::Guard { transition: t, guard } => {
                let label = machine
                    .transitions
                    .get(t.index())
                    .and_then(|t| t.guards.get(*guard as usize))
                    .map(|g| g.label.as_str());
                format!("guard {} of transition {}", quoted(label), transition(t))
            }
            FaultSite::Target { transition: t } => format!("the computed target of transition {}", transition(t)),
            FaultSite::Body { transition: t } => format!("the body of transition {}", transition(t)),
            FaultSite::Invariant { transition: t, invariant } => format!(
                "invariant {} (after transition {})",
                quoted(machine.invariants.get(invariant.index()).map(|i| i.name.as_str())),
                transition(t)
            ),
        };
        format!("{} in {site}", self.error)
    }
}

/// Why [`super::Interpreter::check_recovered`] refused a stored state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum RecoveryRejection {
    /// The state does not fit the machine: an unknown phase, the wrong number of fields, or a field of the
    /// wrong type.
    #[error("the state does not fit the machine: {reason}")]
    Malformed {
        /// What does not fit.
        reason: String,
    },
    /// The state breaks an invariant (or evaluating the invariant failed).
    #[error("the state breaks invariant #{}", invariant.0)]
    InvariantRejected {
        /// The first invariant, in declaration order, that does not hold.
        invariant: InvariantId,
    },
}

impl RecoveryRejection {
    /// The rejection as a sentence that names the invariant by its declared name.
    pub fn describe(&self, machine: &ir::Machine) -> String {
        match self {
            RecoveryRejection::Malformed { reason } => format!("the state does not fit the machine: {reason}"),
            RecoveryRejection::InvariantRejected { invariant } => format!(
                "the state breaks invariant {}",
                quoted(machine.invariants.get(invariant.index()).map(|i| i.name.as_str()))
            ),
        }
    }
}

/// Why [`super::Interpreter::initial_state`] could not build the initial state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("the initial value of state field #{} cannot be evaluated: {error}", field.0)]
pub struct InitialStateError {
    /// The field whose initial value failed.
    pub field: FieldId,
    /// Why.
    pub error: EvalError,
}

/// `input #0` / `signal #1`.
struct TriggerId(Trigger);

impl std::fmt::Display for TriggerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Trigger::Input(id) => write!(f, "input #{}", id.0),
            Trigger::Signal(id) => write!(f, "signal #{}", id.0),
        }
    }
}

/// `` input `Tick` `` / `` signal `PowerCut` ``.
pub(crate) fn trigger_name(machine: &ir::Machine, trigger: Trigger) -> String {
    let (kind, message) = match trigger {
        Trigger::Input(id) => ("input", machine.inputs.get(id.index())),
        Trigger::Signal(id) => ("signal", machine.signals.get(id.index())),
    };
    format!("{kind} {}", quoted(message.map(|m| m.name.as_str())))
}

/// `` `name` ``, or `?` for an id the machine does not declare.
fn quoted(name: Option<&str>) -> String {
    name.map_or_else(|| "?".to_string(), |n| format!("`{n}`"))
}
