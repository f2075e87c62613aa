//! What each remediation does to AWS: read the state it changes, apply it, verify it.
//! The decision whether it may run is helm-core's (`responder::policy`); this module only
//! acts. No secret leaves it: Lambda environment variables are reported by name only.

use crate::{AwsClients, AwsError};
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use serde_json::{Value, json};
use std::time::Duration;

pub use helm_core::ports::{ActionRun, ActionTarget, Change};
use helm_core::resource::ResourceKind;
pub use helm_core::responder::catalogue::ActionId;
pub use helm_core::responder::remediation::RESTART_MARKER;

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
    ) -> Result<Value, AwsError> {
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
                let mut names: Vec<&String> = vars.map(|v| v.keys().collect()).unwrap_or_default();
                names.sort();
                Ok(json!({
                    "state": f.state().map(|s| s.as_str()),
                    "last_update_status": f.last_update_status().map(|s| s.as_str()),
                    "revision_id": f.revision_id(),
                    "memory_mb": f.memory_size(),
                    "timeout_s": f.timeout(),
                    "environment_variable_names": names,
                    "restart_marker": vars.and_then(|v| v.get(RESTART_MARKER)),
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
                Ok(json!({"reserved_concurrency": c.reserved_concurrent_executions()}))
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
                Ok(json!({
                    "desired_count": s.desired_count(),
                    "running_count": s.running_count(),
                    "primary_deployment": primary.and_then(|d| d.id()),
                    "deployments": s.deployments().len(),
                    "task_definition": s.task_definition(),
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
                Ok(match out.scalable_targets().first() {
                    Some(s) => json!({"min": s.min_capacity(), "max": s.max_capacity()}),
                    None => json!({"min": null, "max": null}),
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
                Ok(
                    json!({"status": dist.map(|x| x.status()), "enabled": dist.and_then(|x| x.distribution_config()).map(|c| c.enabled())}),
                )
            }
            (ActionId::RebootRds, _) => {
                let out = self
                    .rds(&t.region)
                    .describe_db_instances()
                    .db_instance_identifier(&t.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", Some(&t.name), e))?;
                Ok(
                    json!({"status": out.db_instances().first().and_then(|d| d.db_instance_status())}),
                )
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
    ) -> Result<Value, AwsError> {
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
                lambda
                    .update_function_configuration()
                    .function_name(&t.name)
                    .environment(env)
                    .set_revision_id(revision)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("lambda:UpdateFunctionConfiguration", Some(&t.name), e)
                    })?;
                Ok(Value::Null)
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
                Ok(Value::Null)
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
                Ok(Value::Null)
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
                Ok(Value::Null)
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
                Ok(Value::Null)
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
                Ok(json!({"invalidation_id": out.invalidation().map(|i| i.id())}))
            }
            (ActionId::RebootRds, _) => {
                self.rds(&t.region)
                    .reboot_db_instance()
                    .db_instance_identifier(&t.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("rds:RebootDBInstance", Some(&t.name), e))?;
                Ok(Value::Null)
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, other) => {
                Err(not_applicable(action, other, t))
            }
        }
    }

    /// Check that `action` took effect, waiting up to `wait` (polling every second).
    /// Returns (ok, detail, state after).
    pub async fn verify_action(
        &self,
        run: &ActionRun<'_>,
        before: &Value,
        applied: &Value,
        wait: Duration,
    ) -> (bool, String, Value) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let (ok, detail, after) = self.check_once(run, before, applied).await;
            if ok || tokio::time::Instant::now() >= deadline {
                return (ok, detail, after);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn check_once(
        &self,
        run: &ActionRun<'_>,
        before: &Value,
        applied: &Value,
    ) -> (bool, String, Value) {
        let (action, kind, t, change) = (run.action, run.kind, run.target, run.change);
        if action == ActionId::InvalidateCloudfront {
            let Some(id) = applied["invalidation_id"].as_str() else {
                return (false, "no invalidation id was returned".into(), Value::Null);
            };
            return match self
                .cloudfront()
                .get_invalidation()
                .distribution_id(&t.name)
                .id(id)
                .send()
                .await
            {
                Ok(out) => {
                    let status = out
                        .invalidation()
                        .map(|i| i.status().to_string())
                        .unwrap_or_default();
                    // AWS says InProgress or Completed; compare without case (moto says COMPLETED).
                    let ok = status.eq_ignore_ascii_case("InProgress")
                        || status.eq_ignore_ascii_case("Completed");
                    (
                        ok,
                        format!("invalidation {id} is {status}"),
                        json!({"invalidation_id": id, "status": status, "paths": change.paths}),
                    )
                }
                Err(e) => (
                    false,
                    AwsError::from_sdk("cloudfront:GetInvalidation", Some(id), e).to_string(),
                    Value::Null,
                ),
            };
        }
        let after = match self.action_state(action, kind, t).await {
            Ok(v) => v,
            Err(e) => return (false, e.to_string(), Value::Null),
        };
        let (ok, detail) = match (action, kind) {
            (ActionId::RestartLambda, _) => {
                lambda_restart_verdict(&after, change.marker.as_deref())
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Lambda) => {
                let now = after["reserved_concurrency"].as_i64();
                (
                    now.is_some() && now == change.value.map(i64::from),
                    format!(
                        "reserved concurrency {}",
                        now.map_or("unset".into(), |v| v.to_string())
                    ),
                )
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, _) => {
                let now = after["desired_count"].as_i64();
                (
                    now.is_some() && now == change.value.map(i64::from),
                    format!(
                        "desired count {}",
                        now.map_or("unknown".into(), |v| v.to_string())
                    ),
                )
            }
            (ActionId::RestartEcsService, _) => {
                let changed = after["primary_deployment"] != before["primary_deployment"]
                    || after["deployments"].as_i64() > before["deployments"].as_i64();
                (
                    changed,
                    if changed {
                        format!("new primary deployment {}", after["primary_deployment"])
                    } else {
                        "no new deployment yet".into()
                    },
                )
            }
            (ActionId::ModifyAutoscaling, _) => {
                let ok = after["min"].as_i64().is_some()
                    && after["min"].as_i64() == change.min.map(i64::from)
                    && after["max"].as_i64() == change.max.map(i64::from);
                (
                    ok,
                    format!("scalable target min {} max {}", after["min"], after["max"]),
                )
            }
            (ActionId::RebootRds, _) => {
                // `available` alone proves nothing (the instance was available before): the
                // evidence is a `rebooting` status, or the instance's restart event, after the
                // request.
                let s = after["status"]
                    .as_str()
                    .unwrap_or("not reported")
                    .to_string();
                if s == "rebooting" {
                    (true, "instance rebooting".into())
                } else {
                    match self
                        .restart_event(&t.region, &t.name, change.requested_at)
                        .await
                    {
                        Ok(Some(msg)) => (true, format!("instance {s}; event: {msg}")),
                        Ok(None) => (
                            false,
                            format!(
                                "instance {s}; no reboot seen yet (no rebooting status, no restart event)"
                            ),
                        ),
                        Err(e) => (false, format!("instance {s}; {}", e.brief())),
                    }
                }
            }
            // Verified above, by its own invalidation.
            (ActionId::InvalidateCloudfront, _) => (false, "verified by its invalidation".into()),
        };
        (ok, detail, after)
    }
}

/// restart_lambda took effect when the marker is there and AWS reports the update
/// Successful and the function Active. A state AWS did not report is not evidence.
fn lambda_restart_verdict(after: &Value, marker: Option<&str>) -> (bool, String) {
    let present = marker.is_some() && after["restart_marker"].as_str() == marker;
    let status = after["last_update_status"].as_str();
    let state = after["state"].as_str();
    (
        present && status == Some("Successful") && state == Some("Active"),
        format!(
            "update {}, state {}, marker {}",
            status.unwrap_or("not reported"),
            state.unwrap_or("not reported"),
            if present { "present" } else { "missing" }
        ),
    )
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
    ) -> Result<Value, helm_core::ports::Failure> {
        Ok(self.action_state(action, kind, target).await?)
    }

    async fn unreserved_concurrency(&self, region: &str) -> Result<i64, helm_core::ports::Failure> {
        Ok(self.lambda_unreserved_concurrency(region).await?)
    }

    async fn apply(&self, run: ActionRun<'_>) -> Result<Value, helm_core::ports::Failure> {
        Ok(self
            .apply_action(run.action, run.kind, run.target, run.change)
            .await?)
    }

    async fn verify(
        &self,
        run: ActionRun<'_>,
        before: &Value,
        applied: &Value,
        wait: Duration,
    ) -> (bool, String, Value) {
        self.verify_action(&run, before, applied, wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_whose_state_fields_are_missing_is_not_verified() {
        let m = Some("2026-01-01T00:00:00Z");
        let full =
            json!({"restart_marker": m, "last_update_status": "Successful", "state": "Active"});
        assert!(lambda_restart_verdict(&full, m).0);
        let no_state = json!({"restart_marker": m, "last_update_status": "Successful"});
        let (ok, detail) = lambda_restart_verdict(&no_state, m);
        assert!(!ok);
        assert!(detail.contains("state not reported"), "{detail}");
        assert!(!lambda_restart_verdict(&json!({"restart_marker": m}), m).0);
        assert!(
            !lambda_restart_verdict(&full, None).0,
            "no marker asked, none proven"
        );
        let pending =
            json!({"restart_marker": m, "last_update_status": "InProgress", "state": "Active"});
        assert!(!lambda_restart_verdict(&pending, m).0);
    }
}
