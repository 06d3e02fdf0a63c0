//! `property` and `reachable` declarations: conditions over the state that the model checker checks and the
//! machine never enforces. Each is a `bool` over state fields, the phase and helpers (no payload, as for an
//! invariant); its name is unique among properties and differs from every invariant's, so a report naming it
//! is never ambiguous. A `property` written exactly like an invariant cannot fail (the kernel already rejects
//! every input that would break it), which is worth a warning.

use crate::ast::{MachineItem, PropertyKind};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, PropertyId, Type};
use crate::print::{self, Scope};

use super::body::{Body, Ctx, Node};
use super::machine::{MachineChecker, placeholder};

impl MachineChecker<'_> {
    /// Declares every property, checks its condition, and reports the misuses the module doc lists.
    pub(crate) fn check_properties(&mut self) {
        let declarations: Vec<_> = self
            .ast
            .items
            .iter()
            .filter_map(|i| if let MachineItem::Property(p) = i { Some(p) } else { None })
            .collect();
        for declaration in declarations {
            if let Some(span) = self.invariants.span_of(&declaration.name.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        self.source,
                        format!("`{}` names both an invariant and a property", declaration.name.name),
                        Label::new(declaration.name.span, "the property"),
                    )
                    .with_label(span, "the invariant")
                    .with_help("give the property its own name: reports name invariants and properties alike"),
                );
                continue;
            }
            if self.properties.contains(&declaration.name.name) {
                let id = PropertyId(self.m.properties.len() as u32);
                self.properties.declare(&declaration.name, id, self.source, &mut self.diags);
                continue;
            }
            let id = PropertyId(self.m.properties.len() as u32);
            self.properties.declare(&declaration.name, id, self.source, &mut self.diags);
            let mut body = Body::new(Ctx::Machine, Node::Other);
            let (expr, locals) = match self.check_expr(&mut body, &declaration.expr, Some(&Type::Bool)) {
                Ok(expr) => (expr, body.locals),
                Err(_) => (placeholder(declaration.span), Vec::new()),
            };
            self.m.properties.push(ir::Property {
                name: declaration.name.name.clone(),
                docs: declaration.docs.text(),
                kind: declaration.kind,
                expr,
                locals,
                span: declaration.span,
            });
            if declaration.kind == PropertyKind::Always {
                self.warn_if_enforced(id);
            }
        }
    }

    /// Warns when a `property` is written exactly as an invariant is (compared as printed from the IR, so
    /// layout and redundant parentheses do not matter).
    fn warn_if_enforced(&mut self, id: PropertyId) {
        let Some(property) = self.m.properties.get(id.index()) else { return };
        let printed = print::expr(Scope::property(&self.m, property), &property.expr);
        let same = self
            .m
            .invariants
            .iter()
            .find(|invariant| print::expr(Scope::invariant(&self.m, invariant), &invariant.expr) == printed);
        if let Some(invariant) = same {
            self.diags.push(
                Diagnostic::new(
                    Code::EnforcedProperty,
                    self.source,
                    format!(
                        "property `{}` is the condition of invariant `{}`, which the machine enforces",
                        property.name, invariant.name
                    ),
                    Label::new(property.span, "can never be violated"),
                )
                .with_label(invariant.span, "enforced here: every input that would break it is rejected")
                .with_help(
                    "remove the property, or remove the invariant to let the model checker find the inputs that \
                     break it",
                ),
            );
        }
    }
}
