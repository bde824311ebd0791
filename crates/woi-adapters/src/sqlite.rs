//! The SQLite store: the engine's journal, the applied definitions, job
//! output and the derived run history in one embedded database file.
//!
//! # Durability
//!
//! The database is in WAL mode with `synchronous=FULL` on the writing
//! connection: every commit fsyncs the write-ahead log before `append`
//! answers, so an accepted event survives a power failure. (`NORMAL` in WAL
//! mode only syncs at checkpoints: the database stays consistent, but the last
//! commits before a power loss may roll back, which would break the driver's
//! write-ahead promise — "an accepted message event is durable before we say
//! 200".) The price, one fsync per commit, is paid once per batch of requests:
//!
//! # Group commit
//!
//! One writer thread owns the writing connection. [`Store::append`]
//! ([`SqliteStore::append_events`]),
//! [`Store::save_output`], [`Store::set_definitions`] and
//! [`SqliteStore::prune_history`] send a request to it over a channel and
//! await the answer on a oneshot channel (so no async runtime thread ever
//! blocks on SQLite). The writer takes everything queued, applies each request
//! in its own savepoint of ONE transaction (a failing request is rolled back
//! alone and answered with its error), commits once, then answers every
//! caller. N concurrent appends thus cost about one fsync, not N;
//! [`SqliteStore::commits`] counts the commits. Reads run on a separate
//! reader thread with its own connection, so they never wait for the writer
//! (WAL readers see the last committed state).
//!
//! # Schema (version 1, `PRAGMA user_version`; `PRAGMA application_id` = `WOI1`)
//!
//! | table | columns | |
//! |---|---|---|
//! | `journal` | `seq` (primary key), `at`, `kind`, `jobnet`, `body` | `body` is the event's JSON |
//! | `journal_latest` | `jobnet`, `keep_key`, `seq` | the latest event of each state-carrying key (see retention) |
//! | `definitions` | `name` (primary key), `text`, `ord` | replaced as a whole |
//! | `job_output` | `id`, `jobnet`, `job`, `attempt`, `host`, `output`, `at` | `at`: when it was saved (wall clock) |
//! | `jobnet_runs` | `jobnet`, `run`, `status`, `exit_code`, `started_at`, `ended_at`, `start_seq` | one row per jobnet run |
//! | `job_runs` | `jobnet`, `run`, `job`, `name`, `attempt`, `status`, `exit_code`, `raw_code`, `started_at`, `ended_at`, `first_seq` | one row per job attempt |
//!
//! Instants are stored as RFC 3339 UTC text with nanoseconds
//! (`2024-01-02T03:04:05.000000000Z`), which sorts like the instants. The
//! migrations ([`SCHEMA_VERSION`] steps) are applied on open in one
//! transaction; a database written by a newer woi is refused
//! ([`SqliteError::TooNew`]), and so is an SQLite file of another application.
//!
//! # History (derived in the same transaction as the journal append)
//!
//! * A jobnet status event of run `r > 0`: `executing` creates the row of
//!   `(jobnet, r)` (started_at, start_seq), or reopens it (a restart). On an
//!   open run every status is recorded; an ended status (completed,
//!   pseudo-normal, abended, cancelled) also sets `exit_code` and `ended_at`.
//!   After the run ended, only ended statuses and `confirmed` change it:
//!   `waiting`, `carried_over`, … that follow describe the jobnet's next start,
//!   not this run.
//! * A job status event belongs to the current (highest) run of its jobnet
//!   (0 if none). `executing` creates the row of `(jobnet, run, job,
//!   attempt)`; a final status (completed, pseudo-normal, abended, cancelled,
//!   bypassed) sets status, codes and `ended_at`, creating the row without
//!   `started_at` if the attempt never executed (bypassed, skipped); other
//!   statuses (waiting, paused, warning) only update an open attempt.
//!
//! # Retention ([`SqliteStore::prune_history`])
//!
//! With `cutoff = now − keep_days`:
//! * `jobnet_runs`: runs that ended before the cutoff, except each jobnet's
//!   latest run, are removed;
//! * `job_runs`: attempts that ended (or, never ended, started) before the
//!   cutoff and whose run row is gone are removed;
//! * `job_output`: outputs saved before the cutoff are removed, except the
//!   latest of each job (the "previous history");
//! * `journal`: events before the cutoff are removed, except
//!   (a) the latest event of every state-carrying key (table
//!   `journal_latest`, kept up to date on append): per job its latest
//!   `job_status`; per jobnet and awaited message event name its latest
//!   `message_event`; per jobnet the latest event of every other kind
//!   (`jobnet_status`, `message_counts_cleared`, `copy_created`,
//!   `start_triggered`, `start_missed`, and any kind added to the engine
//!   later) — only `job_message` and `log` lines carry no state. So the
//!   engine's state can still be rebuilt from the journal;
//!   (b) every event of a jobnet from the start of its latest run (finished
//!   or not), or of an earlier run still open, so that the jobnet's last run
//!   (times, exit code, every job of it) is rebuilt exactly; (c) the
//!   journal's last event, so that `seq` keeps increasing across restarts.
//!
//! # Errors
//!
//! [`SqliteError`] names the file. A database locked by another process
//! beyond the busy timeout gives [`SqliteError::InUse`]; a file that is not an
//! SQLite database, is corrupt, or belongs to another application gives
//! [`SqliteError::NotADatabase`]. An event whose `seq` is already in the
//! journal is refused with [`SqliteError::DuplicateSeq`] (a
//! [`StoreError::Backend`]: two writers on one file, or a repeated append) and
//! nothing of that append is written. Into [`StoreError`] every error becomes
//! `Backend`, except an unreadable stored record, which becomes `Corrupt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use futures::channel::oneshot;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use woi_core::store::{DefinitionFile, JobOutput, PendingWrite, Store, StoreError};
use woi_core::{Event, EventKind, JobStatus, JobnetKey, JobnetStatus};

/// `PRAGMA application_id` of a woi database: `WOI1`.
const APPLICATION_ID: i64 = 0x574F_4931;

/// The migrations: step `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: journal, definitions, output, history.
    "CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        jobnet TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX journal_at ON journal (at);
    CREATE TABLE journal_latest (
        jobnet TEXT NOT NULL,
        keep_key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (jobnet, keep_key)
    ) WITHOUT ROWID;
    CREATE TABLE definitions (
        name TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        ord INTEGER NOT NULL
    );
    CREATE TABLE job_output (
        id INTEGER PRIMARY KEY,
        jobnet TEXT NOT NULL,
        job INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        host TEXT NOT NULL,
        output TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX job_output_job ON job_output (jobnet, job, id);
    CREATE TABLE jobnet_runs (
        jobnet TEXT NOT NULL,
        run INTEGER NOT NULL,
        status TEXT NOT NULL,
        exit_code INTEGER,
        started_at TEXT,
        ended_at TEXT,
        start_seq INTEGER NOT NULL,
        PRIMARY KEY (jobnet, run)
    );
    CREATE INDEX jobnet_runs_start ON jobnet_runs (start_seq);
    CREATE INDEX jobnet_runs_open ON jobnet_runs (jobnet, start_seq) WHERE ended_at IS NULL;
    CREATE TABLE job_runs (
        jobnet TEXT NOT NULL,
        run INTEGER NOT NULL,
        job INTEGER NOT NULL,
        name TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        exit_code INTEGER,
        raw_code INTEGER,
        started_at TEXT,
        ended_at TEXT,
        first_seq INTEGER NOT NULL,
        PRIMARY KEY (jobnet, run, job, attempt)
    );
    CREATE INDEX job_runs_seq ON job_runs (jobnet, first_seq);",
];

/// The schema version this code writes (the number of migrations).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A failure of the SQLite store. Every variant names the database file where
/// one is involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// Another process holds the database's write lock (longer than the busy timeout).
    #[error("database {} is in use by another process (still locked after {waited:?}: {detail})", path.display())]
    InUse {
        /// The database file.
        path: PathBuf,
        /// How long we waited for the lock.
        waited: Duration,
        /// SQLite's text.
        detail: String,
    },
    /// The file is not an SQLite database, is corrupt, or is not woi's.
    #[error("{} is not a woi database (not an SQLite file, corrupt, or another application's): {detail}", path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// The database was written by a newer woi.
    #[error(
        "database {} has schema version {found}, newer than this woi supports ({supported}); use a newer woi",
        path.display()
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this code knows.
        supported: i64,
    },
    /// An appended event's `seq` is already in the journal.
    #[error(
        "database {}: event seq {seq} is already in the journal (two writers on one database, or a repeated append)",
        path.display()
    )]
    DuplicateSeq {
        /// The database file.
        path: PathBuf,
        /// The sequence number.
        seq: u64,
    },
    /// The events of one append are not in strictly increasing `seq` order,
    /// or a `seq` does not fit SQLite's integer.
    #[error("events to append must have strictly increasing seqs below 2^63: seq {seq} after seq {previous}")]
    SeqOrder {
        /// The previous event's `seq` (0 for the first).
        previous: u64,
        /// The offending `seq`.
        seq: u64,
    },
    /// A stored record could not be read back.
    #[error("database {}: unreadable record: {detail}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Which record and why.
        detail: String,
    },
    /// Any other SQLite failure.
    #[error("database {}: {context}: {detail}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What we were doing.
        context: &'static str,
        /// SQLite's text.
        detail: String,
    },
    /// The store's writer or reader thread is gone.
    #[error("database {}: the store's {thread} thread has stopped", path.display())]
    Stopped {
        /// The database file.
        path: PathBuf,
        /// `writer` or `reader`.
        thread: &'static str,
    },
    /// An earlier ordered write ([`Store::begin_append`]) failed, so later
    /// ones are refused: making them durable would leave a gap in the journal.
    #[error("database {}: an earlier ordered write failed; reopen the store", path.display())]
    OrderBroken {
        /// The database file.
        path: PathBuf,
    },
    /// A thread could not be started.
    #[error("database {}: cannot start the store's thread: {detail}", path.display())]
    Thread {
        /// The database file.
        path: PathBuf,
        /// The OS's text.
        detail: String,
    },
}

