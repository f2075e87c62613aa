//! Faults AWS really produces, injected between helm-cloud and the emulator by
//! `scripts/emulator/faultproxy.py` (throttling in each protocol's own error shape, resets,
//! answers lost after the change was applied, endpoints down). Each test is a row of the
//! README's "What it survives" table: it asserts the outcome and then records it.
//!
//! Retries and backoff are set explicitly (HELM_AWS_MAX_ATTEMPTS, HELM_AWS_MAX_BACKOFF): the
//! SDK's defaults would back off for up to 20 s.

use crate::support::*;
use helm_testsupport::{Emulator, FaultProxy, unique_name};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;

/// `helm-cloud` in `root` through `proxy`, with `attempts` per call and 20 ms backoff.
fn helm_via(proxy: &FaultProxy, root: &Path, attempts: u32) -> std::process::Command {
    let mut cmd = helm(root);
    for (k, v) in proxy.env() {
        cmd.env(k, v);
    }
    cmd.env("HELM_AWS_MAX_ATTEMPTS", attempts.to_string())
        .env("HELM_AWS_MAX_BACKOFF", "20ms");
    cmd
}

fn stats(proxy: &FaultProxy) -> Value {
    serde_json::from_str(&proxy.stats()).unwrap()
}

/// (calls, retried, more attempts, failed) from the `-v` closing line.
fn tally(stderr: &str) -> (u64, u64, u64, u64) {
    let line = stderr
        .lines()
        .rfind(|l| l.starts_with("aws: ") && l.contains(" calls, "))
        .unwrap_or_else(|| panic!("no call tally in:\n{stderr}"));
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    (n[0], n[1], n[2], n[3])
}

/// A project of `n` Lambda functions with an hour of steady traffic.
fn fleet(n: usize) -> tempfile::TempDir {
    let p = unique_name("fleet");
    let names: Vec<String> = (0..n).map(|i| format!("{p}-f{i}")).collect();
    let mut metrics = Vec::new();
    for name in &names {
        for m in (1..60).step_by(5) {
            for metric in ["Invocations", "Errors", "Throttles"] {
                metrics.push(json!({"namespace": "AWS/Lambda", "name": metric, "dimensions": {"FunctionName": name},
                                    "value": if metric == "Invocations" { 10 } else { 0 }, "minutes_ago": m}));
            }
        }
    }
    let lambdas: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
    Emulator::shared().seed(&json!({"lambdas": lambdas, "metrics": metrics}).to_string());
    let dir = emulated_project();
    let resources: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"id": format!("f{i}"), "type": "lambda", "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{n}")}))
        .collect();
    write(
        dir.path(),
        REGISTRY,
        &json!({"deployments": [{"id": "d", "environment": "test", "resources": resources}]})
            .to_string(),
    );
    dir
}

