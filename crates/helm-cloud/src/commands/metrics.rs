//! `helm-cloud metrics` (one metric of one resource) and `helm-cloud performance` (trends
//! and anomalies of the SLO metrics over time).

use super::targets;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::table;
use chrono::{DateTime, Utc};
use helm_aws::MetricQuery;
use helm_aws::health::{self, HealthOptions, Target};
use helm_core::clock::rfc3339;
use helm_core::monitor::spec;
use helm_core::monitor::trend::{self, Direction};
use helm_core::monitor::{self, slo};
use helm_core::resource::ResourceKind;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn num(v: f64) -> Value {
    slo::json_number(v)
}

pub async fn metrics(
    ctx: &Ctx,
    env: &str,
    service: &str,
    metric: &str,
    timeframe: &str,
) -> CliResult {
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    // One resource: a kind with several is refused, listing them.
    let one = targets::one_service(&view, service)?;
    let (targets, _) = targets::targets(ctx, &config, &view, Some(&one.id))?;
    let Some(t) = targets.first() else {
        return Err(CliError::usage(format!(
            "{service} has a type helm-cloud does not monitor"
        )));
    };
    let (start, end) = targets::window(ctx, "--timeframe", timeframe)?;
    let (namespace, name, extra): (String, String, Vec<(String, String)>) =
        match spec::find_metric(t.kind, metric) {
            Some(s) => (
                s.namespace.into(),
                s.name.into(),
                s.extra_dims
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            None => {
                let known: Vec<&str> = spec::metrics(t.kind).iter().map(|s| s.name).collect();
                if !metric.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(CliError::usage(format!("{metric:?} is not a metric name"))
                        .hint(format!("{} metrics: {}", t.kind, known.join(", "))));
                }
                ctx.out.warn(&format!(
                    "{metric} is not one of helm-cloud's {} metrics ({}); asking CloudWatch anyway",
                    t.kind,
                    known.join(", ")
                ));
                (
                    spec::metrics(t.kind)[0].namespace.into(),
                    metric.into(),
                    Vec::new(),
                )
            }
        };
    let mut dims = spec::dimensions(&t.resource, env);
    dims.extend(extra);
    let window = HealthOptions::metrics_only(env, start, end);
    let stats = [
        "Average",
        "Minimum",
        "Maximum",
        "p95",
        "p99",
        "Sum",
        "SampleCount",
    ];
    let mut queries: Vec<MetricQuery> = stats
        .iter()
        .map(|s| MetricQuery {
            namespace: namespace.clone(),
            name: name.clone(),
            dimensions: dims.clone(),
            stat: s.to_string(),
            period_secs: window.window_period_secs(),
        })
        .collect();
    queries.push(MetricQuery {
        namespace: namespace.clone(),
        name: name.clone(),
        dimensions: dims.clone(),
        stat: "Average".into(),
        period_secs: window.series_period_secs,
    });
    let clients = ctx.aws(&config, env).await?;
    let region = spec::metrics_region(t.kind, &t.region);
    let answers = clients.metric_data(&region, &queries, start, end).await?;
    if let Some(e) = answers.iter().find_map(|a| a.error.clone()) {
        return Err(CliError::new(
            crate::error::EXIT_UNAVAILABLE,
            format!("cloudwatch:GetMetricData on {service}: {e}"),
        ));
    }
    let agg = |i: usize, f: fn(&[f64]) -> f64| {
        let v: Vec<f64> = answers[i].points.iter().map(|(_, v)| *v).collect();
        (!v.is_empty()).then(|| f(&v))
    };
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let values: Vec<(&str, Option<f64>)> = vec![
        ("average", agg(0, mean)),
        ("minimum", agg(1, min)),
        ("maximum", agg(2, max)),
        ("p95", agg(3, max)),
        ("p99", agg(4, max)),
        ("sum", agg(5, sum)),
        ("samples", agg(6, sum)),
    ];
    let series: Vec<(DateTime<Utc>, f64)> = answers[stats.len()].points.clone();
    let json = json!({
        "resource": t.resource.id,
        "type": t.kind,
        "metric": name,
        "namespace": namespace,
        "dimensions": dims.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "window": {"start": rfc3339(start), "end": rfc3339(end)},
        "statistics": values.iter().map(|(k, v)| (k.to_string(), v.map(num).unwrap_or(Value::Null))).collect::<serde_json::Map<_, _>>(),
        "period_seconds": window.series_period_secs,
        "series": series.iter().map(|(t, v)| json!({"time": rfc3339(*t), "value": num(*v)})).collect::<Vec<_>>(),
    });
    ctx.out.result(&json, || {
        if values.iter().all(|(_, v)| v.is_none()) {
            return format!(
                "{namespace} {name} of {service}: no datapoints between {} and {}",
                rfc3339(start),
                rfc3339(end)
            );
        }
        let fmt = |v: Option<f64>| {
            v.map(|x| slo::round(x).to_string())
                .unwrap_or_else(|| "-".into())
        };
        let rows: Vec<Vec<String>> = values
            .iter()
            .map(|(k, v)| vec![k.to_string(), fmt(*v)])
            .collect();
        format!(
            "{namespace} {name} of {service} ({}), {} to {}\n\n{}\n\n{}  ({} points, every {}s)",
            t.resource.name,
            rfc3339(start),
            rfc3339(end),
            table::render(&["STATISTIC", "VALUE"], &rows),
            monitor::sparkline(&series.iter().map(|(_, v)| *v).collect::<Vec<_>>()),
            series.len(),
            window.series_period_secs
        )
    });
    Ok(0)
}

