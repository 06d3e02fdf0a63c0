//! Drivers: the shell-side realization of one session's kernel.
//!
//! A driver keeps what the kernel does not: the input payloads, the FIFO queue the runtime loop drains, the stored
//! state seed of every input, the silent comms intents, and the coarse [`RuntimeControlProjection`] that
//! machine-facing queries read. It never decides anything: every `DriverMutation` carries the effects of a
//! kernel transition that was already staged, and the driver realizes them (queue order, seeds, projection,
//! durable writes). A mutation is two-phase: it is planned against the current state, persisted (for the
//! persistent driver), and only then applied in memory, so a failed store write leaves the driver untouched and
//! the shell can roll the kernel back.

mod ephemeral;
mod persistent;

use std::sync::Arc;

pub use ephemeral::EphemeralRuntimeDriver;
pub use persistent::PersistentRuntimeDriver;

// The projection a driver writes lives with the lifecycle it projects; it is named here too, where it is kept.
pub use crate::runtime_state::{RuntimeControlProjection, SharedControlProjection, read_control_projection};

use crate::error::RuntimeDriverError;
use crate::identifiers::{InputId, LogicalRuntimeId, RunId};
use crate::input::{Input, InputStateSeed};
use crate::kernel::glue::SharedDslAuthority;
use crate::kernel::meerkat_machine as dsl;

/// What one committed kernel step asks a driver to realize.
#[derive(Debug)]
pub(crate) struct DriverMutation<'a> {
    /// The step's effects.
    pub(crate) effects: &'a [dsl::MeerkatMachineEffect],
    /// Payloads of the inputs the step accepted.
    pub(crate) accepted: Vec<Input>,
    /// The run the step staged inputs into, or whose boundary it committed.
    pub(crate) run_id: Option<RunId>,
    /// The boundary sequence a committed run reported.
    pub(crate) boundary_sequence: Option<u64>,
}

/// A session's driver, ephemeral or persistent.
#[derive(Debug)]
pub enum DriverEntry {
    /// In memory only.
    Ephemeral(EphemeralRuntimeDriver),
    /// In memory, written through to a [`crate::RuntimeStore`].
    Persistent(PersistentRuntimeDriver),
}

/// The driver shared by the shell's commands and the session's runtime loop.
pub type SharedDriver = Arc<tokio::sync::Mutex<DriverEntry>>;

impl DriverEntry {
    /// The in-memory driver state.
    pub fn as_driver(&self) -> &EphemeralRuntimeDriver {
        match self {
            DriverEntry::Ephemeral(driver) => driver,
            DriverEntry::Persistent(driver) => driver.inner(),
        }
    }

    fn as_driver_mut(&mut self) -> &mut EphemeralRuntimeDriver {
        match self {
            DriverEntry::Ephemeral(driver) => driver,
            DriverEntry::Persistent(driver) => driver.inner_mut(),
        }
    }

    /// Whether this driver writes through to a store.
    pub fn is_persistent(&self) -> bool {
        matches!(self, DriverEntry::Persistent(_))
    }

    /// Realizes one committed kernel step: plan, persist (persistent driver), apply in memory.
    pub(crate) async fn apply_mutation(&mut self, mutation: DriverMutation<'_>) -> Result<(), RuntimeDriverError> {
        match self {
            DriverEntry::Ephemeral(driver) => {
                let plan = driver.plan(mutation)?;
                driver.realize(plan);
                Ok(())
            }
            DriverEntry::Persistent(driver) => driver.apply_mutation(mutation).await,
        }
    }

    /// The logical runtime this driver serves.
    pub fn runtime_id(&self) -> &LogicalRuntimeId {
        self.as_driver().runtime_id()
    }

    /// The kernel shared with the session entry.
    pub fn shared_dsl_authority(&self) -> &SharedDslAuthority {
        self.as_driver().shared_dsl_authority()
    }

    /// Re-reads the control projection from the kernel (after a commit whose effect dispatch failed).
    pub fn sync_control_projection_from_dsl_authority(&mut self) {
        self.as_driver_mut().sync_control_projection_from_dsl_authority();
    }

    /// Ids of the inputs that are not terminal, in admission order.
    pub fn active_input_ids(&self) -> Vec<InputId> {
        self.as_driver().active_input_ids()
    }

    /// The stored seed of one input.
    pub fn stored_input_state(&self, input_id: &InputId) -> Option<InputStateSeed> {
        self.as_driver().stored_input_state(input_id)
    }
}
