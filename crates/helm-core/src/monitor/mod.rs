//! The monitor (the plugin's `ops-monitor`): classify every resource of an environment as
//! HEALTHY, DEGRADED, UNHEALTHY or UNKNOWN from its status, its CloudWatch metrics and
//! alarms, against the SLOs of `monitoring.toml` and the registry. Pure: the observations
//! come in as data (the AWS adapter gathers them), the results go out as data.

pub mod check;
pub mod performance;
pub mod report;
pub mod slo;
pub mod spec;
pub mod trend;

use crate::config::Monitoring;
use crate::registry::Resource;
use crate::resource::ResourceKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use slo::Verdict;
use spec::{StateClass, classify_state};
use std::collections::BTreeMap;

/// A resource's health, ordered HEALTHY < UNKNOWN < DEGRADED < UNHEALTHY (the worst wins).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthStatus {
    Healthy,
    Unknown,
    Degraded,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "HEALTHY",
            HealthStatus::Unknown => "UNKNOWN",
            HealthStatus::Degraded => "DEGRADED",
            HealthStatus::Unhealthy => "UNHEALTHY",
        }
    }

    /// The exit code of `health`, `status` and `dashboard` (INTERFACE.md).
    pub fn exit_code(self) -> u8 {
        match self {
            HealthStatus::Healthy => 0,
            HealthStatus::Degraded => 1,
            HealthStatus::Unhealthy => 2,
            HealthStatus::Unknown => 3,
        }
    }

    pub fn parse(s: &str) -> Option<HealthStatus> {
        match s.to_ascii_uppercase().as_str() {
            "HEALTHY" => Some(HealthStatus::Healthy),
            "UNKNOWN" => Some(HealthStatus::Unknown),
            "DEGRADED" => Some(HealthStatus::Degraded),
            "UNHEALTHY" => Some(HealthStatus::Unhealthy),
            _ => None,
        }
    }
}

/// What the status call(s) said about a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusObs {
    /// A status word (`Active`, `available`, `Deployed`…) and optional detail.
    State {
        state: String,
        detail: Option<String>,
    },
    /// ECS service counts.
    Ecs {
        status: String,
        desired: i64,
        running: i64,
        pending: i64,
        deployments: usize,
    },
    /// CloudFront: deployment status and the enabled flag.
    Distribution { status: String, enabled: bool },
    /// A group's members: an Auto Scaling group's instances (desired: its desired capacity,
    /// healthy: InService and Healthy) or a target group's targets (desired: registered).
    Capacity {
        status: String,
        desired: i64,
        healthy: i64,
        unhealthy: i64,
        /// "instances" or "targets".
        unit: &'static str,
    },
    /// In the registry, not in AWS.
    Missing,
    /// The call failed (access denied, throttled after retries, endpoint error).
    /// `unreachable`: AWS did not answer at all.
    Unreadable { reason: String, unreachable: bool },
    /// Status checks are not enabled (`[monitoring] enabled_checks`).
    NotChecked,
}

/// One metric's values over the window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricValues {
    /// The statistic over the whole window; None when CloudWatch had no datapoint.
    pub window: Option<f64>,
    /// Per-period values, oldest first, for sparklines and trends.
    pub series: Vec<(DateTime<Utc>, f64)>,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
}

/// An alarm that watches a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmObs {
    pub name: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Everything gathered about one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub status: StatusObs,
    /// By the report key of `spec::metrics`.
    pub metrics: BTreeMap<&'static str, MetricValues>,
    /// None: metrics were not fetched (not enabled).
    pub metrics_error: Option<String>,
    pub alarms: Vec<AlarmObs>,
    /// Why the alarms could not be read, when they could not (None: read, or not enabled).
    pub alarms_error: Option<String>,
    /// Alarms were asked for.
    pub alarms_read: bool,
}

/// One failed check of a resource: the unit an issue is opened for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable name of the check (`error_rate`, `availability`, `p95_latency`, `status`,
    /// `drift`, `cpu`, `memory`, `alarm:<name>`); with environment and resource it makes the
    /// issue fingerprint.
    pub check: String,
    pub status: HealthStatus,
    /// An SLO was breached (not just approached).
    pub slo_breach: bool,
    /// The resource is down or missing.
    pub down: bool,
    pub title: String,
    /// One line: "error rate 5.2% > SLO 0.1%".
    pub reason: String,
    pub metric: String,
    pub current_value: String,
    pub threshold: String,
}

/// The verdict on one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceResult {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    pub name: String,
    pub arn: String,
    /// The account of its ARN (reports of an environment that spans accounts say which).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub status: HealthStatus,
    pub reasons: Vec<String>,
    /// What could not be evaluated and why (no traffic, no metric for an SLO, INSUFFICIENT_DATA…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub metrics: Map<String, Value>,
    pub alarms: Vec<AlarmObs>,
    #[serde(skip)]
    pub findings: Vec<Finding>,
    /// The checks that were read and judged in this run (`status`, `error_rate`,
    /// `availability`, `p95_latency`, `cpu`, `alarm:`…): an issue of another check of this
    /// resource stays open.
    #[serde(skip)]
    pub evaluated: Vec<String>,
    /// Per-period series of the error count (or rate) and latency, for sparklines.
    #[serde(skip)]
    pub error_series: Vec<f64>,
    #[serde(skip)]
    pub latency_series: Vec<f64>,
}

