//! Rebuilding the engine from its journal after a restart or a crash.
//!
//! The journal (every [`Event`] the engine recorded) is the source of truth.
//! [`Engine::restore`] replays it onto fresh instances, then recovers:
//! - a job that was executing when the environment stopped ends with code
//!   239 ("the job-management environment stopped while the job was
//!   running"); its jobnet starts nothing more and ends abnormally
//!   (MODEL-009, XC-010);
//! - a day change that passed while down is processed once (a jobnet the
//!   journal does not mention counts as scheduled for the day of the last
//!   record, so a carry-over is not lost);
//! - planned starts that passed while down follow the jobnet's
//!   [`MissedStart`] policy; a start recorded as triggered is never repeated
//!   (not even when a new day-change time moved it to another instant), so
//!   every occurrence starts at most once, even across restarts.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Engine, EngineConfig, Event, EventKind, JobId, JobStatus, JobnetStatus};
use crate::defs::{Environment, JobnetKey};
use crate::exit::{self, ExitCode};
use crate::model::MissedStart;
use crate::plan;

/// What [`Engine::restore`] found and did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RestoreReport {
    /// Events replayed.
    pub events: usize,
    /// Events about jobnets or jobs that no longer exist (definitions changed).
    pub unknown: usize,
    /// Jobs that were executing and ended with 239.
    pub interrupted_jobs: Vec<String>,
    /// Missed planned starts: jobnet, instant, and what was done.
    pub missed_starts: Vec<(JobnetKey, DateTime<Utc>, String)>,
}

/// Most starts looked at per jobnet when catching up after downtime.
const MAX_MISSED: usize = 10_000;

