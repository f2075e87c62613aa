//! The `investigate` and `logs` use cases: which resources and window, the logs of the
//! window read through [`LogSource`] with the metric spikes of the same resources through
//! [`Observer`], and the report (timeline, patterns, root cause with its evidence); and the
//! matching events of one resource, streamed.

use super::filter::Filter;
use super::query::{self, Resolution};
use super::redact::redact;
use super::rules::Category;
use super::{Analyzer, DeployMark, Event, InvestigationReport, TimelineEntry, Window, timephrase};
use crate::clock::{self, rfc3339};
use crate::error::{CaseError, Error, Result};
use crate::issues::{Issue, IssueStore};
use crate::monitor::check::{HealthOptions, Target};
use crate::monitor::{slo, trend};
use crate::ports::{Failure, LogEvent, LogSource, Observer};
use crate::registry::{EnvironmentView, Resource};
use crate::resource::{self, ResourceKind};
use crate::responder::catalogue;
use chrono::{DateTime, Duration, Utc};
use std::path::{Path, PathBuf};

/// The log groups of a resource: the registry's `log_group`, else Lambda's
/// `/aws/lambda/<name>`, else the awslogs groups of an ECS service's task definition, else
/// what the kind's service says it logs to (`LogSource::kind_log_groups`).
pub async fn log_groups_of<L: LogSource>(
    logs: &L,
    r: &Resource,
    region: &str,
) -> std::result::Result<Vec<String>, Failure> {
    if let Some(g) = &r.log_group {
        return Ok(vec![g.clone()]);
    }
    match (r.kind, r.parsed_arn.as_ref().map(|a| &a.target)) {
        (Some(ResourceKind::Lambda), _) => Ok(vec![format!("/aws/lambda/{}", r.name)]),
        (Some(ResourceKind::Ecs), Some(resource::Target::Ecs { cluster, .. })) => {
            logs.ecs_log_groups(region, cluster, &r.name).await
        }
        (Some(kind), _) => logs.kind_log_groups(kind, region, &r.name, &r.arn).await,
        _ => Ok(Vec::new()),
    }
}

/// What an investigation looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub resources: Vec<Resource>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The issue investigated, when one is.
    pub issue: Option<String>,
}

/// Which resources and which window: an issue's resources from 30 minutes before it was
/// detected; else `--service` (an id or a kind); else the resources the question names,
/// over the time it names or `timeframe`; else every resource with logs.
pub fn scope(
    view: &EnvironmentView,
    now: DateTime<Utc>,
    question: &str,
    issue: Option<&Issue>,
    service: Option<&str>,
    timeframe: &str,
) -> Result<Scope> {
    if let Some(issue) = issue {
        let id = &issue.id;
        let detected = clock::parse_rfc3339(&issue.detected_at).unwrap_or(now);
        let resources: Vec<Resource> = issue
            .affected_resources
            .iter()
            .filter_map(|r| view.get(r).cloned())
            .collect();
        if resources.is_empty() {
            return Err(Error::usage(
                format!(
                    "issue {id} names resources that are not in environment {}",
                    view.environment
                ),
                None,
            ));
        }
        return Ok(Scope {
            resources,
            start: detected - Duration::minutes(30),
            end: now,
            issue: Some(issue.id.clone()),
        });
    }
    let found = timephrase::find(question, now);
    let (start, end) = match &found {
        Some(f) => (f.start, f.end),
        None => crate::scope::window(now, "--timeframe", timeframe)?,
    };
    let resources = if let Some(id) = service {
        crate::scope::by_service(view, id)?
    } else {
        let used = found.map(|f| f.words).unwrap_or_default();
        match query::resolve(question, view, &used) {
            Resolution::Resources(r) => r,
            Resolution::Ambiguous { candidates } => {
                let names: Vec<String> = candidates
                    .iter()
                    .map(|r| format!("{} ({})", r.id, r.type_name))
                    .collect();
                return Err(Error::usage(
                    format!("{question:?} fits several resources: {}", names.join(", ")),
                    Some("name one, or pass --service ID".into()),
                ));
            }
            Resolution::Nothing => view
                .resources
                .iter()
                .filter(|r| {
                    r.log_group.is_some()
                        || matches!(r.kind, Some(ResourceKind::Lambda | ResourceKind::Ecs))
                })
                .cloned()
                .collect(),
        }
    };
    if resources.is_empty() {
        return Err(Error::usage(
            format!(
                "no resource of environment {} has logs to investigate",
                view.environment
            ),
            Some("name a resource, or add log_group to it in the registry".into()),
        ));
    }
    Ok(Scope {
        resources,
        start,
        end,
        issue: None,
    })
}

