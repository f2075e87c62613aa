//! The Alert step of the Helm workflow: which issue changes are sent to which channel
//! ([`plan`]), the durable outbox they wait in ([`outbox`]) and their delivery in order,
//! retried without duplicates ([`deliver`]). What a channel is (Slack, PagerDuty, a signed
//! webhook) and how an event becomes its HTTP body is the `Notifier` port's business
//! (helm-services); this module decides what is said, to whom, and when.
//!
//! The model is Alertmanager's: the notification state of every (channel, issue) pair is
//! kept in a ledger, and each pass compares the issues with it. A channel hears an issue
//! once when it opens, again when its severity rises above what it was told or after
//! `renotify_after`, and once when it resolves (only a channel that heard it open). Because the decision is a
//! comparison of states, a pass that died half-way is simply done again by the next.

pub mod deliver;
pub mod outbox;
pub mod plan;

use crate::issues::{Issue, Severity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Slack,
    PagerDuty,
    Webhook,
}

impl ChannelKind {
    pub fn parse(s: &str) -> Option<ChannelKind> {
        match s {
            "slack" => Some(ChannelKind::Slack),
            "pagerduty" => Some(ChannelKind::PagerDuty),
            "webhook" => Some(ChannelKind::Webhook),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::PagerDuty => "pagerduty",
            ChannelKind::Webhook => "webhook",
        }
    }
}

/// One `[notifications.<name>]` table. Secrets are the *names* of environment variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    /// Slack and webhook: the variable holding the URL (a Slack webhook URL is a secret).
    pub url_env: Option<String>,
    /// PagerDuty: the variable holding the integration's routing key.
    pub routing_key_env: Option<String>,
    /// Webhook: the variable holding the HMAC key.
    pub secret_env: Option<String>,
    /// As written; None: LOW for a channel, CRITICAL for the on-call schedule.
    pub min_severity: Option<Severity>,
    /// Empty: every environment.
    pub environments: Vec<String>,
    /// PagerDuty's service region: `eu` sends to events.eu.pagerduty.com.
    pub eu: bool,
}

impl Channel {
    /// The environment variables this channel reads, with what each holds.
    pub fn secrets(&self) -> Vec<(&str, &'static str)> {
        let mut out = Vec::new();
        if let Some(v) = &self.url_env {
            out.push((v.as_str(), "its URL"));
        }
        if let Some(v) = &self.routing_key_env {
            out.push((v.as_str(), "its routing key"));
        }
        if let Some(v) = &self.secret_env {
            out.push((v.as_str(), "its signing secret"));
        }
        out
    }

    /// The first of its variables that is not set (or empty) in `env`.
    pub fn missing_secret(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.secrets()
            .into_iter()
            .find(|(name, _)| env(name).is_none_or(|v| v.is_empty()))
            .map(|(name, what)| {
                format!(
                    "channel {} needs {what} in the environment variable {name}, which is not set",
                    self.name
                )
            })
    }
}

/// Channel names: what a file name and a TOML key can both hold.
pub fn valid_channel_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Delivery retries within one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub attempts: u32,
    pub delay: std::time::Duration,
    pub max_delay: std::time::Duration,
}

impl Retry {
    /// The wait before attempt `n + 1` (n from 1): `delay · 2^(n-1)` or what the service
    /// asked for, within `max_delay`. None: the service asked for longer than `max_delay`,
    /// so this run stops trying and the next honours the wait.
    pub fn wait(&self, n: u32, asked: Option<std::time::Duration>) -> Option<std::time::Duration> {
        match asked {
            Some(a) if a > self.max_delay => None,
            Some(a) => Some(a),
            None => Some(
                self.delay
                    .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
                    .min(self.max_delay),
            ),
        }
    }
}

/// What happened, as the webhook document's `event` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Opened,
    Worsened,
    Resolved,
    /// The issue is still open after `renotify_after`.
    Renotify,
    Escalated,
    Remediated,
    Test,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Worsened => "worsened",
            EventKind::Resolved => "resolved",
            EventKind::Renotify => "renotify",
            EventKind::Escalated => "escalated",
            EventKind::Remediated => "remediated",
            EventKind::Test => "test",
        }
    }
}

