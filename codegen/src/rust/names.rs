//! Identifiers in generated Rust: declared names as written (raw-escaped when they are Rust keywords), snake-case
//! method names, a per-function allocator for bindings, and the final hygiene pass over a generated file.
//!
//! Spec names may be any ASCII identifier, `_`-prefixed and `__`-containing ones included, so no fixed spelling is
//! out of their reach. Hygiene is therefore decided per file, once every name is known: the generator writes its
//! own locals, parameters and pattern bindings with the marker prefix [`LOCAL`], and [`hygiene`] renames each to its
//! plain base name, or to `k_<base>` (`k2_<base>`, ...) when some other identifier of the file (a spec name, an
//! item, a path segment) is spelled that way. Spec names that start with the marker are emitted raw (`r#__k_x`),
//! which the pass leaves alone. The same pass writes every bare primitive and prelude name the generator emits
//! as an absolute path (`::core::primitive::u64`, `::core::option::Option::Some`), and spec names spelled like one
//! are emitted raw, so a declared `record u16` or `newtype Some(..)` never captures the generator's references.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Group, Ident, Spacing, Span, TokenStream, TokenTree};
use quote::quote;

/// Words that are keywords (strict or reserved) in Rust 2024 and so need `r#` to be used as names.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move",
    "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Words that cannot be identifiers even with `r#`. The checker reserves them (E0117); a trailing underscore keeps
/// generation total should one ever get through.
const UNUSABLE: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The prefix that marks a generated local in the tokens the generator builds; [`hygiene`] replaces it.
pub(crate) const LOCAL: &str = "__k_";

/// Bare names the generator may emit for primitives and prelude items, and the absolute path [`hygiene`] writes
/// for each.
const QUALIFIED: &[(&str, &str)] = &[
    ("bool", "::core::primitive::bool"),
    ("char", "::core::primitive::char"),
    ("str", "::core::primitive::str"),
    ("u8", "::core::primitive::u8"),
    ("u16", "::core::primitive::u16"),
    ("u32", "::core::primitive::u32"),
    ("u64", "::core::primitive::u64"),
    ("u128", "::core::primitive::u128"),
    ("usize", "::core::primitive::usize"),
    ("i8", "::core::primitive::i8"),
    ("i16", "::core::primitive::i16"),
    ("i32", "::core::primitive::i32"),
    ("i64", "::core::primitive::i64"),
    ("i128", "::core::primitive::i128"),
    ("isize", "::core::primitive::isize"),
    ("f32", "::core::primitive::f32"),
    ("f64", "::core::primitive::f64"),
    ("Option", "::core::option::Option"),
    ("Some", "::core::option::Option::Some"),
    ("None", "::core::option::Option::None"),
    ("Result", "::core::result::Result"),
    ("Ok", "::core::result::Result::Ok"),
    ("Err", "::core::result::Result::Err"),
    ("String", "::std::string::String"),
    ("Vec", "::std::vec::Vec"),
    ("Box", "::std::boxed::Box"),
];

/// A declared name as a Rust identifier: as written, `r#`-escaped when it is a keyword, when [`hygiene`] would
/// otherwise take it for a primitive or prelude name, or when it starts with the local marker.
pub(crate) fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) || QUALIFIED.iter().any(|(bare, _)| *bare == name) || name.starts_with(LOCAL) {
        Ident::new_raw(name, Span::call_site())
    } else if UNUSABLE.contains(&name) || name.is_empty() {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// A generated name that is never a keyword (internal locals, method names with a prefix).
pub(crate) fn plain(name: &str) -> Ident {
    if KEYWORDS.contains(&name) || UNUSABLE.contains(&name) { ident(name) } else { Ident::new(name, Span::call_site()) }
}

/// The Rust module name of a machine or composition as generated code and `build.rs` files name it: its snake
/// case, `r#`-escaped when that is a keyword (`machine type` → `r#type`).
pub fn module_name(name: &str) -> String {
    ident(&snake_case(name)).to_string()
}

/// `TrafficLight` → `traffic_light`, `HTTPServer` → `http_server`, `ready_2` → `ready_2`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) => {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                }
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether rustc's `non_camel_case_types` lint accepts the name.
pub(crate) fn is_camel(name: &str) -> bool {
    let trimmed = name.trim_start_matches('_');
    trimmed.chars().next().is_some_and(|c| !c.is_lowercase()) && !trimmed.contains("__") && !has_bad_underscore(trimmed)
}

fn has_bad_underscore(name: &str) -> bool {
    // rustc accepts an underscore only between two characters that have no case (digits).
    let chars: Vec<char> = name.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        c == '_'
            && !(i > 0
                && chars.get(i - 1).is_some_and(|p| p.is_ascii_digit())
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
    })
}

/// Whether rustc's `non_snake_case` lint accepts the name.
pub(crate) fn is_snake(name: &str) -> bool {
    !name.chars().any(char::is_uppercase)
}

