//! End-to-end figures of the real runtime (SQLite store, process executor,
//! system clock): not criterion — each scenario runs once, long enough to
//! measure, and prints one line. Recorded in BENCHMARKS.md.
//!
//! `cargo bench -p woi --bench e2e` (all), or name scenarios:
//! `cargo bench -p woi --bench e2e -- chain wide memory idle`.
//! `WOI_IDLE_SECS` sets the idle measurement (default 60).

use std::time::{Duration, Instant};

use woi::{Definitions, Job, Jobnet, JobnetKey, JobnetStatus, Scheduler};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio")
}

/// `(utime + stime)` of this process, from /proc/self/stat.
fn cpu_time() -> Duration {
    cpu_times().0
}

/// CPU time of this process (`utime + stime`) and of its reaped children
/// (`cutime + cstime`: the jobs' processes), from /proc/self/stat.
fn cpu_times() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // Fields after the command: state is 0, utime 11, stime 12, cutime 13,
    // cstime 14; 100 ticks/s on Linux.
    (Duration::from_millis((ticks(11) + ticks(12)) * 10), Duration::from_millis((ticks(13) + ticks(14)) * 10))
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// A chain of 1,000 `true` jobs: 4 jobnets of 250 linked as children of one
/// parent (a jobnet holds at most 255 jobs).
fn chain() {
    const PER: u16 = 250;
    const PARTS: u16 = 4;
    let mut b = Definitions::builder();
    let mut parent = Jobnet::new("BENCH", "CHAIN");
    for p in 1..=PARTS {
        let mut part = Jobnet::new("BENCH", format!("PART{p}"));
        for i in 1..=PER {
            let job = Job::command(i, "true");
            part = part.job(if i == 1 { job } else { job.after([i - 1]) });
        }
        b = b.jobnet(part);
        let icon = Job::child(p, format!("PART{p}"));
        parent = parent.job(if p == 1 { icon } else { icon.after([p - 1]) });
    }
    let env = b.jobnet(parent).build().expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = rt();
    // The same 1,000 processes spawned bare, one after another; measured
    // before and after the chain and averaged, because the machine's load
    // (other builds) moves both figures by milliseconds per process.
    let bare = || {
        rt.block_on(async {
            let t = Instant::now();
            for _ in 0..(PER * PARTS) {
                let ok = tokio::process::Command::new("true").status().await.map(|s| s.success()).unwrap_or(false);
                assert!(ok);
            }
            t.elapsed()
        })
    };
    let bare_before = bare();
    let wall = rt.block_on(async {
        let s = Scheduler::builder(env).sqlite(dir.path().join("woi.db")).expect("db").start().await.expect("start");
        let key = JobnetKey::new("BENCH", "CHAIN");
        let t = Instant::now();
        s.handle().start_jobnet(&key, None).await.expect("started");
        let status = woi::wait_for_end(s.handle(), &key).await.expect("ended");
        let wall = t.elapsed();
        assert_eq!(status, JobnetStatus::Completed);
        s.stop().await.expect("stop");
        wall
    });
    let bare = (bare_before + bare()) / 2;
    let n = f64::from(PER * PARTS);
    let per_step = (wall.as_secs_f64() - bare.as_secs_f64()) / n * 1e3;
    println!(
        "chain: 1000 jobs in {:.2} s ({:.3} ms/step); bare spawns {:.2} s; orchestration overhead {per_step:.3} ms/step",
        wall.as_secs_f64(),
        wall.as_secs_f64() / n * 1e3,
        bare.as_secs_f64()
    );
}

