//! Lifecycle: the spec checks with its composition and its bounded exploration is clean; every lifecycle
//! path the seeds show, from registration through runs, stops, retirement, reset and destruction; and the
//! cold-recovery replays.

use super::*;

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
