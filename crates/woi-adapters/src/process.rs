//! The process executor: runs a job's command as a local process.
//!
//! # Command line
//!
//! The command line is `job.command` followed by `job.params`, each split into
//! words like a POSIX shell does (the `shell-words` rules: single and double
//! quotes and backslashes are honoured), but **without a shell**: no variable
//! expansion, no globbing, no redirection, no pipes. The first word is the
//! program, looked up in `PATH` as usual (the job's own `PATH` if its
//! environment sets one; where a program was found is remembered for a
//! couple of seconds, see `PathCache`; `argv[0]` is always the word as
//! written). A job that needs shell features says
//! so explicitly, e.g. `sh -c 'tar cf - data | gzip > data.tgz'`.
//!
//! # Start failures (spec 01 §3.1, 8.5.1 table; spec 02 §3.9–3.11)
//!
//! Checked in this order, each ending the job with a scheduler code and an
//! explanatory `woi:` line in the output, without starting anything:
//!
//! | check | code |
//! |---|---|
//! | execution user other than `jobuser` or the scheduler's own user | 250 |
//! | working directory missing or not a directory | 253 (XC-006) |
//! | command line empty or unparsable (unclosed quote) | 254 |
//! | spawn failed: program not found, not executable, permission denied | 254 (MODEL-010, XC-005) |
//!
//! Only the scheduler's own user is supported as the execution user: the
//! executor never switches users.
//!
//! # Exit status
//!
//! * Exit code `n` → [`ExitCode::from_command`]`(n)`. On Unix a process can only
//!   return 0–255, so the "≥ 256 becomes 255 with the raw value" rule of 8.5.1
//!   never triggers here (adapters that see wider codes use the same function).
//! * Killed by a signal `s` nobody asked for → `from_command(128 + s)`, as
//!   shells report it (SIGKILL → 137, SIGSEGV → 139), with a `woi:` line
//!   naming the signal. The code counts as the command's own (origin
//!   `Command`), so a normal upper limit ≥ 128 would accept it.
//! * When the engine fires the [`KillSignal`], the whole process group gets
//!   SIGTERM, then SIGKILL once the grace period has passed while any member is
//!   still alive; the result carries the exit code as observed (the engine has
//!   already recorded its own code and only uses the output).
//!
//! # Process, environment and output
//!
//! The job runs in its own process group (so a kill reaches its children), with
//! stdin from `/dev/null`, the scheduler's environment plus `job.env`, plus
//! `WOI_PROJECT`, `WOI_JOBNET`, `WOI_JOB` (job number) and `WOI_JOB_NAME`.
//! Standard output and standard error are captured up to
//! [`ProcessSettings::output_cap`] bytes in total (standard output first, then
//! standard error; with `stderr_to_stdout` both go to one buffer in arrival
//! order), keeping the first bytes; the pipes are drained to the end so the job
//! never blocks on a full pipe. Output is decoded as lossy UTF-8. `woi:` notes
//! are appended after the captured output and are not counted in the cap.
//!
//! `stdout_file` / `stderr_file` receive the streams as well (created if
//! missing, appended to; a relative path is relative to the job's directory).
//! With `stderr_to_stdout`, standard error also goes to `stdout_file`. A file
//! that cannot be opened or written adds a `woi:` line but does not fail the job.
//!
//! When the job's main process has ended but a background child still holds
//! the pipes open, the output is collected for at most
//! [`ProcessSettings::drain_after_exit`] more and the job ends; such children
//! are left running (only a kill request kills the group). If the future
//! returned by [`Executor::run`] is dropped while the job runs, the process
//! group is sent SIGKILL.
//!
//! The executor runs every [`JobRun`] it is given as a command, whatever its
//! kind; routing other kinds elsewhere is the driver's business.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use woi_core::ExitCode;
use woi_core::engine::KillReason;
use woi_core::exec::{Executor, JobResult, JobRun, KillSignal};
use woi_core::exit::{ABNORMAL, CHDIR_FAILED, EXEC_INFO_FAILED, START_FAILED};

/// Default cap of captured output: 1 MiB.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;
/// Default time between SIGTERM and SIGKILL on a kill request: 5 s.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);
/// Default time output is still collected after the main process ended: 1 s.
pub const DEFAULT_DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// The execution-user name that always means "the scheduler's own user".
pub const JOBUSER: &str = "jobuser";

/// Poll interval while waiting for a terminated process group to empty.
const GROUP_POLL: Duration = Duration::from_millis(20);
/// Read buffer size of the output pumps.
const READ_CHUNK: usize = 16 * 1024;

