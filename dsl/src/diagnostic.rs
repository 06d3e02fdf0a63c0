//! Diagnostics: every problem the front end finds, with a stable code, a primary span, secondary labels and
//! help, and their rendering in the rustc/miette style (`file:line:col`, a source snippet, labels).
//!
//! Codes are stable once released: `docs/diagnostics.md` lists each with an example, and a test keeps that
//! page and [`Code::ALL`] in step.

use std::fmt;

use crate::span::{Source, SourceId, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The spec is accepted, but something is probably wrong.
    Warning,
    /// The spec is rejected.
    Error,
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $summary:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as printed, e.g. `E0102`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// Whether diagnostics with this code reject the spec.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity),* }
            }

            /// A one-line summary of what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary),* }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "the text does not follow the grammar";
    IntegerTooLarge = "E0002", Error, "an integer literal does not fit in a u64";
    InvalidEscape = "E0003", Error, "a string literal contains an unknown escape";

    Duplicate = "E0101", Error, "a name is declared twice in the same namespace";
    UnknownName = "E0102", Error, "a name does not refer to anything in scope";
    UnknownType = "E0103", Error, "a type name is not declared";
    UnknownPhase = "E0104", Error, "a phase name is not declared";
    UnknownTrigger = "E0105", Error, "a transition's trigger is not a declared input or signal";
    UnknownEffect = "E0106", Error, "an emitted effect is not declared";
    UnknownField = "E0107", Error, "a field is not part of the record, payload or effect";
    UnknownMethod = "E0108", Error, "a method does not exist for the receiver's type";
    UnknownVariant = "E0109", Error, "an enum has no variant of that name";
    MissingPhases = "E0110", Error, "the machine has no phases block, or not exactly one initial phase";
    DuplicateBlock = "E0111", Error, "a block that a machine may have once is written twice";
    MissingField = "E0112", Error, "a record literal, emit or route leaves a field without a value";
    HelperCycle = "E0113", Error, "helpers call each other in a cycle";
    ArgumentCount = "E0114", Error, "a call passes the wrong number of arguments";
    TransitionNameRequired = "E0115", Error, "several transitions share a trigger but some have no name";
    UnknownMachine = "E0116", Error, "a composition names a machine that is not in the package";
    ReservedName = "E0117", Error, "a name is reserved: it would clash with generated code or is not a usable identifier";

    TypeMismatch = "E0201", Error, "an expression has a different type than its position requires";
    InvalidOperand = "E0202", Error, "an operator is applied to a type it does not support";
    CannotInfer = "E0203", Error, "the type of an empty collection or `None` cannot be inferred";
    NonExhaustiveMatch = "E0205", Error, "a match does not cover every value of its scrutinee";
    NotAssignable = "E0206", Error, "an assignment writes to something that is not state";
    TypeArguments = "E0207", Error, "a type has the wrong number of type arguments";
    DefaultNotAllowed = "E0208", Error, "a field has a default value where none is allowed";
    NotConstant = "E0209", Error, "an initial value or model domain value reads state, payload or helpers";
    MissingInitialValue = "E0210", Error, "a state field has no initial value";
    RecursiveType = "E0211", Error, "a record or newtype contains itself";
    ConstantFails = "E0212", Error, "a constant (an initial value or a model domain value) fails to evaluate";
    InvalidMapKey = "E0213", Error, "a map key type is not a scalar (bool, u64, String, Phase, an enum, or a newtype of one)";
    BindingShadowsVariant = "E0214", Error, "a `Some(name)` pattern binds a name that is a variant or phase of the value's type";

    TerminalExit = "E0301", Error, "a transition leaves a terminal phase";
    OverlappingGuards = "E0302", Error, "two transitions can fire for the same phase and trigger";
    DuplicateOtherwise = "E0303", Error, "more than one `otherwise` transition for the same phase and trigger";
    EmptySources = "E0304", Error, "a transition's `from` clause selects no phase";
    InitialStateViolatesInvariant = "E0305", Error, "the initial state breaks an invariant";
    PureInputChangesState = "E0306", Error, "a transition of a `pure` input changes the state or the phase";
    DuplicateSource = "E0307", Error, "a `from` clause lists a phase twice";
    InvalidModifier = "E0308", Error, "a modifier is used on a message kind it does not apply to";

    InvalidDomain = "E0401", Error, "a model domain names an unknown target or has no values";
    RouteMismatch = "E0402", Error, "a route maps an effect to a message it cannot produce";
    DuplicateModelSetting = "E0403", Error, "a model setting is written twice";

    UnreachablePhase = "W0001", Warning, "no sequence of transitions reaches a phase";
    DeadTransition = "W0002", Warning, "a transition can never fire";
    Unused = "W0003", Warning, "a declaration is never used";
    PossibleOverlap = "W0004", Warning, "the checker cannot prove two competing transitions' guards disjoint";
    PointlessOtherwise = "W0005", Warning, "an `otherwise` transition has no competitor";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A span with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
}

impl Label {
    /// A label.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label { span, message: message.into() }
    }
}