/// The remediate command that fits a category on one of the resources, when one does.
fn remediate_hint(category: Category, resources: &[Resource], env: &str) -> Option<String> {
    let action = category.recommendation().1?;
    let fits = catalogue::find(action.name())?.kinds;
    let r = resources
        .iter()
        .find(|r| r.kind.is_some_and(|k| fits.contains(&k)))?;
    Some(format!(
        "`helm-cloud remediate --action {action} --service {} --env {env}`",
        r.id
    ))
}

/// The report keys whose spikes are put on the timeline.
const SPIKE_KEYS: [&str; 6] = [
    "errors",
    "errors_5xx",
    "throttles",
    "duration_p95_ms",
    "latency_p95_ms",
    "cpu_avg_percent",
];

/// Investigate `scope` in environment `view`: read every log group of its resources
/// (`region_of` decides each resource's region), the metric spikes and the deployments of
/// the window. The report is not saved (see [`save`]); the notes say what could not be read.
pub async fn investigate<W: LogSource + Observer>(
    world: &W,
    view: &EnvironmentView,
    scope: &Scope,
    question: &str,
    region_of: impl Fn(Option<&str>) -> String,
) -> std::result::Result<(InvestigationReport, Vec<String>), Failure> {
    let env = view.environment.as_str();
    let (start, end) = (scope.start, scope.end);
    let mut analyzer = Analyzer::new();
    let mut groups_read = Vec::new();
    let mut notes = Vec::new();
    for r in &scope.resources {
        let region = region_of(r.region.as_deref());
        let groups = log_groups_of(world, r, &region).await?;
        if groups.is_empty() {
            notes.push(format!("{}: no log group known", r.id));
        }
        for g in groups {
            let mut each = |e: LogEvent| {
                analyzer.add(&Event {
                    time_ms: e.timestamp_ms,
                    message: e.message,
                    resource: r.id.clone(),
                });
                true
            };
            let sweep = world
                .filter_events(
                    &region,
                    &g,
                    start.timestamp_millis(),
                    end.timestamp_millis(),
                    None,
                    &mut each,
                )
                .await?;
            if sweep.missing {
                notes.push(format!("{}: log group {g} does not exist", r.id));
            } else {
                groups_read.push(g);
            }
        }
    }

    let deploys: Vec<DeployMark> = view
        .deployments
        .iter()
        .filter_map(|d| {
            let at = clock::parse_rfc3339(d.deployed_at.as_deref()?)?;
            let what = d.project.clone().unwrap_or_else(|| d.id.clone());
            let version = d
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            Some(DeployMark {
                at,
                text: format!("deploy {what}{version} ({})", d.id),
            })
        })
        .collect();

    let targets: Vec<Target> = scope
        .resources
        .iter()
        .filter_map(|r| {
            Some(Target {
                resource: r.clone(),
                kind: r.kind?,
                region: region_of(r.region.as_deref()),
            })
        })
        .collect();
    let mut spikes = Vec::new();
    if !targets.is_empty() {
        let opts = HealthOptions::metrics_only(env, start, end);
        let observations = world.observe(&targets, &opts).await;
        for (t, o) in targets.iter().zip(&observations) {
            for key in SPIKE_KEYS {
                let Some(m) = o.metrics.get(key) else {
                    continue;
                };
                let values: Vec<f64> = m.series.iter().map(|(_, v)| *v).collect();
                let median = trend::median(&values).unwrap_or(0.0);
                if let Some(&i) = trend::anomalies(&values)
                    .iter()
                    .find(|&&i| values[i] > median)
                {
                    spikes.push(TimelineEntry {
                        time: rfc3339(m.series[i].0),
                        event: format!(
                            "metric spike: {} {key} {} (median {})",
                            t.resource.id,
                            slo::round(values[i]),
                            slo::round(median)
                        ),
                    });
                }
            }
        }
    }

    let analysis = analyzer.finish(start, end, &deploys, &spikes, &|c| {
        remediate_hint(c, &scope.resources, env)
    });
    let report = InvestigationReport {
        query: question.to_string(),
        environment: env.to_string(),
        window: Window {
            start: rfc3339(start),
            end: rfc3339(end),
        },
        resources: scope.resources.iter().map(|r| r.id.clone()).collect(),
        log_groups: groups_read,
        logs_found: analysis.logs_found,
        error_count: analysis.error_count,
        patterns: analysis.patterns,
        timeline: analysis.timeline,
        root_cause: analysis.root_cause,
        recommendations: analysis.recommendations,
        issue_id: scope.issue.clone(),
        report_path: String::new(),
    };
    Ok((report, notes))
}

