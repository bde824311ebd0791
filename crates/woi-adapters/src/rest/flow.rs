//! The `jobschlinkadptr` algorithm (spec 03 §3.7–3.13): validation, the
//! execution call, the monitoring loop and the termination call, for REST,
//! Informatica and Snowflake (task and SQL) jobs.

use std::sync::Mutex;
use std::time::Duration;

use woi_core::exec::JobRun;

use super::authinfo::{AuthInfo, AuthType};
use super::connection::{self, ConnectionError, ConnectionInfo, Endpoint, MonitoringDef, Variant};
use super::credentials::{self, AuthEnv, AuthFailure, Token};
use super::http::{self, InResponse, OutRequest, SendError};
use super::json::{self, Json};
use super::keypath;
use super::output::{Output, Property, RequestType, TerminationFailure, msg};
use super::subst::{self, Vars};
use super::{Exit, RestExecutor};

/// Auth types each kind accepts (spec 03 §2.1).
pub fn allowed_auth_types(variant: Variant) -> &'static [AuthType] {
    match variant {
        Variant::Rest => &[AuthType::Basic, AuthType::AzureAd, AuthType::Bearer, AuthType::AwsSigV4, AuthType::Others],
        Variant::Informatica => &[AuthType::Basic],
        Variant::SnowflakeTask | Variant::SnowflakeSql => &[AuthType::AzureAd],
    }
}

/// Mutable state of one run (never locked across an await).
#[derive(Default)]
pub(crate) struct State {
    pub out: Output,
    pub takeover: Vec<(String, String)>,
    pub token: Option<Token>,
}

/// One prepared run.
pub(crate) struct RestRun<'a> {
    exec: &'a RestExecutor,
    job: &'a JobRun,
    variant: Variant,
    conn: ConnectionInfo,
    auth: Option<AuthInfo>,
    auth_keys: Vec<(String, String)>,
    body_exec: Option<String>,
    body_mon: Option<String>,
    body_term: Option<String>,
    pub state: Mutex<State>,
}

/// Lock the state (a poisoned lock still holds usable output).
pub(crate) fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|b| b.trim().is_empty())
}

/// Report a connection-info error: message and exit 2.
pub(crate) fn connection_error(out: &mut Output, e: &ConnectionError) -> Exit {
    match e {
        ConnectionError::Syntax(j) => out.error(msg::json_syntax(Property::ConnectionInfo, j)),
        ConnectionError::Format => out.error(msg::format()),
        ConnectionError::Param { path, details } => out.error(msg::invalid_param(path, details)),
    }
    2
}

/// Look up an auth entry: 0616/exit 10 when missing or unreadable, 0633 on
/// `param`/exit 2 when its type is not allowed.
pub(crate) fn lookup_auth(
    exec: &RestExecutor,
    name: &str,
    allowed: &[AuthType],
    param: &str,
    out: &mut Output,
) -> Result<AuthInfo, Exit> {
    match exec.auth_source().auth_info(name) {
        Ok(Some(info)) if allowed.contains(&info.auth_type()) => Ok(info),
        Ok(Some(info)) => {
            let allowed: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
            out.error(msg::invalid_param(
                param,
                &format!(
                    "the auth info {name} is of type {}; this job accepts {}",
                    info.auth_type(),
                    allowed.join(", ")
                ),
            ));
            Err(2)
        }
        Ok(None) | Err(_) => {
            out.error(msg::auth_unavailable(name));
            Err(10)
        }
    }
}

/// Report an authentication failure: the message and exit 10.
pub(crate) fn auth_failure(out: &mut Output, e: &AuthFailure) -> Exit {
    out.error(match e {
        AuthFailure::Status(s) => msg::http_failed(RequestType::Authentication, *s),
        AuthFailure::Send(se) => msg::send_error(RequestType::Authentication, se),
        AuthFailure::NoToken => msg::no_access_token(),
    });
    10
}

