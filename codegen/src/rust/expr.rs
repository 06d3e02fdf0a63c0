//! Expressions: each IR expression becomes one Rust expression, with no interpretation and no allocation beyond
//! what the value itself needs.
//!
//! A compiled expression remembers its *form*: a place (a state field, a binding, a projection of one — read it
//! by reference, clone it only to own it), a reference (a binding of `&T`), an owned value, or a string literal
//! (compared and looked up as `&str`, allocated only when a `String` must be owned). Consumers convert to what
//! they need: comparisons and method receivers read places as they are, helper arguments borrow, writes and
//! emits own. `Copy` values are always owned.
//!
//! Checked arithmetic can fail, and how a failure leaves depends on where the expression stands ([`Fail`]): `?`
//! inside helpers, guards and invariants (which return `Option`), or a diverging block in dispatch code and
//! transition bodies (return the error, after undoing the body's writes so far). Either way the failure is part
//! of the expression, so `&&`, `||`, `if` and `match` keep their short-circuit semantics for free.

use std::collections::{BTreeMap, BTreeSet};

use meerkat_dsl::ir::{self, BinOp, Expr, ExprKind, LocalId, Pattern, Projection, Type, TypeKind};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, quote};

use super::Gen;
use super::analysis::UseCounts;
use super::names::Namer;

/// How a compiled expression holds its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// A value the expression produced; using it moves it.
    Owned,
    /// A place of type `T` (state field, binding, projection): read it in place, clone to own it.
    Place,
    /// An expression of type `&T`.
    Ref,
    /// A string literal, of type `&'static str`.
    StrLit,
}

/// Rust operator precedence, loosest first (only the levels generated code uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Prec {
    /// `if`, `match`, blocks.
    Block,
    Or,
    And,
    Cmp,
    /// `+`, `-`.
    Add,
    /// `*`, `/`, `%`.
    Mul,
    Cast,
    Unary,
    /// Paths, literals, calls, method calls, field accesses, `?`.
    Postfix,
}

/// A compiled expression.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub(crate) ts: TokenStream,
    pub(crate) form: Form,
    pub(crate) prec: Prec,
    /// Contains a struct literal outside any delimiter, so it needs parentheses in `if`/`match` heads.
    pub(crate) bare_struct: bool,
    /// A binding read exactly once: it may be moved instead of cloned.
    pub(crate) movable: bool,
    /// An integer literal (suffixed `u64` when it must name its type, as a method receiver).
    pub(crate) int: Option<u64>,
    /// An `if` expression, so an enclosing `else` can chain it as `else if`.
    pub(crate) is_if: bool,
    /// For `x?` (or its `match` form): the `Option` expression `x`, so `Some(x?)` can be written `x`.
    pub(crate) question: Option<TokenStream>,
}

impl Code {
    pub(crate) fn new(ts: TokenStream, form: Form, prec: Prec) -> Self {
        Code { ts, form, prec, bare_struct: false, movable: false, int: None, is_if: false, question: None }
    }

    pub(crate) fn owned(ts: TokenStream, prec: Prec) -> Self {
        Code::new(ts, Form::Owned, prec)
    }

    fn int(n: u64) -> Self {
        Code { int: Some(n), ..Code::owned(Literal::u64_unsuffixed(n).into_token_stream(), Prec::Postfix) }
    }

    pub(crate) fn with_struct(mut self, bare: bool) -> Self {
        self.bare_struct |= bare;
        self
    }
}

/// How a failing checked operation leaves the expression.
#[derive(Clone, Debug)]
pub(crate) enum Fail {
    /// `?` on `Option` (helpers, guards and invariants return `Option` when they can fail).
    Question,
    /// An expression that diverges: `return ...`, or a block that undoes writes first.
    Diverge(TokenStream),
    /// `break 'label None` out of a labeled block that computes the `Option` of a whole expression (transition
    /// bodies use it when one expression has several checked operations, so the undo block is written once).
    Break(TokenStream),
    /// `unwrap_or_default()`: only for constant initial values, which the interpreter evaluates too (a constant
    /// that overflows is a spec the checker should refuse).
    Default,
}

/// A binding in scope: a payload field, helper parameter or local.
#[derive(Clone, Debug)]
pub(crate) struct Binding {
    pub(crate) ident: Ident,
    pub(crate) form: Form,
    pub(crate) movable: bool,
}

