//! No input makes the front end panic or overflow its stack, and every diagnostic it reports points inside the
//! file it was given.
//!
//! Three kinds of input: arbitrary strings; ASCII soups of the language's own keywords, names, literals and
//! punctuation (which get much further into the grammar than random bytes); and valid specs (the `ok` fixtures and
//! `machines/*.machine`) mutated token by token — deleted, duplicated, swapped, truncated and with random tokens
//! inserted — which exercise the checker and the analyses on almost-right specs. For every input, every
//! diagnostic's primary and secondary spans satisfy `start <= end <= len` on character boundaries, and rendering
//! them does not panic either.
//!
//! The default numbers of cases keep the test to a few seconds in a debug build (checking a broken copy of the
//! largest spec costs a few hundred milliseconds there); `PROPTEST_CASES=N` runs N cases of every property.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::path::Path;
use std::sync::OnceLock;

use meerkat_dsl::{Diagnostic, RenderOptions, Span, check_source};
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// Checks `text`, asserting that every span of every diagnostic lies within it; renders the diagnostics too.
fn check_spans(text: &str) -> Result<(), TestCaseError> {
    let options = RenderOptions { width: 100, colour: false };
    let (diagnostics, rendered): (Vec<Diagnostic>, String) = match check_source("fuzz.machine", text) {
        Ok(package) => {
            let rendered = package.render_warnings(options);
            (package.warnings.into_vec(), rendered)
        }
        Err(error) => {
            let rendered = error.render(options);
            prop_assert!(error.diagnostics.has_errors(), "a failed check reports at least one error");
            (error.diagnostics.into_vec(), rendered)
        }
    };
    for diagnostic in &diagnostics {
        let labels = std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary);
        for label in labels {
            let Span { start, end } = label.span;
            prop_assert!(
                start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end),
                "{} `{}`: label `{}` has span {start}..{end} in a text of {} bytes",
                diagnostic.code,
                diagnostic.message,
                label.message,
                text.len()
            );
        }
    }
    prop_assert!(diagnostics.is_empty() || !rendered.is_empty());
    Ok(())
}

/// What the soups mix in beyond the grammar's own keywords and punctuation (`meerkat_dsl::parse::KEYWORDS`,
/// `PUNCTUATION`): built-in type and method names, edge numbers, stray quotes, escapes and whitespace.
const EXTRAS: &[&str] = &[
    "self",
    "source",
    "phase",
    "u64",
    "bool",
    "String",
    "Phase",
    "Option",
    "Set",
    "Map",
    "Seq",
    "len",
    "insert",
    "push",
    "all",
    "count",
    "contains",
    "_",
    "\"",
    "\\",
    "0",
    "1",
    "18446744073709551616",
    " ",
    "\n",
    "\t",
];

/// Every token a soup draws from.
fn vocabulary() -> Vec<&'static str> {
    meerkat_dsl::parse::KEYWORDS.iter().chain(meerkat_dsl::parse::PUNCTUATION).chain(EXTRAS).copied().collect()
}

/// One token of the ASCII soup.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vocabulary()).prop_map(str::to_string),
        2 => "[A-Za-z_][A-Za-z0-9_]{0,6}",
        1 => "[0-9_]{1,22}",
        1 => "\"([ -!#-\\[\\]-~]|\\\\[nrt0\\\\\"q])*\"?",
        1 => "[ \t\n]{1,3}",
        1 => any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(token(), 0..80).prop_map(|tokens| tokens.join(" "))
}

/// A soup inside a machine with phases, so the tokens land among machine items.
fn soup_in_machine() -> impl Strategy<Value = String> {
    soup().prop_map(|body| format!("machine M {{\n    phases {{ initial A, B, terminal C }}\n    {body}\n}}\n"))
}

/// The valid specs to mutate: the `ok` fixtures and the workspace's machines.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [root.join("test_data/ok"), root.join("../machines")] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "machine") {
                    files.push(std::fs::read_to_string(&path).expect("spec is readable"));
                }
            }
        }
        files.sort();
        assert!(!files.is_empty(), "no specs to mutate");
        files
    })
}

