//! Type depth: refusing types that nest more than [`MAX_TYPE_DEPTH`] levels, counted through the records and
//! newtypes they name, so that a chain of a thousand records each holding the next is a diagnostic here rather
//! than a stack overflow in a later pass or a recursion limit in rustc. Written types are bounded while parsing;
//! this pass adds the levels that named types contribute.
//!
//! The depth of a named type is computed once and remembered. Every walk carries the levels it may still descend
//! and stops when they run out, so no walk recurses more than [`MAX_TYPE_DEPTH`] + 1 levels, however long the
//! chain. A type that refers back to one being measured (through a collection: an inline cycle is E0211) counts
//! as a leaf.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{MAX_TYPE_DEPTH, Type, TypeId, TypeKind};
use crate::span::Span;

use super::machine::MachineChecker;

/// What is known about the depth of one declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NamedDepth {
    /// Not measured yet.
    Unknown,
    /// Being measured (a reference back to it counts as a leaf).
    InProgress,
    /// Measured: this many levels.
    Levels(usize),
    /// Deeper than [`MAX_TYPE_DEPTH`]; reported once, at the declaration.
    TooDeep,
}

impl MachineChecker<'_> {
    /// Measures every declared type and reports each one that is too deep while none of the named types it
    /// contains is: the report lands where the chain crosses the limit, once.
    pub(crate) fn check_type_depths(&mut self) {
        self.named_depths = vec![NamedDepth::Unknown; self.m.types.len()];
        for index in 0..self.m.types.len() {
            let id = TypeId(index as u32);
            if self.named_levels(id, MAX_TYPE_DEPTH).is_some() {
                continue;
            }
            let children = self.named_children(id);
            let child_too_deep = children.iter().any(|child| self.named_levels(*child, MAX_TYPE_DEPTH).is_none());
            if let Some(state) = self.named_depths.get_mut(index) {
                *state = NamedDepth::TooDeep;
            }
            if !child_too_deep {
                let decl = &self.m.types[index];
                let (name, span) = (decl.name.clone(), decl.span);
                self.type_too_deep(span, &format!("type `{name}`"));
            }
        }
    }

    /// Reports a resolved type outside any declaration (a state field, a payload, a helper signature) that is too
    /// deep, unless a named type inside it already has its report.
    pub(crate) fn check_type_depth(&mut self, ty: &Type, span: Span) {
        if self.named_depths.len() == self.m.types.len() && self.levels(ty, MAX_TYPE_DEPTH).is_none() {
            self.type_too_deep(span, "this type");
        }
    }

    fn type_too_deep(&mut self, span: Span, what: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::Syntax,
                self.source,
                format!("{what} nests more than {MAX_TYPE_DEPTH} levels deep, counting the types it names"),
                Label::new(span, "too deep"),
            )
            .with_help("flatten the type: hold the inner records side by side instead of each inside the next"),
        );
    }

    /// The levels of `ty`, or `None` when they exceed `budget`. A named type already reported as too deep counts
    /// as a leaf, so one mistake is reported once.
    fn levels(&mut self, ty: &Type, budget: usize) -> Option<usize> {
        match ty {
            Type::Bool | Type::U64 | Type::String | Type::Phase => Some(0),
            Type::Named(id) => match self.named_depths.get(id.index()) {
                Some(NamedDepth::TooDeep) => Some(0),
                _ => self.named_levels(*id, budget),
            },
            Type::Option(inner) | Type::Set(inner) | Type::Seq(inner) => {
                Some(self.levels(inner, budget.checked_sub(1)?)? + 1)
            }
            Type::Map(key, value) => {
                let below = budget.checked_sub(1)?;
                Some(self.levels(key, below)?.max(self.levels(value, below)?) + 1)
            }
        }
    }

    /// The levels of a declared type, or `None` when they exceed `budget`.
    fn named_levels(&mut self, id: TypeId, budget: usize) -> Option<usize> {
        match self.named_depths.get(id.index()).copied() {
            Some(NamedDepth::Levels(levels)) => return (levels <= budget).then_some(levels),
            Some(NamedDepth::InProgress) => return Some(0),
            Some(NamedDepth::TooDeep) => return None,
            Some(NamedDepth::Unknown) => {}
            None => return Some(0),
        }
        let contents: Vec<Type> = match &self.m.types[id.index()].kind {
            // An enum is a scalar.
            TypeKind::Enum { .. } => return Some(0),
            TypeKind::Record { fields } => fields.iter().map(|f| f.ty.clone()).collect(),
            TypeKind::Newtype { inner } => vec![inner.clone()],
        };
        let below = budget.checked_sub(1)?;
        self.named_depths[id.index()] = NamedDepth::InProgress;
        let mut deepest = Some(0);
        for ty in &contents {
            deepest = match (deepest, self.levels(ty, below)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            if deepest.is_none() {
                break;
            }
        }
        // Only a complete measurement is remembered; one cut short by the budget may succeed with a larger one.
        self.named_depths[id.index()] = match deepest {
            Some(levels) => NamedDepth::Levels(levels + 1),
            None => NamedDepth::Unknown,
        };
        deepest.map(|levels| levels + 1)
    }

    /// The declared types that `id`'s fields or inner type name, at any depth of `Option`, `Seq`, `Set` or `Map`.
    fn named_children(&self, id: TypeId) -> Vec<TypeId> {
        let mut stack: Vec<&Type> = match &self.m.types[id.index()].kind {
            TypeKind::Enum { .. } => Vec::new(),
            TypeKind::Record { fields } => fields.iter().map(|f| &f.ty).collect(),
            TypeKind::Newtype { inner } => vec![inner],
        };
        let mut out = Vec::new();
        while let Some(ty) = stack.pop() {
            match ty {
                Type::Named(child) => out.push(*child),
                Type::Option(inner) | Type::Set(inner) | Type::Seq(inner) => stack.push(inner),
                Type::Map(key, value) => {
                    stack.push(key);
                    stack.push(value);
                }
                Type::Bool | Type::U64 | Type::String | Type::Phase => {}
            }
        }
        out
    }
}
