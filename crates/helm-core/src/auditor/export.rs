//! An audit report in the formats other tools read: SARIF 2.1.0 (GitHub code scanning),
//! OCSF 1.x Detection Findings (what Prowler and Security Hub speak) and CSV. Each is made
//! from the saved report (the JSON `audit --format json` prints), so a report of any age
//! can be exported again, and the formats never disagree with it.

use serde_json::{Value, json};

/// The export formats of `audit --output`.
pub const FORMATS: [&str; 3] = ["sarif", "ocsf", "csv"];

/// A finding of the report with whether it was suppressed.
struct Row<'a> {
    f: &'a Value,
    suppressed: bool,
}

fn rows(report: &Value) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    for sev in ["critical", "high", "medium", "low"] {
        for f in report["findings"]["by_severity"][sev]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push(Row {
                f,
                suppressed: false,
            });
        }
    }
    for f in report["suppressed"].as_array().into_iter().flatten() {
        out.push(Row {
            f,
            suppressed: true,
        });
    }
    out
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

/// The region a resource is named in (`vol-1 (eu-west-1)`), if any: only a name shaped as
/// an AWS region (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`) counts, so a group's name
/// in parentheses (`sg-1 (web-prod)`) is not taken for one.
pub fn region_of(resource: &str) -> Option<&str> {
    let inner = resource.strip_suffix(')')?.rsplit_once(" (")?.1;
    let parts: Vec<&str> = inner.split('-').collect();
    let words = [
        "east",
        "west",
        "north",
        "south",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
        "gov",
        "iso",
        "isob",
    ];
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|w| words.contains(w))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
    ok.then_some(inner)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// SARIF 2.1.0: one rule per check, one result per finding (suppressed ones carry a
/// `suppressions` entry with the team's reason, as code scanning expects).
pub fn sarif(report: &Value, tool_version: &str) -> Value {
    let rows = rows(report);
    let mut rule_ids: Vec<&str> = rows.iter().map(|r| s(r.f, "check")).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let f = rows.iter().find(|r| s(r.f, "check") == *id).map(|r| r.f);
            let f = f.expect("a rule comes from a finding");
            let sev = s(f, "severity");
            let fix = &f["remediation"];
            let mut help = format!("{}\n", s(f, "recommendation"));
            for (k, label) in [
                ("cli", "CLI"),
                ("terraform", "Terraform"),
                ("console", "Console"),
            ] {
                if let Some(t) = fix[k].as_str() {
                    help.push_str(&format!("{label}: {t}\n"));
                }
            }
            let mut tags = vec!["security".to_string(), "cloud".to_string()];
            tags.extend(
                strings(&f["cis_3_0"])
                    .iter()
                    .map(|c| format!("CIS-3.0/{c}")),
            );
            tags.extend(strings(&f["fsbp"]).iter().map(|c| format!("FSBP/{c}")));
            json!({
                "id": id,
                "name": id.replace('.', "_"),
                "shortDescription": {"text": s(f, "title")},
                "fullDescription": {"text": s(f, "title")},
                "help": {"text": help.trim_end()},
                "defaultConfiguration": {"level": sarif_level(sev)},
                "properties": {
                    "tags": tags,
                    "security-severity": security_severity(sev),
                    "problem.severity": sarif_level(sev),
                },
            })
        })
        .collect();
    let results: Vec<Value> = rows
        .iter()
        .map(|r| {
            let (check, resource) = (s(r.f, "check"), s(r.f, "resource"));
            let mut res = json!({
                "ruleId": check,
                "ruleIndex": rule_ids.iter().position(|x| *x == check).unwrap_or(0),
                "level": sarif_level(s(r.f, "severity")),
                "message": {"text": format!("{} ({}): {}", s(r.f, "title"), resource, s(r.f, "detail"))},
                // Cloud resources have no file: the registry is the artifact they come from,
                // and the resource is the logical location.
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": ".fractary/registry/deployments.json"}},
                    "logicalLocations": [{"name": resource, "fullyQualifiedName": resource, "kind": "resource"}],
                }],
                "partialFingerprints": {"helmFinding/v1": format!("{check}|{resource}")},
                "properties": {"severity": s(r.f, "severity")},
            });
            if r.suppressed {
                res["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": s(r.f, "reason"),
                }]);
            }
            res
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "helm-cloud",
                "version": tool_version,
                "informationUri": "https://github.com/fractary/claude-plugins",
                "rules": rules,
            }},
            "automationDetails": {"id": format!("helm-cloud/audit/{}/{}", s(&report["audit"], "environment"), s(&report["audit"], "type"))},
            "invocations": [{
                "executionSuccessful": report["summary"]["evaluation"] != "none",
                "toolExecutionNotifications": strings(&report["summary"]["not_evaluated"])
                    .iter()
                    .map(|n| json!({"level": "warning", "message": {"text": format!("not evaluated: {n}")}}))
                    .collect::<Vec<_>>(),
            }],
            "results": results,
        }],
    })
}

