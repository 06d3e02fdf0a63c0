//! Where things are and how to show them: the workspace root (found from the current directory), the default spec files, reading spec files into
//! named sources, checking them as a package without letting a checker bug crash the tool, and colour.

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};
use meerkat_dsl::{CheckError, CheckedPackage, RenderOptions, Source};

/// The folder of the spec files, relative to the workspace root.
pub const MACHINES_DIR: &str = "machines";

/// The workspace root found by [`locate_root`] when the tool started.
static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Finds the workspace from the current directory and remembers it for [`root`]; `main` calls it first, so a
/// prebuilt binary works on the checkout it is run in, and says so when it is run outside of one.
pub fn locate_root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = find_root(&cwd)?;
    Ok(ROOT.get_or_init(|| root).clone())
}

/// The nearest directory at or above `start` that holds a `Cargo.toml` with a `[workspace]` table and a
/// `machines/` folder.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let is_workspace =
            std::fs::read_to_string(&manifest).is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"));
        if is_workspace && dir.join(MACHINES_DIR).is_dir() {
            return Ok(dir.to_path_buf());
        }
    }
    Err(anyhow!(
        "`{}` is not inside a machine workspace: no directory above it has a `Cargo.toml` with `[workspace]` \
         and a `{MACHINES_DIR}/` folder; run cargo xtask from a checkout",
        start.display()
    ))
}

/// The workspace root: the one [`locate_root`] found, or (in tests, which do not run `main`) the one around the
/// current directory. Never the directory the tool was compiled in.
pub fn root() -> PathBuf {
    if let Some(root) = ROOT.get() {
        return root.clone();
    }
    // Tests run inside the workspace; if there is none, relative paths from `.` fail with their own errors.
    locate_root().unwrap_or_else(|_| PathBuf::from("."))
}

/// The default spec files, `machines/*.machine`, sorted by name, relative to the workspace root.
pub fn default_specs(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join(MACHINES_DIR);
    let entries = std::fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    let mut specs = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot list `{}`", dir.display()))?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "machine") {
            if let Some(name) = path.file_name() {
                specs.push(Path::new(MACHINES_DIR).join(name));
            }
        }
    }
    specs.sort();
    Ok(specs)
}

/// A spec file that could not be read.
pub struct ReadFailure {
    /// The path as the user gave it (or relative to the root).
    pub path: String,
    /// Why.
    pub error: std::io::Error,
}

/// Reads spec files. `base` resolves relative paths; sources are named by `path` as given, with `/`
/// separators, which is how diagnostics and generated headers print them.
pub fn read_specs(base: &Path, paths: &[PathBuf]) -> (Vec<Source>, Vec<ReadFailure>) {
    let mut sources = Vec::new();
    let mut failures = Vec::new();
    for path in paths {
        let name = meerkat_codegen::artifacts::slash_path(path);
        match std::fs::read_to_string(base.join(path)) {
            Ok(text) => sources.push(Source::new(name, text)),
            Err(error) => failures.push(ReadFailure { path: name, error }),
        }
    }
    (sources, failures)
}

/// Checks sources as one package. A panic inside the checker (a bug) becomes an error instead of a crash.
pub fn check_package(sources: Vec<Source>) -> Result<Result<CheckedPackage, CheckError>> {
    catch_unwind(AssertUnwindSafe(|| meerkat_dsl::check_package(sources)))
        .map_err(|_| anyhow!("internal error: the spec checker panicked; this is a bug in meerkat-dsl"))
}

/// Reads and checks every default spec file, printing diagnostics; `None` (after printing why) when they do
/// not check. Used by the commands that need a checked package.
pub fn load_default_package(output: Output) -> Result<Option<CheckedPackage>> {
    let root = root();
    let specs = default_specs(&root)?;
    if specs.is_empty() {
        return Err(anyhow!("no spec files in `{}`", root.join(MACHINES_DIR).display()));
    }
    load_package(&root, &specs, output)
}

