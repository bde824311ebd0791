//! Property tests of the operator operations (spec 01 §3.3.4, §3.4.3, §3.5)
//! over random flows, random scripted outcomes and a random sequence of
//! 0–12 jobnet / job / recovery operations at random instants (many of them
//! refused). Properties:
//! - the simulation ends without error (bounded by `until = +3h`: a jobnet
//!   held by a paused job may legitimately run for ever);
//! - at the end no job is executing;
//! - a jobnet that ends Completed / PseudoNormal has every job ended normally,
//!   bypassed, disabled or paused (recovery jobs that never ran may still wait);
//! - no job starts while its jobnet's last status is not Executing / Warning:
//!   in particular an ended jobnet (Completed, PseudoNormal, Abended,
//!   Cancelled) starts no job until a later `executing` event (start or
//!   restart), and a paused jobnet starts nothing new;
//! - a refused input changes nothing: the same script without that input
//!   gives the same event log and the same answers to the other inputs.
//!
//! The full generator finds six engine bugs (B1–B6, minimal cases in the
//! ignored `bug_*` tests at the end), so its proptest is ignored; two
//! variants that leave out the triggers of those bugs run by default.

use std::sync::Arc;

use proptest::prelude::*;
use woi_core::Catalog;
use woi_core::engine::{EventKind, JobStatus, JobnetStatus, RecoveryOp};
use woi_core::model::{Definitions, ExitCodeRange, JobDef, Recovery, WaitMode};
use woi_core::sim::{self, Action, DurationSpec, ExitSpec, Input, JobScript, JobSel, Outcome, Report, Script};

const JOBNET: &str = "P/N";

#[derive(Clone, Debug)]
struct JobSpec {
    preds: Vec<u16>,
    or: bool,
    cond: Option<(u32, u32)>,
    limit: u32,
    /// Outcomes (exit, minutes) of the first runs; later runs exit 0 after 1 minute.
    runs: Vec<(i64, i64)>,
}

/// An optional recovery job of the flow: (target index, rerun, exit, minutes).
type RecoverySpec = Option<(usize, bool, i64, i64)>;

#[derive(Clone, Debug)]
struct Flow {
    jobs: Vec<JobSpec>,
    restart_point: Option<usize>,
    recovery: RecoverySpec,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Start,
    Cancel,
    Pause,
    Continue,
    Disable,
    Enable,
    Confirm,
    ReleaseCarryOver,
    CancelCompletion,
    Restart,
    CancelJob,
    RestartJob,
    PauseJob,
    ContinueJob,
    DisableJob,
    EnableJob,
    Recover(RecoveryOp),
}

#[derive(Clone, Debug)]
struct TimedOp {
    /// Seconds after the start.
    at: i64,
    op: Op,
    /// Job index (modulo the number of jobs, recovery job included).
    job: usize,
}

/// Which features the generators use (the restricted variant leaves out the
/// triggers of the engine bugs documented at the end of this file).
#[derive(Clone, Copy, Debug)]
struct Knobs {
    or_waits: bool,
    branches: bool,
    recovery_jobs: bool,
    restart_points: bool,
    jobnet_pause: bool,
    /// `recover`, `restart_job` and `continue_job`, which start jobs directly
    /// and so can start one in a paused jobnet (B4, B6).
    job_starting_ops: bool,
}

/// Everything.
const ALL: Knobs = Knobs {
    or_waits: true,
    branches: true,
    recovery_jobs: true,
    restart_points: true,
    jobnet_pause: true,
    job_starting_ops: true,
};
/// Without the triggers of the known engine bugs (see the ignored tests at
/// the end): every operation, but no jobnet Pause.
const NO_PAUSE: Knobs = Knobs {
    or_waits: false,
    branches: false,
    recovery_jobs: false,
    restart_points: false,
    jobnet_pause: false,
    job_starting_ops: true,
};
/// Without the triggers of the known engine bugs: jobnet Pause, but no
/// recovery operation, job restart or job continue.
const PAUSE: Knobs = Knobs { jobnet_pause: true, job_starting_ops: false, ..NO_PAUSE };

fn job_spec(k: Knobs, i: usize) -> BoxedStrategy<JobSpec> {
    let preds = if i == 0 {
        Just(Vec::new()).boxed()
    } else {
        proptest::collection::btree_set(1..=(i as u16), 0..=2.min(i))
            .prop_map(|s| s.into_iter().collect::<Vec<u16>>())
            .boxed()
    };
    let runs = proptest::collection::vec((prop_oneof![3 => Just(0i64), 2 => 1i64..5], 0i64..5), 1..=3);
    (preds, any::<bool>(), proptest::option::of((0u32..4, 0u32..4)), 0u32..3, runs)
        .prop_map(move |(preds, or, cond, limit, runs)| JobSpec {
            or: k.or_waits && or && preds.len() > 1,
            cond: cond.filter(|_| k.branches && preds.len() == 1).map(|(a, b)| (a.min(b), a.max(b))),
            preds,
            limit,
            runs,
        })
        .boxed()
}

