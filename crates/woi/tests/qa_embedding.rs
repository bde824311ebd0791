//! QA: black-box tests of the `woi` crate as an embedding service uses it —
//! only `use woi::...` (and the dev-dependencies a service would have: tokio,
//! futures, async-trait, chrono, tempfile).
//!
//! No timing assertions: every wait is on the change stream or on a job
//! handler's own signal; `guard` only turns a hang into a failure.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveDate, TimeZone, Utc};
use futures::StreamExt;
use woi::core::Refusal;
use woi::{
    Action, BuildError, Calendar, Change, Definitions, Environment, EventKind, HistoryFilter, HolidayHandling, Job,
    JobContext, JobHandler, JobStatus, Jobnet, JobnetKey, JobnetStatus, LoadError, ManualClock, Outcome, RaiseRequest,
    RuntimeError, Scheduler, SchedulerError, Script, WaitMode,
};

/// Turns a hang into a test failure (not a timing assertion: generous).
async fn guard<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(20), f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: did not finish (hang)"),
    }
}

fn key(p: &str, n: &str) -> JobnetKey {
    JobnetKey::new(p, n)
}

/// Waits on a change stream until job `number` of `jobnet` reaches `status`.
async fn until_job<S: futures::Stream<Item = Change> + Unpin>(
    changes: &mut S,
    jobnet: &JobnetKey,
    number: u16,
    status: JobStatus,
) {
    guard("job status", async {
        while let Some(change) = changes.next().await {
            if let Change::Event(e) = change
                && let EventKind::JobStatus { jobnet: k, job, status: s, .. } = e.kind
                && &k == jobnet
                && job == number
                && s == status
            {
                return;
            }
        }
        panic!("change stream ended before {jobnet} job {number} became {status:?}");
    })
    .await
}

// ---------------------------------------------------------------- handlers

/// Returns a fixed result and echoes its (substituted) command text.
struct Fixed(Result<i64, String>);

#[async_trait]
impl JobHandler for Fixed {
    async fn run(&self, ctx: JobContext) -> Result<i64, String> {
        ctx.line(format!("ARGS={}", ctx.job().command.replace(' ', "_")));
        self.0.clone()
    }
}

struct Panics;

#[async_trait]
impl JobHandler for Panics {
    async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
        panic!("handler bug: index out of range")
    }
}

/// Never returns; counts `cancel` calls and signals each one.
struct Hangs {
    cancels: Arc<AtomicU32>,
    cancelled: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl JobHandler for Hangs {
    async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
        futures::future::pending().await
    }
    async fn cancel(&self, _job: &woi::core::exec::JobRun) {
        self.cancels.fetch_add(1, Ordering::SeqCst);
        self.cancelled.notify_one();
    }
}

/// Waits for a permit before returning 0.
struct Gate(Arc<tokio::sync::Semaphore>);

#[async_trait]
impl JobHandler for Gate {
    async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
        let permit = self.0.acquire().await.map_err(|e| e.to_string())?;
        permit.forget();
        Ok(0)
    }
}

/// Fails (exit 9) the first `fail` times, then succeeds; records its commands.
struct FailThenOk {
    fail: u32,
    calls: Arc<AtomicU32>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait]
impl JobHandler for FailThenOk {
    async fn run(&self, ctx: JobContext) -> Result<i64, String> {
        self.seen.lock().expect("lock").push(ctx.job().command.clone());
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(if n < self.fail { 9 } else { 0 })
    }
}

// ------------------------------------------------------------ definitions

#[test]
fn builder_invalid_definitions_give_every_diagnostic_naming_object_and_field() {
    let err: BuildError = Definitions::builder()
        .calendar(Calendar::new("BIZ").day_change("6 o'clock").holiday("2026-02-30"))
        .jobnet(
            Jobnet::new("APP", "NIGHTLY")
                .at("25:00")
                .calendar("NO_SUCH_CAL")
                .job(Job::command(1, "a"))
                .job(Job::command(1, "b"))
                .job(Job::command(2, "c").after([9])),
        )
        .build()
        .unwrap_err();
    let has = |object: &str, field: &str| {
        err.diagnostics.iter().any(|d| d.object.contains(object) && d.field == field && !d.message.is_empty())
    };
    assert!(has("calendar BIZ", "day_change"), "{err}");
    assert!(has("calendar BIZ", "holidays"), "{err}");
    assert!(has("project APP / jobnet NIGHTLY", "start"), "{err}");
    assert!(has("project APP / jobnet NIGHTLY", "number"), "{err}");
    assert!(err.diagnostics.iter().any(|d| d.object.contains("job 2") && d.field == "after"), "{err}");
    assert!(err.to_string().contains("NO_SUCH_CAL"), "unknown calendar named: {err}");
    assert!(err.diagnostics.iter().all(|d| d.file.as_deref() == Some("<code>")), "{err}");
    assert!(err.to_string().starts_with(&format!("{} problems", err.diagnostics.len())), "{err}");
}

#[test]
fn builder_rejects_duplicate_jobnets_and_custom_job_without_handler() {
    let err = Definitions::builder()
        .jobnet(Jobnet::new("APP", "DUP").job(Job::command(1, "true")))
        .jobnet(Jobnet::new("APP", "DUP").job(Job::command(1, "true")))
        .build()
        .unwrap_err();
    assert!(err.diagnostics.iter().any(|d| d.object.contains("DUP")), "{err}");

    let err = Definitions::builder()
        .jobnet(Jobnet::new("APP", "C").job(Job::of_kind(1, woi::JobKind::Custom, "x")))
        .build()
        .unwrap_err();
    assert!(err.diagnostics.iter().any(|d| d.field == "handler"), "{err}");
}

#[test]
fn load_files_missing_path_is_a_typed_files_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    match woi::load_files(std::slice::from_ref(&missing)) {
        Err(LoadError::Files(e)) => assert!(e.to_string().contains("nope.toml"), "{e}"),
        other => panic!("expected LoadError::Files, got {other:?}"),
    }
}

#[test]
fn load_files_invalid_definitions_name_file_object_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("defs.toml");
    std::fs::write(
        &path,
        r#"
        [[jobnet]]
        project = "APP"
        name = "N"
        start = { time = "24:61" }
        [[jobnet.job]]
        number = 1
        command = "true"
        "#,
    )
    .unwrap();
    match woi::load_files(&[dir.path().to_path_buf()]) {
        Err(LoadError::Invalid(e)) => {
            let d = &e.diagnostics[0];
            assert!(d.file.as_deref().is_some_and(|f| f.ends_with("defs.toml")), "{e}");
            assert!(d.object.contains("jobnet N"), "{e}");
            assert!(d.field.contains("start"), "{e}");
        }
        other => panic!("expected LoadError::Invalid, got {other:?}"),
    }
}

