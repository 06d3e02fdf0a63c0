//! `cargo xtask verify --format json`: one JSON object per machine, on one line each, for tools. The fields:
//!
//! - `machine`, `spec` (the file), `verdict` (`exhaustive`, `bounded` or `failed`; `failed` also for a coverage
//!   gap), `exhaustive` (nothing was cut), `distinct_states`, `depth_reached`, `depth_bound`, `applications`;
//! - `cuts`: one object per bound that cut the search, `{"bound": "--depth", "limit": N, "cut": N}` (what the
//!   number cut is as the text says: new states, states not explored, values, combinations);
//! - `properties`: per `property`, `{"name", "holds", "trace"}` (`trace` the shortest counterexample, `null` when
//!   it holds); `reachable`: per goal, `{"name", "reached", "trace"}` (`trace` the shortest witness, `null` when
//!   not reached), with `"error": true` when not reaching it is an error (the search was exhaustive);
//! - `findings`: `{"kind", "message", "trace"}` per ambiguity or evaluation error;
//! - `never_fired`, `unexpected_gaps` (never fired and not in `unfired`), `fired_though_unfired`: transition
//!   names.
//!
//! A trace is a list of steps `{"input": "Deposit", "payload": {"amount": {"#bigint": "1"}}}`, the payload
//! values in the ITF encoding of [`crate::itf`]. A machine that could not be explored is
//! `{"machine", "spec", "verdict": "error", "error": "..."}`.

use meerkat_dsl::CheckedMachine;
use meerkat_dsl::ast::PropertyKind;
use meerkat_dsl::explore::{Cut, PropertyOutcome, Report, Verdict, trigger_label};
use meerkat_dsl::interp::Message;
use meerkat_dsl::ir::{Machine, Trigger};
use serde_json::{Map, Value as Json, json};

use crate::itf;

/// The JSON object of one explored machine.
pub fn machine_report(machine: &CheckedMachine, spec: &str, report: &Report) -> Json {
    let exhaustive = report.is_exhaustive();
    let gaps = report.unexpected_gaps(machine);
    let fired_though_unfired = report.fired_though_unfired(machine);
    let verdict = match report.verdict() {
        Verdict::Failed => "failed",
        _ if !gaps.is_empty() || !fired_though_unfired.is_empty() => "failed",
        Verdict::Exhaustive => "exhaustive",
        Verdict::Bounded => "bounded",
    };
    let transition = |t: &meerkat_dsl::ir::TransitionId| {
        machine.transitions.get(t.index()).map_or("?", |t| t.name.as_str()).to_string()
    };
    let mut properties = Vec::new();
    let mut reachable = Vec::new();
    for result in &report.properties {
        let name = machine.properties.get(result.property.index()).map_or("?", |p| p.name.as_str());
        let trace = result.trace().map_or(Json::Null, |t| trace(machine, t));
        match result.kind {
            PropertyKind::Always => properties.push(json!({
                "name": name,
                "holds": result.outcome == PropertyOutcome::Holds,
                "trace": trace,
            })),
            PropertyKind::Reachable => reachable.push(json!({
                "name": name,
                "reached": matches!(result.outcome, PropertyOutcome::Reached { .. }),
                "error": result.is_error(exhaustive),
                "trace": trace,
            })),
        }
    }
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| json!({ "kind": f.problem.kind(), "message": f.problem.describe(machine), "trace": trace(machine, &f.trace) }))
        .collect();
    json!({
        "machine": machine.name,
        "spec": spec,
        "verdict": verdict,
        "exhaustive": exhaustive,
        "distinct_states": report.states,
        "depth_reached": report.depth_reached,
        "depth_bound": report.depth_bound,
        "applications": report.applications,
        "cuts": report.cuts.iter().map(cut).collect::<Vec<_>>(),
        "properties": properties,
        "reachable": reachable,
        "findings": findings,
        "never_fired": report.never_fired().iter().map(transition).collect::<Vec<_>>(),
        "unexpected_gaps": gaps.iter().map(transition).collect::<Vec<_>>(),
        "fired_though_unfired": fired_though_unfired.iter().map(transition).collect::<Vec<_>>(),
    })
}

/// The JSON object of a machine that could not be explored.
pub fn refusal(machine: &CheckedMachine, spec: &str, error: &str) -> Json {
    json!({ "machine": machine.name, "spec": spec, "verdict": "error", "error": error })
}

fn cut(cut: &Cut) -> Json {
    let (bound, limit, amount) = match cut {
        Cut::Depth { bound, beyond } => ("--depth", *bound, *beyond as u64),
        Cut::States { limit, dropped } => ("--max-states", *limit as u64, *dropped as u64),
        Cut::Applications { limit, unexpanded } => ("--max-applications", *limit, *unexpanded as u64),
        Cut::Values { limit, total, .. } => ("--max-values", *limit as u64, *total),
        Cut::Payloads { limit, total, .. } => ("--max-messages", *limit as u64, *total),
    };
    json!({ "bound": bound, "limit": limit, "cut": amount })
}

/// A trace as a list of inputs with their payloads.
fn trace(machine: &Machine, messages: &[Message]) -> Json {
    Json::Array(messages.iter().map(|m| step(machine, m)).collect())
}

fn step(machine: &Machine, message: &Message) -> Json {
    let declaration = match message.trigger {
        Trigger::Input(id) => machine.inputs.get(id.index()),
        Trigger::Signal(id) => machine.signals.get(id.index()),
    };
    let mut payload = Map::new();
    for (index, value) in message.fields.iter().enumerate() {
        let field = declaration.and_then(|d| d.fields.get(index)).map_or("?", |f| f.name.as_str());
        payload.insert(field.to_string(), itf::encode(machine, value));
    }
    json!({ "input": trigger_label(machine, message.trigger), "payload": payload })
}
