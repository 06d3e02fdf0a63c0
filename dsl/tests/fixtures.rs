//! The fixture harness: every `test_data/ok/*.machine` checks with no diagnostic at all, and every
//! `test_data/err/*.machine` reports exactly the diagnostics its header declares.
//!
//! An error fixture starts with comment lines; each `// expect: CODE L:C-L:C` line names one diagnostic (error or
//! warning) by its code and the 1-based line:column of its primary span's start and end (end exclusive, columns
//! counted in characters). The file's diagnostics must match that set exactly. Every code in [`Code::ALL`] has at
//! least one error fixture whose file name starts with the code, so no code goes untested.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use meerkat_dsl::{Code, Diagnostic, RenderOptions, Source, check_source};

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(kind)
}

/// The `.machine` files of a fixture directory, sorted by name.
fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = fixture_dir(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "machine"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `CODE L:C-L:C` for a diagnostic's primary span.
fn describe(diagnostic: &Diagnostic, source: &Source) -> String {
    let (l1, c1) = source.line_col(diagnostic.primary.span.start);
    let (l2, c2) = source.line_col(diagnostic.primary.span.end);
    format!("{} {l1}:{c1}-{l2}:{c2}", diagnostic.code)
}

/// The `// expect:` lines of the comment block that opens the file.
fn expectations(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|line| line.trim_start().starts_with("//"))
        .filter_map(|line| line.trim_start().strip_prefix("// expect:"))
        .map(|rest| rest.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Checks a fixture and returns its diagnostics (errors and warnings) with the rendered report.
fn diagnostics_of(name: &str, text: &str) -> (Vec<String>, String) {
    let source = Source::new(name, text);
    let options = RenderOptions { width: 100, colour: false };
    match check_source(name, text) {
        Ok(package) => {
            let found = package.warnings.iter().map(|d| describe(d, &source)).collect();
            (found, package.render_warnings(options))
        }
        Err(error) => {
            let found = error.diagnostics.iter().map(|d| describe(d, &source)).collect();
            (found, error.render(options))
        }
    }
}

#[test]
fn ok_fixtures_check_without_diagnostics() {
    let files = fixtures("ok");
    assert!(!files.is_empty(), "no fixtures in {}", fixture_dir("ok").display());
    let mut failures = String::new();
    for path in &files {
        let name = format!("ok/{}", file_name(path));
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let (found, rendered) = diagnostics_of(&name, &text);
        if !found.is_empty() {
            let _ = writeln!(failures, "{name}: expected no diagnostics, found {}:\n{rendered}", found.len());
        }
    }
    assert!(failures.is_empty(), "ok fixtures with diagnostics:\n\n{failures}");
}

#[test]
fn err_fixtures_report_exactly_their_expected_diagnostics() {
    let files = fixtures("err");
    assert!(!files.is_empty(), "no fixtures in {}", fixture_dir("err").display());
    let mut failures = String::new();
    for path in &files {
        let name = format!("err/{}", file_name(path));
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let mut expected = expectations(&text);
        if expected.is_empty() {
            let _ = writeln!(failures, "{name}: declares no `// expect: CODE L:C-L:C` line at its top\n");
            continue;
        }
        let (mut found, rendered) = diagnostics_of(&name, &text);
        expected.sort();
        found.sort();
        if expected != found {
            let missing: Vec<&String> = expected.iter().filter(|e| !found.contains(e)).collect();
            let unexpected: Vec<&String> = found.iter().filter(|f| !expected.contains(f)).collect();
            let _ = writeln!(failures, "{name}: diagnostics differ from the header");
            for line in &missing {
                let _ = writeln!(failures, "  - expected, not reported: {line}");
            }
            for line in &unexpected {
                let _ = writeln!(failures, "  + reported, not expected: {line}");
            }
            if missing.is_empty() && unexpected.is_empty() {
                let _ = writeln!(failures, "  (the same diagnostics, but with different multiplicities)");
            }
            let _ = writeln!(failures, "  the header for what is reported now:");
            for line in &found {
                let _ = writeln!(failures, "// expect: {line}");
            }
            let _ = writeln!(failures, "{rendered}");
        }
    }
    assert!(failures.is_empty(), "error fixtures that do not match:\n\n{failures}");
}

#[test]
fn every_code_has_an_error_fixture() {
    let files = fixtures("err");
    let mut missing = Vec::new();
    let mut unexercised = Vec::new();
    for code in Code::ALL {
        let named: Vec<&PathBuf> = files.iter().filter(|path| file_name(path).starts_with(code.as_str())).collect();
        if named.is_empty() {
            missing.push(code.as_str());
            continue;
        }
        // The fixture named for a code must also expect that code.
        let exercised = named.iter().any(|path| {
            let text = std::fs::read_to_string(path).expect("fixture is readable");
            expectations(&text).iter().any(|e| e.split(' ').next() == Some(code.as_str()))
        });
        if !exercised {
            unexercised.push(code.as_str());
        }
    }
    assert!(
        missing.is_empty() && unexercised.is_empty(),
        "codes without an error fixture named `CODE_*.machine` in {}: {}\ncodes whose fixtures do not expect them: {}",
        fixture_dir("err").display(),
        if missing.is_empty() { "none".to_string() } else { missing.join(", ") },
        if unexercised.is_empty() { "none".to_string() } else { unexercised.join(", ") },
    );
}

#[test]
fn expectation_lines_are_parsed_from_the_leading_comment_block_only() {
    let text = "// A description.\n// expect: E0102 3:5-3:9\nmachine M {}\n// expect: E0001 1:1-1:2\n";
    assert_eq!(expectations(text), vec!["E0102 3:5-3:9".to_string()]);
}
