//! The inbound side of the `SessionSupervision` composition: [`SessionSupervisorHost`] owns a `SessionSupervisor`
//! kernel that receives its members' routed lifecycle observations (it is a [`CompositionSignalSink`]); its
//! `MemberInterruptRequested` effect is routed back to the member session as the `SupervisorInterruptRequested`
//! signal through [`MeerkatMachine::apply_routed_meerkat_signal`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::composition::{CompositionDispatchError, CompositionSignalSink, MeerkatCompositionSignalDispatcher};
use super::machine::MeerkatMachine;
use crate::error::{KernelRejection, RuntimeDriverError};
use crate::identifiers::{BoxFuture, SessionId};
use crate::kernel::session_supervision::{SessionSupervisionRouted, route_session_supervisor_effect};
use crate::kernel::session_supervisor as supervisor_dsl;
use crate::kernel::session_supervisor::SessionSupervisorMutator;

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
            .map_err(|error| RuntimeDriverError::from(KernelRejection::Supervisor { error }))?;
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
