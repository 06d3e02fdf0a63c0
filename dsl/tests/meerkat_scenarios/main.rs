//! Scenario tests of the MeerkatMachine spec (`machines/meerkat.machine`), driven through the reference
//! interpreter: every lifecycle path the seeds show, the cold-recovery replays, table tests of every pure
//! classification over every lifecycle value, and one rejection test per guard and invariant, each asserting
//! that a refused input leaves the state exactly as it was.
//!
//! The scenarios talk to the kernel only through [`Session`] (apply an input or signal by name, with payload
//! fields by name; read a state field by name; read an effect field by name), so the same scenarios can later
//! be pointed at the generated kernel.
//!
//! This file holds the kit and the session; the scenarios are grouped by topic in `lifecycle`, `classification`,
//! `invariants`, `visibility` and `composition`.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use meerkat_dsl::explore::{Bounds, explore};
use meerkat_dsl::interp::{Fired, Interpreter, Message, RecoveryRejection, Rejection, State, Value};
use meerkat_dsl::ir::{self, InputId, Machine, PhaseId, RouteValue, SignalId, Trigger, Type, TypeId, TypeKind};
use meerkat_dsl::{CheckedPackage, RenderOptions, Source, check_package};

mod classification;
mod composition;
mod invariants;
mod lifecycle;
mod visibility;

// ---------------------------------------------------------------------------------------------------------------
// Loading the spec

