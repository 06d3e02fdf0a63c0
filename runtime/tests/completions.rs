//! Every completion waiter resolves exactly once, with the typed outcome of its path: consumed, failed until the
//! attempts ran out, cancelled (interrupt, cancel after boundary, supervisor), abandoned by retire / reset / stop /
//! destroy, and terminated by unregistration.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{FailingExecutor, ImmediateExecutor, gated, within};
use meerkat_runtime::{
    CompletionOutcome, Input, InputAbandonReason, MeerkatMachine, RuntimeDriverError, RuntimeState, SessionId,
};

async fn registered(machine: &MeerkatMachine, name: &str) -> SessionId {
    let session = SessionId::new(name);
    machine.register_session(session.clone()).await.expect("register");
    session
}

#[tokio::test]
async fn consumed_inputs_complete() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("consumed");
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    let mut handles = Vec::new();
    for n in 0..20 {
        let (_, handle) =
            machine.accept_input_with_completion(&session, Input::new(format!("{n}"))).await.expect("accept");
        handles.push(handle);
    }
    for handle in handles {
        let id = handle.input_id().clone();
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
        let seed = machine.input_state(&session, &id).await.expect("state").expect("stored");
        assert_eq!(seed.phase, meerkat_runtime::InputLifecycleState::Consumed);
        assert_eq!(seed.attempt_count, 1);
    }
    assert!(machine.list_active_inputs(&session).await.expect("active").is_empty());
}

#[tokio::test]
async fn failing_runs_abandon_after_the_kernels_attempt_limit() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("failing");
    machine.ensure_session_with_executor(session.clone(), Box::new(FailingExecutor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&session, Input::new("doomed")).await.expect("accept");
    assert_eq!(
        within(handle.wait()).await,
        CompletionOutcome::Abandoned { reason: InputAbandonReason::MaxAttemptsExhausted { attempts: 3 } }
    );
}

#[tokio::test]
async fn retire_without_executor_abandons_the_queue_as_retired() {
    let machine = MeerkatMachine::ephemeral();
    let session = registered(&machine, "retire").await;
    let (_, first) = machine.accept_input_with_completion(&session, Input::new("a")).await.expect("accept");
    let (_, second) = machine.accept_input_with_completion(&session, Input::new("b")).await.expect("accept");
    let report = machine.retire(&session).await.expect("retire");
    assert_eq!(report.inputs_abandoned, 2);
    for handle in [first, second] {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Retired });
    }
    assert_eq!(machine.runtime_state(&session).await.expect("state"), RuntimeState::Retired);
}

#[tokio::test]
async fn reset_abandons_live_inputs_and_starts_a_new_epoch() {
    let machine = MeerkatMachine::ephemeral();
    let session = registered(&machine, "reset").await;
    let bindings = machine.prepare_local_session_bindings(&session).await.expect("bindings");
    let (_, handle) = machine.accept_input_with_completion(&session, Input::new("a")).await.expect("accept");
    let report = machine.reset(&session).await.expect("reset");
    assert_eq!(report.inputs_abandoned, 1);
    assert_ne!(&report.epoch_id, bindings.epoch_id());
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Reset });
    assert!(machine.validate_session_bindings(&bindings).await.is_err(), "bindings of the old epoch are stale");
}

#[tokio::test]
async fn stop_abandons_pending_inputs_as_stopped() {
    let machine = MeerkatMachine::ephemeral();
    let session = registered(&machine, "stop").await;
    let (_, handle) = machine.accept_input_with_completion(&session, Input::new("a")).await.expect("accept");
    machine.stop_runtime_executor(&session, "operator").await.expect("stop");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Stopped });
    assert_eq!(machine.runtime_state(&session).await.expect("state"), RuntimeState::Stopped);
    assert!(matches!(
        machine.accept_input_with_completion(&session, Input::new("b")).await,
        Err(RuntimeDriverError::NotReady { state: RuntimeState::Stopped })
    ));
}

#[tokio::test]
async fn a_deferred_stop_lets_the_run_commit_then_abandons_the_rest() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("deferred-stop");
    let (executor, mut started, release) = gated();
    machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
    let (_, running) = machine.accept_input_with_completion(&session, Input::new("runs")).await.expect("accept");
    within(started.recv()).await.expect("run started");
    let (_, queued) = machine.accept_input_with_completion(&session, Input::new("queued")).await.expect("accept");
    machine.stop_runtime_executor(&session, "later").await.expect("deferred stop");
    assert!(machine.session_dsl_state(&session).await.expect("state").runtime_stop_deferred);
    release.add_permits(1);
    assert_eq!(within(running.wait()).await, CompletionOutcome::Completed);
    assert_eq!(within(queued.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Stopped });
    assert_eq!(machine.runtime_state(&session).await.expect("state"), RuntimeState::Stopped);
}

#[tokio::test]
async fn destroy_abandons_everything_and_cancels_the_run() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("destroy");
    let (executor, mut started, _release) = gated();
    machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
    let (_, running) = machine.accept_input_with_completion(&session, Input::new("runs")).await.expect("accept");
    within(started.recv()).await.expect("run started");
    let (_, queued) = machine.accept_input_with_completion(&session, Input::new("queued")).await.expect("accept");
    let report = machine.destroy(&session).await.expect("destroy");
    assert_eq!(report.inputs_abandoned, 2);
    assert!(report.run_cancelled);
    for handle in [running, queued] {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Destroyed });
    }
}

#[tokio::test]
async fn interrupts_cancel_the_run_in_flight() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("interrupt");
    let (executor, mut started, release) = gated();
    machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
    assert!(matches!(
        machine.hard_cancel_current_run(&session, "nothing runs").await,
        Err(RuntimeDriverError::NotReady { state: RuntimeState::Attached })
    ));
    let (_, first) = machine.accept_input_with_completion(&session, Input::new("one")).await.expect("accept");
    within(started.recv()).await.expect("run started");
    machine.hard_cancel_current_run(&session, "user pressed stop").await.expect("interrupt");
    assert_eq!(within(first.wait()).await, CompletionOutcome::Cancelled);

    // Without a boundary handle, a cancel after boundary stops the run at once too.
    let (_, second) = machine.accept_input_with_completion(&session, Input::new("two")).await.expect("accept");
    within(started.recv()).await.expect("run started");
    machine.cancel_after_boundary(&session).await.expect("cancel");
    assert_eq!(within(second.wait()).await, CompletionOutcome::Cancelled);

    // The loop keeps serving.
    let (_, third) = machine.accept_input_with_completion(&session, Input::new("three")).await.expect("accept");
    within(started.recv()).await.expect("run started");
    release.add_permits(1);
    assert_eq!(within(third.wait()).await, CompletionOutcome::Completed);
}

#[tokio::test]
async fn unregistration_terminates_waiters_of_unfinished_inputs() {
    let machine = MeerkatMachine::ephemeral();
    let session = registered(&machine, "unregister").await;
    let (_, handle) =
        machine.accept_input_with_completion(&session, Input::new("never drained")).await.expect("accept");
    machine.unregister_session(&session).await.expect("unregister");
    assert!(matches!(within(handle.wait()).await, CompletionOutcome::Terminated { .. }));
    assert!(!machine.contains_session(&session).await);
}
