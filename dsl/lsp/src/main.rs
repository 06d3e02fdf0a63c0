//! `meerkat-lsp`: the language server of machine spec files, speaking LSP on stdin and stdout.

use std::process::ExitCode;

fn main() -> ExitCode {
    match meerkat_lsp::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("meerkat-lsp: {error:#}");
            ExitCode::FAILURE
        }
    }
}
