//! The shell's typed errors, and [`KernelRejection`], the kernel's refusal they keep as their source.
//!
//! Conventions: every refusal a caller can act on has its own variant, so a caller matches on the variant, never
//! on a message. A session that is not registered is `UnknownSession` from every method (a destroyed one, kept as
//! a tombstone, is `Destroyed`); an empty session or input id is `InvalidId`; a duplicate input id (live in the
//! kernel's ledger, or inside the dedupe window) is `DuplicateInput`; a full bound is `Backpressure`, naming the
//! [`BackpressureBound`]; a session in its unregistration drain window is `Draining`; a machine that was shut down
//! is `ShutDown`. Any other kernel rejection is `ValidationFailed` carrying the kernel's message; where the kernel
//! refused, its typed rejection is the error's `source`. A runtime loop that is not live is
//! `NotReady { state: Idle }`; plumbing failures (a store write, a channel) are `Internal`; a stored state that does
//! not replay through the kernel, or contradicts itself, is `RecoveryCorruption`.

use std::fmt;

use crate::identifiers::{InputId, SessionId};
use crate::kernel::meerkat_machine as dsl;
use crate::kernel::session_supervisor as supervisor_dsl;
use crate::runtime_state::RuntimeState;

/// Which bound of a session refused (see [`crate::RuntimeOptions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackpressureBound {
    /// The session's input queue (`max_queued_inputs`).
    InputQueue,
    /// The session's completion waiters (`max_completion_waiters`).
    CompletionWaiters,
    /// The runtime loop's effect channel (interrupts and cancels waiting for the loop).
    EffectChannel,
}

impl fmt::Display for BackpressureBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackpressureBound::InputQueue => "the session's input queue",
            BackpressureBound::CompletionWaiters => "the session's completion waiters",
            BackpressureBound::EffectChannel => "the runtime loop's effect channel",
        })
    }
}

/// Which id an [`RuntimeDriverError::InvalidId`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A session id.
    Session,
    /// An input id.
    Input,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Session => "session id",
            IdKind::Input => "input id",
        })
    }
}

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
    /// No session with this id is registered (every method answers so).
    #[error("unknown session `{session_id}`")]
    UnknownSession {
        /// The id asked for.
        session_id: SessionId,
    },
    /// An id is empty.
    #[error("invalid {kind}: it is empty")]
    InvalidId {
        /// Which id.
        kind: IdKind,
    },
    /// The input id is already taken in this session: a live input, a terminal one the kernel still holds, or one
    /// inside the dedupe window ([`crate::RuntimeOptions::dedupe_window`]). Nothing was accepted.
    #[error("duplicate input `{input_id}`: the session already holds an input with this id")]
    DuplicateInput {
        /// The duplicate id.
        input_id: InputId,
        /// The kernel's refusal (its ledger guard); `None` when the dedupe window refused.
        #[source]
        source: Option<Box<KernelRejection>>,
    },
    /// The session is in its unregistration drain window (an unregistration is in progress, or was dropped before
    /// it finished): it takes no new input; a new unregistration finishes the teardown.
    #[error("runtime draining: the session is being unregistered")]
    Draining,
    /// The machine was shut down ([`crate::MeerkatMachine::shutdown`]); it takes no new sessions or inputs.
    #[error("runtime shut down")]
    ShutDown,
    /// A teardown could not finish by its deadline.
    #[error("deadline exceeded: {what}")]
    DeadlineExceeded {
        /// What was still unfinished.
        what: String,
    },
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
        what: BackpressureBound,
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

    /// The answer for a session that is not registered.
    pub(crate) fn unknown_session(session_id: &SessionId) -> Self {
        RuntimeDriverError::UnknownSession { session_id: session_id.clone() }
    }

    /// Refuses an empty id.
    pub(crate) fn require_id(kind: IdKind, id: &str) -> Result<(), Self> {
        if id.is_empty() { Err(RuntimeDriverError::InvalidId { kind }) } else { Ok(()) }
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
