//! QA black-box checks of `woi plan` (spec 01 §2.6, §2.7, §3.9, §3.12; decisions D8–D10).
//! Every expected value below was worked out by hand from the spec, not copied from woi.

use std::process::Command;

type Row = (String, String, String, String);

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_woi")).args(args).output().expect("run woi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// `woi plan DEFS --from --to --json [--jobnet]` → (at, operating_day, jobnet, reason) rows.
fn plan(defs: &str, from: &str, to: &str, jobnet: Option<&str>) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("qa");
    let file = dir.path().join("defs.toml");
    std::fs::write(&file, defs).expect("qa");
    let mut args = vec!["plan", file.to_str().expect("qa"), "--from", from, "--to", to, "--json"];
    if let Some(j) = jobnet {
        args.extend(["--jobnet", j]);
    }
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "woi plan failed: {stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("qa");
    assert_eq!(v["from"], from);
    assert_eq!(v["to"], to);
    v["starts"]
        .as_array()
        .expect("qa")
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().expect("qa").to_string();
            (f("at"), f("operating_day"), f("jobnet"), f("reason"))
        })
        .collect()
}

fn utc_of(defs: &str, from: &str, to: &str, jobnet: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("qa");
    let file = dir.path().join("defs.toml");
    std::fs::write(&file, defs).expect("qa");
    let (code, stdout, stderr) =
        run(&["plan", file.to_str().expect("qa"), "--from", from, "--to", to, "--json", "--jobnet", jobnet]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("qa");
    v["starts"].as_array().expect("qa").iter().map(|s| s["at_utc"].as_str().expect("qa").to_string()).collect()
}

fn row(a: &str, d: &str, j: &str, r: &str) -> Row {
    (a.into(), d.into(), j.into(), r.into())
}

fn validate(defs: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("qa");
    let file = dir.path().join("defs.toml");
    std::fs::write(&file, defs).expect("qa");
    let (code, stdout, stderr) = run(&["validate", file.to_str().expect("qa")]);
    (code, format!("{stdout}{stderr}"))
}

const JOB: &str = "[[jobnet.job]]\nnumber = 1\ncommand = \"a\"\n";

fn jobnet(name: &str, start: &str, days: &str) -> String {
    format!("[[jobnet]]\nproject = \"P\"\nname = \"{name}\"\nstart = {start}\nstartup_days = {{ {days} }}\n{JOB}")
}

/// §3.12 step 3 / MODEL-080 / D8: the last day of February 2028 (leap year, the 29th) is a holiday and the
/// 1st of March too: shift_after 3 lands on 03-02; day change 05:30, so a 04:00 start is on the next date.
#[test]
fn model_080_leap_day_last_shift_after_over_month_end_dct_0530() {
    let defs = format!(
        "[[calendar]]\nname = \"C1\"\nday_change = \"05:30\"\nholidays = [\"2028-02-28\", \"2028-02-29\", \"2028-03-01\"]\n{}{}",
        jobnet(
            "LASTDAY",
            "{ time = \"04:00\" }",
            "monthly_dates = [\"last\"], calendars = [\"C1\"], holiday = { shift_after = 3 }"
        ),
        jobnet("D31", "{ time = \"10:00\" }", "monthly_dates = [31, 30]"),
    );
    assert_eq!(
        plan(&defs, "2028-01-28", "2028-04-02", None),
        [
            row("2028-01-30T10:00:00+09:00", "2028-01-30", "P/D31", "monthly 30"),
            row("2028-01-31T10:00:00+09:00", "2028-01-31", "P/D31", "monthly 31"),
            row("2028-02-01T04:00:00+09:00", "2028-01-31", "P/LASTDAY", "monthly last"),
            // February 2028 has neither a 30th nor a 31st: no D31 start, no substitute.
            row(
                "2028-03-03T04:00:00+09:00",
                "2028-03-02",
                "P/LASTDAY",
                "monthly last shifted after holiday 2028-02-29"
            ),
            row("2028-03-30T10:00:00+09:00", "2028-03-30", "P/D31", "monthly 30"),
            row("2028-03-31T10:00:00+09:00", "2028-03-31", "P/D31", "monthly 31"),
            row("2028-04-01T04:00:00+09:00", "2028-03-31", "P/LASTDAY", "monthly last"),
        ]
    );
}

/// D8 / MODEL-080 / MODEL-081: holiday shifts across the year end 2027→2028, limits exactly at the edge;
/// an offset landing on a holiday is then handled by the holiday rule (§3.12 step 2 before step 3);
/// a union of two calendars whose first one gives day change 23:00.
#[test]
fn d8_shift_limits_across_year_end_and_calendar_union_dct_2300() {
    let defs = format!(
        "[[calendar]]\nname = \"YE\"\nholidays = [\"2027-12-31\", \"2028-01-01\", \"2028-01-02\", \"2028-01-03\"]\n         [[calendar]]\nname = \"OTHER\"\nday_change = \"23:00\"\nholidays = [\"2027-12-29\"]\n{}{}{}{}{}{}",
        jobnet(
            "SA3",
            "{ time = \"09:00\" }",
            "monthly_dates = [\"last\"], calendars = [\"YE\"], holiday = { shift_after = 3 }"
        ),
        jobnet(
            "SA4",
            "{ time = \"09:00\" }",
            "monthly_dates = [\"last\"], calendars = [\"YE\"], holiday = { shift_after = 4 }"
        ),
        jobnet(
            "SB2",
            "{ time = \"09:00\" }",
            "monthly_dates = [1], calendars = [\"YE\"], holiday = { shift_before = 2 }"
        ),
        jobnet(
            "SB1",
            "{ time = \"09:00\" }",
            "monthly_dates = [1], calendars = [\"YE\"], holiday = { shift_before = 1 }"
        ),
        jobnet(
            "OFFDNS",
            "{ time = \"09:00\" }",
            "annual_dates = [\"12-30\", \"01-03\"], offset_days = 1, calendars = [\"YE\"], holiday = \"do_not_start\""
        ),
        jobnet("UNION", "{ time = \"22:00\" }", "calendars = [\"OTHER\", \"YE\"], holiday = \"do_not_start\""),
    );
    assert_eq!(
        plan(&defs, "2027-12-27", "2028-01-06", None),
        [
            // UNION: day change 23:00 (first calendar), so 22:00 is on the next calendar date.
            row("2027-12-28T22:00:00+09:00", "2027-12-27", "P/UNION", "every day"),
            row("2027-12-29T22:00:00+09:00", "2027-12-28", "P/UNION", "every day"),
            // 2027-12-29 is a holiday of OTHER only; still no start (union).
            // SB2: 01-01 holiday, 12-31 holiday, 12-30 is two days before. SB1 cannot reach it.
            row("2027-12-30T09:00:00+09:00", "2027-12-30", "P/SB2", "monthly 1 shifted before holiday 2028-01-01"),
            row("2027-12-31T22:00:00+09:00", "2027-12-30", "P/UNION", "every day"),
            // OFFDNS: 12-30 + 1 = 12-31, a holiday → dropped; 01-03 + 1 = 01-04.
            row("2028-01-04T09:00:00+09:00", "2028-01-04", "P/OFFDNS", "annual 01-03 offset +1 days"),
            // SA4: 12-31 → 01-04 is 4 days later (SA3's limit 3 drops it).
            row("2028-01-04T09:00:00+09:00", "2028-01-04", "P/SA4", "monthly last shifted after holiday 2027-12-31"),
            row("2028-01-05T22:00:00+09:00", "2028-01-04", "P/UNION", "every day"),
            row("2028-01-06T22:00:00+09:00", "2028-01-05", "P/UNION", "every day"),
            row("2028-01-07T22:00:00+09:00", "2028-01-06", "P/UNION", "every day"),
        ]
    );
}

/// §2.7 business-day rule (n-th non-holiday day, from the start and the end), 5th / last weekday rules in a
/// leap February, base jobnet (its startup days after its own holiday shift) plus an offset, multi-time
/// order in a 05:30 operating day.
#[test]
fn model_business_days_weekday_rules_base_jobnet_offset_feb_2028() {
    let defs = format!(
        "[[calendar]]\nname = \"FEB\"\nday_change = \"05:30\"\nholidays = [\"2028-02-01\", \"2028-02-28\", \"2028-02-29\", \"2028-02-15\"]\n{}{}{}{}",
        jobnet(
            "BD",
            "{ times = [\"23:59\", \"05:00\", \"06:00\"] }",
            "business_days = [\"1st\", \"2nd last\"], calendars = [\"FEB\"]"
        ),
        jobnet("WD", "{ time = \"12:00\" }", "monthly_weekdays = [\"5th Tue\", \"last Sun\"]"),
        jobnet(
            "BASE",
            "{ time = \"12:00\" }",
            "monthly_dates = [15], calendars = [\"FEB\"], holiday = { shift_after = 1 }"
        ),
        jobnet("DERIVED", "{ time = \"13:00\" }", "base_jobnet = \"BASE\", offset_days = 2"),
    );
    let bd = |date: &str, next: &str, reason: &str| {
        vec![
            row(&format!("{date}T06:00:00+09:00"), date, "P/BD", reason),
            row(&format!("{date}T23:59:00+09:00"), date, "P/BD", reason),
            row(&format!("{next}T05:00:00+09:00"), date, "P/BD", reason),
        ]
    };
    let mut want = Vec::new();
    want.extend(bd("2028-02-02", "2028-02-03", "business day 1st"));
    want.push(row("2028-02-16T12:00:00+09:00", "2028-02-16", "P/BASE", "monthly 15 shifted after holiday 2028-02-15"));
    want.push(row("2028-02-18T13:00:00+09:00", "2028-02-18", "P/DERIVED", "base jobnet BASE offset +2 days"));
    // Non-holidays at the end of February: ..., 26, 27 (28, 29 holidays) → 2nd last = 26.
    want.extend(bd("2028-02-26", "2028-02-27", "business day 2nd last"));
    want.push(row("2028-02-27T12:00:00+09:00", "2028-02-27", "P/WD", "monthly last Sun"));
    want.push(row("2028-02-29T12:00:00+09:00", "2028-02-29", "P/WD", "monthly 5th Tue"));
    want.extend(bd("2028-03-01", "2028-03-02", "business day 1st"));
    want.push(row("2028-03-15T12:00:00+09:00", "2028-03-15", "P/BASE", "monthly 15"));
    want.push(row("2028-03-17T13:00:00+09:00", "2028-03-17", "P/DERIVED", "base jobnet BASE offset +2 days"));
    // March 2028 has only four Tuesdays: no 5th Tue.
    want.push(row("2028-03-26T12:00:00+09:00", "2028-03-26", "P/WD", "monthly last Sun"));
    want.extend(bd("2028-03-30", "2028-03-31", "business day 2nd last"));
    assert_eq!(plan(&defs, "2028-01-31", "2028-03-31", None), want);
}

/// §3.12 steps 1–6: template + add − remove, holiday shift blocked by the limit, invalid period after the
/// shift, fine adjustments last (ignoring holidays and periods, in order), a bit pattern replacing the
/// rules for its year and not seen by a jobnet that uses it as base jobnet (5.6.1). Europe/London summer.
#[test]
fn model_084_steps_templates_periods_fine_adjust_bit_pattern_london() {
    let bits = "2028:0000000000000000000000000000000/0000000000000000000000000000100/0000000000000000000000000000000/0000000000000000000000000000000/0000000000000000000000000000000/0000000000000000000000000000000/0001000000000000000000000000000/0000000000000000000000000000000/0000000000000000000000000000000/0000000000000000000000000000000/0000000000000000000000000000000/0000000000000000000000000000000";
    let defs = format!(
        "[environment]\ntimezone = \"Europe/London\"\n         [[calendar]]\nname = \"H\"\nholidays = [\"2028-07-03\", \"2028-07-04\", \"2028-07-10\"]\n         [[template]]\nname = \"T1\"\ndays = [\"2028-07-05\", \"2028-07-20\"]\n{}{}{}",
        jobnet("BITS", "{ time = \"08:00\" }", &format!("weekly = [\"Mon\"], bit_pattern = \"{bits}\"")),
        jobnet("FOLLOW", "{ time = \"09:00\" }", "base_jobnet = \"BITS\""),
        jobnet(
            "MIX",
            "{ time = \"10:00\" }",
            "templates = [\"T1\"], add = [\"2028-07-03\"], remove = [\"2028-07-20\"], calendars = [\"H\"],              holiday = { shift_after = 1 }, valid_period = { from = \"2028-07-01\", to = \"2028-07-31\" },              invalid_period = { from = \"2028-07-05\", to = \"2028-07-05\" },              fine_adjust = [{ date = \"2028-07-10\", start = true }, { date = \"2028-07-12\", start = true },              { date = \"2028-07-12\", start = false }, { date = \"2028-08-02\", start = true }]"
        ),
    );
    assert_eq!(
        plan(&defs, "2028-07-01", "2028-08-05", None),
        [
            // FOLLOW sees BITS's rule (Mondays), not its bit pattern (07-04 only).
            row("2028-07-03T09:00:00+01:00", "2028-07-03", "P/FOLLOW", "base jobnet BITS"),
            row("2028-07-04T08:00:00+01:00", "2028-07-04", "P/BITS", "bit pattern 2028"),
            row("2028-07-10T09:00:00+01:00", "2028-07-10", "P/FOLLOW", "base jobnet BITS"),
            // MIX: 07-03 (added, holiday) → 07-04 holiday too, limit 1 → dropped; 07-05 in the invalid
            // period; 07-20 removed; 07-10 and 08-02 by fine adjustment; 07-12 set then cleared.
            row("2028-07-10T10:00:00+01:00", "2028-07-10", "P/MIX", "fine adjustment"),
            row("2028-07-17T09:00:00+01:00", "2028-07-17", "P/FOLLOW", "base jobnet BITS"),
            row("2028-07-24T09:00:00+01:00", "2028-07-24", "P/FOLLOW", "base jobnet BITS"),
            row("2028-07-31T09:00:00+01:00", "2028-07-31", "P/FOLLOW", "base jobnet BITS"),
            row("2028-08-02T10:00:00+01:00", "2028-08-02", "P/MIX", "fine adjustment"),
        ]
    );
}

/// §3.9 DST rule (docs/calendars.md): America/New_York spring forward 2027-03-14 — an interval's 02:00 and
/// 02:30 fall in the gap and both become 03:00 EDT, which is also the interval's own 03:00: one start.
#[test]
fn dst_new_york_2027_interval_through_gap_starts_once_at_0300() {
    let defs = format!(
        "[environment]\ntimezone = \"America/New_York\"\n{}",
        jobnet(
            "IV",
            "{ interval = { from = \"01:00\", to = \"04:00\", every_min = 30 } }",
            "annual_dates = [\"03-14\"]"
        )
    );
    let rows = plan(&defs, "2027-03-13", "2027-03-15", None);
    let at: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        at,
        [
            "2027-03-14T01:00:00-05:00",
            "2027-03-14T01:30:00-05:00",
            "2027-03-14T03:00:00-04:00",
            "2027-03-14T03:30:00-04:00",
            "2027-03-14T04:00:00-04:00",
        ]
    );
    assert!(rows.iter().all(|r| r.1 == "2027-03-14" && r.3 == "annual 03-14"));
    assert_eq!(
        utc_of(&defs, "2027-03-13", "2027-03-15", "P/IV"),
        [
            "2027-03-14T06:00:00Z",
            "2027-03-14T06:30:00Z",
            "2027-03-14T07:00:00Z",
            "2027-03-14T07:30:00Z",
            "2027-03-14T08:00:00Z"
        ]
    );
}

