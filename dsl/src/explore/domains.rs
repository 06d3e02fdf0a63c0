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
//! A declared domain is used whole: one with more values than [`super::Bounds::max_values`] is an error
//! ([`super::ExploreError::DomainTooLarge`]), never a silent truncation. A type built from other values (a
//! record, a map, an option or collection of something) with more values than the limit keeps its first ones
//! (so `None`, empty collections and the domain's first values are always tried), and the cut is recorded
//! ([`super::Cut::Values`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::interp::{Interpreter, Value};
use crate::ir::{DomainTarget, Machine, Trigger, Type, TypeId, TypeKind};

use super::ExploreError;

/// The default values of `u64` payload fields.
pub const DEFAULT_U64: [u64; 3] = [0, 1, 2];

/// The default values of `String` payload fields.
pub const DEFAULT_STRINGS: [&str; 2] = ["a", "b"];

/// Computes value lists for one machine, remembering what it cut and which defaults it used.
pub(super) struct Domains<'a> {
    machine: &'a Machine,
    /// The declared domains' values, whole and deduplicated, by target.
    declared: Vec<(DomainTarget, Vec<Value>)>,
    max_values: usize,
    /// Values per type already computed.
    cache: HashMap<Type, Vec<Value>>,
    /// The types whose values were cut, with how many they had.
    pub(super) cut: BTreeMap<Type, u64>,
    /// The types that took the built-in default values.
    pub(super) defaults: BTreeSet<Type>,
}

impl<'a> Domains<'a> {
    /// Evaluates every declared domain; one with more than `max_values` values is an error.
    pub(super) fn new(interp: &'a Interpreter<'a>, max_values: usize) -> Result<Self, ExploreError> {
        let machine = interp.machine();
        let max_values = max_values.max(1);
        let mut declared = Vec::new();
        for domain in &machine.model.domains {
            let mut values: Vec<Value> = Vec::new();
            // The checker evaluated every domain value (E0212), so none fails here.
            for value in domain.values.iter().filter_map(|e| interp.eval_constant(e)) {
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            if values.len() > max_values {
                return Err(ExploreError::DomainTooLarge {
                    target: domain.target.clone(),
                    values: values.len(),
                    limit: max_values,
                });
            }
            declared.push((domain.target.clone(), values));
        }
        Ok(Domains {
            machine,
            declared,
            max_values,
            cache: HashMap::new(),
            cut: BTreeMap::new(),
            defaults: BTreeSet::new(),
        })
    }

    fn declared(&self, target: &DomainTarget) -> Option<&Vec<Value>> {
        self.declared.iter().find(|(t, _)| t == target).map(|(_, values)| values)
    }

    /// The values of payload field `index` of `trigger`.
    pub(super) fn field(&mut self, trigger: Trigger, index: u32, ty: &Type) -> Vec<Value> {
        match self.declared(&DomainTarget::Field(trigger, index)) {
            Some(values) => values.clone(),
            None => self.of_type(ty),
        }
    }

    /// The values tried for a value of type `ty`.
    pub(super) fn of_type(&mut self, ty: &Type) -> Vec<Value> {
        if let Some(values) = self.cache.get(ty) {
            return values.clone();
        }
        let values = self.compute(ty);
        self.cache.insert(ty.clone(), values.clone());
        values
    }

    fn compute(&mut self, ty: &Type) -> Vec<Value> {
        if let Some(values) = self.declared(&DomainTarget::Type(ty.clone())) {
            return values.clone();
        }
        let limit = self.max_values;
        // The values and how many there would be without the limit.
        let (values, total): (Vec<Value>, u64) = match ty {
            Type::Bool => (vec![Value::Bool(false), Value::Bool(true)], 2),
            Type::U64 => {
                self.defaults.insert(Type::U64);
                (DEFAULT_U64.iter().map(|n| Value::U64(*n)).collect(), DEFAULT_U64.len() as u64)
            }
            Type::String => {
                self.defaults.insert(Type::String);
                (DEFAULT_STRINGS.iter().map(|s| Value::str(*s)).collect(), DEFAULT_STRINGS.len() as u64)
            }
            Type::Phase => (self.machine.phase_ids().map(Value::Phase).collect(), self.machine.phases.len() as u64),
            Type::Named(id) => self.named(*id),
            Type::Option(inner) => {
                let inner = self.of_type(inner);
                let total = inner.len() as u64 + 1;
                (std::iter::once(Value::none()).chain(inner.into_iter().map(Value::some)).collect(), total)
            }
            Type::Set(inner) => {
                let inner = self.of_type(inner);
                let total = inner.len() as u64 + 1;
                let singletons = inner.into_iter().map(|v| Value::Set(BTreeSet::from([v])));
                (std::iter::once(Value::Set(BTreeSet::new())).chain(singletons).collect(), total)
            }
            Type::Seq(inner) => {
                let inner = self.of_type(inner);
                let total = inner.len() as u64 + 1;
                (
                    std::iter::once(Value::Seq(Vec::new()))
                        .chain(inner.into_iter().map(|v| Value::Seq(vec![v])))
                        .collect(),
                    total,
                )
            }
            Type::Map(key, value) => {
                let parts = [self.of_type(key), self.of_type(value)];
                let total = product(&parts).saturating_add(1);
                let pairs = combinations(&parts, limit.saturating_sub(1));
                let singletons = pairs.into_iter().filter_map(|pair| match <[Value; 2]>::try_from(pair) {
                    Ok([k, v]) => Some(Value::Map(BTreeMap::from([(k, v)]))),
                    Err(_) => None,
                });
                (std::iter::once(Value::Map(BTreeMap::new())).chain(singletons).collect(), total)
            }
        };
        self.limit(ty, values, total)
    }

    /// Cuts `values` to the limit, recording the cut when there were more than it allows.
    fn limit(&mut self, ty: &Type, mut values: Vec<Value>, total: u64) -> Vec<Value> {
        if total > self.max_values as u64 {
            self.cut.insert(ty.clone(), total);
        }
        values.truncate(self.max_values);
        values
    }

    fn named(&mut self, id: TypeId) -> (Vec<Value>, u64) {
        let Some(decl) = self.machine.types.get(id.index()) else { return (Vec::new(), 0) };
        match &decl.kind {
            TypeKind::Enum { variants } => {
                ((0..variants.len()).map(|i| Value::Enum(id, i as u32)).collect(), variants.len() as u64)
            }
            TypeKind::Newtype { inner } => {
                let inner = self.of_type(inner);
                let total = inner.len() as u64;
                (inner.into_iter().map(|v| Value::Newtype(id, Box::new(v))).collect(), total)
            }
            TypeKind::Record { fields } => {
                let parts: Vec<Vec<Value>> = fields.iter().map(|f| self.of_type(&f.ty)).collect();
                let total = product(&parts);
                let values = combinations(&parts, self.max_values).into_iter().map(|values| Value::Record(id, values));
                (values.collect(), total)
            }
        }
    }
}

/// The number of combinations taking one value from each list, saturating at `u64::MAX`.
pub(super) fn product(lists: &[Vec<Value>]) -> u64 {
    lists.iter().fold(1u64, |acc, l| acc.saturating_mul(l.len() as u64))
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
