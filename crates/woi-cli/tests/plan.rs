//! `woi plan`: the built binary on a small definition file.

use std::process::Command;

const DEFS: &str = r#"
[environment]
timezone = "Asia/Tokyo"

[[calendar]]
name = "BIZ"
day_change = "05:00"
holidays = ["2026-04-29"]

[[jobnet]]
project = "SALES"
name = "DAILY"
start = { time = "09:00" }
startup_days = { calendars = ["BIZ"], holiday = "do_not_start" }
[[jobnet.job]]
number = 1
command = "extract.sh"

[[jobnet]]
project = "SALES"
name = "NIGHT"
start = { time = "03:00" }
startup_days = { monthly_dates = [29], calendars = ["BIZ"], holiday = { shift_after = 2 } }
[[jobnet.job]]
number = 1
command = "batch.sh"
"#;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_woi")).args(args).output().expect("run woi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn plan_json_lists_starts_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("defs.toml");
    std::fs::write(&file, DEFS).unwrap();
    let file = file.to_str().unwrap();
    let (code, stdout, stderr) = run(&["plan", file, "--from", "2026-04-28", "--to", "2026-04-30", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["timezone"], "Asia/Tokyo");
    assert_eq!(v["from"], "2026-04-28");
    assert_eq!(v["to"], "2026-04-30");
    let starts: Vec<(String, String, String, String)> = v["starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap().to_string();
            (f("at"), f("operating_day"), f("jobnet"), f("reason"))
        })
        .collect();
    let row = |a: &str, d: &str, j: &str, r: &str| (a.to_string(), d.to_string(), j.to_string(), r.to_string());
    assert_eq!(
        starts,
        [
            row("2026-04-28T09:00:00+09:00", "2026-04-28", "SALES/DAILY", "every day"),
            // 04-29 is a holiday: DAILY does not start; NIGHT's 29th moves to 04-30, 03:00 of the next date.
            row("2026-04-30T09:00:00+09:00", "2026-04-30", "SALES/DAILY", "every day"),
            row(
                "2026-05-01T03:00:00+09:00",
                "2026-04-30",
                "SALES/NIGHT",
                "monthly 29 shifted after holiday 2026-04-29"
            ),
        ]
    );

    // Defaults: from = today in the environment's zone (from --now), to = from + 30 days; one jobnet.
    let (code, stdout, _) = run(&["plan", file, "--now", "2026-04-27T23:30:00Z", "--jobnet", "SALES/NIGHT", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["from"], "2026-04-28");
    assert_eq!(v["to"], "2026-05-28");
    assert_eq!(v["starts"].as_array().unwrap().len(), 1);

    // The table.
    let (code, stdout, _) = run(&["plan", file, "--from", "2026-04-28", "--to", "2026-04-28"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("2026-04-28 09:00 +09:00  2026-04-28     SALES/DAILY  every day"), "{stdout}");
    assert!(stdout.contains("1 start(s)"), "{stdout}");
}

#[test]
fn plan_refuses_invalid_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, DEFS.replace("\"BIZ\"]", "\"NOPE\"]")).unwrap();
    let (code, _, stderr) = run(&["plan", file.to_str().unwrap(), "--from", "2026-04-28", "--json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("NOPE"), "{stderr}");
    let (code, _, stderr) = run(&["plan", file.to_str().unwrap(), "--from", "28/04/2026"]);
    assert_eq!(code, 2, "{stderr}");
}

/// `woi plan` streams the plan; its output is what collecting the plan and
/// printing it at once gives (the documented format, keys in alphabetical order).
#[test]
fn plan_streams_the_collected_plan() {
    let mut text = String::from(
        "[environment]\ntimezone = \"America/New_York\"\n[[calendar]]\nname = \"LATE\"\nday_change = \"06:00\"\n",
    );
    for i in 0..60 {
        let (start, days) = match i % 4 {
            0 => ("{ time = \"03:00\" }", "calendars = [\"LATE\"]"),
            1 => ("{ times = [\"01:30\", \"09:00\"] }", "weekly = [\"Sun\", \"Mon\"]"),
            2 => ("{ interval = { from = \"00:00\", to = \"04:00\", every_min = 60 } }", "monthly_dates = [1, 8]"),
            _ => ("{ time = \"02:30\" }", "holiday = \"do_not_start\""),
        };
        text.push_str(&format!(
            "[[jobnet]]\nproject = \"P{}\"\nname = \"N{i:02}\"\nstart = {start}\nstartup_days = {{ {days} }}\n\
             [[jobnet.job]]\nnumber = 1\ncommand = \"x.sh\"\n",
            i % 3
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.toml");
    std::fs::write(&file, &text).unwrap();
    let (code, stdout, stderr) =
        run(&["plan", file.to_str().unwrap(), "--from", "2026-03-01", "--to", "2026-03-10", "--json"]);
    assert_eq!(code, 0, "{stderr}");

    let env =
        woi_core::defs::Environment::from_valid(&woi_core::defs::parse(&text, woi_core::defs::Format::Toml).unwrap());
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let starts = woi_core::plan::plan(&env, d("2026-03-01"), d("2026-03-10"), None);
    assert!(starts.len() > 500, "{}", starts.len());
    let expected = serde_json::json!({
        "timezone": "America/New_York",
        "from": "2026-03-01",
        "to": "2026-03-10",
        "starts": starts,
    });
    assert_eq!(stdout, format!("{}\n", serde_json::to_string_pretty(&expected).unwrap()));

    let (code, stdout, _) = run(&["plan", file.to_str().unwrap(), "--from", "2026-03-01", "--to", "2026-03-10"]);
    assert_eq!(code, 0);
    assert!(stdout.ends_with(&format!("\n{} start(s)\n", starts.len())), "{stdout}");
    assert_eq!(stdout.lines().count(), starts.len() + 4);
}
