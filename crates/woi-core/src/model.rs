//! The definition model: environment, calendars, projects, jobnets and jobs.
//!
//! These types are the **definition-file format** (TOML or JSON, see
//! `docs/definitions.md`): they are a compatibility boundary and change only
//! additively. Unknown fields are rejected so that a typo never passes
//! silently. Runtime state lives in [`crate::engine`] and is not part of the
//! file format.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Everything one or more definition files describe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    /// Environment-wide settings.
    #[serde(default)]
    pub environment: EnvironmentSettings,
    /// Named calendars (SYSTEM_CALENDAR is built in and may be redefined).
    #[serde(default, rename = "calendar")]
    pub calendars: Vec<CalendarDef>,
    /// Startup-day templates.
    #[serde(default, rename = "template")]
    pub templates: Vec<TemplateDef>,
    /// Job-definition variables `@NAME@`.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Projects (a project named by a jobnet is created implicitly).
    #[serde(default, rename = "project")]
    pub projects: Vec<ProjectDef>,
    /// Jobnets.
    #[serde(default, rename = "jobnet")]
    pub jobnets: Vec<JobnetDef>,
}

/// Environment-wide settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSettings {
    /// IANA time zone of all wall-clock rules (default `Asia/Tokyo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Limit on simultaneously executing jobs (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_jobs: Option<u32>,
}

/// A business calendar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    /// Calendar name.
    pub name: String,
    /// Day-change time (default 00:00).
    #[serde(default)]
    pub day_change: HourMinute,
    /// Holidays (non-operating days).
    #[serde(default)]
    pub holidays: Vec<Date>,
}

/// A startup-day template: one year (or more) of literal startup days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDef {
    /// Template name.
    pub name: String,
    /// The startup days.
    #[serde(default)]
    pub days: Vec<Date>,
}

/// A project: the unit of access control and monitoring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectDef {
    /// Project name (≤ 50 bytes).
    pub name: String,
    /// Owner; always `jobuser` in WOI.
    #[serde(default = "default_owner")]
    pub owner: String,
    /// Access rights per job-management user.
    #[serde(default)]
    pub access: Vec<ProjectAccess>,
}

fn default_owner() -> String {
    "jobuser".into()
}

/// One user's right on a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectAccess {
    /// Job-management user.
    pub user: String,
    /// Granted right.
    pub right: AccessRight,
}

/// Project access rights: update ⊃ operate ⊃ reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessRight {
    /// Read-only monitoring.
    Reference,
    /// Operations (start, cancel, restart, confirm …).
    Operate,
    /// Define and change jobnets.
    Update,
}

/// A jobnet: a flow of jobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobnetDef {
    /// Owning project.
    pub project: String,
    /// Jobnet name (≤ 50 bytes, unique in the project).
    pub name: String,
    /// Display name, used in log messages as `JobNetComment` (≤ 100 bytes).
    #[serde(default)]
    pub comment: String,
    /// Free memo shown in the jobnet list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Start condition (default: none — starts only by operation or as a child).
    #[serde(default)]
    pub start: StartCondition,
    /// Message-event wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessageWait>,
    /// Startup days (default: every operating day).
    #[serde(default)]
    pub startup_days: StartupDaySpec,
    /// Estimated end for end-delay monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_end: Option<EstimatedEnd>,
    /// Copy start enabled.
    #[serde(default)]
    pub copy_start: bool,
    /// Number of copy-destination jobnets kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_copies: Option<u16>,
    /// Default request host of network jobs (IPv4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_default_host: Option<String>,
    /// What happens to start times that passed while the scheduler was down.
    #[serde(default)]
    pub missed_start: MissedStart,
    /// The jobs.
    #[serde(default, rename = "job")]
    pub jobs: Vec<JobDef>,
}

