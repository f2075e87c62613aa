//! The `metrics` and `performance` use cases: one metric of one resource with its
//! statistics, and the trends and anomalies of every SLO-relevant series of an
//! environment. Both read through [`Observer`] and return data; front ends render it.

use super::check::{HealthOptions, Target};
use super::trend::{self, Direction};
use super::{MetricValues, slo, spec};
use crate::clock::rfc3339;
use crate::error::{CaseError, Error};
use crate::kinds::{self, SeriesSource};
use crate::ports::{Failure, MetricQuery, Observer};
use crate::resource::ResourceKind;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Points oldest first.
pub type Series = Vec<(DateTime<Utc>, f64)>;

fn num(v: f64) -> Value {
    slo::json_number(v)
}

/// The statistics `metrics` reports, as CloudWatch names them and as the report does.
const STATS: [(&str, &str); 7] = [
    ("Average", "average"),
    ("Minimum", "minimum"),
    ("Maximum", "maximum"),
    ("p95", "p95"),
    ("p99", "p99"),
    ("Sum", "sum"),
    ("SampleCount", "samples"),
];

/// One metric of one resource over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricReport {
    pub resource: String,
    pub resource_name: String,
    pub kind: ResourceKind,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// (report name, value over the window; None: no datapoint).
    pub statistics: Vec<(&'static str, Option<f64>)>,
    pub period_secs: i32,
    pub series: Series,
    /// The metric is not one helm-cloud knows for the kind; these are (it was asked anyway).
    pub unknown_metric_known: Option<Vec<&'static str>>,
}

impl MetricReport {
    pub fn to_json(&self) -> Value {
        json!({
            "resource": self.resource,
            "type": self.kind,
            "metric": self.metric,
            "namespace": self.namespace,
            "dimensions": self.dimensions.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
            "window": {"start": rfc3339(self.start), "end": rfc3339(self.end)},
            "statistics": self.statistics.iter().map(|(k, v)| (k.to_string(), v.map(num).unwrap_or(Value::Null))).collect::<serde_json::Map<_, _>>(),
            "period_seconds": self.period_secs,
            "series": self.series.iter().map(|(t, v)| json!({"time": rfc3339(*t), "value": num(*v)})).collect::<Vec<_>>(),
        })
    }

    /// Whether no statistic had a datapoint.
    pub fn empty(&self) -> bool {
        self.statistics.iter().all(|(_, v)| v.is_none())
    }
}

/// One metric of `target` over `[start, end)`: its statistics over the whole window and its
/// series. A name helm-cloud does not know for the kind is asked of the kind's namespace
/// anyway (the report says so); a name that cannot be a metric is refused before any call.
pub async fn metric<O: Observer>(
    observer: &O,
    target: &Target,
    environment: &str,
    metric: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<MetricReport, CaseError> {
    let kind = target.kind;
    let known: Vec<&'static str> = spec::metrics(kind).iter().map(|s| s.name).collect();
    let (namespace, name, dims, unknown) = match spec::find_metric(kind, metric) {
        Some(s) => (
            spec::query_namespace(&target.resource, s).to_string(),
            s.name.to_string(),
            // A target group's (or an ECS service's request) metrics need its balancer.
            spec::query_dimensions(&target.resource, s, environment).map_err(|why| {
                Error::usage(
                    format!("{} of {} cannot be read: {why}", s.name, target.resource.id),
                    None,
                )
            })?,
            None,
        ),
        None => {
            if metric.is_empty() || !metric.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Error::usage(
                    format!("{metric:?} is not a metric name"),
                    Some(format!("{kind} metrics: {}", known.join(", "))),
                )
                .into());
            }
            (
                spec::metrics(kind)[0].namespace.to_string(),
                metric.to_string(),
                spec::dimensions(&target.resource, environment),
                Some(known),
            )
        }
    };
    let window = HealthOptions::metrics_only(environment, start, end);
    let query = |stat: &str, period_secs: i32| MetricQuery {
        namespace: namespace.clone(),
        name: name.clone(),
        dimensions: dims.clone(),
        stat: stat.to_string(),
        period_secs,
        account: target.account().map(str::to_string),
    };
    let mut queries: Vec<MetricQuery> = STATS
        .iter()
        .map(|(s, _)| query(s, window.window_period_secs()))
        .collect();
    queries.push(query("Average", window.series_period_secs));
    let region = spec::metrics_region(kind, &target.region);
    let answers = observer.metric_data(&region, &queries, start, end).await?;
    if answers.len() != queries.len() {
        return Err(Error::Internal(format!(
            "{} answers to {} metric queries",
            answers.len(),
            queries.len()
        ))
        .into());
    }
    if let Some(e) = answers.iter().find_map(|a| a.error.clone()) {
        let api = "cloudwatch:GetMetricData";
        let line = format!("{api} on {}: {e}", target.resource.id);
        return Err(Failure::unavailable(
            api,
            e,
            line,
            "check the metric's name and dimensions with `aws cloudwatch list-metrics`",
        )
        .into());
    }
    let values = |i: usize| -> Vec<f64> { answers[i].points.iter().map(|(_, v)| *v).collect() };
    let statistics = STATS
        .iter()
        .enumerate()
        .map(|(i, (stat, label))| {
            let v = values(i);
            let value = (!v.is_empty()).then(|| match *stat {
                "Average" => v.iter().sum::<f64>() / v.len() as f64,
                "Minimum" => v.iter().copied().fold(f64::MAX, f64::min),
                "Sum" | "SampleCount" => v.iter().sum(),
                // Maximum, and the percentiles: the worst period of the window.
                _ => v.iter().copied().fold(f64::MIN, f64::max),
            });
            (*label, value)
        })
        .collect();
    Ok(MetricReport {
        resource: target.resource.id.clone(),
        resource_name: target.resource.name.clone(),
        kind,
        namespace,
        metric: name,
        dimensions: dims,
        start,
        end,
        statistics,
        period_secs: window.series_period_secs,
        series: answers[STATS.len()].points.clone(),
        unknown_metric_known: unknown,
    })
}

