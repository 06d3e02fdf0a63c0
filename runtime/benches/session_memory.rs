//! Memory per idle session, measured with a counting global allocator (`stats_alloc`; no unsafe code of ours):
//! the net heap bytes held after registering 10,000 sessions, divided by 10,000 (the sessions map's own growth is
//! included). Measured for sessions registered without an executor and with an idle attached executor (its runtime
//! loop task and channels). Run with `cargo bench -p meerkat-runtime --bench session_memory`.

#![allow(clippy::print_stdout, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use meerkat_runtime::{BoxFuture, CoreExecutor, CoreExecutorError, MeerkatMachine, RunOutput, RunRequest, SessionId};
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

fn main() {
    if std::env::args().any(|arg| arg == "--list" || arg == "--test") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let ids: Vec<SessionId> = (0..SESSIONS).map(|n| SessionId::new(format!("idle-{n:05}"))).collect();

        let machine = MeerkatMachine::ephemeral();
        let region = Region::new(GLOBAL);
        for id in &ids {
            machine.register_session(id.clone()).await.expect("register");
        }
        let (bytes, blocks) = net_bytes(&region);
        println!(
            "idle registered session (no executor): {} bytes, {} live allocations per session ({SESSIONS} sessions)",
            bytes / SESSIONS as i64,
            blocks / SESSIONS
        );
        drop(machine);

        let machine = Arc::new(MeerkatMachine::ephemeral());
        let region = Region::new(GLOBAL);
        for id in &ids {
            machine.ensure_session_with_executor(id.clone(), Box::new(Idle)).await.expect("attach");
        }
        // Let every loop task start and park on its wake channel.
        tokio::task::yield_now().await;
        let (bytes, blocks) = net_bytes(&region);
        println!(
            "idle session with an attached executor: {} bytes, {} live allocations per session ({SESSIONS} sessions)",
            bytes / SESSIONS as i64,
            blocks / SESSIONS
        );
    });
}
