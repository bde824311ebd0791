//! QA black-box checks of the five built-in commands as `woi` subcommands
//! (spec 02 §3.2–§3.6, §4 behaviours CT/SL/NV/CM/ME) with values different
//! from `builtins.rs`: option-parsing edge cases, numeric bounds at and
//! beyond the limits, legacy byte counting (decision D7), day-change windows
//! other than 00:00, exact output lines, messages and exit codes.

mod support;

use std::process::Output;

use chrono::{Duration, Timelike, Utc};
use support::server::{self, DEFS, runs, text, woi_in};

fn woi(args: &[&str]) -> Output {
    woi_in(&std::env::temp_dir(), args, None, &[])
}

/// Exit code, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = woi(args);
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

fn run_owned(args: &[String]) -> (Option<i32>, String, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

const USAGE_0323: &str = "MpJobsch: ERROR: 0323: Usage: jobschmsgevent event_name[:project_name [/job_net_name] [message_text]] [-h host_name] [-t:INFO | -t:WARN | -t:ERROR] [-p param [-c suffix]] [-sys {0 to 9 | all}]\n";
const USAGE_0385: &str =
    "MpJobsch: ERROR: 0385: Usage: jobschchecktime -wt rendez-vous_time [-lt latest_rendez-vous_time] [-sys 0 to 9]\n";
const USAGE_0469: &str = "MpJobsch: ERROR: 0469: Usage: jobschsleep <wait time>\n";
const USAGE_0522: &str =
    "MpJobsch: ERROR: 0522: Usage: jobschchkmsgevt <message event name> [-i <monitoring interval>]\n";
const USAGE_0468: &str = "MpJobsch: ERROR: 0468: Usage: jobschchknetvar <variable name> [-num <operator specified for Condition>,<comparison value>[<operator specified for Condition 2>,<comparison value 2>] | -char <comparison condition>,<comparison string>] [-z]\n";
const MSG_0376: &str = "MpJobsch: ERROR: 0376: Latest rendez-vous time must be after the rendez-vous time.\n";
const MSG_0523: &str = "MpJobsch: ERROR: 0523: Failed to read the message event occurrence history file.\n";

/// `cmd args…` must exit 21 with exactly `usage` on stderr and nothing on stdout.
#[track_caller]
fn assert_usage(cmd: &str, args: &[&str], usage: &str) {
    let mut a = vec![cmd];
    a.extend_from_slice(args);
    assert_eq!(run(&a), (Some(21), String::new(), usage.to_string()), "{a:?}");
}

// ----- jobschsleep ------------------------------------------------------------

// SL-001 SL-002 (fresh values): leading zeros, canonical output.
#[test]
fn sl_001_002_sleep_prints_canonical_seconds() {
    assert_eq!(run(&["jobschsleep", "0000"]), (Some(0), "SL_SLEEPSEC=0\n".into(), String::new()));
    assert_eq!(run(&["jobschsleep", "2"]), (Some(0), "SL_SLEEPSEC=2\n".into(), String::new()));
    assert_eq!(run(&["jobschsleep", "0001"]), (Some(0), "SL_SLEEPSEC=1\n".into(), String::new()));
}

// SL-003 SL-004 (fresh values)
#[test]
fn sl_003_004_non_integers_and_out_of_range_exit_21_with_usage_0469() {
    for arg in ["86400x", "99999999999999999999", "", " 5", "0x10", "1e3", "5s", "-86400", "4294967296"] {
        assert_usage("jobschsleep", &[arg], USAGE_0469);
    }
    assert_usage("jobschsleep", &["1", "-z"], USAGE_0469);
    assert_usage("jobschsleep", &["0", "0"], USAGE_0469);
}

// ----- jobschchecktime -------------------------------------------------------

// CT-016 CT-017 (fresh values): strict HHMM, -sys 0..9 only, no unknown options.
#[test]
fn ct_016_017_bad_specifications_exit_21_with_usage_0385() {
    for args in [
        &["-wt", "2360"][..],
        &["-wt", "0000", "-lt", "2400"],
        &["-wt", "+100"],
        &["-wt", "-100"],
        &["-wt", "00000"],
        &["-wt", "０９００"],
        &["-wt", "09 00"],
        &["-wt", "0000", "-lt"],
        &["-wt"],
        &["-wt", "0000", "-lt", "2359", "-lt", "2359"],
        &["-wt", "0000", "-sys", "10"],
        &["-wt", "0000", "-sys", "a"],
        &["-wt", "0000", "-sys"],
        &["-wt", "0000", "-x"],
        &["-wt", "0000", "extra"],
        &["-WT", "0000"],
        &["0000"],
    ] {
        assert_usage("jobschchecktime", args, USAGE_0385);
    }
}

// CT-006 / usage 0385's `-sys 0 to 9` (accepted and ignored), any option order.
#[test]
fn ct_006_sys_is_accepted_and_options_may_come_in_any_order() {
    // Day change 00:00: 00:00 is the start of the operating day and 23:59 its
    // last minute, so every start lies in the window → 0 at once.
    for args in [&["-wt", "0000", "-sys", "0"][..], &["-wt", "0000", "-sys", "9"], &["-sys", "3", "-wt", "0000"]] {
        let mut a = vec!["jobschchecktime"];
        a.extend_from_slice(args);
        assert_eq!(run(&a), (Some(0), "CT_WTIME=0000\n".into(), String::new()), "{a:?}");
    }
    assert_eq!(
        run(&["jobschchecktime", "-lt", "2359", "-sys", "5", "-wt", "0000"]),
        (Some(0), "CT_WTIME=0000\nCT_LTIME=2359\n".into(), String::new())
    );
}

/// `HHMM` / `HH:MM` of now + `mins` minutes (UTC).
fn at(mins: i64) -> (String, String) {
    let t = Utc::now() + Duration::minutes(mins);
    (format!("{:02}{:02}", t.hour(), t.minute()), format!("{:02}:{:02}", t.hour(), t.minute()))
}

/// Wait until the current UTC minute has at least 5 s left, so that every
/// time computed from "now" stays valid while the command runs.
fn settle() {
    let s = Utc::now().second();
    if s >= 55 {
        std::thread::sleep(std::time::Duration::from_secs(u64::from(61 - s)));
    }
}

/// `jobschchecktime --tz UTC --day-change DC -wt WT [-lt LT]`.
fn ct(dc: &str, wt: &str, lt: Option<&str>) -> (Option<i32>, String, String) {
    let mut a = vec!["jobschchecktime", "--tz", "UTC", "--day-change", dc, "-wt", wt];
    if let Some(lt) = lt {
        a.extend_from_slice(&["-lt", lt]);
    }
    run(&a)
}

// CT-002 CT-005 CT-007 CT-011 CT-012 CT-021 with a day-change time 3 h from
// now (never 00:00): the current instant is 21 h into its operating day.
#[test]
fn ct_002_005_011_012_windows_measured_from_a_day_change_three_hours_ahead() {
    settle();
    let dc = at(180).1;
    let (m120, _) = at(-120);
    let (m60, _) = at(-60);
    let (m1, _) = at(-1);
    let (now, _) = at(0);
    let (p60, _) = at(60);
    let (p120, _) = at(120);
    let (p240, _) = at(240);
    let lines = |w: &str, l: &str| format!("CT_WTIME={w}\nCT_LTIME={l}\n");
    // 20 h … 22 h of the operating day, now is 21 h → 0 at once.
    assert_eq!(ct(&dc, &m60, Some(&p60)), (Some(0), lines(&m60, &p60), String::new()));
    // 19 h … 20 h → over → 1, both lines.
    assert_eq!(ct(&dc, &m120, Some(&m60)), (Some(1), lines(&m120, &m60), String::new()));
    // -wt 1 h of the day (a clock time after -lt's!) … -lt 23 h: in order, now inside → 0.
    assert_eq!(ct(&dc, &p240, Some(&p120)), (Some(0), lines(&p240, &p120), String::new()));
    // -wt 23 h … -lt 1 h of the day: -lt before -wt in operating-day order → 0376.
    assert_eq!(ct(&dc, &p120, Some(&p240)), (Some(21), String::new(), MSG_0376.into()));
    // The -lt minute is inclusive; the minute before it is not.
    assert_eq!(ct(&dc, &m60, Some(&now)), (Some(0), lines(&m60, &now), String::new()));
    assert_eq!(ct(&dc, &m60, Some(&m1)), (Some(1), lines(&m60, &m1), String::new()));
    // No -lt and a past wait time → 0 with only CT_WTIME.
    assert_eq!(ct(&dc, &m120, None), (Some(0), format!("CT_WTIME={m120}\n"), String::new()));
}

// CT-012 CT-021 (fresh values): the order check of -wt/-lt follows the
// operating day, whatever the current time; a window from the day-change
// minute to the minute before it covers the whole day (always 0 at once).
#[test]
fn ct_012_021_order_check_around_day_change_2230_and_0400() {
    for (dc, wt, lt) in [("22:30", "2229", "2230"), ("04:00", "0359", "0400"), ("00:00", "2359", "0000")] {
        assert_eq!(
            run(&["jobschchecktime", "--day-change", dc, "-wt", wt, "-lt", lt]),
            (Some(21), String::new(), MSG_0376.into()),
            "{dc} {wt} {lt}"
        );
    }
    for (dc, wt, lt) in [("22:30", "2230", "2229"), ("04:00", "0400", "0359")] {
        assert_eq!(
            run(&["jobschchecktime", "--day-change", dc, "-wt", wt, "-lt", lt]),
            (Some(0), format!("CT_WTIME={wt}\nCT_LTIME={lt}\n"), String::new()),
            "{dc} {wt} {lt}"
        );
    }
    // The wait time equal to the day-change time is the start of the day: past.
    assert_eq!(
        run(&["jobschchecktime", "--day-change", "22:30", "-wt", "2230"]),
        (Some(0), "CT_WTIME=2230\n".into(), String::new())
    );
    // -wt = -lt = the day-change minute, 21 h later → over → 1.
    settle();
    let dc = at(180);
    assert_eq!(ct(&dc.1, &dc.0, Some(&dc.0)), (Some(1), format!("CT_WTIME={0}\nCT_LTIME={0}\n", dc.0), String::new()));
}

// CT-009 CT-010: a wait time just before the day-change time is the END of
// the operating day (next calendar day), so the command waits (it is
// stopped after a moment, no timing asserted beyond "still waiting").
#[test]
fn ct_009_010_wait_time_before_the_day_change_time_is_ahead_not_past() {
    settle();
    let dc = at(-30).1;
    let (m60, _) = at(-60);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_woi"))
        .args(["jobschchecktime", "--tz", "UTC", "--day-change", &dc, "-wt", &m60])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn woi");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let still = child.try_wait().expect("try_wait").is_none();
    child.kill().expect("kill");
    let out = child.wait_with_output().expect("wait");
    assert!(still, "-wt {m60} with day change {dc} must wait ~23 h: {}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "", "nothing printed while waiting");
}

// ----- jobschchknetvar -------------------------------------------------------

fn nv(vars: &[&str], args: &[&str]) -> (Option<i32>, String) {
    let mut a = vec!["jobschchknetvar".to_string()];
    a.extend(vars.iter().map(|v| format!("--var={v}")));
    a.extend(args.iter().map(|s| s.to_string()));
    let (code, out, _) = run_owned(&a);
    (code, out)
}

// NV-005 NV-007 NV-008 NV-013 (fresh values): negative numbers, signs, leading zeros, i32 bounds.
#[test]
fn nv_005_008_013_numeric_edges() {
    assert_eq!(nv(&["A.V=-5"], &["A.V", "-num", "LT,-4"]), (Some(0), "A.V=-5\n".into()));
    assert_eq!(nv(&["A.V=-5"], &["A.V", "-num", "GE,-10,LT,-5"]).0, Some(1));
    assert_eq!(nv(&["A.V=-5"], &["A.V", "-num", "GE,-10,LE,-5"]).0, Some(0));
    assert_eq!(nv(&["A.V=-10"], &["A.V", "-num", "GT,-10,LE,-5"]).0, Some(1));
    assert_eq!(nv(&["A.V=+7"], &["A.V", "-num", "EQ,7"]), (Some(0), "A.V=+7\n".into()));
    assert_eq!(nv(&["A.V=007"], &["A.V", "-num", "EQ,+7"]), (Some(0), "A.V=007\n".into()));
    assert_eq!(nv(&["A.V=-0"], &["A.V", "-num", "EQ,0"]).0, Some(0));
    assert_eq!(nv(&["A.V=-2147483648"], &["A.V", "-num", "LE,-2147483648"]).0, Some(0));
    assert_eq!(nv(&["A.V=2147483647"], &["A.V", "-num", "GE,2147483647"]).0, Some(0));
    assert_eq!(nv(&["A.V=5"], &["A.V", "-num", "GT,-2147483648,LT,2147483647"]).0, Some(0));
    assert_eq!(nv(&["A.V=2147483647"], &["A.V", "-num", "GT,-2147483648,LT,2147483647"]).0, Some(1));
    // The value itself may exceed i32 (read as i64).
    assert_eq!(nv(&["A.V=9223372036854775807"], &["A.V", "-num", "GT,2147483647"]).0, Some(0));
    assert_eq!(nv(&["A.V=-3000000000"], &["A.V", "-num", "LT,-2147483648"]).0, Some(0));
}

// NV-014 / Q-NV-1 (fresh values): non-numeric values never match; -z inverts.
#[test]
fn nv_014_non_numeric_values_are_not_matched() {
    for v in ["9223372036854775808", " 5", "5 ", "3.0", "", "1e3", "0x10", "--5", "五"] {
        let var = format!("A.V={v}");
        let want_out = format!("A.V={v}\n");
        assert_eq!(nv(&[&var], &["A.V", "-num", "NE,12345"]), (Some(1), want_out.clone()), "{v:?}");
        assert_eq!(nv(&[&var], &["A.V", "-num", "NE,12345", "-z"]), (Some(0), want_out), "{v:?} -z");
    }
}

// NV-006 NV-019 precedence (fresh values): a missing variable never matches, nothing printed.
#[test]
fn nv_006_019_missing_variable_never_matches_whatever_the_condition() {
    for cond in [
        &["-num", "NE,0"][..],
        &["-num", "GT,-2147483648,LT,2147483647"],
        &["-char", "NE,x"],
        &["-char", "NI,"],
        &["-char", "NI,zz"],
    ] {
        let mut a = vec!["Q.MISSING"];
        a.extend_from_slice(cond);
        assert_eq!(nv(&["Q.OTHER=1"], &a), (Some(1), String::new()), "{cond:?}");
        a.push("-z");
        assert_eq!(nv(&["Q.OTHER=1"], &a), (Some(0), String::new()), "{cond:?} -z");
    }
}

// NV-015 NV-016 NV-017 NV-018 NV-020 NV-021 NV-026 (fresh values)
#[test]
fn nv_016_026_string_compare_edges() {
    assert_eq!(nv(&["S.V=abc"], &["S.V", "-char", "NI,abcd"]).0, Some(0));
    assert_eq!(nv(&["S.V=abc"], &["S.V", "-char", "IN,abc"]).0, Some(0));
    assert_eq!(nv(&["S.V=abc"], &["S.V", "-char", "IN,abcd"]).0, Some(1));
    assert_eq!(nv(&["S.V=abc"], &["S.V", "-char", "NE,abc", "-z"]).0, Some(0));
    assert_eq!(nv(&["S.V=a b"], &["S.V", "-char", "EQ,a b"]), (Some(0), "S.V=a b\n".into()));
    assert_eq!(nv(&["S.V=x=y"], &["S.V", "-char", "EQ,x=y"]), (Some(0), "S.V=x=y\n".into()));
    assert_eq!(nv(&["S.V= a"], &["S.V", "-char", "EQ,a"]).0, Some(1), "no trimming");
    assert_eq!(nv(&["S.V=Ab"], &["S.V", "-char", "IN,ab"]).0, Some(1), "case-sensitive");
    assert_eq!(nv(&["S.V=x,,y"], &["S.V", "-char", "EQ,x,,y"]).0, Some(0), "split at the first comma only");
    assert_eq!(nv(&["S.V=,"], &["S.V", "-char", "EQ,,"]).0, Some(0));
    assert_eq!(nv(&["S.V="], &["S.V", "-char", "NE,"]).0, Some(1));
    assert_eq!(nv(&["S.V="], &["S.V", "-char", "IN,"]).0, Some(1));
    assert_eq!(nv(&["S.V="], &["S.V", "-char", "NI,"]), (Some(0), "S.V=\n".into()));
    assert_eq!(nv(&["S.V=漢字テスト"], &["S.V", "-char", "IN,字テ"]).0, Some(0));
}

// NV-023 NV-025 and D7 (legacy byte counting): 64-byte names, 512-byte strings.
#[test]
fn nv_023_025_limits_at_and_beyond_in_legacy_bytes() {
    let n64 = format!("P.{}", "N".repeat(62));
    let n65 = format!("P.{}", "N".repeat(63));
    let v64 = format!("{n64}=1");
    assert_eq!(nv(&[&v64], &[&n64]), (Some(0), format!("{n64}=1\n")));
    let (code, _, err) = run(&["jobschchknetvar", &n65]);
    assert_eq!((code, err.as_str()), (Some(21), USAGE_0468));

    let s512 = "x".repeat(512);
    let eq512 = format!("EQ,{s512}");
    let var512 = format!("S.V={s512}");
    assert_eq!(nv(&[&var512], &["S.V", "-char", &eq512]).0, Some(0));
    let eq513 = format!("EQ,{}", "x".repeat(513));
    assert_eq!(run(&["jobschchknetvar", "S.V", "-char", &eq513]), (Some(21), String::new(), USAGE_0468.into()));
    // 256 full-width characters = 512 legacy bytes: accepted; 257 = 514: refused.
    let f256 = "あ".repeat(256);
    let eqf256 = format!("EQ,{f256}");
    let varf256 = format!("S.V={f256}");
    assert_eq!(nv(&[&varf256], &["S.V", "-char", &eqf256]).0, Some(0));
    let eqf257 = format!("EQ,{}", "あ".repeat(257));
    assert_eq!(run(&["jobschchknetvar", "S.V", "-char", &eqf257]), (Some(21), String::new(), USAGE_0468.into()));
    // 511 ASCII + 1 full-width = 513 legacy bytes: refused.
    let mixed = format!("EQ,{}あ", "x".repeat(511));
    assert_eq!(run(&["jobschchknetvar", "S.V", "-char", &mixed]).0, Some(21));
}

// NV-010 NV-012 NV-013 NV-022 NV-027 NV-029 (fresh values): parameter errors → 21 + 0468.
#[test]
fn nv_010_029_parameter_errors_exit_21_with_usage_0468() {
    let cases: &[&[&str]] = &[
        &["A.V", "-num", "EQ,-2147483649"],
        &["A.V", "-num", "EQ,2147483648"],
        &["A.V", "-num", "EQ,5,"],
        &["A.V", "-num", "EQ,"],
        &["A.V", "-num", ",5"],
        &["A.V", "-num", "EQ, 5"],
        &["A.V", "-num", "EQ,0x5"],
        &["A.V", "-num", "EQ,1.5"],
        &["A.V", "-num", "GE,5,LT,6,X"],
        &["A.V", "-num", "GE,-1,LT,-1"],
        &["A.V", "-num", "GT,0,LE,-1"],
        &["A.V", "-num", "LE,1,GE,9"],
        &["A.V", "-num", "GE,1,GT,9"],
        &["A.V", "-num", "NE,1,LT,9"],
        &["A.V", "-num", "Eq,1"],
        &["A.V", "-num"],
        &["A.V", "-num", "EQ,1", "-num", "EQ,2"],
        &["A.V", "-char"],
        &["A.V", "-char", "EQ"],
        &["A.V", "-char", "ne,x"],
        &["A.V", "-char", "XX,x"],
        &["A.V", "-char", "EQ,a", "-char", "EQ,b"],
        &["A.V", "-char", "EQ,a", "-num", "EQ,1"],
        &["A.V", "-char", "EQ,ｱ"],
        &["A.V", "-char", "EQ,\u{E000}"],
        &["A.V", "-z", "-z"],
        &["A.V", "-x"],
        &["A.V", "B.W"],
        &["AV"],
        &["A."],
        &[".V"],
        &[".VPARAM"],
    ];
    for args in cases {
        let mut a = vec!["jobschchknetvar"];
        a.extend_from_slice(args);
        assert_eq!(run(&a), (Some(21), String::new(), USAGE_0468.into()), "{args:?}");
    }
}

// ----- jobschchkmsgevt -------------------------------------------------------

// CM-006 CM-007 (fresh values)
#[test]
fn cm_006_007_bad_interval_or_name_exit_21_with_usage_0522() {
    let cases: &[&[&str]] = &[
        &["ABC", "-i", "00"],
        &["ABC", "-i", "-1"],
        &["ABC", "-i", "1.5"],
        &["ABC", "-i", "+5"],
        &["ABC", "-i", "99999999999"],
        &["ABC", "-i"],
        &["ABC", "-i", "5", "-i", "6"],
        &["ABC", "-x"],
        &["ABC", "DEF"],
        &["あいうえおかき"],
        &["ｱ"],
        &["AB\tC"],
        &[",ABC"],
        &["-i", "5"],
    ];
    for args in cases {
        assert_usage("jobschchkmsgevt", args, USAGE_0522);
    }
}

// CM-006 CM-007 CM-010: 12-byte names (ASCII and full width) and a zero-padded
// interval are valid; with no history to read the command ends 31 with 0523.
#[test]
fn cm_006_007_010_boundary_names_and_intervals_are_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = dir.path().join("none");
    let none = none.to_str().expect("utf-8 path");
    for args in [&["ABCDEFGHIJKL"][..], &["あいうえおか"], &["X1", "-i", "0060"], &["X1", "-i", "3600"]] {
        let mut a = vec!["jobschchkmsgevt", "--data", none];
        a.extend_from_slice(args);
        let (code, out, err) = run(&a);
        assert_eq!((code, out.as_str()), (Some(31), ""), "{args:?}: {err}");
        assert!(err.ends_with(MSG_0523), "{args:?}: {err}");
    }
}

// ----- jobschmsgevent --------------------------------------------------------

// ME-004 ME-005 ME-006 ME-007 ME-008 (fresh values)
#[test]
fn me_004_008_bad_arguments_exit_21_with_usage_0323() {
    let c31 = format!("B2-{}", "y".repeat(28));
    let p_kana = "ｱ".to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["あいうえおかき"],
        vec!["EV 1"],
        vec!["EV,1"],
        vec!["EV.1"],
        vec!["EV1:"],
        vec!["EV1:P/"],
        vec!["EV1", "-p"],
        vec!["EV1", "-c"],
        vec!["EV1", "-p", "X", "-c", ""],
        vec!["EV1", "-p", "X", "-c", &c31],
        vec!["EV1", "-p", "X", "-c", "B2.x"],
        vec!["EV1", "-p", &p_kana],
        vec!["EV1", "-p", "\u{E000}"],
        vec!["EV1", "-x"],
        vec!["EV1", "-t:DEBUG"],
        vec!["EV1", "-sys", "10"],
        vec!["EV1", "-p", "X", "-c", "S1", "-c", "S2"],
    ];
    for args in &cases {
        assert_usage("jobschmsgevent", args, USAGE_0323);
    }
}

