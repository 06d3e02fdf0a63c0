//! Handles: the runtime's side of the session handle traits.
//!
//! Every handle minted for a session holds one [`HandleDslAuthority`] over the session's real kernel (the same
//! `Arc` the session entry and its driver hold), so whatever a handle applies lands on the canonical state. The
//! authority lock is a `std::sync::Mutex` because handle methods are synchronous and each lock hold covers one
//! transition; it is never held across an `.await`.
//!
//! Three rules hold at this door:
//! - runtime-internal inputs (the kernel's `internal` inputs: run lifecycle, input ledger, executor exit) are
//!   refused before anything else, with kind `NoMatchingTransition`; only the runtime applies them;
//! - the session's [`HandleTeardownGate`] is checked before the lock (cheap fail-fast) and again after taking it
//!   (closing the race with a concurrent teardown), so a handle outliving its session epoch fails closed;
//! - effects are sampled under the same lock that committed the transition (`*_and_sample`), and whatever the
//!   caller does with the sample happens after the lock is released.
//!
//! Reads go through the door under the authority lock. Writes do not touch the door's lock directly: a runtime
//! handle writes through its [`HandleStepPort`], which the shell implements as the same gated, persisted,
//! journaled step its own operations take (the session's mutation gate, stage → driver → commit), so a handle
//! write is ordered with every other change of the session, reaches the store, and appears in the journal.

mod comms_drain;
mod external_tool_surface;
mod session_admission;
mod session_claim;
mod turn_state;

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use comms_drain::{CommsDrainHandle, RuntimeCommsDrainHandle};
pub use external_tool_surface::{ExternalToolSurfaceHandle, RuntimeExternalToolSurfaceHandle};
pub use session_admission::{RuntimeSessionAdmissionHandle, SessionAdmissionHandle};
pub use session_claim::{RuntimeSessionClaimRegistry, SessionClaim, SessionClaimError, SessionClaimHandle};
pub use turn_state::{RuntimeTurnStateHandle, TurnStateHandle, TurnStateSnapshot};

use crate::identifiers::BoxFuture;
use crate::kernel::glue::{SharedDslAuthority, lock_authority};
use crate::kernel::meerkat_machine as dsl;
use crate::kernel::meerkat_machine::MeerkatMachineMutator;

/// How the kernel (or the handle door) refused a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DslRejectionKind {
    /// The input applies in this phase, but the kernel refused it: a guard failed, or (mapped here on purpose)
    /// two candidates' guards both held (`AmbiguousTransition`), evaluation overflowed (`ArithmeticOverflow`),
    /// or the result would break an invariant (`InvariantViolated`). All of these are refusals of an applicable
    /// input, never "not applicable", so callers that treat `NoMatchingTransition` as an idempotent no-op do not
    /// swallow them; the reason names the precise kernel error.
    GuardRejected,
    /// Nothing handles this input here: no transition in this phase, a runtime-internal input at the handle door,
    /// or a handle whose session was torn down.
    NoMatchingTransition,
    /// A recovered state breaks an invariant.
    RecoveredStateInvariantRejected,
    /// The kernel took the step, but the runtime could not realize it (a store commit failed, the session went
    /// away): the kernel was rolled back and nothing changed.
    RuntimeFailed,
}

/// A refused handle transition. The authority is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{context}: {reason}")]
pub struct DslTransitionError {
    /// How it was refused.
    pub kind: DslRejectionKind,
    /// Where it was applied.
    pub context: &'static str,
    /// Why, in the kernel's (or the door's) words.
    pub reason: String,
}

impl DslTransitionError {
    /// A guard refusal.
    pub fn guard_rejected(context: &'static str, reason: impl Into<String>) -> Self {
        Self { kind: DslRejectionKind::GuardRejected, context, reason: reason.into() }
    }

    /// Nothing handles the input here.
    pub fn no_matching(context: &'static str, reason: impl Into<String>) -> Self {
        Self { kind: DslRejectionKind::NoMatchingTransition, context, reason: reason.into() }
    }

    /// The runtime could not realize the step.
    pub fn runtime_failed(context: &'static str, reason: impl Into<String>) -> Self {
        Self { kind: DslRejectionKind::RuntimeFailed, context, reason: reason.into() }
    }

    /// A recovered state breaks an invariant.
    pub fn recovered_state_invariant_rejected(context: &'static str, reason: impl Into<String>) -> Self {
        Self { kind: DslRejectionKind::RecoveredStateInvariantRejected, context, reason: reason.into() }
    }
}

