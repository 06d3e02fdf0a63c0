//! Session lifecycle through the shell: unregistration drains a run in flight, destroyed sessions refuse
//! everything, a failing driver rolls the kernel back, recovery replays stored phases (and refuses corrupt
//! stores), bindings and handles share the session's kernel, the composition routes reach the supervisor, and a
//! kernel refusal keeps the kernel's typed error as its source.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{FailingStore, ImmediateExecutor, gated, until, within};
use meerkat_runtime::handles::DslRejectionKind;
use meerkat_runtime::meerkat_machine::dsl;
use meerkat_runtime::meerkat_machine::{SessionSupervisorHost, SessionToolVisibilityState};
use meerkat_runtime::store::StoredInput;
use meerkat_runtime::{
    CompletionOutcome, InMemoryRuntimeStore, Input, InputId, InputLifecycleState, InputStateSeed, KernelRejection,
    MeerkatMachine, RuntimeBindingsError, RuntimeControlPlaneError, RuntimeDriverError, RuntimeState, RuntimeStore,
    SessionId,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregister_lets_the_run_in_flight_commit_then_removes_the_session() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("draining");
    let (executor, mut started, release) = gated();
    machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&session, Input::new("in flight")).await.expect("accept");
    within(started.recv()).await.expect("run started");

    let unregister = tokio::spawn({
        let machine = Arc::clone(&machine);
        let session = session.clone();
        async move { machine.unregister_session(&session).await }
    });
    until(|| async {
        machine
            .session_dsl_state(&session)
            .await
            .is_ok_and(|state| state.registration_phase == dsl::RegistrationPhase::Draining)
    })
    .await;
    // The drain window refuses new registrations and executor claims.
    assert!(machine.register_session(session.clone()).await.is_err());
    assert!(machine.contains_session(&session).await, "the session stays until the run commits");
    release.add_permits(1);
    within(unregister).await.expect("join").expect("unregister");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
    assert!(!machine.contains_session(&session).await);
}

#[tokio::test]
async fn destroyed_sessions_refuse_everything_with_destroyed() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("tombstone");
    machine.register_session(session.clone()).await.expect("register");
    let bindings = machine.prepare_bindings(&session).await.expect("bindings");
    machine.destroy(&session).await.expect("destroy");

    let destroyed = |result: Result<(), RuntimeDriverError>| assert_eq!(result, Err(RuntimeDriverError::Destroyed));
    assert_eq!(
        machine.register_session(session.clone()).await,
        Err(RuntimeControlPlaneError::Driver(RuntimeDriverError::Destroyed))
    );
    destroyed(machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await);
    destroyed(machine.accept_input_with_completion(&session, Input::new("x")).await.map(|_| ()));
    destroyed(machine.accept_input_without_wake(&session, Input::new("x")).await.map(|_| ()));
    destroyed(machine.retire(&session).await.map(|_| ()));
    destroyed(machine.reset(&session).await.map(|_| ()));
    destroyed(machine.recycle(&session).await.map(|_| ()));
    destroyed(machine.destroy(&session).await.map(|_| ()));
    destroyed(machine.stop_runtime_executor(&session, "x").await);
    destroyed(machine.set_session_silent_intents(&session, vec!["quiet".into()]).await);
    destroyed(machine.cancel_after_boundary(&session).await);
    destroyed(machine.hard_cancel_current_run(&session, "x").await);
    destroyed(machine.unregister_session(&session).await);
    destroyed(machine.stage_persistent_filter(&session, allow_all()).await.map(|_| ()));
    destroyed(machine.publish_committed_visible_set(&session, SessionToolVisibilityState::default()).await.map(|_| ()));
    assert!(matches!(machine.prepare_bindings(&session).await, Err(RuntimeBindingsError::PrepareFailed(..))));
    assert_eq!(machine.runtime_state(&session).await, Ok(RuntimeState::Destroyed));
    // Handles minted before the destroy are closed.
    let error = bindings.session_admission().confirm_registration().await.expect_err("closed");
    assert_eq!(error.kind, DslRejectionKind::NoMatchingTransition);
    assert!(error.reason.contains("closed by teardown"));
}

fn allow_all() -> dsl::ToolFilter {
    dsl::ToolFilter { mode: dsl::ToolFilterMode::AllowAll, names: Default::default() }
}

on_every_store!(
    a_failing_driver_mutation_restores_the_kernel_snapshot,
    cold_recovery_replays_stored_phases_through_the_kernel
);

