//! QA black-box checks of Layer B (spec 04 §3.8–§3.12, behaviors §4.7–§4.10)
//! with fresh values: paging edges, every sort field, filters, visibility,
//! cancel semantics, operations, definitions CRUD and the admin API.

mod support;

use serde_json::{Value, json};
use support::{ADMIN, ADMIN_PW, Server, at, start_seeded};
use woi_adapters::auth::Right;
use woi_core::{Event, EventKind, JobnetKey, JobnetStatus};

const DEFS: &str = r#"
[[jobnet]]
project = "PA"
name = "NA"
comment = "alpha"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "PA"
name = "NB"
comment = "bravo"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "PA"
name = "SLOW"
comment = "slow"
[[jobnet.job]]
number = 1
command = "sleep 120"

[[jobnet]]
project = "PB"
name = "NC"
comment = "charlie"
[[jobnet.job]]
number = 1
command = "true"
"#;

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
        let code = match status {
            JobnetStatus::Completed => 0,
            JobnetStatus::Abended => 9,
            _ => 4,
        };
        let kind = EventKind::JobnetStatus { jobnet, run: *run, status: *status, exit_code: Some(code) };
        events.push(Event { seq: seq + 1, at: at(ended), kind });
    }
    events
}

fn jne(seq: u64) -> String {
    format!("jne-{seq:06}")
}

fn ids(v: &Value) -> Vec<String> {
    v["data"].as_array().expect("data").iter().map(|e| e["id"].as_str().expect("id").to_string()).collect()
}

async fn server(seeded: &[Event]) -> Server {
    start_seeded(DEFS, at("2026-01-20T00:00:00Z"), seeded).await
}

/// Five runs: seq 1 PA/NA ok, 3 PA/NB abended, 5 PB/NC ok, 7 PA/NA canceled, 9 PA/NB ok.
fn five() -> Vec<Event> {
    seed(&[
        ("PA", "NA", 1, JobnetStatus::Completed, "2026-01-02T10:00:00Z", "2026-01-02T10:00:30Z"),
        ("PA", "NB", 1, JobnetStatus::Abended, "2026-01-03T10:00:00Z", "2026-01-05T11:00:00Z"),
        ("PB", "NC", 1, JobnetStatus::Completed, "2026-01-04T10:00:00Z", "2026-01-04T10:00:01Z"),
        ("PA", "NA", 2, JobnetStatus::Cancelled, "2026-01-05T10:00:00Z", "2026-01-05T10:05:00Z"),
        ("PA", "NB", 2, JobnetStatus::Completed, "2026-01-06T10:00:00Z", "2026-01-06T10:00:02Z"),
    ])
}

const ADMIN_USER: &str = "admin1:Aa#12345";

// ---------------------------------------------------------------- paging (§3.8.3)

// WAPI-120 with fresh values: offset exactly at total and far beyond.
#[tokio::test]
async fn wapi_120_offset_at_and_beyond_total_is_an_empty_page() {
    let s = server(&five()).await;
    let r = s.call("GET", "executions/jobnets?offset=5&limit=2", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"next":false,"total":5,"data":[],"pagination":{"currentPage":3,"pageSize":2,"totalItems":5,
            "totalPages":3,"hasNextPage":false,"hasPreviousPage":true}})
    );
    let v = s.call("GET", "executions/jobnets?offset=99&limit=7", None).await.json();
    assert_eq!(v["data"], json!([]));
    assert_eq!(
        v["pagination"],
        json!({"currentPage":15,"pageSize":7,"totalItems":5,"totalPages":1,"hasNextPage":false,"hasPreviousPage":true})
    );
    // The last full page: offset 4 limit 1 → one item, no next page.
    let v = s.call("GET", "executions/jobnets?offset=4&limit=1", None).await.json();
    assert_eq!(ids(&v), [jne(1)]);
    assert_eq!(
        v["pagination"],
        json!({"currentPage":5,"pageSize":1,"totalItems":5,"totalPages":5,"hasNextPage":false,"hasPreviousPage":true})
    );
    // Exactly the total with limit = total.
    let v = s.call("GET", "executions/jobnets?limit=5", None).await.json();
    assert_eq!((v["next"].clone(), v["pagination"]["totalPages"].clone()), (json!(false), json!(1)));
    let v = s.call("GET", "executions/jobnets?limit=1000", None).await.json();
    assert_eq!(v["pagination"]["pageSize"], json!(1000));
}

// WAPI-122 with fresh values.
#[tokio::test]
async fn wapi_122_bad_paging_values_are_00010_with_the_raw_value() {
    let s = server(&[]).await;
    for (q, shown) in [
        ("limit=-1", "limit=-1"),
        ("limit=1.5", "limit=1.5"),
        ("limit=", "limit="),
        ("limit=99999", "limit=99999"),
        ("offset=abc", "offset=abc"),
        ("offset=2.0", "offset=2.0"),
        ("offset=-7", "offset=-7"),
    ] {
        let r = s.call("GET", &format!("executions/jobnets?{q}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {shown}"));
        let r = s.call("GET", &format!("executions/jobs?{q}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {shown}"));
        let r = s.call("GET", &format!("operations?{q}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {shown}"));
    }
    assert_eq!(s.call("GET", "executions/jobs?limit=1", None).await.status, 200);
}

// ---------------------------------------------------------------- sorting (§3.8.2, §3.8.3)

