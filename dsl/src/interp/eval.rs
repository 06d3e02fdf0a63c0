//! Expression evaluation over the checked IR, with the evaluation order of the [`crate::ir`] module doc. The
//! generated kernel's counterpart is `codegen/src/rust/expr.rs`.
//!
//! An [`Evaluator`] evaluates expressions against an [`Env`]: the current phase and state fields, the trigger's
//! payload, the phase a transition fired from, and the `let` locals of the transition body being run. Results
//! are [`Val`]s that borrow from that environment where they can, so reading a state field, projecting into a
//! record or calling `map.get(k)` copies nothing; a value is cloned only where it must be owned (a write, an
//! emitted payload, an element of a new collection).
//!
//! Bindings made inside an expression (closure parameters, `if let` / `match` bindings, helper arguments) live
//! on one stack of the evaluator. A named guard or helper call opens a frame on it; a `Local` is looked up from
//! the top of the stack down to the current frame's base, then (in the transition body's own frame) among the
//! body's `let` locals. Local ids are unique per binding site within a body, so the first match is the binding.
//!
//! Nothing here trusts the IR or the values to be well typed: a mismatch is [`EvalError::Malformed`], never a
//! panic. Every lookup by id goes through `get`.

use std::borrow::Cow;
use std::collections::{btree_map, btree_set};

use crate::ir::{self, BinOp, Builtin, Expr, ExprKind, LocalId, Pattern, PhaseId, Projection, Quantifier};

use super::value::Value;

/// Helper and guard calls nest at most this deep. The checker rejects recursive helpers, so only a chain of more
/// than this many distinct helpers (or IR built by hand) reaches it; the limit turns that into an error that says
/// so, instead of a stack overflow. A chain of a few hundred helpers evaluates.
pub const MAX_CALL_DEPTH: u32 = 1_024;

/// Why an expression could not be evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EvalError {
    /// A `u64` addition, subtraction or multiplication left the range of `u64`, or a count did.
    #[error("arithmetic overflow")]
    Overflow,
    /// A division or remainder by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// A value, local or id did not fit the machine: the state or the IR was not built for it. A checked
    /// machine with states and messages of its own types never produces this.
    #[error("a value does not have the type the machine declares")]
    Malformed,
    /// Helpers and guards called each other more than [`MAX_CALL_DEPTH`] levels deep.
    #[error("helpers and guards call each other more than {MAX_CALL_DEPTH} levels deep")]
    CallsTooDeep,
}

/// What an expression may read.
#[derive(Clone, Copy)]
pub(crate) struct Env<'s> {
    /// The machine whose IR is evaluated.
    pub(crate) machine: &'s ir::Machine,
    /// The current phase.
    pub(crate) phase: PhaseId,
    /// The current state fields.
    pub(crate) fields: &'s [Value],
    /// The phase the transition fired from (transitions only).
    pub(crate) source: Option<PhaseId>,
    /// The trigger's payload (transitions only).
    pub(crate) payload: &'s [Value],
    /// The `let` and statement-level `if let` locals of the transition body, by [`LocalId`].
    pub(crate) body_locals: &'s [Option<Value>],
}

impl<'s> Env<'s> {
    /// An environment with no payload, source or locals: for invariants, named guards and constants.
    pub(crate) fn machine(machine: &'s ir::Machine, phase: PhaseId, fields: &'s [Value]) -> Self {
        Env { machine, phase, fields, source: None, payload: &[], body_locals: &[] }
    }
}

