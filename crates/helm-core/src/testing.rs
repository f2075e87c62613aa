//! What the use cases' unit tests share (tests only): an environment from a list of
//! resources, an observation, and one fake of the read ports — `Observer` and `LogSource` —
//! whose answers a test sets and whose calls it can count. helm-testsupport cannot hold
//! these: as a dev-dependency of helm-core it would link a second helm-core, whose port
//! traits are other traits.

use crate::monitor::check::{HealthOptions, Target};
use crate::monitor::{MetricValues, Observation, StatusObs};
use crate::ports::{
    Failure, FailureKind, LogEvent, LogSource, LogSweep, MetricQuery, MetricSeries, Observer,
};
use crate::registry::{EnvironmentView, Registry};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Environment `test` of a registry whose one deployment holds `resources` (a JSON list,
/// without its brackets).
pub fn view(resources: &str) -> EnvironmentView {
    view_of(&format!(
        r#"{{"deployments": [{{"id": "d", "environment": "test", "resources": [{resources}]}}]}}"#
    ))
}

/// Environment `test` of a whole registry document.
pub fn view_of(registry: &str) -> EnvironmentView {
    Registry::parse(std::path::Path::new("r.json"), registry)
        .expect("a test registry parses")
        .environment_view("test")
}

/// A metric's series, by its report key.
pub type Series = (&'static str, Vec<(DateTime<Utc>, f64)>);

/// An observation with these metric series (and no status), or whose metrics failed.
pub fn observation(metrics: &[Series], error: Option<&str>) -> Observation {
    Observation {
        status: StatusObs::NotChecked,
        metrics: metrics
            .iter()
            .map(|(k, s)| {
                (
                    *k,
                    MetricValues {
                        window: None,
                        series: s.clone(),
                        error: None,
                    },
                )
            })
            .collect(),
        metrics_error: error.map(str::to_string),
        alarms: Vec::new(),
        alarms_error: None,
        alarms_read: false,
    }
}

/// A failure of `api` with `kind`, as an adapter reports it.
pub fn failure(api: &str, kind: FailureKind) -> Failure {
    let cause = match kind {
        FailureKind::PermissionDenied => "access denied",
        FailureKind::NotFound => "not found",
        FailureKind::Rejected => "rejected",
        FailureKind::Unavailable => "endpoint unreachable",
    };
    Failure {
        kind,
        api: api.into(),
        code: None,
        cause: cause.into(),
        message: format!("{api} failed: {cause}"),
        brief: format!("{api}: {cause}"),
        hint: String::new(),
    }
}

/// The read side of the world, as a test sets it.
#[derive(Default)]
pub struct FakeWorld {
    /// `observe`'s answer, one per target (missing ones: quiet, no metrics).
    pub observations: Vec<Observation>,
    /// `metric_data`'s answer (None: one empty series per query).
    pub series: Option<Vec<MetricSeries>>,
    /// Log groups by name, with their events; a group not here does not exist.
    pub groups: BTreeMap<String, Vec<LogEvent>>,
    /// Log groups whose read is denied.
    pub denied_groups: Vec<String>,
    /// (region, query) of every metric query asked.
    pub asked: Mutex<Vec<(String, MetricQuery)>>,
    /// (group, server-side pattern) of every log sweep.
    pub swept: Mutex<Vec<(String, Option<String>)>>,
}

impl Observer for FakeWorld {
    async fn metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        _s: DateTime<Utc>,
        _e: DateTime<Utc>,
    ) -> Result<Vec<MetricSeries>, Failure> {
        self.asked
            .lock()
            .unwrap()
            .extend(queries.iter().map(|q| (region.to_string(), q.clone())));
        Ok(self
            .series
            .clone()
            .unwrap_or_else(|| vec![MetricSeries::default(); queries.len()]))
    }

    async fn observe(&self, targets: &[Target], _o: &HealthOptions) -> Vec<Observation> {
        (0..targets.len())
            .map(|i| {
                self.observations
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| observation(&[], None))
            })
            .collect()
    }

    async fn detail_status(&self, _t: &Target, _e: &str) -> StatusObs {
        StatusObs::NotChecked
    }
}

impl LogSource for FakeWorld {
    async fn filter_events(
        &self,
        _region: &str,
        group: &str,
        _start_ms: i64,
        _end_ms: i64,
        pattern: Option<&str>,
        each: &mut dyn FnMut(LogEvent) -> bool,
    ) -> Result<LogSweep, Failure> {
        self.swept
            .lock()
            .unwrap()
            .push((group.to_string(), pattern.map(str::to_string)));
        if self.denied_groups.iter().any(|g| g == group) {
            return Err(failure(
                "logs:FilterLogEvents",
                FailureKind::PermissionDenied,
            ));
        }
        let Some(events) = self.groups.get(group) else {
            return Ok(LogSweep {
                missing: true,
                ..Default::default()
            });
        };
        let mut sweep = LogSweep {
            pages: 1,
            ..Default::default()
        };
        for e in events {
            sweep.events += 1;
            if !each(e.clone()) {
                break;
            }
        }
        Ok(sweep)
    }

    async fn ecs_log_groups(
        &self,
        _r: &str,
        _c: &str,
        service: &str,
    ) -> Result<Vec<String>, Failure> {
        Ok(vec![format!("/ecs/{service}")])
    }
}

/// A seeded xorshift generator for property tests on stable Rust without a dependency:
/// the same seed gives the same cases, and a failure prints its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// In `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// How many cases a property test runs: `HELM_PROPERTY_CASES` (a longer run), else 300.
pub fn cases() -> u64 {
    std::env::var("HELM_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}
