//! The persistence seam. A [`RuntimeStore`] keeps, per logical runtime, what a session acknowledged: accepted
//! inputs (payload and stored state seed), the durable runtime state, and the epoch snapshot (epoch id and
//! cursors). Each driver step writes one [`RuntimeStoreCommit`], which a durable store applies atomically (one
//! transaction); recovery reads everything back with [`RuntimeStore::load_runtime`] and replays it through the
//! kernel. [`InMemoryRuntimeStore`] is the in-process implementation; [`crate::SqliteRuntimeStore`] the durable one.
//!
//! Besides inputs and the runtime state, a commit carries the kernel facts the session acts on that no input
//! record holds: the next admission sequence, the next visibility revision and the silent intents, each written
//! with the step that changed it and replayed through the kernel on recovery.
//!
//! The store holds a session's live inputs and its dedupe window (terminal inputs the kernel forgot, at most
//! [`crate::RuntimeOptions::dedupe_window`] of them): a commit's `evicted` ids have left the window and are
//! deleted, so what a store keeps per session is bounded like the session's memory.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::epoch::{EpochCursorSnapshot, RuntimeEpochId};
use crate::identifiers::{BoxFuture, InputId, LogicalRuntimeId};
use crate::input::{Input, InputStateSeed};
use crate::runtime_state::RuntimeState;

/// An input as stored: its payload and its state seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInput {
    /// The input.
    pub input: Input,
    /// Its stored state.
    pub seed: InputStateSeed,
}

/// One driver step's writes, applied all or nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeStoreCommit {
    /// The new durable runtime state, when it changed.
    pub runtime_state: Option<RuntimeState>,
    /// Newly accepted inputs, in admission order.
    pub accepted: Vec<StoredInput>,
    /// New state seeds of inputs stored earlier (or in `accepted` of this commit).
    pub input_states: Vec<(InputId, InputStateSeed)>,
    /// Terminal inputs that left the session's dedupe window: the store deletes them.
    #[serde(default)]
    pub evicted: Vec<InputId>,
    /// The next admission sequence the session hands out, when it changed (it survives the inputs that carried
    /// the earlier ones, so no sequence is handed out twice).
    #[serde(default)]
    pub next_admission_sequence: Option<u64>,
    /// The next visibility revision the kernel mints, when the step minted one (no revision is minted twice).
    #[serde(default)]
    pub next_visibility_revision: Option<u64>,
    /// The session's silent comms intents, when the step replaced them.
    #[serde(default)]
    pub silent_intents: Option<Vec<String>>,
}

impl RuntimeStoreCommit {
    /// Whether the commit writes nothing.
    pub fn is_empty(&self) -> bool {
        self.runtime_state.is_none()
            && self.accepted.is_empty()
            && self.input_states.is_empty()
            && self.evicted.is_empty()
            && self.next_admission_sequence.is_none()
            && self.next_visibility_revision.is_none()
            && self.silent_intents.is_none()
    }
}

/// Everything stored for one logical runtime.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRuntime {
    /// The last durable runtime state written, if any.
    pub runtime_state: Option<RuntimeState>,
    /// Every stored input (live, and the dedupe window's terminal ones), in admission order.
    pub inputs: Vec<StoredInput>,
    /// The last `next_admission_sequence` committed, if any.
    #[serde(default)]
    pub next_admission_sequence: Option<u64>,
    /// The last `next_visibility_revision` committed, if any.
    #[serde(default)]
    pub next_visibility_revision: Option<u64>,
    /// The last `silent_intents` committed, if any.
    #[serde(default)]
    pub silent_intents: Option<Vec<String>>,
}

/// The epoch facts a session recovers: the same epoch and its cursors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpsLifecycleSnapshot {
    /// The epoch.
    pub epoch_id: RuntimeEpochId,
    /// Its cursors.
    pub cursors: EpochCursorSnapshot,
}

/// Why a store operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeStoreError {
    /// The backend failed or is unavailable.
    #[error("runtime store backend failed: {0}")]
    Backend(String),
    /// A commit named an input the store does not hold.
    #[error("runtime store has no input `{input_id}` for runtime `{runtime_id}`")]
    UnknownInput {
        /// The runtime.
        runtime_id: LogicalRuntimeId,
        /// The input.
        input_id: InputId,
    },
    /// A commit accepted an input the store already holds.
    #[error("runtime store already holds input `{input_id}` for runtime `{runtime_id}`")]
    DuplicateInput {
        /// The runtime.
        runtime_id: LogicalRuntimeId,
        /// The input.
        input_id: InputId,
    },
    /// Stored data does not parse or contradicts itself (or the file is not a sound database).
    #[error("runtime store corrupt at {row}: {reason}")]
    Corrupt {
        /// The row (and column) that is corrupt, or the file.
        row: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store's data was written by a newer schema than this build knows.
    #[error("runtime store schema version {found} is newer than this build's {supported}")]
    SchemaVersion {
        /// The version found.
        found: i64,
        /// The newest version this build reads.
        supported: i64,
    },
}

/// Durable storage of session runtimes. Implementations must apply each [`RuntimeStoreCommit`] atomically: after
/// a crash either all of it or none of it is visible to [`RuntimeStore::load_runtime`].
pub trait RuntimeStore: Send + Sync {
    /// Applies one commit for `runtime_id`, all or nothing.
    fn commit<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        commit: RuntimeStoreCommit,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>>;

    /// Everything stored for `runtime_id`, or `None` if nothing was ever stored.
    fn load_runtime<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<StoredRuntime>, RuntimeStoreError>>;

    /// The stored epoch snapshot of `runtime_id`.
    fn load_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<OpsLifecycleSnapshot>, RuntimeStoreError>>;

