//! What the use cases need from the world, in the operator's words. Adapters implement
//! these (helm-aws for AWS, the fakes in tests); no SDK type crosses them. A front end (the
//! CLI today; `watch`, `mcp` and `serve` next) builds the adapters and calls the use case.

use crate::resource::ResourceKind;
use crate::responder::catalogue::ActionId;
pub use crate::responder::state::{ActionState, Receipt, Verdict};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

/// Why a call to the world failed, as the use cases and front ends need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer: connection refused, DNS, timeout; or throttled / 5xx after retries.
    Unavailable,
    /// Access denied, or credentials missing or expired.
    PermissionDenied,
    /// The named target does not exist.
    NotFound,
    /// Any other refusal (a validation error…).
    Rejected,
}

/// A failed call: what failed, on what, in one line, and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: FailureKind,
    /// `service:Operation` (`ec2:DescribeSecurityGroups`).
    pub api: String,
    /// The service's error code, when it answered with one.
    pub code: Option<String>,
    /// What went wrong, without the API: `endpoint unreachable`, `access denied`…
    pub cause: String,
    /// The full line (`lambda:GetFunctionConfiguration failed on api: …`), redacted.
    pub message: String,
    /// One line in the operator's words (`lambda:GetFunctionConfiguration on api: not found`).
    pub brief: String,
    pub hint: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// The world did not answer, or answered without the data: `message` is the one line
    /// (also the brief), `cause` what went wrong without the API.
    pub fn unavailable(
        api: &str,
        cause: impl Into<String>,
        message: String,
        hint: &str,
    ) -> Failure {
        Failure {
            kind: FailureKind::Unavailable,
            api: api.into(),
            code: None,
            cause: cause.into(),
            brief: message.clone(),
            message,
            hint: hint.into(),
        }
    }
}

/// The resource an action acts on, as the APIs name it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionTarget {
    pub region: String,
    /// Function, service, DB instance or distribution id.
    pub name: String,
    /// ECS cluster.
    pub cluster: Option<String>,
}

/// What an action changes to. The numbers are range-checked (`responder::limits`) before a
/// `Change` is built, and typed as the APIs take them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// scale_resources / increase_capacity: the new desired count, reserved concurrency,
    /// desired capacity (Auto Scaling) or open shard count (Kinesis).
    pub value: Option<i32>,
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub paths: Vec<String>,
    /// restart_lambda: the marker value (a timestamp).
    pub marker: Option<String>,
    /// restart_lambda: the revision id the plan showed; AWS refuses the update if the
    /// function changed since.
    pub revision_id: Option<String>,
    /// When the change was requested (reboot_rds is verified by a reboot event after it).
    pub requested_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One action on one resource.
#[derive(Debug, Clone, Copy)]
pub struct ActionRun<'a> {
    pub action: ActionId,
    pub kind: ResourceKind,
    pub target: &'a ActionTarget,
    pub change: &'a Change,
}

/// What a remediation reads and changes.
pub trait Actuator {
    /// The state `action` would change (the plan's `current`, the history's before/after).
    fn state(
        &self,
        action: ActionId,
        kind: ResourceKind,
        target: &ActionTarget,
    ) -> impl Future<Output = Result<ActionState, Failure>>;

    /// The account's unreserved Lambda concurrency in `region`.
    fn unreserved_concurrency(&self, region: &str) -> impl Future<Output = Result<i64, Failure>>;

    /// Make the change; what AWS answered that verification needs (an invalidation id…).
    fn apply(&self, run: ActionRun<'_>) -> impl Future<Output = Result<Receipt, Failure>>;

    /// Check the change took effect, waiting at most `wait`: the verdict, and the state
    /// after (None when it could not be read).
    fn verify(
        &self,
        run: ActionRun<'_>,
        before: &ActionState,
        applied: &Receipt,
        wait: Duration,
    ) -> impl Future<Output = (Verdict, Option<ActionState>)>;
}

/// A person's confirmation of a plan: a terminal prompt, an MCP elicitation.
pub trait Confirmer {
    /// Whether a person can be asked at all (a terminal is attached…).
    fn can_ask(&self) -> bool;
    /// Show `plan` and ask; true only when the person confirmed `expected`.
    fn confirm(&self, plan: &str, question: &str, expected: &str) -> std::io::Result<bool>;
}

/// One metric statistic to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    /// `Sum`, `Average`, `p95`…
    pub stat: String,
    pub period_secs: i32,
    /// The account whose metric it is (None: the project's own credentials). An adapter
    /// that spans accounts reads each account's queries with that account's credentials.
    pub account: Option<String>,
}

/// What came back for one query: datapoints oldest first, or why there are none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricSeries {
    pub points: Vec<(chrono::DateTime<chrono::Utc>, f64)>,
    pub error: Option<String>,
}

