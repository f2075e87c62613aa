//! Central Helm: `issues`, `dashboard`, `status`, `escalate`.

use super::health::{self, issue_store};
use crate::cli::Format;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use helm_core::central::{
    self, DomainMonitors, DomainRow, Ranked, not_checked, overall, plugin_domains, short_age,
    spoken_duration, summary,
};
use helm_core::clock::{self, rfc3339};
use helm_core::config::Config;
use helm_core::fsutil;
use helm_core::issues::{Issue, IssueStatus, Severity};
use helm_core::monitor::HealthStatus;
use serde_json::{Value, json};
use std::path::PathBuf;

fn glyph(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
    }
}

fn action_command(i: &Issue) -> String {
    match i.status {
        IssueStatus::Escalated => format!(
            "escalated as {}",
            i.work_item_id.as_deref().unwrap_or("a work item")
        ),
        _ => format!(
            "helm-cloud investigate --issue {} --env {}",
            i.id, i.environment
        ),
    }
}

fn issue_json(r: &Ranked) -> Value {
    let mut v = serde_json::to_value(&r.issue).expect("issues serialise");
    v["priority_score"] = json!((r.score * 100.0).round() / 100.0);
    v["age_hours"] = json!((r.age_hours * 100.0).round() / 100.0);
    // The plugin's helm-dashboard fields.
    v["age_minutes"] = json!((r.age_hours * 60.0).round() as i64);
    v["command"] = json!(action_command(&r.issue));
    v
}

/// Filters of `issues`.
pub struct IssueFilter<'a> {
    pub severities: Vec<Severity>,
    pub domain: Option<&'a str>,
    pub env: Option<&'a str>,
    pub top: Option<usize>,
}

/// Issue files that could not be read are skipped with a warning naming each (the plugin
/// carries on and shows what it can); the count goes into the JSON.
fn warn_unreadable(ctx: &Ctx, store: &helm_core::issues::IssueStore) -> usize {
    let skipped = store.take_unreadable();
    for w in &skipped {
        ctx.out.warn(w);
    }
    skipped.len()
}

fn ranked(ctx: &Ctx, config: &Config, f: &IssueFilter) -> CliResult<(Vec<Ranked>, usize)> {
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let store = issue_store(ctx, config);
    let all = store.active()?;
    let skipped = warn_unreadable(ctx, &store);
    let issues: Vec<Issue> = all
        .into_iter()
        .filter(|i| f.severities.is_empty() || f.severities.contains(&i.severity))
        .filter(|i| f.domain.is_none_or(|d| i.domain == d))
        .filter(|i| f.env.is_none_or(|e| i.environment == e))
        .collect();
    let mut r = central::rank(issues, &monitors, ctx.clock.now());
    if let Some(n) = f.top {
        r.truncate(n);
    }
    Ok((r, skipped))
}

pub fn list(ctx: &Ctx, f: IssueFilter) -> CliResult {
    let config = ctx.config()?;
    if let Some(e) = f.env {
        ctx.check_env(&config, e)?;
    }
    let (r, skipped) = ranked(ctx, &config, &f)?;
    let mut json = json!({"issues": r.iter().map(issue_json).collect::<Vec<_>>()});
    if skipped > 0 {
        json["skipped_issue_files"] = json!(skipped);
    }
    ctx.out.result(&json, || {
        if r.is_empty() {
            return "No active issues.".into();
        }
        let mut s = format!("{} active issue{}, by priority\n\n", r.len(), if r.len() == 1 { "" } else { "s" });
        for x in &r {
            let i = &x.issue;
            s.push_str(&format!(
                "{} [{}/{}] {}\n   {} · score {:.1} · SLO breach: {} · age {} · detected {}\n   → {}\n\n",
                glyph(i.severity),
                i.domain,
                i.environment,
                i.title,
                i.id,
                x.score,
                if i.slo_breach { "yes" } else { "no" },
                short_age(x.age_hours),
                i.detected_at,
                action_command(i)
            ));
        }
        s
    });
    Ok(0)
}

