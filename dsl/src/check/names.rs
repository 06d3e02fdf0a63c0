//! Name tables, "did you mean" suggestions and the small text helpers (`plural`, `quoted`) that the checking
//! passes share in their messages.

use std::collections::HashMap;

use crate::ast::Ident;
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::span::{SourceId, Span};

/// A namespace: names to ids, remembering where each was declared so duplicates can point at both.
#[derive(Debug)]
pub(crate) struct Namespace<Id: Copy> {
    what: &'static str,
    entries: HashMap<String, (Id, Span)>,
    order: Vec<String>,
}

impl<Id: Copy> Namespace<Id> {
    /// An empty namespace; `what` names its entries in messages ("phase", "state field").
    pub(crate) fn new(what: &'static str) -> Self {
        Namespace { what, entries: HashMap::new(), order: Vec::new() }
    }

    /// Declares `name`, or reports a duplicate and keeps the first declaration.
    pub(crate) fn declare(&mut self, name: &Ident, id: Id, source: SourceId, diags: &mut Vec<Diagnostic>) {
        if name.name.is_empty() {
            return;
        }
        if let Some((_, first)) = self.entries.get(&name.name) {
            diags.push(
                Diagnostic::new(
                    Code::Duplicate,
                    source,
                    format!("{} `{}` is declared twice", self.what, name.name),
                    Label::new(name.span, "declared again here"),
                )
                .with_label(*first, "first declared here")
                .with_help(format!("rename or remove one of the two declarations of `{}`", name.name)),
            );
            return;
        }
        self.entries.insert(name.name.clone(), (id, name.span));
        self.order.push(name.name.clone());
    }

    /// Looks a name up.
    pub(crate) fn get(&self, name: &str) -> Option<Id> {
        self.entries.get(name).map(|(id, _)| *id)
    }

    /// Where a name was declared.
    pub(crate) fn span_of(&self, name: &str) -> Option<Span> {
        self.entries.get(name).map(|(_, span)| *span)
    }

    /// Whether a name is declared.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The declared names in declaration order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }
}

/// The candidate closest to `name`, if any is close enough to be a plausible typo.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == name || candidate.is_empty() {
            continue;
        }
        let score = if candidate.to_lowercase() == lower {
            1.0
        } else {
            // Optimal string alignment counts a swap of two neighbouring letters (`cuont`) as one edit.
            let distance = strsim::osa_distance(name, candidate);
            let allowed = (name.len().max(candidate.len()) / 3).max(1);
            if distance > allowed {
                continue;
            }
            strsim::jaro_winkler(name, candidate)
        };
        if best.is_none_or(|(s, c)| score > s || (score == s && candidate < c)) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Adds "did you mean" help to a diagnostic when a suggestion exists, or `fallback` help otherwise.
pub(crate) fn with_suggestion(
    diagnostic: Diagnostic,
    suggestion: Option<String>,
    fallback: Option<String>,
) -> Diagnostic {
    match (suggestion, fallback) {
        (Some(s), _) => diagnostic.with_help(format!("did you mean `{s}`?")),
        (None, Some(f)) => diagnostic.with_help(f),
        (None, None) => diagnostic,
    }
}

/// `""` for one, `"s"` for any other count.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
pub(crate) fn quoted(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("sesion_id", ["session_id", "phase"]), Some("session_id".into()));
        assert_eq!(suggest("Idel", ["Idle", "Running"]), Some("Idle".into()));
        assert_eq!(suggest("idle", ["Idle"]), Some("Idle".into()));
        assert_eq!(suggest("xyz", ["session_id", "phase"]), None);
        assert_eq!(suggest("cuont", ["count", "phase"]), Some("count".into()), "a swap is one edit");
    }
}
