//! Runtime epochs, the session runtime bindings, and why bindings could not be prepared.
//!
//! A runtime epoch is one continuous async-ordering domain of a session: it survives rebuilds and durable
//! recovery, and a reset (or a restart without durable recovery) starts a new one. [`SessionRuntimeBindings`] is
//! the bundle of epoch-local facts and handles a consumer (an agent factory) uses but never creates: only
//! [`crate::MeerkatMachine`] mints the witness its constructor requires, so no caller can assemble a bundle that
//! looks machine-owned.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::handles::{
    CommsDrainHandle, ExternalToolSurfaceHandle, SessionAdmissionHandle, SessionClaimHandle, TurnStateHandle,
};
use crate::identifiers::SessionId;

/// A completion-feed sequence number (the unit of the epoch cursors).
pub type CompletionSeq = u64;

/// The id of a runtime epoch: a UUID v7, so epochs sort by creation time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuntimeEpochId(pub Uuid);

impl RuntimeEpochId {
    /// A fresh epoch id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// An epoch id from a stored UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl Default for RuntimeEpochId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RuntimeEpochId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The consumer cursors of an epoch. The agent boundary and the runtime loop advance them without locks; the
/// persistence path reads them. A value read for persistence may lag the true position, which is safe: a stale
/// cursor makes recovery deliver a notice twice, never lose one.
pub struct EpochCursorState {
    /// The agent's applied cursor, advanced at its model-call boundary.
    pub agent_applied_cursor: AtomicU64,
    /// The runtime loop's observed sequence, advanced after it reads the completion feed.
    pub runtime_observed_seq: AtomicU64,
    /// The runtime loop's last injected sequence, advanced after it injects a continuation.
    pub runtime_last_injected_seq: AtomicU64,
}

impl EpochCursorState {
    /// Cursors of a fresh epoch: all zero.
    pub fn new() -> Self {
        Self::from_recovered(0, 0, 0)
    }

    /// Cursors recovered from a stored snapshot.
    pub fn from_recovered(
        agent_applied_cursor: CompletionSeq,
        runtime_observed_seq: CompletionSeq,
        runtime_last_injected_seq: CompletionSeq,
    ) -> Self {
        Self {
            agent_applied_cursor: AtomicU64::new(agent_applied_cursor),
            runtime_observed_seq: AtomicU64::new(runtime_observed_seq),
            runtime_last_injected_seq: AtomicU64::new(runtime_last_injected_seq),
        }
    }

    /// The current values, for persistence.
    pub fn snapshot(&self) -> EpochCursorSnapshot {
        EpochCursorSnapshot {
            agent_applied_cursor: self.agent_applied_cursor.load(Ordering::Acquire),
            runtime_observed_seq: self.runtime_observed_seq.load(Ordering::Acquire),
            runtime_last_injected_seq: self.runtime_last_injected_seq.load(Ordering::Acquire),
        }
    }
}

impl Default for EpochCursorState {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EpochCursorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochCursorState")
            .field("agent_applied_cursor", &self.agent_applied_cursor.load(Ordering::Relaxed))
            .field("runtime_observed_seq", &self.runtime_observed_seq.load(Ordering::Relaxed))
            .field("runtime_last_injected_seq", &self.runtime_last_injected_seq.load(Ordering::Relaxed))
            .finish()
    }
}

/// The cursor values at one moment, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochCursorSnapshot {
    /// See [`EpochCursorState::agent_applied_cursor`].
    pub agent_applied_cursor: CompletionSeq,
    /// See [`EpochCursorState::runtime_observed_seq`].
    pub runtime_observed_seq: CompletionSeq,
    /// See [`EpochCursorState::runtime_last_injected_seq`].
    pub runtime_last_injected_seq: CompletionSeq,
}

/// What a bindings bundle was prepared for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingsAuthorityKind {
    /// The binding itself was the semantic event: `PrepareBindings` was applied to the session's kernel.
    AuthoritativeRuntimeBinding,
    /// Only the session-local handle bundle; another owner routes the authoritative binding.
    LocalSessionResources,
}

/// The runtime-private witness inside every [`SessionRuntimeBindings`]. Its fields are private and its only
/// constructor is crate-private, and it is not `Clone`: outside this crate it can be looked at but never made.
pub struct RuntimeBindingsWitness {
    kind: BindingsAuthorityKind,
    owner_token: Arc<dyn Any + Send + Sync>,
}

impl RuntimeBindingsWitness {
    /// Mints a witness for bindings over the authority whose owner token is `owner_token`.
    pub(crate) fn mint(kind: BindingsAuthorityKind, owner_token: Arc<dyn Any + Send + Sync>) -> Self {
        Self { kind, owner_token }
    }

    fn duplicate(&self) -> Self {
        Self { kind: self.kind, owner_token: Arc::clone(&self.owner_token) }
    }

    /// What the bindings were prepared for.
    pub fn kind(&self) -> BindingsAuthorityKind {
        self.kind
    }

