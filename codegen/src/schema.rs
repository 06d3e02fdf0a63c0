//! The JSON Schema back end: a draft 2020-12 schema of the serde JSON form of a machine's generated types, for
//! anyone who stores snapshots or sends inputs over the wire.
//!
//! The document's root describes `<M>State`; `$defs` holds `<M>State`, `<M>Phase`, `<M>Input`, `<M>Signal`,
//! `<M>Effect` and every declared type under its declared name. The mapping follows what `serde_json` does with
//! the derives the Rust back end writes (serde's defaults, no attributes):
//! - `bool`, `u64` (an integer in `0..=u64::MAX`) and `String` are JSON booleans, integers and strings;
//! - enums (declared enums, `<M>Phase`) and the unit variants of `<M>Input`, `<M>Signal` and `<M>Effect` are the
//!   variant's name as a string; a variant with a payload is externally tagged, a one-key object
//!   `{"Name": {..fields..}}`; an enum without variants (a machine with no signals) has no JSON form at all;
//! - records and payloads are objects with every field present: serialization always writes each field, an
//!   `Option` as `null` when empty (deserialization is laxer: unknown keys are ignored and a missing `Option`
//!   field reads as `None`; the schema describes what serialization writes);
//! - a newtype is its inner value; `Option<T>` is `T` or `null` (so `Some(None)` and `None` of an
//!   `Option<Option<T>>` both write `null`); `Seq<T>` is an array, `Set<T>` an array of unique items in order;
//! - `Map<K, V>` is always a JSON object, because `BTreeMap` serializes as a map. JSON keys are strings, and
//!   `serde_json` turns a key into one as follows: a `String` as itself, a `u64` as its decimal digits (`"42"`),
//!   a `bool` as `"true"`/`"false"`, an enum or phase as its variant name, a newtype as its inner key, `Some(k)`
//!   as `k` (and reads back as `Some(k)`). A `None` key, a record key or a collection key makes serialization
//!   fail with "key must be a string" (it is not written as an array of pairs): a map keyed by records or
//!   collections can only be written while it is empty, so its schema allows only `{}`, and a `$comment` says
//!   why, so the limit is visible here rather than found at run time. The unit tests of this module pin each of
//!   these facts against `serde_json`.
//!
//! Output is deterministic: object keys are sorted and the document is printed with two-space indentation by a
//! printer of our own, so the result does not depend on `serde_json`'s `preserve_order` feature.

use serde_json::{Map, Value, json};

use meerkat_dsl::ir::{Machine, Message, Type, TypeKind};

/// The JSON Schema dialect the documents declare.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schema of a machine's generated types, pretty-printed, ending with a newline.
///
/// ```
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "machine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
/// )
/// .expect("the spec checks");
/// let schema: serde_json::Value =
///     serde_json::from_str(&meerkat_codegen::schema::json_schema(&package.machines[0])).expect("valid JSON");
/// assert_eq!(schema["$defs"]["DoorPhase"]["enum"], serde_json::json!(["Closed", "Open"]));
/// assert_eq!(schema["$defs"]["DoorInput"]["enum"], serde_json::json!(["Push"]));
/// ```
pub fn json_schema(machine: &Machine) -> String {
    print(&schema_value(machine))
}

/// Prints a JSON value the way this module prints schemas: object keys sorted, two-space indentation, arrays
/// of scalars on one line, ending with a newline.
pub fn print(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out.push('\n');
    out
}