impl From<SqliteError> for StoreError {
    fn from(e: SqliteError) -> StoreError {
        match e {
            SqliteError::Corrupt { .. } => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// Settings of [`SqliteStore::open_with`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// How long to wait for a lock held by another connection before giving
    /// up with [`SqliteError::InUse`]. Default 5 s.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions { busy_timeout: Duration::from_secs(5) }
    }
}

/// A filter of [`SqliteStore::jobnet_history`]. The default selects everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only this jobnet.
    pub jobnet: Option<JobnetKey>,
    /// Only jobnets of this project.
    pub project: Option<String>,
    /// Only runs in this status.
    pub status: Option<JobnetStatus>,
    /// At most this many runs (newest first).
    pub limit: Option<usize>,
}

/// One jobnet run, as kept in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobnetRunRecord {
    /// The jobnet.
    pub jobnet: JobnetKey,
    /// Run number.
    pub run: u32,
    /// Its status (the last one recorded for the run).
    pub status: JobnetStatus,
    /// Jobnet exit code, once ended.
    pub exit_code: Option<u32>,
    /// When the run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// One job attempt, as kept in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobRunRecord {
    /// The jobnet.
    pub jobnet: JobnetKey,
    /// The jobnet run it belongs to (0: none recorded).
    pub run: u32,
    /// Job number.
    pub job: u16,
    /// Job name.
    pub name: String,
    /// Attempt number.
    pub attempt: u32,
    /// Its status (the last one recorded for the attempt).
    pub status: JobStatus,
    /// Scheduler-level exit code, once ended.
    pub exit_code: Option<u32>,
    /// The raw code when it differs.
    pub raw_code: Option<i64>,
    /// When it started executing (none if it never did: bypassed, skipped).
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// What [`SqliteStore::prune_history`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Journal events.
    pub journal: usize,
    /// Job outputs.
    pub outputs: usize,
    /// Jobnet runs.
    pub jobnet_runs: usize,
    /// Job attempts.
    pub job_runs: usize,
}

/// Where errors happen: the file and the busy timeout.
#[derive(Clone, Debug)]
struct Site {
    path: PathBuf,
    busy_timeout: Duration,
}

impl Site {
    /// Classify a rusqlite error: locked → in use, not a database / corrupt →
    /// not a database, anything else with its context.
    fn err(&self, context: &'static str, e: rusqlite::Error) -> SqliteError {
        let detail = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                SqliteError::InUse { path: self.path.clone(), waited: self.busy_timeout, detail }
            }
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                SqliteError::NotADatabase { path: self.path.clone(), detail }
            }
            _ => SqliteError::Sqlite { path: self.path.clone(), context, detail },
        }
    }

    fn corrupt(&self, detail: String) -> SqliteError {
        SqliteError::Corrupt { path: self.path.clone(), detail }
    }

    fn stopped(&self, thread: &'static str) -> SqliteError {
        SqliteError::Stopped { path: self.path.clone(), thread }
    }
}

/// Counters shared with the writer thread.
#[derive(Debug, Default)]
struct Shared {
    /// Committed write transactions.
    commits: AtomicU64,
    /// Requests sent to the writer and not yet taken by it.
    queued: AtomicUsize,
    /// An ordered append failed: later ordered appends are refused.
    order_broken: AtomicBool,
}

type Answer<T> = oneshot::Sender<Result<T, SqliteError>>;

/// A request to the writer thread.
enum Op {
    Append {
        events: Vec<Event>,
        rows: Vec<Row>,
        /// Jobs' outputs saved in the same savepoint, before the events.
        outputs: Vec<(JobOutput, String)>,
        /// Begun through [`Store::begin_append`]: refused after an earlier ordered write failed.
        ordered: bool,
        reply: Answer<()>,
    },
    SaveOutput {
        output: JobOutput,
        at: String,
        reply: Answer<()>,
    },
    SetDefinitions {
        files: Vec<DefinitionFile>,
        reply: Answer<()>,
    },
    Prune {
        cutoff: String,
        reply: Answer<PruneReport>,
    },
    /// Tests: hold the writer until the sender sends or is dropped.
    #[cfg(test)]
    Pause(mpsc::Receiver<()>),
}

/// Where to send a request's outcome.
enum Reply {
    Unit(Answer<()>),
    Prune(Answer<PruneReport>),
}

/// A request's outcome before the commit.
enum Done {
    Unit,
    Pruned(PruneReport),
}

impl Reply {
    fn send(self, outcome: Result<Done, SqliteError>) {
        // A caller that stopped waiting does not care: ignore send failures.
        match self {
            Reply::Unit(tx) => {
                let _ = tx.send(outcome.map(|_| ()));
            }
            Reply::Prune(tx) => {
                let _ = tx.send(outcome.map(|d| match d {
                    Done::Pruned(r) => r,
                    Done::Unit => PruneReport::default(),
                }));
            }
        }
    }
}

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// The SQLite [`Store`]; see the module documentation.
pub struct SqliteStore {
    site: Arc<Site>,
    shared: Arc<Shared>,
    writer: Option<mpsc::Sender<Op>>,
    reader: Option<mpsc::Sender<ReadJob>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.site.path).field("commits", &self.commits()).finish()
    }
}