/// What a health check reads: the status, metrics and alarms of many resources at once.
pub trait Observer {
    /// Raw metric data of `region` over `[start, end)`: one answer per query, in order.
    fn metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = Result<Vec<MetricSeries>, Failure>>;

    /// One observation per target, in order; failures are confined to the resources they
    /// concern (an unreadable resource's observation says why).
    fn observe(
        &self,
        targets: &[crate::monitor::check::Target],
        opts: &crate::monitor::check::HealthOptions,
    ) -> impl Future<Output = Vec<crate::monitor::Observation>>;

    /// One resource's own status, where a list could not say it.
    fn detail_status(
        &self,
        target: &crate::monitor::check::Target,
        environment: &str,
    ) -> impl Future<Output = crate::monitor::StatusObs>;
}

/// What a security audit reads of the account (`auditor::security`'s facts).
pub trait SecurityFacts {
    /// Ingress rules open to the world in `region`.
    fn open_ingress(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<crate::auditor::security::OpenRule>, Failure>>;
    fn bucket_facts(
        &self,
        region: &str,
        id: &str,
        name: &str,
    ) -> impl Future<Output = Result<crate::auditor::security::BucketFacts, Failure>>;
    /// Every DB instance of `region`: (instance name, publicly accessible, encrypted).
    fn db_instances(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<(String, bool, bool)>, Failure>>;
    fn lambda_security(
        &self,
        region: &str,
        id: &str,
        name: &str,
    ) -> impl Future<Output = Result<crate::auditor::security::LambdaFacts, Failure>>;
    fn customer_policies(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::auditor::security::PolicyFacts>, Failure>>;
    /// The security settings of one resource of a kind `security::kind_checks` lists.
    fn kind_security(
        &self,
        kind: crate::resource::ResourceKind,
        region: &str,
        id: &str,
        name: &str,
        arn: &str,
    ) -> impl Future<Output = Result<crate::auditor::security::KindFacts, Failure>>;
    fn security_hub_findings(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<crate::auditor::security::HubFinding>, Failure>>;
}

/// What a compliance audit reads of the account, beyond the security facts.
pub trait ComplianceFacts: SecurityFacts {
    /// The password policy's minimum length (None: no policy).
    fn password_min_length(&self) -> impl Future<Output = Result<Option<i32>, Failure>>;
    /// (root MFA enabled, root has access keys).
    fn root_account(&self) -> impl Future<Output = Result<(bool, bool), Failure>>;
    /// Multi-region trails that are logging.
    fn logging_multi_region_trails(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<String>, Failure>>;
    fn account_id(&self) -> impl Future<Output = Result<String, Failure>>;
    /// Account-level S3 Block Public Access: all four on, some off, or not configured.
    fn account_public_access_block(
        &self,
        region: &str,
        account: &str,
    ) -> impl Future<Output = Result<Option<bool>, Failure>>;
    fn ebs_default_encryption(&self, region: &str) -> impl Future<Output = Result<bool, Failure>>;
    /// (VPCs, those without flow logs).
    fn vpcs_without_flow_logs(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<(usize, Vec<String>), Failure>>;
    fn config_recording(&self, region: &str) -> impl Future<Output = Result<bool, Failure>>;
    fn config_rule_compliance(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<crate::auditor::compliance::RuleCompliance>, Failure>>;
}

/// Unblended cost by service for one period of Cost Explorer.
#[derive(Debug, Clone, PartialEq)]
pub struct CostPeriod {
    /// `YYYY-MM-DD`, inclusive.
    pub start: String,
    pub by_service: Vec<(String, f64)>,
}

/// A log group's retention and size.
#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupInfo {
    pub name: String,
    pub retention_days: Option<i32>,
    pub stored_bytes: i64,
}

/// One log event.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub message: String,
    pub stream: String,
}

/// What a sweep of one log group read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSweep {
    pub events: u64,
    pub pages: u64,
    /// The log group does not exist.
    pub missing: bool,
}

/// What `logs` and `investigate` read: log events, and which groups a resource logs to.
pub trait LogSource {
    /// Every event of `group` in `[start_ms, end_ms]` matching the service-side `pattern`,
    /// oldest first, handed to `each` until it returns false.
    fn filter_events(
        &self,
        region: &str,
        group: &str,
        start_ms: i64,
        end_ms: i64,
        pattern: Option<&str>,
        each: &mut dyn FnMut(LogEvent) -> bool,
    ) -> impl Future<Output = Result<LogSweep, Failure>>;

    /// The awslogs groups of an ECS service's task definition.
    fn ecs_log_groups(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
    ) -> impl Future<Output = Result<Vec<String>, Failure>>;

    /// The CloudWatch Logs groups a resource of another kind writes to, where the service
    /// says: a state machine's logging destination, an ElastiCache cluster's log delivery,
    /// an SNS topic's delivery-status groups. None known: empty.
    fn kind_log_groups(
        &self,
        _kind: crate::resource::ResourceKind,
        _region: &str,
        _name: &str,
        _arn: &str,
    ) -> impl Future<Output = Result<Vec<String>, Failure>> {
        async { Ok(Vec::new()) }
    }
}

/// What a cost audit reads beyond the metrics: costs, DB classes and log groups.
pub trait CostFacts: LogSource {
    /// Cost by service from `start` to `end` (`YYYY-MM-DD`), daily or monthly, and how many
    /// requests it took (each Cost Explorer request is charged).
    fn cost_and_usage(
        &self,
        start: &str,
        end: &str,
        daily: bool,
    ) -> impl Future<Output = Result<(Vec<CostPeriod>, u32), Failure>>;
    /// (instance name, instance class) of every DB instance of `region`.
    fn db_classes(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Failure>>;
    /// Log groups whose name starts with `prefix`.
    fn log_groups(
        &self,
        region: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<LogGroupInfo>, Failure>>;
}

/// A work item in a tracker (a GitHub issue, a Markdown file).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// `owner/repo#42`, `file:…`.
    pub id: String,
    pub url: Option<String>,
}

/// Where escalated issues become work items.
pub trait WorkTracker {
    /// A work item already carrying `marker` (the trace of an escalation whose answer was
    /// lost); `key` is the id.
    fn find(&self, key: &str, marker: &str) -> Result<Option<WorkItem>, crate::CaseError>;
    fn create(
        &self,
        key: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<WorkItem, crate::CaseError>;
    /// The issue `key` resolved: say so on work item `item_id` (`comment`) and close it.
    fn close(&self, key: &str, item_id: &str, comment: &str) -> Result<(), crate::CaseError>;
}

/// Why a channel did not take an event.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// 429, 5xx, a timeout or a network error: worth another try, after `after` when the
    /// service said (`Retry-After`).
    Retry {
        reason: String,
        after: Option<std::time::Duration>,
    },
    /// Any other 4xx: the service will never take this event as it is.
    Rejected { status: u16, reason: String },
    /// The channel cannot be reached as configured (its secret is not in the environment):
    /// the event waits until it is.
    NotConfigured { reason: String },
}

impl SendError {
    pub fn reason(&self) -> &str {
        match self {
            SendError::Retry { reason, .. }
            | SendError::Rejected { reason, .. }
            | SendError::NotConfigured { reason } => reason,
        }
    }
}

/// Where alerts go: Slack, PagerDuty, webhooks. It renders `event` as `channel`'s service
/// documents, reads the channel's secret from the process environment at send time, and
/// never puts that secret in a `SendError`.
pub trait Notifier {
    fn send(
        &self,
        channel: &crate::notify::Channel,
        event: &crate::notify::Event,
    ) -> Result<(), SendError>;
}

/// Where the dashboard and `status` read each domain's newest health report.
pub trait DomainReports {
    /// helm-cloud's own newest saved report of `environment`; None when there is none.
    fn own_report(&self, environment: &str) -> impl Future<Output = Option<Value>>;
    /// What an external domain's health command printed for `environment` (a JSON health
    /// report), or why there is none (it failed, timed out, printed no JSON).
    fn external_report(
        &self,
        command: &str,
        environment: &str,
    ) -> impl Future<Output = Result<Value, String>>;
}

/// What `audit --scope account` reads of a region: every resource of the swept families,
/// each family its own result (`auditor::account`).
pub trait AccountFacts {
    fn region_sweep(
        &self,
        region: &str,
    ) -> impl Future<Output = crate::auditor::account::RegionSweep>;
    /// The account-wide families (IAM, S3, CloudTrail), read through `region`.
    fn account_wide(
        &self,
        region: &str,
    ) -> impl Future<Output = crate::auditor::account::AccountWide>;
}

/// What `registry import` and `registry drift` read of what describes an estate:
/// CloudFormation stacks and the Resource Groups Tagging API.
pub trait Estate {
    /// The names of every stack of `region` that exists (not deleted).
    fn stack_names(&self, region: &str) -> impl Future<Output = Result<Vec<String>, Failure>>;
    /// A stack and its resources (None: no such stack).
    fn stack(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<crate::import::Stack>, Failure>>;
    /// The ARNs of `region`'s resources tagged `key=value`, each with its tags.
    fn tagged(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<Vec<(String, Value)>, Failure>>;
    /// The load balancer each of these target groups forwards from (an Application one
    /// first), by group ARN; a group attached to none is absent.
    fn group_balancers(
        &self,
        _region: &str,
        _groups: &[String],
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, Failure>> {
        async { Ok(std::collections::BTreeMap::new()) }
    }
}
