//! The session claim registry: the machine-scoped owner of "this session id is in use here", so two comms
//! runtimes in one process cannot both claim a session. It is per `MeerkatMachine` (no process-global state) and
//! mechanical: the spec has no claim state, so nothing here reaches the kernel.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::identifiers::SessionId;

/// Why a claim was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionClaimError {
    /// Someone holds the claim.
    #[error("session {0} is already claimed in this runtime")]
    AlreadyClaimed(SessionId),
}

/// Claims of session ids.
pub trait SessionClaimHandle: Send + Sync {
    /// Claims `session_id` until the returned claim is dropped.
    ///
    /// # Errors
    ///
    /// `AlreadyClaimed` while another claim is held.
    fn claim(&self, session_id: &SessionId) -> Result<SessionClaim, SessionClaimError>;

    /// Whether `session_id` is claimed.
    fn is_claimed(&self, session_id: &SessionId) -> bool;
}

/// A held claim; dropping it releases the session id.
#[derive(Debug)]
pub struct SessionClaim {
    session_id: SessionId,
    registry: Weak<Mutex<HashSet<SessionId>>>,
}

impl SessionClaim {
    /// The claimed session.
    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }
}

impl Drop for SessionClaim {
    fn drop(&mut self) {
        if let Some(claims) = self.registry.upgrade() {
            claims.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.session_id);
        }
    }
}

/// The machine-scoped registry.
#[derive(Debug, Default)]
pub struct RuntimeSessionClaimRegistry {
    claims: Arc<Mutex<HashSet<SessionId>>>,
}

impl RuntimeSessionClaimRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionClaimHandle for RuntimeSessionClaimRegistry {
    fn claim(&self, session_id: &SessionId) -> Result<SessionClaim, SessionClaimError> {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        if !claims.insert(session_id.clone()) {
            return Err(SessionClaimError::AlreadyClaimed(session_id.clone()));
        }
        Ok(SessionClaim { session_id: session_id.clone(), registry: Arc::downgrade(&self.claims) })
    }

    fn is_claimed(&self, session_id: &SessionId) -> bool {
        self.claims.lock().unwrap_or_else(PoisonError::into_inner).contains(session_id)
    }
}
