//! A job kind written in Rust: registered once, used by any jobnet with
//! `kind = "custom"` and `handler = "<name>"`. Its exit code is judged like a
//! command's, its `NAME=VALUE` lines become jobnet variables, and recovery
//! jobs and restart apply unchanged. A handler that panics ends only its own
//! job (code 201); the scheduler keeps going.
//!
//! `cargo run -p woi --example custom_job_kind`

use async_trait::async_trait;
use woi::{Definitions, Job, JobContext, JobHandler, Jobnet, JobnetKey, JobnetStatus, Scheduler};

/// Counts the words of its argument and publishes `WORDS=<n>`.
struct WordCount;

#[async_trait]
impl JobHandler for WordCount {
    async fn run(&self, ctx: JobContext) -> Result<i64, String> {
        let n = ctx.job().command.split_whitespace().count();
        ctx.line(format!("WORDS={n}"));
        Ok(0)
    }
}

/// A handler with a bug: it panics.
struct Flaky;

#[async_trait]
impl JobHandler for Flaky {
    async fn run(&self, _ctx: JobContext) -> Result<i64, String> {
        panic!("index out of range")
    }
}

#[tokio::main(flavor = "current_thread")]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = Definitions::builder()
        .jobnet(
            Jobnet::new("DEMO", "CUSTOM")
                // A custom job that publishes jobnet variable @C.WORDS@ …
                .job(Job::custom(1, "word_count", "one two three four").name("count").publish_variables("C"))
                // … read by a command job after it,
                .job(Job::command(2, "echo counted @C.WORDS@ words").name("print").after([1]))
                // a custom job whose handler panics, and its recovery job.
                .job(Job::custom(3, "flaky", "").name("flaky").after([2]))
                .job(Job::command(4, "echo recovering").name("recover").recovers(3, false)),
        )
        .build()?;
    let scheduler = Scheduler::builder(env).handler("word_count", WordCount).handler("flaky", Flaky).start().await?;
    let key = JobnetKey::new("DEMO", "CUSTOM");
    scheduler.handle().start_jobnet(&key, None).await?;
    let status = woi::wait_for_end(scheduler.handle(), &key).await?;
    for job in scheduler.handle().jobs(&key).await? {
        let code = job.exit.map(|e| e.display()).unwrap_or_default();
        println!("{:>3} {:<8} {:<10} {}", job.number, job.name, job.status.as_str(), code);
    }
    println!("DEMO/CUSTOM ended {}", status.as_str());
    scheduler.stop().await?;
    // The flaky job abended (201) and its recovery job ran.
    assert_eq!(status, JobnetStatus::Abended);
    Ok(())
}
