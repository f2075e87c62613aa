//! Alerts end to end: `health --notify` on the emulator, delivered to local servers that
//! check each service's documented contract (scripts/contracts/alert_server.py: Slack's
//! Block Kit limits, PagerDuty Events v2 validated against its published OpenAPI, the
//! webhook's HMAC signature). Trigger and resolve, retries, a server down, a kill
//! mid-send, a refusal, renotify, order per fingerprint, and no secret in any file.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";
const SLACK_TOKEN: &str = "T0SECRET/B0SECRET/slacksecrettoken";
const HOOK_SECRET: &str = "hook-secret-value";

/// The contract servers, one process per test.
struct Alerts {
    child: Child,
    url: String,
}

fn http(url: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (status, body)
}

impl Alerts {
    fn start(print: bool) -> Alerts {
        let root = helm_testsupport::repo_root();
        let mut cmd = Command::new(Emulator::shared().python());
        cmd.arg(root.join("scripts/contracts/alert_server.py"))
            .arg("--pagerduty-openapi")
            .arg(root.join(
                "crates/helm-cloud/tests/it/fixtures/contracts/pagerduty-events-v2.openapi.json",
            ))
            .args(["--webhook-secret", HOOK_SECRET])
            .stdout(Stdio::piped());
        if print {
            cmd.arg("--print");
        }
        let mut child = cmd.spawn().expect("starting the contract servers");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("contract server said {line:?}"))
            .to_string();
        Alerts { child, url }
    }

    fn script(&self, service: &str, answers: Value) {
        let body = json!({"service": service, "answers": answers}).to_string();
        assert_eq!(http(&self.url, "POST", "/_script", &body).0, 200);
    }

    fn seen(&self) -> Vec<Value> {
        serde_json::from_str(&http(&self.url, "GET", "/_seen", "").1).unwrap()
    }

    fn seen_of(&self, service: &str) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|s| s["service"] == service)
            .collect()
    }

    fn alerts(&self) -> Value {
        serde_json::from_str(&http(&self.url, "GET", "/_alerts", "").1).unwrap()
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "SLACK_WEBHOOK_URL",
                format!("{}/slack/{SLACK_TOKEN}", self.url),
            ),
            ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY.to_string()),
            (
                "HELM_PAGERDUTY_EVENTS_URL",
                format!("{}/pagerduty/v2", self.url),
            ),
            ("OPS_WEBHOOK_URL", format!("{}/webhook/ops", self.url)),
            ("OPS_WEBHOOK_SECRET", HOOK_SECRET.to_string()),
            ("HELM_NOTIFY_WAIT_SCALE", "0.01".to_string()),
        ]
    }
}

impl Drop for Alerts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CHANNELS: &str = r#"
[escalation]
channels = ["slack-ops", "ops-hook"]
on_call_schedule = "pd"

[notifications]
retry_delay = "2s"
max_retry_delay = "5s"

[notifications.slack-ops]
type = "slack"
url_env = "SLACK_WEBHOOK_URL"

[notifications.pd]
type = "pagerduty"
routing_key_env = "PAGERDUTY_ROUTING_KEY"
min_severity = "LOW"

[notifications.ops-hook]
type = "webhook"
url_env = "OPS_WEBHOOK_URL"
secret_env = "OPS_WEBHOOK_SECRET"
"#;

/// A project whose Lambda fails now and recovers 80 minutes from now, with the three
/// channels configured (`extra` appended to monitoring.toml).
fn failing_project(extra: &str) -> tempfile::TempDir {
    let emu = Emulator::shared();
    let f = unique_name("alert");
    let dims = json!({"FunctionName": f});
    emu.seed(
        &json!({
            "lambdas": [{"name": f}],
            "metrics": [
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 200},
                {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 30},
                {"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": [80.0, 90.0]},
                {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 200, "minutes_ago": -80},
                {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": 0, "minutes_ago": -80},
                {"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": [80.0, 90.0], "minutes_ago": -80},
            ],
        })
        .to_string(),
    );
    let dir = lambda_project(&f, &[]);
    write(
        dir.path(),
        MONITORING,
        &format!("[helm-cloud]\nenvironments = [\"test\"]\n{CHANNELS}{extra}"),
    );
    dir
}

fn later(minutes: i64) -> String {
    helm_core::clock::rfc3339(chrono::Utc::now() + chrono::Duration::minutes(minutes))
}