async fn a_failing_driver_mutation_restores_the_kernel_snapshot(store: Arc<dyn RuntimeStore>) {
    let store = Arc::new(FailingStore::over(store));
    let machine = MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>);
    let session = SessionId::new("fragile");
    machine.register_session(session.clone()).await.expect("register");
    machine.accept_input_without_wake(&session, Input::new("kept")).await.expect("accept");
    let before = machine.session_dsl_state(&session).await.expect("state");

    store.fail.store(true, Ordering::SeqCst);
    let accept = machine.accept_input_with_completion(&session, Input::new("lost")).await;
    assert!(
        matches!(accept, Err(RuntimeDriverError::Internal(ref reason)) if reason.contains("disk on fire")),
        "{accept:?}"
    );
    assert_eq!(machine.session_dsl_state(&session).await.expect("state"), before);
    let retire = machine.retire(&session).await;
    assert!(matches!(retire, Err(RuntimeDriverError::Internal(_))), "{retire:?}");
    assert_eq!(machine.session_dsl_state(&session).await.expect("state"), before);
    assert_eq!(machine.list_active_inputs(&session).await.expect("inputs").len(), 1);

    store.fail.store(false, Ordering::SeqCst);
    machine.accept_input_without_wake(&session, Input::new("fine")).await.expect("accept again");
    assert_eq!(machine.list_active_inputs(&session).await.expect("inputs").len(), 2);
}

async fn cold_recovery_replays_stored_phases_through_the_kernel(store: Arc<dyn RuntimeStore>) {
    let (queued, retired, stopped, destroyed) =
        (SessionId::new("queued"), SessionId::new("retired"), SessionId::new("stopped"), SessionId::new("destroyed"));
    let first_epoch = {
        let machine = MeerkatMachine::persistent(Arc::clone(&store));
        for session in [&queued, &retired, &stopped, &destroyed] {
            machine.register_session(session.clone()).await.expect("register");
        }
        machine.accept_input_without_wake(&queued, Input::new("first")).await.expect("accept");
        machine.accept_input_without_wake(&queued, Input::new("second")).await.expect("accept");
        machine.retire(&retired).await.expect("retire");
        machine.stop_runtime_executor(&stopped, "operator").await.expect("stop");
        machine.destroy(&destroyed).await.expect("destroy");
        machine.prepare_local_session_bindings(&queued).await.expect("bindings").epoch_id().clone()
    };

    // A new machine over the same store: the process restarted.
    let machine = Arc::new(MeerkatMachine::persistent(Arc::clone(&store)));
    let report = machine.recover(&queued).await.expect("recover");
    assert!(report.cold);
    assert_eq!(report.inputs_pending, 2);
    assert_eq!(report.runtime_state, RuntimeState::Idle);
    let bindings = machine.prepare_local_session_bindings(&queued).await.expect("bindings");
    assert_eq!(bindings.epoch_id(), &first_epoch, "recovery keeps the epoch");
    machine.ensure_session_with_executor(queued.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    let (_, last) = machine.accept_input_with_completion(&queued, Input::new("third")).await.expect("accept");
    assert_eq!(within(last.wait()).await, CompletionOutcome::Completed);
    assert!(machine.list_active_inputs(&queued).await.expect("inputs").is_empty(), "recovered inputs drained first");

    assert_eq!(machine.recover(&retired).await.expect("recover").runtime_state, RuntimeState::Retired);
    assert_eq!(
        machine.session_dsl_state(&retired).await.expect("state").lifecycle_phase,
        dsl::MeerkatMachinePhase::Retired
    );
    assert_eq!(machine.recover(&stopped).await.expect("recover").runtime_state, RuntimeState::Stopped);
    assert_eq!(
        machine.register_session(destroyed.clone()).await,
        Err(RuntimeControlPlaneError::Driver(RuntimeDriverError::Destroyed))
    );
    assert_eq!(machine.runtime_state(&destroyed).await, Ok(RuntimeState::Destroyed));
}

#[tokio::test]
async fn corrupt_stores_are_recovery_corruption() {
    let store = Arc::new(InMemoryRuntimeStore::new());
    // A destroyed runtime that still holds a live input: `Destroy` needs a quiescent ledger, so the replay fails.
    let session = SessionId::new("corrupt");
    let runtime = MeerkatMachine::logical_runtime_id(&session);
    store.write_runtime_state(&runtime, RuntimeState::Destroyed);
    store.write_input(&runtime, StoredInput { input: Input::new("live"), seed: InputStateSeed::accepted(0) });
    let machine = MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>);
    let error = machine.recover(&session).await.expect_err("corrupt");
    assert!(
        matches!(error, RuntimeDriverError::RecoveryCorruption { ref reason } if reason.contains("Destroyed")),
        "{error}"
    );
    assert!(!machine.contains_session(&session).await);

    // A seed whose terminal facts contradict its phase.
    let other = SessionId::new("corrupt-seed");
    let mut seed = InputStateSeed::accepted(0);
    seed.phase = InputLifecycleState::Consumed;
    store.write_input(&MeerkatMachine::logical_runtime_id(&other), StoredInput { input: Input::new("x"), seed });
    let error = machine.register_session(other.clone()).await.expect_err("corrupt");
    assert!(
        matches!(error, RuntimeControlPlaneError::Driver(RuntimeDriverError::RecoveryCorruption { .. })),
        "{error}"
    );
}

