//! The responder (the plugin's `ops-responder`): the action catalogue, the safety policy,
//! descriptions, and the remediation history. What an action does to AWS lives in the
//! adapter; everything that decides whether it may run lives here.

pub mod catalogue;
pub mod describe;
pub mod history;
pub mod limits;
pub mod policy;
pub mod remediation;

use crate::resource::ResourceKind;

/// The action that fits a failed health check of a resource (`remediate --issue`).
pub fn action_for_check(kind: ResourceKind, check: &str) -> Option<&'static str> {
    match (kind, check) {
        (ResourceKind::Lambda, "error_rate" | "availability" | "p95_latency" | "status") => {
            Some("restart_lambda")
        }
        (ResourceKind::Lambda, c) if c.starts_with("alarm:") => Some("restart_lambda"),
        (ResourceKind::Ecs, "tasks" | "status" | "error_rate" | "availability") => {
            Some("restart_ecs_service")
        }
        (ResourceKind::Ecs, c) if c.starts_with("alarm:") => Some("restart_ecs_service"),
        (ResourceKind::Ecs | ResourceKind::Lambda, "cpu" | "memory") => Some("increase_capacity"),
        (ResourceKind::CloudFront, "error_rate" | "availability") => Some("invalidate_cloudfront"),
        (ResourceKind::Rds, "status" | "cpu" | "memory") => Some("reboot_rds"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_suggest_their_action() {
        assert_eq!(
            action_for_check(ResourceKind::Lambda, "error_rate"),
            Some("restart_lambda")
        );
        assert_eq!(
            action_for_check(ResourceKind::Ecs, "tasks"),
            Some("restart_ecs_service")
        );
        assert_eq!(
            action_for_check(ResourceKind::Ecs, "cpu"),
            Some("increase_capacity")
        );
        assert_eq!(action_for_check(ResourceKind::S3, "drift"), None);
        for name in [
            action_for_check(ResourceKind::Lambda, "alarm:x"),
            action_for_check(ResourceKind::Rds, "status"),
        ]
        .into_iter()
        .flatten()
        {
            assert!(catalogue::find(name).is_some());
        }
    }
}