type Series = Vec<(DateTime<Utc>, f64)>;

/// The SLO-relevant series of a kind: (label, unit, series) computed from the raw metrics.
fn slo_series(
    kind: ResourceKind,
    m: &BTreeMap<&'static str, helm_core::monitor::MetricValues>,
) -> Vec<(&'static str, &'static str, Series)> {
    let s = |k: &str| m.get(k).map(|v| v.series.clone()).unwrap_or_default();
    // A rate per period, from two count series aligned by time (periods without traffic skipped).
    let rate = |part: &str, total: &str| {
        let p: BTreeMap<DateTime<Utc>, f64> = s(part).into_iter().collect();
        s(total)
            .into_iter()
            .filter(|(_, n)| *n > 0.0)
            .map(|(t, n)| (t, p.get(&t).copied().unwrap_or(0.0) / n * 100.0))
            .collect::<Vec<_>>()
    };
    match kind {
        ResourceKind::Lambda => vec![
            ("error rate", "%", rate("errors", "invocations")),
            ("p95 duration", "ms", s("duration_p95_ms")),
            ("invocations", "", s("invocations")),
        ],
        ResourceKind::ApiGateway => vec![
            ("error rate", "%", rate("errors_5xx", "requests")),
            ("p95 latency", "ms", s("latency_p95_ms")),
        ],
        ResourceKind::S3 => vec![
            ("error rate", "%", rate("errors_5xx", "requests")),
            ("first-byte latency", "ms", s("first_byte_latency_avg_ms")),
        ],
        ResourceKind::CloudFront => vec![
            ("5xx error rate", "%", s("error_rate_5xx_percent")),
            ("requests", "", s("requests")),
        ],
        ResourceKind::Ecs => vec![
            ("CPU", "%", s("cpu_avg_percent")),
            ("memory", "%", s("memory_avg_percent")),
        ],
        ResourceKind::Rds => vec![
            ("CPU", "%", s("cpu_avg_percent")),
            ("connections", "", s("connections_max")),
        ],
        ResourceKind::DynamoDb => vec![
            ("p95 latency", "ms", s("latency_p95_ms")),
            ("throttled requests", "", s("throttled_requests")),
        ],
        ResourceKind::Sqs => vec![
            ("oldest message age", "s", s("oldest_message_age_max_s")),
            ("visible messages", "", s("visible_messages_max")),
        ],
    }
}

fn fmt_v(v: f64, unit: &str) -> String {
    format!("{}{unit}", slo::round(v))
}

