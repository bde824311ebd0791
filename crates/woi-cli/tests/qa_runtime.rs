//! QA black-box checks of the durable runtime through the real `woi` binary:
//! `woi run` exit codes and `--json` shapes (branches, child jobnets),
//! `woi serve` on a virtual clock (`--now/--speed`, a day change other than
//! 00:00), missed-start policies, `kill -9` recovery of `woi serve` and of
//! `woi op start`, live `woi apply` while a child jobnet executes, a locked
//! database, bad definition files and unknown names.
//!
//! No timing assertions: every wait polls with a generous deadline.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::cli::*;

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, body).expect("write file");
    }
    dir
}

// ---------------------------------------------------------------- woi run

const BRANCH: &str = r#"
[[jobnet]]
project = "QA"
name = "BRANCH"
comment = "QaBranch"
[[jobnet.job]]
number = 1
command = "sh -c 'echo first; exit 6'"
normal_limit = 9
[[jobnet.job]]
number = 2
command = "echo low"
after = [1]
exit_code_condition = { min = 0, max = 3 }
[[jobnet.job]]
number = 3
command = "echo high"
after = [1]
exit_code_condition = { min = 4, max = 9 }
[[jobnet.job]]
number = 4
kind = "child_jobnet"
jobnet = "KID"
after = [3]

[[jobnet]]
project = "QA"
name = "KID"
[[jobnet.job]]
number = 1
command = "sh -c 'echo kid; exit 0'"

[[jobnet]]
project = "QA"
name = "BADKID"
[[jobnet.job]]
number = 1
kind = "child_jobnet"
jobnet = "FAILS"
[[jobnet.job]]
number = 2
command = "true"
after = [1]

[[jobnet]]
project = "QA"
name = "FAILS"
[[jobnet.job]]
number = 1
command = "sh -c 'exit 12'"
normal_limit = 11
"#;

