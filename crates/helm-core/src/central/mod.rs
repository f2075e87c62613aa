//! Central Helm: one view over every domain monitor, issues in priority order, work items
//! for escalation. The domain-monitor registry is the plugin's format.

pub mod board;
pub mod escalate;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::issues::{Issue, age_hours, priority_score};
use crate::monitor::HealthStatus;
use crate::registry::{from_value, parse_json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::path::Path;

/// One domain monitor (plugin format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    pub domain: String,
    #[serde(default)]
    pub plugin: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub environments: Vec<String>,
    #[serde(default = "one")]
    pub priority_weight: f64,
    #[serde(default)]
    pub commands: Map<String, Value>,
    #[serde(default = "active")]
    pub status: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one() -> f64 {
    1.0
}
fn active() -> String {
    "active".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Planned {
    pub domain: String,
    #[serde(default)]
    pub plugin: Option<String>,
    #[serde(default = "planned")]
    pub status: String,
}

fn planned() -> String {
    "planned".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMonitors {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub monitors: Vec<Monitor>,
    #[serde(default)]
    pub planned_domains: Vec<Planned>,
}

impl DomainMonitors {
    /// The built-in registry: the infrastructure domain (helm-cloud itself), weight 1.0.
    pub fn builtin() -> Self {
        DomainMonitors {
            version: Some(crate::version::CURRENT.into()),
            monitors: vec![Monitor {
                domain: "infrastructure".into(),
                plugin: Some("fractary-helm-cloud".into()),
                capabilities: vec!["health".into(), "investigate".into(), "remediate".into()],
                environments: vec![],
                priority_weight: 1.0,
                commands: Map::new(),
                status: "active".into(),
                extra: Map::new(),
            }],
            planned_domains: vec![],
        }
    }

    /// The file at `path`, or the built-in registry when it is absent.
    pub fn load(path: &Path) -> Result<Self> {
        let Some(text) = fsutil::read_optional(path)? else {
            return Ok(Self::builtin());
        };
        let value = parse_json(path, &text)?;
        let v = value.get("version").and_then(Value::as_str);
        crate::version::check(path, None, v)?;
        let m: DomainMonitors = from_value(path, &text, value)?;
        if m.monitors.iter().any(|x| x.domain.trim().is_empty()) {
            return Err(Error::invalid(
                path,
                None,
                Some("monitors[].domain".into()),
                "a monitor needs a domain",
            ));
        }
        Ok(m)
    }

    /// A domain's priority weight (1.0 when unknown).
    pub fn weight(&self, domain: &str) -> f64 {
        self.monitors
            .iter()
            .find(|m| m.domain == domain)
            .map_or(1.0, |m| m.priority_weight)
    }

    /// The shell command a domain gives for its health report, if any.
    pub fn health_command(&self, domain: &str) -> Option<String> {
        self.monitors
            .iter()
            .find(|m| m.domain == domain)?
            .commands
            .get("health")?
            .as_str()
            .map(str::to_string)
    }
}

/// An issue with its computed priority.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub issue: Issue,
    pub score: f64,
    pub age_hours: f64,
}

/// Issues in priority order (score, then detection time, then id), scored at `now`.
pub fn rank(issues: Vec<Issue>, monitors: &DomainMonitors, now: DateTime<Utc>) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = issues
        .into_iter()
        .map(|i| {
            let score = priority_score(&i, monitors.weight(&i.domain), now);
            let age = age_hours(&i, now);
            Ranked {
                issue: i,
                score,
                age_hours: age,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.issue.detected_at.cmp(&b.issue.detected_at))
            .then(a.issue.id.cmp(&b.issue.id))
    });
    out
}

/// A duration in words, for people and for voice: "2 hours 5 minutes", "3 days".
pub fn spoken_duration(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as i64;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if minutes < 1 {
        return "less than a minute".into();
    }
    if minutes < 60 {
        return plural(minutes, "minute");
    }
    if minutes < 48 * 60 {
        let (h, m) = (minutes / 60, minutes % 60);
        return if m == 0 {
            plural(h, "hour")
        } else {
            format!("{} {}", plural(h, "hour"), plural(m, "minute"))
        };
    }
    plural(minutes / (24 * 60), "day")
}

/// Compact age for tables: 45m, 3h, 2d.
pub fn short_age(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as i64;
    if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 48 * 60 {
        format!("{}h", minutes / 60)
    } else {
        format!("{}d", minutes / (24 * 60))
    }
}

/// The work item for an escalated issue (the plugin's template), as Markdown.
pub fn work_item(
    r: &Ranked,
    investigation: Option<&str>,
    recommendations: &[String],
) -> (String, String) {
    let i = &r.issue;
    let title = format!(
        "[{}][{}/{}] {}",
        i.severity.as_str(),
        i.domain,
        i.environment,
        i.title
    );
    let mut body = format!(
        "## {}\n\n| field | value |\n|---|---|\n| Issue | {} |\n| Domain | {} |\n| Environment | {} |\n| Severity | {} |\n| Priority score | {:.1} |\n| Detected | {} |\n| Age | {} |\n| SLO breach | {} |\n| Affected resources | {} |\n\n### Description\n\n{}\n\n### Metrics\n\n```json\n{}\n```\n",
        i.title,
        i.id,
        i.domain,
        i.environment,
        i.severity.as_str(),
        r.score,
        i.detected_at,
        spoken_duration(r.age_hours),
        if i.slo_breach { "yes" } else { "no" },
        i.affected_resources.join(", "),
        i.description,
        serde_json::to_string_pretty(&i.metrics).unwrap_or_default()
    );
    if let Some(inv) = investigation {
        body.push_str(&format!("\n### Latest investigation\n\n{inv}\n"));
    }
    body.push_str("\n### Recommended actions\n\n");
    for rec in recommendations {
        body.push_str(&format!("- {rec}\n"));
    }
    body.push_str(&format!(
        "\n_Escalated by helm-cloud from issue {}._\n",
        i.id
    ));
    (title, body)
}

// ---------------------------------------------------------------------------------------
// The dashboard's and status's views: pure functions over the domains' rows.
// ---------------------------------------------------------------------------------------

/// One domain in one environment, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainRow {
    pub domain: String,
    pub environment: String,
    /// HEALTHY… or None for planned, inactive, or no report.
    pub health: Option<HealthStatus>,
    pub state: String,
    pub age_hours: Option<f64>,
    pub stale: bool,
    pub counts: Value,
    /// Why the domain could not be checked (an untrusted or timed-out command).
    pub reason: Option<String>,
    /// The report's own timestamp.
    pub checked_at: Option<String>,
}

