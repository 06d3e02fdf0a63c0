//! The formatter's tokens: spec text cut into words, numbers, strings, punctuation and comments, each with the
//! number of line breaks before it. Comments are tokens here (the grammar skips them) because the formatter
//! must put every one of them back where it was. The language server reads names from the same tokens.

/// What a token is, as far as layout cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A name or a keyword.
    Word,
    /// An integer literal.
    Int,
    /// A string literal, quotes included.
    Str,
    /// An operator or a bracket.
    Punct,
    /// A `///` doc comment, to the end of its line.
    DocComment,
    /// A `//` comment, to the end of its line.
    LineComment,
    /// A `/* */` comment, which may span lines and nest.
    BlockComment,
}

/// One token of a spec file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind,
    /// Its text; for line and doc comments without trailing whitespace.
    pub text: &'a str,
    /// Byte offset of its first character.
    pub start: usize,
    /// How many line breaks the whitespace before it holds.
    pub newlines_before: usize,
}

impl Token<'_> {
    /// Whether the token is a comment of any kind.
    pub fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::DocComment | TokenKind::LineComment | TokenKind::BlockComment)
    }
}

/// Operators of more than one character, longest first so that `..=` wins over `.`.
const LONG_PUNCT: &[&str] = &["..=", "::", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-="];
const SHORT_PUNCT: &str = "{}()[]<>,;:.=+-*/%!|";

/// A character no token of the language starts with, at this byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexError {
    /// Byte offset of the character.
    pub offset: usize,
}

/// Cuts `text` into tokens.
pub fn lex(text: &str) -> Result<Vec<Token<'_>>, LexError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut newlines = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            newlines += usize::from(c == b'\n');
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let (kind, len) = if rest.starts_with("//") {
            let len = rest.find('\n').unwrap_or(rest.len());
            let is_doc = rest.starts_with("///") && !rest.starts_with("////");
            (if is_doc { TokenKind::DocComment } else { TokenKind::LineComment }, len)
        } else if rest.starts_with("/*") {
            (TokenKind::BlockComment, block_comment_len(rest))
        } else if c == b'"' {
            (TokenKind::Str, string_len(rest))
        } else if c.is_ascii_alphabetic() || c == b'_' {
            (TokenKind::Word, rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count())
        } else if c.is_ascii_digit() {
            (TokenKind::Int, rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'_').count())
        } else if let Some(op) = LONG_PUNCT.iter().find(|op| rest.starts_with(**op)) {
            (TokenKind::Punct, op.len())
        } else if SHORT_PUNCT.as_bytes().contains(&c) {
            (TokenKind::Punct, 1)
        } else {
            return Err(LexError { offset: i });
        };
        let mut token_text = &text[i..i + len];
        if matches!(kind, TokenKind::DocComment | TokenKind::LineComment) {
            token_text = token_text.trim_end();
        }
        tokens.push(Token { kind, text: token_text, start: i, newlines_before: newlines });
        newlines = 0;
        i += len;
    }
    Ok(tokens)
}

/// The length of the (possibly nested) block comment `text` starts with, or of the rest when it is not closed.
fn block_comment_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The length of the string literal `text` starts with, escapes included; a string ends at a line break.
fn string_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    let mut end = (i + 1).min(bytes.len());
    // Stepping over an escape may land inside a multi-byte character.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_comments_and_count_line_breaks() {
        let text = "a.b..=1 // c \n\n/// d\n/* e /* f */ */ \"g\\\"\" >= x";
        let tokens = lex(text).unwrap_or_default();
        let texts: Vec<&str> = tokens.iter().map(|t| t.text).collect();
        assert_eq!(texts, ["a", ".", "b", "..=", "1", "// c", "/// d", "/* e /* f */ */", "\"g\\\"\"", ">=", "x"]);
        let breaks: Vec<usize> = tokens.iter().map(|t| t.newlines_before).collect();
        assert_eq!(breaks, [0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0]);
        assert_eq!(tokens[6].kind, TokenKind::DocComment);
        assert_eq!(lex("a # b"), Err(LexError { offset: 2 }));
    }
}