fn flow(k: Knobs) -> impl Strategy<Value = Flow> {
    (1usize..7).prop_flat_map(move |n| {
        (
            (0..n).map(|i| job_spec(k, i)).collect::<Vec<_>>(),
            proptest::option::of(0..n),
            proptest::option::of((0..n, any::<bool>(), prop_oneof![Just(0i64), 1i64..3], 0i64..4)),
        )
            .prop_map(move |(jobs, restart_point, recovery)| Flow {
                jobs,
                restart_point: restart_point.filter(|_| k.restart_points),
                recovery: recovery.filter(|_| k.recovery_jobs),
            })
    })
}

fn op(k: Knobs) -> impl Strategy<Value = Op> {
    let pause = if k.jobnet_pause { Op::Pause } else { Op::Continue };
    let recovery = |op| if k.job_starting_ops { Op::Recover(op) } else { Op::EnableJob };
    let restart_job = if k.job_starting_ops { Op::RestartJob } else { Op::CancelJob };
    let continue_job = if k.job_starting_ops { Op::ContinueJob } else { Op::PauseJob };
    prop_oneof![
        Just(Op::Start),
        Just(Op::Cancel),
        Just(pause),
        Just(Op::Continue),
        Just(Op::Disable),
        Just(Op::Enable),
        Just(Op::Confirm),
        Just(Op::ReleaseCarryOver),
        Just(Op::CancelCompletion),
        Just(Op::Restart),
        Just(Op::CancelJob),
        Just(restart_job),
        Just(Op::PauseJob),
        Just(continue_job),
        Just(Op::DisableJob),
        Just(Op::EnableJob),
        Just(recovery(RecoveryOp::StartFrom)),
        Just(recovery(RecoveryOp::RestartFrom)),
        Just(recovery(RecoveryOp::StartNext)),
        Just(recovery(RecoveryOp::StartOnly)),
    ]
}

fn ops(k: Knobs) -> impl Strategy<Value = Vec<TimedOp>> {
    // Whole minutes (to meet job ends at the same instant) or half minutes.
    let at = (0i64..30, any::<bool>()).prop_map(|(m, half)| m * 60 + if half { 30 } else { 0 });
    proptest::collection::vec((at, op(k), 0usize..8).prop_map(|(at, op, job)| TimedOp { at, op, job }), 0..=12)
}

fn definitions(f: &Flow) -> Definitions {
    let mut defs: Definitions = toml::from_str("[[jobnet]]\nproject = \"P\"\nname = \"N\"\n").unwrap_or_default();
    let mut jobs: Vec<JobDef> = f
        .jobs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut j = JobDef::command(i as u16 + 1, "x");
            j.after = s.preds.clone();
            j.wait = if s.or { WaitMode::Or } else { WaitMode::And };
            j.exit_code_condition = s.cond.map(|(min, max)| ExitCodeRange { min, max });
            j.normal_limit = s.limit;
            j.restart_point = f.restart_point == Some(i);
            j
        })
        .collect();
    if let Some((target, rerun, _, _)) = f.recovery {
        let mut r = JobDef::command(jobs.len() as u16 + 1, "fix");
        r.recovery = Some(Recovery { target: target as u16 + 1, rerun });
        jobs.push(r);
    }
    if let Some(n) = defs.jobnets.first_mut() {
        n.jobs = jobs;
    }
    defs
}

fn outcome(exit: i64, minutes: i64) -> Outcome {
    Outcome {
        exit: Some(ExitSpec::Number(exit)),
        duration: Some(DurationSpec::Seconds(minutes * 60)),
        ..Outcome::default()
    }
}

fn n_jobs(f: &Flow) -> usize {
    f.jobs.len() + usize::from(f.recovery.is_some())
}