/// One notification event: the webhook channel's body (FORMATS.md), and what the Slack
/// and PagerDuty renderings are made from. It never holds a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub version: String,
    /// Unique per event (`X-Helm-Delivery`): a receiver can drop a re-sent copy.
    pub event_id: String,
    pub event: EventKind,
    pub issue_id: Option<String>,
    /// The PagerDuty dedup key.
    pub fingerprint: String,
    pub environment: String,
    pub domain: String,
    pub severity: Severity,
    /// Worsened: the severity the channel last heard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_severity: Option<Severity>,
    pub title: String,
    pub detail: String,
    pub resource: String,
    pub check: String,
    pub slo_breach: bool,
    pub detected_at: String,
    pub resolved_at: Option<String>,
    /// Resolved: how long the issue was open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_seconds: Option<i64>,
    pub metrics: Value,
    pub report_path: Option<String>,
    /// `report_base_url` joined with the report path, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    pub command: String,
    /// When the event was made.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item: Option<String>,
    /// Remediated: what was done and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl Event {
    /// The event `kind` about `issue` at `at`.
    pub fn about(issue: &Issue, kind: EventKind, at: &str, report_path: Option<&str>) -> Event {
        let resource = issue
            .affected_resources
            .first()
            .cloned()
            .unwrap_or_default();
        let check = crate::issues::fingerprint_parts(&issue.fingerprint)
            .map(|(_, c)| c.to_string())
            .unwrap_or_default();
        let open_seconds = match (kind, issue.resolved_at.as_deref()) {
            (EventKind::Resolved, Some(r)) => crate::clock::parse_rfc3339(r)
                .zip(crate::clock::parse_rfc3339(&issue.detected_at))
                .map(|(r, d)| (r - d).num_seconds().max(0)),
            _ => None,
        };
        let command = match kind {
            EventKind::Resolved => format!("helm-cloud issues show {}", issue.id),
            _ => format!(
                "helm-cloud investigate --issue {} --env {}",
                issue.id, issue.environment
            ),
        };
        Event {
            version: "1".into(),
            event_id: event_id(&issue.fingerprint, kind, at, &issue.id),
            event: kind,
            issue_id: Some(issue.id.clone()),
            fingerprint: issue.fingerprint.clone(),
            environment: issue.environment.clone(),
            domain: issue.domain.clone(),
            severity: issue.severity,
            previous_severity: None,
            title: issue.title.clone(),
            detail: issue.description.clone(),
            resource,
            check,
            slo_breach: issue.slo_breach,
            detected_at: issue.detected_at.clone(),
            resolved_at: issue.resolved_at.clone(),
            open_seconds,
            metrics: issue.metrics.clone(),
            report_path: report_path.map(str::to_string),
            report_url: None,
            command,
            at: at.to_string(),
            work_item: issue.work_item_id.clone(),
            outcome: None,
        }
    }

    /// A test event for `channel` (`helm-cloud notify test`).
    pub fn test(channel: &str, domain: &str, at: &str) -> Event {
        let fingerprint = format!("helm-cloud-test/{channel}");
        Event {
            version: "1".into(),
            event_id: event_id(&fingerprint, EventKind::Test, at, channel),
            event: EventKind::Test,
            issue_id: None,
            fingerprint,
            environment: "test".into(),
            domain: domain.into(),
            severity: Severity::Low,
            previous_severity: None,
            title: format!("helm-cloud test notification to {channel}"),
            detail: "If you can read this, helm-cloud reaches this channel.".into(),
            resource: "helm-cloud".into(),
            check: "notify_test".into(),
            slo_breach: false,
            detected_at: at.into(),
            resolved_at: None,
            open_seconds: None,
            metrics: Value::Object(Default::default()),
            report_path: None,
            report_url: None,
            command: "helm-cloud notify status".into(),
            at: at.into(),
            work_item: None,
            outcome: None,
        }
    }

    /// The one-line summary every rendering starts from.
    pub fn summary(&self) -> String {
        let what = match self.event {
            EventKind::Opened => String::new(),
            EventKind::Worsened => format!(
                " (worse: {} → {})",
                self.previous_severity.map_or("?", |s| s.as_str()),
                self.severity.as_str()
            ),
            EventKind::Resolved => match self.open_seconds {
                Some(s) => format!(" (resolved after {})", human_span(s)),
                None => " (resolved)".into(),
            },
            EventKind::Renotify => " (still open)".into(),
            EventKind::Escalated => " (escalated)".into(),
            EventKind::Remediated => " (remediated)".into(),
            EventKind::Test => String::new(),
        };
        format!(
            "[{}] {} {}: {}{what}",
            self.environment,
            self.severity.as_str(),
            self.issue_id.as_deref().unwrap_or("test"),
            self.title
        )
    }
}

