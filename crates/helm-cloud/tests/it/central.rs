//! Central Helm: issues by priority with a fixed clock, dashboard formats (snapshots),
//! status, escalation (GitHub contract and Markdown), ops-manage, ask, malformed ids.

use crate::support::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

const NOW: &str = "2025-11-03T20:00:00Z";

fn issue(
    root: &Path,
    id: &str,
    severity: &str,
    breach: bool,
    detected: &str,
    env: &str,
    domain: &str,
) {
    write(
        root,
        &format!(".fractary/helm/issues/active/{id}.json"),
        &json!({"id": id, "domain": domain, "severity": severity, "title": format!("{severity} problem {id}"),
                "description": "d", "slo_breach": breach, "detected_at": detected, "environment": env,
                "affected_resources": ["api"], "metrics": {}, "work_item_id": null, "status": "active",
                "fingerprint": format!("{env}/api/{id}"), "source": "health", "history": []})
        .to_string(),
    );
}

fn monitors(root: &Path, app_command: Option<&str>) {
    let mut app = json!({"domain": "application", "plugin": "fractary-helm-app", "environments": ["test"], "priority_weight": 0.5, "status": "active", "commands": {}});
    if let Some(c) = app_command {
        app["commands"]["health"] = json!(c);
    }
    write(
        root,
        ".fractary/helm/domain-monitors.json",
        &json!({"version": "1.0.0", "monitors": [
            {"domain": "infrastructure", "plugin": "fractary-helm-cloud", "environments": ["test"], "priority_weight": 1.0, "status": "active", "commands": {}},
            app],
          "planned_domains": [{"domain": "content", "plugin": "fractary-helm-content", "status": "planned"}]})
        .to_string(),
    );
}

fn seeded() -> tempfile::TempDir {
    let dir = project();
    monitors(dir.path(), None);
    issue(
        dir.path(),
        "infra-001",
        "MEDIUM",
        false,
        "2025-11-03T10:00:00Z",
        "test",
        "infrastructure",
    ); // 5 + 0 + 10 = 15
    issue(
        dir.path(),
        "infra-002",
        "CRITICAL",
        true,
        "2025-11-03T19:00:00Z",
        "prod",
        "infrastructure",
    ); // 10 + 2 + 1 = 13
    issue(
        dir.path(),
        "app-001",
        "CRITICAL",
        true,
        "2025-11-03T19:00:00Z",
        "test",
        "application",
    ); // 5 + 2 + 1 = 8
    issue(
        dir.path(),
        "infra-003",
        "LOW",
        false,
        "2025-11-03T20:00:00Z",
        "test",
        "infrastructure",
    ); // 2
    dir
}

