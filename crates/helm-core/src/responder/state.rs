//! What an action reads before and after it runs, typed per action: the plan's `current`,
//! the history's `before` and `after`, the part that must not change between the plan and
//! the apply, and the evidence that proves a change took effect. Serialised as the history
//! and the plan have always shown it (the same field names, no tag).

use super::catalogue::ActionId;
use crate::ports::Change;
use crate::resource::ResourceKind;
use serde::Serialize;
use serde_json::{Value, json};

/// A function, as restart_lambda reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FunctionState {
    pub state: Option<String>,
    pub last_update_status: Option<String>,
    pub revision_id: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    /// Names only: values can be secrets.
    pub environment_variable_names: Vec<String>,
    pub restart_marker: Option<String>,
}

/// An ECS service, as the scaling and restart actions read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceState {
    pub desired_count: i32,
    pub running_count: i32,
    pub primary_deployment: Option<String>,
    pub deployments: usize,
    pub task_definition: Option<String>,
}

/// An EC2 Auto Scaling group, as the scaling actions read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupState {
    pub desired_capacity: i32,
    pub min_size: i32,
    pub max_size: i32,
    /// Instances InService and Healthy.
    pub in_service: i32,
}

/// A Kinesis stream, as the scaling actions read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StreamState {
    pub open_shards: i32,
    /// `PROVISIONED` or `ON_DEMAND` (an on-demand stream is not resharded by hand).
    pub stream_mode: String,
    pub stream_status: String,
}

/// The state an action reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ActionState {
    /// restart_lambda.
    Function(FunctionState),
    /// scale_resources / increase_capacity on a function.
    Concurrency { reserved_concurrency: Option<i32> },
    /// scale_resources / increase_capacity / restart_ecs_service on a service.
    Service(ServiceState),
    /// scale_resources / increase_capacity on an Auto Scaling group.
    Group(GroupState),
    /// scale_resources / increase_capacity on a Kinesis stream.
    Stream(StreamState),
    /// modify_autoscaling: the service's scalable target (None: not registered).
    Scaling { min: Option<i32>, max: Option<i32> },
    /// invalidate_cloudfront, before.
    Distribution {
        status: Option<String>,
        enabled: Option<bool>,
    },
    /// invalidate_cloudfront, after: the invalidation it made.
    Invalidation {
        invalidation_id: String,
        status: String,
        paths: Vec<String>,
    },
    /// reboot_rds.
    DbInstance { status: Option<String> },
}

/// What AWS answered to a change that verification needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Receipt {
    /// invalidate_cloudfront: the invalidation's id.
    pub invalidation_id: Option<String>,
    /// What the record should say about how the change was applied (an answer lost and
    /// the change found applied on a re-read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether a change took effect: the verdict and what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ok: bool,
    pub detail: String,
}

impl Verdict {
    fn new(ok: bool, detail: impl Into<String>) -> Verdict {
        Verdict {
            ok,
            detail: detail.into(),
        }
    }
}

fn or_unset<T: std::fmt::Display>(v: Option<T>, none: &str) -> String {
    v.map_or(none.to_string(), |v| v.to_string())
}