fn sarif_level(sev: &str) -> &'static str {
    match sev {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

/// GitHub's `security-severity`: critical over 9, high 7 to 8.9, medium 4 to 6.9, low under 4.
fn security_severity(sev: &str) -> &'static str {
    match sev {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        _ => "3.0",
    }
}

/// OCSF Detection Findings (class 2004), one per finding, as Prowler writes them: the check
/// in `metadata.event_code`, the resource in `resources`, the standards in
/// `unmapped.compliance`. `time` is the audit's time in epoch milliseconds.
pub fn ocsf(report: &Value, tool_version: &str, account: Option<&str>) -> Value {
    let when = chrono::DateTime::parse_from_rfc3339(s(&report["audit"], "timestamp"))
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let env = s(&report["audit"], "environment");
    let items: Vec<Value> = rows(report)
        .iter()
        .map(|r| {
            let f = r.f;
            let (check, resource, sev) = (s(f, "check"), s(f, "resource"), s(f, "severity"));
            let (severity_id, severity) = match sev {
                "critical" => (5, "Critical"),
                "high" => (4, "High"),
                "medium" => (3, "Medium"),
                _ => (2, "Low"),
            };
            let region = region_of(resource);
            let mut cloud = json!({"provider": "aws"});
            if let Some(r) = region {
                cloud["region"] = json!(r);
            }
            if let Some(a) = account {
                cloud["account"] = json!({"uid": a, "type": "AWS Account", "type_id": 10, "name": a});
            }
            let mut refs: Vec<String> = Vec::new();
            for (k, label) in [("cli", "CLI"), ("terraform", "Terraform"), ("console", "Console")] {
                if let Some(t) = f["remediation"][k].as_str() {
                    refs.push(format!("{label}: {t}"));
                }
            }
            let mut compliance = serde_json::Map::new();
            let cis = strings(&f["cis_3_0"]);
            if !cis.is_empty() {
                compliance.insert("CIS-3.0".into(), json!(cis));
            }
            let fsbp = strings(&f["fsbp"]);
            if !fsbp.is_empty() {
                compliance.insert("AWS-Foundational-Security-Best-Practices".into(), json!(fsbp));
            }
            json!({
                "message": format!("{} ({}): {}", s(f, "title"), resource, s(f, "detail")),
                "metadata": {
                    "event_code": check,
                    "product": {"name": "helm-cloud", "uid": "helm-cloud", "vendor_name": "Fractary", "version": tool_version},
                    "profiles": ["cloud", "datetime"],
                    "version": "1.4.0",
                },
                "severity_id": severity_id,
                "severity": severity,
                "status_id": if r.suppressed { 3 } else { 1 },
                "status": if r.suppressed { "Suppressed" } else { "New" },
                "status_code": "FAIL",
                "status_detail": s(f, "detail"),
                "activity_id": 1,
                "activity_name": "Create",
                "finding_info": {
                    "uid": format!("helm-cloud-{env}-{check}-{resource}"),
                    "title": s(f, "title"),
                    "desc": s(f, "detail"),
                    "types": [crate::auditor::type_of_check(check)],
                    "created_time": when.timestamp_millis(),
                    "created_time_dt": crate::clock::rfc3339(when),
                },
                "resources": [{
                    "uid": resource,
                    "name": resource,
                    "type": check.split('.').next().unwrap_or_default(),
                    "cloud_partition": "aws",
                    "region": region,
                    "group": {"name": check.split('.').next().unwrap_or_default()},
                    "labels": [format!("environment:{env}")],
                }],
                "category_uid": 2,
                "category_name": "Findings",
                "class_uid": 2004,
                "class_name": "Detection Finding",
                "type_uid": 200401,
                "type_name": "Detection Finding: Create",
                "cloud": cloud,
                "remediation": {"desc": s(f, "recommendation"), "references": refs},
                "risk_details": s(f, "detail"),
                "time": when.timestamp_millis(),
                "time_dt": crate::clock::rfc3339(when),
                "unmapped": {"compliance": compliance, "suppression_reason": if r.suppressed { json!(s(f, "reason")) } else { Value::Null }},
            })
        })
        .collect();
    Value::Array(items)
}

/// The columns of [`csv`].
pub const CSV_COLUMNS: [&str; 11] = [
    "status",
    "severity",
    "check",
    "title",
    "resource",
    "region",
    "detail",
    "recommendation",
    "cis_3_0",
    "fsbp",
    "suppression_reason",
];

