//! Traces in the ITF JSON format (the Informal Trace Format of Apalache and Quint), so a trace the model checker
//! found can be loaded by tools made for them: `{"#meta": {...}, "vars": [...], "states": [...]}`, one object
//! per state with `"#meta": {"index": i}` and one entry per variable.
//!
//! The variables are the phase field (`phase` unless the machine names it otherwise) and the state fields, in
//! declaration order. Values are encoded as ITF says: `bool` as a JSON boolean, `u64` as `{"#bigint": "N"}`, a
//! `String` as a JSON string, a `Seq` as a JSON array, a `Set` as `{"#set": [...]}`, a `Map` as
//! `{"#map": [[k, v], ...]}`, a record as an object of its fields. Enum variants, phases and options are
//! variants in Quint's encoding, `{"tag": "Name", "value": {"#tup": []}}` (an option's `Some` carries its value,
//! `None` the empty tuple), and a newtype is the value it wraps. Each state after the first also names the
//! message that led to it in its `#meta` (`"message": "Deposit { amount: 1 }"`).

use meerkat_dsl::explore::render_message;
use meerkat_dsl::explore::replay::Replay;
use meerkat_dsl::interp::{State, Value};
use meerkat_dsl::ir::{Machine, TypeKind};
use serde_json::{Map, Value as Json, json};

/// The ITF document of a replayed trace. `description` goes in the document's `#meta`.
pub fn trace(machine: &Machine, replay: &Replay, source: &str, description: &str) -> Json {
    let mut vars = vec![Json::String(machine.phase_field.clone())];
    vars.extend(machine.fields.iter().map(|f| Json::String(f.name.clone())));
    let mut states = vec![state(machine, &replay.initial, 0, None)];
    for (index, step) in replay.steps.iter().filter(|s| s.accepted).enumerate() {
        states.push(state(machine, &step.state, index + 1, Some(render_message(machine, &step.message))));
    }
    json!({
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": source,
            "description": description,
        },
        "vars": vars,
        "states": states,
    })
}

fn state(machine: &Machine, state: &State, index: usize, message: Option<String>) -> Json {
    let mut object = Map::new();
    let mut meta = Map::new();
    meta.insert("index".to_string(), json!(index));
    if let Some(message) = message {
        meta.insert("message".to_string(), Json::String(message));
    }
    object.insert("#meta".to_string(), Json::Object(meta));
    let phase = machine.phases.get(state.phase.index()).map_or("?", |p| p.name.as_str());
    object.insert(machine.phase_field.clone(), variant(phase, unit()));
    for (field, value) in machine.fields.iter().zip(&state.fields) {
        object.insert(field.name.clone(), encode(machine, value));
    }
    Json::Object(object)
}

fn unit() -> Json {
    json!({ "#tup": [] })
}

fn variant(tag: &str, value: Json) -> Json {
    json!({ "tag": tag, "value": value })
}

/// One value in the ITF encoding the module doc lists.
pub fn encode(machine: &Machine, value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::U64(n) => json!({ "#bigint": n.to_string() }),
        Value::Str(s) => Json::String(s.clone()),
        Value::Phase(id) => variant(machine.phases.get(id.index()).map_or("?", |p| p.name.as_str()), unit()),
        Value::Enum(ty, index) => {
            let name = match machine.types.get(ty.index()).map(|t| &t.kind) {
                Some(TypeKind::Enum { variants }) => variants.get(*index as usize).map_or("?", |v| v.name.as_str()),
                _ => "?",
            };
            variant(name, unit())
        }
        Value::Record(ty, values) => {
            let mut object = Map::new();
            if let Some(TypeKind::Record { fields }) = machine.types.get(ty.index()).map(|t| &t.kind) {
                for (field, value) in fields.iter().zip(values) {
                    object.insert(field.name.clone(), encode(machine, value));
                }
            }
            Json::Object(object)
        }
        Value::Newtype(_, inner) => encode(machine, inner),
        Value::Option(Some(inner)) => variant("Some", encode(machine, inner)),
        Value::Option(None) => variant("None", unit()),
        Value::Set(items) => json!({ "#set": items.iter().map(|v| encode(machine, v)).collect::<Vec<_>>() }),
        Value::Map(entries) => json!({
            "#map": entries.iter().map(|(k, v)| json!([encode(machine, k), encode(machine, v)])).collect::<Vec<_>>()
        }),
        Value::Seq(items) => Json::Array(items.iter().map(|v| encode(machine, v)).collect()),
    }
}
