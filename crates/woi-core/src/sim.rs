//! Simulation: the production [`Engine`] on a virtual clock with scripted job
//! outcomes and timed inputs. This is what `woi simulate` runs and what the
//! scenario tests drive; there is no second model of the scheduler.
//!
//! A script (TOML or JSON, see `docs/simulate.md`):
//!
//! ```toml
//! start = "2026-04-01T09:00:00"      # local time in the environment's zone, or RFC 3339
//! [defaults]
//! exit = 0
//! duration = "1m"
//! [[job]]                             # scripted outcome of one job
//! jobnet = "P/N"
//! job = 2                             # number or name
//! exit = 3
//! duration = "30s"
//! runs = [{ exit = 9 }, { exit = 0 }] # per run; later runs use the fields above
//! [[input]]
//! at = "+0s"
//! action = "start"
//! jobnet = "P/N"
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::local_to_utc;
use crate::defs::{Environment, JobnetKey};
use crate::engine::EventCount;
use crate::engine::{Effect, Engine, EngineConfig, Event, EventKind, JobId, JobView, JobnetView, RaiseRequest};
use crate::exit::ExitCode;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The script text is not valid.
    #[error("script: {0}")]
    Parse(String),
    /// The script names something that does not exist or a value that is not valid.
    #[error("script: {0}")]
    Invalid(String),
    /// The simulation did not settle within the step limit.
    #[error("simulation did not settle after {0} steps (a loop of zero-duration jobs?)")]
    NotSettled(u64),
}

/// A simulation script.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Start instant: RFC 3339, or a local date-time in the environment's zone.
    pub start: String,
    /// Override the environment's time zone for this run.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Stop at this instant (same forms as `start`, or `+DURATION`). Default:
    /// as soon as nothing can happen without an input: no job end pending, no
    /// input left, and no job timer armed (scheduled starts, day changes and
    /// delay checks alone do not keep a simulation going; a jobnet held by a
    /// paused job is reported as it stands).
    #[serde(default)]
    pub until: Option<String>,
    /// Host name shown in execution-control messages.
    #[serde(default)]
    pub host: Option<String>,
    /// Outcome of jobs the script does not name.
    #[serde(default)]
    pub defaults: Outcome,
    /// Scripted outcomes.
    #[serde(default, rename = "job")]
    pub jobs: Vec<JobScript>,
    /// Timed inputs.
    #[serde(default, rename = "input")]
    pub inputs: Vec<Input>,
}

/// How a job ends.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Exit code: an integer, or `"0x4000xxxx"` for an execution-control interruption.
    #[serde(default)]
    pub exit: Option<ExitSpec>,
    /// Who set the code (`command` by default; `scheduler` for 201–256 start failures).
    #[serde(default)]
    pub origin: Option<OriginSpec>,
    /// How long the job runs: `"90s"`, `"5m"`, `"1h30m"` or seconds as a number.
    #[serde(default)]
    pub duration: Option<DurationSpec>,
    /// What the job prints (its `NAME=VALUE` lines feed jobnet variables).
    #[serde(default)]
    pub output: Option<String>,
}

/// Exit code in a script.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ExitSpec {
    /// A number.
    Number(i64),
    /// A hex or decimal string.
    Text(String),
}

/// Origin of a scripted code.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginSpec {
    /// The command.
    Command,
    /// The scheduler.
    Scheduler,
}

/// A duration in a script.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum DurationSpec {
    /// Seconds.
    Seconds(i64),
    /// Text like `90s`, `5m`, `1h30m`.
    Text(String),
}

/// Scripted outcome of one job.
#[derive(Clone, Debug, Deserialize)]
pub struct JobScript {
    /// `PROJECT/JOBNET`.
    pub jobnet: String,
    /// Job number or name.
    pub job: JobSel,
    /// Outcome of runs not listed in `runs`.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Outcomes of the first runs, in order.
    #[serde(default)]
    pub runs: Vec<Outcome>,
}

/// A job named by number or name.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum JobSel {
    /// Job number.
    Number(u16),
    /// Job name or number as text.
    Name(String),
}

impl JobSel {
    fn as_text(&self) -> String {
        match self {
            JobSel::Number(n) => n.to_string(),
            JobSel::Name(s) => s.clone(),
        }
    }
}

