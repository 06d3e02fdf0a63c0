//! The tool-visibility group: staging a filter, requesting deferred tools (each mints a revision in the kernel,
//! which the session's visibility owner then records), and publishing a committed visible set (the kernel's
//! guards decide it). The vocabulary is `crate::visibility`.

use std::collections::BTreeMap;

use super::machine::{MeerkatMachine, StepPayload};
use crate::error::RuntimeDriverError;
use crate::identifiers::SessionId;
use crate::kernel::meerkat_machine as dsl;
use crate::visibility::{SessionToolVisibilityState, minted_revision};

impl MeerkatMachine {
    /// Stages a tool filter; returns the revision the kernel minted.
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, or the kernel's refusal.
    pub async fn stage_persistent_filter(
        &self,
        session_id: &SessionId,
        filter: dsl::ToolFilter,
    ) -> Result<u64, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let (revision, _) = self
            .run_session_step(session_id, "StageVisibilityFilter", StepPayload::default(), |tx| {
                let effects = tx.apply(dsl::MeerkatMachineInput::StageVisibilityFilter { session_id: dsl_session })?;
                minted_revision(effects).ok_or_else(|| tx.refuse("no visibility revision was minted"))
            })
            .await?;
        self.visibility_owner(session_id).await?.record_staged_filter(revision, filter);
        Ok(revision)
    }

    /// Requests deferred tools with their witnesses; returns the revision the kernel minted.
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, or the kernel's refusal (no witness).
    pub async fn request_deferred_tools(
        &self,
        session_id: &SessionId,
        authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    ) -> Result<u64, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let dsl_session = dsl::SessionId::from_domain(session_id);
        let requested = authorities.clone();
        let (revision, _) = self
            .run_session_step(session_id, "RequestDeferredTools", StepPayload::default(), |tx| {
                let effects = tx.apply(dsl::MeerkatMachineInput::RequestDeferredTools {
                    session_id: dsl_session,
                    authorities: requested,
                })?;
                minted_revision(effects).ok_or_else(|| tx.refuse("no visibility revision was minted"))
            })
            .await?;
        self.visibility_owner(session_id).await?.record_deferred_request(revision, authorities);
        Ok(revision)
    }

    /// Commits a visible set; the kernel's guards (VisibleSurfacesMatchAppliedState) decide.
    ///
    /// # Errors
    ///
    /// `Destroyed`, a missing session, `ValidationFailed` for a set the kernel refuses or unknown witnesses.
    pub async fn publish_committed_visible_set(
        &self,
        session_id: &SessionId,
        visibility_state: SessionToolVisibilityState,
    ) -> Result<SessionToolVisibilityState, RuntimeDriverError> {
        self.require_live_session(session_id).await?;
        let _gate = self.gate(session_id).await?;
        let owner = self.visibility_owner(session_id).await?;
        let canonical = owner
            .canonical_deferred_authorities_for_visibility_state(&visibility_state)
            .map_err(RuntimeDriverError::validation)?;
        let input = canonical.clone().into_publish_input(dsl::SessionId::from_domain(session_id));
        self.run_session_step(session_id, "PublishCommittedVisibleSet", StepPayload::default(), |tx| {
            tx.apply(input).map(|_| ())
        })
        .await?;
        owner.replace_visibility_state(canonical.clone());
        Ok(canonical)
    }
}