/// The result of evaluating an expression: borrowed from the environment where possible.
#[derive(Debug)]
pub(crate) enum Val<'s> {
    /// A value that lives in the environment.
    Ref(&'s Value),
    /// A value computed by the expression.
    Own(Value),
    /// `Some(v)` for a `v` that lives in the environment (`map.get(k)`, `seq.first()`, `Some(field)`).
    SomeRef(&'s Value),
}

use Val::{Own, Ref, SomeRef};

impl<'s> Val<'s> {
    /// The value, owned (cloned if borrowed).
    pub(crate) fn into_owned(self) -> Value {
        match self {
            Ref(v) => v.clone(),
            Own(v) => v,
            SomeRef(v) => Value::some(v.clone()),
        }
    }

    /// A second handle on the same value: free for borrowed values, a clone for owned ones.
    fn share(&self) -> Val<'s> {
        match self {
            Ref(v) => Ref(v),
            Own(v) => Own(v.clone()),
            SomeRef(v) => SomeRef(v),
        }
    }

    /// The value as a plain reference; `SomeRef` has none, which only option operations meet.
    fn value(&self) -> Result<&Value, EvalError> {
        match self {
            Ref(v) => Ok(v),
            Own(v) => Ok(v),
            SomeRef(_) => Err(EvalError::Malformed),
        }
    }

    /// The value as a reference, materialising `SomeRef` (rare: an `Option` used as a set element or key).
    fn as_cow(&self) -> Cow<'_, Value> {
        match self {
            Ref(v) => Cow::Borrowed(*v),
            Own(v) => Cow::Borrowed(v),
            SomeRef(v) => Cow::Owned(Value::some((*v).clone())),
        }
    }

    pub(crate) fn as_bool(&self) -> Result<bool, EvalError> {
        match self.value()? {
            Value::Bool(b) => Ok(*b),
            _ => Err(EvalError::Malformed),
        }
    }

    pub(crate) fn as_u64(&self) -> Result<u64, EvalError> {
        match self.value()? {
            Value::U64(n) => Ok(*n),
            _ => Err(EvalError::Malformed),
        }
    }

    fn is_some(&self) -> Result<bool, EvalError> {
        match self {
            SomeRef(_) => Ok(true),
            Ref(Value::Option(o)) | Own(Value::Option(o)) => Ok(o.is_some()),
            _ => Err(EvalError::Malformed),
        }
    }

    /// The content of an option: `None`, or the value inside `Some`.
    pub(crate) fn into_option(self) -> Result<Option<Val<'s>>, EvalError> {
        match self {
            SomeRef(v) => Ok(Some(Ref(v))),
            Ref(Value::Option(o)) => Ok(o.as_deref().map(Ref)),
            Own(Value::Option(o)) => Ok(o.map(|inner| Own(*inner))),
            _ => Err(EvalError::Malformed),
        }
    }
}

/// Whether `a` equals the plain value `b`.
fn eq_value(a: &Val<'_>, b: &Value) -> bool {
    match a {
        Ref(x) => *x == b,
        Own(x) => x == b,
        SomeRef(x) => matches!(b, Value::Option(Some(y)) if **y == **x),
    }
}

/// `a == b` for two evaluated values.
fn vals_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match b {
        Ref(y) => eq_value(a, y),
        Own(y) => eq_value(a, y),
        SomeRef(y) => match a {
            SomeRef(x) => x == y,
            Ref(x) => matches!(x, Value::Option(Some(z)) if **z == **y),
            Own(x) => matches!(x, Value::Option(Some(z)) if **z == **y),
        },
    }
}

/// Whether a pattern matches a value (without binding anything).
pub(crate) fn matches(pattern: &Pattern, value: &Val<'_>) -> Result<bool, EvalError> {
    Ok(match pattern {
        Pattern::Wildcard => true,
        Pattern::None => !value.is_some()?,
        Pattern::Some(_) => value.is_some()?,
        Pattern::Bool(b) => value.as_bool()? == *b,
        Pattern::Variant(ty, variant) => match value.value()? {
            Value::Enum(t, v) => t == ty && v == variant,
            _ => return Err(EvalError::Malformed),
        },
        Pattern::Phase(phase) => match value.value()? {
            Value::Phase(p) => p == phase,
            _ => return Err(EvalError::Malformed),
        },
    })
}

