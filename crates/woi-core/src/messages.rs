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

// ----- Built-in job commands (spec 02 §3.12 (a) and (b)) -----------------

/// 0323: usage of `jobschmsgevent`.
pub fn usage_msgevent() -> String {
    "MpJobsch: ERROR: 0323: Usage: jobschmsgevent event_name[:project_name [/job_net_name] [message_text]] [-h host_name] [-t:INFO | -t:WARN | -t:ERROR] [-p param [-c suffix]] [-sys {0 to 9 | all}]".to_string()
}

/// 0385: usage of `jobschchecktime`.
pub fn usage_checktime() -> String {
    "MpJobsch: ERROR: 0385: Usage: jobschchecktime -wt rendez-vous_time [-lt latest_rendez-vous_time] [-sys 0 to 9]"
        .to_string()
}

/// 0376: `-lt` precedes `-wt` in the operating day.
pub fn latest_before_wait() -> String {
    "MpJobsch: ERROR: 0376: Latest rendez-vous time must be after the rendez-vous time.".to_string()
}

/// 0468: usage of `jobschchknetvar`.
pub fn usage_chknetvar() -> String {
    "MpJobsch: ERROR: 0468: Usage: jobschchknetvar <variable name> [-num <operator specified for Condition>,<comparison value>[<operator specified for Condition 2>,<comparison value 2>] | -char <comparison condition>,<comparison string>] [-z]".to_string()
}

/// 0469: usage of `jobschsleep`.
pub fn usage_sleep() -> String {
    "MpJobsch: ERROR: 0469: Usage: jobschsleep <wait time>".to_string()
}

/// 0521: `jobschchkmsgevt` was not run as a local job.
pub fn local_job_only() -> String {
    "MpJobsch: ERROR: 0521: Execute the command as a local job of the jobscheduler.".to_string()
}

/// 0522: usage of `jobschchkmsgevt`.
pub fn usage_chkmsgevt() -> String {
    "MpJobsch: ERROR: 0522: Usage: jobschchkmsgevt <message event name> [-i <monitoring interval>]".to_string()
}

/// 0523: the message-event occurrence history could not be read.
pub fn occurrence_history_read_failed() -> String {
    "MpJobsch: ERROR: 0523: Failed to read the message event occurrence history file.".to_string()
}

/// 0524: the message-event occurrence history could not be written (the raiser continues).
pub fn occurrence_history_write_failed() -> String {
    "MpJobsch: ERROR: 0524: Failed to write to the message event occurrence history file.".to_string()
}

/// 0417: `jobschmsgevent` got no event name.
pub fn event_name_missing() -> String {
    "MpJobsch: ERROR: 0417: The message event name is not found.".to_string()
}

/// 0027: the day-change time could not be obtained.
pub fn day_change_unavailable() -> String {
    "MpJobsch: ERROR: 0027: The jobscheduler failed to retrieve day change time. Make sure that the calendar daemon has been started.".to_string()
}

/// 0416: the target project does not exist.
pub fn project_not_found() -> String {
    "MpJobsch: ERROR: 0416: The project is not found.".to_string()
}

/// 0175: the project does not exist, or data or access rights are insufficient (Japanese-only in the manual; English ours).
pub fn project_unavailable(project: &str) -> String {
    format!("MpJobsch: ERROR: 0175: {project} The project does not exist, or data or access rights are insufficient.")
}

/// 0103: the target jobnet does not exist.
pub fn jobnet_not_found() -> String {
    "MpJobsch: ERROR: 0103: The job net is not found.".to_string()
}

/// 0104: the jobnet name is incorrect.
pub fn jobnet_name_incorrect() -> String {
    "MpJobsch: ERROR: 0104: The job net name is incorrect.".to_string()
}

/// 0182: the project name is longer than 50 bytes.
pub fn project_name_too_long(project: &str) -> String {
    format!("MpJobsch: ERROR: 0182: {project} project name is too long.")
}

/// 0302: the project name is invalid.
pub fn invalid_project_name() -> String {
    "MpJobsch: ERROR: 0302: Invalid project name.".to_string()
}

/// Generic internal-error line (spec 02 §3.12 (c)).
pub fn internal_error(error: &str) -> String {
    format!("An internal error occurred. Error: {error}")
}
