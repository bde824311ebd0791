//! Calendar behaviors through the public API: fine adjustments discarded when
//! the rules they were made against change (MODEL-084), and a day-change
//! change recomputing every jobnet's planned times (MODEL-085).

use chrono::{DateTime, NaiveDate, Utc};
use woi_core::JobnetKey;
use woi_core::defs::{Environment, Format, parse};
use woi_core::plan::{next_start_after, plan};
use woi_core::startup::{check_spec, is_startup_day, rule_basis, stale_fine_adjustments};

fn env_of(text: &str) -> Environment {
    Environment::from_valid(&parse(text, Format::Toml).expect("valid test input"))
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("valid test input")
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("valid test input").to_utc()
}

const CALENDARS: &str = "[[calendar]]\nname = \"BIZ\"\nholidays = [\"2025-06-02\"]\n\
                         [[calendar]]\nname = \"OTHER\"\nholidays = [\"2025-06-03\"]\n\
                         [[template]]\nname = \"T\"\ndays = [\"2025-06-20\"]\n";

/// Jobnet P/N with `rules` (and `fine_adjust` when given), a base jobnet P/B, and the calendars.
fn defs(rules: &str, base_rules: &str, fine_adjust: Option<&str>, calendars: &str) -> String {
    let fine = fine_adjust.map(|f| format!(", fine_adjust = [{f}]")).unwrap_or_default();
    format!(
        "{calendars}[[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = {{ time = \"09:00\" }}\n\
         startup_days = {{ {rules}{fine} }}\n\
         [[jobnet]]\nproject = \"P\"\nname = \"B\"\nstart = {{ time = \"10:00\" }}\nstartup_days = {{ {base_rules} }}\n"
    )
}

const RULES: &str = "weekly = [\"Mon\"], calendars = [\"BIZ\"], templates = [\"T\"], base_jobnet = \"B\"";
const BASE_RULES: &str = "monthly_dates = [25]";

fn key() -> JobnetKey {
    JobnetKey::new("P", "N")
}

/// The basis of P/N's rules in `defs(rules, base_rules, None, calendars)`.
fn basis(rules: &str, base_rules: &str, calendars: &str) -> String {
    let env = env_of(&defs(rules, base_rules, None, calendars));
    rule_basis(&env, &env.jobnets[&key()])
}

/// Whether 2025-06-15 (a Sunday, no base day) is a startup day of P/N, by the
/// startup days and by the plan, and the adjustments reported as stale.
fn june_15(env: &Environment) -> (bool, bool, usize) {
    let by_days = is_startup_day(env, &env.templates, &key(), d("2025-06-15"));
    let by_plan = plan(env, d("2025-06-15"), d("2025-06-15"), Some(&key())).len() == 1;
    (by_days, by_plan, stale_fine_adjustments(env, &env.jobnets[&key()]).len())
}

// MODEL-084
#[test]
fn model_084_fine_adjustment_discarded_on_rule_edit() {
    let b = basis(RULES, BASE_RULES, CALENDARS);
    assert_eq!(b.len(), 16);
    let fine = format!("{{ date = \"2025-06-15\", start = true, basis = \"{b}\" }}");
    // Made against the current rules: 2025-06-15 is a startup day.
    let env = env_of(&defs(RULES, BASE_RULES, Some(&fine), CALENDARS));
    assert_eq!(june_15(&env), (true, true, 0));
    assert_eq!(plan(&env, d("2025-06-15"), d("2025-06-15"), Some(&key()))[0].reason.to_string(), "fine adjustment");
    // The basic rule is edited, the adjustment left as it was: it is discarded.
    let edited = RULES.replace("\"Mon\"", "\"Tue\"");
    let env = env_of(&defs(&edited, BASE_RULES, Some(&fine), CALENDARS));
    assert_eq!(june_15(&env), (false, false, 1));
    // The same holds when a referenced calendar, template or the base jobnet changes.
    for (rules, base, calendars) in [
        (RULES, BASE_RULES, CALENDARS.replace("2025-06-02", "2025-06-09")),
        (RULES, BASE_RULES, CALENDARS.replace("2025-06-20", "2025-06-27")),
        (RULES, "monthly_dates = [26]", CALENDARS.to_string()),
        (RULES, BASE_RULES, CALENDARS.replace("name = \"BIZ\"", "name = \"BIZ\"\nday_change = \"05:00\"")),
    ] {
        let env = env_of(&defs(rules, base, Some(&fine), &calendars));
        assert_eq!(june_15(&env), (false, false, 1), "{rules} / {base} / {calendars}");
    }
    // Changes that do not touch the rules keep it: another calendar, the base jobnet's start time.
    let env = env_of(
        &defs(RULES, BASE_RULES, Some(&fine), &CALENDARS.replace("2025-06-03", "2025-06-04"))
            .replace("\"10:00\"", "\"11:00\""),
    );
    assert_eq!(june_15(&env), (true, true, 0));
    // A removal made against the current rules applies; stale it is ignored too.
    let remove = format!("{{ date = \"2025-06-16\", start = false, basis = \"{b}\" }}");
    let env = env_of(&defs(RULES, BASE_RULES, Some(&remove), CALENDARS));
    assert!(!is_startup_day(&env, &env.templates, &key(), d("2025-06-16")));
    let env = env_of(&defs(&edited.replace("\"Tue\"", "\"Mon\", \"Tue\""), BASE_RULES, Some(&remove), CALENDARS));
    assert!(is_startup_day(&env, &env.templates, &key(), d("2025-06-16")));
    // Without a basis an adjustment always applies, whatever the rules.
    let env = env_of(&defs(&edited, BASE_RULES, Some("{ date = \"2025-06-15\", start = true }"), CALENDARS));
    assert_eq!(june_15(&env), (true, true, 0));
}

