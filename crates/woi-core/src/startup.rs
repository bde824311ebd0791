//! Startup days ("起動日") of jobnets: spec 01 §2.7 and §3.12 with decisions
//! D8–D10. Everything here is about **operating days** (see
//! [`crate::calendar`]); a holiday is judged on the operating day (D9).
//!
//! The computation, for one jobnet:
//! 1. **base** days = union of `weekly`, `monthly_dates`, `monthly_weekdays`,
//!    `annual_dates`, `annual_weekdays`, `business_days`, `templates`, the
//!    `base_jobnet`'s startup days and `add` (spec 01 §2.7, §3.12 step 1) —
//!    or **every day** when none of these is given — minus `remove`. So `add`
//!    alone gives just the added days, `remove` alone every day but the
//!    removed ones; `calendars`, `holiday` and the other modifiers are not
//!    base rules;
//! 2. every base day moves by `offset_days`;
//! 3. a base day that is a holiday (union of the holidays of `calendars`,
//!    default SYSTEM_CALENDAR) is kept (`run_anyway`), dropped
//!    (`do_not_start`), or moved to the nearest non-holiday within *n* days
//!    before/after (`shift_before`/`shift_after`), else dropped; duplicates collapse;
//! 4. only days inside `valid_period` and outside `invalid_period` remain;
//! 5. `fine_adjust` entries are applied in order;
//! 6. for the year of a `bit_pattern`, its days replace the result of 1–5.
//!
//! Time is continuous (D8): the days are computed over a window that covers
//! the requested range plus every offset and shift limit on either side, so
//! a shift or offset crosses month and year ends.
//!
//! Rule texts are read with the parsers of [`crate::validate`] (and
//! [`parse_business_day`], [`parse_bit_pattern`]), so computation accepts
//! exactly what validation accepts. A rule text that does not parse
//! contributes no day; it still counts as a rule, so a misspelt rule never
//! turns into "every day".

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Serialize, Serializer};

use crate::calendar::HolidaySet;
use crate::defs::{Environment, JobnetKey, SYSTEM_CALENDAR};
use crate::model::{FineAdjust, HolidayHandling, JobnetDef, MonthDay, StartupDaySpec, TemplateDef};
use crate::validate::{WeekOfMonth, parse_annual_date, parse_annual_weekday, parse_monthly_weekday, parse_weekday};

/// Which occurrence in a month: the n-th from the start or from the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Occurrence {
    /// The n-th (1-based) from the start of the month.
    Nth(u8),
    /// The n-th (1-based) from the end of the month; `NthLast(1)` is the last.
    NthLast(u8),
}

impl fmt::Display for Occurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn ordinal(n: u8) -> String {
            let suffix = match (n % 10, n % 100) {
                (_, 11..=13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            };
            format!("{n}{suffix}")
        }
        match *self {
            Occurrence::Nth(n) => f.write_str(&ordinal(n)),
            Occurrence::NthLast(1) => f.write_str("last"),
            Occurrence::NthLast(n) => write!(f, "{} last", ordinal(n)),
        }
    }
}

/// Parse an occurrence: `1st`, `2nd`, `3rd`, `4th` … `31st` (the suffix may
/// be left out), `last`, `2nd last` ….
pub fn parse_occurrence(s: &str) -> Option<Occurrence> {
    fn number(s: &str) -> Option<u8> {
        let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = &s[digits.len()..];
        if !suffix.is_empty() && !["st", "nd", "rd", "th"].iter().any(|x| suffix.eq_ignore_ascii_case(x)) {
            return None;
        }
        let n: u8 = digits.parse().ok()?;
        (1..=31).contains(&n).then_some(n)
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    match words.as_slice() {
        [w] if w.eq_ignore_ascii_case("last") => Some(Occurrence::NthLast(1)),
        [n, w] if w.eq_ignore_ascii_case("last") => number(n).map(Occurrence::NthLast),
        [n] => number(n).map(Occurrence::Nth),
        _ => None,
    }
}

impl From<WeekOfMonth> for Occurrence {
    fn from(w: WeekOfMonth) -> Occurrence {
        match w {
            WeekOfMonth::Nth(n) => Occurrence::Nth(n),
            WeekOfMonth::Last => Occurrence::NthLast(1),
        }
    }
}

/// Parse a business-day rule: `"1st"` … `"23rd"`, `"last"`, `"2nd last"` ….
pub fn parse_business_day(s: &str) -> Option<Occurrence> {
    match parse_occurrence(s)? {
        Occurrence::Nth(n) | Occurrence::NthLast(n) if n > 23 => None,
        occ => Some(occ),
    }
}

/// A parsed `bit_pattern`: the startup days of one year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitPattern {
    /// The year it covers.
    pub year: i32,
    /// Its startup days, ascending.
    pub days: Vec<NaiveDate>,
}

/// Parse a bit pattern: `"YYYY:"` then 12 groups (January … December) of 31
/// `0`/`1` separated by `/`. A `1` on a date the month does not have is an error.
pub fn parse_bit_pattern(s: &str) -> Result<BitPattern, String> {
    let (y, rest) = s.trim().split_once(':').ok_or("expected \"YYYY:\" followed by 12 groups of 31 0/1")?;
    let year: i32 = y.parse().ok().filter(|y| (1900..=9999).contains(y)).ok_or("the year must be 1900-9999")?;
    let groups: Vec<&str> = rest.split('/').collect();
    if groups.len() != 12 {
        return Err(format!("expected 12 groups of 31 0/1 separated by '/', found {}", groups.len()));
    }
    let mut days = Vec::new();
    for (m, g) in (1u32..).zip(&groups) {
        if g.len() != 31 || !g.bytes().all(|b| b == b'0' || b == b'1') {
            return Err(format!("month {m}: expected 31 characters 0 or 1"));
        }
        for (d, b) in (1u32..).zip(g.bytes()) {
            if b == b'1' {
                days.push(
                    NaiveDate::from_ymd_opt(year, m, d)
                        .ok_or_else(|| format!("month {m}: day {d} does not exist in {year}"))?,
                );
            }
        }
    }
    Ok(BitPattern { year, days })
}

/// Check the startup-day fields that [`crate::validate`] does not check:
/// `business_days`, `offset_days` and `bit_pattern`. Returns `(field,
/// message)` pairs (field names relative to `startup_days`); empty when all is well.
pub fn check_spec(spec: &StartupDaySpec) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for b in &spec.business_days {
        if parse_business_day(b).is_none() {
            out.push(("business_days", format!("{b:?}: expected \"1st\" … \"23rd\", \"last\" or \"2nd last\"")));
        }
    }
    if let Some(off) = spec.offset_days
        && off.unsigned_abs() > MAX_OFFSET_DAYS
    {
        out.push(("offset_days", format!("{off}: at most {MAX_OFFSET_DAYS} days either way")));
    }
    if let Some(bits) = &spec.bit_pattern
        && let Err(e) = parse_bit_pattern(bits)
    {
        out.push(("bit_pattern", e));
    }
    for fa in &spec.fine_adjust {
        if let Some(b) = &fa.basis
            && (b.trim().len() != 16 || !b.trim().bytes().all(|c| c.is_ascii_hexdigit()))
        {
            out.push(("fine_adjust", format!("{}: basis {b:?}: expected 16 hex digits", fa.date.0)));
        }
    }
    out
}

