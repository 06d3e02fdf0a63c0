//! The generated kernel of `MeerkatMachine` (`machines/meerkat.machine`): `MeerkatMachineAuthority`,
//! `MeerkatMachineMutator`, `MeerkatMachineState` and the rest of the kernel contract. Public as
//! `meerkat_machine::dsl`.

include!(concat!(env!("OUT_DIR"), "/meerkat_machine.rs"));
