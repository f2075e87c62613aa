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

/// How a bucket's good and total come from the objective's two series.
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
    /// The two series, in `combine`'s order.
    pub queries: [MetricQuery; 2],
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
    let mut dimensions = spec::dimensions(&t.resource, env);
    dimensions.extend(
        m.extra_dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    MetricQuery {
        namespace: m.namespace.into(),
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
            let (combine, bad_key, total_key) = match info.error_rate {
                RateSource::Ratio(bad, total) => (Combine::Ratio, bad, total),
                RateSource::Percent(rate) => (Combine::Percent, rate, "requests"),
                RateSource::None(why) => {
                    return Err(Unmeasurable {
                        name,
                        reason: why.to_string(),
                    });
                }
            };
            let (Some(bad), Some(total)) = (spec_of(t, bad_key), spec_of(t, total_key)) else {
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
            Ok(Objective {
                name,
                target_percent: target,
                threshold_ms: None,
                queries: [query(t, env, bad, bad_stat), query(t, env, total, "Sum")],
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
        out.push(match spec_of(t, report_key) {
            Some(m) if threshold > 0.0 => Ok(Objective {
                name,
                target_percent: 95.0,
                threshold_ms: Some(threshold),
                queries: [
                    query(t, env, m, &format!("PR(:{threshold})")),
                    query(t, env, m, "SampleCount"),
                ],
                combine: Combine::Rank,
                region: region.clone(),
            }),
            Some(_) => Err(Unmeasurable {
                name,
                reason: format!("{slo_key} = {threshold} is no threshold"),
            }),
            None => Err(Unmeasurable {
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
pub fn buckets(o: &Objective, first: &MetricSeries, total: &MetricSeries) -> Vec<Bucket> {
    let a: BTreeMap<i64, f64> = first
        .points
        .iter()
        .map(|(t, v)| (t.timestamp(), *v))
        .collect();
    total
        .points
        .iter()
        .filter(|(_, n)| *n > 0.0)
        .filter_map(|(t, n)| {
            let start = t.timestamp() - t.timestamp().rem_euclid(BUCKET_SECS);
            let v = a.get(&t.timestamp()).copied();
            let good = match (o.combine, v) {
                (Combine::Ratio, v) => n - v.unwrap_or(0.0).min(*n),
                (Combine::Percent, Some(p)) => n * (1.0 - (p / 100.0).clamp(0.0, 1.0)),
                (Combine::Rank, Some(p)) => n * (p / 100.0).clamp(0.0, 1.0),
                (_, None) => return None,
            };
            Some(Bucket {
                start,
                good,
                total: *n,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
            &s(&[(1, 2.0)]),
            &s(&[(0, 100.0), (1, 50.0), (2, 0.0)]),
        );
        assert_eq!(
            b.iter().map(|x| (x.good, x.total)).collect::<Vec<_>>(),
            [(100.0, 100.0), (48.0, 50.0)]
        );
        assert_eq!(b[0].start % 300, 0);
        // 90% at or under the threshold of 40 requests: 36 good; no rank answer: left out.
        let b = buckets(lat, &s(&[(0, 90.0)]), &s(&[(0, 40.0), (1, 10.0)]));
        assert_eq!(
            b.iter().map(|x| (x.good, x.total)).collect::<Vec<_>>(),
            [(36.0, 40.0)]
        );
    }
}
