//! What each remediation does to AWS: read the state it changes, apply it, verify it.
//! The decision whether it may run is helm-core's (`responder::policy`); this module only
//! acts. No secret leaves it: Lambda environment variables are reported by name only.

use crate::{AwsClients, AwsError};
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use std::time::Duration;

pub use helm_core::ports::{ActionRun, ActionTarget, Change};
use helm_core::resource::ResourceKind;
pub use helm_core::responder::catalogue::ActionId;
pub use helm_core::responder::remediation::RESTART_MARKER;
use helm_core::responder::state::{
    ActionState, FunctionState, GroupState, Receipt, ServiceState, StreamState, Verdict, verdict,
};

fn not_applicable(action: ActionId, kind: ResourceKind, t: &ActionTarget) -> AwsError {
    AwsError::local(
        "helm-cloud",
        Some(&t.name),
        crate::AwsErrorKind::Service,
        format!("{} cannot act on a {kind} resource", action.name()),
    )
}

fn required(v: Option<i32>, api: &'static str, name: &str) -> Result<i32, AwsError> {
    v.ok_or_else(|| {
        AwsError::local(
            api,
            Some(name),
            crate::AwsErrorKind::Service,
            "no value was given for the change",
        )
    })
}

impl AwsClients {
    /// The state `action` would change, for the plan and the history's `before`/`after`.
    pub async fn action_state(
        &self,
        action: ActionId,
        kind: ResourceKind,
        t: &ActionTarget,
    ) -> Result<ActionState, AwsError> {
        match (action, kind) {
            (ActionId::RestartLambda, _) => {
                let f = self
                    .lambda(&t.region)
                    .get_function_configuration()
                    .function_name(&t.name)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("lambda:GetFunctionConfiguration", Some(&t.name), e)
                    })?;
                let vars = f.environment().and_then(|e| e.variables());
                let mut names: Vec<String> = vars
                    .map(|v| v.keys().cloned().collect())
                    .unwrap_or_default();
                names.sort();
                Ok(ActionState::Function(FunctionState {
                    state: f.state().map(|s| s.as_str().to_string()),
                    last_update_status: f.last_update_status().map(|s| s.as_str().to_string()),
                    revision_id: f.revision_id().map(str::to_string),
                    memory_mb: f.memory_size(),
                    timeout_s: f.timeout(),
                    environment_variable_names: names,
                    restart_marker: vars.and_then(|v| v.get(RESTART_MARKER)).cloned(),
                }))
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Lambda) => {
                let c = self
                    .lambda(&t.region)
                    .get_function_concurrency()
                    .function_name(&t.name)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("lambda:GetFunctionConcurrency", Some(&t.name), e)
                    })?;
                Ok(ActionState::Concurrency {
                    reserved_concurrency: c.reserved_concurrent_executions(),
                })
            }
            (
                ActionId::ScaleResources | ActionId::IncreaseCapacity | ActionId::RestartEcsService,
                ResourceKind::Ecs,
            ) => {
                let cluster = t.cluster.as_deref().unwrap_or("default");
                let out = self
                    .ecs(&t.region)
                    .describe_services()
                    .cluster(cluster)
                    .services(&t.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(&t.name), e))?;
                let Some(s) = out.services().first() else {
                    return Err(AwsError::local(
                        "ecs:DescribeServices",
                        Some(&t.name),
                        crate::AwsErrorKind::NotFound,
                        "service not found",
                    ));
                };
                let primary = s
                    .deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"));
                Ok(ActionState::Service(ServiceState {
                    desired_count: s.desired_count(),
                    running_count: s.running_count(),
                    primary_deployment: primary.and_then(|d| d.id()).map(str::to_string),
                    deployments: s.deployments().len(),
                    task_definition: s.task_definition().map(str::to_string),
                }))
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Asg) => {
                let g = self
                    .scaling_group(&t.region, &t.name)
                    .await?
                    .ok_or_else(|| {
                        AwsError::local(
                            "autoscaling:DescribeAutoScalingGroups",
                            Some(&t.name),
                            crate::AwsErrorKind::NotFound,
                            "Auto Scaling group not found",
                        )
                    })?;
                let n = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
                Ok(ActionState::Group(GroupState {
                    desired_capacity: n(g.desired),
                    min_size: n(g.min),
                    max_size: n(g.max),
                    in_service: n(g.healthy),
                }))
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Kinesis) => {
                let s = self.stream_summary(&t.region, &t.name).await?;
                Ok(ActionState::Stream(StreamState {
                    open_shards: s.open_shard_count(),
                    stream_mode: s
                        .stream_mode_details()
                        .map(|m| m.stream_mode().as_str().to_string())
                        .unwrap_or_else(|| "PROVISIONED".into()),
                    stream_status: s.stream_status().as_str().to_string(),
                }))
            }
            (ActionId::ModifyAutoscaling, _) => {
                let cluster = t.cluster.as_deref().unwrap_or("default");
                let rid = format!("service/{cluster}/{}", t.name);
                let out = self
                    .autoscaling(&t.region)
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_ids(&rid)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk(
                            "application-autoscaling:DescribeScalableTargets",
                            Some(&rid),
                            e,
                        )
                    })?;
                let t = out.scalable_targets().first();
                Ok(ActionState::Scaling {
                    min: t.map(|s| s.min_capacity()),
                    max: t.map(|s| s.max_capacity()),
                })
            }
            (ActionId::InvalidateCloudfront, _) => {
                let d = self
                    .cloudfront()
                    .get_distribution()
                    .id(&t.name)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("cloudfront:GetDistribution", Some(&t.name), e)
                    })?;
                let dist = d.distribution();
                Ok(ActionState::Distribution {
                    status: dist.map(|x| x.status().to_string()),
                    enabled: dist
                        .and_then(|x| x.distribution_config())
                        .map(|c| c.enabled()),
                })
            }
            (ActionId::RebootRds, _) => {
                let out = self
                    .rds(&t.region)
                    .describe_db_instances()
                    .db_instance_identifier(&t.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", Some(&t.name), e))?;
                Ok(ActionState::DbInstance {
                    status: out
                        .db_instances()
                        .first()
                        .and_then(|d| d.db_instance_status())
                        .map(str::to_string),
                })
            }
            // The scaling and ECS actions on a kind they do not fit.
            (
                ActionId::ScaleResources | ActionId::IncreaseCapacity | ActionId::RestartEcsService,
                other,
            ) => Err(not_applicable(action, other, t)),
        }
    }

    /// The account's unreserved Lambda concurrency (lambda:GetAccountSettings).
    pub async fn lambda_unreserved_concurrency(&self, region: &str) -> Result<i64, AwsError> {
        let out = self
            .lambda(region)
            .get_account_settings()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("lambda:GetAccountSettings", None, e))?;
        out.account_limit()
            .and_then(|l| l.unreserved_concurrent_executions())
            .map(i64::from)
            .ok_or_else(|| {
                AwsError::local(
                    "lambda:GetAccountSettings",
                    None,
                    crate::AwsErrorKind::Service,
                    "the answer had no UnreservedConcurrentExecutions",
                )
            })
    }

    /// The message of a restart event of DB instance `id` at or after `since` (rds:DescribeEvents).
    async fn restart_event(
        &self,
        region: &str,
        id: &str,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Option<String>, AwsError> {
        let out = self
            .rds(region)
            .describe_events()
            .source_type(aws_sdk_rds::types::SourceType::DbInstance)
            .source_identifier(id)
            .duration(60)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("rds:DescribeEvents", Some(id), e))?;
        // A small margin for the clocks of this machine and AWS.
        let since = since.map(|t| t.timestamp() - 5).unwrap_or(i64::MIN);
        Ok(out
            .events()
            .iter()
            .filter(|e| e.date().is_some_and(|d| d.secs() >= since))
            .filter_map(|e| e.message())
            .find(|m| {
                let m = m.to_ascii_lowercase();
                m.contains("restarted") || m.contains("reboot")
            })
            .map(str::to_string))
    }

    /// Apply `action`. Returns what AWS answered that matters for verification (an
    /// invalidation id…).
    pub async fn apply_action(
        &self,
        action: ActionId,
        kind: ResourceKind,
        t: &ActionTarget,
        change: &Change,
    ) -> Result<Receipt, AwsError> {
        match (action, kind) {
            (ActionId::RestartLambda, _) => {
                let lambda = self.lambda(&t.region);
                let f = lambda
                    .get_function_configuration()
                    .function_name(&t.name)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("lambda:GetFunctionConfiguration", Some(&t.name), e)
                    })?;
                // Keep every existing variable; the revision id refuses a concurrent change.
                let mut vars = f
                    .environment()
                    .and_then(|e| e.variables())
                    .cloned()
                    .unwrap_or_default();
                vars.insert(
                    RESTART_MARKER.to_string(),
                    change.marker.clone().unwrap_or_default(),
                );
                let env = aws_sdk_lambda::types::Environment::builder()
                    .set_variables(Some(vars))
                    .build();
                // The plan's revision id, not the one just read: a change made while the
                // plan waited for confirmation makes AWS refuse this update.
                let revision = change
                    .revision_id
                    .clone()
                    .or_else(|| f.revision_id().map(str::to_string));
                let sent = lambda
                    .update_function_configuration()
                    .function_name(&t.name)
                    .environment(env)
                    .set_revision_id(revision)
                    .send()
                    .await;
                match sent {
                    Ok(_) => Ok(Receipt::default()),
                    Err(e) => {
                        let err = AwsError::from_sdk(
                            "lambda:UpdateFunctionConfiguration",
                            Some(&t.name),
                            e,
                        );
                        // The revision guard refused (someone changed the function since
                        // the plan, or this very update was applied, its answer lost and
                        // the SDK's retry carried the old revision), or no answer came at
                        // all. The marker on a re-read tells which; the update is never
                        // sent again.
                        let refused = err.code.as_deref() == Some("PreconditionFailedException");
                        if !refused && err.kind != crate::AwsErrorKind::Unreachable {
                            return Err(err);
                        }
                        let now = lambda
                            .get_function_configuration()
                            .function_name(&t.name)
                            .send()
                            .await
                            .map_err(|e| {
                                AwsError::from_sdk(
                                    "lambda:GetFunctionConfiguration",
                                    Some(&t.name),
                                    e,
                                )
                            })?;
                        let marker = now
                            .environment()
                            .and_then(|e| e.variables())
                            .and_then(|v| v.get(RESTART_MARKER));
                        if change.marker.is_some() && marker == change.marker.as_ref() {
                            Ok(Receipt {
                                note: Some(format!(
                                    "AWS's answer to UpdateFunctionConfiguration was lost{}; a \
                                     re-read shows this change applied ({RESTART_MARKER}={})",
                                    if refused {
                                        " and the retry was refused by the revision guard (412)"
                                    } else {
                                        ""
                                    },
                                    marker.map(String::as_str).unwrap_or_default()
                                )),
                                ..Receipt::default()
                            })
                        } else {
                            Err(err)
                        }
                    }
                }
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Lambda) => {
                let v = required(change.value, "lambda:PutFunctionConcurrency", &t.name)?;
                self.lambda(&t.region)
                    .put_function_concurrency()
                    .function_name(&t.name)
                    .reserved_concurrent_executions(v)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("lambda:PutFunctionConcurrency", Some(&t.name), e)
                    })?;
                Ok(Receipt::default())
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Ecs) => {
                let cluster = t.cluster.as_deref().unwrap_or("default");
                self.ecs(&t.region)
                    .update_service()
                    .cluster(cluster)
                    .service(&t.name)
                    .desired_count(required(change.value, "ecs:UpdateService", &t.name)?)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:UpdateService", Some(&t.name), e))?;
                Ok(Receipt::default())
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Asg) => {
                let v = required(change.value, "autoscaling:SetDesiredCapacity", &t.name)?;
                // HonorCooldown: a scaling activity in progress refuses the change
                // (ScalingActivityInProgress) rather than being overridden.
                self.ec2_autoscaling(&t.region)
                    .set_desired_capacity()
                    .auto_scaling_group_name(&t.name)
                    .desired_capacity(v)
                    .honor_cooldown(true)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("autoscaling:SetDesiredCapacity", Some(&t.name), e)
                    })?;
                Ok(Receipt::default())
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Kinesis) => {
                let v = required(change.value, "kinesis:UpdateShardCount", &t.name)?;
                self.kinesis(&t.region)
                    .update_shard_count()
                    .stream_name(&t.name)
                    .target_shard_count(v)
                    .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("kinesis:UpdateShardCount", Some(&t.name), e)
                    })?;
                Ok(Receipt::default())
            }
            (ActionId::RestartEcsService, _) => {
                let cluster = t.cluster.as_deref().unwrap_or("default");
                self.ecs(&t.region)
                    .update_service()
                    .cluster(cluster)
                    .service(&t.name)
                    .force_new_deployment(true)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:UpdateService", Some(&t.name), e))?;
                Ok(Receipt::default())
            }
            (ActionId::ModifyAutoscaling, _) => {
                let cluster = t.cluster.as_deref().unwrap_or("default");
                let rid = format!("service/{cluster}/{}", t.name);
                self.autoscaling(&t.region)
                    .register_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(&rid)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .set_min_capacity(change.min)
                    .set_max_capacity(change.max)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk(
                            "application-autoscaling:RegisterScalableTarget",
                            Some(&rid),
                            e,
                        )
                    })?;
                Ok(Receipt::default())
            }
            (ActionId::InvalidateCloudfront, _) => {
                let paths = aws_sdk_cloudfront::types::Paths::builder()
                    .quantity(change.paths.len() as i32)
                    .set_items(Some(change.paths.clone()))
                    .build()
                    .map_err(|e| {
                        AwsError::local(
                            "cloudfront:CreateInvalidation",
                            Some(&t.name),
                            crate::AwsErrorKind::Service,
                            e.to_string(),
                        )
                    })?;
                let batch = aws_sdk_cloudfront::types::InvalidationBatch::builder()
                    .paths(paths)
                    .caller_reference(change.marker.clone().unwrap_or_else(|| "helm-cloud".into()))
                    .build()
                    .map_err(|e| {
                        AwsError::local(
                            "cloudfront:CreateInvalidation",
                            Some(&t.name),
                            crate::AwsErrorKind::Service,
                            e.to_string(),
                        )
                    })?;
                let out = self
                    .cloudfront()
                    .create_invalidation()
                    .distribution_id(&t.name)
                    .invalidation_batch(batch)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("cloudfront:CreateInvalidation", Some(&t.name), e)
                    })?;
                Ok(Receipt {
                    invalidation_id: out.invalidation().map(|i| i.id().to_string()),
                    ..Receipt::default()
                })
            }
            (ActionId::RebootRds, _) => {
                self.rds(&t.region)
                    .reboot_db_instance()
                    .db_instance_identifier(&t.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("rds:RebootDBInstance", Some(&t.name), e))?;
                Ok(Receipt::default())
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, other) => {
                Err(not_applicable(action, other, t))
            }
        }
    }

    /// Check that `action` took effect, waiting up to `wait` (polling every second): the
    /// verdict (helm-core's `responder::state::verdict`) and the state after.
    pub async fn verify_action(
        &self,
        run: &ActionRun<'_>,
        before: &ActionState,
        applied: &Receipt,
        wait: Duration,
    ) -> (Verdict, Option<ActionState>) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let (verdict, after) = self.check_once(run, before, applied).await;
            if verdict.ok || tokio::time::Instant::now() >= deadline {
                return (verdict, after);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The state after: the action's own state, or for invalidate_cloudfront the
    /// invalidation it made.
    async fn state_after(
        &self,
        run: &ActionRun<'_>,
        applied: &Receipt,
    ) -> Result<ActionState, String> {
        let (action, t) = (run.action, run.target);
        if action != ActionId::InvalidateCloudfront {
            return self
                .action_state(action, run.kind, t)
                .await
                .map_err(|e| e.to_string());
        }
        let Some(id) = applied.invalidation_id.as_deref() else {
            return Err("no invalidation id was returned".into());
        };
        let out = self
            .cloudfront()
            .get_invalidation()
            .distribution_id(&t.name)
            .id(id)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("cloudfront:GetInvalidation", Some(id), e).to_string()
            })?;
        Ok(ActionState::Invalidation {
            invalidation_id: id.to_string(),
            status: out
                .invalidation()
                .map(|i| i.status().to_string())
                .unwrap_or_default(),
            paths: run.change.paths.clone(),
        })
    }

    async fn check_once(
        &self,
        run: &ActionRun<'_>,
        before: &ActionState,
        applied: &Receipt,
    ) -> (Verdict, Option<ActionState>) {
        let after = match self.state_after(run, applied).await {
            Ok(a) => a,
            Err(detail) => return (Verdict { ok: false, detail }, None),
        };
        let mut v = verdict(run.action, run.kind, before, &after, run.change);
        // A reboot that already finished shows no `rebooting` status: its evidence is the
        // instance's restart event after the request.
        if run.action == ActionId::RebootRds && !v.ok {
            let status = match &after {
                ActionState::DbInstance { status } => status.as_deref().unwrap_or("not reported"),
                _ => "not reported",
            };
            let t = run.target;
            v = match self
                .restart_event(&t.region, &t.name, run.change.requested_at)
                .await
            {
                Ok(Some(msg)) => Verdict {
                    ok: true,
                    detail: format!("instance {status}; event: {msg}"),
                },
                Ok(None) => v,
                Err(e) => Verdict {
                    ok: false,
                    detail: format!("instance {status}; {}", e.brief()),
                },
            };
        }
        (v, Some(after))
    }
}

