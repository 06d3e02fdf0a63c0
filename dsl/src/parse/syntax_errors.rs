//! Syntax errors: translating pest's failures into diagnostics in the language's terms (`expected \`->\``,
//! `expected a phase name`), never rule names, with hints for the common mistakes. When a file does not parse, a
//! lenient form of the grammar skips each broken machine item to the next line that starts like an item, and
//! each skipped item is re-parsed alone to report its own precise error, so every broken item of a file is
//! reported in one run.

use pest::Parser as _;

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::MAX_TYPE_DEPTH;
use crate::span::{SourceId, Span};

use super::grammar::{MAX_NESTING, RESERVED_WORDS, Rule, SpecParser, content_end};

/// Collects the syntax errors of a file that failed to parse.
pub(super) fn syntax_errors(text: &str, source: SourceId) -> Vec<Diagnostic> {
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
    // Each broken item, from the start of the item it breaks: an item that parsed up to a point (a transition
    // without its block) leaves the rest as the bad item, and the rest alone is not what the user wrote.
    let mut bad: Vec<(usize, usize)> = Vec::new();
    for machine in lenient.flatten().filter(|p| p.as_rule() == Rule::lenient_machine) {
        let mut previous: Option<(usize, usize)> = None;
        for part in machine.into_inner() {
            let (start, end) = (part.as_span().start(), part.as_span().end());
            match part.as_rule() {
                Rule::bad_item => {
                    let joined = previous
                        .filter(|&(_, prev_end)| text.get(prev_end..start).is_some_and(|gap| gap.trim().is_empty()));
                    bad.push((joined.map_or(start, |(prev_start, _)| prev_start), end));
                    previous = None;
                }
                Rule::ident | Rule::docs | Rule::composition => previous = None,
                _ => previous = Some((start, end)),
            }
        }
    }
    // Machine items do not depend on each other's syntax, so each broken item is parsed again on its own, inside
    // a machine of its own, and its error moved back to where the item sits: the work is linear in the file.
    let mut diagnostics = Vec::new();
    for &(start, end) in &bad {
        let item = text.get(start..end).unwrap_or("");
        let alone = format!("{ALONE_PREFIX}{item}\n}}");
        if let Err(error) = SpecParser::parse(Rule::file, &alone) {
            let diagnostic = diagnostic_from_pest(&error, &alone, 0, source);
            diagnostics.push(moved_back(diagnostic, text, start));
        }
    }
    if diagnostics.is_empty() {
        diagnostics.push(strict);
    }
    diagnostics.sort_by_key(|d| d.primary.span.start);
    diagnostics.dedup();
    diagnostics
}

/// The machine a broken item is parsed in when it is parsed alone.
const ALONE_PREFIX: &str = "machine M {\n";

/// A diagnostic found in `ALONE_PREFIX + item + "\n}"`, with its spans moved to the item's place at `start` in
/// `text` (a span in the closing `}` lands at the item's end, clamped to the text).
fn moved_back(mut diagnostic: Diagnostic, text: &str, start: usize) -> Diagnostic {
    let place = |offset: usize| {
        let mut at = (start + offset.saturating_sub(ALONE_PREFIX.len())).min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let mv = |span: Span| Span::new(place(span.start), place(span.end));
    diagnostic.primary.span = mv(diagnostic.primary.span);
    for label in &mut diagnostic.secondary {
        label.span = mv(label.span);
    }
    diagnostic
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
                "expressions and `if` statements may nest at most {MAX_NESTING} levels and types {MAX_TYPE_DEPTH}; \
                 split expressions up with `let` bindings, named guards or helpers, and name parts of types"
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
    if let Some(help) = syntax_hint(&expected, &found, text, pos) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

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

/// Hints for the mistakes people make most; `pos` is where `found` starts in `text`.
fn syntax_hint(expected: &[String], found: &str, text: &str, pos: usize) -> Option<String> {
    let has = |s: &str| expected.iter().any(|e| e == s);
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let before = text.get(..pos).unwrap_or("");
    let after = text.get(pos + found.len()..).unwrap_or("");
    let word_before: String = {
        let rev: String = before.chars().rev().take_while(|c| is_name_char(*c)).collect();
        rev.chars().rev().collect()
    };
    // `SYN-SENT`: a name written with a dash, which reads as a subtraction or stops a list.
    if found == "-" && !word_before.is_empty() && after.starts_with(is_name_char) {
        let word_after: String = after.chars().take_while(|c| is_name_char(*c)).collect();
        return Some(format!(
            "names cannot contain `-`; write `{word_before}_{word_after}` (names are ASCII letters, digits and `_`)"
        ));
    }
    // `m[k]`: indexing, which the language spells as methods.
    if found == "[" && before.trim_end_matches([' ', '\t']).ends_with(|c: char| is_name_char(c) || c == ')') {
        return Some(
            "values are not indexed with `[...]`: read a map with `m.get(k)` (an `Option`), \
             write it with `m.insert(k, v)`, and read a sequence with `s.get(i)`"
                .into(),
        );
    }
    // `a => b`: an implication, which only a match arm's `=>` looks like.
    if found == "=>" && !has("`=>`") {
        return Some("`=>` only separates a match arm from its value; for \"a implies b\" write `!a || b`".into());
    }
    // `Colour::all()`: a path names one value, and types have no methods.
    let before_word = &before[..before.len() - word_before.len()];
    if found == "(" && !word_before.is_empty() && before_word.ends_with("::") {
        let type_rev: String =
            before_word[..before_word.len() - 2].chars().rev().take_while(|c| is_name_char(*c)).collect();
        let type_name: String = type_rev.chars().rev().collect();
        return Some(format!(
            "`{type_name}::{word_before}` would name a variant, and types have no methods: there is no quantifying \
             over an enum; `match` on a value (the checker proves the arms cover every variant), or keep the values \
             in a `Set<{type_name}>` and use `.all(|x| ...)` or `.any(|x| ...)` on it"
        ));
    }
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
