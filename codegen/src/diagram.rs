//! The Mermaid back end: a `stateDiagram-v2` of a machine's phases and transitions, for review and for the
//! reference page.
//!
//! The diagram is meant to stay readable for machines with twenty phases, so it is summarised:
//! - every phase is declared once, in declaration order; `[*] --> Initial` marks the initial phase and each
//!   terminal phase gets an edge to `[*]`;
//! - transitions that change the phase are drawn as one edge per (source, target) pair, labelled with one line
//!   per transition: its name, its trigger when the name differs, and its guard labels (shortened) or
//!   `otherwise`;
//! - a transition that fires from more than [`BROAD`] phases (a `from any` handler) is not drawn once per
//!   source: it gets one edge from a dashed pseudo-state named after its sources (`from any except Off`),
//!   shared by every transition with the same sources;
//! - transitions that stay in their phase are drawn as one self-loop per phase, labelled with names only; a
//!   broad stay transition is listed once in a note beside the initial phase instead.
//!
//! Text in labels is escaped with Mermaid entity codes (`#lt;`, `#59;`...) so guard conditions cannot break
//! the syntax, and phase names that are Mermaid keywords get a prefixed id.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use meerkat_dsl::ir::{Machine, PhaseId, Target, Transition};

/// A transition that fires from more phases than this is drawn once, from a pseudo-state that names its sources
/// (or, for a stay transition, listed in a note), instead of once per source phase.
pub const BROAD: usize = 3;

/// Guard labels longer than this many characters are shortened with `…` in edge labels.
const MAX_GUARD_LABEL: usize = 32;

/// Words Mermaid's state-diagram grammar reserves; a phase with such a name gets the id `phase_<name>`.
const RESERVED: &[&str] =
    &["state", "note", "end", "direction", "class", "classdef", "style", "as", "click", "left", "right", "of"];

/// The Mermaid `stateDiagram-v2` source of a machine, ending with a newline.
///
/// ```
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "machine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
/// )
/// .expect("the spec checks");
/// let diagram = meerkat_codegen::diagram::mermaid(&package.machines[0]);
/// assert!(diagram.starts_with("stateDiagram-v2\n"));
/// assert!(diagram.contains("    Closed --> Open: Push\n"));
/// ```
pub fn mermaid(machine: &Machine) -> String {
    let ids: Vec<String> = machine.phases.iter().map(|p| phase_id(&p.name)).collect();
    let id = |phase: PhaseId| ids.get(phase.index()).map_or("unknown", String::as_str);
    let mut out = String::from("stateDiagram-v2\n");
    for (phase, pid) in machine.phases.iter().zip(&ids) {
        if *pid == phase.name {
            let _ = writeln!(out, "    {pid}");
        } else {
            let _ = writeln!(out, "    state \"{}\" as {pid}", escape(&phase.name));
        }
    }
    let _ = writeln!(out, "    [*] --> {}", id(machine.initial_phase));

    // Phase-changing edges, grouped by (source, target) in declaration order of the phases.
    let mut edges: BTreeMap<(PhaseId, PhaseId), Vec<String>> = BTreeMap::new();
    let mut loops: BTreeMap<PhaseId, Vec<String>> = BTreeMap::new();
    // Broad transitions, grouped by source set (pseudo-states numbered in order of first use), then target.
    let mut groups: Vec<&[PhaseId]> = Vec::new();
    let mut broad_edges: BTreeMap<(usize, PhaseId), Vec<String>> = BTreeMap::new();
    let mut broad_stays: Vec<&Transition> = Vec::new();
    for transition in &machine.transitions {
        let broad = transition.sources.len() > BROAD;
        if matches!(transition.target, Target::Stay) {
            if broad {
                broad_stays.push(transition);
            } else {
                for source in &transition.sources {
                    loops.entry(*source).or_default().push(stay_label(machine, transition));
                }
            }
            continue;
        }
        if broad {
            let group = match groups.iter().position(|g| *g == transition.sources.as_slice()) {
                Some(group) => group,
                None => {
                    groups.push(&transition.sources);
                    groups.len() - 1
                }
            };
            let targets: BTreeSet<PhaseId> =
                transition.sources.iter().flat_map(|s| transition.targets_from(*s)).collect();
            for target in targets {
                broad_edges.entry((group, target)).or_default().push(edge_label(machine, transition));
            }
            continue;
        }
        for source in &transition.sources {
            // A computed target draws an edge to every phase it can produce.
            for target in transition.targets_from(*source) {
                if *source == target {
                    // An explicit `A -> A` re-enters the phase; it is still a self-loop in the picture.
                    loops.entry(*source).or_default().push(stay_label(machine, transition));
                } else {
                    edges.entry((*source, target)).or_default().push(edge_label(machine, transition));
                }
            }
        }
    }
    for (group, sources) in groups.iter().enumerate() {
        let _ = writeln!(out, "    state \"from {}\" as from_{}", escape(&sources_text(machine, sources)), group + 1);
    }
    for ((source, target), labels) in &edges {
        let _ = writeln!(out, "    {} --> {}: {}", id(*source), id(*target), labels.join("<br/>"));
    }
    for ((group, target), labels) in &broad_edges {
        let _ = writeln!(out, "    from_{} --> {}: {}", group + 1, id(*target), labels.join("<br/>"));
    }
    for (phase, labels) in &loops {
        let _ = writeln!(out, "    {0} --> {0}: {1}", id(*phase), labels.join("<br/>"));
    }
    for phase in machine.phase_ids() {
        if machine.phase(phase).terminal {
            let _ = writeln!(out, "    {} --> [*]", id(phase));
        }
    }
    if !broad_stays.is_empty() {
        let _ = writeln!(out, "    note left of {}", id(machine.initial_phase));
        out.push_str("        Without a phase change:\n");
        for transition in &broad_stays {
            let sources = escape(&sources_summary(machine, transition));
            let _ = writeln!(out, "        {} from {sources}", stay_label(machine, transition));
        }
        out.push_str("    end note\n");
    }
    if !groups.is_empty() {
        out.push_str("    classDef sources fill:none,stroke-dasharray:4 4\n");
        let ids: Vec<String> = (1..=groups.len()).map(|g| format!("from_{g}")).collect();
        let _ = writeln!(out, "    class {} sources", ids.join(","));
    }
    out
}

