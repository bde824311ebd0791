//! Commands that use the durable store in the data directory: `apply`, `run`,
//! `serve`, `status`, `history`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use woi_adapters::executors::ExecutorSet;
use woi_adapters::process::ProcessExecutor;
use woi_adapters::rest::RestExecutor;
use woi_adapters::runtime::{OffsetClock, Runtime, SystemClock};
use woi_adapters::sqlite::{HistoryFilter, SqliteStore};
use woi_core::exit::code_text;
use woi_core::model::JobKind;
use woi_core::store::{DefinitionFile, Store};
use woi_core::validate::Options;
use woi_core::{Catalog, Clock, Engine, EngineConfig, Environment, EventKind, JobnetKey, JobnetStatus};

use crate::out;

/// Exit status of `woi run` when the jobnet ended abnormally or was cancelled.
pub const RUN_FAILED: u8 = 3;

fn db_path(data: &Path) -> PathBuf {
    data.join("woi.db")
}

/// Create the data directory if needed; a path that exists but is not a
/// directory is named as such (not as "File exists").
fn make_data_dir(data: &Path) -> Result<(), String> {
    if data.exists() && !data.is_dir() {
        return Err(format!(
            "{}: not a directory (the data directory must be a directory; see --data)",
            data.display()
        ));
    }
    std::fs::create_dir_all(data).map_err(|e| format!("{}: cannot create the data directory: {e}", data.display()))
}

async fn open_store(data: &Path) -> Result<Arc<SqliteStore>, String> {
    make_data_dir(data)?;
    let store = SqliteStore::open(db_path(data)).map_err(|e| e.to_string())?;
    Ok(Arc::new(store))
}

/// Validate files and store them as the applied definitions. `Ok(None)` when
/// invalid (errors printed).
async fn apply_files(store: &SqliteStore, paths: &[PathBuf]) -> Result<Option<usize>, String> {
    let Some((files, jobnets)) = validated_files(paths)? else { return Ok(None) };
    store.set_definitions(&files).await.map_err(|e| e.to_string())?;
    Ok(Some(jobnets))
}

/// Read and validate definition files: their texts and the number of
/// jobnets, or `None` when invalid (every problem printed).
fn validated_files(paths: &[PathBuf]) -> Result<Option<(Vec<DefinitionFile>, usize)>, String> {
    let cat = woi_adapters::files::load(paths).map_err(|e| e.to_string())?;
    let diags = cat.diagnostics(Options::default());
    if !diags.is_empty() {
        for d in &diags {
            eprintln!("error: {d}");
        }
        eprintln!("{} error(s); nothing was applied", diags.len());
        return Ok(None);
    }
    let mut files = Vec::new();
    for p in woi_adapters::files::expand(paths).map_err(|e| e.to_string())? {
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        files.push(DefinitionFile { name: p.display().to_string(), text });
    }
    Ok(Some((files, cat.defs.jobnets.len())))
}

/// The applied definitions, compiled. `Err` when none are applied or they no longer validate.
pub(crate) async fn environment(store: &SqliteStore) -> Result<Arc<Environment>, String> {
    let files = store.definitions().await.map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err("no definitions applied yet: run `woi apply DEFS...` (or give --defs)".into());
    }
    let mut cat = Catalog::new();
    for f in &files {
        cat.add_text(&f.name, &f.text);
    }
    cat.compile_with(Options::default()).map(Arc::new).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(|d| format!("error: {d}")).collect();
        format!("the applied definitions are not valid:\n{}", lines.join("\n"))
    })
}

fn clock(now: Option<&str>, speed: f64) -> Result<Arc<dyn Clock>, String> {
    match now {
        None if speed == 1.0 => Ok(Arc::new(SystemClock)),
        None => Ok(Arc::new(OffsetClock::new(Utc::now(), speed))),
        Some(s) => {
            let t = DateTime::parse_from_rfc3339(s).map_err(|e| format!("--now {s:?}: {e}"))?.to_utc();
            Ok(Arc::new(OffsetClock::new(t, speed)))
        }
    }
}

/// What a `woi serve` on a virtual clock (`--now`, `--speed`) writes into
/// its data directory, so that local readers (`woi status`) show its time:
/// at the real instant `real` the clock showed `at`, and it runs `speed`
/// times as fast. Only trusted while the scheduler that wrote it (`pid`)
/// holds the directory.
#[derive(serde::Serialize, serde::Deserialize)]
struct ClockNote {
    pid: i32,
    at: DateTime<Utc>,
    real: DateTime<Utc>,
    speed: f64,
}

