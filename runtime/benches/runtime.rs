//! Runtime benchmarks: the accept-with-completion round trip on one session (criterion, plus p50/p99 computed from
//! our own sample vector), and throughput with 1, 100 and 10,000 sessions. Every session has a toy executor that
//! commits its run at once, so the numbers are the shell's cost: kernel staging and commit, driver, completion
//! waiters, the runtime loop and tokio scheduling. Run with `cargo bench -p meerkat-runtime`.

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use meerkat_runtime::{
    BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, MeerkatMachine, RunOutput, RunRequest,
    SessionId,
};

/// Commits every run at once.
struct Commit;

impl CoreExecutor for Commit {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async { Ok(RunOutput::default()) })
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

async fn attached_machine(sessions: usize) -> (Arc<MeerkatMachine>, Vec<SessionId>) {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let ids: Vec<SessionId> = (0..sessions).map(|n| SessionId::new(format!("bench-{n}"))).collect();
    for id in &ids {
        machine.ensure_session_with_executor(id.clone(), Box::new(Commit)).await.expect("attach");
    }
    (machine, ids)
}

async fn round_trip(machine: &MeerkatMachine, session: &SessionId) {
    let (_, handle) = machine.accept_input_with_completion(session, Input::new("ping")).await.expect("accept");
    assert_eq!(handle.wait().await, CompletionOutcome::Completed);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// p50 / p99 of `count` round trips on one fresh session, in order; also the p50 of the first and last tenth,
/// which shows how the session's growing ledger (never compacted) affects the cost.
fn latency_percentiles(rt: &tokio::runtime::Runtime, count: usize) {
    let samples = rt.block_on(async {
        let (machine, ids) = attached_machine(1).await;
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            let start = Instant::now();
            round_trip(&machine, &ids[0]).await;
            samples.push(start.elapsed());
        }
        samples
    });
    let tenth = count / 10;
    let mut first: Vec<Duration> = samples[..tenth].to_vec();
    let mut last: Vec<Duration> = samples[count - tenth..].to_vec();
    let mut all = samples;
    all.sort();
    first.sort();
    last.sort();
    println!(
        "round trip, one session, {count} samples: p50 {:.1} µs, p99 {:.1} µs (p50 of first {tenth}: {:.1} µs, of last {tenth}: {:.1} µs)",
        micros(percentile(&all, 0.50)),
        micros(percentile(&all, 0.99)),
        micros(percentile(&first, 0.50)),
        micros(percentile(&last, 0.50)),
    );
}

/// Inputs per second with `sessions` sessions taking `per_session` inputs each, all accepted concurrently (one
/// task per session) and awaited; setup is not timed. Median of `runs`.
fn throughput(rt: &tokio::runtime::Runtime, sessions: usize, per_session: usize, runs: usize) {
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| {
            rt.block_on(async {
                let (machine, ids) = attached_machine(sessions).await;
                let start = Instant::now();
                let tasks: Vec<_> = ids
                    .into_iter()
                    .map(|id| {
                        let machine = Arc::clone(&machine);
                        tokio::spawn(async move {
                            let mut handles = Vec::with_capacity(per_session);
                            for _ in 0..per_session {
                                let (_, handle) = machine
                                    .accept_input_with_completion(&id, Input::new("work"))
                                    .await
                                    .expect("accept");
                                handles.push(handle);
                            }
                            for handle in handles {
                                assert_eq!(handle.wait().await, CompletionOutcome::Completed);
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("session task");
                }
                (sessions * per_session) as f64 / start.elapsed().as_secs_f64()
            })
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "throughput, {sessions} sessions x {per_session} inputs: {median:.0} inputs/s (median of {runs}; min {:.0}, max {:.0})",
        rates[0],
        rates[rates.len() - 1]
    );
}

fn main() {
    let rt = runtime();
    let mut criterion =
        Criterion::default().configure_from_args().sample_size(20).measurement_time(Duration::from_secs(3));
    criterion.bench_function("accept_with_completion_round_trip", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                // A fresh session per sample, so the ledger size stays comparable across samples.
                let (machine, ids) = attached_machine(1).await;
                let start = Instant::now();
                for _ in 0..iters {
                    round_trip(&machine, &ids[0]).await;
                }
                start.elapsed()
            })
        });
    });
    criterion.final_summary();

    if std::env::args().any(|arg| arg == "--list" || arg == "--test") {
        return;
    }
    latency_percentiles(&rt, 1_000);
    latency_percentiles(&rt, 10_000);
    throughput(&rt, 1, 2_000, 3);
    throughput(&rt, 100, 100, 3);
    throughput(&rt, 10_000, 1, 3);
}