/// The Mermaid id of a phase: its name, unless that is a keyword.
fn phase_id(name: &str) -> String {
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) { format!("phase_{name}") } else { name.to_string() }
}

/// `Name`, or `Name (Trigger)` when the transition's name is not its trigger's.
fn name_and_trigger(machine: &Machine, transition: &Transition) -> String {
    let trigger = &machine.trigger(transition.trigger).name;
    if *trigger == transition.name {
        escape(&transition.name)
    } else {
        format!("{} ({})", escape(&transition.name), escape(trigger))
    }
}

fn edge_label(machine: &Machine, transition: &Transition) -> String {
    let mut label = name_and_trigger(machine, transition);
    if transition.otherwise {
        label.push_str(" [otherwise]");
    } else if !transition.guards.is_empty() {
        let guards: Vec<String> = transition.guards.iter().map(|g| escape(&shorten(&g.label))).collect();
        let _ = write!(label, " [{}]", guards.join(", "));
    }
    if let Target::Computed { expr, .. } = &transition.target {
        // One edge per phase the target can produce; the label says how the phase is chosen.
        let scope = meerkat_dsl::print::Scope::transition(machine, transition);
        let _ = write!(label, " / {}", escape(&shorten(&meerkat_dsl::print::expr(scope, expr))));
    }
    label
}

fn stay_label(machine: &Machine, transition: &Transition) -> String {
    name_and_trigger(machine, transition)
}

/// `any`, `any except A, B`, or the list of source phases of a transition, as a `from` clause would say it.
pub(crate) fn sources_summary(machine: &Machine, transition: &Transition) -> String {
    sources_text(machine, &transition.sources)
}