/// A file-name part from free text: lower-case letters and digits joined by single dashes,
/// at most 40 characters (`all` when nothing is left).
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(40).collect();
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "all".into()
    } else {
        out.to_string()
    }
}

/// Save the report as `<stamp>-<name>.json` and `.md` under `dir` (never replacing an
/// earlier one), its `report_path` set by `shown` to how the user sees the JSON file's path;
/// and note the investigation on its issue. The path of the JSON file.
pub fn save(
    report: &mut InvestigationReport,
    dir: &Path,
    name: &str,
    now: DateTime<Utc>,
    shown: impl Fn(&Path) -> String,
    store: &IssueStore,
) -> Result<PathBuf> {
    let json_path = crate::fsutil::reserve_unique(
        dir,
        &clock::file_stamp(now),
        &format!("-{}.json", slug(name)),
    )?;
    let md_path = json_path.with_extension("md");
    report.report_path = shown(&json_path);
    let json = serde_json::to_string_pretty(report).expect("reports serialise") + "\n";
    crate::fsutil::write_reserved(&json_path, json.as_bytes())?;
    crate::fsutil::write_atomic(&md_path, report.markdown().as_bytes())?;
    if let Some(id) = &report.issue_id {
        store.add_history(
            id,
            "investigated",
            &format!("{}: {}", report.report_path, report.root_cause.summary),
            now,
        )?;
    }
    Ok(json_path)
}

/// What `logs` matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsRun {
    pub groups: Vec<String>,
    pub read: u64,
    pub matched: u64,
    /// Groups that do not exist.
    pub missing: Vec<String>,
    /// The part of the filter the service applied.
    pub server_filter: Option<String>,
}

/// One matched event, redacted.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched<'a> {
    pub time: String,
    pub group: &'a str,
    pub stream: String,
    pub message: String,
}

