//! Expression checking: name resolution and bidirectional type checking of expressions into typed IR.
//!
//! `check_expr` takes the type the position expects, when known, and uses it to type literals that cannot
//! type themselves (`None`, `[]`, `[:]`) and to resolve bare enum variants (`phase == Idle`). Each error is
//! reported once where it arises and then travels up as [`Reported`], so one mistake never causes a cascade.

use crate::ast::{self, Arg, BinOp, ExprKind as A};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, Builtin, ExprKind as K, HelperId, LocalId, Projection, Quantifier, Trigger, Type, TypeKind};
use crate::span::Span;

use super::declare::{MachineChecker, Node, Value};
use super::names::{suggest, with_suggestion};

/// An error was reported; the caller should give up on the enclosing expression without reporting more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reported;

/// The result of checking something that may already have been reported as wrong.
pub(crate) type Checked<T> = Result<T, Reported>;

/// What an expression may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Initial values and model domains: literals and constructors only.
    Const,
    /// Guards, invariants and effect defaults: state fields, the phase, guards and helpers.
    Machine,
    /// A helper body: its parameters plus everything `Machine` allows.
    Helper(HelperId),
    /// A transition: its trigger's payload fields and `source`, plus everything `Machine` allows.
    Transition(Trigger),
}

/// The locals of one body and the lexical scopes that make them visible.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) ctx: Ctx,
    pub(crate) node: Node,
    pub(crate) locals: Vec<ir::Local>,
    scopes: Vec<Vec<(String, LocalId)>>,
}

impl Body {
    pub(crate) fn new(ctx: Ctx, node: Node) -> Self {
        Body { ctx, node, locals: Vec::new(), scopes: vec![Vec::new()] }
    }

    pub(crate) fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    pub(crate) fn pop_scope(&mut self) {
        self.scopes.pop();
        if self.scopes.is_empty() {
            self.scopes.push(Vec::new());
        }
    }

    /// Binds a new local in the innermost scope.
    pub(crate) fn bind(&mut self, name: &str, ty: Type) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(ir::Local { name: name.to_string(), ty });
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), id));
        }
        id
    }

    /// The innermost visible local of that name.
    pub(crate) fn lookup(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    fn visible_names(&self) -> Vec<String> {
        self.scopes.iter().flatten().map(|(n, _)| n.clone()).collect()
    }
}

fn expr(kind: K, ty: Type, span: Span) -> ir::Expr {
    ir::Expr { kind, ty, span }
}