/// `any`, `any except A, B`, or the list of phases, relative to the non-terminal phases.
fn sources_text(machine: &Machine, sources: &[PhaseId]) -> String {
    let non_terminal: Vec<PhaseId> = machine.phase_ids().filter(|p| !machine.phase(*p).terminal).collect();
    let name = |p: &PhaseId| machine.phase(*p).name.clone();
    let covers_all = non_terminal.iter().all(|p| sources.contains(p));
    let extra: Vec<String> = sources.iter().filter(|p| machine.phase(**p).terminal).map(name).collect();
    if covers_all && non_terminal.len() > 1 {
        let mut text = "any".to_string();
        if !extra.is_empty() {
            text = format!("{text}, {}", extra.join(", "));
        }
        return text;
    }
    let missing: Vec<String> = non_terminal.iter().filter(|p| !sources.contains(p)).map(name).collect();
    // `any except` only reads better than the list when few phases are left out.
    if extra.is_empty() && !missing.is_empty() && missing.len() * 2 < non_terminal.len() {
        return format!("any except {}", missing.join(", "));
    }
    sources.iter().map(name).collect::<Vec<_>>().join(", ")
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= MAX_GUARD_LABEL {
        return label.to_string();
    }
    let mut short: String = label.chars().take(MAX_GUARD_LABEL - 1).collect();
    short.push('…');
    short
}

/// Escapes text for a Mermaid label with entity codes, so operators and punctuation cannot end the label or be
/// read as HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use super::*;

    fn machine(text: &str) -> meerkat_dsl::CheckedMachine {
        match meerkat_dsl::check_source("t.machine", text) {
            Ok(mut package) => package.machines.remove(0),
            Err(e) => panic!("{}", e.render(meerkat_dsl::RenderOptions::default())),
        }
    }

    #[test]
    fn edges_are_grouped_and_guards_escaped() {
        let m = machine(
            "machine M {
                phases { initial A, B, terminal C }
                state { n: u64 = 0 }
                input Go
                input Stop
                transition Fast on Go from A -> B when n < 3 { }
                transition Slow on Go from A -> B otherwise { n += 1 }
                on Stop from any -> C
            }",
        );
        let text = mermaid(&m);
        assert_eq!(
            text,
            "stateDiagram-v2\n    A\n    B\n    C\n    [*] --> A\n    A --> B: Fast (Go) [n #lt; 3]<br/>Slow (Go) [otherwise]\n    A --> C: Stop\n    B --> C: Stop\n    C --> [*]\n"
        );
    }

    #[test]
    fn broad_stays_go_to_a_note_and_keywords_get_ids() {
        let m = machine(
            "machine M {
                phases { initial A, B, C, D, end }
                input Ping
                input Poke
                on Ping from any -> stay
                on Poke from A -> stay
            }",
        );
        let text = mermaid(&m);
        assert!(text.contains("    state \"end\" as phase_end\n"), "{text}");
        assert!(text.contains("    A --> A: Poke\n"), "{text}");
        assert!(
            text.contains("    note left of A\n        Without a phase change:\n        Ping from any\n    end note\n"),
            "{text}"
        );
    }

    #[test]
    fn a_twenty_phase_machine_stays_small() {
        let phases: Vec<String> = (0..20).map(|i| format!("P{i}")).collect();
        let chain: Vec<String> =
            (0..19).map(|i| format!("transition Go{i} on Next from P{i} -> P{} {{ }}", i + 1)).collect();
        let text = format!(
            "machine Big {{
                phases {{ initial {}, terminal Failed }}
                input Next
                input Fail
                input Ping
                {}
                on Fail from any -> Failed
                on Ping from any -> stay
            }}",
            phases.join(", "),
            chain.join("\n")
        );
        let diagram = mermaid(&machine(&text));
        assert!(diagram.contains("    state \"from any\" as from_1\n"), "{diagram}");
        assert!(diagram.contains("    from_1 --> Failed: Fail\n"), "{diagram}");
        assert!(diagram.contains("        Ping from any\n"), "{diagram}");
        assert!(diagram.contains("    class from_1 sources\n"), "{diagram}");
        let edges = diagram.lines().filter(|l| l.contains("-->")).count();
        // The chain, the one broad edge, the initial and the terminal markers.
        assert_eq!(edges, 19 + 1 + 2, "{diagram}");
    }
}
