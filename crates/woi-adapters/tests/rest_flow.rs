//! REST execution job end to end against a loopback mock server: validation,
//! substitution, extraction, the execution/monitoring flow, output lines and
//! exit codes (spec 03 §3.2–3.11, §4.2–4.7; spec 02 LA-001…012).

mod rest_support;

use std::time::Duration;

use rest_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};
use woi_core::model::JobKind;

const MON: &str = r#"{"request":{"url":"{B}/run","method":"POST","takeoverKeys":{"RID":"runId"}},
 "monitoring":{"url":"{B}/runs/<RID>","method":"GET","firstMonitorInterval":3,"pollingInterval":5,
  "pollingEndKey":"state","pollingEndVal":["SUCCEEDED","FAILED"],
  "checkResultKey":"state","checkResultVal":["SUCCEEDED"]}}"#;

async fn exec_ok(h: &Harness, body: &str) {
    Mock::given(method("POST")).and(path("/run")).respond_with(json(200, body)).mount(&h.server).await;
}

async fn monitor_seq(h: &Harness, p: &str, responses: Vec<ResponseTemplate>) {
    Mock::given(method("GET")).and(path(p)).respond_with(Seq::new(responses)).mount(&h.server).await;
}

/// `conn` with a termination object added.
fn with_termination(conn: &str) -> String {
    let trimmed = conn.trim_end().strip_suffix('}').expect("object");
    format!(r#"{trimmed},"termination":{{"url":"{{B}}/t","method":"POST"}}}}"#)
}

fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs(*s)).collect()
}

// CONN-001 LA-005
#[tokio::test]
async fn conn_001_la_005_connection_info_syntax_error() {
    let h = Harness::new().await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request": {"url": "{B}/a", "method": "GET",}}"#)).await;
    assert_eq!(adapter_exit(&r), 2);
    let line = lines(&r).into_iter().find(|l| l.contains("0632")).expect("0632").to_owned();
    assert!(line.starts_with(
        "MpJobsch: ERROR: 0632: JSON syntax error. Property=\"Connection information\" Details=\"Expecting property name enclosed in double quotes: line 1 column "
    ));
    assert!(line.ends_with(")\""), "{line}");
    assert!(h.requests().await.is_empty());
}

// CONN-002
#[tokio::test]
async fn conn_002_monitoring_body_syntax_error() {
    let h = Harness::new().await;
    let mut job = h.job(JobKind::Rest, MON);
    job.bodies = bodies(None, Some(r#"{"jobs": [}"#), None);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0632: JSON syntax error. Property=\"HTTP Request Message Body (Monitoring)\" Details=\"Expecting value: line 1 column 11 (char 10)\""
    ));
    assert!(h.requests().await.is_empty());
}

// CONN-003
#[tokio::test]
async fn conn_003_execution_and_termination_body_errors() {
    let h = Harness::new().await;
    let mut job = h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#);
    job.bodies = bodies(Some("{x"), None, None);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.contains("Property=\"HTTP Request Message Body (Execution)\""));
    let mut job = h.job(
        JobKind::Rest,
        r#"{"request":{"url":"{B}/run","method":"POST"},"termination":{"url":"{B}/t","method":"POST"}}"#,
    );
    job.bodies = bodies(Some("{}"), None, Some("[1,"));
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.contains("Property=\"HTTP Request Message Body (Forced)\""));
    assert!(h.requests().await.is_empty());
}

// CONN-004
#[tokio::test]
async fn conn_004_unused_termination_body_not_parsed() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"ok":true}"#).await;
    let mut job = h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#);
    job.bodies = bodies(None, Some("{bad"), Some("{bad"));
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(h.requests_to("/run").await.len(), 1);
}

// CONN-021
#[tokio::test]
async fn conn_021_placeholder_outside_quotes() {
    let h = Harness::new().await;
    let mut job = h.job(
        JobKind::Rest,
        r#"{"request":{"url":"{B}/run","method":"POST"},"termination":{"url":"{B}/t","method":"POST"}}"#,
    );
    job.bodies = bodies(None, None, Some(r#"{"reason": "stop", "id": <JOBID>}"#));
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0632: JSON syntax error. Property=\"HTTP Request Message Body (Forced)\" Details=\"Expecting value: line 1 column 26 (char 25)\""
    ));
    assert!(h.requests().await.is_empty());
}

