//! `cargo xtask crash [--kills N] [--seed S]`: the SQLite store's crash test at full count. It runs the runtime's
//! `crash` test (`runtime/tests/crash.rs`: a child process accepting inputs on several sessions is SIGKILLed at
//! random moments, and every acknowledged input must be in the file afterwards) with `MEERKAT_CRASH_KILLS=N`,
//! 100 by default; CI runs the same test with its own small count.

use std::process::Command;

use anyhow::{Context, Result};

use crate::project;

/// Arguments of `cargo xtask crash`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many times the child is killed.
    #[arg(long, default_value_t = 100)]
    kills: u32,
    /// The seed of the kill moments (default: the clock; the test prints the seed it used).
    #[arg(long)]
    seed: Option<u64>,
}

/// Runs the crash test; `Ok(false)` when it failed.
pub fn run(args: &Args) -> Result<bool> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["test", "-p", "meerkat-runtime", "--test", "crash", "--", "--nocapture", "acknowledged_inputs"])
        .env("MEERKAT_CRASH_KILLS", args.kills.to_string())
        .current_dir(project::root());
    if let Some(seed) = args.seed {
        command.env("MEERKAT_CRASH_SEED", seed.to_string());
    }
    let status = command.status().context("cannot run cargo")?;
    Ok(status.success())
}
