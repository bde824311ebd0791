//! `woi jobschchkmsgevt` waiting on a live scheduler (spec 02 §3.3) through
//! the real binary: against a real `woi serve --listen` on loopback
//! (`--server`, the Web API's occurrence history, long-polled) and against a
//! data directory.
//!
//! The waiter's start instant is the server's clock at its first answer, so
//! a test cannot know when an occurrence falls after it: each test raises
//! its events again and again (one `jobschmsgevent` round after another)
//! until the waiter ends, and tells the occurrences apart by their variable
//! parameters. No timing is asserted beyond "it ends".

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::server::{self, DEFS, Server, WOI, text, woi_in};

const MSG_0523: &str = "MpJobsch: ERROR: 0523: Failed to read the message event occurrence history file.\n";

/// `woi ARGS` started in `cwd` with only these WOI_* variables, not waited for.
fn spawn(cwd: &Path, args: &[&str], env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(WOI);
    cmd.args(args).current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("WOI_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().expect("spawn woi")
}

/// A waiter `woi jobschchkmsgevt ARGS` against `s` as the admin, with extra variables.
fn waiter(s: &Server, args: &[&str], extra: &[(&str, &str)]) -> Child {
    let mut env = s.env();
    for (k, v) in extra {
        env.retain(|(e, _)| e != k);
        env.push((k, v.to_string()));
    }
    let mut a = vec!["jobschchkmsgevt"];
    a.extend_from_slice(args);
    spawn(&s.path(), &a, &env)
}

/// Run `round` (raising events) until `child` ends (at most 60 s); its exit code, stdout, stderr.
fn raise_until_done(child: &mut Child, mut round: impl FnMut(u32)) -> (Option<i32>, String, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the waiter did not end");
        }
        n += 1;
        round(n);
        std::thread::sleep(Duration::from_millis(200));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
    (status.code(), out, err)
}

/// `woi jobschmsgevent ARGS` through the server; must succeed.
fn raise(s: &Server, args: &[&str]) {
    let mut a = vec!["jobschmsgevent"];
    a.extend_from_slice(args);
    let o = s.woi(&a);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
}

// CM-001
#[test]
fn cm_001_an_event_raised_while_the_command_waits_ends_it_with_0_and_cm_msgevent() {
    let s = server::start(DEFS);
    let mut w = waiter(&s, &["EVX", "-i", "1"], &[]);
    let got = raise_until_done(&mut w, |_| raise(&s, &["EVX"]));
    assert_eq!(got, (Some(0), "CM_MSGEVENT=EVX\n".into(), String::new()));
}

// CM-002
#[test]
fn cm_002_an_event_raised_before_the_command_started_does_not_count() {
    let s = server::start(DEFS);
    raise(&s, &["EVX", "-p", "before"]);
    let mut w = waiter(&s, &["EVX", "-i", "1"], &[]);
    let got = raise_until_done(&mut w, |n| raise(&s, &["EVX", "-p", &format!("after{n}")]));
    assert_eq!(got.0, Some(0), "{}", got.2);
    assert!(got.1.starts_with("CM_MSGEVENT=EVX\nCM_VPARAM=after"), "{}", got.1);
}

// CM-003 CM-004 CM-005
#[test]
fn cm_003_005_a_waiter_of_a_jobnet_sees_events_for_its_project_but_not_for_others() {
    let s = server::start(DEFS);
    // The jobnet of a job the scheduler runs: WOI_PROJECT / WOI_JOBNET.
    let mut w = waiter(&s, &["EVX", "-i", "1"], &[("WOI_PROJECT", "P1"), ("WOI_JOBNET", "J2")]);
    let got = raise_until_done(&mut w, |_| {
        raise(&s, &["EVX:P1/J1", "-p", "other-jobnet"]);
        raise(&s, &["EVX:P2", "-p", "other-project"]);
        raise(&s, &["EVX:P1", "-p", "own-project"]);
    });
    assert_eq!(got, (Some(0), "CM_MSGEVENT=EVX\nCM_VPARAM=own-project\n".into(), String::new()));

    // --jobnet says the same; an event for exactly that jobnet concerns it.
    let mut w = waiter(&s, &["--jobnet", "P1/J2", "EVX", "-i", "1"], &[]);
    let got = raise_until_done(&mut w, |_| {
        raise(&s, &["EVX:P1/J1", "-p", "other-jobnet"]);
        raise(&s, &["EVX:P1/J2", "-p", "own-jobnet"]);
    });
    assert_eq!(got, (Some(0), "CM_MSGEVENT=EVX\nCM_VPARAM=own-jobnet\n".into(), String::new()));
}

