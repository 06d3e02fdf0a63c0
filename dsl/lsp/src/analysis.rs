//! One package of spec files, analysed: each file's text, line index and diagnostics (as the checker reports
//! them, turned into LSP diagnostics with code, range, related information and help), and one name index over
//! all of them, so a composition's routes resolve to machines of other files. A package is the `.machine` files
//! of one folder, checked together as `cargo xtask check` checks `machines/`; a file with no siblings is a
//! package of one. Everything is recomputed on every change; `benches/change.rs` measures what that costs on
//! `machines/meerkat.machine`, alone and with its siblings.

use lsp_types::{
    Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Url,
};
use meerkat_dsl::{Diagnostic, Severity, Source, check_package_keeping_asts, check_source_keeping_ast};

use crate::index::Index;
use crate::locals::LocalTypes;
use crate::position::LineIndex;

/// One analysed file of a package.
#[derive(Clone, Debug)]
pub struct Document {
    /// Its URI.
    pub uri: Url,
    /// Its text.
    pub text: String,
    /// Its line starts.
    pub lines: LineIndex,
    /// What the checker reports about this file, in LSP form.
    pub diagnostics: Vec<LspDiagnostic>,
}

/// An analysed package.
#[derive(Clone, Debug)]
pub struct Package {
    /// Its files, in the order they were given; a file's number in [`Index`] is its place here.
    pub documents: Vec<Document>,
    /// The names of all its files (a file that does not parse has none).
    pub index: Index,
}

impl Package {
    /// Parses, checks and indexes the files `(uri, text)` of one package.
    pub fn analyse(files: Vec<(Url, String)>) -> Self {
        let names: Vec<String> = files.iter().map(|(uri, _)| file_name(uri)).collect();
        let (checked, trees) = match files.as_slice() {
            // One file: one parse serves both the checker and the name index.
            [(_, text)] => {
                let (checked, tree) = check_source_keeping_ast(names.concat(), text.as_str());
                (checked, vec![tree])
            }
            // Several: checked together, each file parsed once for the checker and the name index.
            _ => {
                let sources =
                    files.iter().zip(&names).map(|((_, text), name)| Source::new(name.clone(), text.clone())).collect();
                check_package_keeping_asts(sources)
            }
        };
        let types = checked.as_ref().map(LocalTypes::new).unwrap_or_default();
        let found = diagnostics_of(checked);
        let index = {
            let parsed: Vec<(&str, Option<&meerkat_dsl::ast::File>)> =
                files.iter().zip(&trees).map(|((_, text), tree)| (text.as_str(), tree.as_ref())).collect();
            Index::new(&parsed, &types)
        };
        let mut documents: Vec<Document> = files
            .into_iter()
            .map(|(uri, text)| Document { lines: LineIndex::new(&text), uri, text, diagnostics: Vec::new() })
            .collect();
        for diagnostic in &found {
            if let Some(document) = documents.get_mut(diagnostic.source.0 as usize) {
                let lsp = to_lsp(&document.uri, &document.text, &document.lines, diagnostic);
                document.diagnostics.push(lsp);
            }
        }
        Package { documents, index }
    }

    /// The number of the file `uri`.
    pub fn file_of(&self, uri: &Url) -> Option<usize> {
        self.documents.iter().position(|d| &d.uri == uri)
    }
}

fn diagnostics_of(checked: Result<meerkat_dsl::CheckedPackage, meerkat_dsl::CheckError>) -> Vec<Diagnostic> {
    match checked {
        Ok(package) => package.warnings.into_vec(),
        Err(error) => error.diagnostics.into_vec(),
    }
}

fn file_name(uri: &Url) -> String {
    uri.path_segments().and_then(|mut s| s.next_back()).unwrap_or("spec.machine").to_string()
}

/// One checker diagnostic as an LSP diagnostic: the primary label is the range, secondary labels are related
/// information, help and notes follow the message.
fn to_lsp(uri: &Url, text: &str, lines: &LineIndex, d: &Diagnostic) -> LspDiagnostic {
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!("\n{}", d.primary.message));
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .map(|label| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(text, label.span)),
            message: label.message.clone(),
        })
        .collect();
    LspDiagnostic {
        range: lines.range(text, d.primary.span),
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("meerkat".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..LspDiagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::SymbolKind;

    #[test]
    fn every_local_binding_of_the_repository_specs_gets_the_checkers_type() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../machines");
        let mut files: Vec<(Url, String)> = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "machine"))
            .filter_map(|path| {
                let uri = Url::parse(&format!("file:///machines/{}", path.file_name()?.to_str()?)).ok()?;
                Some((uri, std::fs::read_to_string(&path).ok()?))
            })
            .collect();
        files.sort();
        assert!(files.len() >= 2, "machines/ holds a package");
        let package = Package::analyse(files);
        let locals: Vec<_> = package.index.symbols.iter().filter(|s| s.kind == SymbolKind::Local).collect();
        assert!(!locals.is_empty());
        let untyped: Vec<&str> =
            locals.iter().filter(|s| !s.detail.contains("\n// ")).map(|s| s.detail.as_str()).collect();
        assert!(untyped.is_empty(), "{} of {} without a type: {untyped:?}", untyped.len(), locals.len());
    }
}
