//! Asynchronous operations (spec 04 §3.9): jobnet and job actions, the
//! operation objects they answer with (202 + `Location`), polling and
//! long polling (`?wait=N`), and the operations list.
//!
//! An action is applied to the scheduler **before** the 202: a refusal
//! (wrong state) is a `409 OM_API_01011` and creates no operation. After the
//! 202 a tracker task follows the target — the resulting jobnet run for
//! `jobnet.start` / `start-vparam` / `restart`, the termination for
//! `*.cancel`, the job's next end for `job.restart` — polling the scheduler
//! and the history store, and completes the operation with the seed-001
//! state (`NORMAL`, `PARTIAL_FAILURES`, `ERROR`).
//!
//! Operations are kept in the server's accounts database (`auth.db`, table
//! `api_operations`, woi-adapters `auth`) and in memory: every change is
//! written through, so they survive a restart of `woi serve`, and so does
//! who started which run (`api_runs`: `triggeredBy.user`, `vparam`). An
//! operation still running when the server stopped cannot be followed any
//! more (its tracker is gone, and a run it followed was interrupted): at the
//! next start it is completed with `state: ERROR` and a message saying so.
//! Completed operations are kept for [`RETENTION_DAYS`] days (API clock),
//! then deleted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use woi_adapters::auth::{AuthError, AuthStore, StoredOperation, StoredRun};
use woi_adapters::runtime::RuntimeError;
use woi_adapters::sqlite::HistoryFilter;
use woi_core::engine::JobnetView;
use woi_core::sim::{Action, JobSel};
use woi_core::{JobStatus, JobnetKey, JobnetStatus};

use crate::AppState;
use crate::error::ApiError;
use crate::layer_b::{Caller, NoQuery, Params, Query, located, ok, page, respond, rfc3339};
use crate::request::{Shape, invalid, is_woi_name, parse_object, read_body, string_field};

/// Completed operations are kept this many days (`api.operation_retention_days`).
pub const RETENTION_DAYS: i64 = 7;
/// Longest long poll (s).
pub const MAX_WAIT: u64 = 60;
/// How often a tracker looks at its target.
const TRACK_EVERY: Duration = Duration::from_millis(100);

/// What an operation targets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Project.
    pub project_name: String,
    /// Jobnet.
    pub jobnet_name: String,
    /// Job number (job operations).
    pub job_number: Option<u16>,
}

/// An operation (the seed-001 "job object"), spec 04 §2.6.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Unique key (UUID).
    pub key: String,
    /// `{base}/v1/operations/{key}`.
    pub uri: String,
    /// `jobnet.start`, `jobnet.start-vparam`, `jobnet.restart`, `jobnet.cancel`, `job.restart`,
    /// `job.cancel` or `execution.cancel`.
    pub kind: String,
    /// `queued`, `running` or `completed`.
    pub status: String,
    /// `null`, `WARNING`, or the terminal `NORMAL` / `PARTIAL_FAILURES` / `ERROR`.
    pub state: Option<String>,
    /// The target.
    pub target: Target,
    /// The jobnet execution concerned, once known.
    pub execution_id: Option<String>,
    /// The job-management user who submitted it.
    pub submitted_by: String,
    /// The client ID of the Web API account.
    pub client_id: String,
    /// Accepted at.
    pub created_at: String,
    /// Started at.
    pub started_at: Option<String>,
    /// Completed at.
    pub completed_at: Option<String>,
    /// Why it failed, when it did.
    pub message: Option<String>,
    #[serde(skip)]
    completed: Option<DateTime<Utc>>,
    #[serde(skip)]
    created: DateTime<Utc>,
}

impl Operation {
    fn terminal(&self) -> bool {
        self.status == "completed"
    }
}

/// A run started through the Web API: who started it, with which vparam.
#[derive(Clone, Debug)]
pub(crate) struct WebRun {
    /// The submitter.
    pub user: String,
    /// The variable parameter given.
    pub vparam: Option<String>,
}

#[derive(Default)]
struct Inner {
    ops: Vec<Operation>,
    runs: BTreeMap<u64, WebRun>,
}

/// Every operation of this server, and the runs they started: in memory,
/// written through to the accounts database.
#[derive(Clone)]
pub(crate) struct Registry {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    store: AuthStore,
    /// Serialises the writes, so that the last one stored is the latest state.
    writes: Arc<tokio::sync::Mutex<()>>,
}

