//! Many tasks issue mutating commands against one session (more than 1,000 of them) and across sessions at once,
//! through the shell's methods and through bindings handles (staging filters, requesting deferred tools,
//! confirming the registration). Nothing deadlocks (every wait is bounded), no update is lost (each session's
//! visibility revisions, ledger and dedupe window account for every successful command), and each session's final
//! kernel state equals a serial replay of its committed journal through a fresh authority: a handle write is
//! journaled like any other step.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ImmediateExecutor, Journal, within};
use meerkat_runtime::meerkat_machine::DslJournalEntry;
use meerkat_runtime::meerkat_machine::dsl::{self, MeerkatMachineMutator};
use meerkat_runtime::{
    CompletionOutcome, Input, InputId, InputLifecycleState, MeerkatMachine, RuntimeOptions, SessionId,
};

/// A small deterministic generator, so a failing interleaving's operations can be reproduced.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

#[derive(Default)]
struct Tally {
    revisions: HashMap<SessionId, u64>,
    accepted: HashMap<SessionId, BTreeSet<InputId>>,
    commands: HashMap<SessionId, u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_lose_nothing_and_replay_serially() {
    // A window large enough that every consumed input's seed stays answerable.
    let options = RuntimeOptions { dedupe_window: 100_000, ..RuntimeOptions::DEFAULT };
    let machine = Arc::new(MeerkatMachine::ephemeral_with_options(options));
    let journal = Arc::new(Journal::default());
    machine
        .set_dsl_commit_observer(Arc::clone(&journal) as Arc<dyn meerkat_runtime::meerkat_machine::DslCommitObserver>);
    let sessions: Vec<SessionId> = (0..6).map(|n| SessionId::new(format!("s{n}"))).collect();
    for (n, session) in sessions.iter().enumerate() {
        if n % 2 == 0 {
            machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
        } else {
            machine.register_session(session.clone()).await.expect("register");
        }
    }
    // Bindings for every session, minted before the storm (preparing them is a journaled step too).
    let mut bindings = HashMap::new();
    for session in &sessions {
        bindings.insert(session.clone(), machine.prepare_bindings(session).await.expect("bindings"));
    }
    let bindings = Arc::new(bindings);
    let tally = Arc::new(Mutex::new(Tally::default()));

    let mut tasks = Vec::new();
    for task in 0..48u64 {
        let machine = Arc::clone(&machine);
        let sessions = sessions.clone();
        let tally = Arc::clone(&tally);
        let bindings = Arc::clone(&bindings);
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(task + 1);
            let mut completions = Vec::new();
            for step in 0..50u64 {
                // Half the traffic goes to session 0, so one session sees heavy contention.
                let session =
                    if rng.next(2) == 0 { sessions[0].clone() } else { sessions[rng.next(6) as usize].clone() };
                *tally.lock().unwrap().commands.entry(session.clone()).or_default() += 1;
                match rng.next(8) {
                    0 | 1 => {
                        let input = Input::new(format!("t{task}-{step}"));
                        let id = input.id.clone();
                        let (_, handle) = machine.accept_input_with_completion(&session, input).await.expect("accept");
                        tally.lock().unwrap().accepted.entry(session.clone()).or_default().insert(id);
                        completions.push((session, handle));
                    }
                    2 => {
                        let filter =
                            dsl::ToolFilter { mode: dsl::ToolFilterMode::Deny, names: [format!("t{task}")].into() };
                        machine.stage_persistent_filter(&session, filter).await.expect("stage");
                        *tally.lock().unwrap().revisions.entry(session).or_default() += 1;
                    }
                    3 => {
                        let intents = vec![format!("t{task}-{step}")];
                        machine.set_session_silent_intents(&session, intents).await.expect("intents");
                    }
                    // Handle writes, mixed into the same storm.
                    5 => {
                        let filter = dsl::ToolFilter {
                            mode: dsl::ToolFilterMode::AllowOnly,
                            names: [format!("h{task}")].into(),
                        };
                        let surface = bindings[&session].external_tool_surface();
                        surface.stage_visibility_filter(filter).await.expect("handle stage");
                        *tally.lock().unwrap().revisions.entry(session).or_default() += 1;
                    }
                    6 => {
                        let witness = dsl::ToolVisibilityWitness(format!("w{task}-{step}"));
                        let surface = bindings[&session].external_tool_surface();
                        let requested = BTreeMap::from([(format!("tool{task}"), witness)]);
                        surface.request_deferred_tools(requested).await.expect("handle request");
                        *tally.lock().unwrap().revisions.entry(session).or_default() += 1;
                    }
                    7 => {
                        bindings[&session].session_admission().confirm_registration().await.expect("confirm");
                    }
                    _ => {
                        machine.runtime_state(&session).await.expect("state");
                    }
                }
            }
            completions
        }));
    }
    let mut completions = Vec::new();
    for task in tasks {
        completions.extend(within(task).await.expect("task"));
    }
    for (session, handle) in completions {
        // Sessions without an executor queue their inputs; nothing drains them.
        let executor_session = sessions.iter().position(|s| s == &session).is_some_and(|n| n % 2 == 0);
        if executor_session {
            assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);
        }
    }

    let (revisions, accepted, commands) = {
        let tally = tally.lock().unwrap();
        (tally.revisions.clone(), tally.accepted.clone(), tally.commands.clone())
    };
    assert!(commands.get(&sessions[0]).copied().unwrap_or(0) >= 1_000, "session 0 saw {commands:?}");
    // A waiter resolves when its outcome is published; the step that forgets the terminal record follows it in
    // the same session step, so give the last ones a bounded moment to land before reading ledgers and journal.
    let deadline = Instant::now() + Duration::from_secs(10);
    for session in sessions.iter().step_by(2) {
        while !machine.session_dsl_state(session).await.expect("state").input_ledger.is_empty()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let journal = journal.entries.lock().unwrap().clone();
    for (n, session) in sessions.iter().enumerate() {
        let state = machine.session_dsl_state(session).await.expect("state");
        // No lost update: every staged filter minted its own revision; every accepted input is queued in the
        // ledger (no executor) or was consumed and forgotten, its seed in the dedupe window (executor).
        let revisions = revisions.get(session).copied().unwrap_or(0);
        assert_eq!(state.next_staged_visibility_revision, revisions + 1, "{session}");
        let accepted = accepted.get(session).cloned().unwrap_or_default();
        let ledger: BTreeSet<InputId> = state.input_ledger.keys().map(|id| InputId::new(id.0.clone())).collect();
        if n % 2 == 0 {
            assert!(ledger.is_empty(), "{session}: consumed inputs leave the ledger");
            for id in &accepted {
                let seed = machine.input_state(session, id).await.expect("state").expect("inside the window");
                assert_eq!(seed.phase, InputLifecycleState::Consumed, "{session} {id}");
            }
        } else {
            assert_eq!(ledger, accepted, "{session}");
        }
        // A serial replay of the committed journal reaches the same state.
        let mut replay = dsl::MeerkatMachineAuthority::new();
        for entry in journal.get(session).map(Vec::as_slice).unwrap_or_default() {
            let applied = match entry.clone() {
                DslJournalEntry::Input(input) => MeerkatMachineMutator::apply(&mut replay, input).map(|_| ()),
                DslJournalEntry::Signal(signal) => replay.apply_signal(signal).map(|_| ()),
            };
            applied.expect("the journal replays");
        }
        assert_eq!(replay.state(), &state, "{session}");
    }
}
