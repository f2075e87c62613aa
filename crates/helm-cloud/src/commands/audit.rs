//! `helm-cloud audit --type cost|security|compliance|all`: findings with a check id, a
//! severity, the resource, why it matters and how to fix it, the plugin's audit_data
//! report, and an exit code a CI job can gate on.

use super::{health::issue_store, targets};
use crate::context::Ctx;
use crate::error::{CliError, CliResult, failure_exit_code};
use helm_aws::AwsClients;
use helm_core::auditor::run::{self as audits, Part};
use helm_core::auditor::{self, Finding, Severity};
use helm_core::clock::{file_stamp, rfc3339};
use helm_core::config::duration;
use helm_core::fsutil;
use helm_core::issues::{self, Detection, Evaluated};
use helm_core::resource::ResourceKind;
use serde_json::{Value, json};

pub async fn run(ctx: &Ctx, kind: &str, env: &str, timeframe: &str) -> CliResult {
    let started = std::time::Instant::now();
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    let span =
        duration::parse(timeframe).map_err(|e| CliError::usage(format!("--timeframe: {e}")))?;
    let now = ctx.clock.now();
    let clients = ctx.aws(&config, env).await?;
    let _progress = ctx.out.progress(format!("{kind} audit of {env}"));
    let kinds: Vec<&str> = if kind == "all" {
        vec!["cost", "security", "compliance"]
    } else {
        vec![kind]
    };
    let mut findings = Vec::new();
    let mut metrics = serde_json::Map::new();
    let mut parts: Vec<(&str, Evaluated)> = Vec::new();
    let mut not_evaluated: Vec<String> = Vec::new();
    let mut failures: Vec<helm_core::ports::FailureKind> = Vec::new();
    for k in &kinds {
        let part = match *k {
            "cost" => cost_audit(ctx, &config, env, span, &clients, &view).await?,
            "security" => security_audit(ctx, &config, &clients, &view).await?,
            _ => compliance_audit(ctx, &config, &clients, &view).await?,
        };
        findings.extend(part.findings);
        metrics.insert(k.to_string(), part.metrics);
        not_evaluated.extend(part.not_evaluated.iter().map(|n| format!("{k}: {n}")));
        failures.extend(part.failures);
        parts.push((k, part.evaluated));
    }
    let coverage = auditor::Coverage::of(parts.iter().any(|(_, e)| !e.is_empty()), &not_evaluated);
    // Nothing evaluated because AWS could not be used at all: the exit code says why
    // (69 unreachable, 77 permission denied), with the first reason.
    if coverage == auditor::Coverage::None && !failures.is_empty() {
        let code = failures
            .iter()
            .map(|k| failure_exit_code(*k))
            .max()
            .unwrap_or(crate::error::EXIT_UNAVAILABLE);
        let shown = failures.iter().all(|k| failure_exit_code(*k) == code);
        if shown {
            return Err(CliError::new(
                code,
                format!(
                    "audit --type {kind} evaluated nothing: {}{}",
                    not_evaluated.first().cloned().unwrap_or_default(),
                    if not_evaluated.len() > 1 {
                        format!(" (and {} more)", not_evaluated.len() - 1)
                    } else {
                        String::new()
                    }
                ),
            )
            .hint(if code == crate::error::EXIT_NOPERM {
                "grant the IAM permissions the README's audit section lists to the profile in use"
            } else {
                "check the network, --endpoint-url / AWS_ENDPOINT_URL and --region"
            }));
        }
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(
            b.monthly_savings_usd
                .unwrap_or(0.0)
                .total_cmp(&a.monthly_savings_usd.unwrap_or(0.0)),
        )
    });
    let metrics = if kinds.len() == 1 {
        metrics.remove(kinds[0]).unwrap_or(Value::Null)
    } else {
        Value::Object(metrics)
    };
    let recommendations: Vec<String> = findings
        .iter()
        .take(10)
        .map(|f| format!("{} ({}): {}", f.title, f.resource, f.recommendation))
        .collect();
    let stamp = rfc3339(now);
    let mut data = auditor::audit_data(
        kind,
        env,
        &stamp,
        timeframe,
        &findings,
        metrics,
        &recommendations,
        &auditor::Evaluation {
            coverage,
            not_evaluated: not_evaluated.clone(),
            passing: {
                let failed: Vec<(String, String)> = findings
                    .iter()
                    .map(|f| (f.resource.clone(), f.check.clone()))
                    .collect();
                parts.iter().map(|(_, e)| e.passing(&failed)).sum()
            },
        },
    );
    // The plugin's ops-auditor `audit` block.
    data["audit"]["check_type"] = json!(kind);
    data["audit"]["duration_seconds"] =
        json!((started.elapsed().as_secs_f64() * 100.0).round() / 100.0);
    data["audit"]["auditor"] =
        json!({"plugin": "fractary-helm-cloud", "skill": "ops-auditor", "tool": "helm-cloud"});
    data["audit"]["audit_id"] = json!(format!("{}-{kind}", file_stamp(now)));

    // Budget overruns and critical findings open (or update) issues; they resolve when gone.
    let requires_confirmation = config.environments.get(env)?.requires_confirmation;
    let detections: Vec<Detection> = findings
        .iter()
        .filter(|f| {
            f.severity == Severity::Critical
                || matches!(f.check.as_str(), "cost.daily_budget" | "cost.forecast")
        })
        .map(|f| Detection {
            environment: env.into(),
            resource: f.resource.clone(),
            check: f.check.clone(),
            severity: match f.severity {
                Severity::Critical => issues::Severity::Critical,
                // A budget overrun in an environment that asks before every change is urgent.
                Severity::High if requires_confirmation => issues::Severity::Critical,
                Severity::High => issues::Severity::High,
                _ => issues::Severity::Medium,
            },
            title: f.title.clone(),
            description: f.detail.clone(),
            slo_breach: false,
            metrics: json!({"check": f.check}),
        })
        .collect();
    // Each audit type is its own source: a cost audit never touches a security issue, and
    // an issue resolves only when its check was evaluated in this run and passed.
    let mut issue_refs = Vec::new();
    for (k, evaluated) in &parts {
        let mine: Vec<Detection> = detections
            .iter()
            .filter(|d| auditor::type_of_check(&d.check) == *k)
            .cloned()
            .collect();
        let outcome =
            issue_store(ctx, &config).sync(env, &format!("audit:{k}"), &mine, evaluated, now)?;
        issue_refs.extend(
            outcome.issues.iter().map(
                |(fp, id, opened)| json!({"fingerprint": fp, "issue_id": id, "opened": opened}),
            ),
        );
        issue_refs.extend(
            outcome
                .resolved
                .iter()
                .map(|id| json!({"issue_id": id, "resolved": true})),
        );
    }
    data["issues"] = json!(issue_refs);

    let dir = ctx.paths.plugin_dir().join("audits").join(env);
    let json_path = fsutil::reserve_unique(&dir, &file_stamp(now), &format!("-{kind}.json"))?;
    let md_path = json_path.with_file_name(
        json_path
            .file_name()
            .map(|n| n.to_string_lossy().replace(".json", ".md"))
            .unwrap_or_default(),
    );
    data["report_path"] = json!(ctx.show_path(&json_path));
    fsutil::write_atomic(
        &json_path,
        (serde_json::to_string_pretty(&data).expect("JSON") + "\n").as_bytes(),
    )?;
    fsutil::write_atomic(&md_path, auditor::markdown(&data).as_bytes())?;
    let code = data["summary"]["exit_code"].as_u64().unwrap_or(0) as u8;
    ctx.out.result(&data, || render(&data, &findings));
    Ok(code)
}

