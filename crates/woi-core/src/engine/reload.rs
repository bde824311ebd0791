//! Definition changes while the engine runs (spec 01 §3.15, §3.6).
//!
//! [`Engine::reload`] swaps in a new [`Environment`] without a restart:
//!
//! - a jobnet whose definition changed (or that becomes the master of a
//!   linked jobnet) is reset: the jobnet and all its jobs become `Waiting`
//!   (MODEL-063); a jobnet the operator paused or disabled keeps that hold
//!   (spec: "reset to Waiting unless Paused/Disabled", MODEL-072);
//! - a jobnet whose definition did not change keeps its state untouched;
//! - new jobnets start `Waiting`; removed jobnets disappear;
//! - start times and day changes are re-armed for every jobnet whose
//!   definition or place in the hierarchy changed;
//! - when calendars (day-change time, holidays), templates, the time zone or
//!   other jobnets changed, every other top-level jobnet keeps its state but
//!   gets its day change and next start recomputed from the new definitions
//!   (spec 01 §3.9, MODEL-085, §3.12 step 5): a start still ahead on the
//!   current operating day is kept, one whose time already arrived is not
//!   repeated.
//!
//! The change is refused as a whole, changing nothing, when a changed or
//! removed jobnet is executing (or in warning), or when a new link names a
//! master that is executing (0462, MODEL-071). It is recorded as one
//! [`EventKind::DefinitionsApplied`] so that rebuilding from the journal
//! gives the same state.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Engine, EventKind, Flow, Instance, JobRt, JobnetStatus, Refusal, TimerKind};
use crate::calendar::day_change_of;
use crate::defs::{Environment, JobnetKey};
use crate::model::JobDef;

/// What [`Engine::reload`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Jobnets reset to `Waiting` because their definition changed (or they
    /// became the master of a linked jobnet).
    pub changed: Vec<JobnetKey>,
    /// New jobnets.
    pub added: Vec<JobnetKey>,
    /// Jobnets no longer defined.
    pub removed: Vec<JobnetKey>,
}

