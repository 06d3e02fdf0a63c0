//! The SQLite store on its own: commits round-trip and refuse alone inside a shared transaction, concurrent
//! commits share transactions, files reopen, every earlier schema version migrates, a newer one is refused, and
//! commit fields this store does not know flow through its extension column.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::*;
use crate::identifiers::InputId;
use crate::input::{Input, InputLifecycleState, InputStateSeed, InputTerminalOutcome};
use crate::runtime_state::RuntimeState;
use crate::store::StoredInput;

fn runtime(name: &str) -> LogicalRuntimeId {
    LogicalRuntimeId::new(format!("session:{name}"))
}

fn stored(id: &str, sequence: u64) -> StoredInput {
    StoredInput {
        input: Input::with_id(InputId::new(id), format!("payload {id}")),
        seed: InputStateSeed::accepted(sequence),
    }
}

fn consumed(sequence: u64) -> InputStateSeed {
    InputStateSeed {
        phase: InputLifecycleState::Consumed,
        terminal_outcome: Some(InputTerminalOutcome::Consumed),
        ..InputStateSeed::accepted(sequence)
    }
}

fn accept(ids: &[(&str, u64)]) -> RuntimeStoreCommit {
    RuntimeStoreCommit {
        runtime_state: Some(RuntimeState::Idle),
        accepted: ids.iter().map(|(id, sequence)| stored(id, *sequence)).collect(),
        ..RuntimeStoreCommit::default()
    }
}

#[tokio::test]
async fn commits_round_trip_and_a_refused_commit_changes_nothing() {
    let store = SqliteRuntimeStore::open_in_memory().expect("open");
    let id = runtime("a");
    store.commit(&id, accept(&[("one", 0), ("two", 1)])).await.expect("commit");
    store
        .commit(
            &id,
            RuntimeStoreCommit { input_states: vec![(InputId::new("one"), consumed(0))], ..Default::default() },
        )
        .await
        .expect("seed update");

    let duplicate = store.commit(&id, accept(&[("three", 2), ("two", 3)])).await;
    assert!(
        matches!(duplicate, Err(RuntimeStoreError::DuplicateInput { ref input_id, .. }) if input_id.as_str() == "two")
    );
    let unknown = store
        .commit(
            &id,
            RuntimeStoreCommit {
                runtime_state: Some(RuntimeState::Retired),
                input_states: vec![(InputId::new("ghost"), consumed(9))],
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(unknown, Err(RuntimeStoreError::UnknownInput { ref input_id, .. }) if input_id.as_str() == "ghost")
    );

    let loaded = store.load_runtime(&id).await.expect("load").expect("stored");
    assert_eq!(loaded.runtime_state, Some(RuntimeState::Idle), "the refused commit's state was not written");
    let ids: Vec<&str> = loaded.inputs.iter().map(|input| input.input.id.as_str()).collect();
    assert_eq!(ids, ["one", "two"], "`three` of the refused commit was rolled back");
    assert_eq!(loaded.inputs[0].seed, consumed(0));
    assert_eq!(
        store.row_counts().await.expect("counts"),
        StoreRowCounts { runtimes: 1, inputs: 2, terminal_inputs: 1 }
    );

    store
        .commit(&id, RuntimeStoreCommit { evicted: vec![InputId::new("one")], ..Default::default() })
        .await
        .expect("evict");
    assert_eq!(store.row_counts().await.expect("counts").inputs, 1);
    assert_eq!(store.load_runtime(&runtime("nobody")).await.expect("load"), None);
    assert_eq!(store.list_runtimes().await.expect("list"), vec![id]);
}

#[tokio::test]
async fn pending_commits_share_one_transaction_and_each_is_answered_alone() {
    let store = Arc::new(SqliteRuntimeStore::open_in_memory().expect("open"));
    let (release, held) = std::sync::mpsc::channel::<()>();
    store.requests.as_ref().expect("sender").send(Request::Hold(held)).expect("hold");
    let mut tasks = Vec::new();
    for n in 0..64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let id = runtime(&format!("s{n}"));
            // Session 7 commits a duplicate: it is refused, the other 63 commit.
            let commit = if n == 7 { accept(&[("x", 0), ("x", 1)]) } else { accept(&[("x", 0)]) };
            store.commit(&id, commit).await
        }));
    }
    // The test runs on a current-thread runtime: yielding lets every spawned task run to its first await, which
    // is after its commit was sent; the writer is held, so all 64 are pending together.
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
    assert!(tasks.iter().all(|task| !task.is_finished()), "nothing is answered while the writer is held");
    drop(release);
    let mut refused = 0;
    for task in tasks {
        if task.await.expect("join").is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 1);
    let stats = store.write_stats();
    assert_eq!(stats.writes, 64);
    assert_eq!(stats.transactions, 1, "the 64 pending commits shared one transaction: {stats:?}");
    assert_eq!(store.row_counts().await.expect("counts").inputs, 63);
}

