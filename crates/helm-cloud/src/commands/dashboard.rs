//! `helm-cloud dashboard` and `helm-cloud status`: helm-core's `central::board` use cases,
//! drawn as a box, as sentences for voice, or as JSON; and the adapter that gives the board
//! each domain's newest report.

use super::central::glyph;
use super::health;
use crate::cli::Format;
use crate::context::Ctx;
use crate::error::CliResult;
use helm_core::central::board::{self, BoardQuery};
use helm_core::central::{DomainMonitors, DomainRow, Ranked, short_age, spoken_duration};
use helm_core::clock::rfc3339;
use helm_core::config::Config;
use helm_core::issues::Issue;
use helm_core::monitor::HealthStatus;
use helm_core::ports::DomainReports;
use serde_json::Value;
use unicode_width::UnicodeWidthChar;

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
            voice(d.overall, &d.rows, d.top(), &d.actions, &d.resolved)
        )),
        Format::Text => ctx.out.text(&format!(
            "{}{note}",
            boxed(d.overall, &d.rows, d.top(), &d.actions, &d.resolved, now)
        )),
    }
    Ok(d.overall.exit_code())
}

fn boxed(
    overall: HealthStatus,
    rows: &[DomainRow],
    top: &[Ranked],
    actions: &[String],
    resolved: &[Issue],
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let width: usize = 72;
    let line = |s: &str| {
        // Columns as a terminal shows them (the severity glyphs take two); what does not
        // fit is cut with an ellipsis.
        let cols = |c: char| c.width().unwrap_or(0);
        let mut used = 0;
        let mut fitted = String::new();
        let total: usize = s.chars().map(cols).sum();
        for c in s.chars() {
            if total > width && used + cols(c) > width - 1 {
                fitted.push('…');
                used += 1;
                break;
            }
            used += cols(c);
            fitted.push(c);
        }
        format!("║ {}{} ║\n", fitted, " ".repeat(width.saturating_sub(used)))
    };
    let rule = |l: char, r: char| format!("{l}{}{r}\n", "═".repeat(width + 2));
    let mut s = rule('╔', '╗');
    s.push_str(&line(&format!(
        "HELM DASHBOARD · {} · overall {}",
        rfc3339(now),
        overall.as_str()
    )));
    s.push_str(&rule('╠', '╣'));
    s.push_str(&line("DOMAINS"));
    for r in rows {
        let health = r
            .health
            .map(|h| h.as_str().to_string())
            .unwrap_or_else(|| r.state.to_uppercase());
        let age = r
            .age_hours
            .map(|a| format!("report {} old", short_age(a)))
            .unwrap_or_default();
        let stale = if r.stale { " (STALE)" } else { "" };
        s.push_str(&line(&format!(
            "  {:<15} {:<8} {:<10} {age}{stale}",
            r.domain, r.environment, health
        )));
    }
    s.push_str(&rule('╠', '╣'));
    s.push_str(&line(&format!("TOP ISSUES ({})", top.len())));
    if top.is_empty() {
        s.push_str(&line("  none"));
    }
    for r in top {
        let t: String = r.issue.title.chars().take(40).collect();
        s.push_str(&line(&format!(
            "  {} {} [{}/{}] {} · {:.1}",
            glyph(r.issue.severity),
            r.issue.id,
            r.issue.domain,
            r.issue.environment,
            t,
            r.score
        )));
    }
    if !resolved.is_empty() {
        s.push_str(&rule('╠', '╣'));
        s.push_str(&line(&format!(
            "RESOLVED IN THE LAST 24H ({})",
            resolved.len()
        )));
        for i in resolved {
            let t: String = i.title.chars().take(44).collect();
            s.push_str(&line(&format!("  ✓ {} [{}] {}", i.id, i.environment, t)));
        }
    }
    s.push_str(&rule('╠', '╣'));
    s.push_str(&line("RECOMMENDED ACTIONS"));
    if actions.is_empty() {
        s.push_str(&line("  nothing to do"));
    }
    for a in actions {
        let t: String = a.chars().take(width - 2).collect();
        s.push_str(&line(&format!("  {t}")));
    }
    s.push_str(&rule('╚', '╝'));
    s
}

fn spoken_health(h: HealthStatus) -> &'static str {
    match h {
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unhealthy => "unhealthy",
        HealthStatus::Unknown => "unknown",
    }
}

/// Sentences for text-to-speech: no symbols, no tables, numbers and durations in words
/// a speech engine reads well.
fn voice(
    overall: HealthStatus,
    rows: &[DomainRow],
    top: &[Ranked],
    actions: &[String],
    resolved: &[Issue],
) -> String {
    let mut s = format!("Overall health is {}.", spoken_health(overall));
    for r in rows {
        let sentence = match (r.health, r.age_hours) {
            (Some(h), Some(a)) => format!(
                " The {} domain in {} is {}, as of {} ago{}.",
                r.domain,
                r.environment,
                spoken_health(h),
                spoken_duration(a),
                if r.stale {
                    ", and that report is stale"
                } else {
                    ""
                }
            ),
            _ if r.state == "planned" => format!(" The {} domain is planned.", r.domain),
            _ if r.state == "no report" => format!(
                " The {} domain in {} has no health report yet.",
                r.domain, r.environment
            ),
            _ => format!(" The {} domain is {}.", r.domain, r.state),
        };
        s.push_str(&sentence);
    }
    match top.len() {
        0 => s.push_str(" There are no open issues."),
        n => {
            s.push_str(&format!(
                " There {} {} open issue{}.",
                if n == 1 { "is" } else { "are" },
                n,
                if n == 1 { "" } else { "s" }
            ));
            for (i, r) in top.iter().enumerate() {
                s.push_str(&format!(
                    " Number {}: {} severity, {} in {}, detected {} ago.",
                    i + 1,
                    r.issue.severity.as_str().to_lowercase(),
                    r.issue.title,
                    r.issue.environment,
                    spoken_duration(r.age_hours)
                ));
            }
        }
    }
    if !resolved.is_empty() {
        s.push_str(&format!(
            " {} issue{} resolved in the last day.",
            resolved.len(),
            if resolved.len() == 1 {
                " was"
            } else {
                "s were"
            }
        ));
    }
    if !actions.is_empty() {
        s.push_str(&format!(
            " {} recommended action{}.",
            actions.len(),
            if actions.len() == 1 { "" } else { "s" }
        ));
    }
    s.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || matches!(c, '.' | ',' | '-' | '\''))
        .collect()
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