fn action(f: &Flow, t: &TimedOp) -> Action {
    let jobnet = JOBNET.to_string();
    let job = JobSel::Number((t.job % n_jobs(f)) as u16 + 1);
    match t.op {
        Op::Start => Action::Start { jobnet, vparam: None },
        Op::Cancel => Action::Cancel { jobnet },
        Op::Pause => Action::Pause { jobnet },
        Op::Continue => Action::Continue { jobnet },
        Op::Disable => Action::Disable { jobnet },
        Op::Enable => Action::Enable { jobnet },
        Op::Confirm => Action::Confirm { jobnet },
        Op::ReleaseCarryOver => Action::ReleaseCarryOver { jobnet },
        Op::CancelCompletion => Action::CancelCompletion { jobnet },
        Op::Restart => Action::Restart { jobnet },
        Op::CancelJob => Action::CancelJob { jobnet, job },
        Op::RestartJob => Action::RestartJob { jobnet, job },
        Op::PauseJob => Action::PauseJob { jobnet, job },
        Op::ContinueJob => Action::ContinueJob { jobnet, job },
        Op::DisableJob => Action::DisableJob { jobnet, job },
        Op::EnableJob => Action::EnableJob { jobnet, job },
        Op::Recover(op) => Action::Recover { jobnet, job, op },
    }
}

fn script(f: &Flow, ops: &[TimedOp]) -> Script {
    let mut jobs: Vec<JobScript> = f
        .jobs
        .iter()
        .enumerate()
        .map(|(i, s)| JobScript {
            jobnet: JOBNET.into(),
            job: JobSel::Number(i as u16 + 1),
            outcome: outcome(0, 1),
            runs: s.runs.iter().map(|&(e, m)| outcome(e, m)).collect(),
        })
        .collect();
    if let Some((_, _, exit, minutes)) = f.recovery {
        jobs.push(JobScript {
            jobnet: JOBNET.into(),
            job: JobSel::Number(f.jobs.len() as u16 + 1),
            outcome: outcome(exit, minutes),
            runs: Vec::new(),
        });
    }
    let mut inputs = vec![Input { at: "+0s".into(), action: Action::Start { jobnet: JOBNET.into(), vparam: None } }];
    inputs.extend(ops.iter().map(|t| Input { at: format!("+{}s", t.at), action: action(f, t) }));
    Script {
        start: "2026-04-01T09:00:00".into(),
        timezone: None,
        // A jobnet can legitimately run for ever (a paused job whose turn has come
        // holds it Executing until Continue), so the run is bounded.
        until: Some("+3h".into()),
        host: None,
        defaults: Outcome::default(),
        jobs,
        inputs,
    }
}

fn run(f: &Flow, ops: &[TimedOp]) -> Result<Report, TestCaseError> {
    let mut cat = Catalog::new();
    cat.add(None, definitions(f));
    let env = Arc::new(cat.compile().map_err(|d| TestCaseError::fail(format!("definitions invalid: {d:?}")))?);
    let script = script(f, ops);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(sim::run(env, &script).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(r) => r.map_err(|e| TestCaseError::fail(format!("simulation failed: {e}"))),
        Err(_) => Err(TestCaseError::fail(format!("simulation did not end within 20 s: {f:?} {ops:?}"))),
    }
}

fn is_ended(s: JobnetStatus) -> bool {
    matches!(s, JobnetStatus::Completed | JobnetStatus::PseudoNormal | JobnetStatus::Abended | JobnetStatus::Cancelled)
}

