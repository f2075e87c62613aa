//! The `watch` loop's use case: one cycle of one environment (health check, issues, the
//! SLO evaluation on the buckets it has not read yet, and which issues to escalate), and
//! the state that carries across cycles and restarts (`watch/state.json`).

use crate::central::DomainMonitors;
use crate::central::escalate::{self, Escalation};
use crate::config::Monitoring;
use crate::config::settings::Settings;
use crate::error::{CaseError, Error};
use crate::issues::{Issue, IssueStore, Severity};
use crate::monitor::check::{self, HealthOptions, Target};
use crate::monitor::report::{HealthReport, Skipped};
use crate::monitor::{HealthStatus, Thresholds};
use crate::ports::{Observer, WorkTracker};
use crate::slo::report::{self as slo, BucketCache, SloReport, SloRequest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The state format's version.
pub const STATE_VERSION: u32 = 1;

/// What carries from one cycle to the next, and across restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WatchState {
    pub version: u32,
    pub cycles: u64,
    pub environments: BTreeMap<String, EnvState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvState {
    /// The SLO buckets read so far.
    pub slo: BucketCache,
    /// Each resource's health in the recent cycles, oldest first (at most [`HISTORY`]).
    pub history: BTreeMap<String, Vec<HealthStatus>>,
    /// Issues this loop escalated (once each).
    pub escalated: Vec<String>,
    /// Active issues and how many cycles in a row they have been seen.
    #[serde(default)]
    pub seen: BTreeMap<String, u32>,
    /// Issues this loop remediated, and the cycle it did (once each).
    #[serde(default)]
    pub remediated: BTreeMap<String, u64>,
    /// This environment's cycles so far.
    #[serde(default)]
    pub cycle: u64,
}

/// Cycles of history kept per resource.
pub const HISTORY: usize = 32;

impl WatchState {
    /// The state at `path`: absent is a fresh state; unreadable is set aside (renamed
    /// `<name>.corrupt-<stamp>`) and rebuilt, with a warning saying so.
    pub fn load(path: &Path, now: DateTime<Utc>) -> crate::Result<(WatchState, Option<String>)> {
        let bytes = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((WatchState::fresh(), None));
            }
            Err(e) => return Err(Error::io("reading", path, e)),
        };
        // Not UTF-8 is corrupt like any other damage: set aside and rebuilt, not fatal.
        match serde_json::from_slice::<WatchState>(&bytes) {
            Ok(s) if s.version == STATE_VERSION => Ok((s, None)),
            outcome => {
                let why = match outcome {
                    Ok(s) => format!(
                        "format version {} (this helm-cloud writes {STATE_VERSION})",
                        s.version
                    ),
                    Err(e) => e.to_string(),
                };
                let aside = PathBuf::from(format!(
                    "{}.corrupt-{}",
                    path.display(),
                    crate::clock::file_stamp(now)
                ));
                std::fs::rename(path, &aside).map_err(|e| Error::io("setting aside", path, e))?;
                Ok((
                    WatchState::fresh(),
                    Some(format!(
                        "{}: unreadable ({why}); set aside as {} and rebuilt (the SLO buckets are read again)",
                        path.display(),
                        aside.display()
                    )),
                ))
            }
        }
    }

    pub fn fresh() -> WatchState {
        WatchState {
            version: STATE_VERSION,
            ..Default::default()
        }
    }

    /// Written atomically: a reader (or a crash) never sees half of it.
    pub fn save(&self, path: &Path) -> crate::Result<()> {
        let text = serde_json::to_string(self).expect("the state serialises");
        crate::fsutil::write_atomic(path, text.as_bytes())
    }
}

/// Why an issue is escalated, in `auto_escalate_on`'s words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    CriticalSloBreach,
    ExtendedOutage,
    RepeatedDegradation,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::CriticalSloBreach => "critical_slo_breach",
            Trigger::ExtendedOutage => "extended_outage",
            Trigger::RepeatedDegradation => "repeated_degradation",
        }
    }
}

