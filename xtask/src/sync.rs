//! Keeping a folder of generated files in step with a map of expected contents: the plan (what is missing,
//! stale or orphaned) and its application (writing only what changed, removing orphans). `regen` applies the
//! plan; `regen --check` only reports it.
//!
//! Only regular files directly inside the folder are considered: subfolders are left alone.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What it takes to make a folder match the expected files. Paths are relative to the root given to [`plan`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Expected files that do not exist.
    pub create: Vec<PathBuf>,
    /// Expected files whose content differs.
    pub update: Vec<PathBuf>,
    /// Files in the folder that are not expected.
    pub remove: Vec<PathBuf>,
    /// Expected files that are already up to date.
    pub unchanged: usize,
}

impl Plan {
    /// Whether the folder already matches.
    pub fn is_clean(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.remove.is_empty()
    }

    /// One line per change: `created path`, `updated path`, `removed path` (or, for `--check`, what is wrong).
    pub fn lines(&self, check: bool) -> Vec<String> {
        let (created, updated, removed) =
            if check { ("missing", "stale", "orphaned") } else { ("created", "updated", "removed") };
        let show = |verb: &str, path: &PathBuf| format!("{verb:>8} {}", meerkat_codegen::artifacts::slash_path(path));
        self.create
            .iter()
            .map(|p| show(created, p))
            .chain(self.update.iter().map(|p| show(updated, p)))
            .chain(self.remove.iter().map(|p| show(removed, p)))
            .collect()
    }
}

/// Compares `expected` (paths relative to `root`, each inside `dir`) with the files on disk.
pub fn plan(root: &Path, dir: &Path, expected: &BTreeMap<PathBuf, String>) -> io::Result<Plan> {
    let mut plan = Plan::default();
    for (path, content) in expected {
        match std::fs::read(root.join(path)) {
            Ok(bytes) if bytes == content.as_bytes() => plan.unchanged += 1,
            Ok(_) => plan.update.push(path.clone()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => plan.create.push(path.clone()),
            Err(error) => return Err(error),
        }
    }
    let entries = match std::fs::read_dir(root.join(dir)) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(plan),
        Err(error) => return Err(error),
    };
    let mut orphans = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let path = dir.join(entry.file_name());
        if !expected.contains_key(&path) {
            orphans.push(path);
        }
    }
    orphans.sort();
    plan.remove = orphans;
    Ok(plan)
}

/// Carries out a plan: writes the created and updated files from `expected`, removes the orphans.
pub fn apply(root: &Path, expected: &BTreeMap<PathBuf, String>, plan: &Plan) -> io::Result<()> {
    for path in plan.create.iter().chain(&plan.update) {
        let Some(content) = expected.get(path) else { continue };
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, content)?;
    }
    for path in &plan.remove {
        std::fs::remove_file(root.join(path))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use super::*;

    /// A fresh, empty folder under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!("xtask-sync-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("temp dir");
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn expected(files: &[(&str, &str)]) -> BTreeMap<PathBuf, String> {
        files.iter().map(|(p, c)| (PathBuf::from(p), c.to_string())).collect()
    }

    #[test]
    fn plans_then_applies_only_the_changes() {
        let tmp = TempDir::new("apply");
        let dir = Path::new("gen");
        let want = expected(&[("gen/a.md", "a\n"), ("gen/b.md", "b\n"), ("gen/c.md", "c\n")]);
        std::fs::create_dir_all(tmp.0.join("gen/sub")).expect("dirs");
        std::fs::write(tmp.0.join("gen/a.md"), "a\n").expect("write");
        std::fs::write(tmp.0.join("gen/b.md"), "old\n").expect("write");
        std::fs::write(tmp.0.join("gen/old.md"), "x\n").expect("write");

        let first = plan(&tmp.0, dir, &want).expect("plan");
        assert_eq!(first.create, [PathBuf::from("gen/c.md")]);
        assert_eq!(first.update, [PathBuf::from("gen/b.md")]);
        assert_eq!(first.remove, [PathBuf::from("gen/old.md")]);
        assert_eq!(first.unchanged, 1);
        assert_eq!(first.lines(true), [" missing gen/c.md", "   stale gen/b.md", "orphaned gen/old.md"]);

        let before = std::fs::metadata(tmp.0.join("gen/a.md")).and_then(|m| m.modified()).expect("mtime");
        apply(&tmp.0, &want, &first).expect("apply");
        let after = std::fs::metadata(tmp.0.join("gen/a.md")).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(before, after, "an unchanged file is not rewritten");
        assert_eq!(std::fs::read_to_string(tmp.0.join("gen/b.md")).expect("read"), "b\n");
        assert!(!tmp.0.join("gen/old.md").exists());
        assert!(tmp.0.join("gen/sub").is_dir(), "subfolders are left alone");

        let second = plan(&tmp.0, dir, &want).expect("plan");
        assert!(second.is_clean(), "{second:?}");
        assert_eq!(second.unchanged, 3);
    }

    #[test]
    fn a_missing_folder_means_everything_is_created() {
        let tmp = TempDir::new("missing");
        let want = expected(&[("gen/a.md", "a\n")]);
        let plan = plan(&tmp.0, Path::new("gen"), &want).expect("plan");
        assert_eq!(plan.create, [PathBuf::from("gen/a.md")]);
        apply(&tmp.0, &want, &plan).expect("apply");
        assert_eq!(std::fs::read_to_string(tmp.0.join("gen/a.md")).expect("read"), "a\n");
    }
}
