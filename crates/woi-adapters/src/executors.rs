//! Routing jobs to executors, and job kinds written in Rust.
//!
//! An [`ExecutorSet`] is the executor the runtime drives: it hands each
//! [`JobRun`] to the executor registered for its [`JobKind`] (command jobs to
//! the process executor, REST and cloud jobs to the REST executor, …) and
//! `custom` jobs to the [`JobHandler`] registered under the job's `handler`
//! name.
//!
//! A custom job kind reports like any job: an exit code and output lines.
//! The exit code is judged by the job's `normal_limit` / `ignore_exit_code`,
//! its `NAME=VALUE` lines publish jobnet variables when the job uses them,
//! and restart, recovery jobs and the cut-off time apply unchanged.
//!
//! | What happens | Exit code |
//! |---|---|
//! | [`JobHandler::run`] returns `Ok(code)` | `code` (0–255 as given; above 255 → 255) |
//! | it returns `Err(message)` | 201, the message appended to the output |
//! | it panics | 201, `woi: job kind <name> panicked: …` in the output; the scheduler goes on |
//! | the job names a handler nobody registered | 250 (execution information could not be acquired) |
//! | the job is force-terminated or reaches its cut-off | the engine's code; [`JobHandler::cancel`] is called and the run future dropped |
//!
//! A handler that never returns runs until it is force-terminated or its
//! `cutoff_secs` passes — give custom jobs a cut-off when that matters.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::FutureExt;
use woi_core::exec::{Executor, JobResult, JobRun, KillSignal};
use woi_core::exit::{self, ExitCode};
use woi_core::model::JobKind;

/// A job kind implemented in Rust by the embedding service.
///
/// ```
/// use async_trait::async_trait;
/// use woi_adapters::executors::{JobContext, JobHandler};
///
/// struct Resize;
///
/// #[async_trait]
/// impl JobHandler for Resize {
///     async fn run(&self, ctx: JobContext) -> Result<i64, String> {
///         ctx.line(format!("resizing with {}", ctx.job().command));
///         ctx.line("COUNT=42"); // a jobnet variable when the job uses them
///         Ok(0)
///     }
/// }
/// ```
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Run the job to its end: `Ok(exit code)`, or `Err(message)` for an
    /// abnormal end (code 201). Write output lines with [`JobContext::line`].
    async fn run(&self, ctx: JobContext) -> Result<i64, String>;

    /// The job is being force-terminated or cut off: stop the remote work.
    /// Called once; the run future is dropped afterwards. Default: nothing.
    async fn cancel(&self, _job: &JobRun) {}
}

/// What a [`JobHandler`] gets: the job and a place for its output lines.
#[derive(Clone)]
pub struct JobContext {
    job: Arc<JobRun>,
    output: Arc<Mutex<String>>,
}

impl JobContext {
    /// The job, its definition fields already substituted.
    pub fn job(&self) -> &JobRun {
        &self.job
    }

    /// Append one line to the job's output.
    pub fn line(&self, line: impl AsRef<str>) {
        if let Ok(mut out) = self.output.lock() {
            out.push_str(line.as_ref());
            out.push('\n');
        }
    }

    fn take(&self) -> String {
        self.output.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default()
    }
}

/// Routes each job to the executor of its kind.
#[derive(Clone)]
pub struct ExecutorSet {
    default: Arc<dyn Executor>,
    kinds: BTreeMap<JobKind, Arc<dyn Executor>>,
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
    host: String,
}

impl fmt::Debug for ExecutorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorSet")
            .field("kinds", &self.kinds.keys().collect::<Vec<_>>())
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ExecutorSet {
    /// A set that sends every job to `default` (typically the process executor).
    pub fn new(default: Arc<dyn Executor>) -> ExecutorSet {
        let host = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default();
        ExecutorSet { default, kinds: BTreeMap::new(), handlers: BTreeMap::new(), host }
    }

    /// Send jobs of `kind` to `executor`.
    pub fn with_kind(mut self, kind: JobKind, executor: Arc<dyn Executor>) -> ExecutorSet {
        self.kinds.insert(kind, executor);
        self
    }

    /// Register a custom job kind: jobs with `kind = "custom"` and
    /// `handler = name` run on `handler`.
    pub fn with_handler(mut self, name: impl Into<String>, handler: impl JobHandler) -> ExecutorSet {
        self.handlers.insert(name.into(), Arc::new(handler));
        self
    }

    /// The registered custom job kinds.
    pub fn handlers(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    async fn run_custom(&self, job: JobRun, kill: KillSignal) -> JobResult {
        let name = job.handler.clone().unwrap_or_default();
        let Some(handler) = self.handlers.get(&name).cloned() else {
            return self.result(
                ExitCode::scheduler(exit::EXEC_INFO_FAILED),
                format!("woi: no job kind named `{name}` is registered in this scheduler\n"),
            );
        };
        let ctx = JobContext { job: Arc::new(job), output: Arc::default() };
        let run = std::panic::AssertUnwindSafe(handler.run(ctx.clone())).catch_unwind();
        // A dropped sender means nobody will ask to kill the job.
        let kill = async {
            match kill.await {
                Ok(reason) => reason,
                Err(_) => futures::future::pending().await,
            }
        };
        futures::pin_mut!(run);
        futures::pin_mut!(kill);
        futures::select! {
            ended = run.fuse() => match ended {
                Ok(Ok(code)) => self.result(ExitCode::from_command(code), ctx.take()),
                Ok(Err(message)) => {
                    ctx.line(message);
                    self.result(ExitCode::scheduler(exit::ABNORMAL), ctx.take())
                }
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    ctx.line(format!("woi: job kind {name} panicked: {what}"));
                    self.result(ExitCode::scheduler(exit::ABNORMAL), ctx.take())
                }
            },
            _reason = kill.fuse() => {
                handler.cancel(ctx.job()).await;
                // The engine has recorded the end; only the output counts.
                self.result(ExitCode::forced(), ctx.take())
            }
        }
    }

    fn result(&self, exit: ExitCode, output: String) -> JobResult {
        JobResult { exit, output, truncated: false, host: self.host.clone() }
    }
}