impl ReloadReport {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// Jobnets that run inside others (children, masters of links, linked
/// jobnets and the generated copies of the children below them): not
/// scheduled by themselves.
pub(super) fn inner_jobnets(env: &Environment) -> BTreeSet<JobnetKey> {
    let mut inner: BTreeSet<JobnetKey> = env.links.keys().chain(env.linked_children.keys()).cloned().collect();
    for def in env.jobnets.values() {
        for j in def.jobs.iter().filter(|j| j.is_jobnet_icon()) {
            let target =
                if j.kind == crate::model::JobKind::LinkedJobnet { j.master.as_deref() } else { j.jobnet.as_deref() };
            if let Some(t) = target {
                inner.insert(JobnetKey::new(&def.project, t));
            }
        }
    }
    inner
}

impl Engine {
    /// Apply new definitions to the running engine (see the module
    /// documentation). On refusal nothing changes.
    pub fn reload(&mut self, now: DateTime<Utc>, env: Arc<Environment>) -> Result<ReloadReport, Refusal> {
        self.now = now;
        let report = self.diff(&env);
        self.check_reload(&env, &report)?;
        if report.is_empty() && Arc::ptr_eq(&env, &self.env) {
            return Ok(report);
        }
        let old_inner = inner_jobnets(&self.env);
        let old_env = std::mem::replace(&mut self.env, env);
        let new_inner = inner_jobnets(&self.env);
        // Unchanged jobnets take the new (equal) definitions.
        let keys: Vec<(JobnetKey, u32)> = self.by_key.iter().map(|(k, &i)| (k.clone(), i)).collect();
        for (key, i) in &keys {
            if let Some(def) = self.env.definition_of(key).cloned() {
                self.instances[*i as usize].def = def;
            }
        }
        for key in &report.removed {
            if let Some(i) = self.by_key.remove(key) {
                self.clear_jobnet_timers(i);
                self.instances[i as usize].top_level = false;
            }
        }
        for key in &report.changed {
            if let Some(&i) = self.by_key.get(key) {
                self.reset_to_definition(i);
            }
        }
        for key in &report.added {
            if let Some(def) = self.env.definition_of(key).cloned() {
                let flow = Arc::new(Flow::new(&def));
                let i = self.instances.len() as u32;
                self.instances.push(Instance::new(key.clone(), def, flow));
                self.by_key.insert(key.clone(), i);
            }
        }
        // Re-arm what changed: definitions, new jobnets, or a new place in the hierarchy.
        let rearm: BTreeSet<&JobnetKey> =
            report.changed.iter().chain(&report.added).chain(old_inner.symmetric_difference(&new_inner)).collect();
        for &key in &rearm {
            let Some(&i) = self.by_key.get(key) else { continue };
            if self.instances[i as usize].copy_of.is_some() {
                continue;
            }
            self.clear_jobnet_timers(i);
            let top = !new_inner.contains(key);
            self.instances[i as usize].top_level = top;
            if top {
                self.schedule_instance(i, now);
            } else {
                self.instances[i as usize].next_start = None;
            }
        }
        // The others keep their state, but their schedule is recomputed when
        // something it may depend on changed: calendars (day-change time,
        // holidays), templates, the time zone, or other jobnets (base jobnets)
        // (spec 01 §3.9, MODEL-085, §3.12 step 5).
        let schedules_may_move = old_env.tz != self.env.tz
            || old_env.calendars != self.env.calendars
            || old_env.templates != self.env.templates
            || !report.changed.is_empty()
            || !report.removed.is_empty();
        if schedules_may_move {
            let others: Vec<u32> = self
                .by_key
                .iter()
                .filter(|&(k, &i)| {
                    !rearm.contains(k)
                        && self.instances[i as usize].top_level
                        && self.instances[i as usize].copy_of.is_none()
                })
                .map(|(_, &i)| i)
                .collect();
            for i in others {
                let def = &self.instances[i as usize].def;
                let moved = day_change_of(&old_env, def) != day_change_of(&self.env, def) || old_env.tz != self.env.tz;
                self.reschedule_from_definitions(i, moved);
            }
        }
        self.record(EventKind::DefinitionsApplied {
            changed: report.changed.clone(),
            added: report.added.clone(),
            removed: report.removed.clone(),
        });
        self.settle();
        Ok(report)
    }

    /// Which jobnets a change to `env` touches.
    fn diff(&self, env: &Environment) -> ReloadReport {
        let mut report = ReloadReport::default();
        let new_keys: BTreeSet<&JobnetKey> = env.run_keys().collect();
        let old_masters: BTreeSet<&JobnetKey> = self.env.links.values().collect();
        for &key in &new_keys {
            let Some(&i) = self.by_key.get(key) else {
                report.added.push(key.clone());
                continue;
            };
            let inst = &self.instances[i as usize];
            let def_changed = env.definition_of(key).is_none_or(|d| **d != *inst.def);
            // A linked jobnet that copies another master, or a generated copy
            // that copies another child, is a new jobnet under an old name.
            let link_changed = env.links.get(key) != self.env.links.get(key)
                || env.linked_children.get(key) != self.env.linked_children.get(key);
            let becomes_master = env.links.values().any(|m| m == key) && !old_masters.contains(key);
            if def_changed || link_changed || becomes_master {
                report.changed.push(key.clone());
            }
        }
        for (key, &i) in &self.by_key {
            if !new_keys.contains(key) && self.instances[i as usize].copy_of.is_none() {
                report.removed.push(key.clone());
            }
        }
        report
    }

