//! `GET {base}/v1/msgevents/occurrences` over real HTTP on loopback: the
//! occurrence history `woi jobschchkmsgevt --server` waits on (spec 02 §3.3),
//! its filters, the caller's project rights, the long poll and the
//! parameter checks.

mod support;

use serde_json::{Value, json};
use support::{Server, start};
use woi_adapters::auth::Right;

const REF1: &str = "ref1:Rr#12345";
const NONE1: &str = "none1:Nn#12345";

async fn raise(s: &Server, body: &str) {
    let r = s.post("msgevent", body).await;
    r.assert_ok_envelope();
}

async fn occurrences_as(s: &Server, who: &str, query: &str) -> Value {
    let r = s.call_as(who, "GET", &format!("msgevents/occurrences{query}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"));
    r.json()
}

async fn occurrences(s: &Server, query: &str) -> Value {
    occurrences_as(s, &format!("{}:{}", support::ADMIN, support::ADMIN_PW), query).await
}

/// `(event, project, jobnet, vparam)` of every listed occurrence.
fn listed(v: &Value) -> Vec<(String, Value, Value, Value)> {
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|o| {
            (
                o["event"].as_str().unwrap_or("").to_string(),
                o["projectName"].clone(),
                o["jobnetName"].clone(),
                o["vparam"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn raised_events_are_listed_in_order_with_a_cursor_and_the_server_clock() {
    let s = start().await;
    let empty = occurrences(&s, "").await;
    assert_eq!((empty["total"].clone(), empty["cursor"].clone()), (json!(0), json!(0)));
    assert!(empty["now"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()), "{empty}");

    raise(&s, r#"{"messagename":"EV1"}"#).await;
    raise(&s, r#"{"messagename":"EV2","projectname":"P1","jobnetname":"J1","vparam":"20250601"}"#).await;
    raise(&s, r#"{"messagename":"EV9","projectname":"P2"}"#).await;

    let all = occurrences(&s, "").await;
    assert_eq!(
        listed(&all),
        vec![
            ("EV1".into(), Value::Null, Value::Null, Value::Null),
            ("EV2".into(), json!("P1"), json!("J1"), json!("20250601")),
            ("EV9".into(), json!("P2"), Value::Null, Value::Null),
        ]
    );
    let seqs: Vec<u64> = all["data"].as_array().expect("data").iter().filter_map(|o| o["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(all["cursor"].as_u64(), seqs.last().copied());
    assert_eq!((all["next"].clone(), all["total"].clone()), (json!(false), json!(3)));
    for o in all["data"].as_array().expect("data") {
        assert!(o["raisedAt"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()), "{o}");
    }

    // `event` filters; `after` continues behind a cursor.
    assert_eq!(listed(&occurrences(&s, "?event=EV2").await).len(), 1);
    let after_first = occurrences(&s, &format!("?after={}", seqs[0])).await;
    assert_eq!(listed(&after_first).iter().map(|o| o.0.as_str()).collect::<Vec<_>>(), ["EV2", "EV9"]);
    let none = occurrences(&s, &format!("?after={}", seqs[2])).await;
    assert_eq!((none["total"].clone(), none["cursor"].as_u64()), (json!(0), Some(seqs[2])));
}

#[tokio::test]
async fn the_caller_sees_unaddressed_events_and_those_of_projects_it_may_reference() {
    let s = start().await;
    s.user_with("ref1", "Rr#12345", &[("P1", Right::Reference)]);
    s.user_with("none1", "Nn#12345", &[]);
    raise(&s, r#"{"messagename":"EV1"}"#).await;
    raise(&s, r#"{"messagename":"EV1","projectname":"P1"}"#).await;
    raise(&s, r#"{"messagename":"EV1","projectname":"P2","jobnetname":"J2"}"#).await;

    let projects = |v: &Value| listed(v).into_iter().map(|o| o.1).collect::<Vec<_>>();
    assert_eq!(projects(&occurrences(&s, "?event=EV1").await), [Value::Null, json!("P1"), json!("P2")]);
    assert_eq!(projects(&occurrences_as(&s, REF1, "?event=EV1").await), [Value::Null, json!("P1")]);
    let v = occurrences_as(&s, NONE1, "?event=EV1").await;
    assert_eq!(projects(&v), [Value::Null]);
    // The cursor still passes the hidden ones.
    assert_eq!(v["cursor"], occurrences(&s, "").await["cursor"]);

    // A long poll of a user without rights on P2 does not end for a P2 event: empty after `wait`.
    let cursor = v["cursor"].as_u64().expect("cursor");
    let poll = {
        let (url, h) =
            (format!("{}/v1/msgevents/occurrences?after={cursor}&wait=2", s.base()), s.user_headers(NONE1).await);
        let http = s.http.clone();
        tokio::spawn(async move {
            let mut req = http.get(url);
            for (k, v) in h {
                req = req.header(k, v);
            }
            req.send().await.expect("send").json::<Value>().await.expect("json")
        })
    };
    raise(&s, r#"{"messagename":"EV1","projectname":"P2"}"#).await;
    let v = poll.await.expect("poll");
    assert_eq!(v["total"], json!(0), "{v}");
}

#[tokio::test]
async fn a_long_poll_ends_when_a_matching_event_is_raised() {
    let s = start().await;
    let h = s.admin_headers().await;
    let url = format!("{}/v1/msgevents/occurrences?event=EVX&wait=60", s.base());
    let http = s.http.clone();
    let poll = tokio::spawn(async move {
        let mut req = http.get(url);
        for (k, v) in h {
            req = req.header(k, v);
        }
        req.send().await.expect("send").json::<Value>().await.expect("json")
    });
    // Another event does not end it; EVX (awaited by no jobnet, so it records
    // nothing in the journal) does.
    raise(&s, r#"{"messagename":"EV1"}"#).await;
    raise(&s, r#"{"messagename":"EVX","vparam":"p1"}"#).await;
    let v = poll.await.expect("poll");
    assert_eq!(listed(&v), vec![("EVX".into(), Value::Null, Value::Null, json!("p1"))]);

    // Something already there answers at once, whatever `wait` says.
    let v = occurrences(&s, "?event=EVX&wait=60").await;
    assert_eq!(v["total"], json!(1));
    // Nothing new: an empty list once `wait` is over, the cursor where it was.
    let cursor = v["cursor"].as_u64().expect("cursor");
    let v = occurrences(&s, &format!("?event=EVX&after={cursor}&wait=1")).await;
    assert_eq!((v["total"].clone(), v["cursor"].as_u64()), (json!(0), Some(cursor)));
}

#[tokio::test]
async fn bad_wait_after_and_event_values_are_400_om_api_00010() {
    let s = start().await;
    for (query, shown) in [
        ("wait=61", "wait=61"),
        ("wait=-1", "wait=-1"),
        ("wait=abc", "wait=abc"),
        ("wait=", "wait="),
        ("after=x", "after=x"),
        ("after=-1", "after=-1"),
        ("after=1.5", "after=1.5"),
        ("event=ABCDEFGHIJKLM", "event=ABCDEFGHIJKLM"),
        ("event=", "event="),
    ] {
        let r = s.call("GET", &format!("msgevents/occurrences?{query}"), None).await;
        r.assert_error(400, "OM_API_00010", &format!("The parameter is invalid. {shown}"));
    }
    let r = s.call("GET", "msgevents/occurrences?wait=1&wait=2", None).await;
    r.assert_code(400, "OM_API_00013");
    let r = s.call("GET", "msgevents/occurrences?since=1", None).await;
    r.assert_code(400, "OM_API_00012");
    // Without credentials: 401; another method: 405.
    let r = s.send("GET", &format!("{}/v1/msgevents/occurrences", s.base()), &[], None).await;
    r.assert_code(401, "OM_API_00001");
    let r = s.call("POST", "msgevents/occurrences", Some("{}")).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
}
