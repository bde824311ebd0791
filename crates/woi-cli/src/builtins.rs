//! The five built-in job commands as shell commands (spec 02 §3.2–§3.6):
//! `woi jobschmsgevent`, `woi jobschchkmsgevt`, `woi jobschchecktime`,
//! `woi jobschsleep`, `woi jobschchknetvar`.
//!
//! The words after the command name are the spec's arguments, parsed by
//! `woi_core::builtin` exactly as a job of the scheduler parses them: an
//! option error prints the spec's message on standard error and exits with
//! the spec's code (21), never clap's usage error. woi's own options come
//! first, before the spec's arguments, and all start with `--`
//! (`--server URL`, `--data DIR`, the credentials of [`RemoteArgs`] and the
//! environment variables `WOI_SERVER`, `WOI_CLIENT_ID`, …; `--tz` and
//! `--day-change` for `jobschchecktime`; `--var NAME=VALUE` and `--vars FILE`
//! for `jobschchknetvar`).
//!
//! Output lines (`CT_WTIME=…`, `SL_SLEEPSEC=…`, `NAME=VALUE`) go to standard
//! output; the messages a job would append to its history go to standard
//! error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::Parser;
use woi_core::builtin::{
    CheckTimeArgs, ChkMsgEvtArgs, ChkNetVarArgs, Failure, Finish, MsgEventArgs, SleepArgs, Step, TimeContext, code,
};
use woi_core::model::HourMinute;
use woi_core::{EventKind, messages};

use crate::out;
use crate::remote::{EventTarget, RemoteArgs, RemoteError};

/// woi's own options of the built-in commands (the words before the spec's arguments).
#[derive(Parser, Debug)]
#[command(name = "woi", no_binary_name = true, disable_help_flag = true, disable_version_flag = true)]
struct Opts {
    #[command(flatten)]
    remote: RemoteArgs,
    /// Data directory of the embedded scheduler (without --server).
    #[arg(long, default_value = "woi-data")]
    data: PathBuf,
    /// Time zone of `jobschchecktime` (IANA name).
    #[arg(long, env = "WOI_TZ", default_value = "Asia/Tokyo")]
    tz: String,
    /// Day-change time of `jobschchecktime`, HH:MM or HHMM.
    #[arg(long, env = "WOI_DAY_CHANGE", default_value = "00:00")]
    day_change: String,
    /// A jobnet variable for `jobschchknetvar`, NAME=VALUE (repeatable).
    #[arg(long = "var")]
    vars: Vec<String>,
    /// A file of NAME=VALUE lines for `jobschchknetvar` (`-` reads standard input).
    #[arg(long = "vars")]
    vars_file: Option<PathBuf>,
}

/// Split the raw words into woi's leading `--` options and the spec's arguments.
fn split(words: &[String]) -> (&[String], &[String]) {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        if !w.starts_with("--") || w == "--" {
            break;
        }
        i += if w.contains('=') { 1 } else { 2 };
    }
    let i = i.min(words.len());
    let (lead, rest) = words.split_at(i);
    (lead, rest.strip_prefix(&["--".to_string()][..]).unwrap_or(rest))
}

/// Print a finished command: output lines on stdout, history messages on stderr.
fn finish(f: &Finish) -> Result<ExitCode, String> {
    out(&f.stdout());
    for m in &f.messages {
        eprintln!("{m}");
    }
    Ok(ExitCode::from(u8::try_from(f.exit_code).unwrap_or(u8::MAX)))
}

fn failed(f: Failure) -> Result<ExitCode, String> {
    finish(&Finish::from(f))
}

/// Run built-in `command` with the raw words that followed it.
pub fn run(command: &str, words: &[String]) -> Result<ExitCode, String> {
    let (lead, args) = split(words);
    let opts = match Opts::try_parse_from(lead) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("woi {command}: {}", e.to_string().trim_end());
            return Ok(ExitCode::from(2));
        }
    };
    match command {
        "jobschmsgevent" => msgevent(&opts, args),
        "jobschchkmsgevt" => chkmsgevt(&opts, args),
        "jobschchecktime" => checktime(&opts, args),
        "jobschsleep" => sleep(args),
        _ => chknetvar(&opts, args),
    }
}