fn check(f: &Flow, ops: &[TimedOp]) -> Result<(), TestCaseError> {
    let report = run(f, ops)?;
    let lines = report.event_lines();
    let log = || lines.join("\n");
    let inputs = || report.inputs.iter().map(|i| format!("{} {} -> {}", i.at, i.action, i.result)).collect::<Vec<_>>();

    // Replay the log: a job starts only while its jobnet executes.
    let mut jobnet_status = JobnetStatus::Waiting;
    for (k, e) in report.events.iter().enumerate() {
        match &e.kind {
            EventKind::JobnetStatus { status, .. } => jobnet_status = *status,
            EventKind::JobStatus { job, status: JobStatus::Executing, .. } => {
                prop_assert!(
                    jobnet_status.is_running(),
                    "job {} started (event {}: {}) while the jobnet is {}{}\ninputs: {:#?}\n{}",
                    job,
                    k,
                    lines[k],
                    jobnet_status,
                    if is_ended(jobnet_status) { " (ended, no restart since)" } else { "" },
                    inputs(),
                    log()
                );
            }
            _ => {}
        }
    }

    let view = report
        .jobnets
        .iter()
        .find(|r| r.jobnet.key.to_string() == JOBNET)
        .ok_or_else(|| TestCaseError::fail("no P/N in the report"))?;
    let recovery_number = f.recovery.map(|_| f.jobs.len() as u16 + 1);
    for j in &view.jobs {
        prop_assert!(
            !matches!(j.status, JobStatus::Executing | JobStatus::Warning),
            "job {} still {} at the end\ninputs: {:#?}\n{}",
            j.number,
            j.status,
            inputs(),
            log()
        );
        if matches!(view.jobnet.status, JobnetStatus::Completed | JobnetStatus::PseudoNormal) {
            let ok = matches!(
                j.status,
                JobStatus::Completed
                    | JobStatus::PseudoNormal
                    | JobStatus::Bypassed
                    | JobStatus::Disabled
                    | JobStatus::Paused
            ) || (Some(j.number) == recovery_number && j.status == JobStatus::Waiting);
            prop_assert!(
                ok,
                "jobnet {} but job {} is {}\ninputs: {:#?}\n{}",
                view.jobnet.status,
                j.number,
                j.status,
                inputs(),
                log()
            );
        }
    }

    // A refused input changes nothing: without it, the same log and answers.
    for (i, r) in report.inputs.iter().enumerate() {
        if !r.result.starts_with("refused") || i == 0 {
            continue;
        }
        let pos = op_position(ops, i).ok_or_else(|| TestCaseError::fail(format!("no op for input {i}")))?;
        let mut fewer = ops.to_vec();
        fewer.remove(pos);
        let other = run(f, &fewer)?;
        let mut answers: Vec<&str> = report.inputs.iter().map(|x| x.result.as_str()).collect();
        answers.remove(i);
        let other_answers: Vec<&str> = other.inputs.iter().map(|x| x.result.as_str()).collect();
        prop_assert_eq!(
            &other.event_lines(),
            &lines,
            "input {} ({} at {}) was refused but removing it changes the log\ninputs: {:#?}",
            i,
            r.action,
            r.at,
            inputs()
        );
        prop_assert_eq!(other_answers, answers, "removing refused input {} changes other answers", i);
    }
    Ok(())
}

