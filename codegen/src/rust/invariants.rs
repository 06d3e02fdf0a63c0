//! Incremental invariant checks: after a transition, a generated kernel checks each invariant only as far as the
//! transition can have changed it.
//!
//! Every state an authority holds satisfies every invariant (the initial state — E0305 refuses a spec whose
//! initial state breaks one —, a recovered state — checked — and every state a transition reached — checked),
//! so after a transition (on a state that held them all; a hand-built `MState` that does not is outside this
//! contract):
//! - an invariant that reads nothing the transition may write (fields, the phase; through guards and helpers
//!   too, by the dsl's [`state_reads`] and [`state_writes`]) still holds and is not evaluated;
//! - an invariant whose only read of written state is a map `m` that the transition writes by whole entries
//!   (`insert`, `remove`), read only as the collection of top-level conjuncts `m.all(|k, v| P)` or
//!   `m.any(|k, v| P)` whose `P` reads nothing written, is checked on the entries written: `all` on each written
//!   key still present, `any` by a written entry that satisfies `P`, else in full (the witness may have been
//!   overwritten);
//! - any other invariant is checked in full.
//!
//! The interpreter always checks in full; the differential tests compare the two.

use std::collections::BTreeSet;

use meerkat_dsl::ir::visit::{FieldWrite, state_reads, state_writes};
use meerkat_dsl::ir::{self, BinOp, Expr, ExprKind, FieldId, Quantifier, TransitionId, Type};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Gen;
use super::analysis::UseCounts;
use super::expr::{Cx, Fail, Form};
use super::names::Namer;

/// How one invariant is checked after one transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InvariantPlan {
    /// Not at all: the transition writes nothing it reads.
    Skip,
    /// In full.
    Full,
    /// On the written entries of map `field`, through the entry checks of these conjuncts (indices into
    /// [`Gen::entry_conjuncts`] of the invariant).
    Entries { field: FieldId, conjuncts: Vec<usize> },
}

/// A top-level conjunct `m.all(|k, v| P)` or `m.any(|k, v| P)` of an invariant: what an entry check needs.
pub(crate) struct EntryConjunct<'a> {
    pub(crate) field: FieldId,
    pub(crate) kind: Quantifier,
    pub(crate) params: &'a [ir::LocalId],
    pub(crate) body: &'a Expr,
}

/// The top-level conjuncts of `e` (`a && b && c`), in order.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Binary(BinOp::And, lhs, rhs) => {
            let mut out = conjuncts(lhs);
            out.extend(conjuncts(rhs));
            out
        }
        _ => vec![e],
    }
}

