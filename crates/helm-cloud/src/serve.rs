//! `helm-cloud serve`: the Helm picture as a local web page. Read-only: it reads the
//! project's files (health reports, issues, the watch state, investigations, audits, the
//! remediation history) and makes no AWS call and runs no command, so it is cheap and safe
//! to leave open. Pages are maud templates (every value escaped), charts inline SVG, every
//! asset embedded; `/api/…` serves each page's JSON document; `/events` pushes a message
//! when a file under the project changes, and the page swaps in its new content.
//!
//! The documents come from helm-core (`central::board`, `slo::report::from_cache`,
//! `site`); this front end parses URLs, renders and guards the door.

use crate::cli::GlobalOpts;
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_USAGE};
use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use helm_core::central::DomainMonitors;
use helm_core::central::board::{self, BoardQuery, IssueFilter, issue_json};
use helm_core::issues::Issue;
use helm_core::monitor::{self, Thresholds};
use helm_core::ports::DomainReports;
use helm_core::site;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const CSS: &str = include_str!("serve/app.css");
const JS: &str = include_str!("serve/app.js");
const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><circle cx=\"8\" cy=\"8\" r=\"6\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/><circle cx=\"8\" cy=\"8\" r=\"2\" fill=\"#0969da\"/></svg>";
/// No inline script or style anywhere: the page's only script and stylesheet are ours.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const TOKEN_COOKIE: &str = "helm_token";

pub struct ServeArgs {
    pub listen: String,
    pub envs: Vec<String>,
    pub token_env: Option<String>,
}

struct App {
    global: GlobalOpts,
    root: PathBuf,
    envs: Vec<String>,
    token: Option<String>,
    /// Bumped when a watched file changes; documents are cached per generation.
    generation: AtomicU64,
    changes: tokio::sync::broadcast::Sender<u64>,
    /// Each document as last built: (generation, status, content type, body).
    cache: Mutex<HashMap<String, (u64, Arc<Built>)>>,
}

/// Where `listen` may bind: loopback always; anything else only behind a token.
pub fn check_listen(
    listen: &str,
    token_env: Option<&str>,
) -> Result<(SocketAddr, Option<String>), CliError> {
    let addr: SocketAddr = listen.parse().map_err(|_| {
        CliError::usage(format!(
            "--listen {listen:?} is not an address such as 127.0.0.1:8080"
        ))
    })?;
    let token = match token_env {
        None => None,
        Some(name) => match std::env::var(name) {
            Ok(t) if t.trim().len() >= 16 => Some(t.trim().to_string()),
            Ok(_) => {
                return Err(CliError::usage(format!(
                    "--token-env {name}: the token is shorter than 16 characters"
                ))
                .hint("put a long random token in it: export NAME=$(openssl rand -hex 32)"));
            }
            Err(_) => {
                return Err(CliError::usage(format!(
                    "--token-env {name}: no such environment variable"
                )));
            }
        },
    };
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(CliError::new(
            EXIT_USAGE,
            format!("refusing to serve on {addr}: it is not a loopback address and no token guards it"),
        )
        .hint("add --token-env NAME, NAME holding a bearer token every request must present, or listen on 127.0.0.1"));
    }
    Ok((addr, token))
}

pub async fn run(ctx: &Ctx, a: ServeArgs) -> CliResult {
    let (addr, token) = check_listen(&a.listen, a.token_env.as_deref())?;
    let config = ctx.config()?;
    for e in &a.envs {
        ctx.check_env(&config, e)?;
    }
    let envs = if a.envs.is_empty() {
        config
            .environments
            .names()
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        a.envs.clone()
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CliError::new(69, format!("cannot listen on {addr}: {e}"))
            .hint("pick another --listen port")
    })?;
    let bound = listener.local_addr().unwrap_or(addr);
    let (changes, _) = tokio::sync::broadcast::channel(16);
    let app = Arc::new(App {
        global: ctx.global.clone(),
        root: ctx.paths.root.clone(),
        envs,
        token,
        generation: AtomicU64::new(1),
        changes,
        cache: Mutex::new(HashMap::new()),
    });
    if let Some(s3) = &config.monitoring.settings().state.s3 {
        // Shared state: the working copy follows the store (a pull every 5 s, none while a
        // local command's session runs); the file watch below then shows what changed.
        let store = crate::commands::state::s3_store(ctx, &config, s3).await?;
        let root = ctx.paths.fractary();
        helm_core::state::session::refresh(&store, &root).await?;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if let Err(e) = helm_core::state::session::refresh(&store, &root).await {
                    eprintln!("helm-cloud serve: refreshing the shared state: {e}");
                }
            }
        });
    }
    tokio::spawn(watch_files(Arc::clone(&app)));
    // The address on stdout (a script can read the port of :0), the rest on stderr.
    ctx.out.text(&format!("http://{bound}/"));
    ctx.out.warn_plain(&format!(
        "helm-cloud serve: read-only dashboard of {} on http://{bound}/ ({}); Ctrl-C stops",
        ctx.show_path(&ctx.paths.root),
        if app.token.is_some() {
            "bearer token required"
        } else {
            "loopback only"
        }
    ));
    let router = router(app);
    // Read-only: Ctrl-C or a TERM may stop it anywhere, nothing is left half-written.
    axum::serve(listener, router)
        .await
        .map_err(|e| CliError::new(70, format!("the server stopped: {e}")))?;
    Ok(0)
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/resources/{env}/{id}", get(resource))
        .route("/issues", get(issues))
        .route("/issues/{id}", get(issue))
        .route("/documents/{kind}/{env}", get(documents))
        .route("/documents/{kind}/{env}/{file}", get(document))
        .route("/api/dashboard", get(api_dashboard))
        .route("/api/slo/{env}", get(api_slo))
        .route("/api/resources/{env}/{id}", get(api_resource))
        .route("/api/issues", get(api_issues))
        .route("/api/issues/{id}", get(api_issue))
        .route("/api/documents/{kind}/{env}", get(api_documents))
        .route("/api/documents/{kind}/{env}/{file}", get(api_document))
        .route("/events", get(events))
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/assets/icon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        // Browsers ask for it whatever the page says.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(|| async { not_found("no such page") })
        .layer(middleware::from_fn_with_state(Arc::clone(&app), guard))
        .with_state(app)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Every response: the token (when one is set), and the security headers.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut set_cookie = None;
    if let Some(token) = &app.token {
        let headers = req.headers();
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| {
                c.trim()
                    .strip_prefix(&format!("{TOKEN_COOKIE}="))
                    .map(str::to_string)
            })
            .next();
        // A browser cannot send a header on navigation: `?token=` once sets the cookie.
        let query = req.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(str::to_string)
        });
        let ok = |t: &str| constant_eq(t.as_bytes(), token.as_bytes());
        if query.as_deref().is_some_and(ok) {
            set_cookie = Some(format!(
                "{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
            ));
        } else if !(bearer.is_some_and(ok) || cookie.as_deref().is_some_and(ok)) {
            let mut r = (StatusCode::UNAUTHORIZED, "a bearer token is required\n").into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"helm-cloud\""),
            );
            return secure(r);
        }
    }
    let mut r = next.run(req).await;
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    secure(r)
}

fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The newest modification among the project's folders the pages read, and how many files
/// they hold: one `stat` a file, once a second, for every client at once.
fn fingerprint(root: &Path) -> (SystemTime, usize) {
    let fractary = root.join(".fractary");
    let dirs = [
        fractary.join("helm/issues/active"),
        fractary.join("helm/issues/resolved"),
        fractary.join("helm/issues"),
        fractary.join("registry"),
        fractary.join("plugins/helm-cloud/watch"),
    ];
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut count = 0;
    let mut look = |dir: &Path, depth: u8| {
        fn walk(dir: &Path, depth: u8, newest: &mut SystemTime, count: &mut usize) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let Ok(m) = e.metadata() else { continue };
                if m.is_dir() {
                    if depth > 0 {
                        walk(&e.path(), depth - 1, newest, count);
                    }
                    continue;
                }
                *count += 1;
                if let Ok(t) = m.modified() {
                    *newest = (*newest).max(t);
                }
            }
        }
        walk(dir, depth, &mut newest, &mut count);
    };
    for d in &dirs {
        look(d, 0);
    }
    for sub in ["monitoring", "investigations", "audits", "remediations"] {
        look(&fractary.join("plugins/helm-cloud").join(sub), 1);
    }
    (newest, count)
}

async fn watch_files(app: Arc<App>) {
    let mut last = None;
    loop {
        let root = app.root.clone();
        let now = tokio::task::spawn_blocking(move || fingerprint(&root))
            .await
            .ok();
        if last.is_some() && now != last {
            let g = app.generation.fetch_add(1, Ordering::SeqCst) + 1;
            let _ = app.changes.send(g);
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn events(State(app): State<Arc<App>>) -> impl IntoResponse {
    let rx = app.changes.subscribe();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(g) => {
                    let e: Result<Event, std::convert::Infallible> =
                        Ok(Event::default().event("changed").data(g.to_string()));
                    return Some((e, rx));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

// ---------------------------------------------------------------------------------------
// Documents: built on a blocking thread with a context of their own, cached per generation.
// ---------------------------------------------------------------------------------------

type Built = (StatusCode, &'static str, Vec<u8>);

async fn cached(
    app: &Arc<App>,
    key: String,
    build: impl FnOnce(&Ctx, &[String]) -> Built + Send + 'static,
) -> Response {
    let g = app.generation.load(Ordering::SeqCst);
    if let Some((at, body)) = app.cache.lock().ok().and_then(|c| c.get(&key).cloned())
        && at == g
    {
        return respond(&body);
    }
    let (global, envs) = (app.global.clone(), app.envs.clone());
    let built = tokio::task::spawn_blocking(move || match Ctx::new(&global) {
        Ok(mut ctx) => {
            ctx.out.quiet = true;
            build(&ctx, &envs)
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            e.message.into_bytes(),
        ),
    })
    .await
    .unwrap_or_else(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            e.to_string().into_bytes(),
        )
    });
    let body = Arc::new(built);
    if let Ok(mut c) = app.cache.lock() {
        if c.len() > 2000 {
            c.clear();
        }
        c.insert(key, (g, Arc::clone(&body)));
    }
    respond(&body)
}

fn respond(b: &Built) -> Response {
    (
        b.0,
        [
            (header::CONTENT_TYPE, b.1),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        b.2.clone(),
    )
        .into_response()
}

fn json_doc(v: Result<Value, (StatusCode, String)>) -> Built {
    match v {
        Ok(v) => (
            StatusCode::OK,
            "application/json",
            serde_json::to_vec_pretty(&v).unwrap_or_default(),
        ),
        Err((code, why)) => (
            code,
            "application/json",
            serde_json::to_vec(&json!({"error": why})).unwrap_or_default(),
        ),
    }
}

fn page(title: &str, v: Result<Markup, (StatusCode, String)>) -> Built {
    match v {
        Ok(body) => (StatusCode::OK, "text/html; charset=utf-8", layout(title, body).into_string().into_bytes()),
        Err((code, why)) => (
            code,
            "text/html; charset=utf-8",
            layout("Not found", html! { h1 { "Not found" } p { (why) } p { a href="/" { "Back to the overview" } } })
                .into_string()
                .into_bytes(),
        ),
    }
}

fn not_found(why: &str) -> Response {
    let b = page("Not found", Err((StatusCode::NOT_FOUND, why.to_string())));
    respond(&b)
}

type Doc = Result<Value, (StatusCode, String)>;

fn missing(what: String) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, what)
}

fn failed(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// The board's reports: helm-cloud's own saved reports only (serve runs no command).
struct SavedReports<'a>(&'a Ctx);

impl DomainReports for SavedReports<'_> {
    async fn own_report(&self, env: &str) -> Option<Value> {
        board::latest_report(&self.0.paths.health_reports(env)).map(|(_, v)| v)
    }
    async fn external_report(&self, _command: &str, _env: &str) -> Result<Value, String> {
        Err("serve runs no domain command: `helm-cloud dashboard` does".into())
    }
}

/// `dashboard --format json`'s document, with each environment's SLO budgets (from the
/// watch state) and the recent remediations beside it.
fn dashboard_doc(ctx: &Ctx, envs: &[String]) -> Doc {
    let config = ctx.config().map_err(|e| failed(e.message))?;
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors()).map_err(failed)?;
    let settings = config.monitoring.settings();
    let q = BoardQuery {
        environments: envs.to_vec(),
        domain: None,
        own_domain: &settings.domain,
        interval: settings.health_check_interval,
        trusted: Err("serve runs no domain command".into()),
    };
    let store = crate::commands::health::issue_store(ctx, &config);
    let d = futures::executor::block_on(board::dashboard(
        &SavedReports(ctx),
        &store,
        monitors,
        &q,
        None,
        10,
        ctx.clock.now(),
    ))
    .map_err(|e| failed(crate::error::CliError::from(e).message))?;
    let mut doc = d.to_json();
    let mut slo = Vec::new();
    let mut remediations = Vec::new();
    for env in envs {
        if let Ok(s) = slo_doc(ctx, env) {
            slo.push(s);
        }
        for mut r in site::remediations(&history(ctx, env), 10) {
            r["environment"] = json!(env);
            remediations.push(r);
        }
    }
    remediations.sort_by(|a, b| b["timestamp"].as_str().cmp(&a["timestamp"].as_str()));
    remediations.truncate(10);
    doc["slo"] = json!(slo);
    doc["recent_remediations"] = json!(remediations);
    doc["environments"] = json!(envs);
    Ok(doc)
}

fn history(ctx: &Ctx, env: &str) -> PathBuf {
    ctx.paths
        .plugin_dir()
        .join("remediations")
        .join(env)
        .join("history.jsonl")
}

/// `slo --format json`'s document from the watch state: no AWS call; what no watch cycle
/// has read is listed as not evaluated.
fn slo_doc(ctx: &Ctx, env: &str) -> Doc {
    let config = ctx.config().map_err(|e| failed(e.message))?;
    config
        .environments
        .get(env)
        .map_err(|e| missing(e.to_string()))?;
    let view =
        crate::commands::targets::environment(ctx, &config, env).map_err(|e| failed(e.message))?;
    let (targets, _) = crate::commands::targets::targets(ctx, &config, &view, None)
        .map_err(|e| failed(e.message))?;
    let settings = config.monitoring.settings();
    let thresholds = |t: &monitor::check::Target| {
        Thresholds::for_resource(&config.monitoring, &t.resource, t.kind)
    };
    let req = helm_core::slo::report::SloRequest {
        environment: env,
        now: ctx.clock.now(),
        settings: &settings.slo,
        thresholds: &thresholds,
    };
    let state_path = ctx.paths.plugin_dir().join("watch/state.json");
    let state = std::fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<helm_core::watch::WatchState>(&b).ok())
        .unwrap_or_default();
    let cache = state
        .environments
        .get(env)
        .map(|e| e.slo.clone())
        .unwrap_or_default();
    let mut doc = helm_core::slo::report::from_cache(&targets, &req, &cache).to_json();
    doc["slo_report"]["source"] = json!("the watch state (no AWS call)");
    Ok(doc)
}