/// The compilation context of one generated function.
pub(crate) struct Cx<'a> {
    pub(crate) namer: Namer,
    /// The locals table of the body being compiled (transition, helper, guard or invariant).
    pub(crate) local_defs: &'a [ir::Local],
    pub(crate) locals: BTreeMap<LocalId, Binding>,
    pub(crate) payload: BTreeMap<u32, Binding>,
    pub(crate) params: BTreeMap<u32, Binding>,
    /// The `source` phase (in transitions), or the current phase (in guards).
    pub(crate) source: TokenStream,
    pub(crate) fail: Fail,
    pub(crate) uses: UseCounts,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(namer: Namer, local_defs: &'a [ir::Local], fail: Fail, uses: UseCounts) -> Self {
        Cx {
            namer,
            local_defs,
            locals: BTreeMap::new(),
            payload: BTreeMap::new(),
            params: BTreeMap::new(),
            source: quote!(self.phase),
            fail,
            uses,
        }
    }

    /// Allocates the name of a local and records how it is bound.
    pub(crate) fn bind_local(&mut self, id: LocalId, form: Form) -> Ident {
        let name = self.local_defs.get(id.index()).map_or("local", |l| l.name.as_str());
        let ident = self.namer.user(name);
        let movable = form == Form::Place && self.uses.local(id).movable();
        self.locals.insert(id, Binding { ident: ident.clone(), form, movable });
        ident
    }

    /// The type of a local.
    pub(crate) fn local_ty(&self, id: LocalId) -> Type {
        self.local_defs.get(id.index()).map_or(Type::Bool, |l| l.ty.clone())
    }

    /// Whether a local is read at all.
    pub(crate) fn local_used(&self, id: LocalId) -> bool {
        self.uses.local(id).count > 0
    }
}

