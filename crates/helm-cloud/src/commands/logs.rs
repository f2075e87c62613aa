//! `helm-cloud logs`: matching log events of one resource, streamed.

use super::targets;
use crate::cli::Format;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use helm_aws::AwsClients;
use helm_core::clock::rfc3339;
use helm_core::investigator::filter::Filter;
use helm_core::investigator::redact::redact;
use helm_core::registry::Resource;
use serde_json::json;

/// The log groups of a resource (helm-core decides which: `auditor::run::log_groups_of`).
pub async fn log_groups(
    clients: &AwsClients,
    r: &Resource,
    region: &str,
) -> CliResult<Vec<String>> {
    Ok(helm_core::auditor::run::log_groups_of(clients, r, region).await?)
}

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
    let groups = log_groups(&clients, &resource, &region).await?;
    if groups.is_empty() {
        return Err(CliError::usage(format!(
            "no log group is known for {service} ({})",
            resource.type_name
        ))
        .hint("add \"log_group\" to the resource in the registry"));
    }
    let server = f.server_side();
    let text_mode = ctx.out.format == Format::Text;
    let mut matched = 0u64;
    let mut read = 0u64;
    let mut collected = Vec::new();
    let mut missing = Vec::new();
    let limit = limit.unwrap_or(u64::MAX);
    for g in &groups {
        if matched >= limit {
            break;
        }
        let sweep = clients
            .filter_log_events(&region, g, start.timestamp_millis(), end.timestamp_millis(), server.as_deref(), |e| {
                read += 1;
                if f.matches(&e.message) {
                    matched += 1;
                    let time = chrono::DateTime::from_timestamp_millis(e.timestamp_ms).map(rfc3339).unwrap_or_default();
                    let message = redact(&e.message).into_owned();
                    if text_mode {
                        // Through the printer: a closed pipe ends the command quietly.
                        ctx.out.text(&format!("{time} {message}"));
                    } else {
                        collected.push(json!({"time": time, "log_group": g, "stream": e.stream, "message": message}));
                    }
                }
                matched < limit
            })
            .await?;
        if sweep.missing {
            missing.push(g.clone());
        }
    }
    for g in &missing {
        ctx.out.warn(&format!(
            "log group {g} does not exist (the resource never logged, or logs elsewhere)"
        ));
    }
    if text_mode {
        ctx.out.warn_plain(&format!(
            "{matched} events matched of {read} read from {} ({} to {})",
            groups.join(", "),
            rfc3339(start),
            rfc3339(end)
        ));
    } else {
        ctx.out.result(
            &json!({"resource": service, "log_groups": groups, "filter": pattern, "server_filter": server,
                    "window": {"start": rfc3339(start), "end": rfc3339(end)}, "read": read, "matched": matched, "events": collected}),
            String::new,
        );
    }
    Ok(0)
}
