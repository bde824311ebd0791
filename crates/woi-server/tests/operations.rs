//! Asynchronous operations over real HTTP on loopback (spec 04 §3.9,
//! behaviors §4.9): 202 + operation, polling and long polling, state
//! preconditions, rights, synchronous actions and the operations list.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, basic, start_with};
use woi_adapters::auth::Right;
use woi_core::JobnetKey;

const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "two-seconds"
[[jobnet.job]]
number = 1
command = "sleep 2"

[[jobnet]]
project = "P1"
name = "JE"
comment = "fails"
[[jobnet.job]]
number = 1
command = "sh -c 'exit 1'"

[[jobnet]]
project = "P1"
name = "JS"
comment = "slow"
[[jobnet.job]]
number = 1
command = "sleep 120"

[[jobnet]]
project = "P1"
name = "JQ"
comment = "quick"
[[jobnet.job]]
number = 1
command = "true"
"#;

async fn server() -> Server {
    start_with(DEFS, chrono::Utc::now()).await
}

const OP: &str = "op1:Oo#12345";

fn with_operator(s: &Server) {
    s.user_with("op1", "Oo#12345", &[("P1", Right::Operation)]);
}

async fn action(s: &Server, who: &str, jobnet: &str, a: &str, body: Option<&str>) -> support::Reply {
    s.call_as(who, "POST", &format!("projects/P1/jobnets/{jobnet}/actions/{a}"), body).await
}

fn key_of(r: &support::Reply) -> String {
    r.json()["data"][0]["key"].as_str().expect("key").to_string()
}

// WAPI-138
#[tokio::test]
async fn wapi_138_start_answers_202_with_an_operation_and_location() {
    let s = server().await;
    with_operator(&s);
    let r = action(&s, OP, "J1", "start", None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let v = r.json();
    let op = &v["data"][0];
    let key = op["key"].as_str().expect("key");
    assert_eq!(r.header("location"), Some(format!("/t9/envA/api/v1/operations/{key}").as_str()));
    assert_eq!((v["next"].clone(), v["total"].clone()), (json!(false), json!(1)));
    assert!(["queued", "running"].contains(&op["status"].as_str().unwrap_or("")));
    assert_eq!(op["state"], Value::Null);
    assert_eq!(op["kind"], json!("jobnet.start"));
    assert_eq!(op["submittedBy"], json!("op1"));
    assert_eq!(op["clientId"], json!(s.client_id));
    assert_eq!(op["target"], json!({"projectName":"P1","jobnetName":"J1","jobNumber":null}));
    assert_eq!(op["uri"], json!(format!("/t9/envA/api/v1/operations/{key}")));
}

// WAPI-139
#[tokio::test]
async fn wapi_139_long_poll_returns_when_the_run_ends_normally() {
    let s = server().await;
    with_operator(&s);
    let key = key_of(&action(&s, OP, "J1", "start", None).await);
    let t0 = Instant::now();
    let r = s.call_as(OP, "GET", &format!("operations/{key}?wait=30"), None).await;
    let waited = t0.elapsed();
    let op = &r.json()["data"][0];
    assert_eq!((op["status"].clone(), op["state"].clone()), (json!("completed"), json!("NORMAL")), "{}", r.text);
    assert!(waited >= Duration::from_millis(1000) && waited < Duration::from_secs(15), "{waited:?}");
    let exec = op["executionId"].as_str().expect("executionId");
    let e = s.call("GET", &format!("executions/jobnets/{exec}"), None).await.json();
    assert_eq!(e["data"][0]["status"], json!("ended_normally"));
    assert_eq!(e["data"][0]["triggeredBy"], json!({"kind":"webapi","user":"op1","messageName":null}));
}

// WAPI-140
#[tokio::test]
async fn wapi_140_a_failing_job_ends_the_operation_in_error() {
    let s = server().await;
    with_operator(&s);
    let key = key_of(&action(&s, OP, "JE", "start", None).await);
    let r = s.call_as(OP, "GET", &format!("operations/{key}?wait=30"), None).await;
    let op = &r.json()["data"][0];
    assert_eq!((op["status"].clone(), op["state"].clone()), (json!("completed"), json!("ERROR")), "{}", r.text);
    let exec = op["executionId"].as_str().expect("executionId");
    let e = s.call("GET", &format!("executions/jobnets/{exec}"), None).await.json();
    assert_eq!(e["data"][0]["status"], json!("ended_abnormally"));
}

// WAPI-141
#[tokio::test]
async fn wapi_141_long_poll_times_out_with_the_running_operation() {
    let s = server().await;
    with_operator(&s);
    let key = key_of(&action(&s, OP, "JS", "start", None).await);
    let t0 = Instant::now();
    let r = s.call_as(OP, "GET", &format!("operations/{key}?wait=3"), None).await;
    let waited = t0.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"][0]["status"], json!("running"));
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_secs(10), "{waited:?}");
    // wait=0 is a standard poll.
    let t0 = Instant::now();
    assert_eq!(s.call_as(OP, "GET", &format!("operations/{key}?wait=0"), None).await.status, 200);
    assert!(t0.elapsed() < Duration::from_secs(2));
    s.handle.cancel_jobnet(&JobnetKey::new("P1", "JS")).await.expect("cancel");
}

