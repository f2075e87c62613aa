//! What the tool says is what it did: issues resolve only on evidence, nothing evaluated is
//! never a pass, project files cannot run code or steer tokens unasked, closed pipes and
//! errors keep the output contract, nothing is silently overwritten.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::path::Path;

fn add(root: &Path, id: &str, env: &str, resources: Value) {
    let doc = json!({"id": id, "environment": env, "deployed_at": "2026-01-01T00:00:00Z", "resources": resources});
    let f = write(root, &format!("{id}.json"), &doc.to_string());
    let r = helm_run(root, &["registry", "add", "--file", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
}

fn with(emu: &Emulator, root: &Path, args: &[&str]) -> Run {
    run(helm_against(emu, root).args(args))
}

fn fault(emu: &Emulator, f: Value) {
    assert_eq!(
        emu.request("POST", "/helm-emulator/faults", &f.to_string())
            .unwrap()
            .0,
        200
    );
}

fn active_issues(root: &Path) -> Vec<Value> {
    let dir = root.join(".fractary/helm/issues/active");
    let mut out: Vec<Value> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|i: &Value| i["id"].as_str().unwrap_or_default().to_string());
    out
}

fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    chrono_like(secs)
}

/// Seconds since the epoch as RFC 3339 (UTC), without a date crate in the tests.
fn chrono_like(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn minutes_from_now(m: i64) -> String {
    let now = std::time::SystemTime::now();
    let t = if m >= 0 {
        now + std::time::Duration::from_secs(m as u64 * 60)
    } else {
        now - std::time::Duration::from_secs((-m) as u64 * 60)
    };
    rfc3339(t)
}

#[test]
fn an_issue_stays_open_until_its_own_check_passes_again() {
    // Its own emulator: one step fails every GetMetricData.
    let emu = Emulator::dedicated();
    let p = unique_name("evid");
    let f = format!("{p}-api");
    let dims = json!({"FunctionName": f});
    let point = |name: &str, v: u32, ago: u32| json!({"namespace": "AWS/Lambda", "name": name, "dimensions": dims, "value": v, "minutes_ago": ago});
    emu.seed(
        &json!({"lambdas": [{"name": f}], "metrics": [
            // Five hours ago: 5% errors. Ten minutes ago: none.
            point("Invocations", 1000, 300), point("Errors", 50, 300),
            point("Invocations", 1000, 10), point("Errors", 0, 10),
        ]})
        .to_string(),
    );
    let dir = emulated_project();
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "api", "type": "lambda", "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{f}")}]),
    );
    let health = |now: &str| {
        with(
            &emu,
            dir.path(),
            &["health", "--format", "json", "--now", now],
        )
    };

    let r = health(&minutes_from_now(-290));
    assert_eq!(r.code, 2, "{r:?}");
    let opened = active_issues(dir.path());
    assert_eq!(
        opened.len(),
        1,
        "5% breaches error rate and availability: one SLI, one issue"
    );
    assert_eq!(opened[0]["fingerprint"], "test/api/error_rate");
    assert!(
        opened[0]["description"]
            .as_str()
            .unwrap()
            .contains("availability")
    );

    // An hour with no traffic: the error rate was not evaluated, so nothing resolves.
    let r = health(&minutes_from_now(-120));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        active_issues(dir.path()).len(),
        1,
        "no traffic is no evidence"
    );

    // CloudWatch down: the function is UNKNOWN, never HEALTHY, and its issue stays open.
    fault(
        &emu,
        json!({"operation": "GetMetricData", "code": "ServiceUnavailable", "status": 503}),
    );
    let r = health(&minutes_from_now(0));
    assert_eq!(r.code, 3, "{r:?}");
    let report = r.json();
    assert_eq!(report["results"][0]["status"], "UNKNOWN");
    let why = report["results"][0]["reasons"].to_string();
    assert!(why.contains("cloudwatch:GetMetricData"), "{why}");
    assert!(
        !why.contains("DispatchFailure") && why.len() < 400,
        "one line in the operator's words: {why}"
    );
    assert_eq!(active_issues(dir.path()).len(), 1);

    // The check runs again and passes: now it resolves.
    fault(&emu, json!({"faults": []}));
    let r = health(&minutes_from_now(0));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(active_issues(dir.path()).is_empty(), "resolved on evidence");
}