/// The schema as a `serde_json` value.
pub fn schema_value(machine: &Machine) -> Value {
    let m = &machine.name;
    let mut defs = Map::new();

    let phases: Vec<Value> = machine.phases.iter().map(|p| json!(p.name)).collect();
    defs.insert(
        format!("{m}Phase"),
        json!({ "description": format!("A phase of `{m}`, by name."), "type": "string", "enum": phases }),
    );

    let mut properties = Map::new();
    properties.insert(
        machine.phase_field.clone(),
        json!({ "description": "The current phase.", "$ref": format!("#/$defs/{m}Phase") }),
    );
    let mut required = vec![json!(machine.phase_field)];
    for field in &machine.fields {
        properties.insert(field.name.clone(), described(type_schema(machine, &field.ty), field.docs.as_deref()));
        required.push(json!(field.name));
    }
    let mut state = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    set_description(&mut state, Some(&format!("The state of `{m}`.")));
    defs.insert(format!("{m}State"), state);

    defs.insert(format!("{m}Input"), messages_schema(machine, &machine.inputs, &format!("An input of `{m}`.")));
    defs.insert(format!("{m}Signal"), messages_schema(machine, &machine.signals, &format!("A signal of `{m}`.")));
    defs.insert(format!("{m}Effect"), messages_schema(machine, &machine.effects, &format!("An effect of `{m}`.")));

    for decl in &machine.types {
        let schema = match &decl.kind {
            TypeKind::Enum { variants } => {
                let names: Vec<Value> = variants.iter().map(|v| json!(v.name)).collect();
                json!({ "type": "string", "enum": names })
            }
            TypeKind::Record { fields } => {
                let mut properties = Map::new();
                for field in fields {
                    properties
                        .insert(field.name.clone(), described(type_schema(machine, &field.ty), field.docs.as_deref()));
                }
                let required: Vec<Value> = fields.iter().map(|f| json!(f.name)).collect();
                json!({
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false,
                })
            }
            TypeKind::Newtype { inner } => type_schema(machine, inner),
        };
        defs.insert(decl.name.clone(), described(schema, decl.docs.as_deref()));
    }

    let mut root = Map::new();
    root.insert("$schema".into(), json!(DIALECT));
    root.insert("title".into(), json!(format!("{m}State")));
    let description = match &machine.docs {
        Some(docs) => format!(
            "{docs}\n\nThe serde JSON form of `{m}State`; `$defs` also describes `{m}Input`, `{m}Signal`, `{m}Effect` \
             and the declared types."
        ),
        None => format!(
            "The serde JSON form of `{m}State`; `$defs` also describes `{m}Input`, `{m}Signal`, `{m}Effect` and the \
             declared types."
        ),
    };
    root.insert("description".into(), json!(description));
    root.insert("$ref".into(), json!(format!("#/$defs/{m}State")));
    root.insert("$defs".into(), Value::Object(defs));
    Value::Object(root)
}

fn set_description(schema: &mut Value, docs: Option<&str>) {
    if let (Some(docs), Value::Object(map)) = (docs, schema) {
        map.insert("description".into(), json!(docs));
    }
}

fn described(mut schema: Value, docs: Option<&str>) -> Value {
    // A `$ref` may carry a description beside it in 2020-12, and `false` cannot carry one.
    if schema.is_object() {
        set_description(&mut schema, docs);
    }
    schema
}

/// An input, signal or effect enum: unit variants as strings, payload variants as one-key objects.
fn messages_schema(machine: &Machine, messages: &[Message], description: &str) -> Value {
    let units: Vec<Value> = messages.iter().filter(|m| m.fields.is_empty()).map(|m| json!(m.name)).collect();
    let mut alternatives: Vec<Value> = Vec::new();
    if !units.is_empty() {
        alternatives.push(json!({ "type": "string", "enum": units }));
    }
    for message in messages.iter().filter(|m| !m.fields.is_empty()) {
        let mut properties = Map::new();
        for field in &message.fields {
            properties.insert(field.name.clone(), described(type_schema(machine, &field.ty), field.docs.as_deref()));
        }
        let required: Vec<Value> = message.fields.iter().map(|f| json!(f.name)).collect();
        let payload = json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        let mut variant = Map::new();
        variant.insert(message.name.clone(), payload);
        alternatives.push(described(
            json!({
                "type": "object",
                "properties": variant,
                "required": [message.name],
                "additionalProperties": false,
            }),
            message.docs.as_deref(),
        ));
    }
    let mut schema = match alternatives.len() {
        0 => json!({ "$comment": "an enum without variants has no values, so nothing is valid", "not": {} }),
        1 => alternatives.remove(0),
        _ => json!({ "oneOf": alternatives }),
    };
    // Docs of unit variants have no place of their own in an `enum` list; list them in the description.
    let mut text = description.to_string();
    for message in messages.iter().filter(|m| m.fields.is_empty()) {
        if let Some(docs) = &message.docs {
            text.push_str(&format!("\n- `{}`: {}", message.name, docs.replace('\n', " ")));
        }
    }
    set_description(&mut schema, Some(&text));
    schema
}

