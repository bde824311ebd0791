//! An embedded scheduler in a few lines: definitions, a store, executors and
//! a clock, started on the caller's tokio runtime.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::StreamExt;
//! use woi_adapters::runtime::Change;
//! use woi_adapters::scheduler::Scheduler;
//! use woi_core::build::{Definitions, Job, Jobnet};
//! use woi_core::{EventKind, JobnetKey, JobnetStatus};
//!
//! let env = Definitions::builder()
//!     .jobnet(Jobnet::new("APP", "HELLO").job(Job::command(1, "true")).job(Job::command(2, "true").after([1])))
//!     .build()?;
//! let scheduler = Scheduler::builder(env).start().await?; // in-memory store, processes, system clock
//! let key = JobnetKey::new("APP", "HELLO");
//! let mut changes = Box::pin(scheduler.handle().changes());
//! scheduler.handle().start_jobnet(&key, None).await?;
//! while let Some(change) = changes.next().await {
//!     if let Change::Event(e) = change {
//!         if let EventKind::JobnetStatus { status: JobnetStatus::Completed, .. } = e.kind {
//!             break;
//!         }
//!     }
//! }
//! scheduler.stop().await?;
//! # Ok(()) }
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use woi_core::engine::RestoreReport;
use woi_core::exec::Executor;
use woi_core::plan::PlannedStart;
use woi_core::store::{MemoryStore, Store};
use woi_core::{Clock, Environment, JobnetKey};

use crate::executors::{ExecutorSet, JobHandler};
use crate::process::ProcessExecutor;
use crate::runtime::{Handle, Runtime, RuntimeError, SystemClock};
use crate::sqlite::{HistoryFilter, JobRunRecord, JobnetRunRecord, SqliteError, SqliteStore};

/// Why a scheduler could not be opened or queried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// The runtime failed (store, or it has stopped).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The SQLite store could not be opened or read.
    #[error(transparent)]
    Sqlite(#[from] SqliteError),
    /// History needs the SQLite store; this scheduler runs on another store.
    #[error("run history is kept by the SQLite store only; this scheduler uses another store")]
    NoHistory,
    /// The scheduler task ended abnormally.
    #[error("the scheduler task failed: {0}")]
    Task(String),
    /// Another scheduler (in this process or another) runs on this SQLite
    /// database: it holds the lock file next to it. One scheduler per database.
    #[error(
        "database {} is in use by another woi scheduler (it holds {}); stop it or use another database",
        database.display(),
        lock.display()
    )]
    InUse {
        /// The database file.
        database: PathBuf,
        /// The lock file held by the other scheduler (`<database>.lock`).
        lock: PathBuf,
    },
    /// The lock file next to the SQLite database could not be created or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        /// The lock file (`<database>.lock`).
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The lock file of a SQLite database: `<database>.lock`, beside it.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Hold `<database>.lock` exclusively (an advisory lock, released when the
/// file is closed, also when the process dies): one scheduler per database.
/// The store itself takes no lock, so read-only users (`woi status`,
/// `woi history`) may open it while a scheduler runs.
fn lock_database(database: &Path) -> Result<File, SchedulerError> {
    let path = lock_path(database);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|source| SchedulerError::Lock { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(SchedulerError::InUse { database: database.to_path_buf(), lock: path })
        }
        Err(std::fs::TryLockError::Error(source)) => Err(SchedulerError::Lock { path, source }),
    }
}

/// Configures a [`Scheduler`]; see the module example.
#[must_use]
pub struct SchedulerBuilder {
    env: Arc<Environment>,
    store: Option<Arc<dyn Store>>,
    sqlite: Option<Arc<SqliteStore>>,
    /// The SQLite database's path, locked by [`SchedulerBuilder::start`].
    sqlite_path: Option<PathBuf>,
    executors: ExecutorSet,
    executor: Option<Arc<dyn Executor>>,
    clock: Arc<dyn Clock>,
}

