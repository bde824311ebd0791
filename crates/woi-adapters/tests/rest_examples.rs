//! The connection-info examples of `examples/rest/` (spec 03 §3.16), each run
//! against a loopback mock that stands in for the cloud service: the test
//! rewrites every `https://host[:port]` of the connection info to the mock.

mod rest_support;

use std::path::PathBuf;

use futures::channel::oneshot;
use rest_support::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, Request};
use woi_core::exec::{Executor, JobResult, JobRun};
use woi_core::model::JobKind;

fn dir(example: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/rest").join(example)
}

fn read(example: &str, file: &str) -> Option<String> {
    std::fs::read_to_string(dir(example).join(file)).ok().map(|s| s.trim_end().to_owned())
}

/// Replace the scheme and authority of every `https://` URL by `base`.
fn rewrite(text: &str, base: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("https://") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "https://".len()..];
        let end = after.find(['/', '"', '?']).unwrap_or(after.len());
        out.push_str(base);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn load(h: &Harness, example: &str) -> JobRun {
    h.register(&read(example, "auth.json").expect("auth.json"));
    let conn = read(example, "connection.json").expect("connection.json");
    assert!(conn.contains("https://"), "examples use real https endpoints");
    let mut job = h.job(JobKind::Rest, &rewrite(&conn, &h.base()));
    job.bodies = bodies(
        read(example, "body-execution.json").as_deref(),
        read(example, "body-monitoring.json").as_deref(),
        read(example, "body-termination.json").as_deref(),
    );
    job
}

fn sigv4_for(r: &Request, service: &str) {
    let auth = header(r, "authorization").expect("signed");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=") && auth.contains(&format!("/{service}/aws4_request, ")),
        "{auth}"
    );
    assert!(auth.contains("SignedHeaders=host;x-amz-date, Signature="), "{auth}");
    assert!(header(r, "x-amz-date").is_some());
}