/// The events of `resource`'s log groups in `[start, end]` that match `filter`, handed to
/// `each` as they arrive (redacted), at most `limit` of them. The service applies what it
/// can of the filter; helm-cloud applies all of it.
#[allow(clippy::too_many_arguments)]
pub async fn logs<L: LogSource>(
    source: &L,
    resource: &Resource,
    region: &str,
    filter: &Filter,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: u64,
    mut each: impl FnMut(Matched<'_>),
) -> std::result::Result<LogsRun, CaseError> {
    let groups = log_groups_of(source, resource, region).await?;
    if groups.is_empty() {
        return Err(Error::usage(
            format!(
                "no log group is known for {} ({})",
                resource.id, resource.type_name
            ),
            Some("add \"log_group\" to the resource in the registry".into()),
        )
        .into());
    }
    let mut run = LogsRun {
        server_filter: filter.server_side(),
        ..Default::default()
    };
    for g in &groups {
        if run.matched >= limit {
            break;
        }
        let (mut read, mut matched) = (0u64, run.matched);
        let mut on_event = |e: LogEvent| {
            read += 1;
            if filter.matches(&e.message) {
                matched += 1;
                each(Matched {
                    time: DateTime::from_timestamp_millis(e.timestamp_ms)
                        .map(rfc3339)
                        .unwrap_or_default(),
                    group: g,
                    stream: e.stream,
                    message: redact(&e.message).into_owned(),
                });
            }
            matched < limit
        };
        let sweep = source
            .filter_events(
                region,
                g,
                start.timestamp_millis(),
                end.timestamp_millis(),
                run.server_filter.as_deref(),
                &mut on_event,
            )
            .await?;
        run.read += read;
        run.matched = matched;
        if sweep.missing {
            run.missing.push(g.clone());
        }
    }
    run.groups = groups;
    Ok(run)
}

#[cfg(test)]
mod tests {
    //! The use cases on the shared fake of their ports: log groups by name, each with its
    //! events.
    use super::*;
    use crate::issues::{Detection, Evaluated, Severity};
    use crate::ports::FailureKind;
    use crate::testing::{self, FakeWorld};
    use futures::executor::block_on;

    fn view() -> EnvironmentView {
        let text = r#"{"deployments": [{"id": "d1", "environment": "test", "project": "shop", "version": "1.4.2",
            "deployed_at": "2025-11-03T19:50:00Z", "resources": [
            {"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:api"},
            {"id": "web", "type": "ecs_service", "arn": "arn:aws:ecs:us-east-1:123456789012:service/main/web"},
            {"id": "site", "type": "s3_bucket", "arn": "arn:aws:s3:::site"}]}]}"#;
        testing::view_of(text)
    }

    fn t(s: &str) -> DateTime<Utc> {
        clock::parse_rfc3339(s).unwrap()
    }

    fn event(at: &str, message: &str) -> LogEvent {
        LogEvent {
            timestamp_ms: t(at).timestamp_millis(),
            message: message.into(),
            stream: "s1".into(),
        }
    }

    fn store(dir: &Path) -> IssueStore {
        IssueStore::new(dir, "a/", "r/", "infrastructure", 90)
    }

    #[test]
    fn an_issue_scopes_its_own_resources_from_before_it_was_detected() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let d = Detection {
            account: None,
            environment: "test".into(),
            resource: "api".into(),
            check: "error_rate".into(),
            severity: Severity::High,
            title: "api errors".into(),
            description: "d".into(),
            slo_breach: false,
            metrics: serde_json::Value::Null,
        };
        let mut e = Evaluated::new();
        e.add("api", "error_rate");
        s.sync("test", "health", &[d], &e, t("2025-11-03T20:00:00Z"))
            .unwrap();
        let now = t("2025-11-03T21:00:00Z");
        let issue = crate::scope::find_issue(&s, "infra-001").unwrap();
        let sc = scope(&view(), now, "", Some(&issue), None, "1h").unwrap();
        assert_eq!(sc.resources.len(), 1);
        assert_eq!(sc.resources[0].id, "api");
        assert_eq!(sc.start, t("2025-11-03T19:30:00Z"));
        assert_eq!(sc.issue.as_deref(), Some("infra-001"));
        let mut elsewhere = issue.clone();
        elsewhere.affected_resources = vec!["gone".into()];
        assert!(scope(&view(), now, "", Some(&elsewhere), None, "1h").is_err());
        // No issue, no resource named: every resource with logs, over the timeframe.
        let sc = scope(&view(), now, "what happened", None, None, "2h").unwrap();
        let ids: Vec<&str> = sc.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["api", "web"]);
        assert_eq!(sc.start, t("2025-11-03T19:00:00Z"));
    }

    #[test]
    fn timeouts_in_the_logs_name_the_cause_with_its_evidence_and_the_fitting_action() {
        let mut fake = FakeWorld::default();
        fake.groups.insert(
            "/aws/lambda/api".into(),
            (0..6)
                .map(|i| {
                    event(
                        &format!("2025-11-03T20:0{i}:00Z"),
                        "ERROR Task timed out after 3.00 seconds",
                    )
                })
                .chain([event("2025-11-03T20:07:00Z", "INFO request ok")])
                .collect(),
        );
        let v = view();
        let sc = Scope {
            resources: vec![v.get("api").unwrap().clone(), v.get("web").unwrap().clone()],
            start: t("2025-11-03T19:45:00Z"),
            end: t("2025-11-03T20:30:00Z"),
            issue: None,
        };
        let (r, notes) =
            block_on(investigate(&fake, &v, &sc, "why", |_| "us-east-1".into())).unwrap();
        assert_eq!(r.logs_found, 7);
        assert_eq!(r.error_count, 6);
        assert_eq!(r.root_cause.category, Category::Timeout);
        assert!(!r.root_cause.evidence.is_empty());
        assert!(
            r.recommendations
                .iter()
                .any(|x| x.contains("--action restart_lambda --service api")),
            "{:?}",
            r.recommendations
        );
        // The deployment of the window is on the timeline.
        assert!(
            r.timeline
                .iter()
                .any(|e| e.event.contains("deploy shop 1.4.2"))
        );
        // web logs to its task definition's group, which does not exist: said, not read.
        assert_eq!(r.log_groups, ["/aws/lambda/api"]);
        assert_eq!(notes, ["web: log group /ecs/web does not exist"]);
    }

    #[test]
    fn an_unreadable_log_group_fails_the_investigation_rather_than_reading_as_quiet() {
        let fake = FakeWorld {
            denied_groups: vec!["/aws/lambda/api".into()],
            ..Default::default()
        };
        let v = view();
        let sc = Scope {
            resources: vec![v.get("api").unwrap().clone()],
            start: t("2025-11-03T19:45:00Z"),
            end: t("2025-11-03T20:30:00Z"),
            issue: None,
        };
        let e = block_on(investigate(&fake, &v, &sc, "", |_| "us-east-1".into())).unwrap_err();
        assert_eq!(e.kind, FailureKind::PermissionDenied);
    }

    #[test]
    fn logs_apply_the_whole_filter_stop_at_the_limit_and_redact() {
        let mut fake = FakeWorld::default();
        fake.groups.insert(
            "/aws/lambda/api".into(),
            vec![
                event("2025-11-03T20:00:00Z", "ERROR db password=hunter2 refused"),
                event("2025-11-03T20:01:00Z", "ERROR retrying"),
                event("2025-11-03T20:02:00Z", "INFO ok"),
                event("2025-11-03T20:03:00Z", "ERROR again"),
            ],
        );
        let v = view();
        let api = v.get("api").unwrap();
        let f = Filter::parse("ERROR").unwrap();
        let mut got = Vec::new();
        let run = block_on(logs(
            &fake,
            api,
            "us-east-1",
            &f,
            t("2025-11-03T19:00:00Z"),
            t("2025-11-03T21:00:00Z"),
            2,
            |m| got.push(m.message),
        ))
        .unwrap();
        assert_eq!(run.matched, 2);
        assert_eq!(run.read, 2, "reading stops at the limit");
        assert_eq!(got.len(), 2);
        assert!(!got[0].contains("hunter2"), "{}", got[0]);
        assert_eq!(fake.swept.lock().unwrap()[0].1, run.server_filter);

        // A bucket has no known log group: a usage error before any read.
        let site = v.get("site").unwrap();
        let e = block_on(logs(
            &fake,
            site,
            "us-east-1",
            &f,
            t("2025-11-03T19:00:00Z"),
            t("2025-11-03T21:00:00Z"),
            9,
            |_| {},
        ));
        assert!(matches!(e, Err(CaseError::Domain(_))));
        assert_eq!(fake.swept.lock().unwrap().len(), 1);
    }

    #[test]
    fn slugs_are_short_lowercase_and_never_empty() {
        assert_eq!(slug("Why did API fail?"), "why-did-api-fail");
        assert_eq!(slug("!!!"), "all");
        assert!(slug(&"a b ".repeat(40)).len() <= 40);
        assert!(!slug(&"a b ".repeat(40)).ends_with('-'));
    }
}
