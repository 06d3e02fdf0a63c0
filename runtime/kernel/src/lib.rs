//! The support crate of generated machine kernels: everything a kernel's API needs that does not depend on the
//! spec, written once and generic over the machine, as `::prost::Message` is for prost's messages.
//!
//! `meerkat-codegen` turns a spec into the machine's data types (`MState`, `MPhase`, `MInput`, `MSignal`,
//! `MEffect`, the declared types), its compiled dispatch, helpers, guards and invariants, and an implementation of
//! [`Kernel`] on `MState`. This crate supplies the rest of the kernel contract, generic over that trait:
//!
//! - [`Authority`] owns one state and is the only way to change it (with [`Mutator::apply`] for inputs);
//! - [`AuthoritySnapshot`] is a saved state to roll back to;
//! - [`Staged`] is a change applied with its undo record ([`UndoLog`]), to roll back later without a copy of the
//!   state, and [`Transaction`] stages several inputs and signals as one change;
//! - [`Transition`] is what a successful input did, [`TransitionError`] why one was rejected, with
//!   [`GuardRejections`] listing the failing guards inline;
//! - [`fired`] and the [`reject`] functions are what the generated code returns.
//!
//! Generated files keep the contract's names as aliases (`pub type MAuthority = ::meerkat_kernel::Authority<MState>;`
//! and so on), so users write `TrafficLightAuthority::new()` and never name this crate.
//!
//! The crate depends on std and thiserror only, has no `unsafe`, and allocates nothing on the paths a transition
//! takes (accepted or rejected): effects and guard rejections are held inline.
//!
//! ```
//! use meerkat_kernel::{Authority, Kernel, Mutator, Outcome};
//!
//! /// A counter that refuses to pass three (a hand-written kernel; generated ones look the same).
//! #[derive(Clone, Debug, PartialEq, Eq, Hash)]
//! struct Counter {
//!     count: u64,
//! }
//!
//! #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
//! enum Phase {
//!     Counting,
//! }
//!
//! impl std::fmt::Display for Phase {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("Counting")
//!     }
//! }
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash)]
//! enum Input {
//!     Add,
//! }
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash)]
//! enum Signal {}
//!
//! impl Kernel for Counter {
//!     type Phase = Phase;
//!     type Input = Input;
//!     type Signal = Signal;
//!     type Effect = u64;
//!     type Effects = [u64; 1];
//!     type GuardRejections = meerkat_kernel::GuardRejections<1>;
//!     // Staging records whole copies of this small state (the trait's default), so there are no undo entries.
//!     type Undo = std::convert::Infallible;
//!     const MACHINE: &'static str = "Counter";
//!     const PHASES: &'static [Phase] = &[Phase::Counting];
//!     const INPUTS: &'static [&'static str] = &["Add"];
//!     const SIGNALS: &'static [&'static str] = &[];
//!     const TRANSITIONS: &'static [&'static str] = &["Add"];
//!     const GUARDS: &'static [&'static str] = &["count < 3"];
//!     const INVARIANTS: &'static [&'static str] = &[];
//!
//!     fn initial() -> Self {
//!         Counter { count: 0 }
//!     }
//!
//!     fn phase(&self) -> Phase {
//!         Phase::Counting
//!     }
//!
//!     fn apply_input(&mut self, input: Input) -> Outcome<Self> {
//!         match input {
//!             Input::Add if self.count < 3 => {
//!                 self.count += 1;
//!                 meerkat_kernel::fired("Add", Phase::Counting, Phase::Counting, [self.count])
//!             }
//!             Input::Add => meerkat_kernel::reject::guards(Phase::Counting, "Add", [("Add", "count < 3")]),
//!         }
//!     }
//!
//!     fn apply_signal(&mut self, signal: Signal) -> Outcome<Self> {
//!         match signal {}
//!     }
//!
//!     fn undo(&mut self, step: Self::Undo) {
//!         match step {}
//!     }
//!
//!     fn violated_invariant(&self) -> Option<&'static str> {
//!         None
//!     }
//! }
//!
//! let mut counter = Authority::<Counter>::new();
//! for expected in 1..=3 {
//!     assert_eq!(counter.apply(Input::Add).map(|t| t.into_effects()), Ok(vec![expected]));
//! }
//! let error = counter.apply(Input::Add).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "every candidate for `Add` in phase `Counting` was rejected by a guard: `Add` (`count < 3` does not hold)"
//! );
//! assert_eq!(counter.state().count, 3);
//!
//! // A staged change can be rolled back while it is the latest change.
//! let mut counter = Authority::<Counter>::new();
//! let (_, staged) = counter.stage(Input::Add).unwrap();
//! assert!(counter.roll_back(staged));
//! assert_eq!(counter.state().count, 0);
//! ```

mod authority;
mod error;
mod kernel;
pub mod reject;
mod transition;
mod undo;

#[cfg(test)]
mod tests;

pub use authority::{Authority, AuthoritySnapshot, Mutator, Staged, Transaction};
pub use error::{GuardRejections, RejectionList, TransitionError};
pub use kernel::{EffectList, Kernel, Outcome};
pub use transition::{Transition, fired};
pub use undo::UndoLog;
