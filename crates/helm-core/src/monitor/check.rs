//! The health check use case (the plugin's ops-monitor), the same for `health`,
//! `dashboard --refresh` and, next, `watch`: observe the targets through the [`Observer`]
//! port, judge each resource, ask for a resource's own status where a list could not say
//! it, and build the report; then [`record`] syncs the issues on the evidence of what was
//! evaluated and saves the report.

use super::report::{self, HealthReport, ReportIssue, Skipped, Window};
use super::{HealthStatus, Observation, ResourceResult, StatusObs, Thresholds};
use crate::clock::{file_stamp, rfc3339};
use crate::config::Monitoring;
use crate::fsutil;
use crate::issues::{Evaluated, IssueStore};
use crate::ports::Observer;
use crate::registry::Resource;
use crate::resource::ResourceKind;
use chrono::{DateTime, Utc};
use std::path::Path;

/// One resource to observe, with its kind resolved and its region decided.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: Resource,
    pub kind: ResourceKind,
    pub region: String,
}

impl Target {
    /// The account of the resource's ARN (None: an ARN without one, such as an S3 bucket's).
    pub fn account(&self) -> Option<&str> {
        self.resource.account()
    }
}

/// What to fetch and over which window.
#[derive(Debug, Clone)]
pub struct HealthOptions {
    pub environment: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Period of the series queries (sparklines, trends), a multiple of 60.
    pub series_period_secs: i32,
    pub status: bool,
    pub metrics: bool,
    pub alarms: bool,
}

impl HealthOptions {
    /// CloudWatch metrics only (no status, no alarms) over `start..end`, with the
    /// series period [`series_period_for`] gives that window.
    pub fn metrics_only(environment: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        HealthOptions {
            environment: environment.to_owned(),
            start,
            end,
            series_period_secs: series_period_for((end - start).num_seconds()),
            status: false,
            metrics: true,
            alarms: false,
        }
    }

    /// A health check over `start..end`: status, metrics and alarms as `[monitoring]
    /// enabled_checks` turns them on (`resource_status`, `cloudwatch_metrics`,
    /// `cloudwatch_alarms`).
    pub fn health(
        environment: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        enabled_checks: &[String],
    ) -> Self {
        let on = |c: &str| enabled_checks.iter().any(|e| e == c);
        HealthOptions {
            status: on("resource_status"),
            metrics: on("cloudwatch_metrics"),
            alarms: on("cloudwatch_alarms"),
            ..HealthOptions::metrics_only(environment, start, end)
        }
    }

    /// The period that covers the whole window in one datapoint (a multiple of 60).
    pub fn window_period_secs(&self) -> i32 {
        let secs = (self.end - self.start).num_seconds().max(60);
        (((secs + 59) / 60) * 60) as i32
    }
}

/// The series period for a window: about 12 points, at least one minute.
pub fn series_period_for(window_secs: i64) -> i32 {
    let p = (window_secs / 12).max(60);
    (((p + 59) / 60) * 60) as i32
}

/// Why a health check could not run at all.
#[derive(Debug)]
pub enum HealthStop {
    /// AWS did not answer for any resource: the reason of the first.
    Unreachable(String),
}

impl From<HealthStop> for crate::ports::Failure {
    fn from(HealthStop::Unreachable(reason): HealthStop) -> Self {
        crate::ports::Failure::unavailable(
            "aws",
            reason.clone(),
            format!("AWS could not be reached: {reason}"),
            "check the network, --endpoint-url / AWS_ENDPOINT_URL and --region",
        )
    }
}

/// Whether a status that came from a list deserves a per-resource detail call: the lists
/// of Lambda, DynamoDB and API Gateway say that a resource exists, not its state (or, for
/// an API, that its stage exists). Traffic proves the rest; a resource with none (an
/// Inactive function, a missing stage) gets the detail call.
fn wants_detail(t: &Target, o: &Observation) -> bool {
    let from_list = matches!(&o.status, StatusObs::State { detail: None, .. });
    let traffic_key = match t.kind {
        ResourceKind::Lambda => "invocations",
        ResourceKind::ApiGateway => "requests",
        ResourceKind::DynamoDb => "latency_avg_ms",
        _ => return false,
    };
    let quiet = o
        .metrics
        .get(traffic_key)
        .is_none_or(|m| m.window.unwrap_or(0.0) == 0.0);
    from_list && quiet
}

fn judge(m: &Monitoring, t: &Target, o: &Observation) -> ResourceResult {
    super::evaluate(
        &t.resource,
        t.kind,
        o,
        &Thresholds::for_resource(m, &t.resource, t.kind),
    )
}