#[test]
fn health_under_30_percent_throttling_judges_every_resource_or_says_why_not() {
    let dir = fleet(6);
    let proxy = FaultProxy::start(Emulator::shared(), "* throttle 30%");
    // Five runs through one seeded stream: enough calls for the share to bite.
    let started = std::time::Instant::now();
    let (mut judged, mut unknown_total, mut codes) = (0, 0, Vec::new());
    let (mut calls_total, mut retried_total, mut more_total, mut failed_total) = (0, 0, 0, 0);
    for _ in 0..5 {
        proxy.clear();
        let r = run(helm_via(&proxy, dir.path(), 3).args(["health", "--format", "json", "-v"]));
        let report = r.json();
        let results = report["results"].as_array().unwrap();
        assert_eq!(results.len(), 6, "{report:#}");
        let mut unknown = 0;
        for res in results {
            match res["status"].as_str().unwrap() {
                "HEALTHY" => judged += 1,
                "UNKNOWN" => {
                    unknown += 1;
                    let why = res["reasons"].to_string();
                    assert!(why.contains("Throttl"), "an UNKNOWN says why: {res:#}");
                }
                other => panic!("throttling is not a finding: {other} in {res:#}"),
            }
        }
        unknown_total += unknown;
        let overall = if unknown > 0 { "UNKNOWN" } else { "HEALTHY" };
        assert_eq!(report["overall_health"], overall);
        assert_eq!(r.code, if unknown > 0 { 3 } else { 0 }, "{}", r.stderr);
        codes.push(r.code);
        // What helm-cloud counted is what the proxy saw: every attempt, no more than 3 a call.
        let (calls, retried, more, failed) = tally(&r.stderr);
        let seen = stats(&proxy);
        let requests = seen["requests"].as_array().unwrap();
        let throttled = requests.iter().filter(|q| q["fault"] == "throttle").count() as u64;
        assert_eq!(requests.len() as u64, calls + more, "{}", r.stderr);
        assert_eq!(
            throttled,
            more + failed,
            "each retry answers a throttle, and each failed call ends on one"
        );
        assert!(more <= 2 * calls, "{}", r.stderr);
        assert!(
            !r.stderr.contains("after 4 attempts"),
            "no call beyond its 3 attempts"
        );
        calls_total += calls;
        retried_total += retried;
        more_total += more;
        failed_total += failed;
    }
    assert!(retried_total > 0, "the throttling was real");
    survived(
        "30% of every AWS request throttled (each protocol's own error)",
        "health ×5",
        &format!(
            "{judged} of 30 judged, {unknown_total} UNKNOWN naming the throttling, none misjudged; {calls_total} calls, {retried_total} retried ({more_total} retries, ≤ 2 a call, as the proxy counted), {failed_total} failed; exits {codes:?}; {:.1} s for the 5 runs (debug build, 20 ms backoff)",
            started.elapsed().as_secs_f64()
        ),
    );
}

#[test]
fn health_under_total_throttling_is_unknown_never_healthy() {
    let dir = fleet(3);
    let proxy = FaultProxy::start(Emulator::shared(), "* throttle");
    let r = run(helm_via(&proxy, dir.path(), 3).args(["health", "--format", "json", "-v"]));
    assert_eq!(r.code, 3, "UNKNOWN everywhere: {r:?}");
    let report = r.json();
    for res in report["results"].as_array().unwrap() {
        assert_eq!(res["status"], "UNKNOWN", "{res:#}");
    }
    let (calls, _, more, failed) = tally(&r.stderr);
    assert_eq!(more, 2 * calls, "every call tried 3 times");
    assert_eq!(failed, calls);
    assert_eq!(
        stats(&proxy)["requests"].as_array().unwrap().len() as u64,
        3 * calls
    );
    survived(
        "every AWS request throttled",
        "health",
        &format!("3 of 3 UNKNOWN, none HEALTHY; {calls} calls × 3 attempts, all failed; exit 3"),
    );
}

/// A Lambda project whose log group holds `n` numbered events (two FilterLogEvents pages
/// of 10,000 from 10,001 on).
fn logged(n: usize) -> (tempfile::TempDir, String) {
    let p = unique_name("pages");
    let messages: Vec<String> = (0..n).map(|i| format!("ERROR event {i:05}")).collect();
    Emulator::shared().seed(&json!({"log_events": [{"group": format!("/aws/lambda/{p}"), "stream": "s", "messages": messages, "minutes_ago": 30}]}).to_string());
    (lambda_project(&p, &[]), p)
}

