//! Names and paths: what a bare name means where it stands (a local, a parameter, a payload field, `source`, the
//! phase, a state field, a guard, or from the expected type a variant or phase), qualified paths (`Lamp::Red`,
//! `Phase::Idle`), and projections (`x.field`, `x.0`, `self.x`).

use crate::ast::{self, ExprKind as A};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, ExprKind as K, Projection, Type, TypeKind};
use crate::span::Span;

use super::body::{Body, Checked, Ctx, Node, Reported};
use super::expr::expr;
use super::machine::{MachineChecker, Value};
use super::names::{suggest, with_suggestion};

impl MachineChecker<'_> {
    /// Resolves a bare name: locals, parameters, payload fields, `source`, the phase field, state fields,
    /// guards, then (from the expected type or uniquely) enum variants and phases.
    pub(crate) fn resolve_name(
        &mut self,
        body: &mut Body,
        ident: &ast::Ident,
        expected: Option<&Type>,
    ) -> Checked<ir::Expr> {
        let name = ident.name.as_str();
        let span = ident.span;
        if let Some(local) = body.lookup(name) {
            let ty = body.locals[local.index()].ty.clone();
            return Ok(expr(K::Local(local), ty, span));
        }
        if let Ctx::Helper(id) = body.ctx {
            if let Some(index) = self.m.helpers[id.index()].params.iter().position(|(p, _)| p == name) {
                let ty = self.m.helpers[id.index()].params[index].1.clone();
                return Ok(expr(K::Param(index as u32), ty, span));
            }
        }
        if let Ctx::Transition(trigger) = body.ctx {
            let message = self.m.trigger(trigger);
            if let Some(index) = message.fields.iter().position(|f| f.name == name) {
                let ty = message.fields[index].ty.clone();
                return Ok(expr(K::Payload(index as u32), ty, span));
            }
        }
        match self.values.get(name) {
            Some(Value::Phase) => {
                if body.ctx == Ctx::Const {
                    return Err(self.not_constant(span, "the phase"));
                }
                return Ok(expr(K::Phase, Type::Phase, span));
            }
            Some(Value::Field(id)) => {
                if body.ctx == Ctx::Const {
                    return Err(self.not_constant(span, "state fields"));
                }
                let ty = self.m.fields[id.index()].ty.clone();
                return Ok(expr(K::Field(id), ty, span));
            }
            Some(Value::Guard(id)) => {
                if body.ctx == Ctx::Const {
                    return Err(self.not_constant(span, "guards"));
                }
                self.calls.push((body.node, Node::Guard(id), span));
                return Ok(expr(K::Guard(id), Type::Bool, span));
            }
            None => {}
        }
        if name == "source" && matches!(body.ctx, Ctx::Transition(_)) {
            return Ok(expr(K::Source, Type::Phase, span));
        }
        // A bare variant, typed by the expected type.
        match expected {
            Some(Type::Phase) => {
                if let Some(id) = self.phases.get(name) {
                    return Ok(expr(K::PhaseLit(id), Type::Phase, span));
                }
            }
            Some(Type::Named(tid)) => {
                if let TypeKind::Enum { variants } = &self.m.types[tid.index()].kind {
                    if let Some(index) = variants.iter().position(|v| v.name == name) {
                        return Ok(expr(K::Variant(*tid, index as u32), Type::Named(*tid), span));
                    }
                }
            }
            // A bare variant where an `Option` of its enum is expected: the name exists, the value needs `Some`.
            Some(option @ Type::Option(inner)) => {
                let owner = match inner.as_ref() {
                    Type::Phase => self.phases.get(name).map(|_| "Phase".to_string()),
                    Type::Named(tid) => match &self.m.types[tid.index()].kind {
                        TypeKind::Enum { variants } if variants.iter().any(|v| v.name == name) => {
                            Some(self.m.types[tid.index()].name.clone())
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(owner) = owner {
                    let wanted = self.m.type_name(option);
                    return Err(self.error_help(
                        Code::TypeMismatch,
                        span,
                        format!("`{name}` is `{owner}::{name}`, a `{owner}`, but `{wanted}` is expected here"),
                        format!("expected `{wanted}`"),
                        format!("wrap the value: `Some({owner}::{name})`"),
                    ));
                }
            }
            _ => {}
        }
        // With no expected type, a name that is a variant of exactly one enum (or a phase) is that variant.
        if expected.is_none() {
            let mut found: Vec<ir::Expr> = Vec::new();
            if let Some(id) = self.phases.get(name) {
                found.push(expr(K::PhaseLit(id), Type::Phase, span));
            }
            for (index, decl) in self.m.types.iter().enumerate() {
                if let TypeKind::Enum { variants } = &decl.kind {
                    if let Some(v) = variants.iter().position(|v| v.name == name) {
                        let tid = ir::TypeId(index as u32);
                        found.push(expr(K::Variant(tid, v as u32), Type::Named(tid), span));
                    }
                }
            }
            if found.len() == 1 {
                return Ok(found.remove(0));
            }
            if found.len() > 1 {
                let owners: Vec<String> =
                    found.iter().map(|e| format!("`{}::{name}`", self.m.type_name(&e.ty))).collect();
                return Err(self.error_help(
                    Code::UnknownName,
                    span,
                    format!("`{name}` is a variant of several enums"),
                    "ambiguous",
                    format!("qualify it: {}", owners.join(" or ")),
                ));
            }
        }
        Err(self.unknown_name(body, ident, expected))
    }

    pub(crate) fn unknown_name(&mut self, body: &Body, ident: &ast::Ident, expected: Option<&Type>) -> Reported {
        let name = ident.name.as_str();
        let mut candidates: Vec<String> = body.visible_names();
        match body.ctx {
            Ctx::Helper(id) => candidates.extend(self.m.helpers[id.index()].params.iter().map(|(p, _)| p.clone())),
            Ctx::Transition(trigger) => {
                candidates.extend(self.m.trigger(trigger).fields.iter().map(|f| f.name.clone()));
                candidates.push("source".into());
            }
            _ => {}
        }
        if body.ctx != Ctx::Const {
            candidates.extend(self.values.names().map(str::to_string));
        }
        match expected {
            Some(Type::Phase) => candidates.extend(self.phases.names().map(str::to_string)),
            Some(Type::Named(tid)) => {
                if let TypeKind::Enum { variants } = &self.m.types[tid.index()].kind {
                    candidates.extend(variants.iter().map(|v| v.name.clone()));
                }
            }
            _ => {}
        }
        let mut suggestion = suggest(name, candidates.iter().map(String::as_str));
        let fallback = if self.helpers.contains(name) {
            Some(format!("`{name}` is a helper: call it with `{name}(...)`"))
        } else if body.ctx == Ctx::Machine && self.is_payload_field(name) {
            Some(format!(
                "`{name}` is a payload field, and only transitions read payloads: named guards, invariants and \
                 effect defaults see the state alone"
            ))
        } else if matches!(body.ctx, Ctx::Helper(_)) && self.is_payload_field(name) {
            Some(format!(
                "`{name}` is a payload field; a helper reads its parameters and the state: pass it as an argument"
            ))
        } else if let Some(tid) = self.types.get(name) {
            let example = match &self.m.types[tid.index()].kind {
                TypeKind::Enum { variants } => variants.first().map_or("Variant".to_string(), |v| v.name.clone()),
                _ => "...".to_string(),
            };
            Some(format!(
                "`{name}` is a type, not a value (a value of it is written `{name}::{example}`), and there is no \
                 quantifying over a type: `match` on a value, or keep the values in a `Set<{name}>` and use \
                 `.all(..)` or `.any(..)` on it"
            ))
        } else if body.ctx == Ctx::Const && self.values.contains(name) {
            Some("initial values cannot read state".to_string())
        } else {
            None
        };
        if fallback.is_some() {
            // The name exists, just not here: saying so beats a "did you mean" for some other, similar name.
            suggestion = None;
        }
        let d = Diagnostic::new(
            Code::UnknownName,
            self.source,
            format!("cannot find `{name}` in this scope"),
            Label::new(ident.span, "not found"),
        );
        self.diags.push(with_suggestion(d, suggestion, fallback));
        Reported
    }

    /// Whether some input or signal has a payload field of this name.
    pub(crate) fn is_payload_field(&self, name: &str) -> bool {
        self.m.inputs.iter().chain(&self.m.signals).any(|m| m.fields.iter().any(|f| f.name == name))
    }

    pub(crate) fn resolve_path(&mut self, ty: &ast::Ident, variant: &ast::Ident, span: Span) -> Checked<ir::Expr> {
        if ty.name == "Phase" {
            return match self.phases.get(&variant.name) {
                Some(id) => Ok(expr(K::PhaseLit(id), Type::Phase, span)),
                None => {
                    let suggestion = suggest(&variant.name, self.phases.names());
                    let d = Diagnostic::new(
                        Code::UnknownPhase,
                        self.source,
                        format!("no phase named `{}`", variant.name),
                        Label::new(variant.span, "unknown phase"),
                    );
                    self.diags.push(with_suggestion(d, suggestion, None));
                    Err(Reported)
                }
            };
        }
        let Some(tid) = self.types.get(&ty.name) else {
            let suggestion = suggest(&ty.name, self.types.names().chain(["Phase"]));
            let d = Diagnostic::new(
                Code::UnknownType,
                self.source,
                format!("unknown type `{}`", ty.name),
                Label::new(ty.span, "not a declared enum"),
            );
            self.diags.push(with_suggestion(d, suggestion, None));
            return Err(Reported);
        };
        let decl = &self.m.types[tid.index()];
        let TypeKind::Enum { variants } = &decl.kind else {
            let name = decl.name.clone();
            return Err(self.error(
                Code::UnknownVariant,
                ty.span,
                format!("`{name}` is not an enum, so it has no variants"),
                "not an enum",
            ));
        };
        match variants.iter().position(|v| v.name == variant.name) {
            Some(index) => Ok(expr(K::Variant(tid, index as u32), Type::Named(tid), span)),
            None => {
                let names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
                let suggestion = suggest(&variant.name, names.iter().map(String::as_str));
                let d = Diagnostic::new(
                    Code::UnknownVariant,
                    self.source,
                    format!("enum `{}` has no variant `{}`", ty.name, variant.name),
                    Label::new(variant.span, "unknown variant"),
                );
                let fallback = Some(format!("its variants are: {}", names.join(", ")));
                self.diags.push(with_suggestion(d, suggestion, fallback));
                Err(Reported)
            }
        }
    }

    pub(crate) fn check_field(
        &mut self,
        body: &mut Body,
        base: &ast::Expr,
        field: &ast::Ident,
        span: Span,
    ) -> Checked<ir::Expr> {
        // `self.x` names the state field `x` even where a payload field or local shadows it.
        if let A::Name(base_name) = &base.kind {
            if base_name.name == "self" && body.lookup("self").is_none() {
                if body.ctx == Ctx::Const {
                    return Err(self.not_constant(span, "state fields"));
                }
                return match self.values.get(&field.name) {
                    Some(Value::Field(id)) => {
                        let ty = self.m.fields[id.index()].ty.clone();
                        Ok(expr(K::Field(id), ty, span))
                    }
                    Some(Value::Phase) => Ok(expr(K::Phase, Type::Phase, span)),
                    _ => {
                        let names: Vec<String> = self.m.fields.iter().map(|f| f.name.clone()).collect();
                        let suggestion = suggest(&field.name, names.iter().map(String::as_str));
                        let d = Diagnostic::new(
                            Code::UnknownField,
                            self.source,
                            format!("the state has no field `{}`", field.name),
                            Label::new(field.span, "unknown state field"),
                        );
                        self.diags.push(with_suggestion(d, suggestion, None));
                        Err(Reported)
                    }
                };
            }
        }
        let value = self.check_expr(body, base, None)?;
        let projection = self.projection(&value.ty, field)?;
        let ty = self.projected_type(&value.ty, projection);
        Ok(expr(K::Project(Box::new(value), projection), ty, span))
    }

    /// Resolves `.field` / `.0` on a value of type `ty`.
    pub(crate) fn projection(&mut self, ty: &Type, field: &ast::Ident) -> Checked<Projection> {
        if let Type::Named(tid) = ty {
            match &self.m.types[tid.index()].kind {
                TypeKind::Record { fields } => {
                    if let Some(index) = fields.iter().position(|f| f.name == field.name) {
                        return Ok(Projection::RecordField(index as u32));
                    }
                    let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
                    let record = self.m.types[tid.index()].name.clone();
                    let suggestion = suggest(&field.name, names.iter().map(String::as_str));
                    let d = Diagnostic::new(
                        Code::UnknownField,
                        self.source,
                        format!("record `{record}` has no field `{}`", field.name),
                        Label::new(field.span, "unknown field"),
                    );
                    self.diags.push(with_suggestion(
                        d,
                        suggestion,
                        Some(format!("its fields are: {}", names.join(", "))),
                    ));
                    return Err(Reported);
                }
                TypeKind::Newtype { .. } if field.name == "0" => return Ok(Projection::NewtypeInner),
                _ => {}
            }
        }
        let name = self.m.type_name(ty);
        let help = match ty {
            Type::Option(_) => "the value may be absent: bind it first with `if let Some(x) = ...`".to_string(),
            Type::Named(_) => "only records have named fields; a newtype's value is `.0`".to_string(),
            _ => format!("a `{name}` has no fields"),
        };
        Err(self.error_help(
            Code::UnknownField,
            field.span,
            format!("no field `{}` on a value of type `{name}`", field.name),
            "unknown field",
            help,
        ))
    }

    /// The type reached by a projection that [`Self::projection`] accepted.
    pub(crate) fn projected_type(&self, ty: &Type, projection: Projection) -> Type {
        match (ty, projection) {
            (Type::Named(tid), Projection::RecordField(i)) => match &self.m.types[tid.index()].kind {
                TypeKind::Record { fields } => fields.get(i as usize).map_or(Type::Bool, |f| f.ty.clone()),
                _ => Type::Bool,
            },
            (Type::Named(tid), Projection::NewtypeInner) => match &self.m.types[tid.index()].kind {
                TypeKind::Newtype { inner } => inner.clone(),
                _ => Type::Bool,
            },
            _ => Type::Bool,
        }
    }
}
