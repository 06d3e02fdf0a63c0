//! Specs written by a function of a size, for tests and benchmarks that need the same model at several sizes.
//!
//! [`two_phase`] writes Lamport's two-phase commit (the TLA+ `TwoPhase` spec) for any number of resource
//! managers; `specs/two_phase.machine` is its output for [`TWO_PHASE_CHECKED_IN`] resource managers (a test
//! keeps the two equal, so the checked-in file also gets a kernel and a differential test).

use std::fmt::Write as _;

/// The number of resource managers of the checked-in `specs/two_phase.machine`.
pub const TWO_PHASE_CHECKED_IN: u64 = 3;

/// Lamport's two-phase commit with `resource_managers` resource managers, numbered from 0, as a spec file.
///
/// The phase is the transaction manager's state. The messages in flight are the set of `Prepared`
/// announcements plus the manager's decision, which the phase records already (`Commit` is sent exactly when
/// the manager commits, `Abort` when it aborts), so the reachable states correspond one to one to those of
/// the TLA+ spec: 288 for 3 resource managers, 50 816 for 6. The depth bound covers the longest run (every
/// manager prepares, is heard, and learns the decision: `3n + 1` steps), so exploring within the default
/// budget for small `n` is exhaustive. With `resource_managers == 0` the manager can commit at once.
pub fn two_phase(resource_managers: u64) -> String {
    let n = resource_managers;
    let working: Vec<String> = (0..n).map(|rm| format!("{rm}: Working")).collect();
    let initial = if working.is_empty() { "[:]".to_string() } else { format!("[{}]", working.join(", ")) };
    let domain = if n == 0 { "[0]".to_string() } else { format!("0..={}", n - 1) };
    let mut spec = String::new();
    let _ = write!(
        spec,
        "\
/// Lamport's two-phase commit (the TLA+ `TwoPhase` spec) with {n} resource managers, numbered from 0.
///
/// Written by `meerkat_tests::specs::two_phase({n})`; do not edit by hand. The phase is the transaction
/// manager's state; the messages in flight are the `Prepared` announcements plus the manager's decision, which
/// the phase records (`Commit` is sent exactly when it commits, `Abort` when it aborts).
machine TwoPhase {{
    /// A resource manager's state.
    enum Rm {{ Working, Prepared, Committed, Aborted }}

    phases {{ initial Init, Committed, Aborted }}

    state {{
        /// Each resource manager's state.
        rm_state: Map<u64, Rm> = {initial},
        /// The resource managers the transaction manager has heard `Prepared` from.
        tm_prepared: Set<u64> = [],
        /// The resource managers that sent `Prepared`.
        prepared_msgs: Set<u64> = [],
    }}

    /// The transaction manager receives a `Prepared` message.
    input TmRcvPrepared {{ rm: u64 }}
    /// The transaction manager commits once every resource manager is prepared.
    input TmCommit
    /// The transaction manager aborts.
    input TmAbort
    /// A working resource manager prepares and says so.
    input RmPrepare {{ rm: u64 }}
    /// A working resource manager aborts on its own.
    input RmChooseToAbort {{ rm: u64 }}
    /// A resource manager receives the decision to commit.
    input RmRcvCommitMsg {{ rm: u64 }}
    /// A resource manager receives the decision to abort.
    input RmRcvAbortMsg {{ rm: u64 }}

    /// Whether resource manager `rm` is still working.
    fn working(rm: u64) -> bool {{ rm_state.get(rm) == Some(Working) }}

    on TmRcvPrepared from Init -> stay when prepared_msgs.contains(rm) {{ tm_prepared.insert(rm) }}
    on TmCommit from Init -> Committed when tm_prepared.len() == {n}
    on TmAbort from Init -> Aborted
    on RmPrepare from Init, Committed, Aborted -> stay when working(rm) {{
        rm_state.insert(rm, Prepared);
        prepared_msgs.insert(rm)
    }}
    on RmChooseToAbort from Init, Committed, Aborted -> stay when working(rm) {{ rm_state.insert(rm, Aborted) }}
    on RmRcvCommitMsg from Committed -> stay when rm_state.contains_key(rm) {{ rm_state.insert(rm, Committed) }}
    on RmRcvAbortMsg from Aborted -> stay when rm_state.contains_key(rm) {{ rm_state.insert(rm, Aborted) }}

    /// No resource manager commits while another aborts (TLA+ `TCConsistent`).
    invariant consistent = rm_state.all(|r, s| s != Committed) || rm_state.all(|r, s| s != Aborted)

    model {{
        depth = {depth}
        domain u64 = {domain}
    }}
}}
",
        depth = 3 * n + 1,
    );
    spec
}
