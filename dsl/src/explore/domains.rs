//! The finite value domains the explorer draws message payloads from, and the capped cartesian products it
//! builds from them.
//!
//! A payload field's values come from its `domain Input.field = [...]` if the model block has one, else from
//! its type: a `domain T = ...` for `u64`, `String` or a newtype, else the defaults below. The defaults (and
//! how composite types combine their parts) are:
//!
//! | type | values |
//! | --- | --- |
//! | `bool` | `false`, `true` |
//! | `u64` | `0`, `1`, `2` |
//! | `String` | `"a"`, `"b"` |
//! | `Phase`, enums | every phase or variant, in declaration order |
//! | newtype | the inner type's values, wrapped |
//! | record | the product of its fields' values, capped (see [`combinations`]) |
//! | `Option<T>` | `None`, then `Some(v)` for each value `v` of `T` |
//! | `Set<T>`, `Seq<T>` | empty, then a singleton of each value of `T` |
//! | `Map<K, V>` | empty, then a singleton `[k: v]` for each pair of the product of `K` and `V`, capped |
//!
//! Every type's list is cut to [`super::Bounds::max_values`] values (the first ones, so `None`, empty
//! collections and the domain's first values are always tried).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::interp::{Interpreter, Value};
use crate::ir::{DomainTarget, Machine, Trigger, Type, TypeId, TypeKind};

/// The default values of `u64` payload fields.
pub const DEFAULT_U64: [u64; 3] = [0, 1, 2];

/// The default values of `String` payload fields.
pub const DEFAULT_STRINGS: [&str; 2] = ["a", "b"];

/// Computes value lists for one machine.
pub(super) struct Domains<'a> {
    machine: &'a Machine,
    interp: &'a Interpreter<'a>,
    max_values: usize,
}

impl<'a> Domains<'a> {
    pub(super) fn new(interp: &'a Interpreter<'a>, max_values: usize) -> Self {
        Domains { machine: interp.machine(), interp, max_values: max_values.max(1) }
    }

    /// The values of payload field `index` of `trigger`.
    pub(super) fn field(&self, trigger: Trigger, index: u32, ty: &Type) -> Vec<Value> {
        let declared = self.machine.model.domains.iter().find(|d| d.target == DomainTarget::Field(trigger, index));
        match declared {
            Some(domain) => self.constants(&domain.values),
            None => self.of_type(ty),
        }
    }

    fn constants(&self, values: &[crate::ir::Expr]) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for value in values.iter().filter_map(|e| self.interp.eval_constant(e)) {
            if !out.contains(&value) {
                out.push(value);
            }
        }
        out
    }

    /// The values tried for a value of type `ty`.
    pub(super) fn of_type(&self, ty: &Type) -> Vec<Value> {
        if let Some(domain) = self.machine.model.domains.iter().find(|d| d.target == DomainTarget::Type(ty.clone())) {
            let mut values = self.constants(&domain.values);
            values.truncate(self.max_values);
            return values;
        }
        let mut values = match ty {
            Type::Bool => vec![Value::Bool(false), Value::Bool(true)],
            Type::U64 => DEFAULT_U64.iter().map(|n| Value::U64(*n)).collect(),
            Type::String => DEFAULT_STRINGS.iter().map(|s| Value::str(*s)).collect(),
            Type::Phase => self.machine.phase_ids().map(Value::Phase).collect(),
            Type::Named(id) => self.named(*id),
            Type::Option(inner) => {
                std::iter::once(Value::none()).chain(self.of_type(inner).into_iter().map(Value::some)).collect()
            }
            Type::Set(inner) => std::iter::once(Value::Set(BTreeSet::new()))
                .chain(self.of_type(inner).into_iter().map(|v| Value::Set(BTreeSet::from([v]))))
                .collect(),
            Type::Seq(inner) => std::iter::once(Value::Seq(Vec::new()))
                .chain(self.of_type(inner).into_iter().map(|v| Value::Seq(vec![v])))
                .collect(),
            Type::Map(key, value) => {
                let pairs = combinations(&[self.of_type(key), self.of_type(value)], self.max_values);
                std::iter::once(Value::Map(BTreeMap::new()))
                    .chain(pairs.into_iter().filter_map(|pair| match <[Value; 2]>::try_from(pair) {
                        Ok([k, v]) => Some(Value::Map(BTreeMap::from([(k, v)]))),
                        Err(_) => None,
                    }))
                    .collect()
            }
        };
        values.truncate(self.max_values);
        values
    }

    fn named(&self, id: TypeId) -> Vec<Value> {
        let Some(decl) = self.machine.types.get(id.index()) else { return Vec::new() };
        match &decl.kind {
            TypeKind::Enum { variants } => (0..variants.len()).map(|i| Value::Enum(id, i as u32)).collect(),
            TypeKind::Newtype { inner } => {
                self.of_type(inner).into_iter().map(|v| Value::Newtype(id, Box::new(v))).collect()
            }
            TypeKind::Record { fields } => {
                let parts: Vec<Vec<Value>> = fields.iter().map(|f| self.of_type(&f.ty)).collect();
                combinations(&parts, self.max_values).into_iter().map(|values| Value::Record(id, values)).collect()
            }
        }
    }
}

