//! Asynchronous operations survive a restart of the server (spec 04 §3.9:
//! 7-day retention), over real HTTP on loopback: operations are kept in the
//! accounts database, an operation still running when the server stopped is
//! completed honestly (`ERROR`, with a message), and the runs the Web API
//! started keep their `triggeredBy.user` and `vparam`.

mod support;

use serde_json::{Value, json};
use support::{Server, start_with};
use woi_adapters::auth::Right;

const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "JQ"
comment = "quick"
start = { message_only = {} }
messages = { events = ["EVQ"] }
[[jobnet.job]]
number = 1
command = "echo @.VPARAM@"

[[jobnet]]
project = "P1"
name = "JS"
comment = "slow"
[[jobnet.job]]
number = 1
command = "sleep 120"
"#;

const OP: &str = "op1:Oo#12345";

async fn server() -> Server {
    let s = start_with(DEFS, chrono::Utc::now()).await;
    s.user_with("op1", "Oo#12345", &[("P1", Right::Operation)]);
    s
}

async fn submit(s: &Server, jobnet: &str, action: &str, body: Option<&str>) -> String {
    let r = s.call_as(OP, "POST", &format!("projects/P1/jobnets/{jobnet}/actions/{action}"), body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.json()["data"][0]["key"].as_str().expect("key").to_string()
}

async fn get(s: &Server, key: &str) -> (u16, Value) {
    let r = s.call_as(OP, "GET", &format!("operations/{key}"), None).await;
    (r.status, r.json())
}

#[tokio::test]
async fn operations_survive_a_restart_and_a_running_one_is_resolved() {
    let s = server().await;
    let t0 = s.clock_at();
    let done = submit(&s, "JQ", "start-vparam", Some(r#"{"vparam":"V1"}"#)).await;
    let r = s.call_as(OP, "GET", &format!("operations/{done}?wait=30"), None).await;
    let before = r.json()["data"][0].clone();
    assert_eq!(before["state"], json!("NORMAL"), "{}", r.text);
    let exec = before["executionId"].as_str().expect("executionId").to_string();
    let running = submit(&s, "JS", "start", None).await;
    s.poll_until("executions/jobnets?jobnets=JS", |v| v["total"] == json!(1)).await;
    let (_, v) = get(&s, &running).await;
    assert_eq!(v["data"][0]["status"], json!("running"));

    let s = s.restart(t0 + chrono::TimeDelta::hours(1)).await;

    // The completed operation is as it was.
    let (status, v) = get(&s, &done).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"][0], before);
    // The running one could not be followed across the restart: completed, ERROR, and why.
    let (status, v) = get(&s, &running).await;
    assert_eq!(status, 200, "{v}");
    let op = &v["data"][0];
    assert_eq!((op["status"].clone(), op["state"].clone()), (json!("completed"), json!("ERROR")), "{v}");
    assert_eq!(op["message"], json!(woi_server::operations::INTERRUPTED));
    assert_eq!(op["completedAt"], json!((t0 + chrono::TimeDelta::hours(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    assert!(op["executionId"].as_str().is_some_and(|e| e.starts_with("jne-")), "{v}");
    // A long poll returns at once; the list shows both, newest first.
    let r = s.call_as(OP, "GET", &format!("operations/{running}?wait=5"), None).await;
    assert_eq!(r.json()["data"][0]["state"], json!("ERROR"));
    let list = s.call_as(OP, "GET", "operations", None).await.json();
    let keys: Vec<&str> = list["data"].as_array().expect("data").iter().filter_map(|o| o["key"].as_str()).collect();
    assert_eq!(keys, [running.as_str(), done.as_str()]);
    // The run it started still says who started it, with which vparam.
    let e = s.call("GET", &format!("executions/jobnets/{exec}"), None).await.json();
    assert_eq!(e["data"][0]["triggeredBy"], json!({"kind":"webapi","user":"op1","messageName":null}));
    assert_eq!(e["data"][0]["vparam"], json!("V1"));

    // Eight days later (retention 7), after another restart, both are gone.
    let s = s.restart(t0 + chrono::TimeDelta::days(8) + chrono::TimeDelta::hours(2)).await;
    assert_eq!(get(&s, &done).await.0, 404);
    let r = s.call_as(OP, "GET", &format!("operations/{running}"), None).await;
    r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    assert_eq!(s.call_as(OP, "GET", "operations", None).await.json()["total"], json!(0));
}
