//! Alerts over HTTP: Slack incoming webhooks (Block Kit), PagerDuty Events API v2, and
//! signed webhooks, as helm-core's `Notifier` port.
//!
//! Each channel's secret (the Slack webhook URL, the PagerDuty routing key, the webhook's
//! URL and signing key) is read from the process environment at send time, goes only to
//! that service, and never appears in an error: transport errors are described by their
//! kind, never by ureq's message (which can hold the URL).

use helm_core::issues::Severity;
use helm_core::notify::{Channel, ChannelKind, Event, EventKind};
use helm_core::ports::{Notifier, SendError};
use serde_json::{Value, json};
use std::time::Duration;

/// PagerDuty's Events API v2, US and EU service regions.
pub const PAGERDUTY_US: &str = "https://events.pagerduty.com/v2";
pub const PAGERDUTY_EU: &str = "https://events.eu.pagerduty.com/v2";
/// The one way to send PagerDuty events elsewhere (tests): the process environment.
pub const PAGERDUTY_URL_ENV: &str = "HELM_PAGERDUTY_EVENTS_URL";

/// Slack's documented limits for a message.
const SLACK_MAX_BLOCKS: usize = 50;
const SLACK_SECTION_TEXT: usize = 3000;
const SLACK_HEADER_TEXT: usize = 150;
const SLACK_FIELD_TEXT: usize = 2000;
/// PagerDuty's limit for `payload.summary`.
const PAGERDUTY_SUMMARY: usize = 1024;

/// Reads one environment variable (the process environment, or a test's).
pub type EnvReader = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Sends over HTTP with one agent.
pub struct HttpNotifier {
    agent: ureq::Agent,
    env: EnvReader,
}

impl HttpNotifier {
    /// `env` reads the process environment (tests pass their own).
    pub fn new(timeout: Duration, version: &str, env: EnvReader) -> HttpNotifier {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(format!("helm-cloud/{version}"))
            .build()
            .into();
        HttpNotifier { agent, env }
    }

    fn secret(&self, channel: &Channel, var: Option<&String>) -> Result<String, SendError> {
        let name = var.ok_or_else(|| SendError::NotConfigured {
            reason: format!("channel {} names no variable for its secret", channel.name),
        })?;
        match (self.env)(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(SendError::NotConfigured {
                reason: channel
                    .missing_secret(&|k| (self.env)(k))
                    .unwrap_or_else(|| format!("{name} is not set")),
            }),
        }
    }

    fn post(
        &self,
        channel: &Channel,
        url: &str,
        body: &str,
        headers: &[(&str, String)],
        ok: impl Fn(u16, &str) -> Option<String>,
    ) -> Result<(), SendError> {
        // The agent sets `User-Agent: helm-cloud/<version>`.
        let mut req = self
            .agent
            .post(url)
            .header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let mut resp = req.send(body).map_err(|e| SendError::Retry {
            reason: format!("{} could not be reached: {}", channel.name, transport(&e)),
            after: None,
        })?;
        let status = resp.status().as_u16();
        let after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let said = snippet(&text);
        match status {
            200..=299 => match ok(status, &text) {
                None => Ok(()),
                Some(why) => Err(SendError::Rejected {
                    status,
                    reason: why,
                }),
            },
            408 | 429 | 500..=599 => Err(SendError::Retry {
                reason: format!(
                    "HTTP {status}{}",
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(": {said}")
                    }
                ),
                after,
            }),
            _ => Err(SendError::Rejected {
                status,
                reason: if said.is_empty() {
                    "refused".into()
                } else {
                    said
                },
            }),
        }
    }
}

impl Notifier for HttpNotifier {
    fn send(&self, channel: &Channel, event: &Event) -> Result<(), SendError> {
        match channel.kind {
            ChannelKind::Slack => {
                let url = self.secret(channel, channel.url_env.as_ref())?;
                let body = slack_message(event).to_string();
                // Slack answers 200 with the body `ok`; anything else is one of its errors.
                self.post(channel, &url, &body, &[], |_, t| {
                    (t.trim() != "ok").then(|| format!("Slack answered {}", snippet(t)))
                })
            }
            ChannelKind::PagerDuty => {
                let key = self.secret(channel, channel.routing_key_env.as_ref())?;
                let Some(body) = pagerduty_event(event, &key) else {
                    return Ok(()); // not an alert (a remediation's outcome)
                };
                let base = (self.env)(PAGERDUTY_URL_ENV)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| {
                        if channel.eu {
                            PAGERDUTY_EU
                        } else {
                            PAGERDUTY_US
                        }
                        .to_string()
                    });
                let url = format!("{}/enqueue", base.trim_end_matches('/'));
                self.post(channel, &url, &body.to_string(), &[], |_, _| None)
            }
            ChannelKind::Webhook => {
                let url = self.secret(channel, channel.url_env.as_ref())?;
                let body = serde_json::to_string(event).expect("events serialise");
                let mut headers = vec![
                    ("X-Helm-Event", event.event.as_str().to_string()),
                    ("X-Helm-Delivery", event.event_id.clone()),
                ];
                if channel.secret_env.is_some() {
                    let key = self.secret(channel, channel.secret_env.as_ref())?;
                    headers.push((
                        "X-Helm-Signature-256",
                        format!(
                            "sha256={}",
                            hex(&hmac_sha256(key.as_bytes(), body.as_bytes()))
                        ),
                    ));
                }
                self.post(channel, &url, &body, &headers, |_, _| None)
            }
        }
    }
}

