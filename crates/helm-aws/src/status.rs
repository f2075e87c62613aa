//! Resource status, batched where the API allows: list pages (Lambda, RDS, S3, CloudFront,
//! DynamoDB, SQS), DescribeServices by 10 (ECS), one GetStages per API (API Gateway), and
//! per-resource detail (GetFunctionConfiguration, DescribeTable) only when asked for.

use crate::{AwsClients, AwsError, AwsErrorKind};
use std::collections::{HashMap, HashSet};

/// Lambda state as far as a call reveals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaState {
    /// `Active`, `Pending`, `Inactive`, `Failed`; None when the call did not say (ListFunctions).
    pub state: Option<String>,
    pub last_update_status: Option<String>,
    pub reason: Option<String>,
}

/// A DB instance as DescribeDBInstances reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInstance {
    pub id: String,
    pub status: String,
    pub class: String,
    pub public: bool,
    pub encrypted: bool,
}

/// An ECS service as DescribeServices reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsService {
    pub status: String,
    pub desired: i64,
    pub running: i64,
    pub pending: i64,
    pub deployments: usize,
}

impl AwsClients {
    /// Every function of `region` by name (ListFunctions, all pages).
    pub async fn lambda_functions(
        &self,
        region: &str,
    ) -> Result<HashMap<String, LambdaState>, AwsError> {
        let client = self.lambda(region);
        let mut out = HashMap::new();
        let mut pages = client
            .list_functions()
            .max_items(50)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("lambda:ListFunctions", Some(region), e))?;
            for f in page.functions() {
                out.insert(
                    f.function_name().unwrap_or_default().to_string(),
                    LambdaState {
                        state: f.state().map(|s| s.as_str().to_string()),
                        last_update_status: f.last_update_status().map(|s| s.as_str().to_string()),
                        reason: f.state_reason().map(str::to_string),
                    },
                );
            }
        }
        Ok(out)
    }

    /// One function's state (GetFunctionConfiguration); None when it does not exist.
    pub async fn lambda_function(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<LambdaState>, AwsError> {
        match self
            .lambda(region)
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
        {
            Ok(f) => Ok(Some(LambdaState {
                state: f.state().map(|s| s.as_str().to_string()),
                last_update_status: f.last_update_status().map(|s| s.as_str().to_string()),
                reason: f
                    .state_reason()
                    .or(f.last_update_status_reason())
                    .map(str::to_string),
            })),
            Err(e) => not_found_is_none(AwsError::from_sdk(
                "lambda:GetFunctionConfiguration",
                Some(name),
                e,
            )),
        }
    }

    /// Services of one cluster by name (DescribeServices, 10 a call). Missing ones are absent.
    pub async fn ecs_services(
        &self,
        region: &str,
        cluster: &str,
        names: &[String],
    ) -> Result<HashMap<String, EcsService>, AwsError> {
        let client = self.ecs(region);
        let mut out = HashMap::new();
        for chunk in names.chunks(10) {
            let page = client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(cluster), e))?;
            for s in page.services() {
                out.insert(
                    s.service_name().unwrap_or_default().to_string(),
                    EcsService {
                        status: s.status().unwrap_or_default().to_string(),
                        desired: s.desired_count().into(),
                        running: s.running_count().into(),
                        pending: s.pending_count().into(),
                        deployments: s.deployments().len(),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Every DB instance of `region` (DescribeDBInstances, all pages): what health and the
    /// audits read of them.
    pub async fn db_instances(&self, region: &str) -> Result<Vec<DbInstance>, AwsError> {
        let client = self.rds(region);
        let mut out = Vec::new();
        let mut pages = client
            .describe_db_instances()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", Some(region), e))?;
            for db in page.db_instances() {
                out.push(DbInstance {
                    id: db.db_instance_identifier().unwrap_or_default().to_string(),
                    status: db.db_instance_status().unwrap_or_default().to_string(),
                    class: db.db_instance_class().unwrap_or_default().to_string(),
                    public: db.publicly_accessible().unwrap_or(false),
                    encrypted: db.storage_encrypted().unwrap_or(false),
                });
            }
        }
        Ok(out)
    }

    /// Every bucket of the account (ListBuckets, all pages).
    pub async fn s3_buckets(&self, region: &str) -> Result<HashSet<String>, AwsError> {
        let client = self.s3(region);
        let mut out = HashSet::new();
        let mut pages = client
            .list_buckets()
            .max_buckets(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("s3:ListBuckets", None, e))?;
            out.extend(
                page.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string)),
            );
        }
        Ok(out)
    }

    /// Every distribution: id → (status, enabled) (ListDistributions, all pages).
    pub async fn cloudfront_distributions(
        &self,
    ) -> Result<HashMap<String, (String, bool)>, AwsError> {
        let client = self.cloudfront();
        let mut out = HashMap::new();
        let mut pages = client.list_distributions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("cloudfront:ListDistributions", None, e))?;
            let Some(list) = page.distribution_list() else {
                return Ok(out);
            };
            for d in list.items() {
                out.insert(d.id().to_string(), (d.status().to_string(), d.enabled()));
            }
        }
        Ok(out)
    }

    /// The stage names of a REST API (GetStages); None when the API does not exist.
    pub async fn apigateway_stages(
        &self,
        region: &str,
        api_id: &str,
    ) -> Result<Option<Vec<String>>, AwsError> {
        match self
            .apigateway(region)
            .get_stages()
            .rest_api_id(api_id)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.item()
                    .iter()
                    .filter_map(|s| s.stage_name().map(str::to_string))
                    .collect(),
            )),
            Err(e) => {
                not_found_is_none(AwsError::from_sdk("apigateway:GetStages", Some(api_id), e))
            }
        }
    }

    /// Every REST API id of `region` (GetRestApis, all pages).
    pub async fn apigateway_apis(&self, region: &str) -> Result<HashSet<String>, AwsError> {
        let client = self.apigateway(region);
        let mut out = HashSet::new();
        let mut pages = client.get_rest_apis().limit(500).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("apigateway:GetRestApis", Some(region), e))?;
            out.extend(
                page.items()
                    .iter()
                    .filter_map(|a| a.id().map(str::to_string)),
            );
        }
        Ok(out)
    }

    /// Every table name of `region` (ListTables, all pages).
    pub async fn dynamodb_tables(&self, region: &str) -> Result<HashSet<String>, AwsError> {
        let client = self.dynamodb(region);
        let mut out = HashSet::new();
        let mut pages = client.list_tables().limit(100).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("dynamodb:ListTables", Some(region), e))?;
            out.extend(page.table_names().iter().cloned());
        }
        Ok(out)
    }

    /// One table's status (DescribeTable); None when it does not exist.
    pub async fn dynamodb_table_status(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<String>, AwsError> {
        match self
            .dynamodb(region)
            .describe_table()
            .table_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.table()
                    .and_then(|t| t.table_status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )),
            Err(e) => {
                not_found_is_none(AwsError::from_sdk("dynamodb:DescribeTable", Some(name), e))
            }
        }
    }

    /// Every queue name of `region` (ListQueues, all pages).
    pub async fn sqs_queues(&self, region: &str) -> Result<HashSet<String>, AwsError> {
        let client = self.sqs(region);
        let mut out = HashSet::new();
        let mut pages = client
            .list_queues()
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("sqs:ListQueues", Some(region), e))?;
            out.extend(
                page.queue_urls()
                    .iter()
                    .filter_map(|u| u.rsplit('/').next().map(str::to_string)),
            );
        }
        Ok(out)
    }
}

