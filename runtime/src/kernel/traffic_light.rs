//! The generated kernel of the pedestrian crossing (`machines/traffic_light.machine`): `TrafficLightAuthority`,
//! `TrafficLightMutator`, `TrafficLightState` and the rest of the kernel contract. Public as
//! `traffic_light::dsl`.

include!(concat!(env!("OUT_DIR"), "/traffic_light.rs"));
