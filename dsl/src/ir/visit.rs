//! The one walker over the IR: every pass that needs the subexpressions of an expression, the statements of a
//! body or the expressions of a statement asks here, so the shape of [`ExprKind`] and [`StmtKind`] is spelled
//! out once (like rust-analyzer's `walk_child_exprs`).
//!
//! Children come in evaluation order: a method's receiver before its arguments, a quantifier's collection before
//! its body, a map literal's entries key then value, an `if`'s condition before its branches, a `match`'s
//! scrutinee before its arm bodies. Callers that must tell children apart (a quantifier's body runs once per
//! element) match on the parent themselves and recurse with [`for_each_child`].

use super::{Expr, ExprKind, Stmt, StmtKind};

/// Calls `f` on each expression directly inside `e`, in evaluation order (not on `e`, not on grandchildren).
pub fn for_each_child<'a>(e: &'a Expr, mut f: impl FnMut(&'a Expr)) {
    match &e.kind {
        ExprKind::Bool(_)
        | ExprKind::U64(_)
        | ExprKind::Str(_)
        | ExprKind::None
        | ExprKind::PhaseLit(_)
        | ExprKind::Variant(_, _)
        | ExprKind::Field(_)
        | ExprKind::Phase
        | ExprKind::Source
        | ExprKind::Payload(_)
        | ExprKind::Local(_)
        | ExprKind::Param(_)
        | ExprKind::Guard(_) => {}
        ExprKind::Some(inner) | ExprKind::Newtype(_, inner) | ExprKind::Project(inner, _) | ExprKind::Not(inner) => {
            f(inner)
        }
        ExprKind::Call(_, items) | ExprKind::Record(_, items) | ExprKind::SeqLit(items) | ExprKind::SetLit(items) => {
            items.iter().for_each(f)
        }
        ExprKind::MapLit(entries) => {
            for (key, value) in entries {
                f(key);
                f(value);
            }
        }
        ExprKind::Binary(_, lhs, rhs) => {
            f(lhs);
            f(rhs);
        }
        ExprKind::Method(receiver, _, args) => {
            f(receiver);
            args.iter().for_each(f);
        }
        ExprKind::Quantifier { collection, body, .. } => {
            f(collection);
            f(body);
        }
        ExprKind::If(cond, then, else_) => {
            f(cond);
            f(then);
            f(else_);
        }
        ExprKind::IfLet { scrutinee, then, else_, .. } => {
            f(scrutinee);
            f(then);
            f(else_);
        }
        ExprKind::Match { scrutinee, arms } => {
            f(scrutinee);
            arms.iter().for_each(|arm| f(&arm.body));
        }
    }
}

/// Calls `f` on `e` and on every expression inside it, outermost first (preorder, children in evaluation order).
///
/// ```
/// # let package = meerkat_dsl::check_source("t.machine",
/// #     "machine T { phases { initial A } state { n: u64 = 0 } guard g = n + 1 > 2 }").expect("checks");
/// # let guard = &package.machines[0].guards[0];
/// let mut fields = 0;
/// meerkat_dsl::ir::visit::walk_expr(&guard.expr, &mut |e| {
///     fields += usize::from(matches!(e.kind, meerkat_dsl::ir::ExprKind::Field(_)))
/// });
/// assert_eq!(fields, 1);
/// ```
pub fn walk_expr<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr)) {
    f(e);
    for_each_child(e, |child| walk_expr(child, f));
}

/// Calls `f` on each expression directly in a statement, in evaluation order: values, collection arguments,
/// conditions, scrutinees and emitted fields, but not the expressions of the statements nested in its branches.
pub fn for_each_stmt_expr<'a>(s: &'a Stmt, mut f: impl FnMut(&'a Expr)) {
    match &s.kind {
        StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } | StmtKind::Compound { value, .. } => f(value),
        StmtKind::Collection { args, .. } => args.iter().for_each(f),
        StmtKind::If { cond, .. } => f(cond),
        StmtKind::IfLet { scrutinee, .. } => f(scrutinee),
        StmtKind::Emit { fields, .. } => fields.iter().for_each(f),
    }
}

