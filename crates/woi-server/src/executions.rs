//! The executions API (spec 04 §3.8): jobnet and job executions with
//! filters, sort and paging; one execution with its jobs and messages; the
//! raw output of a job; DELETE = cancel.
//!
//! **Execution ids.** A jobnet execution is one run of one jobnet, named
//! `jne-<seq>` where `<seq>` is the journal sequence number of the event that
//! first started the run (zero-padded to 6 digits): unique, stable across
//! restarts, and growing with every new run, so "id descending" is "newest
//! first". A job execution is one attempt of one job, `jbe-<seq>` with the
//! journal seq of the attempt's first recorded status.
//!
//! Data come from the SQLite history (`jobnet_runs`, `job_runs`, job
//! outputs), the journal (trigger, parent run, copy source, messages) and
//! the live scheduler (comments, delay flags). A child (or linked) jobnet's
//! run is the one its parent's jobnet icon started: in the journal the
//! icon's job becomes executing and the very next record is the child's
//! start; such runs are listed only with `includeChildren=true`. Lists are
//! filtered, sorted and paged in memory.
//!
//! **Queued executions.** An occurrence counted while a jobnet that is valid
//! during execution runs queues one more run (`EventKind::RunQueued`); it
//! is listed as `jne-<seq of that record>` with `status: queued` and
//! `startedAt: null` until it starts (oldest first). Once it starts, the id
//! still finds the run it became. DELETE on a queued execution deletes the
//! run before it starts (its occurrences are consumed, spec 04 §3.8.5); it is
//! then listed as `canceled` with `startedAt: null`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use woi_adapters::sqlite::{JobRunRecord, JobnetRunRecord, SqliteStore};
use woi_core::engine::JobnetView;
use woi_core::store::Store;
use woi_core::{Environment, EventKind, JobStatus, JobnetKey, JobnetStatus};

use crate::AppState;
use crate::error::ApiError;
use crate::layer_b::{Caller, NoQuery, Params, Query, ok, page, respond, rfc3339, strict_date};
use crate::operations::{self, Kind, job_execution_id, jobnet_execution_id};
use crate::request::invalid;

/// Who or what started a run.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TriggeredBy {
    /// `schedule`, `msgevent`, `operator`, `webapi`, `recovery` or `parent`.
    pub kind: String,
    /// The user, when known.
    pub user: Option<String>,
    /// The message event, for `msgevent`.
    pub message_name: Option<String>,
}

/// One message of an execution.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionMessage {
    /// 1, 2, … in order.
    pub seq: usize,
    /// When.
    pub time: String,
    /// `INFO`, `WARNING` or `ERROR`.
    pub level: String,
    /// `scheduler` or `adapter`.
    pub source: String,
    /// E.g. `MpJobsch: ERROR: 0431`.
    pub message_id: Option<String>,
    /// The text.
    pub text: String,
}

/// A job of a jobnet execution (single GET).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    /// Job execution id.
    pub id: String,
    /// Job number.
    pub job_number: u16,
    /// Job name.
    pub job_name: String,
    /// Status.
    pub status: String,
    /// Exit code.
    pub exit_code: Option<u32>,
}

/// One run of one jobnet (spec 04 §2.6).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobnetExecution {
    /// `jne-<seq>`.
    pub id: String,
    /// Project.
    pub project_name: String,
    /// Jobnet.
    pub jobnet_name: String,
    /// Comment.
    pub jobnet_comment: String,
    /// Source jobnet of a copy start.
    pub copy_of: Option<String>,
    /// Parent execution of a child jobnet.
    pub parent_execution_id: Option<String>,
    /// Fine-grained status.
    pub status: String,
    /// `queued`, `running` or `complete`.
    pub status_category: String,
    /// Seed-001 state.
    pub state: Option<String>,
    /// Did not start at its scheduled time.
    pub start_delayed: bool,
    /// Did not end before its estimated end.
    pub end_delayed: bool,
    /// Jobnet completion code.
    pub exit_code: Option<u32>,
    /// Who or what started it.
    pub triggered_by: TriggeredBy,
    /// Variable parameter (runs started through the Web API).
    pub vparam: Option<String>,
    /// Business date (UTC date of the start).
    pub operation_date: Option<String>,
    /// Recorded at.
    pub created_at: Option<String>,
    /// Started at.
    pub started_at: Option<String>,
    /// Completed at.
    pub completed_at: Option<String>,
    /// `HH:MM:SS`.
    pub execution_time: Option<String>,
    /// Jobs (single GET only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<JobSummary>>,
    /// Messages (single GET with `includeMessages=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ExecutionMessage>>,
}

/// Size of a captured stream.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OutputInfo {
    /// `stdout` (the executor captures one combined buffer of stdout then stderr).
    pub stream: String,
    /// Bytes kept.
    pub bytes: usize,
}

/// One attempt of one job (spec 04 §2.6).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobExecution {
    /// `jbe-<seq>`.
    pub id: String,
    /// Its jobnet execution.
    pub jobnet_execution_id: Option<String>,
    /// Project.
    pub project_name: String,
    /// Jobnet.
    pub jobnet_name: String,
    /// Job number.
    pub job_number: u16,
    /// Job name.
    pub job_name: String,
    /// Attempt number.
    pub attempt: u32,
    /// Fine-grained status.
    pub status: String,
    /// `queued`, `running` or `complete`.
    pub status_category: String,
    /// Seed-001 state.
    pub state: Option<String>,
    /// Exit code.
    pub exit_code: Option<u32>,
    /// Host it ran on (single GET).
    pub host: Option<String>,
    /// Recorded at.
    pub created_at: Option<String>,
    /// Started at.
    pub started_at: Option<String>,
    /// Completed at.
    pub completed_at: Option<String>,
    /// `HH:MM:SS`.
    pub execution_time: Option<String>,
    /// Captured output sizes (single GET).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<OutputInfo>>,
    /// Messages (single GET with `includeMessages=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ExecutionMessage>>,
}

