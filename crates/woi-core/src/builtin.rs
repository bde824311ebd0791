//! The five built-in job commands (spec 02 §3.2–§3.6) and jobnet variables
//! (spec 01 §2.8, §3.11; spec 02 §2.2): argument parsing and pure evaluation
//! on injected facts. Nothing here reads a clock or does I/O.
//!
//! | Command | Arguments | Evaluation |
//! |---|---|---|
//! | `jobschmsgevent` | [`MsgEventArgs`] | [`MsgEventArgs::raise_request`] → [`crate::Engine::raise_event`], then [`MsgEventArgs::finish`] |
//! | `jobschchkmsgevt` | [`ChkMsgEvtArgs`] | [`ChkMsgEvtArgs::step`] over an [`Occurrence`] history |
//! | `jobschchecktime` | [`CheckTimeArgs`] | [`CheckTimeArgs::step`] in a [`TimeContext`] |
//! | `jobschsleep` | [`SleepArgs`] | [`SleepArgs::step`] |
//! | `jobschchknetvar` | [`ChkNetVarArgs`] | [`ChkNetVarArgs::evaluate`] over the jobnet variables |
//!
//! A driver splits the job's (substituted) command line like a shell, hands
//! the words to [`Builtin::parse_words`] (or the name and the rest to
//! [`Builtin::parse`]), and then runs the waiting commands as a loop:
//! call `step(…, started, now)`; on [`Step::Wait`] sleep until that instant
//! (or until something relevant changes) and call it again; on [`Step::Done`]
//! print [`Finish::output`] to the job's stdout, append [`Finish::messages`]
//! to its history and end the job with [`Finish::exit`]. A parse or
//! evaluation [`Failure`] ends the job the same way (`Finish::from`).
//!
//! Exit codes of the commands are in [`code`]; the status they give the job
//! is [`classify_end`] (the judgement job's 0 and 1 are both normal).
//!
//! Jobnet variables: [`capture_variables`] turns a job's output into
//! `<prefix>.<NAME>` variables; [`Variables`] substitutes `@.VPARAM@`,
//! `@<prefix>.<NAME>@` and `@NAME@` in a job's fields. Their failures are
//! scheduler codes 245–247 ([`VariableError::exit`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar;
use crate::defs::{Environment, JobnetKey};
use crate::engine::{RaiseRequest, check_vparam};
use crate::exit::{self, EndClass, ExitCode, Judgement, Origin};
use crate::messages;
use crate::model::{HourMinute, JobDef, JobKind};
use crate::text::{self, limits};

/// Exit codes of the built-in commands (spec 02 §3.4 table; the other
/// commands reuse them as the spec's design suggestions say, Q-NV-3).
pub mod code {
    /// Normal end. `jobschchknetvar`: matched (or not matched with `-z`).
    pub const OK: u32 = 0;
    /// `jobschchecktime`: started after the latest time (abnormal end).
    /// `jobschchknetvar`: not matched (or matched with `-z`) — a normal end.
    pub const NOT_MET: u32 = 1;
    /// Invalid specification: a bad option, value or combination.
    pub const INVALID: u32 = 21;
    /// Error obtaining job-management-environment or user information (e.g. 0027).
    pub const ENVIRONMENT: u32 = 22;
    /// Internal error of the job-management environment (e.g. 0523, a variable-store read error).
    pub const INTERNAL_ENVIRONMENT: u32 = 31;
    /// Other internal error.
    pub const INTERNAL: u32 = 35;
    /// `jobschmsgevent`: copy start was refused (0431), as the scheduler's 242.
    pub const COPY_START_FAILED: u32 = crate::exit::COPY_START_FAILED;
}

/// Names of the built-in commands.
pub const COMMANDS: [&str; 5] =
    ["jobschmsgevent", "jobschchkmsgevt", "jobschchecktime", "jobschsleep", "jobschchknetvar"];

/// The built-in command behind a job kind (`None` for command, adapter and jobnet-icon kinds).
pub fn command_name(kind: JobKind) -> Option<&'static str> {
    match kind {
        JobKind::MessageEventRaise => Some("jobschmsgevent"),
        JobKind::MessageEventWait => Some("jobschchkmsgevt"),
        JobKind::TimeWait => Some("jobschchecktime"),
        JobKind::Sleep => Some("jobschsleep"),
        JobKind::JobnetVariableDecision => Some("jobschchknetvar"),
        _ => None,
    }
}

/// The job kind of a built-in command name (exact names only: the manual's
/// misspellings `jobschchknnetvar` / `jobschcknetvar` are not built-ins).
pub fn kind_of(command: &str) -> Option<JobKind> {
    match command {
        "jobschmsgevent" => Some(JobKind::MessageEventRaise),
        "jobschchkmsgevt" => Some(JobKind::MessageEventWait),
        "jobschchecktime" => Some(JobKind::TimeWait),
        "jobschsleep" => Some(JobKind::Sleep),
        "jobschchknetvar" => Some(JobKind::JobnetVariableDecision),
        _ => None,
    }
}

/// How a finished job is classified: like [`exit::classify`], except that the
/// judgement job's (`jobschchknetvar`) own codes 0 and 1 are both Completed
/// whatever the upper limit (spec 02 §3.11 rule 5, NV-028). Its codes ≥ 2 are
/// command codes like any other (Abended with the default upper limit 0; D3
/// lets "normal regardless of exit code" cover them).
pub fn classify_end(kind: JobKind, exit: ExitCode, judgement: Judgement) -> EndClass {
    if kind == JobKind::JobnetVariableDecision && exit.origin == Origin::Command && exit.code <= code::NOT_MET {
        return EndClass::Completed;
    }
    exit::classify(exit, judgement)
}

/// A refused specification or an evaluation error: the job ends at once with
/// `exit_code` and appends `lines` (exact message texts) to its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The command's exit code (21, 22, 31, 35 …).
    pub exit_code: u32,
    /// Messages for the job's history, in order.
    pub lines: Vec<String>,
}

impl Failure {
    fn new(exit_code: u32, lines: Vec<String>) -> Failure {
        Failure { exit_code, lines }
    }

    fn invalid(line: String) -> Failure {
        Failure::new(code::INVALID, vec![line])
    }

    /// `jobschchecktime`: the day-change time cannot be obtained (0027, exit 22).
    pub fn day_change_unavailable() -> Failure {
        Failure::new(code::ENVIRONMENT, vec![messages::day_change_unavailable()])
    }

    /// `jobschchkmsgevt`: the occurrence history cannot be read (0523, exit 31).
    pub fn occurrence_history_unreadable() -> Failure {
        Failure::new(code::INTERNAL_ENVIRONMENT, vec![messages::occurrence_history_read_failed()])
    }

    /// `jobschchknetvar`: the jobnet-variable store cannot be read (exit 31).
    pub fn variable_store_unreadable(error: &str) -> Failure {
        Failure::new(code::INTERNAL_ENVIRONMENT, vec![messages::internal_error(error)])
    }
}

/// How a built-in job ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finish {
    /// The command's exit code.
    pub exit_code: u32,
    /// Standard-output lines (`NAME=VALUE` lines are captured as jobnet variables).
    pub output: Vec<String>,
    /// Messages for the job's history.
    pub messages: Vec<String>,
}

impl Finish {
    fn new(exit_code: u32, output: Vec<String>) -> Finish {
        Finish { exit_code, output, messages: Vec::new() }
    }

    /// The exit code as the engine takes it: the command's own codes (0,
    /// 1, 21, 22, 31, 35), except 242 (copy start refused, 0431), which the
    /// scheduler sets and which stays abnormal whatever the job's exit-code
    /// settings (spec 02 §3.9, §3.11 rule 4; decision D3).
    pub fn exit(&self) -> ExitCode {
        if self.exit_code == code::COPY_START_FAILED {
            ExitCode::scheduler(self.exit_code)
        } else {
            ExitCode::from_command(i64::from(self.exit_code))
        }
    }

    /// The standard output as text: each line followed by `\n`.
    pub fn stdout(&self) -> String {
        self.output.iter().map(|l| format!("{l}\n")).collect()
    }
}

impl From<Failure> for Finish {
    fn from(f: Failure) -> Finish {
        Finish { exit_code: f.exit_code, output: Vec::new(), messages: f.lines }
    }
}

/// What a waiting command does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Keep waiting; evaluate again at this instant.
    Wait(DateTime<Utc>),
    /// End now.
    Done(Finish),
}

/// A built-in command with its parsed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `jobschmsgevent`.
    MsgEvent(MsgEventArgs),
    /// `jobschchkmsgevt`.
    ChkMsgEvt(ChkMsgEvtArgs),
    /// `jobschchecktime`.
    CheckTime(CheckTimeArgs),
    /// `jobschsleep`.
    Sleep(SleepArgs),
    /// `jobschchknetvar`.
    ChkNetVar(ChkNetVarArgs),
}

impl Builtin {
    /// Parse the arguments of built-in `command`; `None` when `command` is not
    /// one of [`COMMANDS`] (then it is an ordinary program).
    pub fn parse(command: &str, args: &[String]) -> Option<Result<Builtin, Failure>> {
        Some(match kind_of(command)? {
            JobKind::MessageEventRaise => MsgEventArgs::parse(args).map(Builtin::MsgEvent),
            JobKind::MessageEventWait => ChkMsgEvtArgs::parse(args).map(Builtin::ChkMsgEvt),
            JobKind::TimeWait => CheckTimeArgs::parse(args).map(Builtin::CheckTime),
            JobKind::Sleep => SleepArgs::parse(args).map(Builtin::Sleep),
            _ => ChkNetVarArgs::parse(args).map(Builtin::ChkNetVar),
        })
    }

    /// [`Builtin::parse`] on a whole command line already split into words.
    pub fn parse_words(words: &[String]) -> Option<Result<Builtin, Failure>> {
        let (command, args) = words.split_first()?;
        Builtin::parse(command, args)
    }

    /// The command name.
    pub fn name(&self) -> &'static str {
        match self {
            Builtin::MsgEvent(_) => "jobschmsgevent",
            Builtin::ChkMsgEvt(_) => "jobschchkmsgevt",
            Builtin::CheckTime(_) => "jobschchecktime",
            Builtin::Sleep(_) => "jobschsleep",
            Builtin::ChkNetVar(_) => "jobschchknetvar",
        }
    }

    /// The job kind that runs this command.
    pub fn kind(&self) -> JobKind {
        match self {
            Builtin::MsgEvent(_) => JobKind::MessageEventRaise,
            Builtin::ChkMsgEvt(_) => JobKind::MessageEventWait,
            Builtin::CheckTime(_) => JobKind::TimeWait,
            Builtin::Sleep(_) => JobKind::Sleep,
            Builtin::ChkNetVar(_) => JobKind::JobnetVariableDecision,
        }
    }
}

/// `n` seconds, saturating instead of panicking out of range.
fn secs(n: i64) -> Duration {
    Duration::try_seconds(n).unwrap_or(Duration::MAX)
}

fn saturating_add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `HHMM`: exactly four ASCII digits, 0000–2359.
fn parse_hhmm(s: &str) -> Option<HourMinute> {
    let b = s.as_bytes();
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    HourMinute::new((b[0] - b'0') * 10 + (b[1] - b'0'), (b[2] - b'0') * 10 + (b[3] - b'0'))
}

fn hhmm(t: HourMinute) -> String {
    format!("{:02}{:02}", t.hour, t.minute)
}

/// A decimal of ASCII digits only (leading zeros allowed), at most `max`.
fn parse_bounded(s: &str, max: u32) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 9 {
        return None;
    }
    let n: u32 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    (n <= max).then_some(n)
}

/// `^[+-]?[0-9]+$` fitting an i64.
fn parse_integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

// ----- jobschchecktime ------------------------------------------------------

/// Arguments of `jobschchecktime -wt HHMM [-lt HHMM] [-sys 0-9]` (spec 02 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckTimeArgs {
    /// `-wt`: the wait time, relative to the day-change time.
    pub wait: HourMinute,
    /// `-lt`: the latest time, relative to the day-change time.
    pub latest: Option<HourMinute>,
    /// `-sys`: accepted for compatibility (0–9) and ignored.
    pub subsystem: Option<u8>,
}

/// The facts `jobschchecktime` measures against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeContext {
    /// The environment's time zone.
    pub tz: Tz,
    /// The jobnet's day-change time ([`calendar::day_change_of`]).
    pub day_change: HourMinute,
    /// The reference operating day B: the jobnet run's **scheduled** operating
    /// day, kept by restarts on later days (see [`TimeContext::for_run`]).
    pub operating_day: NaiveDate,
}

impl TimeContext {
    /// The context of a run: B is the scheduled operating day of the top-level
    /// run when it has one; otherwise (manual start, message-event start) the
    /// operating day in which the top-level run actually started (spec 02 §3.4
    /// design suggestion). Child jobnets pass their top-level run's values.
    pub fn for_run(
        tz: Tz,
        day_change: HourMinute,
        scheduled_day: Option<NaiveDate>,
        top_level_started: DateTime<Utc>,
    ) -> TimeContext {
        let operating_day = scheduled_day.unwrap_or_else(|| calendar::operating_day(tz, day_change, top_level_started));
        TimeContext { tz, day_change, operating_day }
    }
}

/// The instants of a `jobschchecktime` window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// W: `-wt` of the reference operating day (`HH:MM:00`).
    pub wait: DateTime<Utc>,
    /// L: `-lt` of the reference operating day (`HH:MM:00`); a start counts as
    /// after L from `L + 60 s` (the whole minute of `-lt` is inside).
    pub latest: Option<DateTime<Utc>>,
}

/// Minutes from the day-change time to `t` within the operating day.
fn day_position(t: HourMinute, day_change: HourMinute) -> u32 {
    (t.minutes() + 1440 - day_change.minutes()) % 1440
}

impl CheckTimeArgs {
    /// Parse; options in any order, each at most once. Errors: exit 21 with usage 0385.
    pub fn parse(args: &[String]) -> Result<CheckTimeArgs, Failure> {
        let usage = || Failure::invalid(messages::usage_checktime());
        let (mut wait, mut latest, mut subsystem) = (None, None, None);
        let mut it = args.iter();
        while let Some(opt) = it.next() {
            let value = it.next().ok_or_else(usage)?;
            match opt.as_str() {
                "-wt" if wait.is_none() => wait = Some(parse_hhmm(value).ok_or_else(usage)?),
                "-lt" if latest.is_none() => latest = Some(parse_hhmm(value).ok_or_else(usage)?),
                "-sys" if subsystem.is_none() => subsystem = Some(parse_bounded(value, 9).ok_or_else(usage)? as u8),
                _ => return Err(usage()),
            }
        }
        Ok(CheckTimeArgs { wait: wait.ok_or_else(usage)?, latest, subsystem })
    }

    /// `-lt` must not precede `-wt` in operating-day order (equal is allowed):
    /// exit 21 with 0376 otherwise (CT-012, CT-021).
    pub fn check_order(&self, day_change: HourMinute) -> Result<(), Failure> {
        match self.latest {
            Some(l) if day_position(l, day_change) < day_position(self.wait, day_change) => {
                Err(Failure::invalid(messages::latest_before_wait()))
            }
            _ => Ok(()),
        }
    }

