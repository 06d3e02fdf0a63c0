//! The MeerkatMachine runtime.
//!
//! The state machines themselves are generated: `build.rs` compiles the specs in `machines/` into kernels (plain
//! data types plus a compiled, all-or-nothing `match`), and each `<machine>::dsl` module below includes one. Around
//! the MeerkatMachine kernel this crate builds the tokio shell the seeds describe: [`meerkat_machine::MeerkatMachine`]
//! owns the sessions (one generated authority each, shared by the session's driver, runtime loop and handles),
//! stages every change in the kernel before it mutates a driver, and runs one runtime loop per attached executor.
//!
//! Module map: [`identifiers`], [`runtime_state`], [`input`] and [`completion`] are the domain vocabulary;
//! [`epoch`] holds runtime epochs and the opaque [`epoch::SessionRuntimeBindings`]; [`executor`] the executor seam;
//! [`store`] the persistence seam with its in-memory implementation; [`driver`] the per-session drivers;
//! [`runtime_loop`] the loop; [`handles`] the handle authority and the handle types; [`meerkat_machine`] the shell.

/// The session-scoped MeerkatMachine of `machines/meerkat.machine`, and the runtime shell around it.
pub mod meerkat_machine {
    /// The generated kernel: `MeerkatMachineAuthority`, `MeerkatMachineMutator`, `MeerkatMachineState`, and the
    /// rest of the kernel contract.
    pub mod dsl {
        include!(concat!(env!("OUT_DIR"), "/meerkat_machine.rs"));
    }

    // The hand-written shell lives next to the generated kernel, in `src/meerkat_machine/`.
    mod classify;
    mod command;
    pub mod composition;
    mod dispatch_control;
    mod dispatch_ingress;
    mod dispatch_session;
    pub(crate) mod dsl_authority;
    mod entry;
    mod machine;
    pub(crate) mod session_management;
    mod staging;
    pub mod visibility;

    pub use classify::{
        InputPublicStateProjection, RuntimeClassificationError, RuntimeLifecycleFacts, RuntimeLoopQueueAdmissionPlan,
        VisibleRuntimePhasePlan, authorize_stored_input_state_seed, classify_input_behavioral_terminality,
        classify_runtime_lifecycle_durable_state, classify_runtime_lifecycle_state,
        classify_runtime_loop_queue_admission, resolve_input_public_lifecycle_projection,
        resolve_input_public_state_projection, resolve_input_public_terminal_projection, resolve_visible_runtime_phase,
    };
    pub use command::{MeerkatMachineCommand, MeerkatMachineCommandError, MeerkatMachineCommandResult};
    pub use composition::{MeerkatCompositionSignalDispatcher, SessionSupervisorHost};
    pub use machine::{DslCommitObserver, DslJournalEntry, MeerkatMachine, MeerkatMachineCommandFuture};
    pub use visibility::SessionToolVisibilityState;
}

/// The supervisor that observes MeerkatMachine sessions through the `SessionSupervision` composition.
pub mod session_supervisor {
    /// The generated kernel of `SessionSupervisor`.
    pub mod dsl {
        include!(concat!(env!("OUT_DIR"), "/session_supervisor.rs"));
    }
}

/// The generated routing of composition `SessionSupervision`: `route_meerkat_machine_effect` lifts a
/// MeerkatMachine effect into the SessionSupervisor messages its routes deliver.
pub mod session_supervision {
    include!(concat!(env!("OUT_DIR"), "/session_supervision.rs"));
}

/// The pedestrian crossing of `machines/traffic_light.machine`.
pub mod traffic_light {
    /// The generated kernel: `TrafficLightAuthority`, `TrafficLightMutator`, `TrafficLightState`, and the rest
    /// of the kernel contract.
    pub mod dsl {
        include!(concat!(env!("OUT_DIR"), "/traffic_light.rs"));
    }
}

pub mod completion;
pub mod driver;
pub mod epoch;
pub mod executor;
pub mod handles;
pub mod identifiers;
pub mod input;
pub mod runtime_loop;
pub mod runtime_state;
pub mod store;
pub mod traits;

pub use completion::{CompletionHandle, CompletionOutcome};
pub use epoch::{EpochCursorSnapshot, EpochCursorState, RuntimeEpochId, SessionRuntimeBindings};
pub use executor::{
    CoreExecutor, CoreExecutorBoundaryHandle, CoreExecutorError, CoreExecutorInterruptHandle, RunOutput, RunRequest,
};
pub use identifiers::{BoxFuture, InputId, LogicalRuntimeId, RunId, SessionId};
pub use input::{AcceptOutcome, Input, InputAbandonReason, InputLifecycleState, InputStateSeed, InputTerminalOutcome};
pub use meerkat_machine::MeerkatMachine;
pub use runtime_state::RuntimeState;
pub use store::{InMemoryRuntimeStore, RuntimeStore, RuntimeStoreError};
pub use traits::{
    DestroyReport, RecoveryReport, RecycleReport, ResetReport, RetireReport, RuntimeBindingsError,
    RuntimeControlPlaneError, RuntimeDriverError,
};