impl From<AwsError> for helm_core::ports::Failure {
    fn from(e: AwsError) -> Self {
        use crate::AwsErrorKind as K;
        use helm_core::ports::FailureKind as F;
        helm_core::ports::Failure {
            kind: match e.kind {
                K::Unreachable | K::Throttled => F::Unavailable,
                K::AccessDenied | K::Credentials => F::PermissionDenied,
                K::NotFound => F::NotFound,
                K::Service => F::Rejected,
            },
            api: e.api.to_string(),
            code: e.code.clone(),
            cause: e.cause(),
            message: e.to_string(),
            brief: e.brief(),
            hint: e.hint().to_string(),
        }
    }
}

/// AWS as the remediation use case sees it.
impl helm_core::ports::Actuator for AwsClients {
    async fn state(
        &self,
        action: ActionId,
        kind: ResourceKind,
        target: &ActionTarget,
    ) -> Result<ActionState, helm_core::ports::Failure> {
        Ok(self.action_state(action, kind, target).await?)
    }

    async fn unreserved_concurrency(&self, region: &str) -> Result<i64, helm_core::ports::Failure> {
        Ok(self.lambda_unreserved_concurrency(region).await?)
    }

    async fn apply(&self, run: ActionRun<'_>) -> Result<Receipt, helm_core::ports::Failure> {
        Ok(self
            .apply_action(run.action, run.kind, run.target, run.change)
            .await?)
    }

    async fn verify(
        &self,
        run: ActionRun<'_>,
        before: &ActionState,
        applied: &Receipt,
        wait: Duration,
    ) -> (Verdict, Option<ActionState>) {
        self.verify_action(&run, before, applied, wait).await
    }
}
