//! Guard conditions as conjunctions of facts, the small, SMT-free logic that `dead_transitions` and
//! `guard_overlap` reason with.
//!
//! A transition passes when every condition of its `when` clause evaluates to `true` (without an arithmetic
//! error) against the pre-state. [`transition_facts`] flattens those conditions into a list of facts that holds
//! exactly when they all do: named guards are expanded, `&&` is split, `!(a || b)` becomes `!a`, `!b`, double
//! negations cancel, `x != A` becomes "not `x == A`", `o.is_some()` becomes `o != None`, `b == true` becomes `b`,
//! and `u64` comparisons against a literal become ranges. Every rewrite is an equivalence for "evaluates to
//! `true`": a conjunction or negated disjunction is true exactly when each part evaluated to the value the fact
//! records, so no part raised an error.
//!
//! A negated conjunction (`!(a && b)`, or `!g` for a guard `g = a && b`) and a disjunction (`a || b`, which is
//! `!(!a && !b)`) stay whole, as a [`Fact::NotAll`] that remembers its parts.
//!
//! On facts the module decides two things, both soundly and both incompletely:
//! - [`unsatisfiable`]: a fact never holds on its own (`false`, `n < 0`), two facts conflict (`g` / `!g`,
//!   `x == A` / `x == B` for distinct constants, `x == A` / `x != A`, `o == None` / `o != None`, disjoint `u64`
//!   ranges such as `n < 3` / `n >= 3`), or the other facts entail every part of a `NotAll` (`a`, `b` and
//!   `!(a && b)`). Entailed parts evaluate to `true` without error, so the whole then evaluates to the opposite
//!   of what the `NotAll` records.
//! - [`implies`]: a list of facts entails another fact (the same fact, a narrower range, `x == A` entailing
//!   `x != B`).
//!
//! Expressions are compared structurally on the IR, ignoring spans. Inside guards `source` and the phase field
//! both read the pre-state phase, so they compare equal. When the current phase is known, comparisons of the
//! phase with a phase literal evaluate to constants. Everything this module cannot analyse becomes an opaque
//! fact that is only ever equal to, or the negation of, a structurally identical expression.

use crate::ir::{BinOp, Builtin, Expr, ExprKind, Machine, MatchArm, PhaseId, Transition, Type};

/// How many named-guard references one condition may expand; past it, a guard reference stays an opaque fact.
/// The checker rejects guard cycles, but guards that each use the previous one twice would still expand
/// exponentially: the budget keeps the work linear in the size of the spec whatever the IR holds.
const GUARD_EXPANSIONS: usize = 64;

/// A constant a fact compares with: a constant expression of the IR, or the `None` that `is_some()` and
/// `is_none()` compare with implicitly.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Constant<'m> {
    /// `None`.
    None,
    /// A constant expression (see [`is_constant`]).
    Expr(&'m Expr),
}

impl Constant<'_> {
    /// Whether the two constants are the same value. Both are canonical constants, so structural equality is
    /// value equality.
    pub(crate) fn same(self, other: Constant<'_>) -> bool {
        match (self, other) {
            (Constant::None, Constant::None) => true,
            (Constant::None, Constant::Expr(e)) | (Constant::Expr(e), Constant::None) => {
                matches!(e.kind, ExprKind::None)
            }
            (Constant::Expr(a), Constant::Expr(b)) => same(a, b),
        }
    }

    /// A hash that agrees with [`Constant::same`]: the same value hashes alike.
    pub(crate) fn shape_hash(self) -> u64 {
        match self {
            Constant::None => hash_with(hash_none),
            Constant::Expr(e) => shape_hash(e),
        }
    }

    /// The constant as a `u64`, when it is a `u64` literal.
    fn as_u64(self) -> Option<u64> {
        match self {
            Constant::Expr(Expr { kind: ExprKind::U64(n), .. }) => Some(*n),
            _ => None,
        }
    }
}

