//! Unit tests of the generic parts over a small hand-written kernel shaped like a generated one: a turnstile
//! whose `Coin` input has two guarded candidates, with an invariant, an overflow, a signal and effects of
//! different lengths in an inline effect enum.

// Tests report failures by panicking.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use crate::{
    Authority, EffectList, GuardRejections, Kernel, Mutator, Outcome, TransitionError, UndoLog, fired, reject,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Phase {
    Locked,
    Unlocked,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Locked => "Locked",
            Phase::Unlocked => "Unlocked",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Input {
    Coin { value: u64 },
    Push,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Signal {
    Reset,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Effect {
    Unlocked { coins: u64 },
    Thanks,
}

/// Inline effects with one variant per emitted length, as codegen writes them.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Effects {
    E0([Effect; 0]),
    E2([Effect; 2]),
}

impl EffectList for Effects {
    type Effect = Effect;

    fn as_slice(&self) -> &[Effect] {
        match self {
            Effects::E0(effects) => effects,
            Effects::E2(effects) => effects,
        }
    }

    fn into_vec(self) -> Vec<Effect> {
        match self {
            Effects::E0(effects) => Vec::from(effects),
            Effects::E2(effects) => Vec::from(effects),
        }
    }
}

/// What one write of a staged turnstile transition displaced (inputs log per field; signals use the trait's
/// whole-state default).
#[derive(Debug)]
enum Undo {
    Phase(Phase),
    Coins(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Turnstile {
    phase: Phase,
    coins: u64,
}

impl Kernel for Turnstile {
    type Phase = Phase;
    type Input = Input;
    type Signal = Signal;
    type Effect = Effect;
    type Effects = Effects;
    type GuardRejections = GuardRejections<2>;
    type Undo = Undo;
    const MACHINE: &'static str = "Turnstile";
    const PHASES: &'static [Phase] = &[Phase::Locked, Phase::Unlocked];
    const INPUTS: &'static [&'static str] = &["Coin", "Push"];
    const SIGNALS: &'static [&'static str] = &["Reset"];
    const TRANSITIONS: &'static [&'static str] = &["Small", "Large", "Push", "Reset"];
    const GUARDS: &'static [&'static str] = &["value == 1", "value >= 2"];
    const INVARIANTS: &'static [&'static str] = &["at_most_ten_coins"];

    fn initial() -> Self {
        Turnstile { phase: Phase::Locked, coins: 0 }
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn apply_input(&mut self, input: Input) -> Outcome<Self> {
        let source = self.phase;
        match (source, input) {
            (Phase::Locked, Input::Coin { value }) => match (value == 1, value >= 2) {
                (true, _) => self.coin("Small", source, value),
                (_, true) => self.coin("Large", source, value),
                _ => reject::guards(source, "Coin", [("Small", "value == 1"), ("Large", "value >= 2")]),
            },
            (Phase::Unlocked, Input::Push) => {
                self.phase = Phase::Locked;
                fired("Push", source, Phase::Locked, Effects::E0([]))
            }
            (phase, input) => reject::no_transition(
                phase,
                match input {
                    Input::Coin { .. } => "Coin",
                    Input::Push => "Push",
                },
            ),
        }
    }

    fn apply_signal(&mut self, signal: Signal) -> Outcome<Self> {
        match signal {
            Signal::Reset => {
                let source = self.phase;
                *self = Turnstile::initial();
                fired("Reset", source, Phase::Locked, Effects::E0([]))
            }
        }
    }

    fn stage_input(&mut self, input: Input, log: &mut UndoLog<Self>) -> Outcome<Self> {
        let (phase, coins) = (self.phase, self.coins);
        let transition = self.apply_input(input)?;
        log.push(Undo::Phase(phase));
        log.push(Undo::Coins(coins));
        Ok(transition)
    }

    fn undo(&mut self, step: Undo) {
        match step {
            Undo::Phase(phase) => self.phase = phase,
            Undo::Coins(coins) => self.coins = coins,
        }
    }

    fn violated_invariant(&self) -> Option<&'static str> {
        (self.coins > 10).then_some("at_most_ten_coins")
    }
}

impl Turnstile {
    /// Takes `value` coins, undoing its writes when the sum overflows or breaks the invariant.
    fn coin(&mut self, name: &'static str, source: Phase, value: u64) -> Outcome<Self> {
        let Some(coins) = self.coins.checked_add(value) else { return reject::overflow(name) };
        let undo = std::mem::replace(&mut self.coins, coins);
        self.phase = Phase::Unlocked;
        if let Some(invariant) = self.violated_invariant() {
            self.phase = source;
            self.coins = undo;
            return reject::invariant(name, invariant);
        }
        fired(name, source, Phase::Unlocked, Effects::E2([Effect::Unlocked { coins }, Effect::Thanks]))
    }
}

