//! What each resource kind exposes to the monitor: the CloudWatch metrics to fetch, their
//! dimensions, and how its status words are classified. Kinds are data here (after Cloud
//! Custodian's resource manager), so adding a metric is one line.

use crate::registry::Resource;
use crate::resource::{ResourceKind, Target};

/// A CloudWatch statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Sum,
    Average,
    Maximum,
    Minimum,
    /// A percentile, `p95` → 95.0.
    Percentile(f64),
}

impl Stat {
    /// The name GetMetricData takes.
    pub fn api_name(self) -> String {
        match self {
            Stat::Sum => "Sum".into(),
            Stat::Average => "Average".into(),
            Stat::Maximum => "Maximum".into(),
            Stat::Minimum => "Minimum".into(),
            Stat::Percentile(p) => format!("p{}", trim_float(p)),
        }
    }

    /// Parse `Sum`, `avg`, `p95`… (case-insensitive).
    pub fn parse(s: &str) -> Option<Stat> {
        let l = s.to_ascii_lowercase();
        match l.as_str() {
            "sum" => Some(Stat::Sum),
            "average" | "avg" | "mean" => Some(Stat::Average),
            "maximum" | "max" => Some(Stat::Maximum),
            "minimum" | "min" => Some(Stat::Minimum),
            _ => l
                .strip_prefix('p')
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|p| *p > 0.0 && *p < 100.0)
                .map(Stat::Percentile),
        }
    }

    /// Whether the values of consecutive periods add up (Sum): a missing period counts 0.
    pub fn is_count(self) -> bool {
        matches!(self, Stat::Sum)
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// One metric of a kind, under the key the report uses.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    /// The report's key (`errors`, `duration_p95_ms`).
    pub key: &'static str,
    pub namespace: &'static str,
    pub name: &'static str,
    pub stat: Stat,
    /// Extra fixed dimensions (S3 storage type, request-metrics filter).
    pub extra_dims: &'static [(&'static str, &'static str)],
    /// What a datapoint is multiplied by to give the report's unit (an ALB's response
    /// time is in seconds, its key in ms: 1000).
    pub scale: f64,
}

const fn m(
    key: &'static str,
    namespace: &'static str,
    name: &'static str,
    stat: Stat,
) -> MetricSpec {
    MetricSpec {
        key,
        namespace,
        name,
        stat,
        extra_dims: &[],
        scale: 1.0,
    }
}

/// A metric in seconds reported in ms.
const fn in_ms(spec: MetricSpec) -> MetricSpec {
    MetricSpec {
        scale: 1000.0,
        ..spec
    }
}

/// The namespace of an ECS service's metrics read through its load-balancer target group.
const ALB_NS: &str = "AWS/ApplicationELB";

const LAMBDA: &[MetricSpec] = &[
    m("invocations", "AWS/Lambda", "Invocations", Stat::Sum),
    m("errors", "AWS/Lambda", "Errors", Stat::Sum),
    m("throttles", "AWS/Lambda", "Throttles", Stat::Sum),
    m("duration_avg_ms", "AWS/Lambda", "Duration", Stat::Average),
    m(
        "duration_p95_ms",
        "AWS/Lambda",
        "Duration",
        Stat::Percentile(95.0),
    ),
    m(
        "duration_p99_ms",
        "AWS/Lambda",
        "Duration",
        Stat::Percentile(99.0),
    ),
    m(
        "concurrent_executions_max",
        "AWS/Lambda",
        "ConcurrentExecutions",
        Stat::Maximum,
    ),
];

const ECS: &[MetricSpec] = &[
    m(
        "cpu_avg_percent",
        "AWS/ECS",
        "CPUUtilization",
        Stat::Average,
    ),
    m(
        "cpu_max_percent",
        "AWS/ECS",
        "CPUUtilization",
        Stat::Maximum,
    ),
    m(
        "memory_avg_percent",
        "AWS/ECS",
        "MemoryUtilization",
        Stat::Average,
    ),
    m(
        "memory_max_percent",
        "AWS/ECS",
        "MemoryUtilization",
        Stat::Maximum,
    ),
    ECS_TG[0],
    ECS_TG[1],
    ECS_TG[2],
];

