//! `cargo xtask verify` as a user runs it, on spec files written to a temp folder: the words it prints and the
//! exit status say exactly what was checked. Exhaustive and clean is "verified" (0); cut by a bound is "bounded"
//! with the bound and the amount (0, never "verified"); a problem is an error with a shortest trace (1).

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly when the binary cannot run")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn xtask(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the xtask binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!text.contains("panicked"), "xtask panicked:\n{text}");
    (output.status.code().unwrap_or(-1), text)
}

/// A folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("xtask-verify-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    /// Writes a spec file and returns its path as an argument.
    fn spec(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("temp spec");
        path.to_str().expect("a UTF-8 temp path").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn assert_has(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "missing {word:?} in:\n{text}");
    }
}

fn assert_lacks(text: &str, words: &[&str]) {
    for word in words {
        assert!(!text.contains(word), "unexpected {word:?} in:\n{text}");
    }
}

/// Words a run that was cut or found a problem must never print.
const COMPLETE: &[&str] = &["verified", "exhaustive", "every reachable state"];

/// Divides by zero only at a payload value past the first 16 of its declared domain.
const DIVIDER: &str = "machine Divider {
    phases { initial Ready }
    state { last: u64 = 0 }
    input Set { v: u64 }
    on Set from Ready -> stay when v <= 30 { last = 600 / (30 - v) }
    model { domain u64 = 0..=40 }
}
";

#[test]
fn item_1_a_declared_domain_is_used_whole_and_one_over_the_limit_is_an_error() {
    let dir = TempDir::new("domain");
    let spec = dir.spec("divider.machine", DIVIDER);

    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 1, "{text}");
    assert_has(
        &text,
        &[
            "41 in each state",
            "error: arithmetic error: division by zero in the body of transition `Set`",
            "1. Set { v: 30 }   <- rejected",
            "error: verification found 1 problem in 1 machine",
        ],
    );
    assert_lacks(&text, &["verified", "bounded"]);

    let (code, text) = xtask(&["verify", &spec, "--max-values", "16"]);
    assert_eq!(code, 1, "{text}");
    assert_has(
        &text,
        &[
            "error: `domain u64` has 41 values, more than --max-values 16",
            "help: declared domains are used whole, never cut: pass --max-values 41",
            "1 machine that could not be explored",
        ],
    );
    assert_lacks(&text, COMPLETE);
}

#[test]
fn item_2_capped_payload_combinations_make_the_run_bounded() {
    let dir = TempDir::new("payloads");
    let spec = dir.spec(
        "setter.machine",
        "machine Setter {
            phases { initial Ready }
            state { last: u64 = 0 }
            input Set { v: u64 }
            on Set from Ready -> stay { last = v }
            model { depth = 2 domain Set.v = 0..=40 }
        }",
    );

    let (code, text) = xtask(&["verify", &spec, "--max-messages", "16"]);
    assert_eq!(code, 0, "{text}");
    assert_has(
        &text,
        &[
            "bounded: the search was cut by",
            "--max-messages 16: `Set` has 41 payload combinations, 16 tried",
            "ok no ambiguous transitions or arithmetic errors in the states explored",
            "bounded: no ambiguous transitions or arithmetic errors in the 16 states explored of 1 machine, but the \
             search was cut for 1 machine (Setter); raise --max-messages to search further",
        ],
    );
    assert_lacks(&text, COMPLETE);

    // With the default limits every value is tried, and the run is exhaustive.
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["41 states found", "exhaustive: every state reachable", "verified 1 machine: exhaustive"]);
    assert_lacks(&text, &["bounded"]);
}

#[test]
fn item_3_a_budget_stopped_search_is_bounded_not_verified() {
    let dir = TempDir::new("budget");
    // The budget stops the search before the manager can commit, so the spec marks that gap (else the coverage
    // gate fails the run; see `coverage_gaps_fail_the_run_unless_marked`).
    let text = meerkat_tests::specs::two_phase(6)
        .replace("    model {", "    model {\n        unfired = [TmCommit, RmRcvCommitMsg]");
    let spec = dir.spec("two_phase.machine", &text);

    // The default bounds: the budget of 250 000 applications runs out after 13 013 of the 50 816 states.
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 0, "{text}");
    assert_has(
        &text,
        &[
            "13013 states found",
            "250000 messages applied",
            "bounded: the search was cut by",
            "--max-applications 250000: used up with 5201 states not fully explored",
            "in the states explored",
            "but the search was cut for 1 machine (TwoPhase); raise --max-applications to search further",
        ],
    );
    assert_lacks(&text, COMPLETE);

    // A model small enough for the default bounds is explored whole, and only then is it "verified".
    let die_hard = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/specs/die_hard.machine");
    let (code, text) = xtask(&["verify", die_hard.to_str().expect("a UTF-8 path")]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["16 states found", "verified 1 machine: exhaustive, 16 states explored"]);
    assert_lacks(&text, &["bounded"]);
}