#[test]
fn load_files_valid_directory_loads_the_jobnets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        "[[jobnet]]\nproject = \"APP\"\nname = \"A\"\n[[jobnet.job]]\nnumber = 1\ncommand = \"true\"\n",
    )
    .unwrap();
    let env = woi::load_files(&[dir.path().to_path_buf()]).expect("valid");
    assert_eq!(env.jobnets.len(), 1);
}

// ------------------------------------------------------------- scheduler

fn hello_env() -> Environment {
    Definitions::builder()
        .jobnet(Jobnet::new("APP", "HELLO").job(Job::command(1, "true")).job(Job::command(2, "true").after([1])))
        .build()
        .expect("valid")
}

#[tokio::test]
async fn in_memory_scheduler_runs_a_jobnet_to_completion_and_has_no_history() {
    let scheduler = Scheduler::builder(hello_env()).start().await.expect("start");
    let k = key("APP", "HELLO");
    scheduler.handle().start_jobnet(&k, None).await.expect("start_jobnet");
    let status = guard("wait_for_end", woi::wait_for_end(scheduler.handle(), &k)).await.expect("end");
    assert_eq!(status, JobnetStatus::Completed);
    let jobs = scheduler.handle().jobs(&k).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == JobStatus::Completed && j.exit.map(|e| e.code) == Some(0)));
    // wait_for_end returns at once for a run that already ended.
    assert_eq!(woi::wait_for_end(scheduler.handle(), &k).await.unwrap(), JobnetStatus::Completed);
    // History is kept by the SQLite store only: a typed error, not an empty list.
    assert!(matches!(scheduler.history(HistoryFilter::default()).await, Err(SchedulerError::NoHistory)));
    assert!(matches!(scheduler.job_history(&k, None).await, Err(SchedulerError::NoHistory)));
    scheduler.stop().await.expect("stop");
}

