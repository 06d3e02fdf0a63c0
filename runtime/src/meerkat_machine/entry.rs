//! One registered session: its kernel, driver, gates and runtime-loop attachment.
//!
//! The entry's fields are all shared handles (`Arc`s), so commands clone what they need out of the `sessions` map
//! and release it before awaiting anything. Executor registration is the kernel's `registration_phase`; the
//! attachment slot is mechanical (the channels and join handle of the loop, and the [`RuntimeEffect`]s its effect
//! channel carries), and an attachment counts as live only while both of its channels are open.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::completion::SharedCompletionRegistry;
use crate::driver::SharedDriver;
use crate::epoch::{EpochCursorState, RuntimeEpochId};
use crate::executor::{CoreExecutorBoundaryHandle, CoreExecutorInterruptHandle};
use crate::handles::HandleTeardownGate;
use crate::identifiers::LogicalRuntimeId;
use crate::kernel::glue::{SharedDslAuthority, lock_authority};
use crate::kernel::meerkat_machine as dsl;
use crate::runtime_state::{RuntimeControlProjection, SharedControlProjection, read_control_projection};
use crate::visibility::MachineToolVisibilityOwner;

/// A message to an attached runtime loop on its effect channel (public as `runtime_loop::RuntimeEffect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeEffect {
    /// Stop the run in flight at its next boundary.
    CancelAfterBoundary {
        /// Why.
        reason: String,
    },
    /// Stop the run in flight now.
    Interrupt {
        /// Why.
        reason: String,
    },
}

/// The capabilities of an attached runtime loop, kept together so "attached" cannot be half-populated.
pub(crate) struct RuntimeLoopAttachment {
    /// Identifies the loop (a loop only clears its own attachment).
    pub(crate) loop_id: u64,
    wake_tx: mpsc::Sender<()>,
    effect_tx: mpsc::Sender<RuntimeEffect>,
    boundary_handle: Option<Arc<dyn CoreExecutorBoundaryHandle>>,
    interrupt_handle: Option<Arc<dyn CoreExecutorInterruptHandle>>,
    loop_handle: JoinHandle<()>,
}

impl RuntimeLoopAttachment {
    /// Bundles a spawned loop's capabilities.
    pub(crate) fn new(
        loop_id: u64,
        wake_tx: mpsc::Sender<()>,
        effect_tx: mpsc::Sender<RuntimeEffect>,
        boundary_handle: Option<Arc<dyn CoreExecutorBoundaryHandle>>,
        interrupt_handle: Option<Arc<dyn CoreExecutorInterruptHandle>>,
        loop_handle: JoinHandle<()>,
    ) -> Self {
        Self { loop_id, wake_tx, effect_tx, boundary_handle, interrupt_handle, loop_handle }
    }

    fn is_live(&self) -> bool {
        !self.wake_tx.is_closed() && !self.effect_tx.is_closed()
    }
}

/// The mechanical runtime-loop slot.
pub(crate) enum RuntimeLoopAttachmentSlot {
    /// No loop.
    Empty,
    /// A loop was attached (it may have died since; see `attachment_is_live`).
    Attached(RuntimeLoopAttachment),
}

/// Per-session state.
pub(crate) struct RuntimeSessionEntry {
    /// The session's control-plane identity.
    pub(crate) runtime_id: LogicalRuntimeId,
    /// Serializes this session's multi-step commands (stage → driver → commit) and runtime-loop steps. An
    /// extra serialization point, not a replacement for the `sessions` lock or the driver mutex.
    pub(crate) mutation_gate: Arc<tokio::sync::Mutex<()>>,
    /// The driver, shared with the runtime loop.
    pub(crate) driver: SharedDriver,
    /// The coarse control projection machine-facing queries publish from.
    pub(crate) control_projection: SharedControlProjection,
    /// The current runtime epoch.
    pub(crate) epoch_id: RuntimeEpochId,
    /// The epoch's consumer cursors.
    pub(crate) cursor_state: Arc<EpochCursorState>,
    /// Completion waiters.
    pub(crate) completions: SharedCompletionRegistry,
    /// Closes the handles minted for this epoch.
    pub(crate) handle_teardown_gate: Arc<HandleTeardownGate>,
    /// The session's visibility owner.
    pub(crate) tool_visibility_owner: Arc<MachineToolVisibilityOwner>,
    /// The runtime loop, if one is attached.
    pub(crate) attachment_slot: RuntimeLoopAttachmentSlot,
    /// The session's kernel, shared with the driver and every handle.
    pub(crate) dsl_authority: SharedDslAuthority,
    /// The loop an unregistration detached and waits for (kept here, not in the waiting future, so a dropped
    /// unregistration leaves it for the next one).
    pub(crate) draining_loop: DrainingLoop,
}

/// The join handle of a detached runtime loop that an unregistration waits for.
pub(crate) type DrainingLoop = Arc<std::sync::Mutex<Option<JoinHandle<()>>>>;

/// A draining loop's join handle taken out of its slot for one wait; dropped before the loop finished (the
/// waiting future was dropped), it goes back into the slot.
pub(crate) struct DrainingLoopWait {
    slot: DrainingLoop,
    handle: Option<JoinHandle<()>>,
}

impl DrainingLoopWait {
    /// Takes the handle out of `slot`, if there is one.
    pub(crate) fn take(slot: &DrainingLoop) -> Self {
        let handle = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        Self { slot: Arc::clone(slot), handle }
    }