/// The trends and anomalies of an environment's SLO-relevant series.
#[derive(Debug, Clone, PartialEq)]
pub struct PerformanceReport {
    pub environment: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub period_secs: i32,
    /// Per resource, as the JSON report holds it.
    pub resources: Vec<Value>,
    /// One sentence per trend or anomaly, and per resource not evaluated.
    pub findings: Vec<String>,
    pub recommendations: Vec<String>,
    /// How many resources had data to judge ("steady" is a finding only about those).
    pub evaluated: usize,
}

impl PerformanceReport {
    pub fn to_json(&self) -> Value {
        json!({
            "environment": self.environment,
            "evaluated": self.evaluated > 0,
            "window": {"start": rfc3339(self.start), "end": rfc3339(self.end)},
            "period_seconds": self.period_secs,
            "resources": self.resources,
            "findings": self.findings,
            "recommendations": self.recommendations,
        })
    }
}

/// The series of a kind's `trends` row, computed from the raw metrics.
pub fn trend_series(
    kind: ResourceKind,
    m: &BTreeMap<&'static str, MetricValues>,
) -> Vec<(&'static str, &'static str, Series)> {
    let s = |k: &str| m.get(k).map(|v| v.series.clone()).unwrap_or_default();
    kinds::info(kind)
        .trends
        .iter()
        .map(|(label, unit, src)| {
            let series = match src {
                SeriesSource::Key(k) => s(k),
                SeriesSource::Ratio(part, total) => {
                    // Σ part / Σ total per period.
                    let add = |keys: &[&str]| {
                        let mut sum: BTreeMap<DateTime<Utc>, f64> = BTreeMap::new();
                        for k in keys {
                            for (t, v) in s(k) {
                                *sum.entry(t).or_default() += v;
                            }
                        }
                        sum
                    };
                    let p = add(part);
                    add(total)
                        .into_iter()
                        .filter(|(_, n)| *n > 0.0)
                        .map(|(t, n)| (t, p.get(&t).copied().unwrap_or(0.0) / n * 100.0))
                        .collect()
                }
            };
            (*label, *unit, series)
        })
        .collect()
}

fn fmt_v(v: f64, unit: &str) -> String {
    format!("{}{unit}", slo::round(v))
}

/// Sentences about one series (its trend and its anomalies) and its JSON.
pub fn describe(
    id: &str,
    label: &str,
    unit: &str,
    series: &[(DateTime<Utc>, f64)],
) -> (Vec<String>, Value) {
    let values: Vec<f64> = series.iter().map(|(_, v)| *v).collect();
    let mut sentences = Vec::new();
    let anomalies = trend::anomalies(&values);
    let dir = trend::direction(&values);
    if let Some((first, last, d @ (Direction::Rising | Direction::Falling))) = dir {
        let verb = if d == Direction::Rising {
            "rose"
        } else {
            "fell"
        };
        // When it changed: the first anomalous point, else the middle of the window.
        let at = anomalies
            .first()
            .map(|&i| series[i].0)
            .unwrap_or(series[series.len() / 2].0);
        sentences.push(format!(
            "{id}: {label} {verb} from {} to {} at {}",
            fmt_v(first, unit),
            fmt_v(last, unit),
            at.format("%H:%M")
        ));
    }
    if !anomalies.is_empty() {
        let median = trend::median(&values).unwrap_or(0.0);
        let worst = anomalies
            .iter()
            .copied()
            .max_by(|a, b| {
                (values[*a] - median)
                    .abs()
                    .total_cmp(&(values[*b] - median).abs())
            })
            .unwrap_or(anomalies[0]);
        sentences.push(format!(
            "{id}: {} anomalous {label} point{} (median {}), the largest {} at {}",
            anomalies.len(),
            if anomalies.len() == 1 { "" } else { "s" },
            fmt_v(median, unit),
            fmt_v(values[worst], unit),
            series[worst].0.format("%H:%M")
        ));
    }
    let json = json!({
        "metric": label,
        "unit": unit,
        "points": values.len(),
        "trend": dir.map(|(f, l, d)| json!({"first_third_mean": num(f), "last_third_mean": num(l), "direction": format!("{d:?}").to_lowercase()})),
        "anomalies": anomalies.iter().map(|&i| json!({"time": rfc3339(series[i].0), "value": num(values[i])})).collect::<Vec<_>>(),
        "series": series.iter().map(|(t, v)| json!([rfc3339(*t), num(*v)])).collect::<Vec<_>>(),
    });
    (sentences, json)
}

