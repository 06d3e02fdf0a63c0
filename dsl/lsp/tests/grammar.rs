//! The TextMate grammar (`editors/vscode/syntaxes/meerkat.tmLanguage.json`) tokenizes every spec in the
//! repository without an unknown region: `editors/grammar-test/tokenize.mjs` runs it with `vscode-textmate` and
//! `vscode-oniguruma`, which this test installs itself (`npm ci` from the committed `package-lock.json`) when
//! they are not there yet. A spec that parses may not have a single character the grammar calls illegal; an
//! error fixture may (that is what some of them test), but nothing it leaves unscoped.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.machine` file of the repository outside `target/` and `node_modules/`, sorted.
fn specs(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("a folder lists").map(|e| e.expect("a folder lists").path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() && !matches!(name, "target" | "node_modules" | ".git") {
            specs(&path, found);
        } else if path.extension().is_some_and(|e| e == "machine") {
            found.push(path);
        }
    }
}

fn tool(name: &str) -> Command {
    let mut command = Command::new(name);
    if cfg!(windows) {
        command = Command::new("cmd");
        command.args(["/C", name]);
    }
    command
}

#[test]
fn the_grammar_tokenizes_every_spec_without_an_unknown_region() {
    for name in ["node", "npm"] {
        let found = tool(name).arg("--version").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "this test needs `{name}` on PATH (Node.js 18 or newer with npm) to run the TextMate grammar: {found:?}"
        );
    }
    let harness = root().join("dsl/lsp/editors/grammar-test");
    if !harness.join("node_modules/vscode-textmate").is_dir() || !harness.join("node_modules/vscode-oniguruma").is_dir()
    {
        let install =
            tool("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&harness).output().expect("npm runs");
        assert!(
            install.status.success(),
            "`npm ci` in {} failed:\n{}{}",
            harness.display(),
            String::from_utf8_lossy(&install.stdout),
            String::from_utf8_lossy(&install.stderr)
        );
    }
    let mut files = Vec::new();
    specs(&root(), &mut files);
    assert!(files.len() > 100, "the walk lost the specs: {}", files.len());
    let mut args: Vec<String> = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("a spec is readable");
            let parses = meerkat_dsl::parse::parse(&text, meerkat_dsl::SourceId(0)).is_ok();
            format!("{}:{}", if parses { "strict" } else { "lenient" }, path.display())
        })
        .collect();
    args.push(format!("strict:{}", root().join("docs/language.md").display()));
    let strict = args.iter().filter(|a| a.starts_with("strict:")).count();
    assert!(strict > 40, "too few specs parse: {strict}");
    let run = tool("node").arg(harness.join("tokenize.mjs")).args(&args).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "the grammar leaves text unknown:\n{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("none unknown"), "{stdout}");
}