// An ECS service's request metrics are its target group's (read only when the registry
// names the target group and its load balancer: see `query_dimensions`).
const ECS_TG: [MetricSpec; 3] = [
    m("tg_requests", ALB_NS, "RequestCount", Stat::Sum),
    m(
        "tg_target_5xx",
        ALB_NS,
        "HTTPCode_Target_5XX_Count",
        Stat::Sum,
    ),
    in_ms(m(
        "tg_response_time_p95_ms",
        ALB_NS,
        "TargetResponseTime",
        Stat::Percentile(95.0),
    )),
];

const RDS: &[MetricSpec] = &[
    m(
        "cpu_avg_percent",
        "AWS/RDS",
        "CPUUtilization",
        Stat::Average,
    ),
    m(
        "cpu_max_percent",
        "AWS/RDS",
        "CPUUtilization",
        Stat::Maximum,
    ),
    m(
        "connections_max",
        "AWS/RDS",
        "DatabaseConnections",
        Stat::Maximum,
    ),
    m(
        "freeable_memory_min_bytes",
        "AWS/RDS",
        "FreeableMemory",
        Stat::Minimum,
    ),
    m(
        "read_latency_avg_s",
        "AWS/RDS",
        "ReadLatency",
        Stat::Average,
    ),
    m(
        "write_latency_avg_s",
        "AWS/RDS",
        "WriteLatency",
        Stat::Average,
    ),
];

const S3_REQUESTS: &[(&str, &str)] = &[("FilterId", "EntireBucket")];
const S3: &[MetricSpec] = &[
    MetricSpec {
        extra_dims: S3_REQUESTS,
        ..m("requests", "AWS/S3", "AllRequests", Stat::Sum)
    },
    MetricSpec {
        extra_dims: S3_REQUESTS,
        ..m("errors_4xx", "AWS/S3", "4xxErrors", Stat::Sum)
    },
    MetricSpec {
        extra_dims: S3_REQUESTS,
        ..m("errors_5xx", "AWS/S3", "5xxErrors", Stat::Sum)
    },
    MetricSpec {
        extra_dims: S3_REQUESTS,
        ..m(
            "first_byte_latency_avg_ms",
            "AWS/S3",
            "FirstByteLatency",
            Stat::Average,
        )
    },
    MetricSpec {
        extra_dims: &[("StorageType", "StandardStorage")],
        ..m("size_bytes", "AWS/S3", "BucketSizeBytes", Stat::Maximum)
    },
    MetricSpec {
        extra_dims: &[("StorageType", "AllStorageTypes")],
        ..m("objects", "AWS/S3", "NumberOfObjects", Stat::Maximum)
    },
];

const CLOUDFRONT_GLOBAL: &[(&str, &str)] = &[("Region", "Global")];
const CLOUDFRONT: &[MetricSpec] = &[
    MetricSpec {
        extra_dims: CLOUDFRONT_GLOBAL,
        ..m("requests", "AWS/CloudFront", "Requests", Stat::Sum)
    },
    MetricSpec {
        extra_dims: CLOUDFRONT_GLOBAL,
        ..m(
            "error_rate_4xx_percent",
            "AWS/CloudFront",
            "4xxErrorRate",
            Stat::Average,
        )
    },
    MetricSpec {
        extra_dims: CLOUDFRONT_GLOBAL,
        ..m(
            "error_rate_5xx_percent",
            "AWS/CloudFront",
            "5xxErrorRate",
            Stat::Average,
        )
    },
];

