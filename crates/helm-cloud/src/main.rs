//! The `helm-cloud` binary: parses the command line, runs one subcommand, and turns its
//! result into an exit code and at most two lines on stderr (INTERFACE.md).

mod cli;
mod commands;
mod context;
mod error;
mod output;
mod table;

use clap::Parser;
use clap::error::ErrorKind as ClapKind;
use cli::{Cli, Command, ConfigCommand, IssuesCommand, RegistryCommand};
use context::Ctx;
use error::{CliError, CliResult, EXIT_SOFTWARE, EXIT_USAGE};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug: say so in one line, never with a Rust backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("helm-cloud: internal error: {msg}");
        eprintln!("  this is a bug; please report it with the command you ran");
    }));

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ClapKind::DisplayHelp | ClapKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                ClapKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    ExitCode::from(EXIT_USAGE)
                }
                _ => {
                    let _ = e.print();
                    ExitCode::from(EXIT_USAGE)
                }
            };
        }
    };

    let result = std::panic::catch_unwind(|| run(cli))
        .unwrap_or(Err(CliError::new(EXIT_SOFTWARE, "internal error")));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("helm-cloud: error: {}", e.message);
            if let Some(h) = &e.hint {
                eprintln!("  hint: {h}");
            }
            ExitCode::from(e.code)
        }
    }
}

fn run(cli: Cli) -> CliResult {
    let ctx = Ctx::new(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(EXIT_SOFTWARE, format!("starting the async runtime: {e}")))?;
    runtime.block_on(dispatch(&ctx, cli.command))
}

fn dispatch<'a>(
    ctx: &'a Ctx,
    command: Command,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = CliResult> + 'a>> {
    Box::pin(dispatch_inner(ctx, command))
}

