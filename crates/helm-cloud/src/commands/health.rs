//! `helm-cloud health`: every resource of an environment against its SLOs.

use super::targets;
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_UNAVAILABLE};
use crate::table;
use helm_aws::health::{self, HealthOptions, Target};
use helm_core::clock::{file_stamp, rfc3339};
use helm_core::config::Config;
use helm_core::fsutil;
use helm_core::issues::IssueStore;
use helm_core::monitor::report::{self, HealthReport, ReportIssue, Window};
use helm_core::monitor::{self, HealthStatus, Observation, ResourceResult, StatusObs, Thresholds};
use helm_core::resource::ResourceKind;

/// The issue registry configured in monitoring.toml.
pub fn issue_store(ctx: &Ctx, config: &Config) -> IssueStore {
    let m = &config.monitoring;
    IssueStore::new(
        &ctx.paths.fractary(),
        m.str("issues.active_path").unwrap_or("helm/issues/active/"),
        m.str("issues.resolved_path")
            .unwrap_or("helm/issues/resolved/"),
        m.str("helm-cloud.domain").unwrap_or("infrastructure"),
        m.number("issues.retention_days").unwrap_or(90.0) as i64,
    )
}

fn judge(config: &Config, t: &Target, o: &Observation) -> ResourceResult {
    monitor::evaluate(
        &t.resource,
        t.kind,
        o,
        &Thresholds::for_resource(&config.monitoring, &t.resource, t.kind),
    )
}

/// Whether a status that came from a list deserves a per-resource detail call: the lists
/// of Lambda, DynamoDB and API Gateway say that a resource exists, not its state (or, for
/// an API, that its stage exists). Traffic proves the rest; a resource with none (an
/// Inactive function, a missing stage) gets the detail call.
fn wants_detail(t: &Target, o: &Observation) -> bool {
    let from_list = matches!(&o.status, StatusObs::State { detail: None, .. });
    let traffic_key = match t.kind {
        ResourceKind::Lambda => "invocations",
        ResourceKind::ApiGateway => "requests",
        ResourceKind::DynamoDb => "latency_avg_ms",
        _ => return false,
    };
    let quiet = o
        .metrics
        .get(traffic_key)
        .is_none_or(|m| m.window.unwrap_or(0.0) == 0.0);
    from_list && quiet
}

/// Run the checks and build the report (without saving it or touching issues).
pub async fn check(
    ctx: &Ctx,
    config: &Config,
    env: &str,
    service: Option<&str>,
    timeframe: &str,
) -> CliResult<(HealthReport, Vec<ResourceResult>)> {
    let view = targets::environment(ctx, config, env)?;
    let (targets, skipped) = targets::targets(ctx, config, &view, service)?;
    let (start, end) = targets::window(ctx, "--timeframe", timeframe)?;
    let enabled = config.monitoring.str_list("monitoring.enabled_checks");
    let opts = HealthOptions {
        environment: env.to_string(),
        start,
        end,
        series_period_secs: health::series_period_for((end - start).num_seconds()),
        status: enabled.iter().any(|c| c == "resource_status"),
        metrics: enabled.iter().any(|c| c == "cloudwatch_metrics"),
        alarms: enabled.iter().any(|c| c == "cloudwatch_alarms"),
    };
    let clients = ctx.aws(config, env).await?;
    let mut observations = health::observe(&clients, &targets, &opts).await;
    let mut results: Vec<ResourceResult> = targets
        .iter()
        .zip(&observations)
        .map(|(t, o)| judge(config, t, o))
        .collect();
    for i in 0..targets.len() {
        if opts.status && wants_detail(&targets[i], &observations[i]) {
            observations[i].status = health::detail_status(&clients, &targets[i], env).await;
            results[i] = judge(config, &targets[i], &observations[i]);
        }
    }
    let unreachable = !targets.is_empty()
        && observations.iter().all(|o| {
            matches!(
                o.status,
                StatusObs::Unreadable {
                    unreachable: true,
                    ..
                } | StatusObs::NotChecked
            )
        })
        && observations
            .iter()
            .all(|o| o.metrics_error.is_some() || !opts.metrics);
    if unreachable {
        let reason = observations.iter().find_map(|o| match &o.status {
            StatusObs::Unreadable { reason, .. } => Some(reason.clone()),
            _ => None,
        });
        return Err(CliError::new(
            EXIT_UNAVAILABLE,
            format!("AWS could not be reached: {}", reason.unwrap_or_default()),
        )
        .hint("check the network, --endpoint-url / AWS_ENDPOINT_URL and --region"));
    }
    // Nothing checked is never HEALTHY: an empty environment, one whose resources are all
    // of unsupported types, says what was not checked and is UNKNOWN.
    let mut overall = monitor::overall(results.iter().map(|r| r.status));
    let mut not_checked = Vec::new();
    if results.is_empty() {
        overall = HealthStatus::Unknown;
        not_checked.push(if skipped.is_empty() {
            format!("environment {env} has no resources in the registry: nothing was checked")
        } else {
            format!(
                "environment {env} has no resource of a supported type: nothing was checked ({} skipped)",
                skipped.len()
            )
        });
    }
    let report = HealthReport {
        overall_health: overall,
        not_checked,
        environment: env.to_string(),
        timestamp: rfc3339(end),
        window: Window {
            start: rfc3339(start),
            end: rfc3339(end),
        },
        resources: HealthReport::counts(&results),
        results: results.clone(),
        issues: Vec::new(),
        recommendations: report::recommendations(env, &results),
        skipped,
        report_path: String::new(),
    };
    Ok((report, results))
}

