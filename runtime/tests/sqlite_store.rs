//! Durable sessions on a SQLite file: a restart recovers every stored session through the kernel, rows altered by
//! hand (bad JSON, an unknown phase, a seed contradicting its phase, a payload naming another input) are each
//! `RecoveryCorruption` naming the session, the row and the refusal while the file's other sessions still recover,
//! a truncated file is a typed error, and the file's rows stay bounded by the dedupe windows under a steady load.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{ImmediateExecutor, within};
use meerkat_runtime::{
    CompletionOutcome, Input, InputId, MeerkatMachine, RuntimeDriverError, RuntimeOptions, RuntimeState, RuntimeStore,
    RuntimeStoreError, SessionId, SqliteRuntimeStore,
};
use rusqlite::{Connection, params};

fn machine_on(path: &Path) -> (Arc<SqliteRuntimeStore>, Arc<MeerkatMachine>) {
    let store = Arc::new(SqliteRuntimeStore::open(path).expect("open store"));
    let machine = Arc::new(MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>));
    (store, machine)
}

/// Four sessions, each with two queued inputs; the last one retired (which abandons its queue).
async fn write_sessions(path: &Path) {
    let (_store, machine) = machine_on(path);
    for name in ["alpha", "bravo", "charlie", "delta"] {
        let session = SessionId::new(name);
        machine.register_session(session.clone()).await.expect("register");
        for n in 0..2 {
            let input = Input::with_id(InputId::new(format!("{name}-{n}")), "work");
            machine.accept_input_without_wake(&session, input).await.expect("accept");
        }
    }
    machine.retire(&SessionId::new("delta")).await.expect("retire");
}

#[tokio::test]
async fn a_restart_recovers_every_stored_session_through_the_kernel() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("sessions.sqlite");
    write_sessions(&path).await;

    let (_store, machine) = machine_on(&path);
    let recovered = machine.recover_stored_sessions().await.expect("list");
    let names: Vec<&str> = recovered.iter().map(|(session, _)| session.as_str()).collect();
    assert_eq!(names, ["alpha", "bravo", "charlie", "delta"]);
    for (session, outcome) in &recovered {
        let report = outcome.as_ref().expect("recovered");
        assert!(report.cold);
        assert_eq!(report.inputs_recovered, 2, "{session}");
        // Retiring without an executor abandoned delta's queue; the others' inputs wait.
        let (pending, phase) =
            if session.as_str() == "delta" { (0, RuntimeState::Retired) } else { (2, RuntimeState::Idle) };
        assert_eq!((report.inputs_pending, report.runtime_state), (pending, phase), "{session}");
    }
    // The recovered work runs.
    let alpha = SessionId::new("alpha");
    machine.ensure_session_with_executor(alpha.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    let (_, handle) = machine.accept_input_with_completion(&alpha, Input::new("after restart")).await.expect("accept");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
    assert!(machine.list_active_inputs(&alpha).await.expect("inputs").is_empty());
}

fn corruption_reason(outcome: &Result<meerkat_runtime::RecoveryReport, RuntimeDriverError>) -> String {
    match outcome {
        Err(RuntimeDriverError::RecoveryCorruption { reason }) => reason.clone(),
        other => panic!("expected RecoveryCorruption, got {other:?}"),
    }
}

#[tokio::test]
async fn rows_altered_by_hand_are_recovery_corruption_and_the_other_sessions_recover() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("altered.sqlite");
    write_sessions(&path).await;
    {
        let connection = Connection::open(&path).expect("open by hand");
        // alpha: a seed that is not JSON.
        connection.execute("UPDATE inputs SET seed = '{\"phase\": ' WHERE input_id = 'alpha-1'", []).expect("bad json");
        // bravo: a runtime phase the runtime does not have.
        connection
            .execute("UPDATE runtimes SET runtime_state = '\"Flying\"' WHERE runtime_id = 'session:bravo'", [])
            .expect("unknown phase");
        // charlie: a seed whose phase is terminal without a terminal outcome, which the kernel refuses.
        connection
            .execute(
                "UPDATE inputs SET seed = json_set(seed, '$.phase', 'Consumed') WHERE input_id = 'charlie-0'",
                params![],
            )
            .expect("contradicting seed");
    }
    let (_store, machine) = machine_on(&path);
    let recovered = machine.recover_stored_sessions().await.expect("list");
    assert_eq!(recovered.len(), 4);

    let alpha = corruption_reason(&recovered[0].1);
    assert!(alpha.contains("'alpha'") && alpha.contains("input `alpha-1`") && alpha.contains("column seed"), "{alpha}");
    let bravo = corruption_reason(&recovered[1].1);
    assert!(bravo.contains("'bravo'") && bravo.contains("runtime_state") && bravo.contains("Flying"), "{bravo}");
    let charlie = corruption_reason(&recovered[2].1);
    assert!(charlie.contains("'charlie-0'") && charlie.contains("'charlie'"), "{charlie}");
    assert!(charlie.contains("refused"), "the kernel's refusal is named: {charlie}");
    let delta = recovered[3].1.as_ref().expect("delta is intact and recovers");
    assert_eq!(delta.runtime_state, RuntimeState::Retired);

    for name in ["alpha", "bravo", "charlie"] {
        assert!(!machine.contains_session(&SessionId::new(name)).await, "{name} was not half-recovered");
    }
    assert!(machine.contains_session(&SessionId::new("delta")).await);
}

