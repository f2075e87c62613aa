//! The action catalogue: every remediation helm-cloud knows, declared as data (after Cloud
//! Custodian's actions): the kinds it applies to, its parameters, its risk, whether and
//! how it can be undone, the IAM permissions it needs, and what it does to traffic. A test
//! walks the catalogue and fails if a declaration is missing.

use crate::resource::ResourceKind;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// A parameter an action takes.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub help: &'static str,
}

/// The actions helm-cloud can perform. Matched exhaustively by the adapter (read, apply,
/// verify) and by the plan: adding one without implementing them does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionId {
    RestartLambda,
    ScaleResources,
    IncreaseCapacity,
    RestartEcsService,
    InvalidateCloudfront,
    ModifyAutoscaling,
    RebootRds,
}

impl ActionId {
    pub const ALL: [ActionId; 7] = [
        ActionId::RestartLambda,
        ActionId::ScaleResources,
        ActionId::IncreaseCapacity,
        ActionId::RestartEcsService,
        ActionId::InvalidateCloudfront,
        ActionId::ModifyAutoscaling,
        ActionId::RebootRds,
    ];

    /// The plugin's name, as users type it.
    pub fn name(self) -> &'static str {
        match self {
            ActionId::RestartLambda => "restart_lambda",
            ActionId::ScaleResources => "scale_resources",
            ActionId::IncreaseCapacity => "increase_capacity",
            ActionId::RestartEcsService => "restart_ecs_service",
            ActionId::InvalidateCloudfront => "invalidate_cloudfront",
            ActionId::ModifyAutoscaling => "modify_autoscaling",
            ActionId::RebootRds => "reboot_rds",
        }
    }

    pub fn from_name(name: &str) -> Option<ActionId> {
        ActionId::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One action of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Action {
    /// What it is, for the code that performs it (None: never performed).
    #[serde(skip)]
    pub id: Option<ActionId>,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kinds: &'static [ResourceKind],
    pub params: &'static [Param],
    pub risk: Risk,
    pub reversible: bool,
    /// How to undo it (or why it cannot be undone).
    pub undo: &'static str,
    pub permissions: &'static [&'static str],
    /// What happens to traffic while it runs.
    pub impact: &'static str,
    /// Refused always: known so it can be named, never implemented as a mutation.
    pub never: bool,
    /// The four steps, as they run for this action.
    pub plan: &'static str,
    pub apply: &'static str,
    pub verify: &'static str,
    pub record: &'static str,
}

const RECORD: &str = "a `started` line before the first mutating call, then `applied` or `failed` with before, after and verification";