#[test]
fn an_accepted_input_reports_its_transition_and_effects() {
    let mut turnstile = Authority::<Turnstile>::new();
    assert_eq!(turnstile.state(), &Turnstile::initial());
    let fired = turnstile.apply(Input::Coin { value: 1 }).expect("a small coin unlocks");
    assert_eq!(fired.transition_name(), "Small");
    assert_eq!((fired.source(), fired.target()), (Phase::Locked, Phase::Unlocked));
    assert_eq!(fired.effects(), &[Effect::Unlocked { coins: 1 }, Effect::Thanks]);
    assert_eq!(fired.clone(), fired);
    assert_eq!(fired.into_effects(), vec![Effect::Unlocked { coins: 1 }, Effect::Thanks]);
    let pushed = turnstile.apply(Input::Push).expect("push locks");
    assert!(pushed.effects().is_empty());
    assert_eq!(
        format!("{pushed:?}"),
        "Transition { transition: \"Push\", source: Unlocked, target: Locked, effects: [] }"
    );
}

#[test]
fn every_rejection_leaves_the_state_and_says_why() {
    let mut turnstile = Authority::<Turnstile>::new();
    let before = turnstile.state().clone();
    let cases: [(Input, TransitionError<Turnstile>, &str); 2] = [
        (
            Input::Push,
            TransitionError::NoMatchingTransition { phase: Phase::Locked, trigger: "Push" },
            "no transition for `Push` in phase `Locked`",
        ),
        (
            Input::Coin { value: 0 },
            TransitionError::GuardRejected {
                phase: Phase::Locked,
                trigger: "Coin",
                rejections: GuardRejections::new(&[("Small", "value == 1"), ("Large", "value >= 2")]),
            },
            "every candidate for `Coin` in phase `Locked` was rejected by a guard: `Small` (`value == 1` does not \
             hold), `Large` (`value >= 2` does not hold)",
        ),
    ];
    for (input, expected, message) in cases {
        let error = turnstile.apply(input).expect_err("rejected");
        assert_eq!(error, expected);
        assert_eq!(error.to_string(), message);
        assert_eq!(turnstile.state(), &before);
    }
    let error = turnstile.apply(Input::Coin { value: 11 }).expect_err("eleven coins break the invariant");
    assert_eq!(error, TransitionError::InvariantViolated { transition: "Large", invariant: "at_most_ten_coins" });
    assert_eq!(error.to_string(), "transition `Large` would break invariant `at_most_ten_coins`");
    assert_eq!(turnstile.state(), &before, "the invariant check undid the writes");

    let mut full = Authority::recover_from_state(Turnstile { phase: Phase::Locked, coins: 5 }).expect("valid");
    let error = full.apply(Input::Coin { value: u64::MAX }).expect_err("overflow");
    assert_eq!(error, TransitionError::ArithmeticOverflow { transition: "Large" });
    assert_eq!(error.to_string(), "arithmetic overflow or division by zero in transition `Large`");

    let ambiguous: TransitionError<Turnstile> =
        TransitionError::AmbiguousTransition { phase: Phase::Locked, trigger: "Coin", first: "Small", second: "Large" };
    assert_eq!(ambiguous.to_string(), "transitions `Small` and `Large` both accept `Coin` in phase `Locked`");
}

#[test]
fn guard_rejections_hold_at_most_their_capacity_inline() {
    let two = GuardRejections::<2>::new(&[("A", "x")]);
    assert_eq!(two.len(), 1);
    assert!(!two.is_empty());
    assert_eq!(two.iter().collect::<Vec<_>>(), vec![("A", "x")]);
    assert_eq!(format!("{two:?}"), "[(\"A\", \"x\")]");
    // Padding is not part of the value.
    assert_eq!(two, GuardRejections::<2>::new(&[("A", "x")]));
    assert_ne!(two, GuardRejections::<2>::new(&[("A", "x"), ("B", "y")]));
    let truncated = GuardRejections::<1>::new(&[("A", "x"), ("B", "y")]);
    assert_eq!(truncated.as_slice(), &[("A", "x")]);
    assert!(GuardRejections::<0>::new(&[("A", "x")]).is_empty());
    let rejected: Outcome<Turnstile> = reject::guards(Phase::Locked, "Coin", [("Small", "value == 1")]);
    let Err(TransitionError::GuardRejected { rejections, .. }) = rejected else { panic!("a guard rejection") };
    assert_eq!(rejections.as_slice(), &[("Small", "value == 1")]);
}

#[test]
fn recovery_checks_every_invariant() {
    let broken = Turnstile { phase: Phase::Unlocked, coins: 11 };
    let error = Authority::recover_from_state(broken).expect_err("eleven coins");
    assert_eq!(error, TransitionError::RecoveredStateInvariantRejected { invariant: "at_most_ten_coins" });
    assert_eq!(error.to_string(), "the recovered state breaks invariant `at_most_ten_coins`");
    let valid = Turnstile { phase: Phase::Unlocked, coins: 3 };
    let recovered = Authority::recover_from_state(valid.clone()).expect("three coins");
    assert_eq!(recovered.into_state(), valid);
}

