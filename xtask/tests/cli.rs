//! Runs the built `xtask` binary the way a user would and checks its exit status and output: failures are
//! reported with status 1 and a clear message, never a panic, whatever the input.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly when the binary cannot run")]

use std::path::PathBuf;
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> (i32, String) {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the xtask binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!text.contains("panicked"), "xtask panicked:\n{text}");
    (output.status.code().unwrap_or(-1), text)
}

/// A file under the temp dir with the given bytes, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!("xtask-cli-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("temp file");
        TempFile(path)
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn check_accepts_the_workspace_specs() {
    let (code, text) = xtask(&["check", "--uncovered"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no errors"), "{text}");
    assert!(text.contains("TrafficLight"), "{text}");
}

#[test]
fn check_reports_garbage_and_missing_files_without_panicking() {
    let garbage = TempFile::new("garbage.machine", b"machine { \x01\xff\xfe garbage");
    let broken = TempFile::new("broken.machine", b"machine M { phases { initial A } on Nope from A -> A }");
    let missing = std::env::temp_dir().join("xtask-cli-definitely-missing.machine");
    let missing = missing.to_str().expect("a UTF-8 temp path");

    let (code, text) = xtask(&["check", garbage.arg()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("cannot read") || text.contains("error["), "{text}");

    let (code, text) = xtask(&["check", broken.arg(), missing]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("error[E0105]"), "{text}");
    assert!(text.contains("cannot read") && text.contains("definitely-missing"), "{text}");
    assert!(text.contains("error: could not check 2 files due to 2 errors"), "{text}");
}

#[test]
fn verify_rejects_an_unknown_machine_name() {
    let (code, text) = xtask(&["verify", "NoSuchMachine"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no machine named `NoSuchMachine`"), "{text}");
}
