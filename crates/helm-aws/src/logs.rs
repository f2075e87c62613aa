//! CloudWatch Logs: events of a log group over a window, page by page, handed to the
//! caller as they arrive (never all held at once); and where an ECS service logs.

use crate::{AwsClients, AwsError, AwsErrorKind};

pub use helm_core::ports::{LogEvent, LogSweep};

impl AwsClients {
    /// Every event of `group` in `[start_ms, end_ms]` matching `pattern` (as the server
    /// applies it), in pages of up to 10,000, each event passed to `each`. `each` returns
    /// false to stop early.
    pub async fn filter_log_events(
        &self,
        region: &str,
        group: &str,
        start_ms: i64,
        end_ms: i64,
        pattern: Option<&str>,
        mut each: impl FnMut(LogEvent) -> bool,
    ) -> Result<LogSweep, AwsError> {
        let client = self.logs(region);
        let mut sweep = LogSweep::default();
        let mut last_ms = start_ms;
        // The SDK's paginator ends on a repeated token (the service repeats the last one).
        let mut pages = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .end_time(end_ms)
            .set_filter_pattern(pattern.map(str::to_string))
            .limit(10_000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    let err = AwsError::from_sdk("logs:FilterLogEvents", Some(group), e);
                    if err.kind == AwsErrorKind::NotFound && sweep.pages == 0 {
                        sweep.missing = true;
                        return Ok(sweep);
                    }
                    // Mid-sweep: what was read stands, and the error says where the gap
                    // begins, so nobody takes a partial answer for the whole window.
                    let mut err = err;
                    if sweep.pages > 0 {
                        err.message = format!(
                            "{} (the sweep stopped after {} events in {} pages; events after {} \
                             were not read)",
                            err.message,
                            sweep.events,
                            sweep.pages,
                            chrono::DateTime::from_timestamp_millis(last_ms)
                                .map_or_else(|| last_ms.to_string(), helm_core::clock::rfc3339)
                        );
                    }
                    return Err(err);
                }
            };
            sweep.pages += 1;
            for e in page.events() {
                sweep.events += 1;
                let ev = LogEvent {
                    timestamp_ms: e.timestamp().unwrap_or_default(),
                    message: e
                        .message()
                        .unwrap_or_default()
                        .trim_end_matches('\n')
                        .to_string(),
                    stream: e.log_stream_name().unwrap_or_default().to_string(),
                };
                last_ms = last_ms.max(ev.timestamp_ms);
                if !each(ev) {
                    return Ok(sweep);
                }
            }
        }
        Ok(sweep)
    }

    /// The awslogs log groups of an ECS service's task definition (container order).
    pub async fn ecs_log_groups(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
    ) -> Result<Vec<String>, AwsError> {
        let ecs = self.ecs(region);
        let described = ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(service), e))?;
        let Some(task_def) = described
            .services()
            .first()
            .and_then(|s| s.task_definition())
            .map(str::to_string)
        else {
            return Ok(Vec::new());
        };
        let td = ecs
            .describe_task_definition()
            .task_definition(&task_def)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", Some(&task_def), e))?;
        let mut groups = Vec::new();
        for c in td
            .task_definition()
            .map(|t| t.container_definitions())
            .unwrap_or_default()
        {
            if let Some(g) = c
                .log_configuration()
                .and_then(|l| l.options())
                .and_then(|o| o.get("awslogs-group"))
                && !groups.contains(g)
            {
                groups.push(g.clone());
            }
        }
        Ok(groups)
    }
}

/// AWS as `logs` and `investigate` see it.
impl helm_core::ports::LogSource for AwsClients {
    async fn filter_events(
        &self,
        region: &str,
        group: &str,
        start_ms: i64,
        end_ms: i64,
        pattern: Option<&str>,
        each: &mut dyn FnMut(LogEvent) -> bool,
    ) -> Result<LogSweep, helm_core::ports::Failure> {
        Ok(self
            .filter_log_events(region, group, start_ms, end_ms, pattern, each)
            .await?)
    }

    async fn ecs_log_groups(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
    ) -> Result<Vec<String>, helm_core::ports::Failure> {
        Ok(AwsClients::ecs_log_groups(self, region, cluster, service).await?)
    }

    async fn kind_log_groups(
        &self,
        kind: helm_core::resource::ResourceKind,
        region: &str,
        name: &str,
        arn: &str,
    ) -> Result<Vec<String>, helm_core::ports::Failure> {
        Ok(AwsClients::kind_log_groups(self, kind, region, name, arn).await?)
    }
}

/// The name of a log group from its ARN (`arn:aws:logs:R:A:log-group:NAME[:*]`).
fn group_of_arn(arn: &str) -> Option<String> {
    let rest = arn.split(":log-group:").nth(1)?;
    let name = rest.strip_suffix(":*").unwrap_or(rest);
    (!name.is_empty()).then(|| name.to_string())
}

impl AwsClients {
    /// See `LogSource::kind_log_groups`.
    pub async fn kind_log_groups(
        &self,
        kind: helm_core::resource::ResourceKind,
        region: &str,
        name: &str,
        arn: &str,
    ) -> Result<Vec<String>, AwsError> {
        use helm_core::resource::ResourceKind as K;
        match kind {
            K::StepFunctions => {
                let out = self
                    .sfn(region)
                    .describe_state_machine()
                    .state_machine_arn(arn)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("states:DescribeStateMachine", Some(name), e)
                    })?;
                Ok(out
                    .logging_configuration()
                    .map(|l| l.destinations())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|d| d.cloud_watch_logs_log_group())
                    .filter_map(|g| g.log_group_arn())
                    .filter_map(group_of_arn)
                    .collect())
            }
            K::ElastiCache => {
                let c = self.cache_cluster(region, name).await?;
                Ok(c.log_delivery_configurations()
                    .iter()
                    .filter(|l| l.destination_type().map(|d| d.as_str()) == Some("cloudwatch-logs"))
                    .filter_map(|l| l.destination_details())
                    .filter_map(|d| d.cloud_watch_logs_details())
                    .filter_map(|c| c.log_group())
                    .map(str::to_string)
                    .collect())
            }
            // Delivery-status logging writes `sns/REGION/ACCOUNT/TOPIC` and `…/Failure`
            // (fixed names); they exist only when it is on, so those found are given.
            K::Sns => {
                let parts: Vec<&str> = arn.splitn(6, ':').collect();
                let [_, _, _, r, account, topic] = parts.as_slice() else {
                    return Ok(Vec::new());
                };
                let prefix = format!("sns/{r}/{account}/{topic}");
                let failure = format!("{prefix}/Failure");
                Ok(self
                    .log_groups(region, &prefix)
                    .await?
                    .into_iter()
                    .map(|g| g.name)
                    .filter(|g| *g == prefix || *g == failure)
                    .collect())
            }
            _ => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::group_of_arn;

    #[test]
    fn a_log_group_arn_gives_its_name_with_or_without_the_stream_wildcard() {
        assert_eq!(
            group_of_arn("arn:aws:logs:us-east-1:1:log-group:/aws/vendedlogs/states/flow:*")
                .as_deref(),
            Some("/aws/vendedlogs/states/flow")
        );
        assert_eq!(
            group_of_arn("arn:aws:logs:us-east-1:1:log-group:app").as_deref(),
            Some("app")
        );
        assert_eq!(group_of_arn("arn:aws:logs:us-east-1:1:log-group::*"), None);
        assert_eq!(group_of_arn("arn:aws:s3:::bucket"), None);
    }
}