/// `HH:MM:SS` of `end − start`; hours do not wrap.
pub fn execution_time(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Option<String> {
    let secs = (end? - start?).num_seconds().max(0);
    Some(format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60))
}

fn jobnet_status(s: JobnetStatus) -> &'static str {
    match s {
        JobnetStatus::Waiting => "queued",
        JobnetStatus::Executing | JobnetStatus::CarriedOver => "executing",
        JobnetStatus::Warning => "warning",
        JobnetStatus::Paused => "paused",
        JobnetStatus::Completed => "ended_normally",
        JobnetStatus::PseudoNormal => "pseudo_normal",
        JobnetStatus::Abended | JobnetStatus::Confirmed => "ended_abnormally",
        JobnetStatus::Cancelled => "canceled",
        JobnetStatus::Disabled | JobnetStatus::CarryOverReleased => "skipped",
    }
}

fn job_status(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Waiting => "waiting",
        JobStatus::Executing | JobStatus::Warning => "executing",
        JobStatus::Completed => "ended_normally",
        JobStatus::PseudoNormal => "pseudo_normal",
        JobStatus::Abended => "ended_abnormally",
        JobStatus::Cancelled => "canceled",
        JobStatus::Paused => "paused",
        JobStatus::Disabled => "disabled",
        JobStatus::Bypassed => "pass",
    }
}

/// `queued` / `running` / `complete` of a fine-grained status.
fn category(status: &str) -> &'static str {
    match status {
        "queued" | "waiting" => "queued",
        "executing" | "warning" | "paused" => "running",
        _ => "complete",
    }
}

/// The seed-001 state of a fine-grained status.
fn state_of(status: &str) -> Option<String> {
    match status {
        "ended_normally" => Some("NORMAL".into()),
        "pseudo_normal" => Some("PARTIAL_FAILURES".into()),
        "ended_abnormally" | "canceled" | "refused" | "skipped" => Some("ERROR".into()),
        "warning" => Some("WARNING".into()),
        _ => None,
    }
}

const JOBNET_STATUSES: &[&str] = &[
    "queued",
    "executing",
    "warning",
    "paused",
    "ended_normally",
    "pseudo_normal",
    "ended_abnormally",
    "canceled",
    "refused",
    "skipped",
];
const JOB_STATUSES: &[&str] = &[
    "waiting",
    "executing",
    "ended_normally",
    "pseudo_normal",
    "ended_abnormally",
    "canceled",
    "paused",
    "disabled",
    "pass",
];
const TRIGGERS: &[&str] = &["schedule", "msgevent", "operator", "webapi", "recovery", "parent"];

fn store(state: &AppState) -> Result<&SqliteStore, ApiError> {
    state.store().map(|s| &**s).ok_or_else(|| ApiError::Internal {
        detail: "the server has no execution history store".into(),
        bad_request: false,
    })
}

/// What may start a jobnet's next run, from the journal.
struct Hint {
    kind: &'static str,
    event: Option<String>,
    /// Runs it still accounts for.
    pending: u32,
}

/// What the journal says of the runs: trigger per execution seq, parent
/// run per execution seq (child and linked jobnets), copy sources.
struct JournalFacts {
    triggers: BTreeMap<u64, (String, Option<String>)>,
    parents: BTreeMap<u64, u64>,
    copies: BTreeMap<JobnetKey, String>,
    /// Runs queued behind a running jobnet, oldest first, not yet started.
    queued: BTreeMap<JobnetKey, VecDeque<QueuedRun>>,
    /// Queued runs deleted before they started, with when.
    deleted: Vec<(JobnetKey, QueuedRun, DateTime<Utc>)>,
    /// Execution seq of a run that started from a queued run → the queued
    /// run's seq (its earlier id) and when it was queued.
    queued_as: BTreeMap<u64, (u64, DateTime<Utc>)>,
}

/// A run queued by an occurrence (`EventKind::RunQueued`).
#[derive(Clone)]
struct QueuedRun {
    seq: u64,
    at: DateTime<Utc>,
    event: String,
}

