//! `MeerkatMachine::shutdown` (issue 17, item 4), through the public API only: it stops accepting, drains or
//! abandons per its policy, stops every loop (a run that never finishes included), keeps what the store holds for
//! the next process, and resolves every waiter.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ImmediateExecutor, gated, within};
use meerkat_runtime::completion::NoProgressReason;
use meerkat_runtime::meerkat_machine::ShutdownPolicy;
use meerkat_runtime::{
    CompletionOutcome, InMemoryRuntimeStore, Input, MeerkatMachine, RuntimeControlPlaneError, RuntimeDriverError,
    RuntimeStore, SessionId,
};

#[tokio::test]
async fn shutdown_drains_then_refuses_and_resolves_every_waiter() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let busy = SessionId::new("busy");
    let idle = SessionId::new("no-executor");
    machine.ensure_session_with_executor(busy.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    machine.register_session(idle.clone()).await.expect("register");
    let mut drained = Vec::new();
    for n in 0..20 {
        drained.push(machine.accept_input_with_completion(&busy, Input::new(format!("{n}"))).await.expect("accept").1);
    }
    let (_, stranded) = machine.accept_input_with_completion(&idle, Input::new("stranded")).await.expect("accept");

    let report = within(machine.shutdown(ShutdownPolicy::Drain { deadline: Duration::from_secs(5) })).await;
    assert_eq!(report.sessions, 2);
    for handle in drained {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed, "drained before the loops stopped");
    }
    assert_eq!(
        within(stranded.wait()).await,
        CompletionOutcome::NoProgress { reason: NoProgressReason::ShutDown },
        "no executor could drain it"
    );
    assert!(!machine.contains_session(&busy).await && !machine.contains_session(&idle).await);
    assert_eq!(
        machine.register_session(SessionId::new("late")).await,
        Err(RuntimeControlPlaneError::Driver(RuntimeDriverError::ShutDown))
    );
    assert_eq!(
        machine.accept_input_without_wake(&busy, Input::new("late")).await.map(|_| ()),
        Err(RuntimeDriverError::ShutDown)
    );
}

#[tokio::test]
async fn shutdown_abandons_a_stuck_run_and_the_store_keeps_its_inputs() {
    let store = Arc::new(InMemoryRuntimeStore::new());
    let machine = Arc::new(MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>));
    let session = SessionId::new("stuck");
    let (executor, mut started, _release) = gated();
    machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
    let (_, running) = machine.accept_input_with_completion(&session, Input::new("forever")).await.expect("accept");
    within(started.recv()).await.expect("the run started");
    let (_, queued) = machine.accept_input_with_completion(&session, Input::new("queued")).await.expect("accept");

    let report = within(machine.shutdown(ShutdownPolicy::Abandon)).await;
    assert_eq!((report.sessions, report.loops_aborted), (1, 1));
    for handle in [running, queued] {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::NoProgress { reason: NoProgressReason::ShutDown });
    }
    // The next process recovers both inputs: nothing the store acknowledged was lost.
    let next = MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>);
    let recovered = next.recover(&session).await.expect("recover");
    assert_eq!(recovered.inputs_pending, 2);
}
