//! The one walker over the IR: every pass that needs the subexpressions of an expression, the statements of a
//! body or the expressions of a statement asks here, so the shape of [`ExprKind`] and [`StmtKind`] is spelled
//! out once (like rust-analyzer's `walk_child_exprs`).
//!
//! Children come in evaluation order: a method's receiver before its arguments, a quantifier's collection before
//! its body, a map literal's entries key then value, an `if`'s condition before its branches, a `match`'s
//! scrutinee before its arm bodies. Callers that must tell children apart (a quantifier's body runs once per
//! element) match on the parent themselves and recurse with [`for_each_child`].

use std::collections::BTreeSet;

use super::{CollectionOp, Expr, ExprKind, FieldId, Machine, Stmt, StmtKind, Target, Transition};

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

/// The state an expression reads: fields, and whether it reads the phase, following named guards and helper
/// calls into their bodies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateReads {
    /// The fields it reads.
    pub fields: BTreeSet<FieldId>,
    /// Whether it reads the current phase.
    pub phase: bool,
}

/// What `e` reads of the state of `machine` (through guards and helpers too).
pub fn state_reads(machine: &Machine, e: &Expr) -> StateReads {
    let mut reads = StateReads::default();
    let (mut guards, mut helpers) = (BTreeSet::new(), BTreeSet::new());
    collect_reads(machine, e, &mut reads, &mut guards, &mut helpers);
    reads
}

fn collect_reads(
    machine: &Machine,
    e: &Expr,
    reads: &mut StateReads,
    guards: &mut BTreeSet<u32>,
    helpers: &mut BTreeSet<u32>,
) {
    walk_expr(e, &mut |sub| match &sub.kind {
        ExprKind::Field(field) => {
            reads.fields.insert(*field);
        }
        ExprKind::Phase | ExprKind::Source => reads.phase = true,
        ExprKind::Guard(id) => {
            if guards.insert(id.0)
                && let Some(guard) = machine.guards.get(id.index())
            {
                collect_reads(machine, &guard.expr, reads, guards, helpers);
            }
        }
        ExprKind::Call(id, _) => {
            if helpers.insert(id.0)
                && let Some(helper) = machine.helpers.get(id.index())
            {
                collect_reads(machine, &helper.body, reads, guards, helpers);
            }
        }
        _ => {}
    });
}

/// How a transition writes one state field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldWrite {
    /// Only whole entries of a map, by key (`insert`, `remove`): what every other entry holds is unchanged.
    MapEntries,
    /// Any other way (an assignment, a compound assignment, another collection operation, a write through a
    /// projection).
    Other,
}

/// The state a transition's body (and target) may write, on some branch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateWrites {
    /// Every field written, with how (the coarser way when it is written in two ways).
    pub fields: std::collections::BTreeMap<FieldId, FieldWrite>,
    /// Whether the transition may change the phase (any target but `stay`).
    pub phase: bool,
}

impl StateWrites {
    /// Whether any of `reads` may be written.
    pub fn touches(&self, reads: &StateReads) -> bool {
        (reads.phase && self.phase) || reads.fields.iter().any(|f| self.fields.contains_key(f))
    }
}

/// What a transition may write.
pub fn state_writes(transition: &Transition) -> StateWrites {
    let mut writes = StateWrites { phase: !matches!(transition.target, Target::Stay), ..StateWrites::default() };
    walk_stmts(&transition.body, &mut |s| {
        let (place, how) = match &s.kind {
            StmtKind::Assign { place, .. } | StmtKind::Compound { place, .. } => (place, FieldWrite::Other),
            StmtKind::Collection { place, op, .. } => {
                let entries = place.path.is_empty() && matches!(op, CollectionOp::MapInsert | CollectionOp::MapRemove);
                (place, if entries { FieldWrite::MapEntries } else { FieldWrite::Other })
            }
            _ => return,
        };
        let entry = writes.fields.entry(place.field).or_insert(how);
        if how == FieldWrite::Other {
            *entry = FieldWrite::Other;
        }
    });
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

    #[test]
    fn reads_follow_guards_and_helpers_and_writes_tell_map_entries_apart() {
        let m = machine(
            "machine T { phases { initial A, B } state { n: u64 = 0, m: Map<u64, u64> = [:], o: u64 = 0 }
               input Go { k: u64 }
               fn limit() -> u64 { o + 1 }
               guard small = n < limit()
               invariant bounded = m.all(|k, v| v <= limit()) && small
               transition Put on Go from A -> stay { m.insert(k, k); m.remove(k + 1) }
               transition Move on Go from B -> A { m.insert(k, k); m = [:] } }",
        );
        let reads = state_reads(&m, &m.invariants[0].expr);
        assert_eq!(
            reads.fields.iter().map(|f| f.0).collect::<Vec<_>>(),
            [0, 1, 2],
            "n via the guard, m, o via the helper"
        );
        assert!(!reads.phase);
        let put = state_writes(&m.transitions[0]);
        assert_eq!(put.fields.get(&FieldId(1)), Some(&FieldWrite::MapEntries));
        assert!(!put.phase && put.touches(&reads));
        let moved = state_writes(&m.transitions[1]);
        assert_eq!(moved.fields.get(&FieldId(1)), Some(&FieldWrite::Other), "an assignment makes it coarse");
        assert!(moved.phase);
        assert!(!moved.touches(&StateReads { fields: [FieldId(2)].into(), phase: false }));
    }
}
