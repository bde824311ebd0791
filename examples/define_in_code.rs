//! Define jobnets in Rust with the typed builder — the same validation as
//! `woi validate` — then forecast them and run them on a virtual clock.
//!
//! `cargo run -p woi --example define_in_code`

use woi::{Calendar, Definitions, HolidayHandling, Job, Jobnet, Outcome, Script};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = Definitions::builder()
        .timezone("Europe/London")
        .calendar(
            // Operating days start at 06:00; two bank holidays.
            Calendar::new("UK_BANK").day_change("06:00").holidays(["2026-12-25", "2026-12-28"]),
        )
        .variable("OUT", "/var/shop")
        .jobnet(
            Jobnet::new("SHOP", "CLOSE")
                .comment("Daily_close")
                .at("02:30") // before the day change: belongs to the next calendar day
                .weekly(["Mon", "Tue", "Wed", "Thu", "Fri"])
                .calendar("UK_BANK")
                .on_holiday(HolidayHandling::ShiftAfter(3))
                .job(Job::command(1, "extract.sh").name("extract"))
                .job(Job::command(2, "load.sh @OUT@").name("load").after([1]).normal_limit(4))
                .job(Job::command(3, "report.sh").name("report").after([2])),
        )
        .build()?;

    // The forecast: when will it run over the holidays?
    let from = chrono::NaiveDate::from_ymd_opt(2026, 12, 21).ok_or("date")?;
    let to = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).ok_or("date")?;
    let plan = woi::plan::plan(&env, from, to, None);
    println!("planned starts of SHOP/CLOSE:");
    for start in &plan {
        println!("  {}  ({})", start.at.with_timezone(&env.tz).format("%a %Y-%m-%d %H:%M %Z"), start.reason);
    }

    // A day on the virtual clock: load fails once with 9 (abnormal).
    let script = Script::starting_at("2026-12-22T02:00:00").until("2026-12-22T05:00:00").job(
        "SHOP/CLOSE",
        "load",
        Outcome::exit(9).lasting("10m"),
    );
    let report = woi::sim::run(std::sync::Arc::new(env), &script)?;
    for line in report.event_lines() {
        println!("{line}");
    }
    let close = report.jobnet("SHOP/CLOSE").ok_or("no report for SHOP/CLOSE")?;
    println!("SHOP/CLOSE ended {:?}", close.jobnet.status);

    // Mistakes name the object and the field, like file errors do.
    match Definitions::builder().jobnet(Jobnet::new("SHOP", "BAD").at("24:10")).build() {
        Err(err) => println!("{err}"),
        Ok(_) => return Err("24:10 was accepted".into()),
    }
    Ok(())
}
