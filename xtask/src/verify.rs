//! `cargo xtask verify [MACHINE... | FILE...]`: bounded model checking with `meerkat_dsl::explore`, of every
//! machine in `machines/`, of the machines named (checking only their files and the files their compositions
//! need, see [`crate::select`]), or of every machine in the spec files given.
//!
//! Per machine it prints how far the search got, every bound that cut it (by the flag that sets it, with how
//! much it cut), the transitions that never fired, the inputs each invariant rejected, and every problem found
//! with a shortest trace. The last line says what the run adds up to, and so does the exit status:
//! - `verified ...` (status 0): nothing was cut and nothing found, for every machine;
//! - `bounded: ...` (status 0): nothing found, but a bound cut the search of some machine; the line names
//!   them and the flags to raise. Such a run never says "verified";
//! - `error: verification found ...` (status 1): a problem was found, or a machine could not be explored.

use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::{Result, anyhow};
use meerkat_dsl::CheckedMachine;
use meerkat_dsl::explore::{self, Bounds, Cut, ExploreError, Report, Verdict};
use meerkat_dsl::ir::Type;

use crate::project::{self, Output, plural};
use crate::select;

/// Arguments of `cargo xtask verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machines to verify, by name (found in machines/), or spec files to verify every machine of
    /// (default: every machine in machines/).
    #[arg(value_name = "MACHINE|FILE")]
    pub targets: Vec<String>,
    /// Explore the states reached by at most this many inputs (default: the model block's `depth`, else 8).
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
    /// At most this many values per type; a declared domain with more is an error.
    #[arg(long, default_value_t = Bounds::default().max_values)]
    pub max_values: usize,
}

/// What a verification found.
pub struct Outcome {
    /// Whether nothing was found (the search may have been bounded).
    pub ok: bool,
    /// The last line printed.
    pub summary: String,
}

/// Runs the command; `Ok(false)` when a machine has a problem or could not be explored.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    let bounds = Bounds {
        depth: args.depth,
        max_states: args.max_states,
        max_applications: args.max_applications,
        max_messages: args.max_messages,
        max_values: args.max_values,
    };
    Ok(verify(&args.targets, bounds, output)?.ok)
}

/// Verifies the targets (machine names or spec files; every machine of `machines/` when empty).
pub fn verify(targets: &[String], bounds: Bounds, output: Output) -> Result<Outcome> {
    let selection = select::select(targets)?;
    let Some(package) = project::load_package(&selection.base, &selection.files, output)? else {
        return Ok(Outcome { ok: false, summary: "the specs do not check".to_string() });
    };
    let selected: Vec<&CheckedMachine> = match &selection.machines {
        None => package.machines.iter().collect(),
        Some(names) => {
            let mut selected = Vec::new();
            for name in names {
                let machine = package.machine(name).ok_or_else(|| anyhow!("no machine named `{name}`"))?;
                selected.push(machine);
            }
            selected
        }
    };
    if selected.is_empty() {
        return Err(anyhow!("no machines to verify"));
    }
    let files: Vec<&str> = package.sources.iter().map(|s| s.name.as_str()).collect();
    println!("spec files: {}\n", files.join(", "));

    let mut tally = Tally::default();
    for machine in &selected {
        let spec = package.source_of(machine).map_or("?", |s| s.name.as_str());
        let explored = catch_unwind(AssertUnwindSafe(|| explore::explore(machine, &bounds)))
            .map_err(|_| anyhow!("internal error: the explorer panicked on `{}`; this is a bug", machine.name))?;
        println!("{} ({spec})", output.bold(&format!("verifying {}", machine.name)));
        match explored {
            Ok(report) => {
                print_report(machine, &report, &bounds, output);
                tally.add(machine, &report);
            }
            Err(error) => {
                print_refusal(machine, &error, output);
                tally.refused += 1;
            }
        }
        println!();
    }
    let summary = tally.summary(selected.len(), output);
    println!("{summary}");
    Ok(Outcome { ok: tally.problems == 0 && tally.refused == 0, summary })
}

/// What the machines of one run added up to.
#[derive(Default)]
struct Tally {
    states: usize,
    problems: usize,
    failed_machines: usize,
    refused: usize,
    /// The machines whose search was cut, and the flags that cut them.
    bounded: Vec<String>,
    flags: Vec<&'static str>,
}

impl Tally {
    fn add(&mut self, machine: &CheckedMachine, report: &Report) {
        self.states += report.states;
        self.problems += report.findings.len();
        if report.verdict() == Verdict::Failed {
            self.failed_machines += 1;
        }
        if !report.is_exhaustive() {
            self.bounded.push(machine.name.clone());
            for cut in &report.cuts {
                let flag = flag(cut);
                if !self.flags.contains(&flag) {
                    self.flags.push(flag);
                }
            }
        }
    }

