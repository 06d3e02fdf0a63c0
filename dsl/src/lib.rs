//! Front end of the machine spec language.
pub mod ast;
pub mod diagnostic;
pub mod parse;
pub mod span;
