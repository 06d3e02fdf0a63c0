//! The runtime conformance-tested against MeerkatMachine with a fixed seed: no divergence, and every
//! transition either driven through the public API or listed with the reason it cannot be.

#![allow(clippy::expect_used, clippy::print_stdout, reason = "a test prints its report and fails loudly")]

use meerkat_conformance::{check_meerkat_machine, render};
use meerkat_dsl::explore::generate::Walks;

#[test]
fn the_runtime_conforms_to_meerkat_machine() {
    let summary = check_meerkat_machine(&Walks { count: 8, length: 24, seed: 13 }).expect("the check runs");
    let report = render(&summary, 5);
    println!("{report}");
    assert!(summary.ok(), "{report}");
}
