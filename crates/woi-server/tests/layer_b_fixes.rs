//! Fixes of the Layer B QA findings (qa-findings-layer-b.md B-1 … B-4,
//! B-6 msgevents, B-7 … B-9), over real HTTP: spec 04 §3.1 steps 6–7 for
//! definition bodies, §3.1 query strings on every Layer B route, §2.6
//! `operationDate` as the business date, §3.10 `…/jobnets/{j}/msgevents`,
//! §3.8.3 strict dates and §3.9.2 operations-list values.

mod support;

use serde_json::{Value, json};
use support::{Reply, Server, at, start_seeded};
use woi_adapters::auth::Right;
use woi_core::store::Store;
use woi_core::{Event, EventKind, JobnetKey, JobnetStatus};

const DEFS: &str = r#"
[environment]
timezone = "UTC"

[[calendar]]
name = "EARLY5"
day_change = "05:00"

[[jobnet]]
project = "PA"
name = "NA"
comment = "alpha"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
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
project = "PD"
name = "ND"
comment = "dct"
startup_days = { calendars = ["EARLY5"] }
[[jobnet.job]]
number = 1
command = "true"
"#;

/// One finished run per `(project, jobnet, run, started, ended)`: seq 1/2, 3/4, …
fn seed(runs: &[(&str, &str, u32, &str, &str)]) -> Vec<Event> {
    let mut events = Vec::new();
    for (p, j, run, started, ended) in runs {
        let jobnet = JobnetKey::new(p, j);
        let seq = events.len() as u64 + 1;
        let kind = EventKind::JobnetStatus {
            jobnet: jobnet.clone(),
            run: *run,
            status: JobnetStatus::Executing,
            exit_code: None,
        };
        events.push(Event { seq, at: at(started), kind });
        let kind = EventKind::JobnetStatus { jobnet, run: *run, status: JobnetStatus::Completed, exit_code: Some(0) };
        events.push(Event { seq: seq + 1, at: at(ended), kind });
    }
    events
}

async fn server(seeded: &[Event]) -> Server {
    start_seeded(DEFS, at("2026-01-20T00:00:00Z"), seeded).await
}

fn ids(r: &Reply) -> Vec<String> {
    let v = r.json();
    v["data"].as_array().expect("data").iter().map(|e| e["id"].as_str().expect("id").to_string()).collect()
}

/// The definitions as the API shows them (to prove a refusal changed nothing).
async fn definitions(s: &Server) -> (String, String, String) {
    (
        s.call("GET", "projects/PA/jobnets", None).await.text,
        s.call("GET", "projects/PA/jobnets/NA/jobs", None).await.text,
        s.call("GET", "calendars", None).await.text,
    )
}

