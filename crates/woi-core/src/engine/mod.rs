//! The jobnet engine: a deterministic, sans-IO state machine.
//!
//! Shape (after quinn-proto's `Connection`):
//! - getters on `&self` ([`Engine::jobnet`], [`Engine::job`], …);
//! - `handle_*` for facts: [`Engine::handle_job_ended`], [`Engine::handle_timeout`];
//! - commands that apply or return a typed [`Refusal`]: [`Engine::start_jobnet`],
//!   [`Engine::cancel_jobnet`], [`Engine::cancel_job`];
//! - `poll_*` for what the caller must do: [`Engine::poll_effect`] and
//!   [`Engine::poll_timeout`].
//!
//! The engine never reads a clock: every call takes `now`. Same inputs give
//! the same effects in the same order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::defs::{Environment, JobnetKey};
use crate::exit::{self, EndClass, ExitCode, Judgement};
use crate::messages::{self, Level};
use crate::model::{JobDef, JobKind, JobnetDef, WaitMode};

mod builtins;
mod msgevent;
mod ops;
mod reload;
mod restore;
mod schedule;
pub use msgevent::{EventCount, RaiseRequest, Reception, check_vparam};
pub use ops::RecoveryOp;
pub use reload::ReloadReport;
pub use restore::RestoreReport;

/// Status of a jobnet (spec 01 §2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobnetStatus {
    /// Waiting to start.
    Waiting,
    /// Executing.
    Executing,
    /// A job ended abnormally while another route is still executing.
    Warning,
    /// Ended normally.
    Completed,
    /// Ended pseudo-normally.
    PseudoNormal,
    /// Ended abnormally.
    Abended,
    /// Forcibly terminated.
    Cancelled,
    /// Paused by an operator.
    Paused,
    /// Disabled by an operator.
    Disabled,
    /// Confirmed after an abnormal end.
    Confirmed,
    /// Carried over at a day change.
    CarriedOver,
    /// Carry-over released.
    CarryOverReleased,
}

impl JobnetStatus {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            JobnetStatus::Waiting => "waiting",
            JobnetStatus::Executing => "executing",
            JobnetStatus::Warning => "warning",
            JobnetStatus::Completed => "completed",
            JobnetStatus::PseudoNormal => "pseudo_normal",
            JobnetStatus::Abended => "abended",
            JobnetStatus::Cancelled => "cancelled",
            JobnetStatus::Paused => "paused",
            JobnetStatus::Disabled => "disabled",
            JobnetStatus::Confirmed => "confirmed",
            JobnetStatus::CarriedOver => "carried_over",
            JobnetStatus::CarryOverReleased => "carry_over_released",
        }
    }

    /// Completed, PseudoNormal, Abended or Cancelled: a run ended.
    pub fn is_ended(self) -> bool {
        matches!(
            self,
            JobnetStatus::Completed | JobnetStatus::PseudoNormal | JobnetStatus::Abended | JobnetStatus::Cancelled
        )
    }

    /// Executing or Warning.
    pub fn is_running(self) -> bool {
        matches!(self, JobnetStatus::Executing | JobnetStatus::Warning)
    }
}

impl fmt::Display for JobnetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of a job (spec 01 §2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its predecessors (or for a resource or an execution slot).
    Waiting,
    /// Executing.
    Executing,
    /// Ended normally.
    Completed,
    /// Ended pseudo-normally.
    PseudoNormal,
    /// Ended abnormally.
    Abended,
    /// Forcibly terminated.
    Cancelled,
    /// Jobnet icon whose jobnet is in Warning.
    Warning,
    /// Paused by an operator.
    Paused,
    /// Disabled by an operator (skipped and treated as normal when its turn comes).
    Disabled,
    /// Path state: not run because of branching or an OR wait.
    Bypassed,
}

impl JobStatus {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Waiting => "waiting",
            JobStatus::Executing => "executing",
            JobStatus::Completed => "completed",
            JobStatus::PseudoNormal => "pseudo_normal",
            JobStatus::Abended => "abended",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Warning => "warning",
            JobStatus::Paused => "paused",
            JobStatus::Disabled => "disabled",
            JobStatus::Bypassed => "bypassed",
        }
    }

    fn from_class(c: EndClass) -> JobStatus {
        match c {
            EndClass::Completed => JobStatus::Completed,
            EndClass::PseudoNormal => JobStatus::PseudoNormal,
            EndClass::Abended => JobStatus::Abended,
            EndClass::Cancelled => JobStatus::Cancelled,
            EndClass::Bypassed => JobStatus::Bypassed,
        }
    }

    /// Whether the job has finished (ended, bypassed).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed
                | JobStatus::PseudoNormal
                | JobStatus::Abended
                | JobStatus::Cancelled
                | JobStatus::Bypassed
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Handle of a job inside the engine (stable for the engine's lifetime).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct JobId {
    /// Jobnet instance index.
    pub instance: u32,
    /// Index of the job inside its jobnet definition.
    pub index: u32,
}

/// Why the engine asks to kill a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KillReason {
    /// Operator force-termination (of the job or its jobnet).
    Cancel,
    /// Cut-off time reached (0x40000322).
    Cutoff,
    /// OR wait: another predecessor ended normally (248).
    OrWaitOtherNormal,
    /// OR wait: another predecessor ended abnormally (249).
    OrWaitOtherAbnormal,
    /// The scheduler is stopping ([`Engine::stop_environment`]): the job
    /// already ended with 239 in the engine; its process is killed.
    EnvironmentStop,
}

/// A job the caller must start.
#[derive(Clone, Debug)]
pub struct JobStart {
    /// The job.
    pub job: JobId,
    /// Attempt number; report the end with the same number.
    pub attempt: u32,
    /// Its jobnet (for a linked jobnet: the linked name).
    pub jobnet: JobnetKey,
    /// Job number.
    pub number: u16,
    /// Job name.
    pub name: Arc<str>,
    /// Run number of the jobnet.
    pub run: u32,
    /// Variable parameter of the run.
    pub vparam: Option<Arc<str>>,
    def: Arc<JobDef>,
}

impl JobStart {
    /// The job's definition with `@.VPARAM@`, jobnet variables and
    /// job-definition variables substituted.
    pub fn def(&self) -> &JobDef {
        &self.def
    }
}

/// What the engine asks the caller to do.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Effect {
    /// Start a job; report its end with [`Engine::handle_job_ended`].
    StartJob(JobStart),
    /// Kill a running job; its end has already been recorded, a later report is ignored.
    KillJob {
        /// The job.
        job: JobId,
        /// The attempt to kill.
        attempt: u32,
        /// Its jobnet.
        jobnet: JobnetKey,
        /// Job number.
        number: u16,
        /// Why.
        reason: KillReason,
    },
    /// Persist this event (before acting on later effects).
    Record(Event),
}