/// Index in `ops` of the `i`-th input of the report. The report lists the
/// inputs in the order they were applied: by time, file order for equal
/// instants; file input 0 is the initial start, file input k is `ops[k - 1]`.
fn op_position(ops: &[TimedOp], i: usize) -> Option<usize> {
    let mut order: Vec<(i64, usize)> = ops.iter().enumerate().map(|(k, t)| (t.at, k + 1)).collect();
    order.push((0, 0));
    order.sort();
    let (_, file_index) = *order.get(i)?;
    file_index.checked_sub(1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The full generator: every operation, OR waits, branches, recovery
    /// jobs, restart points. (It found B1–B6 below and, later, OR waits left
    /// closed when a failed predecessor ran again through a recovery
    /// operation, a job restart or a rerun recovery job; 20,000 cases pass:
    /// `PROPTEST_CASES=20000 cargo test --release -p woi-core --test ops_props`.)
    #[test]
    fn random_operations_keep_the_engine_consistent(f in flow(ALL), ops in ops(ALL)) {
        check(&f, &ops)?;
    }

    /// Without OR waits, branches, recovery jobs, restart points and the
    /// jobnet Pause operation (the triggers of B1–B6).
    #[test]
    fn random_operations_without_known_bug_triggers(f in flow(NO_PAUSE), ops in ops(NO_PAUSE)) {
        check(&f, &ops)?;
    }

    /// The same with jobnet Pause, but without `recover`, `restart_job` and
    /// `continue_job` (B4, B6).
    #[test]
    fn random_operations_with_pause_without_known_bug_triggers(f in flow(PAUSE), ops in ops(PAUSE)) {
        check(&f, &ops)?;
    }
}

// ----- minimal cases of the engine bugs the full generator finds ------------

fn job(preds: &[u16], runs: &[(i64, i64)]) -> JobSpec {
    JobSpec { preds: preds.to_vec(), or: false, cond: None, limit: 0, runs: runs.to_vec() }
}

fn at(secs: i64, op: Op, job: usize) -> TimedOp {
    TimedOp { at: secs, op, job }
}

fn expect_consistent(f: &Flow, ops: &[TimedOp]) {
    if let Err(e) = check(f, ops) {
        panic!("{e}");
    }
}

/// B1: J1 runs (abends after 1 min) and has a recovery job; the jobnet is
/// paused while J1 executes. When J1 abends the recovery job starts although
/// the jobnet is Paused (a paused jobnet lets running jobs end but starts
/// nothing new). The same holds for the rerun of the target after a
/// `rerun = true` recovery job ends normally.
#[test]
// Regression: engine bug B1 (fixed): automatic recovery jobs start while the jobnet is paused.
fn bug_b1_paused_jobnet_starts_recovery_job() {
    let f = Flow { jobs: vec![job(&[], &[(1, 1)])], restart_point: None, recovery: Some((0, false, 0, 0)) };
    expect_consistent(&f, &[at(0, Op::Pause, 0)]);
}

/// B2 (spec 01 §3.3.3, decision D2, §3.5.1): J3 OR-waits on J1 and J2. J2
/// abends, J1 is stopped with 249 (Abended), the jobnet ends Abended. Restart
/// reruns J1 and J2, both complete — but J3 never starts (its OR wait stays
/// "dead") and the jobnet ends Completed with J3 Waiting.
#[test]
// Regression: engine bug B2 (fixed): after Restart an OR-wait successor whose predecessor had abended never starts.
fn bug_b2_restart_after_or_wait_abend_never_runs_successor() {
    let mut or_job = job(&[1, 2], &[(0, 0)]);
    or_job.or = true;
    let f = Flow { jobs: vec![job(&[], &[(0, 3)]), job(&[], &[(1, 0)]), or_job], restart_point: None, recovery: None };
    expect_consistent(&f, &[at(60, Op::Restart, 0)]);
}

/// B3: J1 -> J2 (branch 1..=1) -> J3. In the first run J1 exits 0, so J2 and
/// J3 are bypassed. J2 is then paused (for the next run). In the next run J2
/// would be bypassed again, but it stays Paused and J3 stays Waiting while
/// the jobnet ends Completed (spec 01 §3.2: all executable jobs finished).
#[test]
// Regression: engine bug B3 (fixed): a paused job whose branch condition fails blocks its successors, yet the jobnet completes.
fn bug_b3_paused_branch_job_jobnet_completes_with_waiting_job() {
    let mut j1 = job(&[], &[(0, 0)]);
    j1.limit = 1;
    let mut j2 = job(&[1], &[(0, 0)]);
    j2.cond = Some((1, 1));
    let f = Flow { jobs: vec![j1, j2, job(&[2], &[(0, 0)])], restart_point: None, recovery: None };
    expect_consistent(&f, &[at(0, Op::PauseJob, 1), at(60, Op::Start, 0)]);
}

/// B4: J1 -> J2; the jobnet is paused while J1 executes; J1 completes (J2
/// correctly does not start). A recovery operation ("start from next job" on
/// J2) then puts the jobnet back to Executing (logging 0328 as a new start)
/// without re-evaluating J2, and the jobnet ends Completed with J2 Waiting.
/// Also seen with "start only specified job"; restart_job takes the same path.
#[test]
// Regression: engine bug B4 (fixed): a recovery operation on a paused jobnet unpauses it and completes it with waiting jobs.
fn bug_b4_recovery_op_on_paused_jobnet_completes_with_waiting_job() {
    let f = Flow { jobs: vec![job(&[], &[(0, 1)]), job(&[1], &[(0, 0)])], restart_point: None, recovery: None };
    expect_consistent(&f, &[at(0, Op::Pause, 0), at(60, Op::Recover(RecoveryOp::StartNext), 1)]);
}

/// B5 (spec 01 §3.5.1): J1 (restart point) -> J2. After a first run J1 is
/// disabled; in the second run J1 is skipped and J2 abends. Restart resets
/// J1 and J2, J1 is skipped again, but J2's predecessor count is corrupted
/// (the skipped J1 is counted twice) so J2 never starts and the jobnet ends
/// Completed with J2 Waiting.
#[test]
// Regression: engine bug B5 (fixed): restart from a disabled restart-point job leaves its successor waiting for ever.
fn bug_b5_restart_from_disabled_restart_point() {
    let mut j1 = job(&[], &[(0, 0)]);
    j1.runs = vec![(0, 0)];
    let f = Flow { jobs: vec![j1, job(&[1], &[(0, 0), (1, 0)])], restart_point: Some(0), recovery: None };
    expect_consistent(&f, &[at(0, Op::DisableJob, 0), at(60, Op::Start, 0), at(600, Op::Restart, 0)]);
}

/// B6: J1 was paused after a first run (paused for the next run). In the
/// second run its turn comes, so it is held and the jobnet executes; the
/// jobnet is then paused. Continue on the job starts J1 at once although the
/// jobnet is Paused (a paused jobnet starts nothing new; the job should wait
/// for the jobnet's Continue).
#[test]
// Regression: engine bug B6 (fixed): continue_job starts a held job while its jobnet is paused.
fn bug_b6_continue_job_starts_job_in_paused_jobnet() {
    let f = Flow { jobs: vec![job(&[], &[(0, 0)])], restart_point: None, recovery: None };
    expect_consistent(
        &f,
        &[at(0, Op::PauseJob, 0), at(60, Op::Start, 0), at(60, Op::Pause, 0), at(120, Op::ContinueJob, 0)],
    );
}