    /// W and L as instants of the reference operating day: a time earlier than
    /// the day-change time falls on the next calendar date; wall times map to
    /// instants by the DST rule of [`calendar`] (gap → its end, overlap → the
    /// earlier instant).
    pub fn window(&self, ctx: &TimeContext) -> Result<Window, Failure> {
        self.check_order(ctx.day_change)?;
        let at = |t| calendar::time_of_operating_day(ctx.tz, ctx.day_change, ctx.operating_day, t);
        Ok(Window { wait: at(self.wait), latest: self.latest.map(at) })
    }

    /// Decide for a job that started at `started`, evaluated at `now`:
    /// started before W → wait until W, then exit 0; otherwise at once: exit 1
    /// when it started after L (from `L + 60 s`), else 0. Output `CT_WTIME=`
    /// and (when `-lt` was given) `CT_LTIME=` on exit 0 and 1.
    pub fn step(&self, ctx: &TimeContext, started: DateTime<Utc>, now: DateTime<Utc>) -> Result<Step, Failure> {
        let w = self.window(ctx)?;
        if started < w.wait {
            return Ok(if now >= w.wait { Step::Done(self.finish(code::OK)) } else { Step::Wait(w.wait) });
        }
        let late = w.latest.is_some_and(|l| started >= saturating_add(l, Duration::minutes(1)));
        Ok(Step::Done(self.finish(if late { code::NOT_MET } else { code::OK })))
    }

    /// The output lines: `CT_WTIME=HHMM`, then `CT_LTIME=HHMM` when `-lt` was given.
    pub fn output(&self) -> Vec<String> {
        let mut out = vec![format!("CT_WTIME={}", hhmm(self.wait))];
        if let Some(l) = self.latest {
            out.push(format!("CT_LTIME={}", hhmm(l)));
        }
        out
    }

    fn finish(&self, exit_code: u32) -> Finish {
        Finish::new(exit_code, self.output())
    }
}

// ----- jobschsleep ----------------------------------------------------------

/// Arguments of `jobschsleep <seconds>` (spec 02 §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SleepArgs {
    /// 0–86400.
    pub seconds: u32,
}

impl SleepArgs {
    /// The longest wait, seconds.
    pub const MAX_SECONDS: u32 = 86_400;

    /// Parse exactly one argument of ASCII digits, 0–86400. Errors (missing,
    /// signed, fractional, too large, extra arguments): exit 21 with usage 0469.
    pub fn parse(args: &[String]) -> Result<SleepArgs, Failure> {
        let usage = || Failure::invalid(messages::usage_sleep());
        let [s] = args else { return Err(usage()) };
        Ok(SleepArgs { seconds: parse_bounded(s, Self::MAX_SECONDS).ok_or_else(usage)? })
    }

    /// The instant the job ends.
    pub fn end_at(&self, started: DateTime<Utc>) -> DateTime<Utc> {
        saturating_add(started, Duration::seconds(i64::from(self.seconds)))
    }

    /// Wait until `started + seconds`, then exit 0 with `SL_SLEEPSEC=<seconds>`.
    pub fn step(&self, started: DateTime<Utc>, now: DateTime<Utc>) -> Step {
        let end = self.end_at(started);
        if now >= end { Step::Done(Finish::new(code::OK, self.output())) } else { Step::Wait(end) }
    }

    /// `SL_SLEEPSEC=<seconds>` in canonical decimal form.
    pub fn output(&self) -> Vec<String> {
        vec![format!("SL_SLEEPSEC={}", self.seconds)]
    }
}

// ----- jobschchknetvar ------------------------------------------------------

/// Operator of a single numeric comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
}

impl NumOp {
    fn parse(s: &str) -> Option<NumOp> {
        Some(match s {
            "EQ" => NumOp::Eq,
            "NE" => NumOp::Ne,
            "GT" => NumOp::Gt,
            "GE" => NumOp::Ge,
            "LT" => NumOp::Lt,
            "LE" => NumOp::Le,
            _ => return None,
        })
    }

    /// Whether `value <op> operand` holds.
    pub fn holds(self, value: i64, operand: i64) -> bool {
        match self {
            NumOp::Eq => value == operand,
            NumOp::Ne => value != operand,
            NumOp::Gt => value > operand,
            NumOp::Ge => value >= operand,
            NumOp::Lt => value < operand,
            NumOp::Le => value <= operand,
        }
    }
}

/// Lower-bound operator of a numeric range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LowerOp {
    /// Greater than.
    Gt,
    /// Greater or equal.
    Ge,
}

/// Upper-bound operator of a numeric range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpperOp {
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
}

/// String comparison method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharMethod {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    In,
    /// Does not contain.
    Ni,
}

/// The condition of a judgement job (`None` in [`ChkNetVarArgs`] = existence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetVarCondition {
    /// `-num op,value`.
    Num {
        /// Operator.
        op: NumOp,
        /// Operand.
        value: i32,
    },
    /// `-num GT|GE,lower,LT|LE,upper` with `lower < upper`.
    NumRange {
        /// Lower-bound operator.
        lower_op: LowerOp,
        /// Lower bound.
        lower: i32,
        /// Upper-bound operator.
        upper_op: UpperOp,
        /// Upper bound.
        upper: i32,
    },
    /// `-char method,text` (text: everything after the first comma, 0–512 bytes).
    Char {
        /// Method.
        method: CharMethod,
        /// Comparison string.
        text: String,
    },
}

/// Arguments of `jobschchknetvar <name> [-num … | -char …] [-z]` (spec 02 §3.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChkNetVarArgs {
    /// `<prefix>.<NAME>`, ≤ 64 bytes.
    pub name: String,
    /// The condition; `None` tests existence.
    pub condition: Option<NetVarCondition>,
    /// `-z`: invert the exit code (not the output).
    pub invert: bool,
}

/// Longest `-char` comparison string, legacy bytes.
pub const CHAR_TEXT_MAX: usize = 512;

impl ChkNetVarArgs {
    /// Parse. The variable name comes first; `-num`/`-char` (mutually
    /// exclusive) and `-z` follow, each at most once. Operators are upper
    /// case; `-num` takes 2 or 4 comma-separated tokens (values
    /// `^[+-]?[0-9]+$` within i32; a range needs GT|GE, LT|LE and lower <
    /// upper); `-char` splits at the first comma only. A name with an empty
    /// prefix (`.VPARAM`, a system variable) is refused. Errors: exit 21 with
    /// usage 0468.
    pub fn parse(args: &[String]) -> Result<ChkNetVarArgs, Failure> {
        let usage = || Failure::invalid(messages::usage_chknetvar());
        let (name, rest) = args.split_first().ok_or_else(usage)?;
        split_variable_name(name).ok_or_else(usage)?;
        let (mut condition, mut invert) = (None, false);
        let mut it = rest.iter();
        while let Some(opt) = it.next() {
            match opt.as_str() {
                "-z" if !invert => invert = true,
                "-num" if condition.is_none() => {
                    condition = Some(parse_num_condition(it.next().ok_or_else(usage)?).ok_or_else(usage)?);
                }
                "-char" if condition.is_none() => {
                    condition = Some(parse_char_condition(it.next().ok_or_else(usage)?).ok_or_else(usage)?);
                }
                _ => return Err(usage()),
            }
        }
        Ok(ChkNetVarArgs { name: name.clone(), condition, invert })
    }

    /// Whether the condition matches a variable whose value is `value`
    /// (`None`: the variable does not exist, which never matches). `-num` on a
    /// value that is not `^[+-]?[0-9]+$` within i64 does not match; `-char`
    /// compares exactly (case-sensitive); `IN,` never matches and `NI,` always does.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let Some(v) = value else { return false };
        match &self.condition {
            None => true,
            Some(NetVarCondition::Num { op, value }) => {
                parse_integer(v).is_some_and(|x| op.holds(x, i64::from(*value)))
            }
            Some(NetVarCondition::NumRange { lower_op, lower, upper_op, upper }) => parse_integer(v).is_some_and(|x| {
                let lo = match lower_op {
                    LowerOp::Gt => x > i64::from(*lower),
                    LowerOp::Ge => x >= i64::from(*lower),
                };
                let hi = match upper_op {
                    UpperOp::Lt => x < i64::from(*upper),
                    UpperOp::Le => x <= i64::from(*upper),
                };
                lo && hi
            }),
            Some(NetVarCondition::Char { method, text }) => match method {
                CharMethod::Eq => v == text,
                CharMethod::Ne => v != text,
                CharMethod::In => !text.is_empty() && v.contains(text.as_str()),
                CharMethod::Ni => text.is_empty() || !v.contains(text.as_str()),
            },
        }
    }

    /// Judge against the jobnet variables of the run: exit 0 when matched
    /// (1 with `-z`), 1 when not (0 with `-z`); output `<name>=<value>` when the
    /// variable exists, nothing otherwise.
    pub fn evaluate(&self, variables: &BTreeMap<String, String>) -> Finish {
        let value = variables.get(&self.name).map(String::as_str);
        let exit_code = if self.matches(value) != self.invert { code::OK } else { code::NOT_MET };
        Finish::new(exit_code, value.map(|v| format!("{}={v}", self.name)).into_iter().collect())
    }
}

fn parse_operand(s: &str) -> Option<i32> {
    parse_integer(s).and_then(|v| i32::try_from(v).ok())
}

fn parse_num_condition(arg: &str) -> Option<NetVarCondition> {
    let tokens: Vec<&str> = arg.split(',').collect();
    match tokens[..] {
        [op, value] => Some(NetVarCondition::Num { op: NumOp::parse(op)?, value: parse_operand(value)? }),
        [op1, v1, op2, v2] => {
            let lower_op = match op1 {
                "GT" => LowerOp::Gt,
                "GE" => LowerOp::Ge,
                _ => return None,
            };
            let upper_op = match op2 {
                "LT" => UpperOp::Lt,
                "LE" => UpperOp::Le,
                _ => return None,
            };
            let (lower, upper) = (parse_operand(v1)?, parse_operand(v2)?);
            (lower < upper).then_some(NetVarCondition::NumRange { lower_op, lower, upper_op, upper })
        }
        _ => None,
    }
}

fn parse_char_condition(arg: &str) -> Option<NetVarCondition> {
    let (method, text) = arg.split_once(',')?;
    let method = match method {
        "EQ" => CharMethod::Eq,
        "NE" => CharMethod::Ne,
        "IN" => CharMethod::In,
        "NI" => CharMethod::Ni,
        _ => return None,
    };
    if text::legacy_len(text) > CHAR_TEXT_MAX
        || text.chars().any(|c| text::is_halfwidth_katakana(c) || text::is_user_defined(c))
    {
        return None;
    }
    Some(NetVarCondition::Char { method, text: text.to_string() })
}

// ----- jobschchkmsgevt ------------------------------------------------------

/// One raised message event, as kept in the occurrence history (spec 02 §3.3
/// design suggestion): appended by `jobschmsgevent` and `POST /v1/msgevent`,
/// read by `jobschchkmsgevt`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Sequence number, increasing in raise order.
    pub seq: u64,
    /// Event name.
    pub event: String,
    /// Project it was addressed to (`None`: every project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Jobnet it was addressed to (only with `project`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobnet: Option<String>,
    /// Variable parameter it carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vparam: Option<String>,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
}

impl Occurrence {
    /// The occurrence a raise request leaves in the history.
    pub fn from_request(seq: u64, req: &RaiseRequest<'_>, raised_at: DateTime<Utc>) -> Occurrence {
        Occurrence {
            seq,
            event: req.event.to_string(),
            project: req.project.map(str::to_string),
            jobnet: req.jobnet.map(str::to_string),
            vparam: req.vparam.map(str::to_string),
            raised_at,
        }
    }

    /// Whether it is addressed to jobnet `key`: raised for every project, for
    /// `key`'s project, or for exactly `key` (CM-003 … CM-005). A waiter in
    /// a copy (`N_s1`) or a child jobnet is addressed by that jobnet's own name.
    pub fn concerns(&self, key: &JobnetKey) -> bool {
        match (&self.project, &self.jobnet) {
            (None, _) => true,
            (Some(p), None) => **p == *key.project,
            (Some(p), Some(n)) => **p == *key.project && **n == *key.jobnet,
        }
    }
}

/// Arguments of `jobschchkmsgevt <event> [-i <seconds>]` (spec 02 §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChkMsgEvtArgs {
    /// Event name: 1–12 bytes; no spaces, commas, half-width katakana, user-defined or control characters.
    pub event: String,
    /// `-i`: polling interval, 1–3600 seconds (default 60).
    pub interval_secs: u32,
}

impl ChkMsgEvtArgs {
    /// Default polling interval, seconds.
    pub const DEFAULT_INTERVAL: u32 = 60;
    /// Longest polling interval, seconds.
    pub const MAX_INTERVAL: u32 = 3600;

    /// Parse one event name and an optional `-i` (in either order, once each).
    /// Errors: exit 21 with usage 0522.
    pub fn parse(args: &[String]) -> Result<ChkMsgEvtArgs, Failure> {
        let usage = || Failure::invalid(messages::usage_chkmsgevt());
        let (mut event, mut interval) = (None, None);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "-i" {
                let v = it.next().filter(|_| interval.is_none()).ok_or_else(usage)?;
                interval = Some(parse_bounded(v, Self::MAX_INTERVAL).filter(|&n| n >= 1).ok_or_else(usage)?);
            } else if event.is_none() && is_waitable_event_name(a) {
                event = Some(a.clone());
            } else {
                return Err(usage());
            }
        }
        Ok(ChkMsgEvtArgs { event: event.ok_or_else(usage)?, interval_secs: interval.unwrap_or(Self::DEFAULT_INTERVAL) })
    }

    /// The job must run as a local job of the scheduler: as a network job it
    /// ends with 0521 and exit 21 (CM-009).
    pub fn check_local(network: bool) -> Result<(), Failure> {
        if network { Err(Failure::invalid(messages::local_job_only())) } else { Ok(()) }
    }

    /// The first occurrence that satisfies a waiter in jobnet `waiter` started
    /// at `started`, among those raised up to `until`: same event name, raised
    /// at or after `started`, addressed to the waiter's jobnet; the earliest
    /// (by time, then sequence number).
    pub fn first_match<'h>(
        &self,
        waiter: &JobnetKey,
        started: DateTime<Utc>,
        until: DateTime<Utc>,
        history: &'h [Occurrence],
    ) -> Option<&'h Occurrence> {
        history
            .iter()
            .filter(|o| o.event == self.event && o.raised_at >= started && o.raised_at <= until && o.concerns(waiter))
            .min_by_key(|o| (o.raised_at, o.seq))
    }

    /// Poll: checks happen at `started + k·interval` (k ≥ 1). At the latest
    /// check not after `now`, an occurrence raised since `started` (inclusive)
    /// and up to that check ends the job with exit 0 and [`Self::output_for`]
    /// the earliest one; otherwise wait for the next check.
    pub fn step(&self, waiter: &JobnetKey, started: DateTime<Utc>, now: DateTime<Utc>, history: &[Occurrence]) -> Step {
        let interval = i64::from(self.interval_secs.max(1));
        let k = (now - started).num_seconds().div_euclid(interval);
        if k < 1 {
            return Step::Wait(saturating_add(started, Duration::seconds(interval)));
        }
        let check = saturating_add(started, secs(interval.saturating_mul(k)));
        match self.first_match(waiter, started, check, history) {
            Some(o) => Step::Done(Finish::new(code::OK, Self::output_for(o))),
            None => Step::Wait(saturating_add(started, secs(interval.saturating_mul(k.saturating_add(1))))),
        }
    }

    /// `CM_MSGEVENT=<event>`, and `CM_VPARAM=<param>` when the occurrence
    /// carried a variable parameter (spec 02 §3.3 design suggestion).
    pub fn output_for(occurrence: &Occurrence) -> Vec<String> {
        let mut out = vec![format!("CM_MSGEVENT={}", occurrence.event)];
        if let Some(v) = &occurrence.vparam {
            out.push(format!("CM_VPARAM={v}"));
        }
        out
    }
}

