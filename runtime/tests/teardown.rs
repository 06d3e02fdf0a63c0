//! Teardown is bounded and cancel-safe (issue 17, item 2), through the public API only. Unregistering a session
//! whose run never finishes returns by its deadline (the loop is aborted); a teardown future dropped at any await
//! point leaves one of the documented states (untouched; draining, refusing new input; or gone), from which a
//! second unregistration finishes the job and every waiter resolves.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{gated, within};
use meerkat_runtime::meerkat_machine::dsl;
use meerkat_runtime::{CompletionOutcome, Input, MeerkatMachine, RuntimeDriverError, SessionId};

#[tokio::test]
async fn unregistering_a_run_that_never_finishes_returns_by_its_deadline() {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("stuck");
    let (executor, mut started, _release) = gated();
    machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&session, Input::new("forever")).await.expect("accept");
    within(started.recv()).await.expect("the run started");
    let report = within(machine.unregister_session_with_deadline(&session, Duration::from_millis(50)))
        .await
        .expect("unregister");
    assert!(report.loop_aborted, "the run never finished, so its loop was aborted");
    assert!(!machine.contains_session(&session).await);
    assert!(matches!(within(handle.wait()).await, CompletionOutcome::Terminated { .. }));
}

/// A small deterministic generator, so a failing drop point can be reproduced.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Polls `future` at most `polls` times (yielding between polls so other tasks advance), then drops it.
/// Returns whether it finished.
async fn poll_then_drop<F: Future>(future: F, polls: u64) -> bool {
    let mut future = Box::pin(future);
    for _ in 0..polls {
        let ready = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await;
        if ready {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_dropped_at_any_await_point_leaves_a_documented_state() {
    let mut rng = Lcg(17);
    // How many rounds ended in each documented state: untouched, draining, gone.
    let mut seen = [0u32; 3];
    for round in 0..40u64 {
        let machine = Arc::new(MeerkatMachine::ephemeral());
        let session = SessionId::new(format!("round-{round}"));
        let (executor, mut started, release) = gated();
        machine.ensure_session_with_executor(session.clone(), Box::new(executor)).await.expect("attach");
        let (_, running) = machine.accept_input_with_completion(&session, Input::new("run")).await.expect("accept");
        within(started.recv()).await.expect("the run started");
        let (_, queued) = machine.accept_input_with_completion(&session, Input::new("next")).await.expect("accept");
        if rng.next(2) == 0 {
            // Half the rounds let the run finish while the teardown is in flight.
            release.add_permits(1);
        }
        let polls = rng.next(12);
        let deadline = Duration::from_millis(rng.next(30));
        let finished = poll_then_drop(machine.unregister_session_with_deadline(&session, deadline), polls).await;

        // The documented states of a dropped unregistration.
        if machine.contains_session(&session).await {
            assert!(!finished, "round {round}: a finished unregistration removed the session");
            let state = machine.session_dsl_state(&session).await.expect("state");
            let late = machine.accept_input_without_wake(&session, Input::new("late")).await;
            match state.registration_phase {
                // Dropped inside the drain window: it refuses new input.
                dsl::RegistrationPhase::Draining => {
                    assert_eq!(late.map(|_| ()), Err(RuntimeDriverError::Draining), "round {round}");
                    seen[1] += 1;
                }
                // Dropped before the drain window opened: nothing changed.
                dsl::RegistrationPhase::Active => {
                    assert!(late.is_ok(), "round {round}: {late:?}");
                    seen[0] += 1;
                }
                other => panic!("round {round}: unexpected registration {other:?}"),
            }
            // A second unregistration finishes the teardown.
            within(machine.unregister_session_with_deadline(&session, Duration::from_millis(20)))
                .await
                .expect("finish the teardown");
        } else {
            seen[2] += 1;
        }
        assert!(!machine.contains_session(&session).await, "round {round}");
        for handle in [running, queued] {
            let outcome = within(handle.wait()).await;
            assert!(
                matches!(outcome, CompletionOutcome::Completed | CompletionOutcome::Terminated { .. }),
                "round {round}: {outcome:?}"
            );
        }
        release.close();
    }
    // The drop points cover every documented state (the generator is deterministic; the scheduling is not, so
    // only states every run reaches are asserted).
    assert!(seen[0] > 0 && seen[1] > 0, "drop points reached {seen:?}");
}
