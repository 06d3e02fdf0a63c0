//! The in-memory driver: queue, stored input seeds, silent intents and the control projection of one session,
//! changed only by planning and then realizing a [`DriverMutation`]. The driver holds every input the kernel's
//! ledger holds, and after the kernel forgets a terminal input its seed moves to the bounded dedupe window
//! ([`crate::RuntimeOptions`]), which refuses a duplicate id until the id leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::DriverMutation;
use crate::error::RuntimeDriverError;
use crate::identifiers::{InputId, LogicalRuntimeId, RunId};
use crate::input::{Input, InputAbandonReason, InputLifecycleState, InputStateSeed, InputTerminalOutcome};
use crate::kernel::classify::{authorize_stored_input_state_seed, classify_runtime_lifecycle_durable_state};
use crate::kernel::glue::{SharedDslAuthority, lock_authority};
use crate::kernel::meerkat_machine as dsl;
use crate::observability::RuntimeCounters;
use crate::options::RuntimeOptions;
use crate::runtime_state::{
    RuntimeControlProjection, RuntimeState, SharedControlProjection, read_control_projection, write_control_projection,
};
use crate::store::{RuntimeStoreCommit, StoredInput};

/// One session's in-memory driver state.
#[derive(Debug)]
pub struct EphemeralRuntimeDriver {
    runtime_id: LogicalRuntimeId,
    control_projection: SharedControlProjection,
    dsl_authority: SharedDslAuthority,
    queue: VecDeque<InputId>,
    inputs: HashMap<InputId, StoredInput>,
    next_admission_sequence: u64,
    silent_intents: Vec<String>,
    durable_state: RuntimeState,
    recent: DedupeWindow,
    max_queued_inputs: usize,
    counters: Arc<RuntimeCounters>,
}

impl Drop for EphemeralRuntimeDriver {
    fn drop(&mut self) {
        // The machine's queue depth no longer counts this session's queue.
        self.counters.record_queue_change(-(self.queue.len() as i64));
    }
}

/// The seeds of forgotten inputs, oldest first, at most `capacity` of them. The entries are allocated when the
/// first input is forgotten, so an idle session does not pay for its window.
#[derive(Debug)]
struct DedupeWindow {
    capacity: usize,
    entries: Option<Box<WindowEntries>>,
}

/// The window's ids in the order they entered, and their seeds.
#[derive(Debug, Default)]
struct WindowEntries {
    order: VecDeque<InputId>,
    seeds: HashMap<InputId, InputStateSeed>,
}

impl DedupeWindow {
    fn new(capacity: usize) -> Self {
        Self { capacity, entries: None }
    }

    fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |entries| entries.order.len())
    }

    fn seed(&self, id: &InputId) -> Option<&InputStateSeed> {
        self.entries.as_ref().and_then(|entries| entries.seeds.get(id))
    }

    /// The ids that leave the window when `entering` more enter it, oldest first (the entering ones included
    /// when they alone exceed the capacity).
    fn evicted_by(&self, entering: &[InputId]) -> Vec<InputId> {
        let overflow = (self.len() + entering.len()).saturating_sub(self.capacity);
        let order = self.entries.as_ref().map(|entries| &entries.order);
        order.into_iter().flatten().chain(entering).take(overflow).cloned().collect()
    }

    fn push(&mut self, id: InputId, seed: InputStateSeed) {
        if self.capacity == 0 {
            return;
        }
        let entries = self.entries.get_or_insert_with(Box::default);
        entries.order.push_back(id.clone());
        entries.seeds.insert(id, seed);
        while entries.order.len() > self.capacity {
            if let Some(oldest) = entries.order.pop_front() {
                entries.seeds.remove(&oldest);
            }
        }
    }
}