const CLOCK_NOTE: &str = "woi.clock.json";

/// Write (virtual clock) or remove (system clock) the clock note of this scheduler.
fn write_clock_note(data: &Path, now: Option<&str>, speed: f64) -> Result<(), String> {
    let path = data.join(CLOCK_NOTE);
    if now.is_none() && speed == 1.0 {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    let c = clock(now, speed)?;
    let pid = i32::try_from(std::process::id()).unwrap_or_default();
    let note = ClockNote { pid, at: c.now(), real: Utc::now(), speed };
    let text = serde_json::to_string(&note).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The time of the scheduler holding `data`: its virtual clock when it runs
/// on one, otherwise the system clock.
fn scheduler_now(data: &Path) -> DateTime<Utc> {
    let real = Utc::now();
    let Ok(Some(pid)) = running_scheduler(data) else { return real };
    let Ok(text) = std::fs::read_to_string(data.join(CLOCK_NOTE)) else { return real };
    match serde_json::from_str::<ClockNote>(&text) {
        Ok(n) if n.pid == pid && n.speed.is_finite() && n.speed > 0.0 => {
            let elapsed = (real - n.real).num_microseconds().unwrap_or(0) as f64 * n.speed;
            n.at + chrono::Duration::microseconds(elapsed as i64)
        }
        _ => real,
    }
}

/// `woi apply`.
pub async fn apply(data: &Path, defs: &[PathBuf]) -> Result<ExitCode, String> {
    // A running scheduler owns the data directory: hand it the definitions.
    if let Some(pid) = running_scheduler(data)? {
        return apply_live(data, defs, pid).await;
    }
    let store = open_store(data).await?;
    match apply_files(&store, defs).await? {
        None => Ok(ExitCode::from(1)),
        Some(n) => {
            out(&format!("applied {n} jobnet(s) to {}\n", db_path(data).display()));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Options of `woi run` and `woi serve`.
pub struct RunOptions<'a> {
    /// Data directory.
    pub data: &'a Path,
    /// Definitions to apply first.
    pub defs: &'a [PathBuf],
    /// Fixed start instant of the clock.
    pub now: Option<&'a str>,
    /// Clock speed.
    pub speed: f64,
    /// JSON output.
    pub json: bool,
}

/// The pid of the scheduler holding `data`, if one runs.
fn running_scheduler(data: &Path) -> Result<Option<i32>, String> {
    let path = data.join("woi.lock");
    let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(&path) else { return Ok(None) };
    match file.try_lock() {
        Ok(()) => Ok(None),
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            match text.trim().parse::<i32>() {
                Ok(pid) => Ok(Some(pid)),
                Err(_) => Err(format!(
                    "data directory {} is in use by a woi scheduler that cannot take definitions while it runs \
                     (`woi run`); wait for it to end",
                    data.display()
                )),
            }
        }
        Err(std::fs::TryLockError::Error(e)) => Err(format!("{}: {e}", path.display())),
    }
}

/// A live apply: `woi apply` writes `apply-<id>.request.json` into the data
/// directory and sends SIGHUP to the scheduler, which validates the
/// definitions, applies them under spec 01 §3.15 (changed jobnets reset to
/// Waiting; refused while a changed jobnet executes), stores them, and
/// answers in `apply-<id>.result.json`.
async fn apply_live(data: &Path, defs: &[PathBuf], pid: i32) -> Result<ExitCode, String> {
    let Some((files, _)) = validated_files(defs)? else { return Ok(ExitCode::from(1)) };
    let files: Vec<serde_json::Value> =
        files.iter().map(|f| serde_json::json!({ "name": f.name, "text": f.text })).collect();
    let id = format!("{}-{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or_default());
    let request = data.join(format!("apply-{id}.request.json"));
    let result = data.join(format!("apply-{id}.result.json"));
    let tmp = data.join(format!("apply-{id}.tmp"));
    let body = serde_json::to_vec(&serde_json::json!({ "files": files })).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, body).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &request).map_err(|e| format!("{}: {e}", request.display()))?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGHUP)
        .map_err(|e| format!("could not signal the scheduler (pid {pid}): {e}"))?;
    for _ in 0..600 {
        if let Ok(text) = std::fs::read_to_string(&result) {
            let _ = std::fs::remove_file(&result);
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", result.display()))?;
            let message = v["message"].as_str().unwrap_or_default();
            if v["ok"].as_bool() == Some(true) {
                out(&format!("applied to the running scheduler (pid {pid}): {message}\n"));
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("refused by the running scheduler: {message}");
            return Ok(ExitCode::from(1));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = std::fs::remove_file(&request);
    Err(format!("the scheduler (pid {pid}) did not answer within 60 s; nothing is known to be applied"))
}

/// Serve live applies: on SIGHUP, apply every pending request (see [`apply_live`]).
async fn serve_applies(data: PathBuf, h: woi_adapters::runtime::Handle, store: Arc<SqliteStore>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
    while hup.recv().await.is_some() {
        let Ok(dir) = std::fs::read_dir(&data) else { continue };
        let mut requests: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".request.json")))
            .collect();
        requests.sort();
        for request in requests {
            let answer = apply_request(&request, &h, &store).await;
            let _ = std::fs::remove_file(&request);
            let name = request.to_string_lossy().replace(".request.json", ".result.json");
            let (ok, message) = match answer {
                Ok(m) => (true, m),
                Err(m) => (false, m),
            };
            eprintln!("woi: apply {}: {message}", if ok { "done" } else { "refused" });
            let body = serde_json::json!({ "ok": ok, "message": message }).to_string();
            let tmp = PathBuf::from(format!("{name}.tmp"));
            if std::fs::write(&tmp, body).is_ok() {
                let _ = std::fs::rename(&tmp, &name);
            }
        }
    }
}

async fn apply_request(
    request: &Path,
    h: &woi_adapters::runtime::Handle,
    store: &SqliteStore,
) -> Result<String, String> {
    let text = std::fs::read_to_string(request).map_err(|e| format!("{}: {e}", request.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", request.display()))?;
    let files: Vec<DefinitionFile> = v["files"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| DefinitionFile {
                    name: f["name"].as_str().unwrap_or_default().to_string(),
                    text: f["text"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut cat = Catalog::new();
    for f in &files {
        cat.add_text(&f.name, &f.text);
    }
    let env = cat.compile_with(Options::default()).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
        format!("invalid definitions: {}", lines.join("; "))
    })?;
    let report = h.reload(env).await.map_err(|e| e.to_string())?;
    // Durable order: the journal records the change first; the files follow.
    store.set_definitions(&files).await.map_err(|e| e.to_string())?;
    let list = |v: &[JobnetKey]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    Ok(format!(
        "{} changed (reset to waiting) [{}], {} added [{}], {} removed [{}]",
        report.changed.len(),
        list(&report.changed),
        report.added.len(),
        list(&report.added),
        report.removed.len(),
        list(&report.removed)
    ))
}

/// Hold the data directory for this process: one scheduler per data directory.
fn lock_data_dir(data: &Path) -> Result<std::fs::File, String> {
    make_data_dir(data)?;
    let path = data.join("woi.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            // The content names a scheduler that takes live applies (`woi serve` writes its pid).
            let _ = file.set_len(0);
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "data directory {} is in use by another woi scheduler (woi run / woi serve); stop it or use --data",
            data.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("{}: {e}", path.display())),
    }
}

/// Every job kind this build can run: commands as processes; REST,
/// Informatica, Snowflake and SAP jobs on the REST executor, whose
/// authentication info lives in the data directory (`woi auth`).
fn executors(data: &Path) -> Result<Arc<ExecutorSet>, String> {
    let rest: Arc<dyn woi_core::exec::Executor> =
        Arc::new(RestExecutor::from_data_dir(data).map_err(|e| format!("{}: {e}", data.display()))?);
    let mut set = ExecutorSet::new(Arc::new(ProcessExecutor::default()));
    for kind in [JobKind::Rest, JobKind::Informatica, JobKind::Snowflake, JobKind::SapCloud, JobKind::SapErp] {
        set = set.with_kind(kind, rest.clone());
    }
    Ok(Arc::new(set))
}

/// The runtime of a data directory, its store, the directory lock, and the
/// journal's last sequence number before the runtime opened (what recovery
/// recorded comes after it).
/// Open the scheduler of the data directory. `schedules`: whether it fires
/// planned starts, `environment_start` jobnets and missed starts — only
/// `woi serve` does; `woi run`, `woi op` and a local `jobschmsgevent` leave
/// them to it (a planned start is not used up by an ad-hoc command that
/// would stop before the jobnet ends).
pub(crate) async fn open_runtime(
    o: &RunOptions<'_>,
    schedules: bool,
) -> Result<Option<(Runtime, Arc<SqliteStore>, std::fs::File, u64)>, String> {
    let lock = lock_data_dir(o.data)?;
    let store = open_store(o.data).await?;
    if !o.defs.is_empty() && apply_files(&store, o.defs).await?.is_none() {
        return Ok(None);
    }
    let env = environment(&store).await?;
    let before = store.last_seq().await.map_err(|e| e.to_string())?;
    let config = EngineConfig { schedules, ..EngineConfig::from_env(&env) };
    let (rt, report) = Runtime::open_with(env, config, store.clone(), executors(o.data)?, clock(o.now, o.speed)?)
        .await
        .map_err(|e| e.to_string())?;
    for job in &report.interrupted_jobs {
        eprintln!("recovered: job {job} was executing when the scheduler stopped; ended with 239");
    }
    for line in missed_start_lines(&report.missed_starts) {
        eprintln!("{line}");
    }
    Ok(Some((rt, store, lock, before)))
}

/// The recovery report's missed starts, one line per jobnet and action: a
/// scheduler that was down for a month reports a jobnet's 30 skipped starts
/// as one line with the first and the last, not 30 lines.
fn missed_start_lines(missed: &[(JobnetKey, DateTime<Utc>, String)]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < missed.len() {
        let (jobnet, first, action) = &missed[i];
        let mut j = i + 1;
        while j < missed.len() && missed[j].0 == *jobnet && missed[j].2 == *action {
            j += 1;
        }
        let last = missed[j - 1].1;
        lines.push(if j - i == 1 {
            format!("recovered: start of {jobnet} at {} was missed ({action})", first.to_rfc3339())
        } else {
            format!(
                "recovered: {} starts of {jobnet} from {} to {} were missed ({action})",
                j - i,
                first.to_rfc3339(),
                last.to_rfc3339()
            )
        });
        i = j;
    }
    lines
}

/// `woi run P/N`: start a jobnet now, follow it to its end, print its jobs.
pub async fn run(o: &RunOptions<'_>, jobnet: &str, vparam: Option<&str>) -> Result<ExitCode, String> {
    let key = JobnetKey::parse(jobnet).ok_or_else(|| format!("{jobnet:?}: expected PROJECT/JOBNET"))?;
    let Some((rt, store, _lock, _)) = open_runtime(o, false).await? else { return Ok(ExitCode::from(1)) };
    let tz = rt_tz(&store).await;
    let h = rt.handle();
    let mut events = h.subscribe();
    let task = tokio::spawn(rt.run());
    // Ctrl-C or SIGTERM stops the scheduler gracefully: the run's executing
    // jobs are killed with their process groups and end with 239.
    let mut stop = stop_requested();
    if let Err(e) = h.start_jobnet(&key, vparam).await {
        let _ = h.shutdown().await;
        eprintln!("woi: {e}");
        return Ok(ExitCode::from(1));
    }
    let mut run = None;
    let status = loop {
        let next = tokio::select! {
            next = events.recv() => next,
            () = &mut stop => {
                eprintln!("woi: stopping: {key} is interrupted; its executing jobs are killed and end with 239");
                h.shutdown().await.map_err(|e| e.to_string())?;
                task.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
                return Ok(ExitCode::from(3));
            }
        };
        let ev = match next {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("(progress display skipped {n} events)");
                continue;
            }
            Err(_) => return Err("the scheduler stopped".into()),
        };
        if !o.json {
            let at = ev.at.with_timezone(&tz).format("%H:%M:%S");
            match &ev.kind {
                EventKind::JobStatus { jobnet, job, name, status, exit, .. } => {
                    let code = exit.map(|e| format!(" code={}", e.display())).unwrap_or_default();
                    eprintln!("{at} {jobnet} job {job} {name}: {status}{code}");
                }
                EventKind::JobnetStatus { jobnet, status, .. } => eprintln!("{at} {jobnet}: {status}"),
                EventKind::Log { message, .. } => eprintln!("{at} {message}"),
                _ => {}
            }
        }
        if let EventKind::JobnetStatus { jobnet, status, run: r, .. } = &ev.kind {
            if jobnet == &key && run.is_none() && status.is_running() {
                run = Some(*r);
            }
            if jobnet == &key && run == Some(*r) && status.is_ended() {
                break *status;
            }
        }
    };
    let jobs = h.jobs(&key).await.map_err(|e| e.to_string())?;
    let view = h.jobnets().await.map_err(|e| e.to_string())?.into_iter().find(|v| v.key == key);
    h.shutdown().await.map_err(|e| e.to_string())?;
    task.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    if o.json {
        let v = serde_json::json!({ "jobnet": view, "jobs": jobs });
        out(&format!("{}\n", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?));
    } else {
        let mut s = String::new();
        if let Some(v) = &view {
            let code = v.exit_code.map(|c| format!(" code={}", code_text(c))).unwrap_or_default();
            s.push_str(&format!("jobnet {} {}{} (run {})\n", v.key, v.status, code, v.run));
        }
        s.push_str(&format!("{:>4}  {:<20} {:<14} {:>12} {:>8}\n", "job", "name", "status", "code", "attempts"));
        for j in &jobs {
            let code = j.exit.map(|e| e.display()).unwrap_or_else(|| "-".into());
            s.push_str(&format!(
                "{:>4}  {:<20} {:<14} {:>12} {:>8}\n",
                j.number,
                j.name,
                j.status.as_str(),
                code,
                j.attempts
            ));
        }
        out(&s);
    }
    Ok(match status {
        JobnetStatus::Completed | JobnetStatus::PseudoNormal => ExitCode::SUCCESS,
        _ => ExitCode::from(RUN_FAILED),
    })
}

async fn rt_tz(store: &SqliteStore) -> chrono_tz::Tz {
    environment(store).await.map(|e| e.tz).unwrap_or(chrono_tz::Asia::Tokyo)
}

/// `woi serve`: run the scheduler until Ctrl-C or SIGTERM, logging events;
/// with `api`, serve the Web API alongside it on the same scheduler handle.
/// On stop, the Web API finishes its requests in flight before the scheduler stops.
pub async fn serve(o: &RunOptions<'_>, api: Option<&crate::admin::ApiOptions>) -> Result<ExitCode, String> {
    let Some((rt, store, lock, before)) = open_runtime(o, true).await? else { return Ok(ExitCode::from(1)) };
    {
        use std::io::Write;
        let mut lock = &lock;
        let _ = write!(lock, "{}", std::process::id()).and_then(|()| lock.flush());
    }
    write_clock_note(o.data, o.now, o.speed)?;
    let bound = match api {
        Some(a) => Some(crate::admin::bind_api(o.data, a).await?),
        None => None,
    };
    let tz = rt_tz(&store).await;
    let h = rt.handle();
    let mut events = h.subscribe();
    // What recovery recorded while the runtime opened (239s, missed starts
    // run now) is printed first, then the live stream.
    let recovered = store.events_after(before).await.map_err(|e| e.to_string())?;
    let stop = stop_requested();
    let task = tokio::spawn(rt.run());
    let applies = tokio::spawn(serve_applies(o.data.to_path_buf(), h.clone(), store.clone()));
    eprintln!("woi: scheduler running on {} (Ctrl-C to stop)", db_path(o.data).display());
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel();
    let http = match bound {
        Some(b) => Some(crate::admin::spawn_api(b, h.clone(), clock(o.now, o.speed)?, store.clone(), api_stopped)?),
        None => None,
    };
    let json = o.json;
    let print = move |ev: woi_core::Event| {
        if json {
            if let Ok(line) = serde_json::to_string(&ev) {
                out(&format!("{line}\n"));
            }
        } else {
            let report = woi_core::sim::ReportEvent {
                seq: ev.seq,
                at: ev.at.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                kind: ev.kind,
            };
            out(&format!("{}\n", woi_core::sim::render_event(&report)));
        }
    };
    let printed = recovered.last().map_or(before, |e| e.seq);
    for ev in recovered {
        print(ev);
    }
    let printer = tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            if ev.seq > printed {
                print(ev);
            }
        }
    });
    stop.await;
    eprintln!("woi: stopping");
    let _ = stop_api.send(());
    if let Some(http) = http {
        http.await.map_err(|e| e.to_string())?.map_err(|e| format!("Web API: {e}"))?;
    }
    h.shutdown().await.map_err(|e| e.to_string())?;
    task.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    printer.abort();
    applies.abort();
    drop(lock);
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM. The handlers are installed at the call, so a signal
/// that arrives before the future is first polled is not lost.
#[cfg(unix)]
fn stop_requested() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (term, int) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
    Box::pin(async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    })
}

