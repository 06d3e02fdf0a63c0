//! The local bindings of a machine's expressions and statements: `let` names, closure parameters and the names
//! `Some(x)` patterns bind (in `match` arms and `if let`), each with its scope, the text it is visible in. A
//! helper's parameters are not here: the index records them with their helper. The checker knows each body's
//! locals' types (in the order it binds them, without places); [`LocalTypes`] gives them back per body.

use std::collections::HashMap;

use meerkat_dsl::Span;
use meerkat_dsl::ast::{Arg, Block, Condition, Expr, ExprKind, Ident, PatternKind, Stmt, StmtKind};
use meerkat_dsl::{CheckedPackage, SourceId};

/// The types the checker gave the locals of each body (a helper, guard, invariant, property or transition),
/// by its file and span: `(name, type)` in the order the checker bound them. Empty when the package does not
/// check, since the checker then hands back no machines.
#[derive(Debug, Default)]
pub struct LocalTypes {
    bodies: HashMap<(SourceId, Span), Vec<(String, String)>>,
}

impl LocalTypes {
    /// The local types of every body of a checked package.
    pub fn new(package: &CheckedPackage) -> Self {
        let mut bodies = HashMap::new();
        for checked in &package.machines {
            let machine = checked.ir();
            let mut add = |span: Span, locals: &[meerkat_dsl::ir::Local]| {
                let typed = locals.iter().map(|l| (l.name.clone(), machine.type_name(&l.ty))).collect();
                bodies.insert((machine.source, span), typed);
            };
            machine.helpers.iter().for_each(|h| add(h.span, &h.locals));
            machine.guards.iter().for_each(|g| add(g.span, &g.locals));
            machine.invariants.iter().for_each(|i| add(i.span, &i.locals));
            machine.properties.iter().for_each(|p| add(p.span, &p.locals));
            machine.transitions.iter().for_each(|t| add(t.span, &t.locals));
        }
        LocalTypes { bodies }
    }

    /// Gives the bindings `found` of the body at `span` of file `file` their types, when the checker bound the
    /// same names in the same order (otherwise their declaration text stays what hover shows).
    pub fn annotate(&self, file: usize, span: Span, found: &mut [Local]) {
        let id = SourceId(u32::try_from(file).unwrap_or(u32::MAX));
        let Some(typed) = self.bodies.get(&(id, span)) else { return };
        let same = typed.len() == found.len() && typed.iter().zip(found.iter()).all(|((n, _), l)| *n == l.name.name);
        if !same {
            return;
        }
        for ((name, ty), local) in typed.iter().zip(found.iter_mut()) {
            local.detail = format!("{name}: {ty}\n// {}", local.detail);
        }
    }
}

/// One local binding.
#[derive(Clone, Debug)]
pub struct Local {
    /// The bound name where it is bound.
    pub name: Ident,
    /// Where the name means this binding.
    pub scope: Span,
    /// What hover shows: its type when the checker knows it, and the binding's declaration.
    pub detail: String,
}

/// Collects the bindings of expressions and blocks of one file's text.
pub struct Locals<'t> {
    text: &'t str,
    /// The bindings found so far, in the order they are written.
    pub found: Vec<Local>,
}

impl<'t> Locals<'t> {
    /// A collector over `text`, the file the expressions were parsed from.
    pub fn new(text: &'t str) -> Self {
        Locals { text, found: Vec::new() }
    }

    fn bind(&mut self, name: &Ident, scope: Span, detail: String) {
        self.found.push(Local { name: name.clone(), scope, detail });
    }

    fn first_line(&self, span: Span) -> String {
        let text = span.text(self.text);
        let line = text.lines().next().unwrap_or("").trim_end();
        if line.len() < text.trim_end().len() { format!("{line} …") } else { line.to_string() }
    }

    /// The bindings of a block, its statements' and their expressions'.
    pub fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt, block.span);
        }
    }

    fn stmt(&mut self, stmt: &Stmt, block: Span) {
        match &stmt.kind {
            StmtKind::Let { name, ty, value } => {
                self.expr(value);
                let detail = match ty {
                    Some(ty) => format!("let {}: {}", name.name, ty.span.text(self.text)),
                    None => self.first_line(stmt.span),
                };
                // Visible from the end of the `let` to the end of its block, so `let x = x + 1` reads the outer `x`.
                self.bind(name, Span::new(stmt.span.end, block.end), detail);
            }
            StmtKind::Emit { fields, .. } => {
                for value in fields.iter().filter_map(|f| f.value.as_ref()) {
                    self.expr(value);
                }
            }
            StmtKind::If { cond, then, else_ } => {
                self.condition(cond, then.span);
                self.block(then);
                if let Some(else_) = else_ {
                    self.block(else_);
                }
            }
            StmtKind::Call { args, .. } => args.iter().for_each(|arg| self.expr(arg)),
            StmtKind::Assign { value, .. } => self.expr(value),
        }
    }

    /// An `if [let pattern =] expr` whose binding is visible in `then`.
    fn condition(&mut self, cond: &Condition, then: Span) {
        self.expr(&cond.expr);
        if let Some(pattern) = &cond.pattern {
            if let PatternKind::Some(Some(name)) = &pattern.kind {
                let detail = format!("{} (bound by `if let {}`)", name.name, pattern.span.text(self.text));
                self.bind(name, then, detail);
            }
        }
    }

    /// The bindings inside an expression.
    pub fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Str(_)
            | ExprKind::None
            | ExprKind::Name(_)
            | ExprKind::Path(..) => {}
            ExprKind::Some(inner) | ExprKind::Not(inner) | ExprKind::Paren(inner) | ExprKind::Field(inner, _) => {
                self.expr(inner)
            }
            ExprKind::Call(_, args) => args.iter().for_each(|arg| self.expr(arg)),
            ExprKind::Record(_, fields) => fields.iter().for_each(|(_, value)| self.expr(value)),
            ExprKind::Bracket { items, .. } => {
                for (item, value) in items {
                    self.expr(item);
                    if let Some(value) = value {
                        self.expr(value);
                    }
                }
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Method { recv, args, .. } => {
                self.expr(recv);
                for arg in args {
                    match arg {
                        Arg::Expr(e) => self.expr(e),
                        Arg::Closure { params, body, span } => {
                            let head = self.first_line(*span);
                            for param in params {
                                let detail = format!("{} (closure parameter of `{head}`)", param.name);
                                self.bind(param, body.span, detail);
                            }
                            self.expr(body);
                        }
                    }
                }
            }
            ExprKind::If { cond, then, else_ } => {
                self.condition(cond, then.span);
                self.expr(then);
                self.expr(else_);
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms {
                    for pattern in &arm.patterns {
                        if let PatternKind::Some(Some(name)) = &pattern.kind {
                            let detail =
                                format!("{} (bound by the match arm `{}`)", name.name, pattern.span.text(self.text));
                            self.bind(name, arm.body.span, detail);
                        }
                    }
                    self.expr(&arm.body);
                }
            }
        }
    }
}