fn package() -> CheckedPackage {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../machines/meerkat.machine");
    let text = std::fs::read_to_string(path).expect("machines/meerkat.machine is readable");
    match check_package(vec![Source::new("machines/meerkat.machine", text)]) {
        Ok(package) => package,
        Err(error) => panic!("the spec does not check:\n{}", error.render(RenderOptions { width: 100, colour: false })),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Values

fn s(text: &str) -> Value {
    Value::str(text)
}

fn b(value: bool) -> Value {
    Value::Bool(value)
}

fn u(n: u64) -> Value {
    Value::U64(n)
}

fn none() -> Value {
    Value::none()
}

fn some(value: Value) -> Value {
    Value::some(value)
}

fn set(items: impl IntoIterator<Item = Value>) -> Value {
    Value::Set(items.into_iter().collect::<BTreeSet<_>>())
}

fn map(entries: impl IntoIterator<Item = (Value, Value)>) -> Value {
    Value::Map(entries.into_iter().collect::<BTreeMap<_, _>>())
}

/// Names-to-values view of one machine: builds values of its declared types and messages by name.
struct Kit<'m> {
    m: &'m Machine,
    interp: Interpreter<'m>,
}

impl<'m> Kit<'m> {
    fn new(m: &'m Machine) -> Self {
        Kit { m, interp: Interpreter::new(m) }
    }

    fn type_id(&self, name: &str) -> TypeId {
        let index = self.m.types.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("no type {name}"));
        TypeId(index as u32)
    }

    /// `Type::Variant`.
    fn en(&self, ty: &str, variant: &str) -> Value {
        let id = self.type_id(ty);
        let TypeKind::Enum { variants } = &self.m.types[id.index()].kind else { panic!("{ty} is not an enum") };
        let index = variants.iter().position(|v| v.name == variant).unwrap_or_else(|| panic!("no {ty}::{variant}"));
        Value::Enum(id, index as u32)
    }

    /// `Type(inner)`.
    fn nt(&self, ty: &str, inner: Value) -> Value {
        Value::Newtype(self.type_id(ty), Box::new(inner))
    }

    /// `Type { field: value, ... }`, fields in any order.
    fn rec(&self, ty: &str, fields: &[(&str, Value)]) -> Value {
        let id = self.type_id(ty);
        let TypeKind::Record { fields: declared } = &self.m.types[id.index()].kind else {
            panic!("{ty} is not a record")
        };
        assert_eq!(declared.len(), fields.len(), "record {ty} needs every field");
        let values = declared
            .iter()
            .map(|d| {
                fields.iter().find(|(n, _)| *n == d.name).unwrap_or_else(|| panic!("{ty} needs {}", d.name)).1.clone()
            })
            .collect();
        Value::Record(id, values)
    }

    fn phase_id(&self, name: &str) -> PhaseId {
        let index = self.m.phases.iter().position(|p| p.name == name).unwrap_or_else(|| panic!("no phase {name}"));
        PhaseId(index as u32)
    }

    fn ph(&self, name: &str) -> Value {
        Value::Phase(self.phase_id(name))
    }

    fn phase_name(&self, id: PhaseId) -> &'m str {
        &self.m.phases[id.index()].name
    }

    fn trigger(&self, name: &str) -> Trigger {
        if let Some(i) = self.m.inputs.iter().position(|m| m.name == name) {
            return Trigger::Input(InputId(i as u32));
        }
        if let Some(i) = self.m.signals.iter().position(|m| m.name == name) {
            return Trigger::Signal(SignalId(i as u32));
        }
        panic!("no input or signal {name}")
    }

    /// A message by name; every payload field must be given (in any order).
    fn msg(&self, name: &str, fields: &[(&str, Value)]) -> Message {
        let trigger = self.trigger(name);
        let declared = &self.m.trigger(trigger).fields;
        for (given, _) in fields {
            assert!(declared.iter().any(|d| d.name == *given), "{name} has no field {given}");
        }
        let values = declared
            .iter()
            .map(|d| {
                fields.iter().find(|(n, _)| *n == d.name).unwrap_or_else(|| panic!("{name} needs {}", d.name)).1.clone()
            })
            .collect();
        Message { trigger, fields: values }
    }

    fn field_value<'s>(&self, state: &'s State, name: &str) -> &'s Value {
        let index = self.m.fields.iter().position(|f| f.name == name).unwrap_or_else(|| panic!("no field {name}"));
        &state.fields[index]
    }

    fn transition_name(&self, fired: &Fired) -> &'m str {
        &self.m.transitions[fired.transition.index()].name
    }

    fn effect_names(&self, fired: &Fired) -> Vec<&'m str> {
        fired.effects.iter().map(|e| self.m.effects[e.effect.index()].name.as_str()).collect()
    }

    /// The field of the one effect with this name that the transition emitted.
    fn effect_field(&self, fired: &Fired, effect: &str, field: &str) -> Value {
        let matching: Vec<_> =
            fired.effects.iter().filter(|e| self.m.effects[e.effect.index()].name == effect).collect();
        assert_eq!(matching.len(), 1, "expected one {effect} effect, got {:?}", self.effect_names(fired));
        let decl = &self.m.effects[matching[0].effect.index()];
        let index =
            decl.fields.iter().position(|f| f.name == field).unwrap_or_else(|| panic!("{effect} has no {field}"));
        matching[0].fields[index].clone()
    }

    /// `(transition name, failing guard label)` of a guard rejection.
    fn rejections(&self, rejection: &Rejection) -> Vec<(String, String)> {
        match rejection {
            Rejection::GuardRejected { rejections, .. } => rejections
                .iter()
                .map(|(t, label)| (self.m.transitions[t.index()].name.clone(), label.clone()))
                .collect(),
            other => panic!("expected a guard rejection, got: {}", other.describe(self.m)),
        }
    }

    fn invariant_name(&self, rejection: &RecoveryRejection) -> &'m str {
        match rejection {
            RecoveryRejection::InvariantRejected { invariant } => &self.m.invariants[invariant.index()].name,
            other => panic!("expected an invariant rejection, got: {}", other.describe(self.m)),
        }
    }

    /// A representative value of any type: `false`, `0`, `"x"`, the first phase or variant, empty collections,
    /// `None`, records and newtypes of representative values.
    fn sample(&self, ty: &Type) -> Value {
        match ty {
            Type::Bool => b(false),
            Type::U64 => u(0),
            Type::String => s("x"),
            Type::Phase => Value::Phase(PhaseId(0)),
            Type::Option(_) => none(),
            Type::Set(_) => Value::Set(BTreeSet::new()),
            Type::Map(..) => Value::Map(BTreeMap::new()),
            Type::Seq(_) => Value::Seq(Vec::new()),
            Type::Named(id) => match &self.m.types[id.index()].kind {
                TypeKind::Enum { .. } => Value::Enum(*id, 0),
                TypeKind::Record { fields } => Value::Record(*id, fields.iter().map(|f| self.sample(&f.ty)).collect()),
                TypeKind::Newtype { inner } => Value::Newtype(*id, Box::new(self.sample(inner))),
            },
        }
    }

    fn sample_message(&self, trigger: Trigger) -> Message {
        Message { trigger, fields: self.m.trigger(trigger).fields.iter().map(|f| self.sample(&f.ty)).collect() }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// A session: the kernel state plus the kit, with the vocabulary the scenarios use

#[derive(Clone)]
struct Session<'k, 'm> {
    k: &'k Kit<'m>,
    st: State,
}

impl<'k, 'm> Session<'k, 'm> {
    fn new(k: &'k Kit<'m>) -> Self {
        Session { k, st: k.interp.initial_state().expect("the initial state builds") }
    }

    fn try_apply(&mut self, name: &str, fields: &[(&str, Value)]) -> Result<Fired, Rejection> {
        let message = self.k.msg(name, fields);
        self.k.interp.apply(&mut self.st, &message)
    }

    /// Applies a message that must be accepted.
    #[track_caller]
    fn fire(&mut self, name: &str, fields: &[(&str, Value)]) -> Fired {
        let before = self.phase();
        match self.try_apply(name, fields) {
            Ok(fired) => fired,
            Err(rejection) => panic!("{name} in {before} was refused: {}", rejection.describe(self.k.m)),
        }
    }

    /// Applies a message that must be refused, and checks the state did not change.
    #[track_caller]
    fn refuse(&mut self, name: &str, fields: &[(&str, Value)]) -> Rejection {
        let before = self.st.clone();
        match self.try_apply(name, fields) {
            Ok(fired) => panic!(
                "{name} in {} was accepted by {}",
                self.k.phase_name(before.phase),
                self.k.transition_name(&fired)
            ),
            Err(rejection) => {
                assert_eq!(self.st, before, "a refused {name} changed the state");
                rejection
            }
        }
    }

    /// Refused because no transition leaves the current phase on this trigger.
    #[track_caller]
    fn refuse_unmatched(&mut self, name: &str, fields: &[(&str, Value)]) {
        let rejection = self.refuse(name, fields);
        assert!(
            matches!(rejection, Rejection::NoMatchingTransition { .. }),
            "expected no matching transition for {name}, got: {}",
            rejection.describe(self.k.m)
        );
    }

    /// Refused by guards; every candidate's failing label is returned.
    #[track_caller]
    fn refuse_guarded(&mut self, name: &str, fields: &[(&str, Value)]) -> Vec<(String, String)> {
        let rejection = self.refuse(name, fields);
        self.k.rejections(&rejection)
    }

    fn phase(&self) -> &'m str {
        self.k.phase_name(self.st.phase)
    }

    fn get(&self, field: &str) -> Value {
        self.k.field_value(&self.st, field).clone()
    }

    // Domain values.

    fn sid(&self, id: &str) -> Value {
        self.k.nt("SessionId", s(id))
    }
    fn run(&self, id: &str) -> Value {
        self.k.nt("RunId", s(id))
    }
    fn input_id(&self, id: &str) -> Value {
        self.k.nt("InputId", s(id))
    }
    fn runtime(&self, id: &str) -> Value {
        self.k.nt("AgentRuntimeId", s(id))
    }
    fn registration(&self, name: &str) -> Value {
        self.k.en("RegistrationPhase", name)
    }
    fn input_phase(&self, name: &str) -> Value {
        self.k.en("InputPhase", name)
    }

    // The inputs the scenarios use most, for session "s1".

    fn register(&mut self) -> Fired {
        let sid = self.sid("s1");
        self.fire("RegisterSession", &[("session_id", sid)])
    }
    fn ensure_executor(&mut self) -> Fired {
        let sid = self.sid("s1");
        self.fire("EnsureSessionWithExecutor", &[("session_id", sid)])
    }
    fn with_session(&mut self, name: &str) -> Fired {
        let sid = self.sid("s1");
        self.fire(name, &[("session_id", sid)])
    }
    fn begin_run(&mut self, run: &str) -> Fired {
        let run = self.run(run);
        self.fire("BeginRun", &[("run_id", run)])
    }
    fn finish_run(&mut self, run: &str, outcome: &str) -> Fired {
        let run = self.run(run);
        let outcome = self.k.en("RunOutcome", outcome);
        self.fire("FinishRun", &[("run_id", run), ("outcome", outcome)])
    }
    fn stop(&mut self, reason: &str) -> Fired {
        self.fire("StopRuntimeExecutor", &[("reason", s(reason))])
    }
    fn ledger(&mut self, name: &str, input: &str) -> Fired {
        let id = self.input_id(input);
        self.fire(name, &[("input_id", id)])
    }
    fn stage(&mut self, input: &str, run: &str) -> Fired {
        let (id, run) = (self.input_id(input), self.run(run));
        self.fire("StageInput", &[("input_id", id), ("run_id", run)])
    }
    fn apply_input(&mut self, input: &str, run: &str, awaits_commit: bool) -> Fired {
        let (id, run) = (self.input_id(input), self.run(run));
        self.fire("ApplyInput", &[("input_id", id), ("run_id", run), ("awaits_commit", b(awaits_commit))])
    }
    fn abandon(&mut self, input: &str, reason: &str) -> Result<Fired, Rejection> {
        let id = self.input_id(input);
        let reason = self.k.en("InputAbandonReason", reason);
        self.try_apply("AbandonInput", &[("input_id", id), ("reason", reason)])
    }

    /// The ledger record of an input: `(phase, attempt_count, terminal_kind, abandon_reason)`.
    fn record(&self, input: &str) -> Option<Value> {
        let Value::Map(ledger) = self.get("input_ledger") else { panic!("the ledger is a map") };
        ledger.get(&self.input_id(input)).cloned()
    }

    fn record_phase(&self, input: &str) -> Value {
        match self.record(input) {
            Some(Value::Record(_, fields)) => fields[0].clone(),
            other => panic!("no ledger record for {input}: {other:?}"),
        }
    }

    fn record_attempts(&self, input: &str) -> Value {
        match self.record(input) {
            Some(Value::Record(_, fields)) => fields[1].clone(),
            other => panic!("no ledger record for {input}: {other:?}"),
        }
    }
}