async fn cost_audit(
    ctx: &Ctx,
    config: &helm_core::config::Config,
    env: &str,
    span: std::time::Duration,
    clients: &AwsClients,
    view: &helm_core::registry::EnvironmentView,
) -> CliResult<Part> {
    let (tgts, _) = targets::targets(ctx, config, view, None)?;
    let settings = config.monitoring.settings();
    let run = audits::CostRun {
        environment: env,
        now: ctx.clock.now(),
        span,
        scope: config
            .endpoint(&ctx.inputs)
            .map(|e| e.value)
            .unwrap_or_else(|| config.credentials(&ctx.inputs, env).value.to_string()),
        cache_root: ctx.paths.plugin_dir().join("audits/.cache/ce"),
        settings: &settings,
    };
    Ok(audits::cost(clients, &tgts, &run).await?)
}

fn render(data: &Value, findings: &[Finding]) -> String {
    let kind = data["audit"]["type"].as_str().unwrap_or_default();
    let metrics = &data["metrics"];
    // One metrics object per type (nested under its name for --type all).
    let part = |k: &str| {
        if kind == "all" {
            metrics[k].clone()
        } else if kind == k {
            metrics.clone()
        } else {
            Value::Null
        }
    };
    let mut s = format!(
        "{} audit of {}: {}{}\n",
        kind,
        data["audit"]["environment"].as_str().unwrap_or_default(),
        data["summary"]["overall_status"]
            .as_str()
            .unwrap_or_default()
            .to_uppercase(),
        if data["summary"]["evaluation"] == "complete" {
            String::new()
        } else {
            format!(
                " (evaluation {}: {} not evaluated)",
                data["summary"]["evaluation"].as_str().unwrap_or_default(),
                data["summary"]["not_evaluated"]
                    .as_array()
                    .map_or(0, |a| a.len())
            )
        }
    );
    for n in data["summary"]["not_evaluated"]
        .as_array()
        .into_iter()
        .flatten()
    {
        s.push_str(&format!(
            "  not evaluated: {}\n",
            n.as_str().unwrap_or_default()
        ));
    }
    let cost = part("cost");
    if cost.is_object() {
        s.push_str(&format!(
            "\ncost: last complete day {} ${} (7-day mean ${}) · month to date ${} (pace ${}, forecast ${}, budget ${}) · estimated savings ${}/month · Cost Explorer requests {} ({} from today's cache)\n",
            cost["last_complete_day"].as_str().unwrap_or_default(),
            cost["last_day_usd"],
            cost["previous_7_day_mean_usd"],
            cost["month_to_date_usd"],
            cost["budget_pace_usd"],
            cost["forecast_month_end_usd"],
            cost["monthly_budget_usd"],
            cost["estimated_monthly_savings_usd"],
            cost["cost_explorer_requests"],
            cost["cost_explorer_cached_answers"]
        ));
    }
    let sec = part("security");
    if sec.is_object() {
        s.push_str(&match sec["security_score"].as_u64() {
            Some(v) if sec["score_partial"] == true => {
                format!("\nsecurity score: {v}/100 (partial: over what could be read)\n")
            }
            Some(v) => format!("\nsecurity score: {v}/100\n"),
            None => "\nsecurity score: none (nothing could be read)\n".to_string(),
        });
    }
    let comp = part("compliance");
    if comp.is_object() {
        s.push_str(&format!(
            "\ncompliance: {}% ({} of {} evaluated controls passed; {} not evaluated)\n",
            comp["compliance_percentage"],
            comp["controls_passed"],
            comp["controls_evaluated"],
            comp["controls_not_evaluated"]
        ));
        for c in comp["controls"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "  CIS {:<6} {:<13} {} ({})\n",
                c["cis"].as_str().unwrap_or_default(),
                c["status"].as_str().unwrap_or_default(),
                c["title"].as_str().unwrap_or_default(),
                c["detail"].as_str().unwrap_or_default()
            ));
        }
    }
    for f in findings {
        s.push_str(&format!(
            "\n{:<8} {} ({}): {}\n         fix: {}{}\n",
            format!("{:?}", f.severity).to_uppercase(),
            f.title,
            f.resource,
            f.detail,
            f.recommendation,
            f.monthly_savings_usd
                .map(|v| format!(" · est. savings ${v:.2}/month"))
                .unwrap_or_default()
        ));
    }
    if findings.is_empty() {
        s.push_str("\nNo finding.\n");
    }
    s.push_str(&format!(
        "\nReport: {} (and .md)\n",
        data["report_path"].as_str().unwrap_or_default()
    ));
    s
}

