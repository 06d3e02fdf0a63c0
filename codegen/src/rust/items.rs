//! The items of a kernel that the spec declares: the phase enum, the declared types, the state, the message enums,
//! and the helpers, guards, invariants, `fire_*` methods and dispatchers as private methods of the state.

use meerkat_dsl::ir::{Message, Type, TypeKind};
use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::analysis::UseCounts;
use super::expr::{Binding, Cx, Fail, Form};
use super::names;

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
                fn fmt(&self, __k_f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    __k_f.write_str(self.name())
                }
            }
        }
    }

    pub(crate) fn declared_types(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (index, decl) in self.m.types.iter().enumerate() {
            let name = self.type_ident(meerkat_dsl::ir::TypeId(index as u32));
            let copy = self.facts.type_copy[index];
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
                            fn from(__k_value: #ty) -> Self {
                                #name(__k_value)
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
        let mut cx = Cx::new(self.namer([]), &[], Fail::Default, UseCounts::default());
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
        // serde's derive binds a struct variant's fields by their names, and a binding cannot shadow a tuple struct
        // or variant in scope: when a field is named like a declared type (or `Ok`, `Err`), the enum is declared in
        // a module of its own without the prelude, where only paths reach the machine's types, and re-exported.
        let isolate = self.opts.serde
            && messages
                .iter()
                .flat_map(|msg| &msg.fields)
                .any(|f| ["Ok", "Err"].contains(&f.name.as_str()) || self.m.types.iter().any(|t| t.name == f.name));
        let derives = if isolate { self.isolated_derives() } else { self.derives(false) };
        let in_module = if isolate { quote!(super::) } else { TokenStream::new() };
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
                    let t = self.ty_at(&f.ty, &in_module);
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
        let declaration = quote! {
            #docs
            #derives
            #allow_camel
            #allow_snake
            pub enum #ty {
                #(#variants)*
            }
        };
        let declaration = if isolate {
            let module = names::local(&format!("{kind}_enum"));
            quote! {
                #[doc(hidden)]
                #[no_implicit_prelude]
                mod #module {
                    #declaration
                }
                #[doc(inline)]
                pub use self::#module::#ty;
            }
        } else {
            declaration
        };
        quote! {
            #declaration

            impl #ty {
                #[doc = #name_docs]
                pub fn name(&self) -> &'static str {
                    #name_body
                }

                #input_methods
            }
        }
    }

    /// The private methods of the state: helpers, guards, invariants and the `fire_*` methods in `fires`. Facts
    /// and names are tables with one entry per helper, guard and invariant, so they are indexed directly.
    pub(crate) fn state_methods(&self, fires: &[Option<super::dispatch::FireFn>]) -> TokenStream {
        let state = &self.n.state;
        let mut methods = TokenStream::new();
        for (i, h) in self.m.helpers.iter().enumerate() {
            if !self.facts.helper_used[i] {
                continue;
            }
            let fallible = self.facts.helper_fallible[i];
            let uses = UseCounts::of_exprs([&h.body]);
            let mut reserved: Vec<&str> = h.params.iter().map(|(n, _)| n.as_str()).collect();
            reserved.extend(h.locals.iter().map(|l| l.name.as_str()));
            let mut cx = Cx::new(self.namer(reserved), &h.locals, Fail::Question, UseCounts::default());
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
            let name = &self.n.helper_fns[i];
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
            if !self.facts.guard_used[i] {
                continue;
            }
            let fallible = self.facts.guard_fallible[i];
            let uses = UseCounts::of_exprs([&g.expr]);
            let mut cx = Cx::new(self.namer(g.locals.iter().map(|l| l.name.as_str())), &g.locals, Fail::Question, uses);
            let body = self.owned_expr(&mut cx, &g.expr);
            let name = &self.n.guard_fns[i];
            let docs = Self::docs(g.docs.as_deref(), || format!("Guard `{}`.", g.name));
            let (ret, body) = fallible_body(fallible, quote!(bool), body);
            methods.extend(quote! {
                #docs
                fn #name(&self) -> #ret {
                    #body
                }
            });
        }
        for (i, inv) in self.m.invariants.iter().enumerate() {
            let fallible = self.facts.invariant_fallible[i];
            let uses = UseCounts::of_exprs([&inv.expr]);
            let mut cx =
                Cx::new(self.namer(inv.locals.iter().map(|l| l.name.as_str())), &inv.locals, Fail::Question, uses);
            let body = self.owned_expr(&mut cx, &inv.expr);
            let name = &self.n.invariant_fns[i];
            let docs = Self::docs(inv.docs.as_deref(), || format!("Invariant `{}`.", inv.name));
            let (ret, body) = fallible_body(fallible, quote!(bool), body);
            methods.extend(quote! {
                #docs
                fn #name(&self) -> #ret {
                    #body
                }
            });
        }
        for fire in fires.iter().flatten() {
            methods.extend(fire.method.clone());
        }
        for fire in fires.iter().flatten() {
            methods.extend(fire.stage_method.clone());
        }
        methods.extend(self.entry_check_fns());
        let allow = spec_code_allows();
        quote! {
            #allow
            impl #state {
                #methods
            }
        }
    }
}

/// Guards, invariants and helpers are the spec's own expressions, written as the spec wrote them; these style
/// lints would only restate the spec author's choices (`x == x`, `!(a && b)`, `xs.any(|x| x == c)`). On every
/// impl that holds them.
pub(crate) fn spec_code_allows() -> TokenStream {
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
    }
}

/// The return type and body of a helper, guard or invariant: `Option<T>` when it can fail.
pub(crate) fn fallible_body(fallible: bool, ret: TokenStream, body: super::expr::Code) -> (TokenStream, TokenStream) {
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

pub(crate) fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
