//! # woi-adapters
//!
//! The I/O side of woi: reading definition files from disk ([`files`]), running
//! jobs as local processes ([`process::ProcessExecutor`]), the SQLite store
//! ([`sqlite::SqliteStore`]: journal, definitions, output, run history); the
//! REST executor and monitoring sinks as they land. Each adapter has its own
//! error type.
#![warn(missing_docs)]

pub mod auth;
pub mod executors;
pub mod files;
pub mod process;
pub mod rest;
pub mod runtime;
pub mod scheduler;
pub mod sqlite;