/// A transport failure by kind (never ureq's text, which may carry the URL).
fn transport(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::ConnectionFailed => "connection refused or failed",
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused",
            std::io::ErrorKind::ConnectionReset => "connection reset",
            std::io::ErrorKind::TimedOut => "timed out",
            std::io::ErrorKind::UnexpectedEof => "the connection closed early",
            _ => "network error",
        },
        ureq::Error::Tls(_) | ureq::Error::Pem(_) | ureq::Error::Rustls(_) => "TLS error",
        ureq::Error::BadUri(_) => "its URL is not a valid URL",
        ureq::Error::Protocol(_) => "the answer was not HTTP",
        _ => "transport error",
    }
}

/// At most 200 characters of an answer, on one line.
fn snippet(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&one, 200)
}

/// `s` cut to `max` characters, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's three control characters, escaped as its formatting guide says.
fn mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn emoji(e: &Event) -> &'static str {
    match (e.event, e.severity) {
        (EventKind::Resolved, _) => "✅",
        (EventKind::Test, _) => "🔔",
        (EventKind::Remediated, _) => "🛠️",
        (_, Severity::Critical) => "🔴",
        (_, Severity::High) => "🟠",
        (_, Severity::Medium) => "🟡",
        (_, Severity::Low) => "🔵",
    }
}

/// Up to ten metrics, `name: value` a line.
fn metric_lines(metrics: &Value) -> String {
    metrics
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.is_number() || v.is_string() || v.is_boolean())
                .take(10)
                .map(|(k, v)| format!("• {k}: {}", v.to_string().trim_matches('"')))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// One Block Kit message for `e`, within Slack's limits.
pub fn slack_message(e: &Event) -> Value {
    let head = match e.event {
        EventKind::Resolved => format!("{} Resolved: {}", emoji(e), e.title),
        EventKind::Worsened => format!("{} Worse: {}", emoji(e), e.title),
        EventKind::Renotify => format!("{} Still open: {}", emoji(e), e.title),
        EventKind::Escalated => format!("{} Escalated: {}", emoji(e), e.title),
        EventKind::Remediated => format!("{} Remediation: {}", emoji(e), e.title),
        _ => format!("{} {}", emoji(e), e.title),
    };
    let severity = match (e.event, e.previous_severity) {
        (EventKind::Worsened, Some(p)) => format!("{} → {}", p.as_str(), e.severity.as_str()),
        _ => e.severity.as_str().to_string(),
    };
    let field = |k: &str, v: &str| json!({"type": "mrkdwn", "text": truncate(&format!("*{k}*\n{}", mrkdwn(v)), SLACK_FIELD_TEXT)});
    let mut fields = vec![
        field("Severity", &severity),
        field("Environment", &e.environment),
        field("Resource", &e.resource),
        field("Issue", e.issue_id.as_deref().unwrap_or("-")),
    ];
    if let Some(w) = &e.work_item {
        fields.push(field("Work item", w));
    }
    let mut reason = match (e.event, e.open_seconds) {
        (EventKind::Resolved, Some(s)) => format!(
            "Resolved after {} (opened {}).",
            helm_core::notify::human_span(s),
            e.detected_at
        ),
        _ => mrkdwn(&e.detail),
    };
    if let Some(o) = &e.outcome {
        reason.push_str(&format!("\n*Outcome:* {}", mrkdwn(o)));
    }
    let metrics = metric_lines(&e.metrics);
    if !metrics.is_empty() && e.event != EventKind::Resolved {
        reason.push_str(&format!("\n{}", mrkdwn(&metrics)));
    }
    let mut context = vec![
        json!({"type": "mrkdwn", "text": truncate(&format!("Act: `{}`", e.command), SLACK_SECTION_TEXT)}),
    ];
    match (&e.report_url, &e.report_path) {
        (Some(u), _) => context.push(json!({"type": "mrkdwn", "text": format!("<{}|Report>", u.replace('|', "%7C"))})),
        (None, Some(p)) => context.push(json!({"type": "mrkdwn", "text": truncate(&format!("Report: `{}`", mrkdwn(p)), SLACK_SECTION_TEXT)})),
        _ => {}
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&head, SLACK_HEADER_TEXT), "emoji": true}}),
        json!({"type": "section", "fields": fields}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(if reason.is_empty() { "-" } else { &reason }, SLACK_SECTION_TEXT)}}),
        json!({"type": "context", "elements": context}),
    ];
    blocks.truncate(SLACK_MAX_BLOCKS);
    json!({"text": truncate(&e.summary(), SLACK_SECTION_TEXT), "blocks": blocks})
}