/// One recorded state change or log message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Sequence number, strictly increasing.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What an event says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A jobnet changed status.
    JobnetStatus {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Run number.
        run: u32,
        /// New status.
        status: JobnetStatus,
        /// Jobnet exit code, once ended.
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<u32>,
    },
    /// A job changed status.
    JobStatus {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Job number.
        job: u16,
        /// Job name.
        name: Arc<str>,
        /// New status.
        status: JobStatus,
        /// Exit code, once ended.
        #[serde(skip_serializing_if = "Option::is_none")]
        exit: Option<ExitCode>,
        /// Attempt number.
        attempt: u32,
    },
    /// An operator disabled or enabled, paused or continued a job: the
    /// flags that outlive runs (a disabled job is skipped in every run until
    /// enabled), kept so that they survive a restart.
    JobFlags {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Job number.
        job: u16,
        /// Disabled by an operator.
        disabled: bool,
        /// Paused by an operator.
        paused: bool,
    },
    /// A disabled job's turn came and it was skipped as ended normally (or
    /// that was undone by a restart): its successors count it as normal, and
    /// it can no longer be enabled in this run. Kept so that a restart
    /// rebuilds the flow exactly (the job's status stays `disabled` either way).
    JobSkipped {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Job number.
        job: u16,
        /// Skipped in the current run.
        skipped: bool,
    },
    /// A line appended to a job's history (execution-control messages).
    JobMessage {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Job number.
        job: u16,
        /// The line.
        text: String,
    },
    /// A message event reached a jobnet that awaits it.
    MessageEvent {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Event name.
        event: Arc<str>,
        /// Whether it was counted.
        counted: bool,
        /// The count afterwards.
        count: u16,
        /// Why it was not counted.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A message event was raised (`jobschmsgevent`, `POST /v1/msgevent`):
    /// the occurrence history `jobschchkmsgevt` waits on, also outside the
    /// scheduler's process (it reads the journal).
    MessageEventRaised {
        /// The occurrence, with its sequence number in the history.
        occurrence: crate::builtin::Occurrence,
    },
    /// The message-event counts of a jobnet were reset.
    MessageCountsCleared {
        /// The jobnet.
        jobnet: JobnetKey,
    },
    /// A counted occurrence queued one more run of a jobnet that is valid
    /// during execution and running: it starts once the runs before it end.
    /// The record's sequence number identifies the queued run
    /// ([`Engine::delete_queued_run`]).
    RunQueued {
        /// The jobnet.
        jobnet: JobnetKey,
        /// The event whose occurrence queued it.
        event: Arc<str>,
        /// Runs queued afterwards.
        queued: u32,
    },
    /// A queued run was deleted before it started; the occurrences it would
    /// have used are consumed (spec 04 §3.8.5).
    QueuedRunDeleted {
        /// The jobnet.
        jobnet: JobnetKey,
        /// The sequence number of the [`EventKind::RunQueued`] record of the
        /// deleted run (0 when not named).
        queued: u64,
        /// The message-event counts afterwards, in the order of the definition.
        counts: Vec<u16>,
    },
    /// A recovery change replaced a job's definition, statuses kept (spec 01 §3.5.4).
    RecoveryChanged {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Job number.
        job: u16,
        /// The definition before.
        before: Box<JobDef>,
        /// The definition after.
        after: Box<JobDef>,
    },
    /// New definitions were applied while the scheduler ran (spec 01
    /// §3.15): `changed` jobnets and their jobs were reset to `Waiting`
    /// (a pause or disable is kept).
    DefinitionsApplied {
        /// Jobnets reset because their definition changed.
        changed: Vec<JobnetKey>,
        /// New jobnets.
        added: Vec<JobnetKey>,
        /// Jobnets no longer defined.
        removed: Vec<JobnetKey>,
    },
    /// Copy start created (or overwrote) a jobnet.
    CopyCreated {
        /// The copy.
        jobnet: JobnetKey,
        /// The jobnet it copies.
        source: JobnetKey,
        /// The suffix.
        suffix: String,
    },
    /// A planned start time of a jobnet arrived (whatever became of it).
    StartTriggered {
        /// The jobnet.
        jobnet: JobnetKey,
        /// The planned instant.
        planned: DateTime<Utc>,
        /// Its operating day.
        operating_day: NaiveDate,
    },
    /// A planned start passed while the scheduler was not running.
    StartMissed {
        /// The jobnet.
        jobnet: JobnetKey,
        /// The planned instant.
        planned: DateTime<Utc>,
        /// `run_once` (started on recovery) or `skipped`.
        action: String,
    },
    /// A scheduler that does not fire the schedules (`schedules: false`,
    /// e.g. `woi run`) opened: from here until [`EventKind::SchedulesResumed`]
    /// planned starts are not handled, so a later restore looks for missed
    /// starts from the last record before this one.
    SchedulesHeld,
    /// A scheduler that fires the schedules opened after
    /// [`EventKind::SchedulesHeld`] and caught up with the starts missed
    /// meanwhile.
    SchedulesResumed,
    /// The output of a built-in job (external jobs' output goes to the store).
    JobOutput {
        /// The jobnet.
        jobnet: JobnetKey,
        /// Job number.
        job: u16,
        /// Attempt number.
        attempt: u32,
        /// The output lines.
        output: String,
    },
    /// The jobnet variables of a run changed (the whole set afterwards).
    JobnetVariables {
        /// The jobnet that holds them (the top-level jobnet of the hierarchy).
        jobnet: JobnetKey,
        /// Every variable, `<prefix>.<NAME>` → value.
        variables: BTreeMap<String, String>,
    },
    /// A job-management log record (what monitoring sinks receive).
    Log {
        /// Level.
        level: Level,
        /// The jobnet it is about.
        jobnet: JobnetKey,
        /// Exact message text.
        message: String,
    },
}

/// Why a command was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No such jobnet.
    #[error("jobnet {0} does not exist")]
    UnknownJobnet(String),
    /// No such job.
    #[error("job {1} does not exist in jobnet {0}")]
    UnknownJob(String, String),
    /// An argument is not valid.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The argument.
        field: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A name does not identify one object.
    #[error("{0}")]
    Ambiguous(String),
    /// The operation is refused for another reason than the status.
    #[error("{op} on {target} is refused: {reason}")]
    Refused {
        /// The operation.
        op: &'static str,
        /// Jobnet or job.
        target: String,
        /// Why.
        reason: String,
    },
    /// The operation is not allowed in the current status.
    #[error("{op} is not allowed while {target} is {status}")]
    NotAllowed {
        /// The operation.
        op: &'static str,
        /// Jobnet or job.
        target: String,
        /// Its status.
        status: String,
    },
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Limit on simultaneously executing jobs (spec 4.6.4.3).
    pub max_concurrent_jobs: u32,
    /// Host name shown in execution-control messages.
    pub host: String,
    /// Whether this engine fires the schedules: planned starts (times and
    /// intervals), `environment_start` jobnets and the recovery of starts
    /// missed while down. `false` for a scheduler opened only to run or
    /// operate on something now (`woi run`, `woi op`): it leaves every
    /// planned start to the next scheduler that does fire them, which then
    /// finds it missed and applies the jobnet's `missed_start` policy. Day
    /// changes, message events and operations work either way.
    pub schedules: bool,
}

impl EngineConfig {
    /// Settings from an environment (schedules fired).
    pub fn from_env(env: &Environment) -> EngineConfig {
        EngineConfig { max_concurrent_jobs: env.max_concurrent_jobs, host: "localhost".into(), schedules: true }
    }
}