#[test]
fn the_depth_and_state_limits_say_what_they_cut() {
    let dir = TempDir::new("depth");
    let spec = dir.spec(
        "up.machine",
        "machine Up {
            phases { initial Counting }
            state { n: u64 = 0 }
            input Add { by: u64 }
            on Add from Counting -> stay when by > 0 { n += by }
            model { depth = 4 domain u64 = [1, 2] }
        }",
    );
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["--depth 4 (the model block's): 2 new states one input deeper not explored", "raise --depth"]);
    assert_lacks(&text, COMPLETE);

    let (code, text) = xtask(&["verify", &spec, "--max-states", "3"]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["--max-states 3: 2 new states found but not added", "raise --max-states to search further"]);
    assert_lacks(&text, COMPLETE);
}

#[test]
fn item_4_an_invariant_that_fails_to_evaluate_is_a_finding() {
    let dir = TempDir::new("invariant");
    let spec = dir.spec(
        "ratio.machine",
        "machine Ratio {
            phases { initial Open }
            state { total: u64 = 6, parts: u64 = 1 }
            input Split { into: u64 }
            invariant whole = total / parts >= 1
            on Split from Open -> stay { parts = into }
            model { domain u64 = [1, 2, 0] }
        }",
    );
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 1, "{text}");
    assert_has(
        &text,
        &[
            "error: arithmetic error: division by zero in invariant `whole` (after transition `Split`)",
            "1. Split { into: 0 }   <- rejected",
            "error: verification found 1 problem in 1 machine",
        ],
    );
    assert_lacks(&text, &["no ambiguous transitions or arithmetic errors", "rejected 1 input", "verified"]);
}

#[test]
fn item_5_verify_checks_only_the_files_it_needs() {
    let dir = TempDir::new("select");
    // A routes to B in another file; C has a warning and D does not parse. Neither is needed for A.
    let a = dir.spec(
        "a.machine",
        "machine A {
            phases { initial Idle, Sent }
            input Go
            effect Ping
            on Go from Idle -> Sent { emit Ping }
        }
        composition AToB { route A.Ping -> B.Pinged }",
    );
    dir.spec(
        "b.machine",
        "machine B {
            phases { initial Waiting, Pinged }
            signal Pinged
            on Pinged from Waiting -> Pinged
        }",
    );
    dir.spec(
        "c.machine",
        "machine C {
            phases { initial Only }
            state { unused: u64 = 0 }
            input Poke
            guard never_used = true
            on Poke from Only -> stay
        }",
    );
    dir.spec("d.machine", "machine D { phases { initial X } on ??? }");

    let (code, text) = xtask(&["verify", &a]);
    assert_eq!(code, 0, "{text}");
    // B's file is checked (the composition needs it; without it the route would not check), but only A was
    // asked for.
    assert_has(
        &text,
        &["spec files: ", "a.machine, ", "b.machine\n", "verifying A (", "verified 1 machine: exhaustive"],
    );
    assert_lacks(&text, &["verifying B", "verifying C", "never_used", "c.machine", "d.machine", "error:", "error["]);

    // The broken file is reported when it is the one asked for.
    let (code, text) = xtask(&["verify", &dir.0.join("d.machine").to_string_lossy()]);
    assert_eq!(code, 1, "{text}");
    assert_has(&text, &["d.machine", "error[", "could not check 1 file"]);
    assert_lacks(&text, &["never_used", "verifying A"]);
}

#[test]
fn verify_by_name_loads_only_that_machines_file() {
    let (code, text) = xtask(&["verify", "TrafficLight"]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["verifying TrafficLight (machines/traffic_light.machine)"]);
    assert_lacks(&text, &["meerkat.machine", "job_lease.machine", "turn_admission.machine"]);
}

/// Steps by 1 or 2 up to 6, then may finish.
const STEPPER: &str = "machine Stepper {
    phases { initial Counting, Done }
    state { n: u64 = 0 }
    input Step { by: u64 }
    input Finish
    on Step from Counting -> stay when by > 0, n + by <= 6 { n += by }
    on Finish from Counting -> Done when n == 6
    PROPERTIES
    model { domain u64 = [1, 2] }
}
";

