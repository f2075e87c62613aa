//! `logs`, `patterns` and `investigate` end to end: filter patterns, each root-cause
//! category from seeded logs, query resolution, issues, redaction.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::path::Path;

/// Register Lambda functions (they need not exist: logs are read from their log groups).
fn register(root: &Path, p: &str, names: &[&str]) {
    let resources: Vec<Value> = names
        .iter()
        .map(|n| json!({"id": n, "type": "lambda", "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{p}-{n}")}))
        .collect();
    let doc = json!({"id": p, "environment": "test", "project": "acme", "version": "2.0.0",
                     "deployed_at": "2020-01-01T00:00:00Z", "resources": resources});
    let f = write(root, "deployment.json", &doc.to_string());
    assert_eq!(
        helm_run(root, &["registry", "add", "--file", f.to_str().unwrap()]).code,
        0
    );
}

fn seed_logs(p: &str, name: &str, messages: &[&str]) {
    Emulator::shared().seed(&json!({"log_events": [{"group": format!("/aws/lambda/{p}-{name}"), "stream": "s", "messages": messages}]}).to_string());
}

#[test]
fn logs_applies_every_filter_pattern_form() {
    let p = unique_name("logs");
    seed_logs(
        &p,
        "f",
        &[
            r#"{"level":"ERROR","message":"db down","latency":900}"#,
            r#"{"level":"INFO","message":"ok","latency":20}"#,
            "ERROR Task timed out after 3.00 seconds",
            "WARN pool low",
            "ERROR Exiting now",
            "INFO all good",
        ],
    );
    let dir = emulated_project();
    register(dir.path(), &p, &["f"]);
    for (pattern, expected) in [
        ("", 6),
        ("ERROR", 3),
        ("\"timed out\"", 1),
        ("?WARN ?timed", 2),
        ("ERROR -Exiting", 2),
        (r#"{ $.level = "ERROR" }"#, 1),
        ("{ $.latency > 100 }", 1),
        (r#"{ $.level = "INFO" || $.latency > 100 }"#, 2),
    ] {
        let r = helm_emu(
            dir.path(),
            &[
                "logs",
                "--service",
                "f",
                "--filter",
                pattern,
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{pattern}: {r:?}");
        assert_eq!(r.json()["matched"], expected, "{pattern}: {}", r.stdout);
    }
    let text = helm_emu(dir.path(), &["logs", "--service", "f", "--filter", "WARN"]);
    assert_eq!(text.stdout.lines().count(), 1);
    assert!(text.stdout.contains("WARN pool low"));
    assert!(
        text.stderr.contains("1 events matched of 1 read"),
        "the term went to the server: {}",
        text.stderr
    );
    let bad = helm_emu(
        dir.path(),
        &["logs", "--service", "f", "--filter", "{ $.level = }"],
    );
    assert_eq!(bad.code, 64, "{bad:?}");
    // A lone `&` once looped forever in the lexer; now it is refused at once.
    let lone = helm_emu(
        dir.path(),
        &[
            "logs",
            "--service",
            "f",
            "--filter",
            "{ $.level = \"ERROR\" & $.code = 5 }",
        ],
    );
    assert_eq!(lone.code, 64, "{lone:?}");
    assert!(lone.stderr.contains("&&"), "{}", lone.stderr);
    assert_eq!(
        helm_emu(dir.path(), &["logs", "--service", "nope"]).code,
        64
    );
}

#[test]
fn each_root_cause_category_is_named_from_its_signature() {
    let p = unique_name("cause");
    let normal = "INFO handled request in 42 ms";
    let cases: &[(&str, &[&str])] = &[
        (
            "timeout",
            &["2025-11-03T20:00:00.000Z 1a2b Task timed out after 3.00 seconds"],
        ),
        (
            "out_of_memory",
            &["RequestId: 1a2b Error: Runtime exited with error: signal: killed Runtime.ExitError"],
        ),
        (
            "throttling",
            &["[ERROR] ThrottlingException: Rate exceeded"],
        ),
        (
            "database_connection",
            &[
                "[ERROR] OperationalError: FATAL: remaining connection slots are reserved for superuser",
            ],
        ),
        (
            "dependency_unreachable",
            &["[ERROR] Error: connect ECONNREFUSED 10.0.1.5:6379"],
        ),
        (
            "permission_denied",
            &[
                "[ERROR] AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: dynamodb:PutItem",
            ],
        ),
        (
            "configuration",
            &[
                "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
            ],
        ),
        (
            "code_exception",
            &["[ERROR] TypeError: Cannot read properties of undefined (reading 'id')"],
        ),
        (
            "cold_start",
            &[
                "REPORT RequestId: 1a2b\tDuration: 12.0 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tInit Duration: 812.3 ms",
            ],
        ),
        ("unknown", &["[ERROR] the flux capacitor wobbled"]),
    ];
    let names: Vec<&str> = cases.iter().map(|(c, _)| *c).collect();
    for (category, lines) in cases {
        let mut messages: Vec<&str> = Vec::new();
        for _ in 0..4 {
            messages.extend(lines.iter());
        }
        messages.push(normal);
        seed_logs(&p, category, &messages);
    }
    let dir = emulated_project();
    register(dir.path(), &p, &names);
    for category in names {
        let r = helm_emu(
            dir.path(),
            &["investigate", "--service", category, "--format", "json"],
        );
        assert_eq!(r.code, 0, "{category}: {r:?}");
        let report = r.json();
        assert_eq!(
            report["root_cause"]["category"], category,
            "{category}: {:#}",
            report["root_cause"]
        );
        assert_eq!(report["logs_found"], 5);
        if category != "unknown" && category != "cold_start" {
            assert_eq!(report["error_count"], 4, "{category}");
            assert_eq!(
                report["root_cause"]["evidence"].as_array().unwrap().len(),
                4
            );
            assert!(report["root_cause"]["confidence"].as_f64().unwrap() > 0.9);
        }
    }
}

#[test]
fn investigate_resolves_a_question_saves_its_report_and_refuses_ambiguity() {
    let p = unique_name("ask");
    seed_logs(
        &p,
        "api",
        &[
            "[ERROR] Error: connect ECONNREFUSED 10.0.1.5:6379",
            "[ERROR] Error: connect ECONNREFUSED 10.0.1.5:6379",
            "INFO ok",
        ],
    );
    seed_logs(&p, "worker", &["INFO ok"]);
    let dir = emulated_project();
    register(dir.path(), &p, &["api", "worker"]);
    let r = helm_emu(
        dir.path(),
        &[
            "investigate",
            "api function errors in the last 2 hours",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    assert_eq!(report["resources"], json!(["api"]));
    assert_eq!(report["root_cause"]["category"], "dependency_unreachable");
    let start =
        helm_core::clock::parse_rfc3339(report["window"]["start"].as_str().unwrap()).unwrap();
    let end = helm_core::clock::parse_rfc3339(report["window"]["end"].as_str().unwrap()).unwrap();
    assert_eq!(
        (end - start).num_minutes(),
        120,
        "the time words set the window"
    );
    assert!(
        report["recommendations"][0]
            .as_str()
            .unwrap()
            .contains("security groups")
    );
    let path = dir.path().join(report["report_path"].as_str().unwrap());
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved, report);
    let md = std::fs::read_to_string(path.with_extension("md")).unwrap();
    assert!(md.contains("## Root cause: dependency_unreachable"), "{md}");
    for key in [
        "query",
        "environment",
        "window",
        "resources",
        "logs_found",
        "error_count",
        "patterns",
        "timeline",
        "root_cause",
        "recommendations",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }

    let amb = helm_emu(dir.path(), &["investigate", "lambda errors"]);
    assert_eq!(amb.code, 64, "{amb:?}");
    assert!(
        amb.stderr.contains("api (lambda)") && amb.stderr.contains("worker (lambda)"),
        "{}",
        amb.stderr
    );
}

#[test]
fn investigate_an_issue_links_the_report_into_its_history() {
    let p = unique_name("issue");
    seed_logs(
        &p,
        "api",
        &[
            "[ERROR] Task timed out after 3.00 seconds",
            "[ERROR] Task timed out after 3.00 seconds",
        ],
    );
    let dir = emulated_project();
    register(dir.path(), &p, &["api"]);
    let detected = helm_core::clock::rfc3339(chrono::Utc::now() - chrono::Duration::minutes(5));
    write(
        dir.path(),
        ".fractary/helm/issues/active/infra-007.json",
        &json!({"id": "infra-007", "domain": "infrastructure", "severity": "HIGH", "title": "Lambda error rate exceeds SLO",
                "description": "api errors", "slo_breach": true, "detected_at": detected, "environment": "test",
                "affected_resources": ["api"], "metrics": {}, "work_item_id": null}).to_string(),
    );
    let r = helm_emu(
        dir.path(),
        &["investigate", "--issue", "infra-007", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    assert_eq!(report["issue_id"], "infra-007");
    assert_eq!(report["root_cause"]["category"], "timeout");
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(".fractary/helm/issues/active/infra-007.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let last = issue["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "investigated");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains(report["report_path"].as_str().unwrap())
    );
    for bad in ["../../etc/passwd", "INFRA-7", "infra_007"] {
        let r = helm_emu(dir.path(), &["investigate", "--issue", bad]);
        assert_eq!(r.code, 64, "{bad}: {r:?}");
    }
    assert_eq!(
        helm_emu(dir.path(), &["investigate", "--issue", "infra-999"]).code,
        64
    );
}

#[test]
fn secrets_are_masked_in_logs_and_reports() {
    let p = unique_name("secret");
    seed_logs(
        &p,
        "api",
        &[
            "[ERROR] AccessDenied using AKIAIOSFODNN7EXAMPLE with password=hunter2 to postgres://app:s3cret@db/x",
        ],
    );
    let dir = emulated_project();
    register(dir.path(), &p, &["api"]);
    let logs = helm_emu(dir.path(), &["logs", "--service", "api"]);
    let inv = helm_emu(
        dir.path(),
        &["investigate", "--service", "api", "--format", "json"],
    );
    let saved = std::fs::read_to_string(
        dir.path()
            .join(inv.json()["report_path"].as_str().unwrap())
            .with_extension("md"),
    )
    .unwrap();
    for out in [&logs.stdout, &inv.stdout, &saved] {
        for secret in ["AKIAIOSFODNN7EXAMPLE", "hunter2", "s3cret"] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
    }
    assert!(logs.stdout.contains("AKIA****************"));
}

/// `helm-cloud patterns INPUT --assignments OUT EXTRA…` in `dir`.
fn mine_file(dir: &Path, input: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "patterns",
        input.to_str().unwrap(),
        "--assignments",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    helm_run(dir, &args)
}

#[test]
fn patterns_mines_a_file_and_writes_assignments() {
    let dir = tempfile::tempdir().unwrap();
    let lines = "Received block blk_1 of size 67108864 from /10.250.19.102\nReceived block blk_2 of size 3 from /10.250.10.6\n{\"level\":\"error\",\"message\":\"payment 4411 failed\"}\nPacketResponder 1 for block blk_3 terminating\n";
    let input = write(dir.path(), "in.log", lines);
    let out = dir.path().join("a.csv");
    let r = mine_file(dir.path(), &input, &out, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["lines"], 4);
    assert_eq!(r.json()["templates"], 3);
    let csv = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "LineId,EventTemplate");
    assert_eq!(rows[1], "1,Received block <*> of size <*> from /<*>");
    assert_eq!(rows[1][2..], rows[2][2..]);
    assert_eq!(rows[3], "3,payment <*> failed");
    let stdin = run(helm(dir.path())
        .args(["patterns", "-", "--top", "1"])
        .stdin(std::fs::File::open(&input).unwrap()));
    assert!(
        stdin
            .stdout
            .starts_with("4 lines, 3 templates (top 1 shown"),
        "{}",
        stdin.stdout
    );
    assert_eq!(helm_run(dir.path(), &["patterns", "missing.log"]).code, 64);
}

/// Lines are read in batches (128 KiB): a line longer than a batch, CRLF endings, a last
/// line without its newline and bytes that are not UTF-8 are each one line, in order.
#[test]
fn patterns_reads_lines_longer_than_its_block_crlf_and_a_last_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("payload {} end", "x".repeat(2_500_000));
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"user 1 logged in\r\n");
    bytes.extend_from_slice(long.as_bytes());
    bytes.extend_from_slice(b"\r\nuser 2 logged in\n\xff\xfe odd 3\nuser 3 logged in");
    let input = dir.path().join("in.log");
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join("a.csv");
    let r = mine_file(dir.path(), &input, &out, &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["lines"], 5);
    let csv = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 6, "a header and five rows");
    for (row, n) in [(1, 1), (3, 3), (5, 5)] {
        assert_eq!(rows[row], format!("{n},user <*> logged in"));
    }
    assert!(
        rows[2].starts_with("2,payload ") && rows[2].ends_with(" end"),
        "the long line whole"
    );
    assert!(!csv.contains('\r'), "CR is not part of a line");
    assert!(
        rows[4].starts_with("4,") && rows[4].ends_with("odd <*>"),
        "{}",
        rows[4]
    );
}

/// Batches are masked on several threads and filed in order: any thread count gives the
/// same CSV and the same report, byte for byte, over many batches.
#[test]
fn patterns_gives_the_same_result_on_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..30_000 {
        text.push_str(&match i % 6 {
            0 => format!(
                "Received block blk_{i} of size {} from /10.0.{}.{}:50010\n",
                i * 7,
                i % 255,
                i % 13
            ),
            1 => format!("[ERROR] request {i} failed after {}ms\n", i % 97),
            2 => format!("{{\"level\":\"warn\",\"message\":\"slow query {i}\"}}\n"),
            3 => format!("user{} logged in from 172.16.{}.1\r\n", i % 7, i % 200),
            4 => format!("\tWARN\tdisk {}% full on vol-{i:x}\n", i % 100),
            _ => format!(
                "Invalid user u{} from 52.80.{}.{}\n",
                i % 11,
                i % 250,
                i % 9
            ),
        });
    }
    assert!(text.len() > 4 * 128 * 1024, "several batches");
    let input = write(dir.path(), "in.log", &text);
    let mut seen = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = dir.path().join(format!("a{threads}.csv"));
        let r = mine_file(
            dir.path(),
            &input,
            &out,
            &["--threads", threads, "--top", "50", "--format", "json"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json()["lines"], 30_000);
        let mut report = r.json();
        report["assignments"] = Value::Null;
        seen.push((std::fs::read(&out).unwrap(), report));
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "threads changed the result"
    );
    let csv = String::from_utf8(seen[0].0.clone()).unwrap();
    assert_eq!(csv.lines().count(), 30_001);
    assert_eq!(
        csv.lines().nth(1),
        Some("1,Received block <*> of size <*> from /<*>")
    );
    assert_eq!(csv.lines().nth(4), Some("4,<*> logged in from <*>"));
    let zero = helm_run(
        dir.path(),
        &["patterns", input.to_str().unwrap(), "--threads", "0"],
    );
    assert_eq!(zero.code, 64, "{zero:?}");
}

/// A CSV that cannot be put in place leaves what was there as it was, and no temporary
/// file beside it; one that can replaces the old one whole.
#[test]
fn patterns_replaces_its_csv_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.log", "user 1 logged in\nuser 2 logged in\n");
    let taken = dir.path().join("taken.csv");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep"), "mine").unwrap();
    let r = mine_file(dir.path(), &input, &taken, &[]);
    assert_eq!(r.code, 70, "{r:?}");
    assert!(
        r.stderr.contains("writing") && r.stderr.contains("taken.csv"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(taken.join("keep")).unwrap(), "mine");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!left.iter().any(|f| f.ends_with(".tmp")), "{left:?}");
    let out = write(dir.path(), "a.csv", &"old row\n".repeat(1000));
    let r = mine_file(dir.path(), &input, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "LineId,EventTemplate\n1,user <*> logged in\n2,user <*> logged in\n"
    );
}

