//! `helm-cloud audit --type cost`: Cost Explorer (cached per day, requests counted) and
//! waste among the registry's resources, as findings with severities, savings estimates
//! and an exit code a CI job can gate on. Security and compliance come next.

use super::{health::issue_store, logs::log_groups, targets};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use chrono::{Datelike, Duration, NaiveDate};
use helm_aws::health::{self, HealthOptions};
use helm_aws::{AwsClients, CostPeriod};
use helm_core::auditor::{self, Finding, Severity, cost};
use helm_core::clock::{file_stamp, rfc3339};
use helm_core::config::duration;
use helm_core::fsutil;
use helm_core::issues::{self, Detection};
use helm_core::monitor::StatusObs;
use helm_core::resource::ResourceKind;
use serde_json::{Value, json};

/// Cost Explorer answers cached for the day they were asked (each request is charged).
struct CeCache {
    dir: std::path::PathBuf,
    requests: u32,
    hits: u32,
}

impl CeCache {
    fn key(&self, start: &str, end: &str, daily: bool, scope: &str) -> std::path::PathBuf {
        let clean = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        };
        self.dir.join(format!(
            "{}-{start}-{end}-{}.json",
            clean(scope),
            if daily { "daily" } else { "monthly" }
        ))
    }

    async fn get(
        &mut self,
        clients: &AwsClients,
        scope: &str,
        start: &str,
        end: &str,
        daily: bool,
    ) -> CliResult<Vec<CostPeriod>> {
        let path = self.key(start, end, daily, scope);
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&text)
        {
            self.hits += 1;
            return Ok(rows
                .iter()
                .map(|r| CostPeriod {
                    start: r["start"].as_str().unwrap_or_default().to_string(),
                    by_service: r["by_service"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|p| {
                                    (
                                        p[0].as_str().unwrap_or_default().to_string(),
                                        p[1].as_f64().unwrap_or(0.0),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect());
        }
        let (periods, n) = clients.cost_and_usage(start, end, daily).await?;
        self.requests += n;
        let doc: Vec<Value> = periods.iter().map(|p| json!({"start": p.start, "by_service": p.by_service.iter().map(|(s, v)| json!([s, v])).collect::<Vec<_>>()})).collect();
        fsutil::write_atomic(&path, serde_json::to_string(&doc).expect("JSON").as_bytes())?;
        Ok(periods)
    }
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub async fn run(ctx: &Ctx, kind: &str, env: &str, timeframe: &str) -> CliResult {
    if kind != "cost" {
        return Err(CliError::usage(format!(
            "audit --type {kind} is not available in this version; --type cost is"
        ))
        .hint("security and compliance audits are planned (README status table)"));
    }
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    let span =
        duration::parse(timeframe).map_err(|e| CliError::usage(format!("--timeframe: {e}")))?;
    let now = ctx.clock.now();
    let today = now.date_naive();
    let clients = ctx.aws(&config, env).await?;
    let m = &config.monitoring;
    let budget = cost::Budget {
        spike_percent: m.number("cost.alert_on_spike_percent").unwrap_or(20.0),
        daily_usd: m.number("cost.daily_budget_usd").unwrap_or(100.0),
        monthly_usd: m.number("cost.monthly_budget_usd").unwrap_or(3000.0),
    };

    // Cost Explorer: daily by service over the longer of 14 days and the timeframe, and
    // month to date by service; cached for today.
    let scope = config
        .endpoint(&ctx.inputs)
        .map(|e| e.value)
        .unwrap_or_else(|| config.credentials(&ctx.inputs, env).value.to_string());
    let mut cache = CeCache {
        dir: ctx
            .paths
            .plugin_dir()
            .join("audits/.cache/ce")
            .join(today.to_string()),
        requests: 0,
        hits: 0,
    };
    let days = ((span.as_secs() / 86_400) as i64).max(14);
    let daily_start = today - Duration::days(days);
    let daily_periods = cache
        .get(
            &clients,
            &scope,
            &daily_start.to_string(),
            &today.to_string(),
            true,
        )
        .await?;
    let mut daily = cost::Daily::new();
    for p in &daily_periods {
        if let Some(d) = day(&p.start) {
            let e = daily.entry(d).or_default();
            for (s, v) in &p.by_service {
                *e.entry(s.clone()).or_default() += v;
            }
        }
    }
    let last = today - Duration::days(1);
    let month_start = last.with_day(1).expect("day 1");
    let mtd_periods = if month_start < today {
        cache
            .get(
                &clients,
                &scope,
                &month_start.to_string(),
                &today.to_string(),
                false,
            )
            .await?
    } else {
        Vec::new()
    };
    let mut mtd_by_service: Vec<(String, f64)> = Vec::new();
    for p in &mtd_periods {
        for (s, v) in &p.by_service {
            match mtd_by_service.iter_mut().find(|(x, _)| x == s) {
                Some(e) => e.1 += v,
                None => mtd_by_service.push((s.clone(), *v)),
            }
        }
    }
    mtd_by_service.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mtd: f64 = mtd_by_service.iter().map(|(_, v)| v).sum();
    let (mut findings, figures) = cost::budget_findings(&daily, mtd, today, budget);

    // Waste among the registry's resources, over 14 days of CloudWatch.
    let (tgts, _) = targets::targets(ctx, &config, &view, None)?;
    let waste_days = 14;
    let (start, end) = (now - Duration::days(waste_days), now);
    if !tgts.is_empty() {
        let opts = HealthOptions {
            environment: env.into(),
            start,
            end,
            series_period_secs: health::series_period_for((end - start).num_seconds()),
            status: true,
            metrics: true,
            alarms: false,
        };
        let observations = health::observe(&clients, &tgts, &opts).await;
        let max_retention = m.number("cloudwatch.log_retention_days").unwrap_or(30.0) as i64;
        let mut classes: std::collections::HashMap<String, String> =
            std::collections::HashMap::new();
        for (t, o) in tgts.iter().zip(&observations) {
            let v = |k: &str| o.metrics.get(k).and_then(|x| x.window);
            let id = &t.resource.id;
            let finding = match t.kind {
                ResourceKind::Lambda if o.metrics_error.is_none() => {
                    cost::idle_lambda(id, v("invocations").unwrap_or(0.0), waste_days)
                }
                ResourceKind::Rds => {
                    if classes.is_empty() {
                        classes = clients
                            .rds_instance_classes(&t.region)
                            .await
                            .unwrap_or_default();
                    }
                    let class = classes.get(&t.resource.name).cloned().unwrap_or_default();
                    cost::idle_rds(
                        id,
                        &class,
                        v("cpu_avg_percent"),
                        v("connections_max").unwrap_or(0.0),
                        waste_days,
                    )
                }
                ResourceKind::Ecs => {
                    let running = match &o.status {
                        StatusObs::Ecs { running, .. } => *running,
                        _ => 0,
                    };
                    cost::oversized_ecs(id, v("cpu_avg_percent"), running, waste_days)
                }
                _ => None,
            };
            findings.extend(finding);
            if matches!(t.kind, ResourceKind::Lambda | ResourceKind::Ecs)
                || t.resource.log_group.is_some()
            {
                for g in log_groups(&clients, &t.resource, &t.region)
                    .await
                    .unwrap_or_default()
                {
                    for info in clients
                        .log_groups(&t.region, &g)
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|i| i.name == g)
                    {
                        findings.extend(cost::log_retention(
                            id,
                            &info.name,
                            info.retention_days,
                            info.stored_bytes,
                            max_retention,
                        ));
                    }
                }
            }
        }
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(
            b.monthly_savings_usd
                .unwrap_or(0.0)
                .total_cmp(&a.monthly_savings_usd.unwrap_or(0.0)),
        )
    });

    let savings: f64 = findings.iter().filter_map(|f| f.monthly_savings_usd).sum();
    let metrics = json!({
        "last_complete_day": figures.last_day.to_string(),
        "last_day_usd": round2(figures.last_day_usd),
        "previous_7_day_mean_usd": round2(figures.previous_7_day_mean_usd),
        "month_to_date_usd": round2(figures.month_to_date_usd),
        "month_to_date_by_service": mtd_by_service.iter().map(|(s, v)| json!({"service": s, "usd": round2(*v)})).collect::<Vec<_>>(),
        "budget_pace_usd": round2(figures.pace_usd),
        "forecast_month_end_usd": round2(figures.forecast_usd),
        "daily_budget_usd": budget.daily_usd,
        "monthly_budget_usd": budget.monthly_usd,
        "timeframe_total_usd": round2(daily.iter().filter(|(d, _)| **d >= today - Duration::days((span.as_secs() / 86_400) as i64)).map(|(_, s)| s.values().sum::<f64>()).sum()),
        "estimated_monthly_savings_usd": round2(savings),
        "cost_explorer_requests": cache.requests,
        "cost_explorer_cached_answers": cache.hits,
        "savings_are_estimates": "us-east-1 on-demand list prices of November 2026 (see helm-core auditor::cost::prices)",
    });
    let recommendations: Vec<String> = findings
        .iter()
        .take(10)
        .map(|f| format!("{} ({}): {}", f.title, f.resource, f.recommendation))
        .collect();
    let stamp = rfc3339(now);
    let mut data = auditor::audit_data(
        "cost",
        env,
        &stamp,
        timeframe,
        &findings,
        metrics,
        &recommendations,
    );

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
    let outcome =
        issue_store(ctx, &config).sync(env, "audit", &detections, &["account".to_string()], now)?;
    data["issues"] = json!(
        outcome
            .issues
            .iter()
            .map(|(fp, id, opened)| json!({"fingerprint": fp, "issue_id": id, "opened": opened}))
            .collect::<Vec<_>>()
    );

    let dir = ctx.paths.plugin_dir().join("audits").join(env);
    let base = dir.join(format!("{}-cost", file_stamp(now)));
    let json_path = base.with_extension("json");
    data["report_path"] = json!(ctx.show_path(&json_path));
    fsutil::write_atomic(
        &json_path,
        (serde_json::to_string_pretty(&data).expect("JSON") + "\n").as_bytes(),
    )?;
    fsutil::write_atomic(
        &base.with_extension("md"),
        auditor::markdown(&data).as_bytes(),
    )?;
    let code = data["summary"]["exit_code"].as_u64().unwrap_or(0) as u8;
    ctx.out.result(&data, || render(&data, &findings));
    Ok(code)
}

fn round2(v: f64) -> f64 {
    // + 0.0 turns a -0.0 into 0.0.
    (v * 100.0).round() / 100.0 + 0.0
}

fn render(data: &Value, findings: &[Finding]) -> String {
    let m = &data["metrics"];
    let mut s = format!(
        "Cost audit of {}: {}\n\nlast complete day {} ${} (7-day mean ${}) · month to date ${} (pace ${}, forecast ${}, budget ${})\n",
        data["audit"]["environment"].as_str().unwrap_or_default(),
        data["summary"]["overall_status"]
            .as_str()
            .unwrap_or_default()
            .to_uppercase(),
        m["last_complete_day"].as_str().unwrap_or_default(),
        m["last_day_usd"],
        m["previous_7_day_mean_usd"],
        m["month_to_date_usd"],
        m["budget_pace_usd"],
        m["forecast_month_end_usd"],
        m["monthly_budget_usd"]
    );
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
        "\nEstimated savings: ${}/month. Cost Explorer requests: {} ({} answered from today's cache).\nReport: {} (and .md)\n",
        m["estimated_monthly_savings_usd"],
        m["cost_explorer_requests"],
        m["cost_explorer_cached_answers"],
        data["report_path"].as_str().unwrap_or_default()
    ));
    s
}
