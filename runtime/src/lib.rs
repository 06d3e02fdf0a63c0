//! The MeerkatMachine runtime.
//!
//! The state machines themselves are generated: `build.rs` compiles the specs in `machines/` into kernels (plain
//! data types plus a compiled, all-or-nothing `match`), and each `<machine>::dsl` module below includes one.

/// The pedestrian crossing of `machines/traffic_light.machine`.
pub mod traffic_light {
    /// The generated kernel: `TrafficLightAuthority`, `TrafficLightMutator`, `TrafficLightState`, and the rest
    /// of the kernel contract.
    pub mod dsl {
        include!(concat!(env!("OUT_DIR"), "/traffic_light.rs"));
    }
}