const APIGATEWAY: &[MetricSpec] = &[
    m("requests", "AWS/ApiGateway", "Count", Stat::Sum),
    m("errors_4xx", "AWS/ApiGateway", "4XXError", Stat::Sum),
    m("errors_5xx", "AWS/ApiGateway", "5XXError", Stat::Sum),
    m(
        "latency_p95_ms",
        "AWS/ApiGateway",
        "Latency",
        Stat::Percentile(95.0),
    ),
    m(
        "integration_latency_avg_ms",
        "AWS/ApiGateway",
        "IntegrationLatency",
        Stat::Average,
    ),
];

const DYNAMODB: &[MetricSpec] = &[
    m(
        "throttled_requests",
        "AWS/DynamoDB",
        "ThrottledRequests",
        Stat::Sum,
    ),
    m("system_errors", "AWS/DynamoDB", "SystemErrors", Stat::Sum),
    m("user_errors", "AWS/DynamoDB", "UserErrors", Stat::Sum),
    m(
        "latency_avg_ms",
        "AWS/DynamoDB",
        "SuccessfulRequestLatency",
        Stat::Average,
    ),
    m(
        "latency_p95_ms",
        "AWS/DynamoDB",
        "SuccessfulRequestLatency",
        Stat::Percentile(95.0),
    ),
];

const SQS: &[MetricSpec] = &[
    m(
        "oldest_message_age_max_s",
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        Stat::Maximum,
    ),
    m(
        "visible_messages_max",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        Stat::Maximum,
    ),
    m(
        "messages_received",
        "AWS/SQS",
        "NumberOfMessagesReceived",
        Stat::Sum,
    ),
];

const STEPFUNCTIONS: &[MetricSpec] = &[
    m(
        "executions_started",
        "AWS/States",
        "ExecutionsStarted",
        Stat::Sum,
    ),
    m(
        "executions_failed",
        "AWS/States",
        "ExecutionsFailed",
        Stat::Sum,
    ),
    m(
        "executions_timed_out",
        "AWS/States",
        "ExecutionsTimedOut",
        Stat::Sum,
    ),
    m(
        "executions_throttled",
        "AWS/States",
        "ExecutionThrottled",
        Stat::Sum,
    ),
    m(
        "execution_time_p95_ms",
        "AWS/States",
        "ExecutionTime",
        Stat::Percentile(95.0),
    ),
];

const EVENTBRIDGE: &[MetricSpec] = &[
    m("invocations", "AWS/Events", "Invocations", Stat::Sum),
    m(
        "failed_invocations",
        "AWS/Events",
        "FailedInvocations",
        Stat::Sum,
    ),
    m("triggered_rules", "AWS/Events", "TriggeredRules", Stat::Sum),
    m("throttled_rules", "AWS/Events", "ThrottledRules", Stat::Sum),
];

const ALB: &[MetricSpec] = &[
    m("requests", ALB_NS, "RequestCount", Stat::Sum),
    m("elb_5xx", ALB_NS, "HTTPCode_ELB_5XX_Count", Stat::Sum),
    m("target_5xx", ALB_NS, "HTTPCode_Target_5XX_Count", Stat::Sum),
    in_ms(m(
        "target_response_time_p95_ms",
        ALB_NS,
        "TargetResponseTime",
        Stat::Percentile(95.0),
    )),
    m(
        "rejected_connections",
        ALB_NS,
        "RejectedConnectionCount",
        Stat::Sum,
    ),
    m(
        "target_connection_errors",
        ALB_NS,
        "TargetConnectionErrorCount",
        Stat::Sum,
    ),
];

const SNS: &[MetricSpec] = &[
    m(
        "published",
        "AWS/SNS",
        "NumberOfMessagesPublished",
        Stat::Sum,
    ),
    m(
        "delivered",
        "AWS/SNS",
        "NumberOfNotificationsDelivered",
        Stat::Sum,
    ),
    m(
        "failed",
        "AWS/SNS",
        "NumberOfNotificationsFailed",
        Stat::Sum,
    ),
    m(
        "filtered_out",
        "AWS/SNS",
        "NumberOfNotificationsFilteredOut",
        Stat::Sum,
    ),
];

