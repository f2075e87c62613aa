//! Alerts: the pass every issue-changing command ends with (`--notify`, `watch`), the
//! events of `escalate` and `remediate`, and `notify test|status|flush`. Deciding and
//! delivering is helm-core's `notify`; the HTTP is helm-services' `HttpNotifier`.

use super::{central, health::issue_store};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use helm_core::central::escalate;
use helm_core::config::Config;
use helm_core::config::settings::Settings;
use helm_core::notify::outbox::Outbox;
use helm_core::notify::{self, Event, EventKind, Notified};
use helm_services::notify::HttpNotifier;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Scales every wait between attempts (tests only: `0.01` makes 10 s into 100 ms).
const SCALE_ENV: &str = "HELM_NOTIFY_WAIT_SCALE";

pub fn outbox(ctx: &Ctx) -> Outbox {
    Outbox::new(&ctx.paths.plugin_dir())
}

pub fn notifier(settings: &Settings) -> HttpNotifier {
    HttpNotifier::new(
        settings.notifications.send_timeout,
        env!("CARGO_PKG_VERSION"),
        Box::new(|k| std::env::var(k).ok()),
    )
}

/// The wait between attempts, said on stderr.
fn sleeper(ctx: &Ctx) -> impl FnMut(Duration) + '_ {
    let scale = std::env::var(SCALE_ENV)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    move |d: Duration| {
        ctx.out.warn_plain(&format!(
            "notifications: a channel did not take an event; trying again in {}s",
            d.as_secs_f64()
        ));
        std::thread::sleep(d.mul_f64(scale));
    }
}

fn say(ctx: &Ctx, n: &Notified) {
    for name in &n.unrouted {
        ctx.out.warn(&format!(
            "[escalation] names the channel {name:?} but monitoring.toml has no [notifications.{name}] table: nothing was sent to it"
        ));
    }
    if !n.queued.is_empty()
        || !n.delivery.sent.is_empty()
        || !n.delivery.waiting.is_empty()
        || !n.delivery.refused.is_empty()
    {
        ctx.out.warn_plain(&n.line());
    }
    for (e, why) in &n.delivery.refused {
        ctx.out.warn(&format!(
            "{} refused the {} event of {}: {why} (kept in notifications/failed/)",
            e.channel,
            e.event.event.as_str(),
            e.event.issue_id.as_deref().unwrap_or("a test")
        ));
    }
    if !n.delivery.waiting.is_empty() {
        ctx.out.warn(&format!(
            "{} event(s) wait in the outbox; `helm-cloud notify flush` tries again now, and every later run does",
            n.delivery.waiting.len()
        ));
    }
}

/// After issues of `envs` changed: escalated issues that resolved close their work items
/// (`close_on_resolve`), and, when `notify`, the channels hear what changed. Never fails
/// the command: what went wrong is said on stderr. Returns the notification document.
pub fn after_issues(
    ctx: &Ctx,
    config: &Config,
    envs: &[String],
    report_paths: BTreeMap<String, String>,
    notify: bool,
) -> Option<Value> {
    let settings = config.monitoring.settings();
    let store = issue_store(ctx, config);
    let now = ctx.clock.now();
    if settings.escalation.close_on_resolve {
        let tracker = central::tracker(ctx, config);
        match escalate::close_resolved(&store, &tracker, envs, now) {
            Ok((closed, failed)) => {
                for (id, item) in closed {
                    ctx.out
                        .warn_plain(&format!("{id} resolved: closed its work item {item}"));
                }
                for f in failed {
                    ctx.out.warn(&format!("{f}; tried again on the next run"));
                }
            }
            Err(e) => ctx.out.warn(&format!("closing resolved work items: {e}")),
        }
    }
    if !notify {
        return None;
    }
    let result = notify::notify_issues(
        &outbox(ctx),
        &notifier(&settings),
        &settings,
        &store,
        envs,
        report_paths,
        &mut sleeper(ctx),
        now,
    );
    match result {
        Ok(n) => {
            say(ctx, &n);
            Some(n.to_json())
        }
        Err(e) => {
            ctx.out.warn(&format!("notifications: {e}"));
            Some(json!({"error": e.to_string()}))
        }
    }
}

