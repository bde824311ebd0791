//! A real server on loopback for the Web API tests: the scheduler runtime
//! over a SQLite journal in a temporary data directory, the accounts store
//! beside it, the router on `127.0.0.1:0`, and reqwest as the client.
//! Configured as spec 04 §4 says: tenant `t9`, environment `envA`, public
//! host `h`; admin user `admin1` with password `Aa#12345`.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use woi_adapters::auth::AuthStore;
use woi_adapters::process::ProcessExecutor;
use woi_adapters::runtime::{Handle, Runtime, SystemClock};
use woi_adapters::sqlite::SqliteStore;
use woi_core::store::Store;
use woi_core::{Catalog, Clock, Event, EventKind, ManualClock};
use woi_server::{ApiConfig, AppState, AuditRecord};

/// P1/J1, P2/J2: wait for EV1 and EV2 (a single EV1 is counted, nothing starts).
/// P1/J3: starts on EV1 alone. JD: in P1 and P2, waits for EV1 and EV2.
pub const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "J1"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P1"
name = "J3"
comment = "J3"
start = { message_only = {} }
messages = { events = ["EV1"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P1"
name = "JD"
comment = "JD"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P2"
name = "J2"
comment = "J2"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P2"
name = "JD"
comment = "JD"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"
"#;

pub const ADMIN: &str = "admin1";
pub const ADMIN_PW: &str = "Aa#12345";
pub const ACCOUNT: &str = "batch01";

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339").to_utc()
}

pub fn basic(user_password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
}

/// A running server and everything a test looks at.
pub struct Server {
    pub url: String,
    pub http: reqwest::Client,
    pub auth: AuthStore,
    pub clock: Arc<ManualClock>,
    pub store: Arc<SqliteStore>,
    pub handle: Handle,
    pub audit: Arc<Mutex<Vec<AuditRecord>>>,
    pub config: ApiConfig,
    pub client_id: String,
    pub secret: String,
    pub dir: tempfile::TempDir,
    cached: tokio::sync::OnceCell<String>,
}

/// A response: status, headers, body text.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Status and `{"code","message"}` of an error.
    pub fn error(&self) -> (u16, String, String) {
        let v = self.json();
        (self.status, v["code"].as_str().unwrap_or("").into(), v["message"].as_str().unwrap_or("").into())
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.error(), (status, code.to_string(), message.to_string()), "body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/json;charset=UTF-8"));
    }

    #[track_caller]
    pub fn assert_code(&self, status: u16, code: &str) {
        let (s, c, _) = self.error();
        assert_eq!((s, c.as_str()), (status, code), "body: {}", self.text);
    }

    #[track_caller]
    pub fn assert_ok_envelope(&self) {
        assert_eq!((self.status, self.text.as_str()), (200, r#"{"next":false,"total":0,"data":[]}"#));
        assert_eq!(self.header("content-type"), Some("application/json;charset=UTF-8"));
    }
}

/// Start a server whose API clock shows `now` (the scheduler runs on the system clock).
pub async fn start_at(now: DateTime<Utc>) -> Server {
    start_with(DEFS, now).await
}

/// Start a server over these definitions.
pub async fn start_with(defs: &str, now: DateTime<Utc>) -> Server {
    start_seeded(defs, now, &[]).await
}

/// Start a server over these definitions whose journal already holds `seed`
/// (events with seq 1, 2, … written before the scheduler opens the store:
/// past runs with chosen times).
pub async fn start_seeded(defs: &str, now: DateTime<Utc>, seed: &[Event]) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cat = Catalog::new();
    cat.add_text("defs.toml", defs);
    let env = Arc::new(cat.compile().expect("valid definitions"));
    let store = Arc::new(SqliteStore::open(dir.path().join("woi.db")).expect("woi.db"));
    let files = [woi_core::store::DefinitionFile { name: "defs.toml".into(), text: defs.into() }];
    store.set_definitions(&files).await.expect("store definitions");
    store.append_events(seed).await.expect("seed journal");
    let (rt, _) = Runtime::open(env, store.clone(), Arc::new(ProcessExecutor::default()), Arc::new(SystemClock))
        .await
        .expect("runtime");
    let handle = rt.handle();
    tokio::spawn(rt.run());

    let auth = AuthStore::open(dir.path().join("auth.db")).expect("auth.db");
    auth.add_user(ADMIN, ADMIN_PW, true, now).expect("admin user");
    auth.create_account(ACCOUNT, now).expect("account");
    let new = auth.regenerate_secret(ACCOUNT, 1, now).expect("secret");

    let clock = Arc::new(ManualClock::new(now));
    let config = ApiConfig {
        tenant_id: "t9".into(),
        environment_id: "envA".into(),
        public_host: "h".into(),
        ..ApiConfig::default()
    };
    let audit = Arc::new(Mutex::new(Vec::new()));
    let sink = audit.clone();
    let state = AppState::new(handle.clone(), auth.clone(), clock.clone(), config.clone())
        .expect("state")
        .with_store(store.clone())
        .with_audit(Arc::new(move |r: &AuditRecord| sink.lock().expect("audit").push(r.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(woi_server::serve(listener, state, std::future::pending()));
    Server {
        url,
        http: reqwest::Client::new(),
        auth,
        clock,
        store,
        handle,
        audit,
        config,
        client_id: new.client_id,
        secret: new.secret,
        dir,
        cached: tokio::sync::OnceCell::new(),
    }
}

pub async fn start() -> Server {
    start_at(Utc::now()).await
}

impl Server {
    /// The API clock's time.
    pub fn clock_at(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The API clock's time in seconds.
    pub fn clock_now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    pub fn base(&self) -> String {
        format!("{}/t9/envA/api", self.url)
    }

    pub fn scope(&self) -> &'static str {
        "https://h/t9/envA/api/.default"
    }

    /// POST to the token endpoint with form fields (sent as given, in order).
    pub async fn token_request(&self, fields: &[(&str, &str)]) -> Reply {
        let body: String = form_body(fields);
        let r = self
            .http
            .post(format!("{}/t9/oauth2/v2.0/token", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("send");
        reply(r).await
    }

    /// A token for `client_id` with `secret`; panics unless 200.
    pub async fn token_for(&self, client_id: &str, secret: &str) -> String {
        let r = self
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", self.scope()),
            ])
            .await;
        assert_eq!(r.status, 200, "token: {}", r.text);
        r.json()["access_token"].as_str().expect("access_token").to_string()
    }

    /// A token of the test account (fetched once per server).
    pub async fn token(&self) -> String {
        self.cached.get_or_init(|| self.token_for(&self.client_id, &self.secret)).await.clone()
    }

    /// Send `method path` with these headers and body (a `None` body sends none).
    pub async fn send(&self, method: &str, url: &str, headers: &[(&str, String)], body: Option<&[u8]>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        if let Some(b) = body {
            req = req.body(b.to_vec());
        }
        reply(req.send().await.expect("send")).await
    }

    /// Headers for an admin call with a fresh token.
    pub async fn admin_headers(&self) -> Vec<(&'static str, String)> {
        self.user_headers(&format!("{ADMIN}:{ADMIN_PW}")).await
    }

    pub async fn user_headers(&self, user_password: &str) -> Vec<(&'static str, String)> {
        vec![
            ("authorization", format!("Bearer {}", self.token().await)),
            ("x-fjwoi-authorization", basic(user_password)),
            ("content-type", "application/json".to_string()),
        ]
    }

    /// POST `{base}/v1/<resource>` as the admin with a JSON body.
    pub async fn post(&self, resource: &str, body: &str) -> Reply {
        let h = self.admin_headers().await;
        self.send("POST", &format!("{}/v1/{resource}", self.base()), &h, Some(body.as_bytes())).await
    }

    pub async fn post_as(&self, user_password: &str, resource: &str, body: &str) -> Reply {
        let h = self.user_headers(user_password).await;
        self.send("POST", &format!("{}/v1/{resource}", self.base()), &h, Some(body.as_bytes())).await
    }

    /// `method {base}/v1/<path>` as `user_password` with an optional JSON body.
    pub async fn call_as(&self, user_password: &str, method: &str, path: &str, body: Option<&str>) -> Reply {
        let h = self.user_headers(user_password).await;
        self.send(method, &format!("{}/v1/{path}", self.base()), &h, body.map(str::as_bytes)).await
    }

    /// `method {base}/v1/<path>` as the admin.
    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        self.call_as(&format!("{ADMIN}:{ADMIN_PW}"), method, path, body).await
    }

    /// `method {admin}/<path>` with the admin's Basic credentials.
    pub async fn admin_api(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let h = vec![
            ("authorization", basic(&format!("{ADMIN}:{ADMIN_PW}"))),
            ("content-type", "application/json".to_string()),
        ];
        self.send(method, &format!("{}/t9/envA/admin/v1/{path}", self.url), &h, body.map(str::as_bytes)).await
    }

    /// Add a general user with these rights (`(project, right)`).
    pub fn user_with(&self, name: &str, password: &str, rights: &[(&str, woi_adapters::auth::Right)]) {
        self.auth.add_user(name, password, false, self.clock_at()).expect("user");
        for (p, r) in rights {
            self.auth.grant(name, p, Some(*r)).expect("grant");
        }
    }

    /// Wait (at most 20 s) until `GET {base}/v1/<path>` as admin satisfies `pred`.
    pub async fn poll_until(&self, path: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let r = self.call("GET", path, None).await;
            if r.status == 200 && pred(&r.json()) {
                return r.json();
            }
            assert!(std::time::Instant::now() < deadline, "timed out polling {path}: {}", r.text);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn journal(&self) -> Vec<Event> {
        self.store.events_after(0).await.expect("journal")
    }

    /// `(project/jobnet, count)` of every counted occurrence of `event`.
    pub async fn counted(&self, event: &str) -> Vec<(String, u16)> {
        self.journal()
            .await
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::MessageEvent { jobnet, event: ev, counted: true, count, .. } if &*ev == event => {
                    Some((jobnet.to_string(), count))
                }
                _ => None,
            })
            .collect()
    }

    /// Every log message about `jobnet` (`P/J`), in journal order.
    pub async fn logs(&self, jobnet: &str) -> Vec<String> {
        self.journal()
            .await
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Log { jobnet: j, message, .. } if j.to_string() == jobnet => Some(message),
                _ => None,
            })
            .collect()
    }

    /// Wait (at most 20 s) until the journal holds an event for which `pred` holds.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&EventKind) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if self.journal().await.iter().any(|e| pred(&e.kind)) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Wait until run `run` of `jobnet` has ended.
    pub async fn wait_ended(&self, jobnet: &str, run: u32) {
        self.wait_for(&format!("{jobnet} run {run} to end"), |k| {
            matches!(k, EventKind::JobnetStatus { jobnet: j, run: r, status, .. }
                if j.to_string() == jobnet && *r == run && status.is_ended())
        })
        .await;
    }

    /// Runs of `jobnet` that started.
    pub async fn starts(&self, jobnet: &str) -> usize {
        self.journal()
            .await
            .iter()
            .filter(|e| {
                matches!(&e.kind, EventKind::JobnetStatus { jobnet: j, status: woi_core::JobnetStatus::Executing, .. }
                if j.to_string() == jobnet)
            })
            .count()
    }

    /// Jobnets whose counts were cleared, in journal order.
    pub async fn cleared(&self) -> Vec<String> {
        self.journal()
            .await
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::MessageCountsCleared { jobnet } => Some(jobnet.to_string()),
                _ => None,
            })
            .collect()
    }

    /// A snapshot of everything a refused request must leave alone.
    pub async fn snapshot(&self) -> String {
        let journal = serde_json::to_string(&self.journal().await).expect("journal json");
        let users = self.auth.users().expect("users");
        let accounts = self.auth.accounts().expect("accounts");
        format!("{journal}\n{users:?}\n{accounts:?}")
    }
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

