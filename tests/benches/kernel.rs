//! The generated kernel of `specs/bank.machine` against a hand-written `match` implementation of the same
//! machine, on one trace of inputs that mixes accepted inputs with guard rejections, unmatched inputs (while the
//! bank is frozen) and the occasional overflow, with post-transition invariant checks off and on.
//!
//! Both implementations are run over the trace first and must agree on every outcome, effect and state. Then
//! criterion times them, and a final summary prints nanoseconds per input and the kernel/hand-written ratio
//! for each variant (median of repeated full-trace runs). Run with `cargo bench -p meerkat-tests --bench kernel`.

// A benchmark reports problems by panicking and its summary on stdout.
#![allow(clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};

/// The kernel with post-transition invariant checks.
#[allow(dead_code)]
mod checks_on {
    include!(concat!(env!("OUT_DIR"), "/bench_checks_on/bank.rs"));
}

/// The kernel without post-transition invariant checks.
#[allow(dead_code)]
mod checks_off {
    include!(concat!(env!("OUT_DIR"), "/bench_checks_off/bank.rs"));
}

/// Inputs per trace.
const TRACE: usize = 10_000;

/// What both implementations report for one input, for the agreement check.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Fired(&'static str, Vec<(&'static str, u64, u64, u64)>),
    Rejected(&'static str, &'static str, &'static str),
}

