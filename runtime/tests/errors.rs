//! The runtime's errors are answers a caller can act on (issue 17, items 5 and 6), through the public API only: a
//! duplicate input, stale bindings, a full queue and an unknown session each have their own variant, with the
//! kernel's refusal kept as the error's source where there is one; empty ids are refused; an unknown session
//! reads the same from every method; recovering a destroyed session is an error; and a store that contradicts
//! itself (a stored `Running` state, duplicate admission sequences) is `RecoveryCorruption`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::error::Error as _;
use std::sync::Arc;

use common::{ImmediateExecutor, within};
use meerkat_runtime::meerkat_machine::dsl;
use meerkat_runtime::store::StoredInput;
use meerkat_runtime::{
    BackpressureBound, CompletionOutcome, IdKind, InMemoryRuntimeStore, Input, InputId, InputStateSeed,
    KernelRejection, MeerkatMachine, RuntimeBindingsError, RuntimeControlPlaneError, RuntimeDriverError,
    RuntimeOptions, RuntimeState, RuntimeStore, SessionId,
};

fn allow_all() -> dsl::ToolFilter {
    dsl::ToolFilter { mode: dsl::ToolFilterMode::AllowAll, names: Default::default() }
}

#[tokio::test]
async fn errors_name_what_went_wrong_and_keep_the_kernel_refusal_as_source() {
    let options = RuntimeOptions { max_queued_inputs: 2, ..RuntimeOptions::DEFAULT };
    let machine = Arc::new(MeerkatMachine::ephemeral_with_options(options));
    let session = SessionId::new("errors");
    machine.register_session(session.clone()).await.expect("register");

    // A duplicate of a live input: the kernel's guard refused it, and that refusal is the source.
    let first = Input::with_id(InputId::new("a"), "payload");
    machine.accept_input_without_wake(&session, first.clone()).await.expect("accept");
    let duplicate = machine.accept_input_without_wake(&session, first.clone()).await.expect_err("duplicate");
    let RuntimeDriverError::DuplicateInput { ref input_id, .. } = duplicate else {
        panic!("a duplicate is DuplicateInput, got {duplicate:?}");
    };
    assert_eq!(input_id, &first.id);
    let source = duplicate.source().expect("the kernel's refusal is the source");
    assert!(source.downcast_ref::<Box<KernelRejection>>().is_some(), "{source}");
    assert!(!duplicate.to_string().contains("input_ledger"), "the message names the duplicate: {duplicate}");

    // A full queue is the typed bound, and nothing was accepted.
    machine.accept_input_without_wake(&session, Input::with_id(InputId::new("b"), "p")).await.expect("accept");
    let full = machine.accept_input_without_wake(&session, Input::with_id(InputId::new("c"), "p")).await;
    assert_eq!(full, Err(RuntimeDriverError::Backpressure { what: BackpressureBound::InputQueue, limit: 2 }));
    assert_eq!(machine.input_state(&session, &InputId::new("c")).await, Ok(None));

    // A duplicate of an input the kernel already forgot (inside the dedupe window) is DuplicateInput as well.
    let drained = SessionId::new("drained");
    machine.ensure_session_with_executor(drained.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&drained, first.clone()).await.expect("accept");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
    common::until(|| {
        let machine = Arc::clone(&machine);
        let drained = drained.clone();
        async move { machine.session_dsl_state(&drained).await.expect("state").input_ledger.is_empty() }
    })
    .await;
    let again = machine.accept_input_without_wake(&drained, first.clone()).await;
    assert!(
        matches!(again, Err(RuntimeDriverError::DuplicateInput { ref input_id, .. }) if input_id == &first.id),
        "{again:?}"
    );

    // Bindings of a past epoch are stale, not "failed to prepare".
    let reset_session = SessionId::new("reset");
    let old = machine.prepare_bindings(&reset_session).await.expect("bindings");
    machine.reset(&reset_session).await.expect("reset");
    let stale = machine.validate_session_bindings(&old).await;
    assert!(
        matches!(stale, Err(RuntimeBindingsError::StaleBindings { ref session_id, .. }) if session_id == &reset_session)
    );

    // An unknown session names itself.
    let unknown = SessionId::new("nobody");
    assert_eq!(
        machine.retire(&unknown).await.map(|_| ()),
        Err(RuntimeDriverError::UnknownSession { session_id: unknown })
    );
}