impl SqliteStore {
    /// Open (or create) the database at `path` with default options, applying
    /// migrations. Blocking: call it at start-up or in a blocking task.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, SqliteError> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// Open (or create) the database at `path`, applying migrations. Blocking.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore, SqliteError> {
        let site = Arc::new(Site { path: path.as_ref().to_path_buf(), busy_timeout: options.busy_timeout });
        let mut writer = connect(&site)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| site.err("set WAL mode", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(SqliteError::Sqlite {
                path: site.path.clone(),
                context: "set WAL mode",
                detail: format!("journal mode stays {mode:?}"),
            });
        }
        writer.pragma_update(None, "synchronous", "FULL").map_err(|e| site.err("set synchronous=FULL", e))?;
        // Query plans that do not depend on bound values (the query planner
        // stability guarantee). Without it SQLite prepared the history's
        // "latest run of the jobnet" query (`MAX(run)`) again at every
        // execution, 2 per job, because its planner had looked at the bound
        // value: that was a third of the writer's CPU in the wide benchmark.
        // The writer's statements (key lookups, inserts, the prune's range
        // deletes) have one sensible plan whatever the values.
        writer
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| site.err("set the query planner stability guarantee", e))?;
        migrate(&mut writer, &site)?;
        let reader = connect(&site)?;
        reader.pragma_update(None, "query_only", true).map_err(|e| site.err("set query_only", e))?;

        let shared = Arc::new(Shared::default());
        let (wtx, wrx) = mpsc::channel::<Op>();
        let (rtx, rrx) = mpsc::channel::<ReadJob>();
        let spawn_err = |e: std::io::Error| SqliteError::Thread { path: site.path.clone(), detail: e.to_string() };
        let w = {
            let (site, shared) = (site.clone(), shared.clone());
            std::thread::Builder::new()
                .name("woi-sqlite-writer".into())
                .spawn(move || writer_loop(writer, &site, &wrx, &shared))
                .map_err(spawn_err)?
        };
        let r = std::thread::Builder::new()
            .name("woi-sqlite-reader".into())
            .spawn(move || {
                while let Ok(job) = rrx.recv() {
                    job(&reader);
                }
            })
            .map_err(spawn_err)?;
        Ok(SqliteStore { site, shared, writer: Some(wtx), reader: Some(rtx), threads: vec![w, r] })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.site.path
    }

    /// How many write transactions were committed since open (for tests and
    /// metrics: with group commit, fewer than the requests).
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Append events, in order, durably and atomically (all or none). An
    /// empty slice is a no-op. See the module documentation for errors.
    pub async fn append_events(&self, events: &[Event]) -> Result<(), SqliteError> {
        if events.is_empty() {
            return Ok(());
        }
        self.append_inner(events, Vec::new()).await
    }

    /// Save finished jobs' outputs and append `events` in one durable write
    /// (one commit, however many jobs ended together).
    pub async fn append_events_with_outputs(&self, events: &[Event], outputs: &[JobOutput]) -> Result<(), SqliteError> {
        let at = ts(Utc::now());
        self.append_inner(events, outputs.iter().map(|o| (o.clone(), at.clone())).collect()).await
    }

    async fn append_inner(&self, events: &[Event], outputs: Vec<(JobOutput, String)>) -> Result<(), SqliteError> {
        let rx = self.submit_append(events, outputs, false)?;
        rx.await.map_err(|_| self.site.stopped("writer"))?
    }

    /// Encode and queue an append for the writer (which commits in queue
    /// order); the receiver answers once it is durable.
    fn submit_append(
        &self,
        events: &[Event],
        outputs: Vec<(JobOutput, String)>,
        ordered: bool,
    ) -> Result<oneshot::Receiver<Result<(), SqliteError>>, SqliteError> {
        let mut previous = 0u64;
        let mut rows = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            if (i > 0 && e.seq <= previous) || i64::try_from(e.seq).is_err() {
                return Err(SqliteError::SeqOrder { previous, seq: e.seq });
            }
            previous = e.seq;
            // Encoding is done here, on the caller's task, not on the writer thread.
            rows.push(Row::new(&self.site, e)?);
        }
        let (reply, rx) = oneshot::channel();
        self.submit(Op::Append { events: events.to_vec(), rows, outputs, ordered, reply })?;
        Ok(rx)
    }

    /// Jobnet runs matching `filter`, newest first.
    pub async fn jobnet_history(&self, filter: HistoryFilter) -> Result<Vec<JobnetRunRecord>, SqliteError> {
        self.read(move |conn, site| query_jobnet_history(conn, site, &filter)).await
    }

    /// Job attempts of `jobnet` — of run `run`, or of every run kept when
    /// `None` — newest first, at most `limit`.
    pub async fn job_history(
        &self,
        jobnet: &JobnetKey,
        run: Option<u32>,
        limit: Option<usize>,
    ) -> Result<Vec<JobRunRecord>, SqliteError> {
        let jobnet = jobnet.to_string();
        self.read(move |conn, site| query_job_history(conn, site, &jobnet, run, limit)).await
    }

    /// Every jobnet run kept, newest first, each with its **execution
    /// sequence number**: the journal seq of the event that first started the
    /// run (`jobnet_runs.start_seq`). It is unique and grows with every new
    /// run, so the Web API uses it as the execution id (`jne-<seq>`).
    pub async fn jobnet_executions(&self) -> Result<Vec<(u64, JobnetRunRecord)>, SqliteError> {
        self.read(query_jobnet_executions).await
    }

    /// The sequence number of the journal's last event (0 when empty).
    pub async fn last_seq(&self) -> Result<u64, SqliteError> {
        self.read(|conn, site| {
            conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| site.err("read the journal", e))
        })
        .await
    }

    /// The journal's events of one kind (its serde name, e.g.
    /// `message_event_raised`) with a sequence number greater than `after`,
    /// oldest first: a reader that waits for one kind (`jobschchkmsgevt`)
    /// decodes only those.
    pub async fn events_of_kind_after(&self, kind: &'static str, after: u64) -> Result<Vec<Event>, SqliteError> {
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        self.read(move |conn, site| query_events(conn, site, after, Some(kind))).await
    }

    /// Every job attempt kept, newest first, as `(seq, run_seq, record)`:
    /// `seq` is the journal seq of the attempt's first recorded status
    /// (`job_runs.first_seq`, the Web API's `jbe-<seq>`), `run_seq` the
    /// execution sequence number of its jobnet run (0 when none is kept).
    pub async fn job_executions(&self) -> Result<Vec<(u64, u64, JobRunRecord)>, SqliteError> {
        self.read(query_job_executions).await
    }

    /// The kept output of one attempt of a job, if any.
    pub async fn job_output(
        &self,
        jobnet: &JobnetKey,
        job: u16,
        attempt: u32,
    ) -> Result<Option<JobOutput>, SqliteError> {
        let key = jobnet.clone();
        self.read(move |conn, site| {
            conn.prepare_cached(
                "SELECT host, output FROM job_output WHERE jobnet = ?1 AND job = ?2 AND attempt = ?3
                 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![key.to_string(), job, attempt], |r| {
                    Ok(JobOutput { jobnet: key.clone(), job, attempt, host: r.get(0)?, output: r.get(1)? })
                })
                .optional()
            })
            .map_err(|e| site.err("read job output", e))
        })
        .await
    }

    /// Remove the history of runs that finished more than `keep_days` days
    /// before `now`, keeping what the engine's state is rebuilt from (see the
    /// module documentation for the exact rule).
    pub async fn prune_history(&self, keep_days: u32, now: DateTime<Utc>) -> Result<PruneReport, SqliteError> {
        let cutoff = now.checked_sub_signed(TimeDelta::days(i64::from(keep_days))).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let (reply, rx) = oneshot::channel();
        self.submit(Op::Prune { cutoff: ts(cutoff), reply })?;
        rx.await.map_err(|_| self.site.stopped("writer"))?
    }

    fn submit(&self, op: Op) -> Result<(), SqliteError> {
        let tx = self.writer.as_ref().ok_or_else(|| self.site.stopped("writer"))?;
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        tx.send(op).map_err(|_| {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            self.site.stopped("writer")
        })
    }

    async fn write_unit(&self, op: impl FnOnce(Answer<()>) -> Op) -> Result<(), SqliteError> {
        let (reply, rx) = oneshot::channel();
        self.submit(op(reply))?;
        rx.await.map_err(|_| self.site.stopped("writer"))?
    }

    /// Run `f` on the reader thread.
    async fn read<R, F>(&self, f: F) -> Result<R, SqliteError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection, &Site) -> Result<R, SqliteError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let site = self.site.clone();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(f(conn, &site));
        });
        let reader = self.reader.as_ref().ok_or_else(|| self.site.stopped("reader"))?;
        reader.send(job).map_err(|_| self.site.stopped("reader"))?;
        rx.await.map_err(|_| self.site.stopped("reader"))?
    }

    /// Tests: hold the writer; it resumes when the returned sender sends or drops.
    #[cfg(test)]
    fn pause_writer(&self) -> mpsc::Sender<()> {
        let (tx, rx) = mpsc::channel();
        let _ = self.submit(Op::Pause(rx));
        tx
    }
}

impl Drop for SqliteStore {
    /// Close the channels and wait for the threads to finish what was queued,
    /// so that the file is closed when the store is gone.
    ///
    /// The reader closes first and the writer last: the last connection to
    /// close checkpoints the WAL into the database file, and two closing at
    /// once may each see the other still open and both skip it. After a
    /// graceful stop the database file alone holds everything (a copy of
    /// `woi.db` is a complete backup).
    fn drop(&mut self) {
        self.reader.take();
        if self.threads.len() > 1 {
            let _ = self.threads.remove(1).join();
        }
        self.writer.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, events: &[Event]) -> Result<(), StoreError> {
        Ok(self.append_events(events).await?)
    }

    async fn events_after(&self, after: u64) -> Result<Vec<Event>, StoreError> {
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        Ok(self.read(move |conn, site| query_events(conn, site, after, None)).await?)
    }

    async fn append_with_outputs(&self, events: &[Event], outputs: &[JobOutput]) -> Result<(), StoreError> {
        Ok(self.append_events_with_outputs(events, outputs).await?)
    }

    fn begin_append(&self, events: &[Event], outputs: &[JobOutput]) -> Option<PendingWrite> {
        let at = ts(Utc::now());
        let outputs = outputs.iter().map(|o| (o.clone(), at.clone())).collect();
        let site = self.site.clone();
        let submitted = self.submit_append(events, outputs, true);
        Some(Box::pin(async move {
            match submitted {
                Ok(rx) => Ok(rx.await.map_err(|_| site.stopped("writer"))??),
                Err(e) => Err(e.into()),
            }
        }))
    }

    async fn save_output(&self, output: &JobOutput) -> Result<(), StoreError> {
        let (output, at) = (output.clone(), ts(Utc::now()));
        Ok(self.write_unit(|reply| Op::SaveOutput { output, at, reply }).await?)
    }

    async fn last_output(&self, jobnet: &JobnetKey, job: u16) -> Result<Option<JobOutput>, StoreError> {
        let key = jobnet.clone();
        Ok(self.read(move |conn, site| query_last_output(conn, site, &key, job)).await?)
    }

    async fn definitions(&self) -> Result<Vec<DefinitionFile>, StoreError> {
        Ok(self.read(query_definitions).await?)
    }

    async fn set_definitions(&self, files: &[DefinitionFile]) -> Result<(), StoreError> {
        let files = files.to_vec();
        Ok(self.write_unit(|reply| Op::SetDefinitions { files, reply }).await?)
    }
}

// ---------------------------------------------------------------------------
// Opening and migrations

fn connect(site: &Site) -> Result<Connection, SqliteError> {
    let conn = Connection::open(&site.path).map_err(|e| site.err("open", e))?;
    conn.busy_timeout(site.busy_timeout).map_err(|e| site.err("set the busy timeout", e))?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, site: &Site) -> Result<(), SqliteError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| site.err("lock", e))?;
    let app: i64 =
        tx.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| site.err("read the header", e))?;
    let version: i64 =
        tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| site.err("read the header", e))?;
    if app != APPLICATION_ID {
        let objects: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| site.err("read the schema", e))?;
        if app != 0 || version != 0 || objects > 0 {
            return Err(SqliteError::NotADatabase {
                path: site.path.clone(),
                detail: format!(
                    "an SQLite database of another application (application id {app:#x}, {objects} schema objects)"
                ),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(SqliteError::TooNew { path: site.path.clone(), found: version, supported: SCHEMA_VERSION });
    }
    if version < SCHEMA_VERSION {
        for step in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(step).map_err(|e| site.err("migrate", e))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| site.err("migrate", e))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| site.err("migrate", e))?;
    }
    tx.commit().map_err(|e| site.err("commit the migration", e))
}

// ---------------------------------------------------------------------------
// The writer

