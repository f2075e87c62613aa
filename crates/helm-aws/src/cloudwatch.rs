//! CloudWatch: metric data in batches of 500 queries, alarms in one sweep per region.

use crate::{AwsClients, AwsError};
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};

/// GetMetricData takes at most 500 queries a call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// Calls in flight at once per region.
pub const PARALLEL_CALLS: usize = 4;

pub use helm_core::ports::{MetricQuery, MetricSeries};

/// An alarm and what it watches.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmInfo {
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    /// The dimensions of the metric (or of every metric of a metric-math alarm).
    pub dimensions: Vec<(String, String)>,
}

fn to_chrono(t: &aws_smithy_types::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or_default()
}

fn to_smithy(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

impl AwsClients {
    /// Fetch every query in `region` over `[start, end)`: one GetMetricData call per 500
    /// queries (plus result pages), at most `PARALLEL_CALLS` at once. The answer has one
    /// entry per query, in order.
    pub async fn metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<MetricSeries>, AwsError> {
        let client = self.cloudwatch(region);
        let chunks: Vec<(usize, &[MetricQuery])> = queries
            .chunks(MAX_QUERIES_PER_CALL)
            .enumerate()
            .map(|(i, c)| (i * MAX_QUERIES_PER_CALL, c))
            .collect();
        let answers: Vec<Vec<(usize, MetricSeries)>> = stream::iter(chunks)
            .map(|(offset, chunk)| {
                let client = client.clone();
                async move { fetch_chunk(&client, offset, chunk, start, end).await }
            })
            .buffer_unordered(PARALLEL_CALLS)
            .try_collect()
            .await?;
        let mut out = vec![MetricSeries::default(); queries.len()];
        for (i, series) in answers.into_iter().flatten() {
            out[i] = series;
        }
        Ok(out)
    }

    /// Every metric alarm of `region` (DescribeAlarms, all pages).
    pub async fn alarms(&self, region: &str) -> Result<Vec<AlarmInfo>, AwsError> {
        let client = self.cloudwatch(region);
        let mut out = Vec::new();
        let mut pages = client
            .describe_alarms()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", Some(region), e))?;
            for a in page.metric_alarms() {
                let mut dimensions: Vec<(String, String)> = a
                    .dimensions()
                    .iter()
                    .map(|d| {
                        (
                            d.name().unwrap_or_default().to_string(),
                            d.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                for q in a.metrics() {
                    if let Some(m) = q.metric_stat().and_then(|s| s.metric()) {
                        dimensions.extend(m.dimensions().iter().map(|d| {
                            (
                                d.name().unwrap_or_default().to_string(),
                                d.value().unwrap_or_default().to_string(),
                            )
                        }));
                    }
                }
                out.push(AlarmInfo {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: a
                        .state_value()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: a.state_reason().map(str::to_string),
                    namespace: a.namespace().map(str::to_string),
                    metric_name: a.metric_name().map(str::to_string),
                    dimensions,
                });
            }
        }
        Ok(out)
    }
}

async fn fetch_chunk(
    client: &aws_sdk_cloudwatch::Client,
    offset: usize,
    chunk: &[MetricQuery],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(usize, MetricSeries)>, AwsError> {
    let built: Vec<MetricDataQuery> = chunk
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let metric = Metric::builder()
                .namespace(&q.namespace)
                .metric_name(&q.name)
                .set_dimensions(Some(
                    q.dimensions
                        .iter()
                        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                        .collect(),
                ))
                .build();
            MetricDataQuery::builder()
                .id(format!("q{}", offset + i))
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(q.period_secs)
                        .stat(&q.stat)
                        .build(),
                )
                .return_data(true)
                .build()
        })
        .collect();
    let mut results: Vec<(usize, MetricSeries)> = (0..chunk.len())
        .map(|i| (offset + i, MetricSeries::default()))
        .collect();
    let mut pages = client
        .get_metric_data()
        .set_metric_data_queries(Some(built.clone()))
        .start_time(to_smithy(start))
        .end_time(to_smithy(end))
        .scan_by(ScanBy::TimestampAscending)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("cloudwatch:GetMetricData", None, e))?;
        for r in page.metric_data_results() {
            let Some(i) = r
                .id()
                .and_then(|id| id.strip_prefix('q'))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let Some(slot) = results.get_mut(i - offset) else {
                continue;
            };
            slot.1.points.extend(
                r.timestamps()
                    .iter()
                    .map(to_chrono)
                    .zip(r.values().iter().copied()),
            );
            match r.status_code() {
                Some(StatusCode::Forbidden) | Some(StatusCode::InternalError) => {
                    let msg = r
                        .messages()
                        .iter()
                        .filter_map(|m| m.value())
                        .collect::<Vec<_>>()
                        .join("; ");
                    let code = r.status_code().map(|c| c.as_str()).unwrap_or_default();
                    slot.1.error = Some(if msg.is_empty() {
                        code.to_string()
                    } else {
                        format!("{code}: {msg}")
                    });
                }
                _ => {}
            }
        }
    }
    for (_, s) in results.iter_mut() {
        s.points.sort_by_key(|(t, _)| *t);
    }
    Ok(results)
}
