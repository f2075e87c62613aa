//! `audit diff OLD NEW` and `audit --since-last`: what is new, resolved and unchanged
//! between two audit reports. A finding absent from the newer report is resolved only when
//! the newer run evaluated its check (and, for a regional resource, its region); otherwise
//! it is "not re-evaluated", never quietly counted as fixed.

use super::export::region_of;
use serde_json::{Value, json};

fn findings(report: &Value) -> Vec<&Value> {
    ["critical", "high", "medium", "low"]
        .iter()
        .flat_map(|s| {
            report["findings"]["by_severity"][*s]
                .as_array()
                .into_iter()
                .flatten()
        })
        .collect()
}

fn key(f: &Value) -> (&str, &str) {
    (
        f["check"].as_str().unwrap_or_default(),
        f["resource"].as_str().unwrap_or_default(),
    )
}

fn brief(f: &Value) -> Value {
    json!({
        "check": f["check"],
        "resource": f["resource"],
        "severity": f["severity"],
        "title": f["title"],
    })
}

/// Whether `newer` evaluated `check` on `resource`: its `checks_evaluated` lists the check
/// and its `audit.regions` the resource's region. A report written before those fields
/// existed counts only when its evaluation was complete.
fn re_evaluated(newer: &Value, check: &str, resource: &str) -> bool {
    let Some(checks) = newer["checks_evaluated"].as_array() else {
        return newer["summary"]["evaluation"] == "complete";
    };
    let known = checks.iter().any(|c| c == check);
    // Checks outside the catalogue (cost, Security Hub's own) are judged by the run's
    // evaluation as a whole.
    let catalogued = super::catalogue::get(check).is_some() || check.starts_with("cis.");
    let check_ok = known || (!catalogued && newer["summary"]["evaluation"] == "complete");
    let region_ok = match (region_of(resource), newer["audit"]["regions"].as_array()) {
        (Some(r), Some(regions)) => regions.iter().any(|x| x == r),
        _ => true,
    };
    check_ok && region_ok
}

/// The difference from `older` to `newer`.
pub fn diff(older: &Value, newer: &Value) -> Value {
    let (old, new) = (findings(older), findings(newer));
    let mut added = Vec::new();
    let mut unchanged = Vec::new();
    let mut worse = Vec::new();
    for f in &new {
        match old.iter().find(|o| key(o) == key(f)) {
            None => added.push(brief(f)),
            Some(o) => {
                let mut b = brief(f);
                if o["severity"] != f["severity"] {
                    b["was"] = o["severity"].clone();
                    worse.push(b.clone());
                }
                unchanged.push(b);
            }
        }
    }
    let mut resolved = Vec::new();
    let mut not_re_evaluated = Vec::new();
    for o in &old {
        if new.iter().any(|f| key(f) == key(o)) {
            continue;
        }
        let (check, resource) = key(o);
        let suppressed = newer["suppressed"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| key(s) == (check, resource));
        if suppressed {
            let mut b = brief(o);
            b["why"] = json!("suppressed in the newer report");
            not_re_evaluated.push(b);
        } else if re_evaluated(newer, check, resource) {
            resolved.push(brief(o));
        } else {
            not_re_evaluated.push(brief(o));
        }
    }
    json!({
        "older": {"report": older["report_path"], "timestamp": older["audit"]["timestamp"], "type": older["audit"]["type"]},
        "newer": {"report": newer["report_path"], "timestamp": newer["audit"]["timestamp"], "type": newer["audit"]["type"]},
        "counts": {
            "new": added.len(),
            "resolved": resolved.len(),
            "unchanged": unchanged.len(),
            "severity_changed": worse.len(),
            "not_re_evaluated": not_re_evaluated.len(),
        },
        "new": added,
        "resolved": resolved,
        "unchanged": unchanged,
        "severity_changed": worse,
        "not_re_evaluated": not_re_evaluated,
    })
}

