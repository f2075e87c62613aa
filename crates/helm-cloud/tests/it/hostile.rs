//! Hostile input for every parser: the committed corpus (`fixtures/hostile/`) and two
//! generated cases (a 10 MB line, a million resources) as each file helm-cloud reads, each
//! filter pattern and each `ask` sentence. Every case must end in a clear error (65 naming
//! the file, 64 for an argument) or be handled: no panic, no hang, no file changed.
//!
//! AWS is a closed port with one attempt: a command that gets past its parsing fails fast
//! as unreachable (69), which is handling too.

use crate::support::*;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/hostile");
    let mut cases: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    cases.sort();
    // A 10 MB line: no newline, as a JSON string and as a log line.
    let mut long = b"{\"deployments\": [{\"id\": \"".to_vec();
    long.extend(std::iter::repeat_n(b'A', 10 << 20));
    long.extend(b"\"}]}");
    cases.push(("generated: a 10 MB line".into(), long));
    cases
}

/// A registry of a million resources in one deployment (about 40 MB).
fn million_resources() -> Vec<u8> {
    let mut s = String::with_capacity(45 << 20);
    s.push_str(r#"{"deployments": [{"id": "big", "environment": "test", "resources": ["#);
    for i in 0..1_000_000 {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(r#"{{"id": "r{i}", "type": "lambda"}}"#));
    }
    s.push_str("]}]}");
    s.into_bytes()
}

/// Where a parser reads from and the command that makes it read.
struct Parser {
    name: &'static str,
    /// The file the case is written to (None: the case is an argument).
    file: Option<&'static str>,
    args: &'static [&'static str],
}

const PARSERS: &[Parser] = &[
    Parser {
        name: "monitoring.toml",
        file: Some(MONITORING),
        args: &["config", "validate"],
    },
    Parser {
        name: "environments",
        file: Some(ENVIRONMENTS),
        args: &["config", "validate"],
    },
    Parser {
        name: "credentials",
        file: Some(".fractary/shared/aws-credentials.json"),
        args: &["config", "validate"],
    },
    Parser {
        name: "registry",
        file: Some(REGISTRY),
        args: &["registry", "list"],
    },
    Parser {
        name: "faber-cloud deployments",
        file: Some(".fractary/plugins/faber-cloud/deployments/test/registry.json"),
        args: &["registry", "list"],
    },
    Parser {
        name: "issue file",
        file: Some(".fractary/helm/issues/active/hostile.json"),
        args: &["issues"],
    },
    Parser {
        name: "domain monitors",
        file: Some(".fractary/helm/domain-monitors.json"),
        args: &["health"],
    },
    Parser {
        name: "watch state",
        file: Some(".fractary/plugins/helm-cloud/watch/state.json"),
        args: &["watch", "--once", "--no-notify"],
    },
    Parser {
        name: "remediation history",
        file: Some(".fractary/plugins/helm-cloud/remediations/test/history.jsonl"),
        args: &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "api",
            "--dry-run",
        ],
    },
    Parser {
        name: "notification ledger",
        file: Some(".fractary/plugins/helm-cloud/notifications/ledger.json"),
        args: &["notify", "status"],
    },
    Parser {
        name: "audit suppressions",
        file: Some(".fractary/plugins/helm-cloud/config/audit-suppressions.toml"),
        args: &["config", "validate"],
    },
    Parser {
        name: "audit report (audit diff)",
        file: Some(".fractary/plugins/helm-cloud/audits/test/old.json"),
        args: &[
            "audit",
            "diff",
            ".fractary/plugins/helm-cloud/audits/test/old.json",
            ".fractary/plugins/helm-cloud/audits/test/old.json",
        ],
    },
    Parser {
        name: "log lines",
        file: Some("lines.log"),
        args: &["patterns", "lines.log"],
    },
    Parser {
        name: "filter pattern",
        file: None,
        args: &["logs", "--service", "api", "--filter"],
    },
    Parser {
        name: "ask sentence",
        file: None,
        args: &["ask"],
    },
];

/// Every file under `root` and its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

struct Outcome {
    code: Option<i32>,
    /// stderr and (when short) stdout.
    stderr: String,
    hung: bool,
}

