//! Applying inputs to the kernel of a payload-free machine (`specs/turnstile.machine`: no strings, no
//! collections) allocates nothing: accepted inputs, guard rejections, unmatched inputs, invariant checks and
//! the effects they return all live on the stack. A counting global allocator checks it; this binary runs
//! without the test harness so nothing else allocates while it measures.

// Without the test harness, this binary reports its result on stdout like one.
#![allow(clippy::print_stdout)]

use meerkat_tests::kernels::turnstile::{
    TurnstileAuthority, TurnstileInput, TurnstileMutator, TurnstileSignal, TurnstileTransitionError,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let mut authority = TurnstileAuthority::new();
    let inputs = [TurnstileInput::Coin, TurnstileInput::Push, TurnstileInput::Push, TurnstileInput::Coin];
    let mut accepted = 0usize;
    let mut rejected = 0usize;
    let mut effects = 0usize;

    let region = Region::new(GLOBAL);
    for _ in 0..10_000usize {
        for input in &inputs {
            match authority.apply(input.clone()) {
                Ok(transition) => {
                    accepted += 1;
                    effects += transition.effects().len();
                }
                Err(TurnstileTransitionError::GuardRejected { rejections, .. }) => {
                    rejected += 1;
                    effects += rejections.len();
                }
                Err(_) => rejected += 1,
            }
        }
    }
    // Kicking the alarmed turnstile breaks it (two effects); the repair signal applies; inputs no longer match.
    for _ in 0..1_000usize {
        for result in [
            authority.apply(TurnstileInput::Kick),
            authority.apply_signal(TurnstileSignal::Repair),
            authority.apply(TurnstileInput::Coin),
        ] {
            match result {
                Ok(transition) => {
                    accepted += 1;
                    effects += transition.effects().len();
                }
                Err(_) => rejected += 1,
            }
        }
    }
    let stats = region.change();

    // The loop must have exercised both outcomes, or it proves little.
    let exercised = accepted > 0 && rejected > 0 && effects > 0;
    if stats.allocations == 0 && stats.reallocations == 0 && exercised {
        println!("test kernel_transitions_do_not_allocate ... ok ({accepted} accepted, {rejected} rejected)");
        println!("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
    } else {
        println!(
            "test kernel_transitions_do_not_allocate ... FAILED: {} allocations, {} reallocations \
             ({accepted} accepted, {rejected} rejected, {effects} effects)",
            stats.allocations, stats.reallocations
        );
        println!("\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
        std::process::exit(1);
    }
}