/// Something a passing transition's guards establish about the pre-state.
#[derive(Clone, Debug)]
pub(crate) enum Fact<'m> {
    /// A condition that is constant in the phase under consideration.
    Const(bool),
    /// `subject == value` (`equal`) or `subject != value`, for a constant `value`.
    Is {
        /// The compared expression (not a constant).
        subject: &'m Expr,
        /// The constant.
        value: Constant<'m>,
        /// `==` or `!=`.
        equal: bool,
    },
    /// `lo <= subject <= hi` for a `u64` subject; empty when `lo > hi`.
    Range {
        /// The compared expression (not a constant).
        subject: &'m Expr,
        /// Smallest value allowed.
        lo: u64,
        /// Largest value allowed.
        hi: u64,
    },
    /// `lhs == rhs` evaluates to `positive`, neither side a constant.
    Equal {
        /// Left operand.
        lhs: &'m Expr,
        /// Right operand.
        rhs: &'m Expr,
        /// Whether the comparison holds.
        positive: bool,
    },
    /// `lhs < rhs` evaluates to `positive` (`u64`), neither side a literal.
    Less {
        /// Left operand.
        lhs: &'m Expr,
        /// Right operand.
        rhs: &'m Expr,
        /// Whether the comparison holds.
        positive: bool,
    },
    /// `expr`, a conjunction (`positive == false`) or a disjunction (`positive == true`), evaluates to
    /// `positive`: the facts `parts` do not all hold.
    NotAll {
        /// The whole `&&` or `||` expression.
        expr: &'m Expr,
        /// The value it evaluates to.
        positive: bool,
        /// The facts whose conjunction is the opposite of this fact.
        parts: Vec<Fact<'m>>,
    },
    /// Any other boolean expression evaluates to `positive`.
    Holds {
        /// The expression.
        expr: &'m Expr,
        /// The value it evaluates to.
        positive: bool,
    },
}

impl Fact<'_> {
    /// Whether no state satisfies the fact on its own.
    pub(crate) fn never_holds(&self) -> bool {
        match self {
            Fact::Const(value) => !value,
            Fact::Range { lo, hi, .. } => lo > hi,
            _ => false,
        }
    }

    /// Whether every state satisfies the fact (it can be dropped from a conjunction).
    pub(crate) fn always_holds(&self) -> bool {
        matches!(self, Fact::Const(true))
    }

    /// An opaque fact's expression and the value it evaluates to.
    fn opaque(&self) -> Option<(&Expr, bool)> {
        match self {
            Fact::Holds { expr, positive } | Fact::NotAll { expr, positive, .. } => Some((expr, *positive)),
            _ => None,
        }
    }
}

/// A fact together with the index of the guard condition (in [`Transition::guards`]) it came from.
#[derive(Clone, Debug)]
pub(crate) struct Located<'m> {
    /// Index into the transition's `guards`.
    pub(crate) guard: usize,
    /// The fact.
    pub(crate) fact: Fact<'m>,
}

/// The facts that hold exactly when every guard condition of `transition` evaluates to `true`. With
/// `phase: Some(p)`, comparisons of the phase with a phase literal are evaluated for phase `p`; facts that
/// always hold are dropped.
pub(crate) fn transition_facts<'m>(
    machine: &'m Machine,
    transition: &'m Transition,
    phase: Option<PhaseId>,
) -> Vec<Located<'m>> {
    let mut out = Vec::new();
    for (index, check) in transition.guards.iter().enumerate() {
        let mut facts = Vec::new();
        let mut budget = GUARD_EXPANSIONS;
        flatten(machine, &check.expr, true, phase, &mut budget, &mut facts);
        out.extend(facts.into_iter().filter(|f| !f.always_holds()).map(|fact| Located { guard: index, fact }));
    }
    out
}

