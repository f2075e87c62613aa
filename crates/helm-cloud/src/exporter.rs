//! `watch --listen ADDR`: `/metrics` in the Prometheus text format (the prometheus-client
//! crate encodes it) and `/healthz`, served by a small HTTP/1.1 responder on its own
//! thread. Loopback unless the user names another address. The loop updates the gauges
//! after each cycle; a scrape reads them as they are.

use helm_core::monitor::HealthStatus;
use helm_core::watch::EnvCycle;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub environment: String,
    pub resource: String,
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectiveLabels {
    pub environment: String,
    pub resource: String,
    pub objective: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WindowLabels {
    pub environment: String,
    pub resource: String,
    pub objective: String,
    pub window: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabels {
    pub severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub service: String,
    pub operation: String,
}

/// Every metric the loop exports.
#[derive(Default)]
pub struct Metrics {
    pub resource_health: Family<ResourceLabels, Gauge>,
    pub budget_remaining: Family<ObjectiveLabels, Gauge<f64, AtomicU64>>,
    pub burn_rate: Family<WindowLabels, Gauge<f64, AtomicU64>>,
    pub issues_active: Family<SeverityLabels, Gauge>,
    pub cycles: Counter,
    pub cycle_failures: Counter,
    pub cycle_seconds: Gauge<f64, AtomicU64>,
    pub aws_requests: Family<CallLabels, Counter>,
    pub aws_retries: Family<CallLabels, Counter>,
    pub aws_errors: Family<CallLabels, Counter>,
}

impl Metrics {
    /// A registry holding them. Counters are registered without `_total`: the crate adds it
    /// (and panics in debug builds on a name that already ends so).
    pub fn registry(m: &Metrics) -> Registry {
        let mut r = Registry::default();
        r.register(
            "helm_resource_health",
            "Health of a resource: 0 HEALTHY, 1 DEGRADED, 2 UNHEALTHY, 3 UNKNOWN",
            m.resource_health.clone(),
        );
        r.register(
            "helm_slo_error_budget_remaining_ratio",
            "Error budget left over the SLO period (1 untouched, 0 spent, below 0 overspent)",
            m.budget_remaining.clone(),
        );
        r.register(
            "helm_slo_burn_rate",
            "Error budget burn rate over a window (1 spends the budget exactly over the period)",
            m.burn_rate.clone(),
        );
        r.register(
            "helm_issues_active",
            "Active issues by severity",
            m.issues_active.clone(),
        );
        r.register("helm_watch_cycles", "Watch cycles run", m.cycles.clone());
        r.register(
            "helm_watch_cycle_failures",
            "Environment cycles that failed (AWS unreachable…)",
            m.cycle_failures.clone(),
        );
        r.register(
            "helm_watch_cycle_duration_seconds",
            "Wall time of the last cycle",
            m.cycle_seconds.clone(),
        );
        r.register(
            "helm_aws_requests",
            "AWS requests by service and operation",
            m.aws_requests.clone(),
        );
        r.register(
            "helm_aws_retries",
            "AWS request attempts beyond the first (the SDK's retries of throttling and transient errors)",
            m.aws_retries.clone(),
        );
        r.register(
            "helm_aws_request_errors",
            "AWS requests that failed after their retries",
            m.aws_errors.clone(),
        );
        r
    }
}

fn health_gauge(h: HealthStatus) -> i64 {
    match h {
        HealthStatus::Healthy => 0,
        HealthStatus::Degraded => 1,
        HealthStatus::Unhealthy => 2,
        HealthStatus::Unknown => 3,
    }
}

impl Metrics {
    /// What one environment's cycle found: each resource's health, each objective's budget
    /// and burn rates.
    pub fn record(&self, env: &str, c: &EnvCycle) {
        for r in &c.health.results {
            self.resource_health
                .get_or_create(&ResourceLabels {
                    environment: env.into(),
                    resource: r.id.clone(),
                    r#type: r.kind.as_str().into(),
                })
                .set(health_gauge(r.status));
        }
        for o in &c.slo.objectives {
            let labels = ObjectiveLabels {
                environment: env.into(),
                resource: o.resource.clone(),
                objective: o.objective.into(),
            };
            if o.budget.remaining_percent.is_finite() {
                self.budget_remaining
                    .get_or_create(&labels)
                    .set(o.budget.remaining_percent / 100.0);
            }
            for (w, v) in &o.burn_rates {
                if let Some(v) = v {
                    self.burn_rate
                        .get_or_create(&WindowLabels {
                            environment: env.into(),
                            resource: o.resource.clone(),
                            objective: o.objective.into(),
                            window: w.to_string(),
                        })
                        .set(*v);
                }
            }
        }
    }
}

/// The text a scrape gets.
pub fn render(registry: &Registry) -> String {
    let mut s = String::new();
    encode(&mut s, registry).expect("encoding to a String cannot fail");
    s
}

/// Serve `/metrics` (what `text` holds) and `/healthz` on `listener` until the process
/// ends.
pub fn serve(listener: TcpListener, text: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let text = Arc::clone(&text);
            std::thread::spawn(move || {
                let _ = answer(stream, &text);
            });
        }
    });
}

fn answer(mut stream: TcpStream, text: &Mutex<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // The rest of the head, unread, would otherwise reset the connection on close.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            text.lock().map(|t| t.clone()).unwrap_or_default(),
        ),
        ("GET", "/healthz") => ("200 OK", "text/plain; charset=utf-8", "ok\n".to_string()),
        ("GET", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "GET only\n".into(),
        ),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