/// One problem found in a spec file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// The file the spans point into.
    pub source: SourceId,
    /// The headline: lowercase, no trailing period.
    pub message: String,
    /// The main location.
    pub primary: Label,
    /// Further locations in the same file.
    pub secondary: Vec<Label>,
    /// How to fix it, when known.
    pub help: Option<String>,
    /// Extra context (for example a location in another file).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with a code, a headline and a primary label.
    pub fn new(code: Code, source: SourceId, message: impl Into<String>, primary: Label) -> Self {
        Diagnostic {
            code,
            source,
            message: message.into(),
            primary,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Error or warning, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this diagnostic rejects the spec.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// A sorted collection of diagnostics for a package, with rendering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Diagnostics::default()
    }

    /// Adds one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics in file order, then by position, then by code.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorts by file, position and code, and drops exact duplicates.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (a.source, a.primary.span.start, a.primary.span.end, a.code, &a.message).cmp(&(
                b.source,
                b.primary.span.start,
                b.primary.span.end,
                b.code,
                &b.message,
            ))
        });
        self.items.dedup();
    }

    /// Consumes the collection.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    /// Renders every diagnostic against its source: rustc-style, `width` columns wide, with or without colour.
    pub fn render(&self, sources: &[Source], options: RenderOptions) -> String {
        let rendered: Vec<String> = self.items.iter().map(|d| render(d, sources, options)).collect();
        rendered.join("\n")
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Diagnostics { items: iter.into_iter().collect() }
    }
}

/// How to render diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Terminal width for wrapping.
    pub width: usize,
    /// Whether to use ANSI colours and Unicode box drawing.
    pub colour: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { width: 100, colour: false }
    }
}

/// The longest line (in bytes) whose labels are drawn on the whole line. A label on a longer line is drawn in a
/// window of that line around the primary label: miette cannot draw past column 65,535, and a snippet of a line
/// thousands of columns wide helps nobody. The header keeps the real `file:line:col`.
const MAX_SNIPPET_LINE: usize = 1_000;

/// How many characters of a long line the window shows before and after the primary label's start.
const WINDOW_BEFORE: usize = 40;
const WINDOW_AFTER: usize = 80;

/// Renders one diagnostic. A diagnostic whose source id is not in `sources` is rendered without a snippet.
pub fn render(diagnostic: &Diagnostic, sources: &[Source], options: RenderOptions) -> String {
    let source = usize::try_from(diagnostic.source.0).ok().and_then(|i| sources.get(i));
    let window = source.and_then(|s| long_line_window(diagnostic, s));
    let windowed;
    let diagnostic = match (window, source) {
        (Some(window), Some(source)) => {
            windowed = clip_to_window(diagnostic, source, window);
            &windowed
        }
        _ => diagnostic,
    };
    let report = Report { diagnostic, source, named: source.map(|s| NamedText { source: s, window }) };
    let theme =
        if options.colour { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering into a String cannot fail on IO; fall back to the plain form if the renderer refuses.
        out = plain(diagnostic, source);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The byte range `start..end` of the line around `offset` (without its line break).
fn line_around(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    (start, end)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// When some label of `diagnostic` touches a line longer than [`MAX_SNIPPET_LINE`], the window of the primary
/// label's line to draw instead: a byte range on character boundaries, within that one line.
fn long_line_window(diagnostic: &Diagnostic, source: &Source) -> Option<(usize, usize)> {
    let text = source.text.as_str();
    let touches_long_line = std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary).any(|label| {
        let (start, _) = line_around(text, label.span.start);
        let (_, end) = line_around(text, label.span.end.max(label.span.start));
        // A label over several lines touches each of them; any one of them may be the long one.
        text[start..end].split('\n').any(|line| line.len() > MAX_SNIPPET_LINE)
    });
    if !touches_long_line {
        return None;
    }
    let anchor = floor_char_boundary(text, diagnostic.primary.span.start.min(text.len()));
    let (line_start, line_end) = line_around(text, anchor);
    let before = text[line_start..anchor]
        .char_indices()
        .rev()
        .nth(WINDOW_BEFORE - 1)
        .map_or(line_start, |(i, _)| line_start + i);
    let after = text[anchor..line_end].char_indices().nth(WINDOW_AFTER).map_or(line_end, |(i, _)| anchor + i);
    Some((before, after))
}

/// `diagnostic` with its labels clipped to `window`; labels that start outside it become notes with their own
/// `file:line:col`, so no location is lost.
fn clip_to_window(diagnostic: &Diagnostic, source: &Source, (start, end): (usize, usize)) -> Diagnostic {
    let clip = |span: Span| {
        Span::new(span.start.clamp(start, end), span.end.clamp(start, end).max(span.start.clamp(start, end)))
    };
    let mut clipped = diagnostic.clone();
    clipped.primary.span = clip(diagnostic.primary.span);
    clipped.secondary.clear();
    for label in &diagnostic.secondary {
        if (start..=end).contains(&label.span.start) {
            clipped.secondary.push(Label::new(clip(label.span), label.message.clone()));
        } else {
            let (line, col) = source.line_col(label.span.start);
            let what = if label.message.is_empty() { "see also".to_string() } else { label.message.clone() };
            clipped.notes.push(format!("{}:{line}:{col}: {what}", source.name));
        }
    }
    clipped.notes.push("the line is too long to show whole; the snippet shows part of it".to_string());
    clipped
}

/// The one-line form `file:line:col: error[E0102]: message`, used in logs and by `cargo:warning=`.
pub fn plain(diagnostic: &Diagnostic, source: Option<&Source>) -> String {
    let kind = match diagnostic.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    match source {
        Some(source) => {
            let (line, col) = source.line_col(diagnostic.primary.span.start);
            format!("{}:{line}:{col}: {kind}[{}]: {}\n", source.name, diagnostic.code, diagnostic.message)
        }
        None => format!("{kind}[{}]: {}\n", diagnostic.code, diagnostic.message),
    }
}

/// Adapter that presents a [`Diagnostic`] to miette.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<&'a Source>,
    named: Option<NamedText<'a>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The rustc-style headline `error[E0102]: message`; the snippet header below it carries file:line:col.
        let kind = match self.diagnostic.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}[{}]: {}", self.diagnostic.code, self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

/// A source file as miette wants it: named text, or only a window of one long line of it (see
/// [`MAX_SNIPPET_LINE`]), presented with the line and column the window has in the whole file.
struct NamedText<'a> {
    source: &'a Source,
    window: Option<(usize, usize)>,
}

