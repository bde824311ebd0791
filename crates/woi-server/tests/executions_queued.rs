//! Queued executions in the executions API (spec 04 §2.6, §3.8.5, behaviors
//! WAPI-132 and WAPI-133), over real HTTP on loopback. A jobnet valid during
//! execution queues one more run for each occurrence counted while it runs;
//! each queued run is listed (`status: queued`, `startedAt: null`) and can
//! be deleted before it starts: the occurrence is consumed, the run never
//! starts and stays listed as `canceled`, also after a restart.

mod support;

use serde_json::{Value, json};
use support::{Server, start_with};
use woi_adapters::auth::Right;

fn defs(gate: &std::path::Path) -> String {
    format!(
        r#"
[[jobnet]]
project = "P1"
name = "Q"
comment = "queues"
start = {{ message_only = {{}} }}
messages = {{ events = ["E1"], valid_during_execution = true }}
[[jobnet.job]]
number = 1
command = "sh -c 'while [ ! -e {} ]; do sleep 0.05; done'"
"#,
        gate.display()
    )
}

async fn raise(s: &Server) {
    s.post("msgevent", r#"{"messagename":"E1","projectname":"P1","jobnetname":"Q"}"#).await.assert_ok_envelope();
}

fn queued(v: &Value) -> Vec<Value> {
    v["data"].as_array().expect("data").iter().filter(|e| e["status"] == json!("queued")).cloned().collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

// WAPI-132 WAPI-133
#[tokio::test]
async fn wapi_132_a_queued_execution_deleted_before_it_starts_never_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gate = dir.path().join("gate");
    let s = start_with(&defs(&gate), chrono::Utc::now()).await;

    // The first occurrence starts Q; two more while it runs queue two runs.
    raise(&s).await;
    s.wait_for("Q to start", |k| {
        matches!(k, woi_core::EventKind::JobnetStatus { status: woi_core::JobnetStatus::Executing, .. })
    })
    .await;
    raise(&s).await;
    raise(&s).await;

    let v = s.call("GET", "executions/jobnets?statuses=queued&sortField=createdAt&direction=asc", None).await;
    assert_eq!(v.status, 200, "{}", v.text);
    let v = v.json();
    let q = queued(&v);
    assert_eq!(q.len(), 2, "{v}");
    assert_eq!(v["total"], json!(2), "{v}");
    for e in &q {
        assert_eq!(e["statusCategory"], json!("queued"));
        assert_eq!(e["startedAt"], Value::Null);
        assert!(e["createdAt"].is_string(), "{e}");
        assert_eq!(e["triggeredBy"]["kind"], json!("msgevent"));
        assert_eq!(e["triggeredBy"]["messageName"], json!("E1"));
    }
    let (first, second) = (id(&q[0]), id(&q[1]));
    assert!(first < second, "oldest first: {first} {second}");

    // The category filter finds them too, and a single GET shows one.
    let v = s.call("GET", "executions/jobnets?statuses=QUEUED", None).await.json();
    assert_eq!(queued(&v).len(), 2, "{v}");
    let one = s.call("GET", &format!("executions/jobnets/{first}"), None).await.json();
    assert_eq!(one["data"][0]["status"], json!("queued"), "{one}");

    // A user with only the reference right sees it but may not delete it.
    s.user_with("ref1", "Ref#1234", &[("P1", Right::Reference)]);
    let r = s.call_as("ref1:Ref#1234", "DELETE", &format!("executions/jobnets/{first}"), None).await;
    r.assert_code(403, "OM_API_01003");

    // WAPI-132: deleted before it starts.
    let r = s.call("DELETE", &format!("executions/jobnets/{first}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["data"][0],
        json!({"message": "Deleted Successfully.", "executionId": first, "status": "canceled"})
    );
    let one = s.call("GET", &format!("executions/jobnets/{first}"), None).await.json();
    let e = &one["data"][0];
    assert_eq!(e["status"], json!("canceled"), "{one}");
    assert_eq!(e["statusCategory"], json!("complete"));
    assert_eq!(e["state"], json!("ERROR"));
    assert_eq!(e["startedAt"], Value::Null);
    assert!(e["completedAt"].is_string(), "{e}");
    let v = s.call("GET", "executions/jobnets?statuses=queued", None).await.json();
    assert_eq!(queued(&v).iter().map(id).collect::<Vec<_>>(), vec![second.clone()], "{v}");

    // WAPI-133: a deleted (complete) execution cannot be deleted again.
    s.call("DELETE", &format!("executions/jobnets/{first}"), None).await.assert_error(
        409,
        "OM_API_01010",
        "The execution is not in 'queued' or 'running' state.",
    );

    // Let the runs go: the remaining queued run starts once, the deleted never.
    std::fs::write(&gate, b"").expect("gate");
    s.wait_ended("P1/Q", 2).await;
    assert_eq!(s.starts("P1/Q").await, 2);
    let v = s.call("GET", "executions/jobnets", None).await.json();
    assert!(queued(&v).is_empty(), "{v}");
    assert_eq!(v["total"], json!(3), "two runs and the deleted one: {v}");
    // The id the second run had while queued now finds the run it became.
    let became = s.call("GET", &format!("executions/jobnets/{second}?includeMessages=false"), None).await.json();
    let e = &became["data"][0];
    assert_eq!(e["status"], json!("ended_normally"), "{became}");
    assert!(e["startedAt"].is_string(), "{e}");
    assert_eq!(e["triggeredBy"]["kind"], json!("msgevent"));

    // The journal says the same after a restart.
    let s = s.restart(chrono::Utc::now()).await;
    let one = s.call("GET", &format!("executions/jobnets/{first}"), None).await.json();
    assert_eq!(one["data"][0]["status"], json!("canceled"), "{one}");
    assert_eq!(one["data"][0]["startedAt"], Value::Null);
    assert_eq!(s.starts("P1/Q").await, 2);
}

// WAPI-131 WAPI-132: DELETE of the running execution is still a cancel, and
// a cancelled run does not start the run queued behind it.
#[tokio::test]
async fn wapi_132_delete_of_the_running_execution_cancels_it_and_its_queue_does_not_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gate = dir.path().join("gate");
    let s = start_with(&defs(&gate), chrono::Utc::now()).await;
    raise(&s).await;
    let v = s.poll_until("executions/jobnets", |v| v["data"].as_array().is_some_and(|a| a.len() == 1)).await;
    assert!(queued(&v).is_empty(), "{v}");
    let running = id(&v["data"][0]);
    raise(&s).await;
    let v = s.call("GET", "executions/jobnets", None).await.json();
    assert_eq!(queued(&v).len(), 1, "{v}");

    let r = s.call("DELETE", &format!("executions/jobnets/{running}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["data"][0]["message"], json!("Cancelled Successfully."));
    s.wait_ended("P1/Q", 1).await;
    assert_eq!(s.starts("P1/Q").await, 1);
    let path = format!("executions/jobnets/{running}");
    let v = s.poll_until(&path, |v| v["data"][0]["status"] == json!("canceled")).await;
    assert_eq!(v["data"][0]["state"], json!("ERROR"));
    let v = s.call("GET", "executions/jobnets", None).await.json();
    assert!(queued(&v).is_empty(), "{v}");
    assert_eq!(v["total"], json!(1), "{v}");
}