fn all_issues(ctx: &Ctx) -> Result<Vec<Issue>, (StatusCode, String)> {
    let config = ctx.config().map_err(|e| failed(e.message))?;
    let store = crate::commands::health::issue_store(ctx, &config);
    let mut v = store.active().map_err(failed)?;
    v.extend(store.resolved().map_err(failed)?);
    Ok(v)
}

fn resource_doc(ctx: &Ctx, env: &str, id: &str) -> Doc {
    if !site::safe_name(env) || !site::safe_name(id) {
        return Err(missing(format!("no resource {id:?} in {env:?}")));
    }
    let config = ctx.config().map_err(|e| failed(e.message))?;
    config
        .environments
        .get(env)
        .map_err(|e| missing(e.to_string()))?;
    let issues = all_issues(ctx)?;
    let slo = slo_doc(ctx, env).ok();
    let view =
        crate::commands::targets::environment(ctx, &config, env).map_err(|e| failed(e.message))?;
    let (targets, _) = crate::commands::targets::targets(ctx, &config, &view, None)
        .map_err(|e| failed(e.message))?;
    let th = targets
        .iter()
        .find(|t| t.resource.id == id)
        .map(|t| Thresholds::for_resource(&config.monitoring, &t.resource, t.kind));
    let slo_of = |k: &[&str]| {
        th.as_ref()
            .and_then(|t| k.iter().find_map(|k| t.slos.get(*k).copied()))
    };
    site::resource_page(&site::ResourceInputs {
        env,
        id,
        reports: &ctx.paths.health_reports(env),
        investigations: &ctx.paths.plugin_dir().join("investigations").join(env),
        history: &history(ctx, env),
        issues: &issues,
        slo: slo.as_ref(),
        error_rate_slo: slo_of(&["error_rate_percent"]),
        latency_slo_ms: slo_of(&["p95_latency_ms", "p95_response_time_ms"]),
    })
    .ok_or_else(|| missing(format!("no saved report or issue names {id} in {env}")))
}

#[derive(serde::Deserialize, Default)]
struct IssueQuery {
    severity: Option<String>,
    env: Option<String>,
    domain: Option<String>,
    status: Option<String>,
}