async fn journal_facts(store: &SqliteStore) -> Result<(JournalFacts, Vec<woi_core::Event>), ApiError> {
    let events = store.events_after(0).await.map_err(|_| ApiError::Io)?;
    // What will start a jobnet next: a planned start, or the last counted
    // event with the occurrences still pending (its count afterwards). Each
    // start by an event uses one; a jobnet valid during execution runs again
    // once per occurrence counted while it ran (spec 04 §3.4.4).
    let mut hints: BTreeMap<JobnetKey, Hint> = BTreeMap::new();
    let mut seen: BTreeSet<(JobnetKey, u32)> = BTreeSet::new();
    let mut facts = JournalFacts {
        triggers: BTreeMap::new(),
        parents: BTreeMap::new(),
        copies: BTreeMap::new(),
        queued: BTreeMap::new(),
        deleted: Vec::new(),
        queued_as: BTreeMap::new(),
    };
    // The latest run (its execution seq) of every jobnet.
    let mut current: BTreeMap<JobnetKey, u64> = BTreeMap::new();
    // A jobnet icon starts its jobnet in the same step: the icon's job
    // becomes executing, and the very next record is the child's start.
    let mut icon: Option<JobnetKey> = None;
    for e in &events {
        let before = icon.take();
        match &e.kind {
            EventKind::JobStatus { jobnet, status: JobStatus::Executing, .. } => {
                icon = Some(jobnet.clone());
            }
            EventKind::StartTriggered { jobnet, .. } => {
                hints.insert(jobnet.clone(), Hint { kind: "schedule", event: None, pending: 1 });
            }
            EventKind::MessageEvent { jobnet, event, counted: true, count, .. } => {
                let pending = u32::from(*count).max(1);
                hints.insert(jobnet.clone(), Hint { kind: "msgevent", event: Some(event.to_string()), pending });
            }
            EventKind::MessageCountsCleared { jobnet } => {
                hints.remove(jobnet);
                facts.queued.remove(jobnet);
            }
            // A run that ends abnormally or is cancelled does not start
            // the runs queued behind it (the occurrences stay counted).
            EventKind::JobnetStatus { jobnet, status: JobnetStatus::Abended | JobnetStatus::Cancelled, .. } => {
                facts.queued.remove(jobnet);
            }
            EventKind::RunQueued { jobnet, event, queued } => {
                let q = facts.queued.entry(jobnet.clone()).or_default();
                q.push_back(QueuedRun { seq: e.seq, at: e.at, event: event.to_string() });
                while q.len() > *queued as usize {
                    q.pop_front();
                }
            }
            EventKind::QueuedRunDeleted { jobnet, queued, .. } => {
                let q = facts.queued.entry(jobnet.clone()).or_default();
                let gone = match q.iter().position(|r| r.seq == *queued) {
                    Some(p) => q.remove(p),
                    None => q.pop_back(),
                };
                if let Some(run) = gone {
                    facts.deleted.push((jobnet.clone(), run, e.at));
                }
            }
            EventKind::CopyCreated { jobnet, source, .. } => {
                facts.copies.insert(jobnet.clone(), source.jobnet.to_string());
            }
            EventKind::JobnetStatus { jobnet, run, status: JobnetStatus::Executing, .. }
                if seen.insert((jobnet.clone(), *run)) =>
            {
                let parent = before.filter(|p| p != jobnet).and_then(|p| current.get(&p).copied());
                current.insert(jobnet.clone(), e.seq);
                if let Some(p) = parent {
                    facts.parents.insert(e.seq, p);
                    facts.triggers.insert(e.seq, ("parent".into(), None));
                    continue;
                }
                // The oldest queued run is the one that starts.
                if let Some(q) = facts.queued.get_mut(jobnet).and_then(VecDeque::pop_front) {
                    facts.queued_as.insert(e.seq, (q.seq, q.at));
                }
                let t = match hints.get_mut(jobnet) {
                    Some(h) => {
                        let t = (h.kind.to_string(), h.event.clone());
                        h.pending -= 1;
                        if h.pending == 0 {
                            hints.remove(jobnet);
                        }
                        t
                    }
                    None => ("operator".into(), None),
                };
                facts.triggers.insert(e.seq, t);
            }
            _ => {}
        }
    }
    Ok((facts, events))
}

/// A jobnet execution with what it is sorted and filtered on.
struct Exec {
    seq: u64,
    record: JobnetRunRecord,
    /// When it was queued or recorded (`createdAt`).
    created: Option<DateTime<Utc>>,
    /// The id it had while queued, for a run that started from a queued run.
    queued_as: Option<u64>,
    /// A queued run (not started): how many runs its jobnet has queued.
    queue_len: Option<u32>,
    child: bool,
    wire: JobnetExecution,
}

/// A queued or deleted-before-start run as an execution.
fn queued_exec(
    key: &JobnetKey,
    run: &QueuedRun,
    deleted: Option<DateTime<Utc>>,
    queue_len: u32,
    comment: &str,
    env: &Environment,
) -> Exec {
    let status = if deleted.is_some() { "canceled" } else { "queued" };
    let record = JobnetRunRecord {
        jobnet: key.clone(),
        run: 0,
        status: if deleted.is_some() { JobnetStatus::Cancelled } else { JobnetStatus::Waiting },
        exit_code: None,
        started_at: None,
        ended_at: deleted,
    };
    let wire = JobnetExecution {
        id: jobnet_execution_id(run.seq),
        project_name: key.project.to_string(),
        jobnet_name: key.jobnet.to_string(),
        jobnet_comment: comment.to_string(),
        copy_of: None,
        parent_execution_id: None,
        status: status.into(),
        status_category: category(status).into(),
        state: state_of(status),
        start_delayed: false,
        end_delayed: false,
        exit_code: None,
        triggered_by: TriggeredBy { kind: "msgevent".into(), user: None, message_name: Some(run.event.clone()) },
        vparam: None,
        operation_date: Some(business_date(env, key, run.at).to_string()),
        created_at: Some(rfc3339(run.at)),
        started_at: None,
        completed_at: deleted.map(rfc3339),
        execution_time: None,
        jobs: None,
        messages: None,
    };
    Exec {
        seq: run.seq,
        record,
        created: Some(run.at),
        queued_as: None,
        queue_len: deleted.is_none().then_some(queue_len),
        child: false,
        wire,
    }
}

