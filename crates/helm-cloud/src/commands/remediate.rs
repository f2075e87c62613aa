//! `helm-cloud remediate`: resolve the words of the command line to an action and a
//! resource, then run helm-core's remediation use case (policy, plan, confirmation, apply,
//! verify, record) with AWS and the terminal, and render what it returns.

use super::health::issue_store;
use super::targets;
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_REFUSED};
use helm_core::ports::Confirmer;
use helm_core::registry::Resource;
use helm_core::resource::ResourceKind;
use helm_core::responder::catalogue::{self, Action};
use helm_core::responder::history::History;
use helm_core::responder::remediation::{self, Outcome, Stop};
use helm_core::responder::{action_for_check, describe};
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

fn supported_hint() -> String {
    format!(
        "actions: {}; e.g. \"restart the api lambda\", \"scale web to 4 tasks\", \"invalidate the cdn cache\", or --action A --service ID",
        catalogue::runnable().join(", ")
    )
}

/// The action and resource the request names.
fn resolve(
    view: &helm_core::registry::EnvironmentView,
    req: &Request,
    issue: Option<&helm_core::issues::Issue>,
) -> CliResult<(&'static Action, Resource, Option<i64>, Option<String>)> {
    let by_name = |name: &str| {
        catalogue::find(name).ok_or_else(|| {
            CliError::usage(format!("unknown action {name:?}")).hint(supported_hint())
        })
    };
    // ops-manage's generic `restart` is the restart of the resource's kind.
    let for_resource = |name: &str, r: &Resource| -> CliResult<&'static Action> {
        if name == "restart" {
            return match r.kind {
                Some(ResourceKind::Lambda) => by_name("restart_lambda"),
                Some(ResourceKind::Ecs) => by_name("restart_ecs_service"),
                Some(ResourceKind::Rds) => by_name("reboot_rds"),
                _ => Err(CliError::usage(format!(
                    "`restart` has no meaning for {} (a {})",
                    r.id, r.type_name
                ))
                .hint(supported_hint())),
            };
        }
        by_name(name)
    };
    if let Some(issue) = issue {
        let id = &issue.id;
        let rid = issue
            .affected_resources
            .first()
            .cloned()
            .unwrap_or_default();
        let resource = view.get(&rid).cloned().ok_or_else(|| {
            CliError::usage(format!(
                "issue {id} names {rid:?}, which is not in environment {}",
                view.environment
            ))
        })?;
        let check = issue
            .fingerprint
            .splitn(3, '/')
            .nth(2)
            .unwrap_or_default()
            .to_string();
        let action = match req.action {
            Some(a) => for_resource(a, &resource)?,
            None => {
                let kind = resource.kind.ok_or_else(|| {
                    CliError::usage(format!("{rid} has a type helm-cloud cannot act on"))
                })?;
                let name = action_for_check(kind, &check).ok_or_else(|| {
                    CliError::usage(format!(
                        "no action fits {} on {rid} (a {kind})",
                        if check.is_empty() {
                            "this issue".into()
                        } else {
                            format!("the check {check:?}")
                        }
                    ))
                    .hint(supported_hint())
                })?;
                by_name(name)?
            }
        };
        return Ok((action, resource, req.value, Some(issue.id.clone())));
    }
    if let Some(id) = req.service {
        let resource = targets::one_service(view, id)?;
        let action = match (req.action, req.description) {
            (Some(a), _) => for_resource(a, &resource)?,
            (None, Some(d)) => {
                describe::parse(d, view)
                    .map_err(|e| CliError::usage(e.to_string()).hint(supported_hint()))?
                    .action
            }
            (None, None) => {
                return Err(
                    CliError::usage(format!("say what to do to {id}: --action A"))
                        .hint(supported_hint()),
                );
            }
        };
        return Ok((action, resource, req.value, None));
    }
    if let Some(d) = req.description {
        let parsed = describe::parse(d, view)
            .map_err(|e| CliError::usage(e.to_string()).hint(supported_hint()))?;
        let action = match req.action {
            Some(a) => by_name(a)?,
            None => parsed.action,
        };
        return Ok((action, parsed.resource, req.value.or(parsed.value), None));
    }
    if let Some(a) = req.action {
        if a == "restart" {
            return Err(
                CliError::usage("which resource should restart act on?").hint("pass --service ID")
            );
        }
        let action = by_name(a)?;
        if action.never {
            // Named alone it is still refused with its reason (and recorded) below.
            let placeholder = view.resources.first().cloned();
            if let Some(r) = placeholder {
                return Ok((action, r, None, None));
            }
        }
        // The only resource of the environment the action fits is the one meant.
        let fits: Vec<&Resource> = view
            .resources
            .iter()
            .filter(|r| r.kind.is_some_and(|k| action.kinds.contains(&k)))
            .collect();
        if let [one] = fits.as_slice() {
            return Ok((action, (*one).clone(), req.value, None));
        }
        return Err(
            CliError::usage(format!("which resource should {} act on?", action.name)).hint(
                if fits.is_empty() {
                    format!(
                        "environment {} has no resource it applies to",
                        view.environment
                    )
                } else {
                    format!(
                        "pass --service ID: {}",
                        fits.iter()
                            .map(|r| r.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ),
        );
    }
    Err(CliError::usage("say what to remediate").hint(supported_hint()))
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
    let config = ctx.config()?;
    let (env, issue) = targets::env_for_issue(ctx, &config, req.env, req.issue)?;
    let env = env.as_str();
    let view = targets::environment(ctx, &config, env)?;
    let (action, resource, value, issue_id) = resolve(&view, &req, issue.as_ref())?;
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
    };
    let (level, reason) = remediation::decide(&config.monitoring, &request, &settings);
    // The clients are built lazily by the SDK: nothing reaches AWS before the use case asks.
    let clients = ctx.aws(&config, env).await?;
    let world = remediation::World {
        actuator: &clients,
        confirmer: &Terminal,
        history: &history,
        issues: &issues,
        clock: ctx.clock.as_ref(),
        monitoring: &config.monitoring,
    };
    let outcome = remediation::remediate(&request, &settings, &world).await;
    let shown = ctx.show_path(&history.path);
    let base = json!({"action": action.name, "target": remediation::target_ref(&resource), "environment": env,
                      "policy": level.as_str(), "policy_reason": reason, "history": shown});
    match outcome {
        Ok(Outcome::DryRun { plan }) => {
            let mut json = base;
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
        }) => {
            let mut json = base;
            json["decision"] = json!("applied");
            json["plan"] = plan.clone();
            json["after"] = after;
            json["verification"] = json!(verification);
            json["issue_id"] = json!(issue_id);
            let ok = verification.ok;
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
