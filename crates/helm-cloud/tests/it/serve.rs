//! `helm-cloud serve` end to end: a project seeded through the emulator (`health`, `watch
//! --once`, `audit`), the real binary serving it on a loopback port, its routes read over
//! plain HTTP (status, content type, JSON shape, 404, path traversal, escaping, the token
//! rule, server-sent events), and the pages in headless Chromium (tests/it/browser.py).

use crate::support::*;
use helm_testsupport::{Emulator, repo_root, unique_name};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `helm-cloud serve ARGS` in `root`; the first line it prints is its URL.
fn serve(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = helm(root);
    cmd.arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("starting serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("serve printed {line:?}"));
    Server { child, port }
}

struct Got {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

/// One HTTP/1.1 GET over a plain socket.
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    Got {
        status,
        headers,
        body: body.to_string(),
    }
}

fn traffic(name: &str) -> Vec<Value> {
    let dims = json!({"FunctionName": name});
    let mut out = Vec::new();
    let mut m = 180;
    while m > 0 {
        out.push(json!({"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 20, "minutes_ago": m}));
        out.push(json!({"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": u32::from(m < 40) * 3, "minutes_ago": m}));
        out.push(json!({"namespace": "AWS/Lambda", "name": "Duration", "dimensions": dims, "values": vec![60.0; 20], "minutes_ago": m}));
        m -= 5;
    }
    out
}

/// A project whose `api` Lambda burns its budget: a health report, an issue, the watch
/// state and a security audit, all made by the commands against the emulator.
fn seeded() -> (tempfile::TempDir, String) {
    let emu = Emulator::shared();
    let name = unique_name("web");
    emu.seed(&json!({"lambdas": [{"name": name}], "metrics": traffic(&name)}).to_string());
    let dir = lambda_project(&name, &[]);
    let h = helm_emu(dir.path(), &["health"]);
    assert_eq!(h.code, 2, "the error spike is unhealthy: {}", h.stderr);
    let w = helm_emu(dir.path(), &["watch", "--once", "--no-notify"]);
    assert!(w.code <= 3, "{}", w.stderr);
    helm_emu(dir.path(), &["audit", "--type", "security"]);
    // Hostile text in an issue, as any file on disk may hold.
    let active = dir.path().join(".fractary/helm/issues/active");
    let file = std::fs::read_dir(&active)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("health opened an issue");
    let mut issue: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    issue["title"] = json!("<script>alert('x')</script> & \"quotes\"");
    std::fs::write(&file, serde_json::to_string_pretty(&issue).unwrap()).unwrap();
    let id = issue["id"].as_str().unwrap().to_string();
    (dir, id)
}

#[test]
fn routes_serve_pages_and_documents_and_refuse_what_they_must() {
    let (dir, issue_id) = seeded();
    let root = dir.path();
    let before = snapshot(root);
    let srv = serve(root, &["--listen", "127.0.0.1:0"], &[]);
    let p = srv.port;

    let home = get(p, "/", &[]);
    assert_eq!(home.status, 200);
    assert_eq!(home.headers["content-type"], "text/html; charset=utf-8");
    let csp = &home.headers["content-security-policy"];
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(home.headers["x-content-type-options"], "nosniff");
    assert!(home.body.contains("data-testid=\"tile\""), "{}", home.body);
    // The hostile title is text, never markup.
    assert!(!home.body.contains("<script>alert"), "unescaped title");
    assert!(
        home.body
            .contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quotes&quot;"),
        "escaped title"
    );
    assert_eq!(
        home.body.matches("<script").count(),
        1,
        "only our own script tag"
    );

    let api = get(p, "/api/dashboard", &[]);
    assert_eq!(api.status, 200);
    assert_eq!(api.headers["content-type"], "application/json");
    let d: Value = serde_json::from_str(&api.body).unwrap();
    assert!(
        d["dashboard"]["top_issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == issue_id.as_str())
    );
    let slo = &d["slo"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slo_report"]["environment"] == "test")
        .expect("the test environment's budgets")["slo_report"];
    assert!(
        slo["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["resource"] == "api"),
        "the watch state's budgets: {slo:#}"
    );
    // The same document as the CLI's `dashboard --format json`, but for the SLO extras.
    let cli = helm_run(root, &["dashboard", "--format", "json"]).json();
    assert_eq!(
        cli["dashboard"]["overall_health"],
        d["dashboard"]["overall_health"]
    );
    assert_eq!(cli["dashboard"]["top_issues"], d["dashboard"]["top_issues"]);
    assert_eq!(
        cli["dashboard"]["domain_environments"],
        d["dashboard"]["domain_environments"]
    );

    let issues = get(p, "/api/issues", &[]);
    let cli_issues = helm_run(root, &["issues", "--format", "json"]).json();
    let served: Value = serde_json::from_str(&issues.body).unwrap();
    assert_eq!(
        served["issues"].as_array().unwrap().len(),
        cli_issues["issues"].as_array().unwrap().len()
    );
    assert_eq!(get(p, "/api/issues?severity=LOW", &[]).status, 200);
    assert_eq!(get(p, "/api/issues?severity=SEVERE", &[]).status, 400);
    assert_eq!(get(p, &format!("/issues/{issue_id}"), &[]).status, 200);
    assert_eq!(get(p, "/issues/infra-999", &[]).status, 404);
    assert_eq!(get(p, "/api/issues/infra-999", &[]).status, 404);

    let res = get(p, "/resources/test/api", &[]);
    assert_eq!(res.status, 200);
    assert!(res.body.contains("data-testid=\"chart-error-rate\""));
    assert!(res.body.contains("data-testid=\"slo-line\""));
    let rj: Value = serde_json::from_str(&get(p, "/api/resources/test/api", &[]).body).unwrap();
    // Two saved reports (health's, then watch's own check): the spike is in the first.
    let hist = rj["history"].as_array().unwrap();
    assert_eq!(hist.len(), 2, "{rj:#}");
    assert_eq!(hist[0]["status"], "UNHEALTHY");
    assert!(hist[0]["error_rate_percent"].as_f64().unwrap() > 0.1);
    assert_eq!(
        rj["resource"]["status"], hist[1]["status"],
        "the page shows the newest report"
    );
    assert_eq!(rj["slo_lines"]["error_rate_percent"], 0.1);
    assert!(!rj["objectives"].as_array().unwrap().is_empty(), "{rj:#}");
    assert_eq!(get(p, "/resources/test/ghost", &[]).status, 404);
    assert_eq!(get(p, "/resources/nowhere/api", &[]).status, 404);

    let audits: Value =
        serde_json::from_str(&get(p, "/api/documents/audits/test", &[]).body).unwrap();
    let file = audits["documents"][0]["file"]
        .as_str()
        .expect("the audit is listed")
        .to_string();
    let doc = get(p, &format!("/documents/audits/test/{file}"), &[]);
    assert_eq!(doc.status, 200);
    assert!(doc.body.contains("<h1>"), "the Markdown is rendered");
    assert_eq!(
        get(p, &format!("/api/documents/audits/test/{file}"), &[]).status,
        200
    );

    // Paths from URLs never leave the project's folders.
    for bad in [
        "/documents/audits/test/..%2F..%2F..%2F..%2Fshared%2Faws-credentials.json",
        "/documents/audits/test/../../../../registry/deployments.json",
        "/documents/audits/..%2F..%2F..%2Fshared/aws-credentials.json",
        "/api/documents/audits/test/%2Fetc%2Fpasswd",
        "/api/documents/etc/test",
        "/documents/audits/test/.hidden.json",
        "/resources/test/..%2F..%2Fx",
        "/nothing/here",
    ] {
        let g = get(p, bad, &[]);
        assert!(
            g.status == 404 || g.status == 400,
            "{bad}: {} {}",
            g.status,
            g.body
        );
        assert!(!g.body.contains("account_id"), "{bad} leaked a file");
    }
    assert_eq!(
        get(p, "/assets/app.js", &[]).headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        get(p, "/assets/app.css", &[]).headers["content-type"],
        "text/css; charset=utf-8"
    );
    drop(srv);
    assert_eq!(before, snapshot(root), "serve changed no file");
}

/// Every file under `root` and its bytes.
fn snapshot(root: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn beyond_loopback_every_request_needs_the_token() {
    let dir = project();
    let r = helm_run(dir.path(), &["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("not a loopback address"), "{}", r.stderr);
    let r = run(helm(dir.path())
        .args([
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--token-env",
            "HELM_WEB_TOKEN",
        ])
        .env("HELM_WEB_TOKEN", "short"));
    assert_eq!(r.code, 64, "a short token is refused: {r:?}");
    let token = "0123456789abcdef0123456789abcdef";
    // Bound on every address; reached through loopback only (this machine's rule).
    let srv = serve(
        dir.path(),
        &["--listen", "0.0.0.0:0", "--token-env", "HELM_WEB_TOKEN"],
        &[("HELM_WEB_TOKEN", token)],
    );
    let p = srv.port;
    let none = get(p, "/api/dashboard", &[]);
    assert_eq!(none.status, 401);
    assert!(none.headers["www-authenticate"].starts_with("Bearer"));
    assert!(!none.body.contains(token));
    assert_eq!(
        get(
            p,
            "/api/dashboard",
            &[("Authorization", "Bearer wrong-token-wrong-token-1234")]
        )
        .status,
        401
    );
    assert_eq!(get(p, "/assets/app.js", &[]).status, 401, "assets too");
    let bearer = format!("Bearer {token}");
    assert_eq!(
        get(p, "/api/dashboard", &[("Authorization", &bearer)]).status,
        200
    );
    // A browser: ?token= once sets an HttpOnly cookie, which then suffices.
    let first = get(p, &format!("/?token={token}"), &[]);
    assert_eq!(first.status, 200);
    let cookie = first.headers["set-cookie"].clone();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    assert_eq!(get(p, "/issues", &[("Cookie", &pair)]).status, 200);
    assert_eq!(
        get(p, "/issues", &[("Cookie", "helm_token=nope")]).status,
        401
    );
}

#[test]
fn a_new_report_is_pushed_to_open_pages() {
    let (dir, _) = seeded();
    let srv = serve(dir.path(), &["--listen", "127.0.0.1:0"], &[]);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    // Let the watcher take its first look, then write a report as `health` would.
    std::thread::sleep(Duration::from_millis(1200));
    let reports = dir
        .path()
        .join(".fractary/plugins/helm-cloud/monitoring/test");
    let newest = std::fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .max()
        .unwrap();
    std::fs::copy(&newest, reports.join("29991231T235959Z-health-check.json")).unwrap();
    let started = Instant::now();
    let mut got = String::new();
    while !got.contains("event: changed") {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        got.push_str(&line);
    }
    assert!(got.contains("event: changed"), "no event: {got:?}");
    eprintln!(
        "serve: a new report reached /events after {:?}",
        started.elapsed()
    );
}

#[test]
fn the_pages_in_a_real_browser() {
    if !Path::new("/usr/bin/chromium").exists() {
        eprintln!(
            "\n\n*** SKIPPED: /usr/bin/chromium is not installed (scripts/test.sh installs Debian's chromium; it could not here) ***\n\n"
        );
        return;
    }
    let (dir, _) = seeded();
    let srv = serve(dir.path(), &["--listen", "127.0.0.1:0"], &[]);
    let out = std::env::var("HELM_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join(unique_name("helm-screens")));
    std::fs::create_dir_all(&out).unwrap();
    // The next report, written later than the others: the opposite of what the newest says
    // (watch's own check may or may not have caught the spike in its window).
    let reports = dir
        .path()
        .join(".fractary/plugins/helm-cloud/monitoring/test");
    let newest = std::fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .max()
        .unwrap();
    let mut next: Value = serde_json::from_str(&std::fs::read_to_string(&newest).unwrap()).unwrap();
    let before = next["overall_health"].as_str().unwrap().to_string();
    let after = if before == "UNHEALTHY" {
        "HEALTHY"
    } else {
        "UNHEALTHY"
    };
    next["overall_health"] = json!(after);
    for r in next["results"].as_array_mut().unwrap() {
        r["status"] = json!(after);
        r["reasons"] = json!(["the browser test's report"]);
    }
    let src = out.join("next-report.json");
    std::fs::write(&src, next.to_string()).unwrap();
    let dst = reports.join("29991231T235959Z-health-check.json");
    let emu = Emulator::shared();
    let o = std::process::Command::new(emu.python())
        .arg(repo_root().join("crates/helm-cloud/tests/it/browser.py"))
        .arg(format!("http://127.0.0.1:{}", srv.port))
        .args(["test", "api"])
        .arg(&out)
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "browser.py: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r.get("update_error").is_none(), "{r:#}");
    let errors: Vec<&Value> = r["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "error" || m["type"] == "warning")
        .collect();
    assert!(errors.is_empty(), "the console said: {errors:?}");
    assert!(r["page_errors"].as_array().unwrap().is_empty(), "{r}");
    let ov = &r["overview"];
    // Two environments, prod never checked: never HEALTHY.
    assert_ne!(ov["overall"], "HEALTHY", "{r}");
    assert!(ov["tiles"].as_u64().unwrap() >= 1, "{r}");
    assert!(ov["issue_rows"].as_u64().unwrap() >= 1, "{r}");
    assert!(ov["budgets"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(ov["script_tags"], 0, "the hostile title stayed text");
    assert!(ov["titles"].to_string().contains("<script>alert"), "{r}");
    let res = &r["resource"];
    assert!(res["history_cells"].as_u64().unwrap() >= 2, "{r}");
    assert!(
        res["charts"].as_u64().unwrap() >= 2 && res["series"].as_u64().unwrap() >= 2,
        "{r}"
    );
    assert!(res["slo_lines"].as_u64().unwrap() >= 1);
    assert_eq!(ov["test_tile"], before.as_str(), "the newest report: {r}");
    assert_eq!(
        r["after_update"]["test_tile"], after,
        "the page took the new report: {r}"
    );
    assert_eq!(r["after_update"]["navigations"], 0, "without a reload");
    assert!(out.join("overview.png").exists() && out.join("resource.png").exists());
    eprintln!(
        "serve: screenshots in {}; the page showed a new report {}s after it was written",
        out.display(),
        r["update_seconds"]
    );
}

/// With `[state] backend = "s3"`, the dashboard of a clone that holds only the
/// configuration shows what a team-mate's clone did, and follows it: an issue resolved
/// there shows resolved here within a refresh (every 5 s).
#[test]
fn on_shared_state_the_dashboard_follows_a_team_mates_clone() {
    use crate::state::{Team, team_with_an_open_issue};
    let emu = Emulator::shared();
    let Team {
        first: mate,
        second: viewer,
        ..
    } = team_with_an_open_issue(emu, "board");
    let cli = |root: &Path, args: &[&str]| run(helm_against(emu, root).args(args));
    let env: Vec<(&str, String)> = emu.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = serve(viewer.path(), &["--listen", "127.0.0.1:0"], &env);
    let got = get(server.port, "/api/issues/infra-001", &[]);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("\"active\""), "{}", got.body);

    assert_eq!(
        cli(mate.path(), &["issues", "resolve", "infra-001"]).code,
        0
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = get(server.port, "/api/issues/infra-001", &[]);
        if got.body.contains("\"resolved\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still not resolved here: {}",
            got.body
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
