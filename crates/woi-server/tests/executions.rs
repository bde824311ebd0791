//! The executions API over real HTTP on loopback (spec 04 §3.8, behaviors
//! §4.8): lists with filters, sort and paging, one execution with its jobs
//! and messages, raw output, DELETE = cancel, and visibility by project
//! rights. Past runs with chosen times are seeded into the journal before
//! the scheduler opens it; live runs use real processes.

mod support;

use serde_json::{Value, json};
use support::{Server, at, start_seeded};
use woi_adapters::auth::Right;
use woi_core::{Event, EventKind, JobnetKey, JobnetStatus};

const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "first"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P1"
name = "AJ"
comment = "alpha"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P1"
name = "JF"
comment = "fails"
[[jobnet.job]]
number = 1
command = "sh -c 'echo boom >&2; exit 3'"

[[jobnet]]
project = "P1"
name = "JS"
comment = "slow"
[[jobnet.job]]
number = 1
command = "sleep 120"

[[jobnet]]
project = "P2"
name = "J2"
comment = "other"
[[jobnet.job]]
number = 1
command = "true"
"#;

/// A past run: `(project, jobnet, run, status, started, ended)`.
type Run<'a> = (&'a str, &'a str, u32, JobnetStatus, &'a str, &'a str);

fn seed(runs: &[Run<'_>]) -> Vec<Event> {
    let mut events = Vec::new();
    for (p, j, run, status, started, ended) in runs {
        let jobnet = JobnetKey::new(p, j);
        let seq = events.len() as u64 + 1;
        let kind = EventKind::JobnetStatus {
            jobnet: jobnet.clone(),
            run: *run,
            status: JobnetStatus::Executing,
            exit_code: None,
        };
        events.push(Event { seq, at: at(started), kind });
        let code = if *status == JobnetStatus::Completed { 0 } else { 1 };
        let kind = EventKind::JobnetStatus { jobnet, run: *run, status: *status, exit_code: Some(code) };
        events.push(Event { seq: seq + 1, at: at(ended), kind });
    }
    events
}

/// 7 completed runs of P1/J1 at t1 < … < t7 (one a day from 2025-03-01, 1 h 2 m 3 s each).
fn seven() -> Vec<Event> {
    let times: Vec<(String, String)> =
        (1..=7).map(|d| (format!("2025-03-0{d}T09:00:00Z"), format!("2025-03-0{d}T10:02:03Z"))).collect();
    let runs: Vec<Run<'_>> = times
        .iter()
        .enumerate()
        .map(|(i, (s, e))| ("P1", "J1", i as u32 + 1, JobnetStatus::Completed, s.as_str(), e.as_str()))
        .collect();
    seed(&runs)
}

async fn server(seeded: &[Event]) -> Server {
    start_seeded(DEFS, at("2025-03-20T00:00:00Z"), seeded).await
}

fn ids(v: &Value) -> Vec<String> {
    v["data"].as_array().expect("data").iter().map(|e| e["id"].as_str().expect("id").to_string()).collect()
}

/// The id of the jobnet run started by journal seq `seq`.
fn jne(seq: u64) -> String {
    format!("jne-{seq:06}")
}

// WAPI-119
#[tokio::test]
async fn wapi_119_list_paging_middle_page_newest_first() {
    let s = server(&seven()).await;
    let r = s.call("GET", "executions/jobnets?projects=P1&limit=3&offset=3", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    // Runs t1..t7 started at seq 1, 3, …, 13: t4, t3, t2 are seq 7, 5, 3.
    assert_eq!(ids(&v), [jne(7), jne(5), jne(3)]);
    assert_eq!((v["total"].clone(), v["next"].clone()), (json!(7), json!(true)));
    assert_eq!(
        v["pagination"],
        json!({"currentPage":2,"pageSize":3,"totalItems":7,"totalPages":3,"hasNextPage":true,"hasPreviousPage":true})
    );
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"));
}

// WAPI-120
#[tokio::test]
async fn wapi_120_list_paging_last_page() {
    let s = server(&seven()).await;
    let v = s.call("GET", "executions/jobnets?projects=P1&offset=6&limit=3", None).await.json();
    assert_eq!(ids(&v), [jne(1)]);
    assert_eq!(v["next"], json!(false));
    assert_eq!(v["pagination"]["currentPage"], json!(3));
    assert_eq!(v["pagination"]["hasNextPage"], json!(false));
}

// WAPI-121
#[tokio::test]
async fn wapi_121_empty_list_has_the_full_pagination_object() {
    let s = server(&[]).await;
    let r = s.call("GET", "executions/jobnets", None).await;
    assert_eq!(
        r.json(),
        json!({"next":false,"total":0,"data":[],"pagination":{"currentPage":1,"pageSize":50,"totalItems":0,
            "totalPages":0,"hasNextPage":false,"hasPreviousPage":false}})
    );
    // Key order as the spec prints it.
    assert!(r.text.starts_with(r#"{"next":false,"total":0,"data":[],"pagination":{"currentPage":1"#), "{}", r.text);
}

// WAPI-122
#[tokio::test]
async fn wapi_122_bad_offset_or_limit_is_00010() {
    let s = server(&[]).await;
    for (q, param) in
        [("limit=0", "limit=0"), ("limit=1001", "limit=1001"), ("offset=-1", "offset=-1"), ("limit=abc", "limit=abc")]
    {
        let r = s.call("GET", &format!("executions/jobnets?{q}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {param}"));
    }
    assert_eq!(s.call("GET", "executions/jobnets?limit=1000", None).await.status, 200);
}

// WAPI-123
#[tokio::test]
async fn wapi_123_sort_field_priority_is_refused_and_name_sort_breaks_ties_by_id_desc() {
    let runs = [
        ("P1", "J1", 1, JobnetStatus::Completed, "2025-03-01T00:00:00Z", "2025-03-01T00:01:00Z"),
        ("P1", "AJ", 1, JobnetStatus::Completed, "2025-03-02T00:00:00Z", "2025-03-02T00:01:00Z"),
        ("P1", "J1", 2, JobnetStatus::Completed, "2025-03-03T00:00:00Z", "2025-03-03T00:01:00Z"),
    ];
    let s = server(&seed(&runs)).await;
    s.call("GET", "executions/jobnets?sortField=Priority", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. sortField=Priority",
    );
    let v = s.call("GET", "executions/jobnets?sortField=jobnetName&direction=asc", None).await.json();
    // AJ (seq 3) first, then the two J1 runs with the higher id first.
    assert_eq!(ids(&v), [jne(3), jne(5), jne(1)]);
    let v = s.call("GET", "executions/jobnets?direction=asc", None).await.json();
    assert_eq!(ids(&v), [jne(1), jne(3), jne(5)], "createdAt ascending");
}

// WAPI-124
#[tokio::test]
async fn wapi_124_completed_before_and_after_are_exclusive_dates() {
    let runs = [
        ("P1", "J1", 1, JobnetStatus::Completed, "2025-03-09T23:00:00Z", "2025-03-09T23:59:59Z"),
        ("P1", "J1", 2, JobnetStatus::Completed, "2025-03-09T23:59:59Z", "2025-03-10T00:00:00Z"),
        ("P1", "J1", 3, JobnetStatus::Completed, "2025-03-10T23:00:00Z", "2025-03-11T00:00:00Z"),
    ];
    let s = server(&seed(&runs)).await;
    let v = s.call("GET", "executions/jobnets?completedBefore=2025-03-10", None).await.json();
    assert_eq!(ids(&v), [jne(1)]);
    let v = s.call("GET", "executions/jobnets?completedAfter=2025-03-10", None).await.json();
    assert_eq!(ids(&v), [jne(5)]);
    // RFC 3339 instants are exclusive too.
    let v = s.call("GET", "executions/jobnets?completedAfter=2025-03-10T00:00:00Z", None).await.json();
    assert_eq!(ids(&v), [jne(5)]);
    s.call("GET", "executions/jobnets?completedBefore=10.03.2025", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. completedBefore=10.03.2025",
    );
}

// WAPI-125
#[tokio::test]
async fn wapi_125_statuses_filter_by_category_or_fine_status() {
    let runs = [
        ("P1", "J1", 1, JobnetStatus::Completed, "2025-03-01T00:00:00Z", "2025-03-01T00:01:00Z"),
        ("P1", "J1", 2, JobnetStatus::Abended, "2025-03-02T00:00:00Z", "2025-03-02T00:01:00Z"),
        ("P1", "J1", 3, JobnetStatus::Cancelled, "2025-03-03T00:00:00Z", "2025-03-03T00:01:00Z"),
    ];
    let s = server(&seed(&runs)).await;
    // A running execution, which `complete` must leave out.
    s.handle.start_jobnet(&JobnetKey::new("P1", "JS"), None).await.expect("start JS");
    s.poll_until("executions/jobnets?statuses=running", |v| v["total"] == json!(1)).await;
    let v = s.call("GET", "executions/jobnets?statuses=complete", None).await.json();
    assert_eq!(ids(&v), [jne(5), jne(3), jne(1)]);
    assert!(v["data"].as_array().expect("data").iter().all(|e| e["statusCategory"] == json!("complete")));
    let v = s.call("GET", "executions/jobnets?statuses=Completed", None).await.json();
    assert_eq!(v["total"], json!(3), "Completed is an alias of complete");
    let v = s.call("GET", "executions/jobnets?statuses=ended_abnormally,canceled", None).await.json();
    let got: Vec<(&str, &str)> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| (e["status"].as_str().unwrap_or(""), e["state"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(got, [("canceled", "ERROR"), ("ended_abnormally", "ERROR")]);
    s.call("GET", "executions/jobnets?statuses=Initializing", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. statuses=Initializing",
    );
    s.handle.cancel_jobnet(&JobnetKey::new("P1", "JS")).await.expect("cancel JS");
}

// WAPI-126
#[tokio::test]
async fn wapi_126_priorities_is_not_supported() {
    let s = server(&[]).await;
    s.call("GET", "executions/jobnets?priorities=High", None).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=priorities",
    );
    s.call("GET", "executions/jobnets?allUsers=true", None).await.assert_code(400, "OM_API_00012");
}

// WAPI-127
#[tokio::test]
async fn wapi_127_repeated_single_valued_parameter_is_00013() {
    let s = server(&[]).await;
    s.call("GET", "executions/jobnets?limit=5&limit=6", None).await.assert_error(
        400,
        "OM_API_00013",
        "The parameter is specified in duplicate. param=limit",
    );
    // List-valued parameters may repeat.
    assert_eq!(s.call("GET", "executions/jobnets?projects=P1&projects=P2", None).await.status, 200);
}

// WAPI-128
#[tokio::test]
async fn wapi_128_reference_user_sees_only_their_projects_and_404_elsewhere() {
    let runs = [
        ("P1", "J1", 1, JobnetStatus::Completed, "2025-03-01T00:00:00Z", "2025-03-01T00:01:00Z"),
        ("P2", "J2", 1, JobnetStatus::Completed, "2025-03-02T00:00:00Z", "2025-03-02T00:01:00Z"),
    ];
    let s = server(&seed(&runs)).await;
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    let v = s.call_as("ref1:Rr#12345", "GET", "executions/jobnets", None).await.json();
    assert_eq!(ids(&v), [jne(1)]);
    assert_eq!(v["total"], json!(1));
    let r = s.call_as("ref1:Rr#12345", "GET", &format!("executions/jobnets/{}", jne(3)), None).await;
    r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    assert_eq!(s.call_as("ref1:Rr#12345", "GET", &format!("executions/jobnets/{}", jne(1)), None).await.status, 200);
    // The admin sees both.
    assert_eq!(s.call("GET", "executions/jobnets", None).await.json()["total"], json!(2));
}

// WAPI-129
#[tokio::test]
async fn wapi_129_single_get_has_jobs_and_messages_unless_excluded() {
    let s = server(&[]).await;
    s.handle.start_jobnet(&JobnetKey::new("P1", "J1"), None).await.expect("start");
    let v = s.poll_until("executions/jobnets?jobnets=J1&statuses=complete", |v| v["total"] == json!(1)).await;
    let id = v["data"][0]["id"].as_str().expect("id").to_string();
    let one = s.call("GET", &format!("executions/jobnets/{id}"), None).await.json();
    let e = &one["data"][0];
    assert_eq!(e["status"], json!("ended_normally"));
    assert_eq!(e["jobnetComment"], json!("first"));
    assert_eq!(e["triggeredBy"]["kind"], json!("operator"));
    assert_eq!(e["jobs"][0]["jobNumber"], json!(1));
    assert_eq!(e["jobs"][0]["status"], json!("ended_normally"));
    assert!(!e["messages"].as_array().expect("messages").is_empty());
    let one = s.call("GET", &format!("executions/jobnets/{id}?includeMessages=false"), None).await.json();
    assert!(one["data"][0].get("messages").is_none());
    assert!(one["data"][0].get("jobs").is_some());
    // List items carry neither.
    assert!(v["data"][0].get("jobs").is_none() && v["data"][0].get("messages").is_none());
}

// WAPI-130
#[tokio::test]
async fn wapi_130_job_output_is_text_plain_and_messages_carry_the_exit_code() {
    let s = server(&[]).await;
    s.handle.start_jobnet(&JobnetKey::new("P1", "JF"), None).await.expect("start");
    let v = s.poll_until("executions/jobs?jobnets=JF&statuses=complete", |v| v["total"] == json!(1)).await;
    let job = &v["data"][0];
    assert_eq!((job["exitCode"].clone(), job["status"].clone()), (json!(3), json!("ended_abnormally")));
    let id = job["id"].as_str().expect("id");
    let h = s.admin_headers().await;
    let r = s.send("GET", &format!("{}/v1/executions/jobs/{id}/output?stream=stderr", s.base()), &h, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain;charset=UTF-8"));
    assert_eq!(r.text.trim_end(), "boom");
    let m = s.call("GET", &format!("executions/jobs/{id}/messages"), None).await.json();
    let texts: Vec<&str> = m["data"].as_array().expect("data").iter().filter_map(|x| x["text"].as_str()).collect();
    assert!(
        m["data"].as_array().expect("data").iter().any(|x| x["source"] == json!("scheduler")
            && x["text"].as_str().is_some_and(|t| t.contains("exit code 3"))),
        "{texts:?}"
    );
    s.call("GET", &format!("executions/jobs/{id}/output?stream=both"), None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. stream=both",
    );
}

async fn running_js(s: &Server) -> String {
    s.handle.start_jobnet(&JobnetKey::new("P1", "JS"), None).await.expect("start JS");
    let v = s.poll_until("executions/jobnets?jobnets=JS&statuses=executing", |v| v["total"] == json!(1)).await;
    v["data"][0]["id"].as_str().expect("id").to_string()
}

// WAPI-131
#[tokio::test]
async fn wapi_131_delete_running_execution_cancels_it() {
    let s = server(&[]).await;
    s.user_with("op1", "Oo#12345", &[("P1", Right::Operation)]);
    let id = running_js(&s).await;
    let r = s.call_as("op1:Oo#12345", "DELETE", &format!("executions/jobnets/{id}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["data"][0]["message"], json!("Cancelled Successfully."));
    assert_eq!(v["data"][0]["executionId"], json!(id));
    assert!(v["data"][0]["operationKey"].is_string());
    let v = s.poll_until(&format!("executions/jobnets/{id}"), |v| v["data"][0]["status"] == json!("canceled")).await;
    assert_eq!(v["data"][0]["state"], json!("ERROR"));
}

// WAPI-133
#[tokio::test]
async fn wapi_133_delete_completed_execution_is_01010() {
    let s = server(&seven()).await;
    let r = s.call("DELETE", &format!("executions/jobnets/{}", jne(13)), None).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"code":"OM_API_01010","message":"The execution is not in 'queued' or 'running' state."})
    );
}

// WAPI-134
#[tokio::test]
async fn wapi_134_reference_user_cannot_cancel_a_visible_running_execution() {
    let s = server(&[]).await;
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    s.user_with("chg1", "Cc#12345", &[("P1", Right::Change)]);
    let id = running_js(&s).await;
    for who in ["ref1:Rr#12345", "chg1:Cc#12345"] {
        let r = s.call_as(who, "DELETE", &format!("executions/jobnets/{id}"), None).await;
        r.assert_error(
            403,
            "OM_API_01003",
            "You do not have permission to perform this operation. operation=execution.cancel",
        );
    }
    // A user without any right on P1 does not even see it.
    s.user_with("none1", "Nn#12345", &[("P2", Right::Update)]);
    let r = s.call_as("none1:Nn#12345", "DELETE", &format!("executions/jobnets/{id}"), None).await;
    r.assert_code(404, "OM_API_00050");
    let v = s.call("GET", &format!("executions/jobnets/{id}"), None).await.json();
    assert_eq!(v["data"][0]["status"], json!("executing"), "refused cancels changed nothing");
    s.handle.cancel_jobnet(&JobnetKey::new("P1", "JS")).await.expect("cancel");
}

// WAPI-135
#[tokio::test]
async fn wapi_135_unknown_execution_is_404() {
    let s = server(&seven()).await;
    for path in ["executions/jobnets/nope", "executions/jobnets/jne-999999", "executions/jobs/nope"] {
        s.call("GET", path, None).await.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    }
}

// WAPI-136
#[tokio::test]
async fn wapi_136_execution_time_is_hh_mm_ss() {
    let runs = [
        ("P1", "J1", 1, JobnetStatus::Completed, "2025-03-10T09:00:00Z", "2025-03-10T10:02:03Z"),
        ("P1", "J1", 2, JobnetStatus::Completed, "2025-03-10T09:00:00Z", "2025-03-11T12:00:05Z"),
    ];
    let s = server(&seed(&runs)).await;
    let v = s.call("GET", &format!("executions/jobnets/{}", jne(1)), None).await.json();
    let e = &v["data"][0];
    assert_eq!(e["executionTime"], json!("01:02:03"));
    assert_eq!(e["startedAt"], json!("2025-03-10T09:00:00Z"));
    assert_eq!(e["completedAt"], json!("2025-03-10T10:02:03Z"));
    assert_eq!(e["operationDate"], json!("2025-03-10"));
    let v = s.call("GET", &format!("executions/jobnets/{}", jne(3)), None).await.json();
    assert_eq!(v["data"][0]["executionTime"], json!("27:00:05"), "hours do not wrap");
}