impl ActionState {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("states serialise")
    }

    /// The part that must not change between the plan and the apply (counts that move on
    /// their own, like running tasks or a distribution's deployment status, are left out).
    pub fn guarded(&self) -> Value {
        match self {
            ActionState::Function(f) => json!({
                "revision_id": f.revision_id, "environment_variable_names": f.environment_variable_names,
                "restart_marker": f.restart_marker, "memory_mb": f.memory_mb, "timeout_s": f.timeout_s,
            }),
            ActionState::Concurrency {
                reserved_concurrency,
            } => json!({"reserved_concurrency": reserved_concurrency}),
            ActionState::Service(s) => json!({
                "desired_count": s.desired_count, "primary_deployment": s.primary_deployment,
                "task_definition": s.task_definition,
            }),
            ActionState::Group(g) => json!({
                "desired_capacity": g.desired_capacity, "min_size": g.min_size, "max_size": g.max_size,
            }),
            ActionState::Stream(s) => json!({
                "open_shards": s.open_shards, "stream_mode": s.stream_mode,
            }),
            ActionState::Scaling { min, max } => json!({"min": min, "max": max}),
            ActionState::Distribution { enabled, .. } => json!({"enabled": enabled}),
            ActionState::Invalidation {
                invalidation_id, ..
            } => json!({"invalidation_id": invalidation_id}),
            ActionState::DbInstance { status } => json!({"status": status}),
        }
    }

    /// The function's revision, which guards restart_lambda's update.
    pub fn revision_id(&self) -> Option<&str> {
        match self {
            ActionState::Function(f) => f.revision_id.as_deref(),
            _ => None,
        }
    }

    /// The number a scaling action changes: reserved concurrency or desired count.
    pub fn scaled_value(&self) -> Option<i64> {
        match self {
            ActionState::Concurrency {
                reserved_concurrency,
            } => reserved_concurrency.map(i64::from),
            ActionState::Service(s) => Some(i64::from(s.desired_count)),
            ActionState::Group(g) => Some(i64::from(g.desired_capacity)),
            ActionState::Stream(s) => Some(i64::from(s.open_shards)),
            _ => None,
        }
    }

    /// The range the resource itself puts on a scaling action's new value, once read: a
    /// group's MinSize..MaxSize, a stream's half to double its open shards (what the value
    /// is, min, max, and where the bound comes from).
    pub fn scale_bounds(&self) -> Option<(&'static str, i64, i64, &'static str)> {
        match self {
            ActionState::Group(g) => Some((
                "desired capacity",
                i64::from(g.min_size),
                i64::from(g.max_size),
                "the group's MinSize and MaxSize (change them in its template first)",
            )),
            ActionState::Stream(s) => {
                let (lo, hi) = super::limits::reshard_bounds(i64::from(s.open_shards));
                Some((
                    "open shards",
                    lo,
                    hi,
                    "UpdateShardCount moves a stream by half to double its open shards a call",
                ))
            }
            _ => None,
        }
    }

    /// What the plan says of the state, in the words of the change.
    pub fn describe_change(&self, id: ActionId, name: &str, change: &Change) -> String {
        use ActionState as S;
        match (id, self) {
            (ActionId::RestartLambda, S::Function(f)) => format!(
                "set {}={} on {name}, keeping its {} other variables",
                super::remediation::RESTART_MARKER,
                change.marker.as_deref().unwrap_or(""),
                f.environment_variable_names.len()
            ),
            (
                ActionId::ScaleResources | ActionId::IncreaseCapacity,
                S::Concurrency {
                    reserved_concurrency,
                },
            ) => {
                format!(
                    "reserved concurrency {} → {}",
                    or_unset(*reserved_concurrency, "unset"),
                    change.value.unwrap_or_default()
                )
            }
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, S::Service(s)) => format!(
                "desired count {} → {}",
                s.desired_count,
                change.value.unwrap_or_default()
            ),
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, S::Group(g)) => format!(
                "desired capacity {} → {} (group size {}..{}, {} in service)",
                g.desired_capacity,
                change.value.unwrap_or_default(),
                g.min_size,
                g.max_size,
                g.in_service
            ),
            (ActionId::ScaleResources | ActionId::IncreaseCapacity, S::Stream(s)) => format!(
                "open shards {} → {} (uniform scaling; the stream is {})",
                s.open_shards,
                change.value.unwrap_or_default(),
                s.stream_status
            ),
            (ActionId::RestartEcsService, S::Service(s)) => format!(
                "force a new deployment of {name} (now {})",
                or_unset(s.primary_deployment.as_deref(), "no primary deployment")
            ),
            (ActionId::ModifyAutoscaling, S::Scaling { min, max }) => format!(
                "scalable target min {} → {}, max {} → {}",
                or_unset(*min, "unset"),
                change.min.unwrap_or_default(),
                or_unset(*max, "unset"),
                change.max.unwrap_or_default()
            ),
            (ActionId::InvalidateCloudfront, _) => format!(
                "invalidate {} on distribution {name}",
                change.paths.join(", ")
            ),
            (ActionId::RebootRds, S::DbInstance { status }) => format!(
                "reboot {name} (now {})",
                or_unset(status.as_deref(), "status not reported")
            ),
            (id, other) => format!("{id} on {name} (state read: {})", other.to_json()),
        }
    }
}

