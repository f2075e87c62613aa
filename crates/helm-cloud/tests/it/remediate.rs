//! `remediate` end to end against the emulator: every action applied and verified, the
//! policy matrix (through a pseudo-terminal), dry runs, never_auto, cooldown, descriptions,
//! issues, and the history.

use crate::support::*;
use helm_aws::{ActionTarget, AwsClients, ClientSettings};
use helm_core::config::Credentials;
use helm_testsupport::{AWS_ENV_TO_CLEAR, Emulator, run_in_pty, unique_name};
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
            unsafe {
                std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
                std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
            }
            let mut s = ClientSettings::new(Credentials::EnvironmentKeys, "us-east-1");
            s.endpoint_url = Some(emu.endpoint.clone());
            s.max_attempts = 1;
            let clients = AwsClients::new(s).await;
            let t = ActionTarget {
                region: "us-east-1".into(),
                name: name.into(),
                cluster: cluster.map(str::to_string),
            };
            clients.action_state(action, kind, &t).await.unwrap()
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
    assert_ne!(r.code, 0, "{r:?}");
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