/// The binding a matching pattern makes, if it binds a name.
pub(crate) fn binding<'s>(pattern: &Pattern, value: Val<'s>) -> Result<Option<(LocalId, Val<'s>)>, EvalError> {
    match pattern {
        Pattern::Some(Some(local)) => Ok(value.into_option()?.map(|inner| (*local, inner))),
        _ => Ok(None),
    }
}

/// `.len()` of a string (in bytes) or collection.
fn len(value: &Value) -> Result<u64, EvalError> {
    let n = match value {
        Value::Str(s) => s.len(),
        Value::Set(s) => s.len(),
        Value::Seq(s) => s.len(),
        Value::Map(m) => m.len(),
        _ => return Err(EvalError::Malformed),
    };
    u64::try_from(n).map_err(|_| EvalError::Overflow)
}

fn project<'s>(value: Val<'s>, projection: Projection) -> Result<Val<'s>, EvalError> {
    match (value, projection) {
        (Ref(Value::Record(_, fields)), Projection::RecordField(i)) => {
            fields.get(i as usize).map(Ref).ok_or(EvalError::Malformed)
        }
        (Own(Value::Record(_, mut fields)), Projection::RecordField(i)) => {
            let i = i as usize;
            if i < fields.len() { Ok(Own(fields.swap_remove(i))) } else { Err(EvalError::Malformed) }
        }
        (Ref(Value::Newtype(_, inner)), Projection::NewtypeInner) => Ok(Ref(inner)),
        (Own(Value::Newtype(_, inner)), Projection::NewtypeInner) => Ok(Own(*inner)),
        _ => Err(EvalError::Malformed),
    }
}

/// The elements a quantifier visits: `(element, None)` for sets and seqs, `(key, Some(value))` for maps.
enum Elements<'s> {
    RefSet(btree_set::Iter<'s, Value>),
    OwnSet(btree_set::IntoIter<Value>),
    RefSeq(std::slice::Iter<'s, Value>),
    OwnSeq(std::vec::IntoIter<Value>),
    RefMap(btree_map::Iter<'s, Value, Value>),
    OwnMap(btree_map::IntoIter<Value, Value>),
}

impl<'s> Elements<'s> {
    fn of(collection: Val<'s>) -> Result<Self, EvalError> {
        Ok(match collection {
            Ref(Value::Set(s)) => Elements::RefSet(s.iter()),
            Ref(Value::Seq(s)) => Elements::RefSeq(s.iter()),
            Ref(Value::Map(m)) => Elements::RefMap(m.iter()),
            Own(Value::Set(s)) => Elements::OwnSet(s.into_iter()),
            Own(Value::Seq(s)) => Elements::OwnSeq(s.into_iter()),
            Own(Value::Map(m)) => Elements::OwnMap(m.into_iter()),
            _ => return Err(EvalError::Malformed),
        })
    }
}

impl<'s> Iterator for Elements<'s> {
    type Item = (Val<'s>, Option<Val<'s>>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Elements::RefSet(it) => it.next().map(|v| (Ref(v), None)),
            Elements::OwnSet(it) => it.next().map(|v| (Own(v), None)),
            Elements::RefSeq(it) => it.next().map(|v| (Ref(v), None)),
            Elements::OwnSeq(it) => it.next().map(|v| (Own(v), None)),
            Elements::RefMap(it) => it.next().map(|(k, v)| (Ref(k), Some(Ref(v)))),
            Elements::OwnMap(it) => it.next().map(|(k, v)| (Own(k), Some(Own(v)))),
        }
    }
}

/// What a stack entry binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// A helper parameter of the frame it belongs to.
    Param(u32),
    /// A local of the body whose frame it belongs to.
    Local(LocalId),
}

/// The body being evaluated: where its bindings start on the stack, and whether it is the transition body
/// whose `let` locals are in [`Env::body_locals`].
#[derive(Clone, Copy, Debug)]
struct Frame {
    base: usize,
    body: bool,
}

