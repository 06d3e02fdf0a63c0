//! Patterns: checking a `match` arm's or `if let`'s pattern against the scrutinee's type (binding its names),
//! rejecting `Some(x)` bindings named after a variant of the inner type (E0214), and exhaustiveness.

use crate::ast;
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, Type, TypeKind};
use crate::span::Span;

use super::body::{Body, Checked, Reported};
use super::machine::MachineChecker;
use super::names::{quoted, suggest, with_suggestion};

impl MachineChecker<'_> {
    /// Reports a `match` that does not cover every value of its scrutinee.
    pub(crate) fn check_exhaustive(&mut self, ty: &Type, arms: &[ir::MatchArm], span: Span) -> Checked<()> {
        let patterns: Vec<&ir::Pattern> = arms.iter().flat_map(|a| &a.patterns).collect();
        if patterns.iter().any(|p| matches!(p, ir::Pattern::Wildcard)) {
            return Ok(());
        }
        let missing: Vec<String> = match ty {
            Type::Bool => [true, false]
                .into_iter()
                .filter(|b| !patterns.iter().any(|p| **p == ir::Pattern::Bool(*b)))
                .map(|b| b.to_string())
                .collect(),
            Type::Option(_) => {
                let mut missing = Vec::new();
                if !patterns.iter().any(|p| matches!(p, ir::Pattern::None)) {
                    missing.push("None".to_string());
                }
                if !patterns.iter().any(|p| matches!(p, ir::Pattern::Some(_))) {
                    missing.push("Some(_)".to_string());
                }
                missing
            }
            Type::Phase => self
                .m
                .phase_ids()
                .filter(|id| !patterns.iter().any(|p| **p == ir::Pattern::Phase(*id)))
                .map(|id| self.m.phases[id.index()].name.clone())
                .collect(),
            Type::Named(tid) => match &self.m.types[tid.index()].kind {
                TypeKind::Enum { variants } => variants
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !patterns.iter().any(|p| **p == ir::Pattern::Variant(*tid, *i as u32)))
                    .map(|(_, v)| v.name.clone())
                    .collect(),
                _ => vec!["_".to_string()],
            },
            _ => vec!["_".to_string()],
        };
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = missing.iter().map(String::as_str).collect();
        Err(self.error_help(
            Code::NonExhaustiveMatch,
            span,
            format!("this match does not cover {}", quoted(&names)),
            "not exhaustive",
            format!("add an arm for {}, or a `_ => ...` arm", quoted(&names)),
        ))
    }

    /// Checks a pattern against the scrutinee's type, binding its names in the current scope.
    pub(crate) fn check_pattern(&mut self, body: &mut Body, pattern: &ast::Pattern, ty: &Type) -> Checked<ir::Pattern> {
        let type_name = self.m.type_name(ty);
        let mismatch = |this: &mut Self, what: &str| {
            this.error(
                Code::TypeMismatch,
                pattern.span,
                format!("this pattern matches {what}, but the value is a `{type_name}`"),
                "pattern of the wrong type",
            )
        };
        match (&pattern.kind, ty) {
            (ast::PatternKind::Wildcard, _) => Ok(ir::Pattern::Wildcard),
            (ast::PatternKind::None, Type::Option(_)) => Ok(ir::Pattern::None),
            (ast::PatternKind::Some(binding), Type::Option(inner)) => {
                if let Some(b) = binding {
                    self.check_binding_is_not_a_variant(b, inner)?;
                }
                Ok(ir::Pattern::Some(binding.as_ref().map(|b| body.bind(&b.name, (**inner).clone()))))
            }
            (ast::PatternKind::None | ast::PatternKind::Some(_), _) => Err(mismatch(self, "an `Option`")),
            (ast::PatternKind::Bool(b), Type::Bool) => Ok(ir::Pattern::Bool(*b)),
            (ast::PatternKind::Bool(_), _) => Err(mismatch(self, "a `bool`")),
            (ast::PatternKind::Variant(qualifier, name), Type::Phase) => {
                if let Some(q) = qualifier {
                    if q.name != "Phase" {
                        return Err(mismatch(self, &format!("a `{}`", q.name)));
                    }
                }
                match self.phases.get(&name.name) {
                    Some(id) => Ok(ir::Pattern::Phase(id)),
                    None => {
                        let suggestion = suggest(&name.name, self.phases.names());
                        let d = Diagnostic::new(
                            Code::UnknownPhase,
                            self.source,
                            format!("no phase named `{}`", name.name),
                            Label::new(name.span, "unknown phase"),
                        );
                        self.diags.push(with_suggestion(d, suggestion, None));
                        Err(Reported)
                    }
                }
            }
            (ast::PatternKind::Variant(qualifier, name), Type::Named(tid)) => {
                let decl = self.m.types[tid.index()].clone();
                let TypeKind::Enum { variants } = &decl.kind else {
                    return Err(mismatch(self, "an enum variant"));
                };
                if let Some(q) = qualifier {
                    if q.name != decl.name {
                        return Err(mismatch(self, &format!("a `{}`", q.name)));
                    }
                }
                match variants.iter().position(|v| v.name == name.name) {
                    Some(index) => Ok(ir::Pattern::Variant(*tid, index as u32)),
                    None => {
                        let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                        let suggestion = suggest(&name.name, names.iter().copied());
                        let d = Diagnostic::new(
                            Code::UnknownVariant,
                            self.source,
                            format!("enum `{}` has no variant `{}`", decl.name, name.name),
                            Label::new(name.span, "unknown variant"),
                        );
                        self.diags.push(with_suggestion(
                            d,
                            suggestion,
                            Some(format!("its variants are: {}", names.join(", "))),
                        ));
                        Err(Reported)
                    }
                }
            }
            (ast::PatternKind::Variant(..), _) => Err(mismatch(self, "an enum variant")),
        }
    }

    /// `Some(Retired)` binds a new name `Retired`; it does not test for the phase `Retired`. A binding named
    /// after a variant or phase of the value's type is almost always that mistake, so it is an error (E0214).
    pub(crate) fn check_binding_is_not_a_variant(&mut self, binding: &ast::Ident, inner: &Type) -> Checked<()> {
        let what = match inner {
            Type::Phase if self.phases.get(&binding.name).is_some() => format!("the phase `{}`", binding.name),
            Type::Named(tid) => match &self.m.types[tid.index()].kind {
                TypeKind::Enum { variants } if variants.iter().any(|v| v.name == binding.name) => {
                    format!("`{}::{}`", self.m.types[tid.index()].name, binding.name)
                }
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        let name = &binding.name;
        self.diags.push(
            Diagnostic::new(
                Code::BindingShadowsVariant,
                self.source,
                format!("`Some({name})` binds a new name `{name}`; it does not match {what}"),
                Label::new(binding.span, "binds a new name"),
            )
            .with_help(format!(
                "to test for it, compare the whole value: `value == Some({name})`; to bind the inner value, \
                 choose another name: `Some(inner)`"
            )),
        );
        Err(Reported)
    }
}
