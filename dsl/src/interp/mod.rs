//! The reference interpreter: runs a checked machine's IR directly. It is the oracle generated kernels are
//! differentially tested against, and the engine of the model checker, so it implements the execution semantics
//! stated in the [`crate::ir`] module doc exactly, and favours clarity, then speed.
//!
//! Its files mirror the generated kernel's (`codegen/src/rust/`): `eval` ↔ `expr` (expressions), `dispatch` ↔
//! `dispatch` (choosing the transition), `body` ↔ `body` (firing it). Where the kernel keeps an undo log, the
//! interpreter takes one copy of the state before a body that can write it and restores the copy on a rejection.
//! A message that names no trigger of the machine, or whose payload does not match the trigger's declaration, is
//! [`Rejection::InvalidMessage`] before anything is evaluated (a typed kernel cannot receive one).
//!
//! [`Interpreter::apply_explained`] returns the same rejections with the evaluation error behind one, when there
//! is one ([`Fault`]: which guard, target, body or invariant overflowed or divided by zero), for the model
//! checker, which reports those as findings.
//!
//! Ids in the IR (transitions, fields, locals) come from the checker and index the machine's vectors; the
//! interpreter still reads them with `get` wherever a value or message chosen by a caller could hold one, so a
//! state or message built for another machine is an error value, never a panic.

mod body;
mod dispatch;
mod error;
mod eval;
mod value;

pub use error::{Fault, FaultSite, InitialStateError, RecoveryRejection, Refusal, Rejection};
pub use eval::EvalError;
pub use value::Value;

use crate::ir::{self, EffectId, InvariantId, PhaseId, TransitionId, Trigger};

use eval::{Env, Evaluator};

/// A machine's state: its phase and its state fields in declaration order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct State {
    /// The current phase.
    pub phase: PhaseId,
    /// The state fields, indexed by [`ir::FieldId`].
    pub fields: Vec<Value>,
}

/// An input or signal with its payload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Message {
    /// Which input or signal.
    pub trigger: Trigger,
    /// Payload values in the declaration order of the trigger's fields.
    pub fields: Vec<Value>,
}

/// An effect a transition emitted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Emitted {
    /// Which effect.
    pub effect: EffectId,
    /// Payload values in the declaration order of the effect's fields (defaults filled in).
    pub fields: Vec<Value>,
}

/// A kernel value made from the interpreter's value of it, if it is one: what generated kernels with interpreter
/// conversions implement for their phase, declared types, state, inputs and signals (`Source` is [`PhaseId`],
/// [`Value`], [`State`] or [`Message`]). A trait rather than an inherent function so that a variant named
/// `from_interp` cannot take its path: `<T as FromInterp>::from_interp` always names this function.
pub trait FromInterp: Sized {
    /// What the interpreter holds for a value of this type.
    type Source: ?Sized;

    /// The value `source` stands for, or `None` when it is not one of this type (another machine's, another
    /// type's, or a payload of the wrong shape).
    fn from_interp(source: &Self::Source) -> Option<Self>;
}

/// What happened when a message was applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fired {
    /// The transition that fired.
    pub transition: TransitionId,
    /// The phase it fired from.
    pub source: PhaseId,
    /// The phase it led to (equal to `source` for `stay`).
    pub target: PhaseId,
    /// The effects it emitted, in order.
    pub effects: Vec<Emitted>,
}

/// Runs one machine's IR. Cheap to build (one pass over the transitions) and immutable: one interpreter can
/// serve any number of states, from any number of threads.
#[derive(Clone, Debug)]
pub struct Interpreter<'m> {
    machine: &'m ir::Machine,
    /// The candidates of each (phase, trigger) pair, at `phase * triggers + trigger_index`.
    dispatch: Vec<Box<[TransitionId]>>,
    /// Triggers per phase in `dispatch`: inputs then signals.
    triggers: usize,
    /// Per transition: whether its body can write state (if not, rejecting it only needs the phase restored).
    writes: Vec<bool>,
}

impl<'m> Interpreter<'m> {
    /// An interpreter for a machine's IR. A [`crate::CheckedMachine`] derefs to one: `Interpreter::new(&checked)`.
    pub fn new(machine: &'m ir::Machine) -> Self {
        let triggers = machine.inputs.len() + machine.signals.len();
        let mut dispatch = Vec::with_capacity(machine.phases.len() * triggers);
        for phase in machine.phase_ids() {
            for trigger in machine.triggers() {
                dispatch.push(machine.candidates(phase, trigger).collect());
            }
        }
        let writes = machine.transitions.iter().map(|t| ir::visit::writes_state(&t.body)).collect();
        Interpreter { machine, dispatch, triggers, writes }
    }

