//! The runtime driver: runs the engine for real on tokio.
//!
//! One task owns the [`Engine`]. It feeds it inputs (commands from
//! [`Handle`]s, job ends from the executor, timeouts), then drains its
//! effects **write-ahead**: every recorded event is appended to the
//! [`Store`] before any job is started or killed, and a command is answered
//! only after its events are durable. It sleeps until the engine's next
//! timeout or the next input — no polling.
//!
//! On open, the engine is rebuilt from the store's journal
//! ([`Engine::restore`]): jobs that were executing when the previous process
//! died end with 239, missed starts follow each jobnet's policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::channel::oneshot;
use tokio::sync::{broadcast, mpsc, watch};
use woi_core::builtin::Occurrence;
use woi_core::engine::{EventCount, JobView, JobnetView, RaiseRequest, Reception, ReloadReport, RestoreReport};
use woi_core::exec::{Executor, JobResult, JobRun};
use woi_core::store::{JobOutput, PendingWrite, Store, StoreError};
use woi_core::{Clock, Effect, Engine, EngineConfig, Environment, Event, JobId, JobnetKey, Refusal};

/// Why the runtime failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The store failed; the runtime stops rather than act on undurable state.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime has stopped.
    #[error("the scheduler has stopped")]
    Stopped,
    /// The engine refused the command (nothing changed).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// An operation was refused or named something unknown (nothing changed).
    #[error("{0}")]
    Rejected(String),
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at a given instant and runs `speed` times as fast as
/// real time: `woi serve --now … --speed …` for tests and demos.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    start: DateTime<Utc>,
    real_start: std::time::Instant,
    speed: f64,
}

impl OffsetClock {
    /// A clock showing `start` now, advancing `speed` (> 0) seconds per real second.
    pub fn new(start: DateTime<Utc>, speed: f64) -> OffsetClock {
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        OffsetClock { start, real_start: std::time::Instant::now(), speed }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        let real = self.real_start.elapsed().as_secs_f64() * self.speed;
        self.start + chrono::Duration::microseconds((real * 1e6) as i64)
    }

    fn to_real(&self, d: chrono::Duration) -> std::time::Duration {
        d.to_std().map(|d| d.div_f64(self.speed)).unwrap_or_default()
    }
}

type Reply<T> = oneshot::Sender<Result<T, RuntimeError>>;

enum Command {
    Action {
        action: woi_core::sim::Action,
        reply: Reply<String>,
    },
    Start {
        key: JobnetKey,
        vparam: Option<String>,
        reply: Reply<()>,
    },
    Cancel {
        key: JobnetKey,
        reply: Reply<()>,
    },
    JobnetOp {
        key: JobnetKey,
        op: JobnetOp,
        reply: Reply<()>,
    },
    CancelJob {
        key: JobnetKey,
        job: String,
        reply: Reply<()>,
    },
    Raise {
        event: String,
        project: Option<String>,
        jobnet: Option<String>,
        vparam: Option<String>,
        suffix: Option<String>,
        reply: Reply<Vec<Reception>>,
    },
    Clear {
        project: Option<String>,
        jobnet: Option<String>,
        reply: Reply<Vec<JobnetKey>>,
    },
    Jobnets {
        reply: Reply<Vec<JobnetView>>,
    },
    Jobs {
        key: JobnetKey,
        reply: Reply<Vec<JobView>>,
    },
    Occurrences {
        after: u64,
        reply: Reply<Vec<Occurrence>>,
    },
    EventCounts {
        key: JobnetKey,
        reply: Reply<Vec<EventCount>>,
    },
    Environment {
        reply: Reply<Arc<Environment>>,
    },
    Reload {
        env: Arc<Environment>,
        reply: Reply<ReloadReport>,
    },
    Shutdown {
        reply: Reply<()>,
    },
}

/// One item of [`Handle::changes`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Change {
    /// A state change, durable in the store.
    Event(Event),
    /// This subscriber fell behind and missed this many changes.
    Missed(u64),
}