/// Policy for start times that passed while the scheduler was not running
/// (the spec is silent; woi decides explicitly). Either way every planned
/// start happens at most once, even across restarts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedStart {
    /// Start once on recovery if one or more starts of the current operating
    /// day were missed (and the status allows it); missed starts of earlier
    /// operating days are skipped. Each is recorded as a `start_missed` event.
    #[default]
    RunOnce,
    /// Skip every missed start (recorded as `start_missed` events).
    Skip,
}

/// Start condition of a jobnet (spec 01 §2.4.1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StartCondition {
    /// Never starts by itself (mandatory for child and master-linked jobnets).
    #[default]
    None,
    /// Once per operating day at a time.
    Time(HourMinute),
    /// Several times per operating day (≤ 6).
    Times(Vec<HourMinute>),
    /// At regular intervals within a window.
    Interval(Interval),
    /// When the environment (scheduler) starts, at most once per operating day.
    EnvironmentStart,
    /// Only when its message-event condition is satisfied.
    MessageOnly(MessageOnly),
}

/// Interval start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    /// First start.
    pub from: HourMinute,
    /// Last possible start (inclusive).
    pub to: HourMinute,
    /// Minutes between starts (1–240).
    pub every_min: u16,
}

/// Message-only start.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageOnly {
    /// Start at most once per operating day.
    #[serde(default)]
    pub once_a_day: bool,
    /// Scheduled start time (only with `once_a_day`), used by start-delay monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start: Option<HourMinute>,
}

/// Message-event wait of a jobnet (spec 01 §2.4.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageWait {
    /// Awaited events (≤ 70).
    pub events: Vec<String>,
    /// All events (and) or any event (or).
    #[serde(default)]
    pub mode: WaitMode,
    /// Events raised while executing are counted and start the jobnet again afterwards.
    #[serde(default)]
    pub valid_during_execution: bool,
    /// Events are recognized only on startup days.
    #[serde(default)]
    pub valid_only_on_startup_days: bool,
    /// How events combine with the start time.
    #[serde(default)]
    pub with_time: TimeCombination,
    /// Carry over at the day change when not started.
    #[serde(default)]
    pub carry_over_at_day_change: bool,
}

/// AND or OR over several things.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitMode {
    /// All of them.
    #[default]
    And,
    /// Any of them.
    Or,
}

/// How message events combine with a time start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeCombination {
    /// Start when the events occurred and the time arrived.
    AndTime,
    /// Time and events are independent start conditions.
    #[default]
    OrTime,
}

/// Estimated end of a jobnet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EstimatedEnd {
    /// Absolute operating-day time (`alarmtime`; single-time jobnets only).
    At(HourMinute),
    /// Minutes after the actual start (`estimatetime`).
    AfterMinutes(u32),
}

/// Startup days of a jobnet (spec 01 §2.7, §3.12). With no base rule at all,
/// every operating day is a startup day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartupDaySpec {
    /// Weekly shorthand (D10), e.g. `["Mon", "Fri"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekly: Vec<String>,
    /// Monthly dates: 1–31 or `"last"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monthly_dates: Vec<MonthDay>,
    /// Monthly weekdays, e.g. `"1st Mon"`, `"last Fri"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monthly_weekdays: Vec<String>,
    /// Annual dates `"MM-DD"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annual_dates: Vec<String>,
    /// Annual weekdays, e.g. `"03 last Fri"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annual_weekdays: Vec<String>,
    /// Templates whose days are included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
    /// Reuse another jobnet's startup days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_jobnet: Option<String>,
    /// Days added explicitly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<Date>,
    /// Days removed explicitly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<Date>,
    /// Shift every base day by this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_days: Option<i16>,
    /// Holiday calendars (default SYSTEM_CALENDAR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendars: Vec<String>,
    /// What happens to a base day that is a holiday.
    #[serde(default)]
    pub holiday: HolidayHandling,
    /// Startup days only inside this period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_period: Option<Period>,
    /// No startup days inside this period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_period: Option<Period>,
    /// Business-day rules: the n-th non-holiday day of each month, `"1st"` …
    /// `"23rd"`, `"last"`, `"2nd last"` … (holidays of `calendars`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub business_days: Vec<String>,
    /// Fine adjustments ("微調整"), applied in order after every other rule:
    /// `{ date = "2026-06-15", start = true }` adds a day, `start = false` removes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fine_adjust: Vec<FineAdjust>,
    /// Literal startup days of one year, `"YYYY:"` followed by 12 groups of
    /// 31 `0`/`1` separated by `/` (the export format). For that year it
    /// replaces every other rule, and jobnets using this one as base jobnet do not see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_pattern: Option<String>,
}