#[tokio::test]
async fn unknown_jobnet_and_job_names_are_typed_refusals_that_change_nothing() {
    let scheduler = Scheduler::builder(hello_env()).start().await.unwrap();
    let h = scheduler.handle();
    let nope = key("APP", "NOPE");
    match h.start_jobnet(&nope, None).await {
        Err(RuntimeError::Refused(Refusal::UnknownJobnet(name))) => assert_eq!(name, "APP/NOPE"),
        other => panic!("expected UnknownJobnet, got {other:?}"),
    }
    assert!(matches!(h.cancel_jobnet(&nope).await, Err(RuntimeError::Refused(Refusal::UnknownJobnet(_)))));
    match h.cancel_job(&key("APP", "HELLO"), "J99").await {
        Err(RuntimeError::Refused(Refusal::UnknownJob(net, job))) => {
            assert_eq!((net.as_str(), job.as_str()), ("APP/HELLO", "J99"))
        }
        other => panic!("expected UnknownJob, got {other:?}"),
    }
    // Cancelling a jobnet that is not running is refused, with its status named.
    let err = h.cancel_jobnet(&key("APP", "HELLO")).await.unwrap_err();
    assert!(matches!(err, RuntimeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("APP/HELLO"), "{err}");
    // Operations through `apply` name the unknown jobnet too (as a string).
    let err = h.apply(Action::Pause { jobnet: "APP/NOPE".into() }).await.unwrap_err();
    assert!(matches!(err, RuntimeError::Rejected(_)), "{err:?}");
    assert!(err.to_string().contains("APP/NOPE"), "{err}");
    // Nothing was started.
    let views = h.jobnets().await.unwrap();
    assert!(views.iter().all(|v| v.status == JobnetStatus::Waiting && v.run == 0), "{views:?}");
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_raise_request_is_refused_with_the_field_named() {
    let scheduler = Scheduler::builder(hello_env()).start().await.unwrap();
    let req = RaiseRequest { event: "AN_EVENT_NAME_FAR_TOO_LONG", ..Default::default() };
    match scheduler.handle().raise_event(&req).await {
        Err(RuntimeError::Refused(Refusal::Invalid { field, .. })) => assert!(field.contains("event"), "{field}"),
        other => panic!("expected Refused(Invalid), got {other:?}"),
    }
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn custom_handler_exit_code_output_and_jobnet_variables() {
    let env = Definitions::builder()
        .jobnet(
            Jobnet::new("APP", "CUSTOM")
                .job(Job::custom(1, "fixed", "one two").name("first").publish_variables("C"))
                .job(Job::custom(2, "fixed3", "got @C.ARGS@").name("second").after([1]).normal_limit(3)),
        )
        .build()
        .unwrap();
    let scheduler =
        Scheduler::builder(env).handler("fixed", Fixed(Ok(0))).handler("fixed3", Fixed(Ok(3))).start().await.unwrap();
    let k = key("APP", "CUSTOM");
    let mut changes = Box::pin(scheduler.handle().changes());
    scheduler.handle().start_jobnet(&k, None).await.unwrap();
    let status = guard("end", woi::wait_for_end(scheduler.handle(), &k)).await.unwrap();
    assert_eq!(status, JobnetStatus::PseudoNormal);
    let jobs = scheduler.handle().jobs(&k).await.unwrap();
    assert_eq!((jobs[0].status, jobs[0].exit.map(|e| e.code)), (JobStatus::Completed, Some(0)));
    assert_eq!((jobs[1].status, jobs[1].exit.map(|e| e.code)), (JobStatus::PseudoNormal, Some(3)));
    // The change stream saw both jobs end.
    until_job(&mut changes, &k, 2, JobStatus::PseudoNormal).await;
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn custom_handler_that_panics_ends_only_its_job_with_201_and_recovery_runs() {
    let env = Definitions::builder()
        .jobnet(
            Jobnet::new("APP", "PANIC")
                .job(Job::custom(1, "panics", "").name("flaky"))
                .job(Job::custom(2, "ok", "").name("recover").recovers(1, false)),
        )
        .jobnet(Jobnet::new("APP", "AFTER").job(Job::custom(1, "ok", "")))
        .build()
        .unwrap();
    let scheduler =
        Scheduler::builder(env).handler("panics", Panics).handler("ok", Fixed(Ok(0))).start().await.unwrap();
    let k = key("APP", "PANIC");
    scheduler.handle().start_jobnet(&k, None).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(scheduler.handle(), &k)).await.unwrap(), JobnetStatus::Abended);
    let jobs = scheduler.handle().jobs(&k).await.unwrap();
    assert_eq!((jobs[0].status, jobs[0].exit.map(|e| e.code)), (JobStatus::Abended, Some(201)));
    assert_eq!(jobs[1].status, JobStatus::Completed, "recovery job ran");
    // The scheduler goes on.
    let after = key("APP", "AFTER");
    scheduler.handle().start_jobnet(&after, None).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(scheduler.handle(), &after)).await.unwrap(), JobnetStatus::Completed);
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn custom_handler_err_ends_201_and_unknown_handler_ends_250() {
    let env = Definitions::builder()
        .jobnet(Jobnet::new("APP", "ERR").job(Job::custom(1, "err", "")))
        .jobnet(Jobnet::new("APP", "UNKNOWN").job(Job::custom(1, "nobody_registered_this", "")))
        .jobnet(Jobnet::new("APP", "BIG").job(Job::custom(1, "big", "")))
        .build()
        .unwrap();
    let scheduler = Scheduler::builder(env)
        .handler("err", Fixed(Err("remote said no".into())))
        .handler("big", Fixed(Ok(300)))
        .start()
        .await
        .unwrap();
    let h = scheduler.handle();
    for (net, code) in [("ERR", 201), ("UNKNOWN", 250), ("BIG", 255)] {
        let k = key("APP", net);
        h.start_jobnet(&k, None).await.unwrap();
        assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Abended, "{net}");
        let job = &h.jobs(&k).await.unwrap()[0];
        assert_eq!((job.status, job.exit.map(|e| e.code)), (JobStatus::Abended, Some(code)), "{net}");
    }
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn cancel_jobnet_force_terminates_a_custom_job_and_calls_cancel_once() {
    let env =
        Definitions::builder().jobnet(Jobnet::new("APP", "HANG").job(Job::custom(1, "hangs", ""))).build().unwrap();
    let cancels = Arc::new(AtomicU32::new(0));
    let cancelled = Arc::new(tokio::sync::Notify::new());
    let scheduler = Scheduler::builder(env)
        .handler("hangs", Hangs { cancels: cancels.clone(), cancelled: cancelled.clone() })
        .start()
        .await
        .unwrap();
    let k = key("APP", "HANG");
    let mut changes = Box::pin(scheduler.handle().changes());
    scheduler.handle().start_jobnet(&k, None).await.unwrap();
    until_job(&mut changes, &k, 1, JobStatus::Executing).await;
    scheduler.handle().cancel_jobnet(&k).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(scheduler.handle(), &k)).await.unwrap(), JobnetStatus::Cancelled);
    guard("cancel hook", cancelled.notified()).await;
    assert_eq!(cancels.load(Ordering::SeqCst), 1);
    let job = &scheduler.handle().jobs(&k).await.unwrap()[0];
    assert_eq!(job.status, JobStatus::Cancelled);
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn pause_holds_the_next_job_and_continue_releases_it() {
    let env = Definitions::builder()
        .jobnet(Jobnet::new("APP", "P").job(Job::custom(1, "gate", "")).job(Job::custom(2, "ok", "").after([1])))
        .build()
        .unwrap();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let scheduler =
        Scheduler::builder(env).handler("gate", Gate(gate.clone())).handler("ok", Fixed(Ok(0))).start().await.unwrap();
    let (h, k) = (scheduler.handle(), key("APP", "P"));
    let mut changes = Box::pin(h.changes());
    h.start_jobnet(&k, None).await.unwrap();
    until_job(&mut changes, &k, 1, JobStatus::Executing).await;
    let answer = h.apply(Action::Pause { jobnet: "APP/P".into() }).await.expect("pause");
    assert!(answer.starts_with("applied"), "{answer}");
    gate.add_permits(1);
    until_job(&mut changes, &k, 1, JobStatus::Completed).await;
    let view = h.jobnets().await.unwrap().into_iter().find(|v| v.key == k).unwrap();
    assert_eq!(view.status, JobnetStatus::Paused);
    assert_eq!(h.jobs(&k).await.unwrap()[1].status, JobStatus::Waiting, "job 2 held while paused");
    h.apply(Action::Continue { jobnet: "APP/P".into() }).await.expect("continue");
    assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Completed);
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn restart_of_an_abended_jobnet_reruns_it_with_the_same_vparam() {
    let env = Definitions::builder()
        .jobnet(Jobnet::new("APP", "R").job(Job::custom(1, "flaky", "day=@.VPARAM@")))
        .build()
        .unwrap();
    let (calls, seen) = (Arc::new(AtomicU32::new(0)), Arc::new(std::sync::Mutex::new(Vec::new())));
    let scheduler = Scheduler::builder(env)
        .handler("flaky", FailThenOk { fail: 1, calls: calls.clone(), seen: seen.clone() })
        .start()
        .await
        .unwrap();
    let (h, k) = (scheduler.handle(), key("APP", "R"));
    h.start_jobnet(&k, Some("20260105")).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Abended);
    assert_eq!(h.jobs(&k).await.unwrap()[0].exit.map(|e| e.code), Some(9));
    h.apply(Action::Restart { jobnet: "APP/R".into() }).await.expect("restart");
    assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Completed);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(*seen.lock().unwrap(), vec!["day=20260105".to_string(), "day=20260105".to_string()]);
    // Restarting a completed jobnet is refused and says so.
    let err = h.apply(Action::Restart { jobnet: "APP/R".into() }).await.unwrap_err();
    assert!(matches!(err, RuntimeError::Rejected(_)), "{err:?}");
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn message_event_starts_a_waiting_jobnet_with_its_vparam_and_clear_resets_counts() {
    let env = Definitions::builder()
        .jobnet(Jobnet::new("SHOP", "ORDER").message_only(false).on_events(["ORDER"], WaitMode::And).job(Job::custom(
            1,
            "rec",
            "order=@.VPARAM@",
        )))
        .jobnet(
            Jobnet::new("SHOP", "BOTH")
                .message_only(false)
                .on_events(["EV_A", "EV_B"], WaitMode::And)
                .job(Job::command(1, "true")),
        )
        .build()
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let scheduler = Scheduler::builder(env)
        .handler("rec", FailThenOk { fail: 0, calls: Arc::default(), seen: seen.clone() })
        .start()
        .await
        .unwrap();
    let h = scheduler.handle();
    let order = key("SHOP", "ORDER");
    let req = RaiseRequest { event: "ORDER", project: Some("SHOP"), vparam: Some("42"), ..Default::default() };
    let receptions = h.raise_event(&req).await.expect("raise");
    assert!(receptions.iter().any(|r| r.jobnet == order && r.counted), "{receptions:?}");
    assert_eq!(guard("end", woi::wait_for_end(h, &order)).await.unwrap(), JobnetStatus::Completed);
    assert_eq!(*seen.lock().unwrap(), vec!["order=42".to_string()]);

    // AND wait: one of two events is counted, then cleared.
    let both = key("SHOP", "BOTH");
    h.raise_event(&RaiseRequest { event: "EV_A", ..Default::default() }).await.unwrap();
    let counts = h.event_counts(&both).await.unwrap();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert_eq!(counts.iter().find(|c| c.event == "EV_A").map(|c| c.count), Some(1), "{counts:?}");
    let cleared = h.clear_events(Some("SHOP"), Some("BOTH")).await.unwrap();
    assert!(cleared.contains(&both), "{cleared:?}");
    assert!(h.event_counts(&both).await.unwrap().iter().all(|c| c.count == 0));
    // An event nobody waits for is accepted and counted by nobody.
    let r = h.raise_event(&RaiseRequest { event: "NOBODY", ..Default::default() }).await.unwrap();
    assert!(r.iter().all(|r| !r.counted), "{r:?}");
    let view = h.jobnets().await.unwrap().into_iter().find(|v| v.key == both).unwrap();
    assert_eq!((view.status, view.run), (JobnetStatus::Waiting, 0));
    scheduler.stop().await.unwrap();
}

