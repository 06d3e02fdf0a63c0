//! Many durable sessions on one `MeerkatMachine` over a SQLite file: each gets a toy executor (it upper-cases its
//! inputs), accepts inputs with completion and waits for them; one session is retired, another destroyed, and one
//! is left with queued work and no executor. Then the machine stops (its sessions unregister, the store closes),
//! a new machine opens the same file, recovers every stored session through the kernel and prints what it found,
//! and the parked session's queued work runs. Run with `cargo run -p meerkat-runtime --example sessions` (the
//! file lives in a temporary directory, removed at the end).

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use meerkat_runtime::{
    BoxFuture, CompletionOutcome, CoreExecutor, CoreExecutorError, Input, MeerkatMachine, RunOutput, RunRequest,
    RuntimeDriverError, RuntimeStore, SessionId, SqliteRuntimeStore,
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
const PARKED_INPUTS: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("sessions.sqlite");
    let parked = SessionId::new("parked");
    {
        let store: Arc<dyn RuntimeStore> = Arc::new(SqliteRuntimeStore::open(&path)?);
        let machine = Arc::new(MeerkatMachine::persistent(store));
        run_sessions(&machine, &parked).await?;
        // Stop the machine: every session with an executor unregisters (its loop exits), then the machine and
        // its store are dropped. The parked session's queue is only in the file now.
        for session in (2..SESSIONS).map(session_name) {
            machine.unregister_session(&session).await?;
        }
        machine.unregister_session(&session_name(0)).await?;
    }
    println!("stopped; file        {} bytes (+ WAL)", std::fs::metadata(&path)?.len());

    let store = Arc::new(SqliteRuntimeStore::open(&path)?);
    let machine = Arc::new(MeerkatMachine::persistent(Arc::clone(&store) as Arc<dyn RuntimeStore>));
    let recovered = machine.recover_stored_sessions().await?;
    let counts = store.row_counts().await?;
    println!("restarted; recovered {} sessions from {} input rows", recovered.len(), counts.inputs);
    let mut states: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (session, outcome) in &recovered {
        let report = outcome.as_ref().map_err(|error| format!("{session} did not recover: {error}"))?;
        *states.entry(report.runtime_state.to_string()).or_default() += 1;
        if report.inputs_pending > 0 {
            println!(
                "  {:<18} {}, {} inputs pending",
                session.to_string(),
                report.runtime_state,
                report.inputs_pending
            );
        }
    }
    let by_state: Vec<String> = states.iter().map(|(state, count)| format!("{count} {state}")).collect();
    println!("  by state           {}", by_state.join(", "));
    let applied = Arc::new(AtomicUsize::new(0));
    machine
        .ensure_session_with_executor(parked.clone(), Box::new(UppercaseExecutor { applied: Arc::clone(&applied) }))
        .await?;
    let (_, last) = machine.accept_input_with_completion(&parked, Input::new("after the restart")).await?;
    let outcome = last.wait().await;
    println!(
        "  {:<18} drained {} inputs after the restart ({outcome:?}); still active: {}",
        parked.to_string(),
        applied.load(Ordering::Relaxed),
        machine.list_active_inputs(&parked).await?.len()
    );
    Ok(())
}

fn session_name(n: usize) -> SessionId {
    SessionId::new(format!("session-{n:02}"))
}

/// The first life of the machine: every session runs its inputs; one retires, one is destroyed, one is parked
/// with queued work and no executor.
async fn run_sessions(machine: &Arc<MeerkatMachine>, parked: &SessionId) -> Result<(), RuntimeDriverError> {
    let applied = Arc::new(AtomicUsize::new(0));
    let sessions: Vec<SessionId> = (0..SESSIONS).map(session_name).collect();
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
        let machine = Arc::clone(machine);
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
    machine.register_session(parked.clone()).await.map_err(|error| RuntimeDriverError::Internal(error.to_string()))?;
    for n in 0..PARKED_INPUTS {
        machine.accept_input_without_wake(parked, Input::new(format!("parked {n}"))).await?;
    }
    println!("{:<19} {PARKED_INPUTS} inputs queued, no executor", parked.to_string());
    Ok(())
}
