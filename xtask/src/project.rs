//! Where things are and how to show them: the workspace root, the default spec files, reading spec files into
//! named sources, checking them as a package without letting a checker bug crash the tool, and colour.

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use meerkat_dsl::{CheckError, CheckedPackage, RenderOptions, Source};

/// The folder of the spec files, relative to the workspace root.
pub const MACHINES_DIR: &str = "machines";

/// The workspace root: the parent of this crate's manifest directory.
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
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
        output.diagnostics(&format!("{} cannot read `{}`: {}", output.error_label(), failure.path, failure.error));
    }
    let files = sources.len() + failures.len();
    match check_package(sources)? {
        Ok(package) if failures.is_empty() => {
            if !package.warnings.is_empty() {
                output.diagnostics(&package.render_warnings(output.render_options()));
            }
            Ok(Some(package))
        }
        Ok(package) => {
            output.diagnostics(&failure_summary(output, files, failures.len(), package.warnings.warning_count()));
            Ok(None)
        }
        Err(error) => {
            output.diagnostics(&error.render(output.render_options()));
            let errors = error.diagnostics.error_count() + failures.len();
            output.diagnostics(&failure_summary(output, files, errors, error.diagnostics.warning_count()));
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
    /// Print diagnostics to stderr rather than stdout, to keep stdout machine-readable (`verify --format json`).
    pub diagnostics_to_stderr: bool,
}

impl Output {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set; the width from `COLUMNS`, else 100.
    pub fn detect() -> Self {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 40).unwrap_or(100);
        Output { colour, width, diagnostics_to_stderr: false }
    }

    /// Prints diagnostics text where [`Output::diagnostics_to_stderr`] says.
    pub fn diagnostics(self, text: &str) {
        if self.diagnostics_to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
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