impl<'a> Gen<'a> {
    /// The conjuncts of invariant `i` that quantify over a map field with `all` or `any`, by conjunct index.
    pub(crate) fn entry_conjuncts(&self, i: usize) -> Vec<(usize, EntryConjunct<'a>)> {
        let Some(inv) = self.m.invariants.get(i) else { return Vec::new() };
        conjuncts(&inv.expr)
            .into_iter()
            .enumerate()
            .filter_map(|(j, c)| match &c.kind {
                ExprKind::Quantifier { kind: kind @ (Quantifier::All | Quantifier::Any), collection, params, body } => {
                    match (&collection.kind, &collection.ty) {
                        (ExprKind::Field(field), Type::Map(..)) => {
                            Some((j, EntryConjunct { field: *field, kind: *kind, params, body }))
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect()
    }

    /// How invariant `i` is checked after transition `t`.
    pub(crate) fn invariant_plan(&self, t: TransitionId, i: usize) -> InvariantPlan {
        let Some(inv) = self.m.invariants.get(i) else { return InvariantPlan::Full };
        if !self.opts.incremental_invariants {
            return InvariantPlan::Full;
        }
        let writes = state_writes(self.transition(t));
        if !writes.touches(&state_reads(self.m, &inv.expr)) {
            return InvariantPlan::Skip;
        }
        let entries = self.entry_conjuncts(i);
        let mut field = None;
        let mut chosen = Vec::new();
        for (j, c) in conjuncts(&inv.expr).into_iter().enumerate() {
            if !writes.touches(&state_reads(self.m, c)) {
                continue;
            }
            let Some((_, entry)) = entries.iter().find(|(k, _)| *k == j) else { return InvariantPlan::Full };
            let by_entries = writes.fields.get(&entry.field) == Some(&FieldWrite::MapEntries);
            let body_unwritten = !writes.touches(&state_reads(self.m, entry.body));
            if !by_entries || !body_unwritten || field.is_some_and(|f| f != entry.field) {
                return InvariantPlan::Full;
            }
            field = Some(entry.field);
            chosen.push(j);
        }
        match field {
            Some(field) => InvariantPlan::Entries { field, conjuncts: chosen },
            None => InvariantPlan::Skip,
        }
    }

    /// The map fields whose written keys transition `t`'s invariant checks need.
    pub(crate) fn tracked_maps(&self, t: TransitionId) -> BTreeSet<FieldId> {
        if !self.opts.post_transition_invariants {
            return BTreeSet::new();
        }
        (0..self.m.invariants.len())
            .filter_map(|i| match self.invariant_plan(t, i) {
                InvariantPlan::Entries { field, .. } => Some(field),
                _ => None,
            })
            .collect()
    }

    /// The name of the entry check of conjunct `j` of invariant `i`.
    fn entry_fn(&self, i: usize, j: usize) -> Ident {
        let name = self.n.invariant_fns.get(i).map_or_else(|| "invariant".to_string(), ToString::to_string);
        format_ident!("entry_{}_{}", name.trim_start_matches("invariant_"), j)
    }

    /// Whether a quantifier parameter of type `ty` is passed by value (else by reference).
    fn by_value(&self, ty: &Type) -> bool {
        self.is_copy(ty)
    }

    /// The entry-check methods: `fn entry_x_j(&self, k, v) -> bool` evaluating the body of conjunct `j` of
    /// invariant `x` on one entry (`Option<bool>` when it can fail), for every conjunct some transition uses.
    pub(crate) fn entry_check_fns(&self) -> TokenStream {
        let mut used: BTreeSet<(usize, usize)> = BTreeSet::new();
        if self.opts.post_transition_invariants {
            for t in 0..self.m.transitions.len() {
                for i in 0..self.m.invariants.len() {
                    if let InvariantPlan::Entries { conjuncts, .. } = self.invariant_plan(TransitionId(t as u32), i) {
                        used.extend(conjuncts.into_iter().map(|j| (i, j)));
                    }
                }
            }
        }
        let mut out = TokenStream::new();
        for (i, j) in used {
            let Some(inv) = self.m.invariants.get(i) else { continue };
            let Some((_, c)) = self.entry_conjuncts(i).into_iter().find(|(k, _)| *k == j) else { continue };
            let Some(ir::StateField { ty: Type::Map(kty, vty), .. }) = self.m.fields.get(c.field.index()) else {
                continue;
            };
            let uses = UseCounts::of_exprs([c.body]);
            let mut cx =
                Cx::new(Namer::new(inv.locals.iter().map(|l| l.name.as_str())), &inv.locals, Fail::Question, uses);
            let mut params = Vec::new();
            // `&String` / `&Vec<T>` parameters mirror the quantifier's item types.
            let ptr_arg = [&**kty, &**vty].iter().any(|ty| matches!(ty, Type::String | Type::Seq(_)));
            let allow_ptr = if ptr_arg { quote!(#[allow(clippy::ptr_arg)]) } else { TokenStream::new() };
            for (k, ty) in [(0usize, &**kty), (1, &**vty)] {
                let rust_ty = self.ty(ty);
                let rust_ty = if self.by_value(ty) { rust_ty } else { quote!(&#rust_ty) };
                match c.params.get(k) {
                    Some(id) if cx.local_used(*id) => {
                        let form = if self.by_value(ty) { Form::Owned } else { Form::Ref };
                        let ident = cx.bind_local(*id, form);
                        params.push(quote!(#ident: #rust_ty));
                    }
                    _ => params.push(quote!(_: #rust_ty)),
                }
            }
            let code = self.owned_expr(&mut cx, c.body);
            let fallible = self.facts.expr_fallible(c.body);
            let (ret, body) = super::items::fallible_body(fallible, quote!(bool), code);
            let name = self.entry_fn(i, j);
            let docs = format!(" Conjunct {j} of invariant `{}` on one entry of its map.", inv.name);
            out.extend(quote! {
                #[doc = #docs]
                #allow_ptr
                fn #name(&self, #(#params),*) -> #ret {
                    #body
                }
            });
        }
        out
    }

    /// The post-transition invariant check of transition `t`: an `Option<&'static str>` expression naming the
    /// first invariant the state breaks, given the slots holding the keys the body wrote per tracked map
    /// (`None` when no invariant needs evaluating).
    pub(crate) fn invariant_check(&self, t: TransitionId, touched: &[(FieldId, Ident)]) -> Option<TokenStream> {
        let plans: Vec<InvariantPlan> = (0..self.m.invariants.len()).map(|i| self.invariant_plan(t, i)).collect();
        if plans.iter().all(|p| *p == InvariantPlan::Full) {
            return Some(quote!(::meerkat_kernel::Kernel::violated_invariant(self)));
        }
        if plans.iter().all(|p| *p == InvariantPlan::Skip) {
            return None;
        }
        // `if c1 { Some(n1) } else if c2 { Some(n2) } ... else { None }`, one condition per evaluated invariant.
        let mut conds: Vec<(TokenStream, &str)> = Vec::new();
        for (i, plan) in plans.iter().enumerate() {
            let Some(inv) = self.m.invariants.get(i) else { continue };
            let name = &inv.name;
            let full_fails = {
                let f = &self.n.invariant_fns[i];
                if self.facts.invariant_fallible[i] { quote!(self.#f() != Some(true)) } else { quote!(!self.#f()) }
            };
            match plan {
                InvariantPlan::Skip => {}
                InvariantPlan::Full => conds.push((full_fails, name)),
                InvariantPlan::Entries { field, conjuncts } => {
                    let slots: Vec<&Ident> = touched.iter().filter(|(f, _)| f == field).map(|(_, s)| s).collect();
                    if slots.is_empty() {
                        // Unreachable (the plan needs a write to the map), and the full check is always right.
                        conds.push((full_fails, name));
                        continue;
                    }
                    let map = self.field_ident(field.index());
                    let entries = self.entry_conjuncts(i);
                    for j in conjuncts {
                        let Some((_, c)) = entries.iter().find(|(k, _)| k == j) else { continue };
                        let Some(ir::StateField { ty: Type::Map(kty, vty), .. }) = self.m.fields.get(field.index())
                        else {
                            continue;
                        };
                        let key_arg = if self.by_value(kty) { quote!(*key) } else { quote!(key) };
                        let value_arg = if self.by_value(vty) { quote!(*value) } else { quote!(value) };
                        let f = self.entry_fn(i, *j);
                        let holds = if self.facts.expr_fallible(c.body) {
                            quote!(self.#f(#key_arg, #value_arg) == Some(true))
                        } else {
                            quote!(self.#f(#key_arg, #value_arg))
                        };
                        let keys = match slots.as_slice() {
                            [one] => quote!(#one.iter()),
                            many => quote!([#(#many.as_ref()),*].into_iter().flatten()),
                        };
                        let cond = match c.kind {
                            Quantifier::Any => quote! {
                                !#keys.any(|key| self.#map.get(key).is_some_and(|value| #holds)) && #full_fails
                            },
                            _ => quote!(#keys.any(|key| self.#map.get(key).is_some_and(|value| !(#holds)))),
                        };
                        conds.push((cond, name));
                    }
                }
            }
        }
        let arms = conds.iter().map(|(cond, name)| quote!(if #cond { Some(#name) }));
        Some(quote!(#(#arms)else* else { None }))
    }
}
