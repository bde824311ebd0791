//! Helpers shared by the CLI integration tests.

pub mod cli;
pub mod server;
