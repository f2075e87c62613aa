//! `remediate` end to end against the emulator: every action applied and verified, the
//! policy matrix (through a pseudo-terminal), dry runs, never_auto, cooldown, descriptions,
//! issues, and the history.

use crate::support::*;
use helm_aws::{ActionTarget, AwsClients, ClientSettings};
use helm_core::config::Credentials;
use helm_testsupport::{AWS_ENV_TO_CLEAR, Emulator, run_in_pty, run_in_pty_with_hook, unique_name};
use serde_json::{Value, json};
use std::path::Path;

/// The stack of one test: two functions, an ECS service, a DB, a distribution; registered in
/// `test` and `prod`.
struct Stack {
    dir: tempfile::TempDir,
    p: String,
    created: Value,
}

fn stack() -> Stack {
    let p = unique_name("rem");
    let created: Value = serde_json::from_str(&Emulator::shared().seed(
        &json!({
            "lambdas": [{"name": format!("{p}-api"), "env": {"STAGE": "test", "DB_PASSWORD": "hunter2-secret"}}, {"name": format!("{p}-worker")}],
            "ecs": [{"cluster": format!("{p}-c"), "service": format!("{p}-web"), "desired": 2}],
            "rds": [{"id": format!("{p}-db")}],
            "distributions": [{"ref": format!("{p}-cdn")}],
        })
        .to_string(),
    ))
    .unwrap();
    let dir = emulated_project();
    let resources = json!([
        {"id": "api", "type": "lambda", "arn": created["lambda"][format!("{p}-api")]},
        {"id": "worker", "type": "lambda", "arn": created["lambda"][format!("{p}-worker")]},
        {"id": "web", "type": "ecs", "arn": created["ecs"][format!("{p}-web")]},
        {"id": "db", "type": "rds", "arn": created["rds"][format!("{p}-db")]},
        {"id": "cdn", "type": "cloudfront", "arn": created["distributions"][format!("{p}-cdn")]["arn"]},
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
    Stack { dir, p, created }
}

impl Stack {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn history(&self, env: &str) -> Vec<Value> {
        let path = self.root().join(format!(
            ".fractary/plugins/helm-cloud/remediations/{env}/history.jsonl"
        ));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Read a resource's state through the SDK, independently of the command under test.
    fn state(&self, action: &str, kind: &str, name: &str, cluster: Option<&str>) -> Value {
        let emu = Emulator::shared();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // Keys in code: a multi-threaded test binary never changes its environment.
            let mut s = ClientSettings::new(Credentials::DefaultChain, "us-east-1");
            s.static_keys = Some(helm_aws::StaticKeys {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
                session_token: None,
            });
            s.endpoint_url = Some(emu.endpoint.clone());
            s.max_attempts = 1;
            let clients = AwsClients::new(s).await;
            let t = ActionTarget {
                region: "us-east-1".into(),
                name: name.into(),
                cluster: cluster.map(str::to_string),
            };
            clients
                .action_state(
                    helm_core::responder::catalogue::ActionId::from_name(action).unwrap(),
                    helm_core::resource::ResourceKind::parse(kind).unwrap(),
                    &t,
                )
                .await
                .unwrap()
                .to_json()
        })
    }
}

fn ok(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["decision"], "applied", "{j:#}");
    assert_eq!(j["verification"]["ok"], true, "{j:#}");
    j
}

