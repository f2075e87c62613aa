//! The remediation use case, the same for every front end (the CLI's `remediate`, and
//! `watch`, `mcp` and `serve` next): resolve the numbers, decide the policy, plan, obtain a
//! person's confirmation where the policy asks for one, and only then execute: record
//! `started`, apply, verify, record the outcome. An [`ApprovedPlan`] can only be made here,
//! from a plan, the policy's decision and a confirmation, so no front end can apply a change
//! the policy did not allow.

use super::catalogue::{Action, ActionId};
use super::history::{Decision, History, Record, TargetRef, Verification, actor};
use super::limits::{self, OutOfRange};
use super::policy::{self, Policy};
use super::state::ActionState;
use crate::clock::{Clock, rfc3339};
use crate::config::{Monitoring, duration};
use crate::fsutil::FileLock;
use crate::issues::IssueStore;
use crate::ports::{ActionRun, ActionTarget, Actuator, Change, Confirmer, Failure};
use crate::registry::Resource;
use crate::resource::{ResourceKind, Target};
use serde_json::{Value, json};
use std::time::Duration;

/// The marker variable restart_lambda sets.
pub const RESTART_MARKER: &str = "HELM_RESTARTED_AT";

/// What was asked for, already resolved to an action and a resource.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub environment: &'a str,
    pub action: &'static Action,
    pub resource: Resource,
    pub issue_id: Option<String>,
    pub value: Option<i64>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// invalidate_cloudfront: comma-separated paths (default `/*`).
    pub paths: Option<&'a str>,
    /// The person confirmed up front (`--yes`).
    pub yes: bool,
    pub dry_run: bool,
    /// Past the cooldown and an unfinished earlier run.
    pub force: bool,
    /// Who the history names (None: the user and host running helm-cloud; the MCP server
    /// names its client, `mcp:<client>`).
    pub actor: Option<&'a str>,
}

/// What the configuration says for this run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub requires_confirmation: bool,
    pub cooldown: Duration,
    pub verify_timeout: Duration,
    /// The resource's region, decided by the configuration's precedence.
    pub region: String,
}

impl Settings {
    pub fn from_config(
        monitoring: &Monitoring,
        requires_confirmation: bool,
        region: String,
    ) -> Settings {
        let r = monitoring.settings().remediation;
        Settings {
            requires_confirmation,
            cooldown: r.cooldown,
            verify_timeout: r.verify_timeout,
            region,
        }
    }
}

/// Where the use case records and whom it asks.
pub struct World<'a, A: Actuator, C: Confirmer> {
    pub actuator: &'a A,
    pub confirmer: &'a C,
    pub history: &'a History,
    pub issues: &'a IssueStore,
    pub clock: &'a dyn Clock,
    pub monitoring: &'a Monitoring,
    /// Shares the `started` record before the action (shared state on S3); a no-op on
    /// local files.
    pub checkpoint: &'a crate::state::session::Checkpoint,
}

/// How a remediation ended without an error.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The plan, recorded; nothing changed.
    DryRun {
        plan: Value,
        policy: Policy,
        policy_reason: String,
    },
    /// Applied; `verification.ok` says whether it was proven.
    Applied {
        plan: Value,
        after: Value,
        verification: Verification,
        policy: Policy,
        policy_reason: String,
    },
}

/// Why a remediation stopped.
#[derive(Debug)]
pub enum Stop {
    /// The policy, a lock, the cooldown, a missing confirmation or a change since the plan
    /// (recorded as `refused` or `cancelled`).
    Refused { message: String, hint: String },
    /// Bad usage: a value out of range (recorded as `refused`), a parameter the action does
    /// not take, an action that does not fit the resource (not recorded).
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// A call to the world failed (after `started`: recorded as `failed`).
    Failed(Box<Failure>),
    /// The history or an issue could not be written.
    Store(crate::Error),
}

impl From<crate::Error> for Stop {
    fn from(e: crate::Error) -> Stop {
        Stop::Store(e)
    }
}

/// A plan the policy allowed and, where it asks, a person confirmed. Only [`approve`] makes
/// one; [`execute`] is the only thing that applies a change.
pub struct ApprovedPlan {
    action: &'static Action,
    id: ActionId,
    kind: ResourceKind,
    target: ActionTarget,
    change: Change,
    before: ActionState,
    plan: Value,
    policy: Policy,
    reason: String,
}