// WAPI-142
#[tokio::test]
async fn wapi_142_wait_above_60_is_00010() {
    let s = server().await;
    with_operator(&s);
    let key = key_of(&action(&s, OP, "JQ", "start", None).await);
    for w in ["61", "-1", "x"] {
        let r = s.call_as(OP, "GET", &format!("operations/{key}?wait={w}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. wait={w}"));
    }
}

// WAPI-143
#[tokio::test]
async fn wapi_143_start_while_executing_is_01011() {
    let s = server().await;
    with_operator(&s);
    assert_eq!(action(&s, OP, "JS", "start", None).await.status, 202);
    let r = action(&s, OP, "JS", "start", None).await;
    r.assert_error(
        409,
        "OM_API_01011",
        "The operation cannot be performed in the current state. operation=start state=executing",
    );
    s.handle.cancel_jobnet(&JobnetKey::new("P1", "JS")).await.expect("cancel");
}

// WAPI-144
#[tokio::test]
async fn wapi_144_reference_user_cannot_start() {
    let s = server().await;
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    s.user_with("other", "Xx#12345", &[("P2", Right::Update)]);
    let r = action(&s, "ref1:Rr#12345", "JQ", "start", None).await;
    r.assert_error(403, "OM_API_01003", "You do not have permission to perform this operation. operation=start");
    // No right on P1 at all: the jobnet is invisible.
    action(&s, "other:Xx#12345", "JQ", "start", None).await.assert_code(404, "OM_API_00050");
    assert_eq!(s.starts("P1/JQ").await, 0);
}

// WAPI-145
#[tokio::test]
async fn wapi_145_unknown_action_is_404() {
    let s = server().await;
    action(&s, &format!("{}:{}", support::ADMIN, support::ADMIN_PW), "JQ", "explode", None).await.assert_error(
        404,
        "OM_API_00050",
        "The specified resource does not exist.",
    );
}

// WAPI-146
#[tokio::test]
async fn wapi_146_pause_is_synchronous_and_returns_the_status() {
    let s = server().await;
    with_operator(&s);
    let r = action(&s, OP, "JQ", "pause", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["data"][0]["status"], json!("paused"));
    assert_eq!(v["data"][0]["jobnetName"], json!("JQ"));
    let ops = s.call("GET", "operations?allUsers=true", None).await.json();
    assert_eq!(ops["total"], json!(0), "no operation is created");
    let r = action(&s, OP, "JQ", "continue", None).await;
    assert_eq!(r.json()["data"][0]["status"], json!("waiting"));
}

// WAPI-147
#[tokio::test]
async fn wapi_147_confirm_a_normally_ended_jobnet_is_01011() {
    let s = server().await;
    with_operator(&s);
    let key = key_of(&action(&s, OP, "JQ", "start", None).await);
    let r = s.call_as(OP, "GET", &format!("operations/{key}?wait=30"), None).await;
    assert_eq!(r.json()["data"][0]["state"], json!("NORMAL"));
    let r = action(&s, OP, "JQ", "confirm", None).await;
    r.assert_error(
        409,
        "OM_API_01011",
        "The operation cannot be performed in the current state. operation=confirm state=completed",
    );
}

