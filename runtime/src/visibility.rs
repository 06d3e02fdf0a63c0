//! Tool visibility. The kernel holds the committed visible set and mints every staging revision; the session's
//! [`MachineToolVisibilityOwner`] keeps what the kernel does not (decision 7 of the spec): the filter staged at
//! each revision and the witnesses each deferred-tool request brought. Publishing builds the kernel input from a
//! caller's [`SessionToolVisibilityState`], keeping only witnesses the owner has seen for the named tools; the
//! three clauses of VisibleSurfacesMatchAppliedState are the kernel's guards, not re-checked here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::kernel::meerkat_machine as dsl;

/// A session's visible tool surface (the committed set of `PublishCommittedVisibleSet`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionToolVisibilityState {
    /// The active filter.
    pub active_filter: dsl::ToolFilter,
    /// The staged filter.
    pub staged_filter: dsl::ToolFilter,
    /// Deferred tools the active surface requests.
    pub active_requested_deferred_names: BTreeSet<String>,
    /// Deferred tools the staged input requests.
    pub staged_requested_deferred_names: BTreeSet<String>,
    /// Witnesses of the active requested tools.
    pub active_deferred_authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    /// Witnesses of the staged requested tools.
    pub staged_deferred_authorities: BTreeMap<String, dsl::ToolVisibilityWitness>,
    /// The active surface's revision.
    pub active_visibility_revision: u64,
    /// The staged input's revision.
    pub staged_visibility_revision: u64,
}

impl Default for SessionToolVisibilityState {
    fn default() -> Self {
        Self::from_dsl_state(&dsl::MeerkatMachineState::initial())
    }
}

impl SessionToolVisibilityState {
    /// The committed set in a kernel state.
    pub fn from_dsl_state(state: &dsl::MeerkatMachineState) -> Self {
        Self {
            active_filter: state.active_filter.clone(),
            staged_filter: state.staged_filter.clone(),
            active_requested_deferred_names: state.active_requested_deferred_names.clone(),
            staged_requested_deferred_names: state.staged_requested_deferred_names.clone(),
            active_deferred_authorities: state.active_deferred_authorities.clone(),
            staged_deferred_authorities: state.staged_deferred_authorities.clone(),
            active_visibility_revision: state.active_visibility_revision,
            staged_visibility_revision: state.staged_visibility_revision,
        }
    }

    /// The kernel input publishing this set for `session_id`.
    pub(crate) fn into_publish_input(self, session_id: dsl::SessionId) -> dsl::MeerkatMachineInput {
        dsl::MeerkatMachineInput::PublishCommittedVisibleSet {
            session_id,
            active_filter: self.active_filter,
            staged_filter: self.staged_filter,
            active_requested_deferred_names: self.active_requested_deferred_names,
            staged_requested_deferred_names: self.staged_requested_deferred_names,
            active_deferred_authorities: self.active_deferred_authorities,
            staged_deferred_authorities: self.staged_deferred_authorities,
            active_visibility_revision: self.active_visibility_revision,
            staged_visibility_revision: self.staged_visibility_revision,
        }
    }
}

/// The revision a `VisibilityRevisionMinted` effect among `effects` carries.
pub(crate) fn minted_revision(effects: &[dsl::MeerkatMachineEffect]) -> Option<u64> {
    effects.iter().find_map(|effect| match effect {
        dsl::MeerkatMachineEffect::VisibilityRevisionMinted { revision, .. } => Some(*revision),
        _ => None,
    })
}

#[derive(Debug, Default)]
struct OwnerState {
    staged_filters: BTreeMap<u64, dsl::ToolFilter>,
    deferred_requests: BTreeMap<u64, BTreeMap<String, dsl::ToolVisibilityWitness>>,
    published: Option<SessionToolVisibilityState>,
}

/// The session's visibility owner: pending filters and deferred-tool witnesses by revision.
#[derive(Debug, Default)]
pub struct MachineToolVisibilityOwner {
    state: Mutex<OwnerState>,
}

impl MachineToolVisibilityOwner {
    /// An empty owner.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, OwnerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the filter staged at `revision`.
    pub fn record_staged_filter(&self, revision: u64, filter: dsl::ToolFilter) {
        self.lock().staged_filters.insert(revision, filter);
    }

    /// Records the witnesses requested at `revision`.
    pub fn record_deferred_request(&self, revision: u64, authorities: BTreeMap<String, dsl::ToolVisibilityWitness>) {
        self.lock().deferred_requests.insert(revision, authorities);
    }

    /// The filter staged at `revision`.
    pub fn staged_filter(&self, revision: u64) -> Option<dsl::ToolFilter> {
        self.lock().staged_filters.get(&revision).cloned()
    }

    /// The last set this owner published.
    pub fn published(&self) -> Option<SessionToolVisibilityState> {
        self.lock().published.clone()
    }

    /// `state` with each authority map cut down to witnesses for its requested names. A requested name needs a
    /// witness the owner recorded from a deferred-tool request, and a supplied witness must be that one.
    ///
    /// # Errors
    ///
    /// A requested tool without a recorded witness, or with a different one.
    pub fn canonical_deferred_authorities_for_visibility_state(
        &self,
        state: &SessionToolVisibilityState,
    ) -> Result<SessionToolVisibilityState, String> {
        let owner = self.lock();
        let known =
            |name: &String| owner.deferred_requests.values().rev().find_map(|request| request.get(name).cloned());
        let canonical = |names: &BTreeSet<String>, supplied: &BTreeMap<String, dsl::ToolVisibilityWitness>| {
            let mut kept = BTreeMap::new();
            for name in names {
                let Some(witness) = known(name) else {
                    return Err(format!("deferred tool `{name}` was never requested with a witness"));
                };
                if supplied.get(name).is_some_and(|given| given != &witness) {
                    return Err(format!("deferred tool `{name}` carries a witness the owner did not record"));
                }
                kept.insert(name.clone(), witness);
            }
            Ok(kept)
        };
        let mut canonical_state = state.clone();
        canonical_state.active_deferred_authorities =
            canonical(&state.active_requested_deferred_names, &state.active_deferred_authorities)?;
        canonical_state.staged_deferred_authorities =
            canonical(&state.staged_requested_deferred_names, &state.staged_deferred_authorities)?;
        Ok(canonical_state)
    }

    /// Records `state` as published.
    pub fn replace_visibility_state(&self, state: SessionToolVisibilityState) {
        self.lock().published = Some(state);
    }
}
