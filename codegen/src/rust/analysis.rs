//! Facts about a checked machine that shape the generated code: which expressions can fail (checked arithmetic,
//! directly or through helpers and guards), which helpers and guards are used at all, how many effects one
//! transition can emit and how each collects them, how many guarded candidates one (phase, trigger) pair can have,
//! and how often a body reads each binding (a binding read once can be moved instead of cloned).

use std::collections::BTreeMap;

use meerkat_dsl::ir::visit::{
    for_each_child, for_each_stmt_expr, nested_stmts, walk_expr, walk_stmt_exprs, walk_stmts,
};
use meerkat_dsl::ir::{
    self, ExprKind, LocalId, Machine, PhaseId, Stmt, StmtKind, TransitionId, Trigger, Type, TypeKind,
};

/// Machine-wide facts, computed once per generation.
#[derive(Debug)]
pub(crate) struct Facts {
    /// Per helper: can a call fail?
    pub(crate) helper_fallible: Vec<bool>,
    /// Per named guard: can evaluating it fail?
    pub(crate) guard_fallible: Vec<bool>,
    /// Per helper: is it reachable from generated code?
    pub(crate) helper_used: Vec<bool>,
    /// Per named guard: is it reachable from generated code?
    pub(crate) guard_used: Vec<bool>,
    /// Per invariant: can evaluating it fail?
    pub(crate) invariant_fallible: Vec<bool>,
    /// The most effects one firing can emit.
    pub(crate) max_emits: usize,
    /// Per transition: how it collects its effects.
    pub(crate) effect_plans: Vec<EffectPlan>,
    /// The inline storage those plans need.
    pub(crate) effect_storage: EffectStorage,
    /// The most guarded (non-`otherwise`) candidates of one (phase, trigger) pair.
    pub(crate) max_guarded: usize,
    /// Per declared type: is it `Copy`?
    pub(crate) type_copy: Vec<bool>,
}