// WAPI-148
#[tokio::test]
async fn wapi_148_general_users_list_their_own_operations_admins_all() {
    let s = server().await;
    s.user_with("userA", "Aa#99999", &[("P1", Right::Operation)]);
    s.user_with("userB", "Bb#99999", &[("P1", Right::Operation)]);
    let k1 = key_of(&action(&s, "userA:Aa#99999", "JQ", "start", None).await);
    s.call_as("userA:Aa#99999", "GET", &format!("operations/{k1}?wait=30"), None).await;
    let k2 = key_of(&action(&s, "userA:Aa#99999", "J1", "start", None).await);
    let k3 = key_of(&action(&s, "userB:Bb#99999", "JE", "start", None).await);
    let v = s.call_as("userA:Aa#99999", "GET", "operations", None).await.json();
    assert_eq!(v["total"], json!(2));
    let keys: Vec<&str> = v["data"].as_array().expect("data").iter().filter_map(|o| o["key"].as_str()).collect();
    assert_eq!(keys, [k2.as_str(), k1.as_str()], "newest first");
    s.call_as("userA:Aa#99999", "GET", "operations?allUsers=true", None).await.assert_error(
        403,
        "OM_API_01003",
        "You do not have permission to perform this operation. operation=operations.list-all",
    );
    let v = s.call("GET", "operations?allUsers=true&users=userB", None).await.json();
    assert_eq!(v["total"], json!(1));
    assert_eq!(v["data"][0]["key"], json!(k3));
    // Someone else's operation is invisible to a general user.
    s.call_as("userA:Aa#99999", "GET", &format!("operations/{k3}"), None).await.assert_code(404, "OM_API_00050");
}

// WAPI-149
#[tokio::test]
async fn wapi_149_completed_operations_expire_after_seven_days() {
    let s = server().await;
    with_operator(&s);
    let key = key_of(&action(&s, OP, "JQ", "start", None).await);
    let r = s.call_as(OP, "GET", &format!("operations/{key}?wait=30"), None).await;
    assert_eq!(r.json()["data"][0]["status"], json!("completed"));
    // The token of the test account would expire with the clock: get a fresh one each time.
    let get = async |s: &Server| {
        let token = s.token_for(&s.client_id, &s.secret).await;
        let h = vec![("authorization", format!("Bearer {token}")), ("x-fjwoi-authorization", basic(OP))];
        s.send("GET", &format!("{}/v1/operations/{key}", s.base()), &h, None).await
    };
    s.clock.set(s.clock_at() + chrono::TimeDelta::days(6));
    assert_eq!(get(&s).await.status, 200);
    s.clock.set(s.clock_at() + chrono::TimeDelta::days(2));
    get(&s).await.assert_code(404, "OM_API_00050");
}

// WAPI-150
#[tokio::test]
async fn wapi_150_start_vparam_validates_the_vparam() {
    let s = server().await;
    with_operator(&s);
    let r = action(&s, OP, "JQ", "start-vparam", Some(r#"{"vparam":"X 1"}"#)).await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. vparam=X 1");
    action(&s, OP, "JQ", "start-vparam", Some("{}")).await.assert_code(400, "OM_API_00011");
    let r = action(&s, OP, "JQ", "start-vparam", Some(r#"{"vparam":"ABC"}"#)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json()["data"][0]["kind"], json!("jobnet.start-vparam"));
    let key = key_of(&r);
    let op = s.call_as(OP, "GET", &format!("operations/{key}?wait=30"), None).await.json();
    let exec = op["data"][0]["executionId"].as_str().expect("executionId").to_string();
    let e = s.call("GET", &format!("executions/jobnets/{exec}"), None).await.json();
    assert_eq!(e["data"][0]["vparam"], json!("ABC"));
}

#[tokio::test]
async fn cancel_action_completes_normal_when_the_run_is_canceled() {
    let s = server().await;
    with_operator(&s);
    assert_eq!(action(&s, OP, "JS", "start", None).await.status, 202);
    s.poll_until("executions/jobnets?jobnets=JS&statuses=executing", |v| v["total"] == json!(1)).await;
    let r = action(&s, OP, "JS", "cancel", None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json()["data"][0]["kind"], json!("jobnet.cancel"));
    let key = key_of(&r);
    let op = s.call_as(OP, "GET", &format!("operations/{key}?wait=30"), None).await.json();
    assert_eq!(op["data"][0]["state"], json!("NORMAL"), "{op}");
}