/// The active issues of `env` to escalate now, and why: once each (not one already
/// escalated, nor one this loop escalated before), on the triggers `auto_escalate_on`
/// names. An SLO page, or a CRITICAL SLO issue, is a critical breach; a resource UNHEALTHY
/// for the last `extended_outage_cycles` cycles an extended outage; DEGRADED in k of the
/// last n cycles repeated degradation.
pub fn to_escalate(
    settings: &Settings,
    state: &EnvState,
    active: &[Issue],
) -> Vec<(String, Trigger)> {
    let on = |t: Trigger| {
        settings
            .escalation
            .auto_escalate_on
            .iter()
            .any(|x| x == t.as_str())
    };
    let recent = |id: &str, n: usize| -> Vec<HealthStatus> {
        let h = state.history.get(id).map(Vec::as_slice).unwrap_or_default();
        h[h.len().saturating_sub(n)..].to_vec()
    };
    let outage = |id: &str| {
        let n = settings.watch.extended_outage_cycles.max(1) as usize;
        let r = recent(id, n);
        r.len() == n && r.iter().all(|s| *s == HealthStatus::Unhealthy)
    };
    let degraded = |id: &str| {
        let (k, n) = settings.watch.repeated_degradation;
        recent(id, n as usize)
            .iter()
            .filter(|s| **s == HealthStatus::Degraded)
            .count()
            >= k as usize
    };
    let mut out = Vec::new();
    for i in active {
        if i.work_item_id.is_some() || state.escalated.contains(&i.id) {
            continue;
        }
        let check = crate::issues::fingerprint_parts(&i.fingerprint).map_or("", |(_, c)| c);
        let resource = i
            .affected_resources
            .first()
            .map(String::as_str)
            .unwrap_or("");
        let slo = check.starts_with("slo:");
        // Remediated by this loop and still open `extended_outage_cycles` later.
        let unhelped = state.remediated.get(&i.id).is_some_and(|c| {
            state.cycle >= c + u64::from(settings.watch.extended_outage_cycles.max(1))
        });
        let trigger = if on(Trigger::ExtendedOutage) && unhelped {
            Some(Trigger::ExtendedOutage)
        } else if on(Trigger::CriticalSloBreach)
            && slo
            && (check.ends_with(":page") || i.severity == Severity::Critical)
        {
            Some(Trigger::CriticalSloBreach)
        } else if on(Trigger::ExtendedOutage) && !slo && outage(resource) {
            Some(Trigger::ExtendedOutage)
        } else if on(Trigger::RepeatedDegradation) && !slo && degraded(resource) {
            Some(Trigger::RepeatedDegradation)
        } else {
            None
        };
        if let Some(t) = trigger {
            out.push((i.id.clone(), t));
        }
    }
    out
}

/// The issues to remediate now, with their action: an issue seen in two consecutive
/// cycles, whose failed check has a fitting action the policy runs without a person
/// (`auto_remediate`, in an environment that does not require confirmation), never one this
/// loop remediated before, at most `max_remediations_per_cycle`. The remediation use case
/// still decides the policy, the cooldown and the lock itself.
pub fn to_remediate(
    monitoring: &Monitoring,
    state: &EnvState,
    active: &[Issue],
    kinds: &BTreeMap<String, crate::resource::ResourceKind>,
    requires_confirmation: bool,
) -> Vec<(String, String, &'static crate::responder::catalogue::Action)> {
    use crate::responder::{catalogue, policy};
    let max = monitoring.settings().watch.max_remediations_per_cycle as usize;
    if requires_confirmation || max == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in active {
        if out.len() >= max {
            break;
        }
        if state.remediated.contains_key(&i.id) || state.seen.get(&i.id).copied().unwrap_or(0) < 2 {
            continue;
        }
        let Some((resource, check)) = crate::issues::fingerprint_parts(&i.fingerprint) else {
            continue;
        };
        let Some(kind) = kinds.get(resource) else {
            continue;
        };
        let Some(id) = crate::kinds::info(*kind).fix(check) else {
            continue;
        };
        let Some(action) = catalogue::find(id.name()) else {
            continue;
        };
        if policy::decide(monitoring, action, requires_confirmation).0 == policy::Policy::Auto {
            out.push((i.id.clone(), resource.to_string(), action));
        }
    }
    out
}

/// Nobody to ask: the loop runs unattended, so a plan that needs a person is refused.
pub struct Unattended;

impl crate::ports::Confirmer for Unattended {
    fn can_ask(&self) -> bool {
        false
    }
    fn confirm(&self, _plan: &str, _question: &str, _expected: &str) -> std::io::Result<bool> {
        Ok(false)
    }
}

