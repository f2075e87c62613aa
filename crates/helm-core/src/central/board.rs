//! The central views as use cases: the issue list in priority order, each domain's state
//! in each environment (from its newest report, through [`DomainReports`]), the dashboard
//! and `status`. They return data and its JSON; front ends draw it.

use super::{
    DomainMonitors, DomainRow, Ranked, not_checked, overall, plugin_domains, rank, summary,
};
use crate::clock::{self, rfc3339};
use crate::error::{CaseError, Result};
use crate::issues::{Issue, IssueStatus, IssueStore, Severity};
use crate::monitor::HealthStatus;
use crate::ports::DomainReports;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The command that acts on an issue next.
pub fn action_command(i: &Issue) -> String {
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

/// An issue as `issues --format json` and the dashboard give it.
pub fn issue_json(r: &Ranked) -> Value {
    let mut v = serde_json::to_value(&r.issue).expect("issues serialise");
    v["priority_score"] = json!((r.score * 100.0).round() / 100.0);
    v["age_hours"] = json!((r.age_hours * 100.0).round() / 100.0);
    // The plugin's helm-dashboard fields.
    v["age_minutes"] = json!((r.age_hours * 60.0).round() as i64);
    v["command"] = json!(action_command(&r.issue));
    v
}

/// Which issues `issues` and the dashboard show.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter<'a> {
    pub severities: Vec<Severity>,
    pub domain: Option<&'a str>,
    pub env: Option<&'a str>,
    pub top: Option<usize>,
}

/// The active issues `f` selects, in priority order at `now`; and the issue files that
/// could not be read (skipped, each named: the plugin carries on and shows what it can).
pub fn ranked(
    store: &IssueStore,
    monitors: &DomainMonitors,
    f: &IssueFilter,
    now: DateTime<Utc>,
) -> Result<(Vec<Ranked>, Vec<String>)> {
    let all = store.active()?;
    let skipped = store.take_unreadable();
    let issues: Vec<Issue> = all
        .into_iter()
        .filter(|i| f.severities.is_empty() || f.severities.contains(&i.severity))
        .filter(|i| f.domain.is_none_or(|d| i.domain == d))
        .filter(|i| f.env.is_none_or(|e| i.environment == e))
        .collect();
    let mut r = rank(issues, monitors, now);
    if let Some(n) = f.top {
        r.truncate(n);
    }
    Ok((r, skipped))
}

/// The newest `*-health-check.json` of a folder of health reports, and its path.
pub fn latest_report(dir: &Path) -> Option<(PathBuf, Value)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("-health-check.json"))
        .collect();
    names.sort();
    let p = names.pop()?;
    let v = serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?;
    Some((p, v))
}

/// Whether the health commands of `domain_monitors` may run: only when the user trusted
/// this exact content of the file (`helm-cloud domains trust`, or
/// HELM_TRUST_DOMAIN_COMMANDS=1). Err says why not, with what to do; `shown` is how the
/// user sees the file's path.
pub fn commands_trusted(domain_monitors: &Path, shown: &str) -> std::result::Result<(), String> {
    let content = std::fs::read(domain_monitors).unwrap_or_default();
    let trusted = std::env::var(crate::trust::TRUST_ALL_ENV).is_ok_and(|v| v == "1")
        || crate::trust::TrustStore::in_user_config()
            .is_some_and(|t| t.is_trusted(domain_monitors, &content).unwrap_or(false));
    if trusted {
        Ok(())
    } else {
        Err(format!(
            "not run: the commands of {shown} are not trusted; read them, then run `helm-cloud domains trust`"
        ))
    }
}

/// What the board looks at.
#[derive(Debug, Clone)]
pub struct BoardQuery<'a> {
    /// Every environment of the configuration, or the one asked for.
    pub environments: Vec<String>,
    pub domain: Option<&'a str>,
    /// helm-cloud's own domain (`[monitoring] domain`).
    pub own_domain: &'a str,
    /// A report older than twice this is stale.
    pub interval: Duration,
    /// Whether external domains' commands may run ([`commands_trusted`]).
    pub trusted: std::result::Result<(), String>,
}

