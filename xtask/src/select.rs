//! Which spec files `cargo xtask verify` needs: the files that declare the machines asked for (by name, found in
//! `machines/`, or by path to a spec file anywhere), plus the files that declare the machines their
//! compositions route between, and nothing else. So a broken or noisy file elsewhere in `machines/` neither
//! blocks nor clutters the verification of a machine that does not depend on it.
//!
//! Files are indexed by parsing them (no checking): the machine names they declare and the machines their
//! compositions name. A file that does not parse is indexed by a plain scan for `machine Name`, so asking for a
//! machine in a broken file still selects the file and shows its syntax errors.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use meerkat_dsl::SourceId;
use meerkat_dsl::ast::TopItem;

use crate::project;

/// The files to check as one package, and the machines of it to verify.
#[derive(Debug)]
pub struct Selection {
    /// Resolves relative paths in `files` (the workspace root for `machines/`, else the current directory).
    pub base: PathBuf,
    /// The spec files, in the order they were selected.
    pub files: Vec<PathBuf>,
    /// The machines to verify, by name; `None` for every machine of the package.
    pub machines: Option<Vec<String>>,
}

/// Whether a target names a spec file rather than a machine.
pub fn is_path(target: &str) -> bool {
    target.ends_with(".machine") || target.contains('/') || target.contains(std::path::MAIN_SEPARATOR)
}

/// Selects what to verify. No targets: every file of `machines/`, every machine. Otherwise each target is a
/// machine name (looked up in `machines/`) or a spec file (all its machines); either way the files their
/// compositions need come along, looked up next to the file that needs them. Names and paths cannot be mixed.
pub fn select(targets: &[String]) -> Result<Selection> {
    let root = project::root();
    if targets.is_empty() {
        let files = project::default_specs(&root)?;
        if files.is_empty() {
            return Err(anyhow!("no spec files in `{}`", root.join(project::MACHINES_DIR).display()));
        }
        return Ok(Selection { base: root, files, machines: None });
    }
    let (paths, names): (Vec<&String>, Vec<&String>) = targets.iter().partition(|t| is_path(t));
    match (paths.is_empty(), names.is_empty()) {
        (true, _) => by_name(&root, &names),
        (false, true) => by_path(&paths),
        (false, false) => Err(anyhow!("give machine names or spec files, not both")),
    }
}

/// Machines by name, from the files of `machines/`.
fn by_name(root: &Path, names: &[&String]) -> Result<Selection> {
    let library = Library::of_dir(root, Path::new(project::MACHINES_DIR))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for name in names {
        let Some(file) = library.declaring(name) else {
            let mut known: Vec<&str> =
                library.files.iter().flat_map(|f| f.machines.iter().map(String::as_str)).collect();
            known.sort_unstable();
            let mut message = format!("no machine named `{name}`; the machines are: {}", known.join(", "));
            for unread in &library.unreadable {
                message.push_str(&format!("\n(`{}` could not be read)", unread.display()));
            }
            return Err(anyhow!(message));
        };
        if !files.contains(&file.path) {
            files.push(file.path.clone());
        }
    }
    library.close_over_compositions(&mut files);
    Ok(Selection { base: root.to_path_buf(), files, machines: Some(names.iter().map(|n| n.to_string()).collect()) })
}

/// Every machine of the given spec files, with the files their compositions need from the same folders.
fn by_path(paths: &[&String]) -> Result<Selection> {
    let base = PathBuf::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut machines: Vec<String> = Vec::new();
    let mut needs_more = false;
    for path in paths {
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow!("cannot read `{}`: {e}", path.display()))?;
        if files.contains(&path) {
            continue;
        }
        let indexed = index(path.clone(), &text);
        machines.extend(indexed.machines);
        needs_more |= !indexed.needs.is_empty();
        files.push(path);
    }
    if needs_more {
        let folders: BTreeSet<PathBuf> =
            files.iter().map(|f| f.parent().map_or_else(PathBuf::new, Path::to_path_buf)).collect();
        for folder in folders {
            Library::of_dir(&base, &folder)?.close_over_compositions(&mut files);
        }
    }
    Ok(Selection { base, files, machines: Some(machines) })
}

/// The spec files of one folder, indexed.
struct Library {
    files: Vec<Indexed>,
    unreadable: Vec<PathBuf>,
}

/// What one file declares and needs.
struct Indexed {
    path: PathBuf,
    machines: Vec<String>,
    /// The machines its compositions route from or to.
    needs: Vec<String>,
}

