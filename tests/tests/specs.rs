//! The reusable model specs: `specs/two_phase.machine` is what `meerkat_tests::specs::two_phase` writes, and
//! the explorer finds the state counts the TLA+ originals have (TLC's numbers), exhaustively.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly")]

use std::path::Path;

use meerkat_dsl::explore::{Bounds, PropertyOutcome, Verdict, explore, render_message};
use meerkat_tests::specs::{TWO_PHASE_CHECKED_IN, two_phase};

fn check(name: &str, text: &str) -> meerkat_dsl::CheckedPackage {
    let package = meerkat_dsl::check_source(name, text)
        .unwrap_or_else(|e| panic!("{name} does not check:\n{}", e.render(Default::default())));
    assert!(package.warnings.is_empty(), "{name}:\n{}", package.render_warnings(Default::default()));
    package
}

#[test]
fn the_checked_in_two_phase_spec_is_the_generators_output() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/two_phase.machine");
    let expected = two_phase(TWO_PHASE_CHECKED_IN);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &expected).expect("specs/ is writable");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is not the output of two_phase({TWO_PHASE_CHECKED_IN}); run UPDATE_EXPECT=1 cargo test -p meerkat-tests --test specs",
        path.display()
    );
}

#[test]
fn two_phase_has_the_state_counts_of_the_tla_spec() {
    // TLC finds 288 distinct states for three resource managers. One manager, counted by hand: 4 with the
    // transaction manager undecided (working; prepared; prepared and heard; aborted), 6 after it aborts (the 4
    // again, then prepared-and-aborted with and without being heard) and 2 after it commits (prepared and
    // heard; committed).
    for (managers, states) in [(1, 12), (3, 288)] {
        let package = check("two_phase.machine", &two_phase(managers));
        let report = explore(&package.machines[0], &Bounds::default()).expect("explorable");
        assert_eq!(report.verdict(), Verdict::Exhaustive, "{managers} managers: {:?}", report.cuts);
        assert_eq!(report.states, states, "{managers} managers");
        assert!(report.never_fired().is_empty(), "{managers} managers: {:?}", report.never_fired());
    }
}

#[test]
fn die_hard_reaches_its_sixteen_states() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/die_hard.machine");
    let text = std::fs::read_to_string(&path).expect("specs/die_hard.machine is readable");
    let package = check("die_hard.machine", &text);
    let report = explore(&package.machines[0], &Bounds::default()).expect("explorable");
    assert_eq!(report.verdict(), Verdict::Exhaustive, "{:?}", report.cuts);
    assert_eq!(report.states, 16);
}

#[test]
fn die_hard_is_solved_by_the_classic_six_steps() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/die_hard.machine");
    let text = std::fs::read_to_string(&path).expect("specs/die_hard.machine is readable");
    let package = check("die_hard.machine", &text);
    let machine = &package.machines[0];
    let report = explore(machine, &Bounds::default()).expect("explorable");
    let [goal] = report.properties.as_slice() else { panic!("one goal expected: {:?}", report.properties) };
    assert_eq!(machine.properties[goal.property.index()].name, "big_is_four");
    let PropertyOutcome::Reached { trace } = &goal.outcome else { panic!("not reached: {:?}", goal.outcome) };
    let steps: Vec<String> = trace.iter().map(|m| render_message(machine, m)).collect();
    assert_eq!(steps, ["FillBig", "BigToSmall", "EmptySmall", "BigToSmall", "FillBig", "BigToSmall"]);
}
