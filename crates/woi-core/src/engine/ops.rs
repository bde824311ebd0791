//! Operator operations (spec 01 §3.3.4, §3.4.3, §3.5): the jobnet operations
//! (pause, continue, disable, enable, confirm, release carry-over, cancel
//! completion, restart; start and cancel live in the parent module), the job
//! operations (restart, pause, continue, disable, enable; cancel in the
//! parent module) and the recovery operations of the jobnet monitor.
//!
//! Each operation either applies or returns a [`Refusal`] and changes nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{Engine, JobId, JobStatus, JobnetStatus, Refusal};
use crate::defs::JobnetKey;
use crate::messages::{self, Level};

/// Recovery operations of the jobnet monitor (spec 01 §3.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryOp {
    /// Run the job (a jobnet icon: its jobnet from the start) and its successors.
    StartFrom,
    /// Jobnet icons only: restart the icon's jobnet from its failed job.
    RestartFrom,
    /// Non-icon jobs only: leave the job as it is and run its successors.
    StartNext,
    /// Non-icon jobs only: run only this job; successors are not run.
    StartOnly,
}

fn refused(op: &'static str, target: String, reason: impl ToString) -> Refusal {
    Refusal::Refused { op, target, reason: reason.to_string() }
}

fn not_allowed(op: &'static str, target: String, status: impl ToString) -> Refusal {
    Refusal::NotAllowed { op, target, status: status.to_string() }
}

