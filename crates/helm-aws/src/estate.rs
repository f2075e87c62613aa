//! What describes an estate besides the registry: CloudFormation stacks
//! (`DescribeStacks`, `ListStackResources`) and the Resource Groups Tagging API
//! (`GetResources`), for `registry import` and `registry drift`.

use crate::{AwsClients, AwsError};
use helm_core::import::{Stack, StackResource};
use helm_core::ports::Failure;
use serde_json::{Map, Value};

impl AwsClients {
    fn cloudformation(&self, region: &str) -> aws_sdk_cloudformation::Client {
        self.client_cloudformation(region)
    }

    /// Every stack of `region` that exists.
    pub async fn stack_names(&self, region: &str) -> Result<Vec<String>, AwsError> {
        let cfn = self.cloudformation(region);
        let mut names = Vec::new();
        let mut pages = cfn.describe_stacks().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("cloudformation:DescribeStacks", Some(region), e)
            })?;
            for s in page.stacks() {
                let deleted = s
                    .stack_status()
                    .is_some_and(|st| st.as_str() == "DELETE_COMPLETE");
                if let (Some(name), false) = (s.stack_name(), deleted) {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// A stack's ARN and resources (None: CloudFormation has no such stack).
    pub async fn stack(&self, region: &str, name: &str) -> Result<Option<Stack>, AwsError> {
        let cfn = self.cloudformation(region);
        let described = match cfn.describe_stacks().stack_name(name).send().await {
            Ok(d) => d,
            Err(e) => {
                let err = AwsError::from_sdk("cloudformation:DescribeStacks", Some(name), e);
                // CloudFormation answers an unknown stack with a ValidationError.
                if err.code.as_deref() == Some("ValidationError")
                    && err.message.contains("does not exist")
                {
                    return Ok(None);
                }
                return Err(err);
            }
        };
        let Some(s) = described.stacks().first() else {
            return Ok(None);
        };
        if s.stack_status()
            .is_some_and(|st| st.as_str() == "DELETE_COMPLETE")
        {
            return Ok(None);
        }
        let arn = s.stack_id().unwrap_or_default().to_string();
        let mut resources = Vec::new();
        let mut pages = cfn
            .list_stack_resources()
            .stack_name(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("cloudformation:ListStackResources", Some(name), e)
            })?;
            for r in page.stack_resource_summaries() {
                let deleted = r
                    .resource_status()
                    .is_some_and(|st| st.as_str() == "DELETE_COMPLETE");
                if let (Some(physical), false) = (r.physical_resource_id(), deleted) {
                    resources.push(StackResource {
                        logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: r.resource_type().unwrap_or_default().to_string(),
                        physical_id: physical.to_string(),
                        fields: Default::default(),
                    });
                }
            }
        }
        // An Auto Scaling group's physical id is its name; its ARN holds an id only the
        // service knows.
        let groups: Vec<String> = resources
            .iter()
            .filter(|r| r.resource_type == "AWS::AutoScaling::AutoScalingGroup")
            .map(|r| r.physical_id.clone())
            .collect();
        if !groups.is_empty() {
            let mut arns = std::collections::HashMap::new();
            for chunk in groups.chunks(50) {
                let out = self
                    .ec2_autoscaling(region)
                    .describe_auto_scaling_groups()
                    .set_auto_scaling_group_names(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("autoscaling:DescribeAutoScalingGroups", Some(name), e)
                    })?;
                for g in out.auto_scaling_groups() {
                    if let (Some(n), Some(a)) =
                        (g.auto_scaling_group_name(), g.auto_scaling_group_arn())
                    {
                        arns.insert(n.to_string(), a.to_string());
                    }
                }
            }
            for r in &mut resources {
                if let Some(a) = arns.get(&r.physical_id) {
                    r.physical_id = a.clone();
                }
            }
        }
        balancer_fields(&self.ecs(region), &self.elbv2(region), name, &mut resources).await?;
        Ok(Some(Stack {
            name: name.to_string(),
            arn,
            resources,
        }))
    }

    /// The ARNs of `region`'s resources tagged `key=value`, with their tags.
    pub async fn tagged(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<(String, Value)>, AwsError> {
        let api = self.client_tagging(region);
        let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
            .key(key)
            .values(value)
            .build();
        let mut out = Vec::new();
        let mut pages = api
            .get_resources()
            .tag_filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("tag:GetResources", Some(region), e))?;
            for m in page.resource_tag_mapping_list() {
                let Some(arn) = m.resource_arn() else {
                    continue;
                };
                let tags: Map<String, Value> = m
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), Value::String(t.value().to_string())))
                    .collect();
                out.push((arn.to_string(), Value::Object(tags)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

impl helm_core::ports::Estate for AwsClients {
    async fn stack_names(&self, region: &str) -> Result<Vec<String>, Failure> {
        Ok(AwsClients::stack_names(self, region).await?)
    }
    async fn stack(&self, region: &str, name: &str) -> Result<Option<Stack>, Failure> {
        Ok(AwsClients::stack(self, region, name).await?)
    }
    async fn tagged(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<(String, Value)>, Failure> {
        Ok(AwsClients::tagged(self, region, key, value).await?)
    }
    async fn group_balancers(
        &self,
        region: &str,
        groups: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, Failure> {
        Ok(group_balancers(&self.elbv2(region), "tag", groups)
            .await?
            .into_iter()
            .collect())
    }
}
/// The balancer each target group forwards from (an Application Load Balancer first: an ECS
/// service's metrics need one): DescribeTargetGroups, 400 groups a call.
async fn group_balancers(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    what: &str,
    groups: &[String],
) -> Result<std::collections::HashMap<String, String>, AwsError> {
    let mut balancer = std::collections::HashMap::new();
    for chunk in groups.chunks(400) {
        let out = elb
            .describe_target_groups()
            .set_target_group_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("elasticloadbalancing:DescribeTargetGroups", Some(what), e)
            })?;
        for g in out.target_groups() {
            let lb = g
                .load_balancer_arns()
                .iter()
                .min_by_key(|a| !a.contains(":loadbalancer/app/"));
            if let (Some(arn), Some(lb)) = (g.target_group_arn(), lb) {
                balancer.insert(arn.to_string(), lb.clone());
            }
        }
    }
    Ok(balancer)
}

/// Where a stack's ECS services and target groups publish their request metrics: a
/// service's target group (DescribeServices, 10 a call per cluster) and each group's
/// load balancer (DescribeTargetGroups, 400 a call). The stack's resource list carries
/// neither.
async fn balancer_fields(
    ecs: &aws_sdk_ecs::Client,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    stack: &str,
    resources: &mut [StackResource],
) -> Result<(), AwsError> {
    let services: Vec<(usize, String, String)> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.resource_type == "AWS::ECS::Service")
        .filter_map(|(i, r)| {
            let rest = r.physical_id.split(":service/").nth(1)?;
            let (cluster, service) = rest.split_once('/')?;
            Some((i, cluster.to_string(), service.to_string()))
        })
        .collect();
    // A service's first target group.
    let mut service_group: Vec<(usize, String)> = Vec::new();
    let mut by_cluster: std::collections::BTreeMap<&str, Vec<(usize, &str)>> = Default::default();
    for (i, cluster, service) in &services {
        by_cluster
            .entry(cluster.as_str())
            .or_default()
            .push((*i, service.as_str()));
    }
    for (cluster, members) in by_cluster {
        for chunk in members.chunks(10) {
            let out = ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.iter().map(|(_, s)| s.to_string()).collect()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(stack), e))?;
            for s in out.services() {
                let Some(tg) = s.load_balancers().iter().find_map(|l| l.target_group_arn()) else {
                    continue;
                };
                if let Some((i, _)) = chunk
                    .iter()
                    .find(|(_, name)| s.service_name() == Some(*name))
                {
                    service_group.push((*i, tg.to_string()));
                }
            }
        }
    }
    let mut groups: Vec<String> = resources
        .iter()
        .filter(|r| r.resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup")
        .map(|r| r.physical_id.clone())
        .chain(service_group.iter().map(|(_, tg)| tg.clone()))
        .collect();
    groups.sort();
    groups.dedup();
    let balancer = group_balancers(elb, stack, &groups).await?;
    for (i, tg) in service_group {
        if let Some(lb) = balancer.get(&tg) {
            let f = &mut resources[i].fields;
            f.insert("target_group_arn".into(), tg.clone());
            f.insert("load_balancer_arn".into(), lb.clone());
        }
    }
    for r in resources.iter_mut() {
        if r.resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup"
            && let Some(lb) = balancer.get(&r.physical_id)
        {
            r.fields.insert("load_balancer_arn".into(), lb.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::types::{LoadBalancer, Service};
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
    use aws_sdk_elasticloadbalancingv2::types::TargetGroup;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/73e2";
    const ALB: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/front/50dc";
    const NLB: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/tcp/1f2e";

    fn resource(logical: &str, kind: &str, physical: &str) -> StackResource {
        StackResource {
            logical_id: logical.into(),
            resource_type: kind.into(),
            physical_id: physical.into(),
            fields: Default::default(),
        }
    }

    /// SDK-level stub: the emulator's CloudFormation (and its UpdateService) drop an ECS
    /// service's LoadBalancers, so a stack's service behind a target group cannot be built
    /// there; the reads and the mapping are tested against stubbed answers instead.
    #[tokio::test]
    async fn a_stacks_service_gets_its_target_group_and_the_group_its_application_balancer() {
        let services = mock!(aws_sdk_ecs::Client::describe_services)
            .match_requests(|r| r.cluster() == Some("main"))
            .then_output(|| {
                DescribeServicesOutput::builder()
                    .services(
                        Service::builder()
                            .service_name("web")
                            .load_balancers(LoadBalancer::builder().target_group_arn(TG).build())
                            .build(),
                    )
                    .services(Service::builder().service_name("worker").build())
                    .build()
            });
        let groups = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
            .match_requests(|r| r.target_group_arns() == [TG.to_string()])
            .then_output(|| {
                DescribeTargetGroupsOutput::builder()
                    .target_groups(
                        TargetGroup::builder()
                            .target_group_arn(TG)
                            .load_balancer_arns(NLB)
                            .load_balancer_arns(ALB)
                            .build(),
                    )
                    .build()
            });
        let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&services]);
        let elb = mock_client!(
            aws_sdk_elasticloadbalancingv2,
            RuleMode::MatchAny,
            [&groups]
        );
        let mut resources = vec![
            resource(
                "Web",
                "AWS::ECS::Service",
                "arn:aws:ecs:us-east-1:1:service/main/web",
            ),
            resource(
                "Worker",
                "AWS::ECS::Service",
                "arn:aws:ecs:us-east-1:1:service/main/worker",
            ),
            resource("Group", "AWS::ElasticLoadBalancingV2::TargetGroup", TG),
            resource("Queue", "AWS::SQS::Queue", "https://sqs/1/q"),
        ];
        balancer_fields(&ecs, &elb, "shop", &mut resources)
            .await
            .unwrap();
        let web = &resources[0].fields;
        assert_eq!(web["target_group_arn"], TG);
        assert_eq!(
            web["load_balancer_arn"], ALB,
            "the application balancer first"
        );
        assert!(
            resources[1].fields.is_empty(),
            "a service without a balancer"
        );
        assert_eq!(resources[2].fields["load_balancer_arn"], ALB);
        assert!(resources[3].fields.is_empty());
        assert_eq!(services.num_calls(), 1);
        assert_eq!(
            groups.num_calls(),
            1,
            "one call for the group and the service's"
        );
    }
}