impl miette::SourceCode for NamedText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let text = self.source.text.as_str();
        if let Some((start, end)) = self.window {
            // The window is the whole snippet: no context lines. Line and column are those of the span's start,
            // which is what miette prints in the header.
            let (line, col) = self.source.line_col(span.offset());
            return Ok(Box::new(miette::MietteSpanContents::new_named(
                self.source.name.clone(),
                &text.as_bytes()[start..end],
                (start, end - start).into(),
                line - 1,
                col - 1,
                1,
            )));
        }
        let inner = text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.source.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        // miette has one trailing text block, which it opens with `help: `. The help comes first so that prefix
        // names it; each note follows on its own line as `note: ...`. Without a help the notes stand alone.
        let notes = self.diagnostic.notes.iter().map(|n| format!("note: {n}"));
        let parts: Vec<String> = self.diagnostic.help.iter().cloned().chain(notes).collect();
        if parts.is_empty() { None } else { Some(Box::new(parts.join("\n"))) }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.named.as_ref().map(|named| named as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let source_len = self.source.map_or(0, |s| s.text.len());
        let clamp = move |span: Span| -> miette::SourceSpan {
            let start = span.start.min(source_len);
            let end = span.end.clamp(start, source_len);
            (start, end - start).into()
        };
        let primary = &self.diagnostic.primary;
        let first = miette::LabeledSpan::new_primary_with_span(
            (!primary.message.is_empty()).then(|| primary.message.clone()),
            clamp(primary.span),
        );
        let rest = self.diagnostic.secondary.iter().map(move |label| {
            miette::LabeledSpan::new_with_span(
                (!label.message.is_empty()).then(|| label.message.clone()),
                clamp(label.span),
            )
        });
        Some(Box::new(std::iter::once(first).chain(rest)))
    }
}

#[cfg(test)]
#[allow(clippy::panic, reason = "a test fails loudly on a spec that checks")]
mod tests {
    use super::*;

    /// The repro of issue #18: a syntax error 70,000 columns into a line.
    fn far_right_error() -> (String, crate::CheckError) {
        let text = format!("machine M {{ phases {{ initial A }}{} ? }}", " ".repeat(70_000));
        match crate::check_source("long.machine", text.clone()) {
            Ok(_) => panic!("the spec checks"),
            Err(error) => (text, error),
        }
    }

    #[test]
    fn a_label_past_column_65535_renders_in_a_window_with_its_real_location() {
        let (text, error) = far_right_error();
        let col = text.find('?').map(|i| i + 1).unwrap_or_default();
        assert!(col > 65_535);
        let rendered = error.render(RenderOptions::default());
        assert!(rendered.contains(&format!("[long.machine:1:{col}]")), "{rendered}");
        assert!(rendered.contains('?'), "the snippet shows the offending token: {rendered}");
        assert!(rendered.lines().all(|line| line.chars().count() < 300), "the snippet is a window: {rendered}");
        let displayed = error.to_string();
        assert!(displayed.contains(&format!("long.machine:1:{col}: error[E0001]")), "{displayed}");
    }

    #[test]
    fn a_secondary_label_outside_the_window_becomes_a_note_with_its_location() {
        let text = format!("machine M {{\n  phases {{ initial A }}{}x\n}}", " ".repeat(2_000));
        let source = Source::new("long.machine", text.clone());
        let far = text.find('x').unwrap_or_default();
        let diagnostic =
            Diagnostic::new(Code::Syntax, SourceId(0), "test", Label::new(Span::new(far, far + 1), "here"))
                .with_label(Span::new(2, 9), "machine starts here");
        let rendered = render(&diagnostic, &[source], RenderOptions::default());
        assert!(rendered.contains("[long.machine:2:2023]"), "{rendered}");
        assert!(rendered.contains("long.machine:1:3: machine starts here"), "{rendered}");
    }
}