/// The largest `offset_days` [`check_spec`] accepts.
pub const MAX_OFFSET_DAYS: u16 = 366;

/// What a holiday did to a startup day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolidayNote {
    /// The day is not a holiday.
    None,
    /// The day is a holiday kept by `run_anyway`.
    RunAnyway,
    /// Moved here from the holiday given (`shift_before`).
    ShiftedBefore(NaiveDate),
    /// Moved here from the holiday given (`shift_after`).
    ShiftedAfter(NaiveDate),
}

/// The rule that made a day a startup day. Displayed as in
/// [`StartReason`]: `every day`, `weekly Mon`, `monthly 10`, `monthly last`,
/// `monthly last Fri`, `annual 12-31`, `annual 03 last Fri`, `business day 1st`,
/// `template T`, `base jobnet N`, `added`, `fine adjustment`, `bit pattern 2026`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// No base rule (not even `add`) is given: every day.
    EveryDay,
    /// `weekly`.
    Weekly(Weekday),
    /// `monthly_dates`.
    MonthlyDate(MonthDay),
    /// `monthly_weekdays`.
    MonthlyWeekday(Occurrence, Weekday),
    /// `annual_dates` (month, day).
    AnnualDate(u32, u32),
    /// `annual_weekdays` (month, occurrence, weekday).
    AnnualWeekday(u32, Occurrence, Weekday),
    /// `business_days`.
    BusinessDay(Occurrence),
    /// `templates`: the template's name.
    Template(Arc<str>),
    /// `base_jobnet`: the base jobnet's name.
    BaseJobnet(Arc<str>),
    /// `add`.
    Added,
    /// `fine_adjust`.
    FineAdjustment,
    /// `bit_pattern` of the year given.
    BitPattern(i32),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::EveryDay => f.write_str("every day"),
            Rule::Weekly(w) => write!(f, "weekly {w}"),
            Rule::MonthlyDate(MonthDay::Day(d)) => write!(f, "monthly {d}"),
            Rule::MonthlyDate(MonthDay::Last) => f.write_str("monthly last"),
            Rule::MonthlyWeekday(o, w) => write!(f, "monthly {o} {w}"),
            Rule::AnnualDate(m, d) => write!(f, "annual {m:02}-{d:02}"),
            Rule::AnnualWeekday(m, o, w) => write!(f, "annual {m:02} {o} {w}"),
            Rule::BusinessDay(o) => write!(f, "business day {o}"),
            Rule::Template(t) => write!(f, "template {t}"),
            Rule::BaseJobnet(b) => write!(f, "base jobnet {b}"),
            Rule::Added => f.write_str("added"),
            Rule::FineAdjustment => f.write_str("fine adjustment"),
            Rule::BitPattern(y) => write!(f, "bit pattern {y}"),
        }
    }
}

/// Why a day is a startup day: the rule that made it one and what offsets
/// and holidays did to it. Displayed (and serialized) as one line, e.g.
/// `weekly Mon`, `monthly 10 shifted after holiday 2025-05-10`, `every day`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartReason {
    /// The rule that made the day a startup day.
    pub rule: Rule,
    /// The offset applied to the rule's day (0: none).
    pub offset_days: i16,
    /// What a holiday did to the day.
    pub holiday: HolidayNote,
}

impl fmt::Display for StartReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule)?;
        if self.offset_days != 0 {
            write!(f, " offset {:+} days", self.offset_days)?;
        }
        match self.holiday {
            HolidayNote::None => Ok(()),
            HolidayNote::RunAnyway => f.write_str(" on holiday"),
            HolidayNote::ShiftedBefore(d) => write!(f, " shifted before holiday {d}"),
            HolidayNote::ShiftedAfter(d) => write!(f, " shifted after holiday {d}"),
        }
    }
}

impl Serialize for StartReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A startup day's reason, before it is spelled out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ReasonKey(Mark);

/// One day's state in a computation window: the rule that made it a startup
/// day (index into the jobnet's rule texts) or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Mark {
    rule: u16,
    flags: u8,
    from: Option<NaiveDate>,
}

const NO_RULE: u16 = u16::MAX;
const F_OFFSET: u8 = 1;
const F_ON_HOLIDAY: u8 = 2;
const F_SHIFT_BEFORE: u8 = 4;
const F_SHIFT_AFTER: u8 = 8;

impl Mark {
    const NONE: Mark = Mark { rule: NO_RULE, flags: 0, from: None };

    fn rule(rule: u16) -> Mark {
        Mark { rule, flags: 0, from: None }
    }

    fn is_set(self) -> bool {
        self.rule != NO_RULE
    }
}

/// Startup days over a range of operating days, with the reason of each.
/// Jobnets with identical rules share one computation (cloning is cheap).
#[derive(Clone, Debug)]
pub struct StartupDays {
    /// The day of `marks[lo]`.
    first: NaiveDate,
    marks: Arc<[Mark]>,
    lo: usize,
    len: usize,
    rules: Arc<[Rule]>,
    offset: i16,
}

impl StartupDays {
    /// Whether `day` is a startup day (false outside the computed range).
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.mark(day).is_some()
    }

    /// Why `day` is a startup day, or `None` when it is not one.
    pub fn reason(&self, day: NaiveDate) -> Option<StartReason> {
        self.mark(day).map(|m| self.reason_of(m))
    }

    /// The startup days in the computed range, ascending.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.view().iter().zip(self.first.iter_days()).filter(|(m, _)| m.is_set()).map(|(_, d)| d)
    }

    /// The marks of the computed range.
    fn view(&self) -> &[Mark] {
        self.marks.get(self.lo..self.lo + self.len).unwrap_or(&[])
    }

    /// Keep only `[from, to]` (shares the computation).
    fn trimmed(mut self, from: NaiveDate, to: NaiveDate) -> StartupDays {
        let a = usize::try_from((from - self.first).num_days()).unwrap_or(0).min(self.len);
        let b = usize::try_from((to - self.first).num_days() + 1).unwrap_or(0).clamp(a, self.len);
        self.lo += a;
        self.len = b - a;
        self.first = from;
        self
    }

    /// The reason of the day at window index `i` in a cheap form (equal
    /// keys give equal reasons); `None` when the day is no startup day.
    pub(crate) fn key_at(&self, i: usize) -> Option<ReasonKey> {
        self.view().get(i).copied().filter(|m| m.is_set()).map(ReasonKey)
    }

    /// The reason a [`ReasonKey`] of this computation stands for.
    pub(crate) fn reason_of_key(&self, k: ReasonKey) -> StartReason {
        self.reason_of(k.0)
    }

    /// The first day of the computed window.
    pub(crate) fn first(&self) -> NaiveDate {
        self.first
    }

    fn mark(&self, day: NaiveDate) -> Option<Mark> {
        let i = usize::try_from((day - self.first).num_days()).ok()?;
        self.view().get(i).copied().filter(|m| m.is_set())
    }

    fn reason_of(&self, m: Mark) -> StartReason {
        StartReason {
            rule: self.rules.get(usize::from(m.rule)).cloned().unwrap_or(Rule::EveryDay),
            offset_days: if m.flags & F_OFFSET != 0 { self.offset } else { 0 },
            holiday: match (m.flags, m.from) {
                (f, Some(d)) if f & F_SHIFT_BEFORE != 0 => HolidayNote::ShiftedBefore(d),
                (f, Some(d)) if f & F_SHIFT_AFTER != 0 => HolidayNote::ShiftedAfter(d),
                (f, _) if f & F_ON_HOLIDAY != 0 => HolidayNote::RunAnyway,
                _ => HolidayNote::None,
            },
        }
    }
}

