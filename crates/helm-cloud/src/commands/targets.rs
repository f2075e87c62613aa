//! Choosing what a monitoring command looks at: the environment's resources (or one of
//! them), each with its kind and region decided, and the time window.

use crate::context::Ctx;
use crate::error::CliResult;
use chrono::{DateTime, Utc};
use helm_core::config::Config;
use helm_core::monitor::check::Target;
use helm_core::monitor::report::Skipped;
use helm_core::registry::{EnvironmentView, Registry, Resource};
use helm_core::scope;

/// The environment view of the registry, after checking the environment name.
pub fn environment(ctx: &Ctx, config: &Config, env: &str) -> CliResult<EnvironmentView> {
    ctx.check_env(config, env)?;
    let view = Registry::load_project(&ctx.paths)?.environment_view(env);
    view.check_ids(&ctx.paths.registry())?;
    Ok(view)
}

/// The resources to check: all of the environment, or `--service ID` alone
/// (`helm_core::scope::targets`), each in the region the configuration decides.
pub fn targets(
    ctx: &Ctx,
    config: &Config,
    view: &EnvironmentView,
    service: Option<&str>,
) -> CliResult<(Vec<Target>, Vec<Skipped>)> {
    Ok(scope::targets(view, service, |arn| {
        config.region(&ctx.inputs, arn).value
    })?)
}

pub fn one_service(view: &EnvironmentView, id: &str) -> CliResult<Resource> {
    Ok(scope::one_service(view, id)?)
}

/// `[now − timeframe, now)`, from a duration flag (exit 64 when it is not one).
pub fn window(ctx: &Ctx, flag: &str, timeframe: &str) -> CliResult<(DateTime<Utc>, DateTime<Utc>)> {
    Ok(scope::window(ctx.clock.now(), flag, timeframe)?)
}

/// The environment a command acts in (`helm_core::scope::env_for_issue`).
pub fn env_for_issue(
    ctx: &Ctx,
    config: &Config,
    env: Option<&str>,
    issue: Option<&str>,
) -> CliResult<(String, Option<helm_core::issues::Issue>)> {
    let store = super::health::issue_store(ctx, config);
    Ok(scope::env_for_issue(&store, env, issue)?)
}
