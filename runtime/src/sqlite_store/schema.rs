//! The SQLite store's schema: the DDL of every version this crate has shipped, and the forward migrations
//! between them. A file records its version in `schema_version`; opening a file applies, in one transaction,
//! every migration from its version to [`LATEST`], and refuses a file written by a newer version.
//!
//! - Version 1: `runtimes` (one row per logical runtime: its durable state and its epoch snapshot, each as JSON)
//!   and `inputs` (one row per stored input, in admission order: payload and state seed as JSON).
//! - Version 2: retention and growth. `inputs.terminal` flags the rows of the dedupe window (backfilled from the
//!   stored seeds), indexed per runtime so the window's rows are counted and compacted without reading payloads;
//!   `runtimes.extensions` keeps the commit fields this store does not know by name (a JSON object), so a field a
//!   later [`crate::store::RuntimeStoreCommit`] grows flows through without another schema change.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::store::RuntimeStoreError;

/// The version this build writes.
pub(crate) const LATEST: i64 = 2;

/// Version 1's DDL, as version 1 shipped it (the migration tests write files with it).
pub(crate) const V1_DDL: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE runtimes (
    runtime_id TEXT PRIMARY KEY NOT NULL,
    runtime_state TEXT,
    ops_lifecycle TEXT
);
CREATE TABLE inputs (
    row INTEGER PRIMARY KEY,
    runtime_id TEXT NOT NULL,
    input_id TEXT NOT NULL,
    input TEXT NOT NULL,
    seed TEXT NOT NULL,
    UNIQUE (runtime_id, input_id)
);
INSERT INTO schema_version (version) VALUES (1);
";

/// From version 1 to version 2: the terminal flag (backfilled from each seed; a seed that is not valid JSON is
/// left unflagged, and recovery reports it) with its index, and the extension column.
const V1_TO_V2: &str = "
ALTER TABLE inputs ADD COLUMN terminal INTEGER NOT NULL DEFAULT 0;
UPDATE inputs SET terminal = CASE
    WHEN NOT json_valid(seed) THEN 0
    WHEN json_type(seed, '$.terminal_outcome') IS NOT NULL AND json_type(seed, '$.terminal_outcome') != 'null' THEN 1
    WHEN json_extract(seed, '$.phase') IN ('Consumed', 'Superseded', 'Coalesced', 'Abandoned') THEN 1
    ELSE 0
END;
CREATE INDEX inputs_by_terminal ON inputs (runtime_id, terminal, row);
ALTER TABLE runtimes ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';
UPDATE schema_version SET version = 2;
";

/// The migration from version `n` to `n + 1`, at index `n`; version 0 is an empty file.
const MIGRATIONS: [&str; LATEST as usize] = [V1_DDL, V1_TO_V2];

/// The version a file records (0 for a file without the version table).
pub(crate) fn version(connection: &Connection) -> rusqlite::Result<i64> {
    let has_table: Option<i64> = connection
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", [], |row| row.get(0))
        .optional()?;
    if has_table.is_none() {
        return Ok(0);
    }
    connection.query_row("SELECT version FROM schema_version", [], |row| row.get(0))
}

/// Brings the file to [`LATEST`], all migrations in one transaction (a failure leaves the file as it was).
pub(crate) fn migrate(connection: &mut Connection) -> Result<i64, RuntimeStoreError> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(super::backend)?;
    let found = version(&tx).map_err(super::backend)?;
    if found > LATEST {
        return Err(RuntimeStoreError::SchemaVersion { found, supported: LATEST });
    }
    if found < 0 {
        return Err(RuntimeStoreError::Corrupt {
            row: "schema_version".to_owned(),
            reason: format!("negative schema version {found}"),
        });
    }
    for migration in &MIGRATIONS[usize::try_from(found).unwrap_or(0)..] {
        tx.execute_batch(migration).map_err(super::backend)?;
    }
    tx.commit().map_err(super::backend)?;
    Ok(found)
}