/// An operator operation on a jobnet (spec 01 §3.4.3, §3.5.1), applied by
/// [`Handle::jobnet_op`]; a refusal comes back as [`RuntimeError::Refused`]
/// with the engine's typed [`Refusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobnetOp {
    /// Pause: no job starts until Continue.
    Pause,
    /// Continue a paused jobnet.
    Continue,
    /// Disable: its starts are skipped (0332) until enabled.
    Disable,
    /// Enable a disabled jobnet.
    Enable,
    /// Confirm an abended jobnet so that it is rescheduled.
    Confirm,
    /// Restart an abended, cancelled or warning jobnet from its failed jobs
    /// (or from its restart point).
    Restart,
}

/// A cheap, cloneable handle to a running scheduler.
///
/// A handle does not keep the scheduler running: once it has stopped
/// ([`Handle::shutdown`], `Scheduler::stop`, or a store failure) every
/// command answers [`RuntimeError::Stopped`] and every change stream ends.
#[derive(Clone)]
pub struct Handle {
    commands: mpsc::Sender<Command>,
    /// Weak: only the runtime holds the sending side, so the event stream
    /// closes when the runtime ends, however many handles are alive.
    events: broadcast::WeakSender<Event>,
    /// Asks the runtime to stop gracefully without waiting (see [`Handle::request_shutdown`]).
    stop: Arc<watch::Sender<bool>>,
    /// The definitions the runtime runs, updated on every reload.
    env: watch::Receiver<Arc<Environment>>,
}

/// Capacity of the event stream; a subscriber that falls further behind is
/// told how many events it missed (`RecvError::Lagged`) and never blocks the scheduler.
pub const EVENT_STREAM_CAPACITY: usize = 65_536;