/// A planned mutation: every write it makes, computed before anything is written.
#[derive(Debug, Default)]
pub(crate) struct DriverPlan {
    projection: Option<RuntimeControlProjection>,
    durable_state: Option<RuntimeState>,
    accepted: Vec<StoredInput>,
    updated: Vec<(InputId, InputStateSeed)>,
    requeue_front: Vec<InputId>,
    silent_intents: Option<Vec<String>>,
    next_admission_sequence: u64,
    admission_sequence_changed: bool,
    next_visibility_revision: Option<u64>,
    stored_silent_intents: Option<Vec<String>>,
    forgotten: Vec<InputId>,
    evicted: Vec<InputId>,
}

impl DriverPlan {
    /// The store writes of this plan.
    pub(crate) fn store_commit(&self) -> RuntimeStoreCommit {
        RuntimeStoreCommit {
            runtime_state: self.durable_state,
            accepted: self.accepted.clone(),
            input_states: self.updated.clone(),
            evicted: self.evicted.clone(),
            next_admission_sequence: self.admission_sequence_changed.then_some(self.next_admission_sequence),
            next_visibility_revision: self.next_visibility_revision,
            silent_intents: self.stored_silent_intents.clone(),
        }
    }
}

fn internal(message: impl Into<String>) -> RuntimeDriverError {
    RuntimeDriverError::Internal(message.into())
}

/// The stored seed of an input after the kernel recorded `record` for it.
fn seed_from_record(
    input_id: &InputId,
    base: &InputStateSeed,
    record: &dsl::InputRecord,
    run_id: Option<&RunId>,
    boundary_sequence: Option<u64>,
) -> Result<InputStateSeed, RuntimeDriverError> {
    let phase = InputLifecycleState::from_dsl(record.phase);
    let terminal_outcome = match (record.terminal_kind, record.abandon_reason) {
        (None, _) => None,
        (Some(dsl::InputTerminalKind::Consumed), _) => Some(InputTerminalOutcome::Consumed),
        (Some(dsl::InputTerminalKind::Abandoned), Some(reason)) => {
            Some(InputTerminalOutcome::Abandoned { reason: InputAbandonReason::from_dsl(reason, record.attempt_count) })
        }
        (Some(kind), _) => {
            // The runtime never supersedes or coalesces inputs (those inputs are runtime-internal and it does
            // not apply them), so their replacement ids are unknown here: refuse rather than store a guess.
            return Err(internal(format!("input {input_id}: cannot store terminal kind {kind:?} without its details")));
        }
    };
    let mut seed = base.clone();
    seed.phase = phase;
    seed.terminal_outcome = terminal_outcome;
    seed.attempt_count = u32::try_from(record.attempt_count).unwrap_or(u32::MAX);
    if phase == InputLifecycleState::Staged
        && let Some(run_id) = run_id
    {
        seed.last_run_id = Some(run_id.clone());
    }
    if matches!(
        phase,
        InputLifecycleState::Applied | InputLifecycleState::AppliedPendingConsumption | InputLifecycleState::Consumed
    ) && boundary_sequence.is_some()
        && seed.last_run_id.is_some()
    {
        seed.last_boundary_sequence = boundary_sequence;
    }
    Ok(seed)
}

impl EphemeralRuntimeDriver {
    /// An empty driver over `dsl_authority`, publishing into `control_projection`, with the bounds of `options`.
    pub(crate) fn new(
        runtime_id: LogicalRuntimeId,
        control_projection: SharedControlProjection,
        dsl_authority: SharedDslAuthority,
        options: &RuntimeOptions,
        counters: Arc<RuntimeCounters>,
    ) -> Self {
        let durable_state = read_control_projection(&control_projection).phase;
        Self {
            runtime_id,
            control_projection,
            dsl_authority,
            queue: VecDeque::new(),
            inputs: HashMap::new(),
            next_admission_sequence: 0,
            silent_intents: Vec::new(),
            durable_state,
            recent: DedupeWindow::new(options.dedupe_window),
            max_queued_inputs: options.max_queued_inputs,
            counters,
        }
    }

