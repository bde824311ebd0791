//! `--server URL`: `woi status`, `woi history`, `woi op …` and the message-event
//! commands (`jobschmsgevent`, and `jobschchkmsgevt` through the occurrence
//! history) against a running `woi serve --listen` through its Web API
//! (docs/web-api.md) instead of the data directory.
//!
//! The CLI gets a bearer token from `POST /{tenant}/oauth2/v2.0/token` with the
//! Web API account's client ID and secret (the scope is
//! `https://{public-host}/{tenant}/{environment}/api/.default`, the public host
//! defaulting to the URL's `host:port`), and sends the job-management user in
//! `X-FJWOI-AUTHORIZATION: Basic …` on every call. Secrets, passwords and
//! tokens are never printed.
//!
//! Exit codes: an `OM_API_xxxxx` answer is printed with its code and message
//! and exits 1 (refused or invalid), or 2 when it rejects the credentials
//! (401); an unreachable server, a refused token or missing credentials exit 2.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::{Value, json};
use woi_core::builtin::Occurrence;

use crate::out;

/// Where the Web API is and who calls it.
#[derive(Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// Use the Web API of a running `woi serve --listen` at this URL (e.g. http://127.0.0.1:8080)
    /// instead of the data directory.
    #[arg(long, env = "WOI_SERVER")]
    pub server: Option<String>,
    /// Client ID of the Web API account (with --server).
    #[arg(long, env = "WOI_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Client secret of the Web API account (with --server; prefer the environment variable).
    #[arg(long, env = "WOI_CLIENT_SECRET", hide_env_values = true, allow_hyphen_values = true)]
    pub client_secret: Option<String>,
    /// Job-management user whose rights apply (with --server).
    #[arg(long, env = "WOI_USER")]
    pub user: Option<String>,
    /// Password of the job-management user (with --server; prefer the environment variable).
    #[arg(long, env = "WOI_PASSWORD", hide_env_values = true, allow_hyphen_values = true)]
    pub password: Option<String>,
    /// Tenant ID of the server (with --server).
    #[arg(long, env = "WOI_TENANT", default_value = "default")]
    pub tenant: String,
    /// Job-management environment ID of the server (with --server).
    #[arg(long, env = "WOI_ENVIRONMENT", default_value = "default")]
    pub environment: String,
    /// Host named in the token scope: the server's --public-host (default: the URL's host:port).
    #[arg(long, env = "WOI_PUBLIC_HOST")]
    pub public_host: Option<String>,
}

/// Why a remote call failed.
#[derive(Debug)]
pub enum RemoteError {
    /// The server answered with an error: HTTP status, `OM_API_xxxxx` (or the
    /// RFC 6749 error of the token endpoint) and message.
    Api {
        /// HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// The error message.
        message: String,
    },
    /// The token endpoint refused the account (exit 2).
    Token(String),
    /// Unreachable server, unusable answer or missing options (exit 2).
    Fatal(String),
}

impl RemoteError {
    /// Print the error and choose the exit status: 401 and token failures 2, other API errors 1.
    pub fn report(self) -> Result<ExitCode, String> {
        match self {
            RemoteError::Api { status, code, message } => {
                eprintln!("woi: {code}: {message}");
                Ok(ExitCode::from(if status == 401 { 2 } else { 1 }))
            }
            RemoteError::Token(m) => {
                eprintln!("woi: {m}");
                Ok(ExitCode::from(2))
            }
            RemoteError::Fatal(m) => Err(m),
        }
    }
}

type Res<T> = Result<T, RemoteError>;

/// Percent-encode one path segment or query value (everything but unreserved characters).
pub fn enc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// A connected client: a bearer token and the user header.
pub struct Remote {
    http: reqwest::Client,
    base: String,
    bearer: String,
    user: String,
}