#[tokio::test]
async fn example_aws_lambda() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/2015-03-31/functions/nightly-etl/invocations"))
        .respond_with(json(200, r#"{"statusCode":400,"body":"job failed"}"#))
        .mount(&h.server)
        .await;
    let r = h.run(load(&h, "aws-lambda")).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    assert!(has_line(&r, "StatusCode=400"));
    let req = &h.requests().await[0];
    assert_eq!(body(req), r#"{"mode":"full"}"#);
    // Same keys, date and body as the reference vector of spec 03 §3.5.
    assert!(
        header(req, "authorization")
            .expect("signed")
            .ends_with("Signature=230bff8395fe89b975c79582bd19d9f2dd0697bdda1ddce52ff05c0459cd86f0")
    );
}

#[tokio::test]
async fn example_aws_batch() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1/submitjob"))
        .respond_with(json(200, r#"{"jobArn":"arn:aws:batch:ap-northeast-1:123456789012:job/876da822","jobName":"testjob1","jobId":"876da822"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/describejobs"))
        .respond_with(Seq::new(vec![
            json(200, r#"{"jobs":[{"jobId":"876da822","status":"RUNNABLE"}]}"#),
            json(200, r#"{"jobs":[{"jobId":"876da822","status":"SUCCEEDED"}]}"#),
        ]))
        .mount(&h.server)
        .await;
    let r = h.run(load(&h, "aws-batch")).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let mon = h.requests_to("/v1/describejobs").await;
    assert_eq!(mon.len(), 2);
    assert_eq!(body(&mon[0]), r#"{"jobs":["876da822"]}"#);
    for req in h.requests().await {
        sigv4_for(&req, "batch");
    }
    assert_eq!(h.timer.sleeps(), vec![std::time::Duration::from_secs(10), std::time::Duration::from_secs(60)]);
}

#[tokio::test]
async fn example_aws_batch_forced_stop_terminates() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1/submitjob"))
        .respond_with(json(200, r#"{"jobId":"876da822"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/describejobs"))
        .respond_with(json(200, r#"{"jobs":[{"jobId":"876da822","status":"RUNNING"}]}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST")).and(path("/v1/terminatejob")).respond_with(json(200, "{}")).mount(&h.server).await;
    let r = h.run_killed_at_sleep(load(&h, "aws-batch"), 2).await;
    assert_eq!(r.exit, woi_core::ExitCode::forced());
    let t = h.requests_to("/v1/terminatejob").await;
    assert_eq!(t.len(), 1);
    assert_eq!(body(&t[0]), r#"{"reason":"Terminating job.","jobId":"876da822"}"#);
    sigv4_for(&t[0], "batch");
}

#[tokio::test]
async fn example_aws_step_functions() {
    let h = Harness::new().await;
    let arn = "arn:aws:states:ap-northeast-1:123456789012:execution:sleep60:e-1";
    Mock::given(method("POST"))
        .and(path("/step-functions-stage/startexecution"))
        .respond_with(json(200, &format!(r#"{{"executionArn":"{arn}","startDate":1.7e9}}"#)))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/step-functions-stage/describeexecution"))
        .respond_with(Seq::new(vec![json(200, r#"{"status":"RUNNING"}"#), json(200, r#"{"status":"SUCCEEDED"}"#)]))
        .mount(&h.server)
        .await;
    let r = h.run(load(&h, "aws-step-functions")).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let mon = h.requests_to("/step-functions-stage/describeexecution").await;
    assert_eq!(body(&mon[1]), format!(r#"{{"executionArn":"{arn}"}}"#));
    sigv4_for(&mon[0], "execute-api");
}

#[tokio::test]
async fn example_azure_logic_apps() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token"))
        .respond_with(json(200, r#"{"token_type":"Bearer","expires_in":3599,"access_token":"LA-TOKEN"}"#))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke"))
        .and(query_param("api-version", "2016-06-01"))
        .respond_with(json(202, r#"{"name":"08584737551867954143243946780CU57"}"#))
        .mount(&h.server)
        .await;
    let run_path = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/testLogicApps/providers/Microsoft.Logic/workflows/testlogicapps/runs/08584737551867954143243946780CU57";
    Mock::given(method("GET"))
        .and(path(run_path))
        .and(query_param("api-version", "2016-06-01"))
        .respond_with(Seq::new(vec![
            json(200, r#"{"properties":{"status":"Running"}}"#),
            json(200, r#"{"properties":{"status":"Succeeded"}}"#),
        ]))
        .mount(&h.server)
        .await;
    let job = load(&h, "azure-logic-apps");
    let exec = h.exec.clone().with_token_base(h.base());
    let (_tx, rx) = oneshot::channel();
    let r: JobResult = exec.run(job, rx).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let runs = h.requests_to(run_path).await;
    assert_eq!(runs.len(), 2);
    assert_eq!(header(&runs[0], "authorization").as_deref(), Some("Bearer LA-TOKEN"));
    let tok = &h.requests_to("/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token").await[0];
    assert!(body(tok).ends_with("&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
}

#[tokio::test]
async fn example_aws_s3_file_wait() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(Seq::new(vec![
            json(200, r#"{"result":"WAITING","status":"NOT_EXIST"}"#),
            json(200, r#"{"result":"WAITING","status":"NOT_EXIST"}"#),
            json(200, r#"{"result":"SUCCEEDED","status":"EXIST"}"#),
        ]))
        .mount(&h.server)
        .await;
    let r = h.run(load(&h, "aws-s3-file-wait")).await;
    assert_eq!(adapter_exit(&r), 0, "{}", r.output);
    let reqs = h.requests_to("/").await;
    assert_eq!(reqs.len(), 3);
    for req in &reqs {
        assert_eq!(body(req), r#"{"bucketName":"test-bucket1","fileName":"test1.txt","option":"wait"}"#);
        sigv4_for(req, "lambda");
    }
    assert!(r.output.contains("ChkResultHttpResBody={\n  \"result\": \"SUCCEEDED\",\n  \"status\": \"EXIST\"\n}"));
}

#[test]
fn rewrite_keeps_paths() {
    assert_eq!(
        rewrite(r#""https://a.b:443/x?y" "https://c/""#, "http://127.0.0.1:1"),
        r#""http://127.0.0.1:1/x?y" "http://127.0.0.1:1/""#
    );
}