/// 10,000 short jobs, 100 at a time: 40 jobnets of 250 independent jobs
/// under one parent that runs them all at once.
fn wide() {
    const NETS: u16 = 40;
    const PER: u16 = 250;
    let mut b = Definitions::builder().max_concurrent_jobs(100);
    let mut parent = Jobnet::new("BENCH", "WIDE");
    for n in 1..=NETS {
        let mut net = Jobnet::new("BENCH", format!("W{n}"));
        for i in 1..=PER {
            net = net.job(Job::command(i, "true"));
        }
        b = b.jobnet(net);
        parent = parent.job(Job::child(n, format!("W{n}")));
    }
    let env = b.jobnet(parent).build().expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = rt();
    // The floor: the same 10,000 processes, 100 at once, spawned bare by
    // tokio (no scheduler, no store, no output capture), before and after.
    let bare = || {
        rt.block_on(async {
            use futures::StreamExt;
            let t = Instant::now();
            let ok = futures::stream::iter(0..u32::from(NETS * PER))
                .map(|_| async { tokio::process::Command::new("true").status().await.is_ok_and(|s| s.success()) })
                .buffer_unordered(100)
                .fold(true, |all, ok| async move { all && ok })
                .await;
            assert!(ok);
            t.elapsed()
        })
    };
    let bare_before = bare();
    let wall = rt.block_on(async {
        let s = Scheduler::builder(env).sqlite(dir.path().join("woi.db")).expect("db").start().await.expect("start");
        let key = JobnetKey::new("BENCH", "WIDE");
        let (own0, jobs0) = cpu_times();
        let t = Instant::now();
        s.handle().start_jobnet(&key, None).await.expect("started");
        let status = woi::wait_for_end(s.handle(), &key).await.expect("ended");
        let wall = t.elapsed();
        let (own, job_cpu) = cpu_times();
        assert_eq!(status, JobnetStatus::Completed);
        let jobs = f64::from(NETS * PER);
        // CPU per job, in µs: the scheduler's own (driver, executor, SQLite
        // writer) and the jobs' processes (`true`, from exec to exit).
        let per_job = |d: Duration| d.as_secs_f64() / jobs * 1e6;
        println!(
            "wide: {} jobs, 100 at once, in {:.2} s = {:.0} jobs/s (every result durable); \
             CPU per job: scheduler {:.0} µs, job processes {:.0} µs",
            NETS * PER,
            wall.as_secs_f64(),
            jobs / wall.as_secs_f64(),
            per_job(own.saturating_sub(own0)),
            per_job(job_cpu.saturating_sub(jobs0)),
        );
        s.stop().await.expect("stop");
        wall
    });
    let bare = (bare_before + bare()) / 2;
    let jobs = f64::from(NETS * PER);
    println!(
        "wide, bare: the same {} processes spawned by tokio alone, 100 at once: {:.0} processes/s \
         (woi reaches {:.0} % of it)",
        NETS * PER,
        jobs / bare.as_secs_f64(),
        bare.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
}

/// 100,000 defined jobs (400 jobnets × 250), loaded into a running scheduler.
fn memory() {
    let before = rss_mb();
    let mut b = Definitions::builder();
    for n in 1..=400u16 {
        let mut net = Jobnet::new("BENCH", format!("M{n}")).at("03:00");
        for i in 1..=250u16 {
            let job = Job::command(i, format!("/opt/batch/step.sh --part {i}"));
            net = net.job(if i == 1 { job } else { job.after([i - 1]) });
        }
        b = b.jobnet(net);
    }
    let env = b.build().expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    rt().block_on(async {
        let s = Scheduler::builder(env).sqlite(dir.path().join("woi.db")).expect("db").start().await.expect("start");
        let jobnets = s.handle().jobnets().await.expect("jobnets").len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        println!(
            "memory: {jobnets} jobnets, 100000 jobs loaded: RSS {:.0} MB (process before: {before:.0} MB)",
            rss_mb()
        );
        s.stop().await.expect("stop");
    });
}

/// 10,000 jobnets waiting for a time or an event: CPU used while idle.
fn idle() {
    let secs: u64 = std::env::var("WOI_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut b = Definitions::builder();
    for n in 1..=10_000u32 {
        let net = Jobnet::new(format!("P{}", n % 50), format!("N{n}")).job(Job::command(1, "true"));
        // Half wait for a daily time that is not reached during the run, half for an event.
        let net = if n % 2 == 0 {
            net.at("04:00").add_day("2099-01-01").valid_period("2099-01-01", "2099-12-31")
        } else {
            net.message_only(false).on_events(["NEVER"], woi::WaitMode::And)
        };
        b = b.jobnet(net);
    }
    let env = b.build().expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    rt().block_on(async {
        let s = Scheduler::builder(env).sqlite(dir.path().join("woi.db")).expect("db").start().await.expect("start");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let cpu0 = cpu_time();
        let t = Instant::now();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let cpu = cpu_time().saturating_sub(cpu0);
        let share = cpu.as_secs_f64() / t.elapsed().as_secs_f64() * 100.0;
        println!(
            "idle: 10000 waiting jobnets, {secs} s: CPU {:.0} ms = {share:.3} % of one core; RSS {:.0} MB",
            cpu.as_secs_f64() * 1e3,
            rss_mb()
        );
        s.stop().await.expect("stop");
    });
}

fn main() {
    // `cargo bench` passes `--bench`; everything else names scenarios.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let all = args.is_empty();
    let want = |name: &str| all || args.iter().any(|a| a == name);
    let scenarios: [(&str, fn()); 4] = [("chain", chain), ("wide", wide), ("memory", memory), ("idle", idle)];
    for (name, run) in scenarios {
        if want(name) {
            run();
        }
    }
}