impl<'a> RestRun<'a> {
    /// Validate everything (spec 03 §3.2); `Err` carries the output and exit code.
    pub fn prepare(exec: &'a RestExecutor, job: &'a JobRun, variant: Variant) -> Result<RestRun<'a>, (Output, Exit)> {
        let mut out = Output::default();
        let text = job.connection_info.as_deref().unwrap_or("");
        let conn = match connection::parse(text, variant) {
            Ok(c) => c,
            Err(e) => {
                let code = connection_error(&mut out, &e);
                return Err((out, code));
            }
        };
        let auth = match &conn.request.auth_name {
            Some(name) => match lookup_auth(exec, name, allowed_auth_types(variant), "request.authName", &mut out) {
                Ok(a) => Some(a),
                Err(code) => return Err((out, code)),
            },
            None => None,
        };
        let auth_keys = auth.as_ref().map(AuthInfo::key_values).unwrap_or_default();
        let vars = Vars { auth_keys: &auth_keys, job_vars: Some(&job.variables) };
        let informatica = variant == Variant::Informatica;
        let used = [
            (&job.bodies.execution, true, Property::BodyExecution),
            (&job.bodies.monitoring, conn.monitoring.is_some() && !informatica, Property::BodyMonitoring),
            (&job.bodies.termination, conn.termination.is_some(), Property::BodyTermination),
        ];
        let mut bodies: Vec<Option<String>> = Vec::new();
        for (body, is_used, property) in used {
            if !is_used || blank(body) {
                bodies.push(None);
                continue;
            }
            let text = vars.values(body.as_deref().unwrap_or(""));
            if let Err(e) = json::parse(&text) {
                out.error(msg::json_syntax(property, &e));
                return Err((out, 2));
            }
            bodies.push(Some(text));
        }
        let body_term = bodies.pop().flatten();
        let body_mon = bodies.pop().flatten();
        let body_exec = bodies.pop().flatten();
        if variant == Variant::SnowflakeTask
            && !task_names_match(body_exec.as_deref(), body_mon.as_deref(), body_term.as_deref())
        {
            out.error(msg::task_names());
            return Err((out, 2));
        }
        Ok(RestRun {
            exec,
            job,
            variant,
            conn,
            auth,
            auth_keys,
            body_exec,
            body_mon,
            body_term,
            state: Mutex::new(State { out, ..State::default() }),
        })
    }

    fn vars(&self) -> Vars<'_> {
        Vars { auth_keys: &self.auth_keys, job_vars: Some(&self.job.variables) }
    }

    /// Whether a `monitoring` object is configured.
    pub fn has_monitoring(&self) -> bool {
        self.conn.monitoring.is_some()
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.conn.request.timeout)
    }

    /// Build a call: stage 1–2 on query/header values, stage 2 on the URL,
    /// stage 3 on the URL and body when `takeover` is set.
    fn build(&self, ep: &Endpoint, body: Option<&str>, takeover: bool) -> OutRequest {
        let vars = self.vars();
        let tv = if takeover { lock(&self.state).takeover.clone() } else { Vec::new() };
        let url = subst::takeover(&vars.url(&ep.url), &tv);
        let query: Vec<(String, String)> = ep.query.iter().map(|(k, v)| (k.clone(), vars.values(v))).collect();
        let headers: Vec<(String, String)> = ep.header.iter().map(|(k, v)| (k.clone(), vars.values(v))).collect();
        let body = body.map(|b| subst::takeover(b, &tv));
        let mut req = OutRequest { method: ep.method, url: http::with_query(&url, &query), headers, body };
        if req.body.is_some() && !req.has_header("Content-Type") {
            req.headers.push(("Content-Type".into(), "application/json".into()));
        }
        req
    }

    /// Authenticate and send one call; `Err` = a message was printed and the
    /// job ends with the returned code.
    async fn call(&self, mut req: OutRequest) -> Result<InResponse, CallError> {
        if let Some(info) = &self.auth {
            let mut cache = lock(&self.state).token.take();
            let env = AuthEnv {
                client: self.exec.client(),
                timer: self.exec.timer(),
                timeout: self.timeout(),
                token_base: self.exec.token_base(),
            };
            let r = credentials::apply(info, &mut cache, &env, &mut req).await;
            lock(&self.state).token = cache;
            r.map_err(CallError::Auth)?;
        }
        http::send(self.exec.client(), &req, self.timeout()).await.map_err(CallError::Send)
    }

    /// The execution call (§3.7 step 3). `Ok` when the job goes on.
    pub async fn execute(&self) -> Result<(), Exit> {
        let req = self.build(&self.conn.request.endpoint, self.body_exec.as_deref(), false);
        let resp = match self.call(req).await {
            Ok(r) => r,
            Err(e) => return Err(self.report(RequestType::Request, &e)),
        };
        let mut st = lock(&self.state);
        st.out.http("", &resp);
        if !resp.is_success() {
            st.out.error(msg::http_failed(RequestType::Request, resp.status));
            return Err(4);
        }
        let needs = !self.conn.request.takeover_keys.is_empty() || !self.conn.request.jobnet_val_keys.is_empty();
        let tree = if needs { resp.tree() } else { None };
        for (name, path) in &self.conn.request.takeover_keys {
            match tree.as_ref().and_then(|t| keypath::extract(t, path)) {
                Some(v) => st.takeover.push((name.clone(), v.render())),
                None => {
                    st.out.error(msg::key_not_found(name));
                    return Err(8);
                }
            }
        }
        for (name, path) in &self.conn.request.jobnet_val_keys {
            match tree.as_ref().and_then(|t| keypath::extract(t, path)) {
                Some(v) => st.out.line(format!("{name}={}", v.render())),
                None => {
                    st.out.error(msg::key_not_found(name));
                    return Err(8);
                }
            }
        }
        Ok(())
    }

    fn report(&self, t: RequestType, e: &CallError) -> Exit {
        let mut st = lock(&self.state);
        match e {
            CallError::Auth(a) => auth_failure(&mut st.out, a),
            CallError::Send(s) => {
                st.out.error(msg::send_error(t, s));
                if *s == SendError::Timeout { 5 } else { 4 }
            }
        }
    }

    /// The monitoring loop (§3.7 steps 4–5); returns the exit code.
    pub async fn monitor(&self) -> Exit {
        let Some(m) = &self.conn.monitoring else { return 0 };
        let timer = self.exec.timer();
        timer.sleep(Duration::from_secs(m.first_monitor_interval)).await;
        let mut i: u64 = 1;
        loop {
            let req = self.build(&m.endpoint, self.body_mon.as_deref(), true);
            let resp = match self.call(req).await {
                Ok(r) => r,
                Err(e) => return self.report(RequestType::Monitoring, &e),
            };
            let verdict = if self.variant == Variant::SnowflakeSql {
                self.judge_sql(m, &resp).await
            } else {
                self.judge(m, &resp)
            };
            if let Some(code) = verdict {
                return code;
            }
            if m.polling_count > 0 && i >= m.polling_count {
                let mut st = lock(&self.state);
                st.out.http("ChkResult", &resp);
                st.out.error(msg::wait_elapsed());
                return 6;
            }
            timer.sleep(Duration::from_secs(m.polling_interval)).await;
            i += 1;
        }
    }

    /// Judge one monitoring response: `Some(exit)` when the job ends.
    fn judge(&self, m: &MonitoringDef, resp: &InResponse) -> Option<Exit> {
        let mut st = lock(&self.state);
        if !resp.is_success() {
            st.out.http("ChkResult", resp);
            st.out.error(msg::http_failed(RequestType::Monitoring, resp.status));
            return Some(4);
        }
        let tree = resp.tree();
        let end_key = subst::takeover(&m.polling_end_key, &st.takeover);
        let Some(end) = tree.as_ref().and_then(|t| keypath::extract(t, &end_key)).map(Json::render) else {
            st.out.http("ChkResult", resp);
            st.out.error(msg::key_not_found("pollingEndKey"));
            return Some(8);
        };
        if !m.polling_end_val.contains(&end) {
            return None;
        }
        st.out.http("ChkResult", resp);
        let result_key = subst::takeover(&m.check_result_key, &st.takeover);
        let Some(result) = tree.as_ref().and_then(|t| keypath::extract(t, &result_key)).map(Json::render) else {
            st.out.error(msg::key_not_found("checkResultKey"));
            return Some(8);
        };
        let ok = m.check_result_val.contains(&result);
        if let Some(code) = jobnet_lines(&mut st.out, tree.as_ref(), &m.jobnet_val_keys, ok) {
            return Some(code);
        }
        if ok {
            Some(0)
        } else {
            st.out.error(msg::not_normal(&result));
            Some(7)
        }
    }

    /// Snowflake SQL mode: 202 running, 2xx done, 422 the SQL failed.
    async fn judge_sql(&self, m: &MonitoringDef, resp: &InResponse) -> Option<Exit> {
        match resp.status {
            202 => None,
            200..=299 => {
                let tree = resp.tree();
                let handles: Vec<String> = tree
                    .as_ref()
                    .and_then(|t| t.get("statementHandles"))
                    .and_then(Json::as_array)
                    .map(|a| a.iter().map(Json::render).collect())
                    .unwrap_or_default();
                lock(&self.state).out.http("ChkResult", resp);
                if handles.len() > 1 {
                    let req = self.build(&m.endpoint, None, true);
                    let base = statement_base(&req.url);
                    for (n, handle) in handles.iter().enumerate() {
                        let mut r = req.clone();
                        r.method = connection::Method::Get;
                        r.url = format!("{base}{handle}");
                        let line = match self.call(r).await {
                            Ok(s) if s.is_success() => match json::parse(&s.body) {
                                Ok(j) => j.to_pretty(),
                                Err(_) => "\"The response is not a valid JSON response.\"".to_owned(),
                            },
                            Ok(s) => format!("\"Failed to get the response. StatusCode={}\"", s.status),
                            Err(_) => "\"Failed to get the response. StatusCode=none\"".to_owned(),
                        };
                        lock(&self.state).out.line(format!("ChkResultSqlStatement{}={line}", n + 1));
                    }
                }
                let mut st = lock(&self.state);
                Some(jobnet_lines(&mut st.out, tree.as_ref(), &m.jobnet_val_keys, true).unwrap_or(0))
            }
            422 => {
                let mut st = lock(&self.state);
                st.out.http("ChkResult", resp);
                st.out.error(msg::sql_failed());
                Some(11)
            }
            status => {
                let mut st = lock(&self.state);
                st.out.http("ChkResult", resp);
                st.out.error(msg::http_failed(RequestType::Monitoring, status));
                Some(4)
            }
        }
    }

    /// The termination call after a forced stop (§3.9): `Some(failure)` when
    /// it failed (its message is already in the output).
    pub async fn terminate(&self) -> Option<TerminationFailure> {
        if self.variant == Variant::Informatica {
            return None;
        }
        let ep = self.conn.termination.as_ref()?;
        let req = self.build(ep, self.body_term.as_deref(), true);
        let failure = match self.call(req).await {
            Ok(r) if r.is_success() => return None,
            Ok(r) => {
                lock(&self.state).out.error(msg::http_failed(RequestType::Termination, r.status));
                TerminationFailure::Status(r.status)
            }
            Err(CallError::Send(e)) => {
                lock(&self.state).out.error(msg::send_error(RequestType::Termination, &e));
                TerminationFailure::Send(e)
            }
            Err(CallError::Auth(a)) => {
                auth_failure(&mut lock(&self.state).out, &a);
                TerminationFailure::Send(SendError::Other(a.to_string()))
            }
        };
        Some(failure)
    }
}