/// Settings of a [`ProcessExecutor`].
#[derive(Clone, Debug)]
pub struct ProcessSettings {
    /// Bytes of output kept per job (standard output and error together).
    pub output_cap: usize,
    /// Time between SIGTERM and SIGKILL when a job is killed.
    pub kill_grace: Duration,
    /// How long output is still collected after the job's main process ended
    /// while a background child keeps the pipes open.
    pub drain_after_exit: Duration,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            output_cap: DEFAULT_OUTPUT_CAP,
            kill_grace: DEFAULT_KILL_GRACE,
            drain_after_exit: DEFAULT_DRAIN_AFTER_EXIT,
        }
    }
}

/// Runs jobs as local processes (see the module documentation).
#[derive(Clone, Debug)]
pub struct ProcessExecutor {
    settings: ProcessSettings,
    host: String,
    user: Option<String>,
    paths: Arc<PathCache>,
}

/// How long a program found in `PATH` is started from where it was found
/// without looking again (so that one installed later in an earlier `PATH`
/// directory is picked up after at most this long).
const PATH_CACHE_TTL: Duration = Duration::from_secs(2);
/// Entries kept at most; the cache is emptied when it is full.
const PATH_CACHE_MAX: usize = 1024;

/// Programs found in `PATH`, by (name, `PATH`): starting `true` through a
/// plain `PATH` search costs one failed `execve` per directory before it
/// (in the child, while the spawning thread waits). Only hits are kept: a
/// program that is not found is searched for again at the next start, so
/// its error (254) is exactly the usual one and it is found as soon as it
/// appears. A lookup that reaches a relative or empty `PATH` entry (which
/// depends on the job's directory) is not cached.
#[derive(Debug, Default)]
struct PathCache {
    found: Mutex<HashMap<(String, OsString), (PathBuf, std::time::Instant)>>,
}

impl PathCache {
    fn entries(&self) -> MutexGuard<'_, HashMap<(String, OsString), (PathBuf, std::time::Instant)>> {
        self.found.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where `program` (no slash) is in `path`, with the cache key; `None`
    /// when it is not found or the lookup is not cacheable.
    fn resolve(&self, program: &str, path: OsString) -> Option<(PathBuf, (String, OsString))> {
        if program.is_empty() || program.contains('/') {
            return None;
        }
        let key = (program.to_owned(), path);
        let now = std::time::Instant::now();
        if let Some((exe, at)) = self.entries().get(&key)
            && now.saturating_duration_since(*at) < PATH_CACHE_TTL
        {
            return Some((exe.clone(), key));
        }
        let mut exe = None;
        for dir in std::env::split_paths(&key.1) {
            if !dir.is_absolute() {
                return None;
            }
            let candidate = dir.join(program);
            // What `execvp` would run: the first regular file we may execute
            // (it goes on past files it cannot execute).
            if candidate.metadata().is_ok_and(|m| m.is_file())
                && nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok()
            {
                exe = Some(candidate);
                break;
            }
        }
        let mut entries = self.entries();
        let Some(exe) = exe else {
            entries.remove(&key);
            return None;
        };
        if entries.len() >= PATH_CACHE_MAX {
            entries.clear();
        }
        entries.insert(key.clone(), (exe.clone(), now));
        Some((exe, key))
    }

    fn forget(&self, key: &(String, OsString)) {
        self.entries().remove(key);
    }
}

impl Default for ProcessExecutor {
    fn default() -> Self {
        ProcessExecutor::new(ProcessSettings::default())
    }
}

impl ProcessExecutor {
    /// An executor with these settings. Looks up the host name and the current
    /// user's name once.
    pub fn new(settings: ProcessSettings) -> ProcessExecutor {
        let host = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        let user = match nix::unistd::User::from_uid(nix::unistd::getuid()) {
            Ok(Some(u)) => Some(u.name),
            _ => std::env::var("USER").ok().filter(|u| !u.is_empty()),
        };
        ProcessExecutor { settings, host, user, paths: Arc::default() }
    }

    /// Its settings.
    pub fn settings(&self) -> &ProcessSettings {
        &self.settings
    }

