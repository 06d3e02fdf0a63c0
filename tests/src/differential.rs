//! The differential driver: runs a generated kernel and the reference interpreter side by side on the same
//! random inputs and signals, and requires them to agree on everything observable.
//!
//! Each case starts both at the initial state and runs a sequence of operations: apply a message (payloads from
//! the spec's model domains where it has them), take or restore a snapshot, or recover an authority from the
//! current state. A message is applied directly or staged (`Authority::stage`, the logging `stage_*` methods of
//! the kernel), and a staged change may later be rolled back: the roll-back must happen exactly when nothing
//! changed the authority since (its version), and must bring back the interpreter's state from before the
//! message. After every step the states must be equal; a fired transition must be the same transition
//! between the same phases with the same effects; a rejection must be the same rejection (kind, names, guard
//! labels) and leave the state exactly as it was.
//!
//! The kernels are generated with the default options, so their invariant checks are incremental (an invariant a
//! transition writes nothing of is skipped, `m.all`/`m.any` over a map written by entries is checked on the
//! entries written) while the interpreter checks every invariant in full: agreement on every rejection proves
//! the two checks agree (`specs/quota.machine` breaks such invariants on purpose).
//!
//! The number of steps per machine is `MEERKAT_DIFF_STEPS` (default 10 000). Failing sequences are shrunk by
//! proptest and reported with every value rendered in spec syntax.

// A test harness reports a failure by panicking with a readable message.
#![allow(clippy::panic)]

use std::sync::Arc;

use meerkat_dsl::interp::{Interpreter, Message, RecoveryRejection, Rejection, State};
use meerkat_dsl::ir::Machine;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use meerkat_kernel::{Authority, AuthoritySnapshot, Staged};

use crate::values::Values;
use crate::{InterpKernel, apply_message, recover, stage_message};

/// Operations per case.
const CASE_LENGTH: usize = 50;

/// Steps per machine unless `MEERKAT_DIFF_STEPS` says otherwise.
pub const DEFAULT_STEPS: usize = 10_000;

/// One step of a differential case: apply a message, then maybe one more operation.
#[derive(Clone, Debug)]
pub struct Step {
    /// One message per trigger of the machine; the step applies one of them (see [`Step::pick`]).
    pub messages: Vec<Message>,
    /// Which message.
    pub choice: usize,
    /// Pick among every trigger, not only those with a transition from the current phase.
    pub any_trigger: bool,
    /// Stage the message (keeping its undo record) rather than apply it.
    pub staged: bool,
    /// What to do after applying it.
    pub then: Then,
}

/// What a step does after applying its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Nothing.
    Nothing,
    /// Take a snapshot (replacing the saved one).
    Snapshot,
    /// Restore the saved snapshot, if any.
    Restore,
    /// Replace the authority by one recovered from its own state.
    Recover,
    /// Roll back the latest staged change, if any (refused when something changed the authority since).
    RollBack,
}

impl Step {
    /// The message to apply in `phase`: mostly one whose trigger has a transition from the phase that does not
    /// end in a terminal phase, so random walks explore instead of stopping early or bouncing off a terminal
    /// phase; sometimes any live trigger, sometimes any trigger at all.
    pub fn pick<'a>(&'a self, machine: &Machine, phase: meerkat_dsl::ir::PhaseId) -> Option<&'a Message> {
        let live: Vec<&Message> =
            self.messages.iter().filter(|m| machine.candidates(phase, m.trigger).next().is_some()).collect();
        let staying: Vec<&Message> = live
            .iter()
            .copied()
            .filter(|m| {
                machine.candidates(phase, m.trigger).any(|t| {
                    let targets = machine.transitions[t.index()].targets_from(phase);
                    targets.iter().any(|target| !machine.phase(*target).terminal)
                })
            })
            .collect();
        let pool = if self.any_trigger || live.is_empty() {
            self.messages.iter().collect()
        } else if self.choice % 16 == 0 || staying.is_empty() {
            live
        } else {
            staying
        };
        let count = pool.len();
        if count == 0 { None } else { pool.get((self.choice / 16) % count).copied() }
    }
}