    /// Waits for the loop at most `deadline` (for ever with `None`); on the deadline `before_abort` runs and the
    /// loop's task is aborted. Returns whether it was aborted.
    pub(crate) async fn finish(mut self, deadline: Option<std::time::Duration>, before_abort: impl FnOnce()) -> bool {
        let Some(handle) = self.handle.as_mut() else { return false };
        let finished = match deadline {
            Some(deadline) => tokio::time::timeout(deadline, &mut *handle).await.ok(),
            None => Some((&mut *handle).await),
        };
        let aborted = match finished {
            Some(Ok(())) => false,
            Some(Err(error)) => {
                tracing::warn!(%error, "runtime loop ended abnormally during unregistration");
                false
            }
            None => {
                before_abort();
                handle.abort();
                // An aborted task finishes at its next await point; its result is the cancellation.
                let _ = (&mut *handle).await;
                true
            }
        };
        self.handle = None;
        aborted
    }
}

impl Drop for DrainingLoopWait {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            *self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        }
    }
}

impl RuntimeSessionEntry {
    /// A copy of the control projection (poison tolerant).
    pub(crate) fn control_snapshot(&self) -> RuntimeControlProjection {
        read_control_projection(&self.control_projection)
    }

    /// The kernel's lifecycle phase.
    pub(crate) fn dsl_phase(&self) -> dsl::MeerkatMachinePhase {
        lock_authority(&self.dsl_authority).state().lifecycle_phase
    }

    /// A loop is attached and both its channels are open.
    pub(crate) fn attachment_is_live(&self) -> bool {
        matches!(&self.attachment_slot, RuntimeLoopAttachmentSlot::Attached(attachment) if attachment.is_live())
    }

    /// The kernel granted an active executor registration.
    pub(crate) fn generated_executor_registration_active(&self) -> bool {
        lock_authority(&self.dsl_authority).state().registration_phase == dsl::RegistrationPhase::Active
    }

    /// The kernel's registration is active or draining: the runtime loop may still drive the driver (the drain
    /// window lets an in-flight run commit), while new claims need `Active`.
    pub(crate) fn generated_executor_registration_active_or_draining(&self) -> bool {
        matches!(
            lock_authority(&self.dsl_authority).state().registration_phase,
            dsl::RegistrationPhase::Active | dsl::RegistrationPhase::Draining
        )
    }

    /// The kernel has an executor attached.
    pub(crate) fn generated_executor_attached(&self) -> bool {
        lock_authority(&self.dsl_authority).state().executor_attached
    }

    /// Closes the teardown gate while holding the authority lock, so no handle transition straddles the close.
    pub(crate) fn close_handle_teardown_gate(&self) {
        let _authority = lock_authority(&self.dsl_authority);
        self.handle_teardown_gate.close();
    }

    /// Publishes a spawned loop.
    pub(crate) fn attach_runtime_loop(&mut self, attachment: RuntimeLoopAttachment) {
        self.attachment_slot = RuntimeLoopAttachmentSlot::Attached(attachment);
    }

    /// Detaches the loop: the slot becomes empty and the channels are dropped, which closes the loop's receivers;
    /// the loop finishes any run in flight, observes its exit through the kernel and ends. Returns its join
    /// handle so a caller can await that (never while holding the session's gate).
    pub(crate) fn take_loop_join_handle(&mut self) -> Option<JoinHandle<()>> {
        match std::mem::replace(&mut self.attachment_slot, RuntimeLoopAttachmentSlot::Empty) {
            RuntimeLoopAttachmentSlot::Attached(attachment) => Some(attachment.loop_handle),
            RuntimeLoopAttachmentSlot::Empty => None,
        }
    }

    /// Empties the slot if its loop is gone. Returns whether it did.
    pub(crate) fn clear_dead_attachment(&mut self) -> bool {
        if matches!(self.attachment_slot, RuntimeLoopAttachmentSlot::Attached(_)) && !self.attachment_is_live() {
            self.attachment_slot = RuntimeLoopAttachmentSlot::Empty;
            return true;
        }
        false
    }

    /// Empties the slot if it holds the loop `loop_id`. Returns whether it did.
    pub(crate) fn clear_own_attachment(&mut self, loop_id: u64) -> bool {
        if matches!(&self.attachment_slot, RuntimeLoopAttachmentSlot::Attached(attachment) if attachment.loop_id == loop_id)
        {
            self.attachment_slot = RuntimeLoopAttachmentSlot::Empty;
            return true;
        }
        false
    }

    /// A live loop other than `loop_id` owns the attachment.
    pub(crate) fn other_loop_is_live(&self, loop_id: u64) -> bool {
        self.live_attachment().is_some_and(|attachment| attachment.loop_id != loop_id)
    }

    fn live_attachment(&self) -> Option<&RuntimeLoopAttachment> {
        match &self.attachment_slot {
            RuntimeLoopAttachmentSlot::Attached(attachment) if attachment.is_live() => Some(attachment),
            _ => None,
        }
    }

    /// The live loop's wake channel.
    pub(crate) fn wake_sender(&self) -> Option<mpsc::Sender<()>> {
        self.live_attachment().map(|attachment| attachment.wake_tx.clone())
    }

    /// The live loop's effect channel.
    pub(crate) fn effect_sender(&self) -> Option<mpsc::Sender<RuntimeEffect>> {
        self.live_attachment().map(|attachment| attachment.effect_tx.clone())
    }

    /// The live executor's boundary handle.
    pub(crate) fn boundary_handle(&self) -> Option<Arc<dyn CoreExecutorBoundaryHandle>> {
        self.live_attachment().and_then(|attachment| attachment.boundary_handle.clone())
    }

    /// The live executor's interrupt handle.
    pub(crate) fn interrupt_handle(&self) -> Option<Arc<dyn CoreExecutorInterruptHandle>> {
        self.live_attachment().and_then(|attachment| attachment.interrupt_handle.clone())
    }
}