/// The startup days of jobnet `key` over the operating days `[from, to]`.
/// `None` when the jobnet does not exist. `templates` are the startup-day
/// templates by name (see [`templates_of`]).
pub fn startup_days(
    env: &Environment,
    templates: &Templates,
    key: &JobnetKey,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<StartupDays> {
    let def = env.jobnets.get(key)?;
    let mut p = Planner::new(env, templates, from, to, [key]);
    Some(p.startup_days(def).trimmed(from, to))
}

/// The startup days of every jobnet over the operating days `[from, to]`,
/// computed together (calendars, templates and base jobnets are read once).
pub fn all_startup_days(
    env: &Environment,
    templates: &Templates,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<JobnetKey, StartupDays> {
    let mut p = Planner::new(env, templates, from, to, env.jobnets.keys());
    env.jobnets.iter().map(|(k, def)| (k.clone(), p.startup_days(def).trimmed(from, to))).collect()
}

/// Whether operating day `day` is a startup day of jobnet `key`.
pub fn is_startup_day(env: &Environment, templates: &Templates, key: &JobnetKey, day: NaiveDate) -> bool {
    startup_days(env, templates, key, day, day).is_some_and(|s| s.contains(day))
}

/// Startup-day templates by name: their days, ascending.
pub type Templates = BTreeMap<String, Vec<NaiveDate>>;

/// Index templates by name (a later template of the same name wins).
pub fn templates_of(defs: &[TemplateDef]) -> Templates {
    defs.iter()
        .map(|t| {
            let mut days: Vec<NaiveDate> = t.days.iter().map(|d| d.0).collect();
            days.sort_unstable();
            days.dedup();
            (t.name.clone(), days)
        })
        .collect()
}

/// A month inside the computation window.
struct Month {
    year: i32,
    month: u32,
    /// Window index of its first day.
    first: usize,
    /// Number of days.
    len: usize,
    /// Weekday of its first day, days from Monday.
    first_wd: u32,
}

/// Computes startup days over one window of operating days that starts on
/// the first of a month and ends on the last of a month, with caches shared
/// by every jobnet of one plan.
pub(crate) struct Planner<'e> {
    env: &'e Environment,
    templates: &'e Templates,
    start: NaiveDate,
    len: usize,
    months: Vec<Month>,
    holidays: BTreeMap<Vec<String>, Rc<Vec<bool>>>,
    template_bits: BTreeMap<String, Rc<Vec<bool>>>,
    /// Steps 1–5 of jobnets used as base jobnets; `None` while being computed (cycle guard).
    bases: BTreeMap<JobnetKey, Option<Rc<Vec<bool>>>>,
    /// Startup days computed so far, one per set of identical rules: the
    /// rules, the project when a relative `base_jobnet` makes it matter, the days.
    classes: Vec<(&'e StartupDaySpec, Option<&'e str>, StartupDays)>,
    /// Classes by [`spec_hash`].
    class_index: HashMap<u64, Vec<usize>>,
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    let r = if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    };
    r.unwrap_or(if n >= 0 { NaiveDate::MAX } else { NaiveDate::MIN })
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    match (NaiveDate::from_ymd_opt(year, month, 1), next) {
        (Some(a), Some(b)) => u32::try_from((b - a).num_days()).unwrap_or(31),
        _ => 31,
    }
}

/// The base jobnet named in `spec`: `N` (same project) or `P/N`.
fn base_key(project: &str, name: &str) -> JobnetKey {
    JobnetKey::parse(name).unwrap_or_else(|| JobnetKey::new(project, name))
}

/// How far (in days) a jobnet's startup days reach from its base days:
/// offset plus shift limit, through its base jobnets.
fn reach(env: &Environment, key: &JobnetKey, seen: &mut BTreeSet<JobnetKey>) -> u64 {
    let Some(def) = env.jobnets.get(key) else { return 0 };
    let spec = &def.startup_days;
    let own = u64::from(spec.offset_days.unwrap_or(0).unsigned_abs())
        + match spec.holiday {
            HolidayHandling::ShiftBefore(n) | HolidayHandling::ShiftAfter(n) => u64::from(n),
            _ => 0,
        };
    if spec.base_jobnet.is_none() {
        return own;
    }
    if !seen.insert(key.clone()) {
        return 0;
    }
    let base = spec.base_jobnet.as_deref().map(|b| reach(env, &base_key(&def.project, b), seen)).unwrap_or(0);
    seen.remove(key);
    own + base
}