/// `issues --format json`'s document (active, by priority), or the resolved ones.
fn issues_doc(ctx: &Ctx, q: &IssueQuery) -> Doc {
    let config = ctx.config().map_err(|e| failed(e.message))?;
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors()).map_err(failed)?;
    let store = crate::commands::health::issue_store(ctx, &config);
    let severities = match q.severity.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => vec![
            helm_core::issues::Severity::parse(s)
                .ok_or_else(|| (StatusCode::BAD_REQUEST, format!("no severity {s:?}")))?,
        ],
        None => vec![],
    };
    let f = IssueFilter {
        severities,
        domain: q.domain.as_deref().filter(|d| !d.is_empty()),
        env: q.env.as_deref().filter(|e| !e.is_empty()),
        top: None,
    };
    if q.status.as_deref() == Some("resolved") {
        let resolved: Vec<Value> = store
            .resolved()
            .map_err(failed)?
            .into_iter()
            .filter(|i| {
                f.env.is_none_or(|e| i.environment == e) && f.domain.is_none_or(|d| i.domain == d)
            })
            .filter(|i| f.severities.is_empty() || f.severities.contains(&i.severity))
            .map(|i| serde_json::to_value(i).unwrap_or_default())
            .collect();
        return Ok(json!({"issues": resolved, "status": "resolved"}));
    }
    let (r, skipped) = board::ranked(&store, &monitors, &f, ctx.clock.now()).map_err(failed)?;
    let mut doc = json!({"issues": r.iter().map(issue_json).collect::<Vec<_>>()});
    if !skipped.is_empty() {
        doc["skipped_issue_files"] = json!(skipped.len());
    }
    Ok(doc)
}

fn issue_doc(ctx: &Ctx, id: &str) -> Doc {
    if !site::safe_name(id) {
        return Err(missing(format!("no issue {id:?}")));
    }
    let config = ctx.config().map_err(|e| failed(e.message))?;
    let store = crate::commands::health::issue_store(ctx, &config);
    let issue = store
        .get(id)
        .map_err(failed)?
        .ok_or_else(|| missing(format!("no issue {id}")))?;
    Ok(serde_json::to_value(issue).unwrap_or_default())
}

/// The folder of a document kind, if the kind and environment are ones the project has.
fn doc_dir(ctx: &Ctx, kind: &str, env: &str) -> Result<PathBuf, (StatusCode, String)> {
    let folder = match kind {
        "investigations" | "audits" => kind,
        _ => return Err(missing(format!("no document kind {kind:?}"))),
    };
    if !site::safe_name(env) {
        return Err(missing(format!("no environment {env:?}")));
    }
    Ok(ctx.paths.plugin_dir().join(folder).join(env))
}

/// A saved document (`.json`), only from its own folder: the name is a plain file name and
/// the resolved path must still be in the folder (no link out of it).
fn read_document(
    ctx: &Ctx,
    kind: &str,
    env: &str,
    file: &str,
) -> Result<(Value, Option<String>), (StatusCode, String)> {
    let dir = doc_dir(ctx, kind, env)?;
    let stem = file.strip_suffix(".json").unwrap_or(file);
    if !site::safe_name(stem) {
        return Err(missing(format!("no document {file:?}")));
    }
    let path = dir.join(format!("{stem}.json"));
    let (Ok(real), Ok(base)) = (path.canonicalize(), dir.canonicalize()) else {
        return Err(missing(format!("no document {file:?}")));
    };
    if !real.starts_with(&base) {
        return Err(missing(format!("no document {file:?}")));
    }
    let v = std::fs::read(&real)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| missing(format!("{file} is not a readable document")))?;
    let md = std::fs::read_to_string(real.with_extension("md")).ok();
    Ok((v, md))
}

// ---------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------

fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

async fn api_dashboard(State(app): State<Arc<App>>) -> Response {
    cached(&app, key(&["api", "dashboard"]), |ctx, envs| {
        json_doc(dashboard_doc(ctx, envs))
    })
    .await
}

async fn api_slo(State(app): State<Arc<App>>, UrlPath(env): UrlPath<String>) -> Response {
    cached(&app, key(&["api", "slo", &env]), move |ctx, envs| {
        if !envs.contains(&env) {
            return json_doc(Err(missing(format!("no environment {env:?} served"))));
        }
        json_doc(slo_doc(ctx, &env))
    })
    .await
}

async fn api_resource(
    State(app): State<Arc<App>>,
    UrlPath((env, id)): UrlPath<(String, String)>,
) -> Response {
    cached(&app, key(&["api", "res", &env, &id]), move |ctx, _| {
        json_doc(resource_doc(ctx, &env, &id))
    })
    .await
}

async fn api_issues(State(app): State<Arc<App>>, Query(q): Query<IssueQuery>) -> Response {
    let k = key(&[
        "api",
        "issues",
        q.severity.as_deref().unwrap_or(""),
        q.env.as_deref().unwrap_or(""),
        q.domain.as_deref().unwrap_or(""),
        q.status.as_deref().unwrap_or(""),
    ]);
    cached(&app, k, move |ctx, _| json_doc(issues_doc(ctx, &q))).await
}

async fn api_issue(State(app): State<Arc<App>>, UrlPath(id): UrlPath<String>) -> Response {
    cached(&app, key(&["api", "issue", &id]), move |ctx, _| {
        json_doc(issue_doc(ctx, &id))
    })
    .await
}

async fn api_documents(
    State(app): State<Arc<App>>,
    UrlPath((kind, env)): UrlPath<(String, String)>,
) -> Response {
    cached(&app, key(&["api", "docs", &kind, &env]), move |ctx, _| {
        json_doc(doc_dir(ctx, &kind, &env).map(|d| json!({"documents": site::documents(&d, 200)})))
    })
    .await
}

