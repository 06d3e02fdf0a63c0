//! The name-hygiene corpus against the interpreter: every machine of `build/corpus.rs` (spec names that collide
//! with Rust keywords, primitives, prelude names and the generator's own identifiers) compiled through
//! `meerkat_codegen::Config` by `build.rs` — so compiling this test at all is the first half of the check — and
//! each kernel run side by side with the reference interpreter (see `meerkat_tests::differential`).
//! `MEERKAT_DIFF_STEPS` sets the steps per machine (default 10 000).

macro_rules! differential_test {
    ($module:ident, $state:path) => {
        mod $module {
            #[test]
            fn matches_interpreter() {
                let stats = meerkat_tests::differential::run::<$state>();
                assert!(stats.fired.iter().sum::<usize>() > 0, "no transition of the machine ever fired");
            }

            #[test]
            fn recovery_matches_interpreter() {
                meerkat_tests::differential::run_recovery::<$state>();
            }
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/corpus_differential.rs"));
