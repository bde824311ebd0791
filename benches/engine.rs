//! Engine throughput: job state transitions per second on one core, for a
//! chain of 10,000 jobs and a fan-out/fan-in of 10,000 jobs.
//!
//! `cargo bench -p woi-core --bench engine`

use std::hint::black_box;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use woi_core::model::{Definitions, JobDef};
use woi_core::validate::Options;
use woi_core::{Catalog, Effect, Engine, EngineConfig, EventKind, ExitCode, JobnetKey};

fn jobnet(jobs: Vec<JobDef>) -> Definitions {
    let text = "[[jobnet]]\nproject = \"B\"\nname = \"N\"\ncomment = \"bench\"\n";
    let mut defs: Definitions = toml::from_str(text).unwrap_or_default();
    if let Some(n) = defs.jobnets.first_mut() {
        n.jobs = jobs;
    }
    defs
}

fn chain(n: u16) -> Definitions {
    jobnet(
        (1..=n)
            .map(|i| {
                let mut j = JobDef::command(i, "true");
                if i > 1 {
                    j.after = vec![i - 1];
                }
                j
            })
            .collect(),
    )
}

fn fan(n: u16) -> Definitions {
    jobnet(
        (1..=n)
            .map(|i| {
                let mut j = JobDef::command(i, "true");
                if i == n {
                    j.after = (2..n).collect();
                } else if i > 1 {
                    j.after = vec![1];
                }
                j
            })
            .collect(),
    )
}

/// Run the jobnet to its end; every job ends at once with 0. Returns the
/// number of job state transitions recorded.
fn run(env: &Arc<woi_core::Environment>, max_concurrent: u32) -> u64 {
    let t0 = DateTime::<Utc>::from_timestamp(1_775_000_000, 0).unwrap_or_default();
    let mut e = Engine::new(
        env.clone(),
        EngineConfig { max_concurrent_jobs: max_concurrent, host: "h".into(), schedules: true },
        t0,
    );
    let key = JobnetKey::new("B", "N");
    let _ = e.start_jobnet(t0, &key, None);
    let mut transitions = 0u64;
    let mut started = Vec::new();
    loop {
        while let Some(eff) = e.poll_effect() {
            match eff {
                Effect::StartJob(s) => started.push((s.job, s.attempt)),
                Effect::Record(ev) => {
                    if matches!(ev.kind, EventKind::JobStatus { .. }) {
                        transitions += 1;
                    }
                    black_box(ev);
                }
                _ => {}
            }
        }
        if started.is_empty() {
            break;
        }
        for (job, attempt) in started.drain(..) {
            e.handle_job_ended(t0, job, attempt, ExitCode::from_command(0));
        }
    }
    transitions
}

fn compile(defs: Definitions) -> Arc<woi_core::Environment> {
    let mut cat = Catalog::new();
    cat.add(None, defs);
    match cat.compile_with(Options { enforce_limits: false }) {
        Ok(env) => Arc::new(env),
        Err(d) => panic!("bench definitions invalid: {d:?}"),
    }
}

fn bench(c: &mut Criterion) {
    const N: u16 = 10_000;
    let mut g = c.benchmark_group("engine");
    for (name, defs, limit) in [
        ("chain_10000", chain(N), 300),
        ("fan_10000_unlimited", fan(N), u32::MAX),
        ("fan_10000_limit_300", fan(N), 300),
    ] {
        let env = compile(defs);
        let per_run = run(&env, limit);
        g.throughput(Throughput::Elements(per_run));
        g.bench_function(name, |b| b.iter(|| run(&env, limit)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