/// The checked IR of a kernel's machine, read from its spec.
pub fn machine_of<K: InterpKernel>() -> Arc<Machine> {
    let text = std::fs::read_to_string(K::SPEC).unwrap_or_else(|e| panic!("cannot read {}: {e}", K::SPEC));
    let package = meerkat_dsl::check_source(K::SPEC, text)
        .unwrap_or_else(|e| panic!("{} does not check:\n{}", K::SPEC, e.render(Default::default())));
    let machine = package.machine(K::MACHINE).unwrap_or_else(|| panic!("no machine {} in {}", K::MACHINE, K::SPEC));
    Arc::new(machine.ir().clone())
}

/// How many steps to run per machine.
pub fn steps() -> usize {
    std::env::var("MEERKAT_DIFF_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_STEPS)
}

/// What a differential run saw, for the coverage report.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Messages applied.
    pub steps: usize,
    /// Times each transition fired, by id.
    pub fired: Vec<usize>,
    /// Rejections by kind: no matching transition, guard rejected, ambiguous, overflow, invariant violated.
    pub rejected: [usize; 5],
}

impl Stats {
    fn record(&mut self, outcome: &Result<meerkat_dsl::interp::Fired, Rejection>) {
        self.steps += 1;
        match outcome {
            Ok(fired) => {
                if let Some(count) = self.fired.get_mut(fired.transition.index()) {
                    *count += 1;
                }
            }
            Err(rejection) => {
                let kind = match rejection {
                    Rejection::NoMatchingTransition { .. } => 0,
                    Rejection::GuardRejected { .. } => 1,
                    Rejection::AmbiguousTransition { .. } => 2,
                    Rejection::ArithmeticOverflow { .. } => 3,
                    _ => 4,
                };
                if let Some(count) = self.rejected.get_mut(kind) {
                    *count += 1;
                }
            }
        }
    }
}

/// Runs the differential test of one kernel and returns what it saw.
pub fn run<K: InterpKernel>() -> Stats {
    let machine = machine_of::<K>();
    let values = Values::new(machine.clone());
    let then = prop_oneof![
        20 => Just(Then::Nothing),
        1 => Just(Then::Snapshot),
        1 => Just(Then::Restore),
        1 => Just(Then::Recover),
        3 => Just(Then::RollBack),
    ];
    let step = (values.messages(), any::<usize>(), proptest::bool::weighted(0.1), any::<bool>(), then)
        .prop_map(|(messages, choice, any_trigger, staged, then)| Step { messages, choice, any_trigger, staged, then });
    let ops = proptest::collection::vec(step, CASE_LENGTH);
    let cases = steps().div_ceil(CASE_LENGTH) as u32;
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let stats = std::cell::RefCell::new(Stats { fired: vec![0; machine.transitions.len()], ..Stats::default() });
    let result = runner.run(&ops, |ops| drive::<K>(&machine, &ops, &mut stats.borrow_mut()));
    if let Err(error) = result {
        panic!("{} differs from the interpreter: {error}", K::MACHINE);
    }
    let stats = stats.into_inner();
    let never: Vec<&str> =
        machine.transitions.iter().zip(&stats.fired).filter(|(_, n)| **n == 0).map(|(t, _)| t.name.as_str()).collect();
    eprintln!(
        "{}: {} steps; fired {} times; rejected: {} no matching, {} guard, {} ambiguous, {} overflow, {} invariant; \
         never fired: {:?}",
        K::MACHINE,
        stats.steps,
        stats.fired.iter().sum::<usize>(),
        stats.rejected[0],
        stats.rejected[1],
        stats.rejected[2],
        stats.rejected[3],
        stats.rejected[4],
        never
    );
    stats
}

