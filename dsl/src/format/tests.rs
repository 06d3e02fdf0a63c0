//! The formatter's layout rules, each pinned on a small spec.

#![allow(clippy::panic, reason = "a test fails loudly on a spec that does not format")]

use super::{FormatError, format};

fn formatted(text: &str) -> String {
    format(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn spacing_inside_a_line_is_normalised() {
    let text = "machine M{phases{initial A,B}state{s:Map<u64,Seq<u64>>=[:],n:u64=0}\n\
                input I{x:u64}\nguard g=s.all( |k,v|v.len()>0 )&&!(n<1)\n\
                on I from A->B when g{n+=x.0;emit E{x:x};}}\n";
    let expected = "machine M { phases { initial A, B } state { s: Map<u64, Seq<u64>> = [:], n: u64 = 0 }\n\
                    \x20   input I { x: u64 }\n\
                    \x20   guard g = s.all(|k, v| v.len() > 0) && !(n < 1)\n\
                    \x20   on I from A -> B when g { n += x.0; emit E { x: x }; } }\n";
    assert_eq!(formatted(text), expected);
}

#[test]
fn lines_are_indented_by_brackets_and_continuations() {
    let text = "machine M {\n\
                phases { initial A, B }\n\n\n\n\
                    /// The guard.\n\
                  guard g = a\n\
                && b\n\
                on I from A\n\
                -> B\n\
                when g {\n\n\
                x = f(\n\
                1,\n\
                );\n\n\
                }\n\
                }";
    let expected = "machine M {\n\
                    \x20   phases { initial A, B }\n\
                    \n\
                    \x20   /// The guard.\n\
                    \x20   guard g = a\n\
                    \x20       && b\n\
                    \x20   on I from A\n\
                    \x20       -> B\n\
                    \x20       when g {\n\
                    \x20       x = f(\n\
                    \x20           1,\n\
                    \x20       );\n\
                    \x20   }\n\
                    }\n";
    assert_eq!(formatted(text), expected);
}

#[test]
fn comments_stay_where_they_were() {
    let text =
        "// head\nmachine M { // after the brace\n  /* block\n   kept as is */ phases { initial A } ////x  \n}\n";
    let expected =
        "// head\nmachine M { // after the brace\n    /* block\n   kept as is */ phases { initial A } ////x\n}\n";
    assert_eq!(formatted(text), expected);
}

#[test]
fn formatting_is_idempotent_on_the_examples_here() {
    for text in
        ["machine M { phases { initial A } }", "machine M {\n\n\n}\n", "\n\n/// d\nmachine M { phases { initial A } }"]
    {
        let once = formatted(text);
        assert_eq!(formatted(&once), once, "formatting {text:?} twice");
    }
}

#[test]
fn a_file_that_does_not_parse_is_refused_with_its_diagnostics() {
    match format("machine M { phases { initial A } input }") {
        Err(FormatError::Syntax(diagnostics)) => assert!(!diagnostics.is_empty()),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}
