//! Variable substitution as the engine does it when a job starts (spec 01
//! §2.8, §3.11): what the executor is handed, and jobs that cannot start.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use woi_core::engine::{Effect, EngineConfig, JobStatus, RaiseRequest};
use woi_core::{Catalog, Engine, Environment, ExitCode, JobnetKey};

fn env(text: &str) -> Arc<Environment> {
    let mut c = Catalog::new();
    c.add_text("t.toml", text);
    Arc::new(c.compile().expect("valid definitions"))
}

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("instant") + chrono::Duration::minutes(min)
}

/// Commands the engine asks to start, with their job ids and attempts.
fn started(e: &mut Engine) -> Vec<(String, woi_core::JobId, u32)> {
    let mut out = Vec::new();
    while let Some(effect) = e.poll_effect() {
        if let Effect::StartJob(s) = effect {
            out.push((s.def().command.clone(), s.job, s.attempt));
        }
    }
    out
}

// MODEL-106
#[test]
fn model_106_event_without_vparam_substitutes_empty() {
    let env = env(
        "[[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = { message_only = {} }\nmessages = { events = [\"E1\"] }\n\
         [[jobnet.job]]\nnumber = 1\ncommand = \"run.sh @.VPARAM@\"\n",
    );
    let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t(0));
    let req = RaiseRequest { event: "E1", project: None, jobnet: None, vparam: None, suffix: None };
    e.raise_event(t(1), &req).expect("raised");
    let cmds: Vec<String> = started(&mut e).into_iter().map(|s| s.0).collect();
    assert_eq!(cmds, ["run.sh "]);
}

// MODEL-111
#[test]
fn model_111_forbidden_character_245_too_long_246_job_not_run() {
    let env = env(&format!(
        "variables = {{ SPACED = \"a b\", LONG = \"{}\" }}\n\
         [[jobnet]]\nproject = \"P\"\nname = \"N\"\n\
         [[jobnet.job]]\nnumber = 1\ncommand = \"run.sh\"\nexec_user = \"@SPACED@\"\n\
         [[jobnet]]\nproject = \"P\"\nname = \"L\"\n\
         [[jobnet.job]]\nnumber = 1\ncommand = \"{} @LONG@\"\n",
        "y".repeat(200),
        "x".repeat(900)
    ));
    let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t(0));
    for (net, code) in [("N", 245), ("L", 246)] {
        let key = JobnetKey::new("P", net);
        e.start_jobnet(t(1), &key, None).expect("start");
        assert!(started(&mut e).is_empty(), "{net}: the job is not run");
        let job = &e.jobs(&key)[0];
        assert_eq!(job.status, JobStatus::Abended, "{net}");
        assert_eq!(job.exit.map(|x| x.code), Some(code), "{net}");
    }
}

// MODEL-121
#[test]
fn model_121_variable_changed_mid_run_applies_to_later_jobs() {
    let defs = |x: &str| {
        format!(
            "variables = {{ X = \"{x}\" }}\n[[jobnet]]\nproject = \"P\"\nname = \"N\"\n\
             [[jobnet.job]]\nnumber = 1\ncommand = \"first @X@\"\n\
             [[jobnet.job]]\nnumber = 2\ncommand = \"second @X@\"\nafter = [1]\n"
        )
    };
    let old = env(&defs("old"));
    let key = JobnetKey::new("P", "N");
    let mut e = Engine::new(old.clone(), EngineConfig::from_env(&old), t(0));
    e.start_jobnet(t(0), &key, None).expect("start");
    let first = started(&mut e);
    assert_eq!(first[0].0, "first old");
    // An administrator changes X while N runs (N's own definition is unchanged).
    let report = e.reload(t(1), env(&defs("new"))).expect("applied while N runs");
    assert!(report.changed.is_empty(), "N itself did not change: {report:?}");
    e.handle_job_ended(t(2), first[0].1, first[0].2, ExitCode::from_command(0));
    let second: Vec<String> = started(&mut e).into_iter().map(|s| s.0).collect();
    assert_eq!(second, ["second new"]);
}
