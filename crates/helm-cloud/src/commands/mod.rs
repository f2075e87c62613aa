//! One module per subcommand. Each returns the exit code of a run that completed.

pub mod audit;
pub mod central;
pub mod config;
pub mod dashboard;
pub mod health;
pub mod init;
pub mod investigate;
pub mod logs;
pub mod metrics;
pub mod notify;
pub mod patterns;
pub mod registry;
pub mod remediate;
pub mod slo;
pub mod state;
pub mod targets;
pub mod watch;