/// The business date of an instant for a jobnet (spec 04 §2.6 `operationDate`):
/// the operating day under the day-change time of the jobnet's calendar, in
/// the scheduler's time zone (spec 01 §3, D9). A jobnet the definitions no
/// longer hold uses the day change of `SYSTEM_CALENDAR` (00:00).
fn business_date(env: &Environment, key: &JobnetKey, at: DateTime<Utc>) -> NaiveDate {
    let dct = env.jobnets.get(key).map(|d| woi_core::calendar::day_change_of(env, d)).unwrap_or_default();
    woi_core::calendar::operating_day(env.tz, dct, at)
}

async fn load_jobnets(state: &AppState, caller: &Caller) -> Result<(Vec<Exec>, Vec<woi_core::Event>), ApiError> {
    let store = store(state)?;
    let runs = store.jobnet_executions().await.map_err(|_| ApiError::Io)?;
    let views: BTreeMap<JobnetKey, JobnetView> =
        state.handle().jobnets().await.map_err(operations::internal)?.into_iter().map(|v| (v.key.clone(), v)).collect();
    let (facts, events) = journal_facts(store).await?;
    let env = state.handle().environment().await.map_err(operations::internal)?;
    let mut out = Vec::new();
    for (seq, r) in runs {
        if !caller.sees(&r.jobnet.project) {
            continue;
        }
        let view = views.get(&r.jobnet);
        let parent = facts.parents.get(&seq).copied();
        let parent_execution_id = parent.map(jobnet_execution_id);
        let web = state.operations().web_run(seq);
        let triggered_by = match (&web, parent) {
            (Some(w), _) => TriggeredBy { kind: "webapi".into(), user: Some(w.user.clone()), message_name: None },
            (None, Some(_)) => TriggeredBy { kind: "parent".into(), user: None, message_name: None },
            (None, None) => {
                let (kind, message_name) = facts.triggers.get(&seq).cloned().unwrap_or(("operator".into(), None));
                TriggeredBy { kind, user: None, message_name }
            }
        };
        let status = jobnet_status(r.status);
        let live = view.filter(|v| v.run == r.run);
        let queued = facts.queued_as.get(&seq).copied();
        let queued_as = queued.map(|(q, _)| q);
        let created = queued.map(|(_, at)| at).or(r.started_at);
        let wire = JobnetExecution {
            id: jobnet_execution_id(seq),
            project_name: r.jobnet.project.to_string(),
            jobnet_name: r.jobnet.jobnet.to_string(),
            jobnet_comment: view.map(|v| v.comment.clone()).unwrap_or_default(),
            copy_of: facts.copies.get(&r.jobnet).cloned(),
            parent_execution_id,
            status: status.into(),
            status_category: category(status).into(),
            state: state_of(status),
            start_delayed: live.is_some_and(|v| v.start_delayed),
            end_delayed: live.is_some_and(|v| v.end_delayed),
            exit_code: r.exit_code,
            triggered_by,
            vparam: web.and_then(|w| w.vparam),
            operation_date: r.started_at.map(|t| {
                // A copy-started jobnet runs under its source's calendar.
                let key = match facts.copies.get(&r.jobnet) {
                    Some(src) if !env.jobnets.contains_key(&r.jobnet) => JobnetKey::new(&r.jobnet.project, src),
                    _ => r.jobnet.clone(),
                };
                business_date(&env, &key, t).to_string()
            }),
            created_at: created.map(rfc3339),
            started_at: r.started_at.map(rfc3339),
            completed_at: r.ended_at.map(rfc3339),
            execution_time: execution_time(r.started_at, r.ended_at),
            jobs: None,
            messages: None,
        };
        out.push(Exec { seq, record: r, created, queued_as, queue_len: None, child: parent.is_some(), wire });
    }
    // Queued runs: the live scheduler says how many are left; the journal
    // which ones (the newest: the oldest start first).
    for (key, mut q) in facts.queued {
        if !caller.sees(&key.project) {
            continue;
        }
        let view = views.get(&key);
        let n = view.map_or(0, |v| v.queued_runs) as usize;
        while q.len() > n {
            q.pop_front();
        }
        let comment = view.map(|v| v.comment.as_str()).unwrap_or_default();
        out.extend(q.iter().map(|run| queued_exec(&key, run, None, n as u32, comment, &env)));
    }
    for (key, run, at) in &facts.deleted {
        if caller.sees(&key.project) {
            let comment = views.get(key).map(|v| v.comment.as_str()).unwrap_or_default();
            out.push(queued_exec(key, run, Some(*at), 0, comment, &env));
        }
    }
    Ok((out, events))
}

/// A date filter bound: `yyyy-MM-dd` or an RFC 3339 instant (both exclusive).
#[derive(Clone, Copy)]
enum Bound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Bound {
    fn parse(query: &Query, name: &str) -> Result<Option<Bound>, ApiError> {
        let Some(v) = query.get(name) else { return Ok(None) };
        if let Some(d) = strict_date(v) {
            return Ok(Some(Bound::Date(d)));
        }
        DateTime::parse_from_rfc3339(v).map(|t| Some(Bound::Instant(t.to_utc()))).map_err(|_| invalid(name, v))
    }

    /// `t` is before the bound (exclusive): before the date's first instant.
    fn before(self, t: DateTime<Utc>) -> bool {
        match self {
            Bound::Date(d) => t.date_naive() < d,
            Bound::Instant(i) => t < i,
        }
    }

    /// `t` is after the bound (exclusive): the date itself is excluded.
    fn after(self, t: DateTime<Utc>) -> bool {
        match self {
            Bound::Date(d) => t.date_naive() > d,
            Bound::Instant(i) => t > i,
        }
    }
}

