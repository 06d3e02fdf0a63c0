//! [`SqliteRuntimeStore`]: the embedded durable [`RuntimeStore`], one SQLite file (the library is compiled in,
//! through rusqlite's `bundled` feature, so a fresh machine needs nothing installed).
//!
//! **Acknowledged means durable.** One writer thread owns the connection ([`writer`]). A commit is sent to it and
//! awaited; the thread drains every request pending at that moment into one transaction, commits it, and only then
//! answers each waiter, so an accept that returned `Ok` is on disk at the chosen [`SqliteDurability`], and many
//! sessions committing at once share one fsync (group commit: throughput grows with concurrency).
//!
//! **One owner.** The connection takes SQLite's exclusive lock for as long as the store is open (no shared-memory
//! index, no file-lock calls per transaction): one process writes a file, and a second store opened on it while
//! the first is open fails with `Backend` ("database is locked") instead of interleaving its sessions' writes.
//! Dropping the store (its last `Arc`) closes the connection and releases the file.
//!
//! **Layout.** [`schema`] has the versions and migrations. Payloads and seeds are JSON columns, so their Rust types
//! can grow `#[serde(default)]` fields without a migration; a [`RuntimeStoreCommit`] field this store does not
//! know by name is kept under its name in the runtime's `extensions` column (replaced by each commit that carries
//! a non-empty value) and handed back under the same name in [`StoredRuntime`], so a new durable fact with the
//! same name in both flows through unchanged.
//!
//! **Corruption** is typed: a row that does not parse, or contradicts itself, is [`RuntimeStoreError::Corrupt`]
//! naming the row and column; a file SQLite finds malformed is `Corrupt` naming the database file. Recovery turns
//! both into `RuntimeDriverError::RecoveryCorruption` for the one session it was reading.

mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::identifiers::{BoxFuture, LogicalRuntimeId};
use crate::store::{OpsLifecycleSnapshot, RuntimeStore, RuntimeStoreCommit, RuntimeStoreError, StoredRuntime};
use writer::{Reply, Request, WriterCounters};

/// What an acknowledged commit survives.
///
/// The default is [`SqliteDurability::ProcessKill`]: the runtime's sessions live in a process, and the failure
/// every deployment sees is that process dying (a crash, an OOM kill, a deploy's SIGKILL), which WAL with
/// `synchronous = NORMAL` survives with no fsync on the commit path. Surviving power loss or a kernel panic costs
/// an fsync per transaction (`synchronous = FULL`); group commit amortizes it over every commit pending at once,
/// and a deployment whose host can lose power without a flush chooses [`SqliteDurability::PowerLoss`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SqliteDurability {
    /// Survives the process being killed: WAL, `synchronous = NORMAL` (a committed transaction is in the OS
    /// before the commit returns; the last transactions may be lost if the machine itself loses power).
    #[default]
    ProcessKill,
    /// Survives power loss: WAL, `synchronous = FULL` (the WAL is fsynced before each commit returns).
    PowerLoss,
}

/// The WAL is folded into the file once it holds this many pages (SQLite's default is 1,000): a checkpoint
/// syncs the file, so fewer, larger checkpoints keep syncs off most commits at the cost of a longer WAL.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 8192;
/// After a checkpoint the WAL file is truncated to at most this size.
const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// How a [`SqliteRuntimeStore`] is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteStoreOptions {
    /// What an acknowledged commit survives.
    pub durability: SqliteDurability,
    /// At most this many requests share one transaction.
    pub max_batch: usize,
}

impl SqliteStoreOptions {
    /// Process-kill durability, batches of up to 4,096 requests.
    pub const DEFAULT: Self = Self { durability: SqliteDurability::ProcessKill, max_batch: 4096 };
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How many rows a store holds (what retention keeps bounded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreRowCounts {
    /// Logical runtimes.
    pub runtimes: u64,
    /// Stored inputs, live and terminal.
    pub inputs: u64,
    /// Terminal inputs (the dedupe windows).
    pub terminal_inputs: u64,
}

/// What a store's writer thread did since the store was opened: writes (commits and epoch snapshots) and the
/// transactions they were grouped into. `writes / transactions` is the mean group size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreWriteStats {
    /// Writes answered.
    pub writes: u64,
    /// Transactions committed (or attempted) for them.
    pub transactions: u64,
}

/// A [`RuntimeStore`] in a SQLite file (or in memory, for tests), written by one group-committing thread.
pub struct SqliteRuntimeStore {
    requests: Option<mpsc::Sender<Request>>,
    counters: Arc<WriterCounters>,
    writer: Option<JoinHandle<()>>,
    path: Option<PathBuf>,
    schema_found: i64,
}

impl std::fmt::Debug for SqliteRuntimeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRuntimeStore").field("path", &self.path).finish_non_exhaustive()
    }
}

/// A SQLite failure as a store error: a file SQLite finds malformed (or not a database) is `Corrupt`.
pub(crate) fn backend(error: rusqlite::Error) -> RuntimeStoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            RuntimeStoreError::Corrupt { row: "database file".to_owned(), reason: error.to_string() }
        }
        _ => RuntimeStoreError::Backend(format!("sqlite: {error}")),
    }
}