fn ids(r: &Run) -> Vec<String> {
    r.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn issues_come_in_priority_order_with_every_filter() {
    let dir = seeded();
    let all = helm_run(dir.path(), &["issues", "--format", "json", "--now", NOW]);
    assert_eq!(all.code, 0, "{all:?}");
    assert_eq!(
        ids(&all),
        ["infra-001", "infra-002", "app-001", "infra-003"]
    );
    let first = &all.json()["issues"][0];
    assert_eq!(first["priority_score"], 15.0);
    assert_eq!(first["age_hours"], 10.0);
    assert_eq!(first["severity"], "MEDIUM");
    let f = |args: &[&str]| {
        let mut a = vec!["issues", "--format", "json", "--now", NOW];
        a.extend_from_slice(args);
        ids(&helm_run(dir.path(), &a))
    };
    assert_eq!(f(&["--critical"]), ["infra-002", "app-001"]);
    assert_eq!(
        f(&["--critical", "--low"]),
        ["infra-002", "app-001", "infra-003"]
    );
    assert_eq!(f(&["--high"]), Vec::<String>::new());
    assert_eq!(f(&["--medium"]), ["infra-001"]);
    assert_eq!(f(&["--domain", "application"]), ["app-001"]);
    assert_eq!(f(&["--env", "prod"]), ["infra-002"]);
    assert_eq!(f(&["--top", "2"]), ["infra-001", "infra-002"]);
    let text = helm_run(dir.path(), &["issues", "--now", NOW]);
    assert!(
        text.stdout
            .contains("🟡 [infrastructure/test] MEDIUM problem infra-001"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "infra-001 · score 15.0 · SLO breach: no · age 10h · detected 2025-11-03T10:00:00Z"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("→ helm-cloud investigate --issue infra-001 --env test")
    );
}

#[test]
fn show_resolve_and_malformed_ids() {
    let dir = seeded();
    let show = helm_run(dir.path(), &["issues", "show", "infra-002", "--now", NOW]);
    assert!(
        show.stdout.contains("infra-002 [infrastructure/prod]"),
        "{}",
        show.stdout
    );
    let r = helm_run(
        dir.path(),
        &[
            "issues",
            "resolve",
            "infra-002",
            "--note",
            "fixed the pool",
            "--now",
            NOW,
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let resolved: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(".fractary/helm/issues/resolved/infra-002.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["history"][0]["detail"], "fixed the pool");
    assert!(
        !ids(&helm_run(dir.path(), &["issues", "--format", "json"]))
            .contains(&"infra-002".to_string())
    );
    for bad in [
        "../../etc/passwd",
        "INFRA-1",
        "infra_1",
        "infra-",
        "x/../infra-001",
    ] {
        for args in [
            vec!["issues", "show", bad],
            vec!["issues", "resolve", bad],
            vec!["escalate", bad],
            vec!["investigate", "--issue", bad],
            vec!["remediate", "--issue", bad],
        ] {
            let r = helm_run(dir.path(), &args);
            assert_eq!(r.code, 64, "{args:?}: {r:?}");
        }
    }
    assert_eq!(
        helm_run(dir.path(), &["issues", "show", "infra-999"]).code,
        64
    );
}

/// A health report saved `minutes_ago` before NOW.
fn saved_report(root: &Path, env: &str, overall: &str, minutes_ago: i64) {
    let at = helm_core::clock::parse_rfc3339(NOW).unwrap() - chrono::Duration::minutes(minutes_ago);
    write(
        root,
        &format!(".fractary/plugins/helm-cloud/monitoring/{env}/{}-health-check.json", helm_core::clock::file_stamp(at)),
        &json!({"overall_health": overall, "environment": env, "timestamp": helm_core::clock::rfc3339(at),
                "resources": {"total": 3, "healthy": 2, "degraded": 1, "unhealthy": 0, "unknown": 0}, "results": [], "issues": [], "recommendations": []})
        .to_string(),
    );
}

/// An insta snapshot under `tests/it/snapshots/`, with what changes from run to run or
/// account to account redacted: times, ARNs, account ids.
fn snapshot(name: &str, actual: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    // As wide as what it replaces, so the dashboard's box stays square.
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "YYYY-MM-DDThh:mm:ssZ");
    settings.add_filter(r#"arn:aws[a-z-]*:[^\s"]+"#, "[ARN]");
    settings.add_filter(r"\b\d{12}\b", "[ACCOUNT]");
    settings.bind(|| insta::assert_snapshot!(name, actual));
}

#[test]
fn dashboard_in_three_formats_with_a_stale_report_and_an_external_domain() {
    let dir = seeded();
    // The infrastructure report is 20 minutes old: stale (> 2 × 5m).
    saved_report(dir.path(), "test", "DEGRADED", 20);
    // The application domain answers through its own command.
    let script = write(
        dir.path(),
        "app-health.sh",
        r#"echo '{"overall_health": "HEALTHY", "environment": "test", "timestamp": "2025-11-03T19:58:00Z", "resources": {"total": 4, "healthy": 4, "degraded": 0, "unhealthy": 0, "unknown": 0}}'"#,
    );
    monitors(dir.path(), Some(&format!("sh {}", script.display())));
    assert_eq!(helm_run(dir.path(), &["domains", "trust"]).code, 0);
    let run = |format: &str| {
        helm_run(
            dir.path(),
            &[
                "dashboard",
                "--env",
                "test",
                "--format",
                format,
                "--now",
                NOW,
                "--issues",
                "3",
            ],
        )
    };

    let text = run("text");
    assert_eq!(text.code, 1, "overall DEGRADED exits 1: {text:?}");
    snapshot("dashboard-text", &text.stdout);
    let voice = run("voice");
    snapshot("dashboard-voice", &voice.stdout);
    assert!(
        !voice.stdout.contains(['|', '║', '🔴', '#', '*']),
        "voice has no symbols"
    );
    let json = run("json");
    snapshot("dashboard-json", &json.stdout);
    let d = &json.json()["dashboard"];
    assert_eq!(d["overall_health"], "DEGRADED");
    let domains = d["domain_environments"].as_array().unwrap();
    let infra = domains
        .iter()
        .find(|x| x["domain"] == "infrastructure")
        .unwrap();
    assert_eq!(
        (infra["stale"].clone(), infra["health"].clone()),
        (json!(true), json!("DEGRADED"))
    );
    let app = domains
        .iter()
        .find(|x| x["domain"] == "application")
        .unwrap();
    assert_eq!(app["health"], "HEALTHY");
    assert_eq!(
        domains.iter().find(|x| x["domain"] == "content").unwrap()["status"],
        "planned"
    );
    assert_eq!(d["top_issues"].as_array().unwrap().len(), 3);
    // The plugin's helm-dashboard document: domains keyed by domain, a summary, the time,
    // and each top issue's age in minutes and the command that acts on it.
    assert_eq!(d["generated_at"], NOW);
    assert_eq!(d["domains"]["infrastructure"]["status"], "DEGRADED");
    assert_eq!(
        d["domains"]["infrastructure"]["plugin"],
        "fractary-helm-cloud"
    );
    assert_eq!(d["domains"]["application"]["status"], "HEALTHY");
    assert_eq!(d["domains"]["content"]["status"], "PLANNED");
    assert_eq!(d["summary"]["total_domains"], 2);
    assert_eq!(d["summary"]["degraded"], 1);
    assert_eq!(d["summary"]["healthy"], 1);
    assert_eq!(d["top_issues"][0]["age_minutes"], 600);
    assert!(
        d["top_issues"][0]["command"]
            .as_str()
            .unwrap()
            .starts_with("helm-cloud ")
    );

    let status = helm_run(dir.path(), &["status", "--env", "test", "--now", NOW]);
    assert_eq!(status.code, 1);
    assert_eq!(
        status.stdout.lines().count(),
        3,
        "one line per domain and environment: {}",
        status.stdout
    );
}

/// One request the GitHub contract server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    /// Every header GitHub's REST API documents for these calls was right.
    contract_ok: bool,
    body: Value,
}

/// A local server that checks requests as GitHub's REST API documents "Create an issue"
/// (`POST /repos/{owner}/{repo}/issues`) and "List repository issues" (`GET` on the same
/// path), and keeps the issues it created so a later list shows them.
struct GitHub {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    issues: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl GitHub {
    fn start() -> GitHub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Seen>::new()));
        let issues = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
        let (seen2, issues2) = (seen.clone(), issues.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut headers = std::collections::HashMap::new();
                loop {
                    let mut l = String::new();
                    reader.read_line(&mut l).unwrap();
                    if l.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let len: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let headers_ok = headers.get("authorization").map(String::as_str)
                    == Some("Bearer test-token")
                    && headers.get("accept").map(String::as_str)
                        == Some("application/vnd.github+json")
                    && headers.get("x-github-api-version").map(String::as_str)
                        == Some("2022-11-28")
                    && headers.contains_key("user-agent");
                let is_list = method == "GET" && path.starts_with("/repos/acme/ops/issues?");
                let is_create = method == "POST" && path == "/repos/acme/ops/issues";
                // "Create an issue comment" and "Update an issue" (closing it).
                let number = path
                    .strip_prefix("/repos/acme/ops/issues/")
                    .map(|rest| rest.trim_end_matches("/comments"))
                    .filter(|n| n.parse::<u64>().is_ok());
                let is_comment = method == "POST"
                    && number.is_some()
                    && path.ends_with("/comments")
                    && doc["body"].is_string();
                let is_close = method == "PATCH"
                    && number.is_some()
                    && !path.ends_with("/comments")
                    && doc["state"] == "closed"
                    && ["completed", "not_planned"]
                        .contains(&doc["state_reason"].as_str().unwrap_or("completed"));
                let contract_ok = headers_ok
                    && (is_list
                        || is_comment
                        || is_close
                        || (is_create
                            && doc["title"].is_string()
                            && doc["body"].is_string()
                            && doc["labels"].is_array()));
                let (status, answer) = if !contract_ok {
                    (
                        "422 Unprocessable Entity",
                        json!({"message": "Validation Failed"}),
                    )
                } else if is_list {
                    let mut list = issues2.lock().unwrap().clone();
                    list.reverse(); // newest first, as asked
                    ("200 OK", Value::Array(list))
                } else if is_comment {
                    ("201 Created", json!({"id": 1, "body": doc["body"]}))
                } else if is_close {
                    let n: u64 = number.unwrap().parse().unwrap();
                    let mut all = issues2.lock().unwrap();
                    for i in all.iter_mut().filter(|i| i["number"] == n) {
                        i["state"] = json!("closed");
                    }
                    ("200 OK", json!({"number": n, "state": "closed"}))
                } else {
                    let mut all = issues2.lock().unwrap();
                    let number = 42 + all.len();
                    let created = json!({"number": number, "body": doc["body"], "title": doc["title"],
                        "html_url": format!("https://github.example/acme/ops/issues/{number}")});
                    all.push(created.clone());
                    ("201 Created", created)
                };
                seen2.lock().unwrap().push(Seen {
                    method,
                    path,
                    contract_ok,
                    body: doc,
                });
                let answer = answer.to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        GitHub { url, seen, issues }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn creates(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == "POST" && s.path == "/repos/acme/ops/issues")
            .collect()
    }
}

#[test]
fn a_resolved_escalated_issue_closes_its_github_issue_once_with_a_comment() {
    let dir = seeded();
    let gh = GitHub::start();
    write(
        dir.path(),
        MONITORING,
        "[escalation]\ngithub_repo = \"acme/ops\"\n",
    );
    let r = escalate_with(dir.path(), &gh.url, "infra-001");
    assert_eq!(r.code, 0, "{r:?}");
    let resolve = |dir: &Path| {
        run(helm(dir)
            .args([
                "issues",
                "resolve",
                "infra-001",
                "--note",
                "fixed by the deploy",
                "--now",
                NOW,
            ])
            .env("GITHUB_TOKEN", "test-token")
            .env("GITHUB_API_URL", &gh.url))
    };
    let r = resolve(dir.path());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("closed its work item acme/ops#42"),
        "{}",
        r.stderr
    );
    let seen = gh.seen();
    assert!(seen.iter().all(|s| s.contract_ok), "{seen:?}");
    let comment = seen
        .iter()
        .find(|s| s.path == "/repos/acme/ops/issues/42/comments")
        .expect("a comment");
    let body = comment.body["body"].as_str().unwrap();
    assert!(
        body.contains("fixed by the deploy") && body.contains("Resolved at"),
        "{body}"
    );
    let close = seen.iter().find(|s| s.method == "PATCH").expect("a close");
    assert_eq!(close.path, "/repos/acme/ops/issues/42");
    assert_eq!(gh.issues.lock().unwrap()[0]["state"], "closed");
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(".fractary/helm/issues/resolved/infra-001.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(issue["work_item_closed_at"].is_string(), "{issue}");
    // Later runs do not close it again.
    let n = gh.seen().len();
    assert_eq!(
        helm_run(dir.path(), &["issues", "--format", "json"]).code,
        0
    );
    assert_eq!(gh.seen().len(), n);
}

#[test]
fn a_resolved_markdown_work_item_gets_a_resolved_section() {
    let dir = seeded();
    assert_eq!(
        helm_run(dir.path(), &["escalate", "infra-001", "--now", NOW]).code,
        0
    );
    let r = helm_run(
        dir.path(),
        &["issues", "resolve", "infra-001", "--now", NOW],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let md =
        std::fs::read_to_string(dir.path().join(".fractary/helm/work-items/infra-001.md")).unwrap();
    assert_eq!(md.matches("## Resolved").count(), 1, "{md}");
    assert!(md.contains("resolved by hand"), "{md}");
}

fn escalate_with(dir: &Path, api: &str, id: &str) -> Run {
    run(helm(dir)
        .args(["escalate", id, "--format", "json", "--now", NOW])
        .env("GITHUB_TOKEN", "test-token")
        .env("GITHUB_API_URL", api))
}

#[test]
fn escalate_creates_one_github_issue_by_the_documented_contract() {
    let dir = seeded();
    let gh = GitHub::start();
    write(
        dir.path(),
        MONITORING,
        "[escalation]\ngithub_repo = \"acme/ops\"\n",
    );
    let r = escalate_with(dir.path(), &gh.url, "infra-002");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["work_item_id"], "acme/ops#42");
    assert_eq!(r.json()["environment"], "prod");
    let seen = gh.seen();
    assert!(
        seen.iter().all(|s| s.contract_ok),
        "a request broke GitHub's contract: {seen:?}"
    );
    assert_eq!(
        seen.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["GET", "POST"],
        "look for an earlier work item, then create one"
    );
    assert!(seen[0].path.contains("state=all"), "{}", seen[0].path);
    let sent = &gh.creates()[0].body;
    assert_eq!(
        sent["labels"],
        json!([
            "domain:infrastructure",
            "severity:critical",
            "priority:critical",
            "slo-breach"
        ])
    );
    let body = sent["body"].as_str().unwrap();
    assert!(body.contains("infra-002"));
    assert!(
        body.contains("<!-- helm-cloud issue prod infra-002 -->"),
        "{body}"
    );
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(".fractary/helm/issues/active/infra-002.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(issue["status"], "escalated");
    assert_eq!(issue["work_item_id"], "acme/ops#42");
    assert_eq!(
        issue["work_item_url"],
        "https://github.example/acme/ops/issues/42"
    );
    assert_eq!(issue["escalated_at"], NOW);
    // Escalating again creates nothing.
    let again = escalate_with(dir.path(), &gh.url, "infra-002");
    assert_eq!(again.json()["created"], false);
    assert_eq!(gh.creates().len(), 1, "a second work item was requested");
}

#[test]
fn the_token_goes_only_to_the_api_the_environment_names_never_to_a_project_file_url() {
    let dir = seeded();
    let official = GitHub::start();
    let rogue = GitHub::start();
    write(
        dir.path(),
        MONITORING,
        &format!(
            "[escalation]\ngithub_repo = \"acme/ops\"\ngithub_api_url = \"{}\"\n",
            rogue.url
        ),
    );
    let r = escalate_with(dir.path(), &official.url, "infra-002");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        rogue.seen().is_empty(),
        "the project file steered the token: {:?}",
        rogue.seen()
    );
    assert_eq!(official.creates().len(), 1);
    assert!(
        r.stderr.contains("github_api_url") && r.stderr.contains("ignored"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("test-token") && !r.stdout.contains("test-token"));
}

#[test]
fn escalate_finds_the_work_item_an_interrupted_run_created_instead_of_a_second() {
    let dir = seeded();
    let gh = GitHub::start();
    write(
        dir.path(),
        MONITORING,
        "[escalation]\ngithub_repo = \"acme/ops\"\n",
    );
    // A run created the GitHub issue, then died before recording it.
    gh.issues
        .lock()
        .unwrap()
        .push(json!({"number": 7, "title": "t",
        "body": "…\n\n<!-- helm-cloud issue prod infra-002 -->\n",
        "html_url": "https://github.example/acme/ops/issues/7"}));
    let r = escalate_with(dir.path(), &gh.url, "infra-002");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["created"], false);
    assert_eq!(r.json()["work_item_id"], "acme/ops#7");
    assert!(gh.creates().is_empty(), "a duplicate work item was created");
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(".fractary/helm/issues/active/infra-002.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(issue["work_item_id"], "acme/ops#7");
}

#[test]
fn two_concurrent_escalations_of_one_issue_create_one_work_item() {
    let dir = seeded();
    let gh = GitHub::start();
    write(
        dir.path(),
        MONITORING,
        "[escalation]\ngithub_repo = \"acme/ops\"\n",
    );
    let spawn = || {
        helm(dir.path())
            .args(["escalate", "infra-002", "--format", "json", "--now", NOW])
            .env("GITHUB_TOKEN", "test-token")
            .env("GITHUB_API_URL", &gh.url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!((a.status.code(), b.status.code()), (Some(0), Some(0)));
    assert_eq!(gh.creates().len(), 1, "{:?}", gh.seen());
    let created: Vec<bool> = [a, b]
        .iter()
        .map(|o| serde_json::from_slice::<Value>(&o.stdout).unwrap()["created"] == true)
        .collect();
    assert_eq!(created.iter().filter(|c| **c).count(), 1);
}

#[test]
fn escalate_without_github_writes_markdown_once() {
    let dir = seeded();
    let r = helm_run(dir.path(), &["escalate", "infra-001", "--now", NOW]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("github_repo"),
        "says how to configure GitHub: {}",
        r.stderr
    );
    let md =
        std::fs::read_to_string(dir.path().join(".fractary/helm/work-items/infra-001.md")).unwrap();
    for field in [
        "infra-001",
        "| Domain | infrastructure |",
        "| Severity | MEDIUM |",
        "| Priority score | 15.0 |",
        "| SLO breach | no |",
        "| Affected resources | api |",
        "Recommended actions",
    ] {
        assert!(md.contains(field), "{field} missing:\n{md}");
    }
    let again = helm_run(dir.path(), &["escalate", "infra-001", "--format", "json"]);
    assert_eq!(again.json()["created"], false);
}

#[test]
fn ops_manage_maps_every_operation_with_a_notice() {
    let dir = project();
    let cases: &[(&[&str], &str)] = &[
        (
            &["ops-manage", "check-health", "--env=nope"],
            "use: helm-cloud health --env=nope",
        ),
        (
            &["ops-manage", "query-logs", "--service=api", "--env=nope"],
            "use: helm-cloud logs --service=api --env=nope",
        ),
        (
            &["ops-manage", "investigate", "--env=nope"],
            "use: helm-cloud investigate --env=nope",
        ),
        (
            &["ops-manage", "remediate", "--env=nope", "--dry-run"],
            "use: helm-cloud remediate --env=nope --dry-run",
        ),
        (
            &["ops-manage", "audit", "--focus=cost", "--env=nope"],
            "use: helm-cloud audit --type=cost --env=nope",
        ),
    ];
    for (args, notice) in cases {
        let r = helm_run(dir.path(), args);
        assert!(
            r.stderr
                .lines()
                .next()
                .unwrap_or_default()
                .contains("deprecated"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(notice), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    // The new command ran: its own usage check refused the unknown environment.
    assert!(
        helm_run(dir.path(), &["ops-manage", "check-health", "--env=nope"])
            .stderr
            .contains("unknown environment `nope`")
    );
    let bad = helm_run(dir.path(), &["ops-manage", "frobnicate"]);
    assert_eq!(bad.code, 64);
    assert!(
        bad.stderr
            .contains("check-health, query-logs, investigate, remediate, audit"),
        "{}",
        bad.stderr
    );
    // The direct commands print no notice.
    assert!(
        !helm_run(dir.path(), &["issues"])
            .stderr
            .contains("deprecated")
    );
}

#[test]
fn ask_explains_routes_and_refuses_what_it_cannot_route() {
    let dir = seeded();
    let f = write(dir.path(), "d.json", &deployment("d", "prod", &["api"]));
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    for (text, expected) in [
        (
            "what's production status?",
            json!(["health", "--env", "prod"]),
        ),
        (
            "show me the logs for api in prod",
            json!(["logs", "--service", "api", "--env", "prod"]),
        ),
        (
            "restart the api lambda in prod",
            json!([
                "remediate",
                "restart the api lambda in prod",
                "--env",
                "prod"
            ]),
        ),
        ("list critical issues", json!(["issues", "--critical"])),
    ] {
        let r = helm_run(dir.path(), &["ask", text, "--explain", "--format", "json"]);
        assert_eq!(r.code, 0, "{text}: {r:?}");
        assert_eq!(r.json()["command"], expected, "{text}");
    }
    let ran = helm_run(dir.path(), &["ask", "list critical issues", "--now", NOW]);
    assert!(
        ran.stderr.contains("→ helm-cloud issues --critical"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.code, 0);
    // A routed remediation keeps remediate's policy: prod asks, and there is no terminal here.
    // It is refused on the policy alone, before any AWS call (this project has no endpoint).
    let mutation = helm_run(dir.path(), &["ask", "restart the api lambda in prod"]);
    assert_eq!(mutation.code, 4, "{mutation:?}");
    assert!(
        mutation.stderr.contains("needs confirmation"),
        "{}",
        mutation.stderr
    );
    let nope = helm_run(dir.path(), &["ask", "make me a sandwich"]);
    assert_eq!(nope.code, 64);
    assert!(nope.stderr.contains("cannot route"), "{}", nope.stderr);
}