/// One fine adjustment of the startup days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FineAdjust {
    /// The operating day.
    pub date: Date,
    /// `true`: the day is a startup day; `false`: it is not.
    pub start: bool,
    /// The startup-day rules the adjustment was made against: the jobnet's
    /// [`crate::startup::rule_basis`] at that time (16 hex digits). When the
    /// rules have changed since, the adjustment is discarded (MODEL-084).
    /// Without it the adjustment always applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// A day of the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonthDay {
    /// 1–31.
    Day(u8),
    /// The last day of the month.
    Last,
}

impl Serialize for MonthDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MonthDay::Day(d) => s.serialize_u8(*d),
            MonthDay::Last => s.serialize_str("last"),
        }
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) if (1..=31).contains(&n) => Ok(MonthDay::Day(n as u8)),
            Raw::S(s) if s.eq_ignore_ascii_case("last") => Ok(MonthDay::Last),
            _ => Err(serde::de::Error::custom("expected a day 1-31 or \"last\"")),
        }
    }
}

/// Handling of a base day that falls on a holiday.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HolidayHandling {
    /// Keep the day.
    #[default]
    RunAnyway,
    /// Drop the day.
    DoNotStart,
    /// Move to the nearest earlier operating day within `n` days, else drop.
    ShiftBefore(u8),
    /// Move to the nearest later operating day within `n` days, else drop.
    ShiftAfter(u8),
}

/// An inclusive date period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
}

/// A job inside a jobnet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobDef {
    /// Job number, unique in the jobnet (1–255).
    pub number: u16,
    /// Job name (default `J<number>`), unique in the jobnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind of job (default `command`).
    #[serde(default)]
    pub kind: JobKind,
    /// Command line (command jobs) or built-in command with its options.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub command: String,
    /// For `child_jobnet` and `linked_jobnet` icons: the jobnet that runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobnet: Option<String>,
    /// For `linked_jobnet` icons: the master-linked jobnet whose flow is copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// Parameters appended to the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Predecessor job numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<u16>,
    /// AND (default) or OR wait over the predecessors.
    #[serde(default)]
    pub wait: WaitMode,
    /// Start only if the single predecessor's exit code is in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code_condition: Option<ExitCodeRange>,
    /// Upper limit of normal exit codes (0–200, default 0).
    #[serde(default)]
    pub normal_limit: u32,
    /// Normal regardless of the exit code the command returns.
    #[serde(default)]
    pub ignore_exit_code: bool,
    /// Do not keep the job's output.
    #[serde(default)]
    pub no_output: bool,
    /// Restart point (at most one per jobnet).
    #[serde(default)]
    pub restart_point: bool,
    /// Jobnet icons only: run only on the child's own startup days.
    #[serde(default)]
    pub valid_only_on_startup_days: bool,
    /// This job is the recovery job of another job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
    /// Virtual resource used by the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceUse>,
    /// Predicted execution time in seconds (exceeding it logs 10114).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_secs: Option<u32>,
    /// Cut-off time in seconds (the job is killed with 0x40000322).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff_secs: Option<u32>,
    /// Execution user (default `jobuser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_user: Option<String>,
    /// Network job queue: `online1`, `queue1`–`queue5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Network job request hosts (IPv4; one, or first and second candidate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_hosts: Vec<String>,
    /// Submit as a network job.
    #[serde(default)]
    pub network: bool,
    /// Execution priority 0–39 (39 highest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Standard output file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_file: Option<String>,
    /// Standard error file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_file: Option<String>,
    /// Send standard error to standard output.
    #[serde(default)]
    pub stderr_to_stdout: bool,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Publish `NAME=VALUE` output lines as jobnet variables.
    #[serde(default)]
    pub use_jobnet_variables: bool,
    /// Prefix of the published jobnet variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netvar_prefix: Option<String>,
    /// Connection information (REST, Informatica, Snowflake and SAP cloud
    /// jobs): JSON text, checked only when the job runs (spec 03 §2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_info: Option<String>,
    /// HTTP request body sent with the `request` call (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_execution: Option<String>,
    /// HTTP request body sent with every `monitoring` call (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_monitoring: Option<String>,
    /// HTTP request body sent with the `termination` call (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_termination: Option<String>,
    /// Snowflake jobs: a task (default) or an SQL statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snowflake_target: Option<SnowflakeTarget>,
    /// SAP ERP jobs: exit codes per message type, e.g. `E=10,A=5,W=3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msgtype_exit_codes: Option<String>,
    /// SAP ERP jobs: the session-opening information to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sap_session: Option<String>,
    /// `custom` jobs: the name of the job kind the embedding service
    /// registered (see `woi_adapters::executors::ExecutorSet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
}