/// How the policy's "ask" was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The policy did not ask (auto_remediate where the environment allows it).
    NotNeeded,
    /// `--yes`, or an MCP elicitation the person accepted.
    GivenUpFront,
    /// Typed at the prompt.
    AtThePrompt,
}

/// The API target of a resource: function, ECS service and cluster, distribution id…
pub fn target_of(resource: &Resource, region: String) -> ActionTarget {
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
    ActionTarget {
        region,
        name,
        cluster,
    }
}

pub fn target_ref(r: &Resource) -> TargetRef {
    TargetRef {
        id: r.id.clone(),
        kind: r.type_name.clone(),
        arn: r.arn.clone(),
    }
}

/// The plan: the current state, the exact change, the API call, impact and risk.
pub fn plan(
    action: &Action,
    id: ActionId,
    kind: ResourceKind,
    r: &Resource,
    before: &ActionState,
    change: &Change,
) -> Value {
    let call = match (id, kind) {
        (ActionId::RestartLambda, _) => {
            "lambda:UpdateFunctionConfiguration (guarded by RevisionId)"
        }
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Lambda) => {
            "lambda:PutFunctionConcurrency"
        }
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Asg) => {
            "autoscaling:SetDesiredCapacity (HonorCooldown)"
        }
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, ResourceKind::Kinesis) => {
            "kinesis:UpdateShardCount (UNIFORM_SCALING)"
        }
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, _) => {
            "ecs:UpdateService desiredCount"
        }
        (ActionId::RestartEcsService, _) => "ecs:UpdateService forceNewDeployment",
        (ActionId::ModifyAutoscaling, _) => "application-autoscaling:RegisterScalableTarget",
        (ActionId::InvalidateCloudfront, _) => "cloudfront:CreateInvalidation",
        (ActionId::RebootRds, _) => "rds:RebootDBInstance",
    };
    json!({
        "resource": r.id, "type": kind.as_str(), "current": before.to_json(),
        "change": before.describe_change(id, &r.name, change), "api_call": call,
        "impact": action.impact, "risk": action.risk, "reversible": action.reversible, "undo": action.undo,
    })
}

