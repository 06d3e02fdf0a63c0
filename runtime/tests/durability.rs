//! What the runtime acknowledged comes back after a restart (issue 20, section 3), on every store
//! `common::stores` lists: a retire taken during a run, visibility revision numbers (never minted twice) and the
//! silent intents, admission sequences (never reused, and refused on recovery when duplicate, `u64::MAX` or
//! missing), and a step and its effects committed together or not at all. A restart is a new `MeerkatMachine`
//! over the same store.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use common::stores::stores;
use common::{gated, within};
use meerkat_runtime::meerkat_machine::dsl;
use meerkat_runtime::store::{RuntimeStoreCommit, StoredInput};
use meerkat_runtime::{
    BackpressureBound, BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, InputId, InputStateSeed,
    MeerkatMachine, RunOutput, RunRequest, RuntimeDriverError, RuntimeOptions, RuntimeState, SessionId,
};

fn filter(name: &str) -> dsl::ToolFilter {
    dsl::ToolFilter { mode: dsl::ToolFilterMode::Deny, names: [name.to_owned()].into() }
}

#[tokio::test]
async fn a_retire_during_a_run_survives_a_restart() {
    for (name, make) in stores() {
        let store = make();
        let session = SessionId::new("retiring");
        let before = Arc::new(MeerkatMachine::persistent(Arc::clone(&store)));
        let (executor, mut started, _release) = gated();
        before.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
        let (_, _handle) = before.accept_input_with_completion(&session, Input::new("work")).await.expect("accept");
        within(started.recv()).await.expect("the run started");
        before.retire(&session).await.expect("retire during the run");

        // The process stops with the run in flight; a new machine recovers from the same store.
        let after = MeerkatMachine::persistent(Arc::clone(&store));
        let report = after.recover(&session).await.expect("recover");
        assert_eq!(report.runtime_state, RuntimeState::Retired, "{name}");
        let refused = after.accept_input_without_wake(&session, Input::new("late")).await;
        assert!(
            matches!(refused, Err(RuntimeDriverError::NotReady { state: RuntimeState::Retired })),
            "{name}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn visibility_revisions_continue_and_silent_intents_are_kept() {
    for (name, make) in stores() {
        let store = make();
        let session = SessionId::new("visible");
        let before = MeerkatMachine::persistent(Arc::clone(&store));
        before.register_session(session.clone()).await.expect("register");
        assert_eq!(before.stage_persistent_filter(&session, filter("a")).await, Ok(1), "{name}");
        assert_eq!(before.stage_persistent_filter(&session, filter("b")).await, Ok(2), "{name}");
        let intents = vec!["quiet".to_owned(), "hush".to_owned()];
        before.set_session_silent_intents(&session, intents.clone()).await.expect("intents");
        drop(before);

        let after = MeerkatMachine::persistent(Arc::clone(&store));
        after.register_session(session.clone()).await.expect("recover");
        let state = after.session_dsl_state(&session).await.expect("state");
        assert_eq!(state.silent_intents, intents.iter().cloned().collect::<BTreeSet<_>>(), "{name}");
        // Revision 3 is next: 1 and 2 were minted before the restart and are never minted again.
        assert_eq!(after.stage_persistent_filter(&session, filter("c")).await, Ok(3), "{name}");
        drop(after);
        let again = MeerkatMachine::persistent(Arc::clone(&store));
        again.register_session(session.clone()).await.expect("recover");
        assert_eq!(again.stage_persistent_filter(&session, filter("d")).await, Ok(4), "{name}");
    }
}

/// A store commit that admits one input with `sequence` as its admission sequence.
fn admitted(id: &str, sequence: Option<u64>) -> StoredInput {
    let mut seed = InputStateSeed::accepted(0);
    seed.admission_sequence = sequence;
    StoredInput { input: Input::with_id(InputId::new(id), "p"), seed }
}

#[tokio::test]
async fn admission_sequences_are_never_reused_and_bad_ones_are_refused_on_recovery() {
    for (name, make) in stores() {
        let store = make();
        let corrupt: [(&str, Vec<StoredInput>); 3] = [
            ("duplicate", vec![admitted("a", Some(7)), admitted("b", Some(7))]),
            ("max", vec![admitted("a", Some(u64::MAX))]),
            ("empty", vec![admitted("a", None)]),
        ];
        let machine = MeerkatMachine::persistent(Arc::clone(&store));
        for (case, inputs) in corrupt {
            let session = SessionId::new(case);
            let commit = RuntimeStoreCommit { accepted: inputs, ..RuntimeStoreCommit::default() };
            store.commit(&MeerkatMachine::logical_runtime_id(&session), commit).await.expect("write");
            let error = machine.recover(&session).await.expect_err("refused");
            assert!(
                matches!(error, RuntimeDriverError::RecoveryCorruption { ref reason } if reason.contains("admission sequence")),
                "{name} {case}: {error}"
            );
            assert!(!machine.contains_session(&session).await, "{name} {case}");
        }

        // Sequences of consumed inputs that left the dedupe window (and the store) are not handed out again.
        let options = RuntimeOptions { dedupe_window: 0, ..RuntimeOptions::DEFAULT };
        let session = SessionId::new("sequences");
        let mut seen = Vec::new();
        for _restart in 0..3 {
            let machine = Arc::new(MeerkatMachine::persistent_with_options(Arc::clone(&store), options));
            machine.register_session(session.clone()).await.expect("register");
            let mut handles = Vec::new();
            for _ in 0..3 {
                let (outcome, handle) =
                    machine.accept_input_with_completion(&session, Input::new("p")).await.expect("accept");
                let id = outcome.input_id().clone();
                let seed = machine.input_state(&session, &id).await.expect("state").expect("live");
                seen.push(seed.admission_sequence.expect("a sequence"));
                handles.push(handle);
            }
            machine
                .ensure_session_with_executor(session.clone(), Box::new(common::ImmediateExecutor))
                .await
                .expect("attach");
            for handle in handles {
                assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed, "{name}");
            }
            within(machine.unregister_session(&session)).await.expect("unregister");
        }
        let distinct: BTreeSet<u64> = seen.iter().copied().collect();
        assert_eq!(distinct.len(), seen.len(), "{name}: a sequence was handed out twice: {seen:?}");
        assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "{name}: {seen:?}");
    }
}

