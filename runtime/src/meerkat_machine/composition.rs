//! The `SessionSupervision` composition at run time, outbound: when the shell commits a kernel step, each effect
//! is lifted by [`lift_routed_signal`] into the messages its routes deliver (`SessionRetiredObserved` →
//! `MemberRetired`, `SessionDestroyedObserved` → `MemberDestroyed`) and handed to the installed
//! [`MeerkatCompositionSignalDispatcher`]. A dispatch failure is reported by the operation, and the committed
//! kernel state is kept. The inbound side, a supervising host, is [`super::SessionSupervisorHost`].

use std::sync::Arc;

use crate::identifiers::BoxFuture;
use crate::kernel::meerkat_machine as dsl;
use crate::kernel::session_supervision::{SessionSupervisionRouted, route_meerkat_machine_effect};

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
