//! Model-based conformance of the runtime to its spec (`cargo xtask conformance`).
//!
//! The tests come from the spec ([`meerkat_dsl::explore::generate`]: a shortest sequence to every transition,
//! plus seeded random walks); the harness ([`meerkat_dsl::explore::conformance`]) replays them on the runtime
//! through its public API ([`runtime_adapter`], the one place that knows that API) and on the reference
//! interpreter, and reports the first divergence of each sequence. [`check_meerkat_machine`] runs the whole
//! check; [`Summary`] says which transitions the runtime was driven through, which the adapter lists as not
//! reachable from the public API (with the reason), and which are neither (a gap that fails the check).

pub mod mirror {
    //! The mirror kernels: the runtime's specs compiled with interpreter conversions.
    pub mod meerkat_machine;
}
pub mod runtime_adapter;

use std::collections::BTreeSet;

use meerkat_dsl::CheckedMachine;
use meerkat_dsl::explore::Bounds;
use meerkat_dsl::explore::conformance::{self, AdapterError, Conformance};
use meerkat_dsl::explore::generate::{TestSuite, Walks, generate_for};

/// The spec the runtime implements.
pub const SPEC: &str = include_str!("../../machines/meerkat.machine");
/// The machine of [`SPEC`] the runtime's sessions implement.
pub const MACHINE: &str = "MeerkatMachine";

/// Why a conformance check could not run.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The spec does not check (the build would have failed first).
    #[error("machines/meerkat.machine does not check:\n{0}")]
    Spec(String),
    /// The machine cannot be explored.
    #[error("{0}")]
    Explore(String),
    /// The adapter could not drive or observe the runtime.
    #[error("the runtime adapter failed: {0}")]
    Adapter(#[from] AdapterError),
}

/// The outcome of one machine's conformance check.
pub struct Summary {
    /// The checked machine.
    pub machine: CheckedMachine,
    /// The generated tests.
    pub suite: TestSuite,
    /// What the replay found.
    pub conformance: Conformance,
    /// Transitions neither covered nor listed in [`runtime_adapter::UNREACHABLE`].
    pub gaps: Vec<String>,
    /// Listed transitions the runtime did reach after all (the list is stale).
    pub stale: Vec<String>,
}

impl Summary {
    /// No divergence, no gap, no stale entry.
    pub fn ok(&self) -> bool {
        self.conformance.divergences.is_empty() && self.gaps.is_empty() && self.stale.is_empty()
    }

    /// The summary line: `transitions covered N of M`.
    pub fn coverage_line(&self) -> String {
        format!("transitions covered {} of {}", self.conformance.covered.len(), self.conformance.transitions)
    }
}

/// Generates MeerkatMachine's tests (with `walks`) and replays them on the runtime.
///
/// # Errors
///
/// The spec does not check, the machine cannot be explored, or the adapter failed.
pub fn check_meerkat_machine(walks: &Walks) -> Result<Summary, ConformanceError> {
    let package = meerkat_dsl::check_source("machines/meerkat.machine", SPEC)
        .map_err(|e| ConformanceError::Spec(e.render(Default::default())))?;
    let Some(machine) = package.machines.into_iter().find(|m| m.name == MACHINE) else {
        return Err(ConformanceError::Spec(format!("no machine `{MACHINE}`")));
    };
    let suite = generate_for(&machine, &Bounds::default(), walks, &runtime_adapter::drivable)
        .map_err(|e| ConformanceError::Explore(e.describe(machine.ir())))?;
    let mut runtime = runtime_adapter::RuntimeUnderTest::new()?;
    let conformance = conformance::check(&machine, &suite, &mut runtime)?;
    let listed: BTreeSet<&str> = runtime_adapter::UNREACHABLE.iter().map(|(name, _)| *name).collect();
    let mut gaps = Vec::new();
    let mut stale = Vec::new();
    for (i, transition) in machine.ir().transitions.iter().enumerate() {
        let covered = conformance.covered.contains(&meerkat_dsl::ir::TransitionId(i as u32));
        match (covered, listed.contains(transition.name.as_str())) {
            (false, false) => gaps.push(transition.name.clone()),
            (true, true) => stale.push(transition.name.clone()),
            _ => {}
        }
    }
    Ok(Summary { machine, suite, conformance, gaps, stale })
}

/// The report as text: the coverage line, the unreachable transitions with their reasons, the gaps, and each
/// divergence as a diff (at most `max_divergences`).
pub fn render(summary: &Summary, max_divergences: usize) -> String {
    let machine = summary.machine.ir();
    let mut out = format!("{}: {}\n", machine.name, summary.coverage_line());
    let sequences = summary.suite.sequences.len();
    let stopped = summary.conformance.unsupported.len();
    out.push_str(&format!(
        "  {sequences} sequences replayed ({} covering), {stopped} stopped at a step the public API cannot take alone\n",
        summary.suite.covering().count()
    ));
    for (name, reason) in runtime_adapter::UNREACHABLE {
        out.push_str(&format!("  not reachable from the public API: {name}: {reason}\n"));
    }
    for name in &summary.suite.unreached {
        let name = machine.transitions.get(name.index()).map_or("?", |t| t.name.as_str());
        out.push_str(&format!("  no generated sequence drives it (not drivable, or beyond the bounds): {name}\n"));
    }
    for name in &summary.gaps {
        out.push_str(&format!("  error: transition `{name}` was neither reached nor listed as unreachable\n"));
    }
    for name in &summary.stale {
        out.push_str(&format!("  error: transition `{name}` is listed as unreachable but was reached\n"));
    }
    let divergences = &summary.conformance.divergences;
    out.push_str(&format!("  {} divergences\n", divergences.len()));
    for divergence in divergences.iter().take(max_divergences) {
        out.push_str(&format!("divergence in sequence {}:\n", divergence.sequence + 1));
        for line in conformance::render_divergence(machine, divergence).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}
