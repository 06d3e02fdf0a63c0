//! The printer: checked IR back to spec text. Expressions, patterns, places, statements and types print as the
//! user would write them, for the reference page, the diagram and anything else that shows a condition to a
//! human; it is the inverse of [`crate::parse`] followed by checking, which the `print_roundtrip` property test
//! holds it to.
//!
//! The output parses back to the same IR: operands are parenthesised by [`BinOp::precedence`] (the parser's own
//! table), enum variants and phases are always written qualified (`Lamp::Green`, `Phase::Off`) so no expected
//! type is needed to read them, and a state field that a local, parameter or payload field shadows is written
//! `self.x`. An `emit` leaves out the fields that took the effect's default and writes `{ x }` for a field set
//! from a same-named variable. Comments and the user's own layout are not in the IR, so they are not kept.

use crate::ir::{
    BinOp, CollectionOp, Expr, ExprKind, FieldId, Guard, Helper, Invariant, Local, LocalId, Machine, MatchArm, Message,
    Pattern, PhaseId, Place, Projection, Property, Quantifier, Stmt, StmtKind, Transition, Type, TypeId, TypeKind,
};
use crate::parse::string_literal;

/// What the bare names of an expression refer to: the body's locals, a helper's parameters, a transition's
/// trigger payload.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    machine: &'a Machine,
    locals: &'a [Local],
    params: &'a [(String, Type)],
    payload: Option<&'a Message>,
}

impl<'a> Scope<'a> {
    /// A scope with no locals, parameters or payload: initial values, effect defaults, model domains.
    pub fn constant(machine: &'a Machine) -> Self {
        Scope { machine, locals: &[], params: &[], payload: None }
    }

    /// The body of a helper.
    pub fn helper(machine: &'a Machine, helper: &'a Helper) -> Self {
        Scope { machine, locals: &helper.locals, params: &helper.params, payload: None }
    }

    /// The condition of a named guard.
    pub fn guard(machine: &'a Machine, guard: &'a Guard) -> Self {
        Scope { machine, locals: &guard.locals, params: &[], payload: None }
    }

    /// The condition of an invariant.
    pub fn invariant(machine: &'a Machine, invariant: &'a Invariant) -> Self {
        Scope { machine, locals: &invariant.locals, params: &[], payload: None }
    }

    /// The condition of a property.
    pub fn property(machine: &'a Machine, property: &'a Property) -> Self {
        Scope { machine, locals: &property.locals, params: &[], payload: None }
    }

    /// The guards and body of a transition.
    pub fn transition(machine: &'a Machine, transition: &'a Transition) -> Self {
        Scope { machine, locals: &transition.locals, params: &[], payload: Some(machine.trigger(transition.trigger)) }
    }

    /// Whether a bare `name` would mean something other than the state field `name` here.
    fn shadows(&self, name: &str) -> bool {
        self.locals.iter().any(|l| l.name == name)
            || self.params.iter().any(|(p, _)| p == name)
            || self.payload.is_some_and(|m| m.fields.iter().any(|f| f.name == name))
    }

    fn local(&self, id: LocalId) -> &str {
        self.locals.get(id.index()).map_or("_", |l| l.name.as_str())
    }

    fn type_name(&self, id: TypeId) -> &str {
        self.machine.types.get(id.index()).map_or("?", |t| t.name.as_str())
    }

    fn variant(&self, id: TypeId, index: u32) -> String {
        let decl = self.machine.types.get(id.index());
        let variant = decl.and_then(|t| match &t.kind {
            TypeKind::Enum { variants } => variants.get(index as usize).map(|v| v.name.as_str()),
            _ => None,
        });
        format!("{}::{}", self.type_name(id), variant.unwrap_or("?"))
    }

    fn phase(&self, id: PhaseId) -> String {
        format!("Phase::{}", self.machine.phases.get(id.index()).map_or("?", |p| p.name.as_str()))
    }

    fn field(&self, id: FieldId) -> String {
        let name = self.machine.fields.get(id.index()).map_or("?", |f| f.name.as_str());
        if self.shadows(name) { format!("self.{name}") } else { name.to_string() }
    }
}

