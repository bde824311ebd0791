//! # woi-adapters
//!
//! The I/O side of woi: reading definition files from disk today; the SQLite
//! store, the process and REST executors and monitoring sinks as they land.
//! Each adapter has its own error type.
#![warn(missing_docs)]

pub mod files;
