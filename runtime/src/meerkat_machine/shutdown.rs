//! Shutting a machine down: [`MeerkatMachine::shutdown`] stops accepting (new sessions and new inputs are refused
//! with `ShutDown`), then, per its [`ShutdownPolicy`], lets attached executors drain their queues up to a
//! deadline or abandons the wait at once, and unregisters every session: each runtime loop is stopped (a loop
//! that does not exit in time is aborted), each session's epoch cursors are stored, and every completion waiter
//! still open resolves as `NoProgress { ShutDown }`. Every step was committed to the store when it was taken, so
//! nothing is left to flush: what the store holds (queued inputs, a run's staged inputs) is what the next process
//! recovers.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::machine::MeerkatMachine;
use crate::completion::{CompletionOutcome, NoProgressReason};
use crate::identifiers::SessionId;
use crate::kernel::glue::lock_authority;
use crate::kernel::meerkat_machine as dsl;

/// What a shutdown does with work that is still queued or running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownPolicy {
    /// Sessions with an attached executor drain their queues (and finish their run in flight) until `deadline`
    /// has passed since the shutdown began; then the loops still running are aborted.
    Drain {
        /// The bound on the whole drain.
        deadline: Duration,
    },
    /// No waiting: every loop is stopped at once (aborted if it does not exit at its first chance), and queued
    /// work stays queued in the store.
    Abandon,
}

/// What a shutdown did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Sessions unregistered.
    pub sessions: usize,
    /// Runtime loops aborted because they did not exit in time.
    pub loops_aborted: usize,
    /// Sessions whose unregistration failed (logged); they stay registered and refuse new input.
    pub sessions_failed: usize,
}

impl MeerkatMachine {
    /// Shuts the machine down: stops accepting, drains or abandons per `policy`, stops every runtime loop,
    /// stores each session's epoch, and resolves every completion waiter (`NoProgress { ShutDown }` for inputs
    /// that did not finish). Destroyed sessions stay as tombstones. Calling it again unregisters whatever was
    /// left.
    pub async fn shutdown(&self, policy: ShutdownPolicy) -> ShutdownReport {
        self.shut_down.store(true, Ordering::Release);
        let started = Instant::now();
        let sessions: Vec<SessionId> = {
            let sessions = self.sessions.read().await;
            sessions
                .iter()
                .filter(|(_, entry)| entry.dsl_phase() != dsl::MeerkatMachinePhase::Destroyed)
                .map(|(id, _)| id.clone())
                .collect()
        };
        let deadline = match policy {
            ShutdownPolicy::Drain { deadline } => {
                for session_id in &sessions {
                    self.wait_drained(session_id, started + deadline).await;
                }
                deadline
            }
            ShutdownPolicy::Abandon => Duration::ZERO,
        };
        let outcome = CompletionOutcome::NoProgress { reason: NoProgressReason::ShutDown };
        let mut report = ShutdownReport::default();
        for session_id in &sessions {
            let remaining = deadline.saturating_sub(started.elapsed());
            match self.unregister_session_resolving(session_id, Some(remaining), &outcome).await {
                Ok(unregistered) => {
                    report.sessions += 1;
                    report.loops_aborted += usize::from(unregistered.loop_aborted);
                }
                Err(error) => {
                    tracing::warn!(%session_id, %error, "session could not be unregistered at shutdown");
                    report.sessions_failed += 1;
                }
            }
        }
        report
    }

    /// Waits until the session has nothing queued and no run in flight, or has no executor to drain it, or
    /// `until` passes.
    async fn wait_drained(&self, session_id: &SessionId, until: Instant) {
        while Instant::now() < until {
            let Ok(parts) = self.session_parts(session_id).await else { return };
            let (attached, running) = {
                let authority = lock_authority(&parts.authority);
                (authority.state().executor_attached, authority.state().current_run_id.is_some())
            };
            if !attached {
                return;
            }
            let queued = parts.driver.lock().await.as_driver().queued_len();
            if queued == 0 && !running {
                return;
            }
            // Bounded by `until`; the loop drains in the meantime.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}
