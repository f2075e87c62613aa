//! `helm-cloud dashboard` and `helm-cloud status`: helm-core's `central::board` use cases,
//! drawn as a box, as sentences for voice, or as JSON; and the adapter that gives the board
//! each domain's newest report.

use super::health;
use crate::cli::Format;
use crate::context::Ctx;
use crate::error::CliResult;
use helm_core::central::board::{self, BoardQuery};
use helm_core::central::{DomainMonitors, short_age};
use helm_core::config::Config;
use helm_core::ports::DomainReports;
use serde_json::Value;

/// The domains' reports as this machine has them: helm-cloud's own saved reports (a fresh
/// check first on `--refresh`), and the other domains' commands.
struct Reports<'a> {
    ctx: &'a Ctx,
    config: &'a Config,
}

impl DomainReports for Reports<'_> {
    async fn own_report(&self, env: &str) -> Option<Value> {
        board::latest_report(&self.ctx.paths.health_reports(env)).map(|(_, v)| v)
    }

    async fn external_report(&self, command: &str, env: &str) -> Result<Value, String> {
        let timeout = self.config.monitoring.settings().domain_command_timeout;
        helm_services::command::run_report(command, env, timeout)
    }
}

fn query<'a>(
    ctx: &Ctx,
    config: &'a Config,
    env: Option<&str>,
    domain: Option<&'a str>,
    own: &'a str,
) -> BoardQuery<'a> {
    let settings = config.monitoring.settings();
    let path = ctx.paths.domain_monitors();
    BoardQuery {
        environments: match env {
            Some(e) => vec![e.to_string()],
            None => config
                .environments
                .names()
                .into_iter()
                .map(str::to_string)
                .collect(),
        },
        domain,
        own_domain: own,
        interval: settings.health_check_interval,
        trusted: board::commands_trusted(&path, &ctx.show_path(&path)),
    }
}

pub struct DashboardArgs<'a> {
    pub env: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub issues: usize,
    pub refresh: bool,
}

pub async fn dashboard(ctx: &Ctx, a: DashboardArgs<'_>) -> CliResult {
    let config = ctx.config()?;
    if let Some(e) = a.env {
        ctx.check_env(&config, e)?;
    }
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let own = config.monitoring.settings().domain;
    let q = query(ctx, &config, a.env, a.domain, &own);
    if a.refresh {
        for env in board::to_refresh(&monitors, &q) {
            health::run_and_save(ctx, &config, &env).await?;
        }
    }
    let store = health::issue_store(ctx, &config);
    let reports = Reports {
        ctx,
        config: &config,
    };
    let now = ctx.clock.now();
    let d = board::dashboard(&reports, &store, monitors, &q, a.env, a.issues, now).await?;
    for n in &d.notes {
        ctx.out.warn(n);
    }
    let note = d
        .not_checked
        .as_ref()
        .map(|n| format!("\nNot checked: {n}"))
        .unwrap_or_default();
    match ctx.out.format {
        Format::Json => ctx.out.result(&d.to_json(), String::new),
        Format::Voice => ctx.out.text(&format!(
            "{}{note}",
            crate::board::voice(d.overall, &d.rows, d.top(), &d.actions, &d.resolved)
        )),
        Format::Text => ctx.out.text(&format!(
            "{}{note}",
            crate::board::boxed(d.overall, &d.rows, d.top(), &d.actions, &d.resolved, now)
        )),
    }
    Ok(d.overall.exit_code())
}

pub async fn status(ctx: &Ctx, env: Option<&str>, domain: Option<&str>) -> CliResult {
    let config = ctx.config()?;
    if let Some(e) = env {
        ctx.check_env(&config, e)?;
    }
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let own = config.monitoring.settings().domain;
    let q = query(ctx, &config, env, domain, &own);
    let reports = Reports {
        ctx,
        config: &config,
    };
    let st = board::status(&reports, &monitors, &q, env, ctx.clock.now()).await?;
    for n in &st.notes {
        ctx.out.warn(n);
    }
    ctx.out.result(&st.to_json(), || {
        let mut lines: Vec<String> = st
            .not_checked
            .iter()
            .map(|n| format!("UNKNOWN: {n}"))
            .collect();
        lines.extend(st.rows.iter().map(|r| {
            format!(
                "{:<15} {:<8} {:<10}{}",
                r.domain,
                r.environment,
                r.health
                    .map(|h| h.as_str().to_string())
                    .unwrap_or_else(|| r.state.to_uppercase()),
                r.age_hours
                    .map(|a| format!(
                        " ({} old{})",
                        short_age(a),
                        if r.stale { ", stale" } else { "" }
                    ))
                    .unwrap_or_default()
            )
            .trim_end()
            .to_string()
        }));
        lines.join("\n")
    });
    Ok(st.overall.exit_code())
}
