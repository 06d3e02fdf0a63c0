//! [`UndoLog`]: what staged transitions displaced, entry by entry, so they can be rolled back without a copy of
//! the state (the authority's [`crate::Staged`] and [`crate::Transaction`] are built on it).
//!
//! A generated kernel's `stage_*` methods write the state in place like `apply_*`, and push one
//! [`Kernel::Undo`] entry per write holding the value the write displaced (moved out, never cloned). Rolling back
//! pops the entries latest first and hands each to [`Kernel::undo`], so its cost is that of the writes, not of
//! the state. A kernel without its own undo entries (a hand-written one using the trait's default
//! [`Kernel::stage_input`]) records a whole copy of the state instead, which the log restores the same way.

use std::fmt;

use crate::kernel::Kernel;

/// One entry of an [`UndoLog`].
enum Entry<K: Kernel> {
    /// What one write displaced, restored by [`Kernel::undo`].
    Step(K::Undo),
    /// A whole earlier state (kernels without their own undo entries).
    State(Box<K>),
}

/// The writes of staged transitions, in the order they happened, each with what it displaced.
pub struct UndoLog<K: Kernel> {
    entries: Vec<Entry<K>>,
}

impl<K: Kernel> UndoLog<K> {
    /// An empty log (allocates nothing until the first write).
    pub fn new() -> Self {
        UndoLog { entries: Vec::new() }
    }

    /// The number of entries: a mark to roll back to with [`UndoLog::undo_to`].
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log has no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records what one write displaced.
    #[inline]
    pub fn push(&mut self, step: K::Undo) {
        self.entries.push(Entry::Step(step));
    }

    /// Records a whole state to go back to (what the default [`Kernel::stage_input`] does).
    pub fn push_state(&mut self, state: K) {
        self.entries.push(Entry::State(Box::new(state)));
    }

    /// The undo entries, oldest first, with `None` for a whole-state entry: the write set of what was staged.
    pub fn steps(&self) -> impl Iterator<Item = Option<&K::Undo>> {
        self.entries.iter().map(|entry| match entry {
            Entry::Step(step) => Some(step),
            Entry::State(_) => None,
        })
    }

    /// Undoes, latest first, every entry after the first `mark`, on the state the entries were recorded on.
    #[inline]
    pub fn undo_to(&mut self, state: &mut K, mark: usize) {
        while self.entries.len() > mark {
            match self.entries.pop() {
                Some(Entry::Step(step)) => state.undo(step),
                Some(Entry::State(saved)) => *state = *saved,
                None => break,
            }
        }
    }

    /// Undoes every entry, latest first.
    pub fn undo_all(&mut self, state: &mut K) {
        self.undo_to(state, 0);
    }

    /// Forgets every entry (the writes stay).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl<K: Kernel> Default for UndoLog<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Kernel> fmt::Debug for UndoLog<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for entry in &self.entries {
            match entry {
                Entry::Step(step) => list.entry(step),
                Entry::State(_) => list.entry(&"<whole state>"),
            };
        }
        list.finish()
    }
}
