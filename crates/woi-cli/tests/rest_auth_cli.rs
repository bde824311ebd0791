//! `woi auth set|list|show|delete` against a temporary data directory
//! (spec 03 §2.2, §3.1).

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn woi(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_woi"));
    cmd.arg("auth").args(args).arg("--data").arg(data).env_remove("WOI_SECRET_KEY");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn woi");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("woi runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// AUTH-001 AUTH-020 AUTH-021
#[test]
fn auth_001_020_021_cli_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let file = dir.path().join("auth.json");
    std::fs::write(
        &file,
        r#"[{"name":"aws-batch-01","authType":"basic","basicUser":"alice","basicPasswd":"pw-secret","k":"v-secret"},
            {"name":"tok","authType":"bearer","token":"tok-secret"}]"#,
    )
    .expect("write");
    let o = woi(&data, &["set", file.to_str().expect("utf-8")], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "registered: aws-batch-01, tok\n");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("secret.key")).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let o = woi(&data, &["list", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let names: Vec<&str> =
        v["items"].as_array().expect("items").iter().map(|i| i["name"].as_str().expect("name")).collect();
    assert_eq!(names, vec!["aws-batch-01", "tok"]);
    assert_eq!(v["items"][1]["authType"], "bearer");

    let o = woi(&data, &["show", "aws-batch-01", "--json"], None);
    let shown = text(&o.stdout);
    assert!(shown.contains("\"basicUser\": \"alice\""), "{shown}");
    assert!(shown.contains("\"basicPasswd\": \"***\"") && shown.contains("\"k\": \"***\""), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");

    let o = woi(&data, &["set", "-"], Some(r#"{"name":"tok","authType":"others"}"#));
    assert_eq!(o.status.code(), Some(0));
    let o = woi(&data, &["show", "tok"], None);
    assert_eq!(text(&o.stdout), "name: tok\nauthType: others\n");

    let o = woi(&data, &["delete", "tok"], None);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), "deleted: tok\n".to_owned()));
    let o = woi(&data, &["delete", "ghost"], None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "Error: Failed to delete integration-adapter auth info (ghost). (details: The target does not exist. Check the latest state.)\n"
    );
}

// AUTH-006 AUTH-004
#[test]
fn auth_006_004_cli_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let o = woi(&data, &["set", "-"], Some(r#"{"name":"b","authType":"basic","basicUser":"u"}"#));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "Error: Failed to create integration-adapter auth info (b). (details: Authentication information: A required parameter is not specified in the authentication-information control statement name=b param=basicPasswd)\n"
    );
    let o = woi(&data, &["set", "-"], Some("{"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("The form could not be submitted"));
    let o = woi(&data, &["list"], None);
    assert_eq!(text(&o.stdout), "NAME  AUTHTYPE  UPDATED\n");
    let o = woi(&data, &["set", "/nonexistent/file.json"], None);
    assert_eq!(o.status.code(), Some(2));
}
