//! Durable accepts on the SQLite store: accepts per second and p50/p99 accept latency (the call to
//! `accept_input_with_completion` until it returns `Ok`, which is after the store's transaction committed), with 1
//! session and with 64 concurrent sessions, at both durability levels, each against the in-memory store in the
//! same run as the baseline. Every session has an executor that commits each run at once, so the store also takes
//! the runs' commits and the dedupe window's evictions (retention on, default window of 256 ids) while the
//! accepts are timed. Then the retention figure: the file's size while 1,000,000 inputs go through 16 sessions
//! (`MEERKAT_BENCH_RETENTION_INPUTS` overrides; 0 skips it). Run with
//! `cargo bench -p meerkat-runtime --bench durable`; `MEERKAT_BENCH_ACCEPTS` sets the accepts per row (default
//! 20,000).

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meerkat_runtime::{
    BoxFuture, CoreExecutor, CoreExecutorError, InMemoryRuntimeStore, Input, MeerkatMachine, RunOutput, RunRequest,
    RuntimeStore, SessionId, SqliteDurability, SqliteRuntimeStore, SqliteStoreOptions,
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

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

#[derive(Clone, Copy, Debug)]
enum StoreUnderTest {
    InMemory,
    Sqlite(SqliteDurability),
}

impl StoreUnderTest {
    fn name(self) -> &'static str {
        match self {
            StoreUnderTest::InMemory => "in-memory (baseline)",
            StoreUnderTest::Sqlite(SqliteDurability::ProcessKill) => "sqlite, ProcessKill",
            StoreUnderTest::Sqlite(SqliteDurability::PowerLoss) => "sqlite, PowerLoss",
        }
    }

    fn open(self, dir: &Path) -> (Arc<dyn RuntimeStore>, Option<Arc<SqliteRuntimeStore>>) {
        match self {
            StoreUnderTest::InMemory => (Arc::new(InMemoryRuntimeStore::new()), None),
            StoreUnderTest::Sqlite(durability) => {
                let options = SqliteStoreOptions { durability, ..SqliteStoreOptions::DEFAULT };
                let store = Arc::new(
                    SqliteRuntimeStore::open_with_options(dir.join("bench.sqlite"), options).expect("open store"),
                );
                (Arc::clone(&store) as Arc<dyn RuntimeStore>, Some(store))
            }
        }
    }
}

struct Row {
    accepts_per_second: f64,
    p50: Duration,
    p99: Duration,
    group: Option<f64>,
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `accepts` durable accepts spread over `sessions` concurrent sessions.
async fn measure(store: StoreUnderTest, sessions: usize, accepts: usize) -> Row {
    let dir = tempfile::tempdir().expect("dir");
    let (store, sqlite) = store.open(dir.path());
    let machine = Arc::new(MeerkatMachine::persistent(store));
    let ids: Vec<SessionId> = (0..sessions).map(|n| SessionId::new(format!("bench-{n}"))).collect();
    for id in &ids {
        machine.ensure_session_with_executor(id.clone(), Box::new(Commit)).await.expect("attach");
    }
    let before = sqlite.as_ref().map(|store| store.write_stats());
    let per_session = accepts / sessions;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in ids {
        let machine = Arc::clone(&machine);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_session);
            let mut handles = Vec::with_capacity(per_session);
            for n in 0..per_session {
                let input = Input::new(format!("durable {n}"));
                let sent = Instant::now();
                let (_, handle) = machine.accept_input_with_completion(&id, input).await.expect("accept");
                latencies.push(sent.elapsed());
                handles.push(handle);
            }
            (id, latencies, handles)
        }));
    }
    let mut latencies = Vec::with_capacity(accepts);
    let mut drained = Vec::new();
    for task in tasks {
        let (id, session_latencies, handles) = task.await.expect("join");
        latencies.extend(session_latencies);
        drained.push((id, handles));
    }
    let elapsed = started.elapsed();
    // Untimed: the runs finish and the sessions unregister, so nothing of this row runs during the next.
    for (id, handles) in drained {
        for handle in handles {
            handle.wait().await;
        }
        machine.unregister_session(&id).await.expect("unregister");
    }
    latencies.sort_unstable();
    let group = match (sqlite, before) {
        (Some(store), Some(before)) => {
            let after = store.write_stats();
            Some((after.writes - before.writes) as f64 / (after.transactions - before.transactions).max(1) as f64)
        }
        _ => None,
    };
    Row {
        accepts_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        group,
    }
}

fn file_size(path: &Path) -> u64 {
    let wal = path.with_extension("sqlite-wal");
    std::fs::metadata(path).map_or(0, |meta| meta.len()) + std::fs::metadata(wal).map_or(0, |meta| meta.len())
}

/// The file's size while `inputs` inputs go through 16 sessions (each awaited to completion, so retention keeps
/// up); printed at each tenth.
async fn retention(inputs: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("retention.sqlite");
    let store = Arc::new(SqliteRuntimeStore::open(&path).expect("open"));
    let machine = Arc::new(MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>));
    let sessions: Vec<SessionId> = (0..16).map(|n| SessionId::new(format!("steady-{n:02}"))).collect();
    for id in &sessions {
        machine.ensure_session_with_executor(id.clone(), Box::new(Commit)).await.expect("attach");
    }
    println!("\nretention: {inputs} inputs through 16 sessions, default dedupe window (256 ids per session)");
    println!("| inputs | file + WAL bytes | input rows | terminal rows |");
    println!("|---|---|---|---|");
    let tenth = (inputs / 10).max(1);
    let per_step = tenth / sessions.len();
    let started = Instant::now();
    for step in 1..=10 {
        let mut tasks = Vec::new();
        for id in &sessions {
            let machine = Arc::clone(&machine);
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..per_step {
                    let (_, handle) = machine
                        .accept_input_with_completion(&id, Input::new(format!("steady {n}")))
                        .await
                        .expect("accept");
                    handle.wait().await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("join");
        }
        let counts = store.row_counts().await.expect("counts");
        println!(
            "| {} | {} | {} | {} |",
            step * per_step * sessions.len(),
            file_size(&path),
            counts.inputs,
            counts.terminal_inputs
        );
    }
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported (every row runs).
    let accepts = env("MEERKAT_BENCH_ACCEPTS", 20_000);
    let retention_inputs = env("MEERKAT_BENCH_RETENTION_INPUTS", 1_000_000);
    let runtime = runtime();
    println!("durable accepts: {accepts} accept_input_with_completion calls per row, executors attached");
    println!("| store | sessions | accepts/s | p50 | p99 | commits per transaction |");
    println!("|---|---|---|---|---|---|");
    for store in [
        StoreUnderTest::InMemory,
        StoreUnderTest::Sqlite(SqliteDurability::ProcessKill),
        StoreUnderTest::Sqlite(SqliteDurability::PowerLoss),
    ] {
        for sessions in [1, 64] {
            let row = runtime.block_on(measure(store, sessions, accepts));
            println!(
                "| {} | {sessions} | {:.0} | {:.1} µs | {:.1} µs | {} |",
                store.name(),
                row.accepts_per_second,
                row.p50.as_secs_f64() * 1e6,
                row.p99.as_secs_f64() * 1e6,
                row.group.map_or("—".to_owned(), |group| format!("{group:.1}"))
            );
        }
    }
    if retention_inputs > 0 {
        runtime.block_on(retention(retention_inputs));
    }
}
