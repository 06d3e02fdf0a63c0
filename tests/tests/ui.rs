//! UI snapshot tests: each `tests/ui/NNNN_name.machine` is checked and its rendered diagnostics (errors, or the
//! warnings of a file that checks) must equal `tests/ui/NNNN_name.stderr` byte for byte.
//!
//! Rendering is fixed at width 100 without colour, and the file is named by its path relative to `tests/ui`, so
//! the snapshots do not depend on the machine or the directory the tests run from. The snapshots are
//! `expect-test` files, the workspace's one golden-file harness: a mismatch fails with a diff, and
//! `UPDATE_EXPECT=1 cargo test -p meerkat-tests --test ui` rewrites the snapshots, which nothing else does.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::path::{Path, PathBuf};

use expect_test::expect_file;
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

#[test]
fn ui_snapshots_match() {
    let specs = files_with_extension("machine");
    assert!(specs.len() >= 15, "expected at least 15 UI cases in {}, found {}", ui_dir().display(), specs.len());
    for spec in &specs {
        let name = file_name(spec);
        let text = std::fs::read_to_string(spec).expect("UI spec is readable");
        let actual = render(&name, &text);
        assert!(!actual.trim().is_empty(), "{name}: reports nothing; a UI case must produce diagnostics");
        expect_file![spec.with_extension("stderr")].assert_eq(&actual);
    }
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
