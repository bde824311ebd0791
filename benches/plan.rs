//! Start-forecast speed: the startup days and the one-year plan of 10,000
//! jobnets with a realistic mix of startup-day rules and start conditions
//! (about 2.7 million starts) — streamed with `plan_each`, with the start
//! times spread over the hour, and collected with `plan` — and
//! `next_start_after`.
//!
//! `cargo bench -p woi-core --bench plan`

use std::hint::black_box;

use chrono::{Datelike, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use woi_core::JobnetKey;
use woi_core::defs::Environment;
use woi_core::model::Definitions;
use woi_core::plan::{next_start_after, plan, plan_each};
use woi_core::startup::all_startup_days;

/// `"HH:MM"` texts in `s` moved `k` minutes later within their hour.
fn shift_minutes(s: &str, k: u32) -> String {
    let parts: Vec<String> = s
        .split('"')
        .map(|p| match (p.len(), p.get(..2).and_then(|h| h.parse::<u32>().ok()), p.get(3..).map(str::parse::<u32>)) {
            (5, Some(h), Some(Ok(m))) if p.as_bytes().get(2) == Some(&b':') => format!("{h:02}:{:02}", (m + k) % 60),
            _ => p.to_string(),
        })
        .collect();
    parts.join("\"")
}

/// 10,000 jobnets in 10 projects; a business calendar whose holidays are every
/// weekend plus 16 public holidays of 2026. With `spread`, the times of jobnet
/// *i* move *i* mod 60 minutes later within their hour, so that only about 17
/// jobnets share each start instead of 1,000.
fn definitions(spread: bool) -> Definitions {
    let start = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap_or_default();
    let mut holidays: Vec<String> = start
        .iter_days()
        .take(430)
        .filter(|d| d.weekday().number_from_monday() >= 6)
        .map(|d| format!("\"{d}\""))
        .collect();
    for md in ["01-01", "01-12", "02-11", "02-23", "03-20", "04-29", "05-04", "05-05", "05-06", "07-20", "08-11"] {
        holidays.push(format!("\"2026-{md}\""));
    }
    let mut text = format!(
        "[environment]\ntimezone = \"Asia/Tokyo\"\n[[calendar]]\nname = \"BIZ\"\nday_change = \"05:00\"\nholidays = [{}]\n",
        holidays.join(", ")
    );
    for i in 0..10_000 {
        let (start, days) = match i % 10 {
            0..=2 => ("{ time = \"09:00\" }", "calendars = [\"BIZ\"], holiday = \"do_not_start\""),
            3 | 4 => ("{ time = \"10:30\" }", "weekly = [\"Mon\", \"Wed\", \"Fri\"]"),
            5 | 6 => (
                "{ time = \"03:00\" }",
                "monthly_dates = [1, 15, \"last\"], calendars = [\"BIZ\"], holiday = { shift_after = 3 }",
            ),
            7 => ("{ times = [\"08:00\", \"20:00\"] }", "business_days = [\"1st\", \"last\"], calendars = [\"BIZ\"]"),
            8 => (
                "{ time = \"07:15\" }",
                "monthly_weekdays = [\"2nd Tue\"], annual_dates = [\"03-31\", \"09-30\"], offset_days = 1",
            ),
            _ => (
                "{ interval = { from = \"08:00\", to = \"18:00\", every_min = 120 } }",
                "weekly = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\"], calendars = [\"BIZ\"], holiday = \"do_not_start\"",
            ),
        };
        let start = if spread { shift_minutes(start, i % 60) } else { start.to_string() };
        text.push_str(&format!(
            "[[jobnet]]\nproject = \"P{}\"\nname = \"N{i:05}\"\nstart = {start}\nstartup_days = {{ {days} }}\n",
            i % 10
        ));
    }
    toml::from_str(&text).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let env = Environment::from_valid(&definitions(false));
    let spread = Environment::from_valid(&definitions(true));
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
    let n = plan_each(&env, from, to, None, |_| {});
    eprintln!("one-year plan of {} jobnets: {n} starts", env.jobnets.len());
    let m = plan_each(&spread, from, to, None, |_| {});
    eprintln!("with times spread over the hour: {m} starts");
    let mut g = c.benchmark_group("plan");
    g.sample_size(20);
    g.bench_function("startup_days_one_year_10k_jobnets", |b| {
        b.iter(|| black_box(all_startup_days(&env, &env.templates, from, to)))
    });
    // Every start is produced and handed to the visitor, which counts it and
    // sums its instants; each start is passed through `black_box` as well.
    g.bench_function("one_year_10k_jobnets", |b| {
        b.iter(|| {
            let (mut count, mut sum) = (0usize, 0i64);
            plan_each(&env, from, to, None, |s| {
                count += 1;
                sum = sum.wrapping_add(s.at.timestamp());
                black_box(&s);
            });
            black_box((count, sum))
        })
    });
    g.bench_function("one_year_10k_jobnets_times_spread", |b| {
        b.iter(|| {
            let (mut count, mut sum) = (0usize, 0i64);
            plan_each(&spread, from, to, None, |s| {
                count += 1;
                sum = sum.wrapping_add(s.at.timestamp());
                black_box(&s);
            });
            black_box((count, sum))
        })
    });
    // The same, collected into a `Vec<PlannedStart>` (about 300 MB, dropped outside the measurement).
    g.bench_function("one_year_10k_jobnets_collected", |b| b.iter_with_large_drop(|| plan(&env, from, to, None)));
    let key = JobnetKey::new("P5", "N00005");
    let after =
        chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00+09:00").map(|t| t.to_utc()).unwrap_or_default();
    g.bench_function("next_start_after", |b| b.iter(|| black_box(next_start_after(&env, &key, after))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
