//! `meerkat_runtime::MeerkatMachine` as an implementation under test of the MeerkatMachine spec, driven through
//! its public API only. This file is the one place that knows the runtime's API: a change of the runtime's
//! signatures is adapted here.
//!
//! Each spec input maps to the public call a user makes ([`RuntimeUnderTest::perform`]): register, prepare
//! bindings, ensure an executor (a scripted one, whose runs end when the sequence's `FinishRun` says how),
//! accept, silent intents, stop, retire, reset, recycle, destroy, unregister, interrupt, the routed supervisor
//! signal, the visibility calls; the pure classifications are previewed on a scratch session. What a call
//! applied to the session's kernel is read from the runtime's commit journal (`DslCommitObserver`), so a call
//! that is several spec steps (accepting is `AcceptInput` then `QueueInput`, and the loop may begin a run)
//! reports them all, and the harness follows them on the reference. Runtime-only inputs are reached as a user
//! reaches them: runs begin when the loop sees queued input, finish when the scripted executor returns, and
//! ledger inputs are applied by the loop and the control calls. Inputs a user cannot apply on their own are
//! [`Performed::Unsupported`], with the reason; [`UNREACHABLE`] lists the transitions that leaves out.
//!
//! Observation: the session's kernel state (`session_dsl_state`) through its serde form, with the ids the
//! runtime mints (run ids, fence tokens, generations) renamed to the spec's model values. A session the runtime
//! does not hold exposes nothing.
//!
//! The runtime runs on a current-thread tokio runtime, so every spawned task (the session's loop) runs only
//! while the adapter awaits, and a call is settled once the journal stops growing over a fixed number of
//! yields: no clocks, the same sequence gives the same interleaving.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use meerkat_dsl::explore::conformance::{AdapterError, Implementation, Observation, Performed};
use meerkat_dsl::interp::{FromInterp, Message};
use meerkat_runtime::identifiers::LogicalRuntimeId;
use meerkat_runtime::meerkat_machine::{DslCommitObserver, DslJournalEntry, SessionToolVisibilityState, dsl};
use meerkat_runtime::{BoxFuture, CoreExecutor, CoreExecutorError, Input, InputId, MeerkatMachine, RunOutput};
use meerkat_runtime::{RunRequest, SessionId};
use serde_json::Value as Json;
use tokio::sync::oneshot;

use crate::mirror::meerkat_machine as mirror;

/// MeerkatMachine transitions the public API cannot reach on their own, with the reason. Each is a finding: a
/// user cannot exercise that transition, so conformance cannot either.
pub const UNREACHABLE: &[(&str, &str)] = &[
    (
        "PublishCommittedVisibleSet",
        "`publish_committed_visible_set` refuses deferred-tool witnesses the visibility owner did not record from a \
         `request_deferred_tools` call, a provenance rule the spec does not model: the spec accepts a set the \
         runtime refuses (a divergence by design of the shell, worth modelling)",
    ),
    ("SupersedeInput", "no public call supersedes an input: only the kernel's ledger vocabulary has it"),
    ("CoalesceInput", "no public call coalesces inputs: only the kernel's ledger vocabulary has it"),
];