/// PagerDuty's severities.
fn pagerduty_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "info",
    }
}

/// The Events API v2 body for `e`: `trigger` or `resolve` with the fingerprint as the
/// dedup key. None: the event is not an alert (a remediation's outcome).
pub fn pagerduty_event(e: &Event, routing_key: &str) -> Option<Value> {
    match e.event {
        EventKind::Remediated => None,
        EventKind::Resolved => Some(json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": e.fingerprint,
        })),
        _ => {
            let mut custom = json!({
                "issue_id": e.issue_id, "event": e.event, "domain": e.domain,
                "detail": e.detail, "metrics": e.metrics, "slo_breach": e.slo_breach,
                "detected_at": e.detected_at, "command": e.command,
                "report_path": e.report_path,
            });
            if let Some(p) = e.previous_severity {
                custom["previous_severity"] = json!(p);
            }
            if let Some(w) = &e.work_item {
                custom["work_item"] = json!(w);
            }
            let severity = if e.event == EventKind::Test {
                "info"
            } else {
                pagerduty_severity(e.severity)
            };
            let mut body = json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": e.fingerprint,
                "client": "helm-cloud",
                "payload": {
                    "summary": truncate(&e.summary(), PAGERDUTY_SUMMARY),
                    "timestamp": e.at,
                    "severity": severity,
                    "source": format!("{}/{}", e.environment, e.resource),
                    "component": e.resource,
                    "group": e.environment,
                    "class": e.check,
                    "custom_details": custom,
                },
            });
            if let Some(u) = &e.report_url {
                body["links"] = json!([{"href": u, "text": "helm-cloud report"}]);
            }
            Some(body)
        }
    }
}

/// HMAC-SHA256 (RFC 2104) of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| block.map(|k| k ^ b);
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 2 and 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    fn event(kind: EventKind) -> Event {
        let mut e = Event::test("ops", "infrastructure", "2026-12-01T11:00:00Z");
        e.event = kind;
        e.issue_id = Some("infra-001".into());
        e.fingerprint = "prod/api/error_rate".into();
        e.severity = Severity::High;
        e.detail = "x".repeat(10_000);
        e.title = "<script>".repeat(40);
        e
    }

    #[test]
    fn slack_messages_stay_within_the_documented_limits_and_escape() {
        let m = slack_message(&event(EventKind::Opened));
        let blocks = m["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        let header = blocks[0]["text"]["text"].as_str().unwrap();
        assert!(header.chars().count() <= 150);
        let section = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(section.chars().count() <= 3000);
        let fields = blocks[1]["fields"].as_array().unwrap();
        assert!(fields.len() <= 10);
        let mut e = event(EventKind::Opened);
        e.detail = "a < b & c".into();
        let m = slack_message(&e);
        assert!(
            m["blocks"][2]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("a &lt; b &amp; c")
        );
    }

    #[test]
    fn a_resolution_says_how_long_it_lasted() {
        let mut e = event(EventKind::Resolved);
        e.open_seconds = Some(42 * 60);
        let m = slack_message(&e);
        let text = m["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(text.starts_with("Resolved after 42 minutes"), "{text}");
        let pd = pagerduty_event(&e, "k").unwrap();
        assert_eq!(
            pd,
            json!({"routing_key": "k", "event_action": "resolve", "dedup_key": "prod/api/error_rate"})
        );
    }

    #[test]
    fn pagerduty_maps_severity_and_keys_on_the_fingerprint() {
        for (s, want) in [
            (Severity::Critical, "critical"),
            (Severity::High, "error"),
            (Severity::Medium, "warning"),
            (Severity::Low, "info"),
        ] {
            let mut e = event(EventKind::Opened);
            e.severity = s;
            let b = pagerduty_event(&e, "k").unwrap();
            assert_eq!(b["payload"]["severity"], want);
            assert_eq!(b["dedup_key"], "prod/api/error_rate");
            assert!(b["payload"]["summary"].as_str().unwrap().chars().count() <= 1024);
        }
        assert!(pagerduty_event(&event(EventKind::Remediated), "k").is_none());
    }
}
