//! Definition changes on a live engine survive a rebuild from the journal:
//! what `Engine::reload` and `Engine::recovery_change` did is in the events,
//! and `Engine::restore` on those events (after a crash) gives the same state.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use woi_core::engine::{Effect, EngineConfig, Event, JobStatus, JobnetStatus};
use woi_core::model::JobDef;
use woi_core::{Catalog, Engine, Environment, ExitCode, JobnetKey};

fn env(text: &str) -> Arc<Environment> {
    let mut c = Catalog::new();
    c.add_text("t.toml", text);
    Arc::new(c.compile().expect("valid definitions"))
}

const DEFS: &str = r#"
[[jobnet]]
project = "P"
name = "N"
[[jobnet.job]]
number = 1
command = "old.sh"
[[jobnet]]
project = "P"
name = "M"
[[jobnet.job]]
number = 1
command = "m"
"#;

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

/// Drain effects: record events, end started jobs with `code`.
fn drain(e: &mut Engine, journal: &mut Vec<Event>, now: DateTime<Utc>, code: i64) {
    loop {
        let mut started = Vec::new();
        while let Some(effect) = e.poll_effect() {
            match effect {
                Effect::Record(ev) => journal.push(ev),
                Effect::StartJob(s) => started.push((s.job, s.attempt)),
                _ => {}
            }
        }
        if started.is_empty() {
            return;
        }
        for (job, attempt) in started {
            e.handle_job_ended(now, job, attempt, ExitCode::from_command(code));
        }
    }
}

#[test]
fn recovery_change_is_replayed_after_a_crash() {
    let env = env(DEFS);
    let key = JobnetKey::new("P", "N");
    let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t(0));
    let mut journal = Vec::new();
    e.start_jobnet(t(0), &key, None).unwrap();
    drain(&mut e, &mut journal, t(1), 5);
    assert_eq!(e.jobnet(&key).unwrap().status, JobnetStatus::Abended);
    let mut fixed = JobDef::command(1, "new.sh");
    fixed.name = Some("FIXED".into());
    e.recovery_change(t(2), &key, "1", fixed).unwrap();
    drain(&mut e, &mut journal, t(2), 0);
    // Statuses kept.
    assert_eq!(e.jobnet(&key).unwrap().status, JobnetStatus::Abended);
    assert_eq!(e.jobs(&key)[0].status, JobStatus::Abended);

    // Rebuilt from the journal with the original definitions (the files did not change).
    let (mut r, _) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t(3), &journal);
    assert_eq!(&*r.jobs(&key)[0].name, "FIXED");
    assert_eq!(r.jobs(&key)[0].status, JobStatus::Abended);
    r.restart_jobnet(t(3), &key).unwrap();
    let mut commands = Vec::new();
    while let Some(effect) = r.poll_effect() {
        if let Effect::StartJob(s) = effect {
            commands.push(s.def().command.clone());
        }
    }
    assert_eq!(commands, ["new.sh"]);
}

#[test]
fn reload_is_replayed_after_a_crash_and_unchanged_jobnets_keep_state() {
    let old = env(DEFS);
    let n = JobnetKey::new("P", "N");
    let m = JobnetKey::new("P", "M");
    let mut e = Engine::new(old.clone(), EngineConfig::from_env(&old), t(0));
    let mut journal = Vec::new();
    e.start_jobnet(t(0), &n, None).unwrap();
    e.start_jobnet(t(0), &m, None).unwrap();
    drain(&mut e, &mut journal, t(1), 0);
    let new = env(&DEFS.replace("old.sh", "new.sh"));
    let report = e.reload(t(2), new.clone()).unwrap();
    assert_eq!(report.changed, std::slice::from_ref(&n));
    drain(&mut e, &mut journal, t(2), 0);
    assert_eq!(e.jobnet(&n).unwrap().status, JobnetStatus::Waiting);
    assert_eq!(e.jobnet(&m).unwrap().status, JobnetStatus::Completed);

    // After a crash the scheduler opens with the new definitions and the same journal.
    let (r, _) = Engine::restore(new.clone(), EngineConfig::from_env(&new), t(3), &journal);
    assert_eq!(r.jobnet(&n).unwrap().status, JobnetStatus::Waiting);
    assert_eq!(r.jobs(&n)[0].status, JobStatus::Waiting);
    assert_eq!(r.jobnet(&m).unwrap().status, JobnetStatus::Completed);
}
