//! The `helm-cloud` binary: parses the command line, builds the adapters (helm-aws,
//! helm-services, the terminal), calls one of helm-core's use cases, renders what it returns
//! as text, JSON or voice, and turns the outcome into an exit code and at most two lines on
//! stderr (INTERFACE.md). No domain rule lives here: a front end parses, renders and maps.

mod board;
mod cli;
mod commands;
mod context;
mod error;
mod exporter;
mod mcp;
mod output;
mod serve;
mod table;

use clap::error::ErrorKind as ClapKind;
use clap::{CommandFactory, Parser};
use cli::{Cli, Command, ConfigCommand, IssuesCommand, RegistryCommand, StateCommand};
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

    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ClapKind::DisplayHelp | ClapKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    let err = clap_error(&e, &args);
                    report(&err, json_requested(&args));
                    ExitCode::from(EXIT_USAGE)
                }
            };
        }
    };
    let json = cli.global.format == cli::Format::Json;

    let result = std::panic::catch_unwind(|| run(cli))
        .unwrap_or(Err(CliError::new(EXIT_SOFTWARE, "internal error")));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report(&e, json);
            ExitCode::from(e.code)
        }
    }
}

/// One or two lines on stderr; with `--format json` also the error document on stdout, so
/// a caller that parses stdout always gets exactly one document.
fn report(e: &CliError, json: bool) {
    if json && !output::result_printed() {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&e.to_json()).expect("JSON")
        );
    }
    eprintln!("helm-cloud: error: {}", e.message);
    if let Some(h) = &e.hint {
        eprintln!("  hint: {h}");
    }
}

/// `--format json` / `--format=json` / HELM_FORMAT=json, read from the raw arguments when
/// clap could not parse them.
fn json_requested(args: &[std::ffi::OsString]) -> bool {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let flag = args.iter().enumerate().rev().find_map(|(i, a)| {
        if a == "--format" {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix("--format=").map(str::to_string)
        }
    });
    flag.or_else(|| std::env::var(context::env_vars::HELM_FORMAT).ok())
        .is_some_and(|f| f == "json")
}

/// A clap error as one line and a hint: what was wrong, and the command's `--help`.
fn clap_error(e: &clap::Error, args: &[std::ffi::OsString]) -> CliError {
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments")
        .trim();
    let first = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // The subcommand path the user typed, for the help hint.
    let mut path = vec!["helm-cloud".to_string()];
    let mut cmd = Cli::command();
    for a in args.iter().skip(1) {
        let a = a.to_string_lossy();
        if a.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(a.as_ref()).cloned() {
            Some(sub) => {
                path.push(a.into_owned());
                cmd = sub;
            }
            None => break,
        }
    }
    CliError::usage(first).hint(format!("see '{} --help'", path.join(" ")))
}

/// The plugins' vocabulary, mapped to its meaning before a command runs: `--env all` and
/// `--domain all` on the read-only central views mean every one; an environment alias
/// (`production`, `live`…) means the one configured environment it can only mean.
pub(crate) fn normalize(ctx: &Ctx, command: &mut Command) -> CliResult<()> {
    // The configuration the command reads anyway (once per run); when it is invalid the
    // command itself reports it, so an alias is left as it is here.
    let resolve = |e: &mut String| -> CliResult<()> {
        if let Ok(config) = ctx.config() {
            *e = config.environments.resolve(e)?;
        }
        Ok(())
    };
    let all = |o: &mut Option<String>| {
        if o.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("all")) {
            *o = None;
        }
    };
    match command {
        Command::Issues { env, domain, .. }
        | Command::Dashboard { env, domain, .. }
        | Command::Status { env, domain } => {
            all(env);
            all(domain);
            if let Some(e) = env {
                resolve(e)?;
            }
        }
        Command::Registry(RegistryCommand::List { env }) => {
            all(env);
            if let Some(e) = env {
                resolve(e)?;
            }
        }
        Command::Registry(RegistryCommand::Import { env, .. })
        | Command::Registry(RegistryCommand::Drift { env }) => resolve(env)?,
        Command::Health { env, .. }
        | Command::Metrics { env, .. }
        | Command::Performance { env, .. }
        | Command::Slo { env, .. }
        | Command::Logs { env, .. }
        | Command::Audit { env, .. }
        | Command::Config(ConfigCommand::Show { env }) => resolve(env)?,
        Command::Watch { env, .. } | Command::Serve { env, .. } => {
            for e in env.iter_mut() {
                resolve(e)?;
            }
        }
        Command::Investigate { env: Some(e), .. }
        | Command::Remediate { env: Some(e), .. }
        | Command::Config(ConfigCommand::Validate { env: Some(e), .. }) => resolve(e)?,
        _ => {}
    }
    Ok(())
}

