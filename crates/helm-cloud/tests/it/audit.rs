//! `audit --type cost` against the emulator: budget findings from seeded Cost Explorer
//! data, each waste rule, the request count and the same-day cache, the JSON shape and
//! exit codes. (Security and compliance are not in this version.)

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};

/// Seed daily costs (the launcher answers GetCostAndUsage from them, by requested period).
fn seed_costs(rows: &[(String, &str, f64)]) {
    let costs: Vec<Value> = rows
        .iter()
        .map(|(d, s, a)| json!({"date": d, "service": s, "amount": a}))
        .collect();
    let (code, body) = Emulator::shared()
        .request(
            "POST",
            "/helm-emulator/ce/daily-costs",
            &json!({"costs": costs}).to_string(),
        )
        .unwrap();
    assert_eq!(code, 200, "{body}");
}

fn checks(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for sev in ["critical", "high", "medium", "low"] {
        for f in report["findings"]["by_severity"][sev].as_array().unwrap() {
            out.push(f["check"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn budget_findings_from_seeded_costs_with_one_request_set_per_day() {
    // March 2025: a flat week, then a spike on the 15th (Lambda +$20, RDS +$5).
    let mut rows: Vec<(String, &str, f64)> = (8..=14)
        .map(|d| (format!("2025-03-{d:02}"), "AWS Lambda", 50.0))
        .collect();
    rows.push(("2025-03-15".into(), "AWS Lambda", 70.0));
    rows.push(("2025-03-15".into(), "Amazon RDS", 5.0));
    // April 2025: $120 every day: over the daily budget, ahead of pace, forecast over budget.
    rows.extend((1..=15).map(|d| (format!("2025-04-{d:02}"), "AWS Lambda", 120.0)));
    seed_costs(&rows);
    let dir = emulated_project();

    let march = helm_emu(
        dir.path(),
        &[
            "audit",
            "--type",
            "cost",
            "--format",
            "json",
            "--now",
            "2025-03-16T12:00:00Z",
        ],
    );
    assert_eq!(
        march.code, 2,
        "a spike is an error-level finding: {march:?}"
    );
    let r = march.json();
    assert_eq!(checks(&r), ["cost.spike"]);
    let spike = &r["findings"]["by_severity"]["high"][0];
    assert!(
        spike["detail"]
            .as_str()
            .unwrap()
            .contains("AWS Lambda +$20.00, Amazon RDS +$5.00"),
        "{spike}"
    );
    assert_eq!(r["metrics"]["last_day_usd"], 75.0);
    assert_eq!(r["metrics"]["previous_7_day_mean_usd"], 50.0);
    assert_eq!(r["metrics"]["month_to_date_usd"], 425.0);
    assert_eq!(r["metrics"]["cost_explorer_requests"], 2);
    assert_eq!(r["summary"]["overall_status"], "error");
    assert_eq!(r["summary"]["exit_code"], 2);
    for key in [
        "audit",
        "summary",
        "findings",
        "metrics",
        "recommendations",
        "report_path",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    let md = std::fs::read_to_string(
        dir.path()
            .join(r["report_path"].as_str().unwrap())
            .with_extension("md"),
    )
    .unwrap();
    assert!(
        md.contains("## Executive summary") && md.contains("### HIGH"),
        "{md}"
    );

    // The same day again: answered from the cache, no request.
    let again = helm_emu(
        dir.path(),
        &[
            "audit",
            "--type",
            "cost",
            "--format",
            "json",
            "--now",
            "2025-03-16T18:00:00Z",
        ],
    );
    assert_eq!(again.json()["metrics"]["cost_explorer_requests"], 0);
    assert_eq!(again.json()["metrics"]["cost_explorer_cached_answers"], 2);
    assert_eq!(again.json()["metrics"]["last_day_usd"], 75.0);

    let april = helm_emu(
        dir.path(),
        &[
            "audit",
            "--type",
            "cost",
            "--format",
            "json",
            "--now",
            "2025-04-16T12:00:00Z",
        ],
    );
    let a = april.json();
    assert_eq!(
        checks(&a),
        ["cost.daily_budget", "cost.monthly_pace", "cost.forecast"]
    );
    assert_eq!(a["metrics"]["forecast_month_end_usd"], 3600.0);
    assert_eq!(a["metrics"]["budget_pace_usd"], 1500.0);
    assert_eq!(
        a["metrics"]["cost_explorer_requests"], 2,
        "a new day asks again"
    );
    // The budget overruns opened issues (test: HIGH and MEDIUM).
    let opened: Vec<String> = a["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        opened,
        [
            "test/account/cost.daily_budget",
            "test/account/cost.forecast"
        ]
    );

    let quiet = helm_emu(
        dir.path(),
        &[
            "audit",
            "--type",
            "cost",
            "--format",
            "json",
            "--now",
            "2025-06-16T12:00:00Z",
        ],
    );
    assert_eq!(quiet.code, 0, "no cost, no finding: pass");
    assert_eq!(quiet.json()["summary"]["overall_status"], "pass");
    // The overruns resolved when gone: both issues, on the evidence of this cost audit.
    let resolved: Vec<String> = quiet.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["resolved"] == true)
        .map(|i| i["issue_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(resolved.len(), 2, "{:#}", quiet.json()["issues"]);
    for id in &resolved {
        let text = std::fs::read_to_string(
            dir.path()
                .join(format!(".fractary/helm/issues/resolved/{id}.json")),
        )
        .unwrap();
        let issue: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(issue["status"], "resolved");
        assert!(
            !dir.path()
                .join(format!(".fractary/helm/issues/active/{id}.json"))
                .exists()
        );
    }
}

#[test]
fn each_waste_rule_finds_its_resource() {
    let emu = Emulator::shared();
    let p = unique_name("waste");
    let db = format!("{p}-db");
    let created: Value = serde_json::from_str(&emu.seed(
        &json!({
            "lambdas": [{"name": format!("{p}-idle")}, {"name": format!("{p}-busy")}],
            "rds": [{"id": db}, {"id": format!("{p}-used")}],
            "ecs": [{"cluster": format!("{p}-c"), "service": format!("{p}-big"), "desired": 2}],
            "metrics": [
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": {"FunctionName": format!("{p}-busy")}, "value": 10},
                {"namespace": "AWS/RDS", "name": "CPUUtilization", "dimensions": {"DBInstanceIdentifier": db}, "value": 2},
                {"namespace": "AWS/RDS", "name": "DatabaseConnections", "dimensions": {"DBInstanceIdentifier": db}, "value": 0},
                {"namespace": "AWS/RDS", "name": "CPUUtilization", "dimensions": {"DBInstanceIdentifier": format!("{p}-used")}, "value": 2},
                {"namespace": "AWS/RDS", "name": "DatabaseConnections", "dimensions": {"DBInstanceIdentifier": format!("{p}-used")}, "value": 12},
                {"namespace": "AWS/ECS", "name": "CPUUtilization", "dimensions": {"ClusterName": format!("{p}-c"), "ServiceName": format!("{p}-big")}, "value": 4},
            ],
            "log_events": [
                {"group": format!("/aws/lambda/{p}-idle"), "messages": []},
                {"group": format!("/aws/lambda/{p}-busy"), "messages": [], "retention_days": 14},
            ],
        })
        .to_string(),
    ))
    .unwrap();
    let dir = emulated_project();
    let resources = json!([
        {"id": "idle", "type": "lambda", "arn": created["lambda"][format!("{p}-idle")]},
        {"id": "busy", "type": "lambda", "arn": created["lambda"][format!("{p}-busy")]},
        {"id": "db", "type": "rds", "arn": created["rds"][&db]},
        {"id": "used-db", "type": "rds", "arn": created["rds"][format!("{p}-used")]},
        {"id": "big", "type": "ecs", "arn": created["ecs"][format!("{p}-big")]},
    ]);
    let f = write(
        dir.path(),
        "d.json",
        &json!({"id": p, "environment": "test", "resources": resources}).to_string(),
    );
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    let r = helm_emu(dir.path(), &["audit", "--type", "cost", "--format", "json"]);
    assert_eq!(r.code, 1, "waste is a warning: {r:?}");
    let low = r.json()["findings"]["by_severity"]["low"]
        .as_array()
        .unwrap()
        .clone();
    let found: Vec<(String, String)> = low
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        found.contains(&("waste.lambda_idle".into(), "idle".into())),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(c, r)| c == "waste.lambda_idle" && r == "busy")
    );
    assert!(
        found.contains(&("waste.rds_idle".into(), "db".into())),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(_, r)| r == "used-db"),
        "a database with connections is not idle"
    );
    assert!(
        found.contains(&("waste.ecs_oversized".into(), "big".into())),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(c, r)| c == "waste.log_retention" && r.starts_with("idle ")),
        "no retention: {found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(c, r)| c == "waste.log_retention" && r.starts_with("busy ")),
        "14 days is within 30"
    );
    let rds = low.iter().find(|f| f["check"] == "waste.rds_idle").unwrap();
    assert_eq!(rds["monthly_savings_usd"], 13.14, "db.t3.micro at $0.018/h");
    assert!(
        r.json()["metrics"]["estimated_monthly_savings_usd"]
            .as_f64()
            .unwrap()
            > 13.0
    );
}