#[test]
fn qa_run_branch_and_child_end_pseudo_normal_with_exit_0_and_json_shape() {
    let dir = dir_with(&[("defs.toml", BRANCH)]);
    let out = woi(&["run", "QA/BRANCH", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "pseudo-normal exits 0: {}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["jobnet"]["key"], "QA/BRANCH");
    assert_eq!(v["jobnet"]["status"], "pseudo_normal");
    assert_eq!(v["jobnet"]["exit_code"], 6, "pseudo-normal jobnet code = max pseudo-normal job code");
    assert_eq!(v["jobnet"]["run"], 1);
    let jobs = v["jobs"].as_array().expect("jobs");
    let st: Vec<&str> = jobs.iter().map(|j| j["status"].as_str().unwrap_or("")).collect();
    assert_eq!(st, ["pseudo_normal", "bypassed", "completed", "completed"]);
    assert_eq!(jobs[0]["exit"]["code"], 6);
    assert_eq!(jobs[0]["exit"]["origin"], "command");
    assert_eq!(jobs[3]["kind"], "child_jobnet");
    // The child ran as its own jobnet, with its own history.
    let kid = runs_of(dir.path(), "QA/KID");
    assert_eq!(kid.len(), 1, "{kid:?}");
    assert_eq!(kid[0]["status"], "completed");
    // History JSON times are UTC (RFC 3339 with Z).
    assert!(kid[0]["started_at"].as_str().is_some_and(|s| s.ends_with('Z')), "{kid:?}");
    // The table form exits 0 too and shows the bypassed job.
    let out = woi(&["run", "QA/BRANCH"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.contains("jobnet QA/BRANCH pseudo_normal code=6 (run 2)") && t.contains("bypassed"), "{t}");
}

#[test]
fn qa_run_abended_child_exits_3_and_stops_the_flow() {
    let dir = dir_with(&[("defs.toml", BRANCH)]);
    let out = woi(&["run", "QA/BADKID", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["jobnet"]["status"], "abended");
    let jobs = v["jobs"].as_array().expect("jobs");
    assert_eq!(jobs[0]["status"], "abended", "the icon mirrors the abended child");
    assert_eq!(jobs[1]["status"], "waiting", "its successor never starts");
    let fails = runs_of(dir.path(), "QA/FAILS");
    assert_eq!(fails[0]["status"], "abended");
    assert_eq!(fails[0]["exit_code"], 12);
}

#[test]
fn qa_run_unknown_or_malformed_jobnet_names() {
    let dir = dir_with(&[("defs.toml", BRANCH)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let out = woi(&["run", "QA/NOSUCH"], dir.path());
    assert_eq!(out.status.code(), Some(1), "a refused start is exit 1");
    assert!(text(&out.stderr).contains("QA/NOSUCH"), "{}", text(&out.stderr));
    let out = woi(&["run", "NOSLASH"], dir.path());
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = woi(&["op", "start", "QA/NOSUCH"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("QA/NOSUCH"));
    let out = woi(&["op", "no_such_action", "QA/KID"], dir.path());
    assert_eq!(out.status.code(), Some(2), "an unknown action is a usage error");
    // Nothing ran.
    assert!(json(&woi(&["history", "--json"], dir.path()))["runs"].as_array().is_some_and(Vec::is_empty));
}

// ------------------------------------------------ definitions, data directory

#[test]
fn qa_bad_definition_files_name_file_object_and_field_and_apply_nothing() {
    let dir = dir_with(&[
        (
            "defs/a.toml",
            "[[jobnet]]\nproject = \"QB\"\nname = \"ONE\"\n[[jobnet.job]]\nnumber = 1\ncommand = \"true\"\nnormal_limit = 231\n",
        ),
        (
            "defs/b.json",
            r#"{"jobnet": [{"project": "QB", "name": "TWO", "job": [{"number": 1, "command": "true", "after": [7]}]}]}"#,
        ),
    ]);
    let out = woi(&["validate", "defs", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["valid"], false);
    let errs = v["errors"].as_array().expect("errors");
    let has = |file: &str, object: &str, field: &str| {
        errs.iter().any(|e| {
            e["file"].as_str().is_some_and(|f| f.ends_with(file)) && e["object"] == object && e["field"] == field
        })
    };
    assert!(has("a.toml", "project QB / jobnet ONE / job 1", "normal_limit"), "{v}");
    assert!(has("b.json", "project QB / jobnet TWO / job 1", "after"), "{v}");

    let out = woi(&["apply", "defs"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("a.toml") && err.contains("b.json") && err.contains("nothing was applied"), "{err}");
    // `run --defs` with bad files refuses with 1 as well, and nothing is stored.
    let out = woi(&["run", "QB/ONE", "--defs", "defs"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let out = woi(&["status"], dir.path());
    assert_eq!(out.status.code(), Some(2), "no definitions applied: {}", text(&out.stdout));
    // An unreadable file is exit 2.
    assert_eq!(woi(&["validate", "missing.toml"], dir.path()).status.code(), Some(2));
    assert_eq!(woi(&["apply", "missing.toml"], dir.path()).status.code(), Some(2));
}

#[test]
fn qa_a_locked_database_is_a_clear_error_with_exit_2() {
    // Needs the sqlite3 shell to hold an exclusive lock; skip without it.
    if Command::new("sqlite3").arg("-version").output().is_err() {
        eprintln!("sqlite3 not installed: skipped");
        return;
    }
    let dir = dir_with(&[("defs.toml", BRANCH)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut holder = Command::new("sqlite3")
        .arg(dir.path().join("woi-data/woi.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sqlite3");
    {
        let stdin = holder.stdin.as_mut().expect("stdin");
        stdin.write_all(b"BEGIN EXCLUSIVE;\nSELECT 'locked';\n").expect("write");
        stdin.flush().expect("flush");
    }
    // Wait until the lock is held.
    let mut stdout = holder.stdout.take().expect("stdout");
    let mut buf = [0u8; 7];
    std::io::Read::read_exact(&mut stdout, &mut buf).expect("sqlite3 answered");
    for args in [&["status"][..], &["run", "QA/KID"][..], &["history", "--json"][..]] {
        let out = woi(args, dir.path());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("woi.db") && !err.contains("panicked"), "{args:?}: {err}");
    }
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
    // Once released, the same commands work and nothing ran meanwhile.
    assert!(woi(&["status"], dir.path()).status.success());
    assert!(runs_of(dir.path(), "QA/KID").is_empty());
}

// ------------------------------------------------------ serve, virtual clock

const TIMED: &str = r#"
[environment]
timezone = "UTC"

[[calendar]]
name = "LATE"
day_change = "06:30"

[[jobnet]]
project = "QV"
name = "NINE"
start = { time = "09:00" }
[[jobnet.job]]
number = 1
command = "echo nine"

[[jobnet]]
project = "QV"
name = "EARLY"
start = { time = "05:00" }
startup_days = { calendars = ["LATE"] }
[[jobnet.job]]
number = 1
command = "echo early"
"#;

#[test]
fn qa_serve_virtual_clock_fires_a_start_at_its_virtual_instant() {
    let dir = dir_with(&[("defs.toml", TIMED)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut serve =
        Proc::spawn(&["serve", "--now", "2031-03-04T08:59:20Z", "--speed", "10", "--json"], dir.path(), "s");
    serve.wait_for("QV/NINE to complete", |o, _| {
        o.lines().any(|l| l.contains("\"jobnet_status\"") && l.contains("QV/NINE") && l.contains("\"completed\""))
    });
    assert_eq!(serve.term(), Some(0), "a SIGTERM stop exits 0");
    let out = serve.out();
    let trig: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "start_triggered" && v["jobnet"] == "QV/NINE")
        .collect();
    assert_eq!(trig.len(), 1, "{out}");
    assert_eq!(trig[0]["planned"], "2031-03-04T09:00:00Z");
    assert_eq!(trig[0]["operating_day"], "2031-03-04");
    assert!(trig[0]["at"].as_str().is_some_and(|a| a.starts_with("2031-03-04T09:00:")), "{out}");
    // EARLY (05:00) did not fire; the history holds exactly the one run at virtual time.
    let runs = runs_of(dir.path(), "QV/NINE");
    assert_eq!(runs.len(), 1);
    assert!(runs[0]["started_at"].as_str().is_some_and(|s| s.starts_with("2031-03-04T09:00:")), "{runs:?}");
    assert!(runs_of(dir.path(), "QV/EARLY").is_empty());
}

#[test]
fn qa_serve_day_change_0630_start_before_it_belongs_to_the_previous_operating_day() {
    let dir = dir_with(&[("defs.toml", TIMED)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    // 05:00 with day change 06:30 is the 05:00 of operating day 2031-03-03.
    let mut serve =
        Proc::spawn(&["serve", "--now", "2031-03-04T04:59:20Z", "--speed", "10", "--json"], dir.path(), "s");
    serve.wait_for("QV/EARLY to start", |o, _| o.contains("\"start_triggered\""));
    serve.term();
    let line = serve
        .out()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "start_triggered")
        .expect("start line");
    assert_eq!(line["jobnet"], "QV/EARLY");
    assert_eq!(line["planned"], "2031-03-04T05:00:00Z");
    assert_eq!(line["operating_day"], "2031-03-03");
}

#[test]
fn qa_serve_day_change_at_0630_resets_a_completed_jobnet_to_waiting() {
    let dir = dir_with(&[("defs.toml", TIMED)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut serve = Proc::spawn(&["serve", "--now", "2031-03-04T04:59:00Z", "--speed", "20"], dir.path(), "s");
    serve.wait_for("QV/EARLY completed", |o, _| o.contains("jobnet QV/EARLY completed"));
    serve.term();
    // Second start just before the day change of LATE.
    let mut serve = Proc::spawn(&["serve", "--now", "2031-03-04T06:29:30Z", "--speed", "10"], dir.path(), "s2");
    serve.wait_for("day change of QV/EARLY", |o, _| o.contains("2031-03-04T06:30:00Z jobnet QV/EARLY waiting"));
    serve.term();
    assert!(!serve.out().contains("QV/NINE waiting"), "NINE's day change is 00:00: {}", serve.out());
    assert_eq!(runs_of(dir.path(), "QV/EARLY").len(), 1, "the day change starts nothing");
}

const MISSED: &str = r#"
[environment]
timezone = "UTC"

[[jobnet]]
project = "QM"
name = "TICK"
start = { time = "07:59" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "QM"
name = "ONCE"
start = { times = ["08:00", "08:02"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "QM"
name = "SKIPPER"
missed_start = "skip"
start = { time = "08:01" }
[[jobnet.job]]
number = 1
command = "true"
"#;

#[test]
fn qa_missed_starts_run_once_or_skip_and_never_twice() {
    let dir = dir_with(&[("defs.toml", MISSED)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut serve = Proc::spawn(&["serve", "--now", "2031-06-02T07:58:50Z"], dir.path(), "s1");
    serve.wait_for("TICK", |o, _| o.contains("jobnet QM/TICK completed"));
    serve.term();
    // Down from ~07:59 to 08:05: ONCE misses two starts, SKIPPER one.
    let mut serve = Proc::spawn(&["serve", "--now", "2031-06-02T08:05:00Z"], dir.path(), "s2");
    serve.wait_for("ONCE ran", |o, e| o.contains("jobnet QM/ONCE completed") && e.contains("scheduler running"));
    serve.term();
    // What recovery did is in the printed stream too (R4): the run's start, not only its end.
    assert!(serve.out().contains("jobnet QM/ONCE executing"), "{}", serve.out());
    let err = serve.err();
    assert!(err.contains("QM/ONCE") && err.contains("run_once"), "{err}");
    assert!(err.contains("QM/SKIPPER") && err.contains("skipped"), "{err}");
    assert_eq!(runs_of(dir.path(), "QM/ONCE").len(), 1, "two missed starts run once");
    assert!(runs_of(dir.path(), "QM/SKIPPER").is_empty(), "skip policy");
    // A further restart later the same day repeats nothing.
    let mut serve = Proc::spawn(&["serve", "--now", "2031-06-02T08:07:00Z"], dir.path(), "s3");
    serve.wait_for("running", |_, e| e.contains("scheduler running"));
    serve.term();
    assert!(!serve.err().contains("missed"), "{}", serve.err());
    assert_eq!(runs_of(dir.path(), "QM/ONCE").len(), 1);
    assert!(runs_of(dir.path(), "QM/SKIPPER").is_empty());
    assert_eq!(runs_of(dir.path(), "QM/TICK").len(), 1);
}

const ADHOC: &str = r#"
[environment]
timezone = "UTC"

[[jobnet]]
project = "QA"
name = "BOOT"
start = "environment_start"
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "QA"
name = "NINE"
start = { time = "09:00" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "QA"
name = "ADHOC"
[[jobnet.job]]
number = 1
command = "true"
"#;

// Only `woi serve` fires the schedules: an ad-hoc `woi run` (or `woi op`)
// on the embedded scheduler starts no environment-start jobnet and uses up
// no missed start (it would stop before they end, leaving them to end with
// 239). The next `woi serve` then finds the 09:00 start missed and applies
// the run_once policy, and runs the day's environment start.
#[test]
fn qa_an_ad_hoc_run_fires_no_schedule_and_leaves_missed_starts_to_serve() {
    let dir = dir_with(&[("defs.toml", ADHOC)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut serve = Proc::spawn(&["serve", "--now", "2032-03-03T07:00:00Z"], dir.path(), "s1");
    serve.wait_for("BOOT", |o, _| o.contains("jobnet QA/BOOT completed"));
    serve.term();
    // The next day, 08:00 and 10:00 (NINE's 09:00 has passed): ad-hoc runs only.
    for now in ["2032-03-04T08:00:00Z", "2032-03-04T10:00:00Z"] {
        let out = woi(&["run", "QA/ADHOC", "--now", now], dir.path());
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("missed"), "{}", text(&out.stderr));
    }
    assert_eq!(runs_of(dir.path(), "QA/BOOT").len(), 1, "no environment start from woi run");
    assert!(runs_of(dir.path(), "QA/NINE").is_empty(), "no scheduled start from woi run");
    assert_eq!(runs_of(dir.path(), "QA/ADHOC").len(), 2);

    let mut serve = Proc::spawn(&["serve", "--now", "2032-03-04T10:05:00Z"], dir.path(), "s2");
    serve.wait_for("BOOT and NINE", |o, _| {
        o.contains("jobnet QA/BOOT completed") && o.contains("jobnet QA/NINE completed")
    });
    serve.term();
    let err = serve.err();
    assert!(err.contains("start of QA/NINE at 2032-03-04T09:00:00+00:00 was missed (run_once)"), "{err}");
    assert!(err.contains("start of QA/NINE at 2032-03-03T09:00:00+00:00 was missed (skipped)"), "{err}");
    assert_eq!(runs_of(dir.path(), "QA/NINE").len(), 1);
    assert_eq!(runs_of(dir.path(), "QA/BOOT").len(), 2, "the second day's environment start");
}

// ------------------------------------------------------------- crash recovery

const LONG: &str = r#"
[environment]
timezone = "UTC"

[[jobnet]]
project = "QK"
name = "LONG"
comment = "QkLong"
start = { time = "09:00" }
[[jobnet.job]]
number = 1
command = "echo pre"
[[jobnet.job]]
number = 2
command = "sleep 45"
after = [1]
[[jobnet.job]]
number = 3
command = "echo post"
after = [2]

[[jobnet]]
project = "QK"
name = "MANUAL"
[[jobnet.job]]
number = 1
command = "sleep 45"
[[jobnet.job]]
number = 2
command = "true"
after = [1]
"#;

#[test]
fn qa_kill_9_of_serve_during_a_scheduled_job_gives_239_and_no_second_start() {
    let dir = dir_with(&[("defs.toml", LONG)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut serve = Proc::spawn(&["serve", "--now", "2031-09-09T08:59:52Z"], dir.path(), "s1");
    serve.wait_for("job 2 executing", |o, _| o.contains("job QK/LONG/2 (J2) executing"));
    wait_status(dir.path(), "QK/LONG", "executing");
    serve.kill9();

    // Restart later the same operating day: job 2 ends 239, the jobnet abends, 09:00 does not run again.
    let mut serve = Proc::spawn(&["serve", "--now", "2031-09-09T09:10:00Z"], dir.path(), "s2");
    serve.wait_for("recovery", |_, e| e.contains("scheduler running"));
    serve.term();
    let err = serve.err();
    assert!(err.contains("QK/LONG/2") && err.contains("239"), "{err}");
    let h = history(dir.path(), "QK/LONG");
    let runs = h["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "the 09:00 occurrence ran once: {h}");
    assert_eq!(runs[0]["status"], "abended");
    assert_eq!(runs[0]["exit_code"], 239);
    let jobs = h["jobs"].as_array().expect("jobs");
    let job = |n: u64| jobs.iter().find(|j| j["job"] == n).cloned();
    assert_eq!(job(2).expect("job 2")["exit_code"], 239);
    assert_eq!(job(1).expect("job 1")["status"], "completed");
    assert!(job(3).is_none(), "job 3 never started: {h}");
    assert_eq!(status_of(dir.path(), "QK/LONG").as_deref(), Some("abended"));

    // Next operating day: an abended jobnet is not rescheduled until confirmed (spec 01 §3.4.2).
    let mut serve = Proc::spawn(&["serve", "--now", "2031-09-10T09:00:30Z"], dir.path(), "s3");
    serve.wait_for("running", |_, e| e.contains("scheduler running"));
    serve.term();
    assert_eq!(runs_of(dir.path(), "QK/LONG").len(), 1);
    assert!(!serve.err().contains("239"), "recovery happens once: {}", serve.err());
}

#[test]
fn qa_kill_9_of_op_start_keeps_the_accepted_start_and_recovers_with_239() {
    let dir = dir_with(&[("defs.toml", LONG)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut op = Proc::spawn(&["op", "start", "QK/MANUAL"], dir.path(), "op");
    wait_status(dir.path(), "QK/MANUAL", "executing");
    op.kill9();
    // The next embedded scheduler (here the one of `woi op confirm`) recovers it.
    let out = woi(&["op", "confirm", "QK/MANUAL"], dir.path());
    let err = text(&out.stderr);
    assert!(err.contains("QK/MANUAL/1") && err.contains("239"), "{err}");
    assert_eq!(out.status.code(), Some(0), "the recovered abended jobnet can be confirmed: {err}");
    let h = history(dir.path(), "QK/MANUAL");
    // The run ended abnormally with 239 (history shows its current status, confirmed).
    assert_eq!(h["runs"][0]["status"], "confirmed", "{h}");
    assert_eq!(h["runs"][0]["exit_code"], 239);
    assert_eq!(h["jobs"][0]["exit_code"], 239);
    assert_eq!(h["jobs"][0]["status"], "abended");
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(status_of(dir.path(), "QK/MANUAL").as_deref(), Some("confirmed"));
}

// --------------------------------------------------------------- live apply

const FAMILY: &str = r#"
[[jobnet]]
project = "QC"
name = "PAR"
start = "environment_start"
[[jobnet.job]]
number = 1
kind = "child_jobnet"
jobnet = "KID"

[[jobnet]]
project = "QC"
name = "KID"
[[jobnet.job]]
number = 1
command = "sleep 45"

[[jobnet]]
project = "QC"
name = "OTHER"
[[jobnet.job]]
number = 1
command = "true"
"#;

#[test]
fn qa_apply_refuses_a_change_to_an_executing_child_and_takes_an_idle_change() {
    let dir = dir_with(&[("defs.toml", FAMILY)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let serve = Proc::spawn(&["serve"], dir.path(), "s");
    wait_status(dir.path(), "QC/KID", "executing");

    let changed = FAMILY.replace("sleep 45", "sleep 46") + "\n[[jobnet]]\nproject = \"QC\"\nname = \"EXTRA\"\n";
    std::fs::write(dir.path().join("changed.toml"), changed).expect("write");
    let out = woi(&["apply", "changed.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("QC/KID"), "{}", text(&out.stderr));
    assert_eq!(status_of(dir.path(), "QC/EXTRA"), None, "a refused apply changes nothing");

    // The same definitions again: nothing changed, accepted, nothing reset.
    let out = woi(&["apply", "defs.toml"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 changed"), "{}", text(&out.stdout));

    let idle = FAMILY.replace("command = \"true\"", "command = \"echo other\"");
    std::fs::write(dir.path().join("idle.toml"), idle).expect("write");
    let out = woi(&["apply", "idle.toml"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[QC/OTHER]"), "{}", text(&out.stdout));
    assert_eq!(status_of(dir.path(), "QC/KID").as_deref(), Some("executing"));
    assert_eq!(status_of(dir.path(), "QC/PAR").as_deref(), Some("executing"));
    // `woi op` and `woi run` cannot take the data directory from a running serve.
    let out = woi(&["run", "QC/OTHER"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    drop(serve);
}

// ------------------------------------------------------------ status/history

#[test]
fn qa_status_filter_and_history_order_limit_and_json_fields() {
    let dir = dir_with(&[("defs.toml", BRANCH)]);
    assert_eq!(woi(&["run", "QA/BADKID", "--defs", "defs.toml"], dir.path()).status.code(), Some(3));
    assert_eq!(woi(&["run", "QA/KID"], dir.path()).status.code(), Some(0));
    let out = woi(&["status", "--status", "abended", "--json"], dir.path());
    let mut keys: Vec<String> =
        json(&out).as_array().expect("array").iter().filter_map(|v| v["key"].as_str().map(String::from)).collect();
    keys.sort();
    assert_eq!(keys, ["QA/BADKID", "QA/FAILS"]);
    let all = status_list(dir.path());
    let kid = all.iter().find(|v| v["key"] == "QA/KID").expect("QA/KID");
    for field in ["key", "status", "run", "exit_code", "started_at", "ended_at", "comment"] {
        assert!(kid.get(field).is_some(), "status --json has {field}: {kid}");
    }
    // History: newest first, --limit respected.
    let v = json(&woi(&["history", "--json"], dir.path()));
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["jobnet"], "QA/KID", "newest first: {v}");
    let started: Vec<&str> = runs.iter().filter_map(|r| r["started_at"].as_str()).collect();
    let mut sorted = started.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(started, sorted);
    let v = json(&woi(&["history", "--limit", "1", "--json"], dir.path()));
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(1));
    // The text forms use the environment's time zone (Asia/Tokyo by default).
    let t = text(&woi(&["history"], dir.path()).stdout);
    assert!(t.contains("+09:00"), "{t}");
    let t = text(&woi(&["status"], dir.path()).stdout);
    assert!(t.lines().last().is_some_and(|l| l.starts_with("server time") && l.contains("Asia/Tokyo")), "{t}");
}

// The management list shows the running scheduler's time, also on a
// virtual clock (`serve --now`): the operating day and the next start are
// those of that clock (qa-findings-runtime R2).
#[test]
fn qa_status_shows_the_virtual_time_of_a_running_serve() {
    let dir = dir_with(&[("defs.toml", TIMED)]);
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut serve = Proc::spawn(&["serve", "--now", "2031-03-04T07:00:00Z"], dir.path(), "s");
    serve.wait_for("the scheduler to run", |_, e| e.contains("scheduler running"));
    let o = woi(&["status"], dir.path());
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{text}");
    assert!(text.contains("server time 2031-03-04 07:0"), "{text}");
    assert!(text.contains("2031-03-04 09:00:00"), "NINE's next start is today's 09:00: {text}");
    serve.term();
    // Once the scheduler is gone, the system clock again.
    let o = woi(&["status"], dir.path());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("server time 2031-"));
}