/// The binding strength of unary `!`, and of `if`, `if let` and `match` expressions, which may stand as an
/// operand but not as a method receiver: tighter than every binary operator.
const UNARY: u8 = BinOp::TIGHTEST + 1;
/// The binding strength of projections, method calls and quantifiers.
const POSTFIX: u8 = UNARY + 1;
/// Literals, names, calls, constructors: never parenthesised.
const ATOM: u8 = POSTFIX + 1;
/// The strength a position accepts when anything may stand there unparenthesised.
const ANY: u8 = 0;

/// How tightly an expression's outermost form binds, on the scale of [`BinOp::precedence`].
fn prec(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Binary(op, _, _) => op.precedence(),
        ExprKind::Not(_) | ExprKind::If(..) | ExprKind::IfLet { .. } | ExprKind::Match { .. } => UNARY,
        ExprKind::Project(..) | ExprKind::Method(..) | ExprKind::Quantifier { .. } => POSTFIX,
        _ => ATOM,
    }
}

/// A type in spec syntax: `Map<String, Option<Lease>>`.
pub fn ty(machine: &Machine, ty: &Type) -> String {
    machine.type_name(ty)
}

/// An expression in spec syntax, on one line.
///
/// ```
/// let package = meerkat_dsl::check_source(
///     "t.machine",
///     "machine T { phases { initial A } state { n: u64 = 0 } guard g = (n + 1) * 2 > 3 || n == 0 }",
/// )
/// .expect("the spec checks");
/// let machine = &package.machines[0];
/// let scope = meerkat_dsl::print::Scope::guard(machine, &machine.guards[0]);
/// assert_eq!(meerkat_dsl::print::expr(scope, &machine.guards[0].expr), "(n + 1) * 2 > 3 || n == 0");
/// ```
pub fn expr(scope: Scope<'_>, expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, scope, expr, ANY);
    out
}

/// An expression laid out over several lines when it does not fit in `width` columns after `indent`: a
/// `match` gets one arm per line and an `if` chain one branch per block, recursively; anything else stays on one
/// line. Continuation lines are indented by `indent` spaces (the first line is not).
pub fn expr_multiline(scope: Scope<'_>, e: &Expr, indent: usize, width: usize) -> String {
    let flat = expr(scope, e);
    if indent + flat.len() <= width {
        return flat;
    }
    let inner = indent + 4;
    let pad_inner = " ".repeat(inner);
    let pad = " ".repeat(indent);
    match &e.kind {
        ExprKind::Match { scrutinee, arms } => {
            let mut out = format!("match {} {{\n", expr(scope, scrutinee));
            for arm in arms {
                let patterns: Vec<String> = arm.patterns.iter().map(|p| pattern(scope, p)).collect();
                let head = format!("{} => ", patterns.join(" | "));
                let body = expr_multiline(scope, &arm.body, inner, width.saturating_sub(head.len()));
                out.push_str(&format!("{pad_inner}{head}{body},\n"));
            }
            out.push_str(&pad);
            out.push('}');
            out
        }
        ExprKind::If(..) | ExprKind::IfLet { .. } => {
            let mut out = String::new();
            let mut current = e;
            loop {
                let (head, then, else_) = match &current.kind {
                    ExprKind::If(cond, then, else_) => (format!("if {}", expr(scope, cond)), then, else_),
                    ExprKind::IfLet { pattern: p, scrutinee, then, else_ } => {
                        (format!("if let {} = {}", pattern(scope, p), expr(scope, scrutinee)), then, else_)
                    }
                    _ => break,
                };
                out.push_str(&format!(
                    "{head} {{\n{pad_inner}{}\n{pad}}} else ",
                    expr_multiline(scope, then, inner, width)
                ));
                if matches!(else_.kind, ExprKind::If(..) | ExprKind::IfLet { .. }) {
                    current = else_;
                    continue;
                }
                out.push_str(&format!("{{\n{pad_inner}{}\n{pad}}}", expr_multiline(scope, else_, inner, width)));
                break;
            }
            out
        }
        _ => flat,
    }
}

