//! The generated kernel of `SessionSupervisor` (`machines/meerkat.machine`), the machine that observes
//! MeerkatMachine sessions through the `SessionSupervision` composition. Public as `session_supervisor::dsl`.

include!(concat!(env!("OUT_DIR"), "/session_supervisor.rs"));
