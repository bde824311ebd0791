//! Definitions CRUD over real HTTP on loopback (spec 04 §3.10, §3.11,
//! behaviors §4.10), and the OpenAPI document covering every route.

mod support;

use serde_json::json;
use support::{Server, start_with};
use woi_adapters::auth::Right;
use woi_core::JobnetKey;
use woi_core::store::Store;

const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "slow"
[[jobnet.job]]
number = 1
command = "sleep 120"

[[jobnet]]
project = "営業関係-01"
name = "JK"
comment = "kanji"
[[jobnet.job]]
number = 1
command = "true"
"#;

async fn server() -> Server {
    start_with(DEFS, chrono::Utc::now()).await
}

// WAPI-151
#[tokio::test]
async fn wapi_151_general_user_cannot_create_a_project() {
    let s = server().await;
    s.user_with("upd1", "Uu#12345", &[("P1", Right::Update)]);
    let r = s.call_as("upd1:Uu#12345", "POST", "projects", Some(r#"{"projectName":"P7"}"#)).await;
    r.assert_error(
        403,
        "OM_API_01003",
        "You do not have permission to perform this operation. operation=project.create",
    );
    let r = s.call("POST", "projects", Some(r#"{"projectName":"P7"}"#)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["data"][0], json!({"projectName":"P7","owner":"jobuser","jobnets":0}));
    assert_eq!(r.header("location"), Some("/t9/envA/api/v1/projects/P7"));
    // Stored in the definitions, valid for `woi validate`.
    let files = s.store.definitions().await.expect("definitions");
    assert_eq!(files.len(), 1);
    assert!(files[0].text.contains("\"P7\""));
}

// WAPI-152
#[tokio::test]
async fn wapi_152_duplicate_project_is_01009() {
    let s = server().await;
    let r = s.call("POST", "projects", Some(r#"{"projectName":"P1"}"#)).await;
    r.assert_error(409, "OM_API_01009", "The resource already exists. projectName=P1");
}

// WAPI-153
#[tokio::test]
async fn wapi_153_reserved_project_name_is_00010() {
    let s = server().await;
    let r = s.call("POST", "projects", Some(r#"{"projectName":"temp"}"#)).await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. projectName=temp");
    s.call("POST", "projects", Some(r#"{"projectName":"a b"}"#)).await.assert_code(400, "OM_API_00010");
}

// WAPI-154
#[tokio::test]
async fn wapi_154_system_calendar_cannot_be_deleted() {
    let s = server().await;
    let r = s.call("DELETE", "calendars/SYSTEM_CALENDAR", None).await;
    r.assert_error(409, "OM_API_01013", "The resource is in use. calendarName=SYSTEM_CALENDAR");
}

// WAPI-155
#[tokio::test]
async fn wapi_155_fresh_system_calendar_is_all_operating_days_from_00_00() {
    let s = server().await;
    let v = s.call("GET", "calendars/SYSTEM_CALENDAR", None).await.json();
    let c = &v["data"][0];
    assert_eq!(c["calendarName"], json!("SYSTEM_CALENDAR"));
    assert_eq!(c["day_change"], json!("00:00"));
    assert_eq!(c["holidays"], json!([]));
    // A general user without any right may read calendars too.
    s.user_with("nobody", "Nn#12345", &[]);
    assert_eq!(s.call_as("nobody:Nn#12345", "GET", "calendars", None).await.json()["total"], json!(1));
}

// WAPI-156
#[tokio::test]
async fn wapi_156_put_of_an_executing_jobnet_is_01013() {
    let s = server().await;
    s.handle.start_jobnet(&JobnetKey::new("P1", "J1"), None).await.expect("start");
    let body = r#"{"comment":"changed","job":[{"number":1,"command":"true"}]}"#;
    let r = s.call("PUT", "projects/P1/jobnets/J1", Some(body)).await;
    r.assert_error(409, "OM_API_01013", "The resource is in use. jobnetName=J1");
    s.handle.cancel_jobnet(&JobnetKey::new("P1", "J1")).await.expect("cancel");
    s.wait_ended("P1/J1", 1).await;
    let r = s.call("PUT", "projects/P1/jobnets/J1", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = s.call("GET", "projects/P1/jobnets/J1", None).await.json();
    assert_eq!(v["data"][0]["comment"], json!("changed"));
    // Live: the running scheduler took the change (reset to Waiting) and runs the new command.
    let key = JobnetKey::new("P1", "J1");
    let view = s.handle.jobnets().await.expect("views").into_iter().find(|v| v.key == key).expect("J1");
    assert_eq!(view.status, woi_core::JobnetStatus::Waiting);
    s.handle.start_jobnet(&key, None).await.expect("start");
    s.wait_ended("P1/J1", 2).await;
    let view = s.handle.jobnets().await.expect("views").into_iter().find(|v| v.key == key).expect("J1");
    assert_eq!(view.status, woi_core::JobnetStatus::Completed);
}

// WAPI-157
#[tokio::test]
async fn wapi_157_change_right_defines_but_cannot_operate() {
    let s = server().await;
    s.user_with("chg1", "Cc#12345", &[("P1", Right::Change)]);
    let body = r#"{"name":"J9","comment":"new","job":[{"number":1,"command":"true"}]}"#;
    let r = s.call_as("chg1:Cc#12345", "POST", "projects/P1/jobnets", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["data"][0]["project"], json!("P1"));
    let r = s.call_as("chg1:Cc#12345", "POST", "projects/P1/jobnets/J1/actions/start", None).await;
    r.assert_code(403, "OM_API_01003");
    // An invalid definition is refused with the validator's problem.
    let bad = r#"{"name":"J8","comment":"has space","job":[{"number":1,"command":"true"}]}"#;
    s.call_as("chg1:Cc#12345", "POST", "projects/P1/jobnets", Some(bad)).await.assert_code(400, "OM_API_00010");
    let dup = r#"{"name":"J9","comment":"new","job":[{"number":1,"command":"true"}]}"#;
    let r = s.call_as("chg1:Cc#12345", "POST", "projects/P1/jobnets", Some(dup)).await;
    r.assert_error(409, "OM_API_01009", "The resource already exists. jobnetName=J9");
    // Reference cannot define.
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    let other = r#"{"name":"J7","job":[{"number":1,"command":"true"}]}"#;
    s.call_as("ref1:Rr#12345", "POST", "projects/P1/jobnets", Some(other)).await.assert_code(403, "OM_API_01003");
}

// WAPI-158
#[tokio::test]
async fn wapi_158_percent_encoded_utf8_project_name() {
    let s = server().await;
    let r = s.call("GET", "projects/%E5%96%B6%E6%A5%AD%E9%96%A2%E4%BF%82-01", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["data"][0]["projectName"], json!("営業関係-01"));
    let r = s.call("GET", "projects/%E5%96%B6%E6%A5%AD%E9%96%A2%E4%BF%82-01/jobnets/JK", None).await;
    assert_eq!(r.json()["data"][0]["name"], json!("JK"));
}

// WAPI-160
#[tokio::test]
async fn wapi_160_the_256th_job_is_01012() {
    let s = server().await;
    let jobs: Vec<serde_json::Value> = (1..=255).map(|n| json!({"number": n, "command": "true"})).collect();
    let body = json!({"name": "BIG", "job": jobs}).to_string();
    let r = s.call("POST", "projects/P1/jobnets", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", &r.text[..r.text.len().min(300)]);
    let r = s.call("POST", "projects/P1/jobnets/BIG/jobs", Some(r#"{"number":256,"command":"true"}"#)).await;
    r.assert_error(409, "OM_API_01012", "The maximum number of resources has been reached. resource=job limit=255");
}

#[tokio::test]
async fn invisible_projects_are_404_and_lists_omit_them() {
    let s = server().await;
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    let v = s.call_as("ref1:Rr#12345", "GET", "projects", None).await.json();
    assert_eq!(v["data"], json!([{"projectName":"P1","owner":"jobuser","jobnets":1}]));
    s.call_as("ref1:Rr#12345", "GET", "projects/%E5%96%B6%E6%A5%AD%E9%96%A2%E4%BF%82-01", None)
        .await
        .assert_code(404, "OM_API_00050");
}

#[tokio::test]
async fn openapi_document_lists_every_route_of_the_router() {
    let s = server().await;
    let r = s.send("GET", &format!("{}/openapi.json", s.base()), &[], None).await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    let table = woi_server::route_table();
    assert!(table.len() >= 30, "{}", table.len());
    for route in &table {
        let item = paths.get(route.path).unwrap_or_else(|| panic!("{} missing from the document", route.path));
        for m in route.methods.split(", ") {
            assert!(item.get(m.to_ascii_lowercase()).is_some(), "{m} {} missing", route.path);
        }
        // Every route answers something other than the router's fallback 404 for its first method.
        let url = format!("{}{}", s.url, route.path.replace("{tenant}", "t9").replace("{environment}", "envA"));
        let first = route.methods.split(", ").next().unwrap_or("GET");
        let reply = s.send(first, &url, &[], None).await;
        assert_ne!(
            (reply.status, reply.text.contains("OM_API_00050")),
            (404, true),
            "{first} {} is not routed",
            route.path
        );
    }
    assert_eq!(paths.len(), table.len(), "the document has no route the router lacks");
}

// MODEL-076
#[tokio::test]
async fn model_076_general_users_cannot_create_calendars_change_day_change_or_create_projects() {
    let s = server().await;
    s.user_with("upd2", "Uu#12345", &[("P1", Right::Update)]);
    let as_general = |method: &'static str, path: &'static str, body: &'static str| {
        let s = &s;
        async move { s.call_as("upd2:Uu#12345", method, path, Some(body)).await }
    };
    // Creating a calendar.
    let cal = r#"{"name":"BIZ","day_change":"06:00","holidays":[]}"#;
    as_general("POST", "calendars", cal).await.assert_code(403, "OM_API_01003");
    // Changing the day-change time (of the built-in calendar).
    let dct = r#"{"name":"SYSTEM_CALENDAR","day_change":"06:00","holidays":[]}"#;
    as_general("PUT", "calendars/SYSTEM_CALENDAR", dct).await.assert_code(403, "OM_API_01003");
    // Creating a project.
    as_general("POST", "projects", r#"{"projectName":"P8"}"#).await.assert_code(403, "OM_API_01003");
    // Nothing changed; an administrator may do the same.
    let v = s.call("GET", "calendars/SYSTEM_CALENDAR", None).await.json();
    assert_eq!(v["data"][0]["day_change"], json!("00:00"));
    let r = s.call("POST", "calendars", Some(cal)).await;
    assert_eq!(r.status, 201, "{}", r.text);
}
