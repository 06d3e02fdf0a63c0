//! `docs/diagnostics.md` and [`Code::ALL`] stay in step: every code has a `## CODE: title` section and every
//! section names a real code; each section's ```machine example reports its code; and the ```text block after
//! the example is exactly what the compiler prints for it. The page is an `expect-test` file, the workspace's one
//! golden-file harness: the test rebuilds it with every output block replaced by what the compiler prints, and
//! `UPDATE_EXPECT=1` writes that back after a deliberate change to a message; nothing else writes the file.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use expect_test::expect_file;
use meerkat_dsl::{Code, RenderOptions, check_source};

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md")
}

fn read_doc() -> String {
    std::fs::read_to_string(doc_path()).expect("docs/diagnostics.md is readable")
}

/// A code at the start of a heading's text (`## E0102: unknown name` gives `E0102`).
fn heading_code(line: &str) -> Option<&str> {
    let text = line.strip_prefix('#')?.trim_start_matches('#').trim_start();
    let code = text.get(..5)?;
    let is_code = (code.starts_with('E') || code.starts_with('W')) && code[1..].chars().all(|c| c.is_ascii_digit());
    is_code.then_some(code)
}

/// One `## CODE: title` section: its code, its example, and the line range (start, end exclusive) of the body of
/// the ```text block that follows the example.
struct Section {
    code: String,
    example: String,
    output: String,
    output_lines: Option<(usize, usize)>,
}

fn sections(doc: &str) -> Vec<Section> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out: Vec<Section> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(code) = lines[i].starts_with("## ").then(|| heading_code(lines[i])).flatten() {
            out.push(Section {
                code: code.to_string(),
                example: String::new(),
                output: String::new(),
                output_lines: None,
            });
        } else if lines[i].starts_with("```machine") {
            let start = i + 1;
            let end = (start..lines.len()).find(|&j| lines[j].starts_with("```")).unwrap_or(lines.len());
            if let Some(section) = out.last_mut() {
                if section.example.is_empty() {
                    section.example = lines[start..end].iter().map(|l| format!("{l}\n")).collect();
                    // The output block is the next fenced block, if it is a ```text one.
                    let next = (end + 1..lines.len()).find(|&j| lines[j].starts_with("```"));
                    if let Some(open) = next.filter(|&j| lines[j].trim_end() == "```text") {
                        let close =
                            (open + 1..lines.len()).find(|&j| lines[j].starts_with("```")).unwrap_or(lines.len());
                        section.output = lines[open + 1..close].iter().map(|l| format!("{l}\n")).collect();
                        section.output_lines = Some((open + 1, close));
                    }
                }
            }
            i = end;
        }
        i += 1;
    }
    out
}

/// What the compiler prints for an example, and the codes it reports.
fn check(example: &str) -> (String, BTreeSet<Code>) {
    let options = RenderOptions { width: 100, colour: false };
    match check_source("example.machine", example) {
        Ok(package) => (package.render_warnings(options), package.warnings.iter().map(|d| d.code).collect()),
        Err(error) => (error.render(options), error.diagnostics.iter().map(|d| d.code).collect()),
    }
}

#[test]
fn every_code_has_a_heading_and_every_heading_is_a_code() {
    let doc = read_doc();
    let mut headings: Vec<&str> = doc.lines().filter_map(heading_code).collect();
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let documented: BTreeSet<&str> = headings.iter().copied().collect();
    let missing: Vec<&str> = known.difference(&documented).copied().collect();
    let unknown: Vec<&str> = documented.difference(&known).copied().collect();
    headings.sort_unstable();
    let repeated: Vec<&str> = headings.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    assert!(
        missing.is_empty() && unknown.is_empty() && repeated.is_empty(),
        "docs/diagnostics.md and Code::ALL disagree\n  codes without a heading: {missing:?}\n  headings that are not \
         codes: {unknown:?}\n  codes with more than one heading: {repeated:?}"
    );
}

#[test]
fn every_code_has_a_summary_row_an_example_and_its_output() {
    let doc = read_doc();
    let mut problems = String::new();
    for section in sections(&doc) {
        let Some(code) = Code::ALL.iter().find(|c| c.as_str() == section.code) else { continue };
        // The summary table has a row `| [CODE](#anchor) | summary |` for the code.
        let row = doc.lines().find(|l| l.starts_with(&format!("| [{}]", section.code)));
        if !row.is_some_and(|row| row.trim_end().ends_with(&format!("| {} |", code.summary()))) {
            let _ = writeln!(
                problems,
                "{}: the summary table has no row `| [{}](#...) | {} |`",
                section.code,
                section.code,
                code.summary()
            );
        }
        if section.example.is_empty() {
            let _ = writeln!(problems, "{}: no ```machine example", section.code);
        }
        if section.output_lines.is_none() {
            let _ = writeln!(problems, "{}: no ```text block with the output after the example", section.code);
        }
    }
    assert!(problems.is_empty(), "docs/diagnostics.md:\n{problems}");
}

#[test]
fn every_example_reports_its_code_and_prints_the_documented_output() {
    let doc = read_doc();
    let mut lines: Vec<String> = doc.lines().map(str::to_string).collect();
    let mut failures = String::new();
    // Replace output blocks from the end, so earlier line numbers stay valid.
    for section in sections(&doc).iter().rev() {
        if section.example.is_empty() {
            continue;
        }
        let (rendered, codes) = check(&section.example);
        if !codes.iter().any(|c| c.as_str() == section.code) {
            let found: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            let _ = writeln!(
                failures,
                "{}: the example does not report {} (it reports {found:?}):\n{rendered}",
                section.code, section.code
            );
            continue;
        }
        let Some((start, end)) = section.output_lines else { continue };
        if section.output != rendered {
            lines.splice(start..end, rendered.lines().map(str::to_string));
        }
    }
    assert!(failures.is_empty(), "{failures}");
    let mut documented = lines.join("\n");
    documented.push('\n');
    expect_file![doc_path()].assert_eq(&documented);
}

#[test]
fn heading_codes_are_recognised() {
    assert_eq!(heading_code("## E0102: unknown name"), Some("E0102"));
    assert_eq!(heading_code("### W0001"), Some("W0001"));
    assert_eq!(heading_code("## Examples"), None);
    assert_eq!(heading_code("text E0102"), None);
}