#[tokio::test]
async fn reload_adds_jobnets_and_is_refused_while_a_changed_jobnet_executes() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let v1 = Definitions::builder().jobnet(Jobnet::new("APP", "A").job(Job::custom(1, "gate", ""))).build().unwrap();
    let scheduler = Scheduler::builder(v1).handler("gate", Gate(gate.clone())).start().await.unwrap();
    let (h, a) = (scheduler.handle(), key("APP", "A"));
    let mut changes = Box::pin(h.changes());
    h.start_jobnet(&a, None).await.unwrap();
    until_job(&mut changes, &a, 1, JobStatus::Executing).await;

    // A changes while it executes: refused as a whole, nothing changed.
    let v2 = || {
        Definitions::builder()
            .jobnet(Jobnet::new("APP", "A").job(Job::custom(1, "gate", "")).job(Job::command(2, "true").after([1])))
            .jobnet(Jobnet::new("APP", "B").job(Job::command(1, "true")))
            .build()
            .unwrap()
    };
    let err = h.reload(v2()).await.unwrap_err();
    assert!(matches!(err, RuntimeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("APP/A"), "{err}");
    assert!(h.jobnets().await.unwrap().iter().all(|v| v.key != key("APP", "B")));

    gate.add_permits(1);
    assert_eq!(guard("end", woi::wait_for_end(h, &a)).await.unwrap(), JobnetStatus::Completed);
    let report = h.reload(v2()).await.expect("reload");
    assert_eq!(report.added, vec![key("APP", "B")]);
    assert_eq!(report.changed, vec![a.clone()]);
    assert_eq!(h.environment().await.unwrap().jobnets.len(), 2);
    let b = key("APP", "B");
    h.start_jobnet(&b, None).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(h, &b)).await.unwrap(), JobnetStatus::Completed);
    scheduler.stop().await.unwrap();
}

// ----------------------------------------------------------- sqlite store

#[tokio::test]
async fn sqlite_restart_keeps_history_and_run_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("woi.db");
    let k = key("APP", "HELLO");
    let s = Scheduler::builder(hello_env()).sqlite(&db).unwrap().start().await.unwrap();
    s.handle().start_jobnet(&k, None).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(s.handle(), &k)).await.unwrap(), JobnetStatus::Completed);
    s.stop().await.unwrap();

    let s = Scheduler::builder(hello_env()).sqlite(&db).unwrap().start().await.unwrap();
    assert!(s.recovery().interrupted_jobs.is_empty(), "{:?}", s.recovery());
    assert!(s.recovery().events > 0, "the journal was replayed");
    let view = s.handle().jobnets().await.unwrap().into_iter().find(|v| v.key == k).unwrap();
    assert_eq!((view.status, view.run), (JobnetStatus::Completed, 1));
    s.handle().start_jobnet(&k, None).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(s.handle(), &k)).await.unwrap(), JobnetStatus::Completed);
    let runs = s.history(HistoryFilter { jobnet: Some(k.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| (r.run, r.status)).collect::<Vec<_>>(),
        vec![(2, JobnetStatus::Completed), (1, JobnetStatus::Completed)]
    );
    let jobs = s.job_history(&k, Some(1)).await.unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs.iter().all(|j| j.exit_code == Some(0) && j.status == JobStatus::Completed), "{jobs:?}");
    let limited = s.history(HistoryFilter { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(limited.len(), 1);
    s.stop().await.unwrap();
}

/// Spec 02 XC-010 / spec 01 MODEL-009: stopping ends executing jobs with 239
/// and the jobnet abends with 239; a reopen finds nothing left executing.
#[tokio::test]
async fn xc_010_stop_ends_executing_jobs_239_and_reopen_recovers_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("woi.db");
    let env = || {
        Definitions::builder()
            .jobnet(Jobnet::new("APP", "LONG").job(Job::command(1, "sleep 30")).job(Job::custom(2, "hangs", "")))
            .build()
            .unwrap()
    };
    let hangs = || Hangs { cancels: Arc::new(AtomicU32::new(0)), cancelled: Arc::new(tokio::sync::Notify::new()) };
    let k = key("APP", "LONG");
    let s = Scheduler::builder(env()).sqlite(&db).unwrap().handler("hangs", hangs()).start().await.unwrap();
    let mut changes = Box::pin(s.handle().changes());
    s.handle().start_jobnet(&k, None).await.unwrap();
    until_job(&mut changes, &k, 1, JobStatus::Executing).await;
    until_job(&mut changes, &k, 2, JobStatus::Executing).await;
    guard("stop", s.stop()).await.expect("stop");
    // The stream sees the 239 ends and then ends with the scheduler.
    let mut ends = Vec::new();
    while let Some(change) = guard("stream end", changes.next()).await {
        if let Change::Event(e) = change {
            match e.kind {
                EventKind::JobStatus { job, exit: Some(x), .. } => ends.push((job, x.code)),
                EventKind::JobnetStatus { exit_code, .. } => ends.push((0, exit_code.unwrap_or(0))),
                _ => {}
            }
            if let EventKind::JobnetStatus { status, .. } = e.kind {
                assert_eq!(status, JobnetStatus::Abended);
            }
        }
    }
    ends.sort();
    assert_eq!(ends, vec![(0, 239), (1, 239), (2, 239)]);

    let s = Scheduler::builder(env()).sqlite(&db).unwrap().handler("hangs", hangs()).start().await.unwrap();
    assert!(s.recovery().interrupted_jobs.is_empty(), "a graceful stop leaves nothing executing: {:?}", s.recovery());
    let view = s.handle().jobnets().await.unwrap().into_iter().find(|v| v.key == k).unwrap();
    assert_eq!((view.status, view.exit_code), (JobnetStatus::Abended, Some(239)));
    let jobs = s.handle().jobs(&k).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == JobStatus::Abended && j.exit.map(|e| e.code) == Some(239)), "{jobs:?}");
    let runs = s.history(HistoryFilter::default()).await.unwrap();
    assert_eq!((runs[0].status, runs[0].exit_code), (JobnetStatus::Abended, Some(239)));
    let attempts = s.job_history(&k, None).await.unwrap();
    assert!(attempts.iter().all(|a| a.exit_code == Some(239)), "{attempts:?}");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn sqlite_path_errors_are_typed_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist.
    let missing = dir.path().join("no/such/dir/woi.db");
    assert!(matches!(Scheduler::builder(hello_env()).sqlite(&missing), Err(SchedulerError::Sqlite(_))));
    // A file that is not a database.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not an sqlite database, just some text that is long enough......").unwrap();
    match Scheduler::builder(hello_env()).sqlite(&junk) {
        Err(SchedulerError::Sqlite(e)) => assert!(e.to_string().contains("junk.db"), "{e}"),
        Err(other) => panic!("expected a Sqlite error, got {other:?}"),
        Ok(_) => panic!("junk accepted as a database"),
    }
}