/// Parse a routed command line (`ask`, `ops-manage`) and run it with the global options of
/// both: those given to the routing command, overridden by those in the routed line.
async fn run_routed(ctx: &Ctx, argv: &[String]) -> CliResult {
    let full = std::iter::once("helm-cloud".to_string()).chain(argv.iter().cloned());
    let cli = Cli::try_parse_from(full).map_err(|e| {
        CliError::usage(e.to_string().lines().next().unwrap_or_default().to_string())
    })?;
    let given = |flag: &str| {
        argv.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    let (new, old) = (&cli.global, &ctx.global);
    let merged = cli::GlobalOpts {
        root: if given("--root") {
            new.root.clone()
        } else {
            old.root.clone()
        },
        format: if given("--format") {
            new.format
        } else {
            old.format
        },
        endpoint_url: new.endpoint_url.clone().or(old.endpoint_url.clone()),
        profile: new.profile.clone().or(old.profile.clone()),
        region: new.region.clone().or(old.region.clone()),
        verbose: new.verbose.max(old.verbose),
        quiet: new.quiet || old.quiet,
        no_color: new.no_color || old.no_color,
        now: if given("--now") {
            new.now.clone()
        } else {
            old.now.clone()
        },
    };
    let routed = Ctx::new(&merged)?;
    dispatch(&routed, cli.command).await
}

/// ops-manage operations and the commands that replace them.
const OPS_MANAGE: &[(&str, &str)] = &[
    ("check-health", "health"),
    ("query-logs", "logs"),
    ("investigate", "investigate"),
    ("remediate", "remediate"),
    ("audit", "audit"),
];

async fn ops_manage(ctx: &Ctx, op: &str, args: &[String]) -> CliResult {
    let Some((_, new)) = OPS_MANAGE.iter().find(|(old, _)| *old == op) else {
        let valid: Vec<&str> = OPS_MANAGE.iter().map(|(o, _)| *o).collect();
        return Err(
            CliError::usage(format!("unknown ops-manage operation {op:?}"))
                .hint(format!("valid: {}", valid.join(", "))),
        );
    };
    // The old flags: --focus became --type (audit); every other flag kept its name.
    let mut argv = vec![new.to_string()];
    for a in args {
        argv.push(match a.strip_prefix("--focus") {
            Some(rest) => format!("--type{rest}"),
            None => a.clone(),
        });
    }
    eprintln!(
        "helm-cloud: ops-manage is deprecated (faber-cloud ops-manage retired); use: helm-cloud {}",
        helm_core::router::display(&argv)
    );
    if *new == "audit" {
        return Err(
            CliError::usage("audit is not available in this version of helm-cloud")
                .hint("see the README's status table"),
        );
    }
    run_routed(ctx, &argv).await
}

async fn ask(ctx: &Ctx, text: &str, explain: bool) -> CliResult {
    let config = ctx.config()?;
    let envs: Vec<String> = config
        .environments
        .names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let registry = helm_core::registry::Registry::load(&ctx.paths.registry())?;
    let mut resources: Vec<String> = registry
        .deployments
        .iter()
        .flat_map(|d| d.resources.iter().map(|r| r.id.clone()))
        .collect();
    resources.sort();
    resources.dedup();
    let argv = helm_core::router::route(text, &envs, &resources).map_err(|u| {
        let mut parts = Vec::new();
        if let Some(i) = u.intent {
            parts.push(format!("intent {i}"));
        }
        if let Some(e) = &u.environment {
            parts.push(format!("environment {e}"));
        }
        if let Some(r) = &u.resource {
            parts.push(format!("resource {r}"));
        }
        if let Some(i) = &u.issue {
            parts.push(format!("issue {i}"));
        }
        let understood = if parts.is_empty() { "nothing I can route".to_string() } else { parts.join(", ") };
        CliError::usage(format!("cannot route {text:?} (understood: {understood})")).hint(
            "ask about health/status, logs, what happened, performance, restart/scale, cost/security/compliance, the dashboard, issues or escalation; name an environment and a resource",
        )
    })?;
    let shown = format!("→ helm-cloud {}", helm_core::router::display(&argv));
    if explain {
        ctx.out
            .result(&serde_json::json!({"command": argv}), || shown.clone());
        return Ok(0);
    }
    eprintln!("{shown}");
    if argv[0] == "audit" {
        return Err(
            CliError::usage("audit is not available in this version of helm-cloud")
                .hint("see the README's status table"),
        );
    }
    // A routed remediation goes through remediate's own policy: never --yes from here.
    run_routed(ctx, &argv).await
}

async fn dispatch_inner(ctx: &Ctx, command: Command) -> CliResult {
    match command {
        Command::Init => commands::init::run(ctx),
        Command::Audit {
            kind,
            env,
            timeframe,
        } => commands::audit::run(ctx, &kind, &env, &timeframe).await,
        Command::Issues {
            command: Some(IssuesCommand::Show { id }),
            ..
        } => commands::central::show(ctx, &id),
        Command::Issues {
            command: Some(IssuesCommand::Resolve { id, note }),
            ..
        } => commands::central::resolve(ctx, &id, note.as_deref()),
        Command::Issues {
            command: None,
            critical,
            high,
            medium,
            low,
            domain,
            env,
            top,
        } => {
            use helm_core::issues::Severity;
            let severities = [
                (critical, Severity::Critical),
                (high, Severity::High),
                (medium, Severity::Medium),
                (low, Severity::Low),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, s)| s)
            .collect();
            commands::central::list(
                ctx,
                commands::central::IssueFilter {
                    severities,
                    domain: domain.as_deref(),
                    env: env.as_deref(),
                    top,
                },
            )
        }
        Command::Dashboard {
            env,
            domain,
            issues,
            refresh,
        } => {
            commands::central::dashboard(
                ctx,
                commands::central::DashboardArgs {
                    env: env.as_deref(),
                    domain: domain.as_deref(),
                    issues,
                    refresh,
                },
            )
            .await
        }
        Command::Status { domain, env } => {
            commands::central::status(ctx, env.as_deref(), domain.as_deref()).await
        }
        Command::Escalate { id, priority } => {
            commands::central::escalate(ctx, &id, priority.as_deref())
        }
        Command::OpsManage { operation, args } => ops_manage(ctx, &operation, &args).await,
        Command::Ask { text, explain } => ask(ctx, &text, explain).await,
        Command::Health {
            env,
            service,
            timeframe,
        } => commands::health::run(ctx, &env, service.as_deref(), &timeframe).await,
        Command::Metrics {
            service,
            metric,
            env,
            timeframe,
        } => commands::metrics::metrics(ctx, &env, &service, &metric, &timeframe).await,
        Command::Logs {
            service,
            env,
            filter,
            since,
            limit,
        } => commands::logs::run(ctx, &env, &service, filter.as_deref(), &since, limit).await,
        Command::Patterns {
            file,
            top,
            assignments,
        } => commands::patterns::run(ctx, file.as_deref(), top, assignments.as_deref()),
        Command::Investigate {
            query,
            env,
            issue,
            service,
            timeframe,
        } => {
            commands::investigate::run(
                ctx,
                &env,
                query.as_deref(),
                issue.as_deref(),
                service.as_deref(),
                &timeframe,
            )
            .await
        }
        Command::Remediate {
            description,
            action,
            service,
            issue,
            value,
            min,
            max,
            paths,
            env,
            yes,
            dry_run,
            force,
        } => {
            let req = commands::remediate::Request {
                env: &env,
                description: description.as_deref(),
                action: action.as_deref(),
                service: service.as_deref(),
                issue: issue.as_deref(),
                value,
                min,
                max,
                paths: paths.as_deref(),
                yes,
                dry_run,
                force,
            };
            commands::remediate::run(ctx, req).await
        }
        Command::Performance {
            env,
            service,
            timeframe,
        } => commands::metrics::performance(ctx, &env, service.as_deref(), &timeframe).await,
        Command::Config(ConfigCommand::Show { env }) => commands::config::show(ctx, &env),
        Command::Config(ConfigCommand::Validate { aws, env }) => {
            commands::config::validate(ctx, aws, &env).await
        }
        Command::Registry(RegistryCommand::List { env }) => {
            commands::registry::list(ctx, env.as_deref())
        }
        Command::Registry(RegistryCommand::Add { file }) => commands::registry::add(ctx, &file),
        Command::Registry(RegistryCommand::Remove { id }) => commands::registry::remove(ctx, &id),
    }
}
