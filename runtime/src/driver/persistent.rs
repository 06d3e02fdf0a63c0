//! The persistent driver: the in-memory driver written through to a [`RuntimeStore`]. Each mutation's writes go
//! to the store as one atomic commit before memory changes, so what the store acknowledged is exactly what the
//! session acknowledged.

use std::sync::Arc;

use super::{DriverMutation, EphemeralRuntimeDriver};
use crate::error::RuntimeDriverError;
use crate::store::RuntimeStore;

/// A driver that persists every mutation.
pub struct PersistentRuntimeDriver {
    inner: EphemeralRuntimeDriver,
    store: Arc<dyn RuntimeStore>,
}

impl std::fmt::Debug for PersistentRuntimeDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentRuntimeDriver").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl PersistentRuntimeDriver {
    /// Wraps an in-memory driver (already loaded with recovered state) over `store`.
    pub(crate) fn new(inner: EphemeralRuntimeDriver, store: Arc<dyn RuntimeStore>) -> Self {
        Self { inner, store }
    }

    /// The in-memory state.
    pub fn inner(&self) -> &EphemeralRuntimeDriver {
        &self.inner
    }

    pub(crate) fn inner_mut(&mut self) -> &mut EphemeralRuntimeDriver {
        &mut self.inner
    }

    /// Plans, commits to the store, then applies in memory. A store failure changes nothing.
    pub(crate) async fn apply_mutation(&mut self, mutation: DriverMutation<'_>) -> Result<(), RuntimeDriverError> {
        let plan = self.inner.plan(mutation)?;
        let commit = plan.store_commit();
        if !commit.is_empty() {
            self.store
                .commit(self.inner.runtime_id(), commit)
                .await
                .map_err(|error| RuntimeDriverError::Internal(format!("runtime store commit failed: {error}")))?;
        }
        self.inner.realize(plan);
        Ok(())
    }
}