/// One field as RFC 4180 wants it; a value a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@` first) is led by a `'`.
fn field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// CSV, one finding a line (suppressed ones with status `suppressed`), CRLF line ends.
pub fn csv(report: &Value) -> String {
    let mut out = CSV_COLUMNS.join(",") + "\r\n";
    for r in rows(report) {
        let f = r.f;
        let resource = s(f, "resource");
        let cells = [
            if r.suppressed { "suppressed" } else { "fail" }.to_string(),
            s(f, "severity").to_string(),
            s(f, "check").to_string(),
            s(f, "title").to_string(),
            resource.to_string(),
            region_of(resource).unwrap_or_default().to_string(),
            s(f, "detail").to_string(),
            s(f, "recommendation").to_string(),
            strings(&f["cis_3_0"]).join(" "),
            strings(&f["fsbp"]).join(" "),
            if r.suppressed { s(f, "reason") } else { "" }.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Value {
        json!({
            "audit": {"type": "security", "environment": "test", "timestamp": "2026-12-03T06:00:00Z"},
            "summary": {"evaluation": "partial", "not_evaluated": ["security: iam.root_used: no root row"]},
            "findings": {"by_severity": {
                "critical": [{"check": "iam.role_trust_any", "title": "Role assumable by any AWS account", "resource": "role r", "severity": "critical", "detail": "Principal *", "recommendation": "Name the accounts", "cis_3_0": [], "fsbp": [], "remediation": {"cli": "aws iam update-assume-role-policy", "terraform": "t", "console": "c"}}],
                "high": [],
                "medium": [{"check": "ebs.unencrypted_volume", "title": "Unencrypted EBS volume", "resource": "vol-1 (eu-west-1)", "severity": "medium", "detail": "=cmd|' /C calc'!A0, \"quoted\"", "recommendation": "Encrypt", "cis_3_0": ["2.2.1"], "fsbp": ["EC2.3"]}],
                "low": [],
            }},
            "suppressed": [{"check": "s3.versioning_off", "title": "No versioning", "resource": "logs", "severity": "low", "detail": "d", "recommendation": "r", "reason": "log bucket, accepted", "expires": "2027-01-01"}],
        })
    }

    #[test]
    fn region_is_read_from_the_resource_name_only_when_it_is_one() {
        assert_eq!(region_of("vol-1 (eu-west-1)"), Some("eu-west-1"));
        assert_eq!(region_of("account (us-east-1)"), Some("us-east-1"));
        assert_eq!(region_of("user bob"), None);
        assert_eq!(region_of("bucket (with spaces)"), None);
        assert_eq!(region_of("sg-1 (web-prod-1)"), None);
        assert_eq!(region_of("d (us-gov-west-1)"), Some("us-gov-west-1"));
    }

    #[test]
    fn sarif_has_a_rule_per_check_a_result_per_finding_and_the_suppression() {
        let doc = sarif(&report(), "0.1.0");
        let run = &doc["runs"][0];
        assert_eq!(doc["version"], "2.1.0");
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 3);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[1]["level"], "warning");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        assert_eq!(
            results[2]["suppressions"][0]["justification"],
            "log bucket, accepted"
        );
        assert!(results[0].get("suppressions").is_none());
        assert_eq!(
            run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"],
            "not evaluated: security: iam.root_used: no root row"
        );
    }

    #[test]
    fn ocsf_findings_carry_severity_region_standards_and_status() {
        let doc = ocsf(&report(), "0.1.0", Some("123456789012"));
        let items = doc.as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["severity_id"], 5);
        assert_eq!(items[1]["cloud"]["region"], "eu-west-1");
        assert_eq!(items[1]["unmapped"]["compliance"]["CIS-3.0"][0], "2.2.1");
        assert_eq!(items[2]["status"], "Suppressed");
        assert_eq!(items[0]["time"], 1_796_277_600_000_i64);
        assert_eq!(items[0]["cloud"]["account"]["uid"], "123456789012");
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let text = csv(&report());
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(lines[1].starts_with("fail,critical,iam.role_trust_any,"));
        assert!(
            lines[2].contains("\"'=cmd|' /C calc'!A0, \"\"quoted\"\"\""),
            "{}",
            lines[2]
        );
        assert!(lines[3].starts_with("suppressed,low,s3.versioning_off,"));
        assert!(
            lines[3].ends_with(",log bucket, accepted")
                || lines[3].ends_with(",\"log bucket, accepted\"")
        );
        assert_eq!(lines.len(), 5, "three rows and the final line end");
    }
}