fn writer_loop(mut conn: Connection, site: &Site, rx: &mpsc::Receiver<Op>, shared: &Shared) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        take(first, &mut batch, shared);
        while let Ok(op) = rx.try_recv() {
            take(op, &mut batch, shared);
        }
        if !batch.is_empty() {
            commit_batch(&mut conn, site, batch, shared);
        }
    }
    // The store is closing: move the WAL into the database file. Best
    // effort: everything is durable in the WAL already, and the next open
    // recovers it either way.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

fn take(op: Op, batch: &mut Vec<Op>, shared: &Shared) {
    shared.queued.fetch_sub(1, Ordering::SeqCst);
    match op {
        #[cfg(test)]
        Op::Pause(gate) => {
            let _ = gate.recv();
        }
        op => batch.push(op),
    }
}

/// Apply every request in its own savepoint of one transaction, commit once,
/// then answer every caller.
fn commit_batch(conn: &mut Connection, site: &Site, batch: Vec<Op>, shared: &Shared) {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let err = site.err("begin a write transaction", e);
            for op in batch {
                if let Some(reply) = split(op).0 {
                    reply.send(Err(err.clone()));
                }
            }
            return;
        }
    };
    let mut outcomes: Vec<(Reply, Result<Done, SqliteError>)> = Vec::with_capacity(batch.len());
    let mut any_ordered = false;
    for op in batch {
        let (reply, work) = split(op);
        let Some(reply) = reply else { continue };
        let ordered = matches!(work, Some(Work::Append { ordered: true, .. }));
        any_ordered |= ordered;
        if ordered && shared.order_broken.load(Ordering::SeqCst) {
            outcomes.push((reply, Err(SqliteError::OrderBroken { path: site.path.clone() })));
            continue;
        }
        let outcome = match tx.savepoint() {
            Ok(sp) => match work.map(|w| w.apply(&sp, site)) {
                Some(Ok(done)) => sp.commit().map(|()| done).map_err(|e| site.err("release a savepoint", e)),
                Some(Err(e)) => Err(e), // dropping the savepoint rolls it back
                None => Ok(Done::Unit),
            },
            Err(e) => Err(site.err("open a savepoint", e)),
        };
        if ordered && outcome.is_err() {
            shared.order_broken.store(true, Ordering::SeqCst);
        }
        outcomes.push((reply, outcome));
    }
    match tx.commit() {
        Ok(()) => {
            shared.commits.fetch_add(1, Ordering::SeqCst);
        }
        Err(e) => {
            // The failed transaction is rolled back when dropped by `commit`.
            let err = site.err("commit", e);
            if any_ordered {
                shared.order_broken.store(true, Ordering::SeqCst);
            }
            for (_, outcome) in &mut outcomes {
                if outcome.is_ok() {
                    *outcome = Err(err.clone());
                }
            }
        }
    }
    for (reply, outcome) in outcomes {
        reply.send(outcome);
    }
}

/// The work of a request, without its reply channel.
enum Work {
    Append { events: Vec<Event>, rows: Vec<Row>, outputs: Vec<(JobOutput, String)>, ordered: bool },
    SaveOutput(JobOutput, String),
    SetDefinitions(Vec<DefinitionFile>),
    Prune(String),
}

fn split(op: Op) -> (Option<Reply>, Option<Work>) {
    match op {
        Op::Append { events, rows, outputs, ordered, reply } => {
            (Some(Reply::Unit(reply)), Some(Work::Append { events, rows, outputs, ordered }))
        }
        Op::SaveOutput { output, at, reply } => (Some(Reply::Unit(reply)), Some(Work::SaveOutput(output, at))),
        Op::SetDefinitions { files, reply } => (Some(Reply::Unit(reply)), Some(Work::SetDefinitions(files))),
        Op::Prune { cutoff, reply } => (Some(Reply::Prune(reply)), Some(Work::Prune(cutoff))),
        #[cfg(test)]
        Op::Pause(_) => (None, None),
    }
}

impl Work {
    fn apply(self, conn: &Connection, site: &Site) -> Result<Done, SqliteError> {
        match self {
            Work::Append { events, rows, outputs, .. } => {
                for (o, at) in outputs {
                    Work::SaveOutput(o, at).apply(conn, site)?;
                }
                for (event, row) in events.iter().zip(&rows) {
                    insert_event(conn, site, event, row)?;
                }
                Ok(Done::Unit)
            }
            Work::SaveOutput(o, at) => {
                conn.prepare_cached(
                    "INSERT INTO job_output (jobnet, job, attempt, host, output, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut s| s.execute(params![o.jobnet.to_string(), o.job, o.attempt, o.host, o.output, at]))
                .map_err(|e| site.err("save job output", e))?;
                Ok(Done::Unit)
            }
            Work::SetDefinitions(files) => {
                conn.execute("DELETE FROM definitions", []).map_err(|e| site.err("replace definitions", e))?;
                let mut ins = conn
                    .prepare_cached("INSERT INTO definitions (name, text, ord) VALUES (?1, ?2, ?3)")
                    .map_err(|e| site.err("replace definitions", e))?;
                for (ord, f) in files.iter().enumerate() {
                    let ord = i64::try_from(ord).unwrap_or(i64::MAX);
                    ins.execute(params![f.name, f.text, ord]).map_err(|e| site.err("replace definitions", e))?;
                }
                Ok(Done::Unit)
            }
            Work::Prune(cutoff) => prune(conn, site, &cutoff).map(Done::Pruned),
        }
    }
}

/// RFC 3339 UTC with nanoseconds: fixed width, so text order is time order.
fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// What the journal's columns say of an event, read from its JSON so that
/// kinds added to the engine later are stored without a change here.
#[derive(Debug, serde::Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    jobnet: String,
    job: Option<u16>,
    event: Option<String>,
}

/// A journal row before it is written.
struct Row {
    seq: i64,
    at: String,
    kind: String,
    jobnet: String,
    keep_key: Option<String>,
    body: String,
}

impl Row {
    /// `keep_key`: what the event is the latest state of (see the module
    /// documentation). Log lines carry no state; a kind this code does not
    /// know is kept as the latest of its kind for its jobnet (the safe side).
    fn new(site: &Site, event: &Event) -> Result<Row, SqliteError> {
        let encode =
            |detail: String| SqliteError::Sqlite { path: site.path.clone(), context: "encode an event", detail };
        let body = serde_json::to_string(event).map_err(|e| encode(e.to_string()))?;
        let head: Head = serde_json::from_str(&body).map_err(|e| encode(e.to_string()))?;
        let keep_key = match head.kind.as_str() {
            "log" | "job_message" => None,
            "job_status" => Some(format!("job:{}", head.job.unwrap_or(0))),
            "job_flags" => Some(format!("flags:{}", head.job.unwrap_or(0))),
            "message_event" => Some(format!("event:{}", head.event.unwrap_or_default())),
            other => Some(other.to_owned()),
        };
        let seq = i64::try_from(event.seq).map_err(|_| SqliteError::SeqOrder { previous: 0, seq: event.seq })?;
        Ok(Row { seq, at: ts(event.at), kind: head.kind, jobnet: head.jobnet, keep_key, body })
    }
}

fn insert_event(conn: &Connection, site: &Site, event: &Event, row: &Row) -> Result<(), SqliteError> {
    let (seq, at) = (row.seq, &row.at);
    let inserted = conn
        .prepare_cached("INSERT INTO journal (seq, at, kind, jobnet, body) VALUES (?1, ?2, ?3, ?4, ?5)")
        .and_then(|mut s| s.execute(params![seq, at, row.kind, row.jobnet, row.body]));
    if let Err(e) = inserted {
        let duplicate = matches!(&e, rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY);
        return Err(if duplicate {
            SqliteError::DuplicateSeq { path: site.path.clone(), seq: event.seq }
        } else {
            site.err("append to the journal", e)
        });
    }
    if let Some(keep) = &row.keep_key {
        conn.prepare_cached(
            "INSERT INTO journal_latest (jobnet, keep_key, seq) VALUES (?1, ?2, ?3)
             ON CONFLICT (jobnet, keep_key) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > journal_latest.seq",
        )
        .and_then(|mut s| s.execute(params![row.jobnet, keep, seq]))
        .map_err(|e| site.err("append to the journal", e))?;
    }
    match &event.kind {
        EventKind::JobnetStatus { jobnet, run, status, exit_code } => {
            jobnet_status(conn, &jobnet.to_string(), *run, *status, *exit_code, at, seq)
        }
        EventKind::JobStatus { jobnet, job, name, status, exit, attempt } => {
            let (code, raw) = exit.map_or((None, None), |x| (Some(x.code), x.raw));
            let ev = JobEv { job: *job, name, status: *status, code, raw, attempt: *attempt };
            job_status(conn, &jobnet.to_string(), &ev, at, seq)
        }
        _ => Ok(()),
    }
    .map_err(|e| site.err("update the history", e))
}

