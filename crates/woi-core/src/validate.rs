//! Validation of definitions: every name, limit and reference of spec 01
//! §2.2–2.7, §2.11, §3.6, §3.9 and §3.13. All problems are reported, not only
//! the first; each names the file, the object and the field, and says what is
//! allowed. Where the import of the original product has a detail code
//! (spec 01 §3.16.3), the message carries it in parentheses, e.g. `(0359)`.
//!
//! The parsers of startup-day rules ([`parse_weekday`],
//! [`parse_monthly_weekday`], [`parse_annual_date`], [`parse_annual_weekday`])
//! are public so that startup-day computation accepts exactly what validation
//! accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use chrono::{NaiveDate, Weekday};

use crate::defs::{Catalog, Diagnostic, SYSTEM_CALENDAR};
use crate::model::{
    Definitions, EstimatedEnd, HourMinute, JobDef, JobKind, JobnetDef, Period, StartCondition, TimeCombination,
    WaitMode,
};
use crate::startup;
use crate::text::{self, limits};

/// What to enforce.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Enforce the product's size limits (255 jobs per jobnet, 1000 projects,
    /// 100 links per master, 70 events per jobnet). Benchmarks and embedders
    /// with large synthetic flows may turn this off; references, cycles and
    /// every other rule are always checked.
    pub enforce_limits: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { enforce_limits: true }
    }
}

/// Collects diagnostics for one object.
struct Sink<'a> {
    out: &'a mut Vec<Diagnostic>,
    file: Option<String>,
    object: String,
}

impl Sink<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.out.push(Diagnostic {
            file: self.file.clone(),
            object: self.object.clone(),
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Jobnet index: (project, jobnet name) → position in `Definitions::jobnets`.
type Index<'a> = BTreeMap<(&'a str, &'a str), usize>;

/// Validate a whole catalog.
pub fn validate(cat: &Catalog, opts: Options) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let defs = &cat.defs;

    validate_environment(&mut out, cat);
    validate_variables(&mut out, defs);
    validate_calendars(&mut out, cat);
    validate_projects(&mut out, cat, opts);

    // Jobnet keys and duplicates.
    let mut seen: Index<'_> = BTreeMap::new();
    for (i, n) in defs.jobnets.iter().enumerate() {
        let mut s = sink(&mut out, cat, i, n);
        if let Err(m) = text::check_project_name(&n.project) {
            s.err("project", format!("project name {:?} {m}", n.project));
        }
        if let Err(m) = text::check_jobnet_name(&n.name) {
            s.err("name", format!("jobnet name {:?} {m}", n.name));
        }
        if let Err(m) = text::check_jobnet_comment(&n.comment) {
            s.err("comment", format!("jobnet comment {:?} {m}", n.comment));
        }
        if let std::collections::btree_map::Entry::Vacant(e) = seen.entry((n.project.as_str(), n.name.as_str())) {
            e.insert(i);
        } else {
            s.err("name", "duplicate jobnet name in this project; each jobnet is defined once (2003)");
        }
    }

    let ctx = Ctx {
        calendars: defs.calendars.iter().map(|c| c.name.as_str()).chain([SYSTEM_CALENDAR]).collect(),
        templates: defs.templates.iter().map(|t| t.name.as_str()).collect(),
        index: &seen,
    };
    for (i, n) in defs.jobnets.iter().enumerate() {
        let mut s = sink(&mut out, cat, i, n);
        let dct = day_change_of(defs, n);
        validate_start(&mut s, n, dct);
        validate_messages(&mut s, n, opts);
        validate_estimated_end(&mut s, n, dct);
        validate_startup_days(&mut s, n, &ctx);
        if let Some(h) = &n.network_default_host
            && h.parse::<Ipv4Addr>().is_err()
        {
            s.err(
                "network_default_host",
                format!("{h:?} is not an IPv4 address; give one address such as \"10.0.0.5\" (no host names, no IPv6)"),
            );
        }
        if n.saved_copies.is_some() && !n.copy_start {
            s.err("saved_copies", "is meaningful only with copy_start = true");
        }
        validate_jobs(&mut s, n, opts);
    }

    validate_base_jobnets(&mut out, cat, &seen);
    validate_hierarchy(&mut out, cat, &seen, opts);
    out
}

/// Names known to every jobnet's references.
struct Ctx<'a> {
    calendars: BTreeSet<&'a str>,
    templates: BTreeSet<&'a str>,
    index: &'a Index<'a>,
}

fn sink<'a>(out: &'a mut Vec<Diagnostic>, cat: &Catalog, i: usize, n: &JobnetDef) -> Sink<'a> {
    Sink {
        out,
        file: cat.jobnet_files.get(i).cloned().flatten(),
        object: format!("project {} / jobnet {}", n.project, n.name),
    }
}

fn job_sink<'a>(out: &'a mut Vec<Diagnostic>, cat: &Catalog, i: usize, number: u16) -> Sink<'a> {
    let n = &cat.defs.jobnets[i];
    let mut s = sink(out, cat, i, n);
    s.object = format!("{} / job {number}", s.object);
    s
}

fn validate_environment(out: &mut Vec<Diagnostic>, cat: &Catalog) {
    let env = &cat.defs.environment;
    let mut s = Sink { out, file: cat.environment_file.clone(), object: "environment".into() };
    if let Some(tz) = &env.timezone
        && tz.parse::<chrono_tz::Tz>().is_err()
    {
        s.err("timezone", format!("unknown IANA time zone {tz:?} (e.g. \"Asia/Tokyo\")"));
    }
    if env.max_concurrent_jobs == Some(0) {
        s.err("max_concurrent_jobs", "must be at least 1");
    }
}

fn validate_variables(out: &mut Vec<Diagnostic>, defs: &Definitions) {
    let mut s = Sink { out, file: None, object: "variables".into() };
    for name in defs.variables.keys() {
        if let Err(m) = text::check_variable_name(name) {
            s.err(name, format!("variable name {name:?} {m}"));
        }
    }
}

fn validate_calendars(out: &mut Vec<Diagnostic>, cat: &Catalog) {
    let defs = &cat.defs;
    let mut names = BTreeSet::new();
    for (i, c) in defs.calendars.iter().enumerate() {
        let mut s =
            Sink { out, file: cat.calendar_files.get(i).cloned().flatten(), object: format!("calendar {}", c.name) };
        if c.name.trim().is_empty() {
            s.err("name", "a calendar needs a name");
        } else if !names.insert(c.name.as_str()) {
            if c.name == SYSTEM_CALENDAR {
                s.err("name", "SYSTEM_CALENDAR is built in and may be redefined once; this is a second definition");
            } else {
                s.err("name", format!("calendar {:?} is defined more than once; calendar names are unique", c.name));
            }
        }
    }
    let mut names = BTreeSet::new();
    for t in &defs.templates {
        let mut s = Sink { out, file: None, object: format!("template {}", t.name) };
        if t.name.trim().is_empty() {
            s.err("name", "a template needs a name");
        } else if !names.insert(t.name.as_str()) {
            s.err("name", format!("template {:?} is defined more than once; template names are unique", t.name));
        }
    }
}

fn validate_projects(out: &mut Vec<Diagnostic>, cat: &Catalog, opts: Options) {
    let defs = &cat.defs;
    let mut names = BTreeSet::new();
    for (i, p) in defs.projects.iter().enumerate() {
        let mut s =
            Sink { out, file: cat.project_files.get(i).cloned().flatten(), object: format!("project {}", p.name) };
        if let Err(m) = text::check_project_name(&p.name) {
            s.err("name", format!("project name {:?} {m}", p.name));
        }
        if !names.insert(p.name.as_str()) {
            s.err("name", format!("project {:?} is defined more than once; give each [[project]] once", p.name));
        }
        if p.owner != "jobuser" {
            s.err("owner", format!("owner {:?}: the owner of a project is always \"jobuser\"", p.owner));
        }
        let mut users = BTreeSet::new();
        for a in &p.access {
            if a.user.trim().is_empty() {
                s.err("access", "an access entry needs a user");
            } else if !users.insert(a.user.as_str()) {
                s.err("access", format!("user {:?} is listed twice; give one right per user", a.user));
            }
        }
    }
    if opts.enforce_limits {
        let all: BTreeSet<&str> = names.into_iter().chain(defs.jobnets.iter().map(|n| n.project.as_str())).collect();
        if all.len() > limits::PROJECTS {
            Sink { out, file: None, object: "environment".into() }
                .err("project", format!("{} projects; at most {} per environment", all.len(), limits::PROJECTS));
        }
    }
}

/// Day-change time that orders the operating day of jobnet `n` (spec 01 §3.9):
/// that of its first holiday calendar, else SYSTEM_CALENDAR's (default 00:00).
pub fn day_change_of(defs: &Definitions, n: &JobnetDef) -> HourMinute {
    let find = |name: &str| defs.calendars.iter().find(|c| c.name == name).map(|c| c.day_change);
    n.startup_days.calendars.first().and_then(|c| find(c)).or_else(|| find(SYSTEM_CALENDAR)).unwrap_or_default()
}

/// Position of `t` in the operating day that starts at `day_change`, in
/// minutes: a time earlier than the day-change time belongs to the next
/// calendar day and so comes late in the operating day (spec 01 §3.9).
pub fn operating_minutes(t: HourMinute, day_change: HourMinute) -> u32 {
    (t.minutes() + 24 * 60 - day_change.minutes()) % (24 * 60)
}

fn validate_start(s: &mut Sink<'_>, n: &JobnetDef, dct: HourMinute) {
    match &n.start {
        StartCondition::Times(times) => {
            if times.is_empty() || times.len() > limits::MULTI_TIMES {
                s.err("start.times", format!("{} start times; 1-{} allowed", times.len(), limits::MULTI_TIMES));
            }
            let mut seen = BTreeSet::new();
            for t in times {
                if !seen.insert(*t) {
                    s.err("start.times", format!("{t} is listed twice; each start time may appear once"));
                }
            }
        }
        StartCondition::Interval(iv) => {
            if !(limits::INTERVAL_MIN..=limits::INTERVAL_MAX).contains(&iv.every_min) {
                s.err(
                    "start.interval.every_min",
                    format!("{} minutes; {}-{} allowed", iv.every_min, limits::INTERVAL_MIN, limits::INTERVAL_MAX),
                );
            }
            if operating_minutes(iv.from, dct) > operating_minutes(iv.to, dct) {
                s.err(
                    "start.interval.to",
                    format!(
                        "{} comes before `from` {} in the operating day, which starts at the day-change time {dct} \
                         (a time earlier than {dct} belongs to the next calendar day); `to` must not precede `from`",
                        iv.to, iv.from
                    ),
                );
            }
        }
        StartCondition::MessageOnly(m) => {
            if m.scheduled_start.is_some() && !m.once_a_day {
                s.err("start.message_only.scheduled_start", "allowed only with once_a_day = true");
            }
            if n.messages.is_none() {
                s.err("messages", "a message_only start needs a `messages` section with the awaited events");
            }
        }
        StartCondition::None | StartCondition::Time(_) | StartCondition::EnvironmentStart => {}
    }
}

