//! Dispatch: `dispatch_input` and `dispatch_signal`, a compiled `match` on the trigger, then on the phase, whose
//! arms evaluate the candidates' guards in declaration order against the state before the transition and fire
//! the one that passes (or report why none or two did).
//!
//! Phases with the same candidate list share an arm. Guards are inlined; a failing checked operation in a guard
//! returns `ArithmeticOverflow` for its candidate at once (nothing has been written yet). With two or more
//! guarded candidates every guard list is evaluated before the outcome is decided, as the semantics require, and
//! a `match` on the results picks the first two passing candidates for an ambiguity.

use meerkat_dsl::ir::{self, ExprKind, Message, TransitionId, Trigger};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::Gen;
use super::analysis::{UseCounts, dispatch_groups};
use super::expr::{Binding, Code, Cx, Fail, Form, Prec, head, operand};
use super::names::{self, Namer};

/// What the dispatcher needs to know about a transition's `fire_*` method.
pub(crate) struct FireFn {
    pub(crate) method: TokenStream,
    /// Payload field indices the method takes, in declaration order.
    pub(crate) params: Vec<u32>,
}

impl Gen<'_> {
    /// The `fire_*` methods of every transition that can fire.
    pub(crate) fn fire_fns(&self) -> Vec<Option<FireFn>> {
        let mut reachable = vec![false; self.m.transitions.len()];
        for trigger in self.m.triggers() {
            for (_, candidates) in dispatch_groups(self.m, trigger) {
                for c in candidates {
                    if let Some(r) = reachable.get_mut(c.index()) {
                        *r = true;
                    }
                }
            }
        }
        (0..self.m.transitions.len())
            .map(|i| {
                reachable.get(i).copied().unwrap_or(false).then(|| {
                    let (method, params) = self.fire_fn(TransitionId(i as u32));
                    FireFn { method, params }
                })
            })
            .collect()
    }

    /// `dispatch_input` (or `dispatch_signal`): the compiled match.
    pub(crate) fn dispatch_fn(&self, signals: bool, fires: &[Option<FireFn>]) -> TokenStream {
        let (messages, enum_ty, fname, base) = if signals {
            (&self.m.signals, &self.n.signal, &self.n.dispatch_signal, "signal")
        } else {
            (&self.m.inputs, &self.n.input, &self.n.dispatch_input, "input")
        };
        let trigger_of = |i: usize| {
            if signals { Trigger::Signal(ir::SignalId(i as u32)) } else { Trigger::Input(ir::InputId(i as u32)) }
        };
        // Every user name bound anywhere in this function, so generated names avoid them all.
        let mut reserved: Vec<&str> = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            reserved.extend(message.fields.iter().map(|f| f.name.as_str()));
            for t in self.m.transitions.iter().filter(|t| t.trigger == trigger_of(i)) {
                reserved.extend(t.locals.iter().map(|l| l.name.as_str()));
            }
        }
        let mut namer = Namer::new(reserved);
        let input = namer.fresh(base);
        let source = namer.fresh("source");
        let error = &self.n.error;
        let phase_field = &self.n.phase_field;

        let mut arms = Vec::new();
        let mut binding_names: Vec<String> = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let trigger = trigger_of(i);
            let groups = dispatch_groups(self.m, trigger);
            let mut arm_namer = namer.clone();

            // Payload fields read by some candidate's guards or passed to some candidate's body.
            let mut used = vec![false; message.fields.len()];
            for (_, candidates) in &groups {
                for c in candidates {
                    let Some(t) = self.m.transitions.get(c.index()) else { continue };
                    let guard_uses = UseCounts::of_exprs(t.guards.iter().map(|g| &g.expr));
                    for (index, u) in used.iter_mut().enumerate() {
                        *u |= guard_uses.payload(index as u32).count > 0;
                    }
                    if let Some(Some(fire)) = fires.get(c.index()) {
                        for p in &fire.params {
                            if let Some(u) = used.get_mut(*p as usize) {
                                *u = true;
                            }
                        }
                    }
                }
            }
            let mut payload: Vec<(u32, Binding)> = Vec::new();
            let mut field_pats = Vec::new();
            for (index, field) in message.fields.iter().enumerate() {
                if !used.get(index).copied().unwrap_or(false) {
                    continue;
                }
                let ident = arm_namer.user(&field.name);
                binding_names.push(ident.to_string());
                let fname = names::ident(&field.name);
                if fname == ident {
                    field_pats.push(quote!(#ident));
                } else {
                    field_pats.push(quote!(#fname: #ident));
                }
                let form = if self.is_copy(&field.ty) { Form::Owned } else { Form::Place };
                payload.push((index as u32, Binding { ident, form, movable: false }));
            }
            let variant = names::ident(&message.name);
            let pattern = if message.fields.is_empty() {
                quote!(#enum_ty::#variant)
            } else if field_pats.len() == message.fields.len() {
                quote!(#enum_ty::#variant { #(#field_pats),* })
            } else {
                quote!(#enum_ty::#variant { #(#field_pats,)* .. })
            };

            let arm_ctx = ArmCtx { message, source: &source, payload: &payload, fires };
            let body = if groups.len() == 1 {
                let (_, candidates) = &groups[0];
                self.decide(&mut arm_namer, &arm_ctx, candidates)
            } else {
                let group_arms = groups.iter().map(|(phases, candidates)| {
                    let pats = phases.iter().map(|p| self.phase_path(*p));
                    let decide = self.decide(&mut arm_namer, &arm_ctx, candidates);
                    quote!(#(#pats)|* => { #decide })
                });
                quote!(match #source { #(#group_arms)* })
            };
            arms.push(quote!(#pattern => { #body }));
        }
        let transition_ty = &self.n.transition;
        let allow_snake = names::allow_snake(binding_names.iter().map(String::as_str));
        let prelude = if messages.is_empty() { TokenStream::new() } else { quote!(let #source = self.#phase_field;) };
        let docs = format!(" Applies one {base}: the compiled dispatch of the spec's transitions.");
        quote! {
            #[doc = #docs]
            #[inline]
            #allow_snake
            fn #fname(&mut self, #input: #enum_ty) -> ::std::result::Result<#transition_ty, #error> {
                #prelude
                match #input {
                    #(#arms)*
                }
            }
        }
    }

    /// The code that picks and fires one of `candidates` (one phase group of one trigger).
    fn decide(&self, namer: &mut Namer, arm: &ArmCtx<'_>, candidates: &[TransitionId]) -> TokenStream {
        let error = &self.n.error;
        let source = arm.source;
        let trigger_name = &arm.message.name;
        if candidates.is_empty() {
            return quote!(::std::result::Result::Err(#error::NoMatchingTransition { phase: #source, trigger: #trigger_name }));
        }
        let transitions: Vec<(TransitionId, &ir::Transition)> =
            candidates.iter().filter_map(|c| self.m.transitions.get(c.index()).map(|t| (*c, t))).collect();
        let guarded: Vec<&(TransitionId, &ir::Transition)> = transitions.iter().filter(|(_, t)| !t.otherwise).collect();
        let fallback = transitions.iter().find(|(_, t)| t.otherwise);
        let fallback_fire = fallback.map(|(id, _)| self.fire_call(arm, *id));

        match guarded.as_slice() {
            [] => fallback_fire.unwrap_or_default(),
            [(id, t)] => {
                let fire = self.fire_call(arm, *id);
                if t.guards.is_empty() {
                    return fire;
                }
                if let Some(fallback_fire) = fallback_fire {
                    let codes: Vec<Code> =
                        t.guards.iter().map(|g| self.guard_code(namer, arm, t, &g.expr, false)).collect();
                    match codes.as_slice() {
                        // A lone guard that can fail reads better computed first than as a `match` in the head.
                        [only] if only.prec == Prec::Block => {
                            let holds = namer.fresh("holds");
                            let ts = &only.ts;
                            quote! {
                                let #holds = #ts;
                                if #holds { #fire } else { #fallback_fire }
                            }
                        }
                        [only] => {
                            let cond = head(only);
                            quote!(if #cond { #fire } else { #fallback_fire })
                        }
                        _ => {
                            let conds = codes.iter().map(|c| operand(c, Prec::Cmp));
                            let cond = quote!(#(#conds)&&*);
                            let cond = if codes.iter().any(|c| c.bare_struct) { quote!((#cond)) } else { cond };
                            quote!(if #cond { #fire } else { #fallback_fire })
                        }
                    }
                } else {
                    let rejected = namer.fresh("rejected");
                    let mut chain = TokenStream::new();
                    for (k, g) in t.guards.iter().enumerate() {
                        let c = self.guard_code(namer, arm, t, &g.expr, true);
                        let c = head(&c);
                        let label = self.label_index(&g.label);
                        if k == 0 {
                            chain.extend(quote!(if #c { #label }));
                        } else {
                            chain.extend(quote!(else if #c { #label }));
                        }
                    }
                    let index = proc_macro2::Literal::usize_unsuffixed(id.index());
                    let rejections = self.rejections_literal(&[quote!((#index, #rejected))]);
                    quote! {
                        let #rejected = #chain else { return #fire; };
                        ::std::result::Result::Err(#error::GuardRejected {
                            phase: #source,
                            trigger: #trigger_name,
                            rejections: #rejections,
                        })
                    }
                }
            }
            several => {
                // Every guard list first (the semantics evaluate them all), then the outcome.
                let mut lets = TokenStream::new();
                let mut vars: Vec<Ident> = Vec::new();
                for (_, t) in several {
                    let var = namer.fresh("rejected");
                    let value = if t.guards.is_empty() {
                        quote!(None)
                    } else {
                        let mut chain = TokenStream::new();
                        for (k, g) in t.guards.iter().enumerate() {
                            let c = self.guard_code(namer, arm, t, &g.expr, true);
                            let c = head(&c);
                            let label = self.label_index(&g.label);
                            if k == 0 {
                                chain.extend(quote!(if #c { Some(#label) }));
                            } else {
                                chain.extend(quote!(else if #c { Some(#label) }));
                            }
                        }
                        quote!(#chain else { None })
                    };
                    let index_ty = self.rejection_index_type();
                    lets.extend(quote!(let #var: ::std::option::Option<#index_ty> = #value;));
                    vars.push(var);
                }
                let n = several.len();
                let mut match_arms = Vec::new();
                let pattern = |passing: &[usize]| {
                    let items = (0..n).map(|k| if passing.contains(&k) { quote!(None) } else { quote!(_) });
                    quote!((#(#items),*))
                };
                for a in 0..n {
                    for b in a + 1..n {
                        let p = pattern(&[a, b]);
                        let (first, second) = (&several[a].1.name, &several[b].1.name);
                        match_arms.push(quote!(#p => ::std::result::Result::Err(#error::AmbiguousTransition {
                            phase: #source,
                            trigger: #trigger_name,
                            first: #first,
                            second: #second,
                        }),));
                    }
                }
                for (a, (id, _)) in several.iter().enumerate() {
                    let p = pattern(&[a]);
                    let fire = self.fire_call(arm, *id);
                    match_arms.push(quote!(#p => #fire,));
                }
                match fallback_fire {
                    Some(fire) => match_arms.push(quote!(_ => #fire,)),
                    None => {
                        let labels: Vec<Ident> = (0..n).map(|_| namer.fresh("label")).collect();
                        let pats = labels.iter().map(|l| quote!(Some(#l)));
                        let entries: Vec<TokenStream> = several
                            .iter()
                            .zip(&labels)
                            .map(|((id, _), l)| {
                                let index = proc_macro2::Literal::usize_unsuffixed(id.index());
                                quote!((#index, #l))
                            })
                            .collect();
                        let rejections = self.rejections_literal(&entries);
                        match_arms.push(quote!((#(#pats),*) => ::std::result::Result::Err(#error::GuardRejected {
                            phase: #source,
                            trigger: #trigger_name,
                            rejections: #rejections,
                        }),));
                    }
                }
                quote! {
                    #lets
                    match (#(#vars),*) {
                        #(#match_arms)*
                    }
                }
            }
        }
    }

    /// An `MGuardRejections` value holding `entries` (pairs of name-table indices), padded to its capacity.
    fn rejections_literal(&self, entries: &[TokenStream]) -> TokenStream {
        let ty = &self.n.rejections;
        let len = proc_macro2::Literal::usize_unsuffixed(entries.len());
        let padding = (entries.len()..self.facts.max_guarded).map(|_| quote!((0, 0)));
        quote!(#ty { len: #len, items: [#(#entries,)* #(#padding),*] })
    }

    /// The index of a guard label in `MGuardRejections::LABELS`.
    fn label_index(&self, label: &str) -> proc_macro2::Literal {
        let index = self.guard_labels().iter().position(|l| *l == label).unwrap_or(0);
        proc_macro2::Literal::usize_unsuffixed(index)
    }

    /// `self.fire_x(source, payload...)`.
    fn fire_call(&self, arm: &ArmCtx<'_>, id: TransitionId) -> TokenStream {
        let fire = self.n.fire_fns.get(id.index()).cloned().unwrap_or_else(|| names::plain("fire"));
        let source = arm.source;
        let params: Vec<u32> =
            arm.fires.get(id.index()).and_then(|f| f.as_ref()).map(|f| f.params.clone()).unwrap_or_default();
        let args = params.iter().map(|p| match arm.payload.iter().find(|(i, _)| i == p) {
            Some((_, b)) => {
                let ident = &b.ident;
                quote!(#ident)
            }
            None => quote!(::std::default::Default::default()),
        });
        quote!(self.#fire(#source, #(#args),*))
    }

    /// A guard of candidate `id`, compiled in dispatch context (`negate`: its negation, for rejection chains).
    fn guard_code(
        &self,
        namer: &mut Namer,
        arm: &ArmCtx<'_>,
        t: &ir::Transition,
        expr: &ir::Expr,
        negate: bool,
    ) -> Code {
        let uses = UseCounts::of_exprs([expr]);
        let name = &t.name;
        let error = &self.n.error;
        let fail = Fail::Diverge(quote!({
            return ::std::result::Result::Err(#error::ArithmeticOverflow { transition: #name });
        }));
        let mut cx = Cx::new(namer.clone(), &t.locals, fail, uses);
        let source = arm.source;
        cx.source = quote!(#source);
        for (index, b) in arm.payload {
            cx.payload.insert(*index, b.clone());
        }
        let code = if negate {
            let not = ir::Expr { kind: ExprKind::Not(Box::new(expr.clone())), ty: ir::Type::Bool, span: expr.span };
            self.expr(&mut cx, &not)
        } else {
            self.expr(&mut cx, expr)
        };
        // Names the guard bound stay taken for the rest of the function.
        *namer = cx.namer;
        code
    }
}

/// What the arms of one trigger share.
struct ArmCtx<'a> {
    message: &'a Message,
    source: &'a Ident,
    payload: &'a [(u32, Binding)],
    fires: &'a [Option<FireFn>],
}