#[test]
fn outside_any_jobnet_only_events_raised_for_every_jobnet_concern_the_waiter() {
    let s = server::start(DEFS);
    let mut w = waiter(&s, &["EVX", "-i", "1"], &[]);
    let got = raise_until_done(&mut w, |_| {
        raise(&s, &["EVX:P1", "-p", "addressed"]);
        raise(&s, &["EVX", "-p", "everyone"]);
    });
    assert_eq!(got, (Some(0), "CM_MSGEVENT=EVX\nCM_VPARAM=everyone\n".into(), String::new()));
}

// CM-011
#[test]
fn cm_011_a_waiter_for_xyz_ignores_other_events() {
    let s = server::start(DEFS);
    let mut w = waiter(&s, &["-i", "1", "XYZ"], &[]);
    let got = raise_until_done(&mut w, |_| {
        raise(&s, &["ABC", "-p", "abc"]);
        raise(&s, &["XYZ"]);
    });
    assert_eq!(got, (Some(0), "CM_MSGEVENT=XYZ\n".into(), String::new()));
}

#[test]
fn a_user_without_rights_on_the_project_does_not_see_its_events() {
    let s = server::start(DEFS);
    let d = s.path();
    let ok = |o: std::process::Output| assert!(o.status.success(), "{}", text(&o.stderr));
    ok(woi_in(&d, &["user", "add", "ref2", "--data", "data"], Some("Rr#12345\n"), &[]));
    ok(woi_in(&d, &["user", "grant", "ref2", "P2", "reference", "--data", "data"], None, &[]));
    let as_ref2 = [("WOI_USER", "ref2"), ("WOI_PASSWORD", "Rr#12345")];
    let mut w = waiter(&s, &["--jobnet", "P1/J2", "EVX", "-i", "1"], &as_ref2);
    let got = raise_until_done(&mut w, |_| {
        raise(&s, &["EVX:P1", "-p", "hidden"]);
        raise(&s, &["EVX", "-p", "visible"]);
    });
    assert_eq!(got, (Some(0), "CM_MSGEVENT=EVX\nCM_VPARAM=visible\n".into(), String::new()));
}

// CM-010
#[test]
fn cm_010_an_unreachable_server_or_a_missing_data_directory_exits_31_with_0523() {
    let s = server::start(DEFS);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let o = s.woi_with(&["jobschchkmsgevt", "EVX", "-i", "1"], &[("WOI_SERVER", &dead)]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(31), String::new()));
    let err = text(&o.stderr);
    assert!(err.contains("cannot reach the woi server") && err.ends_with(MSG_0523), "{err}");

    let o = woi_in(&s.path(), &["jobschchkmsgevt", "--data", "nowhere", "EVX", "-i", "1"], None, &[]);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(31), String::new()));
    assert!(text(&o.stderr).ends_with(MSG_0523), "{}", text(&o.stderr));
}

#[test]
fn rejected_credentials_exit_22() {
    let s = server::start(DEFS);
    let o = s.woi_with(&["jobschchkmsgevt", "EVX"], &[("WOI_PASSWORD", "Wr0ng#pw")]);
    assert_eq!(
        (o.status.code(), text(&o.stdout), text(&o.stderr)),
        (Some(22), String::new(), "OM_API_00002: The user ID or password is invalid.\n".into())
    );
}

// CM-001 (data directory)
#[test]
fn cm_001_data_directory_an_event_raised_while_the_command_waits_ends_it() {
    let s = server::start(DEFS);
    let mut w = spawn(&s.path(), &["jobschchkmsgevt", "--data", "data", "EVX", "-i", "1"], &[]);
    let got = raise_until_done(&mut w, |n| raise(&s, &["EVX", "-p", &format!("n{n}")]));
    assert_eq!(got.0, Some(0), "{}", got.2);
    assert!(got.1.starts_with("CM_MSGEVENT=EVX\nCM_VPARAM=n"), "{}", got.1);
}
