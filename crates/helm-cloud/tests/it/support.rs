use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }
}

/// The binary, run in `root` with a clean environment: none of the developer's AWS or
/// helm settings leak in.
pub fn helm(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_helm-cloud"));
    for v in helm_testsupport::AWS_ENV_TO_CLEAR {
        c.env_remove(v);
    }
    // No ~/.aws of the developer's either.
    c.env("AWS_CONFIG_FILE", root.join(".no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", root.join(".no-aws-creds"));
    // The user's config directory (domain trust) is the test's own, never the developer's.
    c.env("XDG_CONFIG_HOME", root.join(".user-config"))
        .env_remove("HELM_TRUST_DOMAIN_COMMANDS")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL");
    c.env("HELM_ROOT", root)
        .current_dir(root)
        .stdin(Stdio::null());
    c
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("running helm-cloud");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `helm-cloud ARGS` in `root`.
pub fn helm_run(root: &Path, args: &[&str]) -> Run {
    run(helm(root).args(args))
}

/// A temporary project with `init` already run.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = helm_run(dir.path(), &["init"]);
    assert_eq!(r.code, 0, "{r:?}");
    dir
}

pub fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

pub const MONITORING: &str = ".fractary/plugins/helm-cloud/config/monitoring.toml";
pub const ENVIRONMENTS: &str = ".fractary/shared/environments.json";
pub const REGISTRY: &str = ".fractary/registry/deployments.json";

/// A deployment document with `n` Lambda functions.
pub fn deployment(id: &str, env: &str, functions: &[&str]) -> String {
    let resources: Vec<String> = functions
        .iter()
        .map(|f| format!(r#"{{"id": "{f}", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:{f}"}}"#))
        .collect();
    format!(
        r#"{{"id": "{id}", "environment": "{env}", "project": "acme", "deployed_at": "2025-11-04T09:12:00Z", "resources": [{}]}}"#,
        resources.join(", ")
    )
}

/// A project whose AWS calls go to the emulator, in us-east-1 unless a resource says otherwise.
pub fn emulated_project() -> tempfile::TempDir {
    let dir = project();
    write(
        dir.path(),
        ".fractary/shared/aws-credentials.json",
        r#"{"version": "1.0.0", "aws": {"account_id": "123456789012", "region": "us-east-1"}}"#,
    );
    dir
}

/// `helm-cloud` in `root`, pointed at `emu`.
pub fn helm_against(emu: &helm_testsupport::Emulator, root: &Path) -> Command {
    let mut cmd = helm(root);
    for (k, v) in emu.env() {
        cmd.env(k, v);
    }
    cmd
}

/// Run `helm-cloud ARGS` in `root` against the shared emulator, at `now` when given.
pub fn helm_emu_at(root: &Path, args: &[&str], now: Option<&str>) -> Run {
    let mut cmd = helm_against(helm_testsupport::Emulator::shared(), root);
    if let Some(n) = now {
        cmd.env("HELM_NOW", n);
    }
    run(cmd.args(args))
}

/// Run `helm-cloud ARGS` in `root` against the shared emulator.
pub fn helm_emu(root: &Path, args: &[&str]) -> Run {
    helm_emu_at(root, args, None)
}

/// An emulated project whose `test` environment holds one Lambda, `api`, named `function`
/// in AWS (and `extra` resources), and whose monitoring.toml watches `test` alone.
pub fn lambda_project(function: &str, extra: &[serde_json::Value]) -> tempfile::TempDir {
    let dir = emulated_project();
    let mut resources = vec![serde_json::json!({"id": "api", "type": "lambda",
        "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{function}")})];
    resources.extend(extra.iter().cloned());
    let registry = serde_json::json!({"deployments": [{"id": "d", "environment": "test", "resources": resources}]});
    write(
        dir.path(),
        ".fractary/registry/deployments.json",
        &registry.to_string(),
    );
    write(
        dir.path(),
        MONITORING,
        "[helm-cloud]\nenvironments = [\"test\"]\n",
    );
    dir
}

/// One row of the README's "What it survives" table, observed by the test that calls it:
/// appended as a JSON line to `$HELM_SURVIVES_OUT` when set (`scripts/survives.sh` renders
/// the table), nothing otherwise. Call it after the test's assertions have passed.
pub fn survived(fault: &str, command: &str, outcome: &str) {
    let Some(path) = std::env::var_os("HELM_SURVIVES_OUT") else {
        return;
    };
    use std::io::Write as _;
    let line = serde_json::json!({"fault": fault, "command": command, "outcome": outcome});
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("HELM_SURVIVES_OUT is writable");
    // One write of one line: parallel tests append whole rows.
    f.write_all(format!("{line}\n").as_bytes()).unwrap();
}
