//! Property tests of the engine over random flows:
//! - every run ends: the jobnet reaches a final status and no job is left executing;
//! - no job starts before its predecessors allow it (AND: all ended normally;
//!   OR: all resolved and one ended normally);
//! - the jobnet never ends while a job is executing;
//! - a job left waiting is blocked by a predecessor that did not end normally.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use woi_core::Catalog;
use woi_core::engine::{EventKind, JobStatus, JobnetStatus};
use woi_core::model::{Definitions, ExitCodeRange, JobDef, WaitMode};
use woi_core::sim::{self, Action, DurationSpec, ExitSpec, Input, JobScript, JobSel, Outcome, Script};

#[derive(Clone, Debug)]
struct JobSpec {
    preds: Vec<u16>,
    or: bool,
    cond: Option<(u32, u32)>,
    limit: u32,
    exit: i64,
    secs: i64,
}

fn job_spec(i: usize) -> BoxedStrategy<JobSpec> {
    let preds = if i == 0 {
        Just(Vec::new()).boxed()
    } else {
        proptest::collection::btree_set(1..=(i as u16), 0..=3.min(i))
            .prop_map(|s| s.into_iter().collect::<Vec<u16>>())
            .boxed()
    };
    (preds, any::<bool>(), proptest::option::of((0u32..4, 0u32..4)), 0u32..3, 0i64..5, 0i64..4)
        .prop_map(|(preds, or, cond, limit, exit, secs)| JobSpec {
            or: or && preds.len() > 1,
            cond: cond.filter(|_| preds.len() == 1).map(|(a, b)| (a.min(b), a.max(b))),
            preds,
            limit,
            exit,
            secs,
        })
        .boxed()
}

fn flow() -> impl Strategy<Value = Vec<JobSpec>> {
    (1usize..24).prop_flat_map(|n| (0..n).map(job_spec).collect::<Vec<_>>())
}

fn definitions(specs: &[JobSpec]) -> Definitions {
    let mut defs: Definitions = toml::from_str("[[jobnet]]\nproject = \"P\"\nname = \"N\"\n").unwrap_or_default();
    let jobs = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut j = JobDef::command(i as u16 + 1, "x");
            j.after = s.preds.clone();
            j.wait = if s.or { WaitMode::Or } else { WaitMode::And };
            j.exit_code_condition = s.cond.map(|(min, max)| ExitCodeRange { min, max });
            j.normal_limit = s.limit;
            j
        })
        .collect();
    if let Some(n) = defs.jobnets.first_mut() {
        n.jobs = jobs;
    }
    defs
}

fn script(specs: &[JobSpec]) -> Script {
    Script {
        start: "2026-04-01T09:00:00".into(),
        timezone: None,
        until: None,
        host: None,
        defaults: Outcome::default(),
        jobs: specs
            .iter()
            .enumerate()
            .map(|(i, s)| JobScript {
                jobnet: "P/N".into(),
                job: JobSel::Number(i as u16 + 1),
                outcome: Outcome {
                    exit: Some(ExitSpec::Number(s.exit)),
                    origin: None,
                    duration: Some(DurationSpec::Seconds(s.secs * 60)),
                    output: None,
                },
                runs: Vec::new(),
            })
            .collect(),
        inputs: vec![Input { at: "+0s".into(), action: Action::Start { jobnet: "P/N".into(), vparam: None } }],
    }
}

fn normal(s: JobStatus) -> bool {
    matches!(s, JobStatus::Completed | JobStatus::PseudoNormal)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_flows_end_consistently(specs in flow()) {
        let mut cat = Catalog::new();
        cat.add(None, definitions(&specs));
        let env = Arc::new(cat.compile().map_err(|d| TestCaseError::fail(format!("{d:?}")))?);
        let report = sim::run(env, &script(&specs)).map_err(|e| TestCaseError::fail(e.to_string()))?;

        // Replay the event log.
        let mut status: BTreeMap<u16, JobStatus> = (1..=specs.len() as u16).map(|n| (n, JobStatus::Waiting)).collect();
        let mut jobnet_final = None;
        for e in &report.events {
            match &e.kind {
                EventKind::JobStatus { job, status: st, .. } => {
                    prop_assert!(jobnet_final.is_none(), "job {} changed after the jobnet ended", job);
                    if *st == JobStatus::Executing {
                        let s = &specs[*job as usize - 1];
                        if s.or {
                            let resolved = s.preds.iter().all(|p| status[p] != JobStatus::Waiting);
                            let one_normal = s.preds.iter().any(|p| normal(status[p]));
                            prop_assert!(resolved && one_normal, "OR job {} started too early: {:?}", job, status);
                        } else {
                            prop_assert!(
                                s.preds.iter().all(|p| normal(status[p])),
                                "AND job {} started too early: {:?}", job, status
                            );
                        }
                    }
                    status.insert(*job, *st);
                }
                EventKind::JobnetStatus { status: st, .. } if !st.is_running() => {
                    prop_assert!(status.values().all(|s| *s != JobStatus::Executing), "jobnet ended while a job executes");
                    jobnet_final = Some(*st);
                }
                _ => {}
            }
        }
        let fin = jobnet_final.ok_or_else(|| TestCaseError::fail("jobnet never ended"))?;
        prop_assert!(matches!(fin, JobnetStatus::Completed | JobnetStatus::PseudoNormal | JobnetStatus::Abended));
        for (n, st) in &status {
            prop_assert!(*st != JobStatus::Executing);
            if *st == JobStatus::Waiting {
                let s = &specs[*n as usize - 1];
                prop_assert!(!s.preds.is_empty(), "root job {} never started", n);
                prop_assert!(
                    s.or || s.preds.iter().any(|p| !normal(status[p]) && status[p] != JobStatus::Bypassed),
                    "job {} waits though its predecessors ended normally: {:?}", n, status
                );
                prop_assert_eq!(fin, JobnetStatus::Abended, "a blocked job means an abnormal end");
            }
        }
        // Final views agree with the replayed log.
        let views = &report
            .jobnets
            .iter()
            .find(|r| r.jobnet.key.to_string() == "P/N")
            .ok_or_else(|| TestCaseError::fail("no P/N"))?
            .jobs;
        for v in views.iter() {
            prop_assert_eq!(v.status, status[&v.number]);
        }
    }
}
