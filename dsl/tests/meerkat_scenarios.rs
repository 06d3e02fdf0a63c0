//! Scenario tests of the MeerkatMachine spec (`machines/meerkat.machine`), driven through the reference
//! interpreter: every lifecycle path the seeds show, the cold-recovery replays, table tests of every pure
//! classification over every lifecycle value, and one rejection test per guard and invariant, each asserting
//! that a refused input leaves the state exactly as it was.
//!
//! The scenarios talk to the kernel only through [`Session`] (apply an input or signal by name, with payload
//! fields by name; read a state field by name; read an effect field by name), so the same scenarios can later
//! be pointed at the generated kernel.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use meerkat_dsl::explore::{Bounds, explore};
use meerkat_dsl::interp::{Fired, Interpreter, Message, RecoveryRejection, Rejection, State, Value};
use meerkat_dsl::ir::{self, InputId, Machine, PhaseId, RouteValue, SignalId, Trigger, Type, TypeId, TypeKind};
use meerkat_dsl::{CheckedPackage, RenderOptions, Source, check_package};

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

// ---------------------------------------------------------------------------------------------------------------
// The spec checks, with its composition

#[test]
fn spec_checks_without_errors_or_warnings() {
    let package = package();
    assert!(
        package.warnings.is_empty(),
        "unexpected warnings:\n{}",
        package.render_warnings(RenderOptions { width: 100, colour: false })
    );
    let names: Vec<&str> = package.machines.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["MeerkatMachine", "SessionSupervisor"]);
    let meerkat = package.machine("MeerkatMachine").unwrap();
    assert_eq!(meerkat.phase_field, "lifecycle_phase");
    let terminal: Vec<&str> = meerkat.phases.iter().filter(|p| p.terminal).map(|p| p.name.as_str()).collect();
    assert_eq!(terminal, ["Destroyed"], "only Destroyed is terminal");
    let internal: Vec<&str> = meerkat.inputs.iter().filter(|i| i.internal).map(|i| i.name.as_str()).collect();
    assert!(internal.contains(&"RuntimeExecutorExited") && internal.contains(&"InterruptCurrentRun"));
    assert_eq!(package.compositions.len(), 1);
    assert_eq!(package.compositions[0].routes.len(), 3);
}

#[test]
fn every_pure_classification_answers_in_every_phase_including_destroyed() {
    let package = package();
    let m = package.machine("MeerkatMachine").unwrap();
    let all: Vec<PhaseId> = m.phase_ids().collect();
    for (index, input) in m.inputs.iter().enumerate() {
        let trigger = Trigger::Input(InputId(index as u32));
        let covered: BTreeSet<PhaseId> =
            m.transitions.iter().filter(|t| t.trigger == trigger).flat_map(|t| t.sources.iter().copied()).collect();
        if input.pure_ {
            assert_eq!(covered.into_iter().collect::<Vec<_>>(), all, "{} must answer in every phase", input.name);
        }
    }
}

#[test]
fn bounded_exploration_finds_no_ambiguity_overflow_or_invariant_rejection() {
    let package = package();
    for machine in &package.machines {
        let report = explore(machine, &Bounds::default()).expect("the initial state builds");
        assert!(!report.has_errors(), "{}: {:#?}", machine.name, report.findings);
        // Guards enforce every invariant: no reachable input is refused by an invariant instead.
        let rejected: Vec<&str> =
            report.invariant_rejections.iter().map(|r| machine.invariants[r.invariant.index()].name.as_str()).collect();
        assert!(rejected.is_empty(), "{}: invariants rejected inputs: {rejected:?}", machine.name);
        assert!(report.states > 1);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle paths

#[test]
fn initial_state_has_no_session() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let session = Session::new(&k);
    assert_eq!(session.phase(), "Initializing");
    assert_eq!(session.get("session_id"), none());
    assert_eq!(session.get("registration_phase"), session.registration("Unregistered"));
    assert_eq!(k.interp.check_recovered(&session.st), Ok(()));
}

#[test]
fn register_prepare_ensure_run_and_commit() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = Session::new(&k);

    let fired = session.register();
    assert_eq!(k.transition_name(&fired), "ClaimSession");
    assert_eq!(session.phase(), "Idle");
    assert_eq!(session.get("session_id"), some(session.sid("s1")));
    assert_eq!(session.get("registration_phase"), session.registration("Queuing"));
    assert_eq!(k.effect_field(&fired, "ControlProjectionChanged", "phase"), k.ph("Idle"));

    // Registering again confirms and changes nothing.
    let before = session.st.clone();
    let fired = session.register();
    assert_eq!(k.transition_name(&fired), "ConfirmSession");
    assert!(fired.effects.is_empty());
    assert_eq!(session.st, before);

    let (rt, fence, generation) = (session.runtime("rt1"), k.nt("FenceToken", u(0)), k.nt("Generation", u(0)));
    let sid = session.sid("s1");
    let fired = session.fire(
        "PrepareBindings",
        &[
            ("agent_runtime_id", rt.clone()),
            ("fence_token", fence.clone()),
            ("generation", generation.clone()),
            ("session_id", sid),
        ],
    );
    assert_eq!(k.effect_field(&fired, "RuntimeBindingPrepared", "agent_runtime_id"), rt);
    assert_eq!(session.get("active_runtime_id"), some(rt));
    assert_eq!(session.get("active_fence_token"), some(fence));
    assert_eq!(session.get("active_runtime_generation"), some(generation));

    let fired = session.ensure_executor();
    assert_eq!(k.transition_name(&fired), "ClaimExecutorFromIdle");
    assert_eq!(session.phase(), "Attached");
    assert_eq!(session.get("registration_phase"), session.registration("Active"));
    assert_eq!(session.get("executor_attached"), b(true));
    assert_eq!(k.effect_field(&fired, "RegistrationChanged", "registration_phase"), session.registration("Active"));

    // An input flows through the ledger inside a run.
    session.ledger("AcceptInput", "i1");
    assert_eq!(session.record_phase("i1"), session.input_phase("Accepted"));
    session.ledger("QueueInput", "i1");
    let fired = session.begin_run("r1");
    assert_eq!(session.phase(), "Running");
    assert_eq!(session.get("current_run_id"), some(session.run("r1")));
    assert_eq!(session.get("pre_run_phase"), some(k.ph("Attached")));
    assert_eq!(k.effect_field(&fired, "RunStarted", "resumes_to"), k.ph("Attached"));
    assert_eq!(k.effect_field(&fired, "ControlProjectionChanged", "current_run_id"), some(session.run("r1")));
    session.stage("i1", "r1");
    assert_eq!(session.record_attempts("i1"), u(1));
    session.apply_input("i1", "r1", true);
    assert_eq!(session.record_phase("i1"), session.input_phase("AppliedPendingConsumption"));
    let fired = session.ledger("ConsumeInput", "i1");
    let record = k.effect_field(&fired, "InputLedgerUpdated", "record");
    assert_eq!(
        record,
        k.rec(
            "InputRecord",
            &[
                ("phase", session.input_phase("Consumed")),
                ("attempt_count", u(1)),
                ("terminal_kind", some(k.en("InputTerminalKind", "Consumed"))),
                ("abandon_reason", none()),
            ]
        )
    );

    let fired = session.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");
    assert_eq!(session.phase(), "Attached");
    assert_eq!(session.get("current_run_id"), none());
    assert_eq!(session.get("pre_run_phase"), none());
    assert_eq!(k.effect_field(&fired, "RunFinished", "next_phase"), k.ph("Attached"));
    assert_eq!(k.effect_field(&fired, "RunFinished", "outcome"), k.en("RunOutcome", "Committed"));
    assert_eq!(k.interp.check_recovered(&session.st), Ok(()));
}

#[test]
fn runs_fail_and_cancel_back_to_their_resting_phase() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = registered(&k);
    session.begin_run("r1");
    assert_eq!(session.get("pre_run_phase"), some(k.ph("Idle")));
    // A finish for another run is refused by every candidate.
    let labels = session
        .refuse_guarded("FinishRun", &[("run_id", session.run("r2")), ("outcome", k.en("RunOutcome", "Failed"))]);
    assert!(labels.iter().all(|(_, label)| label == "is_current_run(run_id)"), "{labels:?}");
    let fired = session.finish_run("r1", "Failed");
    assert_eq!(k.transition_name(&fired), "FinishRun");
    assert_eq!(session.phase(), "Idle");

    session.begin_run("r2");
    session.finish_run("r2", "Cancelled");
    assert_eq!(session.phase(), "Idle");
    // No run bound: finishing is not a transition of Idle.
    session
        .refuse_unmatched("FinishRun", &[("run_id", session.run("r2")), ("outcome", k.en("RunOutcome", "Committed"))]);
}

