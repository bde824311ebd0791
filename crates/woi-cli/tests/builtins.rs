//! The five built-in commands as `woi` subcommands (spec 02 §3.2–§3.6): the
//! spec's option syntax, output lines, messages and exit codes through the
//! real binary; `jobschmsgevent` against a real server and against the
//! embedded scheduler of a data directory.

mod support;

use std::process::Output;

use support::server::{self, DEFS, runs, text, woi_in};

fn woi(args: &[&str]) -> Output {
    let dir = std::env::temp_dir();
    woi_in(&dir, args, None, &[])
}

/// The first line of a stream.
fn first_line(b: &[u8]) -> String {
    text(b).lines().next().unwrap_or_default().to_string()
}

/// Exit code, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = woi(args);
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

const USAGE_0323: &str = "MpJobsch: ERROR: 0323: Usage: jobschmsgevent event_name[:project_name [/job_net_name] [message_text]] [-h host_name] [-t:INFO | -t:WARN | -t:ERROR] [-p param [-c suffix]] [-sys {0 to 9 | all}]\n";
const USAGE_0385: &str =
    "MpJobsch: ERROR: 0385: Usage: jobschchecktime -wt rendez-vous_time [-lt latest_rendez-vous_time] [-sys 0 to 9]\n";
const USAGE_0469: &str = "MpJobsch: ERROR: 0469: Usage: jobschsleep <wait time>\n";
const USAGE_0522: &str =
    "MpJobsch: ERROR: 0522: Usage: jobschchkmsgevt <message event name> [-i <monitoring interval>]\n";
const MSG_0376: &str = "MpJobsch: ERROR: 0376: Latest rendez-vous time must be after the rendez-vous time.\n";

#[track_caller]
fn assert_usage(args: &[&str], usage: &str) {
    assert_eq!(run(args), (Some(21), String::new(), usage.to_string()), "{args:?}");
}

// ----- jobschsleep ------------------------------------------------------------

// SL-001 SL-002
#[test]
fn sl_001_002_sleep_prints_the_seconds() {
    assert_eq!(run(&["jobschsleep", "0"]), (Some(0), "SL_SLEEPSEC=0\n".into(), String::new()));
    assert_eq!(run(&["jobschsleep", "1"]), (Some(0), "SL_SLEEPSEC=1\n".into(), String::new()));
    assert_eq!(run(&["jobschsleep", "007"]).1, "SL_SLEEPSEC=7\n");
}

// SL-003 SL-004
#[test]
fn sl_003_004_bad_seconds_exit_21_with_usage_0469() {
    for args in [&["86401"][..], &["-5"], &["1.5"], &[], &["10", "20"], &["--", "-1"]] {
        let mut a = vec!["jobschsleep"];
        a.extend_from_slice(args);
        assert_usage(&a, USAGE_0469);
    }
}

// ----- jobschchecktime -------------------------------------------------------

// CT-006
#[test]
fn ct_006_a_past_wait_time_ends_at_once_with_only_ct_wtime() {
    // 00:00 with the day-change time 00:00 is the start of the operating day: always past.
    assert_eq!(run(&["jobschchecktime", "-wt", "0000"]), (Some(0), "CT_WTIME=0000\n".into(), String::new()));
}

// CT-005 CT-013
#[test]
fn ct_005_013_started_after_the_latest_minute_exits_1_with_both_lines() {
    let minute = chrono::Timelike::num_seconds_from_midnight(&chrono::Utc::now()) / 60;
    let (code, out, err) = run(&["jobschchecktime", "--tz", "UTC", "-wt", "0000", "-lt", "0000"]);
    assert_eq!((out.as_str(), err.as_str()), ("CT_WTIME=0000\nCT_LTIME=0000\n", ""));
    if minute >= 2 {
        assert_eq!(code, Some(1));
    }
}

