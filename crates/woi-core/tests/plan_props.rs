//! Property tests of the forecast over random environments: several
//! calendars with different day-change times, jobnets that share or do not
//! share rules and times, time zones with DST.
//!
//! - `plan` equals a naive reference built from the public per-jobnet,
//!   per-day functions (`startup::startup_days`, `calendar::time_of_operating_day`):
//!   the same starts, reasons, kinds and offsets, in the same order;
//! - `plan_each` visits exactly what `plan` returns, in order, and counts it;
//! - `next_start_after` agrees with the plan.

use chrono::{DateTime, Days, NaiveDate, Offset, TimeZone, Utc};
use proptest::prelude::*;
use woi_core::calendar::{day_change_of, time_of_operating_day};
use woi_core::defs::{Environment, Format, parse};
use woi_core::model::{HourMinute, JobnetDef, StartCondition, TimeCombination};
use woi_core::plan::{PlannedStart, StartKind, next_start_after, plan, plan_each};
use woi_core::startup::startup_days;

const ZONES: [&str; 3] = ["Asia/Tokyo", "America/New_York", "Europe/London"];
const DAY_CHANGES: [&str; 5] = ["00:00", "01:30", "05:00", "06:00", "23:00"];
const RULES: [&str; 6] = [
    "",
    "weekly = [\"Mon\", \"Wed\", \"Fri\"]",
    "monthly_dates = [1, 15, \"last\"], holiday = { shift_after = 3 }",
    "holiday = \"do_not_start\"",
    "business_days = [\"1st\", \"last\"]",
    "monthly_weekdays = [\"2nd Tue\"], offset_days = 1",
];
const STARTS: [&str; 7] = [
    "{ time = \"03:00\" }",
    "{ time = \"09:00\" }",
    "{ times = [\"01:30\", \"09:00\", \"23:30\"] }",
    "{ interval = { from = \"00:00\", to = \"03:00\", every_min = 30 } }",
    "{ interval = { from = \"22:00\", to = \"02:00\", every_min = 60 } }",
    "{ message_only = { once_a_day = true, scheduled_start = \"05:00\" } }",
    "\"environment_start\"",
];

#[derive(Clone, Debug)]
struct Case {
    zone: usize,
    calendars: Vec<(usize, Vec<u16>)>,
    jobnets: Vec<(Option<usize>, usize, usize, bool)>,
    from: u32,
    span: u32,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..ZONES.len(),
        proptest::collection::vec((0..DAY_CHANGES.len(), proptest::collection::vec(0u16..120, 0..20)), 1..4),
        proptest::collection::vec(
            (proptest::option::of(0usize..4), 0..RULES.len(), 0..STARTS.len(), any::<bool>()),
            1..12,
        ),
        0u32..1100,
        0u32..45,
    )
        .prop_map(|(zone, calendars, jobnets, from, span)| Case { zone, calendars, jobnets, from, span })
}

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid test input")
}

/// `k - 40` days after the first day of the range.
fn day_offset(from: u32, k: u16) -> chrono::Duration {
    chrono::Duration::days(i64::from(from) + i64::from(k) - 40)
}

fn env_for(c: &Case) -> Environment {
    let mut text = format!("[environment]\ntimezone = \"{}\"\n", ZONES[c.zone]);
    for (i, (dct, holidays)) in c.calendars.iter().enumerate() {
        let name = if i == 0 { "SYSTEM_CALENDAR".to_string() } else { format!("C{i}") };
        let days: Vec<String> = holidays.iter().map(|k| format!("\"{}\"", base() + day_offset(c.from, *k))).collect();
        text.push_str(&format!(
            "[[calendar]]\nname = \"{name}\"\nday_change = \"{}\"\nholidays = [{}]\n",
            DAY_CHANGES[*dct],
            days.join(", ")
        ));
    }
    for (i, (cal, rule, start, and_time)) in c.jobnets.iter().enumerate() {
        // Two projects, so that key order and definition order differ.
        let project = if i % 2 == 0 { "Z" } else { "A" };
        let mut days = RULES[*rule].to_string();
        if let Some(k) = cal.filter(|k| *k > 0 && *k < c.calendars.len()) {
            let sep = if days.is_empty() { "" } else { ", " };
            days = format!("{days}{sep}calendars = [\"C{k}\"]");
        }
        let messages = if *and_time && STARTS[*start].starts_with("{ t") {
            "messages = { events = [\"E\"], with_time = \"and_time\" }\n"
        } else if STARTS[*start].contains("message_only") {
            "messages = { events = [\"E\"] }\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "[[jobnet]]\nproject = \"{project}\"\nname = \"N{i:02}\"\nstart = {}\n{messages}startup_days = {{ {days} }}\n",
            STARTS[*start]
        ));
    }
    Environment::from_valid(&parse(&text, Format::Toml).expect("valid test input"))
}

