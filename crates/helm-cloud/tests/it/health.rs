//! `health`, `metrics` and `performance` against the emulator: every classification rule
//! on a resource seeded to trigger it, the report, issues across runs, UNKNOWN, exit codes.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::path::Path;

fn add_deployment(root: &Path, id: &str, env: &str, resources: Value) {
    let doc = json!({"id": id, "environment": env, "deployed_at": "2026-01-01T00:00:00Z", "resources": resources});
    let f = write(root, &format!("{id}.json"), &doc.to_string());
    let r = helm_run(root, &["registry", "add", "--file", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
}

fn lambda_arn(region: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:123456789012:function:{name}")
}

/// Invocations, errors and durations of one function, ten minutes ago.
fn lambda_metrics(name: &str, invocations: u32, errors: u32, durations: &[f64]) -> Vec<Value> {
    let dims = json!({"FunctionName": name});
    vec![
        json!({"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": invocations}),
        json!({"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": errors}),
        json!({"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": durations}),
    ]
}

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {report:#}"))
}

fn reasons(r: &Value) -> String {
    r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn each_rule_classifies_its_resource() {
    let emu = Emulator::shared();
    let p = unique_name("rules");
    let fast = [50.0; 20];
    let slow = [450.0; 20];
    let mut metrics = Vec::new();
    metrics.extend(lambda_metrics(&format!("{p}-bad"), 1000, 50, &fast));
    metrics.extend(lambda_metrics(&format!("{p}-near"), 10_000, 9, &fast));
    metrics.extend(lambda_metrics(&format!("{p}-ok"), 1000, 0, &fast));
    metrics.extend(lambda_metrics(&format!("{p}-slow"), 100, 0, &slow));
    metrics.extend(lambda_metrics(&format!("{p}-relaxed"), 100, 0, &slow));
    metrics.extend(lambda_metrics(&format!("{p}-alarmed"), 100, 0, &fast));
    let lambdas: Vec<Value> = ["bad", "near", "ok", "slow", "relaxed", "alarmed"]
        .iter()
        .map(|n| json!({"name": format!("{p}-{n}")}))
        .collect();
    let created: Value = serde_json::from_str(&emu.seed(
        &json!({
            "lambdas": lambdas,
            "rds": [{"id": format!("{p}-db"), "stopped": true}],
            "ecs": [{"cluster": format!("{p}-c"), "service": format!("{p}-short"), "desired": 3},
                    {"cluster": format!("{p}-c"), "service": format!("{p}-full"), "desired": 2}],
            "buckets": [{"name": format!("{p}-bucket")}],
            "tables": [{"name": format!("{p}-table")}],
            "queues": [{"name": format!("{p}-queue")}],
            "distributions": [{"ref": format!("{p}-cdn")}],
            "apis": [{"name": format!("{p}-api"), "stage": "test"}],
            "metrics": metrics,
            "alarms": [{"name": format!("{p}-alarm"), "namespace": "AWS/Lambda", "metric": "Errors",
                        "dimensions": {"FunctionName": format!("{p}-alarmed")}, "state": "ALARM"}],
        })
        .to_string(),
    ))
    .unwrap();
    let dir = emulated_project();
    let l = |n: &str| json!({"id": n, "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-{n}"))});
    let mut relaxed = l("relaxed");
    relaxed["slo"] = json!({"p95_latency_ms": 1000});
    let cdn = &created["distributions"][format!("{p}-cdn")];
    let api_id = created["apis"][format!("{p}-api")].as_str().unwrap();
    add_deployment(
        dir.path(),
        &p,
        "test",
        json!([
            l("bad"), l("near"), l("ok"), l("slow"), relaxed, l("alarmed"), l("ghost"),
            {"id": "db", "type": "rds", "arn": created["rds"][format!("{p}-db")]},
            {"id": "short", "type": "ecs", "arn": created["ecs"][format!("{p}-short")]},
            {"id": "full", "type": "ecs", "arn": created["ecs"][format!("{p}-full")]},
            {"id": "bucket", "type": "s3", "arn": format!("arn:aws:s3:::{p}-bucket")},
            {"id": "table", "type": "dynamodb", "arn": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{p}-table")},
            {"id": "queue", "type": "sqs", "arn": format!("arn:aws:sqs:us-east-1:123456789012:{p}-queue")},
            {"id": "cdn", "type": "cloudfront", "arn": cdn["arn"]},
            {"id": "api", "type": "apigateway", "arn": format!("arn:aws:apigateway:us-east-1::/restapis/{api_id}"), "name": format!("{p}-api")},
            {"id": "nostage", "type": "apigateway", "arn": format!("arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/prod"), "name": format!("{p}-api")},
            {"id": "stream", "type": "AWS::EC2::Instance", "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0s"},
        ]),
    );

    let r = helm_emu(dir.path(), &["health", "--env", "test", "--format", "json"]);
    assert_eq!(r.code, 2, "UNHEALTHY exits 2: {}\n{}", r.stdout, r.stderr);
    let report = r.json();
    let status = |id: &str| result(&report, id)["status"].as_str().unwrap().to_string();

    assert_eq!(status("bad"), "UNHEALTHY");
    assert!(
        reasons(result(&report, "bad")).contains("error rate 5% > SLO 0.1%"),
        "{}",
        reasons(result(&report, "bad"))
    );
    assert_eq!(result(&report, "bad")["metrics"]["error_rate_percent"], 5);
    assert_eq!(
        status("near"),
        "DEGRADED",
        "{}",
        reasons(result(&report, "near"))
    );
    assert_eq!(
        status("ok"),
        "HEALTHY",
        "{}",
        reasons(result(&report, "ok"))
    );
    assert_eq!(status("slow"), "UNHEALTHY");
    assert!(reasons(result(&report, "slow")).contains("p95 latency 450ms > SLO 200ms"));
    assert_eq!(
        status("relaxed"),
        "HEALTHY",
        "the registry's slo override wins: {}",
        reasons(result(&report, "relaxed"))
    );
    assert_eq!(status("alarmed"), "UNHEALTHY");
    assert!(reasons(result(&report, "alarmed")).contains(&format!("{p}-alarm")));
    assert_eq!(result(&report, "alarmed")["alarms"][0]["state"], "ALARM");
    assert_eq!(status("ghost"), "UNHEALTHY");
    assert!(reasons(result(&report, "ghost")).contains("registry drift"));
    assert_eq!(status("db"), "UNHEALTHY");
    assert!(reasons(result(&report, "db")).contains("stopped"));
    assert_eq!(status("short"), "DEGRADED");
    assert!(reasons(result(&report, "short")).contains("2 of 3 tasks running"));
    for healthy in ["full", "bucket", "table", "queue", "cdn", "api"] {
        assert_eq!(
            status(healthy),
            "HEALTHY",
            "{healthy}: {}",
            reasons(result(&report, healthy))
        );
    }
    assert_eq!(report["skipped"][0]["id"], "stream");
    assert_eq!(report["overall_health"], "UNHEALTHY");
    let counts = &report["resources"];
    assert_eq!(
        status("nostage"),
        "UNHEALTHY",
        "a stage that does not exist is drift"
    );
    assert_eq!(counts["total"], 16);
    assert_eq!(counts["unhealthy"], 6);
    assert_eq!(counts["degraded"], 2);
    assert_eq!(counts["healthy"], 8);
    assert_eq!(counts["unknown"], 0);
    // Every problem became an issue, named in the report.
    let issue_resources: Vec<&str> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["resource"].as_str().unwrap())
        .collect();
    for id in ["bad", "near", "slow", "alarmed", "ghost", "db", "short"] {
        assert!(
            issue_resources.contains(&id),
            "{id} has an issue: {issue_resources:?}"
        );
    }
    assert!(
        report["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r
                .as_str()
                .unwrap()
                .contains("helm-cloud investigate --service bad"))
    );
}

#[test]
fn the_report_has_the_documented_shape_and_is_saved_as_printed() {
    let emu = Emulator::shared();
    let p = unique_name("shape");
    emu.seed(&json!({"lambdas": [{"name": format!("{p}-f")}], "metrics": lambda_metrics(&format!("{p}-f"), 100, 0, &[20.0])}).to_string());
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        &p,
        "test",
        json!([{"id": "f", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-f"))}]),
    );
    let r = helm_emu(
        dir.path(),
        &[
            "health",
            "--format",
            "json",
            "--now",
            "2030-01-01T00:00:00Z",
            "--timeframe",
            "100000h",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    for key in [
        "overall_health",
        "environment",
        "timestamp",
        "window",
        "resources",
        "results",
        "issues",
        "recommendations",
        "report_path",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["timestamp"], "2030-01-01T00:00:00Z");
    let f = &report["results"][0];
    for key in [
        "id", "type", "arn", "status", "reasons", "metrics", "alarms",
    ] {
        assert!(f.get(key).is_some(), "missing results[].{key}");
    }
    assert_eq!(f["metrics"]["invocations"], 100);
    assert_eq!(f["metrics"]["errors"], 0);
    let path = report["report_path"].as_str().unwrap();
    assert_eq!(
        path,
        ".fractary/plugins/helm-cloud/monitoring/test/20300101T000000Z-health-check.json"
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(path)).unwrap()).unwrap();
    assert_eq!(saved, report);
}

#[test]
fn an_issue_opens_updates_and_resolves_across_three_runs() {
    let emu = Emulator::shared();
    let p = unique_name("issue");
    let alarm = format!("{p}-errors");
    emu.seed(
        &json!({
            "lambdas": [{"name": format!("{p}-f")}],
            "metrics": lambda_metrics(&format!("{p}-f"), 100, 0, &[20.0]),
            "alarms": [{"name": alarm, "namespace": "AWS/Lambda", "metric": "Errors", "dimensions": {"FunctionName": format!("{p}-f")}, "state": "ALARM"}],
        })
        .to_string(),
    );
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        &p,
        "test",
        json!([{"id": "f", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-f"))}]),
    );
    let active = dir.path().join(".fractary/helm/issues/active");
    let resolved = dir.path().join(".fractary/helm/issues/resolved");

    let first = helm_emu(dir.path(), &["health", "--format", "json"]);
    assert_eq!(first.code, 2, "{first:?}");
    let id = first.json()["issues"][0]["issue_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id, "infra-001");
    let issue: Value =
        serde_json::from_str(&std::fs::read_to_string(active.join("infra-001.json")).unwrap())
            .unwrap();
    assert_eq!(issue["occurrences"], 1);
    assert_eq!(
        issue["severity"], "HIGH",
        "test does not require confirmation: HIGH, not CRITICAL"
    );
    assert_eq!(issue["fingerprint"], format!("test/f/alarm:{alarm}"));
    assert_eq!(issue["affected_resources"], json!(["f"]));
    assert_eq!(issue["source"], "health");

    let second = helm_emu(dir.path(), &["health", "--format", "json"]);
    assert_eq!(
        second.json()["issues"][0]["issue_id"],
        "infra-001",
        "same problem, same issue"
    );
    let issue: Value =
        serde_json::from_str(&std::fs::read_to_string(active.join("infra-001.json")).unwrap())
            .unwrap();
    assert_eq!(issue["occurrences"], 2);
    assert_eq!(
        std::fs::read_dir(&active).unwrap().count(),
        1,
        "no second issue filed"
    );

    emu.seed(&json!({"set_alarm_states": {alarm.clone(): "OK"}}).to_string());
    let third = helm_emu(dir.path(), &["health"]);
    assert_eq!(third.code, 0, "{third:?}");
    assert!(
        third.stdout.contains("infra-001 resolved"),
        "{}",
        third.stdout
    );
    assert!(!active.join("infra-001.json").exists());
    let done: Value =
        serde_json::from_str(&std::fs::read_to_string(resolved.join("infra-001.json")).unwrap())
            .unwrap();
    assert_eq!(done["status"], "resolved");
    assert!(done["resolved_at"].is_string());
}

#[test]
fn production_breaches_are_critical() {
    let emu = Emulator::shared();
    let p = unique_name("prod");
    emu.seed(&json!({"lambdas": [{"name": format!("{p}-f")}], "metrics": lambda_metrics(&format!("{p}-f"), 1000, 100, &[20.0])}).to_string());
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        &p,
        "prod",
        json!([{"id": "f", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-f"))}]),
    );
    let r = helm_emu(dir.path(), &["health", "--env", "prod", "--format", "json"]);
    assert_eq!(r.code, 2);
    let report = r.json();
    let severities: Vec<&str> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .collect();
    assert!(severities.contains(&"CRITICAL"), "{severities:?}");
}

#[test]
fn an_unreadable_resource_is_unknown_while_the_rest_are_judged() {
    let emu = Emulator::shared();
    let p = unique_name("unknown");
    emu.seed(&json!({"lambdas": [{"name": format!("{p}-ok")}], "metrics": lambda_metrics(&format!("{p}-ok"), 100, 0, &[20.0])}).to_string());
    // Every call signed for eu-west-3 is refused, as an SCP denying a region would.
    let (code, _) = emu
        .request(
            "POST",
            "/helm-emulator/faults",
            r#"{"region": "eu-west-3", "code": "AccessDeniedException", "status": 403}"#,
        )
        .unwrap();
    assert_eq!(code, 200);
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        &p,
        "test",
        json!([
            {"id": "ok", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-ok"))},
            {"id": "far", "type": "lambda", "arn": lambda_arn("eu-west-3", &format!("{p}-far"))},
        ]),
    );
    let r = helm_emu(dir.path(), &["health", "--format", "json"]);
    assert_eq!(r.code, 3, "UNKNOWN is the worst here: {r:?}");
    let report = r.json();
    assert_eq!(result(&report, "ok")["status"], "HEALTHY");
    let far = result(&report, "far");
    assert_eq!(far["status"], "UNKNOWN");
    // One line in the operator's words, not the SDK's debug text.
    assert!(reasons(far).contains("access denied"), "{}", reasons(far));
    assert!(
        report["issues"].as_array().unwrap().is_empty(),
        "UNKNOWN opens no issue"
    );
}

#[test]
fn exit_codes_follow_the_overall_health() {
    let emu = Emulator::shared();
    let p = unique_name("exit");
    let mut metrics = lambda_metrics(&format!("{p}-ok"), 1000, 0, &[20.0]);
    metrics.extend(lambda_metrics(&format!("{p}-near"), 10_000, 9, &[20.0]));
    emu.seed(&json!({"lambdas": [{"name": format!("{p}-ok")}, {"name": format!("{p}-near")}], "metrics": metrics}).to_string());
    let healthy = emulated_project();
    add_deployment(
        healthy.path(),
        &p,
        "test",
        json!([{"id": "ok", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-ok"))}]),
    );
    assert_eq!(helm_emu(healthy.path(), &["health"]).code, 0);
    let degraded = emulated_project();
    add_deployment(
        degraded.path(),
        &p,
        "test",
        json!([{"id": "near", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-near"))}]),
    );
    assert_eq!(helm_emu(degraded.path(), &["health"]).code, 1);
    // --service narrows the check to one resource.
    add_deployment(
        degraded.path(),
        &format!("{p}-2"),
        "test",
        json!([{"id": "ok", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-ok"))}]),
    );
    assert_eq!(
        helm_emu(degraded.path(), &["health", "--service", "ok"]).code,
        0
    );
    assert_eq!(
        helm_emu(degraded.path(), &["health", "--service=near"]).code,
        1
    );
}

#[test]
fn bad_usage_and_an_unreachable_endpoint() {
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        "d",
        "test",
        json!([{"id": "f", "type": "lambda", "arn": lambda_arn("us-east-1", "nowhere")}]),
    );
    let r = helm_emu(dir.path(), &["health", "--service", "nope"]);
    assert_eq!(r.code, 64);
    assert!(r.stderr.contains("resources: f"), "{}", r.stderr);
    assert_eq!(
        helm_emu(dir.path(), &["health", "--timeframe", "soon"]).code,
        64
    );
    assert_eq!(
        helm_emu(dir.path(), &["health", "--env", "staging"]).code,
        64
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(helm(dir.path())
        .args([
            "health",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("HELM_AWS_MAX_ATTEMPTS", "1"));
    assert_eq!(r.code, 69, "{r:?}");
    assert!(r.stderr.lines().count() <= 2, "{}", r.stderr);
    assert!(
        !dir.path().join(".fractary/helm/issues/active").exists(),
        "nothing recorded when AWS is unreachable"
    );
}

#[test]
fn metrics_gives_the_statistics_of_one_metric() {
    let emu = Emulator::shared();
    let p = unique_name("metric");
    let durations: Vec<f64> = (1..=100).map(f64::from).collect();
    emu.seed(&json!({"lambdas": [{"name": format!("{p}-f")}], "metrics": lambda_metrics(&format!("{p}-f"), 100, 0, &durations)}).to_string());
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        &p,
        "test",
        json!([{"id": "f", "type": "lambda", "arn": lambda_arn("us-east-1", &format!("{p}-f"))}]),
    );
    let r = helm_emu(
        dir.path(),
        &[
            "metrics",
            "--service",
            "f",
            "--metric",
            "Duration",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let s = &r.json()["statistics"];
    assert_eq!(s["average"], 50.5);
    assert_eq!(s["minimum"], 1);
    assert_eq!(s["maximum"], 100);
    assert_eq!(s["p95"], 95);
    assert_eq!(s["p99"], 99);
    assert_eq!(s["samples"], 100);
    let text = helm_emu(
        dir.path(),
        &["metrics", "--service", "f", "--metric", "duration_p95_ms"],
    );
    assert!(text.stdout.contains("p95        95"), "{}", text.stdout);
}

#[test]
fn performance_states_trends_and_anomalies() {
    let emu = Emulator::shared();
    let p = unique_name("perf");
    let name = format!("{p}-f");
    let dims = json!({"FunctionName": name});
    let mut metrics = Vec::new();
    for i in 0..24 {
        let minutes_ago = 118 - i * 5;
        let errors = if i >= 21 { 20 } else { 0 };
        metrics.push(json!({"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 100, "minutes_ago": minutes_ago}));
        metrics.push(json!({"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": errors, "minutes_ago": minutes_ago}));
    }
    emu.seed(&json!({"lambdas": [{"name": name}], "metrics": metrics}).to_string());
    let dir = emulated_project();
    add_deployment(
        dir.path(),
        &p,
        "test",
        json!([{"id": "f", "type": "lambda", "arn": lambda_arn("us-east-1", &name)}]),
    );
    let r = helm_emu(
        dir.path(),
        &[
            "performance",
            "--service",
            "f",
            "--timeframe",
            "2h",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let findings: Vec<String> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("f: error rate rose from 0% to ")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.contains("3 anomalous error rate points")),
        "{findings:?}"
    );
    assert!(
        r.json()["recommendations"][0]
            .as_str()
            .unwrap()
            .contains("helm-cloud investigate --service f")
    );
}

/// The Step Functions and EventBridge kinds, each judged HEALTHY and UNHEALTHY from seeded
/// metrics (failed executions and failed invocations as a share of those started), by
/// their status (a disabled rule, a state machine AWS does not hold), through the same
/// batched GetMetricData as every kind; a rule of a custom bus is measured with its bus.
#[test]
fn state_machines_and_event_rules_are_judged_from_their_metrics_and_status() {
    let emu = Emulator::shared();
    let p = unique_name("kinds");
    let script = r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
sfn = boto3.client('stepfunctions', **kw)
definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
arns = {}
for n in ['ok', 'failing']:
    arns[n] = sfn.create_state_machine(name=f'{p}-{n}', definition=definition,
        roleArn='arn:aws:iam::123456789012:role/sfn')['stateMachineArn']
ev = boto3.client('events', **kw)
ev.create_event_bus(Name=f'{p}-bus')
ev.put_rule(Name=f'{p}-nightly', ScheduleExpression='rate(1 day)', State='ENABLED')
ev.put_rule(Name=f'{p}-paid', EventBusName=f'{p}-bus', EventPattern=json.dumps({"source": ["shop"]}), State='ENABLED')
ev.put_rule(Name=f'{p}-legacy', ScheduleExpression='rate(1 hour)', State='DISABLED')
print(json.dumps(arns))
"#;
    let arns = emu.run_python(script, &[&p]);
    let sm = |n: &str| arns[n].as_str().unwrap().to_string();
    let states = |arn: &str, started: u32, failed: u32| {
        let d = json!({"StateMachineArn": arn});
        vec![
            json!({"namespace": "AWS/States", "name": "ExecutionsStarted", "dimensions": d, "value": started}),
            json!({"namespace": "AWS/States", "name": "ExecutionsFailed", "dimensions": d, "value": failed}),
            json!({"namespace": "AWS/States", "name": "ExecutionTime", "dimensions": d, "values": vec![1200.0; 10]}),
        ]
    };
    let events = |dims: Value, invoked: u32, failed: u32| {
        vec![
            json!({"namespace": "AWS/Events", "name": "Invocations", "dimensions": dims, "value": invoked}),
            json!({"namespace": "AWS/Events", "name": "FailedInvocations", "dimensions": dims, "value": failed}),
        ]
    };
    let mut metrics = Vec::new();
    metrics.extend(states(&sm("ok"), 100, 0));
    metrics.extend(states(&sm("failing"), 100, 20));
    metrics.extend(events(json!({"RuleName": format!("{p}-nightly")}), 50, 0));
    metrics.extend(events(
        json!({"RuleName": format!("{p}-paid"), "EventBusName": format!("{p}-bus")}),
        50,
        10,
    ));
    emu.seed(&json!({ "metrics": metrics }).to_string());

    let dir = emulated_project();
    let root = dir.path();
    let rule = |path: &str| format!("arn:aws:events:us-east-1:123456789012:rule/{path}");
    add_deployment(
        root,
        "flows",
        "test",
        json!([
            {"id": "sm-ok", "type": "stepfunctions", "arn": sm("ok")},
            {"id": "sm-failing", "type": "AWS::StepFunctions::StateMachine", "arn": sm("failing")},
            {"id": "sm-gone", "type": "aws_sfn_state_machine",
             "arn": format!("arn:aws:states:us-east-1:123456789012:stateMachine:{p}-gone")},
            {"id": "rule-nightly", "type": "eventbridge", "arn": rule(&format!("{p}-nightly"))},
            {"id": "rule-paid", "type": "eventbridge", "arn": rule(&format!("{p}-bus/{p}-paid"))},
            {"id": "rule-legacy", "type": "AWS::Events::Rule", "arn": rule(&format!("{p}-legacy"))},
        ]),
    );
    let r = run(helm_against(emu, root).args(["health", "--format", "json", "-v"]));
    let report = r.json();
    let status = |id: &str| result(&report, id)["status"].as_str().unwrap().to_string();
    assert_eq!(
        status("sm-ok"),
        "HEALTHY",
        "{}",
        reasons(result(&report, "sm-ok"))
    );
    assert_eq!(status("sm-failing"), "UNHEALTHY");
    assert!(
        reasons(result(&report, "sm-failing")).contains("error rate 20%"),
        "{report:#}"
    );
    assert_eq!(
        result(&report, "sm-failing")["metrics"]["error_rate_percent"],
        20.0
    );
    assert_eq!(
        result(&report, "sm-ok")["metrics"]["execution_time_p95_ms"],
        1200.0
    );
    assert_eq!(status("sm-gone"), "UNHEALTHY");
    assert!(reasons(result(&report, "sm-gone")).contains("registry drift"));
    assert_eq!(
        status("rule-nightly"),
        "HEALTHY",
        "{}",
        reasons(result(&report, "rule-nightly"))
    );
    assert_eq!(status("rule-paid"), "UNHEALTHY");
    assert!(
        reasons(result(&report, "rule-paid")).contains("error rate 20%"),
        "{report:#}"
    );
    assert_eq!(status("rule-legacy"), "UNHEALTHY");
    assert!(
        reasons(result(&report, "rule-legacy")).contains("DISABLED"),
        "{report:#}"
    );
    // One batched GetMetricData for the six, whatever their kinds.
    let gmd = r
        .stderr
        .lines()
        .filter(|l| l.contains("GetMetricData"))
        .count();
    assert_eq!(gmd, 1, "{}", r.stderr);
}

/// Application Load Balancers, SNS topics and an ECS service measured through its target
/// group, each judged HEALTHY and UNHEALTHY from seeded metrics: an ALB's error rate counts
/// its own 5XX and its targets' over its requests, an SNS topic's counts failed deliveries
/// over attempted ones (not over messages published), a response time in seconds is
/// judged in ms; an ECS service whose entry names no target group has its error rate "not
/// evaluated" with the reason, and a topic AWS does not hold is registry drift. All of it
/// in one batched GetMetricData.
#[test]
fn load_balancers_topics_and_ecs_behind_a_target_group_are_judged_from_their_metrics() {
    let emu = Emulator::shared();
    let p = unique_name("lb");
    let script = r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
ec2 = boto3.client('ec2', **kw)
vpc = ec2.create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.9.{i}.0/24', AvailabilityZone=az)['Subnet']['SubnetId']
           for i, az in enumerate(['us-east-1a', 'us-east-1b'])]
elb = boto3.client('elbv2', **kw)
out = {}
for n in ['ok', 'failing']:
    out['lb-' + n] = elb.create_load_balancer(Name=f'{p}-{n}', Subnets=subnets, Type='application')['LoadBalancers'][0]['LoadBalancerArn']
for n in ['ok', 'failing']:
    out['tg-' + n] = elb.create_target_group(Name=f'{p}-{n}', Protocol='HTTP', Port=80, VpcId=vpc, TargetType='ip')['TargetGroups'][0]['TargetGroupArn']
sns = boto3.client('sns', **kw)
for n in ['ok', 'failing']:
    out['topic-' + n] = sns.create_topic(Name=f'{p}-{n}')['TopicArn']
ecs = boto3.client('ecs', **kw)
ecs.create_cluster(clusterName=p)
ecs.register_task_definition(family=p, containerDefinitions=[{'name': 'app', 'image': 'nginx', 'memory': 128}])
for n in ['ok', 'failing', 'plain']:
    out['svc-' + n] = ecs.create_service(cluster=p, serviceName=f'{p}-{n}', taskDefinition=p, desiredCount=1)['service']['serviceArn']
print(json.dumps(out))
"#;
    let arns = emu.run_python(script, &[&p]);
    let arn = |k: &str| arns[k].as_str().unwrap().to_string();
    // CloudWatch's dimension values: the ARNs' resource parts.
    let lb_dim = |k: &str| arn(k).split(":loadbalancer/").nth(1).unwrap().to_string();
    let tg_dim = |k: &str| {
        format!(
            "targetgroup/{}",
            arn(k).split(":targetgroup/").nth(1).unwrap()
        )
    };
    let elb = |dims: Value, requests: u32, elb_5xx: u32, target_5xx: u32, seconds: f64| {
        let mut v = vec![
            json!({"namespace": "AWS/ApplicationELB", "name": "RequestCount", "dimensions": dims, "value": requests}),
            json!({"namespace": "AWS/ApplicationELB", "name": "HTTPCode_Target_5XX_Count", "dimensions": dims, "value": target_5xx}),
            json!({"namespace": "AWS/ApplicationELB", "name": "TargetResponseTime", "dimensions": dims, "values": vec![seconds; 10]}),
        ];
        if elb_5xx > 0 {
            v.push(json!({"namespace": "AWS/ApplicationELB", "name": "HTTPCode_ELB_5XX_Count", "dimensions": dims, "value": elb_5xx}));
        }
        v
    };
    let topic = |name: String, published: u32, delivered: u32, failed: u32| {
        let d = json!({"TopicName": name});
        vec![
            json!({"namespace": "AWS/SNS", "name": "NumberOfMessagesPublished", "dimensions": d, "value": published}),
            json!({"namespace": "AWS/SNS", "name": "NumberOfNotificationsDelivered", "dimensions": d, "value": delivered}),
            json!({"namespace": "AWS/SNS", "name": "NumberOfNotificationsFailed", "dimensions": d, "value": failed}),
        ]
    };
    let mut metrics = Vec::new();
    metrics.extend(elb(
        json!({"LoadBalancer": lb_dim("lb-ok")}),
        1000,
        0,
        0,
        0.12,
    ));
    metrics.extend(elb(
        json!({"LoadBalancer": lb_dim("lb-failing")}),
        1000,
        3,
        2,
        0.9,
    ));
    metrics.extend(elb(
        json!({"TargetGroup": tg_dim("tg-ok"), "LoadBalancer": lb_dim("lb-ok")}),
        1000,
        0,
        0,
        0.08,
    ));
    metrics.extend(elb(
        json!({"TargetGroup": tg_dim("tg-failing"), "LoadBalancer": lb_dim("lb-failing")}),
        1000,
        0,
        50,
        0.2,
    ));
    metrics.extend(topic(format!("{p}-ok"), 50, 100, 0));
    metrics.extend(topic(format!("{p}-failing"), 50, 80, 20));
    emu.seed(&json!({ "metrics": metrics }).to_string());

    let dir = emulated_project();
    let root = dir.path();
    add_deployment(
        root,
        "edge",
        "test",
        json!([
            {"id": "lb-ok", "type": "alb", "arn": arn("lb-ok")},
            {"id": "lb-failing", "type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "arn": arn("lb-failing")},
            {"id": "topic-ok", "type": "sns", "arn": arn("topic-ok")},
            {"id": "topic-failing", "type": "aws_sns_topic", "arn": arn("topic-failing")},
            {"id": "topic-gone", "type": "sns", "arn": format!("arn:aws:sns:us-east-1:123456789012:{p}-gone")},
            {"id": "svc-ok", "type": "ecs", "arn": arn("svc-ok"),
             "target_group_arn": arn("tg-ok"), "load_balancer_arn": arn("lb-ok")},
            {"id": "svc-failing", "type": "ecs", "arn": arn("svc-failing"),
             "target_group_arn": arn("tg-failing"), "load_balancer_arn": arn("lb-failing")},
            {"id": "svc-plain", "type": "ecs", "arn": arn("svc-plain")},
        ]),
    );
    let r = run(helm_against(emu, root).args(["health", "--format", "json", "-v"]));
    let report = r.json();
    let res = |id: &str| result(&report, id).clone();
    let status = |id: &str| res(id)["status"].as_str().unwrap().to_string();
    for ok in ["lb-ok", "topic-ok", "svc-ok"] {
        assert_eq!(status(ok), "HEALTHY", "{ok}: {}", reasons(&res(ok)));
    }
    // 3 balancer + 2 target 5XX of 1000 requests; p95 0.9 s over 500 ms.
    assert_eq!(status("lb-failing"), "UNHEALTHY");
    assert_eq!(res("lb-failing")["metrics"]["error_rate_percent"], 0.5);
    assert_eq!(
        res("lb-failing")["metrics"]["target_response_time_p95_ms"],
        900.0
    );
    assert!(
        reasons(&res("lb-failing")).contains("p95 latency"),
        "{}",
        reasons(&res("lb-failing"))
    );
    assert_eq!(
        res("lb-ok")["metrics"]["target_response_time_p95_ms"],
        120.0
    );
    // 20 failed of 100 attempted deliveries, not of 50 messages published.
    assert_eq!(status("topic-failing"), "UNHEALTHY");
    assert_eq!(res("topic-failing")["metrics"]["error_rate_percent"], 20.0);
    assert_eq!(status("topic-gone"), "UNHEALTHY");
    assert!(reasons(&res("topic-gone")).contains("registry drift"));
    // The service's own target group: 50 of 1000.
    assert_eq!(
        status("svc-failing"),
        "UNHEALTHY",
        "{}",
        reasons(&res("svc-failing"))
    );
    assert_eq!(res("svc-failing")["metrics"]["error_rate_percent"], 5.0);
    assert_eq!(res("svc-ok")["metrics"]["tg_response_time_p95_ms"], 80.0);
    // Without a target group: judged on what it has, its error rate said not evaluated.
    let plain = res("svc-plain");
    assert_ne!(plain["status"], "UNHEALTHY", "{plain:#}");
    assert!(plain["metrics"].get("error_rate_percent").is_none());
    let notes = plain["notes"].to_string();
    assert!(notes.contains("target_group_arn"), "{plain:#}");
    let gmd = r
        .stderr
        .lines()
        .filter(|l| l.contains("GetMetricData"))
        .count();
    assert_eq!(gmd, 1, "{}", r.stderr);
}

#[test]
fn streams_caches_instance_groups_network_balancers_and_target_groups_are_judged() {
    let emu = Emulator::shared();
    let p = unique_name("k5");
    let arns = emu.run_python(
        r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
ec2 = boto3.client('ec2', **kw)
vpc = ec2.create_vpc(CidrBlock='10.8.0.0/16')['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.8.{i}.0/24', AvailabilityZone=az)['Subnet']['SubnetId']
           for i, az in enumerate(['us-east-1a', 'us-east-1b'])]
elb = boto3.client('elbv2', **kw)
out = {}
out['alb'] = elb.create_load_balancer(Name=f'{p}-web', Subnets=subnets, Type='application')['LoadBalancers'][0]['LoadBalancerArn']
for n in ['ok', 'failing']:
    out['nlb-' + n] = elb.create_load_balancer(Name=f'{p}-{n}', Subnets=subnets, Type='network')['LoadBalancers'][0]['LoadBalancerArn']
tg = lambda n, kind, proto: elb.create_target_group(Name=f'{p}-{n}', Protocol=proto, Port=80, VpcId=vpc, TargetType=kind)['TargetGroups'][0]['TargetGroupArn']
for n in ['ok', 'failing']:
    out['tg-' + n] = tg(n, 'ip', 'HTTP')
    elb.register_targets(TargetGroupArn=out['tg-' + n], Targets=[{'Id': '10.8.0.10', 'Port': 80}, {'Id': '10.8.1.10', 'Port': 80}])
out['tg-tcp'] = tg('tcp', 'ip', 'TCP')
elb.register_targets(TargetGroupArn=out['tg-tcp'], Targets=[{'Id': '10.8.0.11', 'Port': 80}])
# A group whose only target is a stopped instance: no healthy target.
out['tg-down'] = tg('down', 'instance', 'HTTP')
image = 'ami-0abcdef1234567890'  # the emulator loads no images here and does not check the id
i = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType='t3.micro', SubnetId=subnets[0])['Instances'][0]['InstanceId']
elb.register_targets(TargetGroupArn=out['tg-down'], Targets=[{'Id': i, 'Port': 80}])
ec2.stop_instances(InstanceIds=[i])
kin = boto3.client('kinesis', **kw)
for n in ['ok', 'failing']:
    kin.create_stream(StreamName=f'{p}-{n}', ShardCount=1)
    out['stream-' + n] = kin.describe_stream_summary(StreamName=f'{p}-{n}')['StreamDescriptionSummary']['StreamARN']
ec = boto3.client('elasticache', **kw)
for n in ['ok', 'hot']:
    out['cache-' + n] = ec.create_cache_cluster(CacheClusterId=f'{p}-{n}', Engine='redis', CacheNodeType='cache.t3.micro', NumCacheNodes=1)['CacheCluster']['ARN']
asg = boto3.client('autoscaling', **kw)
ec2.create_launch_template(LaunchTemplateName=p, LaunchTemplateData={'ImageId': image, 'InstanceType': 't3.micro'})
for n, desired in [('ok', 2), ('sick', 1), ('hot', 1)]:
    asg.create_auto_scaling_group(AutoScalingGroupName=f'{p}-{n}', LaunchTemplate={'LaunchTemplateName': p},
                                  MinSize=1, MaxSize=4, DesiredCapacity=desired, VPCZoneIdentifier=subnets[0])
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f'{p}-{n}'])['AutoScalingGroups'][0]
    out['asg-' + n] = g['AutoScalingGroupARN']
for inst in asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f'{p}-sick'])['AutoScalingGroups'][0]['Instances']:
    asg.set_instance_health(InstanceId=inst['InstanceId'], HealthStatus='Unhealthy')
print(json.dumps(out))
"#,
        &[&p],
    );
    // The emulator writes `loadbalancer/app/` into every balancer's ARN, a network one's
    // too; AWS writes `loadbalancer/net/`, and so does this test (status matches a balancer
    // by its name and id, which both spellings share).
    let arn = |k: &str| {
        let a = arns[k].as_str().unwrap().to_string();
        if k.starts_with("nlb-") {
            a.replace(":loadbalancer/app/", ":loadbalancer/net/")
        } else {
            a
        }
    };
    let lb_dim = |k: &str| arn(k).split(":loadbalancer/").nth(1).unwrap().to_string();
    let tg_dim = |k: &str| {
        format!(
            "targetgroup/{}",
            arn(k).split(":targetgroup/").nth(1).unwrap()
        )
    };
    let m = |ns: &str, name: &str, dims: &Value, value: f64| json!({"namespace": ns, "name": name, "dimensions": dims, "value": value});
    let mut metrics = Vec::new();
    for (k, resets) in [("nlb-ok", 0.0), ("nlb-failing", 50.0)] {
        let d = json!({"LoadBalancer": lb_dim(k)});
        metrics.push(m("AWS/NetworkELB", "NewFlowCount", &d, 1000.0));
        metrics.push(m("AWS/NetworkELB", "TCP_ELB_Reset_Count", &d, resets));
    }
    for (k, errors) in [("tg-ok", 0.0), ("tg-failing", 50.0)] {
        let d = json!({"TargetGroup": tg_dim(k), "LoadBalancer": lb_dim("alb")});
        metrics.push(m("AWS/ApplicationELB", "RequestCount", &d, 1000.0));
        metrics.push(m(
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            &d,
            errors,
        ));
        metrics.push(json!({"namespace": "AWS/ApplicationELB", "name": "TargetResponseTime", "dimensions": d, "values": vec![0.05; 10]}));
    }
    metrics.push(m(
        "AWS/NetworkELB",
        "HealthyHostCount",
        &json!({"TargetGroup": tg_dim("tg-tcp"), "LoadBalancer": lb_dim("nlb-ok")}),
        1.0,
    ));
    for (k, throttled, age) in [("ok", 0.0, 500.0), ("failing", 100.0, 120_000.0)] {
        let d = json!({"StreamName": format!("{p}-{k}")});
        metrics.push(m("AWS/Kinesis", "IncomingRecords", &d, 1000.0));
        metrics.push(m(
            "AWS/Kinesis",
            "WriteProvisionedThroughputExceeded",
            &d,
            throttled,
        ));
        metrics.push(m(
            "AWS/Kinesis",
            "GetRecords.IteratorAgeMilliseconds",
            &d,
            age,
        ));
    }
    for (k, cpu) in [("ok", 20.0), ("hot", 97.0)] {
        let d = json!({"CacheClusterId": format!("{p}-{k}")});
        metrics.push(m("AWS/ElastiCache", "CPUUtilization", &d, cpu));
        metrics.push(m("AWS/ElastiCache", "Evictions", &d, 3.0));
    }
    for (k, cpu) in [("ok", 30.0), ("sick", 30.0), ("hot", 97.0)] {
        let d = json!({"AutoScalingGroupName": format!("{p}-{k}")});
        metrics.push(m("AWS/EC2", "CPUUtilization", &d, cpu));
    }
    emu.seed(&json!({ "metrics": metrics }).to_string());

    let dir = emulated_project();
    let root = dir.path();
    let nlb_slo = json!({"error_rate_percent": 1});
    add_deployment(
        root,
        "streams",
        "test",
        json!([
            {"id": "nlb-ok", "type": "nlb", "arn": arn("nlb-ok"), "slo": nlb_slo},
            {"id": "nlb-failing", "type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "arn": arn("nlb-failing"), "slo": nlb_slo},
            {"id": "tg-ok", "type": "targetgroup", "arn": arn("tg-ok"), "load_balancer_arn": arn("alb")},
            {"id": "tg-failing", "type": "aws_lb_target_group", "arn": arn("tg-failing"), "load_balancer_arn": arn("alb")},
            {"id": "tg-tcp", "type": "targetgroup", "arn": arn("tg-tcp"), "load_balancer_arn": arn("nlb-ok")},
            {"id": "tg-down", "type": "targetgroup", "arn": arn("tg-down"), "load_balancer_arn": arn("alb")},
            {"id": "stream-ok", "type": "kinesis", "arn": arn("stream-ok")},
            {"id": "stream-failing", "type": "AWS::Kinesis::Stream", "arn": arn("stream-failing")},
            {"id": "stream-gone", "type": "kinesis", "arn": format!("arn:aws:kinesis:us-east-1:123456789012:stream/{p}-gone")},
            {"id": "cache-ok", "type": "elasticache", "arn": arn("cache-ok")},
            {"id": "cache-hot", "type": "elasticache", "arn": arn("cache-hot")},
            {"id": "asg-ok", "type": "asg", "arn": arn("asg-ok")},
            {"id": "asg-sick", "type": "aws_autoscaling_group", "arn": arn("asg-sick")},
            {"id": "asg-hot", "type": "asg", "arn": arn("asg-hot")},
        ]),
    );
    let r = run(helm_against(emu, root).args(["health", "--format", "json", "-v"]));
    let report = r.json();
    let res = |id: &str| result(&report, id).clone();
    let status = |id: &str| res(id)["status"].as_str().unwrap().to_string();
    for ok in [
        "nlb-ok",
        "tg-ok",
        "tg-tcp",
        "stream-ok",
        "cache-ok",
        "asg-ok",
    ] {
        assert_eq!(status(ok), "HEALTHY", "{ok}: {:#}", res(ok));
    }
    // 50 balancer resets of 1000 new flows against 1%.
    assert_eq!(status("nlb-failing"), "UNHEALTHY");
    assert_eq!(res("nlb-failing")["metrics"]["error_rate_percent"], 5.0);
    // 50 of 1000 against the target group's 0.1%.
    assert_eq!(status("tg-failing"), "UNHEALTHY");
    assert_eq!(res("tg-failing")["metrics"]["error_rate_percent"], 5.0);
    assert_eq!(res("tg-ok")["metrics"]["healthy_count"], 2);
    // Behind an NLB: its host count read in AWS/NetworkELB, no HTTP error rate claimed.
    let tcp = res("tg-tcp");
    assert_eq!(tcp["metrics"]["healthy_hosts_min"], 1.0, "{tcp:#}");
    assert!(tcp["metrics"].get("error_rate_percent").is_none());
    assert!(
        tcp["notes"].to_string().contains("Network Load Balancer"),
        "{tcp:#}"
    );
    // Its only target stopped: none healthy.
    assert_eq!(status("tg-down"), "UNHEALTHY");
    assert!(
        reasons(&res("tg-down")).contains("0 of 1 targets healthy"),
        "{}",
        reasons(&res("tg-down"))
    );
    // 100 throttled of 1100 records; the consumer two minutes behind against 60 s.
    let stream = res("stream-failing");
    assert_eq!(stream["status"], "UNHEALTHY");
    assert_eq!(stream["metrics"]["error_rate_percent"], 9.09);
    assert!(reasons(&stream).contains("iterator age"), "{stream:#}");
    assert_eq!(status("stream-gone"), "UNHEALTHY");
    assert!(reasons(&res("stream-gone")).contains("registry drift"));
    // CPU 97% ≥ 95%.
    assert_eq!(status("cache-hot"), "UNHEALTHY");
    assert!(reasons(&res("cache-hot")).contains("cpu"));
    assert_eq!(res("cache-ok")["metrics"]["evictions"], 3.0);
    // Its one instance marked Unhealthy.
    assert_eq!(status("asg-sick"), "UNHEALTHY");
    assert!(
        reasons(&res("asg-sick")).contains("0 of 1 instances healthy"),
        "{}",
        reasons(&res("asg-sick"))
    );
    assert_eq!(res("asg-ok")["metrics"]["healthy_count"], 2);
    // Every instance healthy, CPU 97% ≥ 95%: UNHEALTHY from its metrics.
    assert_eq!(status("asg-hot"), "UNHEALTHY");
    assert!(
        reasons(&res("asg-hot")).contains("cpu 97%"),
        "{:#}",
        res("asg-hot")
    );
    let gmd = r
        .stderr
        .lines()
        .filter(|l| l.contains("GetMetricData"))
        .count();
    assert_eq!(gmd, 1, "{}", r.stderr);

    // scale_resources sets a group's desired capacity, within its MinSize..MaxSize.
    let desired = || {
        emu.run_python(
            r#"
import sys, json, boto3
ep, name = sys.argv[1], sys.argv[2]
a = boto3.client('autoscaling', endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
print(a.describe_auto_scaling_groups(AutoScalingGroupNames=[name])['AutoScalingGroups'][0]['DesiredCapacity'])
"#,
            &[&format!("{p}-ok")],
        )
    };
    let scale = |v: &str| {
        run(helm_against(emu, root).args([
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "asg-ok",
            "--value",
            v,
            "--yes",
        ]))
    };
    let r = scale("9");
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr.contains("9 is out of range: 1 to 4"),
        "{}",
        r.stderr
    );
    assert_eq!(desired(), 2, "nothing changed");
    let r = scale("3");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(desired(), 3);
    // Recorded before and after, both refusals and the change.
    let history: Vec<Value> = std::fs::read_to_string(
        root.join(".fractary/plugins/helm-cloud/remediations/test/history.jsonl"),
    )
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    let last = history.last().unwrap();
    assert_eq!(last["decision"], "applied", "{last:#}");
    assert_eq!(last["before"]["desired_capacity"], 2, "{last:#}");
    assert_eq!(last["after"]["desired_capacity"], 3, "{last:#}");
    assert!(history.iter().any(|h| h["decision"] == "refused"));

    // The throttled stream's issue gets its fitting action: more shards (1 → 2, ×1.5
    // rounded up), within what one UpdateShardCount may do.
    let throttled = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["resource"] == "stream-failing" && i["metric"] == "WriteProvisionedThroughputExceeded"
        })
        .unwrap_or_else(|| panic!("{:#}", report["issues"]));
    let id = throttled["issue_id"].as_str().unwrap();
    let r = run(helm_against(emu, root).args([
        "remediate",
        "--issue",
        id,
        "--yes",
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    let shards = |name: &str| {
        emu.run_python(
            r#"
import sys, boto3
ep, name = sys.argv[1], sys.argv[2]
k = boto3.client('kinesis', endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
print(k.describe_stream_summary(StreamName=name)['StreamDescriptionSummary']['OpenShardCount'])
"#,
            &[name],
        )
    };
    assert_eq!(shards(&format!("{p}-failing")), 2);
    // Beyond double is refused before any call.
    let r = run(helm_against(emu, root).args([
        "remediate",
        "--action",
        "scale_resources",
        "--service",
        "stream-ok",
        "--value",
        "3",
        "--yes",
    ]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr.contains("3 is out of range: 1 to 2"),
        "{}",
        r.stderr
    );
    assert_eq!(shards(&format!("{p}-ok")), 1);
    // An on-demand stream sizes itself: refused, with the way out.
    let od = emu.run_python(
        r#"
import sys, json, boto3
ep, name = sys.argv[1], sys.argv[2]
k = boto3.client('kinesis', endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
k.create_stream(StreamName=name, StreamModeDetails={'StreamMode': 'ON_DEMAND'})
print(json.dumps(k.describe_stream_summary(StreamName=name)['StreamDescriptionSummary']['StreamARN']))
"#,
        &[&format!("{p}-od")],
    );
    add_deployment(
        root,
        "ondemand",
        "test",
        json!([{"id": "stream-od", "type": "kinesis", "arn": od}]),
    );
    let r = run(helm_against(emu, root).args([
        "remediate",
        "--action",
        "increase_capacity",
        "--service",
        "stream-od",
        "--yes",
    ]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("on-demand"), "{}", r.stderr);
}