impl AwsClients {
    /// The state machines of `region`, by name (ListStateMachines: one call a page).
    pub async fn state_machines(&self, region: &str) -> Result<HashSet<String>, AwsError> {
        let client = self.sfn(region);
        let mut out = HashSet::new();
        let mut pages = client.list_state_machines().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("states:ListStateMachines", Some(region), e))?;
            out.extend(page.state_machines().iter().map(|m| m.name().to_string()));
        }
        Ok(out)
    }

    /// The rules of one event bus of `region` (None: the default bus), by name, with
    /// their state (`ENABLED`, `DISABLED`).
    pub async fn event_rules(
        &self,
        region: &str,
        bus: Option<&str>,
    ) -> Result<std::collections::HashMap<String, String>, AwsError> {
        let client = self.eventbridge(region);
        let mut out = std::collections::HashMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_rules()
                .set_event_bus_name(bus.map(str::to_string))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("events:ListRules", Some(region), e))?;
            for r in page.rules() {
                if let Some(name) = r.name() {
                    let state = r
                        .state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    out.insert(name.to_string(), state);
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }
}

fn not_found_is_none<T>(e: AwsError) -> Result<Option<T>, AwsError> {
    if e.kind == AwsErrorKind::NotFound {
        Ok(None)
    } else {
        Err(e)
    }
}