#[test]
fn snapshots_roll_back_and_signals_apply() {
    let mut turnstile = Authority::<Turnstile>::default();
    let snapshot = turnstile.snapshot();
    turnstile.apply(Input::Coin { value: 4 }).expect("unlocks");
    assert_ne!(snapshot.state(), turnstile.state());
    turnstile.restore_snapshot(snapshot.clone());
    assert_eq!(turnstile.state(), snapshot.state());

    turnstile.apply(Input::Coin { value: 2 }).expect("unlocks");
    let reset = turnstile.apply_signal(Signal::Reset).expect("reset applies everywhere");
    assert_eq!((reset.transition_name(), reset.source()), ("Reset", Phase::Unlocked));
    assert_eq!(turnstile.state(), &Turnstile::initial());
}

#[test]
fn clones_share_the_owner_token_and_forks_do_not() {
    let turnstile = Authority::<Turnstile>::new();
    let clone = turnstile.clone();
    let fork = turnstile.fork();
    assert!(Arc::ptr_eq(&turnstile.generated_authority_owner_token(), &clone.generated_authority_owner_token()));
    assert!(!Arc::ptr_eq(&turnstile.generated_authority_owner_token(), &fork.generated_authority_owner_token()));
    assert_eq!(fork.state(), turnstile.state());
    assert_eq!(
        format!("{turnstile:?}"),
        "Authority { machine: \"Turnstile\", version: 0, state: Turnstile { phase: Locked, coins: 0 }, .. }"
    );
}

#[test]
fn arrays_are_effect_lists() {
    let effects = [Effect::Thanks];
    assert_eq!(EffectList::as_slice(&effects), &[Effect::Thanks]);
    assert_eq!(EffectList::into_vec(effects), vec![Effect::Thanks]);
}

#[test]
fn staged_changes_roll_back_while_they_are_the_latest() {
    let mut authority = Authority::<Turnstile>::new();
    assert_eq!(authority.version(), 0);
    let (transition, staged) = authority.stage(Input::Coin { value: 3 }).unwrap();
    assert_eq!(transition.transition_name(), "Large");
    assert_eq!(authority.version(), 1);
    assert_eq!(staged.version(), 1);
    assert_eq!(staged.undo_log().len(), 2);
    assert!(authority.roll_back(staged));
    assert_eq!(authority.state(), &Turnstile::initial());
    assert_eq!(authority.version(), 0, "a roll-back returns to the version before the change");

    // A change on top makes the roll-back refuse, and leaves the later change in place.
    let (_, staged) = authority.stage(Input::Coin { value: 3 }).unwrap();
    assert_eq!(staged.version(), 2, "versions are never reused");
    authority.apply(Input::Push).unwrap();
    let after_push = authority.state().clone();
    assert!(!authority.roll_back(staged));
    assert_eq!(authority.state(), &after_push);

    // Changes staged on top of each other roll back newest first.
    let (_, first) = authority.stage(Input::Coin { value: 1 }).unwrap();
    let (_, second) = authority.stage(Input::Push).unwrap();
    assert!(authority.roll_back(second));
    assert!(authority.roll_back(first));
    assert_eq!(authority.state(), &after_push);

    // A staged change of a clone is refused by the original even at the same version.
    let mut clone = authority.clone();
    let (_, staged) = clone.stage(Input::Coin { value: 1 }).unwrap();
    authority.apply(Input::Coin { value: 1 }).unwrap();
    assert_eq!(authority.version(), staged.version());
    assert!(!authority.roll_back(staged));
}

#[test]
fn rejected_inputs_leave_a_transaction_as_it_was() {
    let mut authority = Authority::<Turnstile>::new();
    let mut transaction = authority.begin();
    transaction.apply(Input::Coin { value: 4 }).unwrap();
    transaction.apply_signal(Signal::Reset).unwrap();
    transaction.apply(Input::Coin { value: 9 }).unwrap();
    let before = transaction.state().clone();
    // Locked is left: `Coin` has no transition from Unlocked.
    assert!(transaction.apply(Input::Coin { value: 1 }).is_err());
    assert_eq!(transaction.state(), &before);
    let staged = transaction.stage();
    assert_eq!(authority.state().coins, 9);
    assert_eq!(staged.undo_log().steps().filter(Option::is_none).count(), 1, "the signal logged a whole state");
    assert!(authority.roll_back(staged));
    assert_eq!(authority.state(), &Turnstile::initial());
}

#[test]
fn dropping_a_transaction_undoes_it_and_keeps_the_version() {
    let mut authority = Authority::<Turnstile>::new();
    authority.apply(Input::Coin { value: 2 }).unwrap();
    let (state, version) = (authority.state().clone(), authority.version());
    {
        let mut transaction = authority.begin();
        transaction.apply(Input::Push).unwrap();
        transaction.apply(Input::Coin { value: 5 }).unwrap();
    }
    assert_eq!(authority.state(), &state);
    assert_eq!(authority.version(), version);
    let mut transaction = authority.begin();
    transaction.apply(Input::Push).unwrap();
    transaction.roll_back();
    assert_eq!(authority.state(), &state);
}
