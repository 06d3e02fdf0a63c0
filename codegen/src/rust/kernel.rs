//! What ties a kernel to its support crate: the kernel contract's names as aliases of `::meerkat_kernel`'s
//! generic types, the inline storage of one transition's effects, and the `::meerkat_kernel::Kernel`
//! implementation on the state (associated types, name tables, the compiled dispatch, its staging twin with the
//! undo enum it logs, and the invariant check).
//!
//! Everything that does not depend on the spec — the authority, snapshots, the transition and error types and
//! their messages, the mutator trait — lives in `meerkat-kernel`, once.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::Gen;
use super::dispatch::FireFn;

impl Gen<'_> {
    /// `pub type MAuthority = ::meerkat_kernel::Authority<MState>;` and the other names of the kernel contract.
    pub(crate) fn aliases(&self) -> TokenStream {
        let n = &self.n;
        let (state, authority, snapshot, transition, error, rejections, mutator) =
            (&n.state, &n.authority, &n.snapshot, &n.transition, &n.error, &n.rejections, &n.mutator);
        let machine = &self.m.name;
        let docs = |text: String| quote!(#[doc = #text]);
        let authority_docs = docs(format!(
            " The authority over one `{machine}` state: the only way to change it is to apply an input or signal, \
             all or nothing."
        ));
        let snapshot_docs = docs(format!(" A saved state of a `{machine}` authority."));
        let transition_docs = docs(format!(
            " What a successful `{machine}` input did: the transition that fired, its source and target phases, and \
             its effects."
        ));
        let error_docs =
            docs(format!(" Why `{machine}` rejected an input or a recovered state. The state is unchanged."));
        let rejections_docs =
            docs(format!(" The candidates a `{machine}` guard rejection lists, each with its first failing guard."));
        let mutator_docs = docs(format!(" Applies inputs to a `{machine}` authority (sealed)."));
        let (staged, transaction, undo_log) = (&n.staged, &n.transaction, &n.undo_log);
        let staged_docs = docs(format!(
            " A change a `{machine}` authority applied and can still roll back, with the undo record of its writes."
        ));
        let transaction_docs =
            docs(format!(" Inputs and signals applied to a `{machine}` authority as one change that can be undone."));
        let undo_log_docs = docs(format!(" What staged `{machine}` transitions displaced, write by write."));
        let capacity = Literal::usize_unsuffixed(self.facts.max_guarded);
        quote! {
            #authority_docs
            pub type #authority = ::meerkat_kernel::Authority<#state>;
            #snapshot_docs
            pub type #snapshot = ::meerkat_kernel::AuthoritySnapshot<#state>;
            #transition_docs
            pub type #transition = ::meerkat_kernel::Transition<#state>;
            #error_docs
            pub type #error = ::meerkat_kernel::TransitionError<#state>;
            #rejections_docs
            pub type #rejections = ::meerkat_kernel::GuardRejections<#capacity>;
            #staged_docs
            pub type #staged = ::meerkat_kernel::Staged<#state>;
            #transaction_docs
            pub type #transaction<'a> = ::meerkat_kernel::Transaction<'a, #state>;
            #undo_log_docs
            pub type #undo_log = ::meerkat_kernel::UndoLog<#state>;
            #mutator_docs
            // A kernel included in a private module that never applies an input would warn.
            #[allow(unused_imports)]
            pub use ::meerkat_kernel::Mutator as #mutator;
        }
    }

    /// The type of one transition's effects: an array when every transition emits the same number, else an enum
    /// with one variant per length some transition builds (and a heap spill for pushed effects past eight).
    pub(crate) fn effects_type(&self) -> TokenStream {
        let effect = &self.n.effect;
        match self.facts.effect_storage.fixed() {
            Some(k) => {
                let k = Literal::usize_unsuffixed(k);
                quote!([#effect; #k])
            }
            None => {
                let ty = &self.n.effects;
                quote!(#ty)
            }
        }
    }

    /// The effect enum behind [`Gen::effects_type`], when it is not an array.
    pub(crate) fn effects_enum(&self) -> TokenStream {
        let storage = &self.facts.effect_storage;
        if storage.fixed().is_some() {
            return TokenStream::new();
        }
        let ty = &self.n.effects;
        let effect = &self.n.effect;
        let variant = |k: usize| format_ident!("E{}", k);
        let variants = storage.lengths.iter().map(|&k| {
            let v = variant(k);
            let k = Literal::usize_unsuffixed(k);
            quote!(#v([#effect; #k]),)
        });
        let slice_arms = storage.lengths.iter().map(|&k| {
            let v = variant(k);
            quote!(Self::#v(ref __k_effects) => __k_effects,)
        });
        let vec_arms = storage.lengths.iter().map(|&k| {
            let v = variant(k);
            quote!(Self::#v(__k_effects) => ::std::vec::Vec::from(__k_effects),)
        });
        let (spill_variant, spill_slice, spill_vec, push) = if storage.spill {
            let inline = storage.lengths.len() - 1;
            let arms = storage.lengths.iter().map(|&k| {
                let names: Vec<_> = (0..k).map(|i| format_ident!("__k_e{}", i)).collect();
                let v = variant(k);
                if k < inline {
                    let next = variant(k + 1);
                    quote!(Self::#v([#(#names),*]) => Self::#next([#(#names,)* __k_effect]),)
                } else {
                    quote!(Self::#v([#(#names),*]) => Self::Spilled(::std::vec::Vec::from([#(#names,)* __k_effect])),)
                }
            });
            let push = quote! {
                impl #ty {
                    fn new() -> Self {
                        Self::E0([])
                    }

                    /// Appends an effect, moving the ones before it into the next larger variant.
                    #[inline]
                    fn push(&mut self, __k_effect: #effect) {
                        *self = match ::std::mem::replace(self, Self::E0([])) {
                            #(#arms)*
                            Self::Spilled(mut __k_effects) => {
                                __k_effects.push(__k_effect);
                                Self::Spilled(__k_effects)
                            }
                        };
                    }
                }
            };
            (
                quote!(Spilled(::std::vec::Vec<#effect>),),
                quote!(Self::Spilled(ref __k_effects) => __k_effects,),
                quote!(Self::Spilled(__k_effects) => __k_effects,),
                push,
            )
        } else {
            (TokenStream::new(), TokenStream::new(), TokenStream::new(), TokenStream::new())
        };
        quote! {
            /// The effects of one transition, held inline (no allocation) up to the most one transition emits.
            #[doc(hidden)]
            #[derive(Clone, Debug, PartialEq, Eq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #ty {
                #(#variants)*
                #spill_variant
            }

            #push

            impl ::meerkat_kernel::EffectList for #ty {
                type Effect = #effect;

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
        }
    }

    /// `impl ::meerkat_kernel::Kernel for MState`, with the dispatchers that call the `fire_*` methods in `fires`.
    pub(crate) fn kernel_impl(&self, fires: &[Option<FireFn>]) -> TokenStream {
        let m = self.m;
        let n = &self.n;
        let (state, phase, input, signal, effect, rejections) =
            (&n.state, &n.phase, &n.input, &n.signal, &n.effect, &n.rejections);
        let phase_field = &n.phase_field;
        let dispatch_input = self.dispatch_input_fn(fires);
        let dispatch_signal = self.dispatch_signal_fn(fires);
        let stage_input = self.stage_input_fn(fires);
        let stage_signal = self.stage_signal_fn(fires);
        let undo = &n.undo;
        let undo_arms: Vec<TokenStream> = self
            .undo_variants
            .borrow()
            .iter()
            .map(|v| {
                let (name, restore) = (&v.name, &v.restore);
                let saved = format_ident!("saved");
                let binding = if super::dispatch::mentions(restore, &saved) { quote!(saved) } else { quote!(_) };
                quote!(#undo::#name(#binding) => { #restore })
            })
            .collect();
        let allow = super::items::spec_code_allows();
        let effects = self.effects_type();
        let machine = &m.name;
        let inputs = m.inputs.iter().map(|i| i.name.as_str());
        let signals = m.signals.iter().map(|s| s.name.as_str());
        let transitions = m.transitions.iter().map(|t| t.name.as_str());
        let guards = self.guard_labels();
        // Listed by variant: the phase enum has no associated items a phase name could shadow.
        let phase_list = n.phase_variants(m);
        let invariants = m.invariants.iter().map(|i| i.name.as_str());
        let checks = m.invariants.iter().enumerate().map(|(i, inv)| {
            let name = &n.invariant_fns[i];
            let label = &inv.name;
            let cond = if self.facts.invariant_fallible[i] {
                quote!(self.#name() != Some(true))
            } else {
                quote!(!self.#name())
            };
            quote! {
                if #cond {
                    return Some(#label);
                }
            }
        });
        quote! {
            #allow
            impl ::meerkat_kernel::Kernel for #state {
                type Phase = #phase;
                type Input = #input;
                type Signal = #signal;
                type Effect = #effect;
                type Effects = #effects;
                type GuardRejections = #rejections;
                type Undo = #undo;
                const MACHINE: &'static str = #machine;
                const PHASES: &'static [#phase] = &[#(#phase_list),*];
                const INPUTS: &'static [&'static str] = &[#(#inputs),*];
                const SIGNALS: &'static [&'static str] = &[#(#signals),*];
                const TRANSITIONS: &'static [&'static str] = &[#(#transitions),*];
                const GUARDS: &'static [&'static str] = &[#(#guards),*];
                const INVARIANTS: &'static [&'static str] = &[#(#invariants),*];

                fn initial() -> Self {
                    #state::initial()
                }

                fn phase(&self) -> Self::Phase {
                    self.#phase_field
                }

                #dispatch_input

                #dispatch_signal

                #stage_input

                #stage_signal

                fn undo(&mut self, step: #undo) {
                    match step {
                        #(#undo_arms)*
                    }
                }

                fn violated_invariant(&self) -> ::std::option::Option<&'static str> {
                    #(#checks)*
                    None
                }
            }
        }
    }

    /// The undo enum: one variant per kind of write a `stage_*` method logs, holding what the write displaced.
    /// Call after the `stage_*` methods are compiled (they register the variants).
    pub(crate) fn undo_enum(&self) -> TokenStream {
        let undo = &self.n.undo;
        let docs = format!(
            " What one write of a staged `{}` transition displaced: an entry of its undo log, put back by \
             `::meerkat_kernel::Kernel::undo`.",
            self.m.name
        );
        let variants = self.undo_variants.borrow();
        let variants = variants.iter().map(|v| {
            let (name, ty) = (&v.name, &v.ty);
            let doc = format!(" What a `{}` write displaced.", v.label);
            quote!(#[doc = #doc] #name(#ty),)
        });
        quote! {
            #[doc = #docs]
            #[derive(Debug)]
            #[allow(clippy::large_enum_variant)]
            pub enum #undo {
                #(#variants)*
            }
        }
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
}
