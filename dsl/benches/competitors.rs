//! Front-end benchmark for many competitors of one trigger: `check_source` on a machine whose one input has
//! 5,000, 10,000 or 20,000 transitions from one phase, each guarded by `when x == i` for its own `i`.
//!
//! Every pair of those transitions competes for the same (phase, trigger), so an analysis that compares every
//! pair (as `guard_overlap` once did) is quadratic here; the spec checks clean, so the whole front end runs.
//!
//! Run with `cargo bench -p meerkat-dsl --bench competitors`; results are recorded in `BENCHMARKS.md`.

#![allow(clippy::panic, reason = "a generated spec that does not check is a bug in the benchmark")]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meerkat_dsl::{RenderOptions, check_source};

/// A machine with `n` transitions on `Go`, the `i`-th taken when `x == i` (it then moves `x` on), and a reset.
fn spec(n: usize) -> String {
    let mut s = String::from("machine Competitors {\n    phases { initial Counting }\n    state { x: u64 = 0 }\n");
    s.push_str("    input Go\n    input Reset\n");
    for i in 0..n {
        let _ =
            writeln!(s, "    transition Step{i} on Go from Counting -> stay when x == {i} {{ x = {} }}", (i + 1) % n);
    }
    s.push_str("    on Reset from Counting -> stay { x = 0 }\n    model { depth = 3 }\n}\n");
    s
}

fn competitors(c: &mut Criterion) {
    let mut group = c.benchmark_group("competitors");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for n in [5_000, 10_000, 20_000] {
        let text = spec(n);
        if let Err(error) = check_source("competitors.machine", text.as_str()) {
            panic!("the generated spec does not check:\n{}", error.render(RenderOptions::default()));
        }
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("parse_and_check", n), &text, |b, text| {
            b.iter(|| check_source("competitors.machine", black_box(text.as_str())).map(|p| p.machines.len()).ok())
        });
    }
    group.finish();
}

criterion_group!(benches, competitors);
criterion_main!(benches);