impl SchedulerBuilder {
    /// Keep state in this store (default: in memory, lost on exit).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self.sqlite = None;
        self.sqlite_path = None;
        self
    }

    /// Keep state in a SQLite file (created if missing): journal, job output
    /// and run history survive restarts; a crash is recovered on the next start.
    ///
    /// One scheduler per database: [`SchedulerBuilder::start`] locks
    /// `<path>.lock` (created beside the database and left there) for the
    /// scheduler's life, and fails with [`SchedulerError::InUse`] while
    /// another scheduler, in this process or another, holds it.
    pub fn sqlite(mut self, path: impl AsRef<Path>) -> Result<Self, SchedulerError> {
        let path = path.as_ref();
        let store = Arc::new(SqliteStore::open(path)?);
        self.store = Some(store.clone());
        self.sqlite = Some(store);
        self.sqlite_path = Some(path.to_path_buf());
        Ok(self)
    }

    /// Route jobs with this set (default: every job kind but `custom` runs
    /// as a local process).
    pub fn executors(mut self, executors: ExecutorSet) -> Self {
        self.executors = executors;
        self.executor = None;
        self
    }

    /// Register a custom job kind on the current executor set.
    pub fn handler(mut self, name: impl Into<String>, handler: impl JobHandler) -> Self {
        self.executors = self.executors.with_handler(name, handler);
        self
    }

    /// Run every job on this executor instead (e.g. a scripted executor in tests).
    pub fn executor(mut self, executor: Arc<dyn Executor>) -> Self {
        self.executor = Some(executor);
        self
    }

    /// Use this clock (default: the system clock). Tests and demos use
    /// [`crate::runtime::OffsetClock`] or their own.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Rebuild state from the store (recovering from a crash) and start the scheduler on the current tokio runtime.
    ///
    /// With a SQLite store, first lock the database for this scheduler
    /// ([`SchedulerError::InUse`] when another scheduler runs on it).
    pub async fn start(self) -> Result<Scheduler, SchedulerError> {
        let lock = match &self.sqlite_path {
            Some(path) => Some(Arc::new(lock_database(path)?)),
            None => None,
        };
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let executor: Arc<dyn Executor> = match self.executor {
            Some(e) => e,
            None => Arc::new(self.executors),
        };
        let (rt, report) = Runtime::open(self.env, store, executor, self.clock).await?;
        let handle = rt.handle();
        // The runtime task holds the lock until it has ended and closed the
        // store, also when the `Scheduler` was dropped without `stop`.
        let task_lock = lock.clone();
        let task = tokio::spawn(async move {
            let _lock = task_lock;
            rt.run().await
        });
        Ok(Scheduler { handle, task: Some(task), report, sqlite: self.sqlite, _lock: lock })
    }
}

/// A running scheduler owned by the embedding service.
///
/// Stop it with [`Scheduler::stop`], which waits for the stop and reports
/// a store failure. Dropping it without `stop` asks the runtime to stop
/// gracefully and returns at once: the same stop (jobs still executing end
/// with 239, their processes are killed) then runs on the tokio runtime in
/// the background — unless that runtime shuts down first, in which case
/// the next start recovers those jobs. Either way, clones of its
/// [`Handle`] then answer [`RuntimeError::Stopped`] and their change
/// streams end.
pub struct Scheduler {
    handle: Handle,
    /// `None` once [`Scheduler::stop`] has taken it.
    task: Option<tokio::task::JoinHandle<Result<(), RuntimeError>>>,
    report: RestoreReport,
    /// Dropped before the lock (field order).
    sqlite: Option<Arc<SqliteStore>>,
    /// The lock on `<database>.lock` (SQLite store only), shared with the runtime task.
    _lock: Option<Arc<File>>,
}

impl Drop for Scheduler {
    /// Not stopped with [`Scheduler::stop`]: ask the runtime to stop, without waiting.
    fn drop(&mut self) {
        if self.task.is_some() {
            self.handle.request_shutdown();
        }
    }
}

impl Scheduler {
    /// Configure a scheduler for these (validated) definitions.
    pub fn builder(env: Environment) -> SchedulerBuilder {
        SchedulerBuilder {
            env: Arc::new(env),
            store: None,
            sqlite: None,
            sqlite_path: None,
            executors: ExecutorSet::new(Arc::new(ProcessExecutor::default())),
            executor: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Operations, message events, status and the change stream
    /// ([`Handle::changes`]). Cheap to clone and share.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The definitions it runs: those it started with, or the last ones
    /// applied since ([`Handle::reload`]).
    pub fn environment(&self) -> Arc<Environment> {
        self.handle.current_environment()
    }

    /// What was recovered when it opened (jobs ended with 239, missed starts).
    pub fn recovery(&self) -> &RestoreReport {
        &self.report
    }

    /// Planned starts from `from` to `to` (operating days), optionally of
    /// one jobnet, of the definitions it runs now ([`Scheduler::environment`]).
    pub fn plan(&self, from: NaiveDate, to: NaiveDate, jobnet: Option<&JobnetKey>) -> Vec<PlannedStart> {
        woi_core::plan::plan(&self.environment(), from, to, jobnet)
    }

    /// Jobnet runs, newest first (SQLite store only).
    pub async fn history(&self, filter: HistoryFilter) -> Result<Vec<JobnetRunRecord>, SchedulerError> {
        let store = self.sqlite.as_ref().ok_or(SchedulerError::NoHistory)?;
        Ok(store.jobnet_history(filter).await?)
    }

    /// Job attempts of a jobnet run (or of every run kept), newest first (SQLite store only).
    pub async fn job_history(&self, jobnet: &JobnetKey, run: Option<u32>) -> Result<Vec<JobRunRecord>, SchedulerError> {
        let store = self.sqlite.as_ref().ok_or(SchedulerError::NoHistory)?;
        Ok(store.job_history(jobnet, run, None).await?)
    }

    /// Stop: no new job starts; jobs still running end now with 239 ("the
    /// job management environment stopped while the job was executing"),
    /// their processes are killed and their output kept, as a restart after
    /// a crash would record them. Returns once the scheduler has stopped and
    /// released its database (see also the note on dropping a [`Scheduler`]).
    pub async fn stop(mut self) -> Result<(), SchedulerError> {
        // A scheduler that already stopped (store failure) reports it below.
        let _ = self.handle.shutdown().await;
        let Some(task) = self.task.take() else { return Ok(()) };
        match task.await {
            Ok(r) => Ok(r?),
            Err(e) => Err(SchedulerError::Task(e.to_string())),
        }
    }
}