/// Thresholds the evaluation needs, resolved from configuration and the registry.
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub slos: BTreeMap<String, f64>,
    pub cpu_degraded: f64,
    pub cpu_unhealthy: f64,
    pub memory_degraded: f64,
    pub memory_unhealthy: f64,
}

impl Thresholds {
    /// `[slos.<kind>]` overlaid with the resource's own `slo`, and `[saturation]`.
    pub fn for_resource(
        config: &Monitoring,
        resource: &Resource,
        kind: ResourceKind,
    ) -> Thresholds {
        let mut slos = config.slos(kind);
        slos.extend(resource.slo.iter().map(|(k, v)| (k.clone(), *v)));
        let n = |k: &str, d: f64| config.number(k).unwrap_or(d);
        Thresholds {
            slos,
            cpu_degraded: n("saturation.cpu_degraded_percent", 80.0),
            cpu_unhealthy: n("saturation.cpu_unhealthy_percent", 95.0),
            memory_degraded: n("saturation.memory_degraded_percent", 80.0),
            memory_unhealthy: n("saturation.memory_unhealthy_percent", 95.0),
        }
    }
}

fn verdict_status(v: Verdict) -> HealthStatus {
    match v {
        Verdict::Ok => HealthStatus::Healthy,
        Verdict::Degraded => HealthStatus::Degraded,
        Verdict::Unhealthy => HealthStatus::Unhealthy,
    }
}

fn fmt_num(v: f64) -> String {
    let r = slo::round(v);
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

use crate::kinds::{self, RateSource};

/// How `resource`'s error rate is measured, or why it cannot be (the environment only
/// names an API's default stage, which does not decide whether a metric can be read).
fn error_rate_source(kind: ResourceKind, resource: &Resource) -> Result<RateSource, String> {
    kinds::error_rate_of(kind, resource, "")
}

/// The latency metric (report key) an SLO key is measured by, per kind.
fn latency_metric(kind: ResourceKind, slo_key: &str) -> Option<&'static str> {
    kinds::info(kind).latency_metric(slo_key)
}

const LATENCY_SLOS: &[&str] = &[
    "p95_latency_ms",
    "p95_response_time_ms",
    "connection_time_ms",
    "put_latency_ms",
    "get_latency_ms",
    "iterator_age_ms",
];

