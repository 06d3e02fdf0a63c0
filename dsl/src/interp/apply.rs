//! Applying a message: checking it against its declaration, choosing the transition among the candidates,
//! running the chosen transition's body statement by statement, checking the invariants, and restoring the
//! state when any of that rejects the message.
//!
//! Transition ids used here come from the interpreter's dispatch table, which the constructor built from this
//! machine's transitions, and guard indices from enumerating a transition's guards; indexing the machine's
//! vectors with them cannot go out of bounds.

use crate::ir::{self, BinOp, CollectionOp, Expr, Place, Projection, Stmt, StmtKind, Target, Transition, TransitionId};

use super::eval::{self, Env, EvalError, Evaluator};
use super::value::{Value, has_type};
use super::{Emitted, Fault, FaultSite, Fired, Interpreter, Message, Refusal, Rejection, State};

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

    /// Fires a transition: target phase, body, invariants; restores the state on any rejection.
    pub(super) fn fire(&self, state: &mut State, message: &Message, id: TransitionId) -> Result<Fired, Refusal> {
        let faulted = |site: FaultSite, error: EvalError| Refusal {
            rejection: Rejection::from_eval(id, error),
            fault: Some(Fault { site, error }),
        };
        let transition = &self.machine.transitions[id.index()];
        let source = state.phase;
        let mut run = Run {
            machine: self.machine,
            payload: &message.fields,
            source,
            locals: vec![None; transition.locals.len()],
            effects: Vec::new(),
        };
        let target = match &transition.target {
            Target::Stay => source,
            Target::Phase(phase) => *phase,
            // Evaluated against the pre-state, before anything is written: a failure leaves nothing to undo.
            Target::Computed { expr, .. } => match run.eval(state, expr) {
                Ok(Value::Phase(phase)) => phase,
                Ok(_) => return Err(faulted(FaultSite::Target { transition: id }, EvalError::Malformed)),
                Err(error) => return Err(faulted(FaultSite::Target { transition: id }, error)),
            },
        };
        // A body that cannot write state can only have changed the phase; anything else needs a full copy.
        let backup = if self.writes[id.index()] { Some(state.clone()) } else { None };
        state.phase = target;
        let outcome = run
            .block(state, &transition.body)
            .map_err(|error| faulted(FaultSite::Body { transition: id }, error))
            .and_then(|()| match self.first_failing_invariant(state) {
                None => Ok(()),
                Some((invariant, error)) => Err(Refusal {
                    rejection: Rejection::InvariantViolated { transition: id, invariant },
                    fault: error.map(|error| Fault { site: FaultSite::Invariant { transition: id, invariant }, error }),
                }),
            });
        match outcome {
            Ok(()) => Ok(Fired { transition: id, source, target, effects: run.effects }),
            Err(rejection) => {
                match backup {
                    Some(backup) => *state = backup,
                    None => state.phase = source,
                }
                Err(rejection)
            }
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

/// Whether a body contains a statement that writes state.
pub(super) fn writes_state(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|stmt| match &stmt.kind {
        StmtKind::Assign { .. } | StmtKind::Compound { .. } | StmtKind::Collection { .. } => true,
        StmtKind::If { then, else_, .. } | StmtKind::IfLet { then, else_, .. } => {
            writes_state(then) || writes_state(else_)
        }
        StmtKind::Let { .. } | StmtKind::Emit { .. } => false,
    })
}

/// One run of a transition body.
struct Run<'a> {
    machine: &'a ir::Machine,
    payload: &'a [Value],
    source: ir::PhaseId,
    /// The body's `let` and statement `if let` locals, by id.
    locals: Vec<Option<Value>>,
    effects: Vec<Emitted>,
}

impl<'a> Run<'a> {
    fn env<'s>(&'s self, state: &'s State) -> Env<'s> {
        Env {
            machine: self.machine,
            phase: state.phase,
            fields: &state.fields,
            source: Some(self.source),
            payload: self.payload,
            body_locals: &self.locals,
        }
    }

    /// Evaluates an expression against the current state to an owned value.
    fn eval(&self, state: &State, expr: &'a Expr) -> Result<Value, EvalError> {
        Ok(Evaluator::new(self.env(state)).eval(expr)?.into_owned())
    }

    fn eval_bool(&self, state: &State, expr: &'a Expr) -> Result<bool, EvalError> {
        Evaluator::new(self.env(state)).eval_bool(expr)
    }

    fn bind(&mut self, local: ir::LocalId, value: Value) -> Result<(), EvalError> {
        *self.locals.get_mut(local.index()).ok_or(EvalError::Malformed)? = Some(value);
        Ok(())
    }