    /// Stores the epoch snapshot of `runtime_id`, replacing the previous one.
    fn persist_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        snapshot: OpsLifecycleSnapshot,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>>;

    /// Every logical runtime the store holds, for recovering a whole store
    /// ([`crate::MeerkatMachine::recover_stored_sessions`]). A store that cannot list says so with an error.
    fn list_runtimes(&self) -> BoxFuture<'_, Result<Vec<LogicalRuntimeId>, RuntimeStoreError>> {
        Box::pin(async { Err(RuntimeStoreError::Backend("this runtime store cannot list its runtimes".to_owned())) })
    }

    /// A durable identity of the store's backing data (e.g. a database path), when it has one.
    fn auth_authority_key(&self) -> Option<String> {
        None
    }
}

#[derive(Debug, Default)]
struct StoredRecord {
    runtime_state: Option<RuntimeState>,
    next_admission_sequence: Option<u64>,
    next_visibility_revision: Option<u64>,
    silent_intents: Option<Vec<String>>,
    order: Vec<InputId>,
    inputs: HashMap<InputId, StoredInput>,
    ops: Option<OpsLifecycleSnapshot>,
}

/// A [`RuntimeStore`] in process memory: survives a session's unregistration and a new `MeerkatMachine` over the
/// same store, not the process.
#[derive(Debug, Default)]
pub struct InMemoryRuntimeStore {
    records: Mutex<HashMap<LogicalRuntimeId, StoredRecord>>,
}

impl InMemoryRuntimeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn apply(&self, runtime_id: &LogicalRuntimeId, commit: RuntimeStoreCommit) -> Result<(), RuntimeStoreError> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let record = records.entry(runtime_id.clone()).or_default();
        // Validate everything before writing anything, so a refused commit leaves the record untouched.
        for stored in &commit.accepted {
            if record.inputs.contains_key(&stored.input.id) {
                return Err(RuntimeStoreError::DuplicateInput {
                    runtime_id: runtime_id.clone(),
                    input_id: stored.input.id.clone(),
                });
            }
        }
        for (input_id, _) in &commit.input_states {
            let known = record.inputs.contains_key(input_id)
                || commit.accepted.iter().any(|stored| &stored.input.id == input_id);
            if !known {
                return Err(RuntimeStoreError::UnknownInput {
                    runtime_id: runtime_id.clone(),
                    input_id: input_id.clone(),
                });
            }
        }
        if let Some(state) = commit.runtime_state {
            record.runtime_state = Some(state);
        }
        if let Some(next) = commit.next_admission_sequence {
            record.next_admission_sequence = Some(next);
        }
        if let Some(next) = commit.next_visibility_revision {
            record.next_visibility_revision = Some(next);
        }
        if let Some(intents) = commit.silent_intents {
            record.silent_intents = Some(intents);
        }
        for stored in commit.accepted {
            record.order.push(stored.input.id.clone());
            record.inputs.insert(stored.input.id.clone(), stored);
        }
        for (input_id, seed) in commit.input_states {
            if let Some(stored) = record.inputs.get_mut(&input_id) {
                stored.seed = seed;
            }
        }
        if !commit.evicted.is_empty() {
            for input_id in &commit.evicted {
                record.inputs.remove(input_id);
            }
            let inputs = &record.inputs;
            record.order.retain(|id| inputs.contains_key(id));
        }
        Ok(())
    }

    /// Overwrites the stored runtime state of `runtime_id` (for tests that need a corrupt or foreign store).
    pub fn write_runtime_state(&self, runtime_id: &LogicalRuntimeId, state: RuntimeState) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.entry(runtime_id.clone()).or_default().runtime_state = Some(state);
    }

    /// Overwrites or adds one stored input of `runtime_id` (for tests that need a corrupt or foreign store).
    pub fn write_input(&self, runtime_id: &LogicalRuntimeId, stored: StoredInput) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let record = records.entry(runtime_id.clone()).or_default();
        if !record.inputs.contains_key(&stored.input.id) {
            record.order.push(stored.input.id.clone());
        }
        record.inputs.insert(stored.input.id.clone(), stored);
    }
}

impl RuntimeStore for InMemoryRuntimeStore {
    fn commit<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        commit: RuntimeStoreCommit,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>> {
        Box::pin(async move { self.apply(runtime_id, commit) })
    }

    fn load_runtime<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<StoredRuntime>, RuntimeStoreError>> {
        Box::pin(async move {
            let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            Ok(records.get(runtime_id).map(|record| StoredRuntime {
                runtime_state: record.runtime_state,
                inputs: record.order.iter().filter_map(|id| record.inputs.get(id).cloned()).collect(),
                next_admission_sequence: record.next_admission_sequence,
                next_visibility_revision: record.next_visibility_revision,
                silent_intents: record.silent_intents.clone(),
            }))
        })
    }

    fn load_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<OpsLifecycleSnapshot>, RuntimeStoreError>> {
        Box::pin(async move {
            let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            Ok(records.get(runtime_id).and_then(|record| record.ops.clone()))
        })
    }

    fn persist_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        snapshot: OpsLifecycleSnapshot,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>> {
        Box::pin(async move {
            let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            records.entry(runtime_id.clone()).or_default().ops = Some(snapshot);
            Ok(())
        })
    }

    fn list_runtimes(&self) -> BoxFuture<'_, Result<Vec<LogicalRuntimeId>, RuntimeStoreError>> {
        Box::pin(async move {
            let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            let mut ids: Vec<LogicalRuntimeId> = records.keys().cloned().collect();
            ids.sort();
            Ok(ids)
        })
    }
}
