//! Front-end benchmark: parsing, and parsing plus checking (declarations, types, transitions, the analyses), of
//! generated specs with 500, 1,000, 2,000 and 4,000 transitions.
//!
//! The generated machine is shaped like a real one: ten phases (one terminal), a declared enum and record,
//! counters, a map, a set and an option in the state, inputs with payloads, named guards, helpers, invariants,
//! and transitions with `when` clauses, `otherwise` fallbacks and bodies that assign, update collections, branch
//! and emit (one effect through its field defaults). Each input has one guarded transition from each of eight
//! phases and two fallbacks, so dispatch has competitors to check without ambiguity.
//!
//! Run with `cargo bench -p meerkat-dsl --bench front_end`; results are recorded in `BENCHMARKS.md`.

#![allow(clippy::panic, reason = "a generated spec that does not check is a bug in the benchmark")]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meerkat_dsl::{RenderOptions, SourceId, check_source};

/// Phases a transition moves between (the machine also has a terminal `Done`).
const PHASES: usize = 8;
/// Transitions per input: one guarded transition from each phase plus two fallbacks.
const PER_INPUT: usize = PHASES + 2;
/// State counters, named guards and invariants.
const COUNTERS: usize = 10;

/// A machine with `transitions` transitions (rounded to a multiple of [`PER_INPUT`], plus one shutdown).
fn spec(transitions: usize) -> String {
    let inputs = transitions / PER_INPUT;
    let mut s = String::new();
    let _ = writeln!(s, "/// A generated machine with {transitions} transitions.");
    s.push_str("machine Generated {\n");
    s.push_str("    enum Kind { Small, Medium, Large }\n");
    s.push_str("    record Item { owner: String, size: u64, kind: Kind }\n\n");
    s.push_str("    phases {\n        initial P0,\n");
    for p in 1..PHASES {
        let _ = writeln!(s, "        P{p},");
    }
    s.push_str("        terminal Done,\n    }\n\n    state {\n");
    for c in 0..COUNTERS {
        let _ = writeln!(s, "        c{c}: u64 = 0,");
    }
    s.push_str("        items: Map<String, Item> = [:],\n");
    s.push_str("        owners: Set<String> = [],\n");
    s.push_str("        last: Option<String> = None,\n");
    s.push_str("        kind: Kind = Kind::Small,\n    }\n\n");

    s.push_str("    effect Projected {\n        phase: Phase = phase,\n        total: u64 = c0,\n");
    s.push_str("        last: Option<String> = last,\n        kind: Kind = kind,\n    }\n");
    s.push_str("    effect Moved { who: String, amount: u64, kind: Kind }\n\n");

    s.push_str("    fn fits(amount: u64, used: u64) -> bool { amount + used < 1_000_000 }\n");
    s.push_str("    fn classify(amount: u64) -> Kind {\n");
    s.push_str("        if amount < 10 { Small } else if amount < 100 { Medium } else { Large }\n    }\n");
    s.push_str("    fn weight(who: String, amount: u64) -> u64 { who.len() * 2 + amount % 7 }\n\n");

    for c in 0..COUNTERS {
        let _ = writeln!(s, "    guard room_{c} = c{c} < 1_000 && owners.len() < 10_000");
        let _ = writeln!(s, "    invariant bounded_{c} = c{c} <= 1_000_000_000 || phase == Done");
    }
    s.push_str("    invariant items_have_owners = items.all(|k, v| v.owner == k) || items.len() > owners.len()\n\n");

    s.push_str("    input Shutdown\n");
    for i in 0..inputs {
        let _ = writeln!(s, "    input In{i} {{ who: String, amount: u64 }}");
    }
    s.push('\n');

    for i in 0..inputs {
        let c = i % COUNTERS;
        let d = (i + 3) % COUNTERS;
        for p in 0..PHASES {
            let target = (p + 1 + i % 3) % PHASES;
            let _ = writeln!(
                s,
                "    transition Step{i}From{p} on In{i} from P{p} -> P{target} when room_{c}, amount > {p}, \
                 fits(amount, c{d}), !owners.contains(who) {{"
            );
            let _ = writeln!(s, "        let k = classify(amount);");
            let _ = writeln!(s, "        c{c} += weight(who, amount);");
            let _ = writeln!(s, "        c{d} = c{d}.max(amount);");
            let _ = writeln!(s, "        items.insert(who, Item {{ owner: who, size: amount, kind: k }});");
            let _ = writeln!(
                s,
                "        if k == Large {{ owners.insert(who) }} else if amount % 2 == 0 {{ last = Some(who) }}"
            );
            let _ = writeln!(s, "        kind = match k {{ Small => Medium, Medium => Large, Large => Small }};");
            let _ = writeln!(s, "        emit Moved {{ who, amount, kind: k }};");
            let _ = writeln!(s, "        emit Projected");
            s.push_str("    }\n");
        }
        for p in [i % PHASES, (i + 4) % PHASES] {
            let _ = writeln!(
                s,
                "    transition Skip{i}In{p} on In{i} from P{p} -> stay otherwise {{ c0 += 1; emit Projected }}"
            );
        }
    }
    s.push_str("    on Shutdown from any -> Done { emit Projected }\n");
    s.push_str("\n    model {\n        depth = 4\n        domain u64 = 0..=3\n");
    s.push_str("        domain String = [\"a\", \"b\"]\n    }\n}\n");
    s
}

fn front_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("front_end");
    // One iteration takes up to a second at 4,000 transitions: ten samples over ten seconds keep the run short.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for transitions in [500, 1_000, 2_000, 4_000] {
        let text = spec(transitions);
        // A benchmark of the error path would measure something else: the spec must check.
        let checked = match check_source("generated.machine", text.as_str()) {
            Ok(package) => package,
            Err(error) => panic!("the generated spec does not check:\n{}", error.render(RenderOptions::default())),
        };
        let count = checked.machines.iter().map(|m| m.transitions.len()).sum::<usize>();
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::new("parse", count), &text, |b, text| {
            b.iter(|| meerkat_dsl::parse::parse(black_box(text), SourceId(0)).map(|file| file.items.len()))
        });
        group.bench_with_input(BenchmarkId::new("parse_and_check", count), &text, |b, text| {
            b.iter(|| check_source("generated.machine", black_box(text.as_str())).map(|p| p.machines.len()).ok())
        });
    }
    group.finish();
}

criterion_group!(benches, front_end);
criterion_main!(benches);