/// What a Snowflake job runs (spec 03 §2.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnowflakeTarget {
    /// A Snowflake task (`EXECUTE TASK`), monitored through its task history.
    #[default]
    Task,
    /// An SQL statement, monitored through the statement API.
    Sql,
}

impl JobDef {
    /// A command job with defaults for every other field.
    pub fn command(number: u16, command: impl Into<String>) -> JobDef {
        JobDef {
            number,
            name: None,
            kind: JobKind::Command,
            command: command.into(),
            jobnet: None,
            master: None,
            params: None,
            directory: None,
            comment: None,
            after: Vec::new(),
            wait: WaitMode::And,
            exit_code_condition: None,
            normal_limit: 0,
            ignore_exit_code: false,
            no_output: false,
            restart_point: false,
            valid_only_on_startup_days: false,
            recovery: None,
            resource: None,
            predicted_secs: None,
            cutoff_secs: None,
            exec_user: None,
            queue: None,
            request_hosts: Vec::new(),
            network: false,
            priority: None,
            stdout_file: None,
            stderr_file: None,
            stderr_to_stdout: false,
            env: BTreeMap::new(),
            use_jobnet_variables: false,
            netvar_prefix: None,
            connection_info: None,
            body_execution: None,
            body_monitoring: None,
            body_termination: None,
            snowflake_target: None,
            msgtype_exit_codes: None,
            sap_session: None,
            handler: None,
        }
    }

    /// The job's name: its `name`, else `J<number>`.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("J{}", self.number))
    }

    /// Whether this job is a child or linked jobnet icon.
    pub fn is_jobnet_icon(&self) -> bool {
        matches!(self.kind, JobKind::ChildJobnet | JobKind::LinkedJobnet)
    }
}

/// Job kinds (manual 4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobKind {
    /// A command run as a process.
    #[default]
    Command,
    /// REST execution job.
    Rest,
    /// Informatica link job.
    Informatica,
    /// Snowflake link job.
    Snowflake,
    /// SAP ERP link job.
    SapErp,
    /// SAP cloud-service link job.
    SapCloud,
    /// Message-event raising job (`jobschmsgevent`).
    MessageEventRaise,
    /// Jobnet-variable judgement job (`jobschchknetvar`).
    JobnetVariableDecision,
    /// Message-event wait job (`jobschchkmsgevt`).
    MessageEventWait,
    /// Clock-time wait job (`jobschchecktime`).
    TimeWait,
    /// Duration wait job (`jobschsleep`).
    Sleep,
    /// A job kind implemented in Rust by the embedding service, named by
    /// the job's `handler`.
    Custom,
    /// Child jobnet icon.
    ChildJobnet,
    /// Linked jobnet icon.
    LinkedJobnet,
}

