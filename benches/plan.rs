//! Start-forecast speed: the startup days and the one-year plan of 10,000
//! jobnets with a realistic mix of startup-day rules and start conditions
//! (about 2.7 million starts), and `next_start_after`.
//!
//! `cargo bench -p woi-core --bench plan`

use std::hint::black_box;

use chrono::{Datelike, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use woi_core::JobnetKey;
use woi_core::defs::Environment;
use woi_core::model::Definitions;
use woi_core::plan::{next_start_after, plan};
use woi_core::startup::all_startup_days;

/// 10,000 jobnets in 10 projects; a business calendar whose holidays are every
/// weekend plus 16 public holidays of 2026.
fn definitions() -> Definitions {
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
        text.push_str(&format!(
            "[[jobnet]]\nproject = \"P{}\"\nname = \"N{i:05}\"\nstart = {start}\nstartup_days = {{ {days} }}\n",
            i % 10
        ));
    }
    toml::from_str(&text).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let env = Environment::from_valid(&definitions());
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
    let n = plan(&env, from, to, None).len();
    eprintln!("one-year plan of {} jobnets: {n} starts", env.jobnets.len());
    let mut g = c.benchmark_group("plan");
    g.sample_size(20);
    g.bench_function("startup_days_one_year_10k_jobnets", |b| {
        b.iter(|| black_box(all_startup_days(&env, &env.templates, from, to)))
    });
    // The result (about 300 MB) is dropped outside the measurement.
    g.bench_function("one_year_10k_jobnets", |b| b.iter_with_large_drop(|| plan(&env, from, to, None)));
    let key = JobnetKey::new("P5", "N00005");
    let after =
        chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00+09:00").map(|t| t.to_utc()).unwrap_or_default();
    g.bench_function("next_start_after", |b| b.iter(|| black_box(next_start_after(&env, &key, after))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