/// The statements nested directly in a statement's branches: `then` then `else` for `if` and `if let`, nothing
/// for the others.
pub fn nested_stmts(s: &Stmt) -> [&[Stmt]; 2] {
    match &s.kind {
        StmtKind::If { then, else_, .. } | StmtKind::IfLet { then, else_, .. } => [then, else_],
        StmtKind::Let { .. }
        | StmtKind::Assign { .. }
        | StmtKind::Compound { .. }
        | StmtKind::Collection { .. }
        | StmtKind::Emit { .. } => [&[], &[]],
    }
}

/// Calls `f` on every statement of `stmts`, nested ones included, in the order they are written (a statement
/// before the statements of its branches).
pub fn walk_stmts<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for s in stmts {
        f(s);
        for branch in nested_stmts(s) {
            walk_stmts(branch, f);
        }
    }
}

/// Calls `f` on every expression of `stmts` and of the statements nested in them, each statement's own
/// expressions (preorder) before those of its branches.
pub fn walk_stmt_exprs<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a Expr)) {
    walk_stmts(stmts, &mut |s| for_each_stmt_expr(s, |e| walk_expr(e, f)));
}

/// Whether a statement writes state itself: an assignment, a compound assignment or a collection operation
/// (`let` only binds a local, `emit` only adds an effect; an `if` writes through its branches, see
/// [`writes_state`]).
pub fn is_write(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Assign { .. } | StmtKind::Compound { .. } | StmtKind::Collection { .. } => true,
        StmtKind::Let { .. } | StmtKind::Emit { .. } | StmtKind::If { .. } | StmtKind::IfLet { .. } => false,
    }
}

/// Whether running `stmts` can write state, on some branch.
pub fn writes_state(stmts: &[Stmt]) -> bool {
    let mut writes = false;
    walk_stmts(stmts, &mut |s| writes |= is_write(s));
    writes
}

#[cfg(test)]
#[allow(clippy::panic, reason = "a test fails loudly on a spec that does not check")]
mod tests {
    use super::*;

    fn machine(text: &str) -> crate::CheckedMachine {
        match crate::check_source("t.machine", text) {
            Ok(mut package) => package.machines.remove(0),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn expressions_are_walked_outermost_first_in_evaluation_order() {
        let m = machine(
            "machine T { phases { initial A } state { n: u64 = 0, xs: Seq<u64> = [] }
               guard g = xs.all(|x| x > n) || [1: 2].contains_key(n + 3) }",
        );
        let mut literals = Vec::new();
        let mut nodes = 0;
        walk_expr(&m.guards[0].expr, &mut |e| {
            nodes += 1;
            if let ExprKind::U64(n) = e.kind {
                literals.push(n);
            }
        });
        assert_eq!(literals, [1, 2, 3]);
        // `||`, all, xs, `>`, x, n, contains_key, [1: 2], 1, 2, `+`, n, 3.
        assert_eq!(nodes, 13);
    }

    #[test]
    fn statements_and_writes_are_found_in_branches() {
        let m = machine(
            "machine T { phases { initial A } state { n: u64 = 0 } input Go { k: u64 } effect E { v: u64 }
               transition Read on Go from A -> stay when k > 100 { let t = k; emit E { v: t } }
               transition Write on Go from A -> stay when k <= 100 { if k > 1 { emit E { v: k } } else { n += k } } }",
        );
        let [read, write] = [&m.transitions[0].body, &m.transitions[1].body];
        assert!(!writes_state(read));
        assert!(writes_state(write));
        let mut kinds = Vec::new();
        walk_stmts(write, &mut |s| kinds.push(is_write(s)));
        assert_eq!(kinds, [false, false, true], "if, emit, compound");
        let mut payload_reads = 0;
        walk_stmt_exprs(write, &mut |e| payload_reads += usize::from(matches!(e.kind, ExprKind::Payload(_))));
        assert_eq!(payload_reads, 3, "`k > 1`, `v: k`, `n += k`");
    }
}
