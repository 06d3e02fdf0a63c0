//! The kernels at the bottom of the crate: what `build.rs` generated from `machines/*.machine`, and the
//! hand-written code that only speaks to a kernel.
//!
//! Each generated module is one `include!` of a file in `OUT_DIR` (plain data types plus a compiled,
//! all-or-nothing `match`); the generated code names only `::std`, `::serde`, `::meerkat_kernel` (the support
//! crate with the kernel API's generic half) and its sibling kernels here.
//! [`glue`] holds the shared-authority type, its lock and the id conversions between the domain and the
//! kernel; [`classify`] asks the kernel every lifecycle and input-projection fact the shell needs. Nothing in
//! this folder imports the shell, its drivers or its handles; the seeds' paths (`meerkat_machine::dsl`,
//! `session_supervisor::dsl`, ...) re-export these modules.

pub mod classify;
pub mod glue;
pub mod meerkat_machine;
pub mod session_supervision;
pub mod session_supervisor;
pub mod traffic_light;
