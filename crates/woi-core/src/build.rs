//! Definitions built in code: a typed builder over the definition model that
//! runs exactly the validation of `woi validate`.
//!
//! ```
//! use woi_core::build::{Calendar, Definitions, Job, Jobnet};
//!
//! let env = Definitions::builder()
//!     .timezone("Europe/London")
//!     .calendar(Calendar::new("BIZ").day_change("06:00").holidays(["2026-12-25", "2026-12-28"]))
//!     .jobnet(
//!         Jobnet::new("SHOP", "NIGHTLY")
//!             .at("02:00")
//!             .weekly(["Mon", "Tue", "Wed", "Thu", "Fri"])
//!             .calendar("BIZ")
//!             .job(Job::command(1, "extract.sh"))
//!             .job(Job::command(2, "load.sh").after([1]).normal_limit(4)),
//!     )
//!     .build()
//!     .expect("valid definitions");
//! assert_eq!(env.jobnets.len(), 1);
//! ```
//!
//! Mistakes give the same [`Diagnostic`]s as files, naming the object and the
//! field (the file is `<code>`):
//!
//! ```
//! use woi_core::build::{Definitions, Job, Jobnet};
//!
//! let err = Definitions::builder()
//!     .jobnet(Jobnet::new("SHOP", "NIGHTLY").at("25:00").job(Job::command(1, "a")).job(Job::command(1, "b")))
//!     .build()
//!     .unwrap_err();
//! let text = err.to_string();
//! assert!(text.contains("project SHOP / jobnet NIGHTLY"), "{text}");
//! assert!(text.contains("field `start`"), "{text}");
//! assert!(text.contains("field `number`"), "{text}");
//! ```

use std::fmt;

use chrono::NaiveDate;

use crate::defs::{Catalog, Diagnostic, Environment};
pub use crate::model::Definitions;
use crate::model::{AccessRight, EstimatedEnd, FineAdjust, Period};
use crate::model::{
    CalendarDef, Date, ExitCodeRange, HolidayHandling, HourMinute, Interval, JobDef, JobKind, JobnetDef, MessageOnly,
    MessageWait, MissedStart, MonthDay, ProjectAccess, ProjectDef, Recovery, StartCondition, TemplateDef,
    TimeCombination, WaitMode,
};

/// The file name builder diagnostics carry.
pub const BUILDER_FILE: &str = "<code>";

/// Definitions that did not validate: every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BuildError {
    /// The problems, each naming the object and field.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        write!(f, "{n} problem{} in the definitions", if n == 1 { "" } else { "s" })?;
        for d in &self.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl Definitions {
    /// Start building definitions in code.
    pub fn builder() -> DefinitionsBuilder {
        DefinitionsBuilder::default()
    }
}

/// Problems found while building (a time or date that does not parse),
/// reported by `build()` together with the validation's.
#[derive(Clone, Debug, Default)]
struct Problems(Vec<Diagnostic>);

impl Problems {
    fn push(&mut self, object: String, field: &str, message: String) {
        self.0.push(Diagnostic { file: Some(BUILDER_FILE.into()), object, field: field.into(), message });
    }

    fn time(&mut self, object: &str, field: &str, text: &str) -> Option<HourMinute> {
        let t = HourMinute::parse(text);
        if t.is_none() {
            self.push(object.into(), field, format!("`{text}` is not a time HH:MM (00:00–23:59)"));
        }
        t
    }

    fn date(&mut self, object: &str, field: &str, text: &str) -> Option<Date> {
        match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(d) => Some(Date(d)),
            Err(_) => {
                self.push(object.into(), field, format!("`{text}` is not a date YYYY-MM-DD"));
                None
            }
        }
    }
}

/// Builds [`Definitions`] and validates them into an [`Environment`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct DefinitionsBuilder {
    defs: Definitions,
    problems: Problems,
}

impl DefinitionsBuilder {
    /// IANA time zone of every wall-clock rule (default `Asia/Tokyo`).
    pub fn timezone(mut self, tz: impl Into<String>) -> Self {
        self.defs.environment.timezone = Some(tz.into());
        self
    }

    /// Limit on simultaneously executing jobs (default 300).
    pub fn max_concurrent_jobs(mut self, n: u32) -> Self {
        self.defs.environment.max_concurrent_jobs = Some(n);
        self
    }

    /// Add a calendar.
    pub fn calendar(mut self, c: Calendar) -> Self {
        self.problems.0.extend(c.problems.0);
        self.defs.calendars.push(c.def);
        self
    }