#[test]
fn stop_is_immediate_without_a_run_and_deferred_with_one() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());

    // Immediate.
    let mut session = attached(&k);
    let fired = session.stop("operator");
    assert_eq!(k.transition_name(&fired), "StopNow");
    assert_eq!(session.phase(), "Stopped");
    assert_eq!(k.effect_field(&fired, "RuntimeStopRequested", "deferred"), b(false));
    assert_eq!(k.effect_field(&fired, "RuntimeStopRequested", "reason"), s("operator"));
    // The loop's canonical exit stops again, then reports its exit.
    let fired = session.stop("runtime loop closed");
    assert_eq!(k.transition_name(&fired), "StopAlreadyApplied");
    assert!(fired.effects.is_empty());
    let fired = session.fire("RuntimeExecutorExited", &[]);
    assert_eq!(k.transition_name(&fired), "ExecutorExited");
    assert_eq!(session.phase(), "Stopped");
    assert_eq!(session.get("executor_attached"), b(false));
    assert_eq!(session.get("registration_phase"), session.registration("Queuing"));

    // Deferred.
    let mut session = attached(&k);
    session.begin_run("r1");
    let fired = session.stop("operator");
    assert_eq!(k.transition_name(&fired), "DeferStop");
    assert_eq!(session.phase(), "Running");
    assert_eq!(session.get("runtime_stop_deferred"), b(true));
    assert_eq!(k.effect_field(&fired, "RuntimeStopRequested", "deferred"), b(true));
    let fired = session.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");
    assert_eq!(session.phase(), "Stopped");
    assert_eq!(session.get("runtime_stop_deferred"), b(false));
    assert_eq!(k.effect_field(&fired, "RunFinished", "next_phase"), k.ph("Stopped"));

    // A stopped runtime runs nothing and takes no input.
    session.refuse_unmatched("BeginRun", &[("run_id", session.run("r2"))]);
    session.refuse_unmatched("AcceptInput", &[("input_id", session.input_id("i1"))]);
    // Before a session exists there is nothing to stop.
    let mut fresh = Session::new(&k);
    fresh.refuse_unmatched("StopRuntimeExecutor", &[("reason", s("x"))]);
}

#[test]
fn retire_now_or_after_the_run_and_drain_the_queue_while_retired() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());

    let mut session = attached(&k);
    session.ledger("AcceptInput", "i1");
    session.ledger("QueueInput", "i1");
    let fired = session.with_session("Retire");
    assert_eq!(k.transition_name(&fired), "RetireNow");
    assert_eq!(session.phase(), "Retired");
    assert_eq!(k.effect_field(&fired, "SessionRetiredObserved", "session_id"), session.sid("s1"));
    // Retired takes no new input but still drains the queue through runs.
    session.refuse_unmatched("AcceptInput", &[("input_id", session.input_id("i2"))]);
    session.begin_run("r1");
    assert_eq!(session.get("pre_run_phase"), some(k.ph("Retired")));
    session.stage("i1", "r1");
    session.apply_input("i1", "r1", false);
    assert_eq!(session.record_phase("i1"), session.input_phase("Applied"));
    session.ledger("ConsumeInput", "i1");
    let fired = session.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");
    assert_eq!(session.phase(), "Retired");
    // Retiring twice is not a transition.
    session.refuse_unmatched("Retire", &[("session_id", session.sid("s1"))]);

    // Retire while a run is in flight: the run returns to Retired; input is refused meanwhile.
    let mut session = attached(&k);
    session.begin_run("r1");
    let fired = session.with_session("Retire");
    assert_eq!(k.transition_name(&fired), "RetireAfterRun");
    assert_eq!(session.phase(), "Running");
    assert_eq!(session.get("pre_run_phase"), some(k.ph("Retired")));
    assert_eq!(k.effect_field(&fired, "ControlProjectionChanged", "pre_run_phase"), some(k.ph("Retired")));
    let labels = session.refuse_guarded("AcceptInput", &[("input_id", session.input_id("i1"))]);
    assert_eq!(labels, [("AcceptInput".to_string(), "!retiring".to_string())]);
    let labels = session.refuse_guarded("Retire", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("RetireAfterRun".to_string(), "!retiring".to_string())]);
    let fired = session.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");

    // A deferred stop wins over a pending retire.
    let mut session = attached(&k);
    session.begin_run("r1");
    session.with_session("Retire");
    session.stop("operator");
    let fired = session.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");
    assert_eq!(session.phase(), "Stopped");

    // A stopped session cannot retire.
    session.refuse_unmatched("Retire", &[("session_id", session.sid("s1"))]);
}

#[test]
fn reset_and_recycle_leave_retired_and_stopped() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());

    // From Stopped with no executor: Idle.
    let mut session = registered(&k);
    session.stop("operator");
    let fired = session.with_session("Reset");
    assert_eq!(k.transition_name(&fired), "Reset");
    assert_eq!(session.phase(), "Idle");
    assert_eq!(k.effect_field(&fired, "RuntimeRestarted", "mode"), k.en("RestartMode", "Reset"));

    // From Retired with an executor: Attached.
    let mut session = attached(&k);
    session.with_session("Retire");
    let fired = session.with_session("Recycle");
    assert_eq!(k.transition_name(&fired), "Recycle");
    assert_eq!(session.phase(), "Attached");
    assert_eq!(k.effect_field(&fired, "RuntimeRestarted", "phase"), k.ph("Attached"));

    // Recycle preserves queued work; reset needs the runtime to abandon it first.
    let mut session = registered(&k);
    session.ledger("AcceptInput", "i1");
    session.ledger("QueueInput", "i1");
    session.stop("operator");
    let labels = session.refuse_guarded("Reset", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("Reset".to_string(), "ledger_quiescent".to_string())]);
    let mut recycled = session.clone();
    recycled.with_session("Recycle");
    assert_eq!(recycled.phase(), "Idle");
    assert_eq!(recycled.record_phase("i1"), recycled.input_phase("Queued"));
    session.abandon("i1", "Reset").expect("abandoning a queued input");
    session.with_session("Reset");
    assert_eq!(session.phase(), "Idle");

    // A run must finish before a reset or recycle.
    let mut session = attached(&k);
    session.begin_run("r1");
    session.refuse_unmatched("Reset", &[("session_id", session.sid("s1"))]);
    session.refuse_unmatched("Recycle", &[("session_id", session.sid("s1"))]);
}

#[test]
fn destroy_is_absorbing_and_cancels_a_bound_run() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    let (rt, sid) = (session.runtime("rt1"), session.sid("s1"));
    session.fire(
        "PrepareBindings",
        &[
            ("agent_runtime_id", rt),
            ("fence_token", k.nt("FenceToken", u(1))),
            ("generation", k.nt("Generation", u(2))),
            ("session_id", sid),
        ],
    );
    session.begin_run("r1");
    session.stop("operator");
    let fired = session.with_session("Destroy");
    assert_eq!(session.phase(), "Destroyed");
    assert_eq!(
        k.effect_names(&fired),
        ["RunFinished", "SessionDestroyedObserved", "RegistrationChanged", "ControlProjectionChanged"]
    );
    assert_eq!(k.effect_field(&fired, "RunFinished", "outcome"), k.en("RunOutcome", "Cancelled"));
    assert_eq!(k.effect_field(&fired, "RunFinished", "next_phase"), k.ph("Destroyed"));
    assert_eq!(session.get("current_run_id"), none());
    assert_eq!(session.get("runtime_stop_deferred"), b(false));
    assert_eq!(session.get("executor_attached"), b(false));
    assert_eq!(session.get("registration_phase"), session.registration("Unregistered"));
    assert_eq!(session.get("active_runtime_id"), none());
    assert_eq!(session.get("session_id"), some(session.sid("s1")));
}

