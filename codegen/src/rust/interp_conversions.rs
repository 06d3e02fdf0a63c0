//! Conversions between a kernel's values and the reference interpreter's (`meerkat_dsl::interp`), emitted only
//! with [`super::RustOptions::interp_conversions`], for differential tests: the state, messages and effects both
//! ways where tests need them, so a test can drive a kernel and the interpreter with the same values and compare
//! everything with `==`. Transitions and errors need no generated code: they name things by the kernel's name
//! tables (`::meerkat_kernel::Kernel::TRANSITIONS` and the others), whose positions are the interpreter's ids.

use meerkat_dsl::ir::{Message, Type, TypeKind};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::Gen;
use super::names;

impl Gen<'_> {
    pub(crate) fn interp_conversions(&self) -> TokenStream {
        let m = self.m;
        let n = &self.n;
        let (phase, state, input, signal, effect) = (&n.phase, &n.state, &n.input, &n.signal, &n.effect);
        let mut out = TokenStream::new();

        // Declared types.
        for (index, decl) in m.types.iter().enumerate() {
            let name = self.type_ident(meerkat_dsl::ir::TypeId(index as u32));
            let id = Literal::u32_unsuffixed(index as u32);
            let (to, from) = match &decl.kind {
                TypeKind::Enum { variants } => {
                    let all = variants.iter().map(|v| {
                        let v = names::ident(&v.name);
                        quote!(#name::#v)
                    });
                    (
                        quote!(::meerkat_dsl::interp::Value::Enum(::meerkat_dsl::ir::TypeId(#id), *self as u32)),
                        quote! {
                            match __k_value {
                                ::meerkat_dsl::interp::Value::Enum(__k_ty, __k_variant) if __k_ty.0 == #id => {
                                    [#(#all),*].get(usize::try_from(*__k_variant).ok()?).copied()
                                }
                                _ => None,
                            }
                        },
                    )
                }
                TypeKind::Record { fields } => {
                    let to_fields = fields.iter().map(|f| {
                        let fname = names::ident(&f.name);
                        to_value(&quote!(self.#fname), false, &f.ty, 0)
                    });
                    let binds: Vec<_> = (0..fields.len()).map(|i| format_ident!("__k_field_{}", i)).collect();
                    let from_fields = fields.iter().zip(&binds).map(|(f, b)| {
                        let fname = names::ident(&f.name);
                        let v = from_value(self, &quote!(#b), &f.ty, 0);
                        quote!(#fname: #v)
                    });
                    (
                        quote! {
                            ::meerkat_dsl::interp::Value::Record(
                                ::meerkat_dsl::ir::TypeId(#id),
                                ::std::vec::Vec::from([#(#to_fields),*]),
                            )
                        },
                        quote! {
                            match __k_value {
                                ::meerkat_dsl::interp::Value::Record(__k_ty, __k_values) if __k_ty.0 == #id => {
                                    let [#(#binds),*] = __k_values.as_slice() else { return None };
                                    Some(#name { #(#from_fields),* })
                                }
                                _ => None,
                            }
                        },
                    )
                }
                TypeKind::Newtype { inner } => {
                    let to_inner = to_value(&quote!(self.0), false, inner, 0);
                    let from_inner = from_value(self, &quote!(__k_inner.as_ref()), inner, 0);
                    (
                        quote! {
                            ::meerkat_dsl::interp::Value::Newtype(
                                ::meerkat_dsl::ir::TypeId(#id),
                                ::std::boxed::Box::new(#to_inner),
                            )
                        },
                        quote! {
                            match __k_value {
                                ::meerkat_dsl::interp::Value::Newtype(__k_ty, __k_inner) if __k_ty.0 == #id => {
                                    Some(#name(#from_inner))
                                }
                                _ => None,
                            }
                        },
                    )
                }
            };
            out.extend(quote! {
                impl #name {
                    /// The interpreter's value of this value.
                    pub fn to_interp(&self) -> ::meerkat_dsl::interp::Value {
                        #to
                    }
                }

                impl ::meerkat_dsl::interp::FromInterp for #name {
                    type Source = ::meerkat_dsl::interp::Value;

                    /// This type's value of an interpreter value, if it is one.
                    fn from_interp(__k_value: &::meerkat_dsl::interp::Value) -> ::std::option::Option<Self> {
                        #from
                    }
                }
            });
        }

        // The phase.
        out.extend(quote! {
            impl #phase {
                /// The interpreter's id of this phase.
                pub fn to_interp(self) -> ::meerkat_dsl::ir::PhaseId {
                    ::meerkat_dsl::ir::PhaseId(self as u32)
                }
            }

            impl ::meerkat_dsl::interp::FromInterp for #phase {
                type Source = ::meerkat_dsl::ir::PhaseId;

                /// The phase of an interpreter id, if there is one.
                fn from_interp(__k_id: &::meerkat_dsl::ir::PhaseId) -> ::std::option::Option<Self> {
                    <#state as ::meerkat_kernel::Kernel>::PHASES.get(__k_id.index()).copied()
                }
            }
        });

        // The state.
        let phase_field = &n.phase_field;
        let to_fields = m.fields.iter().enumerate().map(|(i, f)| {
            let fname = self.field_ident(i);
            to_value(&quote!(self.#fname), false, &f.ty, 0)
        });
        let binds: Vec<_> = (0..m.fields.len()).map(|i| format_ident!("__k_field_{}", i)).collect();
        let from_fields = m.fields.iter().enumerate().zip(&binds).map(|((i, f), b)| {
            let fname = self.field_ident(i);
            let v = from_value(self, &quote!(#b), &f.ty, 0);
            quote!(#fname: #v)
        });
        out.extend(quote! {
            impl #state {
                /// The interpreter's state of this state.
                pub fn to_interp(&self) -> ::meerkat_dsl::interp::State {
                    ::meerkat_dsl::interp::State {
                        phase: self.#phase_field.to_interp(),
                        fields: ::std::vec::Vec::from([#(#to_fields),*]),
                    }
                }
            }

            impl ::meerkat_dsl::interp::FromInterp for #state {
                type Source = ::meerkat_dsl::interp::State;

                /// The state of an interpreter state, if it fits this machine.
                fn from_interp(__k_state: &::meerkat_dsl::interp::State) -> ::std::option::Option<Self> {
                    let [#(#binds),*] = __k_state.fields.as_slice() else { return None };
                    Some(#state {
                        #phase_field: <#phase as ::meerkat_dsl::interp::FromInterp>::from_interp(&__k_state.phase)?,
                        #(#from_fields),*
                    })
                }
            }
        });

        // Inputs and signals from interpreter messages; effects to emitted values.
        out.extend(self.message_from_interp(&m.inputs, input, quote!(Input), quote!(InputId)));
        out.extend(self.message_from_interp(&m.signals, signal, quote!(Signal), quote!(SignalId)));
        out.extend(message_to_interp(&m.inputs, input, quote!(Input), quote!(InputId)));
        out.extend(message_to_interp(&m.signals, signal, quote!(Signal), quote!(SignalId)));
        let effect_arms = m.effects.iter().enumerate().map(|(i, e)| {
            let name = names::ident(&e.name);
            let id = Literal::u32_unsuffixed(i as u32);
            let fnames: Vec<_> = e.fields.iter().map(|f| names::ident(&f.name)).collect();
            // Bound to generated names: a field may be named like a newtype, which a binding cannot shadow.
            let binds: Vec<_> = (0..e.fields.len()).map(|k| format_ident!("__k_field_{}", k)).collect();
            let values = e.fields.iter().zip(&binds).map(|(f, b)| to_value(&quote!(#b), true, &f.ty, 0));
            let pattern = if e.fields.is_empty() {
                quote!(#effect::#name)
            } else {
                quote!(#effect::#name { #(#fnames: #binds),* })
            };
            quote!(#pattern => ::meerkat_dsl::interp::Emitted {
                effect: ::meerkat_dsl::ir::EffectId(#id),
                fields: ::std::vec::Vec::from([#(#values),*]),
            },)
        });
        let effect_body =
            if m.effects.is_empty() { quote!(match *self {}) } else { quote!(match self { #(#effect_arms)* }) };
        out.extend(quote! {
            impl #effect {
                /// The interpreter's emitted value of this effect.
                pub fn to_interp(&self) -> ::meerkat_dsl::interp::Emitted {
                    #effect_body
                }
            }
        });

        out
    }

    /// `FromInterp for MInput` / `FromInterp for MSignal`.
    fn message_from_interp(
        &self,
        messages: &[Message],
        ty: &proc_macro2::Ident,
        kind: TokenStream,
        id_ty: TokenStream,
    ) -> TokenStream {
        let arms = messages.iter().enumerate().map(|(i, msg)| {
            let name = names::ident(&msg.name);
            let id = Literal::u32_unsuffixed(i as u32);
            let binds: Vec<_> = (0..msg.fields.len()).map(|k| format_ident!("__k_field_{}", k)).collect();
            let fields = msg.fields.iter().zip(&binds).map(|(f, b)| {
                let fname = names::ident(&f.name);
                let v = from_value(self, &quote!(#b), &f.ty, 0);
                quote!(#fname: #v)
            });
            let value = if msg.fields.is_empty() { quote!(#ty::#name) } else { quote!(#ty::#name { #(#fields),* }) };
            quote!(#id => {
                let [#(#binds),*] = __k_message.fields.as_slice() else { return None };
                Some(#value)
            })
        });
        let body = if messages.is_empty() {
            quote! {
                let _ = __k_message;
                None
            }
        } else {
            quote! {
                let ::meerkat_dsl::ir::Trigger::#kind(::meerkat_dsl::ir::#id_ty(__k_id)) = __k_message.trigger else {
                    return None;
                };
                match __k_id {
                    #(#arms)*
                    _ => None,
                }
            }
        };
        quote! {
            impl ::meerkat_dsl::interp::FromInterp for #ty {
                type Source = ::meerkat_dsl::interp::Message;

                /// This machine's message for an interpreter message, if it is one of this kind.
                fn from_interp(__k_message: &::meerkat_dsl::interp::Message) -> ::std::option::Option<Self> {
                    #body
                }
            }
        }
    }
}

/// `MInput::to_interp` / `MSignal::to_interp`: the interpreter's message of a kernel message (a conformance
/// harness reads what a runtime applied to its kernel as the spec's messages).
fn message_to_interp(
    messages: &[Message],
    ty: &proc_macro2::Ident,
    kind: TokenStream,
    id_ty: TokenStream,
) -> TokenStream {
    let arms = messages.iter().enumerate().map(|(i, msg)| {
        let name = names::ident(&msg.name);
        let id = Literal::u32_unsuffixed(i as u32);
        let fnames: Vec<_> = msg.fields.iter().map(|f| names::ident(&f.name)).collect();
        let binds: Vec<_> = (0..msg.fields.len()).map(|k| format_ident!("__k_field_{}", k)).collect();
        let values = msg.fields.iter().zip(&binds).map(|(f, b)| to_value(&quote!(#b), true, &f.ty, 0));
        let pattern =
            if msg.fields.is_empty() { quote!(#ty::#name) } else { quote!(#ty::#name { #(#fnames: #binds),* }) };
        quote!(#pattern => ::meerkat_dsl::interp::Message {
            trigger: ::meerkat_dsl::ir::Trigger::#kind(::meerkat_dsl::ir::#id_ty(#id)),
            fields: ::std::vec::Vec::from([#(#values),*]),
        },)
    });
    let body = if messages.is_empty() { quote!(match *self {}) } else { quote!(match self { #(#arms)* }) };
    quote! {
        impl #ty {
            /// The interpreter's message of this kernel message.
            pub fn to_interp(&self) -> ::meerkat_dsl::interp::Message {
                #body
            }
        }
    }
}

/// An expression of type `Value` for `x`: a place of type `T`, or (`is_ref`) an expression of type `&T`.
fn to_value(x: &TokenStream, is_ref: bool, ty: &Type, depth: usize) -> TokenStream {
    let v = format_ident!("__k_v{}", depth);
    let k = format_ident!("__k_k{}", depth);
    let copied = if is_ref { quote!(*#x) } else { quote!(#x) };
    match ty {
        Type::Bool => quote!(::meerkat_dsl::interp::Value::Bool(#copied)),
        Type::U64 => quote!(::meerkat_dsl::interp::Value::U64(#copied)),
        Type::String => quote!(::meerkat_dsl::interp::Value::Str(#x.clone())),
        Type::Phase => quote!(::meerkat_dsl::interp::Value::Phase(#x.to_interp())),
        Type::Named(_) => quote!(#x.to_interp()),
        Type::Option(inner) => {
            let inner = to_value(&quote!(#v), true, inner, depth + 1);
            quote!(::meerkat_dsl::interp::Value::Option(#x.as_ref().map(|#v| ::std::boxed::Box::new(#inner))))
        }
        Type::Set(inner) => {
            let inner = to_value(&quote!(#v), true, inner, depth + 1);
            quote!(::meerkat_dsl::interp::Value::Set(#x.iter().map(|#v| #inner).collect()))
        }
        Type::Seq(inner) => {
            let inner = to_value(&quote!(#v), true, inner, depth + 1);
            quote!(::meerkat_dsl::interp::Value::Seq(#x.iter().map(|#v| #inner).collect()))
        }
        Type::Map(kt, vt) => {
            let key = to_value(&quote!(#k), true, kt, depth + 1);
            let value = to_value(&quote!(#v), true, vt, depth + 1);
            quote!(::meerkat_dsl::interp::Value::Map(#x.iter().map(|(#k, #v)| (#key, #value)).collect()))
        }
    }
}

/// An expression of type `T` for `x` (an expression of type `&Value`) that returns `None` from the enclosing
/// function or closure when the value does not fit.
fn from_value(g: &Gen<'_>, x: &TokenStream, ty: &Type, depth: usize) -> TokenStream {
    let v = format_ident!("__k_v{}", depth);
    let k = format_ident!("__k_k{}", depth);
    match ty {
        Type::Bool => quote!(match #x { ::meerkat_dsl::interp::Value::Bool(__k_b) => *__k_b, _ => return None }),
        Type::U64 => quote!(match #x { ::meerkat_dsl::interp::Value::U64(__k_n) => *__k_n, _ => return None }),
        Type::String => {
            quote!(match #x { ::meerkat_dsl::interp::Value::Str(__k_s) => __k_s.clone(), _ => return None })
        }
        Type::Phase => {
            let phase = &g.n.phase;
            quote!(match #x { ::meerkat_dsl::interp::Value::Phase(__k_p) => <#phase as ::meerkat_dsl::interp::FromInterp>::from_interp(__k_p)?, _ => return None })
        }
        Type::Named(id) => {
            let name = g.type_ident(*id);
            quote!(<#name as ::meerkat_dsl::interp::FromInterp>::from_interp(#x)?)
        }
        Type::Option(inner) => {
            let inner = from_value(g, &quote!(#v.as_ref()), inner, depth + 1);
            quote!(match #x {
                ::meerkat_dsl::interp::Value::Option(None) => None,
                ::meerkat_dsl::interp::Value::Option(Some(#v)) => Some(#inner),
                _ => return None,
            })
        }
        Type::Set(inner) | Type::Seq(inner) => {
            let (variant, collection) = match ty {
                Type::Set(_) => (quote!(Set), quote!(::std::collections::BTreeSet<_>)),
                _ => (quote!(Seq), quote!(::std::vec::Vec<_>)),
            };
            let map = match &**inner {
                // `|v| Some(T::from_interp(v)?)` is just the function.
                Type::Named(id) => {
                    let name = g.type_ident(*id);
                    quote!(<#name as ::meerkat_dsl::interp::FromInterp>::from_interp)
                }
                _ => {
                    let inner = from_value(g, &quote!(#v), inner, depth + 1);
                    quote!(|#v| Some(#inner))
                }
            };
            quote!(match #x {
                ::meerkat_dsl::interp::Value::#variant(__k_items) => __k_items
                    .iter()
                    .map(#map)
                    .collect::<::std::option::Option<#collection>>()?,
                _ => return None,
            })
        }
        Type::Map(kt, vt) => {
            let key = from_value(g, &quote!(#k), kt, depth + 1);
            let value = from_value(g, &quote!(#v), vt, depth + 1);
            quote!(match #x {
                ::meerkat_dsl::interp::Value::Map(__k_entries) => __k_entries
                    .iter()
                    .map(|(#k, #v)| Some((#key, #value)))
                    .collect::<::std::option::Option<::std::collections::BTreeMap<_, _>>>()?,
                _ => return None,
            })
        }
    }
}
