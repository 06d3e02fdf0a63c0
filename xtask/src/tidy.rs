//! Tidy checks: the house rules of STYLE.md that review would otherwise hold by eye, run as ordinary tests over
//! every Rust file of the workspace (in the style of rust-analyzer's `xtask/src/tidy.rs`):
//! - every file opens with a `//!` paragraph saying what it is for;
//! - no test is skipped with an ignore attribute, and none expects a panic (user-facing errors are values, and
//!   a test asserts on them);
//! - no file is longer than [`MAX_LINES`] lines: a longer one does more than one job, and is split by topic.
//!
//! Generated files (their first line starts with `// @generated`) are exempt: they are checked against their
//! generator instead. `target/` and hidden folders are not part of the sources.

#![allow(clippy::panic, reason = "a tidy test fails loudly when the workspace cannot be read")]

use std::path::{Path, PathBuf};

use crate::project;

/// The most lines a hand-written file may have.
const MAX_LINES: usize = 1000;

/// The first line of every generated file.
const GENERATED_MARKER: &str = "// @generated";

/// A Rust file of the workspace: its path relative to the root, and its text.
struct SourceFile {
    path: String,
    text: String,
}

impl SourceFile {
    fn is_generated(&self) -> bool {
        self.text.starts_with(GENERATED_MARKER)
    }
}

/// Every `.rs` file under `dir`, recursively, skipping `target/` and hidden folders.
fn collect(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect(root, &path, out)?;
            }
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(&path)?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            out.push(SourceFile { path: meerkat_codegen::artifacts::slash_path(relative), text });
        }
    }
    Ok(())
}

/// The workspace's Rust files, hand-written and generated, sorted by path.
fn sources() -> Vec<SourceFile> {
    let root = project::root();
    let mut files = Vec::new();
    if let Err(error) = collect(&root, &root, &mut files) {
        panic!("cannot read the workspace at {}: {error}", root.display());
    }
    files
}

/// The hand-written files that break a rule, each with why, as one message line per file.
fn offenders(files: &[SourceFile], rule: impl Fn(&SourceFile) -> Option<String>) -> Vec<String> {
    files.iter().filter(|f| !f.is_generated()).filter_map(|f| rule(f).map(|why| format!("{}: {why}", f.path))).collect()
}

/// The attribute spellings the rules forbid, assembled so that this file does not contain them itself.
fn forbidden_attributes() -> [String; 2] {
    [format!("#[{}", "ignore"), format!("#[{}", "should_panic")]
}

fn module_doc(file: &SourceFile) -> Option<String> {
    (!file.text.starts_with("//!")).then(|| "does not open with a `//!` paragraph".to_string())
}

fn skipped_or_panicking_tests(file: &SourceFile) -> Option<String> {
    let found: Vec<String> = forbidden_attributes()
        .into_iter()
        .filter(|attribute| file.text.lines().any(|line| line.trim_start().starts_with(attribute.as_str())))
        .map(|attribute| format!("`{attribute}]`"))
        .collect();
    (!found.is_empty()).then(|| format!("uses {}", found.join(" and ")))
}

fn length(file: &SourceFile) -> Option<String> {
    let lines = file.text.lines().count();
    (lines > MAX_LINES).then(|| format!("{lines} lines (at most {MAX_LINES}): split it by topic"))
}

#[test]
fn the_walk_sees_the_whole_workspace() {
    let files = sources();
    let generated = files.iter().filter(|f| f.is_generated()).count();
    assert!(files.len() > 100, "only {} Rust files found under {}", files.len(), project::root().display());
    assert!(files.iter().any(|f| f.path == "xtask/src/tidy.rs"), "the walk misses this file");
    assert!(generated >= 2, "the generated kernels are not recognised ({generated} found)");
}

#[test]
fn every_file_opens_with_a_module_doc() {
    let bad = offenders(&sources(), module_doc);
    assert!(bad.is_empty(), "every file opens with a `//!` paragraph saying what it is for:\n{}", bad.join("\n"));
}

#[test]
fn no_test_is_ignored_or_expects_a_panic() {
    let bad = offenders(&sources(), skipped_or_panicking_tests);
    assert!(bad.is_empty(), "tests run always and assert on values instead of panics:\n{}", bad.join("\n"));
}

#[test]
fn no_hand_written_file_is_over_the_line_limit() {
    let bad = offenders(&sources(), length);
    assert!(bad.is_empty(), "files over {MAX_LINES} lines:\n{}", bad.join("\n"));
}

#[test]
fn the_rules_catch_what_they_forbid() {
    let file = |text: &str| SourceFile { path: "x.rs".into(), text: text.into() };
    let [ignore, should_panic] = forbidden_attributes();
    assert!(module_doc(&file("//! Doc.\nfn f() {}\n")).is_none());
    assert!(module_doc(&file("// Not a module doc.\n")).is_some());
    assert!(module_doc(&file("\n//! Late.\n")).is_some());
    assert!(skipped_or_panicking_tests(&file(&format!("    {ignore}]\n    #[test]\n"))).is_some());
    assert!(skipped_or_panicking_tests(&file(&format!("{should_panic}(expected = \"x\")]\n"))).is_some());
    assert!(skipped_or_panicking_tests(&file("// a comment about ignoring\n")).is_none());
    assert!(length(&file(&"x\n".repeat(MAX_LINES))).is_none());
    assert!(length(&file(&"x\n".repeat(MAX_LINES + 1))).is_some());
    let generated = file(&format!("{GENERATED_MARKER} by a tool\n{}", "x\n".repeat(2 * MAX_LINES)));
    assert!(offenders(&[generated], length).is_empty(), "generated files are exempt");
}