/// Whether the facts cannot all hold in one state. Returns the positions of the culprits, sorted: one fact that
/// never holds, two that conflict, or a `NotAll` with the facts that entail its parts.
pub(crate) fn unsatisfiable(facts: &[&Fact<'_>]) -> Option<Vec<usize>> {
    if let Some(i) = facts.iter().position(|f| f.never_holds()) {
        return Some(vec![i]);
    }
    for (i, a) in facts.iter().enumerate() {
        for (j, b) in facts.iter().enumerate().skip(i + 1) {
            if conflict(a, b) {
                return Some(vec![i, j]);
            }
        }
    }
    for (i, fact) in facts.iter().enumerate() {
        let Fact::NotAll { parts, .. } = fact else { continue };
        let others: Vec<(usize, &Fact<'_>)> =
            facts.iter().enumerate().filter(|(k, _)| *k != i).map(|(k, f)| (k, *f)).collect();
        let mut culprits = vec![i];
        let mut all = true;
        for part in parts {
            if part.always_holds() {
                continue;
            }
            match others.iter().find(|(_, f)| entails(f, part)) {
                Some((k, _)) => culprits.push(*k),
                None => {
                    all = false;
                    break;
                }
            }
        }
        if all {
            culprits.sort_unstable();
            culprits.dedup();
            return Some(culprits);
        }
    }
    None
}

/// Whether the facts `premises` (all holding) entail `conclusion`.
pub(crate) fn implies(premises: &[&Fact<'_>], conclusion: &Fact<'_>) -> bool {
    conclusion.always_holds() || premises.iter().any(|p| p.never_holds() || entails(p, conclusion))
}

/// Whether `a` and `b` can never hold in the same state.
pub(crate) fn conflict(a: &Fact<'_>, b: &Fact<'_>) -> bool {
    if a.never_holds() || b.never_holds() {
        return true;
    }
    if let (Some((x, p)), Some((y, q))) = (a.opaque(), b.opaque()) {
        return p != q && same(x, y);
    }
    match (a, b) {
        (Fact::Less { lhs: l1, rhs: r1, positive: p }, Fact::Less { lhs: l2, rhs: r2, positive: q }) => {
            // `a < b` and `b < a` cannot both hold either.
            (p != q && same(l1, l2) && same(r1, r2)) || (*p && *q && same(l1, r2) && same(r1, l2))
        }
        (Fact::Equal { lhs: l1, rhs: r1, positive: p }, Fact::Equal { lhs: l2, rhs: r2, positive: q }) => {
            p != q && ((same(l1, l2) && same(r1, r2)) || (same(l1, r2) && same(r1, l2)))
        }
        (Fact::Is { subject: s1, value: v1, equal: e1 }, Fact::Is { subject: s2, value: v2, equal: e2 }) => {
            same(s1, s2)
                && match (e1, e2) {
                    (true, true) => distinct(*v1, *v2),
                    (true, false) | (false, true) => v1.same(*v2),
                    (false, false) => false,
                }
        }
        (Fact::Range { subject: s1, lo: lo1, hi: hi1 }, Fact::Range { subject: s2, lo: lo2, hi: hi2 }) => {
            same(s1, s2) && (lo1.max(lo2) > hi1.min(hi2))
        }
        (Fact::Range { subject: s1, lo, hi }, Fact::Is { subject: s2, value, equal: false })
        | (Fact::Is { subject: s2, value, equal: false }, Fact::Range { subject: s1, lo, hi }) => {
            lo == hi && value.as_u64() == Some(*lo) && same(s1, s2)
        }
        _ => false,
    }
}

/// Whether the single fact `premise` entails `conclusion`.
fn entails(premise: &Fact<'_>, conclusion: &Fact<'_>) -> bool {
    if conclusion.always_holds() || premise.never_holds() {
        return true;
    }
    if let (Some((x, p)), Some((y, q))) = (premise.opaque(), conclusion.opaque()) {
        return p == q && same(x, y);
    }
    match (premise, conclusion) {
        (Fact::Less { lhs: l1, rhs: r1, positive: p }, Fact::Less { lhs: l2, rhs: r2, positive: q }) => {
            p == q && same(l1, l2) && same(r1, r2)
        }
        (Fact::Equal { lhs: l1, rhs: r1, positive: p }, Fact::Equal { lhs: l2, rhs: r2, positive: q }) => {
            p == q && ((same(l1, l2) && same(r1, r2)) || (same(l1, r2) && same(r1, l2)))
        }
        (Fact::Is { subject: s1, value: v1, equal: e1 }, Fact::Is { subject: s2, value: v2, equal: e2 }) => {
            same(s1, s2)
                && match (e1, e2) {
                    (true, true) | (false, false) => v1.same(*v2),
                    // `x == A` entails `x != B`.
                    (true, false) => distinct(*v1, *v2),
                    (false, true) => false,
                }
        }
        (Fact::Range { subject: s1, lo: lo1, hi: hi1 }, Fact::Range { subject: s2, lo: lo2, hi: hi2 }) => {
            same(s1, s2) && lo1 >= lo2 && hi1 <= hi2
        }
        (Fact::Range { subject: s1, lo, hi }, Fact::Is { subject: s2, value, equal: false }) => {
            value.as_u64().is_some_and(|k| k < *lo || k > *hi) && same(s1, s2)
        }
        _ => false,
    }
}

/// Whether two constants are provably different values.
fn distinct(a: Constant<'_>, b: Constant<'_>) -> bool {
    !a.same(b)
}

/// Pushes the facts that hold exactly when `expr` evaluates to `positive`.
fn flatten<'m>(
    machine: &'m Machine,
    expr: &'m Expr,
    positive: bool,
    phase: Option<PhaseId>,
    budget: &mut usize,
    out: &mut Vec<Fact<'m>>,
) {
    match &expr.kind {
        ExprKind::Bool(value) => out.push(Fact::Const(*value == positive)),
        ExprKind::Not(inner) => flatten(machine, inner, !positive, phase, budget, out),
        ExprKind::Guard(id) if *budget > 0 => match machine.guards.get(id.index()) {
            Some(guard) => {
                *budget -= 1;
                flatten(machine, &guard.expr, positive, phase, budget, out);
            }
            None => out.push(Fact::Holds { expr, positive }),
        },
        // `a && b` is true exactly when both are; `a || b` is false exactly when both are. The other polarity
        // keeps the expression whole, with the parts whose conjunction it denies.
        ExprKind::Binary(op @ (BinOp::And | BinOp::Or), lhs, rhs) => {
            let split = (*op == BinOp::And) == positive;
            let part_polarity = *op == BinOp::And;
            if split {
                flatten(machine, lhs, part_polarity, phase, budget, out);
                flatten(machine, rhs, part_polarity, phase, budget, out);
            } else {
                let mut parts = Vec::new();
                flatten(machine, lhs, part_polarity, phase, budget, &mut parts);
                flatten(machine, rhs, part_polarity, phase, budget, &mut parts);
                out.push(Fact::NotAll { expr, positive, parts });
            }
        }
        ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), lhs, rhs) => {
            let equal = (*op == BinOp::Eq) == positive;
            equality(machine, lhs, rhs, equal, phase, budget, out);
        }
        ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), lhs, rhs) => {
            out.push(ordering(*op, lhs, rhs, positive));
        }
        ExprKind::Method(receiver, method @ (Builtin::IsSome | Builtin::IsNone), args) if args.is_empty() => {
            let equal = (*method == Builtin::IsNone) == positive;
            out.push(Fact::Is { subject: receiver, value: Constant::None, equal });
        }
        _ => out.push(Fact::Holds { expr, positive }),
    }
}