/// Ctrl-C.
#[cfg(not(unix))]
fn stop_requested() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// `woi status`: the state the journal describes.
pub async fn status(data: &Path, json: bool, statuses: &[String]) -> Result<ExitCode, String> {
    let mut wanted = Vec::new();
    for s in statuses {
        let name = s.trim().to_ascii_lowercase();
        match serde_json::from_value::<JobnetStatus>(serde_json::Value::String(name)) {
            Ok(st) => wanted.push(st),
            Err(_) => {
                return Err(format!(
                    "--status {s:?}: not a jobnet status (waiting, executing, warning, completed, pseudo_normal, abended, cancelled, paused, disabled, confirmed, carried_over, carry_over_released)"
                ));
            }
        }
    }
    let store = open_store(data).await?;
    let env = environment(&store).await?;
    let journal = store.events_after(0).await.map_err(|e| e.to_string())?;
    let now = scheduler_now(data);
    let engine = Engine::replay(env.clone(), EngineConfig::from_env(&env), now, &journal);
    // MODEL-150: the management list filtered by status.
    let views: Vec<_> = engine.jobnets().filter(|v| wanted.is_empty() || wanted.contains(&v.status)).collect();
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&views).map_err(|e| e.to_string())?));
        return Ok(ExitCode::SUCCESS);
    }
    let fmt = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.with_timezone(&env.tz).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "-".into())
    };
    let mut s = format!(
        "{:<32} {:<14} {:>5} {:>10} {:<19} {:<19} {:<19}\n",
        "jobnet", "status", "runs", "code", "started", "ended", "next start"
    );
    for v in &views {
        let code = v.exit_code.map(code_text).unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "{:<32} {:<14} {:>5} {:>10} {:<19} {:<19} {:<19}\n",
            v.key.to_string(),
            v.status.as_str(),
            v.run,
            code,
            fmt(v.started_at),
            fmt(v.ended_at),
            fmt(v.next_start)
        ));
    }
    s.push_str(&format!("server time {} ({})\n", fmt(Some(now)), env.tz));
    out(&s);
    Ok(ExitCode::SUCCESS)
}

