//! The composition back end: turns a checked `composition` into Rust routing code.
//!
//! For a composition `C` the generated file holds `CRouted`, an enum with one variant per receiving machine and
//! alphabet (`<Target>Input(...)`, `<Target>Signal(...)`), and one function per emitting machine,
//! `route_<snake_machine>_effect(&<Machine>Effect) -> Vec<CRouted>`, which lifts an effect into every message its
//! routes deliver, in route order (an effect no route names gives an empty `Vec`, which does not allocate).
//!
//! Payload values cross machines by shape: the checker has verified every routed field is structurally
//! compatible (same primitives and collections, enum or phase variants that exist on the target side, records
//! with the same fields, newtypes by their inner type), so the converting expressions built here always type
//! check. Each machine's kernel is named by a module path, `crate::<snake_name>::dsl` unless configured.

use std::collections::BTreeMap;

use meerkat_dsl::CheckedPackage;
use meerkat_dsl::ir::{self, Composition, ExprKind, Machine, RouteValue, Trigger, Type, TypeKind};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::rust::names::ident;
use crate::rust::snake_case;

/// Options of [`generate_composition`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompositionOptions {
    /// Module paths of machine kernels by machine name; a machine not listed is at `crate::<snake_name>::dsl`.
    pub machine_paths: BTreeMap<String, String>,
    /// The spec path named in the header comment.
    pub spec_path: String,
    /// How to regenerate the file, named in the header comment.
    pub regenerate_with: String,
}