#[test]
fn destroyed_refuses_everything_but_the_pure_classifications() {
    let package = package();
    let m = package.machine("MeerkatMachine").unwrap();
    let k = Kit::new(m);
    let mut session = registered(&k);
    session.with_session("Destroy");
    for trigger in m.triggers() {
        let message = k.sample_message(trigger);
        let name = &m.trigger(trigger).name;
        let before = session.st.clone();
        let result = k.interp.apply(&mut session.st, &message);
        assert_eq!(session.st, before, "{name} changed a destroyed session");
        let pure = matches!(trigger, Trigger::Input(id) if m.inputs[id.index()].pure_);
        match result {
            Ok(fired) => {
                assert!(pure, "{name} was accepted in Destroyed");
                assert_eq!(fired.effects.len(), 1, "{name} answers with one effect");
            }
            Err(rejection) => {
                assert!(!pure, "{name} must answer in Destroyed: {}", rejection.describe(m));
                assert!(
                    matches!(rejection, Rejection::NoMatchingTransition { .. }),
                    "{name}: {}",
                    rejection.describe(m)
                );
            }
        }
    }
    // With the real session id too: nothing resurrects it.
    for name in ["RegisterSession", "EnsureSessionWithExecutor", "Reset", "Recycle", "Retire", "Destroy"] {
        session.refuse_unmatched(name, &[("session_id", session.sid("s1"))]);
    }
    session.refuse_unmatched("StopRuntimeExecutor", &[("reason", s("recovered stopped runtime"))]);
}

#[test]
fn unregister_with_drain() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());

    // A session that never had an executor drains at once.
    let mut session = registered(&k);
    session.with_session("BeginUnregisterSession");
    assert_eq!(session.get("registration_phase"), session.registration("Draining"));
    session.with_session("UnregisterSession");
    assert_eq!(session.get("registration_phase"), session.registration("Unregistered"));
    // The shell builds a new authority for a new registration; this one accepts the same session again.
    let fired = session.register();
    assert_eq!(k.transition_name(&fired), "ConfirmSession");
    assert_eq!(session.get("registration_phase"), session.registration("Queuing"));

    // With an executor: nothing registers during the drain, and the loop must exit before the final step.
    let mut session = attached(&k);
    session.with_session("BeginUnregisterSession");
    assert_eq!(session.phase(), "Attached");
    let labels = session.refuse_guarded("RegisterSession", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("ConfirmSession".to_string(), "!draining".to_string())]);
    let labels = session.refuse_guarded("BeginUnregisterSession", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("BeginUnregisterSession".to_string(), "registration_open".to_string())]);
    let labels = session.refuse_guarded("UnregisterSession", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("UnregisterSession".to_string(), "!executor_attached".to_string())]);
    // The runtime loop may still run work during the drain.
    session.begin_run("r1");
    session.finish_run("r1", "Committed");
    // Dropping the loop's channels: the canonical stop, then the exit.
    session.stop("runtime loop closed");
    let fired = session.fire("RuntimeExecutorExited", &[]);
    assert_eq!(k.effect_field(&fired, "RegistrationChanged", "registration_phase"), session.registration("Draining"));
    session.with_session("UnregisterSession");
    assert_eq!(session.get("registration_phase"), session.registration("Unregistered"));

    // Unregistering without a drain is refused.
    let mut session = registered(&k);
    let labels = session.refuse_guarded("UnregisterSession", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("UnregisterSession".to_string(), "draining".to_string())]);
}

#[test]
fn executor_exit_mid_run_keeps_the_run_and_a_new_claim_attaches_in_place() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    session.begin_run("r1");
    let fired = session.fire("RuntimeExecutorExited", &[]);
    assert_eq!(k.transition_name(&fired), "ExecutorExited");
    assert_eq!(session.phase(), "Running");
    assert_eq!(session.get("current_run_id"), some(session.run("r1")));
    assert_eq!(session.get("registration_phase"), session.registration("Queuing"));
    // A second exit report has nothing to detach.
    let labels = session.refuse_guarded("RuntimeExecutorExited", &[]);
    assert_eq!(labels, [("ExecutorExited".to_string(), "executor_attached".to_string())]);

    let mut without = session.clone();
    let fired = without.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");

    let fired = session.ensure_executor();
    assert_eq!(k.transition_name(&fired), "ClaimExecutorInPlace");
    assert_eq!(session.phase(), "Running");
    let fired = session.finish_run("r1", "Committed");
    assert_eq!(k.transition_name(&fired), "FinishRun");

    // The loop of an idle attached executor exits: back to Idle.
    let mut session = attached(&k);
    let fired = session.fire("RuntimeExecutorExited", &[]);
    assert_eq!(k.transition_name(&fired), "ExecutorExitedWhileAttached");
    assert_eq!(session.phase(), "Idle");
    session.ensure_executor();
    assert_eq!(session.phase(), "Attached");
}

#[test]
fn interrupts_need_a_run_in_flight() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    session.refuse_unmatched("InterruptCurrentRun", &[]);
    session.begin_run("r1");
    let fired = session.fire("InterruptCurrentRun", &[]);
    assert_eq!(k.effect_field(&fired, "RunInterruptRequested", "run_id"), some(session.run("r1")));
    assert_eq!(session.phase(), "Running");

    // The supervisor's routed signal.
    let fired = session.fire("SupervisorInterruptRequested", &[("session_id", session.sid("s1"))]);
    assert_eq!(k.transition_name(&fired), "SupervisorInterruptsRun");
    assert_eq!(k.effect_names(&fired), ["RunInterruptRequested"]);
    let labels = session.refuse_guarded("SupervisorInterruptRequested", &[("session_id", session.sid("s2"))]);
    assert_eq!(labels, [("SupervisorInterruptsRun".to_string(), "is_session(session_id)".to_string())]);
    session.finish_run("r1", "Cancelled");
    let fired = session.fire("SupervisorInterruptRequested", &[("session_id", session.sid("s1"))]);
    assert_eq!(k.transition_name(&fired), "SupervisorInterruptWithoutRun");
    assert!(fired.effects.is_empty());
}

#[test]
fn silent_intents_reach_the_driver_unless_stopped() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = registered(&k);
    let intents = set([s("peer.ping")]);
    let fired = session.fire("SetSilentIntents", &[("session_id", session.sid("s1")), ("intents", intents.clone())]);
    assert_eq!(session.get("silent_intents"), intents);
    assert_eq!(k.effect_field(&fired, "SilentIntentsChanged", "apply_to_driver"), b(true));
    assert_eq!(k.effect_field(&fired, "SilentIntentsChanged", "intents"), intents);
    session.stop("operator");
    let fired = session.fire("SetSilentIntents", &[("session_id", session.sid("s1")), ("intents", set([]))]);
    assert_eq!(k.effect_field(&fired, "SilentIntentsChanged", "apply_to_driver"), b(false));
    assert_eq!(session.get("silent_intents"), set([]));
}

// ---------------------------------------------------------------------------------------------------------------
// Cold recovery: the replays of a stored lifecycle state onto a freshly registered authority

#[test]
fn cold_recovery_replays_retired_stopped_and_destroyed() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());

    let mut session = registered(&k);
    session.with_session("Retire");
    assert_eq!(session.phase(), "Retired");

    let mut session = registered(&k);
    let fired = session.stop("recovered stopped runtime");
    assert_eq!(session.phase(), "Stopped");
    assert_eq!(k.effect_field(&fired, "RuntimeStopRequested", "reason"), s("recovered stopped runtime"));

    let mut session = registered(&k);
    session.with_session("Destroy");
    assert_eq!(session.phase(), "Destroyed");

    // Idle, Attached, Running and Initializing replay nothing; the replayed states recover cleanly.
    for state in one_state_per_phase(&k) {
        assert_eq!(k.interp.check_recovered(&state.st), Ok(()), "{}", state.phase());
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Classification tables

/// The seeds' lifecycle facts per observed state: (is_terminal, can_accept_input, can_process_queue,
/// prepare admission, ingress admission).
fn lifecycle_table(phase: &str) -> (bool, bool, bool, &'static str, &'static str) {
    match phase {
        "Initializing" => (false, false, false, "NotReady", "NotReady"),
        "Idle" | "Attached" => (false, true, true, "Ready", "Open"),
        "Running" => (false, true, false, "NotReady", "Open"),
        "Retired" => (false, false, true, "Ready", "NotReady"),
        "Stopped" => (false, false, false, "NotReady", "NotReady"),
        "Destroyed" => (true, false, false, "Destroyed", "Destroyed"),
        other => panic!("unknown phase {other}"),
    }
}

#[test]
fn lifecycle_state_classification_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for observed in PHASES {
            let before = session.st.clone();
            let fired = session.fire("ClassifyRuntimeLifecycleState", &[("state", k.ph(observed))]);
            assert_eq!(session.st, before);
            assert_eq!(fired.effects.len(), 1);
            let field = |name: &str| k.effect_field(&fired, "RuntimeLifecycleStateClassified", name);
            let (terminal, accepts, processes, prepare, ingress) = lifecycle_table(observed);
            assert_eq!(field("state"), k.ph(observed));
            let at = session.phase();
            assert_eq!(
                field("terminality"),
                k.en("RuntimeLifecycleTerminality", if terminal { "Terminal" } else { "NonTerminal" }),
                "{observed} in {at}"
            );
            assert_eq!(
                field("input_admission"),
                k.en("RuntimeInputAdmission", if accepts { "AcceptsInput" } else { "RejectsInput" }),
                "{observed}"
            );
            assert_eq!(
                field("queue_admission"),
                k.en("RuntimeQueueAdmission", if processes { "ProcessesQueue" } else { "BlocksQueue" }),
                "{observed}"
            );
            assert_eq!(field("prepare_admission"), k.en("RuntimePrepareAdmission", prepare), "{observed}");
            assert_eq!(field("ingress_admission"), k.en("RuntimeIngressAdmission", ingress), "{observed}");
        }
    }
}

