//! The classification helpers agree with the tables written in `machines/meerkat.machine` (restated here by hand,
//! independently of the kernel), and fail closed on inconsistent input facts.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use meerkat_runtime::meerkat_machine::dsl::{
    InputPublicLifecycleState, InputPublicTerminalOutcome, RuntimeIngressAdmission, RuntimeInputAdmission,
    RuntimeLifecycleTerminality, RuntimeLoopRunBinding, RuntimePrepareAdmission, RuntimeQueueAdmission,
};
use meerkat_runtime::meerkat_machine::{
    authorize_stored_input_state_seed, classify_input_behavioral_terminality, classify_runtime_lifecycle_durable_state,
    classify_runtime_lifecycle_state, classify_runtime_loop_queue_admission, resolve_input_public_lifecycle_projection,
    resolve_input_public_state_projection, resolve_input_public_terminal_projection, resolve_visible_runtime_phase,
};
use meerkat_runtime::{
    InputAbandonReason, InputId, InputLifecycleState, InputStateSeed, InputTerminalOutcome, RuntimeState,
};

use RuntimeState::{Attached, Destroyed, Idle, Initializing, Retired, Running, Stopped};

#[test]
fn lifecycle_table() {
    use RuntimeIngressAdmission as G;
    use RuntimeInputAdmission as I;
    use RuntimePrepareAdmission as P;
    use RuntimeQueueAdmission as Q;
    let table = [
        (Initializing, false, I::RejectsInput, Q::BlocksQueue, P::NotReady, G::NotReady),
        (Idle, false, I::AcceptsInput, Q::ProcessesQueue, P::Ready, G::Open),
        (Attached, false, I::AcceptsInput, Q::ProcessesQueue, P::Ready, G::Open),
        (Running, false, I::AcceptsInput, Q::BlocksQueue, P::NotReady, G::Open),
        (Retired, false, I::RejectsInput, Q::ProcessesQueue, P::Ready, G::NotReady),
        (Stopped, false, I::RejectsInput, Q::BlocksQueue, P::NotReady, G::NotReady),
        (Destroyed, true, I::RejectsInput, Q::BlocksQueue, P::Destroyed, G::Destroyed),
    ];
    for (state, terminal, input, queue, prepare, ingress) in table {
        let facts = classify_runtime_lifecycle_state(state).expect("classified");
        assert_eq!(facts.is_terminal(), terminal, "{state}");
        assert_eq!(
            facts.terminality,
            if terminal { RuntimeLifecycleTerminality::Terminal } else { RuntimeLifecycleTerminality::NonTerminal }
        );
        assert_eq!(facts.input_admission, input, "{state}");
        assert_eq!(facts.queue_admission, queue, "{state}");
        assert_eq!(facts.prepare_admission, prepare, "{state}");
        assert_eq!(facts.ingress_admission, ingress, "{state}");
        assert_eq!(facts.can_accept_input(), input == I::AcceptsInput);
        assert_eq!(facts.can_process_queue(), queue == Q::ProcessesQueue);
        assert_eq!(facts.can_prepare_run(), prepare == P::Ready);
    }
}

#[test]
fn durability_table() {
    for state in RuntimeState::ALL {
        let expected = if state == Attached { Idle } else { state };
        assert_eq!(classify_runtime_lifecycle_durable_state(state).expect("classified"), expected, "{state}");
    }
}

#[test]
fn loop_queue_admission_table() {
    for state in RuntimeState::ALL {
        for bound in [false, true] {
            let expected = match (state, bound) {
                (Idle | Attached | Retired, true) | (Running, true) => RuntimeLoopRunBinding::UsePrebound,
                (Idle | Attached | Retired, false) => RuntimeLoopRunBinding::AllocateNew,
                _ => RuntimeLoopRunBinding::Blocked,
            };
            let plan = classify_runtime_loop_queue_admission(state, bound).expect("classified");
            assert_eq!(plan.run_binding, expected, "{state} bound={bound}");
            assert_eq!(plan.uses_prebound_run(), expected == RuntimeLoopRunBinding::UsePrebound);
            assert_eq!(plan.can_process_queue(), expected != RuntimeLoopRunBinding::Blocked, "{state} bound={bound}");
        }
    }
}

fn precedence(state: RuntimeState) -> u8 {
    match state {
        Destroyed => 3,
        Stopped => 2,
        Retired => 1,
        _ => 0,
    }
}

