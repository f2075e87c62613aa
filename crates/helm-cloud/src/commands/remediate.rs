//! `helm-cloud remediate`: plan, confirm, apply, verify and record one remediation, under
//! the safety policy. Nothing reaches AWS before the policy, the cooldown and the lock say
//! yes, and a `started` line is in the history before the first mutating call.

use super::health::issue_store;
use super::targets;
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_REFUSED, EXIT_USAGE, aws_exit_code};
use helm_aws::{ActionTarget, Change};
use helm_core::clock::rfc3339;
use helm_core::config::duration;
use helm_core::fsutil::FileLock;
use helm_core::registry::Resource;
use helm_core::resource::{ResourceKind, Target};
use helm_core::responder::catalogue::{self, Action};
use helm_core::responder::history::{Decision, History, Record, TargetRef, Verification, actor};
use helm_core::responder::limits::{self, OutOfRange};
use helm_core::responder::policy::{self, Policy};
use helm_core::responder::{action_for_check, describe};
use serde_json::{Value, json};
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

fn target_ref(r: &Resource) -> TargetRef {
    TargetRef {
        id: r.id.clone(),
        kind: r.type_name.clone(),
        arn: r.arn.clone(),
    }
}

/// The part of an action's state that must not change between the plan and the apply
/// (counts that move on their own, like running tasks, are left out).
fn guarded(action: &str, state: &Value) -> Value {
    let keys: &[&str] = match action {
        "restart_lambda" => &[
            "revision_id",
            "environment_variable_names",
            "restart_marker",
            "memory_mb",
            "timeout_s",
        ],
        "scale_resources" | "increase_capacity" => {
            &["reserved_concurrency", "desired_count", "task_definition"]
        }
        "restart_ecs_service" => &["desired_count", "primary_deployment", "task_definition"],
        "modify_autoscaling" => &["min", "max"],
        "invalidate_cloudfront" => &["enabled"],
        "reboot_rds" => &["status"],
        _ => &[],
    };
    Value::Object(
        keys.iter()
            .filter_map(|k| state.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect(),
    )
}

pub async fn run(ctx: &Ctx, req: Request<'_>) -> CliResult {
    let config = ctx.config()?;
    let (env, issue) = targets::env_for_issue(ctx, &config, req.env, req.issue)?;
    let env = env.as_str();
    let view = targets::environment(ctx, &config, env)?;
    let env_confirm = config.environments.get(env)?.requires_confirmation;
    let (action, resource, value, issue_id) = resolve(&view, &req, issue.as_ref())?;
    let history = History::new(&ctx.paths.plugin_dir(), env);
    let now = ctx.clock.now();
    let (level, reason) = policy::decide(&config.monitoring, action, env_confirm);
    let record = |decision: Decision,
                  reason: &str,
                  before: Value,
                  after: Value,
                  verification: Option<Verification>| Record {
        timestamp: rfc3339(ctx.clock.now()),
        environment: env.to_string(),
        action: action.name.to_string(),
        target: Some(target_ref(&resource)),
        policy: level.as_str().to_string(),
        decision,
        reason: reason.to_string(),
        issue_id: issue_id.clone(),
        before,
        after,
        verification,
        actor: actor(),
    };
    let refuse_with = |code: u8, why: String, hint: &str| -> CliResult {
        history.append(&record(
            Decision::Refused,
            &why,
            Value::Null,
            Value::Null,
            None,
        ))?;
        Err(CliError::new(code, format!("refused: {why}")).hint(hint.to_string()))
    };
    let refuse = |why: String, hint: &str| refuse_with(EXIT_REFUSED, why, hint);
    // A number outside the API's range is bad usage: refused before AWS hears of it.
    let out_of_range = |e: OutOfRange| {
        refuse_with(
            EXIT_USAGE,
            format!("{}: {e}", action.name),
            "nothing was changed; pass a value within the range",
        )
    };

    // 1. Policy: never_auto is refused whatever the flags.
    if level == Policy::Never {
        return refuse(
            reason,
            "a person makes this change through faber-cloud or the console",
        );
    }
    let kind = resource
        .kind
        .filter(|k| action.kinds.contains(k))
        .ok_or_else(|| {
            CliError::usage(format!(
                "{} does not apply to {} (a {})",
                action.name, resource.id, resource.type_name
            ))
            .hint(format!(
                "{} applies to: {}",
                action.name,
                action
                    .kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;

    // 2. Parameters, range-checked against the API before any call.
    let takes = |p: &str| action.params.iter().any(|x| x.name == p);
    for (given, name) in [
        (value.is_some(), "value"),
        (req.min.is_some(), "min"),
        (req.max.is_some(), "max"),
    ] {
        if given && !takes(name) {
            return Err(CliError::usage(format!(
                "{} takes no --{name}",
                action.name
            )));
        }
    }
    let mut change = Change {
        paths: req
            .paths
            .unwrap_or("/*")
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        marker: Some(rfc3339(now)),
        ..Change::default()
    };
    if action.name == "scale_resources" {
        let Some(v) = value else {
            return Err(CliError::usage(
                "scale_resources needs --value N (ECS desired tasks, Lambda reserved concurrency)",
            ));
        };
        change.value =
            Some(limits::scale_value(kind, "--value", v).or_else(|e| out_of_range(e).map(|_| 0))?);
    }
    if action.name == "modify_autoscaling" {
        let (Some(lo), Some(hi)) = (req.min, req.max) else {
            return Err(CliError::usage(
                "modify_autoscaling needs --min N and --max N",
            ));
        };
        let (lo, hi) =
            limits::autoscaling_bounds(lo, hi).or_else(|e| out_of_range(e).map(|_| (0, 0)))?;
        change.min = Some(lo);
        change.max = Some(hi);
    }

    // 3. Confirmation fails closed: with no terminal to ask and no --yes, a change that
    // needs a person is refused here, on the config and registry alone, before any AWS call.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if level == Policy::Confirm && !req.yes && !req.dry_run && !interactive {
        return refuse(
            format!(
                "{} needs confirmation ({reason}) and there is no terminal to ask",
                action.name
            ),
            &format!(
                "run it in a terminal to confirm, or pass --yes: helm-cloud remediate --action {} --service {} --env {env} --yes",
                action.name, resource.id
            ),
        );
    }

    // 4. One remediation of a resource at a time; the cooldown is read under the lock, so
    // two runs cannot both pass it.
    let lock_path = history.path.with_file_name("locks").join(&resource.id);
    let lock = FileLock::try_acquire(&lock_path)?;
    let Some(_lock) = lock else {
        return refuse(
            format!("another remediation of {} is running", resource.id),
            "try again when it has finished",
        );
    };
    let cooldown = config
        .monitoring
        .duration("remediation.cooldown")
        .unwrap_or(std::time::Duration::from_secs(600));
    if !req.force && !req.dry_run {
        let since = now - chrono::Duration::from_std(cooldown).unwrap_or_default();
        if let Some(last) = history.last_run(action.name, &resource.id, since)? {
            return refuse(
                format!(
                    "{} ran on {} at {} (cooldown {})",
                    action.name,
                    resource.id,
                    rfc3339(last),
                    duration::format(cooldown)
                ),
                "wait for the cooldown to pass, or pass --force if you are sure",
            );
        }
    }

    // 5. Plan: the current state and the exact change.
    let region = config.region(&ctx.inputs, resource.region.as_deref()).value;
    let (name, cluster) = match resource.parsed_arn.as_ref().map(|a| &a.target) {
        Some(Target::Ecs { cluster, service }) => (
            if resource.name != *service {
                resource.name.clone()
            } else {
                service.clone()
            },
            Some(cluster.clone()),
        ),
        Some(Target::CloudFront { distribution_id }) => (distribution_id.clone(), None),
        _ => (resource.name.clone(), None),
    };
    let target = ActionTarget {
        region,
        name,
        cluster,
    };
    let clients = ctx.aws(&config, env).await?;
    let kind_name = kind.as_str();
    let before = clients
        .action_state(action.name, kind_name, &target)
        .await?;
    change.revision_id = before["revision_id"].as_str().map(str::to_string);
    if action.name == "increase_capacity" {
        let current = match kind {
            ResourceKind::Ecs => before["desired_count"].as_i64().unwrap_or(0),
            _ => {
                let Some(c) = before["reserved_concurrency"].as_i64() else {
                    return Err(CliError::usage(format!(
                        "{} has no reserved concurrency to increase",
                        resource.id
                    ))
                    .hint("set one with scale_resources --value N"));
                };
                c
            }
        };
        let up = limits::increased(current);
        change.value = Some(
            limits::scale_value(kind, &format!("×1.5 of {current}"), up)
                .or_else(|e| out_of_range(e).map(|_| 0))?,
        );
    }
    // Lambda: the account's own limit, which only AWS knows (a read, before any change).
    if kind == ResourceKind::Lambda
        && let Some(v) = change.value
    {
        let unreserved = match clients.lambda_unreserved_concurrency(&target.region).await {
            Ok(u) => u,
            Err(e) => {
                return refuse_with(
                    aws_exit_code(e.kind),
                    format!(
                        "{}: the account's concurrency limit could not be read ({})",
                        action.name,
                        e.brief()
                    ),
                    e.hint(),
                );
            }
        };
        let held = before["reserved_concurrency"].as_i64().unwrap_or(0);
        let max = limits::lambda_account_bound(unreserved, held);
        if i64::from(v) > max {
            return out_of_range(OutOfRange {
                what: "reserved concurrency".into(),
                value: i64::from(v),
                min: 0,
                max,
                source: "the account's unreserved concurrency, less the 100 Lambda keeps",
            });
        }
    }
    change.requested_at = Some(now);
    let plan = plan_json(action, kind, &resource, &before, &change);

    // 6. A dry run shows the plan, records it, and changes nothing.
    if req.dry_run {
        history.append(&record(
            Decision::DryRun,
            "dry run",
            before.clone(),
            Value::Null,
            None,
        ))?;
        let json = json!({"action": action.name, "target": target_ref(&resource), "environment": env, "policy": level.as_str(), "policy_reason": reason,
                          "decision": "dry_run", "plan": plan, "history": ctx.show_path(&history.path)});
        ctx.out.result(&json, || {
            format!(
                "{}\nDry run: nothing changed. Recorded in {}.",
                render_plan(&plan),
                ctx.show_path(&history.path)
            )
        });
        return Ok(0);
    }

    // 7. Confirmation at the terminal.
    if level == Policy::Confirm && !req.yes {
        eprintln!("{}", render_plan(&plan));
        eprint!(
            "Policy: {reason}.\nType the resource id ({}) to apply, anything else to cancel: ",
            resource.id
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| CliError::new(70, format!("reading the confirmation: {e}")))?;
        if answer.trim() != resource.id {
            history.append(&record(
                Decision::Cancelled,
                "not confirmed at the prompt",
                before.clone(),
                Value::Null,
                None,
            ))?;
            return Err(CliError::new(
                EXIT_REFUSED,
                format!("cancelled: {} was not confirmed", action.name),
            ));
        }
        // The person confirmed the plan they saw: if the resource changed while they read
        // it, that plan is not what would run.
        let current = clients
            .action_state(action.name, kind_name, &target)
            .await?;
        if guarded(action.name, &current) != guarded(action.name, &before) {
            return refuse(
                format!(
                    "{} changed since the plan (was {}, now {})",
                    resource.id,
                    guarded(action.name, &before),
                    guarded(action.name, &current)
                ),
                "run the command again to see a new plan",
            );
        }
    }

    // 8. Apply, with a trace before the first mutating call.
    history.append(&record(
        Decision::Started,
        &reason,
        before.clone(),
        Value::Null,
        None,
    ))?;
    let applied = match clients
        .apply_action(action.name, kind_name, &target, &change)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            history.append(&record(
                Decision::Failed,
                &e.to_string(),
                before.clone(),
                Value::Null,
                None,
            ))?;
            if let Some(id) = &issue_id {
                issue_store(ctx, &config).add_history(
                    id,
                    "remediation_failed",
                    &format!("{}: {e}", action.name),
                    ctx.clock.now(),
                )?;
            }
            return Err(e.into());
        }
    };

    // 9. Verify (bounded) and record.
    let wait = config
        .monitoring
        .duration("remediation.verify_timeout")
        .unwrap_or(std::time::Duration::from_secs(30));
    let run = helm_aws::ActionRun {
        action: action.name,
        kind: kind_name,
        target: &target,
        change: &change,
    };
    let (ok, detail, after) = clients.verify_action(&run, &before, &applied, wait).await;
    let verification = Verification {
        ok,
        detail: detail.clone(),
    };
    history.append(&record(
        Decision::Applied,
        &reason,
        before.clone(),
        after.clone(),
        Some(verification.clone()),
    ))?;
    if let Some(id) = &issue_id {
        issue_store(ctx, &config).add_history(
            id,
            if ok {
                "remediated"
            } else {
                "remediation_unverified"
            },
            &format!("{} on {}: {detail}", action.name, resource.id),
            ctx.clock.now(),
        )?;
    }
    let json = json!({"action": action.name, "target": target_ref(&resource), "environment": env, "policy": level.as_str(), "policy_reason": reason,
                      "decision": "applied", "plan": plan, "after": after, "verification": verification, "issue_id": issue_id,
                      "history": ctx.show_path(&history.path)});
    ctx.out.result(&json, || {
        format!(
            "{}\nApplied. Verification: {} ({detail}).\nRecorded in {}.",
            render_plan(&plan),
            if ok { "ok" } else { "NOT VERIFIED" },
            ctx.show_path(&history.path)
        )
    });
    Ok(if ok { 0 } else { 1 })
}

fn plan_json(
    action: &Action,
    kind: ResourceKind,
    r: &Resource,
    before: &Value,
    change: &Change,
) -> Value {
    let (what, call) = match (action.name, kind) {
        ("restart_lambda", _) => (
            format!(
                "set {}={} on {}, keeping its {} other variables",
                helm_aws::RESTART_MARKER,
                change.marker.as_deref().unwrap_or(""),
                r.name,
                before["environment_variable_names"]
                    .as_array()
                    .map_or(0, |a| a.len())
            ),
            "lambda:UpdateFunctionConfiguration (guarded by RevisionId)",
        ),
        ("scale_resources" | "increase_capacity", ResourceKind::Lambda) => (
            format!(
                "reserved concurrency {} → {}",
                before["reserved_concurrency"],
                change.value.unwrap_or_default()
            ),
            "lambda:PutFunctionConcurrency",
        ),
        ("scale_resources" | "increase_capacity", _) => (
            format!(
                "desired count {} → {}",
                before["desired_count"],
                change.value.unwrap_or_default()
            ),
            "ecs:UpdateService desiredCount",
        ),
        ("restart_ecs_service", _) => (
            format!(
                "force a new deployment of {} (now {})",
                r.name, before["primary_deployment"]
            ),
            "ecs:UpdateService forceNewDeployment",
        ),
        ("modify_autoscaling", _) => (
            format!(
                "scalable target min {} → {}, max {} → {}",
                before["min"],
                change.min.unwrap_or_default(),
                before["max"],
                change.max.unwrap_or_default()
            ),
            "application-autoscaling:RegisterScalableTarget",
        ),
        ("invalidate_cloudfront", _) => (
            format!(
                "invalidate {} on distribution {}",
                change.paths.join(", "),
                r.name
            ),
            "cloudfront:CreateInvalidation",
        ),
        ("reboot_rds", _) => (
            format!("reboot {} (now {})", r.name, before["status"]),
            "rds:RebootDBInstance",
        ),
        _ => (String::new(), ""),
    };
    json!({
        "resource": r.id, "type": kind.as_str(), "current": before, "change": what, "api_call": call,
        "impact": action.impact, "risk": action.risk, "reversible": action.reversible, "undo": action.undo,
    })
}

fn render_plan(plan: &Value) -> String {
    format!(
        "Plan for {} ({}):\n  current:  {}\n  change:   {}\n  API call: {}\n  impact:   {}\n  risk:     {}; {}",
        plan["resource"].as_str().unwrap_or_default(),
        plan["type"].as_str().unwrap_or_default(),
        plan["current"],
        plan["change"].as_str().unwrap_or_default(),
        plan["api_call"].as_str().unwrap_or_default(),
        plan["impact"].as_str().unwrap_or_default(),
        plan["risk"].as_str().unwrap_or_default(),
        if plan["reversible"] == true {
            format!("reversible: {}", plan["undo"].as_str().unwrap_or_default())
        } else {
            plan["undo"].as_str().unwrap_or_default().to_string()
        }
    )
}
