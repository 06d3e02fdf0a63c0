//! Staged-then-rolled-back changes leave a generated kernel exactly as it was, on a state with large
//! collections: `JobLease` (from `machines/job_lease.machine`) with thousands of queued, leased, attempted and
//! ended jobs, under random sequences of its inputs and signals (accepted and rejected), staged as one
//! transaction and rolled back, compared with a snapshot the test takes first. The runtime's tests do the same
//! for the MeerkatMachine kernel (`runtime/tests/staged_rollback.rs`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::OnceLock;

use meerkat_kernel::{Authority, Mutator};
use meerkat_tests::kernels::job_lease::{JobId, JobLeaseInput, JobLeaseSignal, JobLeaseState, WorkerId};
use proptest::prelude::*;

/// Jobs submitted to the base state.
const JOBS: usize = 3_000;

fn job(n: usize) -> JobId {
    JobId(format!("job-{n}"))
}

fn worker(n: usize) -> WorkerId {
    WorkerId(format!("worker-{n}"))
}

/// `JOBS` jobs submitted; most of them claimed and completed (thousands of `attempts` and `ended` entries), a
/// few more leased, and the clock moved on.
fn base_state() -> &'static JobLeaseState {
    static BASE: OnceLock<JobLeaseState> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut authority = Authority::<JobLeaseState>::new();
        for n in 0..JOBS {
            authority.apply(JobLeaseInput::Submit { job: job(n) }).expect("a new job is accepted");
        }
        // Claims take jobs in submission order, so job `n` is leased to worker `n % 5`.
        for n in 0..JOBS - JOBS / 6 {
            authority.apply(JobLeaseInput::Claim { worker: worker(n % 5), ttl: 10 }).expect("queued work is claimed");
            if n < JOBS - JOBS / 5 {
                authority
                    .apply(JobLeaseInput::Complete { job: job(n), worker: worker(n % 5), ok: n % 2 == 0 })
                    .expect("the lease holder completes");
            }
        }
        authority.apply_signal(JobLeaseSignal::ClockTick { now: 5 }).expect("the clock moves");
        authority.into_state()
    })
}

#[derive(Clone, Debug)]
enum Message {
    Input(JobLeaseInput),
    Signal(JobLeaseSignal),
}

fn message() -> impl Strategy<Value = Message> {
    let job = (0..JOBS + 8).prop_map(job);
    let worker = (0..6usize).prop_map(worker);
    let ttl = 0..20u64;
    prop_oneof![
        job.clone().prop_map(|job| Message::Input(JobLeaseInput::Submit { job })),
        (worker.clone(), ttl.clone()).prop_map(|(worker, ttl)| Message::Input(JobLeaseInput::Claim { worker, ttl })),
        (job.clone(), worker.clone(), ttl).prop_map(|(job, worker, ttl)| Message::Input(JobLeaseInput::Renew {
            job,
            worker,
            ttl
        })),
        (job.clone(), worker, any::<bool>()).prop_map(|(job, worker, ok)| Message::Input(JobLeaseInput::Complete {
            job,
            worker,
            ok
        })),
        job.prop_map(|job| Message::Input(JobLeaseInput::Expire { job })),
        (0..40u64).prop_map(|now| Message::Signal(JobLeaseSignal::ClockTick { now })),
        Just(Message::Input(JobLeaseInput::Close)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_staged_transaction_rolls_back_exactly(messages in proptest::collection::vec(message(), 1..40)) {
        let mut authority = Authority::recover_from_state(base_state().clone()).unwrap();
        let snapshot = authority.snapshot();
        let mut transaction = authority.begin();
        let mut fired = 0usize;
        for message in messages {
            let before = transaction.state().clone();
            let outcome = match message {
                Message::Input(input) => transaction.apply(input).map(drop),
                Message::Signal(signal) => transaction.apply_signal(signal).map(drop),
            };
            match outcome {
                Ok(()) => fired += 1,
                Err(_) => prop_assert_eq!(transaction.state(), &before, "a rejected message changed the state"),
            }
        }
        let staged = transaction.stage();
        // Every transition of this machine writes something (the clock, a collection or the phase).
        prop_assert_eq!(staged.undo_log().is_empty(), fired == 0);
        prop_assert!(authority.roll_back(staged));
        prop_assert_eq!(authority.state(), snapshot.state());
    }
}
