//! Engine throughput (filled in below once the engine lands).
fn main() {}