/// Classify one resource from what was observed. Every rule of the README is here.
pub fn evaluate(
    resource: &Resource,
    kind: ResourceKind,
    obs: &Observation,
    t: &Thresholds,
) -> ResourceResult {
    let mut findings: Vec<Finding> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut metrics = Map::new();
    let id = &resource.id;
    let mut finding = |check: &str,
                       status: HealthStatus,
                       slo_breach: bool,
                       down: bool,
                       title: String,
                       reason: String,
                       metric: &str,
                       current: String,
                       threshold: String| {
        findings.push(Finding {
            check: check.to_string(),
            status,
            slo_breach,
            down,
            title,
            reason,
            metric: metric.to_string(),
            current_value: current,
            threshold,
        });
    };

    // Status.
    let mut status_readable = true;
    let mut evaluated: Vec<String> = Vec::new();
    if !matches!(
        obs.status,
        StatusObs::Unreadable { .. } | StatusObs::NotChecked
    ) {
        evaluated.extend(["status", "drift", "tasks"].map(String::from));
    }
    match &obs.status {
        StatusObs::Missing => finding(
            "drift",
            HealthStatus::Unhealthy,
            false,
            true,
            format!("{} {id} is in the registry but not in AWS", kind),
            "not found in AWS (registry drift)".into(),
            "status",
            "not found".into(),
            "exists".into(),
        ),
        StatusObs::State { state, detail } => {
            let extra = detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            match classify_state(kind, state) {
                StateClass::Up => {}
                StateClass::Transitional => finding(
                    "status",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("{kind} {id} is {state}"),
                    format!("status {state}{extra}"),
                    "status",
                    state.clone(),
                    "available".into(),
                ),
                StateClass::Down => finding(
                    "status",
                    HealthStatus::Unhealthy,
                    false,
                    true,
                    format!("{kind} {id} is {state}"),
                    format!("status {state}{extra}"),
                    "status",
                    state.clone(),
                    "available".into(),
                ),
            }
            metrics.insert("state".into(), json!(state));
        }
        StatusObs::Distribution { status, enabled } => {
            metrics.insert("state".into(), json!(status));
            metrics.insert("enabled".into(), json!(enabled));
            if !enabled {
                finding(
                    "status",
                    HealthStatus::Unhealthy,
                    false,
                    true,
                    format!("CloudFront distribution {id} is disabled"),
                    "distribution disabled".into(),
                    "status",
                    "disabled".into(),
                    "enabled".into(),
                );
            } else if classify_state(kind, status) != StateClass::Up {
                finding(
                    "status",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("CloudFront distribution {id} is {status}"),
                    format!("status {status}"),
                    "status",
                    status.clone(),
                    "Deployed".into(),
                );
            }
        }
        StatusObs::Ecs {
            status,
            desired,
            running,
            pending,
            deployments,
        } => {
            metrics.insert("state".into(), json!(status));
            metrics.insert("desired_count".into(), json!(desired));
            metrics.insert("running_count".into(), json!(running));
            metrics.insert("pending_count".into(), json!(pending));
            metrics.insert("deployments".into(), json!(deployments));
            let class = classify_state(kind, status);
            if class == StateClass::Down {
                finding(
                    "status",
                    HealthStatus::Unhealthy,
                    false,
                    true,
                    format!("ECS service {id} is {status}"),
                    format!("status {status}"),
                    "status",
                    status.clone(),
                    "ACTIVE".into(),
                );
            } else if *desired > 0 && *running == 0 {
                finding(
                    "tasks",
                    HealthStatus::Unhealthy,
                    false,
                    true,
                    format!("ECS service {id} has no running task"),
                    format!("0 of {desired} tasks running"),
                    "RunningCount",
                    "0".into(),
                    desired.to_string(),
                );
            } else if running < desired {
                finding(
                    "tasks",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("ECS service {id} is short of tasks"),
                    format!("{running} of {desired} tasks running"),
                    "RunningCount",
                    running.to_string(),
                    desired.to_string(),
                );
            } else if class == StateClass::Transitional {
                finding(
                    "status",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("ECS service {id} is {status}"),
                    format!("status {status}"),
                    "status",
                    status.clone(),
                    "ACTIVE".into(),
                );
            }
        }
        StatusObs::Capacity {
            status,
            desired,
            healthy,
            unhealthy,
            unit,
        } => {
            evaluated.push("capacity".into());
            metrics.insert("state".into(), json!(status));
            metrics.insert("desired_count".into(), json!(desired));
            metrics.insert("healthy_count".into(), json!(healthy));
            metrics.insert("unhealthy_count".into(), json!(unhealthy));
            let class = classify_state(kind, status);
            let title = kind_title(kind);
            if class == StateClass::Down {
                finding(
                    "status",
                    HealthStatus::Unhealthy,
                    false,
                    true,
                    format!("{title} {id} is {status}"),
                    format!("status {status}"),
                    "status",
                    status.clone(),
                    "active".into(),
                );
            } else if *desired > 0 && *healthy == 0 {
                finding(
                    "capacity",
                    HealthStatus::Unhealthy,
                    false,
                    true,
                    format!("{title} {id} has no healthy {unit}"),
                    format!("0 of {desired} {unit} healthy"),
                    "healthy",
                    "0".into(),
                    desired.to_string(),
                );
            } else if healthy < desired || *unhealthy > 0 {
                finding(
                    "capacity",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("{title} {id} is short of healthy {unit}"),
                    format!("{healthy} of {desired} {unit} healthy, {unhealthy} unhealthy"),
                    "healthy",
                    healthy.to_string(),
                    desired.to_string(),
                );
            } else if *desired == 0 && *unit == "targets" {
                // An empty group answers every request its listener sends it with a 503.
                finding(
                    "capacity",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("{title} {id} has no registered targets"),
                    "no targets registered".into(),
                    "healthy",
                    "0".into(),
                    "at least 1".into(),
                );
            } else if class == StateClass::Transitional {
                finding(
                    "status",
                    HealthStatus::Degraded,
                    false,
                    false,
                    format!("{title} {id} is {status}"),
                    format!("status {status}"),
                    "status",
                    status.clone(),
                    "active".into(),
                );
            }
        }
        StatusObs::Unreadable { reason, .. } => {
            status_readable = false;
            notes.push(format!("status unreadable: {reason}"));
        }
        StatusObs::NotChecked => {}
    }

    // Metrics.
    let value = |key: &str| obs.metrics.get(key).and_then(|m| m.window);
    let readable = |key: &str| obs.metrics.get(key).is_some_and(|m| m.error.is_none());
    let metrics_readable =
        obs.metrics_error.is_none() && obs.metrics.values().any(|m| m.error.is_none());
    if let Some(e) = &obs.metrics_error {
        notes.push(format!("metrics unreadable: {e}"));
    } else if let Some(e) = obs.metrics.values().find_map(|m| m.error.clone()) {
        notes.push(format!("some metrics unreadable: {e}"));
    }
    for s in spec::metrics(kind) {
        if !readable(s.key) {
            continue;
        }
        match value(s.key) {
            Some(v) => {
                metrics.insert(s.key.into(), slo::json_number(v));
            }
            // A count with no datapoints is 0; other statistics are simply absent.
            None if s.stat.is_count() => {
                metrics.insert(s.key.into(), json!(0));
            }
            None => {}
        }
    }

    if metrics_readable {
        // Error rate and availability.
        let rate = match error_rate_source(kind, resource) {
            Ok(RateSource::Ratio(part, total))
                if part.iter().chain(total.iter()).all(|k| readable(k)) =>
            {
                let sum = |keys: &[&str]| keys.iter().map(|k| value(k).unwrap_or(0.0)).sum();
                let r = slo::rate_percent(sum(part), sum(total));
                if r.is_none()
                    && (t.slos.contains_key("error_rate_percent")
                        || t.slos.contains_key("availability_percent"))
                {
                    notes.push("no traffic: error rate and availability not evaluated".into());
                }
                r
            }
            Ok(RateSource::Percent(key)) if readable(key) => {
                let r = value(key);
                if r.is_none() && t.slos.contains_key("error_rate_percent") {
                    notes.push("no traffic: error rate not evaluated".into());
                }
                r
            }
            Err(why) => {
                if t.slos.contains_key("error_rate_percent")
                    || t.slos.contains_key("availability_percent")
                {
                    notes.push(format!("error-rate SLOs not evaluated: {why}"));
                }
                None
            }
            _ => None,
        };
        if let Some(rate) = rate {
            evaluated.extend(["error_rate", "availability"].map(String::from));
            metrics.insert("error_rate_percent".into(), slo::json_number(rate));
            metrics.insert(
                "availability_percent".into(),
                slo::json_number(100.0 - rate),
            );
            if let Some(&th) = t.slos.get("error_rate_percent") {
                let v = slo::upper_bound(rate, th);
                if v != Verdict::Ok {
                    let cmp = if v == Verdict::Unhealthy { ">" } else { "near" };
                    finding(
                        "error_rate",
                        verdict_status(v),
                        v == Verdict::Unhealthy,
                        false,
                        format!(
                            "{} error rate {}",
                            kind_title(kind),
                            if v == Verdict::Unhealthy {
                                "exceeds SLO"
                            } else {
                                "approaching SLO"
                            }
                        ),
                        format!("error rate {}% {cmp} SLO {}%", fmt_num(rate), fmt_num(th)),
                        error_metric_name(kind),
                        format!("{}%", fmt_num(rate)),
                        format!("{}%", fmt_num(th)),
                    );
                }
            }
            if let Some(&a) = t.slos.get("availability_percent") {
                let v = slo::availability(rate, a);
                metrics.insert(
                    "error_budget_used_percent".into(),
                    slo::json_number(slo::budget_used_percent(rate, a)),
                );
                if v != Verdict::Ok {
                    let reason = if v == Verdict::Unhealthy {
                        format!(
                            "availability {}% < SLO {}%",
                            fmt_num(100.0 - rate),
                            fmt_num(a)
                        )
                    } else {
                        format!(
                            "{}% of the error budget used (availability {}%, SLO {}%)",
                            fmt_num(slo::budget_used_percent(rate, a)),
                            fmt_num(100.0 - rate),
                            fmt_num(a)
                        )
                    };
                    finding(
                        "availability",
                        verdict_status(v),
                        v == Verdict::Unhealthy,
                        false,
                        format!(
                            "{} availability {}",
                            kind_title(kind),
                            if v == Verdict::Unhealthy {
                                "below SLO"
                            } else {
                                "error budget nearly spent"
                            }
                        ),
                        reason,
                        "availability",
                        format!("{}%", fmt_num(100.0 - rate)),
                        format!("{}%", fmt_num(a)),
                    );
                }
            }
        }

        // Latency SLOs.
        for key in LATENCY_SLOS {
            let Some(&th) = t.slos.get(*key) else {
                continue;
            };
            let Some(mkey) = latency_metric(kind, key) else {
                notes.push(format!(
                    "SLO {key} not evaluated: no {kind} metric measures it"
                ));
                continue;
            };
            if let Err(why) = kinds::addressable(kind, resource, mkey, "") {
                notes.push(format!("SLO {key} not evaluated: {why}"));
                continue;
            }
            if !readable(mkey) {
                continue;
            }
            let Some(v) = value(mkey) else {
                notes.push(format!(
                    "SLO {key} not evaluated: no {mkey} datapoints (no traffic)"
                ));
                continue;
            };
            evaluated.push(key.trim_end_matches("_ms").to_string());
            let verdict = slo::upper_bound(v, th);
            if verdict != Verdict::Ok {
                let check = key.trim_end_matches("_ms");
                let label = key.trim_end_matches("_ms").replace('_', " ");
                finding(
                    check,
                    verdict_status(verdict),
                    verdict == Verdict::Unhealthy,
                    false,
                    format!(
                        "{} {label} {}",
                        kind_title(kind),
                        if verdict == Verdict::Unhealthy {
                            "exceeds SLO"
                        } else {
                            "approaching SLO"
                        }
                    ),
                    format!(
                        "{label} {}ms {} SLO {}ms",
                        fmt_num(v),
                        if verdict == Verdict::Unhealthy {
                            ">"
                        } else {
                            "near"
                        },
                        fmt_num(th)
                    ),
                    mkey,
                    format!("{}ms", fmt_num(v)),
                    format!("{}ms", fmt_num(th)),
                );
            }
        }

        // Saturation.
        if matches!(
            kind,
            ResourceKind::Ecs | ResourceKind::Rds | ResourceKind::ElastiCache | ResourceKind::Asg
        ) {
            for (check, key, degraded, unhealthy) in [
                ("cpu", "cpu_avg_percent", t.cpu_degraded, t.cpu_unhealthy),
                (
                    "memory",
                    "memory_avg_percent",
                    t.memory_degraded,
                    t.memory_unhealthy,
                ),
            ] {
                let Some(v) = value(key).filter(|_| readable(key)) else {
                    continue;
                };
                evaluated.push(check.to_string());
                let verdict = slo::saturation(v, degraded, unhealthy);
                if verdict != Verdict::Ok {
                    finding(
                        check,
                        verdict_status(verdict),
                        false,
                        false,
                        format!("{} {check} saturated", kind_title(kind)),
                        format!(
                            "{check} {}% (limit {}%)",
                            fmt_num(v),
                            fmt_num(if verdict == Verdict::Unhealthy {
                                unhealthy
                            } else {
                                degraded
                            })
                        ),
                        key,
                        format!("{}%", fmt_num(v)),
                        format!("{}%", fmt_num(degraded)),
                    );
                }
            }
        }
    }

    // Alarms: every alarm of the resource was judged when the sweep was read.
    if obs.alarms_read && obs.alarms_error.is_none() {
        evaluated.push("alarm:".into());
    }
    if let Some(e) = &obs.alarms_error {
        notes.push(format!("alarms unreadable: {e}"));
    }
    for a in &obs.alarms {
        match a.state.as_str() {
            "ALARM" => finding(
                &format!("alarm:{}", a.name),
                HealthStatus::Unhealthy,
                false,
                false,
                format!("Alarm {} is in ALARM", a.name),
                format!("alarm {} in ALARM", a.name),
                "alarm",
                "ALARM".into(),
                "OK".into(),
            ),
            "INSUFFICIENT_DATA" => notes.push(format!("alarm {} has insufficient data", a.name)),
            _ => {}
        }
    }

    // One symptom, one finding: the error rate and availability are the same SLI, so when
    // both objectives fire they make one finding (the worse verdict) naming both.
    if let (Some(e), Some(a)) = (
        findings.iter().position(|f| f.check == "error_rate"),
        findings.iter().position(|f| f.check == "availability"),
    ) {
        let avail = findings.remove(a);
        let e = if a < e { e - 1 } else { e };
        let f = &mut findings[e];
        f.status = f.status.max(avail.status);
        f.slo_breach |= avail.slo_breach;
        f.reason = format!("{}; {}", f.reason, avail.reason);
        f.threshold = format!("{} (availability {})", f.threshold, avail.threshold);
        f.title = format!("{} (error rate and availability objectives)", f.title);
    }

    // The verdict: the worst finding. A resource whose SLO metrics could not be read is
    // UNKNOWN, never HEALTHY by default; a finding that proves worse (a stopped status, an
    // alarm) still counts.
    let worst = findings
        .iter()
        .map(|f| f.status)
        .max()
        .unwrap_or(HealthStatus::Healthy);
    let nothing_read = !status_readable && !metrics_readable;
    let mut slo_keys: Vec<&str> = Vec::new();
    if t.slos.contains_key("error_rate_percent") || t.slos.contains_key("availability_percent") {
        match error_rate_source(kind, resource) {
            Ok(RateSource::Ratio(part, total)) => slo_keys.extend(part.iter().chain(total.iter())),
            Ok(RateSource::Percent(key)) => slo_keys.push(key),
            Ok(RateSource::None(_)) | Err(_) => {}
        }
    }
    for key in LATENCY_SLOS {
        if t.slos.contains_key(*key)
            && let Some(m) = latency_metric(kind, key)
            && kinds::addressable(kind, resource, m, "").is_ok()
        {
            slo_keys.push(m);
        }
    }
    // The whole metrics read failed, or a metric one of its SLOs needs did.
    let slo_metrics_unread = obs.metrics_error.is_some()
        || slo_keys
            .iter()
            .any(|k| obs.metrics.get(k).is_some_and(|v| v.error.is_some()));
    let status = if worst == HealthStatus::Healthy
        && ((findings.is_empty() && nothing_read) || slo_metrics_unread)
    {
        HealthStatus::Unknown
    } else {
        worst
    };
    let mut reasons: Vec<String> = findings.iter().map(|f| f.reason.clone()).collect();
    if status == HealthStatus::Unknown {
        reasons.extend(notes.iter().filter(|n| n.contains("unreadable")).cloned());
    }

    let series = |key: &str| {
        obs.metrics
            .get(key)
            .map(|m| m.series.iter().map(|(_, v)| *v).collect())
            .unwrap_or_default()
    };
    let row = kinds::info(kind);
    let (error_series, latency_series) = (
        row.error_series.map(series).unwrap_or_default(),
        row.latency_series.map(series).unwrap_or_default(),
    );

    ResourceResult {
        id: resource.id.clone(),
        kind,
        name: resource.name.clone(),
        arn: resource.arn.clone(),
        account: resource
            .parsed_arn
            .as_ref()
            .and_then(|a| a.account.clone())
            .filter(|a| !a.is_empty()),
        status,
        reasons,
        notes,
        metrics,
        alarms: obs.alarms.clone(),
        findings,
        evaluated,
        error_series,
        latency_series,
    }
}