impl JobKind {
    /// The snake_case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Command => "command",
            JobKind::Rest => "rest",
            JobKind::Informatica => "informatica",
            JobKind::Snowflake => "snowflake",
            JobKind::SapErp => "sap_erp",
            JobKind::SapCloud => "sap_cloud",
            JobKind::MessageEventRaise => "message_event_raise",
            JobKind::JobnetVariableDecision => "jobnet_variable_decision",
            JobKind::MessageEventWait => "message_event_wait",
            JobKind::TimeWait => "time_wait",
            JobKind::Sleep => "sleep",
            JobKind::Custom => "custom",
            JobKind::ChildJobnet => "child_jobnet",
            JobKind::LinkedJobnet => "linked_jobnet",
        }
    }
}

/// Inclusive exit-code range of a branch condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitCodeRange {
    /// Lowest code.
    pub min: u32,
    /// Highest code.
    pub max: u32,
}

impl ExitCodeRange {
    /// Whether `code` lies in the range.
    pub fn contains(&self, code: u32) -> bool {
        self.min <= code && code <= self.max
    }
}

/// Recovery-job attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// The job this one recovers.
    pub target: u16,
    /// Rerun the target after this job ends normally.
    #[serde(default)]
    pub rerun: bool,
}

/// Use of a virtual resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceUse {
    /// Resource name (environment-wide).
    pub name: String,
    /// Exclusive allocation: no two exclusive users run at once.
    #[serde(default = "yes")]
    pub exclusive: bool,
}

fn yes() -> bool {
    true
}

/// A wall-clock time of the operating day, written `"HH:MM"` (or `"HHMM"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourMinute {
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
}

impl HourMinute {
    /// A time, if valid.
    pub fn new(hour: u8, minute: u8) -> Option<HourMinute> {
        (hour < 24 && minute < 60).then_some(HourMinute { hour, minute })
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u32 {
        u32::from(self.hour) * 60 + u32::from(self.minute)
    }

    /// Parse `HH:MM`, `HHMM` or `HH:MM:00`.
    pub fn parse(s: &str) -> Option<HourMinute> {
        let s = s.trim();
        let s = s.strip_suffix(":00").filter(|r| r.len() == 5).unwrap_or(s);
        let (h, m) = match (s.len(), s.find(':')) {
            (5, Some(2)) => (&s[0..2], &s[3..5]),
            (4, None) => (&s[0..2], &s[2..4]),
            _ => return None,
        };
        if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        HourMinute::new(h.parse().ok()?, m.parse().ok()?)
    }
}

impl fmt::Display for HourMinute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl Serialize for HourMinute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HourMinute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = string_or_toml_datetime(d)?;
        HourMinute::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid time {text:?}: expected \"HH:MM\" (00:00-23:59)")))
    }
}

/// A calendar date, written `"YYYY-MM-DD"` (a TOML date literal works too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = string_or_toml_datetime(d)?;
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map(Date).map_err(|_| {
            serde::de::Error::custom(format!("invalid date {text:?}: expected an existing date \"YYYY-MM-DD\""))
        })
    }
}

/// Accept a string, or a TOML date/time literal, as text.
fn string_or_toml_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        T(toml::value::Datetime),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::T(t) => t.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_minute_parses_both_forms() {
        assert_eq!(HourMinute::parse("09:05"), HourMinute::new(9, 5));
        assert_eq!(HourMinute::parse("0905"), HourMinute::new(9, 5));
        assert_eq!(HourMinute::parse("09:05:00"), HourMinute::new(9, 5));
        assert_eq!(HourMinute::parse("24:00"), None);
        assert_eq!(HourMinute::parse("9:5"), None);
    }
}
