//! `helm-cloud audit --type cost|security|compliance|all`: findings with a check id, a
//! severity, the resource, why it matters and how to fix it, the plugin's audit_data
//! report, and an exit code a CI job can gate on. The use case is helm-core's
//! `auditor::audit`; this builds its request and renders the report.

use super::{health::issue_store, targets};
use crate::context::Ctx;
use crate::error::{
    CliError, CliResult, EXIT_DATAERR, EXIT_NOINPUT, EXIT_NOPERM, failure_exit_code,
};
use helm_core::auditor::Finding;
use helm_core::auditor::audit::{self, AuditOutcome, AuditRequest};
use helm_core::auditor::export;
use helm_core::auditor::run::CostRun;
use helm_core::config::duration;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `--scope` and `--regions`.
pub struct Scope {
    pub account: bool,
    pub regions: Vec<String>,
}

/// `--output`, `--framework`, `--since-last`.
pub struct Options {
    pub output: Option<String>,
    pub framework: Option<String>,
    pub since_last: bool,
}

/// A saved audit report, or a clear error naming the file.
fn read_report(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read(path).map_err(|e| {
        CliError::new(EXIT_NOINPUT, format!("cannot read {}: {e}", path.display()))
            .hint("name two reports under .fractary/plugins/helm-cloud/audits/<env>/")
    })?;
    let v: Value = serde_json::from_slice(&text).map_err(|e| {
        CliError::new(
            EXIT_DATAERR,
            format!("{} is not an audit report: {e}", path.display()),
        )
    })?;
    if !v["findings"]["by_severity"].is_object() || !v["audit"].is_object() {
        return Err(CliError::new(
            EXIT_DATAERR,
            format!(
                "{} is not an audit report: it has no audit and findings.by_severity",
                path.display()
            ),
        )
        .hint("pass the .json report audit saved, not its .md or an export"));
    }
    Ok(v)
}

/// `audit diff OLD NEW`: exit 0 when nothing is new, 1 when something is.
pub fn diff(ctx: &Ctx, old: &Path, new: &Path) -> CliResult {
    let (a, b) = (read_report(old)?, read_report(new)?);
    let mut d = helm_core::auditor::diff::diff(&a, &b);
    d["older"]["report"] = Value::String(old.display().to_string());
    d["newer"]["report"] = Value::String(new.display().to_string());
    ctx.out.result(&d, || helm_core::auditor::diff::render(&d));
    Ok(u8::from(d["counts"]["new"].as_u64().unwrap_or(0) > 0))
}

/// The newest saved report of `kind` in `dir`, if any.
fn last_report(dir: &Path, kind: &str) -> Option<PathBuf> {
    let suffix = format!("-{kind}.json");
    helm_core::fsutil::json_files(dir)
        .ok()?
        .into_iter()
        .rfind(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&suffix) && !n.starts_with('.'))
        })
}

pub async fn run(
    ctx: &Ctx,
    kind: &str,
    env: &str,
    timeframe: &str,
    notify: bool,
    scope: &Scope,
    opts: &Options,
) -> CliResult {
    if opts.framework.is_some() && kind != "compliance" {
        return Err(CliError::usage("--framework goes with --type compliance"));
    }
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
        // Each region once, in the order the user gave them.
        let mut r: Vec<String> = Vec::new();
        for x in &scope.regions {
            if !r.contains(x) {
                r.push(x.clone());
            }
        }
        r
    };
    let req = AuditRequest {
        account_regions: scope.account.then_some(swept.as_slice()),
        framework: opts.framework.as_deref(),
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
    // An environment that spans accounts is audited in each, through its assumed role.
    let fleet = ctx.fan_out(&config, env).await?;
    let mut members = vec![audit::Member {
        account: None,
        world: Ok(&fleet.home),
        regions: &[],
    }];
    for a in &config.environments.get(env)?.accounts {
        if let Some(world) = fleet.account(&a.account_id) {
            members.push(audit::Member {
                account: Some(&a.account_id),
                world,
                regions: &a.regions,
            });
        }
    }
    let _progress = ctx.out.progress(format!("{kind} audit of {env}"));
    let store = issue_store(ctx, &config);
    let dir = ctx.paths.plugin_dir().join("audits").join(env);
    let previous = opts.since_last.then(|| last_report(&dir, kind)).flatten();
    match audit::audit(&members, &req, &store, &dir, &|p| ctx.show_path(p)).await? {
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
            if opts.since_last {
                data["since_last"] = match &previous {
                    Some(p) => {
                        let mut d = helm_core::auditor::diff::diff(&read_report(p)?, &data);
                        d["older"]["report"] = Value::String(ctx.show_path(p));
                        d
                    }
                    None => Value::Null,
                };
                if previous.is_none() {
                    ctx.out
                        .warn("--since-last: no earlier report of this type and environment");
                }
            }
            let saved = data["report_path"]
                .as_str()
                .and_then(|p| Path::new(p).file_name())
                .map(|n| dir.join(n));
            if let Some(format) = &opts.output {
                let version = env!("CARGO_PKG_VERSION");
                let (body, ext) = match format.as_str() {
                    "sarif" => (
                        serde_json::to_string_pretty(&export::sarif(&data, version)).expect("JSON"),
                        "sarif",
                    ),
                    "ocsf" => (
                        serde_json::to_string_pretty(&export::ocsf(&data, version, None))
                            .expect("JSON"),
                        "ocsf.json",
                    ),
                    _ => (export::csv(&data), "csv"),
                };
                if let Some(json_path) = &saved {
                    let path = json_path.with_extension(ext);
                    helm_core::fsutil::write_atomic(&path, body.as_bytes())?;
                    ctx.out
                        .warn_plain(&format!("{format} written to {}", ctx.show_path(&path)));
                }
                ctx.out.text(body.trim_end());
                return Ok(code);
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
    let fw = &data["framework"];
    if fw.is_object() {
        let c = &fw["counts"];
        s.push_str(&format!(
            "\n{}: {} ({} pass, {} fail, {} not evaluated, {} manual of {} controls)\n",
            fw["title"].as_str().unwrap_or_default(),
            fw["percentage"]
                .as_f64()
                .map(|p| format!("{p}% of evaluated controls pass"))
                .unwrap_or_else(|| "no control could be evaluated".into()),
            c["pass"],
            c["fail"],
            c["not_evaluated"],
            c["manual"],
            c["total"]
        ));
        for ctl in fw["controls"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "  {:<16} {:<13} {} ({})\n",
                ctl["id"].as_str().unwrap_or_default(),
                ctl["status"].as_str().unwrap_or_default(),
                ctl["title"].as_str().unwrap_or_default(),
                ctl["detail"].as_str().unwrap_or_default()
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
    if data["since_last"].is_object() {
        s.push('\n');
        s.push_str(&helm_core::auditor::diff::render(&data["since_last"]));
    }
    s.push_str(&format!(
        "\nReport: {} (and .md)\n",
        data["report_path"].as_str().unwrap_or_default()
    ));
    s
}
