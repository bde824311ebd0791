//! QA black-box checks of REST execution jobs and cloud adapters (spec 03)
//! through the real `woi` binary: `woi auth set|list|show|delete`, and jobs of
//! kind `rest`, `informatica`, `snowflake`, `sap_cloud` run by `woi run P/N`,
//! their output read back with `woi history P/N --json`.
//!
//! Every HTTP target is a local mock server (a `TcpListener` thread in this
//! file) that records each request. No timing assertions: waits are the
//! minimum the connection info allows (1 s).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

const WOI: &str = env!("CARGO_BIN_EXE_woi");

// ---------------------------------------------------------------------------
// Mock HTTP server
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: Option<String>,
    body: String,
    headers: Vec<(String, String)>,
    delay_ms: u64,
}

fn json_reply(status: u16, body: &str) -> Reply {
    Reply { status, content_type: Some("application/json".into()), body: body.into(), headers: vec![], delay_ms: 0 }
}

fn ok(body: &str) -> Reply {
    json_reply(200, body)
}

fn typed(status: u16, ct: &str, body: &str) -> Reply {
    Reply { status, content_type: Some(ct.into()), body: body.into(), headers: vec![], delay_ms: 0 }
}

#[derive(Clone, Debug)]
struct Req {
    method: String,
    path: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Mock {
    port: u16,
    log: Arc<Mutex<Vec<Req>>>,
}

impl Mock {
    /// Routes: exact path (without query) → replies served in order, the last
    /// one repeated. Path `*` is the fallback; anything else gets 404.
    fn start(routes: Vec<(&str, Vec<Reply>)>) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mock");
        let port = listener.local_addr().expect("addr").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<HashMap<String, Vec<Reply>>> =
            Arc::new(routes.into_iter().map(|(p, r)| (p.to_owned(), r)).collect());
        let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (routes, counts, log) = (routes.clone(), counts.clone(), log2.clone());
                std::thread::spawn(move || serve(stream, &routes, &counts, &log));
            }
        });
        Mock { port, log }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn reqs(&self, path: &str) -> Vec<Req> {
        self.log.lock().expect("log").iter().filter(|r| r.path == path).cloned().collect()
    }

    fn all(&self) -> Vec<Req> {
        self.log.lock().expect("log").clone()
    }
}

