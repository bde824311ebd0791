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

use std::path::Path;
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
}

/// Configures a [`Scheduler`]; see the module example.
#[must_use]
pub struct SchedulerBuilder {
    env: Arc<Environment>,
    store: Option<Arc<dyn Store>>,
    sqlite: Option<Arc<SqliteStore>>,
    executors: ExecutorSet,
    executor: Option<Arc<dyn Executor>>,
    clock: Arc<dyn Clock>,
}

impl SchedulerBuilder {
    /// Keep state in this store (default: in memory, lost on exit).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self.sqlite = None;
        self
    }

    /// Keep state in a SQLite file (created if missing): journal, job output
    /// and run history survive restarts; a crash is recovered on the next start.
    pub fn sqlite(mut self, path: impl AsRef<Path>) -> Result<Self, SchedulerError> {
        let store = Arc::new(SqliteStore::open(path)?);
        self.store = Some(store.clone());
        self.sqlite = Some(store);
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
    pub async fn start(self) -> Result<Scheduler, SchedulerError> {
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let executor: Arc<dyn Executor> = match self.executor {
            Some(e) => e,
            None => Arc::new(self.executors),
        };
        let (rt, report) = Runtime::open(self.env.clone(), store, executor, self.clock).await?;
        let handle = rt.handle();
        let task = tokio::spawn(rt.run());
        Ok(Scheduler { handle, task, env: self.env, report, sqlite: self.sqlite })
    }
}

/// A running scheduler owned by the embedding service.
pub struct Scheduler {
    handle: Handle,
    task: tokio::task::JoinHandle<Result<(), RuntimeError>>,
    env: Arc<Environment>,
    report: RestoreReport,
    sqlite: Option<Arc<SqliteStore>>,
}

impl Scheduler {
    /// Configure a scheduler for these (validated) definitions.
    pub fn builder(env: Environment) -> SchedulerBuilder {
        SchedulerBuilder {
            env: Arc::new(env),
            store: None,
            sqlite: None,
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

    /// The definitions it runs.
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// What was recovered when it opened (jobs ended with 239, missed starts).
    pub fn recovery(&self) -> &RestoreReport {
        &self.report
    }

    /// Planned starts from `from` to `to` (operating days), optionally of one jobnet.
    pub fn plan(&self, from: NaiveDate, to: NaiveDate, jobnet: Option<&JobnetKey>) -> Vec<PlannedStart> {
        woi_core::plan::plan(&self.env, from, to, jobnet)
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
    /// a crash would record them.
    pub async fn stop(self) -> Result<(), SchedulerError> {
        // A scheduler that already stopped (store failure) reports it below.
        let _ = self.handle.shutdown().await;
        match self.task.await {
            Ok(r) => Ok(r?),
            Err(e) => Err(SchedulerError::Task(e.to_string())),
        }
    }
}