impl CompositionOptions {
    fn path_of(&self, machine: &Machine) -> TokenStream {
        let module = ident(&snake_case(&machine.name));
        let default = quote!(crate::#module::dsl);
        let Some(text) = self.machine_paths.get(&machine.name) else { return default };
        // Each segment of a configured path is a name (`crate::kernels::type` names module `r#type`); a path with
        // an empty or non-identifier segment falls back to the default rather than failing generation.
        let segments: Vec<&str> = text.split("::").map(str::trim).collect();
        let is_name = |s: &&str| {
            let s = s.strip_prefix("r#").unwrap_or(s);
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if segments.is_empty() || !segments.iter().all(is_name) {
            return default;
        }
        let segments = segments.iter().map(|s| match *s {
            "crate" | "self" | "super" | "Self" => format_ident!("{}", s),
            other => ident(other.strip_prefix("r#").unwrap_or(other)),
        });
        quote!(#(#segments)::*)
    }
}

/// Generates the routing code of one composition of a checked package: deterministic and formatted.
///
/// ```
/// let package = meerkat_dsl::check_source(
///     "pair.machine",
///     "machine Bell { phases { initial Quiet } input Press effect Rang { times: u64 }
///                     on Press from Quiet -> stay { emit Rang { times: 1 } } }
///      machine Counter { phases { initial Counting } state { total: u64 = 0 } input Add { times: u64 }
///                        effect Total { total: u64 } on Add from Counting -> stay { total += times; emit Total { total } } }
///      composition Wiring { route Bell.Rang -> Counter.Add }",
/// )
/// .expect("the spec checks");
/// let source = meerkat_codegen::generate_composition(&package, &package.compositions[0], &Default::default());
/// assert!(source.contains("pub fn route_bell_effect"));
/// ```
pub fn generate_composition(
    package: &CheckedPackage,
    composition: &Composition,
    options: &CompositionOptions,
) -> String {
    let machines: Vec<&Machine> = package.machines.iter().map(|m| m.ir()).collect();
    let routed = format_ident!("{}Routed", composition.name);

    // Variants of the routed enum: one per (target machine, alphabet), in route order.
    let mut variants: Vec<(ir::MachineId, bool)> = Vec::new();
    for route in &composition.routes {
        let key = (route.to_machine, matches!(route.target, Trigger::Signal(_)));
        if !variants.contains(&key) {
            variants.push(key);
        }
    }
    let variant_items = variants.iter().filter_map(|(machine, signal)| {
        let m = machines.get(machine.index())?;
        let path = options.path_of(m);
        let (name, ty) = variant_names(m, *signal);
        let doc = format!(" A message for `{}` ({}).", m.name, if *signal { "a signal" } else { "an input" });
        Some(quote! { #[doc = #doc] #name(#path::#ty) })
    });

    // One function per emitting machine.
    let mut sources: Vec<ir::MachineId> = Vec::new();
    for route in &composition.routes {
        if !sources.contains(&route.from_machine) {
            sources.push(route.from_machine);
        }
    }
    let functions = sources.iter().filter_map(|source| {
        let m = machines.get(source.index())?;
        let path = options.path_of(m);
        let effect_ty = format_ident!("{}Effect", m.name);
        let function = format_ident!("route_{}_effect", snake_case(&m.name));
        // Routes grouped by effect, in route order.
        let mut by_effect: Vec<(ir::EffectId, Vec<&ir::Route>)> = Vec::new();
        for route in composition.routes.iter().filter(|r| r.from_machine == *source) {
            match by_effect.iter_mut().find(|(e, _)| *e == route.effect) {
                Some((_, list)) => list.push(route),
                None => by_effect.push((route.effect, vec![route])),
            }
        }
        let arms = by_effect.iter().filter_map(|(effect, routes)| {
            let message = m.effects.get(effect.index())?;
            let variant = ident(&message.name);
            let bindings = message.fields.iter().map(|f| ident(&f.name));
            let pattern = if message.fields.is_empty() {
                quote!(#path::#effect_ty::#variant)
            } else {
                quote!(#path::#effect_ty::#variant { #(#bindings),* })
            };
            let deliveries = routes.iter().filter_map(|route| delivery(&machines, &routed, route, options));
            Some(quote! { #pattern => ::std::vec::Vec::from([#(#deliveries),*]), })
        });
        let doc = format!(
            " Lifts a `{}` effect into the messages the `{}` routes deliver for it, in route order.",
            m.name, composition.name
        );
        Some(quote! {
            #[doc = #doc]
            pub fn #function(effect: &#path::#effect_ty) -> ::std::vec::Vec<#routed> {
                #[allow(unreachable_patterns, unused_variables)]
                match effect {
                    #(#arms)*
                    _ => ::std::vec::Vec::new(),
                }
            }
        })
    });

    let docs = composition.docs.clone().unwrap_or_else(|| format!("The routes of composition `{}`.", composition.name));
    let doc_lines = docs.lines().map(|line| format!(" {line}"));
    let enum_doc = format!(" A message delivered by a route of `{}`.", composition.name);
    let tokens = quote! {
        #[doc = #enum_doc]
        #[doc = ""]
        #(#[doc = #doc_lines])*
        #[derive(Clone, Debug, PartialEq)]
        pub enum #routed {
            #(#variant_items,)*
        }
        #(#functions)*
    };
    let tokens = crate::rust::names::hygiene(tokens);
    let file = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // The tokens come from checked IR; should formatting ever refuse them, emit them unformatted rather than
        // failing (rustc will then point at the problem in the generated file).
        Err(_) => tokens.to_string(),
    };
    let spec = if options.spec_path.is_empty() { "a spec file".to_string() } else { options.spec_path.clone() };
    let regenerate = if options.regenerate_with.is_empty() { "cargo xtask regen" } else { &options.regenerate_with };
    format!(
        "// @generated by meerkat-codegen from composition `{}` in {spec} — do not edit.\n// Regenerate with: {regenerate}\n\n{file}",
        composition.name
    )
}

/// The routed enum's variant name for a machine's input or signal alphabet, and the alphabet's type name.
fn variant_names(m: &Machine, signal: bool) -> (proc_macro2::Ident, proc_macro2::Ident) {
    if signal {
        (format_ident!("{}Signal", m.name), format_ident!("{}Signal", m.name))
    } else {
        (format_ident!("{}Input", m.name), format_ident!("{}Input", m.name))
    }
}

/// The expression delivering one route's message, built from the bound effect fields.
fn delivery(
    machines: &[&Machine],
    routed: &proc_macro2::Ident,
    route: &ir::Route,
    options: &CompositionOptions,
) -> Option<TokenStream> {
    let from = machines.get(route.from_machine.index())?;
    let to = machines.get(route.to_machine.index())?;
    let effect = from.effects.get(route.effect.index())?;
    let target = to.trigger(route.target);
    let to_path = options.path_of(to);
    let from_path = options.path_of(from);
    let signal = matches!(route.target, Trigger::Signal(_));
    let (variant, alphabet) = variant_names(to, signal);
    let message = ident(&target.name);
    let fields = target.fields.iter().zip(&route.fields).map(|(field, value)| {
        let name = ident(&field.name);
        let value = match value {
            RouteValue::EffectField(index) => match effect.fields.get(*index as usize) {
                Some(source_field) => {
                    let binding = ident(&source_field.name);
                    convert(quote!(#binding), &source_field.ty, from, &from_path, &field.ty, to, &to_path)
                }
                None => quote!(::std::default::Default::default()),
            },
            RouteValue::Constant(expr) => constant(expr),
        };
        quote!(#name: #value)
    });
    let body = if target.fields.is_empty() {
        quote!(#to_path::#alphabet::#message)
    } else {
        quote!(#to_path::#alphabet::#message { #(#fields),* })
    };
    Some(quote!(#routed::#variant(#body)))
}

/// A route constant: a literal of a primitive type or `None`.
fn constant(expr: &ir::Expr) -> TokenStream {
    match &expr.kind {
        ExprKind::Bool(b) => quote!(#b),
        ExprKind::U64(n) => quote!(#n),
        ExprKind::Str(s) => quote!(::std::string::String::from(#s)),
        _ => quote!(::std::option::Option::None),
    }
}

/// Converts `value` (a reference to a value of `from_ty` in machine `a`) into an owned value of `to_ty` in
/// machine `b`.
fn convert(
    value: TokenStream,
    from_ty: &Type,
    a: &Machine,
    a_path: &TokenStream,
    to_ty: &Type,
    b: &Machine,
    b_path: &TokenStream,
) -> TokenStream {
    let newtype_inner = |m: &Machine, t: &Type| -> Option<Type> {
        match t {
            Type::Named(id) => match &m.types.get(id.index())?.kind {
                TypeKind::Newtype { inner } => Some(inner.clone()),
                _ => None,
            },
            _ => None,
        }
    };
    match (from_ty, to_ty) {
        (Type::Bool, Type::Bool) | (Type::U64, Type::U64) => quote!(*#value),
        (Type::String, Type::String) => quote!(::std::clone::Clone::clone(#value)),
        (Type::Option(x), Type::Option(y)) => {
            let inner = convert(quote!(item), x, a, a_path, y, b, b_path);
            quote!(#value.as_ref().map(|item| #inner))
        }
        (Type::Set(x), Type::Set(y)) | (Type::Seq(x), Type::Seq(y)) => {
            let inner = convert(quote!(item), x, a, a_path, y, b, b_path);
            quote!(#value.iter().map(|item| #inner).collect())
        }
        (Type::Map(k1, v1), Type::Map(k2, v2)) => {
            let key = convert(quote!(key), k1, a, a_path, k2, b, b_path);
            let val = convert(quote!(val), v1, a, a_path, v2, b, b_path);
            quote!(#value.iter().map(|(key, val)| (#key, #val)).collect())
        }
        _ => {
            if let (Some(from_variants), Some(to_variants)) = (variants(a, from_ty), variants(b, to_ty)) {
                let from_name = type_path(a, from_ty, a_path);
                let to_name = type_path(b, to_ty, b_path);
                let arms = from_variants.iter().filter(|v| to_variants.contains(v)).map(|v| {
                    let variant = ident(v);
                    quote!(#from_name::#variant => #to_name::#variant,)
                });
                return quote!(match #value { #(#arms)* });
            }
            match (newtype_inner(a, from_ty), newtype_inner(b, to_ty)) {
                (Some(x), Some(y)) => {
                    let to_name = type_path(b, to_ty, b_path);
                    let inner = convert(quote!(&#value.0), &x, a, a_path, &y, b, b_path);
                    return quote!(#to_name(#inner));
                }
                (Some(x), None) => return convert(quote!(&#value.0), &x, a, a_path, to_ty, b, b_path),
                (None, Some(y)) => {
                    let to_name = type_path(b, to_ty, b_path);
                    let inner = convert(value, from_ty, a, a_path, &y, b, b_path);
                    return quote!(#to_name(#inner));
                }
                (None, None) => {}
            }
            if let (Type::Named(x), Type::Named(y)) = (from_ty, to_ty) {
                if let (Some(TypeKind::Record { fields: fa }), Some(TypeKind::Record { fields: fb })) =
                    (a.types.get(x.index()).map(|t| &t.kind), b.types.get(y.index()).map(|t| &t.kind))
                {
                    let to_name = type_path(b, to_ty, b_path);
                    let inits = fb.iter().filter_map(|g| {
                        let f = fa.iter().find(|f| f.name == g.name)?;
                        let name = ident(&g.name);
                        let inner = convert(quote!(&#value.#name), &f.ty, a, a_path, &g.ty, b, b_path);
                        Some(quote!(#name: #inner))
                    });
                    return quote!(#to_name { #(#inits),* });
                }
            }
            // Unreachable for checked routes: the checker accepted only compatible shapes.
            quote!(::std::clone::Clone::clone(#value))
        }
    }
}

/// The variant names of an enum or of the phase type.
fn variants(m: &Machine, t: &Type) -> Option<Vec<String>> {
    match t {
        Type::Phase => Some(m.phases.iter().map(|p| p.name.clone()).collect()),
        Type::Named(id) => match &m.types.get(id.index())?.kind {
            TypeKind::Enum { variants } => Some(variants.iter().map(|v| v.name.clone()).collect()),
            _ => None,
        },
        _ => None,
    }
}

/// The path of a phase or declared type of machine `m`.
fn type_path(m: &Machine, t: &Type, path: &TokenStream) -> TokenStream {
    match t {
        Type::Phase => {
            let name = format_ident!("{}Phase", m.name);
            quote!(#path::#name)
        }
        Type::Named(id) => {
            let name = m.types.get(id.index()).map_or_else(|| ident("Unknown"), |t| ident(&t.name));
            quote!(#path::#name)
        }
        _ => quote!(#path),
    }
}
