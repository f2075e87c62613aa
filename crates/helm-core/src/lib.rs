//! helm-cloud's domain and its use cases: configuration, the deployment registry, resource
//! kinds, the rules (SLOs, issues, remediation policy, audit checks), and the use cases every
//! front end calls the same way (`monitor::{check, performance}`, `investigator::run`,
//! `responder::{resolve, remediation}`, `auditor::audit`, `central::{board, escalate}`),
//! which reach the world only through the traits of [`ports`] and return data.
//!
//! This crate must not depend on the AWS SDK, on the network or on a terminal: everything
//! here is plain data, functions over it, and use cases over the ports, so it is tested with
//! plain unit tests and fakes of the ports and rebuilds in seconds. The AWS adapter
//! (`helm-aws`, which implements the ports) and the front ends (`helm-cloud`) sit on top.

pub mod auditor;
pub mod central;
pub mod clock;
pub mod config;
pub mod error;
pub mod fsutil;
pub mod import;
pub mod init;
pub mod investigator;
pub mod issues;
pub mod kinds;
pub mod monitor;
pub mod notify;
pub mod paths;
pub mod ports;
pub mod registry;
pub mod resource;
pub mod responder;
pub mod router;
pub mod scope;
pub mod site;
pub mod slo;
pub mod state;
pub mod suggest;
#[cfg(test)]
pub(crate) mod testing;
pub mod trust;
pub mod version;
pub mod watch;

pub use error::{CaseError, Error, ErrorKind, Result};
