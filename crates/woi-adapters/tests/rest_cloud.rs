//! Run-time authentication, forced termination, Informatica, Snowflake and SAP
//! jobs against a loopback mock server (spec 03 §3.5, §3.9, §3.12–3.15,
//! §4.1, §4.5, §4.8, §4.9; spec 02 LA-011, LA-012, SC-001, SC-002).

mod rest_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::channel::oneshot;
use rest_support::*;
use wiremock::matchers::{body_string, body_string_contains, header as header_is, method, path};
use wiremock::{Mock, ResponseTemplate};
use woi_adapters::rest::{RestExecutor, VirtualTimer, http};
use woi_core::engine::KillReason;
use woi_core::exec::Executor;
use woi_core::model::{JobKind, SnowflakeTarget};

const MON: &str = r#"{"request":{"url":"{B}/run","method":"POST","authName":"A","takeoverKeys":{"JOBID":"jobId"}},
 "monitoring":{"url":"{B}/describe","method":"POST","pollingInterval":60,"pollingCount":5,
  "pollingEndKey":"jobs.[?\"jobId\"==\"<JOBID>\"].status","pollingEndVal":["SUCCEEDED","FAILED"],
  "checkResultKey":"jobs.[?\"jobId\"==\"<JOBID>\"].status","checkResultVal":["SUCCEEDED"]},
 "termination":{"url":"{B}/terminate","method":"POST"}}"#;

