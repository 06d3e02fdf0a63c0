//! Parsing: spec text to the spanned AST.
//!
//! The pest grammar (`grammar.pest`) does the recognising; this module lowers its pairs into [`crate::ast`] and
//! turns pest errors into [`Diagnostic`]s that speak the language's terms (`expected \`->\``, `expected a
//! phase name`), never rule names. When a file does not parse, a lenient form of the grammar skips each broken
//! machine item to the next line that starts like an item, and each skipped item is re-parsed alone to report its
//! own precise error, so every broken item of a file is reported in one run.
//!
//! Lowering also does three things the grammar leaves out for speed or safety: it applies operator precedence to
//! the flat operand/operator sequences the grammar reads (and rejects chained comparisons), it rejects reserved
//! words used as names, and it bounds how deeply expressions and `if` statements nest (`MAX_NESTING`, 100
//! levels), so that no later pass can run out of stack on a pathological spec.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::span::{SourceId, Span};

mod grammar {
    //! The pest-derived parser; its `Rule` enum stays private to this module tree.
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    pub(super) struct SpecParser;
}

use grammar::{Rule, SpecParser};

/// Parses one spec file. On failure returns every syntax error found (one per broken item where recovery works).
pub fn parse(text: &str, source: SourceId) -> Result<File, Vec<Diagnostic>> {
    match SpecParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let mut lower =
                Lower { source, text, diagnostics: Vec::new(), nesting: 0, statement_nesting: 0, deep_reported: false };
            let file = pairs.next().map(|pair| lower.file(pair)).unwrap_or(File { items: Vec::new() });
            if lower.diagnostics.is_empty() { Ok(file) } else { Err(lower.diagnostics) }
        }
        Err(_) => Err(syntax_errors(text, source)),
    }
}

/// Collects the syntax errors of a file that failed to parse.
fn syntax_errors(text: &str, source: SourceId) -> Vec<Diagnostic> {
    // Detail tracking makes pest record the literal tokens it expected. It is only switched on here, on the
    // error path, and never off again, so successful parses stay fast and error messages stay deterministic.
    pest::set_error_detail(true);
    let strict = match SpecParser::parse(Rule::file, text) {
        Ok(_) => return Vec::new(),
        Err(error) => diagnostic_from_pest(&error, text, 0, source),
    };
    let Ok(lenient) = SpecParser::parse(Rule::lenient_file, text) else {
        return vec![strict];
    };
    let bad: Vec<(usize, usize)> = lenient
        .flatten()
        .filter(|p| p.as_rule() == Rule::bad_item)
        .map(|p| (p.as_span().start(), p.as_span().end()))
        .collect();
    let mut diagnostics = Vec::new();
    for (index, _) in bad.iter().enumerate() {
        // Blank out every other broken item (keeping newlines, so offsets and lines stay put) and parse the whole
        // file again: the strict parser then reports this item's error with full context.
        let mut isolated = text.as_bytes().to_vec();
        for (other, &(start, end)) in bad.iter().enumerate() {
            if other != index {
                for byte in &mut isolated[start..end] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
            }
        }
        let isolated = String::from_utf8_lossy(&isolated);
        if let Err(error) = SpecParser::parse(Rule::file, &isolated) {
            diagnostics.push(diagnostic_from_pest(&error, &isolated, 0, source));
        }
    }
    if diagnostics.is_empty() {
        diagnostics.push(strict);
    }
    diagnostics.sort_by_key(|d| d.primary.span.start);
    diagnostics.dedup();
    diagnostics
}

/// Translates a pest error at `offset` within the file into a diagnostic.
fn diagnostic_from_pest(error: &pest::error::Error<Rule>, text: &str, offset: usize, source: SourceId) -> Diagnostic {
    let mut pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    // pest stops, rather than overflow its stack, on input nested thousands of levels deep.
    if let pest::error::ErrorVariant::CustomError { message } = &error.variant {
        if message.contains("limit reached") {
            let at = skip_trivia(text, pos);
            return Diagnostic::new(
                Code::Syntax,
                source,
                "the text nests too deeply to parse",
                Label::new(Span::new(offset + at, offset + at), "the parser gave up here"),
            )
            .with_help(format!(
                "expressions and `if` statements may nest at most {MAX_NESTING} levels; split them up with `let` \
                 bindings, named guards or helpers"
            ));
        }
    }
    let mut expected: Vec<String> = Vec::new();
    let mut in_string = false;
    // The detailed attempts sit at the farthest position any alternative reached, which is where the user's
    // text actually went wrong; pest's own `positives` can lag behind at an earlier, still-open expression.
    let attempts = error.parse_attempts().filter(|a| a.max_position >= pos);
    if let Some(attempts) = attempts {
        pos = attempts.max_position;
        // pest does not export its token type; its `Display` is the literal for case-sensitive tokens, `a..z`
        // for character ranges and a placeholder for built-in rules, which are described by their rules instead.
        for token in attempts.expected_tokens() {
            let token = token.to_string();
            let is_range = token.chars().count() == 4 && token.chars().nth(1) == Some('.');
            if token != "BUILTIN_RULE" && !is_range {
                if let Some(described) = describe_token(&token) {
                    expected.push(described);
                }
            }
        }
        // The rule of each attempt says which kind of token was wanted. Only the leaf rules are described: a
        // larger rule (`param`, `target`) may have failed halfway through, where naming it would mislead.
        for stack in attempts.call_stacks() {
            for rule in [stack.deepest.get_rule().copied(), stack.parent].into_iter().flatten() {
                in_string |= matches!(rule, Rule::string | Rule::string_inner);
                if let Some(described) = describe_leaf_rule(rule) {
                    expected.push(described.to_string());
                }
            }
        }
    } else if let pest::error::ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(described) = describe_rule(*rule) {
                expected.push(described.to_string());
            }
        }
    }
    // A name was expected right after a reserved word: the parser read the word as a keyword and then looked
    // for more name characters. Report the reserved word itself, which is what the user has to change.
    if expected.iter().any(|e| e == "a name") {
        if let Some(word) = reserved_word_before(text, pos) {
            let start = pos - word.len();
            return Diagnostic::new(
                Code::Syntax,
                source,
                format!("expected a name, found reserved word `{word}`"),
                Label::new(Span::new(offset + start, offset + pos), "reserved word"),
            )
            .with_help(format!("`{word}` is a reserved word and cannot be used as a name; choose another name"));
        }
    }
    // The text stopped inside a string literal: it runs to the end of its line without a closing quote.
    if in_string && matches!(text.as_bytes().get(pos), None | Some(b'\n' | b'\r')) {
        if let Some(open) = text.get(..pos).and_then(|before| before.rfind('"')) {
            return Diagnostic::new(
                Code::Syntax,
                source,
                "unterminated string literal",
                Label::new(Span::new(offset + open, offset + pos), "this string has no closing `\"`"),
            )
            .with_help("close the string with `\"` on the same line; write `\\n` for a line break inside it");
        }
    }
    // Right after a name or a number, pest also wanted more of its characters; that is never the mistake.
    if text
        .get(..pos)
        .and_then(|before| before.chars().next_back())
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        expected.retain(|e| e != "a name" && e != "a number");
    }
    let pos = skip_trivia(text, pos);
    normalise_expected(&mut expected);
    let found = found_token(text, pos);
    let found_span = Span::new(offset + pos, offset + pos + found.len().max(usize::from(pos < text.len())));
    let found_text = if found.is_empty() { "end of file".to_string() } else { format!("`{found}`") };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {}, found {found_text}", join_or(&expected))
    };
    let mut diagnostic = Diagnostic::new(Code::Syntax, source, message, Label::new(found_span, "unexpected here"));
    // A missing `;` at the end of a line is noticed only at the next line's first token; point at the line the
    // `;` belongs to as well.
    if expected.iter().any(|e| e == "`;`") && !found.is_empty() {
        let before = text.get(..pos).unwrap_or("");
        let previous_end = content_end(before);
        if previous_end > 0 && before[previous_end..].contains('\n') {
            diagnostic = diagnostic.with_label(Span::new(offset + previous_end, offset + previous_end), "add `;` here");
        }
    }
    if let Some(help) = syntax_hint(&expected, &found) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// `text` as a string literal of the language, quoted, with the escapes the parser reads back