    fn check_reload(&self, env: &Environment, report: &ReloadReport) -> Result<(), Refusal> {
        let old_masters: BTreeSet<&JobnetKey> = self.env.links.values().collect();
        for key in report.changed.iter().chain(&report.removed) {
            let Some(&i) = self.by_key.get(key) else { continue };
            let inst = &self.instances[i as usize];
            let busy = inst.status.is_running() || inst.jobs.iter().any(JobRt::is_active);
            if !busy {
                continue;
            }
            let new_master = env.links.values().any(|m| m == key) && !old_masters.contains(key);
            let reason = if new_master {
                format!(
                    "0462: the master-linked jobnet {} is {}; a linked jobnet referring to it cannot be registered now",
                    inst.key.jobnet, inst.status
                )
            } else {
                format!(
                    "it is {}; a jobnet's definition cannot change while it executes (spec 01 §3.15) — \
                     apply again when it has ended",
                    inst.status
                )
            };
            return Err(Refusal::Refused { op: "apply definitions", target: key.to_string(), reason });
        }
        Ok(())
    }

    /// Take the instance's new definition; it and all its jobs become
    /// `Waiting` (a pause or disable is kept).
    pub(super) fn reset_to_definition(&mut self, i: u32) {
        let key = self.instances[i as usize].key.clone();
        let Some(def) = self.env.definition_of(&key).cloned() else { return };
        let flow = Arc::new(Flow::new(&def));
        let events = def.messages.as_ref().map_or(0, |m| m.events.len());
        let inst = &mut self.instances[i as usize];
        inst.jobs = vec![JobRt::new(); def.jobs.len()];
        inst.def = def;
        inst.flow = flow;
        inst.counts = vec![0; events];
        inst.last_raised = vec![None; events];
        inst.active = 0;
        inst.failed = 0;
        inst.warning = false;
        inst.cancelling = false;
        inst.pause_trigger = false;
        inst.time_reached = false;
        inst.interrupted = false;
        inst.end_delayed = false;
        inst.start_delayed = false;
        inst.vars.clear();
        if !matches!(inst.status, JobnetStatus::Paused | JobnetStatus::Disabled) {
            inst.status = JobnetStatus::Waiting;
            inst.held_status = None;
        }
    }

    /// Forget the start, day-change and end-delay timers of jobnet `i`.
    fn clear_jobnet_timers(&mut self, i: u32) {
        self.timers.retain(|t| {
            !(t.2.instance == i && matches!(t.1, TimerKind::DayChange | TimerKind::Start | TimerKind::EndDelay))
        });
    }

