//! The objectives a resource has, from what users already wrote in `[slos.<type>]` (and a
//! resource's own `slo`), and how each one's good and total requests are read per 5-minute
//! bucket from CloudWatch.
//!
//! - `availability_percent` is a request-based objective on the kind's error ratio
//!   (Lambda Errors / Invocations, API Gateway 5XXError / Count, S3 5xxErrors / AllRequests,
//!   CloudFront 5xxErrorRate × Requests).
//! - `p95_latency_ms` and its kin mean "95% of requests at or under the value": the share
//!   comes from CloudWatch's percentile rank `PR(:T)` and is weighted by the latency
//!   metric's own SampleCount.

use super::budget::{BUCKET_SECS, Bucket};
use crate::kinds::{self, RateSource};
use crate::monitor::Thresholds;
use crate::monitor::check::Target;
use crate::monitor::spec::{self, MetricSpec};
use crate::ports::{MetricQuery, MetricSeries};
use std::collections::BTreeMap;

/// How a bucket's good and total come from the objective's series: the first `first`
/// series add up to the first value, the rest to the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// (bad count, total count).
    Ratio,
    /// (bad percent, total count).
    Percent,
    /// (good percent, total count).
    Rank,
}

/// One objective of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// `availability` or `latency`.
    pub name: &'static str,
    pub target_percent: f64,
    /// Latency: the threshold in ms.
    pub threshold_ms: Option<f64>,
    /// The series, in `combine`'s order: `first` of them, then the total's.
    pub queries: Vec<MetricQuery>,
    pub first: usize,
    pub combine: Combine,
    pub region: String,
}

/// An objective a resource names but cannot be measured, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmeasurable {
    pub name: &'static str,
    pub reason: String,
}

fn query(t: &Target, env: &str, m: &MetricSpec, stat: &str) -> MetricQuery {
    // Objectives are built only from metrics `kinds::error_rate_of` / `addressable` found
    // addressable, so the dimensions are there.
    let dimensions = spec::query_dimensions(&t.resource, m, env).unwrap_or_default();
    MetricQuery {
        namespace: spec::query_namespace(&t.resource, m).into(),
        name: m.name.into(),
        dimensions,
        stat: stat.into(),
        period_secs: BUCKET_SECS as i32,
        account: t.account().map(str::to_string),
    }
}

fn spec_of(t: &Target, key: &str) -> Option<&'static MetricSpec> {
    spec::metrics(t.kind).iter().find(|m| m.key == key)
}

/// A target is an objective's 100% when it is not below 100: no budget to spend.
fn target_ok(name: &'static str, target: f64) -> Result<f64, Unmeasurable> {
    if target > 0.0 && target < 100.0 {
        Ok(target)
    } else {
        Err(Unmeasurable {
            name,
            reason: format!(
                "target {target}% leaves no error budget (it must be above 0 and under 100)"
            ),
        })
    }
}

