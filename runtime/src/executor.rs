//! The executor seam: what the runtime loop drives. A [`CoreExecutor`] applies one run (a batch of staged inputs)
//! and reports whether it committed, failed or was cancelled; optional handles let the shell ask it to cancel at
//! its next boundary or to interrupt at once. The traits return boxed futures so a session can hold a
//! `Box<dyn CoreExecutor>`.

use std::sync::Arc;

use crate::identifiers::{BoxFuture, RunId, SessionId};
use crate::input::Input;

/// One run handed to an executor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// The session the run belongs to.
    pub session_id: SessionId,
    /// The run's id (bound in the kernel while the run is in flight).
    pub run_id: RunId,
    /// The inputs staged into the run, in queue order.
    pub inputs: Vec<Input>,
}

/// What a committed run reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// The boundary sequence the run committed at, if the executor counts boundaries.
    pub boundary_sequence: Option<u64>,
}

/// Why a run did not commit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreExecutorError {
    /// The run failed; its inputs go back to the queue while they have attempts left.
    #[error("run failed: {0}")]
    Failed(String),
    /// The run stopped at a boundary because it was asked to; its inputs are abandoned as cancelled.
    #[error("run cancelled: {0}")]
    Cancelled(String),
}

/// Runs a session's inputs. One executor serves one session's runtime loop.
pub trait CoreExecutor: Send + 'static {
    /// Applies one run. The runtime loop awaits this without holding any session lock.
    fn apply(&mut self, request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>>;

    /// A handle through which the shell asks the run in flight to stop at its next boundary.
    fn boundary_handle(&self) -> Option<Arc<dyn CoreExecutorBoundaryHandle>> {
        None
    }

    /// A handle through which the shell interrupts the run in flight at once.
    fn interrupt_handle(&self) -> Option<Arc<dyn CoreExecutorInterruptHandle>> {
        None
    }
}

/// Cooperative cancellation at the executor's next safe boundary.
pub trait CoreExecutorBoundaryHandle: Send + Sync {
    /// Asks the run in flight to stop at its next boundary (its `apply` then returns `Cancelled`).
    fn cancel_after_boundary(&self, reason: String) -> BoxFuture<'_, Result<(), String>>;
}

/// Immediate interruption of the run in flight.
pub trait CoreExecutorInterruptHandle: Send + Sync {
    /// Interrupts the run in flight. The runtime loop also stops awaiting it and finishes the run as cancelled.
    fn interrupt(&self, reason: &str);
}