fn notify_run(root: &Path, alerts: &Alerts, args: &[&str], now: Option<&str>) -> Run {
    let mut cmd = helm_against(Emulator::shared(), root);
    for (k, v) in alerts.env() {
        cmd.env(k, v);
    }
    if let Some(n) = now {
        cmd.env("HELM_NOW", n);
    }
    run(cmd.args(args))
}

fn outbox(root: &Path, sub: &str) -> Vec<Value> {
    let dir = root
        .join(".fractary/plugins/helm-cloud/notifications")
        .join(sub);
    let mut out: Vec<Value> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect();
    out.sort_by_key(|e| e["seq"].as_u64());
    out
}

/// No secret in any file under `.fractary/`, nor in what the run printed.
fn assert_no_secret(root: &Path, runs: &[&Run]) {
    let secrets = [ROUTING_KEY, "slacksecrettoken", HOOK_SECRET];
    let mut stack = vec![root.join(".fractary")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                for s in secrets {
                    assert!(!text.contains(s), "a secret in {}", p.display());
                }
            }
        }
    }
    for r in runs {
        for s in secrets {
            assert!(
                !r.stdout.contains(s) && !r.stderr.contains(s),
                "a secret printed: {r:?}"
            );
        }
    }
}

fn pd_actions(alerts: &Alerts) -> Vec<(String, String, Value)> {
    alerts
        .seen_of("pagerduty")
        .iter()
        .map(|s| {
            (
                s["json"]["event_action"].as_str().unwrap_or("").to_string(),
                s["json"]["dedup_key"].as_str().unwrap_or("").to_string(),
                s["answered"].clone(),
            )
        })
        .collect()
}

#[test]
fn trigger_then_resolve_with_the_same_dedup_key_on_every_channel_and_silence_between() {
    let alerts = Alerts::start(false);
    let dir = failing_project("");
    let root = dir.path();
    let first = notify_run(
        root,
        &alerts,
        &["health", "--notify", "--format", "json"],
        None,
    );
    assert_eq!(first.code, 2, "{first:?}");
    let doc = first.json();
    assert!(
        !doc["notifications"]["sent"].as_array().unwrap().is_empty(),
        "{doc}"
    );
    let seen = alerts.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        assert!(
            s["contract_ok"].as_bool().unwrap(),
            "broke the contract: {s}"
        );
    }
    let triggers: Vec<_> = pd_actions(&alerts);
    assert!(triggers.iter().all(|t| t.0 == "trigger"), "{triggers:?}");
    let key = triggers[0].1.clone();
    assert!(
        key.starts_with("test/api/"),
        "dedup key is the fingerprint: {key}"
    );
    let pd = &alerts.seen_of("pagerduty")[0]["json"];
    assert_eq!(pd["payload"]["group"], "test");
    assert_eq!(pd["payload"]["component"], "api");
    assert!(
        pd["payload"]["custom_details"]["metrics"].is_object(),
        "{pd}"
    );
    let slack = &alerts.seen_of("slack")[0]["json"];
    let text = slack["blocks"].to_string();
    assert!(
        text.contains("helm-cloud investigate --issue infra-"),
        "{text}"
    );
    let hook = &alerts.seen_of("webhook")[0];
    assert_eq!(hook["json"]["version"], "1");
    assert_eq!(hook["json"]["event"], "opened");
    assert_eq!(hook["json"]["environment"], "test");

    // Seen again: nobody hears it twice.
    let n = alerts.seen().len();
    let again = notify_run(root, &alerts, &["health", "--notify"], None);
    assert_eq!(again.code, 2, "{again:?}");
    assert_eq!(
        alerts.seen().len(),
        n,
        "a repeated detection notified again"
    );

    // Recovered: each channel hears the resolve once; PagerDuty resolves the same key.
    let healed = notify_run(root, &alerts, &["health", "--notify"], Some(&later(90)));
    assert_eq!(healed.code, 0, "{healed:?}");
    assert_eq!(alerts.alerts()[&key], "resolved", "{:?}", alerts.alerts());
    let resolves: Vec<_> = pd_actions(&alerts)
        .into_iter()
        .filter(|a| a.0 == "resolve")
        .collect();
    assert_eq!(resolves.len(), triggers.len(), "one resolve per trigger");
    let slack_last = alerts.seen_of("slack").last().unwrap()["json"]["blocks"].to_string();
    assert!(slack_last.contains("Resolved after"), "{slack_last}");
    assert_eq!(
        alerts.seen_of("webhook").last().unwrap()["json"]["event"],
        "resolved"
    );
    for s in alerts.seen() {
        assert!(
            s["contract_ok"].as_bool().unwrap(),
            "broke the contract: {s}"
        );
    }
    assert!(outbox(root, "outbox").is_empty());
    assert_no_secret(root, &[&first, &again, &healed]);
}