impl Remote {
    /// Check the options and get a token.
    pub async fn connect(a: &RemoteArgs) -> Res<Remote> {
        let server = a.server.as_deref().unwrap_or_default().trim_end_matches('/');
        let authority = match server.strip_prefix("http://") {
            Some(rest) => rest.split('/').next().unwrap_or_default(),
            None if server.starts_with("https://") => {
                return Err(RemoteError::Fatal(format!(
                    "--server {server}: this build speaks plain HTTP only (no TLS); use an http:// URL"
                )));
            }
            None => return Err(RemoteError::Fatal(format!("--server {server:?}: expected http://HOST:PORT"))),
        };
        if authority.is_empty() {
            return Err(RemoteError::Fatal(format!("--server {server:?}: expected http://HOST:PORT")));
        }
        let need = |v: &Option<String>, flag: &str, var: &str| {
            v.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                RemoteError::Fatal(format!("--server needs --{flag} (or the environment variable {var})"))
            })
        };
        let client_id = need(&a.client_id, "client-id", "WOI_CLIENT_ID")?;
        let secret = need(&a.client_secret, "client-secret", "WOI_CLIENT_SECRET")?;
        let user = need(&a.user, "user", "WOI_USER")?;
        let password = need(&a.password, "password", "WOI_PASSWORD")?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| RemoteError::Fatal(format!("cannot create the HTTP client: {e}")))?;
        let host = a.public_host.clone().unwrap_or_else(|| authority.to_string());
        let scope = format!("https://{host}/{}/{}/api/.default", a.tenant, a.environment);
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            enc(&client_id),
            enc(&secret),
            enc(&scope)
        );
        let url = format!("{server}/{}/oauth2/v2.0/token", enc(&a.tenant));
        let r = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| unreachable(server, &e))?;
        let status = r.status().as_u16();
        let text = r.text().await.map_err(|e| unreachable(server, &e))?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status != 200 {
            let desc = v["error_description"].as_str().or(v["message"].as_str()).unwrap_or("");
            let err = v["error"].as_str().or(v["code"].as_str()).unwrap_or("error");
            return Err(RemoteError::Token(format!("token refused by {url} (HTTP {status}): {err}: {desc}")));
        }
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| RemoteError::Fatal(format!("{url}: the answer holds no access_token")))?;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Ok(Remote {
            http,
            base: format!("{server}/{}/{}/api", enc(&a.tenant), enc(&a.environment)),
            bearer: format!("Bearer {token}"),
            user: format!("Basic {basic}"),
        })
    }

    /// `method {base}/v1/{path}` with an optional JSON body; the parsed answer of a 2xx.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Res<Value> {
        let url = format!("{}/v1/{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .header("authorization", &self.bearer)
            .header("x-fjwoi-authorization", &self.user);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let r = req.send().await.map_err(|e| unreachable(&self.base, &e))?;
        let status = r.status().as_u16();
        let text = r.text().await.map_err(|e| unreachable(&self.base, &e))?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(v);
        }
        match (v["code"].as_str(), v["message"].as_str()) {
            (Some(code), Some(message)) => Err(RemoteError::Api { status, code: code.into(), message: message.into() }),
            _ => Err(RemoteError::Api { status, code: format!("HTTP {status}"), message: text.trim().to_string() }),
        }
    }

    /// GET `{base}/v1/{path}`.
    pub async fn get(&self, path: &str) -> Res<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// POST `{base}/v1/{path}`.
    pub async fn post(&self, path: &str, body: Option<&Value>) -> Res<Value> {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// Every item of a paged list (`{path}` may already hold a query).
    async fn all(&self, path: &str) -> Res<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        loop {
            let v = self.get(&format!("{path}{sep}limit=1000&offset={}", items.len())).await?;
            let data = v["data"].as_array().cloned().unwrap_or_default();
            let more = v["next"].as_bool().unwrap_or(false) && !data.is_empty();
            items.extend(data);
            if !more {
                return Ok(items);
            }
        }
    }

    /// `POST {base}/v1/msgevent`.
    pub async fn msgevent(&self, ev: &EventTarget<'_>) -> Res<()> {
        let mut body = json!({ "messagename": ev.event });
        for (k, v) in
            [("projectname", ev.project), ("jobnetname", ev.jobnet), ("vparam", ev.vparam), ("suffix", ev.suffix)]
        {
            if let Some(v) = v {
                body[k] = v.into();
            }
        }
        self.post("msgevent", Some(&body)).await.map(|_| ())
    }

    /// `POST {base}/v1/msgclear`.
    pub async fn msgclear(&self, project: Option<&str>, jobnet: Option<&str>) -> Res<()> {
        let mut body = json!({});
        for (k, v) in [("projectname", project), ("jobnetname", jobnet)] {
            if let Some(v) = v {
                body[k] = v.into();
            }
        }
        self.post("msgclear", Some(&body)).await.map(|_| ())
    }

    /// `GET {base}/v1/msgevents/occurrences?event=…&after=…&wait=…`: the
    /// occurrences of `event` after sequence number `after` the user may see,
    /// long-polled for up to `wait` seconds (0–60).
    pub async fn occurrences(&self, event: &str, after: u64, wait: u64) -> Res<OccurrencePage> {
        let v = self.get(&format!("msgevents/occurrences?event={}&after={after}&wait={wait}", enc(event))).await?;
        let bad = |what: &str| RemoteError::Fatal(format!("the server's occurrence list is unusable: {what}: {v}"));
        let now = time(&v["now"]).ok_or_else(|| bad("no now"))?;
        let cursor = v["cursor"].as_u64().ok_or_else(|| bad("no cursor"))?;
        let text = |o: &Value, k: &str| o[k].as_str().map(str::to_string);
        let mut occurrences = Vec::new();
        for o in v["data"].as_array().ok_or_else(|| bad("no data"))? {
            occurrences.push(Occurrence {
                seq: o["seq"].as_u64().ok_or_else(|| bad("an occurrence without seq"))?,
                event: text(o, "event").ok_or_else(|| bad("an occurrence without event"))?,
                project: text(o, "projectName"),
                jobnet: text(o, "jobnetName"),
                vparam: text(o, "vparam"),
                raised_at: time(&o["raisedAt"]).ok_or_else(|| bad("an occurrence without raisedAt"))?,
            });
        }
        Ok(OccurrencePage { occurrences, cursor, now })
    }
}

