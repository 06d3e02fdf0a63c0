//! The `SessionSupervision` composition at run time.
//!
//! Outbound: when the shell commits a kernel step, each effect is lifted by [`lift_routed_signal`] into the
//! messages its routes deliver (`SessionRetiredObserved` → `MemberRetired`, `SessionDestroyedObserved` →
//! `MemberDestroyed`) and handed to the installed [`MeerkatCompositionSignalDispatcher`]. A dispatch failure is
//! reported by the command, and the committed kernel state is kept.
//!
//! Inbound: [`SessionSupervisorHost`] owns a `SessionSupervisor` kernel; its `MemberInterruptRequested` effect is
//! routed back to the member session as the `SupervisorInterruptRequested` signal through
//! [`MeerkatMachine::apply_routed_meerkat_signal`](super::MeerkatMachine::apply_routed_meerkat_signal).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::MeerkatMachine;
use super::dsl;
use crate::identifiers::{BoxFuture, SessionId};
use crate::session_supervision::{
    SessionSupervisionRouted, route_meerkat_machine_effect, route_session_supervisor_effect,
};
use crate::session_supervisor::dsl as supervisor_dsl;
use crate::session_supervisor::dsl::SessionSupervisorMutator;
use crate::traits::RuntimeDriverError;

/// Lifts one MeerkatMachine effect into the messages the composition routes deliver for it.
///
/// This is the single place the shell depends on the generated routing code of `SessionSupervision`; it
/// delegates to the generated `route_meerkat_machine_effect`.
pub fn lift_routed_signal(effect: &dsl::MeerkatMachineEffect) -> Vec<SessionSupervisionRouted> {
    route_meerkat_machine_effect(effect)
}

/// Why a routed message could not be delivered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompositionDispatchError {
    /// The receiving machine refused the message.
    #[error("routed {message} refused: {reason}")]
    Refused {
        /// The message's name.
        message: &'static str,
        /// The receiver's reason.
        reason: String,
    },
    /// The receiver is gone.
    #[error("routed {message} has no receiver")]
    Unavailable {
        /// The message's name.
        message: &'static str,
    },
}

/// Delivers routed messages to their receiving machine.
pub trait CompositionSignalSink: Send + Sync {
    /// Delivers one message.
    fn dispatch(&self, routed: SessionSupervisionRouted) -> BoxFuture<'_, Result<(), CompositionDispatchError>>;
}

/// The dispatcher the machine holds: a cloneable handle on a sink (cloned out of its lock before awaiting).
#[derive(Clone)]
pub struct MeerkatCompositionSignalDispatcher {
    sink: Arc<dyn CompositionSignalSink>,
}

impl std::fmt::Debug for MeerkatCompositionSignalDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeerkatCompositionSignalDispatcher").finish_non_exhaustive()
    }
}

impl MeerkatCompositionSignalDispatcher {
    /// A dispatcher over `sink`.
    pub fn new(sink: Arc<dyn CompositionSignalSink>) -> Self {
        Self { sink }
    }

    /// Delivers one message.
    ///
    /// # Errors
    ///
    /// The sink's refusal.
    pub async fn dispatch(&self, routed: SessionSupervisionRouted) -> Result<(), CompositionDispatchError> {
        self.sink.dispatch(routed).await
    }
}

fn routed_name(routed: &SessionSupervisionRouted) -> &'static str {
    match routed {
        SessionSupervisionRouted::SessionSupervisorSignal(signal) => signal.name(),
        SessionSupervisionRouted::MeerkatMachineSignal(signal) => signal.name(),
    }
}

/// A supervising host: a `SessionSupervisor` kernel that receives its members' routed lifecycle observations and
/// routes its interrupt requests back to the members' sessions.
#[derive(Debug)]
pub struct SessionSupervisorHost {
    authority: Mutex<supervisor_dsl::SessionSupervisorAuthority>,
    machine: Weak<MeerkatMachine>,
}

impl SessionSupervisorHost {
    /// A host supervising sessions of `machine`.
    pub fn new(machine: &Arc<MeerkatMachine>) -> Arc<Self> {
        Arc::new(Self {
            authority: Mutex::new(supervisor_dsl::SessionSupervisorAuthority::new()),
            machine: Arc::downgrade(machine),
        })
    }

    /// A dispatcher delivering the machine's routed observations to this host.
    pub fn dispatcher(self: &Arc<Self>) -> MeerkatCompositionSignalDispatcher {
        MeerkatCompositionSignalDispatcher::new(Arc::clone(self) as Arc<dyn CompositionSignalSink>)
    }

    fn lock(&self) -> MutexGuard<'_, supervisor_dsl::SessionSupervisorAuthority> {
        self.authority.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The supervisor's state.
    pub fn state(&self) -> supervisor_dsl::SessionSupervisorState {
        self.lock().state().clone()
    }

    /// Admits a member session.
    ///
    /// # Errors
    ///
    /// The supervisor kernel's refusal (already a member, closed).
    pub fn admit_member(&self, session_id: &SessionId) -> Result<(), supervisor_dsl::SessionSupervisorTransitionError> {
        let input = supervisor_dsl::SessionSupervisorInput::AdmitMember {
            session_id: supervisor_dsl::SessionId(session_id.as_str().to_owned()),
        };
        SessionSupervisorMutator::apply(&mut *self.lock(), input).map(|_| ())
    }

    /// Asks a member to interrupt its run in flight: the supervisor kernel decides, and its routed effects are
    /// delivered to the member's MeerkatMachine kernel.
    ///
    /// # Errors
    ///
    /// The supervisor kernel's refusal (not a member), or the member session's refusal of the routed signal.
    pub async fn interrupt_member(&self, session_id: &SessionId) -> Result<(), RuntimeDriverError> {
        let input = supervisor_dsl::SessionSupervisorInput::InterruptMember {
            session_id: supervisor_dsl::SessionId(session_id.as_str().to_owned()),
        };
        let effects = SessionSupervisorMutator::apply(&mut *self.lock(), input)
            .map(supervisor_dsl::SessionSupervisorTransition::into_effects)
            .map_err(|error| RuntimeDriverError::ValidationFailed { reason: format!("SessionSupervisor: {error}") })?;
        let machine = self
            .machine
            .upgrade()
            .ok_or_else(|| RuntimeDriverError::Internal("the supervised MeerkatMachine was dropped".to_owned()))?;
        for effect in &effects {
            for routed in route_session_supervisor_effect(effect) {
                if let SessionSupervisionRouted::MeerkatMachineSignal(signal) = routed {
                    machine.apply_routed_meerkat_signal(session_id, signal).await?;
                }
            }
        }
        Ok(())
    }
}

impl CompositionSignalSink for SessionSupervisorHost {
    fn dispatch(&self, routed: SessionSupervisionRouted) -> BoxFuture<'_, Result<(), CompositionDispatchError>> {
        Box::pin(async move {
            let message = routed_name(&routed);
            let SessionSupervisionRouted::SessionSupervisorSignal(signal) = routed else {
                return Err(CompositionDispatchError::Unavailable { message });
            };
            self.lock()
                .apply_signal(signal)
                .map(|_| ())
                .map_err(|error| CompositionDispatchError::Refused { message, reason: error.to_string() })
        })
    }
}
