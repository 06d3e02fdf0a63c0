//! Compiles the machine specs the runtime uses into kernel sources in `OUT_DIR` (one `<snake_case_name>.rs` per
//! machine, rewritten only when it changes), which `src/lib.rs` includes. A spec that does not check fails the
//! build with its diagnostics, located and rendered as `cargo xtask check` prints them.

use std::process::ExitCode;

/// The specs compiled into the runtime, checked together as one package. `machines/` holds more specs than the
/// runtime uses; each is added here when the runtime starts using it (`meerkat.machine` becomes
/// `meerkat_runtime::meerkat_machine::dsl`).
const MACHINES: &[&str] = &["../machines/meerkat.machine", "../machines/traffic_light.machine"];

fn main() -> ExitCode {
    match meerkat_codegen::Config::new().compile(MACHINES) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
