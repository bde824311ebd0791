//! The order of the common request pipeline (spec 04 §3.1): the first failing
//! step answers. The body (steps 5–11) is checked before the resource lookup
//! and the permission (step 12, `404 OM_API_00050` / `403 OM_API_01003`), and
//! the checks that need the resource (already exists, in use) come after the
//! permission. Every route with a body is covered, plus the query-string
//! routes that look a resource up, the admin API and Layer A.

mod support;

use support::{Reply, Server, start_with};
use woi_adapters::auth::Right;

const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "one"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P2"
name = "J2"
comment = "two"
[[jobnet.job]]
number = 1
command = "true"
"#;

/// Reference on P1 only: sees P1, may neither define nor operate; P2 is invisible.
const REF: &str = "ref1:Rr#12345";
/// Update on P1, not an admin: no project, ACL or calendar writes.
const UPD: &str = "upd1:Uu#12345";

async fn server() -> Server {
    let s = start_with(DEFS, chrono::Utc::now()).await;
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    s.user_with("upd1", "Uu#12345", &[("P1", Right::Update)]);
    s
}

#[track_caller]
fn not_an_object(r: &Reply) {
    r.assert_error(400, "OM_API_00099", "An internal error occurred. detail=request body is not a JSON object");
}

#[track_caller]
fn forbidden(r: &Reply, operation: &str) {
    r.assert_error(
        403,
        "OM_API_01003",
        &format!("You do not have permission to perform this operation. operation={operation}"),
    );
}

#[track_caller]
fn not_found(r: &Reply) {
    r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
}

#[track_caller]
fn unknown_key(r: &Reply, key: &str) {
    r.assert_error(400, "OM_API_00012", &format!("An unnecessary parameter is specified. param={key}"));
}

#[track_caller]
fn invalid(r: &Reply, key: &str, value: &str) {
    r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {key}={value}"));
}

/// `OM_API_00010` whose value is the model's own problem text (not fixed here).
#[track_caller]
fn invalid_field(r: &Reply, key: &str) {
    r.assert_code(400, "OM_API_00010");
    let (_, _, message) = r.error();
    assert!(message.starts_with(&format!("The parameter is invalid. {key}=")), "{message}");
}

