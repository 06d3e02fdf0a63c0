//! `cargo xtask fmt [FILES...] [--check]`: formats spec files in place with `meerkat_dsl::format` (default: every
//! spec the workspace keeps formatted, [`default_targets`]); a Markdown file has its ```` ```machine ```` blocks
//! formatted. With `--check` it writes nothing and fails, listing the files, when any is not formatted. A file
//! that does not parse is reported with its diagnostics and left alone.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use meerkat_dsl::format::{FormatError, format};
use meerkat_dsl::{Diagnostics, Source};

use crate::project::{self, Output, plural};

/// Arguments of `cargo xtask fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Spec files (`.machine`) or Markdown files (`.md`, their ```machine blocks); default: the workspace's.
    pub files: Vec<PathBuf>,
    /// Write nothing; fail if a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

/// The files the workspace keeps formatted, relative to the root: the machines, the test specs and the
/// language reference's examples.
pub fn default_targets(root: &Path) -> Result<Vec<PathBuf>> {
    let mut targets = project::default_specs(root)?;
    let specs = root.join("tests/specs");
    let entries = std::fs::read_dir(&specs).with_context(|| format!("cannot list `{}`", specs.display()))?;
    let mut test_specs = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot list `{}`", specs.display()))?.path();
        if path.extension().is_some_and(|e| e == "machine")
            && let Some(name) = path.file_name()
        {
            test_specs.push(Path::new("tests/specs").join(name));
        }
    }
    test_specs.sort();
    targets.extend(test_specs);
    targets.push(PathBuf::from("docs/language.md"));
    Ok(targets)
}

/// What formatting one file found.
pub enum FileOutcome {
    /// Already formatted.
    Unchanged,
    /// Not formatted; the formatted text.
    Changed(String),
    /// Not formattable: the rendered reason.
    Failed(String),
}

/// Formats the text of `path` (a spec, or Markdown with spec blocks) without touching the disk.
pub fn format_file(path: &Path, text: &str, output: Output) -> FileOutcome {
    let name = path.display().to_string().replace('\\', "/");
    let result = if path.extension().is_some_and(|e| e == "md") {
        format_markdown(text).map_err(|(line, error)| render(&format!("{name}:{line}"), text, error, output))
    } else {
        format(text).map_err(|error| render(&name, text, error, output))
    };
    match result {
        Ok(formatted) if formatted == text => FileOutcome::Unchanged,
        Ok(formatted) => FileOutcome::Changed(formatted),
        Err(message) => FileOutcome::Failed(message),
    }
}

/// Runs the command; `Ok(false)` when a file does not parse or, with `--check`, is not formatted.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    let root = project::root();
    let targets = if args.files.is_empty() { default_targets(&root)? } else { args.files.clone() };
    let base = if args.files.is_empty() { root } else { PathBuf::from(".") };
    let (mut changed, mut failed) = (Vec::new(), 0);
    for target in &targets {
        let path = base.join(target);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", target.display()))?;
        match format_file(target, &text, output) {
            FileOutcome::Unchanged => {}
            FileOutcome::Changed(formatted) => {
                if !args.check {
                    std::fs::write(&path, formatted).with_context(|| format!("cannot write `{}`", target.display()))?;
                }
                changed.push(target.display().to_string());
            }
            FileOutcome::Failed(message) => {
                eprintln!("{message}");
                failed += 1;
            }
        }
    }
    for file in &changed {
        println!("{} {file}", if args.check { "not formatted:" } else { "formatted:" });
    }
    let checked = plural(targets.len(), "file");
    if failed > 0 {
        println!("{} {} could not be formatted (of {checked})", output.error_label(), plural(failed, "file"));
        return Ok(false);
    }
    if args.check && !changed.is_empty() {
        println!("{} {} not formatted: run cargo xtask fmt", output.error_label(), plural(changed.len(), "file"));
        return Ok(false);
    }
    println!("{checked} formatted{}", if args.check { "" } else { " (written where changed)" });
    Ok(true)
}

/// Formats every ```` ```machine ```` block of a Markdown text; on failure, the block's first line.
fn format_markdown(text: &str) -> Result<String, (usize, FormatError)> {
    let mut out = String::with_capacity(text.len());
    let mut block: Option<(usize, String)> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let fence = line.trim_start();
        match &mut block {
            None => {
                if fence.starts_with("```machine") {
                    block = Some((index + 2, String::new()));
                }
                out.push_str(line);
            }
            Some(_) if fence.starts_with("```") => {
                if let Some((start, spec)) = block.take() {
                    out.push_str(&format(&spec).map_err(|e| (start, e))?);
                }
                out.push_str(line);
            }
            Some((_, spec)) => spec.push_str(line),
        }
    }
    if let Some((_, spec)) = block {
        // An unclosed block is left as written.
        out.push_str(&spec);
    }
    Ok(out)
}

/// A formatting failure as the user sees it: the syntax errors with their snippets, or the formatter's reason.
fn render(name: &str, text: &str, error: FormatError, output: Output) -> String {
    match error {
        FormatError::Syntax(diagnostics) => {
            let sources = [Source::new(name, text)];
            let mut all = Diagnostics::new();
            all.extend(diagnostics);
            all.render(&sources, output.render_options())
        }
        other => format!("{} {name}: {other}", output.error_label()),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "a test fails loudly on an unreadable workspace")]
mod tests {
    use super::*;

    /// The CI guard: every file the workspace keeps formatted is formatted.
    #[test]
    fn workspace_specs_are_formatted() {
        let output = Output { colour: false, width: 100, diagnostics_to_stderr: false };
        let root = project::root();
        let mut stale = Vec::new();
        for target in default_targets(&root).expect("the workspace lists") {
            let text = std::fs::read_to_string(root.join(&target)).expect("a listed file is readable");
            match format_file(&target, &text, output) {
                FileOutcome::Unchanged => {}
                FileOutcome::Changed(_) => stale.push(target.display().to_string()),
                FileOutcome::Failed(message) => stale.push(format!("{}: {message}", target.display())),
            }
        }
        assert!(stale.is_empty(), "not formatted (run cargo xtask fmt):\n{}", stale.join("\n"));
    }

    #[test]
    fn markdown_blocks_are_formatted_and_prose_is_not() {
        let text = "Some  prose.\n```machine\nmachine M{phases{initial A}}\n```\n```text\nmachine  M\n```\n";
        let expected = "Some  prose.\n```machine\nmachine M { phases { initial A } }\n```\n```text\nmachine  M\n```\n";
        assert_eq!(format_markdown(text).ok().as_deref(), Some(expected));
    }
}
