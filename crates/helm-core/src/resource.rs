//! The resource kinds of the registry and what an ARN says about each.
//!
//! A kind is data (after Cloud Custodian's resource manager): its registry name, its
//! CloudFormation alias, its ARN shape. Later issues add what each exposes (metrics,
//! status, log group, actions) beside it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A resource kind helm-cloud knows how to operate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Lambda,
    Ecs,
    Rds,
    S3,
    #[serde(rename = "cloudfront")]
    CloudFront,
    #[serde(rename = "apigateway")]
    ApiGateway,
    #[serde(rename = "dynamodb")]
    DynamoDb,
    Sqs,
    /// A Step Functions state machine.
    #[serde(rename = "stepfunctions")]
    StepFunctions,
    /// An EventBridge rule.
    #[serde(rename = "eventbridge")]
    EventBridge,
    /// An Application Load Balancer.
    Alb,
    /// An SNS topic.
    Sns,
    /// A Network Load Balancer.
    Nlb,
    /// A load-balancer target group (of an Application or a Network Load Balancer).
    #[serde(rename = "targetgroup")]
    TargetGroup,
    /// A Kinesis data stream.
    Kinesis,
    /// An ElastiCache cache cluster (Redis/Valkey node group member or Memcached cluster).
    #[serde(rename = "elasticache")]
    ElastiCache,
    /// An EC2 Auto Scaling group.
    Asg,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 17] = [
        ResourceKind::Lambda,
        ResourceKind::Ecs,
        ResourceKind::Rds,
        ResourceKind::S3,
        ResourceKind::CloudFront,
        ResourceKind::ApiGateway,
        ResourceKind::DynamoDb,
        ResourceKind::Sqs,
        ResourceKind::StepFunctions,
        ResourceKind::EventBridge,
        ResourceKind::Alb,
        ResourceKind::Sns,
        ResourceKind::Nlb,
        ResourceKind::TargetGroup,
        ResourceKind::Kinesis,
        ResourceKind::ElastiCache,
        ResourceKind::Asg,
    ];

    /// The registry's spelling (`type`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Lambda => "lambda",
            ResourceKind::Ecs => "ecs",
            ResourceKind::Rds => "rds",
            ResourceKind::S3 => "s3",
            ResourceKind::CloudFront => "cloudfront",
            ResourceKind::ApiGateway => "apigateway",
            ResourceKind::DynamoDb => "dynamodb",
            ResourceKind::Sqs => "sqs",
            ResourceKind::StepFunctions => "stepfunctions",
            ResourceKind::EventBridge => "eventbridge",
            ResourceKind::Alb => "alb",
            ResourceKind::Sns => "sns",
            ResourceKind::Nlb => "nlb",
            ResourceKind::TargetGroup => "targetgroup",
            ResourceKind::Kinesis => "kinesis",
            ResourceKind::ElastiCache => "elasticache",
            ResourceKind::Asg => "asg",
        }
    }

    /// The CloudFormation type accepted as an alias.
    pub fn cloudformation_type(self) -> &'static str {
        match self {
            ResourceKind::Lambda => "AWS::Lambda::Function",
            ResourceKind::Ecs => "AWS::ECS::Service",
            ResourceKind::Rds => "AWS::RDS::DBInstance",
            ResourceKind::S3 => "AWS::S3::Bucket",
            ResourceKind::CloudFront => "AWS::CloudFront::Distribution",
            ResourceKind::ApiGateway => "AWS::ApiGateway::RestApi",
            ResourceKind::DynamoDb => "AWS::DynamoDB::Table",
            ResourceKind::Sqs => "AWS::SQS::Queue",
            ResourceKind::StepFunctions => "AWS::StepFunctions::StateMachine",
            ResourceKind::EventBridge => "AWS::Events::Rule",
            // Network Load Balancers share the type; their ARN (loadbalancer/net/…) is refused.
            ResourceKind::Alb => "AWS::ElasticLoadBalancingV2::LoadBalancer",
            ResourceKind::Sns => "AWS::SNS::Topic",
            // The same type as an ALB: import tells them apart by the ARN (loadbalancer/net/…).
            ResourceKind::Nlb => "AWS::ElasticLoadBalancingV2::LoadBalancer",
            ResourceKind::TargetGroup => "AWS::ElasticLoadBalancingV2::TargetGroup",
            ResourceKind::Kinesis => "AWS::Kinesis::Stream",
            ResourceKind::ElastiCache => "AWS::ElastiCache::CacheCluster",
            ResourceKind::Asg => "AWS::AutoScaling::AutoScalingGroup",
        }
    }

    /// The ARN's service part.
    fn arn_service(self) -> &'static str {
        match self {
            ResourceKind::Ecs => "ecs",
            ResourceKind::Lambda => "lambda",
            ResourceKind::Rds => "rds",
            ResourceKind::S3 => "s3",
            ResourceKind::CloudFront => "cloudfront",
            ResourceKind::ApiGateway => "apigateway",
            ResourceKind::DynamoDb => "dynamodb",
            ResourceKind::Sqs => "sqs",
            ResourceKind::StepFunctions => "states",
            ResourceKind::EventBridge => "events",
            ResourceKind::Alb => "elasticloadbalancing",
            ResourceKind::Sns => "sns",
            ResourceKind::Nlb | ResourceKind::TargetGroup => "elasticloadbalancing",
            ResourceKind::Kinesis => "kinesis",
            ResourceKind::ElastiCache => "elasticache",
            ResourceKind::Asg => "autoscaling",
        }
    }

    /// The Terraform resource types of the kind (faber-cloud records them, with or without
    /// the `aws_` prefix).
    pub fn terraform_types(self) -> &'static [&'static str] {
        match self {
            ResourceKind::Lambda => &["aws_lambda_function"],
            ResourceKind::Ecs => &["aws_ecs_service"],
            ResourceKind::Rds => &["aws_db_instance"],
            ResourceKind::S3 => &["aws_s3_bucket"],
            ResourceKind::CloudFront => &["aws_cloudfront_distribution"],
            ResourceKind::ApiGateway => &["aws_api_gateway_rest_api", "aws_apigatewayv2_api"],
            ResourceKind::DynamoDb => &["aws_dynamodb_table"],
            ResourceKind::Sqs => &["aws_sqs_queue"],
            ResourceKind::StepFunctions => &["aws_sfn_state_machine"],
            ResourceKind::EventBridge => &["aws_cloudwatch_event_rule"],
            ResourceKind::Alb => &["aws_lb", "aws_alb"],
            ResourceKind::Sns => &["aws_sns_topic"],
            // `aws_lb` is an ALB unless its load_balancer_type is "network" (import reads it).
            ResourceKind::Nlb => &[],
            ResourceKind::TargetGroup => &["aws_lb_target_group", "aws_alb_target_group"],
            ResourceKind::Kinesis => &["aws_kinesis_stream"],
            ResourceKind::ElastiCache => &["aws_elasticache_cluster"],
            ResourceKind::Asg => &["aws_autoscaling_group"],
        }
    }

    /// Parse a registry `type`: the kind name, its CloudFormation alias or its Terraform type
    /// (`aws_s3_bucket` or the short `s3_bucket`), any case.
    pub fn parse(s: &str) -> Option<ResourceKind> {
        let t = s.trim();
        ResourceKind::ALL.into_iter().find(|k| {
            t.eq_ignore_ascii_case(k.as_str())
                || t.eq_ignore_ascii_case(k.cloudformation_type())
                || k.terraform_types().iter().any(|tf| {
                    t.eq_ignore_ascii_case(tf)
                        || t.eq_ignore_ascii_case(tf.trim_start_matches("aws_"))
                })
        })
    }
}