/// One event outside the issue comparison (an escalation, a remediation's outcome).
pub fn send_event(ctx: &Ctx, config: &Config, event: &Event, to_on_call: bool) {
    let settings = config.monitoring.settings();
    if settings.routes().0.is_empty() {
        return;
    }
    match notify::notify_event(
        &outbox(ctx),
        &notifier(&settings),
        &settings,
        event,
        to_on_call,
        &mut sleeper(ctx),
        ctx.clock.now(),
    ) {
        Ok(n) => say(ctx, &n),
        Err(e) => ctx.out.warn(&format!("notifications: {e}")),
    }
}

/// The event of an issue's escalation, for the channels (and the on-call schedule when
/// the issue is CRITICAL or escalated as critical).
pub fn escalated(ctx: &Ctx, config: &Config, id: &str, priority: Option<&str>) {
    let page = |issue: &helm_core::issues::Issue| {
        issue.severity == helm_core::issues::Severity::Critical
            || priority.is_some_and(|p| p.eq_ignore_ascii_case("critical"))
    };
    issue_event(ctx, config, id, EventKind::Escalated, None, page);
}

/// The outcome of a remediation of issue `id`, for the channels (never the on-call).
pub fn remediated(ctx: &Ctx, config: &Config, id: &str, outcome: &str) {
    issue_event(
        ctx,
        config,
        id,
        EventKind::Remediated,
        Some(outcome),
        |_| false,
    );
}

/// An event `kind` about issue `id` (when it exists), to the on-call schedule too when
/// `to_on_call` says so.
fn issue_event(
    ctx: &Ctx,
    config: &Config,
    id: &str,
    kind: EventKind,
    outcome: Option<&str>,
    to_on_call: impl Fn(&helm_core::issues::Issue) -> bool,
) {
    let Ok(Some(issue)) = issue_store(ctx, config).get(id) else {
        return;
    };
    let at = helm_core::clock::rfc3339(ctx.clock.now());
    let mut event = Event::about(&issue, kind, &at, None);
    event.outcome = outcome.map(str::to_string);
    send_event(ctx, config, &event, to_on_call(&issue));
}

/// `notify test CHANNEL`: one test event, sent now (PagerDuty: a trigger at severity info,
/// then its resolve, so nobody stays paged).
pub fn test(ctx: &Ctx, channel: &str) -> CliResult {
    let config = ctx.config()?;
    let settings = config.monitoring.settings();
    let Some(c) = settings
        .notifications
        .channels
        .iter()
        .find(|c| c.name == channel)
    else {
        let names: Vec<&str> = settings
            .notifications
            .channels
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(
            CliError::usage(format!("no channel {channel:?} in monitoring.toml")).hint(
                if names.is_empty() {
                    "add a [notifications.<name>] table (see the README, Alerts)".to_string()
                } else {
                    format!("configured: {}", names.join(", "))
                },
            ),
        );
    };
    if let Some(missing) = c.missing_secret(&|k| std::env::var(k).ok()) {
        return Err(CliError::new(crate::error::EXIT_USAGE, missing)
            .hint("export it before running helm-cloud (secrets never go in a file)"));
    }
    let now = ctx.clock.now();
    let at = helm_core::clock::rfc3339(now);
    let ob = outbox(ctx);
    let event = Event::test(channel, &settings.domain, &at);
    {
        let _lock = ob.lock()?;
        ob.enqueue(channel, event.clone(), None, &at)?;
        if c.kind == helm_core::notify::ChannelKind::PagerDuty {
            let mut resolve = event.clone();
            resolve.event = EventKind::Resolved;
            resolve.event_id.push_str("-resolve");
            ob.enqueue(channel, resolve, None, &at)?;
        }
    }
    let d = notify::deliver_outbox(&ob, &notifier(&settings), &settings, &mut sleeper(ctx), now)?;
    let mine = |e: &notify::outbox::Entry| e.event.fingerprint == event.fingerprint;
    let sent = d.sent.iter().filter(|e| mine(e)).count();
    let problem = d
        .refused
        .iter()
        .chain(d.waiting.iter())
        .find(|(e, _)| mine(e))
        .map(|(_, why)| why.clone());
    let doc = json!({"channel": channel, "type": c.kind.as_str(), "sent": sent, "error": problem});
    ctx.out.result(&doc, || match &problem {
        None => format!("sent a test event to {channel} ({})", c.kind.as_str()),
        Some(why) => format!("the test event to {channel} was not delivered: {why}"),
    });
    Ok(if problem.is_none() {
        0
    } else {
        crate::error::EXIT_UNAVAILABLE
    })
}