/// What to do about a rising error, latency or duration series.
fn recommend(t: &Target, env: &str, label: &str) -> String {
    let id = &t.resource.id;
    if label.contains("error") {
        format!(
            "Investigate the rising {label} of {id}: `helm-cloud investigate --service {id} --env {env}`"
        )
    } else {
        format!(
            "The {label} of {id} is rising: check recent deploys and downstream dependencies (`helm-cloud metrics --service {id} --metric {} --env {env}`)",
            kinds::info(t.kind).latency_cw_metric
        )
    }
}

/// Trends and anomalies of every target's SLO series over `[start, end)`, in 5-minute
/// points. A resource whose metrics could not be read, or that had no datapoint, is "not
/// evaluated", never steady.
pub async fn performance<O: Observer>(
    observer: &O,
    targets: &[Target],
    environment: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> PerformanceReport {
    let opts = HealthOptions {
        series_period_secs: 300,
        ..HealthOptions::metrics_only(environment, start, end)
    };
    let observations = observer.observe(targets, &opts).await;
    let mut report = PerformanceReport {
        environment: environment.to_string(),
        start,
        end,
        period_secs: opts.series_period_secs,
        resources: Vec::new(),
        findings: Vec::new(),
        recommendations: Vec::new(),
        evaluated: 0,
    };
    for (t, o) in targets.iter().zip(&observations) {
        let id = &t.resource.id;
        if let Some(e) = &o.metrics_error {
            report
                .findings
                .push(format!("{id}: not evaluated: metrics unreadable ({e})"));
            report
                .resources
                .push(json!({"id": id, "type": t.kind, "error": e, "evaluated": false}));
            continue;
        }
        let series_list = trend_series(t.kind, &o.metrics);
        if series_list.iter().all(|(_, _, s)| s.is_empty()) {
            report
                .findings
                .push(format!("{id}: not evaluated: no data in the window"));
            report
                .resources
                .push(json!({"id": id, "type": t.kind, "metrics": [], "evaluated": false}));
            continue;
        }
        report.evaluated += 1;
        let mut metrics_json = Vec::new();
        for (label, unit, series) in series_list {
            let (sentences, j) = describe(id, label, unit, &series);
            let watched = ["error", "latency", "duration"]
                .iter()
                .any(|w| label.contains(w));
            if watched && sentences.iter().any(|s| s.contains(" rose ")) {
                let r = recommend(t, environment, label);
                if !report.recommendations.contains(&r) {
                    report.recommendations.push(r);
                }
            }
            report.findings.extend(sentences);
            metrics_json.push(j);
        }
        report
            .resources
            .push(json!({"id": id, "type": t.kind, "metrics": metrics_json, "evaluated": true}));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::Observation;
    use crate::ports::{FailureKind, MetricSeries};
    use crate::testing::{self, FakeWorld};
    use futures::executor::block_on;

    fn target(kind: &str, arn: &str, k: ResourceKind) -> Target {
        let r = testing::view(&format!(
            r#"{{"id": "api", "type": "{kind}", "arn": "{arn}"}}"#
        ))
        .resources[0]
            .clone();
        Target {
            resource: r,
            kind: k,
            region: "us-west-2".into(),
        }
    }

    fn lambda() -> Target {
        target(
            "lambda",
            "arn:aws:lambda:us-west-2:123456789012:function:api",
            ResourceKind::Lambda,
        )
    }

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + min * 60, 0).unwrap()
    }

    fn series(values: &[f64]) -> MetricSeries {
        MetricSeries {
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (at(i as i64 * 5), *v))
                .collect(),
            error: None,
        }
    }

    #[test]
    fn a_known_metric_is_asked_with_its_dimensions_and_every_statistic() {
        let fake = FakeWorld {
            series: Some((0..8).map(|_| series(&[1.0, 3.0, 2.0])).collect()),
            ..Default::default()
        };
        let r = block_on(metric(&fake, &lambda(), "test", "Duration", at(0), at(60))).unwrap();
        let asked = fake.asked.lock().unwrap();
        assert_eq!(asked.len(), 8);
        assert!(asked.iter().all(|(region, q)| {
            region == "us-west-2"
                && q.namespace == "AWS/Lambda"
                && q.dimensions
                    .contains(&("FunctionName".into(), "api".into()))
        }));
        let stat = |n: &str| r.statistics.iter().find(|(k, _)| *k == n).unwrap().1;
        assert_eq!(stat("average"), Some(2.0));
        assert_eq!(stat("minimum"), Some(1.0));
        assert_eq!(stat("maximum"), Some(3.0));
        assert_eq!(stat("sum"), Some(6.0));
        assert_eq!(r.series.len(), 3);
        assert!(r.unknown_metric_known.is_none());
    }

    #[test]
    fn a_name_that_cannot_be_a_metric_is_refused_before_any_call_and_an_unknown_one_is_asked() {
        let fake = FakeWorld {
            series: Some(vec![MetricSeries::default(); 8]),
            ..Default::default()
        };
        let e = block_on(metric(
            &fake,
            &lambda(),
            "test",
            "Dur ation;",
            at(0),
            at(60),
        ));
        assert!(matches!(e, Err(CaseError::Domain(_))), "{e:?}");
        assert!(fake.asked.lock().unwrap().is_empty());
        let r = block_on(metric(
            &fake,
            &lambda(),
            "test",
            "MadeUpMetric",
            at(0),
            at(60),
        ))
        .unwrap();
        assert!(
            r.unknown_metric_known
                .as_ref()
                .unwrap()
                .contains(&"Duration")
        );
        assert!(r.empty(), "no datapoint is no value, not zero");
    }

    #[test]
    fn an_answer_with_an_error_fails_the_metric_rather_than_reading_as_no_data() {
        let mut s = vec![MetricSeries::default(); 8];
        s[3].error = Some("InternalError".into());
        let fake = FakeWorld {
            series: Some(s),
            ..Default::default()
        };
        match block_on(metric(&fake, &lambda(), "test", "Errors", at(0), at(60))) {
            Err(CaseError::World(f)) => {
                assert_eq!(f.kind, FailureKind::Unavailable);
                assert!(f.message.contains("InternalError"), "{}", f.message);
            }
            other => panic!("{other:?}"),
        }
    }

    fn obs(metrics: &[(&'static str, &[f64])], error: Option<&str>) -> Observation {
        let m: Vec<(&'static str, Series)> = metrics
            .iter()
            .map(|(k, v)| (*k, series(v).points))
            .collect();
        testing::observation(&m, error)
    }

    #[test]
    fn a_rising_error_rate_is_a_finding_with_a_recommendation_and_no_data_is_not_evaluated() {
        let rising: &[f64] = &[0.0, 0.0, 0.0, 1.0, 5.0, 9.0];
        let fake = FakeWorld {
            observations: vec![obs(
                &[("invocations", &[100.0; 6]), ("errors", rising)],
                None,
            )],
            ..Default::default()
        };
        let r = block_on(performance(&fake, &[lambda()], "test", at(0), at(30)));
        assert_eq!(r.evaluated, 1);
        assert!(
            r.findings.iter().any(|f| f.contains("error rate rose")),
            "{:?}",
            r.findings
        );
        assert_eq!(r.recommendations.len(), 1);
        assert!(r.recommendations[0].contains("helm-cloud investigate --service api"));

        for o in [obs(&[], None), obs(&[], Some("endpoint unreachable"))] {
            let fake = FakeWorld {
                observations: vec![o],
                ..Default::default()
            };
            let r = block_on(performance(&fake, &[lambda()], "test", at(0), at(30)));
            assert_eq!(r.evaluated, 0, "{:?}", r.findings);
            assert!(r.findings[0].contains("not evaluated"));
            assert_eq!(r.to_json()["evaluated"], false);
        }
    }

    #[test]
    fn every_kind_has_trend_series_computed_from_its_metrics() {
        let m: BTreeMap<&'static str, MetricValues> = [
            (
                "errors",
                MetricValues {
                    series: series(&[1.0, 1.0]).points,
                    ..Default::default()
                },
            ),
            (
                "invocations",
                MetricValues {
                    series: series(&[4.0, 0.0]).points,
                    ..Default::default()
                },
            ),
        ]
        .into_iter()
        .collect();
        let s = trend_series(ResourceKind::Lambda, &m);
        // A period without traffic has no rate (not 0 %, not ∞).
        assert_eq!(s[0].2, vec![(at(0), 25.0)]);
        for kind in ResourceKind::ALL {
            assert!(!trend_series(kind, &BTreeMap::new()).is_empty(), "{kind}");
        }
    }
}
