//! Calendars and time: local wall-clock times in the environment's zone,
//! operating days that begin at the day-change time, holidays.
//!
//! DST rule (used everywhere a wall-clock time becomes an instant): a local
//! time inside a spring-forward gap becomes the instant the gap ends (02:30 on
//! a New York spring-forward day → 03:00 EDT); a local time inside a fall-back
//! overlap becomes the **earlier** of its two instants, so it happens once.
//!
//! Operating days (spec 01 §3.9): operating day *D* spans
//! `[D + dct, D+1 + dct)` where `dct` is the day-change time of the jobnet's
//! calendar — the first of its `startup_days.calendars`, else
//! SYSTEM_CALENDAR. A time of day earlier than `dct` belongs to the next
//! calendar date. Holidays are judged on the operating day (decision D9).

use chrono::{DateTime, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::defs::{Environment, SYSTEM_CALENDAR};
use crate::model::{CalendarDef, HourMinute, JobnetDef};

/// A local wall-clock time in `tz` as an instant, by the module's DST rule.
pub fn local_to_utc(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            // Inside a gap: the first valid local minute after it is where the gap ends.
            (1..=24 * 60).find_map(|m| match tz.from_local_datetime(&(naive + Duration::minutes(m))) {
                LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
                LocalResult::None => None,
            })
        }
    }
}

/// [`local_to_utc`] that cannot fail: a local time no rule maps (a gap longer
/// than a day, which no real zone has) is read as UTC.
pub fn local_instant(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    local_to_utc(tz, naive).unwrap_or_else(|| naive.and_utc())
}

/// The calendar that gives a jobnet its day-change time: the first of its
/// `startup_days.calendars` when that calendar exists, else SYSTEM_CALENDAR.
pub fn jobnet_calendar<'a>(env: &'a Environment, def: &JobnetDef) -> Option<&'a CalendarDef> {
    def.startup_days
        .calendars
        .first()
        .and_then(|name| env.calendars.get(name))
        .or_else(|| env.calendars.get(SYSTEM_CALENDAR))
}

/// The day-change time of a jobnet's operating day (00:00 when no calendar gives one).
pub fn day_change_of(env: &Environment, def: &JobnetDef) -> HourMinute {
    jobnet_calendar(env, def).map(|c| c.day_change).unwrap_or_default()
}

/// `date` at the wall-clock time `hm` (no operating-day adjustment).
pub fn at_time(date: NaiveDate, hm: HourMinute) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(u32::from(hm.hour), u32::from(hm.minute), 0).unwrap_or(NaiveTime::MIN))
}

/// The instant operating day `day` begins: `day + dct` local, by the DST rule.
pub fn day_change_instant(tz: Tz, dct: HourMinute, day: NaiveDate) -> DateTime<Utc> {
    local_instant(tz, at_time(day, dct))
}

/// The calendar date on which the time of day `hm` of operating day `day`
/// falls: `day`, or the next date when `hm` is earlier than `dct`.
pub fn date_of_time(dct: HourMinute, day: NaiveDate, hm: HourMinute) -> NaiveDate {
    if hm < dct { day.checked_add_days(Days::new(1)).unwrap_or(day) } else { day }
}

/// The instant of the time of day `hm` of operating day `day` (MODEL-077:
/// dct 05:00, 03:00 of operating day 2025-04-01 → 2025-04-02 03:00 local).
pub fn time_of_operating_day(tz: Tz, dct: HourMinute, day: NaiveDate, hm: HourMinute) -> DateTime<Utc> {
    local_instant(tz, at_time(date_of_time(dct, day, hm), hm))
}

/// The operating day an instant belongs to: the latest `D` whose day-change
/// instant is not after `at` (MODEL-078: dct 05:00, 04:59 local → the previous
/// date, 05:00 → the same date). Consistent with [`day_change_instant`] across
/// DST changes.
pub fn operating_day(tz: Tz, dct: HourMinute, at: DateTime<Utc>) -> NaiveDate {
    let date = at.with_timezone(&tz).date_naive();
    if let Some(next) = date.succ_opt()
        && day_change_instant(tz, dct, next) <= at
    {
        return next;
    }
    if day_change_instant(tz, dct, date) <= at {
        return date;
    }
    date.pred_opt().unwrap_or(date)
}

/// How holidays of several calendars combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Combine {
    /// A day is a holiday if it is one in any calendar (the default).
    #[default]
    Union,
    /// A day is a holiday only if it is one in every calendar.
    Intersection,
}

/// The holidays of one or more calendars, combined: a sorted set of dates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolidaySet {
    dates: Vec<NaiveDate>,
}

