//! Random valid specs (`build/random_specs.rs`): a few compiled into this crate by `build.rs` run against the
//! interpreter, and many more are checked and turned into Rust here, so a generator that writes a spec the
//! checker refuses, or a checked spec the generator cannot write, fails with the spec and its seed.
//!
//! `MEERKAT_RANDOM_SPECS` sets how many specs `build.rs` compiles (default 16) and `MEERKAT_RANDOM_SEED` the first
//! seed (default 1); `MEERKAT_RANDOM_CHECKED` how many this test checks and generates (default 400).

#![allow(clippy::panic, reason = "a test fails loudly with the spec that broke")]

#[path = "../build/random_specs.rs"]
#[allow(dead_code, reason = "the build script uses the rest")]
mod random_specs;

macro_rules! differential_test {
    ($module:ident, $state:path) => {
        mod $module {
            #[test]
            fn matches_interpreter() {
                meerkat_tests::differential::run::<$state>();
            }

            #[test]
            fn recovery_matches_interpreter() {
                meerkat_tests::differential::run_recovery::<$state>();
            }
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/random_differential.rs"));

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
fn every_random_spec_checks_and_generates() {
    let count = env_number("MEERKAT_RANDOM_CHECKED", 400);
    let first = env_number("MEERKAT_RANDOM_SEED", 1);
    let mut transitions = 0;
    for (stem, text) in random_specs::specs(first, count) {
        let package = match meerkat_dsl::check_source(format!("{stem}.machine"), text.clone()) {
            Ok(package) => package,
            Err(e) => panic!("{stem} does not check:\n{text}\n{}", e.render(Default::default())),
        };
        for machine in &package.machines {
            transitions += machine.ir().transitions.len();
            let rust = meerkat_codegen::rust::generate_rust(machine, &Default::default());
            if let Err(e) = syn::parse_file(&rust) {
                panic!("{stem} generates Rust that does not parse ({e}):\n{text}");
            }
        }
    }
    assert!(transitions as u64 >= count, "{count} specs hold only {transitions} transitions");
}
