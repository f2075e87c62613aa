//! `helm-cloud remediate`: resolve the words of the command line to an action and a
//! resource, then run helm-core's remediation use case (policy, plan, confirmation, apply,
//! verify, record) with AWS and the terminal, and render what it returns.

use super::health::issue_store;
use super::targets;
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_REFUSED};
use helm_core::ports::Confirmer;
use helm_core::responder::history::History;
use helm_core::responder::remediation::{self, Outcome, Stop};
use helm_core::responder::resolve::{self, Asked, Resolved};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};

/// What the user asked for on the command line.
pub struct Request<'a> {
    /// `--env` as given (None: the issue's environment, or `test`).
    pub env: Option<&'a str>,
    pub description: Option<&'a str>,
    pub action: Option<&'a str>,
    pub service: Option<&'a str>,
    pub issue: Option<&'a str>,
    pub value: Option<i64>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub paths: Option<&'a str>,
    pub yes: bool,
    pub dry_run: bool,
    pub force: bool,
}

impl<'a> Request<'a> {
    /// The request of a `remediate` command line (None for any other command).
    pub fn of(command: &'a crate::cli::Command) -> Option<Request<'a>> {
        let crate::cli::Command::Remediate {
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
        } = command
        else {
            return None;
        };
        Some(Request {
            env: env.as_deref(),
            description: description.as_deref(),
            action: action.as_deref(),
            service: service.as_deref(),
            issue: issue.as_deref(),
            value: *value,
            min: *min,
            max: *max,
            paths: paths.as_deref(),
            yes: *yes,
            dry_run: *dry_run,
            force: *force,
        })
    }
}

/// Confirmation at the terminal: the plan and the question on stderr, the answer on stdin.
struct Terminal;

impl Confirmer for Terminal {
    fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn confirm(&self, plan: &str, question: &str, expected: &str) -> std::io::Result<bool> {
        eprintln!("{plan}");
        eprint!("{question}");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(answer.trim() == expected)
    }
}

pub async fn run(ctx: &Ctx, req: Request<'_>) -> CliResult {
    run_with(ctx, req, &Terminal).await
}

/// As [`run`], with the person asked by `confirmer` (the MCP server asks through its
/// client's elicitation).
pub async fn run_with<C: Confirmer>(ctx: &Ctx, req: Request<'_>, confirmer: &C) -> CliResult {
    let config = ctx.config()?;
    let (env, issue) = targets::env_for_issue(ctx, &config, req.env, req.issue)?;
    let env = env.as_str();
    let view = targets::environment(ctx, &config, env)?;
    let asked = Asked {
        description: req.description,
        action: req.action,
        service: req.service,
        value: req.value,
    };
    let Resolved {
        action,
        resource,
        value,
        issue_id,
    } = resolve::resolve(&view, &asked, issue.as_ref())?;
    // An environment that spans accounts: a resource of a listed account (or one whose ARN
    // names no account) would be changed with the project's own credentials, in the wrong
    // account, perhaps on a twin of the same name. Refused before anything is planned.
    let accounts = &config.environments.get(env)?.accounts;
    if !accounts.is_empty() {
        let account = resource
            .parsed_arn
            .as_ref()
            .and_then(|a| a.account.clone())
            .filter(|a| !a.is_empty());
        if account
            .as_ref()
            .is_none_or(|a| accounts.iter().any(|x| &x.account_id == a))
        {
            return Err(CliError::new(
                EXIT_REFUSED,
                format!(
                    "{}: remediation in {} of {env}, which spans accounts, is not supported yet; nothing was changed",
                    resource.id,
                    account.map_or("an account its ARN does not name".to_string(), |a| format!("account {a}"))
                ),
            )
            .hint("remediate with that account's own credentials (--profile) in an environment without `accounts`"));
        }
    }
    let history = History::new(&ctx.paths.plugin_dir(), env);
    let issues = issue_store(ctx, &config);
    let settings = remediation::Settings::from_config(
        &config.monitoring,
        config.environments.get(env)?.requires_confirmation,
        config.region(&ctx.inputs, resource.region.as_deref()).value,
    );
    let request = remediation::Request {
        environment: env,
        action,
        resource: resource.clone(),
        issue_id: issue_id.clone(),
        value,
        min: req.min,
        max: req.max,
        paths: req.paths,
        yes: req.yes,
        dry_run: req.dry_run,
        force: req.force,
        actor: ctx.actor.as_deref(),
    };
    // The clients are built lazily by the SDK: nothing reaches AWS before the use case asks.
    let clients = ctx.aws(&config, env).await?;
    let world = remediation::World {
        actuator: &clients,
        confirmer,
        history: &history,
        issues: &issues,
        clock: ctx.clock.as_ref(),
        monitoring: &config.monitoring,
        checkpoint: &ctx.checkpoint,
    };
    let outcome = remediation::remediate(&request, &settings, &world).await;
    let shown = ctx.show_path(&history.path);
    let base = |policy: helm_core::responder::policy::Policy, reason: &str| {
        json!({"action": action.name, "target": remediation::target_ref(&resource), "environment": env,
               "policy": policy.as_str(), "policy_reason": reason, "history": shown})
    };
    match outcome {
        Ok(Outcome::DryRun {
            plan,
            policy,
            policy_reason,
        }) => {
            let mut json = base(policy, &policy_reason);
            json["decision"] = json!("dry_run");
            json["plan"] = plan.clone();
            ctx.out.result(&json, || {
                format!(
                    "{}\nDry run: nothing changed. Recorded in {shown}.",
                    remediation::render_plan(&plan)
                )
            });
            Ok(0)
        }
        Ok(Outcome::Applied {
            plan,
            after,
            verification,
            policy,
            policy_reason,
        }) => {
            let mut json = base(policy, &policy_reason);
            json["decision"] = json!("applied");
            json["plan"] = plan.clone();
            json["after"] = after;
            json["verification"] = json!(verification);
            json["issue_id"] = json!(issue_id);
            let ok = verification.ok;
            if let Some(id) = &issue_id {
                let said = format!(
                    "{} applied, {} ({})",
                    action.name,
                    if ok { "verified" } else { "NOT verified" },
                    verification.detail
                );
                super::notify::remediated(ctx, &config, id, &said);
            }
            ctx.out.result(&json, || {
                format!(
                    "{}\nApplied. Verification: {} ({}).\nRecorded in {shown}.",
                    remediation::render_plan(&plan),
                    if ok { "ok" } else { "NOT VERIFIED" },
                    verification.detail
                )
            });
            Ok(if ok { 0 } else { 1 })
        }
        Err(Stop::Refused { message, hint }) => {
            Err(CliError::new(EXIT_REFUSED, message).hint(hint))
        }
        Err(Stop::Usage { message, hint }) => {
            let e = CliError::usage(message);
            Err(match hint {
                Some(h) => e.hint(h),
                None => e,
            })
        }
        Err(Stop::Failed(f)) => Err((*f).into()),
        Err(Stop::Store(e)) => Err(e.into()),
    }
}
