//! `cargo xtask check [FILES...] [--uncovered]`: checks spec files as one package and prints every diagnostic,
//! then a summary line in rustc's words. With `--uncovered` it also lists, per machine, the (phase, trigger)
//! pairs no transition handles. Unreadable files are reported and counted as errors; the rest are still checked.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use meerkat_dsl::CheckedPackage;
use meerkat_dsl::ir::Trigger;

use crate::project::{self, Output, failure_summary, plural};

/// Arguments of `cargo xtask check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Spec files to check together (default: every machines/*.machine).
    pub files: Vec<PathBuf>,
    /// Also list each machine's (phase, trigger) pairs that have no transition.
    #[arg(long)]
    pub uncovered: bool,
}

/// Runs the command; `Ok(false)` when there were errors.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    let (base, paths) = if args.files.is_empty() {
        let root = project::root();
        let specs = project::default_specs(&root)?;
        (root, specs)
    } else {
        (std::env::current_dir().unwrap_or_default(), args.files.clone())
    };
    if paths.is_empty() {
        return Err(anyhow!("no spec files to check in `{}`", project::MACHINES_DIR));
    }
    let (sources, failures) = project::read_specs(&base, &paths);
    for failure in &failures {
        println!("{} cannot read `{}`: {}\n", output.error_label(), failure.path, failure.error);
    }
    let files = paths.len();
    let read_errors = failures.len();
    match project::check_package(sources)? {
        Ok(package) => {
            let warnings = package.warnings.warning_count();
            if !package.warnings.is_empty() {
                println!("{}", package.render_warnings(output.render_options()));
            }
            if args.uncovered {
                print_uncovered(&package, output);
            }
            if read_errors > 0 {
                println!("{}", failure_summary(output, files, read_errors, warnings));
                return Ok(false);
            }
            println!(
                "checked {} in {}: no errors, {}",
                plural(package.machines.len(), "machine"),
                plural(files, "file"),
                plural(warnings, "warning")
            );
            Ok(true)
        }
        Err(error) => {
            println!("{}", error.render(output.render_options()));
            let errors = error.diagnostics.error_count() + read_errors;
            println!("{}", failure_summary(output, files, errors, error.diagnostics.warning_count()));
            Ok(false)
        }
    }
}

fn print_uncovered(package: &CheckedPackage, output: Output) {
    println!("{}", output.bold("(phase, trigger) pairs with no transition (refused with NoMatchingTransition):"));
    for machine in &package.machines {
        let pairs = machine.uncovered();
        if pairs.is_empty() {
            println!("  {}: every trigger is handled in every phase", machine.name);
            continue;
        }
        println!("  {}: {}", machine.name, plural(pairs.len(), "pair"));
        for phase in machine.phase_ids() {
            let triggers: Vec<String> = pairs
                .iter()
                .filter(|(p, _)| *p == phase)
                .map(|(_, t)| {
                    let name = &machine.trigger(*t).name;
                    match t {
                        Trigger::Input(_) => name.clone(),
                        Trigger::Signal(_) => format!("{name} (signal)"),
                    }
                })
                .collect();
            if triggers.is_empty() {
                continue;
            }
            let phase = machine.phase(phase);
            let note = if phase.terminal { " (terminal)" } else { "" };
            println!("    {}{note}: {}", phase.name, triggers.join(", "));
        }
    }
    println!();
}