#[test]
fn admission_facts_agree_with_the_transitions() {
    // can_accept_input is exactly where AcceptInput fires; can_prepare_run exactly where BeginRun fires.
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        let phase = session.phase();
        let (_, accepts, _, prepare, _) = lifecycle_table(phase);
        let accepted = session.clone().try_apply("AcceptInput", &[("input_id", session.input_id("new"))]).is_ok();
        assert_eq!(accepted, accepts, "AcceptInput in {phase}");
        let begun = session.try_apply("BeginRun", &[("run_id", session.run("new"))]).is_ok();
        assert_eq!(begun, prepare == "Ready", "BeginRun in {phase}");
    }
}

#[test]
fn durability_classification_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for observed in PHASES {
            let fired = session.fire("ClassifyRuntimeLifecycleDurability", &[("state", k.ph(observed))]);
            let durable = if observed == "Attached" { "Idle" } else { observed };
            assert_eq!(k.effect_field(&fired, "RuntimeLifecycleDurabilityClassified", "state"), k.ph(observed));
            assert_eq!(
                k.effect_field(&fired, "RuntimeLifecycleDurabilityClassified", "durable_state"),
                k.ph(durable),
                "{observed}"
            );
        }
    }
}

#[test]
fn runtime_loop_queue_admission_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for observed in PHASES {
            for bound in [false, true] {
                let fired = session.fire(
                    "ClassifyRuntimeLoopQueueAdmission",
                    &[("state", k.ph(observed)), ("current_run_bound", b(bound))],
                );
                let field = |name: &str| k.effect_field(&fired, "RuntimeLoopQueueAdmissionClassified", name);
                let binding = match (observed, bound) {
                    ("Idle" | "Attached" | "Retired" | "Running", true) => "UsePrebound",
                    ("Idle" | "Attached" | "Retired", false) => "AllocateNew",
                    _ => "Blocked",
                };
                assert_eq!(field("state"), k.ph(observed));
                assert_eq!(field("current_run_bound"), b(bound));
                assert_eq!(field("run_binding"), k.en("RuntimeLoopRunBinding", binding), "{observed} bound={bound}");
                let processes = binding != "Blocked";
                assert_eq!(
                    field("queue_admission"),
                    k.en("RuntimeQueueAdmission", if processes { "ProcessesQueue" } else { "BlocksQueue" }),
                    "{observed} bound={bound}"
                );
            }
        }
    }
}

/// The seeds' arbitration, restated: terminal precedence decides `publish_control`, the visible phase
/// rewrites Running + pre_run(Retired) to Retired.
fn expected_visible(
    dsl: &str,
    dsl_pre: Option<&str>,
    control: &str,
    control_pre: Option<&str>,
    persistent: bool,
) -> (bool, String, String) {
    let precedence = |p: &str| match p {
        "Destroyed" => 3,
        "Stopped" => 2,
        "Retired" => 1,
        _ => 0,
    };
    let publish = precedence(control) > precedence(dsl) && (persistent || control == "Destroyed");
    let (raw, pre) = if publish { (control, control_pre) } else { (dsl, dsl_pre) };
    let visible = if raw == "Running" && pre == Some("Retired") { "Retired" } else { raw };
    (publish, raw.to_string(), visible.to_string())
}

#[test]
fn visible_runtime_phase_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let pre_runs: Vec<Option<&str>> = std::iter::once(None).chain(PHASES.iter().copied().map(Some)).collect();
    let option_phase = |p: Option<&str>| p.map_or_else(none, |p| some(k.ph(p)));
    let sessions = one_state_per_phase(&k);
    // The full product in one phase, a slice of it in every phase.
    for (index, mut session) in sessions.into_iter().enumerate() {
        for dsl in PHASES {
            for &dsl_pre in &pre_runs {
                for control in PHASES {
                    for &control_pre in &pre_runs {
                        if index != 1 && control_pre.is_some() && dsl_pre.is_some() {
                            continue;
                        }
                        for persistent in [false, true] {
                            let fired = session.fire(
                                "ResolveVisibleRuntimePhase",
                                &[
                                    ("dsl_phase", k.ph(dsl)),
                                    ("dsl_pre_run_phase", option_phase(dsl_pre)),
                                    ("control_phase", k.ph(control)),
                                    ("control_pre_run_phase", option_phase(control_pre)),
                                    ("has_runtime_persistence", b(persistent)),
                                ],
                            );
                            let (publish, raw, visible) =
                                expected_visible(dsl, dsl_pre, control, control_pre, persistent);
                            let field = |name: &str| k.effect_field(&fired, "VisibleRuntimePhaseResolved", name);
                            let case = format!(
                                "dsl={dsl}/{dsl_pre:?} control={control}/{control_pre:?} persistent={persistent}"
                            );
                            assert_eq!(field("publish_control"), b(publish), "{case}");
                            assert_eq!(field("selected_raw_phase"), k.ph(&raw), "{case}");
                            assert_eq!(field("visible_phase"), k.ph(&visible), "{case}");
                        }
                    }
                }
            }
        }
    }

    // Spot checks of the decisions, in words.
    let mut session = registered(&k);
    let mut resolve = |dsl: &str, dsl_pre: Option<&str>, control: &str, persistent: bool| {
        let fired = session.fire(
            "ResolveVisibleRuntimePhase",
            &[
                ("dsl_phase", k.ph(dsl)),
                ("dsl_pre_run_phase", option_phase(dsl_pre)),
                ("control_phase", k.ph(control)),
                ("control_pre_run_phase", none()),
                ("has_runtime_persistence", b(persistent)),
            ],
        );
        (
            k.effect_field(&fired, "VisibleRuntimePhaseResolved", "publish_control"),
            k.effect_field(&fired, "VisibleRuntimePhaseResolved", "visible_phase"),
        )
    };
    // A run draining a retired session shows as Retired.
    assert_eq!(resolve("Running", Some("Retired"), "Running", false), (b(false), k.ph("Retired")));
    assert_eq!(resolve("Running", Some("Idle"), "Running", false), (b(false), k.ph("Running")));
    // A durable terminal fact wins; an ephemeral projection only wins when destroyed.
    assert_eq!(resolve("Idle", None, "Stopped", true), (b(true), k.ph("Stopped")));
    assert_eq!(resolve("Idle", None, "Stopped", false), (b(false), k.ph("Idle")));
    assert_eq!(resolve("Running", None, "Destroyed", false), (b(true), k.ph("Destroyed")));
    // The kernel's own terminal state is never overridden by a less terminal projection.
    assert_eq!(resolve("Destroyed", None, "Stopped", true), (b(false), k.ph("Destroyed")));
}

