//! `helm-cloud slo`: each objective's error budget, burn rates and alert (helm-core's
//! `slo::report`), rendered as a table with the budget's sparkline, or as the `slo_report`
//! document; firing alerts open issues, and alerts that stopped resolve theirs.

use super::{health::issue_store, targets};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::table;
use helm_core::config::duration;
use helm_core::monitor::{self, Thresholds};
use helm_core::slo::budget::BudgetStatus;
use helm_core::slo::report::{self, BucketCache, SloReport, SloRequest};

pub async fn run(ctx: &Ctx, env: &str, service: Option<&str>, notify: bool) -> CliResult {
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    let (targets, _) = targets::targets(ctx, &config, &view, service)?;
    let settings = config.monitoring.settings();
    let thresholds = |t: &monitor::check::Target| {
        Thresholds::for_resource(&config.monitoring, &t.resource, t.kind)
    };
    let req = SloRequest {
        environment: env,
        now: ctx.clock.now(),
        settings: &settings.slo,
        thresholds: &thresholds,
    };
    let clients = ctx.fan_out(&config, env).await?;
    let _progress = ctx
        .out
        .progress(format!("SLOs of {} resource(s) in {env}", targets.len()));
    let mut r = report::evaluate(&clients, &targets, &req, &mut BucketCache::default()).await?;
    report::sync_issues(&mut r, &issue_store(ctx, &config))?;
    let mut json = r.to_json();
    if let Some(n) =
        super::notify::after_issues(ctx, &config, &[env.to_string()], Default::default(), notify)
    {
        json["notifications"] = n;
    }
    ctx.out.result(&json, || render(&r));
    Ok(r.exit_code())
}

/// The budget left through the period on a fixed scale: a full block is all of it, the
/// lowest none (overspent reads as none too).
fn budget_line(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values
        .iter()
        .map(|v| BARS[((v.clamp(0.0, 100.0) / 100.0) * 7.0).round() as usize])
        .collect()
}

fn pct(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{:.2}%", x))
        .unwrap_or_else(|| "-".into())
}

fn render(r: &SloReport) -> String {
    let mut s = format!(
        "SLOs of {} over {} (to {})\n\n",
        r.environment,
        r.period,
        helm_core::clock::rfc3339(r.now)
    );
    let rows: Vec<Vec<String>> = r
        .objectives
        .iter()
        .map(|o| {
            let burn = |w: &str| {
                o.burn_rates
                    .iter()
                    .find(|(k, _)| *k == w)
                    .and_then(|(_, v)| *v)
                    .map(|v| format!("{v:.1}"))
                    .unwrap_or_else(|| "-".into())
            };
            let target = match o.threshold_ms {
                Some(t) => format!("{}% ≤ {t}ms", o.target_percent),
                None => format!("{}%", o.target_percent),
            };
            vec![
                o.alert.as_str().to_uppercase(),
                o.resource.clone(),
                o.objective.to_string(),
                target,
                pct(o.budget.attainment_percent),
                serde_json::to_value(o.budget.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                if o.budget.status == BudgetStatus::InsufficientData {
                    "-".into()
                } else {
                    pct(Some(o.budget.remaining_percent))
                },
                format!("{} / {} / {}", burn("5m"), burn("1h"), burn("6h")),
                if o.budget.status == BudgetStatus::InsufficientData {
                    "-".into()
                } else {
                    budget_line(&o.remaining_line)
                },
            ]
        })
        .collect();
    if rows.is_empty() {
        s.push_str("No objective could be evaluated.\n");
    } else {
        s.push_str(&table::render(
            &[
                "ALERT",
                "RESOURCE",
                "OBJECTIVE",
                "TARGET",
                "ATTAINED",
                "BUDGET",
                "LEFT",
                "BURN 5m/1h/6h",
                "BUDGET OVER PERIOD",
            ],
            &rows,
        ));
        s.push('\n');
    }
    for o in r.objectives.iter().filter(|o| o.fired.is_some()) {
        let p = o.fired.expect("filtered");
        let d = |secs: i64| duration::format(std::time::Duration::from_secs(secs as u64));
        s.push_str(&format!(
            "\n{} {} {}: the {} and {} windows burn at {:.1}× the budget or more",
            o.alert.as_str().to_uppercase(),
            o.resource,
            o.objective,
            d(p.long),
            d(p.short),
            p.burn
        ));
    }
    if !r.not_evaluated.is_empty() {
        s.push_str("\nNot evaluated:\n");
        for n in &r.not_evaluated {
            s.push_str(&format!("  {} {}: {}\n", n.resource, n.objective, n.reason));
        }
    }
    for i in &r.issues {
        let id = i["issue_id"].as_str().unwrap_or_default();
        if i["resolved"] == true {
            s.push_str(&format!("\nresolved {id}"));
        } else {
            let verb = if i["opened"] == true {
                "opened"
            } else {
                "updated"
            };
            s.push_str(&format!(
                "\n{verb} {id} ({})",
                i["fingerprint"].as_str().unwrap_or_default()
            ));
        }
    }
    s
}
