//! `helm-cloud mcp` driven by an independent client, Python's `mcp` package
//! (tests/it/mcp_client.py), over stdio, against the emulator: the tools and their schemas,
//! the same JSON as the CLI, both handshakes (initialize, and the newest protocol's
//! discover), and remediation through an agent (plan, apply, elicitation, refusals).

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::path::Path;

const TOOLS: [&str; 13] = [
    "audit",
    "dashboard",
    "escalate",
    "health",
    "investigate",
    "issue_show",
    "issues",
    "logs",
    "metrics",
    "remediate_apply",
    "remediate_plan",
    "slo",
    "status",
];

/// A project with Lambdas `api` and `worker` in test and prod (prod needs confirmation).
fn project_with_prod(emu: &Emulator) -> (tempfile::TempDir, String) {
    let p = unique_name("mcp");
    let created: Value = serde_json::from_str(
        &emu.seed(
            &json!({"lambdas": [{"name": format!("{p}-api")}, {"name": format!("{p}-worker")}],
                "log_events": [{"group": format!("/aws/lambda/{p}-api"), "stream": "s",
                                "messages": ["ERROR db timeout", "INFO ok", "ERROR db timeout"]}]})
            .to_string(),
        ),
    )
    .unwrap();
    let dir = emulated_project();
    let resources = json!([
        {"id": "api", "type": "lambda", "arn": created["lambda"][format!("{p}-api")]},
        {"id": "worker", "type": "lambda", "arn": created["lambda"][format!("{p}-worker")]},
    ]);
    for env in ["test", "prod"] {
        let doc = json!({"id": format!("{p}-{env}"), "environment": env, "deployed_at": "2026-01-01T00:00:00Z", "resources": resources});
        let f = write(dir.path(), &format!("{env}.json"), &doc.to_string());
        assert_eq!(
            helm_run(
                dir.path(),
                &["registry", "add", "--file", f.to_str().unwrap()]
            )
            .code,
            0
        );
    }
    write(
        dir.path(),
        MONITORING,
        "[helm-cloud]\nenvironments = [\"test\"]\n[remediation]\nnever_auto = [\"scale_resources\"]\n",
    );
    (dir, p)
}