/// Which spec messages a user can drive the runtime with in a spec state (the generator searches only these,
/// so its shortest sequences are ones the runtime can replay). Runs are begun by the loop when it sees queued
/// input with an executor attached, staged, applied and finished while the scripted executor holds them;
/// queueing follows acceptance; abandonment, exit, supersession and coalescing are never asked for directly.
pub fn drivable(state: &meerkat_dsl::interp::State, message: &Message) -> bool {
    use mirror::MeerkatMachineInput as I;
    use mirror::MeerkatMachinePhase as P;
    let (Some(state), Some(input)) =
        (mirror::MeerkatMachineState::from_interp(state), mirror::MeerkatMachineInput::from_interp(message))
    else {
        // Signals (the supervisor's interrupt) are always drivable through `apply_routed_meerkat_signal`.
        return true;
    };
    let running_in_executor = state.executor_attached && state.lifecycle_phase == P::Running;
    match input {
        I::BeginRun { .. } => {
            state.executor_attached
                && matches!(state.lifecycle_phase, P::Attached | P::Retired)
                && state.input_ledger.values().any(|r| r.phase == mirror::InputPhase::Queued)
        }
        // The loop always applies a run's inputs as awaiting the commit.
        I::ApplyInput { awaits_commit, .. } => running_in_executor && awaits_commit,
        I::StageInput { .. } | I::FinishRun { .. } => running_in_executor,
        I::ConsumeInput { .. } => state.executor_attached,
        I::QueueInput { input_id } => {
            state.input_ledger.get(&input_id).is_some_and(|r| r.phase == mirror::InputPhase::Accepted)
        }
        // The loop exits (and the runtime applies the exit) when an unregistration drains it or a stop ends it.
        I::RuntimeExecutorExited => {
            state.registration_phase == mirror::RegistrationPhase::Draining || state.lifecycle_phase == P::Stopped
        }
        // The visibility owner publishes only witnesses it recorded from a deferred-tool request, which the spec
        // does not model (see `UNREACHABLE`).
        I::PublishCommittedVisibleSet { .. } => false,
        I::AbandonInput { .. } | I::SupersedeInput { .. } | I::CoalesceInput { .. } => false,
        _ => true,
    }
}

/// The runs the scripted executor holds, each with the sender of its outcome.
type PendingRuns = Arc<Mutex<VecDeque<oneshot::Sender<Result<RunOutput, CoreExecutorError>>>>>;

/// The session every sequence drives (the model's only `SessionId`).
const SESSION: &str = "s1";
/// How many consecutive yields without a new journal entry make a call settled.
const SETTLE_YIELDS: usize = 64;
/// The most yields a call may take to settle before the adapter gives up (a lost wake-up or a deadlock).
const SETTLE_LIMIT: usize = 100_000;

/// The runtime under test, with the scripted executor's pending runs and the journal of its session.
pub struct RuntimeUnderTest {
    tokio: tokio::runtime::Runtime,
    machine: Arc<MeerkatMachine>,
    journal: Arc<Journal>,
    /// Journal entries already reported.
    reported: usize,
    /// Runs the scripted executor holds, each waiting for its outcome.
    runs: PendingRuns,
    /// Set once the runtime forgot the session (unregistered): what the spec keeps, the runtime no longer has.
    forgotten: bool,
}

/// Records every journal entry of the session under test.
#[derive(Default)]
pub struct Journal {
    entries: Mutex<Vec<DslJournalEntry>>,
}

impl DslCommitObserver for Journal {
    fn committed(&self, session_id: &SessionId, applied: &[DslJournalEntry]) {
        if session_id.as_str() == SESSION {
            self.entries.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(applied);
        }
    }
}

impl Journal {
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn since(&self, start: usize) -> Vec<DslJournalEntry> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(start..).unwrap_or_default().to_vec()
    }
}

/// An executor whose every run waits until the adapter says how it ends.
struct ScriptedExecutor {
    runs: PendingRuns,
}

impl CoreExecutor for ScriptedExecutor {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        let (sender, receiver) = oneshot::channel();
        self.runs.lock().unwrap_or_else(PoisonError::into_inner).push_back(sender);
        Box::pin(async move {
            receiver.await.unwrap_or_else(|_| Err(CoreExecutorError::Failed("the scripted run was dropped".into())))
        })
    }
}

