//! Expression checking: bidirectional type checking of expressions into typed IR. Names and paths are resolved in
//! `path`, patterns in `pattern`, method calls in `methods`; this file holds the entry point, literals,
//! constructors, operators, helper calls, `if` and `match`.
//!
//! `check_expr` takes the type the position expects, when known, and uses it to type literals that cannot
//! type themselves (`None`, `[]`, `[:]`) and to resolve bare enum variants (`phase == Idle`). Each error is
//! reported once where it arises and then travels up as [`Reported`], so one mistake never causes a cascade.

use crate::ast::{self, BinOp, ExprKind as A};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, ExprKind as K, Type, TypeKind};
use crate::span::Span;

use super::body::{Body, Checked, Ctx, Node, Reported};
use super::machine::MachineChecker;
use super::names::{plural, quoted, suggest, with_suggestion};

/// A typed IR expression.
pub(crate) fn expr(kind: K, ty: Type, span: Span) -> ir::Expr {
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

    /// Checks each argument against its parameter's type, reporting every argument that fails; the typed
    /// arguments when all of them check.
    pub(crate) fn check_args(
        &mut self,
        body: &mut Body,
        args: &[ast::Expr],
        params: &[Type],
    ) -> Checked<Vec<ir::Expr>> {
        let mut values = Vec::with_capacity(args.len());
        let mut failed = false;
        for (arg, param) in args.iter().zip(params) {
            match self.check_expr(body, arg, Some(param)) {
                Ok(v) => values.push(v),
                Err(Reported) => failed = true,
            }
        }
        if failed { Err(Reported) } else { Ok(values) }
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

    pub(crate) fn error(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Reported {
        self.diags.push(Diagnostic::new(code, self.source, message, Label::new(span, label)));
        Reported
    }

    pub(crate) fn error_help(
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
    pub(crate) fn not_constant(&mut self, span: Span, what: &str) -> Reported {
        self.error_help(
            Code::NotConstant,
            span,
            format!("initial values and model domains cannot read {what}"),
            "not a constant",
            "use literals and constructors only: numbers, strings, `None`, `Some(..)`, enum variants, records, newtypes and collection literals",
        )
    }

    pub(crate) fn synth(&mut self, body: &mut Body, e: &ast::Expr, expected: Option<&Type>) -> Checked<ir::Expr> {
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
            let values = self.check_args(body, args, &params)?;
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
        // `min(a, b)` and `max(a, b)` are what most languages spell as functions; here they are methods of `u64`.
        if let (Some(method @ ("min" | "max")), [a, b]) = (Some(name.name.as_str()), args) {
            let operand = |e: &ast::Expr| {
                let text = e.span.text(self.text);
                let simple = matches!(e.kind, A::Name(_) | A::Int(_) | A::Paren(_) | A::Method { .. } | A::Field(..));
                if simple { text.to_string() } else { format!("({text})") }
            };
            let help =
                format!("`{method}` is a method of `u64`: write `{}.{method}({})`", operand(a), b.span.text(self.text));
            self.diags.push(d.with_help(help));
            return Err(Reported);
        }
        let fallback = Some(format!("declare it: `fn {}(...) -> T {{ ... }}`", name.name));
        self.diags.push(with_suggestion(d, suggestion, fallback));
        Err(Reported)
    }

    pub(crate) fn arity(&mut self, name: &ast::Ident, want: usize, got: usize, span: Span) -> Reported {
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
    pub(crate) fn needs_context(&self, body: &Body, e: &ast::Expr) -> bool {
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

    pub(crate) fn check_branch(
        &mut self,
        body: &mut Body,
        e: &ast::Expr,
        expected: Option<&Type>,
    ) -> Checked<ir::Expr> {
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
}

impl MachineChecker<'_> {}
