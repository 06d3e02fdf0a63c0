//! Glue between the runtime and the generated MeerkatMachine kernel: the shared-authority type and its
//! poison-tolerant lock, conversions from domain ids to the kernel's newtypes (hand-written inherent impls next to
//! the generated ones, never inside them), and fresh authorities for projections.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::meerkat_machine as dsl;
use crate::identifiers::{InputId, LogicalRuntimeId, RunId, SessionId};

/// A session's kernel, shared by the session entry, its driver, its runtime loop and every handle minted for it.
pub type SharedDslAuthority = Arc<Mutex<dsl::MeerkatMachineAuthority>>;

/// Locks an authority, recovering from poison: a panic while the lock was held cannot leave a half-applied
/// transition behind, because the kernel applies all or nothing.
pub(crate) fn lock_authority(authority: &SharedDslAuthority) -> MutexGuard<'_, dsl::MeerkatMachineAuthority> {
    authority.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A new shared authority at the kernel's initial state.
pub(crate) fn new_shared_authority() -> SharedDslAuthority {
    Arc::new(Mutex::new(dsl::MeerkatMachineAuthority::new()))
}

/// A throwaway authority for the pure classification inputs (they answer in every phase).
pub(crate) fn projection_authority() -> dsl::MeerkatMachineAuthority {
    dsl::MeerkatMachineAuthority::new()
}

impl dsl::SessionId {
    /// The kernel's id of a domain session id.
    pub(crate) fn from_domain(id: &SessionId) -> Self {
        Self(id.as_str().to_owned())
    }
}

impl dsl::InputId {
    /// The kernel's id of a domain input id.
    pub(crate) fn from_domain(id: &InputId) -> Self {
        Self(id.as_str().to_owned())
    }

    /// The domain id of a kernel input id.
    pub(crate) fn to_domain(&self) -> InputId {
        InputId::new(self.0.clone())
    }
}

impl dsl::RunId {
    /// The kernel's id of a domain run id.
    pub(crate) fn from_domain(id: &RunId) -> Self {
        Self(id.as_str().to_owned())
    }

    /// The domain id of a kernel run id.
    pub(crate) fn to_domain(&self) -> RunId {
        RunId::new(self.0.clone())
    }
}

impl dsl::AgentRuntimeId {
    /// The kernel's id of a logical runtime id.
    pub(crate) fn from_domain(id: &LogicalRuntimeId) -> Self {
        Self(id.as_str().to_owned())
    }
}