/// The namespace of a Network Load Balancer's metrics (and of its target groups').
const NLB_NS: &str = "AWS/NetworkELB";

const NLB: &[MetricSpec] = &[
    m("new_flows", NLB_NS, "NewFlowCount", Stat::Sum),
    m("active_flows_max", NLB_NS, "ActiveFlowCount", Stat::Maximum),
    m("elb_resets", NLB_NS, "TCP_ELB_Reset_Count", Stat::Sum),
    m("target_resets", NLB_NS, "TCP_Target_Reset_Count", Stat::Sum),
    m("client_resets", NLB_NS, "TCP_Client_Reset_Count", Stat::Sum),
    m("processed_bytes", NLB_NS, "ProcessedBytes", Stat::Sum),
];

// A target group's metrics are published under (TargetGroup, LoadBalancer) in its
// balancer's namespace: written here in the ALB's, read in the NLB's for a group behind a
// Network Load Balancer (`query_namespace`), where the HTTP ones do not exist.
const TARGET_GROUP: &[MetricSpec] = &[
    ECS_TG[0],
    ECS_TG[1],
    ECS_TG[2],
    m(
        "healthy_hosts_min",
        ALB_NS,
        "HealthyHostCount",
        Stat::Minimum,
    ),
    m(
        "unhealthy_hosts_max",
        ALB_NS,
        "UnHealthyHostCount",
        Stat::Maximum,
    ),
];

/// The target-group metrics that exist in both balancers' namespaces.
const TG_BOTH: &[&str] = &["HealthyHostCount", "UnHealthyHostCount"];

const KINESIS: &[MetricSpec] = &[
    m(
        "incoming_records",
        "AWS/Kinesis",
        "IncomingRecords",
        Stat::Sum,
    ),
    m(
        "write_throttled",
        "AWS/Kinesis",
        "WriteProvisionedThroughputExceeded",
        Stat::Sum,
    ),
    m(
        "read_throttled",
        "AWS/Kinesis",
        "ReadProvisionedThroughputExceeded",
        Stat::Sum,
    ),
    m(
        "iterator_age_max_ms",
        "AWS/Kinesis",
        "GetRecords.IteratorAgeMilliseconds",
        Stat::Maximum,
    ),
    m(
        "get_records",
        "AWS/Kinesis",
        "GetRecords.Records",
        Stat::Sum,
    ),
];

const ELASTICACHE: &[MetricSpec] = &[
    m(
        "cpu_avg_percent",
        "AWS/ElastiCache",
        "CPUUtilization",
        Stat::Average,
    ),
    // Redis and Valkey only: a Memcached cluster has no such metric (not evaluated).
    m(
        "memory_avg_percent",
        "AWS/ElastiCache",
        "DatabaseMemoryUsagePercentage",
        Stat::Average,
    ),
    m("evictions", "AWS/ElastiCache", "Evictions", Stat::Sum),
    m(
        "connections_max",
        "AWS/ElastiCache",
        "CurrConnections",
        Stat::Maximum,
    ),
    m("cache_hits", "AWS/ElastiCache", "CacheHits", Stat::Sum),
    m("cache_misses", "AWS/ElastiCache", "CacheMisses", Stat::Sum),
];

const ASG: &[MetricSpec] = &[
    m(
        "cpu_avg_percent",
        "AWS/EC2",
        "CPUUtilization",
        Stat::Average,
    ),
    m(
        "status_check_failed_max",
        "AWS/EC2",
        "StatusCheckFailed",
        Stat::Maximum,
    ),
    m("network_in", "AWS/EC2", "NetworkIn", Stat::Sum),
];

