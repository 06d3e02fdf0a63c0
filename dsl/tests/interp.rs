//! Tests of the reference interpreter (`meerkat_dsl::interp`): one test per construct, each building a small
//! machine from spec text and asserting exact values, effects and rejections, plus property tests that random
//! inputs and states never make it panic and that every rejection leaves the state exactly as it was.

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

// ---------------------------------------------------------------------------------------------------------------
// Expressions

#[test]
fn literals_and_constructors() {
    assert_eq!(val("", "bool", "true"), b(true));
    assert_eq!(val("", "u64", "18446744073709551615"), u(u64::MAX));
    assert_eq!(val("", "String", r#""a\n\t\"b\\""#), s("a\n\t\"b\\"));
    assert_eq!(val("", "Option<u64>", "None"), Value::none());
    assert_eq!(val("", "Option<u64>", "Some(3)"), some(u(3)));
    assert_eq!(val("", "Phase", "Phase::A"), Value::Phase(PhaseId(0)));
    assert_eq!(val("", "Phase", "A"), Value::Phase(PhaseId(0)));
    let lamp = "enum Lamp { Red, Amber, Green }";
    assert_eq!(val(lamp, "Lamp", "Lamp::Green"), Value::Enum(TypeId(0), 2));
    assert_eq!(val(lamp, "Lamp", "Amber"), Value::Enum(TypeId(0), 1));
    let lease = "record Lease { holder: String, ttl: u64 }";
    assert_eq!(
        val(lease, "Lease", r#"Lease { ttl: 4, holder: "x" }"#),
        Value::Record(TypeId(0), vec![s("x"), u(4)]),
        "record fields are stored in declaration order, whatever the order written"
    );
    assert_eq!(val("newtype Sid(String)", "Sid", r#"Sid("q")"#), Value::Newtype(TypeId(0), Box::new(s("q"))));
    assert_eq!(val("", "Option<Option<u64>>", "Some(None)"), some(Value::none()));
}

#[test]
fn collection_literals() {
    assert_eq!(val("", "Seq<u64>", "[3, 1, 3]"), seq([u(3), u(1), u(3)]));
    assert_eq!(val("", "Set<u64>", "[3, 1, 3]"), set([u(1), u(3)]), "sets are ordered and deduplicated");
    assert_eq!(val("", "Seq<u64>", "[]"), seq([]));
    assert_eq!(val("", "Map<String, u64>", "[:]"), map([]));
    assert_eq!(
        val("", "Map<String, u64>", r#"["b": 2, "a": 1, "b": 3]"#),
        map([(s("a"), u(1)), (s("b"), u(3))]),
        "a repeated key keeps the value written last"
    );
    assert_eq!(val("", "Seq<Seq<u64>>", "[[1], []]"), seq([seq([u(1)]), seq([])]));
}

#[test]
fn field_reads_and_projections() {
    assert_eq!(val(STATE, "u64", "n"), u(7));
    assert_eq!(val(STATE, "u64", "self.n"), u(7));
    assert_eq!(val(STATE, "String", "lease.holder"), s("ann"));
    assert_eq!(val(STATE, "u64", "lease.ttl"), u(3));
    assert_eq!(val(STATE, "String", "sid.0"), s("s-1"));
    assert_eq!(val(STATE, "u64", r#"Lease { holder: "z", ttl: 8 }.ttl"#), u(8), "projection of a computed record");
    assert_eq!(val(STATE, "String", r#"Sid("t").0"#), s("t"), "projection of a computed newtype");
    assert_eq!(val(STATE, "Lamp", "lamp"), Value::Enum(TypeId(0), 1));
    assert_eq!(val(STATE, "Phase", "phase"), Value::Phase(PhaseId(0)));
}

#[test]
fn self_names_the_state_field_under_a_shadowing_payload_field() {
    let mut run = Run::new(
        "machine T { phases { initial A } state { n: u64 = 1 } input Go { n: u64 } effect Out { a: u64, b: u64 }
         on Go from A -> stay { emit Out { a: n, b: self.n } } }",
    );
    let fired = run.ok("Go", vec![u(40)]);
    assert_eq!(fired.effects[0].fields, vec![u(40), u(1)]);
}

#[test]
fn boolean_operators_short_circuit() {
    assert_eq!(val("", "bool", "!true"), b(false));
    assert_eq!(val("", "bool", "true && false"), b(false));
    assert_eq!(val("", "bool", "false || true"), b(true));
    assert_eq!(val("", "bool", "false && 1 / 0 == 0"), b(false), "`&&` does not evaluate its right side");
    assert_eq!(val("", "bool", "true || 1 / 0 == 0"), b(true), "`||` does not evaluate its right side");
    assert!(is_overflow(eval("", "bool", "true && 1 / 0 == 0")));
    assert!(is_overflow(eval("", "bool", "false || 1 / 0 == 0")));
}

#[test]
fn comparisons_and_equality() {
    assert_eq!(val("", "bool", "1 < 2"), b(true));
    assert_eq!(val("", "bool", "2 <= 2"), b(true));
    assert_eq!(val("", "bool", "2 > 2"), b(false));
    assert_eq!(val("", "bool", "3 >= 2"), b(true));
    assert_eq!(val("", "bool", r#""a" == "a""#), b(true));
    assert_eq!(val("", "bool", r#""a" != "b""#), b(true));
    assert_eq!(val(STATE, "bool", r#"lease == Lease { holder: "ann", ttl: 3 }"#), b(true));
    assert_eq!(val(STATE, "bool", r#"lease != Lease { holder: "ann", ttl: 4 }"#), b(true));
    assert_eq!(val(STATE, "bool", "opt == Some(5)"), b(true));
    assert_eq!(val(STATE, "bool", "Some(5) == opt"), b(true));
    assert_eq!(val(STATE, "bool", "Some(n) == Some(n)"), b(true));
    assert_eq!(val(STATE, "bool", "Some(n) == opt"), b(false));
    assert_eq!(val(STATE, "bool", "opt == Some(n)"), b(false));
    assert_eq!(val(STATE, "bool", "nothing == None"), b(true));
    assert_eq!(val(STATE, "bool", "None == opt"), b(false));
    assert_eq!(val(STATE, "bool", "Some(n) == None"), b(false));
    assert_eq!(val(STATE, "bool", "m.get(\"x\") == Some(1)"), b(true));
    assert_eq!(val(STATE, "bool", "m.get(\"x\") == m.get(\"x\")"), b(true));
    assert_eq!(val(STATE, "bool", "m.get(\"x\") == opt"), b(false));
    assert_eq!(val(STATE, "bool", "lamp == Amber"), b(true));
    assert_eq!(val(STATE, "bool", "phase == A"), b(true));
    assert_eq!(val(STATE, "bool", r#"tags == ["a", "b"]"#), b(true));
    assert_eq!(val(STATE, "bool", "xs == [3, 1, 2]"), b(true));
}

#[test]
fn arithmetic_is_checked() {
    assert_eq!(val("", "u64", "2 + 3 * 4"), u(14));
    assert_eq!(val("", "u64", "(2 + 3) * 4"), u(20));
    assert_eq!(val("", "u64", "10 - 3 - 2"), u(5));
    assert_eq!(val("", "u64", "17 / 5"), u(3));
    assert_eq!(val("", "u64", "17 % 5"), u(2));
    assert_eq!(val("", "u64", "18446744073709551614 + 1"), u(u64::MAX));
    assert!(is_overflow(eval("", "u64", "18446744073709551615 + 1")));
    assert!(is_overflow(eval("", "u64", "0 - 1")));
    assert!(is_overflow(eval("", "u64", "4294967296 * 4294967296")));
    assert!(is_overflow(eval("", "u64", "1 / 0")));
    assert!(is_overflow(eval("", "u64", "1 % 0")));
}

#[test]
fn if_if_let_and_match_expressions() {
    assert_eq!(val(STATE, "u64", "if n > 5 { 1 } else { 2 }"), u(1));
    assert_eq!(val(STATE, "u64", "if n > 50 { 1 } else if n > 5 { 2 } else { 3 }"), u(2));
    assert_eq!(val(STATE, "u64", "if true { 1 } else { 1 / 0 }"), u(1), "only the branch taken is evaluated");
    assert_eq!(val(STATE, "u64", "if let Some(v) = opt { v + 1 } else { 0 }"), u(6));
    assert_eq!(val(STATE, "u64", "if let Some(v) = nothing { v } else { 42 }"), u(42));
    assert_eq!(val(STATE, "u64", r#"if let Some(l) = leases.get("k") { l.ttl } else { 0 }"#), u(9));
    assert_eq!(val(STATE, "u64", "if let Some(v) = Some(n * 2) { v } else { 0 }"), u(14));
    assert_eq!(val(STATE, "u64", "match lamp { Red | Amber => 1, Green => 2 }"), u(1));
    assert_eq!(val(STATE, "u64", "match lamp { Red => 1, _ => 2 }"), u(2));
    assert_eq!(val(STATE, "u64", "match opt { Some(v) => v * 10, None => 0 }"), u(50));
    assert_eq!(val(STATE, "u64", "match nothing { Some(_) => 1, None => 0 }"), u(0));
    assert_eq!(val(STATE, "u64", "match n > 3 { true => 1, false => 0 }"), u(1));
    assert_eq!(val(STATE, "u64", "match phase { A => 7 }"), u(7));
    assert_eq!(val(STATE, "u64", "match Lamp::Green { Lamp::Red => 1, Lamp::Amber => 2, Lamp::Green => 3 }"), u(3));
}

#[test]
fn helpers_and_named_guards() {
    let decls = "
        state { n: u64 = 4, flag: bool = true }
        fn double(x: u64) -> u64 { x * 2 }
        fn add(x: u64, y: u64) -> u64 { x + y }
        fn quad_plus_n(x: u64) -> u64 { double(double(x)) + n }
        fn first_some(a: Option<u64>, d: u64) -> u64 { if let Some(v) = a { v } else { d } }
        fn pick(xs: Seq<u64>) -> u64 { xs.count(|x| x > n) }
        guard big = n > 3
        guard both = big && flag
    ";
    assert_eq!(val(decls, "u64", "double(21)"), u(42));
    assert_eq!(val(decls, "u64", "add(1, 2)"), u(3));
    assert_eq!(val(decls, "u64", "quad_plus_n(3)"), u(16), "helpers call helpers and read state");
    assert_eq!(val(decls, "u64", "first_some(Some(9), 1) + first_some(None, 1)"), u(10));
    assert_eq!(val(decls, "u64", "pick([1, 5, 9])"), u(2));
    assert_eq!(val(decls, "bool", "big"), b(true));
    assert_eq!(val(decls, "bool", "!big"), b(false));
    assert_eq!(val(decls, "bool", "both"), b(true));
    assert!(is_overflow(eval(decls, "u64", "double(9223372036854775808)")));
}

#[test]
fn helper_locals_do_not_leak_between_frames() {
    // The same local id (0) is bound in the caller's closure and in the helper's pattern.
    let decls = "
        fn inner(o: Option<u64>) -> u64 { if let Some(v) = o { v } else { 100 } }
        fn outer(xs: Seq<u64>) -> u64 { xs.count(|x| inner(Some(x + 1)) > x) }
    ";
    assert_eq!(val(decls, "u64", "outer([1, 2, 3])"), u(3));
    assert_eq!(val(decls, "u64", "[4, 5].count(|x| inner(None) > x)"), u(2));
}

#[test]
fn option_builtins() {
    assert_eq!(val(STATE, "bool", "opt.is_some()"), b(true));
    assert_eq!(val(STATE, "bool", "nothing.is_some()"), b(false));
    assert_eq!(val(STATE, "bool", "nothing.is_none()"), b(true));
    assert_eq!(val(STATE, "bool", r#"m.get("x").is_some()"#), b(true));
    assert_eq!(val(STATE, "u64", "opt.unwrap_or(0)"), u(5));
    assert_eq!(val(STATE, "u64", "nothing.unwrap_or(9)"), u(9));
    assert_eq!(val(STATE, "u64", r#"m.get("y").unwrap_or(0)"#), u(2));
    assert_eq!(val(STATE, "u64", r#"m.get("nope").unwrap_or(0)"#), u(0));
    assert_eq!(val(STATE, "bool", "opt.contains(5)"), b(true));
    assert_eq!(val(STATE, "bool", "opt.contains(6)"), b(false));
    assert_eq!(val(STATE, "bool", "nothing.contains(5)"), b(false));
    assert_eq!(val(STATE, "bool", r#"m.get("x").contains(1)"#), b(true));
}

#[test]
fn method_arguments_are_evaluated_eagerly() {
    assert!(is_overflow(eval(STATE, "u64", "opt.unwrap_or(1 / 0)")), "the default is evaluated even for Some");
    assert!(is_overflow(eval(STATE, "bool", "opt.contains(0 - 1)")));
}

#[test]
fn length_emptiness_and_membership() {
    assert_eq!(val(STATE, "u64", "name.len()"), u(6), "string length is in bytes");
    assert_eq!(val(STATE, "u64", "tags.len()"), u(2));
    assert_eq!(val(STATE, "u64", "m.len()"), u(2));
    assert_eq!(val(STATE, "u64", "xs.len()"), u(3));
    assert_eq!(val(STATE, "u64", r#""".len()"#), u(0));
    assert_eq!(val(STATE, "bool", "name.is_empty()"), b(false));
    assert_eq!(val(STATE, "bool", r#""".is_empty()"#), b(true));
    assert_eq!(val(STATE, "bool", "empty.is_empty()"), b(true));
    assert_eq!(val(STATE, "bool", "tags.is_empty()"), b(false));
    assert_eq!(val(STATE, "bool", "m.is_empty()"), b(false));
    assert_eq!(val(STATE, "bool", r#"tags.contains("a")"#), b(true));
    assert_eq!(val(STATE, "bool", r#"tags.contains("c")"#), b(false));
    assert_eq!(val(STATE, "bool", "xs.contains(2)"), b(true));
    assert_eq!(val(STATE, "bool", "xs.contains(9)"), b(false));
    assert_eq!(val(STATE, "bool", "[Some(1), None].contains(opt)"), b(false));
    assert_eq!(val(STATE, "bool", "[Some(5), None].contains(Some(opt.unwrap_or(0)))"), b(true));
}

#[test]
fn map_builtins() {
    assert_eq!(val(STATE, "bool", r#"m.contains_key("x")"#), b(true));
    assert_eq!(val(STATE, "bool", r#"m.contains_key("z")"#), b(false));
    assert_eq!(val(STATE, "Option<u64>", r#"m.get("y")"#), some(u(2)));
    assert_eq!(val(STATE, "Option<u64>", r#"m.get("z")"#), Value::none());
    assert_eq!(val(STATE, "Option<u64>", r#"["q": 4].get("q")"#), some(u(4)), "get on a computed map");
    assert_eq!(val(STATE, "Option<u64>", r#"["q": 4].get("r")"#), Value::none());
    assert_eq!(val(STATE, "Set<String>", "m.keys()"), set([s("x"), s("y")]));
    assert_eq!(val(STATE, "Seq<u64>", r#"["b": 1, "a": 2].values()"#), seq([u(2), u(1)]), "values in key order");
    assert_eq!(val(STATE, "Seq<u64>", "m.values()"), seq([u(1), u(2)]));
    assert_eq!(val(STATE, "Set<String>", r#"["b": 1, "a": 2].keys()"#), set([s("a"), s("b")]));
}

#[test]
fn seq_builtins() {
    assert_eq!(val(STATE, "Option<u64>", "xs.get(0)"), some(u(3)));
    assert_eq!(val(STATE, "Option<u64>", "xs.get(2)"), some(u(2)));
    assert_eq!(val(STATE, "Option<u64>", "xs.get(3)"), Value::none(), "out of range is None");
    assert_eq!(val(STATE, "Option<u64>", "xs.get(18446744073709551615)"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "[7, 8].get(1)"), some(u(8)));
    assert_eq!(val(STATE, "Option<u64>", "[7, 8].get(2)"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "xs.first()"), some(u(3)));
    assert_eq!(val(STATE, "Option<u64>", "xs.last()"), some(u(2)));
    assert_eq!(val(STATE, "Option<u64>", "empty.first()"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "empty.last()"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "[4, 5].first()"), some(u(4)));
    assert_eq!(val(STATE, "Option<u64>", "[4, 5].last()"), some(u(5)));
    assert_eq!(val(STATE, "bool", "xs.first() == Some(3)"), b(true));
}

#[test]
fn set_algebra_and_min_max() {
    let decls = "state { a: Set<u64> = [1, 2, 3], c: Set<u64> = [2, 3] }";
    assert_eq!(val(decls, "Set<u64>", "a.union([5, 1])"), set([u(1), u(2), u(3), u(5)]));
    assert_eq!(val(decls, "Set<u64>", "a.intersection([3, 4])"), set([u(3)]));
    assert_eq!(val(decls, "Set<u64>", "a.difference(c)"), set([u(1)]));
    assert_eq!(val(decls, "bool", "c.is_subset(a)"), b(true));
    assert_eq!(val(decls, "bool", "a.is_subset(c)"), b(false));
    assert_eq!(val(decls, "u64", "3.min(5)"), u(3));
    assert_eq!(val(decls, "u64", "3.max(5)"), u(5));
}

#[test]
fn quantifiers() {
    assert_eq!(val(STATE, "bool", "xs.all(|x| x > 0)"), b(true));
    assert_eq!(val(STATE, "bool", "xs.all(|x| x > 1)"), b(false));
    assert_eq!(val(STATE, "bool", "empty.all(|x| x > 100)"), b(true), "all is true on an empty collection");
    assert_eq!(val(STATE, "bool", "xs.any(|x| x == 2)"), b(true));
    assert_eq!(val(STATE, "bool", "empty.any(|x| x == 2)"), b(false), "any is false on an empty collection");
    assert_eq!(val(STATE, "u64", "xs.count(|x| x >= 2)"), u(2));
    assert_eq!(val(STATE, "u64", "empty.count(|x| true)"), u(0));
    assert_eq!(val(STATE, "bool", r#"tags.any(|t| t == "b")"#), b(true));
    assert_eq!(val(STATE, "u64", "tags.count(|t| t.len() == 1)"), u(2));
    assert_eq!(val(STATE, "bool", r#"m.all(|k, v| k.len() == 1 && v < 3)"#), b(true));
    assert_eq!(val(STATE, "u64", r#"m.count(|k, v| k == "y" || v == 1)"#), u(2));
    assert_eq!(val(STATE, "bool", "leases.any(|k, l| l.ttl == 9)"), b(true));
    assert_eq!(val(STATE, "u64", "m.keys().count(|k| k != \"x\")"), u(1), "over a computed set");
    assert_eq!(val(STATE, "bool", "m.values().all(|v| v > 0)"), b(true), "over a computed seq");
    assert_eq!(val(STATE, "u64", r#"["a": 1, "b": 5].count(|k, v| v > 2)"#), u(1), "over a computed map");
    assert_eq!(val(STATE, "u64", "xs.count(|x| xs.any(|y| y > x))"), u(2), "nested closures");
    assert_eq!(val(STATE, "u64", "xs.count(|x| x > n - 6)"), u(2), "closures read state");
}

#[test]
fn all_and_any_stop_at_the_deciding_element() {
    assert_eq!(val("", "bool", "[5, 0].all(|x| 10 / x > 5)"), b(false), "stops at 5, never divides by 0");
    assert!(is_overflow(eval("", "bool", "[1, 0].all(|x| 10 / x > 5)")));
    assert_eq!(val("", "bool", "[1, 0].any(|x| 10 / x > 5)"), b(true), "stops at 1");
    assert!(is_overflow(eval("", "bool", "[5, 0].any(|x| 10 / x > 5)")));
    assert!(is_overflow(eval("", "u64", "[1, 0].count(|x| 10 / x > 5)")), "count visits every element");
}

// ---------------------------------------------------------------------------------------------------------------
// Statements

#[test]
fn let_assign_projections_and_compound_assignment() {
    let mut run = Run::new(
        r#"machine S {
            record Lease { holder: String, ttl: u64 }
            newtype Sid(String)
            record Outer { lease: Lease, id: Sid }
            phases { initial A, B }
            state {
                n: u64 = 0,
                lease: Lease = Lease { holder: "ann", ttl: 1 },
                sid: Sid = Sid("x"),
                outer: Outer = Outer { lease: Lease { holder: "o", ttl: 0 }, id: Sid("i") },
            }
            input Run { k: u64 }
            effect Out { value: u64 }
            on Run from A -> B {
                let a = k + 1;
                n = a;
                n += 10;
                n -= 1;
                lease.ttl = n;
                lease.holder = "bob";
                sid.0 = "y";
                outer.lease.ttl = lease.ttl + 1;
                outer.id.0 = sid.0;
                let b = n * 2;
                emit Out { value: b }
            }
        }"#,
    );
    let fired = run.ok("Run", vec![u(5)]);
    let m = run.m();
    let (lease, sid, outer) = (type_id(m, "Lease"), type_id(m, "Sid"), type_id(m, "Outer"));
    assert_eq!(fired.effects[0].fields, vec![u(30)]);
    assert_eq!(run.field("n"), &u(15));
    assert_eq!(run.field("lease"), &Value::Record(lease, vec![s("bob"), u(15)]));
    assert_eq!(run.field("sid"), &Value::Newtype(sid, Box::new(s("y"))));
    assert_eq!(
        run.field("outer"),
        &Value::Record(outer, vec![Value::Record(lease, vec![s("o"), u(16)]), Value::Newtype(sid, Box::new(s("y")))])
    );
    assert_eq!(run.phase_name(), "B");
}

#[test]
fn whole_values_are_replaced_by_assignment() {
    let mut run = Run::new(
        r#"machine S {
            phases { initial A }
            state { tags: Set<String> = ["a"], o: Option<u64> = None }
            input Go { t: String }
            on Go from A -> stay { tags = [t, "z"]; o = Some(tags.len()) }
        }"#,
    );
    run.ok("Go", vec![s("q")]);
    assert_eq!(run.field("tags"), &set([s("q"), s("z")]));
    assert_eq!(run.field("o"), &some(u(2)), "each statement sees the writes before it");
}

#[test]
fn collection_statements() {
    let mut run = Run::new(
        r#"machine C {
            phases { initial A }
            state { set: Set<u64> = [1, 2], map: Map<String, u64> = ["a": 1], seq: Seq<u64> = [1, 2, 3] }
            input SetOps
            input MapOps
            input SeqOps
            input Clear
            input Drain
            on SetOps from A -> stay { set.insert(5); set.insert(1); set.remove(2); set.remove(9) }
            on MapOps from A -> stay { map.insert("b", 2); map.insert("a", 7); map.remove("zz"); map.remove("b") }
            on SeqOps from A -> stay { seq.push(4); seq.pop_front(); seq.pop(); seq.push(seq.len()) }
            on Clear from A -> stay { set.clear(); map.clear(); seq.clear() }
            on Drain from A -> stay { seq.pop(); seq.pop_front() }
        }"#,
    );
    run.ok("SetOps", vec![]);
    assert_eq!(run.field("set"), &set([u(1), u(5)]));
    run.ok("MapOps", vec![]);
    assert_eq!(run.field("map"), &map([(s("a"), u(7))]), "insert replaces");
    run.ok("SeqOps", vec![]);
    assert_eq!(run.field("seq"), &seq([u(2), u(3), u(2)]));
    run.ok("Clear", vec![]);
    assert_eq!(run.field("set"), &set([]));
    assert_eq!(run.field("map"), &map([]));
    assert_eq!(run.field("seq"), &seq([]));
    run.ok("Drain", vec![]);
    assert_eq!(run.field("seq"), &seq([]), "pop and pop_front on an empty seq do nothing");
}

#[test]
fn collection_statements_through_projections() {
    let mut run = Run::new(
        r#"machine C {
            record Bag { items: Set<u64>, log: Seq<String> }
            newtype Names(Map<String, u64>)
            phases { initial A }
            state { bag: Bag = Bag { items: [], log: [] }, names: Names = Names([:]) }
            input Put { x: u64 }
            on Put from A -> stay { bag.items.insert(x); bag.log.push("put"); names.0.insert("n", x) }
        }"#,
    );
    run.ok("Put", vec![u(3)]);
    run.ok("Put", vec![u(1)]);
    let m = run.m();
    let (bag, names) = (type_id(m, "Bag"), type_id(m, "Names"));
    assert_eq!(run.field("bag"), &Value::Record(bag, vec![set([u(1), u(3)]), seq([s("put"), s("put")])]));
    assert_eq!(run.field("names"), &Value::Newtype(names, Box::new(map([(s("n"), u(1))]))));
}

#[test]
fn if_and_if_let_statements() {
    let mut run = Run::new(
        r#"machine I {
            phases { initial A }
            state { out: u64 = 0, opt: Option<u64> = None, n: u64 = 0 }
            input Classify { v: u64 }
            input Store { v: Option<u64> }
            on Classify from A -> stay {
                if v < 10 { out = 1 } else if v < 100 { out = 2 } else { out = 3 }
            }
            on Store from A -> stay {
                if let Some(x) = v { opt = Some(x + 1); n = x } else { n = 999 }
            }
        }"#,
    );
    run.ok("Classify", vec![u(5)]);
    assert_eq!(run.field("out"), &u(1));
    run.ok("Classify", vec![u(50)]);
    assert_eq!(run.field("out"), &u(2));
    run.ok("Classify", vec![u(500)]);
    assert_eq!(run.field("out"), &u(3));
    run.ok("Store", vec![some(u(4))]);
    assert_eq!((run.field("opt"), run.field("n")), (&some(u(5)), &u(4)));
    run.ok("Store", vec![Value::none()]);
    assert_eq!((run.field("opt"), run.field("n")), (&some(u(5)), &u(999)));
}

#[test]
fn if_let_statement_binds_from_state() {
    let mut run = Run::new(
        r#"machine I {
            record Lease { holder: String, ttl: u64 }
            phases { initial A }
            state { leases: Map<String, Lease> = ["k": Lease { holder: "h", ttl: 2 }], seen: u64 = 0 }
            input Touch { key: String }
            effect Holder { who: String }
            on Touch from A -> stay {
                if let Some(lease) = leases.get(key) {
                    leases.remove(key);
                    seen = lease.ttl;
                    emit Holder { who: lease.holder }
                }
            }
        }"#,
    );
    let fired = run.ok("Touch", vec![s("k")]);
    assert_eq!(fired.effects[0].fields, vec![s("h")], "the binding outlives the removal of what it was bound to");
    assert_eq!(run.field("seen"), &u(2));
    assert_eq!(run.field("leases"), &map([]));
    let fired = run.ok("Touch", vec![s("k")]);
    assert!(fired.effects.is_empty());
}

#[test]
fn emit_defaults_and_shorthand() {
    let mut run = Run::new(
        r#"machine E {
            phases { initial A, B }
            state { n: u64 = 0 }
            input Go { who: String }
            effect Snap { phase: Phase = phase, n: u64 = n, who: String }
            effect Ping
            on Go from A -> B {
                emit Snap { who };
                n += 1;
                emit Snap { who: "x" };
                emit Ping;
                emit Snap { n: 100, who }
            }
        }"#,
    );
    let fired = run.ok("Go", vec![s("me")]);
    let m = run.m();
    let (snap, ping, b_phase) = (effect(m, "Snap"), effect(m, "Ping"), Value::Phase(phase(m, "B")));
    assert_eq!(
        fired.effects,
        vec![
            Emitted { effect: snap, fields: vec![b_phase.clone(), u(0), s("me")] },
            Emitted { effect: snap, fields: vec![b_phase.clone(), u(1), s("x")] },
            Emitted { effect: ping, fields: vec![] },
            Emitted { effect: snap, fields: vec![b_phase, u(100), s("me")] },
        ],
        "defaults are evaluated where the emit stands, after the phase is set"
    );
}

#[test]
fn source_is_the_phase_fired_from_and_phase_is_the_target() {
    let mut run = Run::new(
        r#"machine P {
            phases { initial A, B, C }
            input Go
            effect Where { src: Phase, now: Phase, guard_saw: bool }
            fn here() -> Phase { phase }
            transition Move on Go from A -> B when phase == A && source == A {
                emit Where { src: source, now: phase, guard_saw: here() == B }
            }
            transition Next on Go from B -> C { emit Where { src: source, now: here(), guard_saw: true } }
            transition Stay on Go from C -> stay { emit Where { src: source, now: phase, guard_saw: true } }
        }"#,
    );
    let m = run.m();
    let (a, b_, c) = (Value::Phase(phase(m, "A")), Value::Phase(phase(m, "B")), Value::Phase(phase(m, "C")));
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.effects[0].fields, vec![a.clone(), b_.clone(), b(true)], "guards see the pre-state phase");
    assert_eq!((fired.source, fired.target), (PhaseId(0), PhaseId(1)));
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.effects[0].fields, vec![b_, c.clone(), b(true)], "helpers read the current phase");
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.effects[0].fields, vec![c.clone(), c, b(true)]);
    assert_eq!((fired.source, fired.target), (PhaseId(2), PhaseId(2)));
}

#[test]
fn computed_targets_read_the_pre_state_and_fail_without_a_trace() {
    let mut run = Run::new(
        r#"machine T {
            phases { initial A, B, C }
            state { n: u64 = 0, big: u64 = 18446744073709551615 }
            input Go { to_c: bool }
            input Spin
            effect Where { now: Phase }
            fn after(p: Phase) -> Phase { match p { A => B, B => C, C => A } }
            /// The target reads `n` before the body writes it, and `phase` is still the source phase there.
            on Go from A, B, C -> if to_c { C } else if n == 0 { after(phase) } else { A } {
                n += 1;
                emit Where { now: phase }
            }
            on Spin from any -> if big + n > 0 { A } else { B } { n += 1 }
        }"#,
    );
    let m = run.m();
    let (a, b_, c) = (phase(m, "A"), phase(m, "B"), phase(m, "C"));
    let fired = run.ok("Go", vec![b(false)]);
    assert_eq!((fired.source, fired.target), (a, b_), "n was 0 before the body incremented it");
    assert_eq!(fired.effects[0].fields, vec![Value::Phase(b_)], "the body sees the target phase");
    let fired = run.ok("Go", vec![b(true)]);
    assert_eq!((fired.source, fired.target), (b_, c), "payload fields are in scope");
    let fired = run.ok("Go", vec![b(false)]);
    assert_eq!((fired.source, fired.target), (c, a));
    // An overflow in the target rejects the input before the body runs; `apply` checks the state is unchanged.
    assert!(matches!(run.apply("Spin", vec![]), Err(Rejection::ArithmeticOverflow { .. })));
    assert_eq!(run.phase_name(), "A");
}

// ---------------------------------------------------------------------------------------------------------------
// Dispatch

const DISPATCH: &str = r#"machine D {
    phases { initial A, terminal Done }
    state { a: bool = true, b: bool = true, c: bool = true, n: u64 = 0, z: u64 = 0 }
    input Go
    input Finish
    transition One on Go from A -> stay when a { n = 1 }
    transition Two on Go from A -> stay when b { n = 2 }
    transition Three on Go from A -> stay when c { n = 3 }
    transition Fallback on Go from A -> stay otherwise { n = 4 }
    on Finish from A -> Done
}"#;

#[test]
fn exactly_one_passing_candidate_fires() {
    let mut run = Run::new(DISPATCH);
    run.set_field("a", b(false));
    run.set_field("b", b(false));
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "Three"));
    assert_eq!(run.field("n"), &u(3));
}

#[test]
fn ambiguity_names_the_first_two_passing_candidates() {
    let mut run = Run::new(DISPATCH);
    let m = run.m();
    let (a, one, two, three) = (phase(m, "A"), transition(m, "One"), transition(m, "Two"), transition(m, "Three"));
    let go = input(m, "Go");
    assert_eq!(
        run.apply("Go", vec![]),
        Err(Rejection::AmbiguousTransition { phase: a, trigger: go, first: one, second: two })
    );
    run.set_field("b", b(false));
    assert_eq!(
        run.apply("Go", vec![]),
        Err(Rejection::AmbiguousTransition { phase: a, trigger: go, first: one, second: three })
    );
}

#[test]
fn otherwise_fires_only_when_no_candidate_passes() {
    let mut run = Run::new(DISPATCH);
    for name in ["a", "b", "c"] {
        run.set_field(name, b(false));
    }
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "Fallback"));
    assert_eq!(run.field("n"), &u(4));
}

#[test]
fn no_candidate_is_no_matching_transition() {
    let mut run = Run::new(DISPATCH);
    run.ok("Finish", vec![]);
    let (done, go) = (phase(run.m(), "Done"), input(run.m(), "Go"));
    assert_eq!(run.apply("Go", vec![]), Err(Rejection::NoMatchingTransition { phase: done, trigger: go }));
    assert_eq!(
        run.apply("Finish", vec![]),
        Err(Rejection::NoMatchingTransition { phase: done, trigger: input(run.m(), "Finish") })
    );
}

#[test]
fn guard_rejection_lists_every_candidate_with_its_first_failing_guard() {
    let mut run = Run::new(
        r#"machine G {
            phases { initial A }
            state { count: u64 = 5, flag: bool = false, resting: bool = true }
            guard ready = flag
            guard idle = resting
            input Go
            transition First on Go from A -> stay when count   <
                3 { }
            transition Second on Go from A -> stay when count > 1, ready { }
            transition Third on Go from A -> stay when !idle { }
        }"#,
    );
    let m = run.m();
    let expected = Rejection::GuardRejected {
        phase: phase(m, "A"),
        trigger: input(m, "Go"),
        rejections: vec![
            (transition(m, "First"), "count < 3".to_string()),
            (transition(m, "Second"), "ready".to_string()),
            (transition(m, "Third"), "!idle".to_string()),
        ],
    };
    assert_eq!(run.apply("Go", vec![]), Err(expected));
}

#[test]
fn an_overflowing_guard_rejects_with_its_candidate() {
    let mut run = Run::new(
        r#"machine O {
            phases { initial A }
            state { n: u64 = 18446744073709551615, z: u64 = 0, a: bool = true, b: bool = true }
            input Go
            input Div
            transition Ok on Go from A -> stay when a { }
            transition Bad on Go from A -> stay when n + 1 > 0 { }
            transition P1 on Div from A -> stay when a { }
            transition P2 on Div from A -> stay when b, n > 0 { }
            transition Boom on Div from A -> stay when 10 / z > 1 { }
        }"#,
    );
    let m = run.m();
    let (bad, boom) = (transition(m, "Bad"), transition(m, "Boom"));
    assert_eq!(run.apply("Go", vec![]), Err(Rejection::ArithmeticOverflow { transition: bad }));
    assert_eq!(
        run.apply("Div", vec![]),
        Err(Rejection::ArithmeticOverflow { transition: boom }),
        "every candidate's guards are evaluated before ambiguity is decided"
    );
}

#[test]
fn guards_stop_at_the_first_false_one() {
    let mut run = Run::new(
        r#"machine O {
            phases { initial A }
            state { z: u64 = 0 }
            input Go
            transition Safe on Go from A -> stay when z > 0, 10 / z > 1 { }
            transition Fallback on Go from A -> stay otherwise { }
        }"#,
    );
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "Fallback"));
}

#[test]
fn signals_dispatch_like_inputs() {
    let package =
        check("machine S { phases { initial A, terminal Off } signal Cut { why: String } on Cut from any -> Off }");
    let m = &package.machines[0];
    let interp = Interpreter::new(m);
    let mut state = interp.initial_state().unwrap();
    let cut = Message { trigger: signal(m, "Cut"), fields: vec![s("storm")] };
    let fired = interp.apply(&mut state, &cut).unwrap();
    assert_eq!(fired.target, phase(m, "Off"));
    assert_eq!(
        interp.apply(&mut state, &cut),
        Err(Rejection::NoMatchingTransition { phase: phase(m, "Off"), trigger: cut.trigger })
    );
}

// ---------------------------------------------------------------------------------------------------------------
// All or nothing

const OVERFLOW: &str = r#"machine O {
    phases { initial A, B }
    state { n: u64 = 18446744073709551615, m: u64 = 0, log: Seq<u64> = [] }
    input Inc
    input Dec
    input Div
    input Rem
    input Emit
    effect Out { value: u64 }
    on Inc from A -> B { log.push(1); m = 5; n += 1 }
    on Dec from A -> B { log.push(1); m -= 1 }
    on Div from A -> B { log.push(1); m = 10 / m }
    on Rem from A -> B { log.push(1); m = 10 % m }
    on Emit from A -> B { emit Out { value: 1 }; log.push(1); emit Out { value: n + 1 } }
}"#;

#[test]
fn overflow_in_a_body_leaves_the_state_unchanged() {
    let mut run = Run::new(OVERFLOW);
    let initial = run.state.clone();
    for name in ["Inc", "Dec", "Div", "Rem", "Emit"] {
        let id = transition(run.m(), name);
        assert_eq!(run.apply(name, vec![]), Err(Rejection::ArithmeticOverflow { transition: id }), "{name}");
        assert_eq!(run.state, initial, "{name}");
        assert_eq!(run.phase_name(), "A");
    }
}

#[test]
fn a_broken_invariant_rejects_and_restores_the_state() {
    let mut run = Run::new(
        r#"machine V {
            phases { initial A, B }
            state { n: u64 = 0, log: Seq<u64> = [] }
            invariant small = n < 10
            invariant tiny = n < 5
            invariant no_overflow = n * 2 >= n
            input Add { k: u64 }
            effect Added { n: u64 }
            on Add from A -> B { log.push(k); n += k; emit Added { n } }
        }"#,
    );
    let m = run.m();
    let (add, small, tiny, no_overflow) =
        (transition(m, "Add"), invariant(m, "small"), invariant(m, "tiny"), invariant(m, "no_overflow"));
    assert_eq!(run.apply("Add", vec![u(7)]), Err(Rejection::InvariantViolated { transition: add, invariant: tiny }));
    assert_eq!(
        run.apply("Add", vec![u(20)]),
        Err(Rejection::InvariantViolated { transition: add, invariant: small }),
        "the first failing invariant in declaration order"
    );
    assert_eq!(run.phase_name(), "A");
    let fired = run.ok("Add", vec![u(3)]);
    assert_eq!(fired.effects[0].fields, vec![u(3)]);
    assert_eq!(run.phase_name(), "B");
    assert_eq!(run.field("log"), &seq([u(3)]));

    // An invariant that fails to evaluate does not hold.
    let interp = run.interp();
    let mut state = interp.initial_state().unwrap();
    state.fields[field_index(run.m(), "n")] = u(u64::MAX / 2 + 1);
    assert_eq!(interp.eval_invariant(&state, no_overflow), Err(EvalError::Overflow));
    assert_eq!(interp.check_invariants(&state), Err(small));
}

#[test]
fn apply_explained_names_the_expression_behind_an_evaluation_error() {
    let package = check(
        r#"machine M {
            phases { initial A, B }
            state { d: u64 = 0, n: u64 = 1 }
            input Guarded { k: u64 }
            input Targeted { k: u64 }
            input Bodied { k: u64 }
            input Checked { k: u64 }
            input Set { k: u64 }
            invariant ratio = n <= 1_000 || d != 7
            invariant defined = d != 5 || n / (d - 5) == 0
            on Guarded from A -> stay when k > 0, n / (k - 1) >= 1
            on Targeted from A -> (if 10 / k > 1 { B } else { A })
            on Bodied from A -> stay { n = n - k }
            on Checked from A -> stay { d = k }
            on Set from A, B -> stay { n = k }
        }"#,
    );
    let m = &package.machines[0];
    let interp = Interpreter::new(m);
    let initial = interp.initial_state().unwrap();
    let message = |name: &str, k: u64| Message { trigger: input(m, name), fields: vec![Value::U64(k)] };
    // The refusal of `apply_explained` from `state`, after checking that its rejection is the one `apply`
    // returns and that both leave the state untouched.
    let refuse = |state: &State, message: Message| -> Refusal {
        let (mut explained, mut plain) = (state.clone(), state.clone());
        let refusal = interp.apply_explained(&mut explained, &message).expect_err("rejected");
        assert_eq!(interp.apply(&mut plain, &message), Err(refusal.rejection.clone()));
        assert_eq!((&explained, &plain), (state, state));
        refusal
    };
    let fault = |site: FaultSite, error: EvalError| Some(Fault { site, error });
    let (guarded, targeted, bodied, checked) =
        (transition(m, "Guarded"), transition(m, "Targeted"), transition(m, "Bodied"), transition(m, "Checked"));

    // `k > 0` is false first, so the division is never evaluated: a plain guard rejection.
    assert_eq!(refuse(&initial, message("Guarded", 0)).fault, None);
    assert_eq!(
        refuse(&initial, message("Guarded", 1)),
        Refusal {
            rejection: Rejection::ArithmeticOverflow { transition: guarded },
            fault: fault(FaultSite::Guard { transition: guarded, guard: 1 }, EvalError::DivisionByZero),
        }
    );
    assert_eq!(
        refuse(&initial, message("Targeted", 0)),
        Refusal {
            rejection: Rejection::ArithmeticOverflow { transition: targeted },
            fault: fault(FaultSite::Target { transition: targeted }, EvalError::DivisionByZero),
        }
    );
    assert_eq!(
        refuse(&initial, message("Bodied", 2)),
        Refusal {
            rejection: Rejection::ArithmeticOverflow { transition: bodied },
            fault: fault(FaultSite::Body { transition: bodied }, EvalError::Overflow),
        }
    );
    let defined = invariant(m, "defined");
    assert_eq!(
        refuse(&initial, message("Checked", 5)),
        Refusal {
            rejection: Rejection::InvariantViolated { transition: checked, invariant: defined },
            fault: fault(FaultSite::Invariant { transition: checked, invariant: defined }, EvalError::DivisionByZero),
        }
    );
    // An invariant that is false is a rejection without a fault.
    let mut big = initial.clone();
    interp.apply(&mut big, &message("Set", 100_000)).expect("any n is fine while d != 7");
    let ratio = invariant(m, "ratio");
    assert_eq!(
        refuse(&big, message("Checked", 7)),
        Refusal { rejection: Rejection::InvariantViolated { transition: checked, invariant: ratio }, fault: None }
    );
    // Rejections that evaluate nothing wrong carry no fault either.
    let mut in_b = initial.clone();
    interp.apply(&mut in_b, &message("Targeted", 1)).expect("10 / 1 > 1 leads to B");
    assert_eq!(
        refuse(&in_b, message("Guarded", 2)),
        Refusal {
            rejection: Rejection::NoMatchingTransition { phase: phase(m, "B"), trigger: input(m, "Guarded") },
            fault: None
        }
    );
}

#[test]
fn invalid_messages_are_rejected() {
    let mut run = Run::new(
        r#"machine M {
            phases { initial A }
            input Add { k: u64, tag: Option<String> }
            on Add from A -> stay
        }"#,
    );
    let add = input(run.m(), "Add");
    let invalid = |result: Result<Fired, Rejection>| matches!(result, Err(Rejection::InvalidMessage { .. }));
    assert!(invalid(run.apply("Add", vec![u(1)])));
    assert!(invalid(run.apply("Add", vec![s("1"), Value::none()])));
    assert!(invalid(run.apply("Add", vec![u(1), some(u(1))])));
    assert!(invalid(run.apply_message(&Message { trigger: Trigger::Input(InputId(9)), fields: vec![] })));
    assert!(invalid(run.apply_message(&Message { trigger: Trigger::Signal(SignalId(0)), fields: vec![] })));
    assert!(run.apply_message(&Message { trigger: add, fields: vec![u(1), some(s("t"))] }).is_ok());
}

#[test]
fn a_state_of_the_wrong_shape_is_an_error_not_a_panic() {
    let mut run = Run::new(OVERFLOW);
    run.state.fields.clear();
    let inc = transition(run.m(), "Inc");
    assert_eq!(run.apply("Inc", vec![]), Err(Rejection::Malformed { transition: inc }));
    run.state.phase = PhaseId(99);
    assert!(matches!(run.apply("Inc", vec![]), Err(Rejection::NoMatchingTransition { .. })));
}

// ---------------------------------------------------------------------------------------------------------------
// States, constants, invariants, recovery

#[test]
fn initial_state_and_constants() {
    let package = check(
        r#"machine K {
            enum Lamp { Red, Green }
            record Lease { holder: String, ttl: u64 }
            phases { Off, initial On }
            state {
                n: u64 = 2 * 3 + 1,
                lamp: Lamp = Green,
                lease: Option<Lease> = Some(Lease { holder: "a", ttl: 1 }),
                tags: Set<String> = ["b", "a", "b"],
            }
            input Set { n: u64, name: String }
            on Set from On -> stay
            model {
                domain u64 = 0..=2
                domain String = ["x", "y"]
            }
        }"#,
    );
    let m = &package.machines[0];
    let interp = Interpreter::from(m);
    let state = interp.initial_state().unwrap();
    let (lamp, lease) = (type_id(m, "Lamp"), type_id(m, "Lease"));
    assert_eq!(
        state,
        State {
            phase: phase(m, "On"),
            fields: vec![
                u(7),
                Value::Enum(lamp, 1),
                some(Value::Record(lease, vec![s("a"), u(1)])),
                set([s("a"), s("b")]),
            ],
        }
    );
    let domains: Vec<Vec<Value>> =
        m.model.domains.iter().map(|d| d.values.iter().map(|e| interp.eval_constant(e).unwrap()).collect()).collect();
    assert_eq!(domains, vec![vec![u(0), u(1), u(2)], vec![s("x"), s("y")]]);
    assert_eq!(interp.eval_constant(&m.fields[0].init), Some(u(7)));
}

#[test]
fn an_overflowing_initial_value_is_refused_before_it_reaches_the_interpreter() {
    // The checker evaluates every constant (E0212), so a checked machine always has an initial state.
    let error = check_source("test.machine", "machine K { phases { initial A } state { n: u64 = 0 - 1 } }")
        .expect_err("an overflowing initial value does not check");
    let errors: Vec<Code> = error.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect();
    assert_eq!(errors, [Code::ConstantFails]);
}

#[test]
fn check_invariants_and_recovery() {
    let package = check(
        r#"machine R {
            phases { initial A, B }
            state { n: u64 = 0, name: String = "" }
            invariant first = n < 10
            invariant second = phase == A || n > 0
            input Go
            on Go from A -> B { n = 1 }
        }"#,
    );
    let m = &package.machines[0];
    let interp = Interpreter::new(m);
    let good = interp.initial_state().unwrap();
    assert_eq!(interp.check_invariants(&good), Ok(()));
    assert_eq!(interp.check_recovered(&good), Ok(()));

    let both_broken = State { phase: phase(m, "B"), fields: vec![u(10), s("")] };
    assert_eq!(interp.check_invariants(&both_broken), Err(invariant(m, "first")));
    let second_broken = State { phase: phase(m, "B"), fields: vec![u(0), s("")] };
    assert_eq!(interp.check_invariants(&second_broken), Err(invariant(m, "second")));
    assert_eq!(
        interp.check_recovered(&second_broken),
        Err(RecoveryRejection::InvariantRejected { invariant: invariant(m, "second") })
    );
    assert_eq!(interp.check_recovered(&second_broken).unwrap_err().describe(m), "the state breaks invariant `second`");

    let malformed = |state: State| matches!(interp.check_recovered(&state), Err(RecoveryRejection::Malformed { .. }));
    assert!(malformed(State { phase: PhaseId(7), fields: vec![u(0), s("")] }));
    assert!(malformed(State { phase: phase(m, "A"), fields: vec![u(0)] }));
    assert!(malformed(State { phase: phase(m, "A"), fields: vec![s(""), s("")] }));
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering and messages

#[test]
fn values_render_in_spec_syntax() {
    let package = check(
        r#"machine V {
            enum Lamp { Red, Green }
            record Lease { holder: String, ttl: u64 }
            newtype Sid(String)
            phases { initial Idle }
        }"#,
    );
    let m = &package.machines[0];
    let (lamp, lease, sid) = (type_id(m, "Lamp"), type_id(m, "Lease"), type_id(m, "Sid"));
    let cases = [
        (b(true), "true"),
        (u(42), "42"),
        (s("a\"b\\\n"), r#""a\"b\\\n""#),
        (some(s("a")), r#"Some("a")"#),
        (Value::none(), "None"),
        (Value::Enum(lamp, 0), "Lamp::Red"),
        (Value::Record(lease, vec![s("x"), u(3)]), r#"Lease { holder: "x", ttl: 3 }"#),
        (Value::Newtype(sid, Box::new(s("q"))), r#"Sid("q")"#),
        (seq([u(1), u(2)]), "[1, 2]"),
        (set([u(2), u(1)]), "[1, 2]"),
        (seq([]), "[]"),
        (map([(s("a"), u(1)), (s("b"), u(2))]), r#"["a": 1, "b": 2]"#),
        (map([]), "[:]"),
        (Value::Phase(PhaseId(0)), "Phase::Idle"),
        (Value::Phase(PhaseId(5)), "Phase::?"),
        (Value::Enum(TypeId(9), 0), "?::?"),
    ];
    for (value, text) in cases {
        assert_eq!(value.render(m), text);
    }
}

#[test]
fn rejections_display_ids_and_describe_names() {
    let mut run = Run::new(DISPATCH);
    let rejection = run.apply("Go", vec![]).unwrap_err();
    assert_eq!(rejection.to_string(), "transitions #0 and #1 both accept input #0 in phase #0");
    assert_eq!(rejection.describe(run.m()), "transitions `One` and `Two` both accept input `Go` in phase `A`");

    let mut guarded = Run::new(
        "machine G { phases { initial A } state { n: u64 = 0 } input Go transition T on Go from A -> stay when n > 0 { } }",
    );
    let rejection = guarded.apply("Go", vec![]).unwrap_err();
    assert_eq!(rejection.to_string(), "a guard of every candidate rejected input #0 in phase #0");
    assert_eq!(
        rejection.describe(guarded.m()),
        "every candidate for input `Go` in phase `A` was rejected by a guard: `T` (`n > 0` does not hold)"
    );

    let mut overflow = Run::new(OVERFLOW);
    let rejection = overflow.apply("Dec", vec![]).unwrap_err();
    assert_eq!(rejection.to_string(), "arithmetic overflow or division by zero in transition #1");
    assert_eq!(rejection.describe(overflow.m()), "arithmetic overflow or division by zero in transition `Dec`");

    let violated = Rejection::InvariantViolated { transition: TransitionId(0), invariant: InvariantId(0) };
    assert_eq!(violated.to_string(), "transition #0 would break invariant #0");
    let none = Rejection::NoMatchingTransition { phase: PhaseId(1), trigger: Trigger::Signal(SignalId(2)) };
    assert_eq!(none.to_string(), "no transition for signal #2 in phase #1");
    assert_eq!(none.describe(overflow.m()), "no transition for signal ? in phase `B`");
}

// ---------------------------------------------------------------------------------------------------------------
// E0305

#[test]
fn the_checker_reports_invariants_the_initial_state_breaks() {
    let text = "machine I {\n    phases { initial A }\n    state { n: u64 = 3, m: u64 = 0 }\n    \
                invariant fine = m == 0\n    invariant small = n < 2\n    invariant overflows = n * 6148914691236517206 > 0\n}\n";
    let error = check_source("i.machine", text).unwrap_err();
    let found: Vec<(Code, &str)> =
        error.diagnostics.iter().map(|d| (d.code, &text[d.primary.span.start..d.primary.span.end])).collect();
    assert_eq!(
        found,
        vec![
            (Code::InitialStateViolatesInvariant, "invariant small = n < 2"),
            (Code::InitialStateViolatesInvariant, "invariant overflows = n * 6148914691236517206 > 0"),
        ]
    );
    let first = error.diagnostics.iter().next().unwrap();
    assert_eq!(first.message, "the initial state breaks invariant `small`");
    assert_eq!(first.primary.message, "false in the initial state");
    assert_eq!(first.secondary.len(), 1);
    assert_eq!(first.secondary[0].message, "`n` starts as `3`");
    assert_eq!(&text[first.secondary[0].span.start..first.secondary[0].span.end], "3");
    let second = error.diagnostics.iter().nth(1).unwrap();
    assert_eq!(second.primary.message, "cannot be evaluated in the initial state: arithmetic overflow");
}

#[test]
fn the_traffic_light_starts_in_a_valid_state() {
    let package = check(TRAFFIC_LIGHT);
    let interp = Interpreter::new(&package.machines[0]);
    assert_eq!(interp.check_recovered(&interp.initial_state().unwrap()), Ok(()));
}

// ---------------------------------------------------------------------------------------------------------------
// The traffic light, scripted and at random

const TRAFFIC_LIGHT: &str = include_str!("../../machines/traffic_light.machine");

#[test]
fn traffic_light_cycles() {
    let mut run = Run::new(TRAFFIC_LIGHT);
    let m = run.m();
    let (show, projected, lamp) = (effect(m, "Show"), effect(m, "Projected"), type_id(m, "Lamp"));
    let green = Value::Phase(phase(m, "Green"));
    for ticks in 1..=3 {
        let fired = run.ok("Tick", vec![]);
        assert_eq!(fired.transition, transition(run.m(), "WaitOnRed"));
        assert_eq!(run.field("ticks"), &u(ticks));
    }
    let fired = run.ok("Tick", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "ChangeToGreen"));
    assert_eq!(
        fired.effects,
        vec![
            Emitted { effect: show, fields: vec![Value::Enum(lamp, 2)] },
            Emitted { effect: projected, fields: vec![green, u(0), b(false)] },
        ]
    );
    run.ok("PressButton", vec![]);
    assert_eq!(run.field("requested"), &b(true));
    let press = input(run.m(), "PressButton");
    let green_id = phase(run.m(), "Green");
    assert_eq!(
        run.apply("PressButton", vec![]),
        Err(Rejection::GuardRejected {
            phase: green_id,
            trigger: press,
            rejections: vec![(transition(run.m(), "PressButton"), "!requested".to_string())],
        })
    );
    run.ok("Tick", vec![]);
    let fired = run.ok("Tick", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "ChangeToAmber"));
    run.ok("Tick", vec![]);
    let fired = run.ok("Tick", vec![]);
    assert_eq!(fired.transition, transition(run.m(), "ChangeToRed"));
    assert_eq!(run.field("cycles"), &u(1));
    run.ok("SwitchOff", vec![s("maintenance")]);
    assert_eq!(run.phase_name(), "Off");
    assert!(matches!(run.apply("Tick", vec![]), Err(Rejection::NoMatchingTransition { .. })));
}

/// Any traffic-light state, including ones no run reaches (counters near `u64::MAX`, broken invariants).
fn traffic_state(phases: u32) -> impl Strategy<Value = State> {
    let counter = prop_oneof![0..8u64, (u64::MAX - 3)..=u64::MAX, any::<u64>()];
    (0..phases, counter.clone(), any::<bool>(), counter).prop_map(|(p, cycles, requested, ticks)| State {
        phase: PhaseId(p),
        fields: vec![u(cycles), b(requested), u(ticks)],
    })
}

proptest! {
    #[test]
    fn random_traffic_light_runs_keep_invariants_and_reject_atomically(
        choices in proptest::collection::vec((0..7u32, ".{0,4}"), 0..60)
    ) {
        let package = check(TRAFFIC_LIGHT);
        let m = &package.machines[0];
        let interp = Interpreter::new(m);
        let mut state = interp.initial_state().unwrap();
        for (choice, reason) in choices {
            let message = match choice {
                0..=3 => Message { trigger: input(m, "Tick"), fields: vec![] },
                4 | 5 => Message { trigger: input(m, "PressButton"), fields: vec![] },
                _ => Message { trigger: input(m, "SwitchOff"), fields: vec![s(&reason)] },
            };
            let before = state.clone();
            match interp.apply(&mut state, &message) {
                Ok(fired) => {
                    prop_assert_eq!(fired.source, before.phase);
                    prop_assert_eq!(fired.target, state.phase);
                    prop_assert_eq!(interp.check_invariants(&state), Ok(()));
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
    }

    #[test]
    fn any_traffic_light_state_and_input_never_panics_and_rejects_atomically(
        state in traffic_state(4),
        message_seed in 0..3u32,
        reason in ".{0,3}",
    ) {
        let package = check(TRAFFIC_LIGHT);
        let m = &package.machines[0];
        let interp = Interpreter::new(m);
        let message = match message_seed {
            0 => Message { trigger: input(m, "Tick"), fields: vec![] },
            1 => Message { trigger: input(m, "PressButton"), fields: vec![] },
            _ => Message { trigger: input(m, "SwitchOff"), fields: vec![s(&reason)] },
        };
        let mut after = state.clone();
        match interp.apply(&mut after, &message) {
            Ok(_) => prop_assert_eq!(interp.check_invariants(&after), Ok(())),
            Err(_) => prop_assert_eq!(&after, &state),
        }
    }
}
