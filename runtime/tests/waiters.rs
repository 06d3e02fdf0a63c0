//! Completion waiters never wait for ever (issue 17, item 3), through the public API only: a waiter resolves with
//! a typed outcome once its session can no longer make progress (its executor's loop died, the session was
//! destroyed), and `wait_timeout` gives up after a bound while keeping the handle usable.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ImmediateExecutor, within};
use meerkat_runtime::completion::{NoProgressReason, WaitTimedOut};
use meerkat_runtime::{
    BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, InputAbandonReason, MeerkatMachine,
    RunOutput, RunRequest, SessionId,
};

/// Panics inside its run, killing the runtime loop's task.
struct PanickingExecutor;

impl CoreExecutor for PanickingExecutor {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async { panic!("the executor panics inside its run") })
    }
}

#[tokio::test]
async fn waiters_resolve_when_the_session_can_no_longer_make_progress() {
    let machine = Arc::new(MeerkatMachine::ephemeral());

    // The executor's loop dies: the waiter learns that no executor will run its input.
    let orphaned = SessionId::new("orphaned");
    machine.ensure_session_with_executor(orphaned.clone(), Box::new(PanickingExecutor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&orphaned, Input::new("work")).await.expect("accept");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::NoProgress { reason: NoProgressReason::ExecutorGone });

    // A destroyed session abandons what it queued.
    let destroyed = SessionId::new("destroyed");
    machine.register_session(destroyed.clone()).await.expect("register");
    let (_, handle) = machine.accept_input_with_completion(&destroyed, Input::new("work")).await.expect("accept");
    machine.destroy(&destroyed).await.expect("destroy");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Abandoned { reason: InputAbandonReason::Destroyed });
}

#[tokio::test]
async fn wait_timeout_gives_up_and_the_handle_still_resolves() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("queued");
    machine.register_session(session.clone()).await.expect("register");
    let (_, mut handle) = machine.accept_input_with_completion(&session, Input::new("work")).await.expect("accept");
    // Nothing drains a session without an executor: the bounded wait gives up.
    assert_eq!(handle.wait_timeout(Duration::from_millis(20)).await, Err(WaitTimedOut));
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    assert_eq!(within(handle.wait_timeout(common::LIMIT)).await, Ok(CompletionOutcome::Completed));
}