// CT-012 CT-021
#[test]
fn ct_012_021_latest_before_wait_in_operating_day_order_exits_21_with_0376() {
    let dc = ["jobschchecktime", "--day-change", "05:00"];
    assert_eq!(run(&[&dc[..], &["-wt", "1700", "-lt", "1500"]].concat()), (Some(21), String::new(), MSG_0376.into()));
    assert_eq!(run(&[&dc[..], &["-wt", "0400", "-lt", "0500"]].concat()), (Some(21), String::new(), MSG_0376.into()));
    // 05:00 → 04:00 (next calendar day) is in order: accepted, and 05:00 is already past.
    let (code, out, _) = run(&[&dc[..], &["-wt", "0500", "-lt", "0400"]].concat());
    assert!(matches!(code, Some(0 | 1)), "{code:?}");
    assert_eq!(out, "CT_WTIME=0500\nCT_LTIME=0400\n");
}

// CT-016 CT-017
#[test]
fn ct_016_017_bad_times_and_a_missing_wait_time_exit_21_with_usage_0385() {
    for wt in ["2400", "1260", "930", "12:00", "ab12"] {
        assert_usage(&["jobschchecktime", "-wt", wt], USAGE_0385);
    }
    assert_usage(&["jobschchecktime", "-lt", "1100"], USAGE_0385);
    assert_usage(&["jobschchecktime"], USAGE_0385);
    assert_usage(&["jobschchecktime", "-wt", "1000", "-wt", "1100"], USAGE_0385);
}

// CT-018
#[test]
fn ct_018_an_unusable_day_change_time_exits_22_with_0027() {
    let (code, out, err) = run(&["jobschchecktime", "--day-change", "xx", "-wt", "0000"]);
    assert_eq!((code, out.as_str()), (Some(22), ""));
    assert!(err.starts_with("MpJobsch: ERROR: 0027: "), "{err}");
}

// ----- jobschchknetvar -------------------------------------------------------

fn nv(vars: &[&str], args: &[&str]) -> (Option<i32>, String) {
    let mut a = vec!["jobschchknetvar".to_string()];
    for v in vars {
        a.push(format!("--var={v}"));
    }
    a.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, _) = run(&refs);
    (code, out)
}

// NV-001 NV-002 NV-003 NV-004
#[test]
fn nv_001_004_existence() {
    assert_eq!(nv(&["P.X="], &["P.X"]), (Some(0), "P.X=\n".into()));
    assert_eq!(nv(&[], &["P.Y"]), (Some(1), String::new()));
    assert_eq!(nv(&[], &["P.Y", "-z"]), (Some(0), String::new()));
    assert_eq!(nv(&["P.X="], &["P.X", "-z"]), (Some(1), "P.X=\n".into()));
}

// NV-005 NV-006 NV-007 NV-009
#[test]
fn nv_005_009_numeric_compare_and_range() {
    for (op, code) in [("EQ,200", 0), ("NE,200", 1), ("GT,199", 0), ("GE,200", 0), ("LT,200", 1), ("LE,200", 0)] {
        assert_eq!(nv(&["R.CODE=200"], &["R.CODE", "-num", op]), (Some(code), "R.CODE=200\n".into()), "{op}");
    }
    assert_eq!(nv(&[], &["R.CODE", "-num", "NE,200"]).0, Some(1));
    assert_eq!(nv(&[], &["R.CODE", "-num", "NE,200", "-z"]).0, Some(0));
    for (v, code) in [("299", 0), ("300", 1), ("200", 0), ("199", 1)] {
        let var = format!("R.CODE={v}");
        assert_eq!(nv(&[&var], &["R.CODE", "-num", "GE,200,LT,300"]).0, Some(code), "{v}");
    }
    assert_eq!(nv(&["R.CODE=404"], &["R.CODE", "-num", "GE,200,LT,300", "-z"]).0, Some(0));
}