    /// Recovery change (spec 01 §3.5.4): replace the definition of job `job`
    /// of an abended (or force-terminated) jobnet **without** resetting any
    /// status; a later restart runs the new definition (MODEL-060). Refused
    /// while the jobnet executes (MODEL-061), and for what the spec does not
    /// let a recovery change touch (MODEL-062): the job number, predecessors
    /// and the wait mode (the flow), turning a recovery job into a normal job
    /// or retargeting it, the jobnet of a jobnet icon, its "valid only on
    /// startup days", and the kind between a jobnet icon and a job. Jobs
    /// cannot be added or removed this way. The new job must pass the same
    /// validation as a definition file.
    pub fn recovery_change(
        &mut self,
        now: DateTime<Utc>,
        jobnet: &JobnetKey,
        job: &str,
        new: JobDef,
    ) -> Result<(), Refusal> {
        self.now = now;
        let op = "recovery change";
        let &i = self.by_key.get(jobnet).ok_or_else(|| Refusal::UnknownJobnet(jobnet.to_string()))?;
        let id = self.job_id(jobnet, job).ok_or_else(|| Refusal::UnknownJob(jobnet.to_string(), job.to_string()))?;
        let inst = &self.instances[i as usize];
        let refuse = |reason: &str| Refusal::Refused { op, target: format!("{jobnet}/{job}"), reason: reason.into() };
        if self.env.is_linked_copy(jobnet) || inst.copy_of.is_some() {
            return Err(refuse("a linked jobnet or a copy is not edited directly (0447); change its master"));
        }
        if !matches!(inst.status, JobnetStatus::Abended | JobnetStatus::Cancelled) {
            return Err(Refusal::NotAllowed { op, target: jobnet.to_string(), status: inst.status.to_string() });
        }
        let old = &inst.def.jobs[id.index as usize];
        let target = |r: &Option<crate::model::Recovery>| r.as_ref().map(|r| r.target);
        let checks: [(bool, &str); 9] = [
            (new.number != old.number, "the job number cannot change"),
            (new.after != old.after || new.wait != old.wait, "predecessors (the flow) cannot change"),
            (old.recovery.is_some() && new.recovery.is_none(), "a recovery job cannot become a normal job"),
            (old.recovery.is_none() && new.recovery.is_some(), "a normal job cannot become a recovery job"),
            (target(&new.recovery) != target(&old.recovery), "the recovery target cannot change"),
            (new.recovery != old.recovery, "the recovery attributes (rerun) cannot change"),
            (
                new.is_jobnet_icon() != old.is_jobnet_icon() || (old.is_jobnet_icon() && new.kind != old.kind),
                "a job cannot become a jobnet icon or the reverse",
            ),
            (new.jobnet != old.jobnet || new.master != old.master, "the jobnet of a jobnet icon cannot change"),
            (
                new.valid_only_on_startup_days != old.valid_only_on_startup_days,
                "\"valid only on startup days\" cannot change",
            ),
        ];
        if let Some((_, reason)) = checks.iter().find(|(bad, _)| *bad) {
            return Err(refuse(reason));
        }
        let mut def = (*inst.def).clone();
        def.jobs[id.index as usize] = new.clone();
        let diags = crate::validate::jobnet_jobs(&def);
        if let Some(d) = diags.first() {
            return Err(Refusal::Invalid { field: "job", message: d.to_string() });
        }
        let before = Box::new(old.clone());
        self.set_jobnet_definition(i, def);
        let number = new.number;
        self.record(EventKind::RecoveryChanged { jobnet: jobnet.clone(), job: number, before, after: Box::new(new) });
        Ok(())
    }

