//! `slo` against the emulator: three days of steady traffic and a fresh burst page (the
//! ticket silenced, a CRITICAL issue opened); clean traffic after it resolves the issue.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};

/// Lambda metrics every 5 minutes from `from` to `to` minutes ago (negative: later than
/// the seeding), with `errors` errors a bucket where `burst(minutes_ago)` says.
fn traffic(name: &str, from: i64, to: i64, errors: impl Fn(i64) -> u32) -> Vec<Value> {
    let dims = json!({"FunctionName": name});
    let mut out = Vec::new();
    let mut m = from;
    while m > to {
        out.push(json!({"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 20, "minutes_ago": m}));
        out.push(json!({"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": errors(m), "minutes_ago": m}));
        out.push(json!({"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": vec![40.0; 20], "minutes_ago": m}));
        m -= 5;
    }
    out
}

fn objective<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["slo_report"]["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["objective"] == name)
        .unwrap_or_else(|| panic!("no {name} objective: {r:#}"))
}

#[test]
fn a_fresh_burst_on_a_steady_service_pages_and_clean_traffic_after_it_resolves() {
    let emu = Emulator::shared();
    let name = unique_name("slo");
    // Three days at 0 errors, the last hour at 1 error in 20 (5%: 50× the 0.1% allowed).
    let mut metrics = traffic(&name, 3 * 24 * 60 - 2, 0, |m| u32::from(m < 60));
    // Two clean hours "after" the seeding, read by the second run (its --now is 2h later).
    metrics.extend(traffic(&name, -3, -120, |_| 0));
    emu.seed(&json!({"lambdas": [{"name": name}], "metrics": metrics}).to_string());
    let dir = lambda_project(&name, &[]);
    let now = chrono::Utc::now();
    let at = |t: chrono::DateTime<chrono::Utc>| helm_core::clock::rfc3339(t);

    let r = helm_emu_at(dir.path(), &["slo", "--format", "json"], Some(&at(now)));
    assert_eq!(r.code, 2, "a page exits 2: {}\n{}", r.stdout, r.stderr);
    let doc = r.json();
    let a = objective(&doc, "availability");
    assert_eq!(a["alert"], "page", "{a:#}");
    assert_eq!(a["fired"]["long"], "1h");
    assert_eq!(a["fired"]["short"], "5m");
    assert_eq!(a["target_percent"], 99.9);
    let burn_1h = a["burn_rates"]["1h"].as_f64().unwrap();
    assert!((45.0..=55.0).contains(&burn_1h), "1h burns ≈ 50: {burn_1h}");
    assert!(a["burn_rates"]["3d"].as_f64().unwrap() < 1.0, "{a:#}");
    // The latency objective: every call took 40 ms, under 200: nothing burns.
    let l = objective(&doc, "latency");
    assert_eq!(l["alert"], "ok", "{l:#}");
    assert_eq!(l["attainment_percent"], 100.0);
    assert_eq!(doc["slo_report"]["period"], "30d");
    let opened = &doc["slo_report"]["issues"][0];
    assert_eq!(opened["fingerprint"], "test/api/slo:availability:page");
    let issues = helm_run(dir.path(), &["issues", "--format", "json"]).json();
    let issue = &issues["issues"][0];
    assert_eq!(issue["severity"], "CRITICAL");
    assert_eq!(issue["slo_breach"], true);
    assert_eq!(
        issues["issues"].as_array().unwrap().len(),
        1,
        "the ticket is silenced by the page"
    );

    // Text: one row per objective, the alert first.
    let text = helm_emu_at(dir.path(), &["slo"], Some(&at(now)));
    assert!(
        text.stdout.contains("PAGE") && text.stdout.contains("availability"),
        "{}",
        text.stdout
    );

    // Two hours later, after two clean hours: the page stops and its issue resolves.
    let later = now + chrono::Duration::hours(2);
    let r = helm_emu_at(dir.path(), &["slo", "--format", "json"], Some(&at(later)));
    let doc = r.json();
    assert_eq!(objective(&doc, "availability")["alert"], "ok", "{doc:#}");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["slo_report"]["issues"][0]["resolved"], true, "{doc:#}");
}

#[test]
fn a_resource_without_traffic_is_insufficient_data_and_exits_3() {
    let emu = Emulator::shared();
    let name = unique_name("quiet");
    emu.seed(&json!({"lambdas": [{"name": name}]}).to_string());
    let dir = lambda_project(
        &name,
        &[
            json!({"id": "web", "type": "ecs", "arn": "arn:aws:ecs:us-east-1:123456789012:service/main/web"}),
        ],
    );
    let r = helm_emu(dir.path(), &["slo", "--format", "json"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    let doc = r.json();
    assert_eq!(
        objective(&doc, "availability")["budget"]["status"],
        "INSUFFICIENT_DATA"
    );
    let why = &doc["slo_report"]["not_evaluated"][0];
    assert_eq!(why["resource"], "web");
    assert!(
        why["reason"].as_str().unwrap().contains("load balancer"),
        "{why}"
    );
}