#[test]
fn a_violated_property_prints_a_diagnostic_and_the_counterexample_step_by_step() {
    let dir = TempDir::new("property");
    let spec = dir.spec("stepper.machine", &STEPPER.replace("PROPERTIES", "property below_five = n < 5"));
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 1, "{text}");
    assert_has(
        &text,
        &[
            "× error: property `below_five` is violated",
            "stepper.machine:8:5]",
            "╰── false after 3 steps",
            "shortest counterexample from the initial state (3 steps):",
            "1. Step { by: 1 }\n            n = 1 (was 0)\n",
            "3. Step { by: 2 }\n            n = 5 (was 3)\n",
            "error: verification found 1 problem in 1 machine",
        ],
    );
    assert_lacks(&text, &["verified"]);
}

#[test]
fn a_goal_is_reached_with_a_witness_or_unreachable_after_an_exhaustive_search() {
    let dir = TempDir::new("goal");
    let spec = dir.spec("stepper.machine", &STEPPER.replace("PROPERTIES", "reachable done = phase == Done"));
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 0, "{text}");
    assert_has(
        &text,
        &["ok reachable `done` reached in 4 steps", "4. Finish\n            phase = Done (was Counting)\n", "verified"],
    );

    let spec = dir.spec("seven.machine", &STEPPER.replace("PROPERTIES", "reachable seven = n == 7"));
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 1, "{text}");
    assert_has(&text, &["× error: reachable `seven` is unreachable", "holds in no reachable state"]);

    // Cut by the depth bound, an unreached goal is reported but is not an error.
    let (code, text) = xtask(&["verify", &spec, "--depth", "3"]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["reachable `seven` not reached within the bounds", "bounded:"]);
    assert_lacks(&text, COMPLETE);
}