/// A registered session (the recovery baseline: the shell builds the authority, then stages RegisterSession).
fn registered<'k, 'm>(k: &'k Kit<'m>) -> Session<'k, 'm> {
    let mut session = Session::new(k);
    session.register();
    session
}

/// A registered session with an attached executor.
fn attached<'k, 'm>(k: &'k Kit<'m>) -> Session<'k, 'm> {
    let mut session = registered(k);
    session.ensure_executor();
    session
}

/// One reachable state in each of the seven lifecycle phases.
fn one_state_per_phase<'k, 'm>(k: &'k Kit<'m>) -> Vec<Session<'k, 'm>> {
    let initializing = Session::new(k);
    let idle = registered(k);
    let attached_ = attached(k);
    let mut running = attached(k);
    running.begin_run("r1");
    let mut retired = registered(k);
    retired.with_session("Retire");
    let mut stopped = registered(k);
    stopped.stop("operator");
    let mut destroyed = registered(k);
    destroyed.with_session("Destroy");
    let all = vec![initializing, idle, attached_, running, retired, stopped, destroyed];
    let names: Vec<&str> = all.iter().map(Session::phase).collect();
    assert_eq!(names, ["Initializing", "Idle", "Attached", "Running", "Retired", "Stopped", "Destroyed"]);
    all
}

const PHASES: [&str; 7] = ["Initializing", "Idle", "Attached", "Running", "Retired", "Stopped", "Destroyed"];