    /// Add a startup-day template.
    pub fn template<'a>(mut self, name: impl Into<String>, days: impl IntoIterator<Item = &'a str>) -> Self {
        let name = name.into();
        let object = format!("template {name}");
        let days = days.into_iter().filter_map(|d| self.problems.date(&object, "days", d)).collect();
        self.defs.templates.push(TemplateDef { name, days });
        self
    }

    /// Set a job-definition variable `@name@`.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.defs.variables.insert(name.into(), value.into());
        self
    }

    /// Add a project with access rights (projects named by jobnets exist
    /// without this).
    pub fn project<'a>(
        mut self,
        name: impl Into<String>,
        access: impl IntoIterator<Item = (&'a str, AccessRight)>,
    ) -> Self {
        let access = access.into_iter().map(|(user, right)| ProjectAccess { user: user.into(), right }).collect();
        self.defs.projects.push(ProjectDef { name: name.into(), owner: "jobuser".into(), access });
        self
    }

    /// Add a jobnet.
    pub fn jobnet(mut self, n: Jobnet) -> Self {
        self.problems.0.extend(n.problems.0);
        self.defs.jobnets.push(n.def);
        self
    }

    /// Add definitions parsed from a file or built elsewhere.
    pub fn merge(mut self, defs: Definitions) -> Self {
        let Definitions { environment, calendars, templates, variables, projects, jobnets } = defs;
        if environment.timezone.is_some() {
            self.defs.environment.timezone = environment.timezone;
        }
        if environment.max_concurrent_jobs.is_some() {
            self.defs.environment.max_concurrent_jobs = environment.max_concurrent_jobs;
        }
        self.defs.calendars.extend(calendars);
        self.defs.templates.extend(templates);
        self.defs.variables.extend(variables);
        self.defs.projects.extend(projects);
        self.defs.jobnets.extend(jobnets);
        self
    }

    /// The definitions built so far (e.g. to write them as TOML).
    pub fn definitions(&self) -> &Definitions {
        &self.defs
    }

    /// Validate exactly as `woi validate` does and compile.
    pub fn build(self) -> Result<Environment, BuildError> {
        let mut catalog = Catalog::new();
        catalog.add(Some(BUILDER_FILE.into()), self.defs);
        let mut diagnostics = self.problems.0;
        match catalog.compile() {
            Ok(env) if diagnostics.is_empty() => Ok(env),
            Ok(_) => Err(BuildError { diagnostics }),
            Err(more) => {
                diagnostics.extend(more);
                Err(BuildError { diagnostics })
            }
        }
    }

    /// Validate and return the definitions themselves.
    pub fn into_definitions(self) -> Result<Definitions, BuildError> {
        let defs = self.defs.clone();
        self.build().map(|_| defs)
    }
}

/// A calendar under construction.
#[derive(Clone, Debug)]
#[must_use]
pub struct Calendar {
    def: CalendarDef,
    problems: Problems,
}

impl Calendar {
    /// A calendar with day change 00:00 and no holidays.
    pub fn new(name: impl Into<String>) -> Calendar {
        Calendar {
            def: CalendarDef { name: name.into(), day_change: HourMinute::default(), holidays: Vec::new() },
            problems: Problems::default(),
        }
    }

    fn object(&self) -> String {
        format!("calendar {}", self.def.name)
    }

    /// The day-change time `HH:MM`.
    pub fn day_change(mut self, at: &str) -> Self {
        let object = self.object();
        if let Some(t) = self.problems.time(&object, "day_change", at) {
            self.def.day_change = t;
        }
        self
    }

    /// Add a holiday `YYYY-MM-DD`.
    pub fn holiday(self, day: &str) -> Self {
        self.holidays([day])
    }

    /// Add holidays `YYYY-MM-DD`.
    pub fn holidays<'a>(mut self, days: impl IntoIterator<Item = &'a str>) -> Self {
        let object = self.object();
        for d in days {
            if let Some(d) = self.problems.date(&object, "holidays", d) {
                self.def.holidays.push(d);
            }
        }
        self
    }
}

/// A jobnet under construction.
#[derive(Clone, Debug)]
#[must_use]
pub struct Jobnet {
    def: JobnetDef,
    problems: Problems,
}

impl Jobnet {
    /// A jobnet with no start condition, every operating day a startup day, no jobs.
    pub fn new(project: impl Into<String>, name: impl Into<String>) -> Jobnet {
        Jobnet {
            def: JobnetDef {
                project: project.into(),
                name: name.into(),
                comment: String::new(),
                memo: None,
                start: StartCondition::None,
                messages: None,
                startup_days: Default::default(),
                estimated_end: None,
                copy_start: false,
                saved_copies: None,
                network_default_host: None,
                missed_start: MissedStart::default(),
                jobs: Vec::new(),
            },
            problems: Problems::default(),
        }
    }