#[tokio::test]
async fn bindings_share_the_session_kernel_and_refuse_another_runtime() {
    let machine = MeerkatMachine::ephemeral();
    let session = SessionId::new("bound");
    let bindings = machine.prepare_bindings(&session).await.expect("bindings");
    bindings.validate_for(&session).expect("same session");
    assert!(bindings.validate_for(&SessionId::new("other")).is_err());
    machine.validate_session_bindings(&bindings).await.expect("live bindings");
    assert_eq!(
        machine.session_dsl_state(&session).await.expect("state").active_runtime_id,
        Some(dsl::AgentRuntimeId(MeerkatMachine::logical_runtime_id(&session).to_string()))
    );
    // Preparing again for the same runtime is accepted; another runtime is refused.
    machine.prepare_bindings(&session).await.expect("same runtime again");
    let refused = machine.prepare_bindings_for_runtime(&session, "elsewhere".into()).await;
    assert!(
        matches!(refused, Err(RuntimeBindingsError::PrepareFailed(_, ref reason)) if reason.contains("elsewhere")),
        "{refused:?}"
    );

    // Handles and shell commands act on one kernel: revisions interleave.
    let surface = bindings.external_tool_surface();
    assert_eq!(surface.stage_visibility_filter(allow_all()).await.expect("stage"), 1);
    assert_eq!(machine.stage_persistent_filter(&session, allow_all()).await.expect("stage"), 2);
    machine.set_session_silent_intents(&session, vec!["heartbeat".into()]).await.expect("intents");
    assert!(bindings.comms_drain().is_silent_intent("heartbeat"));
    assert_eq!(bindings.turn_state().turn_state().phase, RuntimeState::Idle);
    assert_eq!(bindings.turn_state().visible_phase().expect("visible"), RuntimeState::Idle);
    assert!(bindings.session_admission().lifecycle_facts().expect("facts").can_accept_input());
    bindings.session_admission().preview_input_admission(&"fresh".into()).expect("admissible");
    bindings.session_admission().confirm_registration().await.expect("confirm");
    assert_eq!(machine.list_active_inputs(&session).await.expect("inputs").len(), 0, "previews change nothing");

    machine.retire(&session).await.expect("retire");
    let refused = bindings.session_admission().preview_input_admission(&"late".into()).expect_err("retired");
    assert_eq!(refused.kind, DslRejectionKind::NoMatchingTransition);
}

#[tokio::test]
async fn visibility_publication_is_guarded_by_the_kernel() {
    let machine = MeerkatMachine::ephemeral();
    let session = SessionId::new("visible");
    machine.register_session(session.clone()).await.expect("register");
    let witness = dsl::ToolVisibilityWitness("signed".into());
    let revision = machine
        .request_deferred_tools(&session, BTreeMap::from([("search".to_owned(), witness.clone())]))
        .await
        .expect("request");
    let names: std::collections::BTreeSet<String> = ["search".to_owned()].into();
    let published = SessionToolVisibilityState {
        active_requested_deferred_names: names.clone(),
        staged_requested_deferred_names: names,
        active_visibility_revision: revision,
        staged_visibility_revision: revision,
        ..SessionToolVisibilityState::default()
    };
    let committed = machine.publish_committed_visible_set(&session, published.clone()).await.expect("publish");
    assert_eq!(committed.active_deferred_authorities.get("search"), Some(&witness));
    let before = machine.session_dsl_state(&session).await.expect("state");
    // Clause 1: the active surface may not be behind the staged input.
    let behind = SessionToolVisibilityState { active_visibility_revision: 0, ..published.clone() };
    let refused = machine.publish_committed_visible_set(&session, behind).await;
    assert!(matches!(refused, Err(RuntimeDriverError::ValidationFailed { .. })), "{refused:?}");
    // A tool never requested with a witness is refused before the kernel sees it.
    let mut unknown = published;
    unknown.active_requested_deferred_names.insert("shell".into());
    unknown.staged_requested_deferred_names.insert("shell".into());
    assert!(matches!(
        machine.publish_committed_visible_set(&session, unknown).await,
        Err(RuntimeDriverError::ValidationFailed { .. })
    ));
    assert_eq!(machine.session_dsl_state(&session).await.expect("state"), before);
    assert!(machine.request_deferred_tools(&session, BTreeMap::new()).await.is_err(), "needs a witness");
}

