//! The `woi` binary as a black box: run it, read its output, and keep a
//! long-running `woi serve`/`woi run` as a [`Proc`] (killed when dropped);
//! poll `woi status`/`woi history` until a state is reached.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const WOI: &str = env!("CARGO_BIN_EXE_woi");

pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn woi(args: &[&str], cwd: &Path) -> Output {
    Command::new(WOI).args(args).current_dir(cwd).output().expect("run woi")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} / {}", text(&out.stdout), text(&out.stderr)))
}

/// A spawned `woi` process (serve, op …), killed (SIGKILL) on drop.
pub struct Proc {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    pub fn spawn(args: &[&str], cwd: &Path, tag: &str) -> Proc {
        let stdout = cwd.join(format!("{tag}.out"));
        let stderr = cwd.join(format!("{tag}.err"));
        let child = Command::new(WOI)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(File::create(&stdout).expect("stdout file")))
            .stderr(Stdio::from(File::create(&stderr).expect("stderr file")))
            .spawn()
            .expect("spawn woi");
        Proc { child, stdout, stderr }
    }

    pub fn out(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn err(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Wait until `pred` holds on (stdout, stderr).
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str, &str) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let (o, e) = (self.out(), self.err());
            if pred(&o, &e) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{o}\n{e}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (graceful stop), then wait for the exit status.
    pub fn term(&mut self) -> Option<i32> {
        let pid = i32::try_from(self.child.id()).expect("pid");
        let st = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill -TERM");
        assert!(st.success());
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s.code();
            }
            assert!(Instant::now() < deadline, "woi did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `woi status --json` of the data directory in `dir`.
pub fn status_list(dir: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&woi(&["status", "--json"], dir).stdout).unwrap_or_default();
    v.as_array().cloned().unwrap_or_default()
}

pub fn status_of(dir: &Path, key: &str) -> Option<String> {
    status_list(dir).iter().find(|j| j["key"] == key).and_then(|j| j["status"].as_str().map(String::from))
}

pub fn wait_status(dir: &Path, key: &str, want: &str) {
    let deadline = Instant::now() + DEADLINE;
    while status_of(dir, key).as_deref() != Some(want) {
        assert!(Instant::now() < deadline, "{key} never became {want}: {:?}", status_of(dir, key));
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn history(dir: &Path, key: &str) -> serde_json::Value {
    let out = woi(&["history", key, "--json"], dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    json(&out)
}

pub fn runs_of(dir: &Path, key: &str) -> Vec<serde_json::Value> {
    history(dir, key)["runs"].as_array().cloned().unwrap_or_default()
}