/// The objectives of `t` under its thresholds, and those it names but cannot be measured.
pub fn objectives(t: &Target, th: &Thresholds, env: &str) -> Vec<Result<Objective, Unmeasurable>> {
    let info = kinds::info(t.kind);
    let region = spec::metrics_region(t.kind, &t.region);
    let mut out = Vec::new();
    if let Some(&target) = th.slos.get("availability_percent") {
        let name = "availability";
        out.push(target_ok(name, target).and_then(|target| {
            let source = kinds::error_rate_of(t.kind, &t.resource, env)
                .map_err(|reason| Unmeasurable { name, reason })?;
            let percent_keys;
            let (combine, bad_keys, total_keys): (_, &[&str], &[&str]) = match source {
                RateSource::Ratio(bad, total) => (Combine::Ratio, bad, total),
                RateSource::Percent(rate) => {
                    percent_keys = [rate];
                    (Combine::Percent, &percent_keys, &["requests"])
                }
                RateSource::None(why) => {
                    return Err(Unmeasurable {
                        name,
                        reason: why.to_string(),
                    });
                }
            };
            let specs = |keys: &[&str]| {
                keys.iter()
                    .map(|k| spec_of(t, k))
                    .collect::<Option<Vec<_>>>()
            };
            let (Some(bad), Some(total)) = (specs(bad_keys), specs(total_keys)) else {
                return Err(Unmeasurable {
                    name,
                    reason: format!("no {} metric counts its requests", t.kind),
                });
            };
            let bad_stat = if combine == Combine::Percent {
                "Average"
            } else {
                "Sum"
            };
            let mut queries: Vec<MetricQuery> =
                bad.iter().map(|m| query(t, env, m, bad_stat)).collect();
            queries.extend(total.iter().map(|m| query(t, env, m, "Sum")));
            Ok(Objective {
                name,
                target_percent: target,
                threshold_ms: None,
                first: bad.len(),
                queries,
                combine,
                region: region.clone(),
            })
        }));
    }
    // The first latency SLO the kind measures and the thresholds set.
    if let Some((slo_key, report_key)) = info.latency.iter().find(|(k, _)| th.slos.contains_key(*k))
    {
        let name = "latency";
        let threshold = th.slos[*slo_key];
        let addressable = kinds::addressable(t.kind, &t.resource, report_key, env);
        out.push(match (spec_of(t, report_key), addressable) {
            (Some(_), Err(reason)) => Err(Unmeasurable { name, reason }),
            // A Kinesis iterator age is a maximum over time, not a latency per request:
            // health judges it, but it has no requests to spend a budget on.
            (Some(m), Ok(())) if !matches!(m.stat, spec::Stat::Percentile(_)) => {
                Err(Unmeasurable {
                    name,
                    reason: format!(
                        "{slo_key} is judged on the {} {} of the window, not per request: no \
error budget (health checks it)",
                        m.name,
                        m.stat.api_name()
                    ),
                })
            }
            // The rank is asked in the metric's own unit (an ALB's seconds).
            (Some(m), Ok(())) if threshold > 0.0 => Ok(Objective {
                name,
                target_percent: 95.0,
                threshold_ms: Some(threshold),
                queries: vec![
                    query(t, env, m, &format!("PR(:{})", threshold / m.scale)),
                    query(t, env, m, "SampleCount"),
                ],
                first: 1,
                combine: Combine::Rank,
                region: region.clone(),
            }),
            (Some(_), Ok(())) => Err(Unmeasurable {
                name,
                reason: format!("{slo_key} = {threshold} is no threshold"),
            }),
            (None, _) => Err(Unmeasurable {
                name,
                reason: format!("no {} metric measures {slo_key}", t.kind),
            }),
        });
    }
    out
}

