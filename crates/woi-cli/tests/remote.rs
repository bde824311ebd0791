//! `woi status|history|op --server URL` against a real `woi serve --listen`:
//! the CLI's Web API client (token, two-header authentication, executions,
//! operations, msgevent/msgclear), its tables and JSON, and its exit codes.

mod support;

use support::server::{self, ADMIN, ADMIN_PW, DEFS, json, runs, text};

/// The fields local and remote `status --json` share, per jobnet.
fn status_rows(v: &serde_json::Value) -> Vec<(String, String, u64, Option<u64>)> {
    let mut rows: Vec<_> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
                r["run"].as_u64().unwrap_or(0),
                r["exit_code"].as_u64(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn op_start_long_polls_to_the_end_and_status_and_history_match_the_local_ones() {
    let s = server::start(DEFS);
    let o = s.woi(&["op", "start", "P1/QUICK"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let line = text(&o.stdout);
    assert!(
        line.starts_with("applied: start P1/QUICK (operation ") && line.contains(": NORMAL, execution jne-"),
        "{line}"
    );

    // An operation that ends ERROR exits 1 with its reason.
    let o = s.woi(&["op", "start", "P1/FAIL"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(text(&o.stderr).contains("ended ERROR: the jobnet ended abended"), "{}", text(&o.stderr));

    // status --server --json has the local fields and values.
    let remote = s.woi(&["status", "--json"]);
    assert_eq!(remote.status.code(), Some(0), "{}", text(&remote.stderr));
    let local = s.local(&["status", "--json"]);
    assert_eq!(status_rows(&json(&remote)), status_rows(&json(&local)));
    assert!(status_rows(&json(&remote)).contains(&("P1/QUICK".into(), "completed".into(), 1, Some(0))));

    // The table has the local header and a row per jobnet.
    let table = text(&s.woi(&["status"]).stdout);
    let local_table = text(&s.local(&["status"]).stdout);
    assert_eq!(table.lines().next(), local_table.lines().next());
    assert!(table.lines().any(|l| l.starts_with("P1/FAIL") && l.contains("abended") && l.contains(" 3 ")), "{table}");

    // history --server P/N: the run and its jobs, as locally.
    let remote = json(&s.woi(&["history", "P1/QUICK", "--json"]));
    let local = json(&s.local(&["history", "P1/QUICK", "--json"]));
    assert_eq!(runs(&remote), runs(&local));
    for k in ["status", "exit_code"] {
        assert_eq!(remote["runs"][0][k], local["runs"][0][k], "{k}");
    }
    for k in ["job", "name", "attempt", "status", "exit_code"] {
        assert_eq!(remote["jobs"][0][k], local["jobs"][0][k], "{k}");
    }
    assert_eq!(remote["jobs"][0]["name"], "ONLY");
    let table = text(&s.woi(&["history", "P1/QUICK"]).stdout);
    assert!(table.contains("ONLY") && table.contains("completed"), "{table}");

    // A second start is run 2; history numbers the runs back from it.
    assert_eq!(s.woi(&["op", "start", "P1/QUICK"]).status.code(), Some(0));
    let remote = json(&s.woi(&["history", "--json"]));
    let local = json(&s.local(&["history", "--json"]));
    assert_eq!(runs(&remote), runs(&local));
    assert_eq!(runs(&remote)[0], ("P1/QUICK".to_string(), 2));

    // An unknown jobnet is an error (exit 1) remotely as locally, not an empty history.
    assert_eq!(s.woi(&["history", "P1/NOSUCH", "--json"]).status.code(), Some(1));
    assert_eq!(s.local(&["history", "P1/NOSUCH", "--json"]).status.code(), Some(1));
}

#[test]
fn refused_and_synchronous_operations() {
    let s = server::start(DEFS);
    // A state the action does not allow: 409 OM_API_01011, exit 1.
    let o = s.woi(&["op", "confirm", "P1/QUICK"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("OM_API_01011: "), "{}", text(&o.stderr));

    let o = s.woi(&["op", "disable", "P1/J2"]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), "applied: disable P1/J2 (status disabled)\n".into()));
    let st = json(&s.woi(&["status", "--json"]));
    assert!(status_rows(&st).iter().any(|r| r.0 == "P1/J2" && r.1 == "disabled"));
    assert_eq!(s.woi(&["op", "enable", "P1/J2"]).status.code(), Some(0));

    // No such jobnet: 404, exit 1.
    let o = s.woi(&["op", "start", "P1/NOPE"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("OM_API_00050"), "{}", text(&o.stderr));

    // Recovery operations have no Web API route.
    let o = s.woi(&["op", "recover", "P1/FAIL", "1", "--recovery", "start_from"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not available through the Web API"));
}

// WAPI-068 WAPI-069
#[test]
fn wapi_068_069_raise_and_clear_events_through_the_server() {
    let s = server::start(DEFS);
    let o = s.woi(&["op", "raise_event", "--event", "EV1", "--project", "P2"]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), "applied: raise_event EV1\n".into()));
    let h = s.wait_history("P2/J3 to run", |v| runs(v).iter().any(|r| r.0 == "P2/J3"));
    assert!(!runs(&h).iter().any(|r| r.0 == "P1/J1"), "only P2 receives it: {h}");

    let o = s.woi(&["op", "raise_event", "P1/J1", "--event", "EV1"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let h = s.wait_history("P1/J1 to run", |v| runs(v).iter().any(|r| r.0 == "P1/J1"));
    assert_eq!(runs(&h).iter().filter(|r| r.0 == "P2/J3").count(), 1, "P2/J3 not again: {h}");

    let o = s.woi(&["op", "clear_events", "--project", "P1"]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), "applied: clear_events\n".into()));
}

// WAPI-070
#[test]
fn wapi_070_an_api_error_is_printed_with_its_code_and_exits_1() {
    let s = server::start(DEFS);
    let o = s.woi(&["op", "raise_event", "--event", "EV1", "--project", "PX"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "woi: OM_API_00900: Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0416: The project is not found.\n"
    );
}

// WAPI-026 WAPI-037
#[test]
fn wapi_026_037_bad_credentials_and_unreachable_servers_exit_2_and_print_no_secret() {
    let s = server::start(DEFS);
    let o = s.woi_with(&["status"], &[("WOI_PASSWORD", "Wr0ng#pw")]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stderr), "woi: OM_API_00002: The user ID or password is invalid.\n");

    let o = s.woi_with(&["history"], &[("WOI_CLIENT_SECRET", "not-the-secret")]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("invalid_client") && !err.contains("not-the-secret"), "{err}");

    // A wrong public host makes the scope invalid: refused token.
    let o = s.woi_with(&["status"], &[("WOI_PUBLIC_HOST", "elsewhere")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("invalid_scope"), "{}", text(&o.stderr));

    // Flags work like the environment, and nothing secret is echoed.
    let url = s.url.clone();
    let args = [
        "status",
        "--server",
        &url,
        "--client-id",
        &s.client_id,
        "--client-secret",
        &s.secret,
        "--user",
        ADMIN,
        "--password",
        ADMIN_PW,
        "--tenant",
        "t9",
        "--environment",
        "envA",
        "--public-host",
        "h",
    ];
    let o = server::woi_in(&s.path(), &args, None, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let all = text(&o.stdout) + &text(&o.stderr);
    assert!(!all.contains(&s.secret) && !all.contains(ADMIN_PW));

    // A secret may begin with '-' (generated secrets sometimes do): it is a value, not a flag.
    let mut hyphen = args;
    hyphen[6] = "-Hnot-the-secret";
    let o = server::woi_in(&s.path(), &hyphen, None, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("invalid_client") && !err.contains("not-the-secret"), "{err}");

    // Missing credentials: exit 2 naming the option.
    let o = s.woi_with(&["status"], &[("WOI_CLIENT_ID", "")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--client-id"), "{}", text(&o.stderr));

    // Nobody listening: exit 2.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let o = s.woi_with(&["status"], &[("WOI_SERVER", &dead)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("cannot reach the woi server"), "{}", text(&o.stderr));
}
