//! Lowering expressions: literals (with the lexical checks of integers and string escapes, and the writer of
//! string literals next to their reader), operator precedence over the grammar's flat operand/operator
//! sequences, method arguments, and the nesting bound.

use pest::iterators::Pair;

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::span::Span;

use super::grammar::{MAX_NESTING, MAX_TREE_DEPTH, Rule};
use super::lower::{Lower, missing, missing_expr, span_of};

/// `text` as a string literal of the language, quoted, with the escapes the parser reads back
/// (`\n \t \r \0 \\ \"`).
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Lower<'_> {
    pub(super) fn record_field(&mut self, pair: Pair<'_, Rule>, fallback: Span) -> (Ident, Expr) {
        let mut f = pair.into_inner();
        let name = f.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(fallback));
        let value = f.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(fallback));
        (name, value)
    }

    pub(super) fn int(&mut self, pair: &Pair<'_, Rule>) -> u64 {
        let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
        match digits.parse::<u64>() {
            Ok(v) => v,
            Err(_) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::IntegerTooLarge,
                        self.source,
                        "integer literal is too large for a u64",
                        Label::new(span_of(pair), "does not fit in 64 bits"),
                    )
                    .with_help(format!("the largest u64 is {}", u64::MAX)),
                );
                0
            }
        }
    }

    pub(super) fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let inner = pair.into_inner().next();
        let Some(inner) = inner else { return String::new() };
        let raw = inner.as_str();
        let base = inner.as_span().start();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '0')) => out.push('\0'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((j, other)) => {
                    let span = Span::new(base + i, base + j + other.len_utf8());
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidEscape,
                            self.source,
                            format!("unknown escape `\\{other}` in string literal"),
                            Label::new(span, "unknown escape"),
                        )
                        .with_help("the escapes are `\\n`, `\\t`, `\\r`, `\\0`, `\\\\` and `\\\"`"),
                    );
                }
                None => {}
            }
        }
        out
    }

    /// Lowers an expression. The outermost call of an expression also checks the depth of the finished tree.
    pub(super) fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let pair = skip_wrappers(pair);
        let span = span_of(&pair);
        let outermost = self.nesting == 0;
        if outermost {
            self.deep_reported = false;
        }
        // The next link of a chain (an `else if`) sits at the chain's level of nesting, one level deeper in the tree.
        let level = usize::from(!std::mem::take(&mut self.chain_link));
        if self.nesting + level > MAX_NESTING || self.tree_depth >= MAX_TREE_DEPTH {
            self.too_deep(span);
            return missing_expr(span);
        }
        self.nesting += level;
        self.tree_depth += 1;
        let e = self.expr_node(pair);
        self.nesting -= level;
        self.tree_depth -= 1;
        if outermost {
            if let Some(deep) = first_too_deep(&e) {
                self.too_deep(deep);
                return missing_expr(e.span);
            }
        }
        e
    }

    /// Reports, once per outermost expression, that an expression nests beyond [`MAX_NESTING`].
    pub(super) fn too_deep(&mut self, span: Span) {
        if self.deep_reported {
            return;
        }
        self.deep_reported = true;
        self.diagnostics.push(
            Diagnostic::new(
                Code::Syntax,
                self.source,
                format!("this expression nests more than {MAX_NESTING} levels deep"),
                Label::new(Span::new(span.start, span.start), "too deep here"),
            )
            .with_help("split it up with `let` bindings, named guards or helpers"),
        );
    }

    pub(super) fn expr_node(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::expr => self.binary_chain(pair),
            Rule::unary => {
                let mut nots = Vec::new();
                let mut operand = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::not_op => nots.push(span_of(&part)),
                        _ => operand = Some(self.expr(part)),
                    }
                }
                if nots.len() > MAX_NESTING {
                    self.too_deep(span);
                    return missing_expr(span);
                }
                let mut e = operand.unwrap_or_else(|| missing_expr(span));
                for not_span in nots.into_iter().rev() {
                    let s = not_span.to(e.span);
                    e = Expr { kind: ExprKind::Not(Box::new(e)), span: s };
                }
                e
            }
            Rule::postfix => {
                if pair.clone().into_inner().count() > MAX_NESTING {
                    self.too_deep(span);
                    return missing_expr(span);
                }
                let mut inner = pair.into_inner();
                let mut e = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                for op in inner {
                    let op_span = span_of(&op);
                    match op.as_rule() {
                        Rule::method_call => {
                            let mut parts = op.into_inner();
                            let method = parts.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(op_span));
                            let args = parts.map(|a| self.arg(a)).collect();
                            let s = e.span.to(op_span);
                            e = Expr { kind: ExprKind::Method { recv: Box::new(e), method, args }, span: s };
                        }
                        Rule::field_access => {
                            let field =
                                op.into_inner().next().map(|p| self.ident(p)).unwrap_or_else(|| missing(op_span));
                            let s = e.span.to(op_span);
                            e = Expr { kind: ExprKind::Field(Box::new(e), field), span: s };
                        }
                        _ => {}
                    }
                }
                e
            }
            Rule::paren => {
                let inner = pair.into_inner().next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                Expr { kind: ExprKind::Paren(Box::new(inner)), span }
            }
            Rule::true_kw => Expr { kind: ExprKind::Bool(true), span },
            Rule::false_kw => Expr { kind: ExprKind::Bool(false), span },
            Rule::none_kw => Expr { kind: ExprKind::None, span },
            Rule::int => Expr { kind: ExprKind::Int(self.int(&pair)), span },
            Rule::string => Expr { kind: ExprKind::Str(self.string(pair)), span },
            Rule::some_expr => {
                let inner = pair.into_inner().next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                Expr { kind: ExprKind::Some(Box::new(inner)), span }
            }
            Rule::bracket_lit => {
                let mut items = Vec::new();
                let mut empty_map = false;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::empty_map => empty_map = true,
                        Rule::bracket_item => {
                            let mut kv = part.into_inner();
                            let key = kv.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                            let value = kv.next().map(|p| self.expr(p));
                            items.push((key, value));
                        }
                        _ => {}
                    }
                }
                Expr { kind: ExprKind::Bracket { items, empty_map }, span }
            }
            Rule::named => {
                let mut inner = pair.into_inner();
                let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                let kind = match inner.next() {
                    None => ExprKind::Name(name),
                    Some(tail) => match tail.as_rule() {
                        Rule::record_body => {
                            ExprKind::Record(name, tail.into_inner().map(|f| self.record_field(f, span)).collect())
                        }
                        Rule::call_args => ExprKind::Call(name, tail.into_inner().map(|a| self.expr(a)).collect()),
                        _ => {
                            let variant =
                                tail.into_inner().next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                            ExprKind::Path(name, variant)
                        }
                    },
                };
                Expr { kind, span }
            }
            Rule::if_expr => {
                let mut cond = None;
                let mut exprs = Vec::new();
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::condition => cond = Some(self.condition(part)),
                        Rule::if_expr => {
                            self.chain_link = true;
                            exprs.push(self.expr(part));
                        }
                        _ => exprs.push(self.expr(part)),
                    }
                }
                let mut exprs = exprs.into_iter();
                let then = exprs.next().unwrap_or_else(|| missing_expr(span));
                let else_ = exprs.next().unwrap_or_else(|| missing_expr(span));
                let cond = cond.unwrap_or_else(|| Condition { pattern: None, expr: missing_expr(span) });
                Expr { kind: ExprKind::If { cond: Box::new(cond), then: Box::new(then), else_: Box::new(else_) }, span }
            }
            Rule::match_expr => {
                let mut inner = pair.into_inner();
                let scrutinee = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                let arms = inner
                    .map(|arm| {
                        let arm_span = span_of(&arm);
                        let mut patterns = Vec::new();
                        let mut body = missing_expr(arm_span);
                        for part in arm.into_inner() {
                            match part.as_rule() {
                                Rule::pattern => patterns.push(self.pattern(part)),
                                _ => body = self.expr(part),
                            }
                        }
                        MatchArm { patterns, body, span: arm_span }
                    })
                    .collect();
                Expr { kind: ExprKind::Match { scrutinee: Box::new(scrutinee), arms }, span }
            }
            _ => missing_expr(span),
        }
    }

    pub(super) fn arg(&mut self, pair: Pair<'_, Rule>) -> Arg {
        let span = span_of(&pair);
        if pair.as_rule() == Rule::closure {
            let mut params = Vec::new();
            let mut body = missing_expr(span);
            for part in pair.into_inner() {
                match part.as_rule() {
                    Rule::ident => params.push(self.ident(part)),
                    _ => body = self.expr(part),
                }
            }
            Arg::Closure { params, body, span }
        } else {
            Arg::Expr(self.expr(pair))
        }
    }

    /// Builds the tree of `a op b op c ...` with the operators' precedence, all left-associative; reports a chained
    /// comparison (`a < b < c`), which has no meaning here.
    pub(super) fn binary_chain(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        // Operands and operators alternate. The tree is built without recursion, however long the chain; the
        // outermost `expr` bounds its depth afterwards.
        let mut operands: Vec<Expr> = Vec::new();
        let mut operators: Vec<(BinOp, Span)> = Vec::new();
        for part in pair.into_inner() {
            if part.as_rule() != Rule::infix_op {
                let operand = self.expr(part);
                operands.push(operand);
                continue;
            }
            // The grammar's `infix_op` rule lists exactly the operators' spellings.
            let op = BinOp::from_text(part.as_str()).unwrap_or(BinOp::Rem);
            let op_span = span_of(&part);
            // Reduce what binds at least as tightly (left associativity) before pushing the new operator.
            while let Some(&(top, top_span)) = operators.last() {
                if top.precedence() < op.precedence() {
                    break;
                }
                if top.precedence() == BinOp::COMPARISON && op.precedence() == BinOp::COMPARISON {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::Syntax,
                            self.source,
                            "comparison operators cannot be chained",
                            Label::new(op_span, "second comparison"),
                        )
                        .with_label(top_span, "first comparison")
                        .with_help("write `a < b && b < c`, or use parentheses if a `bool` is meant to be compared"),
                    );
                }
                operators.pop();
                reduce(&mut operands, top, top_span);
            }
            operators.push((op, op_span));
        }
        while let Some((op, op_span)) = operators.pop() {
            reduce(&mut operands, op, op_span);
        }
        operands.pop().unwrap_or_else(|| missing_expr(span))
    }
}

