//! Holds the JSON Schema back end to what the generated kernels really serialize: for each test machine, states
//! reached by the reference interpreter, every message the model checker tries and the effects the kernel emits
//! are converted to kernel values, serialized with `serde_json`, and validated against
//! `meerkat_codegen::schema` by a small validator of the keywords the back end uses. Each value must also
//! deserialize back to itself.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::HashSet;

use meerkat_dsl::CheckedMachine;
use meerkat_dsl::explore::{Bounds, explore};
use meerkat_dsl::interp::{Interpreter, Message, State};
use meerkat_dsl::ir::Trigger;
use serde_json::Value;

/// The checked machine a kernel was generated from.
fn machine(spec: &str, name: &str) -> CheckedMachine {
    let text = std::fs::read_to_string(spec).expect("spec is readable");
    let package = match meerkat_dsl::check_source(spec, text) {
        Ok(package) => package,
        Err(error) => panic!("{error}"),
    };
    package.machine(name).cloned().expect("the kernel's machine is in its spec")
}

/// Up to `limit` states reachable within `depth` messages of the alphabet, breadth-first.
fn states(machine: &CheckedMachine, messages: &[Message], depth: usize, limit: usize) -> Vec<State> {
    let interp = Interpreter::new(machine);
    let initial = interp.initial_state().expect("initial state");
    let mut seen: HashSet<State> = HashSet::from([initial.clone()]);
    let mut all = vec![initial.clone()];
    let mut frontier = vec![initial];
    for _ in 0..depth {
        let mut next = Vec::new();
        for state in &frontier {
            for message in messages {
                let mut scratch = state.clone();
                if interp.apply(&mut scratch, message).is_ok() && seen.insert(scratch.clone()) && all.len() < limit {
                    all.push(scratch.clone());
                    next.push(scratch);
                }
            }
        }
        frontier = next;
    }
    all
}

/// Validates `value` against the schema at `pointer` in `root`, returning every violation.
fn validate(root: &Value, pointer: &str, value: &Value) -> Vec<String> {
    let schema = root.pointer(pointer.trim_start_matches('#')).unwrap_or_else(|| panic!("no schema at {pointer}"));
    let mut errors = Vec::new();
    check(root, schema, value, pointer, &mut errors);
    errors
}

