//! The shell's typed errors, and [`KernelRejection`], the kernel's refusal they keep as their source.
//!
//! Conventions (from the seeds): a session that is not registered reads as `NotReady { state: Destroyed }`, which
//! public control commands normalize to `Destroyed`; a kernel rejection is `ValidationFailed` carrying the
//! kernel's message, with the typed rejection as its `source`; a runtime loop that is not live is
//! `NotReady { state: Idle }`; plumbing failures (a store write, a channel) are `Internal`; a stored state that does
//! not replay through the kernel is `RecoveryCorruption`. Because `ValidationFailed` keeps the seeds' message, a
//! printer that walks the source chain shows the kernel's message again under its sources.

use crate::kernel::meerkat_machine as dsl;
use crate::kernel::session_supervisor as supervisor_dsl;
use crate::runtime_state::RuntimeState;

/// Why a kernel step was refused. The kernel's state is unchanged: a refused step rolls back every input it
/// applied before the lock is released.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KernelRejection {
    /// The session's MeerkatMachine kernel refused an input or signal.
    #[error("generated MeerkatMachine ({context}): {error}")]
    Transition {
        /// The step it was applied in.
        context: &'static str,
        /// The kernel's typed refusal.
        #[source]
        error: dsl::MeerkatMachineTransitionError,
    },
    /// The kernel accepted, but the result is not what the step needs (e.g. no active registration granted).
    #[error("generated MeerkatMachine ({context}): {reason}")]
    Outcome {
        /// The step it was applied in.
        context: &'static str,
        /// What was missing.
        reason: String,
    },
    /// A supervising host's SessionSupervisor kernel refused an input.
    #[error("SessionSupervisor: {error}")]
    Supervisor {
        /// The supervisor kernel's typed refusal.
        #[source]
        error: supervisor_dsl::SessionSupervisorTransitionError,
    },
}

/// Why a runtime driver operation was refused or failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeDriverError {
    /// The session's runtime is not in a state that can do this.
    #[error("runtime not ready: {state}")]
    NotReady {
        /// The state it is in (`Destroyed` for a session that is not registered).
        state: RuntimeState,
    },
    /// The session was destroyed; nothing resurrects it.
    #[error("runtime destroyed")]
    Destroyed,
    /// The kernel refused the transition, or the shell refused a request it checks itself (unknown witnesses, a
    /// session bound to another runtime).
    #[error("validation failed: {reason}")]
    ValidationFailed {
        /// The kernel's message, with the context it was applied in (the seeds' convention: the message reads
        /// the same whether or not there is a typed source).
        reason: String,
        /// The kernel's typed refusal; `None` for a refusal of the shell's own. Boxed, so that every `Result`
        /// carrying this error stays small.
        #[source]
        source: Option<Box<KernelRejection>>,
    },
    /// A bounded queue of the session is full (its input queue, its completion waiters, or its runtime loop's
    /// effect channel; see [`crate::RuntimeOptions`]); nothing was accepted, retry once it drained.
    #[error("backpressure: {what} is full (limit {limit})")]
    Backpressure {
        /// Which bound was hit.
        what: &'static str,
        /// The bound.
        limit: usize,
    },
    /// The runtime's plumbing failed (a store, a channel, an unexpected answer).
    #[error("internal runtime error: {0}")]
    Internal(String),
    /// Stored runtime state could not be replayed through the kernel.
    #[error("recovery corruption: {reason}")]
    RecoveryCorruption {
        /// What could not be replayed, and the kernel's refusal.
        reason: String,
    },
}

impl RuntimeDriverError {
    /// A refusal of the shell's own, with no kernel error behind it.
    pub(crate) fn validation(reason: impl Into<String>) -> Self {
        RuntimeDriverError::ValidationFailed { reason: reason.into(), source: None }
    }

    /// `NotReady { Destroyed }` (a missing session) reads as `Destroyed`; every other error is unchanged.
    pub fn normalize_destroyed(self) -> Self {
        match self {
            RuntimeDriverError::NotReady { state: RuntimeState::Destroyed } => RuntimeDriverError::Destroyed,
            other => other,
        }
    }
}

/// A kernel refusal, reported the shell's way: `ValidationFailed` with the kernel's message and the typed
/// rejection as its source.
impl From<KernelRejection> for RuntimeDriverError {
    fn from(rejection: KernelRejection) -> Self {
        RuntimeDriverError::ValidationFailed { reason: rejection.to_string(), source: Some(Box::new(rejection)) }
    }
}

/// Why a control-plane operation (registration) failed. A failed registration is never reported as success.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeControlPlaneError {
    /// The driver operation behind it failed.
    #[error(transparent)]
    Driver(#[from] RuntimeDriverError),
    /// The control plane's plumbing failed.
    #[error("internal control-plane error: {0}")]
    Internal(String),
}
