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
//!
//! Problems are: an ambiguous transition or an arithmetic error (with a shortest trace); a violated `property`
//! (printed as a diagnostic on the property, then its shortest counterexample, step by step with the state
//! fields each step changed); a `reachable` goal that an exhaustive search never reached (a goal not reached by
//! a bounded search is reported, not counted); and a transition that never fired although the model block's
//! `unfired` does not list it, or one it lists that fired (the coverage gate). `--trace-out FILE` writes the
//! first counterexample or witness as an ITF trace ([`crate::itf`]); `--format json` prints one JSON object per
//! machine instead of the text ([`crate::verify_json`]).

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use meerkat_dsl::ast::PropertyKind;
use meerkat_dsl::explore::replay::{Replay, replay};
use meerkat_dsl::explore::{self, Bounds, Cut, ExploreError, PropertyOutcome, Report, Verdict};
use meerkat_dsl::interp::Message;
use meerkat_dsl::ir::Type;
use meerkat_dsl::{CheckedMachine, Source};

use crate::project::{self, Output, plural};
use crate::{itf, select, verify_json};

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
    /// How to print the results: text for people, or one JSON object per machine.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the first counterexample (else the first witness, else the first finding's trace) to this file as
    /// an ITF JSON trace.
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
}

/// How `verify` prints its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Text,
    /// One JSON object per machine, one per line.
    Json,
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
    let options = Options { format: args.format, trace_out: args.trace_out.clone() };
    Ok(verify(&args.targets, bounds, &options, output)?.ok)
}

/// How to report a verification.
#[derive(Clone, Debug)]
pub struct Options {
    /// Text or JSON.
    pub format: Format,
    /// Where to write an ITF trace, if anywhere.
    pub trace_out: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options { format: Format::Text, trace_out: None }
    }
}