fn kind_title(kind: ResourceKind) -> &'static str {
    kinds::info(kind).title
}

fn error_metric_name(kind: ResourceKind) -> &'static str {
    kinds::info(kind).error_metric
}

/// The worst of several statuses; HEALTHY for none.
pub fn overall(statuses: impl IntoIterator<Item = HealthStatus>) -> HealthStatus {
    statuses.into_iter().max().unwrap_or(HealthStatus::Healthy)
}

/// A sparkline of values (▁ to █); empty for no values.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() {
        return String::new();
    }
    let (min, max) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    values
        .iter()
        .map(|v| {
            if max > min {
                BARS[(((v - min) / (max - min)) * 7.0).round() as usize]
            } else {
                BARS[0]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn resource(kind: &str, arn: &str, slo: &str) -> Resource {
        let text = format!(
            r#"{{"deployments": [{{"id": "d", "environment": "test", "resources": [{{"id": "r", "type": "{kind}", "arn": "{arn}"{slo}}}]}}]}}"#
        );
        Registry::parse(std::path::Path::new("r.json"), &text)
            .unwrap()
            .environment_view("test")
            .resources[0]
            .clone()
    }

    fn lambda(slo: &str) -> Resource {
        resource(
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            slo,
        )
    }

    fn obs(status: StatusObs, metrics: &[(&'static str, Option<f64>)]) -> Observation {
        Observation {
            alarms_error: None,
            alarms_read: true,
            status,
            metrics: metrics
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        MetricValues {
                            window: *v,
                            series: vec![],
                            error: None,
                        },
                    )
                })
                .collect(),
            metrics_error: None,
            alarms: vec![],
        }
    }

    fn active() -> StatusObs {
        StatusObs::State {
            state: "Active".into(),
            detail: None,
        }
    }

    fn judge(r: &Resource, kind: ResourceKind, o: &Observation) -> ResourceResult {
        evaluate(
            r,
            kind,
            o,
            &Thresholds::for_resource(&Monitoring::defaults(), r, kind),
        )
    }

    fn lambda_obs(invocations: f64, errors: f64, p95: f64) -> Observation {
        obs(
            active(),
            &[
                ("invocations", Some(invocations)),
                ("errors", Some(errors)),
                ("duration_p95_ms", Some(p95)),
            ],
        )
    }

    fn capacity(desired: i64, healthy: i64, unhealthy: i64, unit: &'static str) -> StatusObs {
        StatusObs::Capacity {
            status: "active".into(),
            desired,
            healthy,
            unhealthy,
            unit,
        }
    }

    #[test]
    fn groups_are_judged_by_their_healthy_members() {
        let asg = resource(
            "asg",
            "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:u:autoScalingGroupName/w",
            "",
        );
        let tg = resource(
            "targetgroup",
            "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/73e2",
            "",
        );
        let cases = [
            (
                &asg,
                ResourceKind::Asg,
                capacity(2, 2, 0, "instances"),
                "HEALTHY",
                "",
            ),
            (
                &asg,
                ResourceKind::Asg,
                capacity(3, 2, 0, "instances"),
                "DEGRADED",
                "2 of 3 instances healthy",
            ),
            (
                &asg,
                ResourceKind::Asg,
                capacity(2, 2, 1, "instances"),
                "DEGRADED",
                "1 unhealthy",
            ),
            (
                &asg,
                ResourceKind::Asg,
                capacity(1, 0, 1, "instances"),
                "UNHEALTHY",
                "0 of 1 instances healthy",
            ),
            // Scaled to zero on purpose.
            (
                &asg,
                ResourceKind::Asg,
                capacity(0, 0, 0, "instances"),
                "HEALTHY",
                "",
            ),
            (
                &tg,
                ResourceKind::TargetGroup,
                capacity(0, 0, 0, "targets"),
                "DEGRADED",
                "no targets registered",
            ),
            (
                &tg,
                ResourceKind::TargetGroup,
                capacity(2, 0, 2, "targets"),
                "UNHEALTHY",
                "0 of 2 targets healthy",
            ),
        ];
        for (r, kind, status, want, reason) in cases {
            let got = judge(r, kind, &obs(status.clone(), &[]));
            assert_eq!(got.status.as_str(), want, "{status:?}: {:?}", got.findings);
            assert!(
                if reason.is_empty() {
                    got.findings.is_empty()
                } else {
                    got.findings.iter().any(|f| f.reason.contains(reason))
                },
                "{status:?}: {:?}",
                got.findings
            );
        }
        // A group being deleted is down, whatever its members.
        let deleting = StatusObs::Capacity {
            status: "deleting".into(),
            desired: 2,
            healthy: 2,
            unhealthy: 0,
            unit: "instances",
        };
        assert_eq!(
            judge(&asg, ResourceKind::Asg, &obs(deleting, &[])).status,
            HealthStatus::Unhealthy
        );
    }

    #[test]
    fn a_cache_is_judged_by_saturation_and_a_stream_by_throttles_and_iterator_age() {
        let cache = resource(
            "elasticache",
            "arn:aws:elasticache:us-east-1:1:cluster:c",
            "",
        );
        let available = StatusObs::State {
            state: "available".into(),
            detail: None,
        };
        let got = judge(
            &cache,
            ResourceKind::ElastiCache,
            &obs(
                available.clone(),
                &[("cpu_avg_percent", Some(85.0)), ("evictions", Some(10.0))],
            ),
        );
        assert_eq!(got.status, HealthStatus::Degraded, "{:?}", got.findings);
        assert_eq!(got.findings[0].check, "cpu");
        let stream = resource("kinesis", "arn:aws:kinesis:us-east-1:1:stream/s", "");
        let active = StatusObs::State {
            state: "ACTIVE".into(),
            detail: None,
        };
        let m = |throttled: f64, age: f64| {
            obs(
                active.clone(),
                &[
                    ("incoming_records", Some(990.0)),
                    ("write_throttled", Some(throttled)),
                    ("iterator_age_max_ms", Some(age)),
                ],
            )
        };
        let ok = judge(&stream, ResourceKind::Kinesis, &m(0.0, 1000.0));
        assert_eq!(ok.status, HealthStatus::Healthy, "{:?}", ok.findings);
        // 10 of 1000 put: 1% is at the 1% SLO (DEGRADED, not a breach); the age over 60 s is.
        let bad = judge(&stream, ResourceKind::Kinesis, &m(10.0, 61_000.0));
        assert_eq!(bad.status, HealthStatus::Unhealthy, "{:?}", bad.findings);
        assert!(bad.findings.iter().any(|f| f.check == "iterator_age"));
        assert!(
            bad.findings
                .iter()
                .any(|f| f.check == "error_rate" && f.status == HealthStatus::Degraded)
        );
        let resharding = StatusObs::State {
            state: "UPDATING".into(),
            detail: None,
        };
        assert_eq!(
            judge(&stream, ResourceKind::Kinesis, &obs(resharding, &[])).status,
            HealthStatus::Degraded
        );
    }

    #[test]
    fn lambda_at_5_percent_errors_is_unhealthy_with_an_slo_breach() {
        let r = judge(
            &lambda(""),
            ResourceKind::Lambda,
            &lambda_obs(1250.0, 65.0, 150.0),
        );
        assert_eq!(r.status, HealthStatus::Unhealthy);
        // One symptom, one finding: both objectives of the one SLI are named in it.
        assert_eq!(
            r.reasons,
            ["error rate 5.2% > SLO 0.1%; availability 94.8% < SLO 99.9%"]
        );
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        let f = &r.findings[0];
        assert_eq!(f.check, "error_rate");
        assert!(f.slo_breach);
        assert_eq!(f.status, HealthStatus::Unhealthy);
        assert_eq!(r.metrics["error_rate_percent"], 5.2);
        assert!(r.evaluated.contains(&"availability".to_string()));
    }

    #[test]
    fn unreadable_slo_metrics_make_a_resource_unknown_not_healthy() {
        let mut o = lambda_obs(1250.0, 65.0, 150.0);
        o.metrics_error = Some("cloudwatch:GetMetricData: endpoint unreachable".into());
        let r = judge(&lambda(""), ResourceKind::Lambda, &o);
        assert_eq!(r.status, HealthStatus::Unknown, "{r:?}");
        assert!(
            r.evaluated
                .iter()
                .all(|c| c == "status" || c == "drift" || c == "tasks" || c == "alarm:"),
            "{:?}",
            r.evaluated
        );
        // A stopped status still says UNHEALTHY when the metrics are unreadable.
        let mut down = obs(
            StatusObs::State {
                state: "Failed".into(),
                detail: None,
            },
            &[],
        );
        down.metrics_error = Some("x".into());
        assert_eq!(
            judge(&lambda(""), ResourceKind::Lambda, &down).status,
            HealthStatus::Unhealthy
        );
    }

    #[test]
    fn lambda_at_0_09_percent_against_0_1_is_degraded() {
        let r = judge(
            &lambda(""),
            ResourceKind::Lambda,
            &lambda_obs(10_000.0, 9.0, 150.0),
        );
        assert_eq!(r.status, HealthStatus::Degraded);
        assert!(r.findings.iter().all(|f| !f.slo_breach));
        assert!(
            r.reasons.iter().any(|x| x.contains("error budget")),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn healthy_lambda_has_no_reasons() {
        let r = judge(
            &lambda(""),
            ResourceKind::Lambda,
            &lambda_obs(10_000.0, 1.0, 150.0),
        );
        assert_eq!(r.status, HealthStatus::Healthy);
        assert!(r.reasons.is_empty());
    }

    #[test]
    fn p95_over_its_slo_is_unhealthy_and_a_resource_override_wins() {
        let r = judge(
            &lambda(""),
            ResourceKind::Lambda,
            &lambda_obs(1000.0, 0.0, 450.0),
        );
        assert_eq!(r.status, HealthStatus::Unhealthy);
        assert!(
            r.reasons
                .iter()
                .any(|x| x == "p95 latency 450ms > SLO 200ms"),
            "{:?}",
            r.reasons
        );
        let relaxed = lambda(r#", "slo": {"p95_latency_ms": 1000}"#);
        assert_eq!(
            judge(
                &relaxed,
                ResourceKind::Lambda,
                &lambda_obs(1000.0, 0.0, 450.0)
            )
            .status,
            HealthStatus::Healthy
        );
    }

    #[test]
    fn no_traffic_is_not_evaluated_and_counts_without_datapoints_are_zero() {
        let r = judge(
            &lambda(""),
            ResourceKind::Lambda,
            &obs(
                active(),
                &[
                    ("invocations", None),
                    ("errors", None),
                    ("duration_p95_ms", None),
                ],
            ),
        );
        assert_eq!(r.status, HealthStatus::Healthy);
        assert_eq!(r.metrics["invocations"], 0);
        assert!(
            r.notes.iter().any(|n| n.contains("no traffic")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn missing_stopped_and_pending_statuses() {
        let db = resource("rds", "arn:aws:rds:us-east-1:123456789012:db:x", "");
        let stopped = judge(
            &db,
            ResourceKind::Rds,
            &obs(
                StatusObs::State {
                    state: "stopped".into(),
                    detail: None,
                },
                &[],
            ),
        );
        assert_eq!(stopped.status, HealthStatus::Unhealthy);
        assert!(stopped.findings[0].down);
        let modifying = judge(
            &db,
            ResourceKind::Rds,
            &obs(
                StatusObs::State {
                    state: "modifying".into(),
                    detail: None,
                },
                &[],
            ),
        );
        assert_eq!(modifying.status, HealthStatus::Degraded);
        let missing = judge(&db, ResourceKind::Rds, &obs(StatusObs::Missing, &[]));
        assert_eq!(missing.status, HealthStatus::Unhealthy);
        assert_eq!(missing.reasons, vec!["not found in AWS (registry drift)"]);
    }

    #[test]
    fn ecs_short_of_tasks_is_degraded_and_none_running_is_unhealthy() {
        let web = resource(
            "ecs",
            "arn:aws:ecs:us-east-1:123456789012:service/c/web",
            "",
        );
        let ecs = |running| StatusObs::Ecs {
            status: "ACTIVE".into(),
            desired: 3,
            running,
            pending: 0,
            deployments: 1,
        };
        assert_eq!(
            judge(&web, ResourceKind::Ecs, &obs(ecs(2), &[])).status,
            HealthStatus::Degraded
        );
        assert_eq!(
            judge(&web, ResourceKind::Ecs, &obs(ecs(0), &[])).status,
            HealthStatus::Unhealthy
        );
        assert_eq!(
            judge(&web, ResourceKind::Ecs, &obs(ecs(3), &[])).status,
            HealthStatus::Healthy
        );
        let hot = judge(
            &web,
            ResourceKind::Ecs,
            &obs(ecs(3), &[("cpu_avg_percent", Some(96.0))]),
        );
        assert_eq!(hot.status, HealthStatus::Unhealthy);
        let warm = judge(
            &web,
            ResourceKind::Ecs,
            &obs(ecs(3), &[("cpu_avg_percent", Some(85.0))]),
        );
        assert_eq!(warm.status, HealthStatus::Degraded);
    }

    #[test]
    fn an_alarm_in_alarm_is_unhealthy_and_insufficient_data_only_noted() {
        let mut o = lambda_obs(1000.0, 0.0, 100.0);
        o.alarms = vec![AlarmObs {
            name: "api-errors".into(),
            state: "INSUFFICIENT_DATA".into(),
            reason: None,
        }];
        let r = judge(&lambda(""), ResourceKind::Lambda, &o);
        assert_eq!(r.status, HealthStatus::Healthy);
        assert!(r.notes.iter().any(|n| n.contains("insufficient data")));
        o.alarms[0].state = "ALARM".into();
        let r = judge(&lambda(""), ResourceKind::Lambda, &o);
        assert_eq!(r.status, HealthStatus::Unhealthy);
        assert!(r.reasons.iter().any(|x| x.contains("api-errors")));
    }

    #[test]
    fn nothing_readable_is_unknown_with_the_reason() {
        let mut o = obs(
            StatusObs::Unreadable {
                reason: "lambda:GetFunction failed: AccessDeniedException".into(),
                unreachable: false,
            },
            &[],
        );
        o.metrics.insert(
            "errors",
            MetricValues {
                window: None,
                series: vec![],
                error: Some("Forbidden".into()),
            },
        );
        let r = judge(&lambda(""), ResourceKind::Lambda, &o);
        assert_eq!(r.status, HealthStatus::Unknown);
        assert!(r.reasons[0].contains("AccessDenied"), "{:?}", r.reasons);
    }

    #[test]
    fn overall_is_the_worst_in_the_documented_order() {
        use HealthStatus::*;
        assert_eq!(overall([Healthy, Unknown]), Unknown);
        assert_eq!(overall([Unknown, Degraded]), Degraded);
        assert_eq!(overall([Degraded, Unhealthy, Healthy]), Unhealthy);
        assert_eq!(overall([]), Healthy);
        assert_eq!(
            [Healthy, Degraded, Unhealthy, Unknown].map(HealthStatus::exit_code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn sparkline_spans_the_range() {
        assert_eq!(sparkline(&[0.0, 1.0, 2.0, 7.0]), "▁▂▃█");
        assert_eq!(sparkline(&[3.0, 3.0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }
}
