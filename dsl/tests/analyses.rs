//! End-to-end tests of the analyses (W0001–W0005, E0302) through `check_source`: which specs are quiet, and the
//! code and exact primary span (`line:col-line:col`) of each report, with the help that names the fix.

use meerkat_dsl::{Code, Diagnostic, Source, check_source};

/// Every diagnostic of a spec as `CODE L:C-L:C`, sorted, with the diagnostics themselves.
fn check(text: &str) -> (Vec<String>, Vec<Diagnostic>) {
    let source = Source::new("test.machine", text);
    let diagnostics: Vec<Diagnostic> = match check_source("test.machine", text) {
        Ok(package) => package.warnings.into_vec(),
        Err(error) => error.diagnostics.into_vec(),
    };
    let described = diagnostics
        .iter()
        .map(|d| {
            let (l1, c1) = source.line_col(d.primary.span.start);
            let (l2, c2) = source.line_col(d.primary.span.end);
            format!("{} {l1}:{c1}-{l2}:{c2}", d.code)
        })
        .collect();
    (described, diagnostics)
}

fn codes(text: &str) -> Vec<Code> {
    check(text).1.iter().map(|d| d.code).collect()
}

#[test]
fn traffic_light_is_warning_free() {
    let text = include_str!("../../machines/traffic_light.machine");
    let result = check_source("traffic_light.machine", text);
    let rendered = match &result {
        Ok(package) => package.render_warnings(Default::default()),
        Err(error) => error.render(Default::default()),
    };
    assert!(result.is_ok_and(|package| package.warnings.is_empty()), "{rendered}");
}

#[test]
fn unreachable_phase_points_at_its_name() {
    let (found, diags) = check(
        "machine M {
    phases { initial A, B, Gone }
    input Go
    on Go from A -> B
}",
    );
    assert_eq!(found, vec!["W0001 2:28-2:32"]);
    assert!(diags[0].help.as_deref().is_some_and(|h| h.contains("no transition leads to `Gone`")));
}

#[test]
fn guards_do_not_limit_reachability() {
    let text = "machine M {
    phases { initial A, B }
    state { n: u64 = 0 }
    input Go
    input Back
    on Go from A -> B when n > 1000
    on Back from B -> A { n += 1 }
}";
    assert_eq!(codes(text), vec![]);
}

#[test]
fn dead_transition_on_a_false_guard_points_at_the_condition() {
    let (found, diags) = check(
        "machine M {
    phases { initial A }
    input Go
    on Go from A -> stay when !true
}",
    );
    assert_eq!(found, vec!["W0002 4:31-4:36"]);
    assert_eq!(diags[0].secondary.len(), 1, "the header is labelled too");
}

#[test]
fn fallback_behind_an_unguarded_transition_is_dead() {
    let (found, _) = check(
        "machine M {
    phases { initial A }
    input Go
    transition Always on Go from A -> stay
    transition Fallback on Go from A -> stay otherwise
}",
    );
    assert_eq!(found, vec!["W0002 5:5-5:45"]);
}

#[test]
fn unused_declarations_are_reported_at_their_declarations() {
    let (found, diags) = check(
        "machine M {
    newtype Id(String)
    phases { initial A }
    state { count: u64 = 0 }
    input Go
    signal Ping
    effect Unsent
    fn never() -> bool { true }
    guard idle = true;
    on Go from A -> stay { count += 1 }
}",
    );
    assert_eq!(
        found,
        vec![
            "W0003 2:5-2:23",
            "W0003 4:13-4:27",
            "W0003 6:5-6:16",
            "W0003 7:5-7:18",
            "W0003 8:5-8:32",
            "W0003 9:5-9:23",
        ]
    );
    assert!(diags.iter().any(|d| d.message == "signal `Ping` has no transition, so it is always refused"));
}

#[test]
fn reads_anywhere_count_and_writes_do_not() {
    let text = "machine M {
    phases { initial A }
    state { a: u64 = 0, b: u64 = 0, c: u64 = 0, d: u64 = 0 }
    input Go
    effect Seen { d: u64 = d }
    fn big() -> bool { a > 1 }
    guard ok = big()
    invariant small = b < 10
    on Go from A -> stay when ok { a = c; emit Seen }
}";
    assert_eq!(codes(text), vec![]);
    // A field that is only written is never read.
    let (found, _) = check(
        "machine M {
    phases { initial A }
    state { n: u64 = 0 }
    input Go
    on Go from A -> stay { n += 2 }
}",
    );
    assert_eq!(found, vec!["W0003 3:13-3:23"]);
}