/// The message of an operation the server could no longer follow.
pub const INTERRUPTED: &str =
    "woi serve stopped before the operation completed; its outcome was not followed (see the execution, if any)";

fn stored(op: &Operation) -> Result<StoredOperation, AuthError> {
    let body = serde_json::to_string(op)
        .map_err(|e| AuthError::Storage { path: Default::default(), detail: e.to_string() })?;
    Ok(StoredOperation {
        key: op.key.clone(),
        submitted_by: op.submitted_by.clone(),
        created_at: op.created,
        completed_at: op.completed,
        body,
    })
}

impl Registry {
    /// The operations kept in `store`, as of `now` (blocking): completed ones
    /// past the retention are deleted; ones that were still running are
    /// completed with `ERROR` and [`INTERRUPTED`].
    pub(crate) fn open(store: AuthStore, now: DateTime<Utc>) -> Result<Registry, AuthError> {
        store.purge_operations(now - chrono::TimeDelta::days(RETENTION_DAYS))?;
        let mut ops = Vec::new();
        for rec in store.operations()? {
            // A record this version cannot read is left alone (and not shown).
            let Ok(mut op) = serde_json::from_str::<Operation>(&rec.body) else { continue };
            op.created = rec.created_at;
            op.completed = rec.completed_at;
            if !op.terminal() {
                op.status = "completed".into();
                op.state = Some("ERROR".into());
                op.completed_at = Some(rfc3339(now));
                op.completed = Some(now);
                op.message = Some(INTERRUPTED.into());
                store.put_operation(&stored(&op)?)?;
            }
            ops.push(op);
        }
        let runs =
            store.runs()?.into_iter().map(|r| (r.execution_seq, WebRun { user: r.user, vparam: r.vparam })).collect();
        Ok(Registry {
            inner: Arc::new(Mutex::new(Inner { ops, runs })),
            changed: Arc::new(Notify::new()),
            store,
            writes: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Write the current state of operation `key` through to the database.
    /// The in-memory copy stays authoritative while the server runs, so a
    /// failed write loses only what a restart would show.
    async fn save(&self, key: &str) {
        let _turn = self.writes.lock().await;
        let Some(op) = self.get(key) else { return };
        let store = self.store.clone();
        let _ = crate::blocking(move || store.put_operation(&stored(&op)?)).await;
    }

    async fn insert(&self, op: Operation) {
        let key = op.key.clone();
        self.lock().ops.push(op);
        self.changed.notify_waiters();
        self.save(&key).await;
    }

    async fn update(&self, key: &str, f: impl FnOnce(&mut Operation)) {
        let changed = match self.lock().ops.iter_mut().find(|o| o.key == key) {
            Some(op) => {
                let before = op.clone();
                f(op);
                *op != before
            }
            None => false,
        };
        if changed {
            self.changed.notify_waiters();
            self.save(key).await;
        }
    }

    fn get(&self, key: &str) -> Option<Operation> {
        self.lock().ops.iter().find(|o| o.key == key).cloned()
    }

    /// Drop completed operations older than the retention (here and in the database).
    fn purge(&self, now: DateTime<Utc>) {
        let keep = chrono::TimeDelta::days(RETENTION_DAYS);
        let dropped = {
            let mut inner = self.lock();
            let before = inner.ops.len();
            inner.ops.retain(|o| o.completed.is_none_or(|c| now - c < keep));
            inner.ops.len() != before
        };
        if dropped {
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || store.purge_operations(now - keep));
        }
    }

    /// The Web API run with this execution sequence number.
    pub fn web_run(&self, seq: u64) -> Option<WebRun> {
        self.lock().runs.get(&seq).cloned()
    }

    async fn note_run(&self, seq: u64, run: WebRun) {
        self.lock().runs.insert(seq, run.clone());
        let store = self.store.clone();
        let rec = StoredRun { execution_seq: seq, user: run.user, vparam: run.vparam };
        let _ = crate::blocking(move || store.put_run(&rec)).await;
    }
}

/// Every operation `kind` of spec 04 §2.6 (`project.import`/`project.export`
/// included, though no route creates them yet).
const OPERATION_KINDS: [&str; 9] = [
    "jobnet.start",
    "jobnet.start-vparam",
    "jobnet.restart",
    "jobnet.cancel",
    "job.restart",
    "job.cancel",
    "execution.cancel",
    "project.import",
    "project.export",
];

/// Operation kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `jobnet.start`.
    Start,
    /// `jobnet.start-vparam`.
    StartVparam,
    /// `jobnet.restart`.
    Restart,
    /// `jobnet.cancel`.
    Cancel,
    /// `execution.cancel` (DELETE on a jobnet execution).
    ExecutionCancel,
    /// `job.restart`.
    JobRestart,
    /// `job.cancel`.
    JobCancel,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Start => "jobnet.start",
            Kind::StartVparam => "jobnet.start-vparam",
            Kind::Restart => "jobnet.restart",
            Kind::Cancel => "jobnet.cancel",
            Kind::ExecutionCancel => "execution.cancel",
            Kind::JobRestart => "job.restart",
            Kind::JobCancel => "job.cancel",
        }
    }

    /// The action name used in `OM_API_01011 operation=`.
    fn action(self) -> &'static str {
        match self {
            Kind::Start => "start",
            Kind::StartVparam => "start-vparam",
            Kind::Restart | Kind::JobRestart => "restart",
            Kind::Cancel | Kind::ExecutionCancel | Kind::JobCancel => "cancel",
        }
    }
}

