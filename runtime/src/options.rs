//! [`RuntimeOptions`]: the bounds a [`crate::MeerkatMachine`] keeps per session, and what a caller sees at each.
//!
//! - `dedupe_window`: how many forgotten input ids a session remembers. A terminal input leaves the kernel's
//!   ledger once its outcome was published to its completion waiters (and persisted, with a store); its id and
//!   stored seed then enter this window, oldest out first. Accepting an id that is live, or terminal and not yet
//!   forgotten, is refused by the kernel; an id inside the window is refused by the runtime. Both refusals are
//!   `DuplicateInput` naming the duplicate (the kernel's refusal its source), nothing is accepted and no waiter is
//!   registered. An id that has
//!   left the window is a new input: it is accepted and runs again. `input_state` answers for live inputs and
//!   for ids inside the window, `None` outside. With a store the window lives in the store as well (its ids keep
//!   their stored records until they leave it), so it survives a restart.
//! - `max_queued_inputs`: how many inputs may wait in a session's queue. Accepting one more is refused with
//!   `Backpressure` (nothing accepted); it succeeds again once the runtime loop has drained some.
//! - `max_completion_waiters`: how many inputs of a session may have completion waiters at once.
//!   `accept_input_with_completion` beyond that is refused with `Backpressure` before anything is accepted;
//!   `accept_input_without_wake` is bounded by the queue alone.
//!
//! A runtime loop's wake channel holds one wake: a wake sent while one is pending is dropped, since the loop
//! drains everything queued when it runs. Its effect channel holds [`RUNTIME_LOOP_EFFECT_CAPACITY`] effects;
//! an interrupt or cancel sent while it is full is refused with `Backpressure`.

/// Capacity of a runtime loop's effect channel (interrupts and cancels waiting for the loop).
pub const RUNTIME_LOOP_EFFECT_CAPACITY: usize = 16;

/// Per-session bounds of a [`crate::MeerkatMachine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeOptions {
    /// How many forgotten input ids each session keeps for duplicate detection.
    pub dedupe_window: usize,
    /// How many inputs may wait in a session's queue.
    pub max_queued_inputs: usize,
    /// How many inputs of a session may have completion waiters at once.
    pub max_completion_waiters: usize,
}

impl RuntimeOptions {
    /// The defaults: a window of 256 ids, 65,536 queued inputs and 65,536 waiters per session.
    pub const DEFAULT: Self = Self { dedupe_window: 256, max_queued_inputs: 65_536, max_completion_waiters: 65_536 };
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}