/// Up to `cap` combinations taking one value from each list, deterministic.
///
/// When the full product fits under the cap it is returned in lexicographic order (the last list varies
/// fastest). Otherwise the first combinations walk all lists in step (combination `i` takes value `i mod len`
/// of each list), so every value of every list appears at least once as long as the cap allows, and the rest is
/// filled in lexicographic order. An empty list means there is no combination at all; no lists means one
/// empty combination.
pub fn combinations(lists: &[Vec<Value>], cap: usize) -> Vec<Vec<Value>> {
    if lists.iter().any(Vec::is_empty) || cap == 0 {
        return Vec::new();
    }
    let total = lists.iter().try_fold(1usize, |acc, l| acc.checked_mul(l.len()));
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut seen: HashSet<Vec<usize>> = HashSet::new();
    let fits = total.is_some_and(|t| t <= cap);
    if !fits {
        let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..longest.min(cap) {
            let indices: Vec<usize> = lists.iter().map(|l| i % l.len()).collect();
            if seen.insert(indices.clone()) {
                out.push(pick(lists, &indices));
            }
        }
    }
    // An odometer over the indices, last position fastest.
    let mut indices = vec![0usize; lists.len()];
    while out.len() < cap {
        if seen.insert(indices.clone()) {
            out.push(pick(lists, &indices));
        }
        let mut position = lists.len();
        loop {
            if position == 0 {
                return out;
            }
            position -= 1;
            indices[position] += 1;
            if indices[position] < lists[position].len() {
                break;
            }
            indices[position] = 0;
        }
    }
    out
}

fn pick(lists: &[Vec<Value>], indices: &[usize]) -> Vec<Value> {
    lists.iter().zip(indices).filter_map(|(l, i)| l.get(*i).cloned()).collect()
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use super::*;

    fn nums(n: u64) -> Vec<Value> {
        (0..n).map(Value::U64).collect()
    }

    #[test]
    fn small_products_are_complete_and_ordered() {
        let all = combinations(&[nums(2), nums(2)], 10);
        let expected: Vec<Vec<Value>> = vec![
            vec![Value::U64(0), Value::U64(0)],
            vec![Value::U64(0), Value::U64(1)],
            vec![Value::U64(1), Value::U64(0)],
            vec![Value::U64(1), Value::U64(1)],
        ];
        assert_eq!(all, expected);
        assert_eq!(combinations(&[], 10), vec![Vec::<Value>::new()]);
        assert!(combinations(&[nums(2), Vec::new()], 10).is_empty());
    }

    #[test]
    fn capped_products_still_use_every_value() {
        let some = combinations(&[nums(5), nums(5), nums(5)], 7);
        assert_eq!(some.len(), 7);
        for position in 0..3 {
            for value in 0..5 {
                assert!(some.iter().any(|c| c[position] == Value::U64(value)), "value {value} at {position}");
            }
        }
        let unique: HashSet<&Vec<Value>> = some.iter().collect();
        assert_eq!(unique.len(), some.len());
    }
}
