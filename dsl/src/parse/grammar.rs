//! The pest-derived parser of `grammar.pest`, and the facts about spec text that both halves of parsing share:
//! the keywords, punctuation and reserved words, how deeply a spec may nest, and where the content of a stretch of text ends. Its `Rule` enum stays inside
//! `parse`.

#![allow(missing_docs)]

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(super) struct SpecParser;

/// The reserved words: keywords of the grammar that cannot be names.
pub const RESERVED_WORDS: &[&str] = &[
    "machine",
    "enum",
    "fn",
    "guard",
    "invariant",
    "transition",
    "on",
    "from",
    "any",
    "except",
    "stay",
    "when",
    "otherwise",
    "let",
    "if",
    "else",
    "match",
    "emit",
    "true",
    "false",
    "None",
    "Some",
];

/// Every word the grammar spells out, reserved or contextual (`model`, `property`, `unfired`, ...), in the order
/// the grammar's items introduce them: the list the fuzzers and editor tooling draw on. A test keeps it equal to
/// the word literals of `grammar.pest`.
pub const KEYWORDS: &[&str] = &[
    "machine",
    "composition",
    "route",
    "enum",
    "record",
    "newtype",
    "phases",
    "initial",
    "terminal",
    "state",
    "input",
    "signal",
    "effect",
    "internal",
    "pure",
    "fn",
    "guard",
    "invariant",
    "property",
    "reachable",
    "transition",
    "on",
    "from",
    "any",
    "except",
    "stay",
    "when",
    "otherwise",
    "let",
    "if",
    "else",
    "match",
    "emit",
    "true",
    "false",
    "None",
    "Some",
    "model",
    "depth",
    "domain",
    "unfired",
];

/// Every operator and delimiter the grammar spells out, comment openers included. A test keeps it equal to the
/// punctuation literals of `grammar.pest`.
pub const PUNCTUATION: &[&str] = &[
    "{", "}", "(", ")", "[", "]", "<", ">", ",", ";", ":", "::", ".", "..=", "->", "=>", "=", "==", "!=", "<=", ">=",
    "&&", "||", "!", "+", "-", "*", "/", "%", "+=", "-=", "|", "//", "///", "/*", "*/",
];

/// How deeply expressions and `if` statements may nest. A flat chain is one level however long it is: the
/// operands of `a && b && c`, the links of `x + y - z`, the branches of `if .. else if .. else if ..` all sit at
/// the level of the chain. Hand-written specs stay far below it.
pub(super) const MAX_NESTING: usize = 100;

/// How deep the tree of an expression or statement may be when every link of a chain counts as a level (the
/// tree of `a && b && c` is left-leaning, two deep). Checking, the analyses, the interpreter and code generation
/// all recurse over the tree, so this limit, with [`MAX_NESTING`], keeps each of them within a small stack
/// whatever the input, while chains of hundreds of operands are accepted.
pub(super) const MAX_TREE_DEPTH: usize = 500;

/// The end of the last character of `text` that is neither whitespace nor part of an ordinary comment.
pub(super) fn content_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest, as in the grammar.
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth = depth.saturating_sub(1);
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                // A string literal, escapes included; it cannot span lines.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                end = i;
            }
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    // Stepping over escapes may land inside a multi-byte character; spans must sit on character boundaries.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::content_end;

    #[test]
    fn spans_do_not_cover_trailing_whitespace_or_comments() {
        let text = "a = 1 // note\n  /* block /* nested */ */ \n";
        assert_eq!(content_end(text), 5);
        assert_eq!(content_end("\"x // y\"  "), 8);
        assert_eq!(content_end("   "), 0);
    }

    use std::collections::BTreeSet;

    use super::{KEYWORDS, PUNCTUATION, RESERVED_WORDS};

    /// The string literals of `grammar.pest` that spell a token (no escapes, no whitespace), split into words and
    /// punctuation. Comments are skipped; escapes inside literals are stepped over.
    fn grammar_literals() -> (BTreeSet<String>, BTreeSet<String>) {
        let grammar = include_str!("../grammar.pest");
        let (mut words, mut punctuation) = (BTreeSet::new(), BTreeSet::new());
        for line in grammar.lines().filter(|line| !line.trim_start().starts_with("//")) {
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                if c != '"' {
                    continue;
                }
                let (mut literal, mut plain) = (String::new(), true);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            plain = false;
                            chars.next();
                        }
                        c if c.is_whitespace() => plain = false,
                        c => literal.push(c),
                    }
                }
                if !plain || literal.is_empty() || literal == "_" {
                    continue;
                }
                if literal.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    words.insert(literal);
                } else {
                    punctuation.insert(literal);
                }
            }
        }
        (words, punctuation)
    }

    #[test]
    fn keywords_and_punctuation_are_exactly_the_grammars_literals() {
        let (words, punctuation) = grammar_literals();
        assert_eq!(KEYWORDS.iter().map(|w| w.to_string()).collect::<BTreeSet<_>>(), words);
        assert_eq!(PUNCTUATION.iter().map(|p| p.to_string()).collect::<BTreeSet<_>>(), punctuation);
        assert_eq!(KEYWORDS.len(), words.len(), "KEYWORDS lists a word twice");
        assert_eq!(PUNCTUATION.len(), punctuation.len(), "PUNCTUATION lists a token twice");
    }

    #[test]
    fn every_reserved_word_is_a_keyword() {
        for word in RESERVED_WORDS {
            assert!(KEYWORDS.contains(word), "{word} is reserved but not a keyword of the grammar");
        }
    }
}