/// The common filters of both lists.
struct Filters {
    statuses: Vec<String>,
    projects: Vec<String>,
    jobnets: Vec<String>,
    users: Vec<String>,
    triggered: Vec<String>,
    completed_before: Option<Bound>,
    completed_after: Option<Bound>,
    started_before: Option<Bound>,
    started_after: Option<Bound>,
    operation_date: Option<NaiveDate>,
}

const SINGLES: &[&str] = &[
    "sortField",
    "direction",
    "offset",
    "limit",
    "completedBefore",
    "completedAfter",
    "startedBefore",
    "startedAfter",
    "operationDate",
    "includeChildren",
];
const LISTS: &[&str] = &["statuses", "projects", "jobnets", "users", "triggeredBy"];

impl Filters {
    fn parse(query: &Query, known: &[&str]) -> Result<Filters, ApiError> {
        let mut statuses = Vec::new();
        for s in query.list("statuses") {
            let l = s.to_ascii_lowercase();
            let l = if l == "completed" { "complete".to_string() } else { l };
            if !(["queued", "running", "complete"].contains(&l.as_str()) || known.contains(&l.as_str())) {
                return Err(invalid("statuses", &s));
            }
            statuses.push(l);
        }
        let triggered = query.list("triggeredBy");
        if let Some(t) = triggered.iter().find(|t| !TRIGGERS.contains(&t.as_str())) {
            return Err(invalid("triggeredBy", t));
        }
        let operation_date = match query.get("operationDate") {
            None => None,
            Some(v) => Some(strict_date(v).ok_or_else(|| invalid("operationDate", v))?),
        };
        Ok(Filters {
            statuses,
            projects: query.list("projects"),
            jobnets: query.list("jobnets"),
            users: query.list("users"),
            triggered,
            completed_before: Bound::parse(query, "completedBefore")?,
            completed_after: Bound::parse(query, "completedAfter")?,
            started_before: Bound::parse(query, "startedBefore")?,
            started_after: Bound::parse(query, "startedAfter")?,
            operation_date,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn keep(
        &self,
        status: &str,
        key: &JobnetKey,
        trigger: Option<&TriggeredBy>,
        started: Option<DateTime<Utc>>,
        completed: Option<DateTime<Utc>>,
        operation_date: Option<NaiveDate>,
    ) -> bool {
        let bound = |b: Option<Bound>, t: Option<DateTime<Utc>>, f: fn(Bound, DateTime<Utc>) -> bool| match b {
            None => true,
            Some(b) => t.is_some_and(|t| f(b, t)),
        };
        (self.statuses.is_empty() || self.statuses.iter().any(|s| s == status || s == category(status)))
            && (self.projects.is_empty() || self.projects.iter().any(|p| **p == *key.project))
            && (self.jobnets.is_empty() || self.jobnets.iter().any(|j| **j == *key.jobnet))
            && (self.users.is_empty() || trigger.and_then(|t| t.user.as_ref()).is_some_and(|u| self.users.contains(u)))
            && (self.triggered.is_empty() || trigger.is_some_and(|t| self.triggered.contains(&t.kind)))
            && bound(self.completed_before, completed, Bound::before)
            && bound(self.completed_after, completed, Bound::after)
            && bound(self.started_before, started, Bound::before)
            && bound(self.started_after, started, Bound::after)
            && self.operation_date.is_none_or(|d| operation_date == Some(d))
    }
}

/// Sort keys: `None` sorts first ascending.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Time(Option<DateTime<Utc>>),
    Text(String),
    Num(Option<i64>),
}

fn sort_by<T>(items: &mut [T], desc: bool, key: impl Fn(&T) -> SortKey, id: impl Fn(&T) -> u64) {
    items.sort_by(|a, b| {
        let ord = key(a).cmp(&key(b));
        let ord = if desc { ord.reverse() } else { ord };
        ord.then_with(|| id(b).cmp(&id(a)))
    });
}

/// `GET {base}/v1/executions/jobnets`.
pub(crate) async fn list_jobnets(State(state): State<AppState>, caller: Caller, query: Query) -> Response {
    respond(list_jobnet_executions(&state, &caller, &query, None).await)
}

/// `GET {base}/v1/projects/{p}/jobnets/{j}/executions`: the list with `projects` and `jobnets` fixed.
pub(crate) async fn list_of_jobnet(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    query: Query,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            list_jobnet_executions(&state, &caller, &query, Some(JobnetKey::new(p, j))).await
        }
        .await,
    )
}

async fn list_jobnet_executions(
    state: &AppState,
    caller: &Caller,
    query: &Query,
    only: Option<JobnetKey>,
) -> Result<Response, ApiError> {
    query.check(SINGLES, LISTS)?;
    let paging = query.paging()?;
    let desc = query.descending(true)?;
    let sort = query.get("sortField").unwrap_or("createdAt");
    if !["createdAt", "startedAt", "completedAt", "jobnetName", "projectName", "status", "exitCode"].contains(&sort) {
        return Err(invalid("sortField", sort));
    }
    let filters = Filters::parse(query, JOBNET_STATUSES)?;
    let children = query.bool("includeChildren", false)?;
    // §3.1: the query is validated before the jobnet is looked up (step 12).
    if let Some(k) = &only {
        operations::visible_jobnet(state, caller, &k.project, &k.jobnet).await?;
    }
    let (execs, _) = load_jobnets(state, caller).await?;
    let mut execs: Vec<Exec> = execs
        .into_iter()
        .filter(|e| only.as_ref().is_none_or(|k| *k == e.record.jobnet))
        .filter(|e| children || !e.child || only.is_some())
        .filter(|e| {
            filters.keep(
                &e.wire.status,
                &e.record.jobnet,
                Some(&e.wire.triggered_by),
                e.record.started_at,
                e.record.ended_at,
                e.wire.operation_date.as_deref().and_then(strict_date),
            )
        })
        .collect();
    sort_by(
        &mut execs,
        desc,
        |e| match sort {
            "startedAt" => SortKey::Time(e.record.started_at),
            "createdAt" => SortKey::Time(e.created),
            "completedAt" => SortKey::Time(e.record.ended_at),
            "jobnetName" => SortKey::Text(e.wire.jobnet_name.clone()),
            "projectName" => SortKey::Text(e.wire.project_name.clone()),
            "status" => SortKey::Text(e.wire.status.clone()),
            _ => SortKey::Num(e.record.exit_code.map(i64::from)),
        },
        |e| e.seq,
    );
    Ok(page(execs.into_iter().map(|e| e.wire).collect(), paging))
}