#[test]
fn visible_phase_arbitration() {
    let pre_runs = [None, Some(Idle), Some(Attached), Some(Retired)];
    for dsl_phase in RuntimeState::ALL {
        for control_phase in RuntimeState::ALL {
            for dsl_pre in pre_runs {
                for control_pre in pre_runs {
                    for persistent in [false, true] {
                        let plan =
                            resolve_visible_runtime_phase(dsl_phase, dsl_pre, control_phase, control_pre, persistent)
                                .expect("resolved");
                        let publish = precedence(control_phase) > precedence(dsl_phase)
                            && (persistent || control_phase == Destroyed);
                        let (raw, pre) = if publish { (control_phase, control_pre) } else { (dsl_phase, dsl_pre) };
                        let visible = if raw == Running && pre == Some(Retired) { Retired } else { raw };
                        assert_eq!(plan.publish_control, publish);
                        assert_eq!(plan.selected_raw_phase, raw);
                        assert_eq!(plan.visible_phase, visible);
                    }
                }
            }
        }
    }
    // The two cases the spec names.
    assert_eq!(
        resolve_visible_runtime_phase(Running, Some(Retired), Running, None, false).expect("ok").visible_phase,
        Retired
    );
    assert_eq!(resolve_visible_runtime_phase(Idle, None, Stopped, None, false).expect("ok").visible_phase, Idle);
}

#[test]
fn input_projections() {
    let id = InputId::new("i");
    use InputLifecycleState as L;
    for (phase, public) in [
        (L::Accepted, InputPublicLifecycleState::Accepted),
        (L::Queued, InputPublicLifecycleState::Queued),
        (L::Staged, InputPublicLifecycleState::Staged),
        (L::Applied, InputPublicLifecycleState::Applied),
        (L::AppliedPendingConsumption, InputPublicLifecycleState::Applied),
        (L::Consumed, InputPublicLifecycleState::Consumed),
        (L::Superseded, InputPublicLifecycleState::Superseded),
        (L::Coalesced, InputPublicLifecycleState::Coalesced),
        (L::Abandoned, InputPublicLifecycleState::Abandoned),
    ] {
        assert_eq!(resolve_input_public_lifecycle_projection(&id, phase).expect("resolved"), public);
    }
    let abandoned = |reason| InputTerminalOutcome::Abandoned { reason };
    let cases = [
        (L::Queued, None, Some(None)),
        (L::Consumed, Some(InputTerminalOutcome::Consumed), Some(Some(InputPublicTerminalOutcome::Completed))),
        (
            L::Abandoned,
            Some(abandoned(InputAbandonReason::Cancelled)),
            Some(Some(InputPublicTerminalOutcome::Cancelled)),
        ),
        (L::Abandoned, Some(abandoned(InputAbandonReason::Reset)), Some(Some(InputPublicTerminalOutcome::Abandoned))),
        // Inconsistent facts are refused.
        (L::Consumed, None, None),
        (L::Queued, Some(InputTerminalOutcome::Consumed), None),
    ];
    for (phase, outcome, expected) in cases {
        let resolved = resolve_input_public_terminal_projection(&id, phase, outcome.as_ref()).ok();
        assert_eq!(resolved, expected, "{phase:?} {outcome:?}");
    }
    // A kind ahead of a lagging phase is behaviorally terminal already.
    assert!(!classify_input_behavioral_terminality(&id, L::Queued, None).expect("ok"));
    assert!(classify_input_behavioral_terminality(&id, L::Queued, Some(&InputTerminalOutcome::Consumed)).expect("ok"));
    assert!(
        classify_input_behavioral_terminality(&id, L::Abandoned, Some(&abandoned(InputAbandonReason::Stopped)))
            .expect("ok")
    );
}

#[test]
fn stored_seed_authorization() {
    let id = InputId::new("i");
    let fresh = InputStateSeed::accepted(3);
    authorize_stored_input_state_seed(&id, &fresh).expect("a fresh seed is consistent");
    let projection = resolve_input_public_state_projection(&id, &fresh).expect("projected");
    assert_eq!(projection.lifecycle_state, InputPublicLifecycleState::Accepted);
    assert_eq!(projection.terminal_outcome, None);

    let mut exhausted = fresh.clone();
    exhausted.phase = InputLifecycleState::Abandoned;
    exhausted.attempt_count = 3;
    exhausted.terminal_outcome =
        Some(InputTerminalOutcome::Abandoned { reason: InputAbandonReason::MaxAttemptsExhausted { attempts: 3 } });
    authorize_stored_input_state_seed(&id, &exhausted).expect("consistent");

    let mut too_many = exhausted.clone();
    too_many.attempt_count = 4;
    assert!(authorize_stored_input_state_seed(&id, &too_many).is_err(), "beyond the attempt limit");
    let mut boundary_without_run = fresh.clone();
    boundary_without_run.last_boundary_sequence = Some(1);
    assert!(authorize_stored_input_state_seed(&id, &boundary_without_run).is_err(), "a boundary needs a run");
    let mut lagging = fresh;
    lagging.terminal_outcome = Some(InputTerminalOutcome::Consumed);
    assert!(authorize_stored_input_state_seed(&id, &lagging).is_err(), "terminal facts contradict the phase");
}