    /// Loads recovered inputs (in admission order; pending ones queue in that order; terminal ones, which the
    /// kernel does not re-admit, enter the dedupe window), the stored durable state, the stored next admission
    /// sequence (the next one handed out is past it and past every stored input's) and the silent intents.
    pub(crate) fn restore_recovered(
        &mut self,
        inputs: Vec<StoredInput>,
        durable_state: Option<RuntimeState>,
        next_admission_sequence: Option<u64>,
        silent_intents: Option<Vec<String>>,
    ) {
        let queued_before = self.queue.len();
        self.next_admission_sequence = next_admission_sequence.unwrap_or(0);
        if let Some(intents) = silent_intents {
            self.silent_intents = intents;
        }
        for stored in inputs {
            let sequence = stored.seed.admission_sequence.unwrap_or(self.next_admission_sequence);
            self.next_admission_sequence = self.next_admission_sequence.max(sequence.saturating_add(1));
            if stored.seed.is_terminal() {
                self.recent.push(stored.input.id, stored.seed);
                continue;
            }
            if stored.seed.phase.is_pending() {
                self.queue.push_back(stored.input.id.clone());
            }
            self.inputs.insert(stored.input.id.clone(), stored);
        }
        if let Some(state) = durable_state {
            self.durable_state = state;
        }
        self.counters.record_queue_change(self.queue.len() as i64 - queued_before as i64);
    }

    /// The logical runtime this driver serves.
    pub fn runtime_id(&self) -> &LogicalRuntimeId {
        &self.runtime_id
    }

    /// The kernel shared with the session entry.
    pub fn shared_dsl_authority(&self) -> &SharedDslAuthority {
        &self.dsl_authority
    }

    /// The projection cell shared with the session entry.
    pub fn control_projection_handle(&self) -> &SharedControlProjection {
        &self.control_projection
    }

    /// The projected lifecycle state.
    pub fn runtime_state(&self) -> RuntimeState {
        read_control_projection(&self.control_projection).phase
    }

    /// The last durable state written or recovered.
    pub fn durable_state(&self) -> RuntimeState {
        self.durable_state
    }

    /// The silent comms intents the driver applies.
    pub fn silent_comms_intents(&self) -> &[String] {
        &self.silent_intents
    }

    /// Ids of the inputs that are not terminal, in admission order.
    pub fn active_input_ids(&self) -> Vec<InputId> {
        let mut active: Vec<(u64, InputId)> = self
            .inputs
            .values()
            .filter(|stored| !stored.seed.is_terminal())
            .map(|stored| (stored.seed.admission_sequence.unwrap_or(u64::MAX), stored.input.id.clone()))
            .collect();
        active.sort();
        active.into_iter().map(|(_, id)| id).collect()
    }

    /// The stored seed of one input: a live one, or a forgotten one still inside the dedupe window.
    pub fn stored_input_state(&self, input_id: &InputId) -> Option<InputStateSeed> {
        self.inputs.get(input_id).map(|stored| stored.seed.clone()).or_else(|| self.recent.seed(input_id).cloned())
    }

    /// How many forgotten inputs the dedupe window holds.
    pub fn dedupe_window_len(&self) -> usize {
        self.recent.len()
    }

    /// How many inputs wait in the queue.
    pub fn queued_len(&self) -> usize {
        self.queue.len()
    }

    /// How many inputs the driver stores (the dedupe window included).
    pub fn stored_len(&self) -> usize {
        self.inputs.len() + self.recent.len()
    }

    /// Every queued input, from the front of the queue, in order.
    pub(crate) fn queued_inputs(&self) -> Vec<Input> {
        self.queue
            .iter()
            .filter_map(|id| self.inputs.get(id))
            .filter(|stored| stored.seed.phase == InputLifecycleState::Queued)
            .map(|stored| stored.input.clone())
            .collect()
    }