/// The plugin's `summary`: domains by their worst environment.
pub fn summary(rows: &[DomainRow]) -> Value {
    let mut by_domain: std::collections::BTreeMap<&str, Option<HealthStatus>> = Default::default();
    for r in rows
        .iter()
        .filter(|r| r.state != "planned" && r.state != "inactive")
    {
        let e = by_domain.entry(r.domain.as_str()).or_insert(r.health);
        *e = match (*e, r.health) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    let n = |h: HealthStatus| by_domain.values().filter(|v| **v == Some(h)).count();
    json!({
        "total_domains": by_domain.len(),
        "healthy": n(HealthStatus::Healthy),
        "degraded": n(HealthStatus::Degraded),
        "unhealthy": n(HealthStatus::Unhealthy),
        "unknown": by_domain.values().filter(|v| v.is_none() || **v == Some(HealthStatus::Unknown)).count(),
    })
}

/// The plugin's `domains`, keyed by domain: its status (the worst of its environments),
/// plugin, last check, active issues, and each environment as helm-cloud sees it.
pub fn plugin_domains(rows: &[DomainRow], monitors: &DomainMonitors, active: &[Issue]) -> Value {
    let mut out = serde_json::Map::new();
    for r in rows {
        let d = out.entry(r.domain.clone()).or_insert_with(|| {
            json!({
                "status": Value::Null,
                "plugin": monitors.monitors.iter().find(|m| m.domain == r.domain).and_then(|m| m.plugin.clone()),
                "last_checked": Value::Null,
                "issues_count": active.iter().filter(|i| i.domain == r.domain).count(),
                "environments": {},
            })
        });
        let worst = match (d["status"].as_str().and_then(HealthStatus::parse), r.health) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => b.or(a),
        };
        d["status"] = match worst {
            Some(h) => json!(h),
            None => json!(r.state.to_uppercase()),
        };
        if let Some(t) = &r.checked_at
            && d["last_checked"].as_str().is_none_or(|l| l < t.as_str())
        {
            d["last_checked"] = json!(t);
        }
        d["environments"][&r.environment] = json!({"health": r.health, "status": r.state,
            "report_age_hours": r.age_hours.map(|a| (a * 100.0).round() / 100.0), "stale": r.stale});
    }
    Value::Object(out)
}

