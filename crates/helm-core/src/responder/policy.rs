//! The safety policy (`[remediation]` and `environments.json`): never_auto is refused even
//! with --yes; auto_remediate runs without a prompt only where the environment does not
//! require confirmation; everything else, and everything in such an environment, asks.

use super::catalogue::Action;
use crate::config::Monitoring;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Auto,
    Confirm,
    Never,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Auto => "auto",
            Policy::Confirm => "confirm",
            Policy::Never => "never",
        }
    }
}

/// The lists of `[remediation]` that name `action` (by its name or an alias).
fn listed_in(config: &Monitoring, action: &Action) -> Vec<Policy> {
    let names: Vec<&str> = std::iter::once(action.name)
        .chain(action.aliases.iter().copied())
        .collect();
    let mut out = Vec::new();
    for (key, level) in [
        ("remediation.auto_remediate", Policy::Auto),
        ("remediation.require_confirmation", Policy::Confirm),
        ("remediation.never_auto", Policy::Never),
    ] {
        if config
            .str_list(key)
            .iter()
            .any(|n| names.contains(&n.as_str()))
        {
            out.push(level);
        }
    }
    out
}

/// The policy for `action` in an environment, and why.
pub fn decide(
    config: &Monitoring,
    action: &Action,
    env_requires_confirmation: bool,
) -> (Policy, String) {
    if action.never {
        return (
            Policy::Never,
            format!("{} is never performed by helm-cloud", action.name),
        );
    }
    let listed = listed_in(config, action);
    // Listed twice: the stricter level wins.
    let level = listed.iter().copied().max();
    match level {
        Some(Policy::Never) => (
            Policy::Never,
            format!("{} is in [remediation] never_auto", action.name),
        ),
        Some(Policy::Auto) if !env_requires_confirmation => (
            Policy::Auto,
            format!("{} is in [remediation] auto_remediate", action.name),
        ),
        Some(Policy::Auto) => (
            Policy::Confirm,
            "this environment requires confirmation for every change".into(),
        ),
        Some(Policy::Confirm) => (
            Policy::Confirm,
            format!("{} is in [remediation] require_confirmation", action.name),
        ),
        None => (
            Policy::Confirm,
            format!("{} is in no [remediation] list, so it asks", action.name),
        ),
    }
}

/// Actions listed at more than one level (config validate warns; the stricter wins).
pub fn listed_twice(config: &Monitoring) -> Vec<String> {
    super::catalogue::CATALOGUE
        .iter()
        .filter(|a| listed_in(config, a).len() > 1)
        .map(|a| {
            format!(
                "{} is listed in more than one [remediation] list; the stricter ({}) applies",
                a.name,
                listed_in(config, a).iter().max().unwrap().as_str()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responder::catalogue::find;
    use std::path::Path;

    fn config(extra: &str) -> Monitoring {
        Monitoring::parse(Path::new("m.toml"), extra).unwrap()
    }

    #[test]
    fn the_policy_matrix() {
        let c = Monitoring::defaults();
        assert_eq!(
            decide(&c, find("restart_lambda").unwrap(), false).0,
            Policy::Auto
        );
        assert_eq!(
            decide(&c, find("restart_lambda").unwrap(), true).0,
            Policy::Confirm
        );
        assert_eq!(
            decide(&c, find("clear_cache").unwrap(), false).0,
            Policy::Auto,
            "an alias counts"
        );
        assert_eq!(
            decide(&c, find("scale_resources").unwrap(), false).0,
            Policy::Confirm
        );
        assert_eq!(
            decide(&c, find("reboot_rds").unwrap(), false).0,
            Policy::Confirm,
            "unlisted asks"
        );
        assert_eq!(
            decide(&c, find("delete_resources").unwrap(), false).0,
            Policy::Never
        );
    }

    #[test]
    fn listed_twice_takes_the_stricter_and_is_reported() {
        let c = config(
            "[remediation]\nauto_remediate = [\"reboot_rds\"]\nnever_auto = [\"reboot_rds\"]\n",
        );
        assert_eq!(
            decide(&c, find("reboot_rds").unwrap(), false).0,
            Policy::Never
        );
        assert_eq!(listed_twice(&c).len(), 1);
        assert!(listed_twice(&Monitoring::defaults()).is_empty());
    }
}
