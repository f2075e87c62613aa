//! Cost Explorer (GetCostAndUsage, charged per request) and the reads the waste checks
//! need (log group retention and size, DB instance classes, ECS task counts).

use crate::{AwsClients, AwsError};
use aws_sdk_costexplorer::types::{
    DateInterval, Granularity, GroupDefinition, GroupDefinitionType,
};

pub use helm_core::ports::{CostPeriod, LogGroupInfo};

impl AwsClients {
    /// GetCostAndUsage over `[start, end)` (dates), unblended cost grouped by service, all
    /// pages. Returns the periods and the number of requests made (each is charged).
    pub async fn cost_and_usage(
        &self,
        start: &str,
        end: &str,
        daily: bool,
    ) -> Result<(Vec<CostPeriod>, u32), AwsError> {
        let client = self.cost_explorer();
        let mut token: Option<String> = None;
        let mut out = Vec::new();
        let mut requests = 0;
        let period = DateInterval::builder()
            .start(start)
            .end(end)
            .build()
            .map_err(|e| {
                AwsError::local(
                    "ce:GetCostAndUsage",
                    None,
                    crate::AwsErrorKind::Service,
                    e.to_string(),
                )
            })?;
        loop {
            requests += 1;
            let page = client
                .get_cost_and_usage()
                .time_period(period.clone())
                .granularity(if daily {
                    Granularity::Daily
                } else {
                    Granularity::Monthly
                })
                .metrics("UnblendedCost")
                .group_by(
                    GroupDefinition::builder()
                        .r#type(GroupDefinitionType::Dimension)
                        .key("SERVICE")
                        .build(),
                )
                .set_next_page_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ce:GetCostAndUsage", None, e))?;
            for r in page.results_by_time() {
                let start = r
                    .time_period()
                    .map(|p| p.start().to_string())
                    .unwrap_or_default();
                let by_service = r
                    .groups()
                    .iter()
                    .map(|g| {
                        let service = g.keys().first().cloned().unwrap_or_default();
                        let amount = g
                            .metrics()
                            .and_then(|m| m.get("UnblendedCost"))
                            .and_then(|v| v.amount())
                            .and_then(|a| a.parse::<f64>().ok())
                            .unwrap_or(0.0);
                        (service, amount)
                    })
                    .collect();
                out.push(CostPeriod { start, by_service });
            }
            // Cost Explorer has no SDK paginator: this loop is the one hand-written, with the
            // paginators' guard (a token that repeats ends it).
            let next = page.next_page_token().map(str::to_string);
            if next.is_none() || next == token {
                return Ok((out, requests));
            }
            token = next;
        }
    }

    /// Retention and size of the log groups whose names start with `prefix`.
    pub async fn log_groups(
        &self,
        region: &str,
        prefix: &str,
    ) -> Result<Vec<LogGroupInfo>, AwsError> {
        let client = self.logs(region);
        let mut out = Vec::new();
        let mut pages = client
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", Some(prefix), e))?;
            for g in page.log_groups() {
                out.push(LogGroupInfo {
                    name: g.log_group_name().unwrap_or_default().to_string(),
                    retention_days: g.retention_in_days(),
                    stored_bytes: g.stored_bytes().unwrap_or(0),
                });
            }
        }
        Ok(out)
    }
}

/// AWS as the cost audit sees it.
impl helm_core::ports::CostFacts for AwsClients {
    async fn cost_and_usage(
        &self,
        start: &str,
        end: &str,
        daily: bool,
    ) -> Result<(Vec<CostPeriod>, u32), helm_core::ports::Failure> {
        Ok(AwsClients::cost_and_usage(self, start, end, daily).await?)
    }
    async fn db_classes(
        &self,
        region: &str,
    ) -> Result<Vec<(String, String)>, helm_core::ports::Failure> {
        Ok(self
            .db_instances(region)
            .await?
            .into_iter()
            .map(|d| (d.id, d.class))
            .collect())
    }
    async fn log_groups(
        &self,
        region: &str,
        prefix: &str,
    ) -> Result<Vec<LogGroupInfo>, helm_core::ports::Failure> {
        Ok(AwsClients::log_groups(self, region, prefix).await?)
    }
}