/// What one cycle of one environment did.
#[derive(Debug)]
pub struct EnvCycle {
    pub health: HealthReport,
    pub slo: SloReport,
    /// Wall time of the SLO evaluation (reads included).
    pub slo_seconds: f64,
    /// Issues escalated this cycle, with their trigger.
    pub escalated: Vec<(Escalation, Trigger)>,
    /// Remediations this cycle: (issue, action, what happened).
    pub remediated: Vec<(String, &'static str, String)>,
    /// What could not be done, one line each (the cycle went on).
    pub notes: Vec<String>,
}

/// The world one environment's cycle reaches.
pub struct CycleWorld<'a, O: Observer + crate::ports::Actuator, T: WorkTracker> {
    pub observer: &'a O,
    /// Remediate as the policy allows (false: `--no-remediate`).
    pub remediate: bool,
    /// Where the remediation history lives (`.fractary/plugins/helm-cloud`).
    pub plugin_dir: PathBuf,
    pub tracker: &'a T,
    pub store: &'a IssueStore,
    pub monitors: &'a DomainMonitors,
    pub monitoring: &'a Monitoring,
    /// Where health reports are saved.
    pub reports_dir: PathBuf,
    /// Shares a remediation's `started` record before it acts (shared state).
    pub checkpoint: &'a crate::state::session::Checkpoint,
}

