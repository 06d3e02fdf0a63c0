//! Classification helpers: every lifecycle and input-projection fact the shell needs is asked of the kernel.
//!
//! Each helper applies one pure input to a throwaway projection authority (never a session's), then reads the one
//! answering effect whose key fields (the observed state, the run binding, the input id) match the question. No
//! answer, or an answer to another question, is an error: the helpers fail closed rather than guess, so the
//! tables in `machines/meerkat.machine` are the only definition of these facts.

use std::cell::RefCell;

use super::glue::projection_authority;
use super::meerkat_machine as dsl;
use super::meerkat_machine::MeerkatMachineMutator;
use crate::identifiers::InputId;
use crate::input::{InputLifecycleState, InputStateSeed, InputTerminalOutcome};
use crate::runtime_state::RuntimeState;

/// Why a classification produced no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeClassificationError {
    /// The kernel refused the query (e.g. inconsistent terminal facts).
    #[error("MeerkatMachine refused {query}: {error}")]
    Rejected {
        /// The question asked.
        query: String,
        /// The kernel's refusal.
        #[source]
        error: dsl::MeerkatMachineTransitionError,
    },
    /// The kernel accepted the query but emitted no matching answer.
    #[error("MeerkatMachine emitted no answer to {query}")]
    NoAnswer {
        /// The question asked.
        query: String,
    },
    /// The kernel emitted an effect the query does not expect.
    #[error("MeerkatMachine emitted an unexpected effect for {query}: {effect}")]
    Unexpected {
        /// The question asked.
        query: String,
        /// The unexpected effect's name.
        effect: &'static str,
    },
}

/// Lifecycle and admission facts of one runtime state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeLifecycleFacts {
    /// Whether the state is final.
    pub terminality: dsl::RuntimeLifecycleTerminality,
    /// Whether new input is admitted.
    pub input_admission: dsl::RuntimeInputAdmission,
    /// Whether queued input may drain.
    pub queue_admission: dsl::RuntimeQueueAdmission,
    /// Whether a run may be prepared.
    pub prepare_admission: dsl::RuntimePrepareAdmission,
    /// How ingress reports a refused input.
    pub ingress_admission: dsl::RuntimeIngressAdmission,
}

impl RuntimeLifecycleFacts {
    /// New input is admitted.
    #[must_use]
    pub fn can_accept_input(self) -> bool {
        self.input_admission == dsl::RuntimeInputAdmission::AcceptsInput
    }

    /// Queued input may drain.
    #[must_use]
    pub fn can_process_queue(self) -> bool {
        self.queue_admission == dsl::RuntimeQueueAdmission::ProcessesQueue
    }

    /// A run may be prepared.
    #[must_use]
    pub fn can_prepare_run(self) -> bool {
        self.prepare_admission == dsl::RuntimePrepareAdmission::Ready
    }

    /// The state is final.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        self.terminality == dsl::RuntimeLifecycleTerminality::Terminal
    }
}

/// The runtime loop's queue admission for one state and run binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeLoopQueueAdmissionPlan {
    /// Whether the loop may drain.
    pub queue_admission: dsl::RuntimeQueueAdmission,
    /// Which run id it drains with.
    pub run_binding: dsl::RuntimeLoopRunBinding,
}

impl RuntimeLoopQueueAdmissionPlan {
    /// The loop may drain.
    #[must_use]
    pub fn can_process_queue(self) -> bool {
        self.queue_admission == dsl::RuntimeQueueAdmission::ProcessesQueue
    }

    /// The loop must reuse the run id already bound.
    #[must_use]
    pub fn uses_prebound_run(self) -> bool {
        self.run_binding == dsl::RuntimeLoopRunBinding::UsePrebound
    }
}

/// The kernel's arbitration between its own phase and the published control projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VisibleRuntimePhasePlan {
    /// The control projection takes precedence.
    pub publish_control: bool,
    /// The phase selected, before the visibility rewrite.
    pub selected_raw_phase: RuntimeState,
    /// The phase to show.
    pub visible_phase: RuntimeState,
}

/// The public lifecycle and result classes of a stored input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputPublicStateProjection {
    /// The public lifecycle class.
    pub lifecycle_state: dsl::InputPublicLifecycleState,
    /// The public result class, once terminal.
    pub terminal_outcome: Option<dsl::InputPublicTerminalOutcome>,
}