/// A pattern in spec syntax.
pub fn pattern(scope: Scope<'_>, pattern: &Pattern) -> String {
    match pattern {
        Pattern::Wildcard => "_".to_string(),
        Pattern::None => "None".to_string(),
        Pattern::Some(Some(local)) => format!("Some({})", scope.local(*local)),
        Pattern::Some(None) => "Some(_)".to_string(),
        Pattern::Bool(b) => b.to_string(),
        Pattern::Variant(id, index) => scope.variant(*id, *index),
        Pattern::Phase(id) => scope.phase(*id),
    }
}

fn write_list(out: &mut String, scope: Scope<'_>, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, scope, item, ANY);
    }
}

fn write_expr(out: &mut String, scope: Scope<'_>, e: &Expr, min: u8) {
    let parens = prec(e) < min;
    if parens {
        out.push('(');
    }
    match &e.kind {
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::U64(n) => out.push_str(&n.to_string()),
        ExprKind::Str(s) => out.push_str(&string_literal(s)),
        ExprKind::None => out.push_str("None"),
        ExprKind::Some(inner) => {
            out.push_str("Some(");
            write_expr(out, scope, inner, ANY);
            out.push(')');
        }
        ExprKind::PhaseLit(id) => out.push_str(&scope.phase(*id)),
        ExprKind::Variant(id, index) => out.push_str(&scope.variant(*id, *index)),
        ExprKind::Field(id) => out.push_str(&scope.field(*id)),
        ExprKind::Phase => out.push_str(&scope.machine.phase_field),
        ExprKind::Source => out.push_str("source"),
        ExprKind::Payload(index) => {
            let name = scope.payload.and_then(|m| m.fields.get(*index as usize)).map_or("?", |f| f.name.as_str());
            out.push_str(name);
        }
        ExprKind::Local(id) => out.push_str(scope.local(*id)),
        ExprKind::Param(index) => out.push_str(scope.params.get(*index as usize).map_or("?", |(n, _)| n.as_str())),
        ExprKind::Guard(id) => out.push_str(scope.machine.guards.get(id.index()).map_or("?", |g| g.name.as_str())),
        ExprKind::Call(id, args) => {
            out.push_str(scope.machine.helpers.get(id.index()).map_or("?", |h| h.name.as_str()));
            out.push('(');
            write_list(out, scope, args);
            out.push(')');
        }
        ExprKind::Record(id, values) => {
            let decl = scope.machine.types.get(id.index());
            out.push_str(scope.type_name(*id));
            if values.is_empty() {
                out.push_str(" {}");
            } else {
                out.push_str(" { ");
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let name = decl.and_then(|d| match &d.kind {
                        TypeKind::Record { fields } => fields.get(i).map(|f| f.name.as_str()),
                        _ => None,
                    });
                    out.push_str(name.unwrap_or("?"));
                    out.push_str(": ");
                    write_expr(out, scope, value, ANY);
                }
                out.push_str(" }");
            }
        }
        ExprKind::Newtype(id, inner) => {
            out.push_str(scope.type_name(*id));
            out.push('(');
            write_expr(out, scope, inner, ANY);
            out.push(')');
        }
        ExprKind::Project(base, projection) => {
            write_expr(out, scope, base, POSTFIX);
            out.push('.');
            out.push_str(&projection_name(scope.machine, &base.ty, *projection));
        }
        ExprKind::SeqLit(items) | ExprKind::SetLit(items) => {
            out.push('[');
            write_list(out, scope, items);
            out.push(']');
        }
        ExprKind::MapLit(entries) => {
            if entries.is_empty() {
                out.push_str("[:]");
            } else {
                out.push('[');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_expr(out, scope, k, ANY);
                    out.push_str(": ");
                    write_expr(out, scope, v, ANY);
                }
                out.push(']');
            }
        }
        ExprKind::Not(inner) => {
            out.push('!');
            write_expr(out, scope, inner, UNARY);
        }
        ExprKind::Binary(op, lhs, rhs) => {
            let p = op.precedence();
            // Comparisons do not chain, so both sides bind tighter; the other operators associate to the left.
            let left = if p == BinOp::COMPARISON { p + 1 } else { p };
            let right = p + 1;
            write_expr(out, scope, lhs, left);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_expr(out, scope, rhs, right);
        }
        ExprKind::Method(receiver, builtin, args) => {
            write_expr(out, scope, receiver, POSTFIX);
            out.push('.');
            out.push_str(builtin.as_str());
            out.push('(');
            write_list(out, scope, args);
            out.push(')');
        }
        ExprKind::Quantifier { kind, collection, params, body } => {
            write_expr(out, scope, collection, POSTFIX);
            out.push('.');
            out.push_str(match kind {
                Quantifier::All => "all",
                Quantifier::Any => "any",
                Quantifier::Count => "count",
            });
            out.push_str("(|");
            let names: Vec<&str> = params.iter().map(|p| scope.local(*p)).collect();
            out.push_str(&names.join(", "));
            out.push_str("| ");
            write_expr(out, scope, body, ANY);
            out.push(')');
        }
        ExprKind::If(cond, then, else_) => {
            out.push_str("if ");
            write_expr(out, scope, cond, ANY);
            write_branches(out, scope, then, else_);
        }
        ExprKind::IfLet { pattern: p, scrutinee, then, else_ } => {
            out.push_str("if let ");
            out.push_str(&pattern(scope, p));
            out.push_str(" = ");
            write_expr(out, scope, scrutinee, ANY);
            write_branches(out, scope, then, else_);
        }
        ExprKind::Match { scrutinee, arms } => {
            out.push_str("match ");
            write_expr(out, scope, scrutinee, ANY);
            out.push_str(" { ");
            for (i, arm) in arms.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_arm(out, scope, arm);
            }
            out.push_str(" }");
        }
    }
    if parens {
        out.push(')');
    }
}

