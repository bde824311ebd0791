//! `woi` — the command line of the woi workload-automation engine.
//!
//! Exit codes: 0 success; 1 the input was read but is not valid (validation
//! errors, a refused script); 2 usage error or unreadable file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

mod admin;
mod authinfo;
mod builtins;
mod daemon;
mod remote;
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
    /// Validate definitions and store them in the data directory for `run` and `serve`.
    Apply {
        /// Definition files or directories.
        #[arg(required = true)]
        defs: Vec<PathBuf>,
        /// Data directory (SQLite store).
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
    },
    /// Start a jobnet now on the embedded scheduler, follow it to its end and print its jobs.
    /// Exit status: 0 completed or pseudo-normal, 3 abended or cancelled.
    Run {
        /// The jobnet, PROJECT/JOBNET.
        jobnet: String,
        /// Apply these definition files first.
        #[arg(long, num_args = 1..)]
        defs: Vec<PathBuf>,
        /// Variable parameter (@.VPARAM@).
        #[arg(long)]
        vparam: Option<String>,
        /// Data directory (SQLite store).
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
        /// Run the clock from this instant (RFC 3339) instead of the system time.
        #[arg(long)]
        now: Option<String>,
        /// Clock speed (virtual seconds per real second).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Print the final state as JSON (no progress lines).
        #[arg(long)]
        json: bool,
    },
    /// Run the scheduler daemon until Ctrl-C or SIGTERM, printing events; with --listen,
    /// serve the Web API (token endpoint, msgevent, msgclear) alongside it.
    Serve {
        /// Apply these definition files first.
        #[arg(long, num_args = 1..)]
        defs: Vec<PathBuf>,
        /// Data directory (SQLite store; accounts and users in auth.db).
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
        /// Run the clock from this instant (RFC 3339) instead of the system time.
        #[arg(long)]
        now: Option<String>,
        /// Clock speed (virtual seconds per real second).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Print events as JSON lines.
        #[arg(long)]
        json: bool,
        /// Serve the Web API on this address, e.g. 127.0.0.1:8080 (default: no Web API).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Tenant ID: the first path segment of every API URL.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Job-management environment ID: the second path segment of the API URLs.
        #[arg(long, default_value = "default")]
        environment: String,
        /// Host named in the token issuer, audience and scope (default: the --listen address).
        #[arg(long)]
        public_host: Option<String>,
        /// Allow plain HTTP on a non-loopback address (terminate TLS in a proxy in front).
        #[arg(long)]
        allow_plain_http: bool,
    },
    /// Manage job-management users: the identities of `X-FJWOI-AUTHORIZATION` and their project rights.
    User {
        #[command(subcommand)]
        action: admin::UserCommand,
    },
    /// Manage the integration adapters' authentication info (REST, Informatica, Snowflake, SAP jobs).
    Auth {
        #[command(subcommand)]
        action: authinfo::AuthCommand,
    },
    /// Manage Web API accounts (OAuth2 clients of the token endpoint) and their client secrets.
    Account {
        #[command(subcommand)]
        action: admin::AccountCommand,
    },
    /// Apply an operation to the scheduler of the data directory (no `woi serve` may hold it),
    /// or with --server to a running server through its Web API (asynchronous operations are
    /// followed to their end; recover is not available remotely).
    /// ACTION: start, cancel, pause, continue, disable, enable, confirm, release_carry_over,
    /// cancel_completion, restart, delete_queued_run (jobnet); cancel_job, restart_job, pause_job, continue_job,
    /// disable_job, enable_job, recover (job); raise_event, clear_events.
    /// Exit status: 0 applied, 1 refused (nothing changed).
    Op {
        /// The operation.
        action: String,
        /// The jobnet, PROJECT/JOBNET (optional for raise_event / clear_events).
        jobnet: Option<String>,
        /// The job, by number or name (job operations and recover).
        job: Option<String>,
        /// Recovery operation: start_from, restart_from, start_next, start_only.
        #[arg(long)]
        recovery: Option<String>,
        /// Variable parameter (start, raise_event).
        #[arg(long)]
        vparam: Option<String>,
        /// Event name (raise_event).
        #[arg(long)]
        event: Option<String>,
        /// Project scope (raise_event, clear_events).
        #[arg(long)]
        project: Option<String>,
        /// Copy-start suffix (raise_event).
        #[arg(long)]
        suffix: Option<String>,
        /// recovery_change: a TOML file with the job's new definition (the body
        /// of its `[[jobnet.job]]` table).
        #[arg(long)]
        definition: Option<PathBuf>,
        /// Data directory (SQLite store).
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
        #[command(flatten)]
        remote: remote::RemoteArgs,
    },
    /// Show every jobnet's state as recorded in the data directory (with --server: of the
    /// running server, times in UTC).
    Status {
        /// Data directory (SQLite store).
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
        /// Only jobnets in these statuses (`waiting`, `executing`, `abended`, …;
        /// repeat or separate with commas). Not with --server.
        #[arg(long = "status", value_delimiter = ',')]
        statuses: Vec<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: remote::RemoteArgs,
    },
    /// Show jobnet runs (newest first); with a jobnet, also the jobs of its latest run.
    History {
        /// Only this jobnet, PROJECT/JOBNET.
        jobnet: Option<String>,
        /// At most this many runs.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Data directory (SQLite store).
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: remote::RemoteArgs,
    },
    /// Forecast the starts of time-started jobnets over a range of operating days.
    Plan {
        /// Definition files or directories.
        #[arg(required = true)]
        defs: Vec<PathBuf>,
        /// First operating day, YYYY-MM-DD (default: today in the environment's time zone).
        #[arg(long)]
        from: Option<String>,
        /// Last operating day, inclusive, YYYY-MM-DD (default: 30 days after `--from`).
        #[arg(long)]
        to: Option<String>,
        /// Only this jobnet, PROJECT/JOBNET.
        #[arg(long)]
        jobnet: Option<String>,
        /// The current instant, RFC 3339 (default: the system clock); decides the default `--from`.
        #[arg(long)]
        now: Option<String>,
        /// Print the forecast as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Built-in command (spec 02 §3.2): raise a message event on the server (--server) or the
    /// embedded scheduler of --data. Usage: woi jobschmsgevent [WOI OPTIONS] event[:project[/jobnet]]
    /// [-p param [-c suffix]]. Exit 0, 21 invalid, 22 credentials, 31 scheduler error, 242 copy start refused.
    #[command(disable_help_flag = true)]
    Jobschmsgevent {
        /// The command's arguments (spec syntax), after woi's own `--` options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Built-in command (spec 02 §3.3): woi jobschchkmsgevt [--server URL | --data DIR]
    /// [--jobnet P/N] event [-i seconds]. Waits for the event on the server or the data
    /// directory; prints CM_MSGEVENT= (and CM_VPARAM=); exit 0, 21 invalid, 22 credentials,
    /// 31 occurrence history unreadable (0523).
    #[command(disable_help_flag = true)]
    Jobschchkmsgevt {
        /// The command's arguments (spec syntax), after woi's own `--` options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Built-in command (spec 02 §3.4): woi jobschchecktime [--tz Z] [--day-change HH:MM] -wt HHMM
    /// [-lt HHMM]. Waits until the time; exit 0, 1 after the latest time, 21 invalid.
    #[command(disable_help_flag = true)]
    Jobschchecktime {
        /// The command's arguments (spec syntax), after woi's own `--` options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Built-in command (spec 02 §3.5): woi jobschsleep seconds. Prints SL_SLEEPSEC=; exit 0, 21 invalid.
    #[command(disable_help_flag = true)]
    Jobschsleep {
        /// The command's arguments (spec syntax).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Built-in command (spec 02 §3.6): woi jobschchknetvar [--var NAME=VALUE]... [--vars FILE]
    /// name [-num op,v[,op2,v2] | -char m,s] [-z]. Exit 0 matched, 1 not matched, 21 invalid.
    #[command(disable_help_flag = true)]
    Jobschchknetvar {
        /// The command's arguments (spec syntax), after woi's own `--` options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Run a future on a multi-threaded tokio runtime.
fn block_on<F: std::future::Future<Output = Result<ExitCode, String>>>(f: F) -> Result<ExitCode, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(f)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { defs, json } => validate(&defs, json),
        Command::Simulate { defs, script, json } => simulate(&defs, &script, json),
        Command::Plan { defs, from, to, jobnet, now, json } => plan(&defs, PlanArgs { from, to, jobnet, now }, json),
        Command::Apply { defs, data } => block_on(daemon::apply(&data, &defs)),
        Command::Run { jobnet, defs, vparam, data, now, speed, json } => {
            let o = daemon::RunOptions { data: &data, defs: &defs, now: now.as_deref(), speed, json };
            block_on(daemon::run(&o, &jobnet, vparam.as_deref()))
        }
        Command::Serve { defs, data, now, speed, json, listen, tenant, environment, public_host, allow_plain_http } => {
            let o = daemon::RunOptions { data: &data, defs: &defs, now: now.as_deref(), speed, json };
            let api =
                listen.map(|listen| admin::ApiOptions { listen, tenant, environment, public_host, allow_plain_http });
            block_on(daemon::serve(&o, api.as_ref()))
        }
        Command::User { action } => admin::user(action),
        Command::Account { action } => admin::account(action),
        Command::Auth { action } => authinfo::auth(action),
        Command::Op { action, jobnet, job, recovery, vparam, event, project, suffix, remote, .. }
            if remote.server.is_some() =>
        {
            let req = remote::OpRequest { action, jobnet, job, recovery, vparam, event, project, suffix };
            block_on(remote::with_remote(&remote, |r| remote::op(r, req)))
        }
        Command::Op { action, jobnet, job, recovery, vparam, event, project, suffix, definition, data, .. } => {
            let mut v = serde_json::json!({ "action": action });
            if let Some(path) = definition {
                match std::fs::read_to_string(&path) {
                    Ok(text) => v["definition"] = text.into(),
                    Err(e) => {
                        eprintln!("woi: {}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                }
            }
            let scoped = matches!(action.as_str(), "raise_event" | "clear_events");
            for (k, val) in [("job", job), ("op", recovery), ("vparam", vparam), ("event", event), ("suffix", suffix)] {
                if let Some(val) = val {
                    v[k] = serde_json::Value::String(val);
                }
            }
            match (scoped, jobnet) {
                // Events take the project and jobnet names separately.
                (true, Some(j)) => match j.split_once('/') {
                    Some((p, n)) => {
                        v["project"] = p.into();
                        v["jobnet"] = n.into();
                    }
                    None => v["jobnet"] = j.into(),
                },
                (false, Some(j)) => v["jobnet"] = j.into(),
                _ => {}
            }
            if let Some(p) = project {
                v["project"] = p.into();
            }
            if v.get("job").and_then(|j| j.as_str()).is_some_and(|j| j.parse::<u16>().is_ok()) {
                let n = v["job"].as_str().and_then(|j| j.parse::<u16>().ok()).unwrap_or_default();
                v["job"] = n.into();
            }
            let o = daemon::RunOptions { data: &data, defs: &[], now: None, speed: 1.0, json: false };
            block_on(daemon::op(&o, v))
        }
        Command::Status { statuses, remote, .. } if !statuses.is_empty() && remote.server.is_some() => {
            Err("--status filters the local list only; with --server use the executions API".to_string())
        }
        Command::Status { remote, json, .. } if remote.server.is_some() => {
            block_on(remote::with_remote(&remote, |r| remote::status(r, json)))
        }
        Command::Status { data, json, statuses, .. } => block_on(daemon::status(&data, json, &statuses)),
        Command::History { jobnet, limit, json, remote, .. } if remote.server.is_some() => {
            block_on(remote::with_remote(&remote, |r| remote::history(r, jobnet.as_deref(), limit, json)))
        }
        Command::History { jobnet, limit, data, json, .. } => {
            block_on(daemon::history(&data, jobnet.as_deref(), limit, json))
        }
        Command::Jobschmsgevent { args } => builtins::run("jobschmsgevent", &args),
        Command::Jobschchkmsgevt { args } => builtins::run("jobschchkmsgevt", &args),
        Command::Jobschchecktime { args } => builtins::run("jobschchecktime", &args),
        Command::Jobschsleep { args } => builtins::run("jobschsleep", &args),
        Command::Jobschchknetvar { args } => builtins::run("jobschchknetvar", &args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("woi: {message}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn out(text: &str) {
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
        let code = n.jobnet.exit_code.map(|c| format!(" code={}", woi_core::exit::code_text(c))).unwrap_or_default();
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

struct PlanArgs {
    from: Option<String>,
    to: Option<String>,
    jobnet: Option<String>,
    now: Option<String>,
}

fn plan(paths: &[PathBuf], args: PlanArgs, json: bool) -> Result<ExitCode, String> {
    use chrono::NaiveDate;
    let date = |flag: &str, s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("--{flag} {s:?}: expected YYYY-MM-DD"))
    };
    let now = match &args.now {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map_err(|e| format!("--now {s:?}: expected RFC 3339, e.g. 2026-04-01T09:00:00+09:00 ({e})"))?
            .to_utc(),
        None => chrono::Utc::now(),
    };
    let from_arg = args.from.as_deref().map(|s| date("from", s)).transpose()?;
    let to_arg = args.to.as_deref().map(|s| date("to", s)).transpose()?;
    let key = match &args.jobnet {
        Some(s) => {
            Some(woi_core::JobnetKey::parse(s).ok_or_else(|| format!("--jobnet {s:?}: expected PROJECT/JOBNET"))?)
        }
        None => None,
    };
    let cat = woi_adapters::files::load(paths).map_err(|e| e.to_string())?;
    let env = match cat.compile() {
        Ok(env) => env,
        Err(diags) => {
            for d in &diags {
                eprintln!("error: {d}");
            }
            eprintln!("{} error(s); nothing was planned", diags.len());
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(k) = &key
        && !env.jobnets.contains_key(k)
    {
        return Err(format!("--jobnet {k}: no such jobnet in the definitions"));
    }
    let from = from_arg.unwrap_or_else(|| now.with_timezone(&env.tz).date_naive());
    let to = match to_arg {
        Some(t) => t,
        None => from.checked_add_days(chrono::Days::new(30)).unwrap_or(from),
    };
    if to < from {
        return Err(format!("--to {to} is before --from {from}"));
    }
    // Streamed: the starts are written as the plan produces them, never collected.
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed pipe (e.g. `| head`) is not an error worth reporting.
    if json {
        let doc = woi_core::plan::PlanDocument { env: &env, from, to, filter: key.as_ref() };
        if serde_json::to_writer_pretty(&mut w, &doc).is_ok() {
            let _ = w.write_all(b"\n");
        }
    } else {
        let mut width = 6;
        woi_core::plan::plan_each(&env, from, to, key.as_ref(), |p| {
            width = width.max(p.jobnet.project.len() + 1 + p.jobnet.jobnet.len());
        });
        let mut ok = write!(w, "plan {from} .. {to} ({})\n\n", env.tz.name()).is_ok()
            && writeln!(w, "{:<23}  {:<13}  {:<width$}  reason", "local time", "operating day", "jobnet").is_ok();
        let n = woi_core::plan::plan_each(&env, from, to, key.as_ref(), |p| {
            let kind = match p.kind {
                woi_core::plan::StartKind::Time => "",
                woi_core::plan::StartKind::TimeIfEvents => " (if its message events occurred)",
                woi_core::plan::StartKind::Scheduled => " (scheduled: starts by message events)",
            };
            ok = ok
                && writeln!(
                    w,
                    "{:<23}  {:<13}  {:<width$}  {}{kind}",
                    p.local.format("%Y-%m-%d %H:%M %:z").to_string(),
                    p.operating_day.to_string(),
                    p.jobnet.to_string(),
                    p.reason
                )
                .is_ok();
        });
        let _ = ok && writeln!(w, "{n} start(s)").is_ok();
    }
    let _ = w.flush();
    Ok(ExitCode::SUCCESS)
}
