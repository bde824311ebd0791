//! # woi-core
//!
//! The pure heart of woi, a workload-automation engine with business
//! calendars: the definition model, validation, exit-code semantics and the
//! jobnet [`Engine`]. This crate does no I/O and never reads the system
//! clock; storage, execution and time are the caller's (see `ARCHITECTURE.md`).
//!
//! The roles:
//! - [`model`] — projects, jobnets, jobs, calendars: the definition-file format.
//! - [`defs`] — parse definition text, merge files into a [`Catalog`], compile
//!   an [`Environment`]; [`validate`] reports every problem with file, object and field.
//! - [`exit`] — how an exit code becomes a job status.
//! - [`engine`] — the deterministic state machine: feed it facts and commands,
//!   drain [`Engine::poll_effect`], sleep until [`Engine::poll_timeout`].
//! - [`sim`] — the same engine on a virtual clock with scripted outcomes.
//!
//! ```
//! use std::sync::Arc;
//! use woi_core::{Catalog, Engine, EngineConfig, Effect, ExitCode, JobnetKey, JobnetStatus};
//!
//! let mut cat = Catalog::new();
//! cat.add_text("daily.toml", r#"
//!     [[jobnet]]
//!     project = "SALES"
//!     name = "DAILY"
//!     comment = "Daily"
//!     [[jobnet.job]]
//!     number = 1
//!     command = "extract.sh"
//!     [[jobnet.job]]
//!     number = 2
//!     command = "load.sh"
//!     after = [1]
//! "#);
//! let env = Arc::new(cat.compile().expect("valid definitions"));
//! let t0 = chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap().to_utc();
//! let mut engine = Engine::new(env.clone(), EngineConfig::from_env(&env), t0);
//! let key = JobnetKey::new("SALES", "DAILY");
//! engine.start_jobnet(t0, &key, None).unwrap();
//! // Act on effects: here every started job ends at once with code 0.
//! while let Some(effect) = engine.poll_effect() {
//!     if let Effect::StartJob(s) = effect {
//!         engine.handle_job_ended(t0, s.job, s.attempt, ExitCode::from_command(0));
//!     }
//! }
//! assert_eq!(engine.jobnet(&key).unwrap().status, JobnetStatus::Completed);
//! ```
#![warn(missing_docs)]

pub mod build;
pub mod builtin;
pub mod calendar;
pub mod clock;
pub mod defs;
pub mod engine;
pub mod exec;
pub mod exit;
pub mod messages;
pub mod model;
pub mod plan;
pub mod sim;
pub mod startup;
pub mod store;
pub mod text;
pub mod validate;

pub use clock::{Clock, ManualClock};
pub use defs::{Catalog, Diagnostic, Environment, JobnetKey};
pub use engine::{Effect, Engine, EngineConfig, Event, EventKind, JobId, JobStatus, JobnetStatus, Refusal};
pub use exit::{EndClass, ExitCode, Origin};
