//! `audit --scope account` on an emulator of its own: every check of the account sweep fails
//! on a resource seeded to fail it (in two regions for the regional ones), then passes once
//! the seed script has fixed each resource the way the catalogue says; the reports never
//! hold a secret's value; SARIF, OCSF and CSV exports are checked against their published
//! schemas by an independent validator (Python's jsonschema); `--since-last` and
//! `audit diff` tell resolved from new; and the CIS v3.0.0 view decides its controls.
//!
//! The seeding goes through the AWS APIs (scripts/emulator/seed_account.py); the one thing
//! moto cannot do over its API, ageing an access key, uses the launcher's documented hook.
//! moto's credential report has no `<root_account>` row, so root use is asserted to be
//! "not evaluated" here (its rule is unit-tested on a report that has the row).

use crate::support::*;
use helm_testsupport::{Emulator, repo_root};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const REGIONS: &str = "us-east-1,eu-west-1";
/// The seeded secret values (scripts/emulator/seed_account.py): never printed or saved.
const SECRETS: [&str; 3] = [
    "Sup3rS3cretPassw0rd",
    "AKIAIOSFODNN7EXAMPLE",
    "s3cr3t-value",
];

fn seed(emu: &Emulator, args: &[&str]) -> String {
    let out = Command::new(emu.python())
        .arg(repo_root().join("scripts/emulator/seed_account.py"))
        .arg(&emu.endpoint)
        .args(args)
        .output()
        .expect("running seed_account.py");
    assert!(
        out.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn findings(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sev in ["critical", "high", "medium", "low"] {
        for f in report["findings"]["by_severity"][sev].as_array().unwrap() {
            out.push((
                f["check"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Validate `doc` against a vendored schema with the emulator venv's jsonschema (an
/// implementation independent of ours). Returns the validator's complaints.
fn validate(emu: &Emulator, schema: &str, doc: &Path) -> String {
    let schema = repo_root()
        .join("crates/helm-cloud/tests/it/fixtures/schemas")
        .join(schema);
    let out = Command::new(emu.python())
        .arg("-c")
        .arg(
            "import json,sys,jsonschema\n\
             schema=json.load(open(sys.argv[1])); doc=json.load(open(sys.argv[2]))\n\
             cls=jsonschema.validators.validator_for(schema)\n\
             docs=doc if isinstance(doc,list) and schema.get('type')=='object' else [doc]\n\
             errs=[e.message for d in docs for e in cls(schema).iter_errors(d)]\n\
             print('\\n'.join(errs[:20])); sys.exit(1 if errs else 0)",
        )
        .arg(&schema)
        .arg(doc)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        String::new()
    } else {
        text + "(invalid)"
    }
}

fn no_secret_in(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds a secret value {s}");
    }
}

#[test]
fn every_account_check_fails_on_its_seed_and_passes_once_fixed() {
    let emu = Emulator::dedicated();
    let dir = emulated_project();
    let p = "acct";
    let ids: Value =
        serde_json::from_str(&seed(&emu, &["bad", "--prefix", p, "--regions", REGIONS])).unwrap();
    let audit = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "--type",
            "security",
            "--scope",
            "account",
            "--regions",
            REGIONS,
        ];
        args.extend_from_slice(extra);
        run(helm_against(&emu, dir.path()).args(&args))
    };

    // ---- Everything seeded to fail fails.
    let r = audit(&["--format", "json"]);
    assert_eq!(
        r.code, 3,
        "a role anyone may assume is critical: {}",
        r.stderr
    );
    no_secret_in("stdout", &r.stdout);
    no_secret_in("stderr", &r.stderr);
    let report = r.json();
    let found = findings(&report);
    let has = |check: &str, resource: &str| found.iter().any(|(c, r)| c == check && r == resource);
    for region in ["us-east-1", "eu-west-1"] {
        let id = |k: &str| format!("{} ({region})", ids[region][k].as_str().unwrap());
        let named = |n: &str| format!("{n} ({region})");
        for (check, resource) in [
            ("ebs.unencrypted_volume", id("volume")),
            ("ebs.unencrypted_snapshot", id("snapshot")),
            ("ebs.public_snapshot", id("snapshot")),
            ("rds.backups_off", named(&format!("{p}-db"))),
            ("rds.deletion_protection_off", named(&format!("{p}-db"))),
            ("rds.minor_upgrade_off", named(&format!("{p}-db"))),
            ("rds.public_snapshot", named(&format!("{p}-dbsnap"))),
            ("kms.rotation_off", id("key")),
            ("logs.unencrypted_group", named(&format!("/{p}/app"))),
            ("guardduty.disabled", named("account")),
            ("lambda.env_secret", named(&format!("{p}-fn"))),
            ("ecs.env_secret", named(&format!("{p}-task:1"))),
            ("secretsmanager.rotation_off", named(&format!("{p}-secret"))),
            ("sechub.disabled", named("account")),
            ("ec2.default_sg_open", id("default_sg")),
            ("ec2.unused_open_sg", id("unused_sg")),
        ] {
            assert!(
                has(check, &resource),
                "{check} on {resource} not found in {found:?}"
            );
        }
        // The group in use is not "unused"; a default NACL that allows everything is open.
        assert!(!has("ec2.unused_open_sg", &id("used_sg")));
        let acl = format!("{} ({region})", ids[region]["nacls"][0].as_str().unwrap());
        assert!(has("ec2.nacl_open_admin", &acl), "{found:?}");
    }
    for (check, resource) in [
        ("iam.key_not_rotated", format!("user {p}-stale")),
        ("iam.credentials_unused", format!("user {p}-stale")),
        ("iam.console_no_mfa", format!("user {p}-console")),
        ("iam.principal_admin", format!("role {p}-admin-role")),
        ("iam.principal_admin", format!("user {p}-admin")),
        ("iam.role_trust_any", format!("role {p}-open-role")),
        ("iam.password_length", "account password policy".into()),
        ("iam.password_reuse", "account password policy".into()),
        ("iam.password_complexity", "account password policy".into()),
        (
            "iam.expired_server_cert",
            format!("server certificate {p}-old-cert"),
        ),
        ("s3.versioning_off", format!("{p}-data")),
        ("s3.access_logging_off", format!("{p}-data")),
        ("cloudtrail.validation_off", format!("trail {p}-trail")),
        ("cloudtrail.unencrypted", format!("trail {p}-trail")),
        ("cloudtrail.bucket_logging_off", format!("trail {p}-trail")),
    ] {
        assert!(
            has(check, &resource),
            "{check} on {resource} not found in {found:?}"
        );
    }
    // A bucket without data is not asked for versioning; the lambda's execution role has
    // no `*` policy.
    assert!(!has("s3.versioning_off", &format!("{p}-trail")));
    assert!(
        !found
            .iter()
            .any(|(c, r)| c == "iam.principal_admin" && r == "role helm-seed-lambda")
    );
    // Root use cannot be decided on moto's report: said, never passed.
    let not_evaluated = report["summary"]["not_evaluated"].to_string();
    assert!(not_evaluated.contains("iam.root_used"), "{not_evaluated}");
    assert!(
        report["checks_evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c != "iam.root_used")
    );
    assert_eq!(report["audit"]["scope"], "account");
    // Each finding carries its catalogue entry.
    let key = &report["findings"]["by_severity"]["medium"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "kms.rotation_off")
        .unwrap()
        .clone();
    assert_eq!(key["cis_3_0"][0], "3.6");
    assert!(
        key["remediation"]["cli"]
            .as_str()
            .unwrap()
            .contains("enable-key-rotation")
    );
    let saved = dir.path().join(report["report_path"].as_str().unwrap());
    no_secret_in("the JSON report", &std::fs::read_to_string(&saved).unwrap());
    no_secret_in(
        "the Markdown report",
        &std::fs::read_to_string(saved.with_extension("md")).unwrap(),
    );
    let opened = report["issues"].as_array().unwrap().len();
    assert!(opened > 0, "critical findings open issues");

    // ---- The exports, each against its published schema.
    let sarif = audit(&["--output", "sarif"]);
    assert_eq!(sarif.code, 3);
    let sarif_path = dir.path().join("out.sarif");
    std::fs::write(&sarif_path, &sarif.stdout).unwrap();
    assert_eq!(validate(&emu, "sarif-2.1.0.json", &sarif_path), "");
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(
        doc["runs"][0]["results"].as_array().unwrap().len(),
        found.len(),
        "one result per finding"
    );
    assert!(
        sarif.stderr.contains("sarif written to"),
        "{}",
        sarif.stderr
    );
    let ocsf = audit(&["--output", "ocsf"]);
    let ocsf_path = dir.path().join("out.ocsf.json");
    std::fs::write(&ocsf_path, &ocsf.stdout).unwrap();
    assert_eq!(
        validate(&emu, "ocsf-detection-finding.json", &ocsf_path),
        ""
    );
    let items: Value = serde_json::from_str(&ocsf.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), found.len());
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["class_uid"] == 2004)
    );
    let csv = audit(&["--output", "csv"]);
    no_secret_in("the CSV", &csv.stdout);
    let rows = Command::new(emu.python())
        .args(["-c", "import csv,sys; r=list(csv.DictReader(sys.stdin)); print(len(r), len({x['check'] for x in r}), r[0]['status'])"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(csv.stdout.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let rows = String::from_utf8(rows.stdout).unwrap();
    let n_checks = {
        let mut c: Vec<&String> = found.iter().map(|(c, _)| c).collect();
        c.sort();
        c.dedup();
        c.len()
    };
    assert_eq!(rows.trim(), format!("{} {} fail", found.len(), n_checks));

    // ---- Fixed, each the way its catalogue entry says: everything passes.
    seed(
        &emu,
        &[
            "fixed",
            "--prefix",
            p,
            "--regions",
            REGIONS,
            "--ids",
            &ids.to_string(),
        ],
    );
    // The fix sends access logs to a new log bucket (which the emulator fills, as S3 does);
    // its own access logging would log itself: the team accepts that.
    write(
        dir.path(),
        ".fractary/plugins/helm-cloud/config/audit-suppressions.toml",
        "[[suppress]]\ncheck = \"s3.access_logging_off\"\nresource = \"*-logs\"\nreason = \"the access-log bucket does not log itself\"\n",
    );
    let r = audit(&["--format", "json", "--since-last"]);
    let after = r.json();
    assert_eq!(
        after["suppressed"][0]["resource"],
        format!("{p}-logs"),
        "{}",
        after["suppressed"]
    );
    let left = findings(&after);
    let seeded = |res: &str| {
        res.contains(p)
            || res.starts_with("account")
            || ["us-east-1", "eu-west-1"].iter().any(|rg| {
                ["volume", "snapshot", "key", "default_sg", "unused_sg"]
                    .iter()
                    .any(|k| res == format!("{} ({rg})", ids[*rg][*k].as_str().unwrap()))
                    || ids[*rg]["nacls"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|n| res == format!("{} ({rg})", n.as_str().unwrap()))
            })
    };
    let still: Vec<&(String, String)> = left.iter().filter(|(_, r)| seeded(r)).collect();
    assert!(still.is_empty(), "still failing after the fixes: {still:?}");
    let d = &after["since_last"];
    assert_eq!(d["counts"]["new"], 0, "{d}");
    assert_eq!(d["counts"]["not_re_evaluated"], 0, "{d}");
    assert_eq!(
        d["counts"]["resolved"].as_u64().unwrap() as usize,
        found.len(),
        "every earlier finding resolved: {d}"
    );
    let resolved = after["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["resolved"] == true)
        .count();
    assert_eq!(
        resolved, opened,
        "the issues the first run opened resolve on evidence"
    );

    // ---- audit diff between the two saved reports, both ways.
    let second = dir.path().join(after["report_path"].as_str().unwrap());
    let fwd = run(helm(dir.path()).args([
        "audit",
        "diff",
        saved.to_str().unwrap(),
        second.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(fwd.code, 0, "nothing new: {}", fwd.stderr);
    assert_eq!(
        fwd.json()["counts"]["resolved"].as_u64().unwrap() as usize,
        found.len()
    );
    let back = run(helm(dir.path()).args([
        "audit",
        "diff",
        second.to_str().unwrap(),
        saved.to_str().unwrap(),
    ]));
    assert_eq!(
        back.code, 1,
        "the older report's findings are new seen backwards"
    );
    assert!(
        back.stdout.contains(&format!("{} new", found.len())),
        "{}",
        back.stdout
    );

    // ---- The CIS view: controls decided by the sweep pass now, manual ones are manual.
    let cis = run(helm_against(&emu, dir.path()).args([
        "audit",
        "--type",
        "compliance",
        "--framework",
        "cis-3.0",
        "--scope",
        "account",
        "--regions",
        REGIONS,
        "--format",
        "json",
    ]));
    let fw = cis.json()["framework"].clone();
    let status = |id: &str| {
        fw["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for id in [
        "1.8", "1.9", "1.10", "1.14", "1.19", "3.2", "3.5", "3.6", "5.4", "5.1",
    ] {
        assert_eq!(status(id), "pass", "CIS {id}: {fw}");
    }
    assert_eq!(status("1.1"), "manual");
    assert_eq!(status("4.1"), "not_evaluated");
    assert_eq!(
        status("1.7"),
        "not_evaluated",
        "root use: moto has no root row"
    );
    let c = &fw["counts"];
    assert_eq!(c["total"], 62);
    assert!(fw["percentage"].as_f64().is_some());
}

#[test]
fn audit_diff_refuses_what_is_not_a_report_and_changes_nothing() {
    let dir = project();
    let good = write(
        dir.path(),
        "a.json",
        r#"{"audit": {"type": "security"}, "findings": {"by_severity": {}}}"#,
    );
    let not_report = write(dir.path(), "b.json", r#"{"findings": []}"#);
    let broken = write(dir.path(), "c.json", "{\"audit\": ");
    let before: Vec<_> = [&good, &not_report, &broken]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let r = helm_run(
        dir.path(),
        &[
            "audit",
            "diff",
            good.to_str().unwrap(),
            not_report.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 65, "{r:?}");
    assert!(
        r.stderr.contains("b.json is not an audit report"),
        "{}",
        r.stderr
    );
    let r = helm_run(
        dir.path(),
        &[
            "audit",
            "diff",
            broken.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("c.json is not an audit report"),
        "{}",
        r.stderr
    );
    let r = helm_run(
        dir.path(),
        &["audit", "diff", "missing.json", good.to_str().unwrap()],
    );
    assert_eq!(r.code, 66, "{r:?}");
    let after: Vec<_> = [&good, &not_report, &broken]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after);
    // --framework is for the compliance type.
    let r = helm_run(
        dir.path(),
        &["audit", "--type", "security", "--framework", "cis-3.0"],
    );
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr.contains("--framework goes with --type compliance"),
        "{}",
        r.stderr
    );
}
