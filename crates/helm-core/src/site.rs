//! The documents of `helm-cloud serve` that no CLI command prints as such: a resource's
//! page (its health over time from the saved reports, its issues, its last investigation,
//! its remediations), the saved investigations and audits, and the recent remediations.
//! Everything is read from the project's files; nothing here calls AWS.

use crate::fsutil;
use crate::issues::Issue;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// How many of the newest health reports a resource page reads (a day at 5-minute checks).
pub const HISTORY_REPORTS: usize = 288;

/// A name from a URL that may name a file or folder of the project: letters, digits, `.`,
/// `_` and `-`, not starting with a dot (so never `..`, a hidden file or a path).
pub fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The newest `n` JSON files of `dir`, oldest first (unreadable ones skipped).
pub fn newest_json(dir: &Path, n: usize) -> Vec<(PathBuf, Value)> {
    let files = fsutil::json_files(dir).unwrap_or_default();
    let skip = files.len().saturating_sub(n);
    files
        .into_iter()
        .skip(skip)
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| !f.starts_with('.'))
        })
        .filter_map(|p| {
            let v = serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?;
            Some((p, v))
        })
        .collect()
}

/// The last `n` lines of a remediation history (`history.jsonl`), newest first.
pub fn remediations(history: &Path, n: usize) -> Vec<Value> {
    let text = std::fs::read_to_string(history).unwrap_or_default();
    let mut out: Vec<Value> = text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(n)
        .collect();
    out.truncate(n);
    out
}

fn metric(m: &Value, keys: &[&str]) -> Value {
    keys.iter()
        .map(|k| &m[*k])
        .find(|v| v.is_number())
        .cloned()
        .unwrap_or(Value::Null)
}

/// What a resource's page shows, from the files of environment `env`: None when no saved
/// report names the resource and no issue touches it.
pub struct ResourceInputs<'a> {
    pub env: &'a str,
    pub id: &'a str,
    /// The environment's health reports folder.
    pub reports: &'a Path,
    /// The environment's investigations folder.
    pub investigations: &'a Path,
    /// The environment's remediation history (`history.jsonl`).
    pub history: &'a Path,
    /// Active and resolved issues.
    pub issues: &'a [Issue],
    /// The environment's SLO report from the watch state (`slo --format json`'s document).
    pub slo: Option<&'a Value>,
    /// The resource's objectives: (error rate %, p95 latency ms) lines for the charts.
    pub error_rate_slo: Option<f64>,
    pub latency_slo_ms: Option<f64>,
}

pub fn resource_page(i: &ResourceInputs) -> Option<Value> {
    let mut points = Vec::new();
    let mut latest: Option<Value> = None;
    for (path, report) in newest_json(i.reports, HISTORY_REPORTS) {
        let Some(r) = report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"] == i.id)
        else {
            continue;
        };
        let m = &r["metrics"];
        points.push(json!({
            "at": report["timestamp"],
            "status": r["status"],
            "error_rate_percent": metric(m, &["error_rate_percent", "5xx_rate_percent"]),
            "latency_p95_ms": metric(m, &["duration_p95_ms", "latency_p95_ms", "p95_ms"]),
            "report": path.file_name().map(|f| f.to_string_lossy().into_owned()),
        }));
        latest = Some(r.clone());
    }
    let issues: Vec<Value> = i
        .issues
        .iter()
        .filter(|x| x.environment == i.env && x.affected_resources.iter().any(|r| r == i.id))
        .map(|x| {
            json!({"id": x.id, "title": x.title, "severity": x.severity, "status": x.status,
                   "detected_at": x.detected_at, "resolved_at": x.resolved_at})
        })
        .collect();
    if latest.is_none() && issues.is_empty() {
        return None;
    }
    let issue_ids: Vec<&str> = issues.iter().filter_map(|x| x["id"].as_str()).collect();
    // The newest investigation of one of its issues.
    let investigation = newest_json(i.investigations, 200)
        .into_iter()
        .rev()
        .find(|(p, _)| {
            let name = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
            issue_ids.iter().any(|id| name.contains(id))
        })
        .map(|(p, v)| {
            json!({"file": p.file_name().map(|f| f.to_string_lossy().into_owned()),
                   "root_cause": v["root_cause"].clone(), "summary": v["summary"].clone()})
        });
    let remediations: Vec<Value> = remediations(i.history, 500)
        .into_iter()
        .filter(|r| r["target"]["id"] == i.id)
        .take(20)
        .collect();
    let objectives: Vec<Value> = i
        .slo
        .and_then(|s| s["slo_report"]["objectives"].as_array())
        .into_iter()
        .flatten()
        .filter(|o| o["resource"] == i.id)
        .cloned()
        .collect();
    Some(json!({
        "resource": {
            "id": i.id,
            "environment": i.env,
            "type": latest.as_ref().map(|l| l["type"].clone()),
            "name": latest.as_ref().map(|l| l["name"].clone()),
            "arn": latest.as_ref().map(|l| l["arn"].clone()),
            "status": latest.as_ref().map(|l| l["status"].clone()).unwrap_or(json!("UNKNOWN")),
            "reasons": latest.as_ref().map(|l| l["reasons"].clone()),
        },
        "history": points,
        "slo_lines": {"error_rate_percent": i.error_rate_slo, "latency_p95_ms": i.latency_slo_ms},
        "objectives": objectives,
        "alarms": latest.as_ref().map(|l| l["alarms"].clone()).unwrap_or(json!([])),
        "issues": issues,
        "investigation": investigation,
        "remediations": remediations,
    }))
}