/// The text a person reads.
pub fn render(d: &Value) -> String {
    let c = &d["counts"];
    let mut s = format!(
        "audit diff {} → {}: {} new, {} resolved, {} unchanged ({} changed severity), {} not re-evaluated\n",
        d["older"]["timestamp"].as_str().unwrap_or("?"),
        d["newer"]["timestamp"].as_str().unwrap_or("?"),
        c["new"],
        c["resolved"],
        c["unchanged"],
        c["severity_changed"],
        c["not_re_evaluated"]
    );
    for (k, label) in [
        ("new", "NEW"),
        ("resolved", "RESOLVED"),
        ("severity_changed", "CHANGED"),
        ("not_re_evaluated", "NOT RE-EVALUATED"),
    ] {
        for f in d[k].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "  {label:<16} {:<8} {} ({}){}\n",
                f["severity"].as_str().unwrap_or_default(),
                f["check"].as_str().unwrap_or_default(),
                f["resource"].as_str().unwrap_or_default(),
                f["was"]
                    .as_str()
                    .map(|w| format!(", was {w}"))
                    .unwrap_or_default()
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(check: &str, resource: &str, sev: &str) -> Value {
        json!({"check": check, "resource": resource, "severity": sev, "title": check})
    }

    fn report(findings: Vec<Value>, checks: &[&str], regions: &[&str]) -> Value {
        let mut by = json!({"critical": [], "high": [], "medium": [], "low": []});
        for x in findings {
            let s = x["severity"].as_str().unwrap().to_string();
            by[s].as_array_mut().unwrap().push(x);
        }
        json!({
            "audit": {"timestamp": "t", "type": "security", "regions": regions},
            "summary": {"evaluation": "partial"},
            "findings": {"by_severity": by},
            "checks_evaluated": checks,
        })
    }

    #[test]
    fn new_resolved_unchanged_and_what_was_not_looked_at_again() {
        let old = report(
            vec![
                f("ebs.unencrypted_volume", "vol-1 (us-east-1)", "medium"),
                f("ebs.unencrypted_volume", "vol-2 (eu-west-1)", "medium"),
                f("kms.rotation_off", "k (us-east-1)", "medium"),
                f("iam.console_no_mfa", "user a", "high"),
                f("s3.versioning_off", "b", "low"),
            ],
            &[],
            &[],
        );
        let new = report(
            vec![
                f("iam.console_no_mfa", "user a", "critical"),
                f("iam.role_trust_any", "role r", "critical"),
            ],
            &[
                "ebs.unencrypted_volume",
                "iam.console_no_mfa",
                "iam.role_trust_any",
            ],
            &["us-east-1"],
        );
        let mut new = new;
        new["suppressed"] = json!([f("s3.versioning_off", "b", "low")]);
        let d = diff(&old, &new);
        let ids = |k: &str| -> Vec<String> {
            d[k].as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    format!(
                        "{} {}",
                        x["check"].as_str().unwrap(),
                        x["resource"].as_str().unwrap()
                    )
                })
                .collect()
        };
        assert_eq!(ids("new"), ["iam.role_trust_any role r"]);
        assert_eq!(ids("unchanged"), ["iam.console_no_mfa user a"]);
        assert_eq!(d["severity_changed"][0]["was"], "high");
        // vol-1: check evaluated in its region. vol-2: its region was not swept. The key:
        // its check was not evaluated. The bucket: suppressed, not fixed.
        assert_eq!(
            ids("resolved"),
            ["ebs.unencrypted_volume vol-1 (us-east-1)"]
        );
        assert_eq!(
            ids("not_re_evaluated"),
            [
                "ebs.unencrypted_volume vol-2 (eu-west-1)",
                "kms.rotation_off k (us-east-1)",
                "s3.versioning_off b"
            ]
        );
        assert!(
            render(&d).contains(
                "1 new, 1 resolved, 1 unchanged (1 changed severity), 3 not re-evaluated"
            )
        );
    }
}
