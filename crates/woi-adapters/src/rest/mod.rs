//! The REST execution job and the cloud adapters (spec 03): `jobschlinkadptr`
//! for REST, Informatica and Snowflake jobs, `scslinkadptr` for SAP cloud
//! service jobs, and the SAP ERP job's data model.
//!
//! [`RestExecutor`] implements [`Executor`] for [`JobKind::Rest`],
//! [`JobKind::Informatica`], [`JobKind::Snowflake`], [`JobKind::SapCloud`]
//! and [`JobKind::SapErp`]. Construct it from a data directory with
//! [`RestExecutor::from_data_dir`], or from parts with [`RestExecutor::new`].
//!
//! A run validates the job's connection info and bodies, sends the execution
//! call, waits for the remote work by polling the monitoring call, and maps
//! the outcome to the exit codes of spec 03 §3.11 (origin `Command`, judged by
//! the job's normal upper limit like any command). Result lines go to the
//! job's output first (its "standard output"), `MpJobsch: ERROR: 06xx`
//! messages after them ("standard error"). When the engine fires the
//! [`KillSignal`], any wait or monitoring call is abandoned, the termination
//! call (if configured, and the execution call had succeeded) is sent once,
//! its failure is recorded on the [`MonitorLog`] as 0635–0638, and the run
//! returns the engine's forced code.
//!
//! Modules: [`authinfo`] (the registry), [`connection`] (connection info),
//! [`subst`] (substitution), [`keypath`] (extraction from JSON and XML),
//! [`credentials`] (run-time auth incl. SigV4), [`http`], [`output`]
//! (messages and output lines), [`time`] (the injectable [`Timer`]),
//! [`flow`] (the algorithm), [`sapcloud`], [`saperp`], [`json`].

pub mod authinfo;
pub mod connection;
pub mod credentials;
pub mod flow;
pub mod http;
pub mod json;
pub mod keypath;
pub mod output;
pub mod sapcloud;
pub mod saperp;
pub mod subst;
pub mod time;

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use woi_core::ExitCode;
use woi_core::engine::KillReason;
use woi_core::exec::{Executor, JobResult, JobRun, KillSignal};
use woi_core::exit::INT_CUTOFF;
use woi_core::model::{JobKind, SnowflakeTarget};

pub use authinfo::{AuthInfoError, AuthInfoStore, AuthSource, MemoryAuthSource};
use connection::Variant;
use flow::{RestRun, lock};
use output::{Output, msg};
use sapcloud::SapCloudRun;
pub use time::{Timer, TokioTimer, VirtualTimer};

/// An adapter exit code (0–11, 99).
pub(crate) type Exit = u32;

/// Where the monitoring-log records 0635–0638 of failed termination calls go
/// (spec 03 §3.9).
pub trait MonitorLog: Send + Sync {
    /// Record one message about `job`.
    fn record(&self, job: &JobRun, message: &str);
}

/// Writes monitoring-log records to the process's standard error.
#[derive(Clone, Copy, Debug, Default)]
pub struct StderrMonitorLog;

impl MonitorLog for StderrMonitorLog {
    fn record(&self, _job: &JobRun, message: &str) {
        eprintln!("{message}");
    }
}

/// Keeps monitoring-log records in memory (tests, embedding).
#[derive(Debug, Default)]
pub struct MemoryMonitorLog {
    records: Mutex<Vec<String>>,
}

