//! A project as the real faber-cloud leaves it: its own config.json (no
//! aws-credentials.json), a per-environment registry with Terraform types, the plugins'
//! shared-registry entries and issue shapes, and the plugins' words on the command line.
//! The fixtures (`fixtures/faber-cloud/`) are in the shapes the plugins document.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::path::Path;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        helm_testsupport::repo_root()
            .join("crates/helm-cloud/tests/it/fixtures/faber-cloud")
            .join(name),
    )
    .unwrap()
}

const CONFIG: &str = ".fractary/plugins/faber-cloud/config.json";
const TEST_REGISTRY: &str = ".fractary/plugins/faber-cloud/deployments/test/registry.json";

/// A faber-cloud project: config.json and the test registry, nothing of helm-cloud's.
fn faber_project(function: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONFIG, &fixture("config.json"));
    write(
        dir.path(),
        TEST_REGISTRY,
        &fixture("registry.test.json").replace("@FUNCTION@", function),
    );
    dir
}

#[test]
fn faber_clouds_own_registry_and_config_are_read() {
    let dir = faber_project("acme-core-test-api");
    let r = helm_run(
        dir.path(),
        &["registry", "list", "--env", "test", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let text = r.stdout.clone();
    // Ids from aws_name; Terraform types (long and short) map to kinds; the IAM role is
    // listed as unsupported, not dropped.
    assert!(text.contains("acme-core-test-api"), "{text}");
    assert!(text.contains("acme-core-test-uploads"), "{text}");
    assert!(text.contains("aws_iam_role"), "{text}");
    let v = helm_run(dir.path(), &["config", "show", "--format", "json"]);
    assert_eq!(v.code, 0, "{v:?}");
    let s = &v.json()["settings"];
    assert_eq!(s["aws.region"]["value"], "us-east-1");
    assert_eq!(
        s["aws.credentials"]["value"],
        "profile acme-core-test-deploy"
    );
    let ok = helm_run(dir.path(), &["config", "validate", "--format", "json"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(
        ok.json()["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == TEST_REGISTRY && f["status"] == "ok"),
        "the per-environment registry is checked: {}",
        ok.stdout
    );
    // registry add takes the same file (and the shared-registry entry without ids).
    let dir2 = project();
    let f = write(
        dir2.path(),
        "reg.json",
        &fixture("registry.test.json").replace("@FUNCTION@", "f"),
    );
    let r = helm_run(
        dir2.path(),
        &[
            "registry",
            "add",
            "--file",
            f.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["added"], json!(["faber-cloud-test"]));
    let f = write(
        dir2.path(),
        "shared.json",
        &fixture("shared-deployment.json"),
    );
    let r = helm_run(
        dir2.path(),
        &["registry", "add", "--file", f.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let list = helm_run(
        dir2.path(),
        &["registry", "list", "--env", "prod", "--format", "json"],
    );
    assert!(
        list.stdout.contains("api-handler") && list.stdout.contains("uploads"),
        "{}",
        list.stdout
    );
    // Unknown fields stay in the file.
    let saved = std::fs::read_to_string(dir2.path().join(REGISTRY)).unwrap();
    assert!(
        saved.contains("helm_manager") && saved.contains("work_item"),
        "{saved}"
    );
}

#[test]
fn placeholders_warn_and_checking_files_needs_no_environment() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONFIG, &fixture("config.placeholders.json"));
    write(
        dir.path(),
        ENVIRONMENTS,
        r#"{"version": "1.0.0", "environments": {"qa": {"requires_confirmation": false}, "live": {"requires_confirmation": true}}}"#,
    );
    let r = helm_run(dir.path(), &["config", "validate"]);
    assert_eq!(
        r.code, 0,
        "no `test` environment is needed to check files: {r:?}"
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("placeholder \"{{AWS_ACCOUNT_ID}}\""), "{all}");
    let j = helm_run(dir.path(), &["config", "validate", "--format", "json"]).json();
    let cfg = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == CONFIG)
        .unwrap_or_else(|| panic!("{j:#}"));
    assert_eq!(cfg["status"], "warning", "a placeholder is never ok: {cfg}");
    let show = helm_run(
        dir.path(),
        &["config", "show", "--env", "qa", "--format", "json"],
    );
    assert_ne!(
        show.json()["settings"]["aws.region"]["value"],
        "{{AWS_REGION}}",
        "a placeholder is never used"
    );
    // `production` resolves to `live`, the only production-like environment here.
    let r = helm_run(
        dir.path(),
        &["issues", "--env", "production", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn monitoring_disabled_and_other_helm_plugins_are_not_checked() {
    let dir = emulated_project();
    let mut off: Value = serde_json::from_str(&fixture("shared-deployment.json")).unwrap();
    off["environment"] = json!("test");
    off["monitoring"]["enabled"] = json!(false);
    let mut other = off.clone();
    other["id"] = json!("deploy-app");
    other["monitoring"]["enabled"] = json!(true);
    other["helm_plugin"] = json!("fractary-helm-app");
    for (name, d) in [("off.json", off), ("other.json", other)] {
        let f = write(dir.path(), name, &d.to_string());
        assert_eq!(
            helm_run(
                dir.path(),
                &["registry", "add", "--file", f.to_str().unwrap()]
            )
            .code,
            0
        );
    }
    let r = helm_emu(dir.path(), &["health", "--format", "json"]);
    assert_eq!(r.code, 3, "nothing of ours to check: {r:?}");
    assert_eq!(r.json()["resources"]["total"], 0);
}

fn seed_issues(root: &Path) {
    write(
        root,
        ".fractary/helm/issues/active/infra-007.json",
        &fixture("issue.plugin-shape.json"),
    );
    write(
        root,
        ".fractary/helm/issues/active/infra-008.json",
        &json!({"id": "infra-008", "domain": "infrastructure", "severity": "CRITICAL", "title": "prod down",
                "description": "d", "slo_breach": true, "detected_at": "2026-11-30T10:00:00Z", "environment": "prod",
                "affected_resources": ["api"], "status": "active", "fingerprint": "prod/api/status", "source": "health", "history": []})
        .to_string(),
    );
    write(
        root,
        ".fractary/helm/issues/active/infra-009.json",
        "{ half written",
    );
}

#[test]
fn the_plugins_issue_shapes_are_read_and_an_unreadable_file_is_skipped() {
    let dir = project();
    seed_issues(dir.path());
    for args in [
        &["issues", "--format", "json"][..],
        &[
            "issues", "--env", "all", "--domain", "all", "--format", "json",
        ][..],
        &["issues", "--critical", "--format", "json"][..],
    ] {
        let r = helm_run(dir.path(), args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        let doc = r.json();
        let ids: Vec<&str> = doc["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&"infra-007") && ids.contains(&"infra-008"),
            "{args:?}: {ids:?}"
        );
        assert_eq!(r.json()["skipped_issue_files"], 1);
        assert!(
            r.stderr.contains("infra-009.json"),
            "the skipped file is named: {}",
            r.stderr
        );
    }
    let shown = helm_run(
        dir.path(),
        &["issues", "show", "infra-007", "--format", "json"],
    );
    assert_eq!(shown.json()["severity"], "CRITICAL");
    assert_eq!(shown.json()["title"], "API Lambda error rate SLO breach");
    assert_eq!(shown.json()["fingerprint"], "test/api/error_rate");
    // The dashboard shows what it can; `--domain all` is every domain.
    let d = helm_run(
        dir.path(),
        &[
            "dashboard",
            "--domain",
            "all",
            "--format",
            "json",
            "--now",
            "2026-11-30T12:00:00Z",
        ],
    );
    assert!(
        d.json()["dashboard"]["domains"]["infrastructure"].is_object(),
        "{d:?}"
    );
    assert_eq!(d.json()["dashboard"]["skipped_issue_files"], 1);
    // `ask` lists every environment's critical issues, as the plugin does.
    let a = helm_run(
        dir.path(),
        &["ask", "list all critical issues", "--format", "json"],
    );
    assert!(
        a.stdout.contains("infra-008"),
        "prod's issue is listed: {a:?}"
    );
    // escalate takes the plugin's upper-case priority and records escalation_status.
    let e = helm_run(
        dir.path(),
        &[
            "escalate",
            "infra-008",
            "--priority",
            "CRITICAL",
            "--format",
            "json",
        ],
    );
    assert_eq!(e.code, 0, "{e:?}");
    assert_eq!(e.json()["escalation_status"], "escalated");
    let saved = std::fs::read_to_string(
        dir.path()
            .join(".fractary/helm/issues/active/infra-008.json"),
    )
    .unwrap();
    assert!(
        saved.contains("\"escalation_status\": \"escalated\""),
        "{saved}"
    );
}

#[test]
fn the_plugins_words_for_actions_services_and_focus() {
    let emu = Emulator::shared();
    let p = unique_name("words");
    let f = format!("{p}-api");
    emu.seed(&json!({"lambdas": [{"name": f}]}).to_string());
    let dir = faber_project(&f);
    // --service=lambda: the environment's one Lambda.
    let r = helm_emu_at(
        dir.path(),
        &[
            "remediate",
            "--action=restart",
            "--service=lambda",
            "--dry-run",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "restart_lambda");
    assert_eq!(r.json()["target"]["id"], f.as_str());
    // ops-manage's own form, and an action alone when one resource fits it.
    let r = helm_emu_at(
        dir.path(),
        &[
            "ops-manage",
            "remediate",
            "--action=restart",
            &format!("--service={f}"),
            "--dry-run",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = helm_emu_at(
        dir.path(),
        &[
            "remediate",
            "--action=restart_lambda",
            "--env",
            "test",
            "--dry-run",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["target"]["id"], f.as_str());
    // remediate --issue on a plugin-format issue (its resource is this function).
    let mut issue: Value = serde_json::from_str(&fixture("issue.plugin-shape.json")).unwrap();
    issue["resource"]["name"] = json!(f);
    write(
        dir.path(),
        ".fractary/helm/issues/active/infra-007.json",
        &issue.to_string(),
    );
    let r = helm_emu_at(
        dir.path(),
        &[
            "remediate",
            "--issue",
            "infra-007",
            "--dry-run",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "restart_lambda");
    // audit --focus is audit --type; the document has the plugin's fields.
    let r = helm_emu_at(
        dir.path(),
        &["audit", "--focus", "security", "--format", "json"],
        None,
    );
    let a = r.json();
    assert_eq!(a["audit"]["type"], "security", "{r:?}");
    assert_eq!(a["audit"]["check_type"], "security");
    assert_eq!(a["audit"]["auditor"]["plugin"], "fractary-helm-cloud");
    assert!(
        a["audit"]["audit_id"]
            .as_str()
            .unwrap()
            .ends_with("-security")
    );
    assert!(a["audit"]["duration_seconds"].is_number());
    for k in ["passing", "warnings", "failures", "critical"] {
        assert!(
            a["summary"]["status_counts"][k].is_number(),
            "{k}: {:#}",
            a["summary"]
        );
    }
    assert!(a["summary"]["severity_counts"]["high"].is_number());
}

#[test]
fn the_lifecycle_on_a_project_laid_out_as_faber_cloud_leaves_it() {
    let emu = Emulator::shared();
    let p = unique_name("faberlife");
    let f = format!("{p}-api");
    let dims = json!({"FunctionName": f});
    emu.seed(
        &json!({
            "lambdas": [{"name": f}],
            "buckets": [{"name": "acme-core-test-uploads"}],
            "metrics": [
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 200},
                {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 30},
                {"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": [80.0, 90.0]},
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 200, "minutes_ago": -80},
                {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 0, "minutes_ago": -80},
                {"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": [80.0, 90.0], "minutes_ago": -80},
            ],
            "log_events": [{"group": format!("/aws/lambda/{f}"), "messages": [
                "2026-01-01T00:00:00.000Z 1 Task timed out after 3.00 seconds",
                "2026-01-01T00:00:00.000Z 2 Task timed out after 3.00 seconds",
            ]}],
        })
        .to_string(),
    );
    let dir = faber_project(&f);
    let root = dir.path();
    assert!(!root.join(".fractary/shared/aws-credentials.json").exists());

    // health judges every supported resource (the IAM role is skipped, said so).
    let h = helm_emu_at(root, &["health", "--format", "json"], None);
    assert_eq!(h.code, 2, "{h:?}");
    let report = h.json();
    assert_eq!(report["resources"]["total"], 2, "{report:#}");
    assert_eq!(
        report["resources"]["unknown"], 0,
        "every resource judged: {report:#}"
    );
    let issue_id = report["issues"][0]["issue_id"]
        .as_str()
        .unwrap()
        .to_string();

    let inv = helm_emu_at(
        root,
        &["investigate", "--issue", &issue_id, "--format", "json"],
        None,
    );
    assert_eq!(inv.code, 0, "{inv:?}");
    assert_eq!(inv.json()["root_cause"]["category"], "timeout");
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
    assert_eq!(rem.json()["verification"]["ok"], true);

    let later = helm_core::clock::rfc3339(chrono::Utc::now() + chrono::Duration::minutes(90));
    let after = helm_emu_at(root, &["health", "--format", "json"], Some(&later));
    assert_eq!(after.code, 0, "{after:?}");
    assert!(
        root.join(format!(".fractary/helm/issues/resolved/{issue_id}.json"))
            .is_file()
    );
    let dash = helm_emu_at(
        root,
        &["dashboard", "--env", "all", "--format", "json"],
        Some(&later),
    );
    let resolved = dash.json()["dashboard"]["recently_resolved"].to_string();
    assert!(resolved.contains(&issue_id), "{resolved}");
}
