//! The generated routing of composition `SessionSupervision`: `route_meerkat_machine_effect` lifts a
//! MeerkatMachine effect into the SessionSupervisor messages its routes deliver, and
//! `route_session_supervisor_effect` the way back. Public as `session_supervision`.

include!(concat!(env!("OUT_DIR"), "/session_supervision.rs"));
