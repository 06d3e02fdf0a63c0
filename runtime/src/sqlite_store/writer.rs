//! The SQLite store's writer thread: the one owner of the connection. Requests arrive on a channel; the thread
//! takes everything pending (up to the batch bound), applies every write of the batch in one transaction (each in
//! its own savepoint, so a refused commit rolls back alone), commits, and only then answers the writers. Reads of
//! the same batch are answered after the commit, so nothing read was not durable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::{StoreRowCounts, backend};
use crate::identifiers::{InputId, LogicalRuntimeId};
use crate::input::{Input, InputStateSeed};
use crate::runtime_state::RuntimeState;
use crate::store::{OpsLifecycleSnapshot, RuntimeStoreCommit, RuntimeStoreError, StoredInput, StoredRuntime};

/// Where a request's answer goes.
pub(super) type Reply<T> = oneshot::Sender<Result<T, RuntimeStoreError>>;

/// The commit fields this store writes to their own columns; every other field is an extension.
pub(super) const KNOWN_COMMIT_FIELDS: [&str; 4] = ["runtime_state", "accepted", "input_states", "evicted"];
/// The stored-runtime fields this store builds from its own columns.
const KNOWN_STORED_FIELDS: [&str; 2] = ["runtime_state", "inputs"];

/// One request to the writer thread.
pub(super) enum Request {
    /// Apply one commit.
    Commit { runtime_id: LogicalRuntimeId, commit: RuntimeStoreCommit, reply: Reply<()> },
    /// Replace the epoch snapshot.
    PersistOps { runtime_id: LogicalRuntimeId, snapshot: OpsLifecycleSnapshot, reply: Reply<()> },
    /// Read one runtime.
    Load { runtime_id: LogicalRuntimeId, reply: Reply<Option<StoredRuntime>> },
    /// Read one epoch snapshot.
    LoadOps { runtime_id: LogicalRuntimeId, reply: Reply<Option<OpsLifecycleSnapshot>> },
    /// List the runtimes.
    List { reply: Reply<Vec<LogicalRuntimeId>> },
    /// Count the rows.
    Count { reply: Reply<StoreRowCounts> },
    /// Blocks the writer until the sender is dropped (lets a test pile requests up deterministically).
    #[cfg(test)]
    Hold(std::sync::mpsc::Receiver<()>),
}

impl Request {
    fn is_write(&self) -> bool {
        matches!(self, Request::Commit { .. } | Request::PersistOps { .. })
    }
}

/// What the writer did: commits answered, and the transactions they shared.
#[derive(Debug, Default)]
pub(super) struct WriterCounters {
    pub(super) writes: AtomicU64,
    pub(super) transactions: AtomicU64,
}

/// The thread's body: runs until every sender is gone.
pub(super) fn run(
    mut connection: Connection,
    requests: Receiver<Request>,
    max_batch: usize,
    counters: Arc<WriterCounters>,
) {
    let max_batch = max_batch.max(1);
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    while let Ok(first) = requests.recv() {
        let mut take = |request: Request| {
            if request.is_write() { writes.push(request) } else { reads.push(request) }
        };
        #[cfg(test)]
        if let Request::Hold(release) = first {
            let _ = release.recv();
            continue;
        }
        take(first);
        let mut taken = 1;
        while taken < max_batch {
            match requests.try_recv() {
                Ok(request) => take(request),
                Err(_) => break,
            }
            taken += 1;
        }
        if !writes.is_empty() {
            counters.writes.fetch_add(writes.len() as u64, Ordering::Relaxed);
            counters.transactions.fetch_add(1, Ordering::Relaxed);
            write_batch(&mut connection, &mut writes);
        }
        for read in reads.drain(..) {
            answer_read(&connection, read);
        }
    }
}

