//! The `slo` use case: every objective of every target, its budget over the period, its
//! burn rates and its alert, from 5-minute buckets read through the `Observer` port; and
//! the issues a firing alert opens (and its end resolves). A [`BucketCache`] makes later
//! evaluations (the watch loop) fetch only the buckets they have not seen.

use super::budget::{
    self, AlertState, BUCKET_SECS, Bucket, Budget, BudgetStatus, BurnPair, WINDOWS,
};
use super::objective::{self, Objective};
use crate::clock::rfc3339;
use crate::config::settings::Slo;
use crate::issues::{self, Detection, Evaluated, IssueStore, SyncOutcome};
use crate::monitor::Thresholds;
use crate::monitor::check::Target;
use crate::ports::{Failure, MetricQuery, Observer};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Buckets already read, per objective (`<resource>/<objective>`), and up to when. Late
/// CloudWatch datapoints are caught by reading again the last [`REREAD_SECS`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketCache {
    pub objectives: BTreeMap<String, CachedObjective>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CachedObjective {
    /// The query the buckets answer (a changed threshold or metric reads afresh).
    pub query: String,
    pub buckets: Vec<Bucket>,
    /// Unix seconds up to which the buckets are read.
    pub until: i64,
}

/// How far back an incremental read goes again: CloudWatch publishes a bucket's last
/// datapoints up to a few minutes late.
pub const REREAD_SECS: i64 = 15 * 60;

/// One objective's evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveReport {
    pub resource: String,
    pub kind: crate::resource::ResourceKind,
    pub objective: &'static str,
    pub target_percent: f64,
    pub threshold_ms: Option<f64>,
    pub budget: Budget,
    /// By window label; None: no requests in the window.
    pub burn_rates: Vec<(&'static str, Option<f64>)>,
    pub alert: AlertState,
    pub fired: Option<BurnPair>,
    /// The remaining budget through the period, 24 points.
    pub remaining_line: Vec<f64>,
}

/// An objective that was not evaluated, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NotEvaluated {
    pub resource: String,
    pub objective: &'static str,
    pub reason: String,
}

/// The SLO report of an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct SloReport {
    pub environment: String,
    pub now: DateTime<Utc>,
    pub period: String,
    pub objectives: Vec<ObjectiveReport>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// How many metric queries and how many buckets (datapoints) were asked for.
    pub queries: usize,
    pub datapoints_requested: i64,
    /// The issues opened, updated and resolved (after [`sync_issues`]).
    pub issues: Vec<Value>,
}

fn round2(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 100.0).round() / 100.0 + 0.0)
    } else {
        Value::Null
    }
}

impl SloReport {
    /// The worst alert; None when no objective had data (INSUFFICIENT_DATA everywhere).
    pub fn worst(&self) -> Option<AlertState> {
        let judged: Vec<&ObjectiveReport> = self
            .objectives
            .iter()
            .filter(|o| o.budget.status != BudgetStatus::InsufficientData)
            .collect();
        judged.iter().map(|o| o.alert).max()
    }

    /// 0 ok, 1 ticket, 2 page, 3 insufficient data everywhere.
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            None => 3,
            Some(AlertState::Ok) => 0,
            Some(AlertState::Ticket) => 1,
            Some(AlertState::Page) => 2,
        }
    }

    pub fn to_json(&self) -> Value {
        let objectives: Vec<Value> = self
            .objectives
            .iter()
            .map(|o| {
                let b = &o.budget;
                json!({
                    "resource": o.resource, "type": o.kind, "objective": o.objective,
                    "target_percent": o.target_percent, "threshold_ms": o.threshold_ms,
                    "attainment_percent": b.attainment_percent.map(round2),
                    "budget": {
                        "total_requests": round2(b.total_requests),
                        "bad_requests": round2(b.bad_requests),
                        "allowed_bad_requests": round2(b.allowed_bad_requests),
                        "remaining_requests": round2(b.remaining_requests),
                        "remaining_percent": round2(b.remaining_percent),
                        "status": b.status,
                    },
                    "burn_rates": o.burn_rates.iter().map(|(w, v)| (w.to_string(), v.map(round2).unwrap_or(Value::Null))).collect::<serde_json::Map<_, _>>(),
                    "alert": o.alert,
                    "fired": o.fired,
                    "remaining_percent_over_period": o.remaining_line.iter().map(|v| round2(*v)).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "slo_report": {
                "environment": self.environment,
                "timestamp": rfc3339(self.now),
                "period": self.period,
                "objectives": objectives,
                "not_evaluated": self.not_evaluated.iter().map(|n| json!({"resource": n.resource, "objective": n.objective, "reason": n.reason})).collect::<Vec<_>>(),
                "requests": {"metric_queries": self.queries, "datapoints_requested": self.datapoints_requested},
                "issues": self.issues,
            }
        })
    }
}

/// What an evaluation needs besides the world.
pub struct SloRequest<'a> {
    pub environment: &'a str,
    pub now: DateTime<Utc>,
    pub settings: &'a Slo,
    /// The thresholds of a target (`[slos.<kind>]` and the resource's own `slo`).
    pub thresholds: &'a dyn Fn(&Target) -> Thresholds,
}