/// Why nothing was checked, when the filters left no domain to show.
pub fn not_checked(rows: &[DomainRow], domain: Option<&str>, env: Option<&str>) -> Option<String> {
    if rows.iter().any(|r| r.health.is_some()) {
        return None;
    }
    if rows.is_empty() {
        return Some(match domain {
            Some(d) => format!(
                "no domain {d:?}{} in domain-monitors.json: nothing was checked",
                env.map(|e| format!(" monitors environment {e}"))
                    .unwrap_or_default()
            ),
            None => "no domain is monitored: nothing was checked".to_string(),
        });
    }
    Some("no domain has a health report: nothing was checked yet".to_string())
}

pub fn overall(rows: &[DomainRow]) -> HealthStatus {
    let active: Vec<&DomainRow> = rows
        .iter()
        .filter(|r| {
            matches!(
                r.state.as_str(),
                "current" | "stale" | "no report" | "unknown"
            )
        })
        .collect();
    // Nothing to judge is not healthy.
    if active.is_empty() {
        return HealthStatus::Unknown;
    }
    let mut worst = crate::monitor::overall(active.iter().filter_map(|r| r.health));
    // A domain with no report at all is unknown.
    if active.iter().any(|r| r.health.is_none()) {
        worst = worst.max(HealthStatus::Unknown);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::{IssueStatus, Severity};

    fn issue(id: &str, sev: Severity, breach: bool, detected: &str, domain: &str) -> Issue {
        serde_json::from_value(serde_json::json!({
            "id": id, "domain": domain, "severity": sev, "title": "t", "description": "d", "slo_breach": breach,
            "detected_at": detected, "environment": "prod", "affected_resources": ["api"], "metrics": {}, "work_item_id": null
        }))
        .unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        crate::clock::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn ranking_follows_the_score_with_a_fixed_clock() {
        let mut monitors = DomainMonitors::builtin();
        monitors.monitors.push(Monitor {
            domain: "application".into(),
            priority_weight: 0.5,
            ..DomainMonitors::builtin().monitors[0].clone()
        });
        let issues = vec![
            issue(
                "infra-001",
                Severity::Medium,
                false,
                "2025-11-03T10:00:00Z",
                "infrastructure",
            ), // 5 + 0 + 10 = 15
            issue(
                "infra-002",
                Severity::Critical,
                true,
                "2025-11-03T19:00:00Z",
                "infrastructure",
            ), // 10 + 2 + 1 = 13
            issue(
                "app-001",
                Severity::Critical,
                true,
                "2025-11-03T19:00:00Z",
                "application",
            ), // 5 + 2 + 1 = 8
            issue(
                "infra-003",
                Severity::Low,
                false,
                "2025-11-03T20:00:00Z",
                "infrastructure",
            ), // 2
        ];
        let ranked = rank(issues, &monitors, t("2025-11-03T20:00:00Z"));
        let order: Vec<(&str, f64)> = ranked
            .iter()
            .map(|r| (r.issue.id.as_str(), r.score))
            .collect();
        assert_eq!(
            order,
            vec![
                ("infra-001", 15.0),
                ("infra-002", 13.0),
                ("app-001", 8.0),
                ("infra-003", 2.0)
            ]
        );
        assert_eq!(ranked[0].age_hours, 10.0);
        assert_eq!(ranked[0].issue.status, IssueStatus::Active);
    }

    #[test]
    fn durations_are_spoken() {
        assert_eq!(spoken_duration(0.0), "less than a minute");
        assert_eq!(spoken_duration(1.0 / 60.0), "1 minute");
        assert_eq!(spoken_duration(2.0 + 5.0 / 60.0), "2 hours 5 minutes");
        assert_eq!(spoken_duration(1.0), "1 hour");
        assert_eq!(spoken_duration(72.0), "3 days");
        assert_eq!(short_age(0.5), "30m");
        assert_eq!(short_age(5.2), "5h");
    }

    #[test]
    fn the_plugin_format_loads_and_the_builtin_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("domain-monitors.json");
        assert_eq!(
            DomainMonitors::load(&p).unwrap().monitors[0].domain,
            "infrastructure"
        );
        std::fs::write(&p, crate::init::DOMAIN_MONITORS).unwrap();
        let m = DomainMonitors::load(&p).unwrap();
        assert_eq!(m.monitors.len(), 1);
        assert_eq!(m.planned_domains.len(), 2);
        assert_eq!(
            m.health_command("infrastructure").as_deref(),
            Some("helm-cloud health --format json")
        );
        std::fs::write(&p, "{\"monitors\": [{\"domain\": 3}]}").unwrap();
        assert!(DomainMonitors::load(&p).is_err());
    }

    fn row(domain: &str, env: &str, health: Option<HealthStatus>, state: &str) -> DomainRow {
        DomainRow {
            domain: domain.into(),
            environment: env.into(),
            health,
            state: state.into(),
            age_hours: Some(0.1),
            stale: false,
            counts: Value::Null,
            reason: None,
            checked_at: Some("2026-12-01T10:00:00Z".into()),
        }
    }

    #[test]
    fn the_dashboard_views_take_the_worst_and_never_report_nothing_as_healthy() {
        let rows = vec![
            row(
                "infrastructure",
                "test",
                Some(HealthStatus::Healthy),
                "current",
            ),
            row(
                "infrastructure",
                "prod",
                Some(HealthStatus::Unhealthy),
                "current",
            ),
            row("application", "test", None, "no report"),
            row("content", "-", None, "planned"),
        ];
        assert_eq!(overall(&rows), HealthStatus::Unhealthy);
        let s = summary(&rows);
        assert_eq!(s["total_domains"], 2);
        assert_eq!(s["unhealthy"], 1);
        assert_eq!(s["unknown"], 1, "a domain without a report is unknown");
        let d = plugin_domains(&rows, &DomainMonitors::builtin(), &[]);
        assert_eq!(d["infrastructure"]["status"], "UNHEALTHY");
        assert_eq!(d["content"]["status"], "PLANNED");
        assert_eq!(d["infrastructure"]["last_checked"], "2026-12-01T10:00:00Z");
        // Nothing to judge is UNKNOWN, and says why.
        assert_eq!(overall(&[]), HealthStatus::Unknown);
        assert!(
            not_checked(&[], Some("nope"), None)
                .unwrap()
                .contains("no domain \"nope\"")
        );
        assert!(not_checked(&rows, None, None).is_none());
        let only_planned = vec![row("content", "-", None, "planned")];
        assert_eq!(overall(&only_planned), HealthStatus::Unknown);
    }
}