/// Read-only view of a jobnet instance.
#[derive(Clone, Debug, Serialize)]
pub struct JobnetView {
    /// Key.
    pub key: JobnetKey,
    /// Comment.
    pub comment: String,
    /// Status.
    pub status: JobnetStatus,
    /// Number of runs so far.
    pub run: u32,
    /// Exit code of the last finished run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u32>,
    /// Start of the last run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// End of the last run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Parent jobnet, for child and linked jobnets that ran inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<JobnetKey>,
    /// Operating day the jobnet is scheduled for (top-level jobnets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operating_day: Option<NaiveDate>,
    /// Next armed start time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_start: Option<DateTime<Utc>>,
    /// Did not start at its scheduled time (0310).
    pub start_delayed: bool,
    /// Did not end before its estimated end (0311).
    pub end_delayed: bool,
    /// Runs queued behind the running one: occurrences counted while a
    /// jobnet valid during execution ran ([`EventKind::RunQueued`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub queued_runs: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Read-only view of a job.
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    /// Job number.
    pub number: u16,
    /// Job name.
    pub name: Arc<str>,
    /// Kind.
    pub kind: JobKind,
    /// Status.
    pub status: JobStatus,
    /// Exit code of the last end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitCode>,
    /// Times started.
    pub attempts: u32,
    /// Waiting for a resource or an execution slot.
    pub queued: bool,
    /// Predicted execution time exceeded.
    pub delayed: bool,
    /// Last start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// Last end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// Precomputed flow of a jobnet definition.
#[derive(Debug)]
struct Flow {
    preds: Vec<Vec<u32>>,
    succs: Vec<Vec<u32>>,
    recovery_jobs: Vec<Vec<u32>>,
    roots: Vec<u32>,
    names: Vec<Arc<str>>,
    index: BTreeMap<u16, u32>,
}

impl Flow {
    fn new(def: &JobnetDef) -> Flow {
        let n = def.jobs.len();
        let index: BTreeMap<u16, u32> = def.jobs.iter().enumerate().map(|(i, j)| (j.number, i as u32)).collect();
        let mut preds = vec![Vec::new(); n];
        let mut succs = vec![Vec::new(); n];
        let mut recovery_jobs = vec![Vec::new(); n];
        for (i, j) in def.jobs.iter().enumerate() {
            for p in &j.after {
                if let Some(&pi) = index.get(p) {
                    preds[i].push(pi);
                    succs[pi as usize].push(i as u32);
                }
            }
            if let Some(r) = &j.recovery
                && let Some(&t) = index.get(&r.target)
            {
                recovery_jobs[t as usize].push(i as u32);
            }
        }
        for s in &mut succs {
            s.sort_unstable();
        }
        let roots = (0..n as u32)
            .filter(|&i| preds[i as usize].is_empty() && def.jobs[i as usize].recovery.is_none())
            .collect();
        let names = def.jobs.iter().map(|j| Arc::from(j.display_name())).collect();
        Flow { preds, succs, recovery_jobs, roots, names, index }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bits {
    normal: bool,
    bypassed: bool,
    failed: bool,
    resolved: bool,
}

#[derive(Clone, Debug)]
struct JobRt {
    status: JobStatus,
    queued: bool,
    skipped: bool,
    disabled: bool,
    paused: bool,
    /// Paused while its start condition became true: starts on Continue.
    held: bool,
    holds_resource: bool,
    holds_slot: bool,
    or_dead: bool,
    delayed: bool,
    /// A failed jobnet icon reset by a restart (downstream of the restart
    /// point): when its turn comes, its jobnet restarts from its failed jobs.
    restart_child: bool,
    exit: Option<ExitCode>,
    attempt: u32,
    ended_seq: u64,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    n_normal: u32,
    n_bypassed: u32,
    n_failed: u32,
    n_resolved: u32,
}

impl JobRt {
    fn new() -> JobRt {
        JobRt {
            status: JobStatus::Waiting,
            queued: false,
            skipped: false,
            disabled: false,
            paused: false,
            held: false,
            holds_resource: false,
            holds_slot: false,
            or_dead: false,
            delayed: false,
            restart_child: false,
            exit: None,
            attempt: 0,
            ended_seq: 0,
            started_at: None,
            ended_at: None,
            n_normal: 0,
            n_bypassed: 0,
            n_failed: 0,
            n_resolved: 0,
        }
    }

    fn bits(&self) -> Bits {
        match self.status {
            JobStatus::Waiting => Bits { resolved: self.queued, ..Bits::default() },
            JobStatus::Executing | JobStatus::Warning => Bits { resolved: true, ..Bits::default() },
            JobStatus::Completed | JobStatus::PseudoNormal => Bits { normal: true, resolved: true, ..Bits::default() },
            JobStatus::Abended | JobStatus::Cancelled => Bits { failed: true, resolved: true, ..Bits::default() },
            JobStatus::Bypassed => Bits { bypassed: true, resolved: true, ..Bits::default() },
            JobStatus::Disabled if self.skipped => Bits { normal: true, resolved: true, ..Bits::default() },
            JobStatus::Paused => Bits { resolved: self.held, ..Bits::default() },
            JobStatus::Disabled => Bits::default(),
        }
    }

    /// Executing, queued, or paused with its start condition met: the jobnet
    /// cannot end while such a job exists.
    fn is_active(&self) -> bool {
        matches!(self.status, JobStatus::Executing | JobStatus::Warning) || self.queued || self.held
    }
}

#[derive(Debug)]
struct Instance {
    key: JobnetKey,
    def: Arc<JobnetDef>,
    flow: Arc<Flow>,
    parent: Option<JobId>,
    status: JobnetStatus,
    warning: bool,
    cancelling: bool,
    run: u32,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    exit_code: Option<u32>,
    vparam: Option<Arc<str>>,
    jobs: Vec<JobRt>,
    active: u32,
    failed: u32,
    /// Occurrence counts of the awaited message events (parallel to `def.messages.events`).
    counts: Vec<u16>,
    /// Last occurrence of each awaited event.
    last_raised: Vec<Option<DateTime<Utc>>>,
    /// A start condition was satisfied while paused (started on Continue).
    pause_trigger: bool,
    /// The start time of an and-time jobnet arrived before its events.
    time_reached: bool,
    start_delayed: bool,
    end_delayed: bool,
    /// Operating day the jobnet is scheduled for, and whether it is a startup day.
    day: Option<NaiveDate>,
    startup_day: bool,
    /// Operating day of the last start (once-a-day message starts).
    started_on: Option<NaiveDate>,
    /// Source instance when this jobnet was made by copy start.
    copy_of: Option<u32>,
    /// Scheduled by time and day change itself (not a child, linked jobnet or copy).
    top_level: bool,
    /// The next time start armed for this jobnet.
    next_start: Option<crate::plan::PlannedStart>,
    /// The jobnet was rescheduled at a day change while paused or disabled.
    rescheduled_while_held: bool,
    /// The environment stopped while it ran: nothing more starts, it ends abnormally.
    interrupted: bool,
    /// Status before a pause or disable.
    held_status: Option<JobnetStatus>,
    /// Jobnet variables of the run (kept on the top-level instance of a hierarchy).
    vars: BTreeMap<String, String>,
    /// Scheduled operating day of the run (`None` for operator starts).
    run_day: Option<NaiveDate>,
    /// Start occurrences whose time arrived (operating day, local time of
    /// day), recent days only: a start re-armed from changed calendars never
    /// fires twice (see `schedule.rs`).
    fired: Vec<(NaiveDate, chrono::NaiveTime)>,
}

impl Instance {
    fn new(key: JobnetKey, def: Arc<JobnetDef>, flow: Arc<Flow>) -> Instance {
        let events = def.messages.as_ref().map_or(0, |m| m.events.len());
        Instance {
            key,
            jobs: vec![JobRt::new(); def.jobs.len()],
            def,
            flow,
            parent: None,
            status: JobnetStatus::Waiting,
            warning: false,
            cancelling: false,
            run: 0,
            started_at: None,
            ended_at: None,
            exit_code: None,
            vparam: None,
            active: 0,
            failed: 0,
            counts: vec![0; events],
            last_raised: vec![None; events],
            pause_trigger: false,
            time_reached: false,
            start_delayed: false,
            end_delayed: false,
            day: None,
            startup_day: true,
            started_on: None,
            copy_of: None,
            top_level: false,
            next_start: None,
            rescheduled_while_held: false,
            interrupted: false,
            held_status: None,
            vars: BTreeMap::new(),
            run_day: None,
            fired: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Predicted,
    Cutoff,
    /// Jobnet timers (`JobId.index` unused, token below).
    DayChange,
    /// Token: index into the instance's pending start (always 0).
    Start,
    /// Token: the run number it watches.
    EndDelay,
    /// A waiting built-in job re-evaluates (token: attempt).
    Builtin,
}

#[derive(Debug, Default)]
struct ResourceState {
    holder: Option<JobId>,
    queue: VecDeque<JobId>,
}

/// The engine. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    env: Arc<Environment>,
    config: EngineConfig,
    instances: Vec<Instance>,
    by_key: BTreeMap<JobnetKey, u32>,
    effects: VecDeque<Effect>,
    timers: BTreeSet<(DateTime<Utc>, TimerKind, JobId, u32)>,
    running: u32,
    slot_queue: VecDeque<JobId>,
    resources: BTreeMap<String, ResourceState>,
    worklist: VecDeque<JobId>,
    dirty: Vec<u32>,
    seq: u64,
    now: DateTime<Utc>,
    /// Recent message-event occurrences (for message-event wait jobs).
    occurrences: VecDeque<crate::builtin::Occurrence>,
    occurrence_seq: u64,
    /// Built-in jobs that are waiting, with their parsed command and start.
    waiting: BTreeMap<JobId, (crate::builtin::Builtin, DateTime<Utc>)>,
}

impl Engine {
    /// An engine over validated definitions; every jobnet starts `Waiting`.
    pub fn new(env: Arc<Environment>, config: EngineConfig, now: DateTime<Utc>) -> Engine {
        let mut e = Engine::build(env, config, now);
        e.init_schedules(now);
        e
    }

    /// Instances in `Waiting`, no timers armed.
    fn build(env: Arc<Environment>, config: EngineConfig, now: DateTime<Utc>) -> Engine {
        let mut e = Engine {
            env,
            config,
            instances: Vec::new(),
            by_key: BTreeMap::new(),
            effects: VecDeque::new(),
            timers: BTreeSet::new(),
            running: 0,
            slot_queue: VecDeque::new(),
            resources: BTreeMap::new(),
            worklist: VecDeque::new(),
            dirty: Vec::new(),
            seq: 0,
            now,
            occurrences: VecDeque::new(),
            occurrence_seq: 0,
            waiting: BTreeMap::new(),
        };
        // One instance per key a jobnet runs under: defined jobnets, linked
        // jobnets and the generated copies of the children below them.
        let keys: Vec<JobnetKey> = e.env.run_keys().cloned().collect();
        let mut flows: BTreeMap<JobnetKey, Arc<Flow>> = BTreeMap::new();
        for key in keys {
            let Some(def) = e.env.definition_of(&key).cloned() else { continue };
            let def_key = JobnetKey::new(&def.project, &def.name);
            let flow = flows.entry(def_key).or_insert_with(|| Arc::new(Flow::new(&def))).clone();
            let id = e.instances.len() as u32;
            e.instances.push(Instance::new(key.clone(), def, flow));
            e.by_key.insert(key, id);
        }
        // Jobnets that run inside others (children, masters of links, linked
        // jobnets and the copies below them) are not scheduled by themselves.
        let inner = reload::inner_jobnets(&e.env);
        for inst in &mut e.instances {
            inst.top_level = !inner.contains(&inst.key);
        }
        e
    }

    /// The environment the engine runs.
    pub fn environment(&self) -> &Arc<Environment> {
        &self.env
    }

    // ----- getters -------------------------------------------------------

    /// Every jobnet instance, in key order.
    pub fn jobnets(&self) -> impl Iterator<Item = JobnetView> + '_ {
        self.by_key.values().map(|&i| self.view(i))
    }

    /// One jobnet.
    pub fn jobnet(&self, key: &JobnetKey) -> Option<JobnetView> {
        self.by_key.get(key).map(|&i| self.view(i))
    }

    /// The jobs of a jobnet, in definition order.
    pub fn jobs(&self, key: &JobnetKey) -> Vec<JobView> {
        let Some(&i) = self.by_key.get(key) else { return Vec::new() };
        let inst = &self.instances[i as usize];
        (0..inst.jobs.len() as u32).map(|j| self.job_view(JobId { instance: i, index: j })).collect()
    }

    /// One job.
    pub fn job(&self, id: JobId) -> Option<JobView> {
        let inst = self.instances.get(id.instance as usize)?;
        inst.jobs.get(id.index as usize)?;
        Some(self.job_view(id))
    }

    /// Find a job by jobnet key and job number or name.
    pub fn job_id(&self, key: &JobnetKey, job: &str) -> Option<JobId> {
        let &i = self.by_key.get(key)?;
        let inst = &self.instances[i as usize];
        let index = match job.parse::<u16>() {
            Ok(n) => *inst.flow.index.get(&n)?,
            Err(_) => inst.flow.names.iter().position(|n| &**n == job)? as u32,
        };
        Some(JobId { instance: i, index })
    }

    /// Whether any jobnet is executing (or in warning).
    pub fn any_running(&self) -> bool {
        self.instances.iter().any(|i| i.status.is_running())
    }

    /// Whether a timer of a job is armed (cut-off, predicted time, a waiting
    /// built-in job's next check): the engine would change a job by itself
    /// later, without an input or a job end. Scheduled starts, day changes
    /// and end-delay checks do not count.
    pub fn job_timer_armed(&self) -> bool {
        self.timers.iter().any(|t| matches!(t.1, TimerKind::Predicted | TimerKind::Cutoff | TimerKind::Builtin))
    }

    /// Number of jobs currently executing (counted against the limit).
    pub fn running_jobs(&self) -> u32 {
        self.running
    }

    fn view(&self, i: u32) -> JobnetView {
        let inst = &self.instances[i as usize];
        JobnetView {
            key: inst.key.clone(),
            comment: inst.def.comment.clone(),
            status: inst.status,
            run: inst.run,
            exit_code: inst.exit_code,
            started_at: inst.started_at,
            ended_at: inst.ended_at,
            parent: inst.parent.map(|p| self.instances[p.instance as usize].key.clone()),
            operating_day: inst.day,
            // Only a start that will fire: one of the day the jobnet is
            // scheduled for, or of a later day it will be rescheduled for.
            next_start: inst
                .next_start
                .as_ref()
                .filter(|s| {
                    inst.day == Some(s.operating_day)
                        || !matches!(inst.status, JobnetStatus::Abended | JobnetStatus::Cancelled)
                })
                .map(|s| s.at),
            start_delayed: inst.start_delayed,
            end_delayed: inst.end_delayed,
            queued_runs: Self::queued_runs_of(inst),
        }
    }

    fn job_view(&self, id: JobId) -> JobView {
        let inst = &self.instances[id.instance as usize];
        let j = &inst.jobs[id.index as usize];
        let d = &inst.def.jobs[id.index as usize];
        JobView {
            number: d.number,
            name: inst.flow.names[id.index as usize].clone(),
            kind: d.kind,
            status: j.status,
            exit: j.exit,
            attempts: j.attempt,
            queued: j.queued,
            delayed: j.delayed,
            started_at: j.started_at,
            ended_at: j.ended_at,
        }
    }

    // ----- poll ----------------------------------------------------------

    /// The next thing the caller must do, if any.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// When the engine next wants [`Engine::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        self.timers.first().map(|t| t.0)
    }

    // ----- facts ---------------------------------------------------------

    /// Time reached `now`: fire due timers (cut-off, predicted time).
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) {
        self.now = now;
        while let Some(&t) = self.timers.first() {
            if t.0 > now {
                break;
            }
            self.timers.pop_first();
            let (_, kind, id, attempt) = t;
            match kind {
                TimerKind::DayChange => {
                    self.day_change(id.instance);
                    continue;
                }
                TimerKind::Start => {
                    self.start_time_reached(id.instance);
                    continue;
                }
                TimerKind::EndDelay => {
                    self.end_delay_reached(id.instance, attempt);
                    continue;
                }
                TimerKind::Builtin => {
                    self.builtin_wake(id, attempt);
                    continue;
                }
                TimerKind::Predicted | TimerKind::Cutoff => {}
            }
            let j = &self.instances[id.instance as usize].jobs[id.index as usize];
            if j.attempt != attempt || j.status != JobStatus::Executing {
                continue;
            }
            match kind {
                TimerKind::Predicted => self.predicted_exceeded(id),
                _ => {
                    self.kill(id, KillReason::Cutoff);
                    let (name, number) = self.job_label(id);
                    let text = messages::cutoff_termination(&name, number, &self.config.host);
                    self.job_message(id, text);
                    self.end_job(id, ExitCode::interruption(exit::INT_CUTOFF));
                }
            }
        }
        self.settle();
    }