#[test]
fn a_429_then_202_is_delivered_once_after_the_wait_the_service_asked() {
    let alerts = Alerts::start(false);
    alerts.script("pagerduty", json!([{"status": 429, "retry_after": 1}]));
    let dir = failing_project("");
    let r = notify_run(root_of(&dir), &alerts, &["health", "--notify"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("trying again in 1s"), "{}", r.stderr);
    let pd = pd_actions(&alerts);
    assert_eq!(pd[0].2, 429);
    assert_eq!(pd[1].2, 202);
    assert_eq!(pd[0].1, pd[1].1, "the retry is the same event");
    let accepted = pd.iter().filter(|a| a.2 == 202).count();
    let keys: std::collections::BTreeSet<_> = pd.iter().map(|a| a.1.clone()).collect();
    assert_eq!(
        accepted,
        keys.len(),
        "each alert accepted exactly once: {pd:?}"
    );
    assert!(outbox(root_of(&dir), "outbox").is_empty());
}

fn root_of(d: &tempfile::TempDir) -> &Path {
    d.path()
}

#[test]
fn a_server_down_keeps_events_in_order_and_a_later_run_delivers_trigger_before_resolve() {
    let alerts = Alerts::start(false);
    // PagerDuty fails every attempt of the first run.
    alerts.script(
        "pagerduty",
        json!([{"status": 503}, {"status": 503}, {"status": 503}]),
    );
    let dir = failing_project("");
    let root = dir.path();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}/slack/{SLACK_TOKEN}", free.local_addr().unwrap());
    drop(free);
    let mut cmd = helm_against(Emulator::shared(), root);
    for (k, v) in alerts.env() {
        cmd.env(k, v);
    }
    let r = run(cmd
        .env("SLACK_WEBHOOK_URL", &down)
        .args(["health", "--notify"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("wait in the outbox"), "{}", r.stderr);
    assert!(r.stderr.contains("could not be reached"), "{}", r.stderr);
    let pending = outbox(root, "outbox");
    assert!(pending.iter().any(|e| e["channel"] == "slack-ops"));
    assert!(
        pending
            .iter()
            .any(|e| e["channel"] == "pd" && e["attempts"] == 3),
        "{pending:?}"
    );
    let status = notify_run(
        root,
        &alerts,
        &["notify", "status", "--format", "json"],
        None,
    );
    assert_eq!(status.code, 1, "pending deliveries: {status:?}");
    assert_eq!(
        status.json()["pending"].as_array().unwrap().len(),
        pending.len()
    );

    // Later, everything is up and the issue has resolved: the trigger leaves first.
    let healed = notify_run(root, &alerts, &["health", "--notify"], Some(&later(90)));
    assert_eq!(healed.code, 0, "{healed:?}");
    let pd = pd_actions(&alerts);
    let key = pd[0].1.clone();
    let order: Vec<(String, Value)> = pd
        .iter()
        .filter(|a| a.1 == key)
        .map(|a| (a.0.clone(), a.2.clone()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("trigger".into(), json!(503)),
            ("trigger".into(), json!(503)),
            ("trigger".into(), json!(503)),
            ("trigger".into(), json!(202)),
            ("resolve".into(), json!(202)),
        ]
    );
    assert_eq!(alerts.alerts()[&key], "resolved");
    let slack: Vec<String> = alerts
        .seen_of("slack")
        .iter()
        .map(|s| s["json"]["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !slack[0].contains("resolved") && slack.last().unwrap().contains("resolved"),
        "{slack:?}"
    );
    assert!(outbox(root, "outbox").is_empty());
    let status = notify_run(root, &alerts, &["notify", "status"], None);
    assert_eq!(status.code, 0, "{status:?}");
    assert_no_secret(root, &[&r, &healed, &status]);
}

#[test]
fn a_run_killed_mid_send_leaves_the_event_and_the_next_run_delivers_it() {
    let alerts = Alerts::start(false);
    alerts.script("slack", json!([{"hang": 30}]));
    let dir = failing_project("");
    let root = dir.path();
    let mut cmd = helm_against(Emulator::shared(), root);
    for (k, v) in alerts.env() {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(["health", "--notify"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut waited = 0;
    while alerts.seen_of("slack").is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
        assert!(waited < 600, "the Slack request never came");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let pending = outbox(root, "outbox");
    assert!(
        pending.iter().any(|e| e["channel"] == "slack-ops"),
        "the event in flight is still in the outbox: {pending:?}"
    );
    let flushed = notify_run(root, &alerts, &["notify", "flush"], None);
    assert_eq!(flushed.code, 0, "{flushed:?}");
    assert!(outbox(root, "outbox").is_empty());
    let slack = alerts.seen_of("slack");
    assert_eq!(slack.len(), 2);
    assert_eq!(slack[1]["answered"], 200);
    assert_eq!(
        slack[0]["json"], slack[1]["json"],
        "the same message, sent again"
    );
}

#[test]
fn a_refusal_lands_in_failed_with_the_reason_and_is_never_retried() {
    let alerts = Alerts::start(false);
    alerts.script("slack", json!([{"status": 400, "body": "invalid_payload"}]));
    let dir = failing_project("");
    let root = dir.path();
    let r = notify_run(root, &alerts, &["health", "--notify"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("invalid_payload"), "{}", r.stderr);
    let failed = outbox(root, "failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("HTTP 400")
    );
    let n = alerts.seen_of("slack").len();
    let flushed = notify_run(root, &alerts, &["notify", "flush"], None);
    assert_eq!(flushed.code, 0, "{flushed:?}");
    assert_eq!(
        alerts.seen_of("slack").len(),
        n,
        "a refused event was sent again"
    );
    let status = notify_run(
        root,
        &alerts,
        &["notify", "status", "--format", "json"],
        None,
    );
    assert_eq!(status.code, 1);
    assert_eq!(status.json()["failed"][0]["channel"], "slack-ops");
}

#[test]
fn an_open_issue_is_said_again_after_renotify_after_and_not_before() {
    let alerts = Alerts::start(false);
    let dir = failing_project("");
    let root = dir.path();
    let text = std::fs::read_to_string(root.join(MONITORING)).unwrap();
    write(
        root,
        MONITORING,
        &text.replace(
            "retry_delay = \"2s\"",
            "retry_delay = \"2s\"\nrenotify_after = \"10m\"",
        ),
    );
    let t0 = later(0);
    assert_eq!(
        notify_run(root, &alerts, &["health", "--notify"], Some(&t0)).code,
        2
    );
    let n = alerts.seen_of("slack").len();
    assert_eq!(
        notify_run(root, &alerts, &["health", "--notify"], Some(&later(5))).code,
        2
    );
    assert_eq!(alerts.seen_of("slack").len(), n, "before renotify_after");
    assert_eq!(
        notify_run(root, &alerts, &["health", "--notify"], Some(&later(11))).code,
        2
    );
    let slack = alerts.seen_of("slack");
    assert_eq!(slack.len(), 2 * n, "once more per issue");
    assert!(
        slack.last().unwrap()["json"]["text"]
            .as_str()
            .unwrap()
            .contains("still open")
    );
    assert_eq!(
        alerts.seen_of("webhook").last().unwrap()["json"]["event"],
        "renotify"
    );
}

#[test]
fn notify_test_sends_and_resolves_a_pagerduty_test_and_names_what_is_missing() {
    let alerts = Alerts::start(false);
    let dir = project();
    let root = dir.path();
    write(
        root,
        MONITORING,
        &format!("[helm-cloud]\nenvironments = [\"test\"]\n{CHANNELS}"),
    );
    let r = notify_run(root, &alerts, &["notify", "test", "pd"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let pd = pd_actions(&alerts);
    assert_eq!(
        pd.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["trigger", "resolve"]
    );
    assert_eq!(
        alerts.seen_of("pagerduty")[0]["json"]["payload"]["severity"],
        "info"
    );
    let r = notify_run(root, &alerts, &["notify", "test", "ops-hook"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        alerts.seen_of("webhook")[0]["contract_ok"]
            .as_bool()
            .unwrap()
    );

    // Without the secret: a clear error naming the variable, at send time and at validate.
    let r = run(helm(root).args(["notify", "test", "slack-ops"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("SLACK_WEBHOOK_URL"), "{}", r.stderr);
    let v = run(helm(root).args(["config", "validate"]));
    assert_eq!(v.code, 65, "{v:?}");
    assert!(
        v.stdout.contains("SLACK_WEBHOOK_URL") || v.stderr.contains("SLACK_WEBHOOK_URL"),
        "{v:?}"
    );
    let mut ok = helm(root);
    for (k, val) in alerts.env() {
        ok.env(k, val);
    }
    assert_eq!(run(ok.args(["config", "validate"])).code, 0);
    let unknown = run(helm(root).args(["notify", "test", "nowhere"]));
    assert_eq!(unknown.code, 64);
    assert!(
        unknown.stderr.contains("slack-ops"),
        "lists the channels: {}",
        unknown.stderr
    );
}

#[test]
fn a_bad_channel_table_is_refused_with_its_line_and_no_file_changes() {
    let dir = project();
    let root = dir.path();
    for (bad, says) in [
        (
            "[notifications.x]\ntype = \"teams\"\nurl_env = \"U\"\n",
            "unknown channel type",
        ),
        ("[notifications.x]\ntype = \"slack\"\n", "needs `url_env`"),
        (
            "[notifications.x]\ntype = \"slack\"\nurl_env = \"https://hooks.slack.com/services/T/B/x\"\n",
            "not an environment variable name",
        ),
        (
            "[notifications.x]\ntype = \"pagerduty\"\nrouting_key_env = \"K\"\nregion = \"mars\"\n",
            "region",
        ),
        (
            "[notifications.x]\ntype = \"slack\"\nurl_env = \"U\"\nmin_severity = \"urgent\"\n",
            "min_severity",
        ),
        (
            "[notifications]\nrenotify_after = \"soon\"\n",
            "renotify_after",
        ),
    ] {
        write(root, MONITORING, bad);
        let before = std::fs::read_to_string(root.join(MONITORING)).unwrap();
        let r = helm_run(root, &["notify", "status"]);
        assert_eq!(r.code, 65, "{bad}: {r:?}");
        assert!(
            r.stderr.contains(says) && r.stderr.contains("monitoring.toml"),
            "{bad}: {}",
            r.stderr
        );
        assert_eq!(
            std::fs::read_to_string(root.join(MONITORING)).unwrap(),
            before
        );
    }
}

#[test]
fn watch_escalate_and_remediate_each_tell_the_channels() {
    let alerts = Alerts::start(false);
    let dir = failing_project("");
    let root = dir.path();
    // One watch cycle: its SLO evaluation pages, the issue opens and is auto-escalated, and
    // the channels hear both (no remediation: this test drives it).
    let w = notify_run(
        root,
        &alerts,
        &["watch", "--once", "--no-remediate", "--env", "test"],
        None,
    );
    assert!(w.stdout.contains("escalated infra-001"), "{w:?}");
    let events = |kind: &str| -> Vec<Value> {
        alerts
            .seen_of("webhook")
            .into_iter()
            .filter(|s| s["json"]["event"] == kind)
            .collect()
    };
    assert!(
        !events("opened").is_empty(),
        "watch notified: {:?}",
        alerts.seen()
    );
    assert_eq!(events("escalated").len(), 1, "{:?}", alerts.seen());

    // `escalate` by hand on the issue health opens.
    let h = notify_run(
        root,
        &alerts,
        &["health", "--notify", "--format", "json"],
        None,
    );
    assert_eq!(h.code, 2, "{h:?}");
    let id = h.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| i["issue_id"].as_str().filter(|id| *id != "infra-001"))
        .unwrap()
        .to_string();
    let e = notify_run(root, &alerts, &["escalate", &id], None);
    assert_eq!(e.code, 0, "{e:?}");
    let esc = events("escalated");
    assert_eq!(esc.len(), 2, "{esc:?}");
    assert_eq!(esc[1]["json"]["issue_id"], id.as_str());
    assert!(esc[1]["contract_ok"].as_bool().unwrap(), "{esc:?}");
    let pd_before = pd_actions(&alerts).len();

    let r = notify_run(
        root,
        &alerts,
        &[
            "remediate",
            "--issue",
            &id,
            "--action",
            "restart_lambda",
            "--yes",
        ],
        None,
    );
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let last = alerts.seen_of("webhook").last().unwrap().clone();
    assert_eq!(last["json"]["event"], "remediated", "{last}");
    assert!(
        last["json"]["outcome"]
            .as_str()
            .unwrap()
            .contains("restart_lambda applied"),
        "{last}"
    );
    // A remediation's outcome is not an alert: the on-call schedule never hears it.
    assert_eq!(
        pd_actions(&alerts).len(),
        pd_before,
        "{:?}",
        pd_actions(&alerts)
    );
    assert_no_secret(root, &[&w, &h, &e, &r]);
}

#[test]
fn audit_notify_sends_what_the_audit_opened() {
    let alerts = Alerts::start(false);
    let dir = failing_project("");
    let root = dir.path();
    let r = notify_run(
        root,
        &alerts,
        &[
            "audit",
            "--type",
            "compliance",
            "--notify",
            "--format",
            "json",
        ],
        None,
    );
    let doc = r.json();
    let opened = doc["issues"].as_array().map_or(0, |a| a.len());
    assert!(opened > 0, "the fixture has compliance findings: {doc}");
    let sent = doc["notifications"]["sent"].as_array().unwrap();
    assert!(!sent.is_empty(), "{doc}");
    let hook = alerts.seen_of("webhook");
    assert!(
        hook.iter().all(|h| h["contract_ok"].as_bool().unwrap()),
        "{hook:?}"
    );
    assert!(
        hook.iter().any(|h| h["json"]["event"] == "opened"),
        "{hook:?}"
    );
    assert_no_secret(root, &[&r]);
}

/// A flapping receiver (the fault scenario of the faults issue): answers alternate between
/// 503s and success across attempts and runs; in the end every event is accepted exactly
/// once, each issue's events in order, and nothing is left in the outbox.
#[test]
fn a_flapping_receiver_gets_every_event_exactly_once_and_in_order() {
    let alerts = Alerts::start(false);
    let flap = json!([
        {"status": 503}, {"status": 200}, {"status": 503}, {"status": 503}, {"status": 503},
        {"status": 502}, {"status": 200}, {"status": 503}
    ]);
    alerts.script("slack", flap.clone());
    let dir = failing_project("");
    let root = dir.path();
    notify_run(root, &alerts, &["health", "--notify"], None);
    let healed_at = later(90);
    notify_run(root, &alerts, &["health", "--notify"], Some(&healed_at));
    // Whatever is still waiting goes on the following runs.
    for _ in 0..3 {
        if outbox(root, "outbox").is_empty() {
            break;
        }
        notify_run(root, &alerts, &["notify", "flush"], Some(&healed_at));
    }
    assert!(
        outbox(root, "outbox").is_empty(),
        "{:?}",
        outbox(root, "outbox")
    );
    assert!(outbox(root, "failed").is_empty());
    let slack = alerts.seen_of("slack");
    let accepted: Vec<String> = slack
        .iter()
        .filter(|s| s["answered"] == 200)
        .map(|s| s["json"]["text"].as_str().unwrap().to_string())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = accepted.iter().collect();
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "accepted twice: {accepted:?}"
    );
    assert!(
        slack.iter().any(|s| s["answered"] == 503),
        "the receiver flapped"
    );
    // Per issue: opened before resolved.
    for (i, text) in accepted.iter().enumerate() {
        if let Some(id) = text
            .split_whitespace()
            .nth(2)
            .filter(|_| text.contains("(resolved"))
        {
            let opened = accepted
                .iter()
                .position(|t| t.contains(id) && !t.contains("(resolved"))
                .unwrap_or_else(|| panic!("{id} resolved but never opened: {accepted:?}"));
            assert!(opened < i, "{accepted:?}");
        }
    }
    survived(
        "the Slack receiver flapping (503/502 between successes)",
        "health --notify, notify flush",
        &format!(
            "{} events accepted exactly once, each issue opened before resolved, {} refused attempts retried, outbox empty",
            accepted.len(),
            slack.iter().filter(|s| s["answered"] != 200).count()
        ),
    );
}
