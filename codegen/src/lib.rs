//! Back ends of the machine spec language: each takes a [`meerkat_dsl::CheckedMachine`] and returns text.
//!
//! - [`generate_rust`]: the Rust kernel of a machine (data types plus a compiled `match`, over the support crate
//!   `meerkat-kernel`), formatted with `prettyplease`;
//! - [`diagram`], [`reference`], [`schema`]: the Mermaid diagram, the Markdown reference page and the JSON
//!   Schema, gathered per package by [`artifacts()`];
//! - [`generate_composition`]: the routing code of a composition (effects of one machine lifted into inputs or
//!   signals of another);
//! - [`Config`]: the prost-build-style front end for `build.rs` files, which checks spec files as one package and
//!   writes each machine's kernel into `OUT_DIR`.
//!
//! Generation is pure and cannot fail: a checked machine has passed every check. Only [`Config::compile`] touches
//! the file system.

pub mod artifacts;
pub mod composition;
mod config;
pub mod diagram;
pub mod reference;
pub mod rust;
pub mod schema;

pub use artifacts::artifacts;
pub use composition::{CompositionOptions, generate_composition};
pub use config::{Config, Error};
pub use rust::{RustOptions, generate_rust};