fn parse_id(id: &str, prefix: &str) -> Option<u64> {
    id.strip_prefix(prefix)?.parse().ok()
}

fn message_id(text: &str) -> Option<String> {
    // "MpJobsch: ERROR: 0431: …" → "MpJobsch: ERROR: 0431"
    let rest = text.strip_prefix("MpJobsch: ")?;
    let mut parts = rest.splitn(3, ": ");
    let (level, number) = (parts.next()?, parts.next()?);
    (number.len() == 4 && number.chars().all(|c| c.is_ascii_digit())).then(|| format!("MpJobsch: {level}: {number}"))
}

/// Messages of a jobnet run (`job = None`) or of one job attempt.
fn messages(
    events: &[woi_core::Event],
    key: &JobnetKey,
    run: u32,
    from: u64,
    job: Option<(u16, u32)>,
) -> Vec<ExecutionMessage> {
    let mut out: Vec<ExecutionMessage> = Vec::new();
    let mut push = |at: DateTime<Utc>, level: &str, source: &str, text: String| {
        let message_id = message_id(&text);
        out.push(ExecutionMessage {
            seq: out.len() + 1,
            time: rfc3339(at),
            level: level.into(),
            source: source.into(),
            message_id,
            text,
        });
    };
    for e in events.iter().filter(|e| e.seq >= from) {
        match &e.kind {
            EventKind::JobnetStatus { jobnet, run: r, status, exit_code } if jobnet == key => {
                if *r > run {
                    break;
                }
                if job.is_none() {
                    let level = if matches!(status, JobnetStatus::Abended | JobnetStatus::Cancelled) {
                        "ERROR"
                    } else {
                        "INFO"
                    };
                    let code = exit_code.map(|c| format!(" exit code {c}")).unwrap_or_default();
                    push(e.at, level, "scheduler", format!("jobnet {key} {}{code}", status.as_str()));
                }
            }
            EventKind::JobStatus { jobnet, job: n, name, status, exit, attempt } if jobnet == key => {
                if job.is_some_and(|(jn, a)| jn != *n || a != *attempt) {
                    continue;
                }
                let level = match status {
                    JobStatus::Abended | JobStatus::Cancelled => "ERROR",
                    JobStatus::PseudoNormal => "WARNING",
                    _ => "INFO",
                };
                let code = exit.map(|x| format!(" exit code {}", x.code)).unwrap_or_default();
                push(e.at, level, "scheduler", format!("job {n} {name} {}{code}", status.as_str()));
                if job.is_some() && status.is_final() {
                    break;
                }
            }
            EventKind::JobMessage { jobnet, job: n, text } if jobnet == key && job.is_none_or(|(jn, _)| jn == *n) => {
                push(e.at, "INFO", "adapter", text.clone());
            }
            EventKind::Log { level, jobnet, message } if jobnet == key && job.is_none() => {
                push(e.at, level.as_str(), "scheduler", message.clone());
            }
            _ => {}
        }
    }
    out
}

async fn find_jobnet_exec(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Exec, Vec<woi_core::Event>), ApiError> {
    let seq = parse_id(id, "jne-").ok_or(ApiError::NotFound)?;
    let (execs, events) = load_jobnets(state, caller).await?;
    let exec = execs
        .into_iter()
        .filter(|e| e.seq == seq || e.queued_as == Some(seq))
        .min_by_key(|e| e.seq != seq)
        .ok_or(ApiError::NotFound)?;
    Ok((exec, events))
}

async fn job_records(state: &AppState) -> Result<Vec<(u64, u64, JobRunRecord)>, ApiError> {
    store(state)?.job_executions().await.map_err(|_| ApiError::Io)
}

fn job_wire(seq: u64, run_seq: u64, r: &JobRunRecord) -> JobExecution {
    let status = job_status(r.status);
    JobExecution {
        id: job_execution_id(seq),
        jobnet_execution_id: (run_seq > 0).then(|| jobnet_execution_id(run_seq)),
        project_name: r.jobnet.project.to_string(),
        jobnet_name: r.jobnet.jobnet.to_string(),
        job_number: r.job,
        job_name: r.name.clone(),
        attempt: r.attempt,
        status: status.into(),
        status_category: category(status).into(),
        state: state_of(status),
        exit_code: r.exit_code,
        host: None,
        created_at: r.started_at.or(r.ended_at).map(rfc3339),
        started_at: r.started_at.map(rfc3339),
        completed_at: r.ended_at.map(rfc3339),
        execution_time: execution_time(r.started_at, r.ended_at),
        outputs: None,
        messages: None,
    }
}