/// The saved documents (investigations or audits) of a folder, newest first: file name,
/// time and a one-line summary.
pub fn documents(dir: &Path, n: usize) -> Vec<Value> {
    newest_json(dir, n)
        .into_iter()
        .rev()
        .map(|(p, v)| {
            let summary = v["root_cause"]["summary"]
                .as_str()
                .or(v["summary"]["overall_status"].as_str())
                .or(v["root_cause"].as_str())
                .map(str::to_string)
                .unwrap_or_default();
            json!({
                "file": p.file_name().map(|f| f.to_string_lossy().into_owned()),
                "timestamp": v["timestamp"].as_str().or(v["audit"]["timestamp"].as_str()),
                "type": v["audit"]["type"],
                "issue": v["issue_id"].as_str().or(v["issue"]["id"].as_str()),
                "summary": summary,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_safe() {
        for ok in ["20261203T060915Z-infra-001.json", "api-lambda", "test"] {
            assert!(safe_name(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".hidden",
            "../x",
            "a/b",
            "a\\b",
            "x%2F..",
            "é",
            &"a".repeat(201),
        ] {
            assert!(!safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_resource_page_gathers_its_history_issues_and_remediations() {
        let dir = tempfile::tempdir().unwrap();
        let reports = dir.path().join("monitoring");
        std::fs::create_dir_all(&reports).unwrap();
        for (n, status, err) in [(1, "HEALTHY", 0.0), (2, "UNHEALTHY", 3.1)] {
            std::fs::write(
                reports.join(format!("2026120{n}T000000Z-health-check.json")),
                json!({"timestamp": format!("2026-12-0{n}T00:00:00Z"), "results": [
                    {"id": "api", "type": "lambda", "name": "f", "status": status, "reasons": [],
                     "metrics": {"error_rate_percent": err, "duration_p95_ms": 120}, "alarms": []},
                    {"id": "other", "status": "HEALTHY", "metrics": {}}]})
                .to_string(),
            )
            .unwrap();
        }
        std::fs::write(reports.join("broken.json"), "{").unwrap();
        let history = dir.path().join("history.jsonl");
        std::fs::write(
            &history,
            "{\"target\":{\"id\":\"api\"},\"decision\":\"succeeded\"}\nnot json\n{\"target\":{\"id\":\"other\"}}\n",
        )
        .unwrap();
        let page = resource_page(&ResourceInputs {
            env: "test",
            id: "api",
            reports: &reports,
            investigations: &dir.path().join("none"),
            history: &history,
            issues: &[],
            slo: None,
            error_rate_slo: Some(0.1),
            latency_slo_ms: Some(200.0),
        })
        .unwrap();
        assert_eq!(page["history"].as_array().unwrap().len(), 2);
        assert_eq!(page["history"][1]["error_rate_percent"], 3.1);
        assert_eq!(page["resource"]["status"], "UNHEALTHY");
        assert_eq!(page["remediations"].as_array().unwrap().len(), 1);
        let none = resource_page(&ResourceInputs {
            env: "test",
            id: "ghost",
            reports: &reports,
            investigations: &dir.path().join("none"),
            history: &history,
            issues: &[],
            slo: None,
            error_rate_slo: None,
            latency_slo_ms: None,
        });
        assert!(none.is_none());
    }
}