/// `jobschchkmsgevt` event names: 1–12 bytes; no spaces (half- or full-width),
/// commas, half-width katakana, user-defined or control characters.
fn is_waitable_event_name(s: &str) -> bool {
    !s.is_empty()
        && text::legacy_len(s) <= limits::EVENT_NAME
        && !s.chars().any(|c| {
            c.is_whitespace()
                || c == ','
                || c.is_control()
                || text::is_halfwidth_katakana(c)
                || text::is_user_defined(c)
        })
}

// ----- jobschmsgevent -------------------------------------------------------

/// `-t:INFO | -t:WARN | -t:ERROR` (accepted for compatibility, ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventLevel {
    /// `-t:INFO`.
    Info,
    /// `-t:WARN`.
    Warn,
    /// `-t:ERROR`.
    Error,
}

/// `-sys {0 to 9 | all}` (accepted for compatibility, ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subsystem {
    /// One subsystem number, 0–9.
    Number(u8),
    /// `all`.
    All,
}

/// Arguments of `jobschmsgevent event[:project[/jobnet] [message_text]] [-h host]
/// [-t:LEVEL] [-p param [-c suffix]] [-sys N|all]` (spec 02 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgEventArgs {
    /// Event name (1–12 bytes of the message-event character set).
    pub event: String,
    /// Only jobnets of this project.
    pub project: Option<String>,
    /// Only this jobnet of `project`.
    pub jobnet: Option<String>,
    /// `message_text` (only after a project; ignored).
    pub message_text: Option<String>,
    /// `-h`: must name the local host ([`MsgEventArgs::check_host`]).
    pub host: Option<String>,
    /// `-t:…` (ignored).
    pub level: Option<EventLevel>,
    /// `-p`: variable parameter (0–200 bytes).
    pub vparam: Option<String>,
    /// `-c`: copy-start suffix (after `-p` only).
    pub suffix: Option<String>,
    /// `-sys` (ignored).
    pub subsystem: Option<Subsystem>,
}

fn is_msgevent_option(s: &str) -> bool {
    matches!(s, "-p" | "-c" | "-h" | "-sys" | "-t:INFO" | "-t:WARN" | "-t:ERROR")
}

impl MsgEventArgs {
    /// Parse. The first word is the target `event[:project[/jobnet]]`; an
    /// optional message text may follow a project; then options, each at most
    /// once, `-c` only after `-p`. Errors (exit 21): no event name → 0417 and
    /// 0323; a project name over 50 bytes → 0182; another invalid project name
    /// → 0302; an invalid jobnet name → 0104; anything else → usage 0323.
    pub fn parse(args: &[String]) -> Result<MsgEventArgs, Failure> {
        let usage = || Failure::invalid(messages::usage_msgevent());
        let no_event = || Failure::new(code::INVALID, vec![messages::event_name_missing(), messages::usage_msgevent()]);
        let (target, rest) = args.split_first().ok_or_else(no_event)?;
        if is_msgevent_option(target) {
            return Err(no_event());
        }
        let (event, scope) = match target.split_once(':') {
            Some((e, s)) => (e, Some(s)),
            None => (target.as_str(), None),
        };
        if event.is_empty() {
            return Err(no_event());
        }
        text::check_event_name(event).map_err(|_| usage())?;
        let (project, jobnet) = match scope.map(|s| s.split_once('/').map_or((s, None), |(p, n)| (p, Some(n)))) {
            None => (None, None),
            Some((p, n)) => (Some(p), n),
        };
        if let Some(p) = project {
            if p.is_empty() {
                return Err(usage());
            }
            if text::legacy_len(p) > limits::PROJECT_NAME {
                return Err(Failure::invalid(messages::project_name_too_long(p)));
            }
            text::check_project_name(p).map_err(|_| Failure::invalid(messages::invalid_project_name()))?;
        }
        if let Some(n) = jobnet {
            if n.is_empty() {
                return Err(usage());
            }
            text::check_jobnet_name(n).map_err(|_| Failure::invalid(messages::jobnet_name_incorrect()))?;
        }
        let mut args = MsgEventArgs {
            event: event.to_string(),
            project: project.map(str::to_string),
            jobnet: jobnet.map(str::to_string),
            message_text: None,
            host: None,
            level: None,
            vparam: None,
            suffix: None,
            subsystem: None,
        };
        let mut options_seen = false;
        let mut it = rest.iter();
        while let Some(word) = it.next() {
            let w = word.as_str();
            if !is_msgevent_option(w) {
                if w.starts_with('-') || options_seen || args.project.is_none() || args.message_text.is_some() {
                    return Err(usage());
                }
                args.message_text = Some(word.clone());
                continue;
            }
            options_seen = true;
            let level = match w {
                "-t:INFO" => Some(EventLevel::Info),
                "-t:WARN" => Some(EventLevel::Warn),
                "-t:ERROR" => Some(EventLevel::Error),
                _ => None,
            };
            if let Some(level) = level {
                if args.level.replace(level).is_some() {
                    return Err(usage());
                }
                continue;
            }
            let value = it.next().ok_or_else(usage)?;
            match w {
                "-p" if args.vparam.is_none() => {
                    check_vparam(value).map_err(|_| usage())?;
                    args.vparam = Some(value.clone());
                }
                "-c" if args.suffix.is_none() && args.vparam.is_some() => {
                    text::check_copy_suffix(value).map_err(|_| usage())?;
                    args.suffix = Some(value.clone());
                }
                "-h" if args.host.is_none() => args.host = Some(value.clone()),
                "-sys" if args.subsystem.is_none() => {
                    args.subsystem = Some(if value == "all" {
                        Subsystem::All
                    } else {
                        Subsystem::Number(parse_bounded(value, 9).ok_or_else(usage)? as u8)
                    });
                }
                _ => return Err(usage()),
            }
        }
        Ok(args)
    }

    /// The request for [`crate::Engine::raise_event`].
    pub fn raise_request(&self) -> RaiseRequest<'_> {
        RaiseRequest {
            event: &self.event,
            project: self.project.as_deref(),
            jobnet: self.jobnet.as_deref(),
            vparam: self.vparam.as_deref(),
            suffix: self.suffix.as_deref(),
        }
    }

    /// `-h` must name the local host: `localhost`, `127.0.0.1`, `::1` or one of
    /// `local_names` (ASCII case-insensitive); otherwise exit 21 with usage 0323.
    pub fn check_host(&self, local_names: &[&str]) -> Result<(), Failure> {
        let Some(h) = &self.host else { return Ok(()) };
        let local = ["localhost", "127.0.0.1", "::1"].iter().chain(local_names).any(|n| n.eq_ignore_ascii_case(h));
        if local { Ok(()) } else { Err(Failure::invalid(messages::usage_msgevent())) }
    }

    /// The named project and jobnet must exist (spec 02 §3.2 design
    /// suggestion): a project with no jobnet in `env` → exit 21 with 0416
    /// (an [`Environment`] holds no empty projects; a caller that knows the
    /// project exists but is inaccessible or empty reports
    /// [`messages::project_unavailable`] (0175) instead); a missing jobnet →
    /// exit 21 with 0103.
    pub fn check_target(&self, env: &Environment) -> Result<(), Failure> {
        let Some(p) = self.project.as_deref() else { return Ok(()) };
        let mut keys = env.jobnets.keys().chain(env.links.keys());
        if !keys.any(|k| &*k.project == p) {
            return Err(Failure::invalid(messages::project_not_found()));
        }
        if let Some(n) = self.jobnet.as_deref() {
            let key = JobnetKey::new(p, n);
            if !env.jobnets.contains_key(&key) && !env.links.contains_key(&key) {
                return Err(Failure::invalid(messages::jobnet_not_found()));
            }
        }
        Ok(())
    }

    /// The occurrence this raise leaves in the history.
    pub fn occurrence(&self, seq: u64, raised_at: DateTime<Utc>) -> Occurrence {
        Occurrence::from_request(seq, &self.raise_request(), raised_at)
    }

    /// How the raising job ends, given the messages the engine logged while
    /// handling the raise (the `Log` events recorded by that
    /// [`crate::Engine::raise_event`] call) and whether the occurrence history
    /// was written. 0431 (copy start refused) → exit 242; 0432 and 0435 are
    /// copied to the history and leave exit 0; a failed history write appends
    /// 0524 and the job still ends normally. No output.
    pub fn finish(engine_messages: &[String], history_written: bool) -> Finish {
        let relevant = |m: &&String| [": 0431: ", ": 0432: ", ": 0435: "].iter().any(|id| m.contains(id));
        let mut messages: Vec<String> = engine_messages.iter().filter(relevant).cloned().collect();
        let exit_code =
            if messages.iter().any(|m| m.contains(": 0431: ")) { code::COPY_START_FAILED } else { code::OK };
        if !history_written {
            messages.push(messages::occurrence_history_write_failed());
        }
        Finish { exit_code, output: Vec::new(), messages }
    }
}

// ----- jobnet variables -----------------------------------------------------

/// Longest `NAME=VALUE` output line captured as a jobnet variable, legacy
/// bytes: the manual's job-output capture fails on lines of 996 bytes or
/// more (message 0381).
pub const VARIABLE_LINE_MAX: usize = 995;

/// Why variables could not be captured or substituted; the job does not run
/// (or, when capturing, ends) with the scheduler code [`VariableError::exit`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// A value contains a character its field forbids → 245.
    #[error("{what} contains the forbidden character {ch:?}")]
    ForbiddenCharacter {
        /// What contains it.
        what: String,
        /// The character.
        ch: char,
    },
    /// A name, value or substituted field is too long → 246.
    #[error("{what} is {len} bytes; at most {max} allowed")]
    TooLong {
        /// What is too long.
        what: String,
        /// Its length, legacy bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The jobnet would hold more than 640 jobnet variables → 246.
    #[error("the jobnet would hold {count} jobnet variables; at most 640 allowed")]
    TooMany {
        /// How many it would hold.
        count: usize,
    },
    /// A referenced jobnet variable does not exist → 247.
    #[error("jobnet variable {name} is not defined")]
    Undefined {
        /// `<prefix>.<NAME>`.
        name: String,
    },
    /// The job's jobnet-variable prefix is not valid → 247.
    #[error("invalid jobnet-variable prefix {prefix:?}")]
    InvalidPrefix {
        /// The prefix.
        prefix: String,
    },
}

impl VariableError {
    /// 245, 246 or 247 (spec 02 §3.9).
    pub fn exit_code(&self) -> u32 {
        match self {
            VariableError::ForbiddenCharacter { .. } => exit::VARIABLE_FORBIDDEN_CHAR,
            VariableError::TooLong { .. } | VariableError::TooMany { .. } => exit::VARIABLE_TOO_LONG,
            VariableError::Undefined { .. } | VariableError::InvalidPrefix { .. } => exit::VARIABLE_IO,
        }
    }

    /// The scheduler exit code.
    pub fn exit(&self) -> ExitCode {
        ExitCode::scheduler(self.exit_code())
    }
}

/// A `NAME` part (or a prefix): ASCII letters, digits and `_`.
fn is_name_part(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Split a jobnet-variable name `<prefix>.<NAME>` (≤ 64 bytes; both parts of
/// ASCII letters, digits and `_`; the prefix within the prefix rule). `None`
/// for anything else, including system variables with an empty prefix (`.VPARAM`).
pub fn split_variable_name(name: &str) -> Option<(&str, &str)> {
    let (prefix, rest) = name.split_once('.')?;
    (text::legacy_len(name) <= limits::JOBNET_VARIABLE_NAME
        && text::check_netvar_prefix(prefix).is_ok()
        && is_name_part(rest))
    .then_some((prefix, rest))
}

/// A `NAME=VALUE` line of job output: NAME is ASCII letters, digits and `_`,
/// VALUE everything after the first `=` (a trailing `\r` dropped). Other
/// lines are plain output and never captured.
pub fn parse_variable_line(line: &str) -> Option<(&str, &str)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (name, value) = line.split_once('=')?;
    is_name_part(name).then_some((name, value))
}

/// Characters no variable value may carry: control characters other than
/// TAB, half-width katakana, user-defined characters.
fn forbidden_in_value(c: char) -> bool {
    (c.is_control() && c != '\t') || text::is_halfwidth_katakana(c) || text::is_user_defined(c)
}

/// Capture a job's output as jobnet variables `<prefix>.<NAME>` (spec 01
/// §3.11, spec 02 §2.2). Returns the variables to set (a later line with the
/// same NAME wins; existing variables of the same name are overwritten and
/// not counted twice). Errors: invalid prefix → 247; a full name over 64
/// bytes or a line over [`VARIABLE_LINE_MAX`] bytes → 246; a value with a
/// forbidden character → 245; more than 640 variables in the jobnet → 246.
pub fn capture_variables(
    output: &str,
    prefix: &str,
    existing: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, VariableError> {
    if text::check_netvar_prefix(prefix).is_err() {
        return Err(VariableError::InvalidPrefix { prefix: prefix.to_string() });
    }
    let mut captured = BTreeMap::new();
    for line in output.lines() {
        let Some((name, value)) = parse_variable_line(line) else { continue };
        let full = format!("{prefix}.{name}");
        let len = text::legacy_len(&full);
        if len > limits::JOBNET_VARIABLE_NAME {
            return Err(VariableError::TooLong {
                what: format!("jobnet variable name {full}"),
                len,
                max: limits::JOBNET_VARIABLE_NAME,
            });
        }
        let line_len = text::legacy_len(name) + 1 + text::legacy_len(value);
        if line_len > VARIABLE_LINE_MAX {
            return Err(VariableError::TooLong {
                what: format!("output line of jobnet variable {full}"),
                len: line_len,
                max: VARIABLE_LINE_MAX,
            });
        }
        if let Some(ch) = value.chars().find(|&c| forbidden_in_value(c)) {
            return Err(VariableError::ForbiddenCharacter { what: format!("the value of jobnet variable {full}"), ch });
        }
        captured.insert(full, value.to_string());
    }
    let count = existing.len() + captured.keys().filter(|k| !existing.contains_key(*k)).count();
    if count > limits::JOBNET_VARIABLES {
        return Err(VariableError::TooMany { count });
    }
    Ok(captured)
}

/// A job field that substitution fills in, with its limits after substitution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobField {
    /// `command` (≤ 1024 bytes).
    Command,
    /// `params` (≤ 1024 bytes).
    Params,
    /// `directory` (≤ 1024 bytes).
    Directory,
    /// `comment`, the job's display name (≤ 100 bytes).
    Comment,
    /// `stdout_file` (≤ 1024 bytes).
    StdoutFile,
    /// `stderr_file` (≤ 1024 bytes).
    StderrFile,
    /// A value of `env` (≤ 1024 bytes).
    EnvValue,
    /// `exec_user` (≤ 64 bytes of ASCII letters, digits, `.`, `_`, `-`).
    ExecUser,
}

impl JobField {
    /// The field's name in definitions.
    pub fn name(self) -> &'static str {
        match self {
            JobField::Command => "command",
            JobField::Params => "params",
            JobField::Directory => "directory",
            JobField::Comment => "comment",
            JobField::StdoutFile => "stdout_file",
            JobField::StderrFile => "stderr_file",
            JobField::EnvValue => "env",
            JobField::ExecUser => "exec_user",
        }
    }

    /// Longest value after substitution, legacy bytes.
    pub fn max_len(self) -> usize {
        match self {
            JobField::Comment => 100,
            JobField::ExecUser => 64,
            _ => 1024,
        }
    }

    /// Whether a substituted value may not carry `c` in this field: control
    /// characters (TAB is allowed except in `exec_user`), half-width katakana
    /// and user-defined characters everywhere; `exec_user` allows only ASCII
    /// letters, digits, `.`, `_` and `-`.
    pub fn forbids(self, c: char) -> bool {
        match self {
            JobField::ExecUser => !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
            _ => forbidden_in_value(c),
        }
    }
}