// ----------------------------------------------------------------- clock

#[tokio::test]
async fn injected_clock_stamps_runs_and_history() {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 1, 0, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Scheduler::builder(hello_env())
        .sqlite(dir.path().join("woi.db"))
        .unwrap()
        .clock(Arc::new(ManualClock::new(t0)))
        .start()
        .await
        .unwrap();
    let k = key("APP", "HELLO");
    s.handle().start_jobnet(&k, None).await.unwrap();
    guard("end", woi::wait_for_end(s.handle(), &k)).await.unwrap();
    let view = s.handle().jobnets().await.unwrap().into_iter().find(|v| v.key == k).unwrap();
    assert_eq!((view.started_at, view.ended_at), (Some(t0), Some(t0)));
    let run = &s.history(HistoryFilter::default()).await.unwrap()[0];
    assert_eq!(run.started_at, Some(t0));
    s.stop().await.unwrap();
}

// ------------------------------------------------------- changes stream

#[tokio::test]
async fn changes_stream_reports_missed_when_the_subscriber_lags() {
    // 160 jobs x 8 jobnets x (at least 2 events per job), run 30 times,
    // overflows the 65,536 events the stream holds; the subscriber reads
    // nothing meanwhile.
    let mut b = Definitions::builder().max_concurrent_jobs(2000);
    for n in 0..8 {
        let mut net = Jobnet::new("LAG", format!("N{n}"));
        for j in 1..=160u16 {
            net = net.job(Job::custom(j, "ok", ""));
        }
        b = b.jobnet(net);
    }
    let scheduler = Scheduler::builder(b.build().unwrap()).handler("ok", Fixed(Ok(0))).start().await.unwrap();
    let h = scheduler.handle();
    let mut lagging = Box::pin(h.changes());
    let mut total = 0usize;
    for _ in 0..30 {
        for n in 0..8 {
            h.start_jobnet(&key("LAG", &format!("N{n}")), None).await.unwrap();
        }
        for n in 0..8 {
            guard("end", woi::wait_for_end(h, &key("LAG", &format!("N{n}")))).await.unwrap();
        }
        total += 8 * 160;
    }
    assert!(total * 2 > 65_536);
    let first = guard("first change", lagging.next()).await.expect("stream open");
    match first {
        Change::Missed(n) => assert!(n > 0),
        Change::Event(e) => panic!("expected Change::Missed first, got {e:?}"),
        _ => panic!("unexpected change"),
    }
    // Then it goes on with events.
    assert!(matches!(guard("next change", lagging.next()).await, Some(Change::Event(_))));
    scheduler.stop().await.unwrap();
}

// ----------------------------------------------------- plan and simulate

fn close_env() -> Environment {
    Definitions::builder()
        .timezone("Europe/London")
        .calendar(Calendar::new("UK").day_change("06:00").holidays(["2026-12-25"]))
        .jobnet(
            Jobnet::new("SHOP", "CLOSE")
                .at("07:00")
                .weekly(["Mon", "Tue", "Wed", "Thu", "Fri"])
                .calendar("UK")
                .on_holiday(HolidayHandling::ShiftAfter(3))
                .job(Job::command(1, "extract.sh").name("extract"))
                .job(Job::command(2, "load.sh").name("load").after([1])),
        )
        .build()
        .expect("valid definitions")
}

#[tokio::test]
async fn plan_shifts_a_holiday_start_and_matches_the_free_function() {
    let env = close_env();
    let from = NaiveDate::from_ymd_opt(2026, 12, 21).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let free = woi::plan::plan(&env, from, to, None);
    let days: Vec<NaiveDate> = free.iter().map(|p| p.operating_day).collect();
    let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
    assert!(!days.contains(&d(25)), "holiday not a start: {days:?}");
    // Fri 25th is a holiday: shifted to the next non-holiday day, Sat 26th
    // (weekends are not holidays of this calendar).
    assert!(days.contains(&d(26)), "Fri 25th shifted after: {days:?}");
    assert_eq!(days.len(), 9, "{days:?}");
    assert!(free.iter().all(|p| p.local.format("%H:%M").to_string() == "07:00"));
    let s = Scheduler::builder(env)
        .clock(Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 20, 12, 0, 0).unwrap())));
    let s = s.start().await.unwrap();
    let k = key("SHOP", "CLOSE");
    let mine = s.plan(from, to, Some(&k));
    assert_eq!(mine.iter().map(|p| p.at).collect::<Vec<_>>(), free.iter().map(|p| p.at).collect::<Vec<_>>());
    assert!(s.plan(from, to, Some(&key("SHOP", "NOPE"))).is_empty());
    s.stop().await.unwrap();
}

