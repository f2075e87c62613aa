//! Which events to send: the issues of some environments compared with what each channel
//! heard (the ledger, with the events still queued counted as heard).

use super::outbox::{Heard, Ledger, LedgerEntry, Outbox};
use super::{Channel, Event, EventKind};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::error::Result;
use crate::issues::{Issue, IssueStatus, Severity};
use chrono::{DateTime, Utc};

/// A channel as `[escalation]` routes to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub channel: Channel,
    /// The on-call schedule: CRITICAL only unless its table says otherwise.
    pub on_call: bool,
}

impl Route {
    pub fn min_severity(&self) -> Severity {
        self.channel.min_severity.unwrap_or(if self.on_call {
            Severity::Critical
        } else {
            Severity::Low
        })
    }

    /// The channel is for this environment.
    pub fn covers(&self, environment: &str) -> bool {
        self.channel.environments.is_empty()
            || self.channel.environments.iter().any(|e| e == environment)
    }

    /// The channel wants to hear of an issue of this severity in this environment.
    pub fn wants(&self, issue: &Issue) -> bool {
        self.covers(&issue.environment) && issue.severity >= self.min_severity()
    }
}

/// The routes of `[escalation]`: `channels` then `on_call_schedule`, each once, and the
/// names that have no `[notifications.<name>]` table (said, not sent to).
pub fn routes(channels: &[Channel], names: &[String], on_call: &str) -> (Vec<Route>, Vec<String>) {
    let mut out: Vec<Route> = Vec::new();
    let mut missing = Vec::new();
    let wanted = names
        .iter()
        .map(|n| (n.as_str(), false))
        .chain((!on_call.is_empty()).then_some((on_call, true)));
    for (name, on_call) in wanted {
        match channels.iter().find(|c| c.name == name) {
            Some(c) => match out.iter_mut().find(|r| r.channel.name == name) {
                // Named in both: it hears what either would.
                Some(r) => r.on_call = r.on_call && on_call,
                None => out.push(Route {
                    channel: c.clone(),
                    on_call,
                }),
            },
            None => missing.push(name.to_string()),
        }
    }
    (out, missing)
}

/// What one pass decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// (channel, event, what the ledger records once it is out), in issue order.
    pub events: Vec<(String, Event, super::outbox::Effect)>,
    /// Ledger lines that change without a message (a severity fall, a forgotten issue).
    pub quiet: Vec<(String, String, Option<LedgerEntry>)>,
}

/// How a pass words and links its events.
#[derive(Debug, Clone, Default)]
pub struct Wording {
    pub renotify_after: Option<chrono::Duration>,
    /// The newest report of each environment, as the user sees its path.
    pub report_paths: std::collections::BTreeMap<String, String>,
    /// `report_base_url`, without a trailing slash; empty: none.
    pub report_base_url: String,
}

impl Wording {
    fn event(&self, issue: &Issue, kind: EventKind, at: &str) -> Event {
        let report = self
            .report_paths
            .get(&issue.environment)
            .map(String::as_str);
        let mut e = Event::about(issue, kind, at, report);
        if let Some(p) = report
            && !self.report_base_url.is_empty()
        {
            e.report_url = Some(format!(
                "{}/{}",
                self.report_base_url.trim_end_matches('/'),
                p.trim_start_matches("./").trim_start_matches('/')
            ));
        }
        e
    }
}

fn line(issue: &Issue, heard: Heard, at: &str) -> LedgerEntry {
    LedgerEntry {
        fingerprint: issue.fingerprint.clone(),
        heard,
        severity: issue.severity,
        notified_at: at.to_string(),
    }
}

