//! The formatter: spec text to the house layout (`cargo xtask fmt`, the language server's formatting).
//!
//! Formatting changes only the whitespace between tokens, so it cannot change what a file means, and it keeps
//! every comment and doc comment on the line it was written on. `lex` cuts the text into tokens (comments
//! included), the parser says which `<` and `|` belong to types and closures, and `layout` decides each
//! line's indentation and each gap's spacing from the tokens alone, so formatting a formatted file changes
//! nothing. Before it returns, [`format`] re-reads its output and refuses to hand back text whose tokens differ
//! from the input's.
//!
//! ```
//! let formatted = meerkat_dsl::format::format("machine Door{phases{initial Closed,Open}}").expect("it parses");
//! assert_eq!(formatted, "machine Door { phases { initial Closed, Open } }\n");
//! ```

mod layout;
pub mod lex;

use crate::diagnostic::Diagnostic;
use crate::span::SourceId;

use layout::Role;

/// Why a file was not formatted.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file does not parse: the formatter lays out only files it understands.
    #[error("the file does not parse ({} syntax {})", .0.len(), if .0.len() == 1 { "error" } else { "errors" })]
    Syntax(Vec<Diagnostic>),
    /// The formatter's output would not read back as the same tokens (a bug in the formatter, reported rather
    /// than written).
    #[error("formatting would change the file's tokens at byte {offset}; the file was left as it is")]
    TokensChanged {
        /// Byte offset in the input of the first token that would change.
        offset: usize,
    },
}

/// Formats one spec file.
pub fn format(text: &str) -> Result<String, FormatError> {
    crate::parse::parse(text, SourceId(0)).map_err(FormatError::Syntax)?;
    let (tokens, roles) = tokens_and_roles(text)?;
    let formatted = layout::layout(&tokens, &roles);
    let (relexed, _) = tokens_and_roles(&formatted)?;
    let changed = tokens.iter().zip(&relexed).position(|(a, b)| (a.kind, a.text) != (b.kind, b.text));
    match changed {
        Some(index) => Err(FormatError::TokensChanged { offset: tokens[index].start }),
        None if tokens.len() != relexed.len() => Err(FormatError::TokensChanged { offset: text.len() }),
        None => Ok(formatted),
    }
}

/// Whether `text` is formatted: `format(text)` would return it unchanged.
pub fn is_formatted(text: &str) -> Result<bool, FormatError> {
    Ok(format(text)? == text)
}

/// The tokens of a file that parses, with their roles. A file that parses lexes and has roles, so the errors
/// here only keep the function total.
fn tokens_and_roles(text: &str) -> Result<(Vec<lex::Token<'_>>, Vec<Role>), FormatError> {
    let roles = crate::parse::syntax_roles(text).ok_or(FormatError::TokensChanged { offset: 0 })?;
    let lexed = lex::lex(text).map_err(|e| FormatError::TokensChanged { offset: e.offset })?;
    let in_type = |at: usize| roles.types.iter().any(|s| s.start <= at && at < s.end);
    // `Seq<u64>= []` lexes as `>=`, but its `>` closes the type: split it so the layout can space the `=`.
    let mut tokens = Vec::with_capacity(lexed.len());
    for token in lexed {
        if token.text == ">=" && in_type(token.start) {
            tokens.push(lex::Token { text: &token.text[..1], ..token });
            tokens.push(lex::Token { text: &token.text[1..], start: token.start + 1, newlines_before: 0, ..token });
        } else {
            tokens.push(token);
        }
    }
    let mut result = vec![Role::Plain; tokens.len()];
    for (i, token) in tokens.iter().enumerate() {
        if matches!(token.text, "<" | ">") && in_type(token.start) {
            result[i] = Role::TypeAngle;
        }
    }
    for closure in &roles.closures {
        let mut bars = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| t.text == "|" && closure.start <= t.start && t.start < closure.end);
        if let Some((open, _)) = bars.next() {
            result[open] = Role::ClosureOpen;
        }
        if let Some((close, _)) = bars.next() {
            result[close] = Role::ClosureClose;
        }
    }
    Ok((tokens, result))
}

#[cfg(test)]
mod tests;