fn run(cli: Cli) -> CliResult {
    let ctx = Ctx::new(&cli.global)?;
    let mut cli = cli;
    normalize(&ctx, &mut cli.command)?;
    // `patterns` reads a file and calls nothing: no worker threads, timers or sockets to
    // start (they are a measurable part of its start-up).
    let runtime = if matches!(cli.command, Command::Patterns { .. }) {
        tokio::runtime::Builder::new_current_thread().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    }
    .map_err(|e| CliError::new(EXIT_SOFTWARE, format!("starting the async runtime: {e}")))?;
    let result = runtime.block_on(dispatch_shared(&ctx, cli.command));
    if ctx.out.verbose > 0
        && !ctx.out.quiet
        && let Some(line) = ctx.calls.summary()
    {
        eprintln!("{line}");
    }
    result
}

/// Whether a command runs in a session on the shared state (`[state] backend = "s3"`):
/// every command that reads or writes the project's state, but not those that read none
/// (completions, the man page, `patterns` on a file), those that manage the state itself
/// (`init`, `config`, `state`), and the long-running ones, which hold sessions of their
/// own (`watch` one per cycle, `mcp` one per tool call, `serve` refreshes its copy).
fn in_session(command: &Command) -> bool {
    !matches!(
        command,
        Command::Completions { .. }
            | Command::Man
            | Command::Init
            | Command::Patterns { .. }
            | Command::Config(_)
            | Command::State(_)
            | Command::Watch { .. }
            | Command::Serve { .. }
            | Command::Mcp { .. }
    )
}

/// Runs a command, in a session on the shared state when it is one of those (see
/// [`in_session`]) and `[state] backend = "s3"`.
pub(crate) async fn dispatch_shared(ctx: &Ctx, command: Command) -> CliResult {
    if in_session(&command) {
        commands::state::shared(ctx, dispatch(ctx, command)).await
    } else {
        dispatch(ctx, command).await
    }
}

pub(crate) fn dispatch<'a>(
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
        concurrency: if given("--concurrency") {
            new.concurrency
        } else {
            old.concurrency
        },
        now: if given("--now") {
            new.now.clone()
        } else {
            old.now.clone()
        },
    };
    let routed = Ctx::new(&merged)?;
    let mut command = cli.command;
    normalize(&routed, &mut command)?;
    dispatch(&routed, command).await
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
    // The old audit ran every check family when no focus was given.
    if *new == "audit"
        && !argv
            .iter()
            .any(|a| a == "--type" || a.starts_with("--type="))
    {
        argv.extend(["--type".to_string(), "all".to_string()]);
    }
    eprintln!(
        "helm-cloud: ops-manage is deprecated (faber-cloud ops-manage retired); use: helm-cloud {}",
        helm_core::router::display(&argv)
    );
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
    let registry = helm_core::registry::Registry::load_project(&ctx.paths)?;
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
    // A routed remediation goes through remediate's own policy: never --yes from here.
    run_routed(ctx, &argv).await
}