impl MachineChecker<'_> {
    /// Checks an expression against the type its position expects, if any.
    pub(crate) fn check_expr(&mut self, body: &mut Body, e: &ast::Expr, expected: Option<&Type>) -> Checked<ir::Expr> {
        let typed = self.synth(body, e, expected)?;
        if let Some(want) = expected {
            if &typed.ty != want {
                self.mismatch(want, &typed.ty, e.span);
                return Err(Reported);
            }
        }
        Ok(typed)
    }

    /// Reports that an expression of type `found` stands where `want` is required.
    pub(crate) fn mismatch(&mut self, want: &Type, found: &Type, span: Span) {
        let want_name = self.m.type_name(want);
        let found_name = self.m.type_name(found);
        let mut d = Diagnostic::new(
            Code::TypeMismatch,
            self.source,
            format!("expected `{want_name}`, found `{found_name}`"),
            Label::new(span, format!("this has type `{found_name}`")),
        );
        d = match (want, found) {
            (Type::Option(inner), f) if **inner == *f => d.with_help("wrap the value: `Some(...)`"),
            (w, Type::Option(inner)) if **inner == *w => {
                d.with_help("the value may be absent: use `.unwrap_or(default)` or `if let Some(x) = ...`")
            }
            (Type::Named(id), f) if matches!(&self.m.types[id.index()].kind, TypeKind::Newtype { inner } if inner == f) => {
                d.with_help(format!("wrap the value: `{}(...)`", self.m.types[id.index()].name))
            }
            (w, Type::Named(id)) if matches!(&self.m.types[id.index()].kind, TypeKind::Newtype { inner } if inner == w) => {
                d.with_help("unwrap the newtype with `.0`")
            }
            _ => d,
        };
        self.diags.push(d);
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>, label: impl Into<String>) -> Reported {
        self.diags.push(Diagnostic::new(code, self.source, message, Label::new(span, label)));
        Reported
    }

    fn error_help(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Reported {
        self.diags.push(Diagnostic::new(code, self.source, message, Label::new(span, label)).with_help(help));
        Reported
    }

    /// Reports a read that a constant context does not allow.
    fn not_constant(&mut self, span: Span, what: &str) -> Reported {
        self.error_help(
            Code::NotConstant,
            span,
            format!("initial values and model domains cannot read {what}"),
            "not a constant",
            "use literals and constructors only: numbers, strings, `None`, `Some(..)`, enum variants, records, newtypes and collection literals",
        )
    }

    fn synth(&mut self, body: &mut Body, e: &ast::Expr, expected: Option<&Type>) -> Checked<ir::Expr> {
        let span = e.span;
        match &e.kind {
            A::Bool(b) => Ok(expr(K::Bool(*b), Type::Bool, span)),
            A::Int(n) => Ok(expr(K::U64(*n), Type::U64, span)),
            A::Str(s) => Ok(expr(K::Str(s.clone()), Type::String, span)),
            A::None => match expected {
                Some(ty @ Type::Option(_)) => Ok(expr(K::None, ty.clone(), span)),
                Some(other) => {
                    let name = self.m.type_name(other);
                    Err(self.error(
                        Code::TypeMismatch,
                        span,
                        format!("expected `{name}`, found `None`"),
                        format!("`None` is an Option, not a `{name}`"),
                    ))
                }
                None => Err(self.error_help(
                    Code::CannotInfer,
                    span,
                    "cannot tell which `Option` this `None` is",
                    "type unknown here",
                    "compare with `.is_none()` instead, or give the position a type",
                )),
            },
            A::Some(inner) => {
                let inner_expected = match expected {
                    Some(Type::Option(t)) => Some(&**t),
                    _ => None,
                };
                let value = self.check_expr(body, inner, inner_expected)?;
                let ty = Type::Option(Box::new(value.ty.clone()));
                Ok(expr(K::Some(Box::new(value)), ty, span))
            }
            A::Name(ident) => self.resolve_name(body, ident, expected),
            A::Path(ty, variant) => self.resolve_path(ty, variant, span),
            A::Call(name, args) => self.check_call(body, name, args, span),
            A::Record(name, fields) => self.check_record(body, name, fields, span),
            A::Bracket { items, empty_map } => self.check_bracket(body, items, *empty_map, expected, span),
            A::Not(inner) => {
                let value = self.check_expr(body, inner, Some(&Type::Bool))?;
                Ok(expr(K::Not(Box::new(value)), Type::Bool, span))
            }
            A::Binary { op, op_span, lhs, rhs } => self.check_binary(body, *op, *op_span, lhs, rhs, span),
            A::Field(base, field) => self.check_field(body, base, field, span),
            A::Method { recv, method, args } => self.check_method(body, recv, method, args, span),
            A::If { cond, then, else_ } => {
                body.push_scope();
                let result = self.check_if_expr(body, cond, then, else_, expected, span);
                body.pop_scope();
                result
            }
            A::Match { scrutinee, arms } => self.check_match(body, scrutinee, arms, expected, span),
            A::Paren(inner) => {
                let mut value = self.synth(body, inner, expected)?;
                value.span = span;
                Ok(value)
            }
        }
    }

    /// Resolves a bare name: locals, parameters, payload fields, `source`, the phase field, state fields,
    /// guards, then (from the expected type or uniquely) enum variants and phases.
    fn resolve_name(&mut self, body: &mut Body, ident: &ast::Ident, expected: Option<&Type>) -> Checked<ir::Expr> {
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

    fn unknown_name(&mut self, body: &Body, ident: &ast::Ident, expected: Option<&Type>) -> Reported {
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
    fn is_payload_field(&self, name: &str) -> bool {
        self.m.inputs.iter().chain(&self.m.signals).any(|m| m.fields.iter().any(|f| f.name == name))
    }

    fn resolve_path(&mut self, ty: &ast::Ident, variant: &ast::Ident, span: Span) -> Checked<ir::Expr> {
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

    fn check_call(&mut self, body: &mut Body, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Checked<ir::Expr> {
        if let Some(id) = self.helpers.get(&name.name) {
            if body.ctx == Ctx::Const {
                return Err(self.not_constant(name.span, "helpers"));
            }
            self.calls.push((body.node, Node::Helper(id), name.span));
            let Some(Some((params, ret))) = self.helper_sigs.get(id.index()).cloned() else {
                return Err(Reported);
            };
            if params.len() != args.len() {
                return Err(self.arity(name, params.len(), args.len(), span));
            }
            let mut values = Vec::new();
            let mut failed = false;
            for (arg, param) in args.iter().zip(&params) {
                match self.check_expr(body, arg, Some(param)) {
                    Ok(v) => values.push(v),
                    Err(_) => failed = true,
                }
            }
            if failed {
                return Err(Reported);
            }
            return Ok(expr(K::Call(id, values), ret, span));
        }
        if let Some(tid) = self.types.get(&name.name) {
            match self.m.types[tid.index()].kind.clone() {
                TypeKind::Newtype { inner } => {
                    if args.len() != 1 {
                        return Err(self.arity(name, 1, args.len(), span));
                    }
                    let value = self.check_expr(body, &args[0], Some(&inner))?;
                    return Ok(expr(K::Newtype(tid, Box::new(value)), Type::Named(tid), span));
                }
                TypeKind::Record { .. } => {
                    return Err(self.error_help(
                        Code::TypeMismatch,
                        name.span,
                        format!("`{}` is a record, built with braces", name.name),
                        "not a function",
                        format!("write `{} {{ field: value, ... }}`", name.name),
                    ));
                }
                TypeKind::Enum { .. } => {
                    return Err(self.error_help(
                        Code::TypeMismatch,
                        name.span,
                        format!("`{}` is an enum, not a function", name.name),
                        "not a function",
                        format!("name a variant: `{}::Variant`", name.name),
                    ));
                }
            }
        }
        let candidates: Vec<String> = self
            .helpers
            .names()
            .map(str::to_string)
            .chain(self.m.types.iter().filter(|t| matches!(t.kind, TypeKind::Newtype { .. })).map(|t| t.name.clone()))
            .collect();
        let suggestion = suggest(&name.name, candidates.iter().map(String::as_str));
        let d = Diagnostic::new(
            Code::UnknownName,
            self.source,
            format!("cannot find helper `{}`", name.name),
            Label::new(name.span, "not a helper or newtype"),
        );
        let fallback = Some(format!("declare it: `fn {}(...) -> T {{ ... }}`", name.name));
        self.diags.push(with_suggestion(d, suggestion, fallback));
        Err(Reported)
    }

    fn arity(&mut self, name: &ast::Ident, want: usize, got: usize, span: Span) -> Reported {
        let plural = if want == 1 { "" } else { "s" };
        self.error(
            Code::ArgumentCount,
            span,
            format!("`{}` takes {want} argument{plural} but {got} were given", name.name),
            format!("expected {want} argument{plural}"),
        )
    }

    fn check_record(
        &mut self,
        body: &mut Body,
        name: &ast::Ident,
        fields: &[(ast::Ident, ast::Expr)],
        span: Span,
    ) -> Checked<ir::Expr> {
        let Some(tid) = self.types.get(&name.name) else {
            let suggestion = suggest(&name.name, self.types.names());
            let d = Diagnostic::new(
                Code::UnknownType,
                self.source,
                format!("unknown record `{}`", name.name),
                Label::new(name.span, "not a declared record"),
            );
            self.diags.push(with_suggestion(d, suggestion, None));
            return Err(Reported);
        };
        let TypeKind::Record { fields: decl_fields } = self.m.types[tid.index()].kind.clone() else {
            return Err(self.error(
                Code::TypeMismatch,
                name.span,
                format!("`{}` is not a record", name.name),
                "not a record",
            ));
        };
        let mut values: Vec<Option<ir::Expr>> = vec![None; decl_fields.len()];
        let mut written: Vec<Option<Span>> = vec![None; decl_fields.len()];
        let mut failed = false;
        for (field, value) in fields {
            let Some(index) = decl_fields.iter().position(|f| f.name == field.name) else {
                let names: Vec<&str> = decl_fields.iter().map(|f| f.name.as_str()).collect();
                let suggestion = suggest(&field.name, names.iter().copied());
                let d = Diagnostic::new(
                    Code::UnknownField,
                    self.source,
                    format!("record `{}` has no field `{}`", name.name, field.name),
                    Label::new(field.span, "unknown field"),
                );
                self.diags.push(with_suggestion(d, suggestion, Some(format!("its fields are: {}", names.join(", ")))));
                failed = true;
                continue;
            };
            if let Some(first) = written[index] {
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        self.source,
                        format!("field `{}` is given twice", field.name),
                        Label::new(field.span, "given again here"),
                    )
                    .with_label(first, "first given here"),
                );
                failed = true;
                continue;
            }
            written[index] = Some(field.span);
            match self.check_expr(body, value, Some(&decl_fields[index].ty)) {
                Ok(v) => values[index] = Some(v),
                Err(_) => failed = true,
            }
        }
        let missing: Vec<&str> =
            decl_fields.iter().zip(&written).filter(|(_, w)| w.is_none()).map(|(f, _)| f.name.as_str()).collect();
        if !missing.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Code::MissingField,
                    self.source,
                    format!("missing field{} {} in `{}`", plural(missing.len()), quoted(&missing), name.name),
                    Label::new(span, "not every field has a value"),
                )
                .with_help(format!(
                    "add {}",
                    missing.iter().map(|m| format!("`{m}: ...`")).collect::<Vec<_>>().join(", ")
                )),
            );
            return Err(Reported);
        }
        if failed {
            return Err(Reported);
        }
        let values = values.into_iter().flatten().collect();
        Ok(expr(K::Record(tid, values), Type::Named(tid), span))
    }

    fn check_bracket(
        &mut self,
        body: &mut Body,
        items: &[(ast::Expr, Option<ast::Expr>)],
        empty_map: bool,
        expected: Option<&Type>,
        span: Span,
    ) -> Checked<ir::Expr> {
        let is_map = empty_map || items.first().is_some_and(|(_, v)| v.is_some());
        if items.iter().any(|(_, v)| v.is_some() != is_map) {
            return Err(self.error_help(
                Code::TypeMismatch,
                span,
                "a collection literal mixes map entries and plain values",
                "mixed literal",
                "write every item as `key: value` for a Map, or none of them for a Seq or Set",
            ));
        }
        if is_map {
            let (key_hint, value_hint) = match expected {
                Some(Type::Map(k, v)) => (Some((**k).clone()), Some((**v).clone())),
                Some(other) if !empty_map || !matches!(other, Type::Map(..)) => {
                    let name = self.m.type_name(other);
                    return Err(self.error(
                        Code::TypeMismatch,
                        span,
                        format!("expected `{name}`, found a map literal"),
                        "this is a `Map`",
                    ));
                }
                _ => (None, None),
            };
            if items.is_empty() {
                return match (key_hint, value_hint) {
                    (Some(k), Some(v)) => Ok(expr(K::MapLit(Vec::new()), Type::Map(Box::new(k), Box::new(v)), span)),
                    _ => Err(self.error_help(
                        Code::CannotInfer,
                        span,
                        "cannot tell the key and value types of this empty map",
                        "type unknown here",
                        "use it where a `Map<K, V>` is expected (an assignment or a typed `let`)",
                    )),
                };
            }
            let mut key_ty = key_hint;
            let mut value_ty = value_hint;
            let mut entries = Vec::new();
            let mut failed = false;
            for (key, value) in items {
                let Some(value) = value else { continue };
                match (self.check_expr(body, key, key_ty.as_ref()), self.check_expr(body, value, value_ty.as_ref())) {
                    (Ok(k), Ok(v)) => {
                        key_ty.get_or_insert_with(|| k.ty.clone());
                        value_ty.get_or_insert_with(|| v.ty.clone());
                        entries.push((k, v));
                    }
                    _ => failed = true,
                }
            }
            if failed {
                return Err(Reported);
            }
            let (Some(k), Some(v)) = (key_ty, value_ty) else { return Err(Reported) };
            return Ok(expr(K::MapLit(entries), Type::Map(Box::new(k), Box::new(v)), span));
        }
        let (is_set, element_hint) = match expected {
            Some(Type::Set(t)) => (true, Some((**t).clone())),
            Some(Type::Seq(t)) => (false, Some((**t).clone())),
            Some(other) => {
                let name = self.m.type_name(other);
                return Err(self.error(
                    Code::TypeMismatch,
                    span,
                    format!("expected `{name}`, found a collection literal"),
                    "this is a `Seq` or `Set`",
                ));
            }
            None => (false, None),
        };
        let mut element = element_hint;
        let mut values = Vec::new();
        let mut failed = false;
        for (item, _) in items {
            match self.check_expr(body, item, element.as_ref()) {
                Ok(v) => {
                    element.get_or_insert_with(|| v.ty.clone());
                    values.push(v);
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(Reported);
        }
        let Some(element) = element else {
            return Err(self.error_help(
                Code::CannotInfer,
                span,
                "cannot tell the element type of this empty collection",
                "type unknown here",
                "use it where a `Seq<T>` or `Set<T>` is expected, or check emptiness with `.is_empty()`",
            ));
        };
        if is_set {
            Ok(expr(K::SetLit(values), Type::Set(Box::new(element)), span))
        } else {
            Ok(expr(K::SeqLit(values), Type::Seq(Box::new(element)), span))
        }
    }

    /// Whether an expression needs the other operand's type to be typed (`None`, `[]`, a bare variant name).
    fn needs_context(&self, body: &Body, e: &ast::Expr) -> bool {
        match &e.kind {
            A::None => true,
            A::Bracket { items, .. } => items.is_empty(),
            A::Paren(inner) => self.needs_context(body, inner),
            A::Name(ident) => {
                let name = ident.name.as_str();
                let bound = body.lookup(name).is_some()
                    || self.values.contains(name)
                    || match body.ctx {
                        Ctx::Helper(id) => self.m.helpers[id.index()].params.iter().any(|(p, _)| p == name),
                        Ctx::Transition(t) => {
                            self.m.trigger(t).fields.iter().any(|f| f.name == name) || name == "source"
                        }
                        _ => false,
                    };
                !bound
            }
            _ => false,
        }
    }

    fn check_binary(
        &mut self,
        body: &mut Body,
        op: BinOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> Checked<ir::Expr> {
        match op {
            BinOp::And | BinOp::Or => {
                let l = self.check_expr(body, lhs, Some(&Type::Bool));
                let r = self.check_expr(body, rhs, Some(&Type::Bool));
                let (l, r) = (l?, r?);
                Ok(expr(K::Binary(op, Box::new(l), Box::new(r)), Type::Bool, span))
            }
            BinOp::Eq | BinOp::Ne => {
                let (l, r) = if self.needs_context(body, lhs) && !self.needs_context(body, rhs) {
                    let r = self.check_expr(body, rhs, None)?;
                    let l = self.check_expr(body, lhs, Some(&r.ty))?;
                    (l, r)
                } else {
                    let l = self.check_expr(body, lhs, None)?;
                    let r = self.check_expr(body, rhs, Some(&l.ty))?;
                    (l, r)
                };
                Ok(expr(K::Binary(op, Box::new(l), Box::new(r)), Type::Bool, span))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (l, r) = (self.arith_operand(body, op, op_span, lhs), self.arith_operand(body, op, op_span, rhs));
                let (l, r) = (l?, r?);
                Ok(expr(K::Binary(op, Box::new(l), Box::new(r)), Type::Bool, span))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let (l, r) = (self.arith_operand(body, op, op_span, lhs), self.arith_operand(body, op, op_span, rhs));
                let (l, r) = (l?, r?);
                Ok(expr(K::Binary(op, Box::new(l), Box::new(r)), Type::U64, span))
            }
        }
    }

    fn arith_operand(&mut self, body: &mut Body, op: BinOp, op_span: Span, e: &ast::Expr) -> Checked<ir::Expr> {
        let value = self.check_expr(body, e, None)?;
        if value.ty != Type::U64 {
            let found = self.m.type_name(&value.ty);
            let what =
                if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) { "compares" } else { "works on" };
            self.diags.push(
                Diagnostic::new(
                    Code::InvalidOperand,
                    self.source,
                    format!("`{}` {what} `u64` values, found `{found}`", op.as_str()),
                    Label::new(e.span, format!("this has type `{found}`")),
                )
                .with_label(op_span, "operator"),
            );
            return Err(Reported);
        }
        Ok(value)
    }

    fn check_field(&mut self, body: &mut Body, base: &ast::Expr, field: &ast::Ident, span: Span) -> Checked<ir::Expr> {
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

    fn check_method(
        &mut self,
        body: &mut Body,
        recv: &ast::Expr,
        method: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> Checked<ir::Expr> {
        let receiver = self.check_expr(body, recv, None)?;
        let name = method.name.as_str();
        let quantifier = match name {
            "all" => Some(Quantifier::All),
            "any" => Some(Quantifier::Any),
            "count" => Some(Quantifier::Count),
            _ => None,
        };
        if let Some(kind) = quantifier {
            let params: Vec<Type> = match &receiver.ty {
                Type::Set(t) | Type::Seq(t) => vec![(**t).clone()],
                Type::Map(k, v) => vec![(**k).clone(), (**v).clone()],
                _ => return Err(self.unknown_method(&receiver.ty, method)),
            };
            let [Arg::Closure { params: names, body: closure_body, span: closure_span }] = args else {
                let shape = if params.len() == 2 { "|key, value| ..." } else { "|x| ..." };
                return Err(self.error_help(
                    Code::ArgumentCount,
                    span,
                    format!("`{name}` takes one closure argument"),
                    "expected a closure",
                    format!("write `.{name}({shape})`"),
                ));
            };
            if names.len() != params.len() {
                let shape = if params.len() == 2 { "|key, value|" } else { "|x|" };
                return Err(self.error_help(
                    Code::ArgumentCount,
                    *closure_span,
                    format!("the closure of `{name}` takes {} parameter{}", params.len(), plural(params.len())),
                    "wrong number of parameters",
                    format!("write `{shape} ...`"),
                ));
            }
            body.push_scope();
            let locals: Vec<LocalId> = names.iter().zip(&params).map(|(n, t)| body.bind(&n.name, t.clone())).collect();
            let predicate = self.check_expr(body, closure_body, Some(&Type::Bool));
            body.pop_scope();
            let predicate = predicate?;
            let ty = if kind == Quantifier::Count { Type::U64 } else { Type::Bool };
            return Ok(expr(
                K::Quantifier { kind, collection: Box::new(receiver), params: locals, body: Box::new(predicate) },
                ty,
                span,
            ));
        }
        let Some((builtin, param_types, result)) = builtin_signature(&receiver.ty, name) else {
            return Err(self.unknown_method(&receiver.ty, method));
        };
        if args.len() != param_types.len() {
            let plural = plural(param_types.len());
            return Err(self.error(
                Code::ArgumentCount,
                span,
                format!("`{name}` takes {} argument{plural} but {} were given", param_types.len(), args.len()),
                format!("expected {} argument{plural}", param_types.len()),
            ));
        }
        let mut values = Vec::new();
        let mut failed = false;
        for (arg, ty) in args.iter().zip(&param_types) {
            match arg {
                Arg::Expr(e) => match self.check_expr(body, e, Some(ty)) {
                    Ok(v) => values.push(v),
                    Err(_) => failed = true,
                },
                Arg::Closure { span, .. } => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            self.source,
                            format!("`{name}` does not take a closure"),
                            Label::new(*span, "closure not expected here"),
                        )
                        .with_help("closures are the argument of `all`, `any` and `count`"),
                    );
                    failed = true;
                }
            }
        }
        if failed {
            return Err(Reported);
        }
        Ok(expr(K::Method(Box::new(receiver), builtin, values), result, span))
    }

    fn unknown_method(&mut self, ty: &Type, method: &ast::Ident) -> Reported {
        let available = methods_of(ty);
        let suggestion = suggest(&method.name, available.iter().copied());
        let type_name = self.m.type_name(ty);
        let d = Diagnostic::new(
            Code::UnknownMethod,
            self.source,
            format!("no method `{}` on a value of type `{type_name}`", method.name),
            Label::new(method.span, "unknown method"),
        );
        let fallback = if available.is_empty() {
            Some(format!("a `{type_name}` has no methods"))
        } else {
            Some(format!("its methods are: {}", available.join(", ")))
        };
        self.diags.push(with_suggestion(d, suggestion, fallback));
        Reported
    }

    fn check_if_expr(
        &mut self,
        body: &mut Body,
        cond: &ast::Condition,
        then: &ast::Expr,
        else_: &ast::Expr,
        expected: Option<&Type>,
        span: Span,
    ) -> Checked<ir::Expr> {
        match &cond.pattern {
            None => {
                let c = self.check_expr(body, &cond.expr, Some(&Type::Bool));
                let (t, e) = self.branches(body, then, else_, expected);
                let (c, t, e) = (c?, t?, e?);
                let ty = t.ty.clone();
                Ok(expr(K::If(Box::new(c), Box::new(t), Box::new(e)), ty, span))
            }
            Some(pattern) => {
                let scrutinee = self.check_expr(body, &cond.expr, None)?;
                body.push_scope();
                let pat = self.check_pattern(body, pattern, &scrutinee.ty);
                let t = self.check_branch(body, then, expected);
                body.pop_scope();
                let pat = pat?;
                let t = t?;
                let e = self.check_expr(body, else_, Some(&t.ty))?;
                let ty = t.ty.clone();
                Ok(expr(
                    K::IfLet { pattern: pat, scrutinee: Box::new(scrutinee), then: Box::new(t), else_: Box::new(e) },
                    ty,
                    span,
                ))
            }
        }
    }

    fn check_branch(&mut self, body: &mut Body, e: &ast::Expr, expected: Option<&Type>) -> Checked<ir::Expr> {
        let hint = expected.cloned();
        self.check_expr(body, e, hint.as_ref())
    }

    /// Checks two branches that must share a type: the expected one, or the first branch's.
    fn branches(
        &mut self,
        body: &mut Body,
        then: &ast::Expr,
        else_: &ast::Expr,
        expected: Option<&Type>,
    ) -> (Checked<ir::Expr>, Checked<ir::Expr>) {
        let (first, second) =
            if expected.is_none() && self.needs_context(body, then) && !self.needs_context(body, else_) {
                (else_, then)
            } else {
                (then, else_)
            };
        let a = self.check_expr(body, first, expected);
        let hint = expected.cloned().or_else(|| a.as_ref().ok().map(|v| v.ty.clone()));
        let b = self.check_expr(body, second, hint.as_ref());
        if std::ptr::eq(first, then) { (a, b) } else { (b, a) }
    }

    fn check_match(
        &mut self,
        body: &mut Body,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        expected: Option<&Type>,
        span: Span,
    ) -> Checked<ir::Expr> {
        let value = self.check_expr(body, scrutinee, None)?;
        let mut result_ty = expected.cloned();
        let mut checked_arms = Vec::new();
        let mut failed = false;
        for arm in arms {
            body.push_scope();
            let mut patterns = Vec::new();
            for pattern in &arm.patterns {
                match self.check_pattern(body, pattern, &value.ty) {
                    Ok(p) => patterns.push(p),
                    Err(_) => failed = true,
                }
            }
            if arm.patterns.len() > 1 && patterns.iter().any(|p| matches!(p, ir::Pattern::Some(Some(_)))) {
                self.diags.push(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        self.source,
                        "a binding pattern cannot be combined with `|`",
                        Label::new(arm.span, "binds a name in only one alternative"),
                    )
                    .with_help("use `Some(_)` in the alternatives, or give the binding its own arm"),
                );
                failed = true;
            }
            match self.check_expr(body, &arm.body, result_ty.as_ref()) {
                Ok(v) => {
                    result_ty.get_or_insert_with(|| v.ty.clone());
                    checked_arms.push(ir::MatchArm { patterns, body: v });
                }
                Err(_) => failed = true,
            }
            body.pop_scope();
        }
        if failed {
            return Err(Reported);
        }
        self.check_exhaustive(&value.ty, &checked_arms, span)?;
        let ty = result_ty.ok_or(Reported)?;
        Ok(expr(K::Match { scrutinee: Box::new(value), arms: checked_arms }, ty, span))
    }

    /// Reports a `match` that does not cover every value of its scrutinee.
    fn check_exhaustive(&mut self, ty: &Type, arms: &[ir::MatchArm], span: Span) -> Checked<()> {
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
}

