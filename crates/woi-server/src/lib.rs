//! # woi-server
//!
//! The woi daemon: the scheduler loop and the HTTP API. It uses only the
//! public API of woi-core and woi-adapters. The daemon and Web API land with
//! their issues (durable runtime, Web API); until then this crate holds no code.
#![warn(missing_docs)]
