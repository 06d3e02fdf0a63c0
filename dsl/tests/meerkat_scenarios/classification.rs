//! Classification tables: every pure classification over every lifecycle value, and the stored-input
//! seed authorization.

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// Classification tables

/// The seeds' lifecycle facts per observed state: (is_terminal, can_accept_input, can_process_queue,
/// prepare admission, ingress admission).
fn lifecycle_table(phase: &str) -> (bool, bool, bool, &'static str, &'static str) {
    match phase {
        "Initializing" => (false, false, false, "NotReady", "NotReady"),
        "Idle" | "Attached" => (false, true, true, "Ready", "Open"),
        "Running" => (false, true, false, "NotReady", "Open"),
        "Retired" => (false, false, true, "Ready", "NotReady"),
        "Stopped" => (false, false, false, "NotReady", "NotReady"),
        "Destroyed" => (true, false, false, "Destroyed", "Destroyed"),
        other => panic!("unknown phase {other}"),
    }
}

#[test]
fn lifecycle_state_classification_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for observed in PHASES {
            let before = session.st.clone();
            let fired = session.fire("ClassifyRuntimeLifecycleState", &[("state", k.ph(observed))]);
            assert_eq!(session.st, before);
            assert_eq!(fired.effects.len(), 1);
            let field = |name: &str| k.effect_field(&fired, "RuntimeLifecycleStateClassified", name);
            let (terminal, accepts, processes, prepare, ingress) = lifecycle_table(observed);
            assert_eq!(field("state"), k.ph(observed));
            let at = session.phase();
            assert_eq!(
                field("terminality"),
                k.en("RuntimeLifecycleTerminality", if terminal { "Terminal" } else { "NonTerminal" }),
                "{observed} in {at}"
            );
            assert_eq!(
                field("input_admission"),
                k.en("RuntimeInputAdmission", if accepts { "AcceptsInput" } else { "RejectsInput" }),
                "{observed}"
            );
            assert_eq!(
                field("queue_admission"),
                k.en("RuntimeQueueAdmission", if processes { "ProcessesQueue" } else { "BlocksQueue" }),
                "{observed}"
            );
            assert_eq!(field("prepare_admission"), k.en("RuntimePrepareAdmission", prepare), "{observed}");
            assert_eq!(field("ingress_admission"), k.en("RuntimeIngressAdmission", ingress), "{observed}");
        }
    }
}

#[test]
fn admission_facts_agree_with_the_transitions() {
    // can_accept_input is exactly where AcceptInput fires; can_prepare_run exactly where BeginRun fires.
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        let phase = session.phase();
        let (_, accepts, _, prepare, _) = lifecycle_table(phase);
        let accepted = session.clone().try_apply("AcceptInput", &[("input_id", session.input_id("new"))]).is_ok();
        assert_eq!(accepted, accepts, "AcceptInput in {phase}");
        let begun = session.try_apply("BeginRun", &[("run_id", session.run("new"))]).is_ok();
        assert_eq!(begun, prepare == "Ready", "BeginRun in {phase}");
    }
}

#[test]
fn durability_classification_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for observed in PHASES {
            let fired = session.fire("ClassifyRuntimeLifecycleDurability", &[("state", k.ph(observed))]);
            let durable = if observed == "Attached" { "Idle" } else { observed };
            assert_eq!(k.effect_field(&fired, "RuntimeLifecycleDurabilityClassified", "state"), k.ph(observed));
            assert_eq!(
                k.effect_field(&fired, "RuntimeLifecycleDurabilityClassified", "durable_state"),
                k.ph(durable),
                "{observed}"
            );
        }
    }
}

#[test]
fn runtime_loop_queue_admission_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for observed in PHASES {
            for bound in [false, true] {
                let fired = session.fire(
                    "ClassifyRuntimeLoopQueueAdmission",
                    &[("state", k.ph(observed)), ("current_run_bound", b(bound))],
                );
                let field = |name: &str| k.effect_field(&fired, "RuntimeLoopQueueAdmissionClassified", name);
                let binding = match (observed, bound) {
                    ("Idle" | "Attached" | "Retired" | "Running", true) => "UsePrebound",
                    ("Idle" | "Attached" | "Retired", false) => "AllocateNew",
                    _ => "Blocked",
                };
                assert_eq!(field("state"), k.ph(observed));
                assert_eq!(field("current_run_bound"), b(bound));
                assert_eq!(field("run_binding"), k.en("RuntimeLoopRunBinding", binding), "{observed} bound={bound}");
                let processes = binding != "Blocked";
                assert_eq!(
                    field("queue_admission"),
                    k.en("RuntimeQueueAdmission", if processes { "ProcessesQueue" } else { "BlocksQueue" }),
                    "{observed} bound={bound}"
                );
            }
        }
    }
}

