//! The session-scoped MeerkatMachine of `machines/meerkat.machine`, and the runtime shell around it.
//!
//! [`MeerkatMachine`] (`machine.rs`) owns the sessions, one generated kernel each, and holds the three things
//! every operation shares: the entry lookups, the per-session mutation gate, and the stage → driver → commit step
//! (`run_session_step`), the only shell code that changes a live session's kernel. Each group of operations has a
//! file holding its public methods: `session` (registration, silent intents, unregistration), `recovery`
//! (building an entry, cold and warm recovery), `control` (retire, reset, recycle, destroy, stop, cancel,
//! interrupt), `ingress` (accepting inputs), `bindings`, `tool_visibility` and `shutdown`. `command` is the command
//! vocabulary and its thin adapter over the same typed methods. Below them sit `entry` (one session's state),
//! `staging` (the all-or-nothing kernel transaction) and `composition` (routing committed effects to the
//! supervisor); above them `supervisor_host`, the supervising side of the composition. Attaching an executor, and
//! the steps its runtime loop asks of the shell, are with the loop in `crate::runtime_loop`.

mod bindings;
mod command;
pub mod composition;
mod control;
pub(crate) mod entry;
mod handle_port;
mod ingress;
pub(crate) mod machine;
mod recovery;
mod session;
mod shutdown;
pub(crate) mod staging;
mod step;
mod supervisor_host;
mod tool_visibility;

/// The generated kernel: `MeerkatMachineAuthority`, `MeerkatMachineMutator`, `MeerkatMachineState`, and the rest
/// of the kernel contract (included at the bottom of the crate, in `crate::kernel`).
pub use crate::kernel::meerkat_machine as dsl;
/// Tool visibility: the committed visible set and its owner (`crate::visibility`).
pub use crate::visibility;

pub use crate::kernel::classify::{
    InputPublicStateProjection, RuntimeClassificationError, RuntimeLifecycleFacts, RuntimeLoopQueueAdmissionPlan,
    VisibleRuntimePhasePlan, authorize_stored_input_state_seed, classify_input_behavioral_terminality,
    classify_runtime_lifecycle_durable_state, classify_runtime_lifecycle_state, classify_runtime_loop_queue_admission,
    resolve_input_public_lifecycle_projection, resolve_input_public_state_projection,
    resolve_input_public_terminal_projection, resolve_visible_runtime_phase,
};
pub use crate::visibility::SessionToolVisibilityState;
pub use command::{
    MeerkatMachineCommand, MeerkatMachineCommandError, MeerkatMachineCommandFuture, MeerkatMachineCommandResult,
};
pub use composition::MeerkatCompositionSignalDispatcher;
pub use machine::{DslCommitObserver, MeerkatMachine};
pub use shutdown::{ShutdownPolicy, ShutdownReport};
pub use staging::DslJournalEntry;
pub use supervisor_host::SessionSupervisorHost;