/// `jne-000042`: the execution id of the jobnet run whose first start is journal seq 42.
pub fn jobnet_execution_id(seq: u64) -> String {
    format!("jne-{seq:06}")
}

/// `jbe-000311`: the execution id of the job attempt first recorded at journal seq 311.
pub fn job_execution_id(seq: u64) -> String {
    format!("jbe-{seq:06}")
}

fn jobnet_text(key: &JobnetKey) -> String {
    format!("{}/{}", key.project, key.jobnet)
}

/// A runtime failure of an action: a refusal is `409 OM_API_01011`.
fn refused(e: RuntimeError, operation: &str, state: &str) -> ApiError {
    match e {
        RuntimeError::Refused(_) | RuntimeError::Rejected(_) => {
            ApiError::WrongState { operation: operation.to_string(), state: state.to_string() }
        }
        RuntimeError::Store(_) => ApiError::Io,
        other => ApiError::Internal { detail: other.to_string(), bad_request: false },
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal { detail: e.to_string(), bad_request: false }
}

/// The jobnet's view, if it exists and the caller sees its project (else 404).
pub(crate) async fn visible_jobnet(
    state: &AppState,
    caller: &Caller,
    p: &str,
    j: &str,
) -> Result<JobnetView, ApiError> {
    if !caller.sees(p) {
        return Err(ApiError::NotFound);
    }
    let views = state.handle().jobnets().await.map_err(internal)?;
    views.into_iter().find(|v| *v.key.project == *p && *v.key.jobnet == *j).ok_or(ApiError::NotFound)
}

/// The jobnet status object (spec 04 §3.10 `…/status`, and the answer of synchronous actions).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobnetStatusObject {
    /// Project.
    pub project_name: String,
    /// Jobnet.
    pub jobnet_name: String,
    /// Comment.
    pub jobnet_comment: String,
    /// Current status (`waiting`, `executing`, `paused`, `disabled`, `completed`, `abended` …).
    pub status: String,
    /// Runs so far.
    pub run: u32,
    /// Next scheduled start.
    pub next_start: Option<String>,
    /// The latest jobnet execution.
    pub latest_execution_id: Option<String>,
}

pub(crate) async fn status_object(state: &AppState, view: &JobnetView) -> Result<JobnetStatusObject, ApiError> {
    let latest = match state.store() {
        Some(store) if view.run > 0 => store
            .jobnet_executions()
            .await
            .map_err(|_| ApiError::Io)?
            .into_iter()
            .find(|(_, r)| r.jobnet == view.key && r.run == view.run)
            .map(|(seq, _)| jobnet_execution_id(seq)),
        _ => None,
    };
    Ok(JobnetStatusObject {
        project_name: view.key.project.to_string(),
        jobnet_name: view.key.jobnet.to_string(),
        jobnet_comment: view.comment.clone(),
        status: view.status.as_str().to_string(),
        run: view.run,
        next_start: view.next_start.map(rfc3339),
        latest_execution_id: latest,
    })
}