/// Applies every write in one transaction, then answers each (all with the commit's error if it failed).
fn write_batch(connection: &mut Connection, writes: &mut Vec<Request>) {
    let mut outcomes: Vec<Result<(), RuntimeStoreError>> = Vec::with_capacity(writes.len());
    let committed = (|| -> rusqlite::Result<()> {
        let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for write in writes.iter() {
            let savepoint = tx.savepoint()?;
            let outcome = match write {
                Request::Commit { runtime_id, commit, .. } => apply_commit(&savepoint, runtime_id, commit),
                Request::PersistOps { runtime_id, snapshot, .. } => persist_ops(&savepoint, runtime_id, snapshot),
                _ => Ok(()),
            };
            // A refused write rolls back to its savepoint (dropping it does), the others stay.
            if outcome.is_ok() {
                savepoint.commit()?;
            }
            outcomes.push(outcome);
        }
        tx.commit()
    })();
    let failure = committed.err().map(backend);
    for (write, outcome) in writes.drain(..).zip(outcomes.into_iter().chain(std::iter::repeat_with(|| Ok(())))) {
        let answer = match &failure {
            Some(error) => Err(error.clone()),
            None => outcome,
        };
        match write {
            Request::Commit { reply, .. } | Request::PersistOps { reply, .. } => {
                let _ = reply.send(answer);
            }
            _ => {}
        }
    }
}

fn answer_read(connection: &Connection, read: Request) {
    match read {
        Request::Load { runtime_id, reply } => {
            let _ = reply.send(load_runtime(connection, &runtime_id));
        }
        Request::LoadOps { runtime_id, reply } => {
            let _ = reply.send(load_ops(connection, &runtime_id));
        }
        Request::List { reply } => {
            let _ = reply.send(list_runtimes(connection));
        }
        Request::Count { reply } => {
            let _ = reply.send(count_rows(connection));
        }
        Request::Commit { reply, .. } | Request::PersistOps { reply, .. } => {
            let _ = reply.send(Err(RuntimeStoreError::Backend("a write was routed as a read".to_owned())));
        }
        #[cfg(test)]
        Request::Hold(_) => {}
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, RuntimeStoreError> {
    serde_json::to_string(value).map_err(|error| RuntimeStoreError::Backend(format!("cannot encode: {error}")))
}

fn ensure_runtime_row(connection: &Connection, runtime_id: &LogicalRuntimeId) -> Result<(), RuntimeStoreError> {
    // `INSERT OR IGNORE` through a cached statement: one index probe when the row exists.
    connection
        .prepare_cached("INSERT INTO runtimes (runtime_id) VALUES (?1) ON CONFLICT (runtime_id) DO NOTHING")
        .and_then(|mut statement| statement.execute(params![runtime_id.as_str()]))
        .map(|_| ())
        .map_err(backend)
}

/// The commit's fields this store does not know by name, when any carries something (`null` and empty arrays or
/// objects carry nothing).
pub(super) fn extensions(commit: &impl serde::Serialize) -> Result<Option<Map<String, Value>>, RuntimeStoreError> {
    let Value::Object(mut fields) = serde_json::to_value(commit)
        .map_err(|error| RuntimeStoreError::Backend(format!("cannot encode a commit: {error}")))?
    else {
        return Ok(None);
    };
    for known in KNOWN_COMMIT_FIELDS {
        fields.remove(known);
    }
    fields.retain(|_, value| match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(entries) => !entries.is_empty(),
        _ => true,
    });
    Ok((!fields.is_empty()).then_some(fields))
}

fn apply_commit(
    connection: &Connection,
    runtime_id: &LogicalRuntimeId,
    commit: &RuntimeStoreCommit,
) -> Result<(), RuntimeStoreError> {
    ensure_runtime_row(connection, runtime_id)?;
    if let Some(state) = commit.runtime_state {
        let state = json(&state)?;
        connection
            .prepare_cached("UPDATE runtimes SET runtime_state = ?2 WHERE runtime_id = ?1")
            .and_then(|mut statement| statement.execute(params![runtime_id.as_str(), state]))
            .map_err(backend)?;
    }
    if !commit.accepted.is_empty() {
        let mut insert = connection
            .prepare_cached(
                "INSERT INTO inputs (runtime_id, input_id, input, seed, terminal) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (runtime_id, input_id) DO NOTHING",
            )
            .map_err(backend)?;
        for stored in &commit.accepted {
            let inserted = insert
                .execute(params![
                    runtime_id.as_str(),
                    stored.input.id.as_str(),
                    json(&stored.input)?,
                    json(&stored.seed)?,
                    stored.seed.is_terminal()
                ])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(RuntimeStoreError::DuplicateInput {
                    runtime_id: runtime_id.clone(),
                    input_id: stored.input.id.clone(),
                });
            }
        }
    }
    if !commit.input_states.is_empty() {
        let mut update = connection
            .prepare_cached("UPDATE inputs SET seed = ?3, terminal = ?4 WHERE runtime_id = ?1 AND input_id = ?2")
            .map_err(backend)?;
        for (input_id, seed) in &commit.input_states {
            let updated = update
                .execute(params![runtime_id.as_str(), input_id.as_str(), json(seed)?, seed.is_terminal()])
                .map_err(backend)?;
            if updated == 0 {
                return Err(RuntimeStoreError::UnknownInput {
                    runtime_id: runtime_id.clone(),
                    input_id: input_id.clone(),
                });
            }
        }
    }
    if !commit.evicted.is_empty() {
        let mut delete =
            connection.prepare_cached("DELETE FROM inputs WHERE runtime_id = ?1 AND input_id = ?2").map_err(backend)?;
        for input_id in &commit.evicted {
            delete.execute(params![runtime_id.as_str(), input_id.as_str()]).map_err(backend)?;
        }
    }
    if let Some(fields) = extensions(commit)? {
        connection
            .prepare_cached("UPDATE runtimes SET extensions = json_patch(extensions, ?2) WHERE runtime_id = ?1")
            .and_then(|mut statement| {
                statement.execute(params![runtime_id.as_str(), Value::Object(fields).to_string()])
            })
            .map_err(backend)?;
    }
    Ok(())
}

