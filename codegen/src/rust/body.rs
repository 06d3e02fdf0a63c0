//! Transition bodies: one private `fire_*` method per transition that writes the state in place and undoes its
//! own writes when something later in the body (checked arithmetic, the invariant check) rejects the input.
//!
//! Bodies have no loops, so every write is known statically. A write that nothing after it can reject is done
//! directly. A write that may need undoing keeps what it displaced in a local — `mem::replace` returns the old
//! value, `insert`/`remove`/`take`/`pop` report what changed — and every point that can reject restores, in
//! reverse order, exactly the writes made before it, then returns the error. Writes inside an `if` branch whose
//! undo is needed after the branch keep their old value in an `Option` slot declared at the top of the method.
//! The state is never cloned.
//!
//! Each transition also gets a `stage_*` twin, which `stage_input` and `stage_signal` call: it writes the same way
//! but pushes what every write displaced onto the caller's `::meerkat_kernel::UndoLog` (one variant of the
//! machine's undo enum per kind of write), and a rejection inside it rolls the log back to where the body
//! started. The caller can then roll the whole transition back later, still without a copy of the state.

use std::collections::BTreeSet;

use meerkat_dsl::ir::visit::{walk_expr, writes_state};
use meerkat_dsl::ir::{self, BinOp, CollectionOp, Stmt, StmtKind, TransitionId, Type};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::Gen;
use super::analysis::{EffectPlan, UseCounts, max_emits};
use super::expr::{Cx, Fail, Form, PatternTest, element_type, head};

/// One way to restore a write.
struct Undo {
    restore: TokenStream,
    /// A slot survives the branch that made the write; a direct undo does not.
    slot: bool,
}

/// State of one body's compilation.
struct BodyGen<'g, 'a> {
    g: &'g Gen<'a>,
    /// The undo log at the current point, in the order the writes happen.
    undo: Vec<Undo>,
    /// `let mut slot = None;` declarations, emitted at the top of the method.
    slots: Vec<TokenStream>,
    effects: Ident,
    /// When every `emit` of the body runs unconditionally: the locals holding the effects so far, put into the
    /// effect vector's variant of that length at the end (no `push`, which moves every earlier effect).
    static_emits: Option<Vec<Ident>>,
    /// What a failing checked operation returns.
    overflow: TokenStream,
    /// In a `stage_*` body: the log parameter and the local holding its length when the body started.
    log: Option<(Ident, Ident)>,
    /// Maps whose written keys the incremental invariant check needs.
    tracked: BTreeSet<ir::FieldId>,
    /// The slot holding the key of each tracked map write, in body order.
    touched: Vec<(ir::FieldId, Ident)>,
}

/// Which of a transition's two methods a body is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyMode {
    /// `fire_*`: undoes its own writes on a rejection, keeps nothing after success.
    Fire,
    /// `stage_*`: logs every write in the caller's undo log.
    Stage,
}

