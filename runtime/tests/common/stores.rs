//! The stores the durability tests run against. Each entry names a store and builds a fresh, empty one; a
//! "restart" in those tests is a new `MeerkatMachine` over the same store object, so a store backed by a file
//! keeps its data across it. Adding a store is one line in [`stores`].

use std::sync::Arc;

use meerkat_runtime::{InMemoryRuntimeStore, RuntimeStore, SqliteRuntimeStore};

/// Builds a fresh, empty store.
pub type StoreFactory = fn() -> Arc<dyn RuntimeStore>;

/// Every store the durability tests must hold on, by name.
pub fn stores() -> Vec<(&'static str, StoreFactory)> {
    vec![
        ("in-memory", || Arc::new(InMemoryRuntimeStore::new())),
        ("sqlite", || Arc::new(SqliteRuntimeStore::open_in_memory().unwrap_or_else(|e| panic!("sqlite store: {e}")))),
    ]
}