#[async_trait]
impl Executor for ExecutorSet {
    async fn run(&self, job: JobRun, kill: KillSignal) -> JobResult {
        if job.kind == JobKind::Custom {
            return self.run_custom(job, kill).await;
        }
        let executor = self.kinds.get(&job.kind).unwrap_or(&self.default).clone();
        executor.run(job, kill).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use woi_core::JobnetKey;
    use woi_core::engine::KillReason;

    struct Fixed(Result<i64, String>);

    #[async_trait]
    impl JobHandler for Fixed {
        async fn run(&self, ctx: JobContext) -> Result<i64, String> {
            ctx.line("A=1");
            self.0.clone()
        }
    }

    struct Panics;

    #[async_trait]
    impl JobHandler for Panics {
        async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
            panic!("boom")
        }
    }

    struct Hangs(Arc<Mutex<u32>>);

    #[async_trait]
    impl JobHandler for Hangs {
        async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
            futures::future::pending().await
        }
        async fn cancel(&self, _job: &JobRun) {
            *self.0.lock().unwrap() += 1;
        }
    }

    struct Echo;

    #[async_trait]
    impl Executor for Echo {
        async fn run(&self, job: JobRun, _kill: KillSignal) -> JobResult {
            JobResult { exit: ExitCode::from_command(7), output: job.command, truncated: false, host: String::new() }
        }
    }

    fn custom(handler: &str) -> JobRun {
        let mut job = JobRun::command(JobnetKey::new("P", "N"), 1, "arg");
        job.kind = JobKind::Custom;
        job.handler = Some(handler.into());
        job
    }

    fn set() -> ExecutorSet {
        ExecutorSet::new(Arc::new(Echo))
            .with_handler("ok", Fixed(Ok(3)))
            .with_handler("err", Fixed(Err("remote failed".into())))
            .with_handler("panics", Panics)
    }

    fn no_kill() -> KillSignal {
        oneshot::channel().1
    }

    #[tokio::test]
    async fn custom_kind_reports_code_and_lines() {
        let r = set().run(custom("ok"), no_kill()).await;
        assert_eq!((r.exit.code, r.output.as_str()), (3, "A=1\n"));
    }

    #[tokio::test]
    async fn custom_kind_error_is_201_with_message() {
        let r = set().run(custom("err"), no_kill()).await;
        assert_eq!((r.exit.code, r.output.as_str()), (201, "A=1\nremote failed\n"));
    }

    #[tokio::test]
    async fn custom_kind_panic_is_201_and_contained() {
        let r = set().run(custom("panics"), no_kill()).await;
        assert_eq!(r.exit.code, 201);
        assert!(r.output.contains("panicked: boom"), "{}", r.output);
    }

    #[tokio::test]
    async fn unknown_handler_is_250() {
        let r = set().run(custom("nobody"), no_kill()).await;
        assert_eq!(r.exit.code, 250);
        assert!(r.output.contains("`nobody`"));
    }

    #[tokio::test]
    async fn other_kinds_go_to_their_executor() {
        let job = JobRun::command(JobnetKey::new("P", "N"), 1, "echo");
        let r = set().run(job, no_kill()).await;
        assert_eq!((r.exit.code, r.output.as_str()), (7, "echo"));
    }

    #[tokio::test]
    async fn kill_calls_cancel_once() {
        let cancels = Arc::new(Mutex::new(0));
        let set = ExecutorSet::new(Arc::new(Echo)).with_handler("hangs", Hangs(cancels.clone()));
        let (tx, rx) = oneshot::channel();
        let run = tokio::spawn(async move { set.run(custom("hangs"), rx).await });
        tokio::task::yield_now().await;
        tx.send(KillReason::Cancel).unwrap();
        let r = run.await.unwrap();
        assert_eq!(r.exit.code, exit::FORCED);
        assert_eq!(*cancels.lock().unwrap(), 1);
    }
}