fn cache_key(t: &Target, o: &Objective) -> String {
    format!("{}/{}", t.resource.id, o.name)
}

fn query_key(o: &Objective) -> String {
    o.queries
        .iter()
        .map(|q| format!("{}:{}:{}:{:?}", q.namespace, q.name, q.stat, q.dimensions))
        .collect::<Vec<_>>()
        .join("|")
}

/// Evaluate every objective of `targets` at `req.now`, reading through `observer` only the
/// buckets `cache` lacks (all of the period when it has none), and leaving the cache up to
/// date. A failed read fails the whole evaluation: a budget from part of the data would be
/// a false number.
pub async fn evaluate<O: Observer>(
    observer: &O,
    targets: &[Target],
    req: &SloRequest<'_>,
    cache: &mut BucketCache,
) -> Result<SloReport, Failure> {
    let now = req.now;
    let now_s = now.timestamp();
    let start = req.settings.period.start(now);
    let (mut report, start_s) = empty_report(req);
    // The objectives, and per region what to read: (objective index, from).
    let mut measured: Vec<(&Target, Objective)> = Vec::new();
    for t in targets {
        for o in objective::objectives(t, &(req.thresholds)(t), req.environment) {
            match o {
                Ok(o) => measured.push((t, o)),
                Err(u) => report.not_evaluated.push(NotEvaluated {
                    resource: t.resource.id.clone(),
                    objective: u.name,
                    reason: u.reason,
                }),
            }
        }
    }
    let mut by_region: BTreeMap<(String, i64), Vec<usize>> = BTreeMap::new();
    for (i, (t, o)) in measured.iter().enumerate() {
        let key = cache_key(t, o);
        let qk = query_key(o);
        let entry = cache.objectives.entry(key).or_default();
        if entry.query != qk {
            *entry = CachedObjective {
                query: qk,
                buckets: Vec::new(),
                until: 0,
            };
        }
        let from = if entry.until > start_s {
            (entry.until - REREAD_SECS).max(start_s)
        } else {
            start_s
        };
        // Align to a bucket so the periods match CloudWatch's.
        let from = from - from.rem_euclid(BUCKET_SECS);
        by_region
            .entry((o.region.clone(), from))
            .or_default()
            .push(i);
    }
    for ((region, from), idx) in &by_region {
        let queries: Vec<MetricQuery> = idx
            .iter()
            .flat_map(|&i| measured[i].1.queries.iter().cloned())
            .collect();
        let from_t = DateTime::from_timestamp(*from, 0).unwrap_or(start);
        report.queries += queries.len();
        report.datapoints_requested += queries.len() as i64 * ((now_s - from) / BUCKET_SECS + 1);
        let answers = observer.metric_data(region, &queries, from_t, now).await?;
        let mut at = 0;
        for &i in idx {
            let (t, o) = &measured[i];
            let n = o.queries.len();
            let Some(series) = answers.get(at..at + n) else {
                break;
            };
            at += n;
            if let Some(e) = series.iter().find_map(|s| s.error.as_ref()) {
                let api = "cloudwatch:GetMetricData";
                return Err(Failure::unavailable(
                    api,
                    e.clone(),
                    format!("{api} on {}: {e}", t.resource.id),
                    "check the metric's name and dimensions",
                ));
            }
            let fresh = objective::buckets(o, series);
            let entry = cache
                .objectives
                .get_mut(&cache_key(t, o))
                .expect("entered above");
            // The re-read part replaces what was there; older buckets stay.
            entry
                .buckets
                .retain(|x| x.start < *from && x.start >= start_s);
            entry.buckets.extend(fresh);
            entry.buckets.sort_by_key(|x| x.start);
            entry.buckets.dedup_by_key(|x| x.start);
            entry.until = now_s;
        }
    }
    judge(&mut report, &measured, cache, req, start_s);
    // Objectives no longer in the registry leave the cache.
    let keep: std::collections::HashSet<String> =
        measured.iter().map(|(t, o)| cache_key(t, o)).collect();
    cache.objectives.retain(|k, _| keep.contains(k));
    Ok(report)
}