/// Verifies the targets (machine names or spec files; every machine of `machines/` when empty).
pub fn verify(targets: &[String], bounds: Bounds, options: &Options, output: Output) -> Result<Outcome> {
    let json = options.format == Format::Json;
    let output = Output { diagnostics_to_stderr: json, ..output };
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
    if !json {
        println!("spec files: {}\n", files.join(", "));
    }

    let mut tally = Tally::default();
    let mut trace_written: Option<TraceChoice> = None;
    for machine in &selected {
        let source = package.source_of(machine);
        let spec = source.map_or("?", |s| s.name.as_str());
        let explored = catch_unwind(AssertUnwindSafe(|| explore_with_progress(machine, &bounds)))
            .map_err(|_| anyhow!("internal error: the explorer panicked on `{}`; this is a bug", machine.name))?;
        if !json {
            println!("{} ({spec})", output.bold(&format!("verifying {}", machine.name)));
        }
        match explored {
            Ok(report) => {
                if json {
                    println!("{}", verify_json::machine_report(machine, spec, &report));
                } else {
                    print_report(machine, source, &report, &bounds, output);
                }
                tally.add(machine, &report);
                if let Some(choice) = TraceChoice::of(machine, &report) {
                    if trace_written.as_ref().is_none_or(|c| choice.rank < c.rank) {
                        trace_written = Some(choice.with_source(spec));
                    }
                }
            }
            Err(error) => {
                if json {
                    println!("{}", verify_json::refusal(machine, spec, &error.describe(machine)));
                } else {
                    print_refusal(machine, &error, output);
                }
                tally.refused += 1;
            }
        }
        if !json {
            println!();
        }
    }
    if let Some(path) = &options.trace_out {
        write_trace(path, trace_written.as_ref(), json, output)?;
    }
    let summary = tally.summary(selected.len(), output);
    if json {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    Ok(Outcome { ok: tally.problems == 0 && tally.refused == 0, summary })
}

/// Explores one machine, with a progress line on stderr when it is a terminal (and nothing otherwise).
fn explore_with_progress(machine: &CheckedMachine, bounds: &Bounds) -> Result<Report, ExploreError> {
    if !std::io::stderr().is_terminal() {
        return explore::explore(machine, bounds);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let style = indicatif::ProgressStyle::with_template("{spinner} {prefix}: {human_pos} states, {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_prefix(machine.name.clone());
    bar.set_message("depth 0");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let report = explore::explore_with(machine, bounds, &mut |progress: explore::Progress| {
        bar.set_position(progress.states as u64);
        let seconds = bar.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!("depth {}, {:.0} states/s", progress.depth, progress.states as f64 / seconds));
    });
    bar.finish_and_clear();
    report
}

/// The trace `--trace-out` writes: a counterexample beats a witness, which beats a finding's trace.
struct TraceChoice {
    rank: u8,
    description: String,
    replay: Replay,
    machine: meerkat_dsl::ir::Machine,
    source: String,
}

impl TraceChoice {
    fn of(machine: &CheckedMachine, report: &Report) -> Option<Self> {
        let name = |index: usize| machine.properties.get(index).map_or("?", |p| p.name.as_str()).to_string();
        let violated = report.properties.iter().find_map(|p| match &p.outcome {
            PropertyOutcome::Violated { trace, .. } => {
                Some((0, format!("counterexample to property `{}`", name(p.property.index())), trace))
            }
            _ => None,
        });
        let reached = || {
            report.properties.iter().find_map(|p| match &p.outcome {
                PropertyOutcome::Reached { trace } => {
                    Some((1, format!("witness of reachable `{}`", name(p.property.index())), trace))
                }
                _ => None,
            })
        };
        let finding = || {
            report
                .findings
                .first()
                .map(|f| (2, format!("{}: {}", f.problem.kind(), f.problem.describe(machine)), &f.trace))
        };
        let (rank, description, trace) = violated.or_else(reached).or_else(finding)?;
        let replay = replay(machine, trace).ok()?;
        Some(TraceChoice { rank, description, replay, machine: machine.ir().clone(), source: String::new() })
    }

    fn with_source(self, source: &str) -> Self {
        TraceChoice { source: source.to_string(), ..self }
    }
}

fn write_trace(path: &std::path::Path, choice: Option<&TraceChoice>, json: bool, output: Output) -> Result<()> {
    let Some(choice) = choice else {
        let line = format!("no trace to write to `{}`: nothing was violated, reached or found", path.display());
        if json {
            eprintln!("{line}")
        } else {
            println!("{line}\n")
        }
        return Ok(());
    };
    let document = itf::trace(&choice.machine, &choice.replay, &choice.source, &choice.description);
    let text = serde_json::to_string_pretty(&document).context("serialising the trace")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing `{}`", path.display()))?;
    let line = format!("{} wrote the {} to `{}` (ITF JSON)", output.good("trace:"), choice.description, path.display());
    if json {
        eprintln!("{line}")
    } else {
        println!("{line}\n")
    }
    Ok(())
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
        let exhaustive = report.is_exhaustive();
        let property_errors = report.properties.iter().filter(|p| p.is_error(exhaustive)).count();
        let gaps = report.unexpected_gaps(machine).len() + report.fired_though_unfired(machine).len();
        self.problems += report.findings.len() + property_errors + gaps;
        if report.verdict() == Verdict::Failed || gaps > 0 {
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

fn print_report(machine: &CheckedMachine, source: Option<&Source>, report: &Report, bounds: &Bounds, output: Output) {
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
    print_coverage(machine, report, output);
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
    print_properties(machine, source, report, output);
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

/// Which transitions fired, and the coverage gate: a transition that never fired is an error unless the model
/// block's `unfired` lists it, and one listed there that fired is an error too.
fn print_coverage(machine: &CheckedMachine, report: &Report, output: Output) {
    let total = machine.transitions.len();
    let never = report.never_fired();
    let name = |t: &meerkat_dsl::ir::TransitionId| machine.transitions.get(t.index()).map_or("?", |t| t.name.as_str());
    if never.is_empty() {
        println!("  transitions fired: all {total}");
    } else {
        println!("  transitions fired: {} of {total}", total - never.len());
    }
    let expected: Vec<&str> =
        never.iter().filter(|t| machine.model.unfired.iter().any(|(u, _)| u == *t)).map(name).collect();
    if !expected.is_empty() {
        println!("  never fired, as the model block's `unfired` expects: {}", expected.join(", "));
    }
    let gaps = report.unexpected_gaps(machine);
    if !gaps.is_empty() {
        let names: Vec<&str> = gaps.iter().map(name).collect();
        let scope = if report.is_exhaustive() { "in any reachable state" } else { "within the bounds" };
        println!("  {} coverage: never fired {scope}: {}", output.error_label(), names.join(", "));
        println!(
            "    help: raise the bounds until they fire, or list them in the model block as `unfired = [{}]` with a \
             comment saying why",
            names.join(", ")
        );
    }
    for fired in report.fired_though_unfired(machine) {
        let count = report.fired.get(fired.index()).copied().unwrap_or(0);
        println!(
            "  {} coverage: `{}` is listed in `unfired` but fired {}",
            output.error_label(),
            name(&fired),
            plural(count as usize, "time")
        );
        println!("    help: remove it from `unfired`");
    }
}

/// Each property's outcome; a violation as a diagnostic on the property, then its counterexample.
fn print_properties(machine: &CheckedMachine, source: Option<&Source>, report: &Report, output: Output) {
    let exhaustive = report.is_exhaustive();
    let scope = if exhaustive { "every reachable state" } else { "every state explored" };
    for result in &report.properties {
        let Some(property) = machine.properties.get(result.property.index()) else { continue };
        let name = &property.name;
        match (&result.outcome, result.kind) {
            (PropertyOutcome::Holds, _) => println!("  {} property `{name}` holds in {scope}", output.good("ok")),
            (PropertyOutcome::Violated { trace, error }, _) => {
                let steps = plural(trace.len(), "step");
                let (headline, label) = match error {
                    None => (format!("property `{name}` is violated"), format!("false after {steps}")),
                    Some(error) => (
                        format!("property `{name}` fails to evaluate: {error}"),
                        format!("fails to evaluate after {steps}"),
                    ),
                };
                print_diagnostic(source, property.span, &headline, &label, output);
                print_steps(machine, trace, "shortest counterexample from the initial state");
            }
            (PropertyOutcome::Reached { trace }, _) => {
                println!("  {} reachable `{name}` reached in {}", output.good("ok"), plural(trace.len(), "step"));
                print_steps(machine, trace, "shortest witness from the initial state");
            }
            (PropertyOutcome::Unreached, PropertyKind::Reachable) if exhaustive => {
                print_diagnostic(
                    source,
                    property.span,
                    &format!("reachable `{name}` is unreachable"),
                    "holds in no reachable state",
                    output,
                );
            }
            (PropertyOutcome::Unreached, _) => println!(
                "  {} reachable `{name}` not reached within the bounds (the search was cut: raise the bounds to \
                 look further)",
                output.warning_label()
            ),
        }
    }
}

fn print_diagnostic(source: Option<&Source>, span: meerkat_dsl::Span, headline: &str, label: &str, output: Output) {
    match source {
        Some(source) => {
            let rendered = meerkat_dsl::render_finding(source, span, headline, label, output.render_options());
            for line in rendered.trim_end().lines() {
                println!("  {line}");
            }
        }
        None => println!("  {} {headline}", output.error_label()),
    }
}

/// A trace, numbered, with the state fields (and the phase) each step changed.
fn print_steps(machine: &CheckedMachine, trace: &[Message], heading: &str) {
    if trace.is_empty() {
        println!("    {heading}: the initial state itself");
        return;
    }
    println!("    {heading} ({}):", plural(trace.len(), "step"));
    let replayed = replay(machine, trace).ok();
    for (i, message) in trace.iter().enumerate() {
        println!("    {:>4}. {}", i + 1, explore::render_message(machine, message));
        let Some(replayed) = &replayed else { continue };
        let (phase_changed, fields) = replayed.changes(i);
        let (Some(step), before) = (replayed.steps.get(i), replayed.before(i)) else { continue };
        if phase_changed {
            let phase = |id: meerkat_dsl::ir::PhaseId| machine.phases.get(id.index()).map_or("?", |p| p.name.as_str());
            println!("            {} = {} (was {})", machine.phase_field, phase(step.state.phase), phase(before.phase));
        }
        for field in fields {
            let (Some(decl), Some(now), Some(was)) = (
                machine.fields.get(field.index()),
                step.state.fields.get(field.index()),
                before.fields.get(field.index()),
            ) else {
                continue;
            };
            println!("            {} = {} (was {})", decl.name, now.render(machine), was.render(machine));
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
