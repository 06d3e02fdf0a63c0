//! Helpers shared by the runtime's integration tests: executors the tests control through channels (no sleeps),
//! a store that fails on demand, a journal observer, and small polling helpers bounded by timeouts.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meerkat_runtime::identifiers::LogicalRuntimeId;
use meerkat_runtime::meerkat_machine::{DslCommitObserver, DslJournalEntry};
use meerkat_runtime::store::{OpsLifecycleSnapshot, RuntimeStoreCommit, StoredRuntime};
use meerkat_runtime::{
    BoxFuture, CoreExecutor, CoreExecutorError, InMemoryRuntimeStore, RunOutput, RunRequest, RuntimeStore,
    RuntimeStoreError, SessionId, SqliteRuntimeStore,
};
use tokio::sync::{Semaphore, mpsc};

pub mod stores;

/// The bound on every wait in these tests: reaching it means a deadlock or a lost wake-up.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future).await.expect("timed out: deadlock or lost wake-up")
}

/// Yields until `condition` holds (bounded by [`LIMIT`]); used only to observe states another task reaches.
pub async fn until<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(async {
        while !condition().await {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

/// Commits every run at once.
pub struct ImmediateExecutor;

impl CoreExecutor for ImmediateExecutor {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async { Ok(RunOutput { boundary_sequence: Some(1) }) })
    }
}

/// Fails every run.
pub struct FailingExecutor;

impl CoreExecutor for FailingExecutor {
    fn apply(&mut self, _request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async { Err(CoreExecutorError::Failed("always fails".into())) })
    }
}

/// Reports each run it starts and waits for the test to release it.
pub struct GatedExecutor {
    pub started: mpsc::UnboundedSender<RunRequest>,
    pub release: Arc<Semaphore>,
}

/// A gated executor, the receiver of its started runs, and its release semaphore.
pub fn gated() -> (GatedExecutor, mpsc::UnboundedReceiver<RunRequest>, Arc<Semaphore>) {
    let (started, receiver) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    (GatedExecutor { started, release: Arc::clone(&release) }, receiver, release)
}

impl CoreExecutor for GatedExecutor {
    fn apply(&mut self, request: RunRequest) -> BoxFuture<'_, Result<RunOutput, CoreExecutorError>> {
        Box::pin(async move {
            let _ = self.started.send(request);
            match self.release.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => return Err(CoreExecutorError::Failed("release closed".into())),
            }
            Ok(RunOutput::default())
        })
    }
}

/// The stores the persistent-driver tests run on: [`on_every_store!`] runs a test once per kind. A new store is
/// one more variant here and one more module in the macro.
#[derive(Clone, Copy, Debug)]
pub enum StoreKind {
    /// `InMemoryRuntimeStore`.
    InMemory,
    /// `SqliteRuntimeStore` on an in-memory database (the same schema, writer thread and group commit).
    Sqlite,
}

impl StoreKind {
    /// A fresh, empty store of this kind.
    pub fn open(self) -> Arc<dyn RuntimeStore> {
        match self {
            StoreKind::InMemory => Arc::new(InMemoryRuntimeStore::new()),
            StoreKind::Sqlite => Arc::new(SqliteRuntimeStore::open_in_memory().expect("sqlite store")),
        }
    }
}

/// Runs each named `async fn name(store: Arc<dyn RuntimeStore>)` of the test file as one test per [`StoreKind`]:
/// `on_in_memory_store::name` and `on_sqlite_store::name`.
#[allow(unused_macros)]
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        mod on_in_memory_store {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::common::StoreKind::InMemory.open()).await
                }
            )*
        }
        mod on_sqlite_store {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::common::StoreKind::Sqlite.open()).await
                }
            )*
        }
    };
}

/// A store whose commits fail while `fail` is set.
pub struct FailingStore {
    pub inner: Arc<dyn RuntimeStore>,
    pub fail: AtomicBool,
}

impl FailingStore {
    /// Fails on demand in front of `inner`.
    pub fn over(inner: Arc<dyn RuntimeStore>) -> Self {
        Self { inner, fail: AtomicBool::new(false) }
    }
}

impl RuntimeStore for FailingStore {
    fn commit<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        commit: RuntimeStoreCommit,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>> {
        if self.fail.load(Ordering::SeqCst) {
            return Box::pin(async { Err(RuntimeStoreError::Backend("disk on fire".into())) });
        }
        self.inner.commit(runtime_id, commit)
    }

    fn load_runtime<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<StoredRuntime>, RuntimeStoreError>> {
        self.inner.load_runtime(runtime_id)
    }

    fn load_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
    ) -> BoxFuture<'a, Result<Option<OpsLifecycleSnapshot>, RuntimeStoreError>> {
        self.inner.load_ops_lifecycle(runtime_id)
    }

    fn persist_ops_lifecycle<'a>(
        &'a self,
        runtime_id: &'a LogicalRuntimeId,
        snapshot: OpsLifecycleSnapshot,
    ) -> BoxFuture<'a, Result<(), RuntimeStoreError>> {
        self.inner.persist_ops_lifecycle(runtime_id, snapshot)
    }
}

/// Records the committed journal of every session.
#[derive(Default)]
pub struct Journal {
    pub entries: Mutex<HashMap<SessionId, Vec<DslJournalEntry>>>,
}

impl DslCommitObserver for Journal {
    fn committed(&self, session_id: &SessionId, applied: &[DslJournalEntry]) {
        self.entries.lock().unwrap().entry(session_id.clone()).or_default().extend_from_slice(applied);
    }
}