fn jobnet_status(
    conn: &Connection,
    jobnet: &str,
    run: u32,
    status: JobnetStatus,
    exit_code: Option<u32>,
    at: &str,
    seq: i64,
) -> rusqlite::Result<()> {
    if run == 0 {
        return Ok(());
    }
    let row: Option<Option<String>> = conn
        .prepare_cached("SELECT ended_at FROM jobnet_runs WHERE jobnet = ?1 AND run = ?2")?
        .query_row(params![jobnet, run], |r| r.get(0))
        .optional()?;
    let s = status.as_str();
    match row {
        None if status == JobnetStatus::Executing => {
            conn.prepare_cached(
                "INSERT INTO jobnet_runs (jobnet, run, status, started_at, start_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![jobnet, run, s, at, seq])?;
        }
        None => {}
        Some(_) if status == JobnetStatus::Executing => {
            conn.prepare_cached(
                "UPDATE jobnet_runs SET status = ?3, exit_code = NULL, ended_at = NULL WHERE jobnet = ?1 AND run = ?2",
            )?
            .execute(params![jobnet, run, s])?;
        }
        Some(_) if status.is_ended() => {
            conn.prepare_cached(
                "UPDATE jobnet_runs SET status = ?3, exit_code = ?4, ended_at = ?5 WHERE jobnet = ?1 AND run = ?2",
            )?
            .execute(params![jobnet, run, s, exit_code, at])?;
        }
        Some(ended) if ended.is_none() || status == JobnetStatus::Confirmed => {
            conn.prepare_cached("UPDATE jobnet_runs SET status = ?3 WHERE jobnet = ?1 AND run = ?2")?
                .execute(params![jobnet, run, s])?;
        }
        Some(_) => {}
    }
    Ok(())
}

struct JobEv<'a> {
    job: u16,
    name: &'a str,
    status: JobStatus,
    code: Option<u32>,
    raw: Option<i64>,
    attempt: u32,
}

fn job_status(conn: &Connection, jobnet: &str, ev: &JobEv<'_>, at: &str, seq: i64) -> rusqlite::Result<()> {
    let run: u32 = conn
        .prepare_cached("SELECT COALESCE(MAX(run), 0) FROM jobnet_runs WHERE jobnet = ?1")?
        .query_row(params![jobnet], |r| r.get(0))?;
    let key = params![jobnet, run, ev.job, ev.attempt];
    let row: Option<Option<String>> = conn
        .prepare_cached("SELECT ended_at FROM job_runs WHERE jobnet = ?1 AND run = ?2 AND job = ?3 AND attempt = ?4")?
        .query_row(key, |r| r.get(0))
        .optional()?;
    let s = ev.status.as_str();
    let (final_, executing) = (ev.status.is_final(), ev.status == JobStatus::Executing);
    match row {
        None if executing || final_ => {
            let (started, ended) = if executing { (Some(at), None) } else { (None, Some(at)) };
            conn.prepare_cached(
                "INSERT INTO job_runs (jobnet, run, job, name, attempt, status, exit_code, raw_code, started_at,
                 ended_at, first_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![jobnet, run, ev.job, ev.name, ev.attempt, s, ev.code, ev.raw, started, ended, seq])?;
        }
        None => {}
        Some(_) if executing => {
            conn.prepare_cached(
                "UPDATE job_runs SET status = ?5, exit_code = NULL, raw_code = NULL, ended_at = NULL
                 WHERE jobnet = ?1 AND run = ?2 AND job = ?3 AND attempt = ?4",
            )?
            .execute(params![jobnet, run, ev.job, ev.attempt, s])?;
        }
        Some(_) if final_ => {
            conn.prepare_cached(
                "UPDATE job_runs SET status = ?5, exit_code = ?6, raw_code = ?7, ended_at = ?8
                 WHERE jobnet = ?1 AND run = ?2 AND job = ?3 AND attempt = ?4",
            )?
            .execute(params![jobnet, run, ev.job, ev.attempt, s, ev.code, ev.raw, at])?;
        }
        Some(None) => {
            conn.prepare_cached(
                "UPDATE job_runs SET status = ?5 WHERE jobnet = ?1 AND run = ?2 AND job = ?3 AND attempt = ?4",
            )?
            .execute(params![jobnet, run, ev.job, ev.attempt, s])?;
        }
        Some(Some(_)) => {}
    }
    Ok(())
}

fn prune(conn: &Connection, site: &Site, cutoff: &str) -> Result<PruneReport, SqliteError> {
    let run = |sql: &str| conn.execute(sql, params![cutoff]).map_err(|e| site.err("prune the history", e));
    let jobnet_runs = run("DELETE FROM jobnet_runs WHERE ended_at IS NOT NULL AND ended_at < ?1
         AND run < (SELECT MAX(r.run) FROM jobnet_runs r WHERE r.jobnet = jobnet_runs.jobnet)")?;
    let job_runs = run("DELETE FROM job_runs WHERE COALESCE(ended_at, started_at) < ?1
         AND NOT EXISTS (SELECT 1 FROM jobnet_runs r WHERE r.jobnet = job_runs.jobnet AND r.run = job_runs.run)")?;
    let outputs = run("DELETE FROM job_output WHERE at < ?1
         AND id < (SELECT MAX(o.id) FROM job_output o WHERE o.jobnet = job_output.jobnet AND o.job = job_output.job)")?;
    // `floor`: per jobnet, the first seq of its latest run or of a run still open.
    let journal = run("WITH floor (jobnet, seq) AS MATERIALIZED (
             SELECT r.jobnet, MIN(r.start_seq) FROM jobnet_runs r
             WHERE r.ended_at IS NULL OR r.run = (SELECT MAX(m.run) FROM jobnet_runs m WHERE m.jobnet = r.jobnet)
             GROUP BY r.jobnet)
         DELETE FROM journal WHERE at < ?1
         AND seq < (SELECT MAX(seq) FROM journal)
         AND seq NOT IN (SELECT seq FROM journal_latest)
         AND seq < COALESCE((SELECT f.seq FROM floor f WHERE f.jobnet = journal.jobnet), 9223372036854775807)")?;
    Ok(PruneReport { journal, outputs, jobnet_runs, job_runs })
}

// ---------------------------------------------------------------------------
// Reads

fn parse_ts(site: &Site, what: &str, text: Option<String>) -> Result<Option<DateTime<Utc>>, SqliteError> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| site.corrupt(format!("{what}: bad instant {t:?}: {e}")))
    })
    .transpose()
}

fn parse_key(site: &Site, what: &str, text: &str) -> Result<JobnetKey, SqliteError> {
    JobnetKey::parse(text).ok_or_else(|| site.corrupt(format!("{what}: bad jobnet key {text:?}")))
}

fn parse_status<T: serde::de::DeserializeOwned>(site: &Site, what: &str, text: String) -> Result<T, SqliteError> {
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| site.corrupt(format!("{what}: unknown status {text:?}")))
}

fn limit_of(limit: Option<usize>) -> i64 {
    limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX))
}

fn query_events(conn: &Connection, site: &Site, after: i64, kind: Option<&str>) -> Result<Vec<Event>, SqliteError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, body FROM journal WHERE seq > ?1 AND (?2 IS NULL OR kind = ?2) ORDER BY seq")
        .map_err(|e| site.err("read the journal", e))?;
    let rows = stmt
        .query_map(params![after, kind], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(|e| site.err("read the journal", e))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, body) = row.map_err(|e| site.err("read the journal", e))?;
        let event: Event = serde_json::from_str(&body).map_err(|e| site.corrupt(format!("journal seq {seq}: {e}")))?;
        if i64::try_from(event.seq).ok() != Some(seq) {
            return Err(site.corrupt(format!("journal seq {seq}: the event says seq {}", event.seq)));
        }
        out.push(event);
    }
    Ok(out)
}

fn query_last_output(
    conn: &Connection,
    site: &Site,
    jobnet: &JobnetKey,
    job: u16,
) -> Result<Option<JobOutput>, SqliteError> {
    conn.prepare_cached(
        "SELECT attempt, host, output FROM job_output WHERE jobnet = ?1 AND job = ?2 ORDER BY id DESC LIMIT 1",
    )
    .and_then(|mut s| {
        s.query_row(params![jobnet.to_string(), job], |r| {
            Ok(JobOutput { jobnet: jobnet.clone(), job, attempt: r.get(0)?, host: r.get(1)?, output: r.get(2)? })
        })
        .optional()
    })
    .map_err(|e| site.err("read job output", e))
}

fn query_definitions(conn: &Connection, site: &Site) -> Result<Vec<DefinitionFile>, SqliteError> {
    let mut stmt = conn
        .prepare_cached("SELECT name, text FROM definitions ORDER BY ord")
        .map_err(|e| site.err("read definitions", e))?;
    let rows = stmt
        .query_map([], |r| Ok(DefinitionFile { name: r.get(0)?, text: r.get(1)? }))
        .map_err(|e| site.err("read definitions", e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| site.err("read definitions", e))
}

type JobnetRow = (String, u32, String, Option<u32>, Option<String>, Option<String>);

fn query_jobnet_history(
    conn: &Connection,
    site: &Site,
    filter: &HistoryFilter,
) -> Result<Vec<JobnetRunRecord>, SqliteError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT jobnet, run, status, exit_code, started_at, ended_at FROM jobnet_runs
             WHERE (?1 IS NULL OR jobnet = ?1)
               AND (?2 IS NULL OR substr(jobnet, 1, length(?2) + 1) = ?2 || '/')
               AND (?3 IS NULL OR status = ?3)
             ORDER BY start_seq DESC LIMIT ?4",
        )
        .map_err(|e| site.err("read the jobnet history", e))?;
    let args = params![
        filter.jobnet.as_ref().map(|k| k.to_string()),
        filter.project,
        filter.status.map(|s| s.as_str()),
        limit_of(filter.limit)
    ];
    let rows = stmt
        .query_map(args, |r| -> rusqlite::Result<JobnetRow> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .map_err(|e| site.err("read the jobnet history", e))?;
    let mut out = Vec::new();
    for row in rows {
        let (jobnet, run, status, exit_code, started, ended) =
            row.map_err(|e| site.err("read the jobnet history", e))?;
        let what = format!("jobnet run {jobnet} #{run}");
        out.push(JobnetRunRecord {
            jobnet: parse_key(site, &what, &jobnet)?,
            run,
            status: parse_status(site, &what, status)?,
            exit_code,
            started_at: parse_ts(site, &what, started)?,
            ended_at: parse_ts(site, &what, ended)?,
        });
    }
    Ok(out)
}