/// The facts of `lhs == rhs` being `equal`.
fn equality<'m>(
    machine: &'m Machine,
    lhs: &'m Expr,
    rhs: &'m Expr,
    equal: bool,
    phase: Option<PhaseId>,
    budget: &mut usize,
    out: &mut Vec<Fact<'m>>,
) {
    // `b == true` is `b`, `b != false` is `b`, and so on.
    if lhs.ty == Type::Bool || rhs.ty == Type::Bool {
        match (&lhs.kind, &rhs.kind) {
            (ExprKind::Bool(value), _) => return flatten(machine, rhs, *value == equal, phase, budget, out),
            (_, ExprKind::Bool(value)) => return flatten(machine, lhs, *value == equal, phase, budget, out),
            _ => {}
        }
    }
    let (subject, value) = match (is_constant(lhs), is_constant(rhs)) {
        (true, true) => {
            out.push(Fact::Const(same(lhs, rhs) == equal));
            return;
        }
        (false, true) => (lhs, rhs),
        (true, false) => (rhs, lhs),
        (false, false) => {
            out.push(Fact::Equal { lhs, rhs, positive: equal });
            return;
        }
    };
    if let (Some(current), ExprKind::Phase | ExprKind::Source, ExprKind::PhaseLit(literal)) =
        (phase, &subject.kind, &value.kind)
    {
        out.push(Fact::Const((current == *literal) == equal));
        return;
    }
    match (&value.kind, equal) {
        (ExprKind::U64(k), true) => out.push(Fact::Range { subject, lo: *k, hi: *k }),
        _ => out.push(Fact::Is { subject, value: Constant::Expr(value), equal }),
    }
}