fn entries_json(list: &[notify::outbox::Entry]) -> Vec<Value> {
    list.iter()
        .map(|e| {
            json!({"seq": e.seq, "channel": e.channel, "event": e.event.event, "issue_id": e.event.issue_id,
                "fingerprint": e.event.fingerprint, "severity": e.event.severity, "created_at": e.created_at,
                "attempts": e.attempts, "next_attempt_at": e.next_attempt_at, "last_error": e.last_error})
        })
        .collect()
}

fn entry_line(e: &notify::outbox::Entry) -> String {
    format!(
        "  #{} {} {} {} {}{}{}",
        e.seq,
        e.channel,
        e.event.event.as_str(),
        e.event.issue_id.as_deref().unwrap_or("test"),
        e.event.severity.as_str(),
        if e.attempts > 0 {
            format!(", {} attempt(s)", e.attempts)
        } else {
            String::new()
        },
        e.last_error
            .as_deref()
            .map(|w| format!(": {w}"))
            .unwrap_or_default()
    )
}

/// `notify status`: the channels, and the pending and failed deliveries.
pub fn status(ctx: &Ctx) -> CliResult {
    let config = ctx.config()?;
    let settings = config.monitoring.settings();
    let ob = outbox(ctx);
    let (pending, failed) = (ob.pending()?, ob.failed()?);
    let (routes, unrouted) = settings.routes();
    let channels: Vec<Value> = settings
        .notifications
        .channels
        .iter()
        .map(|c| {
            let route = routes.iter().find(|r| r.channel.name == c.name);
            json!({"name": c.name, "type": c.kind.as_str(),
                "routed": route.map(|r| if r.on_call { "on_call_schedule" } else { "channels" }),
                "min_severity": route.map(|r| r.min_severity()),
                "environments": c.environments,
                "secret": match c.missing_secret(&|k| std::env::var(k).ok()) { None => Value::from("set"), Some(m) => Value::from(m) }})
        })
        .collect();
    let doc = json!({"channels": channels, "unrouted_channels": unrouted,
        "pending": entries_json(&pending), "failed": entries_json(&failed)});
    ctx.out.result(&doc, || {
        let mut s = String::from("Channels:\n");
        if channels.is_empty() {
            s.push_str(
                "  none: add [notifications.<name>] tables to monitoring.toml (README, Alerts)\n",
            );
        }
        for c in &channels {
            s.push_str(&format!(
                "  {} ({}): {}, secret {}\n",
                c["name"].as_str().unwrap_or(""),
                c["type"].as_str().unwrap_or(""),
                c["routed"]
                    .as_str()
                    .map(|r| format!(
                        "routed by [escalation] {r}, from {}",
                        c["min_severity"].as_str().unwrap_or("")
                    ))
                    .unwrap_or_else(|| "not routed (only `notify test`)".into()),
                c["secret"].as_str().unwrap_or("")
            ));
        }
        for n in &unrouted {
            s.push_str(&format!(
                "  {n}: named in [escalation], no [notifications.{n}] table\n"
            ));
        }
        s.push_str(&format!("Pending: {}\n", pending.len()));
        for e in &pending {
            s.push_str(&entry_line(e));
            s.push('\n');
        }
        s.push_str(&format!("Failed: {}\n", failed.len()));
        for e in &failed {
            s.push_str(&entry_line(e));
            s.push('\n');
        }
        s
    });
    Ok(if pending.is_empty() && failed.is_empty() {
        0
    } else {
        1
    })
}

/// `notify flush`: deliver what waits in the outbox now.
pub fn flush(ctx: &Ctx) -> CliResult {
    let config = ctx.config()?;
    let settings = config.monitoring.settings();
    let ob = outbox(ctx);
    let now = ctx.clock.now();
    let d = notify::deliver_outbox(&ob, &notifier(&settings), &settings, &mut sleeper(ctx), now)?;
    let n = Notified {
        delivery: d,
        ..Default::default()
    };
    let doc = n.to_json();
    ctx.out.result(&doc, || {
        let mut s = n.delivery.line();
        s.push('\n');
        for (e, why) in n.delivery.refused.iter().chain(&n.delivery.waiting) {
            s.push_str(&format!("{}: {why}\n", entry_line(e).trim()));
        }
        s
    });
    Ok(
        if n.delivery.waiting.is_empty() && n.delivery.refused.is_empty() && !n.delivery.busy {
            0
        } else {
            1
        },
    )
}