#[test]
fn an_ecs_service_is_read_from_its_task_definitions_log_group() {
    let p = unique_name("ecslogs");
    let group = format!("/ecs/{p}-web");
    let created: Value = serde_json::from_str(&Emulator::shared().seed(
        &json!({
            "ecs": [{"cluster": format!("{p}-c"), "service": format!("{p}-web"), "desired": 2, "log_group": group}],
            "log_events": [{"group": group, "messages": ["ERROR ThrottlingException: Rate exceeded", "ERROR ThrottlingException: Rate exceeded", "INFO ok"]}],
        })
        .to_string(),
    ))
    .unwrap();
    let dir = emulated_project();
    let doc = json!({"id": p, "environment": "test", "resources": [{"id": "web", "type": "ecs", "arn": created["ecs"][format!("{p}-web")]}]});
    let f = write(dir.path(), "d.json", &doc.to_string());
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    let logs = helm_emu(
        dir.path(),
        &[
            "logs",
            "--service",
            "web",
            "--filter",
            "Rate",
            "--format",
            "json",
        ],
    );
    assert_eq!(logs.code, 0, "{logs:?}");
    assert_eq!(logs.json()["log_groups"], json!([group]));
    assert_eq!(logs.json()["matched"], 2);
    let inv = helm_emu(
        dir.path(),
        &["investigate", "--service", "web", "--format", "json"],
    );
    assert_eq!(inv.json()["root_cause"]["category"], "throttling");
}