/// The fact of `lhs op rhs` (an ordering of `u64`s) evaluating to `positive`.
fn ordering<'m>(op: BinOp, lhs: &'m Expr, rhs: &'m Expr, positive: bool) -> Fact<'m> {
    // Normalise to `lhs op rhs` being true: negating flips the operator (`!(a < b)` is `a >= b`).
    let op = if positive {
        op
    } else {
        match op {
            BinOp::Lt => BinOp::Ge,
            BinOp::Le => BinOp::Gt,
            BinOp::Gt => BinOp::Le,
            _ => BinOp::Lt,
        }
    };
    // Put a literal on the right: `3 < n` is `n > 3`.
    let (subject, op, literal) = match (&lhs.kind, &rhs.kind) {
        (_, ExprKind::U64(k)) if !matches!(lhs.kind, ExprKind::U64(_)) => (lhs, op, Some(*k)),
        (ExprKind::U64(k), _) if !matches!(rhs.kind, ExprKind::U64(_)) => {
            let flipped = match op {
                BinOp::Lt => BinOp::Gt,
                BinOp::Le => BinOp::Ge,
                BinOp::Gt => BinOp::Lt,
                _ => BinOp::Le,
            };
            (rhs, flipped, Some(*k))
        }
        (ExprKind::U64(a), ExprKind::U64(b)) => {
            let holds = match op {
                BinOp::Lt => a < b,
                BinOp::Le => a <= b,
                BinOp::Gt => a > b,
                _ => a >= b,
            };
            return Fact::Const(holds);
        }
        _ => (lhs, op, None),
    };
    match literal {
        Some(k) => {
            let (lo, hi) = match op {
                // `n < 0` is empty: 1..=0.
                BinOp::Lt => k.checked_sub(1).map_or((1, 0), |hi| (0, hi)),
                BinOp::Le => (0, k),
                // `n > u64::MAX` is empty.
                BinOp::Gt => k.checked_add(1).map_or((1, 0), |lo| (lo, u64::MAX)),
                _ => (k, u64::MAX),
            };
            Fact::Range { subject, lo, hi }
        }
        // Without a literal: `a < b`, `a >= b` (not `a < b`), `a > b` (`b < a`), `a <= b` (not `b < a`).
        None => match op {
            BinOp::Lt => Fact::Less { lhs, rhs, positive: true },
            BinOp::Ge => Fact::Less { lhs, rhs, positive: false },
            BinOp::Gt => Fact::Less { lhs: rhs, rhs: lhs, positive: true },
            _ => Fact::Less { lhs: rhs, rhs: lhs, positive: false },
        },
    }
}

/// Whether an expression is a constant whose structure determines its value: literals (not collections, whose
/// literals may list an element twice or in another order), `Some`, records and newtypes of such constants.
pub(crate) fn is_constant(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Bool(_)
        | ExprKind::U64(_)
        | ExprKind::Str(_)
        | ExprKind::None
        | ExprKind::PhaseLit(_)
        | ExprKind::Variant(..) => true,
        ExprKind::Some(inner) | ExprKind::Newtype(_, inner) => is_constant(inner),
        ExprKind::Record(_, fields) => fields.iter().all(is_constant),
        _ => false,
    }
}