/// `#[allow(non_camel_case_types)]` when one of `names` (type or variant names) is not in camel case.
pub(crate) fn allow_camel<'a>(names: impl IntoIterator<Item = &'a str>) -> TokenStream {
    if names.into_iter().all(is_camel) { TokenStream::new() } else { quote!(#[allow(non_camel_case_types)]) }
}

/// `#[allow(non_snake_case)]` when one of `names` (fields, bindings) is not in snake case.
pub(crate) fn allow_snake<'a>(names: impl IntoIterator<Item = &'a str>) -> TokenStream {
    if names.into_iter().all(is_snake) { TokenStream::new() } else { quote!(#[allow(non_snake_case)]) }
}

/// Allocates the Rust names of one generated function's bindings.
///
/// User bindings (payload fields, helper parameters, locals) keep their written names unless that name is already
/// taken in the function or names a declared type, variant or phase (a binding cannot shadow a tuple struct, and
/// one named like a variant of its own type is refused), in which case they get a numbered suffix that no such
/// name uses. Generated locals come out marked with [`LOCAL`] and numbered apart from one another; [`hygiene`]
/// keeps them apart from every other name of the file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Namer {
    /// The function's user bindings: renamed and generated names avoid them.
    reserved: BTreeSet<String>,
    /// The file's type, variant and phase names: no binding takes them.
    declared: BTreeSet<String>,
    /// Names already given out (generated ones without their marker).
    used: BTreeSet<String>,
    /// Suffix counters per base name, so repeated requests stay cheap and readable.
    counters: BTreeMap<String, u32>,
}

impl Namer {
    /// A namer for a function whose user bindings are `reserved`.
    pub(crate) fn new<'a>(reserved: impl IntoIterator<Item = &'a str>) -> Self {
        let mut reserved: BTreeSet<String> = reserved.into_iter().map(str::to_string).collect();
        reserved.insert("self".to_string());
        Namer { reserved, declared: BTreeSet::new(), used: BTreeSet::new(), counters: BTreeMap::new() }
    }

    /// Adds the declared type, variant and phase names no binding may take.
    pub(crate) fn declare<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.declared.extend(names.into_iter().map(str::to_string));
        self
    }

    /// The name of a user binding: as written when free, else with a numbered suffix.
    pub(crate) fn user(&mut self, name: &str) -> Ident {
        let unusable = UNUSABLE.contains(&name) || name.is_empty();
        if !unusable && !self.declared.contains(name) && !self.used.contains(name) {
            self.used.insert(name.to_string());
            return ident(name);
        }
        let base = name.trim_end_matches('_');
        let base = if base.is_empty() { "local" } else { base };
        let mut n = self.counters.get(base).copied().unwrap_or(0).max(1);
        loop {
            let candidate = format!("{base}_{n}");
            n += 1;
            if !self.used.contains(&candidate)
                && !self.reserved.contains(&candidate)
                && !self.declared.contains(&candidate)
            {
                self.counters.insert(base.to_string(), n);
                self.used.insert(candidate.clone());
                return ident(&candidate);
            }
        }
    }

    /// A generated local: `base`, or `base_N`, whichever this function has not given out, marked for [`hygiene`].
    pub(crate) fn fresh(&mut self, base: &str) -> Ident {
        let base = base.trim_end_matches('_');
        let mut n = self.counters.get(base).copied().unwrap_or(0);
        loop {
            let candidate = if n == 0 { base.to_string() } else { format!("{base}_{n}") };
            n += 1;
            if !self.used.contains(&candidate) && !self.reserved.contains(&candidate) {
                self.counters.insert(base.to_string(), n);
                self.used.insert(candidate.clone());
                return local(&candidate);
            }
        }
    }

    /// A loop label (labels have their own namespace, so only uniqueness matters).
    pub(crate) fn label(&mut self, base: &str) -> syn::Lifetime {
        let n = self.counters.entry(format!("'{base}")).or_insert(0);
        let name = if *n == 0 { format!("'{base}") } else { format!("'{base}_{n}") };
        *n += 1;
        syn::Lifetime::new(&name, Span::call_site())
    }
}

/// A generated local named `base`, marked for [`hygiene`]. In `quote!`, write such names as `__k_base` directly.
pub(crate) fn local(base: &str) -> Ident {
    Ident::new(&format!("{LOCAL}{base}"), Span::call_site())
}

/// The hygiene pass over a whole generated file (see the module doc): renames the marked generated locals apart
/// from every other identifier of the file and writes bare primitive and prelude names as absolute paths.
pub(crate) fn hygiene(tokens: TokenStream) -> TokenStream {
    let mut marked = BTreeSet::new();
    let mut taken = BTreeSet::new();
    collect_idents(tokens.clone(), &mut marked, &mut taken);
    let mut renames = BTreeMap::new();
    for base in marked {
        let name = (0..)
            .map(|k| match k {
                0 => base.clone(),
                1 => format!("k_{base}"),
                k => format!("k{k}_{base}"),
            })
            .find(|candidate| !taken.contains(candidate) && !KEYWORDS.contains(&candidate.as_str()))
            .unwrap_or_else(|| base.clone());
        taken.insert(name.clone());
        renames.insert(base, name);
    }
    rewrite(tokens, &renames)
}