fn validate_messages(s: &mut Sink<'_>, n: &JobnetDef, opts: Options) {
    let Some(m) = &n.messages else { return };
    if n.start == StartCondition::None {
        s.err(
            "messages",
            "a jobnet with start = \"none\" never starts by itself; message events need a time, times, interval, \
             environment_start or message_only start",
        );
    }
    if m.events.is_empty() {
        s.err("messages.events", format!("name 1-{} message events", limits::EVENTS_PER_JOBNET));
    } else if opts.enforce_limits && m.events.len() > limits::EVENTS_PER_JOBNET {
        s.err(
            "messages.events",
            format!("{} message events; at most {} per jobnet", m.events.len(), limits::EVENTS_PER_JOBNET),
        );
    }
    let mut seen = BTreeSet::new();
    for e in &m.events {
        if let Err(msg) = text::check_event_name(e) {
            s.err("messages.events", format!("message event name {e:?} {msg}"));
        } else if !seen.insert(e.as_str()) {
            s.err("messages.events", format!("message event {e:?} is listed twice; each event may appear once"));
        }
    }
    if m.valid_during_execution && m.with_time == TimeCombination::AndTime {
        s.err(
            "messages.valid_during_execution",
            "cannot be combined with with_time = \"and_time\"; use with_time = \"or_time\" or drop it",
        );
    }
    if m.valid_during_execution && n.copy_start {
        s.err("messages.valid_during_execution", "a jobnet with copy_start cannot be valid during execution (0246)");
    }
}

fn validate_estimated_end(s: &mut Sink<'_>, n: &JobnetDef, dct: HourMinute) {
    match (&n.estimated_end, &n.start) {
        (Some(EstimatedEnd::At(at)), StartCondition::Time(t))
            if operating_minutes(*at, dct) <= operating_minutes(*t, dct) =>
        {
            s.err(
                "estimated_end.at",
                format!(
                    "{at} is not after the start time {t} in the operating day, which starts at the day-change \
                         time {dct}; the estimated end must come after the start"
                ),
            );
        }
        (Some(EstimatedEnd::At(_)), StartCondition::Time(_)) => {}
        (Some(EstimatedEnd::At(_)), _) => s.err(
            "estimated_end.at",
            "an absolute estimated end needs a single start time (start = { time = \"HH:MM\" }); \
             use after_minutes with other start conditions (0245)",
        ),
        (Some(EstimatedEnd::AfterMinutes(0)), _) => s.err("estimated_end.after_minutes", "must be at least 1"),
        _ => {}
    }
}

fn validate_startup_days(s: &mut Sink<'_>, n: &JobnetDef, ctx: &Ctx<'_>) {
    let sd = &n.startup_days;
    for c in &sd.calendars {
        if !ctx.calendars.contains(c.as_str()) {
            s.err(
                "startup_days.calendars",
                format!("calendar {c:?} is not defined; define it with [[calendar]] (SYSTEM_CALENDAR is built in)"),
            );
        }
    }
    for t in &sd.templates {
        if !ctx.templates.contains(t.as_str()) {
            s.err("startup_days.templates", format!("template {t:?} is not defined; define it with [[template]]"));
        }
    }
    for w in &sd.weekly {
        if let Err(m) = parse_weekday(w) {
            s.err("startup_days.weekly", m);
        }
    }
    for w in &sd.monthly_weekdays {
        if let Err(m) = parse_monthly_weekday(w) {
            s.err("startup_days.monthly_weekdays", m);
        }
    }
    for d in &sd.annual_dates {
        if let Err(m) = parse_annual_date(d) {
            s.err("startup_days.annual_dates", m);
        }
    }
    for d in &sd.annual_weekdays {
        if let Err(m) = parse_annual_weekday(d) {
            s.err("startup_days.annual_weekdays", m);
        }
    }
    for (field, period) in
        [("startup_days.valid_period", &sd.valid_period), ("startup_days.invalid_period", &sd.invalid_period)]
    {
        if let Some(Period { from, to }) = period
            && from > to
        {
            s.err(field, format!("`from` {} is after `to` {}; from must not be after to", from.0, to.0));
        }
    }
    if !sd.business_days.is_empty() && sd.offset_days.is_some() {
        s.err("startup_days.offset_days", "cannot be combined with business_days; use one or the other");
    }
    for (field, message) in startup::check_spec(sd) {
        s.err(&format!("startup_days.{field}"), message);
    }
    if let Some(b) = &sd.base_jobnet
        && !ctx.index.contains_key(&(n.project.as_str(), b.as_str()))
    {
        s.err("startup_days.base_jobnet", format!("base jobnet {b:?} does not exist in project {}", n.project));
    }
}

/// Base jobnets (`startup_days.base_jobnet`) must not form a cycle.
fn validate_base_jobnets(out: &mut Vec<Diagnostic>, cat: &Catalog, index: &Index<'_>) {
    let defs = &cat.defs;
    let base: Vec<Option<usize>> = defs
        .jobnets
        .iter()
        .map(|n| n.startup_days.base_jobnet.as_deref().and_then(|b| index.get(&(n.project.as_str(), b)).copied()))
        .collect();
    // 0 = unvisited, 1 = on the current walk, 2 = done. Each jobnet has at most one base.
    let mut state = vec![0u8; base.len()];
    let mut on_cycle = vec![false; base.len()];
    for start in 0..base.len() {
        let mut walk = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                0 => {
                    state[i] = 1;
                    walk.push(i);
                    at = base[i];
                }
                1 => {
                    if let Some(pos) = walk.iter().position(|&x| x == i) {
                        for &x in &walk[pos..] {
                            on_cycle[x] = true;
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
        for x in walk {
            state[x] = 2;
        }
    }
    for (i, n) in defs.jobnets.iter().enumerate() {
        if on_cycle[i] {
            let b = n.startup_days.base_jobnet.as_deref().unwrap_or_default();
            sink(out, cat, i, n).err(
                "startup_days.base_jobnet",
                format!("base jobnet {b:?} leads back to this jobnet; base jobnets must not form a cycle"),
            );
        }
    }
}

/// Week of the month in a weekday rule (`"1st Mon"`, `"last Fri"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WeekOfMonth {
    /// The n-th occurrence in the month, 1–5.
    Nth(u8),
    /// The last occurrence in the month.
    Last,
}

/// A weekday: `Mon` … `Sun` or the full English name, any case.
pub fn parse_weekday(s: &str) -> Result<Weekday, String> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return Err(format!("{s:?} is not a weekday; use Mon, Tue, Wed, Thu, Fri, Sat, Sun or the full name")),
    })
}

/// A week of the month: `1st`, `2nd`, `3rd`, `4th`, `5th` or `last`, any case.
pub fn parse_week_of_month(s: &str) -> Result<WeekOfMonth, String> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "1st" => WeekOfMonth::Nth(1),
        "2nd" => WeekOfMonth::Nth(2),
        "3rd" => WeekOfMonth::Nth(3),
        "4th" => WeekOfMonth::Nth(4),
        "5th" => WeekOfMonth::Nth(5),
        "last" => WeekOfMonth::Last,
        _ => return Err(format!("{s:?} is not a week of the month; use 1st, 2nd, 3rd, 4th, 5th or last")),
    })
}

/// A monthly weekday: `"<week> <weekday>"`, e.g. `"1st Mon"`, `"last Fri"`.
pub fn parse_monthly_weekday(s: &str) -> Result<(WeekOfMonth, Weekday), String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [week, day] = parts.as_slice() else {
        return Err(format!("{s:?}: expected \"<week> <weekday>\" such as \"1st Mon\" or \"last Fri\""));
    };
    let week = parse_week_of_month(week).map_err(|m| format!("{s:?}: {m}"))?;
    let day = parse_weekday(day).map_err(|m| format!("{s:?}: {m}"))?;
    Ok((week, day))
}

/// An annual date `"MM-DD"` that exists in some year (`"02-29"` is allowed,
/// `"02-30"` is not). Returns (month, day).
pub fn parse_annual_date(s: &str) -> Result<(u32, u32), String> {
    let t = s.trim();
    let b = t.as_bytes();
    let shape_ok = b.len() == 5 && b[2] == b'-' && [0, 1, 3, 4].iter().all(|&k| b[k].is_ascii_digit());
    if !shape_ok {
        return Err(format!("{s:?}: expected \"MM-DD\" such as \"03-31\""));
    }
    let (month, day) = (two_digits(&b[0..2]), two_digits(&b[3..5]));
    // 2000 is a leap year: every date that exists in some year exists in it.
    if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
        return Err(format!("{s:?} is not a date in any year (month 01-12, a day that exists in that month)"));
    }
    Ok((month, day))
}

/// An annual weekday `"MM <week> <weekday>"`, e.g. `"03 last Fri"`. Returns (month, week, weekday).
pub fn parse_annual_weekday(s: &str) -> Result<(u32, WeekOfMonth, Weekday), String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [month, week, day] = parts.as_slice() else {
        return Err(format!("{s:?}: expected \"MM <week> <weekday>\" such as \"03 last Fri\""));
    };
    let m = month.as_bytes();
    let month = if m.len() == 2 && m.iter().all(u8::is_ascii_digit) { two_digits(m) } else { 0 };
    if !(1..=12).contains(&month) {
        return Err(format!("{s:?}: the month must be 01-12"));
    }
    let week = parse_week_of_month(week).map_err(|m| format!("{s:?}: {m}"))?;
    let day = parse_weekday(day).map_err(|m| format!("{s:?}: {m}"))?;
    Ok((month, week, day))
}

/// Two ASCII digits as a number.
fn two_digits(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// The job-level rules of one jobnet (names, limits, flow, kinds, values),
/// as `woi validate` applies them: for changes to a single jobnet such as a
/// recovery change.
pub fn jobnet_jobs(n: &JobnetDef) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut s = Sink { out: &mut out, file: None, object: format!("project {} / jobnet {}", n.project, n.name) };
    validate_jobs(&mut s, n, Options::default());
    out
}