fn running(s: JobnetStatus) -> bool {
    matches!(s, JobnetStatus::Executing | JobnetStatus::Warning | JobnetStatus::Paused)
}

/// Apply an asynchronous operation and start tracking it. Checks the state
/// first; a refusal creates nothing.
pub(crate) async fn submit(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    view: &JobnetView,
    job: Option<u16>,
    vparam: Option<String>,
) -> Result<Operation, ApiError> {
    let key = view.key.clone();
    let status = view.status.as_str();
    let h = state.handle();
    let jobnet = jobnet_text(&key);
    let now = state.now();
    let op_key = uuid::Uuid::new_v4().hyphenated().to_string();
    let mut op = Operation {
        key: op_key.clone(),
        uri: format!("{}/v1/operations/{op_key}", state.config().base()),
        kind: kind.as_str().into(),
        status: "running".into(),
        state: None,
        target: Target { project_name: key.project.to_string(), jobnet_name: key.jobnet.to_string(), job_number: job },
        execution_id: None,
        submitted_by: caller.user.name.clone(),
        client_id: caller.account.client_id.clone(),
        created_at: rfc3339(now),
        started_at: Some(rfc3339(now)),
        completed_at: None,
        message: None,
        completed: None,
        created: now,
    };
    let track = match kind {
        Kind::Start | Kind::StartVparam => {
            if running(view.status) {
                return Err(ApiError::WrongState { operation: kind.action().into(), state: status.into() });
            }
            h.start_jobnet(&key, vparam.as_deref()).await.map_err(|e| refused(e, kind.action(), status))?;
            Track::Run { after: view.run, exact: None }
        }
        Kind::Restart => {
            h.apply(Action::Restart { jobnet }).await.map_err(|e| refused(e, kind.action(), status))?;
            Track::Run { after: 0, exact: Some(view.run) }
        }
        Kind::Cancel | Kind::ExecutionCancel => {
            if !running(view.status) {
                return Err(ApiError::WrongState { operation: kind.action().into(), state: status.into() });
            }
            h.apply(Action::Cancel { jobnet }).await.map_err(|e| refused(e, kind.action(), status))?;
            Track::Cancel { run: view.run }
        }
        Kind::JobRestart | Kind::JobCancel => {
            let number = job.unwrap_or_default();
            let jobs = h.jobs(&key).await.map_err(internal)?;
            let Some(j) = jobs.iter().find(|j| j.number == number) else { return Err(ApiError::NotFound) };
            let job_status = j.status.as_str();
            let sel = JobSel::Number(number);
            let action = if kind == Kind::JobCancel {
                Action::CancelJob { jobnet, job: sel }
            } else {
                Action::RestartJob { jobnet, job: sel }
            };
            h.apply(action).await.map_err(|e| refused(e, kind.action(), job_status))?;
            Track::Job { number, attempts: j.attempts, cancel: kind == Kind::JobCancel }
        }
    };
    let web = WebRun { user: caller.user.name.clone(), vparam };
    if let Track::Cancel { run } | Track::Run { exact: Some(run), .. } = track
        && let Some(seq) = run_seq(state, &key, run).await
    {
        op.execution_id = Some(jobnet_execution_id(seq));
    }
    // A start is applied before the answer: its run is already recorded.
    if let Track::Run { after, exact: None } = track
        && let Some(seq) = run_seq(state, &key, after + 1).await
    {
        op.execution_id = Some(jobnet_execution_id(seq));
        state.operations().note_run(seq, web.clone()).await;
    }
    state.operations().insert(op.clone()).await;
    let st = state.clone();
    tokio::spawn(async move { follow(st, op_key, key, track, web).await });
    Ok(op)
}

#[derive(Clone, Copy, Debug)]
enum Track {
    /// A jobnet run: the first run after `after`, or exactly `exact`.
    Run { after: u32, exact: Option<u32> },
    /// The termination of run `run`.
    Cancel { run: u32 },
    /// A job's next end (`attempts` = attempts before the operation).
    Job { number: u16, attempts: u32, cancel: bool },
}