fn persist_ops(
    connection: &Connection,
    runtime_id: &LogicalRuntimeId,
    snapshot: &OpsLifecycleSnapshot,
) -> Result<(), RuntimeStoreError> {
    ensure_runtime_row(connection, runtime_id)?;
    let snapshot = json(snapshot)?;
    connection
        .prepare_cached("UPDATE runtimes SET ops_lifecycle = ?2 WHERE runtime_id = ?1")
        .and_then(|mut statement| statement.execute(params![runtime_id.as_str(), snapshot]))
        .map(|_| ())
        .map_err(backend)
}

fn corrupt(row: String, reason: impl std::fmt::Display) -> RuntimeStoreError {
    RuntimeStoreError::Corrupt { row, reason: reason.to_string() }
}

fn load_runtime(
    connection: &Connection,
    runtime_id: &LogicalRuntimeId,
) -> Result<Option<StoredRuntime>, RuntimeStoreError> {
    let row: Option<(Option<String>, String)> = connection
        .prepare_cached("SELECT runtime_state, extensions FROM runtimes WHERE runtime_id = ?1")
        .and_then(|mut statement| {
            statement.query_row(params![runtime_id.as_str()], |row| Ok((row.get(0)?, row.get(1)?))).optional()
        })
        .map_err(backend)?;
    let Some((state_text, extensions_text)) = row else { return Ok(None) };
    let runtime_row = || format!("runtimes row `{runtime_id}`");
    let runtime_state: Option<RuntimeState> = match &state_text {
        Some(text) => Some(
            serde_json::from_str(text)
                .map_err(|error| corrupt(format!("{}, column runtime_state ({text})", runtime_row()), error))?,
        ),
        None => None,
    };
    let mut inputs = Vec::new();
    let mut statement = connection
        .prepare_cached("SELECT row, input_id, input, seed FROM inputs WHERE runtime_id = ?1 ORDER BY row")
        .map_err(backend)?;
    let mut rows = statement.query(params![runtime_id.as_str()]).map_err(backend)?;
    while let Some(row) = rows.next().map_err(backend)? {
        let (number, input_id, input_text, seed_text): (i64, String, String, String) = (
            row.get(0).map_err(backend)?,
            row.get(1).map_err(backend)?,
            row.get(2).map_err(backend)?,
            row.get(3).map_err(backend)?,
        );
        let name =
            |column: &str| format!("inputs row {number} (runtime `{runtime_id}`, input `{input_id}`), column {column}");
        let input: Input = serde_json::from_str(&input_text).map_err(|error| corrupt(name("input"), error))?;
        let seed: InputStateSeed = serde_json::from_str(&seed_text).map_err(|error| corrupt(name("seed"), error))?;
        if input.id != InputId::new(input_id.clone()) {
            return Err(corrupt(
                name("input"),
                format!("the payload names input `{}`, the row `{input_id}`", input.id),
            ));
        }
        inputs.push(StoredInput { input, seed });
    }
    let Value::Object(mut fields) = serde_json::from_str::<Value>(&extensions_text)
        .map_err(|error| corrupt(format!("{}, column extensions", runtime_row()), error))?
    else {
        return Err(corrupt(format!("{}, column extensions", runtime_row()), "not a JSON object"));
    };
    if fields.is_empty() {
        // Fields a later `StoredRuntime` grows take their defaults when the file has no extension for them.
        #[allow(clippy::needless_update)]
        return Ok(Some(StoredRuntime { runtime_state, inputs, ..StoredRuntime::default() }));
    }
    // Extension fields flow back under their names; the known ones come from their columns.
    for known in KNOWN_STORED_FIELDS {
        fields.remove(known);
    }
    let encode = |error: serde_json::Error| RuntimeStoreError::Backend(format!("cannot encode: {error}"));
    fields.insert("runtime_state".to_owned(), serde_json::to_value(runtime_state).map_err(encode)?);
    fields.insert("inputs".to_owned(), serde_json::to_value(&inputs).map_err(encode)?);
    serde_json::from_value(Value::Object(fields))
        .map(Some)
        .map_err(|error| corrupt(format!("{}, column extensions", runtime_row()), error))
}

