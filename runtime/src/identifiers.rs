//! The identities the runtime speaks in: sessions, the logical runtime a session is bound to, inputs and runs,
//! plus the boxed-future alias the object-safe async traits of this crate return. Input and run ids are UUID v7
//! strings, so they sort by creation time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// A boxed, `Send` future: what the object-safe async traits of this crate ([`crate::CoreExecutor`],
/// [`crate::RuntimeStore`], the composition dispatcher) return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            /// Wraps an existing id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    };
}

string_id! {
    /// A runtime session's id.
    SessionId
}

string_id! {
    /// The control-plane identity of a registered session's runtime (`MeerkatMachine::logical_runtime_id`).
    LogicalRuntimeId
}

string_id! {
    /// An input's id: unique per session ledger, time-ordered when minted by [`InputId::generate`].
    InputId
}

string_id! {
    /// A run's id, minted by the runtime loop when it begins a run.
    RunId
}

impl SessionId {
    /// A fresh, time-ordered session id (UUID v7).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl InputId {
    /// A fresh, time-ordered input id (UUID v7).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl RunId {
    /// A fresh, time-ordered run id (UUID v7).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}
