//! Parsing: spec text to the spanned AST.
//!
//! The pest grammar (`grammar.pest`, compiled in `grammar`) does the recognising; `lower` turns its pairs into
//! [`crate::ast`] (`lower_expr` for expressions) and `syntax_errors` turns its failures into [`Diagnostic`]s. The printer ([`crate::print`]) is
//! the way back, from checked IR to spec text.

mod grammar;
mod lower;
mod lower_expr;
mod syntax_errors;

use pest::Parser as _;

use crate::ast::File;
use crate::diagnostic::Diagnostic;
use crate::span::SourceId;

use grammar::{Rule, SpecParser};

pub use grammar::{KEYWORDS, PUNCTUATION, RESERVED_WORDS};
pub use lower_expr::string_literal;

/// Where a file that parses has its type expressions and its closures: what the formatter needs to know
/// beyond tokens (whether `<` opens a type argument or compares, whether `|` delimits a closure's parameters).
pub(crate) struct SyntaxRoles {
    /// The spans of the outermost type expressions.
    pub(crate) types: Vec<crate::span::Span>,
    /// The spans of the closures.
    pub(crate) closures: Vec<crate::span::Span>,
}

/// The [`SyntaxRoles`] of `text`, or `None` when it does not parse.
pub(crate) fn syntax_roles(text: &str) -> Option<SyntaxRoles> {
    let pairs = SpecParser::parse(Rule::file, text).ok()?;
    let mut roles = SyntaxRoles { types: Vec::new(), closures: Vec::new() };
    for pair in pairs.flatten() {
        let span = crate::span::Span::new(pair.as_span().start(), pair.as_span().end());
        match pair.as_rule() {
            Rule::type_expr => roles.types.push(span),
            Rule::closure => roles.closures.push(span),
            _ => {}
        }
    }
    Some(roles)
}

/// Parses one spec file. On failure returns every syntax error found (one per broken item where recovery works).
pub fn parse(text: &str, source: SourceId) -> Result<File, Vec<Diagnostic>> {
    match SpecParser::parse(Rule::file, text) {
        Ok(pairs) => lower::file(pairs, text, source),
        Err(_) => Err(syntax_errors::syntax_errors(text, source)),
    }
}

#[cfg(test)]
#[allow(clippy::panic, reason = "a test fails loudly on a spec that does not parse")]
mod tests {
    use super::*;
    use crate::ast::*;

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
}