/// The variables a job's fields are substituted with (spec 01 §3.11).
#[derive(Clone, Copy, Debug)]
pub struct Variables<'a> {
    /// The run's variable parameter (`@.VPARAM@`; `None` → empty string).
    pub vparam: Option<&'a str>,
    /// The run's jobnet variables (`@<prefix>.<NAME>@`).
    pub jobnet: &'a BTreeMap<String, String>,
    /// The environment's job-definition variables (`@NAME@`).
    pub definition: &'a BTreeMap<String, String>,
}

#[derive(Clone, Copy)]
enum Seg<'s> {
    Original(&'s str),
    Substituted(&'s str),
}

/// One substitution pass over the original segments: `f` gets the text
/// between two `@`, and returns the value to put in place of `@…@`, or `None`
/// to leave it (its closing `@` may then open the next token).
fn substitution_pass<'s>(
    segs: Vec<Seg<'s>>,
    mut f: impl FnMut(&str) -> Result<Option<&'s str>, VariableError>,
) -> Result<Vec<Seg<'s>>, VariableError> {
    let mut out = Vec::with_capacity(segs.len());
    for seg in segs {
        let Seg::Original(text) = seg else {
            out.push(seg);
            continue;
        };
        let mut start = 0;
        let mut open = text.find('@');
        while let Some(i) = open {
            let Some(len) = text[i + 1..].find('@') else { break };
            let close = i + 1 + len;
            match f(&text[i + 1..close])? {
                Some(value) => {
                    if start < i {
                        out.push(Seg::Original(&text[start..i]));
                    }
                    out.push(Seg::Substituted(value));
                    start = close + 1;
                    open = text[start..].find('@').map(|k| start + k);
                }
                None => open = Some(close),
            }
        }
        if start < text.len() {
            out.push(Seg::Original(&text[start..]));
        }
    }
    Ok(out)
}