impl Facts {
    pub(crate) fn new(m: &Machine) -> Self {
        let mut facts = Facts {
            helper_fallible: vec![false; m.helpers.len()],
            guard_fallible: vec![false; m.guards.len()],
            helper_used: vec![false; m.helpers.len()],
            guard_used: vec![false; m.guards.len()],
            invariant_fallible: Vec::new(),
            max_emits: 0,
            effect_plans: m.transitions.iter().map(effect_plan).collect(),
            effect_storage: EffectStorage::default(),
            max_guarded: 0,
            type_copy: Vec::new(),
        };
        facts.type_copy = (0..m.types.len()).map(|i| named_copy(m, i, 0)).collect();

        // Helpers and guards form a DAG (the checker rejects cycles); a fixpoint over it is simple and total.
        loop {
            let mut changed = false;
            for (i, h) in m.helpers.iter().enumerate() {
                let f = facts.expr_fallible(&h.body);
                if f && !facts.helper_fallible[i] {
                    facts.helper_fallible[i] = true;
                    changed = true;
                }
            }
            for (i, g) in m.guards.iter().enumerate() {
                let f = facts.expr_fallible(&g.expr);
                if f && !facts.guard_fallible[i] {
                    facts.guard_fallible[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        facts.invariant_fallible = m.invariants.iter().map(|inv| facts.expr_fallible(&inv.expr)).collect();

        // Reachability of helpers and guards from everything that is generated.
        let mut roots: Vec<&ir::Expr> = Vec::new();
        for inv in &m.invariants {
            roots.push(&inv.expr);
        }
        for t in &m.transitions {
            for g in &t.guards {
                roots.push(&g.expr);
            }
            if let ir::Target::Computed { expr, .. } = &t.target {
                roots.push(expr);
            }
            walk_stmt_exprs(&t.body, &mut |e| roots.push(e));
        }
        for f in &m.fields {
            roots.push(&f.init);
        }
        let mut stack: Vec<&ir::Expr> = roots;
        while let Some(e) = stack.pop() {
            walk_expr(e, &mut |sub| match &sub.kind {
                ExprKind::Call(h, _) => {
                    if let Some(used) = facts.helper_used.get_mut(h.index()) {
                        if !*used {
                            *used = true;
                            if let Some(helper) = m.helpers.get(h.index()) {
                                stack.push(&helper.body);
                            }
                        }
                    }
                }
                ExprKind::Guard(g) => {
                    if let Some(used) = facts.guard_used.get_mut(g.index()) {
                        if !*used {
                            *used = true;
                            if let Some(guard) = m.guards.get(g.index()) {
                                stack.push(&guard.expr);
                            }
                        }
                    }
                }
                _ => {}
            });
        }

        facts.max_emits = m.transitions.iter().map(|t| max_emits(&t.body)).max().unwrap_or(0);
        facts.effect_storage = EffectStorage::new(&facts.effect_plans, facts.max_emits);
        facts.max_guarded = m
            .phase_ids()
            .flat_map(|p| m.triggers().map(move |t| (p, t)))
            .map(|(p, t)| m.candidates(p, t).filter(|c| !m.transitions[c.index()].otherwise).count())
            .max()
            .unwrap_or(0);
        facts
    }

    /// Whether evaluating `e` can fail (overflow, underflow, division by zero), directly or in a call.
    pub(crate) fn expr_fallible(&self, e: &ir::Expr) -> bool {
        let mut fallible = false;
        walk_expr(e, &mut |sub| match &sub.kind {
            ExprKind::Binary(op, _, b) if is_arith(*op) && !divides_by_nonzero_constant(*op, b) => fallible = true,
            ExprKind::Call(h, _) => fallible |= self.helper_fallible.get(h.index()).copied().unwrap_or(false),
            ExprKind::Guard(g) => fallible |= self.guard_fallible.get(g.index()).copied().unwrap_or(false),
            _ => {}
        });
        fallible
    }

    /// Whether running a statement can fail: a compound assignment (checked), or a fallible expression in it
    /// or in the statements of its branches.
    pub(crate) fn stmt_fallible(&self, s: &Stmt) -> bool {
        let mut fallible = false;
        walk_stmts(std::slice::from_ref(s), &mut |s| {
            fallible |= matches!(s.kind, StmtKind::Compound { .. });
            for_each_stmt_expr(s, |e| fallible |= self.expr_fallible(e));
        });
        fallible
    }

    /// Whether values of `ty` are `Copy` in generated code.
    pub(crate) fn is_copy(&self, ty: &Type) -> bool {
        match ty {
            Type::Bool | Type::U64 | Type::Phase => true,
            Type::String | Type::Set(_) | Type::Map(_, _) | Type::Seq(_) => false,
            Type::Option(inner) => self.is_copy(inner),
            Type::Named(id) => self.type_copy.get(id.index()).copied().unwrap_or(false),
        }
    }
}

/// Whether a declared type is `Copy`: enums always, records and newtypes when everything inside is. Types cannot
/// contain themselves without a collection in between (the checker rejects that), and collections are never
/// `Copy`, so the recursion ends; the depth bound only guards against a malformed IR.
fn named_copy(m: &Machine, index: usize, depth: usize) -> bool {
    if depth > m.types.len() {
        return false;
    }
    let Some(decl) = m.types.get(index) else { return false };
    let ty_copy = |ty: &Type| ty_copy(m, ty, depth + 1);
    match &decl.kind {
        TypeKind::Enum { .. } => true,
        TypeKind::Record { fields } => fields.iter().all(|f| ty_copy(&f.ty)),
        TypeKind::Newtype { inner } => ty_copy(inner),
    }
}

fn ty_copy(m: &Machine, ty: &Type, depth: usize) -> bool {
    match ty {
        Type::Bool | Type::U64 | Type::Phase => true,
        Type::String | Type::Set(_) | Type::Map(_, _) | Type::Seq(_) => false,
        Type::Option(inner) => ty_copy(m, inner, depth),
        Type::Named(id) => named_copy(m, id.index(), depth),
    }
}

/// Whether `_ op b` is a division or remainder by a non-zero literal, which cannot fail.
pub(crate) fn divides_by_nonzero_constant(op: ir::BinOp, b: &ir::Expr) -> bool {
    matches!(op, ir::BinOp::Div | ir::BinOp::Rem) && matches!(b.kind, ExprKind::U64(n) if n != 0)
}

/// How many checked operations (and fallible calls) evaluating `e` may go through.
pub(crate) fn fallible_points(facts: &Facts, e: &ir::Expr) -> usize {
    let mut points = 0;
    walk_expr(e, &mut |sub| match &sub.kind {
        ExprKind::Binary(op, _, b) if is_arith(*op) && !divides_by_nonzero_constant(*op, b) => points += 1,
        ExprKind::Call(h, _) if facts.helper_fallible.get(h.index()).copied().unwrap_or(false) => points += 1,
        ExprKind::Guard(g) if facts.guard_fallible.get(g.index()).copied().unwrap_or(false) => points += 1,
        _ => {}
    });
    points
}

/// Whether a binary operator is checked arithmetic.
pub(crate) fn is_arith(op: ir::BinOp) -> bool {
    use ir::BinOp::*;
    matches!(op, Add | Sub | Mul | Div | Rem)
}

/// The most `emit`s one run of `stmts` can execute.
pub(crate) fn max_emits(stmts: &[Stmt]) -> usize {
    stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Emit { .. } => 1,
            StmtKind::If { then, else_, .. } | StmtKind::IfLet { then, else_, .. } => {
                max_emits(then).max(max_emits(else_))
            }
            _ => 0,
        })
        .sum()
}

/// How a body reads a binding: how many places read it, and whether one of them is inside a quantifier (which
/// runs repeatedly, so the binding cannot be moved there).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Uses {
    pub(crate) count: usize,
    pub(crate) in_loop: bool,
}

impl Uses {
    /// Whether the single read may move the value.
    pub(crate) fn movable(self) -> bool {
        self.count == 1 && !self.in_loop
    }
}

/// Reads of locals and payload fields in a body.
#[derive(Debug, Default)]
pub(crate) struct UseCounts {
    pub(crate) locals: BTreeMap<LocalId, Uses>,
    pub(crate) payload: BTreeMap<u32, Uses>,
    pub(crate) params: BTreeMap<u32, Uses>,
    pub(crate) source: bool,
}

impl UseCounts {
    pub(crate) fn of_stmts(stmts: &[Stmt]) -> Self {
        let mut counts = UseCounts::default();
        for s in stmts {
            counts.add_stmt(s);
        }
        counts
    }