/// `GET {base}/v1/executions/jobnets/{id}[?includeMessages=&wait=]`.
pub(crate) async fn get_jobnet(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    query: Query,
) -> Response {
    respond(
        async {
            query.check(&["includeMessages", "wait"], &[])?;
            let include = query.bool("includeMessages", true)?;
            let wait = match query.get("wait") {
                None => 0,
                Some(v) => {
                    v.parse::<u64>().ok().filter(|w| *w <= operations::MAX_WAIT).ok_or_else(|| invalid("wait", v))?
                }
            };
            let id = params.get("id");
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
            let (mut exec, events) = loop {
                let found = find_jobnet_exec(&state, &caller, id).await?;
                if found.0.wire.status_category == "complete" || tokio::time::Instant::now() >= deadline {
                    break found;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            };
            let jobs = job_records(&state).await?;
            let mut summaries: Vec<JobSummary> = jobs
                .iter()
                .filter(|(_, run_seq, _)| *run_seq == exec.seq)
                .map(|(seq, _, r)| JobSummary {
                    id: job_execution_id(*seq),
                    job_number: r.job,
                    job_name: r.name.clone(),
                    status: job_status(r.status).into(),
                    exit_code: r.exit_code,
                })
                .collect();
            summaries.sort_by(|a, b| a.job_number.cmp(&b.job_number).then(a.id.cmp(&b.id)));
            exec.wire.jobs = Some(summaries);
            if include {
                exec.wire.messages = Some(messages(&events, &exec.record.jobnet, exec.record.run, exec.seq, None));
            }
            Ok(ok(vec![exec.wire]))
        }
        .await,
    )
}

/// `GET {base}/v1/executions/jobnets/{id}/messages`.
pub(crate) async fn jobnet_messages(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let (exec, events) = find_jobnet_exec(&state, &caller, params.get("id")).await?;
            Ok(ok(messages(&events, &exec.record.jobnet, exec.record.run, exec.seq, None)))
        }
        .await,
    )
}

/// The cancel answer (§3.8.5).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CancelAnswer {
    message: &'static str,
    execution_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

/// How often a DELETE re-reads a queue that changed under it.
const QUEUE_RETRIES: usize = 3;

/// `DELETE {base}/v1/executions/jobnets/{id}`: delete a queued run before it
/// starts, or force-terminate a running one.
pub(crate) async fn cancel_jobnet(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let mut tries = 0;
            let exec = loop {
                let (exec, _) = find_jobnet_exec(&state, &caller, params.get("id")).await?;
                if !caller.operates(&exec.record.jobnet.project) {
                    return Err(ApiError::Forbidden("execution.cancel".into()));
                }
                let Some(expected) = exec.queue_len else { break exec };
                // The scheduler refuses if the queue is no longer the one
                // read here (a run started or was queued since): read again.
                let action = woi_core::sim::Action::DeleteQueuedRun {
                    jobnet: exec.record.jobnet.to_string(),
                    queued: exec.seq,
                    expected: Some(expected),
                };
                match state.handle().apply(action).await {
                    Ok(_) => {
                        return Ok(ok(vec![CancelAnswer {
                            message: "Deleted Successfully.",
                            execution_id: exec.wire.id,
                            operation_key: None,
                            status: Some("canceled"),
                        }]));
                    }
                    Err(woi_adapters::runtime::RuntimeError::Rejected(_)) if tries < QUEUE_RETRIES => tries += 1,
                    Err(woi_adapters::runtime::RuntimeError::Rejected(_)) => return Err(ApiError::NotActive),
                    Err(e) => return Err(operations::internal(e)),
                }
            };
            let project = exec.record.jobnet.project.clone();
            if exec.wire.status_category == "complete" {
                return Err(ApiError::NotActive);
            }
            let view = operations::visible_jobnet(&state, &caller, &project, &exec.record.jobnet.jobnet).await?;
            if view.run != exec.record.run {
                return Err(ApiError::NotActive);
            }
            let op = operations::submit(&state, &caller, Kind::ExecutionCancel, &view, None, None)
                .await
                .map_err(|e| if matches!(e, ApiError::WrongState { .. }) { ApiError::NotActive } else { e })?;
            Ok(ok(vec![CancelAnswer {
                message: "Cancelled Successfully.",
                execution_id: exec.wire.id,
                operation_key: Some(op.key),
                status: None,
            }]))
        }
        .await,
    )
}