/// Compare `issues` (active and resolved, of the environments in scope) with `ledger`.
pub fn plan(
    issues: &[Issue],
    ledger: &Ledger,
    routes: &[Route],
    wording: &Wording,
    now: DateTime<Utc>,
) -> Plan {
    let at = rfc3339(now);
    let mut p = Plan::default();
    for route in routes {
        let name = &route.channel.name;
        let heard = ledger.get(name);
        for issue in issues {
            let known = heard.and_then(|h| h.get(&issue.id));
            let mut send = |kind: EventKind, effect: LedgerEntry, previous: Option<Severity>| {
                let mut e = wording.event(issue, kind, &at);
                e.previous_severity = previous;
                p.events
                    .push((name.clone(), e, Some((issue.id.clone(), effect))));
            };
            match (issue.status, known) {
                (IssueStatus::Resolved, Some(k)) if k.heard == Heard::Open => {
                    send(EventKind::Resolved, line(issue, Heard::Resolved, &at), None)
                }
                (IssueStatus::Resolved, _) => {}
                (_, None) if route.wants(issue) => {
                    send(EventKind::Opened, line(issue, Heard::Open, &at), None)
                }
                (_, None) => {}
                (_, Some(k)) if k.heard == Heard::Resolved => {}
                (_, Some(k)) => {
                    let due = wording.renotify_after.is_some_and(|after| {
                        parse_rfc3339(&k.notified_at).is_none_or(|t| now - t >= after)
                    });
                    if issue.severity > k.severity && route.wants(issue) {
                        send(
                            EventKind::Worsened,
                            line(issue, Heard::Open, &at),
                            Some(k.severity),
                        )
                    } else if due && route.wants(issue) {
                        send(EventKind::Renotify, line(issue, Heard::Open, &at), None)
                    }
                    // The ledger keeps the severity the channel was told: a fall and a rise
                    // back to it say nothing new, and a later rise is measured from it.
                }
            }
        }
    }
    p
}

/// Forget ledger lines of issues that no longer exist (purged after their retention) or
/// that resolved more than `keep` ago, for the environments in scope.
fn forgotten(
    ledger: &Ledger,
    issues: &[Issue],
    scope: &[String],
    keep: chrono::Duration,
    now: DateTime<Utc>,
) -> Vec<(String, String, Option<LedgerEntry>)> {
    let mut out = Vec::new();
    for (channel, lines) in ledger {
        for (id, l) in lines {
            let env = crate::issues::fingerprint_env(&l.fingerprint);
            if !scope.iter().any(|s| Some(s.as_str()) == env) {
                continue;
            }
            let exists = issues.iter().any(|i| &i.id == id);
            let old = l.heard == Heard::Resolved
                && parse_rfc3339(&l.notified_at).is_none_or(|t| now - t > keep);
            if !exists || old {
                out.push((channel.clone(), id.clone(), None));
            }
        }
    }
    out
}

/// Plan and queue the events `issues` call for, under the outbox lock; returns what was
/// queued. `scope` is the environments `issues` cover.
pub fn queue(
    outbox: &Outbox,
    issues: &[Issue],
    scope: &[String],
    routes: &[Route],
    wording: &Wording,
    now: DateTime<Utc>,
) -> Result<Vec<super::outbox::Entry>> {
    let _lock = outbox.lock()?;
    let ledger = outbox.effective_ledger()?;
    let mut p = plan(issues, &ledger, routes, wording, now);
    p.quiet.extend(forgotten(
        &ledger,
        issues,
        scope,
        chrono::Duration::days(7),
        now,
    ));
    let at = rfc3339(now);
    let mut queued = Vec::new();
    for (channel, event, effect) in p.events {
        queued.push(outbox.enqueue(&channel, event, effect, &at)?);
    }
    if !p.quiet.is_empty() {
        outbox.update_ledger(|l| {
            for (channel, id, line) in p.quiet {
                let lines = l.entry(channel).or_default();
                match line {
                    Some(line) => {
                        lines.insert(id, line);
                    }
                    None => {
                        lines.remove(&id);
                    }
                }
            }
            l.retain(|_, lines| !lines.is_empty());
        })?;
    }
    Ok(queued)
}