impl RuntimeUnderTest {
    /// A fresh ephemeral runtime.
    ///
    /// # Errors
    ///
    /// The tokio runtime cannot be built.
    pub fn new() -> Result<Self, AdapterError> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| AdapterError(format!("cannot build a tokio runtime: {e}")))?;
        let (machine, journal) = fresh_machine();
        Ok(RuntimeUnderTest { tokio, machine, journal, reported: 0, runs: Arc::default(), forgotten: false })
    }

    fn session() -> SessionId {
        SessionId::new(SESSION)
    }

    /// Lets the loop run until the journal has not grown for [`SETTLE_YIELDS`] yields.
    fn settle(&self) -> Result<(), AdapterError> {
        let journal = Arc::clone(&self.journal);
        self.tokio.block_on(async move {
            let (mut quiet, mut last) = (0, journal.len());
            for _ in 0..SETTLE_LIMIT {
                tokio::task::yield_now().await;
                let now = journal.len();
                if now == last {
                    quiet += 1;
                    if quiet >= SETTLE_YIELDS {
                        return Ok(());
                    }
                } else {
                    (quiet, last) = (0, now);
                }
            }
            Err(AdapterError("the runtime did not settle (a busy loop?)".into()))
        })
    }

    /// The journal entries since the last report, as spec messages.
    fn new_entries(&mut self) -> Result<Vec<Message>, AdapterError> {
        let entries = self.journal.since(self.reported);
        self.reported += entries.len();
        entries.iter().map(entry_message).collect()
    }

    /// Runs one public call, settles, and reports what it applied around `message`.
    fn call<T, E: std::fmt::Debug>(
        &mut self,
        message: &Message,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<Performed, AdapterError> {
        let result = self.tokio.block_on(call);
        self.settle()?;
        let applied = self.new_entries()?;
        split_around(message, applied, result.is_ok())
    }

    /// Ends the scripted executor's oldest pending run as `outcome` says.
    fn finish_run(&mut self, message: &Message, outcome: &dsl::RunOutcome) -> Result<Performed, AdapterError> {
        let pending = self.runs.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
        let Some(run) = pending else {
            return Ok(Performed::Unsupported {
                reason: "no run is in the scripted executor: a run begun without an executor cannot be finished \
                         through the public API"
                    .into(),
            });
        };
        let result = match outcome {
            dsl::RunOutcome::Committed => Ok(RunOutput { boundary_sequence: Some(1) }),
            dsl::RunOutcome::Failed => Err(CoreExecutorError::Failed("scripted failure".into())),
            dsl::RunOutcome::Cancelled => Err(CoreExecutorError::Cancelled("scripted cancellation".into())),
        };
        let _ = run.send(result);
        self.settle()?;
        let applied = self.new_entries()?;
        split_around(message, applied, true)
    }
}

impl Implementation for RuntimeUnderTest {
    fn restart(&mut self) -> Result<(), AdapterError> {
        // Runs still held end as failed when their senders drop with the old machine's loop.
        self.runs.lock().unwrap_or_else(PoisonError::into_inner).clear();
        let (machine, journal) = fresh_machine();
        self.machine = machine;
        self.journal = journal;
        self.reported = 0;
        self.forgotten = false;
        self.settle()
    }