    /// The host name reported in every [`JobResult`].
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The scheduler's own user name, if it could be determined.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    fn result(&self, exit: ExitCode, output: String, truncated: bool) -> JobResult {
        JobResult { exit, output, truncated, host: self.host.clone() }
    }

    /// A job that ended before anything was started.
    fn refused(&self, code: u32, note: String) -> JobResult {
        self.result(ExitCode::scheduler(code), format!("woi: {note}\n"), false)
    }

    /// Check the execution user: `None`, empty, `jobuser` or our own user.
    fn check_user(&self, user: Option<&str>) -> Result<(), String> {
        match user.map(str::trim) {
            None | Some("") | Some(JOBUSER) => Ok(()),
            Some(u) if Some(u) == self.user.as_deref() => Ok(()),
            Some(u) => Err(format!(
                "execution user `{u}` is not supported: jobs run only as the scheduler's own user ({}); \
                 leave the execution user empty or set it to `{JOBUSER}`",
                self.user.as_deref().unwrap_or("unknown")
            )),
        }
    }

    /// Spawn `program`: a name without a slash is looked up in `PATH` (the
    /// job's own `PATH` if it sets one) through the [`PathCache`]; when the
    /// cached file cannot be started any more, the entry is dropped and the
    /// name is started with the usual search, whose error is the one reported.
    fn spawn(&self, program: &str, job_path: Option<&OsStr>, build: impl Fn(&Path) -> Command) -> io::Result<Child> {
        let path = job_path.map(OsString::from).or_else(|| std::env::var_os("PATH"));
        match path.and_then(|path| self.paths.resolve(program, path)) {
            Some((exe, key)) => match build(&exe).spawn() {
                Ok(child) => Ok(child),
                Err(_) => {
                    self.paths.forget(&key);
                    build(Path::new(program)).spawn()
                }
            },
            None => build(Path::new(program)).spawn(),
        }
    }

    /// Wait for the job, or kill it when asked. Returns the status and
    /// whether a kill was requested.
    async fn wait_or_kill(
        &self,
        child: &mut Child,
        group: Option<Pid>,
        mut kill: KillSignal,
        notes: &mut Vec<String>,
    ) -> io::Result<ExitStatus> {
        let fired = tokio::select! {
            biased;
            status = child.wait() => return status,
            fired = &mut kill => fired,
        };
        match fired {
            Ok(reason) => self.terminate(child, group, reason, notes).await,
            // Nobody will ask to kill the job: just wait for it.
            Err(_) => child.wait().await,
        }
    }

    /// SIGTERM the group, wait up to the grace period for it to empty, then
    /// SIGKILL whatever is left; reap the main process.
    async fn terminate(
        &self,
        child: &mut Child,
        group: Option<Pid>,
        reason: KillReason,
        notes: &mut Vec<String>,
    ) -> io::Result<ExitStatus> {
        let Some(pg) = group else {
            // No group id (cannot happen for a running child): kill the process itself.
            notes.push(format!("kill requested ({reason:?}): sending SIGKILL to the job's process"));
            if let Err(e) = child.start_kill() {
                notes.push(format!("SIGKILL failed: {e}"));
            }
            return child.wait().await;
        };
        notes.push(format!("kill requested ({reason:?}): SIGTERM sent to process group {pg}"));
        if let Err(e) = killpg(pg, Signal::SIGTERM)
            && e != Errno::ESRCH
        {
            notes.push(format!("SIGTERM to process group {pg} failed: {e}"));
        }
        let deadline = Instant::now() + self.settings.kill_grace;
        let status = tokio::time::timeout_at(deadline, child.wait()).await.ok();
        if status.is_some() {
            // The main process is gone; give the rest of the group the rest of the grace.
            while group_alive(pg) && Instant::now() < deadline {
                tokio::time::sleep(GROUP_POLL).await;
            }
        }
        if status.is_none() || group_alive(pg) {
            notes.push(format!(
                "process group {pg} still alive after {} ms: SIGKILL sent",
                self.settings.kill_grace.as_millis()
            ));
            if let Err(e) = killpg(pg, Signal::SIGKILL)
                && e != Errno::ESRCH
            {
                notes.push(format!("SIGKILL to process group {pg} failed: {e}"));
            }
        }
        match status {
            Some(status) => status,
            None => child.wait().await,
        }
    }
}

/// Whether any live process is left in group `pg`. Zombies do not count:
/// where nobody reaps orphans (a container whose init does not), dead members
/// would otherwise keep the group "alive" until the grace period ends.
fn group_alive(pg: Pid) -> bool {
    if matches!(killpg(pg, None), Err(Errno::ESRCH)) {
        return false;
    }
    live_member_in_proc(pg).unwrap_or(true)
}