fn load_ops(
    connection: &Connection,
    runtime_id: &LogicalRuntimeId,
) -> Result<Option<OpsLifecycleSnapshot>, RuntimeStoreError> {
    let text: Option<Option<String>> = connection
        .prepare_cached("SELECT ops_lifecycle FROM runtimes WHERE runtime_id = ?1")
        .and_then(|mut statement| statement.query_row(params![runtime_id.as_str()], |row| row.get(0)).optional())
        .map_err(backend)?;
    match text.flatten() {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| corrupt(format!("runtimes row `{runtime_id}`, column ops_lifecycle"), error)),
        None => Ok(None),
    }
}

fn list_runtimes(connection: &Connection) -> Result<Vec<LogicalRuntimeId>, RuntimeStoreError> {
    let mut statement =
        connection.prepare_cached("SELECT runtime_id FROM runtimes ORDER BY runtime_id").map_err(backend)?;
    let ids = statement.query_map([], |row| row.get::<_, String>(0)).map_err(backend)?;
    ids.map(|id| id.map(LogicalRuntimeId::new).map_err(backend)).collect()
}

fn count_rows(connection: &Connection) -> Result<StoreRowCounts, RuntimeStoreError> {
    connection
        .query_row(
            "SELECT (SELECT count(*) FROM runtimes), (SELECT count(*) FROM inputs), \
             (SELECT count(*) FROM inputs WHERE terminal != 0)",
            [],
            |row| {
                Ok(StoreRowCounts {
                    runtimes: row.get::<_, i64>(0)?.unsigned_abs(),
                    inputs: row.get::<_, i64>(1)?.unsigned_abs(),
                    terminal_inputs: row.get::<_, i64>(2)?.unsigned_abs(),
                })
            },
        )
        .map_err(backend)
}