async fn batch_like(h: &Harness, term: ResponseTemplate) {
    Mock::given(method("POST")).and(path("/run")).respond_with(json(200, r#"{"jobId":"J-7"}"#)).mount(&h.server).await;
    Mock::given(method("POST"))
        .and(path("/describe"))
        .respond_with(json(200, r#"{"jobs":[{"jobId":"J-7","status":"RUNNING"}]}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST")).and(path("/terminate")).respond_with(term).mount(&h.server).await;
}

fn batch_job(h: &Harness, conn: &str) -> woi_core::exec::JobRun {
    let mut job = h.job(JobKind::Rest, conn);
    job.bodies = bodies(
        Some(r#"{"jobName":"testjob1"}"#),
        Some(r#"{"jobs":["<JOBID>"]}"#),
        Some(r#"{"reason":"Terminating job.","jobId":"<JOBID>"}"#),
    );
    job
}

fn assert_forced(r: &woi_core::exec::JobResult) {
    assert_eq!(r.exit, woi_core::ExitCode::forced(), "{}", r.output);
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
}

// AUTH-022 LA-012
#[tokio::test]
async fn auth_022_la_012_deleted_entry() {
    let h = Harness::new().await;
    h.register(r#"{"name":"gone","authType":"bearer","token":"t"}"#);
    h.auth.remove("gone").expect("existed");
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"gone"}}"#)).await;
    assert_eq!(adapter_exit(&r), 10);
    assert_eq!(r.output, "MpJobsch: ERROR: 0616: Failed to obtain the authentication information. AuthName=gone\n");
    assert!(h.requests().await.is_empty());
}

// AUTHRT-001
#[tokio::test]
async fn authrt_001_basic_on_every_call() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"basic","basicUser":"alice","basicPasswd":"s3cret"}"#);
    Mock::given(method("POST")).and(path("/run")).respond_with(json(200, r#"{"jobId":"J-7"}"#)).mount(&h.server).await;
    Mock::given(method("POST"))
        .and(path("/describe"))
        .respond_with(Seq::new(vec![
            json(200, r#"{"jobs":[{"jobId":"J-7","status":"RUNNING"}]}"#),
            json(200, r#"{"jobs":[{"jobId":"J-7","status":"SUCCEEDED"}]}"#),
        ]))
        .mount(&h.server)
        .await;
    let r = h.run(batch_job(&h, MON)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let reqs = h.requests().await;
    assert_eq!(reqs.len(), 3);
    for req in &reqs {
        assert_eq!(header(req, "authorization").as_deref(), Some("Basic YWxpY2U6czNjcmV0"));
    }
    assert_eq!(body(&reqs[1]), r#"{"jobs":["J-7"]}"#);
}

// AUTHRT-002 TERM-001 TERM-008
#[tokio::test]
async fn authrt_002_term_001_008_bearer_and_termination_after_forced_stop() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"bearer","token":"tkn-1"}"#);
    batch_like(&h, json(200, "{}")).await;
    // Sleeps: 1 = first-monitor delay, 2 = first polling wait, 3 = second polling wait.
    let r = h.run_killed_at_sleep(batch_job(&h, MON), 3).await;
    assert_forced(&r);
    let term = h.requests_to("/terminate").await;
    assert_eq!(term.len(), 1);
    assert_eq!(body(&term[0]), r#"{"reason":"Terminating job.","jobId":"J-7"}"#);
    assert_eq!(h.requests_to("/describe").await.len(), 2, "no monitoring after the stop");
    for req in h.requests().await {
        assert_eq!(header(&req, "authorization").as_deref(), Some("Bearer tkn-1"), "{}", req.url);
    }
    assert!(!r.output.contains("ChkResult"), "no result lines after a forced stop");
    assert!(h.log.records().is_empty());
}

// TERM-002
#[tokio::test]
async fn term_002_no_termination_object() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"others"}"#);
    batch_like(&h, json(200, "{}")).await;
    let cut = MON.find(",\n \"termination\"").expect("termination object");
    let conn = format!("{}}}", &MON[..cut]);
    assert!(!conn.contains("termination"));
    let r = h.run_killed_at_sleep(batch_job(&h, &conn), 2).await;
    assert_forced(&r);
    assert!(h.requests_to("/terminate").await.is_empty());
    assert_eq!(h.requests().await.len(), 2);
}

// TERM-003
#[tokio::test]
async fn term_003_termination_500() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"others"}"#);
    batch_like(&h, json(500, "{}")).await;
    let r = h.run_killed_at_sleep(batch_job(&h, MON), 1).await;
    assert_forced(&r);
    assert!(has_line(&r, "MpJobsch: ERROR: 0609: HTTP request failed. RequestType=termination StatusCode=500"));
    assert_eq!(
        h.log.records(),
        vec![
            "MpJobsch: ERROR: 0635: HTTP request failed. RequestType=termination StatusCode=500 ProjectName=P1 JobNetName=NET1"
        ]
    );
}

// TERM-004
#[tokio::test]
async fn term_004_termination_refused_timeout_other() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cases = [
        (format!("http://127.0.0.1:{closed}/terminate"), "0636: A network issue occurred. RequestType=termination"),
        ("{B}/slow".to_owned(), "0637: HTTP request timed out. RequestType=termination"),
        ("http://@BAD@/terminate".to_owned(), "0638: An issue occurred with the HTTP request. RequestType=termination"),
    ];
    for (url, expected) in cases {
        let h = Harness::new().await;
        h.register(r#"{"name":"A","authType":"others"}"#);
        batch_like(&h, json(200, "{}")).await;
        Mock::given(method("POST"))
            .and(path("/slow"))
            .respond_with(json(200, "{}").set_delay(Duration::from_millis(2500)))
            .mount(&h.server)
            .await;
        let conn = MON
            .replace(r#""termination":{"url":"{B}/terminate""#, &format!(r#""termination":{{"url":"{url}""#))
            .replace(r#""authName":"A","#, r#""authName":"A","timeout":1,"#);
        let mut job = batch_job(&h, &conn);
        job.variables = vars(&[("BAD", "h:99999")]);
        let r = h.run_killed_at_sleep(job, 1).await;
        assert_forced(&r);
        let records = h.log.records();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0], format!("MpJobsch: ERROR: {expected} ProjectName=P1 JobNetName=NET1"));
        let history = expected.replace("0636", "0610").replace("0637", "0611").replace("0638", "0612");
        assert!(has_line(&r, &format!("MpJobsch: ERROR: {history}")), "{}", r.output);
    }
}

// TERM-005
#[tokio::test]
async fn term_005_stop_during_execution_call() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"others"}"#);
    Mock::given(method("POST"))
        .and(path("/run"))
        .respond_with(json(200, r#"{"jobId":"J-7"}"#).set_delay(Duration::from_secs(3)))
        .mount(&h.server)
        .await;
    Mock::given(method("POST")).and(path("/terminate")).respond_with(json(200, "{}")).mount(&h.server).await;
    let (tx, rx) = oneshot::channel();
    let killer = async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tx.send(KillReason::Cancel);
    };
    let (r, ()) = futures::join!(h.exec.run(batch_job(&h, MON), rx), killer);
    assert_forced(&r);
    assert!(h.requests_to("/terminate").await.is_empty());
}

// TERM-007
#[tokio::test]
async fn term_007_informatica_never_terminates() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"basic","basicUser":"u","basicPasswd":"p"}"#);
    batch_like(&h, json(200, "{}")).await;
    let mut job = batch_job(&h, MON);
    job.kind = JobKind::Informatica;
    let r = h.run_killed_at_sleep(job, 2).await;
    assert_forced(&r);
    assert!(h.requests_to("/terminate").await.is_empty());
}

#[tokio::test]
async fn cutoff_reports_the_interruption_code() {
    let h = Harness::new().await;
    h.register(r#"{"name":"A","authType":"others"}"#);
    batch_like(&h, json(200, "{}")).await;
    h.timer.hang_at_sleep(1);
    let (tx, rx) = oneshot::channel();
    let timer = h.timer.clone();
    let killer = async move {
        timer.hung().await;
        let _ = tx.send(KillReason::Cutoff);
    };
    let (r, ()) = futures::join!(h.exec.run(batch_job(&h, MON), rx), killer);
    assert_eq!(r.exit, woi_core::ExitCode::interruption(woi_core::exit::INT_CUTOFF));
    assert_eq!(h.requests_to("/terminate").await.len(), 1);
}

const AZURE: &str = r#"{"name":"A","authType":"azuread","clientId":"cid","clientSecret":"sec","endpoint":"{B}/tn/oauth2/v2.0/token","scope":"https://management.azure.com/.default"}"#;

async fn token(h: &Harness, resp: ResponseTemplate) {
    Mock::given(method("POST")).and(path("/tn/oauth2/v2.0/token")).respond_with(resp).mount(&h.server).await;
}

// AUTHRT-003
#[tokio::test]
async fn authrt_003_entra_v2_token_cached() {
    let h = Harness::new().await;
    h.register(AZURE);
    token(&h, json(200, r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"AT-1"}"#))
        .await;
    batch_like(&h, json(200, "{}")).await;
    let conn = MON.replace(r#""pollingCount":5"#, r#""pollingCount":3"#);
    let r = h.run(batch_job(&h, &conn)).await;
    assert_eq!(adapter_exit(&r), 6);
    let tok = h.requests_to("/tn/oauth2/v2.0/token").await;
    assert_eq!(tok.len(), 1, "one token for the whole run");
    assert_eq!(header(&tok[0], "content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(
        body(&tok[0]),
        "grant_type=client_credentials&client_id=cid&client_secret=sec&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
    );
    let calls: Vec<_> = h.requests().await.into_iter().filter(|r| r.url.path() != "/tn/oauth2/v2.0/token").collect();
    assert_eq!(calls.len(), 4);
    for c in calls {
        assert_eq!(header(&c, "authorization").as_deref(), Some("Bearer AT-1"));
    }
}

#[tokio::test]
async fn entra_token_refreshed_when_60s_remain() {
    let h = Harness::new().await;
    h.register(AZURE);
    token(&h, json(200, r#"{"access_token":"AT-1","expires_in":100}"#)).await;
    batch_like(&h, json(200, "{}")).await;
    let conn = MON.replace(r#""pollingCount":5"#, r#""pollingCount":2"#);
    h.run(batch_job(&h, &conn)).await;
    // t=0 fetch (expires 100); t=10 monitor (90 left); t=70 monitor (30 left) → refetch.
    assert_eq!(h.requests_to("/tn/oauth2/v2.0/token").await.len(), 2);
}

// AUTHRT-004
#[tokio::test]
async fn authrt_004_entra_v1_resource_with_token_base() {
    let h = Harness::new().await;
    h.register(
        r#"{"name":"A","authType":"azuread","clientId":"cid","clientSecret":"s e","endpoint":"https://login.microsoftonline.com/tn/oauth2/token","resource":"https://management.azure.com/"}"#,
    );
    Mock::given(method("POST"))
        .and(path("/tn/oauth2/token"))
        .and(body_string(
            "grant_type=client_credentials&client_id=cid&client_secret=s%20e&resource=https%3A%2F%2Fmanagement.azure.com%2F",
        ))
        .respond_with(json(200, r#"{"access_token":"V1"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/run"))
        .and(header_is("authorization", "Bearer V1"))
        .respond_with(json(200, "{}"))
        .mount(&h.server)
        .await;
    let exec = h.exec.clone().with_token_base(h.base());
    let (_tx, rx) = oneshot::channel();
    let r = exec.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"A"}}"#), rx).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
}

// AUTHRT-005
#[tokio::test]
async fn authrt_005_token_401() {
    let h = Harness::new().await;
    h.register(AZURE);
    token(&h, json(401, r#"{"error":"invalid_client"}"#)).await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"A"}}"#)).await;
    assert_eq!(adapter_exit(&r), 10);
    assert_eq!(r.output, "MpJobsch: ERROR: 0609: HTTP request failed. RequestType=authentication StatusCode=401\n");
    assert!(h.requests_to("/run").await.is_empty());
}

// AUTHRT-006
#[tokio::test]
async fn authrt_006_token_missing() {
    let h = Harness::new().await;
    h.register(AZURE);
    token(&h, json(200, r#"{"token_type":"Bearer"}"#)).await;
    let r = h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"A"}}"#)).await;
    assert_eq!(adapter_exit(&r), 10);
    assert_eq!(r.output, "MpJobsch: ERROR: 0617: An access token is not found in the response result.\n");
    assert!(h.requests_to("/run").await.is_empty());
}

// AUTHRT-007
#[tokio::test]
async fn authrt_007_token_timeout() {
    let h = Harness::new().await;
    h.register(AZURE);
    token(&h, json(200, r#"{"access_token":"x"}"#).set_delay(Duration::from_millis(2500))).await;
    let r = h
        .run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"A","timeout":1}}"#))
        .await;
    assert_eq!(adapter_exit(&r), 10);
    assert_eq!(r.output, "MpJobsch: ERROR: 0611: HTTP request timed out. RequestType=authentication\n");
}

const LAMBDA_AUTH: &str = r#"{"name":"Aws_Lambda","authType":"awssigv4","accKey":"AKIAEXAMPLE0001","secKey":"exampleSecretKey/0001+abc","service":"lambda","region":"ap-northeast-1","endpoint":"lambda.ap-northeast-1.amazonaws.com"}"#;

// AUTHRT-008
#[tokio::test]
async fn authrt_008_sigv4_lambda_vector() {
    let h = Harness::new().await;
    h.register(LAMBDA_AUTH);
    Mock::given(method("POST")).respond_with(json(200, r#"{"statusCode":200}"#)).mount(&h.server).await;
    let mut job = h.job(
        JobKind::Rest,
        r#"{"request":{"url":"{B}/2015-03-31/functions/nightly-etl/invocations","method":"POST","authName":"Aws_Lambda"}}"#,
    );
    job.bodies = bodies(Some(r#"{"mode":"full"}"#), None, None);
    let r = h.run(job).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let req = &h.requests().await[0];
    assert_eq!(
        header(req, "authorization").as_deref(),
        Some(
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE0001/20240315/ap-northeast-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=230bff8395fe89b975c79582bd19d9f2dd0697bdda1ddce52ff05c0459cd86f0"
        )
    );
    assert_eq!(header(req, "x-amz-date").as_deref(), Some("20240315T010203Z"));
    assert_eq!(
        header(req, "x-amz-content-sha256").as_deref(),
        Some("1d5d296f9033e53b70a20357e71a05c9ac061c1a2467d18dfebbc4d98bee40b6")
    );
    assert_eq!(body(req), r#"{"mode":"full"}"#);
}

// AUTHRT-009
#[tokio::test]
async fn authrt_009_sigv4_get_vanilla_through_the_executor() {
    let h = Harness::new().await;
    h.register(
        r#"{"name":"V","authType":"awssigv4","accKey":"AKIDEXAMPLE","secKey":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","service":"service","region":"us-east-1","endpoint":"example.amazonaws.com"}"#,
    );
    Mock::given(method("GET")).and(path("/")).respond_with(json(200, "{}")).mount(&h.server).await;
    let timer = Arc::new(VirtualTimer::new(at("2015-08-30T12:36:00Z")));
    let exec = RestExecutor::new(h.auth.clone(), timer, http::client().expect("client"));
    let (_tx, rx) = oneshot::channel();
    let r = exec.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/","method":"GET","authName":"V"}}"#), rx).await;
    assert_eq!(adapter_exit(&r), 0);
    let auth = header(&h.requests().await[0], "authorization").expect("signed");
    assert!(auth.ends_with("Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), "{auth}");
}

// AUTHRT-010 AUTHRT-011
#[tokio::test]
async fn authrt_010_011_signed_extra_header_and_fresh_signatures() {
    let h = Harness::new().await;
    h.register(
        r#"{"name":"A","authType":"awssigv4","accKey":"AK","secKey":"SK","service":"batch","region":"ap-northeast-1","endpoint":"batch.ap-northeast-1.amazonaws.com","sigv4Header":{"X-Amz-Target":"X.Y"}}"#,
    );
    batch_like(&h, json(200, "{}")).await;
    let conn = MON.replace(r#""pollingCount":5"#, r#""pollingCount":2"#);
    h.run(batch_job(&h, &conn)).await;
    let reqs = h.requests().await;
    assert_eq!(reqs.len(), 3);
    let mut dates = Vec::new();
    let mut sigs = Vec::new();
    for r in &reqs {
        assert_eq!(header(r, "x-amz-target").as_deref(), Some("X.Y"));
        let auth = header(r, "authorization").expect("auth");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/20240315/ap-northeast-1/batch/aws4_request, "));
        assert!(auth.contains("SignedHeaders=host;x-amz-date;x-amz-target, Signature="), "{auth}");
        dates.push(header(r, "x-amz-date").expect("date"));
        sigs.push(auth);
    }
    assert_eq!(dates, vec!["20240315T010203Z", "20240315T010213Z", "20240315T010313Z"]);
    sigs.dedup();
    assert_eq!(sigs.len(), 3);
}

// AUTHRT-012
#[tokio::test]
async fn authrt_012_others_adds_nothing() {
    let h = Harness::new().await;
    h.register(r#"{"name":"O","authType":"others","k":"v"}"#);
    Mock::given(method("POST")).respond_with(json(200, "{}")).mount(&h.server).await;
    h.run(h.job(JobKind::Rest, r#"{"request":{"url":"{B}/run","method":"POST","authName":"O","header":{"K":"@k@"}}}"#))
        .await;
    let req = &h.requests().await[0];
    assert_eq!(header(req, "authorization"), None);
    assert_eq!(header(req, "k").as_deref(), Some("v"));
}

// AUTHRT-013
#[tokio::test]
async fn authrt_013_auth_header_wins() {
    let h = Harness::new().await;
    h.register(r#"{"name":"T","authType":"bearer","token":"T"}"#);
    Mock::given(method("POST")).respond_with(json(200, "{}")).mount(&h.server).await;
    h.run(h.job(
        JobKind::Rest,
        r#"{"request":{"url":"{B}/run","method":"POST","authName":"T","header":{"Authorization":"Basic zzz"}}}"#,
    ))
    .await;
    let req = &h.requests().await[0];
    let all: Vec<_> = req.headers.get_all("authorization").iter().collect();
    assert_eq!(all, vec!["Bearer T"]);
}

const INFA: &str = r#"{
  "request": {
    "url": "{B}/active-bpel/rt/tf1", "method": "POST", "authName": "infa",
    "header": { "Content-Type": "application/json", "Accept": "application/json" },
    "takeoverKeys": { "RUNID": "RunId" }
  },
  "monitoring": {
    "url": "{B}/active-bpel/services/tf/status/<RUNID>", "method": "GET",
    "header": { "Content-Type": "application/json", "Accept": "application/json" },
    "pollingEndKey": "status", "pollingEndVal": ["SUCCESS", "FAILED"],
    "checkResultKey": "status", "checkResultVal": ["SUCCESS"]
  }
}"#;

async fn informatica(final_status: &str) -> (Harness, woi_core::exec::JobResult) {
    let h = Harness::new().await;
    h.register(r#"{"name":"infa","authType":"basic","basicUser":"u","basicPasswd":"p"}"#);
    Mock::given(method("POST"))
        .and(path("/active-bpel/rt/tf1"))
        .respond_with(json(200, r#"{"RunId":"9001"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/active-bpel/services/tf/status/9001"))
        .respond_with(Seq::new(vec![
            json(200, r#"{"status":"RUNNING"}"#),
            json(200, &format!(r#"{{"status":"{final_status}"}}"#)),
        ]))
        .mount(&h.server)
        .await;
    let mut job = h.job(JobKind::Informatica, INFA);
    job.bodies = bodies(Some(r#"{"param1":"value1"}"#), None, None);
    let r = h.run(job).await;
    (h, r)
}

// INFA-001
#[tokio::test]
async fn infa_001_taskflow_success() {
    let (h, r) = informatica("SUCCESS").await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(h.requests_to("/active-bpel/services/tf/status/9001").await.len(), 2);
    let exec = &h.requests_to("/active-bpel/rt/tf1").await[0];
    assert_eq!(header(exec, "authorization").as_deref(), Some("Basic dTpw"));
    assert_eq!(body(exec), r#"{"param1":"value1"}"#);
}

// INFA-002
#[tokio::test]
async fn infa_002_taskflow_failed() {
    let (_h, r) = informatica("FAILED").await;
    assert_eq!(adapter_exit(&r), 7);
    assert!(r.output.ends_with("ResultValue=FAILED\n"));
}

// INFA-003
#[tokio::test]
async fn infa_003_azuread_not_allowed() {
    let h = Harness::new().await;
    h.register(&AZURE.replace(r#""name":"A""#, r#""name":"infa""#));
    let r = h.run(h.job(JobKind::Informatica, INFA)).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"request.authName\""));
}

const SNOW_HEADER: &str = r#""header":{"Content-Type":"application/json","Accept":"application/json","User-Agent":"myApplicationName/1.0","X-Snowflake-Authorization-Token-Type":"OAUTH","Snowflake-Account":"acc"}"#;

fn snow_task_conn() -> String {
    format!(
        r#"{{"request":{{"url":"{{B}}/api/v2/statements","method":"POST","authName":"A",{SNOW_HEADER}}},
  "monitoring":{{"url":"{{B}}/api/v2/statements","method":"POST",{SNOW_HEADER},
   "pollingEndKey":"data.[0].[6]","pollingEndVal":["SUCCEEDED","FAILED","CANCELLED","FAILED_AND_AUTO_SUSPENDED","SKIPPED"],
   "checkResultKey":"data.[0].[6]","checkResultVal":["SUCCEEDED"]}},
  "termination":{{"url":"{{B}}/api/v2/statements","method":"POST",{SNOW_HEADER}}}}}"#
    )
}

fn snow_task_job(h: &Harness, mon_task: &str) -> woi_core::exec::JobRun {
    let mut job = h.job(JobKind::Snowflake, &snow_task_conn());
    job.snowflake_target = Some(SnowflakeTarget::Task);
    job.bodies = bodies(
        Some(r#"{"statement":"EXECUTE TASK T1","database":"DB","schema":"SC","warehouse":"WH","role":"R"}"#),
        Some(&format!(
            r#"{{"statement":"select * from table(information_schema.task_history(result_limit => 1, task_name=>'{mon_task}')) WHERE SCHEDULED_FROM = 'EXECUTE TASK' ","database":"DB"}}"#
        )),
        Some(r#"{"statement":"SELECT SYSTEM$USER_TASK_CANCEL_ONGOING_EXECUTIONS('DB.SC.T1')","database":"DB"}"#),
    );
    job
}

fn task_row(state: &str) -> ResponseTemplate {
    json(200, &format!(r#"{{"data":[["q","n","DB","SC","x","y","{state}"]]}}"#))
}

async fn snow_task(final_state: &str) -> (Harness, woi_core::exec::JobResult) {
    let h = Harness::new().await;
    h.register(AZURE);
    token(&h, json(200, r#"{"access_token":"SF","expires_in":3599}"#)).await;
    Mock::given(method("POST"))
        .and(path("/api/v2/statements"))
        .and(body_string_contains(r#""statement":"EXECUTE TASK T1""#))
        .respond_with(json(200, r#"{"data":[["Task T1 is scheduled to run immediately."]]}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/statements"))
        .and(body_string_contains("task_history"))
        .respond_with(Seq::new(vec![task_row("EXECUTING"), task_row(final_state)]))
        .mount(&h.server)
        .await;
    let r = h.run(snow_task_job(&h, "T1")).await;
    (h, r)
}

// SNOW-001 SNOW-003
#[tokio::test]
async fn snow_001_003_task_mode() {
    let (h, r) = snow_task("SUCCEEDED").await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let calls: Vec<_> = h.requests_to("/api/v2/statements").await;
    assert_eq!(calls.len(), 3);
    for c in &calls {
        assert_eq!(header(c, "authorization").as_deref(), Some("Bearer SF"));
        assert_eq!(header(c, "x-snowflake-authorization-token-type").as_deref(), Some("OAUTH"));
    }
    let (_h, r) = snow_task("FAILED_AND_AUTO_SUSPENDED").await;
    assert_eq!(adapter_exit(&r), 7);
    assert!(r.output.ends_with("ResultValue=FAILED_AND_AUTO_SUSPENDED\n"));
}

// SNOW-002
#[tokio::test]
async fn snow_002_task_names_differ() {
    let h = Harness::new().await;
    h.register(AZURE);
    let r = h.run(snow_task_job(&h, "T2")).await;
    assert_eq!(adapter_exit(&r), 2);
    assert_eq!(r.output, "MpJobsch: ERROR: 0641: Task names do not match.\n");
    assert!(h.requests().await.is_empty());
}

fn snow_sql_job(h: &Harness) -> woi_core::exec::JobRun {
    let conn = format!(
        r#"{{"request":{{"url":"{{B}}/api/v2/statements","method":"POST","authName":"A",{SNOW_HEADER},
  "query":{{"async":"true"}},"takeoverKeys":{{"STATEMENT":"statementHandle"}}}},
  "monitoring":{{"url":"{{B}}/api/v2/statements/<STATEMENT>","method":"GET",{SNOW_HEADER}}},
  "termination":{{"url":"{{B}}/api/v2/statements/<STATEMENT>/cancel","method":"POST",{SNOW_HEADER}}}}}"#
    );
    let mut job = h.job(JobKind::Snowflake, &conn);
    job.snowflake_target = Some(SnowflakeTarget::Sql);
    job.bodies = bodies(Some(r#"{"statement":"select 1; select 2","database":"DB"}"#), None, None);
    job
}

async fn snow_sql(h: &Harness, monitor: Vec<ResponseTemplate>) {
    h.register(AZURE);
    token(h, json(200, r#"{"access_token":"SF","expires_in":3599}"#)).await;
    Mock::given(method("POST"))
        .and(path("/api/v2/statements"))
        .respond_with(json(202, r#"{"statementHandle":"h-1"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/statements/h-1"))
        .respond_with(Seq::new(monitor))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/statements/h-1/cancel"))
        .respond_with(json(200, "{}"))
        .mount(&h.server)
        .await;
}

// SNOW-004
#[tokio::test]
async fn snow_004_sql_mode_polls_until_200() {
    let h = Harness::new().await;
    let running = || json(202, r#"{"code":"333334","message":"running"}"#);
    snow_sql(&h, vec![running(), running(), json(200, r#"{"data":[["1"]]}"#)]).await;
    let r = h.run(snow_sql_job(&h)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert_eq!(h.requests_to("/api/v2/statements/h-1").await.len(), 3);
    assert_eq!(h.requests_to("/api/v2/statements").await[0].url.query(), Some("async=true"));
    assert!(has_line(&r, "ChkResultHttpStatusCode=200"));
}

// SNOW-005 LA-011
#[tokio::test]
async fn snow_005_la_011_sql_failure() {
    let h = Harness::new().await;
    snow_sql(&h, vec![json(422, r#"{"message":"SQL compilation error"}"#)]).await;
    let r = h.run(snow_sql_job(&h)).await;
    assert_eq!(adapter_exit(&r), 11);
    assert!(has_line(&r, "ChkResultHttpStatusCode=422"));
    assert!(has_line(&r, "MpJobsch: ERROR: 0639: An error occurred in the SQL statement."));
    assert!(!r.output.contains("ChkResultSqlStatement"));
}

// SNOW-006
#[tokio::test]
async fn snow_006_multi_statement_results() {
    let h = Harness::new().await;
    snow_sql(&h, vec![json(200, r#"{"statementHandles":["h-a","h-b"]}"#)]).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/statements/h-a"))
        .respond_with(json(200, r#"{"data":[["1"]]}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/api/v2/statements/h-b")).respond_with(json(500, "{}")).mount(&h.server).await;
    let r = h.run(snow_sql_job(&h)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert!(r.output.contains("ChkResultSqlStatement1={\n  \"data\": [\n"), "{}", r.output);
    assert!(has_line(&r, "ChkResultSqlStatement2=\"Failed to get the response. StatusCode=500\""));
    let a = &h.requests_to("/api/v2/statements/h-a").await[0];
    assert_eq!(header(a, "authorization").as_deref(), Some("Bearer SF"));
}

// SNOW-007
#[tokio::test]
async fn snow_007_sql_forced_stop_cancels() {
    let h = Harness::new().await;
    snow_sql(&h, vec![json(202, "{}")]).await;
    let r = h.run_killed_at_sleep(snow_sql_job(&h), 2).await;
    assert_forced(&r);
    assert_eq!(h.requests_to("/api/v2/statements/h-1/cancel").await.len(), 1);
}

const SCS: &str =
    r#"{"name":"sap","authType":"scs","clientId":"sb-1","clientSecret":"cs","endpoint":"{B}/oauth/token"}"#;

async fn sap_cloud(h: &Harness, runs: Vec<ResponseTemplate>) {
    h.register(SCS);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header_is("authorization", "Basic c2ItMTpjcw=="))
        .and(body_string("grant_type=client_credentials&client_id=sb-1"))
        .respond_with(json(200, r#"{"access_token":"SAPT","expires_in":43199}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scheduler/jobs/77/schedules"))
        .respond_with(json(201, r#"{"scheduleId":"s-1","type":"one-time"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scheduler/jobs/77/schedules/s-1/runs"))
        .respond_with(Seq::new(runs))
        .mount(&h.server)
        .await;
}

fn runs(status: &str, state: &str) -> ResponseTemplate {
    json(200, &format!(r#"{{"total":1,"results":[{{"runId":"r-9","runStatus":"{status}","runState":"{state}"}}]}}"#))
}

const SAP_CONN: &str =
    r#"{"url":"{B}/","jobId":"77","authName":"sap","pollingInterval":"30","firstMonitorInterval":5}"#;

// SAPC-001 SC-001
#[tokio::test]
async fn sapc_001_sc_001_success() {
    let h = Harness::new().await;
    sap_cloud(
        &h,
        vec![json(200, r#"{"total":0,"results":[]}"#), runs("RUNNING", "RUNNING"), runs("COMPLETED", "SUCCESS")],
    )
    .await;
    let r = h.run(h.job(JobKind::SapCloud, SAP_CONN)).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let l = lines(&r);
    let pos = |s: &str| l.iter().position(|x| *x == s).unwrap_or_else(|| panic!("{s} missing in {l:?}"));
    assert!(pos("HttpStatusCode=201") < pos("scheduleId=s-1"));
    assert!(pos("scheduleId=s-1") < pos("ChkResultHttpStatusCode=200"));
    assert!(pos("ChkResultHttpStatusCode=200") < pos("runId=r-9"));
    assert_eq!(pos("runId=r-9") + 1, pos("runState=SUCCESS"));
    assert_eq!(h.timer.sleeps(), vec![Duration::from_secs(5), Duration::from_secs(30), Duration::from_secs(30)]);
    let create = &h.requests_to("/scheduler/jobs/77/schedules").await[0];
    assert_eq!(body(create), r#"{"description":"WOI immediate run","type":"one-time","time":"now","active":true}"#);
    assert_eq!(header(create, "authorization").as_deref(), Some("Bearer SAPT"));
    assert_eq!(h.requests_to("/oauth/token").await.len(), 1);
}

// SAPC-002
#[tokio::test]
async fn sapc_002_run_state_error() {
    let h = Harness::new().await;
    sap_cloud(&h, vec![runs("COMPLETED", "ERROR")]).await;
    let r = h.run(h.job(JobKind::SapCloud, SAP_CONN)).await;
    assert_eq!(adapter_exit(&r), 7);
    assert!(has_line(&r, "runState=ERROR"));
    assert!(r.output.ends_with("ResultValue=ERROR\n"));
}

// SAPC-003 SAPC-004
#[tokio::test]
async fn sapc_003_004_validation_messages() {
    let h = Harness::new().await;
    let r = h.run(h.job(JobKind::SapCloud, r#"{"url":"https://js.example"}"#)).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"jobId\""));
    let r = h.run(h.job(JobKind::SapCloud, r#"{"url":"https://js.example","jobId":"7","pollingInterval":"3x"}"#)).await;
    assert_eq!(adapter_exit(&r), 2);
    assert!(r.output.contains("Parameter=\"pollingInterval\""));
    assert!(h.requests().await.is_empty());
}

// SC-002
#[tokio::test]
async fn sc_002_forced_stop_leaves_task_running() {
    let h = Harness::new().await;
    sap_cloud(&h, vec![runs("RUNNING", "RUNNING")]).await;
    let r = h.run_killed_at_sleep(h.job(JobKind::SapCloud, SAP_CONN), 2).await;
    assert_forced(&r);
    let non_get: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() != "GET" && r.url.path() != "/oauth/token")
        .collect();
    assert_eq!(non_get.len(), 1, "only the schedule creation, no cancel call");
}

#[tokio::test]
async fn sap_erp_is_not_available_in_this_build() {
    let h = Harness::new().await;
    let r = h.run(h.job(JobKind::SapErp, "")).await;
    assert_eq!(adapter_exit(&r), 104);
    assert!(r.output.contains("not available in this build"));
}

#[tokio::test]
async fn non_adapter_kind_is_an_internal_error() {
    let h = Harness::new().await;
    let r = h.run(h.job(JobKind::Command, "")).await;
    assert_eq!(adapter_exit(&r), 99);
    assert!(r.output.starts_with("MpJobsch: ERROR: 0618: An internal logical error occurred.\n"));
}
