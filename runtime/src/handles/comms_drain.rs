//! The comms-drain handle, thin: the spec models only the silent comms intents (set through the shell's
//! `SetSilentIntents` command, which also updates the driver), so the handle reads them from the kernel. The
//! seeds' drain lifecycle (phases, supervisor bindings) has no state in the spec and is not modelled.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::HandleDslAuthority;

/// Read access to the comms drain's view of a session.
pub trait CommsDrainHandle: Send + Sync {
    /// The intents handled silently.
    fn silent_intents(&self) -> BTreeSet<String>;

    /// Whether `intent` is handled silently.
    fn is_silent_intent(&self, intent: &str) -> bool {
        self.silent_intents().contains(intent)
    }
}

/// The runtime's comms-drain handle.
#[derive(Debug)]
pub struct RuntimeCommsDrainHandle {
    authority: Arc<HandleDslAuthority>,
}

impl RuntimeCommsDrainHandle {
    /// A handle over the session's shared door.
    pub fn new(authority: Arc<HandleDslAuthority>) -> Self {
        Self { authority }
    }
}

impl CommsDrainHandle for RuntimeCommsDrainHandle {
    fn silent_intents(&self) -> BTreeSet<String> {
        self.authority.with_state_lock(|state| state.silent_intents.clone())
    }

    fn is_silent_intent(&self, intent: &str) -> bool {
        self.authority.with_state_lock(|state| state.silent_intents.contains(intent))
    }
}