/// Run the Python client with `spec` against `helm-cloud mcp` in `root`.
fn client(emu: &Emulator, root: &Path, spec: Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/mcp_client.py");
    let mut py = std::process::Command::new(emu.python());
    for (k, v) in emu.env() {
        py.env(k, v);
    }
    for v in helm_testsupport::AWS_ENV_TO_CLEAR {
        if *v != "AWS_ENDPOINT_URL" && *v != "AWS_ACCESS_KEY_ID" && *v != "AWS_SECRET_ACCESS_KEY" {
            py.env_remove(v);
        }
    }
    py.env("HELM_ROOT", root)
        .env("HELM_NOW", "2026-12-02T12:00:00Z")
        .env("AWS_CONFIG_FILE", root.join(".no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", root.join(".no-aws-creds"))
        .env("XDG_CONFIG_HOME", root.join(".user-config"))
        .current_dir(root)
        .arg(&script)
        .arg(spec.to_string())
        .arg(env!("CARGO_BIN_EXE_helm-cloud"));
    let out = py.output().expect("running the MCP client");
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The CLI's `--format json` for the same call, at the same fixed time.
fn cli_json(emu: &Emulator, root: &Path, args: &[&str]) -> Value {
    let mut cmd = helm_against(emu, root);
    let r = run(cmd
        .env("HELM_NOW", "2026-12-02T12:00:00Z")
        .args(args)
        .args(["--format", "json"]));
    r.json()
}

/// A document without what differs between two runs by nature (where a report was saved).
fn stable(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !k.ends_with("path") && !k.contains("duration") && *k != "history")
                .map(|(k, v)| (k.clone(), stable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(stable).collect()),
        other => other.clone(),
    }
}

fn history(root: &Path, env: &str) -> Vec<Value> {
    std::fs::read_to_string(root.join(format!(
        ".fractary/plugins/helm-cloud/remediations/{env}/history.jsonl"
    )))
    .unwrap_or_default()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[test]
fn an_mcp_client_lists_the_tools_and_gets_the_clis_json_on_both_handshakes() {
    // An emulator of its own: the security audit reads the whole account, which the other
    // tests change as they run.
    let emu = Emulator::dedicated();
    let (dir, _) = project_with_prod(&emu);
    let root = dir.path();
    for handshake in ["initialize", "discover"] {
        let out = client(
            &emu,
            root,
            json!({"handshake": handshake, "elicit": null, "calls": [
                ["health", {"env": "nowhere"}],
                ["status", {}],
            ]}),
        );
        let names: Vec<&str> = out["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, TOOLS, "{handshake}");
        for t in out["tools"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            assert_eq!(t["input_schema"]["type"], "object", "{name}");
            assert_eq!(
                t["schema_valid"], true,
                "{name}: a valid JSON Schema (2020-12)"
            );
            for (field, def) in t["input_schema"]["properties"]
                .as_object()
                .into_iter()
                .flatten()
            {
                assert!(
                    def["description"].is_string(),
                    "{name}.{field} says what it is"
                );
            }
            assert!(
                t["description"].as_str().unwrap().len() > 40,
                "{name} says what it does"
            );
            let reads = [
                "health",
                "slo",
                "metrics",
                "logs",
                "audit",
                "issues",
                "issue_show",
                "dashboard",
                "status",
            ];
            if reads.contains(&name) {
                assert_eq!(t["read_only"], true, "{name}");
            }
            if name == "remediate_apply" {
                assert_eq!(t["destructive"], true);
            }
        }
        let metrics = &out["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "metrics")
            .unwrap()["input_schema"];
        let required = metrics["required"].to_string();
        assert!(
            required.contains("\"service\"") && required.contains("\"metric\""),
            "{metrics}"
        );
        let calls = out["calls"].as_array().unwrap();
        assert_eq!(
            calls[1]["is_error"], false,
            "the server went on: {:#}",
            calls[1]
        );
        // Each tool's document is the CLI's for the same call, the CLI run right after it
        // (both change the project: reports, issues).
        let pairs: [(&str, Value, &[&str]); 4] = [
            (
                "health",
                json!({"env": "test"}),
                &["health", "--env", "test"],
            ),
            (
                "investigate",
                json!({"service": "api", "env": "test"}),
                &["investigate", "--service", "api", "--env", "test"],
            ),
            (
                "audit",
                json!({"type": "security", "env": "test"}),
                &["audit", "--type", "security", "--env", "test"],
            ),
            ("issues", json!({}), &["issues"]),
        ];
        for (tool, args, cli) in pairs {
            let one = client(
                &emu,
                root,
                json!({"handshake": handshake, "elicit": null, "calls": [[tool, args]]}),
            );
            let call = &one["calls"][0];
            assert_eq!(call["is_error"], false, "{handshake} {tool}: {call:#}");
            assert_eq!(
                stable(&call["structured"]),
                stable(&cli_json(&emu, root, cli)),
                "{handshake}: {tool} as the CLI gives it"
            );
            assert!(
                call["text"][0].as_str().unwrap().contains("(exit "),
                "{call}"
            );
        }
        // A tool error carries the CLI's error document, and the server goes on (the
        // calls above came after it).
        let bad = &calls[0];
        assert_eq!(bad["is_error"], true, "{bad:#}");
        assert_eq!(bad["structured"]["error"]["kind"], "usage", "{bad:#}");
        let cli_err = cli_json(&emu, root, &["health", "--env", "nowhere"]);
        assert_eq!(bad["structured"], cli_err);
        assert!(out["protocol"].is_string(), "{out}");
    }
}

#[test]
fn remediation_through_an_agent_plans_applies_and_asks_the_person_for_prod() {
    let emu = Emulator::shared();
    let (dir, p) = project_with_prod(emu);
    let root = dir.path();

    // test: an auto action where no confirmation is needed applies and is verified.
    let out = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": null, "calls": [
            ["remediate_plan", {"action": "restart_lambda", "service": "api", "env": "test"}],
            ["remediate_apply", {"plan_id": "$plan"}],
            ["remediate_apply", {"plan_id": "$plan"}],
        ]}),
    );
    let calls = out["calls"].as_array().unwrap();
    assert_eq!(
        calls[0]["structured"]["decision"], "dry_run",
        "{:#}",
        calls[0]
    );
    assert!(
        calls[0]["structured"]["plan_id"]
            .as_str()
            .unwrap()
            .starts_with("plan-")
    );
    assert_eq!(calls[1]["is_error"], false, "{:#}", calls[1]);
    assert_eq!(calls[1]["structured"]["decision"], "applied");
    assert_eq!(calls[1]["structured"]["verification"]["ok"], true);
    assert_eq!(
        calls[2]["structured"]["error"]["kind"], "not_found",
        "a plan is used once"
    );
    let h = history(root, "test");
    let last = h.last().unwrap();
    assert_eq!(last["decision"], "applied");
    assert_eq!(last["actor"], "mcp:helm-test-agent", "{last}");

    // prod: the person types the id through elicitation → applied.
    let out = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": "right", "calls": [
            ["remediate_plan", {"action": "restart_lambda", "service": "api", "env": "prod"}],
            ["remediate_apply", {"plan_id": "$plan"}],
        ]}),
    );
    let apply = &out["calls"][1];
    assert_eq!(apply["structured"]["decision"], "applied", "{apply:#}");
    assert_eq!(
        out["asked"].as_array().unwrap().len(),
        1,
        "asked once: {out:#}"
    );
    assert!(
        out["asked"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Type the resource id (api)")
    );

    // prod: a wrong id cancels; a client without elicitation is refused; nothing changes.
    let before = history(root, "prod").len();
    let wrong = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": "wrong", "calls": [
            ["remediate_plan", {"action": "restart_lambda", "service": "worker", "env": "prod"}],
            ["remediate_apply", {"plan_id": "$plan"}],
        ]}),
    );
    assert_eq!(
        wrong["calls"][1]["is_error"], true,
        "{:#}",
        wrong["calls"][1]
    );
    assert_eq!(wrong["calls"][1]["structured"]["error"]["kind"], "refused");
    let unable = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": null, "calls": [
            ["remediate_plan", {"action": "restart_lambda", "service": "worker", "env": "prod"}],
            ["remediate_apply", {"plan_id": "$plan"}],
        ]}),
    );
    let refused = &unable["calls"][1];
    assert_eq!(
        refused["structured"]["error"]["kind"], "refused",
        "{refused:#}"
    );
    let msg = refused["structured"]["error"]["message"].as_str().unwrap();
    let hint = refused["structured"]["error"]["hint"]
        .as_str()
        .unwrap_or_default();
    assert!(msg.contains("cannot ask the person"), "{msg}");
    assert!(
        hint.contains("helm-cloud remediate --action restart_lambda --service worker --env prod"),
        "{hint}"
    );
    let worker: Vec<Value> = history(root, "prod")[before..]
        .iter()
        .filter(|r| r["target"]["id"] == "worker")
        .cloned()
        .collect();
    assert!(
        worker.iter().all(|r| r["decision"] != "applied"),
        "nothing applied to worker: {worker:#?}"
    );

    // A server started for one environment serves no other.
    let only = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": null, "server_args": ["--env", "test"], "calls": [
            ["health", {"env": "prod"}],
            ["remediate_plan", {"action": "restart_lambda", "service": "api", "env": "prod"}],
        ]}),
    );
    for call in only["calls"].as_array().unwrap() {
        assert_eq!(call["structured"]["error"]["kind"], "refused", "{call:#}");
        assert!(
            call["structured"]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("serves environment test only")
        );
    }

    // never_auto, an expired plan and a plan made stale by a change are refused.
    let never = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": null, "calls": [
            ["remediate_plan", {"action": "scale_resources", "service": "api", "env": "test", "value": 5}],
        ]}),
    );
    assert_eq!(
        never["calls"][0]["structured"]["error"]["kind"], "refused",
        "{:#}",
        never["calls"][0]
    );
    let expired = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": null, "server_args": ["--plan-ttl", "1s"], "calls": [
            ["remediate_plan", {"action": "restart_lambda", "service": "worker", "env": "test"}],
            ["_sleep", {"seconds": 1.5}],
            ["remediate_apply", {"plan_id": "$plan"}],
        ]}),
    );
    let e = &expired["calls"][1]["structured"]["error"];
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");
    let stale = client(
        emu,
        root,
        json!({"handshake": "initialize", "elicit": null, "calls": [
            ["remediate_plan", {"action": "restart_lambda", "service": "worker", "env": "test"}],
            ["_change_lambda", {"name": format!("{p}-worker")}],
            ["remediate_apply", {"plan_id": "$plan"}],
        ]}),
    );
    let e = &stale["calls"][1]["structured"]["error"];
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("changed since plan"),
        "{e}"
    );
}