/// The plan as text, for the terminal and the confirmation prompt.
pub fn render_plan(plan: &Value) -> String {
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

/// The policy decision for a request, without any call to the world.
pub fn decide(monitoring: &Monitoring, req: &Request, s: &Settings) -> (Policy, String) {
    policy::decide(monitoring, req.action, s.requires_confirmation)
}

/// An approved plan, or None when the policy forbids it or asks and was not answered.
pub fn approve(
    decision: (Policy, String),
    confirmation: Confirmation,
    parts: (
        &'static Action,
        ActionId,
        ResourceKind,
        ActionTarget,
        Change,
        ActionState,
        Value,
    ),
) -> Option<ApprovedPlan> {
    let (policy, reason) = decision;
    let allowed = match policy {
        Policy::Never => false,
        Policy::Auto => true,
        Policy::Confirm => confirmation != Confirmation::NotNeeded,
    };
    let (action, id, kind, target, change, before, plan) = parts;
    allowed.then_some(ApprovedPlan {
        action,
        id,
        kind,
        target,
        change,
        before,
        plan,
        policy,
        reason,
    })
}

/// Run one remediation: every step of the module's description, recording as it goes.
pub async fn remediate<A: Actuator, C: Confirmer>(
    req: &Request<'_>,
    s: &Settings,
    w: &World<'_, A, C>,
) -> Result<Outcome, Stop> {
    let action = req.action;
    let resource = &req.resource;
    let now = w.clock.now();
    let (level, reason) = decide(w.monitoring, req, s);
    let record = |decision: Decision,
                  why: &str,
                  before: Value,
                  after: Value,
                  verification: Option<Verification>| Record {
        timestamp: rfc3339(w.clock.now()),
        environment: req.environment.to_string(),
        action: action.name.to_string(),
        target: Some(target_ref(resource)),
        policy: level.as_str().to_string(),
        decision,
        reason: why.to_string(),
        issue_id: req.issue_id.clone(),
        before,
        after,
        verification,
        actor: req.actor.map_or_else(actor, str::to_string),
    };
    let refuse = |message: String, hint: &str| -> Result<Outcome, Stop> {
        w.history.append(&record(
            Decision::Refused,
            &message,
            Value::Null,
            Value::Null,
            None,
        ))?;
        Err(Stop::Refused {
            message: format!("refused: {message}"),
            hint: hint.to_string(),
        })
    };
    // A number outside the API's range is bad usage: refused before AWS hears of it.
    let out_of_range = |e: OutOfRange| -> Stop {
        let message = format!("{}: {e}", action.name);
        match w.history.append(&record(
            Decision::Refused,
            &message,
            Value::Null,
            Value::Null,
            None,
        )) {
            Ok(()) => Stop::Usage {
                message: format!("refused: {message}"),
                hint: Some("nothing was changed; pass a value within the range".into()),
            },
            Err(e) => Stop::Store(e),
        }
    };

    // 1. Policy: never_auto is refused whatever the flags.
    if level == Policy::Never {
        return refuse(
            reason,
            "a person makes this change through faber-cloud or the console",
        );
    }
    // Only never_auto entries have no id, and they were refused above.
    let Some(id) = action.id else {
        return refuse(reason, "it is not an action helm-cloud performs");
    };
    let Some(kind) = resource.kind.filter(|k| action.kinds.contains(k)) else {
        return Err(Stop::Usage {
            message: format!(
                "{} does not apply to {} (a {})",
                action.name, resource.id, resource.type_name
            ),
            hint: Some(format!(
                "{} applies to: {}",
                action.name,
                action
                    .kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    };

    // 2. Parameters, range-checked against the API before any call.
    let takes = |p: &str| action.params.iter().any(|x| x.name == p);
    for (given, name) in [
        (req.value.is_some(), "value"),
        (req.min.is_some(), "min"),
        (req.max.is_some(), "max"),
    ] {
        if given && !takes(name) {
            return Err(Stop::Usage {
                message: format!("{} takes no --{name}", action.name),
                hint: None,
            });
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
    if id == ActionId::ScaleResources {
        let Some(v) = req.value else {
            return Err(Stop::Usage {
                message: "scale_resources needs --value N (ECS desired tasks, Lambda reserved concurrency, Auto Scaling desired capacity, Kinesis open shards)".into(),
                hint: None,
            });
        };
        change.value = Some(limits::scale_value(kind, "--value", v).map_err(out_of_range)?);
    }
    if id == ActionId::ModifyAutoscaling {
        let (Some(lo), Some(hi)) = (req.min, req.max) else {
            return Err(Stop::Usage {
                message: "modify_autoscaling needs --min N and --max N".into(),
                hint: None,
            });
        };
        let (lo, hi) = limits::autoscaling_bounds(lo, hi).map_err(out_of_range)?;
        change.min = Some(lo);
        change.max = Some(hi);
    }

    // 3. Confirmation fails closed: nobody to ask and no confirmation up front is a refusal
    // here, on the config and registry alone, before any call to the world.
    if level == Policy::Confirm && !req.yes && !req.dry_run && !w.confirmer.can_ask() {
        return refuse(
            format!(
                "{} needs confirmation ({reason}) and there is no terminal to ask",
                action.name
            ),
            &format!(
                "run it in a terminal to confirm, or pass --yes: helm-cloud remediate --action {} --service {} --env {} --yes",
                action.name, resource.id, req.environment
            ),
        );
    }

    // 4. One remediation of a resource at a time; the cooldown and an unfinished earlier
    // run are read under the lock, so two runs cannot both pass them.
    let lock_path = w.history.path.with_file_name("locks").join(&resource.id);
    let Some(_lock) = FileLock::try_acquire(&lock_path)? else {
        return refuse(
            format!("another remediation of {} is running", resource.id),
            "try again when it has finished",
        );
    };
    if !req.force && !req.dry_run {
        if let Some(started) = w.history.unfinished(action.name, &resource.id)? {
            return refuse(
                format!(
                    "an earlier {} of {} started at {} and has no recorded outcome (it may have crashed mid-change)",
                    action.name, resource.id, started
                ),
                "check the resource's state, then pass --force to run again",
            );
        }
        let since = now - chrono::Duration::from_std(s.cooldown).unwrap_or_default();
        if let Some(last) = w.history.last_run(action.name, &resource.id, since)? {
            return refuse(
                format!(
                    "{} ran on {} at {} (cooldown {})",
                    action.name,
                    resource.id,
                    rfc3339(last),
                    duration::format(s.cooldown)
                ),
                "wait for the cooldown to pass, or pass --force if you are sure",
            );
        }
    }

    // 5. Plan: the current state and the exact change.
    let target = target_of(resource, s.region.clone());
    let before = w
        .actuator
        .state(id, kind, &target)
        .await
        .map_err(|e| Stop::Failed(Box::new(e)))?;
    change.revision_id = before.revision_id().map(str::to_string);
    if id == ActionId::IncreaseCapacity {
        let current = match before.scaled_value() {
            Some(c) => c,
            None => {
                return Err(Stop::Usage {
                    message: format!("{} has no reserved concurrency to increase", resource.id),
                    hint: Some("set one with scale_resources --value N".into()),
                });
            }
        };
        let up = limits::increased(current);
        change.value = Some(
            limits::scale_value(kind, &format!("×1.5 of {current}"), up).map_err(out_of_range)?,
        );
    }
    // A Kinesis stream is resharded by hand only when provisioned.
    if let (ActionState::Stream(st), Some(_)) = (&before, change.value)
        && st.stream_mode == "ON_DEMAND"
    {
        return Err(Stop::Usage {
            message: format!(
                "{} is an on-demand stream: Kinesis scales its shards itself",
                resource.id
            ),
            hint: Some(
                "switch it to provisioned mode first (UpdateStreamMode) if it must be sized by hand"
                    .into(),
            ),
        });
    }
    // The resource's own range, read above (a group's size, a stream's reshard step).
    if let (Some((what, min, max, source)), Some(v)) = (before.scale_bounds(), change.value)
        && !(min..=max).contains(&i64::from(v))
    {
        return Err(out_of_range(OutOfRange {
            what: format!("{what} of {}", resource.id),
            value: i64::from(v),
            min,
            max,
            source,
        }));
    }
    // Lambda: the account's own limit, which only AWS knows (a read, before any change).
    if kind == ResourceKind::Lambda
        && let Some(v) = change.value
    {
        let unreserved = match w.actuator.unreserved_concurrency(&target.region).await {
            Ok(u) => u,
            Err(e) => {
                w.history.append(&record(
                    Decision::Refused,
                    &format!(
                        "{}: the account's concurrency limit could not be read ({})",
                        action.name, e.brief
                    ),
                    Value::Null,
                    Value::Null,
                    None,
                ))?;
                return Err(Stop::Failed(Box::new(e)));
            }
        };
        let held = before.scaled_value().unwrap_or(0);
        let max = limits::lambda_account_bound(unreserved, held);
        if i64::from(v) > max {
            return Err(out_of_range(OutOfRange {
                what: "reserved concurrency".into(),
                value: i64::from(v),
                min: 0,
                max,
                source: "the account's unreserved concurrency, less the 100 Lambda keeps",
            }));
        }
    }
    change.requested_at = Some(now);
    let plan_doc = plan(action, id, kind, resource, &before, &change);

    // 6. A dry run shows the plan, records it, and changes nothing.
    if req.dry_run {
        w.history.append(&record(
            Decision::DryRun,
            "dry run",
            before.to_json(),
            Value::Null,
            None,
        ))?;
        return Ok(Outcome::DryRun {
            plan: plan_doc,
            policy: level,
            policy_reason: reason,
        });
    }

    // 7. Confirmation.
    let confirmation = if level != Policy::Confirm {
        Confirmation::NotNeeded
    } else if req.yes {
        Confirmation::GivenUpFront
    } else {
        let question = format!(
            "Policy: {reason}.\nType the resource id ({}) to apply, anything else to cancel: ",
            resource.id
        );
        let yes = w
            .confirmer
            .confirm(&render_plan(&plan_doc), &question, &resource.id)
            .map_err(|e| Stop::Store(crate::Error::io("reading the confirmation", "stdin", e)))?;
        if !yes {
            w.history.append(&record(
                Decision::Cancelled,
                "not confirmed at the prompt",
                before.to_json(),
                Value::Null,
                None,
            ))?;
            return Err(Stop::Refused {
                message: format!("cancelled: {} was not confirmed", action.name),
                hint: "run it again to see a new plan".into(),
            });
        }
        // The person confirmed the plan they saw: if the resource changed while they read
        // it, that plan is not what would run.
        let current = w
            .actuator
            .state(id, kind, &target)
            .await
            .map_err(|e| Stop::Failed(Box::new(e)))?;
        if current.guarded() != before.guarded() {
            return refuse(
                format!(
                    "{} changed since the plan (was {}, now {})",
                    resource.id,
                    before.guarded(),
                    current.guarded()
                ),
                "run the command again to see a new plan",
            );
        }
        Confirmation::AtThePrompt
    };
    let Some(approved) = approve(
        (level, reason.clone()),
        confirmation,
        (action, id, kind, target, change, before, plan_doc),
    ) else {
        return refuse(reason, "the policy does not allow it");
    };
    execute(approved, req, s, w).await
}

/// Apply an approved plan: `started` before the first mutating call, then apply, verify,
/// and record `applied` (with the verification) or `failed`; the issue's history too.
async fn execute<A: Actuator, C: Confirmer>(
    p: ApprovedPlan,
    req: &Request<'_>,
    s: &Settings,
    w: &World<'_, A, C>,
) -> Result<Outcome, Stop> {
    let resource = &req.resource;
    let record =
        |decision: Decision, why: &str, after: Value, verification: Option<Verification>| Record {
            timestamp: rfc3339(w.clock.now()),
            environment: req.environment.to_string(),
            action: p.action.name.to_string(),
            target: Some(target_ref(resource)),
            policy: p.policy.as_str().to_string(),
            decision,
            reason: why.to_string(),
            issue_id: req.issue_id.clone(),
            before: p.before.to_json(),
            after,
            verification,
            actor: req.actor.map_or_else(actor, str::to_string),
        };
    w.history
        .append(&record(Decision::Started, &p.reason, Value::Null, None))?;
    // The team must see that this began before anything changes: a holder that dies in the
    // middle leaves an unfinished run where the next session (on any machine) finds it.
    if let Err(why) = w.checkpoint.share().await {
        let message =
            format!("the start of the run could not be shared ({why}); nothing was changed");
        w.history
            .append(&record(Decision::Failed, &message, Value::Null, None))?;
        return Err(Stop::Refused {
            message,
            hint: "check the [state] bucket and run it again".into(),
        });
    }
    let run = ActionRun {
        action: p.id,
        kind: p.kind,
        target: &p.target,
        change: &p.change,
    };
    let applied = match w.actuator.apply(run).await {
        Ok(v) => v,
        Err(e) => {
            w.history
                .append(&record(Decision::Failed, &e.message, Value::Null, None))?;
            if let Some(id) = &req.issue_id {
                w.issues.add_history(
                    id,
                    "remediation_failed",
                    &format!("{}: {}", p.action.name, e.message),
                    w.clock.now(),
                )?;
            }
            return Err(Stop::Failed(Box::new(e)));
        }
    };
    let (verdict, after) = w
        .actuator
        .verify(run, &p.before, &applied, s.verify_timeout)
        .await;
    let (ok, detail) = (verdict.ok, verdict.detail);
    let after = after.map_or(Value::Null, |a| a.to_json());
    let verification = Verification {
        ok,
        detail: detail.clone(),
    };
    let reason = match &applied.note {
        Some(note) => format!("{}; {note}", p.reason),
        None => p.reason.clone(),
    };
    w.history.append(&record(
        Decision::Applied,
        &reason,
        after.clone(),
        Some(verification.clone()),
    ))?;
    if let Some(id) = &req.issue_id {
        w.issues.add_history(
            id,
            if ok {
                "remediated"
            } else {
                "remediation_unverified"
            },
            &format!("{} on {}: {detail}", p.action.name, resource.id),
            w.clock.now(),
        )?;
    }
    Ok(Outcome::Applied {
        plan: p.plan,
        after,
        verification,
        policy: p.policy,
        policy_reason: p.reason,
    })
}

#[cfg(test)]
mod tests {
    //! The use case on fakes of its ports: no emulator, no network.
    use super::*;
    use crate::clock::FixedClock;
    use crate::ports::FailureKind;
    use crate::ports::{Receipt, Verdict};
    use crate::registry::Registry;
    use crate::responder::state::FunctionState;
    use futures::executor::block_on;
    use std::sync::Mutex;

    /// An actuator that records every call and answers from a state a test controls.
    #[derive(Default)]
    struct FakeActuator {
        calls: Mutex<Vec<String>>,
        state: Mutex<FunctionState>,
        fail_apply: bool,
    }

    fn function(revision: &str, memory_mb: i32) -> FunctionState {
        FunctionState {
            revision_id: Some(revision.into()),
            memory_mb: Some(memory_mb),
            ..Default::default()
        }
    }

    impl Actuator for FakeActuator {
        async fn state(
            &self,
            a: ActionId,
            _k: ResourceKind,
            _t: &ActionTarget,
        ) -> Result<ActionState, Failure> {
            self.calls.lock().unwrap().push(format!("state {a}"));
            Ok(ActionState::Function(self.state.lock().unwrap().clone()))
        }
        async fn unreserved_concurrency(&self, _r: &str) -> Result<i64, Failure> {
            self.calls.lock().unwrap().push("account".into());
            Ok(900)
        }
        async fn apply(&self, run: ActionRun<'_>) -> Result<Receipt, Failure> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("apply {}", run.action));
            if self.fail_apply {
                return Err(Failure {
                    kind: FailureKind::PermissionDenied,
                    api: "lambda:UpdateFunctionConfiguration".into(),
                    code: Some("AccessDeniedException".into()),
                    cause: "access denied".into(),
                    message: "lambda:UpdateFunctionConfiguration failed on api: AccessDenied"
                        .into(),
                    brief: "lambda:UpdateFunctionConfiguration on api: access denied".into(),
                    hint: "grant it".into(),
                });
            }
            Ok(Receipt::default())
        }
        async fn verify(
            &self,
            run: ActionRun<'_>,
            _b: &ActionState,
            _a: &Receipt,
            _w: Duration,
        ) -> (Verdict, Option<ActionState>) {
            self.calls
                .lock()
                .unwrap()
                .push(format!("verify {}", run.action));
            (
                Verdict {
                    ok: true,
                    detail: "marker present".into(),
                },
                Some(ActionState::Function(self.state.lock().unwrap().clone())),
            )
        }
    }

    /// A person at a terminal (or none), who may change the resource while reading.
    struct FakePerson<'a> {
        present: bool,
        answer: bool,
        meanwhile: Option<(&'a FakeActuator, FunctionState)>,
    }

    impl Confirmer for FakePerson<'_> {
        fn can_ask(&self) -> bool {
            self.present
        }
        fn confirm(&self, _plan: &str, _q: &str, _expected: &str) -> std::io::Result<bool> {
            if let Some((a, v)) = &self.meanwhile {
                *a.state.lock().unwrap() = v.clone();
            }
            Ok(self.answer)
        }
    }

    fn lambda() -> Resource {
        let text = r#"{"deployments": [{"id": "d", "environment": "test", "resources": [{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:api"}]}]}"#;
        Registry::parse(std::path::Path::new("r.json"), text)
            .unwrap()
            .environment_view("test")
            .resources[0]
            .clone()
    }

    struct Case {
        dir: tempfile::TempDir,
        history: History,
        issues: IssueStore,
        monitoring: Monitoring,
        clock: FixedClock,
    }

    fn case() -> Case {
        let dir = tempfile::tempdir().unwrap();
        Case {
            history: History::new(dir.path(), "test"),
            issues: IssueStore::new(
                dir.path(),
                "helm/issues/active/",
                "helm/issues/resolved/",
                "infrastructure",
                90,
            ),
            monitoring: Monitoring::defaults(),
            clock: FixedClock(crate::clock::parse_rfc3339("2026-12-01T10:00:00Z").unwrap()),
            dir,
        }
    }

    fn request(action: &str) -> Request<'static> {
        Request {
            environment: "test",
            action: super::super::catalogue::find(action).unwrap(),
            resource: lambda(),
            issue_id: None,
            value: None,
            min: None,
            max: None,
            paths: None,
            yes: false,
            dry_run: false,
            force: false,
            actor: None,
        }
    }

    fn settings(confirm: bool) -> Settings {
        Settings {
            requires_confirmation: confirm,
            cooldown: Duration::from_secs(600),
            verify_timeout: Duration::from_secs(1),
            region: "us-east-1".into(),
        }
    }

    fn run(
        c: &Case,
        a: &FakeActuator,
        p: &FakePerson,
        req: &Request,
        s: &Settings,
    ) -> Result<Outcome, Stop> {
        run_sharing(c, a, p, req, s, &Default::default())
    }

    fn run_sharing(
        c: &Case,
        a: &FakeActuator,
        p: &FakePerson,
        req: &Request,
        s: &Settings,
        checkpoint: &crate::state::session::Checkpoint,
    ) -> Result<Outcome, Stop> {
        let w = World {
            actuator: a,
            confirmer: p,
            history: &c.history,
            issues: &c.issues,
            clock: &c.clock,
            monitoring: &c.monitoring,
            checkpoint,
        };
        block_on(remediate(req, s, &w))
    }

    #[test]
    fn a_start_that_cannot_be_shared_changes_nothing() {
        let c = case();
        let a = FakeActuator::default();
        let ended = crate::state::session::Checkpoint::ended();
        let err = run_sharing(
            &c,
            &a,
            &NOBODY,
            &request("restart_lambda"),
            &settings(false),
            &ended,
        )
        .unwrap_err();
        assert!(
            matches!(err, Stop::Refused { ref message, .. } if message.contains("could not be shared")),
            "{err:?}"
        );
        assert_eq!(
            *a.calls.lock().unwrap(),
            ["state restart_lambda"],
            "read, never applied"
        );
        assert_eq!(decisions(&c), [Decision::Started, Decision::Failed]);
    }

    fn decisions(c: &Case) -> Vec<Decision> {
        c.history
            .read()
            .unwrap()
            .iter()
            .map(|r| r.decision)
            .collect()
    }

    const NOBODY: FakePerson = FakePerson {
        present: false,
        answer: false,
        meanwhile: None,
    };

    #[test]
    fn an_auto_action_plans_applies_verifies_and_records_in_order() {
        let c = case();
        let a = FakeActuator::default();
        let out = run(
            &c,
            &a,
            &NOBODY,
            &request("restart_lambda"),
            &settings(false),
        )
        .unwrap();
        assert!(matches!(out, Outcome::Applied { ref verification, .. } if verification.ok));
        assert_eq!(
            *a.calls.lock().unwrap(),
            [
                "state restart_lambda",
                "apply restart_lambda",
                "verify restart_lambda"
            ]
        );
        assert_eq!(decisions(&c), [Decision::Started, Decision::Applied]);
    }

    #[test]
    fn a_confirm_action_with_nobody_to_ask_is_refused_before_any_call() {
        let c = case();
        let a = FakeActuator::default();
        let err = run(&c, &a, &NOBODY, &request("restart_lambda"), &settings(true)).unwrap_err();
        assert!(
            matches!(err, Stop::Refused { ref message, .. } if message.contains("no terminal"))
        );
        assert!(
            a.calls.lock().unwrap().is_empty(),
            "nothing reached the world"
        );
        assert_eq!(decisions(&c), [Decision::Refused]);
        // --yes is a confirmation.
        let mut yes = request("restart_lambda");
        yes.yes = true;
        assert!(run(&c, &a, &NOBODY, &yes, &settings(true)).is_ok());
    }

    #[test]
    fn a_change_between_plan_and_apply_is_refused() {
        let c = case();
        let a = FakeActuator::default();
        *a.state.lock().unwrap() = function("r1", 128);
        let person = FakePerson {
            present: true,
            answer: true,
            meanwhile: Some((&a, function("r2", 512))),
        };
        let err = run(&c, &a, &person, &request("restart_lambda"), &settings(true)).unwrap_err();
        assert!(
            matches!(err, Stop::Refused { ref message, .. } if message.contains("changed since the plan")),
            "{err:?}"
        );
        assert!(
            !a.calls
                .lock()
                .unwrap()
                .iter()
                .any(|c| c.starts_with("apply"))
        );
        // Unchanged while the person read: it applies.
        let c2 = case();
        let b = FakeActuator::default();
        let same = FakePerson {
            present: true,
            answer: true,
            meanwhile: None,
        };
        assert!(run(&c2, &b, &same, &request("restart_lambda"), &settings(true)).is_ok());
        // A "no" at the prompt cancels.
        let c3 = case();
        let no = FakePerson {
            present: true,
            answer: false,
            meanwhile: None,
        };
        assert!(run(&c3, &b, &no, &request("restart_lambda"), &settings(true)).is_err());
        assert_eq!(decisions(&c3), [Decision::Cancelled]);
    }

    #[test]
    fn the_cooldown_a_held_lock_and_an_unfinished_run_each_refuse() {
        let c = case();
        let a = FakeActuator::default();
        run(
            &c,
            &a,
            &NOBODY,
            &request("restart_lambda"),
            &settings(false),
        )
        .unwrap();
        let again = run(
            &c,
            &a,
            &NOBODY,
            &request("restart_lambda"),
            &settings(false),
        )
        .unwrap_err();
        assert!(matches!(again, Stop::Refused { ref message, .. } if message.contains("cooldown")));
        // A held lock.
        let c2 = case();
        let lock = c2.history.path.with_file_name("locks").join("api");
        let _held = FileLock::try_acquire(&lock).unwrap().unwrap();
        let busy = run(
            &c2,
            &a,
            &NOBODY,
            &request("restart_lambda"),
            &settings(false),
        )
        .unwrap_err();
        assert!(
            matches!(busy, Stop::Refused { ref message, .. } if message.contains("another remediation"))
        );
        // A crash after `started`, past the cooldown: no outcome recorded, so it waits for a person.
        let c3 = case();
        c3.history
            .append(&Record {
                timestamp: "2026-11-01T00:00:00Z".into(),
                environment: "test".into(),
                action: "restart_lambda".into(),
                target: Some(target_ref(&lambda())),
                policy: "auto".into(),
                decision: Decision::Started,
                reason: "r".into(),
                issue_id: None,
                before: Value::Null,
                after: Value::Null,
                verification: None,
                actor: "a".into(),
            })
            .unwrap();
        let crashed = run(
            &c3,
            &a,
            &NOBODY,
            &request("restart_lambda"),
            &settings(false),
        )
        .unwrap_err();
        assert!(
            matches!(crashed, Stop::Refused { ref message, .. } if message.contains("no recorded outcome")),
            "{crashed:?}"
        );
        let mut forced = request("restart_lambda");
        forced.force = true;
        assert!(run(&c3, &a, &NOBODY, &forced, &settings(false)).is_ok());
        assert_eq!(
            c3.history.unfinished("restart_lambda", "api").unwrap(),
            None
        );
    }

    #[test]
    fn a_failed_apply_is_recorded_after_started_and_in_the_issue() {
        let c = case();
        let a = FakeActuator {
            fail_apply: true,
            ..Default::default()
        };
        c.issues
            .sync(
                "test",
                "health",
                &[crate::issues::Detection {
                    account: None,
                    environment: "test".into(),
                    resource: "api".into(),
                    check: "error_rate".into(),
                    severity: crate::issues::Severity::High,
                    title: "t".into(),
                    description: "d".into(),
                    slo_breach: true,
                    metrics: Value::Null,
                }],
                &crate::issues::Evaluated::new(),
                c.clock.0,
            )
            .unwrap();
        let mut req = request("restart_lambda");
        req.issue_id = Some("infra-001".into());
        let err = run(&c, &a, &NOBODY, &req, &settings(false)).unwrap_err();
        assert!(matches!(err, Stop::Failed(ref f) if f.kind == FailureKind::PermissionDenied));
        assert_eq!(decisions(&c), [Decision::Started, Decision::Failed]);
        let issue = c.issues.get("infra-001").unwrap().unwrap();
        assert!(
            issue
                .history
                .iter()
                .any(|h| h.event == "remediation_failed")
        );
        let _ = &c.dir;
    }

    #[test]
    fn out_of_range_is_usage_recorded_and_nothing_is_called() {
        let c = case();
        let a = FakeActuator::default();
        let mut req = request("scale_resources");
        req.value = Some(4_294_967_296);
        req.yes = true;
        let err = run(&c, &a, &NOBODY, &req, &settings(false)).unwrap_err();
        assert!(matches!(err, Stop::Usage { ref message, .. } if message.contains("out of range")));
        assert!(a.calls.lock().unwrap().is_empty());
        assert_eq!(decisions(&c), [Decision::Refused]);
        // Within the API's range but past the account's: refused after one read, no change.
        let mut big = request("scale_resources");
        big.value = Some(850);
        big.yes = true;
        let err = run(&c, &a, &NOBODY, &big, &settings(false)).unwrap_err();
        assert!(
            matches!(err, Stop::Usage { ref message, .. } if message.contains("0 to 800")),
            "{err:?}"
        );
        assert!(
            !a.calls
                .lock()
                .unwrap()
                .iter()
                .any(|c| c.starts_with("apply"))
        );
    }

    #[test]
    fn only_the_policy_and_a_confirmation_make_an_approved_plan() {
        let parts = || {
            (
                super::super::catalogue::find("restart_lambda").unwrap(),
                ActionId::RestartLambda,
                ResourceKind::Lambda,
                target_of(&lambda(), "us-east-1".into()),
                Change::default(),
                ActionState::Function(FunctionState::default()),
                Value::Null,
            )
        };
        assert!(
            approve(
                (Policy::Never, "n".into()),
                Confirmation::GivenUpFront,
                parts()
            )
            .is_none()
        );
        assert!(
            approve(
                (Policy::Confirm, "c".into()),
                Confirmation::NotNeeded,
                parts()
            )
            .is_none()
        );
        assert!(
            approve(
                (Policy::Confirm, "c".into()),
                Confirmation::AtThePrompt,
                parts()
            )
            .is_some()
        );
        assert!(approve((Policy::Auto, "a".into()), Confirmation::NotNeeded, parts()).is_some());
    }
}
