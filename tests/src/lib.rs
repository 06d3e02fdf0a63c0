//! Shared helpers for the end-to-end tests, and the generated kernels they exercise.
//!
//! `build.rs` compiles every test spec (`../dsl/test_data/ok/*.machine`, `specs/*.machine` and the traffic
//! light) into a kernel with interpreter conversions; [`kernels`] holds one module per machine. Each kernel's
//! authority implements [`Kernel`], a view in the interpreter's terms (states, messages, fired transitions and
//! rejections as `meerkat_dsl::interp` values), so one generic driver ([`differential`]) can run any kernel
//! against the reference interpreter. [`specs`] writes specs parameterised by a size (two-phase commit with
//! `n` resource managers) for tests and benchmarks.

use meerkat_dsl::interp::{Fired, Message, RecoveryRejection, Rejection, State};

pub mod differential;
pub mod specs;
pub mod values;

/// A generated kernel seen through the interpreter's values.
pub trait Kernel: Sized {
    /// A saved state (`MAuthoritySnapshot`).
    type Snapshot;
    /// The machine's name.
    const MACHINE: &'static str;
    /// The spec file the kernel was generated from (absolute path).
    const SPEC: &'static str;

    /// `MAuthority::new()`.
    fn new() -> Self;
    /// `MAuthority::recover_from_state` on the kernel state of `state`; `None` when `state` does not convert.
    fn recover(state: &State) -> Option<Result<Self, Option<RecoveryRejection>>>;
    /// The current state, as the interpreter's.
    fn interp_state(&self) -> State;
    /// Applies the kernel input or signal of `message`; `None` when `message` does not convert. Errors map to
    /// the interpreter's rejection (`None` if the kernel named something the machine does not declare).
    fn apply(&mut self, message: &Message) -> Option<Result<Fired, Option<Rejection>>>;
    /// `MAuthority::snapshot`.
    fn snapshot(&self) -> Self::Snapshot;
    /// `MAuthority::restore_snapshot`.
    fn restore(&mut self, snapshot: Self::Snapshot);
}

/// Implements [`Kernel`] for a generated kernel module (`build.rs` writes one invocation per machine).
#[macro_export]
macro_rules! kernel_impl {
    ($module:ident, $machine:literal, $spec:literal, $authority:ident, $state:ident, $input:ident, $signal:ident,
     $mutator:ident, $snapshot:ident) => {
        impl $crate::Kernel for $module::$authority {
            type Snapshot = $module::$snapshot;
            const MACHINE: &'static str = $machine;
            const SPEC: &'static str = $spec;

            fn new() -> Self {
                $module::$authority::new()
            }

            fn recover(
                state: &::meerkat_dsl::interp::State,
            ) -> Option<Result<Self, Option<::meerkat_dsl::interp::RecoveryRejection>>> {
                let state = $module::$state::from_interp(state)?;
                Some($module::$authority::recover_from_state(state).map_err(|e| e.to_interp_recovery()))
            }

            fn interp_state(&self) -> ::meerkat_dsl::interp::State {
                self.state().to_interp()
            }

            fn apply(
                &mut self,
                message: &::meerkat_dsl::interp::Message,
            ) -> Option<Result<::meerkat_dsl::interp::Fired, Option<::meerkat_dsl::interp::Rejection>>> {
                let result = match message.trigger {
                    ::meerkat_dsl::ir::Trigger::Input(_) => {
                        let input = $module::$input::from_interp(message)?;
                        <$module::$authority as $module::$mutator>::apply(self, input)
                    }
                    ::meerkat_dsl::ir::Trigger::Signal(_) => {
                        let signal = $module::$signal::from_interp(message)?;
                        self.apply_signal(signal)
                    }
                };
                Some(result.map(|t| t.to_interp()).map_err(|e| e.to_interp()))
            }

            fn snapshot(&self) -> Self::Snapshot {
                $module::$authority::snapshot(self)
            }

            fn restore(&mut self, snapshot: Self::Snapshot) {
                self.restore_snapshot(snapshot)
            }
        }
    };
}

/// The generated kernels of the test machines, one module per machine (named in snake case).
pub mod kernels {
    include!(concat!(env!("OUT_DIR"), "/kernels.rs"));
}