/// Structural equality of two guard expressions, ignoring spans. `source` and the phase field are the same
/// value inside guards (both the pre-state phase), so they compare equal. Locals compare by id: in a guard every
/// local is bound inside the expression itself (a closure parameter or pattern binding), so equal structure
/// means equal binding.
pub(crate) fn same(a: &Expr, b: &Expr) -> bool {
    use ExprKind as K;
    if a.ty != b.ty {
        return false;
    }
    match (&a.kind, &b.kind) {
        (K::Bool(x), K::Bool(y)) => x == y,
        (K::U64(x), K::U64(y)) => x == y,
        (K::Str(x), K::Str(y)) => x == y,
        (K::None, K::None) => true,
        (K::Some(x), K::Some(y)) | (K::Not(x), K::Not(y)) => same(x, y),
        (K::PhaseLit(x), K::PhaseLit(y)) => x == y,
        (K::Variant(t, v), K::Variant(u, w)) => t == u && v == w,
        (K::Field(x), K::Field(y)) => x == y,
        (K::Phase | K::Source, K::Phase | K::Source) => true,
        (K::Payload(x), K::Payload(y)) => x == y,
        (K::Local(x), K::Local(y)) => x == y,
        (K::Param(x), K::Param(y)) => x == y,
        (K::Guard(x), K::Guard(y)) => x == y,
        (K::Call(h, xs), K::Call(g, ys)) => h == g && all_same(xs, ys),
        (K::Record(t, xs), K::Record(u, ys)) => t == u && all_same(xs, ys),
        (K::Newtype(t, x), K::Newtype(u, y)) => t == u && same(x, y),
        (K::Project(x, p), K::Project(y, q)) => p == q && same(x, y),
        (K::SeqLit(xs), K::SeqLit(ys)) | (K::SetLit(xs), K::SetLit(ys)) => all_same(xs, ys),
        (K::MapLit(xs), K::MapLit(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        (K::Binary(o1, l1, r1), K::Binary(o2, l2, r2)) => o1 == o2 && same(l1, l2) && same(r1, r2),
        (K::Method(x, m1, xs), K::Method(y, m2, ys)) => m1 == m2 && same(x, y) && all_same(xs, ys),
        (
            K::Quantifier { kind: k1, collection: c1, params: p1, body: b1 },
            K::Quantifier { kind: k2, collection: c2, params: p2, body: b2 },
        ) => k1 == k2 && p1 == p2 && same(c1, c2) && same(b1, b2),
        (K::If(c1, t1, e1), K::If(c2, t2, e2)) => same(c1, c2) && same(t1, t2) && same(e1, e2),
        (
            K::IfLet { pattern: p1, scrutinee: s1, then: t1, else_: e1 },
            K::IfLet { pattern: p2, scrutinee: s2, then: t2, else_: e2 },
        ) => p1 == p2 && same(s1, s2) && same(t1, t2) && same(e1, e2),
        (K::Match { scrutinee: s1, arms: a1 }, K::Match { scrutinee: s2, arms: a2 }) => {
            same(s1, s2) && a1.len() == a2.len() && a1.iter().zip(a2).all(|(x, y)| same_arm(x, y))
        }
        _ => false,
    }
}

/// A hash of an expression's shape that agrees with [`same`]: two expressions that are the same hash alike
/// (the converse need not hold, so users of the hash still confirm with [`same`]). It lets the analyses bucket
/// facts by subject in linear time instead of comparing every pair. Types and the bodies of the rarer, nested
/// forms are left out of the hash, which only makes it coarser.
pub(crate) fn shape_hash(expr: &Expr) -> u64 {
    hash_with(|h| hash_shape(expr, h))
}

fn hash_with(write: impl FnOnce(&mut std::collections::hash_map::DefaultHasher)) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    write(&mut hasher);
    hasher.finish()
}

fn hash_none(h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    4u8.hash(h);
}

fn hash_shape(expr: &Expr, h: &mut impl std::hash::Hasher) {
    use ExprKind as K;
    use std::hash::Hash;
    match &expr.kind {
        // `source` and the phase field are the same inside guards (see [`same`]), so they hash alike.
        K::Phase | K::Source => 0u8.hash(h),
        K::Bool(x) => (1u8, x).hash(h),
        K::U64(x) => (2u8, x).hash(h),
        K::Str(x) => (3u8, x).hash(h),
        K::None => hash_none(h),
        K::Some(x) => {
            5u8.hash(h);
            hash_shape(x, h);
        }
        K::Not(x) => {
            6u8.hash(h);
            hash_shape(x, h);
        }
        K::PhaseLit(x) => (7u8, x.index()).hash(h),
        K::Variant(t, v) => (8u8, t.index(), v).hash(h),
        K::Field(x) => (9u8, x.index()).hash(h),
        K::Payload(x) => (10u8, x).hash(h),
        K::Param(x) => (11u8, x).hash(h),
        K::Call(_, xs) | K::Record(_, xs) | K::SeqLit(xs) | K::SetLit(xs) => {
            (12u8, xs.len()).hash(h);
            xs.iter().for_each(|x| hash_shape(x, h));
        }
        K::Project(x, _) | K::Newtype(_, x) | K::Method(x, _, _) => {
            13u8.hash(h);
            hash_shape(x, h);
        }
        K::Binary(_, l, r) => {
            14u8.hash(h);
            hash_shape(l, h);
            hash_shape(r, h);
        }
        // Locals, guards and the nested forms hash by kind only.
        _ => (15u8, std::mem::discriminant(&expr.kind)).hash(h),
    }
}

fn all_same(xs: &[Expr], ys: &[Expr]) -> bool {
    xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
}

fn same_arm(a: &MatchArm, b: &MatchArm) -> bool {
    a.patterns == b.patterns && same(&a.body, &b.body)
}

/// The negation of a guard label, for help texts: `ready` → `!ready`, `!ready` → `ready`, `n < 3` → `n >= 3`,
/// `o.is_some()` → `o.is_none()`, anything more complex `c` → `!(c)`.
pub(crate) fn negated_label(label: &str) -> String {
    let is_path = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some(rest) = label.strip_prefix('!') {
        if is_path(rest) {
            return rest.to_string();
        }
    }
    if is_path(label) {
        return format!("!{label}");
    }
    // `!(c)` → `c`, when the parenthesis after `!` closes at the end.
    if let Some(inner) = label.strip_prefix("!(").and_then(|rest| rest.strip_suffix(')')) {
        let mut depth = 0i32;
        let balanced = inner.chars().all(|c| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            depth >= 0
        });
        if balanced && depth == 0 {
            return inner.to_string();
        }
    }
    for (method, opposite) in [(".is_some()", ".is_none()"), (".is_none()", ".is_some()")] {
        if let Some(receiver) = label.strip_suffix(method) {
            if is_path(receiver) {
                return format!("{receiver}{opposite}");
            }
        }
    }
    flipped_comparison(label).unwrap_or_else(|| format!("!({label})"))
}

