//! A real `woi serve --listen 127.0.0.1:0` in a temporary data directory for
//! the CLI tests: definitions applied, an admin job-management user and a Web
//! API account with a secret made by `woi user` / `woi account`; tenant `t9`,
//! environment `envA`, public host `h`. The server is killed when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const WOI: &str = env!("CARGO_BIN_EXE_woi");
pub const ADMIN: &str = "admin1";
pub const ADMIN_PW: &str = "Aa#12345";

/// P1/J1 and P2/J3 start on EV1 alone; P1/J2 on EV2; P1/QUICK runs `true`,
/// P1/FAIL ends with 3.
pub const DEFS: &str = r#"
[[jobnet]]
project = "P1"
name = "J1"
comment = "J1"
start = { message_only = {} }
messages = { events = ["EV1"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P1"
name = "J2"
comment = "J2"
start = { message_only = {} }
messages = { events = ["EV2"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P2"
name = "J3"
comment = "J3"
start = { message_only = {} }
messages = { events = ["EV1"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "P1"
name = "QUICK"
comment = "Quick"
[[jobnet.job]]
number = 1
name = "ONLY"
command = "true"

[[jobnet]]
project = "P1"
name = "FAIL"
comment = "Fail"
[[jobnet.job]]
number = 1
command = "sh -c 'exit 3'"
"#;

/// A running server.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub client_id: String,
    pub secret: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `woi ARGS` in `cwd` with `stdin`, without any WOI_* variable of the caller.
pub fn woi_in(cwd: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(WOI);
    cmd.args(args).current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("WOI_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn woi");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("woi runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&o.stdout)))
}

/// A data directory with the definitions, the admin user and the account applied.
pub fn prepare(defs: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("defs.toml"), defs).expect("defs");
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", text(&o.stderr));
        o
    };
    ok(woi_in(d, &["apply", "defs.toml", "--data", "data"], None, &[]));
    ok(woi_in(d, &["user", "add", ADMIN, "--admin", "--data", "data"], Some(&format!("{ADMIN_PW}\n")), &[]));
    ok(woi_in(d, &["account", "create", "batch01", "--data", "data"], None, &[]));
    let s = json(&ok(woi_in(d, &["account", "secret", "batch01", "1", "--json", "--data", "data"], None, &[])));
    let id = s["clientId"].as_str().expect("clientId").to_string();
    let secret = s["secret"].as_str().expect("secret").to_string();
    (dir, id, secret)
}

/// Start `woi serve --listen 127.0.0.1:0` over a prepared data directory.
pub fn start(defs: &str) -> Server {
    let (dir, client_id, secret) = prepare(defs);
    let mut child = Command::new(WOI)
        .args(["serve", "--data", "data", "--listen", "127.0.0.1:0", "--tenant", "t9", "--environment", "envA"])
        .args(["--public-host", "h"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn woi serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    // Keep draining standard error so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("woi serve printed no Web API address"));
        if let Some(rest) = line.split_once("Web API on http://").map(|(_, r)| r) {
            let addr = rest.split('/').next().expect("address");
            break format!("http://{addr}");
        }
    };
    Server { dir, url, client_id, secret, child }
}

impl Server {
    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The environment of a remote call as the admin.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WOI_SERVER", self.url.clone()),
            ("WOI_CLIENT_ID", self.client_id.clone()),
            ("WOI_CLIENT_SECRET", self.secret.clone()),
            ("WOI_USER", ADMIN.to_string()),
            ("WOI_PASSWORD", ADMIN_PW.to_string()),
            ("WOI_TENANT", "t9".to_string()),
            ("WOI_ENVIRONMENT", "envA".to_string()),
            ("WOI_PUBLIC_HOST", "h".to_string()),
        ]
    }

    /// `woi ARGS` against this server (credentials in the environment), with overrides.
    pub fn woi_with(&self, args: &[&str], overrides: &[(&str, &str)]) -> Output {
        let mut env: Vec<(&str, String)> = self.env();
        for (k, v) in overrides {
            env.retain(|(e, _)| e != k);
            env.push((k, v.to_string()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        woi_in(self.dir.path(), args, None, &env)
    }

    pub fn woi(&self, args: &[&str]) -> Output {
        self.woi_with(args, &[])
    }

    /// `woi ARGS --data data` on the server's data directory, no server.
    pub fn local(&self, args: &[&str]) -> Output {
        let mut a = args.to_vec();
        a.extend(["--data", "data"]);
        woi_in(self.dir.path(), &a, None, &[])
    }

    /// Wait (at most 30 s) until the local history (`woi history --json`) satisfies `pred`.
    pub fn wait_history(&self, what: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let o = self.local(&["history", "--json", "--limit", "100"]);
            if o.status.success() {
                let v = json(&o);
                if pred(&v) {
                    return v;
                }
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `(jobnet, run)` of every run in a `history --json` document.
pub fn runs(v: &serde_json::Value) -> Vec<(String, u64)> {
    v["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["jobnet"].as_str().unwrap_or("").to_string(), r["run"].as_u64().unwrap_or(0)))
        .collect()
}