/// The seeds' arbitration, restated: terminal precedence decides `publish_control`, the visible phase
/// rewrites Running + pre_run(Retired) to Retired.
fn expected_visible(
    dsl: &str,
    dsl_pre: Option<&str>,
    control: &str,
    control_pre: Option<&str>,
    persistent: bool,
) -> (bool, String, String) {
    let precedence = |p: &str| match p {
        "Destroyed" => 3,
        "Stopped" => 2,
        "Retired" => 1,
        _ => 0,
    };
    let publish = precedence(control) > precedence(dsl) && (persistent || control == "Destroyed");
    let (raw, pre) = if publish { (control, control_pre) } else { (dsl, dsl_pre) };
    let visible = if raw == "Running" && pre == Some("Retired") { "Retired" } else { raw };
    (publish, raw.to_string(), visible.to_string())
}

#[test]
fn visible_runtime_phase_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let pre_runs: Vec<Option<&str>> = std::iter::once(None).chain(PHASES.iter().copied().map(Some)).collect();
    let option_phase = |p: Option<&str>| p.map_or_else(none, |p| some(k.ph(p)));
    let sessions = one_state_per_phase(&k);
    // The full product in one phase, a slice of it in every phase.
    for (index, mut session) in sessions.into_iter().enumerate() {
        for dsl in PHASES {
            for &dsl_pre in &pre_runs {
                for control in PHASES {
                    for &control_pre in &pre_runs {
                        if index != 1 && control_pre.is_some() && dsl_pre.is_some() {
                            continue;
                        }
                        for persistent in [false, true] {
                            let fired = session.fire(
                                "ResolveVisibleRuntimePhase",
                                &[
                                    ("dsl_phase", k.ph(dsl)),
                                    ("dsl_pre_run_phase", option_phase(dsl_pre)),
                                    ("control_phase", k.ph(control)),
                                    ("control_pre_run_phase", option_phase(control_pre)),
                                    ("has_runtime_persistence", b(persistent)),
                                ],
                            );
                            let (publish, raw, visible) =
                                expected_visible(dsl, dsl_pre, control, control_pre, persistent);
                            let field = |name: &str| k.effect_field(&fired, "VisibleRuntimePhaseResolved", name);
                            let case = format!(
                                "dsl={dsl}/{dsl_pre:?} control={control}/{control_pre:?} persistent={persistent}"
                            );
                            assert_eq!(field("publish_control"), b(publish), "{case}");
                            assert_eq!(field("selected_raw_phase"), k.ph(&raw), "{case}");
                            assert_eq!(field("visible_phase"), k.ph(&visible), "{case}");
                        }
                    }
                }
            }
        }
    }

    // Spot checks of the decisions, in words.
    let mut session = registered(&k);
    let mut resolve = |dsl: &str, dsl_pre: Option<&str>, control: &str, persistent: bool| {
        let fired = session.fire(
            "ResolveVisibleRuntimePhase",
            &[
                ("dsl_phase", k.ph(dsl)),
                ("dsl_pre_run_phase", option_phase(dsl_pre)),
                ("control_phase", k.ph(control)),
                ("control_pre_run_phase", none()),
                ("has_runtime_persistence", b(persistent)),
            ],
        );
        (
            k.effect_field(&fired, "VisibleRuntimePhaseResolved", "publish_control"),
            k.effect_field(&fired, "VisibleRuntimePhaseResolved", "visible_phase"),
        )
    };
    // A run draining a retired session shows as Retired.
    assert_eq!(resolve("Running", Some("Retired"), "Running", false), (b(false), k.ph("Retired")));
    assert_eq!(resolve("Running", Some("Idle"), "Running", false), (b(false), k.ph("Running")));
    // A durable terminal fact wins; an ephemeral projection only wins when destroyed.
    assert_eq!(resolve("Idle", None, "Stopped", true), (b(true), k.ph("Stopped")));
    assert_eq!(resolve("Idle", None, "Stopped", false), (b(false), k.ph("Idle")));
    assert_eq!(resolve("Running", None, "Destroyed", false), (b(true), k.ph("Destroyed")));
    // The kernel's own terminal state is never overridden by a less terminal projection.
    assert_eq!(resolve("Destroyed", None, "Stopped", true), (b(false), k.ph("Destroyed")));
}

const INPUT_PHASES: [&str; 9] = [
    "Accepted",
    "Queued",
    "Staged",
    "Applied",
    "AppliedPendingConsumption",
    "Consumed",
    "Superseded",
    "Coalesced",
    "Abandoned",
];
const KINDS: [Option<&str>; 5] = [None, Some("Consumed"), Some("Superseded"), Some("Coalesced"), Some("Abandoned")];
const REASONS: [Option<&str>; 7] = [
    None,
    Some("Retired"),
    Some("Reset"),
    Some("Stopped"),
    Some("Destroyed"),
    Some("Cancelled"),
    Some("MaxAttemptsExhausted"),
];

