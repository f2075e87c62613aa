//! Test support shared by the crates' integration tests: one AWS emulator (moto behind
//! `scripts/emulator/launcher.py`) per test binary, started on first use on a free loopback
//! port and gone when the test binary exits; unique names so tests can share it.
//!
//! Only test code depends on this crate.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The repository's top folder.
///
/// From the `CARGO_MANIFEST_DIR` that `cargo test` sets when it runs a test binary (the
/// crate under test, two folders down), not the one compiled into this crate: cargo keeps a
/// compiled path dependency fresh when the same sources are built from another clone into a
/// shared target folder, so a compiled-in path can name a clone that is gone.
pub fn repo_root() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    crate_dir
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// A running emulator.
pub struct Emulator {
    pub endpoint: String,
    pub port: u16,
    python: String,
    _child: Child,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

impl Emulator {
    /// The emulator of this test binary, started on first use.
    ///
    /// The Python it runs comes from `HELM_EMULATOR_PYTHON`, else from
    /// `scripts/emulator.sh venv` (which creates the cached venv when missing).
    pub fn shared() -> &'static Emulator {
        EMULATOR.get_or_init(Emulator::start)
    }

    /// An emulator of the caller's own, for tests that change account-wide settings (the
    /// password policy, account public access block…) and must not disturb the others.
    /// Stopped when dropped.
    pub fn dedicated() -> Emulator {
        Emulator::start_with(&[])
    }

    /// A dedicated emulator that answers one request at a time (`launcher.py --serialize`).
    /// moto checks S3's `If-Match` / `If-None-Match` apart from the write, so under
    /// concurrent writers two can both win (measured: 1–2 rounds in 20 under 50 writers),
    /// which AWS never allows: tests of lost writes use this so that they test helm-cloud's
    /// compare-and-swap, not moto's race.
    pub fn dedicated_serialized() -> Emulator {
        Emulator::start_with(&["--serialize"])
    }

    fn start() -> Emulator {
        Emulator::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Emulator {
        let root = repo_root();
        let python = match std::env::var("HELM_EMULATOR_PYTHON") {
            Ok(p) if !p.is_empty() => p,
            _ => {
                let out = Command::new("bash")
                    .arg(root.join("scripts/emulator.sh"))
                    .arg("venv")
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("running scripts/emulator.sh venv");
                assert!(out.status.success(), "scripts/emulator.sh venv failed");
                String::from_utf8(out.stdout).unwrap().trim().to_string()
            }
        };
        let port = free_port();
        let log = std::env::temp_dir().join(format!("helm-emulator-{port}.log"));
        let port_arg = port.to_string();
        let mut args = vec!["--port", port_arg.as_str()];
        args.extend_from_slice(extra);
        let child = spawn_script(&python, "launcher.py", &args, &log);
        let emulator = Emulator {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            python: python.clone(),
            _child: child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((200, _)) = emulator.request("GET", "/helm-emulator/ping", "") {
                return emulator;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the emulator did not answer on port {port} within 60 s; see {}",
            log.display()
        );
    }

    /// The Python that runs the emulator (it has boto3, for tests that act on AWS beside
    /// the command under test).
    pub fn python(&self) -> &str {
        &self.python
    }

    /// Run a boto3 script against the emulator, as the tests that build resources beside
    /// the command under test do: `python -c SCRIPT ENDPOINT ARGS…`. The script prints one
    /// JSON document (or nothing: null), which is returned; a failing script fails the test
    /// with its stderr.
    pub fn run_python(&self, script: &str, args: &[&str]) -> serde_json::Value {
        let out = Command::new(&self.python)
            .arg("-c")
            .arg(script)
            .arg(&self.endpoint)
            .args(args)
            .output()
            .expect("running the emulator's python");
        assert!(
            out.status.success(),
            "the boto3 script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("the boto3 script printed no JSON ({e}): {text}"))
    }

    /// A plain HTTP request to the emulator (seeding endpoints, moto-api). Returns status and body.
    pub fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        http_request(self.port, method, path, body)
    }

    /// Environment variables that point helm-cloud (and the SDK) at this emulator, with
    /// retries off so failures are quick. No AWS_REGION: it would override every resource's
    /// own region (the documented precedence), so projects set `aws.region` instead.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("HELM_AWS_MAX_ATTEMPTS", "1".into()),
        ]
    }