impl Library {
    /// Indexes every `.machine` file of `dir` (relative to `base`), sorted by name.
    fn of_dir(base: &Path, dir: &Path) -> Result<Self> {
        let listing = base.join(dir);
        let entries = std::fs::read_dir(if listing.as_os_str().is_empty() { Path::new(".") } else { &listing })
            .map_err(|e| anyhow!("cannot list `{}`: {e}", listing.display()))?;
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| anyhow!("cannot list `{}`: {e}", listing.display()))?;
            let path = entry.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "machine") {
                if let Some(name) = path.file_name() {
                    paths.push(dir.join(name));
                }
            }
        }
        paths.sort();
        let mut library = Library { files: Vec::new(), unreadable: Vec::new() };
        for path in paths {
            match std::fs::read_to_string(base.join(&path)) {
                Ok(text) => library.files.push(index(path, &text)),
                Err(_) => library.unreadable.push(path),
            }
        }
        Ok(library)
    }

    fn declaring(&self, machine: &str) -> Option<&Indexed> {
        self.files.iter().find(|f| f.machines.iter().any(|m| m == machine))
    }

    /// Adds to `files` the files declaring the machines that the compositions of `files` need, transitively.
    /// A machine declared nowhere is left to the checker, which reports it.
    fn close_over_compositions(&self, files: &mut Vec<PathBuf>) {
        let mut next = 0;
        while let Some(path) = files.get(next).cloned() {
            next += 1;
            let Some(file) = self.files.iter().find(|f| f.path == path) else { continue };
            for machine in &file.needs {
                if let Some(dependency) = self.declaring(machine) {
                    if !files.contains(&dependency.path) {
                        files.push(dependency.path.clone());
                    }
                }
            }
        }
    }
}

/// Indexes one file's text.
fn index(path: PathBuf, text: &str) -> Indexed {
    let mut machines = Vec::new();
    let mut needs = Vec::new();
    match meerkat_dsl::parse::parse(text, SourceId(0)) {
        Ok(file) => {
            for item in &file.items {
                match item {
                    TopItem::Machine(machine) => machines.push(machine.name.name.clone()),
                    TopItem::Composition(composition) => {
                        for route in &composition.routes {
                            for machine in [&route.from_machine, &route.to_machine] {
                                if !needs.contains(&machine.name) {
                                    needs.push(machine.name.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
        Err(_) => machines = scan_machine_names(text),
    }
    Indexed { path, machines, needs }
}

/// The names after the word `machine` in a text that does not parse: enough to find which file a machine
/// lives in, so its syntax errors can be shown.
fn scan_machine_names(text: &str) -> Vec<String> {
    let words: Vec<&str> =
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    words.windows(2).filter(|pair| pair[0] == "machine").map(|pair| pair[1].to_string()).collect()
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly on a broken temp folder")]
mod tests {
    use super::*;

    /// A workspace-like folder with `machines/` holding the given files, removed when dropped.
    struct TempRoot(PathBuf);

    impl TempRoot {
        fn new(test: &str, files: &[(&str, &str)]) -> Self {
            let root = std::env::temp_dir().join(format!("xtask-select-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join(project::MACHINES_DIR)).expect("temp dir");
            for (name, text) in files {
                std::fs::write(root.join(project::MACHINES_DIR).join(name), text).expect("temp spec");
            }
            TempRoot(root)
        }
    }

    impl Drop for TempRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn names(files: &[PathBuf]) -> Vec<String> {
        files.iter().map(|f| f.to_string_lossy().replace('\\', "/")).collect()
    }

    #[test]
    fn a_name_selects_its_file_and_what_its_compositions_need() {
        let root = TempRoot::new(
            "names",
            &[
                ("a.machine", "machine A { phases { initial X } } composition AB { route A.E -> B.S }"),
                ("b.machine", "machine B { phases { initial Y } } composition BC { route B.E -> C.S }"),
                ("c.machine", "machine C { phases { initial Z } }"),
                ("d.machine", "machine D { phases { initial W } on ??? }"),
                ("e.machine", "machine E { phases { initial V } }"),
            ],
        );
        let a = by_name(&root.0, &[&"A".to_string()]).expect("A is declared");
        assert_eq!(names(&a.files), ["machines/a.machine", "machines/b.machine", "machines/c.machine"]);
        assert_eq!(a.machines, Some(vec!["A".to_string()]));
        let e = by_name(&root.0, &[&"E".to_string()]).expect("E is declared");
        assert_eq!(names(&e.files), ["machines/e.machine"]);
        // A machine in a file that does not parse still selects that file, so its errors are shown.
        let d = by_name(&root.0, &[&"D".to_string()]).expect("D is found by scanning");
        assert_eq!(names(&d.files), ["machines/d.machine"]);
        let unknown = by_name(&root.0, &[&"Nope".to_string()]).expect_err("no such machine");
        assert_eq!(unknown.to_string(), "no machine named `Nope`; the machines are: A, B, C, D, E");
    }

    #[test]
    fn a_broken_file_is_still_indexed_by_its_machine_names() {
        assert_eq!(scan_machine_names("machine Broken { phases { initial A } on ??? }"), ["Broken"]);
        let indexed = index(PathBuf::from("x.machine"), "machine Fine { phases { initial A } }");
        assert_eq!(indexed.machines, ["Fine"]);
        assert!(indexed.needs.is_empty());
    }

    #[test]
    fn targets_that_look_like_files_are_paths() {
        assert!(is_path("specs/a.machine") && is_path("a.machine") && is_path("./a"));
        assert!(!is_path("TwoPhase"));
    }
}