impl Gen<'_> {
    /// The `fire_*` method of a transition, and the payload field indices it takes (in declaration order).
    pub(crate) fn fire_fn(&self, id: TransitionId, mode: BodyMode) -> (TokenStream, Vec<u32>) {
        let t = self.transition(id);
        let trigger = self.m.trigger(t.trigger);
        let uses = UseCounts::of_transition(t);
        let mut reserved: Vec<&str> = trigger.fields.iter().map(|f| f.name.as_str()).collect();
        reserved.extend(t.locals.iter().map(|l| l.name.as_str()));
        let mut namer = self.namer(reserved);

        // Payload fields the body reads become parameters, moved in by the dispatcher.
        let mut payload_params = Vec::new();
        let mut params = Vec::new();
        let mut binding_names: Vec<String> = Vec::new();
        let mut payload_bindings = Vec::new();
        for (index, field) in trigger.fields.iter().enumerate() {
            let index = index as u32;
            let field_uses = uses.payload(index);
            if field_uses.count == 0 {
                continue;
            }
            let ident = namer.user(&field.name);
            binding_names.push(ident.to_string());
            let ty = self.ty(&field.ty);
            params.push(quote!(#ident: #ty));
            payload_params.push(index);
            let form = if self.is_copy(&field.ty) { Form::Owned } else { Form::Place };
            payload_bindings.push((index, ident, form, field_uses.movable()));
        }
        let source = namer.fresh("source");
        let effects = namer.fresh("effects");
        let log = (mode == BodyMode::Stage).then(|| (namer.fresh("log"), namer.fresh("mark")));
        let mut cx = Cx::new(namer, &t.locals, Fail::Question, uses);
        for (index, ident, form, movable) in payload_bindings {
            cx.payload.insert(index, super::expr::Binding { ident, form, movable });
        }
        cx.source = quote!(#source);

        let name = &t.name;
        let overflow = quote!(::meerkat_kernel::reject::overflow(#name));
        let emit_count = max_emits(&t.body);
        let static_emits = (self.facts.effect_plans[id.index()] == EffectPlan::Static(emit_count)).then(Vec::new);
        let mut body = BodyGen {
            g: self,
            undo: Vec::new(),
            slots: Vec::new(),
            effects: effects.clone(),
            static_emits,
            overflow,
            log: log.clone(),
            tracked: self.tracked_maps(id),
            touched: Vec::new(),
        };

        // Whether some invariant needs evaluating after this transition (see the `invariants` module).
        let check_invariants = self.opts.post_transition_invariants
            && (0..self.m.invariants.len())
                .any(|i| self.invariant_plan(id, i) != super::invariants::InvariantPlan::Skip);
        let body_fallible = t.body.iter().any(|s| self.facts.stmt_fallible(s));
        let phase_field = &self.n.phase_field;
        let mut stmts = TokenStream::new();
        let phase_ty = &self.n.phase;
        // The result's target phase, and the phase written first (none for `stay`).
        let (target, write) = match &t.target {
            ir::Target::Stay => (quote!(#source), None),
            ir::Target::Phase(p) => {
                let path = self.phase_path(*p);
                (path.clone(), Some(path))
            }
            ir::Target::Computed { expr, .. } => {
                // Computed from the pre-state before anything is written: a failure has nothing to undo.
                body.fail(&mut cx);
                let mut pre = TokenStream::new();
                let value = owned_value(self, &mut cx, expr, &mut pre).ts;
                let target = cx.namer.fresh("target");
                stmts.extend(pre);
                stmts.extend(quote!(let #target: #phase_ty = #value;));
                (quote!(#target), Some(quote!(#target)))
            }
        };
        if let Some(value) = write {
            stmts.extend(quote!(self.#phase_field = #value;));
            if let Some((log, _)) = &log {
                let variant = self.undo_variant("phase", quote!(#phase_ty), quote!(self.#phase_field = saved;));
                stmts.extend(quote!(#log.push(#variant(#source));));
                body.undo.push(Undo { restore: TokenStream::new(), slot: true });
            } else if body_fallible || check_invariants {
                body.undo.push(Undo { restore: quote!(self.#phase_field = #source;), slot: false });
            }
        }
        stmts.extend(body.block(&mut cx, &t.body, check_invariants, false));
        if let Some(check) = check_invariants.then(|| self.invariant_check(id, &body.touched)).flatten() {
            let invariant = cx.namer.fresh("invariant");
            let violated = cx.namer.fresh("violated");
            let restore = body.restores();
            stmts.extend(quote! {
                let #violated: ::std::option::Option<&'static str> = #check;
                if let Some(#invariant) = #violated {
                    #restore
                    return ::meerkat_kernel::reject::invariant(#name, #invariant);
                }
            });
        }
        let effects_ty = &self.n.effects;
        let fixed = self.facts.effect_storage.fixed().is_some();
        let (effects_decl, effects_value) = match &body.static_emits {
            Some(locals) if fixed => (TokenStream::new(), quote!([#(#locals),*])),
            Some(locals) => {
                let variant = quote::format_ident!("E{}", locals.len());
                (TokenStream::new(), quote!(#effects_ty::#variant([#(#locals),*])))
            }
            None if emit_count > 0 => (quote!(let mut #effects = #effects_ty::new();), quote!(#effects)),
            None if fixed => (TokenStream::new(), quote!([])),
            None => (TokenStream::new(), quote!(#effects_ty::E0([]))),
        };
        let slots = &body.slots;
        let (fire, docs, log_param) = match &log {
            None => (&self.n.fire_fns[id.index()], Self::docs(t.docs.as_deref(), || format!("Fires `{name}`.")), None),
            Some((log, mark)) => {
                let docs = format!(" Fires `{name}`, logging what each write displaces in the undo log.");
                // A body that writes nothing and cannot reject leaves the log alone.
                let used = super::dispatch::mentions(&stmts, log);
                let param = if used { quote!(#log) } else { quote!(_) };
                if super::dispatch::mentions(&stmts, mark) {
                    stmts = quote!(let #mark = #log.len(); #stmts);
                }
                (
                    &self.n.stage_fns[id.index()],
                    quote!(#[doc = #docs]),
                    Some(quote!(#param: &mut ::meerkat_kernel::UndoLog<Self>)),
                )
            }
        };
        params.extend(log_param);
        let allow_snake = super::names::allow_snake(binding_names.iter().map(String::as_str));
        // The payload fields are the parameters; a message with many fields makes a long but plain signature.
        let allow_args =
            if params.len() + 1 > 7 { quote!(#[allow(clippy::too_many_arguments)]) } else { TokenStream::new() };
        let phase_field = &self.n.phase_field;
        let method = quote! {
            #docs
            #[inline]
            #allow_snake
            #allow_args
            fn #fire(&mut self, #(#params),*) -> ::meerkat_kernel::Outcome<Self> {
                let #source = self.#phase_field;
                #(#slots)*
                #effects_decl
                #stmts
                ::meerkat_kernel::fired(#name, #source, #target, #effects_value)
            }
        };
        (method, payload_params)
    }
}

impl BodyGen<'_, '_> {
    /// The restores of every write so far, latest first (in a `stage_*` body: the log rolled back to its start).
    fn restores(&self) -> TokenStream {
        if let Some((log, mark)) = &self.log {
            return if self.undo.is_empty() { TokenStream::new() } else { quote!(#log.undo_to(self, #mark);) };
        }
        let restores = self.undo.iter().rev().map(|u| &u.restore);
        quote!(#(#restores)*)
    }

    /// In a `stage_*` body, the statement that logs a write displacing a `ty` (restored by `restore`, written
    /// over `saved`): `log.push(MUndo::Variant(displaced))`. Registers the write for [`BodyGen::restores`].
    fn log_write(&mut self, label: &str, ty: TokenStream, restore: TokenStream, displaced: TokenStream) -> TokenStream {
        let Some((log, _)) = &self.log else { return TokenStream::new() };
        let variant = self.g.undo_variant(label, ty, restore);
        self.undo.push(Undo { restore: TokenStream::new(), slot: true });
        quote!(#log.push(#variant(#displaced));)
    }

    /// The block a failing checked operation runs at the current point.
    fn fail(&self, cx: &mut Cx<'_>) {
        cx.fail = Fail::Diverge(diverge(self.restores(), &self.overflow));
    }

    /// Compiles a block. `after`: something after the block can reject the input. `branch`: the block is an `if`
    /// branch (its direct undos end with it).
    fn block(&mut self, cx: &mut Cx<'_>, stmts: &[Stmt], after: bool, branch: bool) -> TokenStream {
        let facts = &self.g.facts;
        let mut follow = vec![false; stmts.len()];
        let mut fallible_after = after;
        for (i, s) in stmts.iter().enumerate().rev() {
            if let Some(f) = follow.get_mut(i) {
                *f = fallible_after;
            }
            fallible_after |= facts.stmt_fallible(s);
        }
        let mut out = TokenStream::new();
        for (s, follow) in stmts.iter().zip(follow) {
            // A write needs undoing if something after it can reject; it needs a slot if that something comes
            // after the enclosing branch.
            let undo = match (follow, branch && after) {
                _ if self.log.is_some() => UndoMode::Logged,
                (false, _) => UndoMode::None,
                (true, true) => UndoMode::Slot,
                (true, false) => UndoMode::Direct,
            };
            out.extend(self.stmt(cx, s, undo, follow, branch));
        }
        out
    }

    fn stmt(&mut self, cx: &mut Cx<'_>, s: &Stmt, undo: UndoMode, follow: bool, branch: bool) -> TokenStream {
        self.fail(cx);
        let mut pre = TokenStream::new();
        let stmt = self.stmt_inner(cx, s, undo, follow, branch, &mut pre);
        quote!(#pre #stmt)
    }

    fn stmt_inner(
        &mut self,
        cx: &mut Cx<'_>,
        s: &Stmt,
        undo: UndoMode,
        follow: bool,
        branch: bool,
        pre: &mut TokenStream,
    ) -> TokenStream {
        let g = self.g;
        match &s.kind {
            StmtKind::Let { local, value } => {
                let ty = cx.local_ty(*local);
                let v = owned_value(g, cx, value, pre).ts;
                if !cx.local_used(*local) {
                    if g.facts.expr_fallible(value) {
                        let t = g.ty(&ty);
                        return quote!(let _: #t = #v;);
                    }
                    return TokenStream::new();
                }
                let form = if g.is_copy(&ty) { Form::Owned } else { Form::Place };
                let ident = cx.bind_local(*local, form);
                let t = g.ty(&ty);
                quote!(let #ident: #t = #v;)
            }
            StmtKind::Assign { place, value } => self.write(cx, place, value, undo, pre),
            StmtKind::Compound { place, op, value } => {
                let p = g.place(place);
                let amount = owned_value(g, cx, value, pre).ts;
                let method = if *op == BinOp::Sub { quote!(checked_sub) } else { quote!(checked_add) };
                let fail = diverge(self.restores(), &self.overflow);
                let new = quote!(match #p.#method(#amount) {
                    Some(value) => value,
                    None => #fail,
                });
                match undo {
                    UndoMode::None => quote!(#p = #new;),
                    UndoMode::Logged => {
                        // Logged once the new value is known, so an overflow leaves the log as it was.
                        let ty = g.ty(&place.ty);
                        let label = format!("{}_add", g.place_label(place));
                        let value = cx.namer.fresh("value");
                        let log = self.log_write(&label, ty, quote!(#p = saved;), quote!(#p));
                        quote!(let #value = #new; #log #p = #value;)
                    }
                    UndoMode::Direct => {
                        let u = cx.namer.fresh("undo");
                        self.undo.push(Undo { restore: quote!(#p = #u;), slot: false });
                        quote!(let #u = #p; #p = #new;)
                    }
                    UndoMode::Slot => {
                        let u = self.slot(cx);
                        self.undo
                            .push(Undo { restore: quote!(if let Some(__k_old) = #u { #p = __k_old; }), slot: true });
                        quote!(#u = Some(#p); #p = #new;)
                    }
                }
            }
            StmtKind::Collection { place, op, args } => self.collection(cx, place, *op, args, undo, pre),
            StmtKind::If { cond, then, else_ } => {
                let c = owned_value(g, cx, cond, pre);
                let c = head(&c);
                let (t, e) = self.branches(cx, then, else_, follow);
                if_stmt(quote!(if #c), t, e, else_)
            }
            StmtKind::IfLet { pattern, scrutinee, then, else_ } => {
                let by_ref = !writes_state(then);
                match g.pattern_test(cx, pattern, scrutinee, by_ref) {
                    PatternTest::Always(scrut) => {
                        let eval = scrut.map(|s| quote!(let _ = #s;)).unwrap_or_default();
                        // The block always runs: its writes are undone like those of the enclosing block.
                        let t = self.block(cx, then, follow, branch);
                        quote!(#eval #t)
                    }
                    PatternTest::Cond(c) => {
                        let (t, e) = self.branches(cx, then, else_, follow);
                        if_stmt(quote!(if #c), t, e, else_)
                    }
                    PatternTest::Let(pat, scrut) => {
                        let (t, e) = self.branches(cx, then, else_, follow);
                        if_stmt(quote!(if let #pat = #scrut), t, e, else_)
                    }
                }
            }
            StmtKind::Emit { effect, fields } => {
                let effect_ty = &g.n.effect;
                let Some(decl) = g.m.effects.get(effect.index()) else { return TokenStream::new() };
                let name = super::names::ident(&decl.name);
                let value = if decl.fields.is_empty() {
                    quote!(#effect_ty::#name)
                } else {
                    let values: Vec<TokenStream> = decl
                        .fields
                        .iter()
                        .zip(fields)
                        .map(|(f, v)| {
                            let fname = super::names::ident(&f.name);
                            let v = owned_value(g, cx, v, pre).ts;
                            super::expr::field_value(&fname, v)
                        })
                        .collect();
                    quote!(#effect_ty::#name { #(#values),* })
                };
                if self.static_emits.is_some() {
                    let local = cx.namer.fresh("effect");
                    if let Some(locals) = &mut self.static_emits {
                        locals.push(local.clone());
                    }
                    return quote!(let #local = #value;);
                }
                let effects = &self.effects;
                quote!(#effects.push(#value);)
            }
        }
    }

    /// Compiles both branches of an `if`; slots of either survive it, direct undos of neither do.
    fn branches(&mut self, cx: &mut Cx<'_>, then: &[Stmt], else_: &[Stmt], follow: bool) -> (TokenStream, TokenStream) {
        let start = self.undo.len();
        let t = self.block(cx, then, follow, true);
        let then_slots: Vec<Undo> = self.undo.split_off(start).into_iter().filter(|u| u.slot).collect();
        let e = self.block(cx, else_, follow, true);
        let else_slots: Vec<Undo> = self.undo.split_off(start).into_iter().filter(|u| u.slot).collect();
        self.undo.extend(then_slots);
        self.undo.extend(else_slots);
        (t, e)
    }

    /// For a write to a map the invariant check tracks: keeps a copy of the key in a slot declared at the top
    /// of the method, and returns the key expression to use (`owned` keys are bound to a local first).
    fn track_key(
        &mut self,
        cx: &mut Cx<'_>,
        place: &ir::Place,
        key: TokenStream,
        owned: bool,
        pre: &mut TokenStream,
    ) -> TokenStream {
        let Type::Map(kty, _) = &place.ty else { return key };
        if !place.path.is_empty() || !self.tracked.contains(&place.field) {
            return key;
        }
        let slot = cx.namer.fresh("touched");
        let t = self.g.ty(kty);
        // Written before the check on every path through the write, so the initial `None` may go unread.
        self.slots.push(quote!(#[allow(unused_assignments)] let mut #slot: ::std::option::Option<#t> = None;));
        self.touched.push((place.field, slot.clone()));
        if owned {
            let tmp = cx.namer.fresh("key");
            pre.extend(quote!(let #tmp: #t = #key; #slot = Some(::std::clone::Clone::clone(&#tmp));));
            quote!(#tmp)
        } else {
            let copy = if **kty == Type::String {
                quote!(::std::string::String::from(#key))
            } else {
                quote!(::std::clone::Clone::clone(#key))
            };
            pre.extend(quote!(#slot = Some(#copy);));
            key
        }
    }

    /// A new `Option` undo slot, declared at the top of the method.
    fn slot(&mut self, cx: &mut Cx<'_>) -> Ident {
        let u = cx.namer.fresh("undo");
        self.slots.push(quote!(let mut #u = None;));
        u
    }

    /// `place = value`, undoably.
    fn write(
        &mut self,
        cx: &mut Cx<'_>,
        place: &ir::Place,
        value: &ir::Expr,
        undo: UndoMode,
        pre: &mut TokenStream,
    ) -> TokenStream {
        let g = self.g;
        let (p, ty) = (&g.place(place), &place.ty);
        if undo == UndoMode::None {
            let v = owned_value(g, cx, value, pre).ts;
            return quote!(#p = #v;);
        }
        let copy = g.is_copy(ty);
        // What the write displaces, and the statements before it. `mem::replace(&mut place, value)` borrows the
        // place before evaluating `value`, so a value that reads the state (or may fail, restoring state) is
        // computed first.
        let (pre, saved, assign) = if copy {
            let v = owned_value(g, cx, value, pre).ts;
            (TokenStream::new(), quote!(#p), quote!(#p = #v;))
        } else {
            let early = reads_state(value) || g.facts.expr_fallible(value);
            let bind = |cx: &mut Cx<'_>, v: TokenStream| {
                if early {
                    let tmp = cx.namer.fresh("value");
                    (quote!(let #tmp = #v;), quote!(#tmp))
                } else {
                    (TokenStream::new(), v)
                }
            };
            match &value.kind {
                // `Option::replace` / `take` / `mem::take` say what they do (and clippy asks for them).
                ir::ExprKind::Some(inner) => {
                    let v = owned_value(g, cx, inner, pre).ts;
                    let (pre, v) = bind(cx, v);
                    (pre, quote!(#p.replace(#v)), TokenStream::new())
                }
                ir::ExprKind::None => (TokenStream::new(), quote!(#p.take()), TokenStream::new()),
                ir::ExprKind::SeqLit(items) | ir::ExprKind::SetLit(items) if items.is_empty() => {
                    (TokenStream::new(), quote!(::std::mem::take(&mut #p)), TokenStream::new())
                }
                ir::ExprKind::MapLit(entries) if entries.is_empty() => {
                    (TokenStream::new(), quote!(::std::mem::take(&mut #p)), TokenStream::new())
                }
                ir::ExprKind::Str(text) if text.is_empty() => {
                    (TokenStream::new(), quote!(::std::mem::take(&mut #p)), TokenStream::new())
                }
                _ => {
                    let v = owned_value(g, cx, value, pre).ts;
                    let (pre, v) = bind(cx, v);
                    (pre, quote!(::std::mem::replace(&mut #p, #v)), TokenStream::new())
                }
            }
        };
        match undo {
            UndoMode::Logged => {
                let label = format!("{}_set", g.place_label(place));
                let log = self.log_write(&label, g.ty(ty), quote!(#p = saved;), saved);
                quote!(#pre #log #assign)
            }
            UndoMode::Direct => {
                let u = cx.namer.fresh("undo");
                self.undo.push(Undo { restore: quote!(#p = #u;), slot: false });
                quote!(#pre let #u = #saved; #assign)
            }
            _ => {
                let u = self.slot(cx);
                self.undo.push(Undo { restore: quote!(if let Some(__k_old) = #u { #p = __k_old; }), slot: true });
                quote!(#pre #u = Some(#saved); #assign)
            }
        }
    }

    fn collection(
        &mut self,
        cx: &mut Cx<'_>,
        place: &ir::Place,
        op: CollectionOp,
        args: &[ir::Expr],
        undo: UndoMode,
        pre: &mut TokenStream,
    ) -> TokenStream {
        let g = self.g;
        let p = g.place(place);
        let elem = element_type(&place.ty);
        let copy_elem = g.is_copy(&elem);
        // Arguments are evaluated first, into locals when they read the state or can fail (the collection is
        // borrowed mutably by the call).
        let mut arg = |cx: &mut Cx<'_>, index: usize, owned: bool| -> TokenStream {
            let Some(a) = args.get(index) else { return quote!(::std::default::Default::default()) };
            let code = if g.facts.expr_fallible(a) { owned_value(g, cx, a, pre) } else { g.expr(cx, a) };
            let ts = if owned {
                g.owned(code, &a.ty).ts
            } else if a.ty == Type::String && code.form == Form::StrLit {
                code.ts
            } else {
                g.by_ref(code, &a.ty)
            };
            // A value that can fail must be computed before the call borrows the collection (its failure path
            // restores other state); one that reads the state is fine under two-phase borrows.
            let fallible = g.facts.expr_fallible(a);
            let reused = undo != UndoMode::None && owned && (!g.is_copy(&a.ty) || reads_state(a));
            if reused || fallible {
                let base = if index == 0 && matches!(op, CollectionOp::MapInsert) { "key" } else { "value" };
                let tmp = cx.namer.fresh(base);
                pre.extend(quote!(let #tmp = #ts;));
                quote!(#tmp)
            } else {
                ts
            }
        };
        let field = g.place_label(place);
        let direct = |this: &mut Self, cx: &mut Cx<'_>, saved: TokenStream, restore: Restore| match undo {
            UndoMode::None => quote!(#saved;),
            UndoMode::Logged => {
                let (op, ty) = logged_shape(g, op, &place.ty);
                let restore = match restore {
                    Restore::Pattern(pat, body) => quote!(if let #pat = saved { #body }),
                    Restore::Value(f) => f(&quote!(saved)),
                };
                this.log_write(&format!("{field}_{op}"), ty, restore, saved)
            }
            UndoMode::Direct => {
                let u = cx.namer.fresh("undo");
                let restore = match restore {
                    Restore::Pattern(pat, body) => quote!(if let #pat = #u { #body }),
                    Restore::Value(f) => f(&quote!(#u)),
                };
                this.undo.push(Undo { restore, slot: false });
                quote!(let #u = #saved;)
            }
            UndoMode::Slot => {
                let u = this.slot(cx);
                let restore = match restore {
                    Restore::Pattern(pat, body) => quote!(if let Some(#pat) = #u { #body }),
                    Restore::Value(f) => {
                        let inner = f(&quote!(__k_old));
                        quote!(if let Some(__k_old) = #u { #inner })
                    }
                };
                this.undo.push(Undo { restore, slot: true });
                quote!(#u = Some(#saved);)
            }
        };
        match op {
            CollectionOp::SetInsert => {
                let v = arg(cx, 0, true);
                if undo == UndoMode::None {
                    quote!(#p.insert(#v);)
                } else {
                    let key = if copy_elem { quote!(#v) } else { quote!(#v.clone()) };
                    direct(
                        self,
                        cx,
                        quote!(#p.insert(#key).then_some(#v)),
                        Restore::Pattern(quote!(Some(__k_value)), quote!(#p.remove(&__k_value);)),
                    )
                }
            }
            CollectionOp::SetRemove => {
                let v = arg(cx, 0, false);
                if undo == UndoMode::None {
                    quote!(#p.remove(#v);)
                } else {
                    direct(
                        self,
                        cx,
                        quote!(#p.take(#v)),
                        Restore::Pattern(quote!(Some(__k_value)), quote!(#p.insert(__k_value);)),
                    )
                }
            }
            CollectionOp::MapInsert => {
                let k = arg(cx, 0, true);
                let v = arg(cx, 1, true);
                let k = self.track_key(cx, place, k, true, pre);
                if undo == UndoMode::None {
                    quote!(#p.insert(#k, #v);)
                } else {
                    let key_ty = element_type(&place.ty);
                    let key = if g.is_copy(&key_ty) { quote!(#k) } else { quote!(#k.clone()) };
                    let restore_p = p.clone();
                    direct(
                        self,
                        cx,
                        quote!((#p.insert(#key, #v), #k)),
                        Restore::Value(Box::new(move |u| {
                            quote!(match #u {
                                (Some(__k_previous), __k_key) => { #restore_p.insert(__k_key, __k_previous); }
                                (None, __k_key) => { #restore_p.remove(&__k_key); }
                            })
                        })),
                    )
                }
            }
            CollectionOp::MapRemove => {
                let k = arg(cx, 0, false);
                let k = self.track_key(cx, place, k, false, pre);
                if undo == UndoMode::None {
                    quote!(#p.remove(#k);)
                } else {
                    direct(
                        self,
                        cx,
                        quote!(#p.remove_entry(#k)),
                        Restore::Pattern(quote!(Some((__k_key, __k_value))), quote!(#p.insert(__k_key, __k_value);)),
                    )
                }
            }
            CollectionOp::SeqPush => {
                let v = arg(cx, 0, true);
                match undo {
                    UndoMode::None => quote!(#p.push(#v);),
                    UndoMode::Logged => {
                        let log = self.log_write(&format!("{field}_push"), quote!(()), quote!(#p.pop();), quote!(()));
                        quote!(#p.push(#v); #log)
                    }
                    UndoMode::Direct => {
                        self.undo.push(Undo { restore: quote!(#p.pop();), slot: false });
                        quote!(#p.push(#v);)
                    }
                    UndoMode::Slot => {
                        let u = cx.namer.fresh("undo");
                        self.slots.push(quote!(let mut #u = false;));
                        self.undo.push(Undo { restore: quote!(if #u { #p.pop(); }), slot: true });
                        quote!(#p.push(#v); #u = true;)
                    }
                }
            }
            CollectionOp::SeqPop => {
                if undo == UndoMode::None {
                    quote!(#p.pop();)
                } else {
                    direct(
                        self,
                        cx,
                        quote!(#p.pop()),
                        Restore::Pattern(quote!(Some(__k_value)), quote!(#p.push(__k_value);)),
                    )
                }
            }
            CollectionOp::SeqPopFront => {
                if undo == UndoMode::None {
                    quote!(#p.drain(..#p.len().min(1));)
                } else {
                    let restore_p = p.clone();
                    direct(
                        self,
                        cx,
                        quote!(if #p.is_empty() { None } else { Some(#p.remove(0)) }),
                        Restore::Pattern(quote!(Some(__k_value)), quote!(#restore_p.insert(0, __k_value);)),
                    )
                }
            }
            CollectionOp::Clear => {
                if undo == UndoMode::None {
                    quote!(#p.clear();)
                } else {
                    let restore_p = p.clone();
                    direct(
                        self,
                        cx,
                        quote!(::std::mem::take(&mut #p)),
                        Restore::Value(Box::new(move |u| quote!(#restore_p = #u;))),
                    )
                }
            }
        }
    }
}

/// Compiles `e` to an owned value. An expression with several checked operations is computed first, in a
/// labeled block that breaks out with `None` on failure, so the block that undoes the body's writes and returns
/// the error is written once per expression rather than once per operation.
fn owned_value(g: &Gen<'_>, cx: &mut Cx<'_>, e: &ir::Expr, pre: &mut TokenStream) -> super::expr::Code {
    if super::analysis::fallible_points(&g.facts, e) < 2 {
        return g.owned_expr(cx, e);
    }
    let Fail::Diverge(fail_block) = cx.fail.clone() else { return g.owned_expr(cx, e) };
    let label = cx.namer.label("eval");
    cx.fail = Fail::Break(quote!(#label));
    let code = g.owned_expr(cx, e);
    cx.fail = Fail::Diverge(fail_block.clone());
    let value = cx.namer.fresh("value");
    let option = match code.question {
        Some(option) => option,
        None => {
            let ts = code.ts;
            quote!(Some(#ts))
        }
    };
    // A `let ... else` initializer cannot end in a block, hence the parentheses.
    let fail_block = block(fail_block);
    pre.extend(quote!(let Some(#value) = (#label: { #option }) else #fail_block;));
    super::expr::Code::owned(quote!(#value), super::expr::Prec::Postfix)
}

/// `return error`, or the block that runs `restores` first.
pub(crate) fn diverge(restores: TokenStream, error: &TokenStream) -> TokenStream {
    if restores.is_empty() {
        quote!(return #error)
    } else {
        quote!({
            #restores
            return #error;
        })
    }
}

/// A diverging expression as a block: itself if it is one, else `{ expr; }`.
fn block(diverge: TokenStream) -> TokenStream {
    let mut trees = diverge.clone().into_iter();
    match (trees.next(), trees.next()) {
        (Some(proc_macro2::TokenTree::Group(group)), None) if group.delimiter() == proc_macro2::Delimiter::Brace => {
            diverge
        }
        _ => quote!({ #diverge; }),
    }
}

/// How to restore a collection write from what it saved.
enum Restore {
    /// `if let pattern = saved { body }` (a slot adds `Some(..)` around the pattern).
    Pattern(TokenStream, TokenStream),
    /// Statements restoring from the saved value, given as an expression.
    Value(Box<dyn Fn(&TokenStream) -> TokenStream>),
}

/// Whether a write needs undoing, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UndoMode {
    None,
    Direct,
    Slot,
    /// Pushed onto the undo log of a `stage_*` body.
    Logged,
}

/// The name of a logged collection write and the type of what it displaces (what its `direct` save evaluates to).
fn logged_shape(g: &Gen<'_>, op: CollectionOp, ty: &Type) -> (&'static str, TokenStream) {
    let elem = g.ty(&element_type(ty));
    match (op, ty) {
        (CollectionOp::SetInsert, _) => ("insert", quote!(::std::option::Option<#elem>)),
        (CollectionOp::SetRemove, _) => ("remove", quote!(::std::option::Option<#elem>)),
        (CollectionOp::MapInsert, Type::Map(k, v)) => {
            let (k, v) = (g.ty(k), g.ty(v));
            ("insert", quote!((::std::option::Option<#v>, #k)))
        }
        (CollectionOp::MapRemove, Type::Map(k, v)) => {
            let (k, v) = (g.ty(k), g.ty(v));
            ("remove", quote!(::std::option::Option<(#k, #v)>))
        }
        (CollectionOp::SeqPop, _) => ("pop", quote!(::std::option::Option<#elem>)),
        (CollectionOp::SeqPopFront, _) => ("pop_front", quote!(::std::option::Option<#elem>)),
        (CollectionOp::SeqPush, _) => ("push", quote!(())),
        _ => ("clear", g.ty(ty)),
    }
}

/// `if head { then } else { else }`, chaining `else if` and dropping empty branches.
fn if_stmt(head_ts: TokenStream, then: TokenStream, else_ts: TokenStream, else_ir: &[Stmt]) -> TokenStream {
    if else_ts.is_empty() {
        return quote!(#head_ts { #then });
    }
    let chains = matches!(else_ir, [Stmt { kind: StmtKind::If { .. } | StmtKind::IfLet { .. }, .. }]);
    if chains && else_ts.to_string().starts_with("if") {
        quote!(#head_ts { #then } else #else_ts)
    } else {
        quote!(#head_ts { #then } else { #else_ts })
    }
}

/// Whether an expression reads the state (fields, the phase, guards, helpers).
fn reads_state(e: &ir::Expr) -> bool {
    let mut reads = false;
    walk_expr(e, &mut |sub| {
        use ir::ExprKind as K;
        reads |= matches!(sub.kind, K::Field(_) | K::Phase | K::Guard(_) | K::Call(..));
    });
    reads
}

impl Gen<'_> {
    /// The snake-case name of the state field a place starts at, for naming undo variants.
    pub(crate) fn place_label(&self, place: &ir::Place) -> String {
        self.m
            .fields
            .get(place.field.index())
            .map_or_else(|| "field".to_string(), |f| super::names::snake_case(&f.name))
    }

    /// A state place: `self.field.sub.0`.
    pub(crate) fn place(&self, place: &ir::Place) -> TokenStream {
        let field = self.field_ident(place.field.index());
        let mut ts = quote!(self.#field);
        let mut ty = self.m.fields.get(place.field.index()).map_or(Type::Bool, |f| f.ty.clone());
        for projection in &place.path {
            match projection {
                ir::Projection::RecordField(i) => {
                    let fields = match &ty {
                        Type::Named(t) => self.record_fields(*t),
                        _ => Vec::new(),
                    };
                    match fields.into_iter().nth(*i as usize) {
                        Some((name, fty)) => {
                            ts = quote!(#ts.#name);
                            ty = fty;
                        }
                        None => return ts,
                    }
                }
                ir::Projection::NewtypeInner => {
                    ts = quote!(#ts.0);
                    ty = match &ty {
                        Type::Named(t) => match self.m.types.get(t.index()).map(|d| &d.kind) {
                            Some(ir::TypeKind::Newtype { inner }) => inner.clone(),
                            _ => Type::Bool,
                        },
                        _ => Type::Bool,
                    };
                }
            }
        }
        ts
    }
}