/// §3.9 DST rule: Europe/London fall back 2028-10-29 — 01:00 and 01:30 take the earlier (BST) instant and
/// are not repeated in GMT; 02:00 and 02:30 are GMT.
#[test]
fn dst_london_2028_fall_back_interval_overlap_takes_earlier_instant() {
    let defs = format!(
        "[environment]\ntimezone = \"Europe/London\"\n{}",
        jobnet(
            "FALL",
            "{ interval = { from = \"00:30\", to = \"02:30\", every_min = 30 } }",
            "annual_dates = [\"10-29\"]"
        )
    );
    assert_eq!(
        utc_of(&defs, "2028-10-28", "2028-10-29", "P/FALL"),
        [
            "2028-10-28T23:30:00Z", // 00:30 BST
            "2028-10-29T00:00:00Z", // 01:00 BST (not 01:00 GMT)
            "2028-10-29T00:30:00Z", // 01:30 BST
            "2028-10-29T02:00:00Z", // 02:00 GMT
            "2028-10-29T02:30:00Z", // 02:30 GMT
        ]
    );
}

/// §3.12 steps 1–4 order: `remove` works on base days before the offset (removing the shifted date does
/// nothing), an added day goes through offset and holiday shift, and the invalid period applies after
/// the shift; a negative offset crosses the year end (D8) and the valid period keeps operating days.
#[test]
fn model_083_step_order_remove_before_offset_period_after_shift() {
    let defs = format!(
        "[[calendar]]\nname = \"C\"\nday_change = \"05:30\"\nholidays = [\"2027-12-31\", \"2027-03-20\"]\n{}{}",
        jobnet(
            "RM",
            "{ time = \"04:00\" }",
            "monthly_dates = [10], offset_days = 1, remove = [\"2027-03-10\", \"2027-04-11\"], add = [\"2027-03-19\"], \
             calendars = [\"C\"], holiday = { shift_after = 5 }, invalid_period = { from = \"2027-03-21\", to = \"2027-03-21\" }"
        ),
        jobnet(
            "NEG",
            "{ time = \"04:00\" }",
            "annual_dates = [\"01-01\"], monthly_dates = [2], offset_days = -1, calendars = [\"C\"], \
             holiday = { shift_before = 1 }, valid_period = { from = \"2027-12-01\", to = \"2027-12-31\" }"
        ),
    );
    // RM in March: 03-10 removed (base day); 03-19 added → +1 = 03-20 holiday → shift after → 03-21,
    // which the invalid period removes. April: 04-10 → 04-11 (removing 04-11 does not touch it).
    assert_eq!(
        plan(&defs, "2027-03-01", "2027-04-30", Some("P/RM")),
        [row("2027-04-12T04:00:00+09:00", "2027-04-11", "P/RM", "monthly 10 offset +1 days")]
    );
    // NEG: 12-02 − 1 = 12-01; 2028-01-01 − 1 = 12-31, a holiday → 12-30; 2028-01-02 − 1 = 2028-01-01 is
    // outside the valid period. Operating day 12-30's 04:00 is on 12-31.
    assert_eq!(
        plan(&defs, "2027-12-01", "2028-01-05", Some("P/NEG")),
        [
            row("2027-12-02T04:00:00+09:00", "2027-12-01", "P/NEG", "monthly 2 offset -1 days"),
            row(
                "2027-12-31T04:00:00+09:00",
                "2027-12-30",
                "P/NEG",
                "annual 01-01 offset -1 days shifted before holiday 2027-12-31"
            ),
        ]
    );
}

