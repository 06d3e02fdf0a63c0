//! The language server of machine spec files (`meerkat-lsp`): it re-checks a document on every change and
//! publishes its diagnostics, and answers hover, go to definition, find references, rename, completion,
//! document symbols and formatting, over the `.machine` files of a folder as one package. `analysis` holds one
//! analysed package, `index` its names, `locals` the local bindings of expressions, `position` the offset ↔
//! position conversion and `server` the protocol loop.

pub mod analysis;
pub mod index;
pub mod locals;
pub mod position;
pub mod server;

use anyhow::Result;
use lsp_server::Connection;

/// Runs the server on stdin and stdout until the client shuts it down.
pub fn run_stdio() -> Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = serde_json::to_value(server::capabilities())?;
    let initialize = connection.initialize(capabilities)?;
    server::serve(&connection, &initialize)?;
    drop(connection);
    io_threads.join()?;
    Ok(())
}