/// A report with nothing judged yet, and the start of the period's first bucket (reads and
/// budgets start at the 5-minute bucket that holds the period's start).
fn empty_report(req: &SloRequest<'_>) -> (SloReport, i64) {
    let start = req.settings.period.start(req.now).timestamp();
    let report = SloReport {
        environment: req.environment.to_string(),
        now: req.now,
        period: req.settings.period.label(),
        objectives: Vec::new(),
        not_evaluated: Vec::new(),
        queries: 0,
        datapoints_requested: 0,
        issues: Vec::new(),
    };
    (report, start - start.rem_euclid(BUCKET_SECS))
}

/// Each measured objective's budget, burn rates and alert from the buckets in `cache`.
fn judge(
    report: &mut SloReport,
    measured: &[(&Target, Objective)],
    cache: &BucketCache,
    req: &SloRequest<'_>,
    start_s: i64,
) {
    let now_s = req.now.timestamp();
    let rules = req.settings.rules(req.settings.period.length_secs(req.now));
    // Budgets and windows count whole buckets: the one in progress is still being written
    // (CloudWatch publishes a period's datapoints up to minutes late), so the windows end at
    // the start of the current bucket.
    let end_s = now_s - now_s.rem_euclid(BUCKET_SECS);
    for (t, o) in measured {
        let Some(entry) = cache.objectives.get(&cache_key(t, o)) else {
            continue;
        };
        let in_period: Vec<Bucket> = entry
            .buckets
            .iter()
            .filter(|b| b.start >= start_s && b.start < end_s)
            .copied()
            .collect();
        let target = o.target_percent;
        let b = budget::budget(&in_period, target, req.settings.budget_warning_percent);
        let (alert, fired) = if b.status == BudgetStatus::InsufficientData {
            (AlertState::Ok, None)
        } else {
            budget::alert(&in_period, end_s, target, &rules)
        };
        report.objectives.push(ObjectiveReport {
            resource: t.resource.id.clone(),
            kind: t.kind,
            objective: o.name,
            target_percent: target,
            threshold_ms: o.threshold_ms,
            budget: b,
            burn_rates: WINDOWS
                .iter()
                .map(|(w, secs)| (*w, budget::burn_rate(&in_period, end_s, *secs, target)))
                .collect(),
            alert,
            fired,
            remaining_line: budget::remaining_over_time(&in_period, start_s, end_s, target, 24),
        });
    }
}

/// The SLO report from what `watch` has already read (its state's bucket cache), with no
/// AWS call: for readers such as `serve`. An objective the cache has no buckets for is
/// listed as not evaluated ("not read yet"), never as within budget.
pub fn from_cache(targets: &[Target], req: &SloRequest<'_>, cache: &BucketCache) -> SloReport {
    let (mut report, start_s) = empty_report(req);
    let mut measured: Vec<(&Target, Objective)> = Vec::new();
    for t in targets {
        for o in objective::objectives(t, &(req.thresholds)(t), req.environment) {
            match o {
                Ok(o)
                    if cache
                        .objectives
                        .get(&cache_key(t, &o))
                        .is_some_and(|c| c.query == query_key(&o)) =>
                {
                    measured.push((t, o))
                }
                Ok(o) => report.not_evaluated.push(NotEvaluated {
                    resource: t.resource.id.clone(),
                    objective: o.name,
                    reason: "not read yet: no watch cycle has read this objective".into(),
                }),
                Err(u) => report.not_evaluated.push(NotEvaluated {
                    resource: t.resource.id.clone(),
                    objective: u.name,
                    reason: u.reason,
                }),
            }
        }
    }
    judge(&mut report, &measured, cache, req, start_s);
    report
}