async fn run_seq(state: &AppState, key: &JobnetKey, run: u32) -> Option<u64> {
    let store = state.store()?;
    let runs = store.jobnet_executions().await.ok()?;
    runs.into_iter().find(|(_, r)| r.jobnet == *key && r.run == run).map(|(seq, _)| seq)
}

/// The seed-001 state of an ended jobnet status.
pub(crate) fn jobnet_state(s: JobnetStatus) -> Option<&'static str> {
    match s {
        JobnetStatus::Completed => Some("NORMAL"),
        JobnetStatus::PseudoNormal => Some("PARTIAL_FAILURES"),
        JobnetStatus::Warning => Some("WARNING"),
        JobnetStatus::Executing | JobnetStatus::Paused | JobnetStatus::Waiting | JobnetStatus::CarriedOver => None,
        _ => Some("ERROR"),
    }
}

async fn follow(state: AppState, op: String, key: JobnetKey, track: Track, web: WebRun) {
    let reg = state.operations().clone();
    let finish = async |st: &str, message: Option<String>| {
        let now = state.now();
        reg.update(&op, |o| {
            o.status = "completed".into();
            o.state = Some(st.into());
            o.completed_at = Some(rfc3339(now));
            o.completed = Some(now);
            if message.is_some() {
                o.message = message;
            }
        })
        .await;
    };
    let mut noted = false;
    loop {
        tokio::time::sleep(TRACK_EVERY).await;
        let h = state.handle();
        match track {
            Track::Run { after, exact } => {
                let Some(store) = state.store() else {
                    finish("ERROR", Some("no history store".into())).await;
                    return;
                };
                let filter = HistoryFilter { jobnet: Some(key.clone()), ..HistoryFilter::default() };
                let Ok(runs) = store.jobnet_history(filter).await else { continue };
                let target = match exact {
                    Some(r) => runs.iter().find(|r2| r2.run == r),
                    None => runs.iter().filter(|r| r.run > after).min_by_key(|r| r.run),
                };
                let Some(record) = target else { continue };
                if !noted && let Some(seq) = run_seq(&state, &key, record.run).await {
                    reg.note_run(seq, web.clone()).await;
                    reg.update(&op, |o| o.execution_id = Some(jobnet_execution_id(seq))).await;
                    noted = true;
                }
                if record.ended_at.is_some() && record.status.is_ended() {
                    let st = jobnet_state(record.status).unwrap_or("ERROR");
                    let msg = (st == "ERROR").then(|| format!("the jobnet ended {}", record.status.as_str()));
                    finish(st, msg).await;
                    return;
                }
                let warn = record.status == JobnetStatus::Warning;
                reg.update(&op, |o| o.state = warn.then(|| "WARNING".into())).await;
            }
            Track::Cancel { run } => {
                let Ok(views) = h.jobnets().await else {
                    finish("ERROR", Some("the scheduler stopped".into())).await;
                    return;
                };
                let Some(v) = views.into_iter().find(|v| v.key == key) else { continue };
                if v.run != run || v.status.is_ended() || !running(v.status) {
                    if v.run == run && v.status == JobnetStatus::Cancelled {
                        finish("NORMAL", None).await;
                    } else {
                        finish("ERROR", Some(format!("the jobnet is {}, not canceled", v.status.as_str()))).await;
                    }
                    return;
                }
            }
            Track::Job { number, attempts, cancel } => {
                let Ok(jobs) = h.jobs(&key).await else {
                    finish("ERROR", Some("the scheduler stopped".into())).await;
                    return;
                };
                let Some(j) = jobs.into_iter().find(|j| j.number == number) else { continue };
                if cancel {
                    if j.status == JobStatus::Cancelled {
                        finish("NORMAL", None).await;
                        return;
                    }
                    if j.status.is_final() {
                        finish("ERROR", Some(format!("the job ended {} before it was terminated", j.status.as_str())))
                            .await;
                        return;
                    }
                } else if j.attempts > attempts && j.status.is_final() {
                    match j.status {
                        JobStatus::Completed => finish("NORMAL", None).await,
                        JobStatus::PseudoNormal => finish("PARTIAL_FAILURES", None).await,
                        other => finish("ERROR", Some(format!("the job ended {}", other.as_str()))).await,
                    }
                    return;
                }
            }
        }
    }
}

// ----- HTTP ---------------------------------------------------------------