async fn api_document(
    State(app): State<Arc<App>>,
    UrlPath((kind, env, file)): UrlPath<(String, String, String)>,
) -> Response {
    cached(
        &app,
        key(&["api", "doc", &kind, &env, &file]),
        move |ctx, _| json_doc(read_document(ctx, &kind, &env, &file).map(|(v, _)| v)),
    )
    .await
}

async fn overview(State(app): State<Arc<App>>) -> Response {
    cached(&app, key(&["page", "overview"]), |ctx, envs| {
        page(
            "Helm",
            dashboard_doc(ctx, envs).map(|d| render_overview(&d)),
        )
    })
    .await
}

async fn resource(
    State(app): State<Arc<App>>,
    UrlPath((env, id)): UrlPath<(String, String)>,
) -> Response {
    cached(&app, key(&["page", "res", &env, &id]), move |ctx, _| {
        page(
            &format!("{id} · {env}"),
            resource_doc(ctx, &env, &id).map(|d| render_resource(&d)),
        )
    })
    .await
}

async fn issues(State(app): State<Arc<App>>, Query(q): Query<IssueQuery>) -> Response {
    let k = key(&[
        "page",
        "issues",
        q.severity.as_deref().unwrap_or(""),
        q.env.as_deref().unwrap_or(""),
        q.domain.as_deref().unwrap_or(""),
        q.status.as_deref().unwrap_or(""),
    ]);
    cached(&app, k, move |ctx, envs| {
        let doc = issues_doc(ctx, &q);
        page("Issues", doc.map(|d| render_issues(&d, &q, envs)))
    })
    .await
}

async fn issue(State(app): State<Arc<App>>, UrlPath(id): UrlPath<String>) -> Response {
    cached(&app, key(&["page", "issue", &id]), move |ctx, _| {
        page(&id, issue_doc(ctx, &id).map(|d| render_issue(&d)))
    })
    .await
}

async fn documents(
    State(app): State<Arc<App>>,
    UrlPath((kind, env)): UrlPath<(String, String)>,
) -> Response {
    cached(&app, key(&["page", "docs", &kind, &env]), move |ctx, _| {
        let list = doc_dir(ctx, &kind, &env).map(|d| site::documents(&d, 200));
        page(
            &format!("{kind} · {env}"),
            list.map(|l| render_documents(&kind, &env, &l)),
        )
    })
    .await
}

async fn document(
    State(app): State<Arc<App>>,
    UrlPath((kind, env, file)): UrlPath<(String, String, String)>,
) -> Response {
    cached(
        &app,
        key(&["page", "doc", &kind, &env, &file]),
        move |ctx, _| {
            page(
                &file,
                read_document(ctx, &kind, &env, &file)
                    .map(|(v, md)| render_document(&file, &v, md.as_deref())),
            )
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · helm-cloud" }
                link rel="stylesheet" href="/assets/app.css";
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
            }
            body {
                nav {
                    a.brand href="/" { "⎈ helm-cloud" }
                    a href="/" { "Overview" }
                    a href="/issues" { "Issues" }
                    a href="/issues?status=resolved" { "Resolved" }
                    span #live title="updates when a report is written" { "live" }
                }
                main #main { (body) }
                script src="/assets/app.js" {}
            }
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn status_class(status: &str) -> &'static str {
    match status.to_ascii_uppercase().as_str() {
        "HEALTHY" | "OK" | "PASS" => "ok",
        "DEGRADED" | "WARNING" | "TICKET" => "warn",
        "UNHEALTHY" | "CRITICAL" | "BREACHED" | "PAGE" => "bad",
        _ => "unknown",
    }
}

fn sev_class(sev: &str) -> &'static str {
    match sev.to_ascii_uppercase().as_str() {
        "CRITICAL" => "sev-critical",
        "HIGH" => "sev-high",
        "MEDIUM" => "sev-medium",
        _ => "sev-low",
    }
}