/// One answer of [`Remote::occurrences`].
pub struct OccurrencePage {
    /// The matching occurrences, oldest first.
    pub occurrences: Vec<Occurrence>,
    /// The `after` of the next call.
    pub cursor: u64,
    /// The server's clock when it answered (the reference of `raised_at`).
    pub now: DateTime<Utc>,
}

fn unreachable(server: &str, e: &reqwest::Error) -> RemoteError {
    RemoteError::Fatal(format!("cannot reach the woi server at {server}: {e}"))
}

/// The target of a message event.
pub struct EventTarget<'a> {
    /// Event name.
    pub event: &'a str,
    /// Project.
    pub project: Option<&'a str>,
    /// Jobnet (with `project`).
    pub jobnet: Option<&'a str>,
    /// Variable parameter.
    pub vparam: Option<&'a str>,
    /// Copy-start suffix.
    pub suffix: Option<&'a str>,
}

/// Run a remote command: connect, then `f`; errors reported with their exit status.
pub async fn with_remote<F, Fut>(a: &RemoteArgs, f: F) -> Result<ExitCode, String>
where
    F: FnOnce(Remote) -> Fut,
    Fut: std::future::Future<Output = Res<ExitCode>>,
{
    let result = match Remote::connect(a).await {
        Ok(r) => f(r).await,
        Err(e) => Err(e),
    };
    result.or_else(RemoteError::report)
}

// ----- status and history -----------------------------------------------------

/// The local (engine) name of an API jobnet execution status.
fn jobnet_status_name(api: &str) -> &str {
    match api {
        "queued" => "waiting",
        "ended_normally" => "completed",
        "ended_abnormally" => "abended",
        "canceled" => "cancelled",
        "skipped" => "disabled",
        other => other,
    }
}

/// The local (engine) name of an API job execution status.
fn job_status_name(api: &str) -> &str {
    match api {
        "ended_normally" => "completed",
        "ended_abnormally" => "abended",
        "canceled" => "cancelled",
        "pass" => "bypassed",
        other => other,
    }
}

