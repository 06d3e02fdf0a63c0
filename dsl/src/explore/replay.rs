//! Replaying a trace: the states a sequence of messages passes through, from the initial state, so a printer can
//! show what each step changed and a trace writer can dump every state. The search keeps only parent links
//! (one index and one message per state); the states of a trace are rebuilt here, for the few traces reported.

use crate::interp::{InitialStateError, Interpreter, Message, State};
use crate::ir::{FieldId, Machine};

/// One step of a replayed trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The message applied.
    pub message: Message,
    /// Whether the machine accepted it (the last message of a finding's trace is the one it refused).
    pub accepted: bool,
    /// The state after the step: the state before it when the message was refused.
    pub state: State,
}

/// The states a trace passes through: the initial state, then one [`Step`] per message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// The initial state.
    pub initial: State,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Replay {
    /// The state before step `index`.
    pub fn before(&self, index: usize) -> &State {
        index.checked_sub(1).and_then(|i| self.steps.get(i)).map_or(&self.initial, |s| &s.state)
    }

    /// The state fields step `index` changed, in declaration order, and whether it changed the phase.
    pub fn changes(&self, index: usize) -> (bool, Vec<FieldId>) {
        let before = self.before(index);
        let Some(after) = self.steps.get(index).map(|s| &s.state) else { return (false, Vec::new()) };
        let fields = before
            .fields
            .iter()
            .zip(&after.fields)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| FieldId(i as u32))
            .collect();
        (before.phase != after.phase, fields)
    }
}

/// Replays `trace` from the initial state.
pub fn replay(machine: &Machine, trace: &[Message]) -> Result<Replay, InitialStateError> {
    let interp = Interpreter::new(machine);
    let initial = interp.initial_state()?;
    let mut state = initial.clone();
    let mut steps = Vec::with_capacity(trace.len());
    for message in trace {
        let accepted = interp.apply(&mut state, message).is_ok();
        steps.push(Step { message: message.clone(), accepted, state: state.clone() });
    }
    Ok(Replay { initial, steps })
}