/// With `[state] backend = "s3"`, each tool call runs in a session on the shared state:
/// an agent in one clone sees the issue a team-mate's `health` opened in another, and
/// what its own `health` writes is pushed to the bucket.
#[test]
fn an_agent_works_on_the_teams_shared_state() {
    use crate::state::{Team, bucket_keys, team_with_an_open_issue};
    let emu = Emulator::shared();
    let Team {
        bucket,
        second: mine,
        ..
    } = team_with_an_open_issue(emu, "agent");
    let before = bucket_keys(emu, &bucket)
        .iter()
        .filter(|k| k.contains("/monitoring/"))
        .count();

    let out = client(
        emu,
        mine.path(),
        json!({"handshake": "initialize", "elicit": null, "calls": [
            ["issues", {}],
            ["health", {"env": "test"}],
        ]}),
    );
    let issues = &out["calls"][0];
    assert_eq!(issues["is_error"], false, "{issues}");
    assert!(issues.to_string().contains("infra-001"), "{issues}");
    assert_eq!(out["calls"][1]["is_error"], false, "{}", out["calls"][1]);
    let after = bucket_keys(emu, &bucket)
        .iter()
        .filter(|k| k.contains("/monitoring/"))
        .count();
    assert_eq!(after, before + 1, "the agent's health report is shared");
}
