//! Runtime benchmarks, each row measured for the runtime and for the floor (`floor/mod.rs`: one actor task per
//! session over `tokio::sync::mpsc`, answering through a `oneshot` after a hand-written `match`) in the same
//! process and run, and reported as a ratio to the floor: the accept → completed round trip (criterion, plus
//! p50/p99 of the first 1,000 round trips on one session from our own sample vector), the p50 of the first and
//! last tenth of a long history on one session (50,000 round trips; `MEERKAT_BENCH_HISTORY` overrides), and
//! throughput with 1, 100 and 10,000 sessions. Every session has a toy executor that commits its run at once, so
//! the numbers are the shell's cost: kernel staging and commit, driver, completion waiters, the runtime loop and
//! tokio scheduling, on a 2-worker multi-thread runtime. Run with `cargo bench -p meerkat-runtime --bench runtime`.

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod floor;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use floor::FloorSession;
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

/// The two systems under measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum System {
    Runtime,
    Floor,
}

/// `sessions` attached sessions of one system.
enum Sessions {
    Runtime(Arc<MeerkatMachine>, Vec<SessionId>),
    Floor(Vec<FloorSession>),
}

impl Sessions {
    async fn attach(system: System, sessions: usize) -> Self {
        let ids: Vec<SessionId> = (0..sessions).map(|n| SessionId::new(format!("bench-{n}"))).collect();
        match system {
            System::Runtime => {
                let machine = Arc::new(MeerkatMachine::ephemeral());
                for id in &ids {
                    machine.ensure_session_with_executor(id.clone(), Box::new(Commit)).await.expect("attach");
                }
                Sessions::Runtime(machine, ids)
            }
            System::Floor => {
                Sessions::Floor(ids.into_iter().map(|id| FloorSession::spawn(id, Box::new(Commit))).collect())
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Sessions::Runtime(_, ids) => ids.len(),
            Sessions::Floor(sessions) => sessions.len(),
        }
    }

    /// One accept → completed round trip on session `index`.
    async fn round_trip(&self, index: usize) {
        let outcome = match self {
            Sessions::Runtime(machine, ids) => {
                let (_, handle) =
                    machine.accept_input_with_completion(&ids[index], Input::new("ping")).await.expect("accept");
                handle.wait().await
            }
            Sessions::Floor(sessions) => sessions[index].round_trip(Input::new("ping")).await,
        };
        assert_eq!(outcome, CompletionOutcome::Completed);
    }

    /// Accepts `count` inputs on session `index` before awaiting any, then awaits them all.
    async fn burst(&self, index: usize, count: usize) {
        match self {
            Sessions::Runtime(machine, ids) => {
                let mut handles = Vec::with_capacity(count);
                for _ in 0..count {
                    let (_, handle) =
                        machine.accept_input_with_completion(&ids[index], Input::new("work")).await.expect("accept");
                    handles.push(handle);
                }
                for handle in handles {
                    assert_eq!(handle.wait().await, CompletionOutcome::Completed);
                }
            }
            Sessions::Floor(sessions) => {
                let mut answers = Vec::with_capacity(count);
                for _ in 0..count {
                    answers.push(sessions[index].accept(Input::new("work")).await);
                }
                for answer in answers {
                    assert_eq!(answer.await.expect("floor answers"), CompletionOutcome::Completed);
                }
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `count` round trips in a row on one fresh session, each timed.
fn round_trip_samples(rt: &tokio::runtime::Runtime, system: System, count: usize) -> Vec<Duration> {
    rt.block_on(async {
        let sessions = Sessions::attach(system, 1).await;
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            let start = Instant::now();
            sessions.round_trip(0).await;
            samples.push(start.elapsed());
        }
        samples
    })
}

fn sorted(samples: &[Duration]) -> Vec<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted
}

/// Inputs per second with `sessions` sessions taking `per_session` inputs each, all accepted concurrently (one
/// task per session) and awaited; setup is not timed. Median of `runs`.
fn throughput(rt: &tokio::runtime::Runtime, system: System, sessions: usize, per_session: usize, runs: usize) -> f64 {
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| {
            rt.block_on(async {
                let attached = Arc::new(Sessions::attach(system, sessions).await);
                let start = Instant::now();
                let tasks: Vec<_> = (0..attached.len())
                    .map(|index| {
                        let attached = Arc::clone(&attached);
                        tokio::spawn(async move { attached.burst(index, per_session).await })
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
    rates[rates.len() / 2]
}

/// One row of the summary: the runtime's value, the floor's, and their ratio.
fn row(name: &str, unit: &str, runtime: f64, floor: f64) {
    println!("| {name} | {runtime:.1} {unit} | {floor:.1} {unit} | {:.3}× |", runtime / floor);
}

fn main() {
    let rt = runtime();
    let mut criterion =
        Criterion::default().configure_from_args().sample_size(20).measurement_time(Duration::from_secs(3));
    for (name, system) in [("accept_with_completion_round_trip", System::Runtime), ("floor_round_trip", System::Floor)]
    {
        criterion.bench_function(name, |bench| {
            bench.iter_custom(|iters| {
                rt.block_on(async {
                    // A fresh session per sample, so the history stays comparable across samples.
                    let sessions = Sessions::attach(system, 1).await;
                    let start = Instant::now();
                    for _ in 0..iters {
                        sessions.round_trip(0).await;
                    }
                    start.elapsed()
                })
            });
        });
    }
    criterion.final_summary();

    if std::env::args().any(|arg| arg == "--list" || arg == "--test") {
        return;
    }
    let history: usize = std::env::var("MEERKAT_BENCH_HISTORY").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let tenth = history / 10;

    let first_runtime = sorted(&round_trip_samples(&rt, System::Runtime, 1_000));
    let first_floor = sorted(&round_trip_samples(&rt, System::Floor, 1_000));
    // `MEERKAT_BENCH_HISTORY=0` skips the history rows.
    let long_runtime = round_trip_samples(&rt, System::Runtime, history);
    let long_floor = round_trip_samples(&rt, System::Floor, history);
    let tenths = |samples: &[Duration]| {
        if tenth == 0 {
            return (f64::NAN, f64::NAN);
        }
        let first = sorted(&samples[..tenth]);
        let last = sorted(&samples[samples.len() - tenth..]);
        (micros(percentile(&first, 0.5)), micros(percentile(&last, 0.5)))
    };
    let (runtime_first_tenth, runtime_last_tenth) = tenths(&long_runtime);
    let (floor_first_tenth, floor_last_tenth) = tenths(&long_floor);

    let shapes = [(1, 2_000), (100, 100), (10_000, 1)];
    let rates: Vec<(usize, usize, f64, f64)> = shapes
        .iter()
        .map(|&(sessions, per_session)| {
            (
                sessions,
                per_session,
                throughput(&rt, System::Runtime, sessions, per_session, 3),
                throughput(&rt, System::Floor, sessions, per_session, 3),
            )
        })
        .collect();

    println!();
    println!("| row | runtime | floor | runtime / floor |");
    println!("|---|---|---|---|");
    row(
        "accept→completed p50, first 1,000 round trips",
        "µs",
        micros(percentile(&first_runtime, 0.5)),
        micros(percentile(&first_floor, 0.5)),
    );
    row(
        "accept→completed p99, first 1,000 round trips",
        "µs",
        micros(percentile(&first_runtime, 0.99)),
        micros(percentile(&first_floor, 0.99)),
    );
    row(&format!("p50 of the first tenth of {history} round trips"), "µs", runtime_first_tenth, floor_first_tenth);
    row(&format!("p50 of the last tenth of {history} round trips"), "µs", runtime_last_tenth, floor_last_tenth);
    println!(
        "| last tenth / first tenth (flat history) | {:.2}× | {:.2}× | |",
        runtime_last_tenth / runtime_first_tenth,
        floor_last_tenth / floor_first_tenth
    );
    for (sessions, per_session, runtime, floor) in rates {
        row(
            &format!("throughput, {sessions} sessions × {per_session} inputs (median of 3)"),
            "inputs/s",
            runtime,
            floor,
        );
    }
}
