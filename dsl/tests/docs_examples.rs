//! Every example in `docs/language.md` checks: each fenced block tagged `machine` is a complete spec file, and
//! the compiler must accept it without an error or a warning, so the examples also show good style. Deliberately
//! partial fragments use another fence tag (`text`) and are not checked.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::path::Path;

use meerkat_dsl::{RenderOptions, check_source};

/// The `machine` blocks of a Markdown file, with the line each starts on.
fn machine_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```machine") => current = Some((index + 2, String::new())),
            Some(_) if fence.starts_with("```") => {
                if let Some(block) = current.take() {
                    blocks.push(block);
                }
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "a ```machine block is not closed");
    blocks
}

#[test]
fn every_language_example_checks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/language.md is readable");
    let blocks = machine_blocks(&markdown);
    assert!(blocks.len() >= 22, "expected an example per construct, found {} ```machine blocks", blocks.len());
    let mut failures = String::new();
    for (line, text) in &blocks {
        let name = format!("docs/language.md:{line}");
        let options = RenderOptions { width: 100, colour: false };
        match check_source(name.as_str(), text.as_str()) {
            Ok(package) if package.warnings.is_empty() => {}
            Ok(package) => failures.push_str(&package.render_warnings(options)),
            Err(error) => failures.push_str(&error.render(options)),
        }
    }
    assert!(failures.is_empty(), "examples in docs/language.md that do not check cleanly:\n\n{failures}");
}

#[test]
fn blocks_are_extracted_with_their_first_line() {
    let markdown = "intro\n```machine\nmachine A {}\n```\n```text\nnot checked\n```\n```machine\nmachine B {}\n```\n";
    assert_eq!(machine_blocks(markdown), vec![(3, "machine A {}\n".to_string()), (9, "machine B {}\n".to_string())]);
}
