//! The start forecast: when every time-started jobnet will start over a
//! range of operating days, and why on that day.
//!
//! A jobnet appears when its start condition is `time`, `times` or
//! `interval` (its starts), or `message_only` with a `scheduled_start` (one
//! entry of kind [`StartKind::Scheduled`] per startup day: the time
//! start-delay monitoring compares against). `none` and `environment_start`
//! give no instants. Only operating days that are startup days
//! ([`crate::startup`]) have starts.
//!
//! Times are times of the operating day (a time earlier than the day-change
//! time falls on the next calendar date) and become instants by the DST rule
//! of [`crate::calendar`]: a time in a spring-forward gap starts when the gap
//! ends, a time in a fall-back overlap starts once, at the earlier instant.
//! When two times of one jobnet become the same instant that way (e.g. an
//! interval's 02:00 and 02:30 on a spring-forward day), the jobnet starts
//! once: the instants of one jobnet strictly increase.
//!
//! A start belongs to the operating day its instant lies in. A start of
//! operating day *D* can only leave *D*'s span one way: a time earlier than
//! the day-change time (so on the next calendar date) inside a
//! spring-forward gap that also swallows the day-change time, so that both
//! become the instant the gap ends, which is when operating day *D+1*
//! begins. Such a start belongs to *D+1*: when *D+1* has a start at that
//! instant too, they are one start, *D+1*'s (with its reason); otherwise it
//! is listed for *D+1* with *D*'s reason. Either way the jobnet starts once
//! there, and the engine, which begins *D+1* at that instant, fires it.

use std::collections::HashMap;
use std::ops::ControlFlow;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use crate::calendar::{day_change_of, local_to_utc, operating_day};
use crate::defs::{Environment, JobnetKey};
use crate::model::{HourMinute, JobnetDef, StartCondition, TimeCombination};
use crate::startup::{Planner, ReasonKey, StartReason};

/// What a planned start is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// The jobnet starts at this time.
    Time,
    /// The jobnet starts at this time if its message events have occurred
    /// (message wait with `with_time = "and_time"`).
    TimeIfEvents,
    /// A message-only jobnet's scheduled start: it starts by message events;
    /// this is the time start-delay monitoring compares against.
    Scheduled,
}

/// One forecast start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedStart {
    /// The jobnet (serialized `"P/N"`).
    pub jobnet: JobnetKey,
    /// The operating day the start belongs to.
    pub operating_day: NaiveDate,
    /// The instant in the environment's time zone (serialized as `at`, RFC 3339 with offset).
    #[serde(rename = "at")]
    pub local: DateTime<FixedOffset>,
    /// The instant (serialized as `at_utc`).
    #[serde(rename = "at_utc")]
    pub at: DateTime<Utc>,
    /// Why the operating day is a startup day.
    pub reason: StartReason,
    /// What kind of start this is.
    pub kind: StartKind,
}

/// One forecast start as [`plan_each`] visits it: a [`PlannedStart`] that
/// borrows its jobnet key and reason instead of owning them. Serializes
/// exactly like [`PlannedStart`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedStartRef<'a> {
    /// The jobnet (serialized `"P/N"`).
    pub jobnet: &'a JobnetKey,
    /// The operating day the start belongs to.
    pub operating_day: NaiveDate,
    /// The instant in the environment's time zone (serialized as `at`, RFC 3339 with offset).
    #[serde(rename = "at")]
    pub local: DateTime<FixedOffset>,
    /// The instant (serialized as `at_utc`).
    #[serde(rename = "at_utc")]
    pub at: DateTime<Utc>,
    /// Why the operating day is a startup day.
    pub reason: &'a StartReason,
    /// What kind of start this is.
    pub kind: StartKind,
}

impl PlannedStartRef<'_> {
    /// The owned form.
    pub fn to_start(&self) -> PlannedStart {
        PlannedStart {
            jobnet: self.jobnet.clone(),
            operating_day: self.operating_day,
            local: self.local,
            at: self.at,
            reason: self.reason.clone(),
            kind: self.kind,
        }
    }
}

impl From<PlannedStartRef<'_>> for PlannedStart {
    fn from(s: PlannedStartRef<'_>) -> PlannedStart {
        s.to_start()
    }
}

/// The forecast of every time-started jobnet (or only `filter`) for the
/// operating days `[from, to]`, sorted by instant, then project and jobnet.
/// Collects [`plan_each`].
pub fn plan(env: &Environment, from: NaiveDate, to: NaiveDate, filter: Option<&JobnetKey>) -> Vec<PlannedStart> {
    let mut out = Vec::new();
    plan_each(env, from, to, filter, |s| out.push(s.to_start()));
    out
}

/// The forecast of [`plan`], streamed: calls `visit` once per start, in the
/// order of [`plan`] (by instant, then project and jobnet), without
/// collecting the starts. Returns the number of starts. Memory stays
/// proportional to the jobnets and the starts of about two days, whatever
/// the range.
pub fn plan_each<F>(
    env: &Environment,
    from: NaiveDate,
    to: NaiveDate,
    filter: Option<&JobnetKey>,
    mut visit: F,
) -> usize
where
    F: FnMut(PlannedStartRef<'_>),
{
    let jobnets: Vec<(&JobnetKey, &JobnetDef)> = match filter {
        Some(key) => env.jobnets.get_key_value(key).map(|(k, d)| (k, &**d)).into_iter().collect(),
        None => env.jobnets.iter().map(|(k, d)| (k, &**d)).filter(|(_, d)| has_instants(d)).collect(),
    };
    forecast(env, from, to, &jobnets, |s| {
        visit(s);
        ControlFlow::Continue(())
    })
}

/// The `woi plan --json` document: `{"from", "starts", "timezone", "to"}`
/// with the keys of every object in alphabetical order. Serializing it
/// streams the plan through [`plan_each`]: the starts are written one by
/// one, never collected.
#[derive(Clone, Copy, Debug)]
pub struct PlanDocument<'a> {
    /// The environment planned.
    pub env: &'a Environment,
    /// The first operating day.
    pub from: NaiveDate,
    /// The last operating day (inclusive).
    pub to: NaiveDate,
    /// Only this jobnet, when given.
    pub filter: Option<&'a JobnetKey>,
}

