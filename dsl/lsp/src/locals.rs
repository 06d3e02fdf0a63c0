//! The local bindings of a machine's expressions and statements: `let` names, closure parameters and the names
//! `Some(x)` patterns bind (in `match` arms and `if let`), each with its scope, the text it is visible in. A
//! helper's parameters are not here: the index records them with their helper.

use meerkat_dsl::Span;
use meerkat_dsl::ast::{Arg, Block, Condition, Expr, ExprKind, Ident, PatternKind, Stmt, StmtKind};

/// One local binding.
#[derive(Clone, Debug)]
pub struct Local {
    /// The bound name where it is bound.
    pub name: Ident,
    /// Where the name means this binding.
    pub scope: Span,
    /// What hover shows: the binding's declaration (with its type when one is written).
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