const START_VPARAM: Shape = Shape { keys: &["vparam"], aliases: &[], required: &["vparam"] };

/// `POST {base}/v1/projects/{p}/jobnets/{j}/actions/{a}`.
pub(crate) async fn jobnet_action(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let (p, j, a) = (params.get("project"), params.get("jobnet"), params.get("action"));
            let kind = match a {
                "start" => Some(Kind::Start),
                "start-vparam" => Some(Kind::StartVparam),
                "restart" => Some(Kind::Restart),
                "cancel" => Some(Kind::Cancel),
                "pause" | "continue" | "disable" | "enable" | "confirm" | "release-carryover" | "revoke" => None,
                _ => return Err(ApiError::NotFound),
            };
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let (parts, body) = req.into_parts();
            let mut vparam = None;
            if kind == Some(Kind::StartVparam) {
                let bytes = read_body(&parts.headers, body).await?;
                let fields = parse_object(&bytes, &START_VPARAM)?;
                match string_field(&fields, "vparam")? {
                    Some(v) if !is_woi_name(v, woi_core::text::limits::VPARAM) => return Err(invalid("vparam", v)),
                    v => vparam = v.map(str::to_string),
                }
            }
            let view = visible_jobnet(&state, &caller, p, j).await?;
            if !caller.operates(p) {
                return Err(ApiError::Forbidden(a.to_string()));
            }
            if let Some(kind) = kind {
                let op = submit(&state, &caller, kind, &view, None, vparam).await?;
                return Ok(located(StatusCode::ACCEPTED, &op.uri.clone(), op));
            }
            let jobnet = jobnet_text(&view.key);
            let status = view.status.as_str();
            // Confirmation applies only to abended or canceled jobnets [WOI 5.3.1].
            if a == "confirm" && !matches!(view.status, JobnetStatus::Abended | JobnetStatus::Cancelled) {
                return Err(ApiError::WrongState { operation: a.into(), state: status.into() });
            }
            let action = match a {
                "pause" => Action::Pause { jobnet },
                "continue" => Action::Continue { jobnet },
                "disable" => Action::Disable { jobnet },
                "enable" => Action::Enable { jobnet },
                "confirm" => Action::Confirm { jobnet },
                "release-carryover" => Action::ReleaseCarryOver { jobnet },
                _ => Action::CancelCompletion { jobnet },
            };
            state.handle().apply(action).await.map_err(|e| refused(e, a, status))?;
            let view = visible_jobnet(&state, &caller, p, j).await?;
            Ok(ok(vec![status_object(&state, &view).await?]))
        }
        .await,
    )
}

/// The job status object: the answer of synchronous job actions.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStatusObject {
    /// Project.
    pub project_name: String,
    /// Jobnet.
    pub jobnet_name: String,
    /// Job number.
    pub job_number: u16,
    /// Job name.
    pub job_name: String,
    /// Current status.
    pub status: String,
    /// Times started.
    pub attempts: u32,
}

/// `POST {base}/v1/projects/{p}/jobnets/{j}/jobs/{n}/actions/{a}`.
pub(crate) async fn job_action(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let (p, j, a) = (params.get("project"), params.get("jobnet"), params.get("action"));
            let kind = match a {
                "cancel" => Some(Kind::JobCancel),
                "restart" => Some(Kind::JobRestart),
                "pause" | "continue" | "disable" | "enable" => None,
                _ => return Err(ApiError::NotFound),
            };
            let view = visible_jobnet(&state, &caller, p, j).await?;
            let number: u16 = params.get("number").parse().map_err(|_| ApiError::NotFound)?;
            let jobs = state.handle().jobs(&view.key).await.map_err(internal)?;
            let Some(job) = jobs.iter().find(|x| x.number == number) else { return Err(ApiError::NotFound) };
            if !caller.operates(p) {
                return Err(ApiError::Forbidden(format!("job.{a}")));
            }
            if let Some(kind) = kind {
                let op = submit(&state, &caller, kind, &view, Some(number), None).await?;
                return Ok(located(StatusCode::ACCEPTED, &op.uri.clone(), op));
            }
            let (jobnet, sel) = (jobnet_text(&view.key), JobSel::Number(number));
            let action = match a {
                "pause" => Action::PauseJob { jobnet, job: sel },
                "continue" => Action::ContinueJob { jobnet, job: sel },
                "disable" => Action::DisableJob { jobnet, job: sel },
                _ => Action::EnableJob { jobnet, job: sel },
            };
            state.handle().apply(action).await.map_err(|e| refused(e, a, job.status.as_str()))?;
            let jobs = state.handle().jobs(&view.key).await.map_err(internal)?;
            let Some(job) = jobs.into_iter().find(|x| x.number == number) else { return Err(ApiError::NotFound) };
            Ok(ok(vec![JobStatusObject {
                project_name: view.key.project.to_string(),
                jobnet_name: view.key.jobnet.to_string(),
                job_number: job.number,
                job_name: job.name.to_string(),
                status: job.status.as_str().into(),
                attempts: job.attempts,
            }]))
        }
        .await,
    )
}

