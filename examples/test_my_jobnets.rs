//! The testing story: unit-test your own jobnets in milliseconds with the
//! production engine on a virtual clock — no processes, no waiting, no
//! database. Scripted outcomes stand in for the jobs; assertions look at
//! final states and at the event log.
//!
//! Run the checks: `cargo run -p woi --example test_my_jobnets`;
//! or as tests: `cargo test -p woi --example test_my_jobnets`.

use std::sync::Arc;

use woi::{Definitions, Environment, Job, JobStatus, Jobnet, JobnetStatus, Outcome, Script};

/// The jobnets under test — in a real project, `woi::load_files(&["defs/".into()])`.
fn definitions() -> Environment {
    Definitions::builder()
        .jobnet(
            Jobnet::new("BILLING", "MONTH_END")
                .at("23:00")
                .last_day_of_month()
                .job(Job::command(1, "collect.sh").name("collect"))
                .job(Job::command(2, "invoice.sh").name("invoice").after([1]).normal_limit(4))
                // Only when invoicing warned (exit 1–4): notify.
                .job(Job::command(3, "notify.sh").name("notify").after([2]).when_exit_code(1, 4)),
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// On the last day of the month the jobnet starts at 23:00 and completes.
pub fn month_end_runs_on_the_last_day() {
    let script = Script::starting_at("2026-11-30T22:00:00").until("2026-12-01T01:00:00");
    let report = woi::sim::run(Arc::new(definitions()), &script).expect("simulation");
    let net = report.jobnet("BILLING/MONTH_END").expect("jobnet");
    assert_eq!(net.jobnet.status, JobnetStatus::Completed);
    assert!(report.event_lines().iter().any(|l| l.contains("2026-11-30T23:00:00")), "{:#?}", report.event_lines());
    // No warning, so `notify` was bypassed.
    assert_eq!(net.job("notify").map(|j| j.status), Some(JobStatus::Bypassed));
}

/// A warning code from `invoice` (within its normal limit 4) runs `notify`;
/// the jobnet ends pseudo-normally.
pub fn warning_exit_code_notifies() {
    let script = Script::starting_at("2026-11-30T22:59:00").until("2026-12-01T01:00:00").job(
        "BILLING/MONTH_END",
        "invoice",
        Outcome::exit(3).lasting("20m"),
    );
    let report = woi::sim::run(Arc::new(definitions()), &script).expect("simulation");
    let net = report.jobnet("BILLING/MONTH_END").expect("jobnet");
    assert_eq!(net.job("invoice").and_then(|j| j.exit.map(|e| e.code)), Some(3));
    assert_eq!(net.job("invoice").map(|j| j.status), Some(JobStatus::PseudoNormal));
    assert_eq!(net.job("notify").map(|j| j.status), Some(JobStatus::Completed));
    assert_eq!(net.jobnet.status, JobnetStatus::PseudoNormal);
}

/// Not on other days.
pub fn no_run_mid_month() {
    let script = Script::starting_at("2026-11-15T22:00:00").until("2026-11-16T01:00:00");
    let report = woi::sim::run(Arc::new(definitions()), &script).expect("simulation");
    let net = report.jobnet("BILLING/MONTH_END").expect("jobnet");
    assert_eq!(net.jobnet.status, JobnetStatus::Waiting);
    assert_eq!(net.jobnet.run, 0);
}

pub fn main() {
    month_end_runs_on_the_last_day();
    warning_exit_code_notifies();
    no_run_mid_month();
    println!("3 jobnet checks passed");
}

#[cfg(test)]
mod tests {
    #[test]
    fn month_end_runs_on_the_last_day() {
        super::month_end_runs_on_the_last_day();
    }

    #[test]
    fn warning_exit_code_notifies() {
        super::warning_exit_code_notifies();
    }

    #[test]
    fn no_run_mid_month() {
        super::no_run_mid_month();
    }
}
