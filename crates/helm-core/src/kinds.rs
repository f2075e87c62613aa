//! What helm-cloud knows of each resource kind, in one table: how its error rate and
//! latency SLOs are measured, what its findings are called, which series the sparklines
//! draw, and which action fits a failed check. A test checks the table against the metric
//! specs (`monitor::spec`) and the action catalogue, so a kind added here and not there, or
//! an action that does not apply to the kind, fails.

use crate::resource::ResourceKind;
use crate::responder::catalogue::ActionId;

/// How a kind's error rate is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    /// (errors, total) report keys: rate = Σ errors / Σ total. More than one key adds
    /// series up: an ALB's errors are its own 5XX and its targets', an SNS topic's total is
    /// its failed and delivered notifications.
    Ratio(&'static [&'static str], &'static [&'static str]),
    /// A report key that is already a percent.
    Percent(&'static str),
    /// None can be: why (shown as "not evaluated").
    None(&'static str),
}

/// A series `performance` describes: a report key as it is, or a ratio of two count
/// series in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesSource {
    Key(&'static str),
    /// (part, total): Σ part / Σ total × 100 per period, periods without traffic skipped.
    Ratio(&'static [&'static str], &'static [&'static str]),
}

/// One series of `performance`: (label, unit, source).
pub type Trend = (&'static str, &'static str, SeriesSource);

/// One kind's row of the table.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub kind: ResourceKind,
    /// In findings' titles: "Lambda error rate exceeds SLO".
    pub title: &'static str,
    pub error_rate: RateSource,
    /// The CloudWatch metric an error-rate finding names.
    pub error_metric: &'static str,
    /// (SLO key, report key of the metric that measures it).
    pub latency: &'static [(&'static str, &'static str)],
    /// Report keys of the two sparkline series.
    pub error_series: Option<&'static str>,
    pub latency_series: Option<&'static str>,
    /// The action that fits a failed check: (check, or a family ending in `:`, action).
    pub fixes: &'static [(&'static str, ActionId)],
    /// The SLO-relevant series `performance` describes.
    pub trends: &'static [Trend],
    /// The CloudWatch metric `performance` suggests for a rising latency.
    pub latency_cw_metric: &'static str,
}

use ActionId as A;
use ResourceKind as K;
use SeriesSource as S;