    /// Replace jobnet `i`'s definition in the instance and the environment,
    /// keeping every status (same flow).
    pub(super) fn set_jobnet_definition(&mut self, i: u32, def: crate::model::JobnetDef) {
        let def = Arc::new(def);
        let key = self.instances[i as usize].key.clone();
        Arc::make_mut(&mut self.env).jobnets.insert(key, def.clone());
        let inst = &mut self.instances[i as usize];
        inst.flow = Arc::new(Flow::new(&def));
        inst.def = def;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Catalog;
    use crate::engine::{Effect, EngineConfig, JobStatus};
    use crate::exit::ExitCode;

    fn env(text: &str) -> Arc<Environment> {
        let mut cat = Catalog::new();
        cat.add_text("t.toml", text);
        Arc::new(cat.compile().expect("valid"))
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    /// Run until nothing starts, ending every started job with 0.
    fn run_out(e: &mut Engine, now: DateTime<Utc>) {
        loop {
            let mut started = Vec::new();
            while let Some(eff) = e.poll_effect() {
                if let Effect::StartJob(s) = eff {
                    started.push((s.job, s.attempt));
                }
            }
            if started.is_empty() {
                return;
            }
            for (id, attempt) in started {
                e.handle_job_ended(now, id, attempt, ExitCode::from_command(0));
            }
        }
    }

    /// Master M runs child C; linked jobnet L1 (in P1) copies M, `extra` is
    /// added to M's flow and to the definitions.
    fn defs(child_command: &str, extra_icon: &str, extra: &str) -> String {
        format!(
            r#"
            [[jobnet]]
            project = "P"
            name = "M"
            comment = "Master"
            [[jobnet.job]]
            number = 1
            kind = "child_jobnet"
            jobnet = "C"
            {extra_icon}
            [[jobnet]]
            project = "P"
            name = "C"
            comment = "Child"
            [[jobnet.job]]
            number = 1
            command = "{child_command}"
            [[jobnet]]
            project = "P"
            name = "P1"
            comment = "One"
            [[jobnet.job]]
            number = 1
            kind = "linked_jobnet"
            jobnet = "L1"
            master = "M"
            {extra}
            "#
        )
    }

    // Spec 01 §3.6: changes to the master (and to the children below it)
    // reach the linked copies; the generated copies of the children are
    // inner jobnets that a reload resets, adds and never schedules.
    #[test]
    fn spec_3_6_a_reload_resets_and_adds_the_generated_child_copies_of_linked_jobnets() {
        let key = |n: &str| JobnetKey::new("P", n);
        let env1 = env(&defs("work", "", ""));
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env1.clone(), EngineConfig::from_env(&env1), t0);
        assert!(inner_jobnets(&env1).contains(&key("L1_C")));
        e.start_jobnet(t0, &key("P1"), None).expect("start");
        run_out(&mut e, t0);
        assert_eq!(e.jobnet(&key("L1_C")).map(|n| (n.status, n.run)), Some((JobnetStatus::Completed, 1)));

        // C's command changes and M gets a second child D.
        let d_icon = "[[jobnet.job]]\nnumber = 2\nkind = \"child_jobnet\"\njobnet = \"D\"\nafter = [1]";
        let d_net =
            "[[jobnet]]\nproject = \"P\"\nname = \"D\"\ncomment = \"D\"\n[[jobnet.job]]\nnumber = 1\ncommand = \"d\"";
        let env2 = env(&defs("work2", d_icon, d_net));
        let t1 = t("2026-04-01T10:00:00+09:00");
        let report = e.reload(t1, env2).expect("applied");
        for k in ["C", "L1", "L1_C", "M"] {
            assert!(report.changed.contains(&key(k)), "{k} changed: {report:?}");
        }
        assert_eq!(report.added, vec![key("D"), key("L1_D")]);
        assert_eq!(e.jobnet(&key("L1_C")).map(|n| n.status), Some(JobnetStatus::Waiting));
        for k in ["L1_C", "L1_D"] {
            assert_eq!(e.jobnet(&key(k)).and_then(|n| n.next_start), None, "{k} is not scheduled by itself");
        }
        assert_eq!(e.jobs(&key("L1_C")).first().map(|j| j.status), Some(JobStatus::Waiting), "L1_C's jobs are reset");

        // The next run of P1 runs L1_C and L1_D; C and D never run.
        e.start_jobnet(t1, &key("P1"), None).expect("start again");
        run_out(&mut e, t1);
        assert_eq!(e.jobnet(&key("L1_C")).map(|n| n.run), Some(2));
        assert_eq!(e.jobnet(&key("L1_D")).map(|n| (n.status, n.run)), Some((JobnetStatus::Completed, 1)));
        for k in ["C", "D"] {
            assert_eq!(e.jobnet(&key(k)).map(|n| n.run), Some(0), "{k}");
        }
    }

    // A change to a child below a master is refused while a linked copy of
    // that child executes (spec 01 §3.6: refused while a linked copy runs).
    #[test]
    fn spec_3_6_a_child_change_is_refused_while_its_linked_copy_executes() {
        let key = |n: &str| JobnetKey::new("P", n);
        let env1 = env(&defs("work", "", ""));
        let t0 = t("2026-04-01T09:00:00+09:00");
        let mut e = Engine::new(env1.clone(), EngineConfig::from_env(&env1), t0);
        e.start_jobnet(t0, &key("P1"), None).expect("start");
        while e.poll_effect().is_some() {}
        assert_eq!(e.jobnet(&key("L1_C")).map(|n| n.status), Some(JobnetStatus::Executing));
        let refusal = e.reload(t0, env(&defs("work2", "", ""))).expect_err("refused");
        assert!(matches!(&refusal, Refusal::Refused { target, .. } if target == "P/L1_C"), "{refusal:?}");
        assert_eq!(e.jobnet(&key("L1_C")).map(|n| n.status), Some(JobnetStatus::Executing));
    }
}
