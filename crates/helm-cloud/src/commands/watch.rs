//! `helm-cloud watch`: the Helm loop. Each cycle runs helm-core's `watch::cycle` for every
//! environment (health, issues, SLOs on the buckets not yet read, escalations), saves the
//! state, and updates `/metrics`. One watch per project root; SIGINT and SIGTERM finish
//! the cycle, save the state and exit 0.
//!
//! With `[state] backend = "s3"` replicas on several machines share one lease
//! (helm-core's `state::lease`): the holder runs cycles and renews it every third of its
//! length, the others stand by and take over once it has expired; the watch state is one
//! object written on the version read, so a replica that lost the lease cannot overwrite
//! its successor's.

use super::{central, health::issue_store, targets};
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_TEMPFAIL, EXIT_UNAVAILABLE};
use crate::exporter::{self, Metrics};
use helm_core::central::DomainMonitors;
use helm_core::config::duration;
use helm_core::fsutil::FileLock;
use helm_core::issues::Severity;
use helm_core::state::lease::{self, Attempt, Held, Terms};
use helm_core::state::{Cond, ObjectStore, Written, session};
use helm_core::watch::{self, CycleWorld, WatchState};
use helm_services::tracker::Tracker;
use prometheus_client::registry::Registry;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct WatchArgs<'a> {
    pub envs: Vec<String>,
    pub interval: Option<&'a str>,
    pub cycles: Option<u64>,
    pub once: bool,
    pub listen: Option<&'a str>,
    pub no_remediate: bool,
    pub no_notify: bool,
}

