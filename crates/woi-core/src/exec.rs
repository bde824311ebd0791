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
use crate::engine::KillReason;
use crate::exit::ExitCode;
use crate::model::JobKind;

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
