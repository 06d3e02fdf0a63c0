//! Compiles `machines/meerkat.machine` once more, with interpreter conversions, into `OUT_DIR`: the mirror
//! kernel through which the conformance adapter reads the runtime's kernel values (same spec, same serde form)
//! as the reference interpreter's states and messages. A spec that does not check fails the build.

use std::process::ExitCode;

const SPEC: &str = "../machines/meerkat.machine";

fn main() -> ExitCode {
    let mut config = meerkat_codegen::Config::new();
    config
        .interp_conversions(true)
        .machine_path("MeerkatMachine", "crate::mirror::meerkat_machine")
        .machine_path("SessionSupervisor", "crate::mirror::session_supervisor");
    match config.compile(&[SPEC]) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