    fn perform(&mut self, message: &Message) -> Result<Performed, AdapterError> {
        if self.forgotten {
            return Ok(unsupported(
                "the runtime forgot the session at `unregister_session`; the spec keeps its state (a finding)",
            ));
        }
        let input = match mirror::MeerkatMachineInput::from_interp(message) {
            Some(input) => to_runtime_input(&input)?,
            None => {
                return match mirror::MeerkatMachineSignal::from_interp(message) {
                    Some(signal) => {
                        let signal: dsl::MeerkatMachineSignal = bridge(&signal)?;
                        let machine = Arc::clone(&self.machine);
                        self.call(message, async move {
                            machine.apply_routed_meerkat_signal(&Self::session(), signal).await
                        })
                    }
                    None => Err(AdapterError("not a MeerkatMachine message".into())),
                };
            }
        };
        let machine = Arc::clone(&self.machine);
        let session = Self::session();
        use dsl::MeerkatMachineInput as I;
        match input {
            I::RegisterSession { session_id } => {
                self.call(message, async move { machine.register_session(SessionId::new(session_id.0)).await })
            }
            I::PrepareBindings { agent_runtime_id, session_id, .. } => self.call(message, async move {
                let runtime = LogicalRuntimeId::new(agent_runtime_id.0);
                machine.prepare_bindings_for_runtime(&SessionId::new(session_id.0), runtime).await.map(|_| ())
            }),
            I::EnsureSessionWithExecutor { session_id } => {
                let executor = Box::new(ScriptedExecutor { runs: Arc::clone(&self.runs) });
                self.call(message, async move {
                    machine.ensure_session_with_executor(SessionId::new(session_id.0), executor).await
                })
            }
            I::BeginUnregisterSession { session_id } => {
                let performed =
                    self.call(message, async move { machine.unregister_session(&SessionId::new(session_id.0)).await })?;
                let machine = Arc::clone(&self.machine);
                if !self.tokio.block_on(async move { machine.contains_session(&session).await }) {
                    self.forgotten = true;
                }
                Ok(performed)
            }
            I::UnregisterSession { .. } => Ok(unsupported(
                "`unregister_session` opens and closes the drain window in one call: `UnregisterSession` comes only \
                 right after `BeginUnregisterSession`",
            )),
            I::SetSilentIntents { session_id, intents } => self.call(message, async move {
                machine.set_session_silent_intents(&SessionId::new(session_id.0), intents.into_iter().collect()).await
            }),
            I::StopRuntimeExecutor { reason } => {
                self.call(message, async move { machine.stop_runtime_executor(&session, reason).await })
            }
            I::Retire { session_id } => {
                self.call(message, async move { machine.retire(&SessionId::new(session_id.0)).await })
            }
            I::Reset { session_id } => {
                self.call(message, async move { machine.reset(&SessionId::new(session_id.0)).await })
            }
            I::Recycle { session_id } => {
                self.call(message, async move { machine.recycle(&SessionId::new(session_id.0)).await })
            }
            I::Destroy { session_id } => {
                self.call(message, async move { machine.destroy(&SessionId::new(session_id.0)).await })
            }
            I::InterruptCurrentRun => self
                .call(message, async move { machine.hard_cancel_current_run(&session, "conformance interrupt").await }),
            I::AcceptInput { input_id } => self.call(message, async move {
                let input = Input::with_id(InputId::new(input_id.0), "conformance input");
                machine.accept_input_with_completion(&session, input).await.map(|_| ())
            }),
            I::FinishRun { outcome, .. } => self.finish_run(message, &outcome),
            // The loop applies a committed run's inputs as it finishes the run.
            I::ApplyInput { .. } => self.finish_run(message, &dsl::RunOutcome::Committed),
            I::StageVisibilityFilter { session_id } => self.call(message, async move {
                let filter = dsl::ToolFilter { mode: dsl::ToolFilterMode::AllowAll, names: Default::default() };
                machine.stage_persistent_filter(&SessionId::new(session_id.0), filter).await
            }),
            I::RequestDeferredTools { session_id, authorities } => self.call(message, async move {
                machine.request_deferred_tools(&SessionId::new(session_id.0), authorities).await
            }),
            I::PublishCommittedVisibleSet {
                session_id,
                active_filter,
                staged_filter,
                active_requested_deferred_names,
                staged_requested_deferred_names,
                active_deferred_authorities,
                staged_deferred_authorities,
                active_visibility_revision,
                staged_visibility_revision,
            } => self.call(message, async move {
                let state = SessionToolVisibilityState {
                    active_filter,
                    staged_filter,
                    active_requested_deferred_names,
                    staged_requested_deferred_names,
                    active_deferred_authorities,
                    staged_deferred_authorities,
                    active_visibility_revision,
                    staged_visibility_revision,
                };
                machine.publish_committed_visible_set(&SessionId::new(session_id.0), state).await
            }),
            I::BeginRun { .. } => Ok(unsupported(
                "runs are begun by the runtime loop, which begins one when it sees queued input with an executor \
                 attached (reached through `AcceptInput` or `EnsureSessionWithExecutor`)",
            )),
            I::RuntimeExecutorExited => Ok(unsupported(
                "the loop's exit is applied by the runtime when a stop, destroy or unregister ends the loop",
            )),
            I::QueueInput { .. }
            | I::StageInput { .. }
            | I::ConsumeInput { .. }
            | I::SupersedeInput { .. }
            | I::CoalesceInput { .. }
            | I::AbandonInput { .. }
            | I::ForgetInput { .. } => Ok(unsupported(
                "ledger inputs are applied by the runtime itself (accepting, the loop's runs, reset, stop and destroy)",
            )),
            pure => {
                // The pure classifications never touch a session's kernel; they are answered on a throwaway
                // copy of a registered session, in any state.
                let scratch = MeerkatMachine::ephemeral();
                self.tokio.block_on(async move {
                    let id = SessionId::new("scratch");
                    scratch.register_session(id.clone()).await.map_err(|e| AdapterError(e.to_string()))?;
                    Ok(match scratch.preview_session_dsl_input(&id, pure).await {
                        Ok(_) => Performed::Accepted { before: Vec::new(), also: Vec::new() },
                        Err(_) => Performed::Refused,
                    })
                })
            }
        }
    }