    fn block(&mut self, state: &mut State, stmts: &'a [Stmt]) -> Result<(), EvalError> {
        for stmt in stmts {
            self.stmt(state, stmt)?;
        }
        Ok(())
    }

    fn stmt(&mut self, state: &mut State, stmt: &'a Stmt) -> Result<(), EvalError> {
        match &stmt.kind {
            StmtKind::Let { local, value } => {
                let value = self.eval(state, value)?;
                self.bind(*local, value)
            }
            StmtKind::Assign { place, value } => {
                let value = self.eval(state, value)?;
                *place_mut(&mut state.fields, place)? = value;
                Ok(())
            }
            StmtKind::Compound { place, op, value } => {
                let Value::U64(amount) = self.eval(state, value)? else { return Err(EvalError::Malformed) };
                let Value::U64(current) = place_mut(&mut state.fields, place)? else {
                    return Err(EvalError::Malformed);
                };
                *current = match op {
                    BinOp::Add => current.checked_add(amount).ok_or(EvalError::Overflow)?,
                    BinOp::Sub => current.checked_sub(amount).ok_or(EvalError::Overflow)?,
                    _ => return Err(EvalError::Malformed),
                };
                Ok(())
            }
            StmtKind::Collection { place, op, args } => self.collection(state, place, *op, args),
            StmtKind::If { cond, then, else_ } => {
                let branch = if self.eval_bool(state, cond)? { then } else { else_ };
                self.block(state, branch)
            }
            StmtKind::IfLet { pattern, scrutinee, then, else_ } => {
                let matched = {
                    let mut evaluator = Evaluator::new(self.env(state));
                    let value = evaluator.eval(scrutinee)?;
                    if eval::matches(pattern, &value)? {
                        Some(eval::binding(pattern, value)?.map(|(local, inner)| (local, inner.into_owned())))
                    } else {
                        None
                    }
                };
                match matched {
                    Some(binding) => {
                        if let Some((local, value)) = binding {
                            self.bind(local, value)?;
                        }
                        self.block(state, then)
                    }
                    None => self.block(state, else_),
                }
            }
            StmtKind::Emit { effect, fields } => {
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    values.push(self.eval(state, field)?);
                }
                self.effects.push(Emitted { effect: *effect, fields: values });
                Ok(())
            }
        }
    }

    /// A collection operation: the arguments are evaluated first (left to right), then the place is changed.
    fn collection(
        &mut self,
        state: &mut State,
        place: &Place,
        op: CollectionOp,
        args: &'a [Expr],
    ) -> Result<(), EvalError> {
        let mut values = [None, None];
        if args.len() > values.len() {
            return Err(EvalError::Malformed);
        }
        for (slot, arg) in values.iter_mut().zip(args) {
            *slot = Some(self.eval(state, arg)?);
        }
        let [first, second] = values;
        let target = place_mut(&mut state.fields, place)?;
        match (op, target, first, second) {
            (CollectionOp::SetInsert, Value::Set(set), Some(value), None) => {
                set.insert(value);
            }
            (CollectionOp::SetRemove, Value::Set(set), Some(value), None) => {
                set.remove(&value);
            }
            (CollectionOp::MapInsert, Value::Map(map), Some(key), Some(value)) => {
                map.insert(key, value);
            }
            (CollectionOp::MapRemove, Value::Map(map), Some(key), None) => {
                map.remove(&key);
            }
            (CollectionOp::SeqPush, Value::Seq(seq), Some(value), None) => seq.push(value),
            (CollectionOp::SeqPop, Value::Seq(seq), None, None) => {
                seq.pop();
            }
            (CollectionOp::SeqPopFront, Value::Seq(seq), None, None) => {
                if !seq.is_empty() {
                    seq.remove(0);
                }
            }
            (CollectionOp::Clear, Value::Set(set), None, None) => set.clear(),
            (CollectionOp::Clear, Value::Map(map), None, None) => map.clear(),
            (CollectionOp::Clear, Value::Seq(seq), None, None) => seq.clear(),
            _ => return Err(EvalError::Malformed),
        }
        Ok(())
    }
}

/// The state location a place names, for writing.
fn place_mut<'v>(fields: &'v mut [Value], place: &Place) -> Result<&'v mut Value, EvalError> {
    let mut value = fields.get_mut(place.field.index()).ok_or(EvalError::Malformed)?;
    for projection in &place.path {
        value = match (projection, value) {
            (Projection::RecordField(i), Value::Record(_, fields)) => {
                fields.get_mut(*i as usize).ok_or(EvalError::Malformed)?
            }
            (Projection::NewtypeInner, Value::Newtype(_, inner)) => inner,
            _ => return Err(EvalError::Malformed),
        };
    }
    Ok(value)
}