/// Run with a bound: a run past 120 s is a hang (killed).
fn bounded(cmd: &mut std::process::Command, dir: &Path) -> Outcome {
    let err_path = dir.join(".stderr");
    let out_path = dir.join(".stdout");
    let mut child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // What the person reads: stderr, and the report on stdout (`config validate` names
    // each file there). A million-resource listing is not kept.
    let mut stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    let stdout = std::fs::read(&out_path).unwrap();
    if stdout.len() < 1 << 20 {
        stderr.push_str(&String::from_utf8_lossy(&stdout));
    }
    std::fs::remove_file(&err_path).unwrap();
    std::fs::remove_file(&out_path).unwrap();
    Outcome {
        code: status.and_then(|s| s.code()),
        stderr,
        hung: status.is_none(),
    }
}

/// A project with one Lambda `api` in `test`, AWS at a closed port.
fn base() -> (tempfile::TempDir, u16) {
    let dir = lambda_project("hostile-api", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    (dir, port)
}

fn check(parser: &Parser, case: &str, bytes: &[u8], failures: &mut Vec<String>) -> i32 {
    let (dir, port) = base();
    let root = dir.path();
    let mut args: Vec<OsString> = parser.args.iter().map(OsString::from).collect();
    match parser.file {
        Some(rel) => {
            write(root, rel, "");
            std::fs::write(root.join(rel), bytes).unwrap();
        }
        // An argument cannot hold a NUL byte; everything else goes in as given.
        None => args.push(OsString::from_vec(
            bytes.iter().copied().filter(|b| *b != 0).collect(),
        )),
    }
    let before = snapshot(root);
    let mut cmd = helm(root);
    cmd.args(&args)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("HELM_AWS_MAX_ATTEMPTS", "1");
    let out = bounded(&mut cmd, root);
    let what = format!("{} × {case}", parser.name);
    if out.hung {
        failures.push(format!("{what}: hung"));
        return -1;
    }
    let code = out.code.unwrap_or(-1);
    if out.code.is_none() || code == 101 || code == 70 || out.stderr.contains("internal error") {
        failures.push(format!(
            "{what}: crashed (exit {:?}): {}",
            out.code, out.stderr
        ));
        return code;
    }
    if code == 65
        && let Some(rel) = parser.file
        && !out
            .stderr
            .contains(Path::new(rel).file_name().unwrap().to_str().unwrap())
    {
        failures.push(format!(
            "{what}: exit 65 without naming the file: {}",
            out.stderr
        ));
    }
    let after = snapshot(root);
    for (path, content) in &before {
        match after.get(path) {
            Some(now) if now == content => {}
            // A corrupt watch state is set aside, whole, and rebuilt (watch's documented recovery).
            _ if parser.name == "watch state"
                && after.iter().any(|(p, c)| {
                    p != path && p.to_string_lossy().contains("state.json") && c == content
                }) => {}
            _ => failures.push(format!("{what}: {} changed", path.display())),
        }
    }
    code
}

#[test]
fn every_parser_survives_the_hostile_corpus() {
    let cases = corpus();
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    for parser in PARSERS {
        for (name, bytes) in &cases {
            // The system refuses an argument over 128 KiB before helm-cloud starts.
            if parser.file.is_none() && bytes.len() > 128 << 10 {
                continue;
            }
            let code = check(parser, name, bytes, &mut failures);
            *codes.entry(code).or_default() += 1;
            runs += 1;
        }
    }
    let big = million_resources();
    for parser in PARSERS.iter().filter(|p| p.name == "registry") {
        let code = check(
            parser,
            "generated: a million resources",
            &big,
            &mut failures,
        );
        *codes.entry(code).or_default() += 1;
        runs += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let parsers = PARSERS.len();
    survived(
        "hostile input",
        &format!("{parsers} parsers"),
        &format!(
            "{runs} runs ({} cases, a million-resource registry among them): 0 panics, 0 hangs, 0 files changed; exits {}",
            cases.len() + 1,
            codes
                .iter()
                .map(|(c, n)| format!("{c}×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
}