pub async fn run(ctx: &Ctx, a: WatchArgs<'_>) -> CliResult {
    let config = ctx.config()?;
    let settings = config.monitoring.settings();
    let envs: Vec<String> = if a.envs.is_empty() {
        let configured = config.environments.names();
        let mine: Vec<String> = settings
            .environments
            .iter()
            .filter(|e| configured.contains(&e.as_str()))
            .cloned()
            .collect();
        if mine.is_empty() {
            vec!["test".into()]
        } else {
            mine
        }
    } else {
        a.envs.clone()
    };
    for e in &envs {
        ctx.check_env(&config, e)?;
    }
    let interval = match a.interval {
        Some(i) => duration::parse(i).map_err(|e| {
            CliError::usage(format!("--interval: {e}")).hint("write it as 30s, 5m or 1h")
        })?,
        None => settings.health_check_interval,
    };
    let cycles = if a.once { Some(1) } else { a.cycles };
    if cycles == Some(0) {
        return Err(CliError::usage("--cycles 0 runs nothing").hint("pass 1 or more, or --once"));
    }
    let dir = ctx.paths.plugin_dir().join("watch");
    let state_path = dir.join("state.json");
    let shared = settings.state.s3.clone();
    // Local: one watch per project root, held by a file lock, its state a file.
    let mut local: Option<(FileLock, WatchState)> = None;
    if shared.is_none() {
        let Some(lock) = FileLock::try_acquire(&dir.join("watch"))? else {
            return Err(CliError::new(
                EXIT_TEMPFAIL,
                format!(
                    "another watch runs on this project ({} is held)",
                    ctx.show_path(&helm_core::fsutil::lock_path(&dir.join("watch")))
                ),
            )
            .hint("stop it first: one watch per project root (or share a lease: [state] backend = \"s3\")"));
        };
        let (state, warning) = WatchState::load(&state_path, ctx.clock.now())?;
        if let Some(w) = warning {
            ctx.out.warn(&w);
        }
        local = Some((lock, state));
    }

    // SIGINT / SIGTERM: finish the cycle, save, exit 0.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| CliError::new(70, format!("installing the signal handler: {e}")))?;
    }

    let metrics = Metrics::default();
    let registry = Metrics::registry(&metrics);
    let scraped = Arc::new(Mutex::new(exporter::render(&registry)));
    if let Some(addr) = a.listen {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| {
            CliError::usage(format!("--listen {addr}: {e}"))
                .hint("name a free address, such as 127.0.0.1:9464")
        })?;
        ctx.out.warn_plain(&format!(
            "serving /metrics and /healthz on http://{}",
            listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| addr.into())
        ));
        exporter::serve(listener, Arc::clone(&scraped));
    }
    let (requests, retries, errors) = (
        metrics.aws_requests.clone(),
        metrics.aws_retries.clone(),
        metrics.aws_errors.clone(),
    );
    let count_call = move |c: &helm_aws::CallRecord| {
        let labels = exporter::CallLabels {
            service: c.service.clone(),
            operation: c.operation.clone(),
        };
        requests.get_or_create(&labels).inc();
        if c.attempts > 1 {
            retries
                .get_or_create(&labels)
                .inc_by(u64::from(c.attempts - 1));
        }
        if !c.ok {
            errors.get_or_create(&labels).inc();
        }
    };
    let count_call: Arc<dyn Fn(&helm_aws::CallRecord) + Send + Sync> = Arc::new(count_call);

    if shared.is_some() {
        // The working copy as the team has it, before the domains are read.
        super::state::shared(ctx, async { Ok(0) }).await?;
    }
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let store = issue_store(ctx, &config);
    let tracker = central::tracker(ctx, &config);
    let lp = Loop {
        ctx,
        config: &config,
        envs: &envs,
        no_remediate: a.no_remediate,
        no_notify: a.no_notify,
        metrics: &metrics,
        registry: &registry,
        scraped: &scraped,
        count_call: &count_call,
        monitors: &monitors,
        store: &store,
        tracker: &tracker,
    };
    match (local, shared) {
        (Some((_lock, mut state)), _) => {
            let mut last_code;
            let mut n = 0u64;
            loop {
                n += 1;
                last_code = lp.cycle(n, &mut state).await;
                state.save(&state_path)?;
                if stop.load(Ordering::SeqCst) || cycles.is_some_and(|c| n >= c) {
                    break;
                }
                if !pause(interval, &stop).await {
                    break;
                }
            }
            if stop.load(Ordering::SeqCst) {
                ctx.out
                    .warn_plain(&format!("stopped after cycle {n}; state saved"));
                return Ok(0);
            }
            Ok(last_code)
        }
        (None, Some(s3)) => {
            let bucket = super::state::s3_store(ctx, &config, &s3).await?;
            shared_loop(
                &lp,
                &bucket,
                Terms::new(settings.state.lease),
                interval,
                cycles,
                &stop,
            )
            .await
        }
        (None, None) => unreachable!("local mode always holds its lock"),
    }
}

/// Waits `d`, in steps, until it has passed (true) or a signal came (false).
async fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(100).min(d)).await;
    }
    !stop.load(Ordering::SeqCst)
}

/// What every cycle needs, whichever mode runs it.
struct Loop<'a> {
    ctx: &'a Ctx,
    config: &'a helm_core::config::Config,
    envs: &'a [String],
    no_remediate: bool,
    no_notify: bool,
    metrics: &'a Metrics,
    registry: &'a Registry,
    scraped: &'a Arc<Mutex<String>>,
    count_call: &'a Arc<dyn Fn(&helm_aws::CallRecord) + Send + Sync>,
    monitors: &'a DomainMonitors,
    store: &'a helm_core::issues::IssueStore,
    tracker: &'a Tracker,
}

