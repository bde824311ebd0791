//! Message events (spec 01 §3.10): raising with a scope, per-jobnet
//! occurrence counts (capped at 255, D5), AND / OR waits, "valid during
//! execution", the variable parameter and copy start, clearing.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Engine, EventKind, Instance, JobnetStatus, Refusal};
use crate::defs::JobnetKey;
use crate::messages::{self, Level};
use crate::model::{JobnetDef, StartCondition, WaitMode};
use crate::text::{self, limits};

/// A message event to raise (`jobschmsgevent`, `POST /v1/msgevent`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RaiseRequest<'a> {
    /// Event name (1–12 bytes).
    pub event: &'a str,
    /// Only jobnets of this project.
    pub project: Option<&'a str>,
    /// Only this jobnet (requires `project`).
    pub jobnet: Option<&'a str>,
    /// Variable parameter (≤ 200 bytes).
    pub vparam: Option<&'a str>,
    /// Copy-start suffix (only with `vparam`).
    pub suffix: Option<&'a str>,
}

/// What one jobnet did with a raised event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reception {
    /// The jobnet.
    pub jobnet: JobnetKey,
    /// Whether the occurrence was counted.
    pub counted: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The awaited events of a jobnet and their counts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EventCount {
    /// Event name.
    pub event: String,
    /// Accumulated, not yet consumed occurrences.
    pub count: u16,
    /// Last occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_raised: Option<DateTime<Utc>>,
}

/// Check a variable parameter: ≤ 200 legacy bytes, no half-width katakana,
/// user-defined or control characters.
pub fn check_vparam(v: &str) -> Result<(), String> {
    if text::legacy_len(v) > limits::VPARAM {
        return Err(format!("is {} bytes; at most {} allowed", text::legacy_len(v), limits::VPARAM));
    }
    if let Some(c) = v.chars().find(|&c| text::is_halfwidth_katakana(c) || text::is_user_defined(c) || c.is_control()) {
        return Err(format!("must not contain {c:?}"));
    }
    Ok(())
}

fn invalid(field: &'static str, message: String) -> Refusal {
    Refusal::Invalid { field, message }
}

impl Engine {
    /// Raise a message event. Every top-level jobnet in scope that awaits the
    /// event counts it (or records why not); jobnets whose condition is then
    /// satisfied start. Refused (nothing changes) only for invalid input.
    pub fn raise_event(&mut self, now: DateTime<Utc>, req: &RaiseRequest<'_>) -> Result<Vec<Reception>, Refusal> {
        self.now = now;
        let out = self.raise_inner(req)?;
        self.settle();
        Ok(out)
    }

