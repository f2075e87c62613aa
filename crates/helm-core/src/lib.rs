//! helm-cloud's domain: configuration, the deployment registry, resource kinds and the
//! rules that later issues build on (SLOs, issues, remediation policy).
//!
//! This crate must not depend on the AWS SDK, on the network or on a terminal: everything
//! here is plain data and functions over it, so it is tested with plain unit tests and
//! rebuilds in seconds. The AWS adapter (`helm-aws`) and the binary (`helm-cloud`) sit on
//! top of it.

pub mod auditor;
pub mod central;
pub mod clock;
pub mod config;
pub mod error;
pub mod fsutil;
pub mod init;
pub mod investigator;
pub mod issues;
pub mod monitor;
pub mod paths;
pub mod ports;
pub mod registry;
pub mod resource;
pub mod responder;
pub mod router;
pub mod suggest;
pub mod trust;
pub mod version;

pub use error::{Error, ErrorKind, Result};