fn write_branches(out: &mut String, scope: Scope<'_>, then: &Expr, else_: &Expr) {
    out.push_str(" { ");
    write_expr(out, scope, then, ANY);
    out.push_str(" } else ");
    // `else if` chains stay flat, as they would be written.
    if matches!(else_.kind, ExprKind::If(..) | ExprKind::IfLet { .. }) {
        write_expr(out, scope, else_, ANY);
    } else {
        out.push_str("{ ");
        write_expr(out, scope, else_, ANY);
        out.push_str(" }");
    }
}

fn write_arm(out: &mut String, scope: Scope<'_>, arm: &MatchArm) {
    let patterns: Vec<String> = arm.patterns.iter().map(|p| pattern(scope, p)).collect();
    out.push_str(&patterns.join(" | "));
    out.push_str(" => ");
    write_expr(out, scope, &arm.body, ANY);
}

/// The written form of a projection step from a value of type `base`: a record field's name, or `0`.
fn projection_name(machine: &Machine, base: &Type, projection: Projection) -> String {
    match projection {
        Projection::NewtypeInner => "0".to_string(),
        Projection::RecordField(index) => {
            let name = match base {
                Type::Named(id) => machine.types.get(id.index()).and_then(|t| match &t.kind {
                    TypeKind::Record { fields } => fields.get(index as usize).map(|f| f.name.clone()),
                    _ => None,
                }),
                _ => None,
            };
            name.unwrap_or_else(|| index.to_string())
        }
    }
}

/// A writable place in spec syntax: the state field, then its projections.
pub fn place(scope: Scope<'_>, place: &Place) -> String {
    let mut out = scope.field(place.field);
    let mut ty = scope.machine.fields.get(place.field.index()).map(|f| f.ty.clone());
    for step in &place.path {
        let Some(base) = ty else { break };
        out.push('.');
        out.push_str(&projection_name(scope.machine, &base, *step));
        ty = projected_type(scope.machine, &base, *step);
    }
    out
}

fn projected_type(machine: &Machine, base: &Type, projection: Projection) -> Option<Type> {
    let Type::Named(id) = base else { return None };
    match (&machine.types.get(id.index())?.kind, projection) {
        (TypeKind::Record { fields }, Projection::RecordField(i)) => fields.get(i as usize).map(|f| f.ty.clone()),
        (TypeKind::Newtype { inner }, Projection::NewtypeInner) => Some(inner.clone()),
        _ => None,
    }
}

/// Statements in spec syntax, one per line (blocks across several), each line prefixed with `indent` spaces
/// and ended with `\n`.
pub fn stmts(scope: Scope<'_>, stmts: &[Stmt], indent: usize) -> String {
    let mut out = String::new();
    write_stmts(&mut out, scope, stmts, indent);
    out
}