    fn summary(&self, machines: usize, output: Output) -> String {
        if self.problems > 0 || self.refused > 0 {
            let mut parts = Vec::new();
            if self.problems > 0 {
                parts.push(format!(
                    "{} in {}",
                    plural(self.problems, "problem"),
                    plural(self.failed_machines, "machine")
                ));
            }
            if self.refused > 0 {
                parts.push(format!("{} that could not be explored", plural(self.refused, "machine")));
            }
            return format!("{} verification found {}", output.error_label(), parts.join(" and "));
        }
        if self.bounded.is_empty() {
            return format!(
                "verified {}: exhaustive, {} explored, no ambiguous transitions or arithmetic errors",
                plural(machines, "machine"),
                plural(self.states, "state")
            );
        }
        format!(
            "bounded: no ambiguous transitions or arithmetic errors in the {} explored of {}, but the search was \
             cut for {} ({}); raise {} to search further",
            plural(self.states, "state"),
            plural(machines, "machine"),
            plural(self.bounded.len(), "machine"),
            self.bounded.join(", "),
            self.flags.join(", ")
        )
    }
}

/// The command-line flag that sets the bound behind a cut.
fn flag(cut: &Cut) -> &'static str {
    match cut {
        Cut::Depth { .. } => "--depth",
        Cut::States { .. } => "--max-states",
        Cut::Applications { .. } => "--max-applications",
        Cut::Values { .. } => "--max-values",
        Cut::Payloads { .. } => "--max-messages",
    }
}

fn print_report(machine: &CheckedMachine, report: &Report, bounds: &Bounds, output: Output) {
    println!(
        "  {} found (the deepest at depth {} of {}), {} applied ({} in each state)",
        plural(report.states, "state"),
        report.depth_reached,
        report.depth_bound,
        plural(report.applications as usize, "message"),
        report.messages.len()
    );
    if report.is_exhaustive() {
        println!(
            "  exhaustive: every state reachable with the model's payload values was explored, every message tried in each"
        );
    } else {
        println!("  bounded: the search was cut by");
        for cut in &report.cuts {
            println!("    {}", describe_cut(machine, cut, bounds));
        }
    }
    if !report.default_domains.is_empty() {
        let defaults: Vec<String> = report
            .default_domains
            .iter()
            .map(|ty| match ty {
                Type::U64 => {
                    let values: Vec<String> = explore::domains::DEFAULT_U64.iter().map(u64::to_string).collect();
                    format!("u64 ({})", values.join(", "))
                }
                Type::String => {
                    let values: Vec<String> =
                        explore::domains::DEFAULT_STRINGS.iter().map(|s| format!("{s:?}")).collect();
                    format!("String ({})", values.join(", "))
                }
                other => machine.type_name(other),
            })
            .collect();
        println!(
            "  payload values: the defaults for {}; a `domain` in the model block tries others",
            defaults.join(" and ")
        );
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
        let scope = if report.is_exhaustive() { "" } else { " in the states explored" };
        println!("  {} no ambiguous transitions or arithmetic errors{scope}", output.good("ok"));
    }
    for finding in &report.findings {
        println!("  {} {}: {}", output.error_label(), finding.problem.kind(), finding.problem.describe(machine));
        println!("    shortest trace from the initial state:");
        let last = finding.trace.len();
        for (i, message) in finding.trace.iter().enumerate() {
            let marker = if i + 1 == last { "   <- rejected" } else { "" };
            println!("    {:>4}. {}{marker}", i + 1, explore::render_message(machine, message));
        }
    }
}

/// One cut, by the flag that sets its bound, with what it left out.
fn describe_cut(machine: &CheckedMachine, cut: &Cut, bounds: &Bounds) -> String {
    let flag = flag(cut);
    match cut {
        Cut::Depth { bound, beyond } => {
            let from =
                if bounds.depth.is_none() && machine.model.depth.is_some() { " (the model block's)" } else { "" };
            format!("{flag} {bound}{from}: {} one input deeper not explored", plural(*beyond, "new state"))
        }
        Cut::States { limit, dropped } => {
            format!("{flag} {limit}: {} found but not added", plural(*dropped, "new state"))
        }
        Cut::Applications { limit, unexpanded } => {
            format!("{flag} {limit}: used up with {} not fully explored", plural(*unexpanded, "state"))
        }
        Cut::Values { ty, limit, total } => {
            format!("{flag} {limit}: `{}` has {total} values, the first {limit} tried", machine.type_name(ty))
        }
        Cut::Payloads { trigger, limit, total } => format!(
            "{flag} {limit}: `{}` has {total} payload combinations, {limit} tried",
            explore::trigger_label(machine, *trigger)
        ),
    }
}

fn print_refusal(machine: &CheckedMachine, error: &ExploreError, output: Output) {
    match error {
        ExploreError::DomainTooLarge { target, values, limit } => {
            println!(
                "  {} {} has {values} values, more than --max-values {limit}",
                output.error_label(),
                explore::domain_name(machine, target)
            );
            println!(
                "    help: declared domains are used whole, never cut: pass --max-values {values}, or declare fewer \
                 values"
            );
        }
        other => println!("  {} cannot explore `{}`: {}", output.error_label(), machine.name, other.describe(machine)),
    }
}
