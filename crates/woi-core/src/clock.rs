//! The time seam. woi-core never reads the system clock: every engine method
//! takes `now`, and drivers get it from a [`Clock`].

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// How long to really wait for `d` of this clock's time to pass (a
    /// sped-up test clock waits less). Negative durations wait zero.
    fn to_real(&self, d: chrono::Duration) -> std::time::Duration {
        d.to_std().unwrap_or_default()
    }
}

/// A clock that stands still until moved: for tests and simulation.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    /// Move the clock to `at` (it may not go backwards; earlier values are ignored).
    pub fn set(&self, at: DateTime<Utc>) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if at > *t {
            *t = at;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_goes_back() {
        let t0 = DateTime::<Utc>::from_timestamp(1_000, 0).unwrap_or_default();
        let c = ManualClock::new(t0);
        c.set(t0 + chrono::Duration::seconds(5));
        c.set(t0);
        assert_eq!(c.now(), t0 + chrono::Duration::seconds(5));
    }
}