impl AwsClients {
    /// The load balancers of `region`, by [`lb_key`] of their ARN, with their state code
    /// (`active`, `provisioning`, `active_impaired`, `failed`): DescribeLoadBalancers, 400 a
    /// page.
    pub async fn load_balancers(
        &self,
        region: &str,
    ) -> Result<std::collections::HashMap<String, String>, AwsError> {
        let client = self.elbv2(region);
        let mut out = std::collections::HashMap::new();
        let mut pages = client
            .describe_load_balancers()
            .page_size(400)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk(
                    "elasticloadbalancing:DescribeLoadBalancers",
                    Some(region),
                    e,
                )
            })?;
            for lb in page.load_balancers() {
                if let Some(arn) = lb.load_balancer_arn() {
                    let state = lb
                        .state()
                        .and_then(|s| s.code())
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_else(|| "unknown".into());
                    out.insert(lb_key(arn), state);
                }
            }
        }
        Ok(out)
    }

    /// The SNS topics of `region`, by ARN (ListTopics: 100 a page).
    pub async fn sns_topics(&self, region: &str) -> Result<HashSet<String>, AwsError> {
        let client = self.sns(region);
        let mut out = HashSet::new();
        let mut pages = client.list_topics().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("sns:ListTopics", Some(region), e))?;
            out.extend(
                page.topics()
                    .iter()
                    .filter_map(|t| t.topic_arn().map(str::to_string)),
            );
        }
        Ok(out)
    }
}

/// An Auto Scaling group's size and its instances' health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// `active`, or `deleting` while a delete is in progress.
    pub status: String,
    pub desired: i64,
    pub min: i64,
    pub max: i64,
    /// InService and Healthy.
    pub healthy: i64,
    /// Marked Unhealthy (whatever their lifecycle state).
    pub unhealthy: i64,
}

/// A target group's targets by health state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetsState {
    /// Registered and not draining.
    pub registered: i64,
    pub healthy: i64,
    /// unhealthy, unavailable or unused.
    pub unhealthy: i64,
}

impl AwsClients {
    /// The Kinesis streams of `region`, by name, with their status (`ACTIVE`, `CREATING`,
    /// `UPDATING`, `DELETING`): ListStreams' summaries, paged by its token or, where an
    /// endpoint gives none, by the last name seen.
    pub async fn kinesis_streams(&self, region: &str) -> Result<HashMap<String, String>, AwsError> {
        let client = self.kinesis(region);
        let mut out = HashMap::new();
        let mut token: Option<String> = None;
        let mut after: Option<String> = None;
        loop {
            let page = client
                .list_streams()
                .limit(1000)
                .set_next_token(token.take())
                .set_exclusive_start_stream_name(after.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("kinesis:ListStreams", Some(region), e))?;
            for s in page.stream_summaries() {
                out.insert(
                    s.stream_name().to_string(),
                    s.stream_status().as_str().to_string(),
                );
            }
            if !page.has_more_streams() {
                break;
            }
            match (page.next_token(), page.stream_names().last()) {
                (Some(t), _) => token = Some(t.to_string()),
                (None, Some(last)) => after = Some(last.clone()),
                (None, None) => break,
            }
        }
        Ok(out)
    }

