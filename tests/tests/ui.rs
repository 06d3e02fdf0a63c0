//! UI snapshot tests: each `tests/ui/NNNN_name.machine` is checked and its rendered diagnostics (errors, or the
//! warnings of a file that checks) must equal `tests/ui/NNNN_name.stderr` byte for byte.
//!
//! Rendering is fixed at width 100 without colour, and the file is named by its path relative to `tests/ui`, so
//! the snapshots do not depend on the machine or the directory the tests run from. A mismatch fails with a line
//! diff; `UPDATE_EXPECT=1 cargo test -p meerkat-tests --test ui` rewrites the snapshots, and nothing else does.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use meerkat_dsl::{RenderOptions, check_source};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
}

/// Every file of `tests/ui` with the given extension, sorted.
fn files_with_extension(extension: &str) -> Vec<PathBuf> {
    let dir = ui_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What the compiler prints for a spec: its errors, or its warnings when it checks.
fn render(name: &str, text: &str) -> String {
    let options = RenderOptions { width: 100, colour: false };
    match check_source(name, text) {
        Ok(package) => package.render_warnings(options),
        Err(error) => error.render(options),
    }
}

/// A line diff (`-` expected, `+` actual) from the longest common subsequence of lines.
fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn ui_snapshots_match() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let specs = files_with_extension("machine");
    assert!(specs.len() >= 15, "expected at least 15 UI cases in {}, found {}", ui_dir().display(), specs.len());
    let mut failures = String::new();
    for spec in &specs {
        let name = file_name(spec);
        let text = std::fs::read_to_string(spec).expect("UI spec is readable");
        let actual = render(&name, &text);
        if actual.trim().is_empty() {
            let _ = writeln!(failures, "{name}: reports nothing; a UI case must produce diagnostics\n");
            continue;
        }
        let snapshot = spec.with_extension("stderr");
        if update {
            if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(actual.as_str()) {
                std::fs::write(&snapshot, &actual).expect("snapshot is writable");
            }
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => {
                let _ = writeln!(failures, "{name}: rendered diagnostics differ from {}", file_name(&snapshot));
                let _ = writeln!(failures, "{}", line_diff(&expected, &actual));
            }
            Err(_) => {
                let _ = writeln!(failures, "{name}: no snapshot {} yet; it would be:\n{actual}", file_name(&snapshot));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}\nrun with UPDATE_EXPECT=1 to accept the new output");
}

#[test]
fn every_snapshot_has_a_spec() {
    let orphans: Vec<String> = files_with_extension("stderr")
        .iter()
        .filter(|snapshot| !snapshot.with_extension("machine").exists())
        .map(|snapshot| file_name(snapshot))
        .collect();
    assert!(orphans.is_empty(), "snapshots without a `.machine` file: {}", orphans.join(", "));
}

#[test]
fn ui_cases_are_numbered() {
    let badly_named: Vec<String> = files_with_extension("machine")
        .iter()
        .map(|spec| file_name(spec))
        .filter(|name| {
            let digits = name.chars().take_while(char::is_ascii_digit).count();
            digits != 4 || name.chars().nth(4) != Some('_')
        })
        .collect();
    assert!(badly_named.is_empty(), "UI cases must be named `NNNN_name.machine`: {}", badly_named.join(", "));
}

#[test]
fn line_diff_marks_changed_lines() {
    let diff = line_diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(diff, "  a\n+ x\n- b\n  c\n");
}