pub fn show(ctx: &Ctx, id: &str) -> CliResult {
    helm_core::issues::check_id(id)?;
    let config = ctx.config()?;
    let issue = issue_store(ctx, &config).get(id)?.ok_or_else(|| {
        CliError::usage(format!("no issue {id}")).hint("`helm-cloud issues` lists the active ones")
    })?;
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let r = central::rank(vec![issue], &monitors, ctx.clock.now()).remove(0);
    let json = issue_json(&r);
    ctx.out.result(&json, || {
        let i = &r.issue;
        let mut s = format!(
            "{} {} [{}/{}] {}\n{}\n\nstatus {:?} · severity {} · score {:.1} · SLO breach {} · occurrences {}\ndetected {} · last seen {} · resources {}\n",
            glyph(i.severity),
            i.id,
            i.domain,
            i.environment,
            i.title,
            i.description,
            i.status,
            i.severity.as_str(),
            r.score,
            i.slo_breach,
            i.occurrences,
            i.detected_at,
            i.last_seen_at.as_deref().unwrap_or("-"),
            i.affected_resources.join(", ")
        );
        if let Some(w) = &i.work_item_id {
            s.push_str(&format!("work item {w}\n"));
        }
        s.push_str("\nHistory:\n");
        for h in &i.history {
            s.push_str(&format!("  {} {}{}\n", h.at, h.event, h.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()));
        }
        s
    });
    Ok(0)
}

pub fn resolve(ctx: &Ctx, id: &str, note: Option<&str>) -> CliResult {
    helm_core::issues::check_id(id)?;
    let config = ctx.config()?;
    let done = issue_store(ctx, &config)
        .resolve(id, note, ctx.clock.now())?
        .ok_or_else(|| CliError::usage(format!("no active issue {id}")))?;
    let json = serde_json::to_value(&done).expect("issues serialise");
    ctx.out
        .result(&json, || format!("resolved {}: {}", done.id, done.title));
    Ok(0)
}

/// The latest health report of `env`, and its path.
fn latest_report(ctx: &Ctx, env: &str) -> Option<(PathBuf, Value)> {
    let dir = ctx.paths.health_reports(env);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("-health-check.json"))
        .collect();
    names.sort();
    let p = names.pop()?;
    let v = serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?;
    Some((p, v))
}

/// Run an external domain's health command and read its report (our JSON format). The
/// command runs only when the user trusted this exact content of domain-monitors.json
/// (`helm-cloud domains trust`, or HELM_TRUST_DOMAIN_COMMANDS=1), without a shell (its words
/// split as a POSIX shell would, no expansion), and is stopped after the timeout.
fn external_report(ctx: &Ctx, config: &Config, command: &str, env: &str) -> Result<Value, String> {
    let path = ctx.paths.domain_monitors();
    let shown = ctx.show_path(&path);
    let content = std::fs::read(&path).unwrap_or_default();
    let trusted = std::env::var(helm_core::trust::TRUST_ALL_ENV).is_ok_and(|v| v == "1")
        || helm_core::trust::TrustStore::in_user_config()
            .is_some_and(|t| t.is_trusted(&path, &content).unwrap_or(false));
    if !trusted {
        return Err(format!(
            "not run: the commands of {shown} are not trusted; read them, then run `helm-cloud domains trust`"
        ));
    }
    let mut argv = shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("{command:?} cannot be split into arguments"))?;
    argv.extend(["--env".to_string(), env.to_string()]);
    let timeout = config.monitoring.settings().domain_command_timeout;
    let mut child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    // Read stdout beside the wait, so a large report cannot fill the pipe and stall both.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} timed out after {} and was stopped",
                    argv[0],
                    helm_core::config::duration::format(timeout)
                ));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(format!("{}: {e}", argv[0])),
        }
    }
    let out = reader.join().unwrap_or_default();
    serde_json::from_slice::<Value>(&out)
        .map_err(|e| format!("{} did not print a JSON health report ({e})", argv[0]))
}

