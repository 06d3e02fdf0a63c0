//! The layout rules: where each token of a file goes. The author's line breaks are kept (runs of blank lines
//! shrink to one, and none stays just inside a bracket); each line is indented by the brackets open at its start
//! (four spaces a level), one more level when it continues the line before; within a line the spacing between
//! two tokens depends only on the two tokens and their roles. Everything is a function of the tokens and of
//! where the line breaks are, never of the old whitespace, which is what makes formatting idempotent.

use super::lex::{Token, TokenKind};

/// What layout needs to know about a token beyond its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Role {
    /// Nothing special.
    #[default]
    Plain,
    /// A `<` or `>` around type arguments (`Map<K, V>`).
    TypeAngle,
    /// The `|` that opens a closure's parameters.
    ClosureOpen,
    /// The `|` that closes a closure's parameters.
    ClosureClose,
}

const INDENT: usize = 4;

/// Words that start an item of a machine, a composition or a model block: a line starting with one does not
/// continue the line before.
const ITEM_WORDS: &[&str] = &[
    "machine",
    "composition",
    "route",
    "enum",
    "record",
    "newtype",
    "phases",
    "state",
    "internal",
    "pure",
    "input",
    "signal",
    "effect",
    "fn",
    "guard",
    "invariant",
    "property",
    "reachable",
    "transition",
    "on",
    "model",
    "depth",
    "domain",
    "unfired",
];

/// Binary operators: a line starting with one continues the operand chain of the line above it, one level
/// deeper than the line the chain started on.
const BINARY: &[&str] = &["&&", "||", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "."];

/// Tokens that, first on a line, continue a header or a definition one level in (`-> B`, `when g`, `= e`).
const CONTINUING: &[&str] = &["->", "=>", "=", "+=", "-=", "::"];

/// Words that, first on a line, continue a transition's header.
const CONTINUING_WORDS: &[&str] = &["when", "otherwise", "from", "except"];

/// Words after which a `(` is not a call's: `if (a || b)`.
const KEYWORDS_BEFORE_PAREN: &[&str] =
    &["if", "match", "when", "else", "let", "emit", "on", "from", "except", "stay", "otherwise", "in"];

/// An open bracket (or the top level of the file).
struct Frame {
    /// The indentation of the lines inside it.
    inner: usize,
    /// The indentation of a line that starts with its closing bracket.
    close: usize,
    /// Whether it holds items (a file, a machine, a composition, a model block).
    holds_items: bool,
    /// The indentation of its latest line that did not start with a binary operator.
    chain: usize,
}

/// How a line relates to the line before it.
enum LineStart {
    /// It starts a new item, statement or list element.
    Fresh,
    /// It continues an operand chain (`&& b`).
    Operator,
    /// It continues a header or definition (`when g`, `= e`).
    Continuation,
    /// It continues a list of a header that was itself continued (`when a,` then `b`).
    ListContinuation,
}

