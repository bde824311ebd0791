// Web API msgevent throughput: the real server (router, token check, X-FJWOI
// authentication, the scheduler runtime, the SQLite journal in a temporary
// directory) on loopback, driven by N concurrent HTTP clients sending a fixed
// number of `POST {base}/v1/msgevent` requests. Prints accepted requests/s and
// the p50/p99 latency, then checks in the journal that every accepted event
// was recorded exactly once for the waiting jobnet.
//
// `cargo bench -p woi-server --bench msgevent -- [--clients N] [--requests M]`
// (defaults 16 clients, 2,000 requests). Target: ≥ 2,000 req/s, p99 < 20 ms on 2 cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use woi_adapters::auth::AuthStore;
use woi_adapters::process::ProcessExecutor;
use woi_adapters::runtime::{Runtime, SystemClock};
use woi_adapters::sqlite::SqliteStore;
use woi_core::store::{DefinitionFile, Store};
use woi_core::{Catalog, EventKind};
use woi_server::{ApiConfig, AppState};

/// P1/J1 waits for EV1 and EV2: EV1 alone is received (counted up to 255,
/// then recorded as not counted) and never starts a run, so every raise
/// leaves exactly one `MessageEvent` record for P1/J1.
const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "bench"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"
"#;

const USER: &str = "bench1";
const PASSWORD: &str = "Aa#12345";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a tiny smoke pass.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let clients = arg("--clients", if smoke { 2 } else { 16 }).max(1);
    let requests = arg("--requests", if smoke { 20 } else { 2000 });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(run(clients, requests))
}

async fn run(clients: usize, requests: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut cat = Catalog::new();
    cat.add_text("defs.toml", DEFS);
    let env = Arc::new(cat.compile().map_err(|d| format!("definitions: {d:?}"))?);
    let store = Arc::new(SqliteStore::open(dir.path().join("woi.db"))?);
    store.set_definitions(&[DefinitionFile { name: "defs.toml".into(), text: DEFS.into() }]).await?;
    let (runtime, _) =
        Runtime::open(env, store.clone(), Arc::new(ProcessExecutor::default()), Arc::new(SystemClock)).await?;
    let handle = runtime.handle();
    let scheduler = tokio::spawn(runtime.run());

    let now = Utc::now();
    let auth = AuthStore::open(dir.path().join("auth.db"))?;
    auth.add_user(USER, PASSWORD, false, now)?;
    auth.create_account("bench", now)?;
    let secret = auth.regenerate_secret("bench", 1, now)?;
    let config = ApiConfig {
        tenant_id: "t9".into(),
        environment_id: "envA".into(),
        public_host: "h".into(),
        ..ApiConfig::default()
    };
    // What every request pays before it reaches the scheduler: one password verification.
    let probe = auth.clone();
    let verify = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        for _ in 0..5 {
            let _ = probe.authenticate(USER, PASSWORD);
        }
        t.elapsed() / 5
    })
    .await?;
    println!("X-FJWOI password verification (AuthStore::authenticate): {:.1} ms each", verify.as_secs_f64() * 1e3);
    let state = AppState::new(handle.clone(), auth, Arc::new(SystemClock), config)?.with_store(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(woi_server::serve(listener, state, std::future::pending()));

    let http = reqwest::Client::new();
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &secret.client_id)
        .append_pair("client_secret", &secret.secret)
        .append_pair("scope", "https://h/t9/envA/api/.default")
        .finish();
    let token: serde_json::Value = http
        .post(format!("{url}/t9/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await?
        .json()
        .await?;
    let bearer = format!("Bearer {}", token["access_token"].as_str().ok_or("no access_token")?);
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")));
    let endpoint = format!("{url}/t9/envA/api/v1/msgevent");
    let body = r#"{"messagename":"EV1","projectname":"P1","jobnetname":"J1"}"#;

    let send = {
        let (http, endpoint, bearer, basic) = (http.clone(), endpoint.clone(), bearer.clone(), basic.clone());
        move || {
            http.post(&endpoint)
                .header("authorization", &bearer)
                .header("x-fjwoi-authorization", &basic)
                .header("content-type", "application/json")
                .body(body)
                .send()
        }
    };
    // Warm-up (connection, caches): one request, counted in the journal check.
    let warm = send().await?.status();
    if !warm.is_success() {
        return Err(format!("warm-up msgevent answered {warm}").into());
    }

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, send) = (next.clone(), send.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let t = Instant::now();
                let ok = match send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    lat.push(t.elapsed());
                } else {
                    failed += 1;
                }
            }
            (lat, failed)
        }));
    }
    let (mut latencies, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| -> Duration {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies.get(i).copied().unwrap_or_default()
    };
    let accepted = latencies.len();
    println!(
        "msgevent: {clients} clients, {requests} requests: {accepted} accepted, {failed} failed in {:.2} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  {:.0} accepted req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        accepted as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );

    // Exactly once: one MessageEvent record for P1/J1 per accepted request (+ the warm-up).
    let recorded = store
        .events_after(0)
        .await?
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::MessageEvent { jobnet, event, .. }
                if jobnet.to_string() == "P1/J1" && &**event == "EV1")
        })
        .count();
    println!("  journal: {recorded} EV1 receptions recorded for P1/J1, expected {}", accepted + 1);
    handle.shutdown().await?;
    scheduler.await??;
    if recorded != accepted + 1 {
        return Err(format!("{recorded} receptions recorded for {} accepted requests", accepted + 1).into());
    }
    Ok(())
}
