//! The health report (FORMATS.md), the issues it raises and the recommendations it makes.

use super::{Finding, HealthStatus, ResourceResult};
use crate::issues::{Detection, Severity};
use serde::Serialize;
use serde_json::{Value, json};

/// Severity of an issue raised by a failed check: UNHEALTHY with an SLO breach or a down
/// resource in an environment that requires confirmation (production) is CRITICAL, other
/// UNHEALTHY is HIGH, DEGRADED is MEDIUM.
pub fn severity(f: &Finding, env_requires_confirmation: bool) -> Severity {
    match f.status {
        HealthStatus::Unhealthy if env_requires_confirmation && (f.slo_breach || f.down) => {
            Severity::Critical
        }
        HealthStatus::Unhealthy => Severity::High,
        HealthStatus::Degraded => Severity::Medium,
        _ => Severity::Low,
    }
}

/// The detections of one resource, one per failed check.
pub fn detections(
    environment: &str,
    r: &ResourceResult,
    env_requires_confirmation: bool,
) -> Vec<Detection> {
    r.findings
        .iter()
        .map(|f| Detection {
            account: r.account.clone(),
            environment: environment.to_string(),
            resource: r.id.clone(),
            check: f.check.clone(),
            severity: severity(f, env_requires_confirmation),
            title: f.title.clone(),
            description: format!("{}: {}", r.id, f.reason),
            slo_breach: f.slo_breach,
            metrics: json!({"metric": f.metric, "current_value": f.current_value, "threshold": f.threshold, "resource_metrics": r.metrics}),
        })
        .collect()
}

/// One line of the report's `issues` list.
#[derive(Debug, Clone, Serialize)]
pub struct ReportIssue {
    pub severity: Severity,
    pub resource: String,
    pub issue: String,
    pub metric: String,
    pub current_value: String,
    pub threshold: String,
    pub issue_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub total: usize,
    pub healthy: usize,
    pub degraded: usize,
    pub unhealthy: usize,
    pub unknown: usize,
}

/// A resource listed in the registry with a type helm-cloud does not check.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub id: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub reason: String,
}

/// The health report, as saved and as printed by `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub overall_health: HealthStatus,
    pub environment: String,
    pub timestamp: String,
    pub window: Window,
    pub resources: Counts,
    pub results: Vec<ResourceResult>,
    pub issues: Vec<ReportIssue>,
    pub recommendations: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// What this run could not check at all (an empty environment…): why it is UNKNOWN.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<String>,
    pub report_path: String,
}

impl HealthReport {
    pub fn counts(results: &[ResourceResult]) -> Counts {
        let n = |s: HealthStatus| results.iter().filter(|r| r.status == s).count();
        Counts {
            total: results.len(),
            healthy: n(HealthStatus::Healthy),
            degraded: n(HealthStatus::Degraded),
            unhealthy: n(HealthStatus::Unhealthy),
            unknown: n(HealthStatus::Unknown),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("reports serialise")
    }
}

/// What to do next about each resource that is not healthy, worst first, naming the
/// helm-cloud command that acts on it.
pub fn recommendations(environment: &str, results: &[ResourceResult]) -> Vec<String> {
    let mut ordered: Vec<&ResourceResult> = results
        .iter()
        .filter(|r| r.status != HealthStatus::Healthy)
        .collect();
    ordered.sort_by_key(|r| std::cmp::Reverse(r.status));
    let mut out = Vec::new();
    for r in ordered {
        let id = &r.id;
        let env = environment;
        if r.status == HealthStatus::Unknown {
            out.push(format!(
                "Could not read {id} ({}): check access with `helm-cloud config validate --aws --env {env}`",
                r.reasons.first().map(String::as_str).unwrap_or("no data")
            ));
            continue;
        }
        // The worst finding; among equals the first, which puts errors before latency.
        let Some(f) = r
            .findings
            .iter()
            .rev()
            .max_by_key(|f| (f.status, f.slo_breach))
        else {
            continue;
        };
        let line = match f.check.as_str() {
            "error_rate" | "availability" => format!(
                "Investigate {id} errors ({} error rate): `helm-cloud investigate --service {id} --env {env}`",
                r.metrics
                    .get("error_rate_percent")
                    .map(|v| format!("{v}%"))
                    .unwrap_or_else(|| f.current_value.clone())
            ),
            "drift" => format!(
                "{id} is in the registry but not in AWS: redeploy it with faber-cloud, or remove it from the registry (`helm-cloud registry list --env {env}`)"
            ),
            "tasks" => format!(
                "{id} runs {} of {} tasks: `helm-cloud investigate --service {id} --env {env}`",
                f.current_value, f.threshold
            ),
            "status" => format!(
                "{id} is {}: `helm-cloud investigate --service {id} --env {env}`",
                f.current_value
            ),
            "cpu" | "memory" => format!(
                "{id} {} at {}: add capacity (`helm-cloud remediate --action increase_capacity --service {id} --env {env}`)",
                f.check, f.current_value
            ),
            c if c.starts_with("alarm:") => format!(
                "Alarm {} is firing on {id}: `helm-cloud investigate --service {id} --env {env}`",
                &c[6..]
            ),
            _ => format!(
                "Review {id} {} ({} against {}): `helm-cloud performance --service {id} --env {env}`",
                f.check.replace('_', " "),
                f.current_value,
                f.threshold
            ),
        };
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(status: HealthStatus, slo_breach: bool, down: bool) -> Finding {
        Finding {
            check: "error_rate".into(),
            status,
            slo_breach,
            down,
            title: String::new(),
            reason: String::new(),
            metric: String::new(),
            current_value: String::new(),
            threshold: String::new(),
        }
    }

    #[test]
    fn severity_rules() {
        assert_eq!(
            severity(&finding(HealthStatus::Unhealthy, true, false), true),
            Severity::Critical
        );
        assert_eq!(
            severity(&finding(HealthStatus::Unhealthy, false, true), true),
            Severity::Critical
        );
        assert_eq!(
            severity(&finding(HealthStatus::Unhealthy, true, false), false),
            Severity::High
        );
        assert_eq!(
            severity(&finding(HealthStatus::Unhealthy, false, false), true),
            Severity::High
        );
        assert_eq!(
            severity(&finding(HealthStatus::Degraded, false, false), true),
            Severity::Medium
        );
    }
}