    /// Inputs still staged into `run_id` (a run a previous loop left bound), in admission order.
    pub(crate) fn staged_for_run(&self, run_id: &RunId) -> Vec<Input> {
        let mut staged: Vec<&StoredInput> = self
            .inputs
            .values()
            .filter(|stored| {
                stored.seed.phase == InputLifecycleState::Staged && stored.seed.last_run_id.as_ref() == Some(run_id)
            })
            .collect();
        staged.sort_by_key(|stored| stored.seed.admission_sequence);
        staged.into_iter().map(|stored| stored.input.clone()).collect()
    }

    /// Re-reads the control projection from the kernel.
    pub(crate) fn sync_control_projection_from_dsl_authority(&mut self) {
        let projection = RuntimeControlProjection::from_dsl_state(lock_authority(&self.dsl_authority).state());
        write_control_projection(&self.control_projection, projection);
    }

    /// Plans a mutation against the current state without changing anything.
    pub(crate) fn plan(&self, mutation: DriverMutation<'_>) -> Result<DriverPlan, RuntimeDriverError> {
        let DriverMutation { effects, accepted, run_id, boundary_sequence } = mutation;
        let mut payloads: HashMap<InputId, Input> =
            accepted.into_iter().map(|input| (input.id.clone(), input)).collect();
        let mut seeds: HashMap<InputId, InputStateSeed> = HashMap::new();
        let mut touched: Vec<InputId> = Vec::new();
        if let Some(input) = payloads.values().find(|input| self.recent.seed(&input.id).is_some()) {
            // Its id is inside the session's dedupe window.
            return Err(RuntimeDriverError::DuplicateInput { input_id: input.id.clone(), source: None });
        }
        if !payloads.is_empty() && self.queue.len() + payloads.len() > self.max_queued_inputs {
            return Err(RuntimeDriverError::Backpressure {
                what: crate::error::BackpressureBound::InputQueue,
                limit: self.max_queued_inputs,
            });
        }
        let mut plan = DriverPlan { next_admission_sequence: self.next_admission_sequence, ..DriverPlan::default() };
        for effect in effects {
            match effect {
                dsl::MeerkatMachineEffect::ControlProjectionChanged { phase, current_run_id, pre_run_phase } => {
                    plan.projection = Some(RuntimeControlProjection {
                        phase: RuntimeState::from_dsl(*phase),
                        current_run_id: current_run_id.as_ref().map(dsl::RunId::to_domain),
                        pre_run_phase: pre_run_phase.map(RuntimeState::from_dsl),
                    });
                }
                dsl::MeerkatMachineEffect::InputLedgerUpdated { input_id, record } => {
                    let id = input_id.to_domain();
                    let base = if let Some(seed) = seeds.get(&id) {
                        seed.clone()
                    } else if let Some(stored) = self.inputs.get(&id) {
                        stored.seed.clone()
                    } else if payloads.contains_key(&id) {
                        let seed = InputStateSeed::accepted(plan.next_admission_sequence);
                        // The last sequence is never handed out: a recovery refuses it, as nothing can follow it.
                        plan.next_admission_sequence = plan
                            .next_admission_sequence
                            .checked_add(1)
                            .filter(|next| *next < u64::MAX)
                            .ok_or_else(|| internal("the session's admission sequences are exhausted"))?;
                        plan.admission_sequence_changed = true;
                        seed
                    } else {
                        return Err(internal(format!("kernel ledger updated input {id} the driver does not hold")));
                    };
                    let seed = seed_from_record(&id, &base, record, run_id.as_ref(), boundary_sequence)?;
                    authorize_stored_input_state_seed(&id, &seed)
                        .map_err(|error| internal(format!("refusing to store input state: {error}")))?;
                    if !seeds.contains_key(&id) {
                        touched.push(id.clone());
                    }
                    seeds.insert(id, seed);
                }
                dsl::MeerkatMachineEffect::InputForgotten { input_id } => plan.forgotten.push(input_id.to_domain()),
                dsl::MeerkatMachineEffect::SilentIntentsChanged { intents, apply_to_driver } => {
                    let intents: Vec<String> = intents.iter().cloned().collect();
                    if *apply_to_driver {
                        plan.silent_intents = Some(intents.clone());
                    }
                    plan.stored_silent_intents = Some(intents);
                }
                dsl::MeerkatMachineEffect::VisibilityRevisionMinted { revision, .. } => {
                    plan.next_visibility_revision = Some(revision.saturating_add(1));
                }
                _ => {}
            }
        }
        if let Some(projection) = &plan.projection {
            // No run survives a restart, so a running session is stored as the phase its run returns to: the
            // phase it began from, or `Retired` for a retire taken during the run (durable at once). A stored
            // `Running` is therefore a contradiction, which recovery refuses.
            let observed = match (projection.phase, projection.pre_run_phase) {
                (RuntimeState::Running, Some(returns_to)) => returns_to,
                (RuntimeState::Running, None) => RuntimeState::Idle,
                (phase, _) => phase,
            };
            let durable =
                classify_runtime_lifecycle_durable_state(observed).map_err(|error| internal(error.to_string()))?;
            if durable != self.durable_state {
                plan.durable_state = Some(durable);
            }
        }
        for id in touched {
            let Some(seed) = seeds.remove(&id) else { continue };
            if let Some(input) = payloads.remove(&id) {
                plan.accepted.push(StoredInput { input, seed });
            } else {
                let was_staged =
                    self.inputs.get(&id).is_some_and(|stored| stored.seed.phase == InputLifecycleState::Staged);
                if was_staged && seed.phase.is_pending() {
                    plan.requeue_front.push(id.clone());
                }
                plan.updated.push((id, seed));
            }
        }
        if let Some(id) = payloads.keys().next() {
            return Err(internal(format!("input {id} was handed to the driver but the kernel did not accept it")));
        }
        if let Some(id) = plan.forgotten.iter().find(|id| !self.inputs.contains_key(*id)) {
            return Err(internal(format!("kernel forgot input {id} the driver does not hold")));
        }
        plan.evicted = self.recent.evicted_by(&plan.forgotten);
        Ok(plan)
    }