impl Serialize for PlanDocument<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("from", &self.from.to_string())?;
        m.serialize_entry("starts", &DocumentStarts(self))?;
        m.serialize_entry("timezone", self.env.tz.name())?;
        m.serialize_entry("to", &self.to.to_string())?;
        m.end()
    }
}

/// The `starts` of a [`PlanDocument`], streamed.
struct DocumentStarts<'a>(&'a PlanDocument<'a>);

impl Serialize for DocumentStarts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut seq = s.serialize_seq(None)?;
        let mut failed = None;
        plan_each(d.env, d.from, d.to, d.filter, |start| {
            if failed.is_none()
                && let Err(e) = seq.serialize_element(&Alphabetical(start))
            {
                failed = Some(e);
            }
        });
        match failed {
            Some(e) => Err(e),
            None => seq.end(),
        }
    }
}

/// A start with its keys in alphabetical order.
struct Alphabetical<'a>(PlannedStartRef<'a>);

impl Serialize for Alphabetical<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        let mut st = s.serialize_struct("PlannedStart", 6)?;
        st.serialize_field("at", &p.local)?;
        st.serialize_field("at_utc", &p.at)?;
        st.serialize_field("jobnet", p.jobnet)?;
        st.serialize_field("kind", &p.kind)?;
        st.serialize_field("operating_day", &p.operating_day)?;
        st.serialize_field("reason", p.reason)?;
        st.end()
    }
}