/// A timed input.
#[derive(Clone, Debug, Deserialize)]
pub struct Input {
    /// When: `+DURATION` after start, RFC 3339, or a local date-time.
    pub at: String,
    /// What.
    #[serde(flatten)]
    pub action: Action,
}

/// What an input does.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Action {
    /// Start a jobnet now (operator start).
    Start {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Variable parameter.
        #[serde(default)]
        vparam: Option<String>,
    },
    /// Force-terminate a jobnet.
    Cancel {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Raise a message event (`jobschmsgevent`, `POST /v1/msgevent`).
    RaiseEvent {
        /// Event name.
        event: String,
        /// Only jobnets of this project.
        #[serde(default)]
        project: Option<String>,
        /// Only this jobnet (with `project`).
        #[serde(default)]
        jobnet: Option<String>,
        /// Variable parameter.
        #[serde(default)]
        vparam: Option<String>,
        /// Copy-start suffix.
        #[serde(default)]
        suffix: Option<String>,
    },
    /// Reset message-event counts (`POST /v1/msgclear`).
    ClearEvents {
        /// Only jobnets of this project.
        #[serde(default)]
        project: Option<String>,
        /// Only this jobnet.
        #[serde(default)]
        jobnet: Option<String>,
    },
    /// Pause a jobnet.
    Pause {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Release a jobnet's pause.
    Continue {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Disable a jobnet.
    Disable {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Release a jobnet's disable.
    Enable {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Confirm an abended or cancelled jobnet.
    Confirm {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Release a carry-over.
    ReleaseCarryOver {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Cancel completion ("revoke end").
    CancelCompletion {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Restart an abended, cancelled or warning jobnet.
    Restart {
        /// `PROJECT/JOBNET`.
        jobnet: String,
    },
    /// Delete a run queued behind a running jobnet that is valid during
    /// execution (an occurrence counted while it ran); the occurrences it
    /// would have used are consumed.
    DeleteQueuedRun {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// The sequence number of the run's `RunQueued` record, when known.
        #[serde(default)]
        queued: u64,
        /// Refuse unless exactly this many runs are queued (a caller's view
        /// of the queue that may have gone stale).
        #[serde(default)]
        expected: Option<u32>,
    },
    /// Restart a job.
    RestartJob {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
    },
    /// Pause a job.
    PauseJob {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
    },
    /// Release a job's pause.
    ContinueJob {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
    },
    /// Disable a job.
    DisableJob {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
    },
    /// Release a job's disable.
    EnableJob {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
    },
    /// A recovery operation on a job (`start_from`, `restart_from`, `start_next`, `start_only`).
    Recover {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
        /// Which operation.
        op: crate::engine::RecoveryOp,
    },
    /// Force-terminate a job.
    CancelJob {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
    },
    /// Recovery change: replace a job's definition of an abended jobnet,
    /// keeping every status.
    RecoveryChange {
        /// `PROJECT/JOBNET`.
        jobnet: String,
        /// Job number or name.
        job: JobSel,
        /// The new job definition: a `[[jobnet.job]]` table's body (TOML).
        definition: String,
    },
    /// Apply new definitions while running (`woi apply` against a running
    /// scheduler, spec 01 §3.15): the complete definitions, as the text of
    /// a TOML definition file.
    ApplyDefinitions {
        /// The definitions (TOML).
        definitions: String,
    },
}

/// The outcome of one scripted input.
#[derive(Clone, Debug, Serialize)]
pub struct InputResult {
    /// When it was applied.
    pub at: String,
    /// The action, as written.
    pub action: String,
    /// `applied`, or `refused: <reason>`.
    pub result: String,
}

/// Final state of one jobnet and its jobs.
#[derive(Clone, Debug, Serialize)]
pub struct JobnetReport {
    /// The jobnet.
    #[serde(flatten)]
    pub jobnet: JobnetView,
    /// Its jobs.
    pub jobs: Vec<JobView>,
    /// Awaited message events and their counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_counts: Vec<EventCount>,
}

/// An event with its instant in the environment's zone.
#[derive(Clone, Debug, Serialize)]
pub struct ReportEvent {
    /// Sequence number.
    pub seq: u64,
    /// RFC 3339 in the environment's zone.
    pub at: String,
    /// The event.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Everything a simulation produced.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Time zone used.
    pub timezone: String,
    /// Start instant.
    pub start: String,
    /// Last instant reached.
    pub end: String,
    /// Scripted inputs and how they were answered.
    pub inputs: Vec<InputResult>,
    /// The event log.
    pub events: Vec<ReportEvent>,
    /// Final states.
    pub jobnets: Vec<JobnetReport>,
}

impl Report {
    /// One line per event, for people and for `contains` checks in tests.
    pub fn event_lines(&self) -> Vec<String> {
        self.events.iter().map(render_event).collect()
    }

    /// The final state of a jobnet (`PROJECT/JOBNET`).
    pub fn jobnet(&self, key: &str) -> Option<&JobnetReport> {
        self.jobnets.iter().find(|j| j.jobnet.key.to_string() == key)
    }
}

impl JobnetReport {
    /// The final state of a job, by number or name.
    pub fn job(&self, job: &str) -> Option<&JobView> {
        self.jobs.iter().find(|j| &*j.name == job || j.number.to_string() == job)
    }
}

impl Script {
    /// A script starting at `start` (RFC 3339, or a local date-time in the
    /// environment's zone) where every job exits 0 after one minute.
    pub fn starting_at(start: impl Into<String>) -> Script {
        Script {
            start: start.into(),
            timezone: None,
            until: None,
            host: None,
            defaults: Outcome::default(),
            jobs: Vec::new(),
            inputs: Vec::new(),
        }
    }

    /// Run until this instant (same forms as `start`, or `+DURATION`).
    pub fn until(mut self, until: impl Into<String>) -> Script {
        self.until = Some(until.into());
        self
    }

    /// How job `job` (number or name) of `jobnet` ends.
    pub fn job(mut self, jobnet: &str, job: &str, outcome: Outcome) -> Script {
        self.jobs.push(JobScript { jobnet: jobnet.into(), job: JobSel::Name(job.into()), outcome, runs: Vec::new() });
        self
    }

    /// Apply `action` at `at` (`+DURATION` after start, or an instant).
    pub fn input(mut self, at: impl Into<String>, action: Action) -> Script {
        self.inputs.push(Input { at: at.into(), action });
        self
    }

    /// Start `jobnet` (`PROJECT/JOBNET`) by operation at `at`.
    pub fn start_at(self, at: impl Into<String>, jobnet: &str) -> Script {
        self.input(at, Action::Start { jobnet: jobnet.into(), vparam: None })
    }
}

impl Outcome {
    /// Exit with `code` (after the default duration).
    pub fn exit(code: i64) -> Outcome {
        Outcome { exit: Some(ExitSpec::Number(code)), ..Outcome::default() }
    }

    /// Run for `duration` (`"90s"`, `"5m"`, `"1h30m"`).
    pub fn lasting(mut self, duration: &str) -> Outcome {
        self.duration = Some(DurationSpec::Text(duration.into()));
        self
    }

    /// Print `output` (its `NAME=VALUE` lines feed jobnet variables).
    pub fn printing(mut self, output: &str) -> Outcome {
        self.output = Some(output.into());
        self
    }
}

/// Render one event as a single line.
pub fn render_event(e: &ReportEvent) -> String {
    let t = &e.at;
    match &e.kind {
        EventKind::JobnetStatus { jobnet, status, exit_code, .. } => match exit_code {
            Some(c) => format!("{t} jobnet {jobnet} {status} code={c}"),
            None => format!("{t} jobnet {jobnet} {status}"),
        },
        EventKind::JobStatus { jobnet, job, name, status, exit, .. } => match exit {
            Some(x) => format!("{t} job {jobnet}/{job} ({name}) {status} code={}", x.display()),
            None => format!("{t} job {jobnet}/{job} ({name}) {status}"),
        },
        EventKind::JobMessage { jobnet, job, text } => format!("{t} job {jobnet}/{job} message {text}"),
        EventKind::JobSkipped { jobnet, job, skipped: true } => format!("{t} job {jobnet}/{job} skipped"),
        EventKind::JobSkipped { jobnet, job, skipped: false } => format!("{t} job {jobnet}/{job} skip undone"),
        EventKind::JobFlags { jobnet, job, disabled, paused } => {
            format!("{t} job {jobnet}/{job} flags disabled={disabled} paused={paused}")
        }
        EventKind::Log { level, message, .. } => format!("{t} log {} {message}", level.as_str()),
        EventKind::MessageEvent { jobnet, event, counted: true, count, .. } => {
            format!("{t} event {event} counted by {jobnet} count={count}")
        }
        EventKind::MessageEvent { jobnet, event, count, reason, .. } => {
            format!("{t} event {event} not recognized by {jobnet} count={count}: {}", reason.as_deref().unwrap_or(""))
        }
        EventKind::MessageEventRaised { occurrence: o } => {
            let to = match (&o.project, &o.jobnet) {
                (Some(p), Some(n)) => format!(" for {p}/{n}"),
                (Some(p), None) => format!(" for {p}"),
                _ => String::new(),
            };
            format!("{t} event {} raised{to}", o.event)
        }
        EventKind::MessageCountsCleared { jobnet } => format!("{t} event counts of {jobnet} cleared"),
        EventKind::RunQueued { jobnet, event, queued } => {
            format!("{t} jobnet {jobnet} run queued by event {event} ({queued} queued)")
        }
        EventKind::QueuedRunDeleted { jobnet, counts, .. } => {
            let list: Vec<String> = counts.iter().map(u16::to_string).collect();
            format!("{t} jobnet {jobnet} queued run deleted (counts {})", list.join(","))
        }
        EventKind::JobOutput { jobnet, job, output, .. } => {
            format!("{t} job {jobnet}/{job} output {}", output.trim_end().replace('\n', " | "))
        }
        EventKind::JobnetVariables { jobnet, variables } => {
            let list: Vec<String> = variables.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{t} jobnet {jobnet} variables {}", list.join(" "))
        }
        EventKind::CopyCreated { jobnet, source, suffix } => {
            format!("{t} jobnet {jobnet} copied from {source} (suffix {suffix})")
        }
        EventKind::RecoveryChanged { jobnet, job, .. } => format!("{t} job {jobnet}/{job} recovery change saved"),
        EventKind::DefinitionsApplied { changed, added, removed } => {
            let list = |v: &[JobnetKey]| v.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(",");
            format!(
                "{t} definitions applied: changed [{}] added [{}] removed [{}]",
                list(changed),
                list(added),
                list(removed)
            )
        }
        EventKind::StartTriggered { jobnet, operating_day, .. } => {
            format!("{t} jobnet {jobnet} start time reached (operating day {operating_day})")
        }
        EventKind::SchedulesHeld => format!("{t} schedules held (a scheduler that fires no planned start opened)"),
        EventKind::SchedulesResumed => format!("{t} schedules resumed"),
        EventKind::StartMissed { jobnet, planned, action } => {
            format!("{t} jobnet {jobnet} missed start {} ({action})", planned.to_rfc3339())
        }
    }
}

/// Parse a script from TOML or JSON text.
pub fn parse_script(text: &str, json: bool) -> Result<Script, SimError> {
    if json {
        serde_json::from_str(text).map_err(|e| SimError::Parse(e.to_string()))
    } else {
        toml::from_str(text).map_err(|e| SimError::Parse(e.to_string().trim_end().to_string()))
    }
}

/// Parse `"90s"`, `"5m"`, `"1h30m"`, `"2d"` or plain seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Duration::try_seconds(n);
    }
    let mut total = 0i64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !num.is_empty() {
        return None;
    }
    Duration::try_seconds(total)
}

/// Parse an instant: RFC 3339, a local date-time in `tz` (`YYYY-MM-DDTHH:MM[:SS]`),
/// or `+DURATION` after `base`. Local times follow [`local_to_utc`]'s DST rule.
pub fn parse_instant(s: &str, tz: Tz, base: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('+') {
        return Some(base? + parse_duration(rest)?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    local_to_utc(tz, naive)
}

/// The exit code of an outcome; each field falls back along `levels`
/// (a run's entry, then the job's fields, then the script's defaults).
fn exit_of(levels: &[&Outcome]) -> Result<ExitCode, SimError> {
    let spec = levels.iter().find_map(|o| o.exit.as_ref());
    let origin = levels.iter().find_map(|o| o.origin);
    let value = match spec {
        None => return Ok(ExitCode::from_command(0)),
        Some(ExitSpec::Number(n)) => *n,
        Some(ExitSpec::Text(t)) => {
            let t = t.trim();
            let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16).ok(),
                None => t.parse::<i64>().ok(),
            };
            parsed.ok_or_else(|| SimError::Invalid(format!("exit {t:?} is not a number")))?
        }
    };
    if value >= 0x4000_0000 && value <= i64::from(u32::MAX) {
        return Ok(ExitCode::interruption(value as u32));
    }
    Ok(match origin {
        Some(OriginSpec::Scheduler) if (0..=256).contains(&value) => ExitCode::scheduler(value as u32),
        _ => ExitCode::from_command(value),
    })
}

/// The duration of an outcome, falling back along `levels` like [`exit_of`].
fn duration_of(levels: &[&Outcome]) -> Result<Duration, SimError> {
    match levels.iter().find_map(|o| o.duration.as_ref()) {
        None => Ok(Duration::zero()),
        Some(DurationSpec::Seconds(n)) if *n >= 0 => {
            Duration::try_seconds(*n).ok_or_else(|| SimError::Invalid(format!("duration {n} too large")))
        }
        Some(DurationSpec::Seconds(n)) => Err(SimError::Invalid(format!("duration {n} is negative"))),
        Some(DurationSpec::Text(t)) => parse_duration(t)
            .ok_or_else(|| SimError::Invalid(format!("duration {t:?}: expected e.g. \"90s\", \"5m\", \"1h30m\""))),
    }
}

/// A scripted job end: the job, its attempt, its code and its output.
type Pending = (JobId, u32, ExitCode, String);

/// Limit on processed steps, so a script can never hang.
pub const MAX_STEPS: u64 = 5_000_000;

/// Run a script against an environment.
pub fn run(env: Arc<Environment>, script: &Script) -> Result<Report, SimError> {
    let tz: Tz = match &script.timezone {
        Some(z) => z.parse().map_err(|_| SimError::Invalid(format!("unknown time zone {z:?}")))?,
        None => env.tz,
    };
    let start = parse_instant(&script.start, tz, None).ok_or_else(|| {
        SimError::Invalid(format!("start {:?}: expected RFC 3339 or YYYY-MM-DDTHH:MM[:SS]", script.start))
    })?;
    let until = match &script.until {
        Some(u) => Some(parse_instant(u, tz, Some(start)).ok_or_else(|| SimError::Invalid(format!("until {u:?}")))?),
        None => None,
    };
    let mut config = EngineConfig::from_env(&env);
    if let Some(h) = &script.host {
        config.host = h.clone();
    }
    let mut engine = Engine::new(env.clone(), config, start);
    // The simulation begins with the environment starting.
    engine.start_environment(start);

    // Resolve scripted outcomes to (jobnet, job number).
    let mut outcomes: BTreeMap<(JobnetKey, u16), &JobScript> = BTreeMap::new();
    for js in &script.jobs {
        let key = jobnet_key(&engine, &js.jobnet)?;
        let id = engine
            .job_id(&key, &js.job.as_text())
            .ok_or_else(|| SimError::Invalid(format!("job {} does not exist in jobnet {key}", js.job.as_text())))?;
        let number = engine.job(id).map(|v| v.number).unwrap_or_default();
        exit_of(&[&js.outcome, &script.defaults])?;
        duration_of(&[&js.outcome, &script.defaults])?;
        for r in &js.runs {
            exit_of(&[r, &js.outcome, &script.defaults])?;
            duration_of(&[r, &js.outcome, &script.defaults])?;
        }
        outcomes.insert((key, number), js);
    }
    // Inputs, in time order (stable for equal times).
    let mut inputs: Vec<(DateTime<Utc>, usize, &Input)> = Vec::new();
    for (i, input) in script.inputs.iter().enumerate() {
        let at = parse_instant(&input.at, tz, Some(start))
            .ok_or_else(|| SimError::Invalid(format!("input {}: at {:?}", i + 1, input.at)))?;
        // After new definitions, jobnets are checked when the input applies.
        let checked = !script.inputs.iter().any(|x| matches!(x.action, Action::ApplyDefinitions { .. }));
        match &input.action {
            _ if !checked => {}
            Action::Start { jobnet, .. }
            | Action::Cancel { jobnet }
            | Action::Pause { jobnet }
            | Action::Continue { jobnet }
            | Action::Disable { jobnet }
            | Action::Enable { jobnet }
            | Action::Confirm { jobnet }
            | Action::ReleaseCarryOver { jobnet }
            | Action::CancelCompletion { jobnet }
            | Action::Restart { jobnet }
            | Action::DeleteQueuedRun { jobnet, .. } => {
                jobnet_key(&engine, jobnet)?;
            }
            Action::CancelJob { jobnet, job }
            | Action::RestartJob { jobnet, job }
            | Action::PauseJob { jobnet, job }
            | Action::ContinueJob { jobnet, job }
            | Action::DisableJob { jobnet, job }
            | Action::EnableJob { jobnet, job }
            | Action::Recover { jobnet, job, .. }
            | Action::RecoveryChange { jobnet, job, .. } => {
                let key = jobnet_key(&engine, jobnet)?;
                engine.job_id(&key, &job.as_text()).ok_or_else(|| {
                    SimError::Invalid(format!("job {} does not exist in jobnet {key}", job.as_text()))
                })?;
            }
            Action::RaiseEvent { .. } | Action::ClearEvents { .. } | Action::ApplyDefinitions { .. } => {}
        }
        inputs.push((at, i, input));
    }
    inputs.sort_by_key(|(at, i, _)| (*at, *i));
    let mut inputs = inputs.into_iter().peekable();

    let mut runs: BTreeMap<(JobnetKey, u16), usize> = BTreeMap::new();
    let mut pending: BTreeMap<(DateTime<Utc>, u64), Pending> = BTreeMap::new();
    let mut pending_seq = 0u64;
    let mut events: Vec<Event> = Vec::new();
    let mut results = Vec::new();
    let mut now = start;
    let mut steps = 0u64;
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    loop {
        // Carry out what the engine asked.
        while let Some(effect) = engine.poll_effect() {
            match effect {
                Effect::Record(e) => events.push(e),
                Effect::StartJob(s) => {
                    let k = (s.jobnet.clone(), s.number);
                    let n = runs.entry(k.clone()).or_insert(0);
                    let run_index = *n;
                    *n += 1;
                    let defaults: &Outcome = &script.defaults;
                    let levels: Vec<&Outcome> = match outcomes.get(&k) {
                        Some(js) => match js.runs.get(run_index) {
                            Some(r) => vec![r, &js.outcome, defaults],
                            None => vec![&js.outcome, defaults],
                        },
                        None => vec![defaults],
                    };
                    let (code, dur) = (exit_of(&levels)?, duration_of(&levels)?);
                    let output = levels.iter().find_map(|o| o.output.clone()).unwrap_or_default();
                    pending_seq += 1;
                    pending.insert((now + dur, pending_seq), (s.job, s.attempt, code, output));
                }
                Effect::KillJob { job, attempt, .. } => {
                    pending.retain(|_, (j, a, _, _)| !(*j == job && *a == attempt));
                }
            }
        }
        steps += 1;
        if steps > MAX_STEPS {
            return Err(SimError::NotSettled(MAX_STEPS));
        }
        // The next thing to happen: job ends, then engine timers, then inputs.
        let next_end = pending.keys().next().map(|k| k.0);
        let next_timer = engine.poll_timeout();
        let next_input = inputs.peek().map(|(at, _, _)| *at);
        // Without `until`, the simulation ends once nothing is left to happen
        // but scheduled starts and day changes: no job end pending, no input
        // left, and no jobnet running -- or the running ones are stuck (a job
        // paused after its condition was met, a wait for a message event):
        // no job timer is armed either, so only an input could move them.
        if until.is_none()
            && next_end.is_none()
            && next_input.is_none()
            && (!engine.any_running() || !engine.job_timer_armed())
        {
            break;
        }
        let Some(next) = [next_end, next_timer, next_input].into_iter().flatten().min() else { break };
        if until.is_some_and(|u| next > u) {
            now = until.unwrap_or(now);
            break;
        }
        now = next;
        if next_end == Some(next) {
            if let Some((_, (job, attempt, code, output))) = pending.pop_first() {
                engine.handle_job_result(now, job, attempt, code, &output);
            }
        } else if next_timer == Some(next) {
            engine.handle_timeout(now);
        } else if let Some((_, _, input)) = inputs.next() {
            let (action, outcome) = apply(&mut engine, now, &input.action)?;
            results.push(InputResult { at: fmt(now), action, result: outcome });
        }
    }

    let jobnets = engine
        .jobnets()
        .map(|v| {
            let jobs = engine.jobs(&v.key);
            let event_counts = engine.event_counts(&v.key);
            JobnetReport { jobnet: v, jobs, event_counts }
        })
        .collect();
    Ok(Report {
        timezone: tz.name().to_string(),
        start: fmt(start),
        end: fmt(now),
        inputs: results,
        events: events.into_iter().map(|e| ReportEvent { seq: e.seq, at: fmt(e.at), kind: e.kind }).collect(),
        jobnets,
    })
}

fn jobnet_key(engine: &Engine, s: &str) -> Result<JobnetKey, SimError> {
    let key = JobnetKey::parse(s).ok_or_else(|| SimError::Invalid(format!("jobnet {s:?}: expected PROJECT/JOBNET")))?;
    engine.jobnet(&key).ok_or_else(|| SimError::Invalid(format!("jobnet {key} does not exist")))?;
    Ok(key)
}

type OpResult = (String, Result<(), crate::engine::Refusal>);

fn jobnet_op(
    engine: &mut Engine,
    jobnet: &str,
    name: &str,
    f: impl FnOnce(&mut Engine, &JobnetKey) -> Result<(), crate::engine::Refusal>,
) -> Result<OpResult, SimError> {
    let key = jobnet_key(engine, jobnet)?;
    Ok((format!("{name} {key}"), f(engine, &key)))
}

fn job_op(
    engine: &mut Engine,
    jobnet: &str,
    job: &JobSel,
    name: &str,
    f: impl FnOnce(&mut Engine, JobId) -> Result<(), crate::engine::Refusal>,
) -> Result<OpResult, SimError> {
    let key = jobnet_key(engine, jobnet)?;
    let id = engine
        .job_id(&key, &job.as_text())
        .ok_or_else(|| SimError::Invalid(format!("job {} does not exist in jobnet {key}", job.as_text())))?;
    Ok((format!("{name} {key}/{}", job.as_text()), f(engine, id)))
}

/// Apply one [`Action`] to an engine (the same code path as scripted
/// inputs; `woi op` uses it on the live scheduler). Returns the action as
/// text and its result: `applied…`, or `refused: <reason>` (nothing changed).
/// `Err` when the action names something that does not exist.
pub fn apply_action(engine: &mut Engine, now: DateTime<Utc>, action: &Action) -> Result<(String, String), SimError> {
    apply(engine, now, action)
}

fn apply(engine: &mut Engine, now: DateTime<Utc>, action: &Action) -> Result<(String, String), SimError> {
    let (text, result) = match action {
        Action::Start { jobnet, vparam } => {
            let key = jobnet_key(engine, jobnet)?;
            (format!("start {key}"), engine.start_jobnet(now, &key, vparam.as_deref()))
        }
        Action::Cancel { jobnet } => {
            let key = jobnet_key(engine, jobnet)?;
            (format!("cancel {key}"), engine.cancel_jobnet(now, &key))
        }
        Action::Pause { jobnet } => jobnet_op(engine, jobnet, "pause", |e, k| e.pause_jobnet(now, k))?,
        Action::Continue { jobnet } => jobnet_op(engine, jobnet, "continue", |e, k| e.continue_jobnet(now, k))?,
        Action::Disable { jobnet } => jobnet_op(engine, jobnet, "disable", |e, k| e.disable_jobnet(now, k))?,
        Action::Enable { jobnet } => jobnet_op(engine, jobnet, "enable", |e, k| e.enable_jobnet(now, k))?,
        Action::Confirm { jobnet } => jobnet_op(engine, jobnet, "confirm", |e, k| e.confirm_jobnet(now, k))?,
        Action::ReleaseCarryOver { jobnet } => {
            jobnet_op(engine, jobnet, "release_carry_over", |e, k| e.release_carry_over(now, k))?
        }
        Action::CancelCompletion { jobnet } => {
            jobnet_op(engine, jobnet, "cancel_completion", |e, k| e.cancel_completion(now, k))?
        }
        Action::Restart { jobnet } => jobnet_op(engine, jobnet, "restart", |e, k| e.restart_jobnet(now, k))?,
        Action::DeleteQueuedRun { jobnet, queued, expected } => {
            jobnet_op(engine, jobnet, "delete_queued_run", |e, k| e.delete_queued_run(now, k, *queued, *expected))?
        }
        Action::RestartJob { jobnet, job } => {
            job_op(engine, jobnet, job, "restart_job", |e, id| e.restart_job(now, id))?
        }
        Action::PauseJob { jobnet, job } => job_op(engine, jobnet, job, "pause_job", |e, id| e.pause_job(now, id))?,
        Action::ContinueJob { jobnet, job } => {
            job_op(engine, jobnet, job, "continue_job", |e, id| e.continue_job(now, id))?
        }
        Action::DisableJob { jobnet, job } => {
            job_op(engine, jobnet, job, "disable_job", |e, id| e.disable_job(now, id))?
        }
        Action::EnableJob { jobnet, job } => job_op(engine, jobnet, job, "enable_job", |e, id| e.enable_job(now, id))?,
        Action::Recover { jobnet, job, op } => {
            let op = *op;
            job_op(engine, jobnet, job, "recover", |e, id| e.recover(now, id, op))?
        }
        Action::CancelJob { jobnet, job } => {
            let key = jobnet_key(engine, jobnet)?;
            let id = engine
                .job_id(&key, &job.as_text())
                .ok_or_else(|| SimError::Invalid(format!("job {} does not exist in jobnet {key}", job.as_text())))?;
            (format!("cancel_job {key}/{}", job.as_text()), engine.cancel_job(now, id))
        }
        Action::RaiseEvent { event, project, jobnet, vparam, suffix } => {
            let req = RaiseRequest {
                event,
                project: project.as_deref(),
                jobnet: jobnet.as_deref(),
                vparam: vparam.as_deref(),
                suffix: suffix.as_deref(),
            };
            let text = format!("raise_event {event}");
            let result = engine.raise_event(now, &req).map(|r| {
                let counted = r.iter().filter(|x| x.counted).count();
                format!("applied: counted by {counted} of {} jobnet(s)", r.len())
            });
            return Ok((text, result.unwrap_or_else(|e| format!("refused: {e}"))));
        }
        Action::RecoveryChange { jobnet, job, definition } => {
            let key = jobnet_key(engine, jobnet)?;
            let text = format!("recovery_change {key}/{}", job.as_text());
            let result = match toml::from_str::<crate::model::JobDef>(definition) {
                Err(e) => format!("refused: invalid job definition: {}", e.to_string().trim_end()),
                Ok(def) => match engine.recovery_change(now, &key, &job.as_text(), def) {
                    Ok(()) => "applied".to_string(),
                    Err(e) => format!("refused: {e}"),
                },
            };
            return Ok((text, result));
        }
        Action::ApplyDefinitions { definitions } => {
            let mut catalog = crate::defs::Catalog::new();
            catalog.add_text("<apply_definitions>", definitions);
            let result = match catalog.compile() {
                Err(diags) => {
                    let list: Vec<String> = diags.iter().map(ToString::to_string).collect();
                    format!("refused: invalid definitions: {}", list.join("; "))
                }
                Ok(env) => match engine.reload(now, Arc::new(env)) {
                    Ok(r) => format!(
                        "applied: {} changed, {} added, {} removed",
                        r.changed.len(),
                        r.added.len(),
                        r.removed.len()
                    ),
                    Err(e) => format!("refused: {e}"),
                },
            };
            return Ok(("apply_definitions".into(), result));
        }
        Action::ClearEvents { project, jobnet } => {
            let text = format!(
                "clear_events {}{}",
                project.as_deref().unwrap_or("*"),
                jobnet.as_deref().map(|n| format!("/{n}")).unwrap_or_default()
            );
            let result = engine
                .clear_events(now, project.as_deref(), jobnet.as_deref())
                .map(|c| format!("applied: cleared {} jobnet(s)", c.len()));
            return Ok((text, result.unwrap_or_else(|e| format!("refused: {e}"))));
        }
    };
    Ok((
        text,
        match result {
            Ok(()) => "applied".to_string(),
            Err(r) => format!("refused: {r}"),
        },
    ))
}