// WAPI-123 with every sort field and both directions.
#[tokio::test]
async fn wapi_123_every_sort_field_both_directions_ties_by_id_desc() {
    let s = server(&five()).await;
    let get = async |q: &str| ids(&s.call("GET", &format!("executions/jobnets?{q}"), None).await.json());
    assert_eq!(get("").await, [jne(9), jne(7), jne(5), jne(3), jne(1)], "default createdAt desc");
    assert_eq!(get("sortField=createdAt&direction=asc").await, [jne(1), jne(3), jne(5), jne(7), jne(9)]);
    assert_eq!(get("sortField=startedAt&direction=asc").await, [jne(1), jne(3), jne(5), jne(7), jne(9)]);
    // completedAt: 1 (01-02), 5 (01-04), 7 (01-05 10:05), 3 (01-05 11:00), 9 (01-06).
    assert_eq!(get("sortField=completedAt&direction=asc").await, [jne(1), jne(5), jne(7), jne(3), jne(9)]);
    assert_eq!(get("sortField=completedAt").await, [jne(9), jne(3), jne(7), jne(5), jne(1)]);
    // jobnetName: NA (7, 1), NB (9, 3), NC (5) — ties id descending in both directions.
    assert_eq!(get("sortField=jobnetName&direction=asc").await, [jne(7), jne(1), jne(9), jne(3), jne(5)]);
    assert_eq!(get("sortField=jobnetName&direction=desc").await, [jne(5), jne(9), jne(3), jne(7), jne(1)]);
    // projectName: PA (9, 7, 3, 1), PB (5).
    assert_eq!(get("sortField=projectName&direction=asc").await, [jne(9), jne(7), jne(3), jne(1), jne(5)]);
    assert_eq!(get("sortField=projectName").await, [jne(5), jne(9), jne(7), jne(3), jne(1)]);
    // status: canceled (7) < ended_abnormally (3) < ended_normally (9, 5, 1).
    assert_eq!(get("sortField=status&direction=asc").await, [jne(7), jne(3), jne(9), jne(5), jne(1)]);
    assert_eq!(get("sortField=status&direction=desc").await, [jne(9), jne(5), jne(1), jne(3), jne(7)]);
    // exitCode: 0 (9, 5, 1), 4 (7), 9 (3).
    assert_eq!(get("sortField=exitCode&direction=asc").await, [jne(9), jne(5), jne(1), jne(7), jne(3)]);
    assert_eq!(get("sortField=exitCode").await, [jne(3), jne(7), jne(9), jne(5), jne(1)]);
    for (q, shown) in [
        ("sortField=jobNumber", "sortField=jobNumber"),
        ("sortField=createdat", "sortField=createdat"),
        ("sortField=CreateDate", "sortField=CreateDate"),
        ("direction=ASC", "direction=ASC"),
        ("direction=up", "direction=up"),
    ] {
        let r = s.call("GET", &format!("executions/jobnets?{q}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {shown}"));
    }
    // jobNumber is a sort field of the job list only.
    assert_eq!(s.call("GET", "executions/jobs?sortField=jobNumber&direction=asc", None).await.status, 200);
}

// ---------------------------------------------------------------- filters (§3.8.2)

// WAPI-125 with fresh values: categories, case-insensitivity, alias, union.
#[tokio::test]
async fn wapi_125_statuses_case_insensitive_alias_and_union() {
    let s = server(&five()).await;
    let get = async |q: &str| ids(&s.call("GET", &format!("executions/jobnets?{q}"), None).await.json());
    assert_eq!(get("statuses=COMPLETE").await.len(), 5);
    assert_eq!(get("statuses=completed").await.len(), 5);
    assert_eq!(get("statuses=Ended_Normally").await, [jne(9), jne(5), jne(1)]);
    assert_eq!(get("statuses=canceled&statuses=ended_abnormally").await, [jne(7), jne(3)]);
    assert_eq!(get("statuses=queued").await, Vec::<String>::new());
    assert_eq!(get("statuses=running").await, Vec::<String>::new());
    for bad in ["Initializing", "initializing", "waiting", "done"] {
        let r = s.call("GET", &format!("executions/jobnets?statuses={bad}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. statuses={bad}"));
    }
    // "pass" and "waiting" are job statuses: valid on the job list.
    assert_eq!(s.call("GET", "executions/jobs?statuses=pass,waiting", None).await.status, 200);
    s.call("GET", "executions/jobs?statuses=skipped", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. statuses=skipped",
    );
}

#[tokio::test]
async fn wapi_125_projects_jobnets_users_and_triggered_by_filters() {
    let s = server(&five()).await;
    let get = async |q: &str| ids(&s.call("GET", &format!("executions/jobnets?{q}"), None).await.json());
    assert_eq!(get("projects=PB").await, [jne(5)]);
    assert_eq!(get("projects=pa").await, Vec::<String>::new(), "names are case-sensitive");
    assert_eq!(get("jobnets=NA,NC").await, [jne(7), jne(5), jne(1)]);
    assert_eq!(get("projects=PA&jobnets=NC").await, Vec::<String>::new());
    assert_eq!(get("users=somebody").await, Vec::<String>::new());
    s.call("GET", "executions/jobnets?triggeredBy=cron", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. triggeredBy=cron",
    );
    for q in ["allUsers=false", "workflowNames=NA", "priorities=1", "sort=createdAt"] {
        let name = q.split('=').next().expect("name");
        s.call("GET", &format!("executions/jobnets?{q}"), None).await.assert_error(
            400,
            "OM_API_00012",
            &format!("An unnecessary parameter is specified. param={name}"),
        );
    }
    // The first unknown parameter in order is named.
    s.call("GET", "executions/jobnets?limit=3&zeta=1&alpha=2", None).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=zeta",
    );
    for p in ["offset", "sortField", "direction", "completedBefore", "includeChildren", "operationDate"] {
        s.call("GET", &format!("executions/jobnets?{p}=x&{p}=y"), None).await.assert_error(
            400,
            "OM_API_00013",
            &format!("The parameter is specified in duplicate. param={p}"),
        );
    }
    s.call("GET", "executions/jobnets?includeChildren=yes", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. includeChildren=yes",
    );
}

// WAPI-124 with fresh values: both formats, all four bounds, bad dates.
#[tokio::test]
async fn wapi_124_date_bounds_in_both_formats_are_exclusive() {
    let s = server(&five()).await;
    let get = async |q: &str| ids(&s.call("GET", &format!("executions/jobnets?{q}"), None).await.json());
    // Completed on 2026-01-05: 7 and 3; both excluded by either date bound.
    assert_eq!(get("completedAfter=2026-01-05").await, [jne(9)]);
    assert_eq!(get("completedBefore=2026-01-05").await, [jne(5), jne(1)]);
    // Instants are exclusive: 10:05:00Z itself is not after 10:05:00Z.
    assert_eq!(get("completedAfter=2026-01-05T10:05:00Z").await, [jne(9), jne(3)]);
    assert_eq!(get("completedBefore=2026-01-05T11:00:00Z").await, [jne(7), jne(5), jne(1)]);
    // Offsets other than Z are accepted: 19:05+09:00 = 10:05Z.
    assert_eq!(get("completedAfter=2026-01-05T19:05:00%2B09:00").await, [jne(9), jne(3)]);
    assert_eq!(get("startedAfter=2026-01-03&startedBefore=2026-01-06").await, [jne(7), jne(5)]);
    assert_eq!(get("operationDate=2026-01-04").await, [jne(5)]);
    for (p, v) in [
        ("completedBefore", "2026-02-30"),
        ("completedAfter", "2026/01/05"),
        ("startedBefore", "yesterday"),
        ("startedAfter", "2026-01-05T10:00:00"),
        ("operationDate", "2026-01-05T00:00:00Z"),
        ("operationDate", "20260105"),
    ] {
        let r = s.call("GET", &format!("executions/jobnets?{p}={v}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {p}={v}"));
    }
}