impl<'e> Planner<'e> {
    /// A planner exact for operating days `[from, to]` of the jobnets `keys`.
    pub(crate) fn new<'k>(
        env: &'e Environment,
        templates: &'e Templates,
        from: NaiveDate,
        to: NaiveDate,
        keys: impl IntoIterator<Item = &'k JobnetKey>,
    ) -> Planner<'e> {
        let mut seen = BTreeSet::new();
        let margin = keys.into_iter().map(|k| reach(env, k, &mut seen)).max().unwrap_or(0);
        let margin = i64::try_from(margin).unwrap_or(i64::MAX / 4) + 1;
        let start = first_of_month(add_days(from.min(to), -margin));
        let end = add_days(first_of_month(add_days(from.max(to), margin)), 40);
        let end = add_days(first_of_month(end), -1);
        let len = usize::try_from((end - start).num_days() + 1).unwrap_or(0);
        let mut months = Vec::new();
        let mut first = 0;
        let mut d = start;
        while first < len {
            let mlen = days_in_month(d.year(), d.month()) as usize;
            months.push(Month {
                year: d.year(),
                month: d.month(),
                first,
                len: mlen,
                first_wd: d.weekday().num_days_from_monday(),
            });
            first += mlen;
            d = add_days(d, mlen as i64);
        }
        Planner {
            env,
            templates,
            start,
            len,
            months,
            holidays: BTreeMap::new(),
            template_bits: BTreeMap::new(),
            bases: BTreeMap::new(),
            classes: Vec::new(),
            class_index: HashMap::new(),
        }
    }

    fn index(&self, d: NaiveDate) -> Option<usize> {
        usize::try_from((d - self.start).num_days()).ok().filter(|i| *i < self.len)
    }

    fn holiday_bits(&mut self, calendars: &[String]) -> Rc<Vec<bool>> {
        if let Some(h) = self.holidays.get(calendars) {
            return h.clone();
        }
        let set = HolidaySet::for_calendars(self.env, calendars);
        let mut bits = vec![false; self.len];
        for d in set.range(self.start, add_days(self.start, self.len as i64 - 1)) {
            if let Some(i) = self.index(*d) {
                bits[i] = true;
            }
        }
        let bits = Rc::new(bits);
        self.holidays.insert(calendars.to_vec(), bits.clone());
        bits
    }

    fn template(&mut self, name: &str) -> Option<Rc<Vec<bool>>> {
        if let Some(t) = self.template_bits.get(name) {
            return Some(t.clone());
        }
        let days = self.templates.get(name)?;
        let mut bits = vec![false; self.len];
        for d in days {
            if let Some(i) = self.index(*d) {
                bits[i] = true;
            }
        }
        let bits = Rc::new(bits);
        self.template_bits.insert(name.to_string(), bits.clone());
        Some(bits)
    }

    /// Steps 1–5 of a base jobnet, cached; `None` for a missing jobnet or a cycle.
    fn base(&mut self, key: &JobnetKey) -> Option<Rc<Vec<bool>>> {
        match self.bases.get(key) {
            Some(Some(b)) => return Some(b.clone()),
            Some(None) => return None,
            None => {}
        }
        let def = self.env.jobnets.get(key)?.clone();
        self.bases.insert(key.clone(), None);
        let (marks, _) = self.rule_days(&def);
        let bits = Rc::new(marks.iter().map(|m| m.is_set()).collect::<Vec<bool>>());
        self.bases.insert(key.clone(), Some(bits.clone()));
        Some(bits)
    }

    /// The startup days of one jobnet (steps 1–6), exact inside the planner's
    /// range. Jobnets with identical rules share one computation.
    pub(crate) fn startup_days(&mut self, def: &'e JobnetDef) -> StartupDays {
        let c = self.class_of(def);
        self.class(c).cloned().unwrap_or_else(|| self.compute(def))
    }

    /// The class of jobnets whose startup days equal `def`'s: the same rules
    /// (and project, when a relative base jobnet is named). Computed on first use.
    pub(crate) fn class_of(&mut self, def: &'e JobnetDef) -> usize {
        let spec = &def.startup_days;
        let project = spec.base_jobnet.as_ref().map(|_| def.project.as_str());
        let hash = spec_hash(spec, project);
        let found = self.class_index.get(&hash).and_then(|list| {
            list.iter().copied().find(|i| self.classes.get(*i).is_some_and(|(s, p, _)| *s == spec && *p == project))
        });
        if let Some(i) = found {
            return i;
        }
        let days = self.compute(def);
        self.classes.push((spec, project, days));
        let i = self.classes.len() - 1;
        self.class_index.entry(hash).or_default().push(i);
        i
    }

    /// The startup days of a class from [`Planner::class_of`].
    pub(crate) fn class(&self, c: usize) -> Option<&StartupDays> {
        self.classes.get(c).map(|(_, _, d)| d)
    }

    /// Steps 1–6 for one jobnet.
    fn compute(&mut self, def: &JobnetDef) -> StartupDays {
        let (mut marks, mut rules) = self.rule_days(def);
        if let Some(Ok(bp)) = def.startup_days.bit_pattern.as_deref().map(parse_bit_pattern) {
            let rule = push_rule(&mut rules, Rule::BitPattern(bp.year));
            for m in &self.months {
                if m.year == bp.year {
                    marks[m.first..m.first + m.len].fill(Mark::NONE);
                }
            }
            for d in bp.days {
                if let Some(i) = self.index(d) {
                    marks[i] = Mark::rule(rule);
                }
            }
        }
        StartupDays {
            first: self.start,
            len: marks.len(),
            marks: marks.into(),
            lo: 0,
            rules: rules.into(),
            offset: def.startup_days.offset_days.unwrap_or(0),
        }
    }

    /// Steps 1–5: the days and the rule texts their marks index.
    fn rule_days(&mut self, def: &JobnetDef) -> (Vec<Mark>, Vec<Rule>) {
        let spec = &def.startup_days;
        let n = self.len;
        let mut rules: Vec<Rule> = Vec::new();
        let mut base = vec![Mark::NONE; n];
        let hol = self.holiday_bits(&spec.calendars);

        // Step 1: base rules, first rule wins the reason.
        let set = |base: &mut [Mark], i: usize, r: u16| {
            if let Some(m) = base.get_mut(i)
                && !m.is_set()
            {
                *m = Mark::rule(r);
            }
        };
        for w in spec.weekly.iter().filter_map(|s| parse_weekday(s).ok()) {
            let r = push_rule(&mut rules, Rule::Weekly(w));
            let first = (w.num_days_from_monday() + 7 - self.start.weekday().num_days_from_monday()) % 7;
            for i in (first as usize..n).step_by(7) {
                set(&mut base, i, r);
            }
        }
        for md in &spec.monthly_dates {
            let r = push_rule(&mut rules, Rule::MonthlyDate(*md));
            for m in &self.months {
                let day = match *md {
                    MonthDay::Day(d) => usize::from(d),
                    MonthDay::Last => m.len,
                };
                if (1..=m.len).contains(&day) {
                    set(&mut base, m.first + day - 1, r);
                }
            }
        }
        for (occ, wd) in spec.monthly_weekdays.iter().filter_map(|s| parse_monthly_weekday(s).ok()) {
            let occ = Occurrence::from(occ);
            let r = push_rule(&mut rules, Rule::MonthlyWeekday(occ, wd));
            for m in &self.months {
                if let Some(day) = weekday_in_month(m, occ, wd) {
                    set(&mut base, m.first + day - 1, r);
                }
            }
        }
        for (month, day) in spec.annual_dates.iter().filter_map(|s| parse_annual_date(s).ok()) {
            let r = push_rule(&mut rules, Rule::AnnualDate(month, day));
            for m in self.months.iter().filter(|m| m.month == month) {
                if day as usize <= m.len {
                    set(&mut base, m.first + day as usize - 1, r);
                }
            }
        }
        for (month, occ, wd) in spec.annual_weekdays.iter().filter_map(|s| parse_annual_weekday(s).ok()) {
            let occ = Occurrence::from(occ);
            let r = push_rule(&mut rules, Rule::AnnualWeekday(month, occ, wd));
            for m in self.months.iter().filter(|m| m.month == month) {
                if let Some(day) = weekday_in_month(m, occ, wd) {
                    set(&mut base, m.first + day - 1, r);
                }
            }
        }
        for occ in spec.business_days.iter().filter_map(|s| parse_business_day(s)) {
            let r = push_rule(&mut rules, Rule::BusinessDay(occ));
            for m in &self.months {
                let open = (m.first..m.first + m.len).filter(|i| !hol[*i]);
                let pick = match occ {
                    Occurrence::Nth(k) => open.clone().nth(usize::from(k) - 1),
                    Occurrence::NthLast(k) => open.clone().rev().nth(usize::from(k) - 1),
                };
                if let Some(i) = pick {
                    set(&mut base, i, r);
                }
            }
        }
        for t in &spec.templates {
            let r = push_rule(&mut rules, Rule::Template(Arc::from(t.as_str())));
            if let Some(bits) = self.template(t) {
                for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
                    set(&mut base, i, r);
                }
            }
        }
        if let Some(b) = &spec.base_jobnet {
            let r = push_rule(&mut rules, Rule::BaseJobnet(Arc::from(b.as_str())));
            if let Some(bits) = self.base(&base_key(&def.project, b)) {
                for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
                    set(&mut base, i, r);
                }
            }
        }
        let has_rule = !(spec.weekly.is_empty()
            && spec.monthly_dates.is_empty()
            && spec.monthly_weekdays.is_empty()
            && spec.annual_dates.is_empty()
            && spec.annual_weekdays.is_empty()
            && spec.business_days.is_empty()
            && spec.templates.is_empty()
            && spec.base_jobnet.is_none()
            && spec.add.is_empty());
        // `add` is a base rule too (spec 01 §2.7, §3.12 step 1): `add` alone is not "every day".
        if !has_rule {
            let r = push_rule(&mut rules, Rule::EveryDay);
            base.fill(Mark::rule(r));
        }
        if !spec.add.is_empty() {
            let r = push_rule(&mut rules, Rule::Added);
            for d in &spec.add {
                if let Some(i) = self.index(d.0) {
                    set(&mut base, i, r);
                }
            }
        }
        for d in &spec.remove {
            if let Some(i) = self.index(d.0) {
                base[i] = Mark::NONE;
            }
        }

        // Step 2: offset.
        let off = i64::from(spec.offset_days.unwrap_or(0));
        if off != 0 {
            let mut moved = vec![Mark::NONE; n];
            for (i, m) in base.iter().enumerate().filter(|(_, m)| m.is_set()) {
                let j = i as i64 + off;
                if let Some(slot) = usize::try_from(j).ok().and_then(|j| moved.get_mut(j)) {
                    *slot = Mark { flags: m.flags | F_OFFSET, ..*m };
                }
            }
            base = moved;
        }

        // Step 3: holidays (judged on the operating day, D9). Days that stay
        // are placed first, so a shifted day never replaces a kept day's reason.
        let mut out = vec![Mark::NONE; n];
        let mut shifted: Vec<(usize, Mark)> = Vec::new();
        for (i, m) in base.iter().enumerate().filter(|(_, m)| m.is_set()) {
            if !hol[i] {
                out[i] = *m;
                continue;
            }
            let date = add_days(self.start, i as i64);
            match spec.holiday {
                HolidayHandling::RunAnyway => out[i] = Mark { flags: m.flags | F_ON_HOLIDAY, ..*m },
                HolidayHandling::DoNotStart => {}
                HolidayHandling::ShiftBefore(lim) => {
                    if let Some(j) = (1..=usize::from(lim)).filter_map(|k| i.checked_sub(k)).find(|j| !hol[*j]) {
                        shifted.push((j, Mark { flags: m.flags | F_SHIFT_BEFORE, from: Some(date), ..*m }));
                    }
                }
                HolidayHandling::ShiftAfter(lim) => {
                    if let Some(j) = (1..=usize::from(lim)).map(|k| i + k).take_while(|j| *j < n).find(|j| !hol[*j]) {
                        shifted.push((j, Mark { flags: m.flags | F_SHIFT_AFTER, from: Some(date), ..*m }));
                    }
                }
            }
        }
        for (j, m) in shifted {
            if !out[j].is_set() {
                out[j] = m;
            }
        }

        // Step 4: valid / invalid period.
        if let Some(p) = &spec.valid_period {
            for (i, d) in self.start.iter_days().take(n).enumerate() {
                if d < p.from.0 || d > p.to.0 {
                    out[i] = Mark::NONE;
                }
            }
        }
        if let Some(p) = &spec.invalid_period {
            for (i, d) in self.start.iter_days().take(n).enumerate() {
                if d >= p.from.0 && d <= p.to.0 {
                    out[i] = Mark::NONE;
                }
            }
        }

        // Step 5: fine adjustments, in order; those made against other rules are discarded (MODEL-084).
        if !spec.fine_adjust.is_empty() {
            let basis =
                spec.fine_adjust.iter().any(|fa| fa.basis.is_some()).then(|| basis_of(self.env, self.templates, def));
            let r = push_rule(&mut rules, Rule::FineAdjustment);
            for fa in &spec.fine_adjust {
                if basis.as_deref().is_some_and(|b| is_stale(fa, b)) {
                    continue;
                }
                if let Some(i) = self.index(fa.date.0) {
                    out[i] = if fa.start { Mark::rule(r) } else { Mark::NONE };
                }
            }
        }
        (out, rules)
    }
}