/// The first start of jobnet `key` strictly after `after`, looking at most
/// about two years ahead. `None` when the jobnet does not exist, has no
/// time-based start, or has no startup day in that time.
pub fn next_start_after(env: &Environment, key: &JobnetKey, after: DateTime<Utc>) -> Option<PlannedStart> {
    let (key, def) = env.jobnets.get_key_value(key)?;
    if !has_instants(def) {
        return None;
    }
    // The starts of operating day D lie in [D + dct, D+1 + dct], so day D0 of `after` is the first candidate.
    let d0 = operating_day(env.tz, day_change_of(env, def), after);
    let day = |n: u64| d0.checked_add_days(Days::new(n));
    // A week first: most jobnets start within it, and a short range is cheap.
    for (a, b) in [(Some(d0), day(7)), (day(8), day(62)), (day(63), day(731))] {
        let (Some(a), Some(b)) = (a, b) else { break };
        let mut found = None;
        forecast(env, a, b, &[(key, def)], |s| {
            if s.at > after {
                found = Some(s.to_start());
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Whether the start condition of `def` gives instants (see [`start_times`]).
fn has_instants(def: &JobnetDef) -> bool {
    match &def.start {
        StartCondition::Time(_) | StartCondition::Interval(_) => true,
        StartCondition::Times(ts) => !ts.is_empty(),
        StartCondition::MessageOnly(m) => m.scheduled_start.is_some(),
        _ => false,
    }
}

/// The times of one operating day, in operating-day order, and their kind;
/// `None` for start conditions without instants.
fn start_times(def: &JobnetDef, dct: HourMinute) -> Option<(Vec<HourMinute>, StartKind)> {
    let kind = match &def.messages {
        Some(m) if m.with_time == TimeCombination::AndTime => StartKind::TimeIfEvents,
        _ => StartKind::Time,
    };
    match &def.start {
        StartCondition::Time(t) => Some((vec![*t], kind)),
        StartCondition::Times(ts) if !ts.is_empty() => Some((ts.clone(), kind)),
        StartCondition::Interval(iv) => Some((interval_times(iv.from, iv.to, iv.every_min, dct), kind)),
        StartCondition::MessageOnly(m) => m.scheduled_start.map(|t| (vec![t], StartKind::Scheduled)),
        _ => None,
    }
}

/// Interval starts: `from`, then every `every` minutes while not after `to`
/// (inclusive, MODEL-047), in operating-day order (day-change time `dct`). A
/// `to` before `from` in operating-day order, or `every = 0`, gives only `from`.
fn interval_times(from: HourMinute, to: HourMinute, every: u16, dct: HourMinute) -> Vec<HourMinute> {
    let rel = |t: HourMinute| (t.minutes() + 1440 - dct.minutes()) % 1440;
    let span = rel(to).saturating_sub(rel(from));
    let step = u32::from(every);
    let mut out = vec![from];
    if step == 0 {
        return out;
    }
    let mut k = step;
    while k <= span {
        let m = (from.minutes() + k) % 1440;
        out.push(HourMinute { hour: (m / 60) as u8, minute: (m % 60) as u8 });
        k += step;
    }
    out
}

/// Offsets of each local date of a range: when the whole date has one UTC
/// offset, the instant of its local midnight (seconds) and the offset, so a
/// wall-clock time becomes an instant by arithmetic; dates with a DST change
/// go through [`local_to_utc`] (remembered per date and time).
struct LocalDays {
    tz: Tz,
    first: NaiveDate,
    days: Vec<Option<(i64, i32)>>,
    changes: HashMap<(usize, u16), (i64, i32)>,
}

impl LocalDays {
    fn new(tz: Tz, first: NaiveDate, last: NaiveDate) -> LocalDays {
        let single = |d: NaiveDate| match tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)) {
            chrono::LocalResult::Single(t) => Some((t.timestamp(), t.offset().fix().local_minus_utc())),
            _ => None,
        };
        let mut days = Vec::new();
        let mut next = single(first);
        for d in first.iter_days().take_while(|d| *d <= last) {
            let here = next;
            next = d.succ_opt().and_then(single);
            days.push(match (here, next) {
                (Some((midnight, a)), Some((_, b))) if a == b => Some((midnight, a)),
                _ => None,
            });
        }
        LocalDays { tz, first, days, changes: HashMap::new() }
    }

    /// The instant (Unix seconds) of wall-clock `hm` on the date `index`
    /// days after the first, and the UTC offset there.
    #[inline]
    fn instant(&mut self, index: usize, hm: HourMinute) -> (i64, i32) {
        if let Some(Some((midnight, off))) = self.days.get(index) {
            return (midnight + i64::from(hm.minutes()) * 60, *off);
        }
        self.changing(index, hm)
    }

    /// [`LocalDays::instant`] on a date with a UTC offset change.
    #[cold]
    fn changing(&mut self, index: usize, hm: HourMinute) -> (i64, i32) {
        let (tz, first) = (self.tz, self.first);
        *self.changes.entry((index, hm.minutes() as u16)).or_insert_with(|| {
            let date = first.checked_add_days(Days::new(index as u64)).unwrap_or(first);
            let naive = crate::calendar::at_time(date, hm);
            let utc = local_to_utc(tz, naive).unwrap_or_else(|| naive.and_utc());
            (utc.timestamp(), tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc())
        })
    }
}

/// The starts of one group of jobnets at one instant, before they are
/// visited: the group by its position in the group list, the day by its
/// index in the range, the reason by its position in the reason table.
#[derive(Clone, Copy)]
struct Entry {
    at: i64,
    offset: i32,
    group: u32,
    day: u32,
    reason: u32,
}

/// Jobnets whose starts are the same instants for the same reasons: the same
/// startup days, day-change time and times.
struct Group {
    /// Positions in the jobnet list (which is in key order), ascending.
    members: Vec<u32>,
    /// Its times, `(time, 1 when it falls on the next calendar date)`, a range of the shared list.
    times: std::ops::Range<usize>,
    /// Where its startup days begin in the reason-per-day table.
    days: usize,
    /// Its last start so far (the starts of a jobnet strictly increase).
    last: i64,
    /// Its day-change time.
    dct: HourMinute,
}

/// What the starts of one entry share: operating day, local instant, instant, reason.
type Shared<'r> = (NaiveDate, DateTime<FixedOffset>, DateTime<Utc>, &'r StartReason);

/// No reason: not a startup day.
const NO_DAY: u32 = u32::MAX;

/// The forecast of `jobnets` (in key order) over the operating days
/// `[from, to]`, visited in order of (instant, jobnet) until `visit` breaks.
/// Returns the number of starts visited.
///
/// Jobnets with the same startup days, day-change time and times form a
/// group whose starts are computed once. Day by day, every group's starts of
/// the operating day are made; those before the earliest day change of the
/// next operating day (over the day-change times in use) can no longer be
/// preceded by a later start, so they are sorted and visited, the rest wait
/// for the next day.
fn forecast<'e, F>(
    env: &'e Environment,
    from: NaiveDate,
    to: NaiveDate,
    jobnets: &[(&'e JobnetKey, &'e JobnetDef)],
    mut visit: F,
) -> usize
where
    F: FnMut(PlannedStartRef<'_>) -> ControlFlow<()>,
{
    if from > to || jobnets.is_empty() {
        return 0;
    }
    // The day before `from` too: one of its starts may belong to `from` (see the module documentation).
    let first = from.pred_opt().unwrap_or(from);
    let hidden = usize::from(first < from);
    let dates: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= to).collect();
    let ndays = dates.len();
    let mut planner = Planner::new(env, &env.templates, first, to, jobnets.iter().map(|(k, _)| *k));
    let mut local = LocalDays::new(env.tz, first, to.succ_opt().unwrap_or(to));

    // The reason of each day of each startup-day class, spelled out once per class and reason.
    let mut reasons: Vec<StartReason> = Vec::new();
    let mut class_days: Vec<u32> = Vec::new();
    let mut class_slot: HashMap<usize, (usize, HourMinute)> = HashMap::new();
    let mut all_times: Vec<(HourMinute, usize)> = Vec::new();
    let mut dcts: Vec<HourMinute> = Vec::new();
    let mut kinds: Vec<StartKind> = vec![StartKind::Time; jobnets.len()];
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<(usize, HourMinute, Vec<HourMinute>), usize> = HashMap::new();
    for (n, (_, def)) in (0u32..).zip(jobnets) {
        if !has_instants(def) {
            continue;
        }
        // Equal startup-day rules name the same calendars, so the class gives the day-change time too.
        let c = planner.class_of(def);
        let (slot, dct) = match class_slot.get(&c) {
            Some(slot) => *slot,
            None => {
                let dct = day_change_of(env, def);
                let Some(days) = planner.class(c) else { continue };
                let Ok(skip) = usize::try_from((first - days.first()).num_days()) else { continue };
                let slot = class_days.len();
                let mut ids: HashMap<ReasonKey, u32> = HashMap::new();
                let mut prev: Option<(ReasonKey, u32)> = None;
                for di in 0..ndays {
                    let Some(key) = days.key_at(skip + di) else {
                        class_days.push(NO_DAY);
                        continue;
                    };
                    let id = match prev {
                        Some((k, id)) if k == key => id,
                        _ => *ids.entry(key).or_insert_with(|| {
                            reasons.push(days.reason_of_key(key));
                            u32::try_from(reasons.len() - 1).unwrap_or(NO_DAY - 1)
                        }),
                    };
                    prev = Some((key, id));
                    class_days.push(id);
                }
                class_slot.insert(c, (slot, dct));
                (slot, dct)
            }
        };
        let Some((mut times, kind)) = start_times(def, dct) else { continue };
        if let Some(k) = kinds.get_mut(n as usize) {
            *k = kind;
        }
        times.sort_by_key(|t| (t.minutes() + 1440 - dct.minutes()) % 1440);
        times.dedup();
        if !dcts.contains(&dct) {
            dcts.push(dct);
        }
        match group_of.entry((slot, dct, times)) {
            std::collections::hash_map::Entry::Occupied(g) => {
                if let Some(g) = groups.get_mut(*g.get()) {
                    g.members.push(n);
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                // A time before the day-change time falls on the next calendar date.
                let start = all_times.len();
                all_times.extend(v.key().2.iter().map(|t| (*t, usize::from(*t < dct))));
                groups.push(Group { members: vec![n], times: start..all_times.len(), days: slot, last: i64::MIN, dct });
                v.insert(groups.len() - 1);
            }
        }
    }

    let mut count = 0;
    let mut waiting: Vec<Entry> = Vec::new();
    let mut fresh: Vec<Entry> = Vec::new();
    let mut merged: Vec<Entry> = Vec::new();
    let mut ties: Vec<(u32, u32)> = Vec::new();
    let mut scratch = SortScratch::default();
    let mut utc = UtcDays::default();
    for di in 0..ndays {
        let day = u32::try_from(di).unwrap_or(u32::MAX);
        for (g, group) in (0u32..).zip(groups.iter_mut()) {
            let reason = class_days.get(group.days + di).copied().unwrap_or(NO_DAY);
            if reason == NO_DAY {
                continue;
            }
            // Operating day D+1 begins here; a start of D at that instant belongs to D+1.
            let mut next_day: Option<i64> = None;
            for (t, next_date) in all_times.get(group.times.clone()).unwrap_or(&[]) {
                let (at, offset) = local.instant(di + next_date, *t);
                if at <= group.last {
                    if at == group.last {
                        // D's start moved into this day (D+1) and this day's own start are one start: this day's.
                        for e in waiting.iter_mut().filter(|e| e.group == g && e.at == at && e.day == day) {
                            e.reason = reason;
                        }
                    }
                    continue;
                }
                group.last = at;
                let mut owner = day;
                if *next_date == 1 && at >= *next_day.get_or_insert_with(|| local.instant(di + 1, group.dct).0) {
                    if di + 1 >= ndays {
                        // It belongs to the operating day after the range.
                        continue;
                    }
                    owner = day.saturating_add(1);
                }
                fresh.push(Entry { at, offset, group: g, day: owner, reason });
            }
        }
        // Every start of a later operating day is at or after the earliest day change of the next one.
        let bound = if di + 1 < ndays {
            dcts.iter().map(|dct| local.instant(di + 1, *dct).0).min().unwrap_or(i64::MAX)
        } else {
            i64::MAX
        };
        scratch.sort(&mut fresh);
        if waiting.is_empty() {
            std::mem::swap(&mut merged, &mut fresh);
        } else {
            merge(&waiting, &fresh, &mut merged);
        }
        fresh.clear();
        let ready = merged.partition_point(|e| e.at < bound);
        let mut i = 0;
        while let Some(first) = merged.get(i).filter(|_| i < ready) {
            // The entries at one instant; their jobnets are visited in key order.
            let run = merged.get(i..ready).map_or(1, |rest| rest.iter().take_while(|e| e.at == first.at).count());
            ties.clear();
            for (k, e) in (0u32..).zip(merged.get(i..i + run).unwrap_or(&[])) {
                if let Some(g) = groups.get(e.group as usize) {
                    ties.extend(g.members.iter().map(|m| (*m, k)));
                }
            }
            if run > 1 {
                ties.sort_unstable();
            }
            let mut shown: Option<(u32, Option<Shared<'_>>)> = None;
            for (m, k) in &ties {
                if merged.get(i + *k as usize).is_some_and(|e| (e.day as usize) < hidden) {
                    // A start of the day before the range.
                    continue;
                }
                let common = match shown {
                    Some((shown_k, common)) if shown_k == *k => common,
                    _ => {
                        let common = merged.get(i + *k as usize).and_then(|e| {
                            let at = utc.at(e.at)?;
                            Some((
                                *dates.get(e.day as usize)?,
                                at.with_timezone(&FixedOffset::east_opt(e.offset)?),
                                at,
                                reasons.get(e.reason as usize)?,
                            ))
                        });
                        shown = Some((*k, common));
                        common
                    }
                };
                let (Some((operating_day, local, at, reason)), Some((key, _)), Some(&kind)) =
                    (common, jobnets.get(*m as usize), kinds.get(*m as usize))
                else {
                    continue;
                };
                count += 1;
                if visit(PlannedStartRef { jobnet: key, operating_day, local, at, reason, kind }).is_break() {
                    return count;
                }
            }
            i += run;
        }
        waiting.clear();
        waiting.extend_from_slice(merged.get(ready..).unwrap_or(&[]));
        merged.clear();
    }
    count
}

/// Unix seconds to `DateTime<Utc>`, remembering the last date (starts come
/// in time order, so most share it).
#[derive(Default)]
struct UtcDays {
    last: Option<(i64, NaiveDate)>,
}

impl UtcDays {
    fn at(&mut self, secs: i64) -> Option<DateTime<Utc>> {
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let date = match self.last {
            Some((d, date)) if d == days => date,
            _ => {
                let date = DateTime::from_timestamp(days * 86_400, 0)?.date_naive();
                self.last = Some((days, date));
                date
            }
        };
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(rem).ok()?, 0)?;
        Some(date.and_time(time).and_utc())
    }
}

/// Merge two runs sorted by instant into `out` (cleared first).
fn merge(a: &[Entry], b: &[Entry], out: &mut Vec<Entry>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if y.at < x.at {
            out.push(*y);
            j += 1;
        } else {
            out.push(*x);
            i += 1;
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or(&[]));
    out.extend_from_slice(b.get(j..).unwrap_or(&[]));
}

/// Buffers for sorting one day's starts.
#[derive(Default)]
struct SortScratch {
    counts: Vec<u32>,
    out: Vec<Entry>,
}

impl SortScratch {
    /// Sort `entries` by instant: a counting sort on the minute of the
    /// instant does it in linear time (starts are on whole minutes); a
    /// comparison sort finishes any rest.
    fn sort(&mut self, entries: &mut Vec<Entry>) {
        let key = |e: &Entry| e.at;
        let (Some(min), Some(max)) = (entries.iter().map(|e| e.at).min(), entries.iter().map(|e| e.at).max()) else {
            return;
        };
        let buckets = usize::try_from((max - min) / 60 + 1).unwrap_or(usize::MAX);
        if entries.len() > 64 && buckets <= entries.len().saturating_mul(4).max(1 << 12) {
            let bucket = |e: &Entry| ((e.at - min) / 60) as usize;
            self.counts.clear();
            self.counts.resize(buckets + 1, 0);
            for e in entries.iter() {
                if let Some(c) = self.counts.get_mut(bucket(e) + 1) {
                    *c += 1;
                }
            }
            for i in 1..self.counts.len() {
                self.counts[i] += self.counts[i - 1];
            }
            self.out.clear();
            self.out.resize(entries.len(), entries[0]);
            for e in entries.iter() {
                if let Some(c) = self.counts.get_mut(bucket(e)) {
                    if let Some(slot) = self.out.get_mut(*c as usize) {
                        *slot = *e;
                    }
                    *c += 1;
                }
            }
            std::mem::swap(entries, &mut self.out);
        }
        if !entries.is_sorted_by_key(key) {
            entries.sort_by_key(key);
        }
    }
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

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// `(local time RFC 3339, reason)` of every start.
    fn starts(env: &Environment, from: &str, to: &str) -> Vec<(String, String)> {
        plan(env, d(from), d(to), None).iter().map(|s| (s.local.to_rfc3339(), s.reason.to_string())).collect()
    }

    fn at(env: &Environment, from: &str, to: &str) -> Vec<String> {
        starts(env, from, to).into_iter().map(|(a, _)| a).collect()
    }

    fn jobnet(name: &str, body: &str) -> String {
        format!("[[jobnet]]\nproject = \"P\"\nname = \"{name}\"\n{body}\n")
    }

    // MODEL-037 MODEL-045 MODEL-046
    #[test]
    fn model_037_045_046_single_time_only_on_startup_days() {
        let env = env_of(&jobnet("N", "start = { time = \"09:00\" }\nstartup_days = { weekly = [\"Tue\", \"Wed\"] }"));
        assert_eq!(
            starts(&env, "2025-04-01", "2025-04-07"),
            [
                ("2025-04-01T09:00:00+09:00".into(), "weekly Tue".into()),
                ("2025-04-02T09:00:00+09:00".into(), "weekly Wed".into())
            ]
        );
    }

    // MODEL-047
    #[test]
    fn model_047_interval_end_is_inclusive() {
        let env = env_of(&jobnet("N", "start = { interval = { from = \"09:00\", to = \"11:00\", every_min = 60 } }"));
        assert_eq!(
            at(&env, "2025-04-01", "2025-04-01"),
            ["2025-04-01T09:00:00+09:00", "2025-04-01T10:00:00+09:00", "2025-04-01T11:00:00+09:00"]
        );
    }

    #[test]
    fn interval_across_day_change_and_backwards_window() {
        let cal = "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nday_change = \"05:00\"\n";
        let env = env_of(&format!(
            "{cal}{}",
            jobnet("N", "start = { interval = { from = \"23:00\", to = \"01:00\", every_min = 60 } }")
        ));
        assert_eq!(
            at(&env, "2025-04-01", "2025-04-01"),
            ["2025-04-01T23:00:00+09:00", "2025-04-02T00:00:00+09:00", "2025-04-02T01:00:00+09:00"]
        );
        // With a 00:00 day change, 01:00 comes before 23:00: only the first start.
        let env = env_of(&jobnet("N", "start = { interval = { from = \"23:00\", to = \"01:00\", every_min = 60 } }"));
        assert_eq!(at(&env, "2025-04-01", "2025-04-01"), ["2025-04-01T23:00:00+09:00"]);
    }

    // MODEL-077
    #[test]
    fn model_077_start_before_day_change_falls_on_next_date() {
        let cal = "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nday_change = \"05:00\"\n";
        let env = env_of(&format!("{cal}{}", jobnet("N", "start = { time = \"03:00\" }")));
        let p = plan(&env, d("2025-04-01"), d("2025-04-01"), None);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].operating_day, d("2025-04-01"));
        assert_eq!(p[0].at, t("2025-04-02T03:00:00+09:00"));
    }

    #[test]
    fn d9_holiday_judged_on_operating_day() {
        let cal = "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nday_change = \"05:00\"\nholidays = [\"2027-05-03\"]\n";
        let env = env_of(&format!(
            "{cal}{}",
            jobnet("N", "start = { time = \"03:00\" }\nstartup_days = { annual_dates = [\"05-03\"] }")
        ));
        assert_eq!(
            starts(&env, "2027-05-01", "2027-05-31"),
            [("2027-05-04T03:00:00+09:00".into(), "annual 05-03 on holiday".into())]
        );
        // DoNotStart drops it, although the start's calendar date 2027-05-04 is no holiday.
        let env = env_of(&format!(
            "{cal}{}",
            jobnet(
                "N",
                "start = { time = \"03:00\" }\nstartup_days = { annual_dates = [\"05-03\"], holiday = \"do_not_start\" }"
            )
        ));
        assert!(at(&env, "2027-05-01", "2027-05-31").is_empty());
    }

    #[test]
    fn day_change_from_the_first_calendar() {
        let env = env_of(&format!(
            "[[calendar]]\nname = \"LATE\"\nday_change = \"06:00\"\n{}",
            jobnet("N", "start = { times = [\"05:00\", \"07:00\"] }\nstartup_days = { calendars = [\"LATE\"] }")
        ));
        assert_eq!(at(&env, "2025-04-01", "2025-04-01"), ["2025-04-01T07:00:00+09:00", "2025-04-02T05:00:00+09:00"]);
    }

    // MODEL-085
    #[test]
    fn model_085_changing_day_change_recomputes() {
        let defs = |dct: &str| {
            env_of(&format!(
                "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nday_change = \"{dct}\"\n{}",
                jobnet("N", "start = { time = \"04:00\" }")
            ))
        };
        assert_eq!(at(&defs("00:00"), "2025-04-01", "2025-04-01"), ["2025-04-01T04:00:00+09:00"]);
        assert_eq!(at(&defs("06:00"), "2025-04-01", "2025-04-01"), ["2025-04-02T04:00:00+09:00"]);
    }

    /// QA F1: a start of operating day D that the spring-forward gap puts on D+1's day change belongs to D+1.
    #[test]
    fn dst_start_on_next_day_change_belongs_to_the_next_operating_day() {
        let env = env_of(&format!(
            "[environment]\ntimezone = \"America/New_York\"\n[[calendar]]\nname = \"DC\"\nday_change = \"02:30\"\n{}{}",
            jobnet("A", "start = { times = [\"02:30\", \"02:00\"] }\nstartup_days = { calendars = [\"DC\"] }"),
            jobnet(
                "B",
                "start = { times = [\"02:30\", \"02:00\"] }\nstartup_days = { calendars = [\"DC\"], weekly = [\"Sat\"] }"
            ),
        ));
        let rows = |from: &str, to: &str| {
            plan(&env, d(from), d(to), None)
                .iter()
                .map(|s| format!("{} {} {} {}", s.local.to_rfc3339(), s.operating_day, s.jobnet, s.reason))
                .collect::<Vec<_>>()
        };
        let both = [
            "2027-03-14T03:00:00-04:00 2027-03-14 P/A every day",
            "2027-03-14T03:00:00-04:00 2027-03-14 P/B weekly Sat",
        ];
        assert_eq!(rows("2027-03-13", "2027-03-14")[2..4], both);
        assert_eq!(rows("2027-03-14", "2027-03-14")[..2], both);
        assert_eq!(
            rows("2027-03-13", "2027-03-13"),
            [
                "2027-03-13T02:30:00-05:00 2027-03-13 P/A every day",
                "2027-03-13T02:30:00-05:00 2027-03-13 P/B weekly Sat"
            ]
        );
        // The engine's next start: after 03-13 02:30 EST comes 03:00 EDT, for operating day 03-14.
        let next = next_start_after(&env, &JobnetKey::new("P", "A"), t("2027-03-13T02:30:00-05:00")).unwrap();
        assert_eq!((next.at, next.operating_day), (t("2027-03-14T03:00:00-04:00"), d("2027-03-14")));
        let next = next_start_after(&env, &JobnetKey::new("P", "A"), next.at).unwrap();
        assert_eq!(next.at, t("2027-03-15T02:00:00-04:00"));
        // Merged with the next day's own start: the next day's reason.
        let env = env_of(&format!(
            "[environment]\ntimezone = \"America/New_York\"\n[[calendar]]\nname = \"DC\"\nday_change = \"02:30\"\n{}",
            jobnet(
                "C",
                "start = { times = [\"02:30\", \"02:00\"] }\nstartup_days = { calendars = [\"DC\"], weekly = [\"Sat\", \"Sun\"] }"
            ),
        ));
        let merged: Vec<_> = plan(&env, d("2027-03-13"), d("2027-03-14"), None)
            .iter()
            .map(|s| (s.operating_day, s.reason.to_string()))
            .collect();
        assert_eq!(
            merged,
            [
                (d("2027-03-13"), "weekly Sat".to_string()),
                (d("2027-03-14"), "weekly Sun".to_string()),
                (d("2027-03-14"), "weekly Sun".to_string())
            ]
        );
    }

    #[test]
    fn dst_new_york_spring_forward_daily_0230_once_at_0300() {
        let env = env_of(&format!(
            "[environment]\ntimezone = \"America/New_York\"\n{}",
            jobnet("N", "start = { time = \"02:30\" }")
        ));
        assert_eq!(
            at(&env, "2026-03-07", "2026-03-09"),
            ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
        );
        // Two times in the gap become one start.
        let env = env_of(&format!(
            "[environment]\ntimezone = \"America/New_York\"\n{}",
            jobnet("N", "start = { interval = { from = \"01:30\", to = \"03:30\", every_min = 30 } }")
        ));
        assert_eq!(
            at(&env, "2026-03-08", "2026-03-08"),
            ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]
        );
    }

    #[test]
    fn dst_london_fall_back_0130_once_at_earlier_bst() {
        let env = env_of(&format!(
            "[environment]\ntimezone = \"Europe/London\"\n{}",
            jobnet("N", "start = { time = \"01:30\" }")
        ));
        let p = plan(&env, d("2026-10-24"), d("2026-10-26"), None);
        let utc: Vec<_> = p.iter().map(|s| s.at).collect();
        assert_eq!(utc, [t("2026-10-24T00:30:00Z"), t("2026-10-25T00:30:00Z"), t("2026-10-26T01:30:00Z")]);
        assert_eq!(p[1].local.to_rfc3339(), "2026-10-25T01:30:00+01:00");
    }

    #[test]
    fn message_only_scheduled_start_and_kinds() {
        let env = env_of(&format!(
            "{}{}{}{}",
            jobnet(
                "A",
                "start = { message_only = { once_a_day = true, scheduled_start = \"10:00\" } }\n\
                 messages = { events = [\"E\"] }"
            ),
            jobnet("B", "start = { time = \"10:00\" }\nmessages = { events = [\"E\"], with_time = \"and_time\" }"),
            jobnet("C", "start = \"environment_start\""),
            jobnet("D", "start = { message_only = { once_a_day = true } }")
        ));
        let p = plan(&env, d("2025-04-01"), d("2025-04-01"), None);
        let got: Vec<_> = p.iter().map(|s| (s.jobnet.to_string(), s.kind)).collect();
        assert_eq!(got, [("P/A".into(), StartKind::Scheduled), ("P/B".into(), StartKind::TimeIfEvents)]);
    }

    #[test]
    fn sorted_by_instant_then_key_and_filtered() {
        let env = env_of(&format!(
            "{}{}{}",
            jobnet("B", "start = { time = \"09:00\" }"),
            jobnet("A", "start = { times = [\"09:00\", \"08:00\"] }"),
            "[[jobnet]]\nproject = \"O\"\nname = \"Z\"\nstart = { time = \"09:00\" }\n"
        ));
        let p = plan(&env, d("2025-04-01"), d("2025-04-01"), None);
        let got: Vec<_> = p.iter().map(|s| format!("{} {}", s.local.format("%H:%M"), s.jobnet)).collect();
        assert_eq!(got, ["08:00 P/A", "09:00 O/Z", "09:00 P/A", "09:00 P/B"]);
        let key = JobnetKey::new("P", "B");
        assert_eq!(plan(&env, d("2025-04-01"), d("2025-04-03"), Some(&key)).len(), 3);
        assert!(plan(&env, d("2025-04-02"), d("2025-04-01"), None).is_empty());
    }

    #[test]
    fn serializes_with_key_and_offset() {
        let env = env_of(&jobnet("N", "start = { time = \"09:00\" }"));
        let p = plan(&env, d("2026-04-01"), d("2026-04-01"), None);
        let v = serde_json::to_value(&p[0]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "jobnet": "P/N",
                "operating_day": "2026-04-01",
                "at": "2026-04-01T09:00:00+09:00",
                "at_utc": "2026-04-01T00:00:00Z",
                "reason": "every day",
                "kind": "time"
            })
        );
    }

    #[test]
    fn next_start_after_is_strictly_later_and_bounded() {
        let env = env_of(&format!(
            "{}{}",
            jobnet("N", "start = { times = [\"09:00\", \"12:00\"] }\nstartup_days = { monthly_dates = [15] }"),
            jobnet(
                "X",
                "start = { time = \"09:00\" }\nstartup_days = { annual_dates = [\"02-29\"], valid_period = { from = \"2025-01-01\", to = \"2025-12-31\" } }"
            )
        ));
        let key = JobnetKey::new("P", "N");
        let next = |s: &str| next_start_after(&env, &key, t(s)).map(|p| p.local.to_rfc3339());
        assert_eq!(next("2025-04-15T09:00:00+09:00").as_deref(), Some("2025-04-15T12:00:00+09:00"));
        assert_eq!(next("2025-04-15T12:00:00+09:00").as_deref(), Some("2025-05-15T09:00:00+09:00"));
        assert_eq!(next("2025-04-15T08:59:59+09:00").as_deref(), Some("2025-04-15T09:00:00+09:00"));
        assert_eq!(next_start_after(&env, &JobnetKey::new("P", "X"), t("2025-01-01T00:00:00Z")), None);
        assert_eq!(next_start_after(&env, &JobnetKey::new("P", "NOPE"), t("2025-01-01T00:00:00Z")), None);
        // A yearly start more than 62 days away is found in the second look-ahead.
        let env = env_of(&jobnet("Y", "start = { time = \"09:00\" }\nstartup_days = { annual_dates = [\"12-24\"] }"));
        let p = next_start_after(&env, &JobnetKey::new("P", "Y"), t("2025-01-01T00:00:00Z")).unwrap();
        assert_eq!(p.local.to_rfc3339(), "2025-12-24T09:00:00+09:00");
    }

    mod prop {
        use super::*;
        use crate::calendar::day_change_instant;
        use chrono::{Datelike, Weekday};
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        #[derive(Debug, Clone)]
        struct Case {
            tz: &'static str,
            dct: (u8, u8),
            from: NaiveDate,
            span: u64,
            holidays: BTreeSet<NaiveDate>,
            weekly: Vec<u8>,
            monthly: Vec<u8>, // 32 = last
            offset: i16,
            handling: (u8, u8),
            invalid: Option<(i64, i64)>,
            times: Vec<(u8, u8)>,
        }

        fn case() -> impl Strategy<Value = Case> {
            let tz = prop_oneof![Just("Asia/Tokyo"), Just("America/New_York"), Just("Europe/London")];
            (
                tz,
                (0u8..24, prop_oneof![Just(0u8), Just(30u8)]),
                0i64..36_500,
                0u64..60,
                proptest::collection::vec(0i64..140, 0..40),
                proptest::collection::vec(0u8..7, 0..3),
                proptest::collection::vec(1u8..=32, 0..3),
                -5i16..=5,
                (0u8..4, 0u8..6),
                proptest::option::of((0i64..140, 0i64..20)),
                proptest::collection::vec((0u8..24, prop_oneof![Just(0u8), Just(15u8), Just(30u8), Just(45u8)]), 1..4),
            )
                .prop_map(
                    |(tz, dct, from, span, hol, weekly, monthly, offset, handling, invalid, times)| {
                        let base = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
                        let from = base + chrono::Duration::days(from);
                        let around = from - chrono::Duration::days(40);
                        let holidays = hol.into_iter().map(|k| around + chrono::Duration::days(k)).collect();
                        Case { tz, dct, from, span, holidays, weekly, monthly, offset, handling, invalid, times }
                    },
                )
        }

        fn weekday(n: u8) -> Weekday {
            [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun]
                [usize::from(n % 7)]
        }

        fn env_for(c: &Case) -> Environment {
            let list = |v: Vec<String>| v.join(", ");
            let hol = list(c.holidays.iter().map(|d| format!("\"{d}\"")).collect());
            let weekly = list(c.weekly.iter().map(|w| format!("\"{}\"", weekday(*w))).collect());
            let monthly =
                list(c.monthly.iter().map(|m| if *m == 32 { "\"last\"".to_string() } else { m.to_string() }).collect());
            let handling = match c.handling {
                (0, _) => "\"run_anyway\"".to_string(),
                (1, _) => "\"do_not_start\"".to_string(),
                (2, n) => format!("{{ shift_before = {n} }}"),
                (_, n) => format!("{{ shift_after = {n} }}"),
            };
            let invalid = c
                .invalid
                .map(|(a, len)| {
                    let a = c.from - chrono::Duration::days(40) + chrono::Duration::days(a);
                    format!(", invalid_period = {{ from = \"{a}\", to = \"{}\" }}", a + chrono::Duration::days(len))
                })
                .unwrap_or_default();
            let m = (u32::from(c.dct.0) * 60 + u32::from(c.dct.1) + 1439) % 1440;
            let last = format!("{:02}:{:02}", m / 60, m % 60);
            let other = format!("{:02}:00", (u32::from(c.dct.0) + 7) % 24);
            let times = list(c.times.iter().map(|(h, m)| format!("\"{h:02}:{m:02}\"")).collect());
            env_of(&format!(
                "[environment]\ntimezone = \"{}\"\n[[calendar]]\nname = \"SYSTEM_CALENDAR\"\n\
                 day_change = \"{:02}:{:02}\"\nholidays = [{hol}]\n\
                 [[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = {{ times = [{times}] }}\n\
                 startup_days = {{ weekly = [{weekly}], monthly_dates = [{monthly}], offset_days = {}, \
                 holiday = {handling}{invalid} }}\n\
                 [[calendar]]\nname = \"OTHER\"\nday_change = \"{other}\"\n\
                 [[jobnet]]\nproject = \"A\"\nname = \"OTHER\"\nstart = {{ times = [{times}] }}\n\
                 startup_days = {{ calendars = [\"OTHER\"] }}\n\
                 [[jobnet]]\nproject = \"P\"\nname = \"EVERY\"\nstart = {{ interval = {{ from = \"{:02}:{:02}\", \
                 to = \"{last}\", every_min = 240 }} }}\n",
                c.tz, c.dct.0, c.dct.1, c.offset, c.dct.0, c.dct.1
            ))
        }

        /// The startup-day rules, evaluated day by day.
        fn reference(c: &Case, day: NaiveDate) -> bool {
            let hol = |x: NaiveDate| c.holidays.contains(&x);
            let rule = |x: NaiveDate| {
                if c.weekly.is_empty() && c.monthly.is_empty() {
                    return true;
                }
                let last = x.succ_opt().unwrap().month() != x.month();
                c.weekly.iter().any(|w| weekday(*w) == x.weekday())
                    || c.monthly.iter().any(|m| u32::from(*m) == x.day() || (*m == 32 && last))
            };
            let base = |x: NaiveDate| rule(x - chrono::Duration::days(i64::from(c.offset)));
            let step = |x: NaiveDate, k: i64| x + chrono::Duration::days(k);
            let kept = base(day) && (!hol(day) || c.handling.0 == 0);
            let shifted = !hol(day)
                && match c.handling {
                    (2, n) => (1..=i64::from(n)).any(|k| base(step(day, k)) && (1..=k).all(|j| hol(step(day, j)))),
                    (3, n) => (1..=i64::from(n)).any(|k| base(step(day, -k)) && (1..=k).all(|j| hol(step(day, -j)))),
                    _ => false,
                };
            let invalid = c.invalid.is_some_and(|(a, len)| {
                let a = c.from - chrono::Duration::days(40) + chrono::Duration::days(a);
                day >= a && day <= a + chrono::Duration::days(len)
            });
            (kept || shifted) && !invalid
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn plan_is_increasing_on_startup_days_without_duplicates(c in case()) {
                let env = env_for(&c);
                let to = c.from + chrono::Duration::days(c.span as i64);
                let p = plan(&env, c.from, to, None);
                let key = JobnetKey::new("P", "N");
                let dct = HourMinute::new(c.dct.0, c.dct.1).unwrap();
                // Sorted by (instant, key).
                for w in p.windows(2) {
                    prop_assert!((w[0].at, &w[0].jobnet) < (w[1].at, &w[1].jobnet));
                }
                let mine: Vec<_> = p.iter().filter(|s| s.jobnet == key).collect();
                let mut days = BTreeSet::new();
                for s in &mine {
                    prop_assert!(reference(&c, s.operating_day), "{} is no startup day: {}", s.operating_day, s.reason);
                    prop_assert!(s.operating_day >= c.from && s.operating_day <= to);
                    let begin = day_change_instant(env.tz, dct, s.operating_day);
                    let end = day_change_instant(env.tz, dct, s.operating_day.succ_opt().unwrap());
                    prop_assert!(begin <= s.at && s.at <= end);
                    days.insert(s.operating_day);
                }
                for w in mine.windows(2) {
                    prop_assert!(w[0].at < w[1].at);
                }
                if c.tz == "Asia/Tokyo" {
                    let expect: BTreeSet<_> = c.from.iter_days().take_while(|d| *d <= to).filter(|d| reference(&c, *d)).collect();
                    prop_assert_eq!(days, expect);
                }
                // Every-day interval jobnet: six starts a day (fewer only on DST days).
                let every = p.iter().filter(|s| s.jobnet.jobnet.as_ref() == "EVERY").count();
                prop_assert!(every <= 6 * (c.span as usize + 1) && every + 2 >= 6 * (c.span as usize + 1));
                // next_start_after agrees with the plan.
                if let Some(first) = mine.first() {
                    let before = first.at - chrono::Duration::seconds(1);
                    let next = next_start_after(&env, &key, before);
                    prop_assert_eq!(next.map(|n| n.at), Some(first.at));
                }
            }
        }
    }
}
