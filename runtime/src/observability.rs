//! Counters a user can export: inputs accepted, applied by a committed run and rejected (by reason), runs begun,
//! and the depth of the input queues, summed over a machine's sessions. Each counter is one relaxed atomic, so
//! counting costs no lock and no allocation per step, whether or not anyone reads them; [`RuntimeCounters::snapshot`]
//! copies them into a plain [`RuntimeCountersSnapshot`] for an exporter. The `tracing` spans the runtime opens per
//! session step (`session_step`, with `session_id`, `transition` and, when the step is about one input,
//! `input_id`) cost a disabled-callsite check when no subscriber is installed.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::error::RuntimeDriverError;

/// Why an input was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectionReason {
    /// Its id is live in the ledger, or inside the dedupe window.
    Duplicate,
    /// The session does not take input in its phase.
    NotReady,
    /// The session was destroyed.
    Destroyed,
    /// A bound of the session was full.
    Backpressure,
    /// Any other refusal of the kernel or the shell.
    Refused,
    /// The runtime's plumbing failed.
    Internal,
}

impl RejectionReason {
    /// The reason for an ingress error (an unknown, draining or shut-down session is `NotReady`).
    pub(crate) fn of(error: &RuntimeDriverError) -> Self {
        match error {
            RuntimeDriverError::NotReady { .. }
            | RuntimeDriverError::UnknownSession { .. }
            | RuntimeDriverError::Draining
            | RuntimeDriverError::ShutDown => RejectionReason::NotReady,
            RuntimeDriverError::Destroyed => RejectionReason::Destroyed,
            RuntimeDriverError::DuplicateInput { .. } => RejectionReason::Duplicate,
            RuntimeDriverError::Backpressure { .. } => RejectionReason::Backpressure,
            RuntimeDriverError::ValidationFailed { .. } | RuntimeDriverError::InvalidId { .. } => {
                RejectionReason::Refused
            }
            RuntimeDriverError::Internal(_)
            | RuntimeDriverError::RecoveryCorruption { .. }
            | RuntimeDriverError::DeadlineExceeded { .. } => RejectionReason::Internal,
        }
    }
}

/// A machine's counters (shared by its sessions' drivers and runtime loops).
#[derive(Debug, Default)]
pub struct RuntimeCounters {
    accepted: AtomicU64,
    applied: AtomicU64,
    runs: AtomicU64,
    rejected_duplicate: AtomicU64,
    rejected_not_ready: AtomicU64,
    rejected_destroyed: AtomicU64,
    rejected_backpressure: AtomicU64,
    rejected_refused: AtomicU64,
    rejected_internal: AtomicU64,
    queue_depth: AtomicI64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuntimeCountersSnapshot {
    /// Inputs accepted into a session's ledger and queue.
    pub accepted: u64,
    /// Inputs applied by a committed run.
    pub applied: u64,
    /// Runs the runtime loops began (a burst drained into one run counts once).
    pub runs: u64,
    /// Inputs refused as duplicates.
    pub rejected_duplicate: u64,
    /// Inputs refused because the session does not take input now.
    pub rejected_not_ready: u64,
    /// Inputs refused because the session was destroyed.
    pub rejected_destroyed: u64,
    /// Inputs refused because a bound was full.
    pub rejected_backpressure: u64,
    /// Inputs refused for another reason.
    pub rejected_refused: u64,
    /// Inputs not accepted because the runtime failed.
    pub rejected_internal: u64,
    /// Inputs waiting in the sessions' queues now.
    pub queue_depth: u64,
}

impl RuntimeCountersSnapshot {
    /// Every rejection, whatever its reason.
    pub fn rejected(&self) -> u64 {
        self.rejected_duplicate
            + self.rejected_not_ready
            + self.rejected_destroyed
            + self.rejected_backpressure
            + self.rejected_refused
            + self.rejected_internal
    }
}

impl RuntimeCounters {
    /// Counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn record_accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_applied(&self, inputs: u64) {
        self.applied.fetch_add(inputs, Ordering::Relaxed);
    }

    pub(crate) fn record_run(&self) {
        self.runs.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_rejected(&self, reason: RejectionReason) {
        let counter = match reason {
            RejectionReason::Duplicate => &self.rejected_duplicate,
            RejectionReason::NotReady => &self.rejected_not_ready,
            RejectionReason::Destroyed => &self.rejected_destroyed,
            RejectionReason::Backpressure => &self.rejected_backpressure,
            RejectionReason::Refused => &self.rejected_refused,
            RejectionReason::Internal => &self.rejected_internal,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A driver's queue grew (positive) or shrank (negative) by `delta`.
    pub(crate) fn record_queue_change(&self, delta: i64) {
        if delta != 0 {
            self.queue_depth.fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// The counters now (each read on its own; they are not a consistent cut across counters).
    pub fn snapshot(&self) -> RuntimeCountersSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RuntimeCountersSnapshot {
            accepted: load(&self.accepted),
            applied: load(&self.applied),
            runs: load(&self.runs),
            rejected_duplicate: load(&self.rejected_duplicate),
            rejected_not_ready: load(&self.rejected_not_ready),
            rejected_destroyed: load(&self.rejected_destroyed),
            rejected_backpressure: load(&self.rejected_backpressure),
            rejected_refused: load(&self.rejected_refused),
            rejected_internal: load(&self.rejected_internal),
            queue_depth: u64::try_from(self.queue_depth.load(Ordering::Relaxed)).unwrap_or(0),
        }
    }
}