/// §2.7 annual rules: `02-29` only in leap years, an annual weekday rule, a 5th weekday that exists only in
/// a leap February; interval across midnight with day change 23:00; a once-a-day message-only jobnet's
/// `scheduled_start` listed as `scheduled`; an and_time start listed as `time_if_events`; a base jobnet's
/// fine adjustment is part of its startup days (steps 1–5); environment_start has no planned time.
#[test]
fn model_annual_rules_interval_dct_2300_kinds() {
    let defs = format!(
        "[[calendar]]\nname = \"L\"\nday_change = \"23:00\"\n{}{}{}{}{}{}",
        jobnet(
            "AW",
            "{ time = \"07:15\" }",
            "annual_weekdays = [\"11 4th Thu\", \"02 5th Tue\"], annual_dates = [\"02-29\"]"
        ),
        jobnet("IV23", "{ interval = { from = \"23:00\", to = \"00:30\", every_min = 45 } }", "calendars = [\"L\"]"),
        "[[jobnet]]\nproject = \"P\"\nname = \"SCHED\"\nstart = { message_only = { once_a_day = true, scheduled_start = \"04:00\" } }\n\
         messages = { events = [\"E1\"] }\nstartup_days = { calendars = [\"L\"], weekly = [\"thursday\"] }\n[[jobnet.job]]\nnumber = 1\ncommand = \"a\"\n",
        "[[jobnet]]\nproject = \"P\"\nname = \"ANDT\"\nstart = { time = \"22:59\" }\nmessages = { events = [\"E1\", \"E2\"], with_time = \"and_time\" }\n\
         startup_days = { calendars = [\"L\"], fine_adjust = [{ date = \"2027-11-25\", start = true }], annual_dates = [\"01-01\"] }\n\
         [[jobnet.job]]\nnumber = 1\ncommand = \"a\"\n",
        "[[jobnet]]\nproject = \"P\"\nname = \"ENV\"\nstart = \"environment_start\"\n[[jobnet.job]]\nnumber = 1\ncommand = \"a\"\n",
        jobnet("FROMFA", "{ time = \"12:00\" }", "base_jobnet = \"ANDT\""),
    );
    let dir = tempfile::tempdir().expect("qa");
    let file = dir.path().join("defs.toml");
    std::fs::write(&file, &defs).expect("qa");
    let (code, stdout, stderr) =
        run(&["plan", file.to_str().expect("qa"), "--from", "2027-11-24", "--to", "2027-11-26", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("qa");
    let got: Vec<String> = v["starts"]
        .as_array()
        .expect("qa")
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {}",
                s["at"].as_str().expect("qa"),
                s["operating_day"].as_str().expect("qa"),
                s["jobnet"].as_str().expect("qa"),
                s["reason"].as_str().expect("qa"),
                s["kind"].as_str().expect("qa")
            )
        })
        .collect();
    let iv = |d: &str, n: &str| {
        vec![
            format!("{d}T23:00:00+09:00 {d} P/IV23 every day time"),
            format!("{d}T23:45:00+09:00 {d} P/IV23 every day time"),
            format!("{n}T00:30:00+09:00 {d} P/IV23 every day time"),
        ]
    };
    let mut want = iv("2027-11-24", "2027-11-25");
    want.push("2027-11-25T07:15:00+09:00 2027-11-25 P/AW annual 11 4th Thu time".into());
    want.push("2027-11-25T12:00:00+09:00 2027-11-25 P/FROMFA base jobnet ANDT time".into());
    want.extend(iv("2027-11-25", "2027-11-26"));
    want.push("2027-11-26T04:00:00+09:00 2027-11-25 P/SCHED weekly Thu scheduled".into());
    want.push("2027-11-26T22:59:00+09:00 2027-11-25 P/ANDT fine adjustment time_if_events".into());
    want.extend(iv("2027-11-26", "2027-11-27"));
    assert_eq!(got, want);
    assert!(!stdout.contains("P/ENV"), "{stdout}");

    // 02-29 and "02 5th Tue" both give 2028-02-29 (one start, named by the annual date); nothing in 2027.
    assert_eq!(
        plan(&defs, "2028-02-28", "2028-03-01", Some("P/AW")),
        [row("2028-02-29T07:15:00+09:00", "2028-02-29", "P/AW", "annual 02-29")]
    );
    assert_eq!(plan(&defs, "2027-02-26", "2027-03-01", Some("P/AW")), []);
}