/// Sleep in-process until `step` is done (real clock).
fn wait_loop(mut step: impl FnMut(chrono::DateTime<Utc>) -> Result<Step, Failure>) -> Result<ExitCode, String> {
    loop {
        let now = Utc::now();
        match step(now) {
            Ok(Step::Done(f)) => return finish(&f),
            Ok(Step::Wait(at)) => {
                let d = (at - now).to_std().unwrap_or_default().max(std::time::Duration::from_millis(1));
                // Wake at least once a minute to follow clock changes.
                std::thread::sleep(d.min(std::time::Duration::from_secs(60)));
            }
            Err(f) => return failed(f),
        }
    }
}

/// `jobschsleep <seconds>`.
fn sleep(args: &[String]) -> Result<ExitCode, String> {
    let a = match SleepArgs::parse(args) {
        Ok(a) => a,
        Err(f) => return failed(f),
    };
    let started = Utc::now();
    wait_loop(|now| Ok(a.step(started, now)))
}

fn parse_day_change(s: &str) -> Option<HourMinute> {
    let digits: String = s.chars().filter(|c| *c != ':').collect();
    let b = digits.as_bytes();
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    HourMinute::new((b[0] - b'0') * 10 + (b[1] - b'0'), (b[2] - b'0') * 10 + (b[3] - b'0'))
}

/// `jobschchecktime -wt HHMM [-lt HHMM]`: the reference operating day is today's (in `--tz`
/// with `--day-change`), as for a jobnet started now.
fn checktime(o: &Opts, args: &[String]) -> Result<ExitCode, String> {
    let a = match CheckTimeArgs::parse(args) {
        Ok(a) => a,
        Err(f) => return failed(f),
    };
    let tz: chrono_tz::Tz = o.tz.parse().map_err(|_| format!("--tz {:?}: not an IANA time zone", o.tz))?;
    let Some(day_change) = parse_day_change(&o.day_change) else {
        // The day-change time cannot be obtained: 0027, exit 22 (CT-018).
        return failed(Failure::day_change_unavailable());
    };
    let started = Utc::now();
    let ctx = TimeContext::for_run(tz, day_change, None, started);
    wait_loop(|now| a.step(&ctx, started, now))
}

/// `jobschchknetvar NAME [-num …|-char …] [-z]` over the variables of `--var` and `--vars`.
fn chknetvar(o: &Opts, args: &[String]) -> Result<ExitCode, String> {
    let a = match ChkNetVarArgs::parse(args) {
        Ok(a) => a,
        Err(f) => return failed(f),
    };
    let mut vars = BTreeMap::new();
    if let Some(path) = &o.vars_file {
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(path)
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => return failed(Failure::variable_store_unreadable(&format!("{}: {e}", path.display()))),
        };
        for line in text.lines().filter(|l| !l.is_empty()) {
            match line.split_once('=') {
                Some((k, v)) => vars.insert(k.to_string(), v.to_string()),
                None => {
                    let e = format!("{}: {line:?} is not NAME=VALUE", path.display());
                    return failed(Failure::variable_store_unreadable(&e));
                }
            };
        }
    }
    for kv in &o.vars {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(format!("--var {kv:?}: expected NAME=VALUE"));
        };
        vars.insert(k.to_string(), v.to_string());
    }
    finish(&a.evaluate(&vars))
}

/// `jobschchkmsgevt EVENT [-i SECONDS]`: the arguments are checked; the wait itself needs the
/// scheduler's occurrence history, which neither the Web API nor the data directory exposes to
/// another process, so the command ends as "occurrence history unreadable" (0523, exit 31).
fn chkmsgevt(o: &Opts, args: &[String]) -> Result<ExitCode, String> {
    if let Err(f) = ChkMsgEvtArgs::parse(args) {
        return failed(f);
    }
    let wherefrom = if o.remote.server.is_some() { "the Web API" } else { "the data directory" };
    eprintln!(
        "woi: jobschchkmsgevt: {wherefrom} offers no message-event occurrence history to wait on; \
         use a jobschchkmsgevt job inside a jobnet"
    );
    failed(Failure::occurrence_history_unreadable())
}

/// The host names `-h` may name besides localhost.
fn local_names() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(h) = std::env::var("HOSTNAME") {
        names.push(h);
    }
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        names.push(h.trim().to_string());
    }
    names.retain(|n| !n.is_empty());
    names
}

