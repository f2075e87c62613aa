//! The lifecycle, end to end on the emulator: a deployment registered as faber-cloud would
//! → health finds an unhealthy function and opens an issue → investigate --issue names the
//! cause → remediate --issue --yes applies and verifies → the next health resolves the
//! issue → the dashboard shows it resolved. The retired ops-manage form prints its notice;
//! the direct commands print none.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};

#[test]
fn deploy_detect_investigate_remediate_resolve() {
    let emu = Emulator::shared();
    let p = unique_name("life");
    let f = format!("{p}-api");
    let dims = json!({"FunctionName": f});
    let created: Value = serde_json::from_str(&emu.seed(
        &json!({
            "lambdas": [{"name": f, "env": {"STAGE": "test"}}],
            "metrics": [
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 200},
                {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 30},
                {"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": [80.0, 90.0]},
                // The recovery, an hour and a half from now (the later checks run at that time).
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 200, "minutes_ago": -80},
                {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 0, "minutes_ago": -80},
                {"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": [80.0, 90.0], "minutes_ago": -80},
            ],
            "log_events": [{"group": format!("/aws/lambda/{f}"), "messages": [
                "START RequestId: 1 Version: $LATEST",
                "2026-01-01T00:00:00.000Z 1 Task timed out after 3.00 seconds",
                "2026-01-01T00:00:00.000Z 2 Task timed out after 3.00 seconds",
                "2026-01-01T00:00:00.000Z 3 Task timed out after 3.00 seconds",
            ]}],
        })
        .to_string(),
    ))
    .unwrap();
    let dir = project();
    let root = dir.path();
    write(
        root,
        ".fractary/shared/aws-credentials.json",
        r#"{"version": "1.0.0", "aws": {"region": "us-east-1"}}"#,
    );

    // 1. faber-cloud records the deployment.
    let deployment = json!({"id": "acme-test", "environment": "test", "project": "acme", "version": "1.4.2",
        "deployed_at": helm_core::clock::rfc3339(chrono::Utc::now() - chrono::Duration::minutes(20)), "deployed_by": "faber-cloud",
        "resources": [{"id": "api", "type": "AWS::Lambda::Function", "arn": created["lambda"][&f]}]});
    let file = write(root, "deployment.json", &deployment.to_string());
    assert_eq!(
        helm_run(root, &["registry", "add", "--file", file.to_str().unwrap()]).code,
        0
    );

    // 2. health finds the failing function and opens an issue (the old form prints a notice).
    let old = helm_emu_at(
        root,
        &["ops-manage", "check-health", "--env=test", "--format=json"],
        None,
    );
    assert!(old.stderr.contains("deprecated"), "{}", old.stderr);
    assert_eq!(old.code, 2, "{old:?}");
    let report = old.json();
    let issue_id = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metric"] == "Errors")
        .unwrap()["issue_id"]
        .as_str()
        .unwrap()
        .to_string();

    // 3. investigate --issue names the cause.
    let inv = helm_emu_at(
        root,
        &["investigate", "--issue", &issue_id, "--format", "json"],
        None,
    );
    assert_eq!(inv.code, 0, "{inv:?}");
    assert!(!inv.stderr.contains("deprecated"));
    assert_eq!(inv.json()["root_cause"]["category"], "timeout");
    assert!(
        inv.json()["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r
                .as_str()
                .unwrap()
                .contains("remediate --action restart_lambda --service api"))
    );

    // 4. remediate --issue --yes applies and verifies the fitting action.
    let rem = helm_emu_at(
        root,
        &[
            "remediate",
            "--issue",
            &issue_id,
            "--yes",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(rem.code, 0, "{rem:?}");
    assert_eq!(rem.json()["action"], "restart_lambda");
    assert_eq!(rem.json()["verification"]["ok"], true);

    // 5. The next health check (after the recovery) resolves the issue.
    let later = helm_core::clock::rfc3339(chrono::Utc::now() + chrono::Duration::minutes(90));
    let after = helm_emu_at(root, &["health", "--format", "json"], Some(&later));
    assert_eq!(after.code, 0, "{after:?}");
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root.join(format!(".fractary/helm/issues/resolved/{issue_id}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(issue["status"], "resolved");
    let events: Vec<&str> = issue["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["opened", "investigated", "remediated", "resolved"]);

    // 6. The dashboard shows it resolved.
    let dash = helm_emu_at(
        root,
        &["dashboard", "--env", "test", "--format", "json"],
        Some(&later),
    );
    let d = &dash.json()["dashboard"];
    assert_eq!(d["overall_health"], "HEALTHY", "{d:#}");
    assert!(
        d["recently_resolved"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == issue_id.as_str())
    );
    assert!(
        !d["top_issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == issue_id.as_str())
    );
    assert!(!dash.stderr.contains("deprecated"));
}