#[tokio::test]
async fn a_payload_naming_another_input_contradicts_its_row() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("contradiction.sqlite");
    write_sessions(&path).await;
    Connection::open(&path)
        .expect("open by hand")
        .execute("UPDATE inputs SET input = json_set(input, '$.id', 'alpha-0') WHERE input_id = 'alpha-1'", [])
        .expect("contradiction");
    let (_store, machine) = machine_on(&path);
    let error = machine.recover(&SessionId::new("alpha")).await.expect_err("corrupt");
    let reason = corruption_reason(&Err(error));
    assert!(reason.contains("input `alpha-1`") && reason.contains("names input `alpha-0`"), "{reason}");
    assert!(machine.recover(&SessionId::new("bravo")).await.is_ok());
}

#[tokio::test]
async fn a_truncated_file_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("truncated.sqlite");
    {
        let (_store, machine) = machine_on(&path);
        for n in 0..40 {
            let session = SessionId::new(format!("session-{n:02}"));
            machine.register_session(session.clone()).await.expect("register");
            for k in 0..20 {
                let input = Input::new(format!("{n}/{k} {}", "x".repeat(200)));
                machine.accept_input_without_wake(&session, input).await.expect("accept");
            }
        }
    }
    // Fold the WAL into the file, then cut the file to its first pages.
    Connection::open(&path).expect("open").execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").expect("checkpoint");
    let length = std::fs::metadata(&path).expect("metadata").len();
    assert!(length > 64 * 1024, "the file spans many pages: {length}");
    std::fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(length / 3).expect("truncate");

    match SqliteRuntimeStore::open(&path) {
        Err(error) => assert!(matches!(error, RuntimeStoreError::Corrupt { .. }), "{error:?}"),
        Ok(store) => {
            let machine = MeerkatMachine::persistent(Arc::new(store) as Arc<dyn RuntimeStore>);
            let outcomes = match machine.recover_stored_sessions().await {
                Ok(outcomes) => outcomes,
                Err(error) => {
                    assert!(matches!(error, RuntimeDriverError::RecoveryCorruption { .. }), "{error:?}");
                    return;
                }
            };
            let corrupt = outcomes
                .iter()
                .filter(|(_, outcome)| matches!(outcome, Err(RuntimeDriverError::RecoveryCorruption { .. })))
                .count();
            assert!(corrupt > 0, "the cut pages are reported: {outcomes:?}");
            for (_, outcome) in &outcomes {
                assert!(
                    matches!(outcome, Ok(_) | Err(RuntimeDriverError::RecoveryCorruption { .. })),
                    "every outcome is typed: {outcome:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_files_rows_stay_bounded_under_a_steady_load() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("retention.sqlite");
    let store = Arc::new(SqliteRuntimeStore::open(&path).expect("open"));
    let window = 8;
    let machine = Arc::new(MeerkatMachine::persistent_with_options(
        Arc::clone(&store) as Arc<dyn RuntimeStore>,
        RuntimeOptions { dedupe_window: window, ..RuntimeOptions::DEFAULT },
    ));
    let sessions: Vec<SessionId> = (0..4).map(|n| SessionId::new(format!("steady-{n}"))).collect();
    for session in &sessions {
        machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    }
    let mut peak = 0;
    for round in 0..100 {
        for session in &sessions {
            let (_, handle) =
                machine.accept_input_with_completion(session, Input::new(format!("{round}"))).await.expect("accept");
            assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
        }
        peak = peak.max(store.row_counts().await.expect("counts").inputs);
    }
    let counts = store.row_counts().await.expect("counts");
    // 400 inputs went through; each session keeps at most its window plus the input in flight.
    let bound = (sessions.len() * (window + 1)) as u64;
    assert!(peak <= bound, "peak {peak} rows > bound {bound}");
    assert!(counts.inputs <= bound && counts.terminal_inputs <= (sessions.len() * window) as u64, "{counts:?}");
    assert!(counts.terminal_inputs >= (sessions.len() * window) as u64 - 4, "the windows are kept: {counts:?}");
}

#[tokio::test]
async fn a_smaller_window_after_a_restart_trims_the_stored_window() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("shrink.sqlite");
    let session = SessionId::new("shrinking");
    let with_window = |store: &Arc<SqliteRuntimeStore>, window| {
        Arc::new(MeerkatMachine::persistent_with_options(
            Arc::clone(store) as Arc<dyn RuntimeStore>,
            RuntimeOptions { dedupe_window: window, ..RuntimeOptions::DEFAULT },
        ))
    };
    {
        let store = Arc::new(SqliteRuntimeStore::open(&path).expect("open"));
        let machine = with_window(&store, 8);
        machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
        for n in 0..8 {
            let input = Input::with_id(InputId::new(format!("in-{n}")), "work");
            let (_, handle) = machine.accept_input_with_completion(&session, input).await.expect("accept");
            assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
        }
        machine.unregister_session(&session).await.expect("unregister");
        assert_eq!(store.row_counts().await.expect("counts").terminal_inputs, 8);
    }
    let store = Arc::new(SqliteRuntimeStore::open(&path).expect("reopen"));
    let machine = with_window(&store, 2);
    machine.recover(&session).await.expect("recover");
    let stored = store.load_runtime(&MeerkatMachine::logical_runtime_id(&session)).await.expect("load").expect("row");
    let ids: Vec<&str> = stored.inputs.iter().map(|stored| stored.input.id.as_str()).collect();
    assert_eq!(ids, ["in-6", "in-7"], "the rows the smaller window does not keep are deleted");
}
