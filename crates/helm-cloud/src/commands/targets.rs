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
    let view = Registry::load_project(&ctx.paths)?.environment_view(env);
    view.check_ids(&ctx.paths.registry())?;
    Ok(view)
}

/// The resources to check: all of the environment, or `--service ID` alone.
pub fn targets(
    ctx: &Ctx,
    config: &Config,
    view: &EnvironmentView,
    service: Option<&str>,
) -> CliResult<(Vec<Target>, Vec<Skipped>)> {
    let chosen: Vec<_> = match service {
        Some(id) => by_service(view, id)?,
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
/// What `--service X` names: the resource with id X, else (the plugins' usage,
/// `--service=lambda`) every resource of kind X.
pub fn by_service(
    view: &EnvironmentView,
    id: &str,
) -> CliResult<Vec<helm_core::registry::Resource>> {
    if let Some(r) = view.get(id) {
        return Ok(vec![r.clone()]);
    }
    if let Some(kind) = helm_core::resource::ResourceKind::parse(id) {
        let of_kind: Vec<_> = view
            .resources
            .iter()
            .filter(|r| r.kind == Some(kind))
            .cloned()
            .collect();
        if !of_kind.is_empty() {
            return Ok(of_kind);
        }
    }
    Err(unknown_service(view, id))
}

/// `--service X` where one resource is needed: a kind with several resources is refused,
/// listing them.
pub fn one_service(view: &EnvironmentView, id: &str) -> CliResult<helm_core::registry::Resource> {
    let mut found = by_service(view, id)?;
    if found.len() == 1 {
        return Ok(found.remove(0));
    }
    Err(CliError::usage(format!(
        "--service {id} names {} resources in environment {}: {}",
        found.len(),
        view.environment,
        found
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .hint("pass one of their ids"))
}

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

/// The environment a command acts in: an issue's own environment when it names one (an
/// explicit `--env` that differs is refused, naming both), else `--env`, else `test`.
pub fn env_for_issue(
    ctx: &Ctx,
    config: &Config,
    env: Option<&str>,
    issue: Option<&str>,
) -> CliResult<(String, Option<helm_core::issues::Issue>)> {
    let Some(id) = issue else {
        return Ok((env.unwrap_or("test").to_string(), None));
    };
    helm_core::issues::check_id(id)?;
    let found = super::health::issue_store(ctx, config)
        .get(id)?
        .ok_or_else(|| {
            CliError::usage(format!("no issue {id}")).hint("`helm-cloud issues` lists them")
        })?;
    if let Some(e) = env
        && e != found.environment
    {
        return Err(CliError::usage(format!(
            "issue {id} is in environment {}, not {e} (--env {e})",
            found.environment
        ))
        .hint(format!(
            "drop --env, or pass --env {}: an issue is acted on in its own environment",
            found.environment
        )));
    }
    Ok((found.environment.clone(), Some(found)))
}
