//! The MeerkatMachine runtime.
//!
//! The state machines themselves are generated: `build.rs` compiles the specs in `machines/` into kernels (plain
//! data types plus a compiled, all-or-nothing `match`), which the crate includes at its bottom, in `kernel/`. Around
//! the MeerkatMachine kernel this crate builds the tokio shell the seeds describe: [`meerkat_machine::MeerkatMachine`]
//! owns the sessions (one generated authority each, shared by the session's driver, runtime loop and handles),
//! stages every change in the kernel before it mutates a driver, and runs one runtime loop per attached executor.
//!
//! Module map, from the bottom up (each module imports only earlier ones; `ARCHITECTURE.md` has the details):
//! the generated kernels (in the private `kernel`, public as each machine's `dsl` module) and the domain
//! vocabulary [`identifiers`], [`runtime_state`], [`input`], [`visibility`] and [`completion`], with `kernel`'s
//! glue and classification helpers between the two; [`error`] holds the typed errors, [`executor`] the executor seam,
//! [`options`] the per-session bounds and [`observability`] the exported counters;
//! [`handles`] the handle door and the handle types; [`epoch`] runtime epochs and the opaque
//! [`epoch::SessionRuntimeBindings`]; [`report`] what control commands report; [`store`] the persistence seam
//! with its in-memory implementation, and [`sqlite_store`] the durable one on a SQLite file; [`driver`] the
//! per-session drivers; [`meerkat_machine`] the shell; and [`runtime_loop`] executor attachment, the loop, and
//! the steps it asks of the shell.

mod kernel;

pub mod completion;
pub mod driver;
pub mod epoch;
pub mod error;
pub mod executor;
pub mod handles;
pub mod identifiers;
pub mod input;
pub mod meerkat_machine;
pub mod observability;
pub mod options;
pub mod report;
pub mod runtime_loop;
pub mod runtime_state;
pub mod sqlite_store;
pub mod store;
pub mod visibility;

/// The supervisor that observes MeerkatMachine sessions through the `SessionSupervision` composition.
pub mod session_supervisor {
    /// The generated kernel of `SessionSupervisor`.
    pub use crate::kernel::session_supervisor as dsl;
}

/// The generated routing of composition `SessionSupervision`: `route_meerkat_machine_effect` lifts a
/// MeerkatMachine effect into the SessionSupervisor messages its routes deliver.
pub use kernel::session_supervision;

/// The pedestrian crossing of `machines/traffic_light.machine`.
pub mod traffic_light {
    /// The generated kernel: `TrafficLightAuthority`, `TrafficLightMutator`, `TrafficLightState`, and the rest
    /// of the kernel contract.
    pub use crate::kernel::traffic_light as dsl;
}

pub use completion::{CompletionHandle, CompletionOutcome};
pub use epoch::{EpochCursorSnapshot, EpochCursorState, RuntimeBindingsError, RuntimeEpochId, SessionRuntimeBindings};
pub use error::{BackpressureBound, IdKind, KernelRejection, RuntimeControlPlaneError, RuntimeDriverError};
pub use executor::{
    CoreExecutor, CoreExecutorBoundaryHandle, CoreExecutorError, CoreExecutorInterruptHandle, RunOutput, RunRequest,
};
pub use identifiers::{BoxFuture, InputId, LogicalRuntimeId, RunId, SessionId};
pub use input::{AcceptOutcome, Input, InputAbandonReason, InputLifecycleState, InputStateSeed, InputTerminalOutcome};
pub use meerkat_machine::MeerkatMachine;
pub use observability::{RejectionReason, RuntimeCounters, RuntimeCountersSnapshot};
pub use options::RuntimeOptions;
pub use report::{DestroyReport, RecoveryReport, RecycleReport, ResetReport, RetireReport, UnregisterReport};
pub use runtime_state::RuntimeState;
pub use sqlite_store::{SqliteDurability, SqliteRuntimeStore, SqliteStoreOptions, StoreRowCounts, StoreWriteStats};
pub use store::{InMemoryRuntimeStore, RuntimeStore, RuntimeStoreError};