    /// Uses in a transition: its computed target, if any, and its body.
    pub(crate) fn of_transition(t: &ir::Transition) -> Self {
        let mut counts = UseCounts::of_stmts(&t.body);
        if let ir::Target::Computed { expr, .. } = &t.target {
            counts.add_expr(expr, false);
        }
        counts
    }

    pub(crate) fn of_exprs<'a>(exprs: impl IntoIterator<Item = &'a ir::Expr>) -> Self {
        let mut counts = UseCounts::default();
        for e in exprs {
            counts.add_expr(e, false);
        }
        counts
    }

    fn add_stmt(&mut self, s: &Stmt) {
        for_each_stmt_expr(s, |e| self.add_expr(e, false));
        for branch in nested_stmts(s) {
            branch.iter().for_each(|s| self.add_stmt(s));
        }
    }

    fn add_expr(&mut self, e: &ir::Expr, in_loop: bool) {
        let bump = |u: &mut Uses| {
            u.count += 1;
            u.in_loop |= in_loop;
        };
        match &e.kind {
            ExprKind::Local(id) => bump(self.locals.entry(*id).or_default()),
            ExprKind::Payload(i) => bump(self.payload.entry(*i).or_default()),
            ExprKind::Param(i) => bump(self.params.entry(*i).or_default()),
            ExprKind::Source => self.source = true,
            ExprKind::Quantifier { collection, body, .. } => {
                self.add_expr(collection, in_loop);
                self.add_expr(body, true);
                return;
            }
            _ => {}
        }
        // Children other than quantifier bodies run at most once per evaluation of `e`.
        for_each_child(e, |child| self.add_expr(child, in_loop));
    }

