//! `cargo xtask fuzz [--inputs N] [--seed S]`: a deterministic fuzz campaign over the front end. Each input is
//! random bytes, a soup of the language's own tokens, or a real spec (`machines/*.machine`, `tests/specs/*.machine`)
//! mutated token by token. Every input is checked with `check_source` and every diagnostic rendered to a string,
//! on a thread with a small fixed stack, so a recursion that the front end does not bound fails here (a panic is
//! a finding; a stack overflow aborts the run with the input saved in `target/fuzz/in-flight.machine`). A finding
//! is also a diagnostic whose span lies outside its file. The run prints the inputs tried, the findings and the
//! slowest input's time. A bounded run is an ordinary test of this crate.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use meerkat_dsl::{RenderOptions, check_source};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::project::{self, Output};

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many inputs to try.
    #[arg(long, default_value_t = 100_000)]
    inputs: u64,
    /// The seed of the generator: the same seed tries the same inputs.
    #[arg(long, default_value_t = 18)]
    seed: u64,
}

/// The stack each input is checked on: a quarter of a default thread's, so unbounded recursion shows early.
const STACK: usize = 512 * 1024;

/// What a campaign found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Inputs checked.
    pub inputs: u64,
    /// Each finding: what went wrong, and the input.
    pub findings: Vec<(String, String)>,
    /// The slowest input and its time.
    pub slowest: (Duration, usize),
}

/// What the fuzzer mixes into its soups beyond the grammar's own keywords and punctuation
/// ([`meerkat_dsl::parse::KEYWORDS`], [`meerkat_dsl::parse::PUNCTUATION`]): built-in type and method names, names,
/// numbers at the edges, unterminated strings and comments, and shapes people write by mistake.
const EXTRAS: &[&str] = &[
    "bool",
    "u64",
    "String",
    "Phase",
    "Option",
    "Set",
    "Seq",
    "Map",
    "self",
    "source",
    "phase",
    "len",
    "contains",
    "insert",
    "push",
    "get",
    "all",
    "count",
    "min",
    "\"",
    "\n",
    "A",
    "B",
    "x",
    "y",
    "0",
    "1",
    "18446744073709551616",
    "\"s\"",
    "Lamp",
    "SYN-SENT",
    "m[k]",
    "_",
    "Option<Option<u64>>",
];

/// Every token a soup draws from.
static VOCABULARY: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    meerkat_dsl::parse::KEYWORDS.iter().chain(meerkat_dsl::parse::PUNCTUATION).chain(EXTRAS).copied().collect()
});

/// Splits spec text into tokens that concatenate back to it.
fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len())
        } else if c.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        tokens.push(&rest[..len]);
        rest = &rest[len..];
    }
    tokens
}

/// The real specs to mutate, read from the workspace.
pub fn corpus(root: &Path) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for dir in [root.join(project::MACHINES_DIR), root.join("tests").join("specs")] {
        let entries = std::fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "machine")) {
            texts.push(std::fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", path.display()))?);
        }
    }
    Ok(texts)
}

/// One input: random bytes, a token soup (alone or inside a machine), or a mutated real spec.
fn input(rng: &mut StdRng, corpus: &[String]) -> String {
    match rng.random_range(0..10) {
        0 => {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        1..=3 => {
            let len = rng.random_range(0..120);
            let soup: Vec<&str> = (0..len).filter_map(|_| VOCABULARY.choose(rng).copied()).collect();
            let soup = soup.join(if rng.random_bool(0.5) { " " } else { "" });
            if rng.random_bool(0.5) { format!("machine M {{\n phases {{ initial A, B }}\n {soup}\n}}\n") } else { soup }
        }
        _ => {
            let Some(spec) = corpus.choose(rng) else { return String::new() };
            let mut tokens: Vec<String> = tokenize(spec).into_iter().map(str::to_string).collect();
            for _ in 0..rng.random_range(1..6) {
                if tokens.is_empty() {
                    break;
                }
                let at = rng.random_range(0..tokens.len());
                match rng.random_range(0..6) {
                    0 => {
                        tokens.remove(at);
                    }
                    1 => {
                        let copy = tokens[at].clone();
                        tokens.insert(at, copy);
                    }
                    2 => {
                        let other = rng.random_range(0..tokens.len());
                        tokens.swap(at, other);
                    }
                    3 => tokens.truncate(at),
                    4 => {
                        // Repeat a stretch many times: long chains, deep nesting, long lines.
                        let end = (at + rng.random_range(1..4)).min(tokens.len());
                        let stretch: Vec<String> = tokens[at..end].to_vec();
                        for _ in 0..rng.random_range(2..300) {
                            tokens.splice(at..at, stretch.iter().cloned());
                        }
                    }
                    _ => {
                        let word = VOCABULARY.choose(rng).copied().unwrap_or("x");
                        tokens.insert(at, word.to_string());
                    }
                }
            }
            tokens.concat()
        }
    }
}

/// Checks one input on a small stack: `Err` with what went wrong on a panic or a span outside the text.
fn check_one(text: String) -> Result<(), String> {
    let outcome = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || -> Result<(), String> {
            let options = RenderOptions { width: 100, colour: false };
            let (diagnostics, rendered) = match check_source("fuzz.machine", text.as_str()) {
                Ok(package) => {
                    let rendered = package.render_warnings(options);
                    (package.warnings.into_vec(), rendered)
                }
                Err(error) => (error.diagnostics.clone().into_vec(), error.render(options) + &error.to_string()),
            };
            for d in &diagnostics {
                for label in std::iter::once(&d.primary).chain(&d.secondary) {
                    let (start, end) = (label.span.start, label.span.end);
                    let inside = start <= end && end <= text.len();
                    if !inside || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                        return Err(format!(
                            "{} `{}`: span {start}..{end} outside {} bytes",
                            d.code,
                            d.message,
                            text.len()
                        ));
                    }
                }
            }
            if !diagnostics.is_empty() && rendered.is_empty() {
                return Err("diagnostics rendered to nothing".to_string());
            }
            Ok(())
        })
        .map_err(|e| format!("cannot spawn a checking thread: {e}"))?
        .join();
    match outcome {
        Ok(result) => result,
        Err(panic) => Err(format!(
            "panic: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default()
        )),
    }
}

