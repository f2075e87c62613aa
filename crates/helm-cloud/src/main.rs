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
use cli::{Cli, Command, ConfigCommand, RegistryCommand};
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

async fn dispatch(ctx: &Ctx, command: Command) -> CliResult {
    match command {
        Command::Init => commands::init::run(ctx),
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
