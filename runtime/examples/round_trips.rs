//! A profiling target: `N` accept → completed round trips in a row on one session with a committing executor, on
//! the runtime benchmark's 2-worker multi-thread runtime, and nothing else, so a profiler's numbers are the
//! round trip's; with a second argument `burst`, `N` inputs accepted before any is awaited (the throughput row of
//! one session). Run with `cargo run --profile bench -p meerkat-runtime --example round_trips -- 5000`, or under
//! `valgrind --tool=callgrind target/release/examples/round_trips 5000` after building it with that profile.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use meerkat_runtime::{
    BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, MeerkatMachine, RunOutput, RunRequest,
    RuntimeDriverError, SessionId,
};

/// Commits every run at once.
struct Commit;

impl CoreExecutor for Commit {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async { Ok(RunOutput::default()) })
    }
}

fn main() -> Result<(), RuntimeDriverError> {
    let count: usize = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(5_000);
    let burst = std::env::args().nth(2).is_some_and(|arg| arg == "burst");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| RuntimeDriverError::Internal(error.to_string()))?;
    runtime.block_on(async {
        let machine = Arc::new(MeerkatMachine::ephemeral());
        let session = SessionId::new("profiled");
        machine.ensure_session_with_executor(session.clone(), Box::new(Commit)).await?;
        let start = Instant::now();
        let mut pending = Vec::new();
        for _ in 0..count {
            let (_, handle) = machine.accept_input_with_completion(&session, Input::new("ping")).await?;
            pending.push(handle);
            if burst {
                continue;
            }
            for handle in pending.drain(..) {
                let outcome = handle.wait().await;
                if outcome != CompletionOutcome::Completed {
                    return Err(RuntimeDriverError::Internal(format!("round trip ended as {outcome:?}")));
                }
            }
        }
        for handle in pending {
            let outcome = handle.wait().await;
            if outcome != CompletionOutcome::Completed {
                return Err(RuntimeDriverError::Internal(format!("input ended as {outcome:?}")));
            }
        }
        let elapsed = start.elapsed();
        println!("{count} round trips in {elapsed:?} ({:.1} µs each)", elapsed.as_secs_f64() * 1e6 / count as f64);
        Ok(())
    })
}
