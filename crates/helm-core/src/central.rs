//! Central Helm: one view over every domain monitor, issues in priority order, work items
//! for escalation. The domain-monitor registry is the plugin's format.

use crate::error::{Error, Result};
use crate::fsutil;
use crate::issues::{Issue, age_hours, priority_score};
use crate::registry::{from_value, parse_json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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
}