// §3.1 step 6 (B-1): a duplicated key in a definition body is 00013, named by
// its first occurrence in the document, and nothing is stored.
#[tokio::test]
async fn s3_1_step6_duplicate_keys_in_definition_bodies_are_00013() {
    let s = server(&[]).await;
    let before = definitions(&s).await;
    let stored = s.store.definitions().await.expect("definitions");
    let dup = |k: &str| format!("The parameter is specified in duplicate. param={k}");
    let cases = [
        ("POST", "projects/PA/jobnets", r#"{"name":"N1","name":"N2","job":[{"number":1,"command":"true"}]}"#, "name"),
        ("POST", "projects/PA/jobnets", r#"{"comment":"a","name":"N1","comment":"b"}"#, "comment"),
        ("PUT", "projects/PA/jobnets/NB", r#"{"comment":"x","job":[],"comment":"y"}"#, "comment"),
        ("POST", "projects/PA/jobnets/NA/jobs", r#"{"number":2,"number":3,"command":"true"}"#, "number"),
        ("PUT", "projects/PA/jobnets/NA/jobs/1", r#"{"command":"true","command":"false"}"#, "command"),
        ("POST", "calendars", r#"{"name":"C1","holidays":[],"name":"C2"}"#, "name"),
        ("PUT", "calendars/EARLY5", r#"{"day_change":"04:00","day_change":"06:00"}"#, "day_change"),
    ];
    for (method, path, body, key) in cases {
        s.call(method, path, Some(body)).await.assert_error(400, "OM_API_00013", &dup(key));
    }
    // Duplicates come before unknown keys (step 6 before 7).
    s.call("POST", "projects/PA/jobnets", Some(r#"{"zz":1,"name":"N1","name":"N2"}"#)).await.assert_error(
        400,
        "OM_API_00013",
        &dup("name"),
    );
    assert_eq!(definitions(&s).await, before);
    assert_eq!(s.store.definitions().await.expect("definitions"), stored);
    for n in ["N1", "N2"] {
        s.call("GET", &format!("projects/PA/jobnets/{n}"), None).await.assert_code(404, "OM_API_00050");
    }
}

// §3.1 step 7 (B-2): a key the definition object does not have is 00012
// (the first unknown one in document order); nothing is stored.
#[tokio::test]
async fn s3_1_step7_unknown_keys_in_definition_bodies_are_00012() {
    let s = server(&[]).await;
    let before = definitions(&s).await;
    let unknown = |k: &str| format!("An unnecessary parameter is specified. param={k}");
    let cases = [
        (
            "POST",
            "projects/PA/jobnets",
            r#"{"name":"N3","colour":"red","job":[{"number":1,"command":"true"}]}"#,
            "colour",
        ),
        ("POST", "projects/PA/jobnets", r#"{"zeta":1,"name":"N3","alpha":2}"#, "zeta"),
        ("PUT", "projects/PA/jobnets/NB", r#"{"job":[{"number":1,"command":"true"}],"jobs":[]}"#, "jobs"),
        ("POST", "projects/PA/jobnets/NA/jobs", r#"{"number":2,"command":"true","bogus":1}"#, "bogus"),
        ("PUT", "projects/PA/jobnets/NA/jobs/1", r#"{"command":"true","jobName":"x"}"#, "jobName"),
        ("POST", "calendars", r#"{"name":"C1","dayChange":"05:00"}"#, "dayChange"),
        ("PUT", "calendars/EARLY5", r#"{"day_change":"04:00","holiday":[]}"#, "holiday"),
    ];
    for (method, path, body, key) in cases {
        s.call(method, path, Some(body)).await.assert_error(400, "OM_API_00012", &unknown(key));
    }
    assert_eq!(definitions(&s).await, before);
    s.call("GET", "projects/PA/jobnets/N3", None).await.assert_code(404, "OM_API_00050");
    // Known keys still work, `null` counts as absent, and a calendar may
    // carry `calendarName` as its responses do.
    let r = s
        .call("POST", "projects/PA/jobnets", Some(r#"{"name":"N4","memo":null,"job":[{"number":1,"command":"true"}]}"#))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.call("POST", "calendars", Some(r#"{"calendarName":"C9","day_change":"03:00"}"#)).await;
    assert_eq!((r.status, r.json()["data"][0]["calendarName"].clone()), (201, json!("C9")), "{}", r.text);
    let back = r.json()["data"][0].to_string();
    let r = s.call("PUT", "calendars/C9", Some(&back)).await;
    assert_eq!(r.status, 200, "a GET/POST answer can be PUT back: {}", r.text);
}

// §3.1 query strings (B-4): every Layer B route refuses a parameter it does
// not take with 00012, before it looks anything up or changes anything.
#[tokio::test]
async fn s3_1_unknown_query_parameter_on_every_layer_b_route_is_00012() {
    let s = server(&seed(&[("PA", "NB", 1, "2026-01-02T10:00:00Z", "2026-01-02T10:00:30Z")])).await;
    let x = "An unnecessary parameter is specified. param=x";
    let gets = [
        "executions/jobnets/jne-000001/messages",
        "executions/jobs/jbe-000001/messages",
        "projects",
        "projects/PA",
        "projects/PA/acl",
        "projects/PA/jobnets",
        "projects/PA/jobnets/NA",
        "projects/PA/jobnets/NA/status",
        "projects/PA/jobnets/NA/msgevents",
        "projects/PA/jobnets/NA/jobs",
        "projects/PA/jobnets/NA/jobs/1",
        "calendars",
        "calendars/EARLY5",
    ];
    for path in gets {
        if !path.starts_with("executions/jobs/") {
            assert_eq!(s.call("GET", path, None).await.status, 200, "{path} without a query");
        }
        s.call("GET", &format!("{path}?x=1"), None).await.assert_error(400, "OM_API_00012", x);
        // The first unknown name in order is reported.
        s.call("GET", &format!("{path}?x=1&y=2"), None).await.assert_error(400, "OM_API_00012", x);
    }
    // Writes are refused and change nothing.
    let status = s.call("GET", "projects/PA/jobnets/NB/status", None).await.json()["data"][0]["status"].clone();
    s.call("POST", "projects/PA/jobnets/NB/actions/pause?x=1", None).await.assert_error(400, "OM_API_00012", x);
    s.call("POST", "projects/PA/jobnets/NB/jobs/1/actions/disable?x=1", None).await.assert_error(
        400,
        "OM_API_00012",
        x,
    );
    s.call("POST", "projects/PA/jobnets/NB/actions/start?x=1", None).await.assert_error(400, "OM_API_00012", x);
    assert_eq!(s.call("GET", "projects/PA/jobnets/NB/status", None).await.json()["data"][0]["status"], status);
    assert_eq!(s.call("GET", "operations?allUsers=true", None).await.json()["total"], json!(0));
    let before = definitions(&s).await;
    for path in ["projects/PA/jobnets/NB", "projects/PA/jobnets/NA/jobs/1", "calendars/EARLY5", "projects/PA"] {
        s.call("DELETE", &format!("{path}?x=1"), None).await.assert_error(400, "OM_API_00012", x);
    }
    for path in ["executions/jobnets/jne-000001", "executions/jobs/jbe-000001"] {
        s.call("DELETE", &format!("{path}?x=1"), None).await.assert_error(400, "OM_API_00012", x);
    }
    let writes = [
        ("POST", "projects", r#"{"projectName":"PZ"}"#),
        ("PUT", "projects/PA/acl", r#"{"entries":[]}"#),
        ("POST", "projects/PA/jobnets", r#"{"name":"NZ","job":[{"number":1,"command":"true"}]}"#),
        ("PUT", "projects/PA/jobnets/NB", r#"{"comment":"changed","job":[{"number":1,"command":"true"}]}"#),
        ("POST", "projects/PA/jobnets/NA/jobs", r#"{"number":2,"command":"true"}"#),
        ("PUT", "projects/PA/jobnets/NA/jobs/1", r#"{"command":"false"}"#),
        ("POST", "calendars", r#"{"name":"CZ"}"#),
        ("PUT", "calendars/EARLY5", r#"{"day_change":"06:00"}"#),
    ];
    for (method, path, body) in writes {
        s.call(method, &format!("{path}?x=1"), Some(body)).await.assert_error(400, "OM_API_00012", x);
    }
    assert_eq!(definitions(&s).await, before);
    assert_eq!(s.call("GET", "projects", None).await.json()["total"], json!(2));
    assert_eq!(s.call("GET", "projects/PA/jobnets/NB", None).await.status, 200);
}

// §2.6 `operationDate` (B-3): the business date under the jobnet's
// day-change time (spec 01 §3, D9), for the field and the filter.
#[tokio::test]
async fn s2_6_operation_date_is_the_business_date_under_the_day_change_time() {
    let s = server(&seed(&[
        ("PD", "ND", 1, "2026-01-10T03:00:00Z", "2026-01-10T03:00:05Z"),
        ("PD", "ND", 2, "2026-01-10T05:00:00Z", "2026-01-10T05:00:05Z"),
        ("PA", "NB", 1, "2026-01-10T03:30:00Z", "2026-01-10T03:30:05Z"),
    ]))
    .await;
    let date = |id: &str| {
        let s = &s;
        let id = id.to_string();
        async move {
            s.call("GET", &format!("executions/jobnets/{id}"), None).await.json()["data"][0]["operationDate"].clone()
        }
    };
    // 03:00 is before EARLY5's 05:00 day change: the previous business date.
    assert_eq!(date("jne-000001").await, json!("2026-01-09"));
    assert_eq!(date("jne-000003").await, json!("2026-01-10"));
    // SYSTEM_CALENDAR changes the day at 00:00.
    assert_eq!(date("jne-000005").await, json!("2026-01-10"));
    let list = s.call("GET", "executions/jobnets?sortField=startedAt&direction=asc", None).await.json();
    let dates: Vec<Value> = list["data"].as_array().expect("data").iter().map(|e| e["operationDate"].clone()).collect();
    assert_eq!(dates, [json!("2026-01-09"), json!("2026-01-10"), json!("2026-01-10")]);
    let get = async |q: &str| ids(&s.call("GET", &format!("executions/jobnets?{q}"), None).await);
    assert_eq!(get("operationDate=2026-01-09").await, ["jne-000001"]);
    assert_eq!(get("operationDate=2026-01-10").await, ["jne-000003", "jne-000005"]);
    assert_eq!(get("projects=PD&operationDate=2026-01-10").await, ["jne-000003"]);
    let r = s.call("GET", "projects/PD/jobnets/ND/executions?operationDate=2026-01-09", None).await;
    assert_eq!(ids(&r), ["jne-000001"]);
}

// §3.10 / §2.6 MessageEventStatus (B-6): one object per waited event in
// definition order; reference right; 404 as the sibling routes.
#[tokio::test]
async fn s3_10_jobnet_msgevents_lists_message_event_status_per_waited_event() {
    let s = server(&[]).await;
    s.user_with("ref1", "Rr#12345", &[("PA", Right::Reference)]);
    s.user_with("pd1", "Pp#12345", &[("PD", Right::Update)]);
    let r = s.call("GET", "projects/PA/jobnets/NA/msgevents", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"next":false,"total":2,"data":[
            {"messageName":"EV1","count":0,"occurred":false,"lastOccurredAt":null},
            {"messageName":"EV2","count":0,"occurred":false,"lastOccurredAt":null}
        ]})
    );
    s.post("msgevent", r#"{"messagename":"EV1","projectname":"PA","jobnetname":"NA"}"#).await.assert_ok_envelope();
    let v = s.call_as("ref1:Rr#12345", "GET", "projects/PA/jobnets/NA/msgevents", None).await.json();
    let data = v["data"].as_array().expect("data");
    assert_eq!(
        (data[0]["messageName"].clone(), data[0]["count"].clone(), data[0]["occurred"].clone()),
        (json!("EV1"), json!(1), json!(true))
    );
    let last = data[0]["lastOccurredAt"].as_str().expect("lastOccurredAt");
    assert!(chrono::DateTime::parse_from_rfc3339(last).is_ok() && last.ends_with('Z'), "{last}");
    assert_eq!(data[1], json!({"messageName":"EV2","count":0,"occurred":false,"lastOccurredAt":null}));
    // A jobnet without a message-event wait: no entries.
    assert_eq!(s.call("GET", "projects/PA/jobnets/NB/msgevents", None).await.json()["total"], json!(0));
    // Unknown jobnet or project, or a project the caller has no right on: 404.
    for (who, path) in [
        ("admin1:Aa#12345", "projects/PA/jobnets/NOPE/msgevents"),
        ("admin1:Aa#12345", "projects/PX/jobnets/NA/msgevents"),
        ("pd1:Pp#12345", "projects/PA/jobnets/NA/msgevents"),
    ] {
        s.call_as(who, "GET", path, None).await.assert_error(
            404,
            "OM_API_00050",
            "The specified resource does not exist.",
        );
    }
    let r = s.call("POST", "projects/PA/jobnets/NA/msgevents", None).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
    // The route is in the OpenAPI document.
    let doc = s.send("GET", &format!("{}/openapi.json", s.base()), &[], None).await.json();
    assert!(
        doc["paths"]["/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/msgevents"]["get"].is_object()
    );
}

// §3.1 step 10 / §3.9.2 (B-7, B-9): the operations list echoes the raw value
// and refuses states and kinds outside their closed sets.
#[tokio::test]
async fn s3_9_2_operations_list_validates_statuses_states_and_kinds() {
    let s = server(&[]).await;
    for (q, shown) in [
        ("statuses=Done", "statuses=Done"),
        ("statuses=queued,Finished", "statuses=Finished"),
        ("states=BOGUS", "states=BOGUS"),
        ("states=normal,Broken", "states=Broken"),
        ("kinds=jobnet.explode", "kinds=jobnet.explode"),
        ("kinds=JOBNET.START", "kinds=JOBNET.START"),
    ] {
        s.call("GET", &format!("operations?{q}"), None).await.assert_error(
            400,
            "OM_API_00010",
            &format!("The parameter is invalid. {shown}"),
        );
    }
    for q in [
        "statuses=Completed",
        "states=NORMAL,warning,PARTIAL_FAILURES,error",
        "kinds=jobnet.start,jobnet.start-vparam,jobnet.restart,jobnet.cancel,job.restart,job.cancel",
        "kinds=execution.cancel,project.import,project.export",
    ] {
        assert_eq!(s.call("GET", &format!("operations?{q}"), None).await.status, 200, "{q}");
    }
}

// §3.8.3 (B-8): a date is strict `yyyy-MM-dd`; anything else is 00010 with the raw value.
#[tokio::test]
async fn s3_8_3_dates_are_strict_yyyy_mm_dd() {
    let s = server(&seed(&[("PA", "NB", 1, "2026-01-05T10:00:00Z", "2026-01-05T10:00:30Z")])).await;
    for p in ["completedBefore", "completedAfter", "startedBefore", "startedAfter", "operationDate"] {
        for v in ["2026-1-5", "2026-01-5", "2026-1-05", "+2026-01-05", "02026-01-05", "2026-01-05 "] {
            for list in ["executions/jobnets", "executions/jobs", "projects/PA/jobnets/NB/executions"] {
                let q: String = form_urlencoded::Serializer::new(String::new()).append_pair(p, v).finish();
                s.call("GET", &format!("{list}?{q}"), None).await.assert_error(
                    400,
                    "OM_API_00010",
                    &format!("The parameter is invalid. {p}={v}"),
                );
            }
        }
    }
    let get = async |q: &str| ids(&s.call("GET", &format!("executions/jobnets?{q}"), None).await);
    assert_eq!(get("completedBefore=2026-01-06").await, ["jne-000001"]);
    assert_eq!(get("operationDate=2026-01-05").await, ["jne-000001"]);
}
