//! [`Transition`]: what a successful input or signal did.

use std::fmt;

use crate::kernel::{EffectList, Kernel, Outcome};

/// What a successful input did: the transition that fired, the phases it went from and to, and the effects it
/// emitted, in order (held inline, so an accepted input allocates nothing for them).
pub struct Transition<K: Kernel> {
    name: &'static str,
    source: K::Phase,
    target: K::Phase,
    effects: K::Effects,
}

impl<K: Kernel> Transition<K> {
    /// A transition named `name` (one of [`Kernel::TRANSITIONS`]) that went from `source` to `target` emitting
    /// `effects`. Generated code builds these through [`fired`].
    #[inline]
    pub fn new(name: &'static str, source: K::Phase, target: K::Phase, effects: K::Effects) -> Self {
        Transition { name, source, target, effects }
    }

    /// The name of the transition that fired.
    pub fn transition_name(&self) -> &'static str {
        self.name
    }

    /// The phase it fired from.
    pub fn source(&self) -> K::Phase {
        self.source
    }

    /// The phase it led to (the source phase for `stay`).
    pub fn target(&self) -> K::Phase {
        self.target
    }

    /// The effects it emitted, in order.
    pub fn effects(&self) -> &[K::Effect] {
        self.effects.as_slice()
    }

    /// The effects it emitted, in order, as a `Vec`.
    pub fn into_effects(self) -> Vec<K::Effect> {
        self.effects.into_vec()
    }
}

/// The outcome of a transition that fired: `Ok` of [`Transition::new`].
#[inline]
pub fn fired<K: Kernel>(name: &'static str, source: K::Phase, target: K::Phase, effects: K::Effects) -> Outcome<K> {
    Ok(Transition::new(name, source, target, effects))
}

impl<K: Kernel> Clone for Transition<K> {
    fn clone(&self) -> Self {
        Transition { name: self.name, source: self.source, target: self.target, effects: self.effects.clone() }
    }
}

impl<K: Kernel> PartialEq for Transition<K> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.source == other.source
            && self.target == other.target
            && self.effects.as_slice() == other.effects.as_slice()
    }
}

impl<K: Kernel> Eq for Transition<K> {}

impl<K: Kernel> fmt::Debug for Transition<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transition")
            .field("transition", &self.name)
            .field("source", &self.source)
            .field("target", &self.target)
            .field("effects", &self.effects.as_slice())
            .finish()
    }
}
