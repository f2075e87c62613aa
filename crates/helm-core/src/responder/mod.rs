//! The responder (the plugin's `ops-responder`): the action catalogue, the safety policy,
//! descriptions, and the remediation history. What an action does to AWS lives in the
//! adapter; everything that decides whether it may run lives here.

pub mod catalogue;
pub mod describe;
pub mod history;
pub mod limits;
pub mod policy;
pub mod remediation;
pub mod resolve;
pub mod state;

use crate::resource::ResourceKind;

/// The action that fits a failed health check of a resource (`remediate --issue`), from
/// the kind table (`crate::kinds`).
pub fn action_for_check(kind: ResourceKind, check: &str) -> Option<&'static str> {
    crate::kinds::info(kind).fix(check).map(|a| a.name())
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
