//! Gathering what the monitor needs for a set of resources, with as few requests as the
//! APIs allow: status from list pages (one sweep per kind and region), all metrics of a
//! region in GetMetricData batches of 500 queries, one DescribeAlarms sweep per region.
//! Failures are confined to the resources they concern: a region whose calls fail leaves
//! its resources unreadable and the others are still observed.

use crate::{AlarmInfo, AwsClients, AwsError, MetricQuery, MetricSeries};
use futures::future::join_all;
use helm_core::monitor::spec;
use helm_core::monitor::{AlarmObs, MetricValues, Observation, StatusObs};
use helm_core::resource::{ResourceKind, Target as ArnTarget};
use std::collections::{BTreeMap, HashMap};

pub use helm_core::monitor::check::{HealthOptions, Target, series_period_for};

/// Observe every target. The result has one observation per target, in order.
pub async fn observe(
    clients: &AwsClients,
    targets: &[Target],
    opts: &HealthOptions,
) -> Vec<Observation> {
    let statuses = if opts.status {
        statuses(clients, targets, &opts.environment).await
    } else {
        vec![StatusObs::NotChecked; targets.len()]
    };
    let (metrics, metric_errors) = if opts.metrics {
        metrics(clients, targets, opts).await
    } else {
        (
            vec![BTreeMap::new(); targets.len()],
            vec![None; targets.len()],
        )
    };
    let alarms = if opts.alarms {
        alarms(clients, targets, &opts.environment).await
    } else {
        vec![(Vec::new(), None); targets.len()]
    };
    statuses
        .into_iter()
        .zip(metrics)
        .zip(metric_errors)
        .zip(alarms)
        .map(
            |(((status, metrics), metrics_error), (alarms, alarms_error))| Observation {
                status,
                metrics,
                metrics_error,
                alarms,
                alarms_error,
                alarms_read: opts.alarms,
            },
        )
        .collect()
}

/// Read the status of one resource with a per-resource call, for kinds whose list API does
/// not carry it (Lambda State and LastUpdateStatus, DynamoDB TableStatus, an API Gateway
/// stage). Other kinds get their list answer again.
pub async fn detail_status(clients: &AwsClients, target: &Target, environment: &str) -> StatusObs {
    let name = &target.resource.name;
    match target.kind {
        ResourceKind::Lambda => match clients.lambda_function(&target.region, name).await {
            Ok(Some(s)) => lambda_status(&s),
            Ok(None) => StatusObs::Missing,
            Err(e) => unreadable(&e),
        },
        ResourceKind::ApiGateway => {
            let (api_id, stage) = api_and_stage(target, environment);
            match clients.apigateway_stages(&target.region, &api_id).await {
                Ok(Some(stages)) if stages.contains(&stage) => StatusObs::State {
                    state: "available".into(),
                    detail: Some(format!("stage {stage}")),
                },
                Ok(Some(_)) => StatusObs::Missing,
                Ok(None) => StatusObs::Missing,
                Err(e) => unreadable(&e),
            }
        }
        ResourceKind::DynamoDb => match clients.dynamodb_table_status(&target.region, name).await {
            Ok(Some(state)) => StatusObs::State {
                state,
                detail: None,
            },
            Ok(None) => StatusObs::Missing,
            Err(e) => unreadable(&e),
        },
        _ => statuses(clients, std::slice::from_ref(target), environment)
            .await
            .remove(0),
    }
}

/// The REST API id and the stage a resource names (stage: `stage`, else the ARN's, else
/// the environment's name).
fn api_and_stage(t: &Target, environment: &str) -> (String, String) {
    let (api_id, arn_stage) = match t.resource.parsed_arn.as_ref().map(|a| &a.target) {
        Some(ArnTarget::ApiGateway { api_id, stage }) => (api_id.clone(), stage.clone()),
        _ => (t.resource.name.clone(), None),
    };
    (
        api_id,
        t.resource
            .stage
            .clone()
            .or(arn_stage)
            .unwrap_or_else(|| environment.to_string()),
    )
}