/// `jobschmsgevent EVENT[:PROJECT[/JOBNET]] [-p PARAM [-c SUFFIX]] …`: raise the event on the
/// server (`--server`) or on the embedded scheduler of the data directory.
fn msgevent(o: &Opts, args: &[String]) -> Result<ExitCode, String> {
    let a = match MsgEventArgs::parse(args) {
        Ok(a) => a,
        Err(f) => return failed(f),
    };
    let names = local_names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Err(f) = a.check_host(&refs) {
        return failed(f);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    if o.remote.server.is_some() { rt.block_on(msgevent_remote(o, &a)) } else { rt.block_on(msgevent_local(o, &a)) }
}

/// The spec's exit code for a Web API error of msgevent (spec 02 §3.2 design suggestion).
fn msgevent_failure(e: RemoteError) -> Failure {
    match e {
        RemoteError::Api { status, code, message } => {
            // OM_API_00900 carries the scheduler's message after `detail=`.
            let detail = message.split_once("detail=").map(|(_, d)| d).filter(|d| d.starts_with("MpJobsch:"));
            let line = match detail {
                Some(d) => d.to_string(),
                None => format!("{code}: {message}"),
            };
            let exit_code = match status {
                // Bad credentials: the user information cannot be obtained.
                401 => code::ENVIRONMENT,
                // 0416 / 0103 / 0175 (project or jobnet not found) come as OM_API_00900.
                _ if [": 0416: ", ": 0103: ", ": 0175: "].iter().any(|id| line.contains(id)) => code::INVALID,
                400..=499 => code::INVALID,
                _ => code::INTERNAL_ENVIRONMENT,
            };
            Failure { exit_code, lines: vec![line] }
        }
        RemoteError::Token(m) => Failure { exit_code: code::ENVIRONMENT, lines: vec![m] },
        RemoteError::Fatal(m) => Failure { exit_code: code::INTERNAL_ENVIRONMENT, lines: vec![m] },
    }
}

async fn msgevent_remote(o: &Opts, a: &MsgEventArgs) -> Result<ExitCode, String> {
    let r = match crate::remote::Remote::connect(&o.remote).await {
        Ok(r) => r,
        Err(e) => return failed(msgevent_failure(e)),
    };
    let target = EventTarget {
        event: &a.event,
        project: a.project.as_deref(),
        jobnet: a.jobnet.as_deref(),
        vparam: a.vparam.as_deref(),
        suffix: a.suffix.as_deref(),
    };
    match r.msgevent(&target).await {
        // The API does not report the engine's 0431/0432/0435 for the raise.
        Ok(()) => finish(&MsgEventArgs::finish(&[], true)),
        Err(e) => failed(msgevent_failure(e)),
    }
}

async fn msgevent_local(o: &Opts, a: &MsgEventArgs) -> Result<ExitCode, String> {
    let ro = crate::daemon::RunOptions { data: &o.data, defs: &[], now: None, speed: 1.0, json: false };
    let Some((rt, store, _lock)) = crate::daemon::open_runtime(&ro).await? else { return Ok(ExitCode::from(1)) };
    let env = crate::daemon::environment(&store).await?;
    if let Err(f) = a.check_target(&env) {
        return failed(f);
    }
    let h = rt.handle();
    let mut events = h.subscribe();
    let task = tokio::spawn(rt.run());
    let result = h.raise_event(&a.raise_request()).await;
    // The raise's records were appended (and broadcast) before it answered.
    let mut logged = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let EventKind::Log { message, .. } = ev.kind {
            logged.push(message);
        }
    }
    // Whatever the event started runs to its end before the embedded scheduler stops.
    if result.is_ok() {
        loop {
            let running = h.jobnets().await.map_err(|e| e.to_string())?.iter().any(|v| v.status.is_running());
            if !running {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    h.shutdown().await.map_err(|e| e.to_string())?;
    task.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    match result {
        Ok(_) => finish(&MsgEventArgs::finish(&logged, true)),
        Err(e) => failed(Failure {
            exit_code: code::INTERNAL_ENVIRONMENT,
            lines: vec![messages::internal_error(&e.to_string())],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn woi_options_come_before_the_spec_arguments() {
        let w = words("--server http://x --data=d EV1 -p X --tz Z");
        let (lead, rest) = split(&w);
        assert_eq!(lead, &w[..3]);
        assert_eq!(rest, &w[3..]);
        let w = words("-- --odd");
        assert_eq!(split(&w).1, &w[1..]);
    }

    #[test]
    fn day_change_accepts_both_forms() {
        assert_eq!(parse_day_change("05:00"), HourMinute::new(5, 0));
        assert_eq!(parse_day_change("0530"), HourMinute::new(5, 30));
        assert_eq!(parse_day_change("25:00"), None);
    }
}
