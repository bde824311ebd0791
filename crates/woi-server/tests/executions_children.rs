//! Child jobnet executions in the executions API (spec 04 §2.6, §3.8,
//! behavior WAPI-137), over real HTTP on loopback: a parent whose jobnet
//! icon runs a child jobnet; the child's runs are listed only with
//! `includeChildren=true`, each with its parent's execution id.

mod support;

use serde_json::{Value, json};
use support::{Server, start_with};

const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "PARENT"
comment = "parent"
[[jobnet.job]]
number = 1
command = "true"
[[jobnet.job]]
number = 2
kind = "child_jobnet"
jobnet = "CHILD"
after = [1]

[[jobnet]]
project = "P1"
name = "CHILD"
comment = "child"
start = "none"
[[jobnet.job]]
number = 1
command = "true"
"#;

async fn server() -> Server {
    start_with(DEFS, chrono::Utc::now()).await
}

fn by_name<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    v["data"].as_array().expect("data").iter().filter(|e| e["jobnetName"] == json!(name)).collect()
}

/// Start PARENT through the API and wait for its run `run` to end.
async fn run_parent(s: &Server, run: u32) -> String {
    let r = s.call("POST", "projects/P1/jobnets/PARENT/actions/start", None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let key = r.json()["data"][0]["key"].as_str().expect("key").to_string();
    let op = s.call("GET", &format!("operations/{key}?wait=30"), None).await.json();
    assert_eq!(op["data"][0]["state"], json!("NORMAL"), "{op}");
    s.wait_ended("P1/CHILD", run).await;
    op["data"][0]["executionId"].as_str().expect("executionId").to_string()
}

// WAPI-137
#[tokio::test]
async fn wapi_137_child_executions_only_with_include_children_and_with_their_parent() {
    let s = server().await;
    let first = run_parent(&s, 1).await;
    let second = run_parent(&s, 2).await;

    // Default: only the parent's runs.
    let v = s.call("GET", "executions/jobnets", None).await.json();
    assert_eq!(v["total"], json!(2), "{v}");
    assert!(by_name(&v, "CHILD").is_empty(), "{v}");
    let v = s.call("GET", "executions/jobnets?includeChildren=false", None).await.json();
    assert_eq!(v["total"], json!(2), "{v}");

    // includeChildren=true: the child runs too, each under the parent run that ran it.
    let v = s.call("GET", "executions/jobnets?includeChildren=true", None).await.json();
    assert_eq!(v["total"], json!(4), "{v}");
    let children = by_name(&v, "CHILD");
    assert_eq!(children.len(), 2, "{v}");
    // Newest first: the second child run belongs to the second parent run.
    assert_eq!(children[0]["parentExecutionId"], json!(second));
    assert_eq!(children[1]["parentExecutionId"], json!(first));
    for c in &children {
        assert_eq!(c["triggeredBy"]["kind"], json!("parent"));
        assert_eq!(c["status"], json!("ended_normally"));
    }
    for p in by_name(&v, "PARENT") {
        assert_eq!(p["parentExecutionId"], Value::Null);
    }

    // A child run read by its id shows the parent too.
    let id = children[0]["id"].as_str().expect("id");
    let one = s.call("GET", &format!("executions/jobnets/{id}"), None).await.json();
    assert_eq!(one["data"][0]["parentExecutionId"], json!(second));

    // An operator start of the child itself is a top-level run: listed by default, no parent.
    let r = s.call("POST", "projects/P1/jobnets/CHILD/actions/start", None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    s.wait_ended("P1/CHILD", 3).await;
    let v = s.call("GET", "executions/jobnets", None).await.json();
    let own = by_name(&v, "CHILD");
    assert_eq!(own.len(), 1, "{v}");
    assert_eq!(own[0]["parentExecutionId"], Value::Null);
    // The earlier child runs keep their parents.
    let v = s.call("GET", "executions/jobnets?includeChildren=true&jobnets=CHILD", None).await.json();
    let parents: Vec<Value> = by_name(&v, "CHILD").iter().map(|c| c["parentExecutionId"].clone()).collect();
    assert_eq!(parents, [Value::Null, json!(second), json!(first)], "{v}");
}