/// Maps every kernel error kind to a [`DslTransitionError`] explicitly (see [`DslRejectionKind`] for why the
/// three refusals of an applicable input map to `GuardRejected`).
pub(crate) fn map_kernel_error(error: dsl::MeerkatMachineTransitionError, context: &'static str) -> DslTransitionError {
    let reason = error.to_string();
    match error {
        dsl::MeerkatMachineTransitionError::NoMatchingTransition { .. } => {
            DslTransitionError::no_matching(context, reason)
        }
        dsl::MeerkatMachineTransitionError::GuardRejected { .. }
        | dsl::MeerkatMachineTransitionError::AmbiguousTransition { .. }
        | dsl::MeerkatMachineTransitionError::ArithmeticOverflow { .. }
        | dsl::MeerkatMachineTransitionError::InvariantViolated { .. } => {
            DslTransitionError::guard_rejected(context, reason)
        }
        dsl::MeerkatMachineTransitionError::RecoveredStateInvariantRejected { .. } => {
            DslTransitionError::recovered_state_invariant_rejected(context, reason)
        }
    }
}

/// How a runtime handle writes to its session: one gated, persisted, journaled step of the shell, applying
/// `input` (never a runtime-internal one) and returning its effects. The shell implements it; a handle never
/// applies a write under the door's lock itself.
pub(crate) trait HandleStepPort: Send + Sync {
    /// Applies `input` as one step of the session and returns its effects; `record` runs on them while the
    /// session's gate is still held (so what it records is ordered with the step and every later one).
    fn apply<'a>(
        &'a self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
        record: StepRecorder<'a>,
    ) -> BoxFuture<'a, Result<Vec<dsl::MeerkatMachineEffect>, DslTransitionError>>;
}

/// What a handle records of its step's effects, under the session's gate.
pub(crate) type StepRecorder<'a> = Box<dyn FnOnce(&[dsl::MeerkatMachineEffect]) + Send + 'a>;

/// The port of a handle that is not bound to a runtime session: writes go through the door's lock (a door over a
/// private authority, as [`HandleDslAuthority::ephemeral`] makes, has no gate, store or journal to go through).
struct DoorPort(Arc<HandleDslAuthority>);

impl HandleStepPort for DoorPort {
    fn apply<'a>(
        &'a self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
        record: StepRecorder<'a>,
    ) -> BoxFuture<'a, Result<Vec<dsl::MeerkatMachineEffect>, DslTransitionError>> {
        Box::pin(async move {
            self.0.apply_input_with_effects_and_sample(input, context, |effects| {
                record(effects);
                effects.to_vec()
            })
        })
    }
}

/// The port that writes through `door` itself, for handles over a door no runtime session owns.
pub(crate) fn door_port(door: Arc<HandleDslAuthority>) -> Arc<dyn HandleStepPort> {
    Arc::new(DoorPort(door))
}

/// The reason a closed gate gives.
const CLOSED_BY_TEARDOWN: &str = "session-owned runtime handle authority is closed by teardown";

/// Whether the handles minted for one session epoch may still act. The kernel owns the session's lifecycle; this
/// gate only records that the runtime tore the bundle down, so stale holders fail closed.
#[derive(Debug)]
pub struct HandleTeardownGate {
    closed: AtomicBool,
}

impl HandleTeardownGate {
    /// A new, open gate (minted by the runtime for one session epoch).
    pub(crate) fn open() -> Arc<Self> {
        Arc::new(Self { closed: AtomicBool::new(false) })
    }

    /// Closes the gate for good. The runtime closes it while holding the session's authority lock, so no handle
    /// transition is in flight across the close.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether the gate was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn ensure_open(&self, context: &'static str) -> Result<(), DslTransitionError> {
        if self.is_closed() { Err(DslTransitionError::no_matching(context, CLOSED_BY_TEARDOWN)) } else { Ok(()) }
    }
}

/// The one shared door through which every handle of a session reaches its kernel.
pub struct HandleDslAuthority {
    inner: SharedDslAuthority,
    teardown_gate: Arc<HandleTeardownGate>,
}

impl fmt::Debug for HandleDslAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleDslAuthority").finish_non_exhaustive()
    }
}

impl HandleDslAuthority {
    /// A door over an existing shared authority, with a fresh open gate.
    pub fn from_shared(inner: SharedDslAuthority) -> Self {
        Self { inner, teardown_gate: HandleTeardownGate::open() }
    }

