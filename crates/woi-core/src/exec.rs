//! The execution seam: how a driver asks an executor to run a job.
//!
//! The engine emits [`crate::Effect::StartJob`]; the driver turns it into a
//! [`JobRun`] (variables substituted), hands it to an [`Executor`], and feeds
//! the [`JobResult`] back with [`crate::Engine::handle_job_ended`]. When the
//! engine emits [`crate::Effect::KillJob`], the driver fires the job's
//! [`KillSignal`]; the executor must then kill the job (a process: its whole
//! process group) and return promptly.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::defs::JobnetKey;
use crate::engine::{JobStart, KillReason};
use crate::exit::ExitCode;
use crate::model::{JobKind, SnowflakeTarget};

/// A job ready to run, its definition fields already substituted.
#[derive(Clone, Debug)]
pub struct JobRun {
    /// Its jobnet.
    pub jobnet: JobnetKey,
    /// Job number.
    pub number: u16,
    /// Job name.
    pub name: Arc<str>,
    /// Attempt number (as in the engine's `StartJob`).
    pub attempt: u32,
    /// Kind of job.
    pub kind: JobKind,
    /// Command line: the program and its arguments, split like a shell
    /// (quotes honoured, no expansion).
    pub command: String,
    /// Parameters appended to the command line.
    pub params: Option<String>,
    /// Working directory.
    pub directory: Option<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Execution user (`None` = the scheduler's own user).
    pub exec_user: Option<String>,
    /// Write standard output to this file as well.
    pub stdout_file: Option<String>,
    /// Write standard error to this file as well.
    pub stderr_file: Option<String>,
    /// Merge standard error into standard output.
    pub stderr_to_stdout: bool,
    /// Adapter jobs: the connection information, unsubstituted (adapters
    /// run their own substitution stages, spec 03 §3.3).
    pub connection_info: Option<String>,
    /// Adapter jobs: request bodies for the `request`, `monitoring` and
    /// `termination` calls, unsubstituted.
    pub bodies: AdapterBodies,
    /// Snowflake jobs: task or SQL statement.
    pub snowflake_target: Option<SnowflakeTarget>,
    /// `custom` jobs: the registered job kind that runs it.
    pub handler: Option<String>,
    /// The environment's job-definition variables when the job started.
    pub variables: Arc<BTreeMap<String, String>>,
}

/// The three request bodies of an adapter job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdapterBodies {
    /// Sent with the `request` call.
    pub execution: Option<String>,
    /// Sent with every `monitoring` call.
    pub monitoring: Option<String>,
    /// Sent with the `termination` call.
    pub termination: Option<String>,
}

impl JobRun {
    /// A command job with nothing else set: for tests and custom executors.
    pub fn command(jobnet: JobnetKey, number: u16, command: impl Into<String>) -> JobRun {
        JobRun {
            jobnet,
            number,
            name: Arc::from(format!("J{number}")),
            attempt: 1,
            kind: JobKind::Command,
            command: command.into(),
            params: None,
            directory: None,
            env: BTreeMap::new(),
            exec_user: None,
            stdout_file: None,
            stderr_file: None,
            stderr_to_stdout: false,
            connection_info: None,
            bodies: AdapterBodies::default(),
            snowflake_target: None,
            handler: None,
            variables: Arc::default(),
        }
    }

    /// What the driver hands the executor for the engine's
    /// [`crate::Effect::StartJob`]: the substituted definition, the variable
    /// parameter as `WOI_VPARAM` in the environment, and the job-definition
    /// variables for adapters.
    pub fn from_start(start: &JobStart, variables: Arc<BTreeMap<String, String>>) -> JobRun {
        let def = start.def();
        let mut env = def.env.clone();
        if let Some(v) = &start.vparam {
            env.insert("WOI_VPARAM".into(), v.to_string());
        }
        JobRun {
            jobnet: start.jobnet.clone(),
            number: start.number,
            name: start.name.clone(),
            attempt: start.attempt,
            kind: def.kind,
            command: def.command.clone(),
            params: def.params.clone(),
            directory: def.directory.clone(),
            env,
            exec_user: def.exec_user.clone(),
            stdout_file: def.stdout_file.clone(),
            stderr_file: def.stderr_file.clone(),
            stderr_to_stdout: def.stderr_to_stdout,
            connection_info: def.connection_info.clone(),
            bodies: AdapterBodies {
                execution: def.body_execution.clone(),
                monitoring: def.body_monitoring.clone(),
                termination: def.body_termination.clone(),
            },
            snowflake_target: def.snowflake_target,
            handler: def.handler.clone(),
            variables,
        }
    }
}

/// How a job ended, as the executor saw it.
#[derive(Clone, Debug)]
pub struct JobResult {
    /// The exit code (command, scheduler 250–254 for start failures, or an interruption code).
    pub exit: ExitCode,
    /// Captured output (standard output then standard error, capped).
    pub output: String,
    /// Whether the output was cut at the cap.
    pub truncated: bool,
    /// Host the job ran on.
    pub host: String,
}

/// Fires when the engine wants the job killed.
pub type KillSignal = futures::channel::oneshot::Receiver<KillReason>;

/// Runs jobs. Implementations: the process executor (woi-adapters), the REST
/// executor, scripted executors in tests.
#[async_trait]
pub trait Executor: Send + Sync {
    /// Run `job` to its end and report how it ended. When `kill` fires, kill the
    /// job and return promptly (the engine has already recorded its end; the
    /// returned result then only contributes output). A dropped `kill` sender
    /// means nobody will ask to kill the job.
    async fn run(&self, job: JobRun, kill: KillSignal) -> JobResult;
}
