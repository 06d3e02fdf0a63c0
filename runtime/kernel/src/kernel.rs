//! The [`Kernel`] trait a generated machine state implements, and [`EffectList`], the inline storage of one
//! transition's effects.

use std::fmt::{Debug, Display};
use std::hash::Hash;

use crate::error::{RejectionList, TransitionError};
use crate::transition::Transition;
use crate::undo::UndoLog;

/// What applying one input or signal to a kernel gives: the transition that fired, or why none did.
pub type Outcome<K> = Result<Transition<K>, TransitionError<K>>;

/// A machine's state together with its compiled semantics: the generated `MState` implements it.
///
/// The state is a plain value (`Clone + Eq + Hash`), so a generic explorer can start from [`Kernel::initial`],
/// apply inputs and signals to clones, and remember the states it has seen. The name tables list what errors and
/// transitions name, in declaration order, so a position in a table is the interpreter's id of the same item.
///
/// # Contract
///
/// [`Kernel::apply_input`] and [`Kernel::apply_signal`] apply all or nothing: on an error the state is exactly
/// as it was (no clone is taken; the generated code undoes its own writes). They do not allocate beyond what
/// the data itself needs. Every name they put into a [`Transition`] or [`TransitionError`] comes from the tables.
pub trait Kernel: Clone + Debug + Eq + Hash + 'static {
    /// The phase enum (`MPhase`).
    type Phase: Copy + Debug + Display + Eq + Ord + Hash + 'static;
    /// The input enum (`MInput`).
    type Input: Clone + Debug + Eq + Hash + 'static;
    /// The signal enum (`MSignal`).
    type Signal: Clone + Debug + Eq + Hash + 'static;
    /// The effect enum (`MEffect`).
    type Effect: Clone + Debug + Eq + Hash + 'static;
    /// The effects of one transition, held inline up to the most one transition emits.
    type Effects: EffectList<Effect = Self::Effect>;
    /// The candidates a guard rejection lists, held inline: `GuardRejections<N>` for the most guarded candidates
    /// of one (phase, trigger) pair.
    type GuardRejections: RejectionList;
    /// What one write of a staged transition displaced (`MUndo`): an entry of an [`UndoLog`], restored by
    /// [`Kernel::undo`].
    type Undo: Debug + 'static;

    /// The machine's name.
    const MACHINE: &'static str;
    /// Every phase, in declaration order.
    const PHASES: &'static [Self::Phase];
    /// The name of every input, in declaration order.
    const INPUTS: &'static [&'static str];
    /// The name of every signal, in declaration order.
    const SIGNALS: &'static [&'static str];
    /// The name of every transition, in declaration order.
    const TRANSITIONS: &'static [&'static str];
    /// The label of every guard condition of a transition (a named guard's name, otherwise the condition's source
    /// text), each once, in order of first appearance: what [`TransitionError::GuardRejected`] names.
    const GUARDS: &'static [&'static str];
    /// The name of every invariant, in declaration order.
    const INVARIANTS: &'static [&'static str];

    /// The initial state: the initial phase and every field's initial value.
    fn initial() -> Self;

    /// The current phase.
    fn phase(&self) -> Self::Phase;

    /// Applies one input, all or nothing: the compiled dispatch of the spec's transitions.
    ///
    /// # Errors
    ///
    /// Why the input was rejected; the state is then unchanged.
    fn apply_input(&mut self, input: Self::Input) -> Outcome<Self>;

    /// Applies one signal, all or nothing.
    ///
    /// # Errors
    ///
    /// Why the signal was rejected; the state is then unchanged.
    fn apply_signal(&mut self, signal: Self::Signal) -> Outcome<Self>;

    /// Applies one input like [`Kernel::apply_input`] and records in `log` what each of its writes displaced, so
    /// that [`UndoLog::undo_to`] with the log's length from before the call restores the state exactly. On an
    /// error the state and the log are as they were.
    ///
    /// The default records a copy of the whole state; generated kernels record each write instead, so staging
    /// costs what the transition writes.
    ///
    /// # Errors
    ///
    /// Why the input was rejected; the state is then unchanged.
    fn stage_input(&mut self, input: Self::Input, log: &mut UndoLog<Self>) -> Outcome<Self> {
        let before = self.clone();
        let transition = self.apply_input(input)?;
        log.push_state(before);
        Ok(transition)
    }

    /// Applies one signal like [`Kernel::apply_signal`], recording its writes in `log` like
    /// [`Kernel::stage_input`].
    ///
    /// # Errors
    ///
    /// Why the signal was rejected; the state is then unchanged.
    fn stage_signal(&mut self, signal: Self::Signal, log: &mut UndoLog<Self>) -> Outcome<Self> {
        let before = self.clone();
        let transition = self.apply_signal(signal)?;
        log.push_state(before);
        Ok(transition)
    }

    /// Restores what one write displaced. [`UndoLog`] calls it latest entry first, on the state the entries were
    /// recorded on; nothing else should.
    fn undo(&mut self, step: Self::Undo);

    /// The first invariant, in declaration order, that the state breaks (one that fails to evaluate does not
    /// hold), or `None`.
    fn violated_invariant(&self) -> Option<&'static str>;
}

/// The inline storage of one transition's effects: an array, or a generated enum with one variant per length
/// some transition emits (and a heap spill past eight).
pub trait EffectList: Clone + Debug + Eq + 'static {
    /// The effect type.
    type Effect;

    /// The effects, in order.
    fn as_slice(&self) -> &[Self::Effect];

    /// The effects, in order, as a `Vec`.
    fn into_vec(self) -> Vec<Self::Effect>;
}

/// A fixed number of effects: what a machine whose transitions all emit the same number of effects uses.
impl<E: Clone + Debug + Eq + 'static, const N: usize> EffectList for [E; N] {
    type Effect = E;

    #[inline]
    fn as_slice(&self) -> &[E] {
        self
    }

    fn into_vec(self) -> Vec<E> {
        Vec::from(self)
    }
}
