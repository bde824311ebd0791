//! The jobnet options that decide whether a raised message event is
//! recognised (spec 04 §3.4.4, behaviors §4.5–4.6, §4.10), proven over real
//! HTTP on loopback: the events go through `POST {base}/v1/msgevent`, the
//! operator actions through `…/actions/{a}`, clears through `msgclear`,
//! definition changes through `PUT …/jobnets/{j}`; the runs are read back
//! through the executions API, the counts from the journal the scheduler
//! wrote (each `MessageEvent` record carries the count afterwards).

mod support;

use serde_json::{Value, json};
use support::{Server, at, start_seeded, start_with};
use woi_core::{Event, EventKind, JobnetKey, JobnetStatus};

const DEFS: &str = r#"
[[jobnet]]
project = "M"
name = "VD"
comment = "ValidDuringExecution"
start = { message_only = {} }
messages = { events = ["EVD"], valid_during_execution = true }
[[jobnet.job]]
number = 1
command = "sleep 1"

[[jobnet]]
project = "M"
name = "SD"
comment = "StartupDaysOnly"
start = { message_only = {} }
messages = { events = ["EVS"], valid_only_on_startup_days = true }
startup_days = { valid_period = { from = 2001-01-01, to = 2001-01-02 } }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "M"
name = "SN"
comment = "WithoutTheOption"
start = { message_only = {} }
messages = { events = ["EVS"] }
startup_days = { valid_period = { from = 2001-01-01, to = 2001-01-02 } }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "M"
name = "OD"
comment = "OnceADay"
start = { message_only = { once_a_day = true } }
messages = { events = ["EVO"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "M"
name = "PA"
comment = "PausedAnd"
start = { message_only = {} }
messages = { events = ["EVP1", "EVP2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "M"
name = "FU"
comment = "FullCount"
start = { message_only = {} }
messages = { events = ["EV1", "EV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"
"#;

async fn server() -> Server {
    start_with(DEFS, chrono::Utc::now()).await
}

async fn raise(s: &Server, body: &str) {
    s.post("msgevent", body).await.assert_ok_envelope();
}

/// `(counted, count, reason)` of every reception of `event` by `jobnet`, in order.
async fn receptions(s: &Server, jobnet: &str, event: &str) -> Vec<(bool, u16, Option<String>)> {
    s.journal()
        .await
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::MessageEvent { jobnet: j, event: ev, counted, count, reason }
                if j.to_string() == jobnet && &*ev == event =>
            {
                Some((counted, count, reason))
            }
            _ => None,
        })
        .collect()
}

/// POST a jobnet action as the admin; 200 with the jobnet status object.
async fn act(s: &Server, jobnet: &str, action: &str) -> Value {
    let r = s.call("POST", &format!("projects/M/jobnets/{jobnet}/actions/{action}"), None).await;
    assert_eq!(r.status, 200, "{action}: {}", r.text);
    r.json()["data"][0].clone()
}

/// The executions of `M/<jobnet>` through the API, oldest first.
async fn executions(s: &Server, jobnet: &str) -> Vec<Value> {
    let r = s.call("GET", &format!("executions/jobnets?jobnets={jobnet}&direction=asc&limit=100"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["data"].as_array().cloned().unwrap_or_default()
}

/// `(seq of the start, seq of the end)` of every run of `jobnet`, by run.
async fn run_spans(s: &Server, jobnet: &str) -> Vec<(u32, u64, Option<u64>)> {
    let mut spans: Vec<(u32, u64, Option<u64>)> = Vec::new();
    for e in s.journal().await {
        if let EventKind::JobnetStatus { jobnet: j, run, status, .. } = &e.kind
            && j.to_string() == jobnet
        {
            match spans.iter_mut().find(|(r, _, _)| r == run) {
                None if *status == JobnetStatus::Executing => spans.push((*run, e.seq, None)),
                Some(span) if status.is_ended() && span.2.is_none() => span.2 = Some(e.seq),
                _ => {}
            }
        }
    }
    spans
}

// WAPI-075
#[tokio::test]
async fn wapi_075_valid_during_execution_reruns_once_per_event_sequentially() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVD","projectname":"M","jobnetname":"VD"}"#).await;
    assert_eq!(s.starts("M/VD").await, 1, "the first raise starts run 1");
    for _ in 0..3 {
        raise(&s, r#"{"messagename":"EVD","projectname":"M","jobnetname":"VD"}"#).await;
    }
    // Counted while run 1 executes: 1, 2, 3 after the start consumed the first.
    let got: Vec<(bool, u16)> = receptions(&s, "M/VD", "EVD").await.into_iter().map(|(c, n, _)| (c, n)).collect();
    assert_eq!(got, [(true, 1), (true, 1), (true, 2), (true, 3)]);
    s.wait_ended("M/VD", 4).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Three more runs, one after another, never two at once.
    let spans = run_spans(&s, "M/VD").await;
    assert_eq!(spans.iter().map(|(r, _, _)| *r).collect::<Vec<_>>(), [1, 2, 3, 4], "{spans:?}");
    for w in spans.windows(2) {
        let prev_end = w[0].2.expect("ended");
        assert!(w[1].1 > prev_end, "run {} started before run {} ended: {spans:?}", w[1].0, w[0].0);
    }
    // The executions API shows the four runs, each started by the event.
    let execs = executions(&s, "VD").await;
    assert_eq!(execs.len(), 4, "{execs:?}");
    for e in &execs {
        assert_eq!(e["status"], json!("ended_normally"));
        assert_eq!(e["triggeredBy"]["kind"], json!("msgevent"));
        assert_eq!(e["triggeredBy"]["messageName"], json!("EVD"));
    }
    for w in execs.windows(2) {
        let (end, start) = (w[0]["completedAt"].as_str().expect("end"), w[1]["startedAt"].as_str().expect("start"));
        assert!(at(start) >= at(end), "overlapping runs: {execs:?}");
    }
}

// WAPI-077
#[tokio::test]
async fn wapi_077_an_and_wait_count_saturates_at_255() {
    // The journal already holds EV1 counted 254 times (rebuilt at start).
    let seed = [Event {
        seq: 1,
        at: at("2025-03-10T09:00:00Z"),
        kind: EventKind::MessageEvent {
            jobnet: JobnetKey::new("M", "FU"),
            event: "EV1".into(),
            counted: true,
            count: 254,
            reason: None,
        },
    }];
    let s = start_seeded(DEFS, chrono::Utc::now(), &seed).await;
    raise(&s, r#"{"messagename":"EV1","projectname":"M","jobnetname":"FU"}"#).await;
    raise(&s, r#"{"messagename":"EV1","projectname":"M","jobnetname":"FU"}"#).await;
    let got = receptions(&s, "M/FU", "EV1").await;
    assert_eq!(got[1..], [(true, 255, None), (false, 255, Some("count is already 255".into()))], "{got:?}");
    let want = "MpJobsch: WARNING: M FU EV1 The message event was not recognized: its occurrence count is already 255.";
    assert!(s.logs("M/FU").await.contains(&want.to_string()));
    // Still waiting for EV2; one EV2 starts it and consumes one of each.
    assert_eq!(s.starts("M/FU").await, 0);
    raise(&s, r#"{"messagename":"EV2","projectname":"M","jobnetname":"FU"}"#).await;
    s.wait_ended("M/FU", 1).await;
    let execs = executions(&s, "FU").await;
    assert_eq!(execs.len(), 1);
    assert_eq!(execs[0]["triggeredBy"]["messageName"], json!("EV2"));
}

// WAPI-078
#[tokio::test]
async fn wapi_078_valid_only_on_startup_days_ignores_events_on_other_days() {
    let s = server().await;
    // Today is not a startup day of SD or SN (their only startup days are in 2001).
    raise(&s, r#"{"messagename":"EVS","projectname":"M"}"#).await;
    assert_eq!(receptions(&s, "M/SD", "EVS").await, [(false, 0, Some("not a startup day".into()))]);
    assert_eq!(s.starts("M/SD").await, 0);
    assert!(executions(&s, "SD").await.is_empty());
    // Without the option the event is recognised and the jobnet starts.
    assert_eq!(receptions(&s, "M/SN", "EVS").await, [(true, 1, None)]);
    s.wait_ended("M/SN", 1).await;
    let execs = executions(&s, "SN").await;
    assert_eq!(execs.len(), 1);
    assert_eq!(execs[0]["triggeredBy"]["kind"], json!("msgevent"));
}

// WAPI-079
#[tokio::test]
async fn wapi_079_once_a_day_recognises_again_after_revoke() {
    let s = server().await;
    let ev = r#"{"messagename":"EVO","projectname":"M","jobnetname":"OD"}"#;
    raise(&s, ev).await;
    s.wait_ended("M/OD", 1).await;
    raise(&s, ev).await;
    let got = receptions(&s, "M/OD", "EVO").await;
    assert_eq!(got[1], (false, 0, Some("once a day: already started today".into())), "{got:?}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(executions(&s, "OD").await.len(), 1, "not started again today");
    // Revoke end (終了取消): the jobnet waits again and recognises the event.
    let status = act(&s, "OD", "revoke").await;
    assert_eq!(status["status"], json!("waiting"));
    raise(&s, ev).await;
    let got = receptions(&s, "M/OD", "EVO").await;
    assert_eq!(got.len(), 3);
    assert!(got[2].0, "recognised after revoke: {got:?}");
    s.wait_ended("M/OD", 2).await;
    assert_eq!(executions(&s, "OD").await.len(), 2);
}

// WAPI-098
#[tokio::test]
async fn wapi_098_msgclear_keeps_a_paused_satisfied_jobnet_which_starts_on_continue() {
    let s = server().await;
    assert_eq!(act(&s, "PA", "pause").await["status"], json!("paused"));
    raise(&s, r#"{"messagename":"EVP1","projectname":"M","jobnetname":"PA"}"#).await;
    raise(&s, r#"{"messagename":"EVP2","projectname":"M","jobnetname":"PA"}"#).await;
    assert_eq!(receptions(&s, "M/PA", "EVP1").await, [(true, 1, None)]);
    assert_eq!(receptions(&s, "M/PA", "EVP2").await, [(true, 1, None)]);
    assert_eq!(s.starts("M/PA").await, 0, "paused: not started");
    s.post("msgclear", r#"{"projectname":"M","jobnetname":"PA"}"#).await.assert_ok_envelope();
    assert!(!s.cleared().await.contains(&"M/PA".to_string()), "the satisfied paused jobnet is not reset");
    // Continue: the condition met while paused starts it.
    act(&s, "PA", "continue").await;
    s.wait_ended("M/PA", 1).await;
    let execs = executions(&s, "PA").await;
    assert_eq!(execs.len(), 1);
    assert_eq!(execs[0]["status"], json!("ended_normally"));
}

// WAPI-159
#[tokio::test]
async fn wapi_159_a_put_of_the_jobnet_resets_its_event_counts() {
    let s = start_with(support::DEFS, chrono::Utc::now()).await;
    raise_p1j1(&s, "EV1").await;
    assert_eq!(s.counted("EV1").await, [("P1/J1".to_string(), 1)]);
    // Rescheduled through the definitions API.
    let body = r#"{"comment":"changed","start":{"message_only":{}},"messages":{"events":["EV1","EV2"],"mode":"and"},
                   "job":[{"number":1,"command":"true"}]}"#;
    let r = s.call("PUT", "projects/P1/jobnets/J1", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call("GET", "projects/P1/jobnets/J1", None).await;
    assert_eq!(r.json()["data"][0]["comment"], json!("changed"));
    // EV1's count is 0 now: EV2 alone does not start J1 …
    raise_p1j1(&s, "EV2").await;
    assert_eq!(s.counted("EV2").await, [("P1/J1".to_string(), 1)]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.starts("P1/J1").await, 0, "EV1 was reset by the change");
    assert!(s.call("GET", "projects/P1/jobnets/J1/executions", None).await.json()["data"] == json!([]));
    // … and the next EV1 is counted from 0 again, then starts it.
    raise_p1j1(&s, "EV1").await;
    assert_eq!(s.counted("EV1").await, [("P1/J1".to_string(), 1), ("P1/J1".to_string(), 1)]);
    s.wait_ended("P1/J1", 1).await;
}

async fn raise_p1j1(s: &Server, event: &str) {
    raise(s, &format!(r#"{{"messagename":"{event}","projectname":"P1","jobnetname":"J1"}}"#)).await;
}
