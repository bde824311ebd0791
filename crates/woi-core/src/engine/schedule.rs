//! Time-driven behavior of top-level jobnets: start times on startup days
//! (spec 01 §2.4.1), the start-trigger table by status (§3.4.1), day-change
//! processing (§3.4.2), start and end delays (§3.13), and the environment
//! start (`environment_start` jobnets).
//!
//! Every top-level jobnet has one day-change timer (its calendar's next
//! day-change instant) and at most one start timer (its next planned start,
//! from [`crate::plan::next_start_after`]). A start belongs to an operating
//! day; it fires only if the jobnet was scheduled for that day — an abended
//! or cancelled jobnet is not rescheduled at the day change until confirmed,
//! so its starts of later days do not fire at all (MODEL-044). A carried-over
//! jobnet's start time is refused (WARNING 0331). A start occurrence (its
//! operating day and local time of day) fires at most once, also when
//! applied definitions move it (see [`Engine::reschedule_from_definitions`]).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{Engine, EventKind, Instance, JobId, JobnetStatus, TimerKind};
use crate::calendar::{day_change_instant, day_change_of, operating_day, time_of_operating_day};
use crate::messages::{self, Level};
use crate::model::{EstimatedEnd, StartCondition, TimeCombination};
use crate::plan::{self, StartKind};
use crate::startup;

/// Most already-arrived starts skipped when arming the next one.
const MAX_SKIPPED: usize = 64;

impl Engine {
    /// Arm the day-change and start timers of every top-level jobnet as of `now`.
    pub(super) fn init_schedules(&mut self, now: DateTime<Utc>) {
        for i in 0..self.instances.len() as u32 {
            if !self.instances[i as usize].top_level {
                continue;
            }
            self.schedule_instance(i, now);
        }
    }

    /// Set the operating day of top-level jobnet `i` and arm its day change
    /// and its next start at or after `now`.
    pub(super) fn schedule_instance(&mut self, i: u32, now: DateTime<Utc>) {
        let day = self.day_of(i, now);
        let startup = self.is_startup_day(i, day);
        let inst = &mut self.instances[i as usize];
        inst.day = Some(day);
        inst.startup_day = startup;
        self.arm_day_change(i, day);
        // A start exactly at `now` still counts.
        self.arm_next_start(i, now - Duration::nanoseconds(1));
    }

    /// The environment (scheduler) started: start `environment_start` jobnets
    /// once per operating day, on startup days.
    pub fn start_environment(&mut self, now: DateTime<Utc>) {
        self.now = now;
        if !self.config.schedules {
            return;
        }
        for i in 0..self.instances.len() as u32 {
            let inst = &self.instances[i as usize];
            if !inst.top_level || inst.def.start != StartCondition::EnvironmentStart || !inst.startup_day {
                continue;
            }
            if inst.started_on.is_some() && inst.started_on == inst.day {
                continue;
            }
            self.trigger_start(i);
        }
        self.settle();
    }

    fn day_of(&self, i: u32, at: DateTime<Utc>) -> chrono::NaiveDate {
        let def = &self.instances[i as usize].def;
        operating_day(self.env.tz, day_change_of(&self.env, def), at)
    }

    fn is_startup_day(&self, i: u32, day: chrono::NaiveDate) -> bool {
        let inst = &self.instances[i as usize];
        startup::is_startup_day(&self.env, &self.env.templates, &inst.key, day)
    }

    fn jobnet_timer(i: u32) -> JobId {
        JobId { instance: i, index: 0 }
    }

    pub(super) fn arm_day_change(&mut self, i: u32, day: chrono::NaiveDate) {
        let Some(next) = day.succ_opt() else { return };
        let dct = day_change_of(&self.env, &self.instances[i as usize].def);
        let at = day_change_instant(self.env.tz, dct, next);
        self.timers.insert((at, TimerKind::DayChange, Self::jobnet_timer(i), 0));
    }

    /// Arm the first start after `after` whose time has not already arrived
    /// (a start occurrence is its operating day and local time of day, so one
    /// that moved with a new day-change time is not started twice).
    pub(super) fn arm_next_start(&mut self, i: u32, after: DateTime<Utc>) {
        if !self.config.schedules {
            return;
        }
        let key = self.instances[i as usize].key.clone();
        let mut after = after;
        let mut next = None;
        for _ in 0..MAX_SKIPPED {
            match plan::next_start_after(&self.env, &key, after) {
                Some(s) if self.already_fired(i, s.operating_day, s.at) => after = s.at,
                found => {
                    next = found;
                    break;
                }
            }
        }
        if let Some(s) = &next {
            self.timers.insert((s.at, TimerKind::Start, Self::jobnet_timer(i), 0));
        }
        self.instances[i as usize].next_start = next;
    }