/// Whether `action` took effect on `kind`, from the state read `before` and `after` it
/// and the change asked for. A state AWS did not report is never evidence. reboot_rds is
/// proven here only by a `rebooting` status (the adapter looks for the instance's restart
/// event otherwise); invalidate_cloudfront by its invalidation's own status.
pub fn verdict(
    action: ActionId,
    kind: ResourceKind,
    before: &ActionState,
    after: &ActionState,
    change: &Change,
) -> Verdict {
    use ActionState as S;
    match (action, after) {
        (ActionId::RestartLambda, S::Function(f)) => {
            let present = change.marker.is_some() && f.restart_marker == change.marker;
            let status = f.last_update_status.as_deref();
            let state = f.state.as_deref();
            Verdict::new(
                present && status == Some("Successful") && state == Some("Active"),
                format!(
                    "update {}, state {}, marker {}",
                    status.unwrap_or("not reported"),
                    state.unwrap_or("not reported"),
                    if present { "present" } else { "missing" }
                ),
            )
        }
        (
            ActionId::ScaleResources | ActionId::IncreaseCapacity,
            S::Concurrency {
                reserved_concurrency: now,
            },
        ) => Verdict::new(
            now.is_some() && *now == change.value,
            format!("reserved concurrency {}", or_unset(*now, "unset")),
        ),
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, S::Service(s)) => Verdict::new(
            change.value == Some(s.desired_count),
            format!("desired count {}", s.desired_count),
        ),
        // The desired capacity is what the action sets; instances follow on their own time
        // (launch, health checks) and health judges them.
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, S::Group(g)) => Verdict::new(
            change.value == Some(g.desired_capacity),
            format!(
                "desired capacity {}, {} in service",
                g.desired_capacity, g.in_service
            ),
        ),
        // A reshard is done when the stream is ACTIVE again with the shards asked for.
        (ActionId::ScaleResources | ActionId::IncreaseCapacity, S::Stream(s)) => Verdict::new(
            change.value == Some(s.open_shards) && s.stream_status == "ACTIVE",
            format!("{} open shards, {}", s.open_shards, s.stream_status),
        ),
        (ActionId::RestartEcsService, S::Service(s)) => {
            let (was_primary, was_count) = match before {
                S::Service(b) => (b.primary_deployment.clone(), b.deployments),
                _ => (None, usize::MAX),
            };
            let changed = s.primary_deployment != was_primary || s.deployments > was_count;
            Verdict::new(
                changed,
                if changed {
                    format!(
                        "new primary deployment {}",
                        or_unset(s.primary_deployment.as_deref(), "not reported")
                    )
                } else {
                    "no new deployment yet".into()
                },
            )
        }
        (ActionId::ModifyAutoscaling, S::Scaling { min, max }) => Verdict::new(
            min.is_some() && *min == change.min && *max == change.max,
            format!(
                "scalable target min {} max {}",
                or_unset(*min, "unset"),
                or_unset(*max, "unset")
            ),
        ),
        (ActionId::RebootRds, S::DbInstance { status }) => {
            let s = status.as_deref().unwrap_or("not reported");
            // `available` alone proves nothing (the instance was available before).
            Verdict::new(
                s == "rebooting",
                if s == "rebooting" {
                    "instance rebooting".to_string()
                } else {
                    format!(
                        "instance {s}; no reboot seen yet (no rebooting status, no restart event)"
                    )
                },
            )
        }
        (
            ActionId::InvalidateCloudfront,
            S::Invalidation {
                invalidation_id,
                status,
                ..
            },
        ) => {
            // AWS says InProgress or Completed; compare without case (moto says COMPLETED).
            Verdict::new(
                status.eq_ignore_ascii_case("InProgress")
                    || status.eq_ignore_ascii_case("Completed"),
                format!("invalidation {invalidation_id} is {status}"),
            )
        }
        (action, other) => Verdict::new(
            false,
            format!(
                "{action} on a {kind}: the state read after it ({}) cannot prove it",
                other.to_json()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(marker: Option<&str>, status: Option<&str>, state: Option<&str>) -> ActionState {
        ActionState::Function(FunctionState {
            restart_marker: marker.map(str::to_string),
            last_update_status: status.map(str::to_string),
            state: state.map(str::to_string),
            ..Default::default()
        })
    }

    #[test]
    fn a_reshard_is_done_only_when_the_stream_is_active_with_the_shards_asked_for() {
        let s = |open: i32, status: &str| {
            ActionState::Stream(StreamState {
                open_shards: open,
                stream_mode: "PROVISIONED".into(),
                stream_status: status.into(),
            })
        };
        let change = Change {
            value: Some(4),
            ..Default::default()
        };
        let v = |after: &ActionState| {
            verdict(
                ActionId::IncreaseCapacity,
                ResourceKind::Kinesis,
                &s(2, "ACTIVE"),
                after,
                &change,
            )
        };
        assert!(v(&s(4, "ACTIVE")).ok);
        assert!(!v(&s(4, "UPDATING")).ok, "still resharding");
        assert!(!v(&s(2, "ACTIVE")).ok);
        assert_eq!(s(2, "ACTIVE").scaled_value(), Some(2));
        assert_eq!(
            s(3, "ACTIVE").scale_bounds().map(|b| (b.1, b.2)),
            Some((2, 6))
        );
    }

    #[test]
    fn a_group_is_scaled_when_its_desired_capacity_reads_back() {
        let g = |desired: i32| {
            ActionState::Group(GroupState {
                desired_capacity: desired,
                min_size: 1,
                max_size: 4,
                in_service: 2,
            })
        };
        let change = Change {
            value: Some(3),
            ..Default::default()
        };
        let v = |after: &ActionState| {
            verdict(
                ActionId::ScaleResources,
                ResourceKind::Asg,
                &g(2),
                after,
                &change,
            )
        };
        assert!(v(&g(3)).ok);
        assert!(!v(&g(2)).ok);
        assert_eq!(g(2).scaled_value(), Some(2));
        assert_eq!(g(2).scale_bounds().map(|b| (b.1, b.2)), Some((1, 4)));
        assert_eq!(
            g(2).describe_change(ActionId::ScaleResources, "w", &change),
            "desired capacity 2 → 3 (group size 1..4, 2 in service)"
        );
        // In service is not guarded: instances come and go on their own.
        assert_eq!(
            g(2).guarded(),
            json!({"desired_capacity": 2, "min_size": 1, "max_size": 4})
        );
    }

    #[test]
    fn a_lambda_whose_state_fields_are_missing_is_not_verified() {
        let m = Some("2026-01-01T00:00:00Z");
        let change = Change {
            marker: m.map(str::to_string),
            ..Default::default()
        };
        let before = function(None, Some("Successful"), Some("Active"));
        let v = |after: &ActionState, change: &Change| {
            verdict(
                ActionId::RestartLambda,
                ResourceKind::Lambda,
                &before,
                after,
                change,
            )
        };
        let full = function(m, Some("Successful"), Some("Active"));
        assert!(v(&full, &change).ok);
        let no_state = function(m, Some("Successful"), None);
        let got = v(&no_state, &change);
        assert!(!got.ok);
        assert!(got.detail.contains("state not reported"), "{}", got.detail);
        assert!(!v(&function(m, None, None), &change).ok);
        assert!(
            !v(&full, &Change::default()).ok,
            "no marker asked, none proven"
        );
        assert!(!v(&function(m, Some("InProgress"), Some("Active")), &change).ok);
    }

    #[test]
    fn a_scale_is_proven_by_the_new_number_and_a_restart_by_a_new_deployment() {
        let change = Change {
            value: Some(4),
            ..Default::default()
        };
        let svc = |desired, primary: &str, deployments| {
            ActionState::Service(ServiceState {
                desired_count: desired,
                primary_deployment: Some(primary.into()),
                deployments,
                ..Default::default()
            })
        };
        let before = svc(2, "d1", 1);
        let k = ResourceKind::Ecs;
        assert!(
            verdict(
                ActionId::ScaleResources,
                k,
                &before,
                &svc(4, "d1", 1),
                &change
            )
            .ok
        );
        assert!(
            !verdict(
                ActionId::ScaleResources,
                k,
                &before,
                &svc(2, "d1", 1),
                &change
            )
            .ok
        );
        assert!(
            verdict(
                ActionId::RestartEcsService,
                k,
                &before,
                &svc(2, "d2", 2),
                &change
            )
            .ok
        );
        assert!(
            !verdict(
                ActionId::RestartEcsService,
                k,
                &before,
                &svc(2, "d1", 1),
                &change
            )
            .ok
        );
        // A state of another shape never proves anything.
        let odd = ActionState::DbInstance { status: None };
        assert!(!verdict(ActionId::ScaleResources, k, &before, &odd, &change).ok);
        let none = ActionState::Concurrency {
            reserved_concurrency: None,
        };
        assert!(
            !verdict(
                ActionId::ScaleResources,
                ResourceKind::Lambda,
                &none,
                &none,
                &change
            )
            .ok
        );
    }

    #[test]
    fn states_serialise_as_the_history_has_always_shown_them() {
        let s = ActionState::Service(ServiceState {
            desired_count: 2,
            running_count: 1,
            primary_deployment: Some("d1".into()),
            deployments: 1,
            task_definition: Some("td:1".into()),
        });
        assert_eq!(
            s.to_json().to_string(),
            r#"{"desired_count":2,"running_count":1,"primary_deployment":"d1","deployments":1,"task_definition":"td:1"}"#
        );
        // Running tasks move on their own: not guarded.
        assert!(s.guarded().get("running_count").is_none());
        let reboot = ActionState::DbInstance {
            status: Some("available".into()),
        };
        assert_eq!(reboot.to_json(), json!({"status": "available"}));
    }
}