/// The buckets of an objective from its two series: one per period start that has a
/// total, with good = total − bad (or the good share of the total). A bucket with traffic
/// but no answer for the other series is left out (not counted as good or bad).
pub fn buckets(o: &Objective, series: &[MetricSeries]) -> Vec<Bucket> {
    let add = |part: &[MetricSeries]| {
        let mut sum: BTreeMap<i64, f64> = BTreeMap::new();
        for s in part {
            for (t, v) in &s.points {
                *sum.entry(t.timestamp()).or_default() += v;
            }
        }
        sum
    };
    let first = o.first.min(series.len());
    let a = add(&series[..first]);
    add(&series[first..])
        .into_iter()
        .filter(|(_, n)| *n > 0.0)
        .filter_map(|(t, n)| {
            let start = t - t.rem_euclid(BUCKET_SECS);
            let v = a.get(&t).copied();
            let good = match (o.combine, v) {
                (Combine::Ratio, v) => n - v.unwrap_or(0.0).min(n),
                (Combine::Percent, Some(p)) => n * (1.0 - (p / 100.0).clamp(0.0, 1.0)),
                (Combine::Rank, Some(p)) => n * (p / 100.0).clamp(0.0, 1.0),
                (_, None) => return None,
            };
            Some(Bucket {
                start,
                good,
                total: n,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceKind;
    use chrono::DateTime;

    fn target(kind: &str, arn: &str) -> Target {
        let v = crate::testing::view(&format!(
            r#"{{"id": "r", "type": "{kind}", "arn": "{arn}"}}"#
        ));
        let r = v.resources[0].clone();
        Target {
            kind: r.kind.unwrap(),
            region: "us-east-1".into(),
            resource: r,
        }
    }

    fn th(pairs: &[(&str, f64)]) -> Thresholds {
        Thresholds {
            slos: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            cpu_degraded: 80.0,
            cpu_unhealthy: 95.0,
            memory_degraded: 80.0,
            memory_unhealthy: 95.0,
        }
    }

    #[test]
    fn a_lambda_has_an_availability_and_a_latency_objective() {
        let t = target(
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:api",
        );
        let o = objectives(
            &t,
            &th(&[("availability_percent", 99.9), ("p95_latency_ms", 200.0)]),
            "test",
        );
        let a = o[0].as_ref().unwrap();
        assert_eq!((a.name, a.combine), ("availability", Combine::Ratio));
        assert_eq!(
            (a.queries[0].name.as_str(), a.queries[1].name.as_str()),
            ("Errors", "Invocations")
        );
        let l = o[1].as_ref().unwrap();
        assert_eq!(l.queries[0].stat, "PR(:200)");
        assert_eq!(l.queries[1].stat, "SampleCount");
        assert_eq!(l.target_percent, 95.0);
    }

    #[test]
    fn a_stream_has_a_throttling_budget_but_its_iterator_age_none() {
        let t = target(
            "kinesis",
            "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        );
        let o = objectives(
            &t,
            &th(&[("availability_percent", 99.0), ("iterator_age_ms", 60000.0)]),
            "test",
        );
        let a = o[0].as_ref().unwrap();
        let names: Vec<&str> = a.queries.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "WriteProvisionedThroughputExceeded",
                "IncomingRecords",
                "WriteProvisionedThroughputExceeded"
            ]
        );
        assert_eq!(a.first, 1);
        let e = o[1].as_ref().unwrap_err();
        assert!(e.reason.contains("not per request"), "{}", e.reason);
    }

    #[test]
    fn what_cannot_be_measured_says_why() {
        let ecs = target("ecs", "arn:aws:ecs:us-east-1:123456789012:service/main/web");
        let o = objectives(&ecs, &th(&[("availability_percent", 99.9)]), "test");
        let e = o[0].as_ref().unwrap_err();
        assert!(e.reason.contains("load balancer"), "{}", e.reason);
        let t = target(
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:api",
        );
        let o = objectives(&t, &th(&[("availability_percent", 100.0)]), "test");
        assert!(
            o[0].as_ref()
                .unwrap_err()
                .reason
                .contains("no error budget")
        );
    }

    #[test]
    fn buckets_weigh_each_share_by_its_requests() {
        let at = |m: i64| DateTime::from_timestamp(1_700_000_100 + m * 300, 0).unwrap();
        let s = |v: &[(i64, f64)]| MetricSeries {
            points: v.iter().map(|(m, x)| (at(*m), *x)).collect(),
            error: None,
        };
        let t = target(
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:api",
        );
        let o = objectives(
            &t,
            &th(&[("availability_percent", 99.0), ("p95_latency_ms", 200.0)]),
            "test",
        );
        let (avail, lat) = (o[0].as_ref().unwrap(), o[1].as_ref().unwrap());
        // Errors only where there were some; a bucket without traffic is no bucket.
        let b = buckets(
            avail,
            &[s(&[(1, 2.0)]), s(&[(0, 100.0), (1, 50.0), (2, 0.0)])],
        );
        assert_eq!(
            b.iter().map(|x| (x.good, x.total)).collect::<Vec<_>>(),
            [(100.0, 100.0), (48.0, 50.0)]
        );
        assert_eq!(b[0].start % 300, 0);
        // 90% at or under the threshold of 40 requests: 36 good; no rank answer: left out.
        let b = buckets(lat, &[s(&[(0, 90.0)]), s(&[(0, 40.0), (1, 10.0)])]);
        assert_eq!(
            b.iter().map(|x| (x.good, x.total)).collect::<Vec<_>>(),
            [(36.0, 40.0)]
        );
    }

    #[test]
    fn sums_of_series_make_an_albs_errors_and_an_sns_topics_total() {
        let at = |m: i64| DateTime::from_timestamp(1_700_000_100 + m * 300, 0).unwrap();
        let s = |v: &[(i64, f64)]| MetricSeries {
            points: v.iter().map(|(m, x)| (at(*m), *x)).collect(),
            error: None,
        };
        let lb = target(
            "alb",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
        );
        let o = objectives(
            &lb,
            &th(&[("availability_percent", 99.9), ("p95_latency_ms", 250.0)]),
            "test",
        );
        let a = o[0].as_ref().unwrap();
        let names: Vec<&str> = a.queries.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "HTTPCode_ELB_5XX_Count",
                "HTTPCode_Target_5XX_Count",
                "RequestCount"
            ]
        );
        assert_eq!(a.first, 2);
        assert_eq!(
            a.queries[0].dimensions,
            [(
                "LoadBalancer".to_string(),
                "app/web/50dc6c495c0c9188".to_string()
            )]
        );
        // 3 + 2 bad of 100.
        let b = buckets(a, &[s(&[(0, 3.0)]), s(&[(0, 2.0)]), s(&[(0, 100.0)])]);
        assert_eq!((b[0].good, b[0].total), (95.0, 100.0));
        // The response time is in seconds: the rank is asked at 0.25.
        assert_eq!(o[1].as_ref().unwrap().queries[0].stat, "PR(:0.25)");

        let topic = target("sns", "arn:aws:sns:us-east-1:123456789012:alerts");
        let o = objectives(&topic, &th(&[("availability_percent", 99.0)]), "test");
        let a = o[0].as_ref().unwrap();
        // failed / (failed + delivered).
        let b = buckets(a, &[s(&[(0, 20.0)]), s(&[(0, 20.0)]), s(&[(0, 80.0)])]);
        assert_eq!((b[0].good, b[0].total), (80.0, 100.0));
    }

    #[test]
    fn an_ecs_service_is_measured_through_the_target_group_its_entry_names() {
        let v = crate::testing::view(
            r#"{"id": "web", "type": "ecs", "arn": "arn:aws:ecs:us-east-1:123456789012:service/main/web",
                "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
                "load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188"},
               {"id": "bad", "type": "ecs", "arn": "arn:aws:ecs:us-east-1:123456789012:service/main/bad",
                "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188",
                "load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188"}"#,
        );
        let t = |r: &crate::registry::Resource| Target {
            kind: ResourceKind::Ecs,
            region: "us-east-1".into(),
            resource: r.clone(),
        };
        let thresholds = th(&[
            ("availability_percent", 99.9),
            ("p95_response_time_ms", 500.0),
        ]);
        let o = objectives(&t(&v.resources[0]), &thresholds, "test");
        let a = o[0].as_ref().unwrap();
        assert_eq!(a.queries[0].namespace, "AWS/ApplicationELB");
        assert_eq!(
            a.queries[0].dimensions,
            [
                (
                    "TargetGroup".to_string(),
                    "targetgroup/web/73e2d6bc24d8a067".to_string()
                ),
                (
                    "LoadBalancer".to_string(),
                    "app/front/50dc6c495c0c9188".to_string()
                )
            ]
        );
        assert_eq!(o[1].as_ref().unwrap().queries[0].stat, "PR(:0.5)");
        // A target group ARN that is not one: both objectives say why, neither is read.
        let o = objectives(&t(&v.resources[1]), &thresholds, "test");
        for x in &o {
            let e = x.as_ref().unwrap_err();
            assert!(e.reason.contains("not a target group ARN"), "{}", e.reason);
        }
    }
}
