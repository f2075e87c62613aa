//! The auditor (the plugin's `ops-auditor`): checks as data, findings people can act on
//! (check id, title, resource, severity, why, how to fix), and the `audit_data` report.
//! This version audits cost; security and compliance come next (see the README).

pub mod account;
pub mod audit;
pub mod catalogue;
pub mod compliance;
pub mod cost;
pub mod diff;
pub mod export;
pub mod framework;
pub mod run;
pub mod security;
pub mod suppress;

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

/// The audit type a check belongs to, by its prefix: `cost`, `compliance` or `security`.
pub fn type_of_check(check: &str) -> &'static str {
    match check.split('.').next().unwrap_or_default() {
        "cost" | "waste" => "cost",
        "cis" | "config" => "compliance",
        _ => "security",
    }
}

/// How much of what an audit set out to check it could evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Coverage {
    Complete,
    /// Some checks could not be evaluated: the run is never a pass.
    Partial,
    /// Nothing could be evaluated.
    None,
}

impl Coverage {
    pub fn of(evaluated_any: bool, not_evaluated: &[String]) -> Coverage {
        match (evaluated_any, not_evaluated.is_empty()) {
            (_, true) if evaluated_any => Coverage::Complete,
            (true, false) => Coverage::Partial,
            _ => Coverage::None,
        }
    }
}

/// What an audit run could evaluate: its coverage, what it could not, and how many
/// evaluated checks passed.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub coverage: Coverage,
    pub not_evaluated: Vec<String>,
    pub passing: usize,
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

/// The status with what was not evaluated taken into account: a partial run is at least a
/// warning, a run that evaluated nothing is an error; neither is ever a pass.
pub fn overall_with(findings: &[Finding], coverage: Coverage) -> (&'static str, u8) {
    let (status, code) = overall(findings);
    match coverage {
        Coverage::Complete => (status, code),
        Coverage::Partial if code == 0 => ("warning", 1),
        Coverage::Partial => (status, code),
        Coverage::None if code < 2 => ("error", 2),
        Coverage::None => (status, code),
    }
}

/// The plugin's `audit_data` structure.
#[allow(clippy::too_many_arguments)] // the document's parts, as the plugin names them
pub fn audit_data(
    kind: &str,
    environment: &str,
    timestamp: &str,
    timeframe: &str,
    findings: &[Finding],
    metrics: Value,
    recommendations: &[String],
    evaluation: &Evaluation,
) -> Value {
    let (coverage, not_evaluated) = (evaluation.coverage, &evaluation.not_evaluated);
    let (status, code) = overall_with(findings, coverage);
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
            // The plugin's ops-auditor counts: checks that passed, warnings (medium and low
            // findings), failures (high) and critical.
            "status_counts": {
                "passing": evaluation.passing,
                "warnings": by(Severity::Medium).len() + by(Severity::Low).len(),
                "failures": by(Severity::High).len(),
                "critical": by(Severity::Critical).len(),
            },
            "severity_counts": {
                "critical": by(Severity::Critical).len(),
                "high": by(Severity::High).len(),
                "medium": by(Severity::Medium).len(),
                "low": by(Severity::Low).len(),
                "total": findings.len(),
            },
            "exit_code": code,
            "evaluation": coverage,
            "not_evaluated": not_evaluated,
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
        "# {} audit: {}\n\n- Environment: {}\n- Time: {}\n- Timeframe: {}\n\n## Executive summary\n\nOverall **{}** (evaluation {}): {} critical, {} high, {} medium, {} low findings.\n",
        a["type"].as_str().unwrap_or_default(),
        a["environment"].as_str().unwrap_or_default(),
        a["environment"].as_str().unwrap_or_default(),
        a["timestamp"].as_str().unwrap_or_default(),
        a["timeframe"].as_str().unwrap_or_default(),
        s["overall_status"].as_str().unwrap_or_default(),
        s["evaluation"].as_str().unwrap_or("complete"),
        s["severity_counts"]["critical"],
        s["severity_counts"]["high"],
        s["severity_counts"]["medium"],
        s["severity_counts"]["low"],
    );
    let missing = s["not_evaluated"].as_array().cloned().unwrap_or_default();
    if !missing.is_empty() {
        md.push_str("\n## Not evaluated\n\n");
        for n in missing {
            md.push_str(&format!("- {}\n", n.as_str().unwrap_or_default()));
        }
    }
    let held = data["suppressed"].as_array().cloned().unwrap_or_default();
    if !held.is_empty() {
        md.push_str("\n## Suppressed\n\n");
        for h in held {
            md.push_str(&format!(
                "- {} on {}: {} (until {})\n",
                h["check"].as_str().unwrap_or_default(),
                h["resource"].as_str().unwrap_or_default(),
                h["reason"].as_str().unwrap_or_default(),
                h["expires"].as_str().unwrap_or("no expiry"),
            ));
        }
    }
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
            &Evaluation {
                coverage: Coverage::Complete,
                not_evaluated: vec![],
                passing: 3,
            },
        );
        assert_eq!(d["summary"]["status_counts"]["failures"], 1);
        assert_eq!(d["summary"]["status_counts"]["passing"], 3);
        assert_eq!(d["summary"]["severity_counts"]["high"], 1);
        assert_eq!(d["summary"]["exit_code"], 2);
        assert_eq!(d["findings"]["by_severity"]["high"][0]["check"], "c");
        assert!(markdown(&d).contains("### HIGH"));
    }

    #[test]
    fn an_audit_that_evaluated_nothing_or_part_is_never_a_pass() {
        assert_eq!(Coverage::of(false, &[]), Coverage::None);
        assert_eq!(Coverage::of(false, &["x".into()]), Coverage::None);
        assert_eq!(Coverage::of(true, &["x".into()]), Coverage::Partial);
        assert_eq!(Coverage::of(true, &[]), Coverage::Complete);
        assert_eq!(overall_with(&[], Coverage::Partial), ("warning", 1));
        assert_eq!(overall_with(&[], Coverage::None), ("error", 2));
        assert_eq!(
            overall_with(&[f(Severity::Critical)], Coverage::Partial),
            ("critical", 3)
        );
        let d = audit_data(
            "security",
            "test",
            "t",
            "30d",
            &[],
            json!({}),
            &[],
            &Evaluation {
                coverage: Coverage::Partial,
                not_evaluated: vec![
                    "ec2:DescribeSecurityGroups in us-east-1: endpoint unreachable".into(),
                ],
                passing: 0,
            },
        );
        assert_eq!(d["summary"]["overall_status"], "warning");
        assert_eq!(d["summary"]["evaluation"], "partial");
        assert!(markdown(&d).contains("## Not evaluated"));
    }
}