    /// A job started by [`Effect::StartJob`] ended. Reports for another
    /// attempt, or for a job the engine already ended (killed), are ignored.
    pub fn handle_job_ended(&mut self, now: DateTime<Utc>, id: JobId, attempt: u32, code: ExitCode) {
        self.now = now;
        let Some(j) = self.instances.get(id.instance as usize).and_then(|i| i.jobs.get(id.index as usize)) else {
            return;
        };
        if j.attempt != attempt || j.status != JobStatus::Executing {
            return;
        }
        self.end_job(id, code);
        self.settle();
    }

    // ----- commands ------------------------------------------------------

    /// Start a jobnet now (operator start). Refused while it is running, and
    /// for a variable parameter [`check_vparam`] rejects (over 200 bytes, …).
    pub fn start_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey, vparam: Option<&str>) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        // The same variable parameter, and limit, as a message event's (spec 01 §1, §3.10).
        if let Some(v) = vparam {
            check_vparam(v)
                .map_err(|m| Refusal::Invalid { field: "vparam", message: format!("variable parameter {m}") })?;
        }
        // A linked jobnet or a generated copy below one runs only through its
        // icon (spec 01 §3.6, 0447): started on its own, it would collide
        // with its icon's run later (250).
        if self.env.is_linked_copy(key) {
            return Err(Refusal::Refused {
                op: "start",
                target: format!("jobnet {key}"),
                reason: "a linked jobnet or a copy below one runs only through its icon (0447); start the jobnet whose icon runs it"
                    .into(),
            });
        }
        let st = self.instances[i as usize].status;
        if st.is_running() {
            return Err(Refusal::NotAllowed { op: "start", target: format!("jobnet {key}"), status: st.to_string() });
        }
        self.instances[i as usize].parent = None;
        self.instances[i as usize].run_day = None;
        self.run_instance(i, vparam.map(Arc::from));
        self.settle();
        Ok(())
    }

    /// Force-terminate a running jobnet: running jobs end with 256, the jobnet Cancelled.
    pub fn cancel_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let st = self.instances[i as usize].status;
        if !st.is_running() {
            return Err(Refusal::NotAllowed { op: "cancel", target: format!("jobnet {key}"), status: st.to_string() });
        }
        self.cancel_instance(i);
        self.settle();
        Ok(())
    }

    /// Force-terminate a running job: it ends Cancelled with 256 (raw 0x40000222).
    pub fn cancel_job(&mut self, now: DateTime<Utc>, id: JobId) -> Result<(), Refusal> {
        self.now = now;
        let (key, st) = self.check_job(id)?;
        if !matches!(st, JobStatus::Executing | JobStatus::Warning) {
            return Err(Refusal::NotAllowed { op: "cancel", target: format!("job {key}"), status: st.to_string() });
        }
        self.force_terminate(id);
        self.settle();
        Ok(())
    }

    fn instance_of(&self, key: &JobnetKey) -> Result<u32, Refusal> {
        self.by_key.get(key).copied().ok_or_else(|| Refusal::UnknownJobnet(key.to_string()))
    }

    fn check_job(&self, id: JobId) -> Result<(String, JobStatus), Refusal> {
        let inst = self
            .instances
            .get(id.instance as usize)
            .ok_or_else(|| Refusal::UnknownJobnet(format!("#{}", id.instance)))?;
        let j = inst
            .jobs
            .get(id.index as usize)
            .ok_or_else(|| Refusal::UnknownJob(inst.key.to_string(), format!("#{}", id.index)))?;
        Ok((format!("{}/{}", inst.key, inst.def.jobs[id.index as usize].number), j.status))
    }

    // ----- internals -----------------------------------------------------

    fn record(&mut self, kind: EventKind) {
        self.seq += 1;
        self.effects.push_back(Effect::Record(Event { seq: self.seq, at: self.now, kind }));
    }

    fn job_label(&self, id: JobId) -> (Arc<str>, u16) {
        let inst = &self.instances[id.instance as usize];
        (inst.flow.names[id.index as usize].clone(), inst.def.jobs[id.index as usize].number)
    }

    fn job_message(&mut self, id: JobId, text: String) {
        let inst = &self.instances[id.instance as usize];
        let kind =
            EventKind::JobMessage { jobnet: inst.key.clone(), job: inst.def.jobs[id.index as usize].number, text };
        self.record(kind);
    }

    fn log(&mut self, i: u32, level: Level, message: String) {
        let jobnet = self.instances[i as usize].key.clone();
        self.record(EventKind::Log { level, jobnet, message });
    }

    fn set_jobnet_status(&mut self, i: u32, status: JobnetStatus) {
        let inst = &mut self.instances[i as usize];
        if inst.status == status {
            return;
        }
        inst.status = status;
        let kind = EventKind::JobnetStatus {
            jobnet: inst.key.clone(),
            run: inst.run,
            status,
            exit_code: if status.is_ended() { inst.exit_code } else { None },
        };
        self.record(kind);
        // A jobnet icon mirrors Warning of its jobnet.
        if let Some(p) = self.instances[i as usize].parent {
            let icon = &self.instances[p.instance as usize].jobs[p.index as usize];
            if status == JobnetStatus::Warning && icon.status == JobStatus::Executing {
                self.set_job_status(p, JobStatus::Warning, None);
            }
        }
    }

    /// Change a job's status, keep the counters of its successors and of its
    /// jobnet, and record the change.
    fn set_job_status(&mut self, id: JobId, status: JobStatus, exit: Option<ExitCode>) {
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        let (old_bits, old_active, old_failed) = (j.bits(), j.is_active(), j.bits().failed);
        j.status = status;
        if exit.is_some() {
            j.exit = exit;
        }
        if status.is_final() {
            j.ended_at = Some(self.now);
            j.ended_seq = self.seq + 1;
        }
        let (new_bits, new_active) = (j.bits(), j.is_active());
        let attempt = j.attempt;
        let exit = j.exit;
        Self::adjust(inst, new_active, old_active, new_bits.failed, old_failed);
        let kind = EventKind::JobStatus {
            jobnet: inst.key.clone(),
            job: inst.def.jobs[id.index as usize].number,
            name: inst.flow.names[id.index as usize].clone(),
            status,
            exit: if status.is_final() { exit } else { None },
            attempt,
        };
        self.record(kind);
        self.bits_changed(id, old_bits, new_bits);
        self.mark_dirty(id.instance);
    }

    fn adjust(inst: &mut Instance, new_active: bool, old_active: bool, new_failed: bool, old_failed: bool) {
        match (old_active, new_active) {
            (false, true) => inst.active += 1,
            (true, false) => inst.active -= 1,
            _ => {}
        }
        match (old_failed, new_failed) {
            (false, true) => inst.failed += 1,
            (true, false) => inst.failed -= 1,
            _ => {}
        }
    }

    fn bits_changed(&mut self, id: JobId, old: Bits, new: Bits) {
        if old == new {
            return;
        }
        let inst = &mut self.instances[id.instance as usize];
        let flow = inst.flow.clone();
        for &s in &flow.succs[id.index as usize] {
            let sj = &mut inst.jobs[s as usize];
            sj.n_normal = sj.n_normal + new.normal as u32 - old.normal as u32;
            sj.n_bypassed = sj.n_bypassed + new.bypassed as u32 - old.bypassed as u32;
            sj.n_failed = sj.n_failed + new.failed as u32 - old.failed as u32;
            sj.n_resolved = sj.n_resolved + new.resolved as u32 - old.resolved as u32;
            self.worklist.push_back(JobId { instance: id.instance, index: s });
        }
    }

    fn mark_dirty(&mut self, i: u32) {
        if self.dirty.last() != Some(&i) {
            self.dirty.push(i);
        }
    }

    /// Process the worklist and jobnet statuses until nothing changes.
    fn settle(&mut self) {
        loop {
            if let Some(id) = self.worklist.pop_front() {
                self.evaluate(id);
                continue;
            }
            if let Some(i) = self.dirty.pop() {
                self.refresh_instance(i);
                continue;
            }
            break;
        }
    }

    /// Reset an instance and start its first jobs.
    fn run_instance(&mut self, i: u32, vparam: Option<Arc<str>>) {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.run += 1;
        inst.warning = false;
        inst.cancelling = false;
        inst.started_at = Some(now);
        inst.ended_at = None;
        inst.exit_code = None;
        inst.vparam = vparam;
        inst.active = 0;
        inst.failed = 0;
        if inst.parent.is_none() {
            // A new top-level run starts with no jobnet variables.
            inst.vars.clear();
        }
        for j in &mut inst.jobs {
            let attempt = j.attempt;
            let (disabled, paused) = (j.disabled, j.paused);
            *j = JobRt::new();
            j.attempt = attempt;
            j.disabled = disabled;
            j.paused = paused;
            j.status = if disabled {
                JobStatus::Disabled
            } else if paused {
                JobStatus::Paused
            } else {
                JobStatus::Waiting
            };
        }
        let (comment, key) = (inst.def.comment.clone(), inst.key.clone());
        self.set_jobnet_status(i, JobnetStatus::Executing);
        self.log(i, Level::Info, messages::started(&comment, &key.jobnet, &key.project));
        self.arm_end_delay(i);
        let flow = self.instances[i as usize].flow.clone();
        for &r in &flow.roots {
            self.worklist.push_back(JobId { instance: i, index: r });
        }
        self.mark_dirty(i);
    }

    /// Decide whether a waiting job starts, is bypassed, or keeps waiting.
    fn evaluate(&mut self, id: JobId) {
        let inst = &self.instances[id.instance as usize];
        if !inst.status.is_running() || inst.cancelling || inst.interrupted {
            return;
        }
        let j = &inst.jobs[id.index as usize];
        let eligible = match j.status {
            JobStatus::Waiting => !j.queued,
            JobStatus::Disabled => !j.skipped,
            JobStatus::Paused => !j.held,
            _ => false,
        };
        if !eligible {
            return;
        }
        let def = &inst.def.jobs[id.index as usize];
        if def.recovery.is_some() {
            // A recovery job held during a pause starts when the jobnet runs again.
            if j.held {
                self.set_held(id, false);
                self.begin_job(id);
            }
            return;
        }
        let np = inst.flow.preds[id.index as usize].len() as u32;
        let decision = if np == 0 {
            Decision::Start
        } else {
            match def.wait {
                WaitMode::And => {
                    if j.n_bypassed > 0 {
                        Decision::Bypass
                    } else if j.n_normal == np {
                        match def.exit_code_condition {
                            None => Decision::Start,
                            Some(range) => {
                                let p = inst.flow.preds[id.index as usize][0];
                                let code = inst.jobs[p as usize].exit.map_or(0, |e| e.code);
                                if range.contains(code) { Decision::Start } else { Decision::Bypass }
                            }
                        }
                    } else {
                        Decision::Wait
                    }
                }
                WaitMode::Or => {
                    if j.n_bypassed == np {
                        Decision::Bypass
                    } else if !j.or_dead && j.n_resolved == np && j.n_normal >= 1 {
                        Decision::StartOr
                    } else {
                        Decision::Wait
                    }
                }
            }
        };
        if self.instances[id.instance as usize].jobs[id.index as usize].status == JobStatus::Paused {
            // A paused job never starts; once its condition holds it is "held"
            // (the jobnet stays executing) until Continue. On a bypassed path
            // it is bypassed like any other job.
            match decision {
                Decision::Start | Decision::StartOr => self.set_held(id, true),
                Decision::Bypass => self.set_job_status(id, JobStatus::Bypassed, None),
                Decision::Wait => {}
            }
            return;
        }
        match decision {
            Decision::Wait => {}
            Decision::Bypass => self.set_job_status(id, JobStatus::Bypassed, None),
            Decision::Start => self.begin_job(id),
            Decision::StartOr => {
                let preds = self.instances[id.instance as usize].flow.preds[id.index as usize].clone();
                for p in preds {
                    let pid = JobId { instance: id.instance, index: p };
                    let pj = &self.instances[id.instance as usize].jobs[p as usize];
                    if pj.is_active() {
                        self.terminate(
                            pid,
                            ExitCode::scheduler(exit::OR_WAIT_OTHER_NORMAL),
                            KillReason::OrWaitOtherNormal,
                        );
                    }
                }
                self.begin_job(id);
            }
        }
    }

    /// The job's turn has come: skip it if disabled, run a jobnet icon, or
    /// dispatch it (subject to its resource and the concurrency limit).
    fn begin_job(&mut self, id: JobId) {
        let inst = &self.instances[id.instance as usize];
        let j = &inst.jobs[id.index as usize];
        if j.status == JobStatus::Disabled {
            let old = j.bits();
            self.set_skipped(id, true);
            let new = self.instances[id.instance as usize].jobs[id.index as usize].bits();
            self.bits_changed(id, old, new);
            return;
        }
        let def = &inst.def.jobs[id.index as usize];
        if let Some(key) = self.icon_target(id) {
            if def.valid_only_on_startup_days && !self.runs_on_own_startup_day(id.instance, &key) {
                // Not a startup day of the child: the icon is treated as
                // disabled for this run and its successors go on (spec 01 §3.6).
                let text = format!("jobnet {key}: not a startup day of the jobnet; skipped for this run");
                self.record(EventKind::JobMessage { jobnet: inst.key.clone(), job: def.number, text });
                self.set_skipped(id, true);
                self.set_job_status(id, JobStatus::Disabled, None);
                return;
            }
            let child = self.by_key.get(&key).copied();
            if child.is_some_and(|c| self.instances[c as usize].status == JobnetStatus::Disabled) {
                // A disabled child or linked jobnet is not run: the icon is
                // skipped as ended normally and its successors go on (spec 01
                // §3.4.3 Disable); the jobnet stays disabled.
                let text = format!("jobnet {key} is disabled; skipped for this run");
                self.record(EventKind::JobMessage { jobnet: inst.key.clone(), job: def.number, text });
                self.instances[id.instance as usize].jobs[id.index as usize].restart_child = false;
                self.set_skipped(id, true);
                self.set_job_status(id, JobStatus::Disabled, None);
                return;
            }
            let vparam = inst.vparam.clone();
            let restart_child =
                std::mem::take(&mut self.instances[id.instance as usize].jobs[id.index as usize].restart_child);
            self.instances[id.instance as usize].jobs[id.index as usize].attempt += 1;
            self.instances[id.instance as usize].jobs[id.index as usize].started_at = Some(self.now);
            self.set_job_status(id, JobStatus::Executing, None);
            if let Some(c) = child.filter(|&c| {
                restart_child
                    && matches!(self.instances[c as usize].status, JobnetStatus::Abended | JobnetStatus::Cancelled)
            }) {
                // Reset by a restart upstream of the icon: its jobnet restarts
                // from its failed jobs now that the flow reached the icon.
                self.instances[c as usize].parent = Some(id);
                self.restart_instance(c);
                return;
            }
            match child {
                Some(child) if !self.instances[child as usize].status.is_running() => {
                    self.instances[child as usize].parent = Some(id);
                    self.run_instance(child, vparam);
                    if self.instances[child as usize].flow.roots.is_empty() {
                        // An empty jobnet ends at once.
                        self.mark_dirty(child);
                    }
                }
                _ => {
                    // The jobnet is missing or already running elsewhere: the icon cannot start it.
                    self.end_job(id, ExitCode::scheduler(exit::EXEC_INFO_FAILED));
                }
            }
            return;
        }
        let resource = def.resource.as_ref().filter(|r| r.exclusive).map(|r| r.name.clone());
        if let Some(name) = resource {
            let state = self.resources.entry(name).or_default();
            match state.holder {
                None => {
                    state.holder = Some(id);
                    self.instances[id.instance as usize].jobs[id.index as usize].holds_resource = true;
                }
                Some(_) => {
                    state.queue.push_back(id);
                    self.set_queued(id, true);
                    return;
                }
            }
        }
        self.acquire_slot(id);
    }

    /// Whether the operating day of the run of instance `i` (the day its
    /// top-level jobnet was scheduled for, or today for an operator start) is
    /// a startup day of jobnet `key`.
    fn runs_on_own_startup_day(&self, i: u32, key: &JobnetKey) -> bool {
        let mut top = i;
        while let Some(p) = self.instances[top as usize].parent {
            top = p.instance;
        }
        let inst = &self.instances[top as usize];
        let day = inst.run_day.unwrap_or_else(|| {
            crate::calendar::operating_day(self.env.tz, crate::calendar::day_change_of(&self.env, &inst.def), self.now)
        });
        // A linked jobnet or a generated copy has the startup days of the
        // jobnet whose definition it runs.
        crate::startup::is_startup_day(&self.env, &self.env.templates, self.env.source_of(key), day)
    }

    /// The jobnet that jobnet icon `id` runs: its `jobnet`, resolved in the
    /// flow of its instance ([`Environment::child_key`]: inside a linked
    /// jobnet, a child icon runs the generated copy `{L}_{C}`). `None` when
    /// `id` is not a jobnet icon.
    pub(super) fn icon_target(&self, id: JobId) -> Option<JobnetKey> {
        let inst = &self.instances[id.instance as usize];
        let def = &inst.def.jobs[id.index as usize];
        if !def.is_jobnet_icon() {
            return None;
        }
        Some(self.env.child_key(&inst.key, def.jobnet.as_deref().unwrap_or_default()))
    }

    /// Set whether a disabled job was skipped in this run, journaled
    /// ([`EventKind::JobSkipped`]) when it changes.
    fn set_skipped(&mut self, id: JobId, skipped: bool) {
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        if j.skipped == skipped {
            return;
        }
        j.skipped = skipped;
        let kind =
            EventKind::JobSkipped { jobnet: inst.key.clone(), job: inst.def.jobs[id.index as usize].number, skipped };
        self.record(kind);
    }

    /// Record the operator flags of a job ([`EventKind::JobFlags`]).
    fn record_flags(&mut self, id: JobId) {
        let inst = &self.instances[id.instance as usize];
        let j = &inst.jobs[id.index as usize];
        let kind = EventKind::JobFlags {
            jobnet: inst.key.clone(),
            job: inst.def.jobs[id.index as usize].number,
            disabled: j.disabled,
            paused: j.paused,
        };
        self.record(kind);
    }

    fn set_held(&mut self, id: JobId, held: bool) {
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        if j.held == held {
            return;
        }
        let (old_bits, old_active) = (j.bits(), j.is_active());
        j.held = held;
        let (new_bits, new_active) = (j.bits(), j.is_active());
        Self::adjust(inst, new_active, old_active, false, false);
        self.bits_changed(id, old_bits, new_bits);
        self.mark_dirty(id.instance);
    }

    fn set_queued(&mut self, id: JobId, queued: bool) {
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        if j.queued == queued {
            return;
        }
        let (old_bits, old_active) = (j.bits(), j.is_active());
        j.queued = queued;
        let (new_bits, new_active) = (j.bits(), j.is_active());
        Self::adjust(inst, new_active, old_active, false, false);
        self.bits_changed(id, old_bits, new_bits);
        self.mark_dirty(id.instance);
    }

    fn acquire_slot(&mut self, id: JobId) {
        // Built-in jobs run inside the engine and take no execution slot.
        if self.running >= self.config.max_concurrent_jobs && !self.is_builtin(id) {
            self.slot_queue.push_back(id);
            self.set_queued(id, true);
            return;
        }
        self.dispatch(id);
    }

    fn dispatch(&mut self, id: JobId) {
        self.set_queued(id, false);
        let builtin = self.is_builtin(id);
        let now = self.now;
        if !builtin {
            self.running += 1;
        }
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        j.holds_slot = !builtin;
        j.attempt += 1;
        j.started_at = Some(now);
        j.delayed = false;
        let attempt = j.attempt;
        let def = &inst.def.jobs[id.index as usize];
        if let Some(s) = def.predicted_secs {
            self.timers.insert((now + Duration::seconds(i64::from(s)), TimerKind::Predicted, id, attempt));
        }
        if let Some(s) = def.cutoff_secs {
            self.timers.insert((now + Duration::seconds(i64::from(s)), TimerKind::Cutoff, id, attempt));
        }
        self.set_job_status(id, JobStatus::Executing, None);
        // Variables are substituted when the job starts (spec 01 §3.11).
        let resolved = match self.resolve_job(id) {
            Ok(def) => def,
            Err(e) => {
                self.job_message(id, e.to_string());
                self.end_job(id, e.exit());
                return;
            }
        };
        if builtin {
            self.run_builtin(id, resolved);
            return;
        }
        let inst = &self.instances[id.instance as usize];
        let start = JobStart {
            job: id,
            attempt,
            jobnet: inst.key.clone(),
            number: resolved.number,
            name: inst.flow.names[id.index as usize].clone(),
            run: inst.run,
            vparam: inst.vparam.clone(),
            def: Arc::new(resolved),
        };
        self.effects.push_back(Effect::StartJob(start));
    }

    /// Give back the job's execution slot and resource, waking waiters.
    fn release(&mut self, id: JobId) {
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        let (slot, res) = (j.holds_slot, j.holds_resource);
        j.holds_slot = false;
        j.holds_resource = false;
        // Drop the job's timers so that nothing wakes the caller in vain.
        if let Some(started) = j.started_at.filter(|_| slot) {
            let def = &inst.def.jobs[id.index as usize];
            let attempt = j.attempt;
            if let Some(s) = def.predicted_secs {
                self.timers.remove(&(started + Duration::seconds(i64::from(s)), TimerKind::Predicted, id, attempt));
            }
            if let Some(s) = def.cutoff_secs {
                self.timers.remove(&(started + Duration::seconds(i64::from(s)), TimerKind::Cutoff, id, attempt));
            }
        }
        let j = &mut self.instances[id.instance as usize].jobs[id.index as usize];
        if j.queued {
            self.slot_queue.retain(|q| *q != id);
            for r in self.resources.values_mut() {
                r.queue.retain(|q| *q != id);
            }
            self.set_queued(id, false);
        }
        if res {
            let name = self.instances[id.instance as usize].def.jobs[id.index as usize]
                .resource
                .as_ref()
                .map(|r| r.name.clone())
                .unwrap_or_default();
            if let Some(state) = self.resources.get_mut(&name) {
                state.holder = None;
            }
            self.grant_resource(&name);
        }
        if slot {
            self.running -= 1;
            self.grant_slots();
        }
    }

    /// Whether a queued job may start now: its jobnet runs (not paused, not
    /// being cancelled, not interrupted). A queued job of a paused jobnet
    /// keeps its place in the queue but is passed over until it continues
    /// (spec 01 §3.4.3 Pause: a paused jobnet starts no new job).
    fn may_leave_queue(instances: &[Instance], id: JobId) -> bool {
        let inst = &instances[id.instance as usize];
        inst.status.is_running() && !inst.cancelling && !inst.interrupted
    }

    /// The first waiter of `queue` that may start now, taken out of it.
    fn next_waiter(instances: &[Instance], queue: &mut VecDeque<JobId>) -> Option<JobId> {
        let pos = queue.iter().position(|&q| Self::may_leave_queue(instances, q))?;
        queue.remove(pos)
    }

    /// A free resource goes to its first waiter that may start (FIFO, §3.8),
    /// which then takes an execution slot or queues for one.
    fn grant_resource(&mut self, name: &str) {
        let Some(state) = self.resources.get_mut(name) else { return };
        if state.holder.is_some() {
            return;
        }
        let Some(n) = Self::next_waiter(&self.instances, &mut state.queue) else { return };
        state.holder = Some(n);
        self.instances[n.instance as usize].jobs[n.index as usize].holds_resource = true;
        self.acquire_slot(n);
    }

    /// Free execution slots go to the first waiters that may start.
    fn grant_slots(&mut self) {
        while self.running < self.config.max_concurrent_jobs {
            let Some(n) = Self::next_waiter(&self.instances, &mut self.slot_queue) else { return };
            self.dispatch(n);
        }
    }

    /// A paused jobnet continues: its queued jobs take the slots and the
    /// resources that were freed (and passed over) meanwhile.
    pub(super) fn wake_waiters(&mut self) {
        self.grant_slots();
        let free: Vec<String> = self
            .resources
            .iter()
            .filter(|(_, s)| s.holder.is_none() && !s.queue.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        for name in free {
            self.grant_resource(&name);
        }
    }

    /// A queued job that has not started leaves its queue (pause, disable,
    /// jobnet cancel): it stays `Waiting`, and a resource it already holds
    /// while waiting for a slot goes to the next waiter.
    pub(super) fn leave_queue(&mut self, id: JobId) {
        if self.instances[id.instance as usize].jobs[id.index as usize].queued {
            self.release(id);
        }
    }

    /// A job ends with `code`: release what it holds, classify, record, and
    /// apply OR-wait and recovery consequences.
    fn end_job(&mut self, id: JobId, code: ExitCode) {
        let inst = &self.instances[id.instance as usize];
        let def = &inst.def.jobs[id.index as usize];
        let judgement = Judgement { normal_limit: def.normal_limit, ignore_exit_code: def.ignore_exit_code };
        let class = crate::builtin::classify_end(def.kind, code, judgement);
        let status = JobStatus::from_class(class);
        self.set_job_status(id, status, Some(code));
        self.release(id);
        if status == JobStatus::Abended {
            self.on_abended(id);
        }
        if matches!(status, JobStatus::Completed | JobStatus::PseudoNormal) {
            self.on_recovery_job_normal(id);
        }
    }

    fn on_abended(&mut self, id: JobId) {
        let flow = self.instances[id.instance as usize].flow.clone();
        // OR waits that can no longer be decided: end the other predecessors with 249.
        for &s in &flow.succs[id.index as usize] {
            let sid = JobId { instance: id.instance, index: s };
            let inst = &mut self.instances[id.instance as usize];
            let def = &inst.def.jobs[s as usize];
            let sj = &mut inst.jobs[s as usize];
            if def.wait != WaitMode::Or || sj.or_dead || sj.status.is_final() || sj.is_active() {
                continue;
            }
            sj.or_dead = true;
            for &p in &flow.preds[sid.index as usize] {
                let pid = JobId { instance: id.instance, index: p };
                if p != id.index && self.instances[id.instance as usize].jobs[p as usize].is_active() {
                    self.terminate(
                        pid,
                        ExitCode::scheduler(exit::OR_WAIT_OTHER_ABNORMAL),
                        KillReason::OrWaitOtherAbnormal,
                    );
                }
            }
        }
        // Automatic recovery jobs.
        for &r in &flow.recovery_jobs[id.index as usize] {
            let rid = JobId { instance: id.instance, index: r };
            let rj = &self.instances[id.instance as usize].jobs[r as usize];
            // A recovery job runs at most once per jobnet run; in a paused
            // jobnet it waits (held) until the pause is released.
            if matches!(rj.status, JobStatus::Waiting | JobStatus::Disabled) && !rj.queued && !rj.held {
                if self.instances[id.instance as usize].status.is_running() {
                    self.begin_job(rid);
                } else {
                    self.set_held(rid, true);
                }
            }
        }
    }

    fn on_recovery_job_normal(&mut self, id: JobId) {
        let inst = &self.instances[id.instance as usize];
        let Some(rec) = inst.def.jobs[id.index as usize].recovery else { return };
        if !rec.rerun {
            return;
        }
        let Some(&t) = inst.flow.index.get(&rec.target) else { return };
        let tid = JobId { instance: id.instance, index: t };
        if inst.jobs[t as usize].status == JobStatus::Abended {
            let running = inst.status.is_running();
            self.set_job_status(tid, JobStatus::Waiting, None);
            // The target runs again: OR waits its failure decided are open again.
            self.reopen_or_waits(tid);
            if running {
                self.begin_job(tid);
            } else {
                // Paused: the target reruns once the pause is released.
                self.worklist.push_back(tid);
            }
        }
    }

    fn predicted_exceeded(&mut self, id: JobId) {
        let inst = &mut self.instances[id.instance as usize];
        inst.jobs[id.index as usize].delayed = true;
        let secs = inst.def.jobs[id.index as usize].predicted_secs.unwrap_or(0);
        let name = inst.flow.names[id.index as usize].clone();
        let text = messages::predicted_time_exceeded(&name, secs, &inst.key.project, &inst.key.jobnet);
        self.log(id.instance, Level::Warning, text);
    }

    fn kill(&mut self, id: JobId, reason: KillReason) {
        // A waiting built-in job has no process: forgetting it stops it.
        if self.waiting.remove(&id).is_some() {
            return;
        }
        let inst = &self.instances[id.instance as usize];
        let j = &inst.jobs[id.index as usize];
        if j.status == JobStatus::Executing && !inst.def.jobs[id.index as usize].is_jobnet_icon() {
            let effect = Effect::KillJob {
                job: id,
                attempt: j.attempt,
                jobnet: inst.key.clone(),
                number: inst.def.jobs[id.index as usize].number,
                reason,
            };
            self.effects.push_back(effect);
        }
    }

    /// End an active job on the scheduler's initiative (OR-wait losers).
    fn terminate(&mut self, id: JobId, code: ExitCode, reason: KillReason) {
        // A paused job whose condition was met (held) ends here too: it no
        // longer keeps its jobnet running.
        self.set_held(id, false);
        self.kill(id, reason);
        self.stop_child(id);
        self.end_job(id, code);
    }

    /// Operator force-termination of one job.
    fn force_terminate(&mut self, id: JobId) {
        self.kill(id, KillReason::Cancel);
        let inst = &self.instances[id.instance as usize];
        if inst.jobs[id.index as usize].status == JobStatus::Executing
            && !inst.def.jobs[id.index as usize].is_jobnet_icon()
        {
            let (name, number) = self.job_label(id);
            let text = messages::forced_termination(&name, number, &self.config.host);
            self.job_message(id, text);
        }
        self.stop_child(id);
        self.end_job(id, ExitCode::forced());
    }

    /// If `id` is a running jobnet icon, cancel the jobnet it runs (detached first).
    fn stop_child(&mut self, id: JobId) {
        let Some(key) = self.icon_target(id) else { return };
        if let Some(&c) = self.by_key.get(&key)
            && self.instances[c as usize].parent == Some(id)
            && self.instances[c as usize].status.is_running()
        {
            self.instances[c as usize].parent = None;
            self.cancel_instance(c);
            self.settle_instance_now(c);
            self.instances[c as usize].parent = Some(id);
        }
    }

    /// Finish a cancelled child jobnet at once, so that it ends before the
    /// icon that mirrors it. Its pending evaluations are moot: nothing
    /// starts in a cancelled jobnet.
    fn settle_instance_now(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        if inst.cancelling && inst.active == 0 && inst.status.is_running() {
            self.worklist.retain(|w| w.instance != i);
            self.finish_instance(i);
            return;
        }
        self.refresh_instance(i);
    }

    fn cancel_instance(&mut self, i: u32) {
        self.instances[i as usize].cancelling = true;
        let n = self.instances[i as usize].jobs.len() as u32;
        // Jobs queued on a resource or a slot never started: they leave the
        // queue and stay Waiting, like jobs waiting for their predecessors
        // (spec 01 §3.4.3 Cancel: only running jobs are cancelled). Being
        // cancelled, the jobnet is passed over when its running jobs below
        // free their slots and resources.
        for index in 0..n {
            self.leave_queue(JobId { instance: i, index });
        }
        for index in 0..n {
            let id = JobId { instance: i, index };
            if self.instances[i as usize].jobs[index as usize].is_active() {
                self.force_terminate(id);
            }
        }
        self.mark_dirty(i);
    }

    /// Derive the jobnet's status from its jobs; finish it when nothing can run.
    fn refresh_instance(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        if !inst.status.is_running() {
            return;
        }
        if inst.active > 0 {
            if inst.failed > 0 || inst.warning {
                self.instances[i as usize].warning = true;
                self.set_jobnet_status(i, JobnetStatus::Warning);
            }
            return;
        }
        if !self.worklist.is_empty() {
            self.mark_dirty(i);
            return;
        }
        self.finish_instance(i);
    }

    fn finish_instance(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        let mut first_abend: Option<(u64, u32)> = None;
        let mut any_cancelled = false;
        let mut pseudo: Option<u32> = None;
        for j in &inst.jobs {
            match j.status {
                JobStatus::Abended => {
                    let code = j.exit.map_or(exit::ABNORMAL, |e| e.code);
                    if first_abend.is_none_or(|(s, _)| j.ended_seq < s) {
                        first_abend = Some((j.ended_seq, code));
                    }
                }
                JobStatus::Cancelled => any_cancelled = true,
                JobStatus::PseudoNormal => {
                    let c = j.exit.map_or(0, |e| e.code);
                    pseudo = Some(pseudo.map_or(c, |p| p.max(c)));
                }
                _ => {}
            }
        }
        let (status, code) = if inst.cancelling {
            (JobnetStatus::Cancelled, exit::FORCED)
        } else if let Some((_, code)) = first_abend {
            (JobnetStatus::Abended, code)
        } else if any_cancelled {
            (JobnetStatus::Cancelled, exit::FORCED)
        } else if inst.interrupted {
            // The environment stopped during the run and some of its jobs
            // never ran (they were waiting, e.g. queued for a slot): the run
            // did not complete (spec 01 §3.1: 239).
            (JobnetStatus::Abended, exit::ENVIRONMENT_STOPPED)
        } else if let Some(code) = pseudo {
            (JobnetStatus::PseudoNormal, code)
        } else {
            (JobnetStatus::Completed, 0)
        };
        let (comment, key, parent) = (inst.def.comment.clone(), inst.key.clone(), inst.parent);
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.exit_code = Some(code);
        inst.ended_at = Some(now);
        inst.cancelling = false;
        inst.interrupted = false;
        self.set_jobnet_status(i, status);
        let shown = ExitCode { code, raw: None, origin: exit::Origin::Scheduler }.display();
        let (level, text) = match status {
            JobnetStatus::Completed => {
                (Level::Info, messages::normal_ended(&comment, &key.jobnet, &shown, &key.project))
            }
            JobnetStatus::PseudoNormal => {
                (Level::Info, messages::pseudo_normal_ended(&comment, &key.jobnet, &shown, &key.project))
            }
            _ => (Level::Error, messages::abnormal_ended(&comment, &key.jobnet, &shown, &key.project)),
        };
        self.log(i, level, text);
        // Occurrences counted during the run start it again, one run at a time.
        if self.instances[i as usize].def.messages.as_ref().is_some_and(|m| m.valid_during_execution) {
            self.try_message_start(i, None);
        }
        // A jobnet icon mirrors its jobnet's end.
        if let Some(p) = parent {
            let icon = &self.instances[p.instance as usize].jobs[p.index as usize];
            if matches!(icon.status, JobStatus::Executing | JobStatus::Warning) {
                let st = match status {
                    JobnetStatus::Completed => JobStatus::Completed,
                    JobnetStatus::PseudoNormal => JobStatus::PseudoNormal,
                    JobnetStatus::Cancelled => JobStatus::Cancelled,
                    _ => JobStatus::Abended,
                };
                self.set_job_status(p, st, Some(ExitCode { code, raw: None, origin: exit::Origin::Scheduler }));
                if st == JobStatus::Abended {
                    self.on_abended(p);
                }
            }
        }
    }
}

enum Decision {
    Wait,
    Start,
    StartOr,
    Bypass,
}