fn s<'v>(v: &'v Value, k: &str) -> &'v str {
    v[k].as_str().unwrap_or_default()
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?).ok().map(|t| t.to_utc())
}

/// `jne-000042` → 42.
fn exec_seq(id: &str) -> u64 {
    id.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The live jobnets: `(P/J, status object)` by key, from the projects and their jobnet definitions.
async fn jobnet_statuses(r: &Remote, only: Option<(&str, &str)>) -> Res<BTreeMap<String, Value>> {
    let mut keys = Vec::new();
    match only {
        Some((p, j)) => keys.push((p.to_string(), j.to_string())),
        None => {
            for p in r.get("projects").await?["data"].as_array().cloned().unwrap_or_default() {
                let p = s(&p, "projectName").to_string();
                let jobnets = r.get(&format!("projects/{}/jobnets", enc(&p))).await?;
                for j in jobnets["data"].as_array().cloned().unwrap_or_default() {
                    keys.push((p.clone(), s(&j, "name").to_string()));
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for (p, j) in keys {
        match r.get(&format!("projects/{}/jobnets/{}/status", enc(&p), enc(&j))).await {
            Ok(v) => {
                out.insert(format!("{p}/{j}"), v["data"][0].clone());
            }
            // Defined but not (yet) in the running scheduler.
            Err(RemoteError::Api { status: 404, .. }) if only.is_none() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn fmt_local(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "-".into())
}

fn fmt_rfc(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "-".into())
}

fn code_text(v: &Value) -> String {
    v.as_u64().and_then(|c| u32::try_from(c).ok()).map(woi_core::exit::code_text).unwrap_or_else(|| "-".into())
}

/// `woi status --server`: every jobnet of the running scheduler (times in UTC).
pub async fn status(r: Remote, json_out: bool) -> Res<ExitCode> {
    let statuses = jobnet_statuses(&r, None).await?;
    let execs: BTreeMap<String, Value> = r
        .all("executions/jobnets?includeChildren=true")
        .await?
        .into_iter()
        .map(|e| (s(&e, "id").to_string(), e))
        .collect();
    let mut rows = Vec::new();
    for (key, st) in &statuses {
        let latest = st["latestExecutionId"].as_str().and_then(|id| execs.get(id));
        let mut row = json!({
            "key": key,
            "comment": s(st, "jobnetComment"),
            "status": s(st, "status"),
            "run": st["run"].as_u64().unwrap_or(0),
        });
        if let Some(e) = latest {
            for (k, src) in [("exit_code", "exitCode"), ("started_at", "startedAt"), ("ended_at", "completedAt")] {
                if !e[src].is_null() {
                    row[k] = e[src].clone();
                }
            }
        }
        if !st["nextStart"].is_null() {
            row["next_start"] = st["nextStart"].clone();
        }
        rows.push(row);
    }
    if json_out {
        out(&format!("{}\n", serde_json::to_string_pretty(&rows).map_err(|e| RemoteError::Fatal(e.to_string()))?));
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = format!(
        "{:<32} {:<14} {:>5} {:>10} {:<19} {:<19} {:<19}\n",
        "jobnet", "status", "runs", "code", "started", "ended", "next start"
    );
    for v in &rows {
        text.push_str(&format!(
            "{:<32} {:<14} {:>5} {:>10} {:<19} {:<19} {:<19}\n",
            s(v, "key"),
            s(v, "status"),
            v["run"].as_u64().unwrap_or(0),
            code_text(&v["exit_code"]),
            fmt_local(time(&v["started_at"])),
            fmt_local(time(&v["ended_at"])),
            fmt_local(time(&v["next_start"]))
        ));
    }
    out(&text);
    Ok(ExitCode::SUCCESS)
}

/// `woi history --server [P/N]`: runs newest first (times in UTC); with a
/// jobnet, the job attempts of its latest run. Run numbers are counted back
/// from the jobnet's current run over its executions.
pub async fn history(r: Remote, jobnet: Option<&str>, limit: usize, json_out: bool) -> Res<ExitCode> {
    let key = match jobnet {
        Some(k) => Some(
            k.split_once('/')
                .filter(|(p, j)| !p.is_empty() && !j.is_empty())
                .ok_or_else(|| RemoteError::Fatal(format!("{k:?}: expected PROJECT/JOBNET")))?,
        ),
        None => None,
    };
    let query = match key {
        Some((p, j)) => format!("executions/jobnets?includeChildren=true&projects={}&jobnets={}", enc(p), enc(j)),
        None => "executions/jobnets?includeChildren=true".to_string(),
    };
    let all: Vec<Value> = r
        .all(&query)
        .await?
        .into_iter()
        .filter(|e| key.is_none_or(|(p, j)| s(e, "projectName") == p && s(e, "jobnetName") == j))
        .collect();
    if all.is_empty()
        && let Some(k) = key
    {
        // No history: the jobnet must at least exist (an unknown one is the
        // server's 404, exit 1), as `woi history` on the data directory.
        jobnet_statuses(&r, Some(k)).await?;
    }
    let name = |e: &Value| format!("{}/{}", s(e, "projectName"), s(e, "jobnetName"));
    let shown: Vec<&Value> = all.iter().take(limit).collect();
    let mut current: BTreeMap<String, u64> = BTreeMap::new();
    for e in &shown {
        let k = name(e);
        if !current.contains_key(&k)
            && let Some((p, j)) = k.split_once('/')
        {
            let st = jobnet_statuses(&r, Some((p, j))).await?;
            current.insert(k.clone(), st.get(&k).and_then(|v| v["run"].as_u64()).unwrap_or(0));
        }
    }
    let run_of = |e: &Value| {
        let k = name(e);
        let newer = all.iter().filter(|o| name(o) == k && exec_seq(s(o, "id")) > exec_seq(s(e, "id"))).count();
        current.get(&k).copied().unwrap_or(0).saturating_sub(newer as u64)
    };
    let runs: Vec<Value> = shown
        .iter()
        .map(|e| {
            json!({
                "jobnet": name(e),
                "run": run_of(e),
                "status": jobnet_status_name(s(e, "status")),
                "exit_code": e["exitCode"],
                "started_at": e["startedAt"],
                "ended_at": e["completedAt"],
                "execution_id": s(e, "id"),
            })
        })
        .collect();
    let mut jobs: Vec<Value> = Vec::new();
    if let (Some((p, j)), Some(latest)) = (key, shown.first()) {
        let id = s(latest, "id");
        let q = format!("executions/jobs?includeChildren=true&projects={}&jobnets={}", enc(p), enc(j));
        let mut list: Vec<Value> = r.all(&q).await?.into_iter().filter(|x| s(x, "jobnetExecutionId") == id).collect();
        list.sort_by_key(|x| (x["jobNumber"].as_u64(), x["attempt"].as_u64()));
        let run = runs.first().map(|v| v["run"].clone()).unwrap_or(Value::Null);
        jobs = list
            .iter()
            .map(|x| {
                json!({
                    "jobnet": format!("{p}/{j}"),
                    "run": run,
                    "job": x["jobNumber"],
                    "name": s(x, "jobName"),
                    "attempt": x["attempt"],
                    "status": job_status_name(s(x, "status")),
                    "exit_code": x["exitCode"],
                    "started_at": x["startedAt"],
                    "ended_at": x["completedAt"],
                })
            })
            .collect();
    }
    if json_out {
        let v = json!({ "runs": runs, "jobs": jobs });
        out(&format!("{}\n", serde_json::to_string_pretty(&v).map_err(|e| RemoteError::Fatal(e.to_string()))?));
        return Ok(ExitCode::SUCCESS);
    }
    let mut text =
        format!("{:<32} {:>5} {:<14} {:>10} {:<25} {:<25}\n", "jobnet", "run", "status", "code", "started", "ended");
    for v in &runs {
        text.push_str(&format!(
            "{:<32} {:>5} {:<14} {:>10} {:<25} {:<25}\n",
            s(v, "jobnet"),
            v["run"].as_u64().unwrap_or(0),
            s(v, "status"),
            code_text(&v["exit_code"]),
            fmt_rfc(time(&v["started_at"])),
            fmt_rfc(time(&v["ended_at"]))
        ));
    }
    if !jobs.is_empty() {
        text.push_str(&format!("\n{:>4}  {:<20} {:>7} {:<14} {:>12}\n", "job", "name", "attempt", "status", "code"));
        for j in &jobs {
            text.push_str(&format!(
                "{:>4}  {:<20} {:>7} {:<14} {:>12}\n",
                j["job"].as_u64().unwrap_or(0),
                s(j, "name"),
                j["attempt"].as_u64().unwrap_or(0),
                s(j, "status"),
                code_text(&j["exit_code"])
            ));
        }
    }
    out(&text);
    Ok(ExitCode::SUCCESS)
}

// ----- operations -------------------------------------------------------------

/// The arguments of `woi op`.
pub struct OpRequest {
    /// The operation (`woi op` names).
    pub action: String,
    /// `PROJECT/JOBNET` (or a bare jobnet name for raise_event / clear_events).
    pub jobnet: Option<String>,
    /// Job number or name.
    pub job: Option<String>,
    /// Recovery operation (not available remotely).
    pub recovery: Option<String>,
    /// Variable parameter.
    pub vparam: Option<String>,
    /// Event name.
    pub event: Option<String>,
    /// Project scope of raise_event / clear_events.
    pub project: Option<String>,
    /// Copy-start suffix.
    pub suffix: Option<String>,
}

fn usage(m: String) -> RemoteError {
    RemoteError::Fatal(m)
}

/// `woi op --server ACTION …`: the Web API's jobnet/job actions, msgevent and
/// msgclear. Asynchronous actions (start, restart, cancel, job cancel/restart)
/// are long-polled to the end of their operation: exit 0 when it completes
/// `NORMAL` or `PARTIAL_FAILURES`, 1 with its message when `ERROR`; a refusal
/// (`409 OM_API_01011`) exits 1.
pub async fn op(r: Remote, o: OpRequest) -> Res<ExitCode> {
    let a = o.action.as_str();
    if matches!(a, "raise_event" | "clear_events") {
        let (mut project, mut jobnet) = match o.jobnet.as_deref() {
            Some(j) => match j.split_once('/') {
                Some((p, n)) => (Some(p.to_string()), Some(n.to_string())),
                None => (None, Some(j.to_string())),
            },
            None => (None, None),
        };
        if o.project.is_some() {
            project.clone_from(&o.project);
        }
        if project.is_none() && jobnet.as_deref().is_some_and(str::is_empty) {
            jobnet = None;
        }
        if a == "clear_events" {
            r.msgclear(project.as_deref(), jobnet.as_deref()).await?;
            out("applied: clear_events\n");
            return Ok(ExitCode::SUCCESS);
        }
        let event = o.event.as_deref().ok_or_else(|| usage("raise_event needs --event NAME".into()))?;
        let target = EventTarget {
            event,
            project: project.as_deref(),
            jobnet: jobnet.as_deref(),
            vparam: o.vparam.as_deref(),
            suffix: o.suffix.as_deref(),
        };
        r.msgevent(&target).await?;
        out(&format!("applied: raise_event {event}\n"));
        return Ok(ExitCode::SUCCESS);
    }
    if a == "recover" || o.recovery.is_some() {
        return Err(usage(
            "recover is not available through the Web API (it has no recovery-operation route); \
             stop the server and use `woi op recover` on its data directory"
                .into(),
        ));
    }
    let jobnet = o.jobnet.as_deref().ok_or_else(|| usage(format!("{a} needs a jobnet, PROJECT/JOBNET")))?;
    let (p, j) = jobnet
        .split_once('/')
        .filter(|(p, j)| !p.is_empty() && !j.is_empty())
        .ok_or_else(|| usage(format!("{jobnet:?}: expected PROJECT/JOBNET")))?;
    let base = format!("projects/{}/jobnets/{}", enc(p), enc(j));
    let (path, body) = if let Some(job_action) = a.strip_suffix("_job") {
        if !matches!(job_action, "cancel" | "restart" | "pause" | "continue" | "disable" | "enable") {
            return Err(usage(format!("unknown operation {a:?} (see `woi op --help`)")));
        }
        let job = o.job.as_deref().ok_or_else(|| usage(format!("{a} needs a job (number or name)")))?;
        let number = job_number(&r, &base, job).await?;
        (format!("{base}/jobs/{number}/actions/{job_action}"), None)
    } else {
        let api = match a {
            "start" if o.vparam.is_some() => "start-vparam",
            "start" | "restart" | "cancel" | "pause" | "continue" | "disable" | "enable" | "confirm" => a,
            "release_carry_over" => "release-carryover",
            "cancel_completion" => "revoke",
            _ => return Err(usage(format!("unknown operation {a:?} (see `woi op --help`)"))),
        };
        let body = (api == "start-vparam").then(|| json!({ "vparam": o.vparam }));
        (format!("{base}/actions/{api}"), body)
    };
    let answer = r.post(&path, body.as_ref()).await?;
    let data = &answer["data"][0];
    let Some(key) = data["key"].as_str().filter(|_| data["kind"].is_string()) else {
        // A synchronous action answers with the jobnet or job status.
        out(&format!("applied: {a} {jobnet} (status {})\n", s(data, "status")));
        return Ok(ExitCode::SUCCESS);
    };
    eprintln!("woi: {a} {jobnet} accepted: operation {key}; waiting for it to complete");
    let mut op = data.clone();
    while s(&op, "status") != "completed" {
        op = r.get(&format!("operations/{}?wait=60", enc(key))).await?["data"][0].clone();
        if op.is_null() {
            return Err(RemoteError::Fatal(format!("operation {key}: the server no longer knows it")));
        }
    }
    let state = s(&op, "state");
    let exec = op["executionId"].as_str().map(|e| format!(", execution {e}")).unwrap_or_default();
    out(&format!("applied: {a} {jobnet} (operation {key}: {state}{exec})\n"));
    if matches!(state, "NORMAL" | "PARTIAL_FAILURES") {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("woi: operation {key} ended {state}: {}", s(&op, "message"));
        Ok(ExitCode::from(1))
    }
}

/// A job by number, or by name through the jobnet's definition.
async fn job_number(r: &Remote, base: &str, job: &str) -> Res<u64> {
    if let Ok(n) = job.parse::<u16>() {
        return Ok(u64::from(n));
    }
    let jobs = r.get(&format!("{base}/jobs")).await?;
    jobs["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| {
            let n = d["number"].as_u64().unwrap_or(0);
            d["name"].as_str().map_or(format!("J{n}") == job, |name| name == job)
        })
        .and_then(|d| d["number"].as_u64())
        .ok_or_else(|| RemoteError::Api {
            status: 404,
            code: "OM_API_00050".into(),
            message: format!("no job named {job} in the jobnet"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(enc("P1"), "P1");
        assert_eq!(enc("a b/c"), "a%20b%2Fc");
        assert_eq!(enc("ジョブ"), "%E3%82%B8%E3%83%A7%E3%83%96");
    }

    #[test]
    fn api_statuses_read_as_engine_statuses() {
        assert_eq!(jobnet_status_name("ended_normally"), "completed");
        assert_eq!(jobnet_status_name("ended_abnormally"), "abended");
        assert_eq!(job_status_name("pass"), "bypassed");
        assert_eq!(exec_seq("jne-000042"), 42);
    }

    #[test]
    fn unauthorized_exits_2_and_refused_exits_1() {
        let api = |status| RemoteError::Api { status, code: "OM_API_x".into(), message: "m".into() };
        assert_eq!(api(401).report(), Ok(ExitCode::from(2)));
        assert_eq!(api(409).report(), Ok(ExitCode::from(1)));
        assert!(RemoteError::Fatal("down".into()).report().is_err());
    }
}