    /// Whether the start of operating day `day` at instant `at` (identified by
    /// its local time of day) already arrived for jobnet `i`.
    pub(super) fn already_fired(&self, i: u32, day: NaiveDate, at: DateTime<Utc>) -> bool {
        let time = at.with_timezone(&self.env.tz).time();
        self.instances[i as usize].fired.contains(&(day, time))
    }

    /// Remember that the start of operating day `day` at `at` arrived (kept
    /// for that day and the day before only).
    pub(super) fn note_fired(&mut self, i: u32, day: NaiveDate, at: DateTime<Utc>) {
        let time = at.with_timezone(&self.env.tz).time();
        let fired = &mut self.instances[i as usize].fired;
        let oldest = day.pred_opt().unwrap_or(day);
        fired.retain(|(d, _)| *d >= oldest);
        if !fired.contains(&(day, time)) {
            fired.push((day, time));
        }
    }

    /// Definitions were applied and jobnet `i` (top level, definition
    /// unchanged) may now be scheduled differently: a calendar it uses got
    /// another day-change time or other holidays, a template or base jobnet
    /// changed (spec 01 §3.9, MODEL-085, §3.12 step 5). Its status is kept;
    /// its day change and next start are computed again from the new
    /// definitions. A start still ahead on the current operating day is
    /// kept, one that already arrived is not repeated. When the new
    /// day-change time puts `now` into a later operating day, that day
    /// change is processed now; it never goes back to an earlier day.
    pub(super) fn reschedule_from_definitions(&mut self, i: u32, day_change_moved: bool) {
        let now = self.now;
        self.timers.retain(|t| !(t.2.instance == i && matches!(t.1, TimerKind::DayChange | TimerKind::Start)));
        let new_day = self.day_of(i, now);
        match self.instances[i as usize].day {
            Some(day) if day_change_moved && new_day > day => self.day_change(i),
            Some(day) => {
                let startup = self.is_startup_day(i, day);
                self.instances[i as usize].startup_day = startup;
                self.arm_day_change(i, day.max(new_day));
            }
            None => self.schedule_instance(i, now),
        }
        self.arm_next_start(i, now - Duration::nanoseconds(1));
    }

    /// The day-change instant of a top-level jobnet arrived (spec 01 §3.4.2).
    pub(super) fn day_change(&mut self, i: u32) {
        let now = self.now;
        let new_day = self.day_of(i, now);
        let startup = self.is_startup_day(i, new_day);
        let inst = &mut self.instances[i as usize];
        let old_day = inst.day;
        // A time-started jobnet is rescheduled only for a startup day; on other
        // days it keeps showing how its last run ended. So is a message-only
        // jobnet valid only on startup days; other message-only jobnets wait
        // every day (spec 01 §3.4.2).
        let time_started = matches!(
            inst.def.start,
            StartCondition::Time(_)
                | StartCondition::Times(_)
                | StartCondition::Interval(_)
                | StartCondition::EnvironmentStart
        );
        let only_startup_days =
            time_started || inst.def.messages.as_ref().is_some_and(|m| m.valid_only_on_startup_days);
        // A jobnet with `carry_over_at_day_change` that was to start on the
        // day that ends and did not start on it is carried over — whether or
        // not it ever ran before (spec 01 §3.4.2).
        let carry_over = inst.def.messages.as_ref().is_some_and(|m| m.carry_over_at_day_change)
            && inst.status == JobnetStatus::Waiting
            && (inst.startup_day || !only_startup_days)
            && inst.started_on != old_day;
        let next_status = match inst.status {
            JobnetStatus::Completed
            | JobnetStatus::PseudoNormal
            | JobnetStatus::Confirmed
            | JobnetStatus::CarryOverReleased
                if only_startup_days && !startup =>
            {
                Some(inst.status)
            }
            JobnetStatus::Completed
            | JobnetStatus::PseudoNormal
            | JobnetStatus::Confirmed
            | JobnetStatus::CarryOverReleased
            | JobnetStatus::Waiting => Some(if carry_over { JobnetStatus::CarriedOver } else { JobnetStatus::Waiting }),
            // Not rescheduled until confirmed (5.3.1).
            JobnetStatus::Abended | JobnetStatus::Cancelled => None,
            JobnetStatus::Paused | JobnetStatus::Disabled => {
                inst.rescheduled_while_held = true;
                Some(inst.status)
            }
            JobnetStatus::Executing | JobnetStatus::Warning | JobnetStatus::CarriedOver => Some(inst.status),
        };
        if let Some(status) = next_status {
            inst.day = Some(new_day);
            inst.startup_day = startup;
            inst.time_reached = false;
            inst.start_delayed = false;
            if !inst.status.is_running() {
                inst.end_delayed = false;
            }
            self.set_jobnet_status(i, status);
        }
        self.arm_day_change(i, new_day);
    }

