//! `helm-cloud investigate`: what happened, from the logs of the window, with a timeline
//! and a root cause named with its evidence (helm-core's `investigator::run`).

use super::{health::issue_store, targets};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::table;
use helm_core::investigator::InvestigationReport;
use helm_core::investigator::run::{self as investigation, slug};

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
    let (env, issue) = targets::env_for_issue(ctx, &config, env, issue)?;
    let env = env.as_str();
    let view = targets::environment(ctx, &config, env)?;
    let store = issue_store(ctx, &config);
    let now = ctx.clock.now();
    let scope = investigation::scope(&view, now, q, issue.as_ref(), service, timeframe)?;
    let clients = ctx.aws(&config, env).await?;
    let _progress = ctx.out.progress(format!(
        "investigating {} resource(s) in {env}",
        scope.resources.len()
    ));
    let region_of = |arn: Option<&str>| config.region(&ctx.inputs, arn).value;
    let (mut report, notes) =
        investigation::investigate(&clients, &view, &scope, q, region_of).await?;
    let name = scope
        .issue
        .clone()
        .or_else(|| service.map(str::to_string))
        .unwrap_or_else(|| slug(q));
    let dir = ctx.paths.plugin_dir().join("investigations").join(env);
    investigation::save(
        &mut report,
        &dir,
        &name,
        ctx.clock.now(),
        |p| ctx.show_path(p),
        &store,
    )?;
    for n in &notes {
        ctx.out.warn(n);
    }
    let json = serde_json::to_value(&report).expect("reports serialise");
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
