//! Choosing the transition: checking a message against its trigger's declaration, then evaluating the
//! candidates' guards against the pre-state and deciding which one fires (steps 1 to 3 of the execution
//! semantics in the [`crate::ir`] module doc). The generated kernel's counterpart is `codegen/src/rust/dispatch.rs`.
//!
//! Transition ids used here come from the interpreter's dispatch table, which the constructor built from this
//! machine's transitions, and guard indices from enumerating a transition's guards; indexing the machine's
//! vectors with them cannot go out of bounds.

use crate::ir::{self, Transition, TransitionId};

use super::eval::{Env, EvalError, Evaluator};
use super::value::{Value, has_type};
use super::{Fault, FaultSite, Interpreter, Message, Refusal, Rejection, State};

impl Interpreter<'_> {
    /// Rejects a message that names no trigger of this machine or whose payload does not fit the declaration.
    pub(super) fn check_message(&self, message: &Message) -> Result<(), Rejection> {
        let trigger = message.trigger;
        let invalid = |reason: String| Rejection::InvalidMessage { trigger, reason };
        let declaration = match trigger {
            ir::Trigger::Input(id) => self.machine.inputs.get(id.index()),
            ir::Trigger::Signal(id) => self.machine.signals.get(id.index()),
        };
        let Some(declaration) = declaration else {
            return Err(invalid("the machine declares no such trigger".to_string()));
        };
        if declaration.fields.len() != message.fields.len() {
            return Err(invalid(format!(
                "`{}` has {} payload fields, the message has {} values",
                declaration.name,
                declaration.fields.len(),
                message.fields.len()
            )));
        }
        for (field, value) in declaration.fields.iter().zip(&message.fields) {
            if !has_type(value, &field.ty, self.machine) {
                let ty = self.machine.type_name(&field.ty);
                return Err(invalid(format!("payload field `{}` is not a `{ty}`", field.name)));
            }
        }
        Ok(())
    }

    /// Chooses the transition that fires for `message` in `state`, or the rejection.
    pub(super) fn dispatch(&self, state: &State, message: &Message) -> Result<TransitionId, Refusal> {
        let (phase, trigger) = (state.phase, message.trigger);
        let candidates = self.candidates(phase, trigger);
        if candidates.is_empty() {
            return Err(Rejection::NoMatchingTransition { phase, trigger }.into());
        }
        let mut first_passed = None;
        let mut second_passed = None;
        let mut fallback = None;
        // (candidate, index of its first failing guard), only needed when no `otherwise` candidate can take
        // over; labels are only built if the message is rejected.
        let can_fall_back = candidates.iter().any(|id| self.machine.transitions[id.index()].otherwise);
        let mut failed: Vec<(TransitionId, usize)> = Vec::new();
        for &id in candidates {
            let transition = &self.machine.transitions[id.index()];
            if transition.otherwise {
                fallback = fallback.or(Some(id));
                continue;
            }
            match first_failing_guard(self.machine, state, &message.fields, transition) {
                Err((guard, error)) => {
                    let fault = Fault { site: FaultSite::Guard { transition: id, guard: guard as u32 }, error };
                    return Err(Refusal { rejection: Rejection::from_eval(id, error), fault: Some(fault) });
                }
                Ok(Some(guard)) if !can_fall_back => failed.push((id, guard)),
                Ok(Some(_)) => {}
                Ok(None) if first_passed.is_none() => first_passed = Some(id),
                Ok(None) => second_passed = second_passed.or(Some(id)),
            }
        }
        match (first_passed, second_passed) {
            (Some(first), Some(second)) => Err(Rejection::AmbiguousTransition { phase, trigger, first, second }.into()),
            (Some(only), None) => Ok(only),
            _ => fallback.ok_or_else(|| {
                let rejections = failed
                    .into_iter()
                    .map(|(id, guard)| (id, self.machine.transitions[id.index()].guards[guard].label.clone()))
                    .collect();
                Rejection::GuardRejected { phase, trigger, rejections }.into()
            }),
        }
    }
}

/// The index of a candidate's first guard that does not hold in the pre-state, or `None` if all hold; on an
/// evaluation error, the index of the guard that failed with it.
fn first_failing_guard(
    machine: &ir::Machine,
    state: &State,
    payload: &[Value],
    transition: &Transition,
) -> Result<Option<usize>, (usize, EvalError)> {
    let env = Env {
        machine,
        phase: state.phase,
        fields: &state.fields,
        source: Some(state.phase),
        payload,
        body_locals: &[],
    };
    let mut evaluator = Evaluator::new(env);
    for (index, guard) in transition.guards.iter().enumerate() {
        if !evaluator.eval_bool(&guard.expr).map_err(|error| (index, error))? {
            return Ok(Some(index));
        }
    }
    Ok(None)
}