    fn object(&self) -> String {
        format!("project {} / jobnet {}", self.def.project, self.def.name)
    }

    fn time(&mut self, field: &str, text: &str) -> Option<HourMinute> {
        let object = self.object();
        self.problems.time(&object, field, text)
    }

    fn date(&mut self, field: &str, text: &str) -> Option<Date> {
        let object = self.object();
        self.problems.date(&object, field, text)
    }

    /// Display name (`JobNetComment` in messages).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.def.comment = comment.into();
        self
    }

    /// Start once per startup day at `HH:MM` (times before the day-change
    /// time belong to the next calendar day).
    pub fn at(mut self, at: &str) -> Self {
        if let Some(t) = self.time("start", at) {
            self.def.start = StartCondition::Time(t);
        }
        self
    }

    /// Start at up to 6 times per startup day.
    pub fn times<'a>(mut self, times: impl IntoIterator<Item = &'a str>) -> Self {
        let times = times.into_iter().filter_map(|t| self.time("start", t)).collect();
        self.def.start = StartCondition::Times(times);
        self
    }

    /// Start every `every_min` minutes (1–240) from `from` to `to` inclusive.
    pub fn every(mut self, every_min: u16, from: &str, to: &str) -> Self {
        if let (Some(from), Some(to)) = (self.time("start", from), self.time("start", to)) {
            self.def.start = StartCondition::Interval(Interval { from, to, every_min });
        }
        self
    }

    /// Start when the scheduler starts, at most once per operating day.
    pub fn at_environment_start(mut self) -> Self {
        self.def.start = StartCondition::EnvironmentStart;
        self
    }

    /// Start only by message events (see [`Jobnet::on_events`]); with
    /// `once_a_day`, at most once per operating day.
    pub fn message_only(mut self, once_a_day: bool) -> Self {
        self.def.start = StartCondition::MessageOnly(MessageOnly { once_a_day, scheduled_start: None });
        self
    }

    /// Wait for message events: all of them (`WaitMode::And`) or any.
    pub fn on_events<'a>(mut self, events: impl IntoIterator<Item = &'a str>, mode: WaitMode) -> Self {
        let events = events.into_iter().map(String::from).collect();
        let wait = self.def.messages.get_or_insert(MessageWait {
            events: Vec::new(),
            mode,
            valid_during_execution: false,
            valid_only_on_startup_days: false,
            with_time: TimeCombination::default(),
            carry_over_at_day_change: false,
        });
        wait.events = events;
        wait.mode = mode;
        self
    }

    /// Message events combine with the start time by AND (both needed) or OR.
    pub fn events_with_time(mut self, with: TimeCombination) -> Self {
        if let Some(w) = &mut self.def.messages {
            w.with_time = with;
        }
        self
    }

    /// Count message events raised while the jobnet executes.
    pub fn events_valid_during_execution(mut self) -> Self {
        if let Some(w) = &mut self.def.messages {
            w.valid_during_execution = true;
        }
        self
    }

    /// Startup days on these weekdays (`Mon` … `Sun`).
    pub fn weekly<'a>(mut self, days: impl IntoIterator<Item = &'a str>) -> Self {
        self.def.startup_days.weekly = days.into_iter().map(String::from).collect();
        self
    }

    /// Startup days on these days of each month (1–31); see [`Jobnet::last_day_of_month`].
    pub fn monthly(mut self, days: impl IntoIterator<Item = u8>) -> Self {
        self.def.startup_days.monthly_dates.extend(days.into_iter().map(MonthDay::Day));
        self
    }

    /// A startup day on the last day of each month.
    pub fn last_day_of_month(mut self) -> Self {
        self.def.startup_days.monthly_dates.push(MonthDay::Last);
        self
    }

    /// Business-day rules: `"1st"` … `"23rd"`, `"last"`, `"2nd last"` …
    pub fn business_days<'a>(mut self, rules: impl IntoIterator<Item = &'a str>) -> Self {
        self.def.startup_days.business_days = rules.into_iter().map(String::from).collect();
        self
    }

    /// Startup days of these templates.
    pub fn templates<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.def.startup_days.templates = names.into_iter().map(String::from).collect();
        self
    }

    /// Holidays come from this calendar (may be repeated).
    pub fn calendar(mut self, name: impl Into<String>) -> Self {
        self.def.startup_days.calendars.push(name.into());
        self
    }

    /// What happens to a startup day that is a holiday.
    pub fn on_holiday(mut self, handling: HolidayHandling) -> Self {
        self.def.startup_days.holiday = handling;
        self
    }

    /// Add a startup day explicitly.
    pub fn add_day(mut self, day: &str) -> Self {
        if let Some(d) = self.date("startup_days.add", day) {
            self.def.startup_days.add.push(d);
        }
        self
    }

    /// Remove a startup day explicitly.
    pub fn remove_day(mut self, day: &str) -> Self {
        if let Some(d) = self.date("startup_days.remove", day) {
            self.def.startup_days.remove.push(d);
        }
        self
    }

    /// Startup days only inside `from..=to`.
    pub fn valid_period(mut self, from: &str, to: &str) -> Self {
        if let (Some(from), Some(to)) = (self.date("valid_period", from), self.date("valid_period", to)) {
            self.def.startup_days.valid_period = Some(Period { from, to });
        }
        self
    }

    /// Fine adjustment of one operating day (after every other rule).
    pub fn fine_adjust(mut self, day: &str, start: bool) -> Self {
        if let Some(date) = self.date("fine_adjust", day) {
            self.def.startup_days.fine_adjust.push(FineAdjust { date, start, basis: None });
        }
        self
    }

    /// End-delay monitoring: the jobnet should end by `HH:MM`.
    pub fn estimated_end_at(mut self, at: &str) -> Self {
        if let Some(t) = self.time("estimated_end", at) {
            self.def.estimated_end = Some(EstimatedEnd::At(t));
        }
        self
    }

    /// End-delay monitoring: the jobnet should end `minutes` after it starts.
    pub fn estimated_minutes(mut self, minutes: u32) -> Self {
        self.def.estimated_end = Some(EstimatedEnd::AfterMinutes(minutes));
        self
    }

    /// What happens to starts missed while the scheduler was down.
    pub fn missed_start(mut self, policy: MissedStart) -> Self {
        self.def.missed_start = policy;
        self
    }

    /// Add a job.
    pub fn job(mut self, job: Job) -> Self {
        self.def.jobs.push(job.def);
        self
    }

    /// Anything else: the underlying definition.
    pub fn with(mut self, f: impl FnOnce(&mut JobnetDef)) -> Self {
        f(&mut self.def);
        self
    }
}

