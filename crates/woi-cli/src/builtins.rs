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
//! environment variables `WOI_SERVER`, `WOI_CLIENT_ID`, …; `--jobnet P/N` for
//! `jobschchkmsgevt`; `--tz` and `--day-change` for `jobschchecktime`;
//! `--var NAME=VALUE` and `--vars FILE` for `jobschchknetvar`).
//!
//! Output lines (`CM_MSGEVENT=…`, `CT_WTIME=…`, `SL_SLEEPSEC=…`, `NAME=VALUE`) go to standard
//! output; the messages a job would append to its history go to standard
//! error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Parser;
use woi_adapters::sqlite::SqliteStore;
use woi_core::builtin::{
    CheckTimeArgs, ChkMsgEvtArgs, ChkNetVarArgs, Failure, Finish, MsgEventArgs, Occurrence, SleepArgs, Step,
    TimeContext, code,
};
use woi_core::model::HourMinute;
use woi_core::{EventKind, JobnetKey, messages};

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
    /// The jobnet `jobschchkmsgevt` waits as, PROJECT/JOBNET (default: WOI_PROJECT/WOI_JOBNET,
    /// set for the jobs the scheduler runs; without either, outside any jobnet).
    #[arg(long)]
    jobnet: Option<String>,
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

/// `jobschchkmsgevt EVENT [-i SECONDS]`: wait on the occurrence history of the server
/// (`--server`: the Web API's `GET {base}/v1/msgevents/occurrences`, long-polled) or of the
/// data directory (the raises recorded in its journal), evaluated by
/// [`ChkMsgEvtArgs::step`] exactly as the scheduler evaluates a `jobschchkmsgevt` job.
///
/// The waiter's jobnet is `--jobnet P/N`, else `WOI_PROJECT`/`WOI_JOBNET` (which the scheduler
/// sets for the jobs it runs, so a script job of P/N waits like a built-in job of P/N). Outside
/// any jobnet only occurrences raised without a project (for every jobnet) concern it: the spec
/// lets a waiter see only events addressed to its own jobnet, and it has none.
fn chkmsgevt(o: &Opts, args: &[String]) -> Result<ExitCode, String> {
    let a = match ChkMsgEvtArgs::parse(args) {
        Ok(a) => a,
        Err(f) => return failed(f),
    };
    let waiter = match Waiter::of(o.jobnet.as_deref()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("woi jobschchkmsgevt: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    if o.remote.server.is_some() {
        rt.block_on(chkmsgevt_remote(o, &a, waiter))
    } else {
        rt.block_on(chkmsgevt_local(o, &a, waiter))
    }
}

/// The jobnet a `jobschchkmsgevt` shell command waits as, and the occurrences it collected.
struct Waiter {
    /// `None`: outside any jobnet.
    jobnet: Option<JobnetKey>,
    /// Occurrences of the event that concern it, in arrival order.
    history: Vec<Occurrence>,
}

impl Waiter {
    fn of(option: Option<&str>) -> Result<Waiter, String> {
        let jobnet = match option {
            Some(s) => Some(JobnetKey::parse(s).ok_or_else(|| format!("--jobnet {s:?}: expected PROJECT/JOBNET"))?),
            None => match (std::env::var("WOI_PROJECT"), std::env::var("WOI_JOBNET")) {
                (Ok(p), Ok(n)) if !p.is_empty() && !n.is_empty() => Some(JobnetKey::new(&p, &n)),
                _ => None,
            },
        };
        Ok(Waiter { jobnet, history: Vec::new() })
    }

    /// Keep an occurrence of `a`'s event that may concern the waiter (outside a jobnet: only
    /// those raised for every jobnet).
    fn collect(&mut self, a: &ChkMsgEvtArgs, o: Occurrence) {
        if o.event == a.event && (self.jobnet.is_some() || o.project.is_none()) {
            self.history.push(o);
        }
    }

    /// The scheduler's evaluation of a waiter started at `started`, at `now`.
    fn step(&self, a: &ChkMsgEvtArgs, started: DateTime<Utc>, now: DateTime<Utc>) -> Step {
        // Outside a jobnet every kept occurrence concerns every jobnet, so any key does.
        let outside = JobnetKey::new("", "");
        a.step(self.jobnet.as_ref().unwrap_or(&outside), started, now, &self.history)
    }
}

/// The occurrence history cannot be read: the cause, then 0523 (exit 31, CM-010).
fn unreadable(cause: &str) -> Failure {
    let mut f = Failure::occurrence_history_unreadable();
    f.lines.insert(0, format!("woi jobschchkmsgevt: {cause}"));
    f
}

/// The spec's exit code for a Web API error of jobschchkmsgevt: rejected credentials are a
/// failure to obtain the user information (22, as for jobschmsgevent); anything else leaves the
/// occurrence history unreadable (0523, 31).
fn chkmsgevt_failure(e: RemoteError) -> Failure {
    match e {
        RemoteError::Api { status: 401, code, message } => {
            Failure { exit_code: code::ENVIRONMENT, lines: vec![format!("{code}: {message}")] }
        }
        RemoteError::Token(m) => Failure { exit_code: code::ENVIRONMENT, lines: vec![m] },
        RemoteError::Api { code, message, .. } => unreadable(&format!("{code}: {message}")),
        RemoteError::Fatal(m) => unreadable(&m),
    }
}

/// Wait through the Web API. The server's clock is the reference: the command started at the
/// `now` of the first answer, and the checks fall every `-i` seconds of that clock; between
/// checks the request long-polls (at most 60 s), so a raise is seen at once and reported at
/// the next check.
async fn chkmsgevt_remote(o: &Opts, a: &ChkMsgEvtArgs, mut waiter: Waiter) -> Result<ExitCode, String> {
    let r = match crate::remote::Remote::connect(&o.remote).await {
        Ok(r) => r,
        Err(e) => return failed(chkmsgevt_failure(e)),
    };
    let (mut cursor, mut wait, mut started) = (0, 0, None);
    loop {
        let page = match r.occurrences(&a.event, cursor, wait).await {
            Ok(p) => p,
            Err(e) => return failed(chkmsgevt_failure(e)),
        };
        let started = *started.get_or_insert(page.now);
        cursor = page.cursor;
        for occ in page.occurrences {
            waiter.collect(a, occ);
        }
        match waiter.step(a, started, page.now) {
            Step::Done(f) => return finish(&f),
            Step::Wait(at) => {
                let ms = (at - page.now).num_milliseconds().max(0).unsigned_abs();
                wait = ms.div_ceil(1000).clamp(1, woi_server::msgevents::MAX_WAIT);
            }
        }
    }
}

/// Wait on the data directory: at each check (`-i` seconds apart, on this machine's clock)
/// read the raises journaled since the last one. The store is opened for reading beside a
/// `woi serve` that may hold the directory (WAL: readers do not block the writer).
async fn chkmsgevt_local(o: &Opts, a: &ChkMsgEvtArgs, mut waiter: Waiter) -> Result<ExitCode, String> {
    let db = o.data.join("woi.db");
    if !db.is_file() {
        return failed(unreadable(&format!("{}: no woi database (see --data)", db.display())));
    }
    let store = match tokio::task::spawn_blocking(move || SqliteStore::open(&db)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return failed(unreadable(&e.to_string())),
        Err(e) => return failed(unreadable(&e.to_string())),
    };
    let started = Utc::now();
    let mut cursor = 0;
    loop {
        let events = match store.events_of_kind_after(journal::RAISED, cursor).await {
            Ok(ev) => ev,
            Err(e) => return failed(unreadable(&e.to_string())),
        };
        for e in &events {
            cursor = cursor.max(e.seq);
            if let Some(occ) = journal::occurrence_of(e) {
                waiter.collect(a, occ);
            }
        }
        let now = Utc::now();
        match waiter.step(a, started, now) {
            Step::Done(f) => return finish(&f),
            Step::Wait(at) => {
                let d = (at - now).to_std().unwrap_or_default().max(std::time::Duration::from_millis(1));
                tokio::time::sleep(d).await;
            }
        }
    }
}

/// The message-event raises in the journal (`EventKind::MessageEventRaised`).
mod journal {
    use woi_core::builtin::Occurrence;
    use woi_core::{Event, EventKind};

    /// The journal kind of a raise (the serde name of `MessageEventRaised`).
    pub(super) const RAISED: &str = "message_event_raised";

    /// The occurrence a journal event records, if it is a raise.
    pub(super) fn occurrence_of(e: &Event) -> Option<Occurrence> {
        match &e.kind {
            EventKind::MessageEventRaised { occurrence } => Some(occurrence.clone()),
            _ => None,
        }
    }
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
    let Some((rt, store, _lock, _)) = crate::daemon::open_runtime(&ro, false).await? else {
        return Ok(ExitCode::from(1));
    };
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

    fn occurrence(seq: u64, event: &str, project: Option<&str>, vparam: &str, at: &str) -> Occurrence {
        Occurrence {
            seq,
            event: event.into(),
            project: project.map(str::to_string),
            jobnet: None,
            vparam: Some(vparam.into()),
            raised_at: DateTime::parse_from_rfc3339(at).expect("rfc3339").to_utc(),
        }
    }

    #[test]
    fn outside_a_jobnet_only_events_raised_for_every_jobnet_are_kept() {
        let a = ChkMsgEvtArgs::parse(&words("EV1 -i 10")).expect("args");
        let started = DateTime::parse_from_rfc3339("2025-06-01T10:00:00Z").expect("rfc3339").to_utc();
        let check = started + chrono::Duration::seconds(10);
        let mut outside = Waiter { jobnet: None, history: Vec::new() };
        let mut inside = Waiter { jobnet: Some(JobnetKey::new("P1", "J1")), history: Vec::new() };
        for w in [&mut outside, &mut inside] {
            w.collect(&a, occurrence(1, "EV1", Some("P1"), "p1", "2025-06-01T10:00:01Z"));
            w.collect(&a, occurrence(2, "EV2", None, "other", "2025-06-01T10:00:02Z"));
            w.collect(&a, occurrence(3, "EV1", None, "all", "2025-06-01T10:00:03Z"));
        }
        let out = |w: &Waiter| match w.step(&a, started, check) {
            Step::Done(f) => f.output,
            Step::Wait(at) => panic!("waits until {at}"),
        };
        assert_eq!(out(&outside), ["CM_MSGEVENT=EV1", "CM_VPARAM=all"]);
        assert_eq!(out(&inside), ["CM_MSGEVENT=EV1", "CM_VPARAM=p1"]);
    }

    #[test]
    fn a_journal_event_other_than_a_raise_is_no_occurrence() {
        let e = woi_core::Event {
            seq: 1,
            at: Utc::now(),
            kind: EventKind::MessageCountsCleared { jobnet: JobnetKey::new("P1", "J1") },
        };
        assert_eq!(journal::occurrence_of(&e), None);
    }

    #[test]
    fn day_change_accepts_both_forms() {
        assert_eq!(parse_day_change("05:00"), HourMinute::new(5, 0));
        assert_eq!(parse_day_change("0530"), HourMinute::new(5, 30));
        assert_eq!(parse_day_change("25:00"), None);
    }
}
