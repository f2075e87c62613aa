//! `watch` against the emulator: one cycle does what `health` and `slo` do and saves its
//! state; a second cycle reads only the new SLO buckets; a corrupt state is set aside; a
//! second watch on the same project is refused; SIGTERM ends the loop after its cycle;
//! `/metrics` read by an independent parser (Python's prometheus_client).

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::json;
use std::path::Path;

/// A project with one Lambda that has three days of steady traffic.
pub(crate) fn steady_project() -> (tempfile::TempDir, String) {
    let emu = Emulator::shared();
    let name = unique_name("watch");
    let dims = json!({"FunctionName": name});
    let mut metrics = Vec::new();
    let mut m = 3 * 24 * 60 - 2;
    while m > 0 {
        metrics.push(json!({"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 10, "minutes_ago": m}));
        metrics.push(json!({"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 0, "minutes_ago": m}));
        m -= 5;
    }
    emu.seed(&json!({"lambdas": [{"name": name}], "metrics": metrics}).to_string());
    let dir = lambda_project(&name, &[]);
    (dir, name)
}

/// (queries, datapoints) the cycle line says the SLO evaluation read.
pub(crate) fn read(stdout: &str) -> (i64, i64) {
    let at = stdout
        .find("SLO read: ")
        .expect("the cycle line says what it read")
        + 10;
    let words: Vec<&str> = stdout[at..].split_whitespace().collect();
    (words[0].parse().unwrap(), words[2].parse().unwrap())
}

pub(crate) fn state(root: &Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root.join(".fractary/plugins/helm-cloud/watch/state.json"))
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn a_second_cycle_reads_only_the_new_buckets_and_a_corrupt_state_is_rebuilt() {
    let (dir, _) = steady_project();
    let now = chrono::Utc::now();
    let at = |t: chrono::DateTime<chrono::Utc>| helm_core::clock::rfc3339(t);
    let first = helm_emu_at(dir.path(), &["watch", "--once"], Some(&at(now)));
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("cycle 1 test: HEALTHY"),
        "{}",
        first.stdout
    );
    let (queries, full) = read(&first.stdout);
    assert!(queries >= 2, "{}", first.stdout);
    assert!(
        full >= queries * 8640,
        "the first cycle reads the whole period: {full}"
    );
    let s = state(dir.path());
    assert_eq!(s["cycles"], 1);
    assert!(
        s["environments"]["test"]["slo"]["objectives"]["api/availability"]["buckets"]
            .as_array()
            .unwrap()
            .len()
            >= 800
    );
    // A health report was saved, as `health` saves it.
    assert!(
        std::fs::read_dir(
            dir.path()
                .join(".fractary/plugins/helm-cloud/monitoring/test")
        )
        .unwrap()
        .count()
            >= 1
    );

    // Five minutes later (a restarted watch: a new process): only the new buckets.
    let second = helm_emu_at(
        dir.path(),
        &["watch", "--once"],
        Some(&at(now + chrono::Duration::minutes(5))),
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let (q2, since) = read(&second.stdout);
    assert_eq!(q2, queries);
    assert!(
        since <= queries * 5,
        "the second cycle reads 20 minutes again at most: {since}"
    );
    assert_eq!(state(dir.path())["cycles"], 2);

    // A corrupt state is set aside with a warning, and the cycle rebuilds it.
    let path = dir
        .path()
        .join(".fractary/plugins/helm-cloud/watch/state.json");
    std::fs::write(&path, "{\"version\": 1, \"cyc").unwrap();
    let third = helm_emu_at(
        dir.path(),
        &["watch", "--once"],
        Some(&at(now + chrono::Duration::minutes(10))),
    );
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(third.stderr.contains("set aside"), "{}", third.stderr);
    assert!(
        read(&third.stdout).1 >= queries * 8640,
        "rebuilt from the period"
    );
    assert_eq!(state(dir.path())["cycles"], 1);
    let kept = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".corrupt-")
        })
        .count();
    assert_eq!(kept, 1, "the corrupt file is kept for a person to read");
}

#[test]
fn one_watch_per_project_metrics_parse_and_sigterm_ends_after_the_cycle() {
    let (dir, _) = steady_project();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = helm_against(Emulator::shared(), dir.path())
        .args([
            "watch",
            "--interval",
            "1s",
            "--cycles",
            "1000",
            "--listen",
            &addr,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first cycle to be written.
    let state_file = dir
        .path()
        .join(".fractary/plugins/helm-cloud/watch/state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !state_file.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no cycle within a minute"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));

    // A second watch on the same project is refused: exit 75, saying why.
    let second = helm_emu(dir.path(), &["watch", "--once"]);
    assert_eq!(second.code, 75, "{}", second.stderr);
    assert!(second.stderr.contains("another watch"), "{}", second.stderr);

    // /metrics, parsed by prometheus_client's own OpenMetrics parser.
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));
    let response = get("/metrics");
    let body = response.split("\r\n\r\n").nth(1).unwrap().to_string();
    let py = std::process::Command::new(std::env::var("HELM_EMULATOR_PYTHON").unwrap_or_else(|_| Emulator::shared().python().to_string()))
        .args([
            "-c",
            "import sys, json\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\n\
             fams = {f.name: [(s.name, s.labels, s.value) for s in f.samples] for f in parse(sys.stdin.read())}\n\
             print(json.dumps(fams))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        py.stdin
            .as_ref()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
    }
    let out = py.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused it: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fams: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let health = &fams["helm_resource_health"][0];
    assert_eq!(health[1]["resource"], "api");
    assert_eq!(health[2], 0.0, "HEALTHY is 0");
    assert!(
        fams["helm_slo_error_budget_remaining_ratio"][0][2]
            .as_f64()
            .unwrap()
            > 0.99
    );
    assert!(fams["helm_watch_cycles"][0][2].as_f64().unwrap() >= 1.0);
    assert!(
        fams["helm_aws_requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[1]["operation"] == "GetMetricData" && s[2].as_f64().unwrap() >= 1.0),
        "{fams}"
    );
    for name in [
        "helm_slo_burn_rate",
        "helm_issues_active",
        "helm_watch_cycle_failures",
    ] {
        assert!(fams.get(name).is_some(), "{name} missing: {fams}");
    }

    // SIGTERM: the cycle finishes, the state is saved, exit 0.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watch did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("state saved"));
    assert!(state(dir.path())["cycles"].as_u64().unwrap() >= 1);
}

#[test]
fn an_issue_seen_in_two_cycles_is_remediated_once_with_its_auto_action() {
    let emu = Emulator::shared();
    let name = unique_name("wfix");
    let dims = json!({"FunctionName": name});
    emu.seed(
        &json!({"lambdas": [{"name": name}], "metrics": [
            {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 100, "minutes_ago": 2},
            {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 50, "minutes_ago": 2},
        ]})
        .to_string(),
    );
    let dir = lambda_project(&name, &[]);
    let r = helm_emu(dir.path(), &["watch", "--cycles", "3", "--interval", "1s"]);
    assert_eq!(
        r.code, 2,
        "still UNHEALTHY by its metrics: {}\n{}",
        r.stdout, r.stderr
    );
    let fixes: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("remediated"))
        .collect();
    assert_eq!(fixes.len(), 1, "once, on the second cycle: {}", r.stdout);
    assert!(
        fixes[0].contains("with restart_lambda: applied, verified"),
        "{}",
        fixes[0]
    );
    let history = std::fs::read_to_string(
        dir.path()
            .join(".fractary/plugins/helm-cloud/remediations/test/history.jsonl"),
    )
    .unwrap_or_else(|_| {
        let d = dir.path().join(".fractary/plugins/helm-cloud/remediations");
        panic!(
            "no history: {:?}",
            std::fs::read_dir(&d).map(|r| r.flatten().map(|e| e.path()).collect::<Vec<_>>())
        )
    });
    assert!(
        history.contains("\"started\"") && history.contains("\"applied\""),
        "{history}"
    );

    // --no-remediate: nothing is changed.
    let dir2 = lambda_project(&name, &[]);
    let r = helm_emu(
        dir2.path(),
        &[
            "watch",
            "--cycles",
            "2",
            "--interval",
            "1s",
            "--no-remediate",
        ],
    );
    assert!(!r.stdout.contains("remediated"), "{}", r.stdout);
}

#[test]
fn a_failed_cycle_is_said_and_the_loop_goes_on() {
    // No emulator: the endpoint is a closed port, so every cycle fails.
    let dir = lambda_project("api", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(helm(dir.path())
        .args([
            "watch",
            "--cycles",
            "2",
            "--interval",
            "1s",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("HELM_AWS_MAX_ATTEMPTS", "1"));
    assert_eq!(r.code, 69, "every environment failed: {r:?}");
    for n in [1, 2] {
        assert!(
            r.stderr.contains(&format!("cycle {n} test failed")),
            "{}",
            r.stderr
        );
    }
    assert_eq!(
        state(dir.path())["cycles"],
        2,
        "the state is saved after a failed cycle too"
    );
}
