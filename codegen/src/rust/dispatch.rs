//! Dispatch: `Kernel::apply_input` and `Kernel::apply_signal`, a compiled `match` on the trigger, then on the phase, whose
//! arms evaluate the candidates' guards in declaration order against the state before the transition and fire
//! the one that passes (or report why none or two did).
//!
//! Phases with the same candidate list share an arm. Guards are inlined; a failing checked operation in a guard
//! returns `ArithmeticOverflow` for its candidate at once (nothing has been written yet). With two or more
//! guarded candidates every guard list is evaluated before the outcome is decided, as the semantics require, and
//! a `match` on the results picks the first two passing candidates for an ambiguity. Rejections name the
//! transitions and guard labels they report by their names in the kernel's tables (`Kernel::TRANSITIONS`,
//! `Kernel::GUARDS`), through the `::meerkat_kernel::reject` constructors.
//!
//! Ids come from the checked machine, and per-transition and per-field tables are built from it, so they are
//! indexed directly.

use meerkat_dsl::ir::{self, ExprKind, Message, TransitionId, Trigger};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::Gen;
use super::analysis::{UseCounts, dispatch_groups};
use super::body::BodyMode;
use super::expr::{Binding, Code, Cx, Fail, Form, Prec, head, operand};
use super::names::{self, Namer};