pub const KINDS: [KindInfo; 17] = [
    KindInfo {
        kind: K::Lambda,
        title: "Lambda",
        error_rate: RateSource::Ratio(&["errors"], &["invocations"]),
        error_metric: "Errors",
        latency: &[("p95_latency_ms", "duration_p95_ms")],
        error_series: Some("errors"),
        latency_series: Some("duration_p95_ms"),
        fixes: &[
            ("error_rate", A::RestartLambda),
            ("availability", A::RestartLambda),
            ("p95_latency", A::RestartLambda),
            ("status", A::RestartLambda),
            ("alarm:", A::RestartLambda),
            ("cpu", A::IncreaseCapacity),
            ("memory", A::IncreaseCapacity),
        ],
        trends: &[
            ("error rate", "%", S::Ratio(&["errors"], &["invocations"])),
            ("p95 duration", "ms", S::Key("duration_p95_ms")),
            ("invocations", "", S::Key("invocations")),
        ],
        latency_cw_metric: "Duration",
    },
    KindInfo {
        kind: K::Ecs,
        title: "ECS service",
        // Through its target group (`target_group_arn` and `load_balancer_arn` on the
        // entry); without them the error rate is not evaluated, with the reason.
        error_rate: RateSource::Ratio(&["tg_target_5xx"], &["tg_requests"]),
        error_metric: "HTTPCode_Target_5XX_Count",
        latency: &[
            ("p95_response_time_ms", "tg_response_time_p95_ms"),
            ("p95_latency_ms", "tg_response_time_p95_ms"),
        ],
        error_series: Some("tg_target_5xx"),
        latency_series: Some("cpu_avg_percent"),
        fixes: &[
            ("tasks", A::RestartEcsService),
            ("status", A::RestartEcsService),
            ("error_rate", A::RestartEcsService),
            ("availability", A::RestartEcsService),
            ("alarm:", A::RestartEcsService),
            ("cpu", A::IncreaseCapacity),
            ("memory", A::IncreaseCapacity),
        ],
        trends: &[
            ("CPU", "%", S::Key("cpu_avg_percent")),
            ("memory", "%", S::Key("memory_avg_percent")),
            (
                "target 5XX rate",
                "%",
                S::Ratio(&["tg_target_5xx"], &["tg_requests"]),
            ),
            (
                "p95 target response time",
                "ms",
                S::Key("tg_response_time_p95_ms"),
            ),
        ],
        latency_cw_metric: "CPUUtilization",
    },
    KindInfo {
        kind: K::Rds,
        title: "RDS instance",
        error_rate: RateSource::None("RDS publishes no error-rate metric"),
        error_metric: "Errors",
        latency: &[],
        error_series: None,
        latency_series: Some("cpu_avg_percent"),
        fixes: &[
            ("status", A::RebootRds),
            ("cpu", A::RebootRds),
            ("memory", A::RebootRds),
        ],
        trends: &[
            ("CPU", "%", S::Key("cpu_avg_percent")),
            ("connections", "", S::Key("connections_max")),
        ],
        latency_cw_metric: "ReadLatency",
    },
    KindInfo {
        kind: K::S3,
        title: "S3 bucket",
        error_rate: RateSource::Ratio(&["errors_5xx"], &["requests"]),
        error_metric: "5xxErrors",
        latency: &[("get_latency_ms", "first_byte_latency_avg_ms")],
        error_series: Some("errors_5xx"),
        latency_series: Some("first_byte_latency_avg_ms"),
        fixes: &[],
        trends: &[
            ("error rate", "%", S::Ratio(&["errors_5xx"], &["requests"])),
            (
                "first-byte latency",
                "ms",
                S::Key("first_byte_latency_avg_ms"),
            ),
        ],
        latency_cw_metric: "FirstByteLatency",
    },
    KindInfo {
        kind: K::CloudFront,
        title: "CloudFront distribution",
        error_rate: RateSource::Percent("error_rate_5xx_percent"),
        error_metric: "5xxErrorRate",
        latency: &[],
        error_series: Some("error_rate_5xx_percent"),
        latency_series: None,
        fixes: &[
            ("error_rate", A::InvalidateCloudfront),
            ("availability", A::InvalidateCloudfront),
        ],
        trends: &[
            ("5xx error rate", "%", S::Key("error_rate_5xx_percent")),
            ("requests", "", S::Key("requests")),
        ],
        latency_cw_metric: "5xxErrorRate",
    },
    KindInfo {
        kind: K::ApiGateway,
        title: "API Gateway",
        error_rate: RateSource::Ratio(&["errors_5xx"], &["requests"]),
        error_metric: "5XXError",
        latency: &[
            ("p95_latency_ms", "latency_p95_ms"),
            ("p95_response_time_ms", "latency_p95_ms"),
        ],
        error_series: Some("errors_5xx"),
        latency_series: Some("latency_p95_ms"),
        fixes: &[],
        trends: &[
            ("error rate", "%", S::Ratio(&["errors_5xx"], &["requests"])),
            ("p95 latency", "ms", S::Key("latency_p95_ms")),
        ],
        latency_cw_metric: "Latency",
    },
    KindInfo {
        kind: K::DynamoDb,
        title: "DynamoDB table",
        error_rate: RateSource::None("DynamoDB publishes no request count to divide by"),
        error_metric: "Errors",
        latency: &[("p95_latency_ms", "latency_p95_ms")],
        error_series: Some("system_errors"),
        latency_series: Some("latency_p95_ms"),
        fixes: &[],
        trends: &[
            ("p95 latency", "ms", S::Key("latency_p95_ms")),
            ("throttled requests", "", S::Key("throttled_requests")),
        ],
        latency_cw_metric: "SuccessfulRequestLatency",
    },
    KindInfo {
        kind: K::Sqs,
        title: "SQS queue",
        error_rate: RateSource::None("SQS has no error rate"),
        error_metric: "Errors",
        latency: &[],
        error_series: None,
        latency_series: Some("oldest_message_age_max_s"),
        fixes: &[],
        trends: &[
            (
                "oldest message age",
                "s",
                S::Key("oldest_message_age_max_s"),
            ),
            ("visible messages", "", S::Key("visible_messages_max")),
        ],
        latency_cw_metric: "ApproximateAgeOfOldestMessage",
    },
    KindInfo {
        kind: K::StepFunctions,
        title: "Step Functions state machine",
        error_rate: RateSource::Ratio(&["executions_failed"], &["executions_started"]),
        error_metric: "ExecutionsFailed",
        latency: &[("p95_latency_ms", "execution_time_p95_ms")],
        error_series: Some("executions_failed"),
        latency_series: Some("execution_time_p95_ms"),
        // No action restarts a workflow: the fix is in what it calls.
        fixes: &[],
        trends: &[
            (
                "failed executions",
                "%",
                S::Ratio(&["executions_failed"], &["executions_started"]),
            ),
            ("p95 execution time", "ms", S::Key("execution_time_p95_ms")),
            ("executions", "", S::Key("executions_started")),
            ("throttled", "", S::Key("executions_throttled")),
        ],
        latency_cw_metric: "ExecutionTime",
    },
    KindInfo {
        kind: K::EventBridge,
        title: "EventBridge rule",
        error_rate: RateSource::Ratio(&["failed_invocations"], &["invocations"]),
        error_metric: "FailedInvocations",
        latency: &[],
        error_series: Some("failed_invocations"),
        latency_series: Some("invocations"),
        fixes: &[],
        trends: &[
            (
                "failed invocations",
                "%",
                S::Ratio(&["failed_invocations"], &["invocations"]),
            ),
            ("invocations", "", S::Key("invocations")),
            ("throttled", "", S::Key("throttled_rules")),
        ],
        latency_cw_metric: "Invocations",
    },
    KindInfo {
        kind: K::Alb,
        title: "Application Load Balancer",
        // What clients got: the balancer's own 5XX (no healthy target, a timeout) and its
        // targets' 5XX, over every request.
        error_rate: RateSource::Ratio(&["elb_5xx", "target_5xx"], &["requests"]),
        error_metric: "HTTPCode_ELB_5XX_Count",
        latency: &[
            ("p95_latency_ms", "target_response_time_p95_ms"),
            ("p95_response_time_ms", "target_response_time_p95_ms"),
        ],
        error_series: Some("elb_5xx"),
        latency_series: Some("target_response_time_p95_ms"),
        // Its targets are fixed where they run (their ECS service or instance group).
        fixes: &[],
        trends: &[
            (
                "5XX rate",
                "%",
                S::Ratio(&["elb_5xx", "target_5xx"], &["requests"]),
            ),
            (
                "p95 target response time",
                "ms",
                S::Key("target_response_time_p95_ms"),
            ),
            ("requests", "", S::Key("requests")),
            ("rejected connections", "", S::Key("rejected_connections")),
        ],
        latency_cw_metric: "TargetResponseTime",
    },
    KindInfo {
        kind: K::Sns,
        title: "SNS topic",
        // A message fans out to every subscription: the rate is of deliveries, failed
        // over attempted (failed + delivered), not over messages published.
        error_rate: RateSource::Ratio(&["failed"], &["failed", "delivered"]),
        error_metric: "NumberOfNotificationsFailed",
        latency: &[],
        error_series: Some("failed"),
        latency_series: Some("published"),
        fixes: &[],
        trends: &[
            (
                "failed deliveries",
                "%",
                S::Ratio(&["failed"], &["failed", "delivered"]),
            ),
            ("published", "", S::Key("published")),
            ("delivered", "", S::Key("delivered")),
        ],
        latency_cw_metric: "NumberOfMessagesPublished",
    },
    KindInfo {
        kind: K::Nlb,
        title: "Network Load Balancer",
        // TCP passes through: no request errors exist. The resets the balancer itself sends
        // (no healthy target to open a flow to, a flow's idle timeout) over new flows are the
        // closest thing to refused connections.
        error_rate: RateSource::Ratio(&["elb_resets"], &["new_flows"]),
        error_metric: "TCP_ELB_Reset_Count",
        latency: &[],
        error_series: Some("elb_resets"),
        latency_series: Some("active_flows_max"),
        fixes: &[],
        trends: &[
            (
                "balancer resets per new flow",
                "%",
                S::Ratio(&["elb_resets"], &["new_flows"]),
            ),
            ("new flows", "", S::Key("new_flows")),
            ("target resets", "", S::Key("target_resets")),
            ("active flows", "", S::Key("active_flows_max")),
        ],
        latency_cw_metric: "ActiveFlowCount",
    },
    KindInfo {
        kind: K::TargetGroup,
        title: "Target group",
        // Its targets' 5XX over its requests (an ALB's group; an NLB's has no HTTP metrics
        // and is judged by its targets' health alone).
        error_rate: RateSource::Ratio(&["tg_target_5xx"], &["tg_requests"]),
        error_metric: "HTTPCode_Target_5XX_Count",
        latency: &[
            ("p95_latency_ms", "tg_response_time_p95_ms"),
            ("p95_response_time_ms", "tg_response_time_p95_ms"),
        ],
        error_series: Some("tg_target_5xx"),
        latency_series: Some("tg_response_time_p95_ms"),
        // The targets are fixed where they run (their ECS service or instance group).
        fixes: &[],
        trends: &[
            ("healthy hosts", "", S::Key("healthy_hosts_min")),
            ("unhealthy hosts", "", S::Key("unhealthy_hosts_max")),
            (
                "target 5XX rate",
                "%",
                S::Ratio(&["tg_target_5xx"], &["tg_requests"]),
            ),
            (
                "p95 target response time",
                "ms",
                S::Key("tg_response_time_p95_ms"),
            ),
        ],
        latency_cw_metric: "TargetResponseTime",
    },
    KindInfo {
        kind: K::Kinesis,
        title: "Kinesis stream",
        // A producer's records refused for throughput over all it tried to put
        // (IncomingRecords counts the accepted ones).
        error_rate: RateSource::Ratio(
            &["write_throttled"],
            &["incoming_records", "write_throttled"],
        ),
        error_metric: "WriteProvisionedThroughputExceeded",
        // How far its slowest consumer is behind, judged by health only (a maximum over
        // time, not a per-request latency, so it has no error budget).
        latency: &[("iterator_age_ms", "iterator_age_max_ms")],
        error_series: Some("write_throttled"),
        latency_series: Some("iterator_age_max_ms"),
        // Throttled writes want more shards; a lagging consumer is fixed in the consumer.
        fixes: &[("error_rate", A::IncreaseCapacity)],
        trends: &[
            (
                "throttled writes",
                "%",
                S::Ratio(
                    &["write_throttled"],
                    &["incoming_records", "write_throttled"],
                ),
            ),
            ("iterator age", "ms", S::Key("iterator_age_max_ms")),
            ("incoming records", "", S::Key("incoming_records")),
            ("throttled reads", "", S::Key("read_throttled")),
        ],
        latency_cw_metric: "GetRecords.IteratorAgeMilliseconds",
    },
    KindInfo {
        kind: K::ElastiCache,
        title: "ElastiCache cluster",
        error_rate: RateSource::None("a cache has no error count (a miss is not an error)"),
        error_metric: "Evictions",
        latency: &[],
        error_series: Some("evictions"),
        latency_series: Some("cpu_avg_percent"),
        fixes: &[],
        trends: &[
            ("CPU", "%", S::Key("cpu_avg_percent")),
            ("memory", "%", S::Key("memory_avg_percent")),
            ("evictions", "", S::Key("evictions")),
            (
                "hit rate",
                "%",
                S::Ratio(&["cache_hits"], &["cache_hits", "cache_misses"]),
            ),
        ],
        latency_cw_metric: "CPUUtilization",
    },
    KindInfo {
        kind: K::Asg,
        title: "Auto Scaling group",
        error_rate: RateSource::None("an instance group has no request count"),
        error_metric: "StatusCheckFailed",
        latency: &[],
        error_series: Some("status_check_failed_max"),
        latency_series: Some("cpu_avg_percent"),
        fixes: &[
            ("capacity", A::IncreaseCapacity),
            ("cpu", A::IncreaseCapacity),
        ],
        trends: &[
            ("CPU", "%", S::Key("cpu_avg_percent")),
            (
                "failed status checks",
                "",
                S::Key("status_check_failed_max"),
            ),
        ],
        latency_cw_metric: "CPUUtilization",
    },
];