/// The hand-written bank: what an engineer would write for the same spec, with the same semantics (guards in
/// order with their labels, checked arithmetic, all or nothing, invariants checked after the transition when
/// `CHECKS`), without any generator.
mod hand {
    use std::collections::BTreeMap;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Phase {
        Open,
        Frozen,
        Closed,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Bank {
        pub phase: Phase,
        pub balances: BTreeMap<u64, u64>,
        pub total: u64,
        pub daily_limit: u64,
        pub withdrawn_today: u64,
        pub operations: u64,
    }

    #[derive(Clone, Copy, Debug)]
    pub enum Input {
        Deposit { account: u64, amount: u64 },
        Withdraw { account: u64, amount: u64 },
        Transfer { source: u64, target: u64, amount: u64 },
        Freeze,
        Thaw,
        EndOfDay,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Effect {
        Deposited { account: u64, balance: u64 },
        Withdrew { account: u64, balance: u64, withdrawn_today: u64 },
        DayClosed { operations: u64 },
    }

    #[derive(Debug)]
    pub enum Effects {
        None,
        One(Effect),
        Two(Effect, Effect),
    }

    #[derive(Debug)]
    pub enum Error {
        NoMatchingTransition { trigger: &'static str },
        GuardRejected { transition: &'static str, label: &'static str },
        ArithmeticOverflow { transition: &'static str },
        InvariantViolated { transition: &'static str, invariant: &'static str },
    }

    #[derive(Debug)]
    pub struct Fired {
        pub transition: &'static str,
        pub effects: Effects,
    }

    impl Bank {
        pub fn new() -> Self {
            Bank {
                phase: Phase::Open,
                balances: BTreeMap::new(),
                total: 0,
                daily_limit: 5000,
                withdrawn_today: 0,
                operations: 0,
            }
        }

        fn balance(&self, account: u64) -> u64 {
            self.balances.get(&account).copied().unwrap_or(0)
        }

        fn violated(&self) -> Option<&'static str> {
            if self.withdrawn_today > self.daily_limit {
                Some("within_daily_limit")
            } else if self.balances.len() > 64 {
                Some("few_accounts")
            } else {
                None
            }
        }

        /// Restores a map entry to what `insert` displaced.
        fn restore(&mut self, account: u64, previous: Option<u64>) {
            match previous {
                Some(balance) => self.balances.insert(account, balance),
                None => self.balances.remove(&account),
            };
        }

        pub fn apply<const CHECKS: bool>(&mut self, input: Input) -> Result<Fired, Error> {
            let overflow = |transition| Error::ArithmeticOverflow { transition };
            match (self.phase, input) {
                (Phase::Open, Input::Deposit { account, amount }) => {
                    let t = "Deposit";
                    if amount == 0 {
                        return Err(Error::GuardRejected { transition: t, label: "amount > 0" });
                    }
                    if amount > 10000 {
                        return Err(Error::GuardRejected { transition: t, label: "amount <= 10000" });
                    }
                    // Compute everything that can overflow first, then commit.
                    let balance = self.balance(account).checked_add(amount).ok_or(overflow(t))?;
                    let total = self.total.checked_add(amount).ok_or(overflow(t))?;
                    let operations = self.operations.checked_add(1).ok_or(overflow(t))?;
                    let previous = self.balances.insert(account, balance);
                    let (old_total, old_operations) = (self.total, self.operations);
                    self.total = total;
                    self.operations = operations;
                    if CHECKS {
                        if let Some(invariant) = self.violated() {
                            self.restore(account, previous);
                            self.total = old_total;
                            self.operations = old_operations;
                            return Err(Error::InvariantViolated { transition: t, invariant });
                        }
                    }
                    Ok(Fired { transition: t, effects: Effects::One(Effect::Deposited { account, balance }) })
                }
                (Phase::Open, Input::Withdraw { account, amount }) => {
                    let t = "Withdraw";
                    let current = self.balance(account);
                    if current < amount {
                        return Err(Error::GuardRejected { transition: t, label: "balance(account) >= amount" });
                    }
                    let withdrawn = self.withdrawn_today.checked_add(amount).ok_or(overflow(t))?;
                    if withdrawn > self.daily_limit {
                        return Err(Error::GuardRejected {
                            transition: t,
                            label: "withdrawn_today + amount <= daily_limit",
                        });
                    }
                    let balance = current - amount;
                    let total = self.total.checked_sub(amount).ok_or(overflow(t))?;
                    let operations = self.operations.checked_add(1).ok_or(overflow(t))?;
                    let previous = self.balances.insert(account, balance);
                    let (old_total, old_withdrawn, old_operations) =
                        (self.total, self.withdrawn_today, self.operations);
                    self.total = total;
                    self.withdrawn_today = withdrawn;
                    self.operations = operations;
                    if CHECKS {
                        if let Some(invariant) = self.violated() {
                            self.restore(account, previous);
                            self.total = old_total;
                            self.withdrawn_today = old_withdrawn;
                            self.operations = old_operations;
                            return Err(Error::InvariantViolated { transition: t, invariant });
                        }
                    }
                    Ok(Fired {
                        transition: t,
                        effects: Effects::One(Effect::Withdrew { account, balance, withdrawn_today: withdrawn }),
                    })
                }
                (Phase::Open, Input::Transfer { source, target, amount }) => {
                    let t = "Transfer";
                    if source == target {
                        return Err(Error::GuardRejected { transition: t, label: "source_account != target_account" });
                    }
                    let from = self.balance(source);
                    if from < amount {
                        return Err(Error::GuardRejected { transition: t, label: "balance(source_account) >= amount" });
                    }
                    let to = self.balance(target).checked_add(amount).ok_or(overflow(t))?;
                    let operations = self.operations.checked_add(1).ok_or(overflow(t))?;
                    let previous_source = self.balances.insert(source, from - amount);
                    let previous_target = self.balances.insert(target, to);
                    let old_operations = self.operations;
                    self.operations = operations;
                    if CHECKS {
                        if let Some(invariant) = self.violated() {
                            self.restore(target, previous_target);
                            self.restore(source, previous_source);
                            self.operations = old_operations;
                            return Err(Error::InvariantViolated { transition: t, invariant });
                        }
                    }
                    Ok(Fired {
                        transition: t,
                        effects: Effects::Two(
                            Effect::Withdrew {
                                account: source,
                                balance: from - amount,
                                withdrawn_today: self.withdrawn_today,
                            },
                            Effect::Deposited { account: target, balance: to },
                        ),
                    })
                }
                (Phase::Open, Input::Freeze) => {
                    self.phase = Phase::Frozen;
                    if CHECKS {
                        if let Some(invariant) = self.violated() {
                            self.phase = Phase::Open;
                            return Err(Error::InvariantViolated { transition: "Freeze", invariant });
                        }
                    }
                    Ok(Fired { transition: "Freeze", effects: Effects::None })
                }
                (Phase::Frozen, Input::Thaw) => {
                    self.phase = Phase::Open;
                    if CHECKS {
                        if let Some(invariant) = self.violated() {
                            self.phase = Phase::Frozen;
                            return Err(Error::InvariantViolated { transition: "Thaw", invariant });
                        }
                    }
                    Ok(Fired { transition: "Thaw", effects: Effects::None })
                }
                (Phase::Open | Phase::Frozen, Input::EndOfDay) => {
                    let old_withdrawn = self.withdrawn_today;
                    self.withdrawn_today = 0;
                    if CHECKS {
                        if let Some(invariant) = self.violated() {
                            self.withdrawn_today = old_withdrawn;
                            return Err(Error::InvariantViolated { transition: "EndOfDay", invariant });
                        }
                    }
                    Ok(Fired {
                        transition: "EndOfDay",
                        effects: Effects::One(Effect::DayClosed { operations: self.operations }),
                    })
                }
                (_, input) => Err(Error::NoMatchingTransition {
                    trigger: match input {
                        Input::Deposit { .. } => "Deposit",
                        Input::Withdraw { .. } => "Withdraw",
                        Input::Transfer { .. } => "Transfer",
                        Input::Freeze => "Freeze",
                        Input::Thaw => "Thaw",
                        Input::EndOfDay => "EndOfDay",
                    },
                }),
            }
        }
    }
}

/// A deterministic trace: deposits, withdrawals and transfers over eight accounts, some invalid, with freezes,
/// thaws and day ends in between.
fn trace() -> Vec<hand::Input> {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..TRACE)
        .map(|_| {
            let roll = next() % 100;
            let account = next() % 8;
            let amount = match next() % 20 {
                0 => 0,
                1 => 20_000,
                2 => u64::MAX - 5,
                _ => 1 + next() % 500,
            };
            match roll {
                0..=34 => hand::Input::Deposit { account, amount },
                35..=64 => hand::Input::Withdraw { account, amount },
                65..=91 => hand::Input::Transfer { source: account, target: next() % 8, amount },
                92..=94 => hand::Input::Freeze,
                95..=97 => hand::Input::Thaw,
                _ => hand::Input::EndOfDay,
            }
        })
        .collect()
}

/// Glue between one kernel variant and the comparison: inputs from the trace, outcomes, states.
macro_rules! kernel_variant {
    ($name:ident, $kernel:ident) => {
        mod $name {
            use super::{Outcome, hand};

            pub use super::$kernel::{BankAuthority, BankMutator};
            use super::$kernel::{BankEffect, BankInput, BankPhase, BankTransition, BankTransitionError};

            pub fn inputs(trace: &[hand::Input]) -> Vec<BankInput> {
                trace
                    .iter()
                    .map(|input| match *input {
                        hand::Input::Deposit { account, amount } => BankInput::Deposit { account, amount },
                        hand::Input::Withdraw { account, amount } => BankInput::Withdraw { account, amount },
                        hand::Input::Transfer { source, target, amount } => {
                            BankInput::Transfer { source_account: source, target_account: target, amount }
                        }
                        hand::Input::Freeze => BankInput::Freeze,
                        hand::Input::Thaw => BankInput::Thaw,
                        hand::Input::EndOfDay => BankInput::EndOfDay,
                    })
                    .collect()
            }

            pub fn outcome(result: Result<BankTransition, BankTransitionError>) -> Outcome {
                match result {
                    Ok(t) => Outcome::Fired(
                        t.transition_name(),
                        t.effects()
                            .iter()
                            .map(|e| match *e {
                                BankEffect::Deposited { account, balance } => ("Deposited", account, balance, 0),
                                BankEffect::Withdrew { account, balance, withdrawn_today } => {
                                    ("Withdrew", account, balance, withdrawn_today)
                                }
                                BankEffect::DayClosed { operations } => ("DayClosed", operations, 0, 0),
                            })
                            .collect(),
                    ),
                    Err(BankTransitionError::NoMatchingTransition { trigger, .. }) => {
                        Outcome::Rejected("no matching transition", trigger, "")
                    }
                    Err(BankTransitionError::GuardRejected { rejections, .. }) => {
                        let (transition, label) = rejections.iter().next().unwrap_or(("", ""));
                        Outcome::Rejected("guard", transition, label)
                    }
                    Err(BankTransitionError::ArithmeticOverflow { transition }) => {
                        Outcome::Rejected("overflow", transition, "")
                    }
                    Err(BankTransitionError::InvariantViolated { transition, invariant }) => {
                        Outcome::Rejected("invariant", transition, invariant)
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }

            /// The kernel's state in the hand-written shape.
            pub fn state(authority: &BankAuthority) -> hand::Bank {
                let s = authority.state();
                hand::Bank {
                    phase: match s.phase {
                        BankPhase::Open => hand::Phase::Open,
                        BankPhase::Frozen => hand::Phase::Frozen,
                        BankPhase::Closed => hand::Phase::Closed,
                    },
                    balances: s.balances.clone(),
                    total: s.total,
                    daily_limit: s.daily_limit,
                    withdrawn_today: s.withdrawn_today,
                    operations: s.operations,
                }
            }
        }
    };
}

kernel_variant!(on, checks_on);
kernel_variant!(off, checks_off);

fn hand_outcome(result: Result<hand::Fired, hand::Error>) -> Outcome {
    let effect = |e: &hand::Effect| match *e {
        hand::Effect::Deposited { account, balance } => ("Deposited", account, balance, 0),
        hand::Effect::Withdrew { account, balance, withdrawn_today } => ("Withdrew", account, balance, withdrawn_today),
        hand::Effect::DayClosed { operations } => ("DayClosed", operations, 0, 0),
    };
    match result {
        Ok(fired) => Outcome::Fired(
            fired.transition,
            match &fired.effects {
                hand::Effects::None => vec![],
                hand::Effects::One(a) => vec![effect(a)],
                hand::Effects::Two(a, b) => vec![effect(a), effect(b)],
            },
        ),
        Err(hand::Error::NoMatchingTransition { trigger }) => Outcome::Rejected("no matching transition", trigger, ""),
        Err(hand::Error::GuardRejected { transition, label }) => Outcome::Rejected("guard", transition, label),
        Err(hand::Error::ArithmeticOverflow { transition }) => Outcome::Rejected("overflow", transition, ""),
        Err(hand::Error::InvariantViolated { transition, invariant }) => {
            Outcome::Rejected("invariant", transition, invariant)
        }
    }
}

/// Runs both implementations over the trace and requires identical outcomes and states; returns how many
/// inputs were accepted.
fn check_agreement(trace: &[hand::Input]) -> usize {
    macro_rules! agree {
        ($variant:ident, $checks:literal) => {{
            let mut kernel = $variant::BankAuthority::new();
            let mut manual = hand::Bank::new();
            let mut accepted = 0;
            for (step, (input, kernel_input)) in trace.iter().zip($variant::inputs(trace)).enumerate() {
                let expected = hand_outcome(manual.apply::<$checks>(*input));
                let actual = $variant::outcome($variant::BankMutator::apply(&mut kernel, kernel_input));
                assert_eq!(actual, expected, "step {step}: {input:?}");
                assert_eq!($variant::state(&kernel), manual, "step {step}: {input:?}");
                accepted += usize::from(matches!(actual, Outcome::Fired(..)));
            }
            accepted
        }};
    }
    let on = agree!(on, true);
    let off = agree!(off, false);
    assert_eq!(on, off);
    on
}

fn benches(c: &mut Criterion, trace: &[hand::Input]) {
    let mut group = c.benchmark_group("bank_trace");
    group.throughput(Throughput::Elements(trace.len() as u64));
    macro_rules! kernel_bench {
        ($name:literal, $variant:ident) => {
            let inputs = $variant::inputs(trace);
            group.bench_function($name, |b| {
                b.iter_batched(
                    || ($variant::BankAuthority::new(), inputs.clone()),
                    |(mut authority, inputs)| {
                        for input in inputs {
                            let _ = black_box($variant::BankMutator::apply(&mut authority, input));
                        }
                        authority
                    },
                    BatchSize::LargeInput,
                )
            });
        };
    }
    macro_rules! hand_bench {
        ($name:literal, $checks:literal) => {
            group.bench_function($name, |b| {
                b.iter_batched(
                    || (hand::Bank::new(), trace.to_vec()),
                    |(mut bank, inputs)| {
                        for input in inputs {
                            let _ = black_box(bank.apply::<$checks>(input));
                        }
                        bank
                    },
                    BatchSize::LargeInput,
                )
            });
        };
    }
    kernel_bench!("kernel/checks_off", off);
    hand_bench!("hand_written/checks_off", false);
    kernel_bench!("kernel/checks_on", on);
    hand_bench!("hand_written/checks_on", true);
    group.finish();
}

/// Medians of `runs` alternating full-trace runs of `a` and `b` (alternating, so changes in machine load hit
/// both alike).
fn alternating_medians(
    runs: usize,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let (mut xs, mut ys) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        xs.push(a());
        ys.push(b());
    }
    xs.sort();
    ys.sort();
    (xs[runs / 2], ys[runs / 2])
}

fn summary(trace: &[hand::Input]) {
    const RUNS: usize = 401;
    macro_rules! time_kernel {
        ($variant:ident) => {{
            let inputs = $variant::inputs(trace);
            move || {
                let mut authority = $variant::BankAuthority::new();
                let inputs = inputs.clone();
                let start = Instant::now();
                for input in inputs {
                    let _ = black_box($variant::BankMutator::apply(&mut authority, input));
                }
                let elapsed = start.elapsed();
                black_box(authority);
                elapsed
            }
        }};
    }
    macro_rules! time_hand {
        ($checks:literal) => {{
            || {
                let mut bank = hand::Bank::new();
                let inputs = trace.to_vec();
                let start = Instant::now();
                for input in inputs {
                    let _ = black_box(bank.apply::<$checks>(input));
                }
                let elapsed = start.elapsed();
                black_box(bank);
                elapsed
            }
        }};
    }
    let per_input = |d: Duration| d.as_secs_f64() * 1e9 / trace.len() as f64;
    let off = alternating_medians(RUNS, time_kernel!(off), time_hand!(false));
    let on = alternating_medians(RUNS, time_kernel!(on), time_hand!(true));
    println!("\nsummary (medians of {RUNS} alternating runs of the {}-input trace):", trace.len());
    println!("{:<12} {:>16} {:>22} {:>8}", "invariants", "kernel ns/input", "hand-written ns/input", "ratio");
    for (label, (kernel, manual)) in [("checks off", off), ("checks on", on)] {
        let (kernel, manual) = (per_input(kernel), per_input(manual));
        println!("{label:<12} {kernel:>16.2} {manual:>22.2} {:>8.3}", kernel / manual);
    }
}

fn main() {
    let trace = trace();
    let accepted = check_agreement(&trace);
    println!("kernel and hand-written agree on all {} inputs ({accepted} accepted)", trace.len());
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion, &trace);
    criterion.final_summary();
    summary(&trace);
}