impl Loop<'_> {
    /// One cycle of every environment, numbered `n`: returns the exit code of the worst
    /// environment (69 when none could be checked). The caller saves the state.
    async fn cycle(&self, n: u64, state: &mut WatchState) -> u8 {
        let (ctx, config, metrics) = (self.ctx, self.config, self.metrics);
        let (store, tracker, monitors) = (self.store, self.tracker, self.monitors);
        let started = Instant::now();
        let now = ctx.clock.now();
        let mut worst: Option<u8> = None;
        for env in self.envs {
            let outcome = async {
                let view = targets::environment(ctx, config, env)?;
                let (tgts, skipped) = targets::targets(ctx, config, &view, None)?;
                let mut cs = ctx.client_settings(config, env)?;
                let printer = cs.call_sink.take();
                let counter = Arc::clone(self.count_call);
                cs.call_sink = Some(Arc::new(move |c: &helm_aws::CallRecord| {
                    counter(c);
                    if let Some(p) = &printer {
                        p(c);
                    }
                }));
                let clients = helm_aws::fanout::FanOut::new(
                    helm_aws::AwsClients::new(cs).await,
                    &config.environments.get(env)?.accounts,
                    usize::from(ctx.global.concurrency),
                    &ctx.roles,
                )
                .await;
                for (account, why) in clients.unreachable() {
                    ctx.out.warn(&format!(
                        "account {account} of {env} could not be reached ({why}): its resources are UNKNOWN"
                    ));
                }
                let world = CycleWorld {
                    observer: &clients,
                    remediate: !self.no_remediate,
                    plugin_dir: ctx.paths.plugin_dir(),
                    tracker,
                    store,
                    monitors,
                    monitoring: &config.monitoring,
                    reports_dir: ctx.paths.health_reports(env),
                    checkpoint: &ctx.checkpoint,
                };
                let requires = config.environments.get(env)?.requires_confirmation;
                let es = state.environments.entry(env.clone()).or_default();
                Ok::<_, CliError>(
                    watch::cycle(&world, env, &tgts, skipped, requires, now, es).await?,
                )
            }
            .await;
            match outcome {
                Ok(c) => {
                    let code = c.health.overall_health.exit_code();
                    worst = Some(worst.map_or(code, |w| w.max(code)));
                    metrics.record(env, &c);
                    let mut alerts: Vec<String> = c
                        .slo
                        .objectives
                        .iter()
                        .filter(|o| o.alert != helm_core::slo::budget::AlertState::Ok)
                        .map(|o| format!("{} {} {}", o.alert.as_str(), o.resource, o.objective))
                        .collect();
                    // A line a person can read: the first five, and how many more
                    // (`slo --format json` and /metrics have them all).
                    if alerts.len() > 5 {
                        let more = alerts.len() - 5;
                        alerts.truncate(5);
                        alerts.push(format!("and {more} more"));
                    }
                    ctx.out.text(&format!(
                        "cycle {n} {env}: {} ({} resources; SLO read: {} queries, {} datapoints, {:.2}s){}{}",
                        c.health.overall_health.as_str(),
                        c.health.results.len(),
                        c.slo.queries,
                        c.slo.datapoints_requested,
                        c.slo_seconds,
                        if alerts.is_empty() {
                            ", SLOs ok".to_string()
                        } else {
                            format!(", SLO alerts: {}", alerts.join("; "))
                        },
                        c.escalated
                            .iter()
                            .map(|(e, t)| format!(", escalated {} ({}) as {}", e.issue_id, t.as_str(), e.work_item.id))
                            .collect::<String>()
                    ));
                    for (issue, action, said) in &c.remediated {
                        ctx.out
                            .text(&format!("  remediated {issue} with {action}: {said}"));
                        if !self.no_notify {
                            let outcome = format!("{action} by watch: {said}");
                            super::notify::remediated(ctx, config, issue, &outcome);
                        }
                    }
                    for note in &c.notes {
                        ctx.out.warn(note);
                    }
                    // What changed first (an issue is heard opened), then its escalation.
                    let reports = [(env.clone(), c.health.report_path.clone())].into();
                    let _ = super::notify::after_issues(
                        ctx,
                        config,
                        std::slice::from_ref(env),
                        reports,
                        !self.no_notify,
                    );
                    for (e, _) in &c.escalated {
                        if !self.no_notify {
                            super::notify::escalated(ctx, config, &e.issue_id, None);
                        }
                    }
                }
                Err(e) => {
                    // A failed cycle is said and counted; the loop goes on.
                    metrics.cycle_failures.inc();
                    ctx.out
                        .warn(&format!("cycle {n} {env} failed: {}", e.message));
                }
            }
        }
        state.cycles += 1;
        metrics.cycles.inc();
        metrics.cycle_seconds.set(started.elapsed().as_secs_f64());
        if let Ok(active) = store.active() {
            for s in [
                Severity::Critical,
                Severity::High,
                Severity::Medium,
                Severity::Low,
            ] {
                let count = active.iter().filter(|i| i.severity == s).count();
                metrics
                    .issues_active
                    .get_or_create(&exporter::SeverityLabels {
                        severity: s.as_str().into(),
                    })
                    .set(count as i64);
            }
        }
        if let Ok(mut t) = self.scraped.lock() {
            *t = exporter::render(self.registry);
        }
        worst.unwrap_or(EXIT_UNAVAILABLE)
    }
}