fn is_terminal_input_phase(phase: &str) -> bool {
    matches!(phase, "Consumed" | "Superseded" | "Coalesced" | "Abandoned")
}

/// Terminal facts consistent with the phase.
fn consistent(phase: &str, kind: Option<&str>, reason: Option<&str>) -> bool {
    let expected_kind = if is_terminal_input_phase(phase) { Some(phase) } else { None };
    kind == expected_kind && reason.is_some() == (phase == "Abandoned")
}

#[test]
fn input_public_lifecycle_table() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    for mut session in one_state_per_phase(&k) {
        for phase in INPUT_PHASES {
            let fired = session
                .fire("ResolveInputPublicLifecycle", &[("input_id", s("in-7")), ("phase", session.input_phase(phase))]);
            let public = if phase == "AppliedPendingConsumption" { "Applied" } else { phase };
            assert_eq!(k.effect_field(&fired, "InputPublicLifecycleResolved", "input_id"), s("in-7"));
            assert_eq!(
                k.effect_field(&fired, "InputPublicLifecycleResolved", "phase"),
                k.en("InputPublicLifecycleState", public),
                "{phase}"
            );
        }
    }
}

#[test]
fn input_terminal_outcome_and_terminality_tables() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let kind_value = |kind: Option<&str>| kind.map_or_else(none, |kind| some(k.en("InputTerminalKind", kind)));
    let reason_value =
        |reason: Option<&str>| reason.map_or_else(none, |reason| some(k.en("InputAbandonReason", reason)));
    for mut session in one_state_per_phase(&k) {
        for phase in INPUT_PHASES {
            for kind in KINDS {
                for reason in REASONS {
                    let fields = [
                        ("input_id", s("in-7")),
                        ("phase", session.input_phase(phase)),
                        ("terminal_kind", kind_value(kind)),
                        ("abandon_reason", reason_value(reason)),
                    ];
                    let case = format!("{phase} {kind:?} {reason:?} in {}", session.phase());

                    // Public terminal outcome: refused when the facts disagree.
                    if consistent(phase, kind, reason) {
                        let fired = session.fire("ResolveInputPublicTerminalOutcome", &fields);
                        let expected = match phase {
                            "Consumed" => Some("Completed"),
                            "Superseded" => Some("Superseded"),
                            "Coalesced" => Some("Coalesced"),
                            "Abandoned" if reason == Some("Cancelled") => Some("Cancelled"),
                            "Abandoned" => Some("Abandoned"),
                            _ => None,
                        };
                        let expected = expected.map_or_else(none, |o| some(k.en("InputPublicTerminalOutcome", o)));
                        assert_eq!(k.effect_field(&fired, "InputPublicTerminalOutcomeResolved", "input_id"), s("in-7"));
                        assert_eq!(
                            k.effect_field(&fired, "InputPublicTerminalOutcomeResolved", "terminal_outcome"),
                            expected,
                            "{case}"
                        );
                    } else {
                        let labels = session.refuse_guarded("ResolveInputPublicTerminalOutcome", &fields);
                        assert_eq!(labels.len(), 1, "{case}");
                    }

                    // Behavioral terminality always answers, with exactly one effect.
                    let fired = session.fire("ClassifyInputTerminality", &fields);
                    assert_eq!(k.effect_names(&fired), ["InputBehavioralTerminalityResolved"], "{case}");
                    assert_eq!(k.effect_field(&fired, "InputBehavioralTerminalityResolved", "input_id"), s("in-7"));
                    let terminal = is_terminal_input_phase(phase) || kind.is_some();
                    assert_eq!(
                        k.effect_field(&fired, "InputBehavioralTerminalityResolved", "terminal"),
                        b(terminal),
                        "{case}"
                    );
                }
            }
        }
    }
}