/// Sorts every identifier of `tokens` into marked generated locals (without the marker) and all others (raw
/// ones without their `r#`).
fn collect_idents(tokens: TokenStream, marked: &mut BTreeSet<String>, taken: &mut BTreeSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => collect_idents(group.stream(), marked, taken),
            TokenTree::Ident(ident) => {
                let text = ident.to_string();
                if let Some(raw) = text.strip_prefix("r#") {
                    taken.insert(raw.to_string());
                } else if let Some(base) = text.strip_prefix(LOCAL) {
                    marked.insert(base.to_string());
                } else {
                    taken.insert(text);
                }
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

fn rewrite(tokens: TokenStream, renames: &BTreeMap<String, String>) -> TokenStream {
    let mut out = TokenStream::new();
    // Whether the last two tokens were `::` or the last one `.`: a name there is a path segment or a field, not a
    // reference to the prelude.
    let mut after_path = false;
    let mut last_colon = false;
    for tree in tokens {
        let mut next_after_path = false;
        let mut next_last_colon = false;
        match tree {
            TokenTree::Group(group) => {
                let mut rewritten = Group::new(group.delimiter(), rewrite(group.stream(), renames));
                rewritten.set_span(group.span());
                out.extend([TokenTree::Group(rewritten)]);
            }
            TokenTree::Ident(ident) => {
                let text = ident.to_string();
                if let Some(base) = text.strip_prefix(LOCAL) {
                    let name = renames.get(base).map_or(base, String::as_str);
                    out.extend([TokenTree::Ident(Ident::new(name, ident.span()))]);
                } else if let Some((_, path)) = QUALIFIED.iter().find(|(bare, _)| *bare == text).filter(|_| !after_path)
                {
                    let path: TokenStream = path.parse().unwrap_or_else(|_| TokenStream::from(TokenTree::Ident(ident)));
                    out.extend(path);
                } else {
                    out.extend([TokenTree::Ident(ident)]);
                }
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                next_after_path = c == '.' || (c == ':' && last_colon);
                next_last_colon = c == ':' && punct.spacing() == Spacing::Joint;
                out.extend([TokenTree::Punct(punct)]);
            }
            TokenTree::Literal(literal) => out.extend([TokenTree::Literal(literal)]),
        }
        after_path = next_after_path;
        last_colon = next_last_colon;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_words() {
        assert_eq!(snake_case("TrafficLight"), "traffic_light");
        assert_eq!(snake_case("MeerkatMachine"), "meerkat_machine");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("V2Thing"), "v2_thing");
    }

    #[test]
    fn keywords_are_raw() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("holder").to_string(), "holder");
    }

    #[test]
    fn fresh_names_are_marked_and_distinct() {
        let mut namer = Namer::new(["source", "source_1"]);
        assert_eq!(namer.fresh("source").to_string(), "__k_source_2");
        assert_eq!(namer.fresh("undo").to_string(), "__k_undo");
        assert_eq!(namer.fresh("undo").to_string(), "__k_undo_1");
        assert_eq!(namer.user("who").to_string(), "who");
        assert_eq!(namer.user("who").to_string(), "who_1");
    }

    #[test]
    fn user_bindings_avoid_declared_names() {
        let mut namer = Namer::new([]).declare(["phase", "phase_1"]);
        assert_eq!(namer.user("phase").to_string(), "phase_2");
    }

    #[test]
    fn hygiene_renames_locals_apart_from_other_names() {
        let tokens = quote! {
            fn f(&self, source: u64) -> Option<u64> { let __k_source = self.x; let __k_undo = __k_source; Some(__k_undo) }
        };
        assert_eq!(
            hygiene(tokens).to_string(),
            quote! {
                fn f(&self, source: ::core::primitive::u64) -> ::core::option::Option<::core::primitive::u64> {
                    let k_source = self.x; let undo = k_source; ::core::option::Option::Some(undo)
                }
            }
            .to_string()
        );
    }

    #[test]
    fn hygiene_leaves_raw_and_qualified_names() {
        let tokens = quote!(struct r#u16 { a: ::std::primitive::u64 } impl r#u16 { fn g(x: u16) {} });
        assert_eq!(
            hygiene(tokens).to_string(),
            quote!(struct r#u16 { a: ::std::primitive::u64 } impl r#u16 { fn g(x: ::core::primitive::u16) {} })
                .to_string()
        );
    }

    #[test]
    fn case_checks() {
        assert!(is_camel("Lamp"));
        assert!(is_camel("V2"));
        assert!(!is_camel("lamp"));
        assert!(!is_camel("Lamp_Red"));
        assert!(is_snake("ticks"));
        assert!(!is_snake("Ticks"));
    }
}