impl Variables<'_> {
    fn segments<'s>(&'s self, text: &'s str) -> Result<Vec<Seg<'s>>, VariableError> {
        let segs = vec![Seg::Original(text)];
        let vparam: &'s str = self.vparam.unwrap_or("");
        let segs = substitution_pass(segs, |t| Ok((t == ".VPARAM").then_some(vparam)))?;
        let segs = substitution_pass(segs, |t| match split_variable_name(t) {
            Some(_) => match self.jobnet.get(t) {
                Some(v) => Ok(Some(v.as_str())),
                None => Err(VariableError::Undefined { name: t.to_string() }),
            },
            None => Ok(None),
        })?;
        substitution_pass(segs, |t| {
            Ok(if text::check_variable_name(t).is_ok() { self.definition.get(t).map(String::as_str) } else { None })
        })
    }

    /// Substitute `text` in the order of spec 01 §3.11 — (1) `@.VPARAM@`,
    /// (2) `@<prefix>.<NAME>@`, (3) `@NAME@` — where each pass reads only the
    /// original text, never a value inserted before. An undefined jobnet
    /// variable → [`VariableError::Undefined`] (247); an undefined `@NAME@`
    /// stays as written. No field checks.
    pub fn substitute(&self, text: &str) -> Result<String, VariableError> {
        Ok(self
            .segments(text)?
            .iter()
            .map(|s| match s {
                Seg::Original(t) | Seg::Substituted(t) => *t,
            })
            .collect())
    }

    /// [`Variables::substitute`] for a job field: when anything was
    /// substituted, an inserted value with a character the field forbids → 245
    /// and a result over [`JobField::max_len`] → 246. A field without
    /// substitutions is returned as written (validation judged it).
    pub fn substitute_field(&self, field: JobField, text: &str) -> Result<String, VariableError> {
        let segs = self.segments(text)?;
        let mut substituted = false;
        for seg in &segs {
            if let Seg::Substituted(v) = seg {
                substituted = true;
                if let Some(ch) = v.chars().find(|&c| field.forbids(c)) {
                    return Err(VariableError::ForbiddenCharacter {
                        what: format!("a value substituted into {}", field.name()),
                        ch,
                    });
                }
            }
        }
        let out: String = segs
            .iter()
            .map(|s| match s {
                Seg::Original(t) | Seg::Substituted(t) => *t,
            })
            .collect();
        let len = text::legacy_len(&out);
        if substituted && len > field.max_len() {
            return Err(VariableError::TooLong {
                what: format!("{} after substitution", field.name()),
                len,
                max: field.max_len(),
            });
        }
        Ok(out)
    }

    /// A copy of `job` with every substitutable field substituted (command,
    /// params, directory, comment, stdout_file, stderr_file, exec_user and
    /// the values of env), checked field by field in that order.
    pub fn substitute_job(&self, job: &JobDef) -> Result<JobDef, VariableError> {
        let mut out = job.clone();
        let opt = |field, v: &Option<String>| v.as_deref().map(|t| self.substitute_field(field, t)).transpose();
        out.command = self.substitute_field(JobField::Command, &job.command)?;
        out.params = opt(JobField::Params, &job.params)?;
        out.directory = opt(JobField::Directory, &job.directory)?;
        out.comment = opt(JobField::Comment, &job.comment)?;
        out.stdout_file = opt(JobField::StdoutFile, &job.stdout_file)?;
        out.stderr_file = opt(JobField::StderrFile, &job.stderr_file)?;
        out.exec_user = opt(JobField::ExecUser, &job.exec_user)?;
        for (k, v) in &job.env {
            out.env.insert(k.clone(), self.substitute_field(JobField::EnvValue, v)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::engine::{Effect, EngineConfig, EventKind, JobStart, JobStatus, JobnetStatus};
    use crate::{Catalog, Engine};

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn hm(h: u8, m: u8) -> HourMinute {
        HourMinute::new(h, m).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn ctx(tz: Tz, dct: HourMinute, day: NaiveDate) -> TimeContext {
        TimeContext { tz, day_change: dct, operating_day: day }
    }

    fn ct(s: &str) -> CheckTimeArgs {
        CheckTimeArgs::parse(&words(s)).unwrap()
    }

    fn done(step: Result<Step, Failure>) -> Finish {
        match step {
            Ok(Step::Done(f)) => f,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    /// The exit code of a job that starts at `started` and is evaluated at once.
    fn ct_exit(args: &str, c: &TimeContext, started: &str) -> u32 {
        let t = at(started);
        done(ct(args).step(c, t, t)).exit_code
    }

    fn usage_checktime() -> Failure {
        Failure { exit_code: 21, lines: vec![messages::usage_checktime()] }
    }

    // ----- jobschchecktime (CT) -------------------------------------------

    // CT-001
    #[test]
    fn ct_001_waits_until_wait_time_then_prints_both_lines() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        let a = ct("-wt 1000 -lt 1100");
        let started = at("2025-06-10T09:12:40+09:00");
        assert_eq!(a.step(&c, started, started), Ok(Step::Wait(at("2025-06-10T10:00:00+09:00"))));
        assert_eq!(
            a.step(&c, started, at("2025-06-10T09:59:59+09:00")),
            Ok(Step::Wait(at("2025-06-10T10:00:00+09:00")))
        );
        let f = done(a.step(&c, started, at("2025-06-10T10:00:00+09:00")));
        assert_eq!(f.exit_code, 0);
        assert_eq!(f.stdout(), "CT_WTIME=1000\nCT_LTIME=1100\n");
        // A late wake-up still ends with 0: it waited for W.
        assert_eq!(done(a.step(&c, started, at("2025-06-10T11:30:00+09:00"))).exit_code, 0);
    }

    // CT-002
    #[test]
    fn ct_002_start_inside_window_ends_at_once_with_0() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        assert_eq!(ct_exit("-wt 1000 -lt 1100", &c, "2025-06-10T10:30:00+09:00"), 0);
    }

    // CT-003
    #[test]
    fn ct_003_start_exactly_at_wait_time_does_not_wait() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        let t = at("2025-06-10T10:00:00+09:00");
        let f = done(ct("-wt 1000 -lt 1100").step(&c, t, t));
        assert_eq!((f.exit_code, f.output.len()), (0, 2));
    }

    // CT-004
    #[test]
    fn ct_004_the_latest_minute_is_inclusive() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        assert_eq!(ct_exit("-wt 1000 -lt 1100", &c, "2025-06-10T11:00:59+09:00"), 0);
    }

    // CT-005
    #[test]
    fn ct_005_after_the_latest_minute_exit_1_abended_with_both_lines() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        let t = at("2025-06-10T11:01:00+09:00");
        let f = done(ct("-wt 1000 -lt 1100").step(&c, t, t));
        assert_eq!(f.exit_code, 1);
        assert_eq!(f.output, ["CT_WTIME=1000", "CT_LTIME=1100"]);
        assert_eq!(classify_end(JobKind::TimeWait, f.exit(), Judgement::default()), EndClass::Abended);
    }

    // CT-006
    #[test]
    fn ct_006_no_latest_time_ends_at_once_and_prints_only_wtime() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        let t = at("2025-06-10T23:50:00+09:00");
        let f = done(ct("-wt 1000").step(&c, t, t));
        assert_eq!(f.exit_code, 0);
        assert_eq!(f.output, ["CT_WTIME=1000"]);
    }

    // CT-007
    #[test]
    fn ct_007_day_change_0500_start_0300_wt_0600_is_past() {
        let c = ctx(TOKYO, hm(5, 0), date(2025, 6, 10));
        assert_eq!(ct_exit("-wt 0600", &c, "2025-06-11T03:00:00+09:00"), 0);
        assert_eq!(ct("-wt 0600").window(&c).unwrap().wait, at("2025-06-10T06:00:00+09:00"));
    }

    // CT-008
    #[test]
    fn ct_008_day_change_0500_start_0300_wt_0100_is_past() {
        let c = ctx(TOKYO, hm(5, 0), date(2025, 6, 10));
        assert_eq!(ct_exit("-wt 0100", &c, "2025-06-11T03:00:00+09:00"), 0);
        assert_eq!(ct("-wt 0100").window(&c).unwrap().wait, at("2025-06-11T01:00:00+09:00"));
    }

    // CT-009
    #[test]
    fn ct_009_day_change_0500_start_0300_wt_0400_waits() {
        let c = ctx(TOKYO, hm(5, 0), date(2025, 6, 10));
        let t = at("2025-06-11T03:00:00+09:00");
        let a = ct("-wt 0400");
        assert_eq!(a.step(&c, t, t), Ok(Step::Wait(at("2025-06-11T04:00:00+09:00"))));
        assert_eq!(done(a.step(&c, t, at("2025-06-11T04:00:00+09:00"))).exit_code, 0);
    }

    // CT-010
    #[test]
    fn ct_010_day_change_1000_times_before_it_are_next_day() {
        let c = ctx(TOKYO, hm(10, 0), date(2025, 3, 1));
        let a = ct("-wt 0900 -lt 0930");
        let w = a.window(&c).unwrap();
        assert_eq!(w.wait, at("2025-03-02T09:00:00+09:00"));
        assert_eq!(w.latest, Some(at("2025-03-02T09:30:00+09:00")));
        let t = at("2025-03-01T22:00:00+09:00");
        assert_eq!(a.step(&c, t, t), Ok(Step::Wait(at("2025-03-02T09:00:00+09:00"))));
        assert_eq!(done(a.step(&c, t, at("2025-03-02T09:00:00+09:00"))).exit_code, 0);
    }

    // CT-011
    #[test]
    fn ct_011_day_change_1000_window_on_the_next_calendar_day() {
        let c = ctx(TOKYO, hm(10, 0), date(2025, 3, 1));
        assert_eq!(ct_exit("-wt 0900 -lt 0930", &c, "2025-03-02T09:20:00+09:00"), 0);
        assert_eq!(ct_exit("-wt 0900 -lt 0930", &c, "2025-03-02T09:31:00+09:00"), 1);
    }

    // CT-012
    #[test]
    fn ct_012_latest_before_wait_in_operating_day_order_is_0376() {
        assert_eq!(ct("-wt 1700 -lt 0400").check_order(hm(5, 0)), Ok(()));
        let err = Failure {
            exit_code: 21,
            lines: vec!["MpJobsch: ERROR: 0376: Latest rendez-vous time must be after the rendez-vous time.".into()],
        };
        assert_eq!(ct("-wt 1700 -lt 1500").check_order(hm(5, 0)), Err(err.clone()));
        // The same pair is refused with day change 00:00, where 04:00 precedes 17:00.
        assert_eq!(ct("-wt 1700 -lt 0400").check_order(hm(0, 0)), Err(err.clone()));
        let c = ctx(TOKYO, hm(5, 0), date(2025, 6, 10));
        let t = at("2025-06-10T12:00:00+09:00");
        assert_eq!(ct("-wt 1700 -lt 1500").step(&c, t, t), Err(err.clone()));
        assert_eq!(Finish::from(err).output, Vec::<String>::new());
        // Accepted pair: 04:00 of the next calendar day.
        assert_eq!(ct("-wt 1700 -lt 0400").window(&c).unwrap().latest, Some(at("2025-06-11T04:00:00+09:00")));
    }

    // CT-013
    #[test]
    fn ct_013_equal_wait_and_latest_accepted_one_minute_window() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        assert_eq!(ct_exit("-wt 1330 -lt 1330", &c, "2025-06-10T13:30:20+09:00"), 0);
        assert_eq!(ct_exit("-wt 1330 -lt 1330", &c, "2025-06-10T13:31:00+09:00"), 1);
    }

    // CT-014
    #[test]
    fn ct_014_restart_on_a_later_day_keeps_the_scheduled_day_and_ends_at_once() {
        // Scheduled 09-01 20:00 (B = 09-01), restarted 09-02 21:00.
        let c = TimeContext::for_run(TOKYO, hm(0, 0), Some(date(2025, 9, 1)), at("2025-09-01T20:00:00+09:00"));
        assert_eq!(c.operating_day, date(2025, 9, 1));
        let t = at("2025-09-02T21:00:00+09:00");
        let f = done(ct("-wt 2200").step(&c, t, t));
        assert_eq!((f.exit_code, f.output), (0, vec!["CT_WTIME=2200".to_string()]));
        // Had B been 09-02 it would wait for 09-02 22:00.
        let c2 = ctx(TOKYO, hm(0, 0), date(2025, 9, 2));
        assert_eq!(ct("-wt 2200").step(&c2, t, t), Ok(Step::Wait(at("2025-09-02T22:00:00+09:00"))));
    }

    // CT-015
    #[test]
    fn ct_015_restart_on_a_later_day_after_latest_exits_1() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 9, 1));
        assert_eq!(ct_exit("-wt 2200 -lt 2300", &c, "2025-09-02T21:00:00+09:00"), 1);
    }

    // CT-016
    #[test]
    fn ct_016_malformed_times_are_21_with_usage_0385_and_no_ct_lines() {
        for v in ["2400", "1260", "930", "12:00", "ab12", "+930", "09300"] {
            let r = CheckTimeArgs::parse(&list(&["-wt", v]));
            assert_eq!(r, Err(usage_checktime()), "-wt {v}");
            assert!(Finish::from(r.unwrap_err()).output.is_empty());
            assert_eq!(CheckTimeArgs::parse(&list(&["-wt", "1000", "-lt", v])), Err(usage_checktime()), "-lt {v}");
        }
        assert_eq!(
            usage_checktime().lines[0],
            "MpJobsch: ERROR: 0385: Usage: jobschchecktime -wt rendez-vous_time [-lt latest_rendez-vous_time] [-sys 0 to 9]"
        );
    }

    // CT-017
    #[test]
    fn ct_017_missing_wt_is_21_with_usage() {
        assert_eq!(CheckTimeArgs::parse(&words("-lt 1100")), Err(usage_checktime()));
        assert_eq!(CheckTimeArgs::parse(&[]), Err(usage_checktime()));
        assert_eq!(CheckTimeArgs::parse(&words("-wt")), Err(usage_checktime()));
    }

    // CT-018
    #[test]
    fn ct_018_day_change_unavailable_is_22_with_0027() {
        let f = Failure::day_change_unavailable();
        assert_eq!(f.exit_code, 22);
        assert_eq!(
            f.lines,
            [
                "MpJobsch: ERROR: 0027: The jobscheduler failed to retrieve day change time. Make sure that the calendar daemon has been started."
            ]
        );
    }

    // CT-019
    #[test]
    fn ct_019_job2_window_decides_when_job3_starts() {
        let c = ctx(TOKYO, hm(0, 0), date(2025, 6, 10));
        let job2 = ct("-wt 1200 -lt 1500");
        // JOB1 ends 11:10 → JOB2 waits until 12:00 → JOB3 starts 12:00.
        let t = at("2025-06-10T11:10:00+09:00");
        assert_eq!(job2.step(&c, t, t), Ok(Step::Wait(at("2025-06-10T12:00:00+09:00"))));
        let f = done(job2.step(&c, t, at("2025-06-10T12:00:00+09:00")));
        assert_eq!(classify_end(JobKind::TimeWait, f.exit(), Judgement::default()), EndClass::Completed);
        // JOB1 ends 13:05 → JOB2 ends at once normally.
        assert_eq!(ct_exit("-wt 1200 -lt 1500", &c, "2025-06-10T13:05:00+09:00"), 0);
        // JOB1 ends 15:20 → JOB2 abends (1), JOB3 never starts.
        let t = at("2025-06-10T15:20:00+09:00");
        let f = done(job2.step(&c, t, t));
        assert_eq!(f.exit_code, 1);
        assert_eq!(classify_end(JobKind::TimeWait, f.exit(), Judgement::default()), EndClass::Abended);
    }

    // CT-256
    // CT-020
    #[test]
    fn ct_020_waiting_checktime_job_force_terminated_is_256_cancelled() {
        let t0 = at("2026-04-01T09:00:00+09:00");
        let mut e = engine_with(
            r#"
            [[jobnet]]
            project = "P"
            name = "N"
            comment = "Wait"
            [[jobnet.job]]
            number = 1
            kind = "time_wait"
            command = "jobschchecktime -wt 2300"
            "#,
            t0,
        );
        let key = JobnetKey::new("P", "N");
        e.start_jobnet(t0, &key, None).unwrap();
        // The wait runs inside the engine: no process is started, a timer waits.
        assert!(drain(&mut e).starts.is_empty());
        let id = e.job_id(&key, "1").expect("job 1");
        assert_eq!(e.job(id).map(|v| v.status), Some(JobStatus::Executing));
        assert_eq!(e.poll_timeout(), Some(at("2026-04-01T23:00:00+09:00")));
        let Some(Ok(Builtin::CheckTime(a))) = Builtin::parse_words(&words("jobschchecktime -wt 2300")) else {
            panic!("checktime")
        };
        let c = ctx(TOKYO, hm(0, 0), date(2026, 4, 1));
        assert_eq!(a.step(&c, t0, t0), Ok(Step::Wait(at("2026-04-01T23:00:00+09:00"))));
        e.cancel_job(at("2026-04-01T09:30:00+09:00"), id).unwrap();
        let v = e.job(id).unwrap();
        assert_eq!(v.status, JobStatus::Cancelled);
        assert_eq!(v.exit.map(|x| x.code), Some(256));
    }

    // CT-021
    #[test]
    fn ct_021_latest_at_day_change_is_before_wait_0376() {
        let r = ct("-wt 0400 -lt 0500").check_order(hm(5, 0));
        assert_eq!(r.map_err(|f| (f.exit_code, f.lines[0].contains(": 0376: "))), Err((21, true)));
    }

    #[test]
    fn ct_later_day_with_day_change_0500() {
        // B = 06-10, dct 05:00: -wt 0400 is 06-11 04:00, -lt 0430 is 06-11 04:30.
        let c = ctx(TOKYO, hm(5, 0), date(2025, 6, 10));
        // Restarted at 06-12 03:00 (operating day 06-11): past, after the latest time.
        assert_eq!(ct_exit("-wt 0400 -lt 0430", &c, "2025-06-12T03:00:00+09:00"), 1);
        assert_eq!(ct_exit("-wt 0400", &c, "2025-06-12T03:00:00+09:00"), 0);
        // Run inside B before W: waits for 06-11 04:00, not 06-12 04:00.
        let t = at("2025-06-11T02:00:00+09:00");
        assert_eq!(ct("-wt 0400 -lt 0430").step(&c, t, t), Ok(Step::Wait(at("2025-06-11T04:00:00+09:00"))));
        // Unscheduled run started at 06-11 03:00: B is operating day 06-10.
        let c = TimeContext::for_run(TOKYO, hm(5, 0), None, at("2025-06-11T03:00:00+09:00"));
        assert_eq!(c.operating_day, date(2025, 6, 10));
    }

    #[test]
    fn ct_dst_new_york_spring_forward_gap_maps_to_its_end() {
        let c = ctx(NEW_YORK, hm(0, 0), date(2026, 3, 8));
        let a = ct("-wt 0230 -lt 0300");
        let w = a.window(&c).unwrap();
        assert_eq!(w.wait, at("2026-03-08T03:00:00-04:00"));
        assert_eq!(w.latest, Some(at("2026-03-08T03:00:00-04:00")));
        let t = at("2026-03-08T01:59:00-05:00");
        assert_eq!(a.step(&c, t, t), Ok(Step::Wait(at("2026-03-08T07:00:00Z"))));
        assert_eq!(ct_exit("-wt 0230 -lt 0300", &c, "2026-03-08T03:00:30-04:00"), 0);
        assert_eq!(ct_exit("-wt 0230 -lt 0300", &c, "2026-03-08T03:01:00-04:00"), 1);
    }

    #[test]
    fn ct_dst_new_york_fall_back_uses_the_earlier_instant() {
        let c = ctx(NEW_YORK, hm(0, 0), date(2026, 11, 1));
        let a = ct("-wt 0130 -lt 0145");
        assert_eq!(a.window(&c).unwrap().wait, at("2026-11-01T01:30:00-04:00"));
        let t = at("2026-11-01T01:15:00-04:00");
        assert_eq!(a.step(&c, t, t), Ok(Step::Wait(at("2026-11-01T05:30:00Z"))));
        // The second 01:15 (EST) is an hour after 01:45 EDT: after the latest time.
        assert_eq!(ct_exit("-wt 0130 -lt 0145", &c, "2026-11-01T01:15:00-05:00"), 1);
    }

    #[test]
    fn ct_dst_new_york_day_change_0230_across_spring_forward() {
        // Operating day 03-07 runs from 03-07 02:30 EST to 03-08 03:00 EDT.
        let c = ctx(NEW_YORK, hm(2, 30), date(2026, 3, 7));
        let a = ct("-wt 0100 -lt 0215");
        let w = a.window(&c).unwrap();
        assert_eq!(w.wait, at("2026-03-08T01:00:00-05:00"));
        assert_eq!(w.latest, Some(at("2026-03-08T03:00:00-04:00")));
        let t = at("2026-03-08T00:30:00-05:00");
        assert_eq!(a.step(&c, t, t), Ok(Step::Wait(at("2026-03-08T06:00:00Z"))));
        assert_eq!(ct_exit("-wt 0100 -lt 0215", &c, "2026-03-08T03:00:30-04:00"), 0);
        assert_eq!(ct_exit("-wt 0100 -lt 0215", &c, "2026-03-08T03:01:00-04:00"), 1);
    }

    #[test]
    fn ct_parse_options_in_any_order_once_each() {
        let a = ct("-lt 1100 -sys 3 -wt 1000");
        assert_eq!(a, CheckTimeArgs { wait: hm(10, 0), latest: Some(hm(11, 0)), subsystem: Some(3) });
        for bad in
            ["-wt 1000 -wt 1100", "-wt 1000 -lt 1100 -lt 1200", "-wt 1000 -sys 10", "-wt 1000 extra", "-wt 1000 -x 1"]
        {
            assert_eq!(CheckTimeArgs::parse(&words(bad)), Err(usage_checktime()), "{bad}");
        }
        assert_eq!(ct("-wt 0005").output(), ["CT_WTIME=0005"]);
    }

    // ----- jobschsleep (SL) -----------------------------------------------

    fn usage_sleep() -> Failure {
        Failure { exit_code: 21, lines: vec!["MpJobsch: ERROR: 0469: Usage: jobschsleep <wait time>".into()] }
    }

    // SL-600 SL-600
    // SL-001
    #[test]
    fn sl_001_sleep_600_ends_600_s_later_with_output() {
        let a = SleepArgs::parse(&words("600")).unwrap();
        let t = at("2026-04-01T09:00:00Z");
        assert_eq!(a.step(t, t), Step::Wait(at("2026-04-01T09:10:00Z")));
        assert_eq!(a.step(t, at("2026-04-01T09:09:59Z")), Step::Wait(at("2026-04-01T09:10:00Z")));
        let Step::Done(f) = a.step(t, at("2026-04-01T09:10:00Z")) else { panic!("done") };
        assert_eq!((f.exit_code, f.stdout()), (0, "SL_SLEEPSEC=600\n".to_string()));
    }

    // SL-002
    #[test]
    fn sl_002_sleep_0_ends_at_once() {
        let a = SleepArgs::parse(&words("0")).unwrap();
        let t = at("2026-04-01T09:00:00Z");
        assert_eq!(a.step(t, t), Step::Done(Finish::new(0, vec!["SL_SLEEPSEC=0".into()])));
        // Canonical decimal form in the output.
        assert_eq!(SleepArgs::parse(&words("0600")).unwrap().output(), ["SL_SLEEPSEC=600"]);
    }

    // SL-003
    #[test]
    fn sl_003_86400_accepted_86401_refused_with_0469() {
        assert_eq!(SleepArgs::parse(&words("86400")), Ok(SleepArgs { seconds: 86_400 }));
        assert_eq!(SleepArgs::parse(&words("86401")), Err(usage_sleep()));
    }

    // SL-004
    #[test]
    fn sl_004_malformed_arguments_are_21_with_0469() {
        for bad in [list(&["-5"]), list(&["1.5"]), list(&[]), list(&["10", "20"]), list(&["+5"]), list(&[""])] {
            assert_eq!(SleepArgs::parse(&bad), Err(usage_sleep()), "{bad:?}");
        }
        assert_eq!(SleepArgs::parse(&list(&["99999999999999999999999"])), Err(usage_sleep()));
        assert_eq!(SleepArgs::parse(&list(&["0000000000000000000000600"])), Ok(SleepArgs { seconds: 600 }));
    }

    // SL-256
    // SL-005
    #[test]
    fn sl_005_sleeping_job_force_terminated_is_256_cancelled() {
        let t0 = at("2026-04-01T09:00:00+09:00");
        let mut e = engine_with(
            r#"
            [[jobnet]]
            project = "P"
            name = "N"
            comment = "Sleep"
            [[jobnet.job]]
            number = 1
            kind = "sleep"
            command = "jobschsleep 600"
            "#,
            t0,
        );
        let key = JobnetKey::new("P", "N");
        e.start_jobnet(t0, &key, None).unwrap();
        assert!(drain(&mut e).starts.is_empty(), "a sleep spawns no process");
        let id = e.job_id(&key, "1").expect("job 1");
        assert_eq!(e.poll_timeout(), Some(at("2026-04-01T09:10:00+09:00")));
        let Some(Ok(Builtin::Sleep(a))) = Builtin::parse_words(&words("jobschsleep 600")) else { panic!("sleep") };
        assert_eq!(a.step(t0, t0), Step::Wait(at("2026-04-01T09:10:00+09:00")));
        e.cancel_job(at("2026-04-01T09:00:30+09:00"), id).unwrap();
        let v = e.job(id).unwrap();
        assert_eq!((v.status, v.exit.map(|x| x.code)), (JobStatus::Cancelled, Some(256)));
    }

    // ----- jobschchknetvar (NV) -------------------------------------------

    fn store(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
        vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn nv(args: &[&str], vars: &[(&str, &str)]) -> Finish {
        ChkNetVarArgs::parse(&list(args)).unwrap().evaluate(&store(vars))
    }

    fn nv_code(args: &[&str], vars: &[(&str, &str)]) -> u32 {
        nv(args, vars).exit_code
    }

    fn nv_refused(args: &[&str]) -> bool {
        ChkNetVarArgs::parse(&list(args)) == Err(Failure { exit_code: 21, lines: vec![messages::usage_chknetvar()] })
    }

    // NV-001
    #[test]
    fn nv_001_existing_empty_value_exists() {
        let f = nv(&["P.X"], &[("P.X", "")]);
        assert_eq!((f.exit_code, f.output), (0, vec!["P.X=".to_string()]));
    }

    // NV-002
    #[test]
    fn nv_002_missing_variable_exit_1_no_output() {
        let f = nv(&["P.Y"], &[("P.X", "1")]);
        assert_eq!((f.exit_code, f.output.len()), (1, 0));
    }

    // NV-003
    #[test]
    fn nv_003_missing_variable_with_z_exit_0_no_output() {
        let f = nv(&["P.Y", "-z"], &[]);
        assert_eq!((f.exit_code, f.output.len()), (0, 0));
    }

    // NV-004
    #[test]
    fn nv_004_existing_variable_with_z_exit_1() {
        let f = nv(&["P.X", "-z"], &[("P.X", "")]);
        assert_eq!((f.exit_code, f.output), (1, vec!["P.X=".to_string()]));
    }

    // NV-005
    #[test]
    fn nv_005_single_numeric_comparisons() {
        let v = [("R.CODE", "200")];
        for (op, want) in [("EQ,200", 0), ("NE,200", 1), ("GT,199", 0), ("GE,200", 0), ("LT,200", 1), ("LE,200", 0)] {
            let f = nv(&["R.CODE", "-num", op], &v);
            assert_eq!((f.exit_code, f.output.as_slice()), (want, &["R.CODE=200".to_string()][..]), "{op}");
        }
    }

    // NV-006
    #[test]
    fn nv_006_absent_never_matches_even_ne() {
        assert_eq!(nv_code(&["R.CODE", "-num", "NE,200"], &[]), 1);
        let f = nv(&["R.CODE", "-num", "NE,200", "-z"], &[]);
        assert_eq!((f.exit_code, f.output.len()), (0, 0));
    }

    // NV-007
    #[test]
    fn nv_007_range_ge_lt() {
        for (v, want) in [("299", 0), ("300", 1), ("200", 0), ("199", 1)] {
            assert_eq!(nv_code(&["R.CODE", "-num", "GE,200,LT,300"], &[("R.CODE", v)]), want, "{v}");
        }
    }

    // NV-008
    #[test]
    fn nv_008_range_gt_le() {
        for (v, want) in [("200", 1), ("300", 0), ("201", 0)] {
            assert_eq!(nv_code(&["R.CODE", "-num", "GT,200,LE,300"], &[("R.CODE", v)]), want, "{v}");
        }
    }

    // NV-009
    #[test]
    fn nv_009_outside_range_with_z() {
        assert_eq!(nv_code(&["R.CODE", "-num", "GE,200,LT,300", "-z"], &[("R.CODE", "404")]), 0);
        assert_eq!(nv_code(&["R.CODE", "-num", "GE,200,LT,300", "-z"], &[("R.CODE", "250")]), 1);
    }

    // NV-010
    #[test]
    fn nv_010_equal_bounds_refused_with_0468() {
        assert!(nv_refused(&["R.CODE", "-num", "GE,10,LE,10"]));
        assert_eq!(
            messages::usage_chknetvar(),
            "MpJobsch: ERROR: 0468: Usage: jobschchknetvar <variable name> [-num <operator specified for Condition>,<comparison value>[<operator specified for Condition 2>,<comparison value 2>] | -char <comparison condition>,<comparison string>] [-z]"
        );
    }

    // NV-011
    #[test]
    fn nv_011_lower_above_upper_refused() {
        assert!(nv_refused(&["R.CODE", "-num", "GE,50,LE,10"]));
        assert!(!nv_refused(&["R.CODE", "-num", "GE,9,LE,10"]));
    }

    // NV-012
    #[test]
    fn nv_012_wrong_operator_positions_refused() {
        for c in ["LT,5,GT,10", "GT,1,GE,9", "EQ,1,LT,9", "GE,1,EQ,9"] {
            assert!(nv_refused(&["R.CODE", "-num", c]), "{c}");
        }
    }

    // NV-013
    #[test]
    fn nv_013_operand_range_is_i32() {
        assert!(nv_refused(&["R.CODE", "-num", "EQ,2147483648"]));
        assert!(nv_refused(&["R.CODE", "-num", "EQ,-2147483649"]));
        assert_eq!(nv_code(&["R.CODE", "-num", "EQ,-2147483648"], &[("R.CODE", "-2147483648")]), 0);
        assert_eq!(nv_code(&["R.CODE", "-num", "EQ,2147483647"], &[("R.CODE", "+2147483647")]), 0);
        // The value itself may exceed i32.
        assert_eq!(nv_code(&["R.CODE", "-num", "GT,2147483647"], &[("R.CODE", "2147483648")]), 0);
    }

    // NV-014
    #[test]
    fn nv_014_non_numeric_value_never_matches_num() {
        let f = nv(&["R.CODE", "-num", "GE,0"], &[("R.CODE", "abc")]);
        assert_eq!((f.exit_code, f.output), (1, vec!["R.CODE=abc".to_string()]));
        assert_eq!(nv_code(&["R.CODE", "-num", "GE,0", "-z"], &[("R.CODE", "abc")]), 0);
        for v in ["", " 5", "3.5", "5 ", "0x10", "99999999999999999999"] {
            assert_eq!(nv_code(&["R.CODE", "-num", "GE,0"], &[("R.CODE", v)]), 1, "{v:?}");
        }
    }

    // NV-015
    #[test]
    fn nv_015_char_eq_match_prints_variable() {
        let f = nv(&["JOB.ABC", "-char", "EQ,xyz"], &[("JOB.ABC", "xyz")]);
        assert_eq!((f.exit_code, f.stdout()), (0, "JOB.ABC=xyz\n".to_string()));
    }

    // NV-016
    #[test]
    fn nv_016_char_eq_empty_matches_only_empty() {
        assert_eq!(nv_code(&["P.V", "-char", "EQ,"], &[("P.V", "")]), 0);
        assert_eq!(nv_code(&["P.V", "-char", "EQ,"], &[("P.V", "a")]), 1);
    }

    // NV-017
    #[test]
    fn nv_017_char_ne_empty_matches_only_non_empty() {
        assert_eq!(nv_code(&["P.V", "-char", "NE,"], &[("P.V", "a")]), 0);
        assert_eq!(nv_code(&["P.V", "-char", "NE,"], &[("P.V", "")]), 1);
    }

    // NV-018
    #[test]
    fn nv_018_char_in_empty_never_matches() {
        assert_eq!(nv_code(&["P.V", "-char", "IN,"], &[("P.V", "abc")]), 1);
        assert_eq!(nv_code(&["P.V", "-char", "IN,"], &[("P.V", "")]), 1);
    }

    // NV-019
    #[test]
    fn nv_019_char_ni_empty_matches_when_the_variable_exists() {
        assert_eq!(nv_code(&["P.V", "-char", "NI,"], &[("P.V", "abc")]), 0);
        assert_eq!(nv_code(&["P.V", "-char", "NI,"], &[("P.V", "")]), 0);
        assert_eq!(nv_code(&["P.V", "-char", "NI,"], &[]), 1);
    }

    // NV-020
    #[test]
    fn nv_020_char_in_and_ni_substrings() {
        let v = [("S.MSG", "error occurred")];
        assert_eq!(nv_code(&["S.MSG", "-char", "IN,rr"], &v), 0);
        assert_eq!(nv_code(&["S.MSG", "-char", "NI,rr"], &v), 1);
        assert_eq!(nv_code(&["S.MSG", "-char", "NI,zz"], &v), 0);
        assert_eq!(nv_code(&["S.MSG", "-char", "EQ,error occurred"], &v), 0);
    }

    // NV-021
    #[test]
    fn nv_021_char_comparison_is_case_sensitive() {
        assert_eq!(nv_code(&["S.ST", "-char", "EQ,OK"], &[("S.ST", "ok")]), 1);
        assert_eq!(nv_code(&["S.ST", "-char", "EQ,ok"], &[("S.ST", "ok")]), 0);
    }

    // NV-022
    #[test]
    fn nv_022_num_and_char_together_refused() {
        assert!(nv_refused(&["P.V", "-num", "EQ,1", "-char", "EQ,1"]));
        assert!(nv_refused(&["P.V", "-char", "EQ,1", "-num", "EQ,1"]));
        assert!(nv_refused(&["P.V", "-num", "EQ,1", "-num", "EQ,2"]));
        assert!(nv_refused(&["P.V", "-z", "-z"]));
    }

    // NV-023
    #[test]
    fn nv_023_name_of_65_bytes_refused_64_accepted() {
        let ok = format!("P.{}", "N".repeat(62));
        assert_eq!(ok.len(), 64);
        assert!(!nv_refused(&[&ok]));
        let long = format!("P.{}", "N".repeat(63));
        assert!(nv_refused(&[&long]));
    }

    // NV-024
    #[test]
    fn nv_024_system_variable_refused() {
        assert!(nv_refused(&[".VPARAM"]));
        for bad in ["NOPREFIX", "P.", "P.A-B", "P Q.X", "-z", "-num"] {
            assert!(nv_refused(&[bad]), "{bad}");
        }
        assert!(nv_refused(&[]));
    }

    // NV-513 NV-512
    // NV-025
    #[test]
    fn nv_025_char_string_of_513_bytes_refused_512_accepted() {
        assert!(!nv_refused(&["P.V", "-char", &format!("EQ,{}", "a".repeat(512))]));
        assert!(nv_refused(&["P.V", "-char", &format!("EQ,{}", "a".repeat(513))]));
        assert!(!nv_refused(&["P.V", "-char", &format!("EQ,{}", "語".repeat(256))]));
        assert!(nv_refused(&["P.V", "-char", &format!("EQ,{}", "語".repeat(257))]));
        assert!(nv_refused(&["P.V", "-char", "EQ,ｱ"]));
    }

    // NV-026
    #[test]
    fn nv_026_char_splits_at_the_first_comma_only() {
        let a = ChkNetVarArgs::parse(&list(&["S.LIST", "-char", "IN,b,c"])).unwrap();
        assert_eq!(a.condition, Some(NetVarCondition::Char { method: CharMethod::In, text: "b,c".into() }));
        assert_eq!(a.evaluate(&store(&[("S.LIST", "a,b,c")])).exit_code, 0);
        assert_eq!(a.evaluate(&store(&[("S.LIST", "b")])).exit_code, 1);
    }

    // NV-027
    #[test]
    fn nv_027_num_needs_two_or_four_tokens() {
        for c in ["EQ", "EQ,1,LT", "GE,1,LT,5,X", ""] {
            assert!(nv_refused(&["P.V", "-num", c]), "{c:?}");
        }
        assert!(nv_refused(&["P.V", "-num"]));
        assert!(nv_refused(&["P.V", "-char", "EQ"]));
    }

    // NV-028
    #[test]
    fn nv_028_exit_0_and_1_are_normal_for_the_judgement_job() {
        let j = Judgement::default();
        let kind = JobKind::JobnetVariableDecision;
        assert_eq!(classify_end(kind, ExitCode::from_command(0), j), EndClass::Completed);
        assert_eq!(classify_end(kind, ExitCode::from_command(1), j), EndClass::Completed);
        assert_eq!(classify_end(kind, ExitCode::from_command(21), j), EndClass::Abended);
        assert_eq!(classify_end(JobKind::Command, ExitCode::from_command(1), j), EndClass::Abended);
        // Scheduler codes keep their own classification.
        assert_eq!(classify_end(kind, ExitCode::scheduler(exit::VARIABLE_IO), j), EndClass::Abended);
    }

    // NV-029
    #[test]
    fn nv_029_lower_case_operators_refused() {
        assert!(nv_refused(&["P.V", "-num", "eq,1"]));
        assert!(nv_refused(&["P.V", "-char", "eq,1"]));
        assert!(nv_refused(&["P.V", "-num", "ge,1,LT,5"]));
    }

    #[test]
    fn nv_z_anywhere_after_the_name() {
        let a = ChkNetVarArgs::parse(&list(&["P.V", "-z", "-num", "GE,1"])).unwrap();
        assert!(a.invert);
        assert_eq!(a.evaluate(&store(&[("P.V", "0")])).exit_code, 0);
        assert!(nv_refused(&["P.V", "extra"]));
    }

    // ----- jobschchkmsgevt (CM) -------------------------------------------

    fn waiter() -> JobnetKey {
        JobnetKey::new("PRJ", "NET1")
    }

    fn raised(seq: u64, target: &str, vparam: Option<&str>, t: &str) -> Occurrence {
        let mut argv = words(target);
        if let Some(v) = vparam {
            argv.extend(list(&["-p", v]));
        }
        MsgEventArgs::parse(&argv).unwrap().occurrence(seq, at(t))
    }

    fn cm(args: &str) -> ChkMsgEvtArgs {
        ChkMsgEvtArgs::parse(&words(args)).unwrap()
    }

    const T0: &str = "2026-04-01T10:00:00+09:00";

    fn cm_step(args: &str, history: &[Occurrence], now: &str) -> Step {
        cm(args).step(&waiter(), at(T0), at(now), history)
    }

    fn usage_chkmsgevt() -> Failure {
        Failure {
            exit_code: 21,
            lines: vec![
                "MpJobsch: ERROR: 0522: Usage: jobschchkmsgevt <message event name> [-i <monitoring interval>]".into(),
            ],
        }
    }

    // CM-001
    #[test]
    fn cm_001_event_raised_during_the_wait_ends_at_the_next_check() {
        assert_eq!(cm("ABC").interval_secs, 60);
        let h = [raised(1, "ABC", None, "2026-04-01T10:00:30+09:00")];
        assert_eq!(cm_step("ABC", &h, "2026-04-01T10:00:30+09:00"), Step::Wait(at("2026-04-01T10:01:00+09:00")));
        let Step::Done(f) = cm_step("ABC", &h, "2026-04-01T10:01:00+09:00") else { panic!("done") };
        assert_eq!((f.exit_code, f.stdout()), (0, "CM_MSGEVENT=ABC\n".to_string()));
        assert_eq!(cm_step("ABC", &[], "2026-04-01T10:01:00+09:00"), Step::Wait(at("2026-04-01T10:02:00+09:00")));
    }

    // CM-002
    #[test]
    fn cm_002_event_raised_before_the_start_does_not_count() {
        let h = [raised(1, "ABC", None, "2026-04-01T09:59:59+09:00")];
        assert_eq!(cm_step("ABC", &h, "2026-04-01T10:01:00+09:00"), Step::Wait(at("2026-04-01T10:02:00+09:00")));
        // Raised exactly at the start counts.
        let h = [raised(1, "ABC", None, T0)];
        assert!(matches!(cm_step("ABC", &h, "2026-04-01T10:01:00+09:00"), Step::Done(_)));
    }

    // CM-003
    #[test]
    fn cm_003_event_for_another_jobnet_of_the_project_is_ignored() {
        let h = [raised(1, "ABC:PRJ/OTHER", None, "2026-04-01T10:00:30+09:00")];
        assert!(!h[0].concerns(&waiter()));
        assert!(matches!(cm_step("ABC", &h, "2026-04-01T10:05:00+09:00"), Step::Wait(_)));
        let h = [raised(1, "ABC:PRJ/NET1", None, "2026-04-01T10:00:30+09:00")];
        assert!(matches!(cm_step("ABC", &h, "2026-04-01T10:01:00+09:00"), Step::Done(_)));
    }

    // CM-004
    #[test]
    fn cm_004_event_for_the_project_ends_the_wait() {
        let h = [raised(1, "ABC:PRJ", None, "2026-04-01T10:00:30+09:00")];
        assert_eq!(
            cm_step("ABC", &h, "2026-04-01T10:01:00+09:00"),
            Step::Done(Finish::new(0, vec!["CM_MSGEVENT=ABC".into()]))
        );
    }

    // CM-005
    #[test]
    fn cm_005_event_for_another_project_is_ignored() {
        let h = [raised(1, "ABC:PRJ2", None, "2026-04-01T10:00:30+09:00")];
        assert!(matches!(cm_step("ABC", &h, "2026-04-01T10:05:00+09:00"), Step::Wait(_)));
    }

    // CM-006
    #[test]
    fn cm_006_interval_range_1_to_3600() {
        assert_eq!(ChkMsgEvtArgs::parse(&words("ABC -i 0")), Err(usage_chkmsgevt()));
        assert_eq!(ChkMsgEvtArgs::parse(&words("ABC -i 3601")), Err(usage_chkmsgevt()));
        assert_eq!(cm("ABC -i 1").interval_secs, 1);
        assert_eq!(cm("-i 3600 ABC").interval_secs, 3600);
        for bad in ["ABC -i", "ABC -i 1 -i 2", "ABC -i x", "ABC -i -5", "ABC DEF", ""] {
            assert_eq!(ChkMsgEvtArgs::parse(&words(bad)), Err(usage_chkmsgevt()), "{bad:?}");
        }
        assert_eq!(cm_step("ABC -i 10", &[], T0), Step::Wait(at("2026-04-01T10:00:10+09:00")));
    }

    // CM-007
    #[test]
    fn cm_007_event_name_rules() {
        for bad in ["ABCDEFGHIJKLM", "AB C", "A,B", "AｱB", "A\u{E000}", "A\u{3000}B"] {
            assert_eq!(ChkMsgEvtArgs::parse(&list(&[bad])), Err(usage_chkmsgevt()), "{bad}");
        }
        assert_eq!(cm("ABCDEFGHIJKL").event, "ABCDEFGHIJKL");
        assert_eq!(cm("事象名前").event, "事象名前");
    }

    // CM-008
    #[test]
    fn cm_008_first_occurrence_of_the_interval_is_reported_with_its_vparam() {
        let h = [
            raised(2, "ABC", Some("second"), "2026-04-01T10:00:40+09:00"),
            raised(1, "ABC", Some("first"), "2026-04-01T10:00:20+09:00"),
        ];
        let Step::Done(f) = cm_step("ABC", &h, "2026-04-01T10:01:00+09:00") else { panic!("done") };
        assert_eq!(f.output, ["CM_MSGEVENT=ABC", "CM_VPARAM=first"]);
        // Same instant: the earlier raise (sequence) wins.
        let h = [
            raised(5, "ABC", Some("later"), "2026-04-01T10:00:20+09:00"),
            raised(4, "ABC", Some("earlier"), "2026-04-01T10:00:20+09:00"),
        ];
        let Step::Done(f) = cm_step("ABC", &h, "2026-04-01T10:01:00+09:00") else { panic!("done") };
        assert_eq!(f.output[1], "CM_VPARAM=earlier");
        // The lines become jobnet variables of the waiter.
        let vars = capture_variables(&f.stdout(), "W", &BTreeMap::new()).unwrap();
        assert_eq!(vars, store(&[("W.CM_MSGEVENT", "ABC"), ("W.CM_VPARAM", "earlier")]));
    }

    // CM-009
    #[test]
    fn cm_009_network_job_is_refused_with_0521() {
        assert_eq!(
            ChkMsgEvtArgs::check_local(true),
            Err(Failure {
                exit_code: 21,
                lines: vec!["MpJobsch: ERROR: 0521: Execute the command as a local job of the jobscheduler.".into()]
            })
        );
        assert_eq!(ChkMsgEvtArgs::check_local(false), Ok(()));
    }

    // CM-010
    #[test]
    fn cm_010_unreadable_history_is_0523() {
        let f = Failure::occurrence_history_unreadable();
        assert_eq!(f.exit_code, 31);
        assert_eq!(f.lines, ["MpJobsch: ERROR: 0523: Failed to read the message event occurrence history file."]);
    }

    // CM-011
    #[test]
    fn cm_011_other_event_names_are_ignored() {
        let h = [raised(1, "ABC", None, "2026-04-01T10:00:30+09:00")];
        assert!(matches!(cm_step("XYZ", &h, "2026-04-01T10:05:00+09:00"), Step::Wait(_)));
    }

    #[test]
    fn cm_checks_follow_the_interval_grid() {
        // Raised 10:01:10; a late evaluation at 10:01:20 sees the 10:01:00 check only.
        let h = [raised(1, "ABC", None, "2026-04-01T10:01:10+09:00")];
        assert_eq!(cm_step("ABC", &h, "2026-04-01T10:01:20+09:00"), Step::Wait(at("2026-04-01T10:02:00+09:00")));
        assert!(matches!(cm_step("ABC", &h, "2026-04-01T10:02:00+09:00"), Step::Done(_)));
        // An empty vparam is still a vparam.
        let h = [raised(1, "ABC", Some(""), "2026-04-01T10:00:10+09:00")];
        let Step::Done(f) = cm_step("ABC", &h, "2026-04-01T10:01:00+09:00") else { panic!("done") };
        assert_eq!(f.output, ["CM_MSGEVENT=ABC", "CM_VPARAM="]);
    }

    // ----- jobschmsgevent (ME) --------------------------------------------

    fn me(s: &str) -> MsgEventArgs {
        MsgEventArgs::parse(&words(s)).unwrap()
    }

    fn me_refused(argv: &[String]) -> bool {
        MsgEventArgs::parse(argv) == Err(Failure { exit_code: 21, lines: vec![messages::usage_msgevent()] })
    }

    fn engine_with(toml: &str, t0: DateTime<Utc>) -> Engine {
        let mut cat = Catalog::new();
        cat.add_text("t.toml", toml);
        let env = Arc::new(cat.compile().expect("valid definitions"));
        Engine::new(env.clone(), EngineConfig::from_env(&env), t0)
    }

    #[derive(Default)]
    struct Drained {
        starts: Vec<JobStart>,
        logs: Vec<String>,
    }

    fn drain(e: &mut Engine) -> Drained {
        let mut d = Drained::default();
        while let Some(effect) = e.poll_effect() {
            match effect {
                Effect::StartJob(s) => d.starts.push(s),
                Effect::Record(ev) => {
                    if let EventKind::Log { message, .. } = ev.kind {
                        d.logs.push(message);
                    }
                }
                Effect::KillJob { .. } => {}
            }
        }
        d
    }

    fn waiting_jobnet(project: &str, name: &str, extra: &str) -> String {
        format!(
            r#"
            [[jobnet]]
            project = "{project}"
            name = "{name}"
            comment = "DailyLoad"
            start = {{ message_only = {{ {extra} }} }}
            messages = {{ events = ["EV1"] }}
            [[jobnet.job]]
            number = 1
            command = "echo @.VPARAM@"
            "#
        )
    }

    /// Raise with parsed arguments; the counted jobnets and the logged lines.
    fn raise(e: &mut Engine, now: DateTime<Utc>, argv: &str) -> (Vec<String>, Drained) {
        let a = me(argv);
        let r = e.raise_event(now, &a.raise_request()).unwrap();
        let counted = r.iter().filter(|x| x.counted).map(|x| x.jobnet.to_string()).collect();
        (counted, drain(e))
    }

    const ME_T0: &str = "2026-04-01T09:00:00+09:00";

    // ME-001
    #[test]
    fn me_001_global_raise_reaches_every_project() {
        let a = me("EV1");
        assert_eq!((a.project.as_deref(), a.jobnet.as_deref()), (None, None));
        let defs = waiting_jobnet("PRJA", "NETA", "") + &waiting_jobnet("PRJB", "NETB", "");
        let mut e = engine_with(&defs, at(ME_T0));
        let (counted, d) = raise(&mut e, at(ME_T0), "EV1");
        assert_eq!(counted, ["PRJA/NETA", "PRJB/NETB"]);
        assert_eq!(d.starts.len(), 2);
        assert_eq!(MsgEventArgs::finish(&d.logs, true), Finish::new(0, vec![]));
    }

    // ME-002
    #[test]
    fn me_002_project_raise_reaches_only_that_project() {
        let defs = waiting_jobnet("PRJA", "NETA", "")
            + &waiting_jobnet("PRJA", "NETC", "")
            + &waiting_jobnet("PRJB", "NETB", "");
        let mut e = engine_with(&defs, at(ME_T0));
        let (counted, _) = raise(&mut e, at(ME_T0), "EV1:PRJA");
        assert_eq!(counted, ["PRJA/NETA", "PRJA/NETC"]);
    }

    // ME-003
    #[test]
    fn me_003_jobnet_raise_reaches_only_that_jobnet() {
        let defs = waiting_jobnet("PRJA", "NETA", "") + &waiting_jobnet("PRJA", "NETC", "");
        let mut e = engine_with(&defs, at(ME_T0));
        let a = me("EV1:PRJA/NETA");
        assert_eq!((a.project.as_deref(), a.jobnet.as_deref()), (Some("PRJA"), Some("NETA")));
        let (counted, _) = raise(&mut e, at(ME_T0), "EV1:PRJA/NETA");
        assert_eq!(counted, ["PRJA/NETA"]);
    }

    // ME-004
    #[test]
    fn me_004_event_name_of_13_bytes_refused() {
        assert_eq!(me("ABCDEFGHIJKL").event, "ABCDEFGHIJKL");
        assert!(me_refused(&words("ABCDEFGHIJKLM")));
        assert!(me_refused(&words("ABCDEFGHIJKLM:PRJ")));
        assert_eq!(me("日本語イベ").event, "日本語イベ");
        assert!(me_refused(&words("日本語イベント")));
    }

    // ME-201
    // ME-005
    #[test]
    fn me_005_vparam_of_201_bytes_refused() {
        assert!(MsgEventArgs::parse(&list(&["EV1", "-p", &"v".repeat(200)])).is_ok());
        assert!(me_refused(&list(&["EV1", "-p", &"v".repeat(201)])));
        assert!(MsgEventArgs::parse(&list(&["EV1", "-p", &"語".repeat(100)])).is_ok());
        assert!(me_refused(&list(&["EV1", "-p", &"語".repeat(101)])));
        assert!(me_refused(&list(&["EV1", "-p", "ｱ"])));
        assert_eq!(MsgEventArgs::parse(&list(&["EV1", "-p", ""])).unwrap().vparam.as_deref(), Some(""));
    }

    // ME-006
    #[test]
    fn me_006_suffix_needs_a_preceding_vparam() {
        assert!(me_refused(&words("EV1 -c S1")));
        assert!(me_refused(&words("EV1 -c S1 -p X")));
        let a = me("EV1 -p X -c S1");
        assert_eq!((a.vparam.as_deref(), a.suffix.as_deref()), (Some("X"), Some("S1")));
    }

    // ME-007
    #[test]
    fn me_007_suffix_rules() {
        assert!(me_refused(&list(&["EV1", "-p", "X", "-c", &"s".repeat(31)])));
        assert!(MsgEventArgs::parse(&list(&["EV1", "-p", "X", "-c", &"s".repeat(30)])).is_ok());
        assert!(me_refused(&words("EV1 -p X -c -AB")));
        assert!(me_refused(&words("EV1 -p X -c A_B")));
        assert_eq!(me("EV1 -p X -c B2-x").suffix.as_deref(), Some("B2-x"));
    }

    // ME-008
    #[test]
    fn me_008_vparam_at_most_once() {
        assert!(me_refused(&words("EV1 -p A -p B")));
        assert!(me_refused(&words("EV1 -p A -c S -c T")));
    }

    // ME-009
    #[test]
    fn me_009_copy_start_substitutes_vparam_in_the_copy() {
        let mut e = engine_with(&waiting_jobnet("PRJA", "NETA", ""), at(ME_T0));
        let (_, d) = raise(&mut e, at(ME_T0), "EV1:PRJA/NETA -p 20250601 -c D01");
        let copy = JobnetKey::new("PRJA", "NETA_D01");
        assert_eq!(e.jobnet(&copy).map(|v| v.comment), Some("DailyLoad_D01".to_string()));
        let s = d.starts.iter().find(|s| s.jobnet == copy).expect("the copy's job starts");
        assert_eq!(s.vparam.as_deref(), Some("20250601"));
        let empty = BTreeMap::new();
        let vars = Variables { vparam: s.vparam.as_deref(), jobnet: &empty, definition: &empty };
        assert_eq!(vars.substitute_job(s.def()).unwrap().command, "echo 20250601");
        assert!(d.starts.iter().all(|s| s.jobnet == copy), "NETA itself does not start");
    }

    // ME-242
    // ME-010
    #[test]
    fn me_010_copy_still_running_is_0431_and_exit_242() {
        let mut e = engine_with(&waiting_jobnet("PRJA", "NETA", ""), at(ME_T0));
        let (_, first) = raise(&mut e, at(ME_T0), "EV1:PRJA/NETA -p 20250601 -c D01");
        assert_eq!(first.starts.len(), 1);
        let (_, d) = raise(&mut e, at("2026-04-01T09:01:00+09:00"), "EV1:PRJA/NETA -p 20250602 -c D01");
        assert!(d.starts.is_empty());
        let f = MsgEventArgs::finish(&d.logs, true);
        assert_eq!(f.exit_code, 242);
        assert_eq!(f.messages, ["MpJobsch: ERROR: 0431: PRJA NETA_D01 Copy and startup of a job net failed."]);
        assert_eq!(f.exit(), ExitCode::scheduler(242));
    }

    // ME-011
    #[test]
    fn me_011_vparam_to_a_time_started_jobnet_is_ignored_with_0432() {
        let defs = r#"
            [[jobnet]]
            project = "PRJA"
            name = "NETB"
            comment = "Timed"
            start = { time = "23:00" }
            messages = { events = ["EV1"], with_time = "and_time" }
            [[jobnet.job]]
            number = 1
            command = "echo @.VPARAM@"
        "#;
        let mut e = engine_with(defs, at(ME_T0));
        let (counted, d) = raise(&mut e, at(ME_T0), "EV1:PRJA/NETB -p X");
        assert_eq!(counted, ["PRJA/NETB"]);
        let f = MsgEventArgs::finish(&d.logs, true);
        assert_eq!(f.exit_code, 0);
        assert_eq!(f.messages, ["MpJobsch: WARNING: 0432: PRJA NETB A variable parameter has been ignored."]);
        // At 23:00 NETB starts without the parameter: @.VPARAM@ becomes empty.
        e.handle_timeout(at("2026-04-01T23:00:00+09:00"));
        let d = drain(&mut e);
        let s = d.starts.first().expect("NETB starts at 23:00");
        assert_eq!(s.vparam, None);
        let empty = BTreeMap::new();
        let vars = Variables { vparam: s.vparam.as_deref(), jobnet: &empty, definition: &empty };
        assert_eq!(vars.substitute_field(JobField::Command, &s.def().command).unwrap(), "echo ");
    }

    // ME-012
    #[test]
    fn me_012_events_while_running_only_with_valid_during_execution() {
        let defs = waiting_jobnet("P", "PLAIN", "")
            + r#"
            [[jobnet]]
            project = "P"
            name = "VALID"
            comment = "Valid"
            start = { message_only = {} }
            messages = { events = ["EV1"], valid_during_execution = true }
            [[jobnet.job]]
            number = 1
            command = "x"
            "#;
        let mut e = engine_with(&defs, at(ME_T0));
        let (_, d) = raise(&mut e, at(ME_T0), "EV1");
        assert_eq!(d.starts.len(), 2);
        let mut running: Vec<JobStart> = d.starts;
        let mut counted_while_running = Vec::new();
        for m in 1..=3 {
            let (c, d) = raise(&mut e, at(ME_T0) + Duration::minutes(m), "EV1");
            assert!(d.starts.is_empty());
            counted_while_running.push(c);
        }
        assert!(counted_while_running.iter().all(|c| c == &["P/VALID".to_string()]));
        // End runs one at a time: VALID runs 3 more times, never two at once.
        let mut t = at(ME_T0) + Duration::minutes(10);
        while let Some(s) = running.pop() {
            e.handle_job_ended(t, s.job, s.attempt, ExitCode::from_command(0));
            let d = drain(&mut e);
            assert!(d.starts.len() <= 1);
            running.extend(d.starts);
            t += Duration::minutes(1);
        }
        assert_eq!(e.jobnet(&JobnetKey::new("P", "VALID")).unwrap().run, 4);
        assert_eq!(e.jobnet(&JobnetKey::new("P", "PLAIN")).unwrap().run, 1);
    }

    // ME-013
    #[test]
    fn me_013_disabled_abended_or_cancelled_jobnets_do_not_recognize() {
        let defs = waiting_jobnet("P", "DIS", "") + &waiting_jobnet("P", "ABE", "") + &waiting_jobnet("P", "CAN", "");
        let mut e = engine_with(&defs, at(ME_T0));
        e.disable_jobnet(at(ME_T0), &JobnetKey::new("P", "DIS")).unwrap();
        let (counted, d) = raise(&mut e, at(ME_T0), "EV1");
        assert_eq!(counted, ["P/ABE", "P/CAN"]);
        for s in d.starts {
            if s.jobnet.jobnet.as_ref() == "ABE" {
                e.handle_job_ended(at(ME_T0), s.job, s.attempt, ExitCode::from_command(1));
            }
        }
        e.cancel_jobnet(at(ME_T0), &JobnetKey::new("P", "CAN")).unwrap();
        drain(&mut e);
        assert_eq!(e.jobnet(&JobnetKey::new("P", "ABE")).unwrap().status, JobnetStatus::Abended);
        assert_eq!(e.jobnet(&JobnetKey::new("P", "CAN")).unwrap().status, JobnetStatus::Cancelled);
        let (counted, _) = raise(&mut e, at("2026-04-01T09:10:00+09:00"), "EV1");
        assert!(counted.is_empty());
    }

    // ME-014
    #[test]
    fn me_014_valid_only_on_startup_days() {
        let defs = r#"
            [[jobnet]]
            project = "P"
            name = "ONLY"
            comment = "Only"
            start = { message_only = {} }
            messages = { events = ["EV1"], valid_only_on_startup_days = true }
            startup_days = { monthly_dates = [10] }
            [[jobnet.job]]
            number = 1
            command = "x"
            [[jobnet]]
            project = "P"
            name = "ANY"
            comment = "Any"
            start = { message_only = {} }
            messages = { events = ["EV1"] }
            startup_days = { monthly_dates = [10] }
            [[jobnet.job]]
            number = 1
            command = "x"
        "#;
        let mut e = engine_with(defs, at(ME_T0));
        let (counted, _) = raise(&mut e, at(ME_T0), "EV1");
        assert_eq!(counted, ["P/ANY"]);
    }

    // ME-015
    #[test]
    fn me_015_once_a_day_until_cancel_completion() {
        let mut e = engine_with(&waiting_jobnet("P", "ONCE", "once_a_day = true"), at(ME_T0));
        let key = JobnetKey::new("P", "ONCE");
        let (_, d) = raise(&mut e, at(ME_T0), "EV1");
        let s = &d.starts[0];
        e.handle_job_ended(at("2026-04-01T09:05:00+09:00"), s.job, s.attempt, ExitCode::from_command(0));
        drain(&mut e);
        let (counted, _) = raise(&mut e, at("2026-04-01T10:00:00+09:00"), "EV1");
        assert!(counted.is_empty());
        e.cancel_completion(at("2026-04-01T10:01:00+09:00"), &key).unwrap();
        drain(&mut e);
        let (counted, d) = raise(&mut e, at("2026-04-01T10:02:00+09:00"), "EV1");
        assert_eq!((counted, d.starts.len()), (vec!["P/ONCE".to_string()], 1));
    }

    // ME-016
    #[test]
    fn me_016_no_vparam_substitutes_the_empty_string() {
        let empty = BTreeMap::new();
        let vars = Variables { vparam: None, jobnet: &empty, definition: &empty };
        assert_eq!(vars.substitute(r#"echo "@.VPARAM@""#).unwrap(), r#"echo """#);
    }

    // ME-246 ME-245
    // ME-017
    #[test]
    fn me_017_substituted_vparam_too_long_246_or_forbidden_245() {
        let empty = BTreeMap::new();
        let v = "a".repeat(200);
        let vars = Variables { vparam: Some(&v), jobnet: &empty, definition: &empty };
        let cmd = format!("{} @.VPARAM@", "x".repeat(900));
        let err = vars.substitute_field(JobField::Command, &cmd).unwrap_err();
        assert_eq!((err.exit_code(), err.exit()), (246, ExitCode::scheduler(246)));
        let ok = format!("{} @.VPARAM@", "x".repeat(823));
        assert_eq!(vars.substitute_field(JobField::Command, &ok).map(|s| s.len()), Ok(1024));
        let vars = Variables { vparam: Some("a b"), jobnet: &empty, definition: &empty };
        assert_eq!(vars.substitute_field(JobField::ExecUser, "@.VPARAM@").unwrap_err().exit_code(), 245);
        let mut job = JobDef::command(1, "run.sh");
        job.exec_user = Some("@.VPARAM@".into());
        assert_eq!(vars.substitute_job(&job).unwrap_err().exit_code(), 245);
    }

    // ME-018
    #[test]
    fn me_018_unknown_project_0416_unknown_jobnet_0103() {
        let cat = {
            let mut c = Catalog::new();
            c.add_text("t.toml", &waiting_jobnet("PRJA", "NETA", ""));
            c
        };
        let env = cat.compile().unwrap();
        let err = |l: &str| Err(Failure { exit_code: 21, lines: vec![l.to_string()] });
        assert_eq!(me("EV1:NOPRJ").check_target(&env), err("MpJobsch: ERROR: 0416: The project is not found."));
        assert_eq!(me("EV1:PRJA/NONET").check_target(&env), err("MpJobsch: ERROR: 0103: The job net is not found."));
        assert_eq!(me("EV1:PRJA/NETA").check_target(&env), Ok(()));
        assert_eq!(me("EV1:PRJA").check_target(&env), Ok(()));
        assert_eq!(me("EV1").check_target(&env), Ok(()));
        assert_eq!(
            messages::project_unavailable("P1"),
            "MpJobsch: ERROR: 0175: P1 The project does not exist, or data or access rights are insufficient."
        );
    }

    // ME-019
    #[test]
    fn me_019_vparam_event_to_a_paused_jobnet_is_0435() {
        let mut e = engine_with(&waiting_jobnet("PRJA", "NETA", ""), at(ME_T0));
        e.pause_jobnet(at(ME_T0), &JobnetKey::new("PRJA", "NETA")).unwrap();
        drain(&mut e);
        let (counted, d) = raise(&mut e, at(ME_T0), "EV1:PRJA/NETA -p X");
        assert!(counted.is_empty());
        let f = MsgEventArgs::finish(&d.logs, true);
        assert_eq!(f.exit_code, 0);
        assert_eq!(
            f.messages,
            [
                "MpJobsch: ERROR: 0435: PRJA NETA EV1 The message event with specified variable parameters has been ignored."
            ]
        );
    }

    #[test]
    fn me_parse_target_forms_and_compatibility_options() {
        let no_event =
            Err(Failure { exit_code: 21, lines: vec![messages::event_name_missing(), messages::usage_msgevent()] });
        assert_eq!(MsgEventArgs::parse(&[]), no_event);
        assert_eq!(MsgEventArgs::parse(&words(":PRJ")), no_event);
        assert_eq!(MsgEventArgs::parse(&words("-p X")), no_event);
        for bad in ["EV1:", "EV1:PRJ/", "EV1:/NET", "EV1 text", "EV1 -q", "EV1 -p", "EV1 -t:DEBUG", "EV1 -sys 10"] {
            assert!(me_refused(&words(bad)), "{bad}");
        }
        assert_eq!(
            MsgEventArgs::parse(&words("EV1:PRJ/a:b")),
            Err(Failure { exit_code: 21, lines: vec!["MpJobsch: ERROR: 0104: The job net name is incorrect.".into()] })
        );
        let long = "p".repeat(51);
        assert_eq!(
            MsgEventArgs::parse(&list(&[&format!("EV1:{long}")])),
            Err(Failure {
                exit_code: 21,
                lines: vec![format!("MpJobsch: ERROR: 0182: {long} project name is too long.")]
            })
        );
        assert_eq!(
            MsgEventArgs::parse(&words("EV1:#PRJ")),
            Err(Failure { exit_code: 21, lines: vec!["MpJobsch: ERROR: 0302: Invalid project name.".into()] })
        );
        let a = me("EV1:PRJ/NET hello -t:WARN -h localhost -sys all -p v -c s1");
        assert_eq!(a.message_text.as_deref(), Some("hello"));
        assert_eq!((a.level, a.subsystem), (Some(EventLevel::Warn), Some(Subsystem::All)));
        assert_eq!(a.check_host(&[]), Ok(()));
        assert!(me("EV1 -h OTHER").check_host(&["myhost"]).is_err());
        assert_eq!(me("EV1 -h MyHost").check_host(&["myhost"]), Ok(()));
        assert!(
            messages::usage_msgevent()
                .starts_with("MpJobsch: ERROR: 0323: Usage: jobschmsgevent event_name[:project_name")
        );
        // A failed history write appends 0524 and keeps exit 0.
        let f = MsgEventArgs::finish(&["unrelated".into()], false);
        assert_eq!((f.exit_code, f.messages), (0, vec![messages::occurrence_history_write_failed()]));
    }

    // ----- dispatch ---------------------------------------------------------

    #[test]
    fn builtin_dispatch_by_exact_name() {
        for (name, kind) in [
            ("jobschmsgevent", JobKind::MessageEventRaise),
            ("jobschchkmsgevt", JobKind::MessageEventWait),
            ("jobschchecktime", JobKind::TimeWait),
            ("jobschsleep", JobKind::Sleep),
            ("jobschchknetvar", JobKind::JobnetVariableDecision),
        ] {
            assert_eq!(kind_of(name), Some(kind));
            assert_eq!(command_name(kind), Some(name));
        }
        assert_eq!(Builtin::parse("jobschcknetvar", &words("P.X")), None);
        assert_eq!(Builtin::parse("ls", &[]), None);
        let b = Builtin::parse_words(&words("jobschsleep 5")).unwrap().unwrap();
        assert_eq!((b.name(), b.kind()), ("jobschsleep", JobKind::Sleep));
        assert!(Builtin::parse_words(&words("jobschchknetvar")).unwrap().is_err());
    }

    // ----- jobnet variables -------------------------------------------------

    #[test]
    fn capture_prefixes_names_and_skips_plain_lines() {
        let out = "COUNT=12\r\nplain text\nA=b=c\n  Content-Type: text/plain; charset=utf-8\nCOUNT=13\nEMPTY=\n=x\n";
        let vars = capture_variables(out, "A", &BTreeMap::new()).unwrap();
        assert_eq!(vars, store(&[("A.COUNT", "13"), ("A.A", "b=c"), ("A.EMPTY", "")]));
        assert_eq!(parse_variable_line("CT_WTIME=1000"), Some(("CT_WTIME", "1000")));
        assert_eq!(parse_variable_line("a b=c"), None);
    }

    #[test]
    fn capture_limits_245_246_247() {
        let none = BTreeMap::new();
        let name_ok = format!("{}=1", "N".repeat(62));
        assert!(capture_variables(&name_ok, "P", &none).is_ok());
        let name_long = format!("{}=1", "N".repeat(63));
        assert_eq!(capture_variables(&name_long, "P", &none).unwrap_err().exit_code(), 246);
        let line_long = format!("V={}", "v".repeat(VARIABLE_LINE_MAX - 1));
        assert_eq!(capture_variables(&line_long, "P", &none).unwrap_err().exit_code(), 246);
        assert!(capture_variables(&format!("V={}", "v".repeat(VARIABLE_LINE_MAX - 2)), "P", &none).is_ok());
        assert_eq!(capture_variables("V=aｱ", "P", &none).unwrap_err().exit_code(), 245);
        assert_eq!(capture_variables("V=a\u{7}", "P", &none).unwrap_err().exit_code(), 245);
        assert!(capture_variables("V=a\tb", "P", &none).is_ok());
        assert_eq!(capture_variables("V=1", "", &none).unwrap_err().exit_code(), 247);
        assert_eq!(capture_variables("V=1", "A.B", &none).unwrap_err().exit_code(), 247);
    }

    // XC-246
    // XC-009
    #[test]
    fn xc_009_the_641st_jobnet_variable_is_246() {
        let existing: BTreeMap<String, String> = (0..640).map(|i| (format!("P.V{i}"), i.to_string())).collect();
        let err = capture_variables("NEW=1", "P", &existing).unwrap_err();
        assert_eq!((err.exit_code(), err), (246, VariableError::TooMany { count: 641 }));
        // Overwriting an existing variable does not add one.
        assert_eq!(capture_variables("V7=x", "P", &existing).unwrap(), store(&[("P.V7", "x")]));
    }

    #[test]
    fn substitution_order_and_no_rescanning() {
        let jobnet = store(&[("A.COUNT", "12"), ("A.REF", "@DIR@"), ("A.V", "@.VPARAM@")]);
        let definition = store(&[("DIR", "/data"), ("X", "@A.COUNT@")]);
        let vars = Variables { vparam: Some("@A.COUNT@"), jobnet: &jobnet, definition: &definition };
        // MODEL-117 / MODEL-118.
        assert_eq!(vars.substitute("ls @DIR@ && proc @A.COUNT@").unwrap(), "ls /data && proc 12");
        // Values inserted by an earlier pass are never scanned again.
        assert_eq!(vars.substitute("@.VPARAM@").unwrap(), "@A.COUNT@");
        assert_eq!(vars.substitute("@A.REF@ @A.V@").unwrap(), "@DIR@ @.VPARAM@");
        assert_eq!(vars.substitute("@X@").unwrap(), "@A.COUNT@");
        // Pass order: @.VPARAM@ is found first even when an @NAME@ could start earlier.
        assert_eq!(vars.substitute("@DIR@.VPARAM@").unwrap(), "@DIR@A.COUNT@");
        // Undefined @NAME@ stays; a stray @ does not hide the next token.
        assert_eq!(vars.substitute("@NOPE@ mail a@b @A.COUNT@").unwrap(), "@NOPE@ mail a@b 12");
        // MODEL-120: an undefined jobnet variable is 247.
        let err = vars.substitute("proc @A.MISSING@").unwrap_err();
        assert_eq!((err.exit_code(), err), (247, VariableError::Undefined { name: "A.MISSING".into() }));
    }

    #[test]
    fn substitute_job_fills_every_field() {
        let jobnet = store(&[("A.DAY", "20260401")]);
        let definition = store(&[("DIR", "/data"), ("USER", "batch")]);
        let vars = Variables { vparam: Some("v1"), jobnet: &jobnet, definition: &definition };
        let mut job = JobDef::command(1, "run.sh @.VPARAM@");
        job.params = Some("--day @A.DAY@".into());
        job.directory = Some("@DIR@/work".into());
        job.comment = Some("Run @.VPARAM@".into());
        job.stdout_file = Some("@DIR@/out".into());
        job.stderr_file = Some("@DIR@/err".into());
        job.exec_user = Some("@USER@".into());
        job.env.insert("DAY".into(), "@A.DAY@".into());
        let out = vars.substitute_job(&job).unwrap();
        assert_eq!(out.command, "run.sh v1");
        assert_eq!(out.params.as_deref(), Some("--day 20260401"));
        assert_eq!(out.directory.as_deref(), Some("/data/work"));
        assert_eq!(out.comment.as_deref(), Some("Run v1"));
        assert_eq!((out.stdout_file.as_deref(), out.stderr_file.as_deref()), (Some("/data/out"), Some("/data/err")));
        assert_eq!(out.exec_user.as_deref(), Some("batch"));
        assert_eq!(out.env.get("DAY").map(String::as_str), Some("20260401"));
        // A field without substitutions is left as written, whatever its length.
        let long = "x".repeat(2000);
        assert_eq!(vars.substitute_field(JobField::Command, &long).unwrap(), long);
        // A job-definition variable with a newline is forbidden in a command.
        let definition = store(&[("NL", "a\nb")]);
        let vars = Variables { vparam: None, jobnet: &jobnet, definition: &definition };
        assert_eq!(vars.substitute_field(JobField::Command, "echo @NL@").unwrap_err().exit_code(), 245);
    }
}
