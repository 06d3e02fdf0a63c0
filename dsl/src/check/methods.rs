//! Methods: the table of built-in methods per type (their parameter and result types), checking calls to them,
//! and the closure-taking quantifiers `all`, `any` and `count`.

use crate::ast::{self, Arg};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, Builtin, ExprKind as K, LocalId, Quantifier, Type};
use crate::span::Span;

use super::body::{Body, Checked, Reported};
use super::expr::expr;
use super::machine::MachineChecker;
use super::names::{plural, suggest, with_suggestion};

impl MachineChecker<'_> {
    pub(crate) fn check_method(
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

    pub(crate) fn unknown_method(&mut self, ty: &Type, method: &ast::Ident) -> Reported {
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