impl MachineChecker<'_> {
    /// `Some(Retired)` binds a new name `Retired`; it does not test for the phase `Retired`. A binding named
    /// after a variant or phase of the value's type is almost always that mistake, so it is an error (E0214).
    fn check_binding_is_not_a_variant(&mut self, binding: &ast::Ident, inner: &Type) -> Checked<()> {
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

/// The built-in methods of a type, with their parameter and result types.
fn builtin_signature(ty: &Type, name: &str) -> Option<(Builtin, Vec<Type>, Type)> {
    use Builtin as B;
    let boxed = |t: &Type| Box::new(t.clone());
    Some(match (ty, name) {
        (Type::Option(_), "is_some") => (B::IsSome, vec![], Type::Bool),
        (Type::Option(_), "is_none") => (B::IsNone, vec![], Type::Bool),
        (Type::Option(t), "unwrap_or") => (B::UnwrapOr, vec![(**t).clone()], (**t).clone()),
        (Type::Option(t), "contains") => (B::Contains, vec![(**t).clone()], Type::Bool),
        (Type::String | Type::Set(_) | Type::Seq(_) | Type::Map(..), "len") => (B::Len, vec![], Type::U64),
        (Type::String | Type::Set(_) | Type::Seq(_) | Type::Map(..), "is_empty") => (B::IsEmpty, vec![], Type::Bool),
        (Type::Set(t) | Type::Seq(t), "contains") => (B::Contains, vec![(**t).clone()], Type::Bool),
        (Type::Map(k, _), "contains_key") => (B::ContainsKey, vec![(**k).clone()], Type::Bool),
        (Type::Map(k, v), "get") => (B::Get, vec![(**k).clone()], Type::Option(v.clone())),
        (Type::Seq(t), "get") => (B::Get, vec![Type::U64], Type::Option(t.clone())),
        (Type::Map(k, _), "keys") => (B::Keys, vec![], Type::Set(k.clone())),
        (Type::Map(_, v), "values") => (B::Values, vec![], Type::Seq(v.clone())),
        (Type::Seq(t), "first") => (B::First, vec![], Type::Option(t.clone())),
        (Type::Seq(t), "last") => (B::Last, vec![], Type::Option(t.clone())),
        (Type::Set(t), "union") => (B::Union, vec![ty.clone()], Type::Set(boxed(t))),
        (Type::Set(t), "intersection") => (B::Intersection, vec![ty.clone()], Type::Set(boxed(t))),
        (Type::Set(t), "difference") => (B::Difference, vec![ty.clone()], Type::Set(boxed(t))),
        (Type::Set(_), "is_subset") => (B::IsSubset, vec![ty.clone()], Type::Bool),
        (Type::U64, "min") => (B::Min, vec![Type::U64], Type::U64),
        (Type::U64, "max") => (B::Max, vec![Type::U64], Type::U64),
        _ => return None,
    })
}

/// The method names a type offers, for suggestions.
fn methods_of(ty: &Type) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = [
        "is_some",
        "is_none",
        "unwrap_or",
        "contains",
        "len",
        "is_empty",
        "contains_key",
        "get",
        "keys",
        "values",
        "first",
        "last",
        "union",
        "intersection",
        "difference",
        "is_subset",
        "min",
        "max",
    ]
    .into_iter()
    .filter(|n| builtin_signature(ty, n).is_some())
    .collect();
    if matches!(ty, Type::Set(_) | Type::Seq(_) | Type::Map(..)) {
        names.extend(["all", "any", "count"]);
    }
    names
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
pub(crate) fn quoted(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