/// Print `jobnetValKeys` lines; a missing key fails (0615, exit 8) only when
/// `strict` (the result was a success).
fn jobnet_lines(out: &mut Output, tree: Option<&Json>, keys: &[(String, String)], strict: bool) -> Option<Exit> {
    for (name, path) in keys {
        match tree.and_then(|t| keypath::extract(t, path)) {
            Some(v) => out.line(format!("{name}={}", v.render())),
            None if strict => {
                out.error(msg::key_not_found(name));
                return Some(8);
            }
            None => {}
        }
    }
    None
}

/// `…/statements/<handle>?q` → `…/statements/`.
fn statement_base(url: &str) -> String {
    let no_query = url.split('?').next().unwrap_or(url);
    match no_query.rfind('/') {
        Some(i) => no_query[..=i].to_owned(),
        None => format!("{no_query}/"),
    }
}

/// A call that produced no usable response.
pub(crate) enum CallError {
    /// Authentication failed.
    Auth(AuthFailure),
    /// The call itself failed.
    Send(SendError),
}

/// Snowflake task mode: the task names of the bodies in use must agree (0641).
pub fn task_names_match(exec: Option<&str>, mon: Option<&str>, term: Option<&str>) -> bool {
    let statement = |b: Option<&str>| -> Option<Option<String>> {
        let b = b?;
        Some(json::parse(b).ok().and_then(|j| j.get("statement").and_then(Json::as_str).map(str::to_owned)))
    };
    let unquote = |s: &str| -> String {
        let s = s.trim();
        s.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(s).to_owned()
    };
    let exec_name = statement(exec).flatten().and_then(|s| {
        let upper = s.to_ascii_uppercase();
        let i = upper.find("EXECUTE TASK")?;
        Some(unquote(&s[i + "EXECUTE TASK".len()..]))
    });
    let Some(exec_name) = exec_name.filter(|n| !n.is_empty()) else { return exec.is_none() };
    if let Some(stmt) = statement(mon) {
        let name = stmt.and_then(|s| {
            let i = s.find("task_name")?;
            let rest = s[i + "task_name".len()..].trim_start().strip_prefix("=>")?.trim_start();
            let rest = rest.strip_prefix('\'')?;
            Some(unquote(&rest[..rest.find('\'')?]))
        });
        if name.as_deref() != Some(exec_name.as_str()) {
            return false;
        }
    }
    if let Some(stmt) = statement(term) {
        let name = stmt.and_then(|s| {
            let i = s.find("SYSTEM$USER_TASK_CANCEL_ONGOING_EXECUTIONS")?;
            let rest = s[i..].split_once("('")?.1;
            let inner = &rest[..rest.find("')")?];
            Some(unquote(inner.rsplit('.').next().unwrap_or(inner)))
        });
        if name.as_deref() != Some(exec_name.as_str()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    // SNOW-001
    #[test]
    fn snow_001_task_names_match() {
        let e = r#"{"statement":"EXECUTE TASK T1","database":"DB"}"#;
        let m = r#"{"statement":"select * from table(information_schema.task_history(result_limit => 1, task_name=>'T1')) WHERE SCHEDULED_FROM = 'EXECUTE TASK' "}"#;
        let t = r#"{"statement":"SELECT SYSTEM$USER_TASK_CANCEL_ONGOING_EXECUTIONS('DB.SC.T1')"}"#;
        assert!(task_names_match(Some(e), Some(m), Some(t)));
        let eq = r#"{"statement":"EXECUTE TASK \"T1\""}"#;
        let tq = r#"{"statement":"SELECT SYSTEM$USER_TASK_CANCEL_ONGOING_EXECUTIONS('DB.SC.\"T1\"')"}"#;
        assert!(task_names_match(Some(eq), None, Some(tq)));
    }

    // SNOW-002
    #[test]
    fn snow_002_task_names_differ() {
        let e = r#"{"statement":"EXECUTE TASK T1"}"#;
        let m = r#"{"statement":"select * from table(information_schema.task_history(task_name=>'T2'))"}"#;
        assert!(!task_names_match(Some(e), Some(m), None));
        assert!(!task_names_match(Some(e), None, Some(r#"{"statement":"SELECT 1"}"#)));
        assert!(!task_names_match(Some(e), Some(r#"{"statement":"..task_name=>'t1'"}"#), None), "case-sensitive");
    }

    #[test]
    fn statement_base_strips_handle() {
        assert_eq!(statement_base("http://h/api/v2/statements/h-1?x=1"), "http://h/api/v2/statements/");
    }
}