/// A hash of the rules that decide a jobnet's startup days (with `project`
/// when it matters), for finding jobnets with identical rules. Equal rules
/// give equal hashes; [`Planner::class_of`] compares the rules themselves.
fn spec_hash(spec: &StartupDaySpec, project: Option<&str>) -> u64 {
    let mut h = QuickHasher(0);
    spec.weekly.hash(&mut h);
    for md in &spec.monthly_dates {
        match md {
            MonthDay::Day(d) => d.hash(&mut h),
            MonthDay::Last => 0u8.hash(&mut h),
        }
    }
    spec.monthly_weekdays.hash(&mut h);
    spec.annual_dates.hash(&mut h);
    spec.annual_weekdays.hash(&mut h);
    spec.business_days.hash(&mut h);
    spec.templates.hash(&mut h);
    spec.base_jobnet.hash(&mut h);
    spec.calendars.hash(&mut h);
    spec.offset_days.hash(&mut h);
    spec.add.hash(&mut h);
    spec.remove.hash(&mut h);
    match spec.holiday {
        HolidayHandling::RunAnyway => (0u8, 0u8),
        HolidayHandling::DoNotStart => (1, 0),
        HolidayHandling::ShiftBefore(n) => (2, n),
        HolidayHandling::ShiftAfter(n) => (3, n),
    }
    .hash(&mut h);
    spec.fine_adjust.len().hash(&mut h);
    spec.bit_pattern.hash(&mut h);
    project.hash(&mut h);
    h.finish()
}

/// A fast hasher for in-memory tables (the FxHash mixing step): not for
/// hashes that are stored or shown.
struct QuickHasher(u64);

