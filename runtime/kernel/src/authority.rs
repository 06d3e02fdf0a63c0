//! [`Authority`]: the owner of one kernel state, the only way to change it; [`AuthoritySnapshot`], a saved state
//! to roll back to; [`Staged`] and [`Transaction`], changes applied with their undo record so they can be rolled
//! back later without a copy of the state; and [`Mutator`], the sealed trait that applies inputs.
//!
//! The authority's fields are private and every change goes through its methods, which is what keeps its
//! version honest: every change of the state gives it a version this authority never had before, and rolling a
//! staged change back returns it to the version from before the change (the state is then exactly that
//! version's state again). So "roll back only if nobody changed the state since" is one comparison of versions,
//! not of states, and changes staged on top of each other roll back newest first.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::TransitionError;
use crate::kernel::{Kernel, Outcome};
use crate::transition::Transition;
use crate::undo::UndoLog;

/// The identity of an authority instance.
type OwnerToken = Arc<dyn Any + Send + Sync>;

/// The authority over one kernel state: the only way to change it is to apply an input ([`Mutator::apply`]) or
/// a signal ([`Authority::apply_signal`]), all or nothing, or to restore a snapshot taken from an authority.
///
/// Clones share the authority's identity ([`Authority::generated_authority_owner_token`]); [`Authority::fork`]
/// and every constructor mint a new one.
///
/// Every change of the state (an applied input or signal, a restored snapshot, a staged change) gives
/// [`Authority::version`] a new value; a roll-back returns it to the value from before the change.
pub struct Authority<K: Kernel> {
    state: K,
    owner: OwnerToken,
    version: u64,
    /// The last version handed out: new versions count up from it and are never reused.
    minted: u64,
    /// The identity of this instance's history: clones and forks get their own, so a change staged on one
    /// never rolls back on another.
    history: Arc<()>,
}

impl<K: Kernel> Authority<K> {
    /// An authority at the initial state.
    pub fn new() -> Self {
        Self::with_state(K::initial())
    }

    fn with_state(state: K) -> Self {
        Authority { state, owner: Arc::new(()), version: 0, minted: 0, history: Arc::new(()) }
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
        self.bump();
    }

    /// The version of the state: a new value after every applied input or signal, restored snapshot and staged
    /// change (a rejected input changes nothing); after [`Authority::roll_back`], the value from before the
    /// change rolled back. Two equal versions of one authority mean the same state.
    pub fn version(&self) -> u64 {
        self.version
    }

    #[inline]
    fn bump(&mut self) {
        self.minted = self.minted.wrapping_add(1);
        self.version = self.minted;
    }

    /// Applies a signal, all or nothing.
    ///
    /// # Errors
    ///
    /// Why the signal was rejected; the state is then unchanged.
    #[inline]
    pub fn apply_signal(&mut self, signal: K::Signal) -> Outcome<K> {
        let transition = self.state.apply_signal(signal)?;
        self.bump();
        Ok(transition)
    }

    /// Applies an input, all or nothing, and keeps what it takes to undo it: the transition, and a [`Staged`]
    /// change to hand back to [`Authority::roll_back`] or to [`Staged::commit`].
    ///
    /// # Errors
    ///
    /// Why the input was rejected; the state is then unchanged.
    pub fn stage(&mut self, input: K::Input) -> Result<(Transition<K>, Staged<K>), TransitionError<K>> {
        let mut transaction = self.begin();
        let transition = transaction.apply(input)?;
        Ok((transition, transaction.stage()))
    }

    /// Applies a signal like [`Authority::stage`].
    ///
    /// # Errors
    ///
    /// Why the signal was rejected; the state is then unchanged.
    pub fn stage_signal(&mut self, signal: K::Signal) -> Result<(Transition<K>, Staged<K>), TransitionError<K>> {
        let mut transaction = self.begin();
        let transition = transaction.apply_signal(signal)?;
        Ok((transition, transaction.stage()))
    }