// NV-010 NV-012 NV-013 NV-022 NV-024 NV-027 NV-029
#[test]
fn nv_010_029_parameter_errors_exit_21_with_usage_0468() {
    for args in [
        &["R.CODE", "-num", "GE,10,LE,10"][..],
        &["R.CODE", "-num", "LT,5,GT,10"],
        &["R.CODE", "-num", "EQ,2147483648"],
        &["R.CODE", "-num", "EQ,1", "-char", "EQ,1"],
        &[".VPARAM"],
        &["R.CODE", "-num", "EQ"],
        &["R.CODE", "-num", "eq,1"],
        &[],
    ] {
        let mut a = vec!["jobschchknetvar"];
        a.extend_from_slice(args);
        let (code, out, err) = run(&a);
        assert_eq!((code, out.as_str()), (Some(21), ""), "{args:?}");
        assert!(err.starts_with("MpJobsch: ERROR: 0468: Usage: jobschchknetvar "), "{err}");
    }
}

// NV-016 NV-017 NV-018 NV-019 NV-020 NV-021 NV-026
#[test]
fn nv_016_026_string_compare() {
    assert_eq!(nv(&["S.V="], &["S.V", "-char", "EQ,"]).0, Some(0));
    assert_eq!(nv(&["S.V=a"], &["S.V", "-char", "EQ,"]).0, Some(1));
    assert_eq!(nv(&["S.V=a"], &["S.V", "-char", "NE,"]).0, Some(0));
    assert_eq!(nv(&["S.V=abc"], &["S.V", "-char", "IN,"]).0, Some(1));
    assert_eq!(nv(&["S.V=abc"], &["S.V", "-char", "NI,"]).0, Some(0));
    assert_eq!(nv(&[], &["S.V", "-char", "NI,"]).0, Some(1));
    assert_eq!(nv(&["S.MSG=error occurred"], &["S.MSG", "-char", "IN,rr"]), (Some(0), "S.MSG=error occurred\n".into()));
    assert_eq!(nv(&["S.ST=ok"], &["S.ST", "-char", "EQ,OK"]).0, Some(1));
    assert_eq!(nv(&["S.LIST=a,b,c"], &["S.LIST", "-char", "IN,b,c"]).0, Some(0));
}

#[test]
fn chknetvar_reads_a_variables_file_or_standard_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("vars"), "JOB.ABC=xyz\nJOB.N=5\n").expect("write");
    let o = woi_in(dir.path(), &["jobschchknetvar", "--vars", "vars", "JOB.ABC", "-char", "EQ,xyz"], None, &[]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), "JOB.ABC=xyz\n".into()));
    let o = woi_in(dir.path(), &["jobschchknetvar", "--vars", "-", "JOB.N", "-num", "GT,5"], Some("JOB.N=5\n"), &[]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(1), "JOB.N=5\n".into()));
    // An unreadable variable store: exit 31.
    let o = woi_in(dir.path(), &["jobschchknetvar", "--vars", "missing", "JOB.N"], None, &[]);
    assert_eq!(o.status.code(), Some(31));
}

// ----- jobschchkmsgevt -------------------------------------------------------

// CM-006 CM-007
#[test]
fn cm_006_007_bad_interval_or_event_name_exit_21_with_usage_0522() {
    for args in [&["ABC", "-i", "0"][..], &["ABC", "-i", "3601"], &["ABCDEFGHIJKLM"], &["AB C"], &["A,B"], &[]] {
        let mut a = vec!["jobschchkmsgevt"];
        a.extend_from_slice(args);
        assert_usage(&a, USAGE_0522);
    }
}

// CM-006 CM-010
#[test]
fn cm_006_010_intervals_1_and_3600_are_accepted_and_no_data_directory_exits_31_with_0523() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = dir.path().join("none");
    let none = none.to_str().expect("utf-8 path");
    for args in [&["ABC", "-i", "1"][..], &["ABC", "-i", "3600"]] {
        let mut a = vec!["jobschchkmsgevt", "--data", none];
        a.extend_from_slice(args);
        let (code, out, err) = run(&a);
        assert_eq!((code, out.as_str()), (Some(31), ""));
        assert!(err.ends_with("MpJobsch: ERROR: 0523: Failed to read the message event occurrence history file.\n"));
    }
}

// ----- jobschmsgevent --------------------------------------------------------