fn lambda_status(s: &crate::LambdaState) -> StatusObs {
    // A failed last update leaves the function Active but running old code: say so.
    match (s.state.as_deref(), s.last_update_status.as_deref()) {
        (_, Some("Failed")) => StatusObs::State {
            state: "Failed".into(),
            detail: Some(format!(
                "last update failed{}",
                s.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
        },
        (Some("Active"), Some("InProgress")) => StatusObs::State {
            state: "Pending".into(),
            detail: Some("update in progress".into()),
        },
        (Some(state), _) => StatusObs::State {
            state: state.to_string(),
            detail: s.reason.clone(),
        },
        // ListFunctions does not carry State on AWS: the function exists, and that is all it says.
        (None, _) => StatusObs::State {
            state: "Active".into(),
            detail: None,
        },
    }
}

/// Statuses from a list call that gives each name's status word: each target is its word
/// when its key is listed, Missing when not, and unreadable when the call failed.
fn by_state(
    idx: &[usize],
    listed: Result<std::collections::HashMap<String, String>, AwsError>,
    key: impl Fn(usize) -> String,
) -> Vec<(usize, StatusObs)> {
    match listed {
        Ok(map) => idx
            .iter()
            .map(|&i| {
                let obs = map
                    .get(&key(i))
                    .map(|state| StatusObs::State {
                        state: state.clone(),
                        detail: None,
                    })
                    .unwrap_or(StatusObs::Missing);
                (i, obs)
            })
            .collect(),
        Err(e) => idx.iter().map(|&i| (i, unreadable(&e))).collect(),
    }
}

/// Statuses from a list call that only says which names exist: each target is `state` when
/// its key is in the list, Missing when not, and unreadable when the call failed.
fn by_presence(
    idx: &[usize],
    listed: Result<std::collections::HashSet<String>, AwsError>,
    key: impl Fn(usize) -> String,
    state: &str,
) -> Vec<(usize, StatusObs)> {
    match listed {
        Ok(set) => idx
            .iter()
            .map(|&i| {
                let obs = if set.contains(&key(i)) {
                    StatusObs::State {
                        state: state.into(),
                        detail: None,
                    }
                } else {
                    StatusObs::Missing
                };
                (i, obs)
            })
            .collect(),
        Err(e) => idx.iter().map(|&i| (i, unreadable(&e))).collect(),
    }
}

fn unreadable(e: &AwsError) -> StatusObs {
    StatusObs::Unreadable {
        reason: e.brief(),
        unreachable: e.kind == crate::AwsErrorKind::Unreachable,
    }
}

async fn statuses(clients: &AwsClients, targets: &[Target], environment: &str) -> Vec<StatusObs> {
    let mut out = vec![StatusObs::NotChecked; targets.len()];
    // One future per (kind, region) group; each fills the entries of its own targets.
    let mut groups: BTreeMap<(ResourceKind, String), Vec<usize>> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        let region = match t.kind {
            ResourceKind::CloudFront | ResourceKind::S3 => "global".to_string(),
            _ => t.region.clone(),
        };
        groups.entry((t.kind, region)).or_default().push(i);
    }
    let futures = groups.into_iter().map(|((kind, region), idx)| async move {
        let answers: Vec<(usize, StatusObs)> = match kind {
            ResourceKind::Lambda => match clients.lambda_functions(&region).await {
                Ok(map) => idx
                    .iter()
                    .map(|&i| {
                        (
                            i,
                            map.get(&targets[i].resource.name)
                                .map(lambda_status)
                                .unwrap_or(StatusObs::Missing),
                        )
                    })
                    .collect(),
                Err(e) => idx.iter().map(|&i| (i, unreadable(&e))).collect(),
            },
            ResourceKind::Ecs => {
                let mut by_cluster: BTreeMap<String, Vec<usize>> = BTreeMap::new();
                for &i in &idx {
                    if let Some(ArnTarget::Ecs { cluster, .. }) =
                        targets[i].resource.parsed_arn.as_ref().map(|a| &a.target)
                    {
                        by_cluster.entry(cluster.clone()).or_default().push(i);
                    }
                }
                let mut v = Vec::new();
                for (cluster, members) in by_cluster {
                    let names: Vec<String> = members
                        .iter()
                        .map(|&i| targets[i].resource.name.clone())
                        .collect();
                    match clients.ecs_services(&region, &cluster, &names).await {
                        Ok(map) => v.extend(members.iter().map(|&i| {
                            let s = map.get(&targets[i].resource.name);
                            (
                                i,
                                s.map(|s| StatusObs::Ecs {
                                    status: s.status.clone(),
                                    desired: s.desired,
                                    running: s.running,
                                    pending: s.pending,
                                    deployments: s.deployments,
                                })
                                .unwrap_or(StatusObs::Missing),
                            )
                        })),
                        Err(e) if e.kind == crate::AwsErrorKind::NotFound => {
                            v.extend(members.iter().map(|&i| (i, StatusObs::Missing)))
                        }
                        Err(e) => v.extend(members.iter().map(|&i| (i, unreadable(&e)))),
                    }
                }
                v
            }
            ResourceKind::Rds => match clients.db_instances(&region).await {
                Ok(dbs) => idx
                    .iter()
                    .map(|&i| {
                        let found = dbs.iter().find(|d| d.id == targets[i].resource.name);
                        (
                            i,
                            found
                                .map(|d| StatusObs::State {
                                    state: d.status.clone(),
                                    detail: None,
                                })
                                .unwrap_or(StatusObs::Missing),
                        )
                    })
                    .collect(),
                Err(e) => idx.iter().map(|&i| (i, unreadable(&e))).collect(),
            },
            ResourceKind::S3 => by_presence(
                &idx,
                clients.s3_buckets(&targets[idx[0]].region).await,
                |i| targets[i].resource.name.clone(),
                "available",
            ),
            ResourceKind::CloudFront => match clients.cloudfront_distributions().await {
                Ok(map) => idx
                    .iter()
                    .map(|&i| {
                        let id = match targets[i].resource.parsed_arn.as_ref().map(|a| &a.target) {
                            Some(ArnTarget::CloudFront { distribution_id }) => {
                                distribution_id.clone()
                            }
                            _ => targets[i].resource.name.clone(),
                        };
                        (
                            i,
                            map.get(&id)
                                .map(|(status, enabled)| StatusObs::Distribution {
                                    status: status.clone(),
                                    enabled: *enabled,
                                })
                                .unwrap_or(StatusObs::Missing),
                        )
                    })
                    .collect(),
                Err(e) => idx.iter().map(|&i| (i, unreadable(&e))).collect(),
            },
            ResourceKind::ApiGateway => by_presence(
                &idx,
                clients.apigateway_apis(&region).await,
                |i| api_and_stage(&targets[i], environment).0,
                "available",
            ),
            ResourceKind::DynamoDb => by_presence(
                &idx,
                clients.dynamodb_tables(&region).await,
                |i| targets[i].resource.name.clone(),
                "ACTIVE",
            ),
            ResourceKind::Sqs => by_presence(
                &idx,
                clients.sqs_queues(&region).await,
                |i| targets[i].resource.name.clone(),
                "available",
            ),
            ResourceKind::Alb | ResourceKind::Nlb => {
                by_state(&idx, clients.load_balancers(&region).await, |i| {
                    crate::status::lb_key(&targets[i].resource.arn)
                })
            }
            // One DescribeTargetHealth per group (the API takes one), eight at a time.
            ResourceKind::TargetGroup => {
                use futures::stream::{self, StreamExt};
                stream::iter(idx.iter().copied())
                    .map(|i| {
                        let region = region.clone();
                        async move {
                            let obs = match clients
                                .target_health(&region, &targets[i].resource.arn)
                                .await
                            {
                                Ok(Some(s)) => StatusObs::Capacity {
                                    status: "active".into(),
                                    desired: s.registered,
                                    healthy: s.healthy,
                                    unhealthy: s.unhealthy,
                                    unit: "targets",
                                },
                                Ok(None) => StatusObs::Missing,
                                Err(e) => unreadable(&e),
                            };
                            (i, obs)
                        }
                    })
                    .buffer_unordered(8)
                    .collect()
                    .await
            }
            ResourceKind::Kinesis => by_state(&idx, clients.kinesis_streams(&region).await, |i| {
                targets[i].resource.name.clone()
            }),
            ResourceKind::ElastiCache => {
                by_state(&idx, clients.cache_clusters(&region).await, |i| {
                    targets[i].resource.name.clone()
                })
            }
            ResourceKind::Asg => match clients.scaling_groups(&region).await {
                Ok(map) => idx
                    .iter()
                    .map(|&i| {
                        let obs = map
                            .get(&targets[i].resource.name)
                            .map(|g| StatusObs::Capacity {
                                status: g.status.clone(),
                                desired: g.desired,
                                healthy: g.healthy,
                                unhealthy: g.unhealthy,
                                unit: "instances",
                            })
                            .unwrap_or(StatusObs::Missing);
                        (i, obs)
                    })
                    .collect(),
                Err(e) => idx.iter().map(|&i| (i, unreadable(&e))).collect(),
            },
            // A topic has no state: listed is available.
            ResourceKind::Sns => by_presence(
                &idx,
                clients.sns_topics(&region).await,
                |i| targets[i].resource.arn.clone(),
                "available",
            ),
            ResourceKind::StepFunctions => by_presence(
                &idx,
                clients.state_machines(&region).await,
                |i| targets[i].resource.name.clone(),
                "ACTIVE",
            ),
            ResourceKind::EventBridge => {
                // One ListRules per event bus.
                let mut by_bus: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
                for &i in &idx {
                    let bus = match targets[i].resource.parsed_arn.as_ref().map(|a| &a.target) {
                        Some(ArnTarget::EventBridge { bus, .. }) => bus.clone(),
                        _ => None,
                    };
                    by_bus.entry(bus).or_default().push(i);
                }
                let mut v = Vec::new();
                for (bus, members) in by_bus {
                    match clients.event_rules(&region, bus.as_deref()).await {
                        Ok(map) => v.extend(members.iter().map(|&i| {
                            (
                                i,
                                map.get(&targets[i].resource.name)
                                    .map(|state| StatusObs::State {
                                        state: state.clone(),
                                        detail: None,
                                    })
                                    .unwrap_or(StatusObs::Missing),
                            )
                        })),
                        Err(e) if e.kind == crate::AwsErrorKind::NotFound => {
                            v.extend(members.iter().map(|&i| (i, StatusObs::Missing)))
                        }
                        Err(e) => v.extend(members.iter().map(|&i| (i, unreadable(&e)))),
                    }
                }
                v
            }
        };
        answers
    });
    for answers in join_all(futures).await {
        for (i, s) in answers {
            out[i] = s;
        }
    }
    out
}

/// The dimensions of a spec for a resource: the resource's identity plus the spec's extras.
/// Whose query it is: (target index, metric key, whole-window query?).
type QueryOwner = (usize, &'static str, bool);

type MetricsOut = (
    Vec<BTreeMap<&'static str, MetricValues>>,
    Vec<Option<String>>,
);

async fn metrics(clients: &AwsClients, targets: &[Target], opts: &HealthOptions) -> MetricsOut {
    let window = opts.window_period_secs();
    // Per metric region: the queries, and for each query (target, spec key, is_window).
    let mut by_region: BTreeMap<String, (Vec<MetricQuery>, Vec<QueryOwner>)> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        let region = spec::metrics_region(t.kind, &t.region);
        let entry = by_region.entry(region).or_default();
        for s in spec::metrics(t.kind) {
            // A metric this resource cannot address (an ECS service without its target
            // group) is not asked; the monitor says why its SLO is not evaluated.
            let Ok(dims) = spec::query_dimensions(&t.resource, s, &opts.environment) else {
                continue;
            };
            // Sums and extremes of the window follow exactly from the series; averages and
            // percentiles do not, so those get a whole-window query of their own.
            let window_query = matches!(s.stat, spec::Stat::Average | spec::Stat::Percentile(_));
            let periods: &[(i32, bool)] = if window_query {
                &[(window, true), (opts.series_period_secs, false)]
            } else {
                &[(opts.series_period_secs, false)]
            };
            for &(period, is_window) in periods {
                entry.0.push(MetricQuery {
                    namespace: spec::query_namespace(&t.resource, s).into(),
                    name: s.name.into(),
                    dimensions: dims.clone(),
                    stat: s.stat.api_name(),
                    period_secs: period,
                    account: targets[i].account().map(str::to_string),
                });
                entry.1.push((i, s.key, is_window));
            }
        }
    }
    let mut values: Vec<BTreeMap<&'static str, MetricValues>> =
        vec![BTreeMap::new(); targets.len()];
    let mut errors: Vec<Option<String>> = vec![None; targets.len()];
    let futures = by_region
        .iter()
        .map(|(region, (queries, _))| clients.metric_data(region, queries, opts.start, opts.end));
    let answers = join_all(futures).await;
    for ((region, (_, owners)), answer) in by_region.iter().zip(answers) {
        match answer {
            Ok(series) => {
                for ((i, key, is_window), s) in owners.iter().zip(series) {
                    let m = spec::metrics(targets[*i].kind)
                        .iter()
                        .find(|m| m.key == *key);
                    let stat = m.map(|m| m.stat);
                    // In the report's unit (an ALB's seconds become ms).
                    let scale = m.map_or(1.0, |m| m.scale);
                    let mut s = s;
                    if scale != 1.0 {
                        s.points.iter_mut().for_each(|(_, v)| *v *= scale);
                    }
                    let entry = values[*i].entry(key).or_default();
                    if s.error.is_some() {
                        entry.error = s.error.clone();
                    }
                    if *is_window {
                        entry.window = combine(stat, &s);
                    } else {
                        if !matches!(stat, Some(spec::Stat::Average | spec::Stat::Percentile(_))) {
                            entry.window = combine(stat, &s);
                        }
                        entry.series = s.points.clone();
                    }
                }
            }
            Err(e) => {
                for (i, _, _) in owners {
                    errors[*i] = Some(format!("{} in {region}: {}", e.api, e.cause()));
                }
            }
        }
    }
    (values, errors)
}

/// One value for the window from what a whole-window query returned (CloudWatch may split
/// the window across two aligned periods): sums add, extremes take the extreme, averages
/// and percentiles take the mean and the maximum of the parts.
fn combine(stat: Option<spec::Stat>, s: &MetricSeries) -> Option<f64> {
    let vals: Vec<f64> = s.points.iter().map(|(_, v)| *v).collect();
    if vals.is_empty() {
        return None;
    }
    Some(match stat {
        Some(spec::Stat::Sum) => vals.iter().sum(),
        Some(spec::Stat::Minimum) => vals.iter().copied().fold(f64::MAX, f64::min),
        Some(spec::Stat::Average) => vals.iter().sum::<f64>() / vals.len() as f64,
        _ => vals.iter().copied().fold(f64::MIN, f64::max),
    })
}

/// Per target: its alarms, and why they could not be read when the region's sweep failed.
async fn alarms(
    clients: &AwsClients,
    targets: &[Target],
    environment: &str,
) -> Vec<(Vec<AlarmObs>, Option<String>)> {
    let mut regions: Vec<String> = targets
        .iter()
        .map(|t| spec::metrics_region(t.kind, &t.region))
        .collect();
    regions.sort();
    regions.dedup();
    let sweeps = join_all(regions.iter().map(|r| clients.alarms(r))).await;
    let by_region: HashMap<&str, Result<Vec<AlarmInfo>, AwsError>> =
        regions.iter().map(String::as_str).zip(sweeps).collect();
    targets
        .iter()
        .map(|t| {
            let region = spec::metrics_region(t.kind, &t.region);
            let all = match by_region.get(region.as_str()) {
                Some(Ok(all)) => all,
                Some(Err(e)) => {
                    return (
                        Vec::new(),
                        Some(format!("{} in {region}: {}", e.api, e.cause())),
                    );
                }
                None => return (Vec::new(), Some(format!("no alarm sweep of {region}"))),
            };
            let identity = spec::dimensions(&t.resource, environment);
            let namespaces: Vec<&str> = spec::metrics(t.kind)
                .iter()
                .map(|s| spec::query_namespace(&t.resource, s))
                .collect();
            let found = all
                .iter()
                .filter(|a| {
                    a.namespace
                        .as_deref()
                        .is_none_or(|ns| namespaces.contains(&ns))
                })
                .filter(|a| {
                    !identity.is_empty() && identity.iter().all(|d| a.dimensions.contains(d))
                })
                .map(|a| AlarmObs {
                    name: a.name.clone(),
                    state: a.state.clone(),
                    reason: a.reason.clone(),
                })
                .collect();
            (found, None)
        })
        .collect()
}

/// AWS as the health check use case sees it.
impl helm_core::ports::Observer for AwsClients {
    async fn metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MetricSeries>, helm_core::ports::Failure> {
        Ok(AwsClients::metric_data(self, region, queries, start, end).await?)
    }

    async fn observe(&self, targets: &[Target], opts: &HealthOptions) -> Vec<Observation> {
        observe(self, targets, opts).await
    }

    async fn detail_status(&self, target: &Target, environment: &str) -> StatusObs {
        detail_status(self, target, environment).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_minutes() {
        assert_eq!(series_period_for(3600), 300);
        assert_eq!(series_period_for(86_400), 7200);
        assert_eq!(series_period_for(300), 60);
        assert_eq!(series_period_for(3601), 300);
        assert_eq!(series_period_for(3900), 360);
    }

    #[test]
    fn window_values_combine_by_statistic() {
        let s = MetricSeries {
            points: vec![(chrono::Utc::now(), 2.0), (chrono::Utc::now(), 3.0)],
            error: None,
        };
        assert_eq!(combine(Some(spec::Stat::Sum), &s), Some(5.0));
        assert_eq!(combine(Some(spec::Stat::Average), &s), Some(2.5));
        assert_eq!(combine(Some(spec::Stat::Maximum), &s), Some(3.0));
        assert_eq!(combine(Some(spec::Stat::Minimum), &s), Some(2.0));
        assert_eq!(combine(Some(spec::Stat::Percentile(95.0)), &s), Some(3.0));
        assert_eq!(
            combine(Some(spec::Stat::Sum), &MetricSeries::default()),
            None
        );
    }
}