/// Check every target: the report (not yet saved) and each resource's result.
pub async fn check<O: Observer>(
    observer: &O,
    monitoring: &Monitoring,
    targets: &[Target],
    skipped: Vec<Skipped>,
    opts: &HealthOptions,
) -> Result<(HealthReport, Vec<ResourceResult>), HealthStop> {
    let env = opts.environment.as_str();
    let mut observations = observer.observe(targets, opts).await;
    let mut results: Vec<ResourceResult> = targets
        .iter()
        .zip(&observations)
        .map(|(t, o)| judge(monitoring, t, o))
        .collect();
    for i in 0..targets.len() {
        if opts.status && wants_detail(&targets[i], &observations[i]) {
            observations[i].status = observer.detail_status(&targets[i], env).await;
            results[i] = judge(monitoring, &targets[i], &observations[i]);
        }
    }
    let unreachable = !targets.is_empty()
        && observations.iter().all(|o| {
            matches!(
                o.status,
                StatusObs::Unreadable {
                    unreachable: true,
                    ..
                } | StatusObs::NotChecked
            )
        })
        && observations
            .iter()
            .all(|o| o.metrics_error.is_some() || !opts.metrics);
    if unreachable {
        let reason = observations.iter().find_map(|o| match &o.status {
            StatusObs::Unreadable { reason, .. } => Some(reason.clone()),
            _ => None,
        });
        return Err(HealthStop::Unreachable(reason.unwrap_or_default()));
    }
    // Nothing checked is never HEALTHY: an empty environment, one whose resources are all
    // of unsupported types, says what was not checked and is UNKNOWN.
    let mut overall = super::overall(results.iter().map(|r| r.status));
    let mut not_checked = Vec::new();
    if results.is_empty() {
        overall = HealthStatus::Unknown;
        not_checked.push(if skipped.is_empty() {
            format!("environment {env} has no resources in the registry: nothing was checked")
        } else {
            format!(
                "environment {env} has no resource of a supported type: nothing was checked ({} skipped)",
                skipped.len()
            )
        });
    }
    let report = HealthReport {
        overall_health: overall,
        not_checked,
        environment: env.to_string(),
        timestamp: rfc3339(opts.end),
        window: Window {
            start: rfc3339(opts.start),
            end: rfc3339(opts.end),
        },
        resources: HealthReport::counts(&results),
        results: results.clone(),
        issues: Vec::new(),
        recommendations: report::recommendations(env, &results),
        skipped,
        report_path: String::new(),
    };
    Ok((report, results))
}

/// Open, update or resolve issues on the evidence of this check, and save the report
/// under `reports_dir` (a second report of the same second keeps both). Returns the ids
/// resolved and the saved path.
pub fn record(
    store: &IssueStore,
    report: &mut HealthReport,
    results: &[ResourceResult],
    requires_confirmation: bool,
    reports_dir: &Path,
    now: DateTime<Utc>,
) -> crate::Result<(Vec<String>, std::path::PathBuf)> {
    let env = report.environment.clone();
    let detections: Vec<_> = results
        .iter()
        .flat_map(|r| report::detections(&env, r, requires_confirmation))
        .collect();
    // Evidence for resolution: each check that was read and judged on each resource.
    let mut evaluated = Evaluated::new();
    for r in results {
        for c in &r.evaluated {
            evaluated.add(&r.id, c);
        }
    }
    let outcome = store.sync(&env, "health", &detections, &evaluated, now)?;
    for (d, (_, id, opened)) in detections.iter().zip(&outcome.issues) {
        let finding = results
            .iter()
            .find(|r| r.id == d.resource)
            .and_then(|r| r.findings.iter().find(|f| f.check == d.check));
        if let Some(f) = finding {
            report.issues.push(ReportIssue {
                severity: d.severity,
                resource: d.resource.clone(),
                issue: if *opened {
                    format!("{} (new)", f.title)
                } else {
                    f.title.clone()
                },
                metric: f.metric.clone(),
                current_value: f.current_value.clone(),
                threshold: f.threshold.clone(),
                issue_id: Some(id.clone()),
            });
        }
    }
    let path = fsutil::reserve_unique(reports_dir, &file_stamp(now), "-health-check.json")?;
    Ok((outcome.resolved, path))
}