// ME-009 ME-005 ME-007 (fresh values): a 200-byte parameter and a 30-byte
// suffix `B2-…` are accepted and copy-start J2 to J2_<suffix>; the ignored
// compatibility options -t:, -sys all, -h localhost are accepted.
#[test]
fn me_005_007_009_limits_accepted_and_copy_started() {
    let (dir, _, _) = server::prepare(DEFS);
    let d = dir.path();
    let p200 = "x".repeat(200);
    let s30 = format!("B2-{}", "y".repeat(27));
    let o = woi_in(
        d,
        &[
            "jobschmsgevent",
            "--data",
            "data",
            "EV2:P1/J2",
            "-p",
            &p200,
            "-c",
            &s30,
            "-t:WARN",
            "-sys",
            "all",
            "-h",
            "localhost",
        ],
        None,
        &[],
    );
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), String::new()), "{}", text(&o.stderr));
    let h: serde_json::Value =
        serde_json::from_slice(&woi_in(d, &["history", "--json", "--data", "data"], None, &[]).stdout).expect("json");
    let started: Vec<String> = runs(&h).into_iter().map(|r| r.0).collect();
    assert_eq!(started, [format!("P1/J2_{s30}")], "{h}");

    // A 51-character project name: 0182, exit 21.
    let long = format!("EV2:{}", "P".repeat(51));
    let o = woi_in(d, &["jobschmsgevent", "--data", "data", &long], None, &[]);
    assert_eq!(o.status.code(), Some(21));
    assert!(text(&o.stderr).contains(": 0182: "), "{}", text(&o.stderr));
}

