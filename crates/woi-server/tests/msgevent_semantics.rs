//! What a raise through the Web API does to the target jobnets (spec 04
//! §4.5), observed in the journal and the job output of a real scheduler.
//! The engine's rules themselves are proven by the model scenarios; these
//! tests prove that the API hands the event, vparam and suffix to it intact
//! and answers 200 whatever the jobnets do with it.

mod support;

use support::{Server, start_with};
use woi_core::EventKind;

const DEFS: &str = r#"
[[jobnet]]
project = "S"
name = "V1"
comment = "Vparam"
start = { message_only = {} }
messages = { events = ["EVV"] }
[[jobnet.job]]
number = 1
command = "echo got-@.VPARAM@"

[[jobnet]]
project = "S"
name = "J5"
comment = "And"
start = { message_only = {} }
messages = { events = ["EVA", "EVB"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "S"
name = "C1"
comment = "Copy"
start = { message_only = {} }
messages = { events = ["EVC"] }
[[jobnet.job]]
number = 1
command = "echo copy-@.VPARAM@"

[[jobnet]]
project = "S"
name = "C2"
comment = "Slow"
start = { message_only = {} }
messages = { events = ["EVS"] }
[[jobnet.job]]
number = 1
command = "sleep 3"

[[jobnet]]
project = "S"
name = "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDE"
comment = "Long"
start = { message_only = {} }
messages = { events = ["EVL"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "S"
name = "J9"
comment = "Nine"
start = { message_only = {} }
messages = { events = ["EV9"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "S"
name = "J9_x"
comment = "Handmade"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "S"
name = "R1"
comment = "Running"
start = { message_only = {} }
messages = { events = ["EVR"] }
[[jobnet.job]]
number = 1
command = "sleep 3"

[[jobnet]]
project = "S"
name = "F1"
comment = "Fails"
start = { message_only = {} }
messages = { events = ["EVF"] }
[[jobnet.job]]
number = 1
command = "sh -c 'exit 1'"
"#;

async fn server() -> Server {
    start_with(DEFS, chrono::Utc::now()).await
}

async fn raise(s: &Server, body: &str) {
    s.post("msgevent", body).await.assert_ok_envelope();
}

async fn output(s: &Server, jobnet: &str) -> String {
    let key = woi_core::JobnetKey::parse(jobnet).expect("key");
    let out = woi_core::store::Store::last_output(&*s.store, &key, 1).await.expect("output").expect("kept");
    out.output.trim().to_string()
}

async fn copies(s: &Server, copy: &str) -> usize {
    s.journal()
        .await
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::CopyCreated { jobnet, .. } if jobnet.to_string() == copy))
        .count()
}

// WAPI-080
#[tokio::test]
async fn wapi_080_vparam_replaces_vparam_in_the_job() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVV","projectname":"S","jobnetname":"V1","vparam":"ABC"}"#).await;
    s.wait_ended("S/V1", 1).await;
    assert_eq!(output(&s, "S/V1").await, "got-ABC");
}

// WAPI-081
#[tokio::test]
async fn wapi_081_without_vparam_it_becomes_empty() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVV"}"#).await;
    s.wait_ended("S/V1", 1).await;
    assert_eq!(output(&s, "S/V1").await, "got-");
}

// WAPI-082
#[tokio::test]
async fn wapi_082_an_and_waiting_jobnet_counts_the_event_and_ignores_the_vparam() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVA","vparam":"X"}"#).await;
    assert_eq!(s.counted("EVA").await, [("S/J5".to_string(), 1)]);
    assert!(
        s.logs("S/J5").await.contains(&"MpJobsch: WARNING: 0432: S J5 A variable parameter has been ignored.".into())
    );
}

// WAPI-084, WAPI-085
#[tokio::test]
async fn wapi_084_085_copy_start_creates_starts_and_overwrites_the_copy() {
    let s = server().await;
    let body = r#"{"messagename":"EVC","projectname":"S","jobnetname":"C1","vparam":"V","suffix":"r1"}"#;
    raise(&s, body).await;
    assert_eq!(copies(&s, "S/C1_r1").await, 1);
    s.wait_ended("S/C1_r1", 1).await;
    assert_eq!(output(&s, "S/C1_r1").await, "copy-V");
    assert_eq!(s.starts("S/C1").await, 0, "the source itself does not start");
    // Repeated after the copy completed: overwritten and started again, never deleted.
    raise(&s, body).await;
    assert_eq!(copies(&s, "S/C1_r1").await, 2);
    s.wait_for(
        "the second run of the copy",
        |k| matches!(k, EventKind::JobnetStatus { jobnet, run: 2, .. } if jobnet.to_string() == "S/C1_r1"),
    )
    .await;
}

// WAPI-086
#[tokio::test]
async fn wapi_086_a_copy_still_executing_cannot_be_overwritten() {
    let s = server().await;
    let body = r#"{"messagename":"EVS","projectname":"S","jobnetname":"C2","vparam":"V","suffix":"r1"}"#;
    raise(&s, body).await;
    raise(&s, body).await;
    assert_eq!(copies(&s, "S/C2_r1").await, 1);
    assert!(
        s.logs("S/C2").await.contains(&"MpJobsch: ERROR: 0431: S C2_r1 Copy and startup of a job net failed.".into())
    );
    assert_eq!(s.starts("S/C2_r1").await, 1, "nothing new starts");
}

// WAPI-087
#[tokio::test]
async fn wapi_087_a_copy_name_over_50_bytes_fails_with_0431() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVL","vparam":"V","suffix":"abcdef"}"#).await;
    let name = "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDE";
    let want = format!("MpJobsch: ERROR: 0431: S {name}_abcdef Copy and startup of a job net failed.");
    assert!(s.logs(&format!("S/{name}")).await.contains(&want));
    let all: Vec<String> = s.journal().await.iter().map(|e| format!("{:?}", e.kind)).collect();
    assert!(!all.iter().any(|l| l.contains("CopyCreated")), "nothing is copied: {all:?}");
    assert!(!all.iter().any(|l| l.contains("Executing")), "nothing starts: {all:?}");
}