    /// Whether the witness was minted for the authority with this owner token.
    pub fn is_for_authority(&self, owner_token: &Arc<dyn Any + Send + Sync>) -> bool {
        Arc::ptr_eq(&self.owner_token, owner_token)
    }
}

impl fmt::Debug for RuntimeBindingsWitness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeBindingsWitness").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// The handles of one bindings bundle, all over the session's one shared handle authority.
pub struct SessionBindingHandles {
    /// The run-lifecycle view.
    pub turn_state: Arc<dyn TurnStateHandle>,
    /// Turn and input admission.
    pub session_admission: Arc<dyn SessionAdmissionHandle>,
    /// The tool-visibility surface.
    pub external_tool_surface: Arc<dyn ExternalToolSurfaceHandle>,
    /// The comms drain's view of the silent intents.
    pub comms_drain: Arc<dyn CommsDrainHandle>,
    /// The machine-scoped session claim registry.
    pub session_claim: Arc<dyn SessionClaimHandle>,
}

/// The epoch-local facts and handles of one prepared session. Opaque: only the runtime builds it.
pub struct SessionRuntimeBindings {
    session_id: SessionId,
    epoch_id: RuntimeEpochId,
    cursor_state: Arc<EpochCursorState>,
    handles: Arc<SessionBindingHandles>,
    runtime_authority: RuntimeBindingsWitness,
}

impl SessionRuntimeBindings {
    /// Assembles bindings. Anyone may name this function; only the runtime can produce the witness.
    pub fn from_runtime_authority(
        session_id: SessionId,
        epoch_id: RuntimeEpochId,
        cursor_state: Arc<EpochCursorState>,
        handles: SessionBindingHandles,
        runtime_authority: RuntimeBindingsWitness,
    ) -> Self {
        Self { session_id, epoch_id, cursor_state, handles: Arc::new(handles), runtime_authority }
    }

    /// The session the bindings were prepared for.
    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// The epoch the bindings belong to.
    pub fn epoch_id(&self) -> &RuntimeEpochId {
        &self.epoch_id
    }

    /// The epoch's consumer cursors.
    pub fn cursor_state(&self) -> &Arc<EpochCursorState> {
        &self.cursor_state
    }

    /// The run-lifecycle handle.
    pub fn turn_state(&self) -> &Arc<dyn TurnStateHandle> {
        &self.handles.turn_state
    }

    /// The admission handle.
    pub fn session_admission(&self) -> &Arc<dyn SessionAdmissionHandle> {
        &self.handles.session_admission
    }

    /// The tool-visibility handle.
    pub fn external_tool_surface(&self) -> &Arc<dyn ExternalToolSurfaceHandle> {
        &self.handles.external_tool_surface
    }

    /// The comms-drain handle.
    pub fn comms_drain(&self) -> &Arc<dyn CommsDrainHandle> {
        &self.handles.comms_drain
    }

    /// The session claim handle.
    pub fn session_claim_handle(&self) -> &Arc<dyn SessionClaimHandle> {
        &self.handles.session_claim
    }

    /// The runtime-minted witness.
    pub fn runtime_authority(&self) -> &RuntimeBindingsWitness {
        &self.runtime_authority
    }

    /// Checks that the bindings were prepared for `session_id`, as a consumer must before using them.
    ///
    /// # Errors
    ///
    /// `PrepareFailed` naming both sessions when they differ.
    pub fn validate_for(&self, session_id: &SessionId) -> Result<(), RuntimeBindingsError> {
        if &self.session_id == session_id {
            Ok(())
        } else {
            Err(RuntimeBindingsError::PrepareFailed(
                session_id.clone(),
                format!("bindings were prepared for session {}", self.session_id),
            ))
        }
    }
}

impl Clone for SessionRuntimeBindings {
    fn clone(&self) -> Self {
        Self {
            session_id: self.session_id.clone(),
            epoch_id: self.epoch_id.clone(),
            cursor_state: Arc::clone(&self.cursor_state),
            handles: Arc::clone(&self.handles),
            runtime_authority: self.runtime_authority.duplicate(),
        }
    }
}

impl fmt::Debug for SessionRuntimeBindings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRuntimeBindings")
            .field("session_id", &self.session_id)
            .field("epoch_id", &self.epoch_id)
            .field("cursor_state", &self.cursor_state)
            .field("kind", &self.runtime_authority.kind)
            .finish_non_exhaustive()
    }
}

/// Why bindings could not be prepared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeBindingsError {
    /// The session vanished between registration and preparation.
    #[error("session {0} not found in runtime after registration")]
    SessionNotFound(SessionId),
    /// Preparation failed before any bindings were published.
    #[error("failed to prepare runtime bindings for session {0}: {1}")]
    PrepareFailed(SessionId, String),
    /// The bindings are not the session's live ones: they were minted for another kernel of the session, or for a
    /// past epoch (a reset, an unregistration). Prepare new bindings.
    #[error("stale runtime bindings for session {session_id}: {reason}")]
    StaleBindings {
        /// The session.
        session_id: SessionId,
        /// Why they are stale.
        reason: String,
    },
}
