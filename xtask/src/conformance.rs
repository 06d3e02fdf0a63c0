//! `cargo xtask conformance [MACHINE...]`: model-based conformance of implementations to their specs. For each
//! machine of `machines/` that has an implementation under test (today MeerkatMachine, implemented by the
//! runtime's sessions, see `meerkat-conformance`), it generates a shortest sequence to every transition plus
//! seeded random walks, replays them on the implementation and on the reference interpreter, and prints
//! `transitions covered N of M`, the transitions listed as unreachable from the public API, and every
//! divergence as a diff. It fails on a divergence or on a transition neither covered nor listed; machines
//! without an implementation are named and skipped.

use anyhow::{Result, bail};
use meerkat_dsl::explore::generate::Walks;

use crate::project::{self, Output};

/// The seed CI and `cargo xtask all` use.
pub const DEFAULT_SEED: u64 = 13;

/// Arguments of `cargo xtask conformance`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machines to check, by name (default: every machine in machines/).
    #[arg(value_name = "MACHINE")]
    pub machines: Vec<String>,
    /// The seed of the random walks.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// How many random walks to replay.
    #[arg(long, default_value_t = 8)]
    pub walks: usize,
    /// The messages per random walk.
    #[arg(long, default_value_t = 24)]
    pub length: usize,
}

/// What a conformance run found, for `all`'s summary.
pub struct Outcome {
    /// No divergence, no gap.
    pub ok: bool,
    /// One line.
    pub summary: String,
}

/// Runs `cargo xtask conformance`.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    Ok(conformance(args, output)?.ok)
}

/// Checks the machines asked for and prints the report.
pub fn conformance(args: &Args, output: Output) -> Result<Outcome> {
    let Some(package) = project::load_default_package(output)? else {
        return Ok(Outcome { ok: false, summary: "the specs do not check".into() });
    };
    let names: Vec<String> = package.machines.iter().map(|m| m.name.clone()).collect();
    for asked in &args.machines {
        if !names.contains(asked) {
            bail!("no machine `{asked}` in machines/ (machines: {})", names.join(", "));
        }
    }
    let selected: Vec<&String> =
        names.iter().filter(|n| args.machines.is_empty() || args.machines.contains(n)).collect();
    let mut ok = true;
    let mut lines = Vec::new();
    for name in selected {
        if name != meerkat_conformance::MACHINE {
            println!("{name}: no implementation under test, skipped");
            continue;
        }
        let walks = Walks { count: args.walks, length: args.length, seed: args.seed };
        let summary = meerkat_conformance::check_meerkat_machine(&walks)?;
        print!("{}", meerkat_conformance::render(&summary, 10));
        if summary.ok() {
            println!("{}", output.good(&format!("{name}: conforms (seed {})", args.seed)));
        } else {
            println!("{} {name} does not conform (seed {})", output.error_label(), args.seed);
            ok = false;
        }
        lines.push(format!(
            "{name}: {}, {} divergences",
            summary.coverage_line(),
            summary.conformance.divergences.len()
        ));
    }
    Ok(Outcome { ok, summary: lines.join("; ") })
}