fn validate_jobs(s: &mut Sink<'_>, n: &JobnetDef, opts: Options) {
    let jobnet_object = s.object.clone();
    if opts.enforce_limits && n.jobs.len() > limits::JOBS_PER_JOBNET {
        s.err("job", format!("{} jobs; at most {} per jobnet", n.jobs.len(), limits::JOBS_PER_JOBNET));
    }
    let mut by_number: BTreeMap<u16, &JobDef> = BTreeMap::new();
    for j in &n.jobs {
        s.object = format!("{jobnet_object} / job {}", j.number);
        if j.number == 0 || (opts.enforce_limits && usize::from(j.number) > limits::JOBS_PER_JOBNET) {
            s.err("number", "job numbers are 1-255");
        }
        if let std::collections::btree_map::Entry::Vacant(e) = by_number.entry(j.number) {
            e.insert(j);
        } else {
            s.err("number", "duplicate job number in this jobnet");
        }
    }
    // Names: an explicit name must differ from every other job's name, given or default (`J<number>`).
    let default_names: BTreeMap<String, u16> =
        n.jobs.iter().filter(|j| j.name.is_none()).map(|j| (j.display_name(), j.number)).collect();
    let mut given_names: BTreeMap<&str, u16> = BTreeMap::new();
    let mut restart_point: Option<u16> = None;
    for j in &n.jobs {
        s.object = format!("{jobnet_object} / job {}", j.number);
        if let Some(name) = &j.name {
            if name.trim().is_empty() {
                s.err("name", "a job name must not be empty; omit it to use J<number>");
            } else if let Some(other) = given_names.get(name.as_str()) {
                s.err("name", format!("job name {name:?} is already used by job {other}; job names are unique"));
            } else if let Some(other) = default_names.get(name).filter(|&&o| o != j.number) {
                s.err("name", format!("job name {name:?} is the default name of job {other}; job names are unique"));
            } else {
                given_names.insert(name, j.number);
            }
        }
        if j.restart_point {
            match restart_point {
                Some(first) => s.err(
                    "restart_point",
                    format!("job {first} is already the restart point; at most one restart point per jobnet"),
                ),
                None => restart_point = Some(j.number),
            }
        }
    }
    for j in &n.jobs {
        s.object = format!("{jobnet_object} / job {}", j.number);
        validate_flow_fields(s, j, &by_number);
        validate_kind_fields(s, j);
        validate_job_values(s, j);
    }
    s.object = jobnet_object;
    if let Some(cycle) = find_cycle(n) {
        s.err("after", format!("the flow has a cycle through jobs {cycle:?}"));
    }
}

/// Predecessors, exit-code branching and recovery.
fn validate_flow_fields(s: &mut Sink<'_>, j: &JobDef, by_number: &BTreeMap<u16, &JobDef>) {
    let mut preds = BTreeSet::new();
    for p in &j.after {
        if !preds.insert(*p) {
            s.err("after", format!("predecessor job {p} is listed twice"));
        } else if *p == j.number {
            s.err("after", "a job cannot be its own predecessor");
        } else {
            match by_number.get(p) {
                None => s.err("after", format!("predecessor job {p} does not exist in this jobnet")),
                Some(pj) if pj.recovery.is_some() => s.err(
                    "after",
                    format!("job {p} is a recovery job; recovery jobs run only when their target abends and cannot be predecessors"),
                ),
                Some(_) => {}
            }
        }
    }
    if let Some(r) = j.exit_code_condition {
        if preds.len() != 1 {
            s.err(
                "exit_code_condition",
                format!("needs exactly one predecessor in `after`; this job has {}", preds.len()),
            );
        }
        if j.wait == WaitMode::Or {
            s.err("exit_code_condition", "cannot be combined with wait = \"or\"; use the default AND wait");
        }
        if j.recovery.is_some() {
            s.err("exit_code_condition", "cannot be combined with recovery; a recovery job has no predecessor");
        }
        if r.min > r.max {
            s.err("exit_code_condition", format!("min {} is greater than max {}; min must be ≤ max", r.min, r.max));
        }
    }
    if let Some(r) = j.recovery {
        if r.target == j.number {
            s.err("recovery.target", "a job cannot be its own recovery job; name the job it recovers");
        } else {
            match by_number.get(&r.target) {
                None => s.err("recovery.target", format!("target job {} does not exist in this jobnet", r.target)),
                Some(t) if t.recovery.is_some() => s.err(
                    "recovery.target",
                    format!("job {} is itself a recovery job; a recovery job recovers a normal job", r.target),
                ),
                Some(_) => {}
            }
        }
        if !j.after.is_empty() {
            s.err("after", "a recovery job starts when its target abends; it cannot have predecessors");
        }
    }
}

/// Adapter and custom-kind fields (spec 03 §2.1): each only on the kinds that
/// use it. The connection information itself is checked when the job runs.
fn validate_adapter_fields(s: &mut Sink<'_>, j: &JobDef) {
    use JobKind::{Custom, Informatica, Rest, SapCloud, SapErp, Snowflake};
    let kind = j.kind.as_str();
    let fields: [(&str, bool, &[JobKind]); 8] = [
        ("connection_info", j.connection_info.is_some(), &[Rest, Informatica, Snowflake, SapCloud, Custom]),
        ("body_execution", j.body_execution.is_some(), &[Rest, Informatica, Snowflake, Custom]),
        ("body_monitoring", j.body_monitoring.is_some(), &[Rest, Snowflake, Custom]),
        ("body_termination", j.body_termination.is_some(), &[Rest, Snowflake, Custom]),
        ("snowflake_target", j.snowflake_target.is_some(), &[Snowflake]),
        ("msgtype_exit_codes", j.msgtype_exit_codes.is_some(), &[SapErp]),
        ("sap_session", j.sap_session.is_some(), &[SapErp]),
        ("handler", j.handler.is_some(), &[Custom]),
    ];
    for (field, set, kinds) in fields {
        if set && !kinds.contains(&j.kind) {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            s.err(field, format!("only {} jobs have `{field}`; this is {} job", names.join(", "), with_article(kind)));
        }
    }
    if j.kind == Custom {
        match j.handler.as_deref() {
            None | Some("") => s.err("handler", "a custom job must name its handler (the registered job kind)"),
            Some(h) if h.len() > 64 || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => {
                s.err("handler", "a handler name is 1–64 ASCII letters, digits, `_` or `-`")
            }
            Some(_) => {}
        }
    }
}

/// Fields that only some kinds of job may have.
fn validate_kind_fields(s: &mut Sink<'_>, j: &JobDef) {
    let kind = j.kind.as_str();
    if j.is_jobnet_icon() {
        if j.jobnet.is_none() {
            s.err("jobnet", format!("a {kind} job must name the jobnet it runs"));
        }
        let command_fields = [
            ("command", !j.command.is_empty()),
            ("params", j.params.is_some()),
            ("directory", j.directory.is_some()),
            ("queue", j.queue.is_some()),
            ("request_hosts", !j.request_hosts.is_empty()),
            ("network", j.network),
            ("exec_user", j.exec_user.is_some()),
            ("stdout_file", j.stdout_file.is_some()),
            ("stderr_file", j.stderr_file.is_some()),
            ("stderr_to_stdout", j.stderr_to_stdout),
            ("env", !j.env.is_empty()),
        ];
        for (field, set) in command_fields {
            if set {
                s.err(
                    field,
                    format!(
                        "a {kind} job runs a jobnet (named by `jobnet`), not a command; command-execution fields are not allowed"
                    ),
                );
            }
        }
    } else {
        if j.jobnet.is_some() {
            s.err(
                "jobnet",
                format!("only child_jobnet and linked_jobnet jobs name a jobnet; this is {} job", with_article(kind)),
            );
        }
        if j.valid_only_on_startup_days {
            s.err(
                "valid_only_on_startup_days",
                format!("only for child_jobnet and linked_jobnet jobs; this is {} job", with_article(kind)),
            );
        }
        if j.kind != JobKind::Command {
            let network_fields =
                [("network", j.network), ("queue", j.queue.is_some()), ("request_hosts", !j.request_hosts.is_empty())];
            for (field, set) in network_fields {
                if set {
                    s.err(field, format!("only command jobs can be network jobs; this is {} job", with_article(kind)));
                }
            }
        }
    }
    validate_adapter_fields(s, j);
    match (j.kind, &j.master) {
        (JobKind::LinkedJobnet, None) => s.err("master", "a linked_jobnet job must name its master-linked jobnet"),
        (JobKind::LinkedJobnet, Some(_)) | (_, None) => {}
        (_, Some(_)) => s.err("master", format!("only linked_jobnet jobs name a master; this is a {kind} job")),
    }
    if j.kind == JobKind::Command {
        if j.command.trim().is_empty() {
            s.err("command", "a command job needs a command");
        }
        if let Some(q) = &j.queue
            && !text::NETWORK_QUEUES.contains(&q.as_str())
        {
            s.err("queue", format!("queue {q:?} does not exist; use {}", text::NETWORK_QUEUES.join(", ")));
        }
        if j.request_hosts.len() > limits::REQUEST_HOSTS {
            s.err(
                "request_hosts",
                format!("{} hosts; give 1 or 2 (the first and the second candidate)", j.request_hosts.len()),
            );
        }
        for h in &j.request_hosts {
            if h.parse::<Ipv4Addr>().is_err() {
                s.err(
                    "request_hosts",
                    format!(
                        "{h:?} is not an IPv4 address; use addresses such as \"10.0.0.5\" (no host names, no IPv6)"
                    ),
                );
            }
        }
        if let [first, second] = j.request_hosts.as_slice()
            && first == second
        {
            s.err("request_hosts", "the second candidate must differ from the first");
        }
    }
}