    /// Uses of a local.
    pub(crate) fn local(&self, id: LocalId) -> Uses {
        self.locals.get(&id).copied().unwrap_or_default()
    }

    /// Uses of a payload field.
    pub(crate) fn payload(&self, index: u32) -> Uses {
        self.payload.get(&index).copied().unwrap_or_default()
    }

    /// Uses of a helper parameter.
    pub(crate) fn param(&self, index: u32) -> Uses {
        self.params.get(&index).copied().unwrap_or_default()
    }
}

/// The phases that share one candidate list for a trigger, in phase order: phases with the same candidates
/// dispatch through one `match` arm.
pub(crate) fn dispatch_groups(m: &Machine, trigger: Trigger) -> Vec<(Vec<PhaseId>, Vec<TransitionId>)> {
    let mut groups: Vec<(Vec<PhaseId>, Vec<TransitionId>)> = Vec::new();
    for phase in m.phase_ids() {
        let candidates: Vec<TransitionId> = m.candidates(phase, trigger).collect();
        match groups.iter_mut().find(|(_, c)| *c == candidates) {
            Some((phases, _)) => phases.push(phase),
            None => groups.push((vec![phase], candidates)),
        }
    }
    groups
}

/// Above this many effects per transition the effect storage spills to the heap.
pub(crate) const INLINE_EFFECTS: usize = 8;

/// How a transition collects its effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EffectPlan {
    /// Exactly this many, every `emit` unconditional: built as one array at the end (0: none).
    Static(usize),
    /// Conditional or many: pushed one by one.
    Push,
}

/// How transition `t` collects its effects.
pub(crate) fn effect_plan(t: &ir::Transition) -> EffectPlan {
    let count = max_emits(&t.body);
    if count <= INLINE_EFFECTS && !emits_in_branches(&t.body) { EffectPlan::Static(count) } else { EffectPlan::Push }
}

/// Whether some `emit` runs only in one branch of an `if`.
fn emits_in_branches(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::If { then, else_, .. } | StmtKind::IfLet { then, else_, .. } => {
            max_emits(then) > 0 || max_emits(else_) > 0
        }
        _ => false,
    })
}

/// The inline effect storage of a machine: one variant per length some transition builds whole, or, when some
/// transition pushes, every length up to the inline bound and a heap spill past it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EffectStorage {
    /// The lengths held inline, ascending.
    pub(crate) lengths: Vec<usize>,
    /// Whether effects are pushed one by one (and spill to the heap past [`INLINE_EFFECTS`]).
    pub(crate) spill: bool,
}

impl EffectStorage {
    fn new(plans: &[EffectPlan], max_emits: usize) -> Self {
        // Only the variants some transition builds exist (rustc warns about the others).
        let spill = plans.contains(&EffectPlan::Push);
        let lengths = if spill {
            (0..=max_emits.min(INLINE_EFFECTS)).collect()
        } else {
            let mut lengths: Vec<usize> = plans
                .iter()
                .filter_map(|p| match p {
                    EffectPlan::Static(n) => Some(*n),
                    EffectPlan::Push => None,
                })
                .collect();
            lengths.sort_unstable();
            lengths.dedup();
            lengths
        };
        EffectStorage { lengths, spill }
    }

    /// The one length every transition emits, when there is one and nothing spills: the storage is then a plain
    /// array.
    pub(crate) fn fixed(&self) -> Option<usize> {
        match self.lengths.as_slice() {
            [] if !self.spill => Some(0),
            [only] if !self.spill => Some(*only),
            _ => None,
        }
    }
}
