//! The auditor (the plugin's `ops-auditor`): checks as data, findings people can act on
//! (check id, title, resource, severity, why, how to fix), and the `audit_data` report.
//! This version audits cost; security and compliance come next (see the README).

pub mod compliance;
pub mod cost;
pub mod security;

use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub check: String,
    pub title: String,
    pub resource: String,
    pub severity: Severity,
    pub detail: String,
    pub recommendation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_savings_usd: Option<f64>,
}

/// pass | warning | error | critical, and the exit code of `audit` (0 to 3).
pub fn overall(findings: &[Finding]) -> (&'static str, u8) {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => ("critical", 3),
        Some(Severity::High) => ("error", 2),
        Some(Severity::Medium | Severity::Low) => ("warning", 1),
        None => ("pass", 0),
    }
}

/// The plugin's `audit_data` structure.
pub fn audit_data(
    kind: &str,
    environment: &str,
    timestamp: &str,
    timeframe: &str,
    findings: &[Finding],
    metrics: Value,
    recommendations: &[String],
) -> Value {
    let (status, code) = overall(findings);
    let by = |s: Severity| {
        findings
            .iter()
            .filter(|f| f.severity == s)
            .collect::<Vec<_>>()
    };
    json!({
        "audit": {"type": kind, "environment": environment, "timestamp": timestamp, "timeframe": timeframe},
        "summary": {
            "overall_status": status,
            "status_counts": {
                "critical": by(Severity::Critical).len(),
                "high": by(Severity::High).len(),
                "medium": by(Severity::Medium).len(),
                "low": by(Severity::Low).len(),
                "total": findings.len(),
            },
            "exit_code": code,
        },
        "findings": {
            "by_severity": {
                "critical": by(Severity::Critical),
                "high": by(Severity::High),
                "medium": by(Severity::Medium),
                "low": by(Severity::Low),
            }
        },
        "metrics": metrics,
        "recommendations": recommendations,
    })
}

/// The Markdown a person reads: executive summary, findings by severity, metrics,
/// prioritised recommendations.
pub fn markdown(data: &Value) -> String {
    let a = &data["audit"];
    let s = &data["summary"];
    let mut md = format!(
        "# {} audit: {}\n\n- Environment: {}\n- Time: {}\n- Timeframe: {}\n\n## Executive summary\n\nOverall **{}**: {} critical, {} high, {} medium, {} low findings.\n",
        a["type"].as_str().unwrap_or_default(),
        a["environment"].as_str().unwrap_or_default(),
        a["environment"].as_str().unwrap_or_default(),
        a["timestamp"].as_str().unwrap_or_default(),
        a["timeframe"].as_str().unwrap_or_default(),
        s["overall_status"].as_str().unwrap_or_default(),
        s["status_counts"]["critical"],
        s["status_counts"]["high"],
        s["status_counts"]["medium"],
        s["status_counts"]["low"],
    );
    md.push_str("\n## Findings\n");
    for sev in ["critical", "high", "medium", "low"] {
        let list = data["findings"]["by_severity"][sev]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if list.is_empty() {
            continue;
        }
        md.push_str(&format!("\n### {}\n\n", sev.to_uppercase()));
        for f in list {
            md.push_str(&format!(
                "- **{}** `{}` on {}: {}\n  - Fix: {}{}\n",
                f["title"].as_str().unwrap_or_default(),
                f["check"].as_str().unwrap_or_default(),
                f["resource"].as_str().unwrap_or_default(),
                f["detail"].as_str().unwrap_or_default(),
                f["recommendation"].as_str().unwrap_or_default(),
                f["monthly_savings_usd"]
                    .as_f64()
                    .map(|v| format!("\n  - Estimated savings: ${v:.2}/month (estimate)"))
                    .unwrap_or_default()
            ));
        }
    }
    md.push_str(&format!(
        "\n## Metrics\n\n```json\n{}\n```\n\n## Recommendations\n\n",
        serde_json::to_string_pretty(&data["metrics"]).unwrap_or_default()
    ));
    for (i, r) in data["recommendations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        md.push_str(&format!("{}. {}\n", i + 1, r.as_str().unwrap_or_default()));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(sev: Severity) -> Finding {
        Finding {
            check: "c".into(),
            title: "t".into(),
            resource: "r".into(),
            severity: sev,
            detail: "d".into(),
            recommendation: "x".into(),
            monthly_savings_usd: None,
        }
    }

    #[test]
    fn overall_status_and_exit_code_follow_the_worst_finding() {
        assert_eq!(overall(&[]), ("pass", 0));
        assert_eq!(overall(&[f(Severity::Low)]), ("warning", 1));
        assert_eq!(
            overall(&[f(Severity::Low), f(Severity::Medium)]),
            ("warning", 1)
        );
        assert_eq!(
            overall(&[f(Severity::High), f(Severity::Low)]),
            ("error", 2)
        );
        assert_eq!(overall(&[f(Severity::Critical)]), ("critical", 3));
        let d = audit_data(
            "cost",
            "test",
            "2025-11-03T20:00:00Z",
            "30d",
            &[f(Severity::High)],
            json!({}),
            &[],
        );
        assert_eq!(d["summary"]["exit_code"], 2);
        assert_eq!(d["findings"]["by_severity"]["high"][0]["check"], "c");
        assert!(markdown(&d).contains("### HIGH"));
    }
}