pub const CATALOGUE: &[Action] = &[
    Action {
        id: Some(ActionId::RestartLambda),
        name: "restart_lambda",
        aliases: &["restart_function"],
        kinds: &[ResourceKind::Lambda],
        params: &[],
        risk: Risk::Low,
        reversible: true,
        undo: "nothing to undo: the marker variable HELM_RESTARTED_AT can stay or be removed with another configuration update",
        permissions: &[
            "lambda:GetFunctionConfiguration",
            "lambda:UpdateFunctionConfiguration",
        ],
        impact: "in-flight invocations finish; the next ones cold-start in new execution environments",
        never: false,
        plan: "read the configuration (environment variables, revision id)",
        apply: "UpdateFunctionConfiguration with every existing variable plus HELM_RESTARTED_AT, guarded by the revision id",
        verify: "LastUpdateStatus Successful, State Active, the marker present (bounded wait)",
        record: RECORD,
    },
    Action {
        id: Some(ActionId::ScaleResources),
        name: "scale_resources",
        aliases: &["scale"],
        kinds: &[
            ResourceKind::Ecs,
            ResourceKind::Lambda,
            ResourceKind::Asg,
            ResourceKind::Kinesis,
        ],
        params: &[Param {
            name: "value",
            required: true,
            help: "ECS: desired task count; Lambda: reserved concurrency; Auto Scaling group: desired capacity (within its MinSize..MaxSize); Kinesis stream: open shards (half to double the current count)",
        }],
        risk: Risk::Medium,
        reversible: true,
        undo: "scale back to the previous value recorded in the history (`before`)",
        permissions: &[
            "ecs:DescribeServices",
            "ecs:UpdateService",
            "lambda:GetFunctionConcurrency",
            "lambda:PutFunctionConcurrency",
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:SetDesiredCapacity",
            "kinesis:DescribeStreamSummary",
            "kinesis:UpdateShardCount",
        ],
        impact: "ECS starts or stops tasks gradually; Lambda caps (or frees) concurrent executions at once, throttling beyond it; an Auto Scaling group launches or terminates instances (its termination policy picks which); a Kinesis stream reshards (UPDATING for seconds to minutes, reads and writes continue; consumers see parent and child shards)",
        never: false,
        plan: "read the current desired count, reserved concurrency or desired capacity (and the group's min and max)",
        apply: "UpdateService desiredCount / PutFunctionConcurrency / SetDesiredCapacity (HonorCooldown) / UpdateShardCount (UNIFORM_SCALING)",
        verify: "the desired count, reserved concurrency, desired capacity or open shard count reads back as set",
        record: RECORD,
    },
    Action {
        id: Some(ActionId::IncreaseCapacity),
        name: "increase_capacity",
        aliases: &[],
        kinds: &[
            ResourceKind::Ecs,
            ResourceKind::Lambda,
            ResourceKind::Asg,
            ResourceKind::Kinesis,
        ],
        params: &[],
        risk: Risk::Medium,
        reversible: true,
        undo: "scale back to the previous value recorded in the history (`before`)",
        permissions: &[
            "ecs:DescribeServices",
            "ecs:UpdateService",
            "lambda:GetFunctionConcurrency",
            "lambda:PutFunctionConcurrency",
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:SetDesiredCapacity",
            "kinesis:DescribeStreamSummary",
            "kinesis:UpdateShardCount",
        ],
        impact: "ECS desired count × 1.5 (at least +1) starts tasks gradually; Lambda reserved concurrency × 1.5; an Auto Scaling group's desired capacity × 1.5 (refused above its MaxSize); a Kinesis stream's open shards × 1.5 (a reshard)",
        never: false,
        plan: "read the current desired count, reserved concurrency or desired capacity and compute × 1.5",
        apply: "UpdateService desiredCount / PutFunctionConcurrency / SetDesiredCapacity (HonorCooldown) / UpdateShardCount (UNIFORM_SCALING)",
        verify: "the new value reads back",
        record: RECORD,
    },
    Action {
        id: Some(ActionId::RestartEcsService),
        name: "restart_ecs_service",
        aliases: &["restart_service"],
        kinds: &[ResourceKind::Ecs],
        params: &[],
        risk: Risk::Medium,
        reversible: false,
        undo: "cannot be undone: tasks are replaced by new ones of the same task definition (a rolling deployment)",
        permissions: &["ecs:DescribeServices", "ecs:UpdateService"],
        impact: "a rolling deployment replaces every task; capacity follows the service's deployment configuration",
        never: false,
        plan: "read the current primary deployment",
        apply: "UpdateService forceNewDeployment",
        verify: "a new primary deployment exists (bounded wait; the rollout itself is not awaited)",
        record: RECORD,
    },
    Action {
        id: Some(ActionId::InvalidateCloudfront),
        name: "invalidate_cloudfront",
        aliases: &["clear_cache"],
        kinds: &[ResourceKind::CloudFront],
        params: &[Param {
            name: "paths",
            required: false,
            help: "paths to invalidate, comma-separated (default /*)",
        }],
        risk: Risk::Low,
        reversible: false,
        undo: "cannot be undone: the cache refills from the origin",
        permissions: &[
            "cloudfront:GetDistribution",
            "cloudfront:CreateInvalidation",
            "cloudfront:GetInvalidation",
        ],
        impact: "the next requests for these paths go to the origin (more origin load for a while)",
        never: false,
        plan: "read the distribution",
        apply: "CreateInvalidation of the paths",
        verify: "the invalidation exists and is InProgress or Completed",
        record: RECORD,
    },
    Action {
        id: Some(ActionId::ModifyAutoscaling),
        name: "modify_autoscaling",
        aliases: &[],
        kinds: &[ResourceKind::Ecs],
        params: &[
            Param {
                name: "min",
                required: true,
                help: "minimum task count",
            },
            Param {
                name: "max",
                required: true,
                help: "maximum task count",
            },
        ],
        risk: Risk::Medium,
        reversible: true,
        undo: "register the previous minimum and maximum recorded in the history (`before`)",
        permissions: &[
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:RegisterScalableTarget",
        ],
        impact: "Application Auto Scaling keeps the service's desired count between the new bounds",
        never: false,
        plan: "read the current scalable target",
        apply: "RegisterScalableTarget ecs:service:DesiredCount",
        verify: "the scalable target reads back with the new bounds",
        record: RECORD,
    },
    Action {
        id: Some(ActionId::RebootRds),
        name: "reboot_rds",
        aliases: &["reboot_database"],
        kinds: &[ResourceKind::Rds],
        params: &[],
        risk: Risk::High,
        reversible: false,
        undo: "cannot be undone: connections drop during the reboot",
        permissions: &["rds:DescribeDBInstances", "rds:RebootDBInstance"],
        impact: "the database is unavailable for the reboot (usually under a few minutes; Multi-AZ fails over)",
        never: false,
        plan: "read the instance status",
        apply: "RebootDBInstance",
        verify: "the instance is rebooting or available again",
        record: RECORD,
    },
    never("delete_resources"),
    never("modify_security_groups"),
    never("change_iam_policies"),
    never("terminate_instances"),
];