/// `helm-cloud domains trust`: allow the commands of this domain-monitors.json content.
pub fn trust(ctx: &Ctx, allow: bool) -> CliResult {
    let path = ctx.paths.domain_monitors();
    let shown = ctx.show_path(&path);
    let store = helm_core::trust::TrustStore::in_user_config()
        .ok_or_else(|| CliError::usage("no user config directory (set HOME or XDG_CONFIG_HOME)"))?;
    if !allow {
        let was = store.untrust(&path)?;
        let json = json!({"file": shown, "trusted": false, "was_trusted": was});
        ctx.out.result(&json, || {
            format!(
                "{shown}: commands no longer trusted{}",
                if was { "" } else { " (they were not)" }
            )
        });
        return Ok(0);
    }
    let content = std::fs::read(&path).map_err(|e| {
        CliError::usage(format!("{shown}: {e}")).hint("there is nothing to trust without the file")
    })?;
    let monitors = DomainMonitors::load(&path)?;
    let commands: Vec<String> = monitors
        .monitors
        .iter()
        .filter_map(|m| {
            monitors
                .health_command(&m.domain)
                .map(|c| format!("{}: {c}", m.domain))
        })
        .collect();
    let digest = store.trust(&path, &content)?;
    let json = json!({"file": shown, "trusted": true, "sha256": digest, "commands": commands, "store": store.path.display().to_string()});
    ctx.out.result(&json, || {
        let mut s = format!("trusted {shown} (sha256 {digest}); it runs:\n");
        for c in &commands {
            s.push_str(&format!("  {c}\n"));
        }
        if commands.is_empty() {
            s.push_str("  (no command)\n");
        }
        s.push_str("A change to the file makes it untrusted again.");
        s
    });
    Ok(0)
}

