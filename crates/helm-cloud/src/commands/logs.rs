//! `helm-cloud logs`: matching log events of one resource, streamed (helm-core's
//! `investigator::run::logs`).

use super::targets;
use crate::cli::Format;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use helm_core::clock::rfc3339;
use helm_core::investigator::filter::Filter;
use helm_core::investigator::run as investigation;
use serde_json::json;

pub async fn run(
    ctx: &Ctx,
    env: &str,
    service: &str,
    filter: Option<&str>,
    since: &str,
    limit: Option<u64>,
) -> CliResult {
    let config = ctx.config()?;
    let view = targets::environment(ctx, &config, env)?;
    let resource = targets::one_service(&view, service)?;
    let pattern = filter.unwrap_or("");
    let f = Filter::parse(pattern).map_err(|e| {
        CliError::usage(e.to_string())
            .hint("see the README: terms, \"phrases\", ?any, -none, { $.field = \"value\" }")
    })?;
    let (start, end) = targets::window(ctx, "--since", since)?;
    let region = config.region(&ctx.inputs, resource.region.as_deref()).value;
    let clients = ctx.aws(&config, env).await?;
    let text_mode = ctx.out.format == Format::Text;
    let mut collected = Vec::new();
    let limit = limit.unwrap_or(u64::MAX);
    let run = investigation::logs(&clients, &resource, &region, &f, start, end, limit, |m| {
        if text_mode {
            // Through the printer: a closed pipe ends the command quietly.
            ctx.out.text(&format!("{} {}", m.time, m.message));
        } else {
            collected.push(json!({"time": m.time, "log_group": m.group, "stream": m.stream, "message": m.message}));
        }
    })
    .await?;
    for g in &run.missing {
        ctx.out.warn(&format!(
            "log group {g} does not exist (the resource never logged, or logs elsewhere)"
        ));
    }
    if text_mode {
        ctx.out.warn_plain(&format!(
            "{} events matched of {} read from {} ({} to {})",
            run.matched,
            run.read,
            run.groups.join(", "),
            rfc3339(start),
            rfc3339(end)
        ));
    } else {
        ctx.out.result(
            &json!({"resource": service, "log_groups": run.groups, "filter": pattern, "server_filter": run.server_filter,
                    "window": {"start": rfc3339(start), "end": rfc3339(end)}, "read": run.read, "matched": run.matched, "events": collected}),
            String::new,
        );
    }
    Ok(0)
}