/// Evaluates expressions against one environment.
pub(crate) struct Evaluator<'s> {
    env: Env<'s>,
    stack: Vec<(Slot, Val<'s>)>,
    depth: u32,
}

impl<'s> Evaluator<'s> {
    /// An evaluator over `env`.
    pub(crate) fn new(env: Env<'s>) -> Self {
        Evaluator { env, stack: Vec::new(), depth: 0 }
    }

    /// Evaluates an expression of the body that owns the environment's locals.
    pub(crate) fn eval(&mut self, expr: &'s Expr) -> Result<Val<'s>, EvalError> {
        self.stack.clear();
        self.expr(Frame { base: 0, body: true }, expr)
    }

    /// Evaluates a `bool` expression.
    pub(crate) fn eval_bool(&mut self, expr: &'s Expr) -> Result<bool, EvalError> {
        self.eval(expr)?.as_bool()
    }

    fn expr(&mut self, frame: Frame, e: &'s Expr) -> Result<Val<'s>, EvalError> {
        use ExprKind as K;
        Ok(match &e.kind {
            K::Bool(b) => Own(Value::Bool(*b)),
            K::U64(n) => Own(Value::U64(*n)),
            K::Str(s) => Own(Value::Str(s.clone())),
            K::None => Own(Value::none()),
            K::Some(inner) => match self.expr(frame, inner)? {
                Ref(v) => SomeRef(v),
                other => Own(Value::some(other.into_owned())),
            },
            K::PhaseLit(p) => Own(Value::Phase(*p)),
            K::Variant(ty, variant) => Own(Value::Enum(*ty, *variant)),
            K::Field(id) => Ref(self.env.fields.get(id.index()).ok_or(EvalError::Malformed)?),
            K::Phase => Own(Value::Phase(self.env.phase)),
            K::Source => Own(Value::Phase(self.env.source.ok_or(EvalError::Malformed)?)),
            K::Payload(i) => Ref(self.env.payload.get(*i as usize).ok_or(EvalError::Malformed)?),
            K::Local(id) => self.local(frame, *id)?,
            K::Param(i) => match self.stack.get(frame.base + *i as usize) {
                Some((Slot::Param(p), value)) if p == i => value.share(),
                _ => return Err(EvalError::Malformed),
            },
            K::Guard(id) => {
                let guard = self.env.machine.guards.get(id.index()).ok_or(EvalError::Malformed)?;
                let base = self.stack.len();
                self.call(base, &guard.expr)?
            }
            K::Call(id, args) => {
                let helper = self.env.machine.helpers.get(id.index()).ok_or(EvalError::Malformed)?;
                let base = self.stack.len();
                for (index, arg) in args.iter().enumerate() {
                    let value = self.expr(frame, arg);
                    match value {
                        Ok(value) => self.stack.push((Slot::Param(index as u32), value)),
                        Err(error) => {
                            self.stack.truncate(base);
                            return Err(error);
                        }
                    }
                }
                self.call(base, &helper.body)?
            }
            K::Record(ty, fields) => {
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    values.push(self.expr(frame, field)?.into_owned());
                }
                Own(Value::Record(*ty, values))
            }
            K::Newtype(ty, inner) => Own(Value::Newtype(*ty, Box::new(self.expr(frame, inner)?.into_owned()))),
            K::Project(base, projection) => project(self.expr(frame, base)?, *projection)?,
            K::SeqLit(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.expr(frame, item)?.into_owned());
                }
                Own(Value::Seq(values))
            }
            K::SetLit(items) => {
                let mut values = std::collections::BTreeSet::new();
                for item in items {
                    values.insert(self.expr(frame, item)?.into_owned());
                }
                Own(Value::Set(values))
            }
            K::MapLit(entries) => {
                // Entries are inserted in the order written, so a repeated key keeps its last value.
                let mut map = std::collections::BTreeMap::new();
                for (key, value) in entries {
                    let key = self.expr(frame, key)?.into_owned();
                    let value = self.expr(frame, value)?.into_owned();
                    map.insert(key, value);
                }
                Own(Value::Map(map))
            }
            K::Not(inner) => Own(Value::Bool(!self.expr(frame, inner)?.as_bool()?)),
            K::Binary(op, lhs, rhs) => self.binary(frame, *op, lhs, rhs)?,
            K::Method(receiver, builtin, args) => self.method(frame, receiver, *builtin, args)?,
            K::Quantifier { kind, collection, params, body } => {
                self.quantifier(frame, *kind, collection, params, body)?
            }
            K::If(cond, then, else_) => {
                if self.expr(frame, cond)?.as_bool()? {
                    self.expr(frame, then)?
                } else {
                    self.expr(frame, else_)?
                }
            }
            K::IfLet { pattern, scrutinee, then, else_ } => {
                let value = self.expr(frame, scrutinee)?;
                if matches(pattern, &value)? {
                    self.bound(frame, pattern, value, then)?
                } else {
                    self.expr(frame, else_)?
                }
            }
            K::Match { scrutinee, arms } => {
                let value = self.expr(frame, scrutinee)?;
                let mut chosen = None;
                'arms: for arm in arms {
                    for pattern in &arm.patterns {
                        if matches(pattern, &value)? {
                            chosen = Some((pattern, &arm.body));
                            break 'arms;
                        }
                    }
                }
                // The checker proves matches exhaustive; a value no arm covers is ill typed.
                let (pattern, body) = chosen.ok_or(EvalError::Malformed)?;
                self.bound(frame, pattern, value, body)?
            }
        })
    }

    /// Evaluates `body` with the binding `pattern` makes from `value` (which it matches) in scope.
    fn bound(&mut self, frame: Frame, pattern: &Pattern, value: Val<'s>, body: &'s Expr) -> Result<Val<'s>, EvalError> {
        let base = self.stack.len();
        if let Some((local, inner)) = binding(pattern, value)? {
            self.stack.push((Slot::Local(local), inner));
        }
        let result = self.expr(frame, body);
        self.stack.truncate(base);
        result
    }

    /// Evaluates a helper body or named guard in a new frame starting at `base` (its arguments are already
    /// pushed), then pops the frame.
    fn call(&mut self, base: usize, body: &'s Expr) -> Result<Val<'s>, EvalError> {
        if self.depth >= MAX_CALL_DEPTH {
            self.stack.truncate(base);
            return Err(EvalError::CallsTooDeep);
        }
        self.depth += 1;
        let result = self.expr(Frame { base, body: false }, body);
        self.depth -= 1;
        self.stack.truncate(base);
        result
    }

    fn local(&self, frame: Frame, id: LocalId) -> Result<Val<'s>, EvalError> {
        let bindings = self.stack.get(frame.base..).unwrap_or(&[]);
        if let Some((_, value)) = bindings.iter().rev().find(|(slot, _)| *slot == Slot::Local(id)) {
            return Ok(value.share());
        }
        if frame.body {
            if let Some(Some(value)) = self.env.body_locals.get(id.index()) {
                return Ok(Ref(value));
            }
        }
        Err(EvalError::Malformed)
    }

    fn binary(&mut self, frame: Frame, op: BinOp, lhs: &'s Expr, rhs: &'s Expr) -> Result<Val<'s>, EvalError> {
        let value = match op {
            BinOp::And => Value::Bool(self.expr(frame, lhs)?.as_bool()? && self.expr(frame, rhs)?.as_bool()?),
            BinOp::Or => Value::Bool(self.expr(frame, lhs)?.as_bool()? || self.expr(frame, rhs)?.as_bool()?),
            BinOp::Eq | BinOp::Ne => {
                let l = self.expr(frame, lhs)?;
                let r = self.expr(frame, rhs)?;
                Value::Bool(vals_eq(&l, &r) == (op == BinOp::Eq))
            }
            _ => {
                let l = self.expr(frame, lhs)?.as_u64()?;
                let r = self.expr(frame, rhs)?.as_u64()?;
                match op {
                    BinOp::Lt => Value::Bool(l < r),
                    BinOp::Le => Value::Bool(l <= r),
                    BinOp::Gt => Value::Bool(l > r),
                    BinOp::Ge => Value::Bool(l >= r),
                    BinOp::Add => Value::U64(l.checked_add(r).ok_or(EvalError::Overflow)?),
                    BinOp::Sub => Value::U64(l.checked_sub(r).ok_or(EvalError::Overflow)?),
                    BinOp::Mul => Value::U64(l.checked_mul(r).ok_or(EvalError::Overflow)?),
                    BinOp::Div => Value::U64(l.checked_div(r).ok_or(EvalError::DivisionByZero)?),
                    BinOp::Rem => Value::U64(l.checked_rem(r).ok_or(EvalError::DivisionByZero)?),
                    BinOp::And | BinOp::Or | BinOp::Eq | BinOp::Ne => return Err(EvalError::Malformed),
                }
            }
        };
        Ok(Own(value))
    }

    /// A built-in method. The receiver is evaluated first, then the argument, always (like a Rust method
    /// call: `opt.unwrap_or(d)` evaluates `d` even when `opt` is `Some`).
    fn method(
        &mut self,
        frame: Frame,
        receiver: &'s Expr,
        builtin: Builtin,
        args: &'s [Expr],
    ) -> Result<Val<'s>, EvalError> {
        let receiver = self.expr(frame, receiver)?;
        let arg = match args {
            [] => None,
            [arg] => Some(self.expr(frame, arg)?),
            _ => return Err(EvalError::Malformed),
        };
        let arg = || arg.ok_or(EvalError::Malformed);
        Ok(match builtin {
            Builtin::IsSome => Own(Value::Bool(receiver.is_some()?)),
            Builtin::IsNone => Own(Value::Bool(!receiver.is_some()?)),
            Builtin::UnwrapOr => {
                let default = arg()?;
                receiver.into_option()?.unwrap_or(default)
            }
            Builtin::Len => Own(Value::U64(len(receiver.value()?)?)),
            Builtin::IsEmpty => Own(Value::Bool(len(receiver.value()?)? == 0)),
            Builtin::Contains => {
                let needle = arg()?;
                let found = match &receiver {
                    SomeRef(inner) => eq_value(&needle, inner),
                    Ref(Value::Option(o)) | Own(Value::Option(o)) => o.as_deref().is_some_and(|v| eq_value(&needle, v)),
                    Ref(Value::Set(s)) | Own(Value::Set(s)) => s.contains(needle.as_cow().as_ref()),
                    Ref(Value::Seq(s)) | Own(Value::Seq(s)) => s.iter().any(|v| eq_value(&needle, v)),
                    _ => return Err(EvalError::Malformed),
                };
                Own(Value::Bool(found))
            }
            Builtin::ContainsKey => {
                let key = arg()?;
                match receiver.value()? {
                    Value::Map(m) => Own(Value::Bool(m.contains_key(key.as_cow().as_ref()))),
                    _ => return Err(EvalError::Malformed),
                }
            }
            Builtin::Get => {
                let key = arg()?;
                match receiver {
                    Ref(Value::Map(m)) => m.get(key.as_cow().as_ref()).map_or(Own(Value::none()), SomeRef),
                    Own(Value::Map(mut m)) => Own(Value::Option(m.remove(key.as_cow().as_ref()).map(Box::new))),
                    Ref(Value::Seq(s)) => {
                        let index = usize::try_from(key.as_u64()?).ok();
                        index.and_then(|i| s.get(i)).map_or(Own(Value::none()), SomeRef)
                    }
                    Own(Value::Seq(s)) => {
                        let index = usize::try_from(key.as_u64()?).ok();
                        Own(Value::Option(index.and_then(|i| s.into_iter().nth(i)).map(Box::new)))
                    }
                    _ => return Err(EvalError::Malformed),
                }
            }
            Builtin::Keys => match receiver {
                Ref(Value::Map(m)) => Own(Value::Set(m.keys().cloned().collect())),
                Own(Value::Map(m)) => Own(Value::Set(m.into_keys().collect())),
                _ => return Err(EvalError::Malformed),
            },
            Builtin::Values => match receiver {
                Ref(Value::Map(m)) => Own(Value::Seq(m.values().cloned().collect())),
                Own(Value::Map(m)) => Own(Value::Seq(m.into_values().collect())),
                _ => return Err(EvalError::Malformed),
            },
            Builtin::First | Builtin::Last => {
                let first = builtin == Builtin::First;
                match receiver {
                    Ref(Value::Seq(s)) => {
                        let item = if first { s.first() } else { s.last() };
                        item.map_or(Own(Value::none()), SomeRef)
                    }
                    Own(Value::Seq(mut s)) => {
                        let item = if first { s.into_iter().next() } else { s.pop() };
                        Own(Value::Option(item.map(Box::new)))
                    }
                    _ => return Err(EvalError::Malformed),
                }
            }
            Builtin::Union | Builtin::Intersection | Builtin::Difference | Builtin::IsSubset => {
                let other = arg()?;
                let (Value::Set(a), Value::Set(b)) = (receiver.value()?, other.value()?) else {
                    return Err(EvalError::Malformed);
                };
                Own(match builtin {
                    Builtin::Union => Value::Set(a.union(b).cloned().collect()),
                    Builtin::Intersection => Value::Set(a.intersection(b).cloned().collect()),
                    Builtin::Difference => Value::Set(a.difference(b).cloned().collect()),
                    _ => Value::Bool(a.is_subset(b)),
                })
            }
            Builtin::Min | Builtin::Max => {
                let (a, b) = (receiver.as_u64()?, arg()?.as_u64()?);
                Own(Value::U64(if builtin == Builtin::Min { a.min(b) } else { a.max(b) }))
            }
        })
    }

    /// `all` stops at the first element that fails the predicate and `any` at the first that passes (like
    /// Rust's iterator methods), so an element after that point is never evaluated; `count` visits every one.
    fn quantifier(
        &mut self,
        frame: Frame,
        kind: Quantifier,
        collection: &'s Expr,
        params: &[LocalId],
        body: &'s Expr,
    ) -> Result<Val<'s>, EvalError> {
        let elements = Elements::of(self.expr(frame, collection)?)?;
        let (first, second) = match params {
            [first] => (*first, None),
            [first, second] => (*first, Some(*second)),
            _ => return Err(EvalError::Malformed),
        };
        let mut count: u64 = 0;
        for (element, value) in elements {
            let base = self.stack.len();
            self.stack.push((Slot::Local(first), element));
            match (second, value) {
                (Some(local), Some(value)) => self.stack.push((Slot::Local(local), value)),
                (None, None) => {}
                _ => {
                    self.stack.truncate(base);
                    return Err(EvalError::Malformed);
                }
            }
            let holds = self.expr(frame, body).and_then(|v| v.as_bool());
            self.stack.truncate(base);
            match (kind, holds?) {
                (Quantifier::All, false) => return Ok(Own(Value::Bool(false))),
                (Quantifier::Any, true) => return Ok(Own(Value::Bool(true))),
                (Quantifier::Count, true) => count = count.checked_add(1).ok_or(EvalError::Overflow)?,
                _ => {}
            }
        }
        Ok(Own(match kind {
            Quantifier::All => Value::Bool(true),
            Quantifier::Any => Value::Bool(false),
            Quantifier::Count => Value::U64(count),
        }))
    }
}