// ---------------------------------------------------------------- visibility and cancel (§3.8.4, §3.8.5)

// WAPI-128 with fresh values: every read route of an invisible execution.
#[tokio::test]
async fn wapi_128_invisible_executions_are_omitted_and_404_on_every_route() {
    let s = server(&five()).await;
    s.user_with("refb", "Rb#12345", &[("PB", Right::Reference)]);
    let who = "refb:Rb#12345";
    let v = s.call_as(who, "GET", "executions/jobnets", None).await.json();
    assert_eq!((ids(&v), v["total"].clone()), (vec![jne(5)], json!(1)));
    let v = s.call_as(who, "GET", "executions/jobnets?projects=PA", None).await.json();
    assert_eq!(v["total"], json!(0));
    let invisible = jne(1);
    for (m, path) in [
        ("GET", format!("executions/jobnets/{invisible}")),
        ("GET", format!("executions/jobnets/{invisible}?includeMessages=false")),
        ("GET", format!("executions/jobnets/{invisible}/messages")),
        ("DELETE", format!("executions/jobnets/{invisible}")),
        ("GET", "projects/PA/jobnets/NA/executions".to_string()),
        ("GET", "projects/PA".to_string()),
        ("GET", "projects/PA/jobnets/NA".to_string()),
        ("GET", "projects/PA/jobnets/NA/status".to_string()),
        ("POST", "projects/PA/jobnets/NA/actions/start".to_string()),
    ] {
        s.call_as(who, m, &path, None).await.assert_error(
            404,
            "OM_API_00050",
            "The specified resource does not exist.",
        );
    }
    assert_eq!(s.call_as(who, "GET", &format!("executions/jobnets/{}", jne(5)), None).await.status, 200);
    // The per-jobnet list has projects/jobnets fixed.
    let v = s.call("GET", "projects/PA/jobnets/NB/executions?limit=1", None).await.json();
    assert_eq!((ids(&v), v["total"].clone()), (vec![jne(9)], json!(2)));
    s.call("GET", "projects/PA/jobnets/NB/executions?statuses=Initializing", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. statuses=Initializing",
    );
}

// WAPI-133/134: permission is checked before the state (§3.1 step 12 before 13).
#[tokio::test]
async fn wapi_133_134_delete_of_complete_executions_by_right() {
    let s = server(&five()).await;
    s.user_with("refa", "Ra#12345", &[("PA", Right::Reference)]);
    s.user_with("opa", "Oa#12345", &[("PA", Right::Operation)]);
    s.user_with("upa", "Ua#12345", &[("PA", Right::Update)]);
    s.call_as("refa:Ra#12345", "DELETE", &format!("executions/jobnets/{}", jne(9)), None).await.assert_error(
        403,
        "OM_API_01003",
        "You do not have permission to perform this operation. operation=execution.cancel",
    );
    for who in ["opa:Oa#12345", "upa:Ua#12345", ADMIN_USER] {
        for id in [jne(9), jne(7), jne(3)] {
            s.call_as(who, "DELETE", &format!("executions/jobnets/{id}"), None).await.assert_error(
                409,
                "OM_API_01010",
                "The execution is not in 'queued' or 'running' state.",
            );
        }
    }
    s.call("DELETE", "executions/jobnets/jne-000002", None).await.assert_code(404, "OM_API_00050");
    s.call("DELETE", "executions/jobs/jbe-999999", None).await.assert_code(404, "OM_API_00050");
}