/// (`\n \t \r \0 \\ \"`).
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The reserved words: keywords of the grammar that cannot be names.
const RESERVED_WORDS: &[&str] = &[
    "machine",
    "enum",
    "fn",
    "guard",
    "invariant",
    "transition",
    "on",
    "from",
    "any",
    "except",
    "stay",
    "when",
    "otherwise",
    "let",
    "if",
    "else",
    "match",
    "emit",
    "true",
    "false",
    "None",
    "Some",
];

/// The reserved word that ends exactly at `pos`, if the text there is one whole word.
fn reserved_word_before(text: &str, pos: usize) -> Option<&'static str> {
    let before = text.get(..pos)?;
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    RESERVED_WORDS.iter().copied().find(|word| {
        before.ends_with(word) && !before[..pos - word.len()].chars().next_back().is_some_and(is_name_char)
    })
}

/// Describes a literal token pest expected, or `None` for tokens users never need to see (comments).
fn describe_token(token: &str) -> Option<String> {
    match token {
        "//" | "///" | "////" | "/*" | "*/" | "\n" | " " | "\t" | "\r" | "\\" | "\"" => None,
        _ => Some(format!("`{token}`")),
    }
}

/// Describes the leaf rules whose failure means "this kind of token was not there".
fn describe_leaf_rule(rule: Rule) -> Option<&'static str> {
    match rule {
        Rule::ident => Some("a name"),
        Rule::int => Some("a number"),
        Rule::string | Rule::string_inner => Some("a string"),
        _ => None,
    }
}

/// Describes a grammar rule in the language's terms, or `None` for rules that only make noise.
fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::int => "a number",
        Rule::string | Rule::string_inner => "a string",
        Rule::type_expr => "a type",
        Rule::expr
        | Rule::unary
        | Rule::postfix
        | Rule::paren
        | Rule::some_expr
        | Rule::bracket_lit
        | Rule::named
        | Rule::path
        | Rule::if_expr
        | Rule::match_expr
        | Rule::condition => "an expression",
        Rule::machine | Rule::lenient_machine => "`machine`",
        Rule::composition => "`composition`",
        Rule::enum_decl
        | Rule::record_decl
        | Rule::newtype_decl
        | Rule::phases_decl
        | Rule::state_decl
        | Rule::message_decl
        | Rule::helper_decl
        | Rule::guard_decl
        | Rule::invariant_decl
        | Rule::transition_decl
        | Rule::model_decl => "a machine item",
        Rule::phase_decl => "a phase",
        Rule::variant => "a variant",
        Rule::field_decl => "a field",
        Rule::param => "a parameter",
        Rule::sources => "a source phase",
        Rule::target => "a target phase or `stay`",
        Rule::block => "a block",
        Rule::let_stmt | Rule::emit_stmt | Rule::if_stmt | Rule::place_stmt => "a statement",
        Rule::assign_op => "`=`",
        Rule::infix_op => "an operator",
        Rule::pattern | Rule::some_pattern => "a pattern",
        Rule::match_arm => "a match arm",
        Rule::closure => "a closure",
        Rule::route => "`route`",
        Rule::domain_item | Rule::depth_item => "a model setting",
        Rule::EOI => "end of file",
        _ => return None,
    })
}

