//! [`Authority`]: the owner of one kernel state, the only way to change it; [`AuthoritySnapshot`], a saved state
//! to roll back to; and [`Mutator`], the sealed trait that applies inputs.
//!
//! The authority's fields are private and every change goes through its methods, so bookkeeping that later
//! work needs (a version counter for compare-before-rollback, a staged transition with its undo record) can be
//! added here without touching generated code.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::TransitionError;
use crate::kernel::{Kernel, Outcome};

/// The identity of an authority instance.
type OwnerToken = Arc<dyn Any + Send + Sync>;

/// The authority over one kernel state: the only way to change it is to apply an input ([`Mutator::apply`]) or
/// a signal ([`Authority::apply_signal`]), all or nothing, or to restore a snapshot taken from an authority.
///
/// Clones share the authority's identity ([`Authority::generated_authority_owner_token`]); [`Authority::fork`]
/// and every constructor mint a new one.
pub struct Authority<K: Kernel> {
    state: K,
    owner: OwnerToken,
}

impl<K: Kernel> Authority<K> {
    /// An authority at the initial state.
    pub fn new() -> Self {
        Self::with_state(K::initial())
    }

    fn with_state(state: K) -> Self {
        Authority { state, owner: Arc::new(()) }
    }

    /// An authority over a stored state, after checking every invariant in declaration order.
    ///
    /// # Errors
    ///
    /// [`TransitionError::RecoveredStateInvariantRejected`] naming the first invariant the state breaks.
    pub fn recover_from_state(state: K) -> Result<Self, TransitionError<K>> {
        match state.violated_invariant() {
            Some(invariant) => Err(TransitionError::RecoveredStateInvariantRejected { invariant }),
            None => Ok(Self::with_state(state)),
        }
    }

    /// The current state.
    pub fn state(&self) -> &K {
        &self.state
    }

    /// The current state, consuming the authority.
    pub fn into_state(self) -> K {
        self.state
    }

    /// A copy of the current state, to roll back to with [`Authority::restore_snapshot`].
    pub fn snapshot(&self) -> AuthoritySnapshot<K> {
        AuthoritySnapshot { state: self.state.clone() }
    }

    /// Rolls back to a snapshot taken from an authority (not re-validated: only an authority makes snapshots).
    pub fn restore_snapshot(&mut self, snapshot: AuthoritySnapshot<K>) {
        self.state = snapshot.state;
    }

    /// Applies a signal, all or nothing.
    ///
    /// # Errors
    ///
    /// Why the signal was rejected; the state is then unchanged.
    #[inline]
    pub fn apply_signal(&mut self, signal: K::Signal) -> Outcome<K> {
        self.state.apply_signal(signal)
    }

    /// The identity of this authority: clones share it, [`Authority::fork`] mints a new one.
    pub fn generated_authority_owner_token(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::clone(&self.owner)
    }

    /// A copy of this authority with its own identity.
    pub fn fork(&self) -> Self {
        Self::with_state(self.state.clone())
    }
}

impl<K: Kernel> Clone for Authority<K> {
    fn clone(&self) -> Self {
        Authority { state: self.state.clone(), owner: Arc::clone(&self.owner) }
    }
}

impl<K: Kernel> Default for Authority<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Kernel> fmt::Debug for Authority<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority").field("machine", &K::MACHINE).field("state", &self.state).finish_non_exhaustive()
    }
}

/// A saved state of an authority, taken with [`Authority::snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthoritySnapshot<K: Kernel> {
    state: K,
}

impl<K: Kernel> AuthoritySnapshot<K> {
    /// The saved state.
    pub fn state(&self) -> &K {
        &self.state
    }
}

mod sealed {
    pub trait Sealed {}
}

impl<K: Kernel> sealed::Sealed for Authority<K> {}

/// Applies inputs to an authority. Sealed: implemented by [`Authority`] only. Generated kernels re-export it
/// under the contract's name (`pub use ::meerkat_kernel::Mutator as MMutator;`).
pub trait Mutator: sealed::Sealed {
    /// The kernel whose inputs this applies.
    type Kernel: Kernel;

    /// Applies an input, all or nothing.
    ///
    /// # Errors
    ///
    /// Why the input was rejected; the state is then unchanged.
    fn apply(&mut self, input: <Self::Kernel as Kernel>::Input) -> Outcome<Self::Kernel>;
}

impl<K: Kernel> Mutator for Authority<K> {
    type Kernel = K;

    #[inline]
    fn apply(&mut self, input: K::Input) -> Outcome<K> {
        self.state.apply_input(input)
    }
}