/// The times of one operating day of a jobnet, in operating-day order, and their kind.
fn times_of(def: &JobnetDef, dct: HourMinute) -> Option<(Vec<HourMinute>, StartKind)> {
    let kind = match &def.messages {
        Some(m) if m.with_time == TimeCombination::AndTime => StartKind::TimeIfEvents,
        _ => StartKind::Time,
    };
    let rel = |t: HourMinute| (t.minutes() + 1440 - dct.minutes()) % 1440;
    let mut times = match &def.start {
        StartCondition::Time(t) => vec![*t],
        StartCondition::Times(ts) => ts.clone(),
        StartCondition::Interval(iv) => {
            let mut v = vec![iv.from];
            let mut k = u32::from(iv.every_min);
            while k > 0 && rel(iv.from) + k <= rel(iv.to) {
                let m = (iv.from.minutes() + k) % 1440;
                v.push(HourMinute::new((m / 60) as u8, (m % 60) as u8).expect("valid test input"));
                k += u32::from(iv.every_min);
            }
            v
        }
        StartCondition::MessageOnly(m) => return m.scheduled_start.map(|t| (vec![t], StartKind::Scheduled)),
        _ => return None,
    };
    times.sort_by_key(|t| rel(*t));
    times.dedup();
    (!times.is_empty()).then_some((times, kind))
}

type Row = (DateTime<Utc>, String, NaiveDate, String, StartKind, String);

fn row(s: &PlannedStart) -> Row {
    (s.at, s.jobnet.to_string(), s.operating_day, s.reason.to_string(), s.kind, s.local.to_rfc3339())
}

/// Every start, jobnet by jobnet and day by day, then sorted.
fn reference(env: &Environment, from: NaiveDate, to: NaiveDate) -> Vec<Row> {
    let mut out = Vec::new();
    for (key, def) in &env.jobnets {
        let dct = day_change_of(env, def);
        let Some((times, kind)) = times_of(def, dct) else { continue };
        let days = startup_days(env, &env.templates, key, from, to).expect("valid test input");
        let mut last: Option<DateTime<Utc>> = None;
        for day in from.iter_days().take_while(|d| *d <= to) {
            let Some(reason) = days.reason(day) else { continue };
            for t in &times {
                let at = time_of_operating_day(env.tz, dct, day, *t);
                if last.is_some_and(|l| at <= l) {
                    continue;
                }
                last = Some(at);
                let local = at.with_timezone(&env.tz.offset_from_utc_datetime(&at.naive_utc()).fix());
                out.push((at, key.to_string(), day, reason.to_string(), kind, local.to_rfc3339()));
            }
        }
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn plan_equals_the_per_jobnet_reference_and_plan_each_streams_it(c in case()) {
        let env = env_for(&c);
        let from = base() + Days::new(u64::from(c.from));
        let to = from + Days::new(u64::from(c.span));
        let planned = plan(&env, from, to, None);
        let got: Vec<Row> = planned.iter().map(row).collect();
        prop_assert_eq!(&got, &reference(&env, from, to));
        // Sorted by (instant, key) with the key order of JobnetKey.
        for w in planned.windows(2) {
            prop_assert!((w[0].at, &w[0].jobnet) < (w[1].at, &w[1].jobnet));
        }
        let mut visited = Vec::new();
        let n = plan_each(&env, from, to, None, |s| visited.push(s.to_start()));
        prop_assert_eq!(n, planned.len());
        prop_assert_eq!(&visited, &planned);
        // One jobnet alone: its starts of the whole plan; next_start_after finds each of them.
        if let Some(first) = planned.first() {
            let mine: Vec<_> = planned.iter().filter(|s| s.jobnet == first.jobnet).cloned().collect();
            prop_assert_eq!(&plan(&env, from, to, Some(&first.jobnet)), &mine);
            for s in mine.iter().take(3) {
                let next = next_start_after(&env, &s.jobnet, s.at - chrono::Duration::seconds(1));
                prop_assert_eq!(next.map(|n| n.at), Some(s.at));
            }
        }
    }
}
