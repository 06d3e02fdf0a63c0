//! `cargo xtask all`: the main job in one command. It checks every spec, regenerates `machines/generated/`,
//! model-checks every machine, replays the conformance tests on the runtime, then runs the runtime example (`cargo run -p meerkat-runtime --example sessions`)
//! when it exists, and ends with a one-line-per-step summary. It stops at the first step that fails.

use std::process::Command;

use anyhow::{Context, Result};
use meerkat_dsl::explore::Bounds;

use crate::project::{self, Output, plural};
use crate::{conformance, regen, verify};

/// The runtime example, relative to the workspace root.
const EXAMPLE: &str = "runtime/examples/sessions.rs";

/// Runs every step; `Ok(false)` when one failed.
pub fn run(output: Output) -> Result<bool> {
    let mut summary: Vec<(String, Status, String)> = Vec::new();
    let ok = steps(output, &mut summary)?;
    println!("{}", output.bold("summary"));
    for (step, status, text) in &summary {
        let status = match status {
            Status::Ok => output.good("ok     "),
            Status::Skipped => "skipped".to_string(),
            Status::Failed => output.error_label().replace("error:", "FAILED "),
        };
        println!("  {step:<8} {status} {text}");
    }
    Ok(ok)
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ok,
    Skipped,
    Failed,
}

impl From<bool> for Status {
    fn from(ok: bool) -> Self {
        if ok { Status::Ok } else { Status::Failed }
    }
}

fn heading(output: Output, text: &str) {
    println!("{}", output.bold(&format!("== {text}")));
}

fn steps(output: Output, summary: &mut Vec<(String, Status, String)>) -> Result<bool> {
    heading(output, "cargo xtask check");
    let Some(package) = project::load_default_package(output)? else {
        summary.push(("check".into(), Status::Failed, "the specs do not check".into()));
        return Ok(false);
    };
    let text = format!(
        "{} in {}, {}",
        plural(package.machines.len(), "machine"),
        plural(package.sources.len(), "file"),
        plural(package.warnings.warning_count(), "warning")
    );
    println!("checked {text}\n");
    summary.push(("check".into(), Status::Ok, text));

    heading(output, "cargo xtask regen");
    let regen = regen::regen(false, output)?;
    println!();
    summary.push(("regen".into(), regen.ok.into(), regen.summary));
    if !regen.ok {
        return Ok(false);
    }

    heading(output, "cargo xtask verify");
    let verify = verify::verify(&[], Bounds::default(), &verify::Options::default(), output)?;
    println!();
    summary.push(("verify".into(), verify.ok.into(), verify.summary));
    if !verify.ok {
        return Ok(false);
    }

    heading(output, "cargo xtask conformance");
    let args = conformance::Args { machines: Vec::new(), seed: conformance::DEFAULT_SEED, walks: 8, length: 24 };
    let conformance = conformance::conformance(&args, output)?;
    println!();
    summary.push(("conform".into(), conformance.ok.into(), conformance.summary));
    if !conformance.ok {
        return Ok(false);
    }

    heading(output, "cargo run -p meerkat-runtime --example sessions");
    let root = project::root();
    if !root.join(EXAMPLE).is_file() {
        let text = format!("`{EXAMPLE}` does not exist yet");
        println!("skipped: {text}\n");
        summary.push(("example".into(), Status::Skipped, text));
        return Ok(true);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "--quiet", "-p", "meerkat-runtime", "--example", "sessions"])
        .current_dir(&root)
        .status()
        .context("cannot run cargo")?;
    println!();
    let passed = status.success();
    summary.push(("example".into(), passed.into(), if passed { "ran".into() } else { format!("failed ({status})") }));
    Ok(passed)
}