#[test]
fn me_017_empty_event_name_is_0417() {
    let (code, out, err) = run(&["jobschmsgevent", ":P1"]);
    assert_eq!((code, out.as_str()), (Some(21), ""));
    assert!(err.starts_with("MpJobsch: ERROR: 0417: The message event name is not found.\n"), "{err}");
}

const DEFS_0432: &str = r#"
[[jobnet]]
project = "PA"
name = "TB"
comment = "Timed"
start = { time = "23:59" }
messages = { events = ["EVT"], with_time = "and_time" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "PA"
name = "TWO"
comment = "Two"
start = { message_only = {} }
messages = { events = ["EVT", "EVU"], mode = "and" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "PA"
name = "ORN"
comment = "Or"
start = { message_only = {} }
messages = { events = ["EVT", "EVU"], mode = "or" }
[[jobnet.job]]
number = 1
command = "true"
"#;

// ME-011 / MODEL-107 / MODEL-108 (fresh values): a parameter sent to a
// time-started (and_time) jobnet and to an AND-of-two-events jobnet is
// ignored with WARNING 0432 each, exit 0; the OR jobnet takes it and runs.
#[test]
fn me_011_vparam_ignored_0432_on_stderr_and_exit_0() {
    let (dir, _, _) = server::prepare(DEFS_0432);
    let d = dir.path();
    let o = woi_in(d, &["jobschmsgevent", "--data", "data", "EVT:PA", "-p", "20261124"], None, &[]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), String::new()), "{}", text(&o.stderr));
    let mut err: Vec<String> = text(&o.stderr).lines().map(str::to_string).collect();
    err.sort();
    assert_eq!(
        err,
        [
            "MpJobsch: WARNING: 0432: PA TB A variable parameter has been ignored.",
            "MpJobsch: WARNING: 0432: PA TWO A variable parameter has been ignored.",
        ]
    );
    let h: serde_json::Value =
        serde_json::from_slice(&woi_in(d, &["history", "--json", "--data", "data"], None, &[]).stdout).expect("json");
    let started: Vec<String> = runs(&h).into_iter().map(|r| r.0).collect();
    assert_eq!(started, ["PA/ORN"], "{h}");
}
