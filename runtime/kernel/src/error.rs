//! [`TransitionError`]: why a kernel rejected an input, a signal or a recovered state, and [`GuardRejections`],
//! the inline list of candidates a guard rejection names.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::kernel::Kernel;

/// Why a kernel rejected an input or a recovered state. The state is unchanged.
///
/// Every name is one of the kernel's name tables ([`Kernel::INPUTS`], [`Kernel::SIGNALS`],
/// [`Kernel::TRANSITIONS`], [`Kernel::GUARDS`], [`Kernel::INVARIANTS`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError<K: Kernel> {
    /// No transition on this trigger leaves the current phase.
    #[error("no transition for `{trigger}` in phase `{phase}`")]
    NoMatchingTransition {
        /// The current phase.
        phase: K::Phase,
        /// The input or signal.
        trigger: &'static str,
    },
    /// Every candidate has a guard that does not hold, and there is no `otherwise` candidate.
    #[error("every candidate for `{trigger}` in phase `{phase}` was rejected by a guard{}", Listed(.rejections.as_slice()))]
    GuardRejected {
        /// The current phase.
        phase: K::Phase,
        /// The input or signal.
        trigger: &'static str,
        /// Every candidate, in declaration order, with the label of its first guard that does not hold.
        rejections: K::GuardRejections,
    },
    /// The guards of two candidates both hold.
    #[error("transitions `{first}` and `{second}` both accept `{trigger}` in phase `{phase}`")]
    AmbiguousTransition {
        /// The current phase.
        phase: K::Phase,
        /// The input or signal.
        trigger: &'static str,
        /// The first candidate whose guards hold, in declaration order.
        first: &'static str,
        /// The second one.
        second: &'static str,
    },
    /// A guard or the body overflowed a `u64` or divided by zero.
    #[error("arithmetic overflow or division by zero in transition `{transition}`")]
    ArithmeticOverflow {
        /// The candidate whose guard, or the transition whose body, failed.
        transition: &'static str,
    },
    /// The state after the transition would break an invariant.
    #[error("transition `{transition}` would break invariant `{invariant}`")]
    InvariantViolated {
        /// The transition that fired.
        transition: &'static str,
        /// The first invariant, in declaration order, that does not hold.
        invariant: &'static str,
    },
    /// A state given to `recover_from_state` breaks an invariant.
    #[error("the recovered state breaks invariant `{invariant}`")]
    RecoveredStateInvariantRejected {
        /// The first invariant, in declaration order, that does not hold.
        invariant: &'static str,
    },
}

/// `: `A` (`x` does not hold), `B` (`y` does not hold)`, the tail of a guard rejection's message.
struct Listed<'a>(&'a [(&'static str, &'static str)]);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (transition, label)) in self.0.iter().enumerate() {
            let separator = if index == 0 { ": " } else { ", " };
            write!(f, "{separator}`{transition}` (`{label}` does not hold)")?;
        }
        Ok(())
    }
}

/// The candidates of a `GuardRejected` input, each a (transition, label of its first guard that does not hold)
/// pair, held inline: `N` is the most guarded candidates one (phase, trigger) pair of the machine has, so a
/// rejection allocates nothing.
#[derive(Clone, Copy)]
pub struct GuardRejections<const N: usize> {
    len: usize,
    items: [(&'static str, &'static str); N],
}

impl<const N: usize> GuardRejections<N> {
    /// The first `N` of `items`, in order.
    #[inline]
    pub fn new(items: &[(&'static str, &'static str)]) -> Self {
        let mut slots = [("", ""); N];
        for (slot, item) in slots.iter_mut().zip(items) {
            *slot = *item;
        }
        GuardRejections { len: items.len().min(N), items: slots }
    }

    /// The (transition, guard label) pairs, in declaration order of the transitions.
    pub fn as_slice(&self) -> &[(&'static str, &'static str)] {
        // `len <= N` by construction.
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// Iterates over the (transition, guard label) pairs, in declaration order of the transitions.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.as_slice().iter().copied()
    }

    /// How many candidates were rejected.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are none (never, for a real rejection).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<const N: usize> fmt::Debug for GuardRejections<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<const N: usize> PartialEq for GuardRejections<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for GuardRejections<N> {}

impl<const N: usize> Hash for GuardRejections<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

mod sealed {
    pub trait Sealed {}
}

impl<const N: usize> sealed::Sealed for GuardRejections<N> {}

/// What [`Kernel::GuardRejections`] can be: a [`GuardRejections`] of some capacity. Sealed.
pub trait RejectionList: sealed::Sealed + Copy + fmt::Debug + Eq + Hash + 'static {
    /// The first pairs of `items` that fit, in order.
    fn from_items(items: &[(&'static str, &'static str)]) -> Self;

    /// The (transition, guard label) pairs, in order.
    fn as_slice(&self) -> &[(&'static str, &'static str)];
}

impl<const N: usize> RejectionList for GuardRejections<N> {
    #[inline]
    fn from_items(items: &[(&'static str, &'static str)]) -> Self {
        GuardRejections::new(items)
    }

    fn as_slice(&self) -> &[(&'static str, &'static str)] {
        GuardRejections::as_slice(self)
    }
}