/// The leased loop: stand by until the lease is ours, load the shared state, run cycles
/// while renewing the lease alongside, save the state on the version read; when the lease
/// is lost (a renewal refused, or not renewed before its expiry) stop acting and stand by
/// again. A signal releases the lease (a conditional delete) and exits 0.
async fn shared_loop(
    lp: &Loop<'_>,
    bucket: &helm_aws::state::S3Store,
    terms: Terms,
    interval: Duration,
    cycles: Option<u64>,
    stop: &AtomicBool,
) -> CliResult {
    use super::state::{LEASE_KEY, WATCH_STATE_KEY};
    let ctx = lp.ctx;
    let me = lease::holder_id();
    let lock_terms = session::LockTerms::new(terms.ttl);
    let mut ran = 0u64;
    let mut last_code = EXIT_UNAVAILABLE;
    ctx.out.warn_plain(&format!(
        "watch {me}: shared state in {} (lease {}s, renewed every {}s)",
        bucket.location(),
        terms.ttl.as_secs(),
        terms.renew_every().as_secs()
    ));
    'standby: loop {
        // Stand by until the lease is ours.
        let mut said: Option<String> = None;
        let held = loop {
            if stop.load(Ordering::SeqCst) {
                ctx.out.warn_plain("stopped while standing by");
                return Ok(0);
            }
            match lease::try_take(bucket, LEASE_KEY, &me, chrono::Utc::now(), &terms).await {
                Ok(Attempt::Taken { held, from }) => {
                    ctx.out.warn_plain(&format!(
                        "took the watch lease (generation {}){}",
                        held.record.generation,
                        from.map(|f| format!(
                            " from {}, whose lease expired at {}",
                            f.holder,
                            f.expires_at.to_rfc3339()
                        ))
                        .unwrap_or_default()
                    ));
                    break held;
                }
                Ok(Attempt::Busy(Some(r))) if said.as_deref() != Some(r.holder.as_str()) => {
                    ctx.out.warn_plain(&format!(
                        "standing by: {} holds the watch lease (generation {}) until {}",
                        r.holder,
                        r.generation,
                        r.expires_at.to_rfc3339()
                    ));
                    said = Some(r.holder);
                }
                Ok(Attempt::Busy(None)) => {
                    // Another replica's write came between our read and ours: read again
                    // now, to say who holds it.
                    if said.is_none() {
                        said = Some(String::new());
                        continue;
                    }
                }
                Ok(Attempt::Busy(Some(_))) => {}
                Err(e) => ctx
                    .out
                    .warn(&format!("reading the watch lease: {}", e.message)),
            }
            if !pause(terms.renew_every(), stop).await {
                ctx.out.warn_plain("stopped while standing by");
                return Ok(0);
            }
        };
        let held = RefCell::new(held);
        let lost = Cell::new(false);
        // The shared state, and the version it was read at.
        let (mut state, mut version) = match bucket.get(WATCH_STATE_KEY).await {
            Ok(None) => (WatchState::fresh(), None),
            Ok(Some(v)) => match serde_json::from_slice::<WatchState>(&v.bytes) {
                Ok(s) if s.version == watch::STATE_VERSION => (s, Some(v.etag)),
                _ => {
                    ctx.out.warn(&format!(
                        "{}{WATCH_STATE_KEY}: unreadable; rebuilt (the SLO buckets are read again)",
                        bucket.location()
                    ));
                    (WatchState::fresh(), Some(v.etag))
                }
            },
            Err(e) => {
                ctx.out.warn(&format!(
                    "reading the watch state: {}; standing by",
                    e.message
                ));
                let h = held.borrow().clone();
                let _ = lease::release(bucket, LEASE_KEY, &h).await;
                if !pause(terms.renew_every(), stop).await {
                    return Ok(0);
                }
                continue 'standby;
            }
        };
        // Renew alongside the cycles and the waits between them.
        let renewer = async {
            loop {
                tokio::time::sleep(terms.renew_every()).await;
                let h = held.borrow().clone();
                match lease::renew(bucket, LEASE_KEY, &h, chrono::Utc::now(), &terms).await {
                    Ok(Some(next)) => *held.borrow_mut() = next,
                    Ok(None) => {
                        ctx.out
                            .warn("lost the watch lease: another replica holds it now");
                        lost.set(true);
                        break;
                    }
                    Err(e) if !lease::still_ours(&h, chrono::Utc::now()) => {
                        ctx.out.warn(&format!(
                            "could not renew the watch lease before it expired ({}): standing by",
                            e.message
                        ));
                        lost.set(true);
                        break;
                    }
                    Err(e) => ctx
                        .out
                        .warn(&format!("renewing the watch lease: {}", e.message)),
                }
            }
            std::future::pending::<()>().await
        };
        let work = async {
            loop {
                if lost.get() || !lease::still_ours(&held.borrow(), chrono::Utc::now()) {
                    lost.set(true);
                    return;
                }
                let n = state.cycles + 1;
                // The cycle runs in a session on the shared state: the issues, reports,
                // outbox and history it writes are pushed before the next one.
                let root = ctx.paths.fractary();
                last_code = match session::run(
                    bucket,
                    &root,
                    &me,
                    &lock_terms,
                    &ctx.checkpoint,
                    lp.cycle(n, &mut state),
                )
                .await
                {
                    Ok((code, _)) => code,
                    Err(e) => {
                        ctx.out.warn(&format!("cycle {n}: {e}"));
                        EXIT_TEMPFAIL
                    }
                };
                ran += 1;
                if lost.get() {
                    // Another replica may act now: leave the state to it.
                    return;
                }
                let bytes = serde_json::to_vec(&state).expect("the state serialises");
                let cond = version.clone().map_or(Cond::Absent, Cond::Matches);
                match bucket.put(WATCH_STATE_KEY, bytes, cond).await {
                    Ok(Written::Done(etag)) => version = Some(etag),
                    Ok(Written::Conflict) => {
                        ctx.out
                            .warn("another replica wrote the watch state: this one stands by");
                        lost.set(true);
                        return;
                    }
                    Err(e) => ctx.out.warn(&format!(
                        "saving the watch state: {} (kept in memory; saved with the next cycle)",
                        e.message
                    )),
                }
                if stop.load(Ordering::SeqCst) || cycles.is_some_and(|c| ran >= c) {
                    return;
                }
                if !pause(interval, stop).await {
                    return;
                }
            }
        };
        tokio::select! {
            _ = work => {}
            _ = renewer => {}
        }
        if lost.get() && !stop.load(Ordering::SeqCst) && cycles.is_none_or(|c| ran < c) {
            continue 'standby;
        }
        // Done (a signal, or --cycles): give the lease up for the next replica.
        let h: Held = held.borrow().clone();
        if !lost.get() {
            match lease::release(bucket, LEASE_KEY, &h).await {
                Ok(true) => ctx.out.warn_plain("released the watch lease"),
                Ok(false) => {}
                Err(e) => ctx.out.warn(&format!(
                    "releasing the watch lease: {} (it expires on its own)",
                    e.message
                )),
            }
        }
        if stop.load(Ordering::SeqCst) {
            ctx.out.warn_plain(&format!(
                "stopped after cycle {}; state saved",
                state.cycles
            ));
            return Ok(0);
        }
        return Ok(last_code);
    }
}
