//! Tests of the reference interpreter (`meerkat_dsl::interp`): one test per construct, each building a small
//! machine from spec text and asserting exact values, effects and rejections, plus property tests that random
//! inputs and states never make it panic and that every rejection leaves the state exactly as it was.
//!
//! This file holds the helpers; the tests are grouped by topic in `expressions`, `statements`, `dispatch` (with
//! all-or-nothing) and `states` (with rendering and the traffic light).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use meerkat_dsl::interp::{
    Emitted, EvalError, Fault, FaultSite, Fired, Interpreter, Message, RecoveryRejection, Refusal, Rejection, State,
    Value,
};
use meerkat_dsl::ir::{EffectId, InputId, InvariantId, Machine, PhaseId, SignalId, TransitionId, Trigger, TypeId};
use meerkat_dsl::{CheckedPackage, Code, RenderOptions, check_source};
use proptest::prelude::*;

mod dispatch;
mod expressions;
mod statements;
mod states;

// ---------------------------------------------------------------------------------------------------------------
// Helpers

fn check(text: &str) -> CheckedPackage {
    match check_source("test.machine", text) {
        Ok(package) => package,
        Err(error) => panic!("the spec does not check:\n{}", error.render(RenderOptions { width: 100, colour: false })),
    }
}

fn input(m: &Machine, name: &str) -> Trigger {
    let index = m.inputs.iter().position(|i| i.name == name).unwrap_or_else(|| panic!("no input {name}"));
    Trigger::Input(InputId(index as u32))
}

fn signal(m: &Machine, name: &str) -> Trigger {
    let index = m.signals.iter().position(|i| i.name == name).unwrap_or_else(|| panic!("no signal {name}"));
    Trigger::Signal(SignalId(index as u32))
}

fn transition(m: &Machine, name: &str) -> TransitionId {
    let index = m.transitions.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("no transition {name}"));
    TransitionId(index as u32)
}

fn phase(m: &Machine, name: &str) -> PhaseId {
    let index = m.phases.iter().position(|p| p.name == name).unwrap_or_else(|| panic!("no phase {name}"));
    PhaseId(index as u32)
}

fn field_index(m: &Machine, name: &str) -> usize {
    m.fields.iter().position(|f| f.name == name).unwrap_or_else(|| panic!("no field {name}"))
}

fn invariant(m: &Machine, name: &str) -> InvariantId {
    let index = m.invariants.iter().position(|i| i.name == name).unwrap_or_else(|| panic!("no invariant {name}"));
    InvariantId(index as u32)
}

fn type_id(m: &Machine, name: &str) -> TypeId {
    let index = m.types.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("no type {name}"));
    TypeId(index as u32)
}

fn effect(m: &Machine, name: &str) -> EffectId {
    let index = m.effects.iter().position(|e| e.name == name).unwrap_or_else(|| panic!("no effect {name}"));
    EffectId(index as u32)
}

fn u(n: u64) -> Value {
    Value::U64(n)
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn b(value: bool) -> Value {
    Value::Bool(value)
}

fn some(value: Value) -> Value {
    Value::some(value)
}

fn seq(items: impl IntoIterator<Item = Value>) -> Value {
    Value::Seq(items.into_iter().collect())
}

fn set(items: impl IntoIterator<Item = Value>) -> Value {
    Value::Set(items.into_iter().collect::<BTreeSet<_>>())
}

fn map(entries: impl IntoIterator<Item = (Value, Value)>) -> Value {
    Value::Map(entries.into_iter().collect::<BTreeMap<_, _>>())
}

/// A checked machine with its interpreter and a current state.
struct Run {
    package: CheckedPackage,
    state: State,
}

impl Run {
    fn new(text: &str) -> Self {
        let package = check(text);
        let state = Interpreter::new(&package.machines[0]).initial_state().expect("initial state");
        Run { package, state }
    }

    fn m(&self) -> &Machine {
        &self.package.machines[0]
    }

    fn interp(&self) -> Interpreter<'_> {
        Interpreter::from(&self.package.machines[0])
    }

    /// Applies an input, asserting that a rejection leaves the state unchanged.
    fn apply(&mut self, name: &str, fields: Vec<Value>) -> Result<Fired, Rejection> {
        let trigger = input(self.m(), name);
        self.apply_message(&Message { trigger, fields })
    }

    fn apply_message(&mut self, message: &Message) -> Result<Fired, Rejection> {
        let package = &self.package;
        let interp = Interpreter::new(&package.machines[0]);
        let before = self.state.clone();
        let result = interp.apply(&mut self.state, message);
        if result.is_err() {
            assert_eq!(self.state, before, "a rejection changed the state");
        }
        result
    }

    fn ok(&mut self, name: &str, fields: Vec<Value>) -> Fired {
        self.apply(name, fields).unwrap_or_else(|r| panic!("`{name}` was rejected: {r}"))
    }

    fn field(&self, name: &str) -> &Value {
        &self.state.fields[field_index(self.m(), name)]
    }

    fn set_field(&mut self, name: &str, value: Value) {
        let index = field_index(self.m(), name);
        self.state.fields[index] = value;
    }

    fn phase_name(&self) -> &str {
        &self.m().phases[self.state.phase.index()].name
    }
}

/// Evaluates `expr` of type `ty` where an `emit` stands in the body of a transition of a one-phase machine with
/// the declarations `decls`, and returns the value (or the rejection, after checking the state is unchanged).
fn eval(decls: &str, ty: &str, expr: &str) -> Result<Value, Rejection> {
    let text = format!(
        "machine T {{\n{decls}\nphases {{ initial A }}\ninput Go\neffect Out {{ value: {ty} }}\n\
         on Go from A -> stay {{ emit Out {{ value: {expr} }} }}\n}}\n"
    );
    let mut run = Run::new(&text);
    let fired = run.apply("Go", vec![])?;
    assert_eq!(fired.effects.len(), 1);
    Ok(fired.effects[0].fields[0].clone())
}

fn val(decls: &str, ty: &str, expr: &str) -> Value {
    eval(decls, ty, expr).unwrap_or_else(|r| panic!("`{expr}` was rejected: {r}"))
}

fn is_overflow(result: Result<Value, Rejection>) -> bool {
    matches!(result, Err(Rejection::ArithmeticOverflow { .. }))
}

/// Declarations with state of every shape, for the builtin tests. Types are numbered in declaration order.
const STATE: &str = r#"
    enum Lamp { Red, Amber, Green }
    record Lease { holder: String, ttl: u64 }
    newtype Sid(String)
    state {
        n: u64 = 7,
        name: String = "héllo",
        opt: Option<u64> = Some(5),
        nothing: Option<u64> = None,
        tags: Set<String> = ["b", "a"],
        m: Map<String, u64> = ["x": 1, "y": 2],
        xs: Seq<u64> = [3, 1, 2],
        empty: Seq<u64> = [],
        lease: Lease = Lease { holder: "ann", ttl: 3 },
        sid: Sid = Sid("s-1"),
        lamp: Lamp = Lamp::Amber,
        leases: Map<String, Lease> = ["k": Lease { holder: "bo", ttl: 9 }],
    }
"#;