fn query_jobnet_executions(conn: &Connection, site: &Site) -> Result<Vec<(u64, JobnetRunRecord)>, SqliteError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT jobnet, run, status, exit_code, started_at, ended_at, start_seq FROM jobnet_runs
             ORDER BY start_seq DESC",
        )
        .map_err(|e| site.err("read the jobnet history", e))?;
    let rows = stmt
        .query_map([], |r| -> rusqlite::Result<(JobnetRow, i64)> {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?), r.get(6)?))
        })
        .map_err(|e| site.err("read the jobnet history", e))?;
    let mut out = Vec::new();
    for row in rows {
        let ((jobnet, run, status, exit_code, started, ended), seq) =
            row.map_err(|e| site.err("read the jobnet history", e))?;
        let what = format!("jobnet run {jobnet} #{run}");
        let record = JobnetRunRecord {
            jobnet: parse_key(site, &what, &jobnet)?,
            run,
            status: parse_status(site, &what, status)?,
            exit_code,
            started_at: parse_ts(site, &what, started)?,
            ended_at: parse_ts(site, &what, ended)?,
        };
        out.push((u64::try_from(seq).unwrap_or(0), record));
    }
    Ok(out)
}

fn query_job_executions(conn: &Connection, site: &Site) -> Result<Vec<(u64, u64, JobRunRecord)>, SqliteError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT j.jobnet, j.run, j.job, j.name, j.attempt, j.status, j.exit_code, j.raw_code, j.started_at,
                    j.ended_at, j.first_seq, COALESCE(r.start_seq, 0)
             FROM job_runs j LEFT JOIN jobnet_runs r ON r.jobnet = j.jobnet AND r.run = j.run
             ORDER BY j.first_seq DESC",
        )
        .map_err(|e| site.err("read the job history", e))?;
    let rows = stmt
        .query_map([], |r| {
            let row = JobRow {
                jobnet: r.get(0)?,
                run: r.get(1)?,
                job: r.get(2)?,
                name: r.get(3)?,
                attempt: r.get(4)?,
                status: r.get(5)?,
                exit_code: r.get(6)?,
                raw_code: r.get(7)?,
                started: r.get(8)?,
                ended: r.get(9)?,
            };
            Ok((row, r.get::<_, i64>(10)?, r.get::<_, i64>(11)?))
        })
        .map_err(|e| site.err("read the job history", e))?;
    let mut out = Vec::new();
    for row in rows {
        let (row, seq, run_seq) = row.map_err(|e| site.err("read the job history", e))?;
        let what = format!("job run {} #{} job {} attempt {}", row.jobnet, row.run, row.job, row.attempt);
        let record = JobRunRecord {
            jobnet: parse_key(site, &what, &row.jobnet)?,
            run: row.run,
            job: row.job,
            name: row.name,
            attempt: row.attempt,
            status: parse_status(site, &what, row.status)?,
            exit_code: row.exit_code,
            raw_code: row.raw_code,
            started_at: parse_ts(site, &what, row.started)?,
            ended_at: parse_ts(site, &what, row.ended)?,
        };
        out.push((u64::try_from(seq).unwrap_or(0), u64::try_from(run_seq).unwrap_or(0), record));
    }
    Ok(out)
}

struct JobRow {
    jobnet: String,
    run: u32,
    job: u16,
    name: String,
    attempt: u32,
    status: String,
    exit_code: Option<u32>,
    raw_code: Option<i64>,
    started: Option<String>,
    ended: Option<String>,
}