#[test]
fn nothing_checked_is_unknown_with_what_was_not_checked() {
    let dir = emulated_project();
    // An empty environment.
    let r = helm_emu(dir.path(), &["health", "--format", "json"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.json()["overall_health"], "UNKNOWN");
    assert!(
        r.json()["not_checked"][0]
            .as_str()
            .unwrap()
            .contains("no resources")
    );
    // Only unsupported types.
    add(
        dir.path(),
        "odd",
        "test",
        json!([{"id": "q", "type": "ec2", "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0q"}]),
    );
    let r = helm_emu(dir.path(), &["health"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout
            .contains("Not checked: environment test has no resource of a supported type"),
        "{}",
        r.stdout
    );
    // A --domain that matches nothing.
    for args in [
        &["dashboard", "--domain", "nope", "--format", "json"][..],
        &["status", "--domain", "nope", "--format", "json"][..],
    ] {
        let r = helm_run(dir.path(), args);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert!(r.stdout.contains("no domain \\\"nope\\\""), "{}", r.stdout);
    }
}

#[test]
fn a_security_audit_that_could_not_read_is_never_a_pass() {
    let dir = emulated_project();
    // AWS unreachable: an error, with the reason, and the JSON error document.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let offline = |kind: &str| {
        run(helm(dir.path())
            .args(["audit", "--type", kind, "--format", "json"])
            .env("AWS_ENDPOINT_URL", &url)
            .env("AWS_ACCESS_KEY_ID", "t")
            .env("AWS_SECRET_ACCESS_KEY", "t")
            .env("HELM_AWS_MAX_ATTEMPTS", "1"))
    };
    for kind in ["cost", "compliance", "all"] {
        let r = offline(kind);
        assert_eq!(r.code, 69, "{kind}: {r:?}");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("evaluated nothing"),
            "{kind}: {r:?}"
        );
    }
    let r = offline("security");
    assert_eq!(r.code, 69, "{r:?}");
    let e = r.json();
    assert_eq!(e["error"]["kind"], "unavailable");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ec2:DescribeSecurityGroups in us-east-1: endpoint unreachable"),
        "{e:#}"
    );

    // Part of it unreadable: the status says so, the score is partial, the exit is not 0.
    let emu = Emulator::dedicated();
    fault(
        &emu,
        json!({"operation": "DescribeSecurityGroups", "code": "UnauthorizedOperation", "status": 403}),
    );
    let r = with(
        &emu,
        dir.path(),
        &["audit", "--type", "security", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let a = r.json();
    assert_eq!(a["summary"]["overall_status"], "warning");
    assert_eq!(a["summary"]["evaluation"], "partial");
    assert_eq!(a["metrics"]["score_partial"], true);
    assert_eq!(
        a["summary"]["not_evaluated"],
        json!(["security: ec2:DescribeSecurityGroups in us-east-1: access denied"])
    );
}

#[test]
fn each_audit_type_resolves_its_own_issues_and_a_closed_group_resolves() {
    let emu = Emulator::dedicated();
    let p = unique_name("sgfix");
    let created: Value = serde_json::from_str(
        &emu.seed(
            &json!({"security_groups": [{"name": format!("{p}-ssh"), "ingress": [{"port": 22}]}]})
                .to_string(),
        ),
    )
    .unwrap();
    let gid = created["security_groups"][format!("{p}-ssh")]
        .as_str()
        .unwrap()
        .to_string();
    let dir = emulated_project();
    let r = with(
        &emu,
        dir.path(),
        &["audit", "--type", "security", "--format", "json"],
    );
    assert_eq!(r.code, 3, "{r:?}");
    let issues = active_issues(dir.path());
    let sg: Vec<&Value> = issues
        .iter()
        .filter(|i| {
            let fp = i["fingerprint"].as_str().unwrap();
            fp.starts_with(&format!("test/{gid}")) && fp.ends_with("/sg.open_admin_port")
        })
        .collect();
    assert_eq!(sg.len(), 1, "{issues:#?}");
    assert_eq!(sg[0]["source"], "audit:security");
    // A cost audit never touches it.
    let r = with(
        &emu,
        dir.path(),
        &["audit", "--type", "cost", "--format", "json"],
    );
    assert!(matches!(r.code, 0..=3), "{r:?}");
    assert!(
        active_issues(dir.path())
            .iter()
            .any(|i| i["id"] == sg[0]["id"])
    );
    // The group is closed again: the next security audit resolves the issue.
    let close = format!(
        "import boto3; boto3.client('ec2', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t').revoke_security_group_ingress(GroupId='{gid}', IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])",
        emu.endpoint
    );
    let out = std::process::Command::new(emu.python())
        .args(["-c", &close])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = with(
        &emu,
        dir.path(),
        &["audit", "--type", "security", "--format", "json"],
    );
    assert!(
        r.json()["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["issue_id"] == sg[0]["id"] && i["resolved"] == true),
        "{:#}",
        r.json()["issues"]
    );
    assert!(
        !active_issues(dir.path())
            .iter()
            .any(|i| i["id"] == sg[0]["id"])
    );
}

#[test]
fn ops_manage_audit_and_ask_run_the_audit() {
    let dir = emulated_project();
    let r = helm_emu(
        dir.path(),
        &[
            "ops-manage",
            "audit",
            "--focus=security",
            "--format",
            "json",
        ],
    );
    assert!(
        r.stderr.contains("use: helm-cloud audit --type=security"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["audit"]["type"], "security", "{r:?}");
    let r = helm_emu(
        dir.path(),
        &["ask", "run a security audit", "--format", "json"],
    );
    assert!(
        r.stderr
            .contains("→ helm-cloud audit --type security --env test"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["audit"]["type"], "security", "{r:?}");
    assert!(
        dir.path()
            .join(r.json()["report_path"].as_str().unwrap())
            .is_file()
    );
}

fn domain_project(command: &str) -> tempfile::TempDir {
    let dir = project();
    write(
        dir.path(),
        ".fractary/helm/domain-monitors.json",
        &json!({"version": "1.0.0", "monitors": [
            {"domain": "application", "plugin": "x", "environments": ["test"], "priority_weight": 1.0,
             "status": "active", "commands": {"health": command}}]})
        .to_string(),
    );
    dir
}

#[test]
fn domain_commands_run_only_when_trusted_without_a_shell_and_bounded_in_time() {
    let report = r#"{"overall_health": "HEALTHY", "environment": "test", "timestamp": "2026-01-01T00:00:00Z", "resources": {"total": 1}}"#;
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    let script = write(
        marker_dir.path(),
        "app.sh",
        &format!("touch {}\necho '{report}'\n", marker.display()),
    );
    let dir = domain_project(&format!("sh {}", script.display()));
    let status = |dir: &Path| {
        helm_run(
            dir,
            &[
                "status",
                "--format",
                "json",
                "--now",
                "2026-01-01T00:01:00Z",
            ],
        )
    };

    // Untrusted: not run, UNKNOWN, and the way to trust it.
    let r = status(dir.path());
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!marker.exists(), "an untrusted command ran");
    assert!(
        r.json()["domains"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("helm-cloud domains trust")
    );
    // Trusted: it runs.
    let t = helm_run(dir.path(), &["domains", "trust"]);
    assert_eq!(t.code, 0, "{t:?}");
    assert!(t.stdout.contains(&script.display().to_string()));
    let r = status(dir.path());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(marker.exists());
    // A changed file is untrusted again.
    std::fs::remove_file(&marker).unwrap();
    let path = dir.path().join(".fractary/helm/domain-monitors.json");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    assert_eq!(status(dir.path()).code, 3);
    assert!(!marker.exists());
    // CI's switch.
    let r = run(helm(dir.path())
        .args(["status", "--now", "2026-01-01T00:01:00Z"])
        .env("HELM_TRUST_DOMAIN_COMMANDS", "1"));
    assert_eq!(r.code, 0, "{r:?}");

    // No shell: `;` and `$HOME` are plain words to the program.
    let dir = domain_project(&format!("echo ; touch {}", marker.display()));
    std::fs::remove_file(&marker).unwrap();
    let r = run(helm(dir.path())
        .args(["status", "--format", "json"])
        .env("HELM_TRUST_DOMAIN_COMMANDS", "1"));
    assert_eq!(r.code, 3);
    assert!(!marker.exists(), "the command went through a shell");

    // A command past its timeout is stopped and UNKNOWN.
    let slow = write(marker_dir.path(), "slow.sh", "sleep 20\n");
    let dir = domain_project(&format!("sh {}", slow.display()));
    write(
        dir.path(),
        MONITORING,
        "[monitoring]\ndomain_command_timeout = \"1s\"\n",
    );
    let started = std::time::Instant::now();
    let r = run(helm(dir.path())
        .args(["status", "--format", "json"])
        .env("HELM_TRUST_DOMAIN_COMMANDS", "1"));
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.json()["domains"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("timed out after 1s")
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "it was not stopped"
    );
}

#[test]
fn a_closed_pipe_ends_the_command_quietly_with_zero() {
    let p = unique_name("pipe");
    let group = format!("/aws/lambda/{p}-api");
    let line =
        "INFO request handled in 12 ms for a customer with a long enough message to fill the pipe";
    let messages: Vec<&str> = std::iter::repeat_n(line, 3000).collect();
    Emulator::shared().seed(&json!({"lambdas": [{"name": format!("{p}-api")}], "log_events": [{"group": group, "stream": "s", "messages": messages, "minutes_ago": 5}]}).to_string());
    let dir = emulated_project();
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "api", "type": "lambda", "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{p}-api")}]),
    );
    let mut child = helm_against(Emulator::shared(), dir.path())
        .args(["logs", "--service", "api"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // `| head -1`: the reader goes away here.
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no message");
}

#[test]
fn json_errors_are_one_document_and_exit_codes_name_the_cause() {
    let dir = emulated_project();
    // Usage, from helm-cloud and from the argument parser.
    for args in [
        &["health", "--env", "nope", "--format", "json"][..],
        &["health", "--bogus", "--format", "json"][..],
        &["--format=json", "remediate", "--value", "x"][..],
    ] {
        let r = helm_run(dir.path(), args);
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        let e = r.json();
        assert_eq!(e["error"]["code"], 64);
        assert_eq!(e["error"]["kind"], "usage");
        assert!(
            e["error"]["message"].is_string() && e["error"]["hint"].is_string(),
            "{e:#}"
        );
        assert!(r.stderr.lines().count() <= 2, "{args:?}: {}", r.stderr);
    }
    let r = helm_run(dir.path(), &["health", "--bogus"]);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    assert!(r.stderr.contains("health --help"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    // Permission denied is 77; a named target that AWS does not have is 66.
    let emu = Emulator::dedicated();
    let p = unique_name("codes");
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "gone", "type": "lambda", "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{p}-gone")}]),
    );
    let r = with(
        &emu,
        dir.path(),
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "gone",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 66, "{r:?}");
    assert_eq!(r.json()["error"]["kind"], "not_found");
    fault(
        &emu,
        json!({"region": "us-east-1", "code": "AccessDeniedException", "status": 403}),
    );
    let r = with(
        &emu,
        dir.path(),
        &["logs", "--service", "gone", "--format", "json"],
    );
    assert_eq!(r.code, 77, "{r:?}");
    assert_eq!(r.json()["error"]["kind"], "permission_denied");
}