impl Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(word));
        }
        for b in chunks.remainder() {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The fingerprint of the rules a jobnet's fine adjustments are made
/// against (MODEL-084): 16 lowercase hex digits. It covers the jobnet's
/// startup-day rules except `fine_adjust` and `bit_pattern`, the
/// day-change time and holidays of the calendars it uses (SYSTEM_CALENDAR
/// when it names none), the days of its templates, and its base jobnet's
/// rules, fine adjustments and the same for their calendars, templates and
/// base jobnet. A fine adjustment whose `basis` differs from it is discarded.
pub fn rule_basis(env: &Environment, def: &JobnetDef) -> String {
    basis_of(env, &env.templates, def)
}

/// The fine adjustments of `def` that are discarded because the rules they
/// were made against have changed since (their `basis` is not the jobnet's
/// [`rule_basis`]), in order. Adjustments without a `basis` always apply.
pub fn stale_fine_adjustments<'d>(env: &Environment, def: &'d JobnetDef) -> Vec<&'d FineAdjust> {
    if def.startup_days.fine_adjust.iter().all(|fa| fa.basis.is_none()) {
        return Vec::new();
    }
    let basis = rule_basis(env, def);
    def.startup_days.fine_adjust.iter().filter(|fa| is_stale(fa, &basis)).collect()
}

fn is_stale(fa: &FineAdjust, basis: &str) -> bool {
    fa.basis.as_deref().is_some_and(|b| !b.trim().eq_ignore_ascii_case(basis))
}

