//! The formatter against every spec in the repository: formatting never changes what a spec means (the same
//! diagnostics, the same generated artifacts), and a property test re-spaces each spec at random (indentation,
//! spaces around brackets and separators, blank lines, trailing whitespace) and holds the formatter to one
//! output for all of them, which is also its own fixed point.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::path::{Path, PathBuf};

use meerkat_dsl::format::format;
use meerkat_dsl::{Source, check_package};
use proptest::prelude::*;

/// Every spec of the repository that parses: `(name, text)`, Markdown examples included.
fn corpus() -> &'static [(String, String)] {
    static CORPUS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(read_corpus)
}

fn read_corpus() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut specs = Vec::new();
    for dir in ["machines", "tests/specs", "dsl/test_data/ok", "dsl/test_data/err", "tests/ui"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("a spec folder is readable")
            .map(|entry| entry.expect("a spec folder lists").path())
            .filter(|path| path.extension().is_some_and(|e| e == "machine"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("a spec is readable");
            let name = format!("{dir}/{}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
            specs.push((name, text));
        }
    }
    let markdown = std::fs::read_to_string(root.join("docs/language.md")).expect("the language reference reads");
    let mut block: Option<(usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        match &mut block {
            None if line.trim_start().starts_with("```machine") => block = Some((index + 2, String::new())),
            Some(_) if line.trim_start().starts_with("```") => {
                if let Some((start, text)) = block.take() {
                    specs.push((format!("docs/language.md:{start}"), text));
                }
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    // Error fixtures that do not parse are not the formatter's: it refuses them, which `dsl` tests.
    specs.retain(|(_, text)| format(text).is_ok());
    assert!(specs.len() > 60, "the corpus lost its specs: {}", specs.len());
    specs
}

/// What checking a package says, without positions that depend on spacing: each diagnostic's code, message
/// and line, and every generated artifact when it checks.
fn meaning(sources: Vec<Source>) -> (Vec<String>, Vec<(PathBuf, String)>) {
    let paths: Vec<PathBuf> = sources.iter().map(|s| PathBuf::from(&s.name)).collect();
    let line = |sources: &[Source], d: &meerkat_dsl::Diagnostic| {
        sources.get(d.source.0 as usize).map_or(0, |s| s.line_col(d.primary.span.start).0)
    };
    match check_package(sources) {
        Ok(package) => {
            let warnings =
                package.warnings.iter().map(|d| format!("{} {} {}", d.code, line(&package.sources, d), d.message));
            let warnings = warnings.collect();
            let artifacts = meerkat_codegen::artifacts::artifacts(&package, &paths);
            (warnings, artifacts.into_iter().collect())
        }
        Err(error) => {
            let diagnostics =
                error.diagnostics.iter().map(|d| format!("{} {} {}", d.code, line(&error.sources, d), d.message));
            (diagnostics.collect(), Vec::new())
        }
    }
}

#[test]
fn formatting_keeps_what_every_spec_means() {
    let corpus = corpus();
    let (machines, others): (Vec<_>, Vec<_>) = corpus.iter().partition(|(name, _)| name.starts_with("machines/"));
    // `machines/` is one package (`cargo xtask regen`); every other spec stands alone.
    let mut packages: Vec<Vec<&(String, String)>> = vec![machines];
    packages.extend(others.into_iter().map(|spec| vec![spec]));
    for package in packages {
        let before: Vec<Source> =
            package.iter().map(|(name, text)| Source::new(name.as_str(), text.as_str())).collect();
        let after: Vec<Source> = package
            .iter()
            .map(|(name, text)| Source::new(name.as_str(), format(text).expect("the corpus formats")))
            .collect();
        let names: Vec<&str> = package.iter().map(|(name, _)| name.as_str()).collect();
        let (before, after) = (meaning(before), meaning(after));
        assert_eq!(before.0, after.0, "formatting changed the diagnostics of {names:?}");
        assert!(before.1 == after.1, "formatting changed the generated artifacts of {names:?}");
    }
}

/// A small deterministic generator, so a failing case replays from its seed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides.max(1)
    }

    fn blanks(&mut self) -> &'static str {
        ["", " ", "  ", "\t", " \t "][self.roll(5) as usize]
    }
}

/// `text` re-spaced at random without changing its tokens or its line breaks: new indentation and trailing
/// whitespace on every line, extra blank lines where there is one already or after an opening brace, and
/// spaces added or removed around brackets and separators outside strings and comments.
fn respace(text: &str, dice: &mut Dice) -> String {
    let mut out = String::new();
    let mut in_block_comment = 0usize;
    for line in text.lines() {
        if line.trim().is_empty() {
            for _ in 0..=dice.roll(3) {
                out.push_str(dice.blanks());
                out.push('\n');
            }
            continue;
        }
        let body = line.trim_start();
        if in_block_comment == 0 {
            out.push_str(dice.blanks());
            out.push_str(dice.blanks());
        } else {
            out.push_str(&line[..line.len() - body.len()]);
        }
        let chars: Vec<char> = body.chars().collect();
        let mut in_string = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            if in_block_comment > 0 {
                if c == '*' && next == Some('/') {
                    in_block_comment -= 1;
                    out.push_str("*/");
                    i += 2;
                    continue;
                }
                if c == '/' && next == Some('*') {
                    in_block_comment += 1;
                    out.push_str("/*");
                    i += 2;
                    continue;
                }
                out.push(c);
            } else if in_string {
                out.push(c);
                if c == '\\' {
                    out.extend(next);
                    i += 1;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
                out.push(c);
            } else if c == '/' && next == Some('/') {
                out.extend(&chars[i..]);
                break;
            } else if c == '/' && next == Some('*') {
                in_block_comment += 1;
                out.push_str("/*");
                i += 2;
                continue;
            } else if c == ' ' {
                let around = |ch: Option<char>| ch.is_some_and(|ch| "(){}[],;".contains(ch));
                let before = i.checked_sub(1).and_then(|b| chars.get(b)).copied();
                // Only next to a bracket or separator may a space go: they never fuse with a neighbour.
                if around(before) || around(next) {
                    out.push_str(dice.blanks());
                } else {
                    out.push_str([" ", "  ", "\t"][dice.roll(3) as usize]);
                }
            } else {
                out.push(c);
                if "([{,;".contains(c) && next.is_some_and(|n| n != ' ') && dice.roll(2) == 0 {
                    out.push(' ');
                }
            }
            i += 1;
        }
        out.push_str(dice.blanks());
        out.push('\n');
        if line.ends_with('{') && in_block_comment == 0 && !in_string && dice.roll(3) == 0 {
            out.push('\n');
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn respaced_specs_format_to_one_fixed_point(seed in 1u64.., pick in 0usize..1000) {
        let corpus = corpus();
        let (name, text) = &corpus[pick % corpus.len()];
        let canonical = format(text).expect("the corpus formats");
        prop_assert_eq!(&format(&canonical).expect("formatted text formats"), &canonical, "{} is not a fixed point", name);
        let respaced = respace(text, &mut Dice(seed));
        let again = format(&respaced).unwrap_or_else(|e| panic!("{name} re-spaced does not format: {e}\n{respaced}"));
        prop_assert_eq!(&again, &canonical, "{} re-spaced formats differently", name);
    }
}

#[test]
fn every_spec_is_its_formatted_form_once_formatted() {
    for (name, text) in corpus() {
        let once = format(text).expect("the corpus formats");
        assert_eq!(format(&once).expect("formatted text formats"), once, "{name}: formatting is not idempotent");
    }
}