fn check(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{at}: false schema"));
        }
        return;
    };
    let fail = |errors: &mut Vec<String>, what: String| errors.push(format!("{at}: {what} (value {value})"));
    for (keyword, argument) in schema {
        match keyword.as_str() {
            "$ref" => {
                let target = argument.as_str().expect("a string $ref");
                check(
                    root,
                    root.pointer(target.trim_start_matches('#')).expect("$ref resolves"),
                    value,
                    target,
                    errors,
                );
            }
            "type" => {
                let ok = match argument.as_str().expect("one type") {
                    "string" => value.is_string(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "boolean" => value.is_boolean(),
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "null" => value.is_null(),
                    other => panic!("unexpected type {other}"),
                };
                if !ok {
                    fail(errors, format!("not a {argument}"));
                }
            }
            "enum" => {
                if !argument.as_array().expect("enum list").contains(value) {
                    fail(errors, format!("not one of {argument}"));
                }
            }
            "minimum" => {
                if value.as_u64().is_none_or(|n| argument.as_u64().is_some_and(|min| n < min)) {
                    fail(errors, format!("below {argument}"));
                }
            }
            "maximum" => {
                if value.as_u64().is_none_or(|n| argument.as_u64().is_some_and(|max| n > max)) {
                    fail(errors, format!("above {argument}"));
                }
            }
            "pattern" => {
                // The only pattern the back end writes: a u64 map key in decimal.
                assert_eq!(argument, "^(0|[1-9][0-9]*)$", "unexpected pattern");
                let text = value.as_str().unwrap_or("x");
                let decimal = !text.is_empty()
                    && text.bytes().all(|b| b.is_ascii_digit())
                    && (text == "0" || !text.starts_with('0'));
                if !decimal {
                    fail(errors, "not a decimal number".into());
                }
            }
            "properties" => {
                if let Some(object) = value.as_object() {
                    for (name, property) in argument.as_object().expect("properties") {
                        if let Some(v) = object.get(name) {
                            check(root, property, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for name in argument.as_array().expect("required list") {
                        if !object.contains_key(name.as_str().expect("a name")) {
                            fail(errors, format!("missing {name}"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(object) = value.as_object() {
                    let known = schema.get("properties").and_then(Value::as_object);
                    for (name, v) in object {
                        if known.is_some_and(|k| k.contains_key(name)) {
                            continue;
                        }
                        match argument {
                            Value::Bool(false) => fail(errors, format!("unexpected property {name}")),
                            Value::Bool(true) => {}
                            schema => check(root, schema, v, &format!("{at}/{name}"), errors),
                        }
                    }
                }
            }
            "propertyNames" => {
                if let Some(object) = value.as_object() {
                    for name in object.keys() {
                        check(root, argument, &Value::String(name.clone()), &format!("{at} key {name}"), errors);
                    }
                }
            }
            "maxProperties" => {
                if value.as_object().is_some_and(|o| o.len() as u64 > argument.as_u64().expect("a count")) {
                    fail(errors, format!("more than {argument} properties"));
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check(root, argument, item, &format!("{at}/{i}"), errors);
                }
            }
            "uniqueItems" => {
                if let Some(items) = value.as_array() {
                    let unique: HashSet<String> = items.iter().map(Value::to_string).collect();
                    if unique.len() != items.len() {
                        fail(errors, "repeated items".into());
                    }
                }
            }
            "anyOf" | "oneOf" => {
                let passing = argument
                    .as_array()
                    .expect("alternatives")
                    .iter()
                    .filter(|alternative| {
                        let mut inner = Vec::new();
                        check(root, alternative, value, at, &mut inner);
                        inner.is_empty()
                    })
                    .count();
                let ok = if keyword == "oneOf" { passing == 1 } else { passing >= 1 };
                if !ok {
                    fail(errors, format!("{passing} alternatives of {keyword} match"));
                }
            }
            "not" => {
                let mut inner = Vec::new();
                check(root, argument, value, at, &mut inner);
                if inner.is_empty() {
                    fail(errors, "matches a `not` schema".into());
                }
            }
            "$schema" | "$defs" | "$comment" | "title" | "description" => {}
            other => panic!("the validator does not know the keyword {other}"),
        }
    }
}

fn assert_valid<T>(schema: &Value, pointer: &str, value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(value).unwrap_or_else(|e| panic!("{value:?} does not serialize: {e}"));
    let errors = validate(schema, pointer, &json);
    assert!(errors.is_empty(), "{json} does not match {pointer}:\n{}", errors.join("\n"));
    let back: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
    assert_eq!(&back, value);
}

macro_rules! schema_matches_serde {
    ($($test:ident: $module:ident, $authority:ident, $state:ident, $input:ident, $signal:ident, $mutator:ident;)*) => {
        $(
            #[test]
            fn $test() {
                use meerkat_tests::kernels::$module as k;
                let m = machine(
                    <k::$state as meerkat_tests::InterpKernel>::SPEC,
                    <k::$state as meerkat_kernel::Kernel>::MACHINE,
                );
                let schema = meerkat_codegen::schema::schema_value(&m);
                let name = &m.name;
                let report = explore(&m, &Bounds { depth: Some(1), ..Bounds::default() }).expect("explorable");
                let reached = states(&m, &report.messages, 3, 40);
                let (mut checked_states, mut checked_messages, mut checked_effects) = (0, 0, 0);
                for state in &reached {
                    let kernel_state = <k::$state as ::meerkat_dsl::interp::FromInterp>::from_interp(state).expect("state converts");
                    assert_valid(&schema, &format!("#/$defs/{name}State"), &kernel_state);
                    checked_states += 1;
                    for message in &report.messages {
                        let Ok(mut authority) = k::$authority::recover_from_state(kernel_state.clone()) else {
                            continue;
                        };
                        let transition = match message.trigger {
                            Trigger::Input(_) => {
                                let input = <k::$input as ::meerkat_dsl::interp::FromInterp>::from_interp(message).expect("input converts");
                                assert_valid(&schema, &format!("#/$defs/{name}Input"), &input);
                                k::$mutator::apply(&mut authority, input)
                            }
                            // A machine without signals has an empty signal enum, so this arm ends early.
                            #[allow(unreachable_code, unused_variables)]
                            Trigger::Signal(_) => {
                                let signal = <k::$signal as ::meerkat_dsl::interp::FromInterp>::from_interp(message).expect("signal converts");
                                assert_valid(&schema, &format!("#/$defs/{name}Signal"), &signal);
                                authority.apply_signal(signal)
                            }
                        };
                        checked_messages += 1;
                        for effect in transition.iter().flat_map(|t| t.effects()) {
                            assert_valid(&schema, &format!("#/$defs/{name}Effect"), effect);
                            checked_effects += 1;
                        }
                    }
                }
                assert!(checked_states > 0 && checked_messages > 0, "nothing was checked");
                let _ = checked_effects;
            }
        )*
    };
}

schema_matches_serde! {
    traffic_light: traffic_light, TrafficLightAuthority, TrafficLightState, TrafficLightInput, TrafficLightSignal, TrafficLightMutator;
    sink: sink, SinkAuthority, SinkState, SinkInput, SinkSignal, SinkMutator;
    bank: bank, BankAuthority, BankState, BankInput, BankSignal, BankMutator;
    library: library, LibraryAuthority, LibraryState, LibraryInput, LibrarySignal, LibraryMutator;
    ledger: ledger, LedgerAuthority, LedgerState, LedgerInput, LedgerSignal, LedgerMutator;
}

/// The validator is not vacuous: wrong shapes of a real state are caught.
#[test]
fn the_validator_rejects_wrong_shapes() {
    use meerkat_tests::kernels::bank as k;
    let m =
        machine(<k::BankState as meerkat_tests::InterpKernel>::SPEC, <k::BankState as meerkat_kernel::Kernel>::MACHINE);
    let schema = meerkat_codegen::schema::schema_value(&m);
    let pointer = "#/$defs/BankState";
    let good = serde_json::to_value(k::BankState::initial()).expect("serializes");
    assert!(validate(&schema, pointer, &good).is_empty());
    let object = good.as_object().expect("an object").clone();
    let (phase_field, _) = object.iter().find(|(_, v)| v.is_string()).expect("the phase is a string");

    let mut wrong_phase = object.clone();
    wrong_phase.insert(phase_field.clone(), Value::String("NoSuchPhase".into()));
    let mut missing = object.clone();
    missing.remove("balances");
    let mut extra = object.clone();
    extra.insert("surprise".into(), Value::Bool(true));
    let mut bad_key = object.clone();
    bad_key.insert("balances".into(), serde_json::json!({ "01": 1 }));
    for (what, value) in [("phase", wrong_phase), ("missing", missing), ("extra", extra), ("key", bad_key)] {
        assert!(!validate(&schema, pointer, &Value::Object(value)).is_empty(), "{what} was accepted");
    }
}