/// Lays `tokens` out; `roles[i]` is the role of `tokens[i]`.
pub(crate) fn layout(tokens: &[Token<'_>], roles: &[Role]) -> String {
    let mut out = String::new();
    let mut frames = vec![Frame { inner: 0, close: 0, holds_items: true, chain: 0 }];
    let mut line_indent = 0;
    // The last two tokens that are not comments.
    let mut code: [Option<usize>; 2] = [None, None];
    for (i, token) in tokens.iter().enumerate() {
        let role = roles.get(i).copied().unwrap_or_default();
        let depth = frames.len();
        if i == 0 || token.newlines_before > 0 {
            if i > 0 {
                out.push('\n');
                let after_open = tokens.get(i - 1).is_some_and(|t| is_open(t));
                if token.newlines_before > 1 && !after_open && !is_close(token) {
                    out.push('\n');
                }
            }
            if is_close(token) && depth > 1 {
                line_indent = frames[depth - 1].close;
            } else if let Some(frame) = frames.last_mut() {
                let start = if token.is_comment() {
                    LineStart::Fresh
                } else {
                    line_start(code[0].map(|c| &tokens[c]), token, frame.holds_items)
                };
                line_indent = match start {
                    LineStart::Fresh => frame.inner,
                    LineStart::Operator => frame.chain + INDENT,
                    LineStart::Continuation => frame.inner + INDENT,
                    LineStart::ListContinuation => frame.inner + 2 * INDENT,
                };
                if !matches!(start, LineStart::Operator) && !token.is_comment() {
                    frame.chain = line_indent;
                }
            }
            out.extend(std::iter::repeat_n(' ', line_indent));
        } else {
            // `i > 0` here: the first token always starts a line.
            let before = &tokens[i - 1];
            let before_role = roles.get(i - 1).copied().unwrap_or_default();
            let word_before_before = code[1].map(|c| tokens[c].text);
            if spaced(before, before_role, token, role, word_before_before) {
                out.push(' ');
            }
        }
        out.push_str(token.text);
        if is_open(token) {
            let holds_items = frames.last().is_some_and(|f| f.holds_items);
            let item_inner = frames.last().map_or(0, |f| f.inner);
            let opens_items = token.text == "{" && holds_items && opens_item_block(&code, tokens);
            // A block of items, or the body of an item, is indented from the item, not from a continuation line
            // (`on X from A\n    when c {` keeps its body one level in).
            let close = if holds_items && token.text == "{" { item_inner } else { line_indent };
            frames.push(Frame { inner: close + INDENT, close, holds_items: opens_items, chain: close + INDENT });
        } else if is_close(token) && frames.len() > 1 {
            frames.pop();
        }
        if !token.is_comment() {
            code = [Some(i), code[0]];
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn is_open(token: &Token<'_>) -> bool {
    token.kind == TokenKind::Punct && matches!(token.text, "{" | "(" | "[")
}

fn is_close(token: &Token<'_>) -> bool {
    token.kind == TokenKind::Punct && matches!(token.text, "}" | ")" | "]")
}

/// Whether the `{` after the code tokens `code` (last first) opens a block of items: a machine's, a
/// composition's or a model's body.
fn opens_item_block(code: &[Option<usize>; 2], tokens: &[Token<'_>]) -> bool {
    let text = |slot: Option<usize>| slot.map_or("", |c| tokens[c].text);
    text(code[0]) == "model" || matches!(text(code[1]), "machine" | "composition")
}

/// How a line starting with `first` relates to the line before, whose last code token is `last`.
fn line_start(last: Option<&Token<'_>>, first: &Token<'_>, holds_items: bool) -> LineStart {
    let Some(last) = last else { return LineStart::Fresh };
    let punct = |t: &Token<'_>, set: &[&str]| t.kind == TokenKind::Punct && set.contains(&t.text);
    let word = |t: &Token<'_>, set: &[&str]| t.kind == TokenKind::Word && set.contains(&t.text);
    if punct(first, BINARY) {
        return LineStart::Operator;
    }
    if punct(first, CONTINUING) || word(first, CONTINUING_WORDS) {
        return LineStart::Continuation;
    }
    if holds_items && (punct(first, &["{"]) || word(first, ITEM_WORDS)) {
        return LineStart::Fresh;
    }
    if holds_items && punct(last, &[","]) {
        return LineStart::ListContinuation;
    }
    if punct(last, &["{", "(", "[", ",", ";", "}"]) {
        return LineStart::Fresh;
    }
    LineStart::Continuation
}

/// Whether one space separates `a` and `b` on a line; `before_a` is the code token before `a`.
fn spaced(a: &Token<'_>, a_role: Role, b: &Token<'_>, b_role: Role, before_a: Option<&str>) -> bool {
    if a.is_comment() || b.is_comment() {
        return true;
    }
    let (at, bt) = (a.text, b.text);
    if b.kind == TokenKind::Punct && matches!(bt, "," | ";" | ")" | "]" | ":" | "." | "::" | "..=") {
        return false;
    }
    if a.kind == TokenKind::Punct && matches!(at, "(" | "[" | "." | "::" | "..=" | "!") {
        return false;
    }
    if a_role == Role::TypeAngle && at == "<" || b_role == Role::TypeAngle {
        return false;
    }
    if a_role == Role::ClosureOpen || b_role == Role::ClosureClose {
        return false;
    }
    if bt == "(" && b.kind == TokenKind::Punct {
        // A call, `Some(x)`, a helper's parameters or a method: no space; after a keyword, one.
        let method = before_a == Some(".");
        return a.kind != TokenKind::Word || !method && KEYWORDS_BEFORE_PAREN.contains(&at);
    }
    if at == "{" && bt == "}" {
        return false;
    }
    true
}
