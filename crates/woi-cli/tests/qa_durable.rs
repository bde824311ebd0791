//! QA black-box checks of the durable runtime through the real `woi` binary,
//! with values the other runtime tests do not use: output capture (cap,
//! non-UTF-8, signals), start failures and the job environment, cut-off of a
//! whole process group, `kill -9` of `woi serve` while a child jobnet runs,
//! while a job is queued on the concurrency limit and across a day change,
//! SIGTERM of `woi serve`, message-event counts across `kill -9`, and
//! unusable databases.
//!
//! No timing assertions: every wait polls with a generous deadline. Job
//! processes orphaned by a `kill -9` write their pid and are killed at the end.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::cli::*;

/// A temporary directory with `defs.toml`; `@DIR@` in the definitions is the directory.
fn setup(defs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = defs.replace("@DIR@", &dir.path().display().to_string());
    std::fs::write(dir.path().join("defs.toml"), body).expect("write defs");
    dir
}

fn apply(dir: &Path) {
    let out = woi(&["apply", "defs.toml"], dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn job_of(h: &serde_json::Value, n: u64) -> Option<serde_json::Value> {
    h["jobs"].as_array().and_then(|a| a.iter().find(|j| j["job"] == n).cloned())
}

/// Whether process `pid` exists and its command line contains `what`.
fn alive(pid: &str, what: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(what))
}

/// The pid a job wrote to `file`, waiting for it to appear.
fn pid_in(dir: &Path, file: &str) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let pid = std::fs::read_to_string(dir.join(file)).unwrap_or_default().trim().to_string();
        if !pid.is_empty() {
            return pid;
        }
        assert!(Instant::now() < deadline, "{file} never written");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kill a job process orphaned by a `kill -9` of its scheduler (it ran `what`).
fn reap(pid: &str, what: &str) {
    if alive(pid, what) {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
}

// ------------------------------------------------------------ the executor

const OUTPUT: &str = r#"
[[jobnet]]
project = "QO"
name = "OUT"
[[jobnet.job]]
number = 1
command = "sh -c 'head -c 1300000 /dev/zero | tr \"\\0\" q; echo LOST_ERR >&2'"
[[jobnet.job]]
number = 2
command = "sh -c 'printf \"a\\377\\376z\\n\"; echo on-err >&2; exit 5'"
normal_limit = 5
[[jobnet.job]]
number = 3
command = "sh -c 'echo before-segv; kill -SEGV $$'"
normal_limit = 139
[[jobnet.job]]
number = 4
command = "sh -c 'echo before-term; kill -TERM $$'"
"#;

// Spec 01 §2.9 (previous history output), §3.1: the output is capped at
// 1 MiB keeping the first bytes (standard output first), non-UTF-8 bytes are
// replaced, and a signal s ends the job with the command's code 128 + s.
#[test]
fn qa_output_cap_non_utf8_and_signals_map_to_128_plus_signal() {
    let dir = setup(OUTPUT);
    let out = woi(&["run", "QO/OUT", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(3), "job 4 abends: {}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["jobnet"]["status"], "abended");
    assert_eq!(v["jobnet"]["exit_code"], 143, "code of the abended job (SIGTERM = 128 + 15)");
    let st: Vec<(&str, u64)> = v["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| (j["status"].as_str().unwrap_or(""), j["exit"]["code"].as_u64().unwrap_or(999)))
        .collect();
    assert_eq!(st, [("completed", 0), ("pseudo_normal", 5), ("pseudo_normal", 139), ("abended", 143)]);

    let h = history(dir.path(), "QO/OUT");
    let output = |n| job_of(&h, n).and_then(|j| j["output"].as_str().map(String::from)).unwrap_or_default();
    let big = output(1);
    assert!(big.starts_with("qqqq"), "{}", &big[..20.min(big.len())]);
    assert_eq!(big.bytes().filter(|b| *b == b'q').count(), 1 << 20, "exactly the first MiB is kept");
    assert!(big.ends_with("woi: output truncated at 1048576 bytes\n"), "{}", &big[big.len().saturating_sub(80)..]);
    assert!(!big.contains("LOST_ERR"), "standard error beyond the cap is not kept");
    assert_eq!(output(2), "a\u{fffd}\u{fffd}z\non-err\n", "lossy UTF-8, stdout then stderr");
    let segv = output(3);
    assert!(segv.starts_with("before-segv\n") && segv.contains("signal 11 (SIGSEGV)"), "{segv}");
    assert!(output(4).contains("signal 15 (SIGTERM)"), "{}", output(4));
}

const EXEC: &str = r#"
[variables]
QA_SUB = "inner"
QA_WORD = "two words"

[[jobnet]]
project = "QX"
name = "EXEC"
[[jobnet.job]]
number = 1
command = "/nonexistent/qa_prog_zz"
[[jobnet.job]]
number = 2
command = "pwd"
directory = "@DIR@/no-such-dir"
[[jobnet.job]]
number = 3
name = "envjob"
command = "sh -c 'pwd; echo \"[$QA_ONE][$QA_TWO][$WOI_PROJECT/$WOI_JOBNET/$WOI_JOB/$WOI_JOB_NAME]\"; echo \"$0|$1|$2\"'"
params = "@QA_WORD@ 'x y'"
directory = "@DIR@/wd/@QA_SUB@"
env = { QA_ONE = "@QA_WORD@", QA_TWO = "k=v w" }
[[jobnet.job]]
number = 4
command = "sh -c 'echo unclosed"
[[jobnet.job]]
number = 5
command = "/nonexistent/qa_prog_zz"
ignore_exit_code = true
[[jobnet.job]]
number = 6
command = "sh -c 'echo @QA_UNDEFINED@'"
"#;

// XC-005, XC-006, XC-015 (decision D3): start failures are the scheduler's
// codes 254 / 253, even with ignore_exit_code; parameters, directory and
// environment get @VAR@ substituted; an undefined @NAME@ stays as written.
#[test]
fn qa_xc_005_006_015_start_failures_and_job_environment() {
    let dir = setup(EXEC);
    std::fs::create_dir_all(dir.path().join("wd/inner")).expect("mkdir");
    let out = woi(&["run", "QX/EXEC", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let v = json(&out);
    let st: Vec<(&str, u64)> = v["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| (j["status"].as_str().unwrap_or(""), j["exit"]["code"].as_u64().unwrap_or(999)))
        .collect();
    assert_eq!(
        st,
        [("abended", 254), ("abended", 253), ("completed", 0), ("abended", 254), ("abended", 254), ("completed", 0)]
    );
    assert_eq!(v["jobs"][4]["exit"]["origin"], "scheduler");
    let h = history(dir.path(), "QX/EXEC");
    let output = |n| job_of(&h, n).and_then(|j| j["output"].as_str().map(String::from)).unwrap_or_default();
    let env = output(3);
    let wd = dir.path().join("wd/inner").canonicalize().expect("canonical");
    assert!(env.starts_with(&format!("{}\n", wd.display())), "{env}");
    assert!(env.contains("[two words][k=v w][QX/EXEC/3/envjob]\n"), "{env}");
    assert!(env.contains("two|words|x y\n"), "params split like a shell: {env}");
    assert!(output(1).contains("/nonexistent/qa_prog_zz"), "{}", output(1));
    assert!(output(2).contains("no-such-dir"), "{}", output(2));
    assert_eq!(output(6), "@QA_UNDEFINED@\n");
}

const CUT: &str = r#"
[[jobnet]]
project = "QU"
name = "CUT"
[[jobnet.job]]
number = 1
command = "sh -c 'echo cut-begin; sleep 31 & echo $! > gc.pid; wait'"
directory = "@DIR@"
cutoff_secs = 1
[[jobnet.job]]
number = 2
command = "sleep 4"
[[jobnet.job]]
number = 3
command = "echo never"
after = [1]
"#;

// Spec 01 §3.1 rule 5, XC-012 (decision D1): the cut-off kills the whole
// process group (a background grandchild too), the job ends Abended with
// 0x40000322 and keeps the output it wrote.
#[test]
fn qa_xc_012_cutoff_kills_the_process_group_and_keeps_output() {
    let dir = setup(CUT);
    let out = woi(&["run", "QU/CUT", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let gc = pid_in(dir.path(), "gc.pid");
    let deadline = Instant::now() + DEADLINE;
    while alive(&gc, "sleep 31") {
        assert!(Instant::now() < deadline, "the grandchild survived the cut-off");
        std::thread::sleep(Duration::from_millis(50));
    }
    let v = json(&out);
    assert_eq!(v["jobnet"]["status"], "abended");
    assert_eq!(v["jobnet"]["exit_code"], 0x4000_0322_u64);
    assert_eq!(v["jobs"][0]["exit"]["code"], 0x4000_0322_u64);
    assert_eq!(v["jobs"][0]["status"], "abended");
    assert_eq!(v["jobs"][1]["status"], "completed");
    assert_eq!(v["jobs"][2]["status"], "waiting");
    let h = history(dir.path(), "QU/CUT");
    let j1 = job_of(&h, 1).expect("job 1");
    assert_eq!(j1["exit_code"], 0x4000_0322_u64);
    assert!(j1["output"].as_str().is_some_and(|o| o.starts_with("cut-begin\n")), "{j1}");
    assert!(job_of(&h, 3).is_none());
    // Decision D1: the tables show interruption codes in hex, never 1073742626.
    for args in [&["history", "QU/CUT"][..], &["status"][..]] {
        let table = text(&woi(args, dir.path()).stdout);
        assert!(table.contains("0x40000322") && !table.contains("1073742626"), "{args:?}: {table}");
    }
}

const STUBBORN: &str = r#"
[[jobnet]]
project = "QU"
name = "STUBBORN"
[[jobnet.job]]
number = 1
command = "sh -c 'echo stubborn-begin; trap \"\" TERM; sleep 3'"
cutoff_secs = 1
"#;

// XC-012 with a job that ignores SIGTERM: the jobnet ends at the cut-off
// while the job's processes live on for the kill grace period; `woi run`
// waits for them before it stops, so the job's output is still kept.
#[test]
fn qa_xc_012_cutoff_output_is_kept_when_the_run_ends_during_the_kill_grace() {
    let dir = setup(STUBBORN);
    let out = woi(&["run", "QU/STUBBORN", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(json(&out)["jobs"][0]["exit"]["code"], 0x4000_0322_u64);
    let h = history(dir.path(), "QU/STUBBORN");
    let j1 = job_of(&h, 1).expect("job 1");
    assert!(j1["output"].as_str().is_some_and(|o| o.starts_with("stubborn-begin\n")), "{j1}");
}

// ------------------------------------------------------------ crash recovery

const FAMILY: &str = r#"
[environment]
timezone = "UTC"

[[jobnet]]
project = "QI"
name = "TOP"
start = "environment_start"
[[jobnet.job]]
number = 1
command = "echo pre"
[[jobnet.job]]
number = 2
kind = "child_jobnet"
jobnet = "SUB"
after = [1]
[[jobnet.job]]
number = 3
command = "echo post"
after = [2]

[[jobnet]]
project = "QI"
name = "SUB"
[[jobnet.job]]
number = 5
command = "sh -c 'echo $$ > sub.pid; exec sleep 29'"
directory = "@DIR@"
[[jobnet.job]]
number = 6
command = "echo after"
after = [5]

[[jobnet]]
project = "QI"
name = "BOOTQ"
start = "environment_start"
[[jobnet.job]]
number = 1
command = "echo boot"
"#;

// XC-010, spec 01 §3.2 (the icon mirrors its child) and environment_start
// "at most once per operating day": kill -9 of `woi serve` while a child
// jobnet's job runs; the next start ends the job with 239, the child and
// the parent abend with 239 through the icon, and nothing restarts that day.
#[test]
fn qa_xc_010_kill_9_during_icon_child_ends_child_job_with_239() {
    let dir = setup(FAMILY);
    apply(dir.path());
    let mut serve = Proc::spawn(&["serve", "--now", "2032-02-10T10:00:00Z"], dir.path(), "s1");
    wait_status(dir.path(), "QI/SUB", "executing");
    wait_status(dir.path(), "QI/BOOTQ", "completed");
    let orphan = pid_in(dir.path(), "sub.pid");
    serve.kill9();

    let mut serve = Proc::spawn(&["serve", "--now", "2032-02-10T11:00:00Z"], dir.path(), "s2");
    serve.wait_for("recovery", |_, e| e.contains("scheduler running"));
    wait_status(dir.path(), "QI/TOP", "abended");
    assert_eq!(serve.term(), Some(0));
    let err = serve.err();
    assert!(err.contains("QI/SUB/5") && err.contains("239"), "{err}");
    let sub = history(dir.path(), "QI/SUB");
    assert_eq!(sub["runs"].as_array().map(Vec::len), Some(1), "{sub}");
    assert_eq!((&sub["runs"][0]["status"], &sub["runs"][0]["exit_code"]), (&"abended".into(), &239.into()));
    assert_eq!(job_of(&sub, 5).expect("job 5")["exit_code"], 239);
    assert!(job_of(&sub, 6).is_none(), "the child's next job never starts: {sub}");
    let top = history(dir.path(), "QI/TOP");
    assert_eq!(top["runs"].as_array().map(Vec::len), Some(1), "{top}");
    assert_eq!((&top["runs"][0]["status"], &top["runs"][0]["exit_code"]), (&"abended".into(), &239.into()));
    assert_eq!(job_of(&top, 2).expect("icon")["exit_code"], 239);
    assert_eq!(job_of(&top, 1).expect("job 1")["status"], "completed");
    assert!(job_of(&top, 3).is_none(), "{top}");
    assert_eq!(runs_of(dir.path(), "QI/BOOTQ").len(), 1, "environment start once per operating day");

    // Next operating day: BOOTQ starts again; the abended TOP waits for confirmation.
    let mut serve = Proc::spawn(&["serve", "--now", "2032-02-11T08:00:00Z"], dir.path(), "s3");
    serve.wait_for("BOOTQ again", |o, _| o.contains("2032-02-11T08:00:00Z jobnet QI/BOOTQ completed"));
    serve.term();
    assert!(!serve.err().contains("239"), "recovery happens once: {}", serve.err());
    assert_eq!(runs_of(dir.path(), "QI/BOOTQ").len(), 2);
    assert_eq!(runs_of(dir.path(), "QI/TOP").len(), 1);
    assert_eq!(status_of(dir.path(), "QI/TOP").as_deref(), Some("abended"));
    reap(&orphan, "sleep 29");
}

const LIMITED: &str = r#"
[environment]
timezone = "UTC"
max_concurrent_jobs = 1

[[jobnet]]
project = "QQ"
name = "HOLD"
start = { time = "14:00" }
[[jobnet.job]]
number = 1
command = "sh -c 'echo $$ > hold.pid; exec sleep 28'"
directory = "@DIR@"

[[jobnet]]
project = "QQ"
name = "QUEUED"
start = { time = "14:01" }
[[jobnet.job]]
number = 4
command = "echo queued-ran"
[[jobnet.job]]
number = 7
command = "echo second"
after = [4]
"#;

// XC-010 with the concurrency limit: kill -9 while one job holds the only
// slot and another jobnet's job is queued for it. After the restart the
// executing job has 239; the queued job never started, so it has no history
// and never runs twice or late; both runs ended (abended) and nothing starts.
#[test]
fn qa_xc_010_kill_9_while_a_job_is_queued_on_the_concurrency_limit() {
    let dir = setup(LIMITED);
    apply(dir.path());
    let mut serve = Proc::spawn(&["serve", "--now", "2033-05-05T13:59:50Z", "--speed", "10"], dir.path(), "s1");
    serve.wait_for("QUEUED started", |o, _| o.contains("jobnet QQ/QUEUED executing"));
    wait_status(dir.path(), "QQ/QUEUED", "executing");
    assert_eq!(status_of(dir.path(), "QQ/HOLD").as_deref(), Some("executing"));
    let orphan = pid_in(dir.path(), "hold.pid");
    serve.kill9();
    assert!(!serve.out().contains("QQ/QUEUED/4"), "job 4 waited for the slot: {}", serve.out());

    let mut serve = Proc::spawn(&["serve", "--now", "2033-05-05T14:30:00Z"], dir.path(), "s2");
    serve.wait_for("recovery", |_, e| e.contains("scheduler running"));
    wait_status(dir.path(), "QQ/QUEUED", "abended");
    serve.term();
    let err = serve.err();
    assert!(err.contains("QQ/HOLD/1") && err.contains("239"), "{err}");
    assert!(!err.contains("QQ/QUEUED/4"), "a queued job was not executing: {err}");
    let hold = history(dir.path(), "QQ/HOLD");
    assert_eq!(job_of(&hold, 1).expect("job 1")["exit_code"], 239);
    assert_eq!(hold["runs"][0]["status"], "abended");
    let queued = history(dir.path(), "QQ/QUEUED");
    assert_eq!(queued["runs"].as_array().map(Vec::len), Some(1), "{queued}");
    assert_eq!(queued["runs"][0]["status"], "abended");
    assert!(queued["jobs"].as_array().is_some_and(Vec::is_empty), "no job of QUEUED ever ran: {queued}");
    assert!(!serve.out().contains("queued-ran") && !serve.out().contains("QQ/QUEUED/4"), "{}", serve.out());
    reap(&orphan, "sleep 28");
}

const OVERNIGHT: &str = r#"
[environment]
timezone = "UTC"

[[calendar]]
name = "C0300"
day_change = "03:00"

[[jobnet]]
project = "QY"
name = "LATE"
start = { time = "23:50" }
[[jobnet.job]]
number = 1
command = "echo late"

[[jobnet]]
project = "QY"
name = "AFTERMID"
start = { time = "00:05" }
[[jobnet.job]]
number = 1
command = "echo aftermid"

[[jobnet]]
project = "QY"
name = "SHIFT_A"
start = { time = "01:00" }
startup_days = { calendars = ["C0300"] }
[[jobnet.job]]
number = 1
command = "echo shift-a"

[[jobnet]]
project = "QY"
name = "SHIFT_B"
start = { time = "23:55" }
startup_days = { calendars = ["C0300"] }
[[jobnet.job]]
number = 1
command = "echo shift-b"

[[jobnet]]
project = "QY"
name = "SKIPB"
missed_start = "skip"
start = { time = "23:56" }
startup_days = { calendars = ["C0300"] }
[[jobnet.job]]
number = 1
command = "echo skipb"

[[jobnet]]
project = "QY"
name = "TWICE"
start = { times = ["22:00", "23:58"] }
[[jobnet.job]]
number = 1
command = "sh -c 'echo $$ > twice.pid; exec sleep 27'"
directory = "@DIR@"
"#;

// missed_start across a day change (docs/definitions.md `missed_start`,
// spec 01 §3.9): down from 22:00 to 01:30 next day. With day change 00:00 the
// 23:50 start belongs to the previous operating day (skipped) and 00:05 to
// the current one (run once); with day change 03:00 both 23:55 and 01:00
// belong to the current operating day (run once) unless `skip`. The jobnet
// killed while running is abended (239) and its 23:58 start is not run.
#[test]
fn qa_missed_starts_after_kill_9_across_midnight_and_day_change_0300() {
    let dir = setup(OVERNIGHT);
    apply(dir.path());
    let mut serve = Proc::spawn(&["serve", "--now", "2034-07-14T21:59:58Z"], dir.path(), "s1");
    serve.wait_for("TWICE executing", |o, _| o.contains("job QY/TWICE/1 (J1) executing"));
    let orphan = pid_in(dir.path(), "twice.pid");
    serve.kill9();

    let mut serve = Proc::spawn(&["serve", "--now", "2034-07-15T01:30:00Z"], dir.path(), "s2");
    serve.wait_for("missed starts run", |o, e| {
        e.contains("scheduler running")
            && ["AFTERMID", "SHIFT_A", "SHIFT_B"].iter().all(|n| o.contains(&format!("jobnet QY/{n} completed")))
    });
    assert_eq!(serve.term(), Some(0));
    let err = serve.err();
    assert!(err.contains("QY/LATE at 2034-07-14T23:50:00+00:00 was missed (skipped)"), "{err}");
    assert!(err.contains("QY/AFTERMID at 2034-07-15T00:05:00+00:00 was missed (run_once)"), "{err}");
    assert!(err.contains("QY/SHIFT_A at 2034-07-15T01:00:00+00:00 was missed (run_once)"), "{err}");
    assert!(err.contains("QY/SHIFT_B at 2034-07-14T23:55:00+00:00 was missed (run_once)"), "{err}");
    assert!(err.contains("QY/SKIPB at 2034-07-14T23:56:00+00:00 was missed (skipped)"), "{err}");
    for (n, runs) in [("LATE", 0), ("AFTERMID", 1), ("SHIFT_A", 1), ("SHIFT_B", 1), ("SKIPB", 0), ("TWICE", 1)] {
        assert_eq!(runs_of(dir.path(), &format!("QY/{n}")).len(), runs, "QY/{n}");
    }
    let twice = history(dir.path(), "QY/TWICE");
    assert_eq!((&twice["runs"][0]["status"], &twice["runs"][0]["exit_code"]), (&"abended".into(), &239.into()));
    // A restart a minute later repeats nothing.
    let mut serve = Proc::spawn(&["serve", "--now", "2034-07-15T01:31:00Z"], dir.path(), "s3");
    serve.wait_for("running", |_, e| e.contains("scheduler running"));
    serve.term();
    assert!(!serve.err().contains("missed") && !serve.err().contains("239"), "{}", serve.err());
    for (n, runs) in [("AFTERMID", 1), ("SHIFT_A", 1), ("SHIFT_B", 1), ("TWICE", 1)] {
        assert_eq!(runs_of(dir.path(), &format!("QY/{n}")).len(), runs, "QY/{n}");
    }
    reap(&orphan, "sleep 27");
}

const GRACE: &str = r#"
[environment]
timezone = "UTC"

[[jobnet]]
project = "QT"
name = "GRACE"
start = "environment_start"
[[jobnet.job]]
number = 1
command = "sh -c 'echo $$ > grace.pid; sleep 26 & echo $! > grace_gc.pid; wait'"
directory = "@DIR@"
[[jobnet.job]]
number = 2
command = "echo next"
after = [1]
"#;

// Graceful shutdown: SIGTERM of `woi serve` exits 0 and kills the running
// job's whole process group (no orphan); the stop itself ends the job with
// 239 (XC-010) and its jobnet abends, so the next start has nothing to
// recover; the successor never runs, and the environment start is not
// repeated on the same operating day.
#[test]
fn qa_sigterm_of_serve_kills_job_group_and_next_start_gives_239() {
    let dir = setup(GRACE);
    apply(dir.path());
    let mut serve = Proc::spawn(&["serve", "--now", "2035-10-10T10:10:00Z"], dir.path(), "s1");
    wait_status(dir.path(), "QT/GRACE", "executing");
    let (pid, gc) = (pid_in(dir.path(), "grace.pid"), pid_in(dir.path(), "grace_gc.pid"));
    assert!(alive(&gc, "sleep 26"));
    assert_eq!(serve.term(), Some(0), "SIGTERM stops serve with 0: {}", serve.err());
    let deadline = Instant::now() + DEADLINE;
    while alive(&gc, "sleep 26") || alive(&pid, "grace.pid") {
        assert!(Instant::now() < deadline, "job processes survived a graceful stop");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Recorded at the stop: abended, job 1 ended with 239.
    let h = history(dir.path(), "QT/GRACE");
    assert_eq!(h["runs"][0]["status"], "abended", "{h}");
    assert_eq!(job_of(&h, 1).expect("job 1")["exit_code"], 239);

    let mut serve = Proc::spawn(&["serve", "--now", "2035-10-10T10:20:00Z"], dir.path(), "s2");
    serve.wait_for("recovery", |_, e| e.contains("scheduler running"));
    serve.term();
    assert!(!serve.err().contains("239"), "nothing left to recover: {}", serve.err());
    let h = history(dir.path(), "QT/GRACE");
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(1), "{h}");
    assert_eq!(job_of(&h, 1).expect("job 1")["exit_code"], 239);
    assert!(job_of(&h, 2).is_none(), "{h}");
}

const WARN: &str = r#"
[environment]
timezone = "UTC"

[[jobnet]]
project = "QW"
name = "WARN"
start = "environment_start"
[[jobnet.job]]
number = 1
command = "sh -c 'exit 9'"
[[jobnet.job]]
number = 2
command = "sh -c 'echo $$ > w2.pid; exec sleep 25'"
directory = "@DIR@"
"#;

// Spec 01 §3.2: a jobnet in Warning (one route abended, another executing)
// killed with -9: the executing job ends 239, the abended one keeps its
// code, and the jobnet ends abended.
#[test]
fn qa_xc_010_kill_9_of_a_jobnet_in_warning_keeps_the_first_abend() {
    let dir = setup(WARN);
    apply(dir.path());
    let mut serve = Proc::spawn(&["serve", "--now", "2036-03-03T03:03:00Z"], dir.path(), "s1");
    wait_status(dir.path(), "QW/WARN", "warning");
    let orphan = pid_in(dir.path(), "w2.pid");
    serve.kill9();
    let mut serve = Proc::spawn(&["serve", "--now", "2036-03-03T04:00:00Z"], dir.path(), "s2");
    serve.wait_for("recovery", |_, e| e.contains("scheduler running"));
    wait_status(dir.path(), "QW/WARN", "abended");
    serve.term();
    let h = history(dir.path(), "QW/WARN");
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(job_of(&h, 1).expect("job 1")["exit_code"], 9);
    assert_eq!(job_of(&h, 2).expect("job 2")["exit_code"], 239);
    assert_eq!(job_of(&h, 2).expect("job 2")["status"], "abended");
    reap(&orphan, "sleep 25");
}

const EVENTS: &str = r#"
[[jobnet]]
project = "QE"
name = "BOTH"
comment = "Both"
start = { message_only = {} }
messages = { events = ["QAEV1", "QAEV2"], mode = "and" }
[[jobnet.job]]
number = 1
command = "echo both"
"#;

/// `woi serve --listen` on the prepared data directory; returns it and its URL.
fn serve_listen(dir: &Path, tag: &str) -> (Proc, String) {
    let serve = Proc::spawn(
        &[
            "serve",
            "--data",
            "data",
            "--listen",
            "127.0.0.1:0",
            "--tenant",
            "t9",
            "--environment",
            "envA",
            "--public-host",
            "h",
        ],
        dir,
        tag,
    );
    serve.wait_for("the Web API", |_, e| e.contains("Web API on http://"));
    let err = serve.err();
    let rest = err.split_once("Web API on http://").map(|(_, r)| r).expect("address");
    let url = format!("http://{}", rest.split('/').next().expect("host"));
    (serve, url)
}

fn remote(dir: &Path, url: &str, id: &str, secret: &str, args: &[&str]) -> Output {
    let mut a = args.to_vec();
    a.extend(["--server", url]);
    let env = [
        ("WOI_CLIENT_ID", id),
        ("WOI_CLIENT_SECRET", secret),
        ("WOI_USER", support::server::ADMIN),
        ("WOI_PASSWORD", support::server::ADMIN_PW),
        ("WOI_TENANT", "t9"),
        ("WOI_ENVIRONMENT", "envA"),
        ("WOI_PUBLIC_HOST", "h"),
    ];
    support::server::woi_in(dir, &a, None, &env)
}

// "loses no accepted input": an event occurrence accepted by a running
// `woi serve` is counted durably; after kill -9 and a restart, the second
// event of the AND condition starts the jobnet exactly once.
#[test]
fn qa_accepted_message_event_count_survives_kill_9_of_serve() {
    let (tmp, id, secret) = support::server::prepare(EVENTS);
    let dir = tmp.path();
    let (mut serve, url) = serve_listen(dir, "s1");
    let o = remote(dir, &url, &id, &secret, &["op", "raise_event", "--event", "QAEV1", "--project", "QE"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    serve.wait_for("the count", |o, _| o.contains("event QAEV1 counted by QE/BOTH count=1"));
    serve.kill9();

    let (mut serve, url) = serve_listen(dir, "s2");
    let o = remote(dir, &url, &id, &secret, &["op", "raise_event", "--event", "QAEV2", "--project", "QE"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    serve.wait_for("BOTH to complete", |o, _| o.contains("jobnet QE/BOTH completed"));
    serve.term();
    let h = json(&woi(&["history", "QE/BOTH", "--json", "--data", "data"], dir));
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(1), "{h}");
    assert_eq!(h["runs"][0]["status"], "completed");
    assert_eq!(job_of(&h, 1).and_then(|j| j["output"].as_str().map(String::from)).as_deref(), Some("both\n"));
    // A third start raises nothing more (both counts were consumed).
    let (mut serve, _) = serve_listen(dir, "s3");
    serve.term();
    assert!(!serve.out().contains("QE/BOTH executing"), "{}", serve.out());
}

// ------------------------------------------------------- unusable databases

const PLAIN: &str = r#"
[[jobnet]]
project = "QZ"
name = "ONE"
[[jobnet.job]]
number = 1
command = "true"
"#;

fn assert_clear_error(dir: &Path, data: &str, what: &str) {
    for args in [
        &["status", "--data", data][..],
        &["history", "--json", "--data", data][..],
        &["run", "QZ/ONE", "--data", data][..],
    ] {
        let out = woi(args, dir);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what} {args:?}: {err}");
        assert!(err.contains(data) && !err.contains("panicked"), "{what} {args:?}: {err}");
    }
}

// A truncated database, an SQLite database of another application, a newer
// schema, a database path that is a directory and a data directory that is
// a file: each a clear error with exit 2, never a panic.
#[test]
fn qa_unusable_databases_are_clear_errors_with_exit_2() {
    let dir = setup(PLAIN);
    let d = dir.path();
    let out = woi(&["run", "QZ/ONE", "--defs", "defs.toml", "--data", "good"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let good = std::fs::read(d.join("good/woi.db")).expect("db");
    assert!(good.len() > 8192, "{}", good.len());

    for (name, len) in [("trunc100", 100), ("trunc_half", good.len() / 2)] {
        std::fs::create_dir_all(d.join(name)).expect("mkdir");
        std::fs::write(d.join(name).join("woi.db"), &good[..len]).expect("write");
        assert_clear_error(d, name, name);
    }
    std::fs::create_dir_all(d.join("isdir/woi.db")).expect("mkdir");
    assert_clear_error(d, "isdir", "woi.db is a directory");
    std::fs::write(d.join("afile"), b"not a directory").expect("write");
    assert_clear_error(d, "afile", "data directory is a file");
    let out = woi(&["apply", "defs.toml", "--data", "afile"], d);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("afile: not a directory"), "{}", text(&out.stderr));

    // With the sqlite3 shell: another application's database and a newer schema.
    if Command::new("sqlite3").arg("-version").output().is_err() {
        eprintln!("sqlite3 not installed: the foreign and newer-schema cases are skipped");
        return;
    }
    std::fs::create_dir_all(d.join("foreign")).expect("mkdir");
    let st = Command::new("sqlite3")
        .arg(d.join("foreign/woi.db"))
        .arg("create table t(x); insert into t values (1);")
        .status();
    assert!(st.expect("sqlite3").success());
    assert_clear_error(d, "foreign", "foreign database");
    assert!(text(&woi(&["status", "--data", "foreign"], d).stderr).contains("not a woi database"));
    let st = Command::new("sqlite3").arg(d.join("good/woi.db")).arg("pragma user_version = 77;").status();
    assert!(st.expect("sqlite3").success());
    assert_clear_error(d, "good", "newer schema");
    assert!(text(&woi(&["status", "--data", "good"], d).stderr).contains("schema version 77"));
}