impl MemoryMonitorLog {
    /// The records so far.
    pub fn records(&self) -> Vec<String> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl MonitorLog for MemoryMonitorLog {
    fn record(&self, _job: &JobRun, message: &str) {
        if let Ok(mut r) = self.records.lock() {
            r.push(message.to_owned());
        }
    }
}

/// Errors setting up the REST executor.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The auth-info store could not be opened.
    #[error("auth info store: {0}")]
    AuthStore(#[from] AuthInfoError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Runs REST, Informatica, Snowflake, SAP cloud and SAP ERP jobs.
#[derive(Clone)]
pub struct RestExecutor {
    auth: Arc<dyn AuthSource>,
    timer: Arc<dyn Timer>,
    client: reqwest::Client,
    monitor_log: Arc<dyn MonitorLog>,
    token_base: Option<String>,
    output_cap: usize,
    host: String,
}

impl fmt::Debug for RestExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestExecutor")
            .field("token_base", &self.token_base)
            .field("output_cap", &self.output_cap)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl RestExecutor {
    /// An executor reading auth entries from `auth`, waiting and reading the
    /// time through `timer`, sending through `client` (build it with
    /// [`http::client`]: redirects must not be followed). Monitoring-log
    /// records go to standard error until [`RestExecutor::with_monitor_log`].
    pub fn new(auth: Arc<dyn AuthSource>, timer: Arc<dyn Timer>, client: reqwest::Client) -> RestExecutor {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        RestExecutor {
            auth,
            timer,
            client,
            monitor_log: Arc::new(StderrMonitorLog),
            token_base: None,
            output_cap: crate::process::DEFAULT_OUTPUT_CAP,
            host,
        }
    }

    /// The production executor of a data directory: the auth-info store
    /// `<data>/adapters.db` (key from `WOI_SECRET_KEY` or `<data>/secret.key`),
    /// the system clock, and a fresh HTTP client.
    pub fn from_data_dir(data: &Path) -> Result<RestExecutor, RestError> {
        let store = AuthInfoStore::open(data)?;
        Ok(RestExecutor::new(Arc::new(store), Arc::new(TokioTimer), http::client()?))
    }

    /// Send monitoring-log records (0635–0638) to `log`.
    pub fn with_monitor_log(mut self, log: Arc<dyn MonitorLog>) -> RestExecutor {
        self.monitor_log = log;
        self
    }

    /// Send every token request (Entra ID, SAP `scs`) to `base` (scheme,
    /// host and port) instead of the entry's endpoint host, keeping its path
    /// (tests, or a token proxy).
    pub fn with_token_base(mut self, base: impl Into<String>) -> RestExecutor {
        self.token_base = Some(base.into());
        self
    }

    /// Keep at most `cap` bytes of result lines per job.
    pub fn with_output_cap(mut self, cap: usize) -> RestExecutor {
        self.output_cap = cap;
        self
    }

    pub(crate) fn auth_source(&self) -> &dyn AuthSource {
        self.auth.as_ref()
    }

    pub(crate) fn timer(&self) -> &dyn Timer {
        self.timer.as_ref()
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) fn token_base(&self) -> Option<&str> {
        self.token_base.as_deref()
    }

    fn result(&self, exit: ExitCode, out: &Output) -> JobResult {
        let (output, truncated) = out.combined(self.output_cap);
        JobResult { exit, output, truncated, host: self.host.clone() }
    }

    fn ended(&self, code: Exit, out: &Output) -> JobResult {
        self.result(ExitCode::from_command(i64::from(code)), out)
    }

    async fn run_rest(&self, job: &JobRun, variant: Variant, kill: &mut Kill) -> JobResult {
        let run = match RestRun::prepare(self, job, variant) {
            Ok(r) => r,
            Err((out, code)) => return self.ended(code, &out),
        };
        let executed = tokio::select! {
            biased;
            reason = &mut *kill => return self.forced(reason, &lock(&run.state).out),
            r = run.execute() => r,
        };
        if let Err(code) = executed {
            return self.ended(code, &lock(&run.state).out);
        }
        if !run.has_monitoring() {
            return self.ended(0, &lock(&run.state).out);
        }
        let code = tokio::select! {
            biased;
            reason = &mut *kill => {
                if let Some(failure) = run.terminate().await {
                    let line = msg::termination_log(&failure, &job.jobnet.project, &job.jobnet.jobnet);
                    self.monitor_log.record(job, &line);
                }
                return self.forced(reason, &lock(&run.state).out);
            }
            code = run.monitor() => code,
        };
        self.ended(code, &lock(&run.state).out)
    }

    async fn run_sap_cloud(&self, job: &JobRun, kill: &mut Kill) -> JobResult {
        let run = match SapCloudRun::prepare(self, job) {
            Ok(r) => r,
            Err((out, code)) => return self.ended(code, &out),
        };
        let code = tokio::select! {
            biased;
            reason = &mut *kill => return self.forced(reason, &lock(&run.state).out),
            code = async {
                match run.execute().await {
                    Ok(()) => run.monitor().await,
                    Err(code) => code,
                }
            } => code,
        };
        self.ended(code, &lock(&run.state).out)
    }

    fn forced(&self, reason: KillReason, out: &Output) -> JobResult {
        let exit = match reason {
            KillReason::Cutoff => ExitCode::interruption(INT_CUTOFF),
            KillReason::OrWaitOtherNormal => ExitCode::scheduler(woi_core::exit::OR_WAIT_OTHER_NORMAL),
            KillReason::OrWaitOtherAbnormal => ExitCode::scheduler(woi_core::exit::OR_WAIT_OTHER_ABNORMAL),
            // Cancel, and any reason added later: a forced termination.
            _ => ExitCode::forced(),
        };
        self.result(exit, out)
    }
}

/// The kill signal as a future that never resolves when nobody can kill.
type Kill = Pin<Box<dyn Future<Output = KillReason> + Send>>;

fn kill_future(kill: KillSignal) -> Kill {
    Box::pin(async move {
        match kill.await {
            Ok(reason) => reason,
            Err(_) => std::future::pending().await,
        }
    })
}

#[async_trait]
impl Executor for RestExecutor {
    async fn run(&self, job: JobRun, kill: KillSignal) -> JobResult {
        let mut kill = kill_future(kill);
        match job.kind {
            JobKind::Rest => self.run_rest(&job, Variant::Rest, &mut kill).await,
            JobKind::Informatica => self.run_rest(&job, Variant::Informatica, &mut kill).await,
            JobKind::Snowflake => {
                let variant = match job.snowflake_target.unwrap_or_default() {
                    SnowflakeTarget::Task => Variant::SnowflakeTask,
                    SnowflakeTarget::Sql => Variant::SnowflakeSql,
                };
                self.run_rest(&job, variant, &mut kill).await
            }
            JobKind::SapCloud => self.run_sap_cloud(&job, &mut kill).await,
            JobKind::SapErp => {
                let mut out = Output::default();
                out.error(saperp::NOT_AVAILABLE);
                self.ended(saperp::NOT_AVAILABLE_EXIT, &out)
            }
            _ => {
                let mut out = Output::default();
                out.error(msg::internal());
                out.error(format!("woi: the REST executor cannot run {} jobs", job.kind.as_str()));
                self.ended(99, &out)
            }
        }
    }
}