/// The check name of an objective's alert: `slo:<objective>:<page|ticket>`.
pub fn check_name(objective: &str, alert: AlertState) -> String {
    format!("slo:{objective}:{}", alert.as_str())
}

/// Open (or update) an issue per firing alert, and resolve those of evaluated objectives
/// whose alert stopped: a page is CRITICAL, a ticket HIGH, both an SLO breach.
pub fn sync_issues(report: &mut SloReport, store: &IssueStore) -> crate::Result<SyncOutcome> {
    let mut detections = Vec::new();
    let mut evaluated = Evaluated::new();
    for o in &report.objectives {
        if o.budget.status == BudgetStatus::InsufficientData {
            continue;
        }
        for state in [AlertState::Page, AlertState::Ticket] {
            evaluated.add(&o.resource, &check_name(o.objective, state));
        }
        if o.alert == AlertState::Ok {
            continue;
        }
        let fired = o.fired.map(|p| {
            format!(
                "{} and {} windows burn at {}× or more",
                crate::config::duration::format(std::time::Duration::from_secs(p.long as u64)),
                crate::config::duration::format(std::time::Duration::from_secs(p.short as u64)),
                (p.burn * 100.0).round() / 100.0
            )
        });
        detections.push(Detection {
            account: None,
            environment: report.environment.clone(),
            resource: o.resource.clone(),
            check: check_name(o.objective, o.alert),
            severity: if o.alert == AlertState::Page {
                issues::Severity::Critical
            } else {
                issues::Severity::High
            },
            title: format!(
                "{} {} error budget burning ({})",
                o.resource,
                o.objective,
                o.alert.as_str()
            ),
            description: format!(
                "{} objective {}%: {}; {:.1}% of the budget left",
                o.objective,
                o.target_percent,
                fired.unwrap_or_default(),
                o.budget.remaining_percent
            ),
            slo_breach: true,
            metrics: json!({"burn_rates": o.burn_rates.iter().map(|(w, v)| (w.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()}),
        });
    }
    let outcome = store.sync(
        &report.environment,
        "slo",
        &detections,
        &evaluated,
        report.now,
    )?;
    report.issues = outcome
        .issues
        .iter()
        .map(|(fp, id, opened)| json!({"fingerprint": fp, "issue_id": id, "opened": opened}))
        .chain(
            outcome
                .resolved
                .iter()
                .map(|id| json!({"issue_id": id, "resolved": true})),
        )
        .collect();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MetricSeries;
    use crate::testing::{FakeWorld, view};
    use futures::executor::block_on;

    fn now() -> DateTime<Utc> {
        // A bucket boundary (a multiple of 300).
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn lambda() -> Target {
        let r = view(r#"{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:api"}"#)
            .resources[0]
            .clone();
        Target {
            kind: r.kind.unwrap(),
            region: "us-east-1".into(),
            resource: r,
        }
    }

    fn thresholds(_t: &Target) -> Thresholds {
        Thresholds {
            slos: [("availability_percent".to_string(), 99.9)]
                .into_iter()
                .collect(),
            cpu_degraded: 80.0,
            cpu_unhealthy: 95.0,
            memory_degraded: 80.0,
            memory_unhealthy: 95.0,
        }
    }

    /// (errors, invocations) series over the last `n` buckets, with `burst` errors a bucket
    /// in the last `burst_buckets`.
    fn series(n: i64, burst_buckets: i64, burst: f64) -> Vec<MetricSeries> {
        let t = |i: i64| DateTime::from_timestamp(now().timestamp() - i * 300, 0).unwrap();
        let errors = (1..=burst_buckets).map(|i| (t(i), burst)).collect();
        let calls = (1..=n).map(|i| (t(i), 1000.0)).collect();
        vec![
            MetricSeries {
                points: errors,
                error: None,
            },
            MetricSeries {
                points: calls,
                error: None,
            },
        ]
    }

    fn settings() -> Slo {
        crate::config::Monitoring::defaults().settings().slo
    }

    #[test]
    fn a_fresh_burst_pages_opens_a_critical_issue_and_its_end_resolves_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = IssueStore::new(dir.path(), "a/", "r/", "infrastructure", 90);
        let s = settings();
        let req = SloRequest {
            environment: "test",
            now: now(),
            settings: &s,
            thresholds: &thresholds,
        };
        // 3 days steady (no errors), the last hour at 2%: burn 20 over 1h and 5m.
        let world = FakeWorld {
            series: Some(series(864, 12, 20.0)),
            ..Default::default()
        };
        let mut cache = BucketCache::default();
        let mut r = block_on(evaluate(&world, &[lambda()], &req, &mut cache)).unwrap();
        let o = &r.objectives[0];
        assert_eq!((o.objective, o.alert), ("availability", AlertState::Page));
        assert_eq!(o.fired.unwrap().long, 3_600);
        assert_eq!(r.exit_code(), 2);
        let out = sync_issues(&mut r, &store).unwrap();
        assert_eq!(out.issues.len(), 1);
        let issue = store.get(&out.issues[0].1).unwrap().unwrap();
        assert_eq!(issue.severity, issues::Severity::Critical);
        assert!(issue.slo_breach);
        assert_eq!(issue.fingerprint, "test/api/slo:availability:page");

        // Steady again: the page stops and its issue resolves on this evidence.
        let world = FakeWorld {
            series: Some(series(864, 0, 0.0)),
            ..Default::default()
        };
        let mut r = block_on(evaluate(
            &world,
            &[lambda()],
            &req,
            &mut BucketCache::default(),
        ))
        .unwrap();
        assert_eq!(r.objectives[0].alert, AlertState::Ok);
        let out = sync_issues(&mut r, &store).unwrap();
        assert_eq!(out.resolved.len(), 1);
    }

    #[test]
    fn no_traffic_is_insufficient_data_never_ok_and_resolves_nothing() {
        let s = settings();
        let req = SloRequest {
            environment: "test",
            now: now(),
            settings: &s,
            thresholds: &thresholds,
        };
        let world = FakeWorld::default();
        let r = block_on(evaluate(
            &world,
            &[lambda()],
            &req,
            &mut BucketCache::default(),
        ))
        .unwrap();
        assert_eq!(
            r.objectives[0].budget.status,
            BudgetStatus::InsufficientData
        );
        assert_eq!(r.exit_code(), 3);
        assert_eq!(r.worst(), None);
    }

    #[test]
    fn a_second_evaluation_reads_only_the_buckets_it_has_not_seen() {
        let s = settings();
        let world = FakeWorld {
            series: Some(series(864, 0, 0.0)),
            ..Default::default()
        };
        let mut cache = BucketCache::default();
        let req = SloRequest {
            environment: "test",
            now: now(),
            settings: &s,
            thresholds: &thresholds,
        };
        let first = block_on(evaluate(&world, &[lambda()], &req, &mut cache)).unwrap();
        let later = now() + chrono::Duration::minutes(5);
        let req = SloRequest { now: later, ..req };
        let second = block_on(evaluate(&world, &[lambda()], &req, &mut cache)).unwrap();
        assert_eq!(first.queries, 2);
        assert!(
            first.datapoints_requested >= 2 * 8640,
            "{}",
            first.datapoints_requested
        );
        // 20 minutes again: the new bucket and the re-read of late data.
        assert!(
            second.datapoints_requested <= 2 * 5,
            "{}",
            second.datapoints_requested
        );
        let asked = world.asked.lock().unwrap();
        assert_eq!(asked.len(), 4);
        assert_eq!(cache.objectives.len(), 1);
        assert!(cache.objectives["api/availability"].buckets.len() >= 864);
    }

    #[test]
    fn an_unreadable_metric_fails_the_evaluation_rather_than_a_partial_budget() {
        let s = settings();
        let mut v = series(10, 0, 0.0);
        v[1].error = Some("InternalError".into());
        let world = FakeWorld {
            series: Some(v),
            ..Default::default()
        };
        let req = SloRequest {
            environment: "test",
            now: now(),
            settings: &s,
            thresholds: &thresholds,
        };
        assert!(
            block_on(evaluate(
                &world,
                &[lambda()],
                &req,
                &mut BucketCache::default()
            ))
            .is_err()
        );
    }
}