/// The metrics the monitor fetches for a kind.
pub fn metrics(kind: ResourceKind) -> &'static [MetricSpec] {
    match kind {
        ResourceKind::Lambda => LAMBDA,
        ResourceKind::Ecs => ECS,
        ResourceKind::Rds => RDS,
        ResourceKind::S3 => S3,
        ResourceKind::CloudFront => CLOUDFRONT,
        ResourceKind::ApiGateway => APIGATEWAY,
        ResourceKind::DynamoDb => DYNAMODB,
        ResourceKind::Sqs => SQS,
        ResourceKind::StepFunctions => STEPFUNCTIONS,
        ResourceKind::EventBridge => EVENTBRIDGE,
        ResourceKind::Alb => ALB,
        ResourceKind::Sns => SNS,
        ResourceKind::Nlb => NLB,
        ResourceKind::TargetGroup => TARGET_GROUP,
        ResourceKind::Kinesis => KINESIS,
        ResourceKind::ElastiCache => ELASTICACHE,
        ResourceKind::Asg => ASG,
    }
}

/// Find a kind's metric by its report key or its CloudWatch name (`metrics --metric`).
pub fn find_metric(kind: ResourceKind, name: &str) -> Option<&'static MetricSpec> {
    let all = metrics(kind);
    all.iter()
        .find(|s| s.key.eq_ignore_ascii_case(name))
        .or_else(|| all.iter().find(|s| s.name.eq_ignore_ascii_case(name)))
}

/// The CloudWatch dimensions that identify `resource` (without the spec's extra ones).
pub fn dimensions(resource: &Resource, environment: &str) -> Vec<(String, String)> {
    let d = |k: &str, v: &str| (k.to_string(), v.to_string());
    match resource.parsed_arn.as_ref().map(|a| &a.target) {
        Some(Target::Lambda { .. }) => vec![d("FunctionName", &resource.name)],
        Some(Target::Ecs { cluster, service }) => {
            let service = if resource.name != *service {
                resource.name.as_str()
            } else {
                service
            };
            vec![d("ClusterName", cluster), d("ServiceName", service)]
        }
        Some(Target::Rds { .. }) => vec![d("DBInstanceIdentifier", &resource.name)],
        Some(Target::S3 { .. }) => vec![d("BucketName", &resource.name)],
        Some(Target::CloudFront { distribution_id }) => vec![d("DistributionId", distribution_id)],
        Some(Target::ApiGateway { stage, .. }) => {
            let stage = resource
                .stage
                .clone()
                .or_else(|| stage.clone())
                .unwrap_or_else(|| environment.to_string());
            vec![d("ApiName", &resource.name), d("Stage", &stage)]
        }
        Some(Target::DynamoDb { .. }) => vec![d("TableName", &resource.name)],
        Some(Target::Sqs { .. }) => vec![d("QueueName", &resource.name)],
        // Step Functions names a state machine by its ARN.
        Some(Target::StepFunctions { .. }) => vec![d("StateMachineArn", &resource.arn)],
        Some(Target::EventBridge { bus, rule }) => {
            let mut v = vec![d("RuleName", rule)];
            if let Some(b) = bus.as_deref().filter(|b| *b != "default") {
                v.push(d("EventBusName", b));
            }
            v
        }
        Some(t @ (Target::Alb { .. } | Target::Nlb { .. })) => {
            vec![d(
                "LoadBalancer",
                &balancer_dimension(t).unwrap_or_default(),
            )]
        }
        Some(Target::Sns { topic }) => vec![d("TopicName", topic)],
        Some(Target::TargetGroup { name, id }) => {
            vec![d("TargetGroup", &format!("targetgroup/{name}/{id}"))]
        }
        Some(Target::Kinesis { stream }) => vec![d("StreamName", stream)],
        Some(Target::ElastiCache { cluster }) => vec![d("CacheClusterId", cluster)],
        Some(Target::Asg { group }) => vec![d("AutoScalingGroupName", group)],
        None => Vec::new(),
    }
}