const INPUT_PHASES: [&str; 9] = [
    "Accepted",
    "Queued",
    "Staged",
    "Applied",
    "AppliedPendingConsumption",
    "Consumed",
    "Superseded",
    "Coalesced",
    "Abandoned",
];
const KINDS: [Option<&str>; 5] = [None, Some("Consumed"), Some("Superseded"), Some("Coalesced"), Some("Abandoned")];
const REASONS: [Option<&str>; 7] = [
    None,
    Some("Retired"),
    Some("Reset"),
    Some("Stopped"),
    Some("Destroyed"),
    Some("Cancelled"),
    Some("MaxAttemptsExhausted"),
];

fn is_terminal_input_phase(phase: &str) -> bool {
    matches!(phase, "Consumed" | "Superseded" | "Coalesced" | "Abandoned")
}

/// Terminal facts consistent with the phase.
fn consistent(phase: &str, kind: Option<&str>, reason: Option<&str>) -> bool {
    let expected_kind = if is_terminal_input_phase(phase) { Some(phase) } else { None };
    kind == expected_kind && reason.is_some() == (phase == "Abandoned")
}

#[test]
fn input_public_lifecycle_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for phase in INPUT_PHASES {
            let fired = session
                .fire("ResolveInputPublicLifecycle", &[("input_id", s("in-7")), ("phase", session.input_phase(phase))]);
            let public = if phase == "AppliedPendingConsumption" { "Applied" } else { phase };
            assert_eq!(k.effect_field(&fired, "InputPublicLifecycleResolved", "input_id"), s("in-7"));
            assert_eq!(
                k.effect_field(&fired, "InputPublicLifecycleResolved", "phase"),
                k.en("InputPublicLifecycleState", public),
                "{phase}"
            );
        }
    }
}

#[test]
fn input_terminal_outcome_and_terminality_tables() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let kind_value = |kind: Option<&str>| kind.map_or_else(none, |kind| some(k.en("InputTerminalKind", kind)));
    let reason_value =
        |reason: Option<&str>| reason.map_or_else(none, |reason| some(k.en("InputAbandonReason", reason)));
    for mut session in one_state_per_phase(&k) {
        for phase in INPUT_PHASES {
            for kind in KINDS {
                for reason in REASONS {
                    let fields = [
                        ("input_id", s("in-7")),
                        ("phase", session.input_phase(phase)),
                        ("terminal_kind", kind_value(kind)),
                        ("abandon_reason", reason_value(reason)),
                    ];
                    let case = format!("{phase} {kind:?} {reason:?} in {}", session.phase());

                    // Public terminal outcome: refused when the facts disagree.
                    if consistent(phase, kind, reason) {
                        let fired = session.fire("ResolveInputPublicTerminalOutcome", &fields);
                        let expected = match phase {
                            "Consumed" => Some("Completed"),
                            "Superseded" => Some("Superseded"),
                            "Coalesced" => Some("Coalesced"),
                            "Abandoned" if reason == Some("Cancelled") => Some("Cancelled"),
                            "Abandoned" => Some("Abandoned"),
                            _ => None,
                        };
                        let expected = expected.map_or_else(none, |o| some(k.en("InputPublicTerminalOutcome", o)));
                        assert_eq!(k.effect_field(&fired, "InputPublicTerminalOutcomeResolved", "input_id"), s("in-7"));
                        assert_eq!(
                            k.effect_field(&fired, "InputPublicTerminalOutcomeResolved", "terminal_outcome"),
                            expected,
                            "{case}"
                        );
                    } else {
                        let labels = session.refuse_guarded("ResolveInputPublicTerminalOutcome", &fields);
                        assert_eq!(labels.len(), 1, "{case}");
                    }

                    // Behavioral terminality always answers, with exactly one effect.
                    let fired = session.fire("ClassifyInputTerminality", &fields);
                    assert_eq!(k.effect_names(&fired), ["InputBehavioralTerminalityResolved"], "{case}");
                    assert_eq!(k.effect_field(&fired, "InputBehavioralTerminalityResolved", "input_id"), s("in-7"));
                    let terminal = is_terminal_input_phase(phase) || kind.is_some();
                    assert_eq!(
                        k.effect_field(&fired, "InputBehavioralTerminalityResolved", "terminal"),
                        b(terminal),
                        "{case}"
                    );
                }
            }
        }
    }
}

#[test]
fn stored_input_seed_authorization() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let kind = |kind: &str| some(k.en("InputTerminalKind", kind));
    let reason = |reason: &str| some(k.en("InputAbandonReason", reason));
    let seed = |session: &Session, phase: &str| -> Vec<(&'static str, Value)> {
        vec![
            ("input_id", s("in-7")),
            ("phase", session.input_phase(phase)),
            ("terminal_kind", none()),
            ("superseded_by", none()),
            ("aggregate_id", none()),
            ("abandon_reason", none()),
            ("abandon_attempt_count", u(0)),
            ("attempt_count", u(0)),
            ("run_id", none()),
            ("boundary_sequence", none()),
            ("admission_sequence", some(u(4))),
            ("recovery_lane", some(k.en("InputLane", "Ordinary"))),
        ]
    };
    let with = |mut fields: Vec<(&'static str, Value)>, changes: Vec<(&'static str, Value)>| {
        for (name, value) in changes {
            fields.iter_mut().find(|(n, _)| *n == name).unwrap().1 = value;
        }
        fields
    };
    for mut session in one_state_per_phase(&k) {
        let accepted: Vec<Vec<(&str, Value)>> = vec![
            seed(&session, "Queued"),
            with(
                seed(&session, "Staged"),
                vec![("attempt_count", u(1)), ("run_id", some(s("r1"))), ("boundary_sequence", some(u(2)))],
            ),
            with(seed(&session, "Consumed"), vec![("terminal_kind", kind("Consumed")), ("attempt_count", u(1))]),
            with(
                seed(&session, "Superseded"),
                vec![("terminal_kind", kind("Superseded")), ("superseded_by", some(s("in-8")))],
            ),
            with(
                seed(&session, "Coalesced"),
                vec![("terminal_kind", kind("Coalesced")), ("aggregate_id", some(s("agg")))],
            ),
            with(
                seed(&session, "Abandoned"),
                vec![
                    ("terminal_kind", kind("Abandoned")),
                    ("abandon_reason", reason("Retired")),
                    ("attempt_count", u(2)),
                    ("abandon_attempt_count", u(2)),
                ],
            ),
            with(
                seed(&session, "Abandoned"),
                vec![
                    ("terminal_kind", kind("Abandoned")),
                    ("abandon_reason", reason("MaxAttemptsExhausted")),
                    ("attempt_count", u(3)),
                    ("abandon_attempt_count", u(5)),
                ],
            ),
        ];
        for fields in &accepted {
            let fired = session.fire("AuthorizeStoredInputStateSeed", fields);
            assert_eq!(k.effect_field(&fired, "StoredInputStateSeedAuthorized", "input_id"), s("in-7"));
        }
        let refused: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (
                with(seed(&session, "Consumed"), vec![]),
                "terminal_parts_consistent(phase, terminal_kind, abandon_reason)",
            ),
            (
                with(seed(&session, "Queued"), vec![("terminal_kind", kind("Consumed"))]),
                "terminal_parts_consistent(phase, terminal_kind, abandon_reason)",
            ),
            (
                with(seed(&session, "Abandoned"), vec![("terminal_kind", kind("Abandoned"))]),
                "terminal_parts_consistent(phase, terminal_kind, abandon_reason)",
            ),
            (
                with(
                    seed(&session, "Consumed"),
                    vec![("terminal_kind", kind("Consumed")), ("superseded_by", some(s("in-8")))],
                ),
                "superseded_by.is_some() == (terminal_kind == Some(InputTerminalKind::Superseded))",
            ),
            (
                with(seed(&session, "Superseded"), vec![("terminal_kind", kind("Superseded"))]),
                "superseded_by.is_some() == (terminal_kind == Some(InputTerminalKind::Superseded))",
            ),
            (
                with(seed(&session, "Coalesced"), vec![("terminal_kind", kind("Coalesced"))]),
                "aggregate_id.is_some() == (terminal_kind == Some(InputTerminalKind::Coalesced))",
            ),
            (
                with(seed(&session, "Queued"), vec![("abandon_attempt_count", u(1))]),
                "abandon_attempts_consistent(abandon_reason, abandon_attempt_count, attempt_count)",
            ),
            (
                with(
                    seed(&session, "Abandoned"),
                    vec![
                        ("terminal_kind", kind("Abandoned")),
                        ("abandon_reason", reason("Stopped")),
                        ("attempt_count", u(2)),
                        ("abandon_attempt_count", u(1)),
                    ],
                ),
                "abandon_attempts_consistent(abandon_reason, abandon_attempt_count, attempt_count)",
            ),
            (
                with(
                    seed(&session, "Abandoned"),
                    vec![("terminal_kind", kind("Abandoned")), ("abandon_reason", reason("MaxAttemptsExhausted"))],
                ),
                "abandon_attempts_consistent(abandon_reason, abandon_attempt_count, attempt_count)",
            ),
            (with(seed(&session, "Queued"), vec![("attempt_count", u(4))]), "attempt_count <= max_stage_attempts()"),
            (
                with(seed(&session, "Queued"), vec![("boundary_sequence", some(u(1)))]),
                "boundary_sequence.is_none() || run_id.is_some()",
            ),
        ];
        for (fields, label) in &refused {
            let labels = session.refuse_guarded("AuthorizeStoredInputStateSeed", fields);
            assert_eq!(labels, [("AuthorizeStoredInputStateSeed".to_string(), label.to_string())]);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Guards and invariants, each refusing the input that would break it

#[test]
fn one_authoritative_runtime_binding() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    let prepare = |session: &mut Session, runtime: &str, fence: u64| {
        let fields = [
            ("agent_runtime_id", session.runtime(runtime)),
            ("fence_token", k.nt("FenceToken", u(fence))),
            ("generation", k.nt("Generation", u(0))),
            ("session_id", session.sid("s1")),
        ];
        session.try_apply("PrepareBindings", &fields)
    };
    let fired = prepare(&mut session, "rt1", 0).unwrap();
    assert_eq!(k.transition_name(&fired), "BindRuntime");
    // The same runtime again: accepted, nothing changes.
    let before = session.st.clone();
    let fired = prepare(&mut session, "rt1", 9).unwrap();
    assert_eq!(k.transition_name(&fired), "ConfirmRuntimeBinding");
    assert!(fired.effects.is_empty());
    assert_eq!(session.st, before);
    // A different runtime: refused, state unchanged.
    let rejection = prepare(&mut session, "rt2", 0).unwrap_err();
    assert_eq!(session.st, before);
    assert_eq!(
        k.rejections(&rejection),
        [
            ("BindRuntime".to_string(), "runtime_unbound".to_string()),
            ("ConfirmRuntimeBinding".to_string(), "active_runtime_id == Some(agent_runtime_id)".to_string())
        ]
    );
    // Another session's binding request is refused; so is any binding of a stopped runtime.
    let fields = [
        ("agent_runtime_id", session.runtime("rt1")),
        ("fence_token", k.nt("FenceToken", u(0))),
        ("generation", k.nt("Generation", u(0))),
        ("session_id", session.sid("s2")),
    ];
    session.refuse_guarded("PrepareBindings", &fields);
    let mut stopped = registered(&k);
    stopped.stop("operator");
    let fields = [
        ("agent_runtime_id", stopped.runtime("rt1")),
        ("fence_token", k.nt("FenceToken", u(0))),
        ("generation", k.nt("Generation", u(0))),
        ("session_id", stopped.sid("s1")),
    ];
    stopped.refuse_unmatched("PrepareBindings", &fields);
}