/// Numeric ranges and the jobnet-variable prefix.
fn validate_job_values(s: &mut Sink<'_>, j: &JobDef) {
    if j.normal_limit > limits::NORMAL_LIMIT_MAX {
        s.err(
            "normal_limit",
            format!(
                "{} is too large; 0-{} allowed (201-256 are the scheduler's own codes)",
                j.normal_limit,
                limits::NORMAL_LIMIT_MAX
            ),
        );
    }
    if let Some(p) = j.priority
        && p > limits::PRIORITY_MAX
    {
        s.err("priority", format!("{p} is out of range; 0-{} allowed (39 highest)", limits::PRIORITY_MAX));
    }
    if j.predicted_secs == Some(0) {
        s.err("predicted_secs", "must be at least 1 second");
    }
    if j.cutoff_secs == Some(0) {
        s.err("cutoff_secs", "must be at least 1 second");
    }
    match (j.use_jobnet_variables, &j.netvar_prefix) {
        (true, None) => s.err("netvar_prefix", "use_jobnet_variables = true needs netvar_prefix (e.g. \"A\")"),
        (false, Some(_)) => s.err("netvar_prefix", "set only together with use_jobnet_variables = true"),
        (true, Some(p)) => {
            if let Err(m) = text::check_netvar_prefix(p) {
                s.err("netvar_prefix", format!("prefix {p:?} {m}"));
            }
        }
        (false, None) => {}
    }
}