// ----- body before permission and lookup: definitions -----------------------

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_create_project() {
    let s = server().await;
    not_an_object(&s.call_as(UPD, "POST", "projects", Some("[1]")).await);
    not_an_object(&s.call_as(UPD, "POST", "projects", Some("")).await);
    unknown_key(&s.call_as(UPD, "POST", "projects", Some(r#"{"projectName":"P7","owner":"x"}"#)).await, "owner");
    s.call_as(UPD, "POST", "projects", Some("{}")).await.assert_error(
        400,
        "OM_API_00011",
        "A required parameter is not specified. param=projectName",
    );
    invalid(&s.call_as(UPD, "POST", "projects", Some(r#"{"projectName":"temp"}"#)).await, "projectName", "temp");
    // Well-formed: the permission still answers, before "already exists".
    forbidden(&s.call_as(UPD, "POST", "projects", Some(r#"{"projectName":"P7"}"#)).await, "project.create");
    forbidden(&s.call_as(UPD, "POST", "projects", Some(r#"{"projectName":"P1"}"#)).await, "project.create");
    // The admin passes every step.
    assert_eq!(s.call("POST", "projects", Some(r#"{"projectName":"P7"}"#)).await.status, 201);
}

#[tokio::test]
async fn wapi_3_1_body_size_and_media_type_are_checked_before_permission() {
    let s = server().await;
    let mut h = s.user_headers(UPD).await;
    let url = format!("{}/v1/projects", s.base());
    let big = format!(r#"{{"projectName":"{}"}}"#, "x".repeat(70 * 1024));
    let r = s.send("POST", &url, &h, Some(big.as_bytes())).await;
    r.assert_error(413, "OM_API_01015", "The request body is too large. limit=65536");
    h.retain(|(k, _)| *k != "content-type");
    h.push(("content-type", "text/plain".into()));
    let r = s.send("POST", &url, &h, Some(br#"{"projectName":"P7"}"#)).await;
    r.assert_error(415, "OM_API_01016", "The media type is not supported. type=text/plain");
    // The same for a jobnet in a missing project (404 once the body is fine).
    let url = format!("{}/v1/projects/NOPE/jobnets", s.base());
    let r = s.send("POST", &url, &h, Some(br#"{"name":"J9"}"#)).await;
    r.assert_code(415, "OM_API_01016");
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_put_acl() {
    let s = server().await;
    let good = r#"{"entries":[{"user":"ref1","right":"operation"}]}"#;
    for p in ["P1", "P2", "NOPE"] {
        let path = format!("projects/{p}/acl");
        not_an_object(&s.call_as(UPD, "PUT", &path, Some("\"entries\"")).await);
        unknown_key(&s.call_as(UPD, "PUT", &path, Some(r#"{"entries":[],"owner":"x"}"#)).await, "owner");
        s.call_as(UPD, "PUT", &path, Some(r#"{"entries":[],"entries":[]}"#)).await.assert_error(
            400,
            "OM_API_00013",
            "The parameter is specified in duplicate. param=entries",
        );
        s.call_as(UPD, "PUT", &path, Some(r#"{"entries":null}"#)).await.assert_error(
            400,
            "OM_API_00011",
            "A required parameter is not specified. param=entries",
        );
        invalid(&s.call_as(UPD, "PUT", &path, Some(r#"{"entries":"x"}"#)).await, "entries", "\"x\"");
        let bad_right = r#"{"entries":[{"user":"ref1","right":"boss"}]}"#;
        invalid(&s.call_as(UPD, "PUT", &path, Some(bad_right)).await, "right", "boss");
        invalid(&s.call_as(UPD, "PUT", &path, Some(r#"{"entries":[{"right":"operation"}]}"#)).await, "user", "");
    }
    // Well-formed: lookup, then permission.
    forbidden(&s.call_as(UPD, "PUT", "projects/P1/acl", Some(good)).await, "project.acl");
    not_found(&s.call_as(UPD, "PUT", "projects/P2/acl", Some(good)).await);
    not_found(&s.call_as(UPD, "PUT", "projects/NOPE/acl", Some(good)).await);
    // Whether a user exists is checked after the permission (it needs the
    // user store): a caller without the right learns nothing from it.
    let ghost = r#"{"entries":[{"user":"ghost","right":"operation"}]}"#;
    forbidden(&s.call_as(UPD, "PUT", "projects/P1/acl", Some(ghost)).await, "project.acl");
    invalid(&s.call("PUT", "projects/P1/acl", Some(ghost)).await, "user", "ghost");
    not_found(&s.call("PUT", "projects/NOPE/acl", Some(ghost)).await);
    assert_eq!(s.call("PUT", "projects/P1/acl", Some(good)).await.status, 200);
}

const JOBNET: &str = r#"{"name":"J9","job":[{"number":1,"command":"true"}]}"#;

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_create_jobnet() {
    let s = server().await;
    // P1: visible, no right to define (403); P2: invisible, NOPE: missing (404).
    for p in ["P1", "P2", "NOPE"] {
        let path = format!("projects/{p}/jobnets");
        not_an_object(&s.call_as(REF, "POST", &path, Some("[]")).await);
        not_an_object(&s.call_as(REF, "POST", &path, Some("not json")).await);
        unknown_key(&s.call_as(REF, "POST", &path, Some(r#"{"name":"J9","bogus":1}"#)).await, "bogus");
        s.call_as(REF, "POST", &path, Some(r#"{"name":"J9","name":"J8"}"#)).await.assert_error(
            400,
            "OM_API_00013",
            "The parameter is specified in duplicate. param=name",
        );
        invalid(&s.call_as(REF, "POST", &path, Some(r#"{"project":"PX","name":"J9"}"#)).await, "project", "PX");
        invalid_field(&s.call_as(REF, "POST", &path, Some(r#"{"name":"J9","job":"x"}"#)).await, "jobnet");
    }
    forbidden(&s.call_as(REF, "POST", "projects/P1/jobnets", Some(JOBNET)).await, "jobnet.create");
    not_found(&s.call_as(REF, "POST", "projects/P2/jobnets", Some(JOBNET)).await);
    not_found(&s.call_as(REF, "POST", "projects/NOPE/jobnets", Some(JOBNET)).await);
}

#[tokio::test]
async fn wapi_3_1_already_exists_is_checked_after_permission_create_jobnet() {
    let s = server().await;
    let dup = r#"{"name":"J1","job":[{"number":1,"command":"true"}]}"#;
    forbidden(&s.call_as(REF, "POST", "projects/P1/jobnets", Some(dup)).await, "jobnet.create");
    s.call_as(UPD, "POST", "projects/P1/jobnets", Some(dup)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. jobnetName=J1",
    );
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_put_jobnet() {
    let s = server().await;
    // P1/J1: visible, no right (403); P1/NOPE, P2/J2, NOPE/J1: 404.
    for path in
        ["projects/P1/jobnets/J1", "projects/P1/jobnets/NOPE", "projects/P2/jobnets/J2", "projects/NOPE/jobnets/J1"]
    {
        not_an_object(&s.call_as(REF, "PUT", path, Some("1")).await);
        unknown_key(&s.call_as(REF, "PUT", path, Some(r#"{"bogus":true}"#)).await, "bogus");
        invalid_field(&s.call_as(REF, "PUT", path, Some(r#"{"job":{"number":1}}"#)).await, "jobnet");
    }
    invalid(&s.call_as(REF, "PUT", "projects/P1/jobnets/J1", Some(r#"{"name":"J7"}"#)).await, "name", "J7");
    let body = r#"{"comment":"changed","job":[{"number":1,"command":"true"}]}"#;
    forbidden(&s.call_as(REF, "PUT", "projects/P1/jobnets/J1", Some(body)).await, "jobnet.change");
    for path in ["projects/P1/jobnets/NOPE", "projects/P2/jobnets/J2", "projects/NOPE/jobnets/J1"] {
        not_found(&s.call_as(REF, "PUT", path, Some(body)).await);
    }
    assert_eq!(s.call_as(UPD, "PUT", "projects/P1/jobnets/J1", Some(body)).await.status, 200);
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_create_job() {
    let s = server().await;
    for path in ["projects/P1/jobnets/J1/jobs", "projects/P1/jobnets/NOPE/jobs", "projects/P2/jobnets/J2/jobs"] {
        not_an_object(&s.call_as(REF, "POST", path, Some("null")).await);
        unknown_key(&s.call_as(REF, "POST", path, Some(r#"{"number":2,"bogus":1}"#)).await, "bogus");
        invalid_field(&s.call_as(REF, "POST", path, Some(r#"{"number":"two","command":"true"}"#)).await, "job");
    }
    let body = r#"{"number":2,"command":"true"}"#;
    forbidden(&s.call_as(REF, "POST", "projects/P1/jobnets/J1/jobs", Some(body)).await, "job.create");
    not_found(&s.call_as(REF, "POST", "projects/P1/jobnets/NOPE/jobs", Some(body)).await);
    not_found(&s.call_as(REF, "POST", "projects/P2/jobnets/J2/jobs", Some(body)).await);
    // "Already exists" comes after the permission.
    let dup = r#"{"number":1,"command":"true"}"#;
    forbidden(&s.call_as(REF, "POST", "projects/P1/jobnets/J1/jobs", Some(dup)).await, "job.create");
    s.call_as(UPD, "POST", "projects/P1/jobnets/J1/jobs", Some(dup)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. jobNumber=1",
    );
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_put_job() {
    let s = server().await;
    for path in ["projects/P1/jobnets/J1/jobs/1", "projects/P1/jobnets/J1/jobs/9", "projects/P2/jobnets/J2/jobs/1"] {
        not_an_object(&s.call_as(REF, "PUT", path, Some("[1]")).await);
        unknown_key(&s.call_as(REF, "PUT", path, Some(r#"{"command":"true","bogus":1}"#)).await, "bogus");
        invalid(&s.call_as(REF, "PUT", path, Some(r#"{"number":5,"command":"true"}"#)).await, "number", "5");
    }
    let body = r#"{"command":"false"}"#;
    forbidden(&s.call_as(REF, "PUT", "projects/P1/jobnets/J1/jobs/1", Some(body)).await, "job.change");
    not_found(&s.call_as(REF, "PUT", "projects/P1/jobnets/J1/jobs/9", Some(body)).await);
    not_found(&s.call_as(REF, "PUT", "projects/P2/jobnets/J2/jobs/1", Some(body)).await);
    // A `{n}` that is no job number names nothing (routing): 404 before the body.
    not_found(&s.call_as(REF, "PUT", "projects/P1/jobnets/J1/jobs/x", Some("[1]")).await);
    assert_eq!(s.call_as(UPD, "PUT", "projects/P1/jobnets/J1/jobs/1", Some(body)).await.status, 200);
}

const CALENDAR: &str = r#"{"name":"BIZ","day_change":"06:00","holidays":[]}"#;

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_create_calendar() {
    let s = server().await;
    not_an_object(&s.call_as(UPD, "POST", "calendars", Some("\"BIZ\"")).await);
    unknown_key(&s.call_as(UPD, "POST", "calendars", Some(r#"{"name":"BIZ","owner":"x"}"#)).await, "owner");
    invalid_field(&s.call_as(UPD, "POST", "calendars", Some(r#"{"name":"BIZ","holidays":"x"}"#)).await, "calendar");
    forbidden(&s.call_as(UPD, "POST", "calendars", Some(CALENDAR)).await, "calendar.create");
    // "Already exists" after the permission.
    let dup = r#"{"name":"SYSTEM_CALENDAR","day_change":"06:00","holidays":[]}"#;
    forbidden(&s.call_as(UPD, "POST", "calendars", Some(dup)).await, "calendar.create");
    s.call("POST", "calendars", Some(dup)).await.assert_error(
        409,
        "OM_API_01009",
        "The resource already exists. calendarName=SYSTEM_CALENDAR",
    );
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_put_calendar() {
    let s = server().await;
    for path in ["calendars/SYSTEM_CALENDAR", "calendars/NOPE"] {
        not_an_object(&s.call_as(UPD, "PUT", path, Some("[]")).await);
        unknown_key(&s.call_as(UPD, "PUT", path, Some(r#"{"owner":"x"}"#)).await, "owner");
        invalid(&s.call_as(UPD, "PUT", path, Some(r#"{"name":"OTHER"}"#)).await, "name", "OTHER");
        invalid_field(&s.call_as(UPD, "PUT", path, Some(r#"{"holidays":5}"#)).await, "calendar");
    }
    let body = r#"{"day_change":"06:00","holidays":[]}"#;
    forbidden(&s.call_as(UPD, "PUT", "calendars/SYSTEM_CALENDAR", Some(body)).await, "calendar.change");
    not_found(&s.call_as(UPD, "PUT", "calendars/NOPE", Some(body)).await);
    not_found(&s.call("PUT", "calendars/NOPE", Some(body)).await);
}

// ----- body before permission and lookup: operations ------------------------

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_permission_start_vparam() {
    let s = server().await;
    for path in [
        "projects/P1/jobnets/J1/actions/start-vparam",
        "projects/P1/jobnets/NOPE/actions/start-vparam",
        "projects/P2/jobnets/J2/actions/start-vparam",
    ] {
        not_an_object(&s.call_as(REF, "POST", path, Some("[\"X1\"]")).await);
        not_an_object(&s.call_as(REF, "POST", path, None).await);
        unknown_key(&s.call_as(REF, "POST", path, Some(r#"{"vparam":"X1","suffix":"A"}"#)).await, "suffix");
        s.call_as(REF, "POST", path, Some("{}")).await.assert_error(
            400,
            "OM_API_00011",
            "A required parameter is not specified. param=vparam",
        );
        invalid(&s.call_as(REF, "POST", path, Some(r#"{"vparam":"X 1"}"#)).await, "vparam", "X 1");
    }
    let body = r#"{"vparam":"X1"}"#;
    forbidden(&s.call_as(REF, "POST", "projects/P1/jobnets/J1/actions/start-vparam", Some(body)).await, "start-vparam");
    not_found(&s.call_as(REF, "POST", "projects/P1/jobnets/NOPE/actions/start-vparam", Some(body)).await);
    not_found(&s.call_as(REF, "POST", "projects/P2/jobnets/J2/actions/start-vparam", Some(body)).await);
    // An unknown action is routing: 404 whatever the body.
    not_found(&s.call_as(REF, "POST", "projects/P1/jobnets/J1/actions/explode", Some("[]")).await);
}

// ----- query strings before permission and lookup ---------------------------

#[tokio::test]
async fn wapi_3_1_query_is_checked_before_permission_list_operations() {
    let s = server().await;
    let path = "operations?allUsers=true&statuses=bogus";
    invalid(&s.call_as(REF, "GET", path, None).await, "statuses", "bogus");
    invalid(&s.call_as(REF, "GET", "operations?allUsers=true&kinds=x", None).await, "kinds", "x");
    unknown_key(&s.call_as(REF, "GET", "operations?allUsers=true&x=1", None).await, "x");
    forbidden(&s.call_as(REF, "GET", "operations?allUsers=true", None).await, "operations.list-all");
    assert_eq!(s.call("GET", "operations?allUsers=true", None).await.status, 200);
}

#[tokio::test]
async fn wapi_3_1_query_is_checked_before_lookup_jobnet_executions() {
    let s = server().await;
    for jobnet in ["projects/P1/jobnets/NOPE", "projects/P2/jobnets/J2", "projects/NOPE/jobnets/J1"] {
        invalid(&s.call_as(REF, "GET", &format!("{jobnet}/executions?limit=0"), None).await, "limit", "0");
        unknown_key(&s.call_as(REF, "GET", &format!("{jobnet}/executions?priorities=High"), None).await, "priorities");
        s.call_as(REF, "GET", &format!("{jobnet}/executions?limit=5&limit=6"), None).await.assert_error(
            400,
            "OM_API_00013",
            "The parameter is specified in duplicate. param=limit",
        );
        not_found(&s.call_as(REF, "GET", &format!("{jobnet}/executions"), None).await);
    }
    assert_eq!(s.call_as(REF, "GET", "projects/P1/jobnets/J1/executions", None).await.status, 200);
}

#[tokio::test]
async fn wapi_3_1_query_is_checked_before_lookup_definitions() {
    let s = server().await;
    unknown_key(&s.call_as(REF, "GET", "projects/NOPE/jobnets?x=1", None).await, "x");
    unknown_key(&s.call_as(REF, "POST", "projects/P1/jobnets?x=1", Some(JOBNET)).await, "x");
    unknown_key(&s.call_as(REF, "DELETE", "projects/P2/jobnets/J2?x=1", None).await, "x");
    unknown_key(&s.call_as(UPD, "DELETE", "calendars/NOPE?x=1", None).await, "x");
}

// ----- admin API ------------------------------------------------------------

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_lookup_admin_patch_user() {
    let s = server().await;
    for name in ["ref1", "ghost"] {
        let path = format!("jobusers/{name}");
        not_an_object(&s.admin_api("PATCH", &path, Some("[]")).await);
        unknown_key(&s.admin_api("PATCH", &path, Some(r#"{"bogus":1}"#)).await, "bogus");
        s.admin_api("PATCH", &path, Some(r#"{"admin":true,"admin":false}"#)).await.assert_error(
            400,
            "OM_API_00013",
            "The parameter is specified in duplicate. param=admin",
        );
    }
    not_found(&s.admin_api("PATCH", "jobusers/ghost", Some("{}")).await);
    // The immutable fields are unknown keys of a PATCH: checked before the lookup.
    unknown_key(&s.admin_api("PATCH", "jobusers/ghost", Some(r#"{"admin":true}"#)).await, "admin");
    unknown_key(&s.admin_api("PATCH", "jobusers/ref1", Some(r#"{"admin":true}"#)).await, "admin");
    unknown_key(&s.admin_api("PATCH", "jobusers/ref1", Some(r#"{"name":"x"}"#)).await, "name");
    assert_eq!(s.admin_api("PATCH", "jobusers/ref1", Some("{}")).await.status, 200);
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_lookup_admin_set_password() {
    let s = server().await;
    for name in ["ref1", "ghost"] {
        let path = format!("jobusers/{name}/password");
        not_an_object(&s.admin_api("PUT", &path, Some("1")).await);
        unknown_key(&s.admin_api("PUT", &path, Some(r#"{"password":"Xy7#abcd","x":1}"#)).await, "x");
        invalid(&s.admin_api("PUT", &path, Some(r#"{"password":"short"}"#)).await, "password", "****");
    }
    not_found(&s.admin_api("PUT", "jobusers/ghost/password", Some(r#"{"password":"Xy7#abcd"}"#)).await);
    assert_eq!(s.admin_api("PUT", "jobusers/ref1/password", Some(r#"{"password":"Xy7#abcd"}"#)).await.status, 200);
}

#[tokio::test]
async fn wapi_3_1_body_is_checked_before_lookup_admin_patch_account() {
    let s = server().await;
    for name in [support::ACCOUNT, "ghost"] {
        let path = format!("apiaccounts/{name}");
        not_an_object(&s.admin_api("PATCH", &path, Some("\"x\"")).await);
        unknown_key(&s.admin_api("PATCH", &path, Some(r#"{"bogus":1}"#)).await, "bogus");
    }
    not_found(&s.admin_api("PATCH", "apiaccounts/ghost", Some("{}")).await);
    // The immutable name is an unknown key of a PATCH: checked before the lookup.
    unknown_key(&s.admin_api("PATCH", "apiaccounts/ghost", Some(r#"{"name":"acc2"}"#)).await, "name");
    let path = format!("apiaccounts/{}", support::ACCOUNT);
    unknown_key(&s.admin_api("PATCH", &path, Some(r#"{"name":"acc2"}"#)).await, "name");
    assert_eq!(s.admin_api("PATCH", &format!("apiaccounts/{}", support::ACCOUNT), Some("{}")).await.status, 200);
}

// ----- Layer A --------------------------------------------------------------

#[tokio::test]
async fn wapi_3_1_layer_a_msgevent_body_is_checked_before_the_target() {
    let s = server().await;
    // A missing project is the engine's answer (step 13); a malformed body answers first.
    let r = s.post_as(REF, "msgevent", r#"{"messagename":"EV 1","projectname":"NOPE"}"#).await;
    invalid(&r, "messagename", "EV 1");
    let r = s.post_as(REF, "msgevent", r#"{"messagename":"EV1","projectname":"NOPE","x":1}"#).await;
    unknown_key(&r, "x");
    let r = s.post_as(REF, "msgevent", r#"{"messagename":"EV1","projectname":"NOPE"}"#).await;
    r.assert_error(
        500,
        "OM_API_00900",
        "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0416: The project is not found.",
    );
}

#[tokio::test]
async fn wapi_3_1_layer_a_msgclear_body_is_checked_before_eligibility() {
    let s = server().await;
    // ref1 has only `reference` on P1: not eligible for msgclear there.
    unknown_key(&s.post_as(REF, "msgclear", r#"{"projectname":"P1","x":1}"#).await, "x");
    invalid(&s.post_as(REF, "msgclear", r#"{"projectname":"P 1"}"#).await, "projectname", "P 1");
    not_an_object(&s.post_as(REF, "msgclear", "").await);
    let r = s.post_as(REF, "msgclear", r#"{"projectname":"P1"}"#).await;
    r.assert_code(500, "OM_API_00910");
}
