//! `helm-cloud investigate`: what happened, from the logs of the window, with a timeline
//! and a root cause named with its evidence.

use super::{health::issue_store, logs::log_groups, targets};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::table;
use chrono::{DateTime, Duration, Utc};
use helm_aws::health::{self, HealthOptions, Target};
use helm_core::clock::{self, file_stamp, rfc3339};
use helm_core::config::Config;
use helm_core::fsutil;
use helm_core::investigator::query::{self, Resolution};
use helm_core::investigator::rules::Category;
use helm_core::investigator::{
    Analyzer, DeployMark, Event, InvestigationReport, TimelineEntry, Window, timephrase,
};
use helm_core::monitor::{slo, trend};
use helm_core::registry::{EnvironmentView, Resource};
use helm_core::resource::ResourceKind;

/// The remediate command that fits a category on a resource, when one does.
fn remediate_hint(category: Category, resources: &[Resource], env: &str) -> Option<String> {
    let (_, action) = category.recommendation();
    let action = action?;
    let fits = |r: &&Resource| match action {
        "restart_lambda" => r.kind == Some(ResourceKind::Lambda),
        "increase_capacity" => matches!(r.kind, Some(ResourceKind::Lambda | ResourceKind::Ecs)),
        _ => false,
    };
    let r = resources.iter().find(fits)?;
    Some(format!(
        "`helm-cloud remediate --action {action} --service {} --env {env}`",
        r.id
    ))
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-').chars().take(40).collect::<String>();
    if out.is_empty() {
        "all".into()
    } else {
        out.trim_end_matches('-').to_string()
    }
}

/// The resources, the window, and the issue being investigated (if any).
type Scope = (Vec<Resource>, DateTime<Utc>, DateTime<Utc>, Option<String>);