    /// A door over an existing shared authority with the session's runtime-owned gate.
    pub(crate) fn from_shared_with_teardown_gate(
        inner: SharedDslAuthority,
        teardown_gate: Arc<HandleTeardownGate>,
    ) -> Self {
        Self { inner, teardown_gate }
    }

    /// A door over a private authority at the kernel's initial state, shared with nothing (tests, minimal hosts).
    pub fn ephemeral() -> Self {
        Self::from_shared(Arc::new(Mutex::new(dsl::MeerkatMachineAuthority::new())))
    }

    /// Applies an input.
    ///
    /// # Errors
    ///
    /// A runtime-internal input, a closed gate, or the kernel's refusal.
    pub fn apply_input(
        &self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
    ) -> Result<(), DslTransitionError> {
        self.apply_input_with_transition(input, context).map(|_| ())
    }

    /// Applies an input and returns its effects, observed under the lock that committed it.
    ///
    /// # Errors
    ///
    /// As [`HandleDslAuthority::apply_input`].
    pub fn apply_input_with_effects(
        &self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
    ) -> Result<Vec<dsl::MeerkatMachineEffect>, DslTransitionError> {
        self.apply_input_with_transition(input, context).map(dsl::MeerkatMachineTransition::into_effects)
    }

    /// Applies an input and returns the whole transition.
    ///
    /// # Errors
    ///
    /// As [`HandleDslAuthority::apply_input`].
    pub fn apply_input_with_transition(
        &self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
    ) -> Result<dsl::MeerkatMachineTransition, DslTransitionError> {
        self.apply_input_under_lock(input, context, |transition| transition)
    }

    /// Applies an input and runs `sample` on its effects while still holding the lock, so whatever `sample` reads
    /// is ordered with this transition; the caller acts on the sample after the lock is released.
    ///
    /// # Errors
    ///
    /// As [`HandleDslAuthority::apply_input`]; `sample` does not run then.
    pub fn apply_input_with_effects_and_sample<S>(
        &self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
        sample: impl FnOnce(&[dsl::MeerkatMachineEffect]) -> S,
    ) -> Result<S, DslTransitionError> {
        self.apply_input_under_lock(input, context, |transition| sample(transition.effects()))
    }

    fn apply_input_under_lock<S>(
        &self,
        input: dsl::MeerkatMachineInput,
        context: &'static str,
        then: impl FnOnce(dsl::MeerkatMachineTransition) -> S,
    ) -> Result<S, DslTransitionError> {
        if input.is_runtime_internal() {
            return Err(DslTransitionError::no_matching(
                context,
                format!("`{}` is runtime-internal: only the runtime applies it", input.name()),
            ));
        }
        self.teardown_gate.ensure_open(context)?;
        let mut guard = lock_authority(&self.inner);
        self.teardown_gate.ensure_open(context)?;
        let transition =
            MeerkatMachineMutator::apply(&mut *guard, input).map_err(|error| map_kernel_error(error, context))?;
        Ok(then(transition))
    }

    /// Applies a signal.
    ///
    /// # Errors
    ///
    /// A closed gate or the kernel's refusal.
    pub fn apply_signal(
        &self,
        signal: dsl::MeerkatMachineSignal,
        context: &'static str,
    ) -> Result<(), DslTransitionError> {
        self.apply_signal_with_effects(signal, context).map(|_| ())
    }

    /// Applies a signal and returns its effects.
    ///
    /// # Errors
    ///
    /// As [`HandleDslAuthority::apply_signal`].
    pub fn apply_signal_with_effects(
        &self,
        signal: dsl::MeerkatMachineSignal,
        context: &'static str,
    ) -> Result<Vec<dsl::MeerkatMachineEffect>, DslTransitionError> {
        self.apply_signal_under_lock(signal, context, |transition, _| transition.into_effects())
    }

    /// Applies a signal and runs `sample` on the resulting state under the same lock.
    ///
    /// # Errors
    ///
    /// As [`HandleDslAuthority::apply_signal`]; `sample` does not run then.
    pub fn apply_signal_and_sample<S>(
        &self,
        signal: dsl::MeerkatMachineSignal,
        context: &'static str,
        sample: impl FnOnce(&dsl::MeerkatMachineState) -> S,
    ) -> Result<S, DslTransitionError> {
        self.apply_signal_under_lock(signal, context, |_, state| sample(state))
    }