#[test]
fn die_hard_is_solved_in_six_steps_and_the_trace_is_written_as_itf() {
    let dir = TempDir::new("itf");
    let die_hard = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/specs/die_hard.machine");
    let out = dir.0.join("trace.itf.json");
    let (code, text) = xtask(&[
        "verify",
        die_hard.to_str().expect("a UTF-8 path"),
        "--trace-out",
        out.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["ok reachable `big_is_four` reached in 6 steps", "6. BigToSmall", "big = 4 (was 5)"]);
    let written = std::fs::read_to_string(&out).expect("the trace was written");
    let itf: serde_json::Value = serde_json::from_str(&written).expect("the trace is JSON");
    assert_eq!(itf["#meta"]["format"], "ITF");
    assert_eq!(itf["vars"], serde_json::json!(["phase", "small", "big"]));
    let states = itf["states"].as_array().expect("states");
    assert_eq!(states.len(), 7, "the initial state and one per step");
    assert_eq!(states[0]["#meta"]["index"], 0);
    assert_eq!(states[0]["phase"], serde_json::json!({ "tag": "Pouring", "value": { "#tup": [] } }));
    assert_eq!(states[6]["big"], serde_json::json!({ "#bigint": "4" }));
    assert_eq!(states[6]["small"], serde_json::json!({ "#bigint": "3" }));
    assert_eq!(states[1]["#meta"]["message"], "FillBig");
}

#[test]
fn itf_encodes_sets_maps_records_options_and_sequences() {
    let dir = TempDir::new("itf-values");
    let spec = dir.spec(
        "values.machine",
        "machine Values {
            record Point { x: u64, lit: bool }
            phases { initial Open }
            state {
                names: Set<String> = [],
                ages: Map<String, u64> = [:],
                at: Point = Point { x: 0, lit: false },
                last: Option<String> = None,
                log: Seq<u64> = [],
            }
            input Add { who: String }
            on Add from Open -> stay {
                names.insert(who);
                ages.insert(who, 7);
                at = Point { x: 1, lit: true };
                last = Some(who);
                log.push(3)
            }
            reachable added = names.len() == 1 && ages.len() == 1 && at.lit && last.is_some() && log.len() == 1
            model { depth = 1 domain String = [\"a\"] }
        }",
    );
    let out = dir.0.join("values.json");
    let (code, text) = xtask(&["verify", &spec, "--trace-out", out.to_str().expect("a UTF-8 path")]);
    assert_eq!(code, 0, "{text}");
    let itf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("the trace is JSON");
    let last = &itf["states"][1];
    assert_eq!(last["names"], serde_json::json!({ "#set": ["a"] }));
    assert_eq!(last["ages"], serde_json::json!({ "#map": [["a", { "#bigint": "7" }]] }));
    assert_eq!(last["at"], serde_json::json!({ "x": { "#bigint": "1" }, "lit": true }));
    assert_eq!(last["last"], serde_json::json!({ "tag": "Some", "value": "a" }));
    assert_eq!(last["log"], serde_json::json!([{ "#bigint": "3" }]));
    assert_eq!(itf["states"][0]["last"], serde_json::json!({ "tag": "None", "value": { "#tup": [] } }));
}

#[test]
fn json_output_is_one_object_per_machine_with_properties_goals_and_traces() {
    let dir = TempDir::new("json");
    let spec = dir.spec(
        "stepper.machine",
        &STEPPER
            .replace("PROPERTIES", "property below_five = n < 5\n property small = n <= 6\n reachable seven = n == 7"),
    );
    let (code, text) = {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["verify", &spec, "--format", "json"])
            .env("NO_COLOR", "1")
            .output()
            .expect("the xtask binary runs");
        (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    assert_eq!(code, 1, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one object per machine, nothing else on stdout:\n{text}");
    let report: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
    assert_eq!(report["machine"], "Stepper");
    assert_eq!(report["distinct_states"], 8);
    assert_eq!(report["exhaustive"], true);
    assert_eq!(report["verdict"], "failed");
    let properties = report["properties"].as_array().expect("properties");
    assert_eq!(properties[0]["name"], "below_five");
    assert_eq!(properties[0]["holds"], false);
    assert_eq!(
        properties[0]["trace"],
        serde_json::json!([
            { "input": "Step", "payload": { "by": { "#bigint": "1" } } },
            { "input": "Step", "payload": { "by": { "#bigint": "2" } } },
            { "input": "Step", "payload": { "by": { "#bigint": "2" } } },
        ])
    );
    assert_eq!(properties[1], serde_json::json!({ "name": "small", "holds": true, "trace": null }));
    assert_eq!(
        report["reachable"],
        serde_json::json!([{ "name": "seven", "reached": false, "error": true, "trace": null }])
    );
}

#[test]
fn coverage_gaps_fail_the_run_unless_marked() {
    let dir = TempDir::new("coverage");
    let gate = "machine Gate {
        phases { initial Shut, Open }
        state { opened: u64 = 0 }
        input Open
        input Force
        on Open from Shut -> Open when opened < 1 { opened += 1 }
        on Force from Shut -> Open when opened > 5
        MODEL
    }";
    let spec = dir.spec("gate.machine", &gate.replace("MODEL", ""));
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 1, "{text}");
    assert_has(
        &text,
        &[
            "transitions fired: 1 of 2",
            "error: coverage: never fired in any reachable state: Force",
            "`unfired = [Force]`",
            "error: verification found 1 problem in 1 machine",
        ],
    );

    // Marked as expected, the gap is reported and the run is clean.
    let spec = dir.spec("marked.machine", &gate.replace("MODEL", "model { unfired = [Force] }"));
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 0, "{text}");
    assert_has(&text, &["never fired, as the model block's `unfired` expects: Force", "verified 1 machine"]);

    // A transition marked `unfired` that fires is an error too.
    let spec = dir.spec("wrong.machine", &gate.replace("MODEL", "model { unfired = [Force, Open] }"));
    let (code, text) = xtask(&["verify", &spec]);
    assert_eq!(code, 1, "{text}");
    assert_has(&text, &["error: coverage: `Open` is listed in `unfired` but fired 1 time", "remove it from `unfired`"]);
}

#[test]
fn a_spec_outside_machines_is_verified_by_its_path() {
    // Relative to the current directory, in a folder that is not the workspace's `machines/`.
    let dir = TempDir::new("outside");
    dir.spec("lamp.machine", "machine Lamp { phases { initial Off, On } input Flip transition TurnOn on Flip from Off -> On transition TurnOff on Flip from On -> Off }");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["verify", "lamp.machine"])
        .current_dir(&dir.0)
        .env("NO_COLOR", "1")
        .output()
        .expect("the xtask binary runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    // stderr is not a terminal here, so no progress line (and nothing else) is printed on it.
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_has(
        &text,
        &["spec files: lamp.machine", "verifying Lamp (lamp.machine)", "verified 1 machine: exhaustive, 2 states"],
    );
}
