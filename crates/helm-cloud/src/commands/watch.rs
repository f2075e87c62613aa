//! `helm-cloud watch`: the Helm loop. Each cycle runs helm-core's `watch::cycle` for every
//! environment (health, issues, SLOs on the buckets not yet read, escalations), saves the
//! state, and updates `/metrics`. One watch per project root; SIGINT and SIGTERM finish
//! the cycle, save the state and exit 0.

use super::{central, health::issue_store, targets};
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_TEMPFAIL, EXIT_UNAVAILABLE};
use crate::exporter::{self, Metrics};
use helm_core::central::DomainMonitors;
use helm_core::config::duration;
use helm_core::fsutil::FileLock;
use helm_core::issues::Severity;
use helm_core::watch::{self, CycleWorld, WatchState};
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
    let Some(_lock) = FileLock::try_acquire(&dir.join("watch"))? else {
        return Err(CliError::new(
            EXIT_TEMPFAIL,
            format!(
                "another watch runs on this project ({} is held)",
                ctx.show_path(&helm_core::fsutil::lock_path(&dir.join("watch")))
            ),
        )
        .hint("stop it first: one watch per project root"));
    };
    let (mut state, warning) = WatchState::load(&state_path, ctx.clock.now())?;
    if let Some(w) = warning {
        ctx.out.warn(&w);
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
    let count_call = Arc::new(count_call);

    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let store = issue_store(ctx, &config);
    let tracker = central::tracker(ctx, &config);
    let mut last_code: u8;
    let mut n = 0u64;
    loop {
        n += 1;
        let started = Instant::now();
        let now = ctx.clock.now();
        let mut worst: Option<u8> = None;
        for env in &envs {
            let outcome = async {
                let view = targets::environment(ctx, &config, env)?;
                let (tgts, skipped) = targets::targets(ctx, &config, &view, None)?;
                let mut cs = ctx.client_settings(&config, env)?;
                let printer = cs.call_sink.take();
                let counter = Arc::clone(&count_call);
                cs.call_sink = Some(Arc::new(move |c: &helm_aws::CallRecord| {
                    counter(c);
                    if let Some(p) = &printer {
                        p(c);
                    }
                }));
                let clients = helm_aws::AwsClients::new(cs).await;
                let world = CycleWorld {
                    observer: &clients,
                    remediate: !a.no_remediate,
                    plugin_dir: ctx.paths.plugin_dir(),
                    tracker: &tracker,
                    store: &store,
                    monitors: &monitors,
                    monitoring: &config.monitoring,
                    reports_dir: ctx.paths.health_reports(env),
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
                        if !a.no_notify {
                            let outcome = format!("{action} by watch: {said}");
                            super::notify::remediated(ctx, &config, issue, &outcome);
                        }
                    }
                    for note in &c.notes {
                        ctx.out.warn(note);
                    }
                    // What changed first (an issue is heard opened), then its escalation.
                    let reports = [(env.clone(), c.health.report_path.clone())].into();
                    let _ = super::notify::after_issues(
                        ctx,
                        &config,
                        std::slice::from_ref(env),
                        reports,
                        !a.no_notify,
                    );
                    for (e, _) in &c.escalated {
                        if !a.no_notify {
                            super::notify::escalated(ctx, &config, &e.issue_id, None);
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
        state.save(&state_path)?;
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
        if let Ok(mut t) = scraped.lock() {
            *t = exporter::render(&registry);
        }
        last_code = worst.unwrap_or(EXIT_UNAVAILABLE);
        if stop.load(Ordering::SeqCst) || cycles.is_some_and(|c| n >= c) {
            break;
        }
        let until = Instant::now() + interval;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if stop.load(Ordering::SeqCst) {
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