// WAPI-131 with fresh values: an update-right user cancels; the job execution DELETE too.
#[tokio::test]
async fn wapi_131_update_right_cancels_and_job_delete_of_a_complete_job_is_01010() {
    let s = server(&[]).await;
    s.user_with("upa", "Ua#12345", &[("PA", Right::Update)]);
    s.handle.start_jobnet(&JobnetKey::new("PA", "SLOW"), None).await.expect("start");
    let v = s.poll_until("executions/jobs?jobnets=SLOW&statuses=executing", |v| v["total"] == json!(1)).await;
    let job = v["data"][0]["id"].as_str().expect("job id").to_string();
    let run = v["data"][0]["jobnetExecutionId"].as_str().expect("run id").to_string();
    let one = s.call("GET", &format!("executions/jobnets/{run}"), None).await.json();
    assert_eq!(
        (one["data"][0]["statusCategory"].clone(), one["data"][0]["state"].clone()),
        (json!("running"), json!(null))
    );
    assert_eq!(one["data"][0]["completedAt"], json!(null));
    assert_eq!(one["data"][0]["executionTime"], json!(null));
    let r = s.call_as("upa:Ua#12345", "DELETE", &format!("executions/jobnets/{run}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.json()["data"][0];
    assert_eq!((d["message"].clone(), d["executionId"].clone()), (json!("Cancelled Successfully."), json!(run)));
    let key = d["operationKey"].as_str().expect("operationKey").to_string();
    let op = s.call_as("upa:Ua#12345", "GET", &format!("operations/{key}?wait=30"), None).await.json();
    assert_eq!(op["data"][0]["kind"], json!("execution.cancel"));
    assert_eq!(op["data"][0]["submittedBy"], json!("upa"));
    let v = s.poll_until(&format!("executions/jobnets/{run}"), |v| v["data"][0]["status"] == json!("canceled")).await;
    assert_eq!(
        (v["data"][0]["state"].clone(), v["data"][0]["statusCategory"].clone()),
        (json!("ERROR"), json!("complete"))
    );
    s.poll_until(&format!("executions/jobs/{job}"), |v| v["data"][0]["statusCategory"] == json!("complete")).await;
    s.call("DELETE", &format!("executions/jobs/{job}"), None).await.assert_error(
        409,
        "OM_API_01010",
        "The execution is not in 'queued' or 'running' state.",
    );
    // A second cancel of the now complete run.
    s.call("DELETE", &format!("executions/jobnets/{run}"), None).await.assert_code(409, "OM_API_01010");
}

// WAPI-136 with fresh values: above 24 h and above 99 h, zero.
#[tokio::test]
async fn wapi_136_execution_time_above_24_and_99_hours() {
    let s = server(&seed(&[
        ("PA", "NA", 1, JobnetStatus::Completed, "2026-01-01T00:00:00Z", "2026-01-05T04:00:00Z"),
        ("PA", "NA", 2, JobnetStatus::Completed, "2026-01-06T00:00:00Z", "2026-01-08T01:59:59Z"),
        ("PA", "NA", 3, JobnetStatus::Completed, "2026-01-09T00:00:00Z", "2026-01-09T00:00:00Z"),
    ]))
    .await;
    let v = s.call("GET", "executions/jobnets?sortField=startedAt&direction=asc", None).await.json();
    let times: Vec<Value> = v["data"].as_array().expect("data").iter().map(|e| e["executionTime"].clone()).collect();
    assert_eq!(times, [json!("100:00:00"), json!("49:59:59"), json!("00:00:00")]);
    let e = &v["data"][0];
    assert_eq!((e["state"].clone(), e["statusCategory"].clone()), (json!("NORMAL"), json!("complete")));
    assert_eq!(e["operationDate"], json!("2026-01-01"));
}

// WAPI-129 with fresh values: includeMessages values.
#[tokio::test]
async fn wapi_129_include_messages_true_false_and_bad() {
    let s = server(&five()).await;
    let id = jne(3);
    let v = s.call("GET", &format!("executions/jobnets/{id}?includeMessages=true"), None).await.json();
    assert!(v["data"][0]["messages"].is_array() && v["data"][0]["jobs"].is_array(), "{v}");
    assert_eq!(v["total"], json!(1));
    for bad in ["no", "1", "FALSE"] {
        s.call("GET", &format!("executions/jobnets/{id}?includeMessages={bad}"), None).await.assert_error(
            400,
            "OM_API_00010",
            &format!("The parameter is invalid. includeMessages={bad}"),
        );
    }
    s.call("GET", &format!("executions/jobnets/{id}?wait=61"), None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. wait=61",
    );
    // A complete execution answers a long poll at once.
    assert_eq!(s.call("GET", &format!("executions/jobnets/{id}?wait=60"), None).await.status, 200);
    s.call("GET", &format!("executions/jobnets/{id}?verbose=1"), None).await.assert_code(400, "OM_API_00012");
}

// ---------------------------------------------------------------- operations (§3.9)

// WAPI-138 with fresh values: the full operation object and Location.
#[tokio::test]
async fn wapi_138_operation_object_fields_and_location() {
    let s = server(&[]).await;
    s.user_with("opa", "Oa#12345", &[("PA", Right::Operation)]);
    let r = s.call_as("opa:Oa#12345", "POST", "projects/PA/jobnets/NA/actions/start", None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let v = r.json();
    assert_eq!((v["next"].clone(), v["total"].clone()), (json!(false), json!(1)));
    let op = &v["data"][0];
    let key = op["key"].as_str().expect("key");
    assert_eq!(r.header("location"), Some(format!("/t9/envA/api/v1/operations/{key}").as_str()));
    assert_eq!(op["uri"], json!(format!("/t9/envA/api/v1/operations/{key}")));
    assert_eq!(op["kind"], json!("jobnet.start"));
    assert_eq!(op["target"], json!({"projectName":"PA","jobnetName":"NA","jobNumber":null}));
    assert_eq!((op["submittedBy"].clone(), op["clientId"].clone()), (json!("opa"), json!(s.client_id)));
    assert_eq!(op["completedAt"], json!(null));
    let done = s.call_as("opa:Oa#12345", "GET", &format!("operations/{key}?wait=30"), None).await.json();
    let d = &done["data"][0];
    assert_eq!((d["status"].clone(), d["state"].clone()), (json!("completed"), json!("NORMAL")));
    assert!(d["completedAt"].is_string() && d["executionId"].is_string(), "{d}");
    // wait=0 is a standard poll.
    assert_eq!(s.call_as("opa:Oa#12345", "GET", &format!("operations/{key}?wait=0"), None).await.status, 200);
    for w in ["1.5", "", "-0.5", "600"] {
        let r = s.call_as("opa:Oa#12345", "GET", &format!("operations/{key}?wait={w}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. wait={w}"));
    }
    s.call_as("opa:Oa#12345", "GET", &format!("operations/{key}?wait=1&wait=2"), None).await.assert_error(
        400,
        "OM_API_00013",
        "The parameter is specified in duplicate. param=wait",
    );
    s.call_as("opa:Oa#12345", "GET", "operations/00000000-0000-0000-0000-000000000000", None).await.assert_error(
        404,
        "OM_API_00050",
        "The specified resource does not exist.",
    );
}

// WAPI-148 with fresh values: filters of the operations list.
#[tokio::test]
async fn wapi_148_operation_list_filters_kinds_states_statuses() {
    let s = server(&[]).await;
    s.user_with("opa", "Oa#12345", &[("PA", Right::Operation)]);
    let who = "opa:Oa#12345";
    let r = s.call_as(who, "POST", "projects/PA/jobnets/NA/actions/start", None).await;
    let k1 = r.json()["data"][0]["key"].as_str().expect("key").to_string();
    s.call_as(who, "GET", &format!("operations/{k1}?wait=30"), None).await;
    let r = s.call_as(who, "POST", "projects/PA/jobnets/NB/actions/start-vparam", Some(r#"{"vparam":"QA1"}"#)).await;
    let k2 = r.json()["data"][0]["key"].as_str().expect("key").to_string();
    s.call_as(who, "GET", &format!("operations/{k2}?wait=30"), None).await;
    let keys = |v: &Value| -> Vec<String> {
        v["data"].as_array().expect("data").iter().map(|o| o["key"].as_str().expect("key").to_string()).collect()
    };
    let v = s.call_as(who, "GET", "operations?kinds=jobnet.start-vparam", None).await.json();
    assert_eq!(keys(&v), [k2.as_str()]);
    let v = s.call_as(who, "GET", "operations?states=normal&statuses=COMPLETED", None).await.json();
    assert_eq!(keys(&v), [k2.as_str(), k1.as_str()]);
    let v = s.call_as(who, "GET", "operations?statuses=queued,running", None).await.json();
    assert_eq!(v["total"], json!(0));
    let v = s.call_as(who, "GET", "operations?limit=1&offset=1", None).await.json();
    assert_eq!(keys(&v), [k1.as_str()]);
    assert_eq!(
        v["pagination"],
        json!({"currentPage":2,"pageSize":1,"totalItems":2,"totalPages":2,"hasNextPage":false,"hasPreviousPage":true})
    );
    // `users` without allUsers is ignored.
    let v = s.call_as(who, "GET", "operations?users=admin1", None).await.json();
    assert_eq!(v["total"], json!(2));
    // An admin without allUsers sees only their own.
    assert_eq!(s.call("GET", "operations", None).await.json()["total"], json!(0));
    assert_eq!(s.call("GET", "operations?allUsers=true", None).await.json()["total"], json!(2));
    s.call_as(who, "GET", "operations?allUsers=maybe", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. allUsers=maybe",
    );
    s.call_as(who, "GET", "operations?sortField=createdAt", None).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=sortField",
    );
    s.call_as(who, "GET", "operations?allUsers=false&allUsers=false", None).await.assert_code(400, "OM_API_00013");
}

// WAPI-150 with fresh values: vparam byte limit (D7) and body pipeline.
#[tokio::test]
async fn wapi_150_start_vparam_limits_and_body_rules() {
    let s = server(&[]).await;
    let path = "projects/PA/jobnets/NA/actions/start-vparam";
    let long = "V".repeat(201);
    s.call("POST", path, Some(&format!(r#"{{"vparam":"{long}"}}"#))).await.assert_error(
        400,
        "OM_API_00010",
        &format!("The parameter is invalid. vparam={long}"),
    );
    let kanji = "値".repeat(101);
    s.call("POST", path, Some(&format!(r#"{{"vparam":"{kanji}"}}"#))).await.assert_code(400, "OM_API_00010");
    s.call("POST", path, Some(r#"{"vparam":""}"#)).await.assert_error(
        400,
        "OM_API_00011",
        "A required parameter is not specified. param=vparam",
    );
    s.call("POST", path, Some(r#"{"vparam":null}"#)).await.assert_error(
        400,
        "OM_API_00011",
        "A required parameter is not specified. param=vparam",
    );
    s.call("POST", path, Some(r#"{"vparam":"A","suffix":"x"}"#)).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=suffix",
    );
    s.call("POST", path, Some(r#"{"vparam":"A","vparam":"B"}"#)).await.assert_error(
        400,
        "OM_API_00013",
        "The parameter is specified in duplicate. param=vparam",
    );
    s.call("POST", path, Some(r#"{"vparam":12}"#)).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. vparam=12",
    );
    s.call("POST", path, Some("[]")).await.assert_error(
        400,
        "OM_API_00099",
        "An internal error occurred. detail=request body is not a JSON object",
    );
    let kanji = "値".repeat(100);
    let r = s.call("POST", path, Some(&format!(r#"{{"vparam":"{kanji}"}}"#))).await;
    assert_eq!(r.status, 202, "{}", r.text);
}

// WAPI-143/147 with fresh values: actions that the state does not allow.
#[tokio::test]
async fn wapi_143_actions_not_allowed_in_the_current_state() {
    let s = server(&[]).await;
    s.call("POST", "projects/PA/jobnets/NA/actions/cancel", None).await.assert_error(
        409,
        "OM_API_01011",
        "The operation cannot be performed in the current state. operation=cancel state=waiting",
    );
    s.call("POST", "projects/PA/jobnets/NA/actions/confirm", None).await.assert_error(
        409,
        "OM_API_01011",
        "The operation cannot be performed in the current state. operation=confirm state=waiting",
    );
    // Job actions: unknown job number or a non-numeric one → 404; unknown action → 404.
    for path in [
        "projects/PA/jobnets/NA/jobs/7/actions/cancel",
        "projects/PA/jobnets/NA/jobs/x/actions/cancel",
        "projects/PA/jobnets/NA/jobs/1/actions/start",
        "projects/PA/jobnets/NOPE/actions/start",
        "projects/NOPE/jobnets/NA/actions/start",
    ] {
        s.call("POST", path, None).await.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    }
    s.call("GET", "projects/PA/jobnets/NA/actions/start", None).await.assert_code(405, "OM_API_00050");
}

// ---------------------------------------------------------------- permissions (§3.11)

#[tokio::test]
async fn permission_matrix_for_actions_and_definition_writes() {
    let s = server(&[]).await;
    s.user_with("refa", "Ra#12345", &[("PA", Right::Reference)]);
    s.user_with("chga", "Ca#12345", &[("PA", Right::Change)]);
    s.user_with("opa", "Oa#12345", &[("PA", Right::Operation)]);
    s.user_with("upa", "Ua#12345", &[("PA", Right::Update)]);
    let forbidden = |op: &str| format!("You do not have permission to perform this operation. operation={op}");
    // jobnet/job actions: reference and change → 403.
    for who in ["refa:Ra#12345", "chga:Ca#12345"] {
        s.call_as(who, "POST", "projects/PA/jobnets/NA/actions/pause", None).await.assert_error(
            403,
            "OM_API_01003",
            &forbidden("pause"),
        );
        s.call_as(who, "POST", "projects/PA/jobnets/NA/jobs/1/actions/disable", None)
            .await
            .assert_code(403, "OM_API_01003");
    }
    for who in ["opa:Oa#12345", "upa:Ua#12345"] {
        let r = s.call_as(who, "POST", "projects/PA/jobnets/NA/actions/disable", None).await;
        assert_eq!(r.status, 200, "{who}: {}", r.text);
        let r = s.call_as(who, "POST", "projects/PA/jobnets/NA/actions/enable", None).await;
        assert_eq!(r.status, 200, "{who}: {}", r.text);
    }
    // definition writes: reference and operation → 403; change and update → 201.
    let body = |n: &str| format!(r#"{{"name":"{n}","job":[{{"number":1,"command":"true"}}]}}"#);
    for who in ["refa:Ra#12345", "opa:Oa#12345"] {
        s.call_as(who, "POST", "projects/PA/jobnets", Some(&body("NX"))).await.assert_error(
            403,
            "OM_API_01003",
            &forbidden("jobnet.create"),
        );
        s.call_as(who, "DELETE", "projects/PA/jobnets/NB", None).await.assert_code(403, "OM_API_01003");
    }
    for (who, n) in [("chga:Ca#12345", "NX"), ("upa:Ua#12345", "NY")] {
        let r = s.call_as(who, "POST", "projects/PA/jobnets", Some(&body(n))).await;
        assert_eq!(r.status, 201, "{who}: {}", r.text);
        assert_eq!(r.header("location"), Some(format!("/t9/envA/api/v1/projects/PA/jobnets/{n}").as_str()));
    }
    // Admin-only: project delete, ACL, calendar writes — even with update.
    s.call_as("upa:Ua#12345", "DELETE", "projects/PA", None).await.assert_error(
        403,
        "OM_API_01003",
        &forbidden("project.delete"),
    );
    s.call_as("upa:Ua#12345", "PUT", "projects/PA/acl", Some(r#"{"entries":[]}"#))
        .await
        .assert_code(403, "OM_API_01003");
    s.call_as("upa:Ua#12345", "DELETE", "calendars/SYSTEM_CALENDAR", None).await.assert_code(403, "OM_API_01003");
    // Reads: every right sees the ACL and the calendars.
    for who in ["refa:Ra#12345", "chga:Ca#12345", "opa:Oa#12345"] {
        assert_eq!(s.call_as(who, "GET", "projects/PA/acl", None).await.status, 200);
        assert_eq!(s.call_as(who, "GET", "calendars", None).await.status, 200);
    }
}

// ---------------------------------------------------------------- definitions (§3.10)

#[tokio::test]
async fn wapi_152_153_project_create_validation_and_conflicts() {
    let s = server(&[]).await;
    for (body, code, msg) in [
        (r#"{"projectName":"PB"}"#, "OM_API_01009", "The resource already exists. projectName=PB"),
        (r#"{"projectName":"core"}"#, "OM_API_00010", "The parameter is invalid. projectName=core"),
        (r#"{"projectName":"P 9"}"#, "OM_API_00010", "The parameter is invalid. projectName=P 9"),
        (r#"{"projectName":"P.9"}"#, "OM_API_00010", "The parameter is invalid. projectName=P.9"),
        (r#"{"projectName":7}"#, "OM_API_00010", "The parameter is invalid. projectName=7"),
        (r#"{"projectName":""}"#, "OM_API_00011", "A required parameter is not specified. param=projectName"),
        (r#"{}"#, "OM_API_00011", "A required parameter is not specified. param=projectName"),
        (r#"{"projectName":"P9","owner":"x"}"#, "OM_API_00012", "An unnecessary parameter is specified. param=owner"),
        (
            r#"{"projectName":"P9","projectName":"P8"}"#,
            "OM_API_00013",
            "The parameter is specified in duplicate. param=projectName",
        ),
    ] {
        let r = s.call("POST", "projects", Some(body)).await;
        let status = match code {
            "OM_API_01009" => 409,
            _ => 400,
        };
        r.assert_error(status, code, msg);
    }
    // D7: 25 kanji = 50 bytes is the limit; 26 kanji is refused.
    let ok = "業".repeat(25);
    let r = s.call("POST", "projects", Some(&format!(r#"{{"projectName":"{ok}"}}"#))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let long = "業".repeat(26);
    s.call("POST", "projects", Some(&format!(r#"{{"projectName":"{long}"}}"#))).await.assert_error(
        400,
        "OM_API_00010",
        &format!("The parameter is invalid. projectName={long}"),
    );
    let a51 = "Q".repeat(51);
    s.call("POST", "projects", Some(&format!(r#"{{"projectName":"{a51}"}}"#))).await.assert_code(400, "OM_API_00010");
    // The new project is listed, empty, owner jobuser; DELETE answers the empty envelope.
    let v = s.call("GET", &format!("projects/{}", "%E6%A5%AD".repeat(25)), None).await.json();
    assert_eq!(v["data"][0], json!({"projectName": ok, "owner": "jobuser", "jobnets": 0}));
    let r = s.call("DELETE", &format!("projects/{}", "%E6%A5%AD".repeat(25)), None).await;
    r.assert_ok_envelope();
    s.call("GET", &format!("projects/{}", "%E6%A5%AD".repeat(25)), None).await.assert_code(404, "OM_API_00050");
}

#[tokio::test]
async fn jobnet_crud_conflicts_and_validation() {
    let s = server(&[]).await;
    let body = r#"{"name":"NA","job":[{"number":1,"command":"true"}]}"#;
    s.call("POST", "projects/PA/jobnets", Some(body)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. jobnetName=NA",
    );
    // The project in the body must match the path.
    s.call(
        "POST",
        "projects/PA/jobnets",
        Some(r#"{"project":"PB","name":"NZ","job":[{"number":1,"command":"true"}]}"#),
    )
    .await
    .assert_error(400, "OM_API_00010", "The parameter is invalid. project=PB");
    // PUT with another name.
    s.call("PUT", "projects/PA/jobnets/NA", Some(r#"{"name":"NQ","job":[{"number":1,"command":"true"}]}"#))
        .await
        .assert_error(400, "OM_API_00010", "The parameter is invalid. name=NQ");
    // PUT/DELETE of a missing jobnet → 404.
    s.call("PUT", "projects/PA/jobnets/GHOST", Some(r#"{"job":[{"number":1,"command":"true"}]}"#))
        .await
        .assert_code(404, "OM_API_00050");
    s.call("DELETE", "projects/PA/jobnets/GHOST", None).await.assert_code(404, "OM_API_00050");
    // A valid PUT answers 200 with the definition; DELETE the empty envelope.
    let r = s
        .call("PUT", "projects/PA/jobnets/NB", Some(r#"{"comment":"changed","job":[{"number":1,"command":"true"}]}"#))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["data"][0]["comment"], json!("changed"));
    s.call("DELETE", "projects/PA/jobnets/NB", None).await.assert_ok_envelope();
    s.call("GET", "projects/PA/jobnets/NB", None).await.assert_code(404, "OM_API_00050");
    // Jobs: duplicate number, missing job.
    s.call("POST", "projects/PA/jobnets/NA/jobs", Some(r#"{"number":1,"command":"true"}"#))
        .await
        .assert_code(409, "OM_API_01009");
    s.call("GET", "projects/PA/jobnets/NA/jobs/42", None).await.assert_code(404, "OM_API_00050");
}

#[tokio::test]
async fn calendars_and_acl_conflicts() {
    let s = server(&[]).await;
    let cal = r#"{"name":"BIZ7","day_change":"05:00","holidays":[]}"#;
    assert_eq!(s.call("POST", "calendars", Some(cal)).await.status, 201);
    s.call("POST", "calendars", Some(cal)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. calendarName=BIZ7",
    );
    s.call("GET", "calendars/NOPE", None).await.assert_code(404, "OM_API_00050");
    s.call("DELETE", "calendars/BIZ7", None).await.assert_ok_envelope();
    // ACL.
    s.user_with("opq", "Oq#12345", &[]);
    s.call("PUT", "projects/PA/acl", Some(r#"{"entries":[{"user":"ghost","right":"reference"}]}"#)).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. user=ghost",
    );
    s.call("PUT", "projects/PA/acl", Some(r#"{"entries":[{"user":"opq","right":"admin"}]}"#)).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. right=admin",
    );
    s.call("PUT", "projects/PA/acl", Some(r#"{"entries":[{"user":"opq","right":"operation"}]}"#))
        .await
        .assert_ok_envelope();
    let v = s.call("GET", "projects/PA/acl", None).await.json();
    assert_eq!(v["data"][0]["entries"], json!([{"user":"opq","right":"operation"}]));
    // The new right applies to the next request.
    assert_eq!(s.call_as("opq:Oq#12345", "GET", "executions/jobnets?projects=PA", None).await.status, 200);
    let r = s.call_as("opq:Oq#12345", "POST", "projects/PA/jobnets/NA/actions/pause", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Replacing with an empty list revokes it: PA becomes invisible.
    s.call("PUT", "projects/PA/acl", Some(r#"{"entries":[]}"#)).await.assert_ok_envelope();
    s.call_as("opq:Oq#12345", "GET", "projects/PA", None).await.assert_code(404, "OM_API_00050");
}

// ---------------------------------------------------------------- admin API (§3.12)

#[tokio::test]
async fn admin_api_conflicts_listing_and_unknowns() {
    let s = server(&[]).await;
    let r = s.admin_api("POST", "jobusers", Some(r#"{"name":"qa_user7","password":"Qq#45678","admin":false}"#)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["data"][0]["name"], json!("qa_user7"));
    assert_eq!(r.json()["data"][0]["admin"], json!(false));
    s.admin_api("POST", "jobusers", Some(r#"{"name":"qa_user7","password":"Qq#45679"}"#)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. name=qa_user7",
    );
    s.admin_api("POST", "jobusers", Some(r#"{"name":"qa_user8","password":"Qq#45678","admin":"yes"}"#))
        .await
        .assert_error(400, "OM_API_00010", "The parameter is invalid. admin=yes");
    s.admin_api("POST", "jobusers", Some(r#"{"name":"qa_user8"}"#)).await.assert_error(
        400,
        "OM_API_00011",
        "A required parameter is not specified. param=password",
    );
    s.admin_api("PUT", "jobusers/qa_user7/password", Some(r#"{"password":"short#1A"}"#)).await.assert_ok_envelope();
    s.admin_api("PUT", "jobusers/qa_user7/password", Some(r#"{"password":"nosymbo1"}"#)).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. password=****",
    );
    s.admin_api("PUT", "jobusers/ghost/password", Some(r#"{"password":"Gg#12345"}"#))
        .await
        .assert_code(404, "OM_API_00050");
    s.admin_api("DELETE", "jobusers/ghost", None).await.assert_code(404, "OM_API_00050");
    s.admin_api("PATCH", "jobusers/qa_user7", Some(r#"{"name":"qa_user9"}"#)).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=name",
    );
    // Listing: asc by default, desc on request; bad direction, unknown parameter.
    let v = s.admin_api("GET", "jobusers?direction=desc", None).await.json();
    let names: Vec<&str> = v["data"].as_array().expect("data").iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["qa_user7", "admin1"]);
    s.admin_api("GET", "jobusers?direction=down", None).await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. direction=down",
    );
    s.admin_api("GET", "jobusers?page=2", None).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=page",
    );
    let v = s.admin_api("GET", "jobusers?search=qa*", None).await.json();
    assert_eq!(v["total"], json!(1));
    // API accounts: the test account has slot 1 filled, slot 2 empty.
    let v = s.admin_api("GET", "apiaccounts/batch01", None).await.json();
    assert_eq!(v["data"][0]["secrets"][0]["secret"], json!("****"));
    assert_eq!(v["data"][0]["secrets"][1], json!({"secretType":2,"secretId":null,"expiresAt":null,"secret":null}));
    s.admin_api("DELETE", "apiaccounts/batch01/secrets/2", None).await.assert_code(404, "OM_API_00050");
    s.admin_api("POST", "apiaccounts/batch01/secrets/0", None).await.assert_code(404, "OM_API_00050");
    s.admin_api("GET", "apiaccounts/ghost", None).await.assert_code(404, "OM_API_00050");
    // A general job user cannot use the admin API.
    let h = vec![("authorization", support::basic("qa_user7:short#1A"))];
    let r = s.send("GET", &format!("{}/t9/envA/admin/v1/jobusers", s.url), &h, None).await;
    r.assert_error(401, "OM_API_00002", "The user ID or password is invalid.");
    let _ = (ADMIN, ADMIN_PW);
}

#[tokio::test]
async fn admin_api_duplicate_account_name_is_01009() {
    let s = server(&[]).await;
    s.admin_api("POST", "apiaccounts", Some(r#"{"name":"batch01"}"#)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. name=batch01",
    );
}

const DCT_DEFS: &str = r#"
[[calendar]]
name = "EARLY5"
day_change = "05:00"

[[jobnet]]
project = "PD"
name = "ND"
comment = "dct"
startup_days = { calendars = ["EARLY5"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "PD"
name = "SLOWD"
[[jobnet.job]]
number = 1
command = "sleep 120"
"#;

// §3.10 conflicts while a jobnet runs, §4.10 WAPI-154 for a user calendar,
// WAPI-143 for restart, and the job list item of a running job.
#[tokio::test]
async fn wapi_156_conflicts_while_running_and_calendar_in_use() {
    let s = start_seeded(DCT_DEFS, at("2026-01-20T00:00:00Z"), &[]).await;
    s.call("DELETE", "calendars/EARLY5", None).await.assert_error(
        409,
        "OM_API_01013",
        "The resource is in use. calendarName=EARLY5",
    );
    s.handle.start_jobnet(&JobnetKey::new("PD", "SLOWD"), None).await.expect("start");
    let v = s.poll_until("executions/jobs?jobnets=SLOWD&statuses=running", |v| v["total"] == json!(1)).await;
    let job = &v["data"][0];
    assert_eq!(
        (job["status"].clone(), job["statusCategory"].clone(), job["state"].clone(), job["jobNumber"].clone()),
        (json!("executing"), json!("running"), json!(null), json!(1))
    );
    assert_eq!((job["completedAt"].clone(), job["executionTime"].clone()), (json!(null), json!(null)));
    let in_use = "The resource is in use. jobnetName=SLOWD";
    s.call("PUT", "projects/PD/jobnets/SLOWD", Some(r#"{"job":[{"number":1,"command":"true"}]}"#)).await.assert_error(
        409,
        "OM_API_01013",
        in_use,
    );
    s.call("DELETE", "projects/PD/jobnets/SLOWD", None).await.assert_error(409, "OM_API_01013", in_use);
    s.call("PUT", "projects/PD/jobnets/SLOWD/jobs/1", Some(r#"{"number":1,"command":"sleep 1"}"#)).await.assert_error(
        409,
        "OM_API_01013",
        in_use,
    );
    s.call("DELETE", "projects/PD", None).await.assert_error(
        409,
        "OM_API_01013",
        "The resource is in use. projectName=PD",
    );
    let state = "The operation cannot be performed in the current state.";
    s.call("POST", "projects/PD/jobnets/SLOWD/actions/restart", None).await.assert_error(
        409,
        "OM_API_01011",
        &format!("{state} operation=restart state=executing"),
    );
    s.call("POST", "projects/PD/jobnets/SLOWD/actions/start-vparam", Some(r#"{"vparam":"Z9"}"#)).await.assert_error(
        409,
        "OM_API_01011",
        &format!("{state} operation=start-vparam state=executing"),
    );
    s.handle.cancel_jobnet(&JobnetKey::new("PD", "SLOWD")).await.expect("cancel");
}

#[tokio::test]
async fn admin_api_missing_and_empty_fields_and_unknown_targets() {
    let s = server(&[]).await;
    let required = |p: &str| format!("A required parameter is not specified. param={p}");
    s.admin_api("PUT", "jobusers/admin1/password", Some("{}")).await.assert_error(
        400,
        "OM_API_00011",
        &required("password"),
    );
    s.admin_api("PUT", "jobusers/admin1/password", Some(r#"{"password":""}"#)).await.assert_error(
        400,
        "OM_API_00011",
        &required("password"),
    );
    s.admin_api("POST", "jobusers", Some(r#"{"name":"","password":"Aa#12345"}"#)).await.assert_error(
        400,
        "OM_API_00011",
        &required("name"),
    );
    s.admin_api("POST", "apiaccounts", Some(r#"{"name":""}"#)).await.assert_error(
        400,
        "OM_API_00011",
        &required("name"),
    );
    s.admin_api("PATCH", "jobusers/admin1", Some(r#"{"colour":"x"}"#)).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=colour",
    );
    for (m, path) in
        [("PATCH", "jobusers/ghost"), ("POST", "apiaccounts/ghost/secrets/1"), ("DELETE", "apiaccounts/ghost")]
    {
        let body = if m == "PATCH" { Some("{}") } else { None };
        s.admin_api(m, path, body).await.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    }
    // Spec 04 §3.1: the body (an unchangeable field is an unknown key) is
    // checked before the lookup, so an unknown user with `admin` gets 400.
    s.admin_api("PATCH", "jobusers/ghost", Some(r#"{"admin":true}"#)).await.assert_error(
        400,
        "OM_API_00012",
        "An unnecessary parameter is specified. param=admin",
    );
    let v = s.admin_api("GET", "apiaccounts?direction=desc&search=b*", None).await.json();
    assert_eq!(v["total"], json!(1));
    assert_eq!(v["data"][0]["clientId"], json!(s.client_id));
}

// §3.1 steps 1–3 come before the query-string rules; wrong methods are 405 with Allow.
#[tokio::test]
async fn routing_and_authentication_precede_query_checks() {
    let s = server(&five()).await;
    let r = s.send("GET", &format!("{}/v1/executions/jobnets?bogus=1&limit=0", s.base()), &[], None).await;
    r.assert_error(401, "OM_API_00001", "Authentication information is required. code=00011");
    let r = s.call("PUT", "executions/jobnets?bogus=1", Some("{}")).await;
    r.assert_error(405, "OM_API_00050", "The specified resource does not exist.");
    assert_eq!(r.header("allow"), Some("GET"));
    let r = s.call("POST", &format!("executions/jobnets/{}", jne(1)), Some("{}")).await;
    r.assert_code(405, "OM_API_00050");
    assert_eq!(r.header("allow"), Some("GET, DELETE"));
    let h = s.admin_headers().await;
    let r = s.send("GET", &format!("{}/t9/envB/api/v1/executions/jobnets", s.url), &h, None).await;
    r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    s.call("GET", "executions/nothing", None).await.assert_code(404, "OM_API_00050");
}
