//! Guards and invariants: one rejection test per guard and invariant, each refusing the input that would break
//! it and leaving the state exactly as it was, and recovery refusing states that break one.

use super::*;

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