/// Check, open or resolve issues, and save the report (what `health` and
/// `dashboard --refresh` do). Returns the report, the results and the resolved issue ids.
pub async fn check_and_record(
    ctx: &Ctx,
    config: &Config,
    env: &str,
    service: Option<&str>,
    timeframe: &str,
) -> CliResult<(HealthReport, Vec<ResourceResult>, Vec<String>)> {
    let (mut report, results) = check(ctx, config, env, service, timeframe).await?;
    let requires_confirmation = config.environments.get(env)?.requires_confirmation;

    // Issues: one per failed check; a resource judged again resolves what passes now.
    let detections: Vec<_> = results
        .iter()
        .flat_map(|r| report::detections(env, r, requires_confirmation))
        .collect();
    // Evidence for resolution: each check that was read and judged on each resource.
    let mut evaluated = helm_core::issues::Evaluated::new();
    for r in &results {
        for c in &r.evaluated {
            evaluated.add(&r.id, c);
        }
    }
    let store = issue_store(ctx, config);
    let outcome = store.sync(env, "health", &detections, &evaluated, ctx.clock.now())?;
    for (d, (_, id, opened)) in detections.iter().zip(&outcome.issues) {
        let finding = results
            .iter()
            .find(|r| r.id == d.resource)
            .and_then(|r| r.findings.iter().find(|f| f.check == d.check));
        if let Some(f) = finding {
            report.issues.push(ReportIssue {
                severity: d.severity,
                resource: d.resource.clone(),
                issue: if *opened {
                    format!("{} (new)", f.title)
                } else {
                    f.title.clone()
                },
                metric: f.metric.clone(),
                current_value: f.current_value.clone(),
                threshold: f.threshold.clone(),
                issue_id: Some(id.clone()),
            });
        }
    }

    let dir = ctx.paths.health_reports(env);
    // Two runs in the same second both keep their report.
    let path = fsutil::reserve_unique(&dir, &file_stamp(ctx.clock.now()), "-health-check.json")?;
    report.report_path = ctx.show_path(&path);
    let json = report.to_json();
    fsutil::write_atomic(
        &path,
        (serde_json::to_string_pretty(&json).expect("JSON") + "\n").as_bytes(),
    )?;
    Ok((report, results, outcome.resolved))
}

/// `dashboard --refresh`: a full health check of `env`, its report saved.
pub async fn run_and_save(ctx: &Ctx, config: &Config, env: &str) -> CliResult<HealthReport> {
    Ok(check_and_record(ctx, config, env, None, "1h").await?.0)
}

pub async fn run(ctx: &Ctx, env: &str, service: Option<&str>, timeframe: &str) -> CliResult {
    let config = ctx.config()?;
    let (report, results, resolved) =
        check_and_record(ctx, &config, env, service, timeframe).await?;
    let json = report.to_json();
    ctx.out
        .result(&json, || render(&report, &results, &resolved));
    Ok(report.overall_health.exit_code())
}