#[tokio::test]
async fn composition_routes_reach_the_supervisor_and_back() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let host = SessionSupervisorHost::new(&machine);
    machine.set_composition_signal_dispatcher(host.dispatcher());
    let member = SessionId::new("member");
    host.admit_member(&member).expect("admit");
    let (executor, mut started, _release) = gated();
    machine.ensure_session_with_executor(member.clone(), Box::new(executor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&member, Input::new("long")).await.expect("accept");
    within(started.recv()).await.expect("run started");
    host.interrupt_member(&member).await.expect("supervisor interrupt");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Cancelled);

    machine.retire(&member).await.expect("retire");
    let member_key = meerkat_runtime::session_supervisor::dsl::SessionId("member".into());
    assert!(host.state().retired.contains(&member_key));
    machine.destroy(&member).await.expect("destroy");
    assert!(!host.state().members.contains(&member_key));

    // A session the supervisor does not know: the dispatch fails, the committed kernel state stays.
    let stranger = SessionId::new("stranger");
    machine.register_session(stranger.clone()).await.expect("register");
    let error = machine.retire(&stranger).await.expect_err("dispatch refused");
    assert!(matches!(error, RuntimeDriverError::Internal(ref reason) if reason.contains("dispatch")), "{error}");
    assert_eq!(machine.runtime_state(&stranger).await, Ok(RuntimeState::Retired));
}

#[tokio::test]
async fn ensure_session_upgrades_a_queued_session_in_place() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("upgrade");
    machine.register_session(session.clone()).await.expect("register");
    let (_, queued) = machine.accept_input_with_completion(&session, Input::new("waits")).await.expect("accept");
    assert!(!machine.session_has_executor(&session).await);
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    assert_eq!(within(queued.wait()).await, CompletionOutcome::Completed);
    assert!(machine.session_has_executor(&session).await);
    // A second executor for a live loop is a no-op.
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("no-op");
    // Stop detaches the loop; the kernel observes the executor's exit.
    machine.stop_runtime_executor(&session, "done").await.expect("stop");
    until(|| async { !machine.session_has_executor(&session).await }).await;
    assert_eq!(machine.runtime_state(&session).await, Ok(RuntimeState::Stopped));
    // Reset brings a stopped session back to idle.
    machine.reset(&session).await.expect("reset");
    assert_eq!(machine.runtime_state(&session).await, Ok(RuntimeState::Idle));
}

/// The kernel's refusal behind a `ValidationFailed` (or a `DuplicateInput`), checked to be the typed error the
/// kernel returned: the error's source, and the source's source.
fn kernel_refusal(error: &RuntimeDriverError) -> (&'static str, &dsl::MeerkatMachineTransitionError) {
    let rejection = match error {
        RuntimeDriverError::ValidationFailed { reason, source: Some(rejection) } => {
            assert_eq!(reason, &rejection.to_string(), "the reason is the rejection's message, as before");
            rejection
        }
        RuntimeDriverError::DuplicateInput { source: Some(rejection), .. } => rejection,
        _ => panic!("a kernel refusal keeps the kernel's rejection as its source: {error:?}"),
    };
    let KernelRejection::Transition { context, error: kernel } = &**rejection else {
        panic!("the kernel itself refused: {rejection:?}");
    };
    let source = std::error::Error::source(error).expect("the rejection is the error's source");
    assert_eq!(source.to_string(), rejection.to_string());
    let root = std::error::Error::source(source).expect("the kernel's error is the rejection's source");
    assert_eq!(root.to_string(), kernel.to_string());
    (context, kernel)
}

#[tokio::test]
async fn kernel_refusals_keep_the_kernels_typed_error_as_their_source() {
    let machine = MeerkatMachine::ephemeral();
    let session = SessionId::new("refused");
    machine.register_session(session.clone()).await.expect("register");

    let id = InputId::new("once");
    machine.accept_input_without_wake(&session, Input::with_id(id.clone(), "first")).await.expect("accept");
    let duplicate = machine.accept_input_without_wake(&session, Input::with_id(id, "again")).await.unwrap_err();
    let (context, kernel) = kernel_refusal(&duplicate);
    assert_eq!(context, "AcceptInput");
    assert!(
        matches!(kernel, dsl::MeerkatMachineTransitionError::GuardRejected { trigger: "AcceptInput", .. }),
        "{kernel:?}"
    );

    machine.retire(&session).await.expect("retire");
    let again = machine.retire(&session).await.unwrap_err();
    let (context, kernel) = kernel_refusal(&again);
    assert_eq!(context, "Retire");
    assert!(
        matches!(
            kernel,
            dsl::MeerkatMachineTransitionError::NoMatchingTransition {
                phase: dsl::MeerkatMachinePhase::Retired,
                trigger: "Retire"
            }
        ),
        "{kernel:?}"
    );
}
