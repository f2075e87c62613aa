//! `helm-cloud health`: every resource of an environment against its SLOs, through
//! helm-core's health check use case (`monitor::check`), rendered as a table or JSON.

use super::targets;
use crate::context::Ctx;
use crate::error::CliResult;
use crate::table;
use helm_core::config::Config;
use helm_core::issues::IssueStore;
use helm_core::monitor::check::{self, HealthOptions};
use helm_core::monitor::report::HealthReport;
use helm_core::monitor::{self, ResourceResult};
use helm_core::resource::ResourceKind;

/// The issue registry configured in monitoring.toml.
pub fn issue_store(ctx: &Ctx, config: &Config) -> IssueStore {
    let s = config.monitoring.settings();
    IssueStore::new(
        &ctx.paths.fractary(),
        &s.issues.active_path,
        &s.issues.resolved_path,
        &s.domain,
        s.issues.retention_days,
    )
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
    let enabled = config.monitoring.settings().enabled_checks;
    let opts = HealthOptions::health(env, start, end, &enabled);
    let clients = ctx.fan_out(config, env).await?;
    let _progress = ctx.out.progress(format!(
        "checking {} resource{} in {env}",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" }
    ));
    check::check(&clients, &config.monitoring, &targets, skipped, &opts)
        .await
        .map_err(|stop| helm_core::ports::Failure::from(stop).into())
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
    let (resolved, path) = check::record(
        &issue_store(ctx, config),
        &mut report,
        &results,
        requires_confirmation,
        &ctx.paths.health_reports(env),
        ctx.clock.now(),
    )?;
    report.report_path = ctx.show_path(&path);
    check::save(&report, &path)?;
    Ok((report, results, resolved))
}

/// `dashboard --refresh`: a full health check of `env`, its report saved.
pub async fn run_and_save(ctx: &Ctx, config: &Config, env: &str) -> CliResult<HealthReport> {
    Ok(check_and_record(ctx, config, env, None, "1h").await?.0)
}

pub async fn run(
    ctx: &Ctx,
    env: &str,
    service: Option<&str>,
    timeframe: &str,
    notify: bool,
) -> CliResult {
    let config = ctx.config()?;
    let (report, results, resolved) =
        check_and_record(ctx, &config, env, service, timeframe).await?;
    let mut json = report.to_json();
    let reports = [(env.to_string(), report.report_path.clone())].into();
    if let Some(n) = super::notify::after_issues(ctx, &config, &[env.to_string()], reports, notify)
    {
        json["notifications"] = n;
    }
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
            push("err", "error_rate_percent", "%");
            push("p95", "tg_response_time_p95_ms", "ms");
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
        ResourceKind::StepFunctions => {
            push("", "state", "");
            push("runs", "executions_started", "");
            push("failed", "executions_failed", "");
            push("p95", "execution_time_p95_ms", "ms");
        }
        ResourceKind::EventBridge => {
            push("", "state", "");
            push("inv", "invocations", "");
            push("failed", "failed_invocations", "");
        }
        ResourceKind::Alb => {
            push("", "state", "");
            push("req", "requests", "");
            push("err", "error_rate_percent", "%");
            push("p95", "target_response_time_p95_ms", "ms");
        }
        ResourceKind::Sns => {
            push("published", "published", "");
            push("failed", "failed", "");
            push("err", "error_rate_percent", "%");
        }
        ResourceKind::Nlb => {
            push("", "state", "");
            push("flows", "new_flows", "");
            push("resets", "error_rate_percent", "%");
        }
        ResourceKind::TargetGroup | ResourceKind::Asg => {
            if let (Some(ok), Some(want)) = (g("healthy_count"), g("desired_count")) {
                push("healthy", "", &format!("{ok}/{want}"));
            }
            push("cpu", "cpu_avg_percent", "%");
            push("err", "error_rate_percent", "%");
            push("p95", "tg_response_time_p95_ms", "ms");
        }
        ResourceKind::Kinesis => {
            push("in", "incoming_records", "");
            push("throttled", "error_rate_percent", "%");
            push("age", "iterator_age_max_ms", "ms");
        }
        ResourceKind::ElastiCache => {
            push("", "state", "");
            push("cpu", "cpu_avg_percent", "%");
            push("mem", "memory_avg_percent", "%");
            push("evictions", "evictions", "");
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
