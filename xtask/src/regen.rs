//! `cargo xtask regen [--check]`: computes every machine's artifacts from `machines/*.machine` and makes
//! `machines/generated/` match them, writing only changed files and removing orphans; with `--check` it writes
//! nothing and fails, listing the files, when anything is stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use meerkat_codegen::artifacts::{GENERATED_DIR, REGEN_COMMAND};
use meerkat_dsl::CheckedPackage;

use crate::project::{self, Output, plural};
use crate::sync;

/// Arguments of `cargo xtask regen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write nothing; fail if machines/generated/ is stale.
    #[arg(long)]
    pub check: bool,
}

/// What a regen did or found.
pub struct Outcome {
    /// Whether the folder matches (after writing, or already for `--check`).
    pub ok: bool,
    /// A one-line summary.
    pub summary: String,
}

/// Runs the command; `Ok(false)` when the specs do not check or, with `--check`, the files are stale.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    Ok(regen(args.check, output)?.ok)
}

/// Regenerates (or checks) the artifacts, printing what changed.
pub fn regen(check: bool, output: Output) -> Result<Outcome> {
    let Some(package) = project::load_default_package(output)? else {
        return Ok(Outcome { ok: false, summary: "the specs do not check".to_string() });
    };
    let root = project::root();
    let (expected, plan) = plan(&package, &root)?;
    let lines = plan.lines(check);
    for line in &lines {
        println!("{line}");
    }
    if check {
        if plan.is_clean() {
            let summary = format!("{GENERATED_DIR}/ is up to date ({})", plural(plan.unchanged, "file"));
            println!("{summary}");
            return Ok(Outcome { ok: true, summary });
        }
        println!(
            "{} {} in {GENERATED_DIR}/ {} out of date: run {REGEN_COMMAND}",
            output.error_label(),
            if lines.len() == 1 { "1 file".to_string() } else { format!("{} files", lines.len()) },
            if lines.len() == 1 { "is" } else { "are" },
        );
        return Ok(Outcome { ok: false, summary: "stale".to_string() });
    }
    sync::apply(&root, &expected, &plan).with_context(|| format!("cannot write `{GENERATED_DIR}`"))?;
    let summary = if plan.is_clean() {
        format!("{GENERATED_DIR}/ is up to date ({})", plural(plan.unchanged, "file"))
    } else {
        format!(
            "{GENERATED_DIR}/: {} created, {} updated, {} removed, {} unchanged",
            plan.create.len(),
            plan.update.len(),
            plan.remove.len(),
            plan.unchanged
        )
    };
    println!("{summary}");
    Ok(Outcome { ok: true, summary })
}

/// Every artifact of a checked package, by path, and what it takes to make `machines/generated/` under `root`
/// hold exactly them.
fn plan(package: &CheckedPackage, root: &Path) -> Result<(BTreeMap<PathBuf, String>, sync::Plan)> {
    let spec_paths: Vec<PathBuf> = package.sources.iter().map(|s| PathBuf::from(&s.name)).collect();
    let expected = meerkat_codegen::artifacts(package, &spec_paths);
    let plan = sync::plan(root, Path::new(GENERATED_DIR), &expected)
        .with_context(|| format!("cannot read `{GENERATED_DIR}`"))?;
    Ok((expected, plan))
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly when the workspace is unreadable")]
mod tests {
    use super::*;

    /// Guards `machines/generated/`: the plan `regen` would carry out must be empty. The test never writes: the
    /// fix is to run `cargo xtask regen` and review the diff.
    #[test]
    fn generated_artifacts_are_fresh() {
        let output = Output { colour: false, width: 100, diagnostics_to_stderr: false };
        let package = project::load_default_package(output).expect("machines/ is readable");
        let package = package.unwrap_or_else(|| panic!("machines/*.machine do not check (see above)"));
        let (_, plan) = plan(&package, &project::root()).expect("machines/generated/ is readable");
        assert!(
            plan.is_clean(),
            "{GENERATED_DIR}/ is out of date with machines/*.machine:\n{}\nrun {REGEN_COMMAND}",
            plan.lines(true).join("\n")
        );
    }
}
