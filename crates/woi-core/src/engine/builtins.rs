//! Built-in jobs run inside the engine (spec 02): `jobschmsgevent`,
//! `jobschchkmsgevt`, `jobschchecktime`, `jobschsleep`, `jobschchknetvar`.
//! No process is spawned and nothing blocks while they wait: a waiting
//! built-in job is a timer. Also: variable substitution at job start and the
//! capture of `NAME=VALUE` output lines as jobnet variables (spec 01 §3.11).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Effect, Engine, EventKind, JobId, JobStatus, TimerKind};
use crate::builtin::{self, Builtin, Finish, Step, TimeContext, VariableError, Variables};
use crate::calendar::day_change_of;
use crate::exit::ExitCode;
use crate::model::{JobDef, JobKind};

/// Message-event occurrences kept for message-event wait jobs.
pub(super) const OCCURRENCES_KEPT: usize = 10_000;

impl Engine {
    /// The words of a job's command line, split like a shell.
    fn command_words(def: &JobDef) -> Vec<String> {
        let line = match &def.params {
            Some(p) => format!("{} {p}", def.command),
            None => def.command.clone(),
        };
        shell_words::split(&line).unwrap_or_else(|_| line.split_whitespace().map(str::to_string).collect())
    }

    /// Whether a job is a built-in job: a built-in kind, or a command job
    /// whose program is one of the built-in command names.
    pub(super) fn is_builtin(&self, id: JobId) -> bool {
        let def = &self.instances[id.instance as usize].def.jobs[id.index as usize];
        builtin::command_name(def.kind).is_some()
            || (def.kind == JobKind::Command
                && def.command.split_whitespace().next().is_some_and(|w| builtin::kind_of(w).is_some()))
    }

    /// The instance that holds the jobnet variables of `i`'s hierarchy.
    pub(super) fn var_root(&self, mut i: u32) -> u32 {
        while let Some(p) = self.instances[i as usize].parent {
            i = p.instance;
        }
        i
    }

    /// The job's definition with variables substituted.
    pub(super) fn resolve_job(&self, id: JobId) -> Result<JobDef, VariableError> {
        let inst = &self.instances[id.instance as usize];
        let root = &self.instances[self.var_root(id.instance) as usize];
        let vars = Variables { vparam: inst.vparam.as_deref(), jobnet: &root.vars, definition: &self.env.variables };
        vars.substitute_job(&inst.def.jobs[id.index as usize])
    }

    /// Start a built-in job (already `Executing`).
    pub(super) fn run_builtin(&mut self, id: JobId, def: JobDef) {
        let mut words = Self::command_words(&def);
        if words.first().is_none_or(|w| builtin::kind_of(w).is_none())
            && let Some(name) = builtin::command_name(def.kind)
        {
            words.insert(0, name.to_string());
        }
        let parsed = match Builtin::parse_words(&words) {
            Some(Ok(b)) => b,
            Some(Err(f)) => return self.finish_builtin(id, f.into()),
            None => {
                let message = format!("not a built-in command: {}", def.command);
                return self.finish_builtin(
                    id,
                    Finish { exit_code: builtin::code::INVALID, output: vec![], messages: vec![message] },
                );
            }
        };
        if let Builtin::ChkMsgEvt(_) = &parsed
            && let Err(f) = builtin::ChkMsgEvtArgs::check_local(def.network)
        {
            return self.finish_builtin(id, f.into());
        }
        let started = self.now;
        if let Builtin::MsgEvent(args) = &parsed {
            let finish = self.raise_from_job(args);
            return self.finish_builtin(id, finish);
        }
        self.step_builtin(id, parsed, started);
    }

    /// Evaluate a waiting built-in job now: end it, or wait until its next instant.
    fn step_builtin(&mut self, id: JobId, parsed: Builtin, started: DateTime<Utc>) {
        let now = self.now;
        let step = match &parsed {
            Builtin::Sleep(a) => a.step(started, now),
            Builtin::CheckTime(a) => match self.time_context(id) {
                Some(ctx) => a.step(&ctx, started, now).unwrap_or_else(|f| Step::Done(f.into())),
                None => Step::Done(builtin::Failure::day_change_unavailable().into()),
            },
            Builtin::ChkNetVar(a) => {
                let root = self.var_root(id.instance);
                Step::Done(a.evaluate(&self.instances[root as usize].vars))
            }
            Builtin::ChkMsgEvt(a) => {
                let key = self.instances[id.instance as usize].key.clone();
                let history: Vec<_> = self.occurrences.iter().cloned().collect();
                a.step(&key, started, now, &history)
            }
            Builtin::MsgEvent(_) => Step::Done(Finish { exit_code: 0, output: vec![], messages: vec![] }),
        };
        match step {
            Step::Done(f) => self.finish_builtin(id, f),
            Step::Wait(at) => {
                let attempt = self.instances[id.instance as usize].jobs[id.index as usize].attempt;
                self.waiting.insert(id, (parsed, started));
                self.timers.insert((at.max(now), TimerKind::Builtin, id, attempt));
            }
        }
    }

    /// A waiting built-in job's timer fired.
    pub(super) fn builtin_wake(&mut self, id: JobId, attempt: u32) {
        let j = &self.instances[id.instance as usize].jobs[id.index as usize];
        if j.attempt != attempt || j.status != JobStatus::Executing {
            return;
        }
        if let Some((parsed, started)) = self.waiting.remove(&id) {
            self.step_builtin(id, parsed, started);
        }
    }

