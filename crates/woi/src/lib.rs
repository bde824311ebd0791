//! # woi — workload automation with business calendars, as a library
//!
//! woi schedules **jobnets** (flows of jobs) on **business calendars** with a
//! day-change time, holiday shifts, message events, restart and recovery —
//! what Fujitsu WOI / Systemwalker Operation Manager do — inside your own
//! Rust service. The `woi` command and `woi serve` are thin wrappers over
//! exactly this API.
//!
//! | You want to | Use |
//! |---|---|
//! | define jobnets in code | [`build`]: [`Definitions::builder`], [`Jobnet`], [`Job`], [`Calendar`] |
//! | load definition files (TOML/JSON) | [`load_files`], or [`Catalog`] for texts |
//! | run a scheduler in your service | [`Scheduler::builder`] → [`Scheduler`], its [`Handle`] |
//! | follow every state change | [`Handle::changes`] (a `futures::Stream` of [`Change`]) |
//! | operate a jobnet (typed) | [`Handle::start_jobnet`], [`Handle::cancel_jobnet`], [`Handle::jobnet_op`] with [`JobnetOp`] (pause, continue, disable, enable, confirm, restart) |
//! | run jobs of your own kind | [`JobHandler`], registered with [`SchedulerBuilder::handler`] |
//! | unit-test your jobnets in milliseconds | [`sim`]: the production engine on a virtual clock |
//! | forecast start times | [`Scheduler::plan`], [`plan::plan`] |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use woi::{Definitions, Job, Jobnet, JobnetKey, JobnetStatus, Scheduler};
//!
//! let env = Definitions::builder()
//!     .jobnet(Jobnet::new("APP", "HELLO").job(Job::command(1, "echo hello")))
//!     .build()?;
//! let scheduler = Scheduler::builder(env).start().await?;
//! let key = JobnetKey::new("APP", "HELLO");
//! scheduler.handle().start_jobnet(&key, None).await?;
//! let status = woi::wait_for_end(scheduler.handle(), &key).await?;
//! assert_eq!(status, JobnetStatus::Completed);
//! scheduler.stop().await?;
//! # Ok(()) }
//! ```
//!
//! Dependencies: besides `woi`, a service needs `tokio` (the scheduler runs
//! on the caller's runtime) and `futures` (for [`Handle::changes`]); a
//! [`JobHandler`] is implemented with `#[async_trait::async_trait]`, so a
//! crate implementing one also depends on `async-trait = "0.1"`. Dates and
//! times are `chrono` types, re-exported as [`woi::chrono`](chrono).
//!
//! Stop a scheduler with [`Scheduler::stop`]. Dropping it without `stop`
//! asks it to stop in the background (jobs still executing end with 239);
//! once stopped, its [`Handle`]s answer [`RuntimeError::Stopped`] and
//! [`Handle::changes`] streams end.
//!
//! Invariants: the engine ([`woi_core`]) is pure — no I/O, no clock reads, no
//! tokio; everything that touches the outside world is in [`woi_adapters`]
//! and replaceable (store, executors, clock).
#![warn(missing_docs)]

use std::path::PathBuf;

use futures::StreamExt;

/// The date and time types of the API (`DateTime<Utc>`, `NaiveDate`, …).
pub use chrono;
pub use woi_adapters as adapters;
pub use woi_core as core;

pub use woi_adapters::executors::{ExecutorSet, JobContext, JobHandler};
pub use woi_adapters::files::FilesError;
pub use woi_adapters::process::ProcessExecutor;
pub use woi_adapters::runtime::{
    Change, EVENT_STREAM_CAPACITY, Handle, JobnetOp, OffsetClock, RuntimeError, SystemClock,
};
pub use woi_adapters::scheduler::{Scheduler, SchedulerBuilder, SchedulerError};
pub use woi_adapters::sqlite::{HistoryFilter, JobRunRecord, JobnetRunRecord, SqliteError, SqliteStore};
pub use woi_core::build::{self, BuildError, Calendar, Definitions, Job, Jobnet};
pub use woi_core::builtin::Occurrence;
pub use woi_core::engine::{
    EventCount, JobView, JobnetView, RaiseRequest, Reception, Refusal, ReloadReport, RestoreReport,
};
pub use woi_core::exec::JobRun;
pub use woi_core::model::{HolidayHandling, JobKind, MissedStart, TimeCombination, WaitMode};
pub use woi_core::plan::PlannedStart;
pub use woi_core::sim::{self, Action, Outcome, Script};
pub use woi_core::store::{MemoryStore, Store};
pub use woi_core::{
    Catalog, Clock, Diagnostic, Environment, Event, EventKind, ExitCode, JobStatus, JobnetKey, JobnetStatus,
    ManualClock, plan,
};

/// Load and validate definition files (files or directories of `.toml` /
/// `.json`), exactly as `woi validate` does.
pub fn load_files(paths: &[PathBuf]) -> Result<Environment, LoadError> {
    let catalog = woi_adapters::files::load(paths)?;
    catalog.compile().map_err(|diagnostics| LoadError::Invalid(BuildError { diagnostics }))
}

/// Why definition files could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file could not be read.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// The definitions are not valid; every problem names file, object and field.
    #[error(transparent)]
    Invalid(#[from] BuildError),
}

/// The end status of `jobnet`'s last run (Completed, Pseudo-normal,
/// Abended, Cancelled), waiting for it if needed.
///
/// - If the last run has ended (the jobnet is not running), returns that
///   run's status at once — it does not wait for a later run.
/// - Otherwise (running, or waiting for its first start or a message
///   event) waits until the run under way, or the next one, ends.
///
/// Errors: [`RuntimeError::Refused`] with [`Refusal::UnknownJobnet`] at once
/// for a jobnet the scheduler does not know; [`RuntimeError::Stopped`] when
/// the scheduler stops first. If the change stream reports missed events
/// ([`Change::Missed`]), the jobnet's status is read again, so a missed end
/// is not waited past.
pub async fn wait_for_end(handle: &Handle, jobnet: &JobnetKey) -> Result<JobnetStatus, RuntimeError> {
    // Subscribe before reading the status, so no end falls in between.
    let mut changes = Box::pin(handle.changes());
    let ended = |s: JobnetStatus| {
        matches!(
            s,
            JobnetStatus::Completed | JobnetStatus::PseudoNormal | JobnetStatus::Abended | JobnetStatus::Cancelled
        )
    };
    let status = async || -> Result<JobnetStatus, RuntimeError> {
        handle
            .jobnets()
            .await?
            .into_iter()
            .find(|v| &v.key == jobnet)
            .map(|v| v.status)
            .ok_or_else(|| RuntimeError::Refused(Refusal::UnknownJobnet(jobnet.to_string())))
    };
    let current = status().await?;
    if ended(current) {
        return Ok(current);
    }
    while let Some(change) = changes.next().await {
        match change {
            Change::Event(Event { kind: EventKind::JobnetStatus { jobnet: k, status, .. }, .. })
                if &k == jobnet && ended(status) =>
            {
                return Ok(status);
            }
            Change::Missed(_) => {
                // The end may be among the missed events: look again.
                let now = status().await?;
                if ended(now) {
                    return Ok(now);
                }
            }
            _ => {}
        }
    }
    Err(RuntimeError::Stopped)
}