/// Queue one event outside the issue comparison (an escalation, a remediation's outcome)
/// to every route that covers its environment; `open` records the issue as heard open
/// (an escalation to the on-call schedule is resolved with the issue).
pub fn queue_event(
    outbox: &Outbox,
    event: &Event,
    routes: &[Route],
    to_on_call: bool,
    now: DateTime<Utc>,
) -> Result<Vec<super::outbox::Entry>> {
    let _lock = outbox.lock()?;
    let at = rfc3339(now);
    let ledger = outbox.effective_ledger()?;
    let mut queued = Vec::new();
    for r in routes {
        if !r.covers(&event.environment) || (r.on_call && !to_on_call) {
            continue;
        }
        let effect = match (&event.issue_id, event.event) {
            (Some(id), EventKind::Escalated) => {
                let already = ledger
                    .get(&r.channel.name)
                    .and_then(|l| l.get(id))
                    .is_some_and(|l| l.heard == Heard::Open);
                (!already).then(|| {
                    (
                        id.clone(),
                        LedgerEntry {
                            fingerprint: event.fingerprint.clone(),
                            heard: Heard::Open,
                            severity: event.severity,
                            notified_at: at.clone(),
                        },
                    )
                })
            }
            _ => None,
        };
        queued.push(outbox.enqueue(&r.channel.name, event.clone(), effect, &at)?);
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::ChannelKind;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn channel(name: &str, min: Option<Severity>, envs: &[&str]) -> Channel {
        Channel {
            name: name.into(),
            kind: ChannelKind::Slack,
            url_env: Some("U".into()),
            routing_key_env: None,
            secret_env: None,
            min_severity: min,
            environments: envs.iter().map(|s| s.to_string()).collect(),
            eu: false,
        }
    }

    fn issue(id: &str, env: &str, sev: Severity, status: IssueStatus) -> Issue {
        let mut v = serde_json::json!({"id": id, "domain": "infrastructure", "severity": sev,
            "title": "Lambda error rate exceeds SLO", "detected_at": "2026-12-01T10:00:00Z",
            "environment": env, "affected_resources": ["api"],
            "fingerprint": format!("{env}/api/error_rate"), "status": status});
        if status == IssueStatus::Resolved {
            v["resolved_at"] = "2026-12-01T10:42:00Z".into();
        }
        serde_json::from_value(v).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 11, 0, 0).unwrap()
    }

    fn wording() -> Wording {
        Wording {
            renotify_after: Some(chrono::Duration::hours(4)),
            ..Default::default()
        }
    }

    fn kinds(p: &Plan) -> Vec<(String, EventKind)> {
        p.events
            .iter()
            .map(|(c, e, _)| (c.clone(), e.event))
            .collect()
    }

    /// The ledger as it is after the plan's events went out.
    fn after(mut l: Ledger, p: &Plan) -> Ledger {
        for (c, _, eff) in &p.events {
            if let Some((id, line)) = eff {
                l.entry(c.clone())
                    .or_default()
                    .insert(id.clone(), line.clone());
            }
        }
        for (c, id, line) in &p.quiet {
            match line {
                Some(line) => {
                    l.entry(c.clone())
                        .or_default()
                        .insert(id.clone(), line.clone());
                }
                None => {
                    l.entry(c.clone()).or_default().remove(id);
                }
            }
        }
        l
    }

    #[test]
    fn routes_name_their_channels_once_and_say_which_are_missing() {
        let chans = [channel("slack-ops", None, &[]), channel("pd", None, &[])];
        let (r, missing) = routes(&chans, &["slack-ops".into(), "nowhere".into()], "pd");
        assert_eq!(r.len(), 2);
        assert!(!r[0].on_call && r[1].on_call);
        assert_eq!(missing, vec!["nowhere"]);
        assert_eq!(r[1].min_severity(), Severity::Critical);
        assert_eq!(r[0].min_severity(), Severity::Low);
    }

    #[test]
    fn open_once_then_silence_then_resolve_once() {
        let (r, _) = routes(&[channel("ops", None, &[])], &["ops".into()], "");
        let open = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Active,
        )];
        let p = plan(&open, &Ledger::new(), &r, &wording(), now());
        assert_eq!(kinds(&p), vec![("ops".into(), EventKind::Opened)]);
        let l = after(Ledger::new(), &p);
        // Seen again an hour later: nothing.
        let p2 = plan(
            &open,
            &l,
            &r,
            &wording(),
            now() + chrono::Duration::hours(1),
        );
        assert!(p2.events.is_empty(), "{p2:?}");
        let done = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Resolved,
        )];
        let p3 = plan(
            &done,
            &l,
            &r,
            &wording(),
            now() + chrono::Duration::hours(2),
        );
        assert_eq!(kinds(&p3), vec![("ops".into(), EventKind::Resolved)]);
        assert_eq!(p3.events[0].1.open_seconds, Some(42 * 60));
        assert!(
            p3.events[0]
                .1
                .summary()
                .contains("resolved after 42 minutes")
        );
        let l3 = after(l, &p3);
        assert!(plan(&done, &l3, &r, &wording(), now()).events.is_empty());
    }

    #[test]
    fn a_rise_above_what_was_told_is_said_and_a_dip_and_return_is_not() {
        let (r, _) = routes(&[channel("ops", None, &[])], &["ops".into()], "");
        let high = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Active,
        )];
        let l = after(
            Ledger::new(),
            &plan(&high, &Ledger::new(), &r, &wording(), now()),
        );
        let crit = [issue(
            "infra-001",
            "prod",
            Severity::Critical,
            IssueStatus::Active,
        )];
        let p = plan(&crit, &l, &r, &wording(), now());
        assert_eq!(kinds(&p), vec![("ops".into(), EventKind::Worsened)]);
        assert_eq!(p.events[0].1.previous_severity, Some(Severity::High));
        let l = after(l, &p);
        let med = [issue(
            "infra-001",
            "prod",
            Severity::Medium,
            IssueStatus::Active,
        )];
        let p = plan(&med, &l, &r, &wording(), now());
        assert!(p.events.is_empty() && p.quiet.is_empty(), "{p:?}");
        // Back up to CRITICAL, which the channel was told: nothing new.
        assert!(plan(&crit, &l, &r, &wording(), now()).events.is_empty());
    }

    #[test]
    fn renotify_after_the_configured_time_only() {
        let (r, _) = routes(&[channel("ops", None, &[])], &["ops".into()], "");
        let open = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Active,
        )];
        let l = after(
            Ledger::new(),
            &plan(&open, &Ledger::new(), &r, &wording(), now()),
        );
        let soon = now() + chrono::Duration::minutes(239);
        assert!(plan(&open, &l, &r, &wording(), soon).events.is_empty());
        let later = now() + chrono::Duration::hours(4);
        assert_eq!(
            kinds(&plan(&open, &l, &r, &wording(), later)),
            vec![("ops".into(), EventKind::Renotify)]
        );
    }

    #[test]
    fn min_severity_environments_and_the_on_call_rule() {
        let chans = [
            channel("ops", Some(Severity::High), &["prod"]),
            channel("pd", None, &[]),
        ];
        let (r, _) = routes(&chans, &["ops".into()], "pd");
        let issues = [
            issue("infra-001", "prod", Severity::Medium, IssueStatus::Active),
            issue("infra-002", "test", Severity::Critical, IssueStatus::Active),
            issue("infra-003", "prod", Severity::Critical, IssueStatus::Active),
        ];
        let p = plan(&issues, &Ledger::new(), &r, &wording(), now());
        let got: Vec<(String, String)> = p
            .events
            .iter()
            .map(|(c, e, _)| (c.clone(), e.issue_id.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ops".to_string(), "infra-003".to_string()),
                ("pd".to_string(), "infra-002".to_string()),
                ("pd".to_string(), "infra-003".to_string()),
            ]
        );
    }

    #[test]
    fn a_resolve_goes_only_where_the_open_went() {
        let chans = [channel("ops", None, &[]), channel("pd", None, &[])];
        let (r, _) = routes(&chans, &["ops".into()], "pd");
        let high = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Active,
        )];
        let l = after(
            Ledger::new(),
            &plan(&high, &Ledger::new(), &r, &wording(), now()),
        );
        let done = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Resolved,
        )];
        assert_eq!(
            kinds(&plan(&done, &l, &r, &wording(), now())),
            vec![("ops".into(), EventKind::Resolved)]
        );
    }

    /// Property: whatever an issue does (severity up and down, time passing, resolving), each
    /// channel hears at most one `opened`, first; `resolved` at most once, last, and only after
    /// an `opened`; a `worsened` only above what it heard; nothing below its min severity
    /// opens it; and re-planning the same state right after queues nothing.
    #[test]
    fn any_history_of_an_issue_gives_each_channel_a_well_formed_story() {
        use crate::testing::{Rng, cases};
        let sevs = [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        for seed in 1..=cases() {
            let mut rng = Rng::new(seed);
            let min = sevs[rng.below(4) as usize];
            let chans = [channel("ops", Some(min), &[]), channel("pd", None, &[])];
            let (r, _) = routes(&chans, &["ops".into()], "pd");
            let mut ledger = Ledger::new();
            let mut t = now();
            let mut told: BTreeMap<String, Vec<(EventKind, Severity)>> = BTreeMap::new();
            let mut sev = sevs[rng.below(4) as usize];
            let mut resolved = false;
            for _ in 0..rng.below(12) + 1 {
                if resolved {
                    break;
                }
                match rng.below(5) {
                    0 => sev = sevs[rng.below(4) as usize],
                    1 => resolved = rng.below(3) == 0,
                    _ => {}
                }
                t += chrono::Duration::minutes(rng.below(300) as i64);
                let status = if resolved {
                    IssueStatus::Resolved
                } else {
                    IssueStatus::Active
                };
                let i = [issue("infra-001", "prod", sev, status)];
                let p = plan(&i, &ledger, &r, &wording(), t);
                for (c, e, _) in &p.events {
                    told.entry(c.clone())
                        .or_default()
                        .push((e.event, e.severity));
                }
                ledger = after(ledger, &p);
                let again = plan(&i, &ledger, &r, &wording(), t);
                assert!(again.events.is_empty(), "seed {seed}: re-planned {again:?}");
            }
            for (c, story) in &told {
                let route = r.iter().find(|x| &x.channel.name == c).unwrap();
                let kinds: Vec<EventKind> = story.iter().map(|s| s.0).collect();
                assert_eq!(kinds[0], EventKind::Opened, "seed {seed} {c}: {kinds:?}");
                assert!(
                    story[0].1 >= route.min_severity(),
                    "seed {seed} {c}: {story:?}"
                );
                assert_eq!(kinds.iter().filter(|k| **k == EventKind::Opened).count(), 1);
                let res = kinds.iter().filter(|k| **k == EventKind::Resolved).count();
                assert!(res <= 1, "seed {seed} {c}: {kinds:?}");
                if res == 1 {
                    assert_eq!(kinds.last(), Some(&EventKind::Resolved), "seed {seed}");
                }
                let mut heard = story[0].1;
                for (k, s) in &story[1..] {
                    if *k == EventKind::Worsened {
                        assert!(*s > heard, "seed {seed} {c}: {story:?}");
                    }
                    if *k != EventKind::Resolved {
                        heard = *s;
                    }
                }
            }
        }
    }

    #[test]
    fn report_links_join_the_base_url() {
        let (r, _) = routes(&[channel("ops", None, &[])], &["ops".into()], "");
        let mut w = wording();
        w.report_paths
            .insert("prod".into(), ".fractary/reports/x.json".into());
        w.report_base_url = "https://ci.example/artifacts/".into();
        let open = [issue(
            "infra-001",
            "prod",
            Severity::High,
            IssueStatus::Active,
        )];
        let p = plan(&open, &Ledger::new(), &r, &w, now());
        assert_eq!(
            p.events[0].1.report_url.as_deref(),
            Some("https://ci.example/artifacts/.fractary/reports/x.json")
        );
    }
}