/// `a op b` with the opposite operator, when the label is exactly one comparison between simple operands.
fn flipped_comparison(label: &str) -> Option<String> {
    const OPS: [(&str, &str); 6] = [("==", "!="), ("!=", "=="), ("<=", ">"), (">=", "<"), ("<", ">="), (">", "<=")];
    let simple = |s: &str| {
        let s = s.trim();
        !s.is_empty()
            && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '"' | ' ' | '+' | '-' | '*'))
    };
    let mut found = None;
    let mut index = 0;
    while index < label.len() {
        let rest = label.get(index..)?;
        match OPS.iter().find(|(op, _)| rest.starts_with(op)) {
            Some((op, opposite)) => {
                if found.is_some() {
                    return None;
                }
                found = Some((index, op.len(), *opposite));
                index += op.len();
            }
            None => index += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    let (at, len, opposite) = found?;
    let (lhs, rhs) = (label.get(..at)?, label.get(at + len..)?);
    (simple(lhs) && simple(rhs)).then(|| format!("{} {opposite} {}", lhs.trim(), rhs.trim()))
}

#[cfg(test)]
mod tests {
    use super::negated_label;

    #[test]
    fn negated_labels_read_naturally() {
        assert_eq!(negated_label("ready"), "!ready");
        assert_eq!(negated_label("!ready"), "ready");
        assert_eq!(negated_label("self.ready"), "!self.ready");
        assert_eq!(negated_label("count > 1"), "count <= 1");
        assert_eq!(negated_label("count + 1 >= limit"), "count + 1 < limit");
        assert_eq!(negated_label("mode == Mode::On"), "mode != Mode::On");
        assert_eq!(negated_label("owner != None"), "owner == None");
        assert_eq!(negated_label("owner.is_some()"), "owner.is_none()");
        assert_eq!(negated_label("a < b && c"), "!(a < b && c)");
        assert_eq!(negated_label("a < b < c"), "!(a < b < c)");
        assert_eq!(negated_label("f(x) > 1"), "!(f(x) > 1)");
        assert_eq!(negated_label("!(a || b)"), "a || b");
        assert_eq!(negated_label("!(a) && (b)"), "!(!(a) && (b))");
    }
}
