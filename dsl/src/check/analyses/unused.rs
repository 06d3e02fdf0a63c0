//! W0003: declarations that nothing uses.
//!
//! - a type (enum, record, newtype) that no type, expression, pattern or model domain mentions, outside its own
//!   declaration;
//! - a state field that is never read: reads in guards, invariants, properties, helpers, transition guards and bodies and
//!   effect defaults count; writes (`x = ..`, `x += ..`, collection operations) do not. Any read counts, even
//!   one in the value written back to the same field (`x = x + 1`, unlike `x += 1`);
//! - an effect that no transition emits;
//! - an input or signal that no transition takes (it is always refused with `NoMatchingTransition`);
//! - a helper that nothing calls, outside its own body;
//! - a named guard that nothing mentions, outside its own definition.
//!
//! Any mention counts, even one from a declaration that is itself unused, so removing an unused declaration may
//! reveal another. The rule is exact for what it covers: a reported declaration can be removed (with the writes
//! to a reported field) without changing what the machine does.

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::visit::{for_each_stmt_expr, walk_expr, walk_stmts};
use crate::ir::{Expr, ExprKind, Machine, Pattern, Place, Stmt, StmtKind, Type, TypeKind};
use crate::span::Span;

/// Which declarations something mentions, indexed like the machine's vectors.
struct Uses {
    types: Vec<bool>,
    fields_read: Vec<bool>,
    field_writes: Vec<Vec<Span>>,
    effects: Vec<bool>,
    helpers: Vec<bool>,
    guards: Vec<bool>,
    /// The declaration being walked, whose mentions of itself do not count.
    owner: Owner,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    None,
    Type(usize),
    Helper(usize),
    Guard(usize),
}

impl Uses {
    fn new(machine: &Machine) -> Self {
        Uses {
            types: vec![false; machine.types.len()],
            fields_read: vec![false; machine.fields.len()],
            field_writes: vec![Vec::new(); machine.fields.len()],
            effects: vec![false; machine.effects.len()],
            helpers: vec![false; machine.helpers.len()],
            guards: vec![false; machine.guards.len()],
            owner: Owner::None,
        }
    }

    fn mark(flags: &mut [bool], index: usize) {
        if let Some(flag) = flags.get_mut(index) {
            *flag = true;
        }
    }

    fn ty(&mut self, ty: &Type) {
        match ty {
            Type::Bool | Type::U64 | Type::String | Type::Phase => {}
            Type::Named(id) => {
                if self.owner != Owner::Type(id.index()) {
                    Self::mark(&mut self.types, id.index());
                }
            }
            Type::Option(inner) | Type::Set(inner) | Type::Seq(inner) => self.ty(inner),
            Type::Map(key, value) => {
                self.ty(key);
                self.ty(value);
            }
        }
    }

    fn pattern(&mut self, pattern: &Pattern) {
        if let Pattern::Variant(id, _) = pattern {
            if self.owner != Owner::Type(id.index()) {
                Self::mark(&mut self.types, id.index());
            }
        }
    }

    /// Every declaration an expression mentions, at any depth: the types of its subexpressions, variants,
    /// records and newtypes it builds, patterns, state fields it reads, guards and helpers it uses.
    fn expr(&mut self, expr: &Expr) {
        use ExprKind as K;
        walk_expr(expr, &mut |e| {
            self.ty(&e.ty);
            match &e.kind {
                K::Variant(id, _) | K::Record(id, _) | K::Newtype(id, _) => Self::mark(&mut self.types, id.index()),
                K::Field(id) => Self::mark(&mut self.fields_read, id.index()),
                K::Guard(id) if self.owner != Owner::Guard(id.index()) => Self::mark(&mut self.guards, id.index()),
                K::Call(id, _) if self.owner != Owner::Helper(id.index()) => Self::mark(&mut self.helpers, id.index()),
                K::IfLet { pattern, .. } => self.pattern(pattern),
                K::Match { arms, .. } => arms.iter().flat_map(|arm| &arm.patterns).for_each(|p| self.pattern(p)),
                _ => {}
            }
        });
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        for expr in exprs {
            self.expr(expr);
        }
    }

    /// A write: records where the field is written, and the types involved, but not a read.
    fn place(&mut self, place: &Place) {
        self.ty(&place.ty);
        if let Some(writes) = self.field_writes.get_mut(place.field.index()) {
            writes.push(place.span);
        }
    }

