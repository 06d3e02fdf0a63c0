//! Memory per session, measured with a counting global allocator (`stats_alloc`; no unsafe code of ours): the net
//! heap bytes held after registering 10,000 sessions, divided by 10,000 (the sessions map's own growth is
//! included), for sessions registered without an executor, with an idle attached executor (its runtime loop task
//! and channels), and for the floor (`floor/mod.rs`: one actor task and its channel); then the net bytes one
//! session holds after it consumed a long history of inputs (50,000; `MEERKAT_BENCH_HISTORY` overrides), runtime
//! (with the default dedupe window and with none) and floor. Run with
//! `cargo bench -p meerkat-runtime --bench session_memory`.

#![allow(clippy::print_stdout, clippy::expect_used, missing_docs)]

mod floor;

use std::sync::Arc;

use floor::FloorSession;
use meerkat_runtime::{
    BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, MeerkatMachine, RunOutput, RunRequest,
    RuntimeOptions, SessionId,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

struct Idle;

impl CoreExecutor for Idle {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async { Ok(RunOutput::default()) })
    }
}

const SESSIONS: usize = 10_000;

fn net_bytes(region: &Region<'_, std::alloc::System>) -> (i64, usize) {
    let stats = region.change();
    let net = stats.bytes_allocated as i64 + stats.bytes_reallocated as i64 - stats.bytes_deallocated as i64;
    (net, stats.allocations.saturating_sub(stats.deallocations))
}

/// Lets the tasks of dropped sessions finish and free what they hold, so the next region does not count it.
async fn settle() {
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

fn report(what: &str, region: &Region<'_, std::alloc::System>, sessions: usize) {
    let (bytes, blocks) = net_bytes(region);
    println!(
        "{what}: {} bytes, {} live allocations per session ({sessions} sessions)",
        bytes / sessions as i64,
        blocks / sessions
    );
}

fn main() {
    if std::env::args().any(|arg| arg == "--list" || arg == "--test") {
        return;
    }
    let history: usize = std::env::var("MEERKAT_BENCH_HISTORY").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let ids: Vec<SessionId> = (0..SESSIONS).map(|n| SessionId::new(format!("idle-{n:05}"))).collect();

        let machine = MeerkatMachine::ephemeral();
        let region = Region::new(GLOBAL);
        for id in &ids {
            machine.register_session(id.clone()).await.expect("register");
        }
        report("idle registered session (no executor)", &region, SESSIONS);
        drop(machine);
        settle().await;

        let machine = Arc::new(MeerkatMachine::ephemeral());
        let region = Region::new(GLOBAL);
        for id in &ids {
            machine.ensure_session_with_executor(id.clone(), Box::new(Idle)).await.expect("attach");
        }
        // Let every loop task start and park on its wake channel.
        tokio::task::yield_now().await;
        report("idle session with an attached executor", &region, SESSIONS);
        drop(machine);
        settle().await;

        let region = Region::new(GLOBAL);
        let floors: Vec<FloorSession> = ids.iter().map(|id| FloorSession::spawn(id.clone(), Box::new(Idle))).collect();
        tokio::task::yield_now().await;
        report("floor: idle session (actor task and channel)", &region, SESSIONS);
        drop(floors);
        settle().await;

        let machine = Arc::new(MeerkatMachine::ephemeral());
        let session = SessionId::new("history");
        let region = Region::new(GLOBAL);
        machine.ensure_session_with_executor(session.clone(), Box::new(Idle)).await.expect("attach");
        for _ in 0..history {
            let (_, handle) = machine.accept_input_with_completion(&session, Input::new("work")).await.expect("accept");
            assert_eq!(handle.wait().await, CompletionOutcome::Completed);
        }
        report(
            &format!("session after {history} consumed inputs (dedupe window {})", machine.options().dedupe_window),
            &region,
            1,
        );
        drop(machine);
        settle().await;

        // The same history with no dedupe window: what remains is the session itself.
        let machine = Arc::new(MeerkatMachine::ephemeral_with_options(RuntimeOptions {
            dedupe_window: 0,
            ..RuntimeOptions::DEFAULT
        }));
        let region = Region::new(GLOBAL);
        machine.ensure_session_with_executor(session.clone(), Box::new(Idle)).await.expect("attach");
        for _ in 0..history {
            let (_, handle) = machine.accept_input_with_completion(&session, Input::new("work")).await.expect("accept");
            assert_eq!(handle.wait().await, CompletionOutcome::Completed);
        }
        report(&format!("session after {history} consumed inputs (dedupe window 0)"), &region, 1);

        let region = Region::new(GLOBAL);
        let floor = FloorSession::spawn(SessionId::new("history"), Box::new(Idle));
        for _ in 0..history {
            assert_eq!(floor.round_trip(Input::new("work")).await, CompletionOutcome::Completed);
        }
        report(&format!("floor: session after {history} consumed inputs"), &region, 1);
    });
}