/// Orders the expected items for a stable message, collapsing long lists into their categories.
fn normalise_expected(expected: &mut Vec<String>) {
    expected.sort();
    expected.dedup();
    let has = |expected: &[String], s: &str| expected.iter().any(|e| e == s);
    // Every skip of whitespace looks for a `/` that starts a comment. A `/` is a real suggestion only as the
    // division operator, which comes with `*` and `%`.
    if !has(expected, "`*`") {
        expected.retain(|e| e != "`/`");
    }
    // Only an expression can start with `(` as well as `None`; only a pattern starts with `None` but not `(`.
    let expression_starts = [
        "`(`", "`[`", "`!`", "`if`", "`match`", "`true`", "`false`", "`None`", "`Some`", "a name", "a number",
        "a string", "`|`",
    ];
    if has(expected, "`None`") && has(expected, "`(`") || has(expected, "an expression") {
        expected.retain(|e| !expression_starts.contains(&e.as_str()));
        expected.push("an expression".to_string());
    } else if has(expected, "`None`") && has(expected, "`Some`") || has(expected, "a pattern") {
        let pattern_starts = ["`None`", "`Some`", "`true`", "`false`", "a name"];
        expected.retain(|e| !pattern_starts.contains(&e.as_str()));
        expected.push("a pattern".to_string());
    }
    if has(expected, "`stay`") && has(expected, "a name") {
        expected.retain(|e| e != "`stay`" && e != "a name");
        expected.push("a phase name or `stay`".to_string());
    }
    if has(expected, "`any`") && has(expected, "a name") {
        expected.retain(|e| e != "`any`" && e != "a name");
        expected.push("a phase name or `any`".to_string());
    }
    // `_` is where a name or a number's digit group may continue, or a wildcard pattern; it is never the useful
    // thing to suggest (patterns are described as a whole above).
    expected.retain(|e| e != "`_`");
    // Operators and keywords that can continue any expression are noise when the user plainly stopped early.
    let continuations = [
        "`||`",
        "`&&`",
        "`==`",
        "`!=`",
        "`<`",
        "`<=`",
        "`>`",
        "`>=`",
        "`+`",
        "`-`",
        "`*`",
        "`/`",
        "`%`",
        "`.`",
        "an operator",
        "`!`",
        "`::`",
        "`(`",
        "`[`",
    ];
    if expected.len() > 6 {
        expected.retain(|e| !continuations.contains(&e.as_str()));
    }
    let item_starts = [
        "`enum`",
        "`record`",
        "`newtype`",
        "`phases`",
        "`state`",
        "`input`",
        "`signal`",
        "`effect`",
        "`internal`",
        "`pure`",
        "`fn`",
        "`guard`",
        "`invariant`",
        "`transition`",
        "`on`",
        "`model`",
        "`///`",
    ];
    let listed_starts = expected.iter().filter(|e| item_starts.contains(&e.as_str())).count();
    if listed_starts >= 4 || has(expected, "a machine item") {
        expected.retain(|e| !item_starts.contains(&e.as_str()) && e != "a machine item");
        expected.push("a machine item".to_string());
    }
    expected.sort();
    expected.dedup();
    if expected.len() > 8 {
        expected.truncate(8);
        expected.push("...".to_string());
    }
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The first position at or after `pos` that is not whitespace or an ordinary comment.
fn skip_trivia(text: &str, mut pos: usize) -> usize {
    loop {
        let rest = text.get(pos..).unwrap_or("");
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.starts_with("//") && !trimmed.starts_with("///") || trimmed.starts_with("////") {
            pos += trimmed.find('\n').unwrap_or(trimmed.len());
        } else if trimmed.starts_with("/*") {
            pos += trimmed.find("*/").map_or(trimmed.len(), |i| i + 2);
        } else {
            return pos;
        }
    }
}

/// The token at `pos`: a word, a number, or one character; empty at the end of the text.
fn found_token(text: &str, pos: usize) -> String {
    let rest = text.get(pos..).unwrap_or("");
    let mut chars = rest.chars();
    match chars.next() {
        None => String::new(),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
        }
        Some(c) => {
            let two: String = rest.chars().take(2).collect();
            if ["->", "=>", "::", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "..", "//"].contains(&two.as_str()) {
                two
            } else {
                c.to_string()
            }
        }
    }
}

/// Hints for the mistakes people make most.
fn syntax_hint(expected: &[String], found: &str) -> Option<String> {
    let has = |s: &str| expected.iter().any(|e| e == s);
    if has("`from`") {
        return Some("a transition names its source phases: `on Trigger from PhaseA, PhaseB -> Target`".into());
    }
    if has("`->`") {
        return Some("a transition names its target after `->`: a phase, or `stay`".into());
    }
    if ["==", "!=", "<", "<=", ">", ">="].contains(&found) {
        return Some("comparisons do not chain: write `a < b && b < c`".into());
    }
    if has("`;`") && !has("a machine item") && !found.is_empty() {
        return Some("statements end with `;` (the last one in a block may omit it)".into());
    }
    if found == "=" && has("`:`") {
        return Some("record fields are written `name: value`".into());
    }
    if found == "=" && !has("`=`") {
        return Some("`=` assigns, in a transition body; to compare two values write `==`".into());
    }
    if found == ".." && has("`..=`") {
        return Some("ranges include their end and are written `low..=high`".into());
    }
    if found.chars().next().is_some_and(|c| !c.is_ascii()) {
        return Some("names are made of ASCII letters, digits and `_`, and do not start with a digit".into());
    }
    None
}

/// Lowers pest pairs to AST nodes, collecting lexical errors (oversized integers, bad escapes) on the way.
struct Lower<'t> {
    source: SourceId,
    text: &'t str,
    diagnostics: Vec<Diagnostic>,
    /// How many expressions enclose the one being lowered.
    nesting: usize,
    /// How many `if` statements enclose the statement being lowered.
    statement_nesting: usize,
    /// Whether the outermost expression being lowered already has its "nests too deeply" error.
    deep_reported: bool,
}

/// How deeply expressions and `if` statements may nest, counted in tree levels (a chain `a && b && c` is two).
/// Checking, the analyses, the interpreter and code generation all recurse over the tree, so the limit keeps each
/// of them within a small stack whatever the input; hand-written specs stay far below it.
const MAX_NESTING: usize = 100;

/// The span of a pair, without trailing whitespace and comments. A rule that ends in an optional part (`";"?`,
/// `block?`) keeps the whitespace pest skipped while looking for it, which would stretch labels over the next lines.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let text = s.as_str();
    if !text.ends_with(|c: char| c.is_whitespace()) {
        return Span::new(s.start(), s.end());
    }
    Span::new(s.start(), s.start() + content_end(text))
}

/// The end of the last character of `text` that is neither whitespace nor part of an ordinary comment.
fn content_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest, as in the grammar.
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth = depth.saturating_sub(1);
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                // A string literal, escapes included; it cannot span lines.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                end = i;
            }
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    // Stepping over escapes may land inside a multi-byte character; spans must sit on character boundaries.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

