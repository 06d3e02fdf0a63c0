//! Shared helpers for the end-to-end tests, and the generated kernels they exercise.
//!
//! `build.rs` compiles every test spec (`../dsl/test_data/ok/*.machine`, `specs/*.machine` and the traffic
//! light) into a kernel with interpreter conversions; [`kernels`] holds one module per machine. Each kernel's
//! state implements `meerkat_kernel::Kernel` (generated) and [`InterpKernel`] (its interpreter conversions), so one
//! generic driver ([`differential`]) can run any kernel's `meerkat_kernel::Authority` against the reference
//! interpreter; fired transitions and rejections map to the interpreter's values through the kernel's name
//! tables. [`specs`] writes specs parameterised by a size (two-phase commit with `n` resource managers) for tests
//! and benchmarks.

use meerkat_dsl::interp::{Emitted, Fired, Message, RecoveryRejection, Rejection, State};
use meerkat_dsl::ir::{InputId, InvariantId, PhaseId, SignalId, TransitionId, Trigger};
use meerkat_kernel::{Authority, Kernel, Mutator, Staged, Transition, TransitionError};

pub mod differential;
pub mod specs;
pub mod values;

/// A generated kernel together with the interpreter conversions codegen emits for it
/// (`Config::interp_conversions`): what the differential driver needs beyond [`meerkat_kernel::Kernel`].
/// `build.rs` implements it for every test kernel with [`interp_kernel!`].
pub trait InterpKernel: Kernel {
    /// The spec file the kernel was generated from (absolute path).
    const SPEC: &'static str;

    /// The state, as the interpreter's.
    fn to_interp(&self) -> State;
    /// The kernel state of an interpreter state, if it fits the machine.
    fn from_interp(state: &State) -> Option<Self>;
    /// The kernel input of an interpreter message, if it is one.
    fn input_from_interp(message: &Message) -> Option<Self::Input>;
    /// The kernel signal of an interpreter message, if it is one.
    fn signal_from_interp(message: &Message) -> Option<Self::Signal>;
    /// The interpreter's emitted value of an effect.
    fn effect_to_interp(effect: &Self::Effect) -> Emitted;
}

/// Implements [`InterpKernel`] for the state of a generated kernel module, from the conversions codegen emits
/// (`build.rs` writes one invocation per machine).
#[macro_export]
macro_rules! interp_kernel {
    ($module:ident, $spec:literal, $state:ident, $input:ident, $signal:ident, $effect:ident) => {
        impl $crate::InterpKernel for $module::$state {
            const SPEC: &'static str = $spec;

            fn to_interp(&self) -> ::meerkat_dsl::interp::State {
                $module::$state::to_interp(self)
            }

            fn from_interp(state: &::meerkat_dsl::interp::State) -> Option<Self> {
                <$module::$state as ::meerkat_dsl::interp::FromInterp>::from_interp(state)
            }

            fn input_from_interp(message: &::meerkat_dsl::interp::Message) -> Option<$module::$input> {
                <$module::$input as ::meerkat_dsl::interp::FromInterp>::from_interp(message)
            }

            fn signal_from_interp(message: &::meerkat_dsl::interp::Message) -> Option<$module::$signal> {
                <$module::$signal as ::meerkat_dsl::interp::FromInterp>::from_interp(message)
            }

            fn effect_to_interp(effect: &$module::$effect) -> ::meerkat_dsl::interp::Emitted {
                effect.to_interp()
            }
        }
    };
}

/// The interpreter's id of a name: its position in one of the kernel's name tables, which list names in
/// declaration order as the interpreter numbers them. `None` for a name the table does not hold.
fn position(table: &[&str], name: &str) -> Option<u32> {
    table.iter().position(|n| *n == name).and_then(|i| u32::try_from(i).ok())
}

/// The interpreter's id of a kernel phase.
pub fn phase_to_interp<K: Kernel>(phase: K::Phase) -> Option<PhaseId> {
    K::PHASES.iter().position(|p| *p == phase).and_then(|i| u32::try_from(i).ok()).map(PhaseId)
}

fn transition_id<K: Kernel>(name: &str) -> Option<TransitionId> {
    position(K::TRANSITIONS, name).map(TransitionId)
}

fn invariant_id<K: Kernel>(name: &str) -> Option<InvariantId> {
    position(K::INVARIANTS, name).map(InvariantId)
}

fn trigger_id<K: Kernel>(name: &str) -> Option<Trigger> {
    position(K::INPUTS, name)
        .map(|i| Trigger::Input(InputId(i)))
        .or_else(|| position(K::SIGNALS, name).map(|i| Trigger::Signal(SignalId(i))))
}

/// The interpreter's account of a fired transition. A name or phase the kernel's tables lack becomes id
/// `u32::MAX`, which no interpreter value has, so the comparison fails and shows it.
pub fn fired_to_interp<K: InterpKernel>(transition: &Transition<K>) -> Fired {
    Fired {
        transition: transition_id::<K>(transition.transition_name()).unwrap_or(TransitionId(u32::MAX)),
        source: phase_to_interp::<K>(transition.source()).unwrap_or(PhaseId(u32::MAX)),
        target: phase_to_interp::<K>(transition.target()).unwrap_or(PhaseId(u32::MAX)),
        effects: transition.effects().iter().map(K::effect_to_interp).collect(),
    }
}