/// The regions of the environment's resources (the default region when there are none).
fn regions(
    ctx: &Ctx,
    config: &helm_core::config::Config,
    view: &helm_core::registry::EnvironmentView,
) -> Vec<String> {
    let mut r: Vec<String> = view
        .resources
        .iter()
        .filter(|x| x.kind != Some(ResourceKind::CloudFront))
        .map(|x| config.region(&ctx.inputs, x.region.as_deref()).value)
        .collect();
    if r.is_empty() {
        r.push(config.region(&ctx.inputs, None).value);
    }
    r.sort();
    r.dedup();
    r
}

async fn security_audit(
    ctx: &Ctx,
    config: &helm_core::config::Config,
    clients: &AwsClients,
    view: &helm_core::registry::EnvironmentView,
) -> CliResult<Part> {
    let regions = regions(ctx, config, view);
    let scoped: Vec<audits::Scoped> = view
        .resources
        .iter()
        .map(|r| audits::Scoped {
            id: r.id.clone(),
            name: r.name.clone(),
            kind: r.kind,
            region: config.region(&ctx.inputs, r.region.as_deref()).value,
        })
        .collect();
    Ok(audits::security(clients, &scoped, &regions).await)
}

async fn compliance_audit(
    ctx: &Ctx,
    config: &helm_core::config::Config,
    clients: &AwsClients,
    view: &helm_core::registry::EnvironmentView,
) -> CliResult<Part> {
    Ok(audits::compliance(clients, &regions(ctx, config, view)).await)
}