#[test]
fn executor_registration_claims() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());

    // Before any registration there is no session to claim for.
    let mut session = Session::new(&k);
    session.refuse_unmatched("EnsureSessionWithExecutor", &[("session_id", session.sid("s1"))]);

    // A granted claim is never granted twice (no second loop): Attached has no claim transition at all, and a
    // running or retired session with an active registration refuses by guard.
    let mut session = attached(&k);
    session.refuse_unmatched("EnsureSessionWithExecutor", &[("session_id", session.sid("s1"))]);
    session.begin_run("r1");
    let labels = session.refuse_guarded("EnsureSessionWithExecutor", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("ClaimExecutorInPlace".to_string(), "awaiting_executor".to_string())]);

    // Never while draining.
    let mut session = registered(&k);
    session.with_session("BeginUnregisterSession");
    let labels = session.refuse_guarded("EnsureSessionWithExecutor", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("ClaimExecutorFromIdle".to_string(), "awaiting_executor".to_string())]);

    // Never after an unregister, until the session registers again.
    session.with_session("UnregisterSession");
    let labels = session.refuse_guarded("EnsureSessionWithExecutor", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("ClaimExecutorFromIdle".to_string(), "awaiting_executor".to_string())]);
    session.register();
    session.ensure_executor();

    // Never for another session, never from Stopped.
    let mut session = registered(&k);
    let labels = session.refuse_guarded("EnsureSessionWithExecutor", &[("session_id", session.sid("s2"))]);
    assert_eq!(labels, [("ClaimExecutorFromIdle".to_string(), "is_session(session_id)".to_string())]);
    session.stop("operator");
    session.refuse_unmatched("EnsureSessionWithExecutor", &[("session_id", session.sid("s1"))]);
}

#[test]
fn a_kernel_serves_one_session() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = registered(&k);
    for name in
        ["RegisterSession", "Retire", "Reset", "Recycle", "Destroy", "BeginUnregisterSession", "StageVisibilityFilter"]
    {
        let labels = session.refuse_guarded(name, &[("session_id", session.sid("s2"))]);
        assert!(labels.iter().all(|(_, label)| label == "is_session(session_id)"), "{name}: {labels:?}");
    }
    let labels = session.refuse_guarded("SetSilentIntents", &[("session_id", session.sid("s2")), ("intents", set([]))]);
    assert_eq!(labels, [("SetSilentIntents".to_string(), "is_session(session_id)".to_string())]);
}

#[test]
fn the_ledger_never_changes_a_terminal_input() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    session.ledger("AcceptInput", "i1");
    session.ledger("QueueInput", "i1");
    session.begin_run("r1");
    session.stage("i1", "r1");
    session.apply_input("i1", "r1", false);
    session.ledger("ConsumeInput", "i1");
    let id = session.input_id("i1");
    let run = session.run("r1");

    let labels = session.refuse_guarded("AcceptInput", &[("input_id", id.clone())]);
    assert_eq!(labels, [("AcceptInput".to_string(), "!input_ledger.contains_key(input_id)".to_string())]);
    assert_eq!(session.refuse_guarded("QueueInput", &[("input_id", id.clone())]).len(), 1);
    assert_eq!(session.refuse_guarded("StageInput", &[("input_id", id.clone()), ("run_id", run.clone())]).len(), 1);
    assert_eq!(
        session
            .refuse_guarded("ApplyInput", &[("input_id", id.clone()), ("run_id", run), ("awaits_commit", b(true))])
            .len(),
        1
    );
    assert_eq!(session.refuse_guarded("ConsumeInput", &[("input_id", id.clone())]).len(), 1);
    assert_eq!(
        session
            .refuse_guarded("SupersedeInput", &[("input_id", id.clone()), ("superseded_by", session.input_id("i2"))])
            .len(),
        1
    );
    assert_eq!(
        session.refuse_guarded("CoalesceInput", &[("input_id", id.clone()), ("aggregate_id", s("agg"))]).len(),
        1
    );
    for reason in ["Retired", "Reset", "Stopped", "Destroyed", "Cancelled", "MaxAttemptsExhausted"] {
        let rejection = session.abandon("i1", reason).unwrap_err();
        assert_eq!(k.rejections(&rejection), [("AbandonInput".to_string(), "input_live(input_id)".to_string())]);
    }
    // Unknown inputs are not live either.
    assert_eq!(session.refuse_guarded("QueueInput", &[("input_id", session.input_id("nope"))]).len(), 1);
}