/// Applies the kernel input or signal of `message`; `None` when `message` does not convert. Errors map to the
/// interpreter's rejection (`None` if the kernel named something the machine does not declare).
pub fn apply_message<K: InterpKernel>(
    authority: &mut Authority<K>,
    message: &Message,
) -> Option<Result<Fired, Option<Rejection>>> {
    let result = match message.trigger {
        Trigger::Input(_) => authority.apply(K::input_from_interp(message)?),
        Trigger::Signal(_) => authority.apply_signal(K::signal_from_interp(message)?),
    };
    Some(result.map(|t| fired_to_interp(&t)).map_err(|e| rejection_to_interp(&e)))
}

/// Stages the kernel input or signal of `message` (`Authority::stage` / `stage_signal`), like [`apply_message`],
/// and keeps the staged change of a fired transition for a later roll-back.
#[allow(clippy::type_complexity)]
pub fn stage_message<K: InterpKernel>(
    authority: &mut Authority<K>,
    message: &Message,
) -> Option<Result<(Fired, Staged<K>), Option<Rejection>>> {
    let result = match message.trigger {
        Trigger::Input(_) => authority.stage(K::input_from_interp(message)?),
        Trigger::Signal(_) => authority.stage_signal(K::signal_from_interp(message)?),
    };
    Some(result.map(|(t, staged)| (fired_to_interp(&t), staged)).map_err(|e| rejection_to_interp(&e)))
}

/// `Authority::recover_from_state` on the kernel state of `state`; `None` when `state` does not convert.
pub fn recover<K: InterpKernel>(state: &State) -> Option<Result<Authority<K>, Option<RecoveryRejection>>> {
    let state = K::from_interp(state)?;
    Some(Authority::recover_from_state(state).map_err(|e| recovery_to_interp(&e)))
}

/// The interpreter's rejection for a kernel error (`None` for a recovery error, or names the kernel's tables
/// lack).
pub fn rejection_to_interp<K: Kernel>(error: &TransitionError<K>) -> Option<Rejection> {
    use meerkat_kernel::RejectionList;
    Some(match error {
        TransitionError::NoMatchingTransition { phase, trigger } => {
            Rejection::NoMatchingTransition { phase: phase_to_interp::<K>(*phase)?, trigger: trigger_id::<K>(trigger)? }
        }
        TransitionError::GuardRejected { phase, trigger, rejections } => Rejection::GuardRejected {
            phase: phase_to_interp::<K>(*phase)?,
            trigger: trigger_id::<K>(trigger)?,
            rejections: rejections
                .as_slice()
                .iter()
                .map(|(transition, label)| Some((transition_id::<K>(transition)?, (*label).to_string())))
                .collect::<Option<Vec<_>>>()?,
        },
        TransitionError::AmbiguousTransition { phase, trigger, first, second } => Rejection::AmbiguousTransition {
            phase: phase_to_interp::<K>(*phase)?,
            trigger: trigger_id::<K>(trigger)?,
            first: transition_id::<K>(first)?,
            second: transition_id::<K>(second)?,
        },
        TransitionError::ArithmeticOverflow { transition } => {
            Rejection::ArithmeticOverflow { transition: transition_id::<K>(transition)? }
        }
        TransitionError::InvariantViolated { transition, invariant } => Rejection::InvariantViolated {
            transition: transition_id::<K>(transition)?,
            invariant: invariant_id::<K>(invariant)?,
        },
        TransitionError::RecoveredStateInvariantRejected { .. } => return None,
    })
}

/// The interpreter's recovery rejection for a `recover_from_state` error (`None` for any other error, or an
/// invariant the kernel's table lacks).
pub fn recovery_to_interp<K: Kernel>(error: &TransitionError<K>) -> Option<RecoveryRejection> {
    match error {
        TransitionError::RecoveredStateInvariantRejected { invariant } => {
            Some(RecoveryRejection::InvariantRejected { invariant: invariant_id::<K>(invariant)? })
        }
        _ => None,
    }
}

/// The generated kernels of the test machines, one module per machine (named in snake case).
pub mod kernels {
    include!(concat!(env!("OUT_DIR"), "/kernels.rs"));
}

/// The kernels of the name-hygiene corpus (`build/corpus.rs`), one module per machine and composition. Its spec
/// names are chosen to collide, not to follow Rust's naming conventions (machines named `type` or `E0`), nor
/// clippy's style lints (a machine named `corpus`, a variant named `from_interp`, a type 60 levels deep).
#[allow(
    non_camel_case_types,
    non_snake_case,
    clippy::module_inception,
    clippy::self_named_constructors,
    clippy::type_complexity
)]
pub mod corpus {
    include!(concat!(env!("OUT_DIR"), "/corpus.rs"));
}

/// The kernels of random valid specs (`build/random_specs.rs`), one module per machine. Their expressions are
/// drawn at random, so clippy's style lints about what a person would write (`x * 1`, `if c { a } else { a }`)
/// say nothing about the generator.
#[allow(clippy::all, unused)]
pub mod random {
    include!(concat!(env!("OUT_DIR"), "/random.rs"));
}