fn visible_op(state: &AppState, caller: &Caller, key: &str) -> Result<Operation, ApiError> {
    state.operations().purge(state.now());
    let op = state.operations().get(key).ok_or(ApiError::NotFound)?;
    if !caller.user.admin && op.submitted_by != caller.user.name {
        return Err(ApiError::NotFound);
    }
    Ok(op)
}

/// `GET {base}/v1/operations/{key}[?wait=N]`.
pub(crate) async fn get_operation(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    query: Query,
) -> Response {
    respond(
        async {
            query.check(&["wait"], &[])?;
            let wait = match query.get("wait") {
                None => 0,
                Some(v) => v.parse::<u64>().ok().filter(|w| *w <= MAX_WAIT).ok_or_else(|| invalid("wait", v))?,
            };
            let key = params.get("key");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
            let reg = state.operations().clone();
            loop {
                let notified = reg.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let op = visible_op(&state, &caller, key)?;
                if op.terminal() || tokio::time::Instant::now() >= deadline {
                    return Ok(ok(vec![op]));
                }
                let _ = tokio::time::timeout_at(deadline, notified).await;
            }
        }
        .await,
    )
}

/// `GET {base}/v1/operations`.
pub(crate) async fn list_operations(State(state): State<AppState>, caller: Caller, query: Query) -> Response {
    respond(
        async {
            query.check(&["offset", "limit", "allUsers"], &["statuses", "states", "kinds", "users"])?;
            let paging = query.paging()?;
            let all = query.bool("allUsers", false)?;
            // Values are matched case-insensitively (kinds exactly); a value
            // outside the closed sets of §2.6/§3.9.2 is `00010 name=<raw value>`.
            let mut statuses = Vec::new();
            for s in query.list("statuses") {
                let l = s.to_ascii_lowercase();
                if !["queued", "running", "completed"].contains(&l.as_str()) {
                    return Err(invalid("statuses", &s));
                }
                statuses.push(l);
            }
            let mut states = Vec::new();
            for s in query.list("states") {
                let u = s.to_ascii_uppercase();
                if !["NORMAL", "WARNING", "PARTIAL_FAILURES", "ERROR"].contains(&u.as_str()) {
                    return Err(invalid("states", &s));
                }
                states.push(u);
            }
            let kinds = query.list("kinds");
            if let Some(k) = kinds.iter().find(|k| !OPERATION_KINDS.contains(&k.as_str())) {
                return Err(invalid("kinds", k));
            }
            let users = query.list("users");
            // §3.1: every query value is validated before the permission (step 12).
            if all && !caller.user.admin {
                return Err(ApiError::Forbidden("operations.list-all".into()));
            }
            state.operations().purge(state.now());
            let mut ops: Vec<Operation> = state.operations().lock().ops.clone();
            ops.reverse(); // newest first (insertion order)
            ops.sort_by_key(|o| std::cmp::Reverse(o.created));
            let me = caller.user.name.as_str();
            let ops: Vec<Operation> = ops
                .into_iter()
                .filter(
                    |o| if all { users.is_empty() || users.contains(&o.submitted_by) } else { o.submitted_by == me },
                )
                .filter(|o| statuses.is_empty() || statuses.contains(&o.status))
                .filter(|o| states.is_empty() || o.state.as_ref().is_some_and(|s| states.contains(s)))
                .filter(|o| kinds.is_empty() || kinds.contains(&o.kind))
                .collect();
            Ok(page(ops, paging))
        }
        .await,
    )
}
