//! `helm-cloud metrics` (one metric of one resource) and `helm-cloud performance` (trends
//! and anomalies of the SLO metrics over time): the use cases are helm-core's
//! `monitor::performance`; this renders them.

use super::targets;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::table;
use helm_core::clock::rfc3339;
use helm_core::monitor::performance;
use helm_core::monitor::{self, slo};

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
    let clients = ctx.fan_out(&config, env).await?;
    let r = performance::metric(&clients, t, env, metric, start, end).await?;
    if let Some(known) = &r.unknown_metric_known {
        ctx.out.warn(&format!(
            "{metric} is not one of helm-cloud's {} metrics ({}); asking CloudWatch anyway",
            t.kind,
            known.join(", ")
        ));
    }
    ctx.out.result(&r.to_json(), || {
        let (ns, name) = (&r.namespace, &r.metric);
        if r.empty() {
            return format!(
                "{ns} {name} of {service}: no datapoints between {} and {}",
                rfc3339(start),
                rfc3339(end)
            );
        }
        let fmt = |v: Option<f64>| {
            v.map(|x| slo::round(x).to_string())
                .unwrap_or_else(|| "-".into())
        };
        let rows: Vec<Vec<String>> = r
            .statistics
            .iter()
            .map(|(k, v)| vec![k.to_string(), fmt(*v)])
            .collect();
        format!(
            "{ns} {name} of {service} ({}), {} to {}\n\n{}\n\n{}  ({} points, every {}s)",
            r.resource_name,
            rfc3339(start),
            rfc3339(end),
            table::render(&["STATISTIC", "VALUE"], &rows),
            monitor::sparkline(&r.series.iter().map(|(_, v)| *v).collect::<Vec<_>>()),
            r.series.len(),
            r.period_secs
        )
    });
    Ok(0)
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
    let clients = ctx.fan_out(&config, env).await?;
    let r = performance::performance(&clients, &targets, env, start, end).await;
    ctx.out.result(&r.to_json(), || {
        let mut s = format!(
            "Performance of {env}, {} to {} (5-minute points)\n\n",
            rfc3339(start),
            rfc3339(end)
        );
        if r.evaluated == 0 {
            s.push_str("Not evaluated: no data (no SLO metric had a datapoint in the window).\n");
        } else if r.findings.is_empty() {
            s.push_str("No trend or anomaly: every SLO metric was steady.\n");
        }
        for line in &r.findings {
            s.push_str(&format!("  - {line}\n"));
        }
        if !r.recommendations.is_empty() {
            s.push_str("\nRecommendations:\n");
            for rec in &r.recommendations {
                s.push_str(&format!("  - {rec}\n"));
            }
        }
        s
    });
    // Nothing had data: not "steady", not evaluated (UNKNOWN, as health says it).
    Ok(if r.evaluated == 0 { 3 } else { 0 })
}