/// `42 minutes`, `3 hours 5 minutes`, `2 days 4 hours`, `30 seconds`.
pub fn human_span(secs: i64) -> String {
    let plural = |n: i64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => plural(secs, "second"),
        (0, 0, m) => plural(m, "minute"),
        (0, h, 0) => plural(h, "hour"),
        (0, h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
        (d, 0, _) => plural(d, "day"),
        (d, h, _) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
    }
}

fn event_id(fingerprint: &str, kind: EventKind, at: &str, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [fingerprint, kind.as_str(), at, salt] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    d[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// What one notification pass did.
#[derive(Debug, Clone, Default)]
pub struct Notified {
    /// Events queued by this pass.
    pub queued: Vec<outbox::Entry>,
    pub delivery: deliver::Delivery,
    /// Names `[escalation]` gives that have no channel table.
    pub unrouted: Vec<String>,
}

impl Notified {
    /// `notifications: 3 queued, 2 sent, 1 waiting (slack-ops: HTTP 503)`.
    pub fn line(&self) -> String {
        format!(
            "notifications: {} queued, {}",
            self.queued.len(),
            self.delivery.line()
        )
    }

    pub fn to_json(&self) -> Value {
        let entry = |e: &outbox::Entry| {
            serde_json::json!({"channel": e.channel, "event": e.event.event, "issue_id": e.event.issue_id,
                "fingerprint": e.event.fingerprint, "severity": e.event.severity})
        };
        let with = |list: &[(outbox::Entry, String)]| {
            list.iter()
                .map(|(e, why)| {
                    let mut v = entry(e);
                    v["reason"] = Value::from(why.as_str());
                    v
                })
                .collect::<Vec<_>>()
        };
        serde_json::json!({
            "queued": self.queued.iter().map(entry).collect::<Vec<_>>(),
            "sent": self.delivery.sent.iter().map(entry).collect::<Vec<_>>(),
            "refused": with(&self.delivery.refused),
            "waiting": with(&self.delivery.waiting),
            "retries": self.delivery.retries,
            "unrouted_channels": self.unrouted,
        })
    }
}

/// The Alert step after issues changed: compare the issues of `environments` with what
/// each routed channel heard, queue what it must hear, and deliver the outbox.
#[allow(clippy::too_many_arguments)]
pub fn notify_issues<N: crate::ports::Notifier>(
    outbox: &outbox::Outbox,
    notifier: &N,
    settings: &crate::config::settings::Settings,
    store: &crate::issues::IssueStore,
    environments: &[String],
    report_paths: std::collections::BTreeMap<String, String>,
    sleep: &mut dyn FnMut(std::time::Duration),
    now: chrono::DateTime<chrono::Utc>,
) -> crate::Result<Notified> {
    let (routes, unrouted) = settings.routes();
    let mut queued = Vec::new();
    if !routes.is_empty() {
        let issues: Vec<Issue> = store
            .active()?
            .into_iter()
            .chain(store.resolved()?)
            .filter(|i| environments.contains(&i.environment))
            .collect();
        let wording = plan::Wording {
            renotify_after: chrono::Duration::from_std(settings.notifications.renotify_after).ok(),
            report_paths,
            report_base_url: settings.notifications.report_base_url.clone(),
        };
        queued = plan::queue(outbox, &issues, environments, &routes, &wording, now)?;
    }
    let delivery = deliver_outbox(outbox, notifier, settings, sleep, now)?;
    Ok(Notified {
        queued,
        delivery,
        unrouted,
    })
}

/// Deliver the outbox to the configured channels with the configured retries.
pub fn deliver_outbox<N: crate::ports::Notifier>(
    outbox: &outbox::Outbox,
    notifier: &N,
    settings: &crate::config::settings::Settings,
    sleep: &mut dyn FnMut(std::time::Duration),
    now: chrono::DateTime<chrono::Utc>,
) -> crate::Result<deliver::Delivery> {
    deliver::deliver(
        outbox,
        notifier,
        &settings.notifications.channels,
        &settings.notifications.retry,
        sleep,
        now,
    )
}

/// Queue one event outside the issue comparison (an escalation, a remediation's outcome)
/// and deliver the outbox.
pub fn notify_event<N: crate::ports::Notifier>(
    outbox: &outbox::Outbox,
    notifier: &N,
    settings: &crate::config::settings::Settings,
    event: &Event,
    to_on_call: bool,
    sleep: &mut dyn FnMut(std::time::Duration),
    now: chrono::DateTime<chrono::Utc>,
) -> crate::Result<Notified> {
    let (routes, unrouted) = settings.routes();
    let queued = plan::queue_event(outbox, event, &routes, to_on_call, now)?;
    let delivery = deliver_outbox(outbox, notifier, settings, sleep, now)?;
    Ok(Notified {
        queued,
        delivery,
        unrouted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(human_span(42 * 60), "42 minutes");
        assert_eq!(human_span(61), "1 minute");
        assert_eq!(human_span(30), "30 seconds");
        assert_eq!(human_span(3 * 3600 + 5 * 60), "3 hours 5 minutes");
        assert_eq!(human_span(2 * 86_400 + 4 * 3600 + 7), "2 days 4 hours");
        assert_eq!(human_span(86_400), "1 day");
    }

    #[test]
    fn retry_doubles_within_the_cap_and_honours_what_the_service_asks() {
        let r = Retry {
            attempts: 4,
            delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(25),
        };
        assert_eq!(r.wait(1, None), Some(Duration::from_secs(10)));
        assert_eq!(r.wait(2, None), Some(Duration::from_secs(20)));
        assert_eq!(r.wait(3, None), Some(Duration::from_secs(25)));
        assert_eq!(r.wait(40, None), Some(Duration::from_secs(25)));
        assert_eq!(
            r.wait(1, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(r.wait(1, Some(Duration::from_secs(60))), None);
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_channel_name("slack-ops"));
        assert!(!valid_channel_name("Slack Ops"));
        assert!(!valid_channel_name("../x"));
        assert!(valid_env_name("SLACK_WEBHOOK_URL"));
        assert!(!valid_env_name("https://hooks.slack.com/x"));
        assert!(!valid_env_name("1X"));
    }

    #[test]
    fn a_missing_secret_names_the_variable_never_a_value() {
        let c = Channel {
            name: "ops-hook".into(),
            kind: ChannelKind::Webhook,
            url_env: Some("HOOK_URL".into()),
            routing_key_env: None,
            secret_env: Some("HOOK_SECRET".into()),
            min_severity: None,
            environments: vec![],
            eu: false,
        };
        let env = |k: &str| (k == "HOOK_URL").then(|| "https://x.example/hook".to_string());
        let m = c.missing_secret(&env).unwrap();
        assert!(m.contains("HOOK_SECRET") && m.contains("ops-hook"), "{m}");
        assert!(!m.contains("x.example"));
        let all = |_: &str| Some("v".to_string());
        assert_eq!(c.missing_secret(&all), None);
    }
}