impl Engine {
    /// Rebuild an engine from `events` (the journal, in order) at `now`, then
    /// recover as the module documentation says. The effects of recovery
    /// (records, kills are not needed: nothing runs) are queued as usual.
    pub fn restore(
        env: Arc<Environment>,
        config: EngineConfig,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> (Engine, RestoreReport) {
        let mut e = Engine::build(env, config, now);
        let mut report = RestoreReport { events: events.len(), ..RestoreReport::default() };
        let mut last_trigger: BTreeMap<u32, DateTime<Utc>> = BTreeMap::new();
        let mut last_at: Option<DateTime<Utc>> = None;
        // While schedules are held (see `EventKind::SchedulesHeld`): the
        // last record before the hold, up to which starts were handled.
        let mut held: Option<Option<DateTime<Utc>>> = None;
        for ev in events {
            e.seq = e.seq.max(ev.seq);
            match ev.kind {
                EventKind::SchedulesHeld if held.is_none() => held = Some(last_at),
                EventKind::SchedulesResumed => held = None,
                _ => {}
            }
            last_at = Some(ev.at);
            if !e.replay_event(ev, &mut last_trigger) {
                report.unknown += 1;
            }
        }
        e.now = now;
        e.recount();
        e.recover_interrupted(&mut report);
        e.settle();
        let handled_until = match held {
            Some(before) => before,
            None => last_at,
        };
        match (e.config.schedules, held.is_some()) {
            (false, false) => e.record(EventKind::SchedulesHeld),
            (true, true) => e.record(EventKind::SchedulesResumed),
            _ => {}
        }
        e.recover_schedules(now, handled_until, &last_trigger, &mut report);
        e.settle();
        (e, report)
    }

    /// The scheduler stops while jobs execute (a graceful shutdown): every
    /// executing job ends now with 239, "the job management environment
    /// stopped while the job was executing", and its jobnet starts nothing
    /// more and ends abnormally, exactly as a restart after a crash would
    /// record it (XC-010), but at the time of the stop. A paused run keeps
    /// its other jobs for Continue. Returns the jobs ended (`P/N/job`); the
    /// caller kills their processes.
    pub fn stop_environment(&mut self, now: DateTime<Utc>) -> Vec<String> {
        self.now = now;
        let mut report = RestoreReport::default();
        self.recover_interrupted(&mut report);
        self.settle();
        report.interrupted_jobs
    }

    /// Rebuild the state the journal describes, without recovering anything:
    /// a read-only view (for `woi status` while another process may run the
    /// scheduler). Do not drive the returned engine.
    pub fn replay(env: Arc<Environment>, config: EngineConfig, now: DateTime<Utc>, events: &[Event]) -> Engine {
        let mut e = Engine::build(env, config, now);
        let mut last_trigger = BTreeMap::new();
        for ev in events {
            e.seq = e.seq.max(ev.seq);
            e.replay_event(ev, &mut last_trigger);
        }
        e.recount();
        e.init_schedules(now);
        e
    }

    /// Apply one journal event; `false` when it names something unknown.
    fn replay_event(&mut self, ev: &Event, last_trigger: &mut BTreeMap<u32, DateTime<Utc>>) -> bool {
        let at = ev.at;
        match &ev.kind {
            EventKind::JobnetStatus { jobnet, run, status, exit_code } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let day = self.instances[i as usize].top_level.then(|| self.day_of_instant(i, at));
                let inst = &mut self.instances[i as usize];
                let new_run = *run != inst.run;
                if new_run {
                    inst.jobs.iter_mut().for_each(|j| {
                        j.restart_child = false;
                        j.skipped = false;
                    });
                }
                // A pause of a run remembers it: Continue resumes the run
                // (its waiting and queued jobs start), as without a restart.
                // Other held statuses come back as `Waiting` (day changes
                // while held are not journaled).
                if *status == JobnetStatus::Paused {
                    if inst.status.is_running() {
                        inst.held_status = Some(inst.status);
                    }
                } else {
                    inst.held_status = None;
                }
                inst.status = *status;
                inst.run = *run;
                if new_run && status.is_running() {
                    inst.started_at = Some(at);
                    inst.ended_at = None;
                    inst.exit_code = None;
                    if let Some(d) = day {
                        inst.started_on = Some(d);
                    }
                }
                inst.warning = *status == JobnetStatus::Warning;
                if status.is_ended() {
                    inst.ended_at = Some(at);
                    inst.exit_code = *exit_code;
                    inst.warning = false;
                }
                if day.is_some() {
                    inst.day = day;
                }
                true
            }
            EventKind::JobStatus { jobnet, job, status, exit, attempt, .. } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let inst = &self.instances[i as usize];
                let Some(&index) = inst.flow.index.get(job) else { return false };
                // A failed jobnet icon reset to Waiting while its jobnet is
                // still abended or cancelled was reset by a restart upstream of
                // it: its jobnet restarts when the icon's turn comes.
                let failed_icon_reset = *status == JobStatus::Waiting
                    && matches!(inst.jobs[index as usize].status, JobStatus::Abended | JobStatus::Cancelled)
                    && self.icon_target(JobId { instance: i, index }).and_then(|k| self.by_key.get(&k)).is_some_and(
                        |&c| {
                            matches!(self.instances[c as usize].status, JobnetStatus::Abended | JobnetStatus::Cancelled)
                        },
                    );
                let inst = &mut self.instances[i as usize];
                let j = &mut inst.jobs[index as usize];
                if failed_icon_reset {
                    j.restart_child = true;
                } else if *status == JobStatus::Executing || status.is_final() {
                    j.restart_child = false;
                }
                j.status = *status;
                j.attempt = *attempt;
                j.queued = false;
                if *status == JobStatus::Executing {
                    j.started_at = Some(at);
                    j.ended_at = None;
                }
                if status.is_final() {
                    j.ended_at = Some(at);
                    j.ended_seq = 0;
                    if exit.is_some() {
                        j.exit = *exit;
                    }
                }
                true
            }
            EventKind::MessageEvent { jobnet, event, counted, count, .. } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let inst = &mut self.instances[i as usize];
                let Some(ev_i) = inst.def.messages.as_ref().and_then(|m| m.events.iter().position(|x| **x == **event))
                else {
                    return false;
                };
                inst.counts[ev_i] = *count;
                if *counted {
                    inst.last_raised[ev_i] = Some(at);
                }
                true
            }
            EventKind::RecoveryChanged { jobnet, job, before, after } => {
                // Re-applied while the definitions are still those it changed.
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let mut def = (*self.instances[i as usize].def).clone();
                let Some(slot) = def.jobs.iter_mut().find(|j| j.number == *job) else { return false };
                if *slot == **before {
                    *slot = (**after).clone();
                    self.set_jobnet_definition(i, def);
                }
                true
            }
            EventKind::DefinitionsApplied { changed, .. } => {
                // The current definitions stand for the applied ones.
                for key in changed {
                    if let Some(&i) = self.by_key.get(key) {
                        self.reset_to_definition(i);
                    }
                }
                true
            }
            EventKind::MessageEventRaised { occurrence } => {
                self.occurrence_seq = self.occurrence_seq.max(occurrence.seq);
                self.occurrences.push_back(occurrence.clone());
                while self.occurrences.len() > super::builtins::OCCURRENCES_KEPT {
                    self.occurrences.pop_front();
                }
                true
            }
            EventKind::RunQueued { jobnet, .. } => self.by_key.contains_key(jobnet),
            EventKind::QueuedRunDeleted { jobnet, counts, .. } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let inst = &mut self.instances[i as usize];
                if inst.counts.len() != counts.len() {
                    return false;
                }
                inst.counts.clone_from(counts);
                true
            }
            EventKind::MessageCountsCleared { jobnet } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                self.instances[i as usize].counts.iter_mut().for_each(|c| *c = 0);
                true
            }
            EventKind::CopyCreated { source, suffix, .. } => {
                let Some(&s) = self.by_key.get(source) else { return false };
                let def = self.instances[s as usize].def.clone();
                self.make_copy(s, &def, suffix).is_ok()
            }
            EventKind::StartTriggered { jobnet, planned, operating_day } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                last_trigger.insert(i, *planned);
                self.note_fired(i, *operating_day, *planned);
                true
            }
            EventKind::StartMissed { jobnet, planned, .. } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                last_trigger.insert(i, *planned);
                true
            }
            EventKind::JobnetVariables { jobnet, variables } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                self.restore_variables(i, variables);
                true
            }
            EventKind::JobMessage { .. }
            | EventKind::Log { .. }
            | EventKind::JobOutput { .. }
            | EventKind::SchedulesHeld
            | EventKind::SchedulesResumed => true,
            EventKind::JobSkipped { jobnet, job, skipped } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let inst = &mut self.instances[i as usize];
                let Some(&index) = inst.flow.index.get(job) else { return false };
                inst.jobs[index as usize].skipped = *skipped;
                true
            }
            EventKind::JobFlags { jobnet, job, disabled, paused } => {
                let Some(&i) = self.by_key.get(jobnet) else { return false };
                let inst = &mut self.instances[i as usize];
                let Some(&index) = inst.flow.index.get(job) else { return false };
                let j = &mut inst.jobs[index as usize];
                j.disabled = *disabled;
                j.paused = *paused;
                true
            }
        }
    }

    fn day_of_instant(&self, i: u32, at: DateTime<Utc>) -> chrono::NaiveDate {
        let def = &self.instances[i as usize].def;
        crate::calendar::operating_day(self.env.tz, crate::calendar::day_change_of(&self.env, def), at)
    }

    /// Recompute every derived counter from the replayed statuses.
    fn recount(&mut self) {
        for inst in &mut self.instances {
            let flow = inst.flow.clone();
            let bits: Vec<_> = inst.jobs.iter().map(|j| j.bits()).collect();
            inst.active = 0;
            inst.failed = 0;
            for (idx, j) in inst.jobs.iter_mut().enumerate() {
                j.n_normal = 0;
                j.n_bypassed = 0;
                j.n_failed = 0;
                j.n_resolved = 0;
                for &p in &flow.preds[idx] {
                    let b = bits[p as usize];
                    j.n_normal += u32::from(b.normal);
                    j.n_bypassed += u32::from(b.bypassed);
                    j.n_failed += u32::from(b.failed);
                    j.n_resolved += u32::from(b.resolved);
                }
                inst.active += u32::from(j.is_active());
                inst.failed += u32::from(bits[idx].failed);
            }
        }
    }

    /// Jobs that were executing end with 239; their jobnets start nothing more.
    fn recover_interrupted(&mut self, report: &mut RestoreReport) {
        self.relink_running_children();
        for i in 0..self.instances.len() as u32 {
            // A paused run keeps the jobs it had started executing: they were
            // interrupted too (239), and the run goes on from there on Continue.
            let status = self.instances[i as usize].status;
            if status == JobnetStatus::Paused {
                self.interrupt_executing_jobs(i, report);
                continue;
            }
            if !status.is_running() {
                continue;
            }
            self.instances[i as usize].interrupted = true;
            self.interrupt_executing_jobs(i, report);
            self.mark_dirty(i);
        }
    }

    /// A child or linked jobnet run by a jobnet icon knows its icon only in
    /// memory: link every running child to the executing icon that runs it,
    /// so that its end (239 after an environment stop) reaches the icon and
    /// the parent ends too (spec 01 §3.2: the icon mirrors the child).
    fn relink_running_children(&mut self) {
        let mut links = Vec::new();
        for (i, inst) in self.instances.iter().enumerate() {
            for (index, (j, d)) in inst.jobs.iter().zip(&inst.def.jobs).enumerate() {
                if !d.is_jobnet_icon() || !matches!(j.status, JobStatus::Executing | JobStatus::Warning) {
                    continue;
                }
                let key = self.env.child_key(&inst.key, d.jobnet.as_deref().unwrap_or_default());
                if let Some(&c) = self.by_key.get(&key) {
                    let child = &self.instances[c as usize];
                    if child.parent.is_none() && (child.status.is_running() || child.status == JobnetStatus::Paused) {
                        links.push((c, JobId { instance: i as u32, index: index as u32 }));
                    }
                }
            }
        }
        for (c, icon) in links {
            self.instances[c as usize].parent = Some(icon);
        }
    }

    /// End every job of instance `i` that was executing with 239 (the
    /// environment stopped while it ran); jobnet icons follow their jobnets.
    fn interrupt_executing_jobs(&mut self, i: u32, report: &mut RestoreReport) {
        for index in 0..self.instances[i as usize].jobs.len() as u32 {
            let id = JobId { instance: i, index };
            let inst = &self.instances[i as usize];
            let j = &inst.jobs[index as usize];
            if j.status != JobStatus::Executing || inst.def.jobs[index as usize].is_jobnet_icon() {
                continue;
            }
            report.interrupted_jobs.push(format!("{}/{}", inst.key, inst.def.jobs[index as usize].number));
            self.end_job(id, ExitCode::scheduler(exit::ENVIRONMENT_STOPPED));
        }
    }

    /// Day changes and planned starts that passed while the scheduler was down.
    fn recover_schedules(
        &mut self,
        now: DateTime<Utc>,
        last_at: Option<DateTime<Utc>>,
        last_trigger: &BTreeMap<u32, DateTime<Utc>>,
        report: &mut RestoreReport,
    ) {
        for i in 0..self.instances.len() as u32 {
            if !self.instances[i as usize].top_level {
                continue;
            }
            let today = self.day_of_instant(i, now);
            // A jobnet the journal says nothing about was scheduled for the
            // day of the last record (so a carry-over of a jobnet that never
            // ran is not lost, spec 01 §3.4.2).
            let day = self.instances[i as usize].day.or_else(|| last_at.map(|at| self.day_of_instant(i, at)));
            let day = day.unwrap_or(today);
            // The day change sees whether the day that ended was a startup day.
            let startup =
                crate::startup::is_startup_day(&self.env, &self.env.templates, &self.instances[i as usize].key, day);
            let inst = &mut self.instances[i as usize];
            inst.day = Some(day);
            inst.startup_day = startup;
            if day != today {
                self.day_change(i);
            } else {
                self.arm_day_change(i, today);
            }
            // Missed starts: planned instants after the last one handled, up to
            // now; left to a scheduler that fires the schedules.
            if !self.config.schedules {
                continue;
            }
            let Some(since) = last_trigger.get(&i).copied().or(last_at) else {
                self.arm_next_start(i, now - chrono::Duration::nanoseconds(1));
                continue;
            };
            let key = self.instances[i as usize].key.clone();
            let policy = self.instances[i as usize].def.missed_start;
            let mut missed = Vec::new();
            let mut cursor = since;
            while missed.len() < MAX_MISSED {
                match plan::next_start_after(&self.env, &key, cursor) {
                    Some(s) if s.at < now => {
                        cursor = s.at;
                        if !self.already_fired(i, s.operating_day, s.at) {
                            missed.push(s);
                        }
                    }
                    _ => break,
                }
            }
            // Run once only when the jobnet's status lets a start through
            // (an abended or still executing jobnet refuses it, so its missed
            // starts are recorded as skipped, not as run).
            let startable = matches!(
                self.instances[i as usize].status,
                JobnetStatus::Waiting
                    | JobnetStatus::Completed
                    | JobnetStatus::PseudoNormal
                    | JobnetStatus::Confirmed
                    | JobnetStatus::CarryOverReleased
                    | JobnetStatus::Paused
            );
            let run_once = policy == MissedStart::RunOnce
                && startable
                && missed.iter().any(|s| s.operating_day == today && s.kind == plan::StartKind::Time);
            for s in &missed {
                let action = if run_once && s.operating_day == today { "run_once" } else { "skipped" };
                report.missed_starts.push((key.clone(), s.at, action.to_string()));
                self.record(EventKind::StartMissed { jobnet: key.clone(), planned: s.at, action: action.into() });
            }
            self.arm_next_start(i, now - chrono::Duration::nanoseconds(1));
            if run_once {
                self.trigger_start(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Catalog;
    use crate::engine::{Effect, RaiseRequest, RecoveryOp};
    use chrono::NaiveDate;

    fn env(text: &str) -> Arc<Environment> {
        let mut cat = Catalog::new();
        cat.add_text("t.toml", text);
        Arc::new(cat.compile().expect("valid"))
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    /// Drain effects: records into the journal; returns the started jobs.
    fn drain(e: &mut Engine, journal: &mut Vec<Event>) -> Vec<(JobId, u32)> {
        let mut started = Vec::new();
        while let Some(eff) = e.poll_effect() {
            match eff {
                Effect::Record(ev) => journal.push(ev),
                Effect::StartJob(s) => started.push((s.job, s.attempt)),
                Effect::KillJob { .. } => {}
            }
        }
        started
    }

    const CHAIN: &str = r#"
        [[jobnet]]
        project = "P"
        name = "N"
        comment = "Chain"
        [[jobnet.job]]
        number = 1
        command = "a"
        [[jobnet.job]]
        number = 2
        command = "b"
        after = [1]
        [[jobnet.job]]
        number = 3
        command = "c"
    "#;

    // MODEL-009 XC-010 XC-239
    #[test]
    fn model_009_xc_010_executing_job_gets_239_and_jobnet_abends() {
        let env = env(CHAIN);
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let key = JobnetKey::new("P", "N");
        e.start_jobnet(t0, &key, None).expect("start");
        let mut journal = Vec::new();
        let started = drain(&mut e, &mut journal);
        assert_eq!(started.len(), 2); // jobs 1 and 3
        // Job 3 ends; job 1 is still executing when the process dies.
        e.handle_job_ended(t0, started[1].0, started[1].1, ExitCode::from_command(0));
        drain(&mut e, &mut journal);

        let t1 = t("2026-04-01T09:30:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        let mut after = Vec::new();
        let restarted = drain(&mut r, &mut after);
        assert!(restarted.is_empty(), "nothing starts after an environment stop");
        assert_eq!(report.interrupted_jobs, vec!["P/N/1".to_string()]);
        let jobs = r.jobs(&key);
        assert_eq!(jobs[0].status, JobStatus::Abended);
        assert_eq!(jobs[0].exit.map(|x| x.code), Some(239));
        assert_eq!(jobs[1].status, JobStatus::Waiting);
        assert_eq!(jobs[2].status, JobStatus::Completed);
        let n = r.jobnet(&key).expect("jobnet");
        assert_eq!((n.status, n.exit_code), (JobnetStatus::Abended, Some(239)));
        // New events continue the sequence.
        assert!(after.first().is_some_and(|ev| ev.seq > journal.last().map_or(0, |l| l.seq)));
    }

    #[test]
    fn raised_events_survive_a_restart_and_their_numbering_goes_on() {
        let env = env(CHAIN);
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let raise = |e: &mut Engine, event: &str, project: Option<&str>| {
            let req = RaiseRequest { event, project, jobnet: None, vparam: Some("v"), suffix: None };
            e.raise_event(t0, &req).expect("raised");
        };
        raise(&mut e, "EV1", None);
        raise(&mut e, "EV2", Some("P"));
        let mut journal = Vec::new();
        drain(&mut e, &mut journal);
        let before: Vec<_> = e.occurrences().cloned().collect();
        assert_eq!(before.iter().map(|o| o.seq).collect::<Vec<_>>(), vec![1, 2]);

        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t0, &journal);
        assert_eq!(report.unknown, 0);
        assert_eq!(r.occurrences().cloned().collect::<Vec<_>>(), before);
        raise(&mut r, "EV3", None);
        assert_eq!(r.occurrences().last().map(|o| (o.seq, o.event.as_str())), Some((3, "EV3")));
    }

    // WAPI-132 (model part)
    #[test]
    fn wapi_132_a_deleted_queued_run_stays_deleted_after_a_replay() {
        let env = env(r#"
            [[jobnet]]
            project = "P"
            name = "Q"
            comment = "Queues"
            start = { message_only = {} }
            messages = { events = ["E1", "E2"], mode = "or", valid_during_execution = true }
            [[jobnet.job]]
            number = 1
            command = "a"
        "#);
        let key = JobnetKey::new("P", "Q");
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        for ev in ["E1", "E2", "E2", "E1"] {
            let req = RaiseRequest { event: ev, project: Some("P"), jobnet: Some("Q"), vparam: None, suffix: None };
            e.raise_event(t0, &req).expect("raised");
        }
        assert_eq!(e.jobnet(&key).map(|v| (v.status, v.queued_runs)), Some((JobnetStatus::Executing, 3)));
        e.delete_queued_run(t0, &key, 0, Some(2)).expect_err("stale expectation refused");
        e.delete_queued_run(t0, &key, 0, Some(3)).expect("deleted");
        let mut journal = Vec::new();
        drain(&mut e, &mut journal);
        let queued: Vec<u32> = journal
            .iter()
            .filter_map(|ev| match &ev.kind {
                EventKind::RunQueued { queued, .. } => Some(*queued),
                _ => None,
            })
            .collect();
        assert_eq!(queued, vec![1, 2, 3]);
        assert_eq!(e.event_counts(&key).iter().map(|c| c.count).collect::<Vec<_>>(), vec![0, 2]);

        let r = Engine::replay(env.clone(), EngineConfig::from_env(&env), t0, &journal);
        assert_eq!(r.jobnet(&key).map(|v| v.queued_runs), Some(2));
        assert_eq!(r.event_counts(&key).iter().map(|c| c.count).collect::<Vec<_>>(), vec![0, 2]);
    }

    // MODEL-053 / spec 01 §3.5.1 (QA F1): a failed icon reset by a restart from
    // an upstream restart point still restarts its jobnet from the failed job
    // (not from its first job) after the scheduler restarted meanwhile.
    #[test]
    fn a_deferred_icon_restart_survives_a_restore() {
        let env = env(r#"
            [[jobnet]]
            project = "Q"
            name = "RP"
            comment = "Rp"
            [[jobnet.job]]
            number = 1
            command = "p1"
            [[jobnet.job]]
            number = 2
            command = "p2"
            after = [1]
            restart_point = true
            [[jobnet.job]]
            number = 3
            kind = "child_jobnet"
            jobnet = "RC"
            after = [2]
            [[jobnet]]
            project = "Q"
            name = "RC"
            comment = "Rc"
            [[jobnet.job]]
            number = 1
            command = "c1"
            [[jobnet.job]]
            number = 2
            command = "c2"
            after = [1]
        "#);
        let (parent, child) = (JobnetKey::new("Q", "RP"), JobnetKey::new("Q", "RC"));
        let t0 = t("2027-02-10T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let c2 = e.job_id(&child, "2").expect("RC/2");
        let mut journal = Vec::new();
        let run = |e: &mut Engine, journal: &mut Vec<Event>, fail_c2: bool| loop {
            let started = drain(e, journal);
            if started.is_empty() {
                break;
            }
            for (id, a) in started {
                let code = if fail_c2 && id == c2 { 13 } else { 0 };
                e.handle_job_ended(t0, id, a, ExitCode::from_command(code));
            }
        };
        e.start_jobnet(t0, &parent, None).expect("start");
        run(&mut e, &mut journal, true);
        assert_eq!(e.jobnet(&parent).map(|n| n.status), Some(JobnetStatus::Abended));
        e.restart_jobnet(t0, &parent).expect("restart");
        let started = drain(&mut e, &mut journal);
        assert_eq!(started.len(), 1, "only the restart point runs: {started:?}");
        assert_eq!(e.jobs(&parent)[2].status, JobStatus::Waiting);

        // The scheduler stops while RP/2 runs; RP/2 ends with 239.
        let (mut r, _) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t0, &journal);
        drain(&mut r, &mut journal);
        assert_eq!(r.jobnet(&parent).map(|n| n.status), Some(JobnetStatus::Abended));
        r.restart_jobnet(t0, &parent).expect("restart again");
        run(&mut r, &mut journal, false);
        assert_eq!(r.jobnet(&parent).map(|n| n.status), Some(JobnetStatus::Completed));
        let attempts: Vec<u32> = r.jobs(&child).iter().map(|j| j.attempts).collect();
        assert_eq!(attempts, vec![1, 2], "the child reran from its failed job");
    }

    // Job disable (spec 01 §3.3.4) across a restart: the flag is journaled (JobFlags).
    #[test]
    fn an_operator_disabled_job_stays_disabled_after_a_restart() {
        let env = env(CHAIN);
        let key = JobnetKey::new("P", "N");
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let id = e.job_id(&key, "2").expect("job 2");
        e.disable_job(t0, id).expect("disabled");
        let mut journal = Vec::new();
        drain(&mut e, &mut journal);
        let (mut r, _) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t0, &journal);
        r.start_jobnet(t0, &key, None).expect("start");
        let started = drain(&mut r, &mut journal);
        for (id, a) in started {
            r.handle_job_ended(t0, id, a, ExitCode::from_command(0));
        }
        let started = drain(&mut r, &mut journal);
        assert!(started.is_empty(), "job 2 is disabled: nothing more starts ({started:?})");
        assert_eq!(r.jobs(&key)[1].status, JobStatus::Disabled);
        assert_eq!(r.jobnet(&key).map(|n| n.status), Some(JobnetStatus::Completed));
    }

    // Spec 01 §3.3.4 Disable across a restart: a disabled job whose turn came
    // was skipped as ended normally (journaled, JobSkipped). After the
    // restore its AND successor still counts it, so restarting the
    // interrupted job completes the flow instead of waiting forever.
    #[test]
    fn a_skipped_disabled_job_still_counts_for_its_successor_after_a_restart() {
        let env = env(r#"
            [[jobnet]]
            project = "P"
            name = "N"
            comment = "And"
            [[jobnet.job]]
            number = 1
            command = "a"
            [[jobnet.job]]
            number = 2
            command = "b"
            [[jobnet.job]]
            number = 3
            command = "c"
            after = [1, 2]
        "#);
        let key = JobnetKey::new("P", "N");
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let id2 = e.job_id(&key, "2").expect("job 2");
        e.disable_job(t0, id2).expect("disabled");
        e.start_jobnet(t0, &key, None).expect("start");
        let mut journal = Vec::new();
        assert_eq!(drain(&mut e, &mut journal).len(), 1, "job 1 runs, job 2 is skipped");
        assert!(journal.iter().any(|ev| matches!(ev.kind, EventKind::JobSkipped { job: 2, skipped: true, .. })));

        // The scheduler stops while job 1 runs: it ends with 239.
        let t1 = t("2026-04-01T09:10:00+09:00");
        let (mut r, _) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        drain(&mut r, &mut journal);
        assert_eq!(r.jobnet(&key).map(|n| n.status), Some(JobnetStatus::Abended));
        r.enable_job(t1, r.job_id(&key, "2").expect("job 2")).expect_err("skipped in this run: enable refused");
        r.restart_jobnet(t1, &key).expect("restart from the failed job");
        let started = drain(&mut r, &mut journal);
        assert_eq!(started.len(), 1, "job 1 reruns");
        r.handle_job_ended(t1, started[0].0, started[0].1, ExitCode::from_command(0));
        let started = drain(&mut r, &mut journal);
        assert_eq!(started.len(), 1, "job 3 starts: the skipped job 2 counts as normal");
        r.handle_job_ended(t1, started[0].0, started[0].1, ExitCode::from_command(0));
        drain(&mut r, &mut journal);
        assert_eq!(r.jobnet(&key).map(|n| n.status), Some(JobnetStatus::Completed));
    }

    // XC-010 for a paused run: its executing job was interrupted too.
    #[test]
    fn xc_010_a_job_executing_in_a_paused_jobnet_gets_239_after_a_restart() {
        let env = env(CHAIN);
        let key = JobnetKey::new("P", "N");
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        e.start_jobnet(t0, &key, None).expect("start");
        let mut journal = Vec::new();
        assert_eq!(drain(&mut e, &mut journal).len(), 2, "jobs 1 and 3 start");
        e.pause_jobnet(t0, &key).expect("paused");
        drain(&mut e, &mut journal);

        let t1 = t("2026-04-01T09:30:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert_eq!(report.interrupted_jobs, vec!["P/N/1".to_string(), "P/N/3".to_string()]);
        assert!(drain(&mut r, &mut journal).is_empty(), "nothing starts while paused");
        let jobs = r.jobs(&key);
        assert_eq!((jobs[0].status, jobs[0].exit.map(|x| x.code)), (JobStatus::Abended, Some(239)));
        assert_eq!((jobs[2].status, jobs[2].exit.map(|x| x.code)), (JobStatus::Abended, Some(239)));
        assert_eq!(r.jobnet(&key).map(|n| n.status), Some(JobnetStatus::Paused));
    }

    // XC-010 / MODEL-009: a run interrupted while its only job waited for an
    // execution slot did not complete.
    #[test]
    fn xc_010_a_run_whose_job_was_queued_when_the_environment_stopped_abends() {
        let env = env(LIMIT_1);
        let (a, b) = (JobnetKey::new("P", "A"), JobnetKey::new("P", "B"));
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        e.start_jobnet(t0, &a, None).expect("start A");
        e.start_jobnet(t0, &b, None).expect("start B");
        let mut journal = Vec::new();
        assert_eq!(drain(&mut e, &mut journal).len(), 1, "B's job waits for the only slot");

        let t1 = t("2026-04-01T09:30:00+09:00");
        let (mut r, _) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert!(drain(&mut r, &mut journal).is_empty(), "nothing starts after an environment stop");
        assert_eq!(r.jobnet(&a).map(|n| (n.status, n.exit_code)), Some((JobnetStatus::Abended, Some(239))));
        assert_eq!(r.jobnet(&b).map(|n| (n.status, n.exit_code)), Some((JobnetStatus::Abended, Some(239))));
        assert_eq!(r.jobs(&b)[0].status, JobStatus::Waiting);
    }

    // XC-010 through a jobnet icon: the child ends with 239, its icon
    // mirrors it and the parent ends abnormally too.
    #[test]
    fn xc_010_the_parent_of_an_interrupted_child_jobnet_ends_too() {
        let env = env(r#"
            [[jobnet]]
            project = "QC"
            name = "PAR"
            comment = "Par"
            [[jobnet.job]]
            number = 1
            kind = "child_jobnet"
            jobnet = "KID"
            [[jobnet.job]]
            number = 2
            command = "after"
            after = [1]
            [[jobnet]]
            project = "QC"
            name = "KID"
            comment = "Kid"
            start = "none"
            [[jobnet.job]]
            number = 1
            command = "sleep"
        "#);
        let (par, kid) = (JobnetKey::new("QC", "PAR"), JobnetKey::new("QC", "KID"));
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        e.start_jobnet(t0, &par, None).expect("start");
        let mut journal = Vec::new();
        assert_eq!(drain(&mut e, &mut journal).len(), 1, "KID's job runs");

        let t1 = t("2026-04-01T09:30:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert_eq!(report.interrupted_jobs, vec!["QC/KID/1".to_string()]);
        assert!(drain(&mut r, &mut journal).is_empty(), "job 2 of PAR does not start");
        assert_eq!(r.jobnet(&kid).map(|n| (n.status, n.exit_code)), Some((JobnetStatus::Abended, Some(239))));
        let icon = &r.jobs(&par)[0];
        assert_eq!((icon.status, icon.exit.map(|x| x.code)), (JobStatus::Abended, Some(239)));
        assert_eq!(r.jobnet(&par).map(|n| (n.status, n.exit_code)), Some((JobnetStatus::Abended, Some(239))));
    }

    /// Master M (job 1, then a child icon → C), copied by linked jobnets L1
    /// (in P1) and L2 (in P2): inside L1 the child icon runs L1_C.
    const LINKED_WITH_CHILD: &str = r#"
        [[jobnet]]
        project = "P"
        name = "M"
        comment = "Master"
        [[jobnet.job]]
        number = 1
        command = "prepare"
        [[jobnet.job]]
        number = 2
        kind = "child_jobnet"
        jobnet = "C"
        after = [1]
        [[jobnet]]
        project = "P"
        name = "C"
        comment = "Child"
        [[jobnet.job]]
        number = 1
        command = "work"
        [[jobnet]]
        project = "P"
        name = "P1"
        comment = "One"
        [[jobnet.job]]
        number = 1
        kind = "linked_jobnet"
        jobnet = "L1"
        master = "M"
        [[jobnet]]
        project = "P"
        name = "P2"
        comment = "Two"
        [[jobnet.job]]
        number = 1
        kind = "linked_jobnet"
        jobnet = "L2"
        master = "M"
    "#;

    // Spec 01 §3.6 [design]: the generated copy L1_C of a linked jobnet's
    // child replays by its key; a crash while its job runs ends that job with
    // 239 and L1_C, L1's icon, L1 and P1 abend, while L2 (completed) and the
    // master's own child C (never run) are untouched. A restart of L1's icon
    // then runs L1_C again, not C.
    #[test]
    fn xc_010_a_crash_in_a_linked_jobnets_child_copy_abends_the_copy_and_its_uppers() {
        let env = env(LINKED_WITH_CHILD);
        let key = |n: &str| JobnetKey::new("P", n);
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        e.start_jobnet(t0, &key("P1"), None).expect("start P1");
        e.start_jobnet(t0, &key("P2"), None).expect("start P2");
        let mut journal = Vec::new();
        let firsts = drain(&mut e, &mut journal);
        assert_eq!(firsts.len(), 2, "L1/1 and L2/1 run");
        for (id, attempt) in firsts {
            e.handle_job_ended(t0, id, attempt, ExitCode::from_command(0));
        }
        let children = drain(&mut e, &mut journal);
        let l1c_job = e.job_id(&key("L1_C"), "1").expect("L1_C/1");
        let l2c_job = e.job_id(&key("L2_C"), "1").expect("L2_C/1");
        let ids: Vec<JobId> = children.iter().map(|&(id, _)| id).collect();
        assert_eq!(ids, vec![l1c_job, l2c_job], "each linked copy runs its own child copy");
        let &(_, l2c_attempt) = children.iter().find(|(id, _)| *id == l2c_job).expect("L2_C/1 started");
        e.handle_job_ended(t0, l2c_job, l2c_attempt, ExitCode::from_command(0));
        drain(&mut e, &mut journal);
        assert_eq!(e.jobnet(&key("P2")).map(|n| n.status), Some(JobnetStatus::Completed));

        // The scheduler stops while L1_C/1 runs.
        let t1 = t("2026-04-01T09:30:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert_eq!(report.interrupted_jobs, vec!["P/L1_C/1".to_string()]);
        assert!(drain(&mut r, &mut journal).is_empty(), "nothing starts after an environment stop");
        let abended_239 = Some((JobnetStatus::Abended, Some(239)));
        let l1c = &r.jobs(&key("L1_C"))[0];
        assert_eq!((l1c.status, l1c.exit.map(|x| x.code)), (JobStatus::Abended, Some(239)));
        assert_eq!(r.jobnet(&key("L1_C")).map(|n| (n.status, n.exit_code)), abended_239);
        let icon = &r.jobs(&key("L1"))[1];
        assert_eq!((icon.status, icon.exit.map(|x| x.code)), (JobStatus::Abended, Some(239)));
        assert_eq!(r.jobnet(&key("L1")).map(|n| (n.status, n.exit_code)), abended_239);
        assert_eq!(r.jobnet(&key("P1")).map(|n| (n.status, n.exit_code)), abended_239);
        assert_eq!(r.jobnet(&key("L1_C")).and_then(|n| n.parent), Some(key("L1")));
        for done in ["L2_C", "L2", "P2"] {
            assert_eq!(r.jobnet(&key(done)).map(|n| n.status), Some(JobnetStatus::Completed), "{done}");
        }
        for never in ["C", "M"] {
            assert_eq!(r.jobnet(&key(never)).map(|n| (n.status, n.run)), Some((JobnetStatus::Waiting, 0)), "{never}");
        }

        // Restart from L1's icon: L1_C restarts from its failed job.
        let icon_id = r.job_id(&key("L1"), "2").expect("L1/2");
        r.recover(t1, icon_id, RecoveryOp::RestartFrom).expect("restart from the icon");
        let again = drain(&mut r, &mut journal);
        assert_eq!(
            again.iter().map(|&(id, _)| id).collect::<Vec<_>>(),
            vec![r.job_id(&key("L1_C"), "1").expect("job")]
        );
        assert_eq!(r.jobnet(&key("C")).map(|n| n.run), Some(0), "the master's child still never ran");
    }

    #[test]
    fn restore_of_a_finished_run_reproduces_its_state() {
        let env = env(CHAIN);
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let key = JobnetKey::new("P", "N");
        e.start_jobnet(t0, &key, None).expect("start");
        let mut journal = Vec::new();
        loop {
            let started = drain(&mut e, &mut journal);
            if started.is_empty() {
                break;
            }
            for (id, a) in started {
                e.handle_job_ended(t0, id, a, ExitCode::from_command(2));
            }
        }
        let before: Vec<_> = e.jobs(&key).into_iter().map(|j| (j.status, j.exit, j.attempts)).collect();
        let (r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t0, &journal);
        assert_eq!(report.unknown, 0);
        let after: Vec<_> = r.jobs(&key).into_iter().map(|j| (j.status, j.exit, j.attempts)).collect();
        assert_eq!(before, after);
        assert_eq!(r.jobnet(&key).map(|n| (n.status, n.run)), e.jobnet(&key).map(|n| (n.status, n.run)));
    }

    #[test]
    fn missed_starts_run_once_and_never_twice_across_restarts() {
        let env = env(r#"
            [[jobnet]]
            project = "P"
            name = "T"
            comment = "Timed"
            start = { times = ["09:00", "10:00"] }
            [[jobnet.job]]
            number = 1
            command = "a"
        "#);
        let key = JobnetKey::new("P", "T");
        let t0 = t("2026-04-01T08:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let mut journal = Vec::new();
        drain(&mut e, &mut journal);
        journal.push(Event {
            seq: 999,
            at: t("2026-04-01T08:30:00+09:00"),
            kind: EventKind::Log { level: crate::messages::Level::Info, jobnet: key.clone(), message: "alive".into() },
        });
        // Down from 08:30 to 10:30: both starts of the day were missed.
        let t1 = t("2026-04-01T10:30:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert_eq!(report.missed_starts.len(), 2);
        assert!(report.missed_starts.iter().all(|m| m.2 == "run_once"));
        let started = drain(&mut r, &mut journal);
        assert_eq!(started.len(), 1, "one run for the missed starts");
        // Restart again right away: the missed starts are in the journal, nothing repeats.
        let (mut r2, report2) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert!(report2.missed_starts.is_empty());
        assert!(drain(&mut r2, &mut Vec::new()).is_empty());
        assert_eq!(r2.jobs(&key)[0].status, JobStatus::Abended, "the interrupted run ended with 239");
    }

    // Spec 01 §3.4 (an abended jobnet refuses a start) with the missed-start
    // policy: a jobnet that abended before the downtime does not run on
    // recovery, and its missed starts are reported as skipped, not run_once.
    #[test]
    fn missed_starts_of_an_abended_jobnet_are_skipped_not_run_once() {
        let env = env(r#"
            [[jobnet]]
            project = "P"
            name = "T"
            comment = "Timed"
            start = { times = ["07:00", "09:00"] }
            [[jobnet.job]]
            number = 1
            command = "a"
        "#);
        let key = JobnetKey::new("P", "T");
        let t0 = t("2026-04-01T07:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let mut journal = Vec::new();
        drain(&mut e, &mut journal);
        e.handle_timeout(t0);
        let started = drain(&mut e, &mut journal);
        assert_eq!(started.len(), 1, "the 07:00 start ran");
        e.handle_job_ended(t("2026-04-01T07:05:00+09:00"), started[0].0, started[0].1, ExitCode::from_command(9));
        drain(&mut e, &mut journal);
        assert_eq!(e.jobnet(&key).map(|v| v.status), Some(JobnetStatus::Abended));
        // Down from 07:05 to 10:00: the 09:00 start was missed.
        let t1 = t("2026-04-01T10:00:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        let actions: Vec<&str> = report.missed_starts.iter().map(|m| m.2.as_str()).collect();
        assert_eq!(actions, vec!["skipped"]);
        assert!(drain(&mut r, &mut journal).is_empty(), "an abended jobnet does not start");
        assert_eq!(r.jobnet(&key).map(|v| (v.status, v.run)), Some((JobnetStatus::Abended, 1)));
    }

    // XC-010 at a graceful stop: the executing job ends with 239 at once and
    // its jobnet abends; a restore of that journal has nothing to recover.
    #[test]
    fn xc_010_a_graceful_stop_ends_executing_jobs_with_239_at_once() {
        let env = env(CHAIN);
        let key = JobnetKey::new("P", "N");
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        e.start_jobnet(t0, &key, None).expect("start");
        let mut journal = Vec::new();
        assert_eq!(drain(&mut e, &mut journal).len(), 2, "jobs 1 and 3 run");
        let t1 = t("2026-04-01T09:05:00+09:00");
        assert_eq!(e.stop_environment(t1), vec!["P/N/1".to_string(), "P/N/3".to_string()]);
        assert!(drain(&mut e, &mut journal).is_empty(), "job 2 never starts");
        let jobs: Vec<_> = e.jobs(&key).iter().map(|j| (j.status, j.exit.map(|x| x.code))).collect();
        assert_eq!(
            jobs,
            vec![(JobStatus::Abended, Some(239)), (JobStatus::Waiting, None), (JobStatus::Abended, Some(239))]
        );
        assert_eq!(e.jobnet(&key).map(|n| (n.status, n.exit_code)), Some((JobnetStatus::Abended, Some(239))));
        let (_, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t1, &journal);
        assert!(report.interrupted_jobs.is_empty(), "{report:?}");
    }

    // A scheduler that fires no schedules (woi run) neither starts a missed
    // start nor hides it: the next scheduling restore finds it from before
    // the hold and applies run_once.
    #[test]
    fn a_missed_start_survives_a_restore_that_holds_the_schedules() {
        let env = env(r#"
            [[jobnet]]
            project = "P"
            name = "T"
            comment = "Timed"
            start = { time = "09:00" }
            [[jobnet.job]]
            number = 1
            command = "a"
        "#);
        let key = JobnetKey::new("P", "T");
        let mut journal = vec![Event {
            seq: 1,
            at: t("2026-04-01T08:00:00+09:00"),
            kind: EventKind::Log { level: crate::messages::Level::Info, jobnet: key.clone(), message: "alive".into() },
        }];
        let held = EngineConfig { schedules: false, ..EngineConfig::from_env(&env) };
        let (mut r, report) = Engine::restore(env.clone(), held, t("2026-04-01T10:00:00+09:00"), &journal);
        assert!(report.missed_starts.is_empty());
        assert!(drain(&mut r, &mut journal).is_empty(), "nothing starts");
        assert!(journal.iter().any(|ev| matches!(ev.kind, EventKind::SchedulesHeld)));
        journal.push(Event {
            seq: 99,
            at: t("2026-04-01T10:01:00+09:00"),
            kind: EventKind::Log { level: crate::messages::Level::Info, jobnet: key.clone(), message: "ad hoc".into() },
        });
        let t2 = t("2026-04-01T10:05:00+09:00");
        let (mut r, report) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t2, &journal);
        let actions: Vec<&str> = report.missed_starts.iter().map(|m| m.2.as_str()).collect();
        assert_eq!(actions, vec!["run_once"]);
        assert_eq!(drain(&mut r, &mut journal).len(), 1, "the missed 09:00 start runs once");
        assert!(journal.iter().any(|ev| matches!(ev.kind, EventKind::SchedulesResumed)));
    }

    /// Fire every timer up to `until`; started jobs end at once with 0.
    /// Returns the instants at which jobs of `key` started.
    fn run_until(
        e: &mut Engine,
        journal: &mut Vec<Event>,
        until: DateTime<Utc>,
        key: &JobnetKey,
    ) -> Vec<DateTime<Utc>> {
        let mut starts = Vec::new();
        let mut now = None;
        loop {
            let started = drain(e, journal);
            for (id, a) in started {
                let at = now.unwrap_or(until);
                if e.instances[id.instance as usize].key == *key {
                    starts.push(at);
                }
                e.handle_job_ended(at, id, a, ExitCode::from_command(0));
            }
            if e.effects.is_empty() {
                match e.poll_timeout() {
                    Some(t) if t <= until => {
                        now = Some(t);
                        e.handle_timeout(t);
                    }
                    _ => return starts,
                }
            }
        }
    }

    fn logs_of(journal: &[Event], code: &str) -> Vec<DateTime<Utc>> {
        journal
            .iter()
            .filter(|ev| matches!(&ev.kind, EventKind::Log { message, .. } if message.contains(code)))
            .map(|ev| ev.at)
            .collect()
    }

    // spec 01 §3.4.2 / §3.4.1 (F3, F4) across a restart
    #[test]
    fn a_never_run_carry_over_jobnet_is_carried_over_by_a_day_change_passed_while_down() {
        let env = env(r#"
            [[calendar]]
            name = "C"
            day_change = "05:30"
            [[jobnet]]
            project = "P"
            name = "ST"
            comment = "Single"
            start = { time = "05:00" }
            messages = { events = ["E9"], with_time = "and_time", carry_over_at_day_change = true }
            startup_days = { calendars = ["C"] }
            [[jobnet.job]]
            number = 1
            command = "a"
        "#);
        let key = JobnetKey::new("P", "ST");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t("2027-06-02T06:00:00+09:00"));
        let mut journal = Vec::new();
        run_until(&mut e, &mut journal, t("2027-06-03T05:10:00+09:00"), &key);
        assert_eq!(logs_of(&journal, "0310"), vec![t("2027-06-03T05:00:00+09:00")]);
        // Down from 05:10 to 06:00: the 05:30 boundary passed.
        let (mut r, _) =
            Engine::restore(env.clone(), EngineConfig::from_env(&env), t("2027-06-03T06:00:00+09:00"), &journal);
        assert_eq!(r.jobnet(&key).map(|n| n.status), Some(JobnetStatus::CarriedOver));
        // Its next start time is refused (0331), and nothing runs.
        let starts = run_until(&mut r, &mut journal, t("2027-06-04T05:10:00+09:00"), &key);
        assert!(starts.is_empty());
        assert_eq!(logs_of(&journal, "0331"), vec![t("2027-06-04T05:00:00+09:00")]);

        // Restarted again on the same operating day: the next day change still happens.
        let (mut r2, _) =
            Engine::restore(env.clone(), EngineConfig::from_env(&env), t("2027-06-04T05:20:00+09:00"), &journal);
        let mut after = Vec::new();
        run_until(&mut r2, &mut after, t("2027-06-05T05:10:00+09:00"), &key);
        assert_eq!(
            r2.jobnet(&key).map(|n| (n.status, n.operating_day)),
            Some((JobnetStatus::CarriedOver, NaiveDate::from_ymd_opt(2027, 6, 4)))
        );
        assert_eq!(logs_of(&after, "0331"), vec![t("2027-06-05T05:00:00+09:00")]);
    }

    // MODEL-085 (F6a) live and across a restart
    #[test]
    fn model_085_a_start_that_moved_with_the_day_change_time_is_not_repeated() {
        let jobnet = r#"
            [[jobnet]]
            project = "P"
            name = "TUE"
            comment = "Tue"
            start = { time = "03:00" }
            startup_days = { weekly = ["Tue"] }
            [[jobnet.job]]
            number = 1
            command = "a"
        "#;
        let old = env(jobnet);
        let new = env(&format!("[[calendar]]\nname = \"SYSTEM_CALENDAR\"\nday_change = \"06:00\"\n{jobnet}"));
        let key = JobnetKey::new("P", "TUE");
        let mut e = Engine::new(old.clone(), EngineConfig::from_env(&old), t("2027-04-06T02:00:00+09:00"));
        let mut journal = Vec::new();
        let starts = run_until(&mut e, &mut journal, t("2027-04-06T12:00:00+09:00"), &key);
        assert_eq!(starts, vec![t("2027-04-06T03:00:00+09:00")]);
        let report = e.reload(t("2027-04-06T12:00:00+09:00"), new.clone()).expect("applied");
        assert!(report.is_empty());
        drain(&mut e, &mut journal);
        // Operating day 04-06 now ends at 04-07 06:00; its 03:00 (04-07 03:00) already ran.
        let live = run_until(&mut e, &mut journal.clone(), t("2027-04-14T12:00:00+09:00"), &key);
        assert_eq!(live, vec![t("2027-04-14T03:00:00+09:00")]);

        let (mut r, _) =
            Engine::restore(new.clone(), EngineConfig::from_env(&new), t("2027-04-06T13:00:00+09:00"), &journal);
        let restored = run_until(&mut r, &mut journal, t("2027-04-14T12:00:00+09:00"), &key);
        assert_eq!(restored, vec![t("2027-04-14T03:00:00+09:00")]);
    }

    const LIMIT_1: &str = r#"
        [environment]
        max_concurrent_jobs = 1
        [[jobnet]]
        project = "P"
        name = "A"
        comment = "A"
        [[jobnet.job]]
        number = 1
        command = "a"
        [[jobnet]]
        project = "P"
        name = "B"
        comment = "B"
        [[jobnet.job]]
        number = 1
        command = "b"
    "#;

    // Spec 01 §3.4.3 Pause, §3.7 multiplicity (QA F8): a job queued on the
    // concurrency limit in a paused jobnet is passed over when the slot
    // frees; the queue is not journaled, so after a restart the job is
    // plainly Waiting and the Continue starts it (once).
    #[test]
    fn a_paused_jobnets_queued_job_starts_on_continue_after_a_restart() {
        let env = env(LIMIT_1);
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
        let (a, b) = (JobnetKey::new("P", "A"), JobnetKey::new("P", "B"));
        e.start_jobnet(t0, &a, None).expect("start A");
        e.start_jobnet(t0, &b, None).expect("start B");
        let mut journal = Vec::new();
        let started = drain(&mut e, &mut journal);
        assert_eq!(started.len(), 1, "B/1 waits for the slot");
        assert!(e.jobs(&b)[0].queued);
        e.pause_jobnet(t0, &b).expect("pause B");
        let t1 = t("2026-04-01T09:10:00+09:00");
        e.handle_job_ended(t1, started[0].0, started[0].1, ExitCode::from_command(0));
        assert!(drain(&mut e, &mut journal).is_empty(), "a paused jobnet starts nothing");
        assert_eq!(e.running_jobs(), 0);

        let t2 = t("2026-04-01T09:20:00+09:00");
        let (mut r, _) = Engine::restore(env.clone(), EngineConfig::from_env(&env), t2, &journal);
        assert!(drain(&mut r, &mut journal).is_empty());
        let j = &r.jobs(&b)[0];
        assert_eq!((j.status, j.queued, j.attempts), (JobStatus::Waiting, false, 0));
        assert_eq!(r.jobnet(&b).map(|v| v.status), Some(JobnetStatus::Paused));
        r.continue_jobnet(t2, &b).expect("continue B");
        let started = drain(&mut r, &mut journal);
        assert_eq!(started.len(), 1, "B/1 starts on Continue");
        assert_eq!(r.jobs(&b)[0].attempts, 1);
    }
}