fn write_stmts(out: &mut String, scope: Scope<'_>, stmts: &[Stmt], indent: usize) {
    for stmt in stmts {
        write_stmt(out, scope, stmt, indent);
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_stmt(out: &mut String, scope: Scope<'_>, stmt: &Stmt, indent: usize) {
    pad(out, indent);
    match &stmt.kind {
        StmtKind::Let { local, value } => {
            out.push_str(&format!("let {} = {};\n", scope.local(*local), expr(scope, value)));
        }
        StmtKind::Assign { place: p, value } => {
            out.push_str(&format!("{} = {};\n", place(scope, p), expr(scope, value)));
        }
        StmtKind::Compound { place: p, op, value } => {
            out.push_str(&format!("{} {}= {};\n", place(scope, p), op.as_str(), expr(scope, value)));
        }
        StmtKind::Collection { place: p, op, args } => {
            use CollectionOp as C;
            let method = match op {
                C::SetInsert | C::MapInsert => "insert",
                C::SetRemove | C::MapRemove => "remove",
                C::SeqPush => "push",
                C::SeqPop => "pop",
                C::SeqPopFront => "pop_front",
                C::Clear => "clear",
            };
            let args: Vec<String> = args.iter().map(|a| expr(scope, a)).collect();
            out.push_str(&format!("{}.{method}({});\n", place(scope, p), args.join(", ")));
        }
        StmtKind::If { cond, then, else_ } => {
            out.push_str(&format!("if {} {{\n", expr(scope, cond)));
            write_stmts(out, scope, then, indent + 4);
            write_else(out, scope, else_, indent);
        }
        StmtKind::IfLet { pattern: p, scrutinee, then, else_ } => {
            out.push_str(&format!("if let {} = {} {{\n", pattern(scope, p), expr(scope, scrutinee)));
            write_stmts(out, scope, then, indent + 4);
            write_else(out, scope, else_, indent);
        }
        StmtKind::Emit { effect, fields } => {
            let decl = scope.machine.effects.get(effect.index());
            out.push_str("emit ");
            out.push_str(decl.map_or("?", |d| d.name.as_str()));
            let mut written = Vec::new();
            for (i, value) in fields.iter().enumerate() {
                let field = decl.and_then(|d| d.fields.get(i));
                let name = field.map_or("?", |f| f.name.as_str());
                // The checker fills an omitted field with a copy of the default carrying the emit's own span, so
                // a value spanning the whole statement is one the user did not write.
                let defaulted = field.is_some_and(|f| f.default.is_some()) && value.span == stmt.span;
                if defaulted {
                    continue;
                }
                let text = expr(scope, value);
                written.push(if text == name { name.to_string() } else { format!("{name}: {text}") });
            }
            if !written.is_empty() {
                out.push_str(&format!(" {{ {} }}", written.join(", ")));
            }
            out.push_str(";\n");
        }
    }
}

fn write_else(out: &mut String, scope: Scope<'_>, else_: &[Stmt], indent: usize) {
    pad(out, indent);
    if else_.is_empty() {
        out.push_str("}\n");
        return;
    }
    // A lone `if` in an else branch is an `else if` chain as written.
    if let [single] = else_ {
        if matches!(single.kind, StmtKind::If { .. } | StmtKind::IfLet { .. }) {
            out.push_str("} else ");
            let mut nested = String::new();
            write_stmt(&mut nested, scope, single, indent);
            out.push_str(nested.trim_start());
            return;
        }
    }
    out.push_str("} else {\n");
    write_stmts(out, scope, else_, indent + 4);
    pad(out, indent);
    out.push_str("}\n");
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use super::*;

    const SPEC: &str = r#"
machine M {
    enum Lamp { Red, Amber, Green }
    record Lease { holder: String, ttl: u64 }
    newtype Id(String)
    phases { initial A, B }
    state {
        n: u64 = 0,
        flag: bool = false,
        lamp: Lamp = Lamp::Red,
        xs: Seq<u64> = [1, 2],
        tags: Set<String> = [],
        leases: Map<Id, Lease> = [Id("a"): Lease { holder: "x\n\"y\"", ttl: 3 }],
        owner: Option<u64> = None,
    }
    input Go { n: u64, who: String }
    effect Seen { who: String, count: u64 = n, at: Phase = phase }
    fn pick(a: u64, b: u64) -> u64 { if a > b { a } else if a == b { 0 } else { b } }
    guard g1 = (n + 1) * 2 > 3 || n == 0
    guard g2 = !(flag && n > 1) || (n < 3) == flag
    guard g3 = n - (n - 1) == 1 && n / (2 * 3) >= n % 4
    guard g4 = (if flag { xs } else { [] }).len() == 0
    guard g5 = match lamp { Lamp::Red | Lamp::Amber => 1, _ => 2 } == pick(n, 1)
    guard g6 = xs.all(|x| x > 0) && leases.any(|k, v| k.0 == v.holder) && owner.unwrap_or(0) + 1 > 0
    guard g7 = if let Some(o) = owner { o > 1 } else { !g1 }
    guard g8 = phase == Phase::A && leases.get(Id("a")).is_some() && tags.contains("t")
    transition Step on Go from A -> B when self.n < n, !g2 {
        let total = self.n + n;
        self.n = total;
        if total > 3 {
            flag = true;
        } else if flag {
            xs.push(n);
        } else {
            tags.insert(who);
        }
        leases.remove(Id(who));
        emit Seen { who };
        emit Seen { who: "z", count: 1 };
    }
}
"#;

    fn checked() -> crate::CheckedMachine {
        match crate::check_source("m.machine", SPEC) {
            Ok(mut package) => package.machines.remove(0),
            Err(e) => panic!("{}", e.render(crate::RenderOptions::default())),
        }
    }

    /// Each guard is written in the spec exactly as the printer should print it, so a wrong parenthesis or
    /// operator shows up as a difference against the source text.
    #[test]
    fn guards_print_as_written() {
        let m = checked();
        for guard in &m.guards {
            let written = guard.span.text(SPEC);
            let expected = written.split_once(" = ").map_or("", |(_, e)| e).trim();
            assert_eq!(expr(Scope::guard(&m, guard), &guard.expr), expected, "guard {}", guard.name);
        }
        let helper = &m.helpers[0];
        assert_eq!(expr(Scope::helper(&m, helper), &helper.body), "if a > b { a } else if a == b { 0 } else { b }");
        let leases = &m.fields[5];
        assert_eq!(expr(Scope::constant(&m), &leases.init), r#"[Id("a"): Lease { holder: "x\n\"y\"", ttl: 3 }]"#);
    }

    #[test]
    fn long_matches_and_ifs_break_over_lines() {
        let m = checked();
        let g5 = &m.guards[4];
        let scope = Scope::guard(&m, g5);
        let ExprKind::Binary(_, lhs, _) = &g5.expr.kind else { panic!("g5 is a comparison") };
        assert_eq!(expr_multiline(scope, lhs, 4, 100), expr(scope, lhs), "short expressions stay on one line");
        assert_eq!(
            expr_multiline(scope, lhs, 4, 20),
            "match lamp {\n        Lamp::Red | Lamp::Amber => 1,\n        _ => 2,\n    }"
        );
        let helper = &m.helpers[0];
        assert_eq!(
            expr_multiline(Scope::helper(&m, helper), &helper.body, 0, 20),
            "if a > b {\n    a\n} else if a == b {\n    0\n} else {\n    b\n}"
        );
    }

    #[test]
    fn bodies_print_with_shadowing_shorthand_and_defaults() {
        let m = checked();
        let t = &m.transitions[0];
        let scope = Scope::transition(&m, t);
        let guards: Vec<String> = t.guards.iter().map(|g| expr(scope, &g.expr)).collect();
        assert_eq!(guards, ["self.n < n", "!g2"]);
        assert_eq!(
            stmts(scope, &t.body, 4),
            "    let total = self.n + n;
    self.n = total;
    if total > 3 {
        flag = true;
    } else if flag {
        xs.push(n);
    } else {
        tags.insert(who);
    }
    leases.remove(Id(who));
    emit Seen { who };
    emit Seen { who: \"z\", count: 1 };
"
        );
    }
}