/// Each active domain in each environment it monitors, from its newest report; then the
/// planned domains. A domain whose report could not be had is a row saying why (and a
/// note), never a healthy one.
pub async fn rows<R: DomainReports>(
    reports: &R,
    monitors: &DomainMonitors,
    q: &BoardQuery<'_>,
    now: DateTime<Utc>,
) -> std::result::Result<(Vec<DomainRow>, Vec<String>), CaseError> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let blank = |domain: &str, environment: &str, state: &str| DomainRow {
        domain: domain.to_string(),
        environment: environment.to_string(),
        health: None,
        state: state.to_string(),
        age_hours: None,
        stale: false,
        counts: Value::Null,
        reason: None,
        checked_at: None,
    };
    for m in monitors
        .monitors
        .iter()
        .filter(|m| q.domain.is_none_or(|d| m.domain == d))
    {
        for env in q
            .environments
            .iter()
            .filter(|e| m.environments.is_empty() || m.environments.contains(e))
        {
            let base = blank(&m.domain, env, &m.status);
            if m.status != "active" {
                out.push(base);
                continue;
            }
            let report = if m.domain == q.own_domain {
                reports.own_report(env).await
            } else {
                match monitors.health_command(&m.domain) {
                    Some(cmd) => {
                        let got = match &q.trusted {
                            Ok(()) => reports.external_report(&cmd, env).await,
                            Err(why) => Err(why.clone()),
                        };
                        match got {
                            Ok(v) => Some(v),
                            Err(e) => {
                                notes.push(format!("domain {}: {e}", m.domain));
                                out.push(DomainRow {
                                    state: "unknown".into(),
                                    reason: Some(e),
                                    ..base
                                });
                                continue;
                            }
                        }
                    }
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
            let stale = age.is_some_and(|a| a * 3600.0 > 2.0 * q.interval.as_secs_f64());
            out.push(DomainRow {
                health: report["overall_health"]
                    .as_str()
                    .and_then(HealthStatus::parse),
                state: if stale { "stale" } else { "current" }.into(),
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
        .filter(|p| q.domain.is_none_or(|d| p.domain == d))
    {
        out.push(blank(&p.domain, "-", &p.status));
    }
    Ok((out, notes))
}

/// The environments where helm-cloud's own domain is active in `q`: those `--refresh`
/// checks before the board is read.
pub fn to_refresh(monitors: &DomainMonitors, q: &BoardQuery<'_>) -> Vec<String> {
    monitors
        .monitors
        .iter()
        .filter(|m| m.domain == q.own_domain && m.status == "active")
        .filter(|m| q.domain.is_none_or(|d| m.domain == d))
        .flat_map(|m| {
            q.environments
                .iter()
                .filter(|e| m.environments.is_empty() || m.environments.contains(e))
                .cloned()
        })
        .collect()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The dashboard: every domain's state, the top issues, what was resolved in the last day
/// and what to do next.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub now: DateTime<Utc>,
    pub overall: HealthStatus,
    pub rows: Vec<DomainRow>,
    /// Every active issue of the view, in priority order.
    pub active: Vec<Ranked>,
    /// How many of them the board shows.
    pub shown: usize,
    pub actions: Vec<String>,
    pub resolved: Vec<Issue>,
    pub not_checked: Option<String>,
    /// Issue files that could not be read, and domains whose report could not be had.
    pub notes: Vec<String>,
    pub skipped_issue_files: usize,
    monitors: DomainMonitors,
}

impl Dashboard {
    pub fn top(&self) -> &[Ranked] {
        &self.active[..self.shown.min(self.active.len())]
    }

    pub fn to_json(&self) -> Value {
        let active: Vec<Issue> = self.active.iter().map(|r| r.issue.clone()).collect();
        let mut json = json!({
            "dashboard": {
                "recently_resolved": self.resolved.iter().map(|i| json!({"id": i.id, "title": i.title, "environment": i.environment, "resolved_at": i.resolved_at})).collect::<Vec<_>>(),
                "timestamp": rfc3339(self.now),
                "overall_health": self.overall,
                "generated_at": rfc3339(self.now),
                "summary": summary(&self.rows),
                "domains": plugin_domains(&self.rows, &self.monitors, &active),
                "domain_environments": self.rows.iter().map(|r| {
                    let mut d = json!({
                        "domain": r.domain, "environment": r.environment, "status": r.state,
                        "health": r.health, "report_age_hours": r.age_hours.map(round2),
                        "stale": r.stale, "resources": r.counts,
                    });
                    if let Some(why) = &r.reason {
                        d["reason"] = json!(why);
                    }
                    d
                }).collect::<Vec<_>>(),
                "top_issues": self.top().iter().map(issue_json).collect::<Vec<_>>(),
                "recommended_actions": self.actions,
            }
        });
        if let Some(n) = &self.not_checked {
            json["dashboard"]["not_checked"] = json!(n);
        }
        if self.skipped_issue_files > 0 {
            json["dashboard"]["skipped_issue_files"] = json!(self.skipped_issue_files);
        }
        json
    }
}

/// The dashboard of `q` with its `top` issues.
pub async fn dashboard<R: DomainReports>(
    reports: &R,
    store: &IssueStore,
    monitors: DomainMonitors,
    q: &BoardQuery<'_>,
    env: Option<&str>,
    top: usize,
    now: DateTime<Utc>,
) -> std::result::Result<Dashboard, CaseError> {
    let (rows, mut notes) = rows(reports, &monitors, q, now).await?;
    let filter = IssueFilter {
        domain: q.domain,
        env,
        ..Default::default()
    };
    let (active, skipped) = ranked(store, &monitors, &filter, now)?;
    let skipped_issue_files = skipped.len();
    notes.splice(0..0, skipped);
    let mut actions: Vec<String> = active
        .iter()
        .take(top.min(3))
        .map(|r| format!("{}: {}", r.issue.id, action_command(&r.issue)))
        .collect();
    for r in rows.iter().filter(|r| r.stale || r.state == "no report") {
        actions.push(format!(
            "Refresh {}/{}: helm-cloud dashboard --refresh --env {}",
            r.domain, r.environment, r.environment
        ));
    }
    // Issues resolved in the last day, so a fix shows on the board.
    let resolved: Vec<Issue> = store
        .resolved()?
        .into_iter()
        .filter(|i| {
            env.is_none_or(|e| i.environment == e) && q.domain.is_none_or(|d| i.domain == d)
        })
        .filter(|i| {
            i.resolved_at
                .as_deref()
                .and_then(clock::parse_rfc3339)
                .is_some_and(|t| now - t <= chrono::Duration::hours(24))
        })
        .collect();
    Ok(Dashboard {
        now,
        overall: overall(&rows),
        not_checked: not_checked(&rows, q.domain, env),
        rows,
        active,
        shown: top,
        actions,
        resolved,
        notes,
        skipped_issue_files,
        monitors,
    })
}

/// `status`: each domain's state in one line, and the overall health.
#[derive(Debug, Clone)]
pub struct Status {
    pub overall: HealthStatus,
    pub rows: Vec<DomainRow>,
    pub not_checked: Option<String>,
    pub notes: Vec<String>,
}

impl Status {
    pub fn to_json(&self) -> Value {
        let mut json = json!({"overall_health": self.overall, "domains": self.rows.iter().map(|r| json!({
            "domain": r.domain, "environment": r.environment, "health": r.health, "status": r.state,
            "report_age_hours": r.age_hours.map(round2), "reason": r.reason})).collect::<Vec<_>>()});
        if let Some(n) = &self.not_checked {
            json["not_checked"] = json!(n);
        }
        json
    }
}

pub async fn status<R: DomainReports>(
    reports: &R,
    monitors: &DomainMonitors,
    q: &BoardQuery<'_>,
    env: Option<&str>,
    now: DateTime<Utc>,
) -> std::result::Result<Status, CaseError> {
    let (rows, notes) = rows(reports, monitors, q, now).await?;
    Ok(Status {
        overall: overall(&rows),
        not_checked: not_checked(&rows, q.domain, env),
        rows,
        notes,
    })
}

#[cfg(test)]
mod tests {
    //! The board on a fake of `DomainReports` that records which commands it was asked to run.
    use super::*;
    use crate::central::{Monitor, Planned};
    use futures::executor::block_on;
    use serde_json::Map;
    use std::sync::Mutex;

    struct Fake {
        own: Option<Value>,
        external: std::result::Result<Value, String>,
        ran: Mutex<Vec<String>>,
    }

    impl Default for Fake {
        fn default() -> Self {
            Fake {
                own: None,
                external: Err("not set".into()),
                ran: Mutex::new(Vec::new()),
            }
        }
    }

    impl DomainReports for Fake {
        async fn own_report(&self, _env: &str) -> Option<Value> {
            self.own.clone()
        }
        async fn external_report(
            &self,
            command: &str,
            env: &str,
        ) -> std::result::Result<Value, String> {
            self.ran
                .lock()
                .unwrap()
                .push(format!("{command} --env {env}"));
            self.external.clone()
        }
    }

    fn monitor(domain: &str, health: Option<&str>, envs: &[&str]) -> Monitor {
        let mut commands = Map::new();
        if let Some(h) = health {
            commands.insert("health".into(), json!(h));
        }
        Monitor {
            domain: domain.into(),
            plugin: None,
            capabilities: vec![],
            environments: envs.iter().map(|e| e.to_string()).collect(),
            priority_weight: 1.0,
            commands,
            status: "active".into(),
            extra: Map::new(),
        }
    }

    fn monitors() -> DomainMonitors {
        DomainMonitors {
            version: None,
            monitors: vec![
                monitor("infrastructure", None, &[]),
                monitor("app", Some("app-health"), &["prod"]),
            ],
            planned_domains: vec![Planned {
                domain: "data".into(),
                plugin: None,
                status: "planned".into(),
            }],
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        clock::parse_rfc3339(s).unwrap()
    }

    fn query(trusted: std::result::Result<(), String>) -> BoardQuery<'static> {
        BoardQuery {
            environments: vec!["test".into(), "prod".into()],
            domain: None,
            own_domain: "infrastructure",
            interval: Duration::from_secs(900),
            trusted,
        }
    }

    fn report(at: &str, health: &str) -> Value {
        json!({"timestamp": at, "overall_health": health, "resources": {"total": 2}})
    }

    #[test]
    fn an_untrusted_command_is_never_run_and_its_domain_is_unknown_with_the_reason() {
        let fake = Fake {
            own: Some(report("2025-11-03T20:00:00Z", "HEALTHY")),
            external: Ok(report("2025-11-03T20:00:00Z", "HEALTHY")),
            ..Default::default()
        };
        let q = query(Err("not run: not trusted".into()));
        let (rows, notes) =
            block_on(rows(&fake, &monitors(), &q, t("2025-11-03T20:05:00Z"))).unwrap();
        assert!(
            fake.ran.lock().unwrap().is_empty(),
            "an untrusted command ran"
        );
        let app = rows.iter().find(|r| r.domain == "app").unwrap();
        assert_eq!(app.state, "unknown");
        assert_eq!(app.health, None);
        assert_eq!(app.reason.as_deref(), Some("not run: not trusted"));
        assert_eq!(notes, ["domain app: not run: not trusted"]);
        // Healthy infrastructure does not make an unknown domain healthy overall.
        assert_ne!(overall(&rows), HealthStatus::Healthy);
    }

    #[test]
    fn rows_cover_each_environment_a_domain_monitors_and_stale_reports_say_so() {
        let fake = Fake {
            own: Some(report("2025-11-03T19:00:00Z", "HEALTHY")),
            external: Ok(report("2025-11-03T20:04:00Z", "DEGRADED")),
            ..Default::default()
        };
        let (rows, notes) = block_on(rows(
            &fake,
            &monitors(),
            &query(Ok(())),
            t("2025-11-03T20:05:00Z"),
        ))
        .unwrap();
        assert!(notes.is_empty());
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.domain.as_str(), r.environment.as_str(), r.state.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("infrastructure", "test", "stale"),
                ("infrastructure", "prod", "stale"),
                ("app", "prod", "current"),
                ("data", "-", "planned"),
            ]
        );
        assert_eq!(*fake.ran.lock().unwrap(), ["app-health --env prod"]);
        assert_eq!(overall(&rows), HealthStatus::Degraded);
        let q = query(Ok(()));
        assert_eq!(to_refresh(&monitors(), &q), ["test", "prod"]);
    }

    #[test]
    fn no_report_is_a_row_that_asks_for_a_refresh_not_a_healthy_domain() {
        let fake = Fake {
            external: Err("app-health timed out after 30s and was stopped".into()),
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = IssueStore::new(dir.path(), "a/", "r/", "infrastructure", 90);
        let d = block_on(dashboard(
            &fake,
            &store,
            monitors(),
            &query(Ok(())),
            None,
            5,
            t("2025-11-03T20:05:00Z"),
        ))
        .unwrap();
        assert_eq!(d.overall, HealthStatus::Unknown);
        assert!(
            d.actions
                .iter()
                .any(|a| a
                    == "Refresh infrastructure/test: helm-cloud dashboard --refresh --env test"),
            "{:?}",
            d.actions
        );
        let j = d.to_json();
        assert_eq!(j["dashboard"]["overall_health"], "UNKNOWN");
        assert!(
            j["dashboard"]["domain_environments"][2]["reason"]
                .as_str()
                .unwrap()
                .contains("timed out")
        );
    }
}