impl SqliteRuntimeStore {
    /// Opens the store at `path` with [`SqliteStoreOptions::DEFAULT`]: creates the file and its schema, or opens an
    /// existing one and migrates it to the current schema.
    ///
    /// # Errors
    ///
    /// `Backend` when the file cannot be opened or written; `Corrupt` when it is not a (sound) database;
    /// `SchemaVersion` when a newer build wrote it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RuntimeStoreError> {
        Self::open_with_options(path, SqliteStoreOptions::DEFAULT)
    }

    /// Opens the store at `path` with `options`; see [`SqliteRuntimeStore::open`].
    ///
    /// # Errors
    ///
    /// As [`SqliteRuntimeStore::open`].
    pub fn open_with_options(path: impl AsRef<Path>, options: SqliteStoreOptions) -> Result<Self, RuntimeStoreError> {
        let path = path.as_ref();
        let connection = Connection::open(path).map_err(backend)?;
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Self::start(connection, Some(path), options)
    }

    /// A store in memory (for tests): the same schema, writer and batching, gone when the store is dropped.
    ///
    /// # Errors
    ///
    /// `Backend` if SQLite cannot create the database.
    pub fn open_in_memory() -> Result<Self, RuntimeStoreError> {
        Self::start(Connection::open_in_memory().map_err(backend)?, None, SqliteStoreOptions::DEFAULT)
    }

    fn start(
        mut connection: Connection,
        path: Option<PathBuf>,
        options: SqliteStoreOptions,
    ) -> Result<Self, RuntimeStoreError> {
        let synchronous = match options.durability {
            SqliteDurability::ProcessKill => "NORMAL",
            SqliteDurability::PowerLoss => "FULL",
        };
        connection
            .execute_batch(&format!(
                "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 5000; \
                 PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}; \
                 PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES};"
            ))
            .map_err(backend)?;
        let schema_found = schema::migrate(&mut connection)?;
        let (sender, receiver) = mpsc::channel();
        let name = match &path {
            Some(_) => "sqlite-runtime-store".to_owned(),
            None => "sqlite-runtime-store-memory".to_owned(),
        };
        let max_batch = options.max_batch;
        let counters = Arc::new(WriterCounters::default());
        let writer_counters = Arc::clone(&counters);
        let writer = std::thread::Builder::new()
            .name(name)
            .spawn(move || writer::run(connection, receiver, max_batch, writer_counters))
            .map_err(|error| RuntimeStoreError::Backend(format!("cannot start the store's writer thread: {error}")))?;
        Ok(Self { requests: Some(sender), counters, writer: Some(writer), path, schema_found })
    }

    /// The file, for a store opened on one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version the file had when it was opened (0 for a new file); it is now [`Self::SCHEMA_VERSION`].
    pub fn schema_version_found(&self) -> i64 {
        self.schema_found
    }

    /// The schema version this build writes.
    pub const SCHEMA_VERSION: i64 = schema::LATEST;

    /// What the writer thread did so far.
    pub fn write_stats(&self) -> StoreWriteStats {
        StoreWriteStats {
            writes: self.counters.writes.load(Ordering::Relaxed),
            transactions: self.counters.transactions.load(Ordering::Relaxed),
        }
    }

    /// How many rows the store holds.
    ///
    /// # Errors
    ///
    /// `Backend` or `Corrupt` when the file cannot be read.
    pub async fn row_counts(&self) -> Result<StoreRowCounts, RuntimeStoreError> {
        self.ask(|reply| Request::Count { reply }).await
    }

    async fn ask<T>(&self, request: impl FnOnce(Reply<T>) -> Request) -> Result<T, RuntimeStoreError> {
        let stopped = || RuntimeStoreError::Backend("the SQLite store's writer thread stopped".to_owned());
        let (reply, answer) = oneshot::channel();
        let sender = self.requests.as_ref().ok_or_else(stopped)?;
        sender.send(request(reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for SqliteRuntimeStore {
    fn drop(&mut self) {
        // Closing the channel ends the writer after the requests already sent; joining it closes the connection,
        // so the file can be reopened at once.
        self.requests = None;
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the SQLite store's writer thread panicked");
        }
    }
}

impl RuntimeStore for SqliteRuntimeStore {
    fn commit<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        commit: RuntimeStoreCommit,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>> {
        Box::pin(self.ask(move |reply| Request::Commit { runtime_id: runtime_id.clone(), commit, reply }))
    }

    fn load_runtime<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<StoredRuntime>, RuntimeStoreError>> {
        Box::pin(self.ask(move |reply| Request::Load { runtime_id: runtime_id.clone(), reply }))
    }

    fn load_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<OpsLifecycleSnapshot>, RuntimeStoreError>> {
        Box::pin(self.ask(move |reply| Request::LoadOps { runtime_id: runtime_id.clone(), reply }))
    }

    fn persist_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        snapshot: OpsLifecycleSnapshot,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>> {
        Box::pin(self.ask(move |reply| Request::PersistOps { runtime_id: runtime_id.clone(), snapshot, reply }))
    }

    fn list_runtimes(&self) -> BoxFuture<'_, Result<Vec<LogicalRuntimeId>, RuntimeStoreError>> {
        Box::pin(self.ask(|reply| Request::List { reply }))
    }

    fn auth_authority_key(&self) -> Option<String> {
        self.path.as_ref().map(|path| format!("sqlite:{}", path.display()))
    }
}

#[cfg(test)]
mod tests;