    /// Applies a plan in memory (after any store write succeeded).
    pub(crate) fn realize(&mut self, plan: DriverPlan) {
        let DriverPlan {
            projection,
            durable_state,
            accepted,
            updated,
            requeue_front,
            silent_intents,
            next_admission_sequence,
            forgotten,
            ..
        } = plan;
        let queued_before = self.queue.len();
        if let Some(projection) = projection {
            write_control_projection(&self.control_projection, projection);
        }
        if let Some(state) = durable_state {
            self.durable_state = state;
        }
        let mut queue_changed = !requeue_front.is_empty();
        for (id, seed) in updated {
            if let Some(stored) = self.inputs.get_mut(&id) {
                queue_changed |= stored.seed.phase.is_pending() != seed.phase.is_pending();
                stored.seed = seed;
            }
        }
        if queue_changed {
            let inputs = &self.inputs;
            self.queue.retain(|id| inputs.get(id).is_some_and(|stored| stored.seed.phase.is_pending()));
            for id in requeue_front.into_iter().rev() {
                if !self.queue.contains(&id) {
                    self.queue.push_front(id);
                }
            }
        }
        for stored in accepted {
            if stored.seed.phase.is_pending() {
                self.queue.push_back(stored.input.id.clone());
            }
            self.inputs.insert(stored.input.id.clone(), stored);
        }
        if let Some(intents) = silent_intents {
            self.silent_intents = intents;
        }
        for id in forgotten {
            if let Some(stored) = self.inputs.remove(&id) {
                self.recent.push(id, stored.seed);
            }
        }
        self.next_admission_sequence = next_admission_sequence;
        self.counters.record_queue_change(self.queue.len() as i64 - queued_before as i64);
    }
}
