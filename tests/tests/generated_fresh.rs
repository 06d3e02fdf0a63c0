//! Guards `machines/generated/`: computes every artifact of `machines/*.machine` in memory, exactly as
//! `cargo xtask regen` does, and fails, listing the missing, stale and orphaned files, when the checked-in
//! folder differs. It never writes anything: the fix is to run `cargo xtask regen` and review the diff.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly when the workspace is unreadable")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meerkat_codegen::artifacts::{GENERATED_DIR, REGEN_COMMAND, slash_path};
use meerkat_dsl::{RenderOptions, Source};

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// `machines/*.machine`, sorted, named relative to the workspace root as xtask names them.
fn specs(root: &Path) -> Vec<Source> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("machines"))
        .expect("machines/ is readable")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "machine"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = format!("machines/{}", path.file_name().expect("a file name").to_string_lossy());
            Source::new(name, std::fs::read_to_string(path).expect("spec is readable"))
        })
        .collect()
}

/// The first line where two texts differ, to point a reader at the change.
fn first_difference(expected: &str, actual: &str) -> usize {
    expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()))
        + 1
}

#[test]
fn generated_artifacts_are_fresh() {
    let root = workspace_root();
    let sources = specs(&root);
    let package = match meerkat_dsl::check_package(sources) {
        Ok(package) => package,
        Err(error) => panic!("machines/*.machine do not check:\n{}", error.render(RenderOptions::default())),
    };
    let spec_paths: Vec<PathBuf> = package.sources.iter().map(|s| PathBuf::from(&s.name)).collect();
    let expected: BTreeMap<PathBuf, String> = meerkat_codegen::artifacts(&package, &spec_paths);

    let mut problems = Vec::new();
    for (path, content) in &expected {
        match std::fs::read(root.join(path)) {
            Ok(bytes) if bytes == content.as_bytes() => {}
            Ok(bytes) => {
                let line = first_difference(content, &String::from_utf8_lossy(&bytes));
                problems.push(format!("   stale {} (first difference at line {line})", slash_path(path)));
            }
            Err(_) => problems.push(format!(" missing {}", slash_path(path))),
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join(GENERATED_DIR)) {
        let mut orphans: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .map(|entry| Path::new(GENERATED_DIR).join(entry.file_name()))
            .filter(|path| !expected.contains_key(path))
            .collect();
        orphans.sort();
        problems.extend(orphans.iter().map(|path| format!("orphaned {}", slash_path(path))));
    }
    assert!(
        problems.is_empty(),
        "{GENERATED_DIR}/ is out of date with machines/*.machine:\n{}\nrun {REGEN_COMMAND}",
        problems.join("\n")
    );
}