async fn dispatch_inner(ctx: &Ctx, command: Command) -> CliResult {
    match command {
        Command::Init => commands::init::run(ctx),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "helm-cloud", &mut out);
            ctx.out.text(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| {
                    CliError::new(EXIT_SOFTWARE, format!("rendering the man page: {e}"))
                })?;
            ctx.out.text(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Domains(cli::DomainsCommand::Trust) => commands::central::trust(ctx, true),
        Command::Domains(cli::DomainsCommand::Untrust) => commands::central::trust(ctx, false),
        Command::Audit {
            command: Some(cli::AuditCommand::Diff { old, new }),
            ..
        } => commands::audit::diff(ctx, &old, &new),
        Command::Audit {
            command: None,
            kind,
            env,
            timeframe,
            notify,
            scope,
            regions,
            output,
            framework,
            since_last,
        } => {
            let scope = commands::audit::Scope {
                account: scope == "account",
                regions,
            };
            let opts = commands::audit::Options {
                output,
                framework,
                since_last,
            };
            let kind = kind.unwrap_or_default();
            commands::audit::run(ctx, &kind, &env, &timeframe, notify, &scope, &opts).await
        }
        Command::Notify(cli::NotifyCommand::Test { channel }) => {
            commands::notify::test(ctx, &channel)
        }
        Command::Notify(cli::NotifyCommand::Status) => commands::notify::status(ctx),
        Command::Notify(cli::NotifyCommand::Flush) => commands::notify::flush(ctx),
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
                helm_core::central::board::IssueFilter {
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
            commands::dashboard::dashboard(
                ctx,
                commands::dashboard::DashboardArgs {
                    env: env.as_deref(),
                    domain: domain.as_deref(),
                    issues,
                    refresh,
                },
            )
            .await
        }
        Command::Status { domain, env } => {
            commands::dashboard::status(ctx, env.as_deref(), domain.as_deref()).await
        }
        Command::Escalate { id, priority } => {
            commands::central::escalate(ctx, &id, priority.map(|p| p.to_lowercase()).as_deref())
        }
        Command::OpsManage { operation, args } => ops_manage(ctx, &operation, &args).await,
        Command::Ask { text, explain } => ask(ctx, &text, explain).await,
        Command::Serve {
            listen,
            env,
            token_env,
        } => {
            serve::run(
                ctx,
                serve::ServeArgs {
                    listen,
                    envs: env,
                    token_env,
                },
            )
            .await
        }
        Command::Mcp { env, plan_ttl } => {
            let ttl = helm_core::config::duration::parse(&plan_ttl)
                .map_err(|e| CliError::usage(format!("--plan-ttl: {e}")))?;
            mcp::serve(ctx.global.clone(), env, ttl).await
        }
        Command::Health {
            env,
            service,
            timeframe,
            notify,
        } => commands::health::run(ctx, &env, service.as_deref(), &timeframe, notify).await,
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
            threads,
        } => commands::patterns::run(
            ctx,
            file.as_deref(),
            top,
            assignments.as_deref(),
            threads.map(usize::from),
        ),
        Command::Investigate {
            query,
            env,
            issue,
            service,
            timeframe,
        } => {
            commands::investigate::run(
                ctx,
                env.as_deref(),
                query.as_deref(),
                issue.as_deref(),
                service.as_deref(),
                &timeframe,
            )
            .await
        }
        c @ Command::Remediate { .. } => {
            let req = commands::remediate::Request::of(&c).expect("a remediate command");
            commands::remediate::run(ctx, req).await
        }
        Command::Performance {
            env,
            service,
            timeframe,
        } => commands::metrics::performance(ctx, &env, service.as_deref(), &timeframe).await,
        Command::Slo {
            env,
            service,
            notify,
        } => commands::slo::run(ctx, &env, service.as_deref(), notify).await,
        Command::Watch {
            env,
            interval,
            cycles,
            once,
            listen,
            no_remediate,
            no_notify,
        } => {
            commands::watch::run(
                ctx,
                commands::watch::WatchArgs {
                    envs: env,
                    interval: interval.as_deref(),
                    cycles,
                    once,
                    listen: listen.as_deref(),
                    no_remediate,
                    no_notify,
                },
            )
            .await
        }
        Command::Config(ConfigCommand::Show { env }) => commands::config::show(ctx, &env),
        Command::Config(ConfigCommand::Validate { aws, env }) => {
            commands::config::validate(ctx, aws, env.as_deref()).await
        }
        Command::Registry(RegistryCommand::List { env }) => {
            commands::registry::list(ctx, env.as_deref())
        }
        Command::Registry(RegistryCommand::Add { file }) => commands::registry::add(ctx, &file),
        Command::Registry(RegistryCommand::Remove { id }) => commands::registry::remove(ctx, &id),
        Command::Registry(RegistryCommand::Import {
            terraform_state,
            cloudformation,
            all_stacks,
            tag,
            env,
            workspace,
            deployment,
            dry_run,
        }) => {
            let from = commands::registry::ImportFrom {
                terraform_state,
                cloudformation,
                all_stacks,
                tag,
                workspace,
            };
            commands::registry::import(ctx, from, &env, deployment, dry_run).await
        }
        Command::Registry(RegistryCommand::Drift { env }) => {
            commands::registry::drift(ctx, &env).await
        }
        Command::State(StateCommand::Status) => commands::state::status(ctx).await,
        Command::State(StateCommand::Migrate { to, dry_run }) => {
            commands::state::migrate(ctx, &to, dry_run).await
        }
    }
}