#[test]
fn ledger_supersede_coalesce_and_abandon() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    for id in ["i1", "i2", "i3"] {
        session.ledger("AcceptInput", id);
    }
    session.ledger("QueueInput", "i1");

    // Only by another ledger input, never by itself.
    let labels = session.refuse_guarded(
        "SupersedeInput",
        &[("input_id", session.input_id("i1")), ("superseded_by", session.input_id("i1"))],
    );
    assert_eq!(labels, [("SupersedeInput".to_string(), "superseded_by != input_id".to_string())]);
    let labels = session.refuse_guarded(
        "SupersedeInput",
        &[("input_id", session.input_id("i1")), ("superseded_by", session.input_id("zz"))],
    );
    assert_eq!(labels, [("SupersedeInput".to_string(), "input_ledger.contains_key(superseded_by)".to_string())]);
    session.fire("SupersedeInput", &[("input_id", session.input_id("i1")), ("superseded_by", session.input_id("i2"))]);
    assert_eq!(session.record_phase("i1"), session.input_phase("Superseded"));

    session.fire("CoalesceInput", &[("input_id", session.input_id("i2")), ("aggregate_id", s("agg"))]);
    assert_eq!(session.record_phase("i2"), session.input_phase("Coalesced"));

    // A staged input can no longer be superseded, but can be abandoned.
    session.ledger("QueueInput", "i3");
    session.begin_run("r1");
    session.stage("i3", "r1");
    let labels =
        session.refuse_guarded("CoalesceInput", &[("input_id", session.input_id("i3")), ("aggregate_id", s("agg"))]);
    assert_eq!(labels, [("CoalesceInput".to_string(), "input_pending(input_id)".to_string())]);
    let fired = session.abandon("i3", "Cancelled").unwrap();
    let record = k.effect_field(&fired, "InputLedgerUpdated", "record");
    assert_eq!(
        record,
        k.rec(
            "InputRecord",
            &[
                ("phase", session.input_phase("Abandoned")),
                ("attempt_count", u(1)),
                ("terminal_kind", some(k.en("InputTerminalKind", "Abandoned"))),
                ("abandon_reason", some(k.en("InputAbandonReason", "Cancelled"))),
            ]
        )
    );
    assert_eq!(k.interp.check_recovered(&session.st), Ok(()));
}

#[test]
fn max_attempts_exhaustion() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    session.ledger("AcceptInput", "i1");
    session.ledger("QueueInput", "i1");
    session.begin_run("r1");
    for attempt in 1..=3 {
        // Not exhausted yet.
        let rejection = session.abandon("i1", "MaxAttemptsExhausted").unwrap_err();
        assert_eq!(
            k.rejections(&rejection),
            [("AbandonInput".to_string(), "abandon_reason_admissible(input_id, reason)".to_string())]
        );
        session.stage("i1", "r1");
        assert_eq!(session.record_attempts("i1"), u(attempt));
        // The run failed: the staging is rolled back to the queue.
        session.ledger("QueueInput", "i1");
    }
    let labels =
        session.refuse_guarded("StageInput", &[("input_id", session.input_id("i1")), ("run_id", session.run("r1"))]);
    assert_eq!(labels, [("StageInput".to_string(), "attempts_remaining(input_id)".to_string())]);
    session.abandon("i1", "MaxAttemptsExhausted").expect("exhausted inputs are abandoned");
    assert_eq!(session.record_phase("i1"), session.input_phase("Abandoned"));
}

#[test]
fn staging_belongs_to_the_bound_run() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    session.ledger("AcceptInput", "i1");
    session.ledger("QueueInput", "i1");
    session.refuse_unmatched("StageInput", &[("input_id", session.input_id("i1")), ("run_id", session.run("r1"))]);
    session.begin_run("r1");
    let labels =
        session.refuse_guarded("StageInput", &[("input_id", session.input_id("i1")), ("run_id", session.run("r2"))]);
    assert_eq!(labels, [("StageInput".to_string(), "is_current_run(run_id)".to_string())]);
    let labels = session.refuse_guarded(
        "ApplyInput",
        &[("input_id", session.input_id("i1")), ("run_id", session.run("r1")), ("awaits_commit", b(false))],
    );
    assert_eq!(labels, [("ApplyInput".to_string(), "ledger_phase(input_id) == Some(InputPhase::Staged)".to_string())]);
}

#[test]
fn destroy_needs_a_quiescent_ledger() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    session.ledger("AcceptInput", "i1");
    let labels = session.refuse_guarded("Destroy", &[("session_id", session.sid("s1"))]);
    assert_eq!(labels, [("Destroy".to_string(), "ledger_quiescent".to_string())]);
    session.abandon("i1", "Destroyed").unwrap();
    session.with_session("Destroy");
    assert_eq!(session.phase(), "Destroyed");
    assert_eq!(k.interp.check_recovered(&session.st), Ok(()));
}

/// Replaces one state field of a session's state (for recovery checks of states no transition reaches).
fn with_field(k: &Kit, state: &State, field: &str, value: Value) -> State {
    let mut state = state.clone();
    let index = k.m.fields.iter().position(|f| f.name == field).unwrap();
    state.fields[index] = value;
    state
}

#[test]
fn recovery_rejects_states_that_break_an_invariant() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let check = |state: &State| k.invariant_name(&k.interp.check_recovered(state).unwrap_err()).to_string();
    let idle = registered(&k);
    let mut running = attached(&k);
    running.begin_run("r1");
    let mut destroyed = registered(&k);
    destroyed.with_session("Destroy");

    // Stop deferral only while a run is bound.
    assert_eq!(
        check(&with_field(&k, &idle.st, "runtime_stop_deferred", b(true))),
        "stop_deferred_only_while_run_bound"
    );
    // Destroyed shape: nothing bound, attached or registered.
    let d = &destroyed.st;
    assert_eq!(check(&with_field(&k, d, "executor_attached", b(true))), "executor_matches_registration");
    assert_eq!(check(&with_field(&k, d, "registration_phase", idle.registration("Queuing"))), "destroyed_shape");
    let bound = with_field(&k, d, "active_runtime_id", some(idle.runtime("rt1")));
    let bound = with_field(&k, &bound, "active_fence_token", some(k.nt("FenceToken", u(0))));
    let bound = with_field(&k, &bound, "active_runtime_generation", some(k.nt("Generation", u(0))));
    assert_eq!(check(&bound), "destroyed_shape");
    let live = map([(
        idle.input_id("i1"),
        k.rec(
            "InputRecord",
            &[
                ("phase", idle.input_phase("Queued")),
                ("attempt_count", u(0)),
                ("terminal_kind", none()),
                ("abandon_reason", none()),
            ],
        ),
    )]);
    assert_eq!(check(&with_field(&k, d, "input_ledger", live)), "destroyed_shape");
    // Session identity and run binding.
    assert_eq!(check(&with_field(&k, &idle.st, "session_id", none())), "session_claimed_outside_initializing");
    assert_eq!(check(&with_field(&k, &running.st, "current_run_id", none())), "run_bound_while_running");
    assert_eq!(
        check(&with_field(&k, &running.st, "pre_run_phase", some(k.ph("Stopped")))),
        "pre_run_phase_while_running"
    );
    assert_eq!(
        check(&with_field(&k, &idle.st, "active_runtime_id", some(idle.runtime("rt1")))),
        "runtime_binding_complete"
    );
    // A malformed ledger record.
    let bad = map([(
        idle.input_id("i1"),
        k.rec(
            "InputRecord",
            &[
                ("phase", idle.input_phase("Consumed")),
                ("attempt_count", u(1)),
                ("terminal_kind", none()),
                ("abandon_reason", none()),
            ],
        ),
    )]);
    assert_eq!(check(&with_field(&k, &idle.st, "input_ledger", bad)), "ledger_records_well_formed");
    // The visibility clauses on the committed state.
    assert_eq!(
        check(&with_field(&k, &idle.st, "staged_visibility_revision", u(1))),
        "visible_active_not_behind_staged"
    );
    let deny = k.rec("ToolFilter", &[("mode", k.en("ToolFilterMode", "Deny")), ("names", set([s("shell")]))]);
    assert_eq!(
        check(&with_field(&k, &idle.st, "staged_filter", deny)),
        "visible_equal_revision_requires_equal_active_and_staged_input"
    );
    let revised = with_field(&k, &idle.st, "next_staged_visibility_revision", u(3));
    let revised = with_field(&k, &revised, "active_visibility_revision", u(2));
    assert_eq!(
        check(&with_field(&k, &revised, "active_requested_deferred_names", set([s("search")]))),
        "visible_active_requested_subset_of_staged_requested"
    );
    assert_eq!(
        check(&with_field(
            &k,
            &idle.st,
            "active_deferred_authorities",
            map([(s("search"), k.nt("ToolVisibilityWitness", s("w")))])
        )),
        "visible_authorities_for_requested"
    );
    assert_eq!(check(&with_field(&k, &idle.st, "next_staged_visibility_revision", u(0))), "visible_revisions_minted");
}

// ---------------------------------------------------------------------------------------------------------------
// Tool visibility