/// The dimensions of one metric of `resource`, or why the metric cannot be addressed: an
/// ECS service's request metrics are its target group's, published by CloudWatch under
/// the pair (TargetGroup, LoadBalancer), so the registry entry must name both.
pub fn query_dimensions(
    resource: &Resource,
    spec: &MetricSpec,
    environment: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut d = if resource.kind == Some(ResourceKind::Ecs) && spec.namespace == ALB_NS {
        target_group_dimensions(resource)?
    } else if resource.kind == Some(ResourceKind::TargetGroup) {
        group_dimensions(resource, spec)?
    } else {
        dimensions(resource, environment)
    };
    d.extend(
        spec.extra_dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Ok(d)
}

/// A balancer's `LoadBalancer` dimension: `app/NAME/ID` or `net/NAME/ID`.
fn balancer_dimension(t: &Target) -> Option<String> {
    match t {
        Target::Alb { name, id } => Some(format!("app/{name}/{id}")),
        Target::Nlb { name, id } => Some(format!("net/{name}/{id}")),
        _ => None,
    }
}

/// The namespace `spec` is read from for `resource`: a target group behind a Network Load
/// Balancer publishes in `AWS/NetworkELB`.
pub fn query_namespace(resource: &Resource, spec: &MetricSpec) -> &'static str {
    if resource.kind == Some(ResourceKind::TargetGroup)
        && spec.namespace == ALB_NS
        && behind_nlb(resource)
    {
        NLB_NS
    } else {
        spec.namespace
    }
}

fn behind_nlb(resource: &Resource) -> bool {
    resource
        .load_balancer_arn
        .as_deref()
        .is_some_and(|a| a.contains(":loadbalancer/net/"))
}

/// A target group's own dimensions: (TargetGroup, LoadBalancer); its load balancer comes
/// from `load_balancer_arn` on the entry, since a group's ARN does not name it.
fn group_dimensions(
    resource: &Resource,
    spec: &MetricSpec,
) -> Result<Vec<(String, String)>, String> {
    let Some(Target::TargetGroup { name, id }) = resource.parsed_arn.as_ref().map(|a| &a.target)
    else {
        return Err(format!("{} is not a target group ARN", resource.arn));
    };
    let Some(lb) = resource.load_balancer_arn.as_deref() else {
        return Err(
            "CloudWatch publishes a target group's metrics with its load balancer: set \
load_balancer_arn on the registry entry (registry import fills it)"
                .into(),
        );
    };
    // The balancer's own `LoadBalancer` dimension, from the ARN parser of its kind.
    let lb_dim = [ResourceKind::Alb, ResourceKind::Nlb]
        .into_iter()
        .find_map(|k| crate::resource::Arn::parse(k, lb).ok())
        .and_then(|a| balancer_dimension(&a.target))
        .ok_or_else(|| {
            format!(
                "load_balancer_arn {lb} is not a load balancer ARN (…:loadbalancer/app|net/NAME/ID)"
            )
        })?;
    if behind_nlb(resource) && !TG_BOTH.contains(&spec.name) {
        return Err(format!(
            "a target group of a Network Load Balancer has no {} (TCP passes through; only \
its healthy and unhealthy host counts are published)",
            spec.name
        ));
    }
    Ok(vec![
        ("TargetGroup".into(), format!("targetgroup/{name}/{id}")),
        ("LoadBalancer".into(), lb_dim.to_string()),
    ])
}

fn target_group_dimensions(resource: &Resource) -> Result<Vec<(String, String)>, String> {
    let (Some(tg), Some(lb)) = (&resource.target_group_arn, &resource.load_balancer_arn) else {
        return Err(
            "ECS publishes no request metrics; they are its load balancer target \
group's: set target_group_arn and load_balancer_arn on the registry entry (registry import \
--terraform-state fills them)"
                .into(),
        );
    };
    // CloudWatch's dimension values are the ARNs' resource parts after the prefix.
    let suffix = |arn: &str, prefix: &str| -> Option<String> {
        let resource = arn.splitn(6, ':').nth(5)?;
        let rest = resource.strip_prefix(prefix)?;
        (rest.split('/').count() >= 2 && rest.split('/').all(|p| !p.is_empty()))
            .then(|| resource.trim_start_matches("loadbalancer/").to_string())
    };
    let tg_dim = suffix(tg, "targetgroup/").ok_or_else(|| {
        format!("target_group_arn {tg} is not a target group ARN (…:targetgroup/NAME/ID)")
    })?;
    let lb_dim = suffix(lb, "loadbalancer/app/").ok_or_else(|| {
        format!(
            "load_balancer_arn {lb} is not an Application Load Balancer ARN (…:loadbalancer/app/NAME/ID)"
        )
    })?;
    Ok(vec![
        ("TargetGroup".into(), tg_dim),
        ("LoadBalancer".into(), lb_dim),
    ])
}

