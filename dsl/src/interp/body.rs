//! Firing the chosen transition: the target phase, the body statement by statement, the invariants, and
//! restoring the state when any of that rejects the message (steps 4 and 5 and "all or nothing" of the execution
//! semantics in the [`crate::ir`] module doc). The generated kernel's counterpart is `codegen/src/rust/body.rs`.
//!
//! The transition id comes from [`Interpreter::dispatch`], which takes it from this machine's dispatch table;
//! indexing the machine's transitions with it cannot go out of bounds.

use crate::ir::{self, BinOp, CollectionOp, Expr, Place, Projection, Stmt, StmtKind, Target, TransitionId};

use super::eval::{self, Env, EvalError, Evaluator};
use super::value::Value;
use super::{Emitted, Fault, FaultSite, Fired, Interpreter, Message, Refusal, Rejection, State};

impl Interpreter<'_> {
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