/// A job under construction.
#[derive(Clone, Debug)]
#[must_use]
pub struct Job {
    def: JobDef,
}

impl Job {
    /// A command job.
    pub fn command(number: u16, command: impl Into<String>) -> Job {
        Job { def: JobDef::command(number, command) }
    }

    /// A job of `kind` whose `command` holds the built-in command and its
    /// options (`jobschsleep 30`, `jobschchkmsgevt EV -t 60` …) or an
    /// adapter's arguments.
    pub fn of_kind(number: u16, kind: JobKind, command: impl Into<String>) -> Job {
        let mut job = Job::command(number, command);
        job.def.kind = kind;
        job
    }

    /// A child-jobnet icon running `jobnet` (of the same project).
    pub fn child(number: u16, jobnet: impl Into<String>) -> Job {
        let mut job = Job::of_kind(number, JobKind::ChildJobnet, "");
        job.def.jobnet = Some(jobnet.into());
        job
    }

    /// A job run by the custom job kind registered as `handler`, with
    /// `args` as its command text.
    pub fn custom(number: u16, handler: impl Into<String>, args: impl Into<String>) -> Job {
        let mut job = Job::of_kind(number, JobKind::Custom, args);
        job.def.handler = Some(handler.into());
        job
    }

    /// A REST execution job with its connection information (JSON text).
    pub fn rest(number: u16, connection_info: impl Into<String>) -> Job {
        let mut job = Job::of_kind(number, JobKind::Rest, "");
        job.def.connection_info = Some(connection_info.into());
        job
    }