fn render_overview(d: &Value) -> Markup {
    let b = &d["dashboard"];
    let overall = s(&b["overall_health"]);
    html! {
        h1 { "Helm " span class={"pill " (status_class(overall))} data-testid="overall" { (overall) } }
        p.muted { "Generated " (s(&b["generated_at"])) " from the project's files; no AWS call." }
        section {
            h2 { "Domains and environments" }
            div.tiles {
                @for t in b["domain_environments"].as_array().into_iter().flatten() {
                    div class={"tile " (status_class(s(&t["health"])))} data-testid="tile" {
                        div.tile-title { (s(&t["domain"])) " / " (s(&t["environment"])) }
                        div.tile-status { (s(&t["health"])) }
                        div.muted {
                            @if let Some(age) = t["report_age_hours"].as_f64() { "report " (fmt_age(age)) " old" } @else { "no report" }
                            @if t["stale"] == true { " · " span.stale { "stale" } }
                        }
                        @if let Some(r) = t["reason"].as_str() { div.muted { (r) } }
                        @if let Some(n) = t["resources"].as_object() {
                            div.muted { @for (k, v) in n { (k) " " (v) " " } }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Error budgets" }
            @let objectives: Vec<(&Value, &Value)> = d["slo"].as_array().into_iter().flatten()
                .flat_map(|e| e["slo_report"]["objectives"].as_array().into_iter().flatten().map(move |o| (e, o))).collect();
            @if objectives.is_empty() {
                p.muted { "No budget yet: `helm-cloud watch` reads the objectives and keeps their buckets." }
            }
            @for (e, o) in &objectives {
                @let rem = o["budget"]["remaining_percent"].as_f64().unwrap_or(0.0);
                div.budget data-testid="budget" {
                    a href={"/resources/" (s(&e["slo_report"]["environment"])) "/" (s(&o["resource"]))} { (s(&o["resource"])) }
                    " " (s(&o["objective"])) " · " (s(&e["slo_report"]["environment"]))
                    (bar(rem, s(&o["budget"]["status"])))
                    span.muted { (format!("{rem:.1}% left · target {}%", o["target_percent"])) " · alert " (s(&o["alert"])) }
                }
            }
            @for e in d["slo"].as_array().into_iter().flatten() {
                @for n in e["slo_report"]["not_evaluated"].as_array().into_iter().flatten() {
                    div.muted { (s(&n["resource"])) " " (s(&n["objective"])) ": not evaluated (" (s(&n["reason"])) ")" }
                }
            }
        }
        section {
            h2 { "Top issues" }
            (issue_table(b["top_issues"].as_array().map(Vec::as_slice).unwrap_or_default()))
            p { a href="/issues" { "All active issues" } }
        }
        section {
            h2 { "Resolved in the last 24 hours" }
            @let res = b["recently_resolved"].as_array().cloned().unwrap_or_default();
            @if res.is_empty() { p.muted { "None." } }
            ul { @for r in &res { li { a href={"/issues/" (s(&r["id"]))} { (s(&r["id"])) } " " (s(&r["title"])) " · " (s(&r["environment"])) " · " (s(&r["resolved_at"])) } } }
        }
        section {
            h2 { "Recent remediations" }
            @let rem = d["recent_remediations"].as_array().cloned().unwrap_or_default();
            @if rem.is_empty() { p.muted { "None." } }
            table { tbody { @for r in &rem { tr {
                td { (s(&r["timestamp"])) } td { (s(&r["environment"])) } td { (s(&r["action"])) }
                td { a href={"/resources/" (s(&r["environment"])) "/" (s(&r["target"]["id"]))} { (s(&r["target"]["id"])) } }
                td { (s(&r["decision"])) } td.muted { (s(&r["reason"])) }
            } } } }
        }
        section {
            h2 { "Documents" }
            ul { @for e in d["environments"].as_array().into_iter().flatten() {
                li { (s(e)) ": " a href={"/documents/investigations/" (s(e))} { "investigations" } " · " a href={"/documents/audits/" (s(e))} { "audits" } }
            } }
        }
    }
}

fn fmt_age(hours: f64) -> String {
    if hours < 1.0 {
        format!("{}m", (hours * 60.0).round())
    } else if hours < 48.0 {
        format!("{:.1}h", hours)
    } else {
        format!("{:.0}d", hours / 24.0)
    }
}

/// A budget bar: the part left, on a fixed scale (0 to 100%).
fn bar(remaining: f64, status: &str) -> Markup {
    let w = remaining.clamp(0.0, 100.0);
    html! {
        svg.bar width="200" height="12" viewBox="0 0 200 12" role="img" aria-label={(format!("{remaining:.1}% of the error budget left"))} {
            rect x="0" y="0" width="200" height="12" class="bar-bg" {}
            rect x="0" y="0" width=(format!("{:.1}", w * 2.0)) height="12" class={"bar-fill " (status_class(status))} {}
        }
    }
}

fn issue_table(issues: &[Value]) -> Markup {
    html! {
        @if issues.is_empty() { p.muted { "No active issues." } }
        @else {
            table data-testid="issues" {
                thead { tr { th { "Severity" } th { "Issue" } th { "Environment" } th { "Resources" } th { "Age" } th { "Next" } } }
                tbody {
                    @for i in issues {
                        tr data-testid="issue-row" {
                            td { span class={"sev " (sev_class(s(&i["severity"])))} { (s(&i["severity"])) } }
                            td { a href={"/issues/" (s(&i["id"]))} { (s(&i["id"])) } " " (s(&i["title"])) }
                            td { (s(&i["environment"])) }
                            td { @for r in i["affected_resources"].as_array().into_iter().flatten() {
                                a href={"/resources/" (s(&i["environment"])) "/" (s(r))} { (s(r)) } " "
                            } }
                            td { @if let Some(m) = i["age_minutes"].as_i64() { (fmt_age(m as f64 / 60.0)) } }
                            td { code { (s(&i["command"])) } }
                        }
                    }
                }
            }
        }
    }
}

/// A line chart of `points` (x: index, y: value) with an optional reference line (the
/// objective, or the budget's zero), scaled to take in both.
fn chart(
    title: &str,
    unit: &str,
    points: &[Option<f64>],
    reference: Option<(f64, &str)>,
    testid: &str,
) -> Markup {
    let (w, h, pad) = (600.0, 160.0, 24.0);
    let vals: Vec<f64> = points
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let refv = reference.map(|r| r.0);
    let hi = vals.iter().copied().chain(refv).fold(0.0_f64, f64::max);
    let lo = vals.iter().copied().chain(refv).fold(0.0_f64, f64::min);
    let span = (hi - lo).max(1e-9) * 1.1;
    let (lo, hi) = (if lo < 0.0 { lo - (hi - lo) * 0.05 } else { lo }, lo + span);
    let n = points.len().max(2) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (n - 1.0);
    let y = |v: f64| h - pad - (h - 2.0 * pad) * ((v - lo) / (hi - lo));
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.filter(|v| v.is_finite())
                .map(|v| format!("{:.1},{:.1}", x(i), y(v)))
        })
        .collect();
    let tick = |v: f64| {
        if v.abs() >= 100.0 {
            format!("{v:.0}{unit}")
        } else {
            format!("{v:.2}{unit}")
        }
    };
    html! {
        figure.chart data-testid=(testid) {
            figcaption { (title) @if let Some((v, label)) = reference { span.muted { " · " (label) " " (tick(v)) } } }
            svg width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(title) {
                line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) class="axis" {}
                text x="2" y="12" class="tick" { (tick(hi)) }
                text x="2" y=(format!("{:.0}", h - 4.0)) class="tick" { (tick(lo)) }
                @if let Some((v, _)) = reference {
                    line x1=(pad) y1=(format!("{:.1}", y(v))) x2=(w - pad) y2=(format!("{:.1}", y(v))) class="slo-line" data-testid="slo-line" {}
                }
                @if vals.is_empty() {
                    text x=(w / 2.0 - 60.0) y=(h / 2.0) class="tick" { "no data in the saved reports" }
                } @else {
                    polyline points=(line.join(" ")) class="series" {}
                    @for (i, v) in points.iter().enumerate() { @if let Some(v) = v.filter(|v| v.is_finite()) {
                        circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(v))) r="2.5" class="dot" {}
                    } }
                }
            }
        }
    }
}