/// Write the report (with its `report_path` set) where [`record`] reserved it.
pub fn save(report: &HealthReport, path: &Path) -> crate::Result<()> {
    let json = report.to_json();
    fsutil::write_reserved(
        path,
        (serde_json::to_string_pretty(&json).expect("JSON") + "\n").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    //! The health check on a fake of its port: no emulator, no network.
    use super::*;
    use crate::monitor::MetricValues;
    use futures::executor::block_on;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// An observer that answers with what the test sets, and counts detail calls.
    struct FakeObserver {
        observations: Mutex<Vec<Observation>>,
        details: Mutex<u32>,
    }

    impl Observer for FakeObserver {
        async fn metric_data(
            &self,
            _r: &str,
            q: &[crate::ports::MetricQuery],
            _s: chrono::DateTime<chrono::Utc>,
            _e: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<crate::ports::MetricSeries>, crate::ports::Failure> {
            Ok(vec![Default::default(); q.len()])
        }
        async fn observe(&self, _t: &[Target], _o: &HealthOptions) -> Vec<Observation> {
            self.observations.lock().unwrap().clone()
        }
        async fn detail_status(&self, _t: &Target, _e: &str) -> StatusObs {
            *self.details.lock().unwrap() += 1;
            StatusObs::State {
                state: "Active".into(),
                detail: Some("from GetFunction".into()),
            }
        }
    }

    fn target() -> Target {
        let r = crate::testing::view(
            r#"{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:api"}"#,
        )
        .resources[0]
        .clone();
        Target {
            resource: r,
            kind: ResourceKind::Lambda,
            region: "us-east-1".into(),
        }
    }

    fn lambda(invocations: f64, errors: f64, metrics_error: Option<&str>) -> Observation {
        let mut metrics = BTreeMap::new();
        if metrics_error.is_none() {
            for (k, v) in [
                ("invocations", invocations),
                ("errors", errors),
                ("duration_p95_ms", 50.0),
            ] {
                metrics.insert(
                    k,
                    MetricValues {
                        window: Some(v),
                        ..Default::default()
                    },
                );
            }
        }
        Observation {
            status: StatusObs::State {
                state: "Active".into(),
                detail: None,
            },
            metrics,
            metrics_error: metrics_error.map(str::to_string),
            alarms: vec![],
            alarms_error: None,
            alarms_read: true,
        }
    }

    fn opts() -> HealthOptions {
        let end = crate::clock::parse_rfc3339("2026-12-01T10:00:00Z").unwrap();
        HealthOptions {
            environment: "test".into(),
            start: end - chrono::Duration::hours(1),
            end,
            series_period_secs: 300,
            status: true,
            metrics: true,
            alarms: true,
        }
    }

    fn fake(o: Observation) -> FakeObserver {
        FakeObserver {
            observations: Mutex::new(vec![o]),
            details: Mutex::new(0),
        }
    }

    #[test]
    fn issues_open_stay_open_without_evidence_and_resolve_when_the_check_passes() {
        let dir = tempfile::tempdir().unwrap();
        let store = IssueStore::new(dir.path(), "a/", "r/", "infrastructure", 90);
        let m = Monitoring::defaults();
        let reports = dir.path().join("reports");
        let step = |o: Observation, at: &str| {
            let (mut rep, res) =
                block_on(check(&fake(o), &m, &[target()], vec![], &opts())).unwrap();
            let now = crate::clock::parse_rfc3339(at).unwrap();
            let (resolved, path) = record(&store, &mut rep, &res, false, &reports, now).unwrap();
            save(&rep, &path).unwrap();
            (rep, resolved)
        };
        let (rep, _) = step(lambda(1000.0, 50.0, None), "2026-12-01T10:00:00Z");
        assert_eq!(rep.overall_health, HealthStatus::Unhealthy);
        assert_eq!(rep.issues.len(), 1, "one SLI, one issue: {:?}", rep.issues);
        // Metrics unreadable: UNKNOWN, and the issue stays open.
        let (rep, resolved) = step(
            lambda(
                0.0,
                0.0,
                Some("cloudwatch:GetMetricData: endpoint unreachable"),
            ),
            "2026-12-01T10:05:00Z",
        );
        assert_eq!(rep.results[0].status, HealthStatus::Unknown);
        assert!(resolved.is_empty());
        // No traffic: not evaluated, still open.
        let (_, resolved) = step(lambda(0.0, 0.0, None), "2026-12-01T10:10:00Z");
        assert!(resolved.is_empty());
        // Traffic without errors: resolved.
        let (rep, resolved) = step(lambda(1000.0, 0.0, None), "2026-12-01T10:15:00Z");
        assert_eq!(rep.overall_health, HealthStatus::Healthy);
        assert_eq!(resolved.len(), 1);
        assert_eq!(
            std::fs::read_dir(&reports).unwrap().count(),
            4,
            "every report kept"
        );
    }

    #[test]
    fn nothing_to_check_is_unknown_and_nothing_readable_is_unreachable() {
        let m = Monitoring::defaults();
        let (rep, _) = block_on(check(
            &fake(lambda(0.0, 0.0, None)),
            &m,
            &[],
            vec![],
            &opts(),
        ))
        .unwrap();
        assert_eq!(rep.overall_health, HealthStatus::Unknown);
        assert!(rep.not_checked[0].contains("no resources"));
        let mut down = lambda(0.0, 0.0, Some("x"));
        down.status = StatusObs::Unreadable {
            reason: "lambda:ListFunctions in us-east-1: endpoint unreachable".into(),
            unreachable: true,
        };
        let err = block_on(check(&fake(down), &m, &[target()], vec![], &opts())).unwrap_err();
        let HealthStop::Unreachable(why) = err;
        assert!(why.contains("endpoint unreachable"));
    }

    #[test]
    fn a_quiet_function_gets_its_own_status_read_a_busy_one_does_not() {
        let m = Monitoring::defaults();
        let quiet = fake(lambda(0.0, 0.0, None));
        block_on(check(&quiet, &m, &[target()], vec![], &opts())).unwrap();
        assert_eq!(*quiet.details.lock().unwrap(), 1);
        let busy = fake(lambda(100.0, 0.0, None));
        block_on(check(&busy, &m, &[target()], vec![], &opts())).unwrap();
        assert_eq!(*busy.details.lock().unwrap(), 0);
    }
}