#[test]
fn two_reports_of_the_same_second_both_survive() {
    let dir = emulated_project();
    let p = unique_name("same");
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "q", "type": "sqs", "arn": format!("arn:aws:sqs:us-east-1:123456789012:{p}-q")}]),
    );
    let now = "2026-03-01T10:00:00Z";
    let a = helm_emu(dir.path(), &["health", "--format", "json", "--now", now]);
    let b = helm_emu(dir.path(), &["health", "--format", "json", "--now", now]);
    let (pa, pb) = (
        a.json()["report_path"].clone(),
        b.json()["report_path"].clone(),
    );
    assert_ne!(pa, pb);
    for p in [pa, pb] {
        assert!(dir.path().join(p.as_str().unwrap()).is_file());
    }
    // The later one sorts last: the dashboard reads it as the newest.
    assert!(b.json()["report_path"].as_str().unwrap() > a.json()["report_path"].as_str().unwrap());
}

#[test]
fn one_id_for_two_arns_in_an_environment_is_refused_naming_both_deployments() {
    let dir = project();
    add(
        dir.path(),
        "dep-a",
        "test",
        json!([{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:a"}]),
    );
    add(
        dir.path(),
        "dep-b",
        "test",
        json!([{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:b"}]),
    );
    let before = std::fs::read_to_string(dir.path().join(REGISTRY)).unwrap();
    let r = helm_run(dir.path(), &["health"]);
    assert_eq!(r.code, 65, "{r:?}");
    assert!(
        r.stderr.contains("dep-a") && r.stderr.contains("dep-b"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(REGISTRY)).unwrap(),
        before
    );
}

#[test]
fn performance_with_no_data_is_not_evaluated() {
    let dir = emulated_project();
    let p = unique_name("perf0");
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "api", "type": "lambda", "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{p}-api")}]),
    );
    let r = helm_emu(dir.path(), &["performance"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stdout.contains("not evaluated: no data"), "{}", r.stdout);
    assert!(!r.stdout.contains("steady"), "{}", r.stdout);
}

#[test]
fn an_issue_left_in_both_folders_by_a_crash_heals_on_the_next_read() {
    let dir = project();
    let doc = |status: &str| {
        json!({"id": "infra-001", "domain": "infrastructure", "severity": "HIGH", "title": "t", "description": "d",
               "detected_at": "2026-01-01T00:00:00Z", "environment": "test", "affected_resources": ["api"],
               "status": status, "fingerprint": "test/api/error_rate", "source": "health", "history": []})
        .to_string()
    };
    // The crash: resolved/ written, active/ not yet removed.
    write(
        dir.path(),
        ".fractary/helm/issues/resolved/infra-001.json",
        &doc("resolved"),
    );
    let stale = write(
        dir.path(),
        ".fractary/helm/issues/active/infra-001.json",
        &doc("active"),
    );
    let r = helm_run(dir.path(), &["issues", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains("infra-001"),
        "a resolved issue listed as active: {}",
        r.stdout
    );
    assert!(!stale.exists(), "the move was completed");
    let shown = helm_run(
        dir.path(),
        &["issues", "show", "infra-001", "--format", "json"],
    );
    assert!(shown.stdout.contains("\"resolved\""), "{}", shown.stdout);
}

#[test]
fn verbose_shows_every_aws_call_with_service_operation_region_and_duration() {
    let dir = emulated_project();
    let p = unique_name("verbose");
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "q", "type": "sqs", "arn": format!("arn:aws:sqs:eu-west-2:123456789012:{p}-q")}]),
    );
    let quiet = helm_emu(dir.path(), &["health"]);
    assert!(!quiet.stderr.contains("aws: "), "{}", quiet.stderr);
    let r = helm_emu(dir.path(), &["-v", "health"]);
    let calls: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("aws: "))
        .collect();
    assert!(!calls.is_empty(), "{}", r.stderr);
    assert!(
        calls
            .iter()
            .any(|l| l.contains("SQS ListQueues eu-west-2") && l.contains("ms ok")),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|l| l.contains("CloudWatch GetMetricData eu-west-2")),
        "{calls:?}"
    );
    assert!(
        r.stdout.contains("Health of test") && !r.stdout.contains("aws: "),
        "results stay on stdout: {}",
        r.stdout
    );
}