    /// Every statement of a body, nested ones included: the places it writes, the effects it emits, its
    /// patterns, and the expressions it evaluates.
    fn stmts(&mut self, stmts: &[Stmt]) {
        walk_stmts(stmts, &mut |stmt| {
            match &stmt.kind {
                StmtKind::Assign { place, .. }
                | StmtKind::Compound { place, .. }
                | StmtKind::Collection { place, .. } => self.place(place),
                StmtKind::IfLet { pattern, .. } => self.pattern(pattern),
                StmtKind::Emit { effect, .. } => Self::mark(&mut self.effects, effect.index()),
                StmtKind::Let { .. } | StmtKind::If { .. } => {}
            }
            for_each_stmt_expr(stmt, |e| self.expr(e));
        });
    }

    /// Walks everything the machine declares.
    fn collect(machine: &Machine) -> Self {
        let mut uses = Uses::new(machine);
        for (index, decl) in machine.types.iter().enumerate() {
            uses.owner = Owner::Type(index);
            match &decl.kind {
                TypeKind::Enum { .. } => {}
                TypeKind::Record { fields } => {
                    for field in fields {
                        uses.ty(&field.ty);
                    }
                }
                TypeKind::Newtype { inner } => uses.ty(inner),
            }
        }
        uses.owner = Owner::None;
        for field in &machine.fields {
            uses.ty(&field.ty);
            uses.expr(&field.init);
        }
        for message in machine.inputs.iter().chain(&machine.signals).chain(&machine.effects) {
            for field in &message.fields {
                uses.ty(&field.ty);
                if let Some(default) = &field.default {
                    uses.expr(default);
                }
            }
        }
        for (index, helper) in machine.helpers.iter().enumerate() {
            uses.owner = Owner::Helper(index);
            for (_, ty) in &helper.params {
                uses.ty(ty);
            }
            uses.ty(&helper.ret);
            uses.expr(&helper.body);
            for local in &helper.locals {
                uses.ty(&local.ty);
            }
        }
        for (index, guard) in machine.guards.iter().enumerate() {
            uses.owner = Owner::Guard(index);
            uses.expr(&guard.expr);
            for local in &guard.locals {
                uses.ty(&local.ty);
            }
        }
        uses.owner = Owner::None;
        for invariant in &machine.invariants {
            uses.expr(&invariant.expr);
            for local in &invariant.locals {
                uses.ty(&local.ty);
            }
        }
        for property in &machine.properties {
            uses.expr(&property.expr);
            for local in &property.locals {
                uses.ty(&local.ty);
            }
        }
        for transition in &machine.transitions {
            for check in &transition.guards {
                uses.expr(&check.expr);
            }
            if let crate::ir::Target::Computed { expr, .. } = &transition.target {
                uses.expr(expr);
            }
            uses.stmts(&transition.body);
            for local in &transition.locals {
                uses.ty(&local.ty);
            }
        }
        for domain in &machine.model.domains {
            if let crate::ir::DomainTarget::Type(ty) = &domain.target {
                uses.ty(ty);
            }
            uses.exprs(&domain.values);
        }
        uses
    }
}

