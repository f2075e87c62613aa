//! Central Helm's issue commands: `issues` (list, show, resolve), `escalate`, and
//! `domains trust`. The use cases are helm-core's `central::board` and `central::escalate`;
//! this parses, builds the tracker and renders.

use super::health::issue_store;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use helm_core::central::board::{self, IssueFilter, action_command, issue_json};
use helm_core::central::escalate::{self, MarkdownTracker};
use helm_core::central::{self, DomainMonitors, short_age};
use helm_core::config::Config;
use helm_core::issues::Severity;
use helm_services::github::{self, GitHub};
use helm_services::tracker::Tracker;
use serde_json::json;

pub(crate) fn glyph(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
    }
}

/// The active issues `f` selects, in priority order; unreadable issue files are skipped
/// with a warning naming each, and counted.
pub(super) fn ranked(
    ctx: &Ctx,
    config: &Config,
    f: &IssueFilter,
) -> CliResult<(Vec<central::Ranked>, usize)> {
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let store = issue_store(ctx, config);
    let (r, skipped) = board::ranked(&store, &monitors, f, ctx.clock.now())?;
    for w in &skipped {
        ctx.out.warn(w);
    }
    Ok((r, skipped.len()))
}

pub fn list(ctx: &Ctx, f: IssueFilter) -> CliResult {
    let config = ctx.config()?;
    if let Some(e) = f.env {
        ctx.check_env(&config, e)?;
    }
    let (r, skipped) = ranked(ctx, &config, &f)?;
    let mut json = json!({"issues": r.iter().map(issue_json).collect::<Vec<_>>()});
    if skipped > 0 {
        json["skipped_issue_files"] = json!(skipped);
    }
    ctx.out.result(&json, || {
        if r.is_empty() {
            return "No active issues.".into();
        }
        let mut s = format!("{} active issue{}, by priority\n\n", r.len(), if r.len() == 1 { "" } else { "s" });
        for x in &r {
            let i = &x.issue;
            s.push_str(&format!(
                "{} [{}/{}] {}\n   {} · score {:.1} · SLO breach: {} · age {} · detected {}\n   → {}\n\n",
                glyph(i.severity),
                i.domain,
                i.environment,
                i.title,
                i.id,
                x.score,
                if i.slo_breach { "yes" } else { "no" },
                short_age(x.age_hours),
                i.detected_at,
                action_command(i)
            ));
        }
        s
    });
    Ok(0)
}

pub fn show(ctx: &Ctx, id: &str) -> CliResult {
    helm_core::issues::check_id(id)?;
    let config = ctx.config()?;
    let issue = issue_store(ctx, &config).get(id)?.ok_or_else(|| {
        CliError::usage(format!("no issue {id}")).hint("`helm-cloud issues` lists the active ones")
    })?;
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let r = central::rank(vec![issue], &monitors, ctx.clock.now()).remove(0);
    let json = issue_json(&r);
    ctx.out.result(&json, || {
        let i = &r.issue;
        let mut s = format!(
            "{} {} [{}/{}] {}\n{}\n\nstatus {:?} · severity {} · score {:.1} · SLO breach {} · occurrences {}\ndetected {} · last seen {} · resources {}\n",
            glyph(i.severity),
            i.id,
            i.domain,
            i.environment,
            i.title,
            i.description,
            i.status,
            i.severity.as_str(),
            r.score,
            i.slo_breach,
            i.occurrences,
            i.detected_at,
            i.last_seen_at.as_deref().unwrap_or("-"),
            i.affected_resources.join(", ")
        );
        if let Some(w) = &i.work_item_id {
            s.push_str(&format!("work item {w}\n"));
        }
        s.push_str("\nHistory:\n");
        for h in &i.history {
            s.push_str(&format!("  {} {}{}\n", h.at, h.event, h.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()));
        }
        s
    });
    Ok(0)
}

pub fn resolve(ctx: &Ctx, id: &str, note: Option<&str>) -> CliResult {
    helm_core::issues::check_id(id)?;
    let config = ctx.config()?;
    let done = issue_store(ctx, &config)
        .resolve(id, note, ctx.clock.now())?
        .ok_or_else(|| CliError::usage(format!("no active issue {id}")))?;
    // Its work item is closed now; the channels hear of it on the next notifying run.
    super::notify::after_issues(
        ctx,
        &config,
        std::slice::from_ref(&done.environment),
        Default::default(),
        false,
    );
    let json = serde_json::to_value(&done).expect("issues serialise");
    ctx.out
        .result(&json, || format!("resolved {}: {}", done.id, done.title));
    Ok(0)
}

