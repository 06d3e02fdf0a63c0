//! Run-time values of the interpreter: one [`Value`] variant per kind of spec type, totally ordered so sets and
//! maps can hold any of them, printed back in spec syntax by [`Value::render`], and checked against an
//! [`ir::Type`] where values come from outside the interpreter (message payloads).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::ir::{self, PhaseId, TypeId, TypeKind};

/// A value of a spec type.
///
/// The derived order is the order sets and maps keep their elements in. Within one spec type it is the natural
/// one: `false < true`, numbers and strings as in Rust, phases and enum variants in declaration order, records
/// field by field, `None` before any `Some`, collections lexicographically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A `bool`.
    Bool(bool),
    /// A `u64`.
    U64(u64),
    /// A `String`.
    Str(String),
    /// A phase of the machine.
    Phase(PhaseId),
    /// A variant of a declared enum, by index.
    Enum(TypeId, u32),
    /// A record: field values in the record's declaration order.
    Record(TypeId, Vec<Value>),
    /// A newtype and the value it wraps.
    Newtype(TypeId, Box<Value>),
    /// An `Option`.
    Option(Option<Box<Value>>),
    /// A `Set`, ordered.
    Set(BTreeSet<Value>),
    /// A `Map`, ordered by key.
    Map(BTreeMap<Value, Value>),
    /// A `Seq`.
    Seq(Vec<Value>),
}

impl Value {
    /// `Some(value)`.
    pub fn some(value: Value) -> Value {
        Value::Option(Some(Box::new(value)))
    }

    /// `None`.
    pub fn none() -> Value {
        Value::Option(None)
    }

    /// A `String` value.
    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    /// Prints the value as it would be written in a spec: `Some("a")`, `Lamp::Red`,
    /// `Lease { holder: "x", ttl: 3 }`, `[1, 2]`, `["a": 1]`, `[:]`, `Phase::Idle`.
    ///
    /// Ids that `machine` does not declare (a value built for another machine) print as `?` rather than failing.
    ///
    /// ```
    /// use meerkat_dsl::interp::Value;
    /// let package = meerkat_dsl::check_source(
    ///     "door.machine",
    ///     "machine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
    /// )
    /// .expect("the spec checks");
    /// let value = Value::Seq(vec![Value::some(Value::str("a")), Value::none()]);
    /// assert_eq!(value.render(&package.machines[0]), r#"[Some("a"), None]"#);
    /// ```
    pub fn render(&self, machine: &ir::Machine) -> String {
        let mut out = String::new();
        self.render_into(machine, &mut out);
        out
    }

    fn render_into(&self, machine: &ir::Machine, out: &mut String) {
        match self {
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Str(s) => out.push_str(&crate::parse::string_literal(s)),
            Value::Phase(id) => {
                out.push_str("Phase::");
                out.push_str(machine.phases.get(id.index()).map_or("?", |p| p.name.as_str()));
            }
            Value::Enum(ty, variant) => {
                let decl = machine.types.get(ty.index());
                out.push_str(decl.map_or("?", |d| d.name.as_str()));
                out.push_str("::");
                let name = match decl.map(|d| &d.kind) {
                    Some(TypeKind::Enum { variants }) => variants.get(*variant as usize).map(|v| v.name.as_str()),
                    _ => None,
                };
                out.push_str(name.unwrap_or("?"));
            }
            Value::Record(ty, fields) => {
                let decl = machine.types.get(ty.index());
                out.push_str(decl.map_or("?", |d| d.name.as_str()));
                let names = match decl.map(|d| &d.kind) {
                    Some(TypeKind::Record { fields }) => fields.as_slice(),
                    _ => &[],
                };
                out.push_str(" {");
                for (index, value) in fields.iter().enumerate() {
                    out.push_str(if index == 0 { " " } else { ", " });
                    out.push_str(names.get(index).map_or("?", |f| f.name.as_str()));
                    out.push_str(": ");
                    value.render_into(machine, out);
                }
                out.push_str(if fields.is_empty() { "}" } else { " }" });
            }
            Value::Newtype(ty, inner) => {
                out.push_str(machine.types.get(ty.index()).map_or("?", |d| d.name.as_str()));
                out.push('(');
                inner.render_into(machine, out);
                out.push(')');
            }
            Value::Option(None) => out.push_str("None"),
            Value::Option(Some(inner)) => {
                out.push_str("Some(");
                inner.render_into(machine, out);
                out.push(')');
            }
            Value::Set(items) => render_list(items.iter(), machine, out),
            Value::Seq(items) => render_list(items.iter(), machine, out),
            Value::Map(entries) if entries.is_empty() => out.push_str("[:]"),
            Value::Map(entries) => {
                out.push('[');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    key.render_into(machine, out);
                    out.push_str(": ");
                    value.render_into(machine, out);
                }
                out.push(']');
            }
        }
    }
}

fn render_list<'v>(items: impl Iterator<Item = &'v Value>, machine: &ir::Machine, out: &mut String) {
    out.push('[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        item.render_into(machine, out);
    }
    out.push(']');
}

/// Whether `value` is a value of type `ty` in `machine`, all the way down.
pub(crate) fn has_type(value: &Value, ty: &ir::Type, machine: &ir::Machine) -> bool {
    use ir::Type as T;
    match (value, ty) {
        (Value::Bool(_), T::Bool) | (Value::U64(_), T::U64) | (Value::Str(_), T::String) => true,
        (Value::Phase(id), T::Phase) => id.index() < machine.phases.len(),
        (Value::Enum(vt, variant), T::Named(tt)) => {
            vt == tt
                && matches!(machine.types.get(tt.index()).map(|d| &d.kind),
                    Some(TypeKind::Enum { variants }) if (*variant as usize) < variants.len())
        }
        (Value::Record(vt, values), T::Named(tt)) => {
            vt == tt
                && match machine.types.get(tt.index()).map(|d| &d.kind) {
                    Some(TypeKind::Record { fields }) => {
                        fields.len() == values.len()
                            && fields.iter().zip(values).all(|(f, v)| has_type(v, &f.ty, machine))
                    }
                    _ => false,
                }
        }
        (Value::Newtype(vt, inner), T::Named(tt)) => {
            vt == tt
                && match machine.types.get(tt.index()).map(|d| &d.kind) {
                    Some(TypeKind::Newtype { inner: inner_ty }) => has_type(inner, inner_ty, machine),
                    _ => false,
                }
        }
        (Value::Option(v), T::Option(t)) => v.as_deref().is_none_or(|v| has_type(v, t, machine)),
        (Value::Set(items), T::Set(t)) => items.iter().all(|v| has_type(v, t, machine)),
        (Value::Seq(items), T::Seq(t)) => items.iter().all(|v| has_type(v, t, machine)),
        (Value::Map(entries), T::Map(k, v)) => {
            entries.iter().all(|(key, value)| has_type(key, k, machine) && has_type(value, v, machine))
        }
        _ => false,
    }
}