/// Runs one sequence of operations on a fresh kernel and interpreter.
pub fn drive<K: InterpKernel>(machine: &Machine, ops: &[Step], stats: &mut Stats) -> Result<(), TestCaseError> {
    let interp = Interpreter::new(machine);
    let mut state = interp.initial_state().map_err(|e| TestCaseError::fail(format!("initial state: {e}")))?;
    let mut kernel = Authority::<K>::new();
    prop_assert_eq!(kernel.state().to_interp(), state.clone(), "initial states differ");
    let mut saved: Option<(AuthoritySnapshot<K>, State)> = None;
    // The latest staged change that fired, with the interpreter's state before it.
    let mut pending: Option<(Staged<K>, State)> = None;
    for (step, op) in ops.iter().enumerate() {
        {
            let Some(message) = op.pick(machine, state.phase) else { continue };
            {
                let before = state.clone();
                let expected = interp.apply(&mut state, message);
                stats.record(&expected);
                let applied = if op.staged {
                    stage_message(&mut kernel, message).map(|result| {
                        result.map(|(fired, staged)| {
                            pending = Some((staged, before.clone()));
                            fired
                        })
                    })
                } else {
                    apply_message(&mut kernel, message)
                };
                let Some(actual) = applied else {
                    // A machine without inputs or signals has nothing to apply.
                    prop_assume!(machine.triggers().next().is_none());
                    continue;
                };
                let describe = || {
                    format!("step {step}: {} in {}", render_message(machine, message), render_state(machine, &before))
                };
                match (&expected, &actual) {
                    (Ok(e), Ok(a)) => prop_assert_eq!(e, a, "{}: fired differently", describe()),
                    (Err(e), Err(Some(a))) => {
                        prop_assert_eq!(
                            e,
                            a,
                            "{}: rejected differently: interpreter `{}`, kernel `{}`",
                            describe(),
                            e.describe(machine),
                            a.describe(machine)
                        );
                        prop_assert_eq!(
                            &state,
                            &before,
                            "{}: the interpreter changed the state on a rejection",
                            describe()
                        );
                    }
                    _ => {
                        return Err(TestCaseError::fail(format!(
                            "{}: interpreter {}, kernel {}",
                            describe(),
                            outcome(machine, &expected),
                            match &actual {
                                Ok(f) => format!("fired transition #{}", f.transition.0),
                                Err(Some(r)) => format!("rejected: {}", r.describe(machine)),
                                Err(None) => "rejected with a name the machine does not declare".to_string(),
                            }
                        )));
                    }
                }
                let now = kernel.state().to_interp();
                prop_assert_eq!(
                    &now,
                    &state,
                    "{}: states differ afterwards: interpreter {}, kernel {}",
                    describe(),
                    render_state(machine, &state),
                    render_state(machine, &now)
                );
            }
        }
        match op.then {
            Then::Nothing => {}
            Then::Snapshot => saved = Some((kernel.snapshot(), state.clone())),
            Then::Restore => {
                if let Some((snapshot, saved_state)) = saved.take() {
                    kernel.restore_snapshot(snapshot);
                    state = saved_state;
                    prop_assert_eq!(kernel.state().to_interp(), state.clone(), "step {}: restore_snapshot", step);
                }
            }
            Then::RollBack => {
                if let Some((staged, before)) = pending.take() {
                    let latest = staged.version() == kernel.version();
                    let unchanged = kernel.state().clone();
                    let rolled_back = kernel.roll_back(staged);
                    prop_assert_eq!(rolled_back, latest, "step {}: roll-back refused or allowed wrongly", step);
                    if rolled_back {
                        state = before;
                        prop_assert_eq!(
                            kernel.state().to_interp(),
                            state.clone(),
                            "step {}: a roll-back did not restore the state before the staged message",
                            step
                        );
                    } else {
                        prop_assert_eq!(
                            kernel.state(),
                            &unchanged,
                            "step {}: a refused roll-back changed the state",
                            step
                        );
                    }
                }
            }
            Then::Recover => {
                // The recovered authority is another authority: a change staged on the old one is not its own.
                pending = None;
                let expected = interp.check_recovered(&state);
                let actual = recover::<K>(&state).ok_or_else(|| TestCaseError::fail("the state does not convert"))?;
                match (expected, actual) {
                    (Ok(()), Ok(recovered)) => {
                        kernel = recovered;
                        prop_assert_eq!(kernel.state().to_interp(), state.clone(), "step {}: recovered state", step);
                    }
                    (Err(e), Err(Some(a))) => prop_assert_eq!(e, a, "step {}: recovery rejected differently", step),
                    (e, a) => {
                        return Err(TestCaseError::fail(format!(
                            "step {step}: recovery of {}: interpreter {e:?}, kernel {}",
                            render_state(machine, &state),
                            if a.is_ok() { "accepted".to_string() } else { format!("{:?}", a.err()) }
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Requires kernel and interpreter to agree on `recover_from_state` for random states, and returns, per
/// invariant, how many random states it was the first broken invariant of.
pub fn run_recovery<K: InterpKernel>() -> Vec<usize> {
    let machine = machine_of::<K>();
    let values = Values::new(machine.clone());
    let interp = Interpreter::new(&machine);
    let mut first_broken = vec![0usize; machine.invariants.len()];
    let cases = (steps() / 4).max(256) as u32;
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let states = values.state();
    for _ in 0..cases {
        let tree = states.new_tree(&mut runner).unwrap_or_else(|e| panic!("cannot generate a state: {e}"));
        let state = tree.current();
        let expected = interp.check_recovered(&state);
        let Some(actual) = recover::<K>(&state) else { panic!("{}: a random state does not convert", K::MACHINE) };
        match (&expected, &actual) {
            (Ok(()), Ok(kernel)) => {
                assert_eq!(kernel.state().to_interp(), state, "{}: recovered state differs", K::MACHINE)
            }
            (
                Err(RecoveryRejection::InvariantRejected { invariant }),
                Err(Some(RecoveryRejection::InvariantRejected { invariant: k })),
            ) => {
                assert_eq!(
                    invariant,
                    k,
                    "{}: recovery of {} names another invariant",
                    K::MACHINE,
                    render_state(&machine, &state)
                );
                if let Some(count) = first_broken.get_mut(invariant.index()) {
                    *count += 1;
                }
            }
            _ => panic!(
                "{}: recovery of {}: interpreter {:?}, kernel {}",
                K::MACHINE,
                render_state(&machine, &state),
                expected,
                if actual.is_ok() { "accepted" } else { "rejected" }
            ),
        }
    }
    first_broken
}

fn outcome(machine: &Machine, result: &Result<meerkat_dsl::interp::Fired, Rejection>) -> String {
    match result {
        Ok(f) => format!("fired transition #{}", f.transition.0),
        Err(r) => format!("rejected: {}", r.describe(machine)),
    }
}

/// `Name { field: value, ... }` in spec syntax.
pub fn render_message(machine: &Machine, message: &Message) -> String {
    let decl = machine.trigger(message.trigger);
    let fields: Vec<String> =
        decl.fields.iter().zip(&message.fields).map(|(f, v)| format!("{}: {}", f.name, v.render(machine))).collect();
    if fields.is_empty() { decl.name.clone() } else { format!("{} {{ {} }}", decl.name, fields.join(", ")) }
}

/// `Phase { field: value, ... }` in spec syntax.
pub fn render_state(machine: &Machine, state: &State) -> String {
    let phase = machine.phases.get(state.phase.index()).map_or("?", |p| p.name.as_str());
    let fields: Vec<String> =
        machine.fields.iter().zip(&state.fields).map(|(f, v)| format!("{}: {}", f.name, v.render(machine))).collect();
    format!("{phase} {{ {} }}", fields.join(", "))
}
