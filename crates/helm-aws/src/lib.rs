//! helm-cloud's AWS adapter. It owns every AWS SDK client: [`AwsClients`] is the one place
//! that builds them (credentials, region, endpoint override, retry and timeouts), and
//! [`AwsError`] names the API call and the resource of every failure. SDK types never
//! leave this crate; callers get helm-core's types or plain data. It implements helm-core's
//! AWS ports (`Observer`, `LogSource`, `Actuator`, `SecurityFacts`, `ComplianceFacts`,
//! `CostFacts`) for [`AwsClients`], pages with the SDK's paginators, and holds no rule of
//! its own (what a state proves, what to check: helm-core decides). It must not depend on
//! the binary.

pub mod audit;
mod clients;
mod cloudwatch;
mod cost;
mod error;
mod estate;
pub mod fanout;
pub mod health;
mod logs;
mod responder;
pub mod state;
mod status;
mod sts;
mod sweep;

pub use clients::{AwsClients, CallRecord, CallSink, ClientSettings, StaticKeys};
pub use cloudwatch::{AlarmInfo, MAX_QUERIES_PER_CALL, MetricQuery, MetricSeries};
pub use cost::{CostPeriod, LogGroupInfo};
pub use error::{AwsError, AwsErrorKind};
pub use logs::{LogEvent, LogSweep};
pub use responder::{ActionRun, ActionTarget, Change, RESTART_MARKER};
pub use status::{DbInstance, EcsService, LambdaState};
pub use sts::CallerIdentity;