/// How `resource`'s error rate is measured: its kind's source, or why it cannot be when a
/// metric the source needs cannot be addressed for this resource (an ECS service whose
/// entry names no target group).
pub fn error_rate_of(
    kind: ResourceKind,
    resource: &crate::registry::Resource,
    environment: &str,
) -> Result<RateSource, String> {
    let src = info(kind).error_rate;
    match src {
        RateSource::Ratio(bad, total) => {
            for key in bad.iter().chain(total.iter()) {
                addressable(kind, resource, key, environment)?;
            }
        }
        RateSource::Percent(key) => addressable(kind, resource, key, environment)?,
        RateSource::None(why) => return Err(why.to_string()),
    }
    Ok(src)
}

/// Whether the metric of report key `key` can be read for `resource`, or why not.
pub fn addressable(
    kind: ResourceKind,
    resource: &crate::registry::Resource,
    key: &str,
    environment: &str,
) -> Result<(), String> {
    match crate::monitor::spec::metrics(kind)
        .iter()
        .find(|m| m.key == key)
    {
        Some(m) => crate::monitor::spec::query_dimensions(resource, m, environment).map(|_| ()),
        None => Err(format!("no {kind} metric {key}")),
    }
}

/// The row of `kind`.
pub fn info(kind: ResourceKind) -> &'static KindInfo {
    KINDS
        .iter()
        .find(|k| k.kind == kind)
        .expect("every kind has a row (tested)")
}