impl Lower<'_> {
    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut items = Vec::new();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::machine => items.push(TopItem::Machine(self.machine(item))),
                Rule::composition => items.push(TopItem::Composition(self.composition(item))),
                _ => {}
            }
        }
        File { items }
    }

    /// A name; a reserved word in a name's place is reported here (the grammar accepts it as a name).
    fn ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        let span = span_of(&pair);
        let name = pair.as_str();
        if pair.as_rule() == Rule::ident && RESERVED_WORDS.contains(&name) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::Syntax,
                    self.source,
                    format!("expected a name, found reserved word `{name}`"),
                    Label::new(span, "reserved word"),
                )
                .with_help(format!("`{name}` is a reserved word and cannot be used as a name; choose another name")),
            );
        }
        Ident { name: name.to_string(), span }
    }

    fn docs(&self, pair: Pair<'_, Rule>) -> Docs {
        let lines = pair
            .into_inner()
            .map(|doc| {
                let text = doc.as_str().trim_start_matches("///");
                let text = text.strip_prefix(' ').unwrap_or(text);
                text.trim_end().to_string()
            })
            .collect();
        Docs { lines }
    }

    fn machine(&mut self, pair: Pair<'_, Rule>) -> Machine {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let items = inner.filter_map(|item| self.machine_item(item)).collect();
        Machine { docs, name, items, span }
    }

    fn machine_item(&mut self, pair: Pair<'_, Rule>) -> Option<MachineItem> {
        Some(match pair.as_rule() {
            Rule::enum_decl => MachineItem::Enum(self.enum_decl(pair)),
            Rule::record_decl => MachineItem::Record(self.record_decl(pair)),
            Rule::newtype_decl => MachineItem::Newtype(self.newtype_decl(pair)),
            Rule::phases_decl => MachineItem::Phases(self.phases_decl(pair)),
            Rule::state_decl => MachineItem::State(self.state_decl(pair)),
            Rule::message_decl => MachineItem::Message(self.message_decl(pair)),
            Rule::helper_decl => MachineItem::Helper(self.helper_decl(pair)),
            Rule::guard_decl => {
                let (docs, name, expr, span) = self.named_expr(pair);
                MachineItem::Guard(GuardDecl { docs, name, expr, span })
            }
            Rule::invariant_decl => {
                let (docs, name, expr, span) = self.named_expr(pair);
                MachineItem::Invariant(InvariantDecl { docs, name, expr, span })
            }
            Rule::transition_decl => MachineItem::Transition(self.transition(pair)),
            Rule::model_decl => MachineItem::Model(self.model(pair)),
            _ => return None,
        })
    }

    fn enum_decl(&mut self, pair: Pair<'_, Rule>) -> EnumDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let variants = inner
            .map(|v| {
                let mut parts = v.into_inner();
                let docs = parts.next().map(|p| self.docs(p)).unwrap_or_default();
                let name = parts.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                Variant { docs, name }
            })
            .collect();
        EnumDecl { docs, name, variants, span }
    }

    fn record_decl(&mut self, pair: Pair<'_, Rule>) -> RecordDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let fields = inner.map(|f| self.field_decl(f)).collect();
        RecordDecl { docs, name, fields, span }
    }

    fn newtype_decl(&mut self, pair: Pair<'_, Rule>) -> NewtypeDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let inner_ty = inner.next().map(|p| self.type_expr(p)).unwrap_or_else(|| missing_type(span));
        NewtypeDecl { docs, name, inner: inner_ty, span }
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let args = inner.map(|a| self.type_expr(a)).collect();
        TypeExpr { name, args, span }
    }

    fn field_decl(&mut self, pair: Pair<'_, Rule>) -> FieldDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let ty = inner.next().map(|p| self.type_expr(p)).unwrap_or_else(|| missing_type(span));
        let default = inner.next().map(|p| self.expr(p));
        FieldDecl { docs, name, ty, default, span }
    }

    fn phases_decl(&mut self, pair: Pair<'_, Rule>) -> PhasesDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut field = None;
        let mut phases = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::ident => field = Some(self.ident(part)),
                Rule::phase_decl => {
                    let mut phase_docs = Docs::default();
                    let mut kind = PhaseKind::Normal;
                    let mut kind_span = None;
                    let mut name = missing(span_of(&part));
                    for piece in part.into_inner() {
                        match piece.as_rule() {
                            Rule::docs => phase_docs = self.docs(piece),
                            Rule::initial_kw => {
                                kind = PhaseKind::Initial;
                                kind_span = Some(span_of(&piece));
                            }
                            Rule::terminal_kw => {
                                kind = PhaseKind::Terminal;
                                kind_span = Some(span_of(&piece));
                            }
                            Rule::ident => name = self.ident(piece),
                            _ => {}
                        }
                    }
                    phases.push(PhaseDecl { docs: phase_docs, kind, kind_span, name });
                }
                _ => {}
            }
        }
        PhasesDecl { docs, field, phases, span }
    }

    fn state_decl(&mut self, pair: Pair<'_, Rule>) -> StateDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let fields = inner.map(|f| self.field_decl(f)).collect();
        StateDecl { docs, fields, span }
    }

    fn message_decl(&mut self, pair: Pair<'_, Rule>) -> MessageDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut kind = MessageKind::Input;
        let mut internal = None;
        let mut pure_ = None;
        let mut name = missing(span);
        let mut fields = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::internal_kw => internal = Some(span_of(&part)),
                Rule::pure_kw => pure_ = Some(span_of(&part)),
                Rule::input_kw => kind = MessageKind::Input,
                Rule::signal_kw => kind = MessageKind::Signal,
                Rule::effect_kw => kind = MessageKind::Effect,
                Rule::ident => name = self.ident(part),
                Rule::message_fields => fields = part.into_inner().map(|f| self.field_decl(f)).collect(),
                _ => {}
            }
        }
        MessageDecl { docs, kind, internal, pure_, name, fields, span }
    }

    fn helper_decl(&mut self, pair: Pair<'_, Rule>) -> HelperDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut name = missing(span);
        let mut params = Vec::new();
        let mut ret = missing_type(span);
        let mut body = missing_expr(span);
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::ident => name = self.ident(part),
                Rule::param => {
                    let mut p = part.into_inner();
                    let pname = p.next().map(|x| self.ident(x)).unwrap_or_else(|| missing(span));
                    let ty = p.next().map(|x| self.type_expr(x)).unwrap_or_else(|| missing_type(span));
                    params.push(Param { name: pname, ty });
                }
                Rule::type_expr => ret = self.type_expr(part),
                Rule::expr => body = self.expr(part),
                _ => {}
            }
        }
        HelperDecl { docs, name, params, ret, body, span }
    }

    fn named_expr(&mut self, pair: Pair<'_, Rule>) -> (Docs, Ident, Expr, Span) {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let expr = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
        (docs, name, expr, span)
    }

    fn transition(&mut self, pair: Pair<'_, Rule>) -> TransitionDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut name = None;
        let mut trigger = missing(span);
        let mut sources = Sources { items: Vec::new(), except: Vec::new(), span };
        let mut target = Target::Stay(span);
        let mut dispatch = Dispatch::Always;
        let mut body = None;
        let mut header_start = None;
        let mut header_end = span.start;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::transition_name => {
                    header_start.get_or_insert(span_of(&part).start);
                    name = part.into_inner().next().map(|p| self.ident(p));
                }
                Rule::ident => {
                    // The keyword `on` sits just before the trigger; the header starts there when unnamed.
                    let ident_span = span_of(&part);
                    let on_start = self.text[..ident_span.start].trim_end().len().saturating_sub(2);
                    header_start.get_or_insert(on_start);
                    trigger = self.ident(part);
                }
                Rule::sources => sources = self.sources(part),
                Rule::target => {
                    header_end = span_of(&part).end;
                    target = self.target(part);
                }
                Rule::otherwise_kw => dispatch = Dispatch::Otherwise(span_of(&part)),
                Rule::when => dispatch = Dispatch::When(part.into_inner().map(|e| self.expr(e)).collect()),
                Rule::block => body = Some(self.block(part)),
                _ => {}
            }
        }
        let header_span = Span::new(header_start.unwrap_or(span.start), header_end.max(span.start));
        TransitionDecl { docs, name, trigger, sources, target, dispatch, body, header_span, span }
    }

    fn sources(&mut self, pair: Pair<'_, Rule>) -> Sources {
        let span = span_of(&pair);
        let mut items = Vec::new();
        let mut except = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::any_kw => items.push(SourceItem::Any(span_of(&part))),
                Rule::ident => items.push(SourceItem::Phase(self.ident(part))),
                Rule::except => except = part.into_inner().map(|p| self.ident(p)).collect(),
                _ => {}
            }
        }
        Sources { items, except, span }
    }

    fn target(&mut self, pair: Pair<'_, Rule>) -> Target {
        let span = span_of(&pair);
        match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::expr => {
                let expr = self.expr(p);
                // A bare name is a phase by name; anything else computes the phase.
                match expr.kind {
                    ExprKind::Name(ident) => Target::Phase(ident),
                    _ => Target::Computed(expr),
                }
            }
            _ => Target::Stay(span),
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = span_of(&pair);
        let stmts = pair.into_inner().filter_map(|s| self.stmt(s)).collect();
        Block { stmts, span }
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> Option<Stmt> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::let_stmt => {
                let mut name = missing(span);
                let mut ty = None;
                let mut value = missing_expr(span);
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::ident => name = self.ident(part),
                        Rule::type_expr => ty = Some(self.type_expr(part)),
                        Rule::expr => value = self.expr(part),
                        _ => {}
                    }
                }
                StmtKind::Let { name, ty, value }
            }
            Rule::emit_stmt => {
                let mut effect = missing(span);
                let mut fields = Vec::new();
                let mut fields_span = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::ident => effect = self.ident(part),
                        Rule::emit_fields => {
                            fields_span = Some(span_of(&part));
                            for field in part.into_inner() {
                                let mut f = field.into_inner();
                                let name = f.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                                let value = f.next().map(|p| self.expr(p));
                                fields.push(EmitField { name, value });
                            }
                        }
                        _ => {}
                    }
                }
                StmtKind::Emit { effect, fields, fields_span }
            }
            Rule::if_stmt => {
                if self.statement_nesting >= MAX_NESTING {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::Syntax,
                            self.source,
                            format!("`if` statements nest more than {MAX_NESTING} levels deep"),
                            Label::new(Span::new(span.start, span.start), "too deep here"),
                        )
                        .with_help("split the body up, or move conditions into named guards"),
                    );
                    return None;
                }
                self.statement_nesting += 1;
                let kind = self.if_stmt(pair, span);
                self.statement_nesting -= 1;
                kind
            }
            Rule::place_stmt => {
                let mut inner = pair.into_inner();
                let mut place = inner.next().map(|p| self.place(p)).unwrap_or_else(|| missing_place(span));
                match inner.peek() {
                    Some(op_pair) if op_pair.as_rule() == Rule::assign_op => {
                        let op_span = span_of(&op_pair);
                        let op = match op_pair.as_str() {
                            "+=" => AssignOp::Add,
                            "-=" => AssignOp::Sub,
                            _ => AssignOp::Set,
                        };
                        inner.next();
                        let value = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                        StmtKind::Assign { place, op, op_span, value }
                    }
                    _ => {
                        let args = inner.map(|a| self.expr(a)).collect();
                        // The grammar reads `a.b.insert` as one place; its last segment is the operation.
                        let method = place.path.pop().unwrap_or_else(|| place.root.clone());
                        StmtKind::Call { place, method, args }
                    }
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span })
    }

    /// `if cond { .. } else if .. else { .. }`; an `else if` is lowered as an `else` block holding one `if`.
    fn if_stmt(&mut self, pair: Pair<'_, Rule>, span: Span) -> StmtKind {
        let mut cond = None;
        let mut then = None;
        let mut else_ = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::condition => cond = Some(self.condition(part)),
                Rule::block if then.is_none() => then = Some(self.block(part)),
                Rule::block => else_ = Some(self.block(part)),
                Rule::if_stmt => {
                    let nested_span = span_of(&part);
                    else_ = self.stmt(part).map(|stmt| Block { stmts: vec![stmt], span: nested_span });
                }
                _ => {}
            }
        }
        StmtKind::If {
            cond: cond.unwrap_or_else(|| Condition { pattern: None, expr: missing_expr(span) }),
            then: then.unwrap_or(Block { stmts: Vec::new(), span }),
            else_,
        }
    }

    fn place(&mut self, pair: Pair<'_, Rule>) -> Place {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let root = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let path = inner.map(|p| self.ident(p)).collect();
        Place { root, path, span }
    }

    fn condition(&mut self, pair: Pair<'_, Rule>) -> Condition {
        let span = span_of(&pair);
        let mut pattern = None;
        let mut expr = missing_expr(span);
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::let_pattern => pattern = part.into_inner().next().map(|p| self.pattern(p)),
                Rule::expr => expr = self.expr(part),
                _ => {}
            }
        }
        Condition { pattern, expr }
    }

    fn pattern(&mut self, pair: Pair<'_, Rule>) -> Pattern {
        let span = span_of(&pair);
        let kind = match pair.into_inner().next() {
            Some(p) => match p.as_rule() {
                Rule::wildcard => PatternKind::Wildcard,
                Rule::none_kw => PatternKind::None,
                Rule::true_kw => PatternKind::Bool(true),
                Rule::false_kw => PatternKind::Bool(false),
                Rule::some_pattern => {
                    let bound = p.into_inner().next().filter(|b| b.as_rule() == Rule::ident).map(|b| self.ident(b));
                    PatternKind::Some(bound)
                }
                Rule::path => {
                    let mut parts: Vec<Ident> = p.into_inner().map(|i| self.ident(i)).collect();
                    let last = parts.pop().unwrap_or_else(|| missing(span));
                    PatternKind::Variant(parts.pop(), last)
                }
                _ => PatternKind::Wildcard,
            },
            None => PatternKind::Wildcard,
        };
        Pattern { kind, span }
    }

    fn model(&mut self, pair: Pair<'_, Rule>) -> ModelDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut items = Vec::new();
        for part in pair.into_inner() {
            let item_span = span_of(&part);
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::depth_item => {
                    let value = part.into_inner().next().map_or(0, |p| self.int(&p));
                    items.push(ModelItem::Depth { value, span: item_span });
                }
                Rule::domain_item => {
                    let mut inner = part.into_inner();
                    let mut target = missing(item_span);
                    let mut field = None;
                    if let Some(t) = inner.next() {
                        let mut names = t.into_inner();
                        if let Some(n) = names.next() {
                            target = self.ident(n);
                        }
                        field = names.next().map(|n| self.ident(n));
                    }
                    let values = match inner.next().and_then(|v| v.into_inner().next()) {
                        Some(v) if v.as_rule() == Rule::range => {
                            let vspan = span_of(&v);
                            let mut ends = v.into_inner();
                            let lo = ends.next().map_or(0, |p| self.int(&p));
                            let hi = ends.next().map_or(0, |p| self.int(&p));
                            DomainValues::Range(lo, hi, vspan)
                        }
                        Some(v) => {
                            let vspan = span_of(&v);
                            let values = v
                                .into_inner()
                                .filter(|i| i.as_rule() == Rule::bracket_item)
                                .filter_map(|i| i.into_inner().next().map(|e| self.expr(e)))
                                .collect();
                            DomainValues::List(values, vspan)
                        }
                        None => DomainValues::List(Vec::new(), item_span),
                    };
                    items.push(ModelItem::Domain { target, field, values, span: item_span });
                }
                _ => {}
            }
        }
        ModelDecl { docs, items, span }
    }

    fn composition(&mut self, pair: Pair<'_, Rule>) -> Composition {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut name = missing(span);
        let mut routes = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::ident => name = self.ident(part),
                Rule::route => routes.push(self.route(part)),
                _ => {}
            }
        }
        Composition { docs, name, routes, span }
    }

    fn route(&mut self, pair: Pair<'_, Rule>) -> Route {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut endpoints = Vec::new();
        let mut fields = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::endpoint => {
                    let mut names = part.into_inner();
                    let machine = names.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                    let message = names.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                    endpoints.push((machine, message));
                }
                Rule::record_fields_or_empty => {
                    for field in part.into_inner() {
                        fields.push(self.record_field(field, span));
                    }
                }
                _ => {}
            }
        }
        let mut endpoints = endpoints.into_iter();
        let (from_machine, from_effect) = endpoints.next().unwrap_or_else(|| (missing(span), missing(span)));
        let (to_machine, to_message) = endpoints.next().unwrap_or_else(|| (missing(span), missing(span)));
        Route { docs, from_machine, from_effect, to_machine, to_message, fields, span }
    }

    fn record_field(&mut self, pair: Pair<'_, Rule>, fallback: Span) -> (Ident, Expr) {
        let mut f = pair.into_inner();
        let name = f.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(fallback));
        let value = f.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(fallback));
        (name, value)
    }

    fn int(&mut self, pair: &Pair<'_, Rule>) -> u64 {
        let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
        match digits.parse::<u64>() {
            Ok(v) => v,
            Err(_) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::IntegerTooLarge,
                        self.source,
                        "integer literal is too large for a u64",
                        Label::new(span_of(pair), "does not fit in 64 bits"),
                    )
                    .with_help(format!("the largest u64 is {}", u64::MAX)),
                );
                0
            }
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let inner = pair.into_inner().next();
        let Some(inner) = inner else { return String::new() };
        let raw = inner.as_str();
        let base = inner.as_span().start();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '0')) => out.push('\0'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((j, other)) => {
                    let span = Span::new(base + i, base + j + other.len_utf8());
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidEscape,
                            self.source,
                            format!("unknown escape `\\{other}` in string literal"),
                            Label::new(span, "unknown escape"),
                        )
                        .with_help("the escapes are `\\n`, `\\t`, `\\r`, `\\0`, `\\\\` and `\\\"`"),
                    );
                }
                None => {}
            }
        }
        out
    }

    /// Lowers an expression. The outermost call of an expression also checks the depth of the finished tree.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let pair = skip_wrappers(pair);
        let span = span_of(&pair);
        let outermost = self.nesting == 0;
        if outermost {
            self.deep_reported = false;
        }
        if self.nesting >= MAX_NESTING {
            self.too_deep(span);
            return missing_expr(span);
        }
        self.nesting += 1;
        let e = self.expr_node(pair);
        self.nesting -= 1;
        if outermost {
            if let Some(deep) = first_too_deep(&e) {
                self.too_deep(deep);
                return missing_expr(e.span);
            }
        }
        e
    }

    /// Reports, once per outermost expression, that an expression nests beyond [`MAX_NESTING`].
    fn too_deep(&mut self, span: Span) {
        if self.deep_reported {
            return;
        }
        self.deep_reported = true;
        self.diagnostics.push(
            Diagnostic::new(
                Code::Syntax,
                self.source,
                format!("this expression nests more than {MAX_NESTING} levels deep"),
                Label::new(Span::new(span.start, span.start), "too deep here"),
            )
            .with_help("split it up with `let` bindings, named guards or helpers"),
        );
    }

    fn expr_node(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::expr => self.binary_chain(pair),
            Rule::unary => {
                let mut nots = Vec::new();
                let mut operand = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::not_op => nots.push(span_of(&part)),
                        _ => operand = Some(self.expr(part)),
                    }
                }
                if nots.len() > MAX_NESTING {
                    self.too_deep(span);
                    return missing_expr(span);
                }
                let mut e = operand.unwrap_or_else(|| missing_expr(span));
                for not_span in nots.into_iter().rev() {
                    let s = not_span.to(e.span);
                    e = Expr { kind: ExprKind::Not(Box::new(e)), span: s };
                }
                e
            }
            Rule::postfix => {
                if pair.clone().into_inner().count() > MAX_NESTING {
                    self.too_deep(span);
                    return missing_expr(span);
                }
                let mut inner = pair.into_inner();
                let mut e = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                for op in inner {
                    let op_span = span_of(&op);
                    match op.as_rule() {
                        Rule::method_call => {
                            let mut parts = op.into_inner();
                            let method = parts.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(op_span));
                            let args = parts.map(|a| self.arg(a)).collect();
                            let s = e.span.to(op_span);
                            e = Expr { kind: ExprKind::Method { recv: Box::new(e), method, args }, span: s };
                        }
                        Rule::field_access => {
                            let field =
                                op.into_inner().next().map(|p| self.ident(p)).unwrap_or_else(|| missing(op_span));
                            let s = e.span.to(op_span);
                            e = Expr { kind: ExprKind::Field(Box::new(e), field), span: s };
                        }
                        _ => {}
                    }
                }
                e
            }
            Rule::paren => {
                let inner = pair.into_inner().next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                Expr { kind: ExprKind::Paren(Box::new(inner)), span }
            }
            Rule::true_kw => Expr { kind: ExprKind::Bool(true), span },
            Rule::false_kw => Expr { kind: ExprKind::Bool(false), span },
            Rule::none_kw => Expr { kind: ExprKind::None, span },
            Rule::int => Expr { kind: ExprKind::Int(self.int(&pair)), span },
            Rule::string => Expr { kind: ExprKind::Str(self.string(pair)), span },
            Rule::some_expr => {
                let inner = pair.into_inner().next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                Expr { kind: ExprKind::Some(Box::new(inner)), span }
            }
            Rule::bracket_lit => {
                let mut items = Vec::new();
                let mut empty_map = false;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::empty_map => empty_map = true,
                        Rule::bracket_item => {
                            let mut kv = part.into_inner();
                            let key = kv.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                            let value = kv.next().map(|p| self.expr(p));
                            items.push((key, value));
                        }
                        _ => {}
                    }
                }
                Expr { kind: ExprKind::Bracket { items, empty_map }, span }
            }
            Rule::named => {
                let mut inner = pair.into_inner();
                let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                let kind = match inner.next() {
                    None => ExprKind::Name(name),
                    Some(tail) => match tail.as_rule() {
                        Rule::record_body => {
                            ExprKind::Record(name, tail.into_inner().map(|f| self.record_field(f, span)).collect())
                        }
                        Rule::call_args => ExprKind::Call(name, tail.into_inner().map(|a| self.expr(a)).collect()),
                        _ => {
                            let variant =
                                tail.into_inner().next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                            ExprKind::Path(name, variant)
                        }
                    },
                };
                Expr { kind, span }
            }
            Rule::if_expr => {
                let mut cond = None;
                let mut exprs = Vec::new();
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::condition => cond = Some(self.condition(part)),
                        _ => exprs.push(self.expr(part)),
                    }
                }
                let mut exprs = exprs.into_iter();
                let then = exprs.next().unwrap_or_else(|| missing_expr(span));
                let else_ = exprs.next().unwrap_or_else(|| missing_expr(span));
                let cond = cond.unwrap_or_else(|| Condition { pattern: None, expr: missing_expr(span) });
                Expr { kind: ExprKind::If { cond: Box::new(cond), then: Box::new(then), else_: Box::new(else_) }, span }
            }
            Rule::match_expr => {
                let mut inner = pair.into_inner();
                let scrutinee = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                let arms = inner
                    .map(|arm| {
                        let arm_span = span_of(&arm);
                        let mut patterns = Vec::new();
                        let mut body = missing_expr(arm_span);
                        for part in arm.into_inner() {
                            match part.as_rule() {
                                Rule::pattern => patterns.push(self.pattern(part)),
                                _ => body = self.expr(part),
                            }
                        }
                        MatchArm { patterns, body, span: arm_span }
                    })
                    .collect();
                Expr { kind: ExprKind::Match { scrutinee: Box::new(scrutinee), arms }, span }
            }
            _ => missing_expr(span),
        }
    }

    fn arg(&mut self, pair: Pair<'_, Rule>) -> Arg {
        let span = span_of(&pair);
        if pair.as_rule() == Rule::closure {
            let mut params = Vec::new();
            let mut body = missing_expr(span);
            for part in pair.into_inner() {
                match part.as_rule() {
                    Rule::ident => params.push(self.ident(part)),
                    _ => body = self.expr(part),
                }
            }
            Arg::Closure { params, body, span }
        } else {
            Arg::Expr(self.expr(pair))
        }
    }

    /// Builds the tree of `a op b op c ...` with the operators' precedence, all left-associative; reports a chained
    /// comparison (`a < b < c`), which has no meaning here.
    fn binary_chain(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        // Operands and operators alternate.
        if pair.clone().into_inner().count() > 2 * MAX_NESTING {
            self.too_deep(span);
            return missing_expr(span);
        }
        let mut operands: Vec<Expr> = Vec::new();
        let mut operators: Vec<(BinOp, Span)> = Vec::new();
        for part in pair.into_inner() {
            if part.as_rule() != Rule::infix_op {
                let operand = self.expr(part);
                operands.push(operand);
                continue;
            }
            // The grammar's `infix_op` rule lists exactly the operators' spellings.
            let op = BinOp::from_text(part.as_str()).unwrap_or(BinOp::Rem);
            let op_span = span_of(&part);
            // Reduce what binds at least as tightly (left associativity) before pushing the new operator.
            while let Some(&(top, top_span)) = operators.last() {
                if top.precedence() < op.precedence() {
                    break;
                }
                if top.precedence() == BinOp::COMPARISON && op.precedence() == BinOp::COMPARISON {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::Syntax,
                            self.source,
                            "comparison operators cannot be chained",
                            Label::new(op_span, "second comparison"),
                        )
                        .with_label(top_span, "first comparison")
                        .with_help("write `a < b && b < c`, or use parentheses if a `bool` is meant to be compared"),
                    );
                }
                operators.pop();
                reduce(&mut operands, top, top_span);
            }
            operators.push((op, op_span));
        }
        while let Some((op, op_span)) = operators.pop() {
            reduce(&mut operands, op, op_span);
        }
        operands.pop().unwrap_or_else(|| missing_expr(span))
    }
}