    fn observe(&mut self) -> Result<Observation, AdapterError> {
        let machine = Arc::clone(&self.machine);
        let state = self.tokio.block_on(async move { machine.session_dsl_state(&Self::session()).await });
        let Ok(state) = state else { return Ok(Observation { phase: None, fields: Vec::new() }) };
        let mirrored: mirror::MeerkatMachineState = bridge(&state)?;
        Ok(Observation::whole(&mirrored.to_interp()))
    }
}

/// A fresh ephemeral machine whose commits of the session under test are journaled.
fn fresh_machine() -> (Arc<MeerkatMachine>, Arc<Journal>) {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let journal = Arc::new(Journal::default());
    machine.set_dsl_commit_observer(Arc::clone(&journal) as Arc<dyn DslCommitObserver>);
    (machine, journal)
}

fn unsupported(reason: &str) -> Performed {
    Performed::Unsupported { reason: reason.to_string() }
}

/// What a call applied, split around `message`: the entries before its first occurrence and those after. A call
/// that applied nothing refused; one whose entries do not hold `message` did something else, which the harness
/// reports as a divergence.
fn split_around(message: &Message, applied: Vec<Message>, ok: bool) -> Result<Performed, AdapterError> {
    if applied.is_empty() {
        return Ok(if ok {
            // An accepted call that changed nothing in the kernel: the spec's no-op transitions (confirmations).
            Performed::Accepted { before: Vec::new(), also: Vec::new() }
        } else {
            Performed::Refused
        });
    }
    match applied.iter().position(|m| m == message) {
        Some(at) => {
            let mut before = applied;
            let also = before.split_off(at + 1);
            before.pop();
            Ok(Performed::Accepted { before, also })
        }
        None if !ok => {
            // The call applied steps (an abandonment before a refused destroy, say) and then refused.
            Ok(Performed::Refused)
        }
        None => Ok(Performed::Substituted { applied }),
    }
}

/// A journal entry as the spec's message, with the runtime's minted values renamed to the model's.
fn entry_message(entry: &DslJournalEntry) -> Result<Message, AdapterError> {
    match entry {
        DslJournalEntry::Input(input) => bridge::<_, mirror::MeerkatMachineInput>(input).map(|i| i.to_interp()),
        DslJournalEntry::Signal(signal) => bridge::<_, mirror::MeerkatMachineSignal>(signal).map(|s| s.to_interp()),
    }
}

/// The mirror kernel's input as the runtime kernel's.
fn to_runtime_input(input: &mirror::MeerkatMachineInput) -> Result<dsl::MeerkatMachineInput, AdapterError> {
    let json = serde_json::to_value(input).map_err(|e| AdapterError(e.to_string()))?;
    serde_json::from_value(json).map_err(|e| AdapterError(e.to_string()))
}

/// A value of one kernel as the same type of the other, through the serde form both derive from the spec, with
/// the runtime's minted values renamed to the model's.
fn bridge<A: serde::Serialize, B: serde::de::DeserializeOwned>(value: &A) -> Result<B, AdapterError> {
    let mut json = serde_json::to_value(value).map_err(|e| AdapterError(e.to_string()))?;
    canonicalize(&mut json);
    serde_json::from_value(json).map_err(|e| AdapterError(e.to_string()))
}

/// Renames what the runtime mints and the model fixes: every run id to `r1`, every fence token and generation to
/// 0 (the model's only values). Ids the adapter chooses (session, inputs, runtime) pass through.
fn canonicalize(json: &mut Json) {
    match json {
        Json::Object(map) => {
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "run_id" | "current_run_id" if value.is_string() => *value = Json::from("r1"),
                    "fence_token" | "active_fence_token" | "generation" | "active_runtime_generation"
                        if value.is_number() =>
                    {
                        *value = Json::from(0)
                    }
                    _ => canonicalize(value),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(canonicalize),
        _ => {}
    }
}