#[tokio::test]
async fn bad_input_gets_one_typed_answer() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    // Empty ids are refused before anything is created.
    let empty = SessionId::new("");
    assert_eq!(
        machine.register_session(empty.clone()).await,
        Err(RuntimeControlPlaneError::Driver(RuntimeDriverError::InvalidId { kind: IdKind::Session }))
    );
    assert!(!machine.contains_session(&empty).await);
    let session = SessionId::new("s");
    machine.register_session(session.clone()).await.expect("register");
    let before = machine.session_dsl_state(&session).await.expect("state");
    let blank = machine.accept_input_without_wake(&session, Input::with_id(InputId::new(""), "p")).await;
    assert_eq!(blank, Err(RuntimeDriverError::InvalidId { kind: IdKind::Input }));
    assert_eq!(machine.session_dsl_state(&session).await.expect("state"), before, "nothing was accepted");

    // An unknown session answers the same way from every method.
    let unknown = SessionId::new("unknown");
    let expected = RuntimeDriverError::UnknownSession { session_id: unknown.clone() };
    let answers: Vec<(&str, RuntimeDriverError)> = vec![
        ("retire", machine.retire(&unknown).await.map(|_| ()).expect_err("retire")),
        ("reset", machine.reset(&unknown).await.map(|_| ()).expect_err("reset")),
        ("recycle", machine.recycle(&unknown).await.map(|_| ()).expect_err("recycle")),
        ("destroy", machine.destroy(&unknown).await.map(|_| ()).expect_err("destroy")),
        ("runtime_state", machine.runtime_state(&unknown).await.map(|_| ()).expect_err("state")),
        ("unregister", machine.unregister_session(&unknown).await.expect_err("unregister")),
        ("accept", machine.accept_input_without_wake(&unknown, Input::new("p")).await.map(|_| ()).expect_err("accept")),
        (
            "accept_with_completion",
            machine.accept_input_with_completion(&unknown, Input::new("p")).await.map(|_| ()).expect_err("accept"),
        ),
        ("input_state", machine.input_state(&unknown, &InputId::new("x")).await.map(|_| ()).expect_err("input")),
        ("list_active_inputs", machine.list_active_inputs(&unknown).await.map(|_| ()).expect_err("list")),
        ("silent_intents", machine.set_session_silent_intents(&unknown, vec![]).await.expect_err("intents")),
        ("stage_filter", machine.stage_persistent_filter(&unknown, allow_all()).await.map(|_| ()).expect_err("stage")),
        ("stop", machine.stop_runtime_executor(&unknown, "why").await.expect_err("stop")),
        ("cancel", machine.cancel_after_boundary(&unknown).await.expect_err("cancel")),
        ("interrupt", machine.hard_cancel_current_run(&unknown, "why").await.expect_err("interrupt")),
    ];
    for (method, answer) in answers {
        assert_eq!(answer, expected, "{method}");
    }
    assert_eq!(machine.session_dsl_state(&unknown).await, Err(RuntimeControlPlaneError::Driver(expected)));

    // Recovering a destroyed session is an error, as registering it is.
    machine.destroy(&session).await.expect("destroy");
    assert_eq!(machine.recover(&session).await.map(|_| ()), Err(RuntimeDriverError::Destroyed));
    assert_eq!(machine.runtime_state(&session).await, Ok(RuntimeState::Destroyed));
}

#[tokio::test]
async fn contradictory_stores_are_recovery_corruption() {
    let store = Arc::new(InMemoryRuntimeStore::new());
    let machine = MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>);

    // No run survives a restart, so a stored `Running` state is a contradiction.
    let running = SessionId::new("running");
    store.write_runtime_state(&MeerkatMachine::logical_runtime_id(&running), RuntimeState::Running);
    let error = machine.recover(&running).await.expect_err("running");
    assert!(
        matches!(error, RuntimeDriverError::RecoveryCorruption { ref reason } if reason.contains("Running")),
        "{error}"
    );
    assert!(!machine.contains_session(&running).await);

    // Two inputs admitted with the same sequence.
    let twice = SessionId::new("twice");
    let runtime = MeerkatMachine::logical_runtime_id(&twice);
    store.write_input(&runtime, StoredInput { input: Input::new("one"), seed: InputStateSeed::accepted(4) });
    store.write_input(&runtime, StoredInput { input: Input::new("two"), seed: InputStateSeed::accepted(4) });
    let error = machine.register_session(twice.clone()).await.expect_err("duplicate sequences");
    assert!(
        matches!(error, RuntimeControlPlaneError::Driver(RuntimeDriverError::RecoveryCorruption { ref reason })
            if reason.contains("admission sequence")),
        "{error}"
    );
    assert!(!machine.contains_session(&twice).await);
}