/// `helm-cloud domains trust`: allow the commands of this domain-monitors.json content.
pub fn trust(ctx: &Ctx, allow: bool) -> CliResult {
    let path = ctx.paths.domain_monitors();
    let shown = ctx.show_path(&path);
    let store = helm_core::trust::TrustStore::in_user_config()
        .ok_or_else(|| CliError::usage("no user config directory (set HOME or XDG_CONFIG_HOME)"))?;
    if !allow {
        let was = store.untrust(&path)?;
        let json = json!({"file": shown, "trusted": false, "was_trusted": was});
        ctx.out.result(&json, || {
            format!(
                "{shown}: commands no longer trusted{}",
                if was { "" } else { " (they were not)" }
            )
        });
        return Ok(0);
    }
    let content = std::fs::read(&path).map_err(|e| {
        CliError::usage(format!("{shown}: {e}")).hint("there is nothing to trust without the file")
    })?;
    let monitors = DomainMonitors::load(&path)?;
    let commands: Vec<String> = monitors
        .monitors
        .iter()
        .filter_map(|m| {
            monitors
                .health_command(&m.domain)
                .map(|c| format!("{}: {c}", m.domain))
        })
        .collect();
    let digest = store.trust(&path, &content)?;
    let json = json!({"file": shown, "trusted": true, "sha256": digest, "commands": commands, "store": store.path.display().to_string()});
    ctx.out.result(&json, || {
        let mut s = format!("trusted {shown} (sha256 {digest}); it runs:\n");
        for c in &commands {
            s.push_str(&format!("  {c}\n"));
        }
        if commands.is_empty() {
            s.push_str("  (no command)\n");
        }
        s.push_str("A change to the file makes it untrusted again.");
        s
    });
    Ok(0)
}

/// GitHub's API base: GITHUB_API_URL from the process environment (GitHub Actions sets it;
/// GitHub Enterprise users export it), else the public API. Never a URL from a project
/// file: the token goes only where the user's own environment says.
fn github_api(ctx: &Ctx, config: &Config) -> String {
    let from_file = Some(config.monitoring.settings().escalation.github_api_url)
        .filter(|u| u.trim_end_matches('/') != github::PUBLIC_API);
    if let Some(u) = from_file {
        ctx.out.warn(&format!(
            "[escalation] github_api_url = {u:?} is ignored: a token is sent only to api.github.com or to GITHUB_API_URL from the environment"
        ));
    }
    std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| github::PUBLIC_API.to_string())
}

/// The tracker the configuration and the environment name: GitHub when `[escalation]
/// github_repo` and GITHUB_TOKEN are set, else Markdown files under `.fractary/helm/work-items/`.
pub fn tracker(ctx: &Ctx, config: &Config) -> Tracker {
    let repo = config.monitoring.settings().escalation.github_repo;
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let paths = ctx.paths.clone();
    let markdown = MarkdownTracker {
        dir: ctx.paths.fractary().join("helm/work-items"),
        shown: Box::new(move |p| paths.display(p).into_owned()),
    };
    match (repo, token) {
        (Some(repo), Some(token)) => Tracker::GitHub(
            GitHub::new(&github_api(ctx, config), &repo, token),
            markdown,
        ),
        _ => Tracker::Markdown(markdown),
    }
}

pub fn escalate(ctx: &Ctx, id: &str, priority: Option<&str>) -> CliResult {
    helm_core::issues::check_id(id)?;
    let config = ctx.config()?;
    let store = issue_store(ctx, &config);
    let monitors = DomainMonitors::load(&ctx.paths.domain_monitors())?;
    let tracker = tracker(ctx, &config);
    let done = escalate::escalate(&store, &monitors, &tracker, id, priority, ctx.clock.now())?;
    if !done.already {
        super::notify::escalated(ctx, &config, id, priority);
    }
    if done.created && matches!(tracker, Tracker::Markdown(_)) {
        ctx.out.warn("wrote the work item as Markdown; to create GitHub issues set [escalation] github_repo = \"owner/name\" in monitoring.toml and export GITHUB_TOKEN");
    }
    ctx.out.result(&done.to_json(), || {
        let url = done
            .work_item
            .url
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        if done.already {
            format!(
                "{} is already escalated as {} (no second work item)",
                done.issue_id, done.work_item.id
            )
        } else if done.created {
            format!("escalated {} as {}{url}", done.issue_id, done.work_item.id)
        } else {
            format!(
                "found the work item of {} as {}{url}",
                done.issue_id, done.work_item.id
            )
        }
    });
    Ok(0)
}