#[test]
fn stored_input_seed_authorization() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let kind = |kind: &str| some(k.en("InputTerminalKind", kind));
    let reason = |reason: &str| some(k.en("InputAbandonReason", reason));
    let seed = |session: &Session, phase: &str| -> Vec<(&'static str, Value)> {
        vec![
            ("input_id", s("in-7")),
            ("phase", session.input_phase(phase)),
            ("terminal_kind", none()),
            ("superseded_by", none()),
            ("aggregate_id", none()),
            ("abandon_reason", none()),
            ("abandon_attempt_count", u(0)),
            ("attempt_count", u(0)),
            ("run_id", none()),
            ("boundary_sequence", none()),
            ("admission_sequence", some(u(4))),
            ("recovery_lane", some(k.en("InputLane", "Ordinary"))),
        ]
    };
    let with = |mut fields: Vec<(&'static str, Value)>, changes: Vec<(&'static str, Value)>| {
        for (name, value) in changes {
            fields.iter_mut().find(|(n, _)| *n == name).unwrap().1 = value;
        }
        fields
    };
    for mut session in one_state_per_phase(&k) {
        let accepted: Vec<Vec<(&str, Value)>> = vec![
            seed(&session, "Queued"),
            with(
                seed(&session, "Staged"),
                vec![("attempt_count", u(1)), ("run_id", some(s("r1"))), ("boundary_sequence", some(u(2)))],
            ),
            with(seed(&session, "Consumed"), vec![("terminal_kind", kind("Consumed")), ("attempt_count", u(1))]),
            with(
                seed(&session, "Superseded"),
                vec![("terminal_kind", kind("Superseded")), ("superseded_by", some(s("in-8")))],
            ),
            with(
                seed(&session, "Coalesced"),
                vec![("terminal_kind", kind("Coalesced")), ("aggregate_id", some(s("agg")))],
            ),
            with(
                seed(&session, "Abandoned"),
                vec![
                    ("terminal_kind", kind("Abandoned")),
                    ("abandon_reason", reason("Retired")),
                    ("attempt_count", u(2)),
                    ("abandon_attempt_count", u(2)),
                ],
            ),
            with(
                seed(&session, "Abandoned"),
                vec![
                    ("terminal_kind", kind("Abandoned")),
                    ("abandon_reason", reason("MaxAttemptsExhausted")),
                    ("attempt_count", u(3)),
                    ("abandon_attempt_count", u(5)),
                ],
            ),
        ];
        for fields in &accepted {
            let fired = session.fire("AuthorizeStoredInputStateSeed", fields);
            assert_eq!(k.effect_field(&fired, "StoredInputStateSeedAuthorized", "input_id"), s("in-7"));
        }
        let refused: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (
                with(seed(&session, "Consumed"), vec![]),
                "terminal_parts_consistent(phase, terminal_kind, abandon_reason)",
            ),
            (
                with(seed(&session, "Queued"), vec![("terminal_kind", kind("Consumed"))]),
                "terminal_parts_consistent(phase, terminal_kind, abandon_reason)",
            ),
            (
                with(seed(&session, "Abandoned"), vec![("terminal_kind", kind("Abandoned"))]),
                "terminal_parts_consistent(phase, terminal_kind, abandon_reason)",
            ),
            (
                with(
                    seed(&session, "Consumed"),
                    vec![("terminal_kind", kind("Consumed")), ("superseded_by", some(s("in-8")))],
                ),
                "superseded_by.is_some() == (terminal_kind == Some(InputTerminalKind::Superseded))",
            ),
            (
                with(seed(&session, "Superseded"), vec![("terminal_kind", kind("Superseded"))]),
                "superseded_by.is_some() == (terminal_kind == Some(InputTerminalKind::Superseded))",
            ),
            (
                with(seed(&session, "Coalesced"), vec![("terminal_kind", kind("Coalesced"))]),
                "aggregate_id.is_some() == (terminal_kind == Some(InputTerminalKind::Coalesced))",
            ),
            (
                with(seed(&session, "Queued"), vec![("abandon_attempt_count", u(1))]),
                "abandon_attempts_consistent(abandon_reason, abandon_attempt_count, attempt_count)",
            ),
            (
                with(
                    seed(&session, "Abandoned"),
                    vec![
                        ("terminal_kind", kind("Abandoned")),
                        ("abandon_reason", reason("Stopped")),
                        ("attempt_count", u(2)),
                        ("abandon_attempt_count", u(1)),
                    ],
                ),
                "abandon_attempts_consistent(abandon_reason, abandon_attempt_count, attempt_count)",
            ),
            (
                with(
                    seed(&session, "Abandoned"),
                    vec![("terminal_kind", kind("Abandoned")), ("abandon_reason", reason("MaxAttemptsExhausted"))],
                ),
                "abandon_attempts_consistent(abandon_reason, abandon_attempt_count, attempt_count)",
            ),
            (with(seed(&session, "Queued"), vec![("attempt_count", u(4))]), "attempt_count <= max_stage_attempts()"),
            (
                with(seed(&session, "Queued"), vec![("boundary_sequence", some(u(1)))]),
                "boundary_sequence.is_none() || run_id.is_some()",
            ),
        ];
        for (fields, label) in &refused {
            let labels = session.refuse_guarded("AuthorizeStoredInputStateSeed", fields);
            assert_eq!(labels, [("AuthorizeStoredInputStateSeed".to_string(), label.to_string())]);
        }
    }
}
