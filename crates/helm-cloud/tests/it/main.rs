//! The `helm-cloud` binary end to end: exit codes, stdout/stderr, files on disk, and AWS
//! through the emulator. One test binary for the crate (link time on 2 cores).

mod support;

mod accounts;
mod audit;
mod audit_account;
mod audit_security;
mod aws;
mod central;
mod cli;
mod config;
mod faber;
mod faults;
mod health;
mod hostile;
mod init;
mod investigate;
mod lifecycle;
mod mcp;
mod notify;
mod plugins;
mod registry;
mod remediate;
mod safety;
mod serve;
mod slo;
mod state;
mod storm;
mod watch;