/// Skips the grammar rules that hold a single child (`expr` > `unary` > `postfix` around a lone primary), so
/// lowering recurses once per level of the tree rather than once per grammar rule.
fn skip_wrappers(mut pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    loop {
        let wrapper = matches!(pair.as_rule(), Rule::expr | Rule::unary | Rule::postfix);
        if !wrapper {
            return pair;
        }
        let mut inner = pair.clone().into_inner();
        match (inner.next(), inner.next()) {
            (Some(only), None) => pair = only,
            _ => return pair,
        }
    }
}

/// The span of the first node deeper than [`MAX_NESTING`] levels in an expression tree, found without recursion.
fn first_too_deep(root: &Expr) -> Option<Span> {
    let mut stack: Vec<(&Expr, usize)> = vec![(root, 1)];
    while let Some((e, depth)) = stack.pop() {
        if depth > MAX_NESTING {
            return Some(e.span);
        }
        let next = depth + 1;
        match &e.kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Str(_)
            | ExprKind::None
            | ExprKind::Name(_)
            | ExprKind::Path(..) => {}
            ExprKind::Some(inner) | ExprKind::Not(inner) | ExprKind::Paren(inner) | ExprKind::Field(inner, _) => {
                stack.push((inner, next));
            }
            ExprKind::Call(_, args) => stack.extend(args.iter().map(|a| (a, next))),
            ExprKind::Record(_, fields) => stack.extend(fields.iter().map(|(_, v)| (v, next))),
            ExprKind::Bracket { items, .. } => {
                for (key, value) in items {
                    stack.push((key, next));
                    stack.extend(value.iter().map(|v| (v, next)));
                }
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push((lhs, next));
                stack.push((rhs, next));
            }
            ExprKind::Method { recv, args, .. } => {
                stack.push((recv, next));
                for arg in args {
                    match arg {
                        Arg::Expr(a) => stack.push((a, next)),
                        Arg::Closure { body, .. } => stack.push((body, next)),
                    }
                }
            }
            ExprKind::If { cond, then, else_ } => {
                stack.push((&cond.expr, next));
                stack.push((then, next));
                stack.push((else_, next));
            }
            ExprKind::Match { scrutinee, arms } => {
                stack.push((scrutinee, next));
                stack.extend(arms.iter().map(|arm| (&arm.body, next)));
            }
        }
    }
    None
}