fn basis_of(env: &Environment, templates: &Templates, def: &JobnetDef) -> String {
    let mut text = String::new();
    basis_text(env, templates, &def.project, &def.startup_days, &mut BTreeSet::new(), &mut text);
    // FNV-1a, 64 bits: stable across platforms and versions.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// The canonical text [`rule_basis`] hashes.
fn basis_text(
    env: &Environment,
    templates: &Templates,
    project: &str,
    spec: &StartupDaySpec,
    seen: &mut BTreeSet<JobnetKey>,
    out: &mut String,
) {
    let join = |days: &mut dyn Iterator<Item = NaiveDate>| days.map(|d| d.to_string()).collect::<Vec<_>>().join(",");
    let rules = StartupDaySpec { fine_adjust: Vec::new(), bit_pattern: None, ..spec.clone() };
    out.push_str(&serde_json::to_string(&rules).unwrap_or_default());
    let system = [SYSTEM_CALENDAR.to_string()];
    let names = if spec.calendars.is_empty() { &system[..] } else { &spec.calendars[..] };
    for name in names {
        match env.calendars.get(name) {
            Some(c) => {
                let mut days: Vec<NaiveDate> = c.holidays.iter().map(|d| d.0).collect();
                days.sort_unstable();
                days.dedup();
                out.push_str(&format!("\ncalendar {name} {} {}", c.day_change, join(&mut days.into_iter())));
            }
            None => out.push_str(&format!("\ncalendar {name} missing")),
        }
    }
    for t in &spec.templates {
        match templates.get(t) {
            Some(days) => out.push_str(&format!("\ntemplate {t} {}", join(&mut days.iter().copied()))),
            None => out.push_str(&format!("\ntemplate {t} missing")),
        }
    }
    if let Some(b) = &spec.base_jobnet {
        let key = base_key(project, b);
        match env.jobnets.get(&key) {
            Some(d) if seen.insert(key.clone()) => {
                let fine = serde_json::to_string(&d.startup_days.fine_adjust).unwrap_or_default();
                out.push_str(&format!("\nbase {key} {fine}\n"));
                basis_text(env, templates, &d.project, &d.startup_days, seen, out);
            }
            Some(_) => out.push_str(&format!("\nbase {key} cycle")),
            None => out.push_str(&format!("\nbase {key} missing")),
        }
    }
}

/// The day of the month (1-based) of an occurrence of a weekday.
fn weekday_in_month(m: &Month, occ: Occurrence, wd: Weekday) -> Option<usize> {
    let w = wd.num_days_from_monday();
    let day = match occ {
        Occurrence::Nth(k) => 1 + ((w + 7 - m.first_wd) % 7) as usize + 7 * (usize::from(k).checked_sub(1)?),
        Occurrence::NthLast(k) => {
            let last_wd = (m.first_wd + (m.len as u32 - 1)) % 7;
            let back = ((last_wd + 7 - w) % 7) as usize + 7 * (usize::from(k).checked_sub(1)?);
            m.len.checked_sub(back)?
        }
    };
    (1..=m.len).contains(&day).then_some(day)
}

fn push_rule(rules: &mut Vec<Rule>, rule: Rule) -> u16 {
    rules.push(rule);
    u16::try_from(rules.len() - 1).unwrap_or(NO_RULE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::{Format, parse};

    fn env_of(text: &str) -> Environment {
        Environment::from_valid(&parse(text, Format::Toml).unwrap())
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// One jobnet P/N with the given `[jobnet.startup_days]` body and calendar section.
    fn one(calendars: &str, startup: &str) -> Environment {
        env_of(&format!(
            "{calendars}\n[[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = {{ time = \"09:00\" }}\n[jobnet.startup_days]\n{startup}\n"
        ))
    }

    fn days_of(env: &Environment, from: &str, to: &str) -> Vec<String> {
        startup_days(env, &Templates::new(), &JobnetKey::new("P", "N"), d(from), d(to))
            .unwrap()
            .days()
            .map(|d| d.to_string())
            .collect()
    }

    fn reason(env: &Environment, day: &str) -> Option<String> {
        startup_days(env, &Templates::new(), &JobnetKey::new("P", "N"), d(day), d(day))
            .unwrap()
            .reason(d(day))
            .map(|r| r.to_string())
    }

    const MAY_HOLIDAYS: &str =
        "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nholidays = [\"2025-05-09\", \"2025-05-10\", \"2025-05-11\"]";

    // MODEL-079
    #[test]
    fn model_079_do_not_start_drops_holiday_without_substitute() {
        let env = one(MAY_HOLIDAYS, "monthly_dates = [10]\nholiday = \"do_not_start\"");
        assert_eq!(days_of(&env, "2025-04-01", "2025-06-30"), ["2025-04-10", "2025-06-10"]);
    }

    // MODEL-080
    #[test]
    fn model_080_shift_after_three_days() {
        let env = one(MAY_HOLIDAYS, "monthly_dates = [10]\nholiday = { shift_after = 3 }");
        assert_eq!(days_of(&env, "2025-05-01", "2025-05-31"), ["2025-05-12"]);
        assert_eq!(reason(&env, "2025-05-12").as_deref(), Some("monthly 10 shifted after holiday 2025-05-10"));
        // Limit 1 is not enough to get past 05-11: dropped.
        let env = one(MAY_HOLIDAYS, "monthly_dates = [10]\nholiday = { shift_after = 1 }");
        assert!(days_of(&env, "2025-05-01", "2025-05-31").is_empty());
    }

    // MODEL-081
    #[test]
    fn model_081_shift_before_one_day_with_both_holidays_produces_nothing() {
        let env = one(MAY_HOLIDAYS, "monthly_dates = [10]\nholiday = { shift_before = 1 }");
        assert!(days_of(&env, "2025-05-01", "2025-05-31").is_empty());
        let env = one(MAY_HOLIDAYS, "monthly_dates = [10]\nholiday = { shift_before = 2 }");
        assert_eq!(days_of(&env, "2025-05-01", "2025-05-31"), ["2025-05-08"]);
    }

    // MODEL-082
    #[test]
    fn model_082_run_anyway_keeps_holiday() {
        let env = one(MAY_HOLIDAYS, "monthly_dates = [10]\nholiday = \"run_anyway\"");
        assert_eq!(days_of(&env, "2025-05-01", "2025-05-31"), ["2025-05-10"]);
        assert_eq!(reason(&env, "2025-05-10").as_deref(), Some("monthly 10 on holiday"));
    }

    // MODEL-083
    #[test]
    fn model_083_invalid_period_removes_august_mondays() {
        let env = one("", "weekly = [\"Mon\"]\ninvalid_period = { from = \"2025-08-01\", to = \"2025-08-31\" }");
        assert_eq!(days_of(&env, "2025-07-25", "2025-09-05"), ["2025-07-28", "2025-09-01"]);
        let env = one("", "weekly = [\"Mon\"]\nvalid_period = { from = \"2025-08-01\", to = \"2025-08-10\" }");
        assert_eq!(days_of(&env, "2025-07-01", "2025-09-30"), ["2025-08-04"]);
    }

    // MODEL-084
    #[test]
    fn model_084_fine_adjustment_adds_and_removes_last() {
        let env = one(
            "",
            "weekly = [\"Mon\"]\nvalid_period = { from = \"2025-06-01\", to = \"2025-06-10\" }\n\
             fine_adjust = [{ date = \"2025-06-15\", start = true }, { date = \"2025-06-02\", start = false }]",
        );
        // 06-15 is outside the valid period and a Sunday: fine adjustments come last.
        assert_eq!(days_of(&env, "2025-06-01", "2025-06-30"), ["2025-06-09", "2025-06-15"]);
        assert_eq!(reason(&env, "2025-06-15").as_deref(), Some("fine adjustment"));
    }

    #[test]
    fn d8_shift_after_crosses_into_next_year() {
        let cal =
            "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nholidays = [\"2027-12-31\", \"2028-01-01\", \"2028-01-02\"]";
        let env = one(cal, "annual_dates = [\"12-31\"]\nholiday = { shift_after = 5 }");
        // The base day lies before the requested range; its shifted day is inside it.
        assert_eq!(days_of(&env, "2028-01-01", "2028-01-31"), ["2028-01-03"]);
        assert_eq!(reason(&env, "2028-01-03").as_deref(), Some("annual 12-31 shifted after holiday 2027-12-31"));
    }

    #[test]
    fn d8_shift_before_crosses_into_previous_year() {
        let cal = "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nholidays = [\"2028-01-01\"]";
        let env = one(cal, "annual_dates = [\"01-01\"]\nholiday = { shift_before = 3 }");
        assert_eq!(days_of(&env, "2027-12-01", "2027-12-31"), ["2027-12-31"]);
    }

    #[test]
    fn d8_offset_crosses_year_end() {
        let env = one("", "monthly_dates = [\"last\"]\noffset_days = 1");
        assert_eq!(days_of(&env, "2028-01-01", "2028-01-31"), ["2028-01-01"]);
        assert_eq!(reason(&env, "2028-01-01").as_deref(), Some("monthly last offset +1 days"));
        let env = one("", "monthly_dates = [1]\noffset_days = -1");
        assert_eq!(days_of(&env, "2027-12-01", "2027-12-31"), ["2027-12-31"]);
    }

    #[test]
    fn leap_years_feb_29_and_last_day() {
        let env = one("", "annual_dates = [\"02-29\"]");
        assert_eq!(days_of(&env, "2027-01-01", "2028-12-31"), ["2028-02-29"]);
        let env = one("", "monthly_dates = [\"last\", 30]");
        assert_eq!(days_of(&env, "2028-02-01", "2028-03-01"), ["2028-02-29"]);
        assert_eq!(days_of(&env, "2027-02-01", "2027-03-01"), ["2027-02-28"]);
        // 2100 is not a leap year, 2000 is.
        let env = one("", "annual_dates = [\"02-29\"]");
        assert_eq!(days_of(&env, "2099-01-01", "2101-12-31"), Vec::<String>::new());
        assert_eq!(days_of(&env, "2000-01-01", "2000-12-31"), ["2000-02-29"]);
    }

    #[test]
    fn d10_weekly_is_monthly_weekday_for_every_week() {
        let weekly = one("", "weekly = [\"Mon\"]");
        let monthly = one("", "monthly_weekdays = [\"1st Mon\", \"2nd Mon\", \"3rd Mon\", \"4th Mon\", \"5th Mon\"]");
        let a = days_of(&weekly, "2025-01-01", "2026-12-31");
        assert_eq!(a.len(), 104);
        assert_eq!(a, days_of(&monthly, "2025-01-01", "2026-12-31"));
    }

    #[test]
    fn monthly_and_annual_weekdays() {
        let env = one("", "monthly_weekdays = [\"last Fri\", \"5th Mon\"]");
        // June 2025: last Friday 27th, 5th Monday 30th; July 2025: last Friday 25th, no 5th Monday.
        assert_eq!(days_of(&env, "2025-06-01", "2025-07-31"), ["2025-06-27", "2025-06-30", "2025-07-25"]);
        assert_eq!(reason(&env, "2025-06-27").as_deref(), Some("monthly last Fri"));
        let env = one("", "annual_weekdays = [\"03 last Fri\", \"11 2nd Mon\"]");
        assert_eq!(days_of(&env, "2025-01-01", "2025-12-31"), ["2025-03-28", "2025-11-10"]);
    }

    #[test]
    fn business_days_count_non_holidays() {
        let cal =
            "[[calendar]]\nname = \"BIZ\"\nholidays = [\"2025-05-01\", \"2025-05-02\", \"2025-05-31\", \"2025-05-30\"]";
        let env = one(cal, "calendars = [\"BIZ\"]\nbusiness_days = [\"1st\", \"last\"]");
        assert_eq!(days_of(&env, "2025-05-01", "2025-05-31"), ["2025-05-03", "2025-05-29"]);
        assert_eq!(reason(&env, "2025-05-29").as_deref(), Some("business day last"));
    }

    #[test]
    fn every_day_with_do_not_start_means_business_days() {
        let env = one(MAY_HOLIDAYS, "holiday = \"do_not_start\"");
        assert_eq!(days_of(&env, "2025-05-08", "2025-05-12"), ["2025-05-08", "2025-05-12"]);
        assert_eq!(reason(&env, "2025-05-08").as_deref(), Some("every day"));
        // With no rule at all, remove still works and RunAnyway keeps holidays.
        let env = one(MAY_HOLIDAYS, "remove = [\"2025-05-08\"]");
        assert_eq!(days_of(&env, "2025-05-08", "2025-05-10"), ["2025-05-09", "2025-05-10"]);
    }

    #[test]
    fn add_remove_and_unions() {
        let env = one("", "weekly = [\"Mon\"]\nmonthly_dates = [1]\nadd = [\"2025-09-03\"]\nremove = [\"2025-09-08\"]");
        assert_eq!(days_of(&env, "2025-09-01", "2025-09-15"), ["2025-09-01", "2025-09-03", "2025-09-15"]);
        // The first rule in the documented order gives the reason.
        assert_eq!(reason(&env, "2025-09-01").as_deref(), Some("weekly Mon"));
        assert_eq!(reason(&env, "2025-09-03").as_deref(), Some("added"));
    }

    #[test]
    fn spec_3_12_add_only_gives_just_the_added_days() {
        let env = one("", "add = [\"2027-11-25\"]");
        assert_eq!(days_of(&env, "2027-11-20", "2027-11-30"), ["2027-11-25"]);
        assert_eq!(reason(&env, "2027-11-25").as_deref(), Some("added"));
        // With `remove` too: the added days minus the removed ones.
        let env = one("", "add = [\"2027-11-25\", \"2027-11-26\"]\nremove = [\"2027-11-26\"]");
        assert_eq!(days_of(&env, "2027-11-20", "2027-11-30"), ["2027-11-25"]);
        // `remove` alone: every day but the removed ones.
        let env = one("", "remove = [\"2027-11-25\"]");
        assert_eq!(days_of(&env, "2027-11-24", "2027-11-26"), ["2027-11-24", "2027-11-26"]);
        // No rule at all: every day; a calendar reference is not a base rule.
        let env = one("[[calendar]]\nname = \"C\"", "calendars = [\"C\"]");
        assert_eq!(days_of(&env, "2027-11-24", "2027-11-26"), ["2027-11-24", "2027-11-25", "2027-11-26"]);
        assert_eq!(reason(&env, "2027-11-24").as_deref(), Some("every day"));
        // `add` with calendars and a holiday on the added day: the holiday rule applies to it.
        let env = one(
            "[[calendar]]\nname = \"C\"\nholidays = [\"2027-11-25\"]",
            "add = [\"2027-11-25\"]\ncalendars = [\"C\"]\nholiday = { shift_after = 2 }",
        );
        assert_eq!(days_of(&env, "2027-11-20", "2027-11-30"), ["2027-11-26"]);
    }

    #[test]
    fn invalid_rule_text_is_not_every_day() {
        let env = one("", "weekly = [\"Mun\"]");
        assert!(days_of(&env, "2025-09-01", "2025-09-30").is_empty());
    }

    #[test]
    fn templates_are_a_union() {
        let env = one(
            "[[template]]\nname = \"A\"\ndays = [\"2025-01-02\"]\n\
             [[template]]\nname = \"B\"\ndays = [\"2025-01-05\", \"2025-01-02\"]",
            "templates = [\"A\", \"B\", \"MISSING\"]",
        );
        let s =
            startup_days(&env, &env.templates, &JobnetKey::new("P", "N"), d("2025-01-01"), d("2025-01-31")).unwrap();
        assert_eq!(s.days().collect::<Vec<_>>(), [d("2025-01-02"), d("2025-01-05")]);
        assert_eq!(s.reason(d("2025-01-05")).unwrap().to_string(), "template B");
    }

    fn chain(extra: &str) -> Environment {
        env_of(&format!(
            "[[jobnet]]\nproject = \"P\"\nname = \"BASE\"\nstart = {{ time = \"09:00\" }}\n\
             [jobnet.startup_days]\nmonthly_dates = [10]\noffset_days = 1\n{extra}\n\
             [[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = {{ time = \"09:00\" }}\n\
             [jobnet.startup_days]\nbase_jobnet = \"MID\"\noffset_days = 1\n\
             [[jobnet]]\nproject = \"P\"\nname = \"MID\"\n\
             [jobnet.startup_days]\nbase_jobnet = \"P/BASE\"\n"
        ))
    }

    #[test]
    fn base_jobnet_is_recursive() {
        let env = chain("");
        assert_eq!(days_of(&env, "2025-05-01", "2025-05-31"), ["2025-05-12"]);
        assert_eq!(reason(&env, "2025-05-12").as_deref(), Some("base jobnet MID offset +1 days"));
    }

    #[test]
    fn bit_pattern_replaces_its_year_and_is_not_inherited() {
        let mut groups = vec!["0".repeat(31); 12];
        groups[4] = format!("1{}", "0".repeat(30)); // 2025-05-01 only
        let env = chain(&format!("bit_pattern = \"2025:{}\"", groups.join("/")));
        let base = |from, to| {
            startup_days(&env, &Templates::new(), &JobnetKey::new("P", "BASE"), d(from), d(to))
                .unwrap()
                .days()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(base("2025-04-01", "2025-06-30"), ["2025-05-01"]);
        assert_eq!(base("2026-05-01", "2026-05-31"), ["2026-05-11"]);
        // The dependent still sees the computed days.
        assert_eq!(days_of(&env, "2025-05-01", "2025-05-31"), ["2025-05-12"]);
    }

    #[test]
    fn base_jobnet_cycle_terminates() {
        let env = env_of(
            "[[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = { time = \"09:00\" }\n\
             [jobnet.startup_days]\nbase_jobnet = \"M\"\nadd = [\"2025-01-03\"]\n\
             [[jobnet]]\nproject = \"P\"\nname = \"M\"\n[jobnet.startup_days]\nbase_jobnet = \"N\"\n",
        );
        assert_eq!(days_of(&env, "2025-01-01", "2025-01-31"), ["2025-01-03"]);
    }

    #[test]
    fn parsers_and_check_spec() {
        assert_eq!(parse_occurrence("2nd last"), Some(Occurrence::NthLast(2)));
        assert_eq!(parse_occurrence("3rd"), Some(Occurrence::Nth(3)));
        assert_eq!(parse_occurrence("3xx"), None);
        assert_eq!(parse_business_day("24th"), None);
        assert_eq!(Occurrence::Nth(22).to_string(), "22nd");
        assert_eq!(Occurrence::Nth(11).to_string(), "11th");
        assert!(parse_bit_pattern("2025:0").is_err());
        let feb30 = format!("2025:{}/{}10/{}", "0".repeat(31), "0".repeat(29), vec!["0".repeat(31); 10].join("/"));
        assert!(parse_bit_pattern(&feb30).unwrap_err().contains("day 30"));
        let spec: StartupDaySpec =
            toml::from_str("business_days = [\"0th\", \"2nd last\"]\noffset_days = 400\nbit_pattern = \"x\"").unwrap();
        let fields: Vec<_> = check_spec(&spec).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["business_days", "offset_days", "bit_pattern"]);
        assert!(check_spec(&StartupDaySpec::default()).is_empty());
    }
}