fn render_resource(d: &Value) -> Markup {
    let r = &d["resource"];
    let hist = d["history"].as_array().cloned().unwrap_or_default();
    let num = |k: &str| hist.iter().map(|p| p[k].as_f64()).collect::<Vec<_>>();
    html! {
        h1 { (s(&r["id"])) " " span class={"pill " (status_class(s(&r["status"])))} data-testid="resource-status" { (s(&r["status"])) } }
        p.muted { (s(&r["type"])) " · " (s(&r["environment"])) " · " (s(&r["name"])) " · " code { (s(&r["arn"])) } }
        @for why in r["reasons"].as_array().into_iter().flatten() { p { (s(why)) } }
        section {
            h2 { "Health over time" }
            div.timeline data-testid="health-history" {
                @for p in &hist {
                    span class={"cell " (status_class(s(&p["status"])))} title={(s(&p["at"])) " " (s(&p["status"]))} {}
                }
            }
            p.muted { (hist.len()) " saved reports" @if let (Some(a), Some(b)) = (hist.first(), hist.last()) { ", " (s(&a["at"])) " to " (s(&b["at"])) } }
            (chart("Error rate", "%", &num("error_rate_percent"), d["slo_lines"]["error_rate_percent"].as_f64().map(|v| (v, "objective")), "chart-error-rate"))
            (chart("p95 latency", "ms", &num("latency_p95_ms"), d["slo_lines"]["latency_p95_ms"].as_f64().map(|v| (v, "objective")), "chart-latency"))
        }
        section {
            h2 { "Error budget" }
            @let objectives = d["objectives"].as_array().cloned().unwrap_or_default();
            @if objectives.is_empty() { p.muted { "No budget read yet for this resource (run `helm-cloud watch`)." } }
            @for o in &objectives {
                @let line: Vec<Option<f64>> = o["remaining_percent_over_period"].as_array().into_iter().flatten().map(Value::as_f64).collect();
                (chart(&format!("{} budget left over the period", s(&o["objective"])), "%", &line, Some((0.0, "spent at")), "chart-burn-down"))
            }
        }
        section {
            h2 { "Alarms" }
            @let alarms = d["alarms"].as_array().cloned().unwrap_or_default();
            @if alarms.is_empty() { p.muted { "No alarm in the latest report." } }
            ul { @for a in &alarms { li { (a.as_str().map(str::to_string).unwrap_or_else(|| a.to_string())) } } }
        }
        section {
            h2 { "Issues" }
            @let issues = d["issues"].as_array().cloned().unwrap_or_default();
            @if issues.is_empty() { p.muted { "None." } }
            ul { @for i in &issues { li { span class={"sev " (sev_class(s(&i["severity"])))} { (s(&i["severity"])) } " " a href={"/issues/" (s(&i["id"]))} { (s(&i["id"])) } " " (s(&i["title"])) " · " (s(&i["status"])) } } }
        }
        section {
            h2 { "Last investigation" }
            @match d["investigation"].as_object() {
                Some(inv) => p { a href={"/documents/investigations/" (s(&r["environment"])) "/" (inv.get("file").and_then(Value::as_str).unwrap_or_default())} { (inv.get("file").and_then(Value::as_str).unwrap_or_default()) } " " (inv.get("root_cause").map(|v| v["summary"].as_str().unwrap_or_default().to_string()).unwrap_or_default()) },
                None => p.muted { "None." },
            }
        }
        section {
            h2 { "Remediations" }
            @let rem = d["remediations"].as_array().cloned().unwrap_or_default();
            @if rem.is_empty() { p.muted { "None." } }
            table { tbody { @for x in &rem { tr { td { (s(&x["timestamp"])) } td { (s(&x["action"])) } td { (s(&x["decision"])) } td.muted { (s(&x["reason"])) } } } } }
        }
        p { a href={"/api/resources/" (s(&r["environment"])) "/" (s(&r["id"]))} { "JSON" } }
    }
}

fn render_issues(d: &Value, q: &IssueQuery, envs: &[String]) -> Markup {
    let list = d["issues"].as_array().cloned().unwrap_or_default();
    let resolved = q.status.as_deref() == Some("resolved");
    html! {
        h1 { @if resolved { "Resolved issues" } @else { "Active issues" } }
        form.filters method="get" action="/issues" {
            @if resolved { input type="hidden" name="status" value="resolved"; }
            label { "Severity " select name="severity" {
                option value="" { "any" }
                @for sev in ["CRITICAL", "HIGH", "MEDIUM", "LOW"] { option value=(sev) selected[q.severity.as_deref() == Some(sev)] { (sev) } }
            } }
            label { " Environment " select name="env" {
                option value="" { "any" }
                @for e in envs { option value=(e) selected[q.env.as_deref() == Some(e.as_str())] { (e) } }
            } }
            label { " Domain " input type="text" name="domain" value=(q.domain.clone().unwrap_or_default()); }
            button type="submit" { "Filter" }
        }
        (issue_table(&list))
        p { a href="/api/issues" { "JSON" } }
    }
}