#[test]
fn sim_runs_the_engine_on_a_virtual_clock_deterministically() {
    let env = Arc::new(close_env());
    let script = Script::starting_at("2026-12-22T06:30:00")
        .until("2026-12-22T12:00:00")
        .job("SHOP/CLOSE", "load", Outcome::exit(9).lasting("10m"))
        .input("2026-12-22T09:00:00", Action::Restart { jobnet: "SHOP/CLOSE".into() });
    let a = woi::sim::run(env.clone(), &script).expect("sim");
    let b = woi::sim::run(env, &script).expect("sim");
    assert_eq!(a.event_lines(), b.event_lines(), "same input, same log");
    let close = a.jobnet("SHOP/CLOSE").expect("report");
    // Abended at 07:10, restarted at 09:00, the scripted outcome applies again.
    assert_eq!(close.jobnet.status, JobnetStatus::Abended);
    assert_eq!(close.job("load").map(|j| (j.attempts, j.exit.map(|e| e.code))), Some((2, Some(9))));
    assert!(a.event_lines().iter().any(|l| l.contains("2026-12-22T07:00:00")), "{:#?}", a.event_lines());
}

#[test]
fn sim_bad_script_is_a_typed_error() {
    let env = Arc::new(close_env());
    assert!(matches!(
        woi::sim::run(env.clone(), &Script::starting_at("yesterday-ish")),
        Err(woi::sim::SimError::Invalid(_))
    ));
    let bad_job = Script::starting_at("2026-12-22T06:30:00").until("2026-12-22T08:00:00").job(
        "SHOP/NOPE",
        "load",
        Outcome::exit(0),
    );
    match woi::sim::run(env, &bad_job) {
        Err(e) => assert!(e.to_string().contains("SHOP/NOPE"), "{e}"),
        Ok(_) => panic!("a script naming an unknown jobnet was accepted"),
    }
}

#[tokio::test]
async fn start_while_executing_is_refused_not_allowed_and_an_over_long_event_vparam_is_refused() {
    let env = Definitions::builder()
        .jobnet(
            Jobnet::new("APP", "G").message_only(false).on_events(["EV"], WaitMode::Or).job(Job::custom(1, "gate", "")),
        )
        .build()
        .unwrap();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let scheduler = Scheduler::builder(env).handler("gate", Gate(gate.clone())).start().await.unwrap();
    let (h, k) = (scheduler.handle(), key("APP", "G"));
    // Spec 01 §1 limits: a variable parameter is at most 200 bytes.
    let long = "x".repeat(201);
    match h.raise_event(&RaiseRequest { event: "EV", vparam: Some(&long), ..Default::default() }).await {
        Err(RuntimeError::Refused(Refusal::Invalid { field, message })) => {
            assert_eq!(field, "vparam");
            assert!(message.contains("200"), "{message}");
        }
        other => panic!("expected Refused(Invalid vparam), got {other:?}"),
    }
    h.start_jobnet(&k, None).await.unwrap();
    match h.start_jobnet(&k, None).await {
        Err(RuntimeError::Refused(Refusal::NotAllowed { op, target, status })) => {
            assert_eq!(op, "start");
            assert!(target.contains("APP/G"), "{target}");
            assert_eq!(status, "executing");
        }
        other => panic!("expected Refused(NotAllowed), got {other:?}"),
    }
    gate.add_permits(1);
    assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Completed);
    scheduler.stop().await.unwrap();
}

// ------------------------------------------------ fixes of the QA findings

/// Finding 1: one scheduler per SQLite database. A second start on the same
/// file fails with a typed error naming it; readers may still open the store;
/// once the first stops, the database is free again.
#[tokio::test]
async fn second_scheduler_on_the_same_sqlite_file_is_refused_in_use_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("woi.db");
    let k = key("APP", "HELLO");
    let first = Scheduler::builder(hello_env()).sqlite(&db).unwrap().start().await.unwrap();
    match Scheduler::builder(hello_env()).sqlite(&db).unwrap().start().await {
        Err(SchedulerError::InUse { database, lock }) => {
            assert_eq!(database, db);
            assert_eq!(lock, dir.path().join("woi.db.lock"));
        }
        Err(other) => panic!("expected SchedulerError::InUse, got {other:?}"),
        Ok(_) => panic!("a second scheduler started on the same database"),
    }
    let err = Scheduler::builder(hello_env()).sqlite(&db).unwrap().start().await.err().expect("in use");
    assert!(err.to_string().contains(&db.display().to_string()), "{err}");
    // Read-only users (woi status / woi history) still open the store.
    let reader = woi::SqliteStore::open(&db).expect("a reader opens the store while the scheduler runs");
    drop(reader);
    // The first scheduler was not disturbed.
    first.handle().start_jobnet(&k, None).await.unwrap();
    assert_eq!(guard("end", woi::wait_for_end(first.handle(), &k)).await.unwrap(), JobnetStatus::Completed);
    first.stop().await.unwrap();
    // Stopped: the database is free for the next scheduler.
    let next = Scheduler::builder(hello_env()).sqlite(&db).unwrap().start().await.expect("free after stop");
    next.stop().await.unwrap();
}

/// Finding 2: the change stream ends, and a pending `wait_for_end` returns
/// `Stopped`, when the scheduler stops while clones of its handle are alive.
#[tokio::test]
async fn changes_end_and_wait_for_end_returns_stopped_when_the_scheduler_stops_with_a_handle_clone_alive() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let env = Definitions::builder().jobnet(Jobnet::new("APP", "G").job(Job::custom(1, "gate", ""))).build().unwrap();
    let scheduler = Scheduler::builder(env).handler("gate", Gate(gate)).start().await.unwrap();
    let h = scheduler.handle().clone();
    let k = key("APP", "G");
    let mut changes = Box::pin(h.changes());
    h.start_jobnet(&k, None).await.unwrap();
    until_job(&mut changes, &k, 1, JobStatus::Executing).await;
    let waiter = tokio::spawn({
        let (h, k) = (h.clone(), k.clone());
        async move { woi::wait_for_end(&h, &k).await }
    });
    scheduler.stop().await.unwrap();
    // The rest of the run (the 239 ends), then the end of the stream.
    guard("stream end", async { while changes.next().await.is_some() {} }).await;
    match guard("wait_for_end", waiter).await.unwrap() {
        // It returns the 239 end if it saw it, or Stopped — never hangs.
        Ok(status) => assert_eq!(status, JobnetStatus::Abended),
        Err(e) => assert!(matches!(e, RuntimeError::Stopped), "{e:?}"),
    }
    // A stream opened after the stop ends at once; commands say Stopped.
    assert!(guard("late stream", Box::pin(h.changes()).next()).await.is_none());
    assert!(matches!(h.jobnets().await, Err(RuntimeError::Stopped)));
    assert!(matches!(guard("late wait", woi::wait_for_end(&h, &k)).await, Err(RuntimeError::Stopped)));
}