fn query_job_history(
    conn: &Connection,
    site: &Site,
    jobnet: &str,
    run: Option<u32>,
    limit: Option<usize>,
) -> Result<Vec<JobRunRecord>, SqliteError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT jobnet, run, job, name, attempt, status, exit_code, raw_code, started_at, ended_at FROM job_runs
             WHERE jobnet = ?1 AND (?2 IS NULL OR run = ?2)
             ORDER BY first_seq DESC LIMIT ?3",
        )
        .map_err(|e| site.err("read the job history", e))?;
    let rows = stmt
        .query_map(params![jobnet, run, limit_of(limit)], |r| {
            Ok(JobRow {
                jobnet: r.get(0)?,
                run: r.get(1)?,
                job: r.get(2)?,
                name: r.get(3)?,
                attempt: r.get(4)?,
                status: r.get(5)?,
                exit_code: r.get(6)?,
                raw_code: r.get(7)?,
                started: r.get(8)?,
                ended: r.get(9)?,
            })
        })
        .map_err(|e| site.err("read the job history", e))?;
    let mut out = Vec::new();
    for row in rows {
        let row = row.map_err(|e| site.err("read the job history", e))?;
        let what = format!("job run {} #{} job {} attempt {}", row.jobnet, row.run, row.job, row.attempt);
        out.push(JobRunRecord {
            jobnet: parse_key(site, &what, &row.jobnet)?,
            run: row.run,
            job: row.job,
            name: row.name,
            attempt: row.attempt,
            status: parse_status(site, &what, row.status)?,
            exit_code: row.exit_code,
            raw_code: row.raw_code,
            started_at: parse_ts(site, &what, row.started)?,
            ended_at: parse_ts(site, &what, row.ended)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc as StdArc;
    use woi_core::ExitCode;
    use woi_core::messages::Level;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn key(name: &str) -> JobnetKey {
        JobnetKey::new("P", name)
    }

    fn jn(seq: u64, at: DateTime<Utc>, name: &str, run: u32, status: JobnetStatus, exit: Option<u32>) -> Event {
        Event { seq, at, kind: EventKind::JobnetStatus { jobnet: key(name), run, status, exit_code: exit } }
    }

    fn job(
        seq: u64,
        at: DateTime<Utc>,
        net: &str,
        n: u16,
        status: JobStatus,
        exit: Option<i64>,
        attempt: u32,
    ) -> Event {
        Event {
            seq,
            at,
            kind: EventKind::JobStatus {
                jobnet: key(net),
                job: n,
                name: format!("J{n}").into(),
                status,
                exit: exit.map(ExitCode::from_command),
                attempt,
            },
        }
    }

    fn log(seq: u64, at: DateTime<Utc>, net: &str) -> Event {
        Event { seq, at, kind: EventKind::Log { level: Level::Info, jobnet: key(net), message: format!("line {seq}") } }
    }

    fn msg(seq: u64, at: DateTime<Utc>, net: &str, count: u16) -> Event {
        let kind = EventKind::MessageEvent { jobnet: key(net), event: "EV".into(), counted: true, count, reason: None };
        Event { seq, at, kind }
    }

    fn seqs(events: &[Event]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    /// Wait (at most 10 s) until `n` requests are queued for the writer.
    async fn wait_queued(store: &SqliteStore, n: usize) {
        for _ in 0..10_000 {
            if store.shared.queued.load(Ordering::SeqCst) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("never {n} requests queued");
    }

    fn fast() -> SqliteOptions {
        SqliteOptions { busy_timeout: Duration::from_millis(100) }
    }

    // A closed store leaves everything in the database file itself: the WAL
    // is checkpointed and emptied, so a copy of `woi.db` alone is complete.
    #[tokio::test]
    async fn closing_the_store_checkpoints_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("woi.db");
        let store = SqliteStore::open(&path).unwrap();
        let events: Vec<Event> = (1..=200).map(|s| log(s, t(s as i64), "N")).collect();
        store.append(&events).await.unwrap();
        drop(store);
        let wal = std::fs::metadata(dir.path().join("woi.db-wal")).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal, 0, "the WAL is empty after close");
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        let reopened = SqliteStore::open(&copy).unwrap();
        assert_eq!(reopened.events_after(0).await.unwrap().len(), 200);
    }

    #[tokio::test]
    async fn round_trip_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("woi.db");
        let events = vec![
            jn(1, t(0), "N", 1, JobnetStatus::Executing, None),
            job(2, t(1), "N", 1, JobStatus::Executing, None, 1),
            job(3, t(2), "N", 1, JobStatus::Abended, Some(300), 1),
            Event { seq: 4, at: t(3), kind: EventKind::JobMessage { jobnet: key("N"), job: 1, text: "x".into() } },
            msg(5, t(4), "N", 1),
            Event { seq: 6, at: t(5), kind: EventKind::MessageCountsCleared { jobnet: key("N") } },
            log(7, t(6), "N"),
            jn(8, t(7), "N", 1, JobnetStatus::Abended, Some(255)),
        ];
        {
            let store = SqliteStore::open(&path).unwrap();
            store.append(&events[..3]).await.unwrap();
            store.append(&events[3..]).await.unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.events_after(0).await.unwrap(), events);
    }

    #[tokio::test]
    async fn events_of_kind_after_decodes_only_that_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        let cleared =
            |seq: u64| Event { seq, at: t(seq as i64), kind: EventKind::MessageCountsCleared { jobnet: key("N") } };
        let events = vec![log(1, t(1), "N"), cleared(2), log(3, t(3), "N"), cleared(4), log(5, t(5), "N")];
        store.append(&events).await.unwrap();
        let kind = "message_counts_cleared";
        assert_eq!(seqs(&store.events_of_kind_after(kind, 0).await.unwrap()), vec![2, 4]);
        assert_eq!(seqs(&store.events_of_kind_after(kind, 2).await.unwrap()), vec![4]);
        assert!(store.events_of_kind_after(kind, 4).await.unwrap().is_empty());
        assert!(store.events_of_kind_after("no_such_kind", 0).await.unwrap().is_empty());
        assert_eq!(store.last_seq().await.unwrap(), 5);
    }

    #[tokio::test]
    async fn events_after_returns_the_later_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        let events: Vec<Event> = (1..=10).map(|s| log(s, t(s as i64), "N")).collect();
        store.append(&events).await.unwrap();
        assert_eq!(seqs(&store.events_after(7).await.unwrap()), vec![8, 9, 10]);
        assert!(store.events_after(10).await.unwrap().is_empty());
        assert!(store.events_after(u64::MAX).await.unwrap().is_empty());
        assert_eq!(store.events_after(0).await.unwrap(), events);
    }

    #[tokio::test]
    async fn empty_append_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        let before = store.commits();
        store.append(&[]).await.unwrap();
        assert_eq!(store.commits(), before);
        assert!(store.events_after(0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn duplicate_seq_is_refused_and_nothing_of_the_append_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        store.append(&[log(1, t(0), "N"), log(2, t(0), "N")]).await.unwrap();
        let err = store.append_events(&[log(2, t(1), "N"), log(3, t(1), "N")]).await.unwrap_err();
        assert!(matches!(err, SqliteError::DuplicateSeq { seq: 2, .. }), "{err}");
        let err = StoreError::from(err);
        assert!(matches!(&err, StoreError::Backend(m) if m.contains("seq 2 is already in the journal")), "{err}");
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![1, 2]);
        // Out of order within one append.
        let err = store.append_events(&[log(5, t(1), "N"), log(4, t(1), "N")]).await.unwrap_err();
        assert_eq!(err, SqliteError::SeqOrder { previous: 5, seq: 4 });
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![1, 2]);
    }

    #[tokio::test]
    async fn ordered_writes_become_durable_in_order_and_stop_after_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        // Begun one after another, awaited in reverse: both land, in order.
        let first = store.begin_append(&[log(1, t(0), "N")], &[]).unwrap();
        let second = store.begin_append(&[log(2, t(0), "N")], &[]).unwrap();
        second.await.unwrap();
        first.await.unwrap();
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![1, 2]);
        // A failing ordered write (seq 2 again) refuses every later one, so
        // the journal never gets a gap.
        let failing = store.begin_append(&[log(2, t(1), "N")], &[]).unwrap();
        let later = store.begin_append(&[log(3, t(1), "N")], &[]).unwrap();
        assert!(failing.await.is_err());
        let err = later.await.unwrap_err();
        assert!(err.to_string().contains("an earlier ordered write failed"), "{err}");
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![1, 2]);
    }

    #[tokio::test]
    async fn definitions_are_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        assert!(store.definitions().await.unwrap().is_empty());
        let file = |n: &str| DefinitionFile { name: n.into(), text: format!("# {n}") };
        store.set_definitions(&[file("b.toml"), file("a.toml")]).await.unwrap();
        assert_eq!(store.definitions().await.unwrap(), vec![file("b.toml"), file("a.toml")]);
        store.set_definitions(&[file("c.toml")]).await.unwrap();
        assert_eq!(store.definitions().await.unwrap(), vec![file("c.toml")]);
        // A failing replacement (two files of one name) leaves the previous set.
        let err = store.set_definitions(&[file("d.toml"), file("d.toml")]).await.unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err}");
        assert_eq!(store.definitions().await.unwrap(), vec![file("c.toml")]);
    }

    #[tokio::test]
    async fn output_is_saved_and_the_latest_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        assert_eq!(store.last_output(&key("N"), 1).await.unwrap(), None);
        let out = |job: u16, attempt: u32| JobOutput {
            jobnet: key("N"),
            job,
            attempt,
            host: "h1".into(),
            output: format!("job {job} attempt {attempt}\n"),
        };
        store.save_output(&out(1, 1)).await.unwrap();
        store.save_output(&out(2, 1)).await.unwrap();
        store.save_output(&out(1, 2)).await.unwrap();
        assert_eq!(store.last_output(&key("N"), 1).await.unwrap(), Some(out(1, 2)));
        assert_eq!(store.last_output(&key("N"), 2).await.unwrap(), Some(out(2, 1)));
        assert_eq!(store.last_output(&key("M"), 1).await.unwrap(), None);
    }

    #[tokio::test]
    async fn history_of_two_runs() {
        use JobStatus as J;
        use JobnetStatus as N;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        let events = vec![
            // Waiting before any run: no history.
            jn(1, t(0), "N", 0, N::Waiting, None),
            // Run 1: J1 completes, J2 abends with 300 (→ 255), the jobnet abends, is confirmed, waits again.
            jn(2, t(10), "N", 1, N::Executing, None),
            job(3, t(10), "N", 1, J::Executing, None, 1),
            job(4, t(20), "N", 1, J::Completed, Some(0), 1),
            job(5, t(20), "N", 2, J::Executing, None, 1),
            job(6, t(30), "N", 2, J::Abended, Some(300), 1),
            jn(7, t(30), "N", 1, N::Abended, Some(255)),
            jn(8, t(40), "N", 1, N::Confirmed, None),
            jn(9, t(50), "N", 1, N::Waiting, None),
            // Run 2: J1 completes, J2 is bypassed, the jobnet completes.
            jn(10, t(100), "N", 2, N::Executing, None),
            job(11, t(100), "N", 1, J::Executing, None, 2),
            job(12, t(110), "N", 1, J::Completed, Some(0), 2),
            job(13, t(110), "N", 2, J::Bypassed, None, 1),
            jn(14, t(110), "N", 2, N::Completed, Some(0)),
            jn(15, t(120), "N", 2, N::Waiting, None),
            // Another jobnet, still running.
            jn(16, t(130), "M", 1, N::Executing, None),
        ];
        store.append(&events).await.unwrap();

        let all = store.jobnet_history(HistoryFilter::default()).await.unwrap();
        let run =
            |jobnet: &str, run: u32, status, exit_code, started: Option<i64>, ended: Option<i64>| JobnetRunRecord {
                jobnet: key(jobnet),
                run,
                status,
                exit_code,
                started_at: started.map(t),
                ended_at: ended.map(t),
            };
        let m1 = run("M", 1, N::Executing, None, Some(130), None);
        let n2 = run("N", 2, N::Completed, Some(0), Some(100), Some(110));
        let n1 = run("N", 1, N::Confirmed, Some(255), Some(10), Some(30));
        assert_eq!(all, vec![m1.clone(), n2.clone(), n1.clone()]);

        let f = HistoryFilter { jobnet: Some(key("N")), ..HistoryFilter::default() };
        assert_eq!(store.jobnet_history(f.clone()).await.unwrap(), vec![n2.clone(), n1.clone()]);
        let f1 = HistoryFilter { limit: Some(1), ..f.clone() };
        assert_eq!(store.jobnet_history(f1).await.unwrap(), vec![n2.clone()]);
        let fc = HistoryFilter { status: Some(N::Completed), ..HistoryFilter::default() };
        assert_eq!(store.jobnet_history(fc).await.unwrap(), vec![n2]);
        let fp = HistoryFilter { project: Some("P".into()), status: Some(N::Executing), ..HistoryFilter::default() };
        assert_eq!(store.jobnet_history(fp).await.unwrap(), vec![m1]);
        let fq = HistoryFilter { project: Some("Q".into()), ..HistoryFilter::default() };
        assert!(store.jobnet_history(fq).await.unwrap().is_empty());

        let r1 = store.job_history(&key("N"), Some(1), None).await.unwrap();
        let j2 = &r1[0];
        assert_eq!((j2.job, j2.name.as_str(), j2.attempt, j2.status), (2, "J2", 1, J::Abended));
        assert_eq!((j2.exit_code, j2.raw_code), (Some(255), Some(300)));
        assert_eq!((j2.started_at, j2.ended_at), (Some(t(20)), Some(t(30))));
        let j1 = &r1[1];
        assert_eq!((j1.job, j1.attempt, j1.status, j1.exit_code, j1.raw_code), (1, 1, J::Completed, Some(0), None));
        assert_eq!((j1.started_at, j1.ended_at), (Some(t(10)), Some(t(20))));
        assert_eq!(r1.len(), 2);

        let r2 = store.job_history(&key("N"), Some(2), None).await.unwrap();
        assert_eq!(r2.len(), 2);
        assert_eq!((r2[0].job, r2[0].status, r2[0].started_at, r2[0].ended_at), (2, J::Bypassed, None, Some(t(110))));
        assert_eq!((r2[1].job, r2[1].attempt, r2[1].status, r2[1].run), (1, 2, J::Completed, 2));

        let every = store.job_history(&key("N"), None, None).await.unwrap();
        assert_eq!(every.iter().map(|r| (r.run, r.job)).collect::<Vec<_>>(), vec![(2, 2), (2, 1), (1, 2), (1, 1)]);
        assert_eq!(store.job_history(&key("N"), None, Some(3)).await.unwrap().len(), 3);
        // Records serialize (for the API and the CLI).
        let json = serde_json::to_value(&every[0]).unwrap();
        assert_eq!(json["jobnet"], "P/N");
        assert_eq!(json["status"], "bypassed");
    }

    #[tokio::test]
    async fn a_restart_reopens_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        store
            .append(&[
                jn(1, t(0), "N", 1, JobnetStatus::Executing, None),
                jn(2, t(5), "N", 1, JobnetStatus::Abended, Some(1)),
                jn(3, t(9), "N", 1, JobnetStatus::Executing, None),
            ])
            .await
            .unwrap();
        let h = store.jobnet_history(HistoryFilter::default()).await.unwrap();
        assert_eq!(
            (h[0].status, h[0].exit_code, h[0].started_at, h[0].ended_at),
            (JobnetStatus::Executing, None, Some(t(0)), None)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn group_commit_batches_concurrent_appends() {
        let dir = tempfile::tempdir().unwrap();
        let store = StdArc::new(SqliteStore::open(dir.path().join("woi.db")).unwrap());
        // Hold the writer so that every append is queued before it resumes:
        // the batching is then a behavior, not a race.
        let gate = store.pause_writer();
        wait_queued(&store, 0).await;
        let before = store.commits();
        let tasks: Vec<_> = (1..=200u64)
            .map(|s| {
                let store = store.clone();
                tokio::spawn(async move { store.append(&[log(s, t(s as i64), "N")]).await })
            })
            .collect();
        wait_queued(&store, 200).await;
        drop(gate);
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let commits = store.commits() - before;
        assert_eq!(commits, 1, "200 queued appends, one transaction");
        assert!(commits < 200);
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), (1..=200).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_appends_all_land_in_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = StdArc::new(SqliteStore::open(dir.path().join("woi.db")).unwrap());
        let before = store.commits();
        let tasks: Vec<_> = (1..=200u64)
            .map(|s| {
                let store = store.clone();
                tokio::spawn(async move { store.append(&[log(s, t(s as i64), "N")]).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert!(store.commits() - before <= 200);
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), (1..=200).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_request_does_not_spoil_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = StdArc::new(SqliteStore::open(dir.path().join("woi.db")).unwrap());
        store.append(&[log(1, t(0), "N")]).await.unwrap();
        let gate = store.pause_writer();
        wait_queued(&store, 0).await;
        let before = store.commits();
        let (a, b) = (store.clone(), store.clone());
        // Seq 0 is new, seq 1 is not: the whole append fails, seq 0 included.
        let dup = tokio::spawn(async move { a.append_events(&[log(0, t(0), "N"), log(1, t(0), "N")]).await });
        let ok = tokio::spawn(async move { b.append_events(&[log(3, t(0), "N")]).await });
        wait_queued(&store, 2).await;
        drop(gate);
        let err = dup.await.unwrap().unwrap_err();
        assert!(matches!(err, SqliteError::DuplicateSeq { seq: 1, .. }), "{err}");
        ok.await.unwrap().unwrap();
        assert_eq!(store.commits() - before, 1);
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![1, 3]);
    }

    #[tokio::test]
    async fn a_garbage_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.db");
        std::fs::write(&path, "this is not a database, just some text\n".repeat(200)).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, SqliteError::NotADatabase { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()) && text.contains("not a woi database"), "{text}");
    }

    #[tokio::test]
    async fn another_applications_sqlite_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE customers (id INTEGER);").unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, SqliteError::NotADatabase { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_locked_database_is_reported_as_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("woi.db");
        drop(SqliteStore::open(&path).unwrap());

        // Another process holds the write lock: open fails clearly.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = SqliteStore::open_with(&path, fast()).unwrap_err();
        assert!(matches!(err, SqliteError::InUse { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()) && text.contains("is in use by another process"), "{text}");
        other.execute_batch("COMMIT").unwrap();

        // The lock is taken while the store is open: the append fails clearly,
        // then succeeds once the lock is gone.
        let store = SqliteStore::open_with(&path, fast()).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = store.append(&[log(1, t(0), "N")]).await.unwrap_err();
        assert!(matches!(&err, StoreError::Backend(m) if m.contains("is in use by another process")), "{err}");
        other.execute_batch("ROLLBACK").unwrap();
        store.append(&[log(1, t(0), "N")]).await.unwrap();
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![1]);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("woi.db");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(
            err,
            SqliteError::TooNew { path: path.clone(), found: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION }
        );
        assert!(err.to_string().contains("newer than this woi supports"));
    }

    #[tokio::test]
    async fn the_database_is_in_wal_mode_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("woi.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), version), ("wal", SCHEMA_VERSION));
        // Reopening an up-to-date database changes nothing.
        drop(SqliteStore::open(&path).unwrap());
    }

    #[tokio::test]
    async fn prune_keeps_the_latest_state_and_open_runs() {
        use JobStatus as J;
        use JobnetStatus as N;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("woi.db")).unwrap();
        let now = Utc::now() + TimeDelta::days(30);
        let day = |d: i64| now - TimeDelta::days(100 - d);
        let events = vec![
            // A run 1 (old, finished).
            jn(1, day(0), "A", 1, N::Executing, None),
            job(2, day(0), "A", 1, J::Executing, None, 1),
            job(3, day(0), "A", 1, J::Completed, Some(0), 1),
            log(4, day(0), "A"),
            jn(5, day(0), "A", 1, N::Completed, Some(0)),
            // B run 1 (old, finished, B's latest).
            jn(6, day(1), "B", 1, N::Executing, None),
            job(7, day(1), "B", 1, J::Executing, None, 1),
            job(8, day(1), "B", 1, J::Completed, Some(0), 1),
            jn(9, day(1), "B", 1, N::Completed, Some(0)),
            // A run 2 (old, finished).
            jn(10, day(2), "A", 2, N::Executing, None),
            job(11, day(2), "A", 1, J::Executing, None, 2),
            job(12, day(2), "A", 1, J::Abended, Some(1), 2),
            jn(13, day(2), "A", 2, N::Abended, Some(1)),
            // A run 3: started long ago, still open.
            jn(14, day(3), "A", 3, N::Executing, None),
            job(15, day(3), "A", 1, J::Executing, None, 3),
            log(16, day(3), "A"),
            // Recent.
            log(17, day(99), "B"),
            // Message-event counts of C, a jobnet that never ran.
            msg(18, day(1), "C", 1),
            msg(19, day(1), "C", 2),
        ];
        store.append(&events).await.unwrap();
        let out = |attempt: u32| JobOutput { jobnet: key("A"), job: 1, attempt, host: "h".into(), output: "o".into() };
        store.save_output(&out(1)).await.unwrap();
        store.save_output(&out(2)).await.unwrap();

        let report = store.prune_history(7, now).await.unwrap();
        assert_eq!(report, PruneReport { journal: 10, outputs: 1, jobnet_runs: 2, job_runs: 2 });
        // Kept: B's latest run (6–9) and what followed (17), A's open run (14–16), C's latest count (19).
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![6, 7, 8, 9, 14, 15, 16, 17, 19]);
        let runs = store.jobnet_history(HistoryFilter::default()).await.unwrap();
        assert_eq!(
            runs.iter().map(|r| (r.jobnet.jobnet.to_string(), r.run)).collect::<Vec<_>>(),
            vec![("A".to_string(), 3), ("B".to_string(), 1)]
        );
        let jobs = store.job_history(&key("A"), None, None).await.unwrap();
        assert_eq!(jobs.iter().map(|r| (r.run, r.attempt)).collect::<Vec<_>>(), vec![(3, 3)]);
        assert_eq!(store.job_history(&key("B"), None, None).await.unwrap().len(), 1);
        assert_eq!(store.last_output(&key("A"), 1).await.unwrap(), Some(out(2)));

        // Pruning again removes nothing; a longer retention removes nothing.
        assert_eq!(store.prune_history(7, now).await.unwrap(), PruneReport::default());
        // The open run goes on and ends; its history is intact.
        store
            .append(&[job(20, now, "A", 1, J::Completed, Some(0), 3), jn(21, now, "A", 3, N::Completed, Some(0))])
            .await
            .unwrap();
        let runs = store.jobnet_history(HistoryFilter { jobnet: Some(key("A")), ..Default::default() }).await.unwrap();
        assert_eq!((runs[0].run, runs[0].status, runs[0].started_at), (3, N::Completed, Some(day(3))));
        // Once ended and old, A's run 3 is still its latest: nothing more goes.
        let later = now + TimeDelta::days(30);
        assert_eq!(store.prune_history(7, later).await.unwrap(), PruneReport::default());
        assert_eq!(store.events_after(0).await.unwrap().len(), 11);
        // A's run 4 starts: run 3 (old, finished, no longer the latest) goes, with its events.
        store
            .append(&[jn(22, later, "A", 4, N::Executing, None), job(23, later, "A", 1, J::Executing, None, 4)])
            .await
            .unwrap();
        let report = store.prune_history(7, later).await.unwrap();
        assert_eq!(report, PruneReport { journal: 5, outputs: 0, jobnet_runs: 1, job_runs: 1 });
        assert_eq!(seqs(&store.events_after(0).await.unwrap()), vec![6, 7, 8, 9, 17, 19, 22, 23]);
    }

    #[test]
    fn errors_convert_to_store_errors() {
        let path = PathBuf::from("/x/woi.db");
        let corrupt = SqliteError::Corrupt { path: path.clone(), detail: "journal seq 3: bad".into() };
        assert!(matches!(StoreError::from(corrupt), StoreError::Corrupt(m) if m.contains("/x/woi.db")));
        let busy = SqliteError::InUse { path, waited: Duration::from_secs(5), detail: "database is locked".into() };
        assert!(matches!(StoreError::from(busy), StoreError::Backend(m) if m.contains("in use by another process")));
    }
}
