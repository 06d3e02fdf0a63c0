//! The MeerkatMachine kernel compiled once more from `machines/meerkat.machine`, with interpreter conversions
//! (`build.rs`): the same types and serde form as the runtime's kernel, plus `to_interp` / `from_interp`.

include!(concat!(env!("OUT_DIR"), "/meerkat_machine.rs"));