#[test]
fn restart_lambda_keeps_every_environment_variable_and_never_records_their_values() {
    let s = stack();
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "api",
            "--format",
            "json",
        ],
    ));
    let state = s.state("restart_lambda", "lambda", &format!("{}-api", s.p), None);
    assert_eq!(
        state["environment_variable_names"],
        json!(["DB_PASSWORD", "HELM_RESTARTED_AT", "STAGE"])
    );
    let history = std::fs::read_to_string(
        s.root()
            .join(".fractary/plugins/helm-cloud/remediations/test/history.jsonl"),
    )
    .unwrap();
    assert!(
        !history.contains("hunter2-secret"),
        "a variable's value reached the history"
    );
    let decisions: Vec<String> = s
        .history("test")
        .iter()
        .map(|r| r["decision"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(decisions, ["started", "applied"]);
}

#[test]
fn every_ecs_rds_and_cloudfront_action_is_applied_and_verified() {
    let s = stack();
    let svc = format!("{}-web", s.p);
    let cluster = format!("{}-c", s.p);
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "web",
            "--value",
            "4",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        s.state("scale_resources", "ecs", &svc, Some(&cluster))["desired_count"],
        4
    );
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "increase_capacity",
            "--service",
            "web",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        s.state("scale_resources", "ecs", &svc, Some(&cluster))["desired_count"],
        6,
        "4 × 1.5"
    );
    let before =
        s.state("restart_ecs_service", "ecs", &svc, Some(&cluster))["primary_deployment"].clone();
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "restart_ecs_service",
            "--service",
            "web",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_ne!(
        s.state("restart_ecs_service", "ecs", &svc, Some(&cluster))["primary_deployment"],
        before
    );
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "modify_autoscaling",
            "--service",
            "web",
            "--min",
            "1",
            "--max",
            "8",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        s.state("modify_autoscaling", "ecs", &svc, Some(&cluster)),
        json!({"min": 1, "max": 8})
    );
    let j = ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "clear the cache",
            "--paths",
            "/index.html,/app/*",
            "--format",
            "json",
        ],
    ));
    assert_eq!(j["action"], "invalidate_cloudfront");
    assert_eq!(j["after"]["paths"], json!(["/index.html", "/app/*"]));
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "reboot_rds",
            "--service",
            "db",
            "--yes",
            "--format",
            "json",
        ],
    ));
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "worker",
            "--value",
            "5",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        s.state(
            "scale_resources",
            "lambda",
            &format!("{}-worker", s.p),
            None
        )["reserved_concurrency"],
        5
    );
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "increase_capacity",
            "--service",
            "worker",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        s.state(
            "scale_resources",
            "lambda",
            &format!("{}-worker", s.p),
            None
        )["reserved_concurrency"],
        8,
        "5 × 1.5, rounded up"
    );
    let _ = &s.created;
}

#[test]
fn a_dry_run_changes_nothing_and_is_recorded() {
    let s = stack();
    let svc = format!("{}-web", s.p);
    let cluster = format!("{}-c", s.p);
    let before = s.state("scale_resources", "ecs", &svc, Some(&cluster));
    let lambda_before = s.state("restart_lambda", "lambda", &format!("{}-api", s.p), None);
    for args in [
        vec![
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "web",
            "--value",
            "9",
            "--dry-run",
            "--format",
            "json",
        ],
        vec![
            "remediate",
            "restart the api lambda",
            "--dry-run",
            "--env",
            "prod",
            "--format",
            "json",
        ],
    ] {
        let r = helm_emu(s.root(), &args);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["decision"], "dry_run");
        assert!(r.json()["plan"]["api_call"].as_str().unwrap().contains(':'));
    }
    assert_eq!(
        s.state("scale_resources", "ecs", &svc, Some(&cluster)),
        before
    );
    assert_eq!(
        s.state("restart_lambda", "lambda", &format!("{}-api", s.p), None),
        lambda_before
    );
    assert_eq!(s.history("test").last().unwrap()["decision"], "dry_run");
    assert_eq!(s.history("prod").last().unwrap()["decision"], "dry_run");
}

