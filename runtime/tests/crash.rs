//! The crash test: acknowledged means durable. A child process (this test binary, re-executed into
//! `crash_child`) recovers every session of a SQLite file, attaches executors, accepts inputs on several sessions
//! at once and prints each acknowledgement; the parent SIGKILLs it at a random moment, then reopens the same file
//! and requires every acknowledged input to be stored and every session to recover through the kernel. The next
//! child goes on from what the last one left.
//!
//! `cargo test -p meerkat-runtime --test crash` kills 5 times; `MEERKAT_CRASH_KILLS=100` (or
//! `cargo xtask crash --kills 100`) runs the full count. `MEERKAT_CRASH_SEED` replays the kill moments.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ImmediateExecutor;
use meerkat_runtime::{Input, InputId, MeerkatMachine, RuntimeOptions, RuntimeStore, SessionId, SqliteRuntimeStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CHILD_DB: &str = "MEERKAT_CRASH_CHILD_DB";
const CHILD_ROUND: &str = "MEERKAT_CRASH_CHILD_ROUND";
const SESSIONS: usize = 4;
const READY: &str = "crash-child-ready";

/// Every acknowledged input stays in the window for the whole run, so "present" is checkable for each.
fn options() -> RuntimeOptions {
    RuntimeOptions { dedupe_window: 1 << 20, ..RuntimeOptions::DEFAULT }
}

fn session(n: usize) -> SessionId {
    SessionId::new(format!("crash-{n}"))
}

/// The child's body; a no-op unless the parent started this binary as a child.
#[test]
fn crash_child() {
    let (Ok(path), Ok(round)) = (std::env::var(CHILD_DB), std::env::var(CHILD_ROUND)) else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let store: Arc<dyn RuntimeStore> = Arc::new(SqliteRuntimeStore::open(&path).expect("child opens the file"));
        let machine = Arc::new(MeerkatMachine::persistent_with_options(store, options()));
        for outcome in machine.recover_stored_sessions().await.expect("list") {
            outcome.1.expect("the child recovers every session");
        }
        for n in 0..SESSIONS {
            machine.ensure_session_with_executor(session(n), Box::new(ImmediateExecutor)).await.expect("attach");
        }
        println!("{READY}");
        let mut tasks = Vec::new();
        for n in 0..SESSIONS {
            let machine = Arc::clone(&machine);
            let round = round.clone();
            tasks.push(tokio::spawn(async move {
                for k in 0.. {
                    let id = format!("r{round}-s{n}-{k}");
                    let input = Input::with_id(InputId::new(id.clone()), "crash me");
                    let (_, handle) = machine.accept_input_with_completion(&session(n), input).await.expect("accept");
                    drop(handle);
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {n} {id}").expect("print");
                    out.flush().expect("flush");
                }
            }));
        }
        for task in tasks {
            task.await.expect("accepting task");
        }
    });
}

/// Runs one child until it is killed `after` its ready line; returns the acknowledgements it printed in full.
fn run_child_and_kill(path: &Path, round: usize, after: Duration) -> Vec<(usize, String)> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, path)
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        line.clear();
        let read = stdout.read_line(&mut line).expect("read the child");
        assert!(read > 0, "the child exited before it was ready (round {round})");
        // libtest may print the test's name on the same line first.
        if line.ends_with(&format!("{READY}\n")) {
            break;
        }
        assert!(Instant::now() < deadline, "the child never got ready");
    }
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            match stdout.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // A line cut by the kill has no newline: it was not acknowledged in full.
                Ok(_) if line.ends_with('\n') => {
                    let mut parts = line.trim_end().splitn(3, ' ');
                    if let (Some("ack"), Some(n), Some(id)) = (parts.next(), parts.next(), parts.next()) {
                        acks.push((n.parse().expect("session number"), id.to_owned()));
                    }
                }
                Ok(_) => break,
            }
        }
        acks
    });
    std::thread::sleep(after);
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    reader.join().expect("reader")
}

/// Reopens the file: every acknowledged input is stored, and every session recovers through the kernel.
async fn check_file(path: &Path, acknowledged: &BTreeMap<usize, BTreeSet<String>>, round: usize) -> usize {
    let store = Arc::new(SqliteRuntimeStore::open(path).expect("reopen after the kill"));
    let mut stored_total = 0;
    for (n, ids) in acknowledged {
        let runtime_id = MeerkatMachine::logical_runtime_id(&session(*n));
        let stored = store.load_runtime(&runtime_id).await.expect("load").expect("the session is stored");
        let present: BTreeSet<&str> = stored.inputs.iter().map(|stored| stored.input.id.as_str()).collect();
        stored_total += present.len();
        let missing: Vec<&String> = ids.iter().filter(|id| !present.contains(id.as_str())).collect();
        assert!(missing.is_empty(), "round {round}: acknowledged inputs of session {n} are lost: {missing:?}");
    }
    let machine = MeerkatMachine::persistent_with_options(Arc::clone(&store) as Arc<dyn RuntimeStore>, options());
    for (session, outcome) in machine.recover_stored_sessions().await.expect("list") {
        let report = outcome.unwrap_or_else(|error| panic!("round {round}: {session} does not recover: {error}"));
        assert!(report.inputs_recovered >= acknowledged.get(&session_number(&session)).map_or(0, BTreeSet::len));
    }
    stored_total
}

fn session_number(session: &SessionId) -> usize {
    session.as_str().trim_start_matches("crash-").parse().expect("a crash session")
}

#[test]
fn acknowledged_inputs_survive_sigkill() {
    if std::env::var(CHILD_DB).is_ok() {
        return;
    }
    let kills: usize = std::env::var("MEERKAT_CRASH_KILLS").ok().and_then(|kills| kills.parse().ok()).unwrap_or(5);
    let seed: u64 = std::env::var("MEERKAT_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    println!("crash test: {kills} kills, MEERKAT_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("crash.sqlite");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut acknowledged: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for round in 0..kills {
        let after = Duration::from_millis(rng.random_range(5..400));
        let acks = run_child_and_kill(&path, round, after);
        let count = acks.len();
        for (n, id) in acks {
            acknowledged.entry(n).or_default().insert(id);
        }
        let stored = runtime.block_on(check_file(&path, &acknowledged, round));
        let total: usize = acknowledged.values().map(BTreeSet::len).sum();
        println!("kill {round}: after {after:?}, {count} new acks; {total} acknowledged, {stored} stored, all present");
    }
    let total: usize = acknowledged.values().map(BTreeSet::len).sum();
    assert!(total > 0, "the children acknowledged something");
}
