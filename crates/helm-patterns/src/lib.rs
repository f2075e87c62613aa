//! Log template mining for helm-cloud: turns a stream of log messages into templates.
//!
//! This crate owns nothing but the miner and depends on no other helm crate, so it can be
//! benchmarked and reused alone. The miner itself arrives with the investigator issue.