/// What the dispatcher needs to know about a transition's `fire_*` method.
pub(crate) struct FireFn {
    pub(crate) method: TokenStream,
    /// Its `stage_*` twin, which logs its writes.
    pub(crate) stage_method: TokenStream,
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
                    reachable[c.index()] = true;
                }
            }
        }
        reachable
            .iter()
            .enumerate()
            .map(|(i, reachable)| {
                reachable.then(|| {
                    let (method, params) = self.fire_fn(TransitionId(i as u32), BodyMode::Fire);
                    let (stage_method, _) = self.fire_fn(TransitionId(i as u32), BodyMode::Stage);
                    FireFn { method, stage_method, params }
                })
            })
            .collect()
    }

    /// `Kernel::apply_input`: the compiled match over the inputs.
    pub(crate) fn dispatch_input_fn(&self, fires: &[Option<FireFn>]) -> TokenStream {
        let kind = TriggerKind {
            messages: &self.m.inputs,
            enum_ty: &self.n.input,
            fname: quote!(apply_input),
            param_ty: quote!(Self::Input),
            base: "input",
            trigger: |i| Trigger::Input(ir::InputId(i as u32)),
            mode: BodyMode::Fire,
        };
        self.dispatch_fn(&kind, fires)
    }

    /// `Kernel::stage_input`: the same match, calling the `stage_*` methods with the undo log.
    pub(crate) fn stage_input_fn(&self, fires: &[Option<FireFn>]) -> TokenStream {
        let kind = TriggerKind {
            messages: &self.m.inputs,
            enum_ty: &self.n.input,
            fname: quote!(stage_input),
            param_ty: quote!(Self::Input),
            base: "input",
            trigger: |i| Trigger::Input(ir::InputId(i as u32)),
            mode: BodyMode::Stage,
        };
        self.dispatch_fn(&kind, fires)
    }

    /// `Kernel::stage_signal`: the signal match, calling the `stage_*` methods with the undo log.
    pub(crate) fn stage_signal_fn(&self, fires: &[Option<FireFn>]) -> TokenStream {
        let kind = TriggerKind {
            messages: &self.m.signals,
            enum_ty: &self.n.signal,
            fname: quote!(stage_signal),
            param_ty: quote!(Self::Signal),
            base: "signal",
            trigger: |i| Trigger::Signal(ir::SignalId(i as u32)),
            mode: BodyMode::Stage,
        };
        self.dispatch_fn(&kind, fires)
    }

    /// `Kernel::apply_signal`: the compiled match over the signals.
    pub(crate) fn dispatch_signal_fn(&self, fires: &[Option<FireFn>]) -> TokenStream {
        let kind = TriggerKind {
            messages: &self.m.signals,
            enum_ty: &self.n.signal,
            fname: quote!(apply_signal),
            param_ty: quote!(Self::Signal),
            base: "signal",
            trigger: |i| Trigger::Signal(ir::SignalId(i as u32)),
            mode: BodyMode::Fire,
        };
        self.dispatch_fn(&kind, fires)
    }

    /// The compiled match over the messages of one kind.
    fn dispatch_fn(&self, kind: &TriggerKind<'_>, fires: &[Option<FireFn>]) -> TokenStream {
        let TriggerKind { messages, enum_ty, fname, param_ty, base, trigger: trigger_of, mode } = kind;
        let trigger_of = *trigger_of;
        // Every user name bound anywhere in this function, so generated names avoid them all.
        let mut reserved: Vec<&str> = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            reserved.extend(message.fields.iter().map(|f| f.name.as_str()));
            for t in self.m.transitions.iter().filter(|t| t.trigger == trigger_of(i)) {
                reserved.extend(t.locals.iter().map(|l| l.name.as_str()));
            }
        }
        let mut namer = self.namer(reserved);
        let input = namer.fresh(base);
        let source = namer.fresh("source");
        let log = (*mode == BodyMode::Stage).then(|| namer.fresh("log"));
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
                    let t = self.transition(*c);
                    let guard_uses = UseCounts::of_exprs(t.guards.iter().map(|g| &g.expr));
                    for (index, u) in used.iter_mut().enumerate() {
                        *u |= guard_uses.payload(index as u32).count > 0;
                    }
                    if let Some(fire) = &fires[c.index()] {
                        for p in &fire.params {
                            used[*p as usize] = true;
                        }
                    }
                }
            }
            let mut payload: Vec<(u32, Binding)> = Vec::new();
            let mut field_pats = Vec::new();
            for (index, field) in message.fields.iter().enumerate() {
                if !used[index] {
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

            let arm_ctx = ArmCtx { message, source: &source, payload: &payload, fires, log: log.as_ref() };
            let body = match groups.as_slice() {
                [(_, candidates)] => self.decide(&mut arm_namer, &arm_ctx, candidates),
                _ => {
                    let group_arms = groups.iter().map(|(phases, candidates)| {
                        let pats = phases.iter().map(|p| self.phase_path(*p));
                        let decide = self.decide(&mut arm_namer, &arm_ctx, candidates);
                        quote!(#(#pats)|* => { #decide })
                    });
                    quote!(match #source { #(#group_arms)* })
                }
            };
            arms.push(quote!(#pattern => { #body }));
        }
        let allow_snake = names::allow_snake(binding_names.iter().map(String::as_str));
        // The source phase is read once, where an arm matches on it, reports it or a guard reads it.
        let arms = quote!(#(#arms)*);
        let prelude =
            if mentions(&arms, &source) { quote!(let #source = self.#phase_field;) } else { TokenStream::new() };
        let log_param = log.map(|log| {
            let pattern = if mentions(&arms, &log) { quote!(#log) } else { quote!(_) };
            quote!(, #pattern: &mut ::meerkat_kernel::UndoLog<Self>)
        });
        // The trait documents the method.
        quote! {
            #[inline]
            #allow_snake
            fn #fname(&mut self, #input: #param_ty #log_param) -> ::meerkat_kernel::Outcome<Self> {
                #prelude
                match #input {
                    #arms
                }
            }
        }
    }

    /// The code that picks and fires one of `candidates` (one phase group of one trigger).
    fn decide(&self, namer: &mut Namer, arm: &ArmCtx<'_>, candidates: &[TransitionId]) -> TokenStream {
        let source = arm.source;
        let trigger_name = &arm.message.name;
        if candidates.is_empty() {
            return quote!(::meerkat_kernel::reject::no_transition(#source, #trigger_name));
        }
        let transitions: Vec<(TransitionId, &ir::Transition)> =
            candidates.iter().map(|c| (*c, self.transition(*c))).collect();
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
                    let codes: Vec<Code> = t.guards.iter().map(|g| self.guard_holds(namer, arm, t, &g.expr)).collect();
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
                    let chain = self.first_failing_guard(namer, arm, t, |label| quote!(#label));
                    let name = &t.name;
                    quote! {
                        let #rejected = #chain else { return #fire; };
                        ::meerkat_kernel::reject::guards(#source, #trigger_name, [(#name, #rejected)])
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
                        let chain = self.first_failing_guard(namer, arm, t, |label| quote!(Some(#label)));
                        quote!(#chain else { None })
                    };
                    lets.extend(quote!(let #var: ::std::option::Option<&'static str> = #value;));
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
                        match_arms.push(quote! {
                            #p => ::meerkat_kernel::reject::ambiguous(#source, #trigger_name, #first, #second),
                        });
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
                        let entries = several.iter().zip(&labels).map(|((_, t), l)| {
                            let name = &t.name;
                            quote!((#name, #l))
                        });
                        match_arms.push(quote! {
                            (#(#pats),*) => ::meerkat_kernel::reject::guards(#source, #trigger_name, [#(#entries),*]),
                        });
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

    /// `if !g1 { v1 } else if !g2 { v2 } ...` over the guards of `t` (without the final `else`): the value `value`
    /// makes of the label of the first guard that does not hold.
    fn first_failing_guard(
        &self,
        namer: &mut Namer,
        arm: &ArmCtx<'_>,
        t: &ir::Transition,
        value: impl Fn(&str) -> TokenStream,
    ) -> TokenStream {
        let mut chain = TokenStream::new();
        for (k, g) in t.guards.iter().enumerate() {
            let fails = self.guard_fails(namer, arm, t, &g.expr);
            let cond = head(&fails);
            let label = value(&g.label);
            if k == 0 {
                chain.extend(quote!(if #cond { #label }));
            } else {
                chain.extend(quote!(else if #cond { #label }));
            }
        }
        chain
    }

    /// `self.fire_x(payload...)`, or `self.stage_x(payload..., log)`.
    fn fire_call(&self, arm: &ArmCtx<'_>, id: TransitionId) -> TokenStream {
        let fire = match arm.log {
            Some(_) => &self.n.stage_fns[id.index()],
            None => &self.n.fire_fns[id.index()],
        };
        let params: &[u32] = arm.fires[id.index()].as_ref().map_or(&[], |f| f.params.as_slice());
        let args = params.iter().map(|p| match arm.payload.iter().find(|(i, _)| i == p) {
            Some((_, b)) => {
                let ident = &b.ident;
                quote!(#ident)
            }
            None => quote!(::std::default::Default::default()),
        });
        let log = arm.log.map(|log| quote!(#log));
        let args = args.chain(log);
        quote!(self.#fire(#(#args),*))
    }

    /// A guard of candidate `t`, compiled in dispatch context: whether it holds.
    fn guard_holds(&self, namer: &mut Namer, arm: &ArmCtx<'_>, t: &ir::Transition, expr: &ir::Expr) -> Code {
        self.dispatch_expr(namer, arm, t, expr)
    }

    /// A guard of candidate `t`, compiled in dispatch context: whether it does not hold (for rejection chains).
    fn guard_fails(&self, namer: &mut Namer, arm: &ArmCtx<'_>, t: &ir::Transition, expr: &ir::Expr) -> Code {
        let not = ir::Expr { kind: ExprKind::Not(Box::new(expr.clone())), ty: ir::Type::Bool, span: expr.span };
        self.dispatch_expr(namer, arm, t, &not)
    }

    /// An expression of candidate `t` in dispatch context: the payload bindings of the arm, `source`, and an
    /// `ArithmeticOverflow` naming `t` for a failing checked operation.
    fn dispatch_expr(&self, namer: &mut Namer, arm: &ArmCtx<'_>, t: &ir::Transition, expr: &ir::Expr) -> Code {
        let uses = UseCounts::of_exprs([expr]);
        let name = &t.name;
        let fail = Fail::Diverge(quote!(return ::meerkat_kernel::reject::overflow(#name)));
        let mut cx = Cx::new(namer.clone(), &t.locals, fail, uses);
        let source = arm.source;
        cx.source = quote!(#source);
        for (index, b) in arm.payload {
            cx.payload.insert(*index, b.clone());
        }
        let code = self.expr(&mut cx, expr);
        // Names the guard bound stay taken for the rest of the function.
        *namer = cx.namer;
        code
    }
}

/// Whether `tokens` use the identifier `ident` anywhere.
pub(crate) fn mentions(tokens: &TokenStream, ident: &Ident) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(i) => i == *ident,
        proc_macro2::TokenTree::Group(group) => mentions(&group.stream(), ident),
        _ => false,
    })
}

/// What sets inputs and signals apart in dispatch.
struct TriggerKind<'a> {
    messages: &'a [Message],
    enum_ty: &'a Ident,
    /// The `Kernel` method, and the type of its parameter.
    fname: TokenStream,
    param_ty: TokenStream,
    /// The name of the function's parameter.
    base: &'static str,
    /// The trigger of the message at an index.
    trigger: fn(usize) -> Trigger,
    /// Whether the arms call `fire_*` or `stage_*` methods.
    mode: BodyMode,
}

/// What the arms of one trigger share.
struct ArmCtx<'a> {
    message: &'a Message,
    source: &'a Ident,
    payload: &'a [(u32, Binding)],
    fires: &'a [Option<FireFn>],
    /// The undo log parameter, when the arms call `stage_*` methods.
    log: Option<&'a Ident>,
}
