//! The rejections generated dispatch and `fire_*` code returns, one function per kind, each already wrapped in
//! `Err` so a rejection site is one short line: `return ::meerkat_kernel::reject::overflow("Withdraw");`.

use crate::error::{RejectionList, TransitionError};
use crate::kernel::{Kernel, Outcome};

/// [`TransitionError::NoMatchingTransition`].
#[inline]
pub fn no_transition<K: Kernel>(phase: K::Phase, trigger: &'static str) -> Outcome<K> {
    Err(TransitionError::NoMatchingTransition { phase, trigger })
}

/// [`TransitionError::GuardRejected`] with the (transition, failing guard label) pairs of every candidate.
#[inline]
pub fn guards<K: Kernel, const M: usize>(
    phase: K::Phase,
    trigger: &'static str,
    rejections: [(&'static str, &'static str); M],
) -> Outcome<K> {
    Err(TransitionError::GuardRejected { phase, trigger, rejections: K::GuardRejections::from_items(&rejections) })
}

/// [`TransitionError::AmbiguousTransition`].
#[inline]
pub fn ambiguous<K: Kernel>(
    phase: K::Phase,
    trigger: &'static str,
    first: &'static str,
    second: &'static str,
) -> Outcome<K> {
    Err(TransitionError::AmbiguousTransition { phase, trigger, first, second })
}

/// [`TransitionError::ArithmeticOverflow`].
#[inline]
pub fn overflow<K: Kernel>(transition: &'static str) -> Outcome<K> {
    Err(TransitionError::ArithmeticOverflow { transition })
}

/// [`TransitionError::InvariantViolated`].
#[inline]
pub fn invariant<K: Kernel>(transition: &'static str, invariant: &'static str) -> Outcome<K> {
    Err(TransitionError::InvariantViolated { transition, invariant })
}
