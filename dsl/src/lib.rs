//! Front end of the machine spec language: the pest grammar, the spanned AST, the type checker and analyses
//! that turn spec files into [`CheckedMachine`]s, the diagnostics they report, the IR toolkit (the walker
//! [`ir::visit`] and the printer [`print`](mod@print)), and the reference interpreter.
//!
//! This crate knows nothing about Rust syntax or tokio and does no file IO: it takes source text with a
//! display name and returns checked machines or diagnostics.
//!
//! ```
//! let package = meerkat_dsl::check_source(
//!     "door.machine",
//!     "machine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
//! )
//! .expect("the spec checks");
//! assert_eq!(package.machines[0].name, "Door");
//! ```

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod explore;
pub mod format;
pub mod interp;
pub mod ir;
pub mod parse;
pub mod print;
pub mod span;

pub use check::{
    CheckError, CheckedMachine, CheckedPackage, check_package, check_package_keeping_asts, check_source,
    check_source_keeping_ast,
};
pub use diagnostic::{Code, Diagnostic, Diagnostics, RenderOptions, Severity, render_finding};
pub use span::{Source, SourceId, Span};