impl ResourceKind {
    /// The kind of a registry entry: its `type` parsed, and for the load-balancer type an
    /// ALB and an NLB share in CloudFormation, the ARN's `loadbalancer/net/` telling them apart.
    pub fn resolve(type_name: &str, arn: &str) -> Option<ResourceKind> {
        match ResourceKind::parse(type_name)? {
            ResourceKind::Alb if arn.contains(":loadbalancer/net/") => Some(ResourceKind::Nlb),
            k => Some(k),
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an ARN names, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// `function:NAME[:QUALIFIER]`
    Lambda {
        function: String,
        qualifier: Option<String>,
    },
    /// `service/CLUSTER/SERVICE`, or the old `service/SERVICE` (cluster `default`).
    Ecs { cluster: String, service: String },
    /// `db:INSTANCE`
    Rds { instance: String },
    /// `arn:aws:s3:::BUCKET`
    S3 { bucket: String },
    /// `distribution/ID`
    #[serde(rename = "cloudfront")]
    CloudFront { distribution_id: String },
    /// `/restapis/ID[/stages/STAGE]` (REST) or `/apis/ID` (HTTP and WebSocket APIs).
    #[serde(rename = "apigateway")]
    ApiGateway {
        api_id: String,
        stage: Option<String>,
    },
    /// `table/NAME`
    #[serde(rename = "dynamodb")]
    DynamoDb { table: String },
    /// `QUEUE`
    Sqs { queue: String },
    /// `stateMachine:NAME`
    #[serde(rename = "stepfunctions")]
    StepFunctions { state_machine: String },
    /// `rule/NAME`, or `rule/BUS/NAME` on a custom event bus.
    #[serde(rename = "eventbridge")]
    EventBridge { bus: Option<String>, rule: String },
    /// `loadbalancer/app/NAME/ID`
    Alb { name: String, id: String },
    /// `TOPIC`
    Sns { topic: String },
    /// `loadbalancer/net/NAME/ID`
    Nlb { name: String, id: String },
    /// `targetgroup/NAME/ID`
    #[serde(rename = "targetgroup")]
    TargetGroup { name: String, id: String },
    /// `stream/NAME`
    Kinesis { stream: String },
    /// `cluster:ID`
    #[serde(rename = "elasticache")]
    ElastiCache { cluster: String },
    /// `autoScalingGroup:UUID:autoScalingGroupName/NAME`
    Asg { group: String },
}

impl Target {
    /// The name used in API calls.
    pub fn name(&self) -> &str {
        match self {
            Target::Lambda { function, .. } => function,
            Target::Ecs { service, .. } => service,
            Target::Rds { instance } => instance,
            Target::S3 { bucket } => bucket,
            Target::CloudFront { distribution_id } => distribution_id,
            Target::ApiGateway { api_id, .. } => api_id,
            Target::DynamoDb { table } => table,
            Target::Sqs { queue } => queue,
            Target::StepFunctions { state_machine } => state_machine,
            Target::EventBridge { rule, .. } => rule,
            Target::Alb { name, .. } => name,
            Target::Sns { topic } => topic,
            Target::Nlb { name, .. } => name,
            Target::TargetGroup { name, .. } => name,
            Target::Kinesis { stream } => stream,
            Target::ElastiCache { cluster } => cluster,
            Target::Asg { group } => group,
        }
    }
}

/// A parsed ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    /// Empty for global services (S3 bucket ARNs, CloudFront).
    pub region: Option<String>,
    pub account: Option<String>,
    pub target: Target,
}

/// Why an ARN could not be read as a resource of a kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{arn:?} is not a {kind} ARN: {reason}")]
pub struct ArnError {
    pub arn: String,
    pub kind: ResourceKind,
    pub reason: String,
}

impl Arn {
    /// Parse `arn` as the ARN of a `kind` resource.
    pub fn parse(kind: ResourceKind, arn: &str) -> Result<Arn, ArnError> {
        let fail = |reason: &str| ArnError {
            arn: arn.to_string(),
            kind,
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return Err(fail(
                "expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE",
            ));
        }
        let (partition, service, region, account, resource) =
            (parts[1], parts[2], parts[3], parts[4], parts[5]);
        if !partition.starts_with("aws") {
            return Err(fail("the partition must be aws, aws-cn or aws-us-gov"));
        }
        if service != kind.arn_service() {
            return Err(fail(&format!(
                "the service part is {service:?}, expected {:?}",
                kind.arn_service()
            )));
        }
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let word = |s: &str| !s.is_empty() && !s.contains('/') && !s.contains(':');
        let target = match kind {
            ResourceKind::Lambda => {
                let rest = resource
                    .strip_prefix("function:")
                    .ok_or_else(|| fail("expected function:NAME"))?;
                let mut it = rest.splitn(2, ':');
                let function = it.next().unwrap_or_default();
                if !word(function) {
                    return Err(fail("the function name is empty or malformed"));
                }
                Target::Lambda {
                    function: function.into(),
                    qualifier: it.next().map(str::to_string),
                }
            }
            ResourceKind::Ecs => {
                let rest = resource
                    .strip_prefix("service/")
                    .ok_or_else(|| fail("expected service/CLUSTER/SERVICE"))?;
                match rest.split('/').collect::<Vec<_>>().as_slice() {
                    [cluster, service] if word(cluster) && word(service) => Target::Ecs {
                        cluster: cluster.to_string(),
                        service: service.to_string(),
                    },
                    [service] if word(service) => Target::Ecs {
                        cluster: "default".into(),
                        service: service.to_string(),
                    },
                    _ => return Err(fail("expected service/CLUSTER/SERVICE")),
                }
            }
            ResourceKind::Rds => {
                let instance = resource
                    .strip_prefix("db:")
                    .filter(|s| word(s))
                    .ok_or_else(|| fail("expected db:INSTANCE"))?;
                Target::Rds {
                    instance: instance.into(),
                }
            }
            ResourceKind::S3 => {
                if !region.is_empty() || !account.is_empty() {
                    return Err(fail(
                        "a bucket ARN has no region or account (arn:aws:s3:::BUCKET)",
                    ));
                }
                if !word(resource) {
                    return Err(fail("expected arn:aws:s3:::BUCKET"));
                }
                Target::S3 {
                    bucket: resource.into(),
                }
            }
            ResourceKind::CloudFront => {
                let id = resource
                    .strip_prefix("distribution/")
                    .filter(|s| word(s))
                    .ok_or_else(|| fail("expected distribution/ID"))?;
                Target::CloudFront {
                    distribution_id: id.into(),
                }
            }
            ResourceKind::ApiGateway => {
                let segs: Vec<&str> = resource.trim_start_matches('/').split('/').collect();
                match segs.as_slice() {
                    ["restapis", id] | ["apis", id] if word(id) => Target::ApiGateway {
                        api_id: id.to_string(),
                        stage: None,
                    },
                    ["restapis", id, "stages", stage] | ["apis", id, "stages", stage]
                        if word(id) && word(stage) =>
                    {
                        Target::ApiGateway {
                            api_id: id.to_string(),
                            stage: Some(stage.to_string()),
                        }
                    }
                    _ => return Err(fail("expected /restapis/ID or /apis/ID")),
                }
            }
            ResourceKind::DynamoDb => {
                let rest = resource
                    .strip_prefix("table/")
                    .ok_or_else(|| fail("expected table/NAME"))?;
                let table = rest.split('/').next().unwrap_or_default();
                if !word(table) {
                    return Err(fail("the table name is empty"));
                }
                Target::DynamoDb {
                    table: table.into(),
                }
            }
            ResourceKind::Sqs => {
                if !word(resource) {
                    return Err(fail("expected the queue name after the account"));
                }
                Target::Sqs {
                    queue: resource.into(),
                }
            }
            ResourceKind::StepFunctions => {
                let name = resource
                    .strip_prefix("stateMachine:")
                    .filter(|s| word(s) && !s.contains(':'))
                    .ok_or_else(|| fail("expected stateMachine:NAME"))?;
                Target::StepFunctions {
                    state_machine: name.into(),
                }
            }
            ResourceKind::EventBridge => {
                let rest = resource
                    .strip_prefix("rule/")
                    .ok_or_else(|| fail("expected rule/NAME or rule/BUS/NAME"))?;
                match rest.split('/').collect::<Vec<_>>().as_slice() {
                    [rule] if word(rule) => Target::EventBridge {
                        bus: None,
                        rule: rule.to_string(),
                    },
                    [bus, rule] if word(bus) && word(rule) => Target::EventBridge {
                        bus: Some(bus.to_string()),
                        rule: rule.to_string(),
                    },
                    _ => return Err(fail("expected rule/NAME or rule/BUS/NAME")),
                }
            }
            ResourceKind::Alb => {
                let rest = resource
                    .strip_prefix("loadbalancer/")
                    .ok_or_else(|| fail("expected loadbalancer/app/NAME/ID"))?;
                match rest.split('/').collect::<Vec<_>>().as_slice() {
                    ["app", name, id] if word(name) && word(id) => Target::Alb {
                        name: name.to_string(),
                        id: id.to_string(),
                    },
                    ["net", ..] => {
                        return Err(fail(
                            "a Network Load Balancer: its kind is nlb (loadbalancer/net/NAME/ID)",
                        ));
                    }
                    ["gwy", ..] => {
                        return Err(fail(
                            "a Gateway Load Balancer is not a kind (only app/ and net/ balancers are)",
                        ));
                    }
                    _ => return Err(fail("expected loadbalancer/app/NAME/ID")),
                }
            }
            ResourceKind::Nlb => {
                let rest = resource
                    .strip_prefix("loadbalancer/")
                    .ok_or_else(|| fail("expected loadbalancer/net/NAME/ID"))?;
                match rest.split('/').collect::<Vec<_>>().as_slice() {
                    ["net", name, id] if word(name) && word(id) => Target::Nlb {
                        name: name.to_string(),
                        id: id.to_string(),
                    },
                    ["app", ..] => {
                        return Err(fail(
                            "an Application Load Balancer: its kind is alb (loadbalancer/app/NAME/ID)",
                        ));
                    }
                    _ => return Err(fail("expected loadbalancer/net/NAME/ID")),
                }
            }
            ResourceKind::TargetGroup => {
                let rest = resource
                    .strip_prefix("targetgroup/")
                    .ok_or_else(|| fail("expected targetgroup/NAME/ID"))?;
                match rest.split('/').collect::<Vec<_>>().as_slice() {
                    [name, id] if word(name) && word(id) => Target::TargetGroup {
                        name: name.to_string(),
                        id: id.to_string(),
                    },
                    _ => return Err(fail("expected targetgroup/NAME/ID")),
                }
            }
            ResourceKind::Kinesis => {
                let name = resource
                    .strip_prefix("stream/")
                    .filter(|s| word(s))
                    .ok_or_else(|| {
                        fail("expected stream/NAME (a consumer ARN names stream/NAME/consumer/…)")
                    })?;
                Target::Kinesis {
                    stream: name.into(),
                }
            }
            ResourceKind::ElastiCache => {
                let id = resource
                    .strip_prefix("cluster:")
                    .filter(|s| word(s))
                    .ok_or_else(|| {
                        fail("expected cluster:ID (a replication group is watched through its member clusters)")
                    })?;
                Target::ElastiCache { cluster: id.into() }
            }
            ResourceKind::Asg => {
                let name = resource
                    .strip_prefix("autoScalingGroup:")
                    .and_then(|r| r.split_once(":autoScalingGroupName/"))
                    .map(|(_, name)| name)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        fail("expected autoScalingGroup:UUID:autoScalingGroupName/NAME")
                    })?;
                Target::Asg { group: name.into() }
            }
            ResourceKind::Sns => {
                if !word(resource) {
                    return Err(fail(
                        "expected a topic name (a subscription ARN names TOPIC:ID)",
                    ));
                }
                Target::Sns {
                    topic: resource.into(),
                }
            }
        };
        if matches!(
            kind,
            ResourceKind::Lambda
                | ResourceKind::Ecs
                | ResourceKind::Rds
                | ResourceKind::DynamoDb
                | ResourceKind::Sqs
                | ResourceKind::StepFunctions
                | ResourceKind::EventBridge
                | ResourceKind::Alb
                | ResourceKind::Sns
                | ResourceKind::Nlb
                | ResourceKind::TargetGroup
                | ResourceKind::Kinesis
                | ResourceKind::ElastiCache
                | ResourceKind::Asg
        ) && (region.is_empty() || account.is_empty())
        {
            return Err(fail("the region and account parts must not be empty"));
        }
        Ok(Arn {
            partition: partition.into(),
            service: service.into(),
            region: nonempty(region),
            account: nonempty(account),
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_its_name_and_cloudformation_alias_in_any_case() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                ResourceKind::parse(&kind.as_str().to_uppercase()),
                Some(kind)
            );
            // An NLB shares the ALB's CloudFormation type; its ARN tells them apart.
            let arn = if kind == ResourceKind::Nlb {
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1"
            } else {
                ""
            };
            assert_eq!(
                ResourceKind::resolve(kind.cloudformation_type(), arn),
                Some(kind)
            );
            assert_eq!(
                ResourceKind::resolve(&kind.cloudformation_type().to_lowercase(), arn),
                Some(kind)
            );
        }
        assert_eq!(ResourceKind::parse("AWS::EC2::Instance"), None);
        assert_eq!(ResourceKind::parse("ec2"), None);
        assert_eq!(
            ResourceKind::parse("aws_sfn_state_machine"),
            Some(ResourceKind::StepFunctions)
        );
        assert_eq!(
            ResourceKind::parse("cloudwatch_event_rule"),
            Some(ResourceKind::EventBridge)
        );
    }

    fn parse(kind: ResourceKind, arn: &str) -> Arn {
        Arn::parse(kind, arn).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn lambda_arn_gives_function_region_account_and_qualifier() {
        let a = parse(
            ResourceKind::Lambda,
            "arn:aws:lambda:us-east-1:123456789012:function:acme-api-test",
        );
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        assert_eq!(a.account.as_deref(), Some("123456789012"));
        assert_eq!(
            a.target,
            Target::Lambda {
                function: "acme-api-test".into(),
                qualifier: None
            }
        );
        let q = parse(
            ResourceKind::Lambda,
            "arn:aws:lambda:eu-west-1:123456789012:function:f:live",
        );
        assert_eq!(
            q.target,
            Target::Lambda {
                function: "f".into(),
                qualifier: Some("live".into())
            }
        );
        assert_eq!(q.target.name(), "f");
    }

    #[test]
    fn state_machine_and_rule_arns_give_their_names_and_a_rules_bus() {
        let sm = parse(
            ResourceKind::StepFunctions,
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
        );
        assert_eq!(sm.target.name(), "orders");
        let r = parse(
            ResourceKind::EventBridge,
            "arn:aws:events:us-east-1:123456789012:rule/nightly",
        );
        assert_eq!(
            r.target,
            Target::EventBridge {
                bus: None,
                rule: "nightly".into()
            }
        );
        let custom = parse(
            ResourceKind::EventBridge,
            "arn:aws:events:us-east-1:123456789012:rule/orders-bus/paid",
        );
        assert_eq!(
            custom.target,
            Target::EventBridge {
                bus: Some("orders-bus".into()),
                rule: "paid".into()
            }
        );
        for (k, bad) in [
            (
                ResourceKind::StepFunctions,
                "arn:aws:states:us-east-1:123456789012:execution:orders:run-1",
            ),
            (
                ResourceKind::EventBridge,
                "arn:aws:events:us-east-1:123456789012:event-bus/b",
            ),
            (
                ResourceKind::StepFunctions,
                "arn:aws:states:::stateMachine:x",
            ),
        ] {
            assert!(Arn::parse(k, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn load_balancer_and_topic_arns_give_their_names_and_other_balancers_are_refused() {
        let lb = parse(
            ResourceKind::Alb,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
        );
        assert_eq!(
            lb.target,
            Target::Alb {
                name: "web".into(),
                id: "50dc6c495c0c9188".into()
            }
        );
        let t = parse(
            ResourceKind::Sns,
            "arn:aws:sns:eu-west-1:123456789012:alerts",
        );
        assert_eq!(t.target.name(), "alerts");
        for (k, bad) in [
            (
                ResourceKind::Alb,
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/1f2e",
            ),
            (
                ResourceKind::Alb,
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/73e2d6bc24d8a067",
            ),
            (
                ResourceKind::Sns,
                "arn:aws:sns:us-east-1:123456789012:alerts:6f2a6a4b-90e1-4d2c-a0b3-1d2c3b4a5f6e",
            ),
        ] {
            assert!(Arn::parse(k, bad).is_err(), "{bad}");
        }
        assert_eq!(ResourceKind::parse("aws_alb"), Some(ResourceKind::Alb));
        assert_eq!(
            ResourceKind::parse("AWS::SNS::Topic"),
            Some(ResourceKind::Sns)
        );
    }

    #[test]
    fn balancer_group_stream_cache_and_instance_group_arns_give_their_names() {
        let nlb = parse(
            ResourceKind::Nlb,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/tcp/1f2e3d4c",
        );
        assert_eq!(
            nlb.target,
            Target::Nlb {
                name: "tcp".into(),
                id: "1f2e3d4c".into()
            }
        );
        let tg = parse(
            ResourceKind::TargetGroup,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
        );
        assert_eq!(tg.target.name(), "web");
        let k = parse(
            ResourceKind::Kinesis,
            "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks",
        );
        assert_eq!(k.target.name(), "clicks");
        let c = parse(
            ResourceKind::ElastiCache,
            "arn:aws:elasticache:eu-west-1:123456789012:cluster:sessions-001",
        );
        assert_eq!(c.target.name(), "sessions-001");
        let g = parse(
            ResourceKind::Asg,
            "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:6f1c2e4a-1111-2222-3333-444455556666:autoScalingGroupName/workers",
        );
        assert_eq!(g.target.name(), "workers");
        for (k, bad) in [
            // An ALB is not an NLB, nor the other way round.
            (
                ResourceKind::Nlb,
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc",
            ),
            (
                ResourceKind::Alb,
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/gwy/gw/50dc",
            ),
            (
                ResourceKind::TargetGroup,
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web",
            ),
            (
                ResourceKind::Kinesis,
                "arn:aws:kinesis:us-east-1:123456789012:stream/clicks/consumer/app:1",
            ),
            (
                ResourceKind::ElastiCache,
                "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:sessions",
            ),
            (
                ResourceKind::Asg,
                "arn:aws:autoscaling:us-east-1:123456789012:launchConfiguration:1:launchConfigurationName/lc",
            ),
            (ResourceKind::Kinesis, "arn:aws:kinesis:::stream/clicks"),
        ] {
            assert!(Arn::parse(k, bad).is_err(), "{bad}");
        }
        let nlb_arn = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1";
        assert_eq!(
            ResourceKind::resolve("AWS::ElasticLoadBalancingV2::LoadBalancer", nlb_arn),
            Some(ResourceKind::Nlb)
        );
        assert_eq!(
            ResourceKind::resolve(
                "aws_lb",
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/a/1"
            ),
            Some(ResourceKind::Alb)
        );
    }

    #[test]
    fn ecs_arn_gives_cluster_and_service_in_both_formats() {
        let a = parse(
            ResourceKind::Ecs,
            "arn:aws:ecs:us-east-1:123456789012:service/acme-test/web",
        );
        assert_eq!(
            a.target,
            Target::Ecs {
                cluster: "acme-test".into(),
                service: "web".into()
            }
        );
        let old = parse(
            ResourceKind::Ecs,
            "arn:aws:ecs:us-east-1:123456789012:service/web",
        );
        assert_eq!(
            old.target,
            Target::Ecs {
                cluster: "default".into(),
                service: "web".into()
            }
        );
    }

    #[test]
    fn rds_s3_cloudfront_dynamodb_sqs_arns_give_their_names() {
        let rds = parse(
            ResourceKind::Rds,
            "arn:aws:rds:us-west-2:123456789012:db:acme-orders-test",
        );
        assert_eq!(rds.target.name(), "acme-orders-test");
        assert_eq!(rds.region.as_deref(), Some("us-west-2"));
        let s3 = parse(ResourceKind::S3, "arn:aws:s3:::acme-assets-test");
        assert_eq!(
            s3.target,
            Target::S3 {
                bucket: "acme-assets-test".into()
            }
        );
        assert_eq!((s3.region, s3.account), (None, None));
        let cf = parse(
            ResourceKind::CloudFront,
            "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE",
        );
        assert_eq!(
            cf.target,
            Target::CloudFront {
                distribution_id: "E2EXAMPLE".into()
            }
        );
        assert_eq!(cf.region, None);
        assert_eq!(cf.account.as_deref(), Some("123456789012"));
        let ddb = parse(
            ResourceKind::DynamoDb,
            "arn:aws:dynamodb:us-east-1:123456789012:table/acme-sessions-test",
        );
        assert_eq!(ddb.target.name(), "acme-sessions-test");
        let ddb_stream = parse(
            ResourceKind::DynamoDb,
            "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025-01-01T00:00:00.000",
        );
        assert_eq!(ddb_stream.target.name(), "t");
        let sqs = parse(
            ResourceKind::Sqs,
            "arn:aws:sqs:us-east-1:123456789012:acme-jobs-test",
        );
        assert_eq!(
            sqs.target,
            Target::Sqs {
                queue: "acme-jobs-test".into()
            }
        );
    }

    #[test]
    fn apigateway_arn_gives_api_id_and_optional_stage() {
        let a = parse(
            ResourceKind::ApiGateway,
            "arn:aws:apigateway:us-east-1::/restapis/a1b2c3",
        );
        assert_eq!(
            a.target,
            Target::ApiGateway {
                api_id: "a1b2c3".into(),
                stage: None
            }
        );
        assert_eq!(a.account, None);
        let s = parse(
            ResourceKind::ApiGateway,
            "arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod",
        );
        assert_eq!(
            s.target,
            Target::ApiGateway {
                api_id: "a1b2c3".into(),
                stage: Some("prod".into())
            }
        );
        let http = parse(
            ResourceKind::ApiGateway,
            "arn:aws:apigateway:us-east-1::/apis/xyz",
        );
        assert_eq!(http.target.name(), "xyz");
    }

    #[test]
    fn other_partitions_are_accepted() {
        let a = parse(
            ResourceKind::Lambda,
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
        );
        assert_eq!(a.partition, "aws-cn");
    }

    #[test]
    fn malformed_or_mismatched_arns_are_refused_with_a_reason() {
        let cases = [
            (
                ResourceKind::Lambda,
                "arn:aws:lambda:us-east-1:123456789012:layer:x",
            ),
            (ResourceKind::Lambda, "arn:aws:s3:::bucket"),
            (ResourceKind::Lambda, "not-an-arn"),
            (
                ResourceKind::Lambda,
                "arn:aws:lambda::123456789012:function:f",
            ),
            (
                ResourceKind::Ecs,
                "arn:aws:ecs:us-east-1:123456789012:cluster/acme",
            ),
            (
                ResourceKind::Ecs,
                "arn:aws:ecs:us-east-1:123456789012:service/a/b/c",
            ),
            (
                ResourceKind::Rds,
                "arn:aws:rds:us-east-1:123456789012:cluster:c",
            ),
            (ResourceKind::S3, "arn:aws:s3:us-east-1:123456789012:bucket"),
            (
                ResourceKind::CloudFront,
                "arn:aws:cloudfront::123456789012:origin-access-identity/x",
            ),
            (
                ResourceKind::ApiGateway,
                "arn:aws:apigateway:us-east-1::/domainnames/x",
            ),
            (
                ResourceKind::DynamoDb,
                "arn:aws:dynamodb:us-east-1:123456789012:table/",
            ),
            (ResourceKind::Sqs, "arn:aws:sqs:us-east-1:123456789012:"),
            (ResourceKind::Sqs, "arn:other:sqs:us-east-1:123456789012:q"),
        ];
        for (kind, arn) in cases {
            let err = Arn::parse(kind, arn).expect_err(arn);
            assert!(!err.reason.is_empty());
        }
    }
}