/// A cycle among the predecessor links, if any (job numbers on it).
fn find_cycle(n: &JobnetDef) -> Option<Vec<u16>> {
    let preds: BTreeMap<u16, &Vec<u16>> = n.jobs.iter().map(|j| (j.number, &j.after)).collect();
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state: BTreeMap<u16, u8> = BTreeMap::new();
    for &start in preds.keys() {
        if state.get(&start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(u16, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some(&mut (node, ref mut i)) = stack.last_mut() {
            let next = preds.get(&node).and_then(|ps| ps.get(*i)).copied();
            *i += 1;
            match next {
                Some(p) if preds.contains_key(&p) => match state.get(&p).copied().unwrap_or(0) {
                    0 => {
                        state.insert(p, 1);
                        stack.push((p, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(x, _)| *x == p).unwrap_or(0);
                        return Some(stack[pos..].iter().map(|(x, _)| *x).collect());
                    }
                    _ => {}
                },
                Some(_) => {}
                None => {
                    state.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
}

/// Child jobnets, linked jobnets and their masters (spec 01 §3.6).
fn validate_hierarchy(out: &mut Vec<Diagnostic>, cat: &Catalog, index: &Index<'_>, opts: Options) {
    let defs = &cat.defs;
    let len = defs.jobnets.len();
    let lookup = |n: &JobnetDef, name: &str| index.get(&(n.project.as_str(), name)).copied();

    // Masters: the jobnets that some linked_jobnet job copies.
    let mut is_master = vec![false; len];
    for n in &defs.jobnets {
        for j in n.jobs.iter().filter(|j| j.kind == JobKind::LinkedJobnet) {
            if let Some(t) = j.master.as_deref().and_then(|m| lookup(n, m)) {
                is_master[t] = true;
            }
        }
    }

    // Edges: jobnet index → jobnet indexes it runs (child, or master of a link).
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); len];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); len];
    let mut parent_of: BTreeMap<usize, (usize, u16)> = BTreeMap::new();
    let mut linked_names: BTreeMap<(&str, &str), (usize, u16)> = BTreeMap::new();
    // Each linked jobnet once (not its 0464 duplicates): (jobnet, job, linked name, master).
    let mut linked: Vec<(usize, u16, &str, usize)> = Vec::new();
    let mut links_per_master = vec![0usize; len];
    for (i, n) in defs.jobnets.iter().enumerate() {
        for j in n.jobs.iter().filter(|j| j.is_jobnet_icon()) {
            let mut s = job_sink(out, cat, i, j.number);
            if j.kind == JobKind::ChildJobnet {
                let Some(target) = j.jobnet.as_deref() else { continue };
                let Some(t) = lookup(n, target) else {
                    s.err("jobnet", format!("child jobnet {target:?} does not exist in project {} (0356)", n.project));
                    continue;
                };
                let child = &defs.jobnets[t];
                if child.start != StartCondition::None {
                    s.err(
                        "jobnet",
                        format!("{target:?} must have start condition none to run inside another jobnet (0355 / 0358)"),
                    );
                }
                if child.copy_start {
                    s.err("jobnet", format!("{target:?} has copy_start; a copy-start jobnet cannot be a child (0515)"));
                }
                if is_master[t] {
                    s.err(
                        "jobnet",
                        format!("{target:?} is a master-linked jobnet; a master cannot also be a child jobnet (0460)"),
                    );
                }
                match parent_of.get(&t) {
                    Some(&(p, k)) => s.err(
                        "jobnet",
                        format!(
                            "{target:?} is already the child of jobnet {} (job {k}); a child jobnet belongs to one \
                             parent (0359)",
                            defs.jobnets[p].name
                        ),
                    ),
                    None => {
                        parent_of.insert(t, (i, j.number));
                    }
                }
                edges[i].push(t);
                children[i].push(t);
            } else {
                let mut first_of_name = false;
                if let Some(linked) = j.jobnet.as_deref() {
                    if let Err(m) = text::check_jobnet_name(linked) {
                        s.err("jobnet", format!("linked jobnet name {linked:?} {m} (0456)"));
                    }
                    if lookup(n, linked).is_some() {
                        s.err(
                            "jobnet",
                            format!(
                                "a jobnet named {linked:?} already exists in project {}; a linked jobnet needs a \
                                 name of its own (0454)",
                                n.project
                            ),
                        );
                    }
                    match linked_names.get(&(n.project.as_str(), linked)) {
                        Some(&(p, k)) => s.err(
                            "jobnet",
                            format!(
                                "linked jobnet {linked:?} is already defined by jobnet {} (job {k}); linked jobnet \
                                 names are unique in a project (0464)",
                                defs.jobnets[p].name
                            ),
                        ),
                        None => {
                            linked_names.insert((n.project.as_str(), linked), (i, j.number));
                            first_of_name = true;
                        }
                    }
                }
                let Some(master) = j.master.as_deref() else { continue };
                let Some(t) = lookup(n, master) else {
                    s.err(
                        "master",
                        format!("master-linked jobnet {master:?} does not exist in project {} (0450)", n.project),
                    );
                    continue;
                };
                let m = &defs.jobnets[t];
                if m.start != StartCondition::None {
                    s.err(
                        "master",
                        format!("{master:?} must have start condition none to run inside another jobnet (0451)"),
                    );
                }
                if m.copy_start {
                    s.err(
                        "master",
                        format!("{master:?} has copy_start; a copy-start jobnet cannot be a linked jobnet (0516)"),
                    );
                }
                if let (true, Some(name)) = (first_of_name, j.jobnet.as_deref()) {
                    linked.push((i, j.number, name, t));
                }
                links_per_master[t] += 1;
                if opts.enforce_limits && links_per_master[t] > limits::LINKS_PER_MASTER {
                    s.err(
                        "master",
                        format!(
                            "{master:?} already has {} linked jobnets; at most {} per master-linked jobnet (0459)",
                            limits::LINKS_PER_MASTER,
                            limits::LINKS_PER_MASTER
                        ),
                    );
                }
                edges[i].push(t);
            }
        }
    }

    validate_generated_child_names(out, cat, index, &linked, &linked_names, &children);
    validate_links_below_masters(out, cat, &is_master, &children);
    validate_depth_and_cycles(out, cat, &edges);
}

/// The names generated for the copies of the child jobnets below each
/// linked jobnet (spec 01 §3.6; \[design\], open question 12): inside linked
/// jobnet `L`, every child jobnet `C` below the master — at any level — is
/// copied as `{L}_{C}` ([`crate::defs::linked_child_name`]). Such a name must
/// not be the name of a jobnet, of a linked jobnet or of another generated
/// copy (0455), and must fit the jobnet-name limit (0456). Reported on the
/// linked_jobnet job, field `jobnet`.
fn validate_generated_child_names(
    out: &mut Vec<Diagnostic>,
    cat: &Catalog,
    index: &Index<'_>,
    linked: &[(usize, u16, &str, usize)],
    linked_names: &BTreeMap<(&str, &str), (usize, u16)>,
    children: &[Vec<usize>],
) {
    let defs = &cat.defs;
    // Generated name → (linked jobnet, child jobnet) that first took it.
    let mut generated: BTreeMap<(&str, String), (&str, &str)> = BTreeMap::new();
    for &(i, number, name, master) in linked {
        let project = defs.jobnets[i].project.as_str();
        // Every child jobnet below the master, level by level (cycles are 0361's).
        let mut below = Vec::new();
        let mut seen = BTreeSet::from([master]);
        let mut todo = vec![master];
        while let Some(x) = todo.pop() {
            for &c in &children[x] {
                if seen.insert(c) {
                    below.push(c);
                    todo.push(c);
                }
            }
        }
        below.sort_unstable();
        for c in below {
            let child = defs.jobnets[c].name.as_str();
            let gen_name = crate::defs::linked_child_name(name, child);
            let mut s = job_sink(out, cat, i, number);
            let len = text::legacy_len(&gen_name);
            if len > limits::JOBNET_NAME {
                s.err(
                    "jobnet",
                    format!(
                        "linked jobnet name {name:?} too long for its copy of child jobnet {child:?}: the generated \
                         name {gen_name:?} is {len} bytes; at most {} allowed (0456)",
                        limits::JOBNET_NAME
                    ),
                );
            }
            let taken_by = if index.contains_key(&(project, gen_name.as_str())) {
                Some(format!("a jobnet named {gen_name:?} already exists in project {project}"))
            } else if let Some(&(p, k)) = linked_names.get(&(project, gen_name.as_str())) {
                Some(format!("{gen_name:?} is the linked jobnet of jobnet {} (job {k})", defs.jobnets[p].name))
            } else if let Some(&(l, ch)) = generated.get(&(project, gen_name.clone())) {
                Some(format!("{gen_name:?} is also generated for linked jobnet {l:?}'s copy of child jobnet {ch:?}"))
            } else {
                None
            };
            match taken_by {
                Some(why) => s.err(
                    "jobnet",
                    format!(
                        "{why}; linked jobnet {name:?} needs that name for its copy of child jobnet {child:?} \
                         ({{linked}}_{{child}}) (0455)"
                    ),
                ),
                None => {
                    generated.insert((project, gen_name), (name, child));
                }
            }
        }
    }
}

/// A linked jobnet cannot contain another linked jobnet: no linked_jobnet job
/// in a master's flow or in any child jobnet below it.
fn validate_links_below_masters(out: &mut Vec<Diagnostic>, cat: &Catalog, is_master: &[bool], children: &[Vec<usize>]) {
    let defs = &cat.defs;
    let mut reported = BTreeSet::new();
    for m in (0..defs.jobnets.len()).filter(|&m| is_master[m]) {
        let mut seen = BTreeSet::from([m]);
        let mut todo = vec![m];
        while let Some(x) = todo.pop() {
            let n = &defs.jobnets[x];
            for j in n.jobs.iter().filter(|j| j.kind == JobKind::LinkedJobnet) {
                if !reported.insert((x, j.number)) {
                    continue;
                }
                let mut s = job_sink(out, cat, x, j.number);
                if x == m {
                    s.err(
                        "kind",
                        format!(
                            "jobnet {} is a master-linked jobnet; a linked jobnet cannot contain another linked jobnet",
                            n.name
                        ),
                    );
                } else {
                    s.err(
                        "kind",
                        format!(
                            "jobnet {} is a child below master-linked jobnet {}; a linked jobnet cannot contain \
                             another linked jobnet (0465)",
                            n.name, defs.jobnets[m].name
                        ),
                    );
                }
            }
            for &c in &children[x] {
                if seen.insert(c) {
                    todo.push(c);
                }
            }
        }
    }
}

/// Hierarchy cycles (0361) and depth (0360), counting levels through child and linked jobnets.
fn validate_depth_and_cycles(out: &mut Vec<Diagnostic>, cat: &Catalog, edges: &[Vec<usize>]) {
    let defs = &cat.defs;
    // Cycles and depth (level 1 = a jobnet nobody runs).
    let mut depth_memo: Vec<Option<usize>> = vec![None; defs.jobnets.len()];
    for i in 0..defs.jobnets.len() {
        let mut path = Vec::new();
        if let Err(cycle_at) = depth(i, edges, &mut depth_memo, &mut path)
            && i == cycle_at
        {
            sink(out, cat, i, &defs.jobnets[i])
                .err("job", "the jobnet contains itself through child or linked jobnets (0361 / 3003)");
        }
    }
    let mut has_parent = vec![false; defs.jobnets.len()];
    for e in edges {
        for &t in e {
            has_parent[t] = true;
        }
    }
    for i in 0..defs.jobnets.len() {
        if !has_parent[i]
            && let Some(d) = depth_memo[i]
            && d > limits::HIERARCHY_DEPTH
        {
            let n = &defs.jobnets[i];
            sink(out, cat, i, n).err(
                "job",
                format!("hierarchy is {d} levels deep; at most {} allowed (0360 / 3003)", limits::HIERARCHY_DEPTH),
            );
        }
    }
}

/// Levels from `i` down (1 = no jobnet icons). `Err(node)` when a cycle reaches `node`.
fn depth(i: usize, edges: &[Vec<usize>], memo: &mut [Option<usize>], path: &mut Vec<usize>) -> Result<usize, usize> {
    if let Some(d) = memo[i] {
        return Ok(d);
    }
    if path.contains(&i) {
        return Err(i);
    }
    path.push(i);
    let mut deepest = 0;
    for &t in &edges[i] {
        deepest = deepest.max(depth(t, edges, memo, path)?);
    }
    path.pop();
    memo[i] = Some(deepest + 1);
    Ok(deepest + 1)
}

/// `kind` with its indefinite article, for messages ("an informatica", "a command").
fn with_article(kind: impl std::fmt::Display) -> String {
    let kind = kind.to_string();
    let vowel = kind.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_use_the_right_article_for_the_job_kind() {
        assert_eq!(with_article("informatica"), "an informatica");
        assert_eq!(with_article("command"), "a command");
    }

    fn diags(text: &str) -> Vec<Diagnostic> {
        let mut cat = Catalog::new();
        cat.add_text("t.toml", text);
        cat.diagnostics(Options::default())
    }

    fn render(d: &[Diagnostic]) -> String {
        d.iter().map(|x| format!("  {x}\n")).collect()
    }

    /// A diagnostic on an object ending with `object`, on `field`, whose message contains `fragment`.
    #[track_caller]
    fn assert_diag(d: &[Diagnostic], object: &str, field: &str, fragment: &str) {
        assert!(
            d.iter().any(|x| x.object.ends_with(object) && x.field == field && x.message.contains(fragment)),
            "expected a diagnostic on {object:?}, field {field:?}, containing {fragment:?}; got:\n{}",
            render(d)
        );
    }

    /// No diagnostic on `field` whose message contains `fragment`.
    #[track_caller]
    fn assert_no_diag(d: &[Diagnostic], field: &str, fragment: &str) {
        assert!(
            !d.iter().any(|x| x.field == field && x.message.contains(fragment)),
            "unexpected diagnostic on field {field:?} containing {fragment:?}; got:\n{}",
            render(d)
        );
    }

    #[track_caller]
    fn assert_clean(d: &[Diagnostic]) {
        assert!(d.is_empty(), "expected no diagnostics; got:\n{}", render(d));
    }

    /// A jobnet `P/<name>` with the given extra lines (TOML).
    fn net(name: &str, body: &str) -> String {
        format!("[[jobnet]]\nproject = \"P\"\nname = \"{name}\"\n{body}\n")
    }

    /// A job of the last jobnet.
    fn job(number: u16, body: &str) -> String {
        format!("[[jobnet.job]]\nnumber = {number}\n{body}\n")
    }

    fn cmd(number: u16, body: &str) -> String {
        job(number, &format!("command = \"run\"\n{body}"))
    }

    fn child_icon(number: u16, child: &str) -> String {
        job(number, &format!("kind = \"child_jobnet\"\njobnet = \"{child}\""))
    }

    fn link_icon(number: u16, linked: &str, master: &str) -> String {
        job(number, &format!("kind = \"linked_jobnet\"\njobnet = \"{linked}\"\nmaster = \"{master}\""))
    }

    #[test]
    fn all_errors_reported_three_errors_in_one_file_give_three_diagnostics() {
        let text = net("N", "") + &cmd(1, "normal_limit = 201\npriority = 40") + &cmd(2, "queue = \"queue6\"");
        let d = diags(&text);
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
        assert!(d.iter().all(|x| x.file.as_deref() == Some("t.toml")));
        assert_diag(&d, "project P / jobnet N / job 1", "normal_limit", "0-200");
        assert_diag(&d, "project P / jobnet N / job 1", "priority", "0-39");
        assert_diag(&d, "project P / jobnet N / job 2", "queue", "online1, queue1");
    }

    #[test]
    fn adapter_fields_only_on_kinds_that_use_them() {
        let rest = job(1, "kind = \"rest\"\nconnection_info = '{not json'\nbody_monitoring = '{}'");
        let snow = job(2, "kind = \"snowflake\"\nsnowflake_target = \"sql\"");
        let bad = cmd(3, "connection_info = '{}'\nsnowflake_target = \"task\"");
        let icon = job(4, "kind = \"child_jobnet\"\njobnet = \"C\"\nbody_execution = '{}'");
        let d = diags(&(net("N", "") + &rest + &snow + &bad + &icon + &net("C", "")));
        // An invalid connection-info text is saved as is (checked when the job runs).
        assert!(!d.iter().any(|x| x.object.ends_with("job 1")), "got:\n{}", render(&d));
        assert_diag(&d, "project P / jobnet N / job 3", "connection_info", "this is a command job");
        assert_diag(&d, "project P / jobnet N / job 3", "snowflake_target", "only snowflake jobs");
        assert_diag(&d, "project P / jobnet N / job 4", "body_execution", "this is a child_jobnet job");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    #[test]
    fn custom_jobs_name_a_handler() {
        let ok = job(1, "kind = \"custom\"\nhandler = \"resize-images\"\ncommand = \"--width 10\"");
        let missing = job(2, "kind = \"custom\"");
        let bad = job(3, "kind = \"custom\"\nhandler = \"a b\"");
        let stray = cmd(4, "handler = \"x\"");
        let d = diags(&(net("N", "") + &ok + &missing + &bad + &stray));
        assert_diag(&d, "job 2", "handler", "must name its handler");
        assert_diag(&d, "job 3", "handler", "ASCII letters");
        assert_diag(&d, "job 4", "handler", "only custom jobs");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    #[test]
    fn example_definitions_are_valid() {
        assert_clean(&diags(include_str!("../../../examples/sales/definitions.toml")));
    }

    #[test]
    fn docs_complete_example_is_valid() {
        let doc = include_str!("../../../docs/definitions.md");
        let after = doc.split("## Complete example").nth(1).unwrap_or_default();
        let block = after.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).unwrap_or_default();
        assert!(block.contains("[[jobnet]]"), "docs/definitions.md lost its complete example");
        assert_clean(&diags(block));
    }

    #[test]
    fn docs_json_example_is_valid() {
        let doc = include_str!("../../../docs/definitions.md");
        let block = doc.split("```json\n").nth(1).and_then(|b| b.split("```").next()).unwrap_or_default();
        let mut cat = Catalog::new();
        cat.add_text("example.json", block);
        assert_eq!(cat.defs.jobnets.len(), 1, "read errors: {:?}", cat.read_errors);
        assert_clean(&cat.diagnostics(Options::default()));
    }

    // MODEL-008 MODEL-200
    #[test]
    fn model_008_normal_limit_above_200_rejected() {
        let d = diags(&(net("N", "") + &cmd(1, "normal_limit = 201") + &cmd(2, "normal_limit = 200")));
        assert_diag(&d, "job 1", "normal_limit", "0-200 allowed");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    // MODEL-025
    #[test]
    fn model_025_exit_code_condition_needs_single_predecessor() {
        let text = net("N", "")
            + &cmd(1, "")
            + &cmd(2, "")
            + &cmd(3, "after = [1, 2]\nexit_code_condition = { min = 0, max = 0 }")
            + &cmd(4, "exit_code_condition = { min = 0, max = 0 }")
            + &cmd(5, "after = [1]\nexit_code_condition = { min = 1, max = 5 }");
        let d = diags(&text);
        assert_diag(&d, "job 3", "exit_code_condition", "exactly one predecessor");
        assert_diag(&d, "job 4", "exit_code_condition", "exactly one predecessor");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    // MODEL-026
    #[test]
    fn model_026_exit_code_condition_excludes_or_wait_and_recovery() {
        let text = net("N", "")
            + &cmd(1, "")
            + &cmd(2, "after = [1]\nwait = \"or\"\nexit_code_condition = { min = 0, max = 0 }")
            + &cmd(3, "recovery = { target = 1 }\nexit_code_condition = { min = 0, max = 0 }")
            + &cmd(4, "after = [1]\nexit_code_condition = { min = 5, max = 1 }");
        let d = diags(&text);
        assert_diag(&d, "job 2", "exit_code_condition", "wait = \"or\"");
        assert_diag(&d, "job 3", "exit_code_condition", "recovery");
        assert_diag(&d, "job 4", "exit_code_condition", "min must be ≤ max");
    }

    // MODEL-055
    #[test]
    fn model_055_one_restart_point_per_jobnet() {
        let text = net("N", "") + &cmd(1, "restart_point = true") + &cmd(2, "after = [1]\nrestart_point = true");
        let d = diags(&text);
        assert_diag(&d, "job 2", "restart_point", "at most one restart point");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    // MODEL-064
    #[test]
    fn model_064_recovery_job_rules() {
        let text = net("N", "")
            + &cmd(1, "")
            + &cmd(2, "recovery = { target = 9 }")
            + &cmd(3, "recovery = { target = 3 }")
            + &cmd(4, "recovery = { target = 1, rerun = true }")
            + &cmd(5, "recovery = { target = 4 }")
            + &cmd(6, "after = [1]\nrecovery = { target = 1 }")
            + &cmd(7, "after = [4]");
        let d = diags(&text);
        assert_diag(&d, "job 2", "recovery.target", "does not exist");
        assert_diag(&d, "job 3", "recovery.target", "its own recovery job");
        assert_diag(&d, "job 5", "recovery.target", "itself a recovery job");
        assert_diag(&d, "job 6", "after", "cannot have predecessors");
        assert_diag(&d, "job 7", "after", "cannot be predecessors");
        assert_no_diag(&d, "recovery.target", "job 1");
    }

    #[test]
    fn spec_2_5_jobnet_icons_have_no_command_fields() {
        let text = net("C", "")
            + &cmd(1, "")
            + &net("N", "")
            + &job(
                1,
                "kind = \"child_jobnet\"\njobnet = \"C\"\ncommand = \"x\"\nparams = \"-v\"\ndirectory = \"/tmp\"\n\
                 exec_user = \"u\"\nstdout_file = \"o\"\nenv = { A = \"1\" }\nmaster = \"C\"",
            )
            + &cmd(2, "jobnet = \"C\"\nvalid_only_on_startup_days = true\nmaster = \"C\"");
        let d = diags(&text);
        for field in ["command", "params", "directory", "exec_user", "stdout_file", "env"] {
            assert_diag(&d, "jobnet N / job 1", field, "command-execution fields are not allowed");
        }
        assert_diag(&d, "jobnet N / job 1", "master", "only linked_jobnet jobs");
        assert_diag(&d, "jobnet N / job 2", "jobnet", "only child_jobnet and linked_jobnet jobs");
        assert_diag(&d, "jobnet N / job 2", "valid_only_on_startup_days", "only for child_jobnet");
        assert_diag(&d, "jobnet N / job 2", "master", "only linked_jobnet jobs");
    }

    // MODEL-128
    #[test]
    fn model_128_network_fields_only_for_command_jobs() {
        let text = net("N", "")
            + &job(1, "kind = \"rest\"\nnetwork = true\nqueue = \"queue1\"\nrequest_hosts = [\"10.0.0.5\"]")
            + &cmd(2, "network = true\nqueue = \"queue1\"\nrequest_hosts = [\"10.0.0.5\"]");
        let d = diags(&text);
        for field in ["network", "queue", "request_hosts"] {
            assert_diag(&d, "job 1", field, "only command jobs can be network jobs");
        }
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    // MODEL-129
    #[test]
    fn model_129_queue_must_be_online1_or_queue1_to_5() {
        let text = net("N", "")
            + &cmd(1, "queue = \"queue6\"")
            + &cmd(2, "queue = \"online1\"")
            + &cmd(3, "queue = \"queue5\"");
        let d = diags(&text);
        assert_diag(&d, "job 1", "queue", "\"queue6\" does not exist; use online1, queue1, queue2");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    // MODEL-134
    #[test]
    fn model_134_request_hosts_ipv4_only() {
        let text = net("N", "network_default_host = \"db01\"")
            + &cmd(1, "request_hosts = [\"host.example\"]")
            + &cmd(2, "request_hosts = [\"::1\"]")
            + &cmd(3, "request_hosts = [\"10.0.0.1\", \"10.0.0.2\", \"10.0.0.3\"]")
            + &cmd(4, "request_hosts = [\"10.0.0.5\", \"10.0.0.5\"]")
            + &cmd(5, "request_hosts = [\"10.0.0.5\", \"10.0.0.6\"]");
        let d = diags(&text);
        assert_diag(&d, "job 1", "request_hosts", "not an IPv4 address");
        assert_diag(&d, "job 2", "request_hosts", "not an IPv4 address");
        assert_diag(&d, "job 3", "request_hosts", "give 1 or 2");
        assert_diag(&d, "job 4", "request_hosts", "must differ");
        assert_diag(&d, "jobnet N", "network_default_host", "not an IPv4 address");
        assert_eq!(d.len(), 5, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_5_priority_and_time_ranges() {
        let text = net("N", "")
            + &cmd(1, "priority = 40\npredicted_secs = 0\ncutoff_secs = 0")
            + &cmd(2, "priority = 39\npredicted_secs = 1\ncutoff_secs = 1");
        let d = diags(&text);
        assert_diag(&d, "job 1", "priority", "0-39 allowed");
        assert_diag(&d, "job 1", "predicted_secs", "at least 1");
        assert_diag(&d, "job 1", "cutoff_secs", "at least 1");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    // MODEL-118
    #[test]
    fn model_118_netvar_prefix_rules() {
        let long = "P".repeat(63);
        let text = net("N", "")
            + &cmd(1, "use_jobnet_variables = true")
            + &cmd(2, "netvar_prefix = \"A\"")
            + &cmd(3, "use_jobnet_variables = true\nnetvar_prefix = \"A.B\"")
            + &cmd(4, &format!("use_jobnet_variables = true\nnetvar_prefix = \"{long}\""))
            + &cmd(5, "use_jobnet_variables = true\nnetvar_prefix = \"A_1\"");
        let d = diags(&text);
        assert_diag(&d, "job 1", "netvar_prefix", "needs netvar_prefix");
        assert_diag(&d, "job 2", "netvar_prefix", "only together with use_jobnet_variables");
        assert_diag(&d, "job 3", "netvar_prefix", "ASCII letters, digits and '_'");
        assert_diag(&d, "job 4", "netvar_prefix", "must fit 64 bytes");
        assert_eq!(d.len(), 4, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_5_job_names_unique_in_the_jobnet() {
        let text =
            net("N", "") + &cmd(1, "name = \"x\"") + &cmd(2, "name = \"x\"") + &cmd(3, "name = \"J4\"") + &cmd(4, "");
        let d = diags(&text);
        assert_diag(&d, "job 2", "name", "already used by job 1");
        assert_diag(&d, "job 3", "name", "default name of job 4");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    // MODEL-049
    #[test]
    fn model_049_multi_time_1_to_6_distinct() {
        let seven = "start = { times = [\"01:00\", \"02:00\", \"03:00\", \"04:00\", \"05:00\", \"06:00\", \"07:00\"] }";
        let text = net("A", seven)
            + &cmd(1, "")
            + &net("B", "start = { times = [\"09:00\", \"0900\"] }")
            + &cmd(1, "")
            + &net("C", "start = { times = [] }")
            + &cmd(1, "")
            + &net("D", "start = { times = [\"09:00\", \"12:00\"] }")
            + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "start.times", "7 start times; 1-6 allowed");
        assert_diag(&d, "jobnet B", "start.times", "09:00 is listed twice");
        assert_diag(&d, "jobnet C", "start.times", "0 start times");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    // MODEL-048 MODEL-240
    #[test]
    fn model_048_interval_every_min_1_to_240() {
        let iv = |every: u16| {
            format!("start = {{ interval = {{ from = \"09:00\", to = \"11:00\", every_min = {every} }} }}")
        };
        let text =
            net("A", &iv(241)) + &cmd(1, "") + &net("B", &iv(0)) + &cmd(1, "") + &net("C", &iv(240)) + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "start.interval.every_min", "241 minutes; 1-240 allowed");
        assert_diag(&d, "jobnet B", "start.interval.every_min", "0 minutes; 1-240 allowed");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_3_9_interval_order_follows_the_day_change_time() {
        let iv = |from: &str, to: &str, cal: &str| {
            format!(
                "start = {{ interval = {{ from = \"{from}\", to = \"{to}\", every_min = 60 }} }}\n\
                 startup_days = {{ calendars = [{cal}] }}"
            )
        };
        let text = String::from("[[calendar]]\nname = \"C5\"\nday_change = \"05:00\"\n")
            + &net("A", &iv("22:00", "02:00", "\"C5\""))
            + &cmd(1, "")
            + &net("B", &iv("04:00", "06:00", "\"C5\""))
            + &cmd(1, "")
            + &net("C", &iv("22:00", "02:00", ""))
            + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet B", "start.interval.to", "belongs to the next calendar day");
        assert_diag(&d, "jobnet C", "start.interval.to", "must not precede `from`");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_4_1_message_only_rules() {
        let text = net(
            "A",
            "start = { message_only = { scheduled_start = \"10:00\" } }\nmessages = { events = [\"E1\"] }",
        ) + &cmd(1, "")
            + &net("B", "start = { message_only = { once_a_day = true } }")
            + &cmd(1, "")
            + &net(
                "C",
                "start = { message_only = { once_a_day = true, scheduled_start = \"10:00\" } }\nmessages = { events = [\"E1\"] }",
            )
            + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "start.message_only.scheduled_start", "only with once_a_day = true");
        assert_diag(&d, "jobnet B", "messages", "needs a `messages` section");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_4_2_message_events_1_to_70_valid_and_distinct() {
        let many: Vec<String> = (0..71).map(|k| format!("\"E{k}\"")).collect();
        let msg = |events: &str| format!("start = {{ time = \"09:00\" }}\nmessages = {{ events = [{events}] }}");
        let text = net("A", &msg(""))
            + &cmd(1, "")
            + &net("B", &msg(&many.join(", ")))
            + &cmd(1, "")
            + &net("C", &msg("\"a b\", \"ABCDEFGHIJKLM\", \"E1\", \"E1\""))
            + &cmd(1, "")
            + &net("D", "messages = { events = [\"E1\"] }")
            + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "messages.events", "1-70 message events");
        assert_diag(&d, "jobnet B", "messages.events", "71 message events; at most 70");
        assert_diag(&d, "jobnet C", "messages.events", "\"a b\" must not contain");
        assert_diag(&d, "jobnet C", "messages.events", "at most 12 allowed");
        assert_diag(&d, "jobnet C", "messages.events", "\"E1\" is listed twice");
        assert_diag(&d, "jobnet D", "messages", "start = \"none\" never starts by itself");
        assert_eq!(d.len(), 6, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_4_2_valid_during_execution_not_with_and_time() {
        let text = net(
            "A",
            "start = { time = \"09:00\" }\nmessages = { events = [\"E1\"], valid_during_execution = true, with_time = \"and_time\" }",
        ) + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "messages.valid_during_execution", "with_time = \"and_time\"");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_3_16_3_copy_start_excludes_valid_during_execution_0246() {
        let text = net(
            "A",
            "copy_start = true\nstart = { message_only = {} }\nmessages = { events = [\"E1\"], valid_during_execution = true }",
        ) + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "messages.valid_during_execution", "(0246)");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    // MODEL-124
    #[test]
    fn model_124_absolute_estimated_end_needs_single_start_time_0245() {
        let text = net("A", "start = { times = [\"09:00\", \"12:00\"] }\nestimated_end = { at = \"13:00\" }")
            + &cmd(1, "")
            + &net("B", "start = { time = \"09:00\" }\nestimated_end = { at = \"08:00\" }")
            + &cmd(1, "")
            + &net("C", "start = { time = \"09:00\" }\nestimated_end = { at = \"10:00\" }")
            + &cmd(1, "")
            + &net(
                "D",
                "start = { time = \"23:00\" }\nestimated_end = { at = \"01:00\" }\nstartup_days = { calendars = [\"C5\"] }",
            )
            + &cmd(1, "")
            + &net("E", "start = { times = [\"09:00\"] }\nestimated_end = { after_minutes = 0 }")
            + &cmd(1, "")
            + "[[calendar]]\nname = \"C5\"\nday_change = \"05:00\"\n";
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "estimated_end.at", "single start time");
        assert_diag(&d, "jobnet A", "estimated_end.at", "(0245)");
        assert_diag(&d, "jobnet B", "estimated_end.at", "must come after the start");
        assert_diag(&d, "jobnet E", "estimated_end.after_minutes", "at least 1");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    // MODEL-066
    #[test]
    fn model_066_child_start_condition_must_be_none_0358() {
        let text = net("C", "start = { time = \"09:00\" }") + &cmd(1, "") + &net("N", "") + &child_icon(1, "C");
        let d = diags(&text);
        assert_diag(&d, "jobnet N / job 1", "jobnet", "start condition none");
        assert_diag(&d, "jobnet N / job 1", "jobnet", "0358");
    }

    // MODEL-067
    #[test]
    fn model_067_hierarchy_deeper_than_5_rejected_0360() {
        let chain = |levels: usize| {
            let mut text = String::new();
            for k in 1..levels {
                text += &net(&format!("L{k}"), "");
                text += &child_icon(1, &format!("L{}", k + 1));
            }
            text + &net(&format!("L{levels}"), "") + &cmd(1, "")
        };
        let d = diags(&chain(6));
        assert_diag(&d, "jobnet L1", "job", "6 levels deep; at most 5 allowed (0360 / 3003)");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
        assert_clean(&diags(&chain(5)));
    }

    // MODEL-068
    #[test]
    fn model_068_hierarchy_cycle_rejected_0361() {
        let text = net("A", "") + &child_icon(1, "B") + &net("B", "") + &child_icon(1, "A");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "job", "contains itself");
        assert_diag(&d, "jobnet B", "job", "(0361 / 3003)");
        let d = diags(&(net("S", "") + &child_icon(1, "S")));
        assert_diag(&d, "jobnet S", "job", "(0361 / 3003)");
    }

    // MODEL-069
    #[test]
    fn model_069_child_in_two_parents_rejected_0359() {
        let text =
            net("C", "") + &cmd(1, "") + &net("P1", "") + &child_icon(1, "C") + &net("P2", "") + &child_icon(1, "C");
        let d = diags(&text);
        assert_diag(&d, "jobnet P2 / job 1", "jobnet", "already the child of jobnet P1 (job 1)");
        assert_diag(&d, "jobnet P2 / job 1", "jobnet", "(0359)");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    // MODEL-070 MODEL-100
    #[test]
    fn model_070_more_than_100_links_rejected_0459() {
        let with_links = |count: u16| {
            let mut text = net("M", "") + &cmd(1, "") + &net("N", "");
            for k in 1..=count {
                text += &link_icon(k, &format!("L{k}"), "M");
            }
            text
        };
        let d = diags(&with_links(101));
        assert_diag(&d, "jobnet N / job 101", "master", "at most 100 per master-linked jobnet (0459)");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
        assert_clean(&diags(&with_links(100)));
    }

    // MODEL-073
    #[test]
    fn model_073_copy_start_jobnet_cannot_be_child_0515_or_linked_0516() {
        let text = net("C", "copy_start = true")
            + &cmd(1, "")
            + &net("M", "copy_start = true")
            + &cmd(1, "")
            + &net("N", "")
            + &child_icon(1, "C")
            + &link_icon(2, "L", "M");
        let d = diags(&text);
        assert_diag(&d, "jobnet N / job 1", "jobnet", "(0515)");
        assert_diag(&d, "jobnet N / job 2", "master", "(0516)");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_3_6_linked_jobnet_names_0454_0456_0464() {
        let text = net("M", "")
            + &cmd(1, "")
            + &net("N", "")
            + &link_icon(1, "M", "M")
            + &link_icon(2, "L1", "M")
            + &link_icon(3, "L1", "M")
            + &link_icon(4, "a:b", "M")
            + &link_icon(5, "L5", "NOPE");
        let d = diags(&text);
        assert_diag(
            &d,
            "jobnet N / job 1",
            "jobnet",
            "already exists in project P; a linked jobnet needs a name of its own (0454)",
        );
        assert_diag(&d, "jobnet N / job 3", "jobnet", "already defined by jobnet N (job 2)");
        assert_diag(&d, "jobnet N / job 3", "jobnet", "(0464)");
        assert_diag(&d, "jobnet N / job 4", "jobnet", "(0456)");
        assert_diag(&d, "jobnet N / job 5", "master", "does not exist in project P (0450)");
        assert_eq!(d.len(), 4, "got:\n{}", render(&d));
    }

    // [design] (open question 12): inside linked jobnet L every child C below
    // the master is copied as `{L}_{C}`; that name must be free (0455).
    #[test]
    fn spec_3_6_generated_child_copy_names_must_be_free_0455() {
        let text = net("M", "")
            + &child_icon(1, "C")
            + &net("C", "")
            + &child_icon(1, "G")
            + &net("G", "")
            + &cmd(1, "")
            + &net("M2", "")
            + &child_icon(1, "B_C")
            + &net("B_C", "")
            + &cmd(1, "")
            + &net("L_C", "")
            + &cmd(1, "")
            + &net("N", "")
            + &link_icon(1, "L", "M")
            + &link_icon(2, "L_G", "M")
            + &link_icon(3, "A", "M2")
            + &link_icon(4, "A_B", "M");
        let d = diags(&text);
        // L's copy of C is L_C: an existing jobnet.
        assert_diag(
            &d,
            "jobnet N / job 1",
            "jobnet",
            "a jobnet named \"L_C\" already exists in project P; linked jobnet \"L\" needs that name for its copy of \
             child jobnet \"C\" ({linked}_{child}) (0455)",
        );
        // L's copy of grandchild G is L_G (not L_C_G): another linked jobnet's name.
        assert_diag(&d, "jobnet N / job 1", "jobnet", "\"L_G\" is the linked jobnet of jobnet N (job 2)");
        // A's copy of B_C and A_B's copy of C are both A_B_C.
        assert_diag(
            &d,
            "jobnet N / job 4",
            "jobnet",
            "\"A_B_C\" is also generated for linked jobnet \"A\"'s copy of child jobnet \"B_C\"; linked jobnet \
             \"A_B\" needs that name for its copy of child jobnet \"C\"",
        );
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
        assert!(d.iter().all(|x| x.message.ends_with("(0455)")), "got:\n{}", render(&d));
        assert!(d.iter().all(|x| x.file.as_deref() == Some("t.toml")), "got:\n{}", render(&d));

        // Without the clashes the same hierarchy is valid.
        let text = net("M", "")
            + &child_icon(1, "C")
            + &net("C", "")
            + &child_icon(1, "G")
            + &net("G", "")
            + &cmd(1, "")
            + &net("N", "")
            + &link_icon(1, "L1", "M")
            + &link_icon(2, "L2", "M");
        assert_clean(&diags(&text));
    }

    // [design]: the generated `{L}_{C}` must fit the jobnet-name limit (0456),
    // though L and C each fit.
    #[test]
    fn spec_3_6_generated_child_copy_name_too_long_0456() {
        let linked = "L".repeat(40);
        let text = net("M", "")
            + &child_icon(1, "C")
            + &child_icon(2, "CHILD_NAME_1")
            + &net("C", "")
            + &cmd(1, "")
            + &net("CHILD_NAME_1", "")
            + &cmd(1, "")
            + &net("N", "")
            + &link_icon(1, &linked, "M");
        let d = diags(&text);
        assert_diag(
            &d,
            "project P / jobnet N / job 1",
            "jobnet",
            &format!(
                "linked jobnet name {linked:?} too long for its copy of child jobnet \"CHILD_NAME_1\": the generated \
                 name \"{linked}_CHILD_NAME_1\" is 53 bytes; at most {} allowed (0456)",
                limits::JOBNET_NAME
            ),
        );
        assert_eq!(d.len(), 1, "{linked}_C (42 bytes) fits; got:\n{}", render(&d));
    }

    #[test]
    fn spec_3_6_master_cannot_be_child_0460() {
        let text = net("M", "") + &cmd(1, "") + &net("N", "") + &link_icon(1, "L", "M") + &child_icon(2, "M");
        let d = diags(&text);
        assert_diag(
            &d,
            "jobnet N / job 2",
            "jobnet",
            "master-linked jobnet; a master cannot also be a child jobnet (0460)",
        );
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_3_6_no_linked_jobnet_inside_a_linked_jobnet_0465() {
        let text = net("M2", "")
            + &cmd(1, "")
            + &net("M", "")
            + &link_icon(1, "LX", "M2")
            + &child_icon(2, "C")
            + &net("C", "")
            + &link_icon(1, "LY", "M2")
            + &net("N", "")
            + &link_icon(1, "L", "M");
        let d = diags(&text);
        assert_diag(&d, "jobnet M / job 1", "kind", "a linked jobnet cannot contain another linked jobnet");
        assert_diag(&d, "jobnet C / job 1", "kind", "below master-linked jobnet M");
        assert_diag(&d, "jobnet C / job 1", "kind", "(0465)");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    // MODEL-144
    #[test]
    fn model_144_missing_child_0356_and_master_0450() {
        let text = net("N", "") + &child_icon(1, "NOPE") + &link_icon(2, "L", "GONE");
        let d = diags(&text);
        assert_diag(&d, "jobnet N / job 1", "jobnet", "\"NOPE\" does not exist in project P (0356)");
        assert_diag(&d, "jobnet N / job 2", "master", "\"GONE\" does not exist in project P (0450)");
    }

    // MODEL-142
    #[test]
    fn model_142_duplicate_jobnet_name_2003() {
        let d = diags(&(net("N", "") + &cmd(1, "") + &net("N", "") + &cmd(1, "")));
        assert_diag(&d, "project P / jobnet N", "name", "(2003)");
        assert_eq!(d.len(), 1, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_2_jobnet_names_and_comments() {
        let text =
            String::from("[[jobnet]]\nproject = \"#P\"\nname = \"a:b\"\ncomment = \"two words\"\n") + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet a:b", "project", "must not start with '#'");
        assert_diag(&d, "jobnet a:b", "name", "must not contain ':'");
        assert_diag(&d, "jobnet a:b", "comment", "must not contain ' '");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    // MODEL-075
    #[test]
    fn model_075_calendar_names_unique_system_calendar_redefined_once() {
        let cal = |name: &str| format!("[[calendar]]\nname = \"{name}\"\nholidays = [2026-05-03, 2026-05-03]\n");
        let d = diags(&(cal("SYSTEM_CALENDAR") + &cal("X") + &cal("X")));
        assert_diag(&d, "calendar X", "name", "defined more than once");
        assert_eq!(d.len(), 1, "holidays listed twice are fine; got:\n{}", render(&d));
        let d = diags(&(cal("SYSTEM_CALENDAR") + &cal("SYSTEM_CALENDAR")));
        assert_diag(&d, "calendar SYSTEM_CALENDAR", "name", "may be redefined once");
        let d = diags(&(String::from("[[template]]\nname = \"T\"\n[[template]]\nname = \"T\"\n")));
        assert_diag(&d, "template T", "name", "defined more than once");
    }

    // MODEL-083
    #[test]
    fn model_083_startup_day_rule_forms() {
        let good = "startup_days = { weekly = [\"mon\", \"Friday\", \"SUN\"], monthly_weekdays = [\"1st Mon\", \
                    \"2nd tue\", \"3rd Wed\", \"4th Thu\", \"5th Fri\", \"last Fri\"], annual_dates = [\"02-29\", \
                    \"12-31\"], annual_weekdays = [\"03 last Fri\", \"11 1st Mon\"], monthly_dates = [1, \"last\"] }";
        assert_clean(&diags(&(net("A", good) + &cmd(1, ""))));
        let bad = "startup_days = { weekly = [\"Mo\"], monthly_weekdays = [\"6th Mon\", \"Mon\"], \
                   annual_dates = [\"02-30\", \"2-1\", \"13-01\"], annual_weekdays = [\"3 last Fri\", \"03 last Foo\"] }";
        let d = diags(&(net("B", bad) + &cmd(1, "")));
        assert_diag(&d, "jobnet B", "startup_days.weekly", "\"Mo\" is not a weekday");
        assert_diag(&d, "jobnet B", "startup_days.monthly_weekdays", "1st, 2nd, 3rd, 4th, 5th or last");
        assert_diag(&d, "jobnet B", "startup_days.monthly_weekdays", "\"Mon\": expected \"<week> <weekday>\"");
        assert_diag(&d, "jobnet B", "startup_days.annual_dates", "\"02-30\" is not a date in any year");
        assert_diag(&d, "jobnet B", "startup_days.annual_dates", "\"2-1\": expected \"MM-DD\"");
        assert_diag(&d, "jobnet B", "startup_days.annual_dates", "\"13-01\" is not a date");
        assert_diag(&d, "jobnet B", "startup_days.annual_weekdays", "the month must be 01-12");
        assert_diag(&d, "jobnet B", "startup_days.annual_weekdays", "\"Foo\" is not a weekday");
        assert_eq!(d.len(), 8, "got:\n{}", render(&d));
    }

    // MODEL-083
    #[test]
    fn model_083_startup_day_references_and_periods() {
        let text = String::from("[[calendar]]\nname = \"CAL\"\n[[template]]\nname = \"TPL\"\n")
            + &net(
                "A",
                "startup_days = { calendars = [\"CAL\", \"SYSTEM_CALENDAR\", \"NOCAL\"], templates = [\"TPL\", \"NOTPL\"], \
                 valid_period = { from = 2026-12-31, to = 2026-01-01 }, invalid_period = { from = 2026-08-01, to = 2026-08-31 } }",
            )
            + &cmd(1, "")
            + &net("B", "startup_days = { base_jobnet = \"NONE\" }")
            + &cmd(1, "")
            + &net("C", "startup_days = { base_jobnet = \"D\" }")
            + &cmd(1, "")
            + &net("D", "startup_days = { base_jobnet = \"C\" }")
            + &cmd(1, "")
            + &net("E", "startup_days = { base_jobnet = \"C\" }")
            + &cmd(1, "")
            + &net("F", "startup_days = { base_jobnet = \"F\" }")
            + &cmd(1, "");
        let d = diags(&text);
        assert_diag(&d, "jobnet A", "startup_days.calendars", "\"NOCAL\" is not defined");
        assert_diag(&d, "jobnet A", "startup_days.templates", "\"NOTPL\" is not defined");
        assert_diag(&d, "jobnet A", "startup_days.valid_period", "from must not be after to");
        assert_diag(&d, "jobnet B", "startup_days.base_jobnet", "\"NONE\" does not exist in project P");
        assert_diag(&d, "jobnet C", "startup_days.base_jobnet", "must not form a cycle");
        assert_diag(&d, "jobnet D", "startup_days.base_jobnet", "must not form a cycle");
        assert_diag(&d, "jobnet F", "startup_days.base_jobnet", "must not form a cycle");
        assert_eq!(d.len(), 7, "E only leads into the cycle; got:\n{}", render(&d));
    }

    // MODEL-084
    #[test]
    fn model_084_business_days_fine_adjust_and_bit_pattern() {
        let zeros = vec!["0".repeat(31); 12].join("/");
        let good = format!(
            "startup_days = {{ business_days = [\"1st\", \"2nd last\"], fine_adjust = [{{ date = 2026-06-15, start = true }}], \
             bit_pattern = \"2026:{zeros}\" }}"
        );
        assert_clean(&diags(&(net("A", &good) + &cmd(1, ""))));
        let bad = "startup_days = { business_days = [\"24th\"], offset_days = 1, bit_pattern = \"2026:0101\" }";
        let d = diags(&(net("B", bad) + &cmd(1, "")));
        assert_diag(&d, "jobnet B", "startup_days.offset_days", "cannot be combined with business_days");
        assert_diag(&d, "jobnet B", "startup_days.business_days", "\"24th\"");
        assert_diag(&d, "jobnet B", "startup_days.bit_pattern", "12 groups");
        assert_eq!(d.len(), 3, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_3_project_rules() {
        let text = "[[project]]\nname = \"P\"\n[[project]]\nname = \"P\"\nowner = \"root\"\n\
                    access = [{ user = \"u\", right = \"operate\" }, { user = \"u\", right = \"update\" }]\n\
                    [[project]]\nname = \"a b\"\n";
        let d = diags(text);
        assert_diag(&d, "project P", "name", "defined more than once");
        assert_diag(&d, "project P", "owner", "always \"jobuser\"");
        assert_diag(&d, "project P", "access", "listed twice");
        assert_diag(&d, "project a b", "name", "must not contain ' '");
        assert_eq!(d.len(), 4, "got:\n{}", render(&d));
    }

    #[test]
    fn spec_2_11_at_most_1000_projects() {
        let text: String = (0..1001).map(|k| format!("[[project]]\nname = \"P{k}\"\n")).collect();
        let d = diags(&text);
        assert_diag(&d, "environment", "project", "1001 projects; at most 1000");
        let mut cat = Catalog::new();
        cat.add_text("t.toml", &text);
        assert_clean(&cat.diagnostics(Options { enforce_limits: false }));
        let text: String = (0..1000).map(|k| format!("[[project]]\nname = \"P{k}\"\n")).collect();
        assert_clean(&diags(&text));
    }

    #[test]
    fn spec_2_8_job_definition_variable_names() {
        let long = "V".repeat(65);
        let d = diags(&format!("[variables]\nDIR = \"/data\"\n\"A-B\" = \"x\"\n{long} = \"y\"\n"));
        assert_diag(&d, "variables", "A-B", "only ASCII letters, digits and '_'");
        assert_diag(&d, "variables", &long, "at most 64 allowed");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    #[test]
    fn environment_timezone_and_concurrency() {
        let d = diags("[environment]\ntimezone = \"Mars/Olympus\"\nmax_concurrent_jobs = 0\n");
        assert_diag(&d, "environment", "timezone", "unknown IANA time zone");
        assert_diag(&d, "environment", "max_concurrent_jobs", "at least 1");
        assert_eq!(d.len(), 2, "got:\n{}", render(&d));
    }

    #[test]
    fn startup_day_parsers() {
        assert_eq!(parse_weekday(" thursday "), Ok(Weekday::Thu));
        assert_eq!(parse_monthly_weekday("LAST  sat"), Ok((WeekOfMonth::Last, Weekday::Sat)));
        assert_eq!(parse_monthly_weekday("5th Sun"), Ok((WeekOfMonth::Nth(5), Weekday::Sun)));
        assert_eq!(parse_annual_date("02-29"), Ok((2, 29)));
        assert!(parse_annual_date("04-31").is_err());
        assert_eq!(parse_annual_weekday("12 2nd Wed"), Ok((12, WeekOfMonth::Nth(2), Weekday::Wed)));
        assert!(parse_annual_weekday("00 1st Mon").is_err());
    }

    #[test]
    fn spec_3_9_operating_minutes_put_early_times_last() {
        let dct = HourMinute { hour: 5, minute: 0 };
        let at = |h, m| operating_minutes(HourMinute { hour: h, minute: m }, dct);
        assert_eq!(at(5, 0), 0);
        assert!(at(4, 59) > at(23, 0));
        assert!(at(6, 0) < at(1, 0));
    }
}
