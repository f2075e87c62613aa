//! Service level objectives on CloudWatch metrics: error budgets and multi-window,
//! multi-burn-rate alerts (`budget`), the objectives each resource has (`objective`), and
//! the `slo` use case that reads 5-minute buckets through the `Observer` port.

pub mod budget;
pub mod objective;
pub mod report;