// CONN-022
#[tokio::test]
async fn conn_022_substitution_precedes_body_check() {
    let h = Harness::new().await;
    exec_ok(&h, "{}").await;
    let mut job = h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#);
    job.bodies = bodies(Some(r#"{"n": @NUM@}"#), None, None);
    job.variables = vars(&[("NUM", "5")]);
    let r = h.run(job.clone()).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(body(&h.requests_to("/run").await[0]), r#"{"n": 5}"#);
    job.variables = vars(&[]);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.contains("Property=\"HTTP Request Message Body (Execution)\""));
}

// CONN-005
#[tokio::test]
async fn conn_005_format_error_message() {
    let h = Harness::new().await;
    for text in ["[]", r#"{"monitoring":{}}"#, r#"{"request":"x"}"#] {
        let r = h.run(h.job(JobKind::Rest, text)).await;
        assert_eq!(adapter_exit(&r), 2);
        assert_eq!(r.output, "MpJobsch: ERROR: 0640: The connection information format is invalid.\n");
    }
}

// CONN-006
#[tokio::test]
async fn conn_006_default_template_message() {
    let h = Harness::new().await;
    let r = h.run(h.job(JobKind::Rest, r###"{"request":{"url":"##url##","method":"##method##"}}"###)).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"request.url\" Details=\""));
}

// CONN-018
#[tokio::test]
async fn conn_018_auth_type_not_allowed_for_kind() {
    let h = Harness::new().await;
    h.register(r#"[{"name":"S","authType":"scs","clientId":"c","clientSecret":"s","endpoint":"{B}/tok"},{"name":"B","authType":"bearer","token":"t"}]"#);
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"S"}}"#)).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"request.authName\""));
    let r = h.run(h.job(JobKind::Informatica, r#"{"request":{"url":"{B}/run","method":"POST","authName":"B"}}"#)).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.contains("Parameter=\"request.authName\""));
    assert!(h.requests().await.is_empty());
}

// SUB-001
#[tokio::test]
async fn sub_001_job_variable_host() {
    let h = Harness::new().await;
    Mock::given(method("GET")).and(path("/v1/run")).respond_with(json(200, "{}")).mount(&h.server).await;
    let host = h.base().trim_start_matches("http://").to_owned();
    let mut job = h.job(JobKind::Rest, r#"{"request":{"url":"http://@HOST@/v1/run","method":"GET"}}"#);
    job.variables = vars(&[("HOST", &host)]);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(h.requests_to("/v1/run").await.len(), 1);
}

// SUB-002 SUB-005 SUB-010
#[tokio::test]
async fn sub_002_005_010_auth_keys_win_undefined_literal_names_untouched() {
    let h = Harness::new().await;
    h.register(r#"{"name":"O","authType":"others","tenant":"T-9"}"#);
    exec_ok(&h, "{}").await;
    let mut job = h.job(
        JobKind::Rest,
        r#"{"request":{"url":"{B}/run","method":"POST","authName":"O",
           "query":{"t":"@tenant@","u":"@NOPE@","@ENV@":"v"}}}"#,
    );
    job.variables = vars(&[("tenant", "JD"), ("ENV", "prod")]);
    let r = h.run(job.clone()).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let req = &h.requests_to("/run").await[0];
    assert_eq!(req.url.query(), Some("t=T-9&u=%40NOPE%40&%40ENV%40=v"));
    assert_eq!(header(req, "authorization"), None);
    // A header name is never substituted: `@ENV@` stays literal and is not a
    // valid header name, so the call cannot be built (had it become `prod`, it would be sent).
    job.connection_info = Some(h.fill(r#"{"request":{"url":"{B}/run","method":"POST","header":{"@ENV@":"h"}}}"#));
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 4);
    assert!(has_line(&r, "MpJobsch: ERROR: 0612: An issue occurred with the HTTP request. RequestType=request"));
    assert_eq!(h.requests_to("/run").await.len(), 1);
}

// SUB-003 SUB-004
#[tokio::test]
async fn sub_003_004_stage_order_in_headers() {
    let h = Harness::new().await;
    h.register(r#"{"name":"O","authType":"others","path":"@ENV@-x","secret":"S"}"#);
    exec_ok(&h, "{}").await;
    let mut job = h.job(
        JobKind::Rest,
        r#"{"request":{"url":"{B}/run","method":"POST","authName":"O","header":{"X-Path":"@path@","H":"@V@"}}}"#,
    );
    job.variables = vars(&[("ENV", "prod"), ("V", "@secret@")]);
    h.run(job).await;
    let req = &h.requests_to("/run").await[0];
    assert_eq!(header(req, "x-path").as_deref(), Some("prod-x"));
    assert_eq!(header(req, "h").as_deref(), Some("@secret@"));
}

// SUB-006 SUB-007 SUB-008 SUB-012
#[tokio::test]
async fn sub_006_007_008_012_takeover_variables() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-42"}"#).await;
    monitor_seq(&h, "/runs/r-42", vec![json(200, r#"{"state":"SUCCEEDED"}"#)]).await;
    let mut job = h.job(JobKind::Rest, MON);
    job.bodies = bodies(Some(r#"{"id":"<RID>"}"#), Some(r#"{"id":"<RID>","x":"<OTHER>","q":"@Q@"}"#), None);
    job.variables = vars(&[("Q", "<RID>")]);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(body(&h.requests_to("/run").await[0]), r#"{"id":"<RID>"}"#);
    let mon = h.requests_to("/runs/r-42").await;
    assert_eq!(mon.len(), 1);
    assert_eq!(body(&mon[0]), r#"{"id":"r-42","x":"<OTHER>","q":"r-42"}"#);
}

// SUB-009
#[tokio::test]
async fn sub_009_takeover_value_not_rescanned() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"@ENV@"}"#).await;
    monitor_seq(&h, "/runs/@ENV@", vec![json(200, r#"{"state":"SUCCEEDED"}"#)]).await;
    let mut job = h.job(JobKind::Rest, MON);
    job.variables = vars(&[("ENV", "prod")]);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(h.requests_to("/runs/@ENV@").await.len(), 1);
}

// SUB-011
#[tokio::test]
async fn sub_011_takeover_in_filter_key() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-42"}"#).await;
    monitor_seq(
        &h,
        "/items",
        vec![json(200, r#"{"items":[{"id":"r-1","state":"RUNNING"},{"id":"r-42","state":"DONE"}]}"#)],
    )
    .await;
    let conn = r#"{"request":{"url":"{B}/run","method":"POST","takeoverKeys":{"RID":"runId"}},
      "monitoring":{"url":"{B}/items","method":"GET","pollingCount":1,
       "pollingEndKey":"items.[?\"id\"==\"<RID>\"].state","pollingEndVal":["DONE"],
       "checkResultKey":"items.[?\"id\"==\"<RID>\"].state","checkResultVal":["DONE"]}}"#;
    let r = h.run(h.job(JobKind::Rest, conn)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
}

// KEY-010
#[tokio::test]
async fn key_010_text_response_cannot_be_extracted() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(typed(200, "runId=1", "text/plain"))
        .mount(&h.server)
        .await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 8);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0615: The specified key is not found in the response result. ParamName=RID"
    ));
    assert!(h.requests_to("/runs/1").await.is_empty());
}

// KEY-011
#[tokio::test]
async fn key_011_json_with_charset() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(typed(200, r#"{"runId":"r-1"}"#, "application/json; charset=utf-8"))
        .mount(&h.server)
        .await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"SUCCEEDED"}"#)]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
}

// FLOW-001 LA-006
#[tokio::test]
async fn flow_001_la_006_no_monitoring() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"jobId":"j-1"}"#).await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#)).await;
    assert_eq!(adapter_exit(&r), 0);
    let out = &r.output;
    assert!(out.starts_with("HttpStatusCode=200\nHttpResHeader={\n"), "{out}");
    assert!(out.contains("  \"content-type\": \"application/json\""), "{out}");
    assert!(out.ends_with("}\nHttpResBody={\n  \"jobId\": \"j-1\"\n}\n"), "{out}");
    assert!(!out.contains("ChkResult"));
}

// FLOW-002
#[tokio::test]
async fn flow_002_202_is_success() {
    let h = Harness::new().await;
    Mock::given(method("POST")).and(path("/run")).respond_with(json(202, "{}")).mount(&h.server).await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#)).await;
    assert_eq!(adapter_exit(&r), 0);
    assert!(has_line(&r, "HttpStatusCode=202"));
    assert!(!r.output.contains("MpJobsch"));
}

// FLOW-003 FLOW-023 LA-001 TERM-006
#[tokio::test]
async fn flow_003_023_la_001_term_006_execution_failure() {
    let h = Harness::new().await;
    Mock::given(method("POST")).and(path("/run")).respond_with(json(500, "{}")).mount(&h.server).await;
    Mock::given(method("POST")).and(path("/t")).respond_with(json(200, "{}")).mount(&h.server).await;
    let conn = with_termination(MON);
    let r = h.run(h.job(JobKind::Rest, &conn)).await;
    assert_eq!(adapter_exit(&r), 4, "{}", r.output);
    assert!(has_line(&r, "HttpStatusCode=500"));
    assert!(has_line(&r, "MpJobsch: ERROR: 0609: HTTP request failed. RequestType=request StatusCode=500"));
    assert_eq!(h.requests().await.len(), 1, "no retry, no monitoring, no termination");
    let h2 = Harness::new().await;
    Mock::given(method("POST")).and(path("/run")).respond_with(json(503, "{}")).mount(&h2.server).await;
    let r = h2.run(h2.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#)).await;
    assert_eq!(adapter_exit(&r), 4);
    assert!(has_line(&r, "MpJobsch: ERROR: 0609: HTTP request failed. RequestType=request StatusCode=503"));
}

// FLOW-004
#[tokio::test]
async fn flow_004_connection_refused() {
    let h = Harness::new().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = h
        .run(h.job(JobKind::Rest, &format!(r#"{{"request":{{"url":"http://127.0.0.1:{port}/x","method":"GET"}}}}"#)))
        .await;
    assert_eq!(adapter_exit(&r), 4);
    assert_eq!(r.output, "MpJobsch: ERROR: 0610: A network issue occurred. RequestType=request\n");
}

// FLOW-005 LA-002
#[tokio::test]
async fn flow_005_la_002_execution_timeout() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(json(200, "{}").set_delay(Duration::from_millis(2500)))
        .mount(&h.server)
        .await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","timeout":1}}"#)).await;
    assert_eq!(adapter_exit(&r), 5);
    assert_eq!(r.output, "MpJobsch: ERROR: 0611: HTTP request timed out. RequestType=request\n");
}

// FLOW-006
#[tokio::test]
async fn flow_006_url_unusable_after_substitution() {
    let h = Harness::new().await;
    let mut job = h.job(JobKind::Rest, r#"{"request":{"url":"https://@PORTVAR@/x","method":"GET"}}"#);
    job.variables = vars(&[("PORTVAR", "h:99999")]);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 4);
    assert_eq!(r.output, "MpJobsch: ERROR: 0612: An issue occurred with the HTTP request. RequestType=request\n");
}

// FLOW-007
#[tokio::test]
async fn flow_007_polling_until_success() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    let running = || json(200, r#"{"state":"RUNNING","n":1}"#);
    monitor_seq(&h, "/runs/r-1", vec![running(), running(), json(200, r#"{"state":"SUCCEEDED","n":3}"#)]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(h.timer.sleeps(), secs(&[3, 5, 5]));
    assert_eq!(h.requests_to("/runs/r-1").await.len(), 3);
    assert!(r.output.contains("ChkResultHttpStatusCode=200\nChkResultHttpResHeader={"));
    assert!(r.output.contains("ChkResultHttpResBody={\n  \"state\": \"SUCCEEDED\",\n  \"n\": 3\n}\n"));
}

// FLOW-008 LA-004
#[tokio::test]
async fn flow_008_la_004_failed_result() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    let running = || json(200, r#"{"state":"RUNNING"}"#);
    monitor_seq(&h, "/runs/r-1", vec![running(), running(), json(200, r#"{"state":"FAILED"}"#)]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 7);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0614: The execution result of the job on the cloud service is not the specified normal exit value. ResultValue=FAILED"
    ));
}

// FLOW-009 LA-003
#[tokio::test]
async fn flow_009_la_003_polling_count_exhausted() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"RUNNING"}"#)]).await;
    let conn = MON.replace(r#""pollingInterval":5"#, r#""pollingInterval":5,"pollingCount":2"#);
    let r = h.run(h.job(JobKind::Rest, &conn)).await;
    assert_eq!(adapter_exit(&r), 6);
    assert_eq!(h.requests_to("/runs/r-1").await.len(), 2);
    assert_eq!(h.timer.sleeps(), secs(&[3, 5]), "no wait after the last poll");
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0613: The wait time for completion of the job on the cloud service has elapsed."
    ));
    assert!(has_line(&r, "ChkResultHttpStatusCode=200"));
    let conn3 = MON.replace(r#""pollingInterval":5"#, r#""pollingInterval":5,"pollingCount":3"#);
    let h3 = Harness::new().await;
    exec_ok(&h3, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h3, "/runs/r-1", vec![json(200, r#"{"state":"RUNNING"}"#)]).await;
    let r = h3.run(h3.job(JobKind::Rest, &conn3)).await;
    assert_eq!(adapter_exit(&r), 6);
    assert_eq!(h3.requests_to("/runs/r-1").await.len(), 3);
}

// FLOW-010
#[tokio::test]
async fn flow_010_unlimited_polling() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    let mut seq: Vec<ResponseTemplate> = (0..7).map(|_| json(200, r#"{"state":"RUNNING"}"#)).collect();
    seq.push(json(200, r#"{"state":"SUCCEEDED"}"#));
    monitor_seq(&h, "/runs/r-1", seq).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 0);
    assert_eq!(h.requests_to("/runs/r-1").await.len(), 8);
}

// FLOW-011
#[tokio::test]
async fn flow_011_end_key_missing() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"other":"x"}"#)]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 8);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0615: The specified key is not found in the response result. ParamName=pollingEndKey"
    ));
    assert!(has_line(&r, "ChkResultHttpStatusCode=200"));
}

// FLOW-012
#[tokio::test]
async fn flow_012_result_key_missing() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"DONE"}"#)]).await;
    let conn = MON
        .replace(r#""pollingEndVal":["SUCCEEDED","FAILED"]"#, r#""pollingEndVal":["DONE"]"#)
        .replace(r#""checkResultKey":"state""#, r#""checkResultKey":"result""#);
    let r = h.run(h.job(JobKind::Rest, &conn)).await;
    assert_eq!(adapter_exit(&r), 8);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0615: The specified key is not found in the response result. ParamName=checkResultKey"
    ));
}

// FLOW-013
#[tokio::test]
async fn flow_013_end_and_result_keys_differ() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"completed","executionInfo":{"result":"failure"}}"#)])
        .await;
    let conn = r#"{"request":{"url":"{B}/run","method":"POST","takeoverKeys":{"RID":"runId"}},
     "monitoring":{"url":"{B}/runs/<RID>","method":"GET","pollingEndKey":"state","pollingEndVal":["completed"],
      "checkResultKey":"executionInfo.result","checkResultVal":["success"]}}"#;
    let r = h.run(h.job(JobKind::Rest, conn)).await;
    assert_eq!(adapter_exit(&r), 7);
    assert!(r.output.ends_with("ResultValue=failure\n"));
}

// FLOW-014
#[tokio::test]
async fn flow_014_monitoring_503() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"RUNNING"}"#), json(503, "{}")]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 4);
    assert!(has_line(&r, "MpJobsch: ERROR: 0609: HTTP request failed. RequestType=monitoring StatusCode=503"));
    assert!(has_line(&r, "ChkResultHttpStatusCode=503"));
    assert_eq!(h.requests_to("/runs/r-1").await.len(), 2);
}

// FLOW-015
#[tokio::test]
async fn flow_015_takeover_key_missing() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"id":"x"}"#).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 8);
    assert!(has_line(
        &r,
        "MpJobsch: ERROR: 0615: The specified key is not found in the response result. ParamName=RID"
    ));
    assert!(has_line(&r, "HttpStatusCode=200"));
    assert_eq!(h.requests().await.len(), 1);
}

// FLOW-016 LA-010
#[tokio::test]
async fn flow_016_la_010_request_jobnet_values() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"run":{"no":17},"statusCode":202}"#).await;
    let r = h
        .run(h.job(
            JobKind::Rest,
            r#"{"request":{"url":"{B}/run","method":"POST","jobnetValKeys":{"RunNo":"run.no","RC":"statusCode"}}}"#,
        ))
        .await;
    assert_eq!(adapter_exit(&r), 0);
    let l = lines(&r);
    let body_end = l.iter().rposition(|x| *x == "}").expect("body block");
    assert_eq!(&l[body_end + 1..], &["RunNo=17", "RC=202"]);
}

// FLOW-017
#[tokio::test]
async fn flow_017_monitoring_jobnet_values_after_chkresult() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"RUNNING"}"#), json(200, r#"{"state":"SUCCEEDED"}"#)])
        .await;
    let conn = MON.replace(
        r#""checkResultVal":["SUCCEEDED"]"#,
        r#""checkResultVal":["SUCCEEDED"],"jobnetValKeys":{"Final":"state"}"#,
    );
    let r = h.run(h.job(JobKind::Rest, &conn)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert!(
        r.output.ends_with("ChkResultHttpResBody={\n  \"state\": \"SUCCEEDED\"\n}\nFinal=SUCCEEDED\n"),
        "{}",
        r.output
    );
}

// FLOW-018
#[tokio::test]
async fn flow_018_missing_monitoring_value() {
    let conn = MON.replace(
        r#""checkResultVal":["SUCCEEDED"]"#,
        r#""checkResultVal":["SUCCEEDED"],"jobnetValKeys":{"Extra":"nope"}"#,
    );
    for (state, exit) in [("SUCCEEDED", 8), ("FAILED", 7)] {
        let h = Harness::new().await;
        exec_ok(&h, r#"{"runId":"r-1"}"#).await;
        monitor_seq(&h, "/runs/r-1", vec![json(200, &format!(r#"{{"state":"{state}"}}"#))]).await;
        let r = h.run(h.job(JobKind::Rest, &conn)).await;
        assert_eq!(adapter_exit(&r), exit);
        assert_eq!(r.output.contains("ParamName=Extra"), exit == 8, "{}", r.output);
        assert_eq!(r.output.contains("0614"), exit == 7);
    }
}

// FLOW-019
#[tokio::test]
async fn flow_019_case_sensitive_values() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"succeeded"}"#)]).await;
    let conn = MON
        .replace(r#""pollingEndVal":["SUCCEEDED","FAILED"]"#, r#""pollingEndVal":["Succeeded"]"#)
        .replace(r#""pollingInterval":5"#, r#""pollingInterval":5,"pollingCount":2"#);
    let r = h.run(h.job(JobKind::Rest, &conn)).await;
    assert_eq!(adapter_exit(&r), 6, "not terminal, polls run out");
}

// FLOW-020
#[tokio::test]
async fn flow_020_lambda_style_payload_status() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"statusCode":400,"body":"job failed"}"#).await;
    let r = h
        .run(h.job(
            JobKind::Rest,
            r#"{"request":{"url":"{B}/run","method":"POST","jobnetValKeys":{"StatusCode":"statusCode"}}}"#,
        ))
        .await;
    assert_eq!(adapter_exit(&r), 0);
    assert!(has_line(&r, "StatusCode=400"));
}

// FLOW-021
#[tokio::test]
async fn flow_021_query_order_and_encoding() {
    let h = Harness::new().await;
    Mock::given(method("GET")).and(path("/p")).respond_with(json(200, "{}")).mount(&h.server).await;
    let r = h
        .run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/p?z=1","method":"GET","query":{"b":"2","a":"x y"}}}"#))
        .await;
    assert_eq!(adapter_exit(&r), 0);
    assert_eq!(h.requests_to("/p").await[0].url.query(), Some("z=1&b=2&a=x%20y"));
}

// FLOW-022
#[tokio::test]
async fn flow_022_default_content_type_and_exact_body() {
    let h = Harness::new().await;
    exec_ok(&h, "{}").await;
    let mut job = h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","header":{"X-A":"1"}}}"#);
    let text = "{ \"a\" :  [1, 2],\n \"v\": \"@V@\" }";
    job.bodies = bodies(Some(text), None, None);
    job.variables = vars(&[("V", "é")]);
    h.run(job).await;
    let req = &h.requests_to("/run").await[0];
    assert_eq!(header(req, "content-type").as_deref(), Some("application/json"));
    assert_eq!(body(req), "{ \"a\" :  [1, 2],\n \"v\": \"é\" }");
    let h2 = Harness::new().await;
    exec_ok(&h2, "{}").await;
    let mut job =
        h2.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","header":{"content-type":"text/x"}}}"#);
    job.bodies = bodies(Some("{}"), None, None);
    h2.run(job).await;
    assert_eq!(header(&h2.requests_to("/run").await[0], "content-type").as_deref(), Some("text/x"));
}

// OUT-001 LA-007
#[tokio::test]
async fn out_001_la_007_invalid_json_body() {
    let h = Harness::new().await;
    exec_ok(&h, "{oops").await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#)).await;
    assert_eq!(adapter_exit(&r), 0);
    assert!(has_line(&r, "HttpResBody=\"The response is not a valid JSON response\""));
}

// OUT-002 LA-009
#[tokio::test]
async fn out_002_la_009_xml_body() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(typed(200, "<a><b>1</b></a>", "text/xml"))
        .mount(&h.server)
        .await;
    let r = h
        .run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","jobnetValKeys":{"B":"a.b"}}}"#))
        .await;
    assert_eq!(adapter_exit(&r), 0);
    assert!(has_line(&r, "HttpResBody=<a><b>1</b></a>"));
    assert!(has_line(&r, "B=1"));
}

// OUT-003
#[tokio::test]
async fn out_003_malformed_xml_body() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(typed(200, "<a><b>1</a>", "application/xml"))
        .mount(&h.server)
        .await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#)).await;
    assert!(has_line(&r, "HttpResBody=\"The response is not a valid XML response\""));
}

// OUT-004 LA-008
#[tokio::test]
async fn out_004_la_008_plain_text_has_no_body_line() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(typed(200, "hello", "text/plain"))
        .mount(&h.server)
        .await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST"}}"#)).await;
    assert_eq!(adapter_exit(&r), 0);
    assert!(has_line(&r, "HttpStatusCode=200"));
    assert!(r.output.contains("HttpResHeader={"));
    assert!(!r.output.contains("HttpResBody"));
}

// OUT-005
#[tokio::test]
async fn out_005_monitoring_invalid_json() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, "{oops")]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    assert_eq!(adapter_exit(&r), 8);
    assert!(has_line(&r, "ChkResultHttpResBody=\"The response is not a valid JSON response\""));
    assert!(r.output.contains("ParamName=pollingEndKey"));
}

// OUT-006
#[tokio::test]
async fn out_006_messages_after_result_lines() {
    let h = Harness::new().await;
    exec_ok(&h, r#"{"runId":"r-1"}"#).await;
    monitor_seq(&h, "/runs/r-1", vec![json(200, r#"{"state":"FAILED"}"#)]).await;
    let r = h.run(h.job(JobKind::Rest, MON)).await;
    let l = lines(&r);
    let first_msg = l.iter().position(|x| x.starts_with("MpJobsch:")).expect("a message");
    assert!(l[first_msg..].iter().all(|x| x.starts_with("MpJobsch:")), "{l:?}");
    assert!(l[..first_msg].iter().any(|x| x.starts_with("ChkResultHttpStatusCode=")));
}
