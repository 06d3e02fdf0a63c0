//! Identifiers in generated Rust: declared names as written (raw-escaped when they are Rust keywords), snake-case
//! method names, and a per-function allocator that keeps generated locals from colliding with user bindings.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
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

/// A declared name as a Rust identifier: as written, `r#`-escaped when it is a keyword.
pub(crate) fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
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
/// taken in the function, in which case they get a numbered suffix; generated locals take a base name plus a
/// suffix that no user binding of the function uses, so a generated name never shadows a user's or is shadowed by
/// one.
#[derive(Clone, Debug, Default)]
pub(crate) struct Namer {
    /// Every user-visible name in the function: generated names avoid these.
    reserved: BTreeSet<String>,
    /// Names already given out.
    used: BTreeSet<String>,
    /// Suffix counters per base name, so repeated requests stay cheap and readable.
    counters: BTreeMap<String, u32>,
}

impl Namer {
    /// A namer for a function whose user bindings are `reserved`.
    pub(crate) fn new<'a>(reserved: impl IntoIterator<Item = &'a str>) -> Self {
        let mut reserved: BTreeSet<String> = reserved.into_iter().map(str::to_string).collect();
        reserved.insert("self".to_string());
        Namer { reserved, used: BTreeSet::new(), counters: BTreeMap::new() }
    }

    /// The name of a user binding: as written when free, else with a numbered suffix.
    pub(crate) fn user(&mut self, name: &str) -> Ident {
        let unusable = UNUSABLE.contains(&name) || name.is_empty();
        if !unusable && !self.used.contains(name) {
            self.used.insert(name.to_string());
            return ident(name);
        }
        self.fresh(&format!("{}_", name.trim_end_matches('_')))
    }

    /// A generated local: `base`, or `base_N`, whichever no binding of the function uses.
    pub(crate) fn fresh(&mut self, base: &str) -> Ident {
        let base = base.trim_end_matches('_');
        let mut n = self.counters.get(base).copied().unwrap_or(0);
        loop {
            let candidate = if n == 0 { base.to_string() } else { format!("{base}_{n}") };
            n += 1;
            if !self.used.contains(&candidate)
                && !self.reserved.contains(&candidate)
                && !KEYWORDS.contains(&candidate.as_str())
                && !UNUSABLE.contains(&candidate.as_str())
            {
                self.counters.insert(base.to_string(), n);
                self.used.insert(candidate.clone());
                return Ident::new(&candidate, Span::call_site());
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
    fn fresh_names_avoid_user_names() {
        let mut namer = Namer::new(["source", "source_1"]);
        assert_eq!(namer.fresh("source").to_string(), "source_2");
        assert_eq!(namer.user("who").to_string(), "who");
        assert_eq!(namer.user("who").to_string(), "who_1");
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