#[test]
fn the_policy_matrix_with_a_terminal_yes_or_neither() {
    let s = stack();
    let bin = Path::new(env!("CARGO_BIN_EXE_helm-cloud"));
    let mut env: Vec<(String, String)> = Emulator::shared()
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("HELM_ROOT".into(), s.root().display().to_string()));
    // (action args, environment, expected exit with a terminal answering the id, with --yes, with neither)
    let cases: &[(&[&str], &str, i32, i32, i32)] = &[
        (
            &["--action", "restart_lambda", "--service", "api"],
            "test",
            0,
            0,
            0,
        ),
        (
            &["--action", "restart_lambda", "--service", "api"],
            "prod",
            0,
            0,
            4,
        ),
        (
            &[
                "--action",
                "scale_resources",
                "--service",
                "web",
                "--value",
                "3",
            ],
            "test",
            0,
            0,
            4,
        ),
        (
            &[
                "--action",
                "scale_resources",
                "--service",
                "web",
                "--value",
                "3",
            ],
            "prod",
            0,
            0,
            4,
        ),
        (
            &["--action", "delete_resources", "--service", "web"],
            "test",
            4,
            4,
            4,
        ),
        (
            &["--action", "delete_resources", "--service", "web"],
            "prod",
            4,
            4,
            4,
        ),
    ];
    for (args, environment, tty, yes, neither) in cases {
        let id = args[3];
        let mut base: Vec<&str> = vec!["remediate"];
        base.extend_from_slice(args);
        base.extend_from_slice(&["--env", environment, "--force"]);
        let (code, output) =
            run_in_pty(bin, &base, s.root(), &env, AWS_ENV_TO_CLEAR, "to apply", id);
        assert_eq!(code, *tty, "terminal {args:?} {environment}: {output}");
        let mut with_yes = base.clone();
        with_yes.push("--yes");
        assert_eq!(
            helm_emu(s.root(), &with_yes).code,
            *yes,
            "--yes {args:?} {environment}"
        );
        let r = helm_emu(s.root(), &base);
        assert_eq!(
            r.code, *neither,
            "no terminal {args:?} {environment}: {r:?}"
        );
        if *neither == 4 {
            assert!(r.stderr.contains("refused"), "{}", r.stderr);
        }
    }
    // A wrong answer at the prompt cancels.
    let (code, output) = run_in_pty(
        bin,
        &[
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "web",
            "--value",
            "3",
            "--force",
        ],
        s.root(),
        &env,
        AWS_ENV_TO_CLEAR,
        "to apply",
        "nope",
    );
    assert_eq!(code, 4, "{output}");
    assert_eq!(s.history("test").last().unwrap()["decision"], "cancelled");
    assert!(
        s.history("prod")
            .iter()
            .any(|r| r["decision"] == "refused" && r["action"] == "delete_resources")
    );
}

#[test]
fn the_cooldown_stops_a_restart_loop_unless_forced() {
    let s = stack();
    assert_eq!(
        helm_emu(
            s.root(),
            &[
                "remediate",
                "--action",
                "restart_lambda",
                "--service",
                "worker"
            ]
        )
        .code,
        0
    );
    let again = helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "worker",
        ],
    );
    assert_eq!(again.code, 4, "{again:?}");
    assert!(again.stderr.contains("cooldown"), "{}", again.stderr);
    assert_eq!(s.history("test").last().unwrap()["decision"], "refused");
    assert_eq!(
        helm_emu(
            s.root(),
            &[
                "remediate",
                "--action",
                "restart_lambda",
                "--service",
                "worker",
                "--force"
            ]
        )
        .code,
        0
    );
}

#[test]
fn descriptions_are_parsed_and_unsupported_or_ambiguous_ones_refused() {
    let s = stack();
    let r = helm_emu(
        s.root(),
        &[
            "remediate",
            "scale web to 3 tasks",
            "--yes",
            "--format",
            "json",
        ],
    );
    assert_eq!(ok(&r)["plan"]["change"], "desired count 2 → 3");
    let none = helm_emu(
        s.root(),
        &["remediate", "increase RDS max connections to 200"],
    );
    assert_eq!(none.code, 64);
    assert!(
        none.stderr.contains("restart_lambda") && none.stderr.contains("scale web to 4 tasks"),
        "{}",
        none.stderr
    );
    let amb = helm_emu(s.root(), &["remediate", "restart the lambda"]);
    assert_eq!(amb.code, 64);
    assert!(
        amb.stderr.contains("api") && amb.stderr.contains("worker"),
        "{}",
        amb.stderr
    );
    assert_eq!(
        helm_emu(
            s.root(),
            &[
                "remediate",
                "--action",
                "scale_resources",
                "--service",
                "web",
                "--yes"
            ]
        )
        .code,
        64,
        "--value is required"
    );
    assert_eq!(
        helm_emu(
            s.root(),
            &[
                "remediate",
                "--action",
                "reboot_rds",
                "--service",
                "web",
                "--yes"
            ]
        )
        .code,
        64,
        "wrong kind"
    );
    assert_eq!(
        helm_emu(
            s.root(),
            &["remediate", "--action", "make_it_so", "--service", "web"]
        )
        .code,
        64
    );
}