#[test]
fn basis_is_stable_and_checked() {
    // Holidays listed in another order are the same calendar; rule order is not.
    assert_eq!(
        basis(RULES, BASE_RULES, CALENDARS),
        basis(RULES, BASE_RULES, &CALENDARS.replace("[\"2025-06-02\"]", "[\"2025-06-02\", \"2025-06-02\"]"))
    );
    assert_ne!(basis(RULES, BASE_RULES, CALENDARS), basis(&RULES.replace("Mon", "Monday"), BASE_RULES, CALENDARS));
    // The fingerprint is part of the file format: it must not change between versions.
    assert_eq!(basis("weekly = [\"Mon\"]", BASE_RULES, ""), "13562ecddf876029");
    let spec: woi_core::model::StartupDaySpec =
        toml::from_str("fine_adjust = [{ date = 2025-06-15, start = true, basis = \"xyz\" }]")
            .expect("valid test input");
    let fields: Vec<_> = check_spec(&spec).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["fine_adjust"]);
}

// MODEL-085
#[test]
fn model_085_day_change_change_recomputes_every_jobnet() {
    let defs = |dct: &str| {
        env_of(&format!(
            "[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nday_change = \"{dct}\"\n\
             [[calendar]]\nname = \"OWN\"\nday_change = \"04:00\"\n\
             [[jobnet]]\nproject = \"P\"\nname = \"EARLY\"\nstart = {{ time = \"03:00\" }}\n\
             [[jobnet]]\nproject = \"P\"\nname = \"LATE\"\nstart = {{ time = \"09:00\" }}\n\
             [[jobnet]]\nproject = \"P\"\nname = \"MON\"\nstart = {{ times = [\"05:00\", \"07:00\"] }}\n\
             startup_days = {{ weekly = [\"Mon\"] }}\n\
             [[jobnet]]\nproject = \"P\"\nname = \"OWN\"\nstart = {{ time = \"03:00\" }}\n\
             startup_days = {{ calendars = [\"OWN\"] }}\n"
        ))
    };
    let starts = |env: &Environment| -> Vec<(String, String, String)> {
        plan(env, d("2025-04-07"), d("2025-04-07"), None)
            .iter()
            .map(|s| (s.jobnet.to_string(), s.operating_day.to_string(), s.local.to_rfc3339()))
            .collect()
    };
    let row = |j: &str, day: &str, at: &str| (j.to_string(), day.to_string(), at.to_string());
    // Day change 00:00: every time is on the operating day's own date.
    assert_eq!(
        starts(&defs("00:00")),
        [
            row("P/EARLY", "2025-04-07", "2025-04-07T03:00:00+09:00"),
            row("P/MON", "2025-04-07", "2025-04-07T05:00:00+09:00"),
            row("P/MON", "2025-04-07", "2025-04-07T07:00:00+09:00"),
            row("P/LATE", "2025-04-07", "2025-04-07T09:00:00+09:00"),
            row("P/OWN", "2025-04-07", "2025-04-08T03:00:00+09:00"),
        ]
    );
    // Day change 06:00: the 03:00 and 05:00 of operating day 2025-04-07 move to the next calendar
    // date, 07:00 and 09:00 stay; the jobnet on its own calendar (day change 04:00) does not move.
    assert_eq!(
        starts(&defs("06:00")),
        [
            row("P/MON", "2025-04-07", "2025-04-07T07:00:00+09:00"),
            row("P/LATE", "2025-04-07", "2025-04-07T09:00:00+09:00"),
            row("P/EARLY", "2025-04-07", "2025-04-08T03:00:00+09:00"),
            row("P/OWN", "2025-04-07", "2025-04-08T03:00:00+09:00"),
            row("P/MON", "2025-04-07", "2025-04-08T05:00:00+09:00"),
        ]
    );
    // The engine's next start follows: on Monday 2025-04-07 at 04:00, MON's next start is
    // 05:00 the same morning with day change 00:00, and 07:00 with day change 06:00 (the
    // 05:00 of Sunday's operating day does not exist: Sunday is no startup day).
    let mon = JobnetKey::new("P", "MON");
    let next = |dct| next_start_after(&defs(dct), &mon, t("2025-04-07T04:00:00+09:00")).map(|s| s.local.to_rfc3339());
    assert_eq!(next("00:00").as_deref(), Some("2025-04-07T05:00:00+09:00"));
    assert_eq!(next("06:00").as_deref(), Some("2025-04-07T07:00:00+09:00"));
}
