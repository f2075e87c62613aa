//! helm-cloud's adapters for the services that are not AWS: GitHub issues as work items
//! ([`github::GitHub`], a `helm_core::ports::WorkTracker`) and the health commands of other
//! domains ([`command::run_report`]), and alerts to Slack, PagerDuty and webhooks
//! ([`notify::HttpNotifier`], a `helm_core::ports::Notifier`).
//!
//! This crate implements helm-core's ports and owns the HTTP and process plumbing; it holds
//! no domain rule (which command may run, what to escalate: helm-core decides) and must not
//! depend on the AWS SDK or on the binary. Secrets come in from the caller, are sent only
//! to the host given, and never appear in an error.

pub mod command;
pub mod github;
pub mod notify;
pub mod tracker;