#[test]
fn an_issue_gets_its_fitting_action_and_the_outcome_in_its_history() {
    let s = stack();
    write(
        s.root(),
        ".fractary/helm/issues/active/infra-004.json",
        &json!({"id": "infra-004", "domain": "infrastructure", "severity": "HIGH", "title": "Lambda error rate exceeds SLO",
                "slo_breach": true, "detected_at": "2026-01-01T00:00:00Z", "environment": "test", "affected_resources": ["api"],
                "metrics": {}, "work_item_id": null, "fingerprint": "test/api/error_rate", "status": "active"}).to_string(),
    );
    let j = ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--issue",
            "infra-004",
            "--yes",
            "--format",
            "json",
        ],
    ));
    assert_eq!(j["action"], "restart_lambda");
    assert_eq!(j["issue_id"], "infra-004");
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(s.root().join(".fractary/helm/issues/active/infra-004.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        issue["history"].as_array().unwrap().last().unwrap()["event"],
        "remediated"
    );
    assert_eq!(s.history("test").last().unwrap()["issue_id"], "infra-004");
    assert_eq!(
        helm_emu(s.root(), &["remediate", "--issue", "../x"]).code,
        64
    );
}

#[test]
fn a_failed_apply_is_recorded_after_its_started_line() {
    let s = stack();
    let name = format!("{}-worker", s.p);
    // Only the mutating call fails (PutFunctionConcurrency's path), as an IAM deny would.
    let fault = json!({"match": format!("/2017-10-31/functions/{name}/concurrency"), "code": "AccessDeniedException", "status": 403});
    let (code, _) = Emulator::shared()
        .request("POST", "/helm-emulator/faults", &fault.to_string())
        .unwrap();
    assert_eq!(code, 200);
    let r = helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "worker",
            "--value",
            "2",
            "--yes",
        ],
    );
    assert_eq!(r.code, 77, "AccessDenied is permission denied: {r:?}");
    assert!(
        r.stderr.contains("lambda:PutFunctionConcurrency failed"),
        "{}",
        r.stderr
    );
    let decisions: Vec<String> = s
        .history("test")
        .iter()
        .map(|x| x["decision"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(decisions, ["started", "failed"]);
}

// ---------------------------------------------------------------------------------------
// Safety: every refusal, resolution and verification is what it says.
// ---------------------------------------------------------------------------------------

/// helm-cloud pointed at a port where nothing listens: any AWS call would exit 69, so an
/// exit of 64 or 4 proves the refusal came before any call.
fn helm_offline(root: &Path, args: &[&str]) -> Run {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    run(helm(root)
        .args(args)
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("HELM_AWS_MAX_ATTEMPTS", "1"))
}

#[test]
fn a_value_that_would_wrap_to_zero_tasks_is_refused_before_any_aws_call() {
    let s = stack();
    for args in [
        &[
            "--action",
            "scale_resources",
            "--service",
            "web",
            "--value",
            "4294967296",
        ][..],
        &[
            "--action",
            "scale_resources",
            "--service",
            "web",
            "--value",
            "5001",
        ][..],
        &[
            "--action",
            "scale_resources",
            "--service",
            "api",
            "--value",
            "4294967296",
        ][..],
        &[
            "--action",
            "modify_autoscaling",
            "--service",
            "web",
            "--min",
            "1",
            "--max",
            "4294967297",
        ][..],
        &[
            "--action",
            "modify_autoscaling",
            "--service",
            "web",
            "--min",
            "5",
            "--max",
            "4",
        ][..],
    ] {
        let mut argv = vec!["remediate"];
        argv.extend_from_slice(args);
        argv.push("--yes");
        let r = helm_offline(s.root(), &argv);
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        assert!(r.stderr.contains("out of range"), "{args:?}: {}", r.stderr);
        let last = s.history("test").last().cloned().unwrap();
        assert_eq!(last["decision"], "refused", "{args:?}");
        assert!(last["reason"].as_str().unwrap().contains("out of range"));
    }
    // Nothing reached AWS: the service still wants its 2 tasks.
    let state = s.state(
        "scale_resources",
        "ecs",
        &format!("{}-web", s.p),
        Some(&format!("{}-c", s.p)),
    );
    assert_eq!(state["desired_count"], 2);
    assert!(
        !s.history("test").iter().any(|r| r["decision"] == "started"),
        "no change was started"
    );
}

#[test]
fn lambda_concurrency_is_checked_against_the_account_limit_and_increase_against_the_quota() {
    let s = stack();
    // A new account: 1000, of which Lambda keeps 100 unreserved.
    let r = helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "worker",
            "--value",
            "950",
            "--yes",
        ],
    );
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("950 is out of range"), "{}", r.stderr);
    let state = s.state(
        "scale_resources",
        "lambda",
        &format!("{}-worker", s.p),
        None,
    );
    assert_eq!(state["reserved_concurrency"], Value::Null, "unchanged");
    assert_eq!(s.history("test").last().unwrap()["decision"], "refused");
    // Within the limit it applies.
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "scale_resources",
            "--service",
            "worker",
            "--value",
            "5",
            "--yes",
            "--format",
            "json",
        ],
    ));

    // increase_capacity ×1.5 of 4,000 tasks would pass ECS's 5,000.
    let p = unique_name("big");
    let created: Value = serde_json::from_str(&Emulator::shared().seed(
        &json!({"ecs": [{"cluster": format!("{p}-c"), "service": format!("{p}-svc"), "desired": 4000}]}).to_string(),
    ))
    .unwrap();
    let doc = json!({"id": p, "environment": "test", "resources": [{"id": "big", "type": "ecs", "arn": created["ecs"][format!("{p}-svc")]}]});
    let f = write(s.root(), "big.json", &doc.to_string());
    assert_eq!(
        helm_run(
            s.root(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    let r = helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "increase_capacity",
            "--service",
            "big",
            "--yes",
        ],
    );
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr.contains("6000 is out of range: 0 to 5000"),
        "{}",
        r.stderr
    );
}