/// One W0003 warning per unused declaration: types, state fields, inputs, signals, effects, helpers, then named
/// guards, each in declaration order.
pub(crate) fn unused(machine: &Machine) -> Vec<Diagnostic> {
    let uses = Uses::collect(machine);
    let mut out = Vec::new();
    let warn = |span: Span, message: String, label: &str| {
        Diagnostic::new(Code::Unused, machine.source, message, Label::new(span, label.to_string()))
    };

    for (decl, used) in machine.types.iter().zip(&uses.types) {
        if !used {
            let kind = match decl.kind {
                TypeKind::Enum { .. } => "enum",
                TypeKind::Record { .. } => "record",
                TypeKind::Newtype { .. } => "newtype",
            };
            out.push(
                warn(decl.span, format!("{kind} `{}` is never used", decl.name), "declared here, never referenced")
                    .with_help("remove it, or use it as the type of a state field, payload field or helper"),
            );
        }
    }

    for ((field, read), writes) in machine.fields.iter().zip(&uses.fields_read).zip(&uses.field_writes) {
        if *read {
            continue;
        }
        let mut d = warn(field.span, format!("state field `{}` is never read", field.name), "never read");
        for span in writes {
            d = d.with_label(*span, "written here, but nothing reads the value");
        }
        let help = if writes.is_empty() {
            "remove it, or read it in a guard, invariant, helper, transition or effect".to_string()
        } else {
            format!(
                "remove it and its writes, or read it where its value matters: in a guard, an invariant, or an \
                 effect field default (`effect Report {{ {}: {} = {} }}`)",
                field.name,
                machine.type_name(&field.ty),
                field.name
            )
        };
        out.push(d.with_help(help));
    }

    let initial = &machine.phase(machine.initial_phase).name;
    for (kind, messages, is_input) in [("input", &machine.inputs, true), ("signal", &machine.signals, false)] {
        for (index, message) in messages.iter().enumerate() {
            let taken = machine.transitions.iter().any(|t| match t.trigger {
                crate::ir::Trigger::Input(id) => is_input && id.index() == index,
                crate::ir::Trigger::Signal(id) => !is_input && id.index() == index,
            });
            if !taken {
                out.push(
                    warn(
                        message.span,
                        format!("{kind} `{}` has no transition, so it is always refused", message.name),
                        "no transition takes it",
                    )
                    .with_help(format!(
                        "add a transition (e.g. `on {} from {initial} -> stay`), or remove the {kind}",
                        message.name
                    )),
                );
            }
        }
    }

    for (effect, used) in machine.effects.iter().zip(&uses.effects) {
        if !used {
            out.push(
                warn(effect.span, format!("effect `{}` is never emitted", effect.name), "never emitted").with_help(
                    format!("emit it from a transition body (`emit {} {{ .. }}`), or remove it", effect.name),
                ),
            );
        }
    }

    for (helper, used) in machine.helpers.iter().zip(&uses.helpers) {
        if !used {
            out.push(
                warn(helper.span, format!("helper `{}` is never called", helper.name), "never called")
                    .with_help("call it from a guard, invariant, transition or another helper, or remove it"),
            );
        }
    }

    for (guard, used) in machine.guards.iter().zip(&uses.guards) {
        if !used {
            out.push(
                warn(guard.span, format!("guard `{}` is never used", guard.name), "never used")
                    .with_help(format!("use it in a `when` clause (`when {}`), or remove it", guard.name)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::analyses::testing::machine;

    fn messages(m: &Machine) -> Vec<String> {
        unused(m).into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn everything_used_is_quiet() {
        let m = machine(
            "machine M {
               enum Lamp { Red, Green }
               record Lease { who: String }
               newtype Id(String)
               phases { initial A }
               state { lamp: Lamp = Red, lease: Option<Lease> = None, n: u64 = 0 }
               input Go { id: Id }
               signal Ping
               effect Seen { n: u64 = n }
               fn big(x: u64) -> bool { x > 10 }
               guard many = big(n)
               invariant sane = lamp == Red || lease.is_some()
               on Go from A -> stay when many { emit Seen }
               on Ping from A -> stay
             }",
        );
        assert_eq!(messages(&m), Vec::<String>::new());
    }

    #[test]
    fn reports_each_kind() {
        let m = machine(
            "machine M {
               enum Unused { X }
               phases { initial A }
               state { written: u64 = 0 }
               input Go
               input Orphan
               signal Lost
               effect Never
               fn lonely() -> bool { true }
               guard idle = true
               on Go from A -> stay { written += 1; written -= 1 }
             }",
        );
        assert_eq!(
            messages(&m),
            vec![
                "enum `Unused` is never used",
                "state field `written` is never read",
                "input `Orphan` has no transition, so it is always refused",
                "signal `Lost` has no transition, so it is always refused",
                "effect `Never` is never emitted",
                "helper `lonely` is never called",
                "guard `idle` is never used",
            ]
        );
        let field = &unused(&m)[1];
        assert_eq!(field.primary.span, m.fields[0].span);
        assert_eq!(field.secondary.len(), 2, "labels both writes");
    }

    #[test]
    fn self_references_do_not_count() {
        let m = machine(
            "machine M {
               record Node { next: Option<u64> }
               phases { initial A }
               input Go
               guard g = true
               guard h = g
               on Go from A -> stay
             }",
        );
        // `g` is used by `h`; `h` and `Node` are not used by anything else.
        assert_eq!(messages(&m), vec!["record `Node` is never used", "guard `h` is never used"]);
    }

    #[test]
    fn reads_in_effect_defaults_and_patterns_count() {
        let m = machine(
            "machine M {
               enum Mode { On, Off }
               phases { initial A }
               state { mode: Mode = On, n: u64 = 0 }
               input Go
               effect Report { n: u64 = n, lit: bool = match mode { On => true, Off => false } }
               on Go from A -> stay { emit Report }
             }",
        );
        assert_eq!(messages(&m), Vec::<String>::new());
    }
}