#[test]
fn disjoint_guards_are_quiet() {
    let text = "machine M {
    enum Mode { On, Off }
    phases { initial A, B }
    state { ready: bool = false, n: u64 = 0, mode: Mode = On, owner: Option<String> = None }
    input Go
    guard armed = ready && n > 2
    transition Arm on Go from A -> B when armed
    transition Wait on Go from A -> stay when !armed, mode == On
    transition Idle on Go from A -> stay when !ready, mode == Off
    transition Claim on Go from B -> A when owner.is_none(), n < 5
    transition Keep on Go from B -> stay when owner != None
    transition Count on Go from B -> stay when owner == None, n >= 5
}";
    assert_eq!(codes(text), vec![]);
}

#[test]
fn unguarded_and_guarded_competitors_are_an_error() {
    let (found, diags) = check(
        "machine M {
    phases { initial A }
    state { ready: bool = false }
    input Go
    transition Plain on Go from A -> stay
    transition Ready on Go from A -> stay when ready
}",
    );
    assert_eq!(found, vec!["E0302 6:5-6:42"]);
    let d = &diags[0];
    assert_eq!(d.secondary.len(), 1);
    assert!(d.help.as_deref().is_some_and(|h| h.contains("mark it `otherwise`") && h.contains("`when !ready`")));
}

#[test]
fn unprovable_competitors_are_a_warning_naming_both() {
    let (found, diags) = check(
        "machine M {
    phases { initial A }
    state { ready: bool = false, n: u64 = 0 }
    input Go
    transition Ready on Go from A -> stay when ready
    transition Big on Go from A -> stay when n > 3
}",
    );
    assert_eq!(found, vec!["W0004 6:5-6:40"]);
    assert!(diags[0].message.contains("`Ready` and `Big`"));
    assert!(diags[0].help.as_deref().is_some_and(|h| h.contains("add `!ready` to `Big`")));
}

#[test]
fn competing_only_in_an_unreachable_phase_is_not_an_overlap() {
    let (found, _) = check(
        "machine M {
    phases { initial A, Z }
    input Go
    transition One on Go from Z -> A
    transition Two on Go from Z -> A
    on Other from A -> stay
    input Other
}",
    );
    // Z is unreachable (W0001) and both transitions are dead (W0002), but they never compete.
    assert_eq!(found, vec!["W0001 2:25-2:26", "W0002 4:5-4:37", "W0002 5:5-5:37"]);
}

#[test]
fn lone_otherwise_is_pointless() {
    let (found, _) = check(
        "machine M {
    phases { initial A }
    input Go
    transition Wait on Go from A -> stay otherwise
}",
    );
    assert_eq!(found, vec!["W0005 4:5-4:41"]);
}

#[test]
fn otherwise_with_a_competitor_is_fine() {
    let text = "machine M {
    phases { initial A }
    state { n: u64 = 0 }
    input Go
    transition Count on Go from A -> stay when n < 3 { n += 1 }
    transition Wait on Go from A -> stay otherwise
}";
    assert_eq!(codes(text), vec![]);
}

#[test]
fn computed_targets_feed_reachability_and_terminal_exits() {
    // `B` is reachable only through the computed target; `C` through no branch.
    let text = "machine M {
    phases { initial A, B, C, terminal Done }
    state { flag: bool = false }
    input Go
    input Finish
    on Go from A -> if flag { A } else { B }
    transition Finish on Finish from A, B -> Done
    transition Linger on Finish from Done -> if flag { Done } else { source }
}";
    // `Linger` does not leave `Done` (`source` is `Done` there), so there is no E0301; only `C` is reported, as unreachable.
    let (found, _) = check(text);
    assert_eq!(found, vec!["W0001 2:28-2:29"]);

    let leaving = "machine M {
    phases { initial A, terminal Done }
    state { flag: bool = false }
    input Go
    input Again
    on Go from A -> Done
    on Again from Done -> if flag { A } else { Done }
}";
    let (found, diags) = check(leaving);
    assert_eq!(found, vec!["E0301 7:19-7:23"]);
    assert!(diags[0].message.contains("can leave terminal phase `Done` for `A`"), "{}", diags[0].message);
}

#[test]
fn computed_targets_are_typed_and_pure_inputs_reject_them() {
    let not_a_phase = "machine M {
    phases { initial A, B }
    state { n: u64 = 0 }
    input Go
    on Go from A -> n + 1
}";
    assert_eq!(codes(not_a_phase), vec![Code::TypeMismatch]);

    let pure = "machine M {
    phases { initial A, B }
    state { flag: bool = false }
    pure input Peek
    on Peek from A, B -> if flag { A } else { B }
}";
    assert_eq!(codes(pure), vec![Code::PureInputChangesState]);
}