    /// Create resources, metrics, alarms and logs through the AWS APIs
    /// (`scripts/emulator/seed_fixtures.py`; the spec format is documented there).
    /// Returns what it created (ARNs, ids) as JSON text.
    pub fn seed(&self, spec: &str) -> String {
        use std::io::Write as _;
        let mut child = Command::new(&self.python)
            .arg(repo_root().join("scripts/emulator/seed_fixtures.py"))
            .arg(&self.endpoint)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running seed_fixtures.py");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(spec.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A plain HTTP/1.1 request to a loopback port. Returns status and body.
fn http_request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// The fault-injecting proxy (`scripts/emulator/faultproxy.py`) in front of an emulator:
/// point helm-cloud at [`FaultProxy::env`] and say in one line what AWS should do wrong
/// (`"GetMetricData throttle 30%"`; the rule syntax is in the script's header).
/// Stopped when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    pub port: u16,
    upstream: Vec<(&'static str, String)>,
    child: Child,
}

impl FaultProxy {
    /// Start a proxy in front of `emulator` with `rules` (empty: pass everything).
    pub fn start(emulator: &Emulator, rules: &str) -> FaultProxy {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("helm-faultproxy-{port}.log"));
        let child = spawn_script(
            emulator.python(),
            "faultproxy.py",
            &[
                "--port",
                &port.to_string(),
                "--upstream",
                &emulator.endpoint,
                "--rules",
                rules,
            ],
            &log,
        );
        let proxy = FaultProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            upstream: emulator.env(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = http_request(port, "GET", "/helm-fault/ping", "") {
                return proxy;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the fault proxy did not answer on port {port}; see {}",
            log.display()
        );
    }

    /// Replace the rules (`;` or newlines between them; empty: pass everything).
    pub fn set_rules(&self, rules: &str) {
        let body = format!("{{\"rules\": {rules:?}}}");
        let (status, text) =
            http_request(self.port, "POST", "/helm-fault/rules", &body).expect("fault proxy rules");
        assert_eq!(status, 200, "fault proxy refused rules {rules:?}: {text}");
    }

    /// What the proxy has seen since the last [`FaultProxy::clear`], as JSON:
    /// `{"requests": [{"service", "operation", "fault"}], "counts": {"Op fault": n}}`.
    pub fn stats(&self) -> String {
        http_request(self.port, "GET", "/helm-fault/stats", "")
            .expect("fault proxy stats")
            .1
    }

    /// Forget the requests seen so far.
    pub fn clear(&self) {
        http_request(self.port, "POST", "/helm-fault/clear", "").expect("fault proxy clear");
    }

    /// The emulator's environment ([`Emulator::env`]) with the endpoint moved to the proxy.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.upstream
            .iter()
            .map(|(k, v)| match *k {
                "AWS_ENDPOINT_URL" => (*k, self.endpoint.clone()),
                _ => (*k, v.clone()),
            })
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `python scripts/emulator/<script> args --parent-pid <this process>`, its stderr in `log`
/// (it exits when the test binary does).
fn spawn_script(python: &str, script: &str, args: &[&str], log: &Path) -> Child {
    Command::new(python)
        .arg(repo_root().join("scripts/emulator").join(script))
        .args(args)
        .args(["--parent-pid", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(log)
                .map(Stdio::from)
                .unwrap_or(Stdio::null()),
        )
        .spawn()
        .unwrap_or_else(|e| panic!("starting {script} with {python}: {e}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test of this run uses: `prefix-<pid>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self._child.kill();
        let _ = self._child.wait();
    }
}

/// Environment variables a test must remove so the developer's own AWS setup never leaks in.
pub const AWS_ENV_TO_CLEAR: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "HELM_ROOT",
    "HELM_FORMAT",
    "HELM_NOW",
];

/// Run `program args` inside a pseudo-terminal (stdin, stdout and stderr all a terminal),
/// answer `answer` when the output contains `prompt`, and return the exit code and all
/// output. Uses the system's python3 `pty` module.
pub fn run_in_pty(
    program: &Path,
    args: &[&str],
    cwd: &Path,
    env: &[(String, String)],
    unset: &[&str],
    prompt: &str,
    answer: &str,
) -> (i32, String) {
    run_in_pty_with_hook(program, args, cwd, env, unset, prompt, answer, &[])
}

/// As [`run_in_pty`], and when the prompt appears, run `hook` (a command line; empty: none)
/// to completion before answering: the world changing while a person reads the prompt.
#[allow(clippy::too_many_arguments)]
pub fn run_in_pty_with_hook(
    program: &Path,
    args: &[&str],
    cwd: &Path,
    env: &[(String, String)],
    unset: &[&str],
    prompt: &str,
    answer: &str,
    hook: &[&str],
) -> (i32, String) {
    const DRIVER: &str = r#"
import json, os, pty, select, subprocess, sys, time
spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec["cwd"])
    env = dict(os.environ)
    for k in spec["unset"]:
        env.pop(k, None)
    env.update(spec["env"])
    os.execve(spec["program"], [spec["program"]] + spec["args"], env)
out = b""
sent = False
deadline = time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
        if not sent and spec["prompt"].encode() in out:
            if spec["hook"]:
                subprocess.run(spec["hook"], check=True, stdout=subprocess.DEVNULL)
            os.write(fd, (spec["answer"] + "\n").encode())
            sent = True
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace")}))
"#;
    let spec = format!(
        "{{\"program\": {:?}, \"args\": [{}], \"cwd\": {:?}, \"env\": {{{}}}, \"unset\": [{}], \"prompt\": {:?}, \"answer\": {:?}, \"hook\": [{}]}}",
        program.display().to_string(),
        args.iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        cwd.display().to_string(),
        env.iter()
            .map(|(k, v)| format!("{k:?}: {v:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        unset
            .iter()
            .map(|u| format!("{u:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        prompt,
        answer,
        hook.iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(&spec)
        .output()
        .expect("python3 for the pty driver");
    let text = String::from_utf8_lossy(&out.stdout);
    let code = text
        .split("\"code\": ")
        .nth(1)
        .and_then(|s| s.split([',', '}']).next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(-1);
    let output = text
        .split("\"output\": ")
        .nth(1)
        .map(|s| s.trim_end().trim_end_matches('}').to_string())
        .unwrap_or_default();
    (code, output)
}
