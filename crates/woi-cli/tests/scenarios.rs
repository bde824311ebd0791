//! Data-driven scenario tests: every `tests/scenarios/*.toml` holds
//! definitions, a simulation script and the expected outcome, and is run
//! through the production engine (`woi_core::sim`). See
//! `tests/scenarios/README.md` for the format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use woi_core::Catalog;
use woi_core::model::Definitions;
use woi_core::sim::{self, Report, Script};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[allow(dead_code)]
    title: String,
    defs: toml::Value,
    #[serde(default)]
    script: Option<toml::Value>,
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    jobnets: BTreeMap<String, JobnetExpect>,
    #[serde(default)]
    jobs: BTreeMap<String, JobExpect>,
    /// Substrings that must appear in the event lines, in this order.
    #[serde(default)]
    events_in_order: Vec<String>,
    /// Substrings that must not appear in any event line.
    #[serde(default)]
    events_absent: Vec<String>,
    /// Results of the scripted inputs, in order (prefix match).
    #[serde(default)]
    inputs: Vec<String>,
    /// The definitions must fail validation with diagnostics containing each substring.
    #[serde(default)]
    validation_errors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobnetExpect {
    status: String,
    #[serde(default)]
    exit_code: Option<u32>,
    #[serde(default)]
    runs: Option<u32>,
    /// Message-event counts after the run, by event name.
    #[serde(default)]
    counts: BTreeMap<String, u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobExpect {
    status: String,
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    raw: Option<i64>,
    #[serde(default)]
    attempts: Option<u32>,
    #[serde(default)]
    delayed: Option<bool>,
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let sc: Scenario = toml::from_str(&text).map_err(|e| format!("scenario file: {e}"))?;
    let defs: Definitions = sc.defs.try_into().map_err(|e| format!("defs: {e}"))?;
    let mut cat = Catalog::new();
    cat.add(Some("defs".into()), defs);
    let exp = sc.expect;
    match cat.compile() {
        Err(diags) => {
            if exp.validation_errors.is_empty() {
                return Err(format!("definitions unexpectedly invalid: {diags:#?}"));
            }
            let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            for want in &exp.validation_errors {
                if !all.iter().any(|d| d.contains(want.as_str())) {
                    return Err(format!("no validation error contains {want:?}; got {all:#?}"));
                }
            }
            Ok(())
        }
        Ok(_) if !exp.validation_errors.is_empty() => {
            Err(format!("definitions were valid, expected errors {:?}", exp.validation_errors))
        }
        Ok(env) => {
            let script: Script = sc
                .script
                .ok_or("a scenario with valid definitions needs [script]")?
                .try_into()
                .map_err(|e| format!("script: {e}"))?;
            let report = sim::run(Arc::new(env), &script).map_err(|e| e.to_string())?;
            compare(&report, &exp)?;
            let codes = scheduler_codes(&report);
            match codes.iter().find(|c| matches!(c, 232..=237 | 240..=241)) {
                Some(c) => Err(format!("XC-011: the scheduler emitted exit code {c}")),
                None => {
                    SEEN.with(|s| s.borrow_mut().extend(codes));
                    Ok(())
                }
            }
        }
    }
}

thread_local! {
    /// Exit codes the scheduler (not a command) gave jobs, over the scenarios run.
    static SEEN: std::cell::RefCell<std::collections::BTreeSet<u32>> = const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

/// The exit codes of origin `Scheduler` that jobs ended with (a jobnet
/// icon mirrors its jobnet's code, which may be a command's: not counted).
fn scheduler_codes(r: &Report) -> Vec<u32> {
    use woi_core::model::JobKind;
    let icons: std::collections::BTreeSet<(String, u16)> = r
        .jobnets
        .iter()
        .flat_map(|n| {
            n.jobs
                .iter()
                .filter(|j| matches!(j.kind, JobKind::ChildJobnet | JobKind::LinkedJobnet))
                .map(|j| (n.jobnet.key.to_string(), j.number))
        })
        .collect();
    r.events
        .iter()
        .filter_map(|e| match &e.kind {
            woi_core::EventKind::JobStatus { jobnet, job, exit: Some(x), .. }
                if x.origin == woi_core::exit::Origin::Scheduler && !icons.contains(&(jobnet.to_string(), *job)) =>
            {
                Some(x.code)
            }
            _ => None,
        })
        .collect()
}

fn compare(r: &Report, exp: &Expect) -> Result<(), String> {
    let mut errs = Vec::new();
    for (key, want) in &exp.jobnets {
        match r.jobnets.iter().find(|n| n.jobnet.key.to_string() == *key) {
            None => errs.push(format!("jobnet {key} not in report")),
            Some(n) => {
                if n.jobnet.status.as_str() != want.status {
                    errs.push(format!("jobnet {key}: status {} (want {})", n.jobnet.status, want.status));
                }
                if want.exit_code.is_some() && n.jobnet.exit_code != want.exit_code {
                    errs.push(format!("jobnet {key}: exit code {:?} (want {:?})", n.jobnet.exit_code, want.exit_code));
                }
                if want.runs.is_some_and(|w| w != n.jobnet.run) {
                    errs.push(format!("jobnet {key}: runs {} (want {:?})", n.jobnet.run, want.runs));
                }
                for (event, count) in &want.counts {
                    let got = n.event_counts.iter().find(|c| &c.event == event).map(|c| c.count);
                    if got != Some(*count) {
                        errs.push(format!("jobnet {key}: count of {event} {got:?} (want {count})"));
                    }
                }
            }
        }
    }
    for (path, want) in &exp.jobs {
        let Some((jobnet, job)) = path.rsplit_once('/') else {
            errs.push(format!("job key {path:?}: expected PROJECT/JOBNET/JOB"));
            continue;
        };
        let found = r
            .jobnets
            .iter()
            .find(|n| n.jobnet.key.to_string() == jobnet)
            .and_then(|n| n.jobs.iter().find(|j| j.number.to_string() == job || &*j.name == job));
        match found {
            None => errs.push(format!("job {path} not in report")),
            Some(j) => {
                if j.status.as_str() != want.status {
                    errs.push(format!("job {path}: status {} (want {})", j.status, want.status));
                }
                if want.code.is_some() && j.exit.map(|e| e.code) != want.code {
                    errs.push(format!("job {path}: code {:?} (want {:?})", j.exit.map(|e| e.code), want.code));
                }
                if want.raw.is_some() && j.exit.and_then(|e| e.raw) != want.raw {
                    errs.push(format!("job {path}: raw {:?} (want {:?})", j.exit.and_then(|e| e.raw), want.raw));
                }
                if want.attempts.is_some_and(|a| a != j.attempts) {
                    errs.push(format!("job {path}: attempts {} (want {:?})", j.attempts, want.attempts));
                }
                if want.delayed.is_some_and(|d| d != j.delayed) {
                    errs.push(format!("job {path}: delayed {} (want {:?})", j.delayed, want.delayed));
                }
            }
        }
    }
    let lines = r.event_lines();
    let mut from = 0;
    for want in &exp.events_in_order {
        match lines[from..].iter().position(|l| l.contains(want.as_str())) {
            Some(p) => from += p + 1,
            None => {
                errs.push(format!("event {want:?} not found (in order) after line {from}"));
                break;
            }
        }
    }
    for bad in &exp.events_absent {
        if let Some(l) = lines.iter().find(|l| l.contains(bad.as_str())) {
            errs.push(format!("event {bad:?} must not appear, found: {l}"));
        }
    }
    for (i, want) in exp.inputs.iter().enumerate() {
        match r.inputs.get(i) {
            Some(got) if got.result.starts_with(want.as_str()) => {}
            got => errs.push(format!("input {}: result {:?} (want {want:?})", i + 1, got.map(|g| &g.result))),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        errs.push(format!("event log:\n  {}", lines.join("\n  ")));
        Err(errs.join("\n"))
    }
}

// XC-011
#[test]
fn scenarios_xc_011_the_scheduler_never_emits_232_to_237_or_240_241() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let only = std::env::var("SCENARIO").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for f in &files {
        let name = f.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        ran += 1;
        if let Err(e) = check(f) {
            failures.push(format!("--- {name}\n{e}"));
        }
    }
    assert!(ran > 0, "no scenario ran");
    assert!(failures.is_empty(), "{} of {ran} scenarios failed:\n{}", failures.len(), failures.join("\n\n"));
    eprintln!("{ran} scenarios passed");
    // XC-011: every scenario was checked above for 232–237 and 240–241 among
    // the codes the scheduler gave; the scenarios do reach its own codes.
    if only.is_none() {
        let seen = SEEN.with(|s| s.borrow().clone());
        for code in [248, 253, 254, 256] {
            assert!(seen.contains(&code), "XC-011: no scenario ends a job with scheduler code {code}: {seen:?}");
        }
        assert!(!seen.iter().any(|c| matches!(c, 232..=237 | 240..=241)), "XC-011: {seen:?}");
    }
}