/// The schema of a value of type `ty`.
pub fn type_schema(machine: &Machine, ty: &Type) -> Value {
    match ty {
        Type::Bool => json!({ "type": "boolean" }),
        Type::U64 => json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX }),
        Type::String => json!({ "type": "string" }),
        Type::Phase => json!({ "$ref": format!("#/$defs/{}Phase", machine.name) }),
        Type::Named(id) => {
            let name = machine.types.get(id.index()).map_or("?", |t| t.name.as_str());
            json!({ "$ref": format!("#/$defs/{name}") })
        }
        Type::Option(inner) => json!({ "anyOf": [type_schema(machine, inner), { "type": "null" }] }),
        Type::Seq(inner) => json!({ "type": "array", "items": type_schema(machine, inner) }),
        Type::Set(inner) => json!({ "type": "array", "items": type_schema(machine, inner), "uniqueItems": true }),
        Type::Map(key, value) => match key_schema(machine, key) {
            Some(Value::Null) => json!({ "type": "object", "additionalProperties": type_schema(machine, value) }),
            Some(names) => json!({
                "type": "object",
                "propertyNames": names,
                "additionalProperties": type_schema(machine, value),
            }),
            None => json!({
                "$comment": format!(
                    "serde_json cannot write a `{}` key (\"key must be a string\"), so only an empty map has a JSON \
                     form",
                    machine.type_name(key)
                ),
                "type": "object",
                "maxProperties": 0,
            }),
        },
    }
}

/// What the JSON object keys of a map with `key` keys look like: `Some(Null)` for any string, `Some(schema)` for
/// a restricted set of strings, `None` when `serde_json` refuses the key type.
fn key_schema(machine: &Machine, key: &Type) -> Option<Value> {
    match key {
        Type::String => Some(Value::Null),
        Type::U64 => Some(json!({ "pattern": "^(0|[1-9][0-9]*)$" })),
        Type::Bool => Some(json!({ "enum": ["true", "false"] })),
        Type::Phase => Some(json!({ "$ref": format!("#/$defs/{}Phase", machine.name) })),
        Type::Named(id) => match &machine.types.get(id.index())?.kind {
            TypeKind::Enum { variants } => {
                Some(json!({ "enum": variants.iter().map(|v| json!(v.name)).collect::<Vec<_>>() }))
            }
            TypeKind::Newtype { inner } => key_schema(machine, inner),
            TypeKind::Record { .. } => None,
        },
        // `Some(k)` is written as `k`; a `None` key fails to serialize, so it never appears in JSON.
        Type::Option(inner) => key_schema(machine, inner),
        Type::Set(_) | Type::Seq(_) | Type::Map(..) => None,
    }
}