/// §2.4.1 / §3.9 validation with non-default day-change times: an interval whose `to` precedes `from` in
/// operating-day order (day change 23:00), an absolute estimated end not after the start (05:30), an
/// offset beyond 366 days, rule texts that do not parse, a base-jobnet cycle and a base jobnet of another
/// project are refused; an estimated end past midnight but before the day change is accepted.
#[test]
fn model_048_validation_operating_day_order_and_rule_texts() {
    let cal = |dct: &str| format!("[[calendar]]\nname = \"L\"\nday_change = \"{dct}\"\n");
    let one = |start: &str, extra: &str, days: &str| {
        format!("[[jobnet]]\nproject = \"P\"\nname = \"N\"\nstart = {start}\n{extra}startup_days = {{ {days} }}\n{JOB}")
    };
    let bad = [
        (
            cal("23:00")
                + &one(
                    "{ interval = { from = \"22:00\", to = \"23:30\", every_min = 30 } }",
                    "",
                    "calendars = [\"L\"]",
                ),
            "start.interval.to",
        ),
        (
            cal("05:30") + &one("{ time = \"05:00\" }", "estimated_end = { at = \"05:40\" }\n", "calendars = [\"L\"]"),
            "estimated_end.at",
        ),
        (one("{ time = \"23:00\" }", "", "offset_days = 367"), "startup_days.offset_days"),
        (one("{ time = \"23:00\" }", "", "annual_dates = [\"02-30\"]"), "startup_days.annual_dates"),
        (one("{ time = \"23:00\" }", "", "monthly_weekdays = [\"6th Mon\"]"), "startup_days.monthly_weekdays"),
        (one("{ time = \"23:00\" }", "", "annual_weekdays = [\"13 1st Mon\"]"), "startup_days.annual_weekdays"),
        (one("{ time = \"23:00\" }", "", "weekly = [\"Mun\"]"), "startup_days.weekly"),
        (one("{ interval = { from = \"09:00\", to = \"10:00\", every_min = 241 } }", "", ""), "every_min"),
        (
            one("{ time = \"23:00\" }", "", "base_jobnet = \"M\"")
                + "[[jobnet]]\nproject = \"P\"\nname = \"M\"\nstart = { time = \"23:00\" }\nstartup_days = { base_jobnet = \"N\" }\n"
                + JOB,
            "startup_days.base_jobnet",
        ),
        (
            one("{ time = \"23:00\" }", "", "base_jobnet = \"M\"")
                + "[[jobnet]]\nproject = \"Q\"\nname = \"M\"\nstart = { time = \"23:00\" }\n"
                + JOB,
            "startup_days.base_jobnet",
        ),
    ];
    for (defs, field) in bad {
        let (code, out) = validate(&defs);
        assert_ne!(code, 0, "accepted:\n{defs}");
        assert!(out.contains(field), "{field} not named in:\n{out}\n{defs}");
    }
    let ok = cal("05:30") + &one("{ time = \"23:00\" }", "estimated_end = { at = \"05:29\" }\n", "calendars = [\"L\"]");
    let (code, out) = validate(&ok);
    assert_eq!(code, 0, "{out}");
}