    /// The armed start time of a top-level jobnet arrived.
    pub(super) fn start_time_reached(&mut self, i: u32) {
        let now = self.now;
        let Some(planned) = self.instances[i as usize].next_start.take() else { return };
        self.note_fired(i, planned.operating_day, planned.at);
        self.arm_next_start(i, now);
        let jobnet = self.instances[i as usize].key.clone();
        self.record(EventKind::StartTriggered { jobnet, planned: planned.at, operating_day: planned.operating_day });
        let inst = &self.instances[i as usize];
        // Only starts of the operating day the jobnet is scheduled for fire.
        if inst.day != Some(planned.operating_day) {
            return;
        }
        // Carried over, and the day's scheduled start time arrives: refused
        // (spec 01 §3.4.1).
        if inst.status == JobnetStatus::CarriedOver {
            let (comment, key) = (inst.def.comment.clone(), inst.key.clone());
            self.log(i, Level::Warning, messages::refused(&comment, &key.jobnet, &key.project));
            return;
        }
        match planned.kind {
            StartKind::Time => self.trigger_start(i),
            StartKind::TimeIfEvents => {
                if Self::messages_satisfied(inst) {
                    self.instances[i as usize].time_reached = true;
                    self.try_message_start(i, None);
                } else {
                    self.instances[i as usize].time_reached = true;
                    self.start_delay(i);
                }
            }
            StartKind::Scheduled => {
                let started_today = inst.started_on.is_some() && inst.started_on == inst.day;
                if !started_today && !inst.status.is_running() {
                    self.start_delay(i);
                }
            }
        }
    }

    fn start_delay(&mut self, i: u32) {
        let inst = &mut self.instances[i as usize];
        if inst.start_delayed {
            return;
        }
        inst.start_delayed = true;
        let text = messages::start_delayed(&inst.key.project, &inst.key.jobnet);
        self.log(i, Level::Warning, text);
    }

    /// A start condition is satisfied: start, remember, refuse (0331) or skip
    /// (0332) by the jobnet's status (spec 01 §3.4.1).
    pub(super) fn trigger_start(&mut self, i: u32) {
        let inst = &mut self.instances[i as usize];
        let (comment, key) = (inst.def.comment.clone(), inst.key.clone());
        match inst.status {
            JobnetStatus::Waiting
            | JobnetStatus::Completed
            | JobnetStatus::PseudoNormal
            | JobnetStatus::Confirmed
            | JobnetStatus::CarryOverReleased => {
                inst.started_on = inst.day;
                inst.run_day = inst.day;
                self.run_instance(i, None);
            }
            JobnetStatus::Paused if !inst.pause_trigger => inst.pause_trigger = true,
            JobnetStatus::Disabled => {
                self.log(i, Level::Warning, messages::skipped(&comment, &key.jobnet, &key.project));
            }
            _ => self.log(i, Level::Warning, messages::refused(&comment, &key.jobnet, &key.project)),
        }
    }

    /// Arm end-delay monitoring for a run that starts now, or resumes now
    /// after a restart (spec 01 §3.13, MODEL-123). Each run (and each
    /// restart of a run) is monitored anew: a relative estimate counts from
    /// its actual (re)start; an absolute one is the estimated end of the
    /// operating day, monitored only for a run that starts before it.
    pub(super) fn arm_end_delay(&mut self, i: u32) {
        let now = self.now;
        self.instances[i as usize].end_delayed = false;
        let inst = &self.instances[i as usize];
        let Some(end) = &inst.def.estimated_end else { return };
        let at = match end {
            EstimatedEnd::AfterMinutes(m) => now + Duration::minutes(i64::from(*m)),
            EstimatedEnd::At(hm) => {
                let day = inst.day.unwrap_or_else(|| self.day_of(i, now));
                let at = time_of_operating_day(self.env.tz, day_change_of(&self.env, &inst.def), day, *hm);
                if at <= now {
                    return;
                }
                at
            }
        };
        let run = self.instances[i as usize].run;
        self.timers.insert((at, TimerKind::EndDelay, Self::jobnet_timer(i), run));
    }

    /// Forget the end-delay deadline armed for jobnet `i`'s current run (a
    /// restart arms a new one for the same run).
    pub(super) fn disarm_end_delay(&mut self, i: u32) {
        self.timers.retain(|t| !(t.1 == TimerKind::EndDelay && t.2.instance == i));
    }

    pub(super) fn end_delay_reached(&mut self, i: u32, run: u32) {
        let inst = &mut self.instances[i as usize];
        if inst.run != run || !inst.status.is_running() || inst.end_delayed {
            return;
        }
        inst.end_delayed = true;
        let text = messages::end_delayed(&inst.key.project, &inst.key.jobnet);
        self.log(i, Level::Warning, text);
    }

    /// Whether a jobnet's message wait combines with its start time by AND.
    pub(super) fn is_and_time(inst: &Instance) -> bool {
        inst.def.messages.as_ref().is_some_and(|m| m.with_time == TimeCombination::AndTime)
            && !matches!(inst.def.start, StartCondition::MessageOnly(_) | StartCondition::None)
    }
}