/// One cycle of `env`: the health check over the last interval (its report saved, issues
/// opened and resolved as `health` does), the SLO evaluation on what the cache lacks (its
/// issues synced), the health history, and the escalations the triggers call for.
#[allow(clippy::too_many_arguments)]
pub async fn cycle<O: Observer + crate::ports::Actuator, T: WorkTracker>(
    w: &CycleWorld<'_, O, T>,
    env: &str,
    targets: &[Target],
    skipped: Vec<Skipped>,
    requires_confirmation: bool,
    now: DateTime<Utc>,
    state: &mut EnvState,
) -> Result<EnvCycle, CaseError> {
    let settings = w.monitoring.settings();
    let interval = chrono::Duration::from_std(settings.health_check_interval)
        .unwrap_or(chrono::Duration::minutes(5))
        .max(chrono::Duration::minutes(5));
    let opts = HealthOptions::health(env, now - interval, now, &settings.enabled_checks);
    let (mut health, results) = check::check(w.observer, w.monitoring, targets, skipped, &opts)
        .await
        .map_err(crate::ports::Failure::from)?;
    let (_, path) = check::record(
        w.store,
        &mut health,
        &results,
        requires_confirmation,
        &w.reports_dir,
        now,
    )?;
    check::save(&health, &path)?;
    for r in &results {
        let h = state.history.entry(r.id.clone()).or_default();
        h.push(r.status);
        if h.len() > HISTORY {
            h.remove(0);
        }
    }
    // Resources no longer in the registry leave the history.
    let ids: std::collections::HashSet<&str> =
        targets.iter().map(|t| t.resource.id.as_str()).collect();
    state.history.retain(|id, _| ids.contains(id.as_str()));

    let thresholds = |t: &Target| Thresholds::for_resource(w.monitoring, &t.resource, t.kind);
    let req = SloRequest {
        environment: env,
        now,
        settings: &settings.slo,
        thresholds: &thresholds,
    };
    let mut notes = Vec::new();
    let slo_started = std::time::Instant::now();
    let mut slo = slo::evaluate(w.observer, targets, &req, &mut state.slo).await?;
    let slo_seconds = slo_started.elapsed().as_secs_f64();
    slo::sync_issues(&mut slo, w.store)?;

    let active: Vec<Issue> = w
        .store
        .active()?
        .into_iter()
        .filter(|i| i.environment == env)
        .collect();
    state.cycle += 1;
    let seen: BTreeMap<String, u32> = active
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                state.seen.get(&i.id).copied().unwrap_or(0) + 1,
            )
        })
        .collect();
    state.seen = seen;

    let mut remediated = Vec::new();
    if w.remediate {
        let kinds: BTreeMap<String, crate::resource::ResourceKind> = targets
            .iter()
            .map(|t| (t.resource.id.clone(), t.kind))
            .collect();
        let history = crate::responder::history::History::new(&w.plugin_dir, env);
        let clock = crate::clock::FixedClock(now);
        for (issue, resource, action) in
            to_remediate(w.monitoring, state, &active, &kinds, requires_confirmation)
        {
            let Some(t) = targets.iter().find(|t| t.resource.id == resource) else {
                continue;
            };
            use crate::responder::remediation::{self, Outcome, Request, Stop, World};
            let req = Request {
                environment: env,
                action,
                resource: t.resource.clone(),
                issue_id: Some(issue.clone()),
                value: None,
                min: None,
                max: None,
                paths: None,
                yes: false,
                dry_run: false,
                force: false,
                actor: None,
            };
            let rs = remediation::Settings::from_config(
                w.monitoring,
                requires_confirmation,
                t.region.clone(),
            );
            let world = World {
                actuator: w.observer,
                confirmer: &Unattended,
                history: &history,
                issues: w.store,
                clock: &clock,
                monitoring: w.monitoring,
                checkpoint: w.checkpoint,
            };
            let said = match remediation::remediate(&req, &rs, &world).await {
                Ok(Outcome::Applied { verification, .. }) => format!(
                    "applied, {} ({})",
                    if verification.ok {
                        "verified"
                    } else {
                        "NOT verified"
                    },
                    verification.detail
                ),
                Ok(Outcome::DryRun { .. }) => "planned only".into(),
                Err(Stop::Refused { message, .. }) | Err(Stop::Usage { message, .. }) => {
                    format!("refused: {message}")
                }
                Err(Stop::Failed(f)) => format!("failed: {}", f.brief),
                Err(Stop::Store(e)) => format!("failed: {e}"),
            };
            // Once per issue, whatever came of it: a refusal is not retried every cycle.
            state.remediated.insert(issue.clone(), state.cycle);
            remediated.push((issue, action.name, said));
        }
    }
    state
        .remediated
        .retain(|id, _| active.iter().any(|i| &i.id == id));
    let mut escalated = Vec::new();
    for (id, trigger) in to_escalate(&settings, state, &active) {
        match escalate::escalate(w.store, w.monitors, w.tracker, &id, None, now) {
            Ok(done) => {
                state.escalated.push(id);
                escalated.push((done, trigger));
            }
            // A failed escalation is said and tried again next cycle.
            Err(e) => notes.push(format!("escalating {id} ({}): {e}", trigger.as_str())),
        }
    }
    Ok(EnvCycle {
        health,
        slo,
        slo_seconds,
        escalated,
        remediated,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::{Detection, Evaluated};

    fn settings() -> Settings {
        Monitoring::defaults().settings()
    }

    fn issue(store: &IssueStore, resource: &str, check: &str, severity: Severity) -> Issue {
        let d = Detection {
            account: None,
            environment: "test".into(),
            resource: resource.into(),
            check: check.into(),
            severity,
            title: "t".into(),
            description: "d".into(),
            slo_breach: check.starts_with("slo:"),
            metrics: serde_json::Value::Null,
        };
        let mut e = Evaluated::new();
        e.add(resource, check);
        let out = store
            .sync(
                "test",
                "x",
                &[d],
                &e,
                crate::clock::parse_rfc3339("2025-11-03T20:00:00Z").unwrap(),
            )
            .unwrap();
        store.get(&out.issues[0].1).unwrap().unwrap()
    }

    #[test]
    fn each_trigger_escalates_once_and_only_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = IssueStore::new(dir.path(), "a/", "r/", "infrastructure", 90);
        let page = issue(&store, "api", "slo:availability:page", Severity::Critical);
        let ticket = issue(&store, "api", "slo:availability:ticket", Severity::High);
        let down = issue(&store, "db", "status", Severity::High);
        let flaky = issue(&store, "web", "cpu", Severity::Medium);
        let mut state = EnvState::default();
        use HealthStatus::*;
        state
            .history
            .insert("db".into(), vec![Healthy, Unhealthy, Unhealthy, Unhealthy]);
        state.history.insert(
            "web".into(),
            vec![Degraded, Healthy, Degraded, Healthy, Degraded, Healthy],
        );
        let all = [page.clone(), ticket.clone(), down.clone(), flaky.clone()];
        let got = to_escalate(&settings(), &state, &all);
        assert_eq!(
            got,
            [
                (page.id.clone(), Trigger::CriticalSloBreach),
                (down.id.clone(), Trigger::ExtendedOutage),
                (flaky.id.clone(), Trigger::RepeatedDegradation),
            ],
            "a ticket is no critical breach"
        );
        // Once each.
        state.escalated.push(page.id.clone());
        assert!(
            !to_escalate(&settings(), &state, &all)
                .iter()
                .any(|(id, _)| *id == page.id)
        );
        // Two cycles UNHEALTHY is no extended outage (3 by default); 2 of 6 DEGRADED no repeat.
        state
            .history
            .insert("db".into(), vec![Healthy, Unhealthy, Unhealthy]);
        state.history.insert(
            "web".into(),
            vec![Degraded, Healthy, Degraded, Healthy, Healthy, Healthy],
        );
        assert!(to_escalate(&settings(), &state, &all).is_empty());
        // Only the triggers auto_escalate_on names.
        let mut s = settings();
        s.escalation.auto_escalate_on = vec!["extended_outage".into()];
        state.escalated.clear();
        state.history.insert("db".into(), vec![Unhealthy; 3]);
        assert_eq!(
            to_escalate(&s, &state, &all),
            [(down.id.clone(), Trigger::ExtendedOutage)]
        );
    }

    #[test]
    fn a_corrupt_state_is_set_aside_and_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let now = crate::clock::parse_rfc3339("2025-11-03T20:00:00Z").unwrap();
        assert_eq!(
            WatchState::load(&path, now).unwrap(),
            (WatchState::fresh(), None)
        );
        let mut s = WatchState::fresh();
        s.cycles = 7;
        s.save(&path).unwrap();
        assert_eq!(WatchState::load(&path, now).unwrap().0.cycles, 7);
        std::fs::write(&path, "{\"version\": 1, \"cycles\": ").unwrap();
        let (fresh, warning) = WatchState::load(&path, now).unwrap();
        assert_eq!(fresh, WatchState::fresh());
        let w = warning.unwrap();
        assert!(w.contains("set aside"), "{w}");
        assert!(!path.exists());
        let aside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            aside.len(),
            1,
            "the corrupt file is kept for a person to read"
        );
    }

    #[test]
    fn only_an_auto_action_on_an_issue_seen_twice_where_no_person_is_needed_is_remediated() {
        let dir = tempfile::tempdir().unwrap();
        let store = IssueStore::new(dir.path(), "a/", "r/", "infrastructure", 90);
        let m = Monitoring::defaults();
        let lambda_down = issue(&store, "api", "error_rate", Severity::High);
        let ecs_busy = issue(&store, "web", "tasks", Severity::Medium);
        let kinds: BTreeMap<String, crate::resource::ResourceKind> = [
            ("api".to_string(), crate::resource::ResourceKind::Lambda),
            ("web".to_string(), crate::resource::ResourceKind::Ecs),
        ]
        .into_iter()
        .collect();
        let all = [lambda_down.clone(), ecs_busy.clone()];
        let mut state = EnvState::default();
        state.seen.insert(lambda_down.id.clone(), 1);
        state.seen.insert(ecs_busy.id.clone(), 2);
        assert!(
            to_remediate(&m, &state, &all, &kinds, false).is_empty(),
            "seen once is not yet"
        );
        state.seen.insert(lambda_down.id.clone(), 2);
        let got = to_remediate(&m, &state, &all, &kinds, false);
        // restart_lambda is in auto_remediate; restart_ecs_service asks a person: not here.
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0.as_str(), got[0].2.name),
            (lambda_down.id.as_str(), "restart_lambda")
        );
        assert!(
            to_remediate(&m, &state, &all, &kinds, true).is_empty(),
            "the environment asks a person"
        );
        state.remediated.insert(lambda_down.id.clone(), 3);
        assert!(
            to_remediate(&m, &state, &all, &kinds, false).is_empty(),
            "once per issue"
        );
        // Still open three cycles after its remediation: escalated as an extended outage.
        state.cycle = 6;
        let esc = to_escalate(&m.settings(), &state, &all);
        assert!(
            esc.contains(&(lambda_down.id.clone(), Trigger::ExtendedOutage)),
            "{esc:?}"
        );
    }
}
