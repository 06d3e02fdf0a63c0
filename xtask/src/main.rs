//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`), in the style of
//! rust-analyzer's xtask: plain Rust instead of shell scripts, so it works the same on every machine.
//!
//! - `check [FILES...] [--uncovered]`: check spec files and print their diagnostics (default: every
//!   `machines/*.machine`, as one package);
//! - `regen [--check]`: write (or, with `--check`, compare) the artifacts in `machines/generated/`;
//! - `verify [MACHINE... | FILE...]`: bounded model checking over the reference interpreter;
//! - `conformance [MACHINE...] [--seed S]`: replay tests generated from the specs on their implementations (the
//!   runtime for MeerkatMachine) and report coverage and divergences;
//! - `fuzz [--inputs N] [--seed S]`: a deterministic fuzz campaign over the front end;
//! - `fmt [FILES...] [--check]`: format spec files in place (default: the machines, the test specs and the
//!   language reference's examples); with `--check`, fail when one is not formatted;
//! - `all`: check, regen, verify, conformance, then run the runtime example: the one command that shows everything working;
//! - `crash [--kills N] [--seed S]`: the SQLite store's crash test at full count (100 SIGKILLs by default).
//!
//! Every command exits with status 1 on a failure and prints why; none panics on bad input. The crate's tests
//! guard the workspace too: `regen`'s test fails when `machines/generated/` is stale, and `tidy` holds the house
//! rules (module docs, no skipped tests, file length).

// A command-line tool reports on stdout and stderr by design.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod all;
mod check;
mod conformance;
mod crash;
mod fmt;
mod fuzz;
mod itf;
mod project;
mod regen;
mod select;
mod sync;
#[cfg(test)]
mod tidy;
mod verify;
mod verify_json;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for the machine spec compiler.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check spec files and print their diagnostics.
    Check(check::Args),
    /// Write the generated artifacts into machines/generated/ (with --check: only compare).
    Regen(regen::Args),
    /// Model-check machines: explore every input sequence up to a depth over the reference interpreter.
    Verify(verify::Args),
    /// Check, regenerate, verify, then run the runtime example: the main job, in one command.
    All,
    /// Replay tests generated from the specs on their implementations and compare with the interpreter.
    Conformance(conformance::Args),
    /// Fuzz the front end: random, token-soup and mutated specs, each checked on a small stack.
    Fuzz(fuzz::Args),
    /// Kill a process accepting durable inputs at random moments and check every acknowledged input survived.
    Crash(crash::Args),
    /// Format spec files in place (with --check: only report the ones that are not formatted).
    Fmt(fmt::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = project::Output::detect();
    // `verify` of spec files reads only those files; every other command works on the workspace's `machines/`.
    let needs_workspace = match &cli.command {
        Command::Verify(args) => args.targets.is_empty() || !args.targets.iter().all(|t| select::is_path(t)),
        _ => true,
    };
    if let Err(error) = project::locate_root()
        && needs_workspace
    {
        eprintln!("{} {error:#}", output.error_label());
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Check(args) => check::run(&args, output),
        Command::Regen(args) => regen::run(&args, output),
        Command::Verify(args) => verify::run(&args, output),
        Command::All => all::run(output),
        Command::Fuzz(args) => fuzz::run(&args, output),
        Command::Crash(args) => crash::run(&args),
        Command::Conformance(args) => conformance::run(&args, output),
        Command::Fmt(args) => fmt::run(&args, output),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("{} {error:#}", output.error_label());
            ExitCode::FAILURE
        }
    }
}