/// An issue of the prod twin of a resource, written as health writes them.
fn prod_issue(root: &Path, id: &str) {
    write(
        root,
        &format!(".fractary/helm/issues/active/{id}.json"),
        &json!({"id": id, "domain": "infrastructure", "severity": "CRITICAL", "title": "Lambda error rate exceeds SLO",
                "description": "error rate 5% > SLO 0.1%", "slo_breach": true, "detected_at": "2026-01-01T00:00:00Z",
                "environment": "prod", "affected_resources": ["api"], "metrics": {}, "work_item_id": null,
                "status": "active", "fingerprint": "prod/api/error_rate", "source": "health", "history": []})
        .to_string(),
    );
}

#[test]
fn an_issue_is_acted_on_in_its_own_environment_and_a_different_env_is_refused() {
    let s = stack();
    prod_issue(s.root(), "infra-001");
    // No --env: the issue's own (prod), never the `test` default.
    let r = helm_emu(
        s.root(),
        &[
            "remediate",
            "--issue",
            "infra-001",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["environment"], "prod");
    assert_eq!(s.history("prod").last().unwrap()["decision"], "dry_run");
    assert!(
        s.history("test").is_empty(),
        "nothing was planned on the test twin"
    );
    // An explicit --env that differs is refused, naming both.
    for args in [
        &[
            "remediate",
            "--issue",
            "infra-001",
            "--env",
            "test",
            "--yes",
        ][..],
        &["investigate", "--issue", "infra-001", "--env", "test"][..],
    ] {
        let r = helm_offline(s.root(), args);
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        assert!(
            r.stderr
                .contains("infra-001 is in environment prod, not test"),
            "{}",
            r.stderr
        );
    }
    // Without a terminal the prod issue's remediation is refused, and the issue says nothing
    // was remediated.
    let r = helm_offline(s.root(), &["remediate", "--issue", "infra-001"]);
    assert_eq!(r.code, 4, "{r:?}");
    let issue: Value = serde_json::from_str(
        &std::fs::read_to_string(s.root().join(".fractary/helm/issues/active/infra-001.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(!issue.to_string().contains("remediated"));
    // `ask` routes the issue without the test default.
    let r = helm_run(
        s.root(),
        &["ask", "fix infra-001", "--explain", "--format", "json"],
    );
    assert_eq!(
        r.json()["command"],
        json!(["remediate", "--issue", "infra-001"])
    );
}

#[test]
fn confirmation_fails_closed_before_any_aws_call() {
    let s = stack();
    // An environment that does not say whether it needs confirmation needs it.
    write(
        s.root(),
        ENVIRONMENTS,
        r#"{"version": "1.0.0", "environments": {"test": {"name": "test"}, "prod": {"requires_confirmation": true}}}"#,
    );
    let r = helm_offline(
        s.root(),
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "api",
        ],
    );
    assert_eq!(r.code, 4, "refused on the config alone: {r:?}");
    assert!(r.stderr.contains("no terminal to ask"), "{}", r.stderr);
    assert_eq!(s.history("test").last().unwrap()["decision"], "refused");
    let v = helm_run(s.root(), &["config", "validate"]);
    assert!(
        v.stdout
            .contains("environment \"test\" does not say requires_confirmation"),
        "{v:?}"
    );
    // --yes is the person's confirmation.
    ok(&helm_emu(
        s.root(),
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "api",
            "--yes",
            "--format",
            "json",
        ],
    ));
}

#[test]
fn a_change_made_while_the_prompt_waited_is_refused_as_changed_since_the_plan() {
    let s = stack();
    let emu = Emulator::shared();
    let bin = Path::new(env!("CARGO_BIN_EXE_helm-cloud"));
    let mut env: Vec<(String, String)> = emu
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("HELM_ROOT".into(), s.root().display().to_string()));
    env.push((
        "XDG_CONFIG_HOME".into(),
        s.root().join(".cfg").display().to_string(),
    ));
    let name = format!("{}-api", s.p);
    let change = format!(
        "import boto3; boto3.client('lambda', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t').update_function_configuration(FunctionName='{name}', MemorySize=512)",
        emu.endpoint
    );
    let hook = [emu.python(), "-c", change.as_str()];
    let (code, output) = run_in_pty_with_hook(
        bin,
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "api",
            "--env",
            "prod",
        ],
        s.root(),
        &env,
        AWS_ENV_TO_CLEAR,
        "to apply",
        "api",
        &hook,
    );
    assert_eq!(code, 4, "{output}");
    assert!(output.contains("changed since the plan"), "{output}");
    let state = s.state("restart_lambda", "lambda", &name, None);
    assert_eq!(state["restart_marker"], Value::Null, "nothing was applied");
    let decisions: Vec<String> = s
        .history("prod")
        .iter()
        .map(|r| r["decision"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(decisions, ["refused"]);
}

#[test]
fn two_remediations_of_one_resource_at_once_apply_once() {
    let s = stack();
    let spawn = || {
        helm_against(Emulator::shared(), s.root())
            .args([
                "remediate",
                "--action",
                "restart_lambda",
                "--service",
                "worker",
                "--yes",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let codes = [
        a.wait_with_output().unwrap().status.code(),
        b.wait_with_output().unwrap().status.code(),
    ];
    let mut sorted = codes;
    sorted.sort();
    // One applies; the other finds it running (lock) or just done (cooldown, read under the lock).
    assert_eq!(sorted, [Some(0), Some(4)], "{codes:?}");
    let started = s
        .history("test")
        .iter()
        .filter(|r| r["decision"] == "started")
        .count();
    assert_eq!(started, 1);
}

#[test]
fn aws_error_text_that_quotes_secrets_is_redacted_everywhere() {
    // Its own emulator: the fault below matches every Lambda configuration update.
    let emu = Emulator::dedicated();
    let p = unique_name("leak");
    let created: Value = serde_json::from_str(&emu.seed(
        &json!({"lambdas": [{"name": format!("{p}-api"), "env": {"DB_PASSWORD": "hunter2-secret", "STAGE": "test"}}]}).to_string(),
    ))
    .unwrap();
    let dir = emulated_project();
    let doc = json!({"id": p, "environment": "test", "resources": [{"id": "api", "type": "lambda", "arn": created["lambda"][format!("{p}-api")]}]});
    let f = write(dir.path(), "d.json", &doc.to_string());
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    write(
        dir.path(),
        ".fractary/helm/issues/active/infra-001.json",
        &json!({"id": "infra-001", "domain": "infrastructure", "severity": "HIGH", "title": "t", "description": "d",
                "detected_at": "2026-01-01T00:00:00Z", "environment": "test", "affected_resources": ["api"],
                "status": "active", "fingerprint": "test/api/error_rate", "source": "health", "history": []})
        .to_string(),
    );
    // Lambda's answer when the variables pass 4 KB quotes every one of them.
    let message = r#"Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"DB_PASSWORD":"hunter2-secret","STAGE":"test","HELM_RESTARTED_AT":"x"}"#;
    let fault = json!({"match": "HELM_RESTARTED_AT", "code": "InvalidParameterValueException", "status": 400, "message": message});
    assert_eq!(
        emu.request("POST", "/helm-emulator/faults", &fault.to_string())
            .unwrap()
            .0,
        200
    );
    let r =
        run(helm_against(&emu, dir.path()).args(["remediate", "--issue", "infra-001", "--yes"]));
    assert_eq!(r.code, 69, "{r:?}");
    assert!(r.stderr.contains("exceeded the 4KB limit"), "{}", r.stderr);
    let history = std::fs::read_to_string(
        dir.path()
            .join(".fractary/plugins/helm-cloud/remediations/test/history.jsonl"),
    )
    .unwrap();
    let issue = std::fs::read_to_string(
        dir.path()
            .join(".fractary/helm/issues/active/infra-001.json"),
    )
    .unwrap();
    for (what, text) in [
        ("stderr", &r.stderr),
        ("history", &history),
        ("issue", &issue),
    ] {
        assert!(
            !text.contains("hunter2-secret"),
            "a secret reached the {what}: {text}"
        );
    }
    assert!(history.contains("\"failed\""));
    assert!(issue.contains("remediation_failed"));
}

#[test]
fn a_reboot_without_evidence_of_a_reboot_is_not_verified() {
    // Its own emulator: the instance's events cannot be read, so `available` is all there is.
    let emu = Emulator::dedicated();
    let p = unique_name("boot");
    let created: Value =
        serde_json::from_str(&emu.seed(&json!({"rds": [{"id": format!("{p}-db")}]}).to_string()))
            .unwrap();
    let dir = emulated_project();
    let doc = json!({"id": p, "environment": "test", "resources": [{"id": "db", "type": "rds", "arn": created["rds"][format!("{p}-db")]}]});
    let f = write(dir.path(), "d.json", &doc.to_string());
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()]
        )
        .code,
        0
    );
    write(
        dir.path(),
        MONITORING,
        "[remediation]\nverify_timeout = \"2s\"\n",
    );
    let fault = json!({"operation": "DescribeEvents", "code": "AccessDenied", "status": 403});
    assert_eq!(
        emu.request("POST", "/helm-emulator/faults", &fault.to_string())
            .unwrap()
            .0,
        200
    );
    let r = run(helm_against(&emu, dir.path()).args([
        "remediate",
        "--action",
        "reboot_rds",
        "--service",
        "db",
        "--yes",
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 1, "applied, not verified: {r:?}");
    let j = r.json();
    assert_eq!(j["verification"]["ok"], false);
    let detail = j["verification"]["detail"].as_str().unwrap();
    assert!(
        detail.contains("instance available") && detail.contains("rds:DescribeEvents"),
        "{detail}"
    );
}