fn serve(
    mut stream: TcpStream,
    routes: &HashMap<String, Vec<Reply>>,
    counts: &Mutex<HashMap<String, usize>>,
    log: &Mutex<Vec<Req>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default().to_owned();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())))
        .collect();
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let path = target.split('?').next().unwrap_or_default().to_owned();
    log.lock().expect("log").push(Req {
        method,
        path: path.clone(),
        target: target.clone(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let key = if routes.contains_key(&path) { path.clone() } else { "*".to_owned() };
    let reply = match routes.get(&key) {
        Some(seq) if !seq.is_empty() => {
            let mut c = counts.lock().expect("counts");
            let i = c.entry(key).or_insert(0);
            let r = seq[(*i).min(seq.len() - 1)].clone();
            *i += 1;
            r
        }
        _ => Reply { status: 404, content_type: None, body: String::new(), headers: vec![], delay_ms: 0 },
    };
    if reply.delay_ms > 0 {
        std::thread::sleep(Duration::from_millis(reply.delay_ms));
    }
    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
    if let Some(ct) = &reply.content_type {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", reply.body.len()));
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
    let _ = stream.flush();
}

// ---------------------------------------------------------------------------
// woi helpers
// ---------------------------------------------------------------------------

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn woi(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(WOI);
    cmd.args(args).env_remove("WOI_SECRET_KEY");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn woi");
    if let Some(t) = stdin {
        child.stdin.take().expect("stdin").write_all(t.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("woi runs")
}

fn auth(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let d = data.to_str().expect("utf-8");
    let mut all = vec!["auth"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data", d]);
    woi(&all, stdin)
}

fn auth_set(data: &Path, json: &str) -> Output {
    auth(data, &["set", "-"], Some(json))
}

/// One `[[jobnet.job]]` table; `extra` holds further TOML lines.
fn job(n: u32, kind: &str, conn: &str, extra: &str) -> String {
    assert!(!conn.contains("'''"));
    format!("[[jobnet.job]]\nnumber = {n}\nkind = \"{kind}\"\nconnection_info = '''{conn}'''\n{extra}\n")
}

/// A TOML literal string line `key = '''value'''`.
fn lit(key: &str, value: &str) -> String {
    format!("{key} = '''{value}'''\n")
}

struct RunResult {
    run: Output,
    jobs: HashMap<u64, (i64, String)>,
}

impl RunResult {
    fn code(&self, n: u64) -> i64 {
        self.jobs.get(&n).unwrap_or_else(|| panic!("job {n} not in history")).0
    }
    fn out(&self, n: u64) -> &str {
        &self.jobs.get(&n).unwrap_or_else(|| panic!("job {n} not in history")).1
    }
    fn lines(&self, n: u64) -> Vec<&str> {
        self.out(n).lines().collect()
    }
    fn has_line(&self, n: u64, line: &str) -> bool {
        self.lines(n).contains(&line)
    }
}

/// Writes the definitions, runs `woi run QAR/<jobnet>` on `data`, reads the
/// jobs of that run from `woi history --json`.
fn run(dir: &Path, data: &Path, jobnet: &str, vars: &str, jobs: &[String]) -> RunResult {
    let defs = format!(
        "[variables]\n{vars}\n[[jobnet]]\nproject = \"QAR\"\nname = \"{jobnet}\"\nstart = \"none\"\n\n{}",
        jobs.join("\n")
    );
    let file = dir.join(format!("{jobnet}.toml"));
    std::fs::write(&file, defs).expect("write defs");
    let key = format!("QAR/{jobnet}");
    let d = data.to_str().expect("utf-8");
    let run = woi(&["run", &key, "--defs", file.to_str().expect("utf-8"), "--data", d], None);
    let h = woi(&["history", &key, "--data", d, "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&h.stdout)
        .unwrap_or_else(|e| panic!("history not JSON ({e}): {} / run: {}", text(&h.stdout), text(&run.stderr)));
    let mut map = HashMap::new();
    for j in v["jobs"].as_array().expect("jobs") {
        map.insert(
            j["job"].as_u64().expect("job"),
            (j["exit_code"].as_i64().unwrap_or(-1), j["output"].as_str().unwrap_or_default().to_owned()),
        );
    }
    RunResult { run, jobs: map }
}

fn tmp() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    (dir, data)
}

const MSG_0615: &str = "MpJobsch: ERROR: 0615: The specified key is not found in the response result. ParamName=";

// ---------------------------------------------------------------------------
// Authentication-info registry (woi auth)
// ---------------------------------------------------------------------------

fn refusal(name: &str, detail: &str) -> String {
    format!(
        "Error: Failed to create integration-adapter auth info ({name}). (details: Authentication information: {detail})\n"
    )
}

fn wrong(name: &str, param: &str) -> String {
    refusal(
        name,
        &format!("A parameter of the authentication-information control statement is wrong name={name} param={param}"),
    )
}

fn required(name: &str, param: &str) -> String {
    refusal(
        name,
        &format!(
            "A required parameter is not specified in the authentication-information control statement name={name} param={param}"
        ),
    )
}

fn not_allowed(name: &str, param: &str) -> String {
    refusal(
        name,
        &format!(
            "A parameter that cannot be specified is written in the authentication-information control statement name={name} param={param}"
        ),
    )
}

fn listed(data: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    let o = auth(data, &args, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("list json");
    v["items"].as_array().expect("items").iter().map(|i| i["name"].as_str().expect("name").to_owned()).collect()
}

fn assert_refused(data: &Path, input: &str, expected: &str) {
    let o = auth_set(data, input);
    assert_eq!(o.status.code(), Some(1), "input {input}: {}", text(&o.stdout));
    assert_eq!(text(&o.stderr), expected, "input {input}");
}

#[test]
fn qa_rest_auth_007_008_name_and_auth_type_rules() {
    let (_d, data) = tmp();
    assert_refused(&data, r#"{"name":"-lead","authType":"others"}"#, &wrong("-lead", "name"));
    assert_refused(&data, r#"{"name":"dot.ted","authType":"others"}"#, &wrong("dot.ted", "name"));
    let long = "n".repeat(65);
    assert_refused(&data, &format!(r#"{{"name":"{long}","authType":"others"}}"#), &wrong(&long, "name"));
    assert_refused(&data, r#"{"name":"cap","authType":"BEARER","token":"t"}"#, &wrong("cap", "authType"));
    assert_refused(&data, r#"{"name":"cap","authType":"saml"}"#, &wrong("cap", "authType"));
    assert!(listed(&data, &[]).is_empty());
    let ok64 = format!("Z9_-{}", "k".repeat(60));
    let o = auth_set(&data, &format!(r#"{{"name":"{ok64}","authType":"others"}}"#));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), format!("registered: {ok64}\n"));
}

#[test]
fn qa_rest_auth_009_010_011_023_type_specific_keys() {
    let (_d, data) = tmp();
    assert_refused(
        &data,
        r#"{"name":"ent","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"http://t.invalid/tok","resource":"r","scope":"s/.default"}"#,
        &not_allowed("ent", "scope"),
    );
    assert_refused(
        &data,
        r#"{"name":"ent","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"http://t.invalid/tok"}"#,
        &required("ent", "resource/scope"),
    );
    assert_refused(
        &data,
        r#"{"name":"sapx","authType":"scs","clientId":"c","clientSecret":"s","endpoint":"http://t.invalid/o","region":"eu"}"#,
        &not_allowed("sapx", "region"),
    );
    assert_refused(
        &data,
        r#"{"name":"sapx","authType":"scs","clientSecret":"s","endpoint":"http://t.invalid/o"}"#,
        &required("sapx", "clientId"),
    );
    // AUTH-023: an `others` entry with only name and authType; scs with memo.
    let o = auth_set(
        &data,
        r#"[{"name":"bare-oth","authType":"others"},{"name":"sapy","authType":"scs","clientId":"c","clientSecret":"s","endpoint":"http://t.invalid/o","memo":"note"}]"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(listed(&data, &[]), vec!["bare-oth", "sapy"]);
}

#[test]
fn qa_rest_auth_012_013_015_arbitrary_keys_and_byte_limits() {
    let (_d, data) = tmp();
    assert_refused(&data, r#"{"name":"bk","authType":"bearer","token":"t","-hdr":"v"}"#, &wrong("bk", "-hdr"));
    // 1025 bytes made of 2-byte characters (513 × "é" = 1026 bytes, 512 = 1024).
    let over = "é".repeat(513);
    let at = "é".repeat(512);
    assert_refused(
        &data,
        &format!(r#"{{"name":"bk","authType":"bearer","token":"t","apiKey":"{over}"}}"#),
        &wrong("bk", "apiKey"),
    );
    assert_refused(
        &data,
        &format!(r#"{{"name":"bk","authType":"bearer","token":"t","memo":"{}"}}"#, "m".repeat(1025)),
        &wrong("bk", "memo"),
    );
    assert_refused(
        &data,
        &format!(r#"{{"name":"bk","authType":"basic","basicUser":"u","basicPasswd":"{over}"}}"#),
        &wrong("bk", "basicPasswd"),
    );
    assert_refused(
        &data,
        r#"{"name":"bk","authType":"basic","basicUser":"u","basicPasswd":7}"#,
        &wrong("bk", "basicPasswd"),
    );
    assert_refused(&data, r#"{"name":"bk","authType":"bearer","token":"t","memo":true}"#, &wrong("bk", "memo"));
    let o = auth_set(
        &data,
        &format!(
            r#"{{"name":"bk","authType":"basic","basicUser":"u","basicPasswd":"{at}","apiKey":"{at}","memo":"{}"}}"#,
            "m".repeat(1024)
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn qa_rest_auth_014_024_sigv4_entry_rules() {
    let (_d, data) = tmp();
    let base =
        r#""name":"sg","authType":"awssigv4","accKey":"AKQ","secKey":"sk","service":"batch","region":"eu-north-1""#;
    assert_refused(&data, &format!(r#"{{{base}}}"#), &required("sg", "endpoint"));
    let ep = r#""endpoint":"batch.eu-north-1.amazonaws.com""#;
    assert_refused(&data, &format!(r#"{{{base},{ep},"sigv4Header":["X-A"]}}"#), &wrong("sg", "sigv4Header"));
    assert_refused(
        &data,
        &format!(r#"{{{base},{ep},"sigv4Header":{{"X-Amz-Target":false}}}}"#),
        &wrong("sg", "sigv4Header"),
    );
    assert_refused(
        &data,
        &format!(r#"{{{base},{ep},"sigv4Header":{{"X-Amz-Date":"x"}}}}"#),
        &wrong("sg", "sigv4Header"),
    );
    let o = auth_set(&data, &format!(r#"{{{base},{ep},"sigv4Header":{{"X-Amz-Target":"Q.R"}}}}"#));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn qa_rest_auth_004_005_016_017_form_format_atomicity_duplicates() {
    let (_d, data) = tmp();
    let fmt = refusal("", "The format of the authentication-information control statement is invalid");
    assert_refused(&data, "[true]", &fmt);
    assert_refused(&data, "42", &fmt);
    assert_refused(&data, "name=x", &fmt);
    // AUTH-016: the second entry is wrong → nothing stored.
    let o = auth_set(
        &data,
        r#"[{"name":"first-ok","authType":"bearer","token":"t"},{"name":"second","authType":"basic","basicUser":"u"}]"#,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stderr), required("second", "basicPasswd"));
    assert!(listed(&data, &[]).is_empty());
    // AUTH-017: duplicate names, the later wins.
    let o = auth_set(
        &data,
        r#"[{"name":"twice","authType":"bearer","token":"t"},{"name":"twice","authType":"others","x":"y"}]"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = auth(&data, &["show", "twice"], None);
    assert_eq!(text(&o.stdout), "name: twice\nauthType: others\nx: ***\n");
    // AUTH-004: exactly 10240 characters accepted, 10241 refused by the form check.
    // Arbitrary keys of 1000 bytes each, the last one sized to reach the limit.
    let keys: String = (0..10).map(|i| format!(r#","k{i}":"{}""#, "v".repeat(1000))).collect();
    let shell = format!(r#"{{"name":"big","authType":"others"{keys},"pad":""}}"#);
    let fill = 10240 - shell.chars().count();
    let exact = format!(r#"{{"name":"big","authType":"others"{keys},"pad":"{}"}}"#, "p".repeat(fill));
    assert_eq!(exact.chars().count(), 10240);
    let o = auth_set(&data, &exact);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let over = format!(r#"{{"name":"big2","authType":"others"{keys},"pad":"{}"}}"#, "p".repeat(fill + 1));
    let o = auth_set(&data, &over);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("The form could not be submitted for the following reason(s):"),
        "{}",
        text(&o.stderr)
    );
    // The form check answers before anything is sent: not wrapped in a "Failed to create" line.
    assert!(!text(&o.stderr).contains("Failed to create"), "{}", text(&o.stderr));
    assert_eq!(listed(&data, &[]), vec!["big", "twice"]);
}

#[test]
fn qa_rest_auth_018_019_list_sort_and_search() {
    let (_d, data) = tmp();
    let o = auth_set(
        &data,
        r#"[{"name":"west-az","authType":"bearer","token":"t"},{"name":"Core-aws","authType":"others"},
            {"name":"west-aws","authType":"basic","basicUser":"u","basicPasswd":"p"},{"name":"beta","authType":"others"}]"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(listed(&data, &[]), vec!["beta", "Core-aws", "west-aws", "west-az"]);
    assert_eq!(listed(&data, &["--desc"]), vec!["west-az", "west-aws", "Core-aws", "beta"]);
    assert_eq!(listed(&data, &["--sort", "type"]), vec!["west-aws", "west-az", "beta", "Core-aws"]);
    assert_eq!(listed(&data, &["--search", "west*"]), vec!["west-aws", "west-az"]);
    assert_eq!(listed(&data, &["--search", "*aws"]), vec!["Core-aws", "west-aws"]);
    assert_eq!(listed(&data, &["--search", "*-a*"]), vec!["Core-aws", "west-aws", "west-az"]);
    assert!(listed(&data, &["--search", "aws"]).is_empty());
    assert_eq!(listed(&data, &["--search", "CORE-AWS"]), vec!["Core-aws"]);
}

#[test]
fn qa_rest_auth_002_020_show_masks_secrets_and_set_replaces() {
    let (_d, data) = tmp();
    let o = auth_set(
        &data,
        r#"[{"name":"ent2","authType":"azuread","clientId":"cid-visible","clientSecret":"SECRET-AZ-1","endpoint":"http://t.invalid/tok","resource":"https://r.invalid/"},
            {"name":"sig2","authType":"awssigv4","accKey":"AKVISIBLE","secKey":"SECRET-SK-2","service":"rds","region":"us-west-2","endpoint":"rds.us-west-2.amazonaws.com","tag":"SECRET-TAG-3"},
            {"name":"ssc","authType":"scs","clientId":"c2","clientSecret":"SECRET-SCS-4","endpoint":"http://t.invalid/o","memo":"memo shown"}]"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = auth(&data, &["show", "ent2", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("show json");
    assert_eq!(v["clientId"], "cid-visible");
    assert_eq!(v["clientSecret"], "***");
    assert_eq!(v["resource"], "https://r.invalid/");
    let o = auth(&data, &["show", "sig2"], None);
    let shown = text(&o.stdout);
    assert!(
        shown.contains("accKey: AKVISIBLE\n") && shown.contains("secKey: ***\n") && shown.contains("tag: ***\n"),
        "{shown}"
    );
    let o = auth(&data, &["show", "ssc"], None);
    assert_eq!(
        text(&o.stdout),
        "name: ssc\nauthType: scs\nclientId: c2\nclientSecret: ***\nendpoint: http://t.invalid/o\nmemo: memo shown\n"
    );
    // Secrets are encrypted at rest.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&data).expect("data dir") {
        let p = entry.expect("entry").path();
        if p.is_file() {
            stored.extend(std::fs::read(&p).expect("read"));
        }
    }
    let raw = String::from_utf8_lossy(&stored);
    assert!(!raw.contains("SECRET-"), "a secret is stored in clear");
    // AUTH-002: replacing with another type drops every old key.
    let o = auth_set(&data, r#"{"name":"sig2","authType":"bearer","token":"tk"}"#);
    assert_eq!(o.status.code(), Some(0));
    let o = auth(&data, &["show", "sig2"], None);
    assert_eq!(text(&o.stdout), "name: sig2\nauthType: bearer\ntoken: ***\n");
    let o = auth(&data, &["show", "nobody"], None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "Error: Failed to get integration-adapter auth info (nobody). (details: The target does not exist. Check the latest state.)\n"
    );
}

#[test]
fn qa_rest_auth_022_deleted_entry_fails_with_0616() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![("*", vec![ok("{}")])]);
    let o = auth_set(&data, r#"{"name":"gone-soon","authType":"bearer","token":"t"}"#);
    assert_eq!(o.status.code(), Some(0));
    let o = auth(&data, &["delete", "gone-soon"], None);
    assert_eq!(text(&o.stdout), "deleted: gone-soon\n");
    let conn = format!(r#"{{"request":{{"url":"{}/del","method":"GET","authName":"gone-soon"}}}}"#, mock.base());
    let r = run(dir.path(), &data, "DEL", "", &[job(1, "rest", &conn, "")]);
    assert_eq!(r.run.status.code(), Some(3));
    assert_eq!(r.code(1), 10);
    assert_eq!(
        r.out(1),
        "MpJobsch: ERROR: 0616: Failed to obtain the authentication information. AuthName=gone-soon\n"
    );
    assert!(mock.all().is_empty(), "no HTTP call expected");
}

// ---------------------------------------------------------------------------
// Connection-info validation
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_conn_001_002_003_021_022_json_syntax_errors() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![("*", vec![ok(r#"{"st":"E","JID":"x"}"#)])]);
    let b = mock.base();
    let multi = "{\n  \"request\": {\"url\": \"http://h.invalid/a\",\n    \"method\": 'GET'}\n}";
    let single = format!(r#"{{"request": {{"url": "{b}/c1", "method": "PUT",}}}}"#);
    let char_at = single.find(",}").expect("comma") + 1;
    let mon = format!(
        r#""monitoring":{{"url":"{b}/m","method":"POST","pollingEndKey":"st","pollingEndVal":["E"],"checkResultKey":"st","checkResultVal":["E"]}}"#
    );
    let term = format!(r#""termination":{{"url":"{b}/t","method":"POST"}}"#);
    let req = format!(r#""request":{{"url":"{b}/r","method":"POST","takeoverKeys":{{"JID":"JID"}}}}"#);
    let jobs = vec![
        job(1, "rest", multi, ""),
        job(2, "rest", &single, ""),
        job(3, "rest", &format!("{{{req},{mon}}}"), &lit("body_monitoring", r#"{"ids": [}"#)),
        job(4, "rest", &format!("{{{req}}}"), &lit("body_execution", "[1, 2")),
        job(5, "rest", &format!("{{{req},{term}}}"), &lit("body_termination", r#"{"why": "qa", "id": <JID>}"#)),
        // CONN-004: invalid termination body without a termination object is not parsed.
        job(
            6,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/ok6","method":"GET"}}}}"#),
            &lit("body_termination", "{{{"),
        ),
        // CONN-022: substitution precedes the JSON check.
        job(
            7,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/n7","method":"POST"}}}}"#),
            &lit("body_execution", r#"{"n": @NUMQ@}"#),
        ),
        job(
            8,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/n8","method":"POST"}}}}"#),
            &lit("body_execution", r#"{"n": @NOPEQ@}"#),
        ),
    ];
    let r = run(dir.path(), &data, "SYN", "NUMQ = \"58\"", &jobs);
    let p = |prop: &str, det: &str| {
        format!("MpJobsch: ERROR: 0632: JSON syntax error. Property=\"{prop}\" Details=\"{det}")
    };
    for n in [1, 2, 3, 4, 5, 8] {
        assert_eq!(r.code(n), 2, "job {n}: {}", r.out(n));
        assert_eq!(r.lines(n).len(), 1, "job {n}: {}", r.out(n));
    }
    assert!(r.out(1).starts_with(&p("Connection information", "")), "{}", r.out(1));
    assert!(r.out(1).ends_with(": line 3 column 15 (char 59)\"\n"), "{}", r.out(1));
    assert!(r.out(2).ends_with(&format!(": line 1 column {} (char {char_at})\"\n", char_at + 1)), "{}", r.out(2));
    assert!(r.out(3).starts_with(&p("HTTP Request Message Body (Monitoring)", "")), "{}", r.out(3));
    assert!(r.out(4).starts_with(&p("HTTP Request Message Body (Execution)", "")), "{}", r.out(4));
    assert!(r.out(4).ends_with(": line 1 column 6 (char 5)\"\n"), "{}", r.out(4));
    assert!(r.out(5).starts_with(&p("HTTP Request Message Body (Forced)", "")), "{}", r.out(5));
    assert!(r.out(5).ends_with(": line 1 column 21 (char 20)\"\n"), "{}", r.out(5));
    assert!(r.out(8).starts_with(&p("HTTP Request Message Body (Execution)", "")), "{}", r.out(8));
    assert_eq!(r.code(6), 0, "{}", r.out(6));
    assert_eq!(r.code(7), 0, "{}", r.out(7));
    assert_eq!(mock.reqs("/n7")[0].body, r#"{"n": 58}"#);
    // Only jobs 6 and 7 reached the server.
    let mut paths: Vec<String> = mock.all().into_iter().map(|q| q.path).collect();
    paths.sort();
    assert_eq!(paths, vec!["/n7", "/ok6"]);
}

#[test]
fn qa_rest_conn_005_to_019_parameter_errors() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![("*", vec![ok(r#"{"v":"1"}"#)])]);
    let b = mock.base();
    let u = format!("{b}/never");
    let m = |extra: &str| {
        format!(
            r#""monitoring":{{"url":"{u}","method":"GET",{extra}"pollingEndKey":"v","pollingEndVal":["1"],"checkResultKey":"v","checkResultVal":["1"]}}"#
        )
    };
    let r0 = |extra: &str| format!(r#""request":{{"url":"{u}","method":"GET"{extra}}}"#);
    let cases: Vec<(String, &str)> = vec![
        ("[{}]".into(), "0640"),
        (r#"{"monitoring":{"url":"http://h.invalid/","method":"GET"}}"#.into(), "0640"),
        (r#"{"request":["x"]}"#.into(), "0640"),
        (format!("{{{},\"monitoring\":\"m\"}}", r0("")), "0640"),
        (r###"{"request":{"url":"##url##","method":"##method##"}}"###.into(), "request.url"),
        (r#"{"request":{"url":"Https://h.invalid/x","method":"GET"}}"#.into(), "request.url"),
        (r#"{"request":{"url":"https://","method":"GET"}}"#.into(), "request.url"),
        (r#"{"request":{"method":"GET"}}"#.into(), "request.url"),
        (format!(r#"{{"request":{{"url":"{u}","method":"Post"}}}}"#), "request.method"),
        (format!(r#"{{"request":{{"url":"{u}","method":"HEAD"}}}}"#), "request.method"),
        (format!(r#"{{"request":{{"url":"{u}"}}}}"#), "request.method"),
        (format!("{{{}}}", r0(r#","timeout":-3"#)), "request.timeout"),
        (format!("{{{}}}", r0(r#","timeout":1900"#)), "request.timeout"),
        (format!("{{{}}}", r0(r#","timeout":"12""#)), "request.timeout"),
        (format!("{{{}}}", r0(r#","timeout":7.5"#)), "request.timeout"),
        (format!("{{{}}}", r0(r#","authName":5"#)), "request.authName"),
        (format!("{{{}}}", r0(r#","query":["a"]"#)), "request.query"),
        (format!("{{{}}}", r0(r#","takeoverKeys":{"RUN-ID":"id"}"#)), "request.takeoverKeys"),
        (format!("{{{}}}", r0(&format!(r#","takeoverKeys":{{"{}":"id"}}"#, "T".repeat(65)))), "request.takeoverKeys"),
        (format!("{{{}}}", r0(r#","jobnetValKeys":{"ChkResultHttpStatusCode":"v"}"#)), "request.jobnetValKeys"),
        (format!("{{{}}}", r0(&format!(r#","header":{{"X-Long":"{}"}}"#, "h".repeat(1025)))), "request.header"),
        (format!("{{{},{}}}", r0(""), m(r#""pollingInterval":0,"#)), "monitoring.pollingInterval"),
        (format!("{{{},{}}}", r0(""), m(r#""firstMonitorInterval":601,"#)), "monitoring.firstMonitorInterval"),
        (format!("{{{},{}}}", r0(""), m(r#""pollingCount":-2,"#)), "monitoring.pollingCount"),
        (format!("{{{},{}}}", r0(""), m(r#""pollingCount":"3","#)), "monitoring.pollingCount"),
        (
            format!(
                r#"{{{},"monitoring":{{"url":"{u}","method":"GET","pollingEndKey":"v","pollingEndVal":"1","checkResultKey":"v","checkResultVal":["1"]}}}}"#,
                r0("")
            ),
            "monitoring.pollingEndVal",
        ),
        (
            format!(
                r#"{{{},"monitoring":{{"url":"{u}","method":"GET","pollingEndKey":"v","pollingEndVal":["1"],"checkResultVal":["1"]}}}}"#,
                r0("")
            ),
            "monitoring.checkResultKey",
        ),
        (
            format!(
                r#"{{{},"monitoring":{{"url":"{u}","method":"GET","pollingEndKey":"v","pollingEndVal":["1"],"checkResultKey":"v"}}}}"#,
                r0("")
            ),
            "monitoring.checkResultVal",
        ),
        (
            format!(
                r#"{{{},"monitoring":{{"url":"{u}","method":"GET","pollingEndKey":"v","pollingEndVal":[1],"checkResultKey":"v","checkResultVal":["1"]}}}}"#,
                r0("")
            ),
            "monitoring.pollingEndVal",
        ),
        (format!("{{{},\"termination\":{{\"url\":\"{u}\"}}}}", r0("")), "termination.method"),
        (format!("{{{},\"termination\":{{\"method\":\"POST\"}}}}", r0("")), "termination.url"),
        // CONN-016: only the first failure (request before monitoring).
        (format!("{{{},{}}}", r0(r#","timeout":0"#), m(r#""pollingInterval":700,"#)), "request.timeout"),
        // Cross-object duplicate jobnetValKeys name → reported on monitoring.
        (
            format!(
                "{{{},{}}}",
                r0(r#","jobnetValKeys":{"Same":"v"}"#),
                m("").replace(r#""checkResultVal":["1"]"#, r#""checkResultVal":["1"],"jobnetValKeys":{"Same":"v"}"#)
            ),
            "monitoring.jobnetValKeys",
        ),
    ];
    let jobs: Vec<String> = cases.iter().enumerate().map(|(i, (c, _))| job(i as u32 + 1, "rest", c, "")).collect();
    let r = run(dir.path(), &data, "PARM", "", &jobs);
    assert_eq!(r.run.status.code(), Some(3));
    for (i, (_, expect)) in cases.iter().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(r.code(n), 2, "case {n}: {}", r.out(n));
        assert_eq!(r.lines(n).len(), 1, "case {n}: {}", r.out(n));
        if *expect == "0640" {
            assert_eq!(r.out(n), "MpJobsch: ERROR: 0640: The connection information format is invalid.\n", "case {n}");
        } else {
            let head = format!("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"{expect}\" Details=\"");
            assert!(r.out(n).starts_with(&head), "case {n}: expected {expect}, got {}", r.out(n));
        }
    }
    assert!(mock.all().is_empty(), "no request expected: {:?}", mock.all());
}

#[test]
fn qa_rest_conn_008_014_017_boundaries_accepted_and_unknown_keys_ignored() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![("*", vec![ok(r#"{"v":"1"}"#)])]);
    let b = mock.base();
    let prefix = format!("{b}/L");
    let url_2083 = format!("{prefix}{}", "u".repeat(2083 - prefix.len()));
    let url_2084 = format!("{url_2083}u");
    let jobs = vec![
        job(1, "rest", &format!(r#"{{"request":{{"url":"{url_2083}","method":"GET"}}}}"#), ""),
        job(2, "rest", &format!(r#"{{"request":{{"url":"{url_2084}","method":"GET"}}}}"#), ""),
        job(3, "rest", &format!(r#"{{"request":{{"url":"{b}/t1","method":"DELETE","timeout":1}}}}"#), ""),
        job(4, "rest", &format!(r#"{{"request":{{"url":"{b}/t1800","method":"PUT","timeout":1800}}}}"#), ""),
        job(
            5,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/unk","method":"GET","resBody":"/tmp/out.json","proxyAuthName":"p"}},"remark":"qa"}}"#
            ),
            "",
        ),
    ];
    let r = run(dir.path(), &data, "BND", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    assert_eq!(r.code(2), 2);
    assert!(
        r.out(2).starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"request.url\""),
        "{}",
        r.out(2)
    );
    for n in [3, 4, 5] {
        assert_eq!(r.code(n), 0, "job {n}: {}", r.out(n));
    }
    assert_eq!(mock.reqs("/t1800")[0].method, "PUT");
    assert_eq!(mock.reqs("/t1")[0].method, "DELETE");
    assert_eq!(mock.reqs("/unk").len(), 1);
    assert_eq!(mock.all().len(), 4);
}

#[test]
fn qa_rest_conn_018_020_auth_type_per_kind_and_validate_accepts_bad_json() {
    let (dir, data) = tmp();
    let o = auth_set(
        &data,
        r#"[{"name":"only-scs","authType":"scs","clientId":"c","clientSecret":"s","endpoint":"http://t.invalid/o"},
            {"name":"a-bear","authType":"bearer","token":"t"},
            {"name":"a-basic","authType":"basic","basicUser":"u","basicPasswd":"p"}]"#,
    );
    assert_eq!(o.status.code(), Some(0));
    let mock = Mock::start(vec![("*", vec![ok("{}")])]);
    let b = mock.base();
    let c = |a: &str| format!(r#"{{"request":{{"url":"{b}/k","method":"POST","authName":"{a}"}}}}"#);
    let sap = format!(r#"{{"url":"{b}/sap","jobId":"9","authName":"a-bear"}}"#);
    let jobs = vec![
        job(1, "rest", &c("only-scs"), ""),
        job(2, "informatica", &c("a-bear"), ""),
        job(3, "snowflake", &c("a-basic").replace(r#""authName""#, r#""header":{"A":"b"},"authName""#), ""),
        job(4, "sap_cloud", &sap, ""),
    ];
    let r = run(dir.path(), &data, "KIND", "", &jobs);
    for (n, field) in [(1, "request.authName"), (2, "request.authName"), (3, "request.authName"), (4, "authName")] {
        assert_eq!(r.code(n), 2, "job {n}: {}", r.out(n));
        let head = format!("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"{field}\"");
        assert!(r.out(n).starts_with(&head), "job {n}: {}", r.out(n));
    }
    assert!(mock.all().is_empty());

    // CONN-020: saving invalid connection info is accepted.
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[jobnet]]\nproject = \"QAR\"\nname = \"SAVE\"\nstart = \"none\"\n[[jobnet.job]]\nnumber = 1\nkind = \"rest\"\nconnection_info = '<<not json>>'\nbody_execution = '{,'\n",
    )
    .expect("write");
    let o = woi(&["validate", file.to_str().expect("utf-8")], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
}

// ---------------------------------------------------------------------------
// Request building and substitution
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_flow_021_022_sub_001_005_010_request_construction() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![("*", vec![json_reply(201, r#"{"done":"yes"}"#)])]);
    let vars = format!("QHOST = \"127.0.0.1:{}\"\nREGN = \"north\"\nSEG = \"v2\"", mock.port);
    let conn = r#"{"request":{"url":"http://@QHOST@/api/@SEG@/launch?fixed=0","method":"POST",
        "query":{"zeta":"last one","alpha":"@REGN@","@REGN@":"n","mark":"@UNDEF@","sym":"a&b=c/d"},
        "header":{"X-Region":"@REGN@","X-Undef":"@UNDEF@"}}}"#;
    let body = "{\"region\": \"@REGN@\",\n  \"keep\": \"@UNDEF@\", \"t\": \"<TK>\"}";
    let conn2 = r#"{"request":{"url":"http://@QHOST@/typed","method":"PUT","header":{"content-type":"text/x-qa"}}}"#;
    let conn3 = r#"{"request":{"url":"http://@QHOST@/blank","method":"POST"}}"#;
    let jobs = vec![
        job(1, "rest", conn, &lit("body_execution", body)),
        job(2, "rest", conn2, &lit("body_execution", r#"{"x":1}"#)),
        job(3, "rest", conn3, &lit("body_execution", "  \n ")),
        // SUB-010: a header name is not substituted; `@` is not legal in a name → 0612.
        job(4, "rest", r#"{"request":{"url":"http://@QHOST@/hname","method":"GET","header":{"@SEG@":"raw"}}}"#, ""),
    ];
    let r = run(dir.path(), &data, "BUILD", &vars, &jobs);
    for n in [1, 2, 3] {
        assert_eq!(r.code(n), 0, "job {n}: {}", r.out(n));
    }
    assert_eq!(r.code(4), 4);
    assert_eq!(r.out(4), "MpJobsch: ERROR: 0612: An issue occurred with the HTTP request. RequestType=request\n");
    assert!(mock.reqs("/hname").is_empty());
    let q = &mock.reqs("/api/v2/launch")[0];
    assert_eq!(q.method, "POST");
    assert_eq!(
        q.target,
        "/api/v2/launch?fixed=0&zeta=last%20one&alpha=north&%40REGN%40=n&mark=%40UNDEF%40&sym=a%26b%3Dc%2Fd"
    );
    assert_eq!(q.header("x-region"), Some("north"));
    assert_eq!(q.header("x-undef"), Some("@UNDEF@"));
    assert_eq!(q.header("content-type"), Some("application/json"));
    assert_eq!(q.body, "{\"region\": \"north\",\n  \"keep\": \"@UNDEF@\", \"t\": \"<TK>\"}");
    let t = &mock.reqs("/typed")[0];
    assert_eq!(t.header("content-type"), Some("text/x-qa"));
    assert_eq!(t.headers.iter().filter(|(k, _)| k == "content-type").count(), 1);
    let e = &mock.reqs("/blank")[0];
    assert_eq!(e.body, "");
    assert_eq!(e.header("content-type"), None);
    assert!(r.has_line(1, "HttpStatusCode=201"), "{}", r.out(1));
}

#[test]
fn qa_rest_sub_002_003_004_auth_keys_before_job_variables() {
    let (dir, data) = tmp();
    let o =
        auth_set(&data, r#"{"name":"oth-keys","authType":"others","region":"AUTH-R","combo":"@STAGE@-x","pw":"P#9"}"#);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mock = Mock::start(vec![("*", vec![ok("{}")])]);
    let vars = "region = \"JOBDEF-R\"\nSTAGE = \"qa\"\nINDIRECT = \"@pw@\"";
    let conn = format!(
        r#"{{"request":{{"url":"{}/keys/@region@","method":"POST","authName":"oth-keys",
        "query":{{"r":"@region@"}},"header":{{"X-Combo":"@combo@","X-Ind":"@INDIRECT@"}}}}}}"#,
        mock.base()
    );
    let r = run(dir.path(), &data, "SUBA", vars, &[job(1, "rest", &conn, &lit("body_execution", r#"{"pw":"@pw@"}"#))]);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    let all = mock.all();
    assert_eq!(all.len(), 1);
    let q = &all[0];
    // URL: auth keys are not substituted there, job-definition variables are.
    assert_eq!(q.target, "/keys/JOBDEF-R?r=AUTH-R");
    assert_eq!(q.header("x-combo"), Some("qa-x"));
    assert_eq!(q.header("x-ind"), Some("@pw@"));
    assert_eq!(q.header("authorization"), None);
    assert_eq!(q.body, r#"{"pw":"P#9"}"#);
}

#[test]
fn qa_rest_sub_006_007_008_009_011_takeover_substitution() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/start", vec![ok(r#"{"exec":{"id":"ex-31"},"odd":"@ZONE@"}"#)]),
        (
            "/runs/ex-31",
            vec![ok(r#"{"items":[{"id":"ex-0","state":"FAIL"},{"id":"ex-31","state":"OVER","res":"fine"}]}"#)],
        ),
        ("*", vec![ok(r#"{"items":[{"id":"@ZONE@","state":"OVER","res":"fine"}]}"#)]),
    ]);
    let b = mock.base();
    let conn = format!(
        r#"{{"request":{{"url":"{b}/start","method":"POST","takeoverKeys":{{"EXID":"exec.id"}}}},
        "monitoring":{{"url":"{b}/runs/<EXID>","method":"POST","firstMonitorInterval":1,"query":{{"q":"<EXID>"}},
          "pollingEndKey":"items.[?\"id\"==\"<EXID>\"].state","pollingEndVal":["OVER"],
          "checkResultKey":"items.[?\"id\"==\"<EXID>\"].res","checkResultVal":["fine"]}}}}"#
    );
    let body = r#"{"id":"<EXID>","other":"<NOTDEF>","ind":"@VIA@","z":"@ZONE@"}"#;
    let conn2 = format!(
        r#"{{"request":{{"url":"{b}/start","method":"POST","takeoverKeys":{{"ODD":"odd"}}}},
        "monitoring":{{"url":"{b}/by/<ODD>","method":"GET","firstMonitorInterval":1,
          "pollingEndKey":"items.[0].state","pollingEndVal":["OVER"],"checkResultKey":"items.[0].res","checkResultVal":["fine"]}}}}"#
    );
    let vars = "VIA = \"<EXID>\"\nZONE = \"jp\"";
    let jobs = vec![
        job(1, "rest", &conn, &(lit("body_monitoring", body) + &lit("body_execution", r#"{"pre":"<EXID>"}"#))),
        job(2, "rest", &conn2, ""),
    ];
    let r = run(dir.path(), &data, "TAKE", vars, &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    let m = mock.reqs("/runs/ex-31");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].target, "/runs/ex-31?q=%3CEXID%3E");
    assert_eq!(m[0].body, r#"{"id":"ex-31","other":"<NOTDEF>","ind":"ex-31","z":"jp"}"#);
    let starts = mock.reqs("/start");
    assert!(starts.iter().any(|s| s.body == r#"{"pre":"<EXID>"}"#), "{starts:?}");
    // SUB-009: a takeover value containing @ZONE@ is not substituted again.
    assert_eq!(r.code(2), 0, "{}", r.out(2));
    assert_eq!(mock.reqs("/by/@ZONE@").len(), 1, "{:?}", mock.all());
}

// ---------------------------------------------------------------------------
// Execution and monitoring flow
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_flow_001_002_003_004_006_023_execution_outcomes() {
    let (dir, data) = tmp();
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mock = Mock::start(vec![
        ("/fail", vec![json_reply(507, r#"{"why":"full"}"#), ok("{}")]),
        ("/acc", vec![json_reply(202, r#"{"queued":true}"#)]),
        ("/moved", vec![Reply { headers: vec![("Location".into(), "/acc".into())], ..json_reply(307, "{}") }]),
        ("*", vec![ok(r#"{"fine":1}"#)]),
    ]);
    let b = mock.base();
    let mon = format!(
        r#","monitoring":{{"url":"{b}/never","method":"GET","firstMonitorInterval":1,"pollingEndKey":"a","pollingEndVal":["b"],"checkResultKey":"a","checkResultVal":["b"]}}"#
    );
    let jobs = vec![
        job(1, "rest", &format!(r#"{{"request":{{"url":"{b}/fail","method":"POST"}}{mon}}}"#), ""),
        job(2, "rest", &format!(r#"{{"request":{{"url":"{b}/acc","method":"GET"}}}}"#), ""),
        job(3, "rest", &format!(r#"{{"request":{{"url":"http://127.0.0.1:{closed}/x","method":"GET"}}}}"#), ""),
        job(4, "rest", r#"{"request":{"url":"http://@BADPORT@/p","method":"GET"}}"#, ""),
        job(5, "rest", &format!(r#"{{"request":{{"url":"{b}/moved","method":"GET"}}}}"#), ""),
    ];
    let r = run(dir.path(), &data, "EXE", "BADPORT = \"127.0.0.1:70000\"", &jobs);
    assert_eq!(r.run.status.code(), Some(3));
    assert_eq!(r.code(1), 4);
    assert!(r.has_line(1, "HttpStatusCode=507"), "{}", r.out(1));
    assert!(
        r.out(1).ends_with("MpJobsch: ERROR: 0609: HTTP request failed. RequestType=request StatusCode=507\n"),
        "{}",
        r.out(1)
    );
    assert_eq!(mock.reqs("/fail").len(), 1, "no retry");
    assert!(mock.reqs("/never").is_empty());
    assert_eq!(r.code(2), 0);
    assert_eq!(r.lines(2)[0], "HttpStatusCode=202");
    assert!(!r.out(2).contains("ChkResult"), "{}", r.out(2));
    assert_eq!(r.code(3), 4);
    assert_eq!(r.out(3), "MpJobsch: ERROR: 0610: A network issue occurred. RequestType=request\n");
    assert_eq!(r.code(4), 4);
    assert_eq!(r.out(4), "MpJobsch: ERROR: 0612: An issue occurred with the HTTP request. RequestType=request\n");
    assert_eq!(r.code(5), 4);
    assert!(r.out(5).ends_with("RequestType=request StatusCode=307\n"), "{}", r.out(5));
    assert_eq!(mock.reqs("/acc").len(), 1, "redirect not followed");
}

#[test]
fn qa_rest_flow_005_timeouts_request_and_monitoring() {
    let (dir, data) = tmp();
    let slow = |body: &str| Reply { delay_ms: 2500, ..ok(body) };
    let mock =
        Mock::start(vec![("/slowx", vec![slow("{}")]), ("/slowm", vec![slow(r#"{"s":"x"}"#)]), ("*", vec![ok("{}")])]);
    let b = mock.base();
    let jobs = vec![
        job(1, "rest", &format!(r#"{{"request":{{"url":"{b}/slowx","method":"POST","timeout":1}}}}"#), ""),
        job(
            2,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/fast","method":"POST","timeout":1}},"monitoring":{{"url":"{b}/slowm","method":"GET","firstMonitorInterval":1,"pollingEndKey":"s","pollingEndVal":["x"],"checkResultKey":"s","checkResultVal":["x"]}}}}"#
            ),
            "",
        ),
    ];
    let r = run(dir.path(), &data, "TMO", "", &jobs);
    assert_eq!(r.code(1), 5, "{}", r.out(1));
    assert_eq!(r.out(1), "MpJobsch: ERROR: 0611: HTTP request timed out. RequestType=request\n");
    assert_eq!(r.code(2), 5, "{}", r.out(2));
    assert!(
        r.out(2).ends_with("MpJobsch: ERROR: 0611: HTTP request timed out. RequestType=monitoring\n"),
        "{}",
        r.out(2)
    );
    assert!(!r.out(2).contains("ChkResult"), "{}", r.out(2));
    assert_eq!(mock.reqs("/slowm").len(), 1);
}

#[test]
fn qa_rest_flow_007_008_009_010_013_014_019_monitoring_outcomes() {
    let (dir, data) = tmp();
    let mut routes = vec![("*", vec![ok(r#"{"handle":"h"}"#)])];
    let st = |s: &str| ok(&format!(r#"{{"phase":"{s}","outcome":{{"code":"{s}-rc"}}}}"#));
    routes.push(("/m1", vec![st("WORKING"), st("WORKING"), st("FINISHED")]));
    routes.push(("/m2", vec![st("WORKING"), ok(r#"{"phase":"FINISHED","outcome":{"code":"broken"}}"#)]));
    routes.push(("/m3", vec![st("WORKING")]));
    routes.push(("/m4", vec![st("WORKING"), st("WORKING"), st("WORKING"), st("FINISHED")]));
    routes.push(("/m5", vec![st("WORKING"), json_reply(504, r#"{"e":1}"#), st("FINISHED")]));
    routes.push(("/m6", vec![st("finished"), st("FINISHED")]));
    let mock = Mock::start(routes);
    let b = mock.base();
    let c = |path: &str, count: u32| {
        format!(
            r#"{{"request":{{"url":"{b}/go{path}","method":"POST"}},"monitoring":{{"url":"{b}{path}","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingCount":{count},
            "pollingEndKey":"phase","pollingEndVal":["FINISHED","ABORTED"],"checkResultKey":"outcome.code","checkResultVal":["FINISHED-rc"]}}}}"#
        )
    };
    let jobs = vec![
        job(1, "rest", &c("/m1", 0), ""),
        job(2, "rest", &c("/m2", 0), ""),
        job(3, "rest", &c("/m3", 3), ""),
        job(4, "rest", &c("/m4", 0), ""),
        job(5, "rest", &c("/m5", 0), ""),
        job(6, "rest", &c("/m6", 4), ""),
    ];
    let r = run(dir.path(), &data, "MON", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    assert_eq!(mock.reqs("/m1").len(), 3);
    assert!(r.has_line(1, "ChkResultHttpStatusCode=200"));
    assert!(r.out(1).contains("ChkResultHttpResBody={\n  \"phase\": \"FINISHED\","), "{}", r.out(1));
    assert_eq!(r.code(2), 7);
    assert!(r.out(2).ends_with("MpJobsch: ERROR: 0614: The execution result of the job on the cloud service is not the specified normal exit value. ResultValue=broken\n"), "{}", r.out(2));
    assert_eq!(r.code(3), 6);
    assert_eq!(mock.reqs("/m3").len(), 3);
    assert!(r.has_line(3, "ChkResultHttpStatusCode=200"), "{}", r.out(3));
    assert!(
        r.out(3).ends_with(
            "MpJobsch: ERROR: 0613: The wait time for completion of the job on the cloud service has elapsed.\n"
        ),
        "{}",
        r.out(3)
    );
    assert_eq!(r.code(4), 0, "{}", r.out(4));
    assert_eq!(mock.reqs("/m4").len(), 4);
    assert_eq!(r.code(5), 4);
    assert_eq!(mock.reqs("/m5").len(), 2, "no call after the failed one");
    assert!(r.has_line(5, "ChkResultHttpStatusCode=504"), "{}", r.out(5));
    assert!(
        r.out(5).ends_with("MpJobsch: ERROR: 0609: HTTP request failed. RequestType=monitoring StatusCode=504\n"),
        "{}",
        r.out(5)
    );
    // FLOW-019: "finished" ≠ "FINISHED" → keeps polling.
    assert_eq!(r.code(6), 0, "{}", r.out(6));
    assert_eq!(mock.reqs("/m6").len(), 2);
    // Every job made exactly one execution call.
    for p in ["/m1", "/m2", "/m3", "/m4", "/m5", "/m6"] {
        assert_eq!(mock.reqs(&format!("/go{p}")).len(), 1);
    }
}

#[test]
fn qa_rest_flow_011_012_015_018_out_005_extraction_failures() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/x-no-take", vec![ok(r#"{"nothing":0}"#)]),
        ("/m-noend", vec![ok(r#"{"other":"x"}"#)]),
        ("/m-nores", vec![ok(r#"{"st":"END"}"#)]),
        ("/m-okmiss", vec![ok(r#"{"st":"END","r":"good"}"#)]),
        ("/m-badmiss", vec![ok(r#"{"st":"END","r":"bad"}"#)]),
        ("/m-badjson", vec![ok("{\"st\": END")]),
        ("*", vec![ok(r#"{"id":"v1"}"#)]),
    ]);
    let b = mock.base();
    let c = |path: &str, jv: &str| {
        format!(
            r#"{{"request":{{"url":"{b}/x","method":"POST"}},"monitoring":{{"url":"{b}{path}","method":"GET","firstMonitorInterval":1,
            "pollingEndKey":"st","pollingEndVal":["END"],"checkResultKey":"r","checkResultVal":["good"]{jv}}}}}"#
        )
    };
    let jobs = vec![
        job(
            1,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/x-no-take","method":"POST","takeoverKeys":{{"KA":"id","KB":"nothing"}}}},"monitoring":{{"url":"{b}/never","method":"GET","pollingEndKey":"st","pollingEndVal":["END"],"checkResultKey":"r","checkResultVal":["good"]}}}}"#
            ),
            "",
        ),
        job(2, "rest", &c("/m-noend", ""), ""),
        job(3, "rest", &c("/m-nores", ""), ""),
        job(4, "rest", &c("/m-okmiss", r#","jobnetValKeys":{"Fin":"r","Lost":"none.here"}"#), ""),
        job(5, "rest", &c("/m-badmiss", r#","jobnetValKeys":{"Lost":"none.here"}"#), ""),
        job(6, "rest", &c("/m-badjson", ""), ""),
        job(
            7,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/y","method":"POST","jobnetValKeys":{{"Miss":"id.deeper"}}}}}}"#),
            "",
        ),
    ];
    let r = run(dir.path(), &data, "EXT", "", &jobs);
    assert_eq!(r.code(1), 8);
    assert!(r.out(1).ends_with(&format!("{MSG_0615}KA\n")), "{}", r.out(1));
    assert!(mock.reqs("/never").is_empty());
    assert_eq!(r.code(2), 8);
    assert!(r.has_line(2, "ChkResultHttpStatusCode=200"), "{}", r.out(2));
    assert!(r.out(2).ends_with(&format!("{MSG_0615}pollingEndKey\n")), "{}", r.out(2));
    assert_eq!(r.code(3), 8);
    assert!(r.out(3).ends_with(&format!("{MSG_0615}checkResultKey\n")), "{}", r.out(3));
    assert_eq!(r.code(4), 8);
    assert!(r.has_line(4, "Fin=good"), "{}", r.out(4));
    assert!(r.out(4).ends_with(&format!("{MSG_0615}Lost\n")), "{}", r.out(4));
    assert_eq!(r.code(5), 7);
    assert!(!r.out(5).contains("0615"), "{}", r.out(5));
    assert!(r.out(5).ends_with("ResultValue=bad\n"), "{}", r.out(5));
    assert_eq!(r.code(6), 8);
    assert!(r.has_line(6, "ChkResultHttpResBody=\"The response is not a valid JSON response\""), "{}", r.out(6));
    assert!(r.out(6).ends_with(&format!("{MSG_0615}pollingEndKey\n")), "{}", r.out(6));
    assert_eq!(r.code(7), 8);
    assert!(r.out(7).ends_with(&format!("{MSG_0615}Miss\n")), "{}", r.out(7));
}

#[test]
fn qa_rest_flow_016_017_020_jobnet_variables_reach_the_next_job() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/fn", vec![ok(r#"{"statusCode":503,"body":"remote broke","run":{"seq":88}}"#)]),
        ("/mon", vec![ok(r#"{"state":"CLOSED","detail":{"rows":1200}}"#)]),
    ]);
    let b = mock.base();
    let conn = format!(
        r#"{{"request":{{"url":"{b}/fn","method":"POST","jobnetValKeys":{{"Sc":"statusCode","Seq":"run.seq"}}}},
        "monitoring":{{"url":"{b}/mon","method":"GET","firstMonitorInterval":1,"pollingEndKey":"state","pollingEndVal":["CLOSED"],
        "checkResultKey":"state","checkResultVal":["CLOSED"],"jobnetValKeys":{{"Rows":"detail.rows"}}}}}}"#
    );
    let lambda = format!(r#"{{"request":{{"url":"{b}/fn","method":"POST","jobnetValKeys":{{"Code":"statusCode"}}}}}}"#);
    let jobs = vec![
        job(1, "rest", &conn, "use_jobnet_variables = true\nnetvar_prefix = \"RJ\""),
        job(2, "rest", &lambda, ""),
        "[[jobnet.job]]\nnumber = 3\ncommand = \"echo seq=@RJ.Seq@ sc=@RJ.Sc@ rows=@RJ.Rows@\"\nafter = [1]\n"
            .to_owned(),
    ];
    let r = run(dir.path(), &data, "NVAR", "", &jobs);
    assert_eq!(r.run.status.code(), Some(0), "{}", text(&r.run.stdout));
    let lines = r.lines(1);
    let pos = |l: &str| lines.iter().position(|x| *x == l).unwrap_or_else(|| panic!("{l} missing: {}", r.out(1)));
    assert!(pos("Sc=503") < pos("Seq=88"));
    assert!(pos("Seq=88") < pos("ChkResultHttpStatusCode=200"));
    assert_eq!(*lines.last().expect("last"), "Rows=1200");
    // FLOW-020: a 2xx without monitoring is success whatever the payload says.
    assert_eq!(r.code(2), 0);
    assert!(r.has_line(2, "Code=503"));
    assert_eq!(r.out(3).trim_end(), "seq=88 sc=503 rows=1200");
}

// ---------------------------------------------------------------------------
// Key paths and output formatting
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_key_001_to_007_011_json_key_paths() {
    let (dir, data) = tmp();
    let body = r#"{"ref":"r-77","meta":{"owner":{"team":"ops"}},"flags":{"on":true,"none":null,"ratio":2.5},
        "steps":[{"k":"load","rc":3},{"k":"sort","rc":0},{"k":"load","rc":9}],
        "grid":[["a","b"],["c","d","e"]],"codes":[{"code":"12","tag":"str"},{"code":12,"tag":"num"}],"obj":{"x":[1,2]}}"#;
    let mock = Mock::start(vec![
        ("/cs", vec![typed(200, "Application/JSON; charset=UTF-8", r#"{"z":"charset-ok"}"#)]),
        ("*", vec![ok(body)]),
    ]);
    let b = mock.base();
    let keys = r#"{"A":"ref","B":"meta.owner.team","C":"steps.[?\"k\"==\"sort\"].rc","D":"steps.[2].rc","E":"steps.[?\"k\"==\"load\"].rc",
        "F":"grid.[1].[2]","G":"codes.[?\"code\"==12].tag","H":"codes.[?\"code\"==\"12\"].tag","I":"flags.on","J":"flags.none",
        "K":"flags.ratio","L":"obj","M":"meta.owner"}"#;
    let jobs = vec![
        job(1, "rest", &format!(r#"{{"request":{{"url":"{b}/k","method":"GET","jobnetValKeys":{keys}}}}}"#), ""),
        job(
            2,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/k","method":"GET","jobnetValKeys":{{"N":"steps.[?\"k\"==\"zip\"].rc"}}}}}}"#
            ),
            "",
        ),
        job(
            3,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/k","method":"GET","jobnetValKeys":{{"O":"steps.[3].rc"}}}}}}"#),
            "",
        ),
        job(
            4,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/k","method":"GET","jobnetValKeys":{{"P":"steps.k"}}}}}}"#),
            "",
        ),
        job(
            5,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/k","method":"GET","jobnetValKeys":{{"Q":"ref.[0]"}}}}}}"#),
            "",
        ),
        job(6, "rest", &format!(r#"{{"request":{{"url":"{b}/cs","method":"GET","jobnetValKeys":{{"R":"z"}}}}}}"#), ""),
    ];
    let r = run(dir.path(), &data, "KEYS", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    for l in [
        "A=r-77",
        "B=ops",
        "C=0",
        "D=9",
        "E=3",
        "F=e",
        "G=num",
        "H=str",
        "I=true",
        "J=null",
        "K=2.5",
        "L={\"x\":[1,2]}",
        "M={\"team\":\"ops\"}",
    ] {
        assert!(r.has_line(1, l), "{l} missing: {}", r.out(1));
    }
    for (n, v) in [(2, "N"), (3, "O"), (4, "P"), (5, "Q")] {
        assert_eq!(r.code(n), 8, "job {n}: {}", r.out(n));
        assert!(r.out(n).ends_with(&format!("{MSG_0615}{v}\n")), "job {n}: {}", r.out(n));
    }
    assert_eq!(r.code(6), 0, "{}", r.out(6));
    assert!(r.has_line(6, "R=charset-ok"), "{}", r.out(6));
}

#[test]
fn qa_rest_key_008_009_010_out_002_003_004_xml_and_other_types() {
    let (dir, data) = tmp();
    let xml = r#"<?xml version="1.0"?><q:Top xmlns:q="urn:qa"><q:Body><Node><Id>n1</Id></Node><Node><Id>n2</Id></Node><Empty/><State>
        ready
    </State></q:Body></q:Top>"#;
    let mock = Mock::start(vec![
        ("/xml", vec![typed(200, "application/xml", xml)]),
        ("/txml", vec![typed(200, "text/xml; charset=utf-8", "<R><S>done</S></R>")]),
        ("/badxml", vec![typed(200, "text/xml", "<R><S>done</R>")]),
        ("/plain", vec![typed(200, "text/plain", "plain words")]),
        ("/html", vec![typed(200, "text/html", "<p>x</p>")]),
    ]);
    let b = mock.base();
    let c = |p: &str, keys: &str| format!(r#"{{"request":{{"url":"{b}{p}","method":"GET","jobnetValKeys":{keys}}}}}"#);
    let jobs = vec![
        job(1, "rest", &c("/xml", r#"{"X1":"Top.Body.Node.[1].Id","X2":"Top.Body.State","X3":"Top.Body.Empty"}"#), ""),
        job(2, "rest", &c("/xml", r#"{"X4":"Top.Body.Node.Id"}"#), ""),
        job(3, "rest", &c("/txml", r#"{"X5":"R.S"}"#), ""),
        job(4, "rest", &c("/badxml", "{}"), ""),
        job(5, "rest", &format!(r#"{{"request":{{"url":"{b}/plain","method":"GET"}}}}"#), ""),
        job(
            6,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/html","method":"GET","takeoverKeys":{{"T1":"p","T2":"q"}}}}}}"#),
            "",
        ),
    ];
    let r = run(dir.path(), &data, "XML", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    assert!(r.has_line(1, "X1=n2") && r.has_line(1, "X2=ready") && r.has_line(1, "X3="), "{}", r.out(1));
    assert!(r.out(1).contains(&format!("HttpResBody={xml}\n")), "{}", r.out(1));
    assert_eq!(r.code(2), 8);
    assert!(r.out(2).ends_with(&format!("{MSG_0615}X4\n")), "{}", r.out(2));
    assert_eq!(r.code(3), 0, "{}", r.out(3));
    assert!(r.has_line(3, "HttpResBody=<R><S>done</S></R>") && r.has_line(3, "X5=done"), "{}", r.out(3));
    assert_eq!(r.code(4), 0);
    assert!(r.has_line(4, "HttpResBody=\"The response is not a valid XML response\""), "{}", r.out(4));
    assert_eq!(r.code(5), 0);
    assert!(r.has_line(5, "HttpStatusCode=200") && r.out(5).contains("HttpResHeader={"), "{}", r.out(5));
    assert!(!r.out(5).contains("HttpResBody"), "{}", r.out(5));
    assert_eq!(r.code(6), 8);
    assert!(r.out(6).ends_with(&format!("{MSG_0615}T1\n")), "{}", r.out(6));
}

#[test]
fn qa_rest_out_001_006_body_and_header_rendering() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        (
            "/hdr",
            vec![Reply {
                headers: vec![
                    ("X-Multi".into(), "one".into()),
                    ("X-Multi".into(), "two".into()),
                    ("X-Case-Test".into(), "V".into()),
                ],
                ..ok(r#"{"name":"東京","list":[1,{"a":"b"}],"e":{}}"#)
            }],
        ),
        ("/bad", vec![ok("{oops")]),
        ("/empty", vec![ok("")]),
    ]);
    let b = mock.base();
    let jobs = vec![
        job(1, "rest", &format!(r#"{{"request":{{"url":"{b}/hdr","method":"GET"}}}}"#), ""),
        job(2, "rest", &format!(r#"{{"request":{{"url":"{b}/bad","method":"GET"}}}}"#), ""),
        job(3, "rest", &format!(r#"{{"request":{{"url":"{b}/empty","method":"GET"}}}}"#), ""),
    ];
    let r = run(dir.path(), &data, "OUTF", "", &jobs);
    assert_eq!(r.code(1), 0);
    let out = r.out(1);
    assert!(out.starts_with("HttpStatusCode=200\nHttpResHeader={\n  \""), "{out}");
    assert!(out.contains("\n  \"x-multi\": \"one, two\""), "{out}");
    assert!(out.contains("\n  \"x-case-test\": \"V\""), "{out}");
    assert!(
        out.ends_with(
            "HttpResBody={\n  \"name\": \"東京\",\n  \"list\": [\n    1,\n    {\n      \"a\": \"b\"\n    }\n  ],\n  \"e\": {}\n}\n"
        ),
        "{out}"
    );
    assert!(!out.contains("MpJobsch"));
    for n in [2, 3] {
        assert_eq!(r.code(n), 0, "{}", r.out(n));
        assert!(r.has_line(n, "HttpResBody=\"The response is not a valid JSON response\""), "{}", r.out(n));
    }
}

// ---------------------------------------------------------------------------
// Authentication at run time
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_authrt_001_002_012_013_term_008_static_credentials() {
    let (dir, data) = tmp();
    let o = auth_set(
        &data,
        r#"[{"name":"qa-bas","authType":"basic","basicUser":"carol","basicPasswd":"pä:ss w"},
            {"name":"qa-tok","authType":"bearer","token":"tok.QA-5"},
            {"name":"qa-none","authType":"others"}]"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mock = Mock::start(vec![
        ("/stay", vec![ok(r#"{"s":"RUN"}"#)]),
        ("/b-mon", vec![ok(r#"{"s":"RUN"}"#), ok(r#"{"s":"OK"}"#)]),
        ("*", vec![ok(r#"{"s":"OK"}"#)]),
    ]);
    let b = mock.base();
    let jobs = vec![
        job(
            1,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/b-exec","method":"POST","authName":"qa-bas"}},"monitoring":{{"url":"{b}/b-mon","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingEndKey":"s","pollingEndVal":["OK"],"checkResultKey":"s","checkResultVal":["OK"]}}}}"#
            ),
            "",
        ),
        job(
            2,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/t-exec","method":"POST","authName":"qa-tok","header":{{"authorization":"Basic c3RhbGU="}}}},
                "monitoring":{{"url":"{b}/stay","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingEndKey":"s","pollingEndVal":["OK"],"checkResultKey":"s","checkResultVal":["OK"]}},
                "termination":{{"url":"{b}/t-stop","method":"PUT"}}}}"#
            ),
            "cutoff_secs = 3",
        ),
        job(3, "rest", &format!(r#"{{"request":{{"url":"{b}/o-exec","method":"GET","authName":"qa-none"}}}}"#), ""),
    ];
    let r = run(dir.path(), &data, "CRED", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    // base64("carol:pä:ss w") with UTF-8
    let basic = "Basic Y2Fyb2w6cMOkOnNzIHc=";
    assert_eq!(mock.reqs("/b-exec")[0].header("authorization"), Some(basic));
    let mons = mock.reqs("/b-mon");
    assert_eq!(mons.len(), 2);
    assert!(mons.iter().all(|m| m.header("authorization") == Some(basic)));
    // job 2 is cut off; every call, termination included, carries the bearer token.
    assert_eq!(r.code(2), 0x4000_0322, "{}", r.out(2));
    let exec = &mock.reqs("/t-exec")[0];
    assert_eq!(exec.headers.iter().filter(|(k, _)| k == "authorization").count(), 1);
    assert_eq!(exec.header("authorization"), Some("Bearer tok.QA-5"));
    assert!(mock.reqs("/stay").iter().all(|m| m.header("authorization") == Some("Bearer tok.QA-5")));
    let stop = mock.reqs("/t-stop");
    assert_eq!(stop.len(), 1);
    assert_eq!(stop[0].method, "PUT");
    assert_eq!(stop[0].header("authorization"), Some("Bearer tok.QA-5"));
    assert_eq!(mock.reqs("/o-exec")[0].header("authorization"), None);
}

#[test]
fn qa_rest_authrt_003_004_005_006_token_flows() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/tok-ok", vec![ok(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"AT.qa.77"}"#)]),
        ("/tok-401", vec![json_reply(401, r#"{"error":"invalid_client"}"#)]),
        ("/tok-none", vec![ok(r#"{"token_type":"Bearer","expires_in":3599}"#)]),
        ("/tok-text", vec![typed(200, "text/plain", "access_token=zzz")]),
        ("/poll", vec![ok(r#"{"s":"a"}"#), ok(r#"{"s":"a"}"#), ok(r#"{"s":"z"}"#)]),
        ("*", vec![ok(r#"{"s":"z"}"#)]),
    ]);
    let b = mock.base();
    let o = auth_set(
        &data,
        &format!(
            r#"[{{"name":"az-v2","authType":"azuread","clientId":"app-42","clientSecret":"s&cr=t","endpoint":"{b}/tok-ok","scope":"api://qa/.default"}},
               {{"name":"az-v1","authType":"azuread","clientId":"app-43","clientSecret":"s2","endpoint":"{b}/tok-ok","resource":"https://mgmt.qa.invalid/"}},
               {{"name":"az-401","authType":"azuread","clientId":"x","clientSecret":"y","endpoint":"{b}/tok-401","scope":"s"}},
               {{"name":"az-none","authType":"azuread","clientId":"x","clientSecret":"y","endpoint":"{b}/tok-none","scope":"s"}},
               {{"name":"az-text","authType":"azuread","clientId":"x","clientSecret":"y","endpoint":"{b}/tok-text","scope":"s"}}]"#
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let jobs = vec![
        job(
            1,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/v2-exec","method":"POST","authName":"az-v2"}},"monitoring":{{"url":"{b}/poll","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingEndKey":"s","pollingEndVal":["z"],"checkResultKey":"s","checkResultVal":["z"]}}}}"#
            ),
            "",
        ),
        job(2, "rest", &format!(r#"{{"request":{{"url":"{b}/e401","method":"GET","authName":"az-401"}}}}"#), ""),
        job(3, "rest", &format!(r#"{{"request":{{"url":"{b}/enone","method":"GET","authName":"az-none"}}}}"#), ""),
        job(4, "rest", &format!(r#"{{"request":{{"url":"{b}/etext","method":"GET","authName":"az-text"}}}}"#), ""),
    ];
    let r = run(dir.path(), &data, "TOKN", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    let toks = mock.reqs("/tok-ok");
    assert_eq!(toks.len(), 1, "one token for the whole run: {toks:?}");
    assert_eq!(toks[0].method, "POST");
    assert!(toks[0].header("content-type").unwrap_or_default().starts_with("application/x-www-form-urlencoded"));
    let mut form: Vec<&str> = toks[0].body.split('&').collect();
    form.sort();
    assert_eq!(
        form,
        vec![
            "client_id=app-42",
            "client_secret=s%26cr%3Dt",
            "grant_type=client_credentials",
            "scope=api%3A%2F%2Fqa%2F.default"
        ]
    );
    assert_eq!(mock.reqs("/v2-exec")[0].header("authorization"), Some("Bearer AT.qa.77"));
    assert_eq!(mock.reqs("/poll").len(), 3);
    assert!(mock.reqs("/poll").iter().all(|p| p.header("authorization") == Some("Bearer AT.qa.77")));
    assert_eq!(r.code(2), 10);
    assert_eq!(r.out(2), "MpJobsch: ERROR: 0609: HTTP request failed. RequestType=authentication StatusCode=401\n");
    assert!(mock.reqs("/e401").is_empty());
    for n in [3, 4] {
        assert_eq!(r.code(n), 10, "{}", r.out(n));
        assert_eq!(r.out(n), "MpJobsch: ERROR: 0617: An access token is not found in the response result.\n");
    }
    assert!(mock.reqs("/enone").is_empty() && mock.reqs("/etext").is_empty());

    // AUTHRT-004: v1 entry sends `resource`, not `scope`.
    let (dir2, _) = tmp();
    let r = run(
        dir2.path(),
        &data,
        "TOKV1",
        "",
        &[job(1, "rest", &format!(r#"{{"request":{{"url":"{b}/v1-exec","method":"GET","authName":"az-v1"}}}}"#), "")],
    );
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    let toks = mock.reqs("/tok-ok");
    assert_eq!(toks.len(), 2);
    assert!(toks[1].body.contains("resource=https%3A%2F%2Fmgmt.qa.invalid%2F"), "{}", toks[1].body);
    assert!(toks[1].body.contains("client_id=app-43") && !toks[1].body.contains("scope="), "{}", toks[1].body);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

const CRED: (&str, &str, &str) = ("qa+Secret/Key=7", "ca-central-1", "states");

/// Recomputes the SigV4 signature of a recorded request (spec 03 §3.5).
fn sigv4(
    req: &Req,
    canonical_uri: &str,
    canonical_query: &str,
    host: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    (sec, region, svc): (&str, &str, &str),
) -> String {
    let amz = req.header("x-amz-date").expect("x-amz-date");
    let day = &amz[..8];
    let mut hdrs: Vec<(String, String)> = vec![("host".into(), host.into()), ("x-amz-date".into(), amz.into())];
    for (k, v) in extra {
        hdrs.push((k.to_ascii_lowercase(), v.trim().to_owned()));
    }
    hdrs.sort();
    let canon_h: String = hdrs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed: Vec<&str> = hdrs.iter().map(|(k, _)| k.as_str()).collect();
    let creq = format!(
        "{}\n{}\n{canonical_query}\n{canon_h}\n{}\n{}",
        req.method,
        canonical_uri,
        signed.join(";"),
        hex(&Sha256::digest(body))
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz}\n{day}/{region}/{svc}/aws4_request\n{}",
        hex(&Sha256::digest(creq.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{sec}").as_bytes(), day.as_bytes());
    for part in [region, svc, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, sts.as_bytes()))
}

#[test]
fn qa_rest_authrt_008_010_011_sigv4_signatures() {
    let (dir, data) = tmp();
    let o = auth_set(
        &data,
        r#"[{"name":"sig-qa","authType":"awssigv4","accKey":"AKIAQATEST0007","secKey":"qa+Secret/Key=7","service":"states","region":"ca-central-1",
             "endpoint":"states.ca-central-1.amazonaws.com","sigv4Header":{"X-Amz-Target":" AWSStepFunctions.StartExecution ","Content-Type":"application/x-amz-json-1.0"}}]"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mock = Mock::start(vec![
        ("/watch", vec![ok(r#"{"st":"RUNNING"}"#), ok(r#"{"st":"SUCCEEDED"}"#)]),
        ("*", vec![ok(r#"{"executionArn":"arn:qa:1"}"#)]),
    ]);
    let b = mock.base();
    let conn = format!(
        r#"{{"request":{{"url":"{b}/exec/start%20x/a","method":"POST","authName":"sig-qa","query":{{"zz":"last","Aa":"x y","mm":"~ok"}}}},
        "monitoring":{{"url":"{b}/watch","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingEndKey":"st","pollingEndVal":["SUCCEEDED"],"checkResultKey":"st","checkResultVal":["SUCCEEDED"]}}}}"#
    );
    let body = r#"{"stateMachineArn": "arn:qa:sm", "input": "{}"}"#;
    let r = run(dir.path(), &data, "SIG", "", &[job(1, "rest", &conn, &lit("body_execution", body))]);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    let extra = [("X-Amz-Target", "AWSStepFunctions.StartExecution"), ("Content-Type", "application/x-amz-json-1.0")];
    let host = "states.ca-central-1.amazonaws.com";
    let e = &mock.all().into_iter().find(|q| q.path.starts_with("/exec/")).expect("exec call");
    assert_eq!(e.body, body);
    let auth_h = e.header("authorization").expect("authorization");
    let amz = e.header("x-amz-date").expect("date");
    assert_eq!(amz.len(), 16);
    let sig = sigv4(e, "/exec/start%2520x/a", "Aa=x%20y&mm=~ok&zz=last", host, &extra, body.as_bytes(), CRED);
    assert_eq!(
        auth_h,
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAQATEST0007/{}/ca-central-1/states/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={sig}",
            &amz[..8]
        )
    );
    assert_eq!(e.header("x-amz-target"), Some("AWSStepFunctions.StartExecution"));
    assert_eq!(e.header("x-amz-content-sha256"), Some(hex(&Sha256::digest(body.as_bytes()))).as_deref());
    // AUTHRT-011: each monitoring call is signed on its own.
    let polls = mock.reqs("/watch");
    assert_eq!(polls.len(), 2);
    for p in &polls {
        let sig = sigv4(p, "/watch", "", host, &extra, b"", CRED);
        assert!(p.header("authorization").expect("auth").ends_with(&format!("Signature={sig}")), "{p:?}");
    }
}

// ---------------------------------------------------------------------------
// Forced termination (execution-time cut-off)
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_term_001_002_003_006_cutoff_and_termination_call() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/sub", vec![ok(r#"{"job":{"ident":"JB-204"}}"#)]),
        ("/poll", vec![ok(r#"{"st":"RUNNING"}"#)]),
        ("/cancel-fail", vec![json_reply(503, "{}")]),
        ("/poll-err", vec![json_reply(500, "{}")]),
        ("*", vec![ok("{}")]),
    ]);
    let b = mock.base();
    let mon = |p: &str| {
        format!(
            r#""monitoring":{{"url":"{b}{p}","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingEndKey":"st","pollingEndVal":["DONE"],"checkResultKey":"st","checkResultVal":["DONE"],"jobnetValKeys":{{"Last":"st"}}}}"#
        )
    };
    let req = format!(r#""request":{{"url":"{b}/sub","method":"POST","takeoverKeys":{{"JB":"job.ident"}}}}"#);
    let jobs = vec![
        job(
            1,
            "rest",
            &format!(
                r#"{{{req},{},"termination":{{"url":"{b}/cancel/<JB>","method":"POST","header":{{"X-Why":"@WHY@"}}}}}}"#,
                mon("/poll")
            ),
            &(lit("body_termination", r#"{"reason": "@WHY@", "ident": "<JB>"}"#) + "cutoff_secs = 3"),
        ),
        job(2, "rest", &format!("{{{req},{}}}", mon("/poll")), "cutoff_secs = 3"),
        job(
            3,
            "rest",
            &format!(r#"{{{req},{},"termination":{{"url":"{b}/cancel-fail","method":"DELETE"}}}}"#, mon("/poll")),
            "cutoff_secs = 3",
        ),
        job(
            4,
            "rest",
            &format!(r#"{{{req},{},"termination":{{"url":"{b}/cancel-never","method":"POST"}}}}"#, mon("/poll-err")),
            "cutoff_secs = 30",
        ),
    ];
    let r = run(dir.path(), &data, "TERM", "WHY = \"qa cut-off\"", &jobs);
    assert_eq!(r.run.status.code(), Some(3));
    for n in [1, 2, 3] {
        assert_eq!(r.code(n), 0x4000_0322, "job {n}: {}", r.out(n));
        assert!(!r.out(n).contains("ChkResult") && !r.out(n).contains("Last="), "job {n}: {}", r.out(n));
    }
    let c = mock.reqs("/cancel/JB-204");
    assert_eq!(c.len(), 1, "{:?}", mock.all());
    assert_eq!(c[0].method, "POST");
    assert_eq!(c[0].body, r#"{"reason": "qa cut-off", "ident": "JB-204"}"#);
    assert_eq!(c[0].header("x-why"), Some("qa cut-off"));
    assert_eq!(c[0].header("content-type"), Some("application/json"));
    assert!(!r.out(1).contains("MpJobsch"), "{}", r.out(1));
    // job 3: the failed termination call is reported in the job output and the monitoring log.
    assert_eq!(mock.reqs("/cancel-fail").len(), 1);
    assert!(
        r.out(3).ends_with("MpJobsch: ERROR: 0609: HTTP request failed. RequestType=termination StatusCode=503\n"),
        "{}",
        r.out(3)
    );
    let both = format!("{}{}", text(&r.run.stdout), text(&r.run.stderr));
    assert!(
        both.contains("MpJobsch: ERROR: 0635: HTTP request failed. RequestType=termination StatusCode=503 ProjectName=QAR JobNetName=TERM"),
        "{both}"
    );
    // job 4 ended by itself with exit 4: no termination call.
    assert_eq!(r.code(4), 4, "{}", r.out(4));
    assert!(mock.reqs("/cancel-never").is_empty());
    // One execution call per job.
    assert_eq!(mock.reqs("/sub").len(), 4);
}

// ---------------------------------------------------------------------------
// Informatica, Snowflake, SAP cloud
// ---------------------------------------------------------------------------

#[test]
fn qa_rest_infa_001_002_007_informatica_taskflow() {
    let (dir, data) = tmp();
    let o = auth_set(&data, r#"{"name":"idmc-qa","authType":"basic","basicUser":"api-u","basicPasswd":"api-p"}"#);
    assert_eq!(o.status.code(), Some(0));
    let mock = Mock::start(vec![
        ("/active-bpel/rt/tf_sales", vec![ok(r#"{"RunId":"7312"}"#)]),
        ("/active-bpel/rt/tf_fail", vec![ok(r#"{"RunId":"7313"}"#)]),
        ("/active-bpel/services/tf/status/7312", vec![ok(r#"{"status":"RUNNING"}"#), ok(r#"{"status":"SUCCESS"}"#)]),
        ("/active-bpel/services/tf/status/7313", vec![ok(r#"{"status":"FAILED"}"#)]),
        ("*", vec![ok("{}")]),
    ]);
    let b = mock.base();
    let c = |tf: &str| {
        format!(
            r#"{{"request":{{"url":"{b}/active-bpel/rt/{tf}","method":"POST","authName":"idmc-qa","header":{{"Content-Type":"application/json","Accept":"application/json"}},"takeoverKeys":{{"RUNID":"RunId"}}}},
            "monitoring":{{"url":"{b}/active-bpel/services/tf/status/<RUNID>","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"header":{{"Content-Type":"application/json","Accept":"application/json"}},
            "pollingEndKey":"status","pollingEndVal":["SUCCESS","FAILED"],"checkResultKey":"status","checkResultVal":["SUCCESS"]}},
            "termination":{{"url":"{b}/must-not-call","method":"POST"}}}}"#
        )
    };
    let jobs = vec![
        job(1, "informatica", &c("tf_sales"), &lit("body_execution", r#"{"region":"emea"}"#)),
        job(2, "informatica", &c("tf_fail"), ""),
    ];
    let r = run(dir.path(), &data, "INFA", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    assert_eq!(mock.reqs("/active-bpel/services/tf/status/7312").len(), 2);
    let e = &mock.reqs("/active-bpel/rt/tf_sales")[0];
    assert_eq!(e.header("authorization"), Some("Basic YXBpLXU6YXBpLXA="));
    assert_eq!(e.body, r#"{"region":"emea"}"#);
    assert_eq!(r.code(2), 7);
    assert!(r.out(2).ends_with("ResultValue=FAILED\n"), "{}", r.out(2));
    assert!(mock.reqs("/must-not-call").is_empty());
}

#[test]
fn qa_rest_snow_001_002_004_005_snowflake_modes() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/oauth2/v2.0/token", vec![ok(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"SF-AT"}"#)]),
        ("/api/v2/statements", vec![json_reply(202, r#"{"statementHandle":"st-71"}"#)]),
        (
            "/api/v2/statements/st-71",
            vec![json_reply(202, r#"{"m":"run"}"#), json_reply(202, r#"{"m":"run"}"#), ok(r#"{"data":[["1"]]}"#)],
        ),
        ("/fail/api/v2/statements", vec![json_reply(202, r#"{"statementHandle":"st-72"}"#)]),
        ("/fail/api/v2/statements/st-72", vec![json_reply(422, r#"{"message":"SQL compilation error"}"#)]),
        ("/task/api/v2/statements", vec![ok(r#"{"data":[["x","x","x","x","x","x","EXECUTING"]]}"#)]),
        ("*", vec![ok("{}")]),
    ]);
    let b = mock.base();
    let o = auth_set(
        &data,
        &format!(
            r#"{{"name":"sf-ent","authType":"azuread","clientId":"sf-c","clientSecret":"sf-s","endpoint":"{b}/oauth2/v2.0/token","scope":"https://sf.qa/.default"}}"#
        ),
    );
    assert_eq!(o.status.code(), Some(0));
    let h = r#""header":{"Accept":"application/json","X-Snowflake-Authorization-Token-Type":"OAUTH"}"#;
    let sql = |pre: &str| {
        format!(
            r#"{{"request":{{"url":"{b}{pre}/api/v2/statements","method":"POST","authName":"sf-ent","query":{{"async":"true"}},{h},"takeoverKeys":{{"STATEMENT":"statementHandle"}}}},
            "monitoring":{{"url":"{b}{pre}/api/v2/statements/<STATEMENT>","method":"GET",{h},"firstMonitorInterval":1,"pollingInterval":1}},
            "termination":{{"url":"{b}{pre}/api/v2/statements/<STATEMENT>/cancel","method":"POST",{h}}}}}"#
        )
    };
    let task = format!(
        r#"{{"request":{{"url":"{b}/task/api/v2/statements","method":"POST","authName":"sf-ent",{h}}},
        "monitoring":{{"url":"{b}/task/api/v2/statements","method":"POST",{h},"firstMonitorInterval":1,
          "pollingEndKey":"data.[0].[6]","pollingEndVal":["SUCCEEDED","FAILED"],"checkResultKey":"data.[0].[6]","checkResultVal":["SUCCEEDED"]}},
        "termination":{{"url":"{b}/task/api/v2/statements","method":"POST",{h}}}}}"#
    );
    let exec_body = r#"{"statement":"EXECUTE TASK LOAD_QA","database":"DB1","schema":"SC1"}"#;
    let jobs = vec![
        job(
            1,
            "snowflake",
            &sql(""),
            &(lit("body_execution", r#"{"statement":"insert into t values (1)"}"#) + "snowflake_target = \"sql\""),
        ),
        job(
            2,
            "snowflake",
            &sql("/fail"),
            &(lit("body_execution", r#"{"statement":"selct"}"#) + "snowflake_target = \"sql\""),
        ),
        job(
            3,
            "snowflake",
            &task,
            &(lit("body_execution", exec_body)
                + &lit(
                    "body_monitoring",
                    r#"{"statement":"select * from table(information_schema.task_history(result_limit => 1, task_name=>'LOAD_QB'))"}"#,
                )),
        ),
        job(
            4,
            "snowflake",
            &task,
            &(lit("body_execution", exec_body)
                + &lit(
                    "body_monitoring",
                    r#"{"statement":"select * from table(information_schema.task_history(result_limit => 1, task_name=>'LOAD_QA'))"}"#,
                )
                + &lit(
                    "body_termination",
                    r#"{"statement":"SELECT SYSTEM$USER_TASK_CANCEL_ONGOING_EXECUTIONS('DB1.SC1.OTHER_T')"}"#,
                )),
        ),
        job(5, "snowflake", &sql("/miss").replace(r#","query":{"async":"true"}"#, ""), "snowflake_target = \"sql\""),
    ];
    let r = run(dir.path(), &data, "SNOW", "", &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    assert_eq!(mock.reqs("/api/v2/statements/st-71").len(), 3);
    let e = &mock.reqs("/api/v2/statements")[0];
    assert_eq!(e.target, "/api/v2/statements?async=true");
    assert_eq!(e.header("authorization"), Some("Bearer SF-AT"));
    assert_eq!(r.code(2), 11, "{}", r.out(2));
    assert!(r.has_line(2, "ChkResultHttpStatusCode=422"), "{}", r.out(2));
    assert!(r.out(2).ends_with("MpJobsch: ERROR: 0639: An error occurred in the SQL statement.\n"), "{}", r.out(2));
    for n in [3, 4] {
        assert_eq!(r.code(n), 2, "job {n}: {}", r.out(n));
        assert_eq!(r.out(n), "MpJobsch: ERROR: 0641: Task names do not match.\n");
    }
    assert!(mock.reqs("/task/api/v2/statements").is_empty());
    assert_eq!(r.code(5), 2);
    assert!(
        r.out(5).starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"request.query\""),
        "{}",
        r.out(5)
    );
}

#[test]
fn qa_rest_sapc_001_002_003_004_sap_cloud_jobs() {
    let (dir, data) = tmp();
    let mock = Mock::start(vec![
        ("/scs/token", vec![ok(r#"{"access_token":"SCS-AT","expires_in":3600}"#)]),
        ("/js/scheduler/jobs/415/schedules", vec![json_reply(201, r#"{"scheduleId":"sch-9","description":"x"}"#)]),
        (
            "/js/scheduler/jobs/415/schedules/sch-9/runs",
            vec![
                ok(r#"{"total":0,"results":[]}"#),
                ok(r#"{"total":1,"results":[{"runId":"run-5","runStatus":"RUNNING","runState":"RUNNING"}]}"#),
                ok(r#"{"total":1,"results":[{"runId":"run-5","runStatus":"COMPLETED","runState":"SUCCESS"}]}"#),
            ],
        ),
        ("/js/scheduler/jobs/416/schedules", vec![json_reply(201, r#"{"scheduleId":"sch-10"}"#)]),
        (
            "/js/scheduler/jobs/416/schedules/sch-10/runs",
            vec![ok(r#"{"total":1,"results":[{"runId":"run-6","runStatus":"COMPLETED","runState":"ERROR"}]}"#)],
        ),
        ("*", vec![ok("{}")]),
    ]);
    let b = mock.base();
    let o = auth_set(
        &data,
        &format!(
            r#"{{"name":"scs-qa","authType":"scs","clientId":"sb-cl","clientSecret":"sb-sec","endpoint":"{b}/scs/token"}}"#
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let vars = format!("SAPHOST = \"127.0.0.1:{}\"", mock.port);
    let jobs = vec![
        job(
            1,
            "sap_cloud",
            r#"{"url":"http://@SAPHOST@/js","jobId":"415","authName":"scs-qa","pollingInterval":"1","firstMonitorInterval":1,"timeout":"20"}"#,
            "",
        ),
        job(
            2,
            "sap_cloud",
            r#"{"url":"http://@SAPHOST@/js","jobId":"416","pollingInterval":1,"firstMonitorInterval":"1"}"#,
            "",
        ),
        job(3, "sap_cloud", r#"{"url":"http://@SAPHOST@/js","pollingInterval":1}"#, ""),
        job(4, "sap_cloud", r#"{"url":"http://@SAPHOST@/js","jobId":"415","firstMonitorInterval":"1s"}"#, ""),
    ];
    let r = run(dir.path(), &data, "SAPC", &vars, &jobs);
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    let lines = r.lines(1);
    let pos = |l: &str| lines.iter().position(|x| *x == l).unwrap_or_else(|| panic!("{l} missing: {}", r.out(1)));
    assert!(pos("HttpStatusCode=201") < pos("scheduleId=sch-9"));
    assert!(pos("scheduleId=sch-9") < pos("ChkResultHttpStatusCode=200"));
    assert!(pos("ChkResultHttpStatusCode=200") < pos("runId=run-5"));
    assert_eq!(*lines.last().expect("last"), "runState=SUCCESS");
    let create = &mock.reqs("/js/scheduler/jobs/415/schedules")[0];
    assert_eq!(create.method, "POST");
    assert_eq!(create.header("authorization"), Some("Bearer SCS-AT"));
    let v: serde_json::Value = serde_json::from_str(&create.body).expect("schedule body");
    assert_eq!(v, serde_json::json!({"description":"WOI immediate run","type":"one-time","time":"now","active":true}));
    let tok = &mock.reqs("/scs/token")[0];
    assert_eq!(tok.header("authorization"), Some("Basic c2ItY2w6c2Itc2Vj"));
    assert!(tok.body.contains("grant_type=client_credentials"), "{}", tok.body);
    assert_eq!(mock.reqs("/js/scheduler/jobs/415/schedules/sch-9/runs").len(), 3);
    assert_eq!(r.code(2), 7);
    assert!(r.has_line(2, "runState=ERROR"), "{}", r.out(2));
    assert!(r.out(2).ends_with("ResultValue=ERROR\n"), "{}", r.out(2));
    assert_eq!(r.code(3), 2);
    assert!(r.out(3).starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"jobId\""), "{}", r.out(3));
    assert_eq!(r.code(4), 2);
    assert!(
        r.out(4).starts_with("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"firstMonitorInterval\""),
        "{}",
        r.out(4)
    );
}

#[test]
fn qa_rest_authrt_003_007_token_refetch_and_authentication_phase_failures() {
    let (dir, data) = tmp();
    let slow = Reply { delay_ms: 2500, ..ok(r#"{"access_token":"late"}"#) };
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mock = Mock::start(vec![
        (
            "/short",
            vec![
                ok(r#"{"access_token":"S-1","expires_in":45}"#),
                ok(r#"{"access_token":"S-2","expires_in":45}"#),
                ok(r#"{"access_token":"S-3","expires_in":45}"#),
            ],
        ),
        ("/slow-tok", vec![slow]),
        ("/chk", vec![ok(r#"{"s":"wait"}"#), ok(r#"{"s":"end"}"#)]),
        ("*", vec![ok(r#"{"s":"wait"}"#)]),
    ]);
    let b = mock.base();
    let o = auth_set(
        &data,
        &format!(
            r#"[{{"name":"az-short","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"{b}/short","scope":"q"}},
               {{"name":"az-slow","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"{b}/slow-tok","resource":"r"}},
               {{"name":"az-down","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"http://127.0.0.1:{closed}/t","scope":"q"}}]"#
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let jobs = vec![
        job(
            1,
            "rest",
            &format!(
                r#"{{"request":{{"url":"{b}/ex","method":"POST","authName":"az-short"}},"monitoring":{{"url":"{b}/chk","method":"GET","firstMonitorInterval":1,"pollingInterval":1,"pollingEndKey":"s","pollingEndVal":["end"],"checkResultKey":"s","checkResultVal":["end"]}}}}"#
            ),
            "",
        ),
        job(
            2,
            "rest",
            &format!(r#"{{"request":{{"url":"{b}/ex2","method":"GET","authName":"az-slow","timeout":1}}}}"#),
            "",
        ),
        job(3, "rest", &format!(r#"{{"request":{{"url":"{b}/ex3","method":"GET","authName":"az-down"}}}}"#), ""),
    ];
    let r = run(dir.path(), &data, "TREF", "", &jobs);
    // A token with fewer than 60 s left is fetched again before each call.
    assert_eq!(r.code(1), 0, "{}", r.out(1));
    assert_eq!(mock.reqs("/short").len(), 3);
    assert_eq!(mock.reqs("/ex")[0].header("authorization"), Some("Bearer S-1"));
    let polls: Vec<String> =
        mock.reqs("/chk").iter().map(|p| p.header("authorization").unwrap_or_default().to_owned()).collect();
    assert_eq!(polls, vec!["Bearer S-2", "Bearer S-3"]);
    assert_eq!(r.code(2), 10, "{}", r.out(2));
    assert_eq!(r.out(2), "MpJobsch: ERROR: 0611: HTTP request timed out. RequestType=authentication\n");
    assert_eq!(r.code(3), 10, "{}", r.out(3));
    assert_eq!(r.out(3), "MpJobsch: ERROR: 0610: A network issue occurred. RequestType=authentication\n");
    assert!(mock.reqs("/ex2").is_empty() && mock.reqs("/ex3").is_empty());
}
