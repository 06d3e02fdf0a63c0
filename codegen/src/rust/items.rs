//! The items of a kernel: the phase enum, the declared types, the state, the message enums, the helpers, guards
//! and invariants as private methods of the state, and the public API around the compiled dispatch (authority,
//! snapshot, mutator trait, transition, errors and the two inline small vectors).

use meerkat_dsl::ir::{Message, Type, TypeKind};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::Gen;
use super::analysis::UseCounts;
use super::expr::{Binding, Cx, Fail, Form};
use super::names::{self, Namer};

/// Above this many effects per transition the effect vector spills to the heap.
pub(crate) const INLINE_EFFECTS: usize = 8;

impl Gen<'_> {
    pub(crate) fn phase_enum(&self) -> TokenStream {
        let m = self.m;
        let ty = &self.n.phase;
        let derives = self.derives(true);
        let docs = Self::docs(None, || format!("The phases of `{}`, in declaration order.", m.name));
        let variants = m.phases.iter().map(|p| {
            let name = names::ident(&p.name);
            let docs = Self::docs(p.docs.as_deref(), || format!("Phase `{}`.", p.name));
            quote!(#docs #name,)
        });
        let all = m.phases.iter().map(|p| {
            let name = names::ident(&p.name);
            quote!(#ty::#name)
        });
        let count = Literal::usize_unsuffixed(m.phases.len());
        let name_arms = m.phases.iter().map(|p| {
            let name = names::ident(&p.name);
            let text = &p.name;
            quote!(#ty::#name => #text,)
        });
        let terminal: Vec<TokenStream> = m
            .phases
            .iter()
            .filter(|p| p.terminal)
            .map(|p| {
                let name = names::ident(&p.name);
                quote!(#ty::#name)
            })
            .collect();
        let is_terminal =
            if terminal.is_empty() { quote!(false) } else { quote!(::std::matches!(self, #(#terminal)|*)) };
        let allow = names::allow_camel(m.phases.iter().map(|p| p.name.as_str()));
        quote! {
            #docs
            #derives
            #allow
            pub enum #ty {
                #(#variants)*
            }

            impl #ty {
                /// Every phase, in declaration order.
                pub const ALL: [#ty; #count] = [#(#all),*];

                /// The phase's name as declared in the spec.
                pub fn name(self) -> &'static str {
                    match self {
                        #(#name_arms)*
                    }
                }

                /// Whether no transition may leave this phase.
                pub fn is_terminal(self) -> bool {
                    #is_terminal
                }
            }

            impl ::std::fmt::Display for #ty {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.name())
                }
            }
        }
    }

    pub(crate) fn declared_types(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (index, decl) in self.m.types.iter().enumerate() {
            let name = self.type_ident(meerkat_dsl::ir::TypeId(index as u32));
            let copy = self.facts.type_copy.get(index).copied().unwrap_or(false);
            let derives = self.derives(copy);
            let docs = Self::docs(decl.docs.as_deref(), || format!("`{}`, declared by the spec.", decl.name));
            match &decl.kind {
                TypeKind::Enum { variants } => {
                    let vs = variants.iter().map(|v| {
                        let vname = names::ident(&v.name);
                        let docs = Self::docs(v.docs.as_deref(), || format!("`{}::{}`.", decl.name, v.name));
                        quote!(#docs #vname,)
                    });
                    let allow = names::allow_camel(
                        std::iter::once(decl.name.as_str()).chain(variants.iter().map(|v| v.name.as_str())),
                    );
                    out.extend(quote! {
                        #docs
                        #derives
                        #allow
                        pub enum #name { #(#vs)* }
                    });
                }
                TypeKind::Record { fields } => {
                    let fs = fields.iter().map(|f| {
                        let fname = names::ident(&f.name);
                        let ty = self.ty(&f.ty);
                        let docs = Self::docs(f.docs.as_deref(), || format!("Field `{}`.", f.name));
                        quote!(#docs pub #fname: #ty,)
                    });
                    let allow_camel = names::allow_camel([decl.name.as_str()]);
                    let allow_snake = names::allow_snake(fields.iter().map(|f| f.name.as_str()));
                    out.extend(quote! {
                        #docs
                        #derives
                        #allow_camel
                        #allow_snake
                        pub struct #name { #(#fs)* }
                    });
                }
                TypeKind::Newtype { inner } => {
                    let ty = self.ty(inner);
                    let allow = names::allow_camel([decl.name.as_str()]);
                    let from_docs = format!(" Wraps a value as a `{}`.", decl.name);
                    out.extend(quote! {
                        #docs
                        #derives
                        #allow
                        pub struct #name(pub #ty);

                        impl ::std::convert::From<#ty> for #name {
                            #[doc = #from_docs]
                            fn from(value: #ty) -> Self {
                                #name(value)
                            }
                        }
                    });
                }
            }
        }
        out
    }

    pub(crate) fn state_struct(&self) -> TokenStream {
        let m = self.m;
        let ty = &self.n.state;
        let phase_ty = &self.n.phase;
        let phase_field = &self.n.phase_field;
        let derives = self.derives(false);
        let docs = Self::docs(None, || {
            format!("The state of `{}`: the phase and every state field, in declaration order.", m.name)
        });
        let fields = m.fields.iter().enumerate().map(|(i, f)| {
            let name = self.field_ident(i);
            let t = self.ty(&f.ty);
            let docs = Self::docs(f.docs.as_deref(), || format!("State field `{}`.", f.name));
            quote!(#docs pub #name: #t,)
        });
        let phase_docs = format!(" The current phase (`{}`).", m.phase_field);
        let initial_phase = self.phase_path(m.initial_phase);
        let mut cx = Cx::new(Namer::new([]), &[], Fail::Default, UseCounts::default());
        let inits = m.fields.iter().enumerate().map(|(i, f)| {
            let name = self.field_ident(i);
            let value = self.owned_expr(&mut cx, &f.init).ts;
            quote!(#name: #value,)
        });
        let allow_snake =
            names::allow_snake(std::iter::once(m.phase_field.as_str()).chain(m.fields.iter().map(|f| f.name.as_str())));
        quote! {
            #docs
            #derives
            #allow_snake
            pub struct #ty {
                #[doc = #phase_docs]
                pub #phase_field: #phase_ty,
                #(#fields)*
            }

            impl #ty {
                /// The initial state: the initial phase and every field's initial value.
                pub fn initial() -> Self {
                    #ty {
                        #phase_field: #initial_phase,
                        #(#inits)*
                    }
                }
            }

            impl ::std::default::Default for #ty {
                fn default() -> Self {
                    Self::initial()
                }
            }
        }
    }

    pub(crate) fn message_enums(&self) -> TokenStream {
        let m = self.m;
        let input = self.message_enum(&m.inputs, &self.n.input, "input", true);
        let signal = self.message_enum(&m.signals, &self.n.signal, "signal", false);
        let effect = self.message_enum(&m.effects, &self.n.effect, "effect", false);
        quote!(#input #signal #effect)
    }

    fn message_enum(&self, messages: &[Message], ty: &proc_macro2::Ident, kind: &str, inputs: bool) -> TokenStream {
        let derives = self.derives(false);
        let machine = &self.m.name;
        let docs = Self::docs(None, || format!("The {kind}s of `{machine}`."));
        let variants = messages.iter().map(|msg| {
            let name = names::ident(&msg.name);
            let docs = Self::docs(msg.docs.as_deref(), || format!("{} `{}`.", capitalised(kind), msg.name));
            if msg.fields.is_empty() {
                quote!(#docs #name,)
            } else {
                let fields = msg.fields.iter().map(|f| {
                    let fname = names::ident(&f.name);
                    let t = self.ty(&f.ty);
                    let docs = Self::docs(f.docs.as_deref(), || format!("Payload field `{}`.", f.name));
                    quote!(#docs #fname: #t,)
                });
                quote!(#docs #name { #(#fields)* },)
            }
        });
        let pattern = |msg: &Message| {
            let name = names::ident(&msg.name);
            if msg.fields.is_empty() { quote!(#ty::#name) } else { quote!(#ty::#name { .. }) }
        };
        let name_body = if messages.is_empty() {
            quote!(match *self {})
        } else {
            let arms = messages.iter().map(|msg| {
                let p = pattern(msg);
                let text = &msg.name;
                quote!(#p => #text,)
            });
            quote!(match self { #(#arms)* })
        };
        let flag = |pick: fn(&Message) -> bool| {
            let pats: Vec<TokenStream> = messages.iter().filter(|m| pick(m)).map(pattern).collect();
            if messages.is_empty() {
                quote!(match *self {})
            } else if pats.is_empty() {
                quote!(false)
            } else {
                quote!(::std::matches!(self, #(#pats)|*))
            }
        };
        let input_methods = if inputs {
            let internal = flag(|m| m.internal);
            let pure_ = flag(|m| m.pure_);
            quote! {
                /// Whether only the runtime may apply this input (declared `internal`); handles refuse it.
                pub fn is_runtime_internal(&self) -> bool {
                    #internal
                }

                /// Whether this input's transitions never change the state (declared `pure`).
                pub fn is_pure(&self) -> bool {
                    #pure_
                }
            }
        } else {
            TokenStream::new()
        };
        let name_docs = format!(" The {kind}'s name as declared in the spec.");
        let allow_camel = names::allow_camel(messages.iter().map(|m| m.name.as_str()));
        let allow_snake = names::allow_snake(messages.iter().flat_map(|m| m.fields.iter().map(|f| f.name.as_str())));
        quote! {
            #docs
            #derives
            #allow_camel
            #allow_snake
            pub enum #ty {
                #(#variants)*
            }

            impl #ty {
                #[doc = #name_docs]
                pub fn name(&self) -> &'static str {
                    #name_body
                }

                #input_methods
            }
        }
    }

    /// The public API: effects vector, guard rejections, transition, error, authority, snapshot, mutator.
    pub(crate) fn api(&self) -> TokenStream {
        let effects = self.effects_vec();
        let rejections = self.rejections_vec();
        let n = &self.n;
        let (
            phase,
            state,
            input,
            signal,
            effect,
            effects_ty,
            authority,
            snapshot,
            mutator,
            transition,
            error,
            rejections_ty,
            sealed,
        ) = (
            &n.phase,
            &n.state,
            &n.input,
            &n.signal,
            &n.effect,
            &n.effects,
            &n.authority,
            &n.snapshot,
            &n.mutator,
            &n.transition,
            &n.error,
            &n.rejections,
            &n.sealed,
        );
        let machine = &self.m.name;
        let dispatch_input = &n.dispatch_input;
        let dispatch_signal = &n.dispatch_signal;
        let recover = if self.m.invariants.is_empty() {
            quote!(::std::result::Result::Ok(Self::with_state(state)))
        } else {
            let check = &n.violated_invariant;
            quote! {
                match state.#check() {
                    Some(invariant) => {
                        ::std::result::Result::Err(#error::RecoveredStateInvariantRejected { invariant })
                    }
                    None => ::std::result::Result::Ok(Self::with_state(state)),
                }
            }
        };
        let error_docs = format!(" Why `{machine}` rejected an input or a recovered state. The state is unchanged.");
        let authority_docs = format!(
            " The authority over one `{machine}` state: the only way to change it is to apply an input or signal, \
             all or nothing."
        );
        let mutator_docs =
            format!(" Applies inputs to a `{machine}` authority. Sealed: implemented by `{authority}` only.");
        quote! {
            #effects
            #rejections

            /// What a successful input did: the transition that fired, the phases it went from and to, and the
            /// effects it emitted, in order.
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub struct #transition {
                transition: &'static str,
                source: #phase,
                target: #phase,
                effects: #effects_ty,
            }

            impl #transition {
                /// The name of the transition that fired.
                pub fn transition_name(&self) -> &'static str {
                    self.transition
                }

                /// The phase it fired from.
                pub fn source(&self) -> #phase {
                    self.source
                }

                /// The phase it led to (the source phase for `stay`).
                pub fn target(&self) -> #phase {
                    self.target
                }

                /// The effects it emitted, in order.
                pub fn effects(&self) -> &[#effect] {
                    self.effects.as_slice()
                }

                /// The effects it emitted, in order, as a `Vec`.
                pub fn into_effects(self) -> ::std::vec::Vec<#effect> {
                    self.effects.into_vec()
                }
            }

            #[doc = #error_docs]
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub enum #error {
                /// No transition on this trigger leaves the current phase.
                NoMatchingTransition {
                    /// The current phase.
                    phase: #phase,
                    /// The input or signal.
                    trigger: &'static str,
                },
                /// Every candidate has a guard that does not hold, and there is no `otherwise` candidate.
                GuardRejected {
                    /// The current phase.
                    phase: #phase,
                    /// The input or signal.
                    trigger: &'static str,
                    /// Every candidate, in declaration order, with the label of its first guard that does not hold.
                    rejections: #rejections_ty,
                },
                /// The guards of two candidates both hold.
                AmbiguousTransition {
                    /// The current phase.
                    phase: #phase,
                    /// The input or signal.
                    trigger: &'static str,
                    /// The first candidate whose guards hold, in declaration order.
                    first: &'static str,
                    /// The second one.
                    second: &'static str,
                },
                /// A guard or the body overflowed a `u64` or divided by zero.
                ArithmeticOverflow {
                    /// The candidate whose guard, or the transition whose body, failed.
                    transition: &'static str,
                },
                /// The state after the transition would break an invariant.
                InvariantViolated {
                    /// The transition that fired.
                    transition: &'static str,
                    /// The first invariant, in declaration order, that does not hold.
                    invariant: &'static str,
                },
                /// A state given to `recover_from_state` breaks an invariant.
                RecoveredStateInvariantRejected {
                    /// The first invariant, in declaration order, that does not hold.
                    invariant: &'static str,
                },
            }

            impl ::std::fmt::Display for #error {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    match self {
                        Self::NoMatchingTransition { phase, trigger } => {
                            ::std::write!(f, "no transition for `{trigger}` in phase `{phase}`")
                        }
                        Self::GuardRejected { phase, trigger, rejections } => {
                            ::std::write!(f, "every candidate for `{trigger}` in phase `{phase}` was rejected by a guard")?;
                            for (index, (transition, label)) in rejections.iter().enumerate() {
                                let separator = if index == 0 { ": " } else { ", " };
                                ::std::write!(f, "{separator}`{transition}` (`{label}` does not hold)")?;
                            }
                            ::std::result::Result::Ok(())
                        }
                        Self::AmbiguousTransition { phase, trigger, first, second } => ::std::write!(
                            f,
                            "transitions `{first}` and `{second}` both accept `{trigger}` in phase `{phase}`"
                        ),
                        Self::ArithmeticOverflow { transition } => {
                            ::std::write!(f, "arithmetic overflow or division by zero in transition `{transition}`")
                        }
                        Self::InvariantViolated { transition, invariant } => {
                            ::std::write!(f, "transition `{transition}` would break invariant `{invariant}`")
                        }
                        Self::RecoveredStateInvariantRejected { invariant } => {
                            ::std::write!(f, "the recovered state breaks invariant `{invariant}`")
                        }
                    }
                }
            }

            impl ::std::error::Error for #error {}

            #[doc = #authority_docs]
            #[derive(Clone)]
            pub struct #authority {
                state: #state,
                owner: ::std::sync::Arc<dyn ::std::any::Any + ::std::marker::Send + ::std::marker::Sync>,
            }

            impl #authority {
                /// An authority at the initial state.
                pub fn new() -> Self {
                    Self::with_state(#state::initial())
                }

                fn with_state(state: #state) -> Self {
                    Self { state, owner: ::std::sync::Arc::new(()) }
                }

                /// An authority over a stored state, after checking every invariant in declaration order.
                ///
                /// # Errors
                ///
                /// `RecoveredStateInvariantRejected` naming the first invariant the state breaks.
                pub fn recover_from_state(state: #state) -> ::std::result::Result<Self, #error> {
                    #recover
                }

                /// The current state.
                pub fn state(&self) -> &#state {
                    &self.state
                }

                /// The current state, consuming the authority.
                pub fn into_state(self) -> #state {
                    self.state
                }

                /// A copy of the current state, to roll back to with `restore_snapshot`.
                pub fn snapshot(&self) -> #snapshot {
                    #snapshot { state: self.state.clone() }
                }

                /// Rolls back to a snapshot taken from an authority (not re-validated).
                pub fn restore_snapshot(&mut self, snapshot: #snapshot) {
                    self.state = snapshot.state;
                }

                /// Applies a signal, all or nothing.
                ///
                /// # Errors
                ///
                /// Why the signal was rejected; the state is then unchanged.
                pub fn apply_signal(&mut self, signal: #signal) -> ::std::result::Result<#transition, #error> {
                    self.state.#dispatch_signal(signal)
                }

                /// The identity of this authority: clones share it, `fork` mints a new one.
                pub fn generated_authority_owner_token(
                    &self,
                ) -> ::std::sync::Arc<dyn ::std::any::Any + ::std::marker::Send + ::std::marker::Sync> {
                    ::std::sync::Arc::clone(&self.owner)
                }

                /// A copy of this authority with its own identity.
                pub fn fork(&self) -> Self {
                    Self::with_state(self.state.clone())
                }
            }

            impl ::std::default::Default for #authority {
                fn default() -> Self {
                    Self::new()
                }
            }

            impl ::std::fmt::Debug for #authority {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(::std::stringify!(#authority)).field("state", &self.state).finish_non_exhaustive()
                }
            }

            /// A saved state of an authority.
            #[derive(Clone, Debug, PartialEq)]
            pub struct #snapshot {
                state: #state,
            }

            impl #snapshot {
                /// The saved state.
                pub fn state(&self) -> &#state {
                    &self.state
                }
            }

            mod #sealed {
                pub trait Sealed {}
            }

            impl #sealed::Sealed for #authority {}

            #[doc = #mutator_docs]
            pub trait #mutator: #sealed::Sealed {
                /// Applies an input, all or nothing.
                ///
                /// # Errors
                ///
                /// Why the input was rejected; the state is then unchanged.
                fn apply(&mut self, input: #input) -> ::std::result::Result<#transition, #error>;
            }

            impl #mutator for #authority {
                #[inline]
                fn apply(&mut self, input: #input) -> ::std::result::Result<#transition, #error> {
                    self.state.#dispatch_input(input)
                }
            }
        }
    }

    /// The inline effect vector: one variant per length up to the most effects a transition emits, then a
    /// heap-allocated spill (only past eight).
    fn effects_vec(&self) -> TokenStream {
        let ty = &self.n.effects;
        let effect = &self.n.effect;
        // Only the variants some transition builds exist (rustc warns about the others): every length up to the
        // largest when some transition pushes, else the lengths transitions build whole.
        let plans: Vec<super::body::EffectPlan> = self.m.transitions.iter().map(super::body::effect_plan).collect();
        let spill = plans.contains(&super::body::EffectPlan::Push);
        let inline = self.facts.max_emits.min(INLINE_EFFECTS);
        let lengths: Vec<usize> = if spill {
            (0..=inline).collect()
        } else {
            let mut lengths: Vec<usize> = plans
                .iter()
                .filter_map(|p| match p {
                    super::body::EffectPlan::Static(n) => Some(*n),
                    super::body::EffectPlan::Push => None,
                })
                .collect();
            lengths.sort_unstable();
            lengths.dedup();
            lengths
        };
        let variant = |k: usize| format_ident!("E{}", k);
        let variants = lengths.iter().map(|&k| {
            let v = variant(k);
            let k = Literal::usize_unsuffixed(k);
            quote!(#v([#effect; #k]),)
        });
        let spill_variant = if spill { quote!(Spilled(::std::vec::Vec<#effect>),) } else { TokenStream::new() };
        let slice_arms = lengths.iter().map(|&k| {
            let v = variant(k);
            quote!(Self::#v(ref effects) => effects,)
        });
        let vec_arms = lengths.iter().map(|&k| {
            let v = variant(k);
            quote!(Self::#v(effects) => ::std::vec::Vec::from(effects),)
        });
        let spill_slice = if spill { quote!(Self::Spilled(ref effects) => effects,) } else { TokenStream::new() };
        let spill_vec = if spill { quote!(Self::Spilled(effects) => effects,) } else { TokenStream::new() };
        let push = if spill {
            let arms = (0..=inline).map(|k| {
                let names: Vec<_> = (0..k).map(|i| format_ident!("e{}", i)).collect();
                let v = variant(k);
                if k < inline {
                    let next = variant(k + 1);
                    quote!(Self::#v([#(#names),*]) => Self::#next([#(#names,)* effect]),)
                } else {
                    quote!(Self::#v([#(#names),*]) => Self::Spilled(::std::vec::Vec::from([#(#names,)* effect])),)
                }
            });
            quote! {
                fn new() -> Self {
                    Self::E0([])
                }

                /// Appends an effect, moving the ones before it into the next larger variant.
                #[inline]
                fn push(&mut self, effect: #effect) {
                    *self = match ::std::mem::replace(self, Self::E0([])) {
                        #(#arms)*
                        Self::Spilled(mut effects) => {
                            effects.push(effect);
                            Self::Spilled(effects)
                        }
                    };
                }
            }
        } else {
            TokenStream::new()
        };
        quote! {
            /// The effects of one transition, held inline (no allocation) up to the most one transition emits.
            #[derive(Clone)]
            #[allow(clippy::large_enum_variant)]
            enum #ty {
                #(#variants)*
                #spill_variant
            }

            impl #ty {
                #push

                fn as_slice(&self) -> &[#effect] {
                    match *self {
                        #(#slice_arms)*
                        #spill_slice
                    }
                }

                fn into_vec(self) -> ::std::vec::Vec<#effect> {
                    match self {
                        #(#vec_arms)*
                        #spill_vec
                    }
                }
            }

            impl ::std::fmt::Debug for #ty {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_list().entries(self.as_slice()).finish()
                }
            }

            impl ::std::cmp::PartialEq for #ty {
                fn eq(&self, other: &Self) -> bool {
                    self.as_slice() == other.as_slice()
                }
            }

            impl ::std::cmp::Eq for #ty {}
        }
    }

    /// The inline list of guard rejections: one slot per guarded candidate of the busiest (phase, trigger) pair,
    /// each a (transition, label) pair of indices into static name tables, so the error stays small.
    fn rejections_vec(&self) -> TokenStream {
        let ty = &self.n.rejections;
        let k = Literal::usize_unsuffixed(self.facts.max_guarded);
        let index = self.rejection_index_type();
        // `usize::from` exists for `u16` only.
        let widen = |x: TokenStream| {
            if index.to_string() == "u16" {
                quote!(usize::from(#x))
            } else {
                quote!(usize::try_from(#x).unwrap_or(usize::MAX))
            }
        };
        let transition_index = widen(quote!(transition));
        let label_index = widen(quote!(label));
        let transitions = self.m.transitions.iter().map(|t| t.name.as_str());
        let transition_count = Literal::usize_unsuffixed(self.m.transitions.len());
        let labels = self.guard_labels();
        let label_count = Literal::usize_unsuffixed(labels.len());
        quote! {
            /// The candidates of a `GuardRejected` input, each with the label of its first guard that does not
            /// hold, held inline (no allocation).
            #[derive(Clone, Copy)]
            pub struct #ty {
                len: usize,
                items: [(#index, #index); #k],
            }

            impl #ty {
                const TRANSITIONS: [&'static str; #transition_count] = [#(#transitions),*];
                const LABELS: [&'static str; #label_count] = [#(#labels),*];

                /// Iterates over the (transition, guard label) pairs, in declaration order of the transitions.
                pub fn iter(&self) -> impl ::std::iter::Iterator<Item = (&'static str, &'static str)> + '_ {
                    self.items.iter().take(self.len).map(|&(transition, label)| {
                        (
                            Self::TRANSITIONS.get(#transition_index).copied().unwrap_or_default(),
                            Self::LABELS.get(#label_index).copied().unwrap_or_default(),
                        )
                    })
                }

                /// How many candidates were rejected.
                pub fn len(&self) -> usize {
                    self.iter().count()
                }

                /// Whether there are none (never, for a real rejection).
                pub fn is_empty(&self) -> bool {
                    self.len() == 0
                }
            }

            impl ::std::fmt::Debug for #ty {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_list().entries(self.iter()).finish()
                }
            }

            impl ::std::cmp::PartialEq for #ty {
                fn eq(&self, other: &Self) -> bool {
                    self.iter().eq(other.iter())
                }
            }

            impl ::std::cmp::Eq for #ty {}
        }
    }

    /// `u16`, or `u32` for a machine with more transitions or guard labels than that holds.
    pub(crate) fn rejection_index_type(&self) -> TokenStream {
        let most = self.m.transitions.len().max(self.guard_labels().len());
        if most <= usize::from(u16::MAX) { quote!(u16) } else { quote!(u32) }
    }

    /// Every distinct guard label, in order of first appearance.
    pub(crate) fn guard_labels(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = Vec::new();
        for g in self.m.transitions.iter().flat_map(|t| &t.guards) {
            if !labels.contains(&g.label.as_str()) {
                labels.push(&g.label);
            }
        }
        labels
    }

    /// The private methods of the state: helpers, guards, invariants, `fire_*` and the dispatchers.
    pub(crate) fn state_methods(&self) -> TokenStream {
        let state = &self.n.state;
        let mut methods = TokenStream::new();
        for (i, h) in self.m.helpers.iter().enumerate() {
            if !self.facts.helper_used.get(i).copied().unwrap_or(false) {
                continue;
            }
            let fallible = self.facts.helper_fallible.get(i).copied().unwrap_or(false);
            let uses = UseCounts::of_exprs([&h.body]);
            let mut reserved: Vec<&str> = h.params.iter().map(|(n, _)| n.as_str()).collect();
            reserved.extend(h.locals.iter().map(|l| l.name.as_str()));
            let mut cx = Cx::new(Namer::new(reserved), &h.locals, Fail::Question, UseCounts::default());
            let mut params = Vec::new();
            let mut ptr_arg = false;
            let mut binding_names = Vec::new();
            for (index, (name, ty)) in h.params.iter().enumerate() {
                let index = index as u32;
                let t = self.ty(ty);
                if uses.param(index).count == 0 {
                    if self.is_copy(ty) {
                        params.push(quote!(_: #t));
                    } else {
                        ptr_arg |= matches!(ty, Type::String | Type::Seq(_));
                        params.push(quote!(_: &#t));
                    }
                    continue;
                }
                let ident = cx.namer.user(name);
                binding_names.push(ident.to_string());
                if self.is_copy(ty) {
                    params.push(quote!(#ident: #t));
                    cx.params.insert(index, Binding { ident, form: Form::Owned, movable: false });
                } else {
                    ptr_arg |= matches!(ty, Type::String | Type::Seq(_));
                    params.push(quote!(#ident: &#t));
                    cx.params.insert(index, Binding { ident, form: Form::Ref, movable: false });
                }
            }
            cx.uses = uses;
            let ret = self.ty(&h.ret);
            let body = self.owned_expr(&mut cx, &h.body);
            let name = self.n.helper_fns.get(i).cloned().unwrap_or_else(|| names::plain("helper"));
            let docs = Self::docs(h.docs.as_deref(), || format!("Helper `{}`.", h.name));
            let allow_ptr = if ptr_arg { quote!(#[allow(clippy::ptr_arg)]) } else { TokenStream::new() };
            let allow_snake = names::allow_snake(binding_names.iter().map(String::as_str));
            let (ret, body) = fallible_body(fallible, ret, body);
            methods.extend(quote! {
                #docs
                #allow_ptr
                #allow_snake
                fn #name(&self, #(#params),*) -> #ret {
                    #body
                }
            });
        }
        for (i, g) in self.m.guards.iter().enumerate() {
            if !self.facts.guard_used.get(i).copied().unwrap_or(false) {
                continue;
            }
            let fallible = self.facts.guard_fallible.get(i).copied().unwrap_or(false);
            let uses = UseCounts::of_exprs([&g.expr]);
            let mut cx = Cx::new(Namer::new(g.locals.iter().map(|l| l.name.as_str())), &g.locals, Fail::Question, uses);
            let body = self.owned_expr(&mut cx, &g.expr);
            let name = self.n.guard_fns.get(i).cloned().unwrap_or_else(|| names::plain("guard"));
            let docs = Self::docs(g.docs.as_deref(), || format!("Guard `{}`.", g.name));
            let (ret, body) = fallible_body(fallible, quote!(bool), body);
            methods.extend(quote! {
                #docs
                fn #name(&self) -> #ret {
                    #body
                }
            });
        }
        let mut checks = TokenStream::new();
        for (i, inv) in self.m.invariants.iter().enumerate() {
            let fallible = self.facts.invariant_fallible.get(i).copied().unwrap_or(false);
            let uses = UseCounts::of_exprs([&inv.expr]);
            let mut cx =
                Cx::new(Namer::new(inv.locals.iter().map(|l| l.name.as_str())), &inv.locals, Fail::Question, uses);
            let body = self.owned_expr(&mut cx, &inv.expr);
            let name = self.n.invariant_fns.get(i).cloned().unwrap_or_else(|| names::plain("invariant"));
            let docs = Self::docs(inv.docs.as_deref(), || format!("Invariant `{}`.", inv.name));
            let (ret, body) = fallible_body(fallible, quote!(bool), body);
            methods.extend(quote! {
                #docs
                fn #name(&self) -> #ret {
                    #body
                }
            });
            let label = &inv.name;
            let cond = if fallible { quote!(self.#name() != Some(true)) } else { quote!(!self.#name()) };
            checks.extend(quote! {
                if #cond {
                    return Some(#label);
                }
            });
        }
        if !self.m.invariants.is_empty() {
            let check = &self.n.violated_invariant;
            methods.extend(quote! {
                /// The first invariant, in declaration order, that does not hold (one that fails to evaluate does
                /// not hold).
                fn #check(&self) -> ::std::option::Option<&'static str> {
                    #checks
                    None
                }
            });
        }
        let fires = self.fire_fns();
        for fire in fires.iter().flatten() {
            methods.extend(fire.method.clone());
        }
        methods.extend(self.dispatch_fn(false, &fires));
        methods.extend(self.dispatch_fn(true, &fires));
        // Guards, invariants and helpers are the spec's own expressions, written as the spec wrote them; these
        // style lints would only restate the spec author's choices (`x == x`, `!(a && b)`, `xs.any(|x| x == c)`).
        quote! {
            #[allow(
                clippy::nonminimal_bool,
                clippy::overly_complex_bool_expr,
                clippy::eq_op,
                clippy::manual_contains,
                clippy::const_is_empty,
                clippy::if_same_then_else,
                clippy::match_like_matches_macro,
                clippy::manual_map
            )]
            impl #state {
                #methods
            }
        }
    }
}

/// The return type and body of a helper, guard or invariant: `Option<T>` when it can fail.
fn fallible_body(fallible: bool, ret: TokenStream, body: super::expr::Code) -> (TokenStream, TokenStream) {
    if !fallible {
        return (ret, body.ts);
    }
    let ret = quote!(::std::option::Option<#ret>);
    // `Some(x?)` is just `x`.
    let body = match body.question {
        Some(inner) => inner,
        None => {
            let ts = body.ts;
            quote!(Some(#ts))
        }
    };
    (ret, body)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
