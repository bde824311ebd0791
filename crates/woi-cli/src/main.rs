//! `woi` — the command line of the woi workload-automation engine.
//!
//! Exit codes: 0 success; 1 the input was read but is not valid (validation
//! errors, a refused script); 2 usage error or unreadable file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use woi_core::sim::{self, Report};
use woi_core::validate::Options;

#[derive(Parser)]
#[command(name = "woi", version, about = "Workload automation with business calendars: projects, jobnets, jobs.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check definition files; list every problem (file, object, field).
    Validate {
        /// Definition files or directories (TOML; `.json` files as JSON).
        #[arg(required = true)]
        defs: Vec<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run definitions on a virtual clock with a script of outcomes and inputs.
    Simulate {
        /// Definition files or directories.
        #[arg(required = true)]
        defs: Vec<PathBuf>,
        /// The script (TOML, or JSON by the `.json` extension).
        #[arg(long, short)]
        script: PathBuf,
        /// Print the event log and final states as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { defs, json } => validate(&defs, json),
        Command::Simulate { defs, script, json } => simulate(&defs, &script, json),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("woi: {message}");
            ExitCode::from(2)
        }
    }
}

fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn validate(paths: &[PathBuf], json: bool) -> Result<ExitCode, String> {
    let cat = woi_adapters::files::load(paths).map_err(|e| e.to_string())?;
    let diags = cat.diagnostics(Options::default());
    if json {
        let v = serde_json::json!({
            "valid": diags.is_empty(),
            "jobnets": cat.defs.jobnets.len(),
            "errors": diags,
        });
        out(&format!("{}\n", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?));
    } else if diags.is_empty() {
        out(&format!("ok: {} jobnet(s) valid\n", cat.defs.jobnets.len()));
    } else {
        let mut text = String::new();
        for d in &diags {
            text.push_str(&format!("error: {d}\n"));
        }
        text.push_str(&format!("{} error(s)\n", diags.len()));
        out(&text);
    }
    Ok(if diags.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn simulate(paths: &[PathBuf], script_path: &PathBuf, json: bool) -> Result<ExitCode, String> {
    let cat = woi_adapters::files::load(paths).map_err(|e| e.to_string())?;
    let env = match cat.compile() {
        Ok(env) => Arc::new(env),
        Err(diags) => {
            for d in &diags {
                eprintln!("error: {d}");
            }
            eprintln!("{} error(s); nothing was simulated", diags.len());
            return Ok(ExitCode::from(1));
        }
    };
    let text = std::fs::read_to_string(script_path).map_err(|e| format!("{}: {e}", script_path.display()))?;
    let is_json = script_path.extension().is_some_and(|x| x.eq_ignore_ascii_case("json"));
    let script = match sim::parse_script(&text, is_json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", script_path.display());
            return Ok(ExitCode::from(1));
        }
    };
    let report = match sim::run(env, &script) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", script_path.display());
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?));
    } else {
        out(&render_table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn render_table(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!("simulation {} .. {} ({})\n\n", r.start, r.end, r.timezone));
    if !r.inputs.is_empty() {
        s.push_str("inputs:\n");
        for i in &r.inputs {
            s.push_str(&format!("  {} {} -> {}\n", i.at, i.action, i.result));
        }
        s.push('\n');
    }
    s.push_str("events:\n");
    for line in r.event_lines() {
        s.push_str(&format!("  {line}\n"));
    }
    s.push_str("\nfinal states:\n");
    for n in &r.jobnets {
        if n.jobnet.run == 0 {
            continue;
        }
        let code = n.jobnet.exit_code.map(|c| format!(" code={c}")).unwrap_or_default();
        s.push_str(&format!("  jobnet {} {}{} (runs: {})\n", n.jobnet.key, n.jobnet.status, code, n.jobnet.run));
        s.push_str(&format!("    {:>4}  {:<16} {:<14} {:>12} {:>8}\n", "job", "name", "status", "code", "attempts"));
        for j in &n.jobs {
            let code = j.exit.map(|e| e.display()).unwrap_or_else(|| "-".into());
            s.push_str(&format!(
                "    {:>4}  {:<16} {:<14} {:>12} {:>8}\n",
                j.number,
                j.name,
                j.status.as_str(),
                code,
                j.attempts
            ));
        }
    }
    let idle = r.jobnets.iter().filter(|n| n.jobnet.run == 0).count();
    if idle > 0 {
        s.push_str(&format!("  ({idle} jobnet(s) never started)\n"));
    }
    s
}