#[tokio::test]
async fn a_file_reopens_with_what_was_committed() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("runtime.sqlite");
    let id = runtime("kept");
    {
        let store = SqliteRuntimeStore::open(&path).expect("create");
        assert_eq!(store.schema_version_found(), 0);
        store.commit(&id, accept(&[("one", 0)])).await.expect("commit");
        assert!(store.auth_authority_key().is_some_and(|key| key.starts_with("sqlite:")));
    }
    let store = SqliteRuntimeStore::open(&path).expect("reopen");
    assert_eq!(store.schema_version_found(), SqliteRuntimeStore::SCHEMA_VERSION);
    let loaded = store.load_runtime(&id).await.expect("load").expect("stored");
    assert_eq!(loaded.inputs, vec![stored("one", 0)]);
}

#[tokio::test]
async fn every_earlier_schema_version_migrates() {
    let dir = tempfile::tempdir().expect("dir");
    // Version 0: an empty file.
    let empty = dir.path().join("v0.sqlite");
    std::fs::write(&empty, b"").expect("empty file");
    assert_eq!(SqliteRuntimeStore::open(&empty).expect("v0 opens").schema_version_found(), 0);

    // Version 1: a file written with version 1's DDL and rows as version 1 wrote them.
    let v1 = dir.path().join("v1.sqlite");
    {
        let connection = Connection::open(&v1).expect("v1 file");
        connection.execute_batch(schema::V1_DDL).expect("v1 ddl");
        connection
            .execute(
                "INSERT INTO runtimes (runtime_id, runtime_state, ops_lifecycle) VALUES (?1, '\"Retired\"', NULL)",
                params!["session:old"],
            )
            .expect("runtime row");
        for (id, seed) in [("done", consumed(0)), ("waiting", InputStateSeed::accepted(1))] {
            let input = Input::with_id(InputId::new(id), "from v1");
            connection
                .execute(
                    "INSERT INTO inputs (runtime_id, input_id, input, seed) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        "session:old",
                        id,
                        serde_json::to_string(&input).unwrap(),
                        serde_json::to_string(&seed).unwrap()
                    ],
                )
                .expect("input row");
        }
    }
    let store = SqliteRuntimeStore::open(&v1).expect("v1 migrates");
    assert_eq!(store.schema_version_found(), 1);
    let loaded = store.load_runtime(&runtime("old")).await.expect("load").expect("stored");
    assert_eq!(loaded.runtime_state, Some(RuntimeState::Retired));
    assert_eq!(loaded.inputs.len(), 2);
    assert_eq!(
        store.row_counts().await.expect("counts"),
        StoreRowCounts { runtimes: 1, inputs: 2, terminal_inputs: 1 },
        "the terminal flag was backfilled from the seeds"
    );
    // The migrated file takes version 2's writes.
    store.commit(&runtime("old"), accept(&[("new", 2)])).await.expect("commit after migration");
    drop(store);
    assert_eq!(SqliteRuntimeStore::open(&v1).expect("reopen").schema_version_found(), 2);
}

#[test]
fn a_file_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("future.sqlite");
    drop(SqliteRuntimeStore::open(&path).expect("create"));
    Connection::open(&path).expect("open").execute("UPDATE schema_version SET version = 99", []).expect("bump");
    let error = SqliteRuntimeStore::open(&path).expect_err("refused");
    assert_eq!(error, RuntimeStoreError::SchemaVersion { found: 99, supported: SqliteRuntimeStore::SCHEMA_VERSION });
}

/// A commit as a later build may write it: the known fields and one more.
#[derive(Serialize)]
struct GrownCommit {
    #[serde(flatten)]
    known: RuntimeStoreCommit,
    durable_fact: Option<u32>,
    empty_fact: Vec<u32>,
}

#[test]
fn commit_fields_this_store_does_not_know_are_extensions() {
    assert_eq!(writer::extensions(&accept(&[("one", 0)])).expect("encode"), None, "today's commit has none");
    let grown = GrownCommit { known: accept(&[("one", 0)]), durable_fact: Some(7), empty_fact: Vec::new() };
    let fields = writer::extensions(&grown).expect("encode").expect("an extension");
    assert_eq!(fields.len(), 1, "empty values carry nothing: {fields:?}");
    assert_eq!(fields.get("durable_fact"), Some(&serde_json::json!(7)));
}

#[tokio::test]
async fn stored_extensions_flow_back_and_unknown_ones_are_ignored_by_todays_types() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("grown.sqlite");
    let id = runtime("grown");
    {
        let store = SqliteRuntimeStore::open(&path).expect("create");
        store.commit(&id, accept(&[("one", 0)])).await.expect("commit");
    }
    Connection::open(&path)
        .expect("open")
        .execute("UPDATE runtimes SET extensions = '{\"durable_fact\": 7}' WHERE runtime_id = ?1", params![id.as_str()])
        .expect("extension");
    let store = SqliteRuntimeStore::open(&path).expect("reopen");
    let loaded =
        store.load_runtime(&id).await.expect("a field today's StoredRuntime lacks is ignored").expect("stored");
    assert_eq!(loaded.inputs.len(), 1);
}