/// §2.7 / §3.12 step 1 (QA F2): `add` is one of the base rules, so `add` alone gives just the added days
/// (reason `added`), not every day. `remove` alone and no rule at all still give every day (minus the removed).
#[test]
fn spec_3_12_add_only_gives_just_the_added_days() {
    let defs = format!(
        "{}{}{}",
        jobnet("ONLYADD", "{ time = \"09:00\" }", "add = [\"2027-11-25\"]"),
        jobnet("ONLYREMOVE", "{ time = \"10:00\" }", "remove = [\"2027-11-25\"]"),
        jobnet("NORULE", "{ time = \"11:00\" }", ""),
    );
    assert_eq!(
        plan(&defs, "2027-11-24", "2027-11-26", None),
        [
            row("2027-11-24T10:00:00+09:00", "2027-11-24", "P/ONLYREMOVE", "every day"),
            row("2027-11-24T11:00:00+09:00", "2027-11-24", "P/NORULE", "every day"),
            row("2027-11-25T09:00:00+09:00", "2027-11-25", "P/ONLYADD", "added"),
            row("2027-11-25T11:00:00+09:00", "2027-11-25", "P/NORULE", "every day"),
            row("2027-11-26T10:00:00+09:00", "2027-11-26", "P/ONLYREMOVE", "every day"),
            row("2027-11-26T11:00:00+09:00", "2027-11-26", "P/NORULE", "every day"),
        ]
    );
}