    /// The ElastiCache cache clusters of `region`, by id, with their status.
    pub async fn cache_clusters(&self, region: &str) -> Result<HashMap<String, String>, AwsError> {
        let client = self.elasticache(region);
        let mut out = HashMap::new();
        let mut pages = client
            .describe_cache_clusters()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("elasticache:DescribeCacheClusters", Some(region), e)
            })?;
            for c in page.cache_clusters() {
                if let Some(id) = c.cache_cluster_id() {
                    out.insert(
                        id.to_string(),
                        c.cache_cluster_status().unwrap_or("unknown").to_string(),
                    );
                }
            }
        }
        Ok(out)
    }

    /// The Auto Scaling groups of `region`, by name (DescribeAutoScalingGroups, 100 a page).
    pub async fn scaling_groups(
        &self,
        region: &str,
    ) -> Result<HashMap<String, GroupState>, AwsError> {
        let client = self.ec2_autoscaling(region);
        let mut out = HashMap::new();
        let mut pages = client
            .describe_auto_scaling_groups()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("autoscaling:DescribeAutoScalingGroups", Some(region), e)
            })?;
            for g in page.auto_scaling_groups() {
                let Some(name) = g.auto_scaling_group_name() else {
                    continue;
                };
                out.insert(name.to_string(), group_state(g));
            }
        }
        Ok(out)
    }

    /// One Auto Scaling group, or None when it does not exist.
    pub async fn scaling_group(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<GroupState>, AwsError> {
        Ok(self
            .describe_group(region, name)
            .await?
            .as_ref()
            .map(group_state))
    }

    /// A Kinesis stream's summary (shards, mode, status, encryption).
    pub(crate) async fn stream_summary(
        &self,
        region: &str,
        name: &str,
    ) -> Result<aws_sdk_kinesis::types::StreamDescriptionSummary, AwsError> {
        let out = self
            .kinesis(region)
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("kinesis:DescribeStreamSummary", Some(name), e))?;
        out.stream_description_summary().cloned().ok_or_else(|| {
            AwsError::local(
                "kinesis:DescribeStreamSummary",
                Some(name),
                AwsErrorKind::Service,
                "the answer had no StreamDescriptionSummary",
            )
        })
    }

    /// One Auto Scaling group as the API describes it, or None.
    pub(crate) async fn describe_group(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<aws_sdk_autoscaling::types::AutoScalingGroup>, AwsError> {
        let out = self
            .ec2_autoscaling(region)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("autoscaling:DescribeAutoScalingGroups", Some(name), e)
            })?;
        Ok(out.auto_scaling_groups().first().cloned())
    }

    /// One ElastiCache cache cluster as the API describes it (its log delivery and
    /// encryption settings among it); a cluster that does not exist is an error.
    pub(crate) async fn cache_cluster(
        &self,
        region: &str,
        id: &str,
    ) -> Result<aws_sdk_elasticache::types::CacheCluster, AwsError> {
        let out = self
            .elasticache(region)
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticache:DescribeCacheClusters", Some(id), e))?;
        out.cache_clusters().first().cloned().ok_or_else(|| {
            AwsError::local(
                "elasticache:DescribeCacheClusters",
                Some(id),
                AwsErrorKind::NotFound,
                "cache cluster not found",
            )
        })
    }

    /// A target group's targets by health (DescribeTargetHealth); None when the group does
    /// not exist.
    pub async fn target_health(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<TargetsState>, AwsError> {
        // TargetGroupNotFound is a NotFound: the group is gone.
        let out = match self
            .elbv2(region)
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                return not_found_is_none(AwsError::from_sdk(
                    "elasticloadbalancing:DescribeTargetHealth",
                    Some(arn),
                    e,
                ));
            }
        };
        let mut s = TargetsState {
            registered: 0,
            healthy: 0,
            unhealthy: 0,
        };
        for d in out.target_health_descriptions() {
            let state = d
                .target_health()
                .and_then(|h| h.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            if state == "draining" || state == "unhealthy.draining" {
                continue;
            }
            s.registered += 1;
            match state.as_str() {
                "healthy" => s.healthy += 1,
                "unhealthy" | "unavailable" | "unused" => s.unhealthy += 1,
                _ => {}
            }
        }
        Ok(Some(s))
    }
}

/// A balancer's key: `NAME/ID` of its ARN. Names are unique per account and region and ids
/// per balancer, so this is the ARN's identity without its type part (the emulator writes
/// `loadbalancer/app/` for every balancer, an NLB's too).
pub fn lb_key(arn: &str) -> String {
    let mut parts: Vec<&str> = arn.rsplit('/').take(2).collect();
    parts.reverse();
    parts.join("/")
}

fn group_state(g: &aws_sdk_autoscaling::types::AutoScalingGroup) -> GroupState {
    let instances = g.instances();
    let healthy = instances
        .iter()
        .filter(|i| {
            i.lifecycle_state().map(|s| s.as_str()) == Some("InService")
                && i.health_status()
                    .is_some_and(|h| h.eq_ignore_ascii_case("healthy"))
        })
        .count() as i64;
    let unhealthy = instances
        .iter()
        .filter(|i| {
            i.health_status()
                .is_some_and(|h| h.eq_ignore_ascii_case("unhealthy"))
        })
        .count() as i64;
    GroupState {
        status: match g.status() {
            Some(s) if s.to_ascii_lowercase().contains("delete") => "deleting".into(),
            _ => "active".into(),
        },
        desired: i64::from(g.desired_capacity().unwrap_or(0)),
        min: i64::from(g.min_size().unwrap_or(0)),
        max: i64::from(g.max_size().unwrap_or(0)),
        healthy,
        unhealthy,
    }
}

#[cfg(test)]
mod tests {
    use super::lb_key;

    #[test]
    fn a_balancer_is_keyed_by_name_and_id_whatever_its_type_part() {
        let app =
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c49";
        let net =
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/50dc6c49";
        assert_eq!(lb_key(app), "web/50dc6c49");
        assert_eq!(lb_key(app), lb_key(net));
        assert_ne!(
            lb_key(app),
            lb_key(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/60dc6c49"
            )
        );
    }
}