/// Splits spec text into tokens that concatenate back to it: names and numbers, strings, comments, whitespace
/// runs, two- and three-character operators, and single characters.
fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len())
        } else if c.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len())
        } else if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if c == '"' {
            rest[1..].find('"').map_or(rest.len(), |i| i + 2)
        } else if rest.starts_with("..=") {
            3
        } else if ["->", "=>", "::", "==", "!=", "<=", ">=", "&&", "||", "+=", "-="]
            .iter()
            .any(|op| rest.starts_with(op))
        {
            2
        } else {
            c.len_utf8()
        };
        tokens.push(rest[..len].to_string());
        rest = &rest[len..];
    }
    tokens
}

/// One edit of a token list.
#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Insert(Index, String),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<Index>().prop_map(Mutation::Delete),
        2 => any::<Index>().prop_map(Mutation::Duplicate),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        3 => (any::<Index>(), token()).prop_map(|(at, token)| Mutation::Insert(at, token)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(tokens: &mut Vec<String>, mutation: &Mutation) {
    if tokens.is_empty() {
        if let Mutation::Insert(_, token) = mutation {
            tokens.push(token.clone());
        }
        return;
    }
    match mutation {
        Mutation::Delete(at) => {
            tokens.remove(at.index(tokens.len()));
        }
        Mutation::Duplicate(at) => {
            let at = at.index(tokens.len());
            tokens.insert(at, tokens[at].clone());
        }
        Mutation::Swap(a, b) => {
            let (a, b) = (a.index(tokens.len()), b.index(tokens.len()));
            tokens.swap(a, b);
        }
        Mutation::Insert(at, token) => tokens.insert(at.index(tokens.len() + 1), token.clone()),
        Mutation::Truncate(at) => tokens.truncate(at.index(tokens.len())),
    }
}

/// `cases` cases, or `PROPTEST_CASES` when it is set.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_strings_do_not_panic(text in any::<String>()) {
        check_spans(&text)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn keyword_soups_do_not_panic(text in prop_oneof![soup(), soup_in_machine()]) {
        check_spans(&text)?;
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn mutated_specs_do_not_panic(
        file in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let corpus = corpus();
        let mut tokens = tokenize(&corpus[file.index(corpus.len())]);
        for mutation in &mutations {
            apply(&mut tokens, mutation);
        }
        check_spans(&tokens.concat())?;
    }

    #[test]
    fn specs_truncated_anywhere_do_not_panic(file in any::<Index>(), at in any::<Index>()) {
        let corpus = corpus();
        let text = &corpus[file.index(corpus.len())];
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        check_spans(&text[..cut])?;
    }
}

#[test]
fn tokenize_round_trips_the_corpus() {
    for text in corpus() {
        assert_eq!(&tokenize(text).concat(), text);
    }
}

#[test]
fn the_corpus_checks_cleanly() {
    // Mutations are only interesting when they start from specs that are right.
    for text in corpus() {
        assert!(check_source("corpus.machine", text.as_str()).is_ok(), "a corpus spec fails to check:\n{text}");
    }
}

/// Input nested far beyond any real spec is an error, not a stack overflow: the parser gives up, or the front
/// end reports the nesting limit, before any recursive pass runs out of stack.
#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    let deep = 5_000;
    let expressions = [
        format!("{}true{}", "(".repeat(deep), ")".repeat(deep)),
        format!("{}true", "!".repeat(deep)),
        vec!["true"; deep].join(" && "),
        format!("{} > 0", vec!["1"; deep].join(" + ")),
        format!("r{} == r", ".a".repeat(deep)),
        format!("{}1{} != None", "Some(".repeat(deep), ")".repeat(deep)),
        format!("{}true{}", "if true { true } else { ".repeat(deep), " }".repeat(deep)),
    ];
    for expression in expressions {
        let text = format!(
            "machine M {{ record R {{ a: u64 }} phases {{ initial A }} state {{ r: R = R {{ a: 0 }} }} \
             invariant i = {expression} }}"
        );
        let error = check_source("deep.machine", text).expect_err("nesting this deep is rejected");
        assert!(error.diagnostics.iter().all(|d| d.code == meerkat_dsl::Code::Syntax), "{error}");
    }
    let body = format!("{}x = 1;{}", "if true { ".repeat(deep), " }".repeat(deep));
    let text = format!(
        "machine M {{ phases {{ initial A }} state {{ x: u64 = 0 }} input Go on Go from A -> stay {{ {body} }} }}"
    );
    assert!(check_source("deep.machine", text).is_err());
}