    /// Starts a transaction: inputs and signals applied through it become one [`Staged`] change
    /// ([`Transaction::stage`]), or are all undone ([`Transaction::roll_back`], or dropping it).
    pub fn begin(&mut self) -> Transaction<'_, K> {
        Transaction { authority: self, log: UndoLog::new(), staged: false }
    }

    /// Rolls a staged change back if the authority is still at the version the change left it at (nothing
    /// changed it since, or what did was rolled back) and the change was staged on this instance, and returns
    /// whether it did; the version is then the one from before the change. Otherwise the state stays as it is:
    /// a roll-back never undoes a change someone made on top.
    pub fn roll_back(&mut self, staged: Staged<K>) -> bool {
        let Staged { mut log, before, version, history } = staged;
        if version != self.version || !Arc::ptr_eq(&history, &self.history) {
            return false;
        }
        log.undo_all(&mut self.state);
        self.version = before;
        true
    }

    /// The identity of this authority: clones share it, [`Authority::fork`] mints a new one.
    pub fn generated_authority_owner_token(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::clone(&self.owner)
    }

    /// A copy of this authority with its own identity.
    pub fn fork(&self) -> Self {
        Authority { version: self.version, minted: self.minted, ..Self::with_state(self.state.clone()) }
    }
}

impl<K: Kernel> Clone for Authority<K> {
    fn clone(&self) -> Self {
        Authority {
            state: self.state.clone(),
            owner: Arc::clone(&self.owner),
            version: self.version,
            minted: self.minted,
            history: Arc::new(()),
        }
    }
}

impl<K: Kernel> Default for Authority<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Kernel> fmt::Debug for Authority<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("machine", &K::MACHINE)
            .field("version", &self.version)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A change an authority applied and can still undo: the undo record of its writes and the authority's versions
/// before and right after it. [`Authority::roll_back`] undoes it if nothing changed the state since;
/// [`Staged::commit`] (or dropping it) keeps it.
pub struct Staged<K: Kernel> {
    log: UndoLog<K>,
    before: u64,
    version: u64,
    history: Arc<()>,
}

impl<K: Kernel> Staged<K> {
    /// Keeps the change: forgets its undo record.
    pub fn commit(self) {}

    /// The authority's version right after the change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The undo record: one entry per write, oldest first.
    pub fn undo_log(&self) -> &UndoLog<K> {
        &self.log
    }
}

impl<K: Kernel> fmt::Debug for Staged<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Staged").field("version", &self.version).field("undo", &self.log).finish_non_exhaustive()
    }
}

/// Inputs and signals applied to an authority as one change, from [`Authority::begin`]. Each one is all or
/// nothing; the transaction as a whole becomes a [`Staged`] change with [`Transaction::stage`], or is undone with
/// [`Transaction::roll_back`] or by dropping it. While it lives it holds the authority, so nobody sees its
/// intermediate states.
pub struct Transaction<'a, K: Kernel> {
    authority: &'a mut Authority<K>,
    log: UndoLog<K>,
    /// Set by [`Transaction::stage`], so dropping the transaction afterwards undoes nothing.
    staged: bool,
}

impl<K: Kernel> Transaction<'_, K> {
    /// The state as of what the transaction applied so far.
    pub fn state(&self) -> &K {
        &self.authority.state
    }

    /// Applies an input, all or nothing; a rejected one leaves the state (and the transaction) as it was.
    ///
    /// # Errors
    ///
    /// Why the input was rejected.
    #[inline]
    pub fn apply(&mut self, input: K::Input) -> Outcome<K> {
        self.authority.state.stage_input(input, &mut self.log)
    }

    /// Applies a signal, all or nothing, like [`Transaction::apply`].
    ///
    /// # Errors
    ///
    /// Why the signal was rejected.
    #[inline]
    pub fn apply_signal(&mut self, signal: K::Signal) -> Outcome<K> {
        self.authority.state.stage_signal(signal, &mut self.log)
    }

    /// Ends the transaction keeping what it applied, as one change of the authority (one new version), with the
    /// undo record to roll it back later.
    pub fn stage(mut self) -> Staged<K> {
        self.staged = true;
        let before = self.authority.version;
        self.authority.bump();
        Staged {
            log: std::mem::take(&mut self.log),
            before,
            version: self.authority.version,
            history: Arc::clone(&self.authority.history),
        }
    }

    /// Ends the transaction undoing everything it applied (the authority's version is unchanged).
    pub fn roll_back(self) {
        // Dropping undoes.
    }
}

impl<K: Kernel> Drop for Transaction<'_, K> {
    fn drop(&mut self) {
        if !self.staged {
            self.log.undo_all(&mut self.authority.state);
        }
    }
}

impl<K: Kernel> fmt::Debug for Transaction<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").field("undo", &self.log).finish_non_exhaustive()
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
        let transition = self.state.apply_input(input)?;
        self.bump();
        Ok(transition)
    }
}