#[test]
fn visibility_revisions_and_committed_sets() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    let all = k.rec("ToolFilter", &[("mode", k.en("ToolFilterMode", "AllowAll")), ("names", set([]))]);
    let deny_shell = k.rec("ToolFilter", &[("mode", k.en("ToolFilterMode", "Deny")), ("names", set([s("shell")]))]);
    let witness = k.nt("ToolVisibilityWitness", s("w"));

    let fired = session.with_session("StageVisibilityFilter");
    assert_eq!(k.effect_field(&fired, "VisibilityRevisionMinted", "revision"), u(1));
    assert_eq!(session.get("next_staged_visibility_revision"), u(2));
    let labels =
        session.refuse_guarded("RequestDeferredTools", &[("session_id", session.sid("s1")), ("authorities", map([]))]);
    assert_eq!(labels, [("RequestDeferredTools".to_string(), "!authorities.is_empty()".to_string())]);
    let fired = session.fire(
        "RequestDeferredTools",
        &[("session_id", session.sid("s1")), ("authorities", map([(s("search"), witness.clone())]))],
    );
    assert_eq!(k.effect_field(&fired, "VisibilityRevisionMinted", "revision"), u(2));
    assert_eq!(
        k.effect_field(&fired, "VisibilityRevisionMinted", "purpose"),
        k.en("RevisionPurpose", "DeferredToolRequest")
    );

    // A published set: (active filter, staged filter, active names, staged names, active authorities, staged
    // authorities, active revision, staged revision).
    let publish = |session: &mut Session,
                   active: &Value,
                   staged: &Value,
                   active_names: Value,
                   staged_names: Value,
                   active_auth: Value,
                   active_revision: u64,
                   staged_revision: u64| {
        let fields = [
            ("session_id", session.sid("s1")),
            ("active_filter", active.clone()),
            ("staged_filter", staged.clone()),
            ("active_requested_deferred_names", active_names),
            ("staged_requested_deferred_names", staged_names.clone()),
            ("active_deferred_authorities", active_auth),
            ("staged_deferred_authorities", map([])),
            ("active_visibility_revision", u(active_revision)),
            ("staged_visibility_revision", u(staged_revision)),
        ];
        session.try_apply("PublishCommittedVisibleSet", &fields)
    };
    let guard_label = |result: Result<Fired, Rejection>| {
        let rejection = result.unwrap_err();
        let labels = k.rejections(&rejection);
        assert_eq!(labels.len(), 1);
        labels[0].1.clone()
    };

    let before = session.st.clone();
    // Clause 1: the active surface behind the staged input.
    let label = guard_label(publish(&mut session, &deny_shell, &deny_shell, set([]), set([]), map([]), 1, 2));
    assert_eq!(label, "active_not_behind_staged(active_visibility_revision, staged_visibility_revision)");
    // Clause 2: equal revisions, different filters.
    let label = guard_label(publish(&mut session, &all, &deny_shell, set([]), set([]), map([]), 2, 2));
    assert!(label.starts_with("equal_revision_requires_equal_active_and_staged_input("), "{label}");
    // Clause 3: the active surface requests a tool the staged input does not.
    let label = guard_label(publish(&mut session, &all, &deny_shell, set([s("search")]), set([]), map([]), 2, 1));
    assert_eq!(
        label,
        "active_requested_subset_of_staged_requested(active_requested_deferred_names, staged_requested_deferred_names)"
    );
    // Authorities only for requested names.
    let label =
        guard_label(publish(&mut session, &all, &all, set([]), set([]), map([(s("search"), witness.clone())]), 2, 2));
    assert_eq!(label, "authorities_for_requested(active_deferred_authorities, active_requested_deferred_names)");
    // Revisions this kernel never minted.
    let label = guard_label(publish(&mut session, &all, &all, set([]), set([]), map([]), 3, 3));
    assert_eq!(label, "revision_minted(active_visibility_revision)");
    assert_eq!(session.st, before, "refused publications change nothing");

    // A consistent set commits.
    let fired = publish(
        &mut session,
        &deny_shell,
        &deny_shell,
        set([s("search")]),
        set([s("search")]),
        map([(s("search"), witness.clone())]),
        2,
        2,
    )
    .unwrap();
    assert_eq!(k.effect_field(&fired, "VisibleSetPublished", "active_visibility_revision"), u(2));
    assert_eq!(session.get("active_filter"), deny_shell);
    assert_eq!(session.get("staged_requested_deferred_names"), set([s("search")]));
    assert_eq!(session.get("active_deferred_authorities"), map([(s("search"), witness)]));
    assert_eq!(k.interp.check_recovered(&session.st), Ok(()));
    // An older set is stale.
    let label = guard_label(publish(&mut session, &all, &all, set([]), set([]), map([]), 1, 1));
    assert_eq!(label, "active_visibility_revision >= self.active_visibility_revision");
}

// ---------------------------------------------------------------------------------------------------------------
// The composition: lifecycle observations reach the supervisor, its interrupt reaches the run

/// Converts a routed value between the two machines' declared types (newtypes of the same name and shape).
fn convert(from: &Machine, to: &Machine, value: &Value) -> Value {
    match value {
        Value::Newtype(id, inner) => {
            let name = &from.types[id.index()].name;
            let target = to.types.iter().position(|t| &t.name == name).expect("the target declares the newtype");
            Value::Newtype(TypeId(target as u32), Box::new(convert(from, to, inner)))
        }
        other => other.clone(),
    }
}

/// Delivers every effect of `fired` that a route of the package carries from `from` to `to`.
fn deliver(package: &CheckedPackage, from: &Machine, fired: &Fired, to: &Machine, to_state: &mut State) -> usize {
    let from_id = package.machines.iter().position(|m| m.name == from.name).unwrap();
    let to_id = package.machines.iter().position(|m| m.name == to.name).unwrap();
    let interp = Interpreter::new(to);
    let mut delivered = 0;
    for emitted in &fired.effects {
        for route in package.compositions.iter().flat_map(|c| &c.routes) {
            if route.from_machine.index() != from_id
                || route.to_machine.index() != to_id
                || route.effect != emitted.effect
            {
                continue;
            }
            let fields = route
                .fields
                .iter()
                .map(|value| match value {
                    RouteValue::EffectField(index) => convert(from, to, &emitted.fields[*index as usize]),
                    RouteValue::Constant(_) => panic!("no constant route values in this composition"),
                })
                .collect();
            let message = Message { trigger: route.target, fields };
            interp.apply(to_state, &message).unwrap_or_else(|r| panic!("routed delivery refused: {}", r.describe(to)));
            delivered += 1;
        }
    }
    delivered
}

#[test]
fn composition_routes_lifecycle_observations_and_interrupts() {
    let package = package();
    let meerkat = package.machine("MeerkatMachine").unwrap();
    let supervisor = package.machine("SessionSupervisor").unwrap();
    let k = Kit::new(meerkat);
    let sk = Kit::new(supervisor);
    let mut member = attached(&k);
    let mut roster = Session::new(&sk);
    roster.fire("AdmitMember", &[("session_id", sk.nt("SessionId", s("s1")))]);

    // The supervisor's interrupt reaches the member's run.
    member.begin_run("r1");
    let fired = roster.fire("InterruptMember", &[("session_id", sk.nt("SessionId", s("s1")))]);
    let delivered = deliver(&package, supervisor, &fired, meerkat, &mut member.st);
    assert_eq!(delivered, 1);
    member.finish_run("r1", "Cancelled");

    // Retirement and destruction reach the roster.
    let fired = member.with_session("Retire");
    assert_eq!(deliver(&package, meerkat, &fired, supervisor, &mut roster.st), 1);
    assert_eq!(roster.get("retired"), set([sk.nt("SessionId", s("s1"))]));
    let fired = member.with_session("Destroy");
    assert_eq!(deliver(&package, meerkat, &fired, supervisor, &mut roster.st), 1);
    assert_eq!(roster.get("members"), set([]));
    roster.fire("Close", &[]);
    assert_eq!(roster.phase(), "Closed");
    // Routes are typed: the routed interrupt is MeerkatMachine's signal.
    let route = package.compositions[0].routes.iter().find(|r| r.to_machine.index() == 0).unwrap();
    assert!(matches!(route.target, Trigger::Signal(_)));
    let _: &ir::Route = route;
}