// WAPI-088
#[tokio::test]
async fn wapi_088_a_handmade_jobnet_of_the_copy_name_blocks_the_copy() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EV9","vparam":"V","suffix":"x"}"#).await;
    assert!(
        s.logs("S/J9").await.contains(&"MpJobsch: ERROR: 0431: S J9_x Copy and startup of a job net failed.".into())
    );
    assert_eq!(s.starts("S/J9_x").await, 0);
}

// WAPI-074
#[tokio::test]
async fn wapi_074_an_executing_jobnet_does_not_count_the_event() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVR"}"#).await;
    assert_eq!(s.starts("S/R1").await, 1);
    raise(&s, r#"{"messagename":"EVR"}"#).await;
    assert_eq!(s.counted("EVR").await, [("S/R1".to_string(), 1)], "the second raise is not counted");
    s.wait_ended("S/R1", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(s.starts("S/R1").await, 1, "no re-run after the end");
}

// WAPI-076
#[tokio::test]
async fn wapi_076_an_abended_jobnet_does_not_count_the_event() {
    let s = server().await;
    raise(&s, r#"{"messagename":"EVF"}"#).await;
    s.wait_ended("S/F1", 1).await;
    raise(&s, r#"{"messagename":"EVF"}"#).await;
    assert_eq!(s.counted("EVF").await, [("S/F1".to_string(), 1)]);
    assert_eq!(s.starts("S/F1").await, 1);
}

const HELD: &str = r#"
[[jobnet]]
project = "H"
name = "D1"
comment = "Disabled"
start = { message_only = {} }
messages = { events = ["EVD"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "H"
name = "P1"
comment = "Paused"
start = { message_only = {} }
messages = { events = ["EVP"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "H"
name = "L1"
comment = "Limit"
start = { message_only = {} }
messages = { events = ["EVX"] }
[[jobnet.job]]
number = 1
command = "echo XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX @.VPARAM@"
"#;

async fn held(action: woi_core::sim::Action) -> Server {
    let s = start_with(HELD, chrono::Utc::now()).await;
    s.handle.apply(action).await.expect("operation applied");
    s
}

// WAPI-073
#[tokio::test]
async fn wapi_073_a_disabled_jobnet_does_not_count_or_start() {
    let s = held(woi_core::sim::Action::Disable { jobnet: "H/D1".into() }).await;
    raise(&s, r#"{"messagename":"EVD"}"#).await;
    assert!(s.counted("EVD").await.is_empty(), "the count stays 0");
    assert_eq!(s.starts("H/D1").await, 0);
}

// WAPI-083
#[tokio::test]
async fn wapi_083_a_paused_jobnet_ignores_an_event_with_vparam_0435() {
    let s = held(woi_core::sim::Action::Pause { jobnet: "H/P1".into() }).await;
    raise(&s, r#"{"messagename":"EVP","vparam":"V"}"#).await;
    assert!(s.counted("EVP").await.is_empty(), "count unchanged");
    let logs = s.logs("H/P1").await;
    assert!(logs.iter().any(|l| l.starts_with("MpJobsch: ERROR: 0435: H P1 EVP")), "{logs:?}");
    assert_eq!(s.starts("H/P1").await, 0);
}

// WAPI-089
#[tokio::test]
async fn wapi_089_a_vparam_that_overflows_a_field_ends_the_job_with_246() {
    let s = start_with(HELD, chrono::Utc::now()).await;
    // 200 bytes: accepted by the API, but the command then exceeds its 1,024 bytes.
    let vparam = "A".repeat(200);
    raise(&s, &format!(r#"{{"messagename":"EVX","vparam":"{vparam}"}}"#)).await;
    s.wait_ended("H/L1", 1).await;
    let jobs = s.handle.jobs(&woi_core::JobnetKey::new("H", "L1")).await.expect("jobs");
    assert_eq!(jobs[0].exit.map(|x| x.code), Some(246));
}
