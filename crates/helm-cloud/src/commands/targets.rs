//! Choosing what a monitoring command looks at: the environment's resources (or one of
//! them), each with its kind and region decided, and the time window.

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use chrono::{DateTime, Utc};
use helm_aws::health::Target;
use helm_core::config::{Config, duration};
use helm_core::monitor::report::Skipped;
use helm_core::registry::{EnvironmentView, Registry};

/// The environment view of the registry, after checking the environment name.
pub fn environment(ctx: &Ctx, config: &Config, env: &str) -> CliResult<EnvironmentView> {
    ctx.check_env(config, env)?;
    Ok(Registry::load(&ctx.paths.registry())?.environment_view(env))
}

/// The resources to check: all of the environment, or `--service ID` alone.
pub fn targets(
    ctx: &Ctx,
    config: &Config,
    view: &EnvironmentView,
    service: Option<&str>,
) -> CliResult<(Vec<Target>, Vec<Skipped>)> {
    let chosen: Vec<_> = match service {
        Some(id) => match view.get(id) {
            Some(r) => vec![r.clone()],
            None => return Err(unknown_service(view, id)),
        },
        None => view.resources.clone(),
    };
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for r in chosen {
        match r.kind {
            Some(kind) => {
                let region = config.region(&ctx.inputs, r.region.as_deref()).value;
                targets.push(Target {
                    resource: r,
                    kind,
                    region,
                });
            }
            None => skipped.push(Skipped {
                id: r.id.clone(),
                type_name: r.type_name.clone(),
                reason: "unsupported type".into(),
            }),
        }
    }
    Ok((targets, skipped))
}

/// `--service` named no resource of the environment: exit 64 listing the ids.
pub fn unknown_service(view: &EnvironmentView, id: &str) -> CliError {
    let ids: Vec<&str> = view.resources.iter().map(|r| r.id.as_str()).collect();
    let mut err = CliError::usage(format!(
        "no resource {id:?} in environment {}",
        view.environment
    ));
    let listed = if ids.is_empty() {
        "the environment has no resources".to_string()
    } else {
        format!("resources: {}", ids.join(", "))
    };
    err = match helm_core::suggest::nearest(id, ids.iter().copied()) {
        Some(near) => err.hint(format!("did you mean {near:?}? {listed}")),
        None => err.hint(listed),
    };
    err
}

/// `[now − timeframe, now)`, from a duration flag (exit 64 when it is not one).
pub fn window(ctx: &Ctx, flag: &str, timeframe: &str) -> CliResult<(DateTime<Utc>, DateTime<Utc>)> {
    let d = duration::parse(timeframe).map_err(|e| {
        CliError::usage(format!("{flag}: {e}")).hint("write it as 30m, 1h, 24h or 7d")
    })?;
    let end = ctx.clock.now();
    let start = end
        - chrono::Duration::from_std(d)
            .map_err(|_| CliError::usage(format!("{flag} {timeframe} is too long")))?;
    Ok((start, end))
}
