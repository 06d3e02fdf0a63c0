//! The bindings group: preparing a session's runtime bindings (registering it if needed, binding it to its
//! authoritative runtime in the kernel, then minting one shared handle door and the handle bundle with a runtime
//! witness), and validating bindings a consumer holds.

use std::sync::Arc;

use super::command::MeerkatMachineCommandError;
use super::handle_port::GatedHandlePort;
use super::machine::{MeerkatMachine, SessionStepError, StepPayload};
use super::step::SessionParts;
use crate::epoch::{
    BindingsAuthorityKind, RuntimeBindingsError, RuntimeBindingsWitness, SessionBindingHandles, SessionRuntimeBindings,
};
use crate::error::RuntimeDriverError;
use crate::handles::{
    HandleDslAuthority, HandleStepPort, RuntimeCommsDrainHandle, RuntimeExternalToolSurfaceHandle,
    RuntimeSessionAdmissionHandle, RuntimeTurnStateHandle, SessionClaimHandle,
};
use crate::identifiers::{LogicalRuntimeId, SessionId};
use crate::kernel::glue::lock_authority;
use crate::kernel::meerkat_machine as dsl;

/// What a bindings preparation is for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SessionBindingPreparation {
    /// Apply `PrepareBindings` for this runtime: the binding is the semantic event.
    AuthoritativeRuntimeBinding(LogicalRuntimeId),
    /// Only mint the session-local handle bundle.
    LocalSessionResources,
}

impl MeerkatMachine {
    /// Binds the session to its own logical runtime and mints its bindings (registering it if needed).
    ///
    /// # Errors
    ///
    /// `PrepareFailed` (destroyed, stopped, bound to another runtime, ...).
    pub async fn prepare_bindings(
        &self,
        session_id: &SessionId,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        let runtime_id = Self::logical_runtime_id(session_id);
        self.prepare_bindings_for_runtime(session_id, runtime_id).await
    }

