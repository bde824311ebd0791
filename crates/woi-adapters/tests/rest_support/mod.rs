//! Shared helpers of the REST adapter tests: a loopback mock server, a
//! virtual timer, an in-memory auth registry and job builders.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::channel::oneshot;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};
use woi_adapters::rest::{MemoryAuthSource, MemoryMonitorLog, RestExecutor, VirtualTimer, http};
use woi_core::JobnetKey;
use woi_core::engine::KillReason;
use woi_core::exec::{AdapterBodies, Executor, JobResult, JobRun};
use woi_core::model::JobKind;

pub const START: &str = "2024-03-15T01:02:03Z";

pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(START).expect("date").with_timezone(&Utc)
}

pub struct Harness {
    pub server: MockServer,
    pub auth: Arc<MemoryAuthSource>,
    pub timer: Arc<VirtualTimer>,
    pub log: Arc<MemoryMonitorLog>,
    pub exec: RestExecutor,
}

impl Harness {
    pub async fn new() -> Harness {
        let server = MockServer::start().await;
        let auth = Arc::new(MemoryAuthSource::new());
        let timer = Arc::new(VirtualTimer::new(start()));
        let log = Arc::new(MemoryMonitorLog::default());
        let exec = RestExecutor::new(auth.clone(), timer.clone(), http::client().expect("client"))
            .with_monitor_log(log.clone());
        Harness { server, auth, timer, log, exec }
    }

    /// The mock's base URL, `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        self.server.uri()
    }

    /// Replace `{B}` by the mock's base URL.
    pub fn fill(&self, text: &str) -> String {
        text.replace("{B}", &self.base())
    }

    pub fn register(&self, text: &str) {
        self.auth.register(&self.fill(text)).expect("auth info registers");
    }

    pub fn job(&self, kind: JobKind, conn: &str) -> JobRun {
        let mut j = JobRun::command(JobnetKey::new("P1", "NET1"), 1, "");
        j.kind = kind;
        j.connection_info = Some(self.fill(conn));
        j
    }

    /// Run to the end (nobody can kill it).
    pub async fn run(&self, job: JobRun) -> JobResult {
        let (tx, rx) = oneshot::channel::<KillReason>();
        let r = self.exec.run(job, rx).await;
        drop(tx);
        r
    }

    /// Run; fire the kill signal once the virtual timer hangs at sleep `n`.
    pub async fn run_killed_at_sleep(&self, job: JobRun, n: usize) -> JobResult {
        self.timer.hang_at_sleep(n);
        let (tx, rx) = oneshot::channel::<KillReason>();
        let timer = self.timer.clone();
        let killer = async move {
            timer.hung().await;
            let _ = tx.send(KillReason::Cancel);
        };
        let (r, ()) = futures::join!(self.exec.run(job, rx), killer);
        r
    }

    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    pub async fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests().await.into_iter().filter(|r| r.url.path() == path).collect()
    }
}

pub fn bodies(exec: Option<&str>, mon: Option<&str>, term: Option<&str>) -> AdapterBodies {
    AdapterBodies {
        execution: exec.map(str::to_owned),
        monitoring: mon.map(str::to_owned),
        termination: term.map(str::to_owned),
    }
}

pub fn vars(pairs: &[(&str, &str)]) -> Arc<BTreeMap<String, String>> {
    Arc::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// A JSON response.
pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// A response with this content type.
pub fn typed(status: u16, body: &str, content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), content_type)
}

/// Answers with the given responses in turn, then repeats the last one.
pub struct Seq(Mutex<VecDeque<ResponseTemplate>>);

impl Seq {
    pub fn new(responses: Vec<ResponseTemplate>) -> Seq {
        Seq(Mutex::new(responses.into()))
    }
}

impl Respond for Seq {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let mut q = self.0.lock().expect("lock");
        if q.len() > 1 { q.pop_front().expect("non-empty") } else { q.front().cloned().expect("non-empty") }
    }
}

pub fn header(r: &Request, name: &str) -> Option<String> {
    r.headers.get(name).map(|v| v.to_str().expect("ascii header").to_owned())
}

pub fn body(r: &Request) -> String {
    String::from_utf8(r.body.clone()).expect("utf-8 body")
}

/// The job's output lines.
pub fn lines(r: &JobResult) -> Vec<&str> {
    r.output.lines().collect()
}

pub fn has_line(r: &JobResult, line: &str) -> bool {
    r.output.lines().any(|l| l == line)
}

pub fn code(r: &JobResult) -> u32 {
    r.exit.code
}

/// The exit code must come from the adapter (origin Command).
pub fn adapter_exit(r: &JobResult) -> u32 {
    assert_eq!(r.exit.origin, woi_core::Origin::Command, "{r:?}");
    r.exit.code
}
