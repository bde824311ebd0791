//! Time for the adapters: every wait (first-monitor delay, polling interval)
//! and every instant (SigV4 date, token expiry) goes through a [`Timer`].
//!
//! [`TokioTimer`] is the real one; [`VirtualTimer`] advances a virtual clock
//! instantly and records the waits, so polling tests take no time.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The adapters' clock and sleeper.
#[async_trait]
pub trait Timer: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Wait `d`. Cancelled by dropping the future.
    async fn sleep(&self, d: Duration);
}

/// System time and `tokio::time::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioTimer;

#[async_trait]
impl Timer for TokioTimer {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

#[derive(Debug)]
struct VirtualState {
    now: DateTime<Utc>,
    sleeps: Vec<Duration>,
    hang_at: Option<usize>,
    hung: bool,
}

/// A virtual clock: `sleep` advances it at once and records the duration.
/// Optionally the n-th sleep never ends (to stop a job "during a wait").
#[derive(Debug)]
pub struct VirtualTimer {
    state: Mutex<VirtualState>,
    hung: tokio::sync::Notify,
}

impl VirtualTimer {
    /// A clock reading `start`.
    pub fn new(start: DateTime<Utc>) -> VirtualTimer {
        VirtualTimer {
            state: Mutex::new(VirtualState { now: start, sleeps: Vec::new(), hang_at: None, hung: false }),
            hung: tokio::sync::Notify::new(),
        }
    }

    /// Make the `n`-th sleep (1-based) wait forever.
    pub fn hang_at_sleep(&self, n: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.hang_at = Some(n);
        }
    }

    /// Wait until a sleep hangs (see [`VirtualTimer::hang_at_sleep`]).
    pub async fn hung(&self) {
        loop {
            let notified = self.hung.notified();
            if self.state.lock().map(|s| s.hung).unwrap_or(false) {
                return;
            }
            notified.await;
        }
    }

    /// The sleeps so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().map(|s| s.sleeps.clone()).unwrap_or_default()
    }

    /// Move the clock forward without sleeping.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.now += chrono::Duration::from_std(d).unwrap_or_default();
        }
    }
}

#[async_trait]
impl Timer for VirtualTimer {
    fn now(&self) -> DateTime<Utc> {
        self.state.lock().map(|s| s.now).unwrap_or_default()
    }

    async fn sleep(&self, d: Duration) {
        let hang = match self.state.lock() {
            Ok(mut s) => {
                s.sleeps.push(d);
                if s.hang_at == Some(s.sleeps.len()) {
                    s.hung = true;
                    true
                } else {
                    s.now += chrono::Duration::from_std(d).unwrap_or_default();
                    false
                }
            }
            Err(_) => false,
        };
        if hang {
            self.hung.notify_waiters();
            std::future::pending::<()>().await;
        }
        tokio::task::yield_now().await;
    }
}
