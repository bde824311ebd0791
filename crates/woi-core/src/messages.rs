//! Exact texts of the job-management log messages (spec 01 §3.14, spec 02 §3.12).
//! Every scheduler message uses the prefix `MpJobsch:` (decision D4).

use serde::{Deserialize, Serialize};

/// Log level of a job-management log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Information.
    Info,
    /// Warning.
    Warning,
    /// Error.
    Error,
}

impl Level {
    /// `INFO`, `WARNING` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// 0328: the jobnet has started.
pub fn started(comment: &str, jobnet: &str, project: &str) -> String {
    format!(
        "MpJobsch: INFO: 0328: The job net has started. JobNetComment={comment} JobNetName={jobnet} ProjectName={project}"
    )
}

/// 0329: the jobnet ended normally.
pub fn normal_ended(comment: &str, jobnet: &str, code: &str, project: &str) -> String {
    format!(
        "MpJobsch: INFO: 0329: The job net has normal ended. JobNetComment={comment} JobNetName={jobnet} Code={code} ProjectName={project}"
    )
}

/// 0330: the jobnet ended abnormally (also used for Cancelled, code 256).
pub fn abnormal_ended(comment: &str, jobnet: &str, code: &str, project: &str) -> String {
    format!(
        "MpJobsch: ERROR: 0330: The job net has abnormal ended. JobNetComment={comment} JobNetName={jobnet} Code={code} ProjectName={project}"
    )
}

/// 0333: the jobnet ended pseudo-normally.
pub fn pseudo_normal_ended(comment: &str, jobnet: &str, code: &str, project: &str) -> String {
    format!(
        "MpJobsch: INFO: 0333: The job net has pseudo-normal ended. JobNetComment={comment} JobNetName={jobnet} Code={code} ProjectName={project}"
    )
}

/// 0331: a start trigger was refused.
pub fn refused(comment: &str, jobnet: &str, project: &str) -> String {
    format!(
        "MpJobsch: WARNING: 0331: The job net has refused. JobNetComment={comment} JobNetName={jobnet} ProjectName={project}"
    )
}

/// 0332: a start trigger was skipped (jobnet disabled).
pub fn skipped(comment: &str, jobnet: &str, project: &str) -> String {
    format!(
        "MpJobsch: WARNING: 0332: The job net has skipped. JobNetComment={comment} JobNetName={jobnet} ProjectName={project}"
    )
}

/// 10114: a job exceeded its predicted execution time.
pub fn predicted_time_exceeded(job: &str, secs: u32, project: &str, jobnet: &str) -> String {
    format!(
        "WARNING: 10114: It doesn't end even if job name ({job}) lapses by end plan time ({secs}) seconds. (Project Name={project}, Job Net={jobnet})"
    )
}

/// Execution-control line of a forced termination (0x40000222).
pub fn forced_termination(job: &str, number: u16, host: &str) -> String {
    format!(
        "Job execution control: job {job}({number}.{host}) was force-terminated by a force-termination operation or by stopping the job execution control service. The exit code is 0x40000222."
    )
}

/// Execution-control line of a cut-off (0x40000322).
pub fn cutoff_termination(job: &str, number: u16, host: &str) -> String {
    format!(
        "Job execution control: job {job}({number}.{host}) was force-terminated because it exceeded the limit on job elapsed time. The exit code is 0x40000322."
    )
}

/// 0310: start delay.
pub fn start_delayed(project: &str, jobnet: &str) -> String {
    format!("MpJobsch: WARNING: 0310: {project} {jobnet} did not start at scheduled time.")
}

/// 0311: end delay.
pub fn end_delayed(project: &str, jobnet: &str) -> String {
    format!("MpJobsch: WARNING: 0311: {project} {jobnet} did not finish before Estimated end time.")
}

/// 0431: copy start failed.
pub fn copy_start_failed(project: &str, copy_name: &str) -> String {
    format!("MpJobsch: ERROR: 0431: {project} {copy_name} Copy and startup of a job net failed.")
}

/// 0432: a variable parameter was ignored.
pub fn vparam_ignored(project: &str, jobnet: &str) -> String {
    format!("MpJobsch: WARNING: 0432: {project} {jobnet} A variable parameter has been ignored.")
}

/// 0435: a message event with a variable parameter was ignored.
pub fn vparam_event_ignored(project: &str, jobnet: &str, event: &str) -> String {
    format!(
        "MpJobsch: ERROR: 0435: {project} {jobnet} {event} The message event with specified variable parameters has been ignored."
    )
}

/// A message event was not recognized because its count is already 255 (decision D5; woi's own text).
pub fn event_count_full(project: &str, jobnet: &str, event: &str) -> String {
    format!(
        "MpJobsch: WARNING: {project} {jobnet} {event} The message event was not recognized: its occurrence count is already 255."
    )
}