const fn never(name: &'static str) -> Action {
    Action {
        id: None,
        name,
        aliases: &[],
        kinds: &[],
        params: &[],
        risk: Risk::High,
        reversible: false,
        undo: "not applicable: never performed by helm-cloud",
        permissions: &[],
        impact: "destructive or security-sensitive: a person makes this change through faber-cloud or the console",
        never: true,
        plan: "none",
        apply: "none",
        verify: "none",
        record: "a `refused` line",
    }
}

/// The action a name or alias means.
pub fn find(name: &str) -> Option<&'static Action> {
    let n = name.trim().to_ascii_lowercase().replace('-', "_");
    CATALOGUE
        .iter()
        .find(|a| a.name == n || a.aliases.contains(&n.as_str()))
}

/// The names of the actions that can run.
pub fn runnable() -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .filter(|a| !a.never)
        .map(|a| a.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_id_has_its_catalogue_entry() {
        for id in ActionId::ALL {
            let a = find(id.name()).unwrap();
            assert_eq!(a.id, Some(id));
            assert_eq!(ActionId::from_name(id.name()), Some(id));
        }
    }

    #[test]
    fn every_action_declares_everything() {
        let mut names = std::collections::HashSet::new();
        for a in CATALOGUE {
            assert!(names.insert(a.name), "{} twice", a.name);
            for alias in a.aliases {
                assert!(names.insert(alias), "{alias} twice");
            }
            assert!(!a.undo.is_empty() && !a.impact.is_empty(), "{}", a.name);
            assert!(
                !a.plan.is_empty()
                    && !a.apply.is_empty()
                    && !a.verify.is_empty()
                    && !a.record.is_empty(),
                "{}",
                a.name
            );
            // A runnable action is an ActionId of the same name; a never one is none.
            assert_eq!(a.id.is_none(), a.never, "{}", a.name);
            if let Some(id) = a.id {
                assert_eq!(id.name(), a.name);
            }
            if a.never {
                assert!(a.kinds.is_empty(), "{} is never run", a.name);
            } else {
                assert!(!a.kinds.is_empty(), "{} has no target kind", a.name);
                assert!(
                    !a.permissions.is_empty(),
                    "{} declares no IAM permission",
                    a.name
                );
                assert!(a.permissions.iter().all(|p| p.contains(':')), "{}", a.name);
                assert!(
                    a.reversible || a.undo.starts_with("cannot") || a.undo.starts_with("nothing"),
                    "{}",
                    a.name
                );
            }
        }
        for n in [
            "delete_resources",
            "modify_security_groups",
            "change_iam_policies",
            "terminate_instances",
        ] {
            assert!(find(n).unwrap().never, "{n}");
        }
    }

    #[test]
    fn aliases_find_their_action() {
        assert_eq!(find("clear_cache").unwrap().name, "invalidate_cloudfront");
        assert_eq!(find("restart-lambda").unwrap().name, "restart_lambda");
        assert!(find("make_it_work").is_none());
    }
}