fn key_metrics(r: &ResourceResult) -> String {
    let m = &r.metrics;
    let g = |k: &str| {
        m.get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
    };
    let mut parts = Vec::new();
    // An empty key pushes the label and "unit" as they are.
    let mut push = |label: &str, key: &str, unit: &str| {
        if key.is_empty() {
            parts.push(format!("{label} {unit}"));
        } else if let Some(v) = g(key) {
            parts.push(format!("{label} {v}{unit}"));
        }
    };
    match r.kind {
        ResourceKind::Lambda => {
            push("inv", "invocations", "");
            push("err", "error_rate_percent", "%");
            push("p95", "duration_p95_ms", "ms");
        }
        ResourceKind::Ecs => {
            if let (Some(run), Some(want)) = (g("running_count"), g("desired_count")) {
                push("tasks", "", &format!("{run}/{want}"));
            }
            push("cpu", "cpu_avg_percent", "%");
            push("mem", "memory_avg_percent", "%");
        }
        ResourceKind::Rds => {
            push("", "state", "");
            push("cpu", "cpu_avg_percent", "%");
            push("conn", "connections_max", "");
        }
        ResourceKind::S3 | ResourceKind::ApiGateway => {
            push("req", "requests", "");
            push("err", "error_rate_percent", "%");
            push("p95", "latency_p95_ms", "ms");
        }
        ResourceKind::CloudFront => {
            push("", "state", "");
            push("req", "requests", "");
            push("5xx", "error_rate_5xx_percent", "%");
        }
        ResourceKind::DynamoDb => {
            push("throttled", "throttled_requests", "");
            push("p95", "latency_p95_ms", "ms");
        }
        ResourceKind::Sqs => {
            push("visible", "visible_messages_max", "");
            push("oldest", "oldest_message_age_max_s", "s");
        }
    }
    parts
        .iter()
        .map(|p| p.trim().to_string())
        .collect::<Vec<_>>()
        .join(" · ")
}

fn render(report: &HealthReport, results: &[ResourceResult], resolved: &[String]) -> String {
    let c = &report.resources;
    let mut s = format!(
        "Health of {}: {}   ({} resources: {} healthy, {} degraded, {} unhealthy, {} unknown; window {} to {})\n\n",
        report.environment,
        report.overall_health.as_str(),
        c.total,
        c.healthy,
        c.degraded,
        c.unhealthy,
        c.unknown,
        report.window.start,
        report.window.end
    );
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let reasons = if r.reasons.is_empty() {
                "-".to_string()
            } else {
                r.reasons.join("; ")
            };
            vec![
                r.status.as_str().to_string(),
                r.id.clone(),
                r.kind.to_string(),
                reasons,
                key_metrics(r),
                monitor::sparkline(&r.error_series),
                monitor::sparkline(&r.latency_series),
            ]
        })
        .collect();
    s.push_str(&table::render(
        &[
            "STATUS",
            "RESOURCE",
            "TYPE",
            "REASONS",
            "KEY METRICS",
            "ERRORS",
            "LATENCY",
        ],
        &rows,
    ));
    s.push('\n');
    for sk in &report.skipped {
        s.push_str(&format!(
            "skipped {} ({}): {}\n",
            sk.id, sk.type_name, sk.reason
        ));
    }
    let notes: Vec<String> = results
        .iter()
        .flat_map(|r| r.notes.iter().map(move |n| format!("  {}: {n}", r.id)))
        .collect();
    if !notes.is_empty() {
        s.push_str("\nNotes:\n");
        s.push_str(&notes.join("\n"));
        s.push('\n');
    }
    if !report.issues.is_empty() || !resolved.is_empty() {
        s.push_str("\nIssues:\n");
        for i in &report.issues {
            s.push_str(&format!(
                "  {} {:<8} {}: {} ({} vs {})\n",
                i.issue_id.as_deref().unwrap_or("-"),
                i.severity.as_str(),
                i.resource,
                i.issue,
                i.current_value,
                i.threshold
            ));
        }
        for id in resolved {
            s.push_str(&format!("  {id} resolved: its check passes again\n"));
        }
    }
    if !report.recommendations.is_empty() {
        s.push_str("\nRecommendations:\n");
        for r in &report.recommendations {
            s.push_str(&format!("  - {r}\n"));
        }
    }
    for n in &report.not_checked {
        s.push_str(&format!("\nNot checked: {n}\n"));
    }
    s.push_str(&format!("\nReport: {}\n", report.report_path));
    s
}
