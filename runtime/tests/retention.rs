//! The bounded ledger: terminal inputs leave the kernel's ledger once their outcome was published (and stored),
//! their ids enter the session's dedupe window, duplicates inside the window are refused, ids that left it are
//! new inputs, every completion waiter resolves, a burst drains in one run, full bounds refuse with
//! `Backpressure`, and the exported counters account for every input.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod common;

use std::sync::Arc;

use common::{ImmediateExecutor, within};
use meerkat_runtime::store::RuntimeStore;
use meerkat_runtime::{
    CompletionOutcome, Input, InputAbandonReason, InputId, InputLifecycleState, MeerkatMachine, RuntimeDriverError,
    RuntimeOptions, SessionId,
};

fn options(dedupe_window: usize) -> RuntimeOptions {
    RuntimeOptions { dedupe_window, ..RuntimeOptions::DEFAULT }
}

async fn attached(machine: &Arc<MeerkatMachine>, name: &str) -> SessionId {
    let session = SessionId::new(name);
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    session
}

async fn complete(machine: &MeerkatMachine, session: &SessionId, id: &str) {
    let (_, handle) =
        machine.accept_input_with_completion(session, Input::with_id(InputId::new(id), "work")).await.expect("accept");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
}

async fn ledger_len(machine: &MeerkatMachine, session: &SessionId) -> usize {
    machine.session_dsl_state(session).await.expect("state").input_ledger.len()
}

#[tokio::test]
async fn consumed_inputs_leave_the_ledger_and_duplicates_inside_the_window_are_refused() {
    let machine = Arc::new(MeerkatMachine::ephemeral_with_options(options(4)));
    let session = attached(&machine, "window").await;
    complete(&machine, &session, "a").await;
    assert_eq!(ledger_len(&machine, &session).await, 0, "the consumed input was forgotten");
    let seed = machine.input_state(&session, &InputId::new("a")).await.expect("state").expect("inside the window");
    assert_eq!(seed.phase, InputLifecycleState::Consumed);

    let duplicate = machine.accept_input_with_completion(&session, Input::with_id(InputId::new("a"), "again")).await;
    let Err(RuntimeDriverError::DuplicateInput { input_id, source: None }) = duplicate else {
        panic!("a duplicate inside the window is refused by the runtime: {duplicate:?}");
    };
    assert_eq!(input_id, InputId::new("a"));
    assert_eq!(machine.counters().rejected_duplicate, 1);
    assert_eq!(ledger_len(&machine, &session).await, 0, "the refused duplicate left nothing behind");
}

#[tokio::test]
async fn a_live_duplicate_is_refused_by_the_kernel() {
    let machine = MeerkatMachine::ephemeral();
    let session = SessionId::new("live");
    machine.register_session(session.clone()).await.expect("register");
    let id = InputId::new("x");
    machine.accept_input_without_wake(&session, Input::with_id(id.clone(), "first")).await.expect("accept");
    let duplicate = machine.accept_input_without_wake(&session, Input::with_id(id, "second")).await;
    assert!(matches!(duplicate, Err(RuntimeDriverError::DuplicateInput { source: Some(_), .. })), "{duplicate:?}");
    let counters = machine.counters();
    assert_eq!((counters.accepted, counters.rejected_duplicate, counters.queue_depth), (1, 1, 1));
}

#[tokio::test]
async fn ids_outside_the_window_are_new_inputs() {
    let machine = Arc::new(MeerkatMachine::ephemeral_with_options(options(2)));
    let session = attached(&machine, "outside").await;
    for id in ["a", "b", "c"] {
        complete(&machine, &session, id).await;
    }
    // "a" was pushed out of the two-id window by "b" and "c".
    assert_eq!(machine.input_state(&session, &InputId::new("a")).await.expect("state"), None);
    assert!(machine.input_state(&session, &InputId::new("c")).await.expect("state").is_some());
    complete(&machine, &session, "a").await;
    let refused = machine.accept_input_without_wake(&session, Input::with_id(InputId::new("c"), "again")).await;
    assert!(matches!(refused, Err(RuntimeDriverError::DuplicateInput { .. })), "{refused:?}");
}

#[tokio::test]
async fn waiters_registered_before_retention_always_resolve() {
    // Window 0: every terminal input is forgotten and leaves no trace at all.
    let machine = Arc::new(MeerkatMachine::ephemeral_with_options(options(0)));
    let session = SessionId::new("waiters");
    machine.register_session(session.clone()).await.expect("register");
    let mut handles = Vec::new();
    for n in 0..50 {
        let (_, handle) =
            machine.accept_input_with_completion(&session, Input::new(format!("{n}"))).await.expect("accept");
        handles.push(handle);
    }
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    for handle in handles {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
    }
    assert_eq!(ledger_len(&machine, &session).await, 0);

    // Abandoned inputs are forgotten too, after their waiters saw the outcome.
    let retired = SessionId::new("retired");
    machine.register_session(retired.clone()).await.expect("register");
    let (_, handle) = machine.accept_input_with_completion(&retired, Input::new("queued")).await.expect("accept");
    machine.retire(&retired).await.expect("retire");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Retired });
    assert_eq!(ledger_len(&machine, &retired).await, 0);
}