    /// Job name (default `J<number>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.def.name = Some(name.into());
        self
    }

    /// Display name.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.def.comment = Some(comment.into());
        self
    }

    /// Predecessor job numbers (AND wait unless [`Job::or_wait`]).
    pub fn after(mut self, jobs: impl IntoIterator<Item = u16>) -> Self {
        self.def.after = jobs.into_iter().collect();
        self
    }

    /// Start when any predecessor ends (OR wait).
    pub fn or_wait(mut self) -> Self {
        self.def.wait = WaitMode::Or;
        self
    }

    /// Run only if the single predecessor ended with a code in `min..=max`.
    pub fn when_exit_code(mut self, min: u32, max: u32) -> Self {
        self.def.exit_code_condition = Some(ExitCodeRange { min, max });
        self
    }

    /// Exit codes `0..=limit` are normal (0–200).
    pub fn normal_limit(mut self, limit: u32) -> Self {
        self.def.normal_limit = limit;
        self
    }

    /// Normal whatever the exit code.
    pub fn ignore_exit_code(mut self) -> Self {
        self.def.ignore_exit_code = true;
        self
    }

    /// Parameters appended to the command.
    pub fn params(mut self, params: impl Into<String>) -> Self {
        self.def.params = Some(params.into());
        self
    }

    /// Working directory.
    pub fn directory(mut self, dir: impl Into<String>) -> Self {
        self.def.directory = Some(dir.into());
        self
    }

    /// An environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.def.env.insert(name.into(), value.into());
        self
    }

    /// The restart point of the jobnet.
    pub fn restart_point(mut self) -> Self {
        self.def.restart_point = true;
        self
    }

    /// This job recovers job `target` when it ends abnormally; with `rerun`,
    /// `target` runs again after this job ends normally.
    pub fn recovers(mut self, target: u16, rerun: bool) -> Self {
        self.def.recovery = Some(Recovery { target, rerun });
        self
    }

    /// Predicted execution time (exceeding it logs WARNING 10114).
    pub fn predicted_secs(mut self, secs: u32) -> Self {
        self.def.predicted_secs = Some(secs);
        self
    }

    /// Cut-off time: the job is killed with 0x40000322 after `secs`.
    pub fn cutoff_secs(mut self, secs: u32) -> Self {
        self.def.cutoff_secs = Some(secs);
        self
    }

    /// Publish `NAME=VALUE` output lines as jobnet variables `@prefix.NAME@`.
    pub fn publish_variables(mut self, prefix: impl Into<String>) -> Self {
        self.def.use_jobnet_variables = true;
        self.def.netvar_prefix = Some(prefix.into());
        self
    }

    /// Anything else: the underlying definition.
    pub fn with(mut self, f: impl FnOnce(&mut JobDef)) -> Self {
        f(&mut self.def);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_matches_the_file_format() {
        let built = Definitions::builder()
            .calendar(Calendar::new("BIZ").day_change("06:00").holiday("2026-01-01"))
            .variable("DIR", "/data")
            .jobnet(
                Jobnet::new("P", "N")
                    .at("02:30")
                    .weekly(["Mon"])
                    .calendar("BIZ")
                    .on_holiday(HolidayHandling::ShiftAfter(3))
                    .job(Job::command(1, "a.sh").name("extract"))
                    .job(Job::command(2, "b.sh").after([1]).normal_limit(3)),
            )
            .into_definitions()
            .unwrap();
        let file = r#"
            variables = { DIR = "/data" }
            [[calendar]]
            name = "BIZ"
            day_change = "06:00"
            holidays = ["2026-01-01"]
            [[jobnet]]
            project = "P"
            name = "N"
            start = { time = "02:30" }
            startup_days = { weekly = ["Mon"], calendars = ["BIZ"], holiday = { shift_after = 3 } }
            [[jobnet.job]]
            number = 1
            name = "extract"
            command = "a.sh"
            [[jobnet.job]]
            number = 2
            command = "b.sh"
            after = [1]
            normal_limit = 3
        "#;
        let parsed = crate::defs::parse(file, crate::defs::Format::Toml).unwrap();
        assert_eq!(built, parsed);
    }

    #[test]
    fn builder_misuse_names_object_and_field() {
        let err = Definitions::builder()
            .calendar(Calendar::new("BIZ").holiday("2026-02-30"))
            .jobnet(Jobnet::new("P", "N").job(Job::command(1, "a")).job(Job::command(2, "b").after([9])))
            .jobnet(Jobnet::new("P", "N"))
            .build()
            .unwrap_err();
        let has =
            |object: &str, field: &str| err.diagnostics.iter().any(|d| d.object.ends_with(object) && d.field == field);
        assert!(has("calendar BIZ", "holidays"), "{err}");
        assert!(has("jobnet N / job 2", "after"), "{err}");
        assert!(err.diagnostics.iter().all(|d| d.file.as_deref() == Some(BUILDER_FILE)), "{err}");
        assert!(err.diagnostics.len() >= 3, "{err}");
    }

    #[test]
    fn builder_limits_are_enforced() {
        let mut n = Jobnet::new("P", "BIG");
        for i in 1..=256u16 {
            n = n.job(Job::command(i, "x"));
        }
        let err = Definitions::builder().jobnet(n).build().unwrap_err();
        assert!(err.diagnostics.iter().any(|d| d.field == "number"), "{err}");
    }
}
