//! The durable runtime through the real `woi` binary: real processes, the
//! SQLite store in a temporary data directory, `kill -9` recovery, a locked
//! data directory and a corrupt database.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const WOI: &str = env!("CARGO_BIN_EXE_woi");

const DEFS: &str = r#"
[[jobnet]]
project = "P"
name = "REAL"
comment = "Real"
[[jobnet.job]]
number = 1
command = "true"
[[jobnet.job]]
number = 2
command = "sh -c 'echo hello; exit 3'"
after = [1]
normal_limit = 4
[[jobnet.job]]
number = 3
command = "sh -c 'exit 7'"
after = [1]
[[jobnet.job]]
number = 4
command = "true"
after = [3]

[[jobnet]]
project = "P"
name = "SLOW"
comment = "Slow"
[[jobnet.job]]
number = 1
command = "sleep 60"

[[jobnet]]
project = "P"
name = "QUICK"
comment = "Quick"
[[jobnet.job]]
number = 1
command = "true"
"#;

fn woi(args: &[&str], cwd: &Path) -> Output {
    Command::new(WOI).args(args).current_dir(cwd).output().expect("run woi")
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("defs.toml"), DEFS).expect("write defs");
    dir
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

// MODEL-149
#[test]
fn model_149_run_executes_real_commands_and_keeps_history() {
    let dir = setup();
    let out = woi(&["run", "P/REAL", "--defs", "defs.toml", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(3), "abended run exits 3: {}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["jobnet"]["status"], "abended");
    assert_eq!(v["jobnet"]["exit_code"], 7);
    let jobs = v["jobs"].as_array().expect("jobs");
    let status: Vec<&str> = jobs.iter().map(|j| j["status"].as_str().unwrap_or("")).collect();
    assert_eq!(status, ["completed", "pseudo_normal", "abended", "waiting"]);
    assert_eq!(jobs[1]["exit"]["code"], 3);

    // History survives the process, with each job's output (MODEL-149).
    let h = woi(&["history", "P/REAL", "--json"], dir.path());
    assert!(h.status.success());
    let hv = json(&h);
    let with_hello = hv["jobs"].as_array().is_some_and(|a| a.iter().any(|j| j["job"] == 2 && j["output"] == "hello\n"));
    assert!(with_hello, "job 2's output is kept: {hv}");
    let table = String::from_utf8_lossy(&woi(&["history", "P/REAL"], dir.path()).stdout).to_string();
    assert!(table.contains("--- output of job 2") && table.contains("hello"), "{table}");
    let v = json(&h);
    assert_eq!(v["runs"][0]["status"], "abended");
    assert_eq!(v["jobs"].as_array().map(Vec::len), Some(3), "three jobs ran");

    // A second run gets run number 2.
    let out = woi(&["run", "P/REAL", "--json"], dir.path());
    assert_eq!(json(&out)["jobnet"]["run"], 2);

    // A jobnet that is neither defined nor in the history is an error, not
    // an empty list; a defined jobnet that never ran is an empty list.
    let h = woi(&["history", "P/NOSUCH", "--json"], dir.path());
    assert_eq!(h.status.code(), Some(1), "{}", String::from_utf8_lossy(&h.stdout));
    assert!(String::from_utf8_lossy(&h.stderr).contains("P/NOSUCH: no such jobnet"));
    let h = woi(&["history", "P/QUICK", "--json"], dir.path());
    assert!(h.status.success(), "{}", String::from_utf8_lossy(&h.stderr));
    assert_eq!(json(&h)["runs"].as_array().map(Vec::len), Some(0));
}

// MODEL-009 MODEL-239
#[test]
fn model_009_kill_9_during_a_job_then_restart_ends_it_with_239() {
    let dir = setup();
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut child = Command::new(WOI)
        .args(["run", "P/SLOW"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until the journal says the job is executing.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = woi(&["status", "--json"], dir.path());
        let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap_or_default();
        let executing =
            v.as_array().is_some_and(|a| a.iter().any(|j| j["key"] == "P/SLOW" && j["status"] == "executing"));
        if executing {
            break;
        }
        assert!(Instant::now() < deadline, "P/SLOW never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();

    // The next scheduler start recovers: the job ends with 239, the jobnet abends.
    let out = woi(&["run", "P/QUICK"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("P/SLOW/1") && err.contains("239"), "recovery is reported: {err}");
    let v = json(&woi(&["history", "P/SLOW", "--json"], dir.path()));
    assert_eq!(v["runs"][0]["status"], "abended");
    assert_eq!(v["runs"][0]["exit_code"], 239);
    assert_eq!(v["jobs"][0]["exit_code"], 239);
    // Recovery happens once: a further start does not touch P/SLOW again.
    let out = woi(&["run", "P/QUICK"], dir.path());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("P/SLOW"));
    // The orphaned `sleep 60` of the killed scheduler is left to end by itself.
}

#[test]
fn a_second_scheduler_on_the_same_data_directory_is_refused() {
    let dir = setup();
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    let mut child = Command::new(WOI)
        .args(["serve"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the daemon says it runs (it then holds the data directory).
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let started = lines.by_ref().take(20).any(|l| l.is_ok_and(|l| l.contains("scheduler running")));
    assert!(started, "woi serve did not start");
    let out = woi(&["run", "P/QUICK"], dir.path());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another woi scheduler"));
}

#[test]
fn a_corrupt_database_is_a_clear_error_not_a_panic() {
    let dir = setup();
    std::fs::create_dir_all(dir.path().join("woi-data")).expect("mkdir");
    std::fs::write(dir.path().join("woi-data/woi.db"), vec![0x42u8; 8192]).expect("garbage");
    for args in [&["status"][..], &["run", "P/QUICK", "--defs", "defs.toml"][..]] {
        let out = woi(args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("woi.db") && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn invalid_definitions_are_not_applied() {
    let dir = setup();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[jobnet]]\nproject = \"P\"\nname = \"B\"\n[[jobnet.job]]\nnumber = 1\ncommand = \"x\"\nafter = [9]\n",
    )
    .expect("write");
    let out = woi(&["apply", "bad.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("predecessor job 9 does not exist"));
    let out = woi(&["status"], dir.path());
    assert_eq!(out.status.code(), Some(2), "nothing was applied");
}

#[test]
fn op_applies_operations_durably_and_refuses_wrong_status() {
    let dir = setup();
    std::fs::write(
        dir.path().join("msg.toml"),
        "[[jobnet]]\nproject = \"M\"\nname = \"N\"\ncomment = \"Msg\"\nstart = { message_only = {} }\nmessages = { events = [\"GO\"] }\n[[jobnet.job]]\nnumber = 1\ncommand = \"sh -c 'exit 4'\"\n",
    )
    .expect("write");
    assert!(woi(&["apply", "defs.toml", "msg.toml"], dir.path()).status.success());
    // A raised event starts the jobnet; the command returns when it has ended.
    let out = woi(&["op", "raise_event", "--event", "GO"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("applied: counted by 1"));
    let v = json(&woi(&["history", "M/N", "--json"], dir.path()));
    assert_eq!(v["runs"][0]["status"], "abended");
    // MODEL-040: confirm is refused on a jobnet that is not abended or cancelled …
    let out = woi(&["op", "confirm", "P/QUICK"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));
    // … and applies to an abended one.
    assert!(woi(&["op", "confirm", "M/N"], dir.path()).status.success());
    let v = json(&woi(&["status", "--json"], dir.path()));
    let n = v.as_array().and_then(|a| a.iter().find(|j| j["key"] == "M/N")).cloned().unwrap_or_default();
    assert_eq!(n["status"], "confirmed");
    // Unknown targets are refused with a clear message.
    let out = woi(&["op", "pause", "M/NOPE"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("M/NOPE"));
}

const LIVE: &str = r#"
[[jobnet]]
project = "P"
name = "BUSY"
start = "environment_start"
[[jobnet.job]]
number = 1
command = "sleep 60"

[[jobnet]]
project = "P"
name = "IDLE"
[[jobnet.job]]
number = 1
command = "true"
"#;

fn status_of(dir: &Path, key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&woi(&["status", "--json"], dir).stdout).unwrap_or_default();
    v.as_array()?.iter().find(|j| j["key"] == key).and_then(|j| j["status"].as_str().map(String::from))
}

// MODEL-063
#[test]
fn model_063_apply_to_a_running_serve_resets_changed_refuses_executing() {
    let dir = setup();
    std::fs::write(dir.path().join("live.toml"), LIVE).expect("write");
    assert!(woi(&["apply", "live.toml"], dir.path()).status.success());
    let mut child = Command::new(WOI)
        .args(["serve"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let started = lines.by_ref().take(20).any(|l| l.is_ok_and(|l| l.contains("scheduler running")));
    assert!(started, "woi serve did not start");
    std::thread::spawn(move || for _ in lines {});
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_of(dir.path(), "P/BUSY").as_deref() != Some("executing") {
        assert!(Instant::now() < deadline, "P/BUSY never started");
        std::thread::sleep(Duration::from_millis(50));
    }

    // A change to the executing jobnet is refused as a whole (§3.15).
    let busy_changed = LIVE.replace("sleep 60", "sleep 61") + "\n[[jobnet]]\nproject = \"P\"\nname = \"NEW\"\n";
    std::fs::write(dir.path().join("busy.toml"), &busy_changed).expect("write");
    let out = woi(&["apply", "busy.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot change while it executes"));
    assert_eq!(status_of(dir.path(), "P/NEW"), None, "nothing of a refused apply lands");

    // Invalid definitions never reach the scheduler.
    std::fs::write(dir.path().join("bad.toml"), LIVE.replace("number = 1\ncommand = \"true\"", "number = 0"))
        .expect("write");
    assert_eq!(woi(&["apply", "bad.toml"], dir.path()).status.code(), Some(1));

    // A change to an idle jobnet and a new jobnet apply while BUSY keeps running.
    let ok = LIVE.replace("command = \"true\"", "command = \"echo changed\"")
        + "\n[[jobnet]]\nproject = \"P\"\nname = \"NEW\"\n[[jobnet.job]]\nnumber = 1\ncommand = \"true\"\n";
    std::fs::write(dir.path().join("ok.toml"), &ok).expect("write");
    let out = woi(&["apply", "ok.toml"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("[P/IDLE]") && text.contains("added [P/NEW]"), "{text}");
    assert_eq!(status_of(dir.path(), "P/NEW").as_deref(), Some("waiting"));
    assert_eq!(status_of(dir.path(), "P/BUSY").as_deref(), Some("executing"));
    let _ = child.kill();
    let _ = child.wait();
}

// MODEL-060
#[test]
fn model_060_recovery_change_from_the_cli_then_restart_runs_the_new_command() {
    let dir = setup();
    let out = woi(&["run", "P/REAL", "--defs", "defs.toml"], dir.path());
    assert_eq!(out.status.code(), Some(3), "job 3 exits 7: the jobnet abends");
    std::fs::write(dir.path().join("fix.toml"), "number = 3\ncommand = \"sh -c 'echo fixed'\"\nafter = [1]\n")
        .expect("write");
    let out = woi(&["op", "recovery_change", "P/REAL", "3", "--definition", "fix.toml"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Statuses unchanged …
    assert_eq!(status_of(dir.path(), "P/REAL").as_deref(), Some("abended"));
    // … and the restart runs the new command from job 3.
    let out = woi(&["op", "restart", "P/REAL"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&woi(&["history", "P/REAL", "--json"], dir.path()));
    assert_eq!(v["runs"][0]["status"], "pseudo_normal", "job 2 ended pseudo-normally: {v}");
    let fixed = v["jobs"].as_array().is_some_and(|a| a.iter().any(|j| j["job"] == 3 && j["output"] == "fixed\n"));
    assert!(fixed, "job 3 ran the changed command: {v}");
    // A change of the flow is refused (MODEL-062).
    std::fs::write(dir.path().join("flow.toml"), "number = 4\ncommand = \"true\"\n").expect("write");
    let out = woi(&["op", "recovery_change", "P/REAL", "4", "--definition", "flow.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
}

// MODEL-150
#[test]
fn model_150_status_list_filtered_by_status_shows_only_those_with_the_server_time() {
    let dir = setup();
    assert!(woi(&["apply", "defs.toml"], dir.path()).status.success());
    // P/REAL abends (job 3 exits 7); P/SLOW and P/QUICK stay waiting.
    let run = woi(&["run", "P/REAL"], dir.path());
    assert_eq!(run.status.code(), Some(3), "{}", String::from_utf8_lossy(&run.stderr));

    let out = woi(&["status", "--status", "waiting", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let mut keys: Vec<&str> = v.as_array().expect("array").iter().map(|j| j["key"].as_str().unwrap_or("")).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["P/QUICK", "P/SLOW"]);

    let out = woi(&["status", "--status", "ABENDED,completed"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().last().is_some_and(|l| l.starts_with("server time ")), "{text}");
    assert!(text.contains("P/REAL") && !text.contains("P/SLOW") && !text.contains("P/QUICK"), "{text}");

    let out = woi(&["status", "--status", "Initializing"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a jobnet status"));
}

// Issue 4 (graceful shutdown on SIGTERM/Ctrl-C) for `woi run`: the run is
// interrupted, its executing job's process group is killed (no orphan), the
// command exits 3, and the job ends with 239 (XC-010).
#[test]
fn xc_010_sigterm_to_woi_run_kills_the_job_records_239_and_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("defs.toml"),
        "[[jobnet]]\nproject = \"G\"\nname = \"NAP\"\n[[jobnet.job]]\nnumber = 1\n\
         command = \"sh -c 'echo napping; echo $$ > job.pid; exec sleep 57'\"\n",
    )
    .expect("write defs");
    let child = Command::new(WOI)
        .args(["run", "G/NAP", "--defs", "defs.toml"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid_file = dir.path().join("job.pid");
    let deadline = Instant::now() + Duration::from_secs(20);
    let job_pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse::<i32>().ok()) {
            break pid;
        }
        assert!(Instant::now() < deadline, "the job never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let woi_pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(woi_pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("G/NAP is interrupted"), "{err}");
    // The job's process is gone (killed with its group, not orphaned).
    let deadline = Instant::now() + Duration::from_secs(20);
    while nix::sys::signal::kill(nix::unistd::Pid::from_raw(job_pid), None).is_ok() {
        let zombie = std::fs::read_to_string(format!("/proc/{job_pid}/stat")).is_ok_and(|s| s.contains(") Z "));
        if zombie {
            break;
        }
        assert!(Instant::now() < deadline, "the job process {job_pid} survived");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The stop recorded the interruption itself, with the job's output.
    let v = json(&woi(&["history", "G/NAP", "--json"], dir.path()));
    assert_eq!(v["runs"][0]["status"], "abended", "{v}");
    assert_eq!(v["runs"][0]["exit_code"], 239, "{v}");
    assert_eq!(v["jobs"][0]["exit_code"], 239, "{v}");
    assert!(v["jobs"][0]["output"].as_str().is_some_and(|o| o.starts_with("napping\n")), "{v}");
    // The next start has nothing left to recover.
    let out = woi(&["status"], dir.path());
    assert!(out.status.success());
}