/// Finding 2, second case: a `wait_for_end` on a jobnet that is not running
/// (waiting for its first start) returns `Stopped` when the scheduler stops.
#[tokio::test]
async fn wait_for_end_of_a_waiting_jobnet_returns_stopped_when_the_scheduler_stops() {
    let scheduler = Scheduler::builder(hello_env()).start().await.unwrap();
    let h = scheduler.handle().clone();
    let k = key("APP", "HELLO");
    let waiter = tokio::spawn(async move { woi::wait_for_end(&h, &k).await });
    // Let the waiter subscribe (it waits either way: it cannot see an end).
    tokio::task::yield_now().await;
    scheduler.stop().await.unwrap();
    assert!(matches!(guard("wait_for_end", waiter).await.unwrap(), Err(RuntimeError::Stopped)));
}

/// Finding 3: dropping a `Scheduler` without `stop` stops it gracefully in
/// the background: executing jobs end with 239, the handle is stopped, and
/// a reopen finds nothing left executing.
#[tokio::test]
async fn dropping_a_scheduler_without_stop_stops_it_and_ends_executing_jobs_239() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("woi.db");
    let env = || Definitions::builder().jobnet(Jobnet::new("APP", "LONG").job(Job::command(1, "sleep 30"))).build();
    let k = key("APP", "LONG");
    let s = Scheduler::builder(env().unwrap()).sqlite(&db).unwrap().start().await.unwrap();
    let h = s.handle().clone();
    let mut changes = Box::pin(h.changes());
    h.start_jobnet(&k, None).await.unwrap();
    until_job(&mut changes, &k, 1, JobStatus::Executing).await;
    drop(s);
    let mut ends = Vec::new();
    while let Some(change) = guard("stream end after drop", changes.next()).await {
        if let Change::Event(e) = change
            && let EventKind::JobStatus { job, exit: Some(x), .. } = e.kind
        {
            ends.push((job, x.code));
        }
    }
    assert_eq!(ends, vec![(1, 239)]);
    assert!(matches!(h.start_jobnet(&k, None).await, Err(RuntimeError::Stopped)));
    // The runtime task releases the database once it has closed the store.
    let s = guard("reopen", async {
        loop {
            match Scheduler::builder(env().unwrap()).sqlite(&db).unwrap().start().await {
                Err(SchedulerError::InUse { .. }) => tokio::time::sleep(Duration::from_millis(10)).await,
                other => return other.expect("reopen"),
            }
        }
    })
    .await;
    assert!(s.recovery().interrupted_jobs.is_empty(), "{:?}", s.recovery());
    let view = s.handle().jobnets().await.unwrap().into_iter().find(|v| v.key == k).unwrap();
    assert_eq!((view.status, view.exit_code), (JobnetStatus::Abended, Some(239)));
    s.stop().await.unwrap();
}

/// Finding 5: `Scheduler::plan` and `Scheduler::environment` follow `Handle::reload`.
#[tokio::test]
async fn plan_and_environment_follow_a_reload() {
    let v1 = Definitions::builder().jobnet(Jobnet::new("APP", "A").job(Job::command(1, "true"))).build().unwrap();
    let v2 = Definitions::builder()
        .jobnet(Jobnet::new("APP", "A").job(Job::command(1, "true")))
        .jobnet(Jobnet::new("APP", "NEW").at("03:00").job(Job::command(1, "true")))
        .build()
        .unwrap();
    let s = Scheduler::builder(v1)
        .clock(Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap())))
        .start()
        .await
        .unwrap();
    let (d, new) = (NaiveDate::from_ymd_opt(2026, 4, 6).unwrap(), key("APP", "NEW"));
    assert!(s.plan(d, d, Some(&new)).is_empty());
    assert_eq!(s.environment().jobnets.len(), 1);
    let expected = woi::plan::plan(&v2, d, d, Some(&new));
    assert!(!expected.is_empty());
    s.handle().reload(v2).await.unwrap();
    assert_eq!(s.environment().jobnets.len(), 2);
    assert_eq!(s.environment().jobnets.len(), s.handle().environment().await.unwrap().jobnets.len());
    let planned = s.plan(d, d, Some(&new));
    assert_eq!(planned.iter().map(|p| p.at).collect::<Vec<_>>(), expected.iter().map(|p| p.at).collect::<Vec<_>>());
    s.stop().await.unwrap();
}

/// Finding 8a: `wait_for_end` on a jobnet the scheduler does not know is a
/// typed refusal at once, not an endless wait.
#[tokio::test]
async fn wait_for_end_of_an_unknown_jobnet_is_refused_at_once() {
    let s = Scheduler::builder(hello_env()).start().await.unwrap();
    match guard("wait_for_end", woi::wait_for_end(s.handle(), &key("APP", "NOPE"))).await {
        Err(RuntimeError::Refused(Refusal::UnknownJobnet(name))) => assert_eq!(name, "APP/NOPE"),
        other => panic!("expected Refused(UnknownJobnet), got {other:?}"),
    }
    s.stop().await.unwrap();
}