#[test]
fn progress_shows_on_a_terminal_and_never_in_a_pipe() {
    let dir = emulated_project();
    let p = unique_name("progress");
    Emulator::shared().seed(&json!({"queues": [{"name": format!("{p}-q")}]}).to_string());
    add(
        dir.path(),
        &p,
        "test",
        json!([{"id": "q", "type": "sqs", "arn": format!("arn:aws:sqs:us-east-1:123456789012:{p}-q")}]),
    );
    let piped = helm_emu(dir.path(), &["health"]);
    assert!(
        !piped.stderr.contains("checking 1 resource"),
        "{}",
        piped.stderr
    );
    let emu = Emulator::shared();
    let mut env: Vec<(String, String)> = emu
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("HELM_ROOT".into(), dir.path().display().to_string()));
    env.push((
        "XDG_CONFIG_HOME".into(),
        dir.path().join(".cfg").display().to_string(),
    ));
    let (code, output) = helm_testsupport::run_in_pty(
        Path::new(env!("CARGO_BIN_EXE_helm-cloud")),
        &["health"],
        dir.path(),
        &env,
        helm_testsupport::AWS_ENV_TO_CLEAR,
        "no-such-prompt-here",
        "",
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("checking 1 resource in test"), "{output}");
    assert!(output.contains("Health of test"), "{output}");
}