#[test]
fn a_reset_in_the_middle_of_filter_log_events_paging_loses_and_repeats_nothing() {
    let (dir, _) = logged(25_000);
    let args = ["logs", "--service", "api", "--since", "1h"];
    let proxy = FaultProxy::start(Emulator::shared(), "");
    let whole = run(helm_via(&proxy, dir.path(), 1).args(args));
    assert_eq!(whole.code, 0, "{whole:?}");
    let lines = |s: &str| {
        s.lines()
            .filter(|l| l.contains("ERROR event"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let all = lines(&whole.stdout);
    assert_eq!(all.len(), 25_000);
    let pages = stats(&proxy)["counts"]["FilterLogEvents none"]
        .as_u64()
        .unwrap();
    assert!(pages >= 3, "the window is read in pages: {pages}");

    // The second page's connection is reset; the SDK retries that page with its token.
    proxy.set_rules("FilterLogEvents reset after 1 x1");
    proxy.clear();
    let retried = run(helm_via(&proxy, dir.path(), 3).args(args));
    assert_eq!(retried.code, 0, "{retried:?}");
    assert_eq!(lines(&retried.stdout), all, "every event once, in order");
    assert_eq!(stats(&proxy)["counts"]["FilterLogEvents reset"], 1);

    // Without retries the sweep stops, and says where its gap begins.
    proxy.set_rules("FilterLogEvents reset after 1 x1");
    let cut = run(helm_via(&proxy, dir.path(), 1).args(args));
    assert_eq!(cut.code, 69, "AWS unreachable mid-sweep: {cut:?}");
    let got = lines(&cut.stdout);
    assert!(!got.is_empty() && got.len() < all.len(), "{}", got.len());
    assert_eq!(got[..], all[..got.len()], "a prefix, nothing repeated");
    assert!(
        cut.stderr
            .contains(&format!("the sweep stopped after {} events", got.len()))
            && cut.stderr.contains("were not read"),
        "{}",
        cut.stderr
    );

    // investigate reads the same sweep: with retries, the same count as without a fault.
    proxy.set_rules("");
    let inv = |proxy: &FaultProxy, attempts| {
        run(helm_via(proxy, dir.path(), attempts).args([
            "investigate",
            "--service",
            "api",
            "--env",
            "test",
            "--timeframe",
            "1h",
            "--format",
            "json",
        ]))
    };
    let base = inv(&proxy, 1);
    proxy.set_rules("FilterLogEvents reset after 1 x1");
    let again = inv(&proxy, 3);
    assert_eq!(again.code, base.code, "{again:?}");
    assert_eq!(base.json()["logs_found"], 25_000, "{}", base.stdout);
    for key in ["logs_found", "error_count"] {
        assert_eq!(again.json()[key], base.json()[key], "{}", again.stdout);
    }
    survived(
        "connection reset on the 2nd FilterLogEvents page",
        "logs, investigate",
        &format!(
            "with retries: all 25,000 events once, in order, investigate counts the same; without: exit 69 after {} events, the gap named",
            got.len()
        ),
    );
}

/// A project with one Lambda (`api`) in `test`, seeded in the emulator.
fn one_lambda() -> (tempfile::TempDir, String) {
    let name = unique_name("lost");
    Emulator::shared()
        .seed(&json!({"lambdas": [{"name": name, "env": {"STAGE": "test"}}]}).to_string());
    (lambda_project(&name, &[]), name)
}

const RESTART: [&str; 7] = [
    "remediate",
    "--action",
    "restart_lambda",
    "--service",
    "api",
    "--format",
    "json",
];

fn history(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(
        root.join(".fractary/plugins/helm-cloud/remediations/test/history.jsonl"),
    )
    .unwrap_or_default()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[test]
fn an_update_applied_but_its_answer_lost_is_not_applied_twice() {
    let proxy = FaultProxy::start(Emulator::shared(), "UpdateFunctionConfiguration lost x1");

    // With retries: the SDK resends the update with the plan's revision, the guard refuses
    // it (412), and a re-read finds the first one applied.
    let (dir, _) = one_lambda();
    let r = run(helm_via(&proxy, dir.path(), 3).args(RESTART));
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["decision"], "applied");
    assert_eq!(j["verification"]["ok"], true, "{j:#}");
    let counts = &stats(&proxy)["counts"];
    assert_eq!(counts["UpdateFunctionConfiguration lost"], 1, "{counts}");
    assert_eq!(
        counts["UpdateFunctionConfiguration none"], 1,
        "the one retry, refused: {counts}"
    );
    let h = history(dir.path());
    let decisions: Vec<&str> = h.iter().map(|x| x["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["started", "applied"]);
    let why = h[1]["reason"].as_str().unwrap();
    assert!(
        why.contains("answer to UpdateFunctionConfiguration was lost")
            && why.contains("refused by the revision guard (412)"),
        "{why}"
    );

    // Without retries: no answer at all, and the re-read tells it was applied.
    proxy.set_rules("UpdateFunctionConfiguration lost x1");
    proxy.clear();
    let (dir2, _) = one_lambda();
    let r2 = run(helm_via(&proxy, dir2.path(), 1).args(RESTART));
    assert_eq!(r2.code, 0, "{r2:?}");
    assert_eq!(
        stats(&proxy)["counts"]["UpdateFunctionConfiguration lost"],
        1
    );
    assert!(
        stats(&proxy)["counts"]
            .get("UpdateFunctionConfiguration none")
            .is_none(),
        "never resent"
    );
    let why2 = history(dir2.path())[1]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        why2.contains("a re-read shows this change applied"),
        "{why2}"
    );
    survived(
        "UpdateFunctionConfiguration applied, its answer lost",
        "remediate restart_lambda",
        "applied once: the SDK's retry refused by the revision guard (412), a re-read confirms; without retries never resent; both in the history",
    );
}

#[test]
fn a_verification_that_cannot_read_after_the_apply_is_exit_1_and_recorded() {
    let (dir, _) = one_lambda();
    // The plan and the apply each read the configuration once; the verification's reads fail.
    let proxy = FaultProxy::start(Emulator::shared(), "GetFunctionConfiguration 503 after 2");
    let r = run(helm_via(&proxy, dir.path(), 1).args(RESTART));
    assert_eq!(r.code, 1, "applied, not verified: {r:?}");
    let j = r.json();
    assert_eq!(j["decision"], "applied");
    assert_eq!(j["verification"]["ok"], false, "{j:#}");
    let h = history(dir.path());
    assert_eq!(h.len(), 2);
    assert_eq!(h[1]["decision"], "applied");
    assert_eq!(h[1]["verification"]["ok"], false);
    survived(
        "503 on every read after the apply",
        "remediate restart_lambda",
        &format!(
            "exit 1, applied and not verified ({}), recorded in the history",
            j["verification"]["detail"].as_str().unwrap_or_default()
        ),
    );
}

#[test]
fn the_endpoint_down_for_three_watch_cycles_is_counted_and_recovered_without_losing_state() {
    let (dir, _) = crate::watch::steady_project();
    let proxy = FaultProxy::start(Emulator::shared(), "");
    let mut child = helm_via(&proxy, dir.path(), 1)
        .args(["watch", "--cycles", "5", "--interval", "2s", "--no-notify"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|pipe| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        })
    })
    .collect();
    drop(tx);
    let mut lines = Vec::new();
    for line in rx {
        // Down after the first cycle, back after the fourth.
        if line.starts_with("cycle 1 test") {
            proxy.set_rules("* down");
        }
        if line.contains("cycle 4 test") {
            proxy.set_rules("");
        }
        lines.push(line);
    }
    for r in readers {
        r.join().unwrap();
    }
    let status = child.wait().unwrap();
    let text = lines.join("\n");
    assert_eq!(status.code(), Some(0), "the last cycle is healthy:\n{text}");
    let cycle = |n: u32| {
        lines
            .iter()
            .find(|l| l.contains(&format!("cycle {n} test")))
            .unwrap_or_else(|| panic!("no cycle {n} line:\n{text}"))
            .clone()
    };
    assert!(cycle(1).contains("HEALTHY"), "{text}");
    for n in 2..=4 {
        let l = cycle(n);
        assert!(
            l.contains("failed") || l.contains("UNKNOWN"),
            "a cycle without AWS is not healthy: {l}"
        );
        assert!(!l.contains(": HEALTHY"), "{l}");
    }
    assert!(cycle(5).contains(": HEALTHY"), "{text}");
    let state = crate::watch::state(dir.path());
    assert_eq!(state["cycles"], 5);
    // The SLO buckets read before the outage were kept: cycle 5 reads only the new ones.
    let (_, first) = crate::watch::read(&cycle(1));
    let (_, last) = crate::watch::read(&cycle(5));
    assert!(
        last < first,
        "cycle 5 read {last} datapoints, cycle 1 {first}"
    );
    let downs = stats(&proxy)["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["fault"] == "down")
        .count() as u64;
    assert!(downs > 0, "the outage was real");
    survived(
        "the endpoint down for 3 watch cycles",
        "watch",
        &format!(
            "cycles 2–4 said ({}), cycle 5 HEALTHY, 5 cycles in the state, SLO buckets kept (cycle 5 read {last} datapoints, cycle 1 {first})",
            cycle(2)
                .split(": ")
                .nth(1)
                .unwrap_or("failed")
                .chars()
                .take(40)
                .collect::<String>()
        ),
    );
}