/// Finding 8b: when the end falls among events the waiter missed
/// (`Change::Missed`), `wait_for_end` reads the status again instead of
/// waiting for a later run.
#[tokio::test]
async fn wait_for_end_reads_the_status_again_after_missed_events() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let mut b = Definitions::builder()
        .max_concurrent_jobs(2000)
        .jobnet(Jobnet::new("APP", "G").job(Job::custom(1, "gate", "")));
    for n in 0..8 {
        let mut net = Jobnet::new("LAG", format!("N{n}"));
        for j in 1..=160u16 {
            net = net.job(Job::custom(j, "ok", ""));
        }
        b = b.jobnet(net);
    }
    let scheduler =
        Scheduler::builder(b.build().unwrap()).handler("ok", Fixed(Ok(0))).handler("gate", Gate(gate.clone()));
    let scheduler = scheduler.start().await.unwrap();
    let (h, g) = (scheduler.handle(), key("APP", "G"));
    h.start_jobnet(&g, None).await.unwrap();
    // The waiter subscribes and finds G executing; then it is not polled
    // while G ends and more events than the stream holds go by.
    let mut waiting = Box::pin(woi::wait_for_end(h, &g));
    assert!(tokio::time::timeout(Duration::from_millis(200), &mut waiting).await.is_err(), "G is executing");
    gate.add_permits(1);
    assert_eq!(guard("G ends", woi::wait_for_end(h, &g)).await.unwrap(), JobnetStatus::Completed);
    for _ in 0..30 {
        for n in 0..8 {
            h.start_jobnet(&key("LAG", &format!("N{n}")), None).await.unwrap();
        }
        for n in 0..8 {
            guard("end", woi::wait_for_end(h, &key("LAG", &format!("N{n}")))).await.unwrap();
        }
    }
    assert_eq!(guard("waiter after missed events", waiting).await.unwrap(), JobnetStatus::Completed);
    scheduler.stop().await.unwrap();
}

/// Finding 7: an operator start's variable parameter has the same 200-byte
/// limit as a message event's (spec 01 §1); refused, nothing started.
#[tokio::test]
async fn start_jobnet_with_a_vparam_over_200_bytes_is_refused_and_starts_nothing() {
    let s = Scheduler::builder(hello_env()).start().await.unwrap();
    let (h, k) = (s.handle(), key("APP", "HELLO"));
    match h.start_jobnet(&k, Some(&"x".repeat(201))).await {
        Err(RuntimeError::Refused(Refusal::Invalid { field, message })) => {
            assert_eq!(field, "vparam");
            assert!(message.contains("201") && message.contains("200"), "{message}");
        }
        other => panic!("expected Refused(Invalid vparam), got {other:?}"),
    }
    let view = h.jobnets().await.unwrap().into_iter().find(|v| v.key == k).unwrap();
    assert!(!view.status.is_running(), "{:?}", view.status);
    assert_eq!(view.run, 0, "nothing started");
    // 200 bytes is allowed.
    h.start_jobnet(&k, Some(&"x".repeat(200))).await.expect("200 bytes");
    assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Completed);
    s.stop().await.unwrap();
}

/// Finding 9: the types an embedding service names are at the crate root,
/// and chrono is `woi::chrono`.
#[tokio::test]
async fn crate_root_reexports_the_types_an_embedding_service_names() {
    struct Named;
    #[async_trait]
    impl JobHandler for Named {
        async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
            Ok(0)
        }
        async fn cancel(&self, _job: &woi::JobRun) {}
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("woi.db");
    let now: woi::chrono::DateTime<woi::chrono::Utc> = woi::chrono::Utc::now();
    let s = Scheduler::builder(hello_env())
        .sqlite(&db)
        .unwrap()
        .handler("named", Named)
        .clock(Arc::new(ManualClock::new(now)))
        .start()
        .await
        .unwrap();
    let k = key("APP", "HELLO");
    let _: &woi::RestoreReport = s.recovery();
    let day: woi::chrono::NaiveDate = now.date_naive();
    let _: Vec<woi::PlannedStart> = s.plan(day, day, None);
    let _: Vec<woi::EventCount> = s.handle().event_counts(&k).await.unwrap();
    let _: Vec<woi::Occurrence> = s.handle().occurrences(0).await.unwrap();
    let refusal: Option<woi::Refusal> = match s.handle().start_jobnet(&key("APP", "NOPE"), None).await {
        Err(RuntimeError::Refused(r)) => Some(r),
        _ => None,
    };
    assert!(matches!(refusal, Some(woi::Refusal::UnknownJobnet(_))));
    s.handle().start_jobnet(&k, None).await.unwrap();
    guard("end", woi::wait_for_end(s.handle(), &k)).await.unwrap();
    let runs: Vec<woi::JobnetRunRecord> = s.history(HistoryFilter::default()).await.unwrap();
    let jobs: Vec<woi::JobRunRecord> = s.job_history(&k, None).await.unwrap();
    assert_eq!((runs.len(), jobs.len()), (1, 2));
    let report: woi::ReloadReport = s.handle().reload(hello_env()).await.unwrap();
    assert!(report.added.is_empty());
    assert_eq!(woi::EVENT_STREAM_CAPACITY, woi::adapters::runtime::EVENT_STREAM_CAPACITY);
    let _: Option<&woi::SqliteError> = None;
    s.stop().await.unwrap();
}

// Spec 01 §3.4.3 / §3.5.1 through the typed API: `Handle::jobnet_op` pauses,
// continues and restarts, and a refusal is the engine's typed `Refusal`
// (not a string), with nothing changed.
#[tokio::test]
async fn jobnet_ops_are_typed_and_their_refusals_are_typed() {
    let env = Definitions::builder()
        .jobnet(Jobnet::new("APP", "T").job(Job::custom(1, "gate", "")).job(Job::custom(2, "ok", "").after([1])))
        .build()
        .unwrap();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let scheduler =
        Scheduler::builder(env).handler("gate", Gate(gate.clone())).handler("ok", Fixed(Ok(0))).start().await.unwrap();
    let (h, k) = (scheduler.handle(), key("APP", "T"));
    let mut changes = Box::pin(h.changes());
    h.start_jobnet(&k, None).await.unwrap();
    until_job(&mut changes, &k, 1, JobStatus::Executing).await;
    h.jobnet_op(&k, woi::JobnetOp::Pause).await.expect("pause");
    gate.add_permits(1);
    until_job(&mut changes, &k, 1, JobStatus::Completed).await;
    assert_eq!(h.jobs(&k).await.unwrap()[1].status, JobStatus::Waiting, "job 2 held while paused");
    h.jobnet_op(&k, woi::JobnetOp::Continue).await.expect("continue");
    assert_eq!(guard("end", woi::wait_for_end(h, &k)).await.unwrap(), JobnetStatus::Completed);
    match h.jobnet_op(&k, woi::JobnetOp::Restart).await {
        Err(woi::RuntimeError::Refused(woi::Refusal::NotAllowed { op, .. })) => assert_eq!(op, "restart"),
        other => panic!("restart of a completed jobnet must be a typed refusal: {other:?}"),
    }
    scheduler.stop().await.unwrap();
}