fn render_issue(i: &Value) -> Markup {
    html! {
        h1 { span class={"sev " (sev_class(s(&i["severity"])))} { (s(&i["severity"])) } " " (s(&i["id"])) " " (s(&i["title"])) }
        p { (s(&i["description"])) }
        p.muted { (s(&i["environment"])) " · " (s(&i["domain"])) " · status " (s(&i["status"])) " · detected " (s(&i["detected_at"]))
            @if let Some(w) = i["work_item_id"].as_str() {
                " · escalated as "
                @if w.starts_with("https://") || w.starts_with("http://") { a href=(w) rel="noreferrer" { (w) } } @else { (w) }
            } }
        p { "Resources: " @for r in i["affected_resources"].as_array().into_iter().flatten() {
            a href={"/resources/" (s(&i["environment"])) "/" (s(r))} { (s(r)) } " " } }
        h2 { "Timeline" }
        ol.timeline-list data-testid="issue-timeline" {
            @for h in i["history"].as_array().into_iter().flatten() {
                li { span.muted { (s(&h["at"])) } " " b { (s(&h["event"])) } " " (s(&h["detail"])) }
            }
        }
        p { a href={"/api/issues/" (s(&i["id"]))} { "JSON" } }
    }
}

fn render_documents(kind: &str, env: &str, list: &[Value]) -> Markup {
    html! {
        h1 { (kind) " · " (env) }
        @if list.is_empty() { p.muted { "None saved yet." } }
        ul { @for d in list { li { a href={"/documents/" (kind) "/" (env) "/" (s(&d["file"]))} { (s(&d["file"])) } " " span.muted { (s(&d["summary"])) } } } }
    }
}

fn render_document(file: &str, v: &Value, md: Option<&str>) -> Markup {
    html! {
        h1 { (file) }
        @match md {
            Some(md) => article.markdown { (markdown(md)) },
            None => pre { (serde_json::to_string_pretty(v).unwrap_or_default()) },
        }
        details { summary { "JSON" } pre { (serde_json::to_string_pretty(v).unwrap_or_default()) } }
    }
}

/// The Markdown our reports are written in: headings, lists, tables, code blocks,
/// paragraphs, `code` and **bold**; every character of the text escaped.
fn markdown(md: &str) -> Markup {
    let mut out = String::new();
    let mut lines = md.lines().peekable();
    let esc = |t: &str| maud::html! { (t) }.into_string();
    let inline = |t: &str| {
        let mut r = String::new();
        for (i, part) in t.split('`').enumerate() {
            if i % 2 == 1 {
                r.push_str(&format!("<code>{}</code>", esc(part)));
            } else {
                for (j, b) in part.split("**").enumerate() {
                    if j % 2 == 1 {
                        r.push_str(&format!("<strong>{}</strong>", esc(b)));
                    } else {
                        r.push_str(&esc(b));
                    }
                }
            }
        }
        r
    };
    while let Some(line) = lines.next() {
        let t = line.trim_end();
        if t.starts_with("```") {
            out.push_str("<pre>");
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                out.push_str(&esc(l));
                out.push('\n');
            }
            out.push_str("</pre>");
        } else if let Some(h) = t.strip_prefix('#') {
            let level = 1 + h.chars().take_while(|c| *c == '#').count().min(4);
            out.push_str(&format!(
                "<h{level}>{}</h{level}>",
                inline(h.trim_start_matches('#').trim())
            ));
        } else if t.starts_with("- ") || t.starts_with("* ") {
            out.push_str("<ul>");
            out.push_str(&format!("<li>{}</li>", inline(&t[2..])));
            while let Some(n) = lines
                .peek()
                .map(|l| l.trim_end())
                .filter(|l| l.starts_with("- ") || l.starts_with("* "))
            {
                out.push_str(&format!("<li>{}</li>", inline(&n[2..])));
                lines.next();
            }
            out.push_str("</ul>");
        } else if t.starts_with('|') {
            out.push_str("<table>");
            let row = |l: &str| {
                let cells: Vec<String> = l
                    .trim()
                    .trim_matches('|')
                    .split('|')
                    .map(|c| format!("<td>{}</td>", inline(c.trim())))
                    .collect();
                format!("<tr>{}</tr>", cells.join(""))
            };
            out.push_str(&row(t));
            while let Some(n) = lines
                .peek()
                .map(|l| l.trim_end())
                .filter(|l| l.starts_with('|'))
            {
                if !n.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
                    out.push_str(&row(n));
                }
                lines.next();
            }
            out.push_str("</table>");
        } else if !t.is_empty() {
            out.push_str(&format!("<p>{}</p>", inline(t)));
        }
    }
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_beyond_loopback_needs_a_token() {
        assert!(check_listen("127.0.0.1:0", None).is_ok());
        assert!(check_listen("[::1]:0", None).is_ok());
        let e = check_listen("0.0.0.0:8080", None).unwrap_err();
        assert_eq!(e.code, EXIT_USAGE);
        assert!(e.message.contains("not a loopback address"));
        assert!(
            check_listen("localhost:8080", None).is_err(),
            "a name is not an address"
        );
        assert!(check_listen("0.0.0.0:8080", Some("HELM_TEST_NO_SUCH_VARIABLE")).is_err());
    }

    #[test]
    fn markdown_escapes_every_character_of_the_text() {
        let html = markdown("# Title <script>\n\n- **bold** `<b>`\n| a | <i> |\n|---|---|\n| 1 | 2 |\n```\n<script>alert(1)</script>\n```\ntext & more").into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("<h1>Title &lt;script&gt;</h1>"));
        assert!(html.contains("<li><strong>bold</strong> <code>&lt;b&gt;</code></li>"));
        assert!(html.contains("<td>&lt;i&gt;</td>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<p>text &amp; more</p>"));
        assert_eq!(
            html.matches("<tr>").count(),
            2,
            "the separator row is no row"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_eq(b"abc", b"abc"));
        assert!(!constant_eq(b"abc", b"abd"));
        assert!(!constant_eq(b"abc", b"abcd"));
    }
}