/// Reads and checks spec files (relative to `base`) as one package, printing diagnostics; `None` (after
/// printing why) when they do not check.
pub fn load_package(base: &Path, specs: &[PathBuf], output: Output) -> Result<Option<CheckedPackage>> {
    let (sources, failures) = read_specs(base, specs);
    for failure in &failures {
        println!("{} cannot read `{}`: {}", output.error_label(), failure.path, failure.error);
    }
    let files = sources.len() + failures.len();
    match check_package(sources)? {
        Ok(package) if failures.is_empty() => {
            if !package.warnings.is_empty() {
                println!("{}", package.render_warnings(output.render_options()));
            }
            Ok(Some(package))
        }
        Ok(package) => {
            println!("{}", failure_summary(output, files, failures.len(), package.warnings.warning_count()));
            Ok(None)
        }
        Err(error) => {
            println!("{}", error.render(output.render_options()));
            let errors = error.diagnostics.error_count() + failures.len();
            println!("{}", failure_summary(output, files, errors, error.diagnostics.warning_count()));
            Ok(None)
        }
    }
}

/// How to print: with or without colour, how wide.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// ANSI colours and Unicode drawing.
    pub colour: bool,
    /// Columns for wrapping diagnostics.
    pub width: usize,
}

impl Output {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set; the width from `COLUMNS`, else 100.
    pub fn detect() -> Self {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 40).unwrap_or(100);
        Output { colour, width }
    }

    /// Options for rendering diagnostics.
    pub fn render_options(self) -> RenderOptions {
        RenderOptions { width: self.width, colour: self.colour }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_string() }
    }

    /// `error:` in bold red.
    pub fn error_label(self) -> String {
        self.paint("1;31", "error:")
    }

    /// `warning:` in bold yellow.
    pub fn warning_label(self) -> String {
        self.paint("1;33", "warning:")
    }

    /// A word in bold green (`ok`).
    pub fn good(self, text: &str) -> String {
        self.paint("1;32", text)
    }

    /// A heading in bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// `1 error`, `2 errors`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("{count} {noun}") } else { format!("{count} {noun}s") }
}

/// `error: could not check 3 files due to 2 errors; 1 warning emitted`.
pub fn failure_summary(output: Output, files: usize, errors: usize, warnings: usize) -> String {
    let mut line = format!(
        "{} could not check {} due to {}",
        output.error_label(),
        if files == 1 { "1 file".to_string() } else { format!("{files} files") },
        plural(errors, "error")
    );
    if warnings > 0 {
        line.push_str(&format!("; {} emitted", plural(warnings, "warning")));
    }
    line
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "a test fails loudly on a broken temporary directory")]
mod root_tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-root-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }

    #[test]
    fn the_root_is_found_by_walking_up_from_a_nested_directory() {
        let dir = scratch("nested");
        std::fs::write(dir.join("Cargo.toml"), "[workspace]\nmembers = []\n").expect("write a manifest");
        std::fs::create_dir_all(dir.join("machines")).expect("create machines/");
        let deep = dir.join("crate").join("src");
        std::fs::create_dir_all(&deep).expect("create a nested directory");
        // A member manifest without `[workspace]` on the way up is passed over.
        std::fs::write(dir.join("crate").join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
        assert_eq!(find_root(&deep).expect("found"), dir);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn outside_a_workspace_the_error_says_so() {
        let dir = scratch("outside");
        // A workspace without `machines/` is some other project.
        std::fs::write(dir.join("Cargo.toml"), "[workspace]\n").expect("write a manifest");
        let error = find_root(&dir).map(|p| p.display().to_string()).expect_err("no machine workspace");
        assert!(error.to_string().contains("is not inside a machine workspace"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_tests_find_this_checkout() {
        let root = root();
        assert!(root.join("machines").is_dir() && root.join("xtask").is_dir(), "{}", root.display());
    }
}
