//! The SAP cloud service job, `scslinkadptr` (spec 03 §2.6, §3.14; spec 02
//! §3.8).
//!
//! 1. Validate the flat connection info (0632/0640/0633 → exit 2); look up the
//!    auth entry (`basic` or `scs`; 0616 → exit 10).
//! 2. `POST <url>/scheduler/jobs/<jobId>/schedules` with
//!    `{"description":"WOI immediate run","type":"one-time","time":"now","active":true}`;
//!    print the `Http*` lines and `scheduleId=<id>` (missing → 0615, exit 8).
//! 3. Wait `firstMonitorInterval`, then poll
//!    `GET <url>/scheduler/jobs/<jobId>/schedules/<scheduleId>/runs` every
//!    `pollingInterval` (at most `pollingCount` calls, 0 = unlimited) until
//!    `results[0].runStatus == "COMPLETED"`.
//! 4. Print the `ChkResult*` lines, `runId=…`, `runState=…`; `SUCCESS` → 0,
//!    else 0614 and exit 7; exhausted → 0613, exit 6. A monitoring response
//!    that is not JSON → 0615 `ParamName=runStatus`, exit 8.
//!
//! A forced stop never cancels the Cloud Foundry task (SC-002).

use std::sync::Mutex;
use std::time::Duration;

use woi_core::exec::JobRun;

use super::authinfo::{AuthInfo, AuthType};
use super::connection::{self, Method, SapCloudInfo};
use super::credentials::{self, AuthEnv, Token};
use super::flow::{State, auth_failure, connection_error, lock, lookup_auth};
use super::http::{self, InResponse, OutRequest, SendError};
use super::json::Json;
use super::output::{Output, RequestType, msg};
use super::subst::Vars;
use super::{Exit, RestExecutor};

/// Body of the Create Job Schedule call.
pub const SCHEDULE_BODY: &str = r#"{"description":"WOI immediate run","type":"one-time","time":"now","active":true}"#;

/// One prepared SAP cloud run.
pub(crate) struct SapCloudRun<'a> {
    exec: &'a RestExecutor,
    info: SapCloudInfo,
    base: String,
    auth: Option<AuthInfo>,
    schedule_id: Mutex<Option<String>>,
    pub state: Mutex<State>,
}

impl<'a> SapCloudRun<'a> {
    /// Validate; `Err` carries the output and exit code.
    pub fn prepare(exec: &'a RestExecutor, job: &'a JobRun) -> Result<SapCloudRun<'a>, (Output, Exit)> {
        let mut out = Output::default();
        let info = match connection::parse_sap_cloud(job.connection_info.as_deref().unwrap_or("")) {
            Ok(i) => i,
            Err(e) => {
                let code = connection_error(&mut out, &e);
                return Err((out, code));
            }
        };
        let auth = match &info.auth_name {
            Some(name) => match lookup_auth(exec, name, &[AuthType::Basic, AuthType::Scs], "authName", &mut out) {
                Ok(a) => Some(a),
                Err(code) => return Err((out, code)),
            },
            None => None,
        };
        let base = Vars { auth_keys: &[], job_vars: Some(&job.variables) }.url(&info.url);
        let base = base.trim_end_matches('/').to_owned();
        Ok(SapCloudRun {
            exec,
            info,
            base,
            auth,
            schedule_id: Mutex::new(None),
            state: Mutex::new(State { out, ..State::default() }),
        })
    }

    async fn call(&self, mut req: OutRequest, t: RequestType) -> Result<InResponse, Exit> {
        let timeout = Duration::from_secs(self.info.timeout);
        if let Some(info) = &self.auth {
            let mut cache: Option<Token> = lock(&self.state).token.take();
            let env = AuthEnv {
                client: self.exec.client(),
                timer: self.exec.timer(),
                timeout,
                token_base: self.exec.token_base(),
            };
            let r = credentials::apply(info, &mut cache, &env, &mut req).await;
            let mut st = lock(&self.state);
            st.token = cache;
            if let Err(e) = r {
                return Err(auth_failure(&mut st.out, &e));
            }
        }
        http::send(self.exec.client(), &req, timeout).await.map_err(|e| {
            lock(&self.state).out.error(msg::send_error(t, &e));
            if e == SendError::Timeout { 5 } else { 4 }
        })
    }

    fn jobs_url(&self) -> String {
        format!("{}/scheduler/jobs/{}/schedules", self.base, http::encode_component(&self.info.job_id))
    }

    /// Create the immediate-run schedule.
    pub async fn execute(&self) -> Result<(), Exit> {
        let req = OutRequest {
            method: Method::Post,
            url: self.jobs_url(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(SCHEDULE_BODY.into()),
        };
        let resp = self.call(req, RequestType::Request).await?;
        let mut st = lock(&self.state);
        st.out.http("", &resp);
        if !resp.is_success() {
            st.out.error(msg::http_failed(RequestType::Request, resp.status));
            return Err(4);
        }
        let Some(id) = resp.tree().and_then(|t| t.get("scheduleId").map(Json::render)) else {
            st.out.error(msg::key_not_found("scheduleId"));
            return Err(8);
        };
        st.out.line(format!("scheduleId={id}"));
        drop(st);
        if let Ok(mut s) = self.schedule_id.lock() {
            *s = Some(id);
        }
        Ok(())
    }

    /// Poll the run logs until the run completes.
    pub async fn monitor(&self) -> Exit {
        let Some(schedule) = self.schedule_id.lock().ok().and_then(|s| s.clone()) else {
            lock(&self.state).out.error(msg::internal());
            return 99;
        };
        let url = format!("{}/{}/runs", self.jobs_url(), http::encode_component(&schedule));
        let timer = self.exec.timer();
        timer.sleep(Duration::from_secs(self.info.first_monitor_interval)).await;
        let mut i: u64 = 1;
        loop {
            let req = OutRequest { method: Method::Get, url: url.clone(), headers: Vec::new(), body: None };
            let resp = match self.call(req, RequestType::Monitoring).await {
                Ok(r) => r,
                Err(code) => return code,
            };
            let mut st = lock(&self.state);
            if !resp.is_success() {
                st.out.http("ChkResult", &resp);
                st.out.error(msg::http_failed(RequestType::Monitoring, resp.status));
                return 4;
            }
            let Some(tree) = resp.tree() else {
                st.out.http("ChkResult", &resp);
                st.out.error(msg::key_not_found("runStatus"));
                return 8;
            };
            let first = tree.get("results").and_then(Json::as_array).and_then(|r| r.first());
            let status = first.and_then(|r| r.get("runStatus")).map(Json::render);
            if status.as_deref() == Some("COMPLETED") {
                st.out.http("ChkResult", &resp);
                let run_id = first.and_then(|r| r.get("runId")).map(Json::render).unwrap_or_default();
                let run_state = first.and_then(|r| r.get("runState")).map(Json::render).unwrap_or_default();
                st.out.line(format!("runId={run_id}"));
                st.out.line(format!("runState={run_state}"));
                if run_state == "SUCCESS" {
                    return 0;
                }
                st.out.error(msg::not_normal(&run_state));
                return 7;
            }
            if self.info.polling_count > 0 && i >= self.info.polling_count {
                st.out.http("ChkResult", &resp);
                st.out.error(msg::wait_elapsed());
                return 6;
            }
            drop(st);
            timer.sleep(Duration::from_secs(self.info.polling_interval)).await;
            i += 1;
        }
    }
}
