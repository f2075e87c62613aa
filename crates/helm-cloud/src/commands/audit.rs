//! `helm-cloud audit --type cost|security|compliance|all`: findings with a check id, a
//! severity, the resource, why it matters and how to fix it, the plugin's audit_data
//! report, and an exit code a CI job can gate on. The use case is helm-core's
//! `auditor::audit`; this builds its request and renders the report.

use super::{health::issue_store, targets};
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_NOPERM, failure_exit_code};
use helm_core::auditor::Finding;
use helm_core::auditor::audit::{self, AuditOutcome, AuditRequest};
use helm_core::auditor::run::CostRun;
use helm_core::config::duration;
use serde_json::Value;

/// `--scope` and `--regions`.
pub struct Scope {
    pub account: bool,
    pub regions: Vec<String>,
}

pub async fn run(
    ctx: &Ctx,
    kind: &str,
    env: &str,
    timeframe: &str,
    notify: bool,
    scope: &Scope,
) -> CliResult {
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    let span =
        duration::parse(timeframe).map_err(|e| CliError::usage(format!("--timeframe: {e}")))?;
    let (tgts, _) = targets::targets(ctx, &config, &view, None)?;
    let settings = config.monitoring.settings();
    let region_of = |arn: Option<&str>| config.region(&ctx.inputs, arn).value;
    let suppressions = helm_core::auditor::suppress::Suppressions::load(
        &ctx.paths
            .plugin_dir()
            .join("config/audit-suppressions.toml"),
    )?;
    if !scope.account && !scope.regions.is_empty() {
        return Err(CliError::usage(
            "--regions is for --scope account (the registry scope audits the registry's regions)",
        ));
    }
    if let Some(bad) = scope.regions.iter().find(|r| {
        r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }) {
        return Err(CliError::usage(format!(
            "--regions: {bad:?} is not a region name"
        )));
    }
    let swept: Vec<String> = if scope.regions.is_empty() {
        let mut r = audit::regions(&view, &region_of);
        r.push(region_of(None));
        r.sort();
        r.dedup();
        r
    } else {
        let mut r = scope.regions.clone();
        r.dedup();
        r
    };
    let req = AuditRequest {
        account_regions: scope.account.then_some(swept.as_slice()),
        suppressions: &suppressions,
        kind,
        view: &view,
        targets: &tgts,
        region_of: &region_of,
        timeframe,
        requires_confirmation: config.environments.get(env)?.requires_confirmation,
        cost: CostRun {
            environment: env,
            now: ctx.clock.now(),
            span,
            // Whose costs: the cache is per endpoint or credentials.
            scope: config
                .endpoint(&ctx.inputs)
                .map(|e| e.value)
                .unwrap_or_else(|| config.credentials(&ctx.inputs, env).value.to_string()),
            cache_root: ctx.paths.plugin_dir().join("audits/.cache/ce"),
            settings: &settings,
        },
    };
    let clients = ctx.aws(&config, env).await?;
    let _progress = ctx.out.progress(format!("{kind} audit of {env}"));
    let store = issue_store(ctx, &config);
    let dir = ctx.paths.plugin_dir().join("audits").join(env);
    match audit::audit(&clients, &req, &store, &dir, &|p| ctx.show_path(p)).await? {
        AuditOutcome::NothingEvaluated { failure, message } => {
            let code = failure_exit_code(failure);
            Err(CliError::new(code, message).hint(if code == EXIT_NOPERM {
                "grant the IAM permissions the README's audit section lists to the profile in use"
            } else {
                "check the network, --endpoint-url / AWS_ENDPOINT_URL and --region"
            }))
        }
        AuditOutcome::Report {
            data,
            findings,
            code,
        } => {
            let mut data = data;
            for w in data["warnings"].as_array().into_iter().flatten() {
                ctx.out.warn(w.as_str().unwrap_or_default());
            }
            let report = data["report_path"]
                .as_str()
                .map(|p| [(env.to_string(), p.to_string())].into())
                .unwrap_or_default();
            if let Some(n) =
                super::notify::after_issues(ctx, &config, &[env.to_string()], report, notify)
            {
                data["notifications"] = n;
            }
            ctx.out.result(&data, || render(&data, &findings));
            Ok(code)
        }
    }
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
    for h in data["suppressed"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\nSUPPRESSED {} ({}): {} until {}\n",
            h["title"].as_str().unwrap_or_default(),
            h["resource"].as_str().unwrap_or_default(),
            h["reason"].as_str().unwrap_or_default(),
            h["expires"].as_str().unwrap_or("no expiry"),
        ));
    }
    s.push_str(&format!(
        "\nReport: {} (and .md)\n",
        data["report_path"].as_str().unwrap_or_default()
    ));
    s
}
