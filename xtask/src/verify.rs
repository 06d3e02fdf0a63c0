//! `cargo xtask verify [MACHINE...]`: bounded model checking of the machines in `machines/*.machine` with
//! `meerkat_dsl::explore`. Prints, per machine, the states explored, the depth reached, the transitions that
//! never fired, the inputs each invariant rejected, and every reachable ambiguity or arithmetic error with a
//! shortest input sequence that reaches it. Fails when there is any such finding.

use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::{Result, anyhow};
use meerkat_dsl::CheckedMachine;
use meerkat_dsl::explore::{self, Bounds, Report};
use meerkat_dsl::interp::Rejection;

use crate::project::{self, Output, plural};

/// Arguments of `cargo xtask verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machines to verify, by name (default: all).
    pub machines: Vec<String>,
    /// Longest input sequence to explore (default: the model block's `depth`, else 8).
    #[arg(long)]
    pub depth: Option<u64>,
    /// Stop adding states after this many per machine.
    #[arg(long, default_value_t = Bounds::default().max_states)]
    pub max_states: usize,
    /// Stop after applying this many messages per machine (the work budget).
    #[arg(long, default_value_t = Bounds::default().max_applications)]
    pub max_applications: u64,
    /// At most this many payload combinations per input or signal.
    #[arg(long, default_value_t = Bounds::default().max_messages)]
    pub max_messages: usize,
}

/// What a verification found.
pub struct Outcome {
    /// Whether nothing was found.
    pub ok: bool,
    /// A one-line summary.
    pub summary: String,
}

/// Runs the command; `Ok(false)` when a machine has a reachable ambiguity or arithmetic error.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    let bounds = Bounds {
        depth: args.depth,
        max_states: args.max_states,
        max_applications: args.max_applications,
        max_messages: args.max_messages,
        ..Bounds::default()
    };
    Ok(verify(&args.machines, bounds, output)?.ok)
}

/// Verifies the named machines (all when `names` is empty).
pub fn verify(names: &[String], bounds: Bounds, output: Output) -> Result<Outcome> {
    let Some(package) = project::load_default_package(output)? else {
        return Ok(Outcome { ok: false, summary: "the specs do not check".to_string() });
    };
    let mut selected: Vec<&CheckedMachine> = Vec::new();
    for name in names {
        match package.machine(name) {
            Some(machine) => selected.push(machine),
            None => {
                let known: Vec<&str> = package.machines.iter().map(|m| m.name.as_str()).collect();
                return Err(anyhow!("no machine named `{name}`; the machines are: {}", known.join(", ")));
            }
        }
    }
    if names.is_empty() {
        selected = package.machines.iter().collect();
    }

    let mut problems = 0usize;
    let mut states = 0usize;
    for machine in &selected {
        let spec = package.source_of(machine).map_or("?", |s| s.name.as_str());
        let report = catch_unwind(AssertUnwindSafe(|| explore::explore(machine, &bounds)))
            .map_err(|_| anyhow!("internal error: the explorer panicked on `{}`; this is a bug", machine.name))?
            .map_err(|e| anyhow!("cannot explore `{}`: {e}", machine.name))?;
        print_report(machine, spec, &report, output);
        problems += report.findings.len();
        states += report.states;
    }
    if problems == 0 {
        let summary = format!(
            "verified {}: {} explored, no ambiguous transitions or arithmetic errors",
            plural(selected.len(), "machine"),
            plural(states, "state")
        );
        println!("{summary}");
        Ok(Outcome { ok: true, summary })
    } else {
        let summary = format!("verification found {}", plural(problems, "problem"));
        println!("{} {summary}", output.error_label());
        Ok(Outcome { ok: false, summary })
    }
}

fn print_report(machine: &CheckedMachine, spec: &str, report: &Report, output: Output) {
    println!("{} ({spec})", output.bold(&format!("verifying {}", machine.name)));
    let search = if report.exhausted {
        format!("every reachable state seen by depth {} (bound {})", report.depth_reached, report.depth_bound)
    } else if report.state_limit_hit {
        format!("stopped at the state limit, depth {} of {}", report.depth_reached, report.depth_bound)
    } else if report.budget_exhausted {
        format!(
            "stopped at the budget of {} applications, depth {} of {}; raise it with --max-applications",
            report.applications, report.depth_reached, report.depth_bound
        )
    } else {
        format!("depth bound {} reached", report.depth_bound)
    };
    println!("  {} explored: {search}", plural(report.states, "state"));
    println!("  {} tried in each state", plural(report.messages.len(), "message"));
    if !report.capped_triggers.is_empty() {
        let names: Vec<&str> = report.capped_triggers.iter().map(|t| machine.trigger(*t).name.as_str()).collect();
        println!("  payload combinations capped for: {}", names.join(", "));
    }
    let never = report.never_fired();
    let total = machine.transitions.len();
    if never.is_empty() {
        println!("  transitions fired: all {total}");
    } else {
        let names: Vec<&str> =
            never.iter().filter_map(|t| machine.transitions.get(t.index())).map(|t| t.name.as_str()).collect();
        println!(
            "  {} transitions fired: {} of {total}; never fired: {}",
            output.warning_label(),
            total - never.len(),
            names.join(", ")
        );
    }
    for rejections in &report.invariant_rejections {
        let name = machine.invariants.get(rejections.invariant.index()).map_or("?", |i| i.name.as_str());
        println!(
            "  invariant `{name}` rejected {} (by design: the state stays valid)",
            plural(rejections.count as usize, "input")
        );
    }
    if report.findings.is_empty() {
        println!("  {} no ambiguous transitions, no arithmetic errors", output.good("ok"));
    }
    for finding in &report.findings {
        let kind = match finding.rejection {
            Rejection::AmbiguousTransition { .. } => "ambiguous transition",
            Rejection::ArithmeticOverflow { .. } => "arithmetic error",
            _ => "internal error",
        };
        println!("  {} {kind}: {}", output.error_label(), finding.rejection.describe(machine));
        println!("    shortest trace from the initial state:");
        let last = finding.trace.len();
        for (i, message) in finding.trace.iter().enumerate() {
            let marker = if i + 1 == last { "   <- rejected" } else { "" };
            println!("    {:>4}. {}{marker}", i + 1, explore::render_message(machine, message));
        }
    }
    println!();
}