impl Handle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, RuntimeError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(|_| RuntimeError::Stopped)?;
        rx.await.map_err(|_| RuntimeError::Stopped)?
    }

    /// Start a jobnet now (operator start), with an optional variable parameter.
    pub async fn start_jobnet(&self, key: &JobnetKey, vparam: Option<&str>) -> Result<(), RuntimeError> {
        let (key, vparam) = (key.clone(), vparam.map(str::to_string));
        self.ask(|reply| Command::Start { key, vparam, reply }).await
    }

    /// Force-terminate a running jobnet.
    pub async fn cancel_jobnet(&self, key: &JobnetKey) -> Result<(), RuntimeError> {
        let key = key.clone();
        self.ask(|reply| Command::Cancel { key, reply }).await
    }

    /// Apply an operator operation to a jobnet; refused (typed, nothing
    /// changed) when the jobnet's state does not allow it.
    pub async fn jobnet_op(&self, key: &JobnetKey, op: JobnetOp) -> Result<(), RuntimeError> {
        let key = key.clone();
        self.ask(|reply| Command::JobnetOp { key, op, reply }).await
    }

    /// Force-terminate a running job (by number or name).
    pub async fn cancel_job(&self, key: &JobnetKey, job: &str) -> Result<(), RuntimeError> {
        let (key, job) = (key.clone(), job.to_string());
        self.ask(|reply| Command::CancelJob { key, job, reply }).await
    }

    /// Raise a message event; answered once the occurrence is durable.
    pub async fn raise_event(&self, req: &RaiseRequest<'_>) -> Result<Vec<Reception>, RuntimeError> {
        let own = |s: Option<&str>| s.map(str::to_string);
        let (event, project, jobnet, vparam, suffix) =
            (req.event.to_string(), own(req.project), own(req.jobnet), own(req.vparam), own(req.suffix));
        self.ask(|reply| Command::Raise { event, project, jobnet, vparam, suffix, reply }).await
    }

    /// Reset message-event counts.
    pub async fn clear_events(
        &self,
        project: Option<&str>,
        jobnet: Option<&str>,
    ) -> Result<Vec<JobnetKey>, RuntimeError> {
        let (project, jobnet) = (project.map(str::to_string), jobnet.map(str::to_string));
        self.ask(|reply| Command::Clear { project, jobnet, reply }).await
    }

    /// Apply an operation (any `woi_core::sim::Action`: start, cancel, pause,
    /// continue, disable, enable, confirm, restart, job operations, recovery
    /// operations, raise/clear message events), answered once the change is
    /// durable. A refusal (nothing changed) is [`RuntimeError::Rejected`].
    /// For jobnet operations, [`Handle::jobnet_op`] answers with the typed
    /// [`Refusal`] instead.
    pub async fn apply(&self, action: woi_core::sim::Action) -> Result<String, RuntimeError> {
        self.ask(|reply| Command::Action { action, reply }).await
    }

    /// Apply new definitions without a restart (spec 01 §3.15): changed
    /// jobnets are reset to `Waiting`, others keep their state; refused as a
    /// whole ([`RuntimeError::Refused`], nothing changed) while a changed
    /// jobnet executes. Answered once the change is durable.
    pub async fn reload(&self, env: Environment) -> Result<ReloadReport, RuntimeError> {
        let env = Arc::new(env);
        self.ask(|reply| Command::Reload { env, reply }).await
    }

    /// Every jobnet's state.
    pub async fn jobnets(&self) -> Result<Vec<JobnetView>, RuntimeError> {
        self.ask(|reply| Command::Jobnets { reply }).await
    }

    /// The jobs of a jobnet.
    pub async fn jobs(&self, key: &JobnetKey) -> Result<Vec<JobView>, RuntimeError> {
        let key = key.clone();
        self.ask(|reply| Command::Jobs { key, reply }).await
    }

    /// The message-event occurrences kept by the scheduler (the newest
    /// 10,000) whose sequence number is greater than `after`, oldest first.
    pub async fn occurrences(&self, after: u64) -> Result<Vec<Occurrence>, RuntimeError> {
        self.ask(|reply| Command::Occurrences { after, reply }).await
    }

    /// The message-event counts of a jobnet, one per waited event in
    /// definition order (empty for an unknown jobnet or one without a wait).
    pub async fn event_counts(&self, key: &JobnetKey) -> Result<Vec<EventCount>, RuntimeError> {
        let key = key.clone();
        self.ask(|reply| Command::EventCounts { key, reply }).await
    }

    /// The definitions the scheduler runs (time zone, calendars, jobnets).
    pub async fn environment(&self) -> Result<Arc<Environment>, RuntimeError> {
        self.ask(|reply| Command::Environment { reply }).await
    }

    /// The definitions the scheduler runs now, without asking the runtime:
    /// those it opened with, or the last ones applied by [`Handle::reload`]
    /// (or a `woi_core::sim::Action::ApplyDefinitions`).
    pub(crate) fn current_environment(&self) -> Arc<Environment> {
        self.env.borrow().clone()
    }

    /// Ask the scheduler to stop gracefully, without waiting: the same stop
    /// as [`Handle::shutdown`], carried out by the runtime task. Used when a
    /// `Scheduler` is dropped without `stop`.
    pub(crate) fn request_shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Every event recorded from now on (after it is durable). The receiver
    /// is closed (after the events already sent) once the scheduler has stopped.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        match self.events.upgrade() {
            Some(events) => events.subscribe(),
            None => {
                // The runtime has ended: a receiver of a closed channel.
                let (_, rx) = broadcast::channel(1);
                rx
            }
        }
    }

    /// Every event recorded from now on, as a [`futures::Stream`]. The
    /// stream holds at most [`EVENT_STREAM_CAPACITY`] unread events; a
    /// subscriber that falls further behind gets one [`Change::Missed`] with
    /// the number of events it lost and goes on with the newest — it never
    /// slows the scheduler down. The stream ends when the scheduler has
    /// stopped (after the last events it recorded), even while clones of
    /// this handle are still alive.
    pub fn changes(&self) -> impl futures::Stream<Item = Change> + Send + 'static {
        futures::stream::unfold(self.subscribe(), |mut rx| async move {
            match rx.recv().await {
                Ok(event) => Some((Change::Event(event), rx)),
                Err(broadcast::error::RecvError::Lagged(n)) => Some((Change::Missed(n), rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
    }

    /// Stop the scheduler gracefully, as `Scheduler::stop` does: no new job
    /// starts; jobs still executing end now with 239 ("the job management
    /// environment stopped while the job was executing"), durable before
    /// their processes are killed, and their output is kept — as a restart
    /// after a crash would record them. Answered once the stop is complete;
    /// afterwards every command answers [`RuntimeError::Stopped`] and the
    /// change streams end.
    pub async fn shutdown(&self) -> Result<(), RuntimeError> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }
}

struct Done {
    job: JobId,
    attempt: u32,
    jobnet: JobnetKey,
    number: u16,
    result: JobResult,
}

/// Something to do once a write is durable: answer a command.
type AfterDurable = Box<dyn FnOnce() + Send>;

/// A write the store has put in order and the effects that wait for it.
struct Inflight {
    /// `None` once durable (or when there was nothing to write: the entry
    /// then only waits for the writes before it).
    write: Option<PendingWrite>,
    records: Vec<Event>,
    actions: Vec<Effect>,
    after: Option<AfterDurable>,
}

/// How many writes may be in flight at once; beyond that the driver waits
/// for the oldest before taking more input.
const MAX_INFLIGHT: usize = 32;

/// How long a graceful stop waits for the killed jobs' processes to end
/// (their executor's own grace period, then SIGKILL, comes first) before it
/// writes what it has of their output and returns.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The scheduler: engine, store, executor and clock.
pub struct Runtime {
    engine: Engine,
    store: Arc<dyn Store>,
    executor: Arc<dyn Executor>,
    clock: Arc<dyn Clock>,
    commands: mpsc::Receiver<Command>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    kills: BTreeMap<(JobId, u32), oneshot::Sender<woi_core::engine::KillReason>>,
    /// The only sender of the event stream: dropped with the runtime, which
    /// ends every subscriber's stream.
    events: broadcast::Sender<Event>,
    handle: Handle,
    /// Set by [`Handle::request_shutdown`].
    stop_requested: watch::Receiver<bool>,
    /// Publishes the definitions after a reload ([`Handle::current_environment`]).
    env_tx: watch::Sender<Arc<Environment>>,
    /// The job-definition variables adapter jobs see.
    variables: Arc<BTreeMap<String, String>>,
    /// Outputs of jobs that just ended, written with the next flush.
    pending_outputs: Vec<JobOutput>,
    /// Writes in flight, oldest first (see [`Runtime::run`]).
    inflight: std::collections::VecDeque<Inflight>,
    /// A graceful stop is under way: no job is started any more.
    stopping: bool,
    /// Jobs started whose end has not come back yet (killed ones included):
    /// a graceful stop waits for them, so that no output is lost.
    live: std::collections::BTreeSet<(JobId, u32)>,
}

impl Runtime {
    /// Build the engine from the store's journal (recovering from a crash),
    /// make its recovery durable, and return the runtime with its report.
    pub async fn open(
        env: Arc<Environment>,
        store: Arc<dyn Store>,
        executor: Arc<dyn Executor>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Runtime, RestoreReport), RuntimeError> {
        let config = EngineConfig::from_env(&env);
        Runtime::open_with(env, config, store, executor, clock).await
    }

    /// [`Runtime::open`] with engine settings of the caller's: e.g.
    /// `schedules: false` for a scheduler opened only to run or operate on
    /// something now, which leaves planned starts, `environment_start`
    /// jobnets and missed starts to the scheduler that serves the schedules.
    pub async fn open_with(
        env: Arc<Environment>,
        config: EngineConfig,
        store: Arc<dyn Store>,
        executor: Arc<dyn Executor>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Runtime, RestoreReport), RuntimeError> {
        let journal = store.events_after(0).await?;
        let now = clock.now();
        let (engine, report) = Engine::restore(env.clone(), config, now, &journal);
        let (cmd_tx, commands) = mpsc::channel(1024);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(EVENT_STREAM_CAPACITY);
        let (stop, stop_requested) = watch::channel(false);
        let (env_tx, env_rx) = watch::channel(engine.environment().clone());
        let handle = Handle { commands: cmd_tx, events: events.downgrade(), stop: Arc::new(stop), env: env_rx };
        let mut rt = Runtime {
            engine,
            store,
            executor,
            clock,
            commands,
            done_tx,
            done_rx,
            kills: BTreeMap::new(),
            events,
            handle,
            stop_requested,
            env_tx,
            variables: Arc::new(env.variables.clone()),
            pending_outputs: Vec::new(),
            inflight: std::collections::VecDeque::new(),
            stopping: false,
            live: std::collections::BTreeSet::new(),
        };
        rt.engine.start_environment(now);
        rt.flush(None).await?;
        rt.settle().await?;
        Ok((rt, report))
    }

    /// A handle for commands and the event stream.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Run until shut down. Returns an error only when the store fails.
    ///
    /// Writes are pipelined: while one write syncs, the driver goes on
    /// taking job ends, commands and timeouts, and hands the engine's next
    /// records to the store at once (its group commit then takes them in one
    /// fsync). The effects of a write (job starts and kills, command answers,
    /// published events) are carried out only once that write, and so every
    /// write before it, is durable.
    pub async fn run(mut self) -> Result<(), RuntimeError> {
        loop {
            let deadline = self.engine.poll_timeout();
            let room = self.inflight.len() < MAX_INFLIGHT;
            let clock = self.clock.clone();
            let sleep = async move {
                match deadline {
                    Some(at) => {
                        let wait = clock.to_real(at - clock.now());
                        tokio::time::sleep(wait).await;
                    }
                    None => futures::future::pending::<()>().await,
                }
            };
            let has_front = !self.inflight.is_empty();
            let inflight = &mut self.inflight;
            // Polls the oldest write in place: if another branch wins, the
            // write stays queued and is polled again next time round.
            let durable = async move {
                match inflight.front_mut().and_then(|f| f.write.as_mut()) {
                    Some(write) => write.as_mut().await,
                    None => Ok(()),
                }
            };
            tokio::select! {
                biased;
                written = durable, if has_front => {
                    written?;
                    self.complete_front();
                }
                Some(done) = self.done_rx.recv(), if room => {
                    // Every job end already reported goes into one write.
                    self.finished(done);
                    while let Ok(more) = self.done_rx.try_recv() {
                        self.finished(more);
                    }
                    self.flush(None).await?;
                }
                Ok(()) = self.stop_requested.changed() => {
                    // A dropped `Scheduler`: the same graceful stop as `Shutdown`.
                    return self.stop_jobs().await;
                }
                cmd = self.commands.recv(), if room => {
                    match cmd {
                        Some(Command::Shutdown { reply }) => {
                            self.stop_jobs().await?;
                            let _ = reply.send(Ok(()));
                            return Ok(());
                        }
                        Some(cmd) => self.command(cmd).await?,
                        None => return self.stop_jobs().await,
                    }
                }
                () = sleep, if room => {
                    let now = self.clock.now();
                    self.engine.handle_timeout(now);
                    self.flush(None).await?;
                }
            }
        }
    }

    /// A graceful stop: the jobs still executing end with 239 now, as a
    /// restart after a crash would end them (XC-010, [`Engine::stop_environment`]),
    /// and that is durable before their processes are killed; then their
    /// output is kept with the attempt. No job starts any more.
    async fn stop_jobs(&mut self) -> Result<(), RuntimeError> {
        self.settle().await?;
        // Ends already reported are taken as usual (what they would start
        // is not started: see `complete_front`).
        while let Ok(done) = self.done_rx.try_recv() {
            self.finished(done);
        }
        self.stopping = true;
        let now = self.clock.now();
        self.engine.stop_environment(now);
        self.flush(None).await?;
        self.settle().await?;
        for (_, tx) in std::mem::take(&mut self.kills) {
            let _ = tx.send(woi_core::engine::KillReason::EnvironmentStop);
        }
        // Wait for every job process still alive: those just killed and
        // those killed before (a cut-off in its grace period). The engine
        // has ended them all, so only their output is kept.
        let deadline = tokio::time::Instant::now() + STOP_WAIT;
        while !self.live.is_empty() {
            let Ok(Some(done)) = tokio::time::timeout_at(deadline, self.done_rx.recv()).await else { break };
            self.finished(done);
        }
        self.flush(None).await?;
        self.settle().await
    }

    /// Feed a job's end to the engine; its output is written with the next flush.
    fn finished(&mut self, done: Done) {
        self.kills.remove(&(done.job, done.attempt));
        self.live.remove(&(done.job, done.attempt));
        let now = self.clock.now();
        self.engine.handle_job_result(now, done.job, done.attempt, done.result.exit, &done.result.output);
        self.pending_outputs.push(JobOutput {
            jobnet: done.jobnet,
            job: done.number,
            attempt: done.attempt,
            host: done.result.host,
            output: done.result.output,
        });
    }

    async fn command(&mut self, cmd: Command) -> Result<(), RuntimeError> {
        /// Answer once what the answer rests on is durable.
        fn answer<T: Send + 'static>(reply: Reply<T>, r: Result<T, RuntimeError>) -> Option<AfterDurable> {
            Some(Box::new(move || {
                let _ = reply.send(r);
            }))
        }
        let now = self.clock.now();
        let after = match cmd {
            Command::Start { key, vparam, reply } => {
                answer(reply, self.engine.start_jobnet(now, &key, vparam.as_deref()).map_err(Into::into))
            }
            Command::Cancel { key, reply } => answer(reply, self.engine.cancel_jobnet(now, &key).map_err(Into::into)),
            Command::JobnetOp { key, op, reply } => {
                let e = &mut self.engine;
                let r = match op {
                    JobnetOp::Pause => e.pause_jobnet(now, &key),
                    JobnetOp::Continue => e.continue_jobnet(now, &key),
                    JobnetOp::Disable => e.disable_jobnet(now, &key),
                    JobnetOp::Enable => e.enable_jobnet(now, &key),
                    JobnetOp::Confirm => e.confirm_jobnet(now, &key),
                    JobnetOp::Restart => e.restart_jobnet(now, &key),
                };
                answer(reply, r.map_err(Into::into))
            }
            Command::CancelJob { key, job, reply } => {
                let r = match self.engine.job_id(&key, &job) {
                    Some(id) => self.engine.cancel_job(now, id),
                    None => Err(Refusal::UnknownJob(key.to_string(), job)),
                };
                answer(reply, r.map_err(Into::into))
            }
            Command::Reload { env, reply } => {
                let r = self.engine.reload(now, env);
                if r.is_ok() {
                    self.definitions_changed();
                }
                answer(reply, r.map_err(Into::into))
            }
            Command::Raise { event, project, jobnet, vparam, suffix, reply } => {
                let req = RaiseRequest {
                    event: &event,
                    project: project.as_deref(),
                    jobnet: jobnet.as_deref(),
                    vparam: vparam.as_deref(),
                    suffix: suffix.as_deref(),
                };
                answer(reply, self.engine.raise_event(now, &req).map_err(Into::into))
            }
            Command::Clear { project, jobnet, reply } => {
                answer(reply, self.engine.clear_events(now, project.as_deref(), jobnet.as_deref()).map_err(Into::into))
            }
            Command::Action { action, reply } => {
                let r = woi_core::sim::apply_action(&mut self.engine, now, &action);
                if matches!(action, woi_core::sim::Action::ApplyDefinitions { .. }) {
                    self.definitions_changed();
                }
                answer(
                    reply,
                    match r {
                        Ok((_, result)) if result.starts_with("applied") => Ok(result),
                        Ok((_, result)) => Err(RuntimeError::Rejected(result)),
                        Err(e) => Err(RuntimeError::Rejected(e.to_string())),
                    },
                )
            }
            // Reads answer once the state they show is durable.
            Command::Jobnets { reply } => answer(reply, Ok(self.engine.jobnets().collect())),
            Command::Jobs { key, reply } => answer(reply, Ok(self.engine.jobs(&key))),
            Command::Occurrences { after, reply } => {
                answer(reply, Ok(self.engine.occurrences().filter(|o| o.seq > after).cloned().collect()))
            }
            Command::EventCounts { key, reply } => answer(reply, Ok(self.engine.event_counts(&key))),
            Command::Environment { reply } => answer(reply, Ok(self.engine.environment().clone())),
            Command::Shutdown { reply } => answer(reply, Ok(())),
        };
        self.flush(after).await
    }

    /// The engine runs new definitions: adapter jobs see their variables,
    /// the handles ([`Handle::current_environment`]) see them.
    fn definitions_changed(&mut self) {
        let env = self.engine.environment().clone();
        self.variables = Arc::new(env.variables.clone());
        self.env_tx.send_replace(env);
    }

    /// Drain the engine's effects and hand its records (with the outputs of
    /// jobs that just ended) to the store as one write, queued behind the
    /// writes in flight. Its job starts and kills, and `after`, wait until
    /// it is durable ([`Runtime::complete_front`]).
    async fn flush(&mut self, after: Option<AfterDurable>) -> Result<(), RuntimeError> {
        let mut records = Vec::new();
        let mut actions = Vec::new();
        while let Some(effect) = self.engine.poll_effect() {
            match effect {
                Effect::Record(e) => records.push(e),
                other => actions.push(other),
            }
        }
        if records.is_empty() && actions.is_empty() && after.is_none() && self.pending_outputs.is_empty() {
            return Ok(());
        }
        let outputs = std::mem::take(&mut self.pending_outputs);
        let write = if records.is_empty() && outputs.is_empty() {
            None
        } else if let Some(w) = self.store.begin_append(&records, &outputs) {
            Some(w)
        } else {
            // A store that cannot order writes ahead: one write at a time.
            self.settle().await?;
            self.store.append_with_outputs(&records, &outputs).await?;
            None
        };
        self.inflight.push_back(Inflight { write, records, actions, after });
        Ok(())
    }

    /// The oldest write is durable: publish its records, start and kill its
    /// jobs, answer its command.
    fn complete_front(&mut self) {
        let Some(Inflight { records, actions, after, .. }) = self.inflight.pop_front() else {
            return;
        };
        for e in records {
            let _ = self.events.send(e);
        }
        for action in actions {
            match action {
                // A graceful stop ended it already (239): it never starts.
                Effect::StartJob(_) if self.stopping => {}
                Effect::StartJob(s) => {
                    // The engine has substituted @.VPARAM@ and the variables.
                    let run = JobRun::from_start(&s, self.variables.clone());
                    let (kill_tx, kill_rx) = oneshot::channel();
                    self.kills.insert((s.job, s.attempt), kill_tx);
                    self.live.insert((s.job, s.attempt));
                    let executor = self.executor.clone();
                    let done = self.done_tx.clone();
                    let (job, attempt, jobnet, number) = (s.job, s.attempt, s.jobnet.clone(), s.number);
                    tokio::spawn(async move {
                        let result = executor.run(run, kill_rx).await;
                        let _ = done.send(Done { job, attempt, jobnet, number, result });
                    });
                }
                Effect::KillJob { job, attempt, reason, .. } => {
                    if let Some(tx) = self.kills.remove(&(job, attempt)) {
                        let _ = tx.send(reason);
                    }
                }
                // Records were written above; effects added later are not for this driver.
                _ => {}
            }
        }
        if let Some(after) = after {
            after();
        }
    }

    /// Wait until every write in flight is durable and carry out its effects.
    async fn settle(&mut self) -> Result<(), RuntimeError> {
        while let Some(front) = self.inflight.front_mut() {
            if let Some(write) = front.write.as_mut() {
                write.as_mut().await?;
            }
            self.complete_front();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::ProcessExecutor;
    use woi_core::store::MemoryStore;
    use woi_core::{Catalog, EventKind, JobStatus, JobnetStatus};

    const DEFS: &str = r#"
        [[jobnet]]
        project = "P"
        name = "N"
        comment = "Real"
        [[jobnet.job]]
        number = 1
        command = "true"
        [[jobnet.job]]
        number = 2
        command = "sh -c 'echo out-@.VPARAM@; exit 3'"
        after = [1]
        normal_limit = 3
        [[jobnet.job]]
        number = 3
        command = "sleep 30"
    "#;

    fn env() -> Arc<Environment> {
        let mut cat = Catalog::new();
        cat.add_text("d.toml", DEFS);
        Arc::new(cat.compile().expect("valid"))
    }

    async fn wait_for_end(rx: &mut broadcast::Receiver<Event>, key: &JobnetKey) -> JobnetStatus {
        loop {
            match rx.recv().await {
                Ok(Event { kind: EventKind::JobnetStatus { jobnet, status, .. }, .. })
                    if &jobnet == key && status.is_ended() =>
                {
                    return status;
                }
                Ok(_) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
    }

    #[tokio::test]
    async fn runs_real_processes_write_ahead_and_cancels() {
        let store = Arc::new(MemoryStore::new());
        let (rt, report) =
            Runtime::open(env(), store.clone(), Arc::new(ProcessExecutor::default()), Arc::new(SystemClock))
                .await
                .expect("open");
        assert_eq!(report.events, 0);
        let h = rt.handle();
        let task = tokio::spawn(rt.run());
        let key = JobnetKey::new("P", "N");
        let mut rx = h.subscribe();
        h.start_jobnet(&key, Some("v1")).await.expect("start");
        // Job 3 sleeps; cancel it once jobs 1 and 2 are done.
        loop {
            let jobs = h.jobs(&key).await.expect("jobs");
            if jobs[1].status.is_final() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        h.cancel_job(&key, "3").await.expect("cancel");
        let status = wait_for_end(&mut rx, &key).await;
        assert_eq!(status, JobnetStatus::Cancelled);
        let jobs = h.jobs(&key).await.expect("jobs");
        assert_eq!(jobs[0].status, JobStatus::Completed);
        assert_eq!((jobs[1].status, jobs[1].exit.map(|e| e.code)), (JobStatus::PseudoNormal, Some(3)));
        assert_eq!((jobs[2].status, jobs[2].exit.map(|e| e.code)), (JobStatus::Cancelled, Some(256)));
        let out = store.last_output(&key, 2).await.expect("output").expect("kept");
        assert_eq!(out.output.trim(), "out-v1", "@.VPARAM@ substituted");
        // Every state change is in the store.
        let journal = store.events_after(0).await.expect("journal");
        assert!(
            journal.iter().any(|e| matches!(&e.kind, EventKind::JobnetStatus { status: JobnetStatus::Cancelled, .. }))
        );
        assert!(journal.windows(2).all(|w| w[0].seq < w[1].seq));
        h.shutdown().await.expect("shutdown");
        task.await.expect("join").expect("run");
    }

    #[tokio::test]
    async fn refused_commands_change_nothing() {
        let store = Arc::new(MemoryStore::new());
        let (rt, _) = Runtime::open(env(), store.clone(), Arc::new(ProcessExecutor::default()), Arc::new(SystemClock))
            .await
            .expect("open");
        let h = rt.handle();
        let task = tokio::spawn(rt.run());
        let before = store.events_after(0).await.expect("journal").len();
        let err = h.cancel_jobnet(&JobnetKey::new("P", "N")).await.expect_err("not running");
        assert!(matches!(err, RuntimeError::Refused(_)));
        let err = h.start_jobnet(&JobnetKey::new("P", "NOPE"), None).await.expect_err("unknown");
        assert!(err.to_string().contains("P/NOPE"));
        assert_eq!(store.events_after(0).await.expect("journal").len(), before);
        h.shutdown().await.expect("shutdown");
        task.await.expect("join").expect("run");
    }
}