    /// [`Engine::raise_event`] without settling (also used by `jobschmsgevent` jobs).
    pub(super) fn raise_inner(&mut self, req: &RaiseRequest<'_>) -> Result<Vec<Reception>, Refusal> {
        text::check_event_name(req.event).map_err(|m| invalid("event", format!("event name {:?} {m}", req.event)))?;
        if req.jobnet.is_some() && req.project.is_none() {
            return Err(invalid("jobnet", "a jobnet can only be named together with its project".into()));
        }
        if let Some(p) = req.project {
            text::check_project_name(p).map_err(|m| invalid("project", format!("project name {p:?} {m}")))?;
        }
        if let Some(n) = req.jobnet {
            text::check_jobnet_name(n).map_err(|m| invalid("jobnet", format!("jobnet name {n:?} {m}")))?;
        }
        if let Some(v) = req.vparam {
            check_vparam(v).map_err(|m| invalid("vparam", format!("variable parameter {m}")))?;
        }
        // A suffix without a variable parameter is ignored (spec 01 §3.10.6).
        let suffix = match (req.suffix, req.vparam) {
            (Some(s), Some(_)) => {
                text::check_copy_suffix(s).map_err(|m| invalid("suffix", format!("suffix {s:?} {m}")))?;
                Some(s)
            }
            _ => None,
        };
        let targets: Vec<(u32, usize)> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, inst)| Self::is_original(inst))
            .filter(|(_, inst)| req.project.is_none_or(|p| &*inst.key.project == p))
            .filter(|(_, inst)| req.jobnet.is_none_or(|n| &*inst.key.jobnet == n))
            .filter_map(|(i, inst)| {
                let m = inst.def.messages.as_ref()?;
                m.events.iter().position(|e| e == req.event).map(|ev| (i as u32, ev))
            })
            .collect();
        let mut out = Vec::with_capacity(targets.len());
        for (i, ev) in targets {
            out.push(self.receive(i, ev, req.event, req.vparam, suffix));
        }
        self.remember_occurrence(req);
        Ok(out)
    }

    /// Reset the occurrence counts of the jobnets in scope (`POST /v1/msgclear`).
    /// A jobnet name alone must belong to exactly one project. A paused jobnet
    /// whose start condition was already satisfied is not reset.
    pub fn clear_events(
        &mut self,
        now: DateTime<Utc>,
        project: Option<&str>,
        jobnet: Option<&str>,
    ) -> Result<Vec<JobnetKey>, Refusal> {
        self.now = now;
        if let (None, Some(n)) = (project, jobnet) {
            let projects: std::collections::BTreeSet<&str> = self
                .instances
                .iter()
                .filter(|i| Self::is_original(i) && &*i.key.jobnet == n)
                .map(|i| &*i.key.project)
                .collect();
            if projects.len() != 1 {
                return Err(Refusal::Ambiguous(format!(
                    "jobnet {n} exists in {} projects; name the project",
                    projects.len()
                )));
            }
        }
        let targets: Vec<u32> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, i)| Self::is_original(i) && !i.counts.is_empty())
            .filter(|(_, i)| project.is_none_or(|p| &*i.key.project == p))
            .filter(|(_, i)| jobnet.is_none_or(|n| &*i.key.jobnet == n))
            .filter(|(_, i)| !(i.status == JobnetStatus::Paused && i.pause_trigger))
            .map(|(i, _)| i as u32)
            .collect();
        let mut cleared = Vec::new();
        for i in targets {
            let inst = &mut self.instances[i as usize];
            inst.counts.iter_mut().for_each(|c| *c = 0);
            let key = inst.key.clone();
            self.record(EventKind::MessageCountsCleared { jobnet: key.clone() });
            cleared.push(key);
        }
        Ok(cleared)
    }

    /// The awaited events of a jobnet with their counts.
    pub fn event_counts(&self, key: &JobnetKey) -> Vec<EventCount> {
        let Some(&i) = self.by_key.get(key) else { return Vec::new() };
        let inst = &self.instances[i as usize];
        let Some(m) = &inst.def.messages else { return Vec::new() };
        m.events
            .iter()
            .zip(&inst.counts)
            .zip(&inst.last_raised)
            .map(|((e, c), l)| EventCount { event: e.clone(), count: *c, last_raised: *l })
            .collect()
    }

    /// A jobnet defined as itself (not a linked jobnet, not a copy).
    fn is_original(inst: &Instance) -> bool {
        inst.copy_of.is_none() && *inst.key.jobnet == *inst.def.name
    }

    fn receive(&mut self, i: u32, ev: usize, event: &str, vparam: Option<&str>, suffix: Option<&str>) -> Reception {
        let inst = &self.instances[i as usize];
        let key = inst.key.clone();
        let Some(m) = inst.def.messages.clone() else {
            return Reception { jobnet: key, counted: false, reason: Some("awaits no message event".into()) };
        };
        let running = inst.status.is_running();
        // An event with a variable parameter is ignored entirely by a paused
        // jobnet, or one that is valid during execution and running (0435).
        if vparam.is_some() && (inst.status == JobnetStatus::Paused || (m.valid_during_execution && running)) {
            let text = messages::vparam_event_ignored(&key.project, &key.jobnet, event);
            self.log(i, Level::Error, text);
            return self.not_counted(i, event, "event with a variable parameter ignored (0435)");
        }
        let once_a_day = matches!(&inst.def.start, StartCondition::MessageOnly(mo) if mo.once_a_day);
        let reason = match inst.status {
            JobnetStatus::Disabled | JobnetStatus::Abended | JobnetStatus::Cancelled => {
                Some(format!("jobnet is {}", inst.status))
            }
            _ if running && !m.valid_during_execution => Some(format!("jobnet is {}", inst.status)),
            _ if m.valid_only_on_startup_days && !inst.startup_day => Some("not a startup day".to_string()),
            _ if once_a_day && inst.started_on.is_some() && inst.started_on == inst.day => {
                Some("once a day: already started today".to_string())
            }
            _ if inst.counts[ev] >= limits::EVENT_COUNT => Some("count is already 255".to_string()),
            _ => None,
        };
        if let Some(reason) = reason {
            if inst.counts[ev] >= limits::EVENT_COUNT {
                let text = messages::event_count_full(&key.project, &key.jobnet, event);
                self.log(i, Level::Warning, text);
            }
            return self.not_counted(i, event, &reason);
        }
        let message_only = matches!(inst.def.start, StartCondition::MessageOnly(_));
        let accepts_vparam = message_only && (m.events.len() == 1 || m.mode == WaitMode::Or);
        let vparam = match vparam {
            Some(_) if !accepts_vparam => {
                let text = messages::vparam_ignored(&key.project, &key.jobnet);
                self.log(i, Level::Warning, text);
                None
            }
            v => v,
        };
        if let (Some(v), Some(s)) = (vparam, suffix) {
            self.copy_start(i, v, s);
            return Reception { jobnet: key, counted: false, reason: Some(format!("copy start with suffix {s}")) };
        }
        let queued_before = Self::queued_runs_of(&self.instances[i as usize]);
        let inst = &mut self.instances[i as usize];
        inst.counts[ev] += 1;
        inst.last_raised[ev] = Some(self.now);
        let count = inst.counts[ev];
        self.record(EventKind::MessageEvent {
            jobnet: key.clone(),
            event: event.into(),
            counted: true,
            count,
            reason: None,
        });
        self.try_message_start(i, vparam.map(Arc::from));
        let queued = Self::queued_runs_of(&self.instances[i as usize]);
        if queued > queued_before {
            self.record(EventKind::RunQueued { jobnet: key.clone(), event: event.into(), queued });
        }
        Reception { jobnet: key, counted: true, reason: None }
    }

    /// Runs queued behind a running jobnet that is valid during execution:
    /// each start uses one occurrence of every event (AND) or of one event
    /// (OR), so AND queues as many runs as its smallest count and OR as many
    /// as all its counts. Nothing is queued while the jobnet is not running:
    /// a satisfied condition starts it at once.
    pub(super) fn queued_runs_of(inst: &Instance) -> u32 {
        let Some(m) = &inst.def.messages else { return 0 };
        if !m.valid_during_execution || !inst.status.is_running() || inst.counts.is_empty() {
            return 0;
        }
        match m.mode {
            WaitMode::And => inst.counts.iter().map(|c| u32::from(*c)).min().unwrap_or(0),
            WaitMode::Or => inst.counts.iter().map(|c| u32::from(*c)).sum(),
        }
    }

    /// Delete one run queued behind the running jobnet `key` before it
    /// starts (spec 04 §3.8.5): the occurrences it would have used are
    /// consumed, so the jobnet does not run for them. `queued` names the
    /// run by the sequence number of its [`EventKind::RunQueued`] record
    /// (kept in the journal record; 0 when not known). Refused when no run
    /// is queued, or when `expected` is given and that many runs are not
    /// queued (the caller's view is stale: a run started or was queued since).
    pub fn delete_queued_run(
        &mut self,
        now: DateTime<Utc>,
        key: &JobnetKey,
        queued: u64,
        expected: Option<u32>,
    ) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let n = Self::queued_runs_of(&self.instances[i as usize]);
        let refuse = |reason: String| Refusal::Refused { op: "delete_queued_run", target: key.to_string(), reason };
        if n == 0 {
            return Err(refuse("no run is queued".into()));
        }
        if let Some(e) = expected.filter(|e| *e != n) {
            return Err(refuse(format!("{n} runs are queued, not {e}")));
        }
        self.consume_counts(i, false);
        let counts = self.instances[i as usize].counts.clone();
        self.record(EventKind::QueuedRunDeleted { jobnet: key.clone(), queued, counts });
        Ok(())
    }

    fn not_counted(&mut self, i: u32, event: &str, reason: &str) -> Reception {
        let inst = &self.instances[i as usize];
        let ev = inst.def.messages.as_ref().and_then(|m| m.events.iter().position(|e| e == event));
        let count = ev.map_or(0, |e| inst.counts[e]);
        let key = inst.key.clone();
        self.record(EventKind::MessageEvent {
            jobnet: key.clone(),
            event: event.into(),
            counted: false,
            count,
            reason: Some(reason.into()),
        });
        Reception { jobnet: key, counted: false, reason: Some(reason.into()) }
    }

    /// Whether the message condition of a jobnet is satisfied.
    pub(super) fn messages_satisfied(inst: &Instance) -> bool {
        let Some(m) = &inst.def.messages else { return false };
        match m.mode {
            WaitMode::And => !inst.counts.is_empty() && inst.counts.iter().all(|c| *c >= 1),
            WaitMode::Or => inst.counts.iter().any(|c| *c >= 1),
        }
    }

    /// Start the jobnet if its message condition (and, for and-time jobnets,
    /// its start time) is satisfied and its status allows it.
    pub(super) fn try_message_start(&mut self, i: u32, vparam: Option<Arc<str>>) {
        let inst = &self.instances[i as usize];
        if !Self::messages_satisfied(inst) {
            return;
        }
        let and_time = Self::is_and_time(inst);
        if and_time && !inst.time_reached {
            return;
        }
        match inst.status {
            JobnetStatus::Waiting
            | JobnetStatus::Completed
            | JobnetStatus::PseudoNormal
            | JobnetStatus::Confirmed
            | JobnetStatus::CarryOverReleased => {
                self.consume_counts(i, and_time);
                let inst = &mut self.instances[i as usize];
                inst.time_reached = false;
                inst.started_on = inst.day;
                inst.run_day = inst.day;
                self.run_instance(i, vparam);
            }
            JobnetStatus::Paused => self.instances[i as usize].pause_trigger = true,
            _ => {}
        }
    }

    /// Consume the occurrences a start uses: and-time clears all counts; AND
    /// takes one of each; OR takes one of the first event that has any.
    fn consume_counts(&mut self, i: u32, clear_all: bool) {
        let inst = &mut self.instances[i as usize];
        let mode = inst.def.messages.as_ref().map_or(WaitMode::And, |m| m.mode);
        if clear_all {
            inst.counts.iter_mut().for_each(|c| *c = 0);
        } else if mode == WaitMode::And {
            inst.counts.iter_mut().for_each(|c| *c = c.saturating_sub(1));
        } else if let Some(c) = inst.counts.iter_mut().find(|c| **c >= 1) {
            *c -= 1;
        }
    }

    /// Copy start (spec 01 §3.10.6): copy jobnet `i` (and its lower levels)
    /// to `<name>_<suffix>` and start the copy with `vparam`, or log 0431.
    fn copy_start(&mut self, i: u32, vparam: &str, suffix: &str) {
        let src = self.instances[i as usize].def.clone();
        let copy_name = format!("{}_{suffix}", src.name);
        match self.make_copy(i, &src, suffix) {
            Ok(c) => {
                let (jobnet, source) = (self.instances[c as usize].key.clone(), self.instances[i as usize].key.clone());
                self.record(EventKind::CopyCreated { jobnet, source, suffix: suffix.to_string() });
                self.run_instance(c, Some(Arc::from(vparam)));
            }
            Err(()) => {
                let text = messages::copy_start_failed(&src.project, &copy_name);
                self.log(i, Level::Error, text);
            }
        }
    }

    /// Create or overwrite the copy of `def` (run under instance `src_i`) with `suffix`.
    pub(super) fn make_copy(&mut self, src_i: u32, def: &Arc<JobnetDef>, suffix: &str) -> Result<u32, ()> {
        let name = format!("{}_{suffix}", self.instances[src_i as usize].key.jobnet);
        let comment = format!("{}_{suffix}", def.comment);
        if text::legacy_len(&name) > limits::JOBNET_NAME || text::legacy_len(&comment) > limits::JOBNET_COMMENT {
            return Err(());
        }
        let key = JobnetKey::new(&def.project, &name);
        if let Some(&c) = self.by_key.get(&key) {
            let old = &self.instances[c as usize];
            let blocked = old.copy_of.is_none()
                || old.status.is_running()
                || matches!(old.status, JobnetStatus::Abended | JobnetStatus::Cancelled);
            if blocked {
                return Err(());
            }
        }
        // Lower levels first: their copies carry the same suffix.
        let mut copied = (**def).clone();
        copied.name = name.clone();
        copied.comment = comment;
        let src_key = self.instances[src_i as usize].key.clone();
        for j in copied.jobs.iter_mut().filter(|j| j.is_jobnet_icon()) {
            let Some(target) = j.jobnet.clone() else { continue };
            // The jobnet the icon runs in the source's flow (inside a linked
            // jobnet, the generated copy `{L}_{C}`), copied with the suffix.
            let child_key = self.env.child_key(&src_key, &target);
            let Some(&ci) = self.by_key.get(&child_key) else { return Err(()) };
            let child_def = self.instances[ci as usize].def.clone();
            self.make_copy(ci, &child_def, suffix)?;
            j.jobnet = Some(format!("{}_{suffix}", child_key.jobnet));
            if j.kind == crate::model::JobKind::LinkedJobnet {
                // The copy runs the master's flow directly under the new name.
                j.kind = crate::model::JobKind::ChildJobnet;
                j.master = None;
            }
        }
        let flow = self.instances[src_i as usize].flow.clone();
        let mut inst = Instance::new(key.clone(), Arc::new(copied), flow);
        inst.copy_of = Some(src_i);
        inst.day = self.instances[src_i as usize].day;
        match self.by_key.get(&key).copied() {
            Some(c) => {
                inst.run = self.instances[c as usize].run;
                self.instances[c as usize] = inst;
                Ok(c)
            }
            None => {
                let c = self.instances.len() as u32;
                self.instances.push(inst);
                self.by_key.insert(key, c);
                Ok(c)
            }
        }
    }
}