/// America/New_York, day change 02:30, times 02:30 and 02:00 (the 02:00 is on the next calendar date).
const DST_DC_0230: &str = "[environment]\ntimezone = \"America/New_York\"\n\
    [[calendar]]\nname = \"DC\"\nday_change = \"02:30\"\n";

/// §3.9 DST (QA F1): on 2027-03-14 the 02:00 start of operating day 03-13, the day change and the 02:30 start
/// of operating day 03-14 all become 03:00 EDT. One start there, owned by operating day 03-14 (03:00 EDT lies in
/// its span, not in 03-13's `[03-13 02:30 EST, 03-14 03:00 EDT)`), whatever range is asked for.
#[test]
fn spec_3_9_dst_start_merged_onto_day_change_belongs_to_new_operating_day() {
    let defs = format!(
        "{DST_DC_0230}{}{}",
        jobnet("DCJ", "{ times = [\"02:30\", \"02:00\"] }", "calendars = [\"DC\"]"),
        jobnet("SAT", "{ times = [\"02:30\", \"02:00\"] }", "calendars = [\"DC\"], weekly = [\"Sat\"]"),
    );
    assert_eq!(
        plan(&defs, "2027-03-13", "2027-03-14", Some("P/DCJ")),
        [
            row("2027-03-13T02:30:00-05:00", "2027-03-13", "P/DCJ", "every day"),
            row("2027-03-14T03:00:00-04:00", "2027-03-14", "P/DCJ", "every day"),
            row("2027-03-15T02:00:00-04:00", "2027-03-14", "P/DCJ", "every day"),
        ]
    );
    assert_eq!(plan(&defs, "2027-03-13", "2027-03-13", Some("P/DCJ")).len(), 1);
    assert_eq!(
        plan(&defs, "2027-03-14", "2027-03-14", Some("P/DCJ")),
        [
            row("2027-03-14T03:00:00-04:00", "2027-03-14", "P/DCJ", "every day"),
            row("2027-03-15T02:00:00-04:00", "2027-03-14", "P/DCJ", "every day"),
        ]
    );
    // Saturdays only: Saturday's 02:00 start is not lost; it belongs to Sunday 03-14 and keeps its reason.
    let sat = [
        row("2027-03-13T02:30:00-05:00", "2027-03-13", "P/SAT", "weekly Sat"),
        row("2027-03-14T03:00:00-04:00", "2027-03-14", "P/SAT", "weekly Sat"),
    ];
    assert_eq!(plan(&defs, "2027-03-13", "2027-03-19", Some("P/SAT")), sat);
    assert_eq!(plan(&defs, "2027-03-14", "2027-03-19", Some("P/SAT")), sat[1..]);
}