/// Skips the grammar rules that hold a single child (`expr` > `unary` > `postfix` around a lone primary), so
/// lowering recurses once per level of the tree rather than once per grammar rule.
fn skip_wrappers(mut pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    loop {
        let wrapper = matches!(pair.as_rule(), Rule::expr | Rule::unary | Rule::postfix);
        if !wrapper {
            return pair;
        }
        let mut inner = pair.clone().into_inner();
        match (inner.next(), inner.next()) {
            (Some(only), None) => pair = only,
            _ => return pair,
        }
    }
}

/// The span of the first node nested deeper than [`MAX_NESTING`] levels, or deeper than [`MAX_TREE_DEPTH`] in the
/// tree, found without recursion. The left operand of an operator of the same precedence, and the `else` of an
/// `if` that is another `if`, continue a chain: they are one level deeper in the tree but not in nesting.
fn first_too_deep(root: &Expr) -> Option<Span> {
    let mut stack: Vec<(&Expr, usize, usize)> = vec![(root, 1, 1)];
    while let Some((e, nesting, depth)) = stack.pop() {
        if nesting > MAX_NESTING || depth > MAX_TREE_DEPTH {
            return Some(e.span);
        }
        fn entry(child: &Expr, chained: bool, nesting: usize, depth: usize) -> (&Expr, usize, usize) {
            (child, if chained { nesting } else { nesting + 1 }, depth + 1)
        }
        let push = |child, chained| entry(child, chained, nesting, depth);
        match &e.kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Str(_)
            | ExprKind::None
            | ExprKind::Name(_)
            | ExprKind::Path(..) => {}
            ExprKind::Some(inner) | ExprKind::Not(inner) | ExprKind::Paren(inner) | ExprKind::Field(inner, _) => {
                stack.push(push(inner, false));
            }
            ExprKind::Call(_, args) => stack.extend(args.iter().map(|a| push(a, false))),
            ExprKind::Record(_, fields) => stack.extend(fields.iter().map(|(_, v)| push(v, false))),
            ExprKind::Bracket { items, .. } => {
                for (key, value) in items {
                    stack.push(push(key, false));
                    stack.extend(value.iter().map(|v| push(v, false)));
                }
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                let continues =
                    matches!(&lhs.kind, ExprKind::Binary { op: inner, .. } if inner.precedence() == op.precedence());
                stack.push(push(lhs, continues));
                stack.push(push(rhs, false));
            }
            ExprKind::Method { recv, args, .. } => {
                stack.push(push(recv, false));
                for arg in args {
                    match arg {
                        Arg::Expr(a) => stack.push(push(a, false)),
                        Arg::Closure { body, .. } => stack.push(push(body, false)),
                    }
                }
            }
            ExprKind::If { cond, then, else_ } => {
                stack.push(push(&cond.expr, false));
                stack.push(push(then, false));
                stack.push(push(else_, matches!(else_.kind, ExprKind::If { .. })));
            }
            ExprKind::Match { scrutinee, arms } => {
                stack.push(push(scrutinee, false));
                stack.extend(arms.iter().map(|arm| push(&arm.body, false)));
            }
        }
    }
    None
}

/// Replaces the two topmost operands by their combination with `op`.
fn reduce(operands: &mut Vec<Expr>, op: BinOp, op_span: Span) {
    let rhs = operands.pop();
    let lhs = operands.pop();
    let (lhs, rhs) = match (lhs, rhs) {
        (Some(lhs), Some(rhs)) => (lhs, rhs),
        // The grammar alternates operands and operators, so both are there; keep whatever is left regardless.
        (lhs, rhs) => (lhs.unwrap_or_else(|| missing_expr(op_span)), rhs.unwrap_or_else(|| missing_expr(op_span))),
    };
    let span = lhs.span.to(rhs.span);
    operands.push(Expr { kind: ExprKind::Binary { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span });
}