    /// Binds the session to `runtime_id` and mints its bindings. A session bound to another runtime is refused.
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::prepare_bindings`].
    pub async fn prepare_bindings_for_runtime(
        &self,
        session_id: &SessionId,
        runtime_id: LogicalRuntimeId,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        let prepared = self.prepare_runtime_bindings_inner(session_id.clone(), runtime_id).await;
        Self::bindings_error_reported(session_id, prepared)
    }

    /// Mints the session-local bindings without an authoritative runtime binding.
    ///
    /// # Errors
    ///
    /// As [`MeerkatMachine::prepare_bindings`].
    pub async fn prepare_local_session_bindings(
        &self,
        session_id: &SessionId,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        let prepared = self.prepare_local_session_bindings_inner(session_id.clone()).await;
        Self::bindings_error_reported(session_id, prepared)
    }

    /// The public methods' error: a failure before any binding was attempted is reported as `PrepareFailed` too.
    fn bindings_error_reported(
        session_id: &SessionId,
        prepared: Result<SessionRuntimeBindings, MeerkatMachineCommandError>,
    ) -> Result<SessionRuntimeBindings, RuntimeBindingsError> {
        prepared.map_err(|error| match error {
            MeerkatMachineCommandError::Bindings(error) => error,
            MeerkatMachineCommandError::Driver(error) => {
                RuntimeBindingsError::PrepareFailed(session_id.clone(), error.to_string())
            }
        })
    }

    /// The preparation behind [`MeerkatMachine::prepare_bindings_for_runtime`] and `PrepareBindings`.
    pub(crate) async fn prepare_runtime_bindings_inner(
        &self,
        session_id: SessionId,
        runtime_id: LogicalRuntimeId,
    ) -> Result<SessionRuntimeBindings, MeerkatMachineCommandError> {
        self.prepare_session_runtime_bindings(
            session_id,
            SessionBindingPreparation::AuthoritativeRuntimeBinding(runtime_id),
        )
        .await
    }

    /// The preparation behind [`MeerkatMachine::prepare_local_session_bindings`] and `PrepareLocalSessionBindings`.
    pub(crate) async fn prepare_local_session_bindings_inner(
        &self,
        session_id: SessionId,
    ) -> Result<SessionRuntimeBindings, MeerkatMachineCommandError> {
        self.prepare_session_runtime_bindings(session_id, SessionBindingPreparation::LocalSessionResources).await
    }

    /// Prepares bindings: registers if needed, applies `PrepareBindings` for an authoritative binding (a session
    /// bound to another runtime is refused, and a registration this call made is rolled back), then mints one
    /// shared handle door and the handle bundle with a runtime witness. A failure before the binding step is a
    /// driver error; the binding's refusal and a vanished session are bindings errors.
    async fn prepare_session_runtime_bindings(
        &self,
        session_id: SessionId,
        preparation: SessionBindingPreparation,
    ) -> Result<SessionRuntimeBindings, MeerkatMachineCommandError> {
        self.refuse_destroyed(&session_id).await?;
        let inserted = self.ensure_session_entry(&session_id).await?.is_some();
        self.refuse_destroyed(&session_id).await?;
        let _gate = self.gate(&session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(&session_id);
        if let SessionBindingPreparation::AuthoritativeRuntimeBinding(runtime_id) = &preparation {
            let agent_runtime_id = dsl::AgentRuntimeId::from_domain(runtime_id);
            let input = dsl::MeerkatMachineInput::PrepareBindings {
                agent_runtime_id: agent_runtime_id.clone(),
                fence_token: dsl::FenceToken::from(0),
                generation: dsl::Generation::from(0),
                session_id: dsl_session.clone(),
            };
            let step = self
                .run_session_step(&session_id, "PrepareBindings", StepPayload::default(), |tx| {
                    tx.apply(input).map(|_| ())
                })
                .await;
            if let Err(error) = step {
                if inserted {
                    self.unregister_fresh_registration(&session_id).await;
                }
                let error = match error {
                    SessionStepError::Rejected(rejection) => {
                        let bound =
                            self.session_dsl_state(&session_id).await.ok().and_then(|state| state.active_runtime_id);
                        match bound {
                            Some(bound) if bound != agent_runtime_id => RuntimeDriverError::ValidationFailed {
                                reason: format!(
                                    "session {session_id} is bound to runtime `{}`; refusing an authoritative binding to \
                                     `{}`",
                                    bound.0, agent_runtime_id.0
                                ),
                                source: Some(Box::new(rejection)),
                            },
                            _ => rejection.into(),
                        }
                    }
                    SessionStepError::Driver(error) => error,
                };
                return Err(RuntimeBindingsError::PrepareFailed(session_id, error.to_string()).into());
            }
        }
        let sessions = self.sessions.read().await;
        let entry =
            sessions.get(&session_id).ok_or_else(|| RuntimeBindingsError::SessionNotFound(session_id.clone()))?;
        let door = Arc::new(HandleDslAuthority::from_shared_with_teardown_gate(
            Arc::clone(&entry.dsl_authority),
            Arc::clone(&entry.handle_teardown_gate),
        ));
        let owner_token = lock_authority(&entry.dsl_authority).generated_authority_owner_token();
        // Handle writes take the session's own step, under its gate.
        let port: Arc<dyn HandleStepPort> = Arc::new(GatedHandlePort {
            committers: Arc::clone(&self.committers),
            session_id: session_id.clone(),
            parts: SessionParts {
                authority: Arc::clone(&entry.dsl_authority),
                driver: Arc::clone(&entry.driver),
                completions: Arc::clone(&entry.completions),
            },
            mutation_gate: Arc::clone(&entry.mutation_gate),
            teardown_gate: Arc::clone(&entry.handle_teardown_gate),
        });
        let kind = match preparation {
            SessionBindingPreparation::AuthoritativeRuntimeBinding(_) => {
                BindingsAuthorityKind::AuthoritativeRuntimeBinding
            }
            SessionBindingPreparation::LocalSessionResources => BindingsAuthorityKind::LocalSessionResources,
        };
        let handles = SessionBindingHandles {
            turn_state: Arc::new(RuntimeTurnStateHandle::new(
                Arc::clone(&door),
                Arc::clone(&entry.control_projection),
                self.has_runtime_persistence(),
            )),
            session_admission: Arc::new(RuntimeSessionAdmissionHandle::with_port(
                Arc::clone(&door),
                Arc::clone(&port),
                dsl_session.clone(),
            )),
            external_tool_surface: Arc::new(RuntimeExternalToolSurfaceHandle::with_port(
                Arc::clone(&door),
                port,
                Arc::clone(&entry.tool_visibility_owner),
                dsl_session,
            )),
            comms_drain: Arc::new(RuntimeCommsDrainHandle::new(door)),
            session_claim: Arc::clone(&self.session_claims) as Arc<dyn SessionClaimHandle>,
        };
        Ok(SessionRuntimeBindings::from_runtime_authority(
            session_id.clone(),
            entry.epoch_id.clone(),
            Arc::clone(&entry.cursor_state),
            handles,
            RuntimeBindingsWitness::mint(kind, owner_token),
        ))
    }

    /// Rolls back a registration this preparation made (gate held): the fresh entry has no loop and no waiters.
    async fn unregister_fresh_registration(&self, session_id: &SessionId) {
        let removed = self.sessions.write().await.remove(session_id);
        if let Some(entry) = removed {
            entry.close_handle_teardown_gate();
        }
    }

    /// Whether `bindings` are live bindings of this machine's session: prepared for the session's current
    /// kernel (by owner token) and current epoch.
    ///
    /// # Errors
    ///
    /// `SessionNotFound` for a session that is not registered; `StaleBindings` for bindings of another kernel or
    /// of a past epoch.
    pub async fn validate_session_bindings(
        &self,
        bindings: &SessionRuntimeBindings,
    ) -> Result<(), RuntimeBindingsError> {
        let session_id = bindings.session_id();
        let sessions = self.sessions.read().await;
        let entry =
            sessions.get(session_id).ok_or_else(|| RuntimeBindingsError::SessionNotFound(session_id.clone()))?;
        let token = lock_authority(&entry.dsl_authority).generated_authority_owner_token();
        if !bindings.runtime_authority().is_for_authority(&token) {
            return Err(RuntimeBindingsError::StaleBindings {
                session_id: session_id.clone(),
                reason: "they were minted for another authority".into(),
            });
        }
        if bindings.epoch_id() != &entry.epoch_id || entry.handle_teardown_gate.is_closed() {
            return Err(RuntimeBindingsError::StaleBindings {
                session_id: session_id.clone(),
                reason: "they belong to a past epoch".into(),
            });
        }
        Ok(())
    }
}