/// A state machine's, a cache's and a topic's logs come from where their service says it
/// writes them: the state machine's logging destination, the cluster's log delivery, the
/// topic's delivery-status groups (`sns/REGION/ACCOUNT/TOPIC/Failure`). A queue says
/// nothing: no log group, and the command says to set one.
#[test]
fn logs_of_a_state_machine_a_cache_and_a_topic_come_from_where_their_service_writes() {
    let emu = Emulator::shared();
    let p = unique_name("klog");
    let arns = emu.run_python(
        r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
sfn = boto3.client('stepfunctions', **kw)
sm = sfn.create_state_machine(name=f'{p}-flow', definition=json.dumps({"StartAt": "D", "States": {"D": {"Type": "Succeed"}}}),
    roleArn='arn:aws:iam::123456789012:role/r',
    loggingConfiguration={'level': 'ERROR', 'includeExecutionData': False, 'destinations': [
        {'cloudWatchLogsLogGroup': {'logGroupArn': f'arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/{p}-flow:*'}}]})['stateMachineArn']
cache = boto3.client('elasticache', **kw).create_cache_cluster(CacheClusterId=f'{p}-cache', Engine='redis',
    CacheNodeType='cache.t3.micro', NumCacheNodes=1, LogDeliveryConfigurations=[{'LogType': 'slow-log',
    'DestinationType': 'cloudwatch-logs', 'DestinationDetails': {'CloudWatchLogsDetails': {'LogGroup': f'/elasticache/{p}/slow'}},
    'LogFormat': 'json'}])['CacheCluster']['ARN']
topic = boto3.client('sns', **kw).create_topic(Name=f'{p}-alerts')['TopicArn']
print(json.dumps({'sm': sm, 'cache': cache, 'topic': topic}))
"#,
        &[&p],
    );
    emu.seed(
        &json!({"log_events": [
            {"group": format!("/aws/vendedlogs/states/{p}-flow"), "stream": "s", "messages": ["ERROR ExecutionFailed States.TaskFailed"]},
            {"group": format!("/elasticache/{p}/slow"), "stream": "s", "messages": ["slow KEYS * 1200 ms"]},
            {"group": format!("sns/us-east-1/123456789012/{p}-alerts/Failure"), "stream": "s", "messages": ["delivery failed: 403 from https://hooks.example"]},
        ]})
        .to_string(),
    );
    let dir = emulated_project();
    let doc = json!({"id": p, "environment": "test", "resources": [
        {"id": "flow", "type": "stepfunctions", "arn": arns["sm"]},
        {"id": "cache", "type": "elasticache", "arn": arns["cache"]},
        {"id": "alerts", "type": "sns", "arn": arns["topic"]},
        {"id": "jobs", "type": "sqs", "arn": format!("arn:aws:sqs:us-east-1:123456789012:{p}-jobs")},
    ]});
    let f = write(dir.path(), "d.json", &doc.to_string());
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    for (id, text) in [
        ("flow", "States.TaskFailed"),
        ("cache", "KEYS *"),
        ("alerts", "403 from"),
    ] {
        let r = helm_emu(dir.path(), &["logs", "--service", id, "--since", "1h"]);
        assert_eq!(r.code, 0, "{id}: {r:?}");
        assert!(r.stdout.contains(text), "{id}: {}", r.stdout);
    }
    let none = helm_emu(dir.path(), &["logs", "--service", "jobs", "--since", "1h"]);
    assert_ne!(none.code, 0, "{none:?}");
    assert!(none.stderr.contains("log_group"), "{}", none.stderr);
}