/// `GET {base}/v1/executions/jobs`.
pub(crate) async fn list_jobs(State(state): State<AppState>, caller: Caller, query: Query) -> Response {
    respond(
        async {
            query.check(SINGLES, LISTS)?;
            let paging = query.paging()?;
            let desc = query.descending(true)?;
            let sort = query.get("sortField").unwrap_or("createdAt");
            let sorts = ["createdAt", "startedAt", "completedAt", "jobnetName", "projectName", "status", "exitCode"];
            if !sorts.contains(&sort) && sort != "jobNumber" {
                return Err(invalid("sortField", sort));
            }
            let filters = Filters::parse(&query, JOB_STATUSES)?;
            let (execs, _) = load_jobnets(&state, &caller).await?;
            let dates: BTreeMap<u64, NaiveDate> = execs
                .iter()
                .filter_map(|e| e.wire.operation_date.as_deref().and_then(strict_date).map(|d| (e.seq, d)))
                .collect();
            let triggers: BTreeMap<u64, TriggeredBy> =
                execs.into_iter().map(|e| (e.seq, e.wire.triggered_by)).collect();
            let mut jobs: Vec<(u64, JobExecution, JobRunRecord)> = job_records(&state)
                .await?
                .into_iter()
                .filter(|(_, _, r)| caller.sees(&r.jobnet.project))
                .map(|(seq, run_seq, r)| (seq, job_wire(seq, run_seq, &r), r))
                .filter(|(_, w, r)| {
                    let run_seq = w.jobnet_execution_id.as_deref().and_then(|i| parse_id(i, "jne-"));
                    let t = run_seq.and_then(|s| triggers.get(&s));
                    // A job's business date is that of its jobnet execution.
                    let date = run_seq.and_then(|s| dates.get(&s).copied());
                    filters.keep(&w.status, &r.jobnet, t, r.started_at, r.ended_at, date)
                })
                .collect();
            sort_by(
                &mut jobs,
                desc,
                |(_, w, r)| match sort {
                    "startedAt" => SortKey::Time(r.started_at),
                    "createdAt" => SortKey::Time(r.started_at.or(r.ended_at)),
                    "completedAt" => SortKey::Time(r.ended_at),
                    "jobnetName" => SortKey::Text(w.jobnet_name.clone()),
                    "projectName" => SortKey::Text(w.project_name.clone()),
                    "status" => SortKey::Text(w.status.clone()),
                    "jobNumber" => SortKey::Num(Some(i64::from(r.job))),
                    _ => SortKey::Num(r.exit_code.map(i64::from)),
                },
                |(seq, _, _)| *seq,
            );
            Ok(page(jobs.into_iter().map(|(_, w, _)| w).collect(), paging))
        }
        .await,
    )
}

async fn find_job(state: &AppState, caller: &Caller, id: &str) -> Result<(u64, JobExecution, JobRunRecord), ApiError> {
    let seq = parse_id(id, "jbe-").ok_or(ApiError::NotFound)?;
    let (seq, run_seq, r) =
        job_records(state).await?.into_iter().find(|(s, _, _)| *s == seq).ok_or(ApiError::NotFound)?;
    if !caller.sees(&r.jobnet.project) {
        return Err(ApiError::NotFound);
    }
    Ok((seq, job_wire(seq, run_seq, &r), r))
}

/// `GET {base}/v1/executions/jobs/{id}[?includeMessages=]`.
pub(crate) async fn get_job(State(state): State<AppState>, caller: Caller, params: Params, query: Query) -> Response {
    respond(
        async {
            query.check(&["includeMessages"], &[])?;
            let include = query.bool("includeMessages", true)?;
            let (seq, mut wire, r) = find_job(&state, &caller, params.get("id")).await?;
            let output = store(&state)?.job_output(&r.jobnet, r.job, r.attempt).await.map_err(|_| ApiError::Io)?;
            wire.host = output.as_ref().map(|o| o.host.clone());
            wire.outputs =
                Some(vec![OutputInfo { stream: "stdout".into(), bytes: output.map_or(0, |o| o.output.len()) }]);
            if include {
                let events = store(&state)?.events_after(0).await.map_err(|_| ApiError::Io)?;
                wire.messages = Some(messages(&events, &r.jobnet, r.run, seq, Some((r.job, r.attempt))));
            }
            Ok(ok(vec![wire]))
        }
        .await,
    )
}

/// `GET {base}/v1/executions/jobs/{id}/messages`.
pub(crate) async fn job_messages(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let (seq, _, r) = find_job(&state, &caller, params.get("id")).await?;
            let events = store(&state)?.events_after(0).await.map_err(|_| ApiError::Io)?;
            Ok(ok(messages(&events, &r.jobnet, r.run, seq, Some((r.job, r.attempt)))))
        }
        .await,
    )
}

/// `GET {base}/v1/executions/jobs/{id}/output?stream=stdout|stderr`: the
/// captured output as `text/plain;charset=UTF-8`. The executor keeps one
/// buffer (stdout, then stderr), so both streams answer with that buffer.
pub(crate) async fn job_output(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    query: Query,
) -> Response {
    respond(
        async {
            query.check(&["stream"], &[])?;
            if let Some(s) = query.get("stream").filter(|s| !["stdout", "stderr"].contains(s)) {
                return Err(invalid("stream", s));
            }
            let (_, _, r) = find_job(&state, &caller, params.get("id")).await?;
            let output = store(&state)?.job_output(&r.jobnet, r.job, r.attempt).await.map_err(|_| ApiError::Io)?;
            let mut resp = (StatusCode::OK, output.map(|o| o.output).unwrap_or_default()).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain;charset=UTF-8"));
            Ok(resp)
        }
        .await,
    )
}

/// `DELETE {base}/v1/executions/jobs/{id}`: force-terminate a running job.
pub(crate) async fn cancel_job(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let (_, wire, r) = find_job(&state, &caller, params.get("id")).await?;
            if !caller.operates(&r.jobnet.project) {
                return Err(ApiError::Forbidden("execution.cancel".into()));
            }
            if wire.status_category == "complete" {
                return Err(ApiError::NotActive);
            }
            let view = operations::visible_jobnet(&state, &caller, &r.jobnet.project, &r.jobnet.jobnet).await?;
            let op = operations::submit(&state, &caller, Kind::JobCancel, &view, Some(r.job), None)
                .await
                .map_err(|e| if matches!(e, ApiError::WrongState { .. }) { ApiError::NotActive } else { e })?;
            Ok(ok(vec![CancelAnswer {
                message: "Cancelled Successfully.",
                execution_id: wire.id,
                operation_key: Some(op.key),
                status: None,
            }]))
        }
        .await,
    )
}