/// Replaces the two topmost operands by their combination with `op`.
fn reduce(operands: &mut Vec<Expr>, op: BinOp, op_span: Span) {
    let rhs = operands.pop();
    let lhs = operands.pop();
    let (lhs, rhs) = match (lhs, rhs) {
        (Some(lhs), Some(rhs)) => (lhs, rhs),
        // The grammar alternates operands and operators, so both are there; keep whatever is left regardless.
        (lhs, rhs) => (lhs.unwrap_or_else(|| missing_expr(op_span)), rhs.unwrap_or_else(|| missing_expr(op_span))),
    };
    let span = lhs.span.to(rhs.span);
    operands.push(Expr { kind: ExprKind::Binary { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span });
}

fn missing(span: Span) -> Ident {
    Ident { name: String::new(), span }
}

fn missing_type(span: Span) -> TypeExpr {
    TypeExpr { name: missing(span), args: Vec::new(), span }
}

fn missing_expr(span: Span) -> Expr {
    Expr { kind: ExprKind::Bool(false), span }
}

fn missing_place(span: Span) -> Place {
    Place { root: missing(span), path: Vec::new(), span }
}

#[cfg(test)]
#[allow(clippy::panic, reason = "a test fails loudly on a spec that does not parse")]
mod tests {
    use super::*;

    /// The expression of `invariant i = <text>`, printed with explicit parentheses.
    fn shape(text: &str) -> String {
        fn show(e: &Expr) -> String {
            match &e.kind {
                ExprKind::Binary { op, lhs, rhs, .. } => format!("({} {} {})", show(lhs), op.as_str(), show(rhs)),
                ExprKind::Not(inner) => format!("!{}", show(inner)),
                ExprKind::Paren(inner) => show(inner),
                ExprKind::Name(n) => n.name.clone(),
                ExprKind::Int(n) => n.to_string(),
                other => format!("{other:?}"),
            }
        }
        let spec = format!("machine M {{ phases {{ initial A }} invariant i = {text} }}");
        let file = parse(&spec, SourceId(0)).unwrap_or_else(|d| panic!("{text}: {d:?}"));
        let Some(TopItem::Machine(machine)) = file.items.first() else { panic!("no machine") };
        let Some(MachineItem::Invariant(invariant)) = machine.items.get(1) else { panic!("no invariant") };
        show(&invariant.expr)
    }

    #[test]
    fn string_literals_read_back_as_written() {
        for text in ["", "plain", "tab\tand\nnewline", "quote \" and backslash \\", "nul \0 cr \r", "héllo"] {
            let spec =
                format!("machine M {{ phases {{ initial A }} state {{ s: String = {} }} }}", string_literal(text));
            let file = parse(&spec, SourceId(0)).unwrap_or_else(|d| panic!("{spec}: {d:?}"));
            let Some(TopItem::Machine(machine)) = file.items.first() else { panic!("no machine") };
            let Some(MachineItem::State(state)) = machine.items.get(1) else { panic!("no state block in {spec}") };
            let init = state.fields.first().and_then(|f| f.default.as_ref()).map(|e| &e.kind);
            assert!(matches!(init, Some(ExprKind::Str(read)) if read == text), "{spec} read back as {init:?}");
        }
    }

    #[test]
    fn operators_bind_by_precedence_and_associate_left() {
        assert_eq!(shape("a || b && c"), "(a || (b && c))");
        assert_eq!(shape("a && b || c"), "((a && b) || c)");
        assert_eq!(shape("a == b + c * d"), "(a == (b + (c * d)))");
        assert_eq!(shape("a - b - c"), "((a - b) - c)");
        assert_eq!(shape("a / b * c % d"), "(((a / b) * c) % d)");
        assert_eq!(shape("a + b < c * d && !e || f != g"), "((((a + b) < (c * d)) && !e) || (f != g))");
        assert_eq!(shape("(a || b) && c"), "((a || b) && c)");
        assert_eq!(shape("a < (b < c)"), "(a < (b < c))");
    }

    #[test]
    fn comparisons_do_not_chain() {
        let spec = "machine M { phases { initial A } invariant i = a < b <= c }";
        let errors = parse(spec, SourceId(0)).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "comparison operators cannot be chained");
        assert_eq!(errors[0].primary.span.text(spec), "<=");
    }

    #[test]
    fn spans_do_not_cover_trailing_whitespace_or_comments() {
        let text = "a = 1 // note\n  /* block /* nested */ */ \n";
        assert_eq!(content_end(text), 5);
        assert_eq!(content_end("\"x // y\"  "), 8);
        assert_eq!(content_end("   "), 0);
    }
}