/// Which resources and which window.
fn scope(
    ctx: &Ctx,
    config: &Config,
    view: &EnvironmentView,
    q: &str,
    issue: Option<&str>,
    service: Option<&str>,
    timeframe: &str,
) -> CliResult<Scope> {
    let now = ctx.clock.now();
    if let Some(id) = issue {
        helm_core::issues::check_id(id)?;
        let store = issue_store(ctx, config);
        let issue = store.get(id)?.ok_or_else(|| {
            CliError::usage(format!("no issue {id}")).hint("`helm-cloud issues` lists them")
        })?;
        let detected = clock::parse_rfc3339(&issue.detected_at).unwrap_or(now);
        let resources: Vec<Resource> = issue
            .affected_resources
            .iter()
            .filter_map(|r| view.get(r).cloned())
            .collect();
        if resources.is_empty() {
            return Err(CliError::usage(format!(
                "issue {id} names resources that are not in environment {}",
                view.environment
            )));
        }
        return Ok((
            resources,
            detected - Duration::minutes(30),
            now,
            Some(issue.id),
        ));
    }
    let found = timephrase::find(q, now);
    let (start, end) = match &found {
        Some(f) => (f.start, f.end),
        None => targets::window(ctx, "--timeframe", timeframe)?,
    };
    if let Some(id) = service {
        // A kind (`--service=lambda`) investigates every resource of it.
        let rs = targets::by_service(view, id)?;
        return Ok((rs, start, end, None));
    }
    let used = found.map(|f| f.words).unwrap_or_default();
    let resources = match query::resolve(q, view, &used) {
        Resolution::Resources(r) => r,
        Resolution::Ambiguous { candidates } => {
            let names: Vec<String> = candidates
                .iter()
                .map(|r| format!("{} ({})", r.id, r.type_name))
                .collect();
            return Err(CliError::usage(format!(
                "{q:?} fits several resources: {}",
                names.join(", ")
            ))
            .hint("name one, or pass --service ID"));
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
    };
    Ok((resources, start, end, None))
}

pub async fn run(
    ctx: &Ctx,
    env: Option<&str>,
    q: Option<&str>,
    issue: Option<&str>,
    service: Option<&str>,
    timeframe: &str,
) -> CliResult {
    let q = q.unwrap_or("");
    let config = ctx.config()?;
    // An issue is investigated in its own environment.
    let (env, _) = targets::env_for_issue(ctx, &config, env, issue)?;
    let env = env.as_str();
    let view = targets::environment(ctx, &config, env)?;
    let (resources, start, end, issue_id) =
        scope(ctx, &config, &view, q, issue, service, timeframe)?;
    if resources.is_empty() {
        return Err(CliError::usage(format!(
            "no resource of environment {env} has logs to investigate"
        ))
        .hint("name a resource, or add log_group to it in the registry"));
    }
    let clients = ctx.aws(&config, env).await?;
    let _progress = ctx.out.progress(format!(
        "investigating {} resource(s) in {env}",
        resources.len()
    ));
    let mut analyzer = Analyzer::new();
    let mut groups_read = Vec::new();
    let mut notes = Vec::new();
    for r in &resources {
        let region = config.region(&ctx.inputs, r.region.as_deref()).value;
        let groups = log_groups(&clients, r, &region).await?;
        if groups.is_empty() {
            notes.push(format!("{}: no log group known", r.id));
        }
        for g in groups {
            let sweep = clients
                .filter_log_events(
                    &region,
                    &g,
                    start.timestamp_millis(),
                    end.timestamp_millis(),
                    None,
                    |e| {
                        analyzer.add(&Event {
                            time_ms: e.timestamp_ms,
                            message: e.message,
                            resource: r.id.clone(),
                        });
                        true
                    },
                )
                .await?;
            if sweep.missing {
                notes.push(format!("{}: log group {g} does not exist", r.id));
            } else {
                groups_read.push(g);
            }
        }
    }

    // Deployments of the environment inside the window.
    let deploys: Vec<DeployMark> = view
        .deployments
        .iter()
        .filter_map(|d| {
            let at = clock::parse_rfc3339(d.deployed_at.as_deref()?)?;
            let what = d.project.clone().unwrap_or_else(|| d.id.clone());
            Some(DeployMark {
                at,
                text: format!(
                    "deploy {what}{} ({})",
                    d.version
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default(),
                    d.id
                ),
            })
        })
        .collect();

    // Metric spikes of the same resources.
    let targets: Vec<Target> = resources
        .iter()
        .filter_map(|r| {
            Some(Target {
                resource: r.clone(),
                kind: r.kind?,
                region: config.region(&ctx.inputs, r.region.as_deref()).value,
            })
        })
        .collect();
    let mut spikes = Vec::new();
    if !targets.is_empty() {
        let opts = HealthOptions::metrics_only(env, start, end);
        let observations = health::observe(&clients, &targets, &opts).await;
        for (t, o) in targets.iter().zip(&observations) {
            for key in [
                "errors",
                "errors_5xx",
                "throttles",
                "duration_p95_ms",
                "latency_p95_ms",
                "cpu_avg_percent",
            ] {
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
        remediate_hint(c, &resources, env)
    });
    let mut report = InvestigationReport {
        query: q.to_string(),
        environment: env.to_string(),
        window: Window {
            start: rfc3339(start),
            end: rfc3339(end),
        },
        resources: resources.iter().map(|r| r.id.clone()).collect(),
        log_groups: groups_read,
        logs_found: analysis.logs_found,
        error_count: analysis.error_count,
        patterns: analysis.patterns,
        timeline: analysis.timeline,
        root_cause: analysis.root_cause,
        recommendations: analysis.recommendations,
        issue_id: issue_id.clone(),
        report_path: String::new(),
    };
    let name = issue_id
        .clone()
        .or_else(|| service.map(str::to_string))
        .unwrap_or_else(|| slug(q));
    let dir = ctx.paths.plugin_dir().join("investigations").join(env);
    let json_path = fsutil::reserve_unique(
        &dir,
        &file_stamp(ctx.clock.now()),
        &format!("-{}.json", slug(&name)),
    )?;
    let md_path = json_path.with_file_name(
        json_path
            .file_name()
            .map(|n| n.to_string_lossy().replace(".json", ".md"))
            .unwrap_or_default(),
    );
    report.report_path = ctx.show_path(&json_path);
    let json = serde_json::to_value(&report).expect("reports serialise");
    fsutil::write_atomic(
        &json_path,
        (serde_json::to_string_pretty(&json).expect("JSON") + "\n").as_bytes(),
    )?;
    fsutil::write_atomic(&md_path, report.markdown().as_bytes())?;
    if let Some(id) = &issue_id {
        issue_store(ctx, &config).add_history(
            id,
            "investigated",
            &format!("{}: {}", report.report_path, report.root_cause.summary),
            ctx.clock.now(),
        )?;
    }
    for n in &notes {
        ctx.out.warn(n);
    }
    ctx.out.result(&json, || render(&report));
    Ok(0)
}

fn render(r: &InvestigationReport) -> String {
    let mut s = format!(
        "Investigation of {} in {} ({} to {}): {} lines read, {} error lines\n\n",
        r.resources.join(", "),
        r.environment,
        r.window.start,
        r.window.end,
        r.logs_found,
        r.error_count
    );
    s.push_str(&format!(
        "Root cause: {} (confidence {:.0}%)\n  {}\n",
        r.root_cause.category.as_str(),
        r.root_cause.confidence * 100.0,
        r.root_cause.summary
    ));
    for e in &r.root_cause.evidence {
        s.push_str(&format!("  | {e}\n"));
    }
    if !r.timeline.is_empty() {
        s.push_str("\nTimeline:\n");
        for t in r.timeline.iter().take(15) {
            s.push_str(&format!("  {} {}\n", t.time, t.event));
        }
    }
    if !r.patterns.is_empty() {
        s.push_str("\nPatterns:\n");
        let rows: Vec<Vec<String>> = r
            .patterns
            .iter()
            .take(10)
            .map(|p| {
                vec![
                    p.count.to_string(),
                    p.error_count.to_string(),
                    p.first_seen.clone().unwrap_or_default(),
                    p.template.chars().take(100).collect(),
                ]
            })
            .collect();
        s.push_str(&table::render(
            &["COUNT", "ERRORS", "FIRST SEEN", "TEMPLATE"],
            &rows,
        ));
        s.push('\n');
    }
    s.push_str("\nRecommendations:\n");
    for rec in &r.recommendations {
        s.push_str(&format!("  - {rec}\n"));
    }
    s.push_str(&format!("\nReport: {} (and .md)\n", r.report_path));
    s
}