    /// The reference day of `jobschchecktime`: the scheduled operating day of
    /// the top-level run, or the day it started.
    fn time_context(&self, id: JobId) -> Option<TimeContext> {
        let root = &self.instances[self.var_root(id.instance) as usize];
        let started = root.started_at?;
        let dct = day_change_of(&self.env, &root.def);
        Some(TimeContext::for_run(self.env.tz, dct, root.run_day, started))
    }

    /// `jobschmsgevent`: raise the event through the engine and report.
    fn raise_from_job(&mut self, args: &builtin::MsgEventArgs) -> Finish {
        if let Err(f) = args.check_target(&self.env) {
            return f.into();
        }
        let first_new = self.effects.len();
        let req = args.raise_request();
        let result = self.raise_inner(&req);
        if let Err(e) = result {
            return Finish { exit_code: builtin::code::INVALID, output: vec![], messages: vec![e.to_string()] };
        }
        let logged: Vec<String> = self
            .effects
            .iter()
            .skip(first_new)
            .filter_map(|e| match e {
                Effect::Record(ev) => match &ev.kind {
                    EventKind::Log { message, .. } => Some(message.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        builtin::MsgEventArgs::finish(&logged, true)
    }

    /// The message-event occurrences kept for message-event wait jobs
    /// (the newest 10,000, oldest first), each with its sequence number and
    /// instant: what `jobschchkmsgevt` run outside a jobnet waits on.
    pub fn occurrences(&self) -> impl Iterator<Item = &builtin::Occurrence> + '_ {
        self.occurrences.iter()
    }

    /// Remember a raised occurrence for message-event wait jobs.
    pub(super) fn remember_occurrence(&mut self, req: &super::RaiseRequest<'_>) {
        self.occurrence_seq += 1;
        let occ = builtin::Occurrence::from_request(self.occurrence_seq, req, self.now);
        self.record(EventKind::MessageEventRaised { occurrence: occ.clone() });
        self.occurrences.push_back(occ);
        while self.occurrences.len() > OCCURRENCES_KEPT {
            self.occurrences.pop_front();
        }
        // Waiting jobs of concerned jobnets look again now (the interval grid
        // decides when they report).
        let due: Vec<JobId> =
            self.waiting.iter().filter(|(_, (b, _))| matches!(b, Builtin::ChkMsgEvt(_))).map(|(id, _)| *id).collect();
        for id in due {
            if let Some((parsed, started)) = self.waiting.remove(&id) {
                self.step_builtin(id, parsed, started);
            }
        }
    }

    fn finish_builtin(&mut self, id: JobId, finish: Finish) {
        self.waiting.remove(&id);
        let inst = &self.instances[id.instance as usize];
        let (jobnet, number, attempt) =
            (inst.key.clone(), inst.def.jobs[id.index as usize].number, inst.jobs[id.index as usize].attempt);
        for m in &finish.messages {
            self.job_message(id, m.clone());
        }
        let output = finish.stdout();
        if !output.is_empty() {
            self.record(EventKind::JobOutput { jobnet, job: number, attempt, output: output.clone() });
        }
        let code = self.capture(id, &output).unwrap_or(finish.exit());
        self.end_job(id, code);
    }

    /// Capture `NAME=VALUE` lines of a job that uses jobnet variables. `Some`
    /// holds the scheduler code the job ends with instead when capture fails.
    fn capture(&mut self, id: JobId, output: &str) -> Option<ExitCode> {
        let def = &self.instances[id.instance as usize].def.jobs[id.index as usize];
        if !def.use_jobnet_variables {
            return None;
        }
        let prefix = def.netvar_prefix.clone().unwrap_or_default();
        let root = self.var_root(id.instance);
        match builtin::capture_variables(output, &prefix, &self.instances[root as usize].vars) {
            Ok(captured) if captured.is_empty() => None,
            Ok(captured) => {
                let inst = &mut self.instances[root as usize];
                inst.vars.extend(captured);
                let (jobnet, variables) = (inst.key.clone(), inst.vars.clone());
                self.record(EventKind::JobnetVariables { jobnet, variables });
                None
            }
            Err(e) => {
                self.job_message(id, e.to_string());
                Some(e.exit())
            }
        }
    }

    /// A job started by [`super::Effect::StartJob`] ended, with its output:
    /// `NAME=VALUE` lines become jobnet variables when the job uses them (a
    /// capture error ends the job with 245–247 instead). Reports for another
    /// attempt, or for a job the engine already ended, are ignored.
    pub fn handle_job_result(&mut self, now: DateTime<Utc>, id: JobId, attempt: u32, code: ExitCode, output: &str) {
        self.now = now;
        let Some(j) = self.instances.get(id.instance as usize).and_then(|i| i.jobs.get(id.index as usize)) else {
            return;
        };
        if j.attempt != attempt || j.status != JobStatus::Executing {
            return;
        }
        let code = self.capture(id, output).unwrap_or(code);
        self.end_job(id, code);
        self.settle();
    }

    /// The jobnet variables of a jobnet's current run (of its hierarchy).
    pub fn jobnet_variables(&self, key: &crate::defs::JobnetKey) -> BTreeMap<String, String> {
        self.by_key.get(key).map(|&i| self.instances[self.var_root(i) as usize].vars.clone()).unwrap_or_default()
    }

    /// Set the jobnet variables while replaying the journal.
    pub(super) fn restore_variables(&mut self, i: u32, variables: &BTreeMap<String, String>) {
        self.instances[i as usize].vars = variables.clone();
    }
}
