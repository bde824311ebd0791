//! Calendars and time: local wall-clock times in the environment's zone,
//! operating days that begin at the day-change time, holidays.
//!
//! DST rule (used everywhere a wall-clock time becomes an instant): a local
//! time inside a spring-forward gap becomes the instant the gap ends (02:30 on
//! a New York spring-forward day → 03:00 EDT); a local time inside a fall-back
//! overlap becomes the **earlier** of its two instants, so it happens once.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

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
}