/// Prints a JSON value with sorted keys and two-space indentation.
fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            // Arrays of scalars (enum names, `required` lists) stay on one line.
            if items.iter().all(|v| !v.is_array() && !v.is_object()) {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, item, indent);
                }
                out.push(']');
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                push_indent(out, indent + 1);
                write_value(out, item, indent + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            push_indent(out, indent);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, key) in keys.iter().enumerate() {
                push_indent(out, indent + 1);
                write_string(out, key);
                out.push_str(": ");
                if let Some(v) = map.get(*key) {
                    write_value(out, v, indent + 1);
                }
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            push_indent(out, indent);
            out.push('}');
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n("  ", indent));
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Lamp {
        Red,
        Green,
    }

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Id(String);

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Pair {
        a: u64,
    }

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    enum Input {
        Tick,
        Claim { who: String, ttl: Option<u64> },
    }

    fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(value: T, json: &str) {
        let text = serde_json::to_string(&value).expect("serializes");
        assert_eq!(text, json);
        let back: T = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, value);
    }

    /// The facts the module doc states about serde_json, checked against the real thing.
    #[test]
    fn serde_json_behaves_as_documented() {
        round_trip(Input::Tick, r#""Tick""#);
        round_trip(Input::Claim { who: "a".into(), ttl: None }, r#"{"Claim":{"who":"a","ttl":null}}"#);
        round_trip(Id("x".into()), r#""x""#);
        round_trip(BTreeSet::from([2u64, 1]), "[1,2]");
        round_trip(BTreeMap::from([(42u64, true)]), r#"{"42":true}"#);
        round_trip(BTreeMap::from([(true, 1u64)]), r#"{"true":1}"#);
        round_trip(BTreeMap::from([(Lamp::Green, 1u64)]), r#"{"Green":1}"#);
        round_trip(BTreeMap::from([(Id("k".into()), 1u64)]), r#"{"k":1}"#);
        round_trip(BTreeMap::from([(Some(1u64), 1u64)]), r#"{"1":1}"#);
        round_trip(BTreeMap::<Pair, u64>::new(), "{}");
        for failure in [
            serde_json::to_string(&BTreeMap::from([(None::<u64>, 1u64)])),
            serde_json::to_string(&BTreeMap::from([(Pair { a: 1 }, 1u64)])),
            serde_json::to_string(&BTreeMap::from([(BTreeSet::from([1u64]), 1u64)])),
            serde_json::to_string(&BTreeMap::from([(vec![1u64], 1u64)])),
        ] {
            let error = failure.expect_err("such keys are refused");
            assert!(error.to_string().contains("key must be a string"), "{error}");
        }
        // A missing `Option` field reads as `None`; unknown fields are ignored.
        let lax: Input = serde_json::from_str(r#"{"Claim":{"who":"a","extra":1}}"#).expect("lax");
        assert_eq!(lax, Input::Claim { who: "a".into(), ttl: None });
    }

    fn machine(text: &str) -> meerkat_dsl::CheckedMachine {
        match meerkat_dsl::check_source("t.machine", text) {
            Ok(mut package) => package.machines.remove(0),
            Err(e) => panic!("{}", e.render(meerkat_dsl::RenderOptions::default())),
        }
    }

    #[test]
    fn types_map_to_their_serde_form() {
        let m = machine(
            "machine M {
                enum Lamp { Red, Green }
                record Lease { holder: String, ttl: u64 }
                newtype Id(String)
                phases { initial A }
                state {
                    by_id: Map<Id, u64> = [:],
                    by_n: Map<u64, bool> = [:],
                    by_lamp: Map<Lamp, bool> = [:],
                    owner: Option<Id> = None,
                    tags: Set<String> = [],
                }
                input Tick
                input Claim { who: String }
                on Tick from A -> stay
                on Claim from A -> stay
            }",
        );
        let schema = schema_value(&m);
        let state = &schema["$defs"]["MState"]["properties"];
        assert_eq!(state["phase"]["$ref"], "#/$defs/MPhase");
        assert_eq!(
            state["by_id"],
            json!({ "type": "object", "additionalProperties": { "type": "integer", "minimum": 0, "maximum": u64::MAX } })
        );
        assert_eq!(state["by_n"]["propertyNames"], json!({ "pattern": "^(0|[1-9][0-9]*)$" }));
        assert_eq!(state["by_lamp"]["propertyNames"], json!({ "enum": ["Red", "Green"] }));
        assert_eq!(state["owner"]["anyOf"][1], json!({ "type": "null" }));
        assert_eq!(state["tags"]["uniqueItems"], true);
        let input = &schema["$defs"]["MInput"]["oneOf"];
        assert_eq!(input[0]["enum"], json!(["Tick"]));
        assert_eq!(input[1]["required"], json!(["Claim"]));
        assert_eq!(schema["$defs"]["MSignal"]["not"], json!({}));
        assert_eq!(schema["$defs"]["Id"]["type"], "string");
        let text = json_schema(&m);
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed, schema);
    }
}