async fn rows(
    ctx: &Ctx,
    config: &Config,
    monitors: &DomainMonitors,
    env_filter: Option<&str>,
    domain_filter: Option<&str>,
    refresh: bool,
) -> CliResult<Vec<DomainRow>> {
    let settings = config.monitoring.settings();
    let own_domain = settings.domain.clone();
    let interval = settings.health_check_interval;
    let now = ctx.clock.now();
    let envs: Vec<String> = match env_filter {
        Some(e) => vec![e.to_string()],
        None => config
            .environments
            .names()
            .into_iter()
            .map(str::to_string)
            .collect(),
    };
    let mut out = Vec::new();
    for m in monitors
        .monitors
        .iter()
        .filter(|m| domain_filter.is_none_or(|d| m.domain == d))
    {
        for env in envs
            .iter()
            .filter(|e| m.environments.is_empty() || m.environments.contains(e))
        {
            let base = DomainRow {
                domain: m.domain.clone(),
                environment: env.clone(),
                health: None,
                state: m.status.clone(),
                age_hours: None,
                stale: false,
                counts: Value::Null,
                reason: None,
                checked_at: None,
            };
            if m.status != "active" {
                out.push(base);
                continue;
            }
            let report = if m.domain == own_domain {
                if refresh {
                    health::run_and_save(ctx, config, env).await?;
                }
                latest_report(ctx, env).map(|(_, v)| v)
            } else {
                match monitors.health_command(&m.domain) {
                    Some(cmd) => match external_report(ctx, config, &cmd, env) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            ctx.out.warn(&format!("domain {}: {e}", m.domain));
                            out.push(DomainRow {
                                state: "unknown".into(),
                                reason: Some(e),
                                ..base
                            });
                            continue;
                        }
                    },
                    None => None,
                }
            };
            let Some(report) = report else {
                out.push(DomainRow {
                    state: "no report".into(),
                    ..base
                });
                continue;
            };
            let at = report["timestamp"].as_str().and_then(clock::parse_rfc3339);
            let age = at.map(|t| ((now - t).num_seconds().max(0) as f64) / 3600.0);
            let stale = age.is_some_and(|a| a * 3600.0 > 2.0 * interval.as_secs_f64());
            out.push(DomainRow {
                health: report["overall_health"]
                    .as_str()
                    .and_then(HealthStatus::parse),
                state: if stale {
                    "stale".into()
                } else {
                    "current".into()
                },
                age_hours: age,
                stale,
                counts: report["resources"].clone(),
                checked_at: report["timestamp"].as_str().map(str::to_string),
                ..base
            });
        }
    }
    for p in monitors
        .planned_domains
        .iter()
        .filter(|p| domain_filter.is_none_or(|d| p.domain == d))
    {
        out.push(DomainRow {
            domain: p.domain.clone(),
            environment: "-".into(),
            health: None,
            state: p.status.clone(),
            age_hours: None,
            stale: false,
            counts: Value::Null,
            reason: None,
            checked_at: None,
        });
    }
    Ok(out)
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
    let rows = rows(ctx, &config, &monitors, a.env, a.domain, a.refresh).await?;
    let overall = overall(&rows);
    // Every active issue of the view, read once: the domains count them, the top N show.
    let (mut top, skipped) = ranked(
        ctx,
        &config,
        &IssueFilter {
            severities: vec![],
            domain: a.domain,
            env: a.env,
            top: None,
        },
    )?;
    let active: Vec<Issue> = top.iter().map(|r| r.issue.clone()).collect();
    top.truncate(a.issues);
    let mut actions: Vec<String> = top
        .iter()
        .take(3)
        .map(|r| format!("{}: {}", r.issue.id, action_command(&r.issue)))
        .collect();
    for r in rows.iter().filter(|r| r.stale || r.state == "no report") {
        actions.push(format!(
            "Refresh {}/{}: helm-cloud dashboard --refresh --env {}",
            r.domain, r.environment, r.environment
        ));
    }
    let now = ctx.clock.now();
    // Issues resolved in the last day, so a fix shows on the board.
    let resolved: Vec<Issue> = issue_store(ctx, &config)
        .resolved()?
        .into_iter()
        .filter(|i| {
            a.env.is_none_or(|e| i.environment == e) && a.domain.is_none_or(|d| i.domain == d)
        })
        .filter(|i| {
            i.resolved_at
                .as_deref()
                .and_then(clock::parse_rfc3339)
                .is_some_and(|t| now - t <= chrono::Duration::hours(24))
        })
        .collect();
    let unchecked = not_checked(&rows, a.domain, a.env);
    let mut json = json!({
        "dashboard": {
            "recently_resolved": resolved.iter().map(|i| json!({"id": i.id, "title": i.title, "environment": i.environment, "resolved_at": i.resolved_at})).collect::<Vec<_>>(),
            "timestamp": rfc3339(now),
            "overall_health": overall,
            "generated_at": rfc3339(now),
            "summary": summary(&rows),
            "domains": plugin_domains(&rows, &monitors, &active),
            "domain_environments": rows.iter().map(|r| {
                let mut d = json!({
                    "domain": r.domain, "environment": r.environment, "status": r.state,
                    "health": r.health, "report_age_hours": r.age_hours.map(|a| (a * 100.0).round() / 100.0),
                    "stale": r.stale, "resources": r.counts,
                });
                if let Some(why) = &r.reason {
                    d["reason"] = json!(why);
                }
                d
            }).collect::<Vec<_>>(),
            "top_issues": top.iter().map(issue_json).collect::<Vec<_>>(),
            "recommended_actions": actions,
        }
    });
    if let Some(n) = &unchecked {
        json["dashboard"]["not_checked"] = json!(n);
    }
    if skipped > 0 {
        json["dashboard"]["skipped_issue_files"] = json!(skipped);
    }
    let note = unchecked
        .map(|n| format!("\nNot checked: {n}"))
        .unwrap_or_default();
    match ctx.out.format {
        Format::Json => ctx.out.result(&json, String::new),
        Format::Voice => ctx.out.text(&format!(
            "{}{note}",
            voice(overall, &rows, &top, &actions, &resolved)
        )),
        Format::Text => ctx.out.text(&format!(
            "{}{note}",
            boxed(overall, &rows, &top, &actions, &resolved, now)
        )),
    }
    Ok(overall.exit_code())
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
        // The severity glyphs take two columns; what does not fit is cut with an ellipsis.
        let cols = |c: char| {
            if matches!(c, '🔴' | '🟠' | '🟡' | '🔵') {
                2
            } else {
                1
            }
        };
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
    let rows = rows(ctx, &config, &monitors, env, domain, false).await?;
    let overall = overall(&rows);
    let unchecked = not_checked(&rows, domain, env);
    let mut json = json!({"overall_health": overall, "domains": rows.iter().map(|r| json!({
        "domain": r.domain, "environment": r.environment, "health": r.health, "status": r.state,
        "report_age_hours": r.age_hours.map(|a| (a * 100.0).round() / 100.0), "reason": r.reason})).collect::<Vec<_>>()});
    if let Some(n) = &unchecked {
        json["not_checked"] = json!(n);
    }
    ctx.out.result(&json, || {
        let mut lines: Vec<String> = unchecked.iter().map(|n| format!("UNKNOWN: {n}")).collect();
        lines.extend(rows.iter().map(|r| {
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
    Ok(overall.exit_code())
}

/// The marker every work item's body carries, so a retry finds the item it already made.
fn work_item_marker(issue: &Issue) -> String {
    format!(
        "<!-- helm-cloud issue {} {} -->",
        issue.environment, issue.id
    )
}

/// GitHub's API base: GITHUB_API_URL from the process environment (GitHub Actions sets it;
/// GitHub Enterprise users export it), else the public API. Never a URL from a project
/// file: the token goes only where the user's own environment says.
fn github_api(ctx: &Ctx, config: &Config) -> String {
    let from_file = Some(config.monitoring.settings().escalation.github_api_url)
        .filter(|u| u.trim_end_matches('/') != "https://api.github.com");
    if let Some(u) = from_file {
        ctx.out.warn(&format!(
            "[escalation] github_api_url = {u:?} is ignored: a token is sent only to api.github.com or to GITHUB_API_URL from the environment"
        ));
    }
    std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_string())
        .trim_end_matches('/')
        .to_string()
}

fn github_error(repo: &str, what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(
        crate::error::EXIT_UNAVAILABLE,
        format!("{what} in {repo} failed: {e}"),
    )
    .hint("check [escalation] github_repo, GITHUB_TOKEN and (GitHub Enterprise) GITHUB_API_URL")
}

/// A work item already carrying `marker` among the repository's 100 newest issues: the
/// trace of an escalation whose answer was lost, or that crashed before recording it.
fn find_work_item(
    api: &str,
    repo: &str,
    token: &str,
    marker: &str,
) -> CliResult<Option<(String, Option<String>)>> {
    let url =
        format!("{api}/repos/{repo}/issues?state=all&per_page=100&sort=created&direction=desc");
    let mut resp = ureq::get(&url)
        .header("Accept", "application/vnd.github+json")
        .header("Authorization", &format!("Bearer {token}"))
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header("User-Agent", "helm-cloud")
        .call()
        .map_err(|e| github_error(repo, "listing issues", e))?;
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| github_error(repo, "reading the issue list", e))?;
    let list: Value =
        serde_json::from_str(&text).map_err(|e| github_error(repo, "reading the issue list", e))?;
    Ok(list.as_array().into_iter().flatten().find_map(|i| {
        i["body"]
            .as_str()
            .is_some_and(|b| b.contains(marker))
            .then(|| {
                (
                    format!("{repo}#{}", i["number"]),
                    i["html_url"].as_str().map(str::to_string),
                )
            })
    }))
}

pub fn escalate(ctx: &Ctx, id: &str, priority: Option<&str>) -> CliResult {
    helm_core::issues::check_id(id)?;
    let config = ctx.config()?;
    let store = issue_store(ctx, &config);
    // Decided under the issue's escalation lock: two runs at once make one work item.
    let _lock = store.escalation_lock(id)?;
    let issue = store
        .get(id)?
        .ok_or_else(|| CliError::usage(format!("no issue {id}")))?;
    if issue.work_item_id.is_some() {
        let json = json!({"issue_id": issue.id, "environment": issue.environment, "work_item_id": issue.work_item_id, "work_item_url": issue.extra.get("work_item_url"), "created": false});
        ctx.out.result(&json, || {
            format!(
                "{} is already escalated as {} (no second work item)",
                issue.id,
                issue.work_item_id.as_deref().unwrap_or("-")
            )
        });
        return Ok(0);
    }
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let ranked = central::rank(vec![issue.clone()], &monitors, ctx.clock.now()).remove(0);
    let investigation = issue
        .history
        .iter()
        .rev()
        .find(|h| h.event == "investigated")
        .and_then(|h| h.detail.clone());
    let recs = vec![
        format!(
            "helm-cloud investigate --issue {} --env {}",
            issue.id, issue.environment
        ),
        format!(
            "helm-cloud remediate --issue {} --env {} --dry-run",
            issue.id, issue.environment
        ),
    ];
    let (title, body) = central::work_item(&ranked, investigation.as_deref(), &recs);
    let marker = work_item_marker(&issue);
    let body = format!("{body}\n\n{marker}\n");
    let priority = priority.unwrap_or(match issue.severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    });
    let repo = config.monitoring.settings().escalation.github_repo;
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let mut created = true;
    let (work_item_id, url) = match (repo, token) {
        (Some(repo), Some(token)) => {
            let api = github_api(ctx, &config);
            if let Some(found) = find_work_item(&api, &repo, &token, &marker)? {
                created = false;
                found
            } else {
                let mut labels = vec![
                    format!("domain:{}", issue.domain),
                    format!("severity:{}", issue.severity.as_str().to_lowercase()),
                    format!("priority:{priority}"),
                ];
                if issue.slo_breach {
                    labels.push("slo-breach".into());
                }
                let endpoint = format!("{api}/repos/{repo}/issues");
                let payload = json!({"title": title, "body": body, "labels": labels});
                let mut resp = ureq::post(&endpoint)
                    .header("Accept", "application/vnd.github+json")
                    .header("Authorization", &format!("Bearer {token}"))
                    .header("X-GitHub-Api-Version", "2022-11-28")
                    .header("User-Agent", "helm-cloud")
                    .header("Content-Type", "application/json")
                    .send(payload.to_string())
                    .map_err(|e| github_error(&repo, "creating the GitHub issue", e))?;
                let text = resp
                    .body_mut()
                    .read_to_string()
                    .map_err(|e| github_error(&repo, "reading GitHub's answer", e))?;
                let v: Value = serde_json::from_str(&text)
                    .map_err(|e| github_error(&repo, "reading GitHub's answer", e))?;
                (
                    format!("{repo}#{}", v["number"]),
                    v["html_url"].as_str().map(str::to_string),
                )
            }
        }
        _ => {
            let dir = ctx.paths.fractary().join("helm/work-items");
            let path = dir.join(format!("{}.md", issue.id));
            fsutil::write_atomic(&path, format!("# {title}\n\n{body}").as_bytes())?;
            ctx.out.warn("wrote the work item as Markdown; to create GitHub issues set [escalation] github_repo = \"owner/name\" in monitoring.toml and export GITHUB_TOKEN");
            (
                format!("file:{}", ctx.show_path(&path)),
                Some(ctx.show_path(&path)),
            )
        }
    };
    mark_escalated(ctx, &config, &issue.id, &work_item_id, url.as_deref())?;
    let json = json!({"issue_id": issue.id, "environment": issue.environment, "work_item_id": work_item_id, "work_item_url": url, "priority": priority, "created": created, "escalation_status": "escalated"});
    ctx.out.result(&json, || {
        format!(
            "{} {} as {}{}",
            if created {
                "escalated"
            } else {
                "found the work item of"
            },
            issue.id,
            work_item_id,
            url.as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        )
    });
    Ok(0)
}

fn mark_escalated(
    ctx: &Ctx,
    config: &Config,
    id: &str,
    work_item: &str,
    url: Option<&str>,
) -> CliResult<()> {
    let now = rfc3339(ctx.clock.now());
    issue_store(ctx, config).update_active(id, |issue| {
        issue.status = IssueStatus::Escalated;
        // The plugin's name for it, beside ours.
        issue
            .extra
            .insert("escalation_status".into(), json!("escalated"));
        issue.work_item_id = Some(work_item.to_string());
        issue.escalated_at = Some(now.clone());
        if let Some(u) = url {
            issue.extra.insert("work_item_url".into(), json!(u));
        }
        issue.history.push(helm_core::issues::HistoryEntry {
            at: now.clone(),
            event: "escalated".into(),
            detail: Some(work_item.to_string()),
        });
    })?;
    Ok(())
}