pub async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    Reply { status, headers, text }
}

impl Server {
    /// Restart `woi serve` on the same data directory: the scheduler stops,
    /// a new one opens the same journal (crash recovery included), and a new
    /// server (new port) serves it with the same accounts store. The API
    /// clock shows `now`.
    pub async fn restart(self, now: DateTime<Utc>) -> Server {
        let _ = self.handle.shutdown().await;
        let files = self.store.definitions().await.expect("definitions");
        let mut cat = Catalog::new();
        for f in &files {
            cat.add_text(&f.name, &f.text);
        }
        let env = Arc::new(cat.compile().expect("valid definitions"));
        let store = Arc::new(SqliteStore::open(self.dir.path().join("woi.db")).expect("woi.db"));
        let (rt, _) = Runtime::open(env, store.clone(), Arc::new(ProcessExecutor::default()), Arc::new(SystemClock))
            .await
            .expect("runtime");
        let handle = rt.handle();
        tokio::spawn(rt.run());
        let auth = AuthStore::open(self.dir.path().join("auth.db")).expect("auth.db");
        let clock = Arc::new(ManualClock::new(now));
        let audit = Arc::new(Mutex::new(Vec::new()));
        let sink = audit.clone();
        let state = AppState::new(handle.clone(), auth.clone(), clock.clone(), self.config.clone())
            .expect("state")
            .with_store(store.clone())
            .with_audit(Arc::new(move |r: &AuditRecord| sink.lock().expect("audit").push(r.clone())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(woi_server::serve(listener, state, std::future::pending()));
        Server {
            url,
            http: reqwest::Client::new(),
            auth,
            clock,
            store,
            handle,
            audit,
            config: self.config,
            client_id: self.client_id,
            secret: self.secret,
            dir: self.dir,
            cached: tokio::sync::OnceCell::new(),
        }
    }
}