/// Scan `/proc` for a member of group `pg` that is not a zombie; `None` when
/// `/proc` cannot be read (then the caller assumes the group is alive).
fn live_member_in_proc(pg: Pid) -> Option<bool> {
    let pg = pg.as_raw().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid pgrp ...`; comm may contain spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        let pgrp = fields.nth(1).unwrap_or("");
        if pgrp == pg && !matches!(state, "Z" | "X" | "x") {
            return Some(true);
        }
    }
    Some(false)
}

/// Sends SIGKILL to the job's process group if dropped while armed, so that a
/// dropped `run` future does not leave the job running.
struct GroupGuard {
    group: Option<Pid>,
}

impl GroupGuard {
    fn disarm(&mut self) {
        self.group = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pg) = self.group.take() {
            let _ = killpg(pg, Signal::SIGKILL);
        }
    }
}

/// Captured bytes of one buffer.
#[derive(Default)]
struct Capture {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Capture {
    fn push(&mut self, chunk: &[u8], cap: usize) {
        let room = cap.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// What the output pumps collect.
#[derive(Default)]
struct Collected {
    out: Capture,
    err: Capture,
    notes: Vec<String>,
}

fn lock(m: &Mutex<Collected>) -> MutexGuard<'_, Collected> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which capture buffer a pump fills.
#[derive(Clone, Copy)]
enum Buffer {
    Out,
    Err,
}

/// A file a stream is copied to.
struct Sink {
    label: &'static str,
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl Sink {
    async fn open(label: &'static str, path: PathBuf, notes: &mut Vec<String>) -> Sink {
        let file = match tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await {
            Ok(f) => Some(f),
            Err(e) => {
                notes.push(format!("cannot open {label} `{}`: {e}", path.display()));
                None
            }
        };
        Sink { label, path, file }
    }
}

/// Copy one stream into its capture buffer and files until end of file.
async fn pump<R: AsyncRead + Unpin>(
    mut reader: R,
    shared: Arc<Mutex<Collected>>,
    buffer: Buffer,
    cap: usize,
    mut sinks: Vec<Sink>,
) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                lock(&shared).notes.push(format!("reading the job's output failed: {e}"));
                break;
            }
        };
        let chunk = &buf[..n.min(buf.len())];
        {
            let mut c = lock(&shared);
            match buffer {
                Buffer::Out => c.out.push(chunk, cap),
                Buffer::Err => c.err.push(chunk, cap),
            }
        }
        for sink in &mut sinks {
            let Some(file) = sink.file.as_mut() else { continue };
            let written = match file.write_all(chunk).await {
                Ok(()) => file.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                lock(&shared).notes.push(format!("writing {} `{}` failed: {e}", sink.label, sink.path.display()));
                sink.file = None;
            }
        }
    }
}

/// `path` resolved against the job's directory when relative.
fn resolve(dir: Option<&Path>, path: &str) -> PathBuf {
    let p = Path::new(path);
    match dir {
        Some(d) if p.is_relative() => d.join(p),
        _ => p.to_path_buf(),
    }
}

/// A non-blank optional string.
fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

/// Split the command line into words.
fn command_words(job: &JobRun) -> Result<Vec<String>, String> {
    let mut words =
        shell_words::split(&job.command).map_err(|e| format!("cannot parse command line `{}`: {e}", job.command))?;
    if let Some(params) = given(&job.params) {
        words.extend(shell_words::split(params).map_err(|e| format!("cannot parse parameters `{params}`: {e}"))?);
    }
    if words.is_empty() {
        return Err("empty command line: nothing to run".to_owned());
    }
    Ok(words)
}

/// The exit code of a finished process, plus a note when a signal ended it.
fn exit_code(status: io::Result<ExitStatus>, notes: &mut Vec<String>) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(status) => {
            if let Some(code) = status.code() {
                ExitCode::from_command(i64::from(code))
            } else if let Some(sig) = status.signal() {
                let name = Signal::try_from(sig).map(Signal::as_str).unwrap_or("unknown signal");
                notes.push(format!("process ended by signal {sig} ({name}); exit code reported as 128 + {sig}"));
                ExitCode::from_command(128 + i64::from(sig))
            } else {
                notes.push(format!("process ended with an unrecognised status: {status}"));
                ExitCode::scheduler(ABNORMAL)
            }
        }
        Err(e) => {
            notes.push(format!("waiting for the job's process failed: {e}"));
            ExitCode::scheduler(ABNORMAL)
        }
    }
}

#[async_trait]
impl Executor for ProcessExecutor {
    async fn run(&self, job: JobRun, kill: KillSignal) -> JobResult {
        if let Err(note) = self.check_user(job.exec_user.as_deref()) {
            return self.refused(EXEC_INFO_FAILED, note);
        }
        let dir = given(&job.directory).map(PathBuf::from);
        if let Some(d) = &dir {
            match tokio::fs::metadata(d).await {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return self.refused(CHDIR_FAILED, format!("job directory `{}` is not a directory", d.display()));
                }
                Err(e) => {
                    return self.refused(CHDIR_FAILED, format!("cannot use job directory `{}`: {e}", d.display()));
                }
            }
        }
        let words = match command_words(&job) {
            Ok(w) => w,
            Err(note) => return self.refused(START_FAILED, note),
        };
        let (program, args) = match words.split_first() {
            Some(pa) => pa,
            None => return self.refused(START_FAILED, "empty command line: nothing to run".to_owned()),
        };

        let mut notes = Vec::new();
        let mut out_sinks = Vec::new();
        let mut err_sinks = Vec::new();
        let out_path = given(&job.stdout_file).map(|p| resolve(dir.as_deref(), p));
        let err_path = given(&job.stderr_file).map(|p| resolve(dir.as_deref(), p));
        if let Some(p) = &out_path {
            out_sinks.push(Sink::open("stdout file", p.clone(), &mut notes).await);
            if job.stderr_to_stdout {
                // A second append-mode handle: writes from both streams interleave safely.
                err_sinks.push(Sink::open("stdout file", p.clone(), &mut Vec::new()).await);
            }
        }
        if let Some(p) = &err_path
            && !(job.stderr_to_stdout && out_path.as_ref() == Some(p))
        {
            err_sinks.push(Sink::open("stderr file", p.clone(), &mut notes).await);
        }

        let build = |exe: &Path| {
            let mut cmd = Command::new(exe);
            // `argv[0]` stays the word of the command line, also when `exe` is
            // where the `PATH` cache found it (multi-call programs look at it).
            cmd.arg0(program)
                .args(args)
                .envs(&job.env)
                .env("WOI_PROJECT", &*job.jobnet.project)
                .env("WOI_JOBNET", &*job.jobnet.jobnet)
                .env("WOI_JOB", job.number.to_string())
                .env("WOI_JOB_NAME", &*job.name)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0);
            if let Some(d) = &dir {
                cmd.current_dir(d);
            }
            cmd
        };
        let mut child = match self.spawn(program, job.env.get("PATH").map(OsStr::new), build) {
            Ok(c) => c,
            Err(e) => {
                notes.insert(0, format!("cannot start `{program}`: {e}"));
                let output = notes.iter().map(|n| format!("woi: {n}\n")).collect();
                return self.result(ExitCode::scheduler(START_FAILED), output, false);
            }
        };
        let group = child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw);
        let mut guard = GroupGuard { group };

        let cap = self.settings.output_cap;
        let shared = Arc::new(Mutex::new(Collected::default()));
        // The pumps run inside this future (no extra tasks): they are polled
        // while the job runs, so it never blocks on a full pipe, and dropping
        // them stops the collection.
        let out = child.stdout.take().map(|r| pump(r, shared.clone(), Buffer::Out, cap, out_sinks));
        let err_buffer = if job.stderr_to_stdout { Buffer::Out } else { Buffer::Err };
        let err = child.stderr.take().map(|r| pump(r, shared.clone(), err_buffer, cap, err_sinks));
        let pumps = async move {
            let out = async move {
                if let Some(p) = out {
                    p.await;
                }
            };
            let err = async move {
                if let Some(p) = err {
                    p.await;
                }
            };
            futures::join!(out, err);
        };
        tokio::pin!(pumps);
        let mut drained = false;
        let status = {
            let wait = self.wait_or_kill(&mut child, group, kill, &mut notes);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    status = &mut wait => break status,
                    () = &mut pumps, if !drained => drained = true,
                }
            }
        };
        guard.disarm();

        if !drained && tokio::time::timeout(self.settings.drain_after_exit, &mut pumps).await.is_err() {
            notes.push(format!(
                "output still open {} ms after the job ended (a background process holds it); stopped collecting",
                self.settings.drain_after_exit.as_millis()
            ));
        }

        let exit = exit_code(status, &mut notes);

        let mut c = lock(&shared);
        let mut bytes = std::mem::take(&mut c.out.bytes);
        bytes.extend_from_slice(&c.err.bytes);
        let mut truncated = c.out.truncated || c.err.truncated;
        if bytes.len() > cap {
            bytes.truncate(cap);
            truncated = true;
        }
        let mut output = String::from_utf8_lossy(&bytes).into_owned();
        if truncated {
            notes.push(format!("output truncated at {cap} bytes"));
        }
        let all_notes = c.notes.iter().chain(notes.iter());
        for (i, n) in all_notes.enumerate() {
            if i == 0 && !output.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            output.push_str("woi: ");
            output.push_str(n);
            output.push('\n');
        }
        drop(c);
        self.result(exit, output, truncated)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use futures::channel::oneshot;
    use woi_core::JobnetKey;
    use woi_core::exit::Origin;

    use super::*;

    fn job(command: &str) -> JobRun {
        let mut job = JobRun::command(JobnetKey::new("PRJ", "NET1"), 7, command);
        job.name = Arc::from("job7");
        job
    }

    fn exec() -> ProcessExecutor {
        ProcessExecutor::new(ProcessSettings {
            kill_grace: Duration::from_millis(500),
            drain_after_exit: Duration::from_millis(200),
            ..ProcessSettings::default()
        })
    }

    /// A kill signal whose sender is gone: nobody will ever kill the job.
    fn no_kill() -> KillSignal {
        oneshot::channel().1
    }

    async fn run(job: JobRun) -> JobResult {
        exec().run(job, no_kill()).await
    }

    /// Wait until `path` exists (up to 5 s).
    async fn wait_for(path: &Path) {
        for _ in 0..250 {
            if path.exists() && !std::fs::read_to_string(path).unwrap_or_default().trim().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} never appeared", path.display());
    }

    /// Whether process `pid` is gone (or a zombie waiting for its reaper).
    fn dead(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        }
    }

    // MODEL-001
    #[tokio::test]
    async fn model_001_exit_0() {
        let r = run(job("true")).await;
        assert_eq!(r.exit, ExitCode::from_command(0));
        assert_eq!(r.exit.origin, Origin::Command);
        assert!(!r.host.is_empty());
    }

    #[tokio::test]
    async fn exit_3_is_the_command_code() {
        let r = run(job("sh -c 'exit 3'")).await;
        assert_eq!(r.exit, ExitCode::from_command(3));
    }

    // XC-002 XC-255
    /// A Unix process cannot return 256 or more (`exit 300` gives 44), so only
    /// 255 is tested end to end; the ≥ 256 rule is `from_command`'s.
    #[tokio::test]
    async fn xc_002_exit_255_and_overflow_mapping() {
        let r = run(job("sh -c 'exit 255'")).await;
        assert_eq!((r.exit.code, r.exit.raw, r.exit.origin), (255, None, Origin::Command));
        let over = ExitCode::from_command(300);
        assert_eq!((over.code, over.raw), (255, Some(300)));
    }

    #[tokio::test]
    async fn unrequested_signal_is_128_plus_signal() {
        let r = run(job("sh -c 'kill -9 $$'")).await;
        assert_eq!(r.exit, ExitCode::from_command(137));
        assert!(r.output.contains("SIGKILL"), "{}", r.output);
    }

    // MODEL-010
    #[tokio::test]
    async fn model_010_missing_command_is_254() {
        let r = run(job("woi-no-such-command-4711 arg")).await;
        assert_eq!(r.exit, ExitCode::scheduler(254));
        assert!(r.output.contains("cannot start `woi-no-such-command-4711`"), "{}", r.output);
    }

    // XC-005
    #[tokio::test]
    async fn xc_005_not_executable_is_254() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("script.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        let r = run(job(&script.display().to_string())).await;
        assert_eq!(r.exit, ExitCode::scheduler(254));
        assert!(r.output.contains("ermission denied"), "{}", r.output);
    }

    // XC-006 XC-253
    #[tokio::test]
    async fn xc_006_missing_directory_is_253() {
        let mut j = job("true");
        j.directory = Some("/nonexistent/woi/dir".to_owned());
        let r = run(j).await;
        assert_eq!(r.exit, ExitCode::scheduler(253));
        assert!(r.output.contains("/nonexistent/woi/dir"), "{}", r.output);

        let file = tempfile::NamedTempFile::new().unwrap();
        let mut j = job("true");
        j.directory = Some(file.path().display().to_string());
        assert_eq!(run(j).await.exit, ExitCode::scheduler(253));
    }

    #[tokio::test]
    async fn directory_is_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = job("pwd -P");
        j.directory = Some(dir.path().display().to_string());
        let r = run(j).await;
        assert_eq!(r.exit.code, 0);
        assert_eq!(r.output.trim(), dir.path().canonicalize().unwrap().display().to_string());
    }

    #[tokio::test]
    async fn empty_or_unparsable_command_is_254() {
        for cmd in ["", "   ", "echo 'unclosed"] {
            let r = run(job(cmd)).await;
            assert_eq!(r.exit, ExitCode::scheduler(254), "{cmd:?}");
            assert!(r.output.starts_with("woi: "), "{}", r.output);
        }
        let mut j = job("echo");
        j.params = Some("\"open".to_owned());
        assert_eq!(run(j).await.exit, ExitCode::scheduler(254));
    }

    #[tokio::test]
    async fn foreign_execution_user_is_250() {
        let mut j = job("true");
        j.exec_user = Some("woi-someone-else".to_owned());
        let r = run(j).await;
        assert_eq!(r.exit, ExitCode::scheduler(250));
        assert!(r.output.contains("woi-someone-else"), "{}", r.output);

        let ex = exec();
        for user in [Some(JOBUSER.to_owned()), ex.user().map(str::to_owned)] {
            let mut j = job("true");
            j.exec_user = user;
            assert_eq!(ex.run(j, no_kill()).await.exit.code, 0);
        }
    }

    #[tokio::test]
    async fn params_appended_and_quoted_words_kept() {
        let mut j = job("printf '%s|' \"x y\"");
        j.params = Some("a \"b c\" 'd  e' $HOME".to_owned());
        let r = run(j).await;
        assert_eq!(r.exit.code, 0);
        assert_eq!(r.output, "x y|a|b c|d  e|$HOME|");
    }

    #[tokio::test]
    async fn env_variables_visible() {
        let mut j = job("sh -c 'echo \"$FOO|$WOI_PROJECT|$WOI_JOBNET|$WOI_JOB|$WOI_JOB_NAME\"'");
        j.env.insert("FOO".to_owned(), "bar baz".to_owned());
        let r = run(j).await;
        assert_eq!(r.output, "bar baz|PRJ|NET1|7|job7\n");
    }

    #[tokio::test]
    async fn stdout_then_stderr_and_merge() {
        let cmd = "sh -c 'echo err >&2; sleep 0.1; echo out'";
        let r = run(job(cmd)).await;
        assert_eq!(r.output, "out\nerr\n");
        let mut j = job(cmd);
        j.stderr_to_stdout = true;
        assert_eq!(run(j).await.output, "err\nout\n");
    }

    #[tokio::test]
    async fn output_captured_and_truncated_at_cap() {
        let ex = ProcessExecutor::new(ProcessSettings { output_cap: 10, ..ProcessSettings::default() });
        let r = ex.run(job("echo 0123456789abcdef"), no_kill()).await;
        assert!(r.truncated);
        assert!(r.output.starts_with("0123456789\nwoi: output truncated"), "{}", r.output);

        // Far more than a pipe holds: the job must not block on a full pipe.
        let r = ex.run(job("sh -c 'head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2; exit 5'"), no_kill()).await;
        assert_eq!(r.exit.code, 5);
        assert!(r.truncated);

        let r = ex.run(job("printf 0123456789"), no_kill()).await;
        assert!(!r.truncated);
        assert_eq!(r.output, "0123456789");
    }

    #[tokio::test]
    async fn stdout_and_stderr_files_appended() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = job("sh -c 'echo out; echo err >&2'");
        j.directory = Some(dir.path().display().to_string());
        j.stdout_file = Some("out.log".to_owned());
        j.stderr_file = Some(dir.path().join("err.log").display().to_string());
        run(j.clone()).await;
        let r = run(j).await;
        assert_eq!(r.output, "out\nerr\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("out.log")).unwrap(), "out\nout\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("err.log")).unwrap(), "err\nerr\n");

        let mut j = job("sh -c 'echo out; sleep 0.1; echo err >&2'");
        j.stdout_file = Some(dir.path().join("both.log").display().to_string());
        j.stderr_to_stdout = true;
        run(j).await;
        assert_eq!(std::fs::read_to_string(dir.path().join("both.log")).unwrap(), "out\nerr\n");
    }

    #[tokio::test]
    async fn unwritable_stdout_file_is_noted_not_fatal() {
        let mut j = job("echo hi");
        j.stdout_file = Some("/nonexistent/woi/out.log".to_owned());
        let r = run(j).await;
        assert_eq!(r.exit.code, 0);
        assert!(r.output.starts_with("hi\nwoi: cannot open stdout file"), "{}", r.output);
    }

    #[tokio::test]
    async fn dropped_kill_sender_waits_for_the_process() {
        let (tx, rx) = oneshot::channel::<KillReason>();
        drop(tx);
        let r = exec().run(job("sh -c 'sleep 0.2; exit 4'"), rx).await;
        assert_eq!(r.exit.code, 4);
    }

    #[tokio::test]
    async fn kill_terminates_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let mut j = job("sh -c 'sleep 30 & echo $! > pids; sleep 30'");
        j.directory = Some(dir.path().display().to_string());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move { exec().run(j, rx).await });
        wait_for(&pids).await;
        tx.send(KillReason::Cancel).unwrap();
        let r = task.await.unwrap();
        assert!(r.output.contains("SIGTERM sent to process group"), "{}", r.output);
        assert_eq!(r.exit, ExitCode::from_command(128 + 15));
        let bg = std::fs::read_to_string(&pids).unwrap();
        assert!(dead(bg.trim()), "background sleep {bg} survived");
    }

    #[tokio::test]
    async fn kill_reaches_forked_child_that_would_write_later() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = job("sh -c '(sleep 2; touch marker) & echo started > started; sleep 30'");
        j.directory = Some(dir.path().display().to_string());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move { exec().run(j, rx).await });
        wait_for(&dir.path().join("started")).await;
        tx.send(KillReason::Cutoff).unwrap();
        task.await.unwrap();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!dir.path().join("marker").exists(), "the background child survived the kill");
    }

    #[tokio::test]
    async fn sigterm_ignored_gets_sigkill_after_grace() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = job("sh -c 'trap \"\" TERM; echo ready > ready; sleep 30; sleep 30'");
        j.directory = Some(dir.path().display().to_string());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move { exec().run(j, rx).await });
        wait_for(&dir.path().join("ready")).await;
        tx.send(KillReason::OrWaitOtherNormal).unwrap();
        let r = task.await.unwrap();
        assert_eq!(r.exit, ExitCode::from_command(128 + 9));
        assert!(r.output.contains("SIGKILL sent"), "{}", r.output);
    }

    /// A job whose own `PATH` is only `dir`.
    fn job_in_path(command: &str, dir: &Path) -> JobRun {
        let mut j = job(command);
        j.env.insert("PATH".to_owned(), dir.display().to_string());
        j
    }

    fn write_script(path: &Path, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    // MODEL-010
    #[tokio::test]
    async fn path_cache_keeps_254_and_finds_a_program_installed_later() {
        let dir = tempfile::tempdir().unwrap();
        let ex = exec();
        let j = job_in_path("woi-late-tool", dir.path());
        let r = ex.run(j.clone(), no_kill()).await;
        assert_eq!(r.exit, ExitCode::scheduler(254));
        assert!(r.output.contains("cannot start `woi-late-tool`: No such file"), "{}", r.output);

        // Installed afterwards: found at once (misses are never cached).
        write_script(&dir.path().join("woi-late-tool"), "echo late; exit 6");
        let r = ex.run(j.clone(), no_kill()).await;
        assert_eq!((r.exit.code, r.output.as_str()), (6, "late\n"));
        let r = ex.run(j.clone(), no_kill()).await;
        assert_eq!(r.exit.code, 6, "started again from the cache");

        // Removed while cached: the usual error, not a stale start.
        std::fs::remove_file(dir.path().join("woi-late-tool")).unwrap();
        let r = ex.run(j, no_kill()).await;
        assert_eq!(r.exit, ExitCode::scheduler(254));
        assert!(r.output.contains("cannot start `woi-late-tool`: No such file"), "{}", r.output);
    }

    // XC-005
    #[tokio::test]
    async fn path_cache_skips_files_it_cannot_execute_and_notices_a_lost_permission() {
        use std::os::unix::fs::PermissionsExt;
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Not executable in the first directory: `execvp` goes on to the second.
        std::fs::write(first.path().join("woi-tool"), "#!/bin/sh\necho first\n").unwrap();
        write_script(&second.path().join("woi-tool"), "echo second");
        let mut j = job("woi-tool");
        let path = std::env::join_paths([first.path(), second.path()]).unwrap();
        j.env.insert("PATH".to_owned(), path.to_string_lossy().into_owned());
        let ex = exec();
        assert_eq!(ex.run(j.clone(), no_kill()).await.output, "second\n");

        // The cached file loses its execute permission: not started, 254.
        let perms = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(second.path().join("woi-tool"), perms).unwrap();
        let r = ex.run(j, no_kill()).await;
        assert_eq!(r.exit, ExitCode::scheduler(254));
        assert!(r.output.contains("ermission denied"), "{}", r.output);
    }

    #[tokio::test]
    async fn argv0_is_the_word_as_written() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/bin/sh", dir.path().join("woi-sh")).unwrap();
        let r = exec().run(job_in_path("woi-sh -c 'echo $0'", dir.path()), no_kill()).await;
        assert_eq!((r.exit.code, r.output.as_str()), (0, "woi-sh\n"));
    }

    #[test]
    fn path_cache_ignores_relative_path_entries_and_paths_with_a_slash() {
        let cache = PathCache::default();
        assert!(cache.resolve("sh", OsString::from(".:/bin:/usr/bin")).is_none());
        assert!(
            cache.resolve("sh", OsString::from("/nonexistent-woi::/bin")).is_none(),
            "empty entry = current directory"
        );
        assert!(cache.resolve("./sh", OsString::from("/bin:/usr/bin")).is_none());
        let (exe, _) = cache.resolve("sh", OsString::from("/nonexistent-woi:/bin:/usr/bin")).unwrap();
        assert!(exe.is_absolute() && exe.ends_with("sh"), "{}", exe.display());
    }

    #[tokio::test]
    async fn background_child_holding_output_does_not_hold_the_job() {
        let r = run(job("sh -c 'sleep 3 & echo $$'")).await;
        assert_eq!(r.exit.code, 0);
        assert!(r.output.contains("stopped collecting"), "{}", r.output);
        if let Some(pg) = r.output.lines().next().and_then(|l| l.trim().parse().ok()) {
            let _ = killpg(Pid::from_raw(pg), Signal::SIGKILL);
        }
    }
}