/// The region whose CloudWatch holds a resource's metrics: CloudFront's are in us-east-1.
pub fn metrics_region(kind: ResourceKind, resource_region: &str) -> String {
    match kind {
        ResourceKind::CloudFront => "us-east-1".into(),
        _ => resource_region.into(),
    }
}

/// How a status word of a kind counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateClass {
    Up,
    /// Changing: pending, creating, modifying → DEGRADED.
    Transitional,
    /// Stopped, failed, inactive → UNHEALTHY.
    Down,
}

/// Classify a status word reported for a resource of `kind` (case-insensitive).
pub fn classify_state(kind: ResourceKind, state: &str) -> StateClass {
    let s = state.to_ascii_lowercase();
    let down_words = [
        "stopped",
        "stopping",
        "failed",
        "inactive",
        "deleting",
        "deleted",
        "disabled",
        "incompatible",
        "inaccessible",
        "storage-full",
        "archived",
        "archiving",
    ];
    if down_words.iter().any(|w| s.contains(w)) {
        return StateClass::Down;
    }
    let up = match kind {
        ResourceKind::Lambda => s == "active" || s == "successful",
        ResourceKind::Ecs => s == "active",
        ResourceKind::Rds => s == "available" || s == "backing-up" || s == "storage-optimization",
        ResourceKind::CloudFront => s == "deployed",
        ResourceKind::DynamoDb => s == "active",
        ResourceKind::S3 | ResourceKind::ApiGateway | ResourceKind::Sqs => {
            s == "available" || s == "active" || s == "exists"
        }
        ResourceKind::StepFunctions => s == "active",
        // A disabled rule fires nothing: "disabled" is a down word above.
        ResourceKind::EventBridge => s == "enabled",
        // active_impaired (a zone cannot scale) and provisioning are DEGRADED.
        ResourceKind::Alb => s == "active",
        ResourceKind::Sns => s == "available",
        ResourceKind::Nlb => s == "active",
        // Judged from its targets' health (StatusObs::Capacity); the word is "active".
        ResourceKind::TargetGroup | ResourceKind::Asg => s == "active",
        // CREATING, UPDATING (resharding) are DEGRADED; DELETING is down.
        ResourceKind::Kinesis => s == "active",
        // creating, modifying, rebooting cache cluster nodes, snapshotting: DEGRADED;
        // restore-failed and incompatible-network are down words.
        ResourceKind::ElastiCache => s == "available" || s == "snapshotting",
    };
    if up {
        StateClass::Up
    } else {
        StateClass::Transitional
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_metrics_with_unique_keys() {
        for kind in ResourceKind::ALL {
            let specs = metrics(kind);
            assert!(!specs.is_empty(), "{kind}");
            let mut keys: Vec<_> = specs.iter().map(|s| s.key).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), specs.len(), "{kind} has duplicate keys");
        }
    }

    fn entry(kind: &str, arn: &str, extra: &str) -> Resource {
        let text = format!(
            r#"{{"deployments": [{{"id": "d", "environment": "test", "resources": [{{"id": "r", "type": "{kind}", "arn": "{arn}"{extra}}}]}}]}}"#
        );
        crate::registry::Registry::parse(std::path::Path::new("r.json"), &text)
            .unwrap()
            .environment_view("test")
            .resources[0]
            .clone()
    }

    #[test]
    fn a_target_group_is_read_with_its_balancer_in_the_balancer_namespace() {
        let tg = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/73e2";
        let spec = |key: &str| {
            metrics(ResourceKind::TargetGroup)
                .iter()
                .find(|m| m.key == key)
                .unwrap()
        };
        let behind_alb = entry(
            "targetgroup",
            tg,
            r#", "load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/front/50dc""#,
        );
        let d = query_dimensions(&behind_alb, spec("tg_requests"), "test").unwrap();
        assert_eq!(
            d,
            vec![
                (
                    "TargetGroup".to_string(),
                    "targetgroup/web/73e2".to_string()
                ),
                ("LoadBalancer".to_string(), "app/front/50dc".to_string())
            ]
        );
        assert_eq!(
            query_namespace(&behind_alb, spec("tg_requests")),
            "AWS/ApplicationELB"
        );
        let behind_nlb = entry(
            "targetgroup",
            tg,
            r#", "load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/tcp/1f2e""#,
        );
        assert_eq!(
            query_namespace(&behind_nlb, spec("healthy_hosts_min")),
            "AWS/NetworkELB"
        );
        assert_eq!(
            query_dimensions(&behind_nlb, spec("healthy_hosts_min"), "test").unwrap()[1].1,
            "net/tcp/1f2e"
        );
        let why = query_dimensions(&behind_nlb, spec("tg_requests"), "test").unwrap_err();
        assert!(why.contains("Network Load Balancer"), "{why}");
        let alone = entry("targetgroup", tg, "");
        let why = query_dimensions(&alone, spec("healthy_hosts_min"), "test").unwrap_err();
        assert!(why.contains("load_balancer_arn"), "{why}");
        let nlb = entry(
            "nlb",
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/tcp/1f2e",
            "",
        );
        assert_eq!(
            dimensions(&nlb, "test"),
            vec![("LoadBalancer".to_string(), "net/tcp/1f2e".to_string())]
        );
    }

    #[test]
    fn stats_parse_and_print() {
        assert_eq!(Stat::parse("p95"), Some(Stat::Percentile(95.0)));
        assert_eq!(Stat::Percentile(99.9).api_name(), "p99.9");
        assert_eq!(Stat::Percentile(95.0).api_name(), "p95");
        assert_eq!(Stat::parse("AVG"), Some(Stat::Average));
        assert_eq!(Stat::parse("p100"), None);
        assert_eq!(Stat::parse("median"), None);
    }

    #[test]
    fn status_words_classify_per_kind() {
        use StateClass::*;
        assert_eq!(classify_state(ResourceKind::Rds, "available"), Up);
        assert_eq!(classify_state(ResourceKind::Rds, "stopped"), Down);
        assert_eq!(classify_state(ResourceKind::Rds, "modifying"), Transitional);
        assert_eq!(classify_state(ResourceKind::Rds, "creating"), Transitional);
        assert_eq!(classify_state(ResourceKind::Lambda, "Active"), Up);
        assert_eq!(
            classify_state(ResourceKind::Lambda, "Pending"),
            Transitional
        );
        assert_eq!(classify_state(ResourceKind::Lambda, "Failed"), Down);
        assert_eq!(classify_state(ResourceKind::Lambda, "Inactive"), Down);
        assert_eq!(classify_state(ResourceKind::Ecs, "INACTIVE"), Down);
        assert_eq!(classify_state(ResourceKind::Ecs, "DRAINING"), Transitional);
        assert_eq!(
            classify_state(ResourceKind::CloudFront, "InProgress"),
            Transitional
        );
        assert_eq!(
            classify_state(ResourceKind::DynamoDb, "UPDATING"),
            Transitional
        );
        assert_eq!(
            classify_state(
                ResourceKind::DynamoDb,
                "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
            ),
            Down
        );
    }
}
