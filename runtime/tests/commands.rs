//! The command adapter: a session driven only through `execute_meerkat_machine_command` gets the results the typed
//! methods give (each command calls the same method and wraps its result), with the command's own error shape
//! (a missing session is `UnknownSession` from both).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{ImmediateExecutor, within};
use meerkat_runtime::meerkat_machine::{
    MeerkatMachineCommand as Command, MeerkatMachineCommandError, MeerkatMachineCommandResult as Output,
};
use meerkat_runtime::{
    AcceptOutcome, CompletionOutcome, Input, InputId, InputLifecycleState, LogicalRuntimeId, MeerkatMachine,
    RuntimeBindingsError, RuntimeDriverError, RuntimeState, SessionId,
};

async fn run(machine: &Arc<MeerkatMachine>, command: Command) -> Result<Output, MeerkatMachineCommandError> {
    machine.execute_meerkat_machine_command(Some(Arc::clone(machine)), command).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_driven_by_commands_matches_the_typed_methods() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("commanded");

    assert!(matches!(run(&machine, Command::RegisterSession { session_id: session.clone() }).await, Ok(Output::Unit)));
    assert!(matches!(
        run(&machine, Command::ContainsSession { session_id: session.clone() }).await,
        Ok(Output::Bool(true))
    ));
    assert!(matches!(
        run(&machine, Command::SessionHasExecutor { session_id: session.clone() }).await,
        Ok(Output::Bool(false))
    ));

    let queued = InputId::new("queued");
    let accepted = run(
        &machine,
        Command::AcceptWithoutWake { session_id: session.clone(), input: Input::with_id(queued.clone(), "q") },
    )
    .await;
    let Ok(Output::Accepted { outcome, completion: None }) = accepted else {
        panic!("accept without wake returns the outcome and no waiter: {accepted:?}");
    };
    assert_eq!(outcome, AcceptOutcome::Accepted { input_id: queued.clone() });
    let Ok(Output::InputState(Some(seed))) =
        run(&machine, Command::InputState { session_id: session.clone(), input_id: queued.clone() }).await
    else {
        panic!("the queued input has a stored seed");
    };
    assert_eq!(seed.phase, InputLifecycleState::Queued);
    assert_eq!(Some(seed), machine.input_state(&session, &queued).await.expect("typed input state"));

    let awaited = InputId::new("awaited");
    let accepted = run(
        &machine,
        Command::AcceptWithCompletion { session_id: session.clone(), input: Input::with_id(awaited.clone(), "a") },
    )
    .await;
    let Ok(Output::Accepted { completion: Some(completion), .. }) = accepted else {
        panic!("accept with completion returns a waiter: {accepted:?}");
    };
    let Ok(Output::ActiveInputs(active)) =
        run(&machine, Command::ListActiveInputs { session_id: session.clone() }).await
    else {
        panic!("active inputs");
    };
    assert_eq!(active, vec![queued.clone(), awaited.clone()]);
    assert_eq!(active, machine.list_active_inputs(&session).await.expect("typed active inputs"));

    // Without an `Arc` of the machine the loop cannot be spawned.
    let refused = machine
        .execute_meerkat_machine_command(
            None,
            Command::EnsureSessionWithExecutor { session_id: session.clone(), executor: Box::new(ImmediateExecutor) },
        )
        .await;
    assert!(matches!(refused, Err(MeerkatMachineCommandError::Driver(RuntimeDriverError::Internal(_)))), "{refused:?}");
    assert!(matches!(
        run(
            &machine,
            Command::EnsureSessionWithExecutor { session_id: session.clone(), executor: Box::new(ImmediateExecutor) }
        )
        .await,
        Ok(Output::Unit)
    ));
    assert_eq!(within(completion.wait()).await, CompletionOutcome::Completed);

    let Ok(Output::Retired(report)) = run(&machine, Command::Retire { session_id: session.clone() }).await else {
        panic!("retire");
    };
    assert_eq!(report.inputs_abandoned, 0, "an attached executor drains a retired session's queue");
    let Ok(Output::RuntimeState(state)) = run(&machine, Command::RuntimeState { session_id: session.clone() }).await
    else {
        panic!("runtime state");
    };
    assert_eq!(state, RuntimeState::Retired);
    assert_eq!(Ok(state), machine.runtime_state(&session).await);

    let Ok(Output::Destroyed(report)) = run(&machine, Command::Destroy { session_id: session.clone() }).await else {
        panic!("destroy");
    };
    assert!(!report.run_cancelled);
    assert!(matches!(
        run(&machine, Command::Retire { session_id: session.clone() }).await,
        Err(MeerkatMachineCommandError::Driver(RuntimeDriverError::Destroyed))
    ));
}

#[tokio::test]
async fn command_errors_keep_their_shape() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let missing = SessionId::new("missing");
    // The command reports a missing session as the public method does.
    let unknown = RuntimeDriverError::UnknownSession { session_id: missing.clone() };
    let retired = run(&machine, Command::Retire { session_id: missing.clone() }).await;
    assert_eq!(retired.map(|_| ()), Err(MeerkatMachineCommandError::Driver(unknown.clone())));
    assert_eq!(machine.retire(&missing).await.map(|_| ()), Err(unknown.clone()));
    let unregistered = run(&machine, Command::UnregisterSession { session_id: missing.clone() }).await;
    assert_eq!(unregistered.map(|_| ()), Err(MeerkatMachineCommandError::Driver(unknown)));

    // Bindings: preparing registers the session; a second runtime is refused as a bindings error.
    let session = SessionId::new("bound");
    let prepared = run(&machine, Command::PrepareBindings { session_id: session.clone(), runtime_id: None }).await;
    let Ok(Output::Bindings(bindings)) = prepared else {
        panic!("bindings: {prepared:?}");
    };
    assert_eq!(bindings.session_id(), &session);
    machine.validate_session_bindings(&bindings).await.expect("the command's bindings are live");
    let elsewhere = run(
        &machine,
        Command::PrepareBindings { session_id: session.clone(), runtime_id: Some(LogicalRuntimeId::new("elsewhere")) },
    )
    .await;
    assert!(
        matches!(
            elsewhere,
            Err(MeerkatMachineCommandError::Bindings(RuntimeBindingsError::PrepareFailed(_, ref reason)))
                if reason.contains("elsewhere")
        ),
        "{elsewhere:?}"
    );
    let local = run(&machine, Command::PrepareLocalSessionBindings { session_id: session.clone() }).await;
    assert!(matches!(local, Ok(Output::Bindings(_))), "{local:?}");
}