#[tokio::test]
async fn a_burst_on_one_session_costs_one_run() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("burst");
    machine.register_session(session.clone()).await.expect("register");
    let mut handles = Vec::new();
    for n in 0..100 {
        let (_, handle) =
            machine.accept_input_with_completion(&session, Input::new(format!("{n}"))).await.expect("accept");
        handles.push(handle);
    }
    assert_eq!(machine.counters().queue_depth, 100);
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    for handle in handles {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
    }
    let counters = machine.counters();
    assert_eq!((counters.runs, counters.applied, counters.queue_depth), (1, 100, 0), "{counters:?}");
}

#[tokio::test]
async fn full_bounds_refuse_with_backpressure() {
    let bounded = RuntimeOptions { max_queued_inputs: 3, max_completion_waiters: 2, ..RuntimeOptions::DEFAULT };
    let machine = MeerkatMachine::ephemeral_with_options(bounded);
    let session = SessionId::new("bounded");
    machine.register_session(session.clone()).await.expect("register");
    let mut handles = Vec::new();
    for n in 0..2 {
        handles.push(machine.accept_input_with_completion(&session, Input::new(format!("{n}"))).await.expect("accept"));
    }
    let waiters = machine.accept_input_with_completion(&session, Input::new("third waiter")).await;
    assert!(
        matches!(waiters, Err(RuntimeDriverError::Backpressure { limit: 2, .. })),
        "the waiters are full: {waiters:?}"
    );
    machine.accept_input_without_wake(&session, Input::new("third")).await.expect("the queue has room");
    let queue = machine.accept_input_without_wake(&session, Input::new("fourth")).await;
    assert!(matches!(queue, Err(RuntimeDriverError::Backpressure { limit: 3, .. })), "the queue is full: {queue:?}");
    let counters = machine.counters();
    assert_eq!((counters.accepted, counters.rejected_backpressure, counters.queue_depth), (3, 2, 3));
    assert_eq!(machine.list_active_inputs(&session).await.expect("active").len(), 3, "nothing refused was kept");
}

on_every_store!(the_store_keeps_the_window_across_a_restart);

async fn the_store_keeps_the_window_across_a_restart(store: Arc<dyn RuntimeStore>) {
    let session = SessionId::new("stored");
    {
        let machine = Arc::new(MeerkatMachine::persistent_with_options(store.clone(), options(2)));
        machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
        for id in ["a", "b", "c"] {
            complete(&machine, &session, id).await;
        }
        machine.unregister_session(&session).await.expect("unregister");
    }
    let stored =
        store.load_runtime(&MeerkatMachine::logical_runtime_id(&session)).await.expect("load").expect("stored runtime");
    let ids: Vec<&str> = stored.inputs.iter().map(|stored| stored.input.id.as_str()).collect();
    assert_eq!(ids, ["b", "c"], "the store keeps only the window");

    let machine = Arc::new(MeerkatMachine::persistent_with_options(store.clone(), options(2)));
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("recover");
    let refused = machine.accept_input_without_wake(&session, Input::with_id(InputId::new("b"), "again")).await;
    assert!(matches!(refused, Err(RuntimeDriverError::DuplicateInput { .. })), "{refused:?}");
    complete(&machine, &session, "a").await;
}

#[tokio::test]
async fn the_counters_account_for_every_input() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("counted");
    machine.register_session(session.clone()).await.expect("register");
    let mut handles = Vec::new();
    for n in 0..5 {
        let (_, handle) =
            machine.accept_input_with_completion(&session, Input::new(format!("{n}"))).await.expect("accept");
        handles.push(handle);
    }
    assert_eq!(machine.counters().queue_depth, 5);
    let missing = machine.accept_input_without_wake(&SessionId::new("nobody"), Input::new("lost")).await;
    assert!(matches!(missing, Err(RuntimeDriverError::UnknownSession { .. })), "{missing:?}");

    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    for handle in handles {
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
    }
    machine.retire(&session).await.expect("retire");
    let retired = machine.accept_input_without_wake(&session, Input::new("late")).await;
    assert!(retired.is_err(), "a retired session takes no input: {retired:?}");

    let counters = machine.counters();
    assert_eq!(counters.accepted, 5);
    assert_eq!(counters.applied, 5);
    assert_eq!(counters.queue_depth, 0);
    assert_eq!(counters.rejected_not_ready, 2, "the missing session and the retired one: {counters:?}");
    assert_eq!(counters.rejected(), 2);
}