/// §3.9 DST (QA F1): `woi plan` and `woi simulate` agree over the 2027-03-14 spring-forward day: every planned
/// start inside the simulated window fires once, at the planned instant, for the planned operating day, and runs.
#[test]
fn spec_3_9_dst_plan_and_simulate_agree_on_spring_forward_day() {
    let defs = format!(
        "{DST_DC_0230}{}{}",
        jobnet("DCJ", "{ times = [\"02:30\", \"02:00\"] }", "calendars = [\"DC\"]"),
        jobnet("SAT", "{ times = [\"02:30\", \"02:00\"] }", "calendars = [\"DC\"], weekly = [\"Sat\"]"),
    );
    let dir = tempfile::tempdir().expect("qa");
    let file = dir.path().join("defs.toml");
    let script = dir.path().join("script.toml");
    std::fs::write(&file, &defs).expect("qa");
    std::fs::write(
        &script,
        "start = \"2027-03-12T03:00:00\"\nuntil = \"2027-03-16T02:15:00\"\ndefaults = { duration = \"5m\" }\n",
    )
    .expect("qa");
    let (code, stdout, stderr) =
        run(&["simulate", file.to_str().expect("qa"), "--script", script.to_str().expect("qa"), "--json"]);
    assert_eq!(code, 0, "woi simulate failed: {stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("qa");
    let events = v["events"].as_array().expect("qa");
    let text = |e: &serde_json::Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    for jobnet in ["P/DCJ", "P/SAT"] {
        // Operating days 03-12 .. 03-15 cover the window [03-12 03:00, 03-16 02:15] except 03-12's 02:30.
        let planned: Vec<(String, String)> = plan(&defs, "2027-03-12", "2027-03-15", Some(jobnet))
            .into_iter()
            .filter(|r| r.0.as_str() != "2027-03-12T02:30:00-05:00")
            .map(|r| (r.0, r.1))
            .collect();
        let of = |e: &&serde_json::Value| text(e, "jobnet") == jobnet;
        let triggered: Vec<(String, String)> = events
            .iter()
            .filter(of)
            .filter(|e| text(e, "type") == "start_triggered")
            .map(|e| (text(e, "at"), text(e, "operating_day")))
            .collect();
        let started: Vec<String> = events
            .iter()
            .filter(of)
            .filter(|e| text(e, "type") == "jobnet_status" && text(e, "status") == "executing")
            .map(|e| text(e, "at"))
            .collect();
        assert_eq!(triggered, planned, "{jobnet}: start triggers vs plan");
        assert_eq!(started, planned.iter().map(|p| p.0.clone()).collect::<Vec<_>>(), "{jobnet}: runs vs plan");
        assert!(planned.iter().any(|p| p.0 == "2027-03-14T03:00:00-04:00"), "{jobnet}: {planned:?}");
    }
}
