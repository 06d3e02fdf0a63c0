//! The cost of checking properties in the explorer: TwoPhase (5 resource managers, 8,832 states, explored
//! exhaustively) as written, against the same spec with three `property` declarations and one `reachable` goal
//! that the search never decides early (they hold everywhere, and the goal is only met deep in the search), so
//! every property is evaluated in every state found. Both runs must find the same states and, with properties,
//! no violation. Run with `cargo bench -p meerkat-tests --bench explore`.

// A benchmark reports problems by panicking.
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::Criterion;
use meerkat_dsl::explore::{Bounds, PropertyOutcome, Verdict, explore};
use meerkat_tests::specs::two_phase;

const MANAGERS: u64 = 5;

/// Properties that hold in every state, and a goal reached only once every manager committed.
const PROPERTIES: &str = "
    property prepared_were_announced = tm_prepared.all(|r| prepared_msgs.contains(r))
    property managers_known = rm_state.len() == 5
    property committed_after_all_prepared = phase != Committed || tm_prepared.len() == 5
    reachable all_committed = rm_state.all(|r, s| s == Committed)
";

fn spec(with_properties: bool) -> meerkat_dsl::CheckedPackage {
    let mut text = two_phase(MANAGERS);
    if with_properties {
        let end = text.rfind("    model {").expect("the generator writes a model block");
        text.insert_str(end, PROPERTIES);
    }
    meerkat_dsl::check_source("two_phase.machine", &text)
        .unwrap_or_else(|e| panic!("the spec does not check:\n{}", e.render(Default::default())))
}

fn bench(c: &mut Criterion) {
    let plain = spec(false);
    let checked = spec(true);
    let bounds = Bounds { max_states: 1_000_000, max_applications: 100_000_000, ..Bounds::default() };
    let without = explore(&plain.machines[0], &bounds).expect("explorable");
    let with = explore(&checked.machines[0], &bounds).expect("explorable");
    assert_eq!(without.verdict(), Verdict::Exhaustive, "{:?}", without.cuts);
    assert_eq!(with.verdict(), Verdict::Exhaustive, "{:?}", with.properties);
    assert_eq!(with.states, without.states);
    assert_eq!(with.properties.len(), 4);
    assert!(with.properties[..3].iter().all(|p| p.outcome == PropertyOutcome::Holds), "{:?}", with.properties);
    assert!(matches!(with.properties[3].outcome, PropertyOutcome::Reached { .. }), "{:?}", with.properties[3]);

    let mut group = c.benchmark_group("explore_two_phase_5");
    group.sample_size(10);
    group.bench_function("without_properties", |b| b.iter(|| black_box(explore(&plain.machines[0], &bounds))));
    group.bench_function("with_4_properties", |b| b.iter(|| black_box(explore(&checked.machines[0], &bounds))));
    group.finish();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
