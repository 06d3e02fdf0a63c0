//! Compiles the machine specs the runtime uses into kernel sources in `OUT_DIR` (one `<snake_case_name>.rs` per
//! machine, rewritten only when it changes), which the modules of `src/kernel/` include. A spec that does not
//! check fails the build with its diagnostics, located and rendered as `cargo xtask check` prints them.

use std::process::ExitCode;

/// The specs compiled into the runtime, checked together as one package. `machines/` holds more specs than the
/// runtime uses; each is added here when the runtime starts using it (`meerkat.machine` becomes
/// `crate::kernel::meerkat_machine`, public as `meerkat_runtime::meerkat_machine::dsl`).
const MACHINES: &[&str] = &["../machines/meerkat.machine", "../machines/traffic_light.machine"];

fn main() -> ExitCode {
    let mut config = meerkat_codegen::Config::new();
    // The generated composition routing names the kernels where `src/kernel/` includes them, so it points down
    // the crate rather than up through the shell's re-exports.
    config
        .machine_path("MeerkatMachine", "crate::kernel::meerkat_machine")
        .machine_path("SessionSupervisor", "crate::kernel::session_supervisor");
    match config.compile(MACHINES) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