/// `woi history [P/N]`: finished and running jobnet runs, newest first; with
/// a jobnet, also the job attempts of its latest run.
pub async fn history(data: &Path, jobnet: Option<&str>, limit: usize, json: bool) -> Result<ExitCode, String> {
    let store = open_store(data).await?;
    let key = match jobnet {
        Some(s) => Some(JobnetKey::parse(s).ok_or_else(|| format!("{s:?}: expected PROJECT/JOBNET"))?),
        None => None,
    };
    let filter = HistoryFilter { jobnet: key.clone(), limit: Some(limit), ..HistoryFilter::default() };
    let runs = store.jobnet_history(filter).await.map_err(|e| e.to_string())?;
    // A jobnet with no history must at least be defined: a typo in the name
    // is an error (exit 1), not an empty list. A jobnet removed from the
    // definitions keeps its history and still lists it.
    if let (Some(k), true) = (&key, runs.is_empty()) {
        let defined = match environment(&store).await {
            Ok(env) => env.definition_of(k).is_some(),
            Err(_) => false,
        };
        if !defined {
            eprintln!("woi: {k}: no such jobnet (not in the applied definitions and no history)");
            return Ok(ExitCode::from(1));
        }
    }
    let jobs = match (&key, runs.first()) {
        (Some(k), Some(r)) => store.job_history(k, Some(r.run), None).await.map_err(|e| e.to_string())?,
        _ => Vec::new(),
    };
    // Each attempt's captured output (MODEL-149: the job's previous history).
    let mut outputs = Vec::new();
    if let Some(k) = &key {
        for j in &jobs {
            let o = store.job_output(k, j.job, j.attempt).await.map_err(|e| e.to_string())?;
            outputs.push(o.map(|o| o.output));
        }
    }
    if json {
        let jobs: Vec<serde_json::Value> = jobs
            .iter()
            .zip(outputs.iter().chain(std::iter::repeat(&None)))
            .map(|(j, o)| {
                let mut v = serde_json::to_value(j).unwrap_or_default();
                if let (Some(map), Some(o)) = (v.as_object_mut(), o) {
                    map.insert("output".into(), serde_json::Value::String(o.clone()));
                }
                v
            })
            .collect();
        let v = serde_json::json!({ "runs": runs, "jobs": jobs });
        out(&format!("{}\n", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?));
        return Ok(ExitCode::SUCCESS);
    }
    let mut s =
        format!("{:<32} {:>5} {:<14} {:>10} {:<25} {:<25}\n", "jobnet", "run", "status", "code", "started", "ended");
    let tz = rt_tz(&store).await;
    let fmt = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "-".into())
    };
    for r in &runs {
        let code = r.exit_code.map(code_text).unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "{:<32} {:>5} {:<14} {:>10} {:<25} {:<25}\n",
            r.jobnet.to_string(),
            r.run,
            r.status.as_str(),
            code,
            fmt(r.started_at),
            fmt(r.ended_at)
        ));
    }
    if !jobs.is_empty() {
        s.push_str(&format!("\n{:>4}  {:<20} {:>7} {:<14} {:>12}\n", "job", "name", "attempt", "status", "code"));
        for j in &jobs {
            let code = match (j.exit_code, j.raw_code) {
                (Some(255), Some(r)) => format!("255.({r})"),
                (Some(c), _) => code_text(c),
                _ => "-".into(),
            };
            s.push_str(&format!(
                "{:>4}  {:<20} {:>7} {:<14} {:>12}\n",
                j.job,
                j.name,
                j.attempt,
                j.status.as_str(),
                code
            ));
        }
        for (j, o) in jobs.iter().zip(&outputs) {
            if let Some(o) = o.as_deref().filter(|o| !o.is_empty()) {
                s.push_str(&format!("\n--- output of job {} ({}) attempt {} ---\n{o}", j.job, j.name, j.attempt));
                if !o.ends_with('\n') {
                    s.push('\n');
                }
            }
        }
    }
    out(&s);
    Ok(ExitCode::SUCCESS)
}