    fn apply_signal_under_lock<S>(
        &self,
        signal: dsl::MeerkatMachineSignal,
        context: &'static str,
        then: impl FnOnce(dsl::MeerkatMachineTransition, &dsl::MeerkatMachineState) -> S,
    ) -> Result<S, DslTransitionError> {
        self.teardown_gate.ensure_open(context)?;
        let mut guard = lock_authority(&self.inner);
        self.teardown_gate.ensure_open(context)?;
        let transition = guard.apply_signal(signal).map_err(|error| map_kernel_error(error, context))?;
        Ok(then(transition, guard.state()))
    }

    /// A copy of the current state (no gate check: reading a torn-down session is harmless).
    pub fn snapshot_state(&self) -> dsl::MeerkatMachineState {
        lock_authority(&self.inner).state().clone()
    }

    /// Runs `body` on the state under the lock (e.g. to install an observer atomically with a read). Lock order
    /// is the same as for applying: the authority first, then any handle-local lock `body` takes.
    pub fn with_state_lock<R>(&self, body: impl FnOnce(&dsl::MeerkatMachineState) -> R) -> R {
        body(lock_authority(&self.inner).state())
    }

    /// The identity of the authority behind this door.
    pub fn generated_authority_owner_token(&self) -> Arc<dyn Any + Send + Sync> {
        lock_authority(&self.inner).generated_authority_owner_token()
    }

    /// Whether the session's teardown closed this door.
    pub fn is_torn_down(&self) -> bool {
        self.teardown_gate.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teardown_gate_rejects_stale_handle_input_before_mutation() {
        let authority: SharedDslAuthority = Arc::new(Mutex::new(dsl::MeerkatMachineAuthority::new()));
        let gate = HandleTeardownGate::open();
        let handle = HandleDslAuthority::from_shared_with_teardown_gate(Arc::clone(&authority), Arc::clone(&gate));
        gate.close();
        let result = handle.apply_input(
            dsl::MeerkatMachineInput::RegisterSession { session_id: dsl::SessionId::from("closed-session".to_owned()) },
            "test::stale_handle",
        );
        let Err(error) = result else {
            unreachable!("a closed handle must refuse input");
        };
        assert_eq!(error.kind, DslRejectionKind::NoMatchingTransition);
        assert!(error.reason.contains("closed by teardown"), "{error}");
        assert_eq!(lock_authority(&authority).state().session_id, None);
        assert_eq!(lock_authority(&authority).state(), &dsl::MeerkatMachineState::initial());
    }

    #[test]
    fn runtime_internal_inputs_are_refused_at_the_door() {
        let handle = HandleDslAuthority::ephemeral();
        let before = handle.snapshot_state();
        let Err(error) = handle.apply_input(dsl::MeerkatMachineInput::RuntimeExecutorExited, "test::internal") else {
            unreachable!("runtime-internal inputs never pass the handle door");
        };
        assert_eq!(error.kind, DslRejectionKind::NoMatchingTransition);
        assert!(error.reason.contains("runtime-internal"), "{error}");
        assert_eq!(handle.snapshot_state(), before);
    }

    #[test]
    fn kernel_errors_map_to_their_kinds() {
        let handle = HandleDslAuthority::ephemeral();
        let session = dsl::SessionId::from("s".to_owned());
        // Retire before registration: no transition leaves `Initializing` on `Retire`.
        let Err(error) = handle.apply_input(dsl::MeerkatMachineInput::Retire { session_id: session.clone() }, "t")
        else {
            unreachable!("retire cannot apply before registration");
        };
        assert_eq!(error.kind, DslRejectionKind::NoMatchingTransition);
        assert!(handle.apply_input(dsl::MeerkatMachineInput::RegisterSession { session_id: session }, "t").is_ok());
        // Another session id fails the `is_session` guard.
        let other = dsl::SessionId::from("other".to_owned());
        let Err(error) = handle.apply_input(dsl::MeerkatMachineInput::Retire { session_id: other }, "t") else {
            unreachable!("retire of another session is refused");
        };
        assert_eq!(error.kind, DslRejectionKind::GuardRejected);
        let overflow =
            map_kernel_error(dsl::MeerkatMachineTransitionError::ArithmeticOverflow { transition: "x" }, "t");
        assert_eq!(overflow.kind, DslRejectionKind::GuardRejected);
        let recovered = map_kernel_error(
            dsl::MeerkatMachineTransitionError::RecoveredStateInvariantRejected { invariant: "i" },
            "t",
        );
        assert_eq!(recovered.kind, DslRejectionKind::RecoveredStateInvariantRejected);
    }
}