/// Sentences about one series: its trend and its anomalies.
fn describe(
    id: &str,
    label: &str,
    unit: &str,
    series: &[(DateTime<Utc>, f64)],
) -> (Vec<String>, Value) {
    let values: Vec<f64> = series.iter().map(|(_, v)| *v).collect();
    let mut sentences = Vec::new();
    let anomalies = trend::anomalies(&values);
    let dir = trend::direction(&values);
    if let Some((first, last, d)) = dir {
        match d {
            Direction::Rising | Direction::Falling => {
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
            Direction::Flat => {}
        }
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

pub async fn performance(
    ctx: &Ctx,
    env: &str,
    service: Option<&str>,
    timeframe: &str,
) -> CliResult {
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    let (targets, _) = targets::targets(ctx, &config, &view, service)?;
    let (start, end) = targets::window(ctx, "--timeframe", timeframe)?;
    let opts = HealthOptions {
        series_period_secs: 300,
        ..HealthOptions::metrics_only(env, start, end)
    };
    let clients = ctx.aws(&config, env).await?;
    let observations = health::observe(&clients, &targets, &opts).await;
    let mut all_sentences = Vec::new();
    let mut recommendations = Vec::new();
    let mut resources = Vec::new();
    // What had data to judge: "steady" is a finding only about series that exist.
    let mut evaluated = 0usize;
    for (t, o) in targets.iter().zip(&observations) {
        if let Some(e) = &o.metrics_error {
            all_sentences.push(format!(
                "{}: not evaluated: metrics unreadable ({e})",
                t.resource.id
            ));
            resources
                .push(json!({"id": t.resource.id, "type": t.kind, "error": e, "evaluated": false}));
            continue;
        }
        let series_list = slo_series(t.kind, &o.metrics);
        if series_list.iter().all(|(_, _, s)| s.is_empty()) {
            all_sentences.push(format!(
                "{}: not evaluated: no data in the window",
                t.resource.id
            ));
            resources.push(
                json!({"id": t.resource.id, "type": t.kind, "metrics": [], "evaluated": false}),
            );
            continue;
        }
        evaluated += 1;
        let mut metrics_json = Vec::new();
        for (label, unit, series) in series_list {
            let (sentences, j) = describe(&t.resource.id, label, unit, &series);
            if sentences.iter().any(|s| s.contains(" rose "))
                && (label.contains("error")
                    || label.contains("latency")
                    || label.contains("duration"))
            {
                recommendations.push(recommend(t, env, label));
            }
            all_sentences.extend(sentences);
            metrics_json.push(j);
        }
        resources.push(json!({"id": t.resource.id, "type": t.kind, "metrics": metrics_json, "evaluated": true}));
    }
    recommendations.dedup();
    let json = json!({
        "environment": env,
        "evaluated": evaluated > 0,
        "window": {"start": rfc3339(start), "end": rfc3339(end)},
        "period_seconds": opts.series_period_secs,
        "resources": resources,
        "findings": all_sentences,
        "recommendations": recommendations,
    });
    ctx.out.result(&json, || {
        let mut s = format!(
            "Performance of {env}, {} to {} (5-minute points)\n\n",
            rfc3339(start),
            rfc3339(end)
        );
        if evaluated == 0 {
            s.push_str("Not evaluated: no data (no SLO metric had a datapoint in the window).\n");
        } else if all_sentences.is_empty() {
            s.push_str("No trend or anomaly: every SLO metric was steady.\n");
        }
        for line in &all_sentences {
            s.push_str(&format!("  - {line}\n"));
        }
        if !recommendations.is_empty() {
            s.push_str("\nRecommendations:\n");
            for r in &recommendations {
                s.push_str(&format!("  - {r}\n"));
            }
        }
        s
    });
    // Nothing had data: not "steady", not evaluated (UNKNOWN, as health says it).
    Ok(if evaluated == 0 { 3 } else { 0 })
}

fn recommend(t: &Target, env: &str, label: &str) -> String {
    let id = &t.resource.id;
    if label.contains("error") {
        format!(
            "Investigate the rising {label} of {id}: `helm-cloud investigate --service {id} --env {env}`"
        )
    } else {
        format!(
            "The {label} of {id} is rising: check recent deploys and downstream dependencies (`helm-cloud metrics --service {id} --metric {} --env {env}`)",
            if t.kind == ResourceKind::Lambda {
                "Duration"
            } else {
                "Latency"
            }
        )
    }
}