/// `tokens`, parenthesised when its precedence is looser than `min`.
pub(crate) fn operand(code: &Code, min: Prec) -> TokenStream {
    let ts = &code.ts;
    if code.prec < min { quote!((#ts)) } else { ts.clone() }
}

/// The expression as the head of an `if` or `match` (struct literals need parentheses there).
pub(crate) fn head(code: &Code) -> TokenStream {
    let ts = &code.ts;
    if code.bare_struct { quote!((#ts)) } else { ts.clone() }
}

/// The expression as a method receiver.
pub(crate) fn receiver(code: &Code) -> TokenStream {
    match code.int {
        Some(n) => Literal::u64_suffixed(n).into_token_stream(),
        None => operand(code, Prec::Postfix),
    }
}

/// A `u64` expression as a method receiver. An `if` or `match` whose arms end in integer literals has no type
/// of its own for rustc (`{integer}`), and a method call on it would not compile, so it gets one.
pub(crate) fn u64_receiver(code: &Code) -> TokenStream {
    if code.prec == Prec::Block {
        let ts = &code.ts;
        quote!(::core::convert::identity::<u64>(#ts))
    } else {
        receiver(code)
    }
}

impl Gen<'_> {
    /// The Rust type of a spec type.
    pub(crate) fn ty(&self, t: &Type) -> TokenStream {
        self.ty_at(t, &TokenStream::new())
    }

    /// The Rust type of a spec type, with the machine's own types (declared ones and the phase) named through
    /// `prefix` (`super::` from a nested module).
    pub(crate) fn ty_at(&self, t: &Type, prefix: &TokenStream) -> TokenStream {
        match t {
            Type::Bool => quote!(bool),
            Type::U64 => quote!(u64),
            Type::String => quote!(::std::string::String),
            Type::Phase => {
                let p = &self.n.phase;
                quote!(#prefix #p)
            }
            Type::Named(id) => match self.n.types.get(id.index()) {
                Some(ident) => quote!(#prefix #ident),
                None => quote!(()),
            },
            Type::Option(inner) => {
                let inner = self.ty_at(inner, prefix);
                quote!(::std::option::Option<#inner>)
            }
            Type::Set(inner) => {
                let inner = self.ty_at(inner, prefix);
                quote!(::std::collections::BTreeSet<#inner>)
            }
            Type::Seq(inner) => {
                let inner = self.ty_at(inner, prefix);
                quote!(::std::vec::Vec<#inner>)
            }
            Type::Map(k, v) => {
                let (k, v) = (self.ty_at(k, prefix), self.ty_at(v, prefix));
                quote!(::std::collections::BTreeMap<#k, #v>)
            }
        }
    }

    pub(crate) fn is_copy(&self, t: &Type) -> bool {
        self.facts.is_copy(t)
    }

    /// Converts to an owned value of type `ty` (cloning a place unless it is `Copy` or may be moved).
    pub(crate) fn owned(&self, code: Code, ty: &Type) -> Code {
        let copy = self.is_copy(ty);
        match code.form {
            Form::Owned => code,
            Form::StrLit => {
                let ts = &code.ts;
                Code::owned(quote!(::std::string::String::from(#ts)), Prec::Postfix)
            }
            Form::Place if copy || code.movable => Code { form: Form::Owned, question: None, ..code },
            Form::Place => {
                let ts = receiver(&code);
                Code { ts: quote!(#ts.clone()), form: Form::Owned, prec: Prec::Postfix, question: None, ..code }
            }
            Form::Ref if copy => {
                let ts = operand(&code, Prec::Unary);
                Code { ts: quote!(*#ts), form: Form::Owned, prec: Prec::Unary, question: None, ..code }
            }
            Form::Ref => {
                let ts = receiver(&code);
                Code { ts: quote!(#ts.clone()), form: Form::Owned, prec: Prec::Postfix, question: None, ..code }
            }
        }
    }

    /// Compiles an expression to an owned value.
    pub(crate) fn owned_expr(&self, cx: &mut Cx<'_>, e: &Expr) -> Code {
        let code = self.expr(cx, e);
        self.owned(code, &e.ty)
    }

    /// An expression of type `&T`.
    pub(crate) fn by_ref(&self, code: Code, ty: &Type) -> TokenStream {
        match code.form {
            Form::Ref => code.ts,
            Form::Place | Form::Owned => {
                let ts = operand(&code, Prec::Unary);
                quote!(&#ts)
            }
            Form::StrLit => {
                let owned = self.owned(code, ty);
                let ts = owned.ts;
                quote!(&#ts)
            }
        }
    }

    /// A lookup key for a `BTreeSet`/`BTreeMap` of `ty`: string literals look up as `&str` (no allocation).
    pub(crate) fn key_ref(&self, code: Code, ty: &Type) -> TokenStream {
        if code.form == Form::StrLit && *ty == Type::String { code.ts } else { self.by_ref(code, ty) }
    }

    /// An operand of `==`: places and owned values as they are, references dereferenced, `Copy` values owned.
    fn eq_operand(&self, code: Code, ty: &Type) -> Code {
        if self.is_copy(ty) {
            return self.owned(code, ty);
        }
        match code.form {
            Form::Ref => {
                let ts = operand(&code, Prec::Unary);
                Code { ts: quote!(*#ts), prec: Prec::Unary, question: None, ..code }
            }
            _ => code,
        }
    }

    /// Unwraps an `Option`-valued expression (a checked operation or a fallible call) by the context's rule.
    fn unwrap(&self, cx: &Cx<'_>, option: TokenStream) -> Code {
        match &cx.fail {
            Fail::Question => Code { question: Some(option.clone()), ..Code::owned(quote!(#option?), Prec::Postfix) },
            Fail::Default => Code::owned(quote!(#option.unwrap_or_default()), Prec::Postfix),
            Fail::Break(label) => Code {
                question: Some(option.clone()),
                ..Code::owned(
                    quote!(match #option {
                        Some(__k_value) => __k_value,
                        // A qualified path: after a label, `::core::...` would read as a labelled block to syn.
                        None => break #label <::core::option::Option<_>>::None,
                    }),
                    Prec::Block,
                )
            },
            Fail::Diverge(block) => Code::owned(
                quote!(match #option {
                    Some(__k_value) => __k_value,
                    None => #block
                }),
                Prec::Block,
            ),
        }
    }

    /// Compiles an expression to its natural form.
    pub(crate) fn expr(&self, cx: &mut Cx<'_>, e: &Expr) -> Code {
        use ExprKind as K;
        match &e.kind {
            K::Bool(b) => Code::owned(if *b { quote!(true) } else { quote!(false) }, Prec::Postfix),
            K::U64(n) => Code::int(*n),
            K::Str(s) => Code::new(Literal::string(s).into_token_stream(), Form::StrLit, Prec::Postfix),
            K::None => Code::owned(quote!(None), Prec::Postfix),
            K::Some(inner) => {
                let inner = self.owned_expr(cx, inner).ts;
                Code::owned(quote!(Some(#inner)), Prec::Postfix)
            }
            K::PhaseLit(p) => Code::owned(self.phase_path(*p), Prec::Postfix),
            K::Variant(t, v) => Code::owned(self.variant_path(*t, *v), Prec::Postfix),
            K::Field(f) => {
                let field = self.field_ident(f.index());
                Code::new(quote!(self.#field), Form::Place, Prec::Postfix)
            }
            K::Phase => {
                let field = &self.n.phase_field;
                Code::owned(quote!(self.#field), Prec::Postfix)
            }
            K::Source => Code::owned(cx.source.clone(), Prec::Postfix),
            K::Payload(i) => binding_code(cx.payload.get(i)),
            K::Local(id) => binding_code(cx.locals.get(id)),
            K::Param(i) => binding_code(cx.params.get(i)),
            K::Guard(g) => {
                let f = self.n.guard_fns.get(g.index()).cloned().unwrap_or_else(|| super::names::plain("guard"));
                let call = quote!(self.#f());
                if self.facts.guard_fallible.get(g.index()).copied().unwrap_or(false) {
                    self.unwrap(cx, call)
                } else {
                    Code::owned(call, Prec::Postfix)
                }
            }
            K::Call(h, args) => {
                let params: Vec<Type> = self
                    .m
                    .helpers
                    .get(h.index())
                    .map(|h| h.params.iter().map(|(_, t)| t.clone()).collect())
                    .unwrap_or_default();
                let args: Vec<TokenStream> = args
                    .iter()
                    .zip(params.iter().chain(std::iter::repeat(&Type::Bool)))
                    .map(|(arg, ty)| {
                        if self.is_copy(ty) {
                            self.owned_expr(cx, arg).ts
                        } else {
                            let code = self.expr(cx, arg);
                            self.by_ref(code, ty)
                        }
                    })
                    .collect();
                let f = self.n.helper_fns.get(h.index()).cloned().unwrap_or_else(|| super::names::plain("helper"));
                let call = quote!(self.#f(#(#args),*));
                if self.facts.helper_fallible.get(h.index()).copied().unwrap_or(false) {
                    self.unwrap(cx, call)
                } else {
                    Code::owned(call, Prec::Postfix)
                }
            }
            K::Record(t, values) => {
                let name = self.type_ident(*t);
                let field_names = self.record_fields(*t);
                let fields = values.iter().zip(&field_names).map(|(v, (fname, _))| {
                    let v = self.owned_expr(cx, v).ts;
                    field_value(fname, v)
                });
                Code::owned(quote!(#name { #(#fields),* }), Prec::Postfix).with_struct(true)
            }
            K::Newtype(t, inner) => {
                let name = self.type_ident(*t);
                let inner = self.owned_expr(cx, inner).ts;
                Code::owned(quote!(#name(#inner)), Prec::Postfix)
            }
            K::Project(base, projection) => {
                let base_code = self.expr(cx, base);
                let member = match projection {
                    Projection::RecordField(i) => {
                        let names = match &base.ty {
                            Type::Named(t) => self.record_fields(*t),
                            _ => Vec::new(),
                        };
                        match names.get(*i as usize) {
                            Some((name, _)) => quote!(#name),
                            None => Literal::u32_unsuffixed(*i).into_token_stream(),
                        }
                    }
                    Projection::NewtypeInner => quote!(0),
                };
                let ts = receiver(&base_code);
                let form = match base_code.form {
                    Form::Owned => Form::Owned,
                    _ => Form::Place,
                };
                Code {
                    ts: quote!(#ts.#member),
                    form,
                    prec: Prec::Postfix,
                    int: None,
                    is_if: false,
                    question: None,
                    ..base_code
                }
            }
            K::SeqLit(items) => {
                if items.is_empty() {
                    // Typed: `Vec`'s `PartialEq<Vec<U>>` leaves rustc no way to infer `T` in `s == Vec::new()`.
                    let elem = match &e.ty {
                        Type::Seq(elem) => self.ty(elem),
                        _ => quote!(_),
                    };
                    Code::owned(quote!(::std::vec::Vec::<#elem>::new()), Prec::Postfix)
                } else {
                    let items: Vec<TokenStream> = items.iter().map(|i| self.owned_expr(cx, i).ts).collect();
                    Code::owned(quote!(::std::vec![#(#items),*]), Prec::Postfix)
                }
            }
            K::SetLit(items) => {
                if items.is_empty() {
                    Code::owned(quote!(::std::collections::BTreeSet::new()), Prec::Postfix)
                } else {
                    let items: Vec<TokenStream> = items.iter().map(|i| self.owned_expr(cx, i).ts).collect();
                    Code::owned(quote!(::std::collections::BTreeSet::from([#(#items),*])), Prec::Postfix)
                }
            }
            K::MapLit(entries) => {
                if entries.is_empty() {
                    Code::owned(quote!(::std::collections::BTreeMap::new()), Prec::Postfix)
                } else {
                    // `BTreeMap::from` keeps the last value of a repeated key, as the interpreter does.
                    let entries: Vec<TokenStream> = entries
                        .iter()
                        .map(|(k, v)| {
                            let k = self.owned_expr(cx, k).ts;
                            let v = self.owned_expr(cx, v).ts;
                            quote!((#k, #v))
                        })
                        .collect();
                    Code::owned(quote!(::std::collections::BTreeMap::from([#(#entries),*])), Prec::Postfix)
                }
            }
            K::Not(inner) => self.not(cx, inner),
            K::Binary(op, a, b) => self.binary(cx, *op, a, b),
            K::Method(recv, builtin, args) => self.method(cx, recv, *builtin, args),
            K::Quantifier { kind, collection, params, body } => self.quantifier(cx, *kind, collection, params, body),
            K::If(c, a, b) => {
                let c = self.expr(cx, c);
                let c = head(&c);
                let a = self.owned_expr(cx, a).ts;
                let b = self.owned_expr(cx, b);
                let ts = if b.is_if {
                    let b = b.ts;
                    quote!(if #c { #a } else #b)
                } else {
                    let b = b.ts;
                    quote!(if #c { #a } else { #b })
                };
                Code { is_if: true, ..Code::owned(ts, Prec::Block) }
            }
            K::IfLet { pattern, scrutinee, then, else_ } => self.if_let_expr(cx, pattern, scrutinee, then, else_),
            K::Match { scrutinee, arms } => self.match_expr(cx, scrutinee, arms),
        }
    }

    fn not(&self, cx: &mut Cx<'_>, inner: &Expr) -> Code {
        match &inner.kind {
            ExprKind::Not(x) => self.expr(cx, x),
            ExprKind::Binary(op, a, b) if negated(*op).is_some() => {
                let op = negated(*op).unwrap_or(*op);
                self.binary(cx, op, a, b)
            }
            _ => {
                let code = self.expr(cx, inner);
                let ts = operand(&code, Prec::Unary);
                Code { ts: quote!(!#ts), form: Form::Owned, prec: Prec::Unary, question: None, ..code }
            }
        }
    }

    fn binary(&self, cx: &mut Cx<'_>, op: BinOp, a: &Expr, b: &Expr) -> Code {
        match op {
            BinOp::And | BinOp::Or => {
                let l = self.expr(cx, a);
                let r = self.expr(cx, b);
                let (prec, token) = if op == BinOp::And { (Prec::And, quote!(&&)) } else { (Prec::Or, quote!(||)) };
                let right_min = if op == BinOp::And { Prec::Cmp } else { Prec::And };
                let (lt, rt) = (operand(&l, prec), operand(&r, right_min));
                Code::owned(quote!(#lt #token #rt), prec).with_struct(l.bare_struct || r.bare_struct)
            }
            BinOp::Eq | BinOp::Ne => self.equality(cx, op == BinOp::Ne, a, b),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if let Some(code) = self.extreme_comparison(cx, op, a, b) {
                    return code;
                }
                let l = self.owned_expr(cx, a);
                let r = self.owned_expr(cx, b);
                let token = match op {
                    BinOp::Lt => quote!(<),
                    BinOp::Le => quote!(<=),
                    BinOp::Gt => quote!(>),
                    _ => quote!(>=),
                };
                // A left operand ending in `as u64` before `<` would parse `u64<` as generics.
                let left_min = if matches!(op, BinOp::Lt | BinOp::Le) { Prec::Unary } else { Prec::Add };
                let (lt, rt) = (operand(&l, left_min), operand(&r, Prec::Add));
                Code::owned(quote!(#lt #token #rt), Prec::Cmp).with_struct(l.bare_struct || r.bare_struct)
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let l = self.owned_expr(cx, a);
                let r = self.owned_expr(cx, b);
                if let (Some(x), Some(y)) = (l.int, r.int) {
                    let folded = match op {
                        BinOp::Add => x.checked_add(y),
                        BinOp::Sub => x.checked_sub(y),
                        BinOp::Mul => x.checked_mul(y),
                        BinOp::Div => x.checked_div(y),
                        _ => x.checked_rem(y),
                    };
                    if let Some(v) = folded {
                        return Code::int(v);
                    }
                }
                // Division by a non-zero constant cannot fail.
                if matches!(op, BinOp::Div | BinOp::Rem) && r.int.is_some_and(|n| n != 0) {
                    let token = if op == BinOp::Div { quote!(/) } else { quote!(%) };
                    let (lt, rt) = (operand(&l, Prec::Mul), operand(&r, Prec::Cast));
                    // An integer literal, or an `if` or `match` of them, on the left must name its type.
                    let lt = if l.int.is_some() || l.prec == Prec::Block { u64_receiver(&l) } else { lt };
                    return Code::owned(quote!(#lt #token #rt), Prec::Mul).with_struct(l.bare_struct);
                }
                let method = match op {
                    BinOp::Add => quote!(checked_add),
                    BinOp::Sub => quote!(checked_sub),
                    BinOp::Mul => quote!(checked_mul),
                    BinOp::Div => quote!(checked_div),
                    _ => quote!(checked_rem),
                };
                let lt = u64_receiver(&l);
                let rt = r.ts;
                self.unwrap(cx, quote!(#lt.#method(#rt))).with_struct(l.bare_struct)
            }
        }
    }

    /// A comparison of a `u64` with 0 or `u64::MAX`, written so that rustc and clippy accept it: `x >= 0` is
    /// `true`, `x <= 0` is `x == 0`, and so on (the other operand is still evaluated when it can fail).
    fn extreme_comparison(&self, cx: &mut Cx<'_>, op: BinOp, a: &Expr, b: &Expr) -> Option<Code> {
        let literal = |e: &Expr| match e.kind {
            ExprKind::U64(n) if n == 0 || n == u64::MAX => Some(n),
            _ => None,
        };
        // Normalise to `x op c`.
        let (x, op, c) = match (literal(a), literal(b)) {
            (_, Some(c)) => (a, op, c),
            (Some(c), None) => {
                let flipped = match op {
                    BinOp::Lt => BinOp::Gt,
                    BinOp::Le => BinOp::Ge,
                    BinOp::Gt => BinOp::Lt,
                    _ => BinOp::Le,
                };
                (b, flipped, c)
            }
            (None, None) => return None,
        };
        enum Outcome {
            Always(bool),
            Equal,
        }
        let outcome = match (op, c == 0) {
            (BinOp::Lt, true) | (BinOp::Gt, false) => Outcome::Always(false),
            (BinOp::Ge, true) | (BinOp::Le, false) => Outcome::Always(true),
            (BinOp::Le, true) | (BinOp::Ge, false) => Outcome::Equal,
            _ => return None,
        };
        let x_code = self.owned_expr(cx, x);
        let lit = Literal::u64_unsuffixed(c);
        Some(match outcome {
            Outcome::Equal => {
                let xt = operand(&x_code, Prec::Unary);
                Code::owned(quote!(#xt == #lit), Prec::Cmp).with_struct(x_code.bare_struct)
            }
            Outcome::Always(value) => {
                let v = if value { quote!(true) } else { quote!(false) };
                if self.facts.expr_fallible(x) {
                    let xt = x_code.ts;
                    Code::owned(quote!({ let _ = #xt; #v }), Prec::Block)
                } else {
                    Code::owned(v, Prec::Postfix)
                }
            }
        })
    }

    fn equality(&self, cx: &mut Cx<'_>, ne: bool, a: &Expr, b: &Expr) -> Code {
        // `s == ""` is `s.is_empty()`, `b == true` is `b`, `b == false` is `!b`.
        for (this, other) in [(a, b), (b, a)] {
            match &other.kind {
                ExprKind::Str(text) if text.is_empty() && this.ty == Type::String => {
                    let code = self.expr(cx, this);
                    let recv = receiver(&code);
                    let ts = if ne { quote!(!#recv.is_empty()) } else { quote!(#recv.is_empty()) };
                    let prec = if ne { Prec::Unary } else { Prec::Postfix };
                    return Code::owned(ts, prec).with_struct(code.bare_struct);
                }
                ExprKind::Bool(value) if this.ty == Type::Bool => {
                    return if *value != ne { self.owned_expr(cx, this) } else { self.not(cx, this) };
                }
                _ => {}
            }
        }
        // `x == None` reads better (and clippy prefers it) as `x.is_none()`.
        for (this, other) in [(a, b), (b, a)] {
            if matches!(other.kind, ExprKind::None) {
                let code = self.expr(cx, this);
                let recv = receiver(&code);
                let ts = if ne { quote!(#recv.is_some()) } else { quote!(#recv.is_none()) };
                return Code::owned(ts, Prec::Postfix).with_struct(code.bare_struct);
            }
        }
        let token = if ne { quote!(!=) } else { quote!(==) };
        // `opt == Some("x")` compares as `opt.as_deref() == Some("x")`, without allocating the literal.
        for (this, other) in [(a, b), (b, a)] {
            if let ExprKind::Some(inner) = &other.kind {
                if matches!(inner.kind, ExprKind::Str(_)) {
                    let code = self.expr(cx, this);
                    let recv = receiver(&code);
                    let lit = self.expr(cx, inner).ts;
                    return Code::owned(quote!(#recv.as_deref() #token Some(#lit)), Prec::Cmp)
                        .with_struct(code.bare_struct);
                }
            }
        }
        let l = self.expr(cx, a);
        let l = self.eq_operand(l, &a.ty);
        let r = self.expr(cx, b);
        let r = self.eq_operand(r, &b.ty);
        let (lt, rt) = (operand(&l, Prec::Add), operand(&r, Prec::Add));
        Code::owned(quote!(#lt #token #rt), Prec::Cmp).with_struct(l.bare_struct || r.bare_struct)
    }

    /// `if let pattern = scrutinee { then } else { else }` as an expression.
    fn if_let_expr(&self, cx: &mut Cx<'_>, pattern: &Pattern, scrutinee: &Expr, then: &Expr, else_: &Expr) -> Code {
        match self.pattern_test(cx, pattern, scrutinee, true) {
            PatternTest::Always(scrut) => {
                let t = self.owned_expr(cx, then);
                match scrut {
                    Some(s) => {
                        let tt = t.ts;
                        Code::owned(quote!({ let _ = #s; #tt }), Prec::Block)
                    }
                    None => t,
                }
            }
            PatternTest::Cond(cond) => {
                let t = self.owned_expr(cx, then).ts;
                let e = self.owned_expr(cx, else_);
                let ts = if e.is_if {
                    let et = e.ts;
                    quote!(if #cond { #t } else #et)
                } else {
                    let et = e.ts;
                    quote!(if #cond { #t } else { #et })
                };
                Code { is_if: true, ..Code::owned(ts, Prec::Block) }
            }
            PatternTest::Let(pat, scrut) => {
                let t = self.owned_expr(cx, then).ts;
                let e = self.owned_expr(cx, else_);
                let ts = if e.is_if {
                    let et = e.ts;
                    quote!(if let #pat = #scrut { #t } else #et)
                } else {
                    let et = e.ts;
                    quote!(if let #pat = #scrut { #t } else { #et })
                };
                Code { is_if: true, ..Code::owned(ts, Prec::Block) }
            }
        }
    }

    /// How to test `pattern` against `scrutinee` in an `if let`. `by_ref` allows binding a reference into the
    /// scrutinee (not when the branch writes the state the reference would point into).
    pub(crate) fn pattern_test(
        &self,
        cx: &mut Cx<'_>,
        pattern: &Pattern,
        scrutinee: &Expr,
        by_ref: bool,
    ) -> PatternTest {
        let s = self.expr(cx, scrutinee);
        let ty = &scrutinee.ty;
        match pattern {
            Pattern::Wildcard => PatternTest::Always(self.facts.expr_fallible(scrutinee).then(|| self.owned(s, ty).ts)),
            Pattern::None => {
                let r = receiver(&s);
                PatternTest::Cond(quote!(#r.is_none()))
            }
            Pattern::Some(None) => {
                let r = receiver(&s);
                PatternTest::Cond(quote!(#r.is_some()))
            }
            Pattern::Some(Some(local)) if !cx.local_used(*local) => {
                let r = receiver(&s);
                PatternTest::Cond(quote!(#r.is_some()))
            }
            Pattern::Some(Some(local)) => {
                let inner = element_type(ty);
                if self.is_copy(&inner) {
                    let scrut = head(&self.owned(s, ty));
                    let ident = cx.bind_local(*local, Form::Owned);
                    PatternTest::Let(quote!(Some(#ident)), scrut)
                } else if by_ref && matches!(s.form, Form::Place | Form::Ref) {
                    let scrut = self.by_ref(s, ty);
                    let ident = cx.bind_local(*local, Form::Ref);
                    PatternTest::Let(quote!(Some(#ident)), scrut)
                } else {
                    let scrut = head(&self.owned(s, ty));
                    let ident = cx.bind_local(*local, Form::Place);
                    PatternTest::Let(quote!(Some(#ident)), scrut)
                }
            }
            Pattern::Bool(b) => {
                let v = self.owned(s, ty);
                if *b {
                    PatternTest::Cond(head(&v))
                } else {
                    let t = operand(&v, Prec::Unary);
                    PatternTest::Cond(quote!(!#t))
                }
            }
            Pattern::Variant(t, v) => {
                let value = self.owned(s, ty);
                let lt = operand(&value, Prec::Unary);
                let path = self.variant_path(*t, *v);
                let cond = quote!(#lt == #path);
                PatternTest::Cond(if value.bare_struct { quote!((#cond)) } else { cond })
            }
            Pattern::Phase(p) => {
                let value = self.owned(s, ty);
                let lt = operand(&value, Prec::Unary);
                let path = self.phase_path(*p);
                PatternTest::Cond(quote!(#lt == #path))
            }
        }
    }

    fn match_expr(&self, cx: &mut Cx<'_>, scrutinee: &Expr, arms: &[ir::MatchArm]) -> Code {
        let s = self.expr(cx, scrutinee);
        let ty = &scrutinee.ty;
        let inner_ty = element_type(ty);
        let (scrut, ref_mode) = if self.is_copy(ty) {
            (head(&self.owned(s, ty)), false)
        } else {
            match s.form {
                Form::Place | Form::Ref => (self.by_ref(s, ty), true),
                _ => (head(&self.owned(s, ty)), false),
            }
        };
        let mut coverage = Coverage::new(self.pattern_domain(ty));
        let mut out_arms: Vec<TokenStream> = Vec::new();
        for arm in arms {
            let live: Vec<&Pattern> = arm.patterns.iter().filter(|p| coverage.add(self.pattern_key(p))).collect();
            if live.is_empty() {
                continue;
            }
            let binds = live.iter().any(|p| matches!(p, Pattern::Some(Some(l)) if cx.local_used(*l)));
            // Alternatives that bind must each have the same bindings in Rust; give each its own arm instead.
            let groups: Vec<Vec<&Pattern>> =
                if binds && live.len() > 1 { live.iter().map(|p| vec![*p]).collect() } else { vec![live] };
            for group in groups {
                let pats: Vec<TokenStream> = group
                    .iter()
                    .map(|p| match p {
                        Pattern::Some(Some(l)) if cx.local_used(*l) => {
                            let form = if self.is_copy(&inner_ty) {
                                Form::Owned
                            } else if ref_mode {
                                Form::Ref
                            } else {
                                Form::Place
                            };
                            let ident = cx.bind_local(*l, form);
                            quote!(Some(#ident))
                        }
                        other => self.pattern_tokens(other),
                    })
                    .collect();
                let body = self.owned_expr(cx, &arm.body).ts;
                out_arms.push(quote!(#(#pats)|* => #body,));
            }
        }
        Code::owned(quote!(match #scrut { #(#out_arms)* }), Prec::Block)
    }

    /// A pattern with no binding.
    fn pattern_tokens(&self, p: &Pattern) -> TokenStream {
        match p {
            Pattern::Wildcard => quote!(_),
            Pattern::None => quote!(None),
            Pattern::Some(_) => quote!(Some(_)),
            Pattern::Bool(true) => quote!(true),
            Pattern::Bool(false) => quote!(false),
            Pattern::Variant(t, v) => self.variant_path(*t, *v),
            Pattern::Phase(p) => self.phase_path(*p),
        }
    }

    /// How many distinct constructors values of `ty` have, for pattern coverage (`None`: unbounded).
    fn pattern_domain(&self, ty: &Type) -> Option<usize> {
        match ty {
            Type::Bool | Type::Option(_) => Some(2),
            Type::Phase => Some(self.m.phases.len()),
            Type::Named(t) => match self.m.types.get(t.index()).map(|d| &d.kind) {
                Some(TypeKind::Enum { variants }) => Some(variants.len()),
                _ => None,
            },
            _ => None,
        }
    }

    fn pattern_key(&self, p: &Pattern) -> Option<usize> {
        match p {
            Pattern::Wildcard => None,
            Pattern::None | Pattern::Bool(false) => Some(0),
            Pattern::Some(_) | Pattern::Bool(true) => Some(1),
            Pattern::Variant(_, v) => Some(*v as usize),
            Pattern::Phase(p) => Some(p.index()),
        }
    }

    pub(crate) fn phase_path(&self, p: ir::PhaseId) -> TokenStream {
        let ty = &self.n.phase;
        let name = self
            .m
            .phases
            .get(p.index())
            .map_or_else(|| super::names::plain("Unknown"), |p| super::names::ident(&p.name));
        quote!(#ty::#name)
    }

    pub(crate) fn variant_path(&self, t: ir::TypeId, v: u32) -> TokenStream {
        let ty = self.type_ident(t);
        let name = match self.m.types.get(t.index()).map(|d| &d.kind) {
            Some(TypeKind::Enum { variants }) => variants
                .get(v as usize)
                .map_or_else(|| super::names::plain("Unknown"), |v| super::names::ident(&v.name)),
            _ => super::names::plain("Unknown"),
        };
        quote!(#ty::#name)
    }

    pub(crate) fn type_ident(&self, t: ir::TypeId) -> Ident {
        self.n.types.get(t.index()).cloned().unwrap_or_else(|| super::names::plain("Unknown"))
    }

    pub(crate) fn field_ident(&self, index: usize) -> Ident {
        self.n.fields.get(index).cloned().unwrap_or_else(|| super::names::plain("unknown"))
    }

    /// A record's field identifiers and types, in declaration order.
    pub(crate) fn record_fields(&self, t: ir::TypeId) -> Vec<(Ident, Type)> {
        match self.m.types.get(t.index()).map(|d| &d.kind) {
            Some(TypeKind::Record { fields }) => {
                fields.iter().map(|f| (super::names::ident(&f.name), f.ty.clone())).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The outcome of [`Gen::pattern_test`].
pub(crate) enum PatternTest {
    /// The pattern always matches; the scrutinee must still be evaluated when it can fail.
    Always(Option<TokenStream>),
    /// A boolean condition.
    Cond(TokenStream),
    /// `if let pattern = scrutinee`.
    Let(TokenStream, TokenStream),
}

/// `field: value` in a struct literal, or the shorthand `field` when the value is a binding of that name.
pub(crate) fn field_value(field: &Ident, value: TokenStream) -> TokenStream {
    if *field == value.to_string() { quote!(#field) } else { quote!(#field: #value) }
}

fn binding_code(binding: Option<&Binding>) -> Code {
    match binding {
        Some(b) => {
            let ident = &b.ident;
            Code { movable: b.movable, ..Code::new(quote!(#ident), b.form, Prec::Postfix) }
        }
        // Unreachable for checked IR: every binding read is bound first.
        None => Code::owned(quote!(::std::default::Default::default()), Prec::Postfix),
    }
}

/// The element type of a set, seq or option (the key type of a map).
pub(crate) fn element_type(ty: &Type) -> Type {
    match ty {
        Type::Set(t) | Type::Seq(t) | Type::Option(t) => (**t).clone(),
        Type::Map(k, _) => (**k).clone(),
        _ => Type::Bool,
    }
}

fn negated(op: BinOp) -> Option<BinOp> {
    Some(match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        BinOp::Ge => BinOp::Lt,
        _ => return None,
    })
}

/// Which constructors earlier `match` patterns cover, so unreachable ones are left out (rustc warns on them).
struct Coverage {
    domain: Option<usize>,
    all: bool,
    seen: BTreeSet<usize>,
}

impl Coverage {
    fn new(domain: Option<usize>) -> Self {
        Coverage { domain, all: false, seen: BTreeSet::new() }
    }

    /// Records a pattern (`None` key: a wildcard); returns whether it can still match something.
    fn add(&mut self, key: Option<usize>) -> bool {
        if self.all {
            return false;
        }
        match key {
            None => {
                self.all = true;
                true
            }
            Some(k) => {
                let fresh = self.seen.insert(k);
                if self.domain.is_some_and(|d| self.seen.len() >= d) {
                    self.all = true;
                }
                fresh
            }
        }
    }
}