thread_local! {
    /// This thread's projection authority. Pure inputs never change a state, so one authority answers every
    /// question a thread asks, exactly as a fresh one would, without building and dropping a kernel per question.
    static PROJECTION: RefCell<dsl::MeerkatMachineAuthority> = RefCell::new(projection_authority());
}

/// Applies one pure input to a projection authority (this thread's, or a fresh one for an input that is not
/// pure, or when the thread's is in use) and returns its effects.
fn ask(
    input: dsl::MeerkatMachineInput,
    query: impl Fn() -> String,
) -> Result<Vec<dsl::MeerkatMachineEffect>, RuntimeClassificationError> {
    let apply = |authority: &mut dsl::MeerkatMachineAuthority, input| {
        MeerkatMachineMutator::apply(authority, input)
            .map(dsl::MeerkatMachineTransition::into_effects)
            .map_err(|error| RuntimeClassificationError::Rejected { query: query(), error })
    };
    if !input.is_pure() {
        return apply(&mut projection_authority(), input);
    }
    PROJECTION.with(|cell| match cell.try_borrow_mut() {
        Ok(mut authority) => apply(&mut authority, input),
        Err(_) => apply(&mut projection_authority(), input),
    })
}

/// Lifecycle and admission facts of `state`.
///
/// # Errors
///
/// When the kernel gives no matching answer.
pub fn classify_runtime_lifecycle_state(
    state: RuntimeState,
) -> Result<RuntimeLifecycleFacts, RuntimeClassificationError> {
    let observed = state.to_dsl();
    let query = || format!("runtime lifecycle classification of {state}");
    ask(dsl::MeerkatMachineInput::ClassifyRuntimeLifecycleState { state: observed }, query)?
        .into_iter()
        .find_map(|effect| match effect {
            dsl::MeerkatMachineEffect::RuntimeLifecycleStateClassified {
                state,
                terminality,
                input_admission,
                queue_admission,
                prepare_admission,
                ingress_admission,
            } if state == observed => Some(RuntimeLifecycleFacts {
                terminality,
                input_admission,
                queue_admission,
                prepare_admission,
                ingress_admission,
            }),
            _ => None,
        })
        .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// The state a store records for `state`.
///
/// # Errors
///
/// When the kernel gives no matching answer.
pub fn classify_runtime_lifecycle_durable_state(
    state: RuntimeState,
) -> Result<RuntimeState, RuntimeClassificationError> {
    let observed = state.to_dsl();
    let query = || format!("runtime lifecycle durability of {state}");
    ask(dsl::MeerkatMachineInput::ClassifyRuntimeLifecycleDurability { state: observed }, query)?
        .into_iter()
        .find_map(|effect| match effect {
            dsl::MeerkatMachineEffect::RuntimeLifecycleDurabilityClassified { state, durable_state }
                if state == observed =>
            {
                Some(RuntimeState::from_dsl(durable_state))
            }
            _ => None,
        })
        .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// Whether the runtime loop may drain its queue in `state`, and whether it must reuse the bound run.
///
/// # Errors
///
/// When the kernel gives no matching answer.
pub fn classify_runtime_loop_queue_admission(
    state: RuntimeState,
    current_run_bound: bool,
) -> Result<RuntimeLoopQueueAdmissionPlan, RuntimeClassificationError> {
    let observed = state.to_dsl();
    let query = || format!("runtime-loop queue admission of {state} (run bound: {current_run_bound})");
    ask(dsl::MeerkatMachineInput::ClassifyRuntimeLoopQueueAdmission { state: observed, current_run_bound }, query)?
        .into_iter()
        .find_map(|effect| match effect {
            dsl::MeerkatMachineEffect::RuntimeLoopQueueAdmissionClassified {
                state,
                current_run_bound: bound,
                queue_admission,
                run_binding,
            } if state == observed && bound == current_run_bound => {
                Some(RuntimeLoopQueueAdmissionPlan { queue_admission, run_binding })
            }
            _ => None,
        })
        .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// The phase to show, arbitrated between the kernel's phase and the published control projection.
///
/// # Errors
///
/// When the kernel gives no answer.
pub fn resolve_visible_runtime_phase(
    dsl_phase: RuntimeState,
    dsl_pre_run_phase: Option<RuntimeState>,
    control_phase: RuntimeState,
    control_pre_run_phase: Option<RuntimeState>,
    has_runtime_persistence: bool,
) -> Result<VisibleRuntimePhasePlan, RuntimeClassificationError> {
    let query = || {
        format!(
            "visible runtime phase (kernel {dsl_phase}, control {control_phase}, persistent {has_runtime_persistence})"
        )
    };
    ask(
        dsl::MeerkatMachineInput::ResolveVisibleRuntimePhase {
            dsl_phase: dsl_phase.to_dsl(),
            dsl_pre_run_phase: dsl_pre_run_phase.map(RuntimeState::to_dsl),
            control_phase: control_phase.to_dsl(),
            control_pre_run_phase: control_pre_run_phase.map(RuntimeState::to_dsl),
            has_runtime_persistence,
        },
        query,
    )?
    .into_iter()
    .find_map(|effect| match effect {
        dsl::MeerkatMachineEffect::VisibleRuntimePhaseResolved {
            publish_control,
            selected_raw_phase,
            visible_phase,
        } => Some(VisibleRuntimePhasePlan {
            publish_control,
            selected_raw_phase: RuntimeState::from_dsl(selected_raw_phase),
            visible_phase: RuntimeState::from_dsl(visible_phase),
        }),
        _ => None,
    })
    .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// The public lifecycle class of an input phase.
///
/// # Errors
///
/// When the kernel gives no answer for this input.
pub fn resolve_input_public_lifecycle_projection(
    input_id: &InputId,
    phase: InputLifecycleState,
) -> Result<dsl::InputPublicLifecycleState, RuntimeClassificationError> {
    let key = input_id.as_str().to_owned();
    let query = || format!("public lifecycle of input {input_id}");
    ask(dsl::MeerkatMachineInput::ResolveInputPublicLifecycle { input_id: key.clone(), phase: phase.to_dsl() }, query)?
        .into_iter()
        .find_map(|effect| match effect {
            dsl::MeerkatMachineEffect::InputPublicLifecycleResolved { input_id, phase } if input_id == key => {
                Some(phase)
            }
            _ => None,
        })
        .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// The public result class of an input, from its phase and terminal facts.
///
/// # Errors
///
/// When the facts are inconsistent (the kernel refuses) or no answer for this input comes back.
pub fn resolve_input_public_terminal_projection(
    input_id: &InputId,
    phase: InputLifecycleState,
    terminal_outcome: Option<&InputTerminalOutcome>,
) -> Result<Option<dsl::InputPublicTerminalOutcome>, RuntimeClassificationError> {
    let key = input_id.as_str().to_owned();
    let (terminal_kind, abandon_reason) = terminality_parts(terminal_outcome);
    let query = || format!("public terminal outcome of input {input_id}");
    ask(
        dsl::MeerkatMachineInput::ResolveInputPublicTerminalOutcome {
            input_id: key.clone(),
            phase: phase.to_dsl(),
            terminal_kind,
            abandon_reason,
        },
        query,
    )?
    .into_iter()
    .find_map(|effect| match effect {
        dsl::MeerkatMachineEffect::InputPublicTerminalOutcomeResolved { input_id, terminal_outcome }
            if input_id == key =>
        {
            Some(terminal_outcome)
        }
        _ => None,
    })
    .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// The public lifecycle and result classes of a stored seed.
///
/// # Errors
///
/// As [`resolve_input_public_lifecycle_projection`] and [`resolve_input_public_terminal_projection`].
pub fn resolve_input_public_state_projection(
    input_id: &InputId,
    seed: &InputStateSeed,
) -> Result<InputPublicStateProjection, RuntimeClassificationError> {
    Ok(InputPublicStateProjection {
        lifecycle_state: resolve_input_public_lifecycle_projection(input_id, seed.phase)?,
        terminal_outcome: resolve_input_public_terminal_projection(
            input_id,
            seed.phase,
            seed.terminal_outcome.as_ref(),
        )?,
    })
}

/// Whether an input is behaviorally terminal (will never run again). The answer must be the only effect.
///
/// # Errors
///
/// No answer, or any other effect besides it.
pub fn classify_input_behavioral_terminality(
    input_id: &InputId,
    phase: InputLifecycleState,
    terminal_outcome: Option<&InputTerminalOutcome>,
) -> Result<bool, RuntimeClassificationError> {
    let key = input_id.as_str().to_owned();
    let (terminal_kind, abandon_reason) = terminality_parts(terminal_outcome);
    let query = || format!("behavioral terminality of input {input_id}");
    let mut answer = None;
    for effect in ask(
        dsl::MeerkatMachineInput::ClassifyInputTerminality {
            input_id: key.clone(),
            phase: phase.to_dsl(),
            terminal_kind,
            abandon_reason,
        },
        query,
    )? {
        match effect {
            dsl::MeerkatMachineEffect::InputBehavioralTerminalityResolved { input_id, terminal } if input_id == key => {
                answer = Some(terminal);
            }
            other => return Err(RuntimeClassificationError::Unexpected { query: query(), effect: other.name() }),
        }
    }
    answer.ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// Authorizes a seed before it is stored (and when it is recovered).
///
/// # Errors
///
/// When the kernel refuses the seed's facts or gives no answer.
pub fn authorize_stored_input_state_seed(
    input_id: &InputId,
    seed: &InputStateSeed,
) -> Result<(), RuntimeClassificationError> {
    let key = input_id.as_str().to_owned();
    let (terminal_kind, abandon_reason) = terminality_parts(seed.terminal_outcome.as_ref());
    let (superseded_by, aggregate_id) = match &seed.terminal_outcome {
        Some(InputTerminalOutcome::Superseded { superseded_by }) => (Some(superseded_by.as_str().to_owned()), None),
        Some(InputTerminalOutcome::Coalesced { aggregate_id }) => (None, Some(aggregate_id.clone())),
        _ => (None, None),
    };
    // The attempt count of an abandonment: the reason's own count for `MaxAttemptsExhausted`, the seed's otherwise.
    let abandon_attempt_count = match &seed.terminal_outcome {
        Some(InputTerminalOutcome::Abandoned {
            reason: crate::input::InputAbandonReason::MaxAttemptsExhausted { attempts },
        }) => u64::from(*attempts),
        Some(InputTerminalOutcome::Abandoned { .. }) => u64::from(seed.attempt_count),
        _ => 0,
    };
    let query = || format!("stored state of input {input_id}");
    ask(
        dsl::MeerkatMachineInput::AuthorizeStoredInputStateSeed {
            input_id: key.clone(),
            phase: seed.phase.to_dsl(),
            terminal_kind,
            superseded_by,
            aggregate_id,
            abandon_reason,
            abandon_attempt_count,
            attempt_count: u64::from(seed.attempt_count),
            run_id: seed.last_run_id.as_ref().map(|run| run.as_str().to_owned()),
            boundary_sequence: seed.last_boundary_sequence,
            admission_sequence: seed.admission_sequence,
            recovery_lane: seed.recovery_lane,
        },
        query,
    )?
    .into_iter()
    .find_map(|effect| match effect {
        dsl::MeerkatMachineEffect::StoredInputStateSeedAuthorized { input_id } if input_id == key => Some(()),
        _ => None,
    })
    .ok_or_else(|| RuntimeClassificationError::NoAnswer { query: query() })
}

/// The kernel's (kind, abandon reason) pair of a terminal outcome.
fn terminality_parts(
    outcome: Option<&InputTerminalOutcome>,
) -> (Option<dsl::InputTerminalKind>, Option<dsl::InputAbandonReason>) {
    match outcome {
        None => (None, None),
        Some(InputTerminalOutcome::Consumed) => (Some(dsl::InputTerminalKind::Consumed), None),
        Some(InputTerminalOutcome::Superseded { .. }) => (Some(dsl::InputTerminalKind::Superseded), None),
        Some(InputTerminalOutcome::Coalesced { .. }) => (Some(dsl::InputTerminalKind::Coalesced), None),
        Some(InputTerminalOutcome::Abandoned { reason }) => {
            (Some(dsl::InputTerminalKind::Abandoned), Some(reason.to_dsl()))
        }
    }
}
