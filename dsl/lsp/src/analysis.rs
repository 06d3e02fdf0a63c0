//! One open document, analysed: its text, its line index, its diagnostics (as the checker reports them, turned
//! into LSP diagnostics with code, range, related information and help) and its name index. Everything is
//! recomputed on every change from one parse of the text; `benches/change.rs` measures what that costs on `machines/meerkat.machine`.

use lsp_types::{
    Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Url,
};
use meerkat_dsl::{Diagnostic, Severity, check_source_keeping_ast};

use crate::index::Index;
use crate::position::LineIndex;

/// An analysed document.
#[derive(Clone, Debug)]
pub struct Document {
    /// Its URI.
    pub uri: Url,
    /// Its text.
    pub text: String,
    /// Its line starts.
    pub lines: LineIndex,
    /// What the checker reports, in LSP form.
    pub diagnostics: Vec<LspDiagnostic>,
    /// Its names (empty when the file does not parse).
    pub index: Index,
}

impl Document {
    /// Parses, checks and indexes `text`.
    pub fn analyse(uri: Url, text: String) -> Self {
        let lines = LineIndex::new(&text);
        let name = uri.path_segments().and_then(|mut s| s.next_back()).unwrap_or("spec.machine").to_string();
        // One parse serves both the checker and the name index.
        let (checked, file) = check_source_keeping_ast(&name, text.as_str());
        let found: Vec<Diagnostic> = match checked {
            Ok(package) => package.warnings.into_vec(),
            Err(error) => error.diagnostics.into_vec(),
        };
        let diagnostics = found.iter().map(|d| to_lsp(&uri, &text, &lines, d)).collect();
        let index = match file {
            Some(file) => Index::new(&text, &file),
            None => Index::default(),
        };
        Document { uri, text, lines, diagnostics, index }
    }
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