/// Blocks its worker thread inside the run until the test sends on `release`, so the loop reads no effects.
struct BlockingExecutor {
    started: std_mpsc::Sender<()>,
    release: std_mpsc::Receiver<()>,
}

impl CoreExecutor for BlockingExecutor {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async move {
            let _ = self.started.send(());
            let _ = self.release.recv();
            Ok(RunOutput::default())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn an_interrupt_whose_effect_cannot_be_queued_takes_no_step() {
    for (name, make) in stores() {
        let store = make();
        let machine = Arc::new(MeerkatMachine::persistent(Arc::clone(&store)));
        let session = SessionId::new("interrupt");
        let (started_tx, started_rx) = std_mpsc::channel();
        let (release_tx, release_rx) = std_mpsc::channel();
        machine
            .ensure_session_with_executor(
                session.clone(),
                Box::new(BlockingExecutor { started: started_tx, release: release_rx }),
            )
            .await
            .expect("attach");
        let (_, handle) = machine.accept_input_with_completion(&session, Input::new("work")).await.expect("accept");
        tokio::task::spawn_blocking(move || started_rx.recv()).await.expect("join").expect("the run started");
        // The loop is blocked inside the run, so its effect channel fills up.
        let mut queued = 0;
        let full = loop {
            match machine.cancel_after_boundary(&session).await {
                Ok(()) => queued += 1,
                Err(error) => break error,
            }
            assert!(queued <= 64, "{name}: the effect channel never filled");
        };
        assert!(
            matches!(full, RuntimeDriverError::Backpressure { what: BackpressureBound::EffectChannel, .. }),
            "{full}"
        );
        let before = machine.session_dsl_state(&session).await.expect("state");
        let interrupt = machine.hard_cancel_current_run(&session, "stop").await;
        assert!(
            matches!(interrupt, Err(RuntimeDriverError::Backpressure { what: BackpressureBound::EffectChannel, .. })),
            "{name}: {interrupt:?}"
        );
        assert_eq!(
            machine.session_dsl_state(&session).await.expect("state"),
            before,
            "{name}: no kernel step was taken"
        );
        release_tx.send(()).expect("release");
        // The run was never interrupted in the kernel, so it completes.
        assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed, "{name}");
    }
}