    /// The machine this interpreter runs.
    pub fn machine(&self) -> &'m ir::Machine {
        self.machine
    }

    /// The initial state: the initial phase, and every state field's (constant) initial value.
    pub fn initial_state(&self) -> Result<State, InitialStateError> {
        let phase = self.machine.initial_phase;
        let mut fields = Vec::with_capacity(self.machine.fields.len());
        for (index, field) in self.machine.fields.iter().enumerate() {
            let value = Evaluator::new(Env::machine(self.machine, phase, &[]))
                .eval(&field.init)
                .map(eval::Val::into_owned)
                .map_err(|error| InitialStateError { field: ir::FieldId(index as u32), error })?;
            fields.push(value);
        }
        Ok(State { phase, fields })
    }

    /// The value of a constant expression: a state field's initial value, a model domain value or a route's
    /// constant. `None` if it fails to evaluate (`u64::MAX + 1`) or reads what a constant cannot (a state field,
    /// a payload field; the checker never lets a constant do so).
    pub fn eval_constant(&self, expr: &ir::Expr) -> Option<Value> {
        Evaluator::new(Env::machine(self.machine, self.machine.initial_phase, &[]))
            .eval(expr)
            .ok()
            .map(eval::Val::into_owned)
    }

    /// The first invariant, in declaration order, that does not hold in `state`. An invariant that fails to
    /// evaluate (an overflow) does not hold.
    pub fn check_invariants(&self, state: &State) -> Result<(), InvariantId> {
        self.first_failing_invariant(state).map_or(Ok(()), |(invariant, _)| Err(invariant))
    }

    /// The first invariant, in declaration order, that does not hold in `state`, with the evaluation error if
    /// it failed to evaluate (`None` when it is false).
    pub fn first_failing_invariant(&self, state: &State) -> Option<(InvariantId, Option<EvalError>)> {
        (0..self.machine.invariants.len()).map(|index| InvariantId(index as u32)).find_map(|id| {
            match self.eval_invariant(state, id) {
                Ok(true) => None,
                Ok(false) => Some((id, None)),
                Err(error) => Some((id, Some(error))),
            }
        })
    }

    /// The value of one invariant in `state`, or why it cannot be evaluated (an unknown id is
    /// [`EvalError::Malformed`]).
    pub fn eval_invariant(&self, state: &State, invariant: InvariantId) -> Result<bool, EvalError> {
        let invariant = self.machine.invariants.get(invariant.index()).ok_or(EvalError::Malformed)?;
        Evaluator::new(Env::machine(self.machine, state.phase, &state.fields)).eval_bool(&invariant.expr)
    }

    /// The value of one property (`property` or `reachable`) in `state`, or why it cannot be evaluated (an
    /// unknown id is [`EvalError::Malformed`]). Properties are never checked when a message is applied; the
    /// model checker asks for them.
    pub fn eval_property(&self, state: &State, property: ir::PropertyId) -> Result<bool, EvalError> {
        let property = self.machine.properties.get(property.index()).ok_or(EvalError::Malformed)?;
        Evaluator::new(Env::machine(self.machine, state.phase, &state.fields)).eval_bool(&property.expr)
    }

    /// Checks a state restored from storage before it is used: it must fit the machine (a known phase, one value
    /// of the declared type per field) and satisfy every invariant.
    pub fn check_recovered(&self, state: &State) -> Result<(), RecoveryRejection> {
        let machine = self.machine;
        if state.phase.index() >= machine.phases.len() {
            return Err(RecoveryRejection::Malformed { reason: format!("there is no phase #{}", state.phase.0) });
        }
        if state.fields.len() != machine.fields.len() {
            return Err(RecoveryRejection::Malformed {
                reason: format!("expected {} state fields, found {}", machine.fields.len(), state.fields.len()),
            });
        }
        for (field, value) in machine.fields.iter().zip(&state.fields) {
            if !value::has_type(value, &field.ty, machine) {
                return Err(RecoveryRejection::Malformed {
                    reason: format!("state field `{}` is not a `{}`", field.name, machine.type_name(&field.ty)),
                });
            }
        }
        self.check_invariants(state).map_err(|invariant| RecoveryRejection::InvariantRejected { invariant })
    }

    /// Applies a message to a state, all or nothing: on success the state has taken the transition and the
    /// effects are returned; on a rejection the state is exactly as it was.
    pub fn apply(&self, state: &mut State, message: &Message) -> Result<Fired, Rejection> {
        self.apply_explained(state, message).map_err(|refusal| refusal.rejection)
    }

    /// [`Interpreter::apply`], with the evaluation error behind a rejection when there is one: the expression
    /// (guard, computed target, body or invariant) that overflowed or divided by zero. The model checker
    /// reports those as findings; the rejection itself is the same as `apply`'s.
    pub fn apply_explained(&self, state: &mut State, message: &Message) -> Result<Fired, Refusal> {
        self.check_message(message)?;
        let chosen = self.dispatch(state, message)?;
        self.fire(state, message, chosen)
    }

    /// The candidates for a trigger in a phase, in declaration order (empty for unknown ids).
    fn candidates(&self, phase: PhaseId, trigger: Trigger) -> &[TransitionId] {
        let trigger_index = match trigger {
            Trigger::Input(id) if id.index() < self.machine.inputs.len() => id.index(),
            Trigger::Signal(id) if id.index() < self.machine.signals.len() => self.machine.inputs.len() + id.index(),
            _ => return &[],
        };
        let slot = phase.index().checked_mul(self.triggers).and_then(|base| base.checked_add(trigger_index));
        slot.and_then(|slot| self.dispatch.get(slot)).map_or(&[], |c| c)
    }
}