// ME-004 ME-005 ME-006 ME-007 ME-008
#[test]
fn me_004_008_bad_arguments_exit_21_with_usage_0323() {
    let p201 = "x".repeat(201);
    let s31 = "S".repeat(31);
    for args in [
        &["ABCDEFGHIJKLM"][..],
        &["EV1", "-p", &p201],
        &["EV1", "-c", "S1"],
        &["EV1", "-c", "S1", "-p", "X"],
        &["EV1", "-p", "X", "-c", &s31],
        &["EV1", "-p", "X", "-c", "-AB"],
        &["EV1", "-p", "X", "-c", "A_B"],
        &["EV1", "-p", "A", "-p", "B"],
        &["EV1", "-h", "some-other-host.invalid"],
    ] {
        let mut a = vec!["jobschmsgevent"];
        a.extend_from_slice(args);
        assert_usage(&a, USAGE_0323);
    }
    let (code, _, err) = run(&["jobschmsgevent"]);
    assert_eq!(code, Some(21));
    assert!(err.starts_with("MpJobsch: ERROR: 0417: "), "{err}");
}

// ME-001 ME-018
#[test]
fn me_001_018_raise_on_the_embedded_scheduler_of_the_data_directory() {
    let (dir, _, _) = server::prepare(DEFS);
    let d = dir.path();
    let o = woi_in(d, &["jobschmsgevent", "--data", "data", "EV1"], None, &[]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), String::new()), "{}", text(&o.stderr));
    let h: serde_json::Value =
        serde_json::from_slice(&woi_in(d, &["history", "--json", "--data", "data"], None, &[]).stdout).expect("json");
    let mut started: Vec<String> = runs(&h).into_iter().map(|r| r.0).collect();
    started.sort();
    assert_eq!(started, ["P1/J1", "P2/J3"], "every jobnet waiting for EV1 ran to its end");

    let o = woi_in(d, &["jobschmsgevent", "--data", "data", "EV1:NOPRJ"], None, &[]);
    assert_eq!(
        (o.status.code(), first_line(&o.stderr)),
        (Some(21), "MpJobsch: ERROR: 0416: The project is not found.".into())
    );
    let o = woi_in(d, &["jobschmsgevent", "--data", "data", "EV1:P1/NOPE"], None, &[]);
    assert_eq!(
        (o.status.code(), first_line(&o.stderr)),
        (Some(21), "MpJobsch: ERROR: 0103: The job net is not found.".into())
    );
}

// ME-002 ME-003
#[test]
fn me_002_003_raise_through_the_server() {
    let s = server::start(DEFS);
    let o = s.woi(&["jobschmsgevent", "EV1:P2"]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), String::new()), "{}", text(&o.stderr));
    let h = s.wait_history("P2/J3 to run", |v| runs(v).iter().any(|r| r.0 == "P2/J3"));
    assert!(!runs(&h).iter().any(|r| r.0 == "P1/J1"), "{h}");

    let o = s.woi(&["jobschmsgevent", "EV1:P1/J1", "-p", "ABC"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let h = s.wait_history("P1/J1 to run", |v| runs(v).iter().any(|r| r.0 == "P1/J1"));
    assert_eq!(runs(&h).iter().filter(|r| r.0 == "P2/J3").count(), 1, "{h}");

    // ME-018 through the API: OM_API_00900's detail is the scheduler's message.
    let o = s.woi(&["jobschmsgevent", "EV1:NOPRJ"]);
    assert_eq!(
        (o.status.code(), first_line(&o.stderr)),
        (Some(21), "MpJobsch: ERROR: 0416: The project is not found.".into())
    );
    // Bad credentials: user information cannot be obtained (22); nothing secret printed.
    let o = s.woi_with(&["jobschmsgevent", "EV1"], &[("WOI_PASSWORD", "Wr0ng#pw")]);
    assert_eq!(o.status.code(), Some(22));
    assert!(!text(&o.stderr).contains("Wr0ng#pw"));
    // Woi's own options may also be given as flags before the event.
    let url = s.url.clone();
    let o = s.woi_with(&["jobschmsgevent", "--server", &url, "EV2:P1"], &[("WOI_SERVER", "http://127.0.0.1:9")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