impl HolidaySet {
    /// Combine the holidays of `calendars`. No calendars → no holidays.
    pub fn of<'a>(calendars: impl IntoIterator<Item = &'a CalendarDef>, how: Combine) -> HolidaySet {
        let mut sets = calendars.into_iter().map(|c| {
            let mut v: Vec<NaiveDate> = c.holidays.iter().map(|d| d.0).collect();
            v.sort_unstable();
            v.dedup();
            v
        });
        let Some(mut dates) = sets.next() else { return HolidaySet::default() };
        for other in sets {
            match how {
                Combine::Union => {
                    dates.extend(other);
                    dates.sort_unstable();
                    dates.dedup();
                }
                Combine::Intersection => dates.retain(|d| other.binary_search(d).is_ok()),
            }
        }
        HolidaySet { dates }
    }

    /// The holidays a jobnet's startup days use: its `startup_days.calendars`
    /// combined by union (unknown names are skipped), else SYSTEM_CALENDAR's.
    pub fn for_jobnet(env: &Environment, def: &JobnetDef) -> HolidaySet {
        HolidaySet::for_calendars(env, &def.startup_days.calendars)
    }

    /// The union of the holidays of the named calendars (SYSTEM_CALENDAR when `names` is empty).
    pub fn for_calendars(env: &Environment, names: &[String]) -> HolidaySet {
        if names.is_empty() {
            HolidaySet::of(env.calendars.get(SYSTEM_CALENDAR), Combine::Union)
        } else {
            HolidaySet::of(names.iter().filter_map(|n| env.calendars.get(n)), Combine::Union)
        }
    }

    /// Whether operating day `day` is a holiday.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.dates.binary_search(&day).is_ok()
    }

    /// The holidays in `[from, to]`, ascending.
    pub fn range(&self, from: NaiveDate, to: NaiveDate) -> &[NaiveDate] {
        let a = self.dates.partition_point(|d| *d < from);
        let b = self.dates.partition_point(|d| *d <= to);
        self.dates.get(a..b.max(a)).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 0)).unwrap_or_default()
    }

    #[test]
    fn new_york_spring_forward_gap_maps_to_gap_end() {
        let t = local_to_utc(chrono_tz::America::New_York, local(2026, 3, 8, 2, 30));
        // 03:00 EDT = 07:00 UTC
        assert_eq!(t.map(|t| t.to_rfc3339()), Some("2026-03-08T07:00:00+00:00".into()));
    }

    #[test]
    fn london_fall_back_overlap_takes_earlier_instant() {
        let t = local_to_utc(chrono_tz::Europe::London, local(2026, 10, 25, 1, 30));
        // 01:30 BST = 00:30 UTC (the later one would be 01:30 UTC)
        assert_eq!(t.map(|t| t.to_rfc3339()), Some("2026-10-25T00:30:00+00:00".into()));
    }

    fn hm(h: u8, m: u8) -> HourMinute {
        HourMinute::new(h, m).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn instant(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    // MODEL-075
    #[test]
    fn model_075_system_calendar_is_built_in() {
        let env = Environment::from_valid(&Default::default());
        let sys = env.calendars.get(SYSTEM_CALENDAR).unwrap();
        assert_eq!(sys.day_change, hm(0, 0));
        assert!(sys.holidays.is_empty());
        assert!(HolidaySet::for_calendars(&env, &[]).range(date(2000, 1, 1), date(2100, 1, 1)).is_empty());
    }

    // MODEL-077
    #[test]
    fn model_077_time_before_day_change_is_next_calendar_date() {
        let t = time_of_operating_day(TOKYO, hm(5, 0), date(2025, 4, 1), hm(3, 0));
        assert_eq!(t, instant("2025-04-02T03:00:00+09:00"));
        let t = time_of_operating_day(TOKYO, hm(5, 0), date(2025, 4, 1), hm(5, 0));
        assert_eq!(t, instant("2025-04-01T05:00:00+09:00"));
    }

    // MODEL-078
    #[test]
    fn model_078_operating_day_of_an_instant() {
        assert_eq!(operating_day(TOKYO, hm(5, 0), instant("2025-04-02T04:59:00+09:00")), date(2025, 4, 1));
        assert_eq!(operating_day(TOKYO, hm(5, 0), instant("2025-04-02T05:00:00+09:00")), date(2025, 4, 2));
        assert_eq!(day_change_instant(TOKYO, hm(5, 0), date(2025, 4, 2)), instant("2025-04-02T05:00:00+09:00"));
        // 00:00 day change: the calendar date.
        assert_eq!(operating_day(TOKYO, hm(0, 0), instant("2025-04-01T23:59:00+09:00")), date(2025, 4, 1));
    }

    #[test]
    fn operating_day_follows_dst_day_change() {
        let ny = chrono_tz::America::New_York;
        // Day change 02:30 on the spring-forward day happens at 03:00 EDT.
        assert_eq!(day_change_instant(ny, hm(2, 30), date(2026, 3, 8)), instant("2026-03-08T03:00:00-04:00"));
        assert_eq!(operating_day(ny, hm(2, 30), instant("2026-03-08T01:59:00-05:00")), date(2026, 3, 7));
        assert_eq!(operating_day(ny, hm(2, 30), instant("2026-03-08T03:00:00-04:00")), date(2026, 3, 8));
        // Day change 01:30 on the London fall-back day: the earlier 01:30 (BST); the second 01:15 stays in the new day.
        let london = chrono_tz::Europe::London;
        assert_eq!(operating_day(london, hm(1, 30), instant("2026-10-25T01:15:00+00:00")), date(2026, 10, 25));
        assert_eq!(operating_day(london, hm(1, 30), instant("2026-10-25T00:15:00+00:00")), date(2026, 10, 24));
    }

    #[test]
    fn holidays_combine_by_union_or_intersection() {
        let cal = |name: &str, days: &[NaiveDate]| CalendarDef {
            name: name.into(),
            day_change: HourMinute::default(),
            holidays: days.iter().map(|d| crate::model::Date(*d)).collect(),
        };
        let a = cal("A", &[date(2025, 1, 1), date(2025, 1, 2)]);
        let b = cal("B", &[date(2025, 1, 2), date(2025, 1, 3)]);
        let u = HolidaySet::of([&a, &b], Combine::Union);
        assert_eq!(u.range(date(2025, 1, 1), date(2025, 12, 31)).len(), 3);
        let i = HolidaySet::of([&a, &b], Combine::Intersection);
        assert!(i.contains(date(2025, 1, 2)) && !i.contains(date(2025, 1, 1)));
    }
}