/// `woi op ACTION …`: apply one operation to the scheduler of the data
/// directory (when no `woi serve` holds it), make it durable, and run what
/// it started to its end. Exit 0 applied, 1 refused or unknown target.
pub async fn op(o: &RunOptions<'_>, action: serde_json::Value) -> Result<ExitCode, String> {
    let action: woi_core::sim::Action =
        serde_json::from_value(action).map_err(|e| format!("operation: {e} (see `woi op --help`)"))?;
    let Some((rt, _store, _lock, _)) = open_runtime(o, false).await? else { return Ok(ExitCode::from(1)) };
    let h = rt.handle();
    let task = tokio::spawn(rt.run());
    let result = h.apply(action).await;
    // Whatever the operation started runs to its end before the embedded
    // scheduler stops (otherwise the next start would find it interrupted).
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
        Ok(text) => {
            out(&format!("{text}\n"));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("woi: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    #[test]
    fn missed_starts_of_a_long_downtime_are_one_line_per_jobnet_and_action() {
        let (a, b) = (JobnetKey::new("P", "A"), JobnetKey::new("P", "B"));
        let mut missed: Vec<_> =
            (1..=30).map(|d| (a.clone(), at(&format!("2026-04-{d:02}T00:00:00Z")), "skipped".to_string())).collect();
        missed.push((a.clone(), at("2026-05-01T00:00:00Z"), "run_once".into()));
        missed.push((b.clone(), at("2026-05-01T01:00:00Z"), "skipped".into()));
        let lines = missed_start_lines(&missed);
        assert_eq!(
            lines,
            vec![
                "recovered: 30 starts of P/A from 2026-04-01T00:00:00+00:00 to 2026-04-30T00:00:00+00:00 were missed (skipped)",
                "recovered: start of P/A at 2026-05-01T00:00:00+00:00 was missed (run_once)",
                "recovered: start of P/B at 2026-05-01T01:00:00+00:00 was missed (skipped)",
            ]
        );
    }
}