impl Engine {
    /// Pause a jobnet. A waiting or finished jobnet keeps its starts: the first
    /// satisfied start condition is remembered and starts it on Continue. An
    /// executing jobnet lets running jobs end but starts no new job.
    pub fn pause_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let inst = &mut self.instances[i as usize];
        if matches!(inst.status, JobnetStatus::Paused | JobnetStatus::Disabled) {
            return Err(not_allowed("pause", format!("jobnet {key}"), inst.status));
        }
        inst.held_status = Some(inst.status);
        inst.pause_trigger = false;
        inst.rescheduled_while_held = false;
        self.set_jobnet_status(i, JobnetStatus::Paused);
        self.settle();
        Ok(())
    }

    /// Release a pause: start now if a start condition was satisfied while
    /// paused; otherwise back to the prior status (`Waiting` when the jobnet
    /// was rescheduled at a day change meanwhile).
    pub fn continue_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let inst = &mut self.instances[i as usize];
        if inst.status != JobnetStatus::Paused {
            return Err(not_allowed("continue", format!("jobnet {key}"), inst.status));
        }
        let prior = inst.held_status.take().unwrap_or(JobnetStatus::Waiting);
        let triggered = std::mem::take(&mut inst.pause_trigger);
        let rescheduled = std::mem::take(&mut inst.rescheduled_while_held);
        if prior.is_running() {
            // Resume the run: its queued jobs take the slots and resources
            // freed while it was paused; evaluate every waiting job again.
            self.set_jobnet_status(i, prior);
            self.wake_waiters();
            self.reevaluate(i);
        } else {
            let back = if rescheduled && prior.is_ended() { JobnetStatus::Waiting } else { prior };
            self.set_jobnet_status(i, back);
            if triggered {
                let inst = &mut self.instances[i as usize];
                inst.started_on = inst.day;
                if inst.def.messages.is_some() && Self::messages_satisfied(inst) {
                    self.try_message_start(i, None);
                } else {
                    self.run_instance(i, None);
                }
            }
        }
        self.settle();
        Ok(())
    }

    /// Disable a jobnet: its start triggers are skipped (0332), message events
    /// are not counted, and as a child it lets its parent's flow continue.
    pub fn disable_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let inst = &mut self.instances[i as usize];
        if inst.status.is_running() || matches!(inst.status, JobnetStatus::Disabled | JobnetStatus::Paused) {
            return Err(not_allowed("disable", format!("jobnet {key}"), inst.status));
        }
        inst.held_status = Some(inst.status);
        inst.rescheduled_while_held = false;
        self.set_jobnet_status(i, JobnetStatus::Disabled);
        self.settle();
        Ok(())
    }

    /// Release a disable: back to the prior status (`Waiting` when rescheduled meanwhile).
    pub fn enable_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let inst = &mut self.instances[i as usize];
        if inst.status != JobnetStatus::Disabled {
            return Err(not_allowed("enable", format!("jobnet {key}"), inst.status));
        }
        let prior = inst.held_status.take().unwrap_or(JobnetStatus::Waiting);
        let rescheduled = std::mem::take(&mut inst.rescheduled_while_held);
        let back = if rescheduled && prior.is_ended() { JobnetStatus::Waiting } else { prior };
        self.set_jobnet_status(i, back);
        self.settle();
        Ok(())
    }

    /// Confirm an abnormally ended or cancelled jobnet so that it may start
    /// again (and be rescheduled at the next day change).
    pub fn confirm_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let st = self.instances[i as usize].status;
        if !matches!(st, JobnetStatus::Abended | JobnetStatus::Cancelled) {
            return Err(not_allowed("confirm", format!("jobnet {key}"), st));
        }
        self.set_jobnet_status(i, JobnetStatus::Confirmed);
        self.settle();
        Ok(())
    }

    /// Release a carry-over: the jobnet counts as finished for the day.
    pub fn release_carry_over(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let st = self.instances[i as usize].status;
        if st != JobnetStatus::CarriedOver {
            return Err(not_allowed("release carry-over", format!("jobnet {key}"), st));
        }
        self.set_jobnet_status(i, JobnetStatus::CarryOverReleased);
        self.settle();
        Ok(())
    }

    /// Cancel completion ("revoke end"): a finished jobnet goes back to
    /// `Waiting` for the current day; a once-a-day message-only jobnet
    /// recognizes its events again.
    pub fn cancel_completion(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let inst = &mut self.instances[i as usize];
        if !(inst.status.is_ended() || inst.status == JobnetStatus::Confirmed) {
            return Err(not_allowed("cancel completion", format!("jobnet {key}"), inst.status));
        }
        inst.started_on = None;
        self.set_jobnet_status(i, JobnetStatus::Waiting);
        self.settle();
        Ok(())
    }

    /// Restart an abended or cancelled jobnet (or the failed jobs of one in
    /// warning) per spec 01 §3.5.1: from the failed jobs, or from the restart
    /// point when the failure is at or after it. Refused while a recovery job runs.
    pub fn restart_jobnet(&mut self, now: DateTime<Utc>, key: &JobnetKey) -> Result<(), Refusal> {
        self.now = now;
        let i = self.instance_of(key)?;
        let st = self.instances[i as usize].status;
        if !matches!(st, JobnetStatus::Abended | JobnetStatus::Cancelled | JobnetStatus::Warning) {
            return Err(not_allowed("restart", format!("jobnet {key}"), st));
        }
        if self.recovery_running(i) {
            return Err(refused("restart", format!("jobnet {key}"), "a recovery job is running"));
        }
        // A child or linked jobnet run by a jobnet icon that has ended with
        // it: the icon mirrors the jobnet (§3.2), so the restart goes through
        // the icon — a job restart while its jobnet still runs, otherwise the
        // parent's restart (which restarts this jobnet from its failed jobs).
        if let Some(icon) = self.instances[i as usize].parent
            && matches!(
                self.instances[icon.instance as usize].jobs[icon.index as usize].status,
                JobStatus::Abended | JobStatus::Cancelled
            )
        {
            let parent = &self.instances[icon.instance as usize];
            if parent.status.is_running() {
                return self.restart_job(now, icon);
            }
            let number = parent.def.jobs[icon.index as usize].number;
            return Err(refused(
                "restart",
                format!("jobnet {key}"),
                format!(
                    "it ran as job {number} of jobnet {}, which has ended: restart {} (its icon restarts this jobnet from its failed jobs)",
                    parent.key, parent.key
                ),
            ));
        }
        self.restart_instance(i);
        self.settle();
        Ok(())
    }

    /// An ended run runs again (restart, job restart, recovery): back to
    /// `Executing` with a new 0328 record. `true` when it had ended.
    fn resume_run(&mut self, i: u32) -> bool {
        let inst = &mut self.instances[i as usize];
        inst.interrupted = false;
        inst.ended_at = None;
        inst.exit_code = None;
        if inst.status.is_running() {
            return false;
        }
        inst.warning = false;
        let (comment, key) = (inst.def.comment.clone(), inst.key.clone());
        self.set_jobnet_status(i, JobnetStatus::Executing);
        self.log(i, Level::Info, messages::started(&comment, &key.jobnet, &key.project));
        true
    }

    fn recovery_running(&self, i: u32) -> bool {
        let inst = &self.instances[i as usize];
        inst.def.jobs.iter().zip(&inst.jobs).any(|(d, j)| d.recovery.is_some() && j.is_active())
    }

    /// The jobs to reset for a restart (the failed jobs, or the restart
    /// point and everything downstream of it), and those of them that lie
    /// downstream of the restart point (they wait for the flow).
    fn restart_set(&self, i: u32) -> (BTreeSet<u32>, BTreeSet<u32>) {
        let inst = &self.instances[i as usize];
        let failed: Vec<u32> = (0..inst.jobs.len() as u32)
            .filter(|&j| {
                matches!(inst.jobs[j as usize].status, JobStatus::Abended | JobStatus::Cancelled)
                    && inst.def.jobs[j as usize].recovery.is_none()
            })
            .collect();
        let mut set: BTreeSet<u32> = failed.iter().copied().collect();
        let mut downstream = BTreeSet::new();
        let rp = inst.def.jobs.iter().position(|d| d.restart_point).map(|p| p as u32);
        if let Some(rp) = rp {
            // The restart point is ignored when a failure lies before it (an ancestor).
            let before = failed.iter().any(|&f| f != rp && self.reaches(i, f, rp));
            if !before && !failed.is_empty() {
                set.insert(rp);
                downstream = self.descendants(i, rp);
                set.extend(downstream.iter().copied());
            }
        }
        (set, downstream)
    }

    fn descendants(&self, i: u32, from: u32) -> BTreeSet<u32> {
        let flow = &self.instances[i as usize].flow;
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for &s in &flow.succs[n as usize] {
                if seen.insert(s) {
                    stack.push(s);
                }
            }
        }
        seen
    }

    fn reaches(&self, i: u32, from: u32, to: u32) -> bool {
        self.descendants(i, from).contains(&to)
    }

    /// Reset the restart set to Waiting and run again; child jobnets of failed
    /// icons restart from their own failed jobs. A failed icon downstream of
    /// the restart point waits for its predecessors like any reset job: its
    /// jobnet restarts when the icon's turn comes ([`JobRt::restart_child`]).
    pub(super) fn restart_instance(&mut self, i: u32) {
        let (set, downstream) = self.restart_set(i);
        self.instances[i as usize].cancelling = false;
        if self.resume_run(i) {
            self.disarm_end_delay(i);
            self.arm_end_delay(i);
        }
        // Reset in reverse topological order is not needed: counters follow each change.
        let mut icons = Vec::new();
        for &j in &set {
            let id = JobId { instance: i, index: j };
            let jr = &self.instances[i as usize].jobs[j as usize];
            if jr.is_active() {
                continue;
            }
            let failed_icon = self.instances[i as usize].def.jobs[j as usize].is_jobnet_icon()
                && matches!(jr.status, JobStatus::Abended | JobStatus::Cancelled);
            let (paused, disabled) = (jr.paused, jr.disabled);
            let to = if disabled {
                JobStatus::Disabled
            } else if paused {
                JobStatus::Paused
            } else {
                JobStatus::Waiting
            };
            self.reset_flags(id);
            self.set_job_status(id, to, None);
            if failed_icon {
                icons.push(id);
            }
        }
        // A failed recovery job of a job rerun is reset with it: it cannot be
        // restarted itself (MODEL-036), so otherwise it would keep the run
        // abended even once its target succeeds; it runs again if the target
        // fails again (spec 01 §3.5.5). A recovery job that completed keeps
        // its result (it runs at most once per run).
        let flow = self.instances[i as usize].flow.clone();
        for &j in &set {
            for &r in &flow.recovery_jobs[j as usize] {
                let id = JobId { instance: i, index: r };
                let rj = &self.instances[i as usize].jobs[r as usize];
                if rj.is_active() || !matches!(rj.status, JobStatus::Abended | JobStatus::Cancelled) {
                    continue;
                }
                let to = if rj.disabled { JobStatus::Disabled } else { JobStatus::Waiting };
                self.reset_flags(id);
                self.set_job_status(id, to, None);
            }
        }
        // OR waits decided by the failure are open again.
        for jr in &mut self.instances[i as usize].jobs {
            if jr.awaits_turn() {
                jr.or_dead = false;
            }
        }
        // Failed jobnet icons restart their jobnet from its failed jobs: now,
        // or when the flow reaches them (downstream of the restart point).
        let (later, icons): (Vec<JobId>, Vec<JobId>) = icons.into_iter().partition(|id| downstream.contains(&id.index));
        for id in later {
            self.instances[i as usize].jobs[id.index as usize].restart_child = true;
        }
        for id in icons {
            if let Some(child) = self.child_of(id).filter(|&c| {
                matches!(self.instances[c as usize].status, JobnetStatus::Abended | JobnetStatus::Cancelled)
            }) {
                self.instances[id.instance as usize].jobs[id.index as usize].attempt += 1;
                self.instances[id.instance as usize].jobs[id.index as usize].started_at = Some(self.now);
                self.set_job_status(id, JobStatus::Executing, None);
                self.instances[child as usize].parent = Some(id);
                self.restart_instance(child);
            }
        }
        self.reevaluate(i);
    }

    /// The OR waits of `id`'s waiting successors that its failure decided
    /// (no predecessor could end normally any more) are open again: it runs again.
    pub(super) fn reopen_or_waits(&mut self, id: JobId) {
        let inst = &mut self.instances[id.instance as usize];
        for &s in &inst.flow.succs[id.index as usize] {
            let j = &mut inst.jobs[s as usize];
            if j.awaits_turn() {
                j.or_dead = false;
            }
        }
    }

    /// Clear a job's per-run flags, keeping its successors' counters right.
    fn reset_flags(&mut self, id: JobId) {
        let j = &self.instances[id.instance as usize].jobs[id.index as usize];
        let (old_bits, old_active) = (j.bits(), j.is_active());
        self.set_skipped(id, false);
        let inst = &mut self.instances[id.instance as usize];
        let j = &mut inst.jobs[id.index as usize];
        j.or_dead = false;
        j.held = false;
        j.delayed = false;
        let (new_bits, new_active) = (j.bits(), j.is_active());
        Self::adjust(inst, new_active, old_active, false, false);
        self.bits_changed(id, old_bits, new_bits);
    }

    /// The instance that jobnet icon `id` runs ([`Engine::icon_target`]).
    fn child_of(&self, id: JobId) -> Option<u32> {
        self.by_key.get(&self.icon_target(id)?).copied()
    }

    /// Queue every waiting, disabled or paused job of an instance for evaluation.
    fn reevaluate(&mut self, i: u32) {
        let n = self.instances[i as usize].jobs.len() as u32;
        for index in 0..n {
            self.worklist.push_back(JobId { instance: i, index });
        }
        self.mark_dirty(i);
    }

    // ----- job operations -------------------------------------------------

    /// Restart an abended or cancelled job of a running (Warning) jobnet: it
    /// runs again and its successors follow. Refused once the jobnet ended
    /// (the jobnet Restart is the way back, spec 01 §3.3.4), while its
    /// recovery job runs, and for recovery jobs.
    pub fn restart_job(&mut self, now: DateTime<Utc>, id: JobId) -> Result<(), Refusal> {
        self.now = now;
        let (name, st) = self.check_job(id)?;
        if !matches!(st, JobStatus::Abended | JobStatus::Cancelled) {
            return Err(not_allowed("restart", format!("job {name}"), st));
        }
        let inst = &self.instances[id.instance as usize];
        // Spec 01 §3.3.4: only while the jobnet runs (Warning); an ended
        // jobnet goes back through the jobnet Restart (§3.5.1).
        if !inst.status.is_running() {
            let reason = if inst.status.is_ended() {
                format!("its jobnet is {} (restart the jobnet instead)", inst.status)
            } else {
                format!("its jobnet is {}", inst.status)
            };
            return Err(refused("restart", format!("job {name}"), reason));
        }
        if inst.def.jobs[id.index as usize].recovery.is_some() {
            return Err(refused("restart", format!("job {name}"), "recovery jobs cannot be restarted"));
        }
        let number = inst.def.jobs[id.index as usize].number;
        let recovering = inst
            .def
            .jobs
            .iter()
            .zip(&inst.jobs)
            .any(|(d, j)| d.recovery.is_some_and(|r| r.target == number) && j.is_active());
        if recovering {
            return Err(refused("restart", format!("job {name}"), "its recovery job is running"));
        }
        // A failed jobnet icon restarts its jobnet from that jobnet's failed
        // jobs (as the jobnet Restart and `restart_from` do, §3.5.1/§3.5.2),
        // not from its first job.
        let failed_child = self.child_of(id).is_some_and(|c| {
            matches!(self.instances[c as usize].status, JobnetStatus::Abended | JobnetStatus::Cancelled)
        });
        self.resume_run(id.instance);
        self.instances[id.instance as usize].jobs[id.index as usize].or_dead = false;
        self.reopen_or_waits(id);
        self.set_job_status(id, JobStatus::Waiting, None);
        self.instances[id.instance as usize].jobs[id.index as usize].restart_child = failed_child;
        self.begin_job(id);
        self.settle();
        Ok(())
    }

    /// Pause a job: while paused it does not start even when its condition
    /// holds (nor do its successors). A finished job is paused for its next run.
    /// A job queued on a resource or a slot is Waiting too: it leaves the
    /// queue, held (its condition is met), and queues again on Continue.
    pub fn pause_job(&mut self, now: DateTime<Utc>, id: JobId) -> Result<(), Refusal> {
        self.now = now;
        let (name, st) = self.check_job(id)?;
        let j = &self.instances[id.instance as usize].jobs[id.index as usize];
        let queued = j.queued;
        if j.paused || st == JobStatus::Disabled || (j.is_active() && !queued) {
            return Err(not_allowed("pause", format!("job {name}"), st));
        }
        self.leave_queue(id);
        self.instances[id.instance as usize].jobs[id.index as usize].paused = true;
        self.record_flags(id);
        if st == JobStatus::Waiting {
            self.set_job_status(id, JobStatus::Paused, None);
            if queued {
                self.set_held(id, true);
            }
        }
        self.settle();
        Ok(())
    }

    /// Release a job's pause: it starts now if its condition was met while
    /// paused, otherwise it waits again.
    pub fn continue_job(&mut self, now: DateTime<Utc>, id: JobId) -> Result<(), Refusal> {
        self.now = now;
        let (name, st) = self.check_job(id)?;
        let j = &self.instances[id.instance as usize].jobs[id.index as usize];
        if !j.paused {
            return Err(not_allowed("continue", format!("job {name}"), st));
        }
        let held = j.held;
        self.instances[id.instance as usize].jobs[id.index as usize].paused = false;
        self.record_flags(id);
        if st == JobStatus::Paused {
            let running = self.instances[id.instance as usize].status.is_running();
            self.set_held(id, false);
            self.set_job_status(id, JobStatus::Waiting, None);
            if held && running {
                self.begin_job(id);
            } else {
                // Evaluated again now, or when a paused jobnet runs again.
                self.worklist.push_back(id);
            }
        }
        self.settle();
        Ok(())
    }

    /// Disable a job: when its turn comes it is skipped and treated as ended
    /// normally, so its successors start.
    pub fn disable_job(&mut self, now: DateTime<Utc>, id: JobId) -> Result<(), Refusal> {
        self.now = now;
        let (name, st) = self.check_job(id)?;
        let j = &self.instances[id.instance as usize].jobs[id.index as usize];
        if j.disabled || (j.is_active() && !j.queued) || st == JobStatus::Paused {
            return Err(not_allowed("disable", format!("job {name}"), st));
        }
        // A job queued on a resource or a slot is Waiting: it leaves the
        // queue and is skipped like any disabled job whose turn has come.
        self.leave_queue(id);
        self.instances[id.instance as usize].jobs[id.index as usize].disabled = true;
        self.record_flags(id);
        if st == JobStatus::Waiting {
            self.set_job_status(id, JobStatus::Disabled, None);
            self.worklist.push_back(id);
        }
        self.settle();
        Ok(())
    }

    /// Release a job's disable: back to waiting (refused once it was skipped in the current run).
    pub fn enable_job(&mut self, now: DateTime<Utc>, id: JobId) -> Result<(), Refusal> {
        self.now = now;
        let (name, st) = self.check_job(id)?;
        let j = &self.instances[id.instance as usize].jobs[id.index as usize];
        if !j.disabled || (st == JobStatus::Disabled && j.skipped) {
            return Err(not_allowed(
                "enable",
                format!("job {name}"),
                if j.skipped { "skipped in this run" } else { "not disabled" },
            ));
        }
        self.instances[id.instance as usize].jobs[id.index as usize].disabled = false;
        self.record_flags(id);
        if st == JobStatus::Disabled {
            self.set_job_status(id, JobStatus::Waiting, None);
            self.worklist.push_back(id);
        }
        self.settle();
        Ok(())
    }

    // ----- recovery operations ---------------------------------------------

    /// A recovery operation of the jobnet monitor (spec 01 §3.5.2) on job `id`.
    pub fn recover(&mut self, now: DateTime<Utc>, id: JobId, op: RecoveryOp) -> Result<(), Refusal> {
        self.now = now;
        let (name, st) = self.check_job(id)?;
        let i = id.instance;
        let target = format!("job {name}");
        let is_icon = self.instances[i as usize].def.jobs[id.index as usize].is_jobnet_icon();
        if self.recovery_running(i) {
            return Err(refused("recovery", target, "a recovery job is running"));
        }
        let jst = self.instances[i as usize].status;
        if matches!(jst, JobnetStatus::Paused | JobnetStatus::Disabled) {
            return Err(refused("recovery", target, format!("its jobnet is {jst}")));
        }
        // Recovery works on a run under monitoring, not on a jobnet waiting to start.
        if matches!(jst, JobnetStatus::Waiting | JobnetStatus::CarriedOver | JobnetStatus::CarryOverReleased)
            || self.instances[i as usize].run == 0
        {
            return Err(refused("recovery", target, format!("its jobnet has not run (it is {jst})")));
        }
        if self.upper_waiting(i) {
            return Err(refused("recovery", target, "an upper-level jobnet is waiting"));
        }
        match (op, is_icon) {
            (RecoveryOp::RestartFrom, false) => {
                return Err(refused("restart from the job", target, "only jobnet icons can be restarted from"));
            }
            (RecoveryOp::StartNext | RecoveryOp::StartOnly, true) => {
                return Err(refused("start only / start from the next job", target, "not available for jobnet icons"));
            }
            _ => {}
        }
        if st.is_active_status() {
            return Err(not_allowed("recovery", target, st));
        }
        let succs = self.descendants(i, id.index);
        let inst = &self.instances[i as usize];
        let succ_started = succs.iter().any(|&s| {
            let j = &inst.jobs[s as usize];
            j.is_active() || j.status.is_final()
        });
        let succ_waiting = succs.iter().any(|&s| inst.jobs[s as usize].status == JobStatus::Waiting);
        match op {
            RecoveryOp::StartOnly if succ_waiting && !succ_started => {
                return Err(refused("start only the job", target, "its successors are waiting"));
            }
            RecoveryOp::StartFrom | RecoveryOp::StartNext | RecoveryOp::RestartFrom if succ_started => {
                return Err(refused("recovery", target, "a successor has already run; use start only"));
            }
            _ => {}
        }
        self.resume_run(i);
        if op != RecoveryOp::StartOnly {
            self.reopen_or_waits(id);
        }
        match op {
            RecoveryOp::StartFrom => {
                self.set_job_status(id, JobStatus::Waiting, None);
                self.begin_job(id);
            }
            RecoveryOp::RestartFrom => {
                if let Some(child) = self.child_of(id) {
                    self.instances[i as usize].jobs[id.index as usize].attempt += 1;
                    self.set_job_status(id, JobStatus::Executing, None);
                    self.instances[child as usize].parent = Some(id);
                    self.restart_instance(child);
                }
            }
            RecoveryOp::StartNext => {
                // The job keeps its status; its successors run as if it had ended normally.
                for s in self.instances[i as usize].flow.succs[id.index as usize].clone() {
                    let sid = JobId { instance: i, index: s };
                    if self.instances[i as usize].jobs[s as usize].status == JobStatus::Waiting {
                        self.begin_job(sid);
                    }
                }
            }
            RecoveryOp::StartOnly => {
                // Successors that already ran are not run again: detach them by
                // running the job alone (they keep their status).
                self.set_job_status(id, JobStatus::Waiting, None);
                self.begin_job(id);
            }
        }
        self.mark_dirty(i);
        self.settle();
        Ok(())
    }

    /// Whether an upper-level jobnet (the parent that ran it, or the jobnet
    /// that defines it as a child) is waiting.
    fn upper_waiting(&self, i: u32) -> bool {
        let up = |i: u32| self.instances[i as usize].parent.map(|p| p.instance).or_else(|| self.defining_parent(i));
        let mut cur = up(i);
        let mut steps = 0;
        while let Some(p) = cur {
            if self.instances[p as usize].status == JobnetStatus::Waiting {
                return true;
            }
            steps += 1;
            if steps > crate::text::limits::HIERARCHY_DEPTH {
                break;
            }
            cur = up(p);
        }
        false
    }

    /// The instance whose definition runs `i` as a child or linked jobnet
    /// (icons resolved in their own flow: inside a linked jobnet a child icon
    /// runs the generated copy, not the master's child).
    fn defining_parent(&self, i: u32) -> Option<u32> {
        let key = &self.instances[i as usize].key;
        self.instances
            .iter()
            .position(|inst| {
                inst.key.project == key.project
                    && inst.def.jobs.iter().any(|j| {
                        j.is_jobnet_icon()
                            && *key == self.env.child_key(&inst.key, j.jobnet.as_deref().unwrap_or_default())
                    })
            })
            .map(|p| p as u32)
    }
}

impl super::JobRt {
    /// Whether the job's turn has not come yet in this run: waiting, paused,
    /// or disabled and not yet skipped (an OR wait it decides may reopen).
    fn awaits_turn(&self) -> bool {
        match self.status {
            JobStatus::Waiting | JobStatus::Paused => true,
            JobStatus::Disabled => !self.skipped,
            _ => false,
        }
    }
}

impl JobStatus {
    fn is_active_status(self) -> bool {
        matches!(self, JobStatus::Executing | JobStatus::Warning)
    }
}
