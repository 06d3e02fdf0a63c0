//! The floor the runtime benchmarks compare against: what tokio alone allows for the same session shape. Each
//! session is one actor task fed by a bounded `tokio::sync::mpsc` channel; a caller sends an input with a
//! `oneshot` sender and awaits the answer. The actor keeps the session's state by hand (the live inputs and
//! their answers), decides with a hand-written `match`, drains every queued input into one run of the same committing
//! executor the runtime benchmarks use, and answers each input once its run committed. Nothing here is shared
//! with the runtime, so the ratio of a runtime row to its floor row is the runtime's own overhead.

#![allow(dead_code)]

use std::collections::HashMap;

use meerkat_runtime::{CompletionOutcome, CoreExecutor, Input, InputId, RunId, RunRequest, SessionId};
use tokio::sync::{mpsc, oneshot};

/// Capacity of a floor session's channel (a sender waits while it is full).
const FLOOR_CHANNEL_CAPACITY: usize = 1024;

/// A message to a floor session.
enum FloorCommand {
    /// Accept an input and answer once its run committed.
    Accept { input: Input, reply: oneshot::Sender<CompletionOutcome> },
}

/// The caller's side of one floor session.
#[derive(Clone)]
pub struct FloorSession {
    sender: mpsc::Sender<FloorCommand>,
}

impl FloorSession {
    /// Spawns a floor session whose actor drives `executor`.
    pub fn spawn(session_id: SessionId, executor: Box<dyn CoreExecutor>) -> Self {
        let (sender, receiver) = mpsc::channel(FLOOR_CHANNEL_CAPACITY);
        tokio::spawn(run_floor_session(session_id, executor, receiver));
        Self { sender }
    }

    /// Sends an input; the returned receiver answers once the input's run committed.
    pub async fn accept(&self, input: Input) -> oneshot::Receiver<CompletionOutcome> {
        let (reply, answer) = oneshot::channel();
        self.sender.send(FloorCommand::Accept { input, reply }).await.expect("floor session alive");
        answer
    }

    /// One accept → completed round trip.
    pub async fn round_trip(&self, input: Input) -> CompletionOutcome {
        self.accept(input).await.await.expect("floor session answers")
    }
}

/// The actor: waits for a command, drains every queued one into the same run, runs it, answers.
async fn run_floor_session(
    session_id: SessionId,
    mut executor: Box<dyn CoreExecutor>,
    mut receiver: mpsc::Receiver<FloorCommand>,
) {
    let mut live: HashMap<InputId, oneshot::Sender<CompletionOutcome>> = HashMap::new();
    let mut batch: Vec<Input> = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut next = Some(first);
        while let Some(command) = next.take().or_else(|| receiver.try_recv().ok()) {
            match command {
                FloorCommand::Accept { input, reply } if live.contains_key(&input.id) => {
                    let _ = reply.send(CompletionOutcome::Terminated { reason: "duplicate id".to_owned() });
                }
                FloorCommand::Accept { input, reply } => {
                    live.insert(input.id.clone(), reply);
                    batch.push(input);
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let inputs = std::mem::take(&mut batch);
        let ids: Vec<InputId> = inputs.iter().map(|input| input.id.clone()).collect();
        let request = RunRequest { session_id: session_id.clone(), run_id: RunId::generate(), inputs };
        let outcome = match executor.apply(request).await {
            Ok(_) => CompletionOutcome::Completed,
            Err(_) => CompletionOutcome::Cancelled,
        };
        for id in ids {
            if let Some(reply) = live.remove(&id) {
                let _ = reply.send(outcome.clone());
            }
        }
    }
}
