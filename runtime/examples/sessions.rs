//! Many sessions on one `MeerkatMachine`: each gets a toy executor (it upper-cases its inputs), accepts inputs
//! with completion and waits for them; then one session is retired and another destroyed, and a short summary is
//! printed. Run with `cargo run -p meerkat-runtime --example sessions`.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use meerkat_runtime::{
    BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, MeerkatMachine, RunOutput, RunRequest,
    RuntimeDriverError, SessionId,
};

/// Upper-cases every input of a run and counts what it applied.
struct UppercaseExecutor {
    applied: Arc<AtomicUsize>,
}

impl CoreExecutor for UppercaseExecutor {
    fn apply(&mut self, request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async move {
            for input in &request.inputs {
                let _shout = input.payload.to_uppercase();
                self.applied.fetch_add(1, Ordering::Relaxed);
            }
            tokio::task::yield_now().await;
            Ok(RunOutput::default())
        })
    }
}

const SESSIONS: usize = 64;
const INPUTS_PER_SESSION: usize = 16;

#[tokio::main]
async fn main() -> Result<(), RuntimeDriverError> {
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let applied = Arc::new(AtomicUsize::new(0));
    let sessions: Vec<SessionId> = (0..SESSIONS).map(|n| SessionId::new(format!("session-{n:02}"))).collect();
    for session in &sessions {
        machine
            .ensure_session_with_executor(
                session.clone(),
                Box::new(UppercaseExecutor { applied: Arc::clone(&applied) }),
            )
            .await?;
    }

    let mut tasks = Vec::new();
    for session in sessions.clone() {
        let machine = Arc::clone(&machine);
        tasks.push(tokio::spawn(async move {
            let mut handles = Vec::new();
            for n in 0..INPUTS_PER_SESSION {
                let (_, handle) = machine
                    .accept_input_with_completion(&session, Input::new(format!("hello {n} from {session}")))
                    .await?;
                handles.push(handle);
            }
            let mut completed = 0usize;
            for handle in handles {
                if handle.wait().await == CompletionOutcome::Completed {
                    completed += 1;
                }
            }
            Ok::<usize, RuntimeDriverError>(completed)
        }));
    }
    let mut completed = 0usize;
    for task in tasks {
        completed += task.await.map_err(|error| RuntimeDriverError::Internal(error.to_string()))??;
    }

    let retired = &sessions[0];
    let destroyed = &sessions[1];
    // An idle retire with a live executor keeps its (empty) queue for draining; the session takes no new input.
    let retire = machine.retire(retired).await?;
    let after_retire = machine.accept_input_with_completion(retired, Input::new("too late")).await;
    // Destroy abandons what is pending; the session then refuses everything with `Destroyed`.
    let pending = machine.accept_input_without_wake(destroyed, Input::new("never runs")).await?;
    let destroy = machine.destroy(destroyed).await?;
    let after_destroy = machine.accept_input_with_completion(destroyed, Input::new("nope")).await;

    println!("sessions            {SESSIONS}");
    println!("inputs completed    {completed} of {}", SESSIONS * INPUTS_PER_SESSION);
    println!("executor applied    {}", applied.load(Ordering::Relaxed));
    println!(
        "retired {retired}  state {}, pending drain {}, new input refused: {}",
        machine.runtime_state(retired).await?,
        retire.inputs_pending_drain,
        after_retire.err().map_or("no".to_owned(), |error| error.to_string())
    );
    println!(
        "destroyed {destroyed} state {}, inputs abandoned {} (one was {}), new input refused: {}",
        machine.runtime_state(destroyed).await.map_or_else(|error| error.to_string(), |state| state.to_string()),
        destroy.inputs_abandoned,
        pending.input_id(),
        after_destroy.err().map_or("no".to_owned(), |error| error.to_string())
    );
    for session in sessions.iter().skip(2) {
        machine.unregister_session(session).await?;
    }
    println!("unregistered        {}", SESSIONS - 2);
    Ok(())
}