/// Runs `inputs` inputs from `seed`; `in_flight`, when given, holds each input while it is checked, so a run
/// that aborts (a stack overflow) leaves it behind.
pub fn campaign(corpus: &[String], inputs: u64, seed: u64, in_flight: Option<&Path>) -> Summary {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut summary = Summary::default();
    for _ in 0..inputs {
        let text = input(&mut rng, corpus);
        if let Some(path) = in_flight {
            // Best effort: the file only matters if the process dies on this input.
            let _ = std::fs::write(path, &text);
        }
        let started = Instant::now();
        let result = check_one(text.clone());
        let took = started.elapsed();
        if took > summary.slowest.0 {
            summary.slowest = (took, text.len());
        }
        summary.inputs += 1;
        if let Err(what) = result {
            summary.findings.push((what, text));
        }
        if in_flight.is_some() && summary.inputs % 10_000 == 0 {
            eprintln!(
                "fuzz: {} inputs, {} findings, slowest {:.1} ms",
                summary.inputs,
                summary.findings.len(),
                summary.slowest.0.as_secs_f64() * 1000.0
            );
        }
    }
    summary
}

/// `cargo xtask fuzz`.
pub fn run(args: &Args, output: Output) -> Result<bool> {
    let root = project::root();
    let corpus = corpus(&root)?;
    let dir = root.join("target").join("fuzz");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let started = Instant::now();
    let summary = campaign(&corpus, args.inputs, args.seed, Some(&dir.join("in-flight.machine")));
    for (index, (what, text)) in summary.findings.iter().enumerate() {
        let path = dir.join(format!("finding-{index}.machine"));
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
        println!("{} {what} (input saved as {})", output.error_label(), path.display());
    }
    println!(
        "fuzz: {} inputs from seed {} in {:.1} s, {} findings, slowest input {:.1} ms ({} bytes)",
        summary.inputs,
        args.seed,
        started.elapsed().as_secs_f64(),
        summary.findings.len(),
        summary.slowest.0.as_secs_f64() * 1000.0,
        summary.slowest.1
    );
    Ok(summary.findings.is_empty())
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "a test fails loudly on an unreadable corpus")]
mod tests {
    use super::*;

    /// The bounded run of CI: a thousand inputs (a few seconds unoptimised), each on a small stack, with no finding.
    #[test]
    fn a_bounded_campaign_finds_nothing() {
        let corpus = corpus(&project::root()).expect("the specs are readable");
        assert!(corpus.len() >= 5, "the corpus has the workspace's specs");
        let summary = campaign(&corpus, 1_000, 18, None);
        assert_eq!(summary.inputs, 1_000);
        let shown: Vec<String> =
            summary.findings.iter().take(3).map(|(what, text)| format!("{what}\n--- input:\n{text}")).collect();
        assert!(summary.findings.is_empty(), "{} findings, the first:\n{}", summary.findings.len(), shown.join("\n\n"));
    }

    #[test]
    fn the_same_seed_tries_the_same_inputs() {
        let corpus = vec!["machine M { phases { initial A } }".to_string()];
        let mut a = StdRng::seed_from_u64(7);
        let mut b = StdRng::seed_from_u64(7);
        let first: Vec<String> = (0..50).map(|_| input(&mut a, &corpus)).collect();
        let second: Vec<String> = (0..50).map(|_| input(&mut b, &corpus)).collect();
        assert_eq!(first, second);
    }
}