impl KindInfo {
    /// The report key measuring an SLO key, when the kind has one.
    pub fn latency_metric(&self, slo_key: &str) -> Option<&'static str> {
        self.latency
            .iter()
            .find(|(k, _)| *k == slo_key)
            .map(|(_, m)| *m)
    }

    /// The action that fits a failed `check`.
    pub fn fix(&self, check: &str) -> Option<ActionId> {
        self.fixes
            .iter()
            .find(|(c, _)| *c == check || (c.ends_with(':') && check.starts_with(c)))
            .map(|(_, a)| *a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::spec;
    use crate::responder::catalogue;

    #[test]
    fn every_kind_has_one_row_consistent_with_its_metrics_and_actions() {
        for kind in ResourceKind::ALL {
            let rows: Vec<_> = KINDS.iter().filter(|k| k.kind == kind).collect();
            assert_eq!(rows.len(), 1, "{kind}");
            let row = rows[0];
            let keys: Vec<&str> = spec::metrics(kind).iter().map(|m| m.key).collect();
            let known = |k: &str| keys.contains(&k);
            match row.error_rate {
                RateSource::Ratio(a, b) => {
                    assert!(!a.is_empty() && !b.is_empty(), "{kind}");
                    for k in a.iter().chain(b.iter()) {
                        assert!(known(k), "{kind}: {k}");
                    }
                }
                RateSource::Percent(k) => assert!(known(k), "{kind}: {k}"),
                RateSource::None(why) => assert!(!why.is_empty()),
            }
            for (_, m) in row.latency {
                assert!(known(m), "{kind}: latency {m} is not one of its metrics");
            }
            for s in [row.error_series, row.latency_series].into_iter().flatten() {
                assert!(known(s), "{kind}: series {s}");
            }
            assert!(!row.trends.is_empty(), "{kind}: no trend series");
            for (label, _, src) in row.trends {
                match src {
                    SeriesSource::Key(k) => assert!(known(k), "{kind}: trend {label}: {k}"),
                    SeriesSource::Ratio(a, b) => {
                        for k in a.iter().chain(b.iter()) {
                            assert!(known(k), "{kind}: trend {label}: {k}")
                        }
                    }
                }
            }
            let names: Vec<&str> = spec::metrics(kind).iter().map(|m| m.name).collect();
            assert!(
                names.contains(&row.latency_cw_metric),
                "{kind}: {} is not one of its CloudWatch metrics ({names:?})",
                row.latency_cw_metric
            );
            for (check, action) in row.fixes {
                let a = catalogue::find(action.name()).unwrap();
                assert!(
                    a.kinds.contains(&kind),
                    "{kind}: {check} → {action} does not apply"
                );
            }
        }
    }
}

#[cfg(test)]
mod readme {
    //! The README's per-kind and per-action tables are checked against the kind table, the
    //! metric specs and the catalogue: a kind, metric or action added here and not there
    //! fails.
    use super::*;
    use crate::monitor::spec;
    use crate::responder::catalogue;

    fn readme() -> String {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
        std::fs::read_to_string(format!("{dir}/../../README.md")).expect("README.md")
    }

    /// The table rows whose first cell is `first`.
    fn row<'a>(text: &'a str, first: &str) -> Option<&'a str> {
        text.lines().find(|l| {
            l.starts_with('|')
                && l.split('|').nth(1).map(|c| c.trim().trim_matches('`')) == Some(first)
        })
    }

    #[test]
    fn every_kind_has_a_readme_row_naming_each_of_its_metrics() {
        let text = readme();
        for kind in ResourceKind::ALL {
            let r = row(&text, kind.as_str())
                .unwrap_or_else(|| panic!("README: no row for kind {kind} in the per-kind table"));
            for m in spec::metrics(kind) {
                assert!(
                    r.contains(m.name),
                    "README: the {kind} row does not name {}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn every_runnable_action_has_a_readme_row_with_its_kinds() {
        let text = readme();
        for name in catalogue::runnable() {
            let a = catalogue::find(name).unwrap();
            let r = text
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}`")))
                .unwrap_or_else(|| panic!("README: no row for action {name}"));
            for k in a.kinds {
                assert!(
                    r.split('|').nth(2).is_some_and(|c| c.contains(k.as_str())),
                    "README: the {name} row does not list kind {k}"
                );
            }
        }
    }
}
